/* vnetsim -- macvtap (drivers/net/tap.c + drivers/net/macvtap.c,
 * linux-5.4): a macvlan device whose packets go to a character device
 * instead of the host stack, the backend vhost-net drives for a guest on a
 * macvlan.
 *
 * Host -> guest: tap_handle_frame is the macvtap device's rx_handler: the
 * frame (pushed back to its MAC header) goes into a queue's ptr_ring
 * (tx_queue_len 500 slots; full: dropped and counted on the macvlan) and
 * the reader is woken (EPOLLIN: vhost's handle_rx_net). Guest -> host:
 * vhost calls the socket's sendmsg (tap_sendmsg): tap_get_user, or
 * tap_get_user_xdp for each buffer of vhost's batch, builds the skb and
 * calls dev_queue_xmit on the macvtap device, whose qdisc (macvtap keeps
 * one, unlike macvlan) runs macvlan_start_xmit: the seed's "tap xmit path".
 * No local_bh_disable around the batch: each dev_queue_xmit's
 * rcu_read_unlock_bh runs pending softirqs (the seed's second "tap recv
 * path" stack). */
#ifndef VNETSIM_TAP_H
#define VNETSIM_TAP_H

#include "vnetsim/common.h"
#include "vnetsim/backend_sock.h"
#include "vnetsim/macvlan.h"

struct vns_tap;

#define VNS_MAX_TAP_QUEUES 256

struct vns_tap_config {
    enum vns_macvlan_mode mode;    /* 0 = VEPA; the seed's setup is BRIDGE */
    const uint8_t *addr;           /* NULL = random */
    unsigned queues;               /* tap_queues opened; 0 = 1 */
    unsigned vnet_hdr_sz;          /* TUNSETVNETHDRSZ; 0 = 10 */
    int sndbuf;                    /* TUNSETSNDBUF; 0 = INT_MAX (what QEMU sets) */
    bool no_offloads;              /* TUNSETOFFLOAD 0: the reader takes no csum/TSO */
    unsigned tx_queue_len;         /* 0 = TUN_READQ_SIZE (500) */
};

struct vns_tap_stats {
    uint64_t rx_ring_full;         /* tap_handle_frame: ptr_ring full, dropped */
    uint64_t rx_no_queue;          /* no queue open */
    uint64_t rx_gso_segmented;     /* GSO frames segmented for a reader without TSO */
    uint64_t rx_drop_other;        /* checksum help / segmentation failed */
    uint64_t tx_invalid;           /* tap_get_user(_xdp): bad header or short frame */
    uint64_t tx_frame_errors;      /* virtio_net_hdr_to_skb refused */
    uint64_t tx_efault;
    uint64_t tx_emsgsize;
    uint64_t xdp_batches, xdp_frames;
    uint64_t put_user_errors;
};

/* ip link add @name link @lower type macvtap mode ...; up after
 * vns_dev_open. Errors of vns_macvlan_newlink, -VNS_EINVAL, -VNS_ENOMEM. */
VNS_EXTERN int vns_macvtap_create(struct vns_net_device *lower, const char *name,
                                  const struct vns_tap_config *cfg, struct vns_tap **out);
VNS_EXTERN void vns_tap_destroy(struct vns_tap *tap);
VNS_EXTERN struct vns_net_device *vns_tap_dev(const struct vns_tap *tap);
/* tap_get_socket of queue @q. */
VNS_EXTERN struct vns_socket *vns_tap_socket(struct vns_tap *tap, unsigned q);
VNS_EXTERN const struct vns_tap_stats *vns_tap_stats(const struct vns_tap *tap);
VNS_EXTERN int vns_tap_queued(const struct vns_tap *tap, unsigned q);

#endif
