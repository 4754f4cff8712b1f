/* vnetsim -- the device's view of guest memory: a vhost memory table.
 *
 * Models: drivers/vhost/vhost.c vhost_set_memory() (VHOST_SET_MEM_TABLE
 * validation), translate_desc() (GPA range -> iov segments, one per region
 * crossed, -EFAULT when not covered, -ENOBUFS when the iov array is full)
 * and the access_ok checks done on ring parts (vq_access_ok).
 *
 * LINUX: vhost looks regions up in an interval tree (vhost_iotlb); we scan
 * a sorted array of at most 64 regions with a last-hit cache, which gives
 * the same answers. A region's "userspace address" is not modelled: the
 * table maps a GPA to the same GPA of the guest's vns_gmem, and creation
 * checks the region is guest RAM (where vhost would rely on the HVA being
 * mapped in the owner's mm). No IOTLB, no permissions (-EPERM), no dirty
 * log. */
#include <string.h>

#include "vnetsim/alloc.h"
#include "mem/gmem_int.h"

int vns_gmem_table_create(struct vns_gmem *m, const struct vns_gmem_table_region *r,
                          unsigned n, struct vns_gmem_table **out)
{
    struct vns_gmem_table *t;

    if (n > VNS_GMEM_TABLE_MAX_REGIONS)
        return -VNS_E2BIG;
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = r[i].guest_phys_addr, s = r[i].memory_size;

        if (s == 0 || a + s - 1 < a || !vns_gmem_range_ok(m, a, s))
            return -VNS_EFAULT;
        for (unsigned j = 0; j < i; j++) {
            uint64_t b = r[j].guest_phys_addr, z = r[j].memory_size;

            if (a <= b + (z - 1) && b <= a + (s - 1))
                return -VNS_EINVAL;
        }
    }
    t = vns_malloc(sizeof(*t) + (size_t)n * sizeof(t->r[0]));
    if (t == NULL)
        return -VNS_ENOMEM;
    t->mem = m;
    t->n = 0;
    t->last = 0;
    for (unsigned i = 0; i < n; i++) {     /* insertion sort by address */
        unsigned k = t->n;

        while (k > 0 && t->r[k - 1].guest_phys_addr > r[i].guest_phys_addr) {
            t->r[k] = t->r[k - 1];
            k--;
        }
        t->r[k] = r[i];
        t->n++;
    }
    *out = t;
    return 0;
}

int vns_gmem_table_create_all(struct vns_gmem *m, struct vns_gmem_table **out)
{
    struct vns_gmem_table_region r[VNS_GMEM_MAX_REGIONS];
    unsigned n = vns_gmem_regions(m, r, VNS_GMEM_MAX_REGIONS);

    return vns_gmem_table_create(m, r, n, out);
}

void vns_gmem_table_destroy(struct vns_gmem_table *t)
{
    vns_free(t);
}

struct vns_gmem *vns_gmem_table_mem(const struct vns_gmem_table *t)
{
    return t->mem;
}

/* Region containing @addr, or NULL. */
static const struct vns_gmem_table_region *table_find(const struct vns_gmem_table *t,
                                                      uint64_t addr)
{
    const struct vns_gmem_table_region *r = &t->r[t->last];

    if (t->n && addr - r->guest_phys_addr < r->memory_size)
        return r;
    for (unsigned i = 0; i < t->n; i++) {
        if (addr - t->r[i].guest_phys_addr < t->r[i].memory_size) {
            ((struct vns_gmem_table *)(uintptr_t)t)->last = i;
            return &t->r[i];
        }
    }
    return NULL;
}

bool vns_gmem_table_access_ok(const struct vns_gmem_table *t, uint64_t addr, uint64_t len)
{
    if (len == 0)
        return true;
    if (addr + len - 1 < addr)
        return false;
    while (len > 0) {
        const struct vns_gmem_table_region *r = table_find(t, addr);
        uint64_t room;

        if (r == NULL)
            return false;
        room = r->memory_size - (addr - r->guest_phys_addr);
        if (len <= room)
            return true;
        len -= room;
        addr += room;
    }
    return true;
}

int vns_gmem_table_translate(const struct vns_gmem_table *t, uint64_t addr, uint64_t len,
                             struct vns_iov *iov, unsigned iov_size)
{
    int ret = 0;

    /* LINUX: the interval-tree lookup of [addr, addr + len - 1] finds
     * nothing for a wrapping range; we test the wrap explicitly. */
    if (len > 0 && addr + len - 1 < addr)
        return -VNS_EFAULT;
    while (len > 0) {
        const struct vns_gmem_table_region *r;
        uint64_t room;

        if ((unsigned)ret >= iov_size)
            return -VNS_ENOBUFS;
        r = table_find(t, addr);
        if (r == NULL)
            return -VNS_EFAULT;
        room = r->memory_size - (addr - r->guest_phys_addr);
        iov[ret].addr = addr;
        iov[ret].len = len < room ? len : room;
        addr += iov[ret].len;
        len -= iov[ret].len;
        ret++;
    }
    return ret;
}

size_t vns_gmem_copy_to_iov(struct vns_gmem *m, const struct vns_iov *iov, unsigned niov,
                            const void *src, size_t n)
{
    const uint8_t *s = src;
    size_t done = 0;

    for (unsigned i = 0; i < niov && done < n; i++) {
        size_t c = iov[i].len < n - done ? (size_t)iov[i].len : n - done;

        if (vns_gmem_copy_in(m, iov[i].addr, s + done, c) != 0)
            break;
        done += c;
    }
    return done;
}

size_t vns_gmem_copy_from_iov(const struct vns_gmem *m, const struct vns_iov *iov,
                              unsigned niov, void *dst, size_t n)
{
    uint8_t *d = dst;
    size_t done = 0;

    for (unsigned i = 0; i < niov && done < n; i++) {
        size_t c = iov[i].len < n - done ? (size_t)iov[i].len : n - done;

        if (vns_gmem_copy_out(m, iov[i].addr, d + done, c) != 0)
            break;
        done += c;
    }
    return done;
}
