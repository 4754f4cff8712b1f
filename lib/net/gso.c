/* lib/net/gso.c -- software segmentation of TCP over IPv4: skb_gso_segment,
 * __skb_gso_segment, inet_gso_segment, tcp4_gso_segment, tcp_gso_segment,
 * skb_segment. LINUX: net/core/dev.c, net/ipv4/af_inet.c,
 * net/ipv4/tcp_offload.c, net/core/skbuff.c.
 *
 * Modelled: netif_needs_gso (the device lacks the gso_type's feature, or
 * a frag_list without NETIF_F_FRAGLIST, or the checksum is not offloaded);
 * segments of gso_size payload bytes with copied headers; IP tot_len, id
 * (+1 per segment) and checksum; TCP seq advanced, CWR only on the first,
 * FIN/PSH only on the last; TCP checksum left CHECKSUM_PARTIAL (pseudo
 * header in the field) when the device offloads checksums, else computed.
 * Payload that lies in the synthetic range stays synthetic.
 * Simplified: IPv4/TCP only (UFO/USO, IPv6, tunnels are not modelled: such
 * skbs fail segmentation and are dropped with SKB_GSO_SEG). */
#include <string.h>

#include "vnetsim/proto/ip.h"
#include "vnetsim/proto/tcp.h"
#include "inet_int.h"

static bool net_gso_ok(uint64_t features, uint32_t gso_type)
{
    uint64_t need = 0;

    if (gso_type & VNS_SKB_GSO_TCPV4)
        need |= VNS_NETIF_F_TSO;
    if (gso_type & VNS_SKB_GSO_TCPV6)
        need |= VNS_NETIF_F_TSO6;
    if (gso_type & VNS_SKB_GSO_TCP_ECN)
        need |= VNS_NETIF_F_TSO_ECN;
    if (gso_type & VNS_SKB_GSO_DODGY)
        need |= VNS_NETIF_F_GSO_ROBUST;
    if (gso_type & VNS_SKB_GSO_UDP_L4)
        return false;
    return (features & need) == need;
}

bool vns__netif_needs_gso(const struct vns_skb *skb, uint64_t features)
{
    if (!vns_skb_is_gso(skb))
        return false;
    if (!net_gso_ok(features, skb->gso_type) ||
        (skb->frag_list && !(features & VNS_NETIF_F_FRAGLIST)))
        return true;
    return skb->ip_summed != VNS_CHECKSUM_PARTIAL && skb->ip_summed != VNS_CHECKSUM_UNNECESSARY;
}

/* One segment: headers [0, hlen) of @skb, payload [poff, poff + plen). */
static struct vns_skb *segment_one(const struct vns_skb *skb, uint32_t hlen, uint32_t poff,
                                   uint32_t plen, bool sg)
{
    uint32_t headroom = vns_skb_headroom(skb), hl = vns_skb_headlen(skb);
    /* skb_segment keeps page frags only for an SG device */
    bool synthetic = sg && poff >= hl && poff + plen <= hl + skb->syn_len;
    struct vns_skb *n = vns_alloc_skb(skb->k, headroom + hlen + (synthetic ? 0 : plen));
    int delta;

    if (!n)
        return NULL;
    vns_skb_reserve(n, headroom);
    vns_skb_put_data(n, skb->data, hlen);
    if (synthetic)
        vns_skb_add_synthetic(n, skb->pay_flow, skb->pay_off + (poff - hl), plen);
    else
        vns_skb_copy_bits(skb, poff, vns_skb_put(n, plen), plen);
    delta = (int)(n->data - n->head) - (int)(skb->data - skb->head);
    n->mac_header = (uint16_t)(skb->mac_header + delta);
    n->network_header = (uint16_t)(skb->network_header + delta);
    n->transport_header = (uint16_t)(skb->transport_header + delta);
    n->dev = skb->dev;
    n->sk = skb->sk;
    n->tstamp = skb->tstamp;
    n->protocol = skb->protocol;
    n->priority = skb->priority;
    n->hash = skb->hash;
    n->queue_mapping = skb->queue_mapping;
    n->pkt_type = skb->pkt_type;
    return n;
}

struct vns_skb *vns__skb_gso_segment(struct vns_ctx *ctx, struct vns_skb *skb, uint64_t features)
{
    struct vns_skb *segs = NULL, **tail = &segs;
    uint32_t noff, toff, thlen, hlen, mss = skb->gso_size, off, seq;
    uint16_t id;
    uint8_t flags;
    const uint8_t *iph, *th;
    bool csum_offload = (features & VNS_NETIF_F_CSUM_MASK) != 0;
    unsigned i = 0;

    vns_fn_enter(ctx, VNS_FN_skb_gso_segment);
    vns_fn_enter(ctx, VNS_FN___skb_gso_segment);
    vns_fn_enter(ctx, VNS_FN_inet_gso_segment);
    if (skb->protocol != VNS_ETH_P_IP || !(skb->gso_type & VNS_SKB_GSO_TCPV4) || !mss ||
        skb->network_header == VNS_SKB_NO_HDR)
        goto fail;
    noff = (uint32_t)vns_skb_network_offset(skb);
    if (!vns_pskb_may_pull(skb, noff + 20))
        goto fail;
    iph = skb->data + noff;
    if ((iph[0] >> 4) != 4 || (iph[0] & 0xf) < 5 || iph[9] != VNS_IPPROTO_TCP)
        goto fail;
    toff = noff + (iph[0] & 0xfu) * 4u;
    if (!vns_pskb_may_pull(skb, toff + 20))
        goto fail;
    th = skb->data + toff;
    thlen = (th[12] >> 4) * 4u;
    hlen = toff + thlen;
    if (thlen < 20 || !vns_pskb_may_pull(skb, hlen) || skb->len <= hlen)
        goto fail;
    vns_fn_enter(ctx, VNS_FN_tcp4_gso_segment);
    vns_fn_enter(ctx, VNS_FN_tcp_gso_segment);
    vns_fn_enter(ctx, VNS_FN_skb_segment);
    id = vns_get_be16(iph + 4);
    seq = vns_get_be32(th + 4);
    flags = th[13];
    for (off = hlen; off < skb->len; off += mss, i++) {
        uint32_t plen = VNS_MIN(mss, skb->len - off);
        bool last = off + plen >= skb->len;
        struct vns_skb *n = segment_one(skb, hlen, off, plen, (features & VNS_NETIF_F_SG) != 0);
        uint8_t *niph, *nth;
        uint32_t sum;

        if (!n) {
            vns_kfree_skb_list_reason(segs, VNS_SKB_DROP_REASON_NOMEM);
            vns__unwind(ctx, vns__depth(ctx) - 3);
            goto fail;
        }
        vns__book_created(skb->book, n);
        vns_charge(ctx, VNS_FN_skb_segment, plen);
        niph = n->data + noff;
        nth = n->data + toff;
        vns_put_be16(niph + 2, (uint16_t)(n->len - noff));
        vns_put_be16(niph + 4, (uint16_t)(id + i));
        niph[10] = niph[11] = 0;
        vns_put_be16(niph + 10, vns_ip_fast_csum(niph, niph[0] & 0xfu));
        vns_put_be32(nth + 4, seq + i * mss);
        nth[13] = flags;
        if (i > 0)
            nth[13] &= (uint8_t)~VNS_TCP_FLAG_CWR;
        if (!last)
            nth[13] &= (uint8_t)~(VNS_TCP_FLAG_FIN | VNS_TCP_FLAG_PSH);
        sum = vns_csum_tcpudp_nofold(niph + 12, niph + 16, n->len - toff, VNS_IPPROTO_TCP, 0);
        nth[16] = nth[17] = 0;
        if (csum_offload) {
            vns_put_be16(nth + 16, (uint16_t)~vns_csum_fold(sum));
            n->ip_summed = VNS_CHECKSUM_PARTIAL;
            n->csum_start = (uint16_t)(nth - n->head);
            n->csum_offset = 16;
        } else {
            sum = vns_skb_checksum(n, toff, n->len - toff, sum);
            vns_put_be16(nth + 16, vns_csum_fold(sum));
            n->ip_summed = VNS_CHECKSUM_NONE;
        }
        *tail = n;
        tail = &n->next;
    }
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns__flow_segmented(skb, segs, hlen);
    return segs;
fail:
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return NULL;
}

/* tcp_gso_segment's copy_destructor (5.4 net/ipv4/tcp_offload.c): every
 * segment but the last takes the socket and tcp_wfree, the last swaps
 * them with the GSO skb, and sk_wmem_alloc moves by the segments' summed
 * truesize minus the GSO skb's ("in some pathological cases, delta can
 * be negative"). Each segment's truesize is its own allocation's, as
 * skb_segment makes it (SKB_TRUESIZE of its linear buffer + the page frags
 * it references: nskb->truesize += nskb->data_len). */
void vns__skb_gso_move_owner(struct vns_skb *gso, struct vns_skb *segs)
{
    struct vns_sock *sk = gso->sk;
    uint64_t sum = 0;

    if (!gso->destructor || !segs)
        return;
    for (struct vns_skb *s = segs; s; s = s->next) {
        s->sk = sk;
        s->destructor = gso->destructor;
        sum += s->truesize;
    }
    gso->destructor = NULL;
    gso->sk = NULL;
    if (sum >= gso->truesize)
        sk->wmem_alloc += (unsigned)(sum - gso->truesize);
    else
        sk->wmem_alloc -= VNS_MIN((unsigned)(gso->truesize - sum), sk->wmem_alloc - 1);
}
