/* vnetsim -- packed virtqueue (virtio 1.x 2.8), device side.
 *
 * vhost (drivers/vhost) has no packed ring, so this side follows the
 * specification's device rules (2.8.1-2.8.10, 2.8.21) the way QEMU's
 * virtqueue_packed_pop / virtqueue_packed_fill / virtio_packed_should_notify
 * (hw/virtio/virtio.c) implement them, with vhost's names, vq_err
 * discipline and checks where they apply: chain bound (loop), translation
 * through the memory table, out after in, and the same get_indirect.
 * Packed-only checks: a buffer id >= num, and a chained descriptor whose
 * AVAIL/USED bits do not say "available" for the wrap counter at its
 * position (the driver writes the head last, so an inconsistent
 * continuation is a driver bug or an attack).
 *
 * Notification decisions use linear positions: the event offset is
 * placed in the current or the previous lap by its wrap bit, exactly the
 * "event_idx -= num if the wrap differs" of the Linux driver; more than a
 * full ring used since the last decision always signals. */
#include "virtio/virtq_int.h"

#define PK_AVAIL VNS_VRING_PACKED_F_AVAIL_MASK
#define PK_USED VNS_VRING_PACKED_F_USED_MASK
#define WRAP_BIT (1u << VNS_VRING_PACKED_EVENT_F_WRAP_CTR)

static inline bool pk_desc_avail(uint16_t flags, bool wrap)
{
    bool avail = flags & PK_AVAIL, used = flags & PK_USED;

    return avail == wrap && used != wrap;
}

static inline uint16_t pk_flags_at(const struct vns_devq *dq, uint16_t pos)
{
    return vq_r16(vq_win(&dq->desc), (uint64_t)pos * 16u + VNS_VRING_PACKED_DESC_FLAGS);
}

static int packed_get_vq_desc(struct vns_devq *dq, struct vns_iov *iov, unsigned iov_size,
                              unsigned *out_num, unsigned *in_num)
{
    uint16_t pos = dq->avail_pos, i = pos, id = 0, flags;
    bool w = dq->avail_wrap;
    unsigned found = 0;
    struct vq_desc d;
    int ret;

    if (!pk_desc_avail(pk_flags_at(dq, pos), w)) {
        dq->stats.empty++;
        return -VNS_EAGAIN;
    }
    /* Order A: read the chain only after its head's flags (2.8.21). */
    vns_gmem_acquire(dq->mem);
    *out_num = *in_num = 0;
    do {
        if (VNS_UNLIKELY(++found > dq->num))
            return vns__devq_err(dq, VNS_DEVQ_ERR_LOOP, -VNS_EINVAL);
        vq_desc_read(vq_win(&dq->desc), i, &d);
        flags = d.w14;
        if (VNS_UNLIKELY(found > 1 && !pk_desc_avail(flags, w)))
            return vns__devq_err(dq, VNS_DEVQ_ERR_PACKED_WRAP, -VNS_EINVAL);
        /* The buffer id is the one of the chain's last descriptor. */
        id = d.w12;
        if (flags & VNS_VRING_DESC_F_INDIRECT)
            ret = vns__devq_get_indirect(dq, d.addr, d.len, false, iov, iov_size, out_num,
                                         in_num);
        else
            ret = vns__devq_push_desc(dq, d.addr, d.len, flags, iov, iov_size, out_num, in_num,
                                      VNS_DEVQ_ERR_TRANSLATE, VNS_DEVQ_ERR_OUT_AFTER_IN);
        if (VNS_UNLIKELY(ret < 0))
            return ret;
        if (++i >= dq->num) {
            i = 0;
            w = !w;
        }
    } while (flags & VNS_VRING_DESC_F_NEXT);
    if (VNS_UNLIKELY(id >= dq->num))
        return vns__devq_err(dq, VNS_DEVQ_ERR_PACKED_ID, -VNS_EINVAL);
    dq->pk_count[id] = (uint16_t)found;
    dq->pk_hist[dq->pk_hist_head % dq->num].pos = pos;
    dq->pk_hist[dq->pk_hist_head % dq->num].wrap = dq->avail_wrap;
    dq->pk_hist_head++;
    if (dq->pk_hist_len < dq->num)
        dq->pk_hist_len++;
    dq->avail_pos = i;
    dq->avail_wrap = w;
    dq->stats.heads++;
    return id;
}

static void packed_discard(struct vns_devq *dq, unsigned n)
{
    if (n > dq->pk_hist_len)
        n = dq->pk_hist_len;
    if (n == 0)
        return;
    dq->pk_hist_head -= n;
    dq->pk_hist_len -= n;
    dq->stats.discards += n;
    dq->avail_pos = dq->pk_hist[dq->pk_hist_head % dq->num].pos;
    dq->avail_wrap = dq->pk_hist[dq->pk_hist_head % dq->num].wrap;
}

static int packed_add_used_n(struct vns_devq *dq, const struct vns_used_elem *heads,
                             unsigned count)
{
    uint16_t p = dq->used_pos, first_pos = dq->used_pos, first_flags = 0;
    bool w = dq->used_wrap;

    for (unsigned k = 0; k < count; k++)
        if (heads[k].id >= dq->num || dq->pk_count[heads[k].id] == 0)
            return -VNS_EINVAL;
    for (unsigned k = 0; k < count; k++) {
        uint16_t flags = w ? (uint16_t)(PK_AVAIL | PK_USED) : 0;
        uint16_t n = dq->pk_count[heads[k].id];

        /* The used descriptor: len and id at the chain's first position. */
        vq_w32(vq_win(&dq->desc), (uint64_t)p * 16u + VNS_VRING_PACKED_DESC_LEN,
                                 heads[k].len);
        vq_w16(vq_win(&dq->desc), (uint64_t)p * 16u + VNS_VRING_PACKED_DESC_ID,
                                 (uint16_t)heads[k].id);
        if (k == 0)
            first_flags = flags;
        else
            vq_w16(vq_win(&dq->desc), (uint64_t)p * 16u + VNS_VRING_PACKED_DESC_FLAGS,
                                     flags);
        p = (uint16_t)(p + n);
        if (p >= dq->num) {
            p = (uint16_t)(p - dq->num);
            w = !w;
        }
        dq->used_since_signal += n;
    }
    if (count) {
        /* Order A': the first used descriptor's flags last, after the
         * others (2.8.21: make the batch visible at once). */
        vns_gmem_publish(dq->mem);
        vq_w16(vq_win(&dq->desc), (uint64_t)first_pos * 16u + VNS_VRING_PACKED_DESC_FLAGS,
                                 first_flags);
    }
    dq->used_pos = p;
    dq->used_wrap = w;
    if (dq->pk_hist_len > count)
        dq->pk_hist_len -= count;
    else
        dq->pk_hist_len = 0;
    dq->stats.used += count;
    return 0;
}

static bool packed_avail_empty(struct vns_devq *dq)
{
    return !pk_desc_avail(pk_flags_at(dq, dq->avail_pos), dq->avail_wrap);
}

static bool packed_notify_decide(struct vns_devq *dq)
{
    uint16_t off_wrap, flags;
    uint32_t count, lin_new, lin_ev;
    bool v;

    if (dq->notify_on_empty && packed_avail_empty(dq))
        return true;
    off_wrap = vq_r16(vq_win(&dq->avail), VNS_VRING_PACKED_EVENT_OFF_WRAP);
    flags = vq_r16(vq_win(&dq->avail), VNS_VRING_PACKED_EVENT_FLAGS);
    count = dq->used_since_signal;
    dq->used_since_signal = 0;
    v = dq->signalled_used_valid;
    dq->signalled_used_valid = true;
    if (flags == VNS_VRING_PACKED_EVENT_FLAG_DISABLE)
        return false;
    if (flags == VNS_VRING_PACKED_EVENT_FLAG_ENABLE)
        return true;
    if (!v || count >= dq->num)
        return true;
    lin_new = dq->used_pos + dq->num;
    lin_ev = (off_wrap & ~WRAP_BIT) +
             ((bool)(off_wrap >> VNS_VRING_PACKED_EVENT_F_WRAP_CTR) == dq->used_wrap ? dq->num : 0);
    return vns_vring_need_event((uint16_t)lin_ev, (uint16_t)lin_new, (uint16_t)(lin_new - count));
}

/* vhost_notify with its counters. */
static bool packed_notify(struct vns_devq *dq)
{
    vns_gmem_mb(dq->mem);   /* smp_mb: used index before reading the guest's suppression */
    return vns__devq_count_signal(dq, packed_notify_decide(dq));
}

static bool packed_enable_notify(struct vns_devq *dq)
{
    if (!(dq->used_flags & VNS_VRING_USED_F_NO_NOTIFY))
        return false;
    dq->used_flags &= (uint16_t)~VNS_VRING_USED_F_NO_NOTIFY;
    if (dq->event_idx) {
        vq_w16(vq_win(&dq->used), VNS_VRING_PACKED_EVENT_OFF_WRAP,
                                 (uint16_t)(dq->avail_pos | (dq->avail_wrap ? WRAP_BIT : 0)));
        /* Order C: offset and wrap before the flags. */
        vns_gmem_publish(dq->mem);
        vq_w16(vq_win(&dq->used), VNS_VRING_PACKED_EVENT_FLAGS,
                                 VNS_VRING_PACKED_EVENT_FLAG_DESC);
    } else {
        vq_w16(vq_win(&dq->used), VNS_VRING_PACKED_EVENT_FLAGS,
                                 VNS_VRING_PACKED_EVENT_FLAG_ENABLE);
    }
    /* Order B: re-check for buffers added meanwhile (smp_mb). */
    vns_gmem_mb(dq->mem);
    return !packed_avail_empty(dq);
}

static void packed_disable_notify(struct vns_devq *dq)
{
    if (dq->used_flags & VNS_VRING_USED_F_NO_NOTIFY)
        return;
    dq->used_flags |= VNS_VRING_USED_F_NO_NOTIFY;
    vq_w16(vq_win(&dq->used), VNS_VRING_PACKED_EVENT_FLAGS,
                             VNS_VRING_PACKED_EVENT_FLAG_DISABLE);
}

const struct devq_ops vns__devq_packed_ops = {
    .get_vq_desc = packed_get_vq_desc,
    .discard = packed_discard,
    .add_used_n = packed_add_used_n,
    .notify = packed_notify,
    .enable_notify = packed_enable_notify,
    .disable_notify = packed_disable_notify,
    .avail_empty = packed_avail_empty,
};
