# SIGINT: the run stops at an event boundary, still writes its outputs,
# and exits 130.
. "$(dirname "$0")/lib.sh"

# A paced run would last 100 s; interrupt it after a moment.
"$VNETSIM" run --quiet --duration 100s --pace 1 --stats-json "$WORK/int.json" &
pid=$!
sleep 1
kill -INT $pid
wait $pid
rc=$?
if [ $rc -eq 130 ]; then passes=$((passes + 1)); else echo "FAIL: exit $rc, expected 130"; fails=$((fails + 1)); fi
expect_grep "$WORK/int.json" '"interrupted": true' "outputs written after SIGINT"
finish
