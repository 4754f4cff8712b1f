/* lib/net/flow_book.c -- per-flow packet books (include/vnetsim/flow_book.h,
 * docs/reliability.md "Flow books"). No kernel counterpart: observation
 * only, like the device books. The hooks are called where the skb ledger
 * already counts (creation, fates) and where a packet changes skbs (GSO,
 * GRO, a copy from bytes, a wire); each moves an skb's weight between
 * terms of its book, so the balance holds by construction and the drain
 * (after which no skb holds weight) proves that nothing was forgotten. */
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/flow_book.h"
#include "vnetsim/inet.h"
#include "vnetsim/proto/if_ether.h"
#include "vnetsim/proto/ip.h"
#include "inet_int.h"
#include "net_int.h"

struct flow_id {
    uint64_t id;
    struct vns_flow_book *b;
};

/* Bound flow ids in an open-addressed table of a power-of-two size, at
 * most half full, probed linearly from the id's low bits: a flow id is a
 * mixed hash already (vns_inet_flow_id), so nothing is hashed again. */
struct vns_flow_reg {
    struct vns_flow_book *books;
    size_t nbooks;
    struct flow_id *ids; /* b == NULL: a free slot */
    size_t nids, cap;
};

int vns_flow_reg_create(size_t nbooks, struct vns_flow_reg **out)
{
    struct vns_flow_reg *r = vns_calloc(1, sizeof(*r));

    if (!r || !(r->books = vns_calloc(nbooks ? nbooks : 1, sizeof(*r->books)))) {
        vns_free(r);
        return -VNS_ENOMEM;
    }
    r->nbooks = nbooks;
    for (size_t i = 0; i < nbooks; i++) {
        r->books[i].reg = r;
        r->books[i].reverse = (i ^ 1) < nbooks ? &r->books[i ^ 1] : NULL;
    }
    *out = r;
    return 0;
}

void vns_flow_reg_destroy(struct vns_flow_reg *r)
{
    if (!r)
        return;
    vns_free(r->ids);
    vns_free(r->books);
    vns_free(r);
}

struct vns_flow_book *vns_flow_reg_book(struct vns_flow_reg *r, size_t i)
{
    return r && i < r->nbooks ? &r->books[i] : NULL;
}

struct vns_flow_book *vns_flow_reg_lookup(const struct vns_flow_reg *r, uint64_t id)
{
    if (!r || !r->nids)
        return NULL;
    for (size_t i = (size_t)id & (r->cap - 1); r->ids[i].b; i = (i + 1) & (r->cap - 1))
        if (r->ids[i].id == id)
            return r->ids[i].b;
    return NULL;
}

static void reg_insert(struct flow_id *t, size_t cap, struct flow_id e)
{
    size_t i = (size_t)e.id & (cap - 1);

    while (t[i].b)
        i = (i + 1) & (cap - 1);
    t[i] = e;
}

int vns_flow_reg_bind(struct vns_flow_book *b, uint64_t id)
{
    struct vns_flow_reg *r = b->reg;

    if (vns_flow_reg_lookup(r, id)) {
        b->last_id = id;
        return 0;
    }
    if (2 * (r->nids + 1) > r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        struct flow_id *n = vns_calloc(cap, sizeof(*n));

        if (!n)
            return -VNS_ENOMEM;
        for (size_t i = 0; i < r->cap; i++)
            if (r->ids[i].b)
                reg_insert(n, cap, r->ids[i]);
        vns_free(r->ids);
        r->ids = n;
        r->cap = cap;
    }
    reg_insert(r->ids, r->cap, (struct flow_id){id, b});
    r->nids++;
    b->last_id = id; /* not on failure: the next packet tries again */
    return 0;
}

void vns_kernel_set_flow_reg(struct vns_kernel *k, struct vns_flow_reg *r)
{
    k->flows = r;
}

void vns_sock_set_flow_book(struct vns_sock *sk, struct vns_flow_book *b)
{
    if (sk)
        sk->fbook = b;
}

static void add(struct vns_flow_book *b, enum vns_flow_term t, uint32_t segs, uint32_t bytes)
{
    b->pkts[t] += segs;
    b->bytes[t] += bytes;
}

static void sub_live(struct vns_flow_book *b, uint32_t segs, uint32_t bytes)
{
    b->pkts[VNS_FLOW_LIVE] -= segs;
    b->bytes[VNS_FLOW_LIVE] -= bytes;
}

void vns__flow_sent(struct vns_skb *skb, struct vns_flow_book *b, uint32_t segs, uint32_t bytes,
                    uint64_t id)
{
    if (b->last_id != id)
        (void)vns_flow_reg_bind(b, id);
    if (skb->fbook) /* tagged already (a clone of a sent packet): end that first */
        vns__flow_end(skb, VNS_FLOW_CONSUMED, -1);
    skb->fbook = b;
    skb->fsegs = segs;
    skb->fbytes = bytes;
    add(b, VNS_FLOW_SENT, segs, bytes);
    add(b, VNS_FLOW_LIVE, segs, bytes);
}

void vns__flow_end(struct vns_skb *skb, enum vns_flow_term t, int reason)
{
    struct vns_flow_book *b = skb->fbook;

    skb->fbook = NULL;
    if (!b)
        return;
    add(b, t, skb->fsegs, skb->fbytes);
    sub_live(b, skb->fsegs, skb->fbytes);
    if (t == VNS_FLOW_DROPPED && reason >= 0 && reason < VNS_SKB_DROP_REASON_MAX)
        b->drops[reason] += skb->fsegs;
    if ((t == VNS_FLOW_LOST || t == VNS_FLOW_HW_FREED) && reason >= 0 && reason < VNS_FLOW_NLOSSES)
        b->losses[reason] += skb->fsegs;
    skb->fsegs = skb->fbytes = 0;
}

void vns__flow_copied(struct vns_skb *n)
{
    add(n->fbook, VNS_FLOW_COPIED, n->fsegs, n->fbytes);
    add(n->fbook, VNS_FLOW_LIVE, n->fsegs, n->fbytes);
}

void vns__flow_uncopied(struct vns_skb *n)
{
    if (!n->fbook)
        return;
    n->fbook->pkts[VNS_FLOW_COPIED] -= n->fsegs;
    n->fbook->bytes[VNS_FLOW_COPIED] -= n->fbytes;
    sub_live(n->fbook, n->fsegs, n->fbytes);
    n->fbook = NULL;
    n->fsegs = n->fbytes = 0;
}

void vns__flow_merge(struct vns_skb *p, struct vns_skb *skb)
{
    if (!skb->fbook || (p->fbook && p->fbook != skb->fbook))
        return; /* a member of another book keeps its weight: it ends consumed */
    p->fbook = skb->fbook;
    p->fsegs += skb->fsegs;
    p->fbytes += skb->fbytes;
    skb->fbook = NULL;
    skb->fsegs = skb->fbytes = 0;
}

void vns__flow_segmented(struct vns_skb *gso, struct vns_skb *segs, uint32_t hlen)
{
    uint32_t nsegs = gso->fsegs, nbytes = gso->fbytes;

    if (!gso->fbook)
        return;
    for (struct vns_skb *s = segs; s; s = s->next) {
        uint32_t pay = s->len > hlen ? s->len - hlen : 0;

        s->fbook = gso->fbook;
        s->fsegs = s->next ? (nsegs ? 1u : 0u) : nsegs;
        s->fbytes = s->next ? VNS_MIN(pay, nbytes) : nbytes;
        nsegs -= s->fsegs;
        nbytes -= s->fbytes;
    }
    gso->fbook = NULL;
    gso->fsegs = gso->fbytes = 0;
}

uint64_t vns__flow_icmp_id(uint32_t saddr, uint16_t ident, uint32_t daddr, uint8_t type)
{
    return vns_inet_flow_id(saddr, ident, daddr, type, VNS_IPPROTO_ICMP);
}

void vns__flow_sent_ping(struct vns_skb *skb, struct vns_flow_book *b, uint32_t bytes,
                         uint32_t saddr, uint16_t ident, uint32_t daddr)
{
    uint64_t reply = vns__flow_icmp_id(daddr, ident, saddr, 0);

    if (b->reverse && b->reverse->last_id != reply)
        (void)vns_flow_reg_bind(b->reverse, reply);
    vns__flow_sent(skb, b, 1, bytes, vns__flow_icmp_id(saddr, ident, daddr, 8));
}

void vns__flow_sent_by_id(struct vns_skb *r, uint64_t id, uint32_t bytes)
{
    struct vns_flow_book *b = vns_flow_reg_lookup(r->k->flows, id);

    if (b)
        vns__flow_sent(r, b, 1, bytes, id);
}

void vns__flow_cross_in(struct vns_skb *skb, uint32_t l3)
{
    const struct vns_flow_reg *r = skb->k->flows;
    uint32_t hl = vns_skb_headlen(skb), ihl, l4, pay, segs = 1;
    const uint8_t *iph, *th;
    struct vns_flow_book *b;
    uint64_t id;

    if (!r || !r->nids || hl < l3 + 20)
        return;
    iph = skb->data + l3;
    ihl = (iph[0] & 0xfu) * 4u;
    if ((iph[0] >> 4) != 4 || ihl < 20 || hl < l3 + ihl + (iph[9] == VNS_IPPROTO_TCP ? 20u : 8u))
        return;
    th = iph + ihl;
    if (iph[9] == VNS_IPPROTO_ICMP) {
        /* an echo request or reply: a packet even without payload */
        if ((th[0] != 0 && th[0] != 8) || skb->len < l3 + ihl + 8)
            return;
        pay = skb->len - l3 - ihl - 8;
        b = vns_flow_reg_lookup(r, vns__flow_icmp_id(vns_get_be32(iph + 12), vns_get_be16(th + 4),
                                                     vns_get_be32(iph + 16), th[0]));
        goto found;
    }
    if (iph[9] == VNS_IPPROTO_TCP) {
        l4 = (th[12] >> 4) * 4u;
        if (l4 < 20 || skb->len <= l3 + ihl + l4)
            return; /* no payload: an ACK is no packet of the flow */
        pay = skb->len - l3 - ihl - l4;
        if (skb->gso_size)
            segs = (pay + skb->gso_size - 1) / skb->gso_size;
    } else if (iph[9] == VNS_IPPROTO_UDP) {
        pay = vns_get_be16(th + 4);
        if (pay <= 8)
            return;
        pay -= 8;
    } else {
        return;
    }
    /* the synthetic payload names its flow; else the 5-tuple does */
    id = skb->syn_len ? skb->pay_flow
                      : vns_inet_flow_id(vns_get_be32(iph + 12), vns_get_be16(th),
                                         vns_get_be32(iph + 16), vns_get_be16(th + 2), iph[9]);
    b = vns_flow_reg_lookup(r, id);
found:
    if (!b)
        return;
    skb->fbook = b;
    skb->fsegs = segs;
    skb->fbytes = pay;
    add(b, VNS_FLOW_CROSSED_IN, segs, pay);
    add(b, VNS_FLOW_LIVE, segs, pay);
}

void vns__flow_take(struct vns_skb *skb, struct vns_flow_hand *h)
{
    *h = (struct vns_flow_hand){skb->fbook, skb->fsegs, skb->fbytes, 0};
    skb->fbook = NULL;
    skb->fsegs = skb->fbytes = 0;
}

void vns__flow_give(struct vns_flow_hand *h, struct vns_skb *copy)
{
    if (!h->b)
        return;
    copy->fbook = h->b;
    copy->fsegs = h->segs;
    copy->fbytes = h->bytes;
    if (h->given++)
        vns__flow_copied(copy);
}

void vns__flow_hand_lost(struct vns_flow_hand *h, int why)
{
    if (!h->b || h->given)
        return;
    add(h->b, VNS_FLOW_LOST, h->segs, h->bytes);
    if (why >= 0 && why < VNS_FLOW_NLOSSES)
        h->b->losses[why] += h->segs;
    sub_live(h->b, h->segs, h->bytes);
}
