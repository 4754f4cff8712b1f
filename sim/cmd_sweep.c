/* sim/cmd_sweep.c -- `vnetsim sweep FILE --set K=V1,V2,...`: the cartesian
 * product of the values, each point a full run of the scenario, in
 * parallel on libuv's thread pool; one stats JSON per point and a combined
 * CSV. `--shard I/N` runs the points whose index is I-1 modulo N, so a
 * large sweep can be spread over machines (GNU parallel, Slurm job
 * arrays); every point's result is the same wherever and however it runs. */
#define _XOPEN_SOURCE 700   /* setenv */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cli.h"
#include "vnetsim/scenario.h"
#include "vnetsim/uv.h"
#include "vnetsim/world.h"

#define MAX_AXES 16
#define MAX_VALUES 256
#define MAX_POINTS 100000

struct axis {
    char key[128];
    char *values[MAX_VALUES];     /* into the argument string copy */
    unsigned n;
    char *copy;
};

#define CSV_WORKLOADS 8           /* workloads with columns in sweep.csv */

struct point_result {
    int status;                   /* 0, or the error code */
    uint64_t fingerprint, events;
    vns_time_t sim_time;
    double wall;
    char error[600];
    size_t nwl;                   /* workloads (at most CSV_WORKLOADS) */
    struct vns_workload_result wl[CSV_WORKLOADS];
};

struct sweep {
    const char *file;
    const char *fixed[64];        /* --set K=V with one value */
    unsigned nfixed;
    struct axis axes[MAX_AXES];
    unsigned naxes;
    const char *out;
    unsigned shard, nshards;      /* 1-based shard of nshards */
    size_t npoints;
    size_t *todo;                 /* point indices of this shard */
    size_t ntodo;
    struct point_result *res;     /* by position in todo */
};

static void sweep_usage(FILE *f)
{
    fputs("usage: vnetsim sweep FILE --set KEY=V1,V2,... [--set KEY=V]... [--jobs N]\n"
          "                     [--out DIR] [--shard I/N]\n"
          "\n"
          "Run the scenario once per point of the cartesian product of the values\n"
          "(the first --set varies slowest), in parallel on N threads (default 4).\n"
          "Writes DIR/point-<index>.json (the stats of each run) and DIR/sweep.csv\n"
          "(one row per point: its values, fingerprint, events, simulated and wall\n"
          "time, then per workload wN_throughput_bps, wN_packets_per_s, wN_lost,\n"
          "wN_transactions_per_s, wN_latency_p99_ns for the first 8 workloads;\n"
          "scripts/vnetsim-plot draws them against the first --set key).\n"
          "Values are YAML: --set 'guests[0].nic.ring_size=256,1024'.\n"
          "--shard I/N runs only the points whose index is I-1 modulo N (I from 1):\n"
          "  parallel vnetsim sweep s.yaml --set seed=1,2,3,4 --out r --shard {}/4 ::: 1 2 3 4\n"
          "  sbatch --array=1-16 --wrap 'vnetsim sweep s.yaml ... --shard $SLURM_ARRAY_TASK_ID/16'\n"
          "Exit status: 0 every point ran, 1 a point failed (its row says why), 2 usage.\n",
          f);
}

/* Split "a,b,[c, d]" on commas outside brackets and braces. */
static int split_values(struct axis *a, const char *kv)
{
    const char *eq = strchr(kv, '=');
    char *p;
    int depth = 0;

    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(a->key))
        return -1;
    memcpy(a->key, kv, (size_t)(eq - kv));
    a->key[eq - kv] = '\0';
    a->copy = strdup(eq + 1);
    if (!a->copy)
        return -1;
    a->n = 0;
    a->values[a->n++] = a->copy;
    for (p = a->copy; *p; p++) {
        if (*p == '[' || *p == '{')
            depth++;
        else if (*p == ']' || *p == '}')
            depth--;
        else if (*p == ',' && depth == 0) {
            *p = '\0';
            if (a->n == MAX_VALUES)
                return -1;
            a->values[a->n++] = p + 1;
        }
    }
    return 0;
}

/* Value index of axis @k at point @i (first axis slowest). */
static unsigned point_value(const struct sweep *s, size_t i, unsigned k)
{
    for (unsigned j = s->naxes; j-- > k + 1;)
        i /= s->axes[j].n;
    return (unsigned)(i % s->axes[k].n);
}

/* SIGINT or SIGTERM: every running point stops at an event boundary and
 * writes its stats marked partial, points not started are not run, the
 * CSV is written; exit 130 or 143. The handler only stores the signal;
 * the points poll it between batches of events. */
static volatile sig_atomic_t sweep_signal;

static void on_sweep_signal(int sig) { sweep_signal = sig; }

static const char *signal_name(int sig) { return sig == SIGINT ? "SIGINT" : "SIGTERM"; }

/* Run to @until in batches, polling the signal flag. 0, -VNS_ECANCELED
 * (a limit: vns_sim_stop) or 1 (a signal). */
static int run_until(struct vns_sim *sim, vns_time_t until)
{
    while (!sweep_signal && vns_sim_run_batch(sim, until, 4096) > 0) {
    }
    if (sweep_signal && vns_sim_next_time(sim) <= until && !vns_sim_stop_requested(sim))
        return 1;
    return vns_sim_run(sim, until);
}

static int run_point(size_t slot, void *arg)
{
    struct sweep *s = arg;
    size_t idx = s->todo[slot];
    struct point_result *r = &s->res[slot];
    const char *sets[64 + MAX_AXES];
    char assign[MAX_AXES][512], path[1024];
    size_t nsets = 0;
    struct vns_scenario *sc = NULL;
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    uint64_t t0 = uv_hrtime();
    FILE *f;
    int err;

    for (unsigned i = 0; i < s->nfixed; i++)
        sets[nsets++] = s->fixed[i];
    for (unsigned k = 0; k < s->naxes; k++) {
        snprintf(assign[k], sizeof(assign[k]), "%s=%s", s->axes[k].key, s->axes[k].values[point_value(s, idx, k)]);
        sets[nsets++] = assign[k];
    }
    if (sweep_signal) {
        snprintf(r->error, sizeof(r->error), "not run: interrupted by %s", signal_name(sweep_signal));
        r->status = -VNS_ECANCELED;
        return r->status;
    }
    err = vns_scenario_load(s->file, sets, nsets, &sc, &d);
    if (!err)
        err = vns_world_create(sc, &w, &d);
    if (!err) {
        /* Limits: max_events and max_time (max_memory is process-wide: not
         * for one point of a parallel sweep). */
        vns_time_t until = sc->limits.max_time && sc->limits.max_time < sc->duration ? sc->limits.max_time
                                                                                      : sc->duration;

        vns_sim_set_max_events(vns_world_sim(w), sc->limits.max_events);
        err = run_until(vns_world_sim(w), until);
        if (err == 1)
            snprintf(r->error, sizeof(r->error), "interrupted by %s; stats partial", signal_name(sweep_signal)),
                err = -VNS_ECANCELED;
        else if (err == -VNS_ECANCELED && vns_sim_event_limit_hit(vns_world_sim(w)))
            snprintf(r->error, sizeof(r->error), "limit reached: max_events; stats partial");
        else if (!err && until < sc->duration)
            snprintf(r->error, sizeof(r->error), "limit reached: max_time; stats partial"), err = -VNS_ECANCELED;
        if (err == -VNS_ECANCELED)
            r->status = err, err = 0;
    }
    if (err) {
        vns_diag_format(&d, r->error, sizeof(r->error));
        r->status = err;
        goto out;
    }
    r->fingerprint = vns_sim_fingerprint(vns_world_sim(w));
    r->events = vns_sim_events_run(vns_world_sim(w));
    r->sim_time = vns_sim_now(vns_world_sim(w));
    for (r->nwl = 0; r->nwl < CSV_WORKLOADS && r->nwl < vns_world_nworkloads(w); r->nwl++)
        vns_world_workload(w, r->nwl, &r->wl[r->nwl]);
    r->wall = (double)(uv_hrtime() - t0) / 1e9;
    /* The packet ledger: the stats JSON carries it; unbalanced books fail
     * the point. */
    if (vns_world_finish(w) < 0 && !r->status) {
        snprintf(r->error, sizeof(r->error), "the packet ledger does not balance (see its stats)");
        r->status = -VNS_EPROTO;
    }
    /* The point's stats, whole or not at all (a temporary name, renamed). */
    snprintf(path, sizeof(path), "%s/point-%zu.json.tmp", s->out, idx);
    f = fopen(path, "wb");
    if (!f ||
        vns_world_write_stats_json(w, f,
                                   r->status == -VNS_ECANCELED
                                       ? (strstr(r->error, "max_events")   ? "{\"partial\": true, \"stop_reason\": \"max_events\"}"
                                          : strstr(r->error, "max_time") ? "{\"partial\": true, \"stop_reason\": \"max_time\"}"
                                          : strstr(r->error, "SIGINT")   ? "{\"partial\": true, \"stop_reason\": \"SIGINT\"}"
                                                                         : "{\"partial\": true, \"stop_reason\": \"SIGTERM\"}")
                                       : "{\"partial\": false, \"stop_reason\": \"\"}") < 0 ||
        fclose(f) != 0) {
        if (f)
            fclose(f);
        remove(path);
        snprintf(r->error, sizeof(r->error), "%.500s: cannot write the point's stats", path);
        r->status = -VNS_EIO;
    } else {
        char final[1024];

        snprintf(final, sizeof(final), "%s/point-%zu.json", s->out, idx);
        if (rename(path, final) != 0) {
            remove(path);
            r->status = -VNS_EIO;
        }
    }
out:
    vns_world_destroy(w);
    vns_scenario_free(sc);
    return r->status;
}

static void csv_field(FILE *f, const char *v)
{
    fputc('"', f);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', f);
        fputc(*v, f);
    }
    fputc('"', f);
}

static int write_csv(const struct sweep *s)
{
    char path[1024];
    struct cli_out out;
    size_t nwl = 0;

    snprintf(path, sizeof(path), "%.900s/sweep.csv", s->out);
    if (s->nshards > 1)
        snprintf(path, sizeof(path), "%.900s/sweep-shard-%u-of-%u.csv", s->out, s->shard, s->nshards);
    if (cli_out_open(&out, path) < 0)
        return -1;
    fputs("point", out.f);
    for (unsigned k = 0; k < s->naxes; k++) {
        fputc(',', out.f);
        csv_field(out.f, s->axes[k].key);
    }
    fputs(",status,fingerprint,events,sim_seconds,wall_seconds,error", out.f);
    for (size_t t = 0; t < s->ntodo; t++)
        nwl = s->res[t].nwl > nwl ? s->res[t].nwl : nwl;
    for (size_t i = 0; i < nwl; i++)
        fprintf(out.f, ",w%zu_throughput_bps,w%zu_packets_per_s,w%zu_lost,w%zu_transactions_per_s,w%zu_latency_p99_ns",
                i, i, i, i, i);
    fputc('\n', out.f);
    for (size_t t = 0; t < s->ntodo; t++) {
        const struct point_result *r = &s->res[t];

        fprintf(out.f, "%zu", s->todo[t]);
        for (unsigned k = 0; k < s->naxes; k++) {
            fputc(',', out.f);
            csv_field(out.f, s->axes[k].values[point_value(s, s->todo[t], k)]);
        }
        fprintf(out.f, ",%s,0x%016" PRIx64 ",%" PRIu64 ",%.9f,%.3f,", r->status ? "error" : "ok", r->fingerprint,
                r->events, (double)r->sim_time / 1e9, r->wall);
        csv_field(out.f, r->error);
        for (size_t i = 0; i < nwl; i++) {
            const struct vns_workload_result *x = &r->wl[i];

            if (i < r->nwl)
                fprintf(out.f, ",%.0f,%.1f,%" PRIu64 ",%.1f,%" PRIu64, x->throughput_bps, x->packets_per_s, x->lost,
                        x->transactions_per_s, x->latency_p99);
            else
                fputs(",,,,,", out.f);
        }
        fputc('\n', out.f);
    }
    return cli_out_commit(&out) < 0 ? -1 : 0;
}

int cmd_sweep(int argc, char **argv)
{
    struct sweep s = {.shard = 1, .nshards = 1, .out = "."};
    unsigned jobs = 4;
    int rc = 0, *status = NULL;
    struct vns_scenario *base;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            sweep_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--set") && i + 1 < argc) {
            const char *v = argv[++i];
            struct axis *ax = &s.axes[s.naxes];

            if (s.naxes == MAX_AXES || split_values(ax, v) < 0) {
                cli_error("--set '%s': expected KEY=V1,V2,... (at most %d keys, %d values)", v, MAX_AXES, MAX_VALUES);
                rc = 2;
                goto out;
            }
            if (ax->n == 1 && s.nfixed < 64) {   /* one value: a plain override */
                s.fixed[s.nfixed++] = v;
                free(ax->copy);
                ax->copy = NULL;
            } else {
                s.naxes++;
            }
        } else if (!strcmp(a, "--jobs") && i + 1 < argc) {
            char *end;
            long j = strtol(argv[++i], &end, 10);

            if (*end || j < 1 || j > 128) {
                cli_error("--jobs: '%s' is not a number of threads from 1 to 128", argv[i]);
                rc = 2;
                goto out;
            }
            jobs = (unsigned)j;
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            s.out = argv[++i];
        } else if (!strcmp(a, "--shard") && i + 1 < argc) {
            char extra;

            if (sscanf(argv[++i], "%u/%u%c", &s.shard, &s.nshards, &extra) != 2 || s.nshards == 0 ||
                s.shard == 0 || s.shard > s.nshards) {
                cli_error("--shard: '%s' is not I/N with 1 <= I <= N", argv[i]);
                rc = 2;
                goto out;
            }
        } else if (a[0] == '-') {
            cli_error("unknown option or missing value '%s' (try 'vnetsim sweep --help')", a);
            rc = 2;
            goto out;
        } else if (s.file) {
            cli_error("one scenario file at a time");
            rc = 2;
            goto out;
        } else {
            s.file = a;
        }
    }
    if (!s.file || !s.naxes) {
        cli_error("sweep needs a scenario FILE and at least one --set KEY=V1,V2,...");
        rc = 2;
        goto out;
    }
    /* Validate the base and every value of every axis before running. */
    base = cli_load_scenario(s.file, s.fixed, s.nfixed);
    if (!base) {
        rc = 2;
        goto out;
    }
    vns_scenario_free(base);
    s.npoints = 1;
    for (unsigned k = 0; k < s.naxes; k++) {
        s.npoints *= s.axes[k].n;
        if (s.npoints > MAX_POINTS) {
            cli_error("more than %d points", MAX_POINTS);
            rc = 2;
            goto out;
        }
    }
    s.todo = calloc(s.npoints, sizeof(*s.todo));
    s.res = calloc(s.npoints, sizeof(*s.res));
    status = calloc(s.npoints, sizeof(*status));
    if (!s.todo || !s.res || !status) {
        rc = 1;
        goto out;
    }
    for (size_t i = 0; i < s.npoints; i++)
        if (i % s.nshards == s.shard - 1)
            s.todo[s.ntodo++] = i;
    {
        char n[16];

        snprintf(n, sizeof(n), "%u", jobs);
        setenv("UV_THREADPOOL_SIZE", n, 1);   /* read when the pool starts */
    }
    if (cli_mkdir("--out", s.out) < 0) {
        rc = 1;
        goto out;
    }
    fprintf(stderr, "vnetsim sweep: %zu points (%zu in this shard) on %u threads\n", s.npoints, s.ntodo, jobs);
    {
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_sweep_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGXFSZ, SIG_IGN);   /* a file-size limit: EFBIG, reported */
    }
    if (vns_uv_sweep(s.ntodo, run_point, &s, status) < 0) {
        cli_error("cannot start the thread pool");
        rc = 1;
        goto out;
    }
    for (size_t t = 0; t < s.ntodo; t++) {
        if (s.res[t].status) {
            fprintf(stderr, "point %zu: %s\n", s.todo[t], s.res[t].error);
            rc = 1;
        }
    }
    if (write_csv(&s) < 0)
        rc = 1;
    else if (!sweep_signal)
        printf("vnetsim sweep: %zu points done, results in %s\n", s.ntodo, s.out);
    if (sweep_signal) {
        fprintf(stderr, "vnetsim sweep: interrupted by %s; the CSV and the points' stats are written, partial\n",
                signal_name(sweep_signal));
        rc = sweep_signal == SIGINT ? 130 : 143;
    }
out:
    for (unsigned k = 0; k < MAX_AXES; k++)
        free(s.axes[k].copy);
    free(s.todo);
    free(s.res);
    free(status);
    return rc;
}
