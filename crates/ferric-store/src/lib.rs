//! ferric-store (being built).
