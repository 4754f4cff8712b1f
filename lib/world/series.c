/* lib/world/series.c -- the columns of `vnetsim run --series`: each CPU's
 * utilization, each device's bit rates and qdisc backlog, each guest
 * virtqueue's occupancy (buffers the driver made available and has not
 * taken back used: on TX the packets in flight to vhost-net, on RX the
 * empty buffers waiting for packets), and each workload's received bit
 * rate, packet rate and TCP congestion window. Sampling is an observer:
 * it never changes a result (lib/core series.c). */
#include <stdio.h>

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/qdisc.h"
#include "vnetsim/trace.h"
#include "vnetsim/virtio_net.h"
#include "vnetsim/virtq.h"
#include "world_int.h"

static double series_cpu_busy(void *arg)
{
    return (double)vns_cpu_stats(arg)->busy_ns / 1e9;   /* rate: utilization */
}

static double series_dev_rx_bits(void *arg)
{
    return (double)((struct vns_net_device *)arg)->stats.rx_bytes * 8;
}

static double series_dev_tx_bits(void *arg)
{
    return (double)((struct vns_net_device *)arg)->stats.tx_bytes * 8;
}

static double series_dev_backlog(void *arg)
{
    const struct vns_Qdisc *q = ((struct vns_net_device *)arg)->txq.qdisc;

    return q ? (double)q->qlen : 0.0;
}

static double series_vq_occupancy(void *arg)
{
    const struct vns_virtq_stats *s = vns_virtq_stats(arg);

    return (double)(s->adds - s->get_bufs);
}

static int series_machine(struct vns_sim *sim, const struct vns_machine *m)
{
    char name[96];
    int err = 0;

    for (unsigned i = 0; i < m->ncpus && !err; i++) {
        snprintf(name, sizeof(name), "%s.util", vns_cpu_name(m->cpus[i]));
        err = vns_series_add(sim, name, series_cpu_busy, m->cpus[i], true);
    }
    for (int i = 1; i < 4096 && !err; i++) {
        struct vns_net_device *dev = vns_dev_get_by_index(m->kernel, i);

        if (!dev)
            continue;
        snprintf(name, sizeof(name), "%.31s/%.16s.rx_bps", m->name, dev->name);
        err = vns_series_add(sim, name, series_dev_rx_bits, dev, true);
        snprintf(name, sizeof(name), "%.31s/%.16s.tx_bps", m->name, dev->name);
        if (!err)
            err = vns_series_add(sim, name, series_dev_tx_bits, dev, true);
        snprintf(name, sizeof(name), "%.31s/%.16s.qdisc_backlog", m->name, dev->name);
        if (!err && dev->txq.qdisc_sleeping && dev->txq.qdisc_sleeping->ops->enqueue)   /* not noqueue */
            err = vns_series_add(sim, name, series_dev_backlog, dev, false);
    }
    return err;
}

/* Guest @i's virtqueues: "vm1/eth0.txq0.ring", "vm1/eth0.rxq0.ring". */
static int series_guest_queues(struct vns_world *w, size_t i, const struct vns_machine *m)
{
    struct vns_virtnet *vi;
    struct vns_vhost_net *const *nets;
    unsigned qps = vns__world_guest_queues(w, i, &vi, &nets);
    char name[96];
    int err = 0;

    for (unsigned q = 0; q < qps && !err; q++) {
        snprintf(name, sizeof(name), "%.31s/%.16s.txq%u.ring", m->name, m->nic->name, q);
        err = vns_series_add(vns_world_sim(w), name, series_vq_occupancy, vns_virtnet_vq(vi, 2 * q + 1), false);
        snprintf(name, sizeof(name), "%.31s/%.16s.rxq%u.ring", m->name, m->nic->name, q);
        if (!err)
            err = vns_series_add(vns_world_sim(w), name, series_vq_occupancy, vns_virtnet_vq(vi, 2 * q), false);
    }
    return err;
}

int vns_world_series_start(struct vns_world *w, vns_time_t interval)
{
    size_t n, guest = 0;
    const struct vns_machine **ms = vns__world_machines(w, &n);
    int err = ms ? 0 : -VNS_ENOMEM;

    for (size_t k = 0; k < n && !err; k++) {
        err = series_machine(vns_world_sim(w), ms[k]);
        if (!err && ms[k]->kind == VNS_MACHINE_GUEST)
            err = series_guest_queues(w, guest++, ms[k]);
    }
    vns_free((void *)ms);
    if (!err)
        err = vns__world_workloads_series(w);
    return err ? err : vns_series_start(vns_world_sim(w), interval);
}
