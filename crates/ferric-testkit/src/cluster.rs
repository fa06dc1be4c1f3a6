//! [`FerricCluster`]: a real `mqnamesrv` and `mqbroker` on reserved loopback ports.
//!
//! Directory layout under one temp dir (kept when `FERRIC_TESTKIT_KEEP=1`):
//!
//! ```text
//! home/                  HOME of every process (logs land in home/logs/rocketmqlogs/)
//! namesrv/namesrv.conf   listenPort
//! broker/broker.conf     brokerName, brokerClusterName, listenPort, storePathRootDir, brokerIP1, …
//! broker/store/          the broker's store, kept across restarts
//! output/                captured stdout/stderr of every start
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ferric_protocol::body::ClusterInfo;
use ferric_protocol::{RemotingCommand, RequestCode, ResponseCode, fastjson};

use crate::admin::AdminClient;
use crate::binaries::{MQBROKER, MQNAMESRV, binary_path};
use crate::ports::{reserve_broker_port, reserve_port};
use crate::probe::blocking_invoke;
use crate::process::{Node, NodeSpec};

/// Set to `1` to keep the temp directory of every cluster (its path is printed).
pub const KEEP_ENV: &str = "FERRIC_TESTKIT_KEEP";

/// The text every NameServer boot line contains.
pub const NAMESRV_BOOT_MARKER: &str = "The Name Server boot success";
/// The text every broker boot line contains.
pub const BROKER_BOOT_MARKER: &str = "boot success. serializeType=";

/// How to configure the cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// `brokerName`.
    pub broker_name: String,
    /// `brokerClusterName`.
    pub cluster_name: String,
    /// Extra `broker.conf` lines (`key`, `value`), written after the harness's own keys so
    /// they win.
    pub broker_config: Vec<(String, String)>,
    /// How long a start may take to be ready.
    pub ready_timeout: Duration,
    /// How long a SIGTERM stop may take.
    pub stop_timeout: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            broker_name: "broker-a".to_owned(),
            cluster_name: "DefaultCluster".to_owned(),
            broker_config: vec![("autoCreateTopicEnable".to_owned(), "true".to_owned())],
            ready_timeout: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(30),
        }
    }
}

impl ClusterOptions {
    /// Adds (or overrides) one `broker.conf` key.
    pub fn broker_config(mut self, key: &str, value: &str) -> Self {
        self.broker_config.retain(|(existing, _)| existing != key);
        self.broker_config.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// A temp directory that is removed on drop unless [`KEEP_ENV`] is set.
#[derive(Debug)]
pub struct TestDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl TestDir {
    /// A fresh directory named after `prefix`.
    pub fn new(prefix: &str) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ferric-{prefix}-"))
            .tempdir()
            .context("creating a temp dir")?;
        let path = dir.path().to_path_buf();
        if std::env::var_os(KEEP_ENV).is_some_and(|v| v == "1") {
            eprintln!("ferric-testkit: keeping {}", path.display());
            let _kept = dir.keep();
            return Ok(Self { dir: None, path });
        }
        Ok(Self {
            dir: Some(dir),
            path,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the directory will be removed on drop.
    pub fn is_temporary(&self) -> bool {
        self.dir.is_some()
    }
}

/// A NameServer and one Broker, each its own process. Drop kills both.
#[derive(Debug)]
pub struct FerricCluster {
    // Processes first: they are dropped (killed) before the directory is removed.
    namesrv: Node,
    broker: Node,
    namesrv_port: u16,
    broker_port: u16,
    options: ClusterOptions,
    dir: TestDir,
}

impl FerricCluster {
    /// Starts `mqnamesrv`, then `mqbroker`, and waits until the broker is registered.
    pub fn start_namesrv_and_broker(options: ClusterOptions) -> Result<Self> {
        let dir = TestDir::new("cluster")?;
        let root = dir.path().to_path_buf();
        for sub in ["home", "namesrv", "broker/store", "output"] {
            std::fs::create_dir_all(root.join(sub))
                .with_context(|| format!("creating {}", root.join(sub).display()))?;
        }
        let namesrv_port = reserve_port()?;
        let broker_port = reserve_broker_port()?;
        let namesrv_addr = format!("127.0.0.1:{namesrv_port}");

        let namesrv_conf = root.join("namesrv/namesrv.conf");
        std::fs::write(&namesrv_conf, format!("listenPort={namesrv_port}\n"))?;
        let mut namesrv_spec =
            NodeSpec::new("namesrv", binary_path(MQNAMESRV)?, &root.join("output"))
                .args([
                    std::ffi::OsString::from("-c"),
                    namesrv_conf.into_os_string(),
                ])
                .env("HOME", root.join("home"));
        namesrv_spec.cwd = root.join("namesrv");
        namesrv_spec.boot_marker = Some(NAMESRV_BOOT_MARKER.to_owned());
        namesrv_spec.probe_addrs = vec![namesrv_addr.clone()];
        namesrv_spec.ready_timeout = options.ready_timeout;

        let broker_conf = root.join("broker/broker.conf");
        std::fs::write(
            &broker_conf,
            broker_conf_text(&options, broker_port, &root.join("broker/store")),
        )?;
        let mut broker_spec = NodeSpec::new("broker", binary_path(MQBROKER)?, &root.join("output"))
            .args([
                std::ffi::OsString::from("-n"),
                namesrv_addr.clone().into(),
                "-c".into(),
                broker_conf.into_os_string(),
            ])
            .env("HOME", root.join("home"));
        broker_spec.cwd = root.join("broker");
        broker_spec.boot_marker = Some(BROKER_BOOT_MARKER.to_owned());
        broker_spec.probe_addrs = vec![format!("127.0.0.1:{broker_port}")];
        broker_spec.ready_timeout = options.ready_timeout;

        let mut cluster = Self {
            namesrv: Node::new(namesrv_spec),
            broker: Node::new(broker_spec),
            namesrv_port,
            broker_port,
            options,
            dir,
        };
        cluster.namesrv.start()?;
        cluster.start_broker()?;
        Ok(cluster)
    }

    /// `127.0.0.1:<namesrv port>`.
    pub fn namesrv_addr(&self) -> String {
        format!("127.0.0.1:{}", self.namesrv_port)
    }

    /// `127.0.0.1:<broker listenPort>`.
    pub fn broker_addr(&self) -> String {
        format!("127.0.0.1:{}", self.broker_port)
    }

    /// The broker's `listenPort`.
    pub fn broker_port(&self) -> u16 {
        self.broker_port
    }

    /// The broker's `brokerName`.
    pub fn broker_name(&self) -> &str {
        &self.options.broker_name
    }

    /// The cluster's root temp directory.
    pub fn root_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The broker's `storePathRootDir`.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("broker/store")
    }

    /// The HOME every process runs with.
    pub fn home_dir(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The NameServer process.
    pub fn namesrv(&mut self) -> &mut Node {
        &mut self.namesrv
    }

    /// The Broker process.
    pub fn broker(&mut self) -> &mut Node {
        &mut self.broker
    }

    /// An admin client for this cluster's NameServer.
    pub fn admin(&self) -> AdminClient {
        AdminClient::new(self.namesrv_addr())
    }

    /// Starts the broker (again) on the same store and ports, and waits until it is ready and
    /// registered with the NameServer.
    pub fn start_broker(&mut self) -> Result<()> {
        self.broker.start()?;
        let deadline = Instant::now() + self.options.ready_timeout;
        wait_registered(
            &self.namesrv_addr(),
            &self.options.broker_name,
            &self.broker_addr(),
            deadline,
        )
        .map_err(|error| anyhow::anyhow!("{error:#}\n{}", self.broker.log_tail()))
    }

    /// Stops the broker with SIGTERM and returns its exit status.
    pub fn stop_broker(&mut self) -> Result<ExitStatus> {
        self.broker.stop(self.options.stop_timeout)
    }

    /// Kills the broker with SIGKILL.
    pub fn kill_broker(&mut self) -> Result<ExitStatus> {
        self.broker.kill()
    }

    /// Stops the NameServer with SIGTERM and returns its exit status.
    pub fn stop_namesrv(&mut self) -> Result<ExitStatus> {
        self.namesrv.stop(self.options.stop_timeout)
    }
}

/// The `broker.conf` the harness writes.
fn broker_conf_text(options: &ClusterOptions, port: u16, store: &Path) -> String {
    let mut text = String::new();
    let own = [
        ("brokerClusterName", options.cluster_name.clone()),
        ("brokerName", options.broker_name.clone()),
        ("brokerId", "0".to_owned()),
        ("listenPort", port.to_string()),
        ("storePathRootDir", store.display().to_string()),
        ("brokerIP1", "127.0.0.1".to_owned()),
    ];
    for (key, value) in own {
        let _ = writeln!(text, "{key}={value}");
    }
    for (key, value) in &options.broker_config {
        let _ = writeln!(text, "{key}={value}");
    }
    text
}

/// Polls GET_BROKER_CLUSTER_INFO until `broker_name` is registered at `broker_addr`.
pub fn wait_registered(
    namesrv_addr: &str,
    broker_name: &str,
    broker_addr: &str,
    deadline: Instant,
) -> Result<()> {
    loop {
        let mut request = RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO.value());
        request.opaque = 1;
        let last = match blocking_invoke(namesrv_addr, &request, Duration::from_secs(2)) {
            Ok(response) if response.code == ResponseCode::SUCCESS.value() => {
                let info: ClusterInfo = fastjson::from_slice(&response.body)
                    .context("decoding GET_BROKER_CLUSTER_INFO")?;
                let registered = info.broker_addr_table.get(broker_name).is_some_and(|data| {
                    data.broker_addrs.0.values().any(|addr| addr == broker_addr)
                });
                if registered {
                    return Ok(());
                }
                format!("registered: {:?}", info.broker_addr_table.keys())
            }
            Ok(response) => format!("code {} {:?}", response.code, response.remark),
            Err(error) => format!("{error:#}"),
        };
        if Instant::now() >= deadline {
            bail!(
                "broker {broker_name} at {broker_addr} not registered with the NameServer at \
                 {namesrv_addr} in time ({last})"
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_conf_lets_options_override() {
        let options = ClusterOptions::default()
            .broker_config("flushDiskType", "SYNC_FLUSH")
            .broker_config("autoCreateTopicEnable", "false");
        let text = broker_conf_text(&options, 20911, Path::new("/tmp/s"));
        assert!(text.contains("listenPort=20911\n"), "{text}");
        assert!(text.contains("storePathRootDir=/tmp/s\n"), "{text}");
        assert!(text.contains("flushDiskType=SYNC_FLUSH\n"), "{text}");
        assert!(text.contains("autoCreateTopicEnable=false\n"), "{text}");
        assert!(!text.contains("autoCreateTopicEnable=true"), "{text}");
    }

    #[test]
    fn test_dir_is_removed_on_drop() -> Result<()> {
        let dir = TestDir::new("unit")?;
        let path = dir.path().to_path_buf();
        assert!(path.is_dir());
        if dir.is_temporary() {
            drop(dir);
            assert!(!path.exists());
        }
        Ok(())
    }
}
