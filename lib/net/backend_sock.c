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

/* Walk up to @n bytes of the iterator, copying in the direction @to_guest. */
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
        int err;

        if (to_guest)
            err = vns_gmem_copy_in(it->mem, v->addr + it->seg_off, p + done, chunk);
        else
            err = vns_gmem_copy_out(it->mem, v->addr + it->seg_off, p + done, chunk);
        if (err)
            break;
        done += chunk;
        vns_iov_iter_advance(it, chunk);
    }
    return done;
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
    uint32_t done = 0;

    while (done < len) {
        uint32_t chunk = len - done < sizeof(buf) ? len - done : (uint32_t)sizeof(buf);

        if (vns_skb_copy_bits(skb, off + done, buf, chunk) < 0)
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
