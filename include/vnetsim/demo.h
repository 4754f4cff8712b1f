/* vnetsim -- the engine demo: a kick/notify pipeline between a guest
 * process and a host kthread, built on lib/core alone.
 *
 * It is the default scenario until the full data path lands (issues 3-7),
 * and the workload of the engine's benchmark and fingerprint tests:
 *   guest "writer" (user, on guest vCPU0): per step, put one item in a
 *     shared queue; kick (a VM exit + wake-up) unless the worker said
 *     "busy, do not notify";
 *   host "worker" (kthread, own host CPU): with notifications off, take one
 *     item per step; when the queue is empty re-enable, re-check (the
 *     lost-wake-up race), signal the guest (an interrupt) and sleep;
 *   guest interrupt: raise NET_RX; the softirq (net_rx_action) completes
 *     items one per step at irq_exit, on the halted vCPU's idle stack. */
#ifndef VNETSIM_DEMO_H
#define VNETSIM_DEMO_H

#include "vnetsim/common.h"

struct vns_demo_config {
    uint64_t items;            /* items the writer produces */
    uint32_t queue_size;       /* shared queue capacity (power of two) */
    uint32_t write_ns;         /* writer cost per item */
    uint32_t work_ns;          /* worker cost per item */
    uint32_t complete_ns;      /* guest softirq cost per completed item */
    bool shared_cpu;           /* worker pinned to the vCPU's host CPU */
};

struct vns_demo_stats {
    uint64_t produced, consumed, completed;
    uint64_t kicks, irqs, worker_wakeups, writer_full_waits;
    uint64_t softirq_irq_exit, softirq_bh, softirq_ksoftirqd;
    uint64_t vcpu_halts;
    vns_time_t finish_time;    /* when the last item was completed */
    uint64_t host_busy_ns[2];
    uint64_t guest_busy_ns;
};

struct vns_demo;

/* The configuration `vnetsim run` uses by default. */
VNS_EXTERN struct vns_demo_config vns_demo_default_config(void);

VNS_EXTERN int vns_demo_create(struct vns_sim *sim, const struct vns_demo_config *cfg,
                               struct vns_demo **out);
VNS_EXTERN void vns_demo_destroy(struct vns_demo *d);
VNS_EXTERN void vns_demo_stats(const struct vns_demo *d, struct vns_demo_stats *st);
/* The demo's CPUs: 0 host/cpu0, 1 host/cpu1, 2 the guest's vm1/cpu0. */
VNS_EXTERN struct vns_cpu *vns_demo_cpu(const struct vns_demo *d, unsigned i);

#endif
