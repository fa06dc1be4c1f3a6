#!/usr/bin/env bash
# prof.sh BIN SIZE OUT [FLUSH] : start cluster, run W2 with perf on broker
set -euo pipefail
BIN=$1; SIZE=$2; OUT=$3; FLUSH=${4:-ASYNC_FLUSH}
LOADGEN=/work/rmq-loadgen-build/target/release/rmq-loadgen
NS_PORT=49876; BROKER_PORT=50911; NAMESRV_ADDR=127.0.0.1:$NS_PORT
WORK=$(mktemp -d /tmp/ferric-prof-XXXXXX); mkdir -p "$WORK/home" "$WORK/store"
echo "listenPort=$NS_PORT" > "$WORK/namesrv.conf"
cat > "$WORK/broker.conf" <<EOC
brokerClusterName=BenchCluster
brokerName=broker-bench
brokerId=0
listenPort=$BROKER_PORT
brokerIP1=127.0.0.1
storePathRootDir=$WORK/store
storePathCommitLog=$WORK/store/commitlog
flushDiskType=$FLUSH
autoCreateTopicEnable=true
EOC
wait_port() { local d=$((SECONDS+60)); until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do [[ $SECONDS -lt $d ]] || return 1; sleep 0.02; done; }
HOME="$WORK/home" taskset -c 1 "$BIN/mqnamesrv" -c "$WORK/namesrv.conf" > "$WORK/ns.out" 2>&1 & NS_PID=$!
wait_port $NS_PORT
HOME="$WORK/home" taskset -c 1 "$BIN/mqbroker" -n "$NAMESRV_ADDR" -c "$WORK/broker.conf" > "$WORK/broker.out" 2>&1 & BROKER_PID=$!
wait_port $BROKER_PORT; sleep 1
taskset -c 0 $LOADGEN send --topic W2L$SIZE -c 4 -w 16 -s $SIZE -d 8 --warmup 2 --namesrv $NAMESRV_ADDR --watch-pid $BROKER_PID --json > $OUT.json &
LG=$!
sleep 4
perf record -e sched:sched_switch -g -p $BROKER_PID -o $OUT.data -- sleep 2 2>/dev/null >/dev/null
wait $LG
kill $BROKER_PID $NS_PID; wait 2>/dev/null; rm -rf $WORK
python3 -c "import json;d=json.load(open('$OUT.json'));print({k:d[k] for k in d if not isinstance(d[k],(dict,list))})" 2>/dev/null || cat $OUT.json
