/* vnetsim -- socket buffers (struct sk_buff). LINUX: include/linux/skbuff.h,
 * net/core/skbuff.c.
 *
 * An skb has a linear area [head, end) with data/tail inside it holding real
 * header bytes (and, in materialized mode, real payload), plus a nonlinear
 * part: a SYNTHETIC payload range (data_len bytes whose content is the
 * deterministic function vns_payload_byte(flow, stream offset), never
 * stored; DESIGN.md section 4) and an optional frag_list of further skbs
 * (GRO chains them). len = linear length + data_len.
 *
 * Ownership (STYLE.md 5.4): a non-const struct vns_skb * argument moves one
 * reference; the callee consumes it on every path. Drops go through
 * vns_kfree_skb_reason() only, which counts them per kernel by reason.
 * skbs and their buffers come from pools of the owning kernel instance: no
 * malloc per packet once the pools are warm.
 *
 * Simplified: skb_clone copies the linear bytes (no shared data/dataref);
 * one synthetic range per skb stands in for page frags (nr_frags is derived
 * from it for MAX_SKB_FRAGS checks). */
#ifndef VNETSIM_SKB_H
#define VNETSIM_SKB_H

#include "vnetsim/common.h"

struct vns_kernel;
struct vns_net_device;

/* ip_summed (include/linux/skbuff.h). */
enum {
    VNS_CHECKSUM_NONE = 0,
    VNS_CHECKSUM_UNNECESSARY = 1,
    VNS_CHECKSUM_COMPLETE = 2,
    VNS_CHECKSUM_PARTIAL = 3,
};

/* pkt_type (include/uapi/linux/if_packet.h). */
enum {
    VNS_PACKET_HOST = 0,
    VNS_PACKET_BROADCAST = 1,
    VNS_PACKET_MULTICAST = 2,
    VNS_PACKET_OTHERHOST = 3,
    VNS_PACKET_OUTGOING = 4,
    VNS_PACKET_LOOPBACK = 5,
};

/* gso_type bits (SKB_GSO_*). */
#define VNS_SKB_GSO_TCPV4 (1u << 0)
#define VNS_SKB_GSO_DODGY (1u << 1)
#define VNS_SKB_GSO_TCP_ECN (1u << 2)
#define VNS_SKB_GSO_TCPV6 (1u << 4)
#define VNS_SKB_GSO_UDP_L4 (1u << 17)

/* Drop reasons: the names of enum skb_drop_reason (include/net/dropreason*.h,
 * 5.17+; linux-5.4 has only kfree_skb, the reasons are what a later kernel
 * (6.8's dropreason-core.h) reports for the same drop site). Model-only
 * sites: WIRE_FCS, NETDEV_TX_BUSY, BRIDGE_*, MACVLAN_NO_DEST,
 * IP_FRAG_UNMODELLED (a fragment: reassembly is not modelled). Where 6.x
 * itself passes NOT_SPECIFIED (e.g. tcp_v4_do_rcv's reset path), so do we.
 * New reasons go at the end: the values are not part of the API, but other
 * branches add names too. */
#define VNS_SKB_DROP_REASONS(X) \
    X(NOT_SPECIFIED)            \
    X(PKT_TOO_SMALL)            \
    X(OTHERHOST)                \
    X(IP_CSUM)                  \
    X(IP_INHDR)                 \
    X(UNHANDLED_PROTO)          \
    X(DEV_HDR)                  \
    X(DEV_READY)                \
    X(FULL_RING)                \
    X(NOMEM)                    \
    X(HDR_TRUNC)                \
    X(QDISC_DROP)               \
    X(QDISC_OVERLIMIT)          \
    X(QDISC_CONGESTED)          \
    X(CPU_BACKLOG)              \
    X(SKB_GSO_SEG)              \
    X(PKT_TOO_BIG)              \
    X(MAC_INVALID_SOURCE)       \
    X(RECURSION_LIMIT)          \
    X(TC_EGRESS)                \
    X(BRIDGE_PORT_STATE)        \
    X(BRIDGE_NO_EGRESS)         \
    X(BRIDGE_LINK_LOCAL)        \
    X(MACVLAN_NO_DEST)          \
    X(WIRE_FCS)                 \
    X(NETDEV_TX_BUSY)           \
    X(NO_SOCKET)                \
    X(TCP_CSUM)                 \
    X(UDP_CSUM)                 \
    X(ICMP_CSUM)                \
    X(SKB_CSUM)                 \
    X(SOCKET_RCVBUFF)           \
    X(SOCKET_BACKLOG)           \
    X(PROTO_MEM)                \
    X(TCP_FLAGS)                \
    X(TCP_ZEROWINDOW)           \
    X(TCP_OLD_DATA)             \
    X(TCP_OVERWINDOW)           \
    X(TCP_OFOMERGE)             \
    X(TCP_OFO_DROP)             \
    X(TCP_OLD_SEQUENCE)         \
    X(TCP_INVALID_SEQUENCE)     \
    X(TCP_RESET)                \
    X(TCP_INVALID_SYN)          \
    X(TCP_CLOSE)                \
    X(TCP_ACK_UNSENT_DATA)      \
    X(IP_OUTNOROUTES)           \
    X(IP_INADDRERRORS)          \
    X(IP_FRAG_UNMODELLED)       \
    X(NEIGH_FAILED)             \
    X(NEIGH_QUEUEFULL)          \
    X(QUEUE_PURGE)

enum vns_skb_drop_reason {
#define VNS_X(n) VNS_SKB_DROP_REASON_##n,
    VNS_SKB_DROP_REASONS(VNS_X)
#undef VNS_X
    VNS_SKB_DROP_REASON_MAX
};

VNS_EXTERN const char *vns_drop_reason_name(enum vns_skb_drop_reason r);

/* NET_SKB_PAD: headroom reserved by netdev_alloc_skb (max(32, L1 64)). */
#define VNS_NET_SKB_PAD 64
#define VNS_NET_IP_ALIGN 0
#define VNS_MAX_SKB_FRAGS 17
#define VNS_PAGE_SIZE 4096u
#define VNS_GSO_MAX_SIZE 65536u
#define VNS_SKB_CB_SIZE 48
/* SKB_TRUESIZE(X) (include/linux/skbuff.h): X plus the cache-aligned
 * struct sk_buff (224 -> 256 bytes on x86_64 5.4) and struct
 * skb_shared_info (320 bytes). */
#define VNS_SKB_STRUCT_OVERHEAD (256u + 320u)
#define VNS_SKB_TRUESIZE(x)     ((uint32_t)(x) + VNS_SKB_STRUCT_OVERHEAD)
/* SKB_DATA_ALIGN: SMP_CACHE_BYTES 64. */
#define VNS_SKB_DATA_ALIGN(x) (((uint32_t)(x) + 63u) & ~63u)
/* Pooled linear buffer classes (bytes, including headroom). */
#define VNS_SKB_SMALL_BUF 2048u
#define VNS_SKB_LARGE_BUF (65536u + 512u)

struct vns_dev_book;
struct vns_flow_book;

struct vns_skb {
    /* sk_buff_head linkage; valid only while on one queue */
    struct vns_skb *next;
    struct vns_skb *prev;
    struct vns_kernel *k;           /* owner of the pools this came from */
    struct vns_net_device *dev;     /* device it is arriving on / leaving by */
    void *sk;                       /* owning socket (opaque here), or NULL */
    vns_time_t tstamp;              /* ns; 0 = none */
    uint32_t users;                 /* reference count, >= 1 while live */
    uint32_t len;                   /* bytes from data: linear + data_len */
    uint32_t data_len;              /* nonlinear bytes: synthetic + frag_list */
    uint8_t *head, *data, *tail, *end;   /* the linear buffer */
    /* header offsets from head; VNS_SKB_NO_HDR when unset */
    uint16_t mac_header;
    uint16_t network_header;
    uint16_t transport_header;
    uint16_t protocol;              /* ETH_P_*, host order */
    uint8_t pkt_type;               /* PACKET_* */
    uint8_t ip_summed;              /* CHECKSUM_* */
    uint8_t cloned;
    uint8_t buf_class;              /* which pool the linear buffer is from */
    uint16_t csum_start;            /* CHECKSUM_PARTIAL: from head */
    uint16_t csum_offset;           /* from csum_start */
    uint32_t csum;                  /* CHECKSUM_COMPLETE sum */
    /* skb_shared_info GSO fields */
    uint16_t gso_size;              /* payload bytes per segment, 0 = not GSO */
    uint16_t gso_segs;
    uint32_t gso_type;
    uint32_t priority;              /* sk_priority; pfifo_fast band by & 15 */
    uint32_t hash;                  /* flow hash (0 = none) */
    uint16_t queue_mapping;
    int skb_iif;                    /* ifindex it arrived on */
    uint32_t napi_id;
    /* nonlinear payload */
    /* skb->truesize: VNS_SKB_TRUESIZE(data-aligned requested linear size)
     * at allocation, + the payload bytes attached (as skb_copy_to_page
     * adds what it copies); a clone has its original's. What a socket is
     * charged for the skb (sk_wmem_alloc). */
    uint32_t truesize;
    /* skb->destructor: called once, when the last reference goes (before
     * the buffers are released) or at vns_skb_orphan(); NULL = none. A
     * clone or copy starts without one (__skb_clone). */
    void (*destructor)(struct vns_skb *skb);
    uint64_t pay_flow;              /* synthetic content: flow id */
    uint64_t pay_off;               /* stream offset of the first synthetic byte */
    uint32_t syn_len;               /* synthetic bytes (part of data_len) */
    /* 1: the synthetic range stands for bytes that the kernel's skb holds
     * in its LINEAR area (build_skb around vhost's XDP buffer, a non-GSO
     * UDP datagram from __ip_append_data). The model keeps them synthetic
     * for speed; every branch on linearity that the kernel would take
     * differently asks vns_skb_kernel_headlen() instead of
     * vns_skb_headlen() (docs/net-stack.md, "Synthetic but linear"). */
    uint8_t syn_linear;
    struct vns_skb *frag_list;      /* chained skbs (part of data_len) */
    uint8_t cb[VNS_SKB_CB_SIZE];    /* control block of the current layer */
    /* The device books (docs/reliability.md): the book of the device that
     * holds this skb now, NULL when no device does (in a socket, on the
     * way between the stack and a device); the frame length it was booked
     * in with, so that it leaves with the same bytes. Observation only. */
    struct vns_dev_book *book;
    uint32_t book_len;
    /* The flow books (include/vnetsim/flow_book.h): the book of the flow
     * whose packet this is, NULL if none; the segments and L4 payload
     * bytes it stands for (0 once delivered, dropped, merged or copied
     * out). Observation only. */
    struct vns_flow_book *fbook;
    uint32_t fsegs;
    uint32_t fbytes;
};

#define VNS_SKB_NO_HDR 0xFFFFu

/* --- allocation and references (net/core/skbuff.c) ----------------------- */

/* __alloc_skb: an skb with a linear buffer of at least @size bytes from
 * @k's pools (data = head, len 0). NULL when out of memory. */
VNS_EXTERN struct vns_skb *vns_alloc_skb(struct vns_kernel *k, uint32_t size);
/* netdev_alloc_skb: @size bytes of room after NET_SKB_PAD headroom. */
VNS_EXTERN struct vns_skb *vns_netdev_alloc_skb(struct vns_kernel *k, uint32_t size);
/* skb_get: take one more reference. */
static inline struct vns_skb *vns_skb_get(struct vns_skb *skb)
{
    skb->users++;
    return skb;
}
/* Drop one reference as a drop counted under @reason (kfree_skb_reason). */
VNS_EXTERN void vns_kfree_skb_reason(struct vns_skb *skb, enum vns_skb_drop_reason reason);
static inline void vns_kfree_skb(struct vns_skb *skb)
{
    vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
}
/* skb_orphan: run the destructor now (releasing the owner's accounting,
 * e.g. TCP small queues) and forget the owner socket. */
VNS_EXTERN void vns_skb_orphan(struct vns_skb *skb);
/* tcp_gso_segment's copy_destructor (net/ipv4/tcp_offload.c, 5.4): the
 * segments of @gso take its destructor and socket, each keeping its own
 * truesize (skb_segment allocated it), and the socket's sk_wmem_alloc
 * moves by (sum of the segments' truesize - @gso's truesize), so each
 * segment's free releases exactly its own charge. @gso keeps no owner. */
VNS_EXTERN void vns__skb_gso_move_owner(struct vns_skb *gso, struct vns_skb *segs);
/* The running context at a free, for destructors that schedule work on
 * "this CPU" (tcp_wfree's tasklet): NULL outside a step. */
VNS_EXTERN struct vns_ctx *vns__skb_free_ctx(const struct vns_skb *skb);
/* Drop one reference of a packet that was used (consume_skb: not a drop). */
VNS_EXTERN void vns_consume_skb(struct vns_skb *skb);
/* Free from any context (dev_consume_skb_any / dev_kfree_skb_any): in
 * hard interrupt context the skb goes on this CPU's completion_queue and
 * NET_TX_SOFTIRQ frees it (__dev_kfree_skb_irq); elsewhere it is freed at
 * once. @consumed: consume (true) or drop with NOT_SPECIFIED. */
VNS_EXTERN void vns_dev_kfree_skb_any(struct vns_ctx *ctx, struct vns_skb *skb, bool consumed);
/* napi_consume_skb: budget 0 means "not from a NAPI poll" (netpoll):
 * dev_consume_skb_any; else a consume into the per-CPU cache. */
VNS_EXTERN void vns_napi_consume_skb(struct vns_ctx *ctx, struct vns_skb *skb, int budget);
/* Free a ->next-linked list with one reason. */
VNS_EXTERN void vns_kfree_skb_list_reason(struct vns_skb *segs, enum vns_skb_drop_reason reason);
/* skb_clone / skb_copy: a new skb with the same bytes and metadata (model:
 * always a copy; @skb is borrowed). NULL when out of memory. */
VNS_EXTERN struct vns_skb *vns_skb_clone(const struct vns_skb *skb);
/* skb_share_check: if @skb has other users, return a private clone and
 * drop our reference; consumes @skb; NULL (dropped) when out of memory. */
VNS_EXTERN struct vns_skb *vns_skb_share_check(struct vns_skb *skb);

/* --- the linear area ------------------------------------------------------- */

static inline uint32_t vns_skb_headlen(const struct vns_skb *skb) { return skb->len - skb->data_len; }
static inline uint32_t vns_skb_headroom(const struct vns_skb *skb) { return (uint32_t)(skb->data - skb->head); }
static inline uint32_t vns_skb_tailroom(const struct vns_skb *skb)
{
    return skb->data_len ? 0 : (uint32_t)(skb->end - skb->tail);
}
static inline bool vns_skb_is_nonlinear(const struct vns_skb *skb) { return skb->data_len != 0; }
/* skb_headlen and skb_is_nonlinear as the kernel's skb has them: a
 * synthetic range marked syn_linear counts as linear. For control flow and
 * costs only: the bytes past vns_skb_headlen() are still not in memory. */
static inline uint32_t vns_skb_kernel_headlen(const struct vns_skb *skb)
{
    return vns_skb_headlen(skb) + (skb->syn_linear ? skb->syn_len : 0);
}
static inline bool vns_skb_kernel_nonlinear(const struct vns_skb *skb)
{
    return vns_skb_kernel_headlen(skb) != skb->len;
}
static inline bool vns_skb_is_gso(const struct vns_skb *skb) { return skb->gso_size != 0; }
/* skb_reserve: move data and tail by @len (only on an empty skb). */
VNS_EXTERN void vns_skb_reserve(struct vns_skb *skb, uint32_t len);
/* skb_put: extend the linear data at the tail; returns the old tail.
 * The caller guarantees tailroom (as in the kernel, where it is a BUG). */
VNS_EXTERN uint8_t *vns_skb_put(struct vns_skb *skb, uint32_t len);
VNS_EXTERN uint8_t *vns_skb_put_data(struct vns_skb *skb, const void *src, uint32_t len);
/* skb_push: prepend @len bytes of headroom; returns the new data. */
VNS_EXTERN uint8_t *vns_skb_push(struct vns_skb *skb, uint32_t len);
/* skb_pull: remove @len bytes from the start of the linear data; NULL
 * (and nothing changes) if headlen < len. */
VNS_EXTERN uint8_t *vns_skb_pull(struct vns_skb *skb, uint32_t len);
/* pskb_may_pull: true if the first @len bytes are linear. */
static inline bool vns_pskb_may_pull(const struct vns_skb *skb, uint32_t len)
{
    return len <= vns_skb_headlen(skb);
}
/* Trim to @len bytes (pskb_trim): the synthetic range and frag_list are cut
 * too. Returns 0. */
VNS_EXTERN int vns_skb_trim(struct vns_skb *skb, uint32_t len);

static inline void vns_skb_reset_mac_header(struct vns_skb *skb) { skb->mac_header = (uint16_t)(skb->data - skb->head); }
static inline void vns_skb_reset_network_header(struct vns_skb *skb) { skb->network_header = (uint16_t)(skb->data - skb->head); }
static inline void vns_skb_reset_transport_header(struct vns_skb *skb) { skb->transport_header = (uint16_t)(skb->data - skb->head); }
static inline uint8_t *vns_skb_mac_header(const struct vns_skb *skb) { return skb->head + skb->mac_header; }
static inline uint8_t *vns_skb_network_header(const struct vns_skb *skb) { return skb->head + skb->network_header; }
static inline uint8_t *vns_skb_transport_header(const struct vns_skb *skb) { return skb->head + skb->transport_header; }
static inline int vns_skb_network_offset(const struct vns_skb *skb) { return (int)skb->network_header - (int)(skb->data - skb->head); }
static inline int vns_skb_transport_offset(const struct vns_skb *skb) { return (int)skb->transport_header - (int)(skb->data - skb->head); }
static inline uint32_t vns_skb_mac_header_len(const struct vns_skb *skb) { return (uint32_t)skb->network_header - skb->mac_header; }

/* --- payload --------------------------------------------------------------- */

/* Byte @off of the synthetic stream of flow @flow (a fixed function; a
 * receiver or a pcap writer regenerates it). */
/* The content is periodic in 2^32 bytes: stream offsets are TCP sequence
 * differences, which wrap at 4 GiB, so every layer may hold them modulo
 * 2^32 and still name the same bytes. */
static inline uint8_t vns_payload_byte(uint64_t flow, uint64_t off)
{
    uint64_t z;

    off = (uint32_t)off;
    z = (flow * 0x9e3779b97f4a7c15ull) ^ (off >> 3);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (uint8_t)(z >> ((off & 7) * 8));
}

/* The 8 payload bytes of @flow starting at the 8-aligned offset @off8,
 * byte k in bits 8k..8k+7: vns_payload_byte in one mix instead of eight. */
static inline uint64_t vns_payload_word(uint64_t flow, uint64_t off8)
{
    uint64_t z = (flow * 0x9e3779b97f4a7c15ull) ^ ((uint32_t)off8 >> 3);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* @n payload bytes of @flow from stream offset @off into @d: the same
 * bytes as vns_payload_byte, a word at a time (copies and verification of
 * synthetic payload are hot paths). */
static inline void vns_payload_fill(uint64_t flow, uint64_t off, uint8_t *d, size_t n)
{
    size_t i = 0;

    for (; i < n && ((off + i) & 7); i++)
        d[i] = vns_payload_byte(flow, off + i);
    for (; i + 8 <= n; i += 8) {
        uint64_t z = vns_payload_word(flow, off + i);

        for (unsigned k = 0; k < 8; k++)
            d[i + k] = (uint8_t)(z >> (k * 8));
    }
    for (; i < n; i++)
        d[i] = vns_payload_byte(flow, off + i);
}
/* Append @len synthetic payload bytes of @flow at stream offset @off (the
 * skb must have no synthetic range yet or this must continue it). Returns 0
 * or -VNS_EINVAL. */
VNS_EXTERN int vns_skb_add_synthetic(struct vns_skb *skb, uint64_t flow, uint64_t off, uint32_t len);
/* nr_frags as the kernel would have it: pages spanned by the synthetic
 * range. */
VNS_EXTERN unsigned vns_skb_nr_frags(const struct vns_skb *skb);
/* skb_copy_bits: copy @len bytes from offset @off (from data) out of the
 * linear area, the synthetic range and the frag_list. Returns 0 or
 * -VNS_EFAULT if the range is out of the skb. */
VNS_EXTERN int vns_skb_copy_bits(const struct vns_skb *skb, uint32_t off, void *to, uint32_t len);
/* skb_get_hash: the flow hash of @skb's IPv4 addresses, protocol and
 * ports (non-zero), computed once and cached in skb->hash. */
VNS_EXTERN uint32_t vns_skb_get_hash(struct vns_skb *skb);
/* skb_linearize: make all bytes linear (materialize synthetic bytes and
 * frag_list) in a buffer large enough. Returns 0 or -VNS_ENOMEM. */
VNS_EXTERN int vns_skb_linearize(struct vns_skb *skb);

/* --- checksums (net/core/skbuff.c, include/net/checksum.h) ----------------- */

/* csum_partial-style 32-bit one's-complement accumulation of @len bytes at
 * @off (even offset alignment handled), added to @sum. */
VNS_EXTERN uint32_t vns_skb_checksum(const struct vns_skb *skb, uint32_t off, uint32_t len, uint32_t sum);
VNS_EXTERN uint32_t vns_csum_partial(const void *buf, size_t len, uint32_t sum);
VNS_EXTERN uint16_t vns_csum_fold(uint32_t sum);
/* Pseudo-header sum for TCP/UDP over IPv4 (addresses as wire bytes). */
VNS_EXTERN uint32_t vns_csum_tcpudp_nofold(const uint8_t *saddr, const uint8_t *daddr,
                                          uint32_t len, uint8_t proto, uint32_t sum);
/* ip_fast_csum: checksum of an IPv4 header of @ihl words (0 when valid). */
VNS_EXTERN uint16_t vns_ip_fast_csum(const uint8_t *iph, unsigned ihl);
/* skb_checksum_help: resolve CHECKSUM_PARTIAL in software (writes the
 * checksum at csum_start + csum_offset). Returns 0 or -VNS_EINVAL. */
VNS_EXTERN int vns_skb_checksum_help(struct vns_skb *skb);

/* --- queues (sk_buff_head) --------------------------------------------------- */

struct vns_skb_head {
    struct vns_skb *head, *tail;
    uint32_t qlen;
};

static inline void vns_skb_queue_head_init(struct vns_skb_head *q) { q->head = q->tail = NULL; q->qlen = 0; }
VNS_EXTERN void vns_skb_queue_tail(struct vns_skb_head *q, struct vns_skb *skb);
VNS_EXTERN void vns_skb_queue_head(struct vns_skb_head *q, struct vns_skb *skb);
VNS_EXTERN struct vns_skb *vns_skb_dequeue(struct vns_skb_head *q);
/* skb_queue_splice_tail_init: move all of @from to the tail of @to. */
VNS_EXTERN void vns_skb_queue_splice_tail_init(struct vns_skb_head *from, struct vns_skb_head *to);
/* Free every queued skb as a drop with @reason. */
VNS_EXTERN void vns_skb_queue_purge_reason(struct vns_skb_head *q, enum vns_skb_drop_reason reason);

#endif
