/* vnetsim -- split virtqueue (virtio 1.x 2.7), driver side.
 *
 * Models drivers/virtio/virtio_ring.c (~v6.6): virtqueue_add_split,
 * virtqueue_kick_prepare_split, virtqueue_get_buf_ctx_split,
 * detach_buf_split, virtqueue_{disable_cb,enable_cb_prepare,poll,
 * enable_cb_delayed}_split, virtqueue_detach_unused_buf_split. The driver
 * keeps its own copy of each descriptor (desc_extra) and never reads
 * descriptors back from guest memory; it reads only used->idx, the used
 * elements, used->flags and avail_event, all written by the device.
 *
 * Simplified: no DMA mapping; indirect tables are preplaced (virtq.c). */
#include "virtio/virtq_int.h"

void vns__virtq_init_split(struct vns_virtq *vq, bool no_callback)
{
    uint32_t num = vq->num;

    (void)vns_gmem_fill(vq->mem, vq->addr.desc, 0, (size_t)vns_vring_desc_table_size(num));
    (void)vns_gmem_fill(vq->mem, vq->addr.avail, 0, (size_t)vns_vring_avail_size(num));
    (void)vns_gmem_fill(vq->mem, vq->addr.used, 0, (size_t)vns_vring_used_size(num));
    for (uint32_t i = 0; i + 1 < num; i++)
        vq->extra[i].next = (uint16_t)(i + 1);
    vq->free_head = 0;
    vq->num_free = num;
    vq->avail_flags_shadow = 0;
    vq->avail_idx_shadow = 0;
    vq->last_used_idx = 0;
    /* No callback? Tell other side not to bother us. */
    if (no_callback) {
        vq->avail_flags_shadow |= VNS_VRING_AVAIL_F_NO_INTERRUPT;
        if (!vq->event)
            vns_gmem_area_write_le16(&vq->avail, VNS_VRING_AVAIL_FLAGS, vq->avail_flags_shadow);
    }
}

/* virtqueue_add_desc_split for a ring descriptor: write it, remember it. */
static inline uint16_t split_add_desc(struct vns_virtq *vq, uint16_t i, uint64_t addr,
                                      uint32_t len, uint16_t flags)
{
    struct virtq_desc_extra *x = &vq->extra[i];
    uint8_t d[16];

    vns_le64_store(d + VNS_VRING_DESC_ADDR, addr);
    vns_le32_store(d + VNS_VRING_DESC_LEN, len);
    vns_le16_store(d + VNS_VRING_DESC_FLAGS, flags);
    vns_le16_store(d + VNS_VRING_DESC_NEXT, x->next);
    vns_gmem_area_write(&vq->desc, (uint64_t)i * VNS_VRING_DESC_SIZE, d, 16);
    x->addr = addr;
    x->len = len;
    x->flags = flags;
    return x->next;
}

static int split_add(struct vns_virtq *vq, const struct vns_sg *sg, unsigned out_sgs,
                     unsigned in_sgs, void *data, struct vns_ctx *ctx)
{
    unsigned total = out_sgs + in_sgs;
    uint16_t head = vq->free_head, i;
    bool indirect;
    unsigned descs_used;

    VQ_ENTER(ctx, virtqueue_add_split);
    /* virtqueue_use_indirect: indirect && total_sg > 1 && num_free */
    indirect = vq->indirect && total > 1 && vq->num_free && total <= vq->indirect_max;
    descs_used = indirect ? 1 : total;
    if (VNS_UNLIKELY(vq->num_free < descs_used)) {
        vq->stats.enospc++;
        VQ_EXIT(ctx);
        /* FIXME (Linux): for historical reasons, force a notify if there
         * are outgoing parts to the buffer. */
        if (out_sgs)
            (void)vns_virtq_notify(vq, ctx);
        return -VNS_ENOSPC;
    }
    if (indirect) {
        uint64_t table;

        VQ_CHARGE(ctx, alloc_indirect_split, 0);
        table = vns__virtq_write_indirect(vq, head, sg, out_sgs, total, false);
        VQ_CHARGE(ctx, virtqueue_add_desc_split, 0);
        split_add_desc(vq, head, table, total * VNS_VRING_DESC_SIZE, VNS_VRING_DESC_F_INDIRECT);
        vq->free_head = vq->extra[head].next;
        vq->state[head].indir = table;
        vq->stats.indirect++;
    } else {
        i = head;
        for (unsigned n = 0; n < total; n++) {
            uint16_t flags = n < out_sgs ? 0 : VNS_VRING_DESC_F_WRITE;

            /* Last one doesn't continue. */
            if (n + 1 < total)
                flags |= VNS_VRING_DESC_F_NEXT;
            VQ_CHARGE(ctx, virtqueue_add_desc_split, 0);
            i = split_add_desc(vq, i, sg[n].addr, sg[n].len, flags);
        }
        vq->free_head = i;
        vq->state[head].indir = 0;
    }
    vq->num_free -= descs_used;
    vq->state[head].data = data;
    /* Put entry in available array (but don't update avail->idx until they
     * do sync). */
    vns_gmem_area_write_le16(&vq->avail,
                             vns_vring_avail_slot(vq->avail_idx_shadow & (vq->num - 1)), head);
    /* Order A: descriptors and the avail entry before avail->idx; pairs
     * with vhost's smp_rmb after reading avail->idx. */
    vns_gmem_publish(vq->mem);
    vq->avail_idx_shadow++;
    vns_gmem_area_write_le16(&vq->avail, VNS_VRING_AVAIL_IDX, vq->avail_idx_shadow);
    vq->num_added++;
    vq->stats.adds++;
    vq->stats.descs += descs_used;
    VQ_EXIT(ctx);
    /* This is very unlikely, but theoretically possible. Kick just in case. */
    if (VNS_UNLIKELY(vq->num_added == (1u << 16) - 1))
        (void)vns_virtq_kick(vq, ctx);
    return 0;
}

static bool split_kick_prepare(struct vns_virtq *vq, struct vns_ctx *ctx)
{
    uint16_t new_idx, old;
    bool needs_kick;

    VQ_ENTER(ctx, virtqueue_kick_prepare_split);
    /* Order B: expose avail entries before checking avail event / flags
     * (virtio_mb); pairs with vhost_enable_notify's smp_mb. */
    vns_gmem_mb(vq->mem);
    old = (uint16_t)(vq->avail_idx_shadow - vq->num_added);
    new_idx = vq->avail_idx_shadow;
    vq->num_added = 0;
    if (vq->event)
        needs_kick = vns_vring_need_event(
            vns_gmem_area_read_le16(&vq->used, vns_vring_avail_event_off(vq->num)), new_idx, old);
    else
        needs_kick = !(vns_gmem_area_read_le16(&vq->used, VNS_VRING_USED_FLAGS) &
                       VNS_VRING_USED_F_NO_NOTIFY);
    VQ_EXIT(ctx);
    return needs_kick;
}

static void split_detach_buf(struct vns_virtq *vq, uint16_t head, struct vns_ctx *ctx)
{
    uint16_t i = head;

    VQ_ENTER(ctx, detach_buf_split);
    vq->state[head].data = NULL;
    /* Put back on free list: find end (our own copy of the flags). */
    while (vq->extra[i].flags & VNS_VRING_DESC_F_NEXT) {
        i = vq->extra[i].next;
        vq->num_free++;
    }
    vq->extra[i].next = vq->free_head;
    vq->free_head = head;
    /* Plus final descriptor */
    vq->num_free++;
    vq->state[head].indir = 0;
    VQ_EXIT(ctx);
}

static bool split_more_used(const struct vns_virtq *vq)
{
    return vq->last_used_idx != vns_gmem_area_read_le16(&vq->used, VNS_VRING_USED_IDX);
}

static void *split_get_buf(struct vns_virtq *vq, uint32_t *len, struct vns_ctx *ctx)
{
    uint8_t e[VNS_VRING_USED_ELEM_SIZE];
    uint32_t id;
    void *data;

    if (!split_more_used(vq))
        return NULL;
    VQ_ENTER(ctx, virtqueue_get_buf_ctx_split);
    /* Order A': only get used entries after they have been exposed by the
     * device (virtio_rmb); pairs with vhost_add_used_n's smp_wmb. */
    vns_gmem_acquire(vq->mem);
    vns_gmem_area_read(&vq->used, vns_vring_used_slot(vq->last_used_idx & (vq->num - 1)), e,
                       sizeof(e));
    id = vns_le32_load(e + VNS_VRING_USED_ELEM_ID);
    if (len)
        *len = vns_le32_load(e + VNS_VRING_USED_ELEM_LEN);
    if (VNS_UNLIKELY(id >= vq->num || vq->state[id].data == NULL)) {
        /* BAD_RING "id %u out of range" / "id %u is not a head!" */
        vns__virtq_bad_ring(vq);
        VQ_EXIT(ctx);
        return NULL;
    }
    data = vq->state[id].data;
    split_detach_buf(vq, (uint16_t)id, ctx);
    vq->last_used_idx++;
    /* If we expect an interrupt for the next entry, tell host by writing
     * event index and flush out the write before the read in the next
     * get_buf call (virtio_store_mb). */
    if (!(vq->avail_flags_shadow & VNS_VRING_AVAIL_F_NO_INTERRUPT)) {
        vns_gmem_area_write_le16(&vq->avail, vns_vring_used_event_off(vq->num),
                                 vq->last_used_idx);
        vns_gmem_mb(vq->mem);
    }
    VQ_EXIT(ctx);
    return data;
}

static void split_disable_cb(struct vns_virtq *vq)
{
    if (!(vq->avail_flags_shadow & VNS_VRING_AVAIL_F_NO_INTERRUPT)) {
        vq->avail_flags_shadow |= VNS_VRING_AVAIL_F_NO_INTERRUPT;
        /* If device triggered an event already it won't trigger one
         * again: no need to disable. */
        if (vq->event_triggered)
            return;
        if (vq->event)
            /* TODO (Linux): this is a hack. Figure out a cleaner value to write. */
            vns_gmem_area_write_le16(&vq->avail, vns_vring_used_event_off(vq->num), 0);
        else
            vns_gmem_area_write_le16(&vq->avail, VNS_VRING_AVAIL_FLAGS, vq->avail_flags_shadow);
    }
}

static void split_enable_flags(struct vns_virtq *vq)
{
    if (vq->avail_flags_shadow & VNS_VRING_AVAIL_F_NO_INTERRUPT) {
        vq->avail_flags_shadow &= (uint16_t)~VNS_VRING_AVAIL_F_NO_INTERRUPT;
        if (!vq->event)
            vns_gmem_area_write_le16(&vq->avail, VNS_VRING_AVAIL_FLAGS, vq->avail_flags_shadow);
    }
}

static unsigned split_enable_cb_prepare(struct vns_virtq *vq)
{
    /* Depending on EVENT_IDX, either clear the flag or point the event
     * index at the next entry. Always do both to keep code simple. */
    split_enable_flags(vq);
    vns_gmem_area_write_le16(&vq->avail, vns_vring_used_event_off(vq->num), vq->last_used_idx);
    return vq->last_used_idx;
}

static bool split_poll(const struct vns_virtq *vq, unsigned last)
{
    return (uint16_t)last != vns_gmem_area_read_le16(&vq->used, VNS_VRING_USED_IDX);
}

static bool split_enable_cb_delayed(struct vns_virtq *vq)
{
    uint16_t bufs;

    split_enable_flags(vq);
    /* TODO (Linux): tune this threshold */
    bufs = (uint16_t)((uint16_t)(vq->avail_idx_shadow - vq->last_used_idx) * 3 / 4);
    vns_gmem_area_write_le16(&vq->avail, vns_vring_used_event_off(vq->num),
                             (uint16_t)(vq->last_used_idx + bufs));
    vns_gmem_mb(vq->mem);   /* virtio_store_mb */
    if ((uint16_t)(vns_gmem_area_read_le16(&vq->used, VNS_VRING_USED_IDX) - vq->last_used_idx) >
        bufs)
        return false;
    return true;
}

static void *split_detach_unused_buf(struct vns_virtq *vq)
{
    for (uint32_t i = 0; i < vq->num; i++) {
        void *buf = vq->state[i].data;

        if (buf == NULL)
            continue;
        split_detach_buf(vq, (uint16_t)i, NULL);
        vq->avail_idx_shadow--;
        vns_gmem_area_write_le16(&vq->avail, VNS_VRING_AVAIL_IDX, vq->avail_idx_shadow);
        return buf;
    }
    return NULL;
}

const struct virtq_ops vns__virtq_split_ops = {
    .add = split_add,
    .kick_prepare = split_kick_prepare,
    .get_buf = split_get_buf,
    .more_used = split_more_used,
    .disable_cb = split_disable_cb,
    .enable_cb_prepare = split_enable_cb_prepare,
    .poll = split_poll,
    .enable_cb_delayed = split_enable_cb_delayed,
    .detach_unused_buf = split_detach_unused_buf,
};
