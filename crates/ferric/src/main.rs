//! `ferric`: NameServer and Broker in one process (being built).
fn main() {
    eprintln!("ferric: the one-machine binary is not built yet");
    std::process::exit(2);
}
