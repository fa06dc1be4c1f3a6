//! Test harness: reserve ports, temp stores, spawn the real binaries, wait until ready (being built).
