/* lib/world/stats_json.c -- every figure of a world run as JSON (jansson):
 *   sim        events, simulated_seconds, sim_time_ns (wall_seconds from
 *              the caller's extra object: the only figure that is not a
 *              function of scenario and seed)
 *   workloads  what the summary's rows show, and more; under "costs"
 *              what the machines did while each ran (kicks, interrupts,
 *              CPU time by CPU, drops by reason) and per packet
 *   per_packet the packets the workloads received and each busy CPU's
 *              simulated ns per packet
 *   machines   per machine its CPUs (busy time, interrupts, softirq runs
 *              by place, context switches, VM exits, halts), its kernel's
 *              drops by reason, its IPv4/UDP/TCP/ICMP counters, its
 *              devices' counters (as `ip -s link` shows them) and, for a
 *              guest, its virtio-net NIC per virtqueue: driver side
 *              (buffers made available and taken back used, kicks,
 *              interrupts, ring-full stops) and vhost side (runs, batches,
 *              no-buffer waits)
 *   wires      per direction
 * Keys are sorted on output so that the same run gives the same bytes. */
#include <inttypes.h>
#include <stddef.h>
#include <jansson.h>
#include <stdio.h>

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/inet.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/sim.h"
#include "vnetsim/trace.h"
#include "vnetsim/vhost.h"
#include "vnetsim/vhost_net.h"
#include "vnetsim/virtio_net.h"
#include "vnetsim/virtq.h"
#include "vnetsim/wire.h"
#include "world_int.h"

static void set_u64(json_t *o, const char *key, uint64_t v)
{
    json_object_set_new(o, key, json_integer((json_int_t)v));
}

static void set_real(json_t *o, const char *key, double v)
{
    json_object_set_new(o, key, json_real(v));
}

static double per(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

static json_t *cpu_json(const struct vns_cpu *c, vns_time_t t, uint64_t pkts)
{
    const struct vns_cpu_stats *s = vns_cpu_stats(c);
    json_t *o = json_pack("{s:s, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name", vns_cpu_name(c),
                          "busy_ns", (json_int_t)s->busy_ns, "utilization", t ? (double)s->busy_ns / (double)t : 0.0,
                          "irqs", (json_int_t)s->irqs,
                          "softirq_at_irq_exit", (json_int_t)s->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT],
                          "softirq_at_bh_enable", (json_int_t)s->softirq_runs[VNS_SOFTIRQ_AT_BH_ENABLE],
                          "softirq_in_ksoftirqd", (json_int_t)s->softirq_runs[VNS_SOFTIRQ_IN_KSOFTIRQD],
                          "context_switches", (json_int_t)s->ctx_switches, "vmexits", (json_int_t)s->vmexits,
                          "halts", (json_int_t)s->halts, "halt_wakeups", (json_int_t)s->halt_wakeups);

    set_real(o, "ns_per_packet", per(s->busy_ns, pkts));
    return o;
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

/* A counter of a stats struct: its JSON key and where it is. */
struct field {
    const char *key;
    size_t off;
};
#define FIELD(type, key, member) {key, offsetof(type, member)}

static void set_fields(json_t *o, const void *base, const struct field *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        set_u64(o, f[i].key, *(const uint64_t *)(const void *)((const char *)base + f[i].off));
}

/* The SNMP counters a reader of netstat -s looks at first. */
static const struct field inet_fields[] = {
#define I(m) FIELD(struct vns_inet_stats, #m, m)
    I(ip_in_receives), I(ip_in_delivers), I(ip_in_discards), I(ip_out_requests), I(ip_out_no_routes),
    I(ip_frag_fails), I(icmp_in_msgs), I(icmp_out_msgs), I(udp_in_datagrams), I(udp_out_datagrams),
    I(udp_no_ports), I(udp_rcvbuf_errors), I(udp_sndbuf_errors), I(udp_in_csum_errors), I(tcp_in_segs),
    I(tcp_out_segs), I(tcp_retrans_segs), I(tcp_in_csum_errors), I(arp_requests_sent),
    I(payload_bytes_verified), I(payload_mismatches),
#undef I
};

/* A virtqueue pair's counters: the guest driver's (virtio_net and the
 * virtqueue) and vhost-net's, under the names of the JSON. */
static const struct field sq_fields[] = {
    FIELD(struct vns_virtnet_sq_stats, "packets", packets), FIELD(struct vns_virtnet_sq_stats, "bytes", bytes),
    FIELD(struct vns_virtnet_sq_stats, "kicks", kicks),
    FIELD(struct vns_virtnet_sq_stats, "kicks_suppressed", kicks_suppressed),
    FIELD(struct vns_virtnet_sq_stats, "xmit_more", xmit_more),
    FIELD(struct vns_virtnet_sq_stats, "interrupts", interrupts),
    FIELD(struct vns_virtnet_sq_stats, "napi_polls", napi_polls),
    FIELD(struct vns_virtnet_sq_stats, "ring_full_stops", stops), FIELD(struct vns_virtnet_sq_stats, "wakes", wakes),
};
static const struct field rq_fields[] = {
    FIELD(struct vns_virtnet_rq_stats, "packets", packets), FIELD(struct vns_virtnet_rq_stats, "bytes", bytes),
    FIELD(struct vns_virtnet_rq_stats, "kicks", kicks),
    FIELD(struct vns_virtnet_rq_stats, "interrupts", interrupts),
    FIELD(struct vns_virtnet_rq_stats, "polls", polls),
    FIELD(struct vns_virtnet_rq_stats, "napi_complete", napi_complete),
    FIELD(struct vns_virtnet_rq_stats, "refill_fail", refill_fail),
    FIELD(struct vns_virtnet_rq_stats, "refill_work", refill_work),
};
static const struct field vq_fields[] = {
    FIELD(struct vns_virtq_stats, "avail", adds), FIELD(struct vns_virtq_stats, "descs", descs),
    FIELD(struct vns_virtq_stats, "used", get_bufs), FIELD(struct vns_virtq_stats, "ring_full_adds", enospc),
};
static const struct field vhost_tx_fields[] = {
#define T(k, m) FIELD(struct vns_vhost_net_tx_stats, k, m)
    T("runs", runs), T("packets", packets), T("batches", batches), T("batched", batched), T("direct", direct),
    T("ring_empty", empty), T("notify_races", notify_races), T("weight_exits", weight_exits),
    T("used_flushes", used_flushes), T("sendmsg_errors", sendmsg_errors), T("busy_polls", busy_polls),
    T("ring_errors", ring_errors), T("format_errors", format_errors),
#undef T
};
static const struct field vhost_rx_fields[] = {
#define R(k, m) FIELD(struct vns_vhost_net_rx_stats, k, m)
    R("runs", runs), R("packets", packets), R("buffers", buffers), R("batches", ring_batches),
    R("no_buffers", no_buffers), R("notify_races", notify_races), R("weight_exits", weight_exits),
    R("overruns", overruns), R("used_flushes", used_flushes), R("busy_polls", busy_polls),
    R("discarded", discarded), R("ring_errors", ring_errors), R("format_errors", format_errors),
#undef R
};
#define SET_FIELDS(o, base, table) set_fields(o, base, table, sizeof(table) / sizeof(table[0]))

/* One queue pair of a guest's NIC: the driver's and vhost-net's view of
 * its TX and RX virtqueues. */
static json_t *queue_pair_json(const struct vns_virtnet *vi, const struct vns_vhost_net *net, unsigned q)
{
    const struct vns_virtnet_sq_stats *sq = vns_virtnet_sq_stats(vi, q);
    const struct vns_virtnet_rq_stats *rq = vns_virtnet_rq_stats(vi, q);
    json_t *tx = json_object(), *rx = json_object(), *vtx = json_object(), *vrx = json_object();

    SET_FIELDS(tx, sq, sq_fields);
    SET_FIELDS(tx, vns_virtq_stats(vns_virtnet_vq(vi, 2 * q + 1)), vq_fields);
    set_real(tx, "kicks_per_packet", per(sq->kicks, sq->packets));
    set_real(tx, "interrupts_per_packet", per(sq->interrupts, sq->packets));
    SET_FIELDS(vtx, vns_vhost_net_tx_stats(net), vhost_tx_fields);
    json_object_set_new(tx, "vhost", vtx);
    SET_FIELDS(rx, rq, rq_fields);
    SET_FIELDS(rx, vns_virtq_stats(vns_virtnet_vq(vi, 2 * q)), vq_fields);
    json_object_del(rx, "descs");
    set_real(rx, "interrupts_per_packet", per(rq->interrupts, rq->packets));
    SET_FIELDS(vrx, vns_vhost_net_rx_stats(net), vhost_rx_fields);
    json_object_set_new(rx, "vhost", vrx);
    return json_pack("{s:i, s:o, s:o}", "queue_pair", (int)q, "tx", tx, "rx", rx);
}

static json_t *machine_json(const struct vns_world *w, const struct vns_machine *m, size_t guest, vns_time_t t,
                            uint64_t pkts)
{
    static const char *const kinds[] = {"host", "guest", "remote"};
    json_t *cpus = json_array(), *devs = json_array(), *drops = json_object(), *o;
    struct vns_virtnet *vi;
    struct vns_vhost_net *const *nets;
    unsigned qps;

    for (unsigned i = 0; i < m->ncpus; i++)
        json_array_append_new(cpus, cpu_json(m->cpus[i], t, pkts));
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
    o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "name", m->name, "kind", kinds[m->kind], "cpus", cpus,
                  "devices", devs, "drops", drops, "inet", json_object());
    SET_FIELDS(json_object_get(o, "inet"), vns_inet_stats(m->inet), inet_fields);
    if (m->kind == VNS_MACHINE_GUEST && (qps = vns__world_guest_queues(w, guest, &vi, &nets))) {
        json_t *qs = json_array();

        for (unsigned q = 0; q < qps; q++)
            json_array_append_new(qs, queue_pair_json(vi, nets[q], q));
        json_object_set_new(o, "virtio_net", json_pack("{s:s, s:o}", "device", m->nic->name, "queues", qs));
    }
    return o;
}

/* What the machines did while workload @i ran, per packet it received. */
static json_t *costs_json(const struct vns_world *w, size_t i, uint64_t pkts)
{
    struct vns_workload_costs c;
    json_t *o = json_object(), *busy = json_object(), *perpkt = json_object(), *drops = json_object();

    if (vns_world_workload_costs(w, i, &c) == 0) {
        set_u64(o, "from_ns", c.from);
        set_u64(o, "to_ns", c.to);
        set_u64(o, "kicks", c.kicks);
        set_u64(o, "interrupts", c.interrupts);
        set_real(o, "kicks_per_packet", per(c.kicks, pkts));
        set_real(o, "interrupts_per_packet", per(c.interrupts, pkts));
        for (size_t k = 0; k < c.ncpus; k++) {
            if (!c.busy_ns[k])
                continue;
            set_u64(busy, vns_cpu_name(c.cpus[k]), c.busy_ns[k]);
            set_real(perpkt, vns_cpu_name(c.cpus[k]), per(c.busy_ns[k], pkts));
        }
        for (int d = 0; d < VNS_SKB_DROP_REASON_MAX; d++)
            if (c.drops[d])
                set_u64(drops, vns_drop_reason_name((enum vns_skb_drop_reason)d), c.drops[d]);
    }
    json_object_set_new(o, "cpu_busy_ns", busy);
    json_object_set_new(o, "cpu_ns_per_packet", perpkt);
    json_object_set_new(o, "drops", drops);
    return o;
}

static json_t *workloads_json(const struct vns_world *w, uint64_t *pkts)
{
    json_t *wls = json_array();

    *pkts = 0;
    for (size_t i = 0; i < vns_world_nworkloads(w); i++) {
        struct vns_workload_result r;
        json_t *o;

        if (vns_world_workload(w, i, &r) < 0)
            continue;
        *pkts += r.packets;
        o = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:s}", "type", r.type, "from",
                      r.from, "to", r.to, "flows", (int)r.flows, "bytes", (json_int_t)r.bytes, "sent_bytes",
                      (json_int_t)r.sent_bytes, "throughput_bps", r.throughput_bps, "transactions",
                      (json_int_t)r.transactions, "latency_p50_ns", (json_int_t)r.latency_p50, "latency_p99_ns",
                      (json_int_t)r.latency_p99, "latency_p999_ns", (json_int_t)r.latency_p999, "payload_verified",
                      (json_int_t)r.verified, "error", r.error ? vns_errname(r.error) : "");
        set_u64(o, "payload_mismatches", r.mismatches);
        set_u64(o, "packets_sent", r.packets_sent);
        set_u64(o, "packets", r.packets);
        set_u64(o, "lost", r.lost);
        set_real(o, "loss_ratio", per(r.lost, r.packets_sent));
        set_real(o, "packets_per_s", r.packets_per_s);
        set_real(o, "transactions_per_s", r.transactions_per_s);
        set_u64(o, "first_rx_ns", r.start);
        set_u64(o, "last_rx_ns", r.end);
        json_object_set_new(o, "costs", costs_json(w, i, r.packets));
        json_array_append_new(wls, o);
    }
    return wls;
}

json_t *vns__world_stats_root(const struct vns_world *w, const struct vns_world_view *v)
{
    struct vns_sim *sim = v->sim;
    vns_time_t t = vns_sim_now(sim);
    json_t *machines = json_array(), *wires = json_array(), *wls, *root;
    uint64_t pkts;
    char fp[32];

    wls = workloads_json(w, &pkts);
    json_array_append_new(machines, machine_json(w, v->host, 0, t, pkts));
    for (size_t i = 0; i < v->nremotes; i++)
        json_array_append_new(machines, machine_json(w, &v->remotes[i], 0, t, pkts));
    for (size_t i = 0; i < v->nguests; i++)
        json_array_append_new(machines, machine_json(w, &v->guests[i], i, t, pkts));
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
    snprintf(fp, sizeof(fp), "0x%016" PRIx64, vns_sim_fingerprint(sim));
    root = json_pack("{s:s, s:I, s:I, s:I, s:s, s:o, s:o, s:o, s:{s:I}}", "profile",
                     vns_profile_name(vns_sim_profile(sim)), "seed", (json_int_t)vns_sim_seed(sim), "sim_time_ns",
                     (json_int_t)t, "events", (json_int_t)vns_sim_events_run(sim), "fingerprint", fp, "machines",
                     machines, "wires", wires, "workloads", wls, "per_packet", "packets", (json_int_t)pkts);
    json_object_set_new(root, "sim", json_pack("{s:I, s:I, s:f, s:s}", "events",
                                               (json_int_t)vns_sim_events_run(sim), "sim_time_ns", (json_int_t)t,
                                               "simulated_seconds", (double)t / 1e9, "fingerprint", fp));
    return root;
}

int vns__world_write_stats_json(const struct vns_world *w, const struct vns_world_view *v, FILE *out,
                                const char *extra)
{
    return vns__world_dump_stats_json(vns__world_stats_root(w, v), out, extra);
}

int vns__world_dump_stats_json(json_t *root, FILE *out, const char *extra)
{
    int err = 0;

    if (!root)
        return -VNS_ENOMEM;
    if (extra) {
        json_t *x = json_loads(extra, 0, NULL);

        if (x && json_is_object(x))
            json_object_update_recursive(root, x);   /* {"sim": {"wall_seconds": ...}} lands in "sim" */
        json_decref(x);
    }
    if (json_dumpf(root, out, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 || fputc('\n', out) == EOF)
        err = -VNS_EIO;
    json_decref(root);
    return err;
}
