//! Test harness for Ferric: start the real binaries on reserved loopback ports with temp
//! directories, wait until they are ready, stop them cleanly or kill them, start them again.
//!
//! What it does:
//! * [`ports`]: free loopback ports; a broker gets a block where `listenPort - 2` (fast
//!   channel) and `listenPort + 1` (HA) are free too.
//! * [`binaries`]: finds `mqnamesrv`, `mqbroker`, `mqshutdown` and `ferric` next to the test
//!   executable (`target/<profile>/`).
//! * [`process`]: [`Node`] spawns one binary with captured stdout/stderr, waits for its boot
//!   line and for its port to answer a remoting request, stops it with SIGTERM (returning the
//!   exit status) or SIGKILL, and restarts it. Errors quote the captured log tail.
//! * [`cluster`]: [`FerricCluster`], a NameServer plus one Broker with a temp store and a temp
//!   HOME (so `$HOME/logs/rocketmqlogs` stays inside the temp dir); dropping it kills both.
//! * [`admin`]: [`AdminClient`] over `ferric_remoting::RemotingClient`: create a topic and
//!   wait for its route, send (SEND_MESSAGE_V2), pull (PULL_MESSAGE, records decoded with
//!   `ferric_common::record`), query and commit consumer offsets.
//! * [`command`]: short-lived child commands with a bounded wait, killed on timeout or drop.
//! * [`exchange`]: one produce-then-consume round through a third-party client program.
//! * [`interop`]: the messages interop clients send, their JSON-lines files, and the
//!   exactly-once-received check.
//! * [`probe`]: a blocking one-shot remoting call over `std::net` for readiness checks.
//!
//! What it does not do: it never depends on the broker, NameServer or store crates (it drives
//! their binaries), uses only 127.0.0.1, and makes no timing assertions.
#![deny(unsafe_code)]

pub mod admin;
pub mod binaries;
pub mod cluster;
pub mod command;
pub mod exchange;
pub mod interop;
pub mod ports;
pub mod probe;
pub mod process;

pub use admin::{AdminClient, OutgoingMessage, PullOutcome, PulledMessage, SendReceipt};
pub use binaries::binary_path;
pub use cluster::{ClusterOptions, FerricCluster, TestDir};
pub use ports::{reserve_broker_port, reserve_port};
pub use process::{Node, NodeSpec};

/// A multi-threaded tokio runtime for tests that drive the async [`AdminClient`].
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
