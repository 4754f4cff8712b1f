# docs/reliability.md lists every drop reason of include/vnetsim/skb.h,
# every fault type and every limit the scenario reader knows.
. "$(dirname "$0")/lib.sh"

DOC="$SRC/docs/reliability.md"
for r in $(sed -n '/define VNS_SKB_DROP_REASONS/,/^$/p' "$SRC/include/vnetsim/skb.h" | grep -o 'X([A-Z0-9_]*)' |
           sed 's/X(\(.*\))/\1/'); do
    expect_grep "$DOC" "^| \`$r\` |" "drop reason $r documented"
done
for f in $(grep -o 'fault_types\[\] = {[^}]*}' "$SRC/lib/scenario/scenario.c" | grep -o '"[a-z_]*"' | tr -d '"'); do
    expect_grep "$DOC" "type: $f" "fault $f documented"
done
for l in max_events max_time max_memory; do
    expect_grep "$DOC" "limits.$l" "limit $l documented"
done
finish
