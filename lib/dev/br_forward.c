/* lib/dev/br_forward.c -- bridge forwarding: should_deliver, br_forward,
 * __br_forward, br_forward_finish, br_dev_queue_push_xmit, br_flood,
 * deliver_clone. LINUX: net/bridge/br_forward.c (linux-5.4).
 *
 * Modelled as 5.4: should_deliver = (hairpin or not the ingress device)
 * and the port FORWARDING; br_forward sends the skb itself or, when the
 * frame is also received locally, a clone; br_flood visits every port with
 * the flood flag of the packet type (BR_FLOOD unicast, BR_MCAST_FLOOD,
 * BR_BCAST_FLOOD; locally originated multicast/broadcast ignores the
 * latter two), clones to all eligible ports but the last, which gets the
 * original unless it is also received locally; br_dev_queue_push_xmit
 * restores the Ethernet header, checks is_skb_forwardable and calls
 * dev_queue_xmit on the port.
 * Simplified: no VLAN egress (br_handle_vlan), NF_HOOKs are direct calls,
 * no backup port, no port isolation, no switchdev offload marks. */
#include "br_private.h"

static bool should_deliver(const struct net_bridge_port *p, const struct vns_skb *skb)
{
    return ((p->flags & VNS_BR_HAIRPIN_MODE) || skb->dev != p->dev) &&
           p->state == VNS_BR_STATE_FORWARDING;
}

static int br_dev_queue_push_xmit(struct vns_ctx *ctx, struct net_bridge_port *to, struct vns_skb *skb)
{
    vns_fn_enter(ctx, VNS_FN_br_dev_queue_push_xmit);
    vns_skb_push(skb, VNS_ETH_HLEN);
    if (!vns_is_skb_forwardable(skb->dev, skb)) {
        to->stats.dropped++;
        vns_kfree_skb_reason(skb, vns_netif_running(skb->dev) ? VNS_SKB_DROP_REASON_PKT_TOO_BIG
                                                               : VNS_SKB_DROP_REASON_DEV_READY);
        vns_fn_exit(ctx);
        return 0;
    }
    to->stats.tx_frames++;
    vns_dev_queue_xmit(ctx, skb);
    vns_fn_exit(ctx);
    return 0;
}

static void br_forward_finish(struct vns_ctx *ctx, struct net_bridge_port *to, struct vns_skb *skb)
{
    vns_fn_enter(ctx, VNS_FN_br_forward_finish);
    skb->tstamp = 0;
    /* NF_HOOK(NFPROTO_BRIDGE, NF_BR_POST_ROUTING, ..., br_dev_queue_push_xmit) */
    br_dev_queue_push_xmit(ctx, to, skb);
    vns_fn_exit(ctx);
}

static void __br_forward(struct vns_ctx *ctx, struct net_bridge_port *to, struct vns_skb *skb,
                         bool local_orig)
{
    vns_fn_enter(ctx, VNS_FN___br_forward);
    skb->dev = to->dev;
    if (!local_orig) {
        /* skb_forward_csum: a received CHECKSUM_COMPLETE no longer holds */
        if (skb->ip_summed == VNS_CHECKSUM_COMPLETE)
            skb->ip_summed = VNS_CHECKSUM_NONE;
    }
    /* NF_HOOK(NF_BR_FORWARD or NF_BR_LOCAL_OUT, ..., br_forward_finish) */
    br_forward_finish(ctx, to, skb);
    vns_fn_exit(ctx);
}

/* deliver_clone: __br_forward of a clone; @skb is borrowed. */
static int deliver_clone(struct vns_ctx *ctx, struct net_bridge_port *prev, const struct vns_skb *skb,
                         bool local_orig)
{
    struct vns_skb *c;

    vns_fn_enter(ctx, VNS_FN_deliver_clone);
    vns_charge(ctx, VNS_FN_skb_clone, 0);
    c = vns_skb_clone(skb);
    if (!c) {
        prev->br->dev->stats.tx_dropped++;
        vns_fn_exit(ctx);
        return -VNS_ENOMEM;
    }
    __br_forward(ctx, prev, c, local_orig);
    vns_fn_exit(ctx);
    return 0;
}

void vns__br_forward(struct vns_ctx *ctx, struct net_bridge_port *to, struct vns_skb *skb,
                     bool local_rcv, bool local_orig)
{
    vns_fn_enter(ctx, VNS_FN_br_forward);
    if (to && should_deliver(to, skb)) {
        if (local_rcv)
            deliver_clone(ctx, to, skb, local_orig);
        else
            __br_forward(ctx, to, skb, local_orig);
        vns_fn_exit(ctx);
        return;
    }
    if (!local_rcv)
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_BRIDGE_NO_EGRESS);
    vns_fn_exit(ctx);
}

void vns__br_flood(struct vns_ctx *ctx, struct net_bridge *br, struct vns_skb *skb,
                   enum br_pkt_type pkt_type, bool local_rcv, bool local_orig)
{
    struct net_bridge_port *prev = NULL, *p;

    vns_fn_enter(ctx, VNS_FN_br_flood);
    for (p = br->port_list; p; p = p->next) {
        /* Do not flood unicast traffic to ports that turn it off, nor
         * other traffic if flood off, except for traffic we originate */
        switch (pkt_type) {
        case BR_PKT_UNICAST:
            if (!(p->flags & VNS_BR_FLOOD))
                continue;
            break;
        case BR_PKT_MULTICAST:
            if (!(p->flags & VNS_BR_MCAST_FLOOD) && skb->dev != br->dev)
                continue;
            break;
        case BR_PKT_BROADCAST:
            if (!(p->flags & VNS_BR_BCAST_FLOOD) && skb->dev != br->dev)
                continue;
            break;
        }
        /* maybe_deliver */
        if (!should_deliver(p, skb))
            continue;
        if (prev) {
            prev->stats.flooded++;
            if (deliver_clone(ctx, prev, skb, local_orig) < 0)
                goto out;
        }
        prev = p;
    }
    if (!prev)
        goto out;
    prev->stats.flooded++;
    if (local_rcv)
        deliver_clone(ctx, prev, skb, local_orig);
    else
        __br_forward(ctx, prev, skb, local_orig);
    vns_fn_exit(ctx);
    return;
out:
    if (!local_rcv)
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_BRIDGE_NO_EGRESS);
    vns_fn_exit(ctx);
}
