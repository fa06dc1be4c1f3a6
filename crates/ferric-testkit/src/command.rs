//! Running a short-lived child command (a client program, `mqshutdown`, `--help`) with a
//! bounded wait. Output goes to files (no pipe can fill up); the child is killed on timeout and
//! on drop.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::process::tail;

/// What a finished command left behind.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    /// Exit status.
    pub status: ExitStatus,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
}

impl CommandOutput {
    /// Fails (quoting the output tails) unless the command exited 0.
    pub fn expect_success(&self, what: &str) -> Result<&Self> {
        if !self.status.success() {
            bail!(
                "{what} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.status,
                tail(&self.stdout, 40),
                tail(&self.stderr, 40)
            );
        }
        Ok(self)
    }
}

/// Kills the child when dropped (unless it already exited).
#[derive(Debug)]
pub struct ChildGuard(pub Option<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A child started with [`spawn_logged`], collected with [`RunningCommand::wait`].
#[derive(Debug)]
pub struct RunningCommand {
    guard: ChildGuard,
    name: String,
    stdout_path: std::path::PathBuf,
    stderr_path: std::path::PathBuf,
}

/// Starts `command` with stdout/stderr going to `<dir>/<name>.stdout` / `.stderr`.
pub fn spawn_logged(mut command: Command, dir: &Path, name: &str) -> Result<RunningCommand> {
    let stdout_path = dir.join(format!("{name}.stdout"));
    let stderr_path = dir.join(format!("{name}.stderr"));
    let stdout = std::fs::File::create(&stdout_path)?;
    let stderr = std::fs::File::create(&stderr_path)?;
    let child = command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("spawning {name}: {command:?}"))?;
    Ok(RunningCommand {
        guard: ChildGuard(Some(child)),
        name: name.to_owned(),
        stdout_path,
        stderr_path,
    })
}

impl RunningCommand {
    /// Waits up to `timeout` for the exit; on timeout kills it and fails with its output.
    pub fn wait(mut self, timeout: Duration) -> Result<CommandOutput> {
        let deadline = Instant::now() + timeout;
        let status = loop {
            let Some(child) = self.guard.0.as_mut() else {
                bail!("{} was already collected", self.name);
            };
            if let Some(status) = child.try_wait()? {
                self.guard.0 = None;
                break status;
            }
            if Instant::now() >= deadline {
                drop(self.guard.0.take().map(|child| ChildGuard(Some(child))));
                bail!(
                    "{} did not finish within {timeout:?} (killed)\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    self.name,
                    tail(&read(&self.stdout_path), 40),
                    tail(&read(&self.stderr_path), 40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Ok(CommandOutput {
            status,
            stdout: read(&self.stdout_path),
            stderr: read(&self.stderr_path),
        })
    }
}

/// [`spawn_logged`] then [`RunningCommand::wait`].
pub fn run_logged(
    command: Command,
    dir: &Path,
    name: &str,
    timeout: Duration,
) -> Result<CommandOutput> {
    spawn_logged(command, dir, name)?.wait(timeout)
}

fn read(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_output_and_status() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "echo out; echo err >&2; exit 4"]);
        let output = run_logged(command, dir.path(), "sh", Duration::from_secs(10))?;
        assert_eq!(output.status.code(), Some(4));
        assert_eq!(output.stdout, "out\n");
        assert_eq!(output.stderr, "err\n");
        assert!(output.expect_success("sh").is_err());
        Ok(())
    }

    #[test]
    fn timeout_kills_the_child() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "echo started; exec sleep 30"]);
        let error = run_logged(command, dir.path(), "sleepy", Duration::from_millis(500))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("did not finish"), "{error}");
        assert!(error.contains("started"), "{error}");
        Ok(())
    }
}
