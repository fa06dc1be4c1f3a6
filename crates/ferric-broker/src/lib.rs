//! Ferric Broker: send, pull, groups, offsets over ferric-store (mqbroker) (being built).
