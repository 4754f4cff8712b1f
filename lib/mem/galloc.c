/* vnetsim -- guest-side allocator for ring areas and packet buffers.
 *
 * Models the guest kernel's page/slab allocator just enough for the guest
 * driver to place its rings (vring_alloc_queue) and buffers: a first-fit
 * allocator over the sorted free extents of one GPA range, coalescing on
 * free. LINUX: mm/page_alloc.c and slab are not modelled; the guest never
 * runs out of struct pages, only of the range it was given. Bookkeeping
 * lives in host memory, the memory itself is guest RAM (vns_gmem). */
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/error.h"
#include "vnetsim/gmem.h"

struct galloc_ext {
    uint64_t start;
    uint64_t size;
};

struct vns_galloc {
    uint64_t base;
    uint64_t size;
    uint64_t avail;            /* free bytes */
    unsigned n;                /* free extents, sorted, non-adjacent */
    unsigned cap;
    struct galloc_ext *ext;
};

int vns_galloc_create(uint64_t base, uint64_t size, struct vns_galloc **out)
{
    struct vns_galloc *a;

    if (size == 0 || base + size - 1 < base)
        return -VNS_EINVAL;
    a = vns_calloc(1, sizeof(*a));
    if (a == NULL)
        return -VNS_ENOMEM;
    a->cap = 8;
    a->ext = vns_calloc(a->cap, sizeof(*a->ext));
    if (a->ext == NULL) {
        vns_free(a);
        return -VNS_ENOMEM;
    }
    a->base = base;
    a->size = size;
    a->avail = size;
    a->ext[0].start = base;
    a->ext[0].size = size;
    a->n = 1;
    *out = a;
    return 0;
}

void vns_galloc_destroy(struct vns_galloc *a)
{
    if (a == NULL)
        return;
    vns_free(a->ext);
    vns_free(a);
}

uint64_t vns_galloc_avail(const struct vns_galloc *a)
{
    return a->avail;
}

static int galloc_reserve(struct vns_galloc *a, unsigned more)
{
    struct galloc_ext *e;
    unsigned cap;

    if (a->n + more <= a->cap)
        return 0;
    cap = a->cap * 2;
    e = vns_realloc(a->ext, (size_t)cap * sizeof(*e));
    if (e == NULL)
        return -VNS_ENOMEM;
    a->ext = e;
    a->cap = cap;
    return 0;
}

int vns_galloc_alloc(struct vns_galloc *a, uint64_t size, uint64_t align, uint64_t *gpa)
{
    if (align == 0)
        align = 1;
    if (size == 0 || (align & (align - 1)))
        return -VNS_EINVAL;
    for (unsigned i = 0; i < a->n; i++) {
        struct galloc_ext *e = &a->ext[i];
        uint64_t start = (e->start + align - 1) & ~(align - 1);
        uint64_t pad = start - e->start;

        if (start < e->start || pad >= e->size || e->size - pad < size)
            continue;
        if (pad > 0 && e->size - pad > size) {
            /* splits into [pad] + [alloc] + [tail]: one more extent */
            if (galloc_reserve(a, 1) != 0)
                return -VNS_ENOMEM;
            e = &a->ext[i];
            memmove(&a->ext[i + 2], &a->ext[i + 1], (a->n - i - 1) * sizeof(*e));
            a->ext[i + 1].start = start + size;
            a->ext[i + 1].size = e->size - pad - size;
            e->size = pad;
            a->n++;
        } else if (pad > 0) {
            e->size = pad;
        } else if (e->size > size) {
            e->start += size;
            e->size -= size;
        } else {
            memmove(&a->ext[i], &a->ext[i + 1], (a->n - i - 1) * sizeof(*e));
            a->n--;
        }
        a->avail -= size;
        *gpa = start;
        return 0;
    }
    return -VNS_ENOMEM;
}

int vns_galloc_free(struct vns_galloc *a, uint64_t gpa, uint64_t size)
{
    unsigned i;
    bool join_prev, join_next;

    if (size == 0 || gpa < a->base || gpa + size < gpa ||
        gpa + size > a->base + a->size)
        return -VNS_EINVAL;
    for (i = 0; i < a->n && a->ext[i].start < gpa; i++)
        ;
    /* i is the first extent at or after gpa: neither neighbour may overlap */
    if (i > 0 && a->ext[i - 1].start + a->ext[i - 1].size > gpa)
        return -VNS_EINVAL;
    if (i < a->n && a->ext[i].start < gpa + size)
        return -VNS_EINVAL;
    join_prev = i > 0 && a->ext[i - 1].start + a->ext[i - 1].size == gpa;
    join_next = i < a->n && a->ext[i].start == gpa + size;
    if (join_prev && join_next) {
        a->ext[i - 1].size += size + a->ext[i].size;
        memmove(&a->ext[i], &a->ext[i + 1], (a->n - i - 1) * sizeof(a->ext[0]));
        a->n--;
    } else if (join_prev) {
        a->ext[i - 1].size += size;
    } else if (join_next) {
        a->ext[i].start = gpa;
        a->ext[i].size += size;
    } else {
        if (galloc_reserve(a, 1) != 0)
            return -VNS_ENOMEM;
        memmove(&a->ext[i + 1], &a->ext[i], (a->n - i) * sizeof(a->ext[0]));
        a->ext[i].start = gpa;
        a->ext[i].size = size;
        a->n++;
    }
    a->avail += size;
    return 0;
}
