# vnetsim bench: options checked, every row of a group printed with a value.
# Speed is never judged here (figures, not verdicts): the rows must exist
# and carry numbers, whatever the machine.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "bench --help" -- "$VNETSIM" bench --help
expect_grep "$WORK/out" "--scale-max N" "help lists options"
expect_exit 2 "unknown group" -- "$VNETSIM" bench --only engine,warp
expect_grep "$WORK/err" "unknown group 'warp'" "names the group"
expect_exit 2 "bad scale" -- "$VNETSIM" bench --scale-max 0
expect_exit 2 "unknown option" -- "$VNETSIM" bench --fast
expect_exit 0 "virtq group" -- "$VNETSIM" bench --quick --only virtq
expect_grep "$WORK/out" "^virtq  *round trips/s, split 1 desc  *[0-9.]* [kMG]* *trips/s" "split row has a figure"
expect_grep "$WORK/out" "^virtq  *round trips/s, packed 3 sg indirect, event_idx  *[0-9]" "packed indirect row"
if grep -q "n/a" "$WORK/out"; then echo "FAIL: a virtq row was not measured"; fails=$((fails + 1)); fi
expect_exit 0 "scale, 1 guest" -- "$VNETSIM" bench --quick --only scale --scale-max 1
expect_grep "$WORK/out" "^scale  *1 guest TCP_RR: transactions  *[0-9]" "the child ran TCP_RR"
expect_grep "$WORK/out" "^scale  *1 guest TCP_RR: peak RSS  *[0-9]" "the child reported its RSS"
finish
