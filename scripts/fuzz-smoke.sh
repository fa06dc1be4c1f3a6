#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (FUZZ_SECONDS, default 60 s each).
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Uses the nightly toolchain when
# it is installed, otherwise the stable one with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-60}"
if rustup run nightly rustc --version >/dev/null 2>&1; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
for target in $("${fuzz[@]}" list); do
  echo "== fuzzing ${target} for ${seconds}s"
  "${fuzz[@]}" run "${target}" -- -max_total_time="${seconds}" -rss_limit_mb=2048
done
echo "fuzz smoke: all targets ran ${seconds}s without a crash"
