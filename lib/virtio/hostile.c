/* lib/virtio/hostile.c -- a hostile guest driver (include/vnetsim/hostile.h).
 *
 * Each injection writes raw ring bytes through the guest memory accessors,
 * exactly as a guest could, and publishes them (avail idx for split, the
 * head's AVAIL/USED flags for packed). It deliberately bypasses the
 * driver's bookkeeping: what the device sees is all that matters. */
#include <string.h>

#include "vnetsim/error.h"
#include "vnetsim/gmem.h"
#include "vnetsim/hostile.h"
#include "vnetsim/proto/virtio_ring.h"
#include "virtq_int.h"

static const char *const hostile_names[VNS_HOSTILE__COUNT] = {
    "bad_head", "avail_jump", "desc_loop", "nested_indirect", "bad_indirect_len",
    "out_of_range", "out_after_in", "packed_bad_id",
};

const char *vns_hostile_name(enum vns_hostile kind)
{
    return (unsigned)kind < VNS_HOSTILE__COUNT ? hostile_names[kind] : "?";
}

int vns_hostile_lookup(const char *name)
{
    for (int i = 0; i < VNS_HOSTILE__COUNT; i++)
        if (!strcmp(hostile_names[i], name))
            return i;
    return -VNS_ENOENT;
}

/* An address no guest has: the top of the 64-bit space (wraps with len). */
#define HOSTILE_BAD_GPA (UINT64_MAX - 15)

static void split_desc(struct vns_virtq *vq, uint64_t table, uint32_t i, uint64_t addr, uint32_t len,
                       uint16_t flags, uint16_t next)
{
    uint64_t g = (table ? table : vq->addr.desc) + 16ull * i;

    vns_gmem_write_le64(vq->mem, g + VNS_VRING_DESC_ADDR, addr);
    vns_gmem_write_le32(vq->mem, g + VNS_VRING_DESC_LEN, len);
    vns_gmem_write_le16(vq->mem, g + VNS_VRING_DESC_FLAGS, flags);
    vns_gmem_write_le16(vq->mem, g + VNS_VRING_DESC_NEXT, next);
}

/* Publish @head in the next avail slot, as virtqueue_add_split does. */
static void split_publish(struct vns_virtq *vq, uint16_t head)
{
    uint16_t idx = vq->avail_idx_shadow;

    vns_gmem_write_le16(vq->mem, vq->addr.avail + vns_vring_avail_slot(idx & (vq->num - 1)), head);
    vns_gmem_publish(vq->mem);   /* Order A: the slot before the index */
    vns_gmem_write_le16(vq->mem, vq->addr.avail + VNS_VRING_AVAIL_IDX, (uint16_t)(idx + 1));
}

static int inject_split(struct vns_virtq *vq, enum vns_hostile kind, uint64_t scratch)
{
    uint16_t d = vq->free_head;
    uint64_t table = scratch, buf = scratch + 32;

    if (kind == VNS_HOSTILE_PACKED_BAD_ID)
        return -VNS_EINVAL;
    if (kind == VNS_HOSTILE_BAD_HEAD) {
        split_publish(vq, (uint16_t)vq->num);
        return 0;
    }
    if (kind == VNS_HOSTILE_AVAIL_JUMP) {
        vns_gmem_write_le16(vq->mem, vq->addr.avail + VNS_VRING_AVAIL_IDX,
                            (uint16_t)(vq->avail_idx_shadow + vq->num + 1));
        return 0;
    }
    if (d >= vq->num || vq->num_free < 2)
        return -VNS_EINVAL;
    switch (kind) {
    case VNS_HOSTILE_DESC_LOOP:
        split_desc(vq, 0, d, buf, 16, VNS_VRING_DESC_F_NEXT, d);
        break;
    case VNS_HOSTILE_NESTED_INDIRECT:
        split_desc(vq, table, 0, table, 16, VNS_VRING_DESC_F_INDIRECT, 0);
        split_desc(vq, 0, d, table, 16, VNS_VRING_DESC_F_INDIRECT, 0);
        break;
    case VNS_HOSTILE_BAD_INDIRECT_LEN:
        split_desc(vq, 0, d, table, 20, VNS_VRING_DESC_F_INDIRECT, 0);
        break;
    case VNS_HOSTILE_OUT_OF_RANGE:
        split_desc(vq, 0, d, HOSTILE_BAD_GPA, 1500, 0, 0);
        break;
    case VNS_HOSTILE_OUT_AFTER_IN: {
        /* Two free descriptors (the driver's next two): the in one first,
         * then an out one. */
        uint16_t d2 = vq->extra[d].next < vq->num ? vq->extra[d].next : (uint16_t)((d + 1) % vq->num);

        split_desc(vq, 0, d, buf, 16, VNS_VRING_DESC_F_WRITE | VNS_VRING_DESC_F_NEXT, d2);
        split_desc(vq, 0, d2, buf, 16, 0, 0);
        break;
    }
    default:
        return -VNS_EINVAL;
    }
    split_publish(vq, d);
    return 0;
}

static void packed_desc(struct vns_virtq *vq, uint64_t table, uint32_t pos, uint64_t addr, uint32_t len,
                        uint16_t id, uint16_t flags)
{
    uint64_t g = (table ? table : vq->addr.desc) + 16ull * pos;

    vns_gmem_write_le64(vq->mem, g + VNS_VRING_PACKED_DESC_ADDR, addr);
    vns_gmem_write_le32(vq->mem, g + VNS_VRING_PACKED_DESC_LEN, len);
    vns_gmem_write_le16(vq->mem, g + VNS_VRING_PACKED_DESC_ID, id);
    if (table) {
        vns_gmem_write_le16(vq->mem, g + VNS_VRING_PACKED_DESC_FLAGS, flags);
        return;
    }
    vns_gmem_publish(vq->mem);   /* Order A: the head's flags last */
    vns_gmem_write_le16(vq->mem, g + VNS_VRING_PACKED_DESC_FLAGS, (uint16_t)(flags | vq->avail_used_flags));
}

static int inject_packed(struct vns_virtq *vq, enum vns_hostile kind, uint64_t scratch)
{
    uint16_t pos = vq->next_avail_idx, id = vq->free_head < vq->num ? vq->free_head : 0;
    uint64_t table = scratch, buf = scratch + 32;

    switch (kind) {
    case VNS_HOSTILE_PACKED_BAD_ID:
        packed_desc(vq, 0, pos, buf, 16, (uint16_t)vq->num, 0);
        return 0;
    case VNS_HOSTILE_NESTED_INDIRECT:
        packed_desc(vq, table, 0, table, 16, 0, VNS_VRING_DESC_F_INDIRECT);
        packed_desc(vq, 0, pos, table, 16, id, VNS_VRING_DESC_F_INDIRECT);
        return 0;
    case VNS_HOSTILE_BAD_INDIRECT_LEN:
        packed_desc(vq, 0, pos, table, 20, id, VNS_VRING_DESC_F_INDIRECT);
        return 0;
    case VNS_HOSTILE_OUT_OF_RANGE:
        packed_desc(vq, 0, pos, HOSTILE_BAD_GPA, 1500, id, 0);
        return 0;
    case VNS_HOSTILE_OUT_AFTER_IN:
        if (vq->num < 2)
            return -VNS_EINVAL;
        /* The second descriptor of the chain first (head written last). */
        packed_desc(vq, 0, (uint16_t)((pos + 1) % vq->num), buf, 16, id, 0);
        packed_desc(vq, 0, pos, buf, 16, id, VNS_VRING_DESC_F_WRITE | VNS_VRING_DESC_F_NEXT);
        return 0;
    default:
        /* bad_head, avail_jump and desc_loop are split-ring notions. */
        return -VNS_EINVAL;
    }
}

int vns_virtq_inject_hostile(struct vns_virtq *vq, enum vns_hostile kind, uint64_t scratch_gpa)
{
    if ((unsigned)kind >= VNS_HOSTILE__COUNT)
        return -VNS_EINVAL;
    if (!vns_gmem_range_ok(vq->mem, scratch_gpa, 64))
        return -VNS_EFAULT;
    return vq->layout == VNS_VIRTQ_SPLIT ? inject_split(vq, kind, scratch_gpa)
                                         : inject_packed(vq, kind, scratch_gpa);
}

/* Take what the injection used out of the driver's hands, as if its own
 * add had written it: the avail slot (split) or ring position (packed),
 * and the descriptors or buffer id. */
static void hostile_commit(struct vns_virtq *vq, enum vns_hostile kind)
{
    unsigned ndesc = kind == VNS_HOSTILE_OUT_AFTER_IN ? 2 : 1;

    if (vq->layout == VNS_VIRTQ_SPLIT) {
        if (kind == VNS_HOSTILE_AVAIL_JUMP) {
            vq->avail_idx_shadow = (uint16_t)(vq->avail_idx_shadow + vq->num + 1);
            return;
        }
        vq->avail_idx_shadow++;
        if (kind == VNS_HOSTILE_BAD_HEAD)
            return;
        for (unsigned i = 0; i < ndesc && vq->free_head < vq->num; i++) {
            vq->free_head = vq->extra[vq->free_head].next;
            vq->num_free--;
        }
        return;
    }
    if (kind != VNS_HOSTILE_PACKED_BAD_ID && vq->free_head < vq->num)
        vq->free_head = vq->extra[vq->free_head].next;
    for (unsigned i = 0; i < ndesc; i++) {
        vq->num_free--;
        if (++vq->next_avail_idx >= vq->num) {
            vq->next_avail_idx = 0;
            vq->avail_wrap_counter ^= 1;
            vq->avail_used_flags ^= VNS_VRING_PACKED_F_AVAIL_MASK | VNS_VRING_PACKED_F_USED_MASK;
        }
    }
}

int vns_virtq_inject_hostile_in_order(struct vns_virtq *vq, enum vns_hostile kind, uint64_t scratch_gpa)
{
    unsigned need = vq->layout == VNS_VIRTQ_SPLIT || kind == VNS_HOSTILE_OUT_AFTER_IN ? 2 : 1;
    int err;

    if (kind != VNS_HOSTILE_BAD_HEAD && kind != VNS_HOSTILE_AVAIL_JUMP && vq->num_free < need)
        return -VNS_EBUSY;
    err = vns_virtq_inject_hostile(vq, kind, scratch_gpa);
    if (!err)
        hostile_commit(vq, kind);
    return err;
}
