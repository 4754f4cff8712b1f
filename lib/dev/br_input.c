/* lib/dev/br_input.c -- bridge ingress: br_handle_frame (the rx_handler of
 * every port), br_handle_frame_finish, br_pass_frame_up.
 * LINUX: net/bridge/br_input.c (linux-5.4).
 *
 * Modelled as 5.4: PACKET_LOOPBACK passes; an invalid source MAC
 * (multicast or zero) is dropped; link-local 01:80:c2:00:00:0X: 00 is
 * forwarded with STP off, 01 (pause) dropped, others passed up locally
 * after learning unless group_fwd_mask (0) forwards them; FORWARDING or
 * LEARNING ports run br_handle_frame_finish (a dst equal to the bridge MAC
 * becomes PACKET_HOST), others drop; learning when the port has
 * BR_LEARNING; broadcast is flooded and delivered up, multicast (no
 * snooping querier) flooded and delivered up, unicast to a local entry
 * delivered up, to a known port forwarded, else flooded; a LEARNING port
 * stops after learning. Local delivery re-enters netif_receive_skb with
 * skb->dev = the bridge (br_netif_receive_skb).
 * Simplified: NF_HOOKs are direct calls (no netfilter); no VLAN ingress
 * filtering, multicast snooping, proxy ARP/ND suppression. */
#include <string.h>

#include "br_private.h"

static int br_pass_frame_up(struct vns_ctx *ctx, struct vns_skb *skb)
{
    struct vns_net_device *brdev = BR_INPUT_SKB_CB(skb)->brdev;
    int ret;

    vns_fn_enter(ctx, VNS_FN_br_pass_frame_up);
    brdev->stats.rx_packets++;
    brdev->stats.rx_bytes += skb->len;
    skb->dev = brdev;
    /* NF_HOOK(NFPROTO_BRIDGE, NF_BR_LOCAL_IN, ..., br_netif_receive_skb) */
    vns_fn_enter(ctx, VNS_FN_br_netif_receive_skb);
    ret = vns_netif_receive_skb(ctx, skb);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return ret;
}

/* br_handle_frame_finish: learn, then deliver locally, forward or flood. */
static int br_handle_frame_finish(struct vns_ctx *ctx, struct vns_skb *skb)
{
    struct net_bridge_port *p = br_port_get(skb->dev);
    enum br_pkt_type pkt_type = BR_PKT_UNICAST;
    struct net_bridge_fdb_entry *dst = NULL;
    const uint8_t *dest, *src;
    struct net_bridge *br;
    bool local_rcv;

    vns_fn_enter(ctx, VNS_FN_br_handle_frame_finish);
    if (!p || p->state == VNS_BR_STATE_DISABLED) {
        if (p)
            p->stats.dropped++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_BRIDGE_PORT_STATE);
        goto out;
    }
    br = p->br;
    dest = vns_skb_mac_header(skb);
    src = dest + VNS_ETH_ALEN;
    /* insert into forwarding database after filtering to avoid spoofing */
    if (p->flags & VNS_BR_LEARNING)
        vns__br_fdb_update(ctx, br, p, src);
    local_rcv = !!(br->dev->flags & VNS_IFF_PROMISC);
    if (vns_is_multicast_ether_addr(dest)) {
        /* by definition the broadcast is also a multicast address */
        if (vns_is_broadcast_ether_addr(dest)) {
            pkt_type = BR_PKT_BROADCAST;
            local_rcv = true;
        } else {
            pkt_type = BR_PKT_MULTICAST;
        }
    }
    if (p->state == VNS_BR_STATE_LEARNING) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_BRIDGE_PORT_STATE);
        goto out;
    }
    BR_INPUT_SKB_CB(skb)->brdev = br->dev;
    switch (pkt_type) {
    case BR_PKT_MULTICAST:
        /* no MDB entry / no querier: flood and receive locally */
        local_rcv = true;
        br->dev->stats.multicast++;
        break;
    case BR_PKT_UNICAST:
        dst = vns__br_fdb_find_rcu(ctx, br, dest);
        break;
    default:
        break;
    }
    if (dst) {
        if (dst->is_local) {
            br_pass_frame_up(ctx, skb);
            goto out;
        }
        dst->used = br_jiffies(br, ctx);
        vns__br_forward(ctx, dst->dst, skb, local_rcv, false);
    } else {
        vns__br_flood(ctx, br, skb, pkt_type, local_rcv, false);
    }
    if (local_rcv)
        br_pass_frame_up(ctx, skb);
out:
    vns_fn_exit(ctx);
    return 0;
}

enum vns_rx_handler_result vns__br_handle_frame(struct vns_ctx *ctx, struct vns_skb **pskb)
{
    struct vns_skb *skb = *pskb;
    struct net_bridge_port *p;
    const uint8_t *dest, *src;

    if (skb->pkt_type == VNS_PACKET_LOOPBACK)
        return VNS_RX_HANDLER_PASS;
    vns_fn_enter(ctx, VNS_FN_br_handle_frame);
    p = br_port_get(skb->dev);
    p->stats.rx_frames++;
    dest = vns_skb_mac_header(skb);
    src = dest + VNS_ETH_ALEN;
    if (!vns_is_valid_ether_addr(src)) {
        p->stats.dropped++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_MAC_INVALID_SOURCE);
        goto consumed;
    }
    skb = vns_skb_share_check(skb);
    if (!skb)
        goto consumed;
    memset(skb->cb, 0, sizeof(struct br_input_skb_cb));
    if (vns_is_link_local_ether_addr(dest)) {
        switch (dest[5]) {
        case 0x00:   /* Bridge Group Address: forward when STP is off */
            goto forward;
        case 0x01:   /* IEEE MAC (Pause) */
            p->stats.dropped++;
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_BRIDGE_LINK_LOCAL);
            goto consumed;
        default:
            /* group_fwd_mask 0: __br_handle_local_finish learns, and the
             * frame continues up the port device. */
            if (p->flags & VNS_BR_LEARNING)
                vns__br_fdb_update(ctx, p->br, p, src);
            *pskb = skb;
            vns_fn_exit(ctx);
            return VNS_RX_HANDLER_PASS;
        }
    }
forward:
    switch (p->state) {
    case VNS_BR_STATE_FORWARDING:
    case VNS_BR_STATE_LEARNING:
        if (vns_ether_addr_equal(p->br->dev->dev_addr, dest))
            skb->pkt_type = VNS_PACKET_HOST;
        /* NF_HOOK(NFPROTO_BRIDGE, NF_BR_PRE_ROUTING, ..., br_handle_frame_finish) */
        br_handle_frame_finish(ctx, skb);
        break;
    default:
        p->stats.dropped++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_BRIDGE_PORT_STATE);
    }
consumed:
    vns_fn_exit(ctx);
    return VNS_RX_HANDLER_CONSUMED;
}
