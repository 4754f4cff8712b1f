# Determinism: each example scenario, run twice with every output on,
# gives the same bytes in every output: stdout (the summary), the stats
# JSON less sim.wall_seconds, stacks, folded stacks, timeline, series and
# every pcap; and tshark, if installed, finds nothing malformed in the
# captures. Each runs for 10 ms (the captures of bulk TCP grow by tens
# of MB per ms); tests/golden/test_examples.c checks the fingerprints of
# whole runs.
. "$(dirname "$0")/lib.sh"

run_example() {   # NAME DIR
    mkdir -p "$2/pcap"
    expect_exit 0 "$1 runs ($2)" -- "$VNETSIM" run "$SRC/examples/scenarios/$1.yaml" --duration 10ms \
        --probe net_rx_action --probe ip_rcv_core --stacks "$2/stacks.txt" --folded "$2/folded.txt" \
        --stats-json "$2/stats.json" --timeline "$2/timeline.json" --series "$2/series.csv" \
        --series-interval 250us --pcap "$2/pcap"
    mv "$WORK/out" "$2/stdout.txt"
    grep -v '"wall_seconds"' "$2/stats.json" > "$2/stats.nowall.json" && rm "$2/stats.json"
}

for f in "$SRC"/examples/scenarios/*.yaml; do
    name=$(basename "$f" .yaml)
    run_example "$name" "$WORK/$name-a"
    run_example "$name" "$WORK/$name-b"
    n=0
    for a in "$WORK/$name-a"/* "$WORK/$name-a"/pcap/*; do
        [ -f "$a" ] || continue
        b="$WORK/$name-b${a#"$WORK/$name-a"}"
        n=$((n + 1))
        if cmp -s "$a" "$b"; then passes=$((passes + 1)); else
            echo "FAIL: $name: ${a#"$WORK/"} differs between two runs"; fails=$((fails + 1)); fi
    done
    # stdout, stats, stacks, folded, timeline, series and at least one pcap
    [ "$n" -ge 7 ] && passes=$((passes + 1)) || { echo "FAIL: $name: only $n outputs"; fails=$((fails + 1)); }
    grep -q '"simulated_seconds"' "$WORK/$name-a/stats.nowall.json" && passes=$((passes + 1)) ||
        { echo "FAIL: $name: no sim.simulated_seconds"; fails=$((fails + 1)); }
    # tshark, where installed, decodes every capture without a malformed
    # packet or an expert error (checksums are not validated: with
    # offloads on they are partial, as tcpdump shows them on Linux)
    if command -v tshark >/dev/null 2>&1; then
        for p in "$WORK/$name-a"/pcap/*.pcap; do
            if tshark -r "$p" -Y '_ws.malformed || _ws.expert.severity >= error' >"$WORK/tshark" 2>/dev/null &&
                [ ! -s "$WORK/tshark" ]; then passes=$((passes + 1)); else
                echo "FAIL: $name: tshark on ${p#"$WORK/"}:"; head -5 "$WORK/tshark"; fails=$((fails + 1)); fi
        done
    fi
    rm -rf "$WORK/$name-a" "$WORK/$name-b"
done
finish
