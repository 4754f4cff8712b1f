/* lib/net/ip_output.c -- IPv4 output. LINUX: net/ipv4/ip_output.c
 * (ip_queue_xmit, __ip_queue_xmit, ip_local_out/__ip_local_out,
 * ip_output, ip_finish_output, __ip_finish_output, ip_finish_output_gso,
 * ip_fragment, ip_finish_output2), include/net/ip.h (ip_select_ttl,
 * ip_dont_fragment, ip_select_ident_segs).
 *
 * The path is the kernel's, frame for frame: ip_queue_xmit ->
 * __ip_queue_xmit -> ip_local_out -> ip_output -> ip_finish_output ->
 * __ip_finish_output -> ip_finish_output2 -> (rcu_read_lock_bh)
 * neigh_output -> dev_queue_xmit (rcu_read_unlock_bh: the outermost
 * local_bh_enable runs pending softirqs under ip_finish_output2, as the
 * seed's "tap recv path" shows). __ip_local_out and dst_output are inline
 * steps without frames (as in the seed stacks); netfilter hooks are
 * absent (no rules).
 *
 * Fragmentation is NOT modelled: a packet larger than the route MTU is
 * refused. With DF set (every TCP packet, PMTU discovery on by default)
 * this is what Linux does too: ip_fragment sends ICMP FRAG_NEEDED to the
 * local sender and fails with -EMSGSIZE (counted: ip_frag_fails,
 * ip_frag_needed). Without DF Linux would fragment; the model drops and
 * counts ip_frag_fails with reason PKT_TOO_BIG. A GSO packet whose
 * segments fit the MTU goes on (ip_finish_output_gso); one whose segments
 * do not is refused the same way.
 *
 * Simplified: no dst cache per socket (the route is looked up per packet,
 * without charging, standing in for __sk_dst_check), no IP options. */
#include <string.h>

#include "inet_int.h"

/* Push the IPv4 header. The id follows ip_select_ident_segs (5.4): a DF
 * packet of a connected socket takes the socket's inet_id (advanced by
 * the GSO segment count), a DF packet without one gets id 0, others take
 * the per-kernel generator (__ip_select_ident's hash buckets reduced to
 * one counter). */
void vns__ip_build_header(struct vns_inet *inet, struct vns_sock *sk, struct vns_skb *skb,
                          uint32_t saddr, uint32_t daddr, uint8_t proto, uint8_t tos, bool df,
                          unsigned segs)
{
    uint8_t *iph = vns_skb_push(skb, sizeof(struct vns_iphdr));
    uint16_t id;

    if (!segs)
        segs = 1;
    if (df) {
        if (sk && sk->daddr) {
            id = sk->inet_id;
            sk->inet_id = (uint16_t)(sk->inet_id + segs);
        } else {
            id = 0;
        }
    } else {
        id = inet->ip_id;
        inet->ip_id = (uint16_t)(inet->ip_id + segs);
    }
    vns_skb_reset_network_header(skb);
    iph[0] = 0x45;
    iph[1] = tos;
    vns_put_be16(iph + 2, 0); /* __ip_local_out sets tot_len */
    vns_put_be16(iph + 4, id);
    vns_put_be16(iph + 6, df ? VNS_IP_DF : 0);
    iph[8] = (uint8_t)inet->cfg.ip_default_ttl;
    iph[9] = proto;
    vns_put_be16(iph + 10, 0);
    vns_put_be32(iph + 12, saddr);
    vns_put_be32(iph + 16, daddr);
    skb->protocol = VNS_ETH_P_IP;
}

/* ip_finish_output2: headroom, the neighbour, neigh_output under
 * rcu_read_lock_bh. */
static int ip_finish_output2(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb,
                             const struct vns_rtable *rt)
{
    struct vns_neighbour *n;
    int rc;

    vns_fn_enter(ctx, VNS_FN_ip_finish_output2);
    if (vns_skb_headroom(skb) < VNS_ETH_HLEN) {
        /* skb_realloc_headroom failing is the only way here: our skbs
         * reserve MAX_TCP_HEADER */
        inet->stats.ip_out_discards++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOMEM);
        vns_fn_exit(ctx);
        return -VNS_ENOMEM;
    }
    if (ctx)
        vns_local_bh_disable(ctx); /* rcu_read_lock_bh */
    n = vns__neigh_lookup(inet, rt->dev, rt->gw);
    if (!n)
        n = vns__neigh_create(inet, rt->dev, rt->gw);
    if (!n) {
        if (ctx)
            vns_local_bh_enable(ctx);
        /* "No header cache and no neighbour!" */
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOMEM);
        vns_fn_exit(ctx);
        return -VNS_EINVAL;
    }
    rc = vns__neigh_output(ctx, n, skb);
    if (ctx)
        vns_local_bh_enable(ctx); /* rcu_read_unlock_bh: softirqs may run here */
    vns_fn_exit(ctx);
    return rc;
}

/* ip_fragment: refused (see the file comment). Consumes @skb. */
static int ip_fragment(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb,
                       unsigned mtu)
{
    bool df = vns_get_be16(vns_skb_network_header(skb) + 6) & VNS_IP_DF;

    vns_fn_enter(ctx, VNS_FN_ip_fragment);
    inet->stats.ip_frag_fails++;
    if (df) {
        /* icmp_send(ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtu) to ourselves;
         * its delivery (icmp_rcv -> tcp_v4_err -> tcp_v4_mtu_reduced) is
         * done at once here rather than through the loopback device */
        inet->stats.ip_frag_needed++;
        if (skb->sk && vns_skb_network_header(skb)[9] == VNS_IPPROTO_TCP)
            vns__tcp_v4_mtu_reduced(ctx, skb->sk, mtu);
    }
    vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_PKT_TOO_BIG);
    vns_fn_exit(ctx);
    return -VNS_EMSGSIZE;
}

static int ip_finish_output(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb,
                            const struct vns_rtable *rt)
{
    unsigned mtu = rt->mtu;
    int rc;

    vns_fn_enter(ctx, VNS_FN_ip_finish_output);
    vns_fn_enter(ctx, VNS_FN___ip_finish_output);
    if (vns_skb_is_gso(skb)) {
        /* ip_finish_output_gso: skb_gso_validate_network_len */
        unsigned seglen = (unsigned)(skb->transport_header - skb->network_header) + skb->gso_size;
        const uint8_t *th = vns_skb_transport_header(skb);

        if (skb->gso_type & VNS_SKB_GSO_TCPV4)
            seglen += (unsigned)(th[12] >> 4) * 4u;
        else
            seglen += 8;
        if (seglen <= mtu)
            rc = ip_finish_output2(ctx, inet, skb, rt);
        else
            rc = ip_fragment(ctx, inet, skb, mtu);
    } else if (skb->len > mtu) {
        rc = ip_fragment(ctx, inet, skb, mtu);
    } else {
        rc = ip_finish_output2(ctx, inet, skb, rt);
    }
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return rc;
}

/* ip_local_out (+ __ip_local_out, dst_output -> ip_output). Consumes
 * @skb (data at the IPv4 header). */
int vns__ip_local_out(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb,
                      const struct vns_rtable *rt)
{
    uint8_t *iph = skb->data;
    int rc;

    vns_fn_enter(ctx, VNS_FN_ip_local_out);
    /* __ip_local_out: tot_len and ip_send_check */
    vns_put_be16(iph + 2, (uint16_t)(skb->len > 0xffff ? 0 : skb->len));
    vns_put_be16(iph + 10, 0);
    vns_put_be16(iph + 10, vns_ip_fast_csum(iph, iph[0] & 0xf));
    inet->stats.ip_out_requests++;
    /* ip_output */
    vns_fn_enter(ctx, VNS_FN_ip_output);
    skb->dev = rt->dev;
    skb->protocol = VNS_ETH_P_IP;
    if (!vns_netif_running(rt->dev)) {
        inet->stats.ip_out_discards++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_DEV_READY);
        rc = -VNS_ENODEV;
    } else {
        rc = ip_finish_output(ctx, inet, skb, rt);
    }
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return rc;
}

/* net_xmit_eval: congestion notification is success. */
static int net_xmit_eval(int rc)
{
    return rc == VNS_NET_XMIT_CN ? 0 : rc;
}

/* ip_queue_xmit -> __ip_queue_xmit. @skb's data is at the transport
 * header. Consumes @skb. */
int vns__ip_queue_xmit(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb)
{
    struct vns_inet *inet = sk->inet;
    struct vns_rtable rt;
    int rc;

    vns_fn_enter(ctx, VNS_FN_ip_queue_xmit);
    vns_fn_enter(ctx, VNS_FN___ip_queue_xmit);
    if (vns_ip_route_output(inet, sk->daddr, &rt) < 0 || rt.type == VNS_RTN_LOCAL) {
        /* no route (or our own address: no loopback device is modelled) */
        inet->stats.ip_out_no_routes++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_IP_OUTNOROUTES);
        vns_fn_exit(ctx);
        vns_fn_exit(ctx);
        return -VNS_EHOSTUNREACH;
    }
    vns__ip_build_header(inet, sk, skb, sk->saddr, sk->daddr, sk->protocol, sk->tos,
                         !inet->cfg.ip_no_pmtu_disc, skb->gso_segs);
    skb->priority = sk->priority;
    rc = vns__ip_local_out(ctx, inet, skb, &rt);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return net_xmit_eval(rc);
}

int vns_ip_send_raw(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb, uint32_t saddr,
                    uint32_t daddr, uint8_t protocol, bool df)
{
    struct vns_rtable rt;

    if (vns_ip_route_output(inet, daddr, &rt) < 0 || rt.type == VNS_RTN_LOCAL) {
        inet->stats.ip_out_no_routes++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_IP_OUTNOROUTES);
        return -VNS_EHOSTUNREACH;
    }
    if (vns_skb_headroom(skb) < sizeof(struct vns_iphdr) + VNS_ETH_HLEN) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOMEM);
        return -VNS_ENOMEM;
    }
    vns__ip_build_header(inet, NULL, skb, saddr ? saddr : rt.prefsrc, daddr, protocol, 0, df,
                         skb->gso_segs);
    return net_xmit_eval(vns__ip_local_out(ctx, inet, skb, &rt));
}
