/* lib/net/dev_rx.c -- the receive core: eth_type_trans, netif_rx,
 * enqueue_to_backlog, process_backlog, netif_receive_skb,
 * __netif_receive_skb(_one_core/_core) with rx_handler dispatch and
 * protocol delivery. LINUX: net/core/dev.c, net/ethernet/eth.c, linux-5.4.
 *
 * Modelled as 5.4: netif_rx enqueues to this CPU's input_pkt_queue (limit
 * netdev_max_backlog, checked as qlen <= max, so 1001 fit) and schedules
 * the backlog NAPI with __raise_softirq_irqoff only (no local_bh toggling:
 * the softirq runs at the next irq_exit or outermost local_bh_enable);
 * process_backlog drains process_queue, splicing input_pkt_queue into it,
 * quota dev_rx_weight; __netif_receive_skb_core: taps, rx_handler
 * (CONSUMED/ANOTHER/EXACT/PASS), then the ptype handler, called from
 * __netif_receive_skb_one_core as in 5.4.
 * Simplified: no RPS/RFS, flow limit, generic XDP, VLAN untagging, tc or
 * netfilter ingress, pfmemalloc. process_backlog handles one packet per
 * step (DESIGN.md section 3). */
#include <string.h>

#include "net_int.h"

uint16_t vns_eth_type_trans(struct vns_skb *skb, struct vns_net_device *dev)
{
    const struct vns_ethhdr *eth;
    uint16_t proto;

    skb->dev = dev;
    vns_skb_reset_mac_header(skb);
    eth = (const struct vns_ethhdr *)(const void *)skb->data;
    vns_skb_pull(skb, VNS_ETH_HLEN);
    if (vns_is_multicast_ether_addr(eth->h_dest)) {
        if (vns_ether_addr_equal(eth->h_dest, dev->broadcast))
            skb->pkt_type = VNS_PACKET_BROADCAST;
        else
            skb->pkt_type = VNS_PACKET_MULTICAST;
    } else if (!vns_ether_addr_equal(eth->h_dest, dev->dev_addr)) {
        skb->pkt_type = VNS_PACKET_OTHERHOST;
    } else {
        skb->pkt_type = VNS_PACKET_HOST;
    }
    proto = vns_get_be16(eth->h_proto);
    if (proto >= VNS_ETH_P_802_3_MIN)
        return proto;
    return VNS_ETH_P_802_2;   /* 802.3 length field: the kernel's 802.2 default */
}

/* enqueue_to_backlog: this CPU's input_pkt_queue. Consumes @skb. */
static int enqueue_to_backlog(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_softnet_data *sd)
{
    uint32_t qlen;

    vns_fn_enter(ctx, VNS_FN_enqueue_to_backlog);
    if (skb->dev)
        vns__book_in(skb->dev->book, skb);
    if (!skb->dev || !vns_netif_running(skb->dev))
        goto drop;
    qlen = sd->input_pkt_queue.qlen;
    if (qlen <= sd->k->cfg.netdev_max_backlog) {
        if (!qlen && !(sd->backlog.state & VNS_NAPI_STATE_SCHED)) {
            /* __test_and_set_bit(NAPI_STATE_SCHED) + ____napi_schedule */
            sd->backlog.state |= VNS_NAPI_STATE_SCHED;
            sd->backlog.stats.schedules++;
            vns__napi_list_add_tail(&sd->poll_head, &sd->poll_tail, &sd->backlog);
            vns_raise_softirq_irqoff(sd->cpu, VNS_NET_RX_SOFTIRQ);
        }
        vns_skb_queue_tail(&sd->input_pkt_queue, skb);
        vns_fn_exit(ctx);
        return VNS_NET_RX_SUCCESS;
    }
drop:
    sd->stats.dropped++;
    if (skb->dev)
        skb->dev->stats.rx_dropped++;
    vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_CPU_BACKLOG);
    vns_fn_exit(ctx);
    return VNS_NET_RX_DROP;
}

int vns_netif_rx(struct vns_ctx *ctx, struct vns_skb *skb)
{
    /* the receiving device's kernel (the skb's pool may be another's) */
    struct vns_kernel *k = skb->dev ? skb->dev->k : skb->k;
    struct vns_softnet_data *sd = vns_kernel_softnet(k, ctx);
    int ret;

    bool need_bh_off;

    vns_fn_enter(ctx, VNS_FN_netif_rx);
    /* 5.18+: netif_rx works from any context, disabling bottom halves when
     * not already in hard/soft irq context, so the outermost enable runs
     * the softirq at once. 5.4 only raises it. */
    need_bh_off = k->cfg.version >= 518 && ctx && !vns_in_interrupt(ctx);
    if (need_bh_off)
        vns_local_bh_disable(ctx);
    vns_fn_enter(ctx, VNS_FN_netif_rx_internal);
    if (!skb->tstamp)
        skb->tstamp = vns__now(ctx, k);    /* net_timestamp_check */
    ret = enqueue_to_backlog(ctx, skb, sd);
    vns_fn_exit(ctx);
    if (need_bh_off)
        vns_local_bh_enable(ctx);
    vns_fn_exit(ctx);
    return ret;
}

int vns_netif_rx_ni(struct vns_ctx *ctx, struct vns_skb *skb)
{
    int ret;

    vns_fn_enter(ctx, VNS_FN_netif_rx_ni);
    ret = vns_netif_rx(ctx, skb);
    /* if (local_softirq_pending()) do_softirq(): modelled as a bh
     * disable/enable pair, which runs them when not in interrupt. */
    if (ctx && !vns_in_interrupt(ctx) && vns_softirq_pending(vns_ctx_cpu(ctx))) {
        vns_local_bh_disable(ctx);
        vns_local_bh_enable(ctx);
    }
    vns_fn_exit(ctx);
    return ret;
}

static int deliver_ptype(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *orig_dev,
                         bool exact)
{
    struct vns_kernel *k = skb->dev->k;

    (void)orig_dev;
    for (unsigned i = 0; !exact && i < k->nptype; i++) {
        if (k->ptype[i].type == skb->protocol) {
            vns__book_out(skb); /* to the protocol: out of the device's hands */
            return k->ptype[i].fn(ctx, skb, skb->dev, k->ptype[i].arg);
        }
    }
    if (exact)
        skb->dev->stats.rx_nohandler++;
    else
        skb->dev->stats.rx_dropped++;
    k->stats.rx_nohandler++;
    vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_UNHANDLED_PROTO);
    return VNS_NET_RX_DROP;
}

/* __netif_receive_skb_core + the ptype call of __netif_receive_skb_one_core. */
static int netif_receive_skb_one_core(struct vns_ctx *ctx, struct vns_skb *skb)
{
    struct vns_net_device *orig_dev = skb->dev;
    struct vns_kernel *k = orig_dev->k;
    struct vns_softnet_data *sd = vns_kernel_softnet(k, ctx);
    bool deliver_exact = false;
    int ret;

    vns_fn_enter(ctx, VNS_FN___netif_receive_skb_one_core);
    vns_fn_enter(ctx, VNS_FN___netif_receive_skb_core);
    vns_skb_reset_network_header(skb);
    if (skb->transport_header == VNS_SKB_NO_HDR)
        vns_skb_reset_transport_header(skb);
    for (unsigned round = 0;; round++) {
        vns_rx_handler_func_t rx_handler;

        skb->skb_iif = skb->dev->ifindex;
        vns__book_in(skb->dev->book, skb); /* a new round: the device rx_handler named */
        sd->stats.processed++;
        if (k->ntaps) {
            /* deliver_skb is static inline: a cost per tap, no frame */
            for (unsigned i = 0; i < k->ntaps; i++) {
                vns_charge(ctx, VNS_FN_deliver_skb, 0);
                k->taps[i].fn(skb, skb->dev, false, k->taps[i].arg);
            }
        }
        rx_handler = skb->dev->rx_handler;
        if (!rx_handler)
            break;
        switch (rx_handler(ctx, &skb)) {
        case VNS_RX_HANDLER_CONSUMED:
            vns_fn_exit(ctx);
            vns_fn_exit(ctx);
            return VNS_NET_RX_SUCCESS;
        case VNS_RX_HANDLER_ANOTHER:
            continue;
        case VNS_RX_HANDLER_EXACT:
            deliver_exact = true;
            break;
        case VNS_RX_HANDLER_PASS:
            break;
        }
        break;
    }
    vns_fn_exit(ctx);   /* __netif_receive_skb_core */
    ret = deliver_ptype(ctx, skb, orig_dev, deliver_exact);
    vns_fn_exit(ctx);
    return ret;
}

static int netif_receive_skb_frame(struct vns_ctx *ctx, struct vns_skb *skb)
{
    int ret;

    vns_fn_enter(ctx, VNS_FN___netif_receive_skb);
    ret = netif_receive_skb_one_core(ctx, skb);
    vns_fn_exit(ctx);
    return ret;
}

int vns__netif_receive_skb_internal(struct vns_ctx *ctx, struct vns_skb *skb)
{
    int ret;

    vns_fn_enter(ctx, VNS_FN_netif_receive_skb_internal);
    if (!skb->tstamp)
        skb->tstamp = vns__now(ctx, skb->dev->k);
    ret = netif_receive_skb_frame(ctx, skb);
    vns_fn_exit(ctx);
    return ret;
}

int vns_netif_receive_skb(struct vns_ctx *ctx, struct vns_skb *skb)
{
    int ret;

    vns_fn_enter(ctx, VNS_FN_netif_receive_skb);
    ret = vns__netif_receive_skb_internal(ctx, skb);
    vns_fn_exit(ctx);
    return ret;
}

/* process_backlog: one packet per step; n->work counts them. */
int vns__process_backlog(struct vns_ctx *ctx, struct vns_napi_struct *n, int quota)
{
    struct vns_softnet_data *sd = n->priv;
    struct vns_skb *skb;

    n->weight = (int)sd->k->cfg.dev_weight;   /* napi->weight = dev_rx_weight */
    for (;;) {
        skb = vns_skb_dequeue(&sd->process_queue);
        if (skb) {
            netif_receive_skb_frame(ctx, skb);
            if (++n->work >= quota)
                return VNS_STEP_DONE;
            return VNS_STEP_AGAIN;
        }
        if (!sd->input_pkt_queue.qlen) {
            /* napi->state = 0: inline completion, no GRO on the backlog. */
            n->state = 0;
            return VNS_STEP_DONE;
        }
        vns_skb_queue_splice_tail_init(&sd->input_pkt_queue, &sd->process_queue);
    }
}
