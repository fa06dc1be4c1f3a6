//! One spawned binary: start, wait until ready, stop with SIGTERM, kill -9, start again.
//!
//! Each start writes stdout and stderr to fresh files in the node's log directory
//! (`<name>.<n>.stdout.log`, `<name>.<n>.stderr.log`). Readiness means the boot line was
//! printed (on stdout or stderr) *and*, when a probe address is set, that address answers a
//! remoting request. Every error while waiting carries the tail of the captured output.
//! Dropping a [`Node`] kills its process with SIGKILL and reaps it.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rustix::process::{Pid, Signal, kill_process};

use crate::probe::probe_remoting;

/// How often readiness and exit are polled.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Lines of captured output quoted in errors.
const TAIL_LINES: usize = 40;

/// How to start a binary and how to tell that it is ready.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Short name used in log file names and errors (`namesrv`, `broker`, …).
    pub name: String,
    /// The executable.
    pub binary: PathBuf,
    /// Command-line arguments.
    pub args: Vec<OsString>,
    /// Extra environment variables (on top of the test's own environment).
    pub env: Vec<(OsString, OsString)>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Directory for the captured stdout/stderr files.
    pub log_dir: PathBuf,
    /// Text whose appearance in the output marks a finished boot; `None` skips the check.
    pub boot_marker: Option<String>,
    /// Addresses (`ip:port`) that must answer a remoting request before the node is ready.
    pub probe_addrs: Vec<String>,
    /// Upper bound for [`Node::start`] to see the node ready.
    pub ready_timeout: Duration,
}

impl NodeSpec {
    /// A spec with no arguments, no probe, a 60 s ready timeout, working in `log_dir`.
    pub fn new(name: impl Into<String>, binary: PathBuf, log_dir: &Path) -> Self {
        Self {
            name: name.into(),
            binary,
            args: Vec::new(),
            env: Vec::new(),
            cwd: log_dir.to_path_buf(),
            log_dir: log_dir.to_path_buf(),
            boot_marker: None,
            probe_addrs: Vec::new(),
            ready_timeout: Duration::from_secs(60),
        }
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds one environment variable.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
}

/// A binary under test; at most one live process at a time.
#[derive(Debug)]
pub struct Node {
    spec: NodeSpec,
    child: Option<Child>,
    starts: u32,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
}

impl Node {
    /// A node that has not been started yet.
    pub fn new(spec: NodeSpec) -> Self {
        let stdout_path = spec.log_dir.join(format!("{}.0.stdout.log", spec.name));
        let stderr_path = spec.log_dir.join(format!("{}.0.stderr.log", spec.name));
        Self {
            spec,
            child: None,
            starts: 0,
            stdout_path,
            stderr_path,
        }
    }

    /// The spec this node starts from.
    pub fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    /// Mutable spec, e.g. to change arguments before the next [`Node::start`].
    pub fn spec_mut(&mut self) -> &mut NodeSpec {
        &mut self.spec
    }

    /// Spawns the process (without waiting for readiness).
    pub fn spawn(&mut self) -> Result<()> {
        if self.is_running() {
            bail!("{} is already running", self.spec.name);
        }
        self.starts += 1;
        let name = &self.spec.name;
        self.stdout_path = self
            .spec
            .log_dir
            .join(format!("{name}.{}.stdout.log", self.starts));
        self.stderr_path = self
            .spec
            .log_dir
            .join(format!("{name}.{}.stderr.log", self.starts));
        std::fs::create_dir_all(&self.spec.log_dir)
            .with_context(|| format!("creating {}", self.spec.log_dir.display()))?;
        let stdout = File::create(&self.stdout_path)
            .with_context(|| format!("creating {}", self.stdout_path.display()))?;
        let stderr = File::create(&self.stderr_path)
            .with_context(|| format!("creating {}", self.stderr_path.display()))?;
        let mut command = Command::new(&self.spec.binary);
        command
            .args(&self.spec.args)
            .current_dir(&self.spec.cwd)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        for (key, value) in &self.spec.env {
            command.env(key, value);
        }
        let child = command.spawn().with_context(|| {
            format!(
                "spawning {} ({} {:?})",
                self.spec.name,
                self.spec.binary.display(),
                self.spec.args
            )
        })?;
        self.child = Some(child);
        Ok(())
    }

    /// Spawns the process and waits until it is ready (see the module docs).
    pub fn start(&mut self) -> Result<()> {
        self.spawn()?;
        self.wait_ready()
    }

    /// Waits until the boot marker was printed and every probe address answers.
    pub fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + self.spec.ready_timeout;
        if let Some(marker) = self.spec.boot_marker.clone() {
            self.wait_for_output(&marker, deadline)?;
        }
        for addr in self.spec.probe_addrs.clone() {
            loop {
                self.fail_if_exited("before answering on its port")?;
                let remaining = deadline.saturating_duration_since(Instant::now());
                let attempt = probe_remoting(&addr, remaining.min(Duration::from_secs(2)));
                match attempt {
                    Ok(()) => break,
                    Err(error) if Instant::now() >= deadline => {
                        bail!(
                            "{} did not answer a remoting request on {addr} within {:?}: {error:#}\n{}",
                            self.spec.name,
                            self.spec.ready_timeout,
                            self.log_tail()
                        );
                    }
                    Err(_) => sleep(POLL_INTERVAL),
                }
            }
        }
        Ok(())
    }

    /// Waits until `text` appears in this start's stdout or stderr.
    pub fn wait_for_output(&mut self, text: &str, deadline: Instant) -> Result<String> {
        loop {
            if let Some(line) = self.find_output_line(text) {
                return Ok(line);
            }
            self.fail_if_exited(&format!("before printing {text:?}"))?;
            if Instant::now() >= deadline {
                bail!(
                    "{} did not print {text:?} within {:?}\n{}",
                    self.spec.name,
                    self.spec.ready_timeout,
                    self.log_tail()
                );
            }
            sleep(POLL_INTERVAL);
        }
    }

    /// The first line of this start's output containing `text`.
    pub fn find_output_line(&self, text: &str) -> Option<String> {
        [&self.stdout_path, &self.stderr_path]
            .into_iter()
            .filter_map(|path| std::fs::read(path).ok())
            .find_map(|bytes| {
                String::from_utf8_lossy(&bytes)
                    .lines()
                    .find(|line| line.contains(text))
                    .map(str::to_owned)
            })
    }

    /// This start's captured stdout.
    pub fn stdout(&self) -> String {
        read_lossy(&self.stdout_path)
    }

    /// This start's captured stderr.
    pub fn stderr(&self) -> String {
        read_lossy(&self.stderr_path)
    }

    /// Paths of this start's captured stdout and stderr.
    pub fn log_paths(&self) -> (&Path, &Path) {
        (&self.stdout_path, &self.stderr_path)
    }

    /// The last lines of this start's stdout and stderr, labelled, for error messages.
    pub fn log_tail(&self) -> String {
        format!(
            "--- {name} stdout ({}) ---\n{}\n--- {name} stderr ({}) ---\n{}",
            self.stdout_path.display(),
            tail(&self.stdout(), TAIL_LINES),
            self.stderr_path.display(),
            tail(&self.stderr(), TAIL_LINES),
            name = self.spec.name,
        )
    }

    /// The live process id, if running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(Ok(Some(_)) | Err(_)) | None => false,
        }
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit; returns the exit status. If the
    /// process outlives `timeout` it is killed with SIGKILL and this is an error.
    pub fn stop(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let Some(child) = self.child.as_mut() else {
            bail!("{} is not running", self.spec.name);
        };
        if let Ok(Some(status)) = child.try_wait() {
            self.child = None;
            bail!(
                "{} had already exited ({status}) before SIGTERM\n{}",
                self.spec.name,
                self.log_tail()
            );
        }
        signal(child, Signal::TERM)?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait()? {
                self.child = None;
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let status = self.kill()?;
                bail!(
                    "{} did not exit within {timeout:?} of SIGTERM (killed: {status})\n{}",
                    self.spec.name,
                    self.log_tail()
                );
            }
            sleep(POLL_INTERVAL);
        }
    }

    /// Waits up to `timeout` for the process to exit on its own (e.g. after `mqshutdown`).
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let Some(child) = self.child.as_mut() else {
            bail!("{} is not running", self.spec.name);
        };
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait()? {
                self.child = None;
                return Ok(status);
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} still running after {timeout:?}\n{}",
                    self.spec.name,
                    self.log_tail()
                );
            }
            sleep(POLL_INTERVAL);
        }
    }

    /// Sends SIGKILL (kill -9) and reaps the process; returns its exit status.
    pub fn kill(&mut self) -> Result<ExitStatus> {
        let Some(mut child) = self.child.take() else {
            bail!("{} is not running", self.spec.name);
        };
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        signal(&child, Signal::KILL)?;
        Ok(child.wait()?)
    }

    fn fail_if_exited(&mut self, what: &str) -> Result<()> {
        let Some(child) = self.child.as_mut() else {
            bail!("{} is not running", self.spec.name);
        };
        if let Some(status) = child.try_wait()? {
            self.child = None;
            bail!(
                "{} exited ({status}) {what}\n{}",
                self.spec.name,
                self.log_tail()
            );
        }
        Ok(())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Best effort: the process may already be gone.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(child: &Child, signal: Signal) -> Result<()> {
    let raw = i32::try_from(child.id()).context("pid out of range")?;
    let pid = Pid::from_raw(raw).context("pid 0")?;
    kill_process(pid, signal).with_context(|| format!("sending {signal:?} to {raw}"))
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(dir: &Path, script: &str) -> NodeSpec {
        NodeSpec::new("sh", PathBuf::from("/bin/sh"), dir).args(["-c", script])
    }

    #[test]
    fn boot_marker_and_sigterm() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut spec = sh(
            dir.path(),
            "echo starting; echo boot success >&2; exec sleep 30",
        );
        spec.boot_marker = Some("boot success".into());
        let mut node = Node::new(spec);
        node.start()?;
        assert!(node.is_running());
        let status = node.stop(Duration::from_secs(10))?;
        assert_eq!(status.code(), None, "killed by SIGTERM: {status}");
        assert!(node.stdout().contains("starting"));
        Ok(())
    }

    #[test]
    fn early_exit_reports_the_log_tail() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut spec = sh(dir.path(), "echo bad config key >&2; exit 3");
        spec.boot_marker = Some("boot success".into());
        let mut node = Node::new(spec);
        let error = node
            .start()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("exited"), "{error}");
        assert!(error.contains("bad config key"), "{error}");
        Ok(())
    }

    #[test]
    fn kill_and_restart_use_fresh_logs() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut spec = sh(dir.path(), "echo up; exec sleep 30");
        spec.boot_marker = Some("up".into());
        let mut node = Node::new(spec);
        node.start()?;
        let first = node.log_paths().0.to_path_buf();
        let status = node.kill()?;
        assert!(!status.success());
        node.start()?;
        assert_ne!(node.log_paths().0, first.as_path());
        assert!(node.is_running());
        Ok(())
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
