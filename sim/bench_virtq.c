/* sim/bench_virtq.c -- virtqueue round trips per second, split and
 * packed, 1- and 3-descriptor chains, event idx on and off, indirect.
 *
 * A round trip is what one packet costs the ring code on both sides:
 * driver add + kick_prepare, device get_vq_desc + add_used + signal
 * decision (vhost_notify), driver get_buf. No engine context (ctx NULL),
 * so this measures the host CPU cost of the simulator itself. Prints a
 * table; never asserts a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetsim/vnetsim.h"
#include "vnetsim/devq.h"
#include "vnetsim/virtq.h"

#include "bench.h"

struct bcase {
    const char *name;
    enum vns_virtq_layout layout;
    unsigned nsg;        /* 1: one out; 3: one out + two in */
    bool event_idx;
    bool indirect;
};

#define now_s bench_now

static volatile uint64_t sink;

/* Run @c for at least 0.25 s; returns the time and the round trips. */
static double run_case(const struct bcase *c, double min_s, uint64_t *iters_out)
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
        if (dt > min_s)
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

void bench_virtq(const struct bench_opts *o)
{
    static const struct bcase cases[] = {
        {"split 1 desc", VNS_VIRTQ_SPLIT, 1, false, false},
        {"split 1 desc, event_idx", VNS_VIRTQ_SPLIT, 1, true, false},
        {"split 3 desc", VNS_VIRTQ_SPLIT, 3, false, false},
        {"split 3 desc, event_idx", VNS_VIRTQ_SPLIT, 3, true, false},
        {"split 3 sg indirect, event_idx", VNS_VIRTQ_SPLIT, 3, true, true},
        {"packed 1 desc", VNS_VIRTQ_PACKED, 1, false, false},
        {"packed 1 desc, event_idx", VNS_VIRTQ_PACKED, 1, true, false},
        {"packed 3 desc", VNS_VIRTQ_PACKED, 3, false, false},
        {"packed 3 desc, event_idx", VNS_VIRTQ_PACKED, 3, true, false},
        {"packed 3 sg indirect, event_idx", VNS_VIRTQ_PACKED, 3, true, true},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char what[96];
        double ns = 1e30;
        uint64_t n;

        for (int rep = 0; rep < 3; rep++) {   /* best of three: the machine is shared */
            double dt = run_case(&cases[i], o->quick ? 0.05 : 0.25, &n);

            if (dt * 1e9 / (double)n < ns)
                ns = dt * 1e9 / (double)n;
        }
        snprintf(what, sizeof(what), "round trips/s, %s", cases[i].name);
        bench_row("virtq", what, 1e9 / ns, "trips/s", i == 0 ? ">= 30 M" : NULL);
    }
}
