//! Interop with the crates.io client `rocketmq-client-rust` (built by
//! `scripts/interop-setup.sh` from `interop/rust`): sync, async, oneway, batch and ordered
//! sends, each consumed by its push consumer.

use anyhow::Result;
use ferric_testkit::exchange::{ClientProgram, Exchange};
use ferric_testkit::interop::{repo_root, require_installed};
use ferric_testkit::{ClusterOptions, FerricCluster};

fn client() -> Result<ClientProgram> {
    let program = require_installed(
        &repo_root().join("target/interop/rust-target/debug/ferric-interop-rust"),
        "rocketmq-client-rust",
    )?;
    Ok(ClientProgram {
        name: "rust".to_owned(),
        program,
        leading_args: Vec::new(),
    })
}

#[test]
fn rocketmq_client_rust_every_send_mode() -> Result<()> {
    let client = client()?;
    let cluster = FerricCluster::start_namesrv_and_broker(ClusterOptions::default())?;
    for mode in ["sync", "async", "oneway", "batch"] {
        Exchange::new(mode, 40).run(&cluster, &client)?;
    }
    let mut ordered = Exchange::new("ordered", 40);
    ordered.consumer_args = vec!["--orderly".to_owned(), "true".to_owned()];
    ordered.check_order = true;
    ordered.run(&cluster, &client)?;
    Ok(())
}
