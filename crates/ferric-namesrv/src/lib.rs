//! Ferric NameServer: route registry and broker liveness (mqnamesrv) (being built).
