# Bad command lines: a clear message and exit status 2, never a crash.
. "$(dirname "$0")/lib.sh"

expect_exit 2 "no command" -- "$VNETSIM"
expect_grep "$WORK/err" "usage: vnetsim" "usage on stderr"
expect_exit 2 "unknown command" -- "$VNETSIM" frobnicate
expect_grep "$WORK/err" "unknown command 'frobnicate'" "names the command"
expect_exit 0 "help" -- "$VNETSIM" help
expect_exit 0 "run --help" -- "$VNETSIM" run --help
expect_grep "$WORK/out" "--stats-json FILE" "run help lists options"
expect_exit 0 "version" -- "$VNETSIM" version
expect_grep "$WORK/out" "vnetsim 0\." "version printed"
expect_exit 2 "unknown option" -- "$VNETSIM" run --bogus
expect_grep "$WORK/err" "unknown option '--bogus'" "names the option"
expect_exit 2 "bad duration" -- "$VNETSIM" run --duration 10parsecs
expect_grep "$WORK/err" "--duration: '10parsecs' is not a time" "explains the duration"
expect_exit 2 "missing value" -- "$VNETSIM" run --seed
expect_exit 2 "bad seed" -- "$VNETSIM" run --seed -3
expect_exit 2 "queue not power of two" -- "$VNETSIM" run --queue 100
expect_exit 2 "unknown probe" -- "$VNETSIM" run --probe no_such_function
expect_grep "$WORK/err" "no such modelled function" "explains the probe"
expect_exit 2 "probe a parameter" -- "$VNETSIM" run --probe vmexit
expect_exit 2 "stacks without probe" -- "$VNETSIM" run --stacks "$WORK/s"
expect_exit 2 "unknown profile" -- "$VNETSIM" run --profile linux-2.4
expect_grep "$WORK/err" "no kernel profile 'linux-2.4'" "names the profile"
expect_exit 2 "bad --set key" -- "$VNETSIM" run --set foo=1
expect_exit 2 "bad --set cost fn" -- "$VNETSIM" run --set cost.nope=10
expect_exit 2 "bad --set cost value" -- "$VNETSIM" run --set cost.do_IRQ=abc
expect_exit 2 "bad --set mhz" -- "$VNETSIM" run --set cpu_mhz=5
expect_exit 2 "missing scenario file" -- "$VNETSIM" run some.yaml
expect_exit 2 "bad pace" -- "$VNETSIM" run --pace fast
expect_exit 0 "funcs" -- "$VNETSIM" funcs
expect_grep "$WORK/out" "vhost_tx_batch.isra.23" "funcs shows profile symbols"
expect_exit 0 "profiles" -- "$VNETSIM" profiles
expect_grep "$WORK/out" "linux-5.4 (default)" "default profile marked"
finish
