/* lib/net/dev_xmit.c -- the transmit core: dev_queue_xmit, __dev_queue_xmit,
 * __dev_xmit_skb, dev_hard_start_xmit, xmit_one, netdev_start_xmit,
 * validate_xmit_skb, dev_queue_xmit_nit, net_tx_action, dev_forward_skb.
 * LINUX: net/core/dev.c, linux-5.4.
 *
 * Control flow as 5.4: rcu_read_lock_bh around the whole send (so a
 * softirq raised inside, e.g. by dev_forward_skb -> netif_rx, runs at its
 * unlock: __local_bh_enable_ip under __dev_queue_xmit, as in the seed's
 * "tap recv path"); a qdisc with enqueue gets __dev_xmit_skb (NOLOCK:
 * enqueue + qdisc_run; locked: bypass when empty, else enqueue + run); a
 * noqueue device (bridge, macvlan) goes straight to dev_hard_start_xmit
 * with the recursion limit (XMIT_RECURSION_LIMIT 10 in 5.4, 8 in 6.x)
 * and the "Virtual device asks to queue packet" drop.
 * Simplified: no tc/netfilter egress hooks, no XPS (one tx queue), no
 * skb_update_prio (cgroup priomap). */
#include <string.h>

#include "net_int.h"

#define XMIT_RECURSION_LIMIT 10     /* linux-5.4 */
#define XMIT_RECURSION_LIMIT_6 8    /* 6.x (kernel-facts 12.1) */

/* dev_queue_xmit_nit: a borrowed copy to each packet tap (ptype_all). */
void vns__dev_queue_xmit_nit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    struct vns_kernel *k = dev->k;

    vns_fn_enter(ctx, VNS_FN_dev_queue_xmit_nit);
    for (unsigned i = 0; i < k->ntaps; i++)
        k->taps[i].fn(skb, dev, true, k->taps[i].arg);
    vns_fn_exit(ctx);
}

/* xmit_one -> netdev_start_xmit -> __netdev_start_xmit -> ndo_start_xmit
 * (inlined in 5.4). @more: netdev_xmit_more() for this call. */
static int xmit_one(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev, bool more)
{
    uint32_t len = skb->len;
    int rc;

    vns_fn_enter(ctx, VNS_FN_xmit_one);
    if (dev->k->ntaps)
        vns__dev_queue_xmit_nit(ctx, skb, dev);
    vns_fn_enter(ctx, VNS_FN_netdev_start_xmit);
    dev->xmit_more = more; /* __this_cpu_write(softnet_data.xmit.more, more) */
    rc = dev->ops->ndo_start_xmit(ctx, skb, dev);
    dev->xmit_more = false;
    if (rc == VNS_NETDEV_TX_OK)
        dev->txq.trans_start = vns__now(ctx, dev->k);
    (void)len;
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return rc;
}

struct vns_skb *vns__dev_hard_start_xmit(struct vns_ctx *ctx, struct vns_skb *first,
                                        struct vns_net_device *dev, int *ret)
{
    struct vns_skb *skb = first;
    int rc = VNS_NETDEV_TX_OK;

    vns_fn_enter(ctx, VNS_FN_dev_hard_start_xmit);
    while (skb) {
        struct vns_skb *next = skb->next;

        skb->next = NULL;
        /* more = next != NULL: the GSO segments validate_xmit_skb made, or
         * a bulk dequeue (none in 5.4 without BQL: see sch_generic.c) */
        rc = xmit_one(ctx, skb, dev, next != NULL);
        if (!vns_dev_xmit_complete(rc)) {
            skb->next = next;
            goto out;
        }
        skb = next;
        if (vns_netif_queue_stopped(dev) && skb) {
            rc = VNS_NETDEV_TX_BUSY;
            break;
        }
    }
out:
    vns_fn_exit(ctx);
    *ret = rc;
    return skb;
}

/* validate_xmit_skb: software GSO when the device cannot segment this skb,
 * linearize for a device without SG, checksum in software without
 * checksum offload. Returns the skb, a ->next list of segments, or NULL
 * (dropped). Consumes @skb. */
struct vns_skb *vns__validate_xmit_skb(struct vns_ctx *ctx, struct vns_skb *skb,
                                      struct vns_net_device *dev)
{
    uint64_t features = dev->features;

    vns_fn_enter(ctx, VNS_FN_validate_xmit_skb);
    if (vns__netif_needs_gso(skb, features)) {
        struct vns_skb *segs = vns__skb_gso_segment(ctx, skb, features);

        if (!segs) {
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_SKB_GSO_SEG);
            dev->stats.tx_dropped++;
            vns_fn_exit(ctx);
            return NULL;
        }
        vns__skb_gso_move_owner(skb, segs);
        vns_consume_skb(skb);
        vns_fn_exit(ctx);
        return segs;
    }
    /* a syn_linear range is linear in the kernel: nothing to linearize */
    if (vns_skb_kernel_nonlinear(skb) &&
        (!(features & VNS_NETIF_F_SG) || (skb->frag_list && !(features & VNS_NETIF_F_FRAGLIST)))) {
        if (vns_skb_linearize(skb) < 0) {
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOMEM);
            dev->stats.tx_dropped++;
            vns_fn_exit(ctx);
            return NULL;
        }
    }
    if (skb->ip_summed == VNS_CHECKSUM_PARTIAL && !(features & VNS_NETIF_F_CSUM_MASK)) {
        vns_fn_enter(ctx, VNS_FN_skb_checksum_help);
        vns_charge_bytes(ctx, VNS_FN_skb_checksum_help, skb->len);
        if (vns_skb_checksum_help(skb) < 0) {
            vns_fn_exit(ctx);
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_SKB_CSUM);
            dev->stats.tx_dropped++;
            vns_fn_exit(ctx);
            return NULL;
        }
        vns_fn_exit(ctx);
    }
    vns_fn_exit(ctx);
    return skb;
}

/* __dev_xmit_skb (inlined into __dev_queue_xmit; hidden by the profile). */
static int dev_xmit_skb(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_Qdisc *q,
                        struct vns_net_device *dev)
{
    int rc;

    vns_fn_enter(ctx, VNS_FN___dev_xmit_skb);
    if (q->flags & VNS_TCQ_F_NOLOCK) {
        if (dev->k->cfg.version >= 514 && (q->flags & VNS_TCQ_F_CAN_BYPASS) && !q->qlen && !q->running &&
            !q->deactivated) {
            /* 5.14+ (c4fef01ba479): an empty lockless qdisc is bypassed */
            q->running = true;
            q->stats.packets++;
            q->stats.bytes += skb->len;
            if (vns__sch_direct_xmit(ctx, skb, q, dev, true) && q->qlen)
                vns__qdisc_run(ctx, q);
            q->running = false;
            vns_fn_exit(ctx);
            return VNS_NET_XMIT_SUCCESS;
        }
        if (q->deactivated) {
            rc = vns_qdisc_drop(skb, q);
        } else {
            rc = q->ops->enqueue(ctx, skb, q) & VNS_NET_XMIT_MASK;
            vns_qdisc_run(ctx, q);
        }
        vns_fn_exit(ctx);
        return rc;
    }
    if (q->deactivated) {
        rc = vns_qdisc_drop(skb, q);
    } else if ((q->flags & VNS_TCQ_F_CAN_BYPASS) && !q->qlen && !q->running) {
        /* Empty work-conserving qdisc: send directly (qdisc_bstats_update). */
        q->running = true;
        q->stats.packets++;
        q->stats.bytes += skb->len;
        if (vns__sch_direct_xmit(ctx, skb, q, dev, true))
            vns__qdisc_run(ctx, q);
        q->running = false;
        rc = VNS_NET_XMIT_SUCCESS;
    } else {
        rc = q->ops->enqueue(ctx, skb, q) & VNS_NET_XMIT_MASK;
        vns_qdisc_run(ctx, q);
    }
    vns_fn_exit(ctx);
    return rc;
}

static int dev_queue_xmit_inner(struct vns_ctx *ctx, struct vns_skb *skb)
{
    struct vns_net_device *dev = skb->dev;
    struct vns_softnet_data *sd = vns_kernel_softnet(dev->k, ctx);
    struct vns_Qdisc *q;
    int rc = -VNS_ENODEV;

    vns_fn_enter(ctx, VNS_FN___dev_queue_xmit);
    vns_skb_reset_mac_header(skb);
    vns__book_in(dev->book, skb);
    if (ctx)
        vns_local_bh_disable(ctx);          /* rcu_read_lock_bh */
    q = dev->txq.qdisc;
    if (q->ops->enqueue) {
        rc = dev_xmit_skb(ctx, skb, q, dev);
        goto out;
    }
    if (dev->flags & VNS_IFF_UP) {
        if (dev->txq.xmit_lock_owner != (int)sd->index) {
            if (sd->xmit_recursion > (dev->k->cfg.version >= 600 ? XMIT_RECURSION_LIMIT_6 : XMIT_RECURSION_LIMIT))
                goto recursion_alert;
            skb = vns__validate_xmit_skb(ctx, skb, dev);
            if (!skb)
                goto out;
            if (!(dev->features & VNS_NETIF_F_LLTX))
                dev->txq.xmit_lock_owner = (int)sd->index;
            if (!vns_netif_queue_stopped(dev)) {
                sd->xmit_recursion++;
                skb = vns__dev_hard_start_xmit(ctx, skb, dev, &rc);
                sd->xmit_recursion--;
                if (vns_dev_xmit_complete(rc)) {
                    if (!(dev->features & VNS_NETIF_F_LLTX))
                        dev->txq.xmit_lock_owner = -1;
                    goto out;
                }
            }
            if (!(dev->features & VNS_NETIF_F_LLTX))
                dev->txq.xmit_lock_owner = -1;
            /* "Virtual device %s asks to queue packet!" */
            rc = -VNS_ENODEV;
            dev->stats.tx_dropped++;
            vns_kfree_skb_list_reason(skb, VNS_SKB_DROP_REASON_NETDEV_TX_BUSY);
            goto out;
        }
recursion_alert:
        /* "Dead loop on virtual device %s, fix it urgently!" */
        rc = -VNS_ENODEV;
        dev->stats.tx_dropped++;
        vns_kfree_skb_list_reason(skb, VNS_SKB_DROP_REASON_RECURSION_LIMIT);
        goto out;
    }
    rc = -VNS_ENODEV;
    dev->stats.tx_dropped++;
    vns_kfree_skb_list_reason(skb, VNS_SKB_DROP_REASON_DEV_READY);
out:
    if (ctx)
        vns_local_bh_enable(ctx);           /* rcu_read_unlock_bh */
    vns_fn_exit(ctx);
    return rc;
}

int vns_dev_queue_xmit(struct vns_ctx *ctx, struct vns_skb *skb)
{
    int rc;

    vns_fn_enter(ctx, VNS_FN_dev_queue_xmit);
    rc = dev_queue_xmit_inner(ctx, skb);
    vns_fn_exit(ctx);
    return rc;
}

/* __dev_kfree_skb_irq / dev_kfree_skb_any: a hard interrupt cannot free
 * (5.4: in_irq() || irqs_disabled()), so the skb waits on the
 * completion_queue for NET_TX. LINUX (net/core/dev.c, 5.4): the fate is
 * decided now and kept in get_kfree_skb_cb(skb)->reason; net_tx_action
 * traces consume_skb or kfree_skb when it really frees. The ledger does
 * the same: the skb is in flight while it waits and is counted consumed
 * or dropped once, when NET_TX or the end-of-run drain frees it
 * (vns__completion_free). A reference that is not the last one is
 * dropped at once, as 5.4 does (refcount_dec_and_test). */
struct kfree_skb_cb {
    int reason; /* -1: consumed (SKB_REASON_CONSUMED), else a drop reason */
};

_Static_assert(sizeof(struct kfree_skb_cb) <= VNS_SKB_CB_SIZE, "kfree_skb_cb fits skb->cb");

void vns_dev_kfree_skb_any(struct vns_ctx *ctx, struct vns_skb *skb, bool consumed)
{
    struct vns_softnet_data *sd;
    struct kfree_skb_cb cb = {consumed ? -1 : (int)VNS_SKB_DROP_REASON_NOT_SPECIFIED};

    if (!skb)
        return;
    if (!ctx || vns_ctx_kind(ctx) != VNS_CTX_HARDIRQ || skb->users > 1) {
        if (consumed)
            vns_consume_skb(skb);
        else
            vns_kfree_skb(skb);
        return;
    }
    vns_fn_enter(ctx, VNS_FN___dev_kfree_skb_irq);
    sd = vns_kernel_softnet(skb->dev ? skb->dev->k : skb->k, ctx);
    /* the device lets go of it now (its book); the kernel counts it when
     * it is freed */
    if (skb->book)
        vns__book_fate(skb, cb.reason);
    memcpy(skb->cb, &cb, sizeof(cb));
    vns_skb_queue_tail(&sd->completion_queue, skb);
    vns_raise_softirq_irqoff(sd->cpu, VNS_NET_TX_SOFTIRQ);
    vns_fn_exit(ctx);
}

void vns__completion_free(struct vns_skb *skb)
{
    struct kfree_skb_cb cb;

    memcpy(&cb, skb->cb, sizeof(cb));
    if (cb.reason < 0)
        vns_consume_skb(skb);
    else
        vns_kfree_skb_reason(skb, (enum vns_skb_drop_reason)cb.reason);
}

void vns_napi_consume_skb(struct vns_ctx *ctx, struct vns_skb *skb, int budget)
{
    if (!skb)
        return;
    if (!budget) {
        vns_dev_kfree_skb_any(ctx, skb, true);
        return;
    }
    vns_charge(ctx, VNS_FN_napi_consume_skb, 0);
    vns_consume_skb(skb);
}

/* net_tx_action: free the completion_queue, then run the qdiscs on this
 * CPU's output_queue, one per step. */
int vns__net_tx_action(struct vns_ctx *ctx, void *arg)
{
    struct vns_softnet_data *sd = arg;
    struct vns_Qdisc *q;

    if (sd->completion_queue.head) {
        struct vns_skb *skb;

        while ((skb = vns_skb_dequeue(&sd->completion_queue)) != NULL) {
            /* counted now, with the fate __dev_kfree_skb_irq decided */
            vns__completion_free(skb);
            vns_charge(ctx, VNS_FN_consume_skb, 0);
            sd->stats.completions++;
        }
    }
    q = sd->output_head;
    if (!q)
        return VNS_STEP_DONE;
    sd->stats.tx_actions++;
    sd->output_head = q->next_sched;
    if (!sd->output_head)
        sd->output_tail = NULL;
    q->next_sched = NULL;
    /* clear_bit(__QDISC_STATE_SCHED) before running it */
    q->scheduled = false;
    vns_qdisc_run(ctx, q);
    return sd->output_head ? VNS_STEP_AGAIN : VNS_STEP_DONE;
}

bool vns_is_skb_forwardable(const struct vns_net_device *dev, const struct vns_skb *skb)
{
    unsigned len;

    if (!(dev->flags & VNS_IFF_UP))
        return false;
    len = dev->mtu + dev->hard_header_len + VNS_VLAN_HLEN;
    if (skb->len <= len)
        return true;
    /* if TSO is enabled, we don't care about the length as the packet
     * could be forwarded without being segmented before */
    return vns_skb_is_gso(skb);
}

int vns___dev_forward_skb(struct vns_ctx *ctx, struct vns_net_device *dev, struct vns_skb *skb)
{
    vns_fn_enter(ctx, VNS_FN___dev_forward_skb);
    if (!vns_is_skb_forwardable(dev, skb) || skb->len < VNS_ETH_HLEN) {
        dev->stats.rx_dropped++;
        vns_kfree_skb_reason(skb, (dev->flags & VNS_IFF_UP) ? VNS_SKB_DROP_REASON_PKT_TOO_BIG
                                                              : VNS_SKB_DROP_REASON_DEV_READY);
        vns_fn_exit(ctx);
        return VNS_NET_RX_DROP;
    }
    /* skb_scrub_packet(skb, true): mark and tstamp. The socket stays: 5.4's
     * scrub no longer orphans (4.19, "skbuff: preserve sock reference when
     * scrubbing the skb"), so the sender's TSQ charge lasts until the
     * receiver frees or orphans the skb (ip_rcv_core, a tap's reader). */
    skb->tstamp = 0;
    skb->priority = 0;
    skb->protocol = vns_eth_type_trans(skb, dev);
    vns_fn_exit(ctx);
    return 0;
}

int vns_dev_forward_skb(struct vns_ctx *ctx, struct vns_net_device *dev, struct vns_skb *skb)
{
    int ret;

    vns_fn_enter(ctx, VNS_FN_dev_forward_skb);
    ret = vns___dev_forward_skb(ctx, dev, skb);
    if (ret == 0)
        ret = vns_netif_rx(ctx, skb);
    vns_fn_exit(ctx);
    return ret;
}
