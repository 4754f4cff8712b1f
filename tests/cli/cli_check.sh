# vnetsim check: valid scenarios print their topology; invalid ones give
# file:line:col, the key path and the expected form, with exit status 2.
. "$(dirname "$0")/lib.sh"

for f in "$SRC"/examples/scenarios/*.yaml; do
    expect_exit 0 "check $(basename "$f")" -- "$VNETSIM" check "$f"
done
expect_grep "$WORK/out" "^ok$" "check says ok"
expect_exit 0 "check with --set" -- "$VNETSIM" check "$SRC/examples/scenarios/tap-bridge.yaml" --set guests[0].nic.ring_size=1024
expect_grep "$WORK/out" "split ring of 1024" "override applied"
expect_exit 2 "bad --set value" -- "$VNETSIM" check "$SRC/examples/scenarios/tap-bridge.yaml" --set guests[0].nic.ring_size=100
expect_grep "$WORK/err" "guests\[0\].nic.ring_size: a split ring's size must be a power of two" "names the key"
printf 'host:\n  cpus: 2\n  devices:\n    - {name: tap0, type: tap}\nguests:\n  - name: vm1\n    vcpus: [{pin: 3}]\n    nic: {backend: tap0}\n' >"$WORK/pin.yaml"
expect_exit 2 "pin to a missing CPU" -- "$VNETSIM" check "$WORK/pin.yaml"
expect_grep "$WORK/err" "pin.yaml:7:19: error: guests\[0\].vcpus\[0\].pin: expected an integer from 0 to 1, got '3'" "file:line:col"
printf 'seed: 1\nguests: [\n' >"$WORK/syntax.yaml"
expect_exit 2 "YAML syntax error" -- "$VNETSIM" check "$WORK/syntax.yaml"
expect_grep "$WORK/err" "syntax.yaml:3:1: error: YAML syntax" "syntax error position"
expect_exit 2 "missing file" -- "$VNETSIM" check "$WORK/nope.yaml"
expect_grep "$WORK/err" "nope.yaml: error: cannot open the file" "names the file"
expect_exit 2 "no file" -- "$VNETSIM" check
printf 'host: {devices: [{name: br0, type: bridge, addr: 10.0.0.1/24}]}\nremotes: []\nworkloads:\n  - {type: udp_rr, from: host, to: host2}\n' > "$WORK/nope.yaml"
printf 'host: {devices: [{name: eth0, type: wire, peer: r, addr: 10.0.0.1/24}]}\nremotes: [{name: r}]\nworkloads:\n  - {type: ping, from: host, to: r}\n' > "$WORK/ping.yaml"
expect_exit 2 "run a scenario the world cannot build" -- "$VNETSIM" run "$WORK/ping.yaml"
expect_grep "$WORK/err" "ping.yaml:4: error: workload ping: 'r' has no IPv4 address" "says what is missing, where"
printf 'duration: 5ms\nhost: {devices: [{name: eth0, type: wire, peer: r, addr: 10.0.0.1/24, delay: 50us}]}\nremotes: [{name: r, addr: 10.0.0.2/24}]\nworkloads:\n  - {type: ping, from: host, to: r, interval: 1ms}\n' > "$WORK/ping.yaml"
expect_exit 0 "run ping" -- "$VNETSIM" run "$WORK/ping.yaml"
expect_grep "$WORK/out" "ping  *host -> r  *1 .*  5  *5  *0 (0.00%)" "ping summarised: 5 sent, 5 received"
expect_exit 0 "run a host and a remote" -- "$VNETSIM" run "$SRC/examples/scenarios/host-remote.yaml" --duration 5ms
expect_grep "$WORK/out" "remote r1: 2 CPUs, kernel r1, devices: eth0" "world printed"
expect_grep "$WORK/out" "^fingerprint: 0x" "fingerprint printed"
expect_exit 2 "run an invalid scenario file" -- "$VNETSIM" run "$WORK/pin.yaml"
expect_grep "$WORK/err" "pin.yaml:7:19" "run validates too"
mkdir -p "$WORK/caps"
expect_exit 0 "pcap per device" -- "$VNETSIM" run "$SRC/examples/scenarios/host-remote.yaml" -q --duration 1ms --pcap "$WORK/caps"
expect_exit 0 "pcap files, one per device" -- test -f "$WORK/caps/host-eth0.pcap" -a -f "$WORK/caps/r1-eth0.pcap" -a -f "$WORK/caps/host-br0.pcap"
expect_exit 1 "no temporary files left" -- sh -c "ls '$WORK/caps' | grep -q tmp"
expect_exit 1 "pcap into a missing folder" -- "$VNETSIM" run "$SRC/examples/scenarios/host-remote.yaml" -q --pcap "$WORK/nope/caps"
expect_exit 0 "stats json of a world run" -- "$VNETSIM" run "$SRC/examples/scenarios/host-remote.yaml" -q --duration 1ms --stats-json "$WORK/w.json"
expect_grep "$WORK/w.json" '"kind": "remote"' "machines listed"
expect_exit 2 "pcap of the engine demo" -- "$VNETSIM" run --demo --pcap "$WORK/caps"
expect_exit 2 "demo and a file" -- "$VNETSIM" run --demo "$SRC/examples/scenarios/host-remote.yaml"
expect_grep "$WORK/err" "--demo runs the engine demo, not a scenario FILE" "says why"
finish
