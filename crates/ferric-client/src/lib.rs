//! Ferric client SDK: producers and push / pull / lite-pull consumers (being built).
