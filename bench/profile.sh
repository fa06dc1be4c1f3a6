#!/usr/bin/env bash
# Profiles the broker under load: starts a cluster (bench/cluster.sh) from BIN_DIR, runs
# `rmq-loadgen send -c 4 -w WINDOW -s SIZE -d 8 --warmup 2` on the load CPU and, 4 s in,
# `perf record` of the broker for 2 s.
#
#   bench/profile.sh BIN_DIR SIZE OUTPREFIX [ASYNC_FLUSH|SYNC_FLUSH]
#
#   WINDOW=64                 in-flight requests per connection
#   PERF_EVENT=cpu-clock      perf event; with cpu-clock, DWARF call graphs at 2 kHz
#                             (e.g. PERF_EVENT=sched:sched_switch for off-CPU reasons)
#   LOADGEN, NS_PORT, BROKER_PORT (default 29876 / 30911)
#
# Writes OUTPREFIX.json (the rmq-loadgen report) and OUTPREFIX.data (perf).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 3 ]] || { sed -n '2,13p' "$0"; exit 2; }
BIN_DIR=$1; SIZE=$2; OUT=$3; FLUSH=${4:-ASYNC_FLUSH}
LOADGEN=${LOADGEN:-/work/rmq-loadgen-build/target/release/rmq-loadgen}
NS_PORT=${NS_PORT:-29876}; BROKER_PORT=${BROKER_PORT:-30911}; NAMESRV_ADDR=127.0.0.1:$NS_PORT
LOAD_CPU=${LOAD_CPU:-0}; BROKER_CPU=${BROKER_CPU:-1}
EVENT=${PERF_EVENT:-cpu-clock}
# shellcheck source=bench/cluster.sh
source "$ROOT/bench/cluster.sh"
start_cluster "$FLUSH"
load "$LOADGEN" send --topic "P$SIZE" -c 4 -w "${WINDOW:-64}" -s "$SIZE" -d 8 --warmup 2 \
    --namesrv "$NAMESRV_ADDR" --watch-pid "$BROKER_PID" --json > "$OUT.json" &
sender=$!
sleep 4
if [[ $EVENT == cpu-clock ]]; then
    graph=(--call-graph dwarf,16384 -F 2000)
else
    graph=(-g)
fi
perf record -e "$EVENT" "${graph[@]}" -p "$BROKER_PID" -o "$OUT.data" -- sleep 2 >/dev/null 2>&1
wait "$sender"
