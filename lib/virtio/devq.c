/* vnetsim -- virtqueue device side: creation, vq_err, indirect tables and
 * the layout-independent entry points.
 *
 * Models drivers/vhost/vhost.c (baseline linux-6.6): vhost_vring_ioctl's
 * checks of VHOST_SET_VRING_NUM/ADDR, vq_access_ok, vhost_vq_init_access,
 * vq_err, get_indirect and translate_desc's use, and the exported
 * vhost_add_used_and_signal/vhost_signal family. The ring walks are in
 * devq_split.c (vhost_get_vq_desc) and devq_packed.c.
 *
 * Simplified: no IOTLB (so no -EAGAIN miss path), no dirty log, no
 * per-region permissions, no error eventfd (the queue is marked broken and
 * the check counted instead). */
#include <string.h>

#include "vnetsim/alloc.h"
#include "virtio/virtq_int.h"

static const char *const devq_err_names[VNS_DEVQ_ERR__COUNT] = {
    [VNS_DEVQ_OK] = "ok",
    [VNS_DEVQ_ERR_AVAIL_IDX] = "avail_idx",
    [VNS_DEVQ_ERR_HEAD] = "head",
    [VNS_DEVQ_ERR_DESC_INDEX] = "desc_index",
    [VNS_DEVQ_ERR_LOOP] = "loop",
    [VNS_DEVQ_ERR_TRANSLATE] = "translate",
    [VNS_DEVQ_ERR_OUT_AFTER_IN] = "out_after_in",
    [VNS_DEVQ_ERR_INDIRECT_LEN] = "indirect_len",
    [VNS_DEVQ_ERR_INDIRECT_EMPTY] = "indirect_empty",
    [VNS_DEVQ_ERR_INDIRECT_TRANSLATE] = "indirect_translate",
    [VNS_DEVQ_ERR_INDIRECT_TOO_BIG] = "indirect_too_big",
    [VNS_DEVQ_ERR_INDIRECT_LOOP] = "indirect_loop",
    [VNS_DEVQ_ERR_INDIRECT_NESTED] = "indirect_nested",
    [VNS_DEVQ_ERR_INDIRECT_DESC_TRANSLATE] = "indirect_desc_translate",
    [VNS_DEVQ_ERR_INDIRECT_OUT_AFTER_IN] = "indirect_out_after_in",
    [VNS_DEVQ_ERR_PACKED_ID] = "packed_id",
    [VNS_DEVQ_ERR_PACKED_WRAP] = "packed_wrap",
};

const char *vns_devq_err_name(enum vns_devq_err e)
{
    if ((unsigned)e >= VNS_DEVQ_ERR__COUNT)
        return "unknown";
    return devq_err_names[e];
}

int vns__devq_err(struct vns_devq *dq, enum vns_devq_err why, int err)
{
    dq->stats.errors[why]++;
    dq->last_err = why;
    dq->broken = true;
    return err;
}

int vns_devq_create(const struct vns_gmem_table *t, const struct vns_devq_config *cfg,
                    struct vns_devq **out)
{
    const struct vns_virtq_addr *a = &cfg->addr;
    bool split = cfg->layout == VNS_VIRTQ_SPLIT;
    uint32_t num = cfg->num;
    uint64_t dsz, asz, usz;
    struct vns_devq *dq;
    int err;

    /* VHOST_SET_VRING_NUM: 0, too big, or (split) not a power of two. */
    if (!vns_virtq_num_ok(cfg->layout, num))
        return -VNS_EINVAL;
    /* VHOST_SET_VRING_ADDR: avail & 1, used & 3. The desc table alignment
     * is not checked (kernel-facts 7.6, 18). */
    if ((a->avail & (split ? 1u : 3u)) || (a->used & 3u))
        return -VNS_EINVAL;
    dsz = split ? vns_vring_desc_table_size(num) : vns_vring_packed_desc_size(num);
    asz = split ? vns_vring_avail_size(num) : VNS_VRING_PACKED_EVENT_SIZE;
    usz = split ? vns_vring_used_size(num) : VNS_VRING_PACKED_EVENT_SIZE;
    /* vq_access_ok: every part must be reachable through the table. */
    if (!vns_gmem_table_access_ok(t, a->desc, dsz) || !vns_gmem_table_access_ok(t, a->avail, asz) ||
        !vns_gmem_table_access_ok(t, a->used, usz))
        return -VNS_EFAULT;
    dq = vns_calloc(1, sizeof(*dq));
    if (dq == NULL)
        return -VNS_ENOMEM;
    dq->table = t;
    dq->mem = vns_gmem_table_mem(t);
    dq->layout = cfg->layout;
    dq->ops = split ? &vns__devq_split_ops : &vns__devq_packed_ops;
    dq->num = num;
    dq->event_idx = cfg->event_idx;
    dq->notify_on_empty = cfg->notify_on_empty;
    dq->signal = cfg->signal;
    dq->signal_arg = cfg->signal_arg;
    err = vns_gmem_area_init(&dq->desc, dq->mem, a->desc, dsz);
    if (err)
        goto err_free;
    err = vns_gmem_area_init(&dq->avail, dq->mem, a->avail, asz);
    if (err)
        goto err_desc;
    err = vns_gmem_area_init(&dq->used, dq->mem, a->used, usz);
    if (err)
        goto err_avail;
    dq->indirect = vns_calloc(VNS_DEVQ_INDIRECT_IOV, sizeof(*dq->indirect));
    if (dq->indirect == NULL) {
        err = -VNS_ENOMEM;
        goto err_used;
    }
    if (!split) {
        dq->pk_count = vns_calloc(num, sizeof(*dq->pk_count));
        dq->pk_hist = vns_calloc(num, sizeof(*dq->pk_hist));
        if (dq->pk_count == NULL || dq->pk_hist == NULL) {
            err = -VNS_ENOMEM;
            goto err_arrays;
        }
        /* Both wrap counters start at 1 (2.8.1). */
        dq->avail_wrap = true;
        dq->used_wrap = true;
    } else {
        /* VHOST_SET_VRING_BASE, then vhost_vq_init_access ->
         * vhost_init_used: write used->flags, read back used->idx. */
        dq->last_avail_idx = cfg->base;
        dq->avail_idx = cfg->base;
        vq_w16(vq_win(&dq->used), VNS_VRING_USED_FLAGS, dq->used_flags);
        dq->last_used_idx = vq_r16(vq_win(&dq->used), VNS_VRING_USED_IDX);
    }
    dq->signalled_used_valid = false;
    *out = dq;
    return 0;

err_arrays:
    vns_free(dq->pk_hist);
    vns_free(dq->pk_count);
    vns_free(dq->indirect);
err_used:
    vns_gmem_area_fini(&dq->used);
err_avail:
    vns_gmem_area_fini(&dq->avail);
err_desc:
    vns_gmem_area_fini(&dq->desc);
err_free:
    vns_free(dq);
    return err;
}

void vns_devq_destroy(struct vns_devq *dq)
{
    if (dq == NULL)
        return;
    vns_free(dq->pk_hist);
    vns_free(dq->pk_count);
    vns_free(dq->indirect);
    vns_gmem_area_fini(&dq->used);
    vns_gmem_area_fini(&dq->avail);
    vns_gmem_area_fini(&dq->desc);
    vns_free(dq);
}


int vns__devq_get_indirect(struct vns_devq *dq, uint64_t addr, uint32_t len, bool split,
                           struct vns_iov *iov, unsigned iov_size, unsigned *out_num,
                           unsigned *in_num)
{
    unsigned count, found = 0, seg = 0, pos = 0, fill = 0;
    uint64_t seg_off = 0;
    uint8_t buf[16 * 64];
    uint16_t flags;
    int ret;

    dq->stats.indirect++;
    /* Sanity check */
    if (VNS_UNLIKELY(len % 16u)) {
        ret = vns__devq_err(dq, VNS_DEVQ_ERR_INDIRECT_LEN, -VNS_EINVAL);
        goto out;
    }
    ret = vns_gmem_table_translate(dq->table, addr, len, dq->indirect, VNS_DEVQ_INDIRECT_IOV);
    if (VNS_UNLIKELY(ret < 0)) {
        ret = vns__devq_err(dq, VNS_DEVQ_ERR_INDIRECT_TRANSLATE, ret);
        goto out;
    }
    count = len / 16u;
    /* Buffers are chained via a 16 bit next field, so we can have at most
     * 2^16 of these. */
    if (VNS_UNLIKELY(count > 65535u + 1u)) {
        ret = vns__devq_err(dq, VNS_DEVQ_ERR_INDIRECT_TOO_BIG, -VNS_E2BIG);
        goto out;
    }
    /* LINUX: the table is read sequentially through an iov_iter over the
     * translated segments; the entries' next fields are not followed. We
     * read ahead up to 64 entries at a time (all inside the translated
     * table, so no access vhost could not make). */
    do {
        const uint8_t *d;

        if (VNS_UNLIKELY(++found > count)) {
            ret = vns__devq_err(dq, count ? VNS_DEVQ_ERR_INDIRECT_LOOP : VNS_DEVQ_ERR_INDIRECT_EMPTY,
                                -VNS_EINVAL);
            goto out;
        }
        if (pos == fill) {   /* copy_from_iter_full, a chunk at a time */
            uint64_t want = (uint64_t)(count - found + 1) * 16u;

            fill = (unsigned)(want < sizeof(buf) ? want : sizeof(buf));
            pos = 0;
            for (unsigned got = 0; got < fill;) {
                uint64_t room = dq->indirect[seg].len - seg_off;
                unsigned c = room < fill - got ? (unsigned)room : fill - got;

                (void)vns_gmem_copy_out(dq->mem, dq->indirect[seg].addr + seg_off, buf + got, c);
                got += c;
                seg_off += c;
                if (seg_off == dq->indirect[seg].len) {
                    seg++;
                    seg_off = 0;
                }
            }
        }
        d = buf + pos;
        pos += 16u;
        flags = vns_le16_load(d + (split ? VNS_VRING_DESC_FLAGS : VNS_VRING_PACKED_DESC_FLAGS));
        if (VNS_UNLIKELY(flags & VNS_VRING_DESC_F_INDIRECT)) {
            ret = vns__devq_err(dq, VNS_DEVQ_ERR_INDIRECT_NESTED, -VNS_EINVAL);
            goto out;
        }
        ret = vns__devq_push_desc(dq, vns_le64_load(d), vns_le32_load(d + 8), flags, iov,
                                  iov_size, out_num, in_num,
                                  VNS_DEVQ_ERR_INDIRECT_DESC_TRANSLATE,
                                  VNS_DEVQ_ERR_INDIRECT_OUT_AFTER_IN);
        if (ret)
            goto out;
    } while (split ? (flags & VNS_VRING_DESC_F_NEXT) != 0 : found < count);
    ret = 0;
out:
    return ret;
}

/* --- entry points ------------------------------------------------------------ */

/* The entry points below have a fast path for ctx == NULL that is a bare
 * (tail) call of the layout's work, and a slow path that pushes the
 * kernel function's frame and charges per call, per descriptor
 * translated, per indirect table and per vq_err from the counters the
 * work moved. */

static VNS__COLD int devq_get_vq_desc_ctx(struct vns_devq *dq, struct vns_iov *iov,
                                          unsigned iov_size, unsigned *out_num,
                                          unsigned *in_num, struct vns_ctx *ctx)
{
    uint64_t descs = dq->stats.descs, tables = dq->stats.indirect;
    int ret;

    vns_fn_enter(ctx, VNS_FN_vhost_get_vq_desc);
    ret = dq->ops->get_vq_desc(dq, iov, iov_size, out_num, in_num);
    for (uint64_t k = descs; k < dq->stats.descs; k++)
        vns_charge(ctx, VNS_FN_translate_desc, 0);
    for (uint64_t k = tables; k < dq->stats.indirect; k++)
        vns_charge(ctx, VNS_FN_get_indirect, 0);
    if (ret < 0 && ret != -VNS_EAGAIN)
        vns_charge(ctx, VNS_FN_vq_err, 0);
    vns_fn_exit(ctx);
    return ret;
}

int vns_devq_get_vq_desc(struct vns_devq *dq, struct vns_iov *iov, unsigned iov_size,
                         unsigned *out_num, unsigned *in_num, struct vns_ctx *ctx)
{
    if (VNS_UNLIKELY(dq->broken))
        return -VNS_EIO;
    if (VNS_LIKELY(ctx == NULL))
        return dq->ops->get_vq_desc(dq, iov, iov_size, out_num, in_num);
    return devq_get_vq_desc_ctx(dq, iov, iov_size, out_num, in_num, ctx);
}

void vns_devq_discard_vq_desc(struct vns_devq *dq, unsigned n, struct vns_ctx *ctx)
{
    VQ_ENTER(ctx, vhost_discard_vq_desc);
    dq->ops->discard(dq, n);
    VQ_EXIT(ctx);
}

int vns_devq_add_used_n(struct vns_devq *dq, const struct vns_used_elem *heads, unsigned count,
                        struct vns_ctx *ctx)
{
    int ret;

    if (VNS_LIKELY(ctx == NULL))
        return dq->ops->add_used_n(dq, heads, count);
    vns_fn_enter(ctx, VNS_FN_vhost_add_used_n);
    ret = dq->ops->add_used_n(dq, heads, count);
    vns_fn_exit(ctx);
    return ret;
}

int vns_devq_add_used(struct vns_devq *dq, uint32_t head, uint32_t len, struct vns_ctx *ctx)
{
    struct vns_used_elem e = {.id = head, .len = len};
    int ret;

    if (VNS_LIKELY(ctx == NULL))
        return dq->ops->add_used_n(dq, &e, 1);
    vns_fn_enter(ctx, VNS_FN_vhost_add_used);
    ret = vns_devq_add_used_n(dq, &e, 1, ctx);
    vns_fn_exit(ctx);
    return ret;
}

bool vns_devq_notify(struct vns_devq *dq, struct vns_ctx *ctx)
{
    bool yes;

    /* Flush out used index updates. This is paired with the barrier that
     * the guest executes when enabling interrupts (in the ops). */
    if (VNS_LIKELY(ctx == NULL))
        return dq->ops->notify(dq);
    vns_fn_enter(ctx, VNS_FN_vhost_notify);
    yes = dq->ops->notify(dq);
    vns_fn_exit(ctx);
    return yes;
}

bool vns_devq_signal(struct vns_devq *dq, struct vns_ctx *ctx)
{
    bool yes;

    VQ_ENTER(ctx, vhost_signal);
    yes = vns_devq_notify(dq, ctx);
    if (yes && dq->signal)
        dq->signal(dq, dq->signal_arg);
    VQ_EXIT(ctx);
    return yes;
}

int vns_devq_add_used_and_signal(struct vns_devq *dq, uint32_t head, uint32_t len,
                                 struct vns_ctx *ctx)
{
    int ret = vns_devq_add_used(dq, head, len, ctx);

    (void)vns_devq_signal(dq, ctx);
    return ret;
}

bool vns_devq_enable_notify(struct vns_devq *dq, struct vns_ctx *ctx)
{
    bool more;

    VQ_ENTER(ctx, vhost_enable_notify);
    more = dq->ops->enable_notify(dq);
    VQ_EXIT(ctx);
    return more;
}

void vns_devq_disable_notify(struct vns_devq *dq, struct vns_ctx *ctx)
{
    VQ_ENTER(ctx, vhost_disable_notify);
    dq->ops->disable_notify(dq);
    VQ_EXIT(ctx);
}

bool vns_devq_avail_empty(struct vns_devq *dq, struct vns_ctx *ctx)
{
    bool empty;

    VQ_ENTER(ctx, vhost_vq_avail_empty);
    empty = dq->ops->avail_empty(dq);
    VQ_EXIT(ctx);
    return empty;
}

size_t vns_devq_copy_from_iov(struct vns_devq *dq, const struct vns_iov *iov, unsigned niov,
                              void *dst, size_t n, struct vns_ctx *ctx)
{
    size_t done = vns_gmem_copy_from_iov(dq->mem, iov, niov, dst, n);

    VQ_CHARGE(ctx, copy_from_iter, done);
    return done;
}

size_t vns_devq_copy_to_iov(struct vns_devq *dq, const struct vns_iov *iov, unsigned niov,
                            const void *src, size_t n, struct vns_ctx *ctx)
{
    size_t done = vns_gmem_copy_to_iov(dq->mem, iov, niov, src, n);

    VQ_CHARGE(ctx, copy_to_iter, done);
    return done;
}

bool vns_devq_is_broken(const struct vns_devq *dq)
{
    return dq->broken;
}

enum vns_devq_err vns_devq_last_err(const struct vns_devq *dq)
{
    return dq->last_err;
}

uint32_t vns_devq_num(const struct vns_devq *dq)
{
    return dq->num;
}

const struct vns_devq_stats *vns_devq_stats(const struct vns_devq *dq)
{
    return &dq->stats;
}

void vns_vq_books(const struct vns_virtq *vq, const struct vns_devq *dq, struct vns_vq_books *b)
{
    uint64_t in_ring;

    memset(b, 0, sizeof(*b));
    b->num = dq->num;
    b->made_available = vq->stats.adds;
    b->reclaimed = vq->stats.get_bufs;
    b->taken = dq->stats.heads - dq->stats.discards;
    b->used = dq->stats.used;
    b->taken_not_used = b->taken - b->used;
    b->broken = dq->broken || vq->broken;
    if (vq->layout == VNS_VIRTQ_SPLIT) {
        b->not_taken =
            (uint16_t)(vq_r16(vq_win(&vq->avail), VNS_VRING_AVAIL_IDX) - dq->last_avail_idx);
        b->used_not_reclaimed =
            (uint16_t)(vq_r16(vq_win(&vq->used), VNS_VRING_USED_IDX) - vq->last_used_idx);
    } else {
        b->not_taken = b->made_available - b->taken;
        b->used_not_reclaimed = b->used - b->reclaimed;
    }
    /* in flight can never be more than the ring holds (a difference that
     * went below zero shows up here as a huge number) */
    in_ring = b->not_taken + b->taken_not_used + b->used_not_reclaimed;
    b->balanced = b->made_available == b->used + b->not_taken + b->taken_not_used &&
                  b->used == b->reclaimed + b->used_not_reclaimed &&
                  b->taken <= b->made_available && b->used <= b->taken && b->reclaimed <= b->used &&
                  in_ring <= b->num;
}
