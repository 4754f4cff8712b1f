/* lib/dev/tun.c -- tun/tap in TAP mode with IFF_NO_PI | IFF_VNET_HDR, the
 * backend vhost-net drives. LINUX: drivers/net/tun.c of linux-5.4
 * (tun_net_xmit, tun_sendmsg, tun_get_user, tun_xdp_one, tun_recvmsg,
 * tun_do_read, tun_put_user, tun_peek_len, tun_attach's ring sizing).
 *
 * Modelled: the per-queue ptr_ring of tx_queue_len (500) slots with its
 * batched slot release; drop on a full ring (no stop_queue in tun);
 * sk_data_ready waking the reader; tun_get_user's checks in order
 * (vnet_hdr_sz, hdr_len fix-up for NEEDS_CSUM, hdr_len > len, ETH_HLEN),
 * tun_build_skb vs tun_alloc_skb choice (tun_can_build_skb), the header
 * through virtio_net_hdr_to_skb, eth_type_trans, and tun_rx_batched with
 * rx_batched = 0: local_bh_disable; netif_receive_skb; local_bh_enable in
 * the caller's (vhost worker's) context; the TUN_MSG_PTR batch through
 * tun_xdp_one under one local_bh_disable.
 * Simplified: TAP mode only (no IFF_TUN / tun_pi), no XDP program, no
 * socket filter, eBPF steering or tx filter, no IFF_NAPI(_FRAGS), no
 * zerocopy (vhost's experimental_zcopytx is off), no flow table
 * (tun_flow_update): with several queues tun_net_xmit picks the queue by
 * skb->hash (tun_automq_select_queue's effect; lib/net has no
 * ndo_select_queue). The skb's real bytes are linear (page frags are not
 * modelled; the limit is lib/net's largest pooled buffer, -EMSGSIZE above
 * it, where the kernel's is MAX_SKB_FRAGS pages of frags); payload the
 * guest recorded as synthetic (backend_sock.h) stays synthetic. */
#include <limits.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/error.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/skb.h"
#include "vnetsim/flow_book.h"
#include "vnetsim/tun.h"
#include "vnetsim/virtio_net.h"

#define TUN_RX_PAD (VNS_NET_IP_ALIGN + VNS_NET_SKB_PAD)
#define SKB_DATA_ALIGN(x) (((x) + 63u) & ~63u)
#define SKB_SHINFO_SIZE 320u           /* sizeof(struct skb_shared_info), x86_64 5.4 */

struct tun_file {
    struct vns_tun *tun;
    unsigned queue_index;
    struct vns_socket socket;
    struct vns_ptr_ring tx_ring;
};

struct vns_tun {
    struct vns_net_device *dev;
    unsigned numqueues;
    unsigned vnet_hdr_sz;
    bool vnet_hdr;
    struct tun_file *tfiles[VNS_TUN_MAX_QUEUES];
    struct vns_tun_stats stats;
};

struct tun_priv {
    struct vns_tun *tun;
};

static void tun_ptr_free(void *ptr)
{
    vns_kfree_skb(ptr);
}

/* tun_net_xmit: the device's ndo_start_xmit (host stack -> reader). */
static int tun_net_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    struct vns_tun *tun = ((struct tun_priv *)vns_netdev_priv(dev))->tun;
    unsigned txq = skb->queue_mapping;
    struct tun_file *tfile;

    vns_fn_enter(ctx, VNS_FN_tun_net_xmit);
    if (tun->numqueues > 1)
        txq = vns_skb_get_hash(skb) % tun->numqueues;
    /* Drop packet if interface is not attached */
    if (txq >= tun->numqueues) {
        tun->stats.no_queue++;
        goto drop_ready;
    }
    tfile = tun->tfiles[txq];
    /* skb_orphan(skb): TCP small queues no longer see it; nf_reset_ct */
    vns_skb_orphan(skb);
    if (vns_ptr_ring_produce(&tfile->tx_ring, skb)) {
        tun->stats.ring_full++;
        dev->stats.tx_dropped++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_FULL_RING);
        vns_fn_exit(ctx);
        return VNS_NET_XMIT_DROP;
    }
    /* Notify and wake up reader process: sk_data_ready ->
     * sock_def_readable -> wake_up_interruptible_sync_poll(EPOLLIN). */
    vns_sock_wake(&tfile->socket, VNS_EPOLLIN, ctx);
    vns_fn_exit(ctx);
    return VNS_NETDEV_TX_OK;

drop_ready:
    dev->stats.tx_dropped++;
    vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_DEV_READY);
    vns_fn_exit(ctx);
    return VNS_NET_XMIT_DROP;
}

static void tun_uninit(struct vns_net_device *dev)
{
    struct vns_tun *tun = ((struct tun_priv *)vns_netdev_priv(dev))->tun;

    for (unsigned i = 0; i < tun->numqueues; i++)
        if (tun->tfiles[i])
            vns_ptr_ring_cleanup(&tun->tfiles[i]->tx_ring, tun_ptr_free);
}

static const struct vns_net_device_ops tun_netdev_ops = {
    .kind = "tun",
    .priv_size = sizeof(struct tun_priv),
    .ndo_start_xmit = tun_net_xmit,
    .ndo_uninit = tun_uninit,
};

/* tun_rx_batched with rx_batched 0: deliver in the caller's context with
 * bottom halves off, so a softirq raised on the way (a bridge flooding to
 * netif_rx, ...) runs at the local_bh_enable. */
static void tun_rx_batched(struct vns_ctx *ctx, struct tun_file *tfile, struct vns_skb *skb)
{
    if (ctx)
        vns_local_bh_disable(ctx);
    skb->queue_mapping = (uint16_t)tfile->queue_index;   /* skb_record_rx_queue */
    vns_netif_receive_skb(ctx, skb);
    if (ctx)
        vns_local_bh_enable(ctx);
}

/* After the copy: header, protocol, delivery (common tail of tun_get_user
 * and tun_xdp_one). Consumes @skb. Returns 0 or -VNS_EINVAL. */
static int tun_skb_finish(struct vns_ctx *ctx, struct tun_file *tfile, struct vns_skb *skb,
                          const struct vns_virtio_net_hdr *gso, bool bh_off)
{
    struct vns_tun *tun = tfile->tun;
    uint32_t len;

    if (vns_virtio_net_hdr_to_skb(skb, gso)) {
        tun->stats.rx_frame_errors++;
        tun->dev->stats.rx_errors++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_DEV_HDR);
        return -VNS_EINVAL;
    }
    vns__flow_cross_in(skb, VNS_ETH_HLEN);
    skb->protocol = vns_eth_type_trans(skb, tun->dev);
    vns_skb_reset_network_header(skb);
    len = skb->len + VNS_ETH_HLEN;
    tun->dev->stats.rx_packets++;
    tun->dev->stats.rx_bytes += len;
    if (bh_off) {
        skb->queue_mapping = (uint16_t)tfile->queue_index;
        vns_netif_receive_skb(ctx, skb);
    } else {
        tun_rx_batched(ctx, tfile, skb);
    }
    return 0;
}

/* tun_get_user: one frame from the writer's iterator. */
static int tun_get_user(struct vns_ctx *ctx, struct tun_file *tfile, struct vns_iov_iter *from,
                        bool noblock)
{
    struct vns_tun *tun = tfile->tun;
    struct vns_virtio_net_hdr gso = {0};
    size_t total_len = vns_iov_iter_count(from), len = total_len, linear;
    struct vns_skb *skb;
    uint8_t hb[VNS_VIRTIO_NET_HDR_LEN];
    int err;

    vns_fn_enter(ctx, VNS_FN_tun_get_user);
    if (tun->vnet_hdr) {
        if (len < tun->vnet_hdr_sz) {
            err = -VNS_EINVAL;
            goto inval;
        }
        len -= tun->vnet_hdr_sz;
        if (vns_copy_from_iter(ctx, from, hb, sizeof(hb)) != sizeof(hb)) {
            err = -VNS_EFAULT;
            tun->stats.rx_efault++;
            goto out_noskb;
        }
        vns_virtio_net_hdr_decode(hb, sizeof(hb), &gso);
        if ((gso.flags & VNS_VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
            (uint32_t)gso.csum_start + gso.csum_offset + 2 > gso.hdr_len)
            gso.hdr_len = (uint16_t)(gso.csum_start + gso.csum_offset + 2);
        if (gso.hdr_len > len) {
            err = -VNS_EINVAL;
            goto inval;
        }
        vns_iov_iter_advance(from, tun->vnet_hdr_sz - sizeof(hb));
    }
    /* IFF_TAP */
    if (len < VNS_ETH_HLEN || (gso.hdr_len && gso.hdr_len < VNS_ETH_HLEN)) {
        err = -VNS_EINVAL;
        goto inval;
    }
    /* tun_can_build_skb: TAP, sndbuf INT_MAX, noblock, no zerocopy, fits a page */
    if (tfile->socket.sk_sndbuf == INT_MAX && noblock &&
        SKB_DATA_ALIGN((uint32_t)len + TUN_RX_PAD) + SKB_SHINFO_SIZE <= VNS_PAGE_SIZE) {
        vns_fn_enter(ctx, VNS_FN_tun_build_skb);
        tun->stats.built_skb++;
        vns_fn_exit(ctx);
    }
    /* the linear part takes the real bytes; synthetic payload stays so */
    linear = vns_iov_iter_real_len(from, len);
    if (linear + TUN_RX_PAD > VNS_SKB_LARGE_BUF) {
        err = -VNS_EMSGSIZE;
        tun->stats.rx_emsgsize++;
        goto out_noskb;
    }
    skb = vns_alloc_skb(tun->dev->k, (uint32_t)(linear + TUN_RX_PAD));
    if (!skb) {
        err = -VNS_ENOMEM;
        goto out_noskb;
    }
    vns_skb_reserve(skb, TUN_RX_PAD);
    err = vns_iov_iter_to_skb(ctx, from, skb, len);
    if (err) {
        tun->stats.rx_efault++;
        tun->dev->stats.rx_dropped++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_HDR_TRUNC);
        goto out;
    }
    if (!(tun->dev->flags & VNS_IFF_UP)) {
        tun->stats.rx_dev_down++;
        tun->dev->stats.rx_dropped++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_DEV_READY);
        err = -VNS_EIO;
        goto out;
    }
    err = tun_skb_finish(ctx, tfile, skb, &gso, false);
    if (!err)
        err = (int)total_len;
    goto out;

inval:
    tun->stats.rx_invalid++;
out_noskb:
    tun->dev->stats.rx_dropped++;
out:
    vns_fn_exit(ctx);
    return err;
}

/* tun_xdp_one: one buffer of vhost's batch (bottom halves already off). */
static int tun_xdp_one(struct vns_ctx *ctx, struct tun_file *tfile, const struct vns_xdp_buff *xdp)
{
    struct vns_tun *tun = tfile->tun;
    uint32_t datasize = xdp->data_end - xdp->data;
    struct vns_virtio_net_hdr gso;
    struct vns_skb *skb;
    int err;

    vns_charge(ctx, VNS_FN_tun_xdp_one, 0);   /* static, one caller: inlined in 5.4 */
    vns_virtio_net_hdr_decode(xdp->data_hard_start + VNS_TUN_XDP_HDR_GSO_OFF, VNS_VIRTIO_NET_HDR_LEN, &gso);
    if (datasize < VNS_ETH_HLEN) {
        tun->stats.rx_invalid++;
        tun->dev->stats.rx_dropped++;
        err = -VNS_EINVAL;
        goto out;
    }
    /* build_skb around the page-frag buffer: no copy (the model copies the
     * bytes into a pooled skb without charging a byte cost) */
    vns_charge(ctx, VNS_FN_build_skb, 0);
    skb = vns_xdp_build_skb(tun->dev->k, xdp, vns_virtio_net_hdr_in_place(&gso));
    if (!skb) {
        tun->dev->stats.rx_dropped++;
        err = -VNS_ENOMEM;
        goto out;
    }
    err = tun_skb_finish(ctx, tfile, skb, &gso, true);
out:
    return err;
}

static int tun_sendmsg(struct vns_ctx *ctx, struct vns_socket *sock, struct vns_msghdr *m,
                       size_t total_len)
{
    struct tun_file *tfile = sock->priv;
    struct vns_tun_msg_ctl *ctl = m->control;
    int ret;

    vns_fn_enter(ctx, VNS_FN_tun_sendmsg);
    if (ctl && ctl->type == VNS_TUN_MSG_PTR) {
        tfile->tun->stats.xdp_batches++;
        if (ctx)
            vns_local_bh_disable(ctx);
        for (unsigned i = 0; i < ctl->num; i++) {
            tfile->tun->stats.xdp_frames++;
            tun_xdp_one(ctx, tfile, &((struct vns_xdp_buff *)ctl->ptr)[i]);
        }
        if (ctx)
            vns_local_bh_enable(ctx);
        ret = (int)total_len;
    } else {
        ret = tun_get_user(ctx, tfile, &m->iter, m->flags & VNS_MSG_DONTWAIT);
    }
    vns_fn_exit(ctx);
    return ret;
}

/* tun_put_user: header, then the frame. Returns bytes or -errno. */
static int tun_put_user(struct vns_ctx *ctx, struct vns_tun *tun, const struct vns_skb *skb,
                        struct vns_iov_iter *iter)
{
    int ret;

    vns_fn_enter(ctx, VNS_FN_tun_put_user);
    ret = vns_virtio_net_put_user(ctx, skb, tun->vnet_hdr ? tun->vnet_hdr_sz : 0, iter);
    if (ret >= 0) {
        tun->dev->stats.tx_packets++;
        tun->dev->stats.tx_bytes += skb->len;
    }
    vns_fn_exit(ctx);
    return ret;
}

static int tun_recvmsg(struct vns_ctx *ctx, struct vns_socket *sock, struct vns_msghdr *m,
                       size_t total_len, unsigned flags)
{
    struct tun_file *tfile = sock->priv;
    struct vns_tun *tun = tfile->tun;
    struct vns_skb *skb = m->control;
    int ret;

    vns_fn_enter(ctx, VNS_FN_tun_recvmsg);
    /* tun_do_read: the pointer vhost consumed, else the ring head */
    vns_fn_enter(ctx, VNS_FN_tun_do_read);
    if (!skb)
        skb = vns_ptr_ring_consume(&tfile->tx_ring);
    if (!skb) {
        vns_fn_exit(ctx);
        vns_fn_exit(ctx);
        return -VNS_EAGAIN;
    }
    ret = tun_put_user(ctx, tun, skb, &m->iter);
    if (ret < 0) {
        tun->stats.put_user_errors++;
        tun->dev->stats.tx_dropped++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
    } else {
        vns__flow_end(skb, VNS_FLOW_CROSSED_OUT, -1); /* copied into the guest */
        vns_consume_skb(skb);
    }
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return vns_recvmsg_trunc(m, ret, total_len, flags);
}

/* tun_peek_len: PTR_RING_PEEK_CALL(tun_ptr_peek_len): skb->len (no VLAN
 * tags in this model). */
static int tun_peek_len(struct vns_socket *sock)
{
    struct tun_file *tfile = sock->priv;
    const struct vns_skb *skb = vns_ptr_ring_peek(&tfile->tx_ring);

    return skb ? (int)skb->len : 0;
}

static const struct vns_proto_ops tun_socket_ops = {
    .kind = "tun",
    .sendmsg = tun_sendmsg,
    .recvmsg = tun_recvmsg,
    .peek_len = tun_peek_len,
};

int vns_tun_create(struct vns_kernel *k, const struct vns_tun_config *cfg, struct vns_tun **out)
{
    struct vns_tun_config c = cfg ? *cfg : (struct vns_tun_config){0};
    struct vns_tun *tun;
    int err;

    if (!c.queues)
        c.queues = 1;
    if (!c.vnet_hdr_sz)
        c.vnet_hdr_sz = VNS_TUN_VNET_HDR_SZ_DEFAULT;
    if (c.queues > VNS_TUN_MAX_QUEUES || c.vnet_hdr_sz < VNS_TUN_VNET_HDR_SZ_DEFAULT || c.sndbuf < 0)
        return -VNS_EINVAL;
    tun = vns_calloc(1, sizeof(*tun));
    if (!tun)
        return -VNS_ENOMEM;
    tun->vnet_hdr = !c.no_vnet_hdr;
    tun->vnet_hdr_sz = c.vnet_hdr_sz;
    err = vns_alloc_netdev(k, c.name ? c.name : "tap%d", &tun_netdev_ops, &tun->dev);
    if (err)
        goto free_tun;
    ((struct tun_priv *)vns_netdev_priv(tun->dev))->tun = tun;
    /* tun_net_init (IFF_TAP): ether_setup; tx_queue_len = TUN_READQ_SIZE;
     * hw_features SG | FRAGLIST | TUN_USER_FEATURES; LLTX; the user
     * features come on with TUNSETOFFLOAD (QEMU: the guest's offloads). */
    tun->dev->tx_queue_len = c.tx_queue_len ? c.tx_queue_len : VNS_TUN_READQ_SIZE;
    tun->dev->hw_features = VNS_NETIF_F_SG | VNS_NETIF_F_FRAGLIST | VNS_NETIF_F_HW_CSUM |
                            VNS_NETIF_F_TSO | VNS_NETIF_F_TSO6 | VNS_NETIF_F_TSO_ECN;
    tun->dev->features = VNS_NETIF_F_SG | VNS_NETIF_F_FRAGLIST | VNS_NETIF_F_LLTX;
    if (!c.no_offloads)
        tun->dev->features |= VNS_NETIF_F_HW_CSUM | VNS_NETIF_F_TSO | VNS_NETIF_F_TSO6 |
                              VNS_NETIF_F_TSO_ECN;
    for (unsigned i = 0; i < c.queues; i++) {
        struct tun_file *tf = vns_calloc(1, sizeof(*tf));

        if (!tf) {
            err = -VNS_ENOMEM;
            goto free_files;
        }
        tun->tfiles[i] = tf;
        tun->numqueues = i + 1;
        tf->tun = tun;
        tf->queue_index = i;
        tf->socket.ops = &tun_socket_ops;
        tf->socket.priv = tf;
        tf->socket.sk_sndbuf = c.sndbuf ? c.sndbuf : INT_MAX;
        tf->socket.rx_ring = &tf->tx_ring;
        tf->socket.ptr_free = tun_ptr_free;
        /* tun_attach: ptr_ring_resize to dev->tx_queue_len */
        err = vns_ptr_ring_init(&tf->tx_ring, (int)tun->dev->tx_queue_len);
        if (err)
            goto free_files;
    }
    err = vns_register_netdev(tun->dev);
    if (err)
        goto free_files;
    *out = tun;
    return 0;

free_files:
    for (unsigned i = 0; i < VNS_TUN_MAX_QUEUES; i++)
        if (tun->tfiles[i]) {
            vns_ptr_ring_cleanup(&tun->tfiles[i]->tx_ring, NULL);
            vns_free(tun->tfiles[i]);
        }
    vns_free_netdev(tun->dev);
free_tun:
    vns_free(tun);
    return err;
}

void vns_tun_destroy(struct vns_tun *tun)
{
    if (!tun)
        return;
    vns_unregister_netdev(tun->dev);    /* ndo_uninit drops what is queued */
    for (unsigned i = 0; i < tun->numqueues; i++) {
        vns_ptr_ring_cleanup(&tun->tfiles[i]->tx_ring, tun_ptr_free);
        vns_free(tun->tfiles[i]);
    }
    vns_free(tun);
}

struct vns_net_device *vns_tun_dev(const struct vns_tun *tun) { return tun->dev; }

struct vns_socket *vns_tun_socket(struct vns_tun *tun, unsigned q)
{
    return q < tun->numqueues ? &tun->tfiles[q]->socket : NULL;
}

int vns_tun_set_vnet_hdr_sz(struct vns_tun *tun, unsigned sz)
{
    if (sz < VNS_TUN_VNET_HDR_SZ_DEFAULT)
        return -VNS_EINVAL;
    tun->vnet_hdr_sz = sz;
    return 0;
}

const struct vns_tun_stats *vns_tun_stats(const struct vns_tun *tun) { return &tun->stats; }

int vns_tun_queued(const struct vns_tun *tun, unsigned q)
{
    return q < tun->numqueues ? vns_ptr_ring_count(&tun->tfiles[q]->tx_ring) : 0;
}
