/* lib/vhost/vhost_net.c -- vhost-net TX and RX. LINUX: drivers/vhost/net.c
 * of linux-5.4 (handle_tx, handle_tx_copy, get_tx_bufs, vhost_net_build_xdp,
 * vhost_tx_batch, vhost_net_signal_used, handle_rx, get_rx_bufs,
 * vhost_net_rx_peek_head_len, vhost_net_buf_*, vhost_net_enable_vq /
 * disable_vq, vhost_exceeds_weight from vhost.c).
 *
 * The loops keep the kernel's control flow, with one packet per engine
 * step: their locals (sent_pkts, total_len, busyloop_intr, sock_len) live
 * in struct vhost_net_run across steps, the frames handle_tx ->
 * handle_tx_copy (handle_rx) stay on the worker's stack, and every ring
 * access goes through lib/virtio's device side with vhost's checks.
 *
 * Simplified: no zerocopy TX (experimental_zcopytx is 0 by default), no
 * dirty log, no IOTLB. Busy polling spins in steps of 20 cpu_relax laps
 * (VNS_PARAM vhost_busy_poll_spin each) and does not stop for need_resched
 * (the engine has no "someone waits for this CPU" test).
 * LINUX: vhost_poll_start of the TX socket poll would find tun writable
 * and requeue handle_tx at once after a sendmsg error (in 5.4 a frame the
 * backend keeps refusing makes the worker spin); here that poll only
 * fires on a real EPOLLOUT wake-up, so the refused head waits for the
 * guest's next kick. Either way TX is stuck on that frame, and counted. */
#include <limits.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"
#include "vnetsim/skb.h"
#include "vnetsim/vhost_net.h"
#include "vnetsim/virtio_net.h"

#define SKB_DATA_ALIGN(x) (((x) + 63u) & ~63u)
#define SKB_SHINFO_SIZE 320u                       /* x86_64 5.4 */
#define VHOST_NET_RX_PAD (0u + 64u)                /* NET_IP_ALIGN + NET_SKB_PAD */
#define IOV_MAX_SEGS (VNS_UIO_MAXIOV + VNS_VHOST_NET_BATCH)

/* A poll on the backend socket (n->poll[VHOST_NET_VQ_*]). */
struct net_poll {
    struct vns_vhost_poll poll;
    struct vns_sock_wait wait;
    unsigned mask;
};

/* Loop state kept across steps. */
struct vhost_net_run {
    bool active;
    bool busy;                   /* in vhost_net_busy_poll */
    bool busy_rx;                /* entered from handle_rx (poll_rx) */
    bool after_busy;             /* the fetch after a busy poll: no second poll */
    vns_time_t busy_end;
    int pkts;                    /* sent_pkts / recv_pkts */
    size_t total_len;
    bool sock_can_batch;
    bool busyloop_intr;
    size_t sock_len;
};

struct vhost_net_virtqueue {
    struct vns_vhost_vq vq;
    struct vns_devq *dq;
    struct vns_socket *sock;     /* vq->private_data */
    size_t vhost_hlen, sock_hlen;
    int done_idx;                /* TX: heads batched; RX: heads not yet signalled */
    int batched_xdp;
    struct vns_used_elem heads[IOV_MAX_SEGS];
    struct vns_iov iov[IOV_MAX_SEGS];
    /* RX: vhost_net_buf, pointers taken from the backend's ring */
    void *rxq[VNS_VHOST_NET_BATCH];
    int rxq_head, rxq_tail;
    /* TX: the batch */
    struct vns_xdp_buff xdp[VNS_VHOST_NET_BATCH];
    struct vhost_net_run run;
};

struct vns_vhost_net {
    struct vns_sim *sim;
    struct vns_vhost_dev *dev;
    const struct vns_gmem_table *table;
    struct vns_gmem *mem;
    struct vns_synmap *syn;
    uint64_t features;
    vns_time_t busyloop_ns;
    struct vhost_net_virtqueue vqs[VNS_VHOST_NET_VQ_MAX];
    struct net_poll poll[VNS_VHOST_NET_VQ_MAX];
    uint8_t *xdp_pages;          /* VHOST_NET_BATCH page-frag buffers */
    struct vns_vhost_net_tx_stats tx;
    struct vns_vhost_net_rx_stats rx;
};

static bool has_feature(const struct vns_vhost_net *net, unsigned bit)
{
    return (net->features >> bit) & 1u;
}

/* --- socket polls (vhost_net_enable_vq / vhost_net_disable_vq) ---------------- */

static void net_poll_wake(struct vns_sock_wait *w, unsigned events, struct vns_ctx *waker)
{
    struct net_poll *p = w->arg;

    (void)events;
    vns_vhost_poll_wakeup(&p->poll, waker);
}

static void vhost_net_disable_vq(struct vns_vhost_net *n, unsigned idx)
{
    struct vhost_net_virtqueue *nvq = &n->vqs[idx];

    if (!nvq->sock)
        return;
    vns_sock_wait_del(nvq->sock, &n->poll[idx].wait);
    vns_vhost_poll_stop(&n->poll[idx].poll);
}

/* vhost_poll_start: add the wait entry; if the socket is already readable
 * (RX: a packet queued), wake at once (vfs_poll's mask). */
static void vhost_net_enable_vq(struct vns_vhost_net *n, unsigned idx, struct vns_ctx *ctx)
{
    struct vhost_net_virtqueue *nvq = &n->vqs[idx];
    struct net_poll *p = &n->poll[idx];

    if (!nvq->sock || p->wait.added)
        return;
    vns_sock_wait_add(nvq->sock, &p->wait);
    vns_vhost_poll_start(&p->poll);
    if (idx == VNS_VHOST_NET_VQ_RX && nvq->sock->ops->peek_len &&
        (nvq->sock->ops->peek_len(nvq->sock) > 0 || nvq->rxq_head != nvq->rxq_tail))
        vns_vhost_poll_wakeup(&p->poll, ctx);
}

/* vhost_exceeds_weight (vhost.c): requeue our own work and leave the loop. */
static bool vhost_exceeds_weight(struct vhost_net_virtqueue *nvq, int pkts, size_t total_len,
                                 struct vns_ctx *ctx)
{
    if (total_len >= VNS_VHOST_NET_WEIGHT || pkts >= VNS_VHOST_NET_PKT_WEIGHT) {
        vns_vhost_poll_queue(&nvq->vq.poll, ctx);
        return true;
    }
    return false;
}

/* vq_err: pr_debug + eventfd_signal(error_ctx); the queue is not stopped. */
static void vq_err(struct vns_ctx *ctx)
{
    vns_charge(ctx, VNS_FN_vq_err, 0);
}

static void vhost_net_signal_used(struct vhost_net_virtqueue *nvq, uint64_t *flushes,
                                  struct vns_ctx *ctx)
{
    if (!nvq->done_idx)
        return;
    vns_fn_enter(ctx, VNS_FN_vhost_net_signal_used);
    vns_devq_add_used_n(nvq->dq, nvq->heads, (unsigned)nvq->done_idx, ctx);
    vns_vhost_vq_signal(&nvq->vq, ctx);
    (*flushes)++;
    nvq->done_idx = 0;
    vns_fn_exit(ctx);
}

/* --- TX -------------------------------------------------------------------------- */

static void vhost_tx_batch(struct vns_vhost_net *net, struct vhost_net_virtqueue *nvq,
                           struct vns_ctx *ctx)
{
    vns_fn_enter(ctx, VNS_FN_vhost_tx_batch);
    if (nvq->batched_xdp) {
        struct vns_tun_msg_ctl ctl = {.type = VNS_TUN_MSG_PTR,
                                      .num = (unsigned short)nvq->batched_xdp, .ptr = nvq->xdp};
        struct vns_msghdr msg = {.flags = VNS_MSG_DONTWAIT, .control = &ctl};
        int err;

        vns_iov_iter_init(&msg.iter, net->mem, NULL, 0, 0);
        err = nvq->sock->ops->sendmsg(ctx, nvq->sock, &msg, 0);
        if (err < 0) {
            vq_err(ctx);   /* "Fail to batch sending packets" */
            vns_fn_exit(ctx);
            return;
        }
        net->tx.batches++;
        net->tx.batched += (uint64_t)nvq->batched_xdp;
    }
    vhost_net_signal_used(nvq, &net->tx.used_flushes, ctx);
    nvq->batched_xdp = 0;
    vns_fn_exit(ctx);
}

/* get_tx_bufs: the next chain, readable only; *len = bytes after the vhost
 * header. Returns the head, -VNS_EAGAIN when empty, or an error. */
static int get_tx_bufs(struct vns_vhost_net *net, struct vhost_net_virtqueue *nvq,
                       struct vns_msghdr *msg, size_t *len, struct vns_ctx *ctx)
{
    unsigned out, in;
    int ret;

    vns_fn_enter(ctx, VNS_FN_get_tx_bufs);
    ret = vns_devq_get_vq_desc(nvq->dq, nvq->iov, VNS_UIO_MAXIOV, &out, &in, ctx);
    if (ret < 0) {
        if (ret != -VNS_EAGAIN)
            net->tx.ring_errors++;
        goto out;
    }
    if (in) {
        vq_err(ctx);   /* "Unexpected descriptor format for TX: out %d, int %d" */
        net->tx.format_errors++;
        ret = -VNS_EFAULT;
        goto out;
    }
    vns_iov_iter_init(&msg->iter, net->mem, nvq->iov, out, SIZE_MAX);
    msg->iter.syn = net->syn;
    vns_iov_iter_advance(&msg->iter, nvq->vhost_hlen);
    *len = vns_iov_iter_count(&msg->iter);
    if (*len == 0) {
        vq_err(ctx);   /* "Unexpected header len for TX: %zd expected %zd" */
        net->tx.format_errors++;
        ret = -VNS_EFAULT;
    }
out:
    vns_fn_exit(ctx);
    return ret;
}

/* vhost_net_build_xdp: copy the header and frame into a page-frag buffer
 * of the batch. -VNS_ENOSPC when it would not fit a page. */
static int vhost_net_build_xdp(struct vns_vhost_net *net, struct vhost_net_virtqueue *nvq,
                               struct vns_iov_iter *from, struct vns_ctx *ctx)
{
    struct vns_xdp_buff *xdp = &nvq->xdp[nvq->batched_xdp];
    size_t len = vns_iov_iter_count(from);
    uint32_t sock_hlen = (uint32_t)nvq->sock_hlen;
    uint32_t pad = SKB_DATA_ALIGN(VHOST_NET_RX_PAD + sock_hlen);
    uint8_t *buf = xdp->data_hard_start;
    int ret = 0;

    (void)net;
    vns_fn_enter(ctx, VNS_FN_vhost_net_build_xdp);
    if (len < sock_hlen) {
        ret = -VNS_EFAULT;
        goto out;
    }
    if (SKB_DATA_ALIGN(len + pad) + SKB_SHINFO_SIZE > VNS_XDP_BUF_SIZE) {
        ret = -VNS_ENOSPC;
        goto out;
    }
    memset(buf, 0, VNS_TUN_XDP_HDR_GSO_OFF + VNS_VIRTIO_NET_HDR_MRG_LEN);
    if (vns_copy_from_iter(ctx, from, buf + VNS_TUN_XDP_HDR_GSO_OFF, sock_hlen) != sock_hlen) {
        ret = -VNS_EFAULT;
        goto out;
    }
    if (sock_hlen >= VNS_VIRTIO_NET_HDR_LEN) {
        struct vns_virtio_net_hdr gso;

        vns_virtio_net_hdr_decode(buf + VNS_TUN_XDP_HDR_GSO_OFF, VNS_VIRTIO_NET_HDR_LEN, &gso);
        if ((gso.flags & VNS_VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
            (uint32_t)gso.csum_start + gso.csum_offset + 2 > gso.hdr_len) {
            gso.hdr_len = (uint16_t)(gso.csum_start + gso.csum_offset + 2);
            vns_virtio_net_hdr_encode(&gso, buf + VNS_TUN_XDP_HDR_GSO_OFF, VNS_VIRTIO_NET_HDR_LEN);
            if (gso.hdr_len > len) {
                ret = -VNS_EINVAL;
                goto out;
            }
        }
    }
    len -= sock_hlen;
    /* LINUX: copy_page_from_iter copies every byte. A synthetic tail the
     * guest recorded stays a (flow, offset) range, charged as copied; the
     * skb built around the buffer marks it syn_linear (tun_xdp_one). */
    if (vns_copy_from_iter_keep_syn(ctx, from, buf + pad, len, &xdp->syn_len, &xdp->pay_flow,
                                    &xdp->pay_off) != len) {
        ret = -VNS_EFAULT;
        goto out;
    }
    xdp->data = pad;
    xdp->data_end = pad + (uint32_t)len;
    xdp->buflen = SKB_SHINFO_SIZE + SKB_DATA_ALIGN((uint32_t)len + pad);
    ++nvq->batched_xdp;
out:
    vns_fn_exit(ctx);
    return ret;
}

enum { LOOP_NEXT, LOOP_BREAK, LOOP_BUSY };

/* --- busy polling (vhost_net_busy_poll) --------------------------------------------- */

static bool sock_has_rx_data(struct vhost_net_virtqueue *rnvq)
{
    struct vns_socket *sock = rnvq->sock;

    if (!sock)
        return false;
    if (rnvq->rxq_head != rnvq->rxq_tail)
        return true;
    return sock->ops->peek_len ? sock->ops->peek_len(sock) > 0 : false;
}

static bool vq_avail_empty(struct vhost_net_virtqueue *nvq, struct vns_ctx *ctx)
{
    return !nvq->dq || vns_devq_avail_empty(nvq->dq, ctx);
}

/* Enter vhost_net_busy_poll for the loop of @r (poll_rx: from handle_rx):
 * the paired vq's notifications go off while we spin. */
static bool busy_poll_start(struct vns_vhost_net *net, struct vhost_net_run *r, bool poll_rx,
                            struct vns_ctx *ctx)
{
    struct vhost_net_virtqueue *vq = &net->vqs[poll_rx ? VNS_VHOST_NET_VQ_TX : VNS_VHOST_NET_VQ_RX];

    if (!net->busyloop_ns || !ctx || r->after_busy)
        return false;
    vns_fn_enter(ctx, VNS_FN_vhost_net_busy_poll);
    vns_fn_exit(ctx);
    if (vq->dq)
        vns_devq_disable_notify(vq->dq, ctx);
    r->busy = true;
    r->busy_rx = poll_rx;
    r->busy_end = vns_ctx_now(ctx) + net->busyloop_ns;
    if (poll_rx)
        net->rx.busy_polls++;
    else
        net->tx.busy_polls++;
    return true;
}

/* vhost_net_busy_poll_try_queue */
static void busy_poll_try_queue(struct vhost_net_virtqueue *vq, struct vns_ctx *ctx)
{
    if (!vq->dq)
        return;
    if (!vns_devq_avail_empty(vq->dq, ctx)) {
        vns_vhost_poll_queue(&vq->vq.poll, ctx);
    } else if (vns_devq_enable_notify(vq->dq, ctx)) {
        vns_devq_disable_notify(vq->dq, ctx);
        vns_vhost_poll_queue(&vq->vq.poll, ctx);
    }
}

/* One step of the spin. Returns true while it goes on. */
static bool busy_poll_step(struct vns_vhost_net *net, struct vhost_net_run *r, struct vns_ctx *ctx)
{
    struct vhost_net_virtqueue *rnvq = &net->vqs[VNS_VHOST_NET_VQ_RX];
    struct vhost_net_virtqueue *tnvq = &net->vqs[VNS_VHOST_NET_VQ_TX];
    bool stop = false;

    if (vns_vhost_has_work(net->dev)) {
        r->busyloop_intr = true;
        stop = true;
    } else if ((sock_has_rx_data(rnvq) && !vq_avail_empty(rnvq, ctx)) || !vq_avail_empty(tnvq, ctx)) {
        stop = true;
    } else if (vns_ctx_now(ctx) >= r->busy_end) {
        stop = true;
    }
    if (!stop) {
        uint64_t ns = 20 * vns_cost_of(vns_sim_costs(net->sim), VNS_FN_vhost_busy_poll_spin, 0);

        vns_charge_ns(ctx, ns);
        if (r->busy_rx)
            net->rx.busy_poll_ns += ns;
        else
            net->tx.busy_poll_ns += ns;
        return true;
    }
    if (r->busy_rx || sock_has_rx_data(rnvq))
        busy_poll_try_queue(r->busy_rx ? tnvq : rnvq, ctx);
    else if (rnvq->dq)   /* On tx here, sock has no rx data. */
        vns_devq_enable_notify(rnvq->dq, ctx);
    r->busy = false;
    r->after_busy = true;
    return false;
}

/* One iteration of handle_tx_copy's do { } while loop. */
static int handle_tx_copy_one(struct vns_vhost_net *net, struct vhost_net_virtqueue *nvq,
                              struct vns_ctx *ctx)
{
    struct vhost_net_run *r = &nvq->run;
    struct vns_msghdr msg = {.flags = VNS_MSG_DONTWAIT};
    size_t len = 0;
    int head, err;

    if (nvq->done_idx == VNS_VHOST_NET_BATCH && !r->after_busy)
        vhost_tx_batch(net, nvq, ctx);
    if (!r->after_busy)
        r->busyloop_intr = false;
    head = get_tx_bufs(net, nvq, &msg, &len, ctx);
    if (head == -VNS_EAGAIN && net->busyloop_ns && !r->after_busy && ctx) {
        /* vhost_net_tx_get_vq_desc: flush batched packets first, then spin */
        vhost_tx_batch(net, nvq, ctx);
        if (busy_poll_start(net, r, false, ctx))
            return LOOP_BUSY;
    }
    r->after_busy = false;
    if (head == -VNS_EAGAIN) {
        if (r->busyloop_intr) {
            vns_vhost_poll_queue(&nvq->vq.poll, ctx);
            net->tx.empty++;
            return LOOP_BREAK;
        }
        /* Nothing new? Wait for eventfd to tell us they refilled. */
        if (vns_devq_enable_notify(nvq->dq, ctx)) {
            net->tx.notify_races++;
            vns_devq_disable_notify(nvq->dq, ctx);
            return LOOP_NEXT;
        }
        net->tx.empty++;
        return LOOP_BREAK;
    }
    /* On error, stop handling until the next kick. */
    if (head < 0)
        return LOOP_BREAK;
    r->total_len += len;
    if (r->sock_can_batch) {
        err = vhost_net_build_xdp(net, nvq, &msg.iter, ctx);
        if (!err)
            goto done;
        if (err != -VNS_ENOSPC) {
            vhost_tx_batch(net, nvq, ctx);
            vns_devq_discard_vq_desc(nvq->dq, 1, ctx);
            net->tx.sendmsg_errors++;
            vhost_net_enable_vq(net, VNS_VHOST_NET_VQ_TX, ctx);
            return LOOP_BREAK;
        }
        /* We can't build XDP buff, go for single packet path but let's
         * flush batched packets. */
        net->tx.enospc++;
        vhost_tx_batch(net, nvq, ctx);
        msg.control = NULL;
    } else {
        /* tx_can_batch */
        if (r->total_len < VNS_VHOST_NET_WEIGHT && !vns_devq_avail_empty(nvq->dq, ctx))
            msg.flags |= VNS_MSG_MORE;
        else
            msg.flags &= ~VNS_MSG_MORE;
    }
    err = nvq->sock->ops->sendmsg(ctx, nvq->sock, &msg, len);
    if (err < 0) {
        vns_devq_discard_vq_desc(nvq->dq, 1, ctx);
        net->tx.sendmsg_errors++;
        vhost_net_enable_vq(net, VNS_VHOST_NET_VQ_TX, ctx);
        return LOOP_BREAK;
    }
    /* err != len: "Truncated TX packet" (still consumed) */
    net->tx.direct++;
done:
    net->tx.packets++;
    net->tx.bytes += len;
    nvq->heads[nvq->done_idx].id = (uint32_t)head;
    nvq->heads[nvq->done_idx].len = 0;
    ++nvq->done_idx;
    return LOOP_NEXT;
}

/* handle_tx (+ handle_tx_copy): the work of handle_tx_kick and
 * handle_tx_net; one packet per step. */
static int handle_tx(struct vns_vhost_net *net, struct vns_ctx *ctx)
{
    struct vhost_net_virtqueue *nvq = &net->vqs[VNS_VHOST_NET_VQ_TX];
    struct vhost_net_run *r = &nvq->run;
    int res;

    if (!r->active) {
        net->tx.runs++;
        vns_fn_enter(ctx, VNS_FN_handle_tx);
        if (!nvq->sock || !nvq->dq)
            return VNS_STEP_DONE;
        vns_devq_disable_notify(nvq->dq, ctx);
        vhost_net_disable_vq(net, VNS_VHOST_NET_VQ_TX);
        vns_fn_enter(ctx, VNS_FN_handle_tx_copy);
        *r = (struct vhost_net_run){.active = true,
                                    .sock_can_batch = nvq->sock->sk_sndbuf == INT_MAX};
    }
    if (r->busy && busy_poll_step(net, r, ctx))
        return VNS_STEP_AGAIN;
    res = handle_tx_copy_one(net, nvq, ctx);
    if (res == LOOP_BUSY)
        return VNS_STEP_AGAIN;
    if (res == LOOP_NEXT) {
        if (!vhost_exceeds_weight(nvq, ++r->pkts, r->total_len, ctx))
            return VNS_STEP_AGAIN;
        net->tx.weight_exits++;
    }
    vhost_tx_batch(net, nvq, ctx);
    r->active = false;
    return VNS_STEP_DONE;      /* the frames go with the work's continuation */
}

static int handle_tx_kick(struct vns_vhost_work *work, struct vns_ctx *ctx)
{
    return handle_tx(work->arg, ctx);
}

static int handle_tx_net(struct vns_vhost_work *work, struct vns_ctx *ctx)
{
    return handle_tx(work->arg, ctx);
}

/* --- RX ---------------------------------------------------------------------------- */

static int vhost_net_buf_peek(struct vns_vhost_net *net, struct vhost_net_virtqueue *nvq,
                              struct vns_ctx *ctx)
{
    const struct vns_skb *skb;

    if (nvq->rxq_head == nvq->rxq_tail) {
        vns_fn_enter(ctx, VNS_FN_vhost_net_buf_produce);
        nvq->rxq_head = 0;
        nvq->rxq_tail = vns_ptr_ring_consume_batched(nvq->sock->rx_ring, nvq->rxq, VNS_VHOST_NET_BATCH);
        vns_fn_exit(ctx);
        if (!nvq->rxq_tail)
            return 0;
        net->rx.ring_batches++;
    }
    /* vhost_net_buf_peek_len: __skb_array_len_with_tag (no VLAN tags) */
    skb = nvq->rxq[nvq->rxq_head];
    return (int)skb->len;
}

static void vhost_net_buf_unproduce(struct vhost_net_virtqueue *nvq)
{
    if (nvq->sock && nvq->sock->rx_ring && nvq->rxq_head != nvq->rxq_tail) {
        vns_ptr_ring_unconsume(nvq->sock->rx_ring, nvq->rxq + nvq->rxq_head,
                               nvq->rxq_tail - nvq->rxq_head, nvq->sock->ptr_free);
    }
    nvq->rxq_head = nvq->rxq_tail = 0;
}

static size_t vhost_net_rx_peek_head_len(struct vns_vhost_net *net, struct vhost_net_virtqueue *nvq,
                                         struct vns_ctx *ctx)
{
    int len;

    vns_fn_enter(ctx, VNS_FN_vhost_net_rx_peek_head_len);
    if (nvq->sock->rx_ring)
        len = vhost_net_buf_peek(net, nvq, ctx);
    else
        len = nvq->sock->ops->peek_len ? nvq->sock->ops->peek_len(nvq->sock) : 0;
    vns_fn_exit(ctx);
    return len > 0 ? (size_t)len : 0;
}

/* get_rx_bufs: heads for @datalen bytes; returns their count, 0 when the
 * guest has none, UIO_MAXIOV + 1 on overrun, or an error. */
static int get_rx_bufs(struct vns_vhost_net *net, struct vhost_net_virtqueue *nvq,
                       struct vns_used_elem *heads, int datalen, unsigned *iovcount,
                       unsigned quota, struct vns_ctx *ctx)
{
    unsigned out, in, seg = 0;
    int headcount = 0, r;
    uint32_t len = 0;

    vns_fn_enter(ctx, VNS_FN_get_rx_bufs);
    while (datalen > 0 && (unsigned)headcount < quota) {
        if (seg >= VNS_UIO_MAXIOV) {
            r = -VNS_ENOBUFS;
            goto err;
        }
        r = vns_devq_get_vq_desc(nvq->dq, nvq->iov + seg, VNS_UIO_MAXIOV - seg, &out, &in, ctx);
        if (r == -VNS_EAGAIN) {
            r = 0;
            goto err;
        }
        if (r < 0) {
            net->rx.ring_errors++;
            goto err;
        }
        if (out || in == 0) {
            vq_err(ctx);   /* "unexpected descriptor format for RX: out %d, in %d" */
            net->rx.format_errors++;
            headcount++;   /* this head was fetched: give it back too */
            r = -VNS_EINVAL;
            goto err;
        }
        heads[headcount].id = (uint32_t)r;
        len = (uint32_t)vns_iov_length(nvq->iov + seg, in);
        heads[headcount].len = len;
        datalen -= (int)len;
        ++headcount;
        seg += in;
    }
    heads[headcount - 1].len = (uint32_t)((int)len + datalen);
    *iovcount = seg;
    /* Detect overrun */
    if (datalen > 0) {
        r = VNS_UIO_MAXIOV + 1;
        goto err;
    }
    vns_fn_exit(ctx);
    return headcount;
err:
    /* LINUX: vhost discards the heads gathered before the failing fetch;
     * the one that failed the format check was fetched too and is given
     * back with them here (vhost leaves it consumed, unused). */
    vns_devq_discard_vq_desc(nvq->dq, (unsigned)headcount, ctx);
    vns_fn_exit(ctx);
    return r;
}

/* One iteration of handle_rx's loop. LOOP_BREAK leaves the loop (then the
 * socket poll is re-armed if the socket was empty); -1 = goto out. */
static int handle_rx_one(struct vns_vhost_net *net, struct vhost_net_virtqueue *nvq,
                         struct vns_ctx *ctx)
{
    struct vhost_net_run *r = &nvq->run;
    bool mergeable = has_feature(net, VNS_VIRTIO_NET_F_MRG_RXBUF);
    struct vns_msghdr msg = {.flags = VNS_MSG_DONTWAIT};
    struct vns_iov_iter fixup;
    size_t vhost_len;
    unsigned in = 0;
    int headcount, err;

    r->sock_len = vhost_net_rx_peek_head_len(net, nvq, ctx);
    if (!r->sock_len && net->busyloop_ns && !r->after_busy && ctx) {
        /* Flush batched heads first; both tx vq and rx socket are polled */
        vhost_net_signal_used(nvq, &net->rx.used_flushes, ctx);
        if (busy_poll_start(net, r, true, ctx))
            return LOOP_BUSY;
    }
    r->after_busy = false;
    if (!r->sock_len)
        return LOOP_BREAK;
    r->sock_len += nvq->sock_hlen;
    vhost_len = r->sock_len + nvq->vhost_hlen;
    headcount = get_rx_bufs(net, nvq, nvq->heads + nvq->done_idx, (int)vhost_len, &in,
                            mergeable ? VNS_UIO_MAXIOV : 1, ctx);
    /* On error, stop handling until the next kick. */
    if (headcount < 0)
        return -1;
    /* OK, now we need to know about added descriptors. */
    if (!headcount) {
        if (r->busyloop_intr) {
            vns_vhost_poll_queue(&nvq->vq.poll, ctx);
            net->rx.no_buffers++;
            return -1;
        }
        if (vns_devq_enable_notify(nvq->dq, ctx)) {
            /* They have slipped one in as we were doing that: check again. */
            net->rx.notify_races++;
            vns_devq_disable_notify(nvq->dq, ctx);
            return LOOP_NEXT;
        }
        /* Nothing new? Wait for eventfd to tell us they refilled. */
        net->rx.no_buffers++;
        return -1;
    }
    r->busyloop_intr = false;
    if (nvq->sock->rx_ring)
        msg.control = nvq->rxq[nvq->rxq_head++];       /* vhost_net_buf_consume */
    /* On overrun, truncate and discard */
    if (headcount > VNS_UIO_MAXIOV) {
        vns_iov_iter_init(&msg.iter, net->mem, nvq->iov, 1, 1);
        msg.iter.syn = net->syn;
        nvq->sock->ops->recvmsg(ctx, nvq->sock, &msg, 1, VNS_MSG_DONTWAIT | VNS_MSG_TRUNC);
        net->rx.overruns++;       /* "Discarded rx packet: len %zd" */
        return LOOP_NEXT;
    }
    /* We don't need to be notified again. */
    vns_iov_iter_init(&msg.iter, net->mem, nvq->iov, in, vhost_len);
    msg.iter.syn = net->syn;
    fixup = msg.iter;
    if (nvq->vhost_hlen)
        vns_iov_iter_advance(&msg.iter, nvq->vhost_hlen);
    err = nvq->sock->ops->recvmsg(ctx, nvq->sock, &msg, r->sock_len,
                                  VNS_MSG_DONTWAIT | VNS_MSG_TRUNC);
    if (err < 0 || (size_t)err != r->sock_len) {
        /* "Discarded rx packet: len %d, expected %zd" */
        net->rx.discarded++;
        vns_devq_discard_vq_desc(nvq->dq, (unsigned)headcount, ctx);
        return LOOP_NEXT;
    }
    if (nvq->vhost_hlen) {
        uint8_t hdr[VNS_VIRTIO_NET_HDR_LEN] = {0};   /* flags 0, GSO_NONE */

        if (vns_copy_to_iter(ctx, &fixup, hdr, sizeof(hdr)) != sizeof(hdr)) {
            vq_err(ctx);   /* "Unable to write vnet_hdr at addr %p" */
            net->rx.format_errors++;
            return -1;
        }
    } else {
        /* Header came from socket; we'll need to patch ->num_buffers over */
        vns_iov_iter_advance(&fixup, VNS_VIRTIO_NET_HDR_LEN);
    }
    if (mergeable) {
        uint8_t nb[2];

        vns_le16_store(nb, (uint16_t)headcount);
        if (vns_copy_to_iter(ctx, &fixup, nb, 2) != 2) {
            vq_err(ctx);   /* "Failed num_buffers write" */
            net->rx.format_errors++;
            vns_devq_discard_vq_desc(nvq->dq, (unsigned)headcount, ctx);
            return -1;
        }
    }
    net->rx.packets++;
    net->rx.bytes += r->sock_len - nvq->sock_hlen;
    net->rx.buffers += (uint64_t)headcount;
    nvq->done_idx += headcount;
    if (nvq->done_idx > VNS_VHOST_NET_BATCH)
        vhost_net_signal_used(nvq, &net->rx.used_flushes, ctx);
    r->total_len += vhost_len;
    return LOOP_NEXT;
}

static int handle_rx(struct vns_vhost_net *net, struct vns_ctx *ctx)
{
    struct vhost_net_virtqueue *nvq = &net->vqs[VNS_VHOST_NET_VQ_RX];
    struct vhost_net_run *r = &nvq->run;
    int res;

    if (!r->active) {
        net->rx.runs++;
        vns_fn_enter(ctx, VNS_FN_handle_rx);
        if (!nvq->sock || !nvq->dq)
            return VNS_STEP_DONE;
        vns_devq_disable_notify(nvq->dq, ctx);
        vhost_net_disable_vq(net, VNS_VHOST_NET_VQ_RX);
        *r = (struct vhost_net_run){.active = true};
    }
    if (r->busy && busy_poll_step(net, r, ctx))
        return VNS_STEP_AGAIN;
    res = handle_rx_one(net, nvq, ctx);
    if (res == LOOP_BUSY)
        return VNS_STEP_AGAIN;
    if (res == LOOP_NEXT) {
        if (!vhost_exceeds_weight(nvq, ++r->pkts, r->total_len, ctx))
            return VNS_STEP_AGAIN;
        net->rx.weight_exits++;
    }
    if (res != -1 && r->busyloop_intr)
        vns_vhost_poll_queue(&nvq->vq.poll, ctx);
    else if (res != -1 && !r->sock_len)
        vhost_net_enable_vq(net, VNS_VHOST_NET_VQ_RX, ctx);
    /* out: */
    vhost_net_signal_used(nvq, &net->rx.used_flushes, ctx);
    r->active = false;
    return VNS_STEP_DONE;
}

static int handle_rx_kick(struct vns_vhost_work *work, struct vns_ctx *ctx)
{
    return handle_rx(work->arg, ctx);
}

static int handle_rx_net(struct vns_vhost_work *work, struct vns_ctx *ctx)
{
    return handle_rx(work->arg, ctx);
}

/* --- setup ------------------------------------------------------------------------------ */

int vns_vhost_net_create(struct vns_sim *sim, const struct vns_vhost_net_config *cfg,
                         struct vns_vhost_net **out)
{
    struct vns_vhost_net *net;
    size_t hdr_len;
    int err;

    if (!cfg || !cfg->cpu || !cfg->table)
        return -VNS_EINVAL;
    net = vns_calloc(1, sizeof(*net));
    if (!net)
        return -VNS_ENOMEM;
    net->sim = sim;
    net->table = cfg->table;
    net->mem = vns_gmem_table_mem(cfg->table);
    net->features = cfg->features;
    net->busyloop_ns = VNS_USEC(cfg->busyloop_timeout_us);
    net->syn = cfg->synmap;
    net->xdp_pages = vns_malloc((size_t)VNS_VHOST_NET_BATCH * VNS_XDP_BUF_SIZE);
    if (!net->xdp_pages) {
        err = -VNS_ENOMEM;
        goto free_net;
    }
    err = vns_vhost_dev_create(sim, &(struct vns_vhost_dev_config){.name = cfg->name, .cpu = cfg->cpu},
                               &net->dev);
    if (err)
        goto free_pages;
    for (unsigned i = 0; i < VNS_VHOST_NET_BATCH; i++)
        net->vqs[VNS_VHOST_NET_VQ_TX].xdp[i].data_hard_start = net->xdp_pages + (size_t)i * VNS_XDP_BUF_SIZE;
    /* vhost_net_set_features: header lengths */
    hdr_len = (has_feature(net, VNS_VIRTIO_NET_F_MRG_RXBUF) || has_feature(net, VNS_VIRTIO_F_VERSION_1))
                  ? VNS_VIRTIO_NET_HDR_MRG_LEN : VNS_VIRTIO_NET_HDR_LEN;
    for (unsigned i = 0; i < VNS_VHOST_NET_VQ_MAX; i++) {
        struct vhost_net_virtqueue *nvq = &net->vqs[i];

        if (has_feature(net, VNS_VHOST_NET_F_VIRTIO_NET_HDR)) {
            nvq->vhost_hlen = hdr_len;
            nvq->sock_hlen = 0;
        } else {
            nvq->vhost_hlen = 0;
            nvq->sock_hlen = hdr_len;
        }
    }
    vns_vhost_poll_init(&net->poll[VNS_VHOST_NET_VQ_TX].poll, net->dev, handle_tx_net, VNS_FN_handle_tx_net, net);
    vns_vhost_poll_init(&net->poll[VNS_VHOST_NET_VQ_RX].poll, net->dev, handle_rx_net, VNS_FN_handle_rx_net, net);
    for (unsigned i = 0; i < VNS_VHOST_NET_VQ_MAX; i++) {
        net->poll[i].wait = (struct vns_sock_wait){.fn = net_poll_wake, .arg = &net->poll[i],
                                                   .mask = i == VNS_VHOST_NET_VQ_TX ? VNS_EPOLLOUT : VNS_EPOLLIN};
    }
    *out = net;
    return 0;

free_pages:
    vns_free(net->xdp_pages);
free_net:
    vns_free(net);
    return err;
}

void vns_vhost_net_destroy(struct vns_vhost_net *net)
{
    if (!net)
        return;
    for (unsigned i = 0; i < VNS_VHOST_NET_VQ_MAX; i++) {
        vhost_net_disable_vq(net, i);
        if (i == VNS_VHOST_NET_VQ_RX)
            vhost_net_buf_unproduce(&net->vqs[i]);
    }
    vns_vhost_dev_destroy(net->dev);
    for (unsigned i = 0; i < VNS_VHOST_NET_VQ_MAX; i++)
        vns_devq_destroy(net->vqs[i].dq);
    vns_free(net->xdp_pages);
    vns_free(net);
}

int vns_vhost_net_set_vring(struct vns_vhost_net *net, unsigned index, enum vns_virtq_layout layout,
                            uint32_t num, const struct vns_virtq_addr *addr, struct vns_irq *call)
{
    struct vhost_net_virtqueue *nvq;
    struct vns_devq *dq = NULL;
    int err;

    if (index >= VNS_VHOST_NET_VQ_MAX)
        return -VNS_ENOBUFS;
    nvq = &net->vqs[index];
    if (nvq->sock)
        return -VNS_EBUSY;
    err = vns_devq_create(net->table,
                          &(struct vns_devq_config){
                              .layout = layout, .num = num, .addr = *addr,
                              .event_idx = has_feature(net, VNS_VIRTIO_RING_F_EVENT_IDX),
                              .notify_on_empty = has_feature(net, VNS_VIRTIO_F_NOTIFY_ON_EMPTY),
                              .signal = vns_vhost_vq_call, .signal_arg = &nvq->vq},
                          &dq);
    if (err)
        return err;
    vns_devq_destroy(nvq->dq);
    nvq->dq = dq;
    if (index == VNS_VHOST_NET_VQ_TX)
        vns_vhost_vq_init(&nvq->vq, net->dev, dq, call, handle_tx_kick, VNS_FN_handle_tx_kick, net);
    else
        vns_vhost_vq_init(&nvq->vq, net->dev, dq, call, handle_rx_kick, VNS_FN_handle_rx_kick, net);
    return 0;
}

int vns_vhost_net_set_backend(struct vns_vhost_net *net, unsigned index, struct vns_socket *sock)
{
    struct vhost_net_virtqueue *nvq;

    if (index >= VNS_VHOST_NET_VQ_MAX)
        return -VNS_ENOBUFS;
    nvq = &net->vqs[index];
    if (!nvq->dq)
        return -VNS_EFAULT;
    if (nvq->sock == sock)
        return 0;
    vhost_net_disable_vq(net, index);
    if (index == VNS_VHOST_NET_VQ_RX)
        vhost_net_buf_unproduce(nvq);
    nvq->sock = sock;
    if (sock) {
        vhost_net_enable_vq(net, index, NULL);
    }
    return 0;
}

void vns_vhost_net_kick(struct vns_vhost_net *net, unsigned index, struct vns_ctx *guest)
{
    if (index < VNS_VHOST_NET_VQ_MAX && net->vqs[index].dq)
        vns_vhost_vq_kick(&net->vqs[index].vq, guest);
}

struct vns_vhost_vq *vns_vhost_net_vq(struct vns_vhost_net *net, unsigned index)
{
    return index < VNS_VHOST_NET_VQ_MAX ? &net->vqs[index].vq : NULL;
}

struct vns_vhost_dev *vns_vhost_net_dev(const struct vns_vhost_net *net) { return net->dev; }

const struct vns_vhost_net_tx_stats *vns_vhost_net_tx_stats(const struct vns_vhost_net *net)
{
    return &net->tx;
}

const struct vns_vhost_net_rx_stats *vns_vhost_net_rx_stats(const struct vns_vhost_net *net)
{
    return &net->rx;
}

unsigned vns_vhost_net_rx_held(const struct vns_vhost_net *net)
{
    const struct vhost_net_virtqueue *nvq = &net->vqs[VNS_VHOST_NET_VQ_RX];

    return (unsigned)(nvq->rxq_tail - nvq->rxq_head);
}
