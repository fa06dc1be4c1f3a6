#!/usr/bin/env bash
# User-space instructions the broker executes per message under W2-shaped load, counted by
# callgrind: a figure that does not move when other work shares the machine (throughput and
# CPU time do), so two builds can be compared on a busy host.
#
#   bench/callgrind.sh BIN_DIR [SIZE] [OUTPREFIX]
#
# Starts a NameServer and, under `valgrind --tool=callgrind --instr-atstart=no`, a Broker from
# BIN_DIR on loopback ports NS_PORT / BROKER_PORT (default 35876 / 36911) with a temp store;
# sends for 3 s to create the topic and warm up, then switches instrumentation on, sends
# `rmq-loadgen send -c 4 -w 64 -s SIZE -d 8` (SIZE default 128), dumps the counts and prints
# instructions / acknowledged messages. The broker runs some 50 times slower under valgrind, so
# it sees deep queues (batched reads and writes) as under full load. Kernel work is not counted.
# The per-message figure moves by about ±1 % between runs (timers and the flusher are spread
# over a different number of messages); compare builds by more than that.
# RATE=N sends at N msg/s instead (open loop): with a rate well below what the broker reaches
# under valgrind, each request arrives alone, as at W3, and the figure is the unbatched cost.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 1 ]] || { sed -n '2,16p' "$0"; exit 2; }
BIN_DIR=$1; SIZE=${2:-128}; OUT=${3:-/tmp/ferric-callgrind}
LOADGEN=${LOADGEN:-/work/rmq-loadgen-build/target/release/rmq-loadgen}
NS_PORT=${NS_PORT:-35876}; BROKER_PORT=${BROKER_PORT:-36911}; NAMESRV_ADDR=127.0.0.1:$NS_PORT
BROKER_CPU=${BROKER_CPU:-1}; LOAD_CPU=${LOAD_CPU:-0}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
# shellcheck source=bench/cluster.sh
source "$ROOT/bench/cluster.sh"
write_confs ASYNC_FLUSH
HOME="$WORK/home" "$BIN_DIR/mqnamesrv" -c "$WORK/namesrv.conf" > "$WORK/namesrv.out" 2>&1 &
NS_PID=$!
wait_port "$NS_PORT"
HOME="$WORK/home" valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$OUT.%p" "$BIN_DIR/mqbroker" -n "$NAMESRV_ADDR" \
    -c "$WORK/broker.conf" > "$WORK/broker.out" 2>&1 &
BROKER_PID=$!
wait_port "$BROKER_PORT"
sleep 2
load "$LOADGEN" send --topic "CG$SIZE" -c 4 -w 64 -s "$SIZE" -d 3 --warmup 0 \
    --namesrv "$NAMESRV_ADDR" --json > "$WORK/warm.json"
callgrind_control -i on "$BROKER_PID" > /dev/null
load "$LOADGEN" send --topic "CG$SIZE" --queues 0 -c 4 -w 64 -s "$SIZE" -d 8 --warmup 0 \
    ${RATE:+--rate "$RATE"} --namesrv "$NAMESRV_ADDR" --json > "$WORK/run.json"
callgrind_control -d "$BROKER_PID" > /dev/null
callgrind_control -i off "$BROKER_PID" > /dev/null
messages=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ok_total'])" "$WORK/run.json")
dump="$OUT.$BROKER_PID.1"
instructions=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
stop_cluster
echo "$BIN_DIR size=$SIZE rate=${RATE:-max} messages=$messages instructions=$instructions per_message=$((instructions / messages)) profile=$dump"
