/* vnetsim -- private to vnetsim: the memory table's layout, so that the
 * device's hot path (vns__devq_push_desc) can translate a buffer that lies
 * in the last region hit without a call. */
#ifndef VNETSIM_GMEM_INT_H
#define VNETSIM_GMEM_INT_H

#include "vnetsim/error.h"
#include "vnetsim/gmem.h"

struct vns_gmem_table {
    struct vns_gmem *mem;
    unsigned n;
    unsigned last;                       /* last region hit */
    struct vns_gmem_table_region r[];    /* sorted by guest_phys_addr */
};

/* translate_desc() with a fast path: one segment when [addr, addr + len)
 * lies inside the last region hit; otherwise the full walk. Same results
 * as vns_gmem_table_translate(). */
static inline int vns__gmem_table_translate_fast(const struct vns_gmem_table *t, uint64_t addr,
                                                 uint64_t len, struct vns_iov *iov,
                                                 unsigned iov_size)
{
    const struct vns_gmem_table_region *r = &t->r[t->last];
    uint64_t off = addr - r->guest_phys_addr;

    if (VNS_LIKELY(t->n != 0 && len != 0 && iov_size != 0 && off < r->memory_size &&
                   len <= r->memory_size - off)) {
        iov[0].addr = addr;
        iov[0].len = len;
        return 1;
    }
    return vns_gmem_table_translate(t, addr, len, iov, iov_size);
}

#endif
