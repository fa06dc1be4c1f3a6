#!/usr/bin/env bash
# Paired A/B runs with rmq-loadgen: for each run, each variant in turn gets a fresh cluster
# (bench/cluster.sh) and the selected workloads, so variants are interleaved run by run.
#
#   bench/ab.sh [--bin-root DIR] [--loadgen PATH] [--ports NS,BROKER] [--only LIST]
#               [--send-duration S] OUTROOT RUNS VARIANT...
#
#   --bin-root       directory holding one directory per variant with mqnamesrv and mqbroker
#                    (default /tmp/fb)
#   --loadgen        rmq-loadgen binary (default /work/rmq-loadgen-build/target/release/rmq-loadgen)
#   --ports          NameServer and broker ports (default 29876,30911)
#   --only           comma-separated, in this order: W1 (1 KiB, 1 in flight), W2 (128 B and 1 KiB,
#                    4 x 64), BACKLOG (1 KiB, 4 x 64, --send-duration s, into pull-send.json),
#                    W6 (pull of the 1 KiB topic), W5 (SYNC_FLUSH cluster, 1 KiB, 4 x 16)
#                    (default W1,W2,W6,W5)
#   PERF=S           with W6: perf-record the broker for S s during the pull
#
# Results: OUTROOT/<variant>/<workload>.json (one JSON object per run), uptime.txt, summary.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN_ROOT=/tmp/fb
LOADGEN=/work/rmq-loadgen-build/target/release/rmq-loadgen
PORTS=29876,30911
ONLY=W1,W2,W6,W5
SEND_DURATION=6
while [[ $# -gt 0 ]]; do
    case "$1" in
        --bin-root) BIN_ROOT=$2; shift 2 ;;
        --loadgen) LOADGEN=$2; shift 2 ;;
        --ports) PORTS=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --send-duration) SEND_DURATION=$2; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[[ $# -ge 3 ]] || { echo "usage: bench/ab.sh [options] OUTROOT RUNS VARIANT..." >&2; exit 2; }
OUTROOT=$1; RUNS=$2; shift 2
NS_PORT=${PORTS%,*}; BROKER_PORT=${PORTS#*,}; NAMESRV_ADDR=127.0.0.1:$NS_PORT
LOAD_CPU=${LOAD_CPU:-0}; BROKER_CPU=${BROKER_CPU:-1}
T="-d 6 --warmup 2"
# shellcheck source=bench/cluster.sh
source "$ROOT/bench/cluster.sh"
wanted() { [[ ",$ONLY," == *",$1,"* ]]; }
lg() { local out=$1; shift; load "$LOADGEN" "$@" --namesrv "$NAMESRV_ADDR" --json >> "$out"; }

for run in $(seq 1 "$RUNS"); do
    for v in "$@"; do
        O=$OUTROOT/$v; mkdir -p "$O"; BIN_DIR=$BIN_ROOT/$v
        echo "== run $run $v $(uptime)" | tee -a "$O/uptime.txt" >&2
        if wanted W1 || wanted W2 || wanted BACKLOG || wanted W6; then
            start_cluster ASYNC_FLUSH
            if wanted W1; then
                lg "$O/W1-loadgen-1024.json" send --topic W1L1024 -c 1 -w 1 -s 1024 $T
            fi
            if wanted W2; then
                for size in 128 1024; do
                    lg "$O/W2-loadgen-$size.json" send --topic W2L$size -c 4 -w 64 -s $size $T \
                        --watch-pid "$BROKER_PID"
                done
            fi
            if wanted BACKLOG; then
                lg "$O/pull-send.json" send --topic W2L1024 -c 4 -w 64 -s 1024 \
                    -d "$SEND_DURATION" --warmup 2 --watch-pid "$BROKER_PID"
            fi
            if wanted W6; then
                perf_pid=""
                if [[ -n "${PERF:-}" ]]; then
                    perf record -e cpu-clock --call-graph dwarf,16384 -F 2000 \
                        -o "$O/perf-$run.data" -p "$BROKER_PID" -- sleep "$PERF" >/dev/null 2>&1 &
                    perf_pid=$!; sleep 0.3
                fi
                lg "$O/W6-loadgen.json" pull --topic W2L1024 --watch-pid "$BROKER_PID"
                [[ -z "$perf_pid" ]] || wait "$perf_pid" || true
            fi
            stop_cluster
        fi
        if wanted W5; then
            start_cluster SYNC_FLUSH
            lg "$O/W5-loadgen-64.json" send --topic W5L -c 4 -w 16 -s 1024 $T \
                --watch-pid "$BROKER_PID"
            stop_cluster
        fi
    done
done
for v in "$@"; do python3 "$ROOT/bench/summarize.py" "$OUTROOT/$v" > "$OUTROOT/$v/summary.md"; done
