//! ferric-protocol (being built).
