/* vnetsim -- network devices. LINUX: include/linux/netdevice.h,
 * net/core/dev.c (register, open, rx_handler, transmit and receive entry
 * points; the paths themselves are in lib/net/dev_xmit.c and dev_rx.c).
 *
 * A device is a struct vns_net_device with a const ops table (net_device_ops)
 * and priv_size bytes of driver state behind it (netdev_priv). Each device
 * has ONE transmit queue (netdev_queue) with its qdisc and stop/wake state:
 * multiqueue (mq, XPS) is not modelled. Counters are rtnl_link_stats64. */
#ifndef VNETSIM_NETDEV_H
#define VNETSIM_NETDEV_H

#include "vnetsim/common.h"
#include "vnetsim/skb.h"
#include "vnetsim/proto/if_ether.h"

struct vns_kernel;
struct vns_net_device;
struct vns_Qdisc;

#define VNS_IFNAMSIZ 16

/* dev->flags (include/uapi/linux/if.h) */
#define VNS_IFF_UP 0x1u
#define VNS_IFF_BROADCAST 0x2u
#define VNS_IFF_LOOPBACK 0x8u
#define VNS_IFF_PROMISC 0x100u
#define VNS_IFF_MULTICAST 0x1000u

/* dev->priv_flags (include/linux/netdevice.h) */
#define VNS_IFF_EBRIDGE (1u << 1)
#define VNS_IFF_BRIDGE_PORT (1u << 9)
#define VNS_IFF_MACVLAN_PORT (1u << 13)
#define VNS_IFF_MACVLAN (1u << 21)
#define VNS_IFF_NO_QUEUE (1u << 22)
#define VNS_IFF_LIVE_ADDR_CHANGE (1u << 15)

/* dev->features (include/linux/netdev_features.h) */
#define VNS_NETIF_F_SG (1ull << 0)
#define VNS_NETIF_F_IP_CSUM (1ull << 1)
#define VNS_NETIF_F_HW_CSUM (1ull << 3)
#define VNS_NETIF_F_FRAGLIST (1ull << 6)
#define VNS_NETIF_F_LLTX (1ull << 12)
#define VNS_NETIF_F_GRO (1ull << 14)
#define VNS_NETIF_F_LRO (1ull << 15)
#define VNS_NETIF_F_TSO (1ull << 16)
#define VNS_NETIF_F_GSO_ROBUST (1ull << 17)
#define VNS_NETIF_F_TSO_ECN (1ull << 18)
#define VNS_NETIF_F_TSO6 (1ull << 20)
#define VNS_NETIF_F_GSO_SOFTWARE (VNS_NETIF_F_TSO | VNS_NETIF_F_TSO_ECN | VNS_NETIF_F_TSO6)
#define VNS_NETIF_F_CSUM_MASK (VNS_NETIF_F_IP_CSUM | VNS_NETIF_F_HW_CSUM)

/* ndo_start_xmit / dev_queue_xmit return codes (netdev_tx_t, NET_XMIT_*) */
#define VNS_NETDEV_TX_OK 0x00
#define VNS_NETDEV_TX_BUSY 0x10
#define VNS_NET_XMIT_SUCCESS 0x00
#define VNS_NET_XMIT_DROP 0x01
#define VNS_NET_XMIT_CN 0x02
#define VNS_NET_XMIT_MASK 0x0f
static inline bool vns_dev_xmit_complete(int rc)
{
    return rc < VNS_NET_XMIT_MASK;   /* include/linux/netdevice.h: rc < NET_XMIT_MASK */
}

/* netif_receive_skb return codes */
#define VNS_NET_RX_SUCCESS 0
#define VNS_NET_RX_DROP 1

/* netdevice notifier events (include/linux/netdevice.h) */
#define VNS_NETDEV_UP 0x0001
#define VNS_NETDEV_DOWN 0x0002
#define VNS_NETDEV_UNREGISTER 0x0006

/* rx_handler results (include/linux/netdevice.h) */
enum vns_rx_handler_result {
    VNS_RX_HANDLER_CONSUMED,
    VNS_RX_HANDLER_ANOTHER,
    VNS_RX_HANDLER_EXACT,
    VNS_RX_HANDLER_PASS,
};
/* An rx_handler gets the skb through @pskb. CONSUMED: it owns (and has
 * consumed) the reference; ANOTHER: *pskb (possibly a new skb) has a new
 * skb->dev and goes round again; PASS/EXACT: *pskb continues up. */
typedef enum vns_rx_handler_result (*vns_rx_handler_func_t)(struct vns_ctx *ctx,
                                                             struct vns_skb **pskb);

struct vns_net_device_ops {
    const char *kind;     /* Required: "bridge", "macvlan", "wire", ... */
    size_t priv_size;     /* bytes behind vns_netdev_priv() */
    int (*ndo_open)(struct vns_net_device *dev);
    void (*ndo_stop)(struct vns_net_device *dev);
    /* Required. Consumes @skb on every path except NETDEV_TX_BUSY, which
     * (as in the kernel) hands it back to the caller for requeueing.
     * Returns NETDEV_TX_OK, NETDEV_TX_BUSY or a NET_XMIT_* code.
     * Called with the step's context (may be NULL in unit tests). */
    int (*ndo_start_xmit)(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev);
    /* Called by unregister before the memory goes (ndo_uninit + destructor). */
    void (*ndo_uninit)(struct vns_net_device *dev);
    int (*ndo_change_mtu)(struct vns_net_device *dev, unsigned mtu);
};

struct vns_rtnl_link_stats {
    uint64_t rx_packets, tx_packets;
    uint64_t rx_bytes, tx_bytes;
    uint64_t rx_errors, tx_errors;
    uint64_t rx_dropped, tx_dropped;
    uint64_t multicast;
    uint64_t rx_crc_errors;
    uint64_t rx_missed_errors;
    uint64_t rx_nohandler;
};

/* __QUEUE_STATE_* of struct netdev_queue */
#define VNS_QUEUE_STATE_DRV_XOFF (1u << 0)
#define VNS_QUEUE_STATE_STACK_XOFF (1u << 1)
#define VNS_QUEUE_STATE_FROZEN (1u << 2)

struct vns_netdev_queue {
    struct vns_net_device *dev;
    struct vns_Qdisc *qdisc;       /* active qdisc (noop when down) */
    struct vns_Qdisc *qdisc_sleeping;  /* the configured one */
    unsigned state;                /* QUEUE_STATE_* */
    int xmit_lock_owner;           /* CPU id holding HARD_TX_LOCK, -1 */
    uint64_t trans_start;
    uint64_t stops, wakes;         /* netif_tx_stop/wake_queue calls */
};

/* The books of one device (docs/reliability.md, "Device books"), in frames
 * (skbs as the device holds them) and bytes (the L2 frame length, from the
 * Ethernet header, no virtio_net_hdr, at the moment the device took the
 * frame). A frame is in a device's hands from dev_queue_xmit or its
 * receive entry (netif_rx, netif_receive_skb, napi_gro_receive, a round
 * of __netif_receive_skb_core on it) until it is handed to another device
 * or to a protocol handler (out), used up by it (consumed: read by the
 * tap's reader, sent by the NIC, a TX completion, a GSO or flood
 * original), merged by GRO, dropped (by reason) or freed by the hardware;
 * skbs made from one it holds (GSO segments, clones) are created in it:
 *   in + created = out + consumed + merged + dropped + hw_freed + held
 * Plain increments on the hot path. The kernel owns the books: they
 * outlive the device (unregister is part of the ledger's drain), until
 * the kernel is destroyed. */
struct vns_dev_book {
    char name[VNS_IFNAMSIZ];
    const char *kind;
    uint64_t in, created, out, consumed, merged, dropped, hw_freed;
    uint64_t in_bytes, created_bytes, out_bytes, consumed_bytes, merged_bytes, dropped_bytes,
        hw_freed_bytes;
    uint64_t drops[VNS_SKB_DROP_REASON_MAX]; /* dropped, by reason */
    bool gone;                               /* unregistered */
    struct vns_dev_book *next;               /* the kernel's books, registration order */
};

/* Frames and bytes a book holds now: in + created - every fate. */
static inline uint64_t vns_dev_book_held(const struct vns_dev_book *b)
{
    return b->in + b->created - b->out - b->consumed - b->merged - b->dropped - b->hw_freed;
}
static inline uint64_t vns_dev_book_held_bytes(const struct vns_dev_book *b)
{
    return b->in_bytes + b->created_bytes - b->out_bytes - b->consumed_bytes - b->merged_bytes -
           b->dropped_bytes - b->hw_freed_bytes;
}

struct vns_net_device {
    char name[VNS_IFNAMSIZ];
    int ifindex;
    struct vns_kernel *k;
    const struct vns_net_device_ops *ops;
    unsigned flags;                /* IFF_* */
    unsigned priv_flags;           /* IFF_* private */
    unsigned promiscuity;          /* dev_set_promiscuity count; > 0 = IFF_PROMISC */
    uint64_t features;             /* NETIF_F_* active */
    uint64_t hw_features;
    unsigned mtu, min_mtu, max_mtu;
    unsigned hard_header_len;      /* ETH_HLEN */
    unsigned gso_max_size;         /* GSO_MAX_SIZE */
    unsigned tx_queue_len;         /* DEFAULT_TX_QUEUE_LEN 1000 */
    uint8_t dev_addr[VNS_ETH_ALEN];
    uint8_t broadcast[VNS_ETH_ALEN];
    struct vns_netdev_queue txq;   /* the one tx queue */
    vns_rx_handler_func_t rx_handler;
    void *rx_handler_data;
    /* The upper device's netdevice notifier for this lower device (the
     * bridge's br_device_event, macvlan_device_event): NETDEV_UP after
     * open, NETDEV_DOWN after close, NETDEV_UNREGISTER first in
     * unregister. Set by the upper with the rx_handler. */
    void (*rx_handler_notify)(struct vns_net_device *dev, unsigned long event);
    struct vns_net_device *master; /* upper device: the bridge of a port */
    struct vns_rtnl_link_stats stats;
    struct vns_net_device *k_next; /* kernel's device list, ifindex order */
    void *priv;                    /* netdev_priv() */
    /* netdev_xmit_more() for the ndo_start_xmit call in progress: true
     * when dev_hard_start_xmit has more skbs of its list after this one.
     * LINUX: 5.4 keeps it per CPU (softnet_data.xmit.more, set by
     * __netdev_start_xmit); a call is synchronous, so per device is the
     * same value. */
    bool xmit_more;
    struct vns_dev_book *book; /* from register_netdevice; owned by the kernel */
};

static inline void *vns_netdev_priv(const struct vns_net_device *dev) { return dev->priv; }
/* netdev_xmit_more(): more packets follow this one in the same
 * dev_hard_start_xmit call (a driver may defer its doorbell). */
static inline bool vns_netdev_xmit_more(const struct vns_net_device *dev) { return dev->xmit_more; }
static inline bool vns_netif_running(const struct vns_net_device *dev) { return dev->flags & VNS_IFF_UP; }

/* alloc_netdev + setup: a device of @ops named @name (a "%d" in the name is
 * replaced by the first free number), ether_setup defaults: mtu 1500,
 * tx_queue_len 1000, broadcast ff:ff:.., a MAC from the kernel's MAC
 * generator (eth_hw_addr_random, seeded). Not yet registered. */
VNS_EXTERN int vns_alloc_netdev(struct vns_kernel *k, const char *name,
                                const struct vns_net_device_ops *ops, struct vns_net_device **out);
/* register_netdevice: assigns the ifindex, attaches the noop qdisc, links
 * it into the kernel. -VNS_EINVAL if ops lacks a required member,
 * -VNS_EEXIST for a duplicate name. On failure the device is NOT freed. */
VNS_EXTERN int vns_register_netdev(struct vns_net_device *dev);
/* unregister_netdevice + free_netdev (closes it first). NULL is a no-op.
 * A device that was never registered is just freed. */
VNS_EXTERN void vns_unregister_netdev(struct vns_net_device *dev);
VNS_EXTERN void vns_free_netdev(struct vns_net_device *dev);
/* dev_open / dev_close: ndo_open, IFF_UP, dev_activate (attach the
 * default qdisc: noqueue for IFF_NO_QUEUE, else pfifo_fast with
 * tx_queue_len) / dev_deactivate (noop qdisc, queued packets dropped). */
VNS_EXTERN int vns_dev_open(struct vns_net_device *dev);
VNS_EXTERN void vns_dev_close(struct vns_net_device *dev);
VNS_EXTERN int vns_dev_set_mtu(struct vns_net_device *dev, unsigned mtu);
VNS_EXTERN void vns_dev_set_addr(struct vns_net_device *dev, const uint8_t *addr);
VNS_EXTERN struct vns_net_device *vns_dev_get_by_name(const struct vns_kernel *k, const char *name);
VNS_EXTERN struct vns_net_device *vns_dev_get_by_index(const struct vns_kernel *k, int ifindex);
/* dev_set_promiscuity(dev, +1/-1). */
VNS_EXTERN void vns_dev_set_promiscuity(struct vns_net_device *dev, int inc);
/* The books of every device ever registered in @k, in registration order
 * (the unregistered ones marked gone). */
VNS_EXTERN const struct vns_dev_book *vns_kernel_dev_books(const struct vns_kernel *k);
/* Test hook: @skb enters @dev's hands (as at its receive entry). */
VNS_EXTERN void vns_dev_book_in(struct vns_net_device *dev, struct vns_skb *skb);

/* netdev_rx_handler_register / unregister. -VNS_EBUSY if one is set. */
VNS_EXTERN int vns_netdev_rx_handler_register(struct vns_net_device *dev,
                                              vns_rx_handler_func_t h, void *data);
VNS_EXTERN void vns_netdev_rx_handler_unregister(struct vns_net_device *dev);

/* tx queue flow control (netif_tx_stop_queue / netif_tx_wake_queue). Wake
 * reschedules the qdisc (__netif_schedule: NET_TX_SOFTIRQ on @ctx's CPU).
 * @ctx may be NULL (no engine): then the qdisc is run at once. */
VNS_EXTERN void vns_netif_stop_queue(struct vns_net_device *dev);
VNS_EXTERN void vns_netif_wake_queue(struct vns_ctx *ctx, struct vns_net_device *dev);
static inline bool vns_netif_queue_stopped(const struct vns_net_device *dev)
{
    return dev->txq.state & VNS_QUEUE_STATE_DRV_XOFF;
}

/* --- transmit (lib/net/dev_xmit.c) ------------------------------------------ */

/* dev_queue_xmit: consumes @skb (skb->dev set, data at the MAC header).
 * Returns NET_XMIT_* or -VNS_ENODEV when the device is down (the kernel's
 * -ENETDOWN). */
VNS_EXTERN int vns_dev_queue_xmit(struct vns_ctx *ctx, struct vns_skb *skb);
/* dev_forward_skb: inject @skb as received on @dev (via netif_rx).
 * Consumes @skb. NET_RX_SUCCESS or NET_RX_DROP. */
VNS_EXTERN int vns_dev_forward_skb(struct vns_ctx *ctx, struct vns_net_device *dev, struct vns_skb *skb);
/* __dev_forward_skb: the checks and eth_type_trans of dev_forward_skb,
 * without the netif_rx. Consumes @skb on failure (returns NET_RX_DROP);
 * on success (0) the caller owns it. */
VNS_EXTERN int vns___dev_forward_skb(struct vns_ctx *ctx, struct vns_net_device *dev, struct vns_skb *skb);
/* is_skb_forwardable: dev up and len within MTU + header + VLAN_HLEN (or GSO). */
VNS_EXTERN bool vns_is_skb_forwardable(const struct vns_net_device *dev, const struct vns_skb *skb);

/* --- receive (lib/net/dev_rx.c) ---------------------------------------------- */

/* eth_type_trans: sets skb->dev, mac header, pkt_type, pulls ETH_HLEN and
 * returns the protocol (host order). The frame must be >= ETH_HLEN. */
VNS_EXTERN uint16_t vns_eth_type_trans(struct vns_skb *skb, struct vns_net_device *dev);
/* netif_rx (5.4: no bh toggling; the softirq runs at the next irq_exit or
 * local_bh_enable). Consumes @skb. NET_RX_SUCCESS / NET_RX_DROP. */
VNS_EXTERN int vns_netif_rx(struct vns_ctx *ctx, struct vns_skb *skb);
/* netif_rx_ni: netif_rx, then run pending softirqs if not in interrupt. */
VNS_EXTERN int vns_netif_rx_ni(struct vns_ctx *ctx, struct vns_skb *skb);
/* netif_receive_skb: synchronous receive in the caller's context (no RPS). */
VNS_EXTERN int vns_netif_receive_skb(struct vns_ctx *ctx, struct vns_skb *skb);

#endif
