/* lib/net/ip_input.c -- IPv4 receive. LINUX: net/ipv4/ip_input.c (ip_rcv,
 * ip_rcv_core, ip_rcv_finish, ip_local_deliver, ip_local_deliver_finish,
 * ip_protocol_deliver_rcu), route.c (ip_route_input_noref).
 *
 * ip_rcv_core validates what the wire brings, in the kernel's order:
 * OTHERHOST frames dropped; at least 20 bytes; version 4 and ihl >= 5;
 * the full header present; header checksum (ip_fast_csum; a bad one is
 * InCsumErrors + InHdrErrors); tot_len within the skb (else InTruncated)
 * and >= the header; the skb is trimmed to tot_len. Every failure is a
 * counted drop, never a crash.
 *
 * Routing input: our addresses and broadcasts are delivered locally;
 * anything else is dropped (net.ipv4.ip_forward = 0, the default:
 * InAddrErrors, as ip_error counts EHOSTUNREACH). Fragments are not
 * reassembled (the model never fragments): they are dropped and counted
 * (InDiscards). Unknown protocols: InUnknownProtos + ICMP protocol
 * unreachable. */
#include <string.h>

#include "inet_int.h"

static int ip_local_deliver(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb)
{
    const uint8_t *iph = vns_skb_network_header(skb);
    unsigned ihl = (iph[0] & 0xf) * 4u;
    int rc;

    vns_fn_enter(ctx, VNS_FN_ip_local_deliver);
    if (vns_get_be16(iph + 6) & (VNS_IP_MF | VNS_IP_OFFSET)) {
        /* ip_defrag: not modelled */
        inet->stats.ip_in_discards++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_IP_FRAG_UNMODELLED);
        vns_fn_exit(ctx);
        return VNS_NET_RX_DROP;
    }
    vns_fn_enter(ctx, VNS_FN_ip_local_deliver_finish);
    vns_skb_pull(skb, ihl);
    vns_skb_reset_transport_header(skb);
    vns_fn_enter(ctx, VNS_FN_ip_protocol_deliver_rcu);
    switch (iph[9]) {
    case VNS_IPPROTO_TCP:
        inet->stats.ip_in_delivers++;
        rc = vns__tcp_v4_rcv(ctx, inet, skb);
        break;
    case VNS_IPPROTO_UDP:
        inet->stats.ip_in_delivers++;
        rc = vns__udp_rcv(ctx, inet, skb);
        break;
    case VNS_IPPROTO_ICMP:
        inet->stats.ip_in_delivers++;
        rc = vns__icmp_rcv(ctx, inet, skb);
        break;
    default:
        inet->stats.ip_in_unknown_protos++;
        vns__icmp_send(ctx, inet, skb, 3, 2, 0); /* ICMP_DEST_UNREACH, ICMP_PROT_UNREACH */
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_UNHANDLED_PROTO);
        rc = VNS_NET_RX_DROP;
        break;
    }
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return rc;
}

static int ip_rcv_finish(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb,
                         struct vns_net_device *dev)
{
    const uint8_t *iph = vns_skb_network_header(skb);
    uint32_t daddr = vns_get_be32(iph + 16);
    struct inet_ifaddr *ifa;
    bool local;
    int rc;

    vns_fn_enter(ctx, VNS_FN_ip_rcv_finish);
    /* ip_route_input_noref: local, broadcast, or (forwarding off) error */
    ifa = vns__inet_ifa_for_dev(inet, dev);
    local = vns_inet_addr_is_local(inet, daddr) || daddr == 0xffffffffu ||
            (ifa && ifa->plen < 31 && (daddr | ifa->mask) == 0xffffffffu &&
             (daddr & ifa->mask) == (ifa->addr & ifa->mask));
    if (!local) {
        inet->stats.ip_in_addr_errors++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_IP_INADDRERRORS); /* ip_error */
        vns_fn_exit(ctx);
        return VNS_NET_RX_DROP;
    }
    rc = ip_local_deliver(ctx, inet, skb);
    vns_fn_exit(ctx);
    return rc;
}

int vns_ip_rcv(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev, void *arg)
{
    struct vns_inet *inet = arg;
    const uint8_t *iph;
    unsigned ihl, tot_len;
    enum vns_skb_drop_reason reason;
    int rc;

    vns_fn_enter(ctx, VNS_FN_ip_rcv);
    if (skb->pkt_type == VNS_PACKET_OTHERHOST) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_OTHERHOST);
        vns_fn_exit(ctx);
        return VNS_NET_RX_DROP;
    }
    inet->stats.ip_in_receives++;
    /* ip_rcv_core */
    vns_fn_enter(ctx, VNS_FN_ip_rcv_core);
    reason = VNS_SKB_DROP_REASON_PKT_TOO_SMALL;
    if (!vns_pskb_may_pull(skb, sizeof(struct vns_iphdr)))
        goto inhdr_error;
    iph = skb->data;
    ihl = (iph[0] & 0xf) * 4u;
    reason = VNS_SKB_DROP_REASON_IP_INHDR;
    if ((iph[0] >> 4) != 4 || ihl < 20)
        goto inhdr_error;
    if (!vns_pskb_may_pull(skb, ihl))
        goto inhdr_error;
    if (vns_ip_fast_csum(iph, iph[0] & 0xf) != 0) {
        inet->stats.ip_in_csum_errors++;
        reason = VNS_SKB_DROP_REASON_IP_CSUM;
        goto inhdr_error;
    }
    tot_len = vns_get_be16(iph + 2);
    if (skb->len < tot_len) {
        inet->stats.ip_in_truncated++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_PKT_TOO_SMALL);
        goto drop_out;
    }
    if (tot_len < ihl)
        goto inhdr_error;
    vns_skb_trim(skb, tot_len);
    vns_skb_reset_network_header(skb);
    skb->transport_header = (uint16_t)(skb->network_header + ihl);
    /* Must drop socket now because of tproxy (a frame forwarded from a
     * local sender, dev_forward_skb, still carries its socket). */
    vns_skb_orphan(skb);
    vns_fn_exit(ctx);
    rc = ip_rcv_finish(ctx, inet, skb, dev);
    vns_fn_exit(ctx);
    return rc;

inhdr_error:
    inet->stats.ip_in_hdr_errors++;
    vns_kfree_skb_reason(skb, reason);
drop_out:
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return VNS_NET_RX_DROP;
}
