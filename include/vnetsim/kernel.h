/* vnetsim -- a kernel instance: the host or one guest.
 *
 * One lib/net implementation serves every instance (DESIGN.md section 2):
 * a kernel has its CPUs (host CPUs or guest vCPUs, created by the caller),
 * per-CPU softnet_data (backlog, poll list, NET_TX output queue), its
 * network devices, its sysctls (net.core.*) and its skb pools. Creating a
 * kernel registers net_rx_action and net_tx_action as the NET_RX / NET_TX
 * softirq actions of each of its CPUs (net_dev_init).
 *
 * Simplified: one network namespace per kernel; no RPS/RFS (every packet is
 * processed on the CPU that received it). */
#ifndef VNETSIM_KERNEL_H
#define VNETSIM_KERNEL_H

#include "vnetsim/common.h"
#include "vnetsim/skb.h"
#include "vnetsim/napi.h"
#include "vnetsim/rng.h"

struct vns_kernel;
struct vns_Qdisc;
struct vns_net_device;

/* Protocol handler (struct packet_type) for ptype_base delivery. Consumes
 * @skb. ip_rcv is registered here by the IPv4 layer (part 2). */
typedef int (*vns_packet_rcv_fn)(struct vns_ctx *ctx, struct vns_skb *skb,
                                 struct vns_net_device *dev, void *arg);

struct vns_kernel_config {
    const char *name;            /* "host", "vm1"; copied */
    struct vns_cpu **cpus;       /* this kernel's CPUs (host CPUs or vCPUs) */
    unsigned ncpus;
    unsigned hz;                 /* CONFIG_HZ; 0 = 1000 */
    /* net.core sysctls; 0 = the kernel default */
    unsigned netdev_max_backlog; /* 1000 */
    unsigned netdev_budget;      /* 300 */
    unsigned netdev_budget_usecs;/* 2 * USEC_PER_SEC / HZ */
    unsigned dev_weight;         /* weight_p, 64 */
    unsigned dev_tx_weight;      /* 64 */
    const char *default_qdisc;   /* net.core.default_qdisc: NULL = "pfifo_fast";
                                  * "fq_codel" (many distributions); must
                                  * stay valid (a string literal) */
    uint32_t mac_seed;           /* distinguishes generated MACs; 0 = from name */
    /* Kernel behaviour where versions differ: 504 (linux-5.4) or 606
     * (linux-6.6: pfifo_fast bypass when empty, netif_rx toggling bottom
     * halves, XMIT_RECURSION_LIMIT 8); 0 = the simulation's profile. */
    unsigned version;
};

/* net_rx_action state of one CPU, kept across steps. */
struct vns_net_rx_run {
    bool active;
    int budget;
    uint64_t time_limit;          /* in jiffies */
    struct vns_napi_struct *list_head, *list_tail;     /* spliced poll list */
    struct vns_napi_struct *repoll_head, *repoll_tail;
    struct vns_napi_struct *cur;  /* poll in progress */
    unsigned depth;               /* frame depth before napi_poll */
};

struct vns_softnet_stats {
    uint64_t processed;           /* packets through __netif_receive_skb here */
    uint64_t dropped;             /* backlog full (netdev_max_backlog) */
    uint64_t time_squeeze;        /* net_rx_action ran out of budget/time */
    uint64_t rx_actions;          /* net_rx_action invocations */
    uint64_t tx_actions;
    uint64_t completions;         /* skbs freed from the completion_queue */
};

struct vns_softnet_data {
    struct vns_kernel *k;
    struct vns_cpu *cpu;
    unsigned index;               /* CPU number within the kernel */
    struct vns_napi_struct *poll_head, *poll_tail;   /* poll_list */
    struct vns_skb_head input_pkt_queue;
    struct vns_skb_head process_queue;
    struct vns_napi_struct backlog;   /* process_backlog */
    struct vns_Qdisc *output_head, *output_tail;     /* NET_TX output_queue */
    struct vns_skb_head completion_queue;            /* freed by NET_TX */
    struct vns_net_rx_run rx;
    unsigned xmit_recursion;      /* softnet_data.xmit.recursion */
    struct vns_softnet_stats stats;
};

struct vns_kernel_stats {
    uint64_t drops[VNS_SKB_DROP_REASON_MAX];   /* kfree_skb_reason by reason */
    uint64_t consumed;                          /* consume_skb */
    uint64_t skb_allocs;
    uint64_t skb_alloc_fail;
    uint64_t skb_live;                          /* allocated, not yet freed */
    /* The packet ledger (docs/reliability.md): skb_allocs = consumed +
     * sum(drops) + hw_freed + merged + skb_live, where skb_live is what is
     * in flight (rings, queues, socket buffers). */
    uint64_t hw_freed;                          /* frames the hardware dropped (the device counts them) */
    uint64_t merged;                            /* frag_list members freed with their head; undone copies */
    uint64_t pool_grows;                        /* mallocs behind the pools */
    uint64_t rx_nohandler;                      /* no protocol handler */
};

VNS_EXTERN int vns_kernel_create(struct vns_sim *sim, const struct vns_kernel_config *cfg,
                                 struct vns_kernel **out);
/* Unregister every device, free the pools. Every skb must have been freed
 * (a held skb is a leak: asserted in debug builds, counted otherwise).
 * NULL is a no-op. */
VNS_EXTERN void vns_kernel_destroy(struct vns_kernel *k);
/* The first half of destroy: unregister every device (dropping what their
 * queues hold) and purge the per-CPU queues. Sockets must be gone first.
 * An skb still live after it was held by nothing the kernel knows: a leak
 * (the packet ledger's audit, docs/reliability.md). */
VNS_EXTERN void vns_kernel_drain(struct vns_kernel *k);
VNS_EXTERN const char *vns_kernel_name(const struct vns_kernel *k);
VNS_EXTERN struct vns_sim *vns_kernel_sim(const struct vns_kernel *k);
VNS_EXTERN unsigned vns_kernel_ncpus(const struct vns_kernel *k);
VNS_EXTERN struct vns_cpu *vns_kernel_cpu(const struct vns_kernel *k, unsigned i);
/* softnet_data of the CPU @ctx runs on (CPU 0 when @ctx is NULL or runs on
 * a CPU of another kernel). */
VNS_EXTERN struct vns_softnet_data *vns_kernel_softnet(struct vns_kernel *k, const struct vns_ctx *ctx);
VNS_EXTERN struct vns_softnet_data *vns_kernel_softnet_of(struct vns_kernel *k, unsigned cpu);
VNS_EXTERN const struct vns_kernel_stats *vns_kernel_stats(const struct vns_kernel *k);
VNS_EXTERN uint64_t vns_kernel_drops(const struct vns_kernel *k, enum vns_skb_drop_reason r);
/* Sum of drops over every reason. */
VNS_EXTERN uint64_t vns_kernel_drops_total(const struct vns_kernel *k);
/* jiffies at @t (HZ of this kernel). */
VNS_EXTERN uint64_t vns_kernel_jiffies(const struct vns_kernel *k, vns_time_t t);
VNS_EXTERN unsigned vns_kernel_hz(const struct vns_kernel *k);
/* The kernel's sysctls after defaults were applied. */
VNS_EXTERN const struct vns_kernel_config *vns_kernel_config(const struct vns_kernel *k);
/* Next generated MAC (locally administered unicast, deterministic). */
VNS_EXTERN void vns_kernel_random_ether_addr(struct vns_kernel *k, uint8_t *addr);

/* dev_add_pack for one ETH_P_ type (one handler per type). */
VNS_EXTERN int vns_dev_add_pack(struct vns_kernel *k, uint16_t type, vns_packet_rcv_fn fn, void *arg);
VNS_EXTERN void vns_dev_remove_pack(struct vns_kernel *k, uint16_t type);
/* A packet tap (ptype_all: tcpdump): sees a borrowed skb on receive
 * (deliver_skb) and on transmit (dev_queue_xmit_nit). */
typedef void (*vns_packet_tap_fn)(const struct vns_skb *skb, struct vns_net_device *dev,
                                  bool outgoing, void *arg);
VNS_EXTERN int vns_dev_add_tap(struct vns_kernel *k, vns_packet_tap_fn fn, void *arg);
/* Remove the tap (@fn, @arg), as tcpdump's exit does; absent: no-op. */
VNS_EXTERN void vns_dev_remove_tap(struct vns_kernel *k, vns_packet_tap_fn fn, void *arg);

#endif
