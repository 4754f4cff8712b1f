#!/bin/sh
# tests/bench/ns3/run.sh -- vnetsim beside ns-3 on this machine, in one run.
# Builds bridge_flows.cc against Debian's ns-3 (apt-get install libns3-dev)
# when it is installed, runs the UDP CBR and TCP bulk cases, then vnetsim's
# own benchmark, and prints the figures together. Without ns-3 it says so
# and exits 0 (it is a benchmark, not a test).
#   tests/bench/ns3/run.sh [SIM_SECONDS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
secs=${1:-0.2}
out=${TMPDIR:-/tmp}/vnetsim-ns3
mkdir -p "$out"

if ! pkg-config --exists ns3-core 2>/dev/null; then
    echo "ns-3 is not installed (Debian: apt-get install libns3-dev); skipping the ns-3 side"
else
    mods="ns3-core ns3-network ns3-csma ns3-bridge ns3-internet ns3-applications"
    # shellcheck disable=SC2046
    g++ -O2 -std=c++17 -o "$out/bridge_flows" "$here/bridge_flows.cc" $(pkg-config --cflags --libs $mods)
    "$out/bridge_flows" udp "$secs"
    "$out/bridge_flows" tcp "$secs"
fi

if [ -x "$top/build-release/bench/bench_engine" ]; then
    "$top/build-release/bench/bench_engine"
else
    echo "vnetsim: build the benchmarks first: cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release && cmake --build build-release --target bench"
fi
