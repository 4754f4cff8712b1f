/* vnetsim -- fixed-size guest buffer pool (packet buffers).
 *
 * Models the guest driver's buffer supply (virtio_net's page frags, the
 * fixed-size rx buffers of small/big modes) as a LIFO stack of equal
 * buffers carved from one guest allocation, so the hot path never
 * allocates. A bitmap catches puts of foreign or already-free buffers. */
#include "vnetsim/alloc.h"
#include "vnetsim/error.h"
#include "vnetsim/gmem.h"

struct vns_gbuf_pool {
    struct vns_galloc *alloc;
    uint64_t base;       /* first buffer */
    uint64_t stride;     /* bytes between buffers (buf_size rounded to align) */
    uint64_t extent;     /* bytes taken from the allocator */
    uint32_t buf_size;
    uint32_t count;
    uint32_t nfree;
    uint32_t *free;      /* stack of free buffer indices */
    uint8_t *in_use;     /* one byte per buffer */
};

int vns_gbuf_pool_create(struct vns_galloc *a, uint32_t buf_size, uint32_t count,
                         uint32_t align, struct vns_gbuf_pool **out)
{
    struct vns_gbuf_pool *p;
    int err;

    if (align == 0)
        align = 1;
    if (buf_size == 0 || count == 0 || (align & (align - 1)))
        return -VNS_EINVAL;
    p = vns_calloc(1, sizeof(*p));
    if (p == NULL)
        return -VNS_ENOMEM;
    p->stride = ((uint64_t)buf_size + align - 1) & ~((uint64_t)align - 1);
    p->extent = p->stride * count;
    p->free = vns_calloc(count, sizeof(*p->free));
    p->in_use = vns_calloc(count, 1);
    if (p->free == NULL || p->in_use == NULL) {
        err = -VNS_ENOMEM;
        goto err_free;
    }
    err = vns_galloc_alloc(a, p->extent, align, &p->base);
    if (err)
        goto err_free;
    p->alloc = a;
    p->buf_size = buf_size;
    p->count = count;
    for (uint32_t i = 0; i < count; i++)
        p->free[i] = count - 1 - i;    /* buffer 0 is handed out first */
    p->nfree = count;
    *out = p;
    return 0;

err_free:
    vns_free(p->in_use);
    vns_free(p->free);
    vns_free(p);
    return err;
}

void vns_gbuf_pool_destroy(struct vns_gbuf_pool *p)
{
    if (p == NULL)
        return;
    (void)vns_galloc_free(p->alloc, p->base, p->extent);
    vns_free(p->in_use);
    vns_free(p->free);
    vns_free(p);
}

int vns_gbuf_pool_get(struct vns_gbuf_pool *p, uint64_t *gpa)
{
    uint32_t i;

    if (p->nfree == 0)
        return -VNS_ENOBUFS;
    i = p->free[--p->nfree];
    p->in_use[i] = 1;
    *gpa = p->base + (uint64_t)i * p->stride;
    return 0;
}

int vns_gbuf_pool_put(struct vns_gbuf_pool *p, uint64_t gpa)
{
    uint64_t off = gpa - p->base;
    uint32_t i;

    if (gpa < p->base || off >= p->extent || off % p->stride)
        return -VNS_EINVAL;
    i = (uint32_t)(off / p->stride);
    if (!p->in_use[i])
        return -VNS_EINVAL;
    p->in_use[i] = 0;
    p->free[p->nfree++] = i;
    return 0;
}

uint32_t vns_gbuf_pool_free_count(const struct vns_gbuf_pool *p)
{
    return p->nfree;
}

uint32_t vns_gbuf_pool_buf_size(const struct vns_gbuf_pool *p)
{
    return p->buf_size;
}
