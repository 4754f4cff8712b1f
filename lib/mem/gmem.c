/* vnetsim -- sparse guest physical memory.
 *
 * Models the RAM of a guest as KVM memslots describe it: a few regions of
 * guest-physical addresses. Storage is sparse: each region has a directory
 * of leaves (one leaf covers 2 MiB, 512 page pointers) and a 4 KiB page is
 * allocated when first written; reading an untouched page yields zeros
 * without allocating it. Accesses outside every region are refused and
 * counted, never performed.
 *
 * LINUX: there is no single file; the guest sees RAM through its page
 * tables and the host through the memslots (virt/kvm/kvm_main.c). The
 * regions here play the memslots' role. Simplified: no hot-unplug, no
 * dirty tracking, no huge pages. */
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/error.h"
#include "vnetsim/gmem.h"

#define LEAF_SHIFT 9u
#define LEAF_PAGES (1u << LEAF_SHIFT)
#define PAGE_MASK ((uint64_t)VNS_GMEM_PAGE_SIZE - 1)

struct gmem_region {
    uint64_t gpa;        /* first byte, page aligned */
    uint64_t size;       /* bytes, page multiple */
    uint64_t nleaves;
    uint8_t ***leaves;   /* nleaves entries, each NULL or LEAF_PAGES page pointers */
};

/* Host storage of several consecutive pages allocated at once, so that an
 * area over them (a ring part) is one flat host range. */
struct gmem_block {
    uint8_t *base;
    size_t len;
};

struct vns_gmem {
    struct gmem_region regions[VNS_GMEM_MAX_REGIONS]; /* sorted by gpa */
    unsigned nregions;
    unsigned last;              /* index of the last region hit (lookup cache) */
    struct gmem_block *blocks;  /* pages inside a block are freed with it */
    unsigned nblocks;
    struct vns_gmem_stats stats;
};

static bool gmem_in_block(const struct vns_gmem *m, const uint8_t *p)
{
    for (unsigned i = 0; i < m->nblocks; i++)
        if (p >= m->blocks[i].base && p < m->blocks[i].base + m->blocks[i].len)
            return true;
    return false;
}

int vns_gmem_create(struct vns_gmem **out)
{
    struct vns_gmem *m = vns_calloc(1, sizeof(*m));

    if (m == NULL)
        return -VNS_ENOMEM;
    *out = m;
    return 0;
}

static void gmem_region_free(const struct vns_gmem *m, struct gmem_region *r)
{
    for (uint64_t l = 0; l < r->nleaves; l++) {
        if (r->leaves[l] == NULL)
            continue;
        for (unsigned p = 0; p < LEAF_PAGES; p++)
            if (r->leaves[l][p] && !gmem_in_block(m, r->leaves[l][p]))
                vns_free(r->leaves[l][p]);
        vns_free(r->leaves[l]);
    }
    vns_free(r->leaves);
}

void vns_gmem_destroy(struct vns_gmem *m)
{
    if (m == NULL)
        return;
    for (unsigned i = 0; i < m->nregions; i++)
        gmem_region_free(m, &m->regions[i]);
    for (unsigned i = 0; i < m->nblocks; i++)
        vns_free(m->blocks[i].base);
    vns_free(m->blocks);
    vns_free(m);
}

int vns_gmem_add_region(struct vns_gmem *m, uint64_t gpa, uint64_t size)
{
    struct gmem_region r;
    unsigned i;

    if (size == 0 || (gpa & PAGE_MASK) || (size & PAGE_MASK) || gpa + size - 1 < gpa)
        return -VNS_EINVAL;
    for (i = 0; i < m->nregions; i++) {
        const struct gmem_region *o = &m->regions[i];

        if (gpa <= o->gpa + (o->size - 1) && o->gpa <= gpa + (size - 1))
            return -VNS_EEXIST;
    }
    if (m->nregions == VNS_GMEM_MAX_REGIONS)
        return -VNS_E2BIG;
    r.gpa = gpa;
    r.size = size;
    r.nleaves = ((size >> VNS_GMEM_PAGE_SHIFT) + LEAF_PAGES - 1) >> LEAF_SHIFT;
    r.leaves = vns_calloc((size_t)r.nleaves, sizeof(*r.leaves));
    if (r.leaves == NULL)
        return -VNS_ENOMEM;
    for (i = m->nregions; i > 0 && m->regions[i - 1].gpa > gpa; i--)
        m->regions[i] = m->regions[i - 1];
    m->regions[i] = r;
    m->nregions++;
    m->last = 0;
    return 0;
}

/* The region holding @gpa, or NULL. Caches the hit (the cache is not
 * guest-visible state, so updating it through a const object is fine). */
static struct gmem_region *gmem_find(const struct vns_gmem *m, uint64_t gpa)
{
    struct vns_gmem *mm = (struct vns_gmem *)(uintptr_t)m;
    const struct gmem_region *r = &m->regions[m->last];

    if (m->nregions && gpa - r->gpa < r->size)
        return mm->regions + m->last;
    for (unsigned i = 0; i < m->nregions; i++) {
        if (gpa - m->regions[i].gpa < m->regions[i].size) {
            mm->last = i;
            return mm->regions + i;
        }
    }
    return NULL;
}

static void gmem_fault(const struct vns_gmem *m)
{
    ((struct vns_gmem *)(uintptr_t)m)->stats.faults++;
}

/* Host storage of the page holding @gpa inside @r, or NULL if untouched. */
static uint8_t *gmem_page_peek(const struct gmem_region *r, uint64_t gpa)
{
    uint64_t p = (gpa - r->gpa) >> VNS_GMEM_PAGE_SHIFT;
    uint8_t **leaf = r->leaves[p >> LEAF_SHIFT];

    return leaf ? leaf[p & (LEAF_PAGES - 1)] : NULL;
}

/* Host storage of the page holding @gpa, allocated (zeroed) if needed. */
static uint8_t *gmem_page_get(struct vns_gmem *m, struct gmem_region *r, uint64_t gpa)
{
    uint64_t p = (gpa - r->gpa) >> VNS_GMEM_PAGE_SHIFT;
    uint8_t ***leaf = &r->leaves[p >> LEAF_SHIFT];
    uint8_t **page;

    if (*leaf == NULL) {
        *leaf = vns_calloc(LEAF_PAGES, sizeof(**leaf));
        if (*leaf == NULL) {
            m->stats.nomem++;
            return NULL;
        }
    }
    page = &(*leaf)[p & (LEAF_PAGES - 1)];
    if (*page == NULL) {
        *page = vns_calloc(1, VNS_GMEM_PAGE_SIZE);
        if (*page == NULL) {
            m->stats.nomem++;
            return NULL;
        }
        m->stats.pages++;
    }
    return *page;
}

bool vns_gmem_range_ok(const struct vns_gmem *m, uint64_t gpa, uint64_t len)
{
    while (len > 0) {
        const struct gmem_region *r = gmem_find(m, gpa);
        uint64_t room;

        if (r == NULL)
            return false;
        room = r->size - (gpa - r->gpa);
        if (len <= room)
            return true;
        len -= room;
        gpa += room;   /* cannot wrap: the region does not */
    }
    return true;
}

const struct vns_gmem_stats *vns_gmem_stats(const struct vns_gmem *m)
{
    return &m->stats;
}

int vns_gmem_copy_out(const struct vns_gmem *m, uint64_t gpa, void *dst, size_t n)
{
    uint8_t *d = dst;

    if (!vns_gmem_range_ok(m, gpa, n)) {
        gmem_fault(m);
        return -VNS_EFAULT;
    }
    while (n > 0) {
        const struct gmem_region *r = gmem_find(m, gpa);
        size_t chunk = VNS_GMEM_PAGE_SIZE - (size_t)(gpa & PAGE_MASK);
        const uint8_t *page = gmem_page_peek(r, gpa);

        if (chunk > n)
            chunk = n;
        if (page)
            memcpy(d, page + (gpa & PAGE_MASK), chunk);
        else
            memset(d, 0, chunk);
        d += chunk;
        gpa += chunk;
        n -= chunk;
    }
    return 0;
}

/* Write @n bytes (from @src, or @byte if @src is NULL). */
static int gmem_store(struct vns_gmem *m, uint64_t gpa, const uint8_t *src, uint8_t byte,
                      size_t n)
{
    if (!vns_gmem_range_ok(m, gpa, n)) {
        gmem_fault(m);
        return -VNS_EFAULT;
    }
    while (n > 0) {
        struct gmem_region *r = gmem_find(m, gpa);
        size_t chunk = VNS_GMEM_PAGE_SIZE - (size_t)(gpa & PAGE_MASK);
        uint8_t *page;

        if (chunk > n)
            chunk = n;
        page = gmem_page_peek(r, gpa);
        if (page == NULL && src == NULL && byte == 0) {
            /* zeroing an untouched page: it already reads as zeros */
        } else {
            if (page == NULL && (page = gmem_page_get(m, r, gpa)) == NULL)
                return -VNS_ENOMEM;
            if (src) {
                memcpy(page + (gpa & PAGE_MASK), src, chunk);
                src += chunk;
            } else {
                memset(page + (gpa & PAGE_MASK), byte, chunk);
            }
        }
        gpa += chunk;
        n -= chunk;
    }
    return 0;
}

int vns_gmem_copy_in(struct vns_gmem *m, uint64_t gpa, const void *src, size_t n)
{
    return gmem_store(m, gpa, n ? src : NULL, 0, n);
}

int vns_gmem_fill(struct vns_gmem *m, uint64_t gpa, uint8_t byte, size_t n)
{
    return gmem_store(m, gpa, NULL, byte, n);
}

uint16_t vns_gmem_read_le16(const struct vns_gmem *m, uint64_t gpa)
{
    uint8_t b[2];

    return vns_gmem_copy_out(m, gpa, b, 2) ? 0 : vns_le16_load(b);
}

uint32_t vns_gmem_read_le32(const struct vns_gmem *m, uint64_t gpa)
{
    uint8_t b[4];

    return vns_gmem_copy_out(m, gpa, b, 4) ? 0 : vns_le32_load(b);
}

uint64_t vns_gmem_read_le64(const struct vns_gmem *m, uint64_t gpa)
{
    uint8_t b[8];

    return vns_gmem_copy_out(m, gpa, b, 8) ? 0 : vns_le64_load(b);
}

int vns_gmem_write_le16(struct vns_gmem *m, uint64_t gpa, uint16_t v)
{
    uint8_t b[2];

    vns_le16_store(b, v);
    return gmem_store(m, gpa, b, 0, 2);
}

int vns_gmem_write_le32(struct vns_gmem *m, uint64_t gpa, uint32_t v)
{
    uint8_t b[4];

    vns_le32_store(b, v);
    return gmem_store(m, gpa, b, 0, 4);
}

int vns_gmem_write_le64(struct vns_gmem *m, uint64_t gpa, uint64_t v)
{
    uint8_t b[8];

    vns_le64_store(b, v);
    return gmem_store(m, gpa, b, 0, 8);
}

/* --- areas ------------------------------------------------------------------ */

/* If none of the @npages pages from @first has storage yet, give them one
 * contiguous block (best effort: on any failure the pages are simply
 * allocated one by one later). */
static void gmem_area_block(struct vns_gmem *m, uint64_t first, uint64_t npages)
{
    struct gmem_block *nb;
    uint8_t *base;

    for (uint64_t i = 0; i < npages; i++) {
        uint64_t pg = first + i * VNS_GMEM_PAGE_SIZE;
        struct gmem_region *r = gmem_find(m, pg);

        if (gmem_page_peek(r, pg) != NULL)
            return;
        /* make sure the leaf exists so that installing cannot fail */
        if (r->leaves[((pg - r->gpa) >> VNS_GMEM_PAGE_SHIFT) >> LEAF_SHIFT] == NULL) {
            uint8_t ***leaf = &r->leaves[((pg - r->gpa) >> VNS_GMEM_PAGE_SHIFT) >> LEAF_SHIFT];

            *leaf = vns_calloc(LEAF_PAGES, sizeof(**leaf));
            if (*leaf == NULL)
                return;
        }
    }
    nb = vns_realloc(m->blocks, (m->nblocks + 1) * sizeof(*nb));
    if (nb == NULL)
        return;
    m->blocks = nb;
    base = vns_calloc((size_t)npages, VNS_GMEM_PAGE_SIZE);
    if (base == NULL)
        return;
    m->blocks[m->nblocks].base = base;
    m->blocks[m->nblocks].len = (size_t)npages * VNS_GMEM_PAGE_SIZE;
    m->nblocks++;
    for (uint64_t i = 0; i < npages; i++) {
        uint64_t pg = first + i * VNS_GMEM_PAGE_SIZE;
        struct gmem_region *r = gmem_find(m, pg);
        uint64_t p = (pg - r->gpa) >> VNS_GMEM_PAGE_SHIFT;

        r->leaves[p >> LEAF_SHIFT][p & (LEAF_PAGES - 1)] = base + i * VNS_GMEM_PAGE_SIZE;
    }
    m->stats.pages += npages;
}

int vns_gmem_area_init(struct vns_gmem_area *a, struct vns_gmem *m, uint64_t gpa, uint64_t len)
{
    bool contiguous = true;
    uint64_t first = gpa & ~PAGE_MASK;
    uint64_t npages;

    memset(a, 0, sizeof(*a));
    a->mem = m;
    if (len == 0)
        return 0;
    if (gpa + len - 1 < gpa || !vns_gmem_range_ok(m, gpa, len)) {
        gmem_fault(m);
        return -VNS_EFAULT;
    }
    npages = (((gpa + len - 1) & ~PAGE_MASK) - first) / VNS_GMEM_PAGE_SIZE + 1;
    a->pages = vns_calloc((size_t)npages, sizeof(*a->pages));
    if (a->pages == NULL)
        return -VNS_ENOMEM;
    if (npages > 1)
        gmem_area_block(m, first, npages);
    for (uint64_t i = 0; i < npages; i++) {
        uint64_t pg = first + i * VNS_GMEM_PAGE_SIZE;

        a->pages[i] = gmem_page_get(m, gmem_find(m, pg), pg);
        if (a->pages[i] == NULL) {
            vns_free(a->pages);
            a->pages = NULL;
            return -VNS_ENOMEM;
        }
        if (i > 0 && a->pages[i] != a->pages[i - 1] + VNS_GMEM_PAGE_SIZE)
            contiguous = false;
    }
    a->gpa = gpa;
    a->len = len;
    a->first_off = (uint32_t)(gpa & PAGE_MASK);
    a->npages = (uint32_t)npages;
    if (contiguous)     /* one page, or a block: one flat host range */
        a->flat = a->pages[0] + a->first_off;
    return 0;
}

void vns_gmem_area_fini(struct vns_gmem_area *a)
{
    vns_free(a->pages);
    a->pages = NULL;
    a->flat = NULL;
    a->len = 0;
    a->npages = 0;
}

void vns__gmem_area_read_slow(const struct vns_gmem_area *a, uint64_t off, void *dst, size_t n)
{
    uint8_t *d = dst;

    if (off > a->len || n > a->len - off) {
        memset(dst, 0, n);
        gmem_fault(a->mem);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t o = off + i + a->first_off;

        d[i] = a->pages[o >> VNS_GMEM_PAGE_SHIFT][o & PAGE_MASK];
    }
}

void vns__gmem_area_write_slow(const struct vns_gmem_area *a, uint64_t off, const void *src,
                               size_t n)
{
    const uint8_t *s = src;

    if (off > a->len || n > a->len - off) {
        gmem_fault(a->mem);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t o = off + i + a->first_off;

        a->pages[o >> VNS_GMEM_PAGE_SHIFT][o & PAGE_MASK] = s[i];
    }
}

unsigned vns_gmem_regions(const struct vns_gmem *m, struct vns_gmem_table_region *out,
                          unsigned max)
{
    for (unsigned i = 0; i < m->nregions && i < max; i++) {
        out[i].guest_phys_addr = m->regions[i].gpa;
        out[i].memory_size = m->regions[i].size;
    }
    return m->nregions;
}
