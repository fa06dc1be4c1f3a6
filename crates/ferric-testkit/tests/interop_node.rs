//! Interop with the npm client `ali-ons` (installed by `scripts/interop-setup.sh` into
//! `interop/node/node_modules`): synchronous sends consumed by its push consumer. ali-ons needs
//! the topic to exist first; the harness creates it with UPDATE_AND_CREATE_TOPIC.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, Result};
use ferric_testkit::exchange::{ClientProgram, Exchange};
use ferric_testkit::interop::{repo_root, require_installed};
use ferric_testkit::{ClusterOptions, FerricCluster};

fn node() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").context("PATH is not set")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("node"))
        .find(|candidate| candidate.is_file())
        .context("node is not on PATH: run scripts/interop-setup.sh (it installs nodejs)")
}

fn client() -> Result<ClientProgram> {
    let root = repo_root();
    require_installed(
        &root.join("interop/node/node_modules/ali-ons/package.json"),
        "ali-ons (npm)",
    )?;
    let script = require_installed(&root.join("interop/node/interop.js"), "ali-ons (npm)")?;
    Ok(ClientProgram {
        name: "node".to_owned(),
        program: node()?,
        leading_args: vec![OsString::from(script)],
    })
}

#[test]
fn ali_ons_sync_send_and_push_consume() -> Result<()> {
    let client = client()?;
    let cluster = FerricCluster::start_namesrv_and_broker(ClusterOptions::default())?;
    Exchange::new("sync", 30).run(&cluster, &client)?;
    Ok(())
}
