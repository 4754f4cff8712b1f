/* lib/net/skb.c -- socket buffers: pools, references, linear area,
 * synthetic payload, copies and checksums. LINUX: net/core/skbuff.c,
 * include/linux/skbuff.h, include/net/checksum.h, lib/checksum.c.
 *
 * Simplified (see skb.h): skb_clone copies instead of sharing the data
 * (dataref); the nonlinear part is one synthetic range plus a frag_list,
 * not up to MAX_SKB_FRAGS page fragments; nr_frags is derived. Allocation
 * costs are charged by the callers that model __alloc_skb (drivers). */
#include <string.h>

#include "net_int.h"

static const char *const drop_names[] = {
#define VNS_X(n) #n,
    VNS_SKB_DROP_REASONS(VNS_X)
#undef VNS_X
};

const char *vns_drop_reason_name(enum vns_skb_drop_reason r)
{
    if ((unsigned)r >= VNS_SKB_DROP_REASON_MAX)
        return "?";
    return drop_names[r];
}

/* --- pools ------------------------------------------------------------------ */

void vns__pool_init(struct vns__pool *p, size_t size, unsigned per_chunk)
{
    memset(p, 0, sizeof(*p));
    p->size = (size + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
    if (p->size < sizeof(void *))
        p->size = sizeof(void *);
    p->per_chunk = per_chunk ? per_chunk : 1;
}

void *vns__pool_get(struct vns__pool *p, uint64_t *grows)
{
    void *b;

    if (!p->free) {
        /* Header padded to keep blocks pointer-aligned and 16-byte aligned. */
        size_t hdr = 16;
        struct vns__pool_chunk *c = vns_malloc(hdr + p->size * p->per_chunk);
        char *base;

        if (!c)
            return NULL;
        c->next = p->chunks;
        p->chunks = c;
        base = (char *)c + hdr;
        for (unsigned i = p->per_chunk; i-- > 0;) {
            void **blk = (void **)(void *)(base + i * p->size);

            *blk = p->free;
            p->free = blk;
        }
        if (grows)
            (*grows)++;
    }
    b = p->free;
    p->free = *(void **)b;
    p->live++;
    return b;
}

void vns__pool_put(struct vns__pool *p, void *block)
{
    *(void **)block = p->free;
    p->free = block;
    p->live--;
}

void vns__pool_fini(struct vns__pool *p)
{
    while (p->chunks) {
        struct vns__pool_chunk *c = p->chunks;

        p->chunks = c->next;
        vns_free(c);
    }
    p->free = NULL;
}

/* --- allocation --------------------------------------------------------------- */

static struct vns__pool *buf_pool(struct vns_kernel *k, unsigned cls)
{
    return cls ? &k->large_pool : &k->small_pool;
}

static uint32_t buf_size(unsigned cls)
{
    return cls ? VNS_SKB_LARGE_BUF : VNS_SKB_SMALL_BUF;
}

struct vns_skb *vns_alloc_skb(struct vns_kernel *k, uint32_t size)
{
    unsigned cls = size > VNS_SKB_SMALL_BUF;
    struct vns_skb *skb;
    uint8_t *buf;

    if (size > VNS_SKB_LARGE_BUF) {
        k->stats.skb_alloc_fail++;
        return NULL;
    }
    skb = vns__pool_get(&k->skb_pool, &k->stats.pool_grows);
    if (!skb) {
        k->stats.skb_alloc_fail++;
        return NULL;
    }
    buf = vns__pool_get(buf_pool(k, cls), &k->stats.pool_grows);
    if (!buf) {
        vns__pool_put(&k->skb_pool, skb);
        k->stats.skb_alloc_fail++;
        return NULL;
    }
    memset(skb, 0, sizeof(*skb));
    skb->k = k;
    skb->users = 1;
    skb->buf_class = (uint8_t)cls;
    skb->head = skb->data = skb->tail = buf;
    skb->end = buf + buf_size(cls);
    skb->mac_header = skb->network_header = skb->transport_header = VNS_SKB_NO_HDR;
    skb->skb_iif = 0;
    /* __alloc_skb: truesize = SKB_TRUESIZE(SKB_DATA_ALIGN(size)); the
     * pool's buffer class is a model artefact and is not charged */
    skb->truesize = VNS_SKB_TRUESIZE(VNS_SKB_DATA_ALIGN(size));
    k->stats.skb_allocs++;
    k->stats.skb_live++;
    return skb;
}

struct vns_skb *vns_netdev_alloc_skb(struct vns_kernel *k, uint32_t size)
{
    struct vns_skb *skb = vns_alloc_skb(k, size + VNS_NET_SKB_PAD + VNS_NET_IP_ALIGN);

    if (skb)
        vns_skb_reserve(skb, VNS_NET_SKB_PAD + VNS_NET_IP_ALIGN);
    return skb;
}

static void skb_free_list_silent(struct vns_skb *l);

static void skb_release(struct vns_skb *skb)
{
    struct vns_kernel *k = skb->k;

    /* skb_release_head_state: the destructor runs before the data goes */
    vns_skb_orphan(skb);
    skb_free_list_silent(skb->frag_list);
    skb->frag_list = NULL;
    vns__pool_put(buf_pool(k, skb->buf_class), skb->head);
    skb->head = NULL;
    vns__pool_put(&k->skb_pool, skb);
    k->stats.skb_live--;
}

/* frag_list members belong to their head: freed without being counted. */
static void skb_free_list_silent(struct vns_skb *l)
{
    while (l) {
        struct vns_skb *n = l->next;

        if (--l->users == 0) {
            l->k->stats.merged++;   /* ledger: its fate is its head's */
            skb_release(l);
        }
        l = n;
    }
}

void vns__book_fate(struct vns_skb *skb, int reason)
{
    struct vns_dev_book *b = skb->book;

    skb->book = NULL;
    if (reason < 0) {
        b->consumed++;
        b->consumed_bytes += skb->book_len;
    } else {
        b->dropped++;
        b->dropped_bytes += skb->book_len;
        b->drops[reason]++;
    }
}

void vns_kfree_skb_reason(struct vns_skb *skb, enum vns_skb_drop_reason reason)
{
    if (!skb)
        return;
    if ((unsigned)reason >= VNS_SKB_DROP_REASON_MAX)
        reason = VNS_SKB_DROP_REASON_NOT_SPECIFIED;
    skb->k->stats.drops[reason]++;
    if (skb->book)
        vns__book_fate(skb, (int)reason);
    if (skb->fbook)
        vns__flow_end(skb, VNS_FLOW_DROPPED, (int)reason);
    if (--skb->users == 0)
        skb_release(skb);
}

void vns__skb_free_hw(struct vns_skb *skb)
{
    if (!skb)
        return;
    skb->k->stats.hw_freed++;   /* ledger */
    if (skb->book) {
        skb->book->hw_freed++;
        skb->book->hw_freed_bytes += skb->book_len;
        skb->book = NULL;
    }
    if (skb->fbook)
        vns__flow_end(skb, VNS_FLOW_HW_FREED, -1);
    if (--skb->users == 0)
        skb_release(skb);
}

struct vns_skb *vns__skb_copy_to(struct vns_kernel *k, const struct vns_skb *skb)
{
    uint32_t hl = vns_skb_headlen(skb);
    bool keep_syn = skb->syn_len && !skb->frag_list;
    uint32_t lin = keep_syn ? hl : skb->len;
    struct vns_skb *n = vns_netdev_alloc_skb(k, lin);

    if (!n)
        return NULL;
    vns_skb_copy_bits(skb, 0, vns_skb_put(n, lin), lin);
    /* not syn_linear: the copy is a receiving NIC's own buffer, headers
     * linear and the payload in page frags */
    if (keep_syn)
        vns_skb_add_synthetic(n, skb->pay_flow, skb->pay_off, skb->syn_len);
    return n;
}

void vns_skb_orphan(struct vns_skb *skb)
{
    void (*d)(struct vns_skb *) = skb->destructor;

    if (d) {
        skb->destructor = NULL;
        d(skb);
        skb->sk = NULL;
    }
}

struct vns_ctx *vns__skb_free_ctx(const struct vns_skb *skb)
{
    return vns_sim_running_ctx(vns_kernel_sim(skb->k));
}

void vns_consume_skb(struct vns_skb *skb)
{
    if (!skb)
        return;
    skb->k->stats.consumed++;
    if (skb->book)
        vns__book_fate(skb, -1);
    if (skb->fbook)
        vns__flow_end(skb, VNS_FLOW_CONSUMED, -1);
    if (--skb->users == 0)
        skb_release(skb);
}

void vns_kfree_skb_list_reason(struct vns_skb *segs, enum vns_skb_drop_reason reason)
{
    while (segs) {
        struct vns_skb *n = segs->next;

        segs->next = NULL;
        vns_kfree_skb_reason(segs, reason);
        segs = n;
    }
}

/* Copy metadata and linear bytes of @src into a fresh skb of @k. */
static struct vns_skb *skb_copy_one(const struct vns_skb *src)
{
    uint32_t used = (uint32_t)(src->tail - src->head);
    struct vns_skb *n = vns_alloc_skb(src->k, used > VNS_SKB_SMALL_BUF ? used : VNS_SKB_SMALL_BUF);
    uint8_t *head, *end;
    unsigned cls;

    if (!n)
        return NULL;
    head = n->head;
    end = n->end;
    cls = n->buf_class;
    memcpy(n, src, sizeof(*n));
    n->head = head;
    n->end = end;
    n->buf_class = (uint8_t)cls;
    n->data = head + (src->data - src->head);
    n->tail = head + used;
    memcpy(head, src->head, used);
    n->users = 1;
    n->next = n->prev = NULL;
    n->frag_list = NULL;
    n->destructor = NULL; /* __skb_clone: the owner's charge is not copied */
    vns__book_created(src->book, n);
    if (n->fbook)
        vns__flow_copied(n);
    return n;
}

struct vns_skb *vns_skb_clone(const struct vns_skb *skb)
{
    struct vns_skb *n = skb_copy_one(skb), **pp;

    if (!n)
        return NULL;
    n->cloned = 1;
    pp = &n->frag_list;
    for (const struct vns_skb *f = skb->frag_list; f; f = f->next) {
        struct vns_skb *c = skb_copy_one(f);

        if (!c) {
            /* Undo: release the partial copy without counting a drop. */
            n->users = 1;
            n->k->stats.merged++;   /* ledger: an undone copy */
            vns__book_merged(n);
            vns__flow_uncopied(n);
            skb_release(n);
            return NULL;
        }
        *pp = c;
        pp = &c->next;
    }
    return n;
}

struct vns_skb *vns_skb_share_check(struct vns_skb *skb)
{
    struct vns_skb *n;

    if (skb->users == 1)
        return skb;
    n = vns_skb_clone(skb);
    if (!n) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOMEM);
        return NULL;
    }
    vns_consume_skb(skb);
    return n;
}

/* --- linear area ------------------------------------------------------------------ */

void vns_skb_reserve(struct vns_skb *skb, uint32_t len)
{
    skb->data += len;
    skb->tail += len;
}

uint8_t *vns_skb_put(struct vns_skb *skb, uint32_t len)
{
    uint8_t *t = skb->tail;

    skb->tail += len;
    skb->len += len;
    return t;
}

uint8_t *vns_skb_put_data(struct vns_skb *skb, const void *src, uint32_t len)
{
    uint8_t *t = vns_skb_put(skb, len);

    memcpy(t, src, len);
    return t;
}

uint8_t *vns_skb_push(struct vns_skb *skb, uint32_t len)
{
    skb->data -= len;
    skb->len += len;
    return skb->data;
}

uint8_t *vns_skb_pull(struct vns_skb *skb, uint32_t len)
{
    if (len > vns_skb_headlen(skb))
        return NULL;
    skb->len -= len;
    skb->data += len;
    return skb->data;
}

int vns_skb_trim(struct vns_skb *skb, uint32_t len)
{
    uint32_t hl = vns_skb_headlen(skb);
    struct vns_skb **pp, *f;
    uint32_t at;

    if (len >= skb->len)
        return 0;
    if (len <= hl) {
        skb->tail = skb->data + len;
        skb->syn_len = 0;
        skb->syn_linear = 0;
        skb_free_list_silent(skb->frag_list);
        skb->frag_list = NULL;
        skb->data_len = 0;
        skb->len = len;
        return 0;
    }
    if (len <= hl + skb->syn_len) {
        skb->syn_len = len - hl;
        skb_free_list_silent(skb->frag_list);
        skb->frag_list = NULL;
        skb->data_len = skb->syn_len;
        skb->len = len;
        return 0;
    }
    at = hl + skb->syn_len;
    for (pp = &skb->frag_list; (f = *pp) != NULL; pp = &f->next) {
        if (at + f->len >= len) {
            vns_skb_trim(f, len - at);
            skb_free_list_silent(f->next);
            f->next = NULL;
            break;
        }
        at += f->len;
    }
    skb->len = len;
    skb->data_len = len - hl;
    return 0;
}

/* --- payload ----------------------------------------------------------------------- */

static void payload_fill(uint64_t flow, uint64_t off, uint8_t *to, uint32_t n)
{
    vns_payload_fill(flow, off, to, n);
}

int vns_skb_add_synthetic(struct vns_skb *skb, uint64_t flow, uint64_t off, uint32_t len)
{
    if (skb->frag_list)
        return -VNS_EINVAL;
    if (skb->syn_len && (flow != skb->pay_flow || (uint32_t)off != (uint32_t)(skb->pay_off + skb->syn_len)))
        return -VNS_EINVAL;
    if (!skb->syn_len) {
        skb->pay_flow = flow;
        skb->pay_off = off;
    }
    skb->syn_len += len;
    skb->data_len += len;
    skb->len += len;
    skb->truesize += len;
    return 0;
}

unsigned vns_skb_nr_frags(const struct vns_skb *skb)
{
    if (!skb->syn_len || skb->syn_linear) /* linear in the kernel: no frag */
        return 0;
    return (unsigned)((skb->syn_len + VNS_PAGE_SIZE - 1) / VNS_PAGE_SIZE);
}

int vns_skb_copy_bits(const struct vns_skb *skb, uint32_t off, void *to, uint32_t len)
{
    uint8_t *d = to;
    uint32_t hl = vns_skb_headlen(skb), n;

    if ((uint64_t)off + len > skb->len)
        return -VNS_EFAULT;
    if (off < hl) {
        n = VNS_MIN(len, hl - off);
        memcpy(d, skb->data + off, n);
        d += n;
        off += n;
        len -= n;
    }
    if (!len)
        return 0;
    off -= hl;
    if (off < skb->syn_len) {
        n = VNS_MIN(len, skb->syn_len - off);
        payload_fill(skb->pay_flow, skb->pay_off + off, d, n);
        d += n;
        off += n;
        len -= n;
    }
    off -= skb->syn_len;
    for (const struct vns_skb *f = skb->frag_list; f && len; f = f->next) {
        if (off < f->len) {
            n = VNS_MIN(len, f->len - off);
            vns_skb_copy_bits(f, off, d, n);
            d += n;
            len -= n;
            off = 0;
        } else {
            off -= f->len;
        }
    }
    return len ? -VNS_EFAULT : 0;
}

int vns_skb_linearize(struct vns_skb *skb)
{
    uint32_t headroom = vns_skb_headroom(skb), need = headroom + skb->len;
    struct vns_kernel *k = skb->k;
    unsigned cls = need > VNS_SKB_SMALL_BUF;
    uint8_t *buf;

    if (!skb->data_len)
        return 0;
    if (need > VNS_SKB_LARGE_BUF)
        return -VNS_ENOMEM;
    buf = vns__pool_get(buf_pool(k, cls), &k->stats.pool_grows);
    if (!buf)
        return -VNS_ENOMEM;
    memcpy(buf, skb->head, headroom);
    vns_skb_copy_bits(skb, 0, buf + headroom, skb->len);
    skb_free_list_silent(skb->frag_list);
    skb->frag_list = NULL;
    vns__pool_put(buf_pool(k, skb->buf_class), skb->head);
    skb->buf_class = (uint8_t)cls;
    skb->head = buf;
    skb->data = buf + headroom;
    skb->tail = skb->data + skb->len;
    skb->end = buf + buf_size(cls);
    skb->syn_len = 0;
    skb->syn_linear = 0;
    skb->data_len = 0;
    return 0;
}

/* --- checksums ---------------------------------------------------------------------- */

uint32_t vns_csum_partial(const void *buf, size_t len, uint32_t sum)
{
    const uint8_t *p = buf;
    uint64_t s = sum;
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

uint16_t vns_csum_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t vns_csum_tcpudp_nofold(const uint8_t *saddr, const uint8_t *daddr, uint32_t len,
                                uint8_t proto, uint32_t sum)
{
    uint8_t ph[12];

    memcpy(ph, saddr, 4);
    memcpy(ph + 4, daddr, 4);
    ph[8] = 0;
    ph[9] = proto;
    ph[10] = (uint8_t)(len >> 8);
    ph[11] = (uint8_t)len;
    return vns_csum_partial(ph, sizeof(ph), sum);
}

uint16_t vns_ip_fast_csum(const uint8_t *iph, unsigned ihl)
{
    return vns_csum_fold(vns_csum_partial(iph, ihl * 4u, 0));
}

uint32_t vns_skb_checksum(const struct vns_skb *skb, uint32_t off, uint32_t len, uint32_t sum)
{
    uint8_t buf[512];
    bool odd = false;
    uint64_t s = sum;

    /* Chunks keep byte parity: an odd-length chunk shifts the next one. */
    while (len) {
        uint32_t n = VNS_MIN(len, (uint32_t)sizeof(buf));
        uint32_t c;

        if (vns_skb_copy_bits(skb, off, buf, n) < 0)
            break;
        c = vns_csum_partial(buf, n, 0);
        if (odd) {
            /* RFC 1071: a sum over bytes at odd alignment is byte-swapped. */
            c = (c & 0xffff) + (c >> 16);
            c = (c & 0xffff) + (c >> 16);
            c = ((c & 0xff) << 8) | (c >> 8);
        }
        s += c;
        odd ^= (n & 1);
        off += n;
        len -= n;
    }
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

int vns_skb_checksum_help(struct vns_skb *skb)
{
    uint32_t start, off, sum;
    uint16_t folded;
    uint8_t *p;

    if (skb->ip_summed != VNS_CHECKSUM_PARTIAL)
        return 0;
    start = skb->csum_start - (uint32_t)(skb->data - skb->head);
    off = start + skb->csum_offset;
    if (start > skb->len || off + 2 > vns_skb_headlen(skb))
        return -VNS_EINVAL;
    /* The field holds the pseudo-header sum (as TCP/UDP output leave it). */
    sum = vns_skb_checksum(skb, start, skb->len - start, 0);
    folded = vns_csum_fold(sum);
    if (folded == 0 && skb->csum_offset == 6)   /* UDP: 0 means "no checksum" */
        folded = 0xffff;
    p = skb->data + off;
    p[0] = (uint8_t)(folded >> 8);
    p[1] = (uint8_t)folded;
    skb->ip_summed = VNS_CHECKSUM_NONE;
    return 0;
}

/* --- queues ----------------------------------------------------------------------------- */

void vns_skb_queue_tail(struct vns_skb_head *q, struct vns_skb *skb)
{
    skb->next = NULL;
    skb->prev = q->tail;
    if (q->tail)
        q->tail->next = skb;
    else
        q->head = skb;
    q->tail = skb;
    q->qlen++;
}

void vns_skb_queue_head(struct vns_skb_head *q, struct vns_skb *skb)
{
    skb->prev = NULL;
    skb->next = q->head;
    if (q->head)
        q->head->prev = skb;
    else
        q->tail = skb;
    q->head = skb;
    q->qlen++;
}

struct vns_skb *vns_skb_dequeue(struct vns_skb_head *q)
{
    struct vns_skb *skb = q->head;

    if (!skb)
        return NULL;
    q->head = skb->next;
    if (q->head)
        q->head->prev = NULL;
    else
        q->tail = NULL;
    q->qlen--;
    skb->next = skb->prev = NULL;
    return skb;
}

void vns_skb_queue_splice_tail_init(struct vns_skb_head *from, struct vns_skb_head *to)
{
    if (!from->head)
        return;
    if (to->tail) {
        to->tail->next = from->head;
        from->head->prev = to->tail;
    } else {
        to->head = from->head;
    }
    to->tail = from->tail;
    to->qlen += from->qlen;
    vns_skb_queue_head_init(from);
}

void vns_skb_queue_purge_reason(struct vns_skb_head *q, enum vns_skb_drop_reason reason)
{
    struct vns_skb *skb;

    while ((skb = vns_skb_dequeue(q)) != NULL)
        vns_kfree_skb_reason(skb, reason);
}
