#!/usr/bin/env bash
# Installs the third-party RocketMQ clients that Ferric's interop tests drive
# (crates/ferric-testkit/tests/interop_*.rs), each from its own registry, into the repository:
#
#   Python  PyPI `rocketmq` 0.4.4 (Apache's C++ client)  -> target/interop/venv
#   Node    npm `ali-ons` (package-lock.json)             -> interop/node/node_modules
#   Rust    crates.io `rocketmq-client-rust` (Cargo.lock) -> target/interop/rust-target
#
# Idempotent: a step whose output exists and is newer than its inputs is skipped, so a second
# run takes about a second. Set INTEROP_SKIP=python,node,rust to leave some out.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="$root/target/interop"
mkdir -p "$out"
skip=",${INTEROP_SKIP:-},"

say() { echo "interop-setup: $*"; }

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    say "apt-get not available; cannot install $*"
    return 1
  fi
  if [ ! -f "$out/.apt-updated" ]; then
    say "apt-get update"
    apt-get update -qq
    touch "$out/.apt-updated"
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# newer_than OUTPUT INPUT...: true when OUTPUT exists and is newer than every INPUT.
newer_than() {
  local output="$1"
  shift
  [ -e "$output" ] || return 1
  local input
  for input in "$@"; do
    [ "$output" -nt "$input" ] || return 1
  done
}

setup_python() {
  local venv="$out/venv"
  local stamp="$venv/.rocketmq-0.4.4"
  if newer_than "$stamp" "$0" && "$venv/bin/python" -c 'import rocketmq.client' 2>/dev/null; then
    say "python: rocketmq 0.4.4 already in $venv"
    return
  fi
  if ! command -v python3 >/dev/null 2>&1; then
    apt_install python3 python3-venv
  fi
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3-venv
  fi
  say "python: creating $venv and installing rocketmq==0.4.4 from PyPI"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'rocketmq==0.4.4'
  # The wheel bundles librocketmq.so, which links libstdc++ at run time.
  if ! "$venv/bin/python" -c 'import rocketmq.client' 2>/dev/null; then
    apt_install libstdc++6
  fi
  "$venv/bin/python" -c 'import rocketmq.client'
  touch "$stamp"
  say "python: ready"
}

setup_node() {
  local dir="$root/interop/node"
  local stamp="$dir/node_modules/.package-lock.json"
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  if newer_than "$stamp" "$dir/package-lock.json" "$dir/package.json" \
    && [ -d "$dir/node_modules/ali-ons" ]; then
    say "node: ali-ons already in $dir/node_modules"
    return
  fi
  say "node: npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
  say "node: ready"
}

setup_rust() {
  local dir="$root/interop/rust"
  local bin="$out/rust-target/debug/ferric-interop-rust"
  if newer_than "$bin" "$dir/Cargo.toml" "$dir/Cargo.lock" "$dir/src/main.rs"; then
    say "rust: $bin is up to date"
    return
  fi
  say "rust: cargo build in $dir (target $out/rust-target); the first build takes minutes"
  (cd "$dir" && CARGO_TARGET_DIR="$out/rust-target" cargo build --locked --quiet)
  touch "$bin"
  say "rust: ready"
}

case "$skip" in *,python,*) say "python: skipped" ;; *) setup_python ;; esac
case "$skip" in *,node,*) say "node: skipped" ;; *) setup_node ;; esac
case "$skip" in *,rust,*) say "rust: skipped" ;; *) setup_rust ;; esac
