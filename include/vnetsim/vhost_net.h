/* vnetsim -- vhost-net (drivers/vhost/net.c, linux-5.4): the host side of
 * one virtio-net queue pair. QEMU opens /dev/vhost-net once per queue
 * pair; each instance has its own worker kthread (vhost.h), an RX and a TX
 * virtqueue (VHOST_NET_VQ_RX 0, VHOST_NET_VQ_TX 1) and a backend socket
 * (tun or macvtap, backend_sock.h).
 *
 * TX: the guest's kick (ioeventfd) queues handle_tx_kick: handle_tx ->
 * handle_tx_copy fetches each chain (get_tx_bufs), copies it into an XDP
 * buffer of the batch when the socket allows batching (sndbuf INT_MAX)
 * and the frame fits a page (vhost_net_build_xdp), else flushes the batch
 * and calls sendmsg directly; vhost_tx_batch sends the batch (TUN_MSG_PTR)
 * and returns the heads (add_used_n + signal). Weight limits (256 packets,
 * 512 KiB) requeue the work.
 * RX: the backend's EPOLLIN (sk_data_ready) queues handle_rx_net, a guest
 * kick (buffers added) handle_rx_kick: handle_rx peeks the next packet
 * length (taking up to 64 pointers from the backend's ptr_ring at once),
 * gathers guest buffers for it (get_rx_bufs, mergeable: as many as needed),
 * recvmsg copies the header and frame into them, num_buffers is written,
 * used heads are flushed every VHOST_NET_BATCH. No guest buffers: enable
 * notification and wait for the guest's kick (counted).
 *
 * Busy polling (busyloop_timeout): when its ring is empty a loop spins,
 * in steps of about 1 us of worker CPU time, until the guest adds buffers,
 * the socket has data for a guest with buffers, other work is queued, or
 * the timeout passes (vhost_net_busy_poll).
 *
 * Each loop handles one packet per engine step (DESIGN.md section 3). */
#ifndef VNETSIM_VHOST_NET_H
#define VNETSIM_VHOST_NET_H

#include "vnetsim/common.h"
#include "vnetsim/backend_sock.h"
#include "vnetsim/devq.h"
#include "vnetsim/vhost.h"

enum {
    VNS_VHOST_NET_VQ_RX = 0,
    VNS_VHOST_NET_VQ_TX = 1,
    VNS_VHOST_NET_VQ_MAX = 2,
};

#define VNS_VHOST_NET_WEIGHT 0x80000
#define VNS_VHOST_NET_PKT_WEIGHT 256
#define VNS_VHOST_NET_BATCH 64
#define VNS_UIO_MAXIOV 1024

struct vns_vhost_net;

struct vns_vhost_net_config {
    const char *name;                    /* worker thread, "vhost-<qemu pid>" */
    struct vns_cpu *cpu;                 /* the host CPU the worker is pinned to */
    const struct vns_gmem_table *table;  /* VHOST_SET_MEM_TABLE (outlives the device) */
    uint64_t features;                   /* VHOST_SET_FEATURES: acked VIRTIO_* bits,
                                          * VHOST_NET_F_VIRTIO_NET_HDR (27) */
    uint32_t busyloop_timeout_us;        /* VHOST_SET_VRING_BUSYLOOP_TIMEOUT (both vqs); 0 = off */
    struct vns_synmap *synmap;           /* the guest's synthetic-payload records (the
                                          * virtio-net config's), or NULL: all bytes real */
};

struct vns_vhost_net_tx_stats {
    uint64_t packets, bytes;
    uint64_t runs;                       /* handle_tx invocations */
    uint64_t batched;                    /* frames sent in XDP batches */
    uint64_t batches;                    /* vhost_tx_batch calls that sent a batch */
    uint64_t direct;                     /* frames sent by a direct sendmsg */
    uint64_t enospc;                     /* did not fit a page: direct sendmsg */
    uint64_t empty;                      /* ring empty: notification re-enabled */
    uint64_t notify_races;               /* vhost_enable_notify found more */
    uint64_t weight_exits;               /* vhost_exceeds_weight requeued */
    uint64_t sendmsg_errors;             /* backend refused: head discarded, TX waits */
    uint64_t format_errors;              /* "Unexpected descriptor format for TX" and friends */
    uint64_t ring_errors;                /* get_vq_desc failed (queue broken) */
    uint64_t used_flushes;               /* add_used_n + signal calls */
    uint64_t busy_polls;                 /* vhost_net_busy_poll entered (ring empty) */
    uint64_t busy_poll_ns;               /* worker CPU time spent spinning in them */
};

struct vns_vhost_net_rx_stats {
    uint64_t packets, bytes;
    uint64_t runs;                       /* handle_rx invocations */
    uint64_t buffers;                    /* guest buffers filled (heads) */
    uint64_t ring_batches;               /* ptr_ring_consume_batched calls that got packets */
    uint64_t no_buffers;                 /* guest posted none: wait for its kick */
    uint64_t notify_races;
    uint64_t weight_exits;
    uint64_t overruns;                   /* packet larger than the buffers: discarded */
    uint64_t discarded;                  /* recvmsg returned another length */
    uint64_t format_errors;              /* "unexpected descriptor format for RX" */
    uint64_t ring_errors;
    uint64_t used_flushes;
    uint64_t busy_polls;
    uint64_t busy_poll_ns;
};

VNS_EXTERN int vns_vhost_net_create(struct vns_sim *sim, const struct vns_vhost_net_config *cfg,
                                    struct vns_vhost_net **out);
/* Stops the worker, gives unconsumed backend packets back to the backend
 * (vhost_net_buf_unproduce), frees. NULL is a no-op. */
VNS_EXTERN void vns_vhost_net_destroy(struct vns_vhost_net *net);
/* VHOST_SET_VRING_NUM / ADDR / BASE / CALL for vq @index: the ring the
 * guest placed (layout, size, addresses), and the guest interrupt its
 * signal raises (irqfd; may be NULL). Errors of vns_devq_create;
 * -VNS_ENOBUFS for an index >= VHOST_NET_VQ_MAX; -VNS_EBUSY if a backend is
 * attached. */
VNS_EXTERN int vns_vhost_net_set_vring(struct vns_vhost_net *net, unsigned index,
                                       enum vns_virtq_layout layout, uint32_t num,
                                       const struct vns_virtq_addr *addr, struct vns_irq *call);
/* VHOST_NET_SET_BACKEND: attach @sock (NULL detaches) to vq @index;
 * -VNS_ENOBUFS, -VNS_EFAULT (vring not set). Attaching starts the socket
 * poll and kicks the queue (vhost_net_enable_vq, vhost_poll_queue). */
VNS_EXTERN int vns_vhost_net_set_backend(struct vns_vhost_net *net, unsigned index,
                                         struct vns_socket *sock);
/* The guest notified vq @index from @guest (its context in its step): the
 * VM exit, the ioeventfd, the poll wake-up. */
VNS_EXTERN void vns_vhost_net_kick(struct vns_vhost_net *net, unsigned index, struct vns_ctx *guest);
VNS_EXTERN struct vns_vhost_vq *vns_vhost_net_vq(struct vns_vhost_net *net, unsigned index);
VNS_EXTERN struct vns_vhost_dev *vns_vhost_net_dev(const struct vns_vhost_net *net);
VNS_EXTERN const struct vns_vhost_net_tx_stats *vns_vhost_net_tx_stats(const struct vns_vhost_net *net);
VNS_EXTERN const struct vns_vhost_net_rx_stats *vns_vhost_net_rx_stats(const struct vns_vhost_net *net);
/* Packets vhost took from the backend's ring and holds (vhost_net_buf). */
VNS_EXTERN unsigned vns_vhost_net_rx_held(const struct vns_vhost_net *net);

#endif
