/* lib/net/backend_sock.c -- iov_iter over guest memory, ptr_ring and the
 * socket wait queue shared by vhost-net and its backends (tun, tap).
 * LINUX: lib/iov_iter.c (copy_to_iter, copy_from_iter, iov_iter_advance),
 * include/linux/ptr_ring.h (linux-5.4), net/core/sock.c (sock_def_readable
 * -> wake_up_interruptible_sync_poll).
 *
 * Simplified: the copies are memcpy through lib/mem's bounds-checked
 * accessors, charged per byte as copy_{from,to}_iter; a fault inside the
 * guest (an iov the memory table translated, so never expected) ends the
 * copy short, as copy_*_iter returns short on a fault. */
#include "vnetsim/alloc.h"
#include "vnetsim/backend_sock.h"
#include "vnetsim/cpu.h"
#include "vnetsim/error.h"
#include "vnetsim/func.h"
#include "vnetsim/skb.h"

/* --- iov_iter ---------------------------------------------------------------- */

size_t vns_iov_length(const struct vns_iov *iov, unsigned nr)
{
    size_t n = 0;

    for (unsigned i = 0; i < nr; i++)
        n += (size_t)iov[i].len;
    return n;
}

void vns_iov_iter_init(struct vns_iov_iter *it, struct vns_gmem *mem, const struct vns_iov *iov,
                       unsigned nr, size_t count)
{
    size_t total = vns_iov_length(iov, nr);

    it->syn = NULL;
    it->mem = mem;
    it->iov = iov;
    it->nr_segs = nr;
    it->seg = 0;
    it->seg_off = 0;
    it->count = count < total ? count : total;
    while (it->seg < it->nr_segs && it->iov[it->seg].len == 0)
        it->seg++;
}

void vns_iov_iter_advance(struct vns_iov_iter *it, size_t n)
{
    if (n > it->count)
        n = it->count;
    it->count -= n;
    while (n && it->seg < it->nr_segs) {
        uint64_t left = it->iov[it->seg].len - it->seg_off;

        if (n < left) {
            it->seg_off += n;
            return;
        }
        n -= (size_t)left;
        it->seg++;
        it->seg_off = 0;
    }
    while (it->seg < it->nr_segs && it->iov[it->seg].len - it->seg_off == 0) {
        it->seg++;
        it->seg_off = 0;
    }
}

/* --- synthetic records ------------------------------------------------------------ */

#define VNS_SYNMAP_MAX_SLOTS (1u << 22)

struct vns_synmap {
    struct vns_synrec *slot;       /* open addressing; syn_len 0 = empty */
    uint32_t mask;
    unsigned count;
};

static uint32_t synmap_hash(uint64_t gpa)
{
    gpa ^= gpa >> 29;
    gpa *= 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(gpa >> 32);
}

int vns_synmap_create(unsigned capacity, struct vns_synmap **out)
{
    struct vns_synmap *m = vns_calloc(1, sizeof(*m));
    uint32_t n = 16;

    if (!m)
        return -VNS_ENOMEM;
    while (n < 2u * capacity && n < VNS_SYNMAP_MAX_SLOTS)
        n <<= 1;
    m->slot = vns_calloc(n, sizeof(*m->slot));
    if (!m->slot) {
        vns_free(m);
        return -VNS_ENOMEM;
    }
    m->mask = n - 1;
    *out = m;
    return 0;
}

void vns_synmap_destroy(struct vns_synmap *m)
{
    if (!m)
        return;
    vns_free(m->slot);
    vns_free(m);
}

static struct vns_synrec *synmap_find(const struct vns_synmap *m, uint64_t gpa)
{
    for (uint32_t i = synmap_hash(gpa) & m->mask;; i = (i + 1) & m->mask) {
        struct vns_synrec *r = &m->slot[i];

        if (!r->syn_len || r->gpa == gpa)
            return r;
    }
}

/* Double the table (rehashing every record). A guest's records are bounded
 * by the buffers it has posted, so the table stops growing at the ring
 * sizes' worth; starting small keeps 1,000 idle guests cheap. */
static int synmap_grow(struct vns_synmap *m)
{
    uint32_t n = (m->mask + 1) * 2;
    struct vns_synrec *old = m->slot;
    uint32_t oldn = m->mask + 1;

    if (n > VNS_SYNMAP_MAX_SLOTS || !(m->slot = vns_calloc(n, sizeof(*m->slot)))) {
        m->slot = old;
        return -VNS_ENOSPC;
    }
    m->mask = n - 1;
    for (uint32_t i = 0; i < oldn; i++)
        if (old[i].syn_len)
            *synmap_find(m, old[i].gpa) = old[i];
    vns_free(old);
    return 0;
}

int vns_synmap_set(struct vns_synmap *m, uint64_t gpa, uint32_t real_len, uint32_t syn_len, uint64_t flow,
                   uint64_t off)
{
    struct vns_synrec *r;

    if (!syn_len) {
        vns_synmap_clear(m, gpa);
        return 0;
    }
    r = synmap_find(m, gpa);
    if (!r->syn_len) {
        if (m->count + 1 > (m->mask + 1) / 2) {  /* keep probes short */
            if (synmap_grow(m))
                return -VNS_ENOSPC;
            r = synmap_find(m, gpa);
        }
        m->count++;
    }
    *r = (struct vns_synrec){gpa, real_len, syn_len, flow, off};
    return 0;
}

void vns_synmap_clear(struct vns_synmap *m, uint64_t gpa)
{
    struct vns_synrec *r = synmap_find(m, gpa);
    uint32_t i, j;

    if (!r->syn_len)
        return;
    /* backward-shift deletion */
    i = (uint32_t)(r - m->slot);
    m->slot[i].syn_len = 0;
    m->count--;
    for (j = (i + 1) & m->mask; m->slot[j].syn_len; j = (j + 1) & m->mask) {
        uint32_t h = synmap_hash(m->slot[j].gpa) & m->mask;

        /* move j back to i if its home is not in (i, j] */
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            m->slot[i] = m->slot[j];
            m->slot[j].syn_len = 0;
            i = j;
        }
    }
}

const struct vns_synrec *vns_synmap_get(const struct vns_synmap *m, uint64_t gpa)
{
    const struct vns_synrec *r;

    if (!m)
        return NULL;
    r = synmap_find(m, gpa);
    return r->syn_len ? r : NULL;
}

unsigned vns_synmap_count(const struct vns_synmap *m) { return m ? m->count : 0; }

/* The record of the iterator's current segment, if it fits the segment. */
static const struct vns_synrec *iter_rec(const struct vns_iov_iter *it, unsigned seg)
{
    const struct vns_synrec *r;

    if (!it->syn || seg >= it->nr_segs)
        return NULL;
    r = vns_synmap_get(it->syn, it->iov[seg].addr);
    if (r && (uint64_t)r->real_len + r->syn_len > it->iov[seg].len)
        return NULL;
    return r;
}

static void payload_gen(uint64_t flow, uint64_t off, uint8_t *d, size_t n)
{
    vns_payload_fill(flow, off, d, n);
}

/* Walk up to @n bytes of the iterator, copying in the direction @to_guest.
 * Reading a recorded segment generates its synthetic bytes; a write at a
 * segment's first byte drops its record. */
static size_t iov_iter_copy(struct vns_iov_iter *it, void *host, size_t n, bool to_guest)
{
    uint8_t *p = host;
    size_t done = 0;

    if (n > it->count)
        n = it->count;
    while (done < n && it->seg < it->nr_segs) {
        const struct vns_iov *v = &it->iov[it->seg];
        uint64_t left = v->len - it->seg_off;
        size_t chunk = (size_t)(left < n - done ? left : n - done);
        const struct vns_synrec *r = iter_rec(it, it->seg);
        int err;

        if (to_guest) {
            if (it->syn && it->seg_off == 0)
                vns_synmap_clear(it->syn, v->addr);
            err = vns_gmem_copy_in(it->mem, v->addr + it->seg_off, p + done, chunk);
        } else if (r && it->seg_off + chunk > r->real_len && it->seg_off < (uint64_t)r->real_len + r->syn_len) {
            /* real head, synthetic middle, stored tail */
            uint64_t o = it->seg_off, end = o + chunk, s0 = r->real_len, s1 = s0 + r->syn_len;
            uint64_t a = o < s0 ? s0 : o, b = end < s1 ? end : s1;

            err = 0;
            if (o < s0)
                err = vns_gmem_copy_out(it->mem, v->addr + o, p + done, (size_t)(s0 - o));
            payload_gen(r->flow, r->off + (a - s0), p + done + (a - o), (size_t)(b - a));
            if (!err && end > s1)
                err = vns_gmem_copy_out(it->mem, v->addr + s1, p + done + (s1 - o), (size_t)(end - s1));
        } else {
            err = vns_gmem_copy_out(it->mem, v->addr + it->seg_off, p + done, chunk);
        }
        if (err)
            break;
        done += chunk;
        vns_iov_iter_advance(it, chunk);
    }
    return done;
}

size_t vns_iov_iter_real_len(const struct vns_iov_iter *it, size_t n)
{
    size_t real = 0;
    uint64_t off = it->seg_off;

    if (n > it->count)
        n = it->count;
    for (unsigned seg = it->seg; seg < it->nr_segs && real < n; seg++, off = 0) {
        const struct vns_synrec *r = iter_rec(it, seg);
        uint64_t left = it->iov[seg].len - off;

        if (r && off < (uint64_t)r->real_len + r->syn_len) {
            if (off < r->real_len)
                real += (size_t)(r->real_len - off);
            return real < n ? real : n;
        }
        real += (size_t)left;
    }
    return real < n ? real : n;
}

int vns_iov_iter_to_skb(struct vns_ctx *ctx, struct vns_iov_iter *it, struct vns_skb *skb, size_t n)
{
    size_t done = 0;

    if (n > it->count)
        return -VNS_EFAULT;
    while (done < n) {
        const struct vns_synrec *r = iter_rec(it, it->seg);
        uint64_t o = it->seg_off;

        if (it->seg >= it->nr_segs)
            return -VNS_EFAULT;
        if (r && o >= r->real_len && o < (uint64_t)r->real_len + r->syn_len) {
            size_t c = (size_t)((uint64_t)r->real_len + r->syn_len - o);

            if (c > n - done)
                c = n - done;
            if (vns_skb_add_synthetic(skb, r->flow, r->off + (o - r->real_len), (uint32_t)c) < 0)
                return -VNS_EINVAL;
            vns_iov_iter_advance(it, c);
            done += c;
        } else {
            size_t c = it->iov[it->seg].len - o;

            if (r && o < r->real_len)
                c = (size_t)(r->real_len - o);
            if (c > n - done)
                c = n - done;
            if (skb->syn_len || vns_skb_tailroom(skb) < c)
                return -VNS_EINVAL;
            if (iov_iter_copy(it, vns_skb_put(skb, (uint32_t)c), c, false) != c)
                return -VNS_EFAULT;
            done += c;
        }
    }
    vns_charge(ctx, VNS_FN_copy_from_iter, n);
    return 0;
}

size_t vns_copy_from_iter(struct vns_ctx *ctx, struct vns_iov_iter *it, void *dst, size_t n)
{
    size_t done = iov_iter_copy(it, dst, n, false);

    vns_charge(ctx, VNS_FN_copy_from_iter, done);
    return done;
}

size_t vns_copy_to_iter(struct vns_ctx *ctx, struct vns_iov_iter *it, const void *src, size_t n)
{
    size_t done = iov_iter_copy(it, (void *)(uintptr_t)src, n, true);

    vns_charge(ctx, VNS_FN_copy_to_iter, done);
    return done;
}

int vns_skb_copy_datagram_iter(struct vns_ctx *ctx, const struct vns_skb *skb, uint32_t off,
                               struct vns_iov_iter *it, uint32_t len)
{
    uint8_t buf[2048];
    uint32_t done = 0, hl = vns_skb_headlen(skb);

    while (done < len) {
        uint32_t pos = off + done, chunk;

        if (it->syn && pos >= hl && pos < hl + skb->syn_len && it->seg < it->nr_segs) {
            /* record the synthetic bytes for this segment instead */
            const struct vns_iov *v = &it->iov[it->seg];
            uint64_t so = it->seg_off;
            uint32_t c = hl + skb->syn_len - pos;

            if (c > len - done)
                c = len - done;
            if ((uint64_t)c > v->len - so)
                c = (uint32_t)(v->len - so);
            if (so <= UINT32_MAX &&
                vns_synmap_set(it->syn, v->addr, (uint32_t)so, c, skb->pay_flow, skb->pay_off + (pos - hl)) == 0) {
                vns_iov_iter_advance(it, c);
                done += c;
                continue;
            }
            /* map full: write the bytes */
        }
        chunk = len - done < sizeof(buf) ? len - done : (uint32_t)sizeof(buf);
        if (pos < hl && chunk > hl - pos)
            chunk = hl - pos;                   /* stop at the synthetic range */
        if (vns_skb_copy_bits(skb, pos, buf, chunk) < 0)
            return -VNS_EFAULT;
        if (iov_iter_copy(it, buf, chunk, true) != chunk)
            return -VNS_EFAULT;
        done += chunk;
    }
    vns_charge(ctx, VNS_FN_copy_to_iter, len);
    return 0;
}

/* --- ptr_ring ------------------------------------------------------------------ */

#define PTR_RING_BATCH 16   /* SMP_CACHE_BYTES * 2 / sizeof(void *) on x86_64 */

int vns_ptr_ring_init(struct vns_ptr_ring *r, int size)
{
    *r = (struct vns_ptr_ring){0};
    if (size < 0)
        return -VNS_EINVAL;
    if (size) {
        r->queue = vns_calloc((size_t)size, sizeof(void *));
        if (!r->queue)
            return -VNS_ENOMEM;
    }
    r->size = size;
    r->batch = PTR_RING_BATCH;
    /* __ptr_ring_set_size: "We need to set batch at least to 1 to make
     * logic in __ptr_ring_discard_one work correctly." */
    if (r->batch > r->size / 2 || !r->batch)
        r->batch = 1;
    return 0;
}

void vns_ptr_ring_cleanup(struct vns_ptr_ring *r, void (*destroy)(void *))
{
    void *ptr;

    if (destroy)
        while ((ptr = vns_ptr_ring_consume(r)) != NULL)
            destroy(ptr);
    vns_free(r->queue);
    r->queue = NULL;
    r->size = 0;
}

int vns_ptr_ring_produce(struct vns_ptr_ring *r, void *ptr)
{
    if (!r->size || r->queue[r->producer]) {
        r->full++;
        return -VNS_ENOSPC;
    }
    /* smp_wmb: the object before the pointer (no-op here) */
    r->queue[r->producer++] = ptr;
    if (r->producer >= r->size)
        r->producer = 0;
    r->produced++;
    return 0;
}

void *vns_ptr_ring_peek(const struct vns_ptr_ring *r)
{
    return r->size ? r->queue[r->consumer_head] : NULL;
}

bool vns_ptr_ring_empty(const struct vns_ptr_ring *r)
{
    return !vns_ptr_ring_peek(r);
}

/* __ptr_ring_discard_one: slots are zeroed a batch at a time, in reverse,
 * so the producer does not see room slot by slot. */
static void ptr_ring_discard_one(struct vns_ptr_ring *r)
{
    int consumer_head = r->consumer_head;
    int head = consumer_head++;

    if (consumer_head - r->consumer_tail >= r->batch || consumer_head >= r->size) {
        while (head >= r->consumer_tail)
            r->queue[head--] = NULL;
        r->consumer_tail = consumer_head;
    }
    if (consumer_head >= r->size) {
        consumer_head = 0;
        r->consumer_tail = 0;
    }
    r->consumer_head = consumer_head;
}

void *vns_ptr_ring_consume(struct vns_ptr_ring *r)
{
    void *ptr = vns_ptr_ring_peek(r);

    if (ptr)
        ptr_ring_discard_one(r);
    return ptr;
}

int vns_ptr_ring_consume_batched(struct vns_ptr_ring *r, void **array, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        void *ptr = vns_ptr_ring_consume(r);

        if (!ptr)
            break;
        array[i] = ptr;
    }
    return i;
}

void vns_ptr_ring_unconsume(struct vns_ptr_ring *r, void **batch, int n, void (*destroy)(void *))
{
    int head;

    if (!r->size)
        goto done;
    /* Clean out buffered entries (for simplicity). */
    head = r->consumer_head - 1;
    while (head >= r->consumer_tail)
        r->queue[head--] = NULL;
    r->consumer_tail = r->consumer_head;
    /* Move the head back, copying entries, until an unconsumed one. */
    while (n) {
        head = r->consumer_head - 1;
        if (head < 0)
            head = r->size - 1;
        if (r->queue[head])
            goto done;
        r->queue[head] = batch[--n];
        r->consumer_tail = head;
        r->consumer_head = head;
    }
done:
    while (n)
        if (destroy)
            destroy(batch[--n]);
        else
            --n;
}

int vns_ptr_ring_count(const struct vns_ptr_ring *r)
{
    int n = 0;

    for (int i = 0, h = r->consumer_head; i < r->size && r->queue[h]; i++) {
        n++;
        if (++h >= r->size)
            h = 0;
    }
    return n;
}

/* --- wait queue -------------------------------------------------------------------- */

void vns_sock_wait_add(struct vns_socket *sock, struct vns_sock_wait *w)
{
    struct vns_sock_wait **pp = &sock->wait;

    if (w->added)
        return;
    while (*pp)
        pp = &(*pp)->next;
    w->next = NULL;
    *pp = w;
    w->added = true;
}

void vns_sock_wait_del(struct vns_socket *sock, struct vns_sock_wait *w)
{
    for (struct vns_sock_wait **pp = &sock->wait; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            w->next = NULL;
            w->added = false;
            return;
        }
}

void vns_sock_wake(struct vns_socket *sock, unsigned events, struct vns_ctx *waker)
{
    struct vns_sock_wait *w = sock->wait, *next;

    for (; w; w = next) {
        next = w->next;
        if (w->mask & events)
            w->fn(w, events, waker);
    }
}
