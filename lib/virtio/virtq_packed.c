/* vnetsim -- packed virtqueue (virtio 1.x 2.8), driver side.
 *
 * Models drivers/virtio/virtio_ring.c (~v6.6): virtqueue_add_packed,
 * virtqueue_add_indirect_packed, virtqueue_kick_prepare_packed,
 * virtqueue_get_buf_ctx_packed, detach_buf_packed and the packed event
 * suppression (driver area written by us, device area read). Buffer ids
 * come from a free list over desc_extra, one id per descriptor as Linux
 * does; every descriptor of a chain carries the chain's id. The head's
 * flags are written last so the device never sees a partial chain.
 *
 * Simplified: no DMA mapping; indirect tables are preplaced (virtq.c). */
#include "virtio/virtq_int.h"

#define PK_AVAIL VNS_VRING_PACKED_F_AVAIL_MASK
#define PK_USED VNS_VRING_PACKED_F_USED_MASK
#define WRAP_BIT (1u << VNS_VRING_PACKED_EVENT_F_WRAP_CTR)

void vns__virtq_init_packed(struct vns_virtq *vq, bool no_callback)
{
    uint32_t num = vq->num;

    (void)vns_gmem_fill(vq->mem, vq->addr.desc, 0, (size_t)vns_vring_packed_desc_size(num));
    (void)vns_gmem_fill(vq->mem, vq->addr.avail, 0, VNS_VRING_PACKED_EVENT_SIZE);
    (void)vns_gmem_fill(vq->mem, vq->addr.used, 0, VNS_VRING_PACKED_EVENT_SIZE);
    for (uint32_t i = 0; i < num; i++)
        vq->extra[i].next = (uint16_t)(i + 1);   /* the last one points at num: none */
    vq->free_head = 0;
    vq->num_free = num;
    vq->next_avail_idx = 0;
    vq->avail_wrap_counter = true;
    vq->avail_used_flags = PK_AVAIL;
    vq->last_used_idx = (uint16_t)(0 | WRAP_BIT);
    vq->event_flags_shadow = VNS_VRING_PACKED_EVENT_FLAG_ENABLE;
    if (no_callback) {
        vq->event_flags_shadow = VNS_VRING_PACKED_EVENT_FLAG_DISABLE;
        vq_w16(vq_win(&vq->avail), VNS_VRING_PACKED_EVENT_FLAGS,
                                 vq->event_flags_shadow);
    }
}

static inline void packed_write_desc(struct vns_virtq *vq, uint16_t i, uint64_t addr,
                                     uint32_t len, uint16_t id)
{
    uint64_t b = (uint64_t)i * 16u;

    vq_w64(vq_win(&vq->desc), b + VNS_VRING_PACKED_DESC_ADDR, addr);
    vq_w32(vq_win(&vq->desc), b + VNS_VRING_PACKED_DESC_LEN, len);
    vq_w16(vq_win(&vq->desc), b + VNS_VRING_PACKED_DESC_ID, id);
}

static inline void packed_write_flags(struct vns_virtq *vq, uint16_t i, uint16_t flags)
{
    vq_w16(vq_win(&vq->desc), (uint64_t)i * 16u + VNS_VRING_PACKED_DESC_FLAGS, flags);
}

static int packed_add_indirect(struct vns_virtq *vq, const struct vns_sg *sg, unsigned out_sgs,
                               unsigned total, void *data)
{
    uint16_t head = vq->next_avail_idx, id = vq->free_head, n;
    uint64_t table;

    table = vns__virtq_write_indirect(vq, id, sg, out_sgs, total, true);
    packed_write_desc(vq, head, table, total * 16u, id);
    /* Order A: the descriptor is fully written before it is exposed. */
    vns_gmem_publish(vq->mem);
    packed_write_flags(vq, head, (uint16_t)(VNS_VRING_DESC_F_INDIRECT | vq->avail_used_flags));
    vq->num_free -= 1;
    n = (uint16_t)(head + 1);
    if (n >= vq->num) {
        n = 0;
        vq->avail_wrap_counter ^= 1;
        vq->avail_used_flags ^= PK_AVAIL | PK_USED;
    }
    vq->next_avail_idx = n;
    vq->free_head = vq->extra[id].next;
    vq->extra[id].flags = 0;
    vq->state[id].num = 1;
    vq->state[id].data = data;
    vq->state[id].indir = table;
    vq->state[id].last = id;
    vq->num_added += 1;
    vq->stats.adds++;
    vq->stats.descs++;
    vq->stats.indirect++;
    return 0;
}

static int packed_add(struct vns_virtq *vq, const struct vns_sg *sg, unsigned out_sgs,
                      unsigned in_sgs, void *data, struct vns_ctx *ctx)
{
    unsigned total = out_sgs + in_sgs;
    uint16_t head, id, curr, prev = 0, i, head_flags = 0;

    if (vq->indirect && total > 1 && vq->num_free && total <= vq->indirect_max)
        return packed_add_indirect(vq, sg, out_sgs, total, data);
    if (VNS_UNLIKELY(vq->num_free < total))
        return vns__virtq_add_full(vq, out_sgs, ctx);
    head = vq->next_avail_idx;
    i = head;
    id = vq->free_head;
    curr = id;
    for (unsigned c = 0; c < total; c++) {
        uint16_t flags = (uint16_t)(vq->avail_used_flags |
                                    (c + 1 == total ? 0 : VNS_VRING_DESC_F_NEXT) |
                                    (c < out_sgs ? 0 : VNS_VRING_DESC_F_WRITE));

        packed_write_desc(vq, i, sg[c].addr, sg[c].len, id);
        if (i == head)
            head_flags = flags;
        else
            packed_write_flags(vq, i, flags);
        vq->extra[curr].addr = sg[c].addr;
        vq->extra[curr].len = sg[c].len;
        vq->extra[curr].flags = flags;
        prev = curr;
        curr = vq->extra[curr].next;
        if (++i >= vq->num) {
            i = 0;
            vq->avail_used_flags ^= PK_AVAIL | PK_USED;
        }
    }
    if (i <= head)
        vq->avail_wrap_counter ^= 1;
    vq->num_free -= total;
    vq->next_avail_idx = i;
    vq->free_head = curr;
    vq->state[id].num = (uint16_t)total;
    vq->state[id].data = data;
    vq->state[id].indir = 0;
    vq->state[id].last = prev;
    /* Order A: a driver makes the head available last, after a write
     * barrier, so the device never sees a partial chain (2.8.21.1). */
    vns_gmem_publish(vq->mem);
    packed_write_flags(vq, head, head_flags);
    vq->num_added += total;
    vq->stats.adds++;
    vq->stats.descs += total;
    (void)ctx;
    return 0;
}

static bool packed_kick_prepare(struct vns_virtq *vq)
{
    uint16_t new_idx, old, off_wrap, flags, event_idx;
    bool needs_kick;

    /* Order B: virtio_mb before reading the device event snapshot. */
    vns_gmem_mb(vq->mem);
    old = (uint16_t)(vq->next_avail_idx - vq->num_added);
    new_idx = vq->next_avail_idx;
    vq->num_added = 0;
    off_wrap = vq_r16(vq_win(&vq->used), VNS_VRING_PACKED_EVENT_OFF_WRAP);
    flags = vq_r16(vq_win(&vq->used), VNS_VRING_PACKED_EVENT_FLAGS);
    if (flags != VNS_VRING_PACKED_EVENT_FLAG_DESC) {
        needs_kick = flags != VNS_VRING_PACKED_EVENT_FLAG_DISABLE;
    } else {
        event_idx = (uint16_t)(off_wrap & ~WRAP_BIT);
        if ((bool)(off_wrap >> VNS_VRING_PACKED_EVENT_F_WRAP_CTR) != vq->avail_wrap_counter)
            event_idx = (uint16_t)(event_idx - vq->num);
        needs_kick = vns_vring_need_event(event_idx, new_idx, old);
    }
    return vns__virtq_count_kick(vq, needs_kick);
}

static inline bool packed_is_used_desc(const struct vns_virtq *vq, uint16_t idx, bool wrap)
{
    uint16_t flags = vq_r16(vq_win(&vq->desc), (uint64_t)idx * 16u +
                                                            VNS_VRING_PACKED_DESC_FLAGS);
    bool avail = flags & PK_AVAIL, used = flags & PK_USED;

    return avail == used && used == wrap;
}

static bool packed_more_used(const struct vns_virtq *vq)
{
    uint16_t pos = (uint16_t)(vq->last_used_idx & ~WRAP_BIT);

    /* A position outside the ring cannot happen: last_used_idx is ours. */
    return packed_is_used_desc(vq, pos, vq->last_used_idx & WRAP_BIT);
}

static void packed_detach_buf(struct vns_virtq *vq, uint16_t id)
{
    struct virtq_desc_state *st = &vq->state[id];

    st->data = NULL;
    vq->extra[st->last].next = vq->free_head;
    vq->free_head = id;
    vq->num_free += st->num;
    st->indir = 0;
}

static void *packed_get_buf(struct vns_virtq *vq, uint32_t *len)
{
    uint16_t last_used, id;
    bool wrap;
    void *data;

    if (!packed_more_used(vq))
        return NULL;
    /* Order A': only read the used element after its flags (virtio_rmb). */
    vns_gmem_acquire(vq->mem);
    wrap = vq->last_used_idx & WRAP_BIT;
    last_used = (uint16_t)(vq->last_used_idx & ~WRAP_BIT);
    id = vq_r16(vq_win(&vq->desc), (uint64_t)last_used * 16u + VNS_VRING_PACKED_DESC_ID);
    if (len)
        *len = vq_r32(vq_win(&vq->desc),
                                       (uint64_t)last_used * 16u + VNS_VRING_PACKED_DESC_LEN);
    if (VNS_UNLIKELY(id >= vq->num || vq->state[id].data == NULL)) {
        vns__virtq_bad_ring(vq);
        return NULL;
    }
    data = vq->state[id].data;
    packed_detach_buf(vq, id);
    last_used = (uint16_t)(last_used + vq->state[id].num);
    if (last_used >= vq->num) {
        last_used = (uint16_t)(last_used - vq->num);
        wrap = !wrap;
    }
    vq->last_used_idx = (uint16_t)(last_used | (wrap ? WRAP_BIT : 0));
    /* If we expect an interrupt for the next entry, tell host by writing
     * event index and flush out the write before the read in the next
     * get_buf call. */
    if (vq->event_flags_shadow == VNS_VRING_PACKED_EVENT_FLAG_DESC) {
        vq_w16(vq_win(&vq->avail), VNS_VRING_PACKED_EVENT_OFF_WRAP,
                                 vq->last_used_idx);
        vns_gmem_mb(vq->mem);
    }
    vq->stats.get_bufs++;
    return data;
}

static void packed_disable_cb(struct vns_virtq *vq)
{
    if (vq->event_flags_shadow != VNS_VRING_PACKED_EVENT_FLAG_DISABLE) {
        vq->event_flags_shadow = VNS_VRING_PACKED_EVENT_FLAG_DISABLE;
        if (vq->event_triggered)
            return;
        vq_w16(vq_win(&vq->avail), VNS_VRING_PACKED_EVENT_FLAGS,
                                 vq->event_flags_shadow);
    }
}

static void packed_enable_flags(struct vns_virtq *vq)
{
    if (vq->event_flags_shadow == VNS_VRING_PACKED_EVENT_FLAG_DISABLE) {
        vq->event_flags_shadow = vq->event ? VNS_VRING_PACKED_EVENT_FLAG_DESC
                                           : VNS_VRING_PACKED_EVENT_FLAG_ENABLE;
        vq_w16(vq_win(&vq->avail), VNS_VRING_PACKED_EVENT_FLAGS,
                                 vq->event_flags_shadow);
    }
}

static unsigned packed_enable_cb_prepare(struct vns_virtq *vq)
{
    if (vq->event) {
        vq_w16(vq_win(&vq->avail), VNS_VRING_PACKED_EVENT_OFF_WRAP,
                                 vq->last_used_idx);
        /* Order C: event offset and wrap before the event flags. */
        vns_gmem_publish(vq->mem);
    }
    packed_enable_flags(vq);
    return vq->last_used_idx;
}

static bool packed_poll(const struct vns_virtq *vq, unsigned last)
{
    uint16_t pos = (uint16_t)(last & ~WRAP_BIT);

    if (pos >= vq->num)
        return false;
    return packed_is_used_desc(vq, pos, last & WRAP_BIT);
}

static bool packed_enable_cb_delayed(struct vns_virtq *vq)
{
    uint16_t used_idx;
    bool wrap;

    if (vq->event) {
        /* TODO (Linux): tune this threshold */
        uint32_t bufs = (vq->num - vq->num_free) * 3 / 4;

        wrap = vq->last_used_idx & WRAP_BIT;
        used_idx = (uint16_t)((vq->last_used_idx & ~WRAP_BIT) + bufs);
        if (used_idx >= vq->num) {
            used_idx = (uint16_t)(used_idx - vq->num);
            wrap = !wrap;
        }
        vq_w16(vq_win(&vq->avail), VNS_VRING_PACKED_EVENT_OFF_WRAP,
                                 (uint16_t)(used_idx | (wrap ? WRAP_BIT : 0)));
        /* Order C: event offset and wrap before the event flags. */
        vns_gmem_publish(vq->mem);
    }
    packed_enable_flags(vq);
    /* Update the event suppression structure before re-checking. */
    vns_gmem_mb(vq->mem);
    return !packed_more_used(vq);
}

static void *packed_detach_unused_buf(struct vns_virtq *vq)
{
    for (uint32_t i = 0; i < vq->num; i++) {
        void *buf = vq->state[i].data;

        if (buf == NULL)
            continue;
        packed_detach_buf(vq, (uint16_t)i);
        return buf;
    }
    return NULL;
}

const struct virtq_ops vns__virtq_packed_ops = {
    .add = packed_add,
    .kick_prepare = packed_kick_prepare,
    .get_buf = packed_get_buf,
    .more_used = packed_more_used,
    .disable_cb = packed_disable_cb,
    .enable_cb_prepare = packed_enable_cb_prepare,
    .poll = packed_poll,
    .enable_cb_delayed = packed_enable_cb_delayed,
    .detach_unused_buf = packed_detach_unused_buf,
};
