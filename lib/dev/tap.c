/* lib/dev/tap.c -- macvtap: the tap character device over a macvlan.
 * LINUX: drivers/net/tap.c (tap_handle_frame, tap_get_queue, tap_sendmsg,
 * tap_get_user, tap_get_user_xdp, tap_recvmsg, tap_do_read, tap_put_user,
 * tap_peek_len, tap_open's ring) and drivers/net/macvtap.c (macvtap_setup:
 * macvlan_common_setup + tx_queue_len TUN_READQ_SIZE, a qdisc kept) of
 * linux-5.4.
 *
 * Simplified: the queue is picked by skb->hash, else the recorded RX
 * queue, else queue 0 (tap_get_queue without the flow dissector's
 * rxhash); no zerocopy; no VLAN re-insertion (no VLAN tags in the model);
 * skbs are linear copies (see tun.c). tap_get_user_xdp and its caller are
 * inlined in 5.4 (no frame: only their cost is charged).
 * LINUX: 5.4's tap_get_user_xdp reads eth_hdr() of a frame shorter than
 * ETH_HLEN ("tap: add missing verification for short frame", 2023, adds
 * the check); here such a frame is refused as the fixed kernel does. */
#include <limits.h>
#include <string.h>

#include "net/net_int.h"
#include "vnetsim/tap.h"
#include "vnetsim/virtio_net.h"

#define TAP_RESERVE (VNS_NET_IP_ALIGN + VNS_NET_SKB_PAD)
#define TAP_FEATURES (VNS_NETIF_F_SG | VNS_NETIF_F_FRAGLIST)   /* NETIF_F_GSO is implied */
#define IFF_VNET_HDR 0x4000u

struct tap_queue {
    struct vns_tap *tap;
    unsigned queue_index;
    unsigned flags;                /* IFF_VNET_HDR */
    struct vns_socket sock;
    struct vns_ptr_ring ring;
};

struct vns_tap {
    struct vns_net_device *dev;
    unsigned numvtaps;
    unsigned vnet_hdr_sz;
    uint64_t tap_features;         /* TUNSETOFFLOAD: what the reader accepts */
    struct tap_queue *taps[VNS_MAX_TAP_QUEUES];
    struct vns_tap_stats stats;
};

struct macvtap_priv {
    struct vns_macvlan_dev vlan;   /* first: macvlan's priv */
    struct vns_tap *tap;
};

static void tap_ptr_free(void *ptr)
{
    vns_kfree_skb(ptr);
}

static struct tap_queue *tap_get_queue(struct vns_tap *tap, const struct vns_skb *skb)
{
    unsigned numvtaps = tap->numvtaps;

    if (!numvtaps)
        return NULL;
    if (numvtaps == 1)
        return tap->taps[0];
    if (skb->hash)
        return tap->taps[skb->hash % numvtaps];
    return tap->taps[skb->queue_mapping % numvtaps];
}

/* tap_handle_frame: the macvtap device's rx_handler. */
static enum vns_rx_handler_result tap_handle_frame(struct vns_ctx *ctx, struct vns_skb **pskb)
{
    struct vns_skb *skb = *pskb;
    struct vns_net_device *dev = skb->dev;
    struct vns_tap *tap = dev->rx_handler_data;
    struct tap_queue *q;
    uint64_t features;
    enum vns_skb_drop_reason reason = VNS_SKB_DROP_REASON_NOT_SPECIFIED;

    vns_fn_enter(ctx, VNS_FN_tap_handle_frame);
    q = tap_get_queue(tap, skb);
    if (!q) {
        tap->stats.rx_no_queue++;
        reason = VNS_SKB_DROP_REASON_DEV_READY;
        goto drop;
    }
    vns_skb_push(skb, VNS_ETH_HLEN);
    /* Apply the forward feature mask so that we perform segmentation
     * according to users wishes. This only works if VNET_HDR is enabled. */
    features = dev->features | TAP_FEATURES;
    if (q->flags & IFF_VNET_HDR)
        features |= tap->tap_features;
    if (vns__netif_needs_gso(skb, features)) {
        struct vns_skb *segs = vns__skb_gso_segment(ctx, skb, features);

        if (!segs) {
            tap->stats.rx_drop_other++;
            reason = VNS_SKB_DROP_REASON_SKB_GSO_SEG;
            goto drop;
        }
        tap->stats.rx_gso_segmented++;
        vns_consume_skb(skb);
        while (segs) {
            struct vns_skb *nskb = segs->next;

            segs->next = NULL;
            if (vns_ptr_ring_produce(&q->ring, segs)) {
                tap->stats.rx_ring_full++;
                dev->stats.rx_dropped++;
                vns_kfree_skb_reason(segs, VNS_SKB_DROP_REASON_FULL_RING);
                vns_kfree_skb_list_reason(nskb, VNS_SKB_DROP_REASON_FULL_RING);
                break;
            }
            segs = nskb;
        }
    } else {
        /* If we receive a partial checksum and the tap side doesn't
         * support checksum offload, compute the checksum. */
        if (skb->ip_summed == VNS_CHECKSUM_PARTIAL && !(features & VNS_NETIF_F_CSUM_MASK) &&
            vns_skb_checksum_help(skb)) {
            tap->stats.rx_drop_other++;
            goto drop;
        }
        if (vns_ptr_ring_produce(&q->ring, skb)) {
            tap->stats.rx_ring_full++;
            reason = VNS_SKB_DROP_REASON_FULL_RING;
            goto drop;
        }
    }
    /* wake_up_interruptible_poll(EPOLLIN | EPOLLRDNORM | EPOLLRDBAND) */
    vns_sock_wake(&q->sock, VNS_EPOLLIN, ctx);
    vns_fn_exit(ctx);
    return VNS_RX_HANDLER_CONSUMED;

drop:
    /* Count errors/drops only here (macvlan_count_rx) */
    dev->stats.rx_dropped++;
    vns_kfree_skb_reason(skb, reason);
    vns_fn_exit(ctx);
    return VNS_RX_HANDLER_CONSUMED;
}

/* The common tail of tap_get_user and tap_get_user_xdp: the header, then
 * dev_queue_xmit on the macvtap. Consumes @skb. */
static int tap_xmit_built(struct vns_ctx *ctx, struct tap_queue *q, struct vns_skb *skb,
                          const struct vns_virtio_net_hdr *h)
{
    struct vns_tap *tap = q->tap;

    skb->network_header = (uint16_t)(skb->data - skb->head + VNS_ETH_HLEN);  /* skb_set_network_header */
    vns_skb_reset_mac_header(skb);
    skb->protocol = vns_get_be16(skb->data + 12);                         /* eth_hdr(skb)->h_proto */
    if (h && vns_virtio_net_hdr_to_skb(skb, h)) {
        tap->stats.tx_frame_errors++;
        tap->dev->stats.tx_dropped++;                                     /* count_tx_dropped */
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_DEV_HDR);
        return -VNS_EINVAL;
    }
    vns__flow_cross_in(skb, VNS_ETH_HLEN);
    skb->dev = tap->dev;
    vns_dev_queue_xmit(ctx, skb);
    return 0;
}

static int tap_get_user(struct vns_ctx *ctx, struct tap_queue *q, struct vns_iov_iter *from)
{
    struct vns_tap *tap = q->tap;
    size_t total_len = vns_iov_iter_count(from), len = total_len, linear;
    struct vns_virtio_net_hdr vnet_hdr = {0};
    unsigned vnet_hdr_len = 0;
    struct vns_skb *skb;
    uint8_t hb[VNS_VIRTIO_NET_HDR_LEN];
    int err;

    vns_fn_enter(ctx, VNS_FN_tap_get_user);
    if (q->flags & IFF_VNET_HDR) {
        vnet_hdr_len = tap->vnet_hdr_sz;
        err = -VNS_EINVAL;
        if (len < vnet_hdr_len)
            goto err_inval;
        len -= vnet_hdr_len;
        if (vns_copy_from_iter(ctx, from, hb, sizeof(hb)) != sizeof(hb)) {
            err = -VNS_EFAULT;
            tap->stats.tx_efault++;
            goto err;
        }
        vns_iov_iter_advance(from, vnet_hdr_len - sizeof(hb));
        vns_virtio_net_hdr_decode(hb, sizeof(hb), &vnet_hdr);
        if ((vnet_hdr.flags & VNS_VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
            (uint32_t)vnet_hdr.csum_start + vnet_hdr.csum_offset + 2 > vnet_hdr.hdr_len)
            vnet_hdr.hdr_len = (uint16_t)(vnet_hdr.csum_start + vnet_hdr.csum_offset + 2);
        if (vnet_hdr.hdr_len > len)
            goto err_inval;
    }
    err = -VNS_EINVAL;
    if (len < VNS_ETH_HLEN)
        goto err_inval;
    linear = vns_iov_iter_real_len(from, len);
    if (linear + TAP_RESERVE > VNS_SKB_LARGE_BUF) {
        err = -VNS_EMSGSIZE;
        tap->stats.tx_emsgsize++;
        goto err;
    }
    skb = vns_alloc_skb(tap->dev->k, (uint32_t)(linear + TAP_RESERVE));
    if (!skb) {
        err = -VNS_ENOMEM;
        goto err;
    }
    vns_skb_reserve(skb, TAP_RESERVE);
    err = vns_iov_iter_to_skb(ctx, from, skb, len);
    if (err) {
        tap->stats.tx_efault++;
        tap->dev->stats.tx_dropped++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_HDR_TRUNC);
        goto out;
    }
    err = tap_xmit_built(ctx, q, skb, vnet_hdr_len ? &vnet_hdr : NULL);
    if (!err)
        err = (int)total_len;
    goto out;

err_inval:
    tap->stats.tx_invalid++;
err:
    tap->dev->stats.tx_dropped++;
out:
    vns_fn_exit(ctx);
    return err;
}

static int tap_get_user_xdp(struct vns_ctx *ctx, struct tap_queue *q, const struct vns_xdp_buff *xdp)
{
    struct vns_tap *tap = q->tap;
    uint32_t datasize = xdp->data_end - xdp->data;
    struct vns_virtio_net_hdr gso;
    struct vns_skb *skb;

    vns_charge(ctx, VNS_FN_tap_get_user_xdp, 0);   /* inlined into tap_sendmsg */
    if (datasize < VNS_ETH_HLEN) {
        tap->stats.tx_invalid++;
        tap->dev->stats.tx_dropped++;
        return -VNS_EINVAL;
    }
    vns_charge(ctx, VNS_FN_build_skb, 0);
    vns_virtio_net_hdr_decode(xdp->data_hard_start + VNS_TUN_XDP_HDR_GSO_OFF, VNS_VIRTIO_NET_HDR_LEN, &gso);
    skb = vns_xdp_build_skb(tap->dev->k, xdp, vns_virtio_net_hdr_in_place(&gso));
    if (!skb) {
        tap->dev->stats.tx_dropped++;
        return -VNS_ENOMEM;
    }
    return tap_xmit_built(ctx, q, skb, (q->flags & IFF_VNET_HDR) ? &gso : NULL);
}

static int tap_sendmsg(struct vns_ctx *ctx, struct vns_socket *sock, struct vns_msghdr *m, size_t total_len)
{
    struct tap_queue *q = sock->priv;
    struct vns_tun_msg_ctl *ctl = m->control;
    int ret = 0;

    (void)total_len;
    vns_fn_enter(ctx, VNS_FN_tap_sendmsg);
    if (ctl && ctl->type == VNS_TUN_MSG_PTR) {
        q->tap->stats.xdp_batches++;
        for (unsigned i = 0; i < ctl->num; i++) {
            q->tap->stats.xdp_frames++;
            tap_get_user_xdp(ctx, q, &((struct vns_xdp_buff *)ctl->ptr)[i]);
        }
    } else {
        ret = tap_get_user(ctx, q, &m->iter);
    }
    vns_fn_exit(ctx);
    return ret;
}

static int tap_put_user(struct vns_ctx *ctx, struct tap_queue *q, const struct vns_skb *skb,
                        struct vns_iov_iter *iter)
{
    int ret;

    vns_fn_enter(ctx, VNS_FN_tap_put_user);
    ret = vns_virtio_net_put_user(ctx, skb, (q->flags & IFF_VNET_HDR) ? q->tap->vnet_hdr_sz : 0, iter);
    vns_fn_exit(ctx);
    return ret;
}

static int tap_recvmsg(struct vns_ctx *ctx, struct vns_socket *sock, struct vns_msghdr *m, size_t total_len,
                       unsigned flags)
{
    struct tap_queue *q = sock->priv;
    struct vns_skb *skb = m->control;
    int ret;

    vns_fn_enter(ctx, VNS_FN_tap_recvmsg);
    if (flags & ~(VNS_MSG_DONTWAIT | VNS_MSG_TRUNC)) {
        if (skb)
            vns_kfree_skb(skb);
        vns_fn_exit(ctx);
        return -VNS_EINVAL;
    }
    vns_fn_enter(ctx, VNS_FN_tap_do_read);
    if (!skb)
        skb = vns_ptr_ring_consume(&q->ring);
    if (!skb) {
        ret = -VNS_EAGAIN;
    } else {
        ret = tap_put_user(ctx, q, skb, &m->iter);
        if (ret < 0) {
            q->tap->stats.put_user_errors++;
            vns_kfree_skb(skb);
        } else {
            vns__flow_end(skb, VNS_FLOW_CROSSED_OUT, -1); /* copied into the guest */
            vns_consume_skb(skb);
        }
    }
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return vns_recvmsg_trunc(m, ret, total_len, flags);
}

static int tap_peek_len(struct vns_socket *sock)
{
    struct tap_queue *q = sock->priv;
    const struct vns_skb *skb = vns_ptr_ring_peek(&q->ring);

    return skb ? (int)skb->len : 0;
}

static const struct vns_proto_ops tap_socket_ops = {
    .kind = "tap",
    .sendmsg = tap_sendmsg,
    .recvmsg = tap_recvmsg,
    .peek_len = tap_peek_len,
};

static void macvtap_uninit(struct vns_net_device *dev)
{
    struct vns_tap *tap = ((struct macvtap_priv *)vns_netdev_priv(dev))->tap;

    vns_netdev_rx_handler_unregister(dev);
    for (unsigned i = 0; i < tap->numvtaps; i++)
        vns_ptr_ring_cleanup(&tap->taps[i]->ring, tap_ptr_free);
    vns_macvlan_uninit(dev);
}

static const struct vns_net_device_ops macvtap_netdev_ops = {
    .kind = "macvtap",
    .priv_size = sizeof(struct macvtap_priv),
    .ndo_start_xmit = vns_macvlan_start_xmit,
    .ndo_uninit = macvtap_uninit,
};

int vns_macvtap_create(struct vns_net_device *lower, const char *name, const struct vns_tap_config *cfg,
                       struct vns_tap **out)
{
    struct vns_tap_config c = cfg ? *cfg : (struct vns_tap_config){0};
    struct vns_tap *tap;
    int err;

    if (!c.queues)
        c.queues = 1;
    if (!c.vnet_hdr_sz)
        c.vnet_hdr_sz = VNS_VIRTIO_NET_HDR_LEN;
    if (c.queues > VNS_MAX_TAP_QUEUES || c.vnet_hdr_sz < VNS_VIRTIO_NET_HDR_LEN || c.sndbuf < 0)
        return -VNS_EINVAL;
    tap = vns_calloc(1, sizeof(*tap));
    if (!tap)
        return -VNS_ENOMEM;
    tap->vnet_hdr_sz = c.vnet_hdr_sz;
    if (!c.no_offloads)
        tap->tap_features = VNS_NETIF_F_HW_CSUM | VNS_NETIF_F_TSO | VNS_NETIF_F_TSO6 | VNS_NETIF_F_TSO_ECN;
    for (unsigned i = 0; i < c.queues; i++) {
        struct tap_queue *q = vns_calloc(1, sizeof(*q));

        if (!q) {
            err = -VNS_ENOMEM;
            goto free_queues;
        }
        tap->taps[i] = q;
        q->tap = tap;
        q->queue_index = i;
        q->flags = IFF_VNET_HDR;       /* tap_open: IFF_VNET_HDR | IFF_NO_PI | IFF_TAP */
        q->sock.ops = &tap_socket_ops;
        q->sock.priv = q;
        q->sock.sk_sndbuf = c.sndbuf ? c.sndbuf : INT_MAX;
        q->sock.rx_ring = &q->ring;
        q->sock.ptr_free = tap_ptr_free;
        err = vns_ptr_ring_init(&q->ring, (int)(c.tx_queue_len ? c.tx_queue_len : 500));
        if (err)
            goto free_queues;
    }
    err = vns_macvlan_newlink(lower, name ? name : "macvtap%d",
                              &(struct vns_macvlan_config){.mode = c.mode, .addr = c.addr, .keep_qdisc = true},
                              &macvtap_netdev_ops, &tap->dev);
    if (err)
        goto free_queues;
    ((struct macvtap_priv *)vns_netdev_priv(tap->dev))->tap = tap;
    tap->numvtaps = c.queues;
    if (c.tx_queue_len)
        tap->dev->tx_queue_len = c.tx_queue_len;
    err = vns_netdev_rx_handler_register(tap->dev, tap_handle_frame, tap);
    if (err) {
        tap->numvtaps = 0;
        vns_unregister_netdev(tap->dev);
        goto free_queues;
    }
    *out = tap;
    return 0;

free_queues:
    for (unsigned i = 0; i < c.queues; i++)
        if (tap->taps[i]) {
            vns_ptr_ring_cleanup(&tap->taps[i]->ring, NULL);
            vns_free(tap->taps[i]);
        }
    vns_free(tap);
    return err;
}

void vns_tap_destroy(struct vns_tap *tap)
{
    unsigned n;

    if (!tap)
        return;
    n = tap->numvtaps;
    vns_unregister_netdev(tap->dev);
    for (unsigned i = 0; i < n; i++) {
        vns_ptr_ring_cleanup(&tap->taps[i]->ring, tap_ptr_free);
        vns_free(tap->taps[i]);
    }
    vns_free(tap);
}

struct vns_net_device *vns_tap_dev(const struct vns_tap *tap) { return tap->dev; }

struct vns_socket *vns_tap_socket(struct vns_tap *tap, unsigned q)
{
    return q < tap->numvtaps ? &tap->taps[q]->sock : NULL;
}

const struct vns_tap_stats *vns_tap_stats(const struct vns_tap *tap) { return &tap->stats; }

int vns_tap_queued(const struct vns_tap *tap, unsigned q)
{
    return q < tap->numvtaps ? vns_ptr_ring_count(&tap->taps[q]->ring) : 0;
}
