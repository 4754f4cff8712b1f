/* vnetsim -- virtqueues, device side (drivers/vhost/vhost.c).
 *
 * The device's view of a ring: it reaches guest memory only through a
 * memory table (vns_gmem_table, vhost's vhost_memory), validates every
 * guest-controlled byte as vhost does (vhost_get_vq_desc, get_indirect,
 * translate_desc), and marks the queue broken on the first violation, as
 * vhost's vq_err path reports it to userspace. One API serves both ring
 * layouts. The split side follows vhost line by line (baseline linux-6.6,
 * docs/virtio.md lists deviations); vhost has no packed ring, so the packed
 * side follows the virtio 1.x 2.8 device rules (as QEMU's
 * virtqueue_packed_pop does) with the same checks where they apply.
 *
 * A hostile guest can make any call fail, never crash, read outside guest
 * memory, or loop: every walk is bounded by the ring size or the indirect
 * table size. */
#ifndef VNETSIM_DEVQ_H
#define VNETSIM_DEVQ_H

#include "vnetsim/common.h"
#include "vnetsim/gmem.h"
#include "vnetsim/virtq.h"

/* Why a queue broke: one reason per vhost check (kernel-facts 7.3, 7.4),
 * each with its own counter. The return code is vhost's errno. */
enum vns_devq_err {
    VNS_DEVQ_OK = 0,
    VNS_DEVQ_ERR_AVAIL_IDX,        /* -EFAULT "Guest moved used index from %u to %u" */
    VNS_DEVQ_ERR_HEAD,             /* -EINVAL "Guest says index %u > %u is available" */
    VNS_DEVQ_ERR_DESC_INDEX,       /* -EINVAL "Desc index is %u > %u, head = %u" */
    VNS_DEVQ_ERR_LOOP,             /* -EINVAL "Loop detected: last one at %u vq size %u head %u" */
    VNS_DEVQ_ERR_TRANSLATE,        /* -EFAULT/-ENOBUFS "Translation failure %d descriptor idx %d" */
    VNS_DEVQ_ERR_OUT_AFTER_IN,     /* -EINVAL "Descriptor has out after in" */
    VNS_DEVQ_ERR_INDIRECT_LEN,     /* -EINVAL "Invalid length in indirect descriptor" */
    VNS_DEVQ_ERR_INDIRECT_EMPTY,   /* -EINVAL len 0: vhost's loop check (found 1 > count 0) */
    VNS_DEVQ_ERR_INDIRECT_TRANSLATE, /* translate_desc's code "Translation failure %d in indirect" */
    VNS_DEVQ_ERR_INDIRECT_TOO_BIG, /* -E2BIG "Indirect buffer length too big" */
    VNS_DEVQ_ERR_INDIRECT_LOOP,    /* -EINVAL "Loop detected: last one at %u indirect size %u" */
    VNS_DEVQ_ERR_INDIRECT_NESTED,  /* -EINVAL "Nested indirect descriptor" */
    VNS_DEVQ_ERR_INDIRECT_DESC_TRANSLATE, /* "Translation failure %d indirect idx %d" */
    VNS_DEVQ_ERR_INDIRECT_OUT_AFTER_IN,   /* -EINVAL "Indirect descriptor has out after in" */
    VNS_DEVQ_ERR_PACKED_ID,        /* -EINVAL packed: buffer id >= num */
    VNS_DEVQ_ERR_PACKED_WRAP,      /* -EINVAL packed: chained descriptor not available for its wrap counter */
    VNS_DEVQ_ERR__COUNT
};

/* "avail_idx", "head", ... for traces and tests. */
VNS_EXTERN const char *vns_devq_err_name(enum vns_devq_err e);

struct vns_devq;

/* vhost_signal's eventfd_signal(vq->call_ctx): raise the guest interrupt. */
typedef void (*vns_devq_signal_fn)(struct vns_devq *dq, void *arg);

struct vns_devq_config {
    enum vns_virtq_layout layout;
    uint32_t num;                   /* VHOST_SET_VRING_NUM */
    struct vns_virtq_addr addr;     /* VHOST_SET_VRING_ADDR */
    uint16_t base;                  /* VHOST_SET_VRING_BASE: last_avail_idx (split) */
    bool event_idx;                 /* VIRTIO_RING_F_EVENT_IDX acked */
    bool notify_on_empty;           /* VIRTIO_F_NOTIFY_ON_EMPTY acked */
    vns_devq_signal_fn signal;      /* may be NULL */
    void *signal_arg;
};

struct vns_devq_stats {
    uint64_t heads;          /* chains fetched */
    uint64_t descs;          /* descriptors translated (indirect entries included) */
    uint64_t indirect;       /* indirect tables walked */
    uint64_t empty;          /* get_vq_desc found nothing */
    uint64_t used;           /* used elements written */
    uint64_t signals;        /* vhost_notify said yes */
    uint64_t signals_suppressed;
    uint64_t errors[VNS_DEVQ_ERR__COUNT]; /* per check */
    uint64_t discards;                    /* fetched chains given back (vhost_discard_vq_desc) */
};

/* The element vhost_add_used_n writes: head id and bytes written. */
struct vns_used_elem {
    uint32_t id;
    uint32_t len;
};

/* Attach the device to a ring. As VHOST_SET_VRING_NUM/ADDR + the access
 * checks: num invalid (0, > 32768, split not a power of two) -> -VNS_EINVAL;
 * avail not 2-aligned or used not 4-aligned (split), event areas not
 * 4-aligned (packed) -> -VNS_EINVAL; desc alignment is NOT checked (vhost
 * does not); a part not covered by @t -> -VNS_EFAULT; -VNS_ENOMEM. Reads
 * the used index as vhost_vq_init_access does. @t must outlive the queue. */
VNS_EXTERN int vns_devq_create(const struct vns_gmem_table *t, const struct vns_devq_config *cfg,
                               struct vns_devq **out);
VNS_EXTERN void vns_devq_destroy(struct vns_devq *dq);

/* vhost_get_vq_desc: fetch the next available chain into @iov (out
 * segments first, then in segments; @out_num/@in_num count them). Returns
 * the head (split: descriptor index; packed: buffer id), -VNS_EAGAIN when
 * the ring is empty (vhost returns vq->num), -VNS_EIO if the queue is
 * already broken, or the errno of the failed check (the queue is then
 * broken and vns_devq_last_err() names the check). */
VNS_EXTERN int vns_devq_get_vq_desc(struct vns_devq *dq, struct vns_iov *iov, unsigned iov_size,
                                    unsigned *out_num, unsigned *in_num, struct vns_ctx *ctx);
/* vhost_discard_vq_desc: give back the last @n fetched chains. */
VNS_EXTERN void vns_devq_discard_vq_desc(struct vns_devq *dq, unsigned n, struct vns_ctx *ctx);
/* vhost_add_used / vhost_add_used_n: return chains to the driver. 0, or
 * -VNS_EINVAL for a packed id the device never fetched (caller bug). */
VNS_EXTERN int vns_devq_add_used(struct vns_devq *dq, uint32_t head, uint32_t len,
                                 struct vns_ctx *ctx);
VNS_EXTERN int vns_devq_add_used_n(struct vns_devq *dq, const struct vns_used_elem *heads,
                                   unsigned count, struct vns_ctx *ctx);
/* vhost_notify: must the guest be signalled now? Updates signalled_used. */
VNS_EXTERN bool vns_devq_notify(struct vns_devq *dq, struct vns_ctx *ctx);
/* vhost_signal: vhost_notify and, if true, call the signal callback. */
VNS_EXTERN bool vns_devq_signal(struct vns_devq *dq, struct vns_ctx *ctx);
/* vhost_add_used_and_signal. */
VNS_EXTERN int vns_devq_add_used_and_signal(struct vns_devq *dq, uint32_t head, uint32_t len,
                                            struct vns_ctx *ctx);
/* vhost_enable_notify: ask for kicks again; true if buffers were added in
 * the meantime (the caller must process them: the lost-kick re-check). */
VNS_EXTERN bool vns_devq_enable_notify(struct vns_devq *dq, struct vns_ctx *ctx);
/* vhost_disable_notify. */
VNS_EXTERN void vns_devq_disable_notify(struct vns_devq *dq, struct vns_ctx *ctx);
/* vhost_vq_avail_empty. */
VNS_EXTERN bool vns_devq_avail_empty(struct vns_devq *dq, struct vns_ctx *ctx);

/* copy_from_iter / copy_to_iter over the segments a fetch returned: copy
 * up to @n bytes out of (into) guest memory, charging the per-call and
 * per-byte cost of the kernel copy. Returns the bytes copied. */
VNS_EXTERN size_t vns_devq_copy_from_iov(struct vns_devq *dq, const struct vns_iov *iov,
                                         unsigned niov, void *dst, size_t n,
                                         struct vns_ctx *ctx);
VNS_EXTERN size_t vns_devq_copy_to_iov(struct vns_devq *dq, const struct vns_iov *iov,
                                       unsigned niov, const void *src, size_t n,
                                       struct vns_ctx *ctx);

VNS_EXTERN bool vns_devq_is_broken(const struct vns_devq *dq);
VNS_EXTERN enum vns_devq_err vns_devq_last_err(const struct vns_devq *dq);
VNS_EXTERN uint32_t vns_devq_num(const struct vns_devq *dq);
VNS_EXTERN const struct vns_devq_stats *vns_devq_stats(const struct vns_devq *dq);

/* The books of one virtqueue, driver @vq and device @dq on the same ring
 * (docs/reliability.md, "Virtqueue books"), in buffers (a chain, direct
 * or indirect, is one):
 *   made_available = used + not_taken + taken_not_used
 *   used = reclaimed + used_not_reclaimed
 * made_available and reclaimed are the driver's counts (virtqueue_add,
 * get_buf), taken (fetched less given back) and used the device's; on a
 * split ring not_taken and used_not_reclaimed are read from the ring
 * (avail->idx - last_avail_idx, used->idx - the driver's last_used_idx),
 * so the books cross-check both sides against the ring; on a packed ring
 * (no free-running index) they are the counters' differences and the
 * check is that each stays within the ring. A broken queue (a hostile
 * guest) is reported, not checked: its ring holds what the guest wrote. */
struct vns_vq_books {
    uint64_t made_available, taken, used, reclaimed;
    uint64_t not_taken, taken_not_used, used_not_reclaimed;
    uint32_t num;
    bool broken;
    bool balanced;
};
VNS_EXTERN void vns_vq_books(const struct vns_virtq *vq, const struct vns_devq *dq,
                             struct vns_vq_books *out);

#endif
