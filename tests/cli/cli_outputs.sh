# Outputs: written whole, valid, deterministic; nothing on failure.
. "$(dirname "$0")/lib.sh"

run() { "$VNETSIM" run --quiet --duration 20ms --items 20000 "$@"; }

expect_exit 0 "run with all outputs" -- run --probe net_rx_action --probe vns_demo_write \
    --stacks "$WORK/a.stacks" --folded "$WORK/a.folded" --stats-json "$WORK/a.json"
expect_grep "$WORK/a.stacks" "^\[0\] net_rx_action$" "stacks in seed format"
expect_grep "$WORK/a.stacks" "^\[0\] native_safe_halt$" "idle stack under the irq"
expect_grep "$WORK/a.folded" "secondary_startup_64;.*;net_rx_action [0-9]" "folded with counts"
expect_grep "$WORK/a.json" '"fingerprint": "0x' "stats json has the fingerprint"
if command -v python3 >/dev/null 2>&1; then
    expect_exit 0 "stats json parses" -- python3 -c "import json,sys; d=json.load(open('$WORK/a.json')); assert d['demo']['completed'] == 20000"
fi
expect_exit 0 "timeline" -- run --duration 2ms --timeline "$WORK/a.trace.json"
expect_grep "$WORK/a.trace.json" '"ph": "X"' "timeline has complete events"
expect_grep "$WORK/a.trace.json" '{"name": "demo", "cat": "event", "ph": "i"' "interrupts as instant events"
expect_grep "$WORK/a.trace.json" '{"name": "vmexit", "cat": "event", "ph": "i"' "VM exits as instant events"
if command -v python3 >/dev/null 2>&1; then
    expect_exit 0 "timeline parses" -- python3 -c "import json; d=json.load(open('$WORK/a.trace.json')); assert len(d['traceEvents']) > 100"
fi
# Time series: a CSV, sampled without changing the run; a chart from it.
expect_exit 0 "series" -- run --duration 5ms --series "$WORK/a.csv" --series-interval 500us
expect_grep "$WORK/a.csv" "^time_s,host/cpu0.util,host/cpu1.util,vm1/cpu0.util,demo.items_per_s" "series header"
expect_exit 0 "series rows" -- test "$(wc -l < "$WORK/a.csv")" -eq 11
if command -v gnuplot >/dev/null 2>&1; then
    expect_exit 0 "plot" -- "$SRC/scripts/vnetsim-plot" "$WORK/a.csv" "$WORK/a.png" 'util$'
    expect_exit 0 "png written" -- test -s "$WORK/a.png"
    expect_exit 1 "plot: no such column" -- "$SRC/scripts/vnetsim-plot" "$WORK/a.csv" "$WORK/b.png" 'nothing'
else
    echo "NOTICE: gnuplot not installed; plot checks skipped (scripts/install-deps installs it)"
fi
# Same seed, same bytes; another seed, another fingerprint.
expect_exit 0 "second run" -- run --probe net_rx_action --probe vns_demo_write \
    --stacks "$WORK/b.stacks" --folded "$WORK/b.folded"
expect_exit 0 "stacks identical" -- cmp "$WORK/a.stacks" "$WORK/b.stacks"
expect_exit 0 "folded identical" -- cmp "$WORK/a.folded" "$WORK/b.folded"
"$VNETSIM" run --duration 20ms --items 20000 --seed 1 | grep fingerprint >"$WORK/fp1"
"$VNETSIM" run --duration 20ms --items 20000 --seed 1 | grep fingerprint >"$WORK/fp1b"
"$VNETSIM" run --duration 20ms --items 20000 --seed 1 --set cost.do_IRQ=500 | grep fingerprint >"$WORK/fp2"
expect_exit 0 "fingerprint stable" -- cmp "$WORK/fp1" "$WORK/fp1b"
expect_exit 1 "cost change changes fingerprint" -- cmp -s "$WORK/fp1" "$WORK/fp2"
# An output that cannot be written: exit 1, no partial file, no temp file.
expect_exit 1 "unwritable output" -- run --stats-json "$WORK/no/such/dir/x.json"
expect_grep "$WORK/err" "x.json" "names the file"
expect_exit 1 "nothing left behind" -- sh -c "ls '$WORK/no/such/dir' 2>/dev/null | grep -q ."
# A default run is the built-in default scenario (examples/scenarios/default.yaml).
expect_exit 0 "default run" -- "$VNETSIM" run --duration 20ms
expect_grep "$WORK/out" "default scenario (examples/scenarios/default.yaml)" "names the default scenario"
expect_grep "$WORK/out" "^0   tcp_stream vm1 -> host" "a row per workload"
expect_grep "$WORK/out" "kicks/packet" "summary has kicks per packet"
expect_grep "$WORK/out" "^ledger: balanced" "the books balance"
expect_grep "$WORK/out" "^fingerprint: 0x" "summary has the fingerprint"
expect_exit 0 "the built-in text is the file" -- sh -c "'$VNETSIM' run --duration 20ms | grep fingerprint > '$WORK/fpd'; '$VNETSIM' run '$SRC/examples/scenarios/default.yaml' --duration 20ms | grep fingerprint | cmp - '$WORK/fpd'"
# --demo: the engine demo and its summary.
expect_exit 0 "demo run" -- "$VNETSIM" run --demo --duration 5ms
expect_grep "$WORK/out" "engine demo" "names the demo"
expect_grep "$WORK/out" "kicks (VM exits)" "demo summary has kicks"
finish
