# SIGINT and SIGTERM sent from outside stop a scenario run at an event
# boundary; every output is still written, whole, for the time simulated so
# far and marked partial; exit 130 (SIGINT) or 143 (SIGTERM).
. "$(dirname "$0")/lib.sh"

S="$SRC/examples/scenarios/tap-bridge.yaml"

# stop_with SIG WHAT: signal the background job $pid after a moment; its
# exit must be 128 + the signal's number.
stop_with() {
    sleep 1
    kill -$1 $pid
    wait $pid
    rc=$?
    want=130; [ $1 = TERM ] && want=143
    if [ $rc -eq $want ]; then passes=$((passes + 1)); else echo "FAIL: $2: exit $rc, expected $want"; fails=$((fails + 1)); fi
}

for sig in INT TERM; do
    # Paced at real time, the run would last 100 s: signal it after a moment.
    "$VNETSIM" run "$S" --quiet --duration 100s --pace 1 --stats-json "$WORK/$sig.json" \
        --series "$WORK/$sig.csv" --pcap "$WORK" 2>"$WORK/$sig.err" &
    pid=$!
    stop_with $sig "SIG$sig"
    expect_grep "$WORK/$sig.json" '"partial": true' "SIG$sig: stats marked partial"
    expect_grep "$WORK/$sig.json" "\"stop_reason\": \"SIG$sig\"" "SIG$sig: stop reason"
    expect_grep "$WORK/$sig.err" "interrupted by SIG$sig at" "SIG$sig: said on stderr"
    expect_grep "$WORK/$sig.csv" "^time_s," "SIG$sig: series written"
    expect_exit 0 "SIG$sig: captures written" -- test -s "$WORK/host-tap0.pcap"
    if command -v python3 >/dev/null 2>&1; then
        expect_exit 0 "SIG$sig: stats parse, time simulated is short of the duration" -- python3 -c "
import json; d = json.load(open('$WORK/$sig.json')); assert 0 < d['sim_time_ns'] < 100e9"
    fi
    expect_exit 1 "SIG$sig: no temporary file left" -- sh -c "ls '$WORK' | grep -q '\.tmp'"
done
# A sweep: the running points stop and write their stats marked partial,
# the others are not run, the CSV says so for each; exit 130 / 143.
for sig in INT TERM; do
    mkdir -p "$WORK/sweep-$sig"
    "$VNETSIM" sweep "$S" --set duration=100s --set seed=1,2,3,4 --jobs 2 --out "$WORK/sweep-$sig" \
        >/dev/null 2>"$WORK/sweep-$sig.err" &
    pid=$!
    stop_with $sig "sweep SIG$sig"
    expect_grep "$WORK/sweep-$sig/sweep.csv" "^0,\"1\",error,.*\"interrupted by SIG$sig; stats partial\"" "sweep SIG$sig: running point partial"
    expect_grep "$WORK/sweep-$sig/sweep.csv" "^3,\"4\",error,.*\"not run: interrupted by SIG$sig\"" "sweep SIG$sig: later point not run"
    expect_grep "$WORK/sweep-$sig/point-0.json" "\"stop_reason\": \"SIG$sig\"" "sweep SIG$sig: point stats marked"
    expect_exit 1 "sweep SIG$sig: no temporary file left" -- sh -c "ls '$WORK/sweep-$sig' | grep -q '\.tmp'"
done
finish
