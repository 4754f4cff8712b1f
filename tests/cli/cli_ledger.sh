# The packet ledger: every example scenario ends with balanced books in
# the stats JSON; a packet held by nothing (the test hook
# VNETSIM_TEST_LEAK=<machine>) is reported and the run exits 1.
. "$(dirname "$0")/lib.sh"

for s in "$SRC"/examples/scenarios/*.yaml; do
    n=$(basename "$s" .yaml)
    "$VNETSIM" run "$s" --quiet --duration 20ms --stats-json "$WORK/$n.json" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "not built yet" "$WORK/err"; then
        echo "NOTICE: $n: $(cat "$WORK/err"); skipped"; continue
    fi
    expect_exit 0 "$n: runs" -- test $rc -eq 0
    expect_grep "$WORK/$n.json" '"audited": true' "$n: ledger audited"
    if grep -q '"balanced": false' "$WORK/$n.json"; then
        echo "FAIL: $n: a ledger does not balance"; fails=$((fails + 1))
    else
        passes=$((passes + 1))
    fi
done
S="$SRC/examples/scenarios/tap-bridge.yaml"
expect_exit 0 "summary" -- "$VNETSIM" run "$S" --duration 5ms
expect_grep "$WORK/out" "^ledger: balanced; [0-9]* skbs created on 2 machines" "the summary has the ledger's line"
expect_exit 1 "a leak fails the run" -- env VNETSIM_TEST_LEAK=vm1 "$VNETSIM" run "$S" --quiet --duration 5ms \
    --stats-json "$WORK/leak.json"
expect_grep "$WORK/err" "ledger of vm1 does not balance: .* 1 of those in flight were held by nothing (leaked)" \
    "the machine and the leak are named"
expect_grep "$WORK/err" "the packet ledger does not balance" "the verdict"
expect_grep "$WORK/leak.json" '"leaked": 1' "the stats JSON carries it"
finish
