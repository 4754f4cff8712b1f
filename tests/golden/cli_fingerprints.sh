# The vnetsim command prints, for each example scenario, the fingerprint
# of tests/golden/examples/<name>.fingerprint (the library's, checked by
# golden/examples): the CLI built by this compiler at this optimisation
# level agrees with the golden files. tap-bridge.yaml runs its first 20 ms.
. "$(dirname "$0")/../cli/lib.sh"

for f in "$SRC"/examples/scenarios/*.yaml; do
    name=$(basename "$f" .yaml)
    fp=$(sed -n 's/^fingerprint //p' "$SRC/tests/golden/examples/$name.fingerprint")
    if [ "$name" = tap-bridge ]; then
        expect_exit 0 "$name runs" -- "$VNETSIM" run "$f" --duration 20ms
    else
        expect_exit 0 "$name runs" -- "$VNETSIM" run "$f"
    fi
    expect_grep "$WORK/out" "^fingerprint: $fp\$" "$name: the golden fingerprint"
done
finish
