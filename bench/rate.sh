#!/usr/bin/env bash
# Send latency at a fixed rate (open loop), as W3 but for any rate and build: starts a cluster
# (bench/cluster.sh, ASYNC_FLUSH) from BIN_DIR, runs `rmq-loadgen send --rate RATE -c 4 -w 64
# -s SIZE -d 6 --warmup 2` on the load CPU and, with `consumer`, `ferric-bench consumer` on the
# same CPU from 1 s in; prints one line: rate reached, send latency p50/p99/p99.9 (µs), the
# broker's CPU % and µs per message, and the host's steal time (compare runs only when it is low).
#
#   bench/rate.sh BIN_DIR RATE [consumer]
#
#   SIZE=1024             message size
#   OUT=FILE              also keep the rmq-loadgen JSON report
#   SCHED=SECONDS         also trace the scheduler (`perf sched record -a`, needs root) for that
#                         long from 3 s in, and print what held each CPU: the longest wait of
#                         the broker's and the load's threads from wake-up (or preemption) to
#                         running and when it ended, and the longest single runs of every other
#                         thread (kernel threads included); the trace itself slows the run
#   LOADGEN, NS_PORT, BROKER_PORT (default 29876 / 30911), LOAD_CPU / BROKER_CPU (0 / 1)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 2 ]] || { sed -n '2,17p' "$0"; exit 2; }
BIN_DIR=$1; RATE=$2; CONSUMER=${3:-}
LOADGEN=${LOADGEN:-/work/rmq-loadgen-build/target/release/rmq-loadgen}
NS_PORT=${NS_PORT:-29876}; BROKER_PORT=${BROKER_PORT:-30911}; NAMESRV_ADDR=127.0.0.1:$NS_PORT
LOAD_CPU=${LOAD_CPU:-0}; BROKER_CPU=${BROKER_CPU:-1}
# shellcheck source=bench/cluster.sh
source "$ROOT/bench/cluster.sh"
start_cluster ASYNC_FLUSH
report=$(mktemp)
trace=""
load "$LOADGEN" send --topic RATE -c 4 -w 64 -s "${SIZE:-1024}" --rate "$RATE" -d 6 --warmup 2 \
    --namesrv "$NAMESRV_ADDR" --watch-pid "$BROKER_PID" --json > "$report" &
sender=$!
consumer=""
if [[ $CONSUMER == consumer ]]; then
    sleep 1
    load "$BIN_DIR/ferric-bench" consumer -t RATE -d 7 --warmup 1 -n "$NAMESRV_ADDR" --json \
        --interval 0 > /dev/null 2>&1 &
    consumer=$!
fi
if [[ -n "${SCHED:-}" ]]; then
    if [[ -n "$consumer" ]]; then sleep 2; else sleep 3; fi
    trace=$(mktemp)
    perf sched record -q -a -o "$trace" -- sleep "$SCHED" > /dev/null 2>&1
fi
[[ -n "$consumer" ]] && { wait "$consumer" || true; }
wait "$sender"
[[ -n "${OUT:-}" ]] && cp "$report" "$OUT"
python3 - "$report" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
broker = list(d["cpu"]["pids"].values())[0]
lat = d["lat_us"]
print(f"rate {d['msgs_per_s']:.0f} p50 {lat['p50']:.0f} p99 {lat['p99']:.0f} p99.9 {lat['p999']:.0f} us"
      f" broker {broker['pct']:.1f}% {broker['us_per_msg']:.1f} us/msg steal {d['cpu']['steal_pct']:.1f}%")
EOF
if [[ -n "$trace" ]]; then
    # timehist --state columns: time, [cpu], task[tid/pid], wait ms, sched delay ms, run ms,
    # state at switch-out. A thread waits for the CPU from its wake-up (sched delay) or, if it
    # was switched out runnable (state R), for the whole wait.
    perf sched timehist --state -i "$trace" 2>/dev/null | python3 -c '
import collections, re, sys
broker_pid = sys.argv[1]
delays, runs, preempted = collections.defaultdict(lambda: (0.0, 0.0)), [], {}
for line in sys.stdin:
    f = line.split()
    if len(f) < 7 or not re.fullmatch(r"\[\d+\]", f[1]):
        continue
    try:
        t, wait, delay, run = float(f[0]), float(f[3]), float(f[4]), float(f[5])
    except ValueError:
        continue
    task, name, cpu = f[2], f[2].split("[")[0], f[1].strip("[]").lstrip("0") or "0"
    pid = task.rstrip("]").split("/")[-1]
    if name == "<idle>":
        continue
    if pid == broker_pid and name.startswith("tokio-rt-worker"):
        name = "broker request thread"
    if name.startswith(("broker request thread", "rmq-loadgen", "ferric-bench")):
        held = wait if preempted.get(task) else delay
        delays[(name, cpu)] = max(delays[(name, cpu)], (held, t - run / 1000))
    else:
        runs.append((run, cpu, name, t))
    preempted[task] = f[6] == "R"
print("longest wait for the CPU, ms (ended at s):", ", ".join(
    f"{n} (cpu {c}) {v:.2f} ({t:.3f})" for (n, c), (v, t) in sorted(delays.items())))
print("longest runs of other threads, ms (cpu, thread, ended at s):")
for run, cpu, name, t in sorted(runs, reverse=True)[:8]:
    print(f"  {run:7.3f}  cpu {cpu}  {name}  {t:.3f}")
' "$BROKER_PID"
    rm -f "$trace"
fi
rm -f "$report"
