//! Finding the workspace's built binaries from inside a test executable.
//!
//! `cargo test` puts test executables in `target/<profile>/deps/` and the workspace's binaries
//! in `target/<profile>/`; `cargo test --workspace` builds every binary of the workspace before
//! it runs any test. `FERRIC_BIN_DIR` overrides the directory (for binaries built elsewhere).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The NameServer binary.
pub const MQNAMESRV: &str = "mqnamesrv";
/// The Broker binary.
pub const MQBROKER: &str = "mqbroker";
/// The shutdown helper binary.
pub const MQSHUTDOWN: &str = "mqshutdown";
/// The one-machine binary (NameServer + Broker in one process).
pub const FERRIC: &str = "ferric";

/// Environment variable naming the directory that holds the binaries.
pub const BIN_DIR_ENV: &str = "FERRIC_BIN_DIR";

/// The directory holding the workspace binaries: `$FERRIC_BIN_DIR`, or the profile directory
/// above the running test executable (`target/<profile>/deps/<test>` → `target/<profile>`).
pub fn bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(BIN_DIR_ENV) {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().context("locating the running test executable")?;
    let mut dir = exe
        .parent()
        .context("test executable has no parent directory")?
        .to_path_buf();
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.pop();
    }
    Ok(dir)
}

/// The path of workspace binary `name`, which must exist.
pub fn binary_path(name: &str) -> Result<PathBuf> {
    let dir = bin_dir()?;
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !is_file(&path) {
        bail!(
            "binary `{name}` not found at {} (run `cargo build --workspace` or `cargo test \
             --workspace`, which builds every binary first; or set {BIN_DIR_ENV})",
            path.display()
        );
    }
    Ok(path)
}

fn is_file(path: &Path) -> bool {
    path.metadata().is_ok_and(|meta| meta.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binary_names_the_path() {
        let error = binary_path("no-such-ferric-binary")
            .err()
            .map(|e| e.to_string());
        let message = error.unwrap_or_default();
        assert!(message.contains("no-such-ferric-binary"), "{message}");
        assert!(message.contains("cargo build --workspace"), "{message}");
    }

    #[test]
    fn bin_dir_is_not_deps() -> Result<()> {
        let dir = bin_dir()?;
        assert_ne!(dir.file_name().and_then(|n| n.to_str()), Some("deps"));
        Ok(())
    }
}
