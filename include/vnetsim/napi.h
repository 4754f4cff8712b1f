/* vnetsim -- NAPI and GRO. LINUX: include/linux/netdevice.h, net/core/dev.c
 * (napi_schedule, napi_complete_done, napi_poll, net_rx_action), GRO in
 * net/core/dev.c (5.4; net/core/gro.c from 5.19), net/ipv4/tcp_offload.c.
 *
 * A poll runs in steps (DESIGN.md section 3): poll() handles at most one
 * item per call, adds the items it did to n->work, and returns
 * VNS_STEP_AGAIN to be called again in the next step (net_rx_action keeps
 * its frames and budget across steps) or VNS_STEP_DONE when this poll is
 * over. A poll that ends with n->work < budget must have completed
 * (vns_napi_complete_done), as in the kernel. */
#ifndef VNETSIM_NAPI_H
#define VNETSIM_NAPI_H

#include "vnetsim/common.h"
#include "vnetsim/skb.h"

struct vns_net_device;
struct vns_napi_struct;

#define VNS_NAPI_POLL_WEIGHT 64
#define VNS_NAPI_STATE_SCHED (1u << 0)
#define VNS_NAPI_STATE_MISSED (1u << 1)
#define VNS_NAPI_STATE_DISABLE (1u << 2)
/* include/linux/netdevice.h (5.4): GRO_HASH_BUCKETS 8, MAX_GRO_SKBS 8 */
#define VNS_MAX_GRO_SKBS 8
#define VNS_GRO_MAX_SIZE 65536u

typedef int (*vns_napi_poll_fn)(struct vns_ctx *ctx, struct vns_napi_struct *n, int budget);

struct vns_napi_stats {
    uint64_t polls;         /* poll invocations */
    uint64_t schedules;     /* __napi_schedule */
    uint64_t missed;        /* napi_schedule_prep while SCHED */
    uint64_t repolls;       /* work == weight: back on the poll list */
    uint64_t gro_merged;    /* segments merged into a held skb */
    uint64_t gro_flushed;   /* held skbs delivered */
    uint64_t gro_normal;    /* packets passed through without holding */
};

struct vns_napi_struct {
    struct vns_napi_struct *poll_next;   /* poll list link */
    bool on_list;
    unsigned state;                      /* NAPI_STATE_* */
    int weight;
    vns_napi_poll_fn poll;
    int poll_f;                          /* frame of poll (VNS_FN_virtnet_poll) */
    struct vns_net_device *dev;
    struct vns_cpu *cpu;                 /* where it was last scheduled */
    void *priv;                          /* driver data */
    int work;                            /* items done in the current poll */
    /* GRO: held skbs, oldest first */
    struct vns_skb *gro_list;
    unsigned gro_count;
    uint32_t napi_id;
    struct vns_napi_stats stats;
};

/* netif_napi_add: weight > NAPI_POLL_WEIGHT is clamped (the kernel warns). */
VNS_EXTERN void vns_netif_napi_add(struct vns_net_device *dev, struct vns_napi_struct *n,
                                   vns_napi_poll_fn poll, int poll_f, int weight);
/* netif_napi_del: drops held GRO packets. */
VNS_EXTERN void vns_netif_napi_del(struct vns_napi_struct *n);
/* napi_schedule_prep: set SCHED; if already set, set MISSED, return false. */
VNS_EXTERN bool vns_napi_schedule_prep(struct vns_napi_struct *n);
/* __napi_schedule: add to this CPU's poll_list and raise NET_RX_SOFTIRQ
 * (irqs off / in the irq handler). @ctx gives the CPU. */
VNS_EXTERN void vns___napi_schedule(struct vns_ctx *ctx, struct vns_napi_struct *n);
/* napi_schedule = prep + __napi_schedule. Returns true if scheduled. */
VNS_EXTERN bool vns_napi_schedule(struct vns_ctx *ctx, struct vns_napi_struct *n);
/* napi_complete_done: flush GRO, clear SCHED; if MISSED was set,
 * reschedule and return false. */
VNS_EXTERN bool vns_napi_complete_done(struct vns_ctx *ctx, struct vns_napi_struct *n, int work_done);
VNS_EXTERN void vns_napi_disable(struct vns_napi_struct *n);
VNS_EXTERN void vns_napi_enable(struct vns_napi_struct *n);

/* GRO results (enum gro_result) */
enum vns_gro_result {
    VNS_GRO_MERGED,
    VNS_GRO_MERGED_FREE,
    VNS_GRO_HELD,
    VNS_GRO_NORMAL,
    VNS_GRO_DROP,
    VNS_GRO_CONSUMED,
};

/* napi_gro_receive: consumes @skb (eth_type_trans already done). Merges
 * in-order TCPv4 segments of one flow into a held skb, else delivers. */
VNS_EXTERN enum vns_gro_result vns_napi_gro_receive(struct vns_ctx *ctx, struct vns_napi_struct *n,
                                                     struct vns_skb *skb);
/* napi_gro_flush: deliver every held skb (flush_old: only those held
 * since an earlier jiffy). */
VNS_EXTERN void vns_napi_gro_flush(struct vns_ctx *ctx, struct vns_napi_struct *n, bool flush_old);

#endif
