/* lib/net/icmp.c -- ICMP: errors the stack sends (port and protocol
 * unreachable) and echo replies. LINUX: net/ipv4/icmp.c (icmp_send,
 * icmp_rcv, icmp_echo).
 *
 * icmp_send never answers an ICMP error, a broadcast, or a fragment other
 * than the first (the kernel's rules); the message carries the offending
 * IP header and the first 8 bytes after it. Rate limiting
 * (icmp_ratelimit, 1 per second per host for most types) is not
 * modelled. Received ICMP is checksummed and counted; echo requests are
 * answered (a paged request is linearized first); echo replies go to
 * ping sockets (ping.c); errors are counted only (no PMTU or socket
 * error update). */
#include <string.h>

#include "inet_int.h"

#define ICMP_ECHOREPLY    0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO         8

void vns__icmp_send(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb_in,
                    uint8_t type, uint8_t code, uint32_t info)
{
    const uint8_t *iph = vns_skb_network_header(skb_in);
    unsigned ihl = (iph[0] & 0xf) * 4u;
    uint32_t saddr = vns_get_be32(iph + 12), daddr = vns_get_be32(iph + 16);
    int l4off = (int)skb_in->network_header + (int)ihl - (int)(skb_in->data - skb_in->head);
    uint32_t l4len;
    struct vns_skb *skb;
    uint8_t *p;

    if (l4off < 0 || (uint32_t)l4off > skb_in->len)
        return;
    l4len = VNS_MIN(8u, skb_in->len - (uint32_t)l4off);
    if (vns_get_be16(iph + 6) & VNS_IP_OFFSET)
        return;
    if (saddr == 0 || saddr == 0xffffffffu || (daddr >> 28) == 0xe || daddr == 0xffffffffu)
        return;
    if (iph[9] == VNS_IPPROTO_ICMP) {
        uint8_t t;

        if (vns_skb_copy_bits(skb_in, (uint32_t)l4off, &t, 1) < 0 || t != ICMP_ECHO)
            return; /* never answer an ICMP error */
    }
    vns_fn_enter(ctx, VNS_FN_icmp_send);
    skb = vns_alloc_skb(inet->k, VNS_MAX_TCP_HEADER + 8 + ihl + 8);
    if (!skb) {
        vns_fn_exit(ctx);
        return;
    }
    vns_skb_reserve(skb, VNS_MAX_TCP_HEADER);
    p = vns_skb_put(skb, 8 + ihl + l4len);
    memset(p, 0, 8);
    p[0] = type;
    p[1] = code;
    vns_put_be32(p + 4, info);
    memcpy(p + 8, iph, ihl);
    vns_skb_copy_bits(skb_in, (uint32_t)l4off, p + 8 + ihl, l4len);
    vns_put_be16(p + 2, vns_csum_fold(vns_csum_partial(p, skb->len, 0)));
    vns_skb_reset_transport_header(skb);
    inet->stats.icmp_out_msgs++;
    if (type == ICMP_DEST_UNREACH)
        inet->stats.icmp_out_dest_unreachs++;
    vns_ip_send_raw(ctx, inet, skb, daddr, saddr, VNS_IPPROTO_ICMP, false);
    vns_fn_exit(ctx);
}

int vns__icmp_rcv(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb)
{
    uint8_t type;

    if (!vns_pskb_may_pull(skb, 8)) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_PKT_TOO_SMALL);
        return VNS_NET_RX_DROP;
    }
    if (skb->ip_summed != VNS_CHECKSUM_UNNECESSARY && skb->ip_summed != VNS_CHECKSUM_PARTIAL &&
        vns_csum_fold(vns_skb_checksum(skb, 0, skb->len, 0)) != 0) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_ICMP_CSUM); /* icmp_rcv csum_error */
        return VNS_NET_RX_DROP;
    }
    inet->stats.icmp_in_msgs++;
    type = skb->data[0];
    if (type == ICMP_ECHOREPLY)
        return vns__ping_rcv(ctx, inet, skb);   /* ping.c */
    if (type == ICMP_ECHO && vns_skb_headlen(skb) != skb->len && vns_skb_linearize(skb) < 0) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOMEM);
        return VNS_NET_RX_DROP;
    }
    if (type == ICMP_ECHO) {
        const uint8_t *iph = vns_skb_network_header(skb);
        uint32_t saddr = vns_get_be32(iph + 12), daddr = vns_get_be32(iph + 16);
        struct vns_skb *r = vns_alloc_skb(inet->k, VNS_MAX_TCP_HEADER + vns_skb_headlen(skb));

        if (skb->fbook) /* the flow books: the request reached the L4 that answers it */
            vns__flow_end(skb, VNS_FLOW_DELIVERED, -1);
        if (r && vns_skb_headlen(skb) == skb->len) {
            uint8_t *p;

            vns_skb_reserve(r, VNS_MAX_TCP_HEADER);
            p = vns_skb_put_data(r, skb->data, skb->len);
            p[0] = ICMP_ECHOREPLY;
            vns_put_be16(p + 2, 0);
            vns_put_be16(p + 2, vns_csum_fold(vns_csum_partial(p, r->len, 0)));
            vns_skb_reset_transport_header(r);
            inet->stats.icmp_out_msgs++;
            /* the flow books: the reply is a packet of the other direction */
            vns__flow_sent_by_id(r, vns__flow_icmp_id(daddr, vns_get_be16(p + 4), saddr, 0),
                                 r->len - 8);
            vns_ip_send_raw(ctx, inet, r, vns_inet_addr_is_local(inet, daddr) ? daddr : 0, saddr,
                            VNS_IPPROTO_ICMP, false);
        } else if (r) {
            vns_consume_skb(r); /* never filled: no packet is lost */
        }
    }
    vns_consume_skb(skb);
    return VNS_NET_RX_SUCCESS;
}
