/* sim/bench_path.c -- the full data path as users run it, and its scale.
 *
 * path: one guest on a tap enslaved to the host's bridge (the seed's
 * topology). UDP_STREAM sends 1472-byte datagrams (one frame each, no GSO)
 * from the guest to a host socket; TCP_STREAM sends 64 KiB writes with TSO.
 * Only vns_sim_run is timed: building the world is not per frame.
 *
 * scale: N guests, each on its own tap on one bridge, each running TCP_RR
 * to the host for 1 simulated second, on a host of N + 1 CPUs (4 to 256)
 * with each guest's vCPU thread, vhost worker and netserver-like process
 * spread over them. Each N runs in a child process so that its peak RSS
 * is its own.
 *
 * callgrind: instructions are stable where seconds are not. Each path
 * workload runs twice under callgrind, for two simulated lengths; the
 * difference of the totals over the difference of the frames is the cost
 * per frame with building, warm-up and teardown cancelled out. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vnetsim/scenario.h"
#include "vnetsim/world.h"

#include "bench.h"
#include "cli.h"

#define UDP_DGRAM 1472u
#define TCP_MSS 1448u

/* Appends to a growing text; aborts the bench on allocation failure (a
 * benchmark has nothing sensible to print without its scenario). */
struct text {
    char *s;
    size_t len, cap;
};

static void VNS_PRINTF(2, 3) addf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n >= 0 && t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap ? t->cap * 2 : 4096;
        while (n >= 0 && t->cap <= t->len + (size_t)n)
            t->cap *= 2;
        if (!(t->s = realloc(t->s, t->cap))) {
            fputs("vnetsim bench: out of memory\n", stderr);
            exit(1);
        }
    }
}

/* The host with a bridge and @n taps, @n guests (one vCPU each). Guest i's
 * vCPU thread, vhost worker and (scale) host-side process take host CPU
 * slots 3i, 3i + 1 and 3i + 2 round CPUs 1..N-1; CPU 0 is left to the host
 * ends of the path workloads. */
static unsigned slot_cpu(unsigned slot, unsigned host_cpus)
{
    return 1 + slot % (host_cpus - 1);
}

static void topology(struct text *t, unsigned n, unsigned host_cpus, const char *features, uint64_t dur_ns)
{
    addf(t, "profile: linux-5.4\nseed: 1\nduration: %" PRIu64 "\nhost:\n  cpus: %u\n  devices:\n", dur_ns,
         host_cpus);
    addf(t, "    - {name: br0, type: bridge, addr: 10.0.0.1/16}\n");
    for (unsigned i = 0; i < n; i++)
        addf(t, "    - {name: tap%u, type: tap, master: br0}\n", i);
    addf(t, "guests:\n");
    for (unsigned i = 0; i < n; i++)
        addf(t,
             "  - {name: vm%u, vcpus: [{pin: %u}], memory: 64MiB, addr: 10.0.%u.%u/16,\n"
             "     nic: {backend: tap%u, features: [%s], vhost: {pin: %u}}}\n",
             i, slot_cpu(3 * i, host_cpus), 1 + i / 250, 1 + i % 250, i, features, slot_cpu(3 * i + 1, host_cpus));
}

static const char feat_tso[] = "event_idx, mrg_rxbuf, indirect_desc, csum, guest_csum, tso4, guest_tso4, version_1";
static const char feat_nogso[] = "event_idx, mrg_rxbuf, indirect_desc, csum, guest_csum, version_1";

static int build_world(const char *text, const char *name, struct vns_scenario **sc, struct vns_world **w)
{
    struct vns_diag d = {0};
    char msg[1024];
    int err;

    *sc = NULL;
    *w = NULL;
    err = vns_scenario_parse(text, strlen(text), name, NULL, 0, sc, &d);
    if (!err)
        err = vns_world_create(*sc, w, &d);
    if (err) {
        vns_diag_format(&d, msg, sizeof(msg));
        fprintf(stderr, "vnetsim bench: %s: %s\n", name, msg);
        vns_world_destroy(*w);
        vns_scenario_free(*sc);
        *w = NULL;
        *sc = NULL;
    }
    return err;
}

int bench_path_run(const char *which, uint64_t sim_ns, bool probes, struct bench_path_result *r)
{
    struct text t = {0};
    struct vns_scenario *sc;
    struct vns_world *w;
    struct vns_workload_result res;
    bool udp = !strcmp(which, "udp");
    double t0;
    int err;

    if (!udp && strcmp(which, "tcp")) {
        cli_error("bench: unknown path workload '%s' (udp, tcp)", which);
        return -VNS_EINVAL;
    }
    topology(&t, 1, 4, udp ? feat_nogso : feat_tso, sim_ns);
    if (udp)
        addf(&t, "workloads:\n  - {type: udp_stream, from: vm0, to: host, write_size: %u}\n", UDP_DGRAM);
    else
        addf(&t, "workloads:\n  - {type: tcp_stream, from: vm0, to: host, write_size: 64KiB}\n");
    if (probes)
        addf(&t, "probes: [start_xmit, tun_sendmsg, netif_receive_skb, %s]\n", udp ? "udp_rcv" : "tcp_v4_rcv");
    err = build_world(t.s, udp ? "bench-udp" : "bench-tcp", &sc, &w);
    free(t.s);
    if (err)
        return err;
    t0 = bench_now();
    err = vns_sim_run(vns_world_sim(w), sc->duration);
    r->wall_s = bench_now() - t0;
    if (!err)
        err = vns_world_workload(w, 0, &res);
    if (!err) {
        r->bytes = res.bytes;
        r->frames = udp ? res.packets : res.bytes / TCP_MSS;   /* datagrams received; MSS of goodput */
        r->events = vns_sim_events_run(vns_world_sim(w));
        r->sim_s = (double)sc->duration / 1e9;
    } else {
        fprintf(stderr, "vnetsim bench: %s: %s\n", which, vns_strerror(err));
    }
    vns_world_destroy(w);
    vns_scenario_free(sc);
    return err;
}

void bench_path(const struct bench_opts *o)
{
    struct bench_path_result r, rp;
    uint64_t udp_ns = o->quick ? VNS_MSEC(100) : VNS_MSEC(500);
    uint64_t tcp_ns = o->quick ? VNS_MSEC(200) : VNS_SEC(2);

    if (bench_path_run("udp", udp_ns, false, &r) || !r.frames) {
        bench_row_na("path", "UDP 1472 B guest->host: frames per wall-second", "the UDP_STREAM run failed");
    } else {
        bench_row("path", "UDP 1472 B guest->host: frames per wall-second", (double)r.frames / r.wall_s,
                  "frames/s", ">= 5x ns-3 (run.sh)");
        bench_row("path", "UDP 1472 B guest->host: wall ns per frame", r.wall_s * 1e9 / (double)r.frames, "ns",
                  NULL);
        bench_row("path", "UDP 1472 B guest->host: simulated throughput", (double)r.bytes * 8 / r.sim_s, "bit/s",
                  NULL);
        bench_row("path", "UDP 1472 B guest->host: events per frame", (double)r.events / (double)r.frames, "ev",
                  NULL);
        if (!bench_path_run("udp", udp_ns, true, &rp) && rp.frames)
            bench_row("path", "UDP, 4 probes armed: wall ns per frame", rp.wall_s * 1e9 / (double)rp.frames, "ns",
                      NULL);
    }
    if (bench_path_run("tcp", tcp_ns, false, &r) || !r.bytes) {
        bench_row_na("path", "TCP_STREAM guest->host, TSO", "the TCP_STREAM run failed");
        return;
    }
    bench_row("path", "TCP_STREAM guest->host, TSO: sim seconds per wall-second", r.sim_s / r.wall_s, "x",
              ">= 1");
    bench_row("path", "TCP_STREAM guest->host, TSO: simulated goodput", (double)r.bytes * 8 / r.sim_s, "bit/s",
              ">= 10 G");
    bench_row("path", "TCP_STREAM guest->host, TSO: events per simulated second", (double)r.events / r.sim_s,
              "ev/s", NULL);
    bench_row("path", "TCP_STREAM guest->host, TSO: wall ns per 1448 B of goodput", r.wall_s * 1e9 / (double)r.frames,
              "ns", NULL);
}

/* --- scale ------------------------------------------------------------------------ */

struct scale_result {
    double build_s, run_s;
    double cpu_s; /* user + system CPU time of the run */
    uint64_t transactions;
    long maxrss_kib;
    int err;
};

static long maxrss_kib(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru))
        return 0;
#ifdef __APPLE__
    return ru.ru_maxrss / 1024;    /* bytes on macOS */
#else
    return ru.ru_maxrss;           /* KiB on Linux and the BSDs */
#endif
}

/* User + system CPU seconds of this process so far: less disturbed than
 * wall time by other work on a shared machine. */
static double cpu_seconds(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru))
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* The scale scenario for @n guests (vnetsim bench --scale-yaml N prints it). */
static void scale_text(struct text *t, unsigned n)
{
    unsigned cpus = n + 1 < 4 ? 4 : (n + 1 > 256 ? 256 : n + 1);

    topology(t, n, cpus, feat_tso, VNS_SEC(1));
    /* Starts spread over the first 100 ms, as guests never start in the
     * same nanosecond: started together, 1,000 guests' ARP requests flood
     * every tap at once (each to 999 ports), a real storm that fills the
     * tap rings and is not what this row measures. */
    addf(t, "workloads:\n");
    for (unsigned i = 0; i < n; i++)
        addf(t, "  - {type: tcp_rr, from: vm%u, to: host, to_cpu: %u, start: %" PRIu64 "}\n", i,
             slot_cpu(3 * i + 2, cpus), (uint64_t)VNS_MSEC(100) * i / n);
}

void bench_scale_yaml(unsigned n)
{
    struct text t = {0};

    scale_text(&t, n);
    fputs(t.s, stdout);
    free(t.s);
}

static void scale_child(unsigned n, struct scale_result *out)
{
    struct text t = {0};
    struct vns_scenario *sc;
    struct vns_world *w;
    double t0, c0;

    scale_text(&t, n);
    t0 = bench_now();
    out->err = build_world(t.s, "bench-scale", &sc, &w);
    free(t.s);
    if (out->err)
        return;
    out->build_s = bench_now() - t0;
    t0 = bench_now();
    c0 = cpu_seconds();
    out->err = vns_sim_run(vns_world_sim(w), sc->duration);
    out->run_s = bench_now() - t0;
    out->cpu_s = cpu_seconds() - c0;
    for (size_t i = 0; i < vns_world_nworkloads(w); i++) {
        struct vns_workload_result res;

        if (!vns_world_workload(w, i, &res))
            out->transactions += res.transactions;
    }
    out->maxrss_kib = maxrss_kib();
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* Run one size in a child; its figures come back through a pipe. */
static int scale_point(unsigned n, struct scale_result *r)
{
    int fd[2], st;
    pid_t pid;
    ssize_t got;

    memset(r, 0, sizeof(*r));
    if (pipe(fd))
        return -errno;
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -errno;
    }
    if (pid == 0) {
        close(fd[0]);
        scale_child(n, r);
        _exit(write(fd[1], r, sizeof(*r)) == (ssize_t)sizeof(*r) ? 0 : 1);
    }
    close(fd[1]);
    got = read(fd[0], r, sizeof(*r));
    close(fd[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (got != (ssize_t)sizeof(*r) || !WIFEXITED(st) || WEXITSTATUS(st))
        return -VNS_EIO;
    return r->err;
}

void bench_scale(const struct bench_opts *o)
{
    static const unsigned sizes[] = {1, 10, 100, 1000};
    double single = 0, single_tr = 0, single_cpu = 0;
    long base_rss = 0;

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && sizes[i] <= o->scale_max; i++) {
        unsigned n = sizes[i];
        struct scale_result r;
        char what[96];

        snprintf(what, sizeof(what), "%u guest%s TCP_RR, 1 sim s", n, n > 1 ? "s" : "");
        if (scale_point(n, &r)) {
            bench_row_na("scale", what, "the run failed");
            continue;
        }
        /* The one-guest run is short (0.15 s) and every ratio divides by
         * it: the fastest of three, as other work only slows a run down. */
        for (unsigned again = 0; n == 1 && again < 2; again++) {
            struct scale_result r2;

            if (scale_point(n, &r2) == 0) {
                r.run_s = r2.run_s < r.run_s ? r2.run_s : r.run_s;
                r.cpu_s = r2.cpu_s < r.cpu_s ? r2.cpu_s : r.cpu_s;
            }
        }
        snprintf(what, sizeof(what), "%u guest%s TCP_RR: wall time (run)", n, n > 1 ? "s" : "");
        bench_row("scale", what, r.run_s, "s", NULL);
        snprintf(what, sizeof(what), "%u guest%s TCP_RR: CPU time (run)", n, n > 1 ? "s" : "");
        bench_row("scale", what, r.cpu_s, "s", NULL);
        snprintf(what, sizeof(what), "%u guest%s TCP_RR: wall time (build world)", n, n > 1 ? "s" : "");
        bench_row("scale", what, r.build_s, "s", NULL);
        snprintf(what, sizeof(what), "%u guest%s TCP_RR: transactions", n, n > 1 ? "s" : "");
        bench_row("scale", what, (double)r.transactions, "trans", NULL);
        snprintf(what, sizeof(what), "%u guest%s TCP_RR: peak RSS", n, n > 1 ? "s" : "");
        bench_row("scale", what, (double)r.maxrss_kib / 1024.0, "MiB", n == 1000 ? "<= 2048" : NULL);
        if (n == 1) {
            single = r.run_s;
            single_cpu = r.cpu_s;
            single_tr = r.transactions ? r.run_s / (double)r.transactions : 0;
            base_rss = r.maxrss_kib;
        } else if (single > 0) {
            snprintf(what, sizeof(what), "%u guests: RSS per added guest", n);
            bench_row("scale", what, (double)(r.maxrss_kib - base_rss) / 1024.0 / (double)(n - 1), "MiB", NULL);
            snprintf(what, sizeof(what), "%u guests: wall time per guest / single guest", n);
            bench_row("scale", what, r.run_s / n / single, "x", "<= 1.5");
            if (single_cpu > 0) {
                snprintf(what, sizeof(what), "%u guests: CPU time per guest / single guest", n);
                bench_row("scale", what, r.cpu_s / n / single_cpu, "x", NULL);
            }
        }
        if (r.transactions) {
            snprintf(what, sizeof(what), "%u guest%s: wall us per transaction", n, n > 1 ? "s" : "");
            bench_row("scale", what, r.run_s * 1e6 / (double)r.transactions, "us", NULL);
            if (n > 1 && single_tr > 0) {
                snprintf(what, sizeof(what), "%u guests: wall per transaction / single guest", n);
                bench_row("scale", what, r.run_s / (double)r.transactions / single_tr, "x", NULL);
            }
        }
    }
}

/* --- callgrind --------------------------------------------------------------------- */

/* Run the path workload @which for @sim under callgrind; return the total
 * instructions and the frames. */
static int callgrind_run(const struct bench_opts *o, const char *which, const char *sim, uint64_t *ir,
                         uint64_t *frames)
{
    char cmd[2048], line[1024];
    FILE *p;
    int st;

    *ir = *frames = 0;
    snprintf(cmd, sizeof(cmd),
             "valgrind --tool=callgrind --callgrind-out-file=/dev/null '%s' bench --child-path %s %s 2>&1", o->self,
             which, sim);
    if (!(p = popen(cmd, "r")))
        return -1;
    while (fgets(line, sizeof(line), p)) {
        const char *c = strstr(line, "Collected : ");
        unsigned long long v;

        if (c && sscanf(c, "Collected : %llu", &v) == 1)
            *ir = v;
        else if (sscanf(line, "frames %llu", &v) == 1)
            *frames = v;
    }
    st = pclose(p);
    return st == 0 && *ir && *frames ? 0 : -1;
}

void bench_callgrind(const struct bench_opts *o)
{
    static const struct {
        const char *which, *what, *t1, *t2, *unit;
    } runs[] = {
        {"udp", "UDP 1472 B guest->host: instructions per frame", "20ms", "60ms", "Ir/frame"},
        {"tcp", "TCP_STREAM, TSO: instructions per 1448 B of goodput", "50ms", "150ms", "Ir/seg"},
    };

    if (system("valgrind --version >/dev/null 2>&1") != 0) {
        for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
            bench_row_na("callgrind", runs[i].what, "valgrind not installed");
        return;
    }
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        uint64_t ir1, f1, ir2, f2;

        if (callgrind_run(o, runs[i].which, runs[i].t1, &ir1, &f1) ||
            callgrind_run(o, runs[i].which, runs[i].t2, &ir2, &f2) || f2 <= f1 || ir2 <= ir1) {
            bench_row_na("callgrind", runs[i].what, "the callgrind run failed");
            continue;
        }
        bench_row("callgrind", runs[i].what, (double)(ir2 - ir1) / (double)(f2 - f1), runs[i].unit, NULL);
    }
}
