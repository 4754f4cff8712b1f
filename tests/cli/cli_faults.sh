# examples/scenarios/faults.yaml: every kind of fault in one run, through
# the command line. What a user must see: the faulty queue (vm1 tx0)
# broken and no other, the refill work of vm2 at work, the flood dropped
# at the host, the flap on the wire, every byte verified, the books
# balanced; `vnetsim check` lists the faults; bad fault keys are errors.
. "$(dirname "$0")/lib.sh"

S="$SRC/examples/scenarios/faults.yaml"
expect_exit 0 "check" -- "$VNETSIM" check "$S"
expect_grep "$WORK/out" "fault hostile on vm1 tx0 desc_loop at 800.000ms" "check lists the hostile write"
expect_grep "$WORK/out" "fault cpu_hog on host CPU 2 at 300.000ms for 100.000ms" "check lists the busy CPU"
expect_exit 0 "run" -- "$VNETSIM" run "$S" --quiet --stats-json "$WORK/f.json"
if command -v python3 >/dev/null 2>&1; then
    expect_exit 0 "what the user sees" -- python3 - "$WORK/f.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = {x['name']: x for x in d['machines']}
q = lambda g: m[g]['virtio_net']['queues'][0]
assert q('vm1')['tx']['vhost']['ring_errors'] > 0, 'vm1 tx0 not broken'
assert q('vm1')['rx']['vhost']['ring_errors'] == 0
for d2 in ('tx', 'rx'):
    assert q('vm2')[d2]['vhost']['ring_errors'] == 0 and q('vm2')[d2]['vhost']['format_errors'] == 0
assert q('vm2')['rx']['refill_fail'] > 0 and q('vm2')['rx']['refill_work'] > 0
assert m['host']['drops'].get('UNHANDLED_PROTO', 0) > 0, 'flood not dropped at the host'
assert any(w['link_down'] > 0 for w in d['wires']), 'no flap on the wire'
assert d['ledger']['balanced'] and d['ledger']['audited']
assert all(f['payload_mismatches'] == 0 for f in d['ledger']['flows'])
assert all(w['bytes'] > 0 for w in d['workloads'])
PY
fi
expect_exit 2 "a fault on a queue the guest lacks" -- "$VNETSIM" check "$S" --set 'faults[5].queue=tx1'
expect_grep "$WORK/err" "faults\[5\].queue: guest 'vm1' has 1 queue pair" "named with its key path"
expect_exit 2 "an unknown fault key" -- "$VNETSIM" check "$S" --set 'faults[0].durtion=1ms'
expect_grep "$WORK/err" "did you mean 'duration'" "closest key suggested"
finish
