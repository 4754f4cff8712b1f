/* vnetsim -- virtqueues, driver side (the guest's drivers/virtio/virtio_ring.c).
 *
 * A virtqueue is a ring placed in guest memory (vns_gmem) in the split
 * (virtio 1.x 2.7) or packed (2.8) layout, byte for byte as a real guest
 * writes it, plus the driver's private state (free list, shadows, tokens)
 * in host memory. One API serves both layouts (an ops table per layout, as
 * virtio_ring.c switches on vq->packed_ring). The device side is devq.h.
 *
 * Rings are placed, not allocated: compute the sizes with
 * vns_virtq_layout_size() / vns_virtq_layout(), take guest memory (for
 * instance from a vns_galloc), then vns_virtq_create().
 *
 * Every call takes an optional execution context @ctx: when non-NULL the
 * modelled kernel function's frame is pushed and its cost charged
 * (include/vnetsim/funcs/virtio.def). NULL runs the ring with no engine. */
#ifndef VNETSIM_VIRTQ_H
#define VNETSIM_VIRTQ_H

#include "vnetsim/common.h"
#include "vnetsim/gmem.h"
#include "vnetsim/proto/virtio_ring.h"

enum vns_virtq_layout {
    VNS_VIRTQ_SPLIT = 0,
    VNS_VIRTQ_PACKED = 1,
};

/* Guest-physical addresses of a ring's three parts. */
struct vns_virtq_addr {
    uint64_t desc;   /* descriptor table (split) / descriptor ring (packed); align 16 */
    uint64_t avail;  /* driver area: avail ring (split, align 2) / driver event suppression (packed, align 4) */
    uint64_t used;   /* device area: used ring (split, align 4) / device event suppression (packed, align 4) */
};

/* Valid ring size: split, a power of two 1..32768; packed, 1..32768. */
VNS_EXTERN bool vns_virtq_num_ok(enum vns_virtq_layout layout, uint32_t num);
/* Bytes of a ring placed contiguously: split, vring_size(num, align) (the
 * legacy layout of vring_init; @align 0 = 4096, a power of two); packed,
 * the descriptor ring then both event areas. 0 for an invalid num/align. */
VNS_EXTERN uint64_t vns_virtq_layout_size(enum vns_virtq_layout layout, uint32_t num,
                                          uint32_t align);
/* The part addresses of that contiguous layout placed at @base.
 * -VNS_EINVAL for an invalid num or align. */
VNS_EXTERN int vns_virtq_layout(enum vns_virtq_layout layout, uint32_t num, uint32_t align,
                                uint64_t base, struct vns_virtq_addr *out);
/* Guest memory the driver needs for its indirect tables (one per ring
 * slot, @indirect_max entries of 16 bytes each; 0 = default). */
VNS_EXTERN uint64_t vns_virtq_indirect_size(uint32_t num, uint32_t indirect_max);

#define VNS_VIRTQ_INDIRECT_MAX_DEFAULT 32u

struct vns_virtq;

/* Transport notification (vp_notify: the MMIO/PIO write that kicks the
 * device). Return false if it failed: the queue is then marked broken. */
typedef bool (*vns_virtq_notify_fn)(struct vns_virtq *vq, void *arg);

struct vns_virtq_config {
    enum vns_virtq_layout layout;
    uint32_t num;                   /* ring size (see vns_virtq_num_ok) */
    struct vns_virtq_addr addr;     /* where the ring lives; must be guest RAM */
    bool event_idx;                 /* VIRTIO_RING_F_EVENT_IDX negotiated */
    bool indirect;                  /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
    uint64_t indirect_gpa;          /* indirect: vns_virtq_indirect_size() bytes of guest RAM, align 16 */
    uint32_t indirect_max;          /* entries per indirect table; 0 = default (32) */
    bool no_callback;               /* created without a callback: interrupts suppressed */
    vns_virtq_notify_fn notify;     /* may be NULL: notify always succeeds */
    void *notify_arg;
};

/* A buffer segment in guest memory: driver-side scatterlist entry. */
struct vns_sg {
    uint64_t addr;
    uint32_t len;
};

struct vns_virtq_stats {
    uint64_t adds;           /* buffers added */
    uint64_t descs;          /* ring descriptors used by them */
    uint64_t indirect;       /* adds that used an indirect table */
    uint64_t enospc;         /* adds refused: ring full */
    uint64_t kicks;          /* kick_prepare said yes */
    uint64_t kicks_suppressed; /* kick_prepare said no */
    uint64_t notifies;       /* transport notifications */
    uint64_t get_bufs;       /* buffers returned by get_buf */
    uint64_t bad_ring;       /* device wrote a bad id / non-head (queue broken) */
};

/* Place a driver ring on @m (the parts must be guest RAM: -VNS_EFAULT;
 * bad num/flags: -VNS_EINVAL; -VNS_ENOMEM) and initialise its bytes as
 * Linux's vring_create_virtqueue does. */
VNS_EXTERN int vns_virtq_create(struct vns_gmem *m, const struct vns_virtq_config *cfg,
                                struct vns_virtq **out);
/* NULL is a no-op. Outstanding tokens are simply forgotten. */
VNS_EXTERN void vns_virtq_destroy(struct vns_virtq *vq);

/* virtqueue_add_sgs: expose @out_sgs device-readable then @in_sgs
 * device-writable segments of @sg as one buffer identified by @data (not
 * NULL). Returns 0, -VNS_ENOSPC (not enough free descriptors; if there are
 * out segments the device is notified anyway, as Linux does), -VNS_EIO
 * (queue broken), -VNS_EINVAL (no segment or NULL token). */
VNS_EXTERN int vns_virtq_add_sgs(struct vns_virtq *vq, const struct vns_sg *sg,
                                 unsigned out_sgs, unsigned in_sgs, void *data,
                                 struct vns_ctx *ctx);
VNS_EXTERN int vns_virtq_add_outbuf(struct vns_virtq *vq, const struct vns_sg *sg,
                                    unsigned num, void *data, struct vns_ctx *ctx);
VNS_EXTERN int vns_virtq_add_inbuf(struct vns_virtq *vq, const struct vns_sg *sg,
                                   unsigned num, void *data, struct vns_ctx *ctx);

/* virtqueue_kick_prepare: true if the device asked to be notified of the
 * buffers added since the last call (EVENT_IDX: vring_need_event on the
 * device's avail event; else the NO_NOTIFY flag / packed event flags). */
VNS_EXTERN bool vns_virtq_kick_prepare(struct vns_virtq *vq, struct vns_ctx *ctx);
/* virtqueue_notify: call the transport. false if broken or it failed. */
VNS_EXTERN bool vns_virtq_notify(struct vns_virtq *vq, struct vns_ctx *ctx);
/* virtqueue_kick: prepare, then notify if needed. Returns false only on
 * failure. */
VNS_EXTERN bool vns_virtq_kick(struct vns_virtq *vq, struct vns_ctx *ctx);

/* virtqueue_get_buf_ctx: the token of the next used buffer and in @len the
 * bytes the device wrote, or NULL if none (or the queue is broken, or the
 * device returned a bad id: then the queue is marked broken). */
VNS_EXTERN void *vns_virtq_get_buf(struct vns_virtq *vq, uint32_t *len, struct vns_ctx *ctx);
/* More used buffers pending (more_used). */
VNS_EXTERN bool vns_virtq_more_used(const struct vns_virtq *vq);

/* Interrupt suppression. */
VNS_EXTERN void vns_virtq_disable_cb(struct vns_virtq *vq, struct vns_ctx *ctx);
/* Re-enable callbacks; returns the opaque position for vns_virtq_poll(). */
VNS_EXTERN unsigned vns_virtq_enable_cb_prepare(struct vns_virtq *vq, struct vns_ctx *ctx);
/* True if buffers were used since enable_cb_prepare returned @last. */
VNS_EXTERN bool vns_virtq_poll(struct vns_virtq *vq, unsigned last, struct vns_ctx *ctx);
/* Re-enable callbacks; false if buffers are pending (caller polls again). */
VNS_EXTERN bool vns_virtq_enable_cb(struct vns_virtq *vq, struct vns_ctx *ctx);
/* Re-enable callbacks, asking for the interrupt only once 3/4 of the
 * outstanding buffers are used; false if already more than that. */
VNS_EXTERN bool vns_virtq_enable_cb_delayed(struct vns_virtq *vq, struct vns_ctx *ctx);
/* vring_interrupt: the device signalled. Returns true if the callback
 * should run (buffers are pending and the queue is not broken). */
VNS_EXTERN bool vns_virtq_interrupt(struct vns_virtq *vq, struct vns_ctx *ctx);

/* virtqueue_detach_unused_buf: take back one buffer the device never used
 * (teardown), or NULL when none is left. */
VNS_EXTERN void *vns_virtq_detach_unused_buf(struct vns_virtq *vq);

VNS_EXTERN unsigned vns_virtq_num_free(const struct vns_virtq *vq);
VNS_EXTERN uint32_t vns_virtq_get_vring_size(const struct vns_virtq *vq);
VNS_EXTERN bool vns_virtq_is_broken(const struct vns_virtq *vq);
VNS_EXTERN enum vns_virtq_layout vns_virtq_layout_of(const struct vns_virtq *vq);
VNS_EXTERN const struct vns_virtq_addr *vns_virtq_addr(const struct vns_virtq *vq);
VNS_EXTERN const struct vns_virtq_stats *vns_virtq_stats(const struct vns_virtq *vq);

#endif
