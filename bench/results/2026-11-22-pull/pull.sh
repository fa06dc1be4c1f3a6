#!/usr/bin/env bash
# pull.sh OUTROOT RUNS SENDDUR VARIANT... : backlog send then catch-up pull, variants interleaved.
set -euo pipefail
OUTROOT=$1; RUNS=$2; SD=$3; shift 3
LOADGEN=/work/rmq-loadgen-build/target/release/rmq-loadgen
NS_PORT=39876; BROKER_PORT=40911; NAMESRV_ADDR=127.0.0.1:$NS_PORT
NS_PID=""; BROKER_PID=""; WORK=""
stop_cluster() {
  for pid in $BROKER_PID $NS_PID; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $BROKER_PID $NS_PID; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  done
  NS_PID=""; BROKER_PID=""; [[ -n "$WORK" ]] && rm -rf "$WORK"; WORK=""
}
trap stop_cluster EXIT INT TERM
wait_port() { local d=$((SECONDS+60)); until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do [[ $SECONDS -lt $d ]] || return 1; sleep 0.02; done; }
start_cluster() {
  BIN=$1
  WORK=$(mktemp -d /tmp/ferric-h2bench-XXXXXX); mkdir -p "$WORK/home" "$WORK/store"
  echo "listenPort=$NS_PORT" > "$WORK/namesrv.conf"
  cat > "$WORK/broker.conf" <<EOC
brokerClusterName=BenchCluster
brokerName=broker-bench
brokerId=0
listenPort=$BROKER_PORT
brokerIP1=127.0.0.1
storePathRootDir=$WORK/store
storePathCommitLog=$WORK/store/commitlog
flushDiskType=$2
autoCreateTopicEnable=true
EOC
  HOME="$WORK/home" taskset -c 1 "$BIN/mqnamesrv" -c "$WORK/namesrv.conf" > "$WORK/ns.out" 2>&1 & NS_PID=$!
  wait_port $NS_PORT
  HOME="$WORK/home" taskset -c 1 "$BIN/mqbroker" -n "$NAMESRV_ADDR" -c "$WORK/broker.conf" > "$WORK/broker.out" 2>&1 & BROKER_PID=$!
  wait_port $BROKER_PORT; sleep 1
}
lg() { local out=$1; shift; taskset -c 0 "$LOADGEN" "$@" --namesrv "$NAMESRV_ADDR" --json >> "$out"; }
for run in $(seq 1 "$RUNS"); do
  for v in "$@"; do
    O=$OUTROOT/$v; mkdir -p "$O"
    echo "== run $run $v $(uptime)" | tee -a "$O/uptime.txt" >&2
    start_cluster /tmp/fb/$v ASYNC_FLUSH
    lg "$O/send.json" send --topic W2L1024 -c 4 -w 64 -s 1024 -d $SD --warmup 2 --watch-pid "$BROKER_PID"
    if [[ -n "${PERF:-}" ]]; then
      perf record -e cpu-clock --call-graph dwarf,16384 -F 2000 -o "$O/perf-$run.data" -p "$BROKER_PID" -- sleep ${PERF} 2>/dev/null &
      PP=$!; sleep 0.3
    fi
    lg "$O/pull.json" pull --topic W2L1024 --watch-pid "$BROKER_PID"
    [[ -n "${PERF:-}" ]] && wait $PP || true
    stop_cluster
  done
done
