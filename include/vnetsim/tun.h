/* vnetsim -- tun/tap devices (drivers/net/tun.c, linux-5.4), as QEMU opens
 * them for vhost-net: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, one tun_file
 * (queue) per vhost-net queue pair, socket sndbuf INT_MAX.
 *
 * Host stack -> guest: the device's ndo_start_xmit (tun_net_xmit) puts the
 * skb in the queue's ptr_ring (tx_queue_len = TUN_READQ_SIZE 500 slots)
 * and wakes the reader (EPOLLIN: vhost's handle_rx_net); a full ring drops
 * (FULL_RING, tx_dropped). Guest -> host stack: vhost-net calls the
 * socket's sendmsg (tun_sendmsg): tun_get_user validates the virtio_net_hdr
 * and the frame and hands the skb to netif_receive_skb in the caller's
 * context, or a batch of XDP buffers goes through tun_xdp_one. vhost reads
 * with tun_recvmsg (tun_put_user writes the header and copies the frame)
 * and tun_peek_len. */
#ifndef VNETSIM_TUN_H
#define VNETSIM_TUN_H

#include "vnetsim/common.h"
#include "vnetsim/backend_sock.h"

struct vns_kernel;
struct vns_net_device;
struct vns_tun;

#define VNS_TUN_READQ_SIZE 500
#define VNS_TUN_MAX_QUEUES 256
#define VNS_TUN_VNET_HDR_SZ_DEFAULT 10

struct vns_tun_config {
    const char *name;              /* "tap%d" (default) */
    unsigned queues;               /* tun_files attached (IFF_MULTI_QUEUE); 0 = 1 */
    unsigned vnet_hdr_sz;          /* TUNSETVNETHDRSZ; 0 = 10; < 10 is -EINVAL */
    bool no_vnet_hdr;              /* IFF_VNET_HDR off (QEMU always sets it) */
    int sndbuf;                    /* TUNSETSNDBUF; 0 = INT_MAX (tun's default) */
    bool no_offloads;              /* TUNSETOFFLOAD 0: no csum/TSO from the reader */
    unsigned tx_queue_len;         /* 0 = TUN_READQ_SIZE */
};

struct vns_tun_stats {
    uint64_t rx_frame_errors;      /* virtio_net_hdr_to_skb refused the header */
    uint64_t rx_invalid;           /* -EINVAL before an skb: short, bad hdr_len */
    uint64_t rx_efault;            /* short copy from the guest */
    uint64_t rx_emsgsize;          /* too large to build an skb */
    uint64_t rx_dev_down;          /* -EIO: device not up */
    uint64_t xdp_batches;          /* TUN_MSG_PTR sendmsg calls */
    uint64_t xdp_frames;           /* buffers in them */
    uint64_t built_skb;            /* tun_build_skb (one page) instead of tun_alloc_skb */
    uint64_t ring_full;            /* tun_net_xmit drops: ptr_ring full */
    uint64_t no_queue;             /* tun_net_xmit drops: queue not attached */
    uint64_t put_user_errors;      /* tun_put_user failed (-EINVAL/-EFAULT) */
};

/* Create and register the device on @k (down; vns_dev_open brings it up).
 * -VNS_EINVAL for a bad config, -VNS_ENOMEM. */
VNS_EXTERN int vns_tun_create(struct vns_kernel *k, const struct vns_tun_config *cfg,
                              struct vns_tun **out);
/* Unregister (queued packets dropped) and free. NULL is a no-op. */
VNS_EXTERN void vns_tun_destroy(struct vns_tun *tun);
VNS_EXTERN struct vns_net_device *vns_tun_dev(const struct vns_tun *tun);
/* tun_get_socket of queue @q (what QEMU passes to VHOST_NET_SET_BACKEND). */
VNS_EXTERN struct vns_socket *vns_tun_socket(struct vns_tun *tun, unsigned q);
/* TUNSETVNETHDRSZ: -VNS_EINVAL below 10. */
VNS_EXTERN int vns_tun_set_vnet_hdr_sz(struct vns_tun *tun, unsigned sz);
VNS_EXTERN const struct vns_tun_stats *vns_tun_stats(const struct vns_tun *tun);
/* Packets waiting in queue @q's ring. */
VNS_EXTERN int vns_tun_queued(const struct vns_tun *tun, unsigned q);

#endif
