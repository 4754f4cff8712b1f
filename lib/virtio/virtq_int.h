/* vnetsim -- private to lib/virtio: driver and device queue state and the
 * per-layout ops tables (virtio_ring.c keeps split and packed state in a
 * union and switches on vq->packed_ring; we use one const table per
 * layout, STYLE 5.5). */
#ifndef VNETSIM_VIRTQ_INT_H
#define VNETSIM_VIRTQ_INT_H

#include "vnetsim/cpu.h"
#include "vnetsim/devq.h"
#include "vnetsim/error.h"
#include "vnetsim/gmem.h"
#include "vnetsim/virtq.h"
#include "mem/gmem_int.h"

/* Frames and costs: no-ops without a context, and cheap to skip. */
#define VQ_ENTER(ctx, f)                 \
    do {                                 \
        if (ctx)                         \
            vns_fn_enter(ctx, VNS_FN_##f); \
    } while (0)
#define VQ_EXIT(ctx)           \
    do {                       \
        if (ctx)               \
            vns_fn_exit(ctx);  \
    } while (0)
#define VQ_CHARGE(ctx, f, bytes)                 \
    do {                                         \
        if (ctx)                                 \
            vns_charge(ctx, VNS_FN_##f, bytes);  \
    } while (0)

/* --- hot-path windows on ring parts ---------------------------------------- *
 * A window is a ring part's flat host address held in a local: stores
 * into guest memory are byte stores that may alias anything reachable
 * through a pointer, so reading the area's fields after each store would
 * reload them; a by-value window stays in a register. An area that is not
 * one host range (its pages were materialised separately before the ring
 * was placed) is reached byte by byte through its page table.
 *
 * Ring offsets are in range by construction: every index is a counter of
 * ours reduced modulo num, or a guest value checked against num before it
 * is used (head, next, id). So a flat access needs no length check; debug
 * builds check anyway and send a stray offset to the area's slow path,
 * which refuses it and counts a fault (the tests assert none). */
struct vq_win {
    uint8_t *flat;                      /* NULL: not one host range */
    const struct vns_gmem_area *a;
};

static inline struct vq_win vq_win(const struct vns_gmem_area *a)
{
    struct vq_win w = {a->flat, a};

    return w;
}

#ifdef NDEBUG
#define VQ_FLAT_OK(w, off, n) ((w).flat != NULL)
#else
#define VQ_FLAT_OK(w, off, n) ((w).flat != NULL && (off) + (n) <= (w).a->len)
#endif

#define VQ_WIN_RW(bits)                                                                  \
    static inline uint##bits##_t vq_r##bits(struct vq_win w, uint64_t off)               \
    {                                                                                    \
        uint8_t b[bits / 8];                                                             \
                                                                                         \
        if (VNS_LIKELY(VQ_FLAT_OK(w, off, bits / 8)))                                    \
            return vns_le##bits##_load(w.flat + off);                                    \
        vns__gmem_area_read_slow(w.a, off, b, bits / 8);                                 \
        return vns_le##bits##_load(b);                                                   \
    }                                                                                    \
    static inline void vq_w##bits(struct vq_win w, uint64_t off, uint##bits##_t v)       \
    {                                                                                    \
        uint8_t b[bits / 8];                                                             \
                                                                                         \
        if (VNS_LIKELY(VQ_FLAT_OK(w, off, bits / 8))) {                                  \
            vns_le##bits##_store(w.flat + off, v);                                       \
            return;                                                                      \
        }                                                                                \
        vns_le##bits##_store(b, v);                                                      \
        vns__gmem_area_write_slow(w.a, off, b, bits / 8);                                \
    }
VQ_WIN_RW(16)
VQ_WIN_RW(32)
VQ_WIN_RW(64)
#undef VQ_WIN_RW

/* --- ring descriptors, field by field ------------------------------------- *
 * Both layouts put a 16-byte descriptor at 16 * i: addr (le64) at 0, len
 * (le32) at 8, then split flags/next or packed id/flags as two le16. Each
 * field is one access of its own size on both sides (never a struct
 * overlay, and on a little-endian host one native load/store per field). */
struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t w12;   /* split: flags; packed: id */
    uint16_t w14;   /* split: next;  packed: flags */
};

static inline void vq_desc_read(struct vq_win w, uint64_t i, struct vq_desc *d)
{
    uint64_t b = i * 16u;

    d->addr = vq_r64(w, b);
    d->len = vq_r32(w, b + 8);
    d->w12 = vq_r16(w, b + 12);
    d->w14 = vq_r16(w, b + 14);
}

static inline void vq_desc_write(struct vq_win w, uint64_t i, uint64_t addr, uint32_t len,
                                 uint16_t w12, uint16_t w14)
{
    uint64_t b = i * 16u;

    vq_w64(w, b, addr);
    vq_w32(w, b + 8, len);
    vq_w16(w, b + 12, w12);
    vq_w16(w, b + 14, w14);
}

/* --- driver side ------------------------------------------------------------ */

/* vring_desc_extra: the driver's own copy of what it wrote (Linux keeps it
 * so that it never reads descriptors back from device-writable memory). */
struct virtq_desc_extra {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;    /* free list / chain link */
};

/* vring_desc_state_split / _packed. */
struct virtq_desc_state {
    void *data;        /* token; NULL = not a head */
    uint64_t indir;    /* gpa of the indirect table, 0 if none */
    uint16_t num;      /* packed: descriptors in the chain */
    uint16_t last;     /* packed: last id of the chain */
};

/* The per-layout work. It charges no cost: the entry points in virtq.c
 * and devq.c push the frames and charge per call, per descriptor and per
 * indirect table from the counters the work updates, so that the ring
 * code itself stays a leaf (no calls on the hot path). */
struct virtq_ops {
    /* @ctx is used only on the rare paths (notify on ENOSPC, forced kick) */
    int (*add)(struct vns_virtq *vq, const struct vns_sg *sg, unsigned out_sgs,
               unsigned in_sgs, void *data, struct vns_ctx *ctx);
    bool (*kick_prepare)(struct vns_virtq *vq);
    void *(*get_buf)(struct vns_virtq *vq, uint32_t *len);
    bool (*more_used)(const struct vns_virtq *vq);
    void (*disable_cb)(struct vns_virtq *vq);
    unsigned (*enable_cb_prepare)(struct vns_virtq *vq);
    bool (*poll)(const struct vns_virtq *vq, unsigned last);
    bool (*enable_cb_delayed)(struct vns_virtq *vq);
    void *(*detach_unused_buf)(struct vns_virtq *vq);
};

struct vns_virtq {
    const struct virtq_ops *ops;
    struct vns_gmem *mem;
    struct vns_gmem_area desc;     /* descriptor table / ring */
    struct vns_gmem_area avail;    /* driver area */
    struct vns_gmem_area used;     /* device area */
    struct vns_virtq_addr addr;
    enum vns_virtq_layout layout;
    uint32_t num;
    bool event;                    /* EVENT_IDX */
    bool indirect;                 /* INDIRECT_DESC and tables placed */
    bool broken;
    bool event_triggered;          /* device signalled since enable_cb (hint) */
    uint64_t indirect_gpa;
    uint32_t indirect_max;         /* entries per table */
    unsigned num_free;             /* free descriptors */
    unsigned num_added;            /* added since the last kick_prepare */
    uint16_t free_head;            /* first free descriptor (split) / id (packed); num = none */
    uint16_t last_used_idx;        /* split: free-running; packed: pos | wrap << 15 */
    /* split */
    uint16_t avail_flags_shadow;
    uint16_t avail_idx_shadow;
    /* packed */
    uint16_t next_avail_idx;       /* position 0..num-1 */
    bool avail_wrap_counter;
    uint16_t avail_used_flags;     /* AVAIL/USED bits for the current lap */
    uint16_t event_flags_shadow;   /* driver event flags last written */
    struct virtq_desc_extra *extra;  /* num entries */
    struct virtq_desc_state *state;  /* num entries, by head (split) / id (packed) */
    vns_virtq_notify_fn notify;
    void *notify_arg;
    struct vns_virtq_stats stats;
};

extern const struct virtq_ops vns__virtq_split_ops;

/* kick_prepare's answer, counted. */
static inline bool vns__virtq_count_kick(struct vns_virtq *vq, bool kick)
{
    if (kick)
        vq->stats.kicks++;
    else
        vq->stats.kicks_suppressed++;
    return kick;
}
extern const struct virtq_ops vns__virtq_packed_ops;
/* Reset the ring bytes and driver state (vring_create_virtqueue). */
void vns__virtq_init_split(struct vns_virtq *vq, bool no_callback);
void vns__virtq_init_packed(struct vns_virtq *vq, bool no_callback);
/* Write a driver indirect table (entries of @sg, split or packed form) at
 * the table of slot @slot; returns its gpa. */
uint64_t vns__virtq_write_indirect(struct vns_virtq *vq, unsigned slot, const struct vns_sg *sg,
                                   unsigned out_sgs, unsigned total, bool packed);
/* BAD_RING(): mark broken. */
void vns__virtq_bad_ring(struct vns_virtq *vq);
/* The rare tails of an add, called in tail position from the layouts' add
 * so that those stay leaves: a full ring (notify anyway if there are out
 * parts, as Linux does) and the forced kick at 65535 added buffers. */
VNS__COLD int vns__virtq_add_full(struct vns_virtq *vq, unsigned out_sgs, struct vns_ctx *ctx);
VNS__COLD int vns__virtq_add_kick(struct vns_virtq *vq, struct vns_ctx *ctx);

/* --- device side ------------------------------------------------------------ */

#define VNS_DEVQ_INDIRECT_IOV 1024u   /* vq->indirect[UIO_MAXIOV] */

struct devq_ops {
    int (*get_vq_desc)(struct vns_devq *dq, struct vns_iov *iov, unsigned iov_size,
                       unsigned *out_num, unsigned *in_num);
    void (*discard)(struct vns_devq *dq, unsigned n);
    int (*add_used_n)(struct vns_devq *dq, const struct vns_used_elem *heads, unsigned count);
    bool (*notify)(struct vns_devq *dq);
    bool (*enable_notify)(struct vns_devq *dq);
    void (*disable_notify)(struct vns_devq *dq);
    bool (*avail_empty)(struct vns_devq *dq);
};

struct devq_fetch {          /* packed: where a fetched chain started */
    uint16_t pos;
    uint16_t wrap;
};

struct vns_devq {
    const struct devq_ops *ops;
    const struct vns_gmem_table *table;
    struct vns_gmem *mem;
    struct vns_gmem_area desc, avail, used;
    enum vns_virtq_layout layout;
    uint32_t num;
    bool event_idx;
    bool notify_on_empty;
    bool broken;
    enum vns_devq_err last_err;
    /* split: struct vhost_virtqueue */
    uint16_t last_avail_idx;
    uint16_t avail_idx;            /* cached avail->idx */
    uint16_t last_used_idx;
    uint16_t used_flags;           /* NO_NOTIFY when notifications are disabled */
    uint16_t signalled_used;
    bool signalled_used_valid;
    /* packed */
    uint16_t avail_pos;
    bool avail_wrap;
    uint16_t used_pos;
    bool used_wrap;
    uint32_t used_since_signal;    /* ring positions used since the last notify decision */
    uint16_t *pk_count;            /* descriptors of the chain fetched for each id */
    struct devq_fetch *pk_hist;    /* num entries: start of each outstanding fetch */
    uint32_t pk_hist_head;         /* fetches so far (mod num indexes pk_hist) */
    uint32_t pk_hist_len;          /* entries that can be discarded */
    struct vns_iov *indirect;      /* VNS_DEVQ_INDIRECT_IOV segments of a table */
    vns_devq_signal_fn signal;
    void *signal_arg;
    struct vns_devq_stats stats;
};

extern const struct devq_ops vns__devq_split_ops;

/* vhost_notify's answer, counted. */
static inline bool vns__devq_count_signal(struct vns_devq *dq, bool yes)
{
    if (yes)
        dq->stats.signals++;
    else
        dq->stats.signals_suppressed++;
    return yes;
}
extern const struct devq_ops vns__devq_packed_ops;

/* vq_err: count the check, mark broken, return @err. */
int vns__devq_err(struct vns_devq *dq, enum vns_devq_err why, int err);
/* get_indirect() of both layouts: walk the table at (@addr, @len) and
 * append its segments. @split: entries chain while NEXT is set (vhost);
 * packed: all len/16 entries are used. */
int vns__devq_get_indirect(struct vns_devq *dq, uint64_t addr, uint32_t len, bool split,
                           struct vns_iov *iov, unsigned iov_size, unsigned *out_num,
                           unsigned *in_num);
/* Translate one descriptor and account it as out or in (vhost's common
 * tail of the walk, translate_desc + the WRITE / out-after-in rule).
 * @why_tr/@why_order are the reasons to report. */
static inline int vns__devq_push_desc(struct vns_devq *dq, uint64_t addr, uint32_t len,
                                      uint16_t flags, struct vns_iov *iov, unsigned iov_size,
                                      unsigned *out_num, unsigned *in_num,
                                      enum vns_devq_err why_tr, enum vns_devq_err why_order)
{
    unsigned iov_count = *in_num + *out_num;
    int ret;

    dq->stats.descs++;
    ret = vns__gmem_table_translate_fast(dq->table, addr, len, iov + iov_count,
                                         iov_size - iov_count);
    if (VNS_UNLIKELY(ret < 0))
        return vns__devq_err(dq, why_tr, ret);   /* "Translation failure %d ..." */
    if (flags & VNS_VRING_DESC_F_WRITE) {
        /* If this is an input descriptor, increment that count. */
        *in_num += (unsigned)ret;
    } else {
        /* If it's an output descriptor, they're all supposed to come
         * before any input descriptors. LINUX: the test is on the number
         * of in segments, so a zero-length in descriptor does not count. */
        if (VNS_UNLIKELY(*in_num))
            return vns__devq_err(dq, why_order, -VNS_EINVAL);
        *out_num += (unsigned)ret;
    }
    return 0;
}

#endif
