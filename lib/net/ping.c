/* lib/net/ping.c -- ICMP echo ("ping") sockets (include/vnetsim/ping.h).
 * LINUX: net/ipv4/ping.c (ping_v4_sendmsg, ping_rcv, ping_queue_rcv_skb,
 * ping_recvmsg), net/ipv4/icmp.c (icmp_rcv hands echo replies to
 * ping_rcv).
 *
 * Simplified: no ICMP errors are reported to the socket (IP_RECVERR),
 * and the receive buffer check is sock_queue_rcv_skb's: drop when
 * sk_rmem_alloc >= sk_rcvbuf. */
#include <string.h>

#include "inet_int.h"
#include "vnetsim/ping.h"

#define ICMP_ECHOREPLY 0
#define ICMP_ECHO      8
#define ICMP_HLEN      8

int vns_ping_socket_create(struct vns_inet *inet, unsigned cpu, struct vns_sock **out)
{
    struct vns_sock *sk;

    if (!inet)
        return -VNS_EINVAL;
    sk = vns__sock_alloc(inet, VNS_SOCK_DGRAM, cpu);
    if (!sk)
        return -VNS_ENOMEM;
    sk->protocol = VNS_IPPROTO_ICMP;
    sk->sport = vns__inet_ephemeral_port(inet, VNS_IPPROTO_ICMP, 0); /* ping_get_port: the ident */
    sk->bound = true;
    *out = sk;
    return 0;
}

static long ping_v4_sendmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, uint16_t seq, uint32_t daddr)
{
    struct vns_inet *inet = sk->inet;
    struct vns_rtable rt;
    struct vns_skb *skb;
    uint8_t *p;
    int rc;

    if (vns_ip_route_output(inet, daddr, &rt) < 0 || rt.type == VNS_RTN_LOCAL) {
        inet->stats.ip_out_no_routes++;
        return -VNS_SOCK_ENETUNREACH;
    }
    if (len + ICMP_HLEN + sizeof(struct vns_iphdr) > rt.mtu) {
        inet->stats.ip_frag_fails++;
        return -VNS_EMSGSIZE;
    }
    skb = vns_alloc_skb(inet->k, VNS_MAX_TCP_HEADER + ICMP_HLEN + (uint32_t)len);
    if (!skb)
        return -VNS_ENOBUFS;
    vns_skb_reserve(skb, VNS_MAX_TCP_HEADER);
    p = vns_skb_put(skb, ICMP_HLEN + (uint32_t)len);
    memset(p, 0, ICMP_HLEN);
    p[0] = ICMP_ECHO;
    vns_put_be16(p + 4, sk->sport);
    vns_put_be16(p + 6, seq);
    for (size_t i = 0; i < len; i++)
        p[ICMP_HLEN + i] = (uint8_t)i;
    vns_charge_bytes(ctx, VNS_FN_ping_v4_sendmsg, len);
    vns_put_be16(p + 2, vns_csum_fold(vns_csum_partial(p, skb->len, 0)));
    vns_skb_reset_transport_header(skb);
    inet->stats.icmp_out_msgs++;
    if (sk->fbook)
        vns__flow_sent_ping(skb, sk->fbook, (uint32_t)len, sk->saddr ? sk->saddr : rt.prefsrc,
                            sk->sport, daddr);
    rc = vns_ip_send_raw(ctx, inet, skb, sk->saddr, daddr, VNS_IPPROTO_ICMP, false);
    if (rc < 0)
        return rc == -VNS_EHOSTUNREACH ? -VNS_SOCK_ENETUNREACH : -VNS_ENOBUFS;
    return (long)len;   /* a qdisc drop (NET_XMIT_DROP) is not reported */
}

long vns_sys_ping_sendto(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, uint16_t seq, uint32_t daddr)
{
    long rc;

    if (sk->protocol != VNS_IPPROTO_ICMP || len > 0xffff - ICMP_HLEN - sizeof(struct vns_iphdr))
        return sk->protocol != VNS_IPPROTO_ICMP ? -VNS_EINVAL : -VNS_EMSGSIZE;
    vns_fn_enter(ctx, VNS_FN___x64_sys_sendto);
    vns_fn_enter(ctx, VNS_FN___sys_sendto);
    vns_fn_enter(ctx, VNS_FN_sock_sendmsg);
    vns_fn_enter(ctx, VNS_FN_inet_sendmsg);
    vns_fn_enter(ctx, VNS_FN_ping_v4_sendmsg);
    rc = ping_v4_sendmsg(ctx, sk, len, seq, daddr);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    if (rc > 0)
        sk->st.bytes_sent += (uint64_t)rc;
    return rc;
}

/* ping_rcv: an echo reply for a ping socket (by identifier), else freed. */
int vns__ping_rcv(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb)
{
    uint16_t ident = vns_get_be16(skb->data + 4);
    struct vns_sock *sk;
    uint32_t size;
    int rc = VNS_NET_RX_DROP;

    vns_fn_enter(ctx, VNS_FN_ping_rcv);
    for (sk = inet->socks; sk; sk = sk->next)
        if (sk->protocol == VNS_IPPROTO_ICMP && sk->sport == ident && !sk->freed)
            break;
    size = skb->truesize;
    if (!sk) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NO_SOCKET);
    } else if (sk->rmem_alloc >= sk->rcvbuf) {
        sk->st.drops++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_SOCKET_RCVBUFF);
    } else {
        const uint8_t *iph = vns_skb_network_header(skb);

        sk->rmem_alloc += size;
        INET_RX_CB(skb)->truesize = size;
        INET_RX_CB(skb)->saddr = vns_get_be32(iph + 12);
        if (skb->fbook)
            vns__flow_end(skb, VNS_FLOW_DELIVERED, -1);
        vns_skb_queue_tail(&sk->receive_queue, skb);
        vns__sk_wake(ctx, sk);
        rc = VNS_NET_RX_SUCCESS;
    }
    vns_fn_exit(ctx);
    return rc;
}

long vns_sys_ping_recvfrom(struct vns_ctx *ctx, struct vns_sock *sk, uint16_t *seq, uint32_t *from)
{
    struct vns_inet *inet = sk->inet;
    struct vns_skb *skb;
    uint8_t hdr[ICMP_HLEN], buf[256];
    uint32_t len;
    long rc;

    vns_fn_enter(ctx, VNS_FN___x64_sys_recvfrom);
    vns_fn_enter(ctx, VNS_FN___sys_recvfrom);
    vns_fn_enter(ctx, VNS_FN_sock_recvmsg);
    vns_fn_enter(ctx, VNS_FN_inet_recvmsg);
    vns_fn_enter(ctx, VNS_FN_ping_recvmsg);
    skb = vns_skb_dequeue(&sk->receive_queue);
    if (!skb) {
        rc = vns__sk_wait(ctx, sk);
        goto out;
    }
    sk->rmem_alloc -= INET_RX_CB(skb)->truesize;
    len = skb->len - ICMP_HLEN;
    vns_charge_bytes(ctx, VNS_FN_ping_recvmsg, len);
    vns_skb_copy_bits(skb, 0, hdr, ICMP_HLEN);
    if (seq)
        *seq = vns_get_be16(hdr + 6);
    if (from)
        *from = INET_RX_CB(skb)->saddr;
    /* ping(8) checks the pattern it sent */
    for (uint32_t done = 0, bad = 0; done < len && !bad;) {
        uint32_t n = VNS_MIN(len - done, (uint32_t)sizeof(buf));

        vns_skb_copy_bits(skb, ICMP_HLEN + done, buf, n);
        for (uint32_t i = 0; i < n; i++)
            bad |= buf[i] != (uint8_t)(done + i);
        done += n;
        if (bad)
            inet->stats.payload_mismatches++;
        else if (done == len)
            inet->stats.payload_bytes_verified += len;
    }
    sk->st.datagrams_received++;
    sk->st.bytes_received += len;
    vns_consume_skb(skb);
    rc = (long)len;
out:
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return rc;
}
