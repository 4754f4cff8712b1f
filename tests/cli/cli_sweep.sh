# vnetsim sweep: the cartesian product in parallel, per-point stats and a
# combined CSV, shards that add up to the whole, the same bytes whatever
# the number of threads, failed points reported.
. "$(dirname "$0")/lib.sh"

S="$SRC/examples/scenarios/host-remote.yaml"
mkdir -p "$WORK/all" "$WORK/one" "$WORK/shards" "$WORK/bad"
expect_exit 0 "sweep 3x2 on 3 threads" -- "$VNETSIM" sweep "$S" --set seed=1,2,3 --set 'host.devices[1].rate=1Gbit,10Gbit' --set duration=2ms --out "$WORK/all" --jobs 3
expect_grep "$WORK/all/sweep.csv" '^point,"seed","host.devices\[1\].rate",status,fingerprint' "csv header"
expect_exit 0 "six rows" -- test "$(grep -c ',ok,' "$WORK/all/sweep.csv")" -eq 6
expect_grep "$WORK/all/sweep.csv" '^5,"3","10Gbit",ok,0x' "last point"
expect_exit 0 "one thread" -- "$VNETSIM" sweep "$S" --set seed=1,2,3 --set 'host.devices[1].rate=1Gbit,10Gbit' --set duration=2ms --out "$WORK/one" --jobs 1
for i in 0 1 2 3 4 5; do
    expect_exit 0 "point $i identical on 1 and 3 threads" -- cmp "$WORK/all/point-$i.json" "$WORK/one/point-$i.json"
done
expect_exit 0 "shard 1/2" -- "$VNETSIM" sweep "$S" --set seed=1,2,3 --set 'host.devices[1].rate=1Gbit,10Gbit' --set duration=2ms --out "$WORK/shards" --shard 1/2
expect_exit 0 "shard 2/2" -- "$VNETSIM" sweep "$S" --set seed=1,2,3 --set 'host.devices[1].rate=1Gbit,10Gbit' --set duration=2ms --out "$WORK/shards" --shard 2/2
expect_exit 0 "shards add up to the whole" -- test "$(cat "$WORK"/shards/sweep-shard-*.csv | grep -c ',ok,')" -eq 6
for i in 0 1 2 3 4 5; do
    expect_exit 0 "shard point $i identical" -- cmp "$WORK/all/point-$i.json" "$WORK/shards/point-$i.json"
done
expect_exit 1 "a point that fails" -- "$VNETSIM" sweep "$S" --set 'host.devices[1].rate=1Gbit,fast' --set duration=1ms --out "$WORK/bad"
expect_grep "$WORK/bad/sweep.csv" '^1,"fast",error,' "failed point in the csv"
expect_grep "$WORK/err" "point 1: --set: error: host.devices\[1\].rate: expected a rate" "says why"
expect_exit 2 "no values" -- "$VNETSIM" sweep "$S" --out "$WORK/bad"
expect_exit 2 "bad shard" -- "$VNETSIM" sweep "$S" --set seed=1,2 --shard 3/2
expect_exit 2 "bad jobs" -- "$VNETSIM" sweep "$S" --set seed=1,2 --jobs 0
expect_exit 2 "invalid base" -- "$VNETSIM" sweep "$S" --set seed=1,2 --set nope=3
expect_exit 0 "help" -- "$VNETSIM" sweep --help
# each workload's figures per point, and a chart of them against the swept key
rm -rf "$WORK/ring"   # sweep makes its --out folder
expect_exit 0 "ring-size sweep" -- "$VNETSIM" sweep "$SRC/examples/scenarios/ring-sweep.yaml" --set 'guests[0].nic.ring_size=64,1024' --set duration=3ms --out "$WORK/ring"
expect_grep "$WORK/ring/sweep.csv" ',error,w0_throughput_bps,w0_packets_per_s,w0_lost,w0_transactions_per_s,w0_latency_p99_ns,w1_throughput_bps,' "workload columns"
expect_grep "$WORK/ring/sweep.csv" '^0,"64",ok,0x[0-9a-f]*,[0-9]*,0.003000000,[0-9.]*,"",[0-9.]*,[0-9.]*,[0-9]*,[0-9.]*,[0-9]*,[1-9][0-9]*,' "a point's udp_stream throughput"
if command -v gnuplot >/dev/null 2>&1; then
    expect_exit 0 "plot a sweep" -- sh "$SRC/scripts/vnetsim-plot" "$WORK/ring/sweep.csv" "$WORK/ring/loss.svg" 'w1_lost'
    expect_grep "$WORK/ring/loss.svg" "w1_lost" "chart drawn"
fi
finish
