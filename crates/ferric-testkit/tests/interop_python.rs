//! Interop with PyPI `rocketmq` 0.4.4, Apache's C++ client (installed by
//! `scripts/interop-setup.sh` into `target/interop/venv`): sync, oneway and ordered sends, each
//! consumed by its push consumer. Bodies are NUL-free because the client's C API returns
//! received bodies as C strings; its batch send is known to be broken and is not used.

use std::ffi::OsString;

use anyhow::Result;
use ferric_testkit::exchange::{ClientProgram, Exchange};
use ferric_testkit::interop::{BodyBytes, repo_root, require_installed};
use ferric_testkit::{ClusterOptions, FerricCluster};

fn client() -> Result<ClientProgram> {
    let root = repo_root();
    let python = require_installed(
        &root.join("target/interop/venv/bin/python"),
        "rocketmq (PyPI)",
    )?;
    let script = require_installed(&root.join("interop/python/interop.py"), "rocketmq (PyPI)")?;
    Ok(ClientProgram {
        name: "python".to_owned(),
        program: python,
        leading_args: vec![OsString::from(script)],
    })
}

fn exchange(mode: &str) -> Exchange {
    let mut exchange = Exchange::new(mode, 30);
    exchange.bytes = BodyBytes::NulFree;
    exchange.consumer_args = vec!["--property-keys".to_owned(), "idx,run,order".to_owned()];
    exchange
}

#[test]
fn rocketmq_python_sync_oneway_and_ordered() -> Result<()> {
    let client = client()?;
    let cluster = FerricCluster::start_namesrv_and_broker(ClusterOptions::default())?;
    exchange("sync").run(&cluster, &client)?;
    exchange("oneway").run(&cluster, &client)?;
    let mut ordered = exchange("ordered");
    ordered.consumer_args.push("--orderly".to_owned());
    ordered.check_order = true;
    ordered.run(&cluster, &client)?;
    Ok(())
}
