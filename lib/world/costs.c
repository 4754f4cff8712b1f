/* lib/world/costs.c -- what the machines did while one workload ran: the
 * counters of every guest NIC (kicks, interrupts), every CPU (busy time)
 * and every kernel (drops by reason) at the workload's start and at its
 * end (or now, for one that runs to the end), as the per-workload
 * per-packet figures of the summary and the stats JSON divide them.
 * Workloads that run at the same time share what they cost: each window
 * counts all of it.
 *
 * The snapshots are taken by observer events (VNS_EV_OBSERVE, as the
 * time series' samples): they are not in the fingerprint and change no
 * result. */
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/kernel.h"
#include "vnetsim/sim.h"
#include "vnetsim/skb.h"
#include "vnetsim/virtio_net.h"
#include "world_int.h"

struct costs_snap {
    bool taken;
    vns_time_t at;
    uint64_t kicks, interrupts;
    uint64_t *busy_ns;                         /* per CPU */
    uint64_t drops[VNS_SKB_DROP_REASON_MAX];
};

struct vns__costs {
    struct vns_world *w;
    size_t ncpus;
    const struct vns_cpu **cpus;
    struct vns_timer t_from, t_to;
    struct costs_snap from, to, now;
    uint64_t *delta_busy;                      /* what vns__costs_get returns */
    uint64_t delta_drops[VNS_SKB_DROP_REASON_MAX];
};

static void snap(const struct vns__costs *c, struct costs_snap *s)
{
    size_t n;
    const struct vns_machine **ms = vns__world_machines(c->w, &n);
    size_t guest = 0;

    s->taken = true;
    s->at = vns_sim_now(vns_world_sim(c->w));
    s->kicks = s->interrupts = 0;
    memset(s->drops, 0, sizeof(s->drops));
    for (size_t i = 0; i < c->ncpus; i++)
        s->busy_ns[i] = vns_cpu_stats(c->cpus[i])->busy_ns;
    for (size_t k = 0; ms && k < n; k++) {
        for (int r = 0; r < VNS_SKB_DROP_REASON_MAX; r++)
            s->drops[r] += vns_kernel_drops(ms[k]->kernel, (enum vns_skb_drop_reason)r);
        if (ms[k]->kind == VNS_MACHINE_GUEST) {
            struct vns_virtnet *vi;
            struct vns_vhost_net *const *nets;
            unsigned qps = vns__world_guest_queues(c->w, guest++, &vi, &nets);

            for (unsigned q = 0; q < qps; q++) {
                s->kicks += vns_virtnet_sq_stats(vi, q)->kicks + vns_virtnet_rq_stats(vi, q)->kicks;
                s->interrupts += vns_virtnet_sq_stats(vi, q)->interrupts + vns_virtnet_rq_stats(vi, q)->interrupts;
            }
        }
    }
    vns_free((void *)ms);
}

static void costs_from(struct vns_sim *sim, struct vns_timer *t)
{
    (void)sim;
    snap(t->data, &((struct vns__costs *)t->data)->from);
}

static void costs_to(struct vns_sim *sim, struct vns_timer *t)
{
    (void)sim;
    snap(t->data, &((struct vns__costs *)t->data)->to);
}

void vns__costs_destroy(struct vns__costs *c)
{
    if (!c)
        return;
    vns_timer_cancel(vns_world_sim(c->w), &c->t_from);
    vns_timer_cancel(vns_world_sim(c->w), &c->t_to);
    vns_free(c->from.busy_ns);
    vns_free(c->to.busy_ns);
    vns_free(c->now.busy_ns);
    vns_free(c->delta_busy);
    vns_free((void *)c->cpus);
    vns_free(c);
}

int vns__costs_start(struct vns_world *w, vns_time_t from, vns_time_t to, struct vns__costs **out)
{
    struct vns__costs *c = vns_calloc(1, sizeof(*c));
    struct vns_sim *sim = vns_world_sim(w);
    const struct vns_machine **ms;
    size_t n, k = 0;
    int err = 0;

    if (!c)
        return -VNS_ENOMEM;
    c->w = w;
    vns_timer_init(&c->t_from, costs_from, c, 0);
    vns_timer_init(&c->t_to, costs_to, c, 0);
    c->t_from.kind = c->t_to.kind = VNS_EV_OBSERVE;
    ms = vns__world_machines(w, &n);
    for (size_t m = 0; ms && m < n; m++)
        c->ncpus += ms[m]->ncpus;
    c->cpus = vns_calloc(c->ncpus + 1, sizeof(*c->cpus));
    c->from.busy_ns = vns_calloc(c->ncpus + 1, sizeof(uint64_t));
    c->to.busy_ns = vns_calloc(c->ncpus + 1, sizeof(uint64_t));
    c->now.busy_ns = vns_calloc(c->ncpus + 1, sizeof(uint64_t));
    c->delta_busy = vns_calloc(c->ncpus + 1, sizeof(uint64_t));
    if (!ms || !c->cpus || !c->from.busy_ns || !c->to.busy_ns || !c->now.busy_ns || !c->delta_busy)
        err = -VNS_ENOMEM;
    for (size_t m = 0; !err && m < n; m++)
        for (unsigned i = 0; i < ms[m]->ncpus; i++)
            c->cpus[k++] = ms[m]->cpus[i];
    vns_free((void *)ms);
    if (!err)
        err = vns_timer_arm(sim, &c->t_from, from);
    if (!err && to != VNS_TIME_NEVER)
        err = vns_timer_arm(sim, &c->t_to, to);
    if (err) {
        vns__costs_destroy(c);
        return err;
    }
    *out = c;
    return 0;
}

void vns__costs_get(struct vns__costs *c, struct vns_workload_costs *out)
{
    const struct costs_snap *end = &c->to;

    memset(out, 0, sizeof(*out));
    out->ncpus = c->ncpus;
    out->cpus = c->cpus;
    out->busy_ns = c->delta_busy;
    out->drops = c->delta_drops;
    memset(c->delta_busy, 0, c->ncpus * sizeof(uint64_t));
    memset(c->delta_drops, 0, sizeof(c->delta_drops));
    if (!c->from.taken)
        return;   /* not started yet */
    if (!end->taken) {
        snap(c, &c->now);
        end = &c->now;
    }
    out->from = c->from.at;
    out->to = end->at;
    out->kicks = end->kicks - c->from.kicks;
    out->interrupts = end->interrupts - c->from.interrupts;
    for (size_t i = 0; i < c->ncpus; i++)
        c->delta_busy[i] = end->busy_ns[i] - c->from.busy_ns[i];
    for (int r = 0; r < VNS_SKB_DROP_REASON_MAX; r++)
        c->delta_drops[r] = end->drops[r] - c->from.drops[r];
}
