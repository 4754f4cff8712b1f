/* sim/cmd_run.c -- `vnetsim run`: run a simulation inside a libuv loop,
 * print a summary, write the requested outputs (each whole or not at all).
 *
 * With no scenario file it runs the default scenario, built in from
 * examples/scenarios/default.yaml; --demo runs the engine demo
 * (include/vnetsim/demo.h). */
#define _XOPEN_SOURCE 700   /* isatty, fileno */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "cli.h"
#include "vnetsim/scenario.h"
#include "vnetsim/uv.h"
#include "vnetsim/world.h"

#define MAX_PROBES 64
#define MAX_SETS 64

struct run_opts {
    uint64_t seed;
    vns_time_t duration;
    const char *profile;
    const char *probes[MAX_PROBES];
    int nprobes;
    const char *sets[MAX_SETS];     /* demo: cost.F=NS, cpu_mhz=N; file: key.path=value */
    int nsets;
    const char *stacks, *folded, *stats_json, *timeline;
    const char *file;               /* scenario file, or NULL for the default scenario */
    bool demo_mode;                 /* --demo: the engine demo instead */
    const char *pcap;               /* folder for per-device captures */
    const char *series;             /* CSV time series */
    vns_time_t series_interval;
    double pace;
    bool quiet, progress, duration_set, seed_set;
    char seed_set_text[40];
    char profile_set_text[48];
    struct vns_demo_config demo;
};

static void run_usage(FILE *f)
{
    fputs("usage: vnetsim run [FILE] [options]\n"
          "       vnetsim run --demo [options]\n"
          "\n"
          "With a scenario FILE (docs/scenarios.md): build its machines (host,\n"
          "guests on taps or macvtaps, remotes behind wires), run its workloads\n"
          "(tcp_stream, tcp_maerts, tcp_rr, udp_stream, udp_rr, ping) and print a\n"
          "summary: a row per workload (throughput, packets/s, loss, transactions/s,\n"
          "latency p50/p99/p99.9), CPU time per packet by CPU, kicks and interrupts\n"
          "per packet of each guest NIC, drops by reason.\n"
          "\n"
          "With no FILE: run the default scenario (examples/scenarios/default.yaml,\n"
          "built in): a guest on a tap on the host's bridge for one simulated second,\n"
          "bulk TCP each way, then TCP request/response.\n"
          "\n"
          "--demo: run the engine demo instead: a guest process kicking a host\n"
          "kthread through shared memory with notification suppression, the\n"
          "kthread signalling back by interrupt, completions in guest softirq\n"
          "(--items, --queue and --shared-cpu imply --demo).\n"
          "\n"
          "options:\n"
          "  --seed N            RNG seed (default 42)\n"
          "  --duration T        simulated time, with unit: 10ms, 1s (default: the\n"
          "                      scenario's duration; demo: 100ms)\n"
          "  --profile NAME      kernel profile (default linux-5.4; see `vnetsim profiles`)\n"
          "  --items N           demo: items to send (default 200000)\n"
          "  --queue N           demo: queue size, a power of two (default 256)\n"
          "  --shared-cpu        demo: pin the worker on the vCPU's host CPU\n"
          "  --set KEY=VALUE     FILE: any key (guests[0].nic.ring_size=1024);\n"
          "                      demo: cost.FUNC=NS[/PS_PER_BYTE], cpu_mhz=N\n"
          "  --probe FUNC        record the stacks seen at FUNC (repeatable)\n"
          "  --stacks FILE       write each distinct probed stack (seed format)\n"
          "  --folded FILE       write flamegraph-collapsed stacks with counts\n"
          "  --stats-json FILE   write all figures as JSON\n"
          "  --timeline FILE     write a Chrome/Perfetto trace of every step on every CPU\n"
          "  --pcap DIR          FILE: capture every device to DIR/<machine>-<device>.pcap\n"
          "  --series FILE       write CSV time series (CPU utilization, device bit rates, ...)\n"
          "  --series-interval T sampling interval of --series (default 1ms)\n"
          "  --pace X            run at most X times faster than real time (0 = no limit)\n"
          "  --progress          print progress to stderr (default when it is a terminal)\n"
          "  --quiet             print nothing but errors\n"
          "\n"
          "exit status: 0 done, 1 an output could not be written, a limit was reached\n"
          "(limits: in the scenario) or the packet ledger does not balance, 2 bad usage,\n"
          "130 interrupted by SIGINT, 143 by SIGTERM (outputs are still written, marked\n"
          "partial)\n",
          f);
}

/* "--name value" or "--name=value". Returns the value or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        cli_error("%s needs a value", name);
        exit(2);
    }
    return argv[++*i];
}

static uint64_t need_u64(const char *name, const char *v, uint64_t min, uint64_t max)
{
    uint64_t x;

    if (vns_parse_u64(v, &x) < 0 || x < min || x > max) {
        cli_error("%s: '%s' is not an integer in %" PRIu64 "..%" PRIu64, name, v, min, max);
        exit(2);
    }
    return x;
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
    const char *v;

    o->seed = 42;
    o->duration = VNS_MSEC(100);
    o->progress = isatty(fileno(stderr));
    o->demo = vns_demo_default_config();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            run_usage(stdout);
            exit(0);
        } else if ((v = opt_value(argc, argv, &i, "--seed"))) {
            o->seed = need_u64("--seed", v, 0, UINT64_MAX);
            o->seed_set = true;
        } else if ((v = opt_value(argc, argv, &i, "--duration"))) {
            o->duration_set = true;
            if (vns_parse_time(v, &o->duration) < 0 || o->duration == 0) {
                cli_error("--duration: '%s' is not a time such as 10ms or 1s", v);
                return -1;
            }
        } else if ((v = opt_value(argc, argv, &i, "--profile"))) {
            o->profile = v;
        } else if (!strcmp(a, "--demo")) {
            o->demo_mode = true;
        } else if ((v = opt_value(argc, argv, &i, "--items"))) {
            o->demo_mode = true;
            o->demo.items = need_u64("--items", v, 1, UINT64_MAX);
        } else if ((v = opt_value(argc, argv, &i, "--queue"))) {
            o->demo_mode = true;
            o->demo.queue_size = (uint32_t)need_u64("--queue", v, 1, 32768);
            if (o->demo.queue_size & (o->demo.queue_size - 1)) {
                cli_error("--queue: %s is not a power of two", v);
                return -1;
            }
        } else if (!strcmp(a, "--shared-cpu")) {
            o->demo_mode = true;
            o->demo.shared_cpu = true;
        } else if ((v = opt_value(argc, argv, &i, "--set"))) {
            if (o->nsets == MAX_SETS) {
                cli_error("too many --set options (at most %d)", MAX_SETS);
                return -1;
            }
            o->sets[o->nsets++] = v;
        } else if ((v = opt_value(argc, argv, &i, "--probe"))) {
            if (o->nprobes == MAX_PROBES) {
                cli_error("too many --probe options (at most %d)", MAX_PROBES);
                return -1;
            }
            o->probes[o->nprobes++] = v;
        } else if ((v = opt_value(argc, argv, &i, "--stacks"))) {
            o->stacks = v;
        } else if ((v = opt_value(argc, argv, &i, "--folded"))) {
            o->folded = v;
        } else if ((v = opt_value(argc, argv, &i, "--stats-json"))) {
            o->stats_json = v;
        } else if ((v = opt_value(argc, argv, &i, "--timeline"))) {
            o->timeline = v;
        } else if ((v = opt_value(argc, argv, &i, "--pcap"))) {
            o->pcap = v;
        } else if ((v = opt_value(argc, argv, &i, "--series-interval"))) {
            if (vns_parse_time(v, &o->series_interval) < 0 || o->series_interval < 1000) {
                cli_error("--series-interval: '%s' is not a time of at least 1us", v);
                return -1;
            }
        } else if ((v = opt_value(argc, argv, &i, "--series"))) {
            o->series = v;
        } else if ((v = opt_value(argc, argv, &i, "--pace"))) {
            char *end;

            o->pace = strtod(v, &end);
            if (*end || !(o->pace >= 0) || o->pace > 1e12) {
                cli_error("--pace: '%s' is not a factor such as 1 or 0.5", v);
                return -1;
            }
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o->quiet = true;
            o->progress = false;
        } else if (!strcmp(a, "--progress")) {
            o->progress = true;
        } else if (a[0] == '-') {
            cli_error("unknown option '%s' (try 'vnetsim run --help')", a);
            return -1;
        } else if (o->file) {
            cli_error("one scenario file at a time ('%s' and '%s')", o->file, a);
            return -1;
        } else {
            o->file = a;
        }
    }
    if (o->demo_mode && o->file) {
        cli_error("--demo runs the engine demo, not a scenario FILE ('%s')", o->file);
        return -1;
    }
    if (o->pcap && o->demo_mode) {
        cli_error("--pcap needs a scenario (the engine demo has no network devices)");
        return -1;
    }
    if ((o->stacks || o->folded) && !o->nprobes && o->demo_mode) {
        cli_error("--stacks and --folded need at least one --probe FUNC");
        return -1;
    }
    return 0;
}

/* --set KEY=VALUE: cost.FUNC=NS[/PS] or cpu_mhz=N. */
static int apply_set(struct vns_sim *sim, const char *kv)
{
    char key[128];
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : 0;
    int err;

    if (!eq || klen == 0 || klen >= sizeof(key)) {
        cli_error("--set '%s': expected KEY=VALUE", kv);
        return -1;
    }
    memcpy(key, kv, klen);
    key[klen] = '\0';
    if (!strcmp(key, "cpu_mhz")) {
        uint64_t mhz;

        if (vns_parse_u64(eq + 1, &mhz) < 0 || mhz > 100000 ||
            vns_cost_set_cpu_mhz(vns_sim_costs(sim), (unsigned)mhz) < 0) {
            cli_error("--set cpu_mhz: '%s' is not a clock in 100..10000 MHz", eq + 1);
            return -1;
        }
        return 0;
    }
    if (!strncmp(key, "cost.", 5)) {
        char val[64];
        char *slash;
        vns_time_t ns;
        uint64_t ps = 0;
        bool has_ps = false;

        snprintf(val, sizeof(val), "%s", eq + 1);
        slash = strchr(val, '/');
        if (slash) {
            *slash = '\0';
            has_ps = true;
            if (vns_parse_u64(slash + 1, &ps) < 0 || ps > 1000000000) {
                cli_error("--set %s: '%s' is not picoseconds per byte", key, slash + 1);
                return -1;
            }
        }
        if (vns_parse_time(val, &ns) < 0 || ns > 1000000000) {
            cli_error("--set %s: '%s' is not a cost such as 120 or 1.5us", key, val);
            return -1;
        }
        err = vns_cost_set(vns_sim_costs(sim), key + 5, (int64_t)ns, has_ps ? (int64_t)ps : -1);
        if (err == -VNS_ENOENT) {
            cli_error("--set %s: no modelled function or parameter '%s' (see 'vnetsim funcs')",
                      key, key + 5);
            return -1;
        }
        return err ? -1 : 0;
    }
    cli_error("--set: unknown key '%s' (expected cost.FUNC or cpu_mhz)", key);
    return -1;
}

struct run_state {
    struct run_opts *o;
    uint64_t wall0;
    uint64_t last_progress;
    uint64_t max_memory;            /* limits.max_memory, 0 = none */
    const char *stop_reason;        /* why the run stopped early, NULL if it did not */
};

/* SIGTERM stops the run as SIGINT does (lib/uv handles SIGINT): the
 * handler only sets a flag, the progress callback (after every batch of
 * events) turns it into a stop at the next event boundary. */
static volatile sig_atomic_t got_sigterm;

static void on_sigterm(int sig)
{
    (void)sig;
    got_sigterm = 1;
}

static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigterm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    /* A file size limit (RLIMIT_FSIZE) must fail the write with EFBIG, which
     * is reported, instead of killing the process with a file half written. */
    signal(SIGXFSZ, SIG_IGN);
}

/* Between batches: SIGTERM and the memory limit stop the run. */
static void check_stop(struct vns_sim *sim, struct run_state *rs)
{
    if (got_sigterm && !rs->stop_reason) {
        rs->stop_reason = "SIGTERM";
        vns_sim_stop(sim);
    }
    if (rs->max_memory && vns_alloc_bytes() > rs->max_memory && !rs->stop_reason) {
        rs->stop_reason = "max_memory";
        vns_sim_stop(sim);
    }
}

/* The exit status and the stats' stop_reason of a run that ended with
 * @status (vns_uv_run). */
static int stop_status(struct vns_sim *sim, struct run_state *rs, int status, bool time_limited)
{
    if (!rs->stop_reason && vns_sim_event_limit_hit(sim))
        rs->stop_reason = "max_events";
    if (!rs->stop_reason && status == -VNS_ECANCELED)
        rs->stop_reason = "SIGINT";
    if (!rs->stop_reason && time_limited && status == 0)
        rs->stop_reason = "max_time";
    if (!rs->stop_reason)
        return status ? 1 : 0;
    if (!strcmp(rs->stop_reason, "SIGINT"))
        return 130;
    if (!strcmp(rs->stop_reason, "SIGTERM"))
        return 143;
    return 1;
}

/* A progress line on stderr (terminals only): simulated time, events per
 * wall second, estimated time left. */
static void on_progress(struct vns_sim *sim, void *arg)
{
    struct run_state *rs = arg;
    uint64_t now = uv_hrtime();
    double wall, frac, eta;

    check_stop(sim, rs);
    if (!rs->o->progress || now - rs->last_progress < 500000000u)
        return;
    rs->last_progress = now;
    wall = (double)(now - rs->wall0) / 1e9;
    frac = (double)vns_sim_now(sim) / (double)rs->o->duration;
    eta = frac > 0 ? wall * (1 - frac) / frac : 0;
    fprintf(stderr, "\rvnetsim: %5.1f%% (%.3f of %.3f s simulated), %.2f M events/s, %.0f s left   ",
            100.0 * frac, (double)vns_sim_now(sim) / 1e9, (double)rs->o->duration / 1e9,
            wall > 0 ? (double)vns_sim_events_run(sim) / wall / 1e6 : 0.0, eta);
    fflush(stderr);
}

static json_t *cpu_json(const char *name, const struct vns_cpu_stats *s, vns_time_t t)
{
    return json_pack("{s:s, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name", name,
                     "busy_ns", (json_int_t)s->busy_ns, "utilization", t ? (double)s->busy_ns / (double)t : 0.0,
                     "irqs", (json_int_t)s->irqs,
                     "softirq_at_irq_exit", (json_int_t)s->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT],
                     "softirq_at_bh_enable", (json_int_t)s->softirq_runs[VNS_SOFTIRQ_AT_BH_ENABLE],
                     "softirq_in_ksoftirqd", (json_int_t)s->softirq_runs[VNS_SOFTIRQ_IN_KSOFTIRQD],
                     "context_switches", (json_int_t)s->ctx_switches, "vmexits", (json_int_t)s->vmexits,
                     "halts", (json_int_t)s->halts, "halt_wakeups", (json_int_t)s->halt_wakeups);
}

static int write_stats_json(const char *path, struct vns_sim *sim, const struct run_opts *o,
                            const struct vns_demo *demo, const struct vns_demo_stats *st,
                            int status, double wall_s)
{
    struct cli_out out;
    char fp[32];
    json_t *root, *cpus;
    int err;

    snprintf(fp, sizeof(fp), "0x%016" PRIx64, vns_sim_fingerprint(sim));
    cpus = json_array();
    for (unsigned i = 0; vns_demo_cpu(demo, i); i++) {
        struct vns_cpu *c = vns_demo_cpu(demo, i);

        json_array_append_new(cpus, cpu_json(vns_cpu_name(c), vns_cpu_stats(c), vns_sim_now(sim)));
    }
    root = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:b, s:{s:I, s:f, s:f}, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
                     "vnetsim", VNS_VERSION_STRING, "scenario", "engine-demo",
                     "profile", vns_profile_name(vns_sim_profile(sim)),
                     "seed", (json_int_t)o->seed, "sim_time_ns", (json_int_t)vns_sim_now(sim),
                     "events", (json_int_t)vns_sim_events_run(sim), "fingerprint", fp,
                     "interrupted", status != 0, "sim", "events", (json_int_t)vns_sim_events_run(sim),
                     "simulated_seconds", (double)vns_sim_now(sim) / 1e9, "wall_seconds", wall_s, "cpus", cpus,
                     "demo", "items", (json_int_t)o->demo.items, "produced", (json_int_t)st->produced,
                     "consumed", (json_int_t)st->consumed, "completed", (json_int_t)st->completed,
                     "kicks", (json_int_t)st->kicks, "interrupts", (json_int_t)st->irqs,
                     "worker_wakeups", (json_int_t)st->worker_wakeups,
                     "writer_full_waits", (json_int_t)st->writer_full_waits,
                     "softirq_at_irq_exit", (json_int_t)st->softirq_irq_exit,
                     "softirq_in_ksoftirqd", (json_int_t)st->softirq_ksoftirqd,
                     "vcpu_halts", (json_int_t)st->vcpu_halts,
                     "finish_time_ns", (json_int_t)st->finish_time,
                     "guest_busy_ns", (json_int_t)st->guest_busy_ns);
    if (root)
        json_object_set_new(root, "partial", json_boolean(status != 0));
    if (!root || cli_out_open(&out, path) < 0) {
        json_decref(root);
        return -1;
    }
    err = json_dumpf(root, out.f, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 || fputc('\n', out.f) == EOF;
    json_decref(root);
    if (err) {
        cli_out_abort(&out);
        cli_error("%s: write failed: %s; nothing written", path, strerror(errno ? errno : EIO));
        return -1;
    }
    return cli_out_commit(&out) < 0 ? -1 : 0;
}

enum { OUT_STACKS, OUT_FOLDED, OUT_TIMELINE, OUT_SERIES };

static int write_trace_file(const char *path, struct vns_sim *sim, int what)
{
    struct cli_out out;
    int err;

    if (cli_out_open(&out, path) < 0)
        return -1;
    err = what == OUT_STACKS   ? vns_probe_write_stacks(sim, out.f)
        : what == OUT_FOLDED   ? vns_probe_write_folded(sim, out.f)
        : what == OUT_SERIES   ? vns_series_write_csv(sim, out.f)
                               : vns_timeline_write(sim, out.f);
    if (err < 0) {
        cli_out_abort(&out);
        cli_error("%s: write failed: %s; nothing written", path, strerror(errno ? errno : EIO));
        return -1;
    }
    return cli_out_commit(&out) < 0 ? -1 : 0;
}

static void per_item(const char *what, uint64_t n, uint64_t items)
{
    printf("  %-28s %10" PRIu64 "   %.4f per item\n", what, n, items ? (double)n / (double)items : 0.0);
}

static void print_summary(struct vns_sim *sim, const struct run_opts *o, const struct vns_demo_stats *st,
                          int status, double wall_s)
{
    char a[32], b[32];
    vns_time_t t = vns_sim_now(sim);

    printf("vnetsim %s: engine demo, profile %s, seed %" PRIu64 "%s\n",
           VNS_VERSION_STRING, vns_profile_name(vns_sim_profile(sim)), o->seed,
           status ? " -- INTERRUPTED" : "");
    printf("simulated %s in %.3f s of wall time (%.1fx real time), %" PRIu64 " events\n",
           vns_format_time(t, a, sizeof(a)), wall_s, wall_s > 0 ? (double)t / 1e9 / wall_s : 0.0,
           vns_sim_events_run(sim));
    printf("items: %" PRIu64 " of %" PRIu64 " completed", st->completed, o->demo.items);
    if (st->completed == o->demo.items)
        printf(" at %s (%.2f Mitems/s)", vns_format_time(st->finish_time, b, sizeof(b)),
               st->finish_time ? (double)st->completed * 1e3 / (double)st->finish_time : 0.0);
    printf("\n");
    per_item("kicks (VM exits)", st->kicks, st->completed);
    per_item("interrupts", st->irqs, st->completed);
    per_item("worker wake-ups", st->worker_wakeups, st->completed);
    per_item("softirq runs at irq_exit", st->softirq_irq_exit, st->completed);
    per_item("softirq runs in ksoftirqd", st->softirq_ksoftirqd, st->completed);
    per_item("vCPU halts", st->vcpu_halts, st->completed);
    printf("  %-28s %10" PRIu64 "\n", "writer waits (queue full)", st->writer_full_waits);
    printf("cpu busy: host/cpu0 %.1f%%, host/cpu1 %.1f%%, guest vm1/cpu0 %.1f%%\n",
           t ? 100.0 * (double)st->host_busy_ns[0] / (double)t : 0.0,
           t ? 100.0 * (double)st->host_busy_ns[1] / (double)t : 0.0,
           t ? 100.0 * (double)st->guest_busy_ns / (double)t : 0.0);
    for (int i = 0; i < o->nprobes; i++) {
        int f = vns_func_lookup(o->probes[i]);

        printf("probe %s: %" PRIu64 " hits\n", o->probes[i], f >= 0 ? vns_probe_hits(sim, f) : 0);
    }
    printf("fingerprint: 0x%016" PRIx64 "\n", vns_sim_fingerprint(sim));
}

static double demo_cpu_busy(void *arg)
{
    return (double)vns_cpu_stats(arg)->busy_ns / 1e9;
}

static double demo_completed(void *arg)
{
    struct vns_demo_stats st;

    vns_demo_stats(arg, &st);
    return (double)st.completed;
}

static double demo_kicks(void *arg)
{
    struct vns_demo_stats st;

    vns_demo_stats(arg, &st);
    return (double)st.kicks;
}

/* The demo's series: CPU utilization, items and kicks per second. */
static int demo_series_start(struct vns_sim *sim, struct vns_demo *demo, vns_time_t interval)
{
    char name[96];
    int err = 0;

    for (unsigned i = 0; vns_demo_cpu(demo, i) && !err; i++) {
        snprintf(name, sizeof(name), "%s.util", vns_cpu_name(vns_demo_cpu(demo, i)));
        err = vns_series_add(sim, name, demo_cpu_busy, vns_demo_cpu(demo, i), true);
    }
    if (!err)
        err = vns_series_add(sim, "demo.items_per_s", demo_completed, demo, true);
    if (!err)
        err = vns_series_add(sim, "demo.kicks_per_s", demo_kicks, demo, true);
    return err ? err : vns_series_start(sim, interval);
}

/* `vnetsim run FILE`: build the world of a scenario and run it. */
static int run_world(struct run_opts *o)
{
    struct vns_scenario *sc;

    if (o->seed_set && o->nsets < MAX_SETS) {   /* --seed N is --set seed=N, applied last */
        snprintf(o->seed_set_text, sizeof(o->seed_set_text), "seed=%llu", (unsigned long long)o->seed);
        o->sets[o->nsets++] = o->seed_set_text;
    }
    if (o->profile && o->nsets < MAX_SETS) {   /* --profile P is --set profile=P */
        snprintf(o->profile_set_text, sizeof(o->profile_set_text), "profile=%.39s", o->profile);
        o->sets[o->nsets++] = o->profile_set_text;
    }
    sc = cli_load_scenario(o->file, o->sets, (size_t)o->nsets);
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    struct vns_sim *sim;
    struct run_state rs = {o, 0, 0, 0, NULL};
    char buf[VNS_DIAG_MSG_MAX + VNS_DIAG_FILE_MAX + 64], t[32];
    int err, status, rc = 0, exit_rc;
    bool time_limited, unbalanced = false;
    vns_time_t duration;

    if (!sc)
        return 2;
    if ((o->stacks || o->folded) && !o->nprobes && !sc->nprobes) {
        cli_error("--stacks and --folded need a probe: --probe FUNC, or probes in the scenario");
        vns_scenario_free(sc);
        return 2;
    }
    err = vns_world_create(sc, &w, &d);
    if (err) {
        vns_diag_format(&d, buf, sizeof(buf));
        fprintf(stderr, "%s\n", buf);
        vns_scenario_free(sc);
        return err == -VNS_ENOMEM ? 1 : 2;
    }
    sim = vns_world_sim(w);
    /* The scenario's outputs, unless the command line names others. */
    if (!o->stacks && sc->outputs.stacks[0])
        o->stacks = sc->outputs.stacks;
    if (!o->folded && sc->outputs.folded[0])
        o->folded = sc->outputs.folded;
    if (!o->timeline && sc->outputs.timeline[0])
        o->timeline = sc->outputs.timeline;
    if (!o->pcap && sc->outputs.pcap[0])
        o->pcap = sc->outputs.pcap;
    if (!o->stats_json && sc->outputs.stats_json[0])
        o->stats_json = sc->outputs.stats_json;
    if (!o->series && sc->outputs.series[0])
        o->series = sc->outputs.series;
    if (o->series && vns_world_series_start(w, o->series_interval ? o->series_interval : VNS_MSEC(1)) < 0) {
        cli_error("--series: cannot start sampling");
        rc = 1;
        goto out;
    }
    if (o->pcap && cli_mkdir("--pcap", o->pcap) < 0) {
        rc = 1;
        goto out;
    }
    if (o->pcap && vns_world_pcap_start(w, o->pcap, &d) < 0) {
        vns_diag_format(&d, buf, sizeof(buf));
        fprintf(stderr, "%s\n", buf);
        rc = 1;
        goto out;
    }
    for (int i = 0; i < o->nprobes; i++) {
        if (vns_probe_add(sim, o->probes[i]) < 0) {
            cli_error("--probe %s: no such modelled function (see 'vnetsim funcs')", o->probes[i]);
            rc = 2;
            goto out;
        }
    }
    if (o->timeline && vns_timeline_enable(sim, 0) < 0) {
        rc = 1;
        goto out;
    }
    duration = o->duration_set ? o->duration : sc->duration;
    time_limited = sc->limits.max_time && sc->limits.max_time < duration;
    if (time_limited)
        duration = sc->limits.max_time;
    o->duration = duration;
    vns_sim_set_max_events(sim, sc->limits.max_events);
    rs.max_memory = sc->limits.max_memory;
    catch_signals();
    rs.wall0 = uv_hrtime();
    status = vns_uv_run(sim, &(struct vns_uv_run_opts){.until = duration, .pace = o->pace, .handle_sigint = true,
                                                       .progress = on_progress, .arg = &rs});
    exit_rc = stop_status(sim, &rs, status, time_limited);
    if (o->progress && rs.last_progress)
        fputc('\n', stderr);
    if (rs.stop_reason) {
        const char *what = !strcmp(rs.stop_reason, "SIGINT") || !strcmp(rs.stop_reason, "SIGTERM")
                               ? "interrupted by"
                               : "stopped: limit reached:";
        char limit[64] = "";

        if (!strcmp(rs.stop_reason, "max_events"))
            snprintf(limit, sizeof(limit), " (%llu events)", (unsigned long long)sc->limits.max_events);
        else if (!strcmp(rs.stop_reason, "max_time"))
            snprintf(limit, sizeof(limit), " (%s simulated)", vns_format_time(sc->limits.max_time, t, sizeof(t)));
        else if (!strcmp(rs.stop_reason, "max_memory"))
            snprintf(limit, sizeof(limit), " (%llu bytes allocated)", (unsigned long long)vns_alloc_bytes());
        fprintf(stderr, "vnetsim: %s %s%s at %s of simulated time; outputs are partial\n", what, rs.stop_reason,
                limit, vns_format_time(vns_sim_now(sim), t, sizeof(t)));
    }
    if (!o->quiet) {
        printf("vnetsim %s: %s, profile %s, seed %llu%s%s\n", VNS_VERSION_STRING,
               o->file ? o->file : CLI_DEFAULT_SCENARIO_NAME,
               vns_profile_name(vns_sim_profile(sim)), (unsigned long long)sc->seed,
               rs.stop_reason ? " -- PARTIAL: " : "", rs.stop_reason ? rs.stop_reason : "");
        vns_world_print(w, stdout);
        printf("simulated %s, %llu events\n", vns_format_time(vns_sim_now(sim), t, sizeof(t)),
               (unsigned long long)vns_sim_events_run(sim));
        vns_world_print_summary(w, stdout);
        printf("fingerprint: 0x%016llx\n", (unsigned long long)vns_sim_fingerprint(sim));
    }
    if (o->stacks && write_trace_file(o->stacks, sim, OUT_STACKS) < 0)
        rc = 1;
    if (o->folded && write_trace_file(o->folded, sim, OUT_FOLDED) < 0)
        rc = 1;
    if (o->timeline && write_trace_file(o->timeline, sim, OUT_TIMELINE) < 0)
        rc = 1;
    if (o->series && write_trace_file(o->series, sim, OUT_SERIES) < 0)
        rc = 1;
    /* The capture is complete now; then the ledger (which drains the
     * world: the stats JSON was taken before). */
    if (o->pcap && vns_world_pcap_stop(w, rc == 0) < 0) {
        cli_error("%s: a capture could not be written; none kept", o->pcap);
        rc = 1;
    }
    if (getenv("VNETSIM_TEST_LEAK"))   /* test hook: a packet held by nothing */
        vns_world_test_leak(w, getenv("VNETSIM_TEST_LEAK"));
    err = vns_world_finish(w);
    if (!o->quiet && err != -VNS_ENOMEM)
        vns_world_print_ledger_summary(w, stdout);
    if (err == -VNS_EPROTO) {
        vns_world_print_ledger(w, stderr);
        cli_error("the packet ledger does not balance (a packet was lost track of): a simulator bug");
        unbalanced = true;
    } else if (err) {
        cli_error("cannot take the packet ledger: %s", vns_strerror(err));
        unbalanced = true;
    }
    if (o->stats_json) {
        struct cli_out out;
        char extra[1400];

        snprintf(extra, sizeof(extra),
                 "{\"vnetsim\": \"%s\", \"interrupted\": %s, \"partial\": %s, \"stop_reason\": \"%s\", "
                 "\"sim\": {\"wall_seconds\": %.6f, \"memory_peak_bytes\": %llu}}",
                 VNS_VERSION_STRING, status ? "true" : "false", rs.stop_reason ? "true" : "false",
                 rs.stop_reason ? rs.stop_reason : "", (double)(uv_hrtime() - rs.wall0) / 1e9,
                 (unsigned long long)vns_alloc_bytes_peak());
        if (cli_out_open(&out, o->stats_json) < 0) {
            rc = 1;
        } else if (vns_world_write_stats_json(w, out.f, extra) < 0) {
            cli_out_abort(&out);
            cli_error("%s: write failed: %s; nothing written", o->stats_json, strerror(errno ? errno : EIO));
            rc = 1;
        } else if (cli_out_commit(&out) < 0) {
            rc = 1;
        }
    }
    if (!rc)
        rc = exit_rc ? exit_rc : unbalanced ? 1 : 0;
out:
    vns_world_destroy(w);
    vns_scenario_free(sc);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o = {0};
    struct vns_sim *sim = NULL;
    struct vns_demo *demo = NULL;
    struct vns_demo_stats st;
    struct run_state rs = {&o, 0, 0, 0, NULL};
    int err, status, rc = 0;
    double wall_s;

    if (parse_args(argc, argv, &o) < 0)
        return 2;
    if (!o.demo_mode)
        return run_world(&o);
    err = vns_sim_create(&(struct vns_sim_config){.seed = o.seed, .profile = o.profile}, &sim);
    if (err == -VNS_ENOENT) {
        cli_error("--profile: no kernel profile '%s' (see 'vnetsim profiles')", o.profile);
        return 2;
    }
    if (err) {
        cli_error("cannot create the simulation: %s", vns_strerror(err));
        return 1;
    }
    for (int i = 0; i < o.nsets; i++) {
        if (apply_set(sim, o.sets[i]) < 0) {
            vns_sim_destroy(sim);
            return 2;
        }
    }
    for (int i = 0; i < o.nprobes; i++) {
        err = vns_probe_add(sim, o.probes[i]);
        if (err) {
            cli_error("--probe %s: %s", o.probes[i],
                      err == -VNS_ENOENT ? "no such modelled function (see 'vnetsim funcs')"
                                         : "not a function (a cost parameter)");
            vns_sim_destroy(sim);
            return 2;
        }
    }
    if (o.timeline && vns_timeline_enable(sim, 0) < 0) {
        cli_error("--timeline: out of memory");
        vns_sim_destroy(sim);
        return 1;
    }
    err = vns_demo_create(sim, &o.demo, &demo);
    if (err) {
        cli_error("cannot build the demo: %s", vns_strerror(err));
        vns_sim_destroy(sim);
        return 1;
    }
    if (o.series && demo_series_start(sim, demo, o.series_interval ? o.series_interval : VNS_MSEC(1)) < 0) {
        cli_error("--series: cannot start sampling");
        vns_demo_destroy(demo);
        vns_sim_destroy(sim);
        return 1;
    }
    catch_signals();
    rs.wall0 = uv_hrtime();
    status = vns_uv_run(sim, &(struct vns_uv_run_opts){.until = o.duration, .pace = o.pace,
                                                       .handle_sigint = true,
                                                       .progress = on_progress, .arg = &rs});
    wall_s = (double)(uv_hrtime() - rs.wall0) / 1e9;
    if (o.progress && rs.last_progress)
        fputc('\n', stderr);
    vns_demo_stats(demo, &st);
    if (!o.quiet)
        print_summary(sim, &o, &st, status, wall_s);
    /* Outputs are written even after SIGINT: what was simulated is kept. */
    if (o.stacks && write_trace_file(o.stacks, sim, OUT_STACKS) < 0)
        rc = 1;
    if (o.folded && write_trace_file(o.folded, sim, OUT_FOLDED) < 0)
        rc = 1;
    if (o.timeline && write_trace_file(o.timeline, sim, OUT_TIMELINE) < 0)
        rc = 1;
    if (o.series && write_trace_file(o.series, sim, OUT_SERIES) < 0)
        rc = 1;
    if (o.stats_json && write_stats_json(o.stats_json, sim, &o, demo, &st, status, wall_s) < 0)
        rc = 1;
    status = stop_status(sim, &rs, status, false);
    vns_demo_destroy(demo);
    vns_sim_destroy(sim);
    return rc ? rc : status;
}

int cmd_funcs(int argc, char **argv)
{
    const char *pname = "linux-5.4";
    const struct vns_profile *p;
    struct vns_sim *sim;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts("usage: vnetsim functions [--profile P]\n"
                 "List every modelled kernel function with the symbol profile P shows for\n"
                 "it (default linux-5.4), its default cost in ns per call and ps per byte\n"
                 "at 2.2 GHz, and the cost parameters that are not functions. Any of them\n"
                 "can be probed (--probe) or overridden (--set cost.NAME=NS[/PS]; in a\n"
                 "scenario, costs: {NAME: NS}).");
            return 0;
        } else if ((!strcmp(argv[i], "--profile") || !strcmp(argv[i], "-p")) && i + 1 < argc) {
            pname = argv[++i];
        } else if (!strncmp(argv[i], "--profile=", 10)) {
            pname = argv[i] + 10;
        } else if (argv[i][0] != '-') {
            pname = argv[i];
        } else {
            cli_error("unknown option '%s' (try 'vnetsim functions --help')", argv[i]);
            return 2;
        }
    }
    p = vns_profile_find(pname);
    if (!p) {
        cli_error("no kernel profile '%s' (see 'vnetsim profiles')", pname);
        return 2;
    }
    if (vns_sim_create(&(struct vns_sim_config){.profile = vns_profile_name(p)}, &sim) < 0)
        return 1;
    printf("%-36s %-36s %8s %8s\n", "function", "symbol (" "profile)", "ns/call", "ps/byte");
    for (int f = 0; f < VNS_FN__COUNT; f++) {
        uint32_t c, b;

        vns_cost_get(vns_sim_costs(sim), f, &c, &b);
        printf("%-36s %-36s %8u %8u%s\n", vns_func_name(f),
               vns_func_is_param(f) ? "-" : vns_profile_symbol(p, f), c, b,
               vns_func_is_param(f) ? "  (parameter)" : "");
    }
    vns_sim_destroy(sim);
    return 0;
}
