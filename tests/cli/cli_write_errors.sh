# Write errors: an output in a folder that cannot be written, or past a
# file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so write fails with
# EFBIG), is reported with its path; the run exits 1 and leaves no
# truncated or temporary file behind. The other outputs are still written.
. "$(dirname "$0")/lib.sh"

S="$SRC/examples/scenarios/tap-bridge.yaml"
run() { "$VNETSIM" run "$S" --quiet --duration 5ms "$@"; }

# A folder that does not exist, and a "folder" that is a file (root can
# write anywhere else, so permissions alone would prove nothing).
expect_exit 1 "missing folder" -- run --stats-json "$WORK/no/such/dir/s.json" --series "$WORK/ok.csv"
expect_grep "$WORK/err" "$WORK/no/such/dir/s.json: cannot create" "path named"
expect_exit 0 "the other output is written" -- test -s "$WORK/ok.csv"
touch "$WORK/afile"
expect_exit 1 "not a folder" -- run --stats-json "$WORK/afile/s.json"
expect_grep "$WORK/err" "$WORK/afile/s.json: cannot create .*Not a directory" "reason given"
expect_exit 1 "pcap into a missing folder" -- run --pcap "$WORK/no/such/dir"
expect_grep "$WORK/err" "$WORK/no/such/dir" "pcap path named"

# A file size limit of a few KiB: the timeline and stats are larger.
# (A coverage build writes its .gcda files at exit, past the limit too:
# GCOV_PREFIX sends them to the scratch folder, not over the real ones.)
mkdir -p "$WORK/fs"
expect_exit 1 "file size limit" -- sh -c "ulimit -f 4 && GCOV_PREFIX=\"$WORK/gcov\" exec \"$VNETSIM\" run \"$S\" \
    --quiet --duration 5ms --stats-json \"$WORK/fs/s.json\" --timeline \"$WORK/fs/t.json\""
expect_grep "$WORK/err" "$WORK/fs/t.json: write failed: File too large; nothing written" "EFBIG reported with the path"
expect_grep "$WORK/err" "$WORK/fs/s.json: write failed: File too large; nothing written" "stats too"
expect_exit 0 "no file left behind" -- test -z "$(ls "$WORK/fs")"
finish
