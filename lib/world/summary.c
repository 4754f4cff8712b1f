/* lib/world/summary.c -- the human summary of a run (`vnetsim run`
 * without --quiet): one row per workload (what netperf, iperf3 and ping
 * print), then what the run cost per packet: each CPU's busy time and its
 * nanoseconds per packet, each guest NIC's kicks and interrupts per
 * packet, drops by reason. "Packets" in the per-packet figures are the
 * packets the workloads' applications received, all workloads together
 * (struct vns_workload_result.packets). */
#include <stdio.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/inet.h"
#include "vnetsim/kernel.h"
#include "vnetsim/sim.h"
#include "vnetsim/trace.h"
#include "vnetsim/units.h"
#include "vnetsim/vhost_net.h"
#include "vnetsim/virtio_net.h"
#include "world_int.h"

static const char *fmt_time(uint64_t ns, char *buf, size_t len)
{
    return ns ? vns_format_time(ns, buf, len) : "-";
}

static const char *fmt_rate(double bps, char *buf, size_t len)
{
    if (bps >= 1e9)
        snprintf(buf, len, "%.3f Gbit/s", bps / 1e9);
    else
        snprintf(buf, len, "%.3f Mbit/s", bps / 1e6);
    return buf;
}

static double per(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

/* The workloads' table; returns the packets their applications received. */
static uint64_t print_workloads(const struct vns_world *w, FILE *out)
{
    uint64_t total = 0;
    char ep[80], tp[32], tps[24], sent[24], p50[24], p99[24], p999[24], loss[32];

    if (!vns_world_nworkloads(w))
        return 0;
    fprintf(out, "%-3s %-10s %-22s %5s %14s %10s %9s %9s %15s %9s %10s %10s %10s\n", "#", "workload", "from -> to",
            "flows", "throughput", "packets/s", "sent", "received", "lost", "trans/s", "p50", "p99", "p99.9");
    for (size_t i = 0; i < vns_world_nworkloads(w); i++) {
        struct vns_workload_result r;
        bool rr;

        if (vns_world_workload(w, i, &r) < 0)
            continue;
        rr = !strcmp(r.type, "tcp_rr") || !strcmp(r.type, "udp_rr");
        total += r.packets;
        snprintf(ep, sizeof(ep), "%s -> %s", r.from, r.to);
        if (r.lost || r.packets_sent)
            snprintf(loss, sizeof(loss), "%llu (%.2f%%)", (unsigned long long)r.lost,
                     100.0 * per(r.lost, r.packets_sent));
        else
            snprintf(loss, sizeof(loss), "-");
        snprintf(tps, sizeof(tps), rr ? "%.0f" : "-", r.transactions_per_s);
        snprintf(sent, sizeof(sent), r.packets_sent ? "%llu" : "-", (unsigned long long)r.packets_sent);
        fprintf(out, "%-3zu %-10s %-22s %5u %14s %10.0f %9s %9llu %15s %9s %10s %10s %10s\n", i, r.type, ep,
                r.flows, fmt_rate(r.throughput_bps, tp, sizeof(tp)), r.packets_per_s, sent,
                (unsigned long long)r.packets, loss, tps,
                fmt_time(r.latency_p50, p50, sizeof(p50)), fmt_time(r.latency_p99, p99, sizeof(p99)),
                fmt_time(r.latency_p999, p999, sizeof(p999)));
        if (r.error)
            fprintf(out, "    workload %zu stopped on an error: %s\n", i, vns_errname(r.error));
    }
    return total;
}

/* Per workload, what its window cost per packet it received. */
static void print_workload_costs(const struct vns_world *w, FILE *out)
{
    char a[32], b[32];

    if (!vns_world_nworkloads(w))
        return;
    fprintf(out, "per packet of each workload, counted while it ran (workloads at the same time share):\n");
    fprintf(out, "%-3s %-22s %9s %9s  %s\n", "#", "window", "kicks/pkt", "irqs/pkt", "CPU ns/packet; drops");
    for (size_t i = 0; i < vns_world_nworkloads(w); i++) {
        struct vns_workload_result r;
        struct vns_workload_costs c;
        char win[64];
        bool any = false;

        if (vns_world_workload(w, i, &r) < 0 || vns_world_workload_costs(w, i, &c) < 0)
            continue;
        snprintf(win, sizeof(win), "%s-%s", vns_format_time(c.from, a, sizeof(a)), vns_format_time(c.to, b, sizeof(b)));
        fprintf(out, "%-3zu %-22s %9.3f %9.3f ", i, win, per(c.kicks, r.packets), per(c.interrupts, r.packets));
        for (size_t k = 0; k < c.ncpus; k++) {
            if (!c.busy_ns[k])
                continue;
            fprintf(out, "%s %s %.0f", any ? "," : "", vns_cpu_name(c.cpus[k]), per(c.busy_ns[k], r.packets));
            any = true;
        }
        any = false;
        for (int d = 0; d < VNS_SKB_DROP_REASON_MAX; d++) {
            if (!c.drops[d])
                continue;
            fprintf(out, "%s %s %llu", any ? "," : ";", vns_drop_reason_name((enum vns_skb_drop_reason)d),
                    (unsigned long long)c.drops[d]);
            any = true;
        }
        fputc('\n', out);
    }
}

static void print_cpus(const struct vns_machine *const *ms, size_t n, vns_time_t t, uint64_t pkts, FILE *out)
{
    fprintf(out, "%-16s %7s %12s %10s %10s %10s %10s\n", "cpu", "busy", "ns/packet", "irqs", "irqs/pkt", "vmexits",
            "halts");
    for (size_t k = 0; k < n; k++) {
        for (unsigned c = 0; c < ms[k]->ncpus; c++) {
            const struct vns_cpu_stats *s = vns_cpu_stats(ms[k]->cpus[c]);

            if (!s->busy_ns && !s->irqs)
                continue;
            fprintf(out, "%-16s %6.1f%% %12.1f %10llu %10.3f %10llu %10llu\n", vns_cpu_name(ms[k]->cpus[c]),
                    t ? 100.0 * (double)s->busy_ns / (double)t : 0.0, per(s->busy_ns, pkts),
                    (unsigned long long)s->irqs, per(s->irqs, pkts), (unsigned long long)s->vmexits,
                    (unsigned long long)s->halts);
        }
    }
}

/* Each guest NIC: packets, kicks and interrupts per packet each way. */
static void print_nics(const struct vns_world *w, const struct vns_machine *const *ms, size_t n, FILE *out)
{
    for (size_t i = 0; i + 1 < n && ms[i + 1]->kind == VNS_MACHINE_GUEST; i++) {
        struct vns_virtnet *vi;
        struct vns_vhost_net *const *nets;
        unsigned qps = vns__world_guest_queues(w, i, &vi, &nets);
        uint64_t txp = 0, txk = 0, txi = 0, rxp = 0, rxk = 0, rxi = 0, stops = 0, nobuf = 0;

        for (unsigned q = 0; q < qps; q++) {
            const struct vns_virtnet_sq_stats *sq = vns_virtnet_sq_stats(vi, q);
            const struct vns_virtnet_rq_stats *rq = vns_virtnet_rq_stats(vi, q);

            txp += sq->packets;
            txk += sq->kicks;
            txi += sq->interrupts;
            stops += sq->stops;
            rxp += rq->packets;
            rxk += rq->kicks;
            rxi += rq->interrupts;
            nobuf += vns_vhost_net_rx_stats(nets[q])->no_buffers;
        }
        fprintf(out, "%s virtio-net (%u queue pair%s): tx %llu packets, %.3f kicks/packet, %.3f interrupts/packet, "
                     "%llu ring-full stops; rx %llu packets, %.3f interrupts/packet, %.3f refill kicks/packet, "
                     "%llu no-buffer waits\n",
                ms[i + 1]->name, qps, qps == 1 ? "" : "s", (unsigned long long)txp, per(txk, txp), per(txi, txp),
                (unsigned long long)stops, (unsigned long long)rxp, per(rxi, rxp), per(rxk, rxp),
                (unsigned long long)nobuf);
    }
}

static void print_drops(const struct vns_machine *const *ms, size_t n, FILE *out)
{
    for (size_t k = 0; k < n; k++) {
        bool any = false;

        for (int r = 0; r < VNS_SKB_DROP_REASON_MAX; r++) {
            uint64_t c = vns_kernel_drops(ms[k]->kernel, (enum vns_skb_drop_reason)r);

            if (!c)
                continue;
            fprintf(out, "%s%s %s %llu", any ? "," : "drops on ", any ? "" : ms[k]->name,
                    vns_drop_reason_name((enum vns_skb_drop_reason)r), (unsigned long long)c);
            any = true;
        }
        if (any)
            fputc('\n', out);
    }
}

void vns_world_print_summary(const struct vns_world *w, FILE *out)
{
    size_t n;
    const struct vns_machine **ms = vns__world_machines(w, &n);
    uint64_t pkts = print_workloads(w, out), verified = 0, mismatches = 0;

    if (!ms)
        return;
    for (size_t k = 0; k < n; k++) {
        verified += vns_inet_stats(ms[k]->inet)->payload_bytes_verified;
        mismatches += vns_inet_stats(ms[k]->inet)->payload_mismatches;
    }
    if (vns_world_nworkloads(w))
        fprintf(out, "payload: %llu bytes verified by the receivers, %llu mismatches; per packet below: "
                     "%llu packets received by the workloads\n",
                (unsigned long long)verified, (unsigned long long)mismatches, (unsigned long long)pkts);
    print_workload_costs(w, out);
    fprintf(out, "whole run:\n");
    print_cpus(ms, n, vns_sim_now(vns_world_sim(w)), pkts, out);
    print_nics(w, ms, n, out);
    print_drops(ms, n, out);
    vns_free((void *)ms);
}
