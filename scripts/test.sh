#!/usr/bin/env bash
# The one command that runs Ferric's checks and tests (README, CI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/interop-setup.sh
echo "== rustfmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== dependency rules"
python3 scripts/check-deps.py
echo "== binaries (the end-to-end tests start mqnamesrv, mqbroker, mqshutdown and ferric)"
cargo build --workspace --bins
echo "== tests"
cargo test --workspace
