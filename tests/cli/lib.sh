# Shared by the cli_*.sh tests: $1 = vnetsim binary, $2 = scratch dir.
set -u
VNETSIM=$1
WORK=$2
SRC=$3
rm -rf "$WORK"
mkdir -p "$WORK"
fails=0
passes=0

# expect_exit CODE DESCRIPTION -- command...
expect_exit() {
    want=$1; desc=$2; shift 3
    "$@" >"$WORK/out" 2>"$WORK/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $desc: exit $got, expected $want"; sed 's/^/  stderr: /' "$WORK/err"
        fails=$((fails + 1))
    else
        passes=$((passes + 1))
    fi
}

# expect_grep FILE PATTERN DESCRIPTION
expect_grep() {
    if grep -q -- "$2" "$1"; then passes=$((passes + 1)); else
        echo "FAIL: $3: '$2' not in $1"; sed 's/^/  | /' "$1"; fails=$((fails + 1)); fi
}

finish() {
    echo "$passes passed, $fails failed"
    [ "$fails" -eq 0 ]
    exit $?
}
