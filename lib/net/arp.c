/* lib/net/arp.c -- ARP for IPv4 over Ethernet. LINUX: net/ipv4/arp.c
 * (arp_rcv, arp_process, arp_create + arp_xmit = arp_send_dst).
 *
 * arp_rcv validates the header (hardware type Ethernet, protocol IPv4,
 * lengths 6 and 4, a known opcode) and drops what fails, counted. A
 * request for one of our addresses creates/updates the sender's entry
 * (STALE, neigh_event_ns) and is answered; a reply (or request) from a
 * host we have an entry for updates it: REACHABLE for a unicast reply,
 * STALE otherwise. arp_accept = 0: unsolicited replies create nothing.
 * arp_ignore = 0, arp_announce = 0 (the defaults). */
#include <string.h>

#include "inet_int.h"

void vns__arp_send(struct vns_ctx *ctx, struct vns_inet *inet, int op, struct vns_net_device *dev,
                   uint32_t dest_ip, uint32_t src_ip, const uint8_t *dest_hw,
                   const uint8_t *target_hw)
{
    struct vns_skb *skb;
    uint8_t *p;

    vns_fn_enter(ctx, VNS_FN_arp_send_dst);
    skb = vns_alloc_skb(inet->k, VNS_NET_SKB_PAD + VNS_ETH_HLEN + ARP_HLEN);
    if (!skb) {
        vns_fn_exit(ctx);
        return;
    }
    vns_skb_reserve(skb, VNS_NET_SKB_PAD);
    p = vns_skb_put(skb, VNS_ETH_HLEN + ARP_HLEN);
    memcpy(p, dest_hw ? dest_hw : dev->broadcast, VNS_ETH_ALEN);
    memcpy(p + 6, dev->dev_addr, VNS_ETH_ALEN);
    vns_put_be16(p + 12, VNS_ETH_P_ARP);
    p += VNS_ETH_HLEN;
    vns_put_be16(p, ARPHRD_ETHER);
    vns_put_be16(p + 2, VNS_ETH_P_IP);
    p[4] = VNS_ETH_ALEN;
    p[5] = 4;
    vns_put_be16(p + 6, (uint16_t)op);
    memcpy(p + 8, dev->dev_addr, VNS_ETH_ALEN); /* sha */
    vns_put_be32(p + 14, src_ip);               /* spa */
    if (target_hw)
        memcpy(p + 18, target_hw, VNS_ETH_ALEN); /* tha */
    else
        memset(p + 18, 0, VNS_ETH_ALEN);
    vns_put_be32(p + 24, dest_ip); /* tpa */
    vns_skb_reset_mac_header(skb);
    skb->network_header = (uint16_t)(skb->mac_header + VNS_ETH_HLEN);
    skb->dev = dev;
    skb->protocol = VNS_ETH_P_ARP;
    if (op == ARPOP_REQUEST)
        inet->stats.arp_requests_sent++;
    else
        inet->stats.arp_replies_sent++;
    vns_dev_queue_xmit(ctx, skb);
    vns_fn_exit(ctx);
}

static int arp_process(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb,
                       struct vns_net_device *dev)
{
    const uint8_t *arp = skb->data;
    uint16_t op = vns_get_be16(arp + 6);
    const uint8_t *sha = arp + 8, *tha = arp + 18;
    uint32_t sip = vns_get_be32(arp + 14), tip = vns_get_be32(arp + 24);
    struct inet_ifaddr *ifa = vns__inet_ifa_for_dev(inet, dev);
    struct vns_neighbour *n;
    bool for_us;

    (void)tha;
    vns_fn_enter(ctx, VNS_FN_arp_process);
    /* Special case of arp_process: ignore multicast senders, loopback,
     * our own frames echoed back. */
    if (vns_is_multicast_ether_addr(sha) || (sip >> 24) == 127 || (tip >> 28) == 0xe ||
        vns_ether_addr_equal(sha, dev->dev_addr)) {
        inet->stats.arp_rcv_errors++;
        goto out;
    }
    for_us = vns_inet_addr_is_local(inet, tip) && (tip >> 24) != 127;
    if (op == ARPOP_REQUEST)
        inet->stats.arp_requests_rcvd++;
    else
        inet->stats.arp_replies_rcvd++;
    if (sip == 0) {
        /* RFC 2131 duplicate address detection probe: reply if it is ours */
        if (op == ARPOP_REQUEST && for_us)
            vns__arp_send(ctx, inet, ARPOP_REPLY, dev, sip, tip, sha, sha);
        goto out;
    }
    if (op == ARPOP_REQUEST && for_us) {
        /* neigh_event_ns: create or update the sender as STALE */
        n = vns__neigh_lookup(inet, dev, sip);
        if (!n)
            n = vns__neigh_create(inet, dev, sip);
        if (n)
            vns__neigh_update(ctx, n, sha, VNS_NUD_STALE);
        vns__arp_send(ctx, inet, ARPOP_REPLY, dev, sip, tip, sha, sha);
        goto out;
    }
    (void)ifa;
    n = vns__neigh_lookup(inet, dev, sip);
    if (n) {
        unsigned state = VNS_NUD_REACHABLE;

        if (op != ARPOP_REPLY || skb->pkt_type != VNS_PACKET_HOST)
            state = VNS_NUD_STALE;
        vns__neigh_update(ctx, n, sha, state);
    }
out:
    vns_consume_skb(skb);
    vns_fn_exit(ctx);
    return VNS_NET_RX_SUCCESS;
}

int vns_arp_rcv(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev, void *arg)
{
    struct vns_inet *inet = arg;
    const uint8_t *arp;
    int rc;

    vns_fn_enter(ctx, VNS_FN_arp_rcv);
    if (skb->pkt_type == VNS_PACKET_OTHERHOST || !vns_pskb_may_pull(skb, ARP_HLEN)) {
        inet->stats.arp_rcv_errors++;
        vns_kfree_skb_reason(skb, skb->pkt_type == VNS_PACKET_OTHERHOST
                                      ? VNS_SKB_DROP_REASON_OTHERHOST
                                      : VNS_SKB_DROP_REASON_PKT_TOO_SMALL);
        vns_fn_exit(ctx);
        return VNS_NET_RX_DROP;
    }
    arp = skb->data;
    /* arp_rcv: ar_hln == dev->addr_len, ar_pln == 4; arp_process: Ethernet
     * hardware with IPv4 protocol, request or reply only. */
    if (vns_get_be16(arp) != ARPHRD_ETHER || vns_get_be16(arp + 2) != VNS_ETH_P_IP ||
        arp[4] != VNS_ETH_ALEN || arp[5] != 4 ||
        (vns_get_be16(arp + 6) != ARPOP_REQUEST && vns_get_be16(arp + 6) != ARPOP_REPLY)) {
        inet->stats.arp_rcv_errors++;
        /* 6.x arp_rcv/arp_process name no reason for these */
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
        vns_fn_exit(ctx);
        return VNS_NET_RX_DROP;
    }
    rc = arp_process(ctx, inet, skb, dev);
    vns_fn_exit(ctx);
    return rc;
}
