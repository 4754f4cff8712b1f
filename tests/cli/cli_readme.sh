# The README's "First steps" work as written: every `vnetsim` and
# `scripts/vnetsim-plot` command of its shell blocks runs (from a folder
# holding examples/ and scripts/, with the vnetsim under test first in
# PATH) and exits 0. flamegraph.pl and npx come from elsewhere and are
# left out, as are quickstart and PATH (the build is the test's).
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/bin" "$WORK/cwd"
ln -s "$(cd "$(dirname "$VNETSIM")" && pwd)/$(basename "$VNETSIM")" "$WORK/bin/vnetsim"
ln -s "$SRC/examples" "$WORK/cwd/examples"
ln -s "$SRC/scripts" "$WORK/cwd/scripts"
# The shell blocks between "## First steps" and the next section, with
# continuation lines joined and comments dropped.
awk '/^## First steps/ { on = 1; next } on && /^## / { exit }
     on && /^```sh/ { code = 1; next } on && /^```/ { code = 0; next }
     code { print }' "$SRC/README.md" |
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' -e 's/[[:space:]]*#.*$//' > "$WORK/commands"
n=0
while IFS= read -r cmd; do
    case $cmd in
    vnetsim*) ;;
    scripts/vnetsim-plot*) command -v gnuplot >/dev/null 2>&1 || continue ;;
    *) continue ;;
    esac
    n=$((n + 1))
    expect_exit 0 "README: $cmd" -- sh -c "cd '$WORK/cwd' && PATH='$WORK/bin':\$PATH && $cmd"
done < "$WORK/commands"
expect_exit 0 "the README has its commands ($n)" -- test "$n" -ge 6
expect_exit 0 "timeline written" -- test -s "$WORK/cwd/out.trace.json"
expect_exit 0 "folded stacks written" -- test -s "$WORK/cwd/out.folded"
expect_exit 0 "sweep written" -- test -s "$WORK/cwd/sweep/sweep.csv"
finish
