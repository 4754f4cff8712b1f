/* tests/virtio/vq_fixture.h -- a guest memory with a driver ring and a
 * device attached to it, plus "hostile guest" writers that put raw ring
 * bytes in guest memory. Header-only so each test program stays one file. */
#ifndef VNS_TEST_VQ_FIXTURE_H
#define VNS_TEST_VQ_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "support/vns_test.h"
#include "vnetsim/devq.h"
#include "vnetsim/gmem.h"
#include "vnetsim/virtq.h"

#define VQF_RAM (8u << 20)          /* guest RAM: [0, 8 MiB) */
#define VQF_RING_GPA 0x10000u       /* ring parts, contiguous layout */
#define VQF_IND_GPA 0x200000u       /* driver indirect tables */
#define VQF_BUF_GPA 0x400000u       /* packet buffers */

struct vqf {
    enum vns_virtq_layout layout;
    uint32_t num;
    bool event_idx;
    bool indirect;
    struct vns_gmem *mem;
    struct vns_gmem_table *table;
    struct vns_virtq *vq;
    struct vns_devq *dq;
    struct vns_virtq_addr addr;
    uint64_t kicks;       /* transport notifications seen */
    uint64_t irqs;        /* device signals seen */
};

static inline bool vqf_notify_cb(struct vns_virtq *vq, void *arg)
{
    (void)vq;
    ((struct vqf *)arg)->kicks++;
    return true;
}

static inline void vqf_signal_cb(struct vns_devq *dq, void *arg)
{
    (void)dq;
    ((struct vqf *)arg)->irqs++;
}

/* Guest memory, table, ring parts; the driver only if @with_driver. */
static inline struct vqf *vqf_new_ex(enum vns_virtq_layout layout, uint32_t num, bool event_idx,
                                     bool indirect, bool with_driver)
{
    struct vqf *f = calloc(1, sizeof(*f));
    struct vns_devq_config dc;

    assert_non_null(f);
    f->layout = layout;
    f->num = num;
    f->event_idx = event_idx;
    f->indirect = indirect;
    assert_int_equal(vns_gmem_create(&f->mem), 0);
    assert_int_equal(vns_gmem_add_region(f->mem, 0, VQF_RAM), 0);
    assert_int_equal(vns_gmem_table_create_all(f->mem, &f->table), 0);
    assert_int_equal(vns_virtq_layout(layout, num, 4096, VQF_RING_GPA, &f->addr), 0);
    if (with_driver) {
        struct vns_virtq_config c = {
            .layout = layout, .num = num, .addr = f->addr, .event_idx = event_idx,
            .indirect = indirect, .indirect_gpa = indirect ? VQF_IND_GPA : 0,
            .indirect_max = 8, .notify = vqf_notify_cb, .notify_arg = f,
        };
        assert_int_equal(vns_virtq_create(f->mem, &c, &f->vq), 0);
    }
    memset(&dc, 0, sizeof(dc));
    dc.layout = layout;
    dc.num = num;
    dc.addr = f->addr;
    dc.event_idx = event_idx;
    dc.signal = vqf_signal_cb;
    dc.signal_arg = f;
    assert_int_equal(vns_devq_create(f->table, &dc, &f->dq), 0);
    return f;
}

static inline struct vqf *vqf_new(enum vns_virtq_layout layout, uint32_t num, bool event_idx,
                                  bool indirect)
{
    return vqf_new_ex(layout, num, event_idx, indirect, true);
}

static inline void vqf_free(struct vqf *f)
{
    if (f == NULL)
        return;
    vns_devq_destroy(f->dq);
    vns_virtq_destroy(f->vq);
    vns_gmem_table_destroy(f->table);
    vns_gmem_destroy(f->mem);
    free(f);
}

/* --- hostile guest: raw ring bytes ------------------------------------------ */

/* Split descriptor @i of the ring (or of a table at @table_gpa if non-0). */
static inline void hg_desc_at(struct vqf *f, uint64_t table_gpa, uint32_t i, uint64_t addr,
                              uint32_t len, uint16_t flags, uint16_t next)
{
    uint64_t g = (table_gpa ? table_gpa : f->addr.desc) + 16ull * i;

    assert_int_equal(vns_gmem_write_le64(f->mem, g + VNS_VRING_DESC_ADDR, addr), 0);
    assert_int_equal(vns_gmem_write_le32(f->mem, g + VNS_VRING_DESC_LEN, len), 0);
    assert_int_equal(vns_gmem_write_le16(f->mem, g + VNS_VRING_DESC_FLAGS, flags), 0);
    assert_int_equal(vns_gmem_write_le16(f->mem, g + VNS_VRING_DESC_NEXT, next), 0);
}

static inline void hg_desc(struct vqf *f, uint32_t i, uint64_t addr, uint32_t len, uint16_t flags,
                           uint16_t next)
{
    hg_desc_at(f, 0, i, addr, len, flags, next);
}

/* Split: put @head in the next avail slot and publish avail->idx = @idx. */
static inline void hg_avail(struct vqf *f, uint16_t slot_idx, uint16_t head, uint16_t idx)
{
    assert_int_equal(vns_gmem_write_le16(f->mem, f->addr.avail + vns_vring_avail_slot(slot_idx & (f->num - 1)), head), 0);
    assert_int_equal(vns_gmem_write_le16(f->mem, f->addr.avail + VNS_VRING_AVAIL_IDX, idx), 0);
}

/* Packed descriptor at ring position @pos (or table entry if @table_gpa). */
static inline void hg_pdesc_at(struct vqf *f, uint64_t table_gpa, uint32_t pos, uint64_t addr,
                               uint32_t len, uint16_t id, uint16_t flags)
{
    uint64_t g = (table_gpa ? table_gpa : f->addr.desc) + 16ull * pos;

    assert_int_equal(vns_gmem_write_le64(f->mem, g + VNS_VRING_PACKED_DESC_ADDR, addr), 0);
    assert_int_equal(vns_gmem_write_le32(f->mem, g + VNS_VRING_PACKED_DESC_LEN, len), 0);
    assert_int_equal(vns_gmem_write_le16(f->mem, g + VNS_VRING_PACKED_DESC_ID, id), 0);
    assert_int_equal(vns_gmem_write_le16(f->mem, g + VNS_VRING_PACKED_DESC_FLAGS, flags), 0);
}

/* Packed flags meaning "available" in the first lap (wrap counter 1). */
#define HG_PK_AVAIL1 ((uint16_t)VNS_VRING_PACKED_F_AVAIL_MASK)

/* Head placement that is the same on both layouts: a chain of @n
 * descriptors from entries 0.. with given flags, made available. */
static inline void hg_chain(struct vqf *f, unsigned n, const uint64_t *addr, const uint32_t *len,
                            const uint16_t *flags)
{
    for (unsigned k = 0; k < n; k++) {
        if (f->layout == VNS_VIRTQ_SPLIT)
            hg_desc(f, k, addr[k], len[k], flags[k], (uint16_t)(k + 1));
        else
            hg_pdesc_at(f, 0, k, addr[k], len[k], 0, (uint16_t)(flags[k] | HG_PK_AVAIL1));
    }
    if (f->layout == VNS_VIRTQ_SPLIT)
        hg_avail(f, 0, 0, 1);
}

#endif
