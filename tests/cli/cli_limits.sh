# Resource limits: a run that reaches max_events, max_time or max_memory
# stops at an event boundary, says which limit, writes complete outputs
# marked partial and exits 1.
. "$(dirname "$0")/lib.sh"

S="$SRC/examples/scenarios/tap-bridge.yaml"
run() { "$VNETSIM" run "$S" --quiet --duration 50ms "$@"; }

expect_exit 1 "max_events" -- run --set 'limits={max_events: 20000}' --stats-json "$WORK/e.json"
expect_grep "$WORK/err" "stopped: limit reached: max_events (20000 events)" "max_events said"
expect_grep "$WORK/e.json" '"events": 20000,' "stopped at exactly the 20000th event"
expect_grep "$WORK/e.json" '"stop_reason": "max_events"' "max_events in the stats"
expect_grep "$WORK/e.json" '"partial": true' "partial"
expect_exit 1 "max_time" -- run --set 'limits={max_time: 2ms}' --stats-json "$WORK/t.json"
expect_grep "$WORK/t.json" '"sim_time_ns": 2000000,' "stopped at 2 ms"
expect_grep "$WORK/t.json" '"stop_reason": "max_time"' "max_time in the stats"
expect_exit 1 "max_memory" -- run --set 'limits={max_memory: 1MiB}' --stats-json "$WORK/m.json"
expect_grep "$WORK/err" "stopped: limit reached: max_memory" "max_memory said"
expect_grep "$WORK/m.json" '"stop_reason": "max_memory"' "max_memory in the stats"
# Limits not reached: a whole run, exit 0.
expect_exit 0 "limits not reached" -- run --set 'limits={max_events: 100000000, max_time: 1s, max_memory: 4GiB}' \
    --stats-json "$WORK/ok.json"
expect_grep "$WORK/ok.json" '"partial": false' "not partial"
# Bad limits are scenario errors (exit 2) naming the key.
expect_exit 2 "bad limit" -- run --set 'limits={max_events: lots}'
expect_grep "$WORK/err" "limits.max_events" "the key is named"
# In a sweep a limit fails its point (the row says which), the point's
# stats are written and marked partial; the ledger is in every point.
mkdir -p "$WORK/sw"
expect_exit 1 "sweep with limits" -- "$VNETSIM" sweep "$S" --set duration=5ms \
    --set 'limits={max_events: 1000},{max_time: 1ms},{}' --out "$WORK/sw"
expect_grep "$WORK/sw/sweep.csv" '^0,.*,error,.*"limit reached: max_events; stats partial"' "max_events row"
expect_grep "$WORK/sw/sweep.csv" '^1,.*,error,.*"limit reached: max_time; stats partial"' "max_time row"
expect_grep "$WORK/sw/sweep.csv" '^2,"{}",ok,' "unlimited row"
expect_grep "$WORK/sw/point-0.json" '"stop_reason": "max_events"' "point marked partial"
expect_grep "$WORK/sw/point-2.json" '"audited": true' "point has the ledger"
finish
