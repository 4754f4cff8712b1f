/* vnetsim -- the socket-like backend interface vhost-net calls, and the
 * pieces both sides share: iov iterators over guest memory (iov_iter),
 * message headers (msghdr, tun_msg_ctl, the XDP buffers of vhost's TX
 * batch) and ptr_ring (include/linux/ptr_ring.h).
 *
 * LINUX: vhost-net holds a struct socket whose ops (sock->ops->sendmsg,
 * recvmsg, peek_len) are tun's (drivers/net/tun.c tun_socket_ops) or
 * tap's (drivers/net/tap.c tap_socket_ops), and reads the backend's
 * ptr_ring directly (tun_get_tx_ring / tap_get_ptr_ring). vhost and the
 * devices never include each other (DESIGN.md section 2): this header is
 * the only thing they share.
 *
 * The socket's wait queue is a list of entries (vhost_poll on the socket
 * file); the backend wakes them with EPOLLIN when it queued a packet for
 * the reader (sk_data_ready) and EPOLLOUT when room came back
 * (sk_write_space). */
#ifndef VNETSIM_BACKEND_SOCK_H
#define VNETSIM_BACKEND_SOCK_H

#include "vnetsim/common.h"
#include "vnetsim/gmem.h"

/* --- synthetic payload in guest memory ------------------------------------------
 * DESIGN.md section 4: a synthetic payload is a range of (flow, stream
 * offset) whose bytes are never stored. To keep it synthetic across the
 * guest boundary, the writer of a buffer records, per iov segment (keyed
 * by the segment's first guest-physical address), "real_len real bytes,
 * then syn_len synthetic bytes of (flow, off)" instead of writing those
 * bytes; readers honour the record: copy_from_iter generates the bytes,
 * vns_iov_iter_to_skb keeps them synthetic. A plain write that starts at a
 * segment's first byte drops its record. A record that does not fit its
 * segment (a hostile guest's) is ignored: the bytes read as stored. The
 * copies are still charged per byte: the kernel copies them. */
struct vns_synrec {
    uint64_t gpa;          /* segment start */
    uint32_t real_len;     /* real bytes first */
    uint32_t syn_len;      /* then synthetic bytes */
    uint64_t flow, off;    /* their content: vns_payload_byte(flow, off + i) */
};
struct vns_synmap;

/* A map sized for @capacity records at first (rounded up to a power of
 * two); it doubles as records are added, up to 2M records, after which
 * vns_synmap_set returns -VNS_ENOSPC (the caller then writes real bytes).
 * -VNS_ENOMEM. */
VNS_EXTERN int vns_synmap_create(unsigned capacity, struct vns_synmap **out);
VNS_EXTERN void vns_synmap_destroy(struct vns_synmap *m);
/* Record (or replace) the segment at @gpa; -VNS_ENOSPC when full. */
VNS_EXTERN int vns_synmap_set(struct vns_synmap *m, uint64_t gpa, uint32_t real_len, uint32_t syn_len,
                              uint64_t flow, uint64_t off);
VNS_EXTERN void vns_synmap_clear(struct vns_synmap *m, uint64_t gpa);
VNS_EXTERN const struct vns_synrec *vns_synmap_get(const struct vns_synmap *m, uint64_t gpa);
VNS_EXTERN unsigned vns_synmap_count(const struct vns_synmap *m);

/* --- iov_iter over guest memory --------------------------------------------- */

/* An iterator over translated guest segments (lib/mem vns_iov), as the
 * kernel's iov_iter over the vhost vq->iov array. */
struct vns_iov_iter {
    struct vns_synmap *syn;   /* synthetic records of this guest, or NULL; set after init */
    struct vns_gmem *mem;
    const struct vns_iov *iov;
    unsigned nr_segs;
    unsigned seg;         /* current segment */
    uint64_t seg_off;     /* offset inside it */
    size_t count;         /* bytes left */
};

/* iov_iter_init over @nr segments, limited to @count bytes. */
VNS_EXTERN void vns_iov_iter_init(struct vns_iov_iter *it, struct vns_gmem *mem,
                                  const struct vns_iov *iov, unsigned nr, size_t count);
/* iov_length. */
VNS_EXTERN size_t vns_iov_length(const struct vns_iov *iov, unsigned nr);
VNS_EXTERN void vns_iov_iter_advance(struct vns_iov_iter *it, size_t n);
static inline size_t vns_iov_iter_count(const struct vns_iov_iter *it) { return it->count; }
/* copy_from_iter: copy up to @n bytes out of guest memory; returns the
 * bytes copied. Charges copy_from_iter per byte to @ctx (may be NULL). */
VNS_EXTERN size_t vns_copy_from_iter(struct vns_ctx *ctx, struct vns_iov_iter *it, void *dst,
                                     size_t n);
/* copy_to_iter: copy up to @n bytes into guest memory; returns the bytes
 * copied. Charges copy_to_iter per byte. */
VNS_EXTERN size_t vns_copy_to_iter(struct vns_ctx *ctx, struct vns_iov_iter *it, const void *src,
                                   size_t n);
/* Bytes before the first synthetic one among the next @n. */
VNS_EXTERN size_t vns_iov_iter_real_len(const struct vns_iov_iter *it, size_t n);

struct vns_skb;
/* skb_copy_datagram_from_iter into a linear skb with room for the real
 * bytes: @n bytes, real ones appended to the linear part, synthetic ones
 * kept as the skb's synthetic range. 0, -VNS_EFAULT (short), -VNS_EINVAL
 * (real bytes after synthetic ones, or two ranges that do not continue
 * each other). Charged as copy_from_iter. */
VNS_EXTERN int vns_iov_iter_to_skb(struct vns_ctx *ctx, struct vns_iov_iter *it, struct vns_skb *skb,
                                   size_t n);
/* skb_copy_datagram_iter: copy @len bytes of @skb from offset @off (from
 * skb->data) into the iterator; 0 or -VNS_EFAULT (short). Charged as
 * copy_to_iter. With a synthetic map, the skb's synthetic range is
 * recorded instead of written. */
VNS_EXTERN int vns_skb_copy_datagram_iter(struct vns_ctx *ctx, const struct vns_skb *skb,
                                          uint32_t off, struct vns_iov_iter *it, uint32_t len);

/* --- messages ----------------------------------------------------------------- */

#define VNS_MSG_TRUNC 0x20
#define VNS_MSG_DONTWAIT 0x40
#define VNS_MSG_MORE 0x8000

/* include/linux/if_tun.h: struct tun_msg_ctl. */
#define VNS_TUN_MSG_UBUF 1
#define VNS_TUN_MSG_PTR 2
struct vns_tun_msg_ctl {
    unsigned short type;
    unsigned short num;
    void *ptr;             /* TUN_MSG_PTR: an array of num struct vns_xdp_buff */
};

/* One buffer of vhost-net's TX batch (vhost_net_build_xdp): a page-frag
 * buffer holding struct tun_xdp_hdr (buflen, then the guest's
 * virtio_net_hdr) at data_hard_start and the frame at data. */
#define VNS_XDP_BUF_SIZE 4096u
#define VNS_TUN_XDP_HDR_GSO_OFF 4u     /* offsetof(struct tun_xdp_hdr, gso) */
struct vns_xdp_buff {
    uint8_t *data_hard_start;          /* VNS_XDP_BUF_SIZE bytes of host memory */
    uint32_t data;                     /* offset of the frame */
    uint32_t data_end;                 /* offset past its last byte */
    uint32_t buflen;                   /* tun_xdp_hdr.buflen */
};

struct vns_msghdr {
    struct vns_iov_iter iter;          /* msg_iter */
    unsigned flags;                    /* msg_flags: MSG_* */
    /* msg_control: sendmsg: a struct vns_tun_msg_ctl or NULL; recvmsg: a
     * packet vhost already consumed from the backend's ring, or NULL. */
    void *control;
};

/* The end of tun_recvmsg / tap_recvmsg: a packet longer than the buffer
 * sets MSG_TRUNC in msg_flags, and the call returns its full length only
 * when the caller asked with MSG_TRUNC (vhost-net does, to size buffers). */
static inline int vns_recvmsg_trunc(struct vns_msghdr *m, int ret, size_t total_len, int flags)
{
    if (ret > (int)total_len) {
        m->flags |= VNS_MSG_TRUNC;
        return (flags & VNS_MSG_TRUNC) ? ret : (int)total_len;
    }
    return ret;
}

/* --- ptr_ring ----------------------------------------------------------------- */

/* include/linux/ptr_ring.h: a NULL slot is empty; the consumer frees slots
 * in batches (batch 16 = 2 cache lines of pointers, 1 if that exceeds half
 * the ring), so the producer sees room only a batch at a time. */
struct vns_ptr_ring {
    void **queue;
    int size;
    int batch;
    int producer;
    int consumer_head;
    int consumer_tail;
    uint64_t produced, full;           /* model counters */
};

VNS_EXTERN int vns_ptr_ring_init(struct vns_ptr_ring *r, int size);
/* Frees the queue; entries still queued are passed to @destroy. */
VNS_EXTERN void vns_ptr_ring_cleanup(struct vns_ptr_ring *r, void (*destroy)(void *));
/* __ptr_ring_produce: 0 or -VNS_ENOSPC (full, or size 0). */
VNS_EXTERN int vns_ptr_ring_produce(struct vns_ptr_ring *r, void *ptr);
VNS_EXTERN void *vns_ptr_ring_peek(const struct vns_ptr_ring *r);
VNS_EXTERN bool vns_ptr_ring_empty(const struct vns_ptr_ring *r);
VNS_EXTERN void *vns_ptr_ring_consume(struct vns_ptr_ring *r);
VNS_EXTERN int vns_ptr_ring_consume_batched(struct vns_ptr_ring *r, void **array, int n);
/* ptr_ring_unconsume: push @n entries back at the head; what does not fit
 * goes to @destroy. */
VNS_EXTERN void vns_ptr_ring_unconsume(struct vns_ptr_ring *r, void **batch, int n,
                                       void (*destroy)(void *));
/* Entries queued (model helper; the kernel has no O(1) count). */
VNS_EXTERN int vns_ptr_ring_count(const struct vns_ptr_ring *r);

/* --- the socket ------------------------------------------------------------------ */

#define VNS_EPOLLIN 0x001u
#define VNS_EPOLLOUT 0x004u

struct vns_socket;

/* sock->ops as vhost-net uses them (struct proto_ops). */
struct vns_proto_ops {
    const char *kind;                  /* Required: "tun", "tap" */
    /* Required. Returns bytes sent (total_len) or a negative error; the
     * guest's buffer is only read. */
    int (*sendmsg)(struct vns_ctx *ctx, struct vns_socket *sock, struct vns_msghdr *m,
                   size_t total_len);
    /* Required. Returns the packet's length (header included) or a negative
     * error; MSG_TRUNC in @flags: return the full length even if longer. */
    int (*recvmsg)(struct vns_ctx *ctx, struct vns_socket *sock, struct vns_msghdr *m,
                   size_t total_len, unsigned flags);
    /* Length of the next packet, 0 if none. */
    int (*peek_len)(struct vns_socket *sock);
};

/* A wait-queue entry on the socket (vhost_poll's wait): @fn runs when the
 * backend wakes the queue with events in @mask. */
struct vns_sock_wait {
    void (*fn)(struct vns_sock_wait *w, unsigned events, struct vns_ctx *waker);
    void *arg;
    unsigned mask;
    bool added;
    struct vns_sock_wait *next;
};

struct vns_socket {
    const struct vns_proto_ops *ops;
    void *priv;                        /* tun_file / tap_queue */
    int sk_sndbuf;                     /* INT_MAX: vhost-net may batch (sock_can_batch) */
    struct vns_ptr_ring *rx_ring;      /* the ring vhost reads (tun_get_tx_ring), or NULL */
    /* the backend's destructor for ring entries (tun_ptr_free) */
    void (*ptr_free)(void *ptr);
    bool zerocopy;                     /* SOCK_ZEROCOPY (not used: vhost zerocopy is off) */
    struct vns_sock_wait *wait;        /* wait queue */
};

/* add_wait_queue / remove_wait_queue. */
VNS_EXTERN void vns_sock_wait_add(struct vns_socket *sock, struct vns_sock_wait *w);
VNS_EXTERN void vns_sock_wait_del(struct vns_socket *sock, struct vns_sock_wait *w);
/* wake_up_interruptible_poll(&wq, events): run each entry whose mask
 * matches. */
VNS_EXTERN void vns_sock_wake(struct vns_socket *sock, unsigned events, struct vns_ctx *waker);

#endif
