/* tests/soak/soak.c -- a long run with mixed traffic and periodic faults:
 * memory stays flat and the packet ledger balances.
 *
 *   vns_soak [--duration T] [--period P] [--burst B]
 *
 * Every period P (1 min for the hour of `cmake --build build --target
 * soak`, 1 s by default) a burst of B of traffic: a TCP stream from vm1 to
 * the host, one from the host to vm2, TCP_RR from the host to the remote r1 over a
 * lossy, bursty wire (Gilbert-Elliott); and one fault in turn: a link flap
 * on the wire, memory pressure in vm2 (its refill work must recover), a
 * busy process on vm1's vhost CPU. Between bursts the memory the
 * simulator holds (vns_alloc_bytes) and the skbs in flight on every
 * machine are sampled; after a warm-up (the first sixth of the run, and
 * at least one turn of the three faults: each sets its own high-water
 * mark, memory pressure piling skbs up in the host's queues) the memory
 * must not grow by more than 5% + 1 MiB, and at the end every machine's
 * and wire's books must balance.
 *
 * With no argument: 6 s, period 1 s, bursts of 100 ms (CI runs this under
 * Valgrind memcheck). Prints a line per period. Exit 0 or 1. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/kernel.h"
#include "vnetsim/scenario.h"
#include "vnetsim/sim.h"
#include "vnetsim/units.h"
#include "vnetsim/world.h"

struct text {
    char *s;
    size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) VNS_PRINTF(2, 3);

static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            exit(2);
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        if (!t->s)
            exit(2);
    }
}

static char *scenario_text(vns_time_t duration, vns_time_t period, vns_time_t burst)
{
    struct text t = {0};
    unsigned n = (unsigned)(duration / period);

    put(&t,
        "duration: %lluns\n"
        "host:\n"
        "  cpus: 4\n"
        "  devices:\n"
        "    - {name: br0, type: bridge, addr: 10.0.0.1/24}\n"
        "    - {name: tap0, type: tap, master: br0}\n"
        "    - {name: tap1, type: tap, master: br0}\n"
        "    - {name: eth0, type: wire, peer: r1, rate: 1Gbit, delay: 50us, addr: 10.1.0.1/24,\n"
        "       loss: 0.0005, gilbert: {p: 0.0005, r: 0.3}}\n"
        "remotes:\n"
        "  - {name: r1, cpus: 2, addr: 10.1.0.2/24}\n"
        "guests:\n"
        "  - {name: vm1, vcpus: [{pin: 1}], addr: 10.0.0.2/24, nic: {backend: tap0, vhost: {pin: "
        "2}}}\n"
        "  - {name: vm2, vcpus: [{pin: 3}], addr: 10.0.0.3/24, nic: {backend: tap1, vhost: {pin: "
        "2}}}\n"
        "workloads:\n",
        (unsigned long long)duration);
    for (unsigned i = 0; i < n; i++) {
        unsigned long long s = (unsigned long long)(i * period + period / 10),
                           b = (unsigned long long)burst;

        put(&t, "  - {type: tcp_stream, from: vm1, to: host, start: %lluns, duration: %lluns}\n", s,
            b);
        put(&t, "  - {type: tcp_stream, from: host, to: vm2, start: %lluns, duration: %lluns}\n", s,
            b);
        put(&t, "  - {type: tcp_rr, from: host, to: r1, start: %lluns, duration: %lluns}\n", s, b);
    }
    put(&t, "faults:\n");
    for (unsigned i = 0; i < n; i++) {
        unsigned long long s = (unsigned long long)(i * period + period / 10 + burst / 4),
                           q = (unsigned long long)(burst / 4);

        if (i % 3 == 0)
            put(&t, "  - {type: link_down, target: eth0, at: %lluns, duration: %lluns}\n", s, q);
        else if (i % 3 == 1)
            put(&t, "  - {type: rx_oom, target: vm2, at: %lluns, duration: %lluns}\n", s, q);
        else
            put(&t, "  - {type: cpu_hog, cpu: 2, at: %lluns, duration: %lluns}\n", s, 2 * q);
    }
    return t.s;
}

static vns_time_t time_arg(const char *v)
{
    vns_time_t t;

    if (vns_parse_time(v, &t) < 0 || t == 0) {
        fprintf(stderr, "vns_soak: '%s' is not a time such as 3600s or 100ms\n", v);
        exit(2);
    }
    return t;
}

int main(int argc, char **argv)
{
    vns_time_t duration = VNS_SEC(6), period = VNS_SEC(1), burst = VNS_MSEC(100);
    const char *names[] = {"host", "r1", "vm1", "vm2"};
    struct vns_scenario *sc = NULL;
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    char buf[1024], *text;
    uint64_t warm = 0, peak_after = 0, grows = 0, warm_grows = 0, max_live = 0;
    unsigned n, nwarm, bad = 0;
    int fin;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--duration") && i + 1 < argc)
            duration = time_arg(argv[++i]);
        else if (!strcmp(argv[i], "--period") && i + 1 < argc)
            period = time_arg(argv[++i]);
        else if (!strcmp(argv[i], "--burst") && i + 1 < argc)
            burst = time_arg(argv[++i]);
        else {
            fprintf(stderr, "usage: vns_soak [--duration T] [--period P] [--burst B]\n");
            return 2;
        }
    }
    if (burst * 2 > period || duration < 4 * period) {
        fprintf(stderr, "vns_soak: needs burst <= period / 2 and at least 4 periods\n");
        return 2;
    }
    n = (unsigned)(duration / period);
    nwarm = (n + 5) / 6 > 3 ? (n + 5) / 6 : 3;   /* a sixth, and every fault once */
    text = scenario_text(duration, period, burst);
    if (vns_scenario_parse(text, strlen(text), "soak.yaml", NULL, 0, &sc, &d) < 0 ||
        vns_world_create(sc, &w, &d) < 0) {
        vns_diag_format(&d, buf, sizeof(buf));
        fprintf(stderr, "%s\n", buf);
        return 2;
    }
    free(text);
    printf("%8s %12s %10s %10s  skbs in flight (host r1 vm1 vm2)\n", "period", "sim time", "memory",
           "pool grows");
    for (unsigned i = 1; i <= n; i++) {
        uint64_t mem;

        if (vns_sim_run(vns_world_sim(w), i * period) < 0)
            return 1;
        mem = vns_alloc_bytes();
        grows = 0;
        for (size_t m = 0; m < 4; m++)
            grows += vns_kernel_stats(vns_world_machine(w, names[m])->kernel)->pool_grows;
        printf("%8u %12s %10llu %10llu ", i,
               vns_format_time(vns_sim_now(vns_world_sim(w)), buf, sizeof(buf)),
               (unsigned long long)mem, (unsigned long long)grows);
        for (size_t m = 0; m < 4; m++) {
            uint64_t live = vns_kernel_stats(vns_world_machine(w, names[m])->kernel)->skb_live;

            printf(" %llu", (unsigned long long)live);
            max_live = live > max_live ? live : max_live;
        }
        putchar('\n');
        if (i <= nwarm) {
            warm = mem > warm ? mem : warm;
            warm_grows = grows;
        } else {
            peak_after = mem > peak_after ? mem : peak_after;
        }
    }
    for (size_t i = 0; i < vns_world_nworkloads(w); i++) {
        struct vns_workload_result r;

        if (vns_world_workload(w, i, &r) == 0 && (r.mismatches || r.error)) {
            printf("workload %zu %s %s -> %s: %llu mismatches, error %d\n", i, r.type, r.from, r.to,
                   (unsigned long long)r.mismatches, r.error);
            bad++;
        }
    }
    /* Between bursts a machine holds what idle sockets and TIME_WAIT
     * keep: a handful of skbs, never a growing pile. */
    if (max_live > 64) {
        printf("skbs in flight between bursts reached %llu\n", (unsigned long long)max_live);
        bad++;
    }
    if (peak_after > warm + warm / 20 + (1u << 20)) {
        printf("memory grew: %llu bytes after warm-up, %llu during it\n",
               (unsigned long long)peak_after, (unsigned long long)warm);
        bad++;
    }
    fin = vns_world_finish(w);
    vns_world_print_ledger(w, stdout);
    if (fin) {
        printf("the packet ledger does not balance\n");
        bad++;
    }
    printf("memory: %llu bytes at most during warm-up, %llu after; peak %llu; skb pools grew %llu "
           "times "
           "during warm-up, %llu after; at most %llu skbs in flight between bursts; ledger %s\n",
           (unsigned long long)warm, (unsigned long long)peak_after,
           (unsigned long long)vns_alloc_bytes_peak(), (unsigned long long)warm_grows,
           (unsigned long long)(grows - warm_grows), (unsigned long long)max_live,
           fin ? "UNBALANCED" : "balanced");
    vns_world_destroy(w);
    vns_scenario_free(sc);
    if (vns_alloc_live() != 0) {
        printf("%ld allocations leaked\n", vns_alloc_live());
        bad++;
    }
    printf("soak: %s\n", bad ? "FAILED" : "passed");
    return bad ? 1 : 0;
}
