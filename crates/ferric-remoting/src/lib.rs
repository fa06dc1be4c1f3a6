//! ferric-remoting (being built).
