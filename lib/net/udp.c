/* lib/net/udp.c -- UDP over IPv4. LINUX: net/ipv4/udp.c (udp_sendmsg,
 * udp_send_skb, __udp4_lib_rcv, udp_queue_rcv_skb,
 * __udp_enqueue_schedule_skb, udp_recvmsg), net/ipv4/ip_output.c
 * (ip_make_skb, ip_send_skb).
 *
 * Send: one skb per datagram (ip_make_skb), header with a CHECKSUM_PARTIAL
 * checksum (the device or validate_xmit_skb completes it), ip_send_skb ->
 * ip_local_out. A qdisc drop is -ENOBUFS from the device layer, which
 * udp_send_skb turns into success and UDP_MIB_SNDBUFERRORS (IP_RECVERR
 * off). A datagram larger than the route MTU would be fragmented by Linux
 * (ignore_df for the default IP_PMTUDISC_WANT): the model does not
 * fragment and returns -EMSGSIZE, counted as ip_frag_fails.
 * Payload: synthetic, flow vns_inet_flow_id(4-tuple), stream offset 0 at
 * the start of each datagram; the receiver verifies it. In 5.4 the whole
 * datagram is linear (__ip_append_data pages the payload only for UDP
 * GSO, which is not modelled), so the synthetic range is syn_linear: one
 * linear sg entry at virtio-net, nothing for validate_xmit_skb to
 * linearize on a device without SG.
 *
 * Receive: length and checksum checks (UDP_MIB_INERRORS, CSUMERRORS),
 * socket lookup (connected 4-tuple first, then bound address, then
 * wildcard), no socket -> NOPORTS + ICMP port unreachable; the receive
 * buffer check of __udp_enqueue_schedule_skb: drop when sk_rmem_alloc >
 * sk_rcvbuf before, or > rcvbuf + truesize after charging
 * (UDP_MIB_RCVBUFERRORS). UDP_MIB_INDATAGRAMS counts at recvmsg, as in
 * Linux.
 *
 * Send buffer: each datagram's skb is charged to sk_wmem_alloc with its
 * truesize (skb_set_owner_w) and released by sock_wfree wherever the skb
 * is finally freed (the guest driver's free_old_xmit_skbs, tun, a qdisc
 * drop, ...); a send that finds sk_wmem_alloc >= sk_sndbuf sleeps until
 * sock_def_write_space (-EAGAIN with MSG_DONTWAIT), so a sender faster
 * than its device is throttled by its send buffer (212992 bytes,
 * net.core.wmem_default) before it overflows a qdisc of 1000 packets.
 * LINUX: truesize is the model's (linear buffer class + payload), a few
 * hundred bytes off the kernel's kmalloc-rounded one.
 *
 * Simplified: no corking, no UDP GSO/GRO. */
#include <string.h>

#include "inet_int.h"

#define UDP_HLEN 8

/* sock_wfree (net/core/sock.c) with sock_def_write_space as the UDP
 * socket's sk_write_space: give back the skb's truesize, keeping one unit
 * until the writer has been told, wake a writer sleeping in
 * sock_wait_for_wmem once half the send buffer is free ("significant
 * progress"), then drop the unit (the socket goes with the last one). */
static void udp_sock_wfree(struct vns_skb *skb)
{
    struct vns_sock *sk = skb->sk;
    struct vns_ctx *ctx = vns__skb_free_ctx(skb);
    uint32_t len = skb->truesize;

    vns_fn_enter(ctx, VNS_FN_sock_wfree);
    sk->wmem_alloc -= VNS_MIN(len - 1, sk->wmem_alloc - 1);
    vns_fn_enter(ctx, VNS_FN_sock_def_write_space);
    if ((sk->wmem_alloc << 1) <= sk->sndbuf && sk->nospace && sk->waiter) {
        struct vns_ctx *w = sk->waiter;

        sk->nospace = false;
        sk->waiter = NULL;
        vns_ctx_wake(ctx, w); /* wake_up_interruptible_sync_poll(EPOLLOUT) */
    }
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns__sk_free(sk); /* the unit kept above: __sk_free with the last one */
}

/* sock_alloc_send_pskb's wait (net/core/sock.c): room while
 * sk_wmem_alloc_get (the charge, without the socket's own unit) is below
 * sk_sndbuf. Else SOCK_NOSPACE and -EAGAIN: at once with MSG_DONTWAIT or
 * a non-blocking socket (counted by udp_sendmsg as SNDBUFERRORS, and by
 * __ip_append_data as OUTDISCARDS), else after registering the caller to
 * sleep in sock_wait_for_wmem (the model's syscall returns and is
 * reissued when sock_def_write_space wakes it, as for TCP's
 * sk_stream_wait_memory). */
static int sock_alloc_send_wait(struct vns_ctx *ctx, struct vns_sock *sk, int flags)
{
    int rc = 0;

    vns_fn_enter(ctx, VNS_FN_sock_alloc_send_pskb);
    if (sk->wmem_alloc - 1 >= sk->sndbuf) {
        sk->nospace = true;
        sk->st.sndbuf_waits++;
        if ((flags & VNS_MSG_DONTWAIT) || sk->nonblock || !ctx) {
            sk->inet->stats.udp_sndbuf_errors++;
            sk->inet->stats.ip_out_discards++;
            rc = -VNS_EAGAIN;
        } else {
            rc = vns__sk_wait(ctx, sk);
        }
    }
    vns_fn_exit(ctx);
    return rc;
}

long vns__udp_sendmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags,
                      const struct vns_sockaddr_in *to)
{
    struct vns_inet *inet = sk->inet;
    struct vns_rtable rt;
    uint32_t daddr, saddr;
    uint16_t dport;
    struct vns_skb *skb;
    uint8_t *uh;
    uint64_t flow;
    long rc;

    vns_fn_enter(ctx, VNS_FN_udp_sendmsg);
    if (len > 0xffff - UDP_HLEN - sizeof(struct vns_iphdr)) {
        rc = -VNS_EMSGSIZE;
        goto out;
    }
    if (to) {
        daddr = to->addr;
        dport = to->port;
        if (!dport) {
            rc = -VNS_EINVAL;
            goto out;
        }
    } else if (sk->connected) {
        daddr = sk->daddr;
        dport = sk->dport;
    } else {
        rc = -VNS_SOCK_ENOTCONN; /* EDESTADDRREQ */
        goto out;
    }
    if (vns_ip_route_output(inet, daddr, &rt) < 0 || rt.type == VNS_RTN_LOCAL) {
        inet->stats.ip_out_no_routes++;
        rc = -VNS_SOCK_ENETUNREACH;
        goto out;
    }
    saddr = sk->saddr ? sk->saddr : rt.prefsrc;
    if (!sk->sport) {
        sk->sport = vns__inet_ephemeral_port(inet, VNS_IPPROTO_UDP, sk->saddr);
        sk->bound = true;
    }
    if (len + UDP_HLEN + sizeof(struct vns_iphdr) > rt.mtu) {
        inet->stats.ip_frag_fails++;
        rc = -VNS_EMSGSIZE;
        goto out;
    }
    /* ip_make_skb / __ip_append_data */
    vns_fn_enter(ctx, VNS_FN_ip_make_skb);
    rc = sock_alloc_send_wait(ctx, sk, flags);
    if (rc < 0) {
        vns_fn_exit(ctx);
        goto out;
    }
    vns_charge_bytes(ctx, VNS_FN_ip_make_skb, len);
    skb = vns_alloc_skb(inet->k, VNS_MAX_TCP_HEADER + UDP_HLEN);
    if (!skb) {
        vns_fn_exit(ctx);
        rc = -VNS_ENOBUFS;
        goto out;
    }
    vns_skb_reserve(skb, VNS_MAX_TCP_HEADER);
    vns_skb_put(skb, UDP_HLEN);
    flow = vns_inet_flow_id(saddr, sk->sport, daddr, dport, VNS_IPPROTO_UDP);
    if (len) {
        /* LINUX: __ip_append_data allocates a non-GSO datagram that fits
         * the MTU linear (alloclen = fraglen: "paged" only with a UDP GSO
         * size), SG device or not, and copies the payload after the
         * headers. Synthetic here, marked syn_linear so that the layers
         * below treat it as the linear data it is. */
        vns_skb_add_synthetic(skb, flow, 0, (uint32_t)len);
        skb->syn_linear = 1;
    }
    if (len && inet->cfg.materialize_payload && vns_skb_linearize(skb) < 0) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOMEM);
        vns_fn_exit(ctx);
        rc = -VNS_ENOBUFS;
        goto out;
    }
    uh = skb->data; /* linearize may have moved the buffer */
    /* skb_set_owner_w (sock_alloc_send_pskb): charged with the truesize of
     * the whole datagram, released by sock_wfree when the skb is freed */
    skb->sk = sk;
    skb->destructor = udp_sock_wfree;
    sk->wmem_alloc += skb->truesize;
    if (sk->fbook && len)
        vns__flow_sent(skb, sk->fbook, 1, (uint32_t)len, flow);
    vns_fn_exit(ctx);
    /* udp_send_skb */
    vns_fn_enter(ctx, VNS_FN_udp_send_skb);
    vns_skb_reset_transport_header(skb);
    vns_put_be16(uh, sk->sport);
    vns_put_be16(uh + 2, dport);
    vns_put_be16(uh + 4, (uint16_t)(len + UDP_HLEN));
    {
        uint8_t s[4], d[4];

        vns_put_be32(s, saddr);
        vns_put_be32(d, daddr);
        /* udp4_hwcsum: ~pseudo-header in check, CHECKSUM_PARTIAL */
        vns_put_be16(uh + 6, (uint16_t)~vns_csum_fold(vns_csum_tcpudp_nofold(
                                 s, d, (uint32_t)(len + UDP_HLEN), VNS_IPPROTO_UDP, 0)));
    }
    skb->ip_summed = VNS_CHECKSUM_PARTIAL;
    skb->csum_start = skb->transport_header;
    skb->csum_offset = 6;
    vns__ip_build_header(inet, sk->connected ? sk : NULL, skb, saddr, daddr, VNS_IPPROTO_UDP,
                         sk->tos, !inet->cfg.ip_no_pmtu_disc, 1);
    skb->priority = sk->priority;
    vns_fn_enter(ctx, VNS_FN_ip_send_skb);
    rc = vns__ip_local_out(ctx, inet, skb, &rt);
    vns_fn_exit(ctx);
    if (rc == VNS_NET_XMIT_DROP || rc == -VNS_ENOBUFS) {
        inet->stats.udp_sndbuf_errors++;
        rc = 0; /* -ENOBUFS swallowed without IP_RECVERR */
    } else if (rc == VNS_NET_XMIT_CN) {
        rc = 0;
    }
    if (rc == 0) {
        inet->stats.udp_out_datagrams++;
        rc = (long)len;
    }
    vns_fn_exit(ctx);
out:
    vns_fn_exit(ctx);
    return rc;
}

static int udp_queue_rcv_skb(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb)
{
    struct vns_inet *inet = sk->inet;
    uint32_t size = skb->truesize;

    vns_fn_enter(ctx, VNS_FN_udp_queue_rcv_skb);
    vns_fn_enter(ctx, VNS_FN___udp_enqueue_schedule_skb);
    if (sk->rmem_alloc > sk->rcvbuf || sk->rmem_alloc + size > sk->rcvbuf + size) {
        inet->stats.udp_rcvbuf_errors++;
        inet->stats.udp_in_errors++;
        sk->st.drops++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_SOCKET_RCVBUFF);
        vns_fn_exit(ctx);
        vns_fn_exit(ctx);
        return VNS_NET_RX_DROP;
    }
    sk->rmem_alloc += size;
    INET_RX_CB(skb)->truesize = size;
    if (skb->fbook)
        vns__flow_end(skb, VNS_FLOW_DELIVERED, -1);
    vns_skb_queue_tail(&sk->receive_queue, skb);
    vns__sk_wake(ctx, sk);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return VNS_NET_RX_SUCCESS;
}

int vns__udp_rcv(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb)
{
    const uint8_t *iph = vns_skb_network_header(skb);
    uint32_t saddr = vns_get_be32(iph + 12), daddr = vns_get_be32(iph + 16);
    const uint8_t *uh;
    unsigned ulen;
    struct vns_sock *sk;
    int rc;

    vns_fn_enter(ctx, VNS_FN_udp_rcv);
    vns_fn_enter(ctx, VNS_FN___udp4_lib_rcv);
    if (!vns_pskb_may_pull(skb, UDP_HLEN))
        goto short_packet;
    uh = skb->data;
    ulen = vns_get_be16(uh + 4);
    if (ulen > skb->len || ulen < UDP_HLEN)
        goto short_packet;
    vns_skb_trim(skb, ulen);
    /* udp4_csum_init + checksum completion */
    if (vns_get_be16(uh + 6) != 0 && skb->ip_summed != VNS_CHECKSUM_UNNECESSARY &&
        skb->ip_summed != VNS_CHECKSUM_PARTIAL) {
        uint8_t s[4], d[4];

        vns_put_be32(s, saddr);
        vns_put_be32(d, daddr);
        if (vns_csum_fold(vns_skb_checksum(
                skb, 0, ulen, vns_csum_tcpudp_nofold(s, d, ulen, VNS_IPPROTO_UDP, 0))) != 0) {
            inet->stats.udp_in_csum_errors++;
            inet->stats.udp_in_errors++;
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_UDP_CSUM);
            rc = VNS_NET_RX_DROP;
            goto out;
        }
    }
    sk =
        vns__sk_lookup(inet, VNS_IPPROTO_UDP, saddr, vns_get_be16(uh), daddr, vns_get_be16(uh + 2));
    if (!sk) {
        inet->stats.udp_no_ports++;
        vns__icmp_send(ctx, inet, skb, 3, 3, 0); /* ICMP_DEST_UNREACH, ICMP_PORT_UNREACH */
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NO_SOCKET);
        rc = VNS_NET_RX_DROP;
        goto out;
    }
    INET_RX_CB(skb)->saddr = saddr;
    INET_RX_CB(skb)->sport = vns_get_be16(uh);
    vns_skb_pull(skb, UDP_HLEN);
    rc = udp_queue_rcv_skb(ctx, sk, skb);
    goto out;
short_packet:
    inet->stats.udp_in_errors++;
    vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_PKT_TOO_SMALL);
    rc = VNS_NET_RX_DROP;
out:
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return rc;
}

long vns__udp_recvmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags,
                      struct vns_sockaddr_in *from)
{
    struct vns_inet *inet = sk->inet;
    struct vns_skb *skb;
    uint32_t copy, ulen;
    long rc;

    vns_fn_enter(ctx, VNS_FN_udp_recvmsg);
    skb = vns_skb_dequeue(&sk->receive_queue);
    if (!skb) {
        rc = (flags & VNS_MSG_DONTWAIT) ? -VNS_EAGAIN : vns__sk_wait(ctx, sk);
        vns_fn_exit(ctx);
        return rc;
    }
    sk->rmem_alloc -= INET_RX_CB(skb)->truesize;
    ulen = skb->len;
    copy = (uint32_t)VNS_MIN((size_t)ulen, len);
    vns_charge_bytes(ctx, VNS_FN_udp_recvmsg, copy);
    if (from) {
        from->addr = INET_RX_CB(skb)->saddr;
        from->port = INET_RX_CB(skb)->sport;
    }
    {
        const uint8_t *iph = vns_skb_network_header(skb);
        uint64_t flow = vns_inet_flow_id(vns_get_be32(iph + 12), INET_RX_CB(skb)->sport,
                                         vns_get_be32(iph + 16), sk->sport, VNS_IPPROTO_UDP);

        vns__payload_verify(inet, skb, 0, copy, flow, 0);
    }
    inet->stats.udp_in_datagrams++;
    sk->st.datagrams_received++;
    vns_consume_skb(skb);
    vns_fn_exit(ctx);
    return (long)copy;
}
