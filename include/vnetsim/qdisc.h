/* vnetsim -- queueing disciplines. LINUX: include/net/sch_generic.h,
 * net/sched/sch_generic.c (pfifo_fast, noqueue, noop), linux-5.4.
 *
 * A qdisc has a const ops table (Qdisc_ops): enqueue consumes the skb on
 * every path and returns NET_XMIT_*; dequeue hands one skb back. pfifo_fast
 * is TCQ_F_NOLOCK in 5.4 and, unlike 5.13+, never bypasses the queue: every
 * packet is enqueued and then dequeued by __qdisc_run, which is why the seed
 * stacks show sch_direct_xmit under __qdisc_run. */
#ifndef VNETSIM_QDISC_H
#define VNETSIM_QDISC_H

#include "vnetsim/common.h"
#include "vnetsim/skb.h"

struct vns_net_device;
struct vns_Qdisc;

#define VNS_TCQ_F_BUILTIN 1u
#define VNS_TCQ_F_CAN_BYPASS 4u
#define VNS_TCQ_F_ONETXQUEUE 0x10u
#define VNS_TCQ_F_NOLOCK 0x100u
#define VNS_TCQ_F_NOPARENT 0x40u

#define VNS_TC_PRIO_MAX 15
#define VNS_PFIFO_FAST_BANDS 3

struct vns_Qdisc_ops {
    const char *id;        /* Required: "pfifo_fast" */
    size_t priv_size;
    unsigned static_flags;
    /* Required unless NULL means "noqueue". Consumes @skb. NET_XMIT_*. */
    int (*enqueue)(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_Qdisc *q);
    struct vns_skb *(*dequeue)(struct vns_ctx *ctx, struct vns_Qdisc *q);
    const struct vns_skb *(*peek)(const struct vns_Qdisc *q);
    int (*init)(struct vns_Qdisc *q);
    void (*reset)(struct vns_Qdisc *q);
    void (*destroy)(struct vns_Qdisc *q);
};

struct vns_Qdisc_stats {
    uint64_t bytes, packets;      /* gnet_stats_basic: dequeued/sent */
    uint64_t drops, requeues, overlimits;
};

struct vns_Qdisc {
    const struct vns_Qdisc_ops *ops;
    struct vns_net_device *dev;
    unsigned flags;              /* TCQ_F_* */
    uint32_t limit;              /* packets (pfifo_fast: per band) */
    uint32_t qlen;               /* packets queued incl. gso_skb */
    uint64_t backlog;            /* bytes queued */
    bool running;                /* qdisc_run_begin..end (__QDISC_STATE_RUNNING / seqlock) */
    bool deactivated;
    bool scheduled;              /* __QDISC_STATE_SCHED: on a NET_TX output_queue */
    struct vns_Qdisc *next_sched;
    struct vns_skb_head gso_skb; /* requeued packets (dev_requeue_skb) */
    struct vns_Qdisc_stats stats;
    void *priv;
};

VNS_EXTERN extern const struct vns_Qdisc_ops vns_pfifo_fast_ops;
VNS_EXTERN extern const struct vns_Qdisc_ops vns_noqueue_qdisc_ops;
VNS_EXTERN extern const struct vns_Qdisc_ops vns_noop_qdisc_ops;
VNS_EXTERN extern const struct vns_Qdisc_ops vns_fq_codel_qdisc_ops;

/* The qdisc ops called @id ("pfifo_fast", "fq_codel", "noqueue"), or NULL. */
VNS_EXTERN const struct vns_Qdisc_ops *vns_qdisc_lookup_ops(const char *id);

/* fq_codel parameters and statistics (tc -s qdisc show: fq_codel xstats). */
struct vns_fq_codel_params {
    uint32_t limit;            /* packets; 10240 */
    uint32_t flows;            /* 1024 */
    uint32_t quantum;          /* bytes; psched_mtu = mtu + hard_header_len */
    vns_time_t target;         /* 5 ms */
    vns_time_t interval;       /* 100 ms */
    bool ecn;                  /* true */
    uint32_t drop_batch_size;  /* 64 */
    uint32_t memory_limit;     /* 32 MiB */
};
struct vns_fq_codel_xstats {
    uint32_t maxpacket;
    uint32_t drop_overlimit;
    uint32_t drop_overmemory;
    uint32_t ecn_mark;
    uint32_t new_flow_count;
    uint32_t codel_drops;      /* dropped by the CoDel control law */
    uint32_t new_flows_len, old_flows_len;
    uint32_t memory_usage;
};
/* Change parameters of an fq_codel qdisc (fq_codel_change); flows only
 * before it has packets. -VNS_EINVAL. */
VNS_EXTERN int vns_fq_codel_change(struct vns_Qdisc *q, const struct vns_fq_codel_params *p);
VNS_EXTERN void vns_fq_codel_get(const struct vns_Qdisc *q, struct vns_fq_codel_params *p,
                                 struct vns_fq_codel_xstats *st);

/* qdisc_create_dflt: a qdisc of @ops on @dev with limit @limit (0 = the
 * device's tx_queue_len). -VNS_EINVAL (pfifo_fast with limit 0, as its
 * init fails on tx_queue_len 0), -VNS_ENOMEM. */
VNS_EXTERN int vns_qdisc_create(struct vns_net_device *dev, const struct vns_Qdisc_ops *ops,
                                uint32_t limit, struct vns_Qdisc **out);
VNS_EXTERN void vns_qdisc_destroy(struct vns_Qdisc *q);
/* qdisc_reset: drop every queued packet (QDISC_DROP). */
VNS_EXTERN void vns_qdisc_reset(struct vns_Qdisc *q);
/* Replace @dev's configured root qdisc (tc qdisc replace); takes effect at
 * once if the device is up. @q becomes owned by the device. */
VNS_EXTERN void vns_dev_graft_qdisc(struct vns_net_device *dev, struct vns_Qdisc *q);
/* pfifo_fast band of a priority (prio2band). */
VNS_EXTERN unsigned vns_pfifo_fast_band(uint32_t priority);
VNS_EXTERN uint32_t vns_pfifo_fast_band_qlen(const struct vns_Qdisc *q, unsigned band);
/* qdisc_drop: count and free (reason QDISC_DROP); returns NET_XMIT_DROP. */
VNS_EXTERN int vns_qdisc_drop(struct vns_skb *skb, struct vns_Qdisc *q);

/* qdisc_run: if the qdisc is not running, __qdisc_run it (quota
 * dev_tx_weight, then __netif_schedule). Used by net_tx_action. */
VNS_EXTERN void vns_qdisc_run(struct vns_ctx *ctx, struct vns_Qdisc *q);
/* __netif_schedule: put @q on this CPU's output_queue, raise NET_TX. */
VNS_EXTERN void vns___netif_schedule(struct vns_ctx *ctx, struct vns_Qdisc *q);

#endif
