# The packet ledger: every example scenario ends with balanced books in
# the stats JSON; a packet held by nothing (the test hook
# VNETSIM_TEST_LEAK=<machine>, or <machine>:<device> for a frame in a
# device's hands, or flow:<n> for a packet of flow book n that no skb
# holds) is reported and the run exits 1.
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
expect_grep "$WORK/out" "^device books: balanced; 3 devices, " "the summary has the device books' line"
expect_grep "$WORK/out" "^flow books: balanced; 2 flows in 2 directions, [1-9][0-9]* segments sent" \
    "the summary has the flow books' line"
expect_exit 1 "a leak fails the run" -- env VNETSIM_TEST_LEAK=vm1 "$VNETSIM" run "$S" --quiet --duration 5ms \
    --stats-json "$WORK/leak.json"
expect_grep "$WORK/err" "ledger of vm1 does not balance: .* 1 of those in flight were held by nothing (leaked)" \
    "the machine and the leak are named"
expect_grep "$WORK/err" "the packet ledger does not balance" "the verdict"
expect_grep "$WORK/leak.json" '"leaked": 1' "the stats JSON carries it"
expect_exit 1 "a packet a flow lost track of fails the run" -- env VNETSIM_TEST_LEAK=flow:0 \
    "$VNETSIM" run "$S" --quiet --duration 5ms --stats-json "$WORK/flowleak.json"
expect_grep "$WORK/err" "flow books of workload 0 tcp_stream vm1 -> host (vm1 -> host) do not balance: .* 1 segments (100 bytes) still held after the drain" \
    "the flow, its direction and the packet are named"
expect_grep "$WORK/err" "the packet ledger does not balance" "the flow's verdict"
if command -v python3 >/dev/null 2>&1; then
    expect_exit 0 "the stats JSON carries the flow's books" -- python3 - "$WORK/flowleak.json" <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))['ledger']
f = l['flows']
assert not l['balanced'] and not f[0]['balanced'] and f[1]['balanced']
b = f[0]['books'][0]
assert b['direction'] == 'vm1 -> host' and b['leaked'] == 1 and not b['balanced']
assert all(m['balanced'] for m in l['machines'])
PY
fi
expect_exit 1 "a frame a device lost track of fails the run" -- env VNETSIM_TEST_LEAK=host:tap0 \
    "$VNETSIM" run "$S" --quiet --duration 5ms --stats-json "$WORK/devleak.json"
expect_grep "$WORK/err" "device books of host tap0 (tun) do not balance: .* 1 frames (60 bytes) still held after the drain" \
    "the device and its frame are named"
if command -v python3 >/dev/null 2>&1; then
    expect_exit 0 "the stats JSON carries the device's books" -- python3 - "$WORK/devleak.json" <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))['ledger']
d = {(x['machine'], x['name']): x for x in l['devices']}
assert not l['balanced']
assert d[('host', 'tap0')]['leaked'] == 1 and not d[('host', 'tap0')]['balanced']
assert d[('host', 'tap0')]['kind'] == 'tun'
assert all(x['balanced'] for k, x in d.items() if k != ('host', 'tap0'))
PY
fi
# A qdisc that fills (a 100 Mbit/s wire, txqueuelen 4, 16 UDP flows): the
# drops are QDISC_DROP at the host's eth0, and every book balances.
cat >"$WORK/qdisc.yaml" <<'EOF'
duration: 20ms
host:
  cpus: 2
  devices:
    - {name: eth0, type: wire, peer: r1, rate: 100Mbit, addr: 10.1.0.1/24, txqueuelen: 4}
remotes:
  - {name: r1, cpus: 1, addr: 10.1.0.2/24}
workloads:
  - {type: udp_stream, from: host, to: r1, flows: 16}
EOF
expect_exit 0 "a full qdisc balances" -- "$VNETSIM" run "$WORK/qdisc.yaml" --stats-json "$WORK/qdisc.json"
expect_grep "$WORK/out" "^device books: balanced; 2 devices, .* [1-9][0-9]* dropped" "the summary counts the drops"
if command -v python3 >/dev/null 2>&1; then
    expect_exit 0 "the drops are the qdisc's, at eth0" -- python3 - "$WORK/qdisc.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
l = d['ledger']
dev = {(x['machine'], x['name']): x for x in l['devices']}
host = [m for m in d['machines'] if m['name'] == 'host'][0]
q = host['drops']['QDISC_DROP']
assert q > 100, q
assert dev[('host', 'eth0')]['drops'] == {'QDISC_DROP': q}, dev[('host', 'eth0')]['drops']
assert dev[('r1', 'eth0')]['dropped'] == 0
for x in l['devices']:
    assert x['in'] + x['created'] == x['out'] + x['consumed'] + x['merged'] + x['dropped'] + x['freed_by_hardware'] + x['held']
    assert x['in_bytes'] + x['created_bytes'] == x['out_bytes'] + x['consumed_bytes'] + x['merged_bytes'] + x['dropped_bytes'] + x['freed_by_hardware_bytes'] + x['held_bytes']
assert l['balanced'] and all(x['balanced'] for x in l['devices'])
# the flow books: every qdisc drop was a datagram of the UDP flows
f = l['flows'][0]
b = f['books'][0]
assert b['direction'] == 'host -> r1' and b['balanced']
assert b['drops'] == {'QDISC_DROP': q}, b['drops']
assert b['sent'] == f['packets_sent'] and b['sent_bytes'] == f['sent_bytes']
assert b['sent'] == b['delivered'] + b['dropped'] + b['lost'] + b['freed_by_hardware'] + b['consumed'] + b['in_flight'] + b['between_machines']
PY
fi
finish
