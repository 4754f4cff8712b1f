/* vnetsim -- virtio-net: the header (include/uapi/linux/virtio_net.h), its
 * codec with the kernel's validation (include/linux/virtio_net.h
 * virtio_net_hdr_to_skb / virtio_net_hdr_from_skb, linux-5.4), and the
 * guest driver (drivers/net/virtio_net.c, linux-5.4).
 *
 * The driver is a netdev of a guest kernel (struct vns_kernel) whose
 * queues are virtqueues placed in guest memory. Transmit: start_xmit ->
 * free_old_xmit_skbs -> xmit_skb (virtio_net_hdr from the skb's GSO and
 * checksum state, header pushed into the headroom when ANY_LAYOUT /
 * VERSION_1 allow, one sg for the linear part and one per page frag) ->
 * virtqueue_add_outbuf -> stop the queue below 2 + MAX_SKB_FRAGS free
 * slots -> virtqueue_kick_prepare / notify (a VM exit through the
 * transport). Receive: vring_interrupt -> skb_recv_done -> napi_schedule;
 * virtnet_poll (NAPI, weight 64) -> virtnet_receive -> receive_buf
 * (mergeable or small buffers) -> napi_gro_receive; refill; napi complete
 * with the race re-check. TX completions are reclaimed by TX NAPI
 * (napi_tx=1, the 5.4 default) and from the RX poll (virtnet_poll_cleantx).
 *
 * docs/virtio-net-vhost.md lists what is modelled per function and what is not. */
#ifndef VNETSIM_VIRTIO_NET_H
#define VNETSIM_VIRTIO_NET_H

#include "vnetsim/common.h"
#include "vnetsim/cpu.h"
#include "vnetsim/devq.h"
#include "vnetsim/gmem.h"
#include "vnetsim/virtq.h"

struct vns_skb;
struct vns_kernel;
struct vns_net_device;

/* --- feature bits (include/uapi/linux/virtio_net.h, virtio_config.h) ----- */
#define VNS_VIRTIO_NET_F_CSUM 0
#define VNS_VIRTIO_NET_F_GUEST_CSUM 1
#define VNS_VIRTIO_NET_F_MTU 3
#define VNS_VIRTIO_NET_F_MAC 5
#define VNS_VIRTIO_NET_F_GUEST_TSO4 7
#define VNS_VIRTIO_NET_F_GUEST_TSO6 8
#define VNS_VIRTIO_NET_F_GUEST_ECN 9
#define VNS_VIRTIO_NET_F_GUEST_UFO 10
#define VNS_VIRTIO_NET_F_HOST_TSO4 11
#define VNS_VIRTIO_NET_F_HOST_TSO6 12
#define VNS_VIRTIO_NET_F_HOST_ECN 13
#define VNS_VIRTIO_NET_F_HOST_UFO 14
#define VNS_VIRTIO_NET_F_MRG_RXBUF 15
#define VNS_VIRTIO_NET_F_STATUS 16
#define VNS_VIRTIO_NET_F_CTRL_VQ 17
#define VNS_VIRTIO_NET_F_MQ 22
/* transport bits (NOTIFY_ON_EMPTY, ANY_LAYOUT, INDIRECT_DESC, EVENT_IDX,
 * VERSION_1, RING_PACKED): proto/virtio_ring.h */
/* vhost: the backend handles the header itself (include/uapi/linux/vhost.h) */
#define VNS_VHOST_NET_F_VIRTIO_NET_HDR 27

#define VNS_VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VNS_VIRTIO_NET_F_GSO 6
#define VNS_VIRTIO_NET_F_CTRL_RX 18
#define VNS_VIRTIO_NET_F_CTRL_VLAN 19
#define VNS_VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VNS_VIRTIO_NET_F_CTRL_MAC_ADDR 23
#define VNS_VIRTIO_NET_F_STANDBY 62
#define VNS_VIRTIO_NET_F_SPEED_DUPLEX 63

#define VNS_VIRTIO_BIT(b) (1ull << (b))
static inline bool vns_virtio_has(uint64_t features, unsigned bit)
{
    return (features >> bit) & 1u;
}

/* --- the header (wire format, little endian for VERSION_1) ---------------- */
#define VNS_VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VNS_VIRTIO_NET_HDR_F_DATA_VALID 2
#define VNS_VIRTIO_NET_HDR_GSO_NONE 0
#define VNS_VIRTIO_NET_HDR_GSO_TCPV4 1
#define VNS_VIRTIO_NET_HDR_GSO_UDP 3
#define VNS_VIRTIO_NET_HDR_GSO_TCPV6 4
#define VNS_VIRTIO_NET_HDR_GSO_ECN 0x80

#define VNS_VIRTIO_NET_HDR_LEN 10          /* struct virtio_net_hdr */
#define VNS_VIRTIO_NET_HDR_MRG_LEN 12      /* virtio_net_hdr_mrg_rxbuf / _v1 */
#define VNS_VIRTIO_NET_HDR_OFF_NUM_BUFFERS 10

/* SKB_GSO_UDP of linux-5.4 (UFO; lib/net has no UDP GSO of its own). */
#define VNS_SKB_GSO_UDP (1u << 16)

struct vns_virtio_net_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;        /* mergeable / v1 header only */
};

/* The bytes at the start of a frame that the stack will touch in place
 * because of @h (vns_xdp_build_skb's need_real): up to the checksum field
 * with NEEDS_CSUM; all of a GSO frame (skb_segment copies a linear head,
 * which a synthetic range would not show). */
static inline uint32_t vns_virtio_net_hdr_in_place(const struct vns_virtio_net_hdr *h)
{
    if (h->gso_type != VNS_VIRTIO_NET_HDR_GSO_NONE)
        return UINT32_MAX;
    if (h->flags & VNS_VIRTIO_NET_HDR_F_NEEDS_CSUM)
        return (uint32_t)h->csum_start + h->csum_offset + 2u;
    return 0;
}

/* Decode @len (10 or 12) header bytes; num_buffers is 0 for 10. */
VNS_EXTERN void vns_virtio_net_hdr_decode(const uint8_t *p, unsigned len,
                                          struct vns_virtio_net_hdr *h);
/* Encode @h as @len (10 or 12) bytes. */
VNS_EXTERN void vns_virtio_net_hdr_encode(const struct vns_virtio_net_hdr *h, uint8_t *p,
                                          unsigned len);

/* virtio_net_hdr_to_skb (linux-5.4): apply the header's offload metadata
 * to @skb (borrowed; data at the frame's MAC header or network header as
 * the caller has it). -VNS_EINVAL for a GSO type it does not know, a GSO
 * packet without a size, a checksum range outside the linear data
 * (skb_partial_csum_set), or a GSO packet without NEEDS_CSUM whose
 * transport header cannot be found. The skb may have been partly updated
 * on failure (the caller drops it, as the kernel does). */
VNS_EXTERN int vns_virtio_net_hdr_to_skb(struct vns_skb *skb, const struct vns_virtio_net_hdr *h);
/* virtio_net_hdr_from_skb (linux-5.4): describe @skb's GSO and checksum
 * state. -VNS_EINVAL for a GSO type with no virtio equivalent. */
VNS_EXTERN int vns_virtio_net_hdr_from_skb(const struct vns_skb *skb, struct vns_virtio_net_hdr *h,
                                           bool has_data_valid, int vlan_hlen);

struct vns_iov_iter;
/* The reader side of tun and tap (tun_put_user / tap_put_user): the
 * virtio_net_hdr of @skb in @vnet_hdr_sz bytes (0: none; DATA_VALID for a
 * checked skb), then the frame, copied into @iter (short if it is short).
 * Returns the bytes the packet takes, -VNS_EINVAL (no room for the header,
 * or a GSO type with no virtio equivalent) or -VNS_EFAULT. */
VNS_EXTERN int vns_virtio_net_put_user(struct vns_ctx *ctx, const struct vns_skb *skb,
                                       unsigned vnet_hdr_sz, struct vns_iov_iter *iter);

/* --- feature negotiation ---------------------------------------------------- */

/* What linux-5.4's virtio-net driver accepts (its features[] table plus the
 * transport bits virtio_ring accepts: INDIRECT_DESC, EVENT_IDX, VERSION_1,
 * RING_PACKED). */
VNS_EXTERN uint64_t vns_virtnet_driver_features(void);
/* virtio_finalize_features for a device offering @device_features: the
 * intersection with the driver's, less what the driver must not accept
 * without its dependency (virtio 1.x 5.1.3.1: GUEST_TSO4/6, UFO, ECN without
 * GUEST_CSUM; HOST_TSO4/6, UFO, ECN without CSUM, ECN without a TSO, the
 * control-vq features without CTRL_VQ). MQ is kept without CTRL_VQ here:
 * the model sets the queue pairs at creation (no control vq). */
VNS_EXTERN uint64_t vns_virtnet_negotiate(uint64_t device_features);
/* What linux-5.4's vhost-net offers (VHOST_NET_FEATURES): NOTIFY_ON_EMPTY,
 * INDIRECT_DESC, EVENT_IDX, VHOST_F_LOG_ALL, ANY_LAYOUT, VERSION_1,
 * VHOST_NET_F_VIRTIO_NET_HDR, MRG_RXBUF, IOMMU_PLATFORM. No RING_PACKED:
 * a packed ring on vhost is the model's what-if. */
#define VNS_VHOST_NET_FEATURES                                                                        \
    (VNS_VIRTIO_BIT(VNS_VIRTIO_F_NOTIFY_ON_EMPTY) | VNS_VIRTIO_BIT(VNS_VIRTIO_RING_F_INDIRECT_DESC) |  \
     VNS_VIRTIO_BIT(VNS_VIRTIO_RING_F_EVENT_IDX) | VNS_VIRTIO_BIT(26) |                                \
     VNS_VIRTIO_BIT(VNS_VIRTIO_F_ANY_LAYOUT) | VNS_VIRTIO_BIT(VNS_VIRTIO_F_VERSION_1) |                \
     VNS_VIRTIO_BIT(VNS_VHOST_NET_F_VIRTIO_NET_HDR) | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_MRG_RXBUF) |     \
     VNS_VIRTIO_BIT(33))

/* --- the guest driver ------------------------------------------------------------ */

/* drivers/net/virtio_net.c constants */
#define VNS_VIRTNET_GOOD_PACKET_LEN (14 + 4 + 1500)
#define VNS_VIRTNET_GOOD_COPY_LEN 128
#define VNS_VIRTNET_TX_STOP_THRESH (2 + 17)        /* 2 + MAX_SKB_FRAGS */
#define VNS_VIRTNET_EWMA_WEIGHT 64                 /* DECLARE_EWMA(pkt_len, 0, 64) */

struct vns_virtnet;

/* The transport's notify (vp_notify: a write to the queue's notify
 * address, which traps: a VM exit). @ctx is the guest context in its step
 * (NULL at probe time). Return false if it failed. */
typedef bool (*vns_virtnet_notify_fn)(void *arg, unsigned vq_index, struct vns_ctx *ctx);

struct vns_virtnet_config {
    struct vns_kernel *k;          /* the guest kernel */
    const char *name;              /* "eth%d" (default) */
    struct vns_gmem *mem;          /* guest RAM */
    struct vns_galloc *galloc;     /* guest allocator: rings, tx staging, rx buffers */
    uint64_t features;             /* negotiated VIRTIO_*_F_* bits */
    enum vns_virtq_layout layout;  /* split (default) or packed (a what-if: vhost has no packed ring) */
    uint32_t ring_size;            /* 0 = 256 */
    unsigned queue_pairs;          /* 0 = 1; more needs VIRTIO_NET_F_MQ */
    struct vns_cpu **irq_cpus;     /* per queue pair: the vCPU its interrupts go to (NULL: kernel CPU i % n) */
    uint32_t rx_buffers;           /* receive buffers per queue; 0 = ring size. Fewer
                                    * model a guest short of memory: try_fill_recv fails, the
                                    * delayed refill work retries */
    vns_virtnet_notify_fn notify;
    void *notify_arg;
    bool no_napi_tx;               /* module param napi_tx=0 (5.4 default 1): TX buffers reclaimed in
                                    * start_xmit only, the TX interrupt just wakes the queue */
    bool ignore_xmit_more;         /* what-if: kick_prepare after every packet, as before
                                    * xmit_more (3.18); for comparisons */
    struct vns_synmap *synmap;     /* synthetic payload records shared with the device (vhost-net's
                                    * config), or NULL: payload crosses as real bytes */
};

struct vns_virtnet_sq_stats {      /* struct virtnet_sq_stats + model counters */
    uint64_t packets, bytes;
    uint64_t kicks;                /* notifies (VM exits) */
    uint64_t kicks_suppressed;     /* kick_prepare said no */
    uint64_t xmit_more;            /* packets sent with netdev_xmit_more() */
    uint64_t kicks_xmit_more;      /* kick_prepare skipped: more packets follow (xmit_more) */
    uint64_t descs;                /* ring descriptors used */
    uint64_t sgs;                  /* sg entries (header + linear + frags) */
    uint64_t stops, wakes;         /* netif_stop_subqueue / wake */
    uint64_t add_errors;           /* "Unexpected TXQ (%d) queue failure" */
    uint64_t interrupts;           /* skb_xmit_done */
    uint64_t napi_polls;           /* virtnet_poll_tx runs */
    uint64_t cleantx;              /* reclaims from the RX poll */
};

struct vns_virtnet_rq_stats {      /* struct virtnet_rq_stats + model counters */
    uint64_t packets, bytes;
    uint64_t kicks;                /* refill notifies */
    uint64_t buffers;              /* used buffers taken */
    uint64_t posted;               /* buffers posted */
    uint64_t interrupts;           /* skb_recv_done */
    uint64_t polls;                /* virtnet_poll runs */
    uint64_t napi_complete;        /* polls that completed and re-enabled callbacks */
    uint64_t napi_resched;         /* the race re-check found more used */
    uint64_t length_errors;        /* short packet, truncated mergeable chain */
    uint64_t frame_errors;         /* bad gso (virtio_net_hdr_to_skb) */
    uint64_t refill_fail;          /* try_fill_recv ran out of buffers: delayed refill */
    uint64_t refill_work;          /* the delayed refill work ran */
    uint64_t frag_pages;           /* pages skb_page_frag_refill allocated for buffers */
    uint32_t ewma_pkt_len;         /* mergeable buffer sizing average */
};

/* virtnet_probe: create the device on @cfg->k (not registered), its
 * virtqueues, interrupts and TX staging / RX buffer memory, and register
 * it. -VNS_EINVAL (bad config: more queue pairs without MQ, a layout or
 * ring size the rings refuse), -VNS_ENOMEM. Receive buffers: mergeable
 * with MRG_RXBUF; else big (a chain of MAX_SKB_FRAGS + 1 pages) with any
 * guest GSO feature; else small. The device
 * is up after vns_dev_open() (virtnet_open: fills the receive rings and
 * kicks). */
VNS_EXTERN int vns_virtnet_create(const struct vns_virtnet_config *cfg, struct vns_virtnet **out);
/* Unregister and free; buffers still in the rings are taken back. NULL ok. */
VNS_EXTERN void vns_virtnet_destroy(struct vns_virtnet *vi);
VNS_EXTERN struct vns_net_device *vns_virtnet_dev(const struct vns_virtnet *vi);
/* Number of virtqueues (2 per queue pair: rxN = 2N, txN = 2N + 1). */
VNS_EXTERN unsigned vns_virtnet_nvqs(const struct vns_virtnet *vi);
VNS_EXTERN struct vns_virtq *vns_virtnet_vq(const struct vns_virtnet *vi, unsigned index);
/* The interrupt of a virtqueue (MSI-X vector), for the device's irqfd. */
VNS_EXTERN struct vns_irq *vns_virtnet_irq(const struct vns_virtnet *vi, unsigned index);
VNS_EXTERN uint64_t vns_virtnet_features(const struct vns_virtnet *vi);
/* The header length the driver uses (12 with MRG_RXBUF or VERSION_1, else 10). */
VNS_EXTERN unsigned vns_virtnet_hdr_len(const struct vns_virtnet *vi);
VNS_EXTERN const struct vns_virtnet_sq_stats *vns_virtnet_sq_stats(const struct vns_virtnet *vi, unsigned qp);
VNS_EXTERN const struct vns_virtnet_rq_stats *vns_virtnet_rq_stats(const struct vns_virtnet *vi, unsigned qp);
/* Hostile-guest mode (split rings): the next @n buffers added to TX queue
 * @qp are corrupted so that the device's check @kind fails: HEAD (avail
 * entry past the ring), AVAIL_IDX (avail idx moved by more than num),
 * DESC_INDEX (next past the ring), LOOP (a chain pointing at itself),
 * TRANSLATE (an address outside guest RAM), OUT_AFTER_IN (a writable
 * descriptor before a readable one), INDIRECT_LEN and INDIRECT_NESTED
 * (with INDIRECT_DESC, on a multi-sg packet). -VNS_ENOTSUP for another
 * kind or a packed ring. */
/* Receive-side faults (issue 8). @oom: every receive buffer allocation
 * fails (memory pressure): try_fill_recv runs short and the delayed refill
 * work retries every HZ/2 until the pressure ends. @stopped: the driver
 * posts no receive buffers at all and schedules no retry (a wedged guest);
 * clearing it lets the next poll or refill post again. */
VNS_EXTERN void vns_virtnet_set_rx_fault(struct vns_virtnet *vi, bool oom, bool stopped);
VNS_EXTERN int vns_virtnet_corrupt_tx(struct vns_virtnet *vi, unsigned qp, enum vns_devq_err kind,
                                      unsigned n);

#endif
