/* vnetsim -- virtio ring wire format: split (virtio 1.x section 2.7) and
 * packed (section 2.8) layouts, as Linux's include/uapi/linux/virtio_ring.h
 * defines them.
 *
 * Ring bytes live in simulated guest memory and are little-endian. They are
 * never accessed by casting a host pointer to these structs: the structs
 * exist only to pin the sizes and offsets (the _Static_asserts below); the
 * code uses the VNS_VRING_* byte offsets with the LE accessors of gmem.h.
 * A test cross-checks every offset against the uapi header when present. */
#ifndef VNETSIM_PROTO_VIRTIO_RING_H
#define VNETSIM_PROTO_VIRTIO_RING_H

#include <stddef.h>
#include <stdint.h>

/* --- descriptor flags (both layouts) ---------------------------------- */
#define VNS_VRING_DESC_F_NEXT 1u      /* chain continues (split: via next) */
#define VNS_VRING_DESC_F_WRITE 2u     /* device-writable ("in") */
#define VNS_VRING_DESC_F_INDIRECT 4u  /* buffer holds a descriptor table */
/* Packed ring: uapi defines these as shift counts (7 and 15). */
#define VNS_VRING_PACKED_DESC_F_AVAIL 7
#define VNS_VRING_PACKED_DESC_F_USED 15
#define VNS_VRING_PACKED_F_AVAIL_MASK (1u << VNS_VRING_PACKED_DESC_F_AVAIL)
#define VNS_VRING_PACKED_F_USED_MASK (1u << VNS_VRING_PACKED_DESC_F_USED)

/* --- split ring suppression flags -------------------------------------- */
#define VNS_VRING_USED_F_NO_NOTIFY 1u     /* device -> driver: don't kick */
#define VNS_VRING_AVAIL_F_NO_INTERRUPT 1u /* driver -> device: don't interrupt */

/* --- packed ring event suppression ------------------------------------- */
#define VNS_VRING_PACKED_EVENT_FLAG_ENABLE 0x0u
#define VNS_VRING_PACKED_EVENT_FLAG_DISABLE 0x1u
#define VNS_VRING_PACKED_EVENT_FLAG_DESC 0x2u
#define VNS_VRING_PACKED_EVENT_F_WRAP_CTR 15

/* --- feature bits (include/uapi/linux/virtio_config.h, virtio_ring.h) --- */
#define VNS_VIRTIO_F_NOTIFY_ON_EMPTY 24
#define VNS_VIRTIO_F_ANY_LAYOUT 27
#define VNS_VIRTIO_RING_F_INDIRECT_DESC 28
#define VNS_VIRTIO_RING_F_EVENT_IDX 29
#define VNS_VIRTIO_F_VERSION_1 32
#define VNS_VIRTIO_F_RING_PACKED 34

/* Largest queue size of either layout (split: power of two up to this). */
#define VNS_VIRTQ_MAX_NUM 32768u

/* --- part alignments (uapi VRING_*_ALIGN_SIZE) -------------------------- */
#define VNS_VRING_DESC_ALIGN_SIZE 16u
#define VNS_VRING_AVAIL_ALIGN_SIZE 2u
#define VNS_VRING_USED_ALIGN_SIZE 4u
/* Legacy contiguous layout alignment (VIRTIO_PCI_VRING_ALIGN). */
#define VNS_VRING_LEGACY_ALIGN 4096u

/* --- split descriptor: struct vring_desc (16 bytes) --------------------- */
#define VNS_VRING_DESC_SIZE 16u
#define VNS_VRING_DESC_ADDR 0u   /* le64 guest-physical address */
#define VNS_VRING_DESC_LEN 8u    /* le32 */
#define VNS_VRING_DESC_FLAGS 12u /* le16 */
#define VNS_VRING_DESC_NEXT 14u  /* le16 */

/* --- split available ring: struct vring_avail -------------------------- */
#define VNS_VRING_AVAIL_FLAGS 0u
#define VNS_VRING_AVAIL_IDX 2u
#define VNS_VRING_AVAIL_RING 4u  /* le16 ring[num], then le16 used_event */

/* --- split used ring: struct vring_used --------------------------------- */
#define VNS_VRING_USED_FLAGS 0u
#define VNS_VRING_USED_IDX 2u
#define VNS_VRING_USED_RING 4u     /* vring_used_elem ring[num], then le16 avail_event */
#define VNS_VRING_USED_ELEM_SIZE 8u
#define VNS_VRING_USED_ELEM_ID 0u  /* le32 head index */
#define VNS_VRING_USED_ELEM_LEN 4u /* le32 bytes written */

/* --- packed descriptor: struct vring_packed_desc (16 bytes) ------------- */
#define VNS_VRING_PACKED_DESC_ADDR 0u  /* le64 */
#define VNS_VRING_PACKED_DESC_LEN 8u   /* le32 */
#define VNS_VRING_PACKED_DESC_ID 12u   /* le16 buffer id */
#define VNS_VRING_PACKED_DESC_FLAGS 14u /* le16 */

/* --- packed event suppression: struct vring_packed_desc_event (4 bytes) - */
#define VNS_VRING_PACKED_EVENT_SIZE 4u
#define VNS_VRING_PACKED_EVENT_OFF_WRAP 0u /* le16 */
#define VNS_VRING_PACKED_EVENT_FLAGS 2u    /* le16 */

/* Size-pinning mirrors of the uapi structs. Never overlaid on ring bytes. */
struct vns_vring_desc_layout {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
struct vns_vring_used_elem_layout {
    uint32_t id;
    uint32_t len;
};
struct vns_vring_packed_desc_layout {
    uint64_t addr;
    uint32_t len;
    uint16_t id;
    uint16_t flags;
};
struct vns_vring_packed_event_layout {
    uint16_t off_wrap;
    uint16_t flags;
};

_Static_assert(sizeof(struct vns_vring_desc_layout) == VNS_VRING_DESC_SIZE, "vring_desc");
_Static_assert(offsetof(struct vns_vring_desc_layout, len) == VNS_VRING_DESC_LEN, "desc.len");
_Static_assert(offsetof(struct vns_vring_desc_layout, flags) == VNS_VRING_DESC_FLAGS, "desc.flags");
_Static_assert(offsetof(struct vns_vring_desc_layout, next) == VNS_VRING_DESC_NEXT, "desc.next");
_Static_assert(sizeof(struct vns_vring_used_elem_layout) == VNS_VRING_USED_ELEM_SIZE, "used_elem");
_Static_assert(sizeof(struct vns_vring_packed_desc_layout) == 16, "vring_packed_desc");
_Static_assert(offsetof(struct vns_vring_packed_desc_layout, id) == VNS_VRING_PACKED_DESC_ID,
               "packed.id");
_Static_assert(offsetof(struct vns_vring_packed_desc_layout, flags) ==
                   VNS_VRING_PACKED_DESC_FLAGS, "packed.flags");
_Static_assert(sizeof(struct vns_vring_packed_event_layout) == VNS_VRING_PACKED_EVENT_SIZE,
               "vring_packed_desc_event");

/* --- split layout helpers (byte offsets inside each part) --------------- */
static inline uint64_t vns_vring_desc_table_size(uint32_t num)
{
    return (uint64_t)VNS_VRING_DESC_SIZE * num;
}
/* flags, idx, ring[num], used_event */
static inline uint64_t vns_vring_avail_size(uint32_t num)
{
    return 6u + 2u * (uint64_t)num;
}
/* flags, idx, ring[num], avail_event */
static inline uint64_t vns_vring_used_size(uint32_t num)
{
    return 6u + (uint64_t)VNS_VRING_USED_ELEM_SIZE * num;
}
static inline uint64_t vns_vring_avail_slot(uint32_t slot)
{
    return VNS_VRING_AVAIL_RING + 2u * (uint64_t)slot;
}
static inline uint64_t vns_vring_used_event_off(uint32_t num)
{
    return VNS_VRING_AVAIL_RING + 2u * (uint64_t)num;
}
static inline uint64_t vns_vring_used_slot(uint32_t slot)
{
    return VNS_VRING_USED_RING + (uint64_t)VNS_VRING_USED_ELEM_SIZE * slot;
}
static inline uint64_t vns_vring_avail_event_off(uint32_t num)
{
    return VNS_VRING_USED_RING + (uint64_t)VNS_VRING_USED_ELEM_SIZE * num;
}

/* Legacy contiguous layout (vring_init): desc at 0, avail after it, used
 * at the next multiple of @align after avail's used_event. @align must be
 * a power of two. */
static inline uint64_t vns_vring_legacy_used_off(uint32_t num, uint64_t align)
{
    uint64_t end = vns_vring_desc_table_size(num) + vns_vring_avail_size(num);

    return (end + align - 1) & ~(align - 1);
}
/* vring_size(): the whole legacy block, used ring's avail_event included. */
static inline uint64_t vns_vring_size(uint32_t num, uint64_t align)
{
    return vns_vring_legacy_used_off(num, align) + vns_vring_used_size(num);
}

/* vring_need_event(): with the other side's event index @event_idx, having
 * moved our index from @old to @new_idx, must we notify? Exact 16-bit
 * wrapping arithmetic of the uapi header (virtio 1.x 2.7.10). */
static inline int vns_vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

/* --- packed layout: descriptor ring, driver area, device area ----------- */
static inline uint64_t vns_vring_packed_desc_size(uint32_t num)
{
    return 16u * (uint64_t)num;
}

#endif
