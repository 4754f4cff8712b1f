/* lib/net/gro.c -- generic receive offload for TCP over IPv4:
 * napi_gro_receive, dev_gro_receive, inet_gro_receive, tcp4_gro_receive,
 * tcp_gro_receive, skb_gro_receive, napi_gro_complete, napi_gro_flush.
 * LINUX: net/core/dev.c (5.4; net/core/gro.c from 5.19),
 * net/ipv4/af_inet.c, net/ipv4/tcp_offload.c, net/core/skbuff.c.
 *
 * Modelled: a segment merges into a held skb of the same flow (MAC header,
 * addresses, ports) when it is the next in sequence, has the same ACK,
 * flags (ignoring CWR/FIN/PSH), TCP options, TOS and TTL, is not larger
 * than the first segment (gso_size), and the total stays below 64 KiB.
 * An skb that is already GSO or has a frag_list is never held (5.4's
 * dev_gro_receive flush); it flushes its flow's held skb.
 * A segment shorter than gso_size or with PSH/URG/RST/SYN/FIN ends the
 * merge (the held skb is delivered); a mismatching segment flushes the held
 * one and is held itself. The held skb is delivered as one GSO skb
 * (gso_type TCPV4, gso_segs = count, CHECKSUM_PARTIAL, IP tot_len and
 * checksum rewritten). MAX_GRO_SKBS (8) held flows, the oldest flushed.
 * Simplified: one list instead of 8 hash buckets; only IPv4/TCP (others
 * pass through: GRO_NORMAL); the TCP checksum of a segment is trusted when
 * ip_summed is UNNECESSARY or COMPLETE, else verified over its bytes. */
#include <string.h>

#include "vnetsim/proto/ip.h"
#include "vnetsim/proto/tcp.h"
#include "net_int.h"

struct gro_cb {
    uint64_t age;       /* jiffy it was first held */
    uint16_t count;     /* segments merged */
    uint16_t payload;   /* payload bytes of the first segment (gso_size) */
};
_Static_assert(sizeof(struct gro_cb) <= VNS_SKB_CB_SIZE, "gro cb fits");

static struct gro_cb *GRO_CB(struct vns_skb *skb) { return (struct gro_cb *)(void *)skb->cb; }

/* Offsets within a received skb whose data starts at the IPv4 header. */
struct tcp4_view {
    uint8_t *iph, *th;
    unsigned ihl, thlen;
    uint32_t payload;   /* TCP payload bytes */
    uint32_t seq, ack;
    uint8_t flags;
};

static bool tcp4_parse(struct vns_skb *skb, struct tcp4_view *v)
{
    const struct vns_iphdr *iph;
    uint16_t tot, frag;

    if (skb->protocol != VNS_ETH_P_IP || !vns_pskb_may_pull(skb, 20))
        return false;
    v->iph = skb->data;
    iph = (const struct vns_iphdr *)(const void *)v->iph;
    v->ihl = (iph->ver_ihl & 0xf) * 4u;
    /* inet_gro_receive: only 20-byte headers, no fragments, valid csum */
    if ((iph->ver_ihl >> 4) != 4 || v->ihl != 20 || iph->protocol != VNS_IPPROTO_TCP)
        return false;
    frag = vns_get_be16(iph->frag_off);
    if (frag & (VNS_IP_MF | VNS_IP_OFFSET))
        return false;
    tot = vns_get_be16(iph->tot_len);
    if (tot != skb->len || vns_ip_fast_csum(v->iph, 5) != 0)
        return false;
    if (!vns_pskb_may_pull(skb, v->ihl + 20))
        return false;
    v->th = v->iph + v->ihl;
    v->thlen = (v->th[12] >> 4) * 4u;
    if (v->thlen < 20 || !vns_pskb_may_pull(skb, v->ihl + v->thlen))
        return false;
    v->payload = skb->len - v->ihl - v->thlen;
    v->seq = vns_get_be32(v->th + 4);
    v->ack = vns_get_be32(v->th + 8);
    v->flags = v->th[13];
    return true;
}

static bool tcp4_csum_ok(struct vns_skb *skb, const struct tcp4_view *v)
{
    uint32_t sum;

    if (skb->ip_summed == VNS_CHECKSUM_UNNECESSARY || skb->ip_summed == VNS_CHECKSUM_COMPLETE ||
        skb->ip_summed == VNS_CHECKSUM_PARTIAL)
        return true;
    sum = vns_csum_tcpudp_nofold(v->iph + 12, v->iph + 16, skb->len - v->ihl, VNS_IPPROTO_TCP, 0);
    sum = vns_skb_checksum(skb, v->ihl, skb->len - v->ihl, sum);
    if (vns_csum_fold(sum) != 0)
        return false;
    skb->ip_summed = VNS_CHECKSUM_UNNECESSARY;   /* skb_gro_checksum_validate */
    return true;
}

static bool same_flow(struct vns_skb *p, struct vns_skb *skb, const struct tcp4_view *v)
{
    struct tcp4_view pv;

    if (p->dev != skb->dev || p->mac_header == VNS_SKB_NO_HDR ||
        memcmp(vns_skb_mac_header(p), vns_skb_mac_header(skb), VNS_ETH_HLEN) != 0)
        return false;
    pv.iph = p->data;
    pv.th = p->data + 20;
    return memcmp(pv.iph + 12, v->iph + 12, 8) == 0 && memcmp(pv.th, v->th, 4) == 0;
}

/* napi_gro_complete: finish the held skb and deliver it. Consumes @skb. */
static void napi_gro_complete(struct vns_ctx *ctx, struct vns_napi_struct *n, struct vns_skb *skb)
{
    struct gro_cb *cb = GRO_CB(skb);
    uint8_t *iph = skb->data;

    vns_fn_enter(ctx, VNS_FN_napi_gro_complete);
    n->stats.gro_flushed++;
    if (cb->count > 1) {
        /* inet_gro_complete + tcp4_gro_complete */
        vns_put_be16(iph + 2, (uint16_t)skb->len);
        iph[10] = iph[11] = 0;
        vns_put_be16(iph + 10, vns_ip_fast_csum(iph, 5));
        skb->gso_size = cb->payload;
        skb->gso_segs = cb->count;
        skb->gso_type = VNS_SKB_GSO_TCPV4;
        skb->ip_summed = VNS_CHECKSUM_PARTIAL;
        skb->csum_start = (uint16_t)(skb->data - skb->head + 20);
        skb->csum_offset = 16;
        {
            /* th->check = ~tcp_v4_check(len, saddr, daddr, 0) */
            uint32_t ps = vns_csum_tcpudp_nofold(iph + 12, iph + 16, skb->len - 20, VNS_IPPROTO_TCP, 0);
            uint16_t c = (uint16_t)~vns_csum_fold(ps);

            vns_put_be16(iph + 20 + 16, c);
        }
    } else {
        skb->gso_size = 0;
        skb->gso_segs = 0;
    }
    memset(cb, 0, sizeof(*cb));
    vns__netif_receive_skb_internal(ctx, skb);
    vns_fn_exit(ctx);
}

static void gro_unlink(struct vns_napi_struct *n, struct vns_skb *p)
{
    struct vns_skb **pp;

    for (pp = &n->gro_list; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            p->next = NULL;
            n->gro_count--;
            return;
        }
    }
}

void vns_napi_gro_flush(struct vns_ctx *ctx, struct vns_napi_struct *n, bool flush_old)
{
    uint64_t now_j = n->dev ? vns_kernel_jiffies(n->dev->k, vns__now(ctx, n->dev->k)) : 0;

    vns_fn_enter(ctx, VNS_FN_napi_gro_flush);
    /* Oldest first: the list is newest first, so walk to the tail. */
    for (;;) {
        struct vns_skb *p = n->gro_list, *last = NULL;

        for (; p; p = p->next)
            if (!flush_old || GRO_CB(p)->age != now_j)
                last = p;
        if (!last)
            break;
        gro_unlink(n, last);
        napi_gro_complete(ctx, n, last);
    }
    vns_fn_exit(ctx);
}

void vns__gro_flush_all(struct vns_ctx *ctx, struct vns_napi_struct *n)
{
    vns_napi_gro_flush(ctx, n, false);
}

/* skb_gro_receive: append @skb's payload to @p. Consumes @skb on success. */
static int skb_gro_receive(struct vns_ctx *ctx, struct vns_skb *p, struct vns_skb *skb,
                           const struct tcp4_view *v)
{
    uint32_t hdr = v->ihl + v->thlen;

    vns_fn_enter(ctx, VNS_FN_skb_gro_receive);
    if (p->len + v->payload >= VNS_GRO_MAX_SIZE) {
        vns_fn_exit(ctx);
        return -VNS_E2BIG;
    }
    vns__flow_merge(p, skb);
    if (vns_skb_headlen(skb) == hdr && skb->syn_len == v->payload && !p->frag_list &&
        p->syn_len && p->pay_flow == skb->pay_flow && (uint32_t)(p->pay_off + p->syn_len) == (uint32_t)skb->pay_off) {
        /* Page frags move over (skb_gro_receive's frags path), with
         * their truesize: delta_truesize = skb->truesize -
         * SKB_TRUESIZE(skb_end_offset(skb)), the head staying behind (its
         * end offset taken as the aligned tail: the pool's buffer class
         * is not charged) */
        uint32_t head = VNS_SKB_TRUESIZE(VNS_SKB_DATA_ALIGN(skb->tail - skb->head));

        p->syn_len += v->payload;
        p->data_len += v->payload;
        p->len += v->payload;
        p->truesize += skb->truesize > head ? skb->truesize - head : 0;
        vns__book_merged(skb);
        vns_consume_skb(skb);
    } else {
        struct vns_skb **pp = &p->frag_list;

        vns_skb_pull(skb, hdr);
        skb->next = NULL;
        while (*pp)
            pp = &(*pp)->next;
        *pp = skb;          /* frag_list path: skb is now part of p */
        vns__book_merged(skb);
        p->len += skb->len;
        p->data_len += skb->len;
        p->truesize += skb->truesize; /* delta_truesize = skb->truesize */
    }
    vns_fn_exit(ctx);
    return 0;
}

enum vns_gro_result vns_napi_gro_receive(struct vns_ctx *ctx, struct vns_napi_struct *n,
                                         struct vns_skb *skb)
{
    struct vns_net_device *dev = skb->dev;
    struct tcp4_view v;
    struct vns_skb *p = NULL, *pp = NULL;
    bool merged = false, flush;
    /* dev_gro_receive (5.4): NAPI_GRO_CB(skb)->flush = skb_is_gso(skb) ||
     * skb_has_frag_list(skb). An skb that is already GSO (a host GSO
     * frame virtio-net received whole) flushes its flow's held skb and is
     * never held or merged into, so a held skb's gso_size is always the
     * payload of one wire segment. LINUX: from 6.x ("net: gro: ... GSO
     * packets") a TCP GSO skb may merge, counting gso_segs; not in 5.4. */
    bool skb_flush = vns_skb_is_gso(skb) || skb->frag_list;
    uint32_t mss = 1;
    enum vns_gro_result ret;

    vns_fn_enter(ctx, VNS_FN_napi_gro_receive);
    if (dev)
        vns__book_in(dev->book, skb);
    skb->napi_id = n->napi_id;
    vns_fn_enter(ctx, VNS_FN_dev_gro_receive);
    if (!dev || !(dev->features & VNS_NETIF_F_GRO) || !tcp4_parse(skb, &v))
        goto normal;
    vns_fn_enter(ctx, VNS_FN_inet_gro_receive);
    vns_fn_enter(ctx, VNS_FN_tcp4_gro_receive);
    /* tcp4_gro_receive validates the checksum only when not flushing */
    if (!skb_flush && !tcp4_csum_ok(skb, &v)) {
        vns_fn_exit(ctx);
        vns_fn_exit(ctx);
        goto normal;
    }
    vns_fn_enter(ctx, VNS_FN_tcp_gro_receive);
    for (p = n->gro_list; p; p = p->next)
        if (same_flow(p, skb, &v))
            break;
    if (p) {
        const uint8_t *th2 = p->data + 20, *iph2 = p->data;
        unsigned thlen2 = (th2[12] >> 4) * 4u;
        struct gro_cb *cb = GRO_CB(p);
        uint32_t p_payload = p->len - 20 - thlen2;
        bool f = skb_flush; /* flush = NAPI_GRO_CB(skb)->flush */

        mss = cb->payload;
        f |= (v.flags & VNS_TCP_FLAG_CWR) != 0;
        f |= ((v.flags ^ th2[13]) &
              (uint8_t)~(VNS_TCP_FLAG_CWR | VNS_TCP_FLAG_FIN | VNS_TCP_FLAG_PSH)) != 0;
        f |= v.ack != vns_get_be32(th2 + 8);
        f |= thlen2 != v.thlen || memcmp(th2 + 20, v.th + 20, v.thlen - 20) != 0;
        f |= iph2[1] != v.iph[1] || iph2[8] != v.iph[8];        /* tos, ttl */
        f |= (v.payload - 1) >= mss;                            /* (len - 1) >= mss */
        f |= vns_get_be32(th2 + 4) + p_payload != v.seq;
        if (!f && skb_gro_receive(ctx, p, skb, &v) == 0) {
            uint8_t *thw = p->data + 20;

            merged = true;
            cb->count++;
            n->stats.gro_merged++;
            thw[13] |= v.flags & (VNS_TCP_FLAG_FIN | VNS_TCP_FLAG_PSH);
        } else {
            mss = 1;
        }
    }
    /* out_check_final */
    flush = v.payload < mss ||
            (v.flags & (VNS_TCP_FLAG_URG | VNS_TCP_FLAG_PSH | VNS_TCP_FLAG_RST |
                        VNS_TCP_FLAG_SYN | VNS_TCP_FLAG_FIN));
    if (p && (!merged || flush))
        pp = p;
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    if (pp) {
        gro_unlink(n, pp);
        napi_gro_complete(ctx, n, pp);
    }
    if (merged) {
        ret = VNS_GRO_MERGED_FREE;
        goto out;
    }
    if (flush || skb_flush) /* NAPI_GRO_CB(skb)->flush |= flush */
        goto normal;
    /* Hold it: a new flow entry. */
    if (n->gro_count >= VNS_MAX_GRO_SKBS) {
        struct vns_skb *old = n->gro_list;

        while (old->next)
            old = old->next;
        gro_unlink(n, old);
        napi_gro_complete(ctx, n, old);
    }
    memset(skb->cb, 0, sizeof(struct gro_cb));
    GRO_CB(skb)->count = 1;
    GRO_CB(skb)->payload = (uint16_t)v.payload;
    GRO_CB(skb)->age = vns_kernel_jiffies(skb->k, vns__now(ctx, skb->k));
    skb->next = n->gro_list;
    n->gro_list = skb;
    n->gro_count++;
    ret = VNS_GRO_HELD;
    goto out;
normal:
    vns_fn_exit(ctx);   /* dev_gro_receive */
    n->stats.gro_normal++;
    vns__netif_receive_skb_internal(ctx, skb);
    vns_fn_exit(ctx);
    return VNS_GRO_NORMAL;
out:
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return ret;
}
