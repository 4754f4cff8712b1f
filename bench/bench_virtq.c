/* bench/bench_virtq.c -- virtqueue round trips per second, split and
 * packed, 1- and 3-descriptor chains, event idx on and off, indirect.
 *
 * A round trip is what one packet costs the ring code on both sides:
 * driver add + kick_prepare, device get_vq_desc + add_used + signal
 * decision (vhost_notify), driver get_buf. No engine context (ctx NULL),
 * so this measures the host CPU cost of the simulator itself. Prints a
 * table; never asserts a time. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnetsim/vnetsim.h"
#include "vnetsim/devq.h"
#include "vnetsim/virtq.h"

struct bcase {
    const char *name;
    enum vns_virtq_layout layout;
    unsigned nsg;        /* 1: one out; 3: one out + two in */
    bool event_idx;
    bool indirect;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile uint64_t sink;

/* Run @c for at least 0.25 s; returns the time and the round trips. */
static double run_case(const struct bcase *c, uint64_t *iters_out)
{
    struct vns_gmem *m = NULL;
    struct vns_gmem_table *t = NULL;
    struct vns_virtq *vq = NULL;
    struct vns_devq *dq = NULL;
    struct vns_virtq_config vc = {0};
    struct vns_devq_config dc = {0};
    struct vns_sg sg[3] = {{0x400000, 1514}, {0x401000, 1514}, {0x402000, 1514}};
    struct vns_iov iov[8];
    unsigned out_n, in_n, nout = 1, nin = c->nsg - 1;
    uint64_t iters = 1u << 18, acc = 0;
    double dt = 0;
    int token = 0;

    if (vns_gmem_create(&m) || vns_gmem_add_region(m, 0, 16u << 20) ||
        vns_gmem_table_create_all(m, &t))
        exit(1);
    vc.layout = dc.layout = c->layout;
    vc.num = dc.num = 256;
    vns_virtq_layout(c->layout, 256, 4096, 0x10000, &vc.addr);
    dc.addr = vc.addr;
    vc.event_idx = dc.event_idx = c->event_idx;
    vc.indirect = c->indirect;
    vc.indirect_gpa = 0x100000;
    if (vns_virtq_create(m, &vc, &vq) || vns_devq_create(t, &dc, &dq))
        exit(1);
    for (;;) {
        double t0 = now_s();

        for (uint64_t i = 0; i < iters; i++) {
            uint32_t len;
            int head;

            vns_virtq_add_sgs(vq, sg, nout, nin, &token, NULL);
            acc += vns_virtq_kick_prepare(vq, NULL);
            head = vns_devq_get_vq_desc(dq, iov, 8, &out_n, &in_n, NULL);
            vns_devq_add_used(dq, (uint32_t)head, 64, NULL);
            acc += vns_devq_notify(dq, NULL);
            acc += vns_virtq_get_buf(vq, &len, NULL) != NULL;
        }
        dt = now_s() - t0;
        if (dt > 0.25)
            break;
        iters *= 2;
    }
    if (vns_virtq_is_broken(vq) || vns_devq_is_broken(dq) ||
        vns_virtq_num_free(vq) != 256)
        fprintf(stderr, "bench %s: ring out of order\n", c->name);
    sink = acc;
    vns_devq_destroy(dq);
    vns_virtq_destroy(vq);
    vns_gmem_table_destroy(t);
    vns_gmem_destroy(m);
    *iters_out = iters;
    return dt;
}

int main(int argc, char **argv)
{
    static const struct bcase cases[] = {
        {"split  1 desc", VNS_VIRTQ_SPLIT, 1, false, false},
        {"split  1 desc  event_idx", VNS_VIRTQ_SPLIT, 1, true, false},
        {"split  3 desc", VNS_VIRTQ_SPLIT, 3, false, false},
        {"split  3 desc  event_idx", VNS_VIRTQ_SPLIT, 3, true, false},
        {"split  3 sg    indirect", VNS_VIRTQ_SPLIT, 3, false, true},
        {"split  3 sg    indirect event_idx", VNS_VIRTQ_SPLIT, 3, true, true},
        {"packed 1 desc", VNS_VIRTQ_PACKED, 1, false, false},
        {"packed 1 desc  event_idx", VNS_VIRTQ_PACKED, 1, true, false},
        {"packed 3 desc", VNS_VIRTQ_PACKED, 3, false, false},
        {"packed 3 desc  event_idx", VNS_VIRTQ_PACKED, 3, true, false},
        {"packed 3 sg    indirect", VNS_VIRTQ_PACKED, 3, false, true},
        {"packed 3 sg    indirect event_idx", VNS_VIRTQ_PACKED, 3, true, true},
    };
    double ns_of[16] = {0};   /* split case k pairs with packed case k + 6 */

    printf("bench_virtq: ring size 256, one round trip = add + kick_prepare + get_vq_desc\n"
           "             + add_used + notify decision + get_buf (no engine context)\n\n");
    printf("%-36s %12s %10s %10s\n", "case", "round trips", "ns/trip", "M trips/s");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t n;
        double dt, ns;

        if (argc > 1 && strstr(cases[i].name, argv[1]) == NULL)
            continue;   /* bench_virtq [substring of a case name] */
        ns = 1e30;
        for (int rep = 0; rep < 3; rep++) {   /* best of three: the machine is shared */
            dt = run_case(&cases[i], &n);
            if (dt * 1e9 / (double)n < ns)
                ns = dt * 1e9 / (double)n;
        }

        ns_of[i] = ns;
        printf("%-36s %12llu %10.1f %10.2f", cases[i].name, (unsigned long long)n, ns,
               1e3 / ns);
        if (cases[i].layout == VNS_VIRTQ_PACKED && ns_of[i - 6] > 0)
            printf("   (%.2fx the split case)", ns / ns_of[i - 6]);
        printf("\n");
    }
    printf("\ntarget: >= 30 M 1-descriptor split round trips/s on one core\n");
    return 0;
}
