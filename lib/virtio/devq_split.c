/* vnetsim -- split virtqueue (virtio 1.x 2.7), device side.
 *
 * Models drivers/vhost/vhost.c (baseline linux-6.6) line by line:
 * vhost_get_vq_desc (every check in vhost's order, with vhost's errno),
 * vhost_discard_vq_desc, vhost_add_used_n / __vhost_add_used_n,
 * vhost_notify, vhost_enable_notify, vhost_disable_notify,
 * vhost_vq_avail_empty. And what vhost does not check is not checked here
 * either: desc table alignment, used_event / avail flags values, the next
 * field of indirect entries, the indirect chain length against num.
 *
 * LINUX: the "avail idx moved by more than num" check returns -EFAULT
 * ("Guest moved used index from %u to %u") as in 6.6; kernels from ~6.10
 * return -EINVAL with "Invalid available index change". The BUG_ON on
 * used_flags lacking NO_NOTIFY after a fetch is not modelled (callers may
 * fetch with notifications enabled). */
#include "virtio/virtq_int.h"

static int split_get_vq_desc(struct vns_devq *dq, struct vns_iov *iov, unsigned iov_size,
                             unsigned *out_num, unsigned *in_num)
{
    uint16_t last_avail_idx = dq->last_avail_idx, head;
    unsigned i, found = 0;
    struct vq_desc d;
    uint16_t flags;
    int ret;

    /* Check it isn't doing very strange things with descriptor numbers. */
    if (dq->avail_idx == last_avail_idx) {
        dq->avail_idx = vq_r16(vq_win(&dq->avail), VNS_VRING_AVAIL_IDX);
        if (VNS_UNLIKELY((uint16_t)(dq->avail_idx - last_avail_idx) > dq->num))
            return vns__devq_err(dq, VNS_DEVQ_ERR_AVAIL_IDX, -VNS_EFAULT);
        /* If there's nothing new since last we looked, return invalid. */
        if (dq->avail_idx == last_avail_idx) {
            dq->stats.empty++;
            return -VNS_EAGAIN;
        }
        /* Order A: only get avail ring entries after they have been
         * exposed by guest (smp_rmb); pairs with virtqueue_add_split. */
        vns_gmem_acquire(dq->mem);
    }
    /* Grab the next descriptor number they're advertising. */
    head = vq_r16(vq_win(&dq->avail), vns_vring_avail_slot(last_avail_idx & (dq->num - 1)));
    /* If their number is silly, that's an error. */
    if (VNS_UNLIKELY(head >= dq->num))
        return vns__devq_err(dq, VNS_DEVQ_ERR_HEAD, -VNS_EINVAL);
    /* When we start there are none of either input nor output. */
    *out_num = *in_num = 0;
    i = head;
    do {
        if (VNS_UNLIKELY(i >= dq->num))
            return vns__devq_err(dq, VNS_DEVQ_ERR_DESC_INDEX, -VNS_EINVAL);
        if (VNS_UNLIKELY(++found > dq->num))
            return vns__devq_err(dq, VNS_DEVQ_ERR_LOOP, -VNS_EINVAL);
        vq_desc_read(vq_win(&dq->desc), i, &d);
        flags = d.w12;
        if (flags & VNS_VRING_DESC_F_INDIRECT) {
            ret = vns__devq_get_indirect(dq, d.addr, d.len, true, iov, iov_size, out_num,
                                         in_num);
            if (VNS_UNLIKELY(ret < 0))
                return ret;   /* "Failure detected in indirect descriptor at idx %d" */
            /* continue: with the outer descriptor's NEXT, as vhost does */
        } else {
            ret = vns__devq_push_desc(dq, d.addr, d.len, flags, iov, iov_size, out_num, in_num,
                                      VNS_DEVQ_ERR_TRANSLATE, VNS_DEVQ_ERR_OUT_AFTER_IN);
            if (VNS_UNLIKELY(ret < 0))
                return ret;
        }
        i = d.w14;   /* next */
    } while (flags & VNS_VRING_DESC_F_NEXT);
    /* On success, increment avail index. */
    dq->last_avail_idx++;
    dq->stats.heads++;
    return head;
}

static void split_discard(struct vns_devq *dq, unsigned n)
{
    dq->last_avail_idx = (uint16_t)(dq->last_avail_idx - n);
    dq->stats.discards += n;
}

/* __vhost_add_used_n: @count elements from last_used_idx, no wrap inside. */
static inline void split_add_used_chunk(struct vns_devq *dq, struct vq_win used,
                                        const struct vns_used_elem *heads, unsigned count)
{
    uint16_t start = dq->last_used_idx & (dq->num - 1), old, new_idx;

    for (unsigned k = 0; k < count; k++) {
        uint64_t e = vns_vring_used_slot(start + k);

        vq_w32(used, e + VNS_VRING_USED_ELEM_ID, heads[k].id);
        vq_w32(used, e + VNS_VRING_USED_ELEM_LEN, heads[k].len);
    }
    old = dq->last_used_idx;
    new_idx = (dq->last_used_idx = (uint16_t)(dq->last_used_idx + count));
    /* If the driver never saw an interrupt for signalled_used, it must
     * get one for this batch (the window [old, new) covers it). */
    if (VNS_UNLIKELY((uint16_t)(new_idx - dq->signalled_used) < (uint16_t)(new_idx - old)))
        dq->signalled_used_valid = false;
}

static int split_add_used_n(struct vns_devq *dq, const struct vns_used_elem *heads,
                            unsigned count)
{
    unsigned start = dq->last_used_idx & (dq->num - 1), n = dq->num - start;
    const struct vq_win used = vq_win(&dq->used);

    dq->stats.used += count;
    if (n < count) {
        split_add_used_chunk(dq, used, heads, n);
        heads += n;
        count -= n;
    }
    split_add_used_chunk(dq, used, heads, count);
    /* Order A': make sure buffer is written before we update index
     * (smp_wmb); pairs with virtqueue_get_buf_ctx_split's virtio_rmb. */
    vns_gmem_publish(dq->mem);
    vq_w16(used, VNS_VRING_USED_IDX, dq->last_used_idx);
    return 0;
}

static bool split_notify_decide(struct vns_devq *dq)
{
    uint16_t old, new_idx;
    bool v;

    if (dq->notify_on_empty && VNS_UNLIKELY(dq->avail_idx == dq->last_avail_idx))
        return true;
    if (!dq->event_idx)
        return !(vq_r16(vq_win(&dq->avail), VNS_VRING_AVAIL_FLAGS) &
                 VNS_VRING_AVAIL_F_NO_INTERRUPT);
    old = dq->signalled_used;
    v = dq->signalled_used_valid;
    new_idx = dq->signalled_used = dq->last_used_idx;
    dq->signalled_used_valid = true;
    if (VNS_UNLIKELY(!v))
        return true;
    return vns_vring_need_event(
        vq_r16(vq_win(&dq->avail), vns_vring_used_event_off(dq->num)), new_idx, old);
}

/* vhost_notify with its counters. */
static bool split_notify(struct vns_devq *dq)
{
    vns_gmem_mb(dq->mem);   /* smp_mb: used index before reading the guest's suppression */
    return vns__devq_count_signal(dq, split_notify_decide(dq));
}

static bool split_enable_notify(struct vns_devq *dq)
{
    uint16_t avail_idx;

    if (!(dq->used_flags & VNS_VRING_USED_F_NO_NOTIFY))
        return false;
    dq->used_flags &= (uint16_t)~VNS_VRING_USED_F_NO_NOTIFY;
    if (!dq->event_idx)
        vq_w16(vq_win(&dq->used), VNS_VRING_USED_FLAGS, dq->used_flags);
    else
        vq_w16(vq_win(&dq->used), vns_vring_avail_event_off(dq->num), dq->avail_idx);
    /* Order B: they could have slipped one in as we were doing that: make
     * sure it's written, then check again (smp_mb); pairs with
     * virtqueue_kick_prepare_split. */
    vns_gmem_mb(dq->mem);
    avail_idx = vq_r16(vq_win(&dq->avail), VNS_VRING_AVAIL_IDX);
    return avail_idx != dq->avail_idx;
}

static void split_disable_notify(struct vns_devq *dq)
{
    if (dq->used_flags & VNS_VRING_USED_F_NO_NOTIFY)
        return;
    dq->used_flags |= VNS_VRING_USED_F_NO_NOTIFY;
    /* With EVENT_IDX avail_event is left stale: that suppresses kicks
     * until the guest passes it. */
    if (!dq->event_idx)
        vq_w16(vq_win(&dq->used), VNS_VRING_USED_FLAGS, dq->used_flags);
}

static bool split_avail_empty(struct vns_devq *dq)
{
    if (dq->avail_idx != dq->last_avail_idx)
        return false;
    return vq_r16(vq_win(&dq->avail), VNS_VRING_AVAIL_IDX) == dq->avail_idx;
}

const struct devq_ops vns__devq_split_ops = {
    .get_vq_desc = split_get_vq_desc,
    .discard = split_discard,
    .add_used_n = split_add_used_n,
    .notify = split_notify,
    .enable_notify = split_enable_notify,
    .disable_notify = split_disable_notify,
    .avail_empty = split_avail_empty,
};
