/* lib/world/stats_json.c -- every figure of a world run as JSON (jansson):
 * per machine its CPUs (busy time, interrupts, softirq runs by place,
 * context switches, VM exits, halts), its kernel's drops by reason, and
 * its devices' counters (as `ip -s link` shows them); wires per direction.
 * Keys are sorted on output so that the same run gives the same bytes. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>

#include "vnetsim/cpu.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/sim.h"
#include "vnetsim/trace.h"
#include "vnetsim/wire.h"
#include "world_int.h"

static json_t *cpu_json(const struct vns_cpu *c, vns_time_t t)
{
    const struct vns_cpu_stats *s = vns_cpu_stats(c);

    return json_pack("{s:s, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name", vns_cpu_name(c),
                     "busy_ns", (json_int_t)s->busy_ns, "utilization", t ? (double)s->busy_ns / (double)t : 0.0,
                     "irqs", (json_int_t)s->irqs,
                     "softirq_at_irq_exit", (json_int_t)s->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT],
                     "softirq_at_bh_enable", (json_int_t)s->softirq_runs[VNS_SOFTIRQ_AT_BH_ENABLE],
                     "softirq_in_ksoftirqd", (json_int_t)s->softirq_runs[VNS_SOFTIRQ_IN_KSOFTIRQD],
                     "context_switches", (json_int_t)s->ctx_switches, "vmexits", (json_int_t)s->vmexits,
                     "halts", (json_int_t)s->halts, "halt_wakeups", (json_int_t)s->halt_wakeups);
}

static json_t *dev_json(const struct vns_net_device *dev)
{
    const struct vns_rtnl_link_stats *s = &dev->stats;

    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name", dev->name,
                     "rx_packets", (json_int_t)s->rx_packets, "tx_packets", (json_int_t)s->tx_packets,
                     "rx_bytes", (json_int_t)s->rx_bytes, "tx_bytes", (json_int_t)s->tx_bytes,
                     "rx_dropped", (json_int_t)s->rx_dropped, "tx_dropped", (json_int_t)s->tx_dropped,
                     "rx_errors", (json_int_t)s->rx_errors, "tx_errors", (json_int_t)s->tx_errors);
}

static json_t *machine_json(const struct vns_machine *m, vns_time_t t)
{
    static const char *const kinds[] = {"host", "guest", "remote"};
    json_t *cpus = json_array(), *devs = json_array(), *drops = json_object();

    for (unsigned i = 0; i < m->ncpus; i++)
        json_array_append_new(cpus, cpu_json(m->cpus[i], t));
    for (int i = 1; i < 4096; i++) {
        struct vns_net_device *dev = vns_dev_get_by_index(m->kernel, i);

        if (dev)
            json_array_append_new(devs, dev_json(dev));
    }
    for (int r = 0; r < VNS_SKB_DROP_REASON_MAX; r++) {
        uint64_t n = vns_kernel_drops(m->kernel, (enum vns_skb_drop_reason)r);

        if (n)
            json_object_set_new(drops, vns_drop_reason_name((enum vns_skb_drop_reason)r), json_integer((json_int_t)n));
    }
    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", m->name, "kind", kinds[m->kind], "cpus", cpus,
                     "devices", devs, "drops", drops);
}

json_t *vns__world_stats_json(const struct vns_world *w, const struct vns_world_view *v)
{
    struct vns_sim *sim = v->sim;
    vns_time_t t = vns_sim_now(sim);
    json_t *machines = json_array(), *wires = json_array();
    char fp[32];

    json_array_append_new(machines, machine_json(v->host, t));
    for (size_t i = 0; i < v->nremotes; i++)
        json_array_append_new(machines, machine_json(&v->remotes[i], t));
    for (size_t i = 0; i < v->nguests; i++)
        json_array_append_new(machines, machine_json(&v->guests[i], t));
    for (size_t i = 0; i < v->nwires; i++) {
        for (int end = 0; end < 2; end++) {
            const struct vns_wire_stats *s = vns_wire_stats(v->wires[i], end);

            json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "from",
                                  vns_wire_dev(v->wires[i], end)->name, "frames", (json_int_t)s->frames, "bytes",
                                  (json_int_t)s->bytes, "lost", (json_int_t)s->lost, "duplicated",
                                  (json_int_t)s->duplicated, "reordered", (json_int_t)s->reordered, "corrupted",
                                  (json_int_t)s->corrupted, "delivered", (json_int_t)s->delivered);

            json_object_set_new(o, "burst_lost", json_integer((json_int_t)s->burst_lost));
            json_object_set_new(o, "link_down", json_integer((json_int_t)s->link_down));
            json_array_append_new(wires, o);
        }
    }
    (void)w;
    snprintf(fp, sizeof(fp), "0x%016" PRIx64, vns_sim_fingerprint(sim));
    return json_pack("{s:s, s:I, s:I, s:I, s:s, s:o, s:o}", "profile", vns_profile_name(vns_sim_profile(sim)),
                     "seed", (json_int_t)vns_sim_seed(sim), "sim_time_ns", (json_int_t)t, "events",
                     (json_int_t)vns_sim_events_run(sim), "fingerprint", fp, "machines", machines, "wires", wires);
}
