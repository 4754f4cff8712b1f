/* vnetsim -- simulated guest physical memory, the device's memory table,
 * and guest-side allocators.
 *
 * Models: the guest RAM that KVM memslots describe (struct vns_gmem), the
 * vhost memory table through which the device reaches it (struct
 * vns_gmem_table, drivers/vhost/vhost.c VHOST_SET_MEM_TABLE +
 * translate_desc), and the guest kernel's page allocator for ring areas and
 * packet buffers (struct vns_galloc, struct vns_gbuf_pool).
 *
 * Guest memory is sparse: it is a set of regions (GPA ranges); a 4 KiB page
 * gets host storage the first time it is written (reading an untouched page
 * yields zeros), so a thousand idle guests fit in a laptop.
 *
 * All guest memory is untrusted bytes, little-endian, reached only through
 * the accessors here: never by casting ring bytes to structs (STYLE 4).
 * Accesses outside every region are refused and counted
 * (vns_gmem_stats()->faults): a test that asserts faults == 0 proves that a
 * component never tried to touch memory the guest does not have.
 *
 * Simplified: no memory hot-unplug, no dirty logging, no IOTLB; the
 * memory table maps GPA to GPA (the "userspace address" of a vhost region
 * is the same guest page, since a single host process owns all of it). */
#ifndef VNETSIM_GMEM_H
#define VNETSIM_GMEM_H

#include <string.h>
#include "vnetsim/common.h"

#define VNS_GMEM_PAGE_SHIFT 12
#define VNS_GMEM_PAGE_SIZE (1u << VNS_GMEM_PAGE_SHIFT)
#define VNS_GMEM_MAX_REGIONS 16u        /* KVM memslots per guest we model */
#define VNS_GMEM_TABLE_MAX_REGIONS 64u  /* vhost max_mem_regions default */

/* --- little-endian helpers on host bytes (portable to big-endian hosts) --
 * On a little-endian host these are single native loads and stores (so a
 * field written by one side and read by the other is one store and one
 * load of the same size, which the CPU forwards); elsewhere byte by byte. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VNS__LE_NATIVE 1
#endif

static inline uint16_t vns_le16_load(const uint8_t *p)
{
#ifdef VNS__LE_NATIVE
    uint16_t v;

    memcpy(&v, p, 2);
    return v;
#else
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
#endif
}
static inline uint32_t vns_le32_load(const uint8_t *p)
{
#ifdef VNS__LE_NATIVE
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
#else
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}
static inline uint64_t vns_le64_load(const uint8_t *p)
{
#ifdef VNS__LE_NATIVE
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
#else
    return (uint64_t)vns_le32_load(p) | (uint64_t)vns_le32_load(p + 4) << 32;
#endif
}
static inline void vns_le16_store(uint8_t *p, uint16_t v)
{
#ifdef VNS__LE_NATIVE
    memcpy(p, &v, 2);
#else
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
#endif
}
static inline void vns_le32_store(uint8_t *p, uint32_t v)
{
#ifdef VNS__LE_NATIVE
    memcpy(p, &v, 4);
#else
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
#endif
}
static inline void vns_le64_store(uint8_t *p, uint64_t v)
{
#ifdef VNS__LE_NATIVE
    memcpy(p, &v, 8);
#else
    vns_le32_store(p, (uint32_t)v);
    vns_le32_store(p + 4, (uint32_t)(v >> 32));
#endif
}

/* --- guest physical memory ------------------------------------------------ */
struct vns_gmem;

struct vns_gmem_stats {
    uint64_t pages;       /* pages with host storage (touched by a write) */
    uint64_t faults;      /* accesses refused: outside every region */
    uint64_t nomem;       /* writes that failed to get a page (allocation) */
};

/* Create an empty guest memory (no regions). -VNS_ENOMEM. */
VNS_EXTERN int vns_gmem_create(struct vns_gmem **out);
/* Frees every page. NULL is a no-op. */
VNS_EXTERN void vns_gmem_destroy(struct vns_gmem *m);
/* Add RAM at [gpa, gpa + size): page-aligned, non-empty, not wrapping the
 * 64-bit space (-VNS_EINVAL), not overlapping another region
 * (-VNS_EEXIST); at most VNS_GMEM_MAX_REGIONS (-VNS_E2BIG); -VNS_ENOMEM. */
VNS_EXTERN int vns_gmem_add_region(struct vns_gmem *m, uint64_t gpa, uint64_t size);
/* True if every byte of [gpa, gpa + len) is guest RAM (len 0: true). */
VNS_EXTERN bool vns_gmem_range_ok(const struct vns_gmem *m, uint64_t gpa, uint64_t len);
VNS_EXTERN const struct vns_gmem_stats *vns_gmem_stats(const struct vns_gmem *m);

/* Copy guest bytes at @gpa to host @dst (copy OUT of the guest). 0, or
 * -VNS_EFAULT if any byte is outside guest RAM (then nothing is copied). */
VNS_EXTERN int vns_gmem_copy_out(const struct vns_gmem *m, uint64_t gpa, void *dst, size_t n);
/* Copy host @src into guest memory at @gpa (copy IN to the guest). 0,
 * -VNS_EFAULT (nothing written), -VNS_ENOMEM (a page could not be
 * allocated; earlier pages may have been written). */
VNS_EXTERN int vns_gmem_copy_in(struct vns_gmem *m, uint64_t gpa, const void *src, size_t n);
/* Set @n guest bytes at @gpa to @byte. Same errors as copy_in. */
VNS_EXTERN int vns_gmem_fill(struct vns_gmem *m, uint64_t gpa, uint8_t byte, size_t n);

/* Little-endian loads: a load outside guest RAM counts a fault and yields 0. */
VNS_EXTERN uint16_t vns_gmem_read_le16(const struct vns_gmem *m, uint64_t gpa);
VNS_EXTERN uint32_t vns_gmem_read_le32(const struct vns_gmem *m, uint64_t gpa);
VNS_EXTERN uint64_t vns_gmem_read_le64(const struct vns_gmem *m, uint64_t gpa);
/* Little-endian stores: 0, -VNS_EFAULT, -VNS_ENOMEM. */
VNS_EXTERN int vns_gmem_write_le16(struct vns_gmem *m, uint64_t gpa, uint16_t v);
VNS_EXTERN int vns_gmem_write_le32(struct vns_gmem *m, uint64_t gpa, uint32_t v);
VNS_EXTERN int vns_gmem_write_le64(struct vns_gmem *m, uint64_t gpa, uint64_t v);

/* Ordering hooks (STYLE 6). The simulation is single-threaded, so these
 * are no-ops; every ordered write pair in the ring code is labelled
 * ("Order A: ...") and passes through them, so a test build can later
 * inject reordering or torn updates here. publish = smp_wmb/virtio_wmb
 * (stores before it are visible before stores after it); acquire =
 * smp_rmb/virtio_rmb; mb = smp_mb/virtio_mb. */
static inline void vns_gmem_publish(const struct vns_gmem *m) { (void)m; }
static inline void vns_gmem_acquire(const struct vns_gmem *m) { (void)m; }
static inline void vns_gmem_mb(const struct vns_gmem *m) { (void)m; }

/* --- areas: validated windows for ring parts ------------------------------ *
 * An area is a range of guest RAM checked once and then accessed by offset,
 * as vhost checks the ring addresses once (vq_access_ok at
 * VHOST_SET_VRING_ADDR) and then reads them with __get_user, or through its
 * vhost_vq_meta cache. Its pages are materialised at init and stay valid
 * for the life of the gmem (memory is never unplugged in this model), so
 * the per-access cost is one table load. Offsets beyond the area are
 * programmer errors: reads yield 0 and writes are dropped, both counted as
 * faults. */
struct vns_gmem_area {
    struct vns_gmem *mem;
    uint64_t gpa;       /* first byte */
    uint64_t len;       /* bytes */
    uint32_t first_off; /* gpa & (page size - 1) */
    uint32_t npages;
    uint8_t **pages;    /* host storage of each page covering the area */
    uint8_t *flat;      /* host address of byte 0 when the area is one host range, else NULL */
};

/* Check [gpa, gpa + len) is guest RAM (-VNS_EFAULT), materialise its pages
 * (-VNS_ENOMEM). @len may be 0. On failure @a is left empty (fini ok). */
VNS_EXTERN int vns_gmem_area_init(struct vns_gmem_area *a, struct vns_gmem *m,
                                  uint64_t gpa, uint64_t len);
VNS_EXTERN void vns_gmem_area_fini(struct vns_gmem_area *a);
/* Slow paths for accesses that straddle a page or leave the area. */
#if defined(__GNUC__) || defined(__clang__)
#define VNS__COLD __attribute__((cold, noinline))
#else
#define VNS__COLD
#endif
VNS_EXTERN VNS__COLD void vns__gmem_area_read_slow(const struct vns_gmem_area *a, uint64_t off,
                                                   void *dst, size_t n);
VNS_EXTERN VNS__COLD void vns__gmem_area_write_slow(const struct vns_gmem_area *a, uint64_t off,
                                                    const void *src, size_t n);

/* Host pointer to @n bytes at @off when they lie in one page of the area. */
static inline uint8_t *vns__gmem_area_ptr(const struct vns_gmem_area *a, uint64_t off, size_t n)
{
    uint64_t o = off + a->first_off;

    if (VNS_LIKELY(a->flat != NULL))     /* one host range: the length check suffices */
        return off + n <= a->len ? a->flat + off : NULL;
    if (VNS_UNLIKELY(off + n > a->len || (o & (VNS_GMEM_PAGE_SIZE - 1)) + n > VNS_GMEM_PAGE_SIZE))
        return NULL;
    return a->pages[o >> VNS_GMEM_PAGE_SHIFT] + (o & (VNS_GMEM_PAGE_SIZE - 1));
}
static inline void vns_gmem_area_read(const struct vns_gmem_area *a, uint64_t off, void *dst,
                                      size_t n)
{
    const uint8_t *p = vns__gmem_area_ptr(a, off, n);

    if (VNS_LIKELY(p != NULL))
        memcpy(dst, p, n);
    else
        vns__gmem_area_read_slow(a, off, dst, n);
}
static inline void vns_gmem_area_write(const struct vns_gmem_area *a, uint64_t off,
                                       const void *src, size_t n)
{
    uint8_t *p = vns__gmem_area_ptr(a, off, n);

    if (VNS_LIKELY(p != NULL))
        memcpy(p, src, n);
    else
        vns__gmem_area_write_slow(a, off, src, n);
}
static inline uint16_t vns_gmem_area_read_le16(const struct vns_gmem_area *a, uint64_t off)
{
    uint8_t b[2];

    vns_gmem_area_read(a, off, b, 2);
    return vns_le16_load(b);
}
static inline uint32_t vns_gmem_area_read_le32(const struct vns_gmem_area *a, uint64_t off)
{
    uint8_t b[4];

    vns_gmem_area_read(a, off, b, 4);
    return vns_le32_load(b);
}
static inline uint64_t vns_gmem_area_read_le64(const struct vns_gmem_area *a, uint64_t off)
{
    uint8_t b[8];

    vns_gmem_area_read(a, off, b, 8);
    return vns_le64_load(b);
}
static inline void vns_gmem_area_write_le64(const struct vns_gmem_area *a, uint64_t off,
                                            uint64_t v)
{
    uint8_t b[8];

    vns_le64_store(b, v);
    vns_gmem_area_write(a, off, b, 8);
}
static inline void vns_gmem_area_write_le16(const struct vns_gmem_area *a, uint64_t off,
                                            uint16_t v)
{
    uint8_t b[2];

    vns_le16_store(b, v);
    vns_gmem_area_write(a, off, b, 2);
}
static inline void vns_gmem_area_write_le32(const struct vns_gmem_area *a, uint64_t off,
                                            uint32_t v)
{
    uint8_t b[4];

    vns_le32_store(b, v);
    vns_gmem_area_write(a, off, b, 4);
}

/* --- device memory table (vhost_memory) ----------------------------------- */

struct vns_gmem_table_region {
    uint64_t guest_phys_addr;
    uint64_t memory_size;
};

/* Copy up to @max regions of guest RAM, in address order, into @out;
 * returns how many there are. */
VNS_EXTERN unsigned vns_gmem_regions(const struct vns_gmem *m, struct vns_gmem_table_region *out,
                                     unsigned max);

/* One segment of a translated guest buffer: @len bytes of guest RAM at
 * @addr, inside one memory-table region. */
struct vns_iov {
    uint64_t addr;
    uint64_t len;
};

struct vns_gmem_table;

/* VHOST_SET_MEM_TABLE: @n > VNS_GMEM_TABLE_MAX_REGIONS -> -VNS_E2BIG; a
 * region that is empty, wraps, or is not guest RAM of @m -> -VNS_EFAULT;
 * -VNS_ENOMEM. Regions may be given in any order and must not overlap
 * (-VNS_EINVAL). */
VNS_EXTERN int vns_gmem_table_create(struct vns_gmem *m, const struct vns_gmem_table_region *r,
                                     unsigned n, struct vns_gmem_table **out);
VNS_EXTERN void vns_gmem_table_destroy(struct vns_gmem_table *t);
VNS_EXTERN struct vns_gmem *vns_gmem_table_mem(const struct vns_gmem_table *t);
/* A table with one region covering each region of @m. */
VNS_EXTERN int vns_gmem_table_create_all(struct vns_gmem *m, struct vns_gmem_table **out);
/* True if [addr, addr + len) is covered by the table (vhost's access_ok on
 * ring parts). */
VNS_EXTERN bool vns_gmem_table_access_ok(const struct vns_gmem_table *t, uint64_t addr,
                                         uint64_t len);
/* translate_desc(): split [addr, addr + len) into at most @iov_size
 * segments, one per region crossed. Returns the number of segments (0 for
 * len 0), -VNS_EFAULT if a byte is not covered or the range wraps,
 * -VNS_ENOBUFS if more than @iov_size segments are needed. */
VNS_EXTERN int vns_gmem_table_translate(const struct vns_gmem_table *t, uint64_t addr,
                                        uint64_t len, struct vns_iov *iov, unsigned iov_size);
/* copy_to_iter / copy_from_iter over translated segments: copy up to @n
 * bytes, return the number copied (less if the segments are shorter). */
VNS_EXTERN size_t vns_gmem_copy_to_iov(struct vns_gmem *m, const struct vns_iov *iov,
                                       unsigned niov, const void *src, size_t n);
VNS_EXTERN size_t vns_gmem_copy_from_iov(const struct vns_gmem *m, const struct vns_iov *iov,
                                         unsigned niov, void *dst, size_t n);

/* --- guest-side allocator ------------------------------------------------- *
 * The guest kernel's allocator for ring areas and buffers: first-fit over
 * sorted free extents of a GPA range (the range must be guest RAM for the
 * memory to be usable; the allocator itself only does arithmetic). */
struct vns_galloc;

VNS_EXTERN int vns_galloc_create(uint64_t base, uint64_t size, struct vns_galloc **out);
VNS_EXTERN void vns_galloc_destroy(struct vns_galloc *a);
/* Allocate @size > 0 bytes aligned to @align (a power of two, 0 = 1).
 * -VNS_EINVAL, -VNS_ENOMEM (no room, or no host memory for bookkeeping). */
VNS_EXTERN int vns_galloc_alloc(struct vns_galloc *a, uint64_t size, uint64_t align,
                                uint64_t *gpa);
/* Give back [gpa, gpa + size). -VNS_EINVAL if it is outside the range or
 * overlaps free space (double free); -VNS_ENOMEM. */
VNS_EXTERN int vns_galloc_free(struct vns_galloc *a, uint64_t gpa, uint64_t size);
/* Free bytes. */
VNS_EXTERN uint64_t vns_galloc_avail(const struct vns_galloc *a);

/* --- fixed-size guest buffer pool (packet buffers) ------------------------ */
struct vns_gbuf_pool;

/* Carve @count buffers of @buf_size bytes (each aligned to @align) out of
 * @a. -VNS_EINVAL, -VNS_ENOMEM. */
VNS_EXTERN int vns_gbuf_pool_create(struct vns_galloc *a, uint32_t buf_size, uint32_t count,
                                    uint32_t align, struct vns_gbuf_pool **out);
/* Returns the extent to the allocator. Outstanding buffers are reclaimed. */
VNS_EXTERN void vns_gbuf_pool_destroy(struct vns_gbuf_pool *p);
/* 0 and a buffer's GPA, or -VNS_ENOBUFS when all are in use. */
VNS_EXTERN int vns_gbuf_pool_get(struct vns_gbuf_pool *p, uint64_t *gpa);
/* -VNS_EINVAL for an address that is not a buffer of the pool or is free. */
VNS_EXTERN int vns_gbuf_pool_put(struct vns_gbuf_pool *p, uint64_t gpa);
VNS_EXTERN uint32_t vns_gbuf_pool_free_count(const struct vns_gbuf_pool *p);
VNS_EXTERN uint32_t vns_gbuf_pool_buf_size(const struct vns_gbuf_pool *p);

#endif
