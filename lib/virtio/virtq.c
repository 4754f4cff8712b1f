/* vnetsim -- virtqueue driver side: layout arithmetic, creation, and the
 * layout-independent entry points.
 *
 * Models drivers/virtio/virtio_ring.c (vring_create_virtqueue,
 * virtqueue_add_sgs/outbuf/inbuf, virtqueue_kick(_prepare), virtqueue_notify,
 * virtqueue_get_buf_ctx, virtqueue_{disable,enable}_cb*, virtqueue_poll,
 * vring_interrupt, virtqueue_detach_unused_buf). The per-layout work is in
 * virtq_split.c and virtq_packed.c.
 *
 * Simplified: no DMA API (addresses are guest-physical), no premapped
 * buffers, no per-buffer ctx pointer, no IN_ORDER, no reset/resize.
 * LINUX: indirect tables are kmalloc'ed per add; here each ring slot owns a
 * preplaced table of indirect_max entries in guest memory (no allocation on
 * the hot path), and a chain longer than that goes direct, as Linux does
 * when the kmalloc fails. */
#include <string.h>

#include "vnetsim/alloc.h"
#include "virtio/virtq_int.h"

bool vns_virtq_num_ok(enum vns_virtq_layout layout, uint32_t num)
{
    if (num == 0 || num > VNS_VIRTQ_MAX_NUM)
        return false;
    if (layout == VNS_VIRTQ_SPLIT)
        return (num & (num - 1)) == 0;
    return layout == VNS_VIRTQ_PACKED;
}

uint64_t vns_virtq_layout_size(enum vns_virtq_layout layout, uint32_t num, uint32_t align)
{
    if (!vns_virtq_num_ok(layout, num))
        return 0;
    if (layout == VNS_VIRTQ_PACKED)
        return vns_vring_packed_desc_size(num) + 2u * VNS_VRING_PACKED_EVENT_SIZE;
    if (align == 0)
        align = VNS_VRING_LEGACY_ALIGN;
    if (align & (align - 1))
        return 0;
    return vns_vring_size(num, align);
}

int vns_virtq_layout(enum vns_virtq_layout layout, uint32_t num, uint32_t align, uint64_t base,
                     struct vns_virtq_addr *out)
{
    if (vns_virtq_layout_size(layout, num, align) == 0)
        return -VNS_EINVAL;
    if (align == 0)
        align = VNS_VRING_LEGACY_ALIGN;
    out->desc = base;
    if (layout == VNS_VIRTQ_PACKED) {
        out->avail = base + vns_vring_packed_desc_size(num);
        out->used = out->avail + VNS_VRING_PACKED_EVENT_SIZE;
    } else {
        out->avail = base + vns_vring_desc_table_size(num);
        out->used = base + vns_vring_legacy_used_off(num, align);
    }
    return 0;
}

uint64_t vns_virtq_indirect_size(uint32_t num, uint32_t indirect_max)
{
    if (indirect_max == 0)
        indirect_max = VNS_VIRTQ_INDIRECT_MAX_DEFAULT;
    return (uint64_t)num * indirect_max * 16u;
}

int vns_virtq_create(struct vns_gmem *m, const struct vns_virtq_config *cfg,
                     struct vns_virtq **out)
{
    const struct vns_virtq_addr *a = &cfg->addr;
    bool split = cfg->layout == VNS_VIRTQ_SPLIT;
    uint32_t num = cfg->num;
    struct vns_virtq *vq;
    int err;

    if (!vns_virtq_num_ok(cfg->layout, num))
        return -VNS_EINVAL;
    /* vring_alloc_queue places each part at its alignment (2.7 / 2.8). */
    if ((a->desc & (VNS_VRING_DESC_ALIGN_SIZE - 1)) ||
        (a->avail & (split ? VNS_VRING_AVAIL_ALIGN_SIZE - 1 : 3)) ||
        (a->used & (split ? VNS_VRING_USED_ALIGN_SIZE - 1 : 3)))
        return -VNS_EINVAL;
    if (cfg->indirect && cfg->indirect_gpa == 0)
        return -VNS_EINVAL;
    vq = vns_calloc(1, sizeof(*vq));
    if (vq == NULL)
        return -VNS_ENOMEM;
    vq->mem = m;
    vq->layout = cfg->layout;
    vq->ops = split ? &vns__virtq_split_ops : &vns__virtq_packed_ops;
    vq->num = num;
    vq->addr = *a;
    vq->event = cfg->event_idx;
    vq->indirect = cfg->indirect;
    vq->indirect_gpa = cfg->indirect_gpa;
    vq->indirect_max = cfg->indirect_max ? cfg->indirect_max : VNS_VIRTQ_INDIRECT_MAX_DEFAULT;
    vq->notify = cfg->notify;
    vq->notify_arg = cfg->notify_arg;
    if (vq->indirect && ((vq->indirect_gpa & 15) ||
                         !vns_gmem_range_ok(m, vq->indirect_gpa,
                                            vns_virtq_indirect_size(num, vq->indirect_max)))) {
        err = vq->indirect_gpa & 15 ? -VNS_EINVAL : -VNS_EFAULT;
        goto err_free;
    }
    err = vns_gmem_area_init(&vq->desc, m, a->desc, split ? vns_vring_desc_table_size(num)
                                                         : vns_vring_packed_desc_size(num));
    if (err)
        goto err_free;
    err = vns_gmem_area_init(&vq->avail, m, a->avail,
                             split ? vns_vring_avail_size(num) : VNS_VRING_PACKED_EVENT_SIZE);
    if (err)
        goto err_desc;
    err = vns_gmem_area_init(&vq->used, m, a->used,
                             split ? vns_vring_used_size(num) : VNS_VRING_PACKED_EVENT_SIZE);
    if (err)
        goto err_avail;
    vq->extra = vns_calloc(num, sizeof(*vq->extra));
    vq->state = vns_calloc(num, sizeof(*vq->state));
    if (vq->extra == NULL || vq->state == NULL) {
        err = -VNS_ENOMEM;
        goto err_arrays;
    }
    if (split)
        vns__virtq_init_split(vq, cfg->no_callback);
    else
        vns__virtq_init_packed(vq, cfg->no_callback);
    *out = vq;
    return 0;

err_arrays:
    vns_free(vq->state);
    vns_free(vq->extra);
    vns_gmem_area_fini(&vq->used);
err_avail:
    vns_gmem_area_fini(&vq->avail);
err_desc:
    vns_gmem_area_fini(&vq->desc);
err_free:
    vns_free(vq);
    return err;
}

void vns_virtq_destroy(struct vns_virtq *vq)
{
    if (vq == NULL)
        return;
    vns_free(vq->state);
    vns_free(vq->extra);
    vns_gmem_area_fini(&vq->used);
    vns_gmem_area_fini(&vq->avail);
    vns_gmem_area_fini(&vq->desc);
    vns_free(vq);
}

uint64_t vns__virtq_write_indirect(struct vns_virtq *vq, unsigned slot, const struct vns_sg *sg,
                                   unsigned out_sgs, unsigned total, bool packed)
{
    uint8_t buf[16 * 64];
    uint64_t gpa = vq->indirect_gpa + (uint64_t)slot * vq->indirect_max * 16u;
    unsigned done = 0;

    /* alloc_indirect_split/_packed, filled by virtqueue_add_*: in chunks
     * of 64 entries through a host buffer, one guest copy per chunk. */
    while (done < total) {
        unsigned n = total - done < 64 ? total - done : 64;

        for (unsigned k = 0; k < n; k++) {
            unsigned i = done + k;
            uint8_t *d = buf + 16u * k;
            uint16_t flags = i < out_sgs ? 0 : VNS_VRING_DESC_F_WRITE;

            vns_le64_store(d + VNS_VRING_DESC_ADDR, sg[i].addr);
            vns_le32_store(d + VNS_VRING_DESC_LEN, sg[i].len);
            if (packed) {
                vns_le16_store(d + VNS_VRING_PACKED_DESC_ID, 0);
                vns_le16_store(d + VNS_VRING_PACKED_DESC_FLAGS, flags);
            } else {
                /* split tables chain by next = i + 1, NEXT on all but the last */
                if (i + 1 < total)
                    flags |= VNS_VRING_DESC_F_NEXT;
                vns_le16_store(d + VNS_VRING_DESC_FLAGS, flags);
                vns_le16_store(d + VNS_VRING_DESC_NEXT, (uint16_t)(i + 1));
            }
        }
        (void)vns_gmem_copy_in(vq->mem, gpa + 16u * done, buf, 16u * n);
        done += n;
    }
    return gpa;
}

void vns__virtq_bad_ring(struct vns_virtq *vq)
{
    vq->broken = true;
    vq->stats.bad_ring++;
}

/* --- entry points ------------------------------------------------------------ */

int vns__virtq_add_full(struct vns_virtq *vq, unsigned out_sgs, struct vns_ctx *ctx)
{
    vq->stats.enospc++;
    /* FIXME (Linux): for historical reasons, we force a notify here if
     * there are outgoing parts to the buffer. Presumably the host should
     * service the ring ASAP. */
    if (out_sgs)
        (void)vns_virtq_notify(vq, ctx);
    return -VNS_ENOSPC;
}

int vns__virtq_add_kick(struct vns_virtq *vq, struct vns_ctx *ctx)
{
    /* This is very unlikely, but theoretically possible. Kick just in case. */
    (void)vns_virtq_kick(vq, ctx);
    return 0;
}

/* The entry points below have a fast path for ctx == NULL that is a bare
 * tail call of the layout's work (no frame, no charge), and a slow path
 * that pushes the kernel function's frame and charges per call, per
 * descriptor and per indirect table from the counters the work moved. */

static VNS__COLD int virtq_add_ctx(struct vns_virtq *vq, const struct vns_sg *sg,
                                   unsigned out_sgs, unsigned in_sgs, void *data,
                                   struct vns_ctx *ctx)
{
    uint64_t indirect = vq->stats.indirect;
    unsigned total = out_sgs + in_sgs;
    int ret;

    vns_fn_enter(ctx, vq->layout == VNS_VIRTQ_SPLIT ? VNS_FN_virtqueue_add_split
                                                    : VNS_FN_virtqueue_add_packed);
    ret = vq->ops->add(vq, sg, out_sgs, in_sgs, data, ctx);
    if (ret == 0) {
        bool ind = vq->stats.indirect != indirect;

        if (ind)
            vns_charge(ctx, vq->layout == VNS_VIRTQ_SPLIT ? VNS_FN_alloc_indirect_split
                                                          : VNS_FN_virtqueue_add_indirect_packed,
                       0);
        for (unsigned k = 0; k < (ind ? total + 1 : total); k++)
            vns_charge(ctx, VNS_FN_virtqueue_add_desc_split, 0);
    }
    vns_fn_exit(ctx);
    return ret;
}

int vns_virtq_add_sgs(struct vns_virtq *vq, const struct vns_sg *sg, unsigned out_sgs,
                      unsigned in_sgs, void *data, struct vns_ctx *ctx)
{
    if (VNS_UNLIKELY(data == NULL || out_sgs + in_sgs == 0))
        return -VNS_EINVAL;          /* LINUX: BUG_ON */
    if (VNS_UNLIKELY(vq->broken))
        return -VNS_EIO;
    if (VNS_LIKELY(ctx == NULL))
        return vq->ops->add(vq, sg, out_sgs, in_sgs, data, NULL);
    return virtq_add_ctx(vq, sg, out_sgs, in_sgs, data, ctx);
}

int vns_virtq_add_outbuf(struct vns_virtq *vq, const struct vns_sg *sg, unsigned num,
                         void *data, struct vns_ctx *ctx)
{
    return vns_virtq_add_sgs(vq, sg, num, 0, data, ctx);
}

int vns_virtq_add_inbuf(struct vns_virtq *vq, const struct vns_sg *sg, unsigned num,
                        void *data, struct vns_ctx *ctx)
{
    return vns_virtq_add_sgs(vq, sg, 0, num, data, ctx);
}

bool vns_virtq_kick_prepare(struct vns_virtq *vq, struct vns_ctx *ctx)
{
    bool kick;

    if (VNS_LIKELY(ctx == NULL))
        return vq->ops->kick_prepare(vq);
    vns_fn_enter(ctx, vq->layout == VNS_VIRTQ_SPLIT ? VNS_FN_virtqueue_kick_prepare_split
                                                    : VNS_FN_virtqueue_kick_prepare_packed);
    kick = vq->ops->kick_prepare(vq);
    vns_fn_exit(ctx);
    return kick;
}

bool vns_virtq_notify(struct vns_virtq *vq, struct vns_ctx *ctx)
{
    bool ok = true;

    if (VNS_UNLIKELY(vq->broken))
        return false;
    VQ_ENTER(ctx, virtqueue_notify);
    vq->stats.notifies++;
    if (vq->notify && !vq->notify(vq, vq->notify_arg)) {
        vq->broken = true;
        ok = false;
    }
    VQ_EXIT(ctx);
    return ok;
}

bool vns_virtq_kick(struct vns_virtq *vq, struct vns_ctx *ctx)
{
    if (vns_virtq_kick_prepare(vq, ctx))
        return vns_virtq_notify(vq, ctx);
    return true;
}

void *vns_virtq_get_buf(struct vns_virtq *vq, uint32_t *len, struct vns_ctx *ctx)
{
    void *data;

    if (VNS_UNLIKELY(vq->broken))
        return NULL;
    if (VNS_LIKELY(ctx == NULL))
        return vq->ops->get_buf(vq, len);
    vns_fn_enter(ctx, vq->layout == VNS_VIRTQ_SPLIT ? VNS_FN_virtqueue_get_buf_ctx_split
                                                    : VNS_FN_virtqueue_get_buf_ctx_packed);
    data = vq->ops->get_buf(vq, len);
    if (data)
        vns_charge(ctx, vq->layout == VNS_VIRTQ_SPLIT ? VNS_FN_detach_buf_split
                                                      : VNS_FN_detach_buf_packed, 0);
    vns_fn_exit(ctx);
    return data;
}

bool vns_virtq_more_used(const struct vns_virtq *vq)
{
    return !vq->broken && vq->ops->more_used(vq);
}

void vns_virtq_disable_cb(struct vns_virtq *vq, struct vns_ctx *ctx)
{
    VQ_ENTER(ctx, virtqueue_disable_cb);
    vq->ops->disable_cb(vq);
    VQ_EXIT(ctx);
}

unsigned vns_virtq_enable_cb_prepare(struct vns_virtq *vq, struct vns_ctx *ctx)
{
    unsigned last;

    VQ_ENTER(ctx, virtqueue_enable_cb_prepare);
    vq->event_triggered = false;
    last = vq->ops->enable_cb_prepare(vq);
    VQ_EXIT(ctx);
    return last;
}

bool vns_virtq_poll(struct vns_virtq *vq, unsigned last, struct vns_ctx *ctx)
{
    bool more;

    if (VNS_UNLIKELY(vq->broken))
        return false;
    VQ_ENTER(ctx, virtqueue_poll);
    vns_gmem_mb(vq->mem);   /* virtio_mb: pairs with the device's used idx store */
    more = vq->ops->poll(vq, last);
    VQ_EXIT(ctx);
    return more;
}

bool vns_virtq_enable_cb(struct vns_virtq *vq, struct vns_ctx *ctx)
{
    unsigned last = vns_virtq_enable_cb_prepare(vq, ctx);

    return !vns_virtq_poll(vq, last, ctx);
}

bool vns_virtq_enable_cb_delayed(struct vns_virtq *vq, struct vns_ctx *ctx)
{
    bool ok;

    VQ_ENTER(ctx, virtqueue_enable_cb_delayed);
    vq->event_triggered = false;
    ok = vq->ops->enable_cb_delayed(vq);
    VQ_EXIT(ctx);
    return ok;
}

bool vns_virtq_interrupt(struct vns_virtq *vq, struct vns_ctx *ctx)
{
    bool run;

    VQ_ENTER(ctx, vring_interrupt);
    if (!vq->ops->more_used(vq)) {
        run = false;                   /* IRQ_NONE */
    } else if (VNS_UNLIKELY(vq->broken)) {
        run = false;                   /* IRQ_HANDLED, no callback */
    } else {
        /* Just a hint for performance: so it's ok that this can be racy! */
        if (vq->event)
            vq->event_triggered = true;
        run = true;
    }
    VQ_EXIT(ctx);
    return run;
}

void *vns_virtq_detach_unused_buf(struct vns_virtq *vq)
{
    return vq->ops->detach_unused_buf(vq);
}

unsigned vns_virtq_num_free(const struct vns_virtq *vq)
{
    return vq->num_free;
}

uint32_t vns_virtq_get_vring_size(const struct vns_virtq *vq)
{
    return vq->num;
}

bool vns_virtq_is_broken(const struct vns_virtq *vq)
{
    return vq->broken;
}

enum vns_virtq_layout vns_virtq_layout_of(const struct vns_virtq *vq)
{
    return vq->layout;
}

const struct vns_virtq_addr *vns_virtq_addr(const struct vns_virtq *vq)
{
    return &vq->addr;
}

const struct vns_virtq_stats *vns_virtq_stats(const struct vns_virtq *vq)
{
    return &vq->stats;
}
