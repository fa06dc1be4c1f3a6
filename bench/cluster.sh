# Shared by bench/run.sh and bench/ab.sh (sourced, not run): start and stop a NameServer and
# a Broker from $BIN_DIR on loopback ports $NS_PORT / $BROKER_PORT with a temp store, both
# pinned to CPU $BROKER_CPU; `load` runs a command on CPU $LOAD_CPU. The caller sets those
# variables and NAMESRV_ADDR; stop_cluster runs on exit.
NS_PID=""
BROKER_PID=""
WORK=""

stop_cluster() {
    for pid in $BROKER_PID $NS_PID; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $BROKER_PID $NS_PID; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    NS_PID=""; BROKER_PID=""
    [[ -n "$WORK" ]] && rm -rf "$WORK"
    WORK=""
}
trap stop_cluster EXIT INT TERM

wait_port() {
    local port=$1 deadline=$((SECONDS + 60))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        [[ $SECONDS -lt $deadline ]] || { echo "port $port never opened" >&2; return 1; }
        sleep 0.02
    done
}

# write_confs FLUSH: a fresh temp dir with namesrv.conf and broker.conf.
write_confs() {
    WORK=$(mktemp -d /tmp/ferric-bench-XXXXXX)
    mkdir -p "$WORK/home" "$WORK/store"
    echo "listenPort=$NS_PORT" > "$WORK/namesrv.conf"
    cat > "$WORK/broker.conf" <<EOF
brokerClusterName=BenchCluster
brokerName=broker-bench
brokerId=0
listenPort=$BROKER_PORT
brokerIP1=127.0.0.1
storePathRootDir=$WORK/store
storePathCommitLog=$WORK/store/commitlog
flushDiskType=$1
autoCreateTopicEnable=true
EOF
}

# start_cluster FLUSH
start_cluster() {
    write_confs "$1"
    HOME="$WORK/home" taskset -c "$BROKER_CPU" "$BIN_DIR/mqnamesrv" -c "$WORK/namesrv.conf" \
        > "$WORK/namesrv.out" 2>&1 &
    NS_PID=$!
    wait_port "$NS_PORT"
    HOME="$WORK/home" taskset -c "$BROKER_CPU" "$BIN_DIR/mqbroker" -n "$NAMESRV_ADDR" \
        -c "$WORK/broker.conf" > "$WORK/broker.out" 2>&1 &
    BROKER_PID=$!
    wait_port "$BROKER_PORT"
    # Registration with the NameServer follows the listen; give it a moment.
    sleep 1
}

load() { taskset -c "$LOAD_CPU" "$@"; }
