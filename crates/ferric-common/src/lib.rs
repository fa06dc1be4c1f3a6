//! ferric-common (being built).
