/* lib/net/sch_generic.c -- the generic qdisc layer: pfifo_fast, noqueue,
 * noop; __qdisc_run, qdisc_restart, dequeue_skb, sch_direct_xmit,
 * dev_requeue_skb, __netif_schedule. LINUX: net/sched/sch_generic.c,
 * include/net/sch_generic.h, linux-5.4.
 *
 * Modelled: pfifo_fast's three bands (prio2band) each limited to
 * tx_queue_len packets (skb_array), dequeue from band 0 first; the requeue
 * list (gso_skb) served first when the tx queue is not stopped; the
 * dev_tx_weight quota of __qdisc_run, then __netif_schedule to NET_TX.
 * Simplified: no bulk dequeue (it needs BQL, which the seed drivers
 * virtio-net/tun/macvtap do not use in 5.4); no skb_bad_txq (one tx queue);
 * __qdisc_run ignores need_resched(); it runs inside the caller's step
 * (it is reached synchronously from dev_queue_xmit). */
#include <string.h>

#include "net_int.h"

static const uint8_t prio2band[VNS_TC_PRIO_MAX + 1] = {1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};

struct pfifo_fast_priv {
    struct vns_skb_head band[VNS_PFIFO_FAST_BANDS];
};

unsigned vns_pfifo_fast_band(uint32_t priority)
{
    return prio2band[priority & VNS_TC_PRIO_MAX];
}

int vns_qdisc_drop(struct vns_skb *skb, struct vns_Qdisc *q)
{
    q->stats.drops++;
    vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_QDISC_DROP);
    return VNS_NET_XMIT_DROP;
}

static int pfifo_fast_enqueue(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_Qdisc *q)
{
    struct pfifo_fast_priv *p = q->priv;
    unsigned band = vns_pfifo_fast_band(skb->priority);
    int rc = VNS_NET_XMIT_SUCCESS;

    vns_fn_enter(ctx, VNS_FN_pfifo_fast_enqueue);
    /* skb_array_produce fails when the band's ring (tx_queue_len) is full. */
    if (p->band[band].qlen >= q->limit) {
        rc = vns_qdisc_drop(skb, q);
    } else {
        q->qlen++;
        q->backlog += skb->len;
        vns_skb_queue_tail(&p->band[band], skb);
    }
    vns_fn_exit(ctx);
    return rc;
}

static struct vns_skb *pfifo_fast_dequeue(struct vns_ctx *ctx, struct vns_Qdisc *q)
{
    struct pfifo_fast_priv *p = q->priv;
    struct vns_skb *skb = NULL;

    vns_fn_enter(ctx, VNS_FN_pfifo_fast_dequeue);
    for (unsigned b = 0; b < VNS_PFIFO_FAST_BANDS && !skb; b++)
        skb = vns_skb_dequeue(&p->band[b]);
    if (skb) {
        q->qlen--;
        q->backlog -= skb->len;
    }
    vns_fn_exit(ctx);
    return skb;
}

static const struct vns_skb *pfifo_fast_peek(const struct vns_Qdisc *q)
{
    const struct pfifo_fast_priv *p = q->priv;

    for (unsigned b = 0; b < VNS_PFIFO_FAST_BANDS; b++)
        if (p->band[b].head)
            return p->band[b].head;
    return NULL;
}

static int pfifo_fast_init(struct vns_Qdisc *q)
{
    struct pfifo_fast_priv *p = q->priv;

    /* "if (!qlen) return -EINVAL": skb_array_init with tx_queue_len. */
    if (!q->limit)
        return -VNS_EINVAL;
    for (unsigned b = 0; b < VNS_PFIFO_FAST_BANDS; b++)
        vns_skb_queue_head_init(&p->band[b]);
    return 0;
}

static void pfifo_fast_reset(struct vns_Qdisc *q)
{
    struct pfifo_fast_priv *p = q->priv;

    for (unsigned b = 0; b < VNS_PFIFO_FAST_BANDS; b++) {
        q->stats.drops += p->band[b].qlen;
        vns_skb_queue_purge_reason(&p->band[b], VNS_SKB_DROP_REASON_QDISC_DROP);
    }
}

uint32_t vns_pfifo_fast_band_qlen(const struct vns_Qdisc *q, unsigned band)
{
    const struct pfifo_fast_priv *p = q->priv;

    if (q->ops != &vns_pfifo_fast_ops || band >= VNS_PFIFO_FAST_BANDS)
        return 0;
    return p->band[band].qlen;
}

const struct vns_Qdisc_ops vns_pfifo_fast_ops = {
    .id = "pfifo_fast",
    .priv_size = sizeof(struct pfifo_fast_priv),
    /* 5.4: TCQ_F_NOLOCK | TCQ_F_CPUSTATS; CAN_BYPASS is set but the NOLOCK
     * path of __dev_xmit_skb does not look at it before 5.13. */
    .static_flags = VNS_TCQ_F_NOLOCK | VNS_TCQ_F_CAN_BYPASS,
    .enqueue = pfifo_fast_enqueue,
    .dequeue = pfifo_fast_dequeue,
    .peek = pfifo_fast_peek,
    .init = pfifo_fast_init,
    .reset = pfifo_fast_reset,
};

/* noqueue: enqueue == NULL tells __dev_queue_xmit to call the driver. */
const struct vns_Qdisc_ops vns_noqueue_qdisc_ops = {
    .id = "noqueue",
    .static_flags = VNS_TCQ_F_BUILTIN,
};

static int noop_enqueue(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_Qdisc *q)
{
    vns_fn_enter(ctx, VNS_FN_noop_enqueue);
    q->stats.drops++;
    vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_QDISC_DROP);
    vns_fn_exit(ctx);
    return VNS_NET_XMIT_CN;
}

static struct vns_skb *noop_dequeue(struct vns_ctx *ctx, struct vns_Qdisc *q)
{
    (void)ctx;
    (void)q;
    return NULL;
}

const struct vns_Qdisc_ops vns_noop_qdisc_ops = {
    .id = "noop",
    .static_flags = VNS_TCQ_F_BUILTIN,
    .enqueue = noop_enqueue,
    .dequeue = noop_dequeue,
};

const struct vns_Qdisc_ops *vns_qdisc_lookup_ops(const char *id)
{
    static const struct vns_Qdisc_ops *const all[] = {
        &vns_pfifo_fast_ops, &vns_fq_codel_qdisc_ops, &vns_noqueue_qdisc_ops, &vns_noop_qdisc_ops,
    };

    for (unsigned i = 0; id && i < VNS_ARRAY_SIZE(all); i++)
        if (strcmp(all[i]->id, id) == 0)
            return all[i];
    return NULL;
}

int vns_qdisc_create(struct vns_net_device *dev, const struct vns_Qdisc_ops *ops, uint32_t limit,
                     struct vns_Qdisc **out)
{
    struct vns_Qdisc *q = vns_calloc(1, sizeof(*q) + ops->priv_size + 16);
    int err;

    if (!q)
        return -VNS_ENOMEM;
    q->ops = ops;
    q->dev = dev;
    q->flags = ops->static_flags;
    q->limit = limit ? limit : (dev ? dev->tx_queue_len : 0);
    vns_skb_queue_head_init(&q->gso_skb);
    if (ops->priv_size)
        q->priv = (char *)q + ((sizeof(*q) + 15) & ~(size_t)15);
    if (ops->init) {
        err = ops->init(q);
        if (err) {
            vns_free(q);
            return err;
        }
    }
    *out = q;
    return 0;
}

void vns_qdisc_reset(struct vns_Qdisc *q)
{
    if (!q)
        return;
    if (q->ops->reset)
        q->ops->reset(q);
    q->stats.drops += q->gso_skb.qlen;
    vns_skb_queue_purge_reason(&q->gso_skb, VNS_SKB_DROP_REASON_QDISC_DROP);
    q->qlen = 0;
    q->backlog = 0;
}

void vns_qdisc_destroy(struct vns_Qdisc *q)
{
    if (!q)
        return;
    vns_qdisc_reset(q);
    if (q->scheduled && q->dev) {
        /* Unlink from the output_queue it sits on. */
        struct vns_kernel *k = q->dev->k;

        for (unsigned i = 0; i < k->cfg.ncpus; i++) {
            struct vns_softnet_data *sd = &k->sd[i];
            struct vns_Qdisc **pp, *prev = NULL;

            for (pp = &sd->output_head; *pp; prev = *pp, pp = &(*pp)->next_sched) {
                if (*pp == q) {
                    *pp = q->next_sched;
                    if (sd->output_tail == q)
                        sd->output_tail = prev;
                    break;
                }
            }
        }
    }
    if (q->ops->destroy)
        q->ops->destroy(q);
    vns_free(q);
}

void vns_dev_graft_qdisc(struct vns_net_device *dev, struct vns_Qdisc *q)
{
    struct vns_netdev_queue *txq = &dev->txq;
    struct vns_Qdisc *old = txq->qdisc_sleeping;

    q->flags |= VNS_TCQ_F_ONETXQUEUE | VNS_TCQ_F_NOPARENT;
    if (txq->qdisc == old)
        txq->qdisc = q;
    txq->qdisc_sleeping = q;
    vns_qdisc_destroy(old);
}

/* __netif_schedule -> __netif_reschedule: on this CPU's output_queue,
 * raise NET_TX_SOFTIRQ (raise_softirq_irqoff: wakes ksoftirqd when not in
 * interrupt context). */
void vns___netif_schedule(struct vns_ctx *ctx, struct vns_Qdisc *q)
{
    struct vns_softnet_data *sd;

    if (q->scheduled)
        return;
    vns_fn_enter(ctx, VNS_FN___netif_schedule);
    q->scheduled = true;
    sd = vns_kernel_softnet(q->dev->k, ctx);
    q->next_sched = NULL;
    if (sd->output_tail)
        sd->output_tail->next_sched = q;
    else
        sd->output_head = q;
    sd->output_tail = q;
    if (ctx)
        vns_raise_softirq(ctx, VNS_NET_TX_SOFTIRQ);
    else
        vns_raise_softirq_irqoff(sd->cpu, VNS_NET_TX_SOFTIRQ);
    vns_fn_exit(ctx);
}

/* dev_requeue_skb: back on gso_skb (still counted in qlen), reschedule. */
static void dev_requeue_skb(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_Qdisc *q)
{
    vns_charge(ctx, VNS_FN_dev_requeue_skb, 0);   /* static inline in 5.4: a cost, no frame */
    while (skb) {
        struct vns_skb *next = skb->next;

        vns_skb_queue_tail(&q->gso_skb, skb);
        q->stats.requeues++;
        q->qlen++;
        q->backlog += skb->len;
        skb = next;
    }
    vns___netif_schedule(ctx, q);
}

/* dequeue_skb: the requeued skb first if its queue can take it. */
static struct vns_skb *dequeue_skb(struct vns_ctx *ctx, struct vns_Qdisc *q, bool *validate,
                                   int *packets)
{
    struct vns_skb *skb;

    *packets = 1;
    if (q->gso_skb.head) {
        *validate = false;
        if (q->dev->txq.state & (VNS_QUEUE_STATE_DRV_XOFF | VNS_QUEUE_STATE_FROZEN))
            return NULL;
        skb = vns_skb_dequeue(&q->gso_skb);
        q->qlen--;
        q->backlog -= skb->len;
        return skb;
    }
    *validate = true;
    skb = q->ops->dequeue ? q->ops->dequeue(ctx, q) : NULL;
    return skb;
}

/* sch_direct_xmit: validate (GSO, checksum) outside the qdisc lock, then
 * the driver unless the queue is stopped; a not-complete result requeues.
 * Returns true if the caller may send more. Consumes @skb (list). */
bool vns__sch_direct_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_Qdisc *q,
                          struct vns_net_device *dev, bool validate)
{
    struct vns_softnet_data *sd = vns_kernel_softnet(dev->k, ctx);
    int ret = VNS_NETDEV_TX_BUSY;
    bool lltx = dev->features & VNS_NETIF_F_LLTX;

    vns_fn_enter(ctx, VNS_FN_sch_direct_xmit);
    if (validate) {
        struct vns_skb *list = NULL, **tail = &list;

        /* validate_xmit_skb_list */
        while (skb) {
            struct vns_skb *next = skb->next, *v;

            skb->next = NULL;
            v = vns__validate_xmit_skb(ctx, skb, dev);
            if (v) {
                *tail = v;
                while (v->next)
                    v = v->next;
                tail = &v->next;
            }
            skb = next;
        }
        skb = list;
    }
    if (!skb) {
        vns_fn_exit(ctx);
        return true;
    }
    if (!lltx)
        dev->txq.xmit_lock_owner = (int)sd->index;   /* HARD_TX_LOCK */
    if (!(dev->txq.state & (VNS_QUEUE_STATE_DRV_XOFF | VNS_QUEUE_STATE_FROZEN)))
        skb = vns__dev_hard_start_xmit(ctx, skb, dev, &ret);
    if (!lltx)
        dev->txq.xmit_lock_owner = -1;
    if (!vns_dev_xmit_complete(ret)) {
        /* ret != NETDEV_TX_BUSY: the kernel warns "BUG %s code %d qlen %d" */
        dev_requeue_skb(ctx, skb, q);
        vns_fn_exit(ctx);
        return false;
    }
    vns_fn_exit(ctx);
    return true;
}

/* qdisc_restart (inlined into __qdisc_run; the profile hides its frame). */
static bool qdisc_restart(struct vns_ctx *ctx, struct vns_Qdisc *q, int *packets)
{
    struct vns_skb *skb;
    bool validate, r;

    vns_fn_enter(ctx, VNS_FN_qdisc_restart);
    skb = dequeue_skb(ctx, q, &validate, packets);
    if (!skb) {
        vns_fn_exit(ctx);
        return false;
    }
    q->stats.packets++;
    q->stats.bytes += skb->len;
    r = vns__sch_direct_xmit(ctx, skb, q, q->dev, validate);
    vns_fn_exit(ctx);
    return r;
}

void vns__qdisc_run(struct vns_ctx *ctx, struct vns_Qdisc *q)
{
    int quota = (int)q->dev->k->cfg.dev_tx_weight;
    int packets;

    vns_fn_enter(ctx, VNS_FN___qdisc_run);
    while (qdisc_restart(ctx, q, &packets)) {
        quota -= packets;
        if (quota <= 0) {
            vns___netif_schedule(ctx, q);
            break;
        }
    }
    vns_fn_exit(ctx);
}

void vns_qdisc_run(struct vns_ctx *ctx, struct vns_Qdisc *q)
{
    /* qdisc_run_begin: for NOLOCK the seqlock trylock, else RUNNING bit. */
    if (q->running)
        return;
    q->running = true;
    if (!q->deactivated)
        vns__qdisc_run(ctx, q);
    q->running = false;
}
