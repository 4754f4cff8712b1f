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
            vq_w16(vq_win(&vq->avail), VNS_VRING_AVAIL_FLAGS, vq->avail_flags_shadow);
    }
}

/* virtqueue_add_desc_split for a ring descriptor: write it, remember it. */
static inline uint16_t split_add_desc(struct virtq_desc_extra *extra, struct vq_win desc,
                                      uint16_t i, uint64_t addr, uint32_t len, uint16_t flags)
{
    struct virtq_desc_extra *x = &extra[i];
    uint16_t next = x->next;

    x->addr = addr;
    x->len = len;
    x->flags = flags;
    vq_desc_write(desc, i, addr, len, flags, next);
    return next;
}

/* The indirect branch of virtqueue_add_split: the table, then one ring
 * descriptor pointing at it. Out of line to keep split_add a leaf. */
static VNS__COLD void split_add_indirect(struct vns_virtq *vq, const struct vns_sg *sg,
                                         unsigned out_sgs, unsigned total, uint16_t head)
{
    uint64_t table = vns__virtq_write_indirect(vq, head, sg, out_sgs, total, false);

    split_add_desc(vq->extra, vq_win(&vq->desc), head, table, total * VNS_VRING_DESC_SIZE,
                   VNS_VRING_DESC_F_INDIRECT);
    vq->free_head = vq->extra[head].next;
    vq->state[head].indir = table;
    vq->stats.indirect++;
}

static int split_add(struct vns_virtq *vq, const struct vns_sg *sg, unsigned out_sgs,
                     unsigned in_sgs, void *data, struct vns_ctx *ctx)
{
    unsigned total = out_sgs + in_sgs;
    uint16_t head = vq->free_head, i;
    const struct vq_win desc = vq_win(&vq->desc), avail = vq_win(&vq->avail);
    bool indirect;
    unsigned descs_used;

    /* virtqueue_use_indirect: indirect && total_sg > 1 && num_free */
    indirect = vq->indirect && total > 1 && vq->num_free && total <= vq->indirect_max;
    descs_used = indirect ? 1 : total;
    if (VNS_UNLIKELY(vq->num_free < descs_used))
        return vns__virtq_add_full(vq, out_sgs, ctx);
    if (indirect) {
        split_add_indirect(vq, sg, out_sgs, total, head);
    } else {
        i = head;
        for (unsigned n = 0; n < total; n++) {
            uint16_t flags = n < out_sgs ? 0 : VNS_VRING_DESC_F_WRITE;

            /* Last one doesn't continue. */
            if (n + 1 < total)
                flags |= VNS_VRING_DESC_F_NEXT;
            i = split_add_desc(vq->extra, desc, i, sg[n].addr, sg[n].len, flags);
        }
        vq->free_head = i;
        vq->state[head].indir = 0;
    }
    vq->num_free -= descs_used;
    vq->state[head].data = data;
    /* Put entry in available array (but don't update avail->idx until they
     * do sync). */
    {
        uint16_t shadow = vq->avail_idx_shadow;

        vq->avail_idx_shadow = (uint16_t)(shadow + 1);
        vq->num_added++;
        vq_w16(avail, vns_vring_avail_slot(shadow & (vq->num - 1)), head);
        /* Order A: descriptors and the avail entry before avail->idx;
         * pairs with vhost's smp_rmb after reading avail->idx. */
        vns_gmem_publish(vq->mem);
        vq_w16(avail, VNS_VRING_AVAIL_IDX, (uint16_t)(shadow + 1));
    }
    vq->stats.adds++;
    vq->stats.descs += descs_used;
    if (VNS_UNLIKELY(vq->num_added == (1u << 16) - 1))
        return vns__virtq_add_kick(vq, ctx);
    return 0;
}

static bool split_kick_prepare(struct vns_virtq *vq)
{
    uint16_t new_idx, old;
    bool needs_kick;

    /* Order B: expose avail entries before checking avail event / flags
     * (virtio_mb); pairs with vhost_enable_notify's smp_mb. */
    vns_gmem_mb(vq->mem);
    old = (uint16_t)(vq->avail_idx_shadow - vq->num_added);
    new_idx = vq->avail_idx_shadow;
    vq->num_added = 0;
    if (vq->event)
        needs_kick = vns_vring_need_event(
            vq_r16(vq_win(&vq->used), vns_vring_avail_event_off(vq->num)), new_idx, old);
    else
        needs_kick = !(vq_r16(vq_win(&vq->used), VNS_VRING_USED_FLAGS) &
                       VNS_VRING_USED_F_NO_NOTIFY);
    return vns__virtq_count_kick(vq, needs_kick);
}

static void split_detach_buf(struct vns_virtq *vq, uint16_t head)
{
    uint16_t i = head;

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
}

static bool split_more_used(const struct vns_virtq *vq)
{
    return vq->last_used_idx != vq_r16(vq_win(&vq->used), VNS_VRING_USED_IDX);
}

static void *split_get_buf(struct vns_virtq *vq, uint32_t *len)
{
    uint64_t e;
    uint32_t id;
    void *data;

    if (!split_more_used(vq))
        return NULL;
    /* Order A': only get used entries after they have been exposed by the
     * device (virtio_rmb); pairs with vhost_add_used_n's smp_wmb. */
    vns_gmem_acquire(vq->mem);
    e = vns_vring_used_slot(vq->last_used_idx & (vq->num - 1));
    id = vq_r32(vq_win(&vq->used), e + VNS_VRING_USED_ELEM_ID);
    if (len)
        *len = vq_r32(vq_win(&vq->used), e + VNS_VRING_USED_ELEM_LEN);
    if (VNS_UNLIKELY(id >= vq->num || vq->state[id].data == NULL)) {
        /* BAD_RING "id %u out of range" / "id %u is not a head!" */
        vns__virtq_bad_ring(vq);
        return NULL;
    }
    data = vq->state[id].data;
    split_detach_buf(vq, (uint16_t)id);
    vq->last_used_idx++;
    /* If we expect an interrupt for the next entry, tell host by writing
     * event index and flush out the write before the read in the next
     * get_buf call (virtio_store_mb). */
    if (!(vq->avail_flags_shadow & VNS_VRING_AVAIL_F_NO_INTERRUPT)) {
        vq_w16(vq_win(&vq->avail), vns_vring_used_event_off(vq->num),
                                 vq->last_used_idx);
        vns_gmem_mb(vq->mem);
    }
    vq->stats.get_bufs++;
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
            vq_w16(vq_win(&vq->avail), vns_vring_used_event_off(vq->num), 0);
        else
            vq_w16(vq_win(&vq->avail), VNS_VRING_AVAIL_FLAGS, vq->avail_flags_shadow);
    }
}

static void split_enable_flags(struct vns_virtq *vq)
{
    if (vq->avail_flags_shadow & VNS_VRING_AVAIL_F_NO_INTERRUPT) {
        vq->avail_flags_shadow &= (uint16_t)~VNS_VRING_AVAIL_F_NO_INTERRUPT;
        if (!vq->event)
            vq_w16(vq_win(&vq->avail), VNS_VRING_AVAIL_FLAGS, vq->avail_flags_shadow);
    }
}

static unsigned split_enable_cb_prepare(struct vns_virtq *vq)
{
    /* Depending on EVENT_IDX, either clear the flag or point the event
     * index at the next entry. Always do both to keep code simple. */
    split_enable_flags(vq);
    vq_w16(vq_win(&vq->avail), vns_vring_used_event_off(vq->num), vq->last_used_idx);
    return vq->last_used_idx;
}

static bool split_poll(const struct vns_virtq *vq, unsigned last)
{
    return (uint16_t)last != vq_r16(vq_win(&vq->used), VNS_VRING_USED_IDX);
}

static bool split_enable_cb_delayed(struct vns_virtq *vq)
{
    uint16_t bufs;

    split_enable_flags(vq);
    /* TODO (Linux): tune this threshold */
    bufs = (uint16_t)((uint16_t)(vq->avail_idx_shadow - vq->last_used_idx) * 3 / 4);
    vq_w16(vq_win(&vq->avail), vns_vring_used_event_off(vq->num),
                             (uint16_t)(vq->last_used_idx + bufs));
    vns_gmem_mb(vq->mem);   /* virtio_store_mb */
    if ((uint16_t)(vq_r16(vq_win(&vq->used), VNS_VRING_USED_IDX) - vq->last_used_idx) >
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
        split_detach_buf(vq, (uint16_t)i);
        vq->avail_idx_shadow--;
        vq_w16(vq_win(&vq->avail), VNS_VRING_AVAIL_IDX, vq->avail_idx_shadow);
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
