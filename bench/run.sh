#!/usr/bin/env bash
# Ferric's standard benchmark matrix (docs/benchmarks.md, "Standard matrix").
#
# Starts a NameServer and a Broker from release binaries with a temp store, the broker pinned
# to CPU 1 (`taskset -c 1`) and every load generator to CPU 0, runs W1..W7 with ferric-bench
# and with rmq-loadgen, and writes one JSON file per run plus summary.md (medians).
#
#   bench/run.sh [--bin-dir DIR] [--loadgen PATH] [--out DIR] [--runs N] [--only W1,W2,...]
#                [--duration S] [--warmup S]
#
#   --bin-dir   directory with mqnamesrv, mqbroker and ferric-bench (default target/release)
#   --loadgen   rmq-loadgen binary (default: skip the rmq-loadgen runs)
#   --out       results directory (default bench/results/<date>-<commit>)
#   --runs      repetitions of every measurement; the summary gives the median (default 3)
#   --only      comma-separated workloads (W1 W2 W3 W4 W5 W6 W7 RSS)
#
# Only loopback addresses; every process it starts is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR="$ROOT/target/release"
LOADGEN=""
RUNS=3
ONLY="W1,W2,W3,W4,W5,W6,W7,RSS"
DURATION=8
WARMUP=2
OUT=""
NS_PORT=${NS_PORT:-29876}
BROKER_PORT=${BROKER_PORT:-30911}
LOAD_CPU=${LOAD_CPU:-0}
BROKER_CPU=${BROKER_CPU:-1}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --bin-dir) BIN_DIR=$2; shift 2 ;;
        --loadgen) LOADGEN=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
OUT=${OUT:-"$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)-$COMMIT"}
mkdir -p "$OUT"
BENCH="$BIN_DIR/ferric-bench"
NAMESRV_ADDR="127.0.0.1:$NS_PORT"
for bin in mqnamesrv mqbroker ferric-bench; do
    [[ -x "$BIN_DIR/$bin" ]] || { echo "missing $BIN_DIR/$bin (cargo build --release)" >&2; exit 1; }
done

# shellcheck source=bench/cluster.sh
source "$ROOT/bench/cluster.sh"

# The two load generators; every call appends one JSON object to $OUT/<name>.json.
bench_run() {
    local name=$1; shift
    load "$BENCH" "$@" -n "$NAMESRV_ADDR" --json --interval 0 >> "$OUT/$name.json"
}
loadgen_run() {
    local name=$1; shift
    [[ -n "$LOADGEN" ]] || return 0
    load "$LOADGEN" "$@" --namesrv "$NAMESRV_ADDR" --json >> "$OUT/$name.json"
}

rss_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
record() { echo "$1	$2	$3" >> "$OUT/values.tsv"; }

# with_consumer TOPIC NAME CMD...: runs CMD (an rmq-loadgen send) while one ferric-bench push
# consumer (group of one) consumes TOPIC on the load CPU; the consumer starts 1 s into the
# sender's warm-up (the sender creates the topic) and its report goes to $OUT/NAME.json.
with_consumer() {
    local topic=$1 name=$2; shift 2
    [[ -n "$LOADGEN" ]] || return 0
    "$@" &
    local sender=$!
    sleep 1
    load "$BENCH" consumer -t "$topic" -d $((DURATION + WARMUP - 1)) --warmup $((WARMUP - 1)) \
        -n "$NAMESRV_ADDR" --json --interval 0 >> "$OUT/$name.json" || true
    wait "$sender"
}

wanted() { [[ ",$ONLY," == *",$1,"* ]]; }
T="-d $DURATION --warmup $WARMUP"

for run in $(seq 1 "$RUNS"); do
    echo "== run $run of $RUNS ($OUT)" >&2
    if wanted W1 || wanted W2 || wanted W6 || wanted RSS; then
        start_cluster ASYNC_FLUSH
        if wanted RSS; then
            sleep 4
            record RSS idle_namesrv_kib "$(rss_kib "$NS_PID" VmRSS)"
            record RSS idle_broker_kib "$(rss_kib "$BROKER_PID" VmRSS)"
        fi
        for size in 128 1024; do
            if wanted W1; then
                loadgen_run "W1-loadgen-$size" send --topic W1L$size -c 1 -w 1 -s $size $T
                bench_run "W1-bench-$size" producer -t W1B$size -c 1 -w 1 -s $size $T
            fi
            if wanted W2 || wanted W6; then
                loadgen_run "W2-loadgen-$size" send --topic W2L$size -c 4 -w 64 -s $size $T \
                    --watch-pid "$BROKER_PID"
                bench_run "W2-bench-$size" producer -t W2B$size -c 4 -w 64 -s $size $T \
                    --watch-pid "$BROKER_PID"
            fi
        done
        if wanted W6; then
            loadgen_run W6-loadgen pull --topic W2L1024 --watch-pid "$BROKER_PID"
            bench_run W6-bench consumer -t W2L1024 --drain --from first -d 300 \
                --watch-pid "$BROKER_PID"
        fi
        record RSS peak_broker_kib "$(rss_kib "$BROKER_PID" VmHWM)"
        record RSS peak_namesrv_kib "$(rss_kib "$NS_PID" VmHWM)"
        stop_cluster
    fi

    if wanted W3 || wanted W4; then
        start_cluster ASYNC_FLUSH
        if wanted W3; then
            # 50 % of this run's W2 1 KiB figure from rmq-loadgen, else of the 100k target.
            rate=$(python3 - "$OUT/W2-loadgen-1024.json" <<'EOF'
import json, sys
try:
    runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    print(int(runs[-1]["msgs_per_s"] / 2))
except Exception:
    print(50000)
EOF
)
            record W3 rate "$rate"
            with_consumer W3C W3-consumer loadgen_run W3-loadgen send --topic W3C -c 4 -w 64 \
                -s 1024 --rate "$rate" $T --watch-pid "$BROKER_PID"
            bench_run W3-bench e2e -t W3B -c 4 -w 64 -s 1024 --rate "$rate" $T
        fi
        if wanted W4; then
            with_consumer W4C W4-consumer loadgen_run W4-loadgen send --topic W4C -c 4 -w 64 \
                -s 1024 $T --watch-pid "$BROKER_PID"
            bench_run W4-bench e2e -t W4B -c 4 -w 64 -s 1024 $T --watch-pid "$BROKER_PID"
        fi
        stop_cluster
    fi

    if wanted W5; then
        start_cluster SYNC_FLUSH
        for cw in "1 1" "1 16" "4 16" "4 64"; do
            set -- $cw
            inflight=$(($1 * $2))
            loadgen_run "W5-loadgen-$inflight" send --topic W5L -c "$1" -w "$2" -s 1024 $T \
                --watch-pid "$BROKER_PID"
            bench_run "W5-bench-$inflight" producer -t W5B -c "$1" -w "$2" -s 1024 $T
        done
        stop_cluster
    fi

    if wanted W7 && [[ -n "$LOADGEN" ]]; then
        # Exec of both processes on an empty store → first successful send.
        write_confs ASYNC_FLUSH
        start_ns=$(date +%s%N)
        HOME="$WORK/home" taskset -c "$BROKER_CPU" "$BIN_DIR/mqnamesrv" -c "$WORK/namesrv.conf" \
            > "$WORK/namesrv.out" 2>&1 &
        NS_PID=$!
        HOME="$WORK/home" taskset -c "$BROKER_CPU" "$BIN_DIR/mqbroker" -n "$NAMESRV_ADDR" \
            -c "$WORK/broker.conf" > "$WORK/broker.out" 2>&1 &
        BROKER_PID=$!
        load "$LOADGEN" first-send --namesrv "$NAMESRV_ADDR" --topic W7 --interval-ms 2 \
            --timeout 60 --json >> "$OUT/W7-loadgen.json"
        end_ns=$(date +%s%N)
        record W7 exec_to_first_send_ms "$(((end_ns - start_ns) / 1000000))"
        stop_cluster
    fi
done

python3 "$ROOT/bench/summarize.py" "$OUT" | tee "$OUT/summary.md"
