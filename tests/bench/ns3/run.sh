#!/bin/sh
# tests/bench/ns3/run.sh -- vnetsim beside ns-3 on this machine, in one run.
#
# Builds bridge_flows.cc against Debian's ns-3 (apt-get install libns3-dev)
# when it is installed, runs its UDP CBR and TCP bulk cases (two nodes
# through a BridgeNetDevice at 10 Gbit/s), runs vnetsim's full-path rows
# (`vnetsim bench --only path --csv`), and prints both with the ratio.
# Without ns-3 it prints vnetsim's side and says so; it exits 0 either way
# (a benchmark, not a test). docs/performance.md says what each side
# models per frame.
#   tests/bench/ns3/run.sh [SIM_SECONDS]      (ns-3 simulated time, default 0.2)
#   VNETSIM=path/to/vnetsim tests/bench/ns3/run.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
secs=${1:-0.2}
out=${TMPDIR:-/tmp}/vnetsim-ns3.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

vnetsim=${VNETSIM:-}
if [ -z "$vnetsim" ]; then
    for c in "$top/build-release/sim/vnetsim" "$top/build/sim/vnetsim"; do
        if [ -x "$c" ]; then vnetsim=$c; break; fi
    done
fi
if [ -z "$vnetsim" ]; then
    echo "vnetsim is not built: cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release && cmake --build build-release" >&2
    exit 1
fi

ns3_udp="" ns3_tcp=""
if pkg-config --exists ns3-core 2>/dev/null; then
    mods="ns3-core ns3-network ns3-csma ns3-bridge ns3-internet ns3-applications"
    # shellcheck disable=SC2046
    g++ -O2 -std=c++17 -o "$out/bridge_flows" "$here/bridge_flows.cc" $(pkg-config --cflags --libs $mods)
    "$out/bridge_flows" udp "$secs" | tee "$out/udp.txt"
    "$out/bridge_flows" tcp "$secs" | tee "$out/tcp.txt"
    # "... 123456 frames/wall-s, 0.0512 sim-s/wall-s"
    ns3_udp=$(sed -n 's/.* \([0-9.]*\) frames\/wall-s.*/\1/p' "$out/udp.txt")
    ns3_tcp=$(sed -n 's/.* \([0-9.]*\) sim-s\/wall-s.*/\1/p' "$out/tcp.txt")
else
    echo "ns-3 is not installed (Debian: apt-get install libns3-dev); vnetsim's side only"
fi

"$vnetsim" bench --only path --csv >"$out/vns.csv"
# CSV rows: group,"figure",value,unit,"target"; figures may hold commas
vns_udp=$(grep '"UDP 1472 B guest->host: frames per wall-second"' "$out/vns.csv" | awk -F, '{ print $(NF-2) }')
vns_tcp=$(grep '"TCP_STREAM guest->host, TSO: sim seconds per wall-second"' "$out/vns.csv" | awk -F, '{ print $(NF-2) }')

echo
printf '%-44s %16s %16s %10s\n' "figure" "ns-3" "vnetsim" "ratio"
row() {
    if [ -n "$2" ] && [ -n "$3" ]; then
        printf '%-44s %16s %16s %10s\n' "$1" "$2" "$3" "$(awk "BEGIN { printf \"%.1fx\", $3 / $2 }")"
    else
        printf '%-44s %16s %16s %10s\n' "$1" "${2:-n/a}" "${3:-n/a}" "-"
    fi
}
row "UDP 1472 B frames per wall-second" "$ns3_udp" "$vns_udp"
row "TCP bulk 10G sim seconds per wall-second" "$ns3_tcp" "$vns_tcp"
