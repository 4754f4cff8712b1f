# The seed stacks (tests/golden/kernel-stacks.txt, a copy of
# shared/reference/kernel-stacks.txt) arise from the example scenarios run
# through the CLI: tap-bridge.yaml gives the virtio-net and tun paths,
# macvtap.yaml the tap paths, and default.yaml (whose TCP_RR pushes from
# the system call into a qdisc that bulk traffic keeps busy) the guest's
# tcp_push -> __qdisc_run -> start_xmit, which the bulk streams alone hit
# rarely. Every stack of the seed must appear, exactly.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "tap-bridge" -- "$VNETSIM" run "$SRC/examples/scenarios/tap-bridge.yaml" -q --stacks "$WORK/tb.stacks" --stats-json "$WORK/tb.json"
# 6 s at ~10 Gbit/s each way: more than 4 GiB, past the wrap of TCP's
# sequence space; every byte must still verify.
expect_exit 0 "no payload mismatch past 4 GiB" -- sh -c "! grep -q '\"payload_mismatches\": [1-9]' '$WORK/tb.json'"
expect_grep "$WORK/tb.json" '"payload_mismatches": 0' "mismatch counter present"
expect_exit 0 "macvtap" -- "$VNETSIM" run "$SRC/examples/scenarios/macvtap.yaml" -q --stacks "$WORK/mv.stacks"
expect_exit 0 "default" -- "$VNETSIM" run "$SRC/examples/scenarios/default.yaml" -q --stacks "$WORK/df.stacks" \
    --probe start_xmit --probe tun_sendmsg --probe tun_net_xmit --probe napi_gro_receive
cat "$WORK/tb.stacks" "$WORK/mv.stacks" "$WORK/df.stacks" > "$WORK/all.stacks"
awk -v RS= '
    NR == FNR { if ($0 ~ /^\[0\]/) { want[$0] = 1; n++ } next }
    { have[$0] = 1 }
    END {
        for (w in want) if (!(w in have)) { printf "missing seed stack:\n%s\n\n", w; bad++ }
        printf "%d of %d seed stacks reproduced\n", n - bad, n
        exit bad != 0
    }' "$SRC/tests/golden/kernel-stacks.txt" "$WORK/all.stacks" > "$WORK/seed.out"
rc=$?
cat "$WORK/seed.out"
if [ $rc -eq 0 ]; then passes=$((passes + 1)); else fails=$((fails + 1)); fi
finish
