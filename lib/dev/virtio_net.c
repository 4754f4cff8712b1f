/* lib/dev/virtio_net.c -- the virtio-net guest driver. LINUX:
 * drivers/net/virtio_net.c of linux-5.4 (start_xmit, xmit_skb,
 * free_old_xmit_skbs, skb_xmit_done, virtnet_poll_tx, virtnet_poll,
 * virtnet_poll_cleantx, virtnet_receive, receive_buf, receive_mergeable,
 * receive_small, try_fill_recv, add_recvbuf_mergeable, add_recvbuf_small,
 * get_mergeable_buf_len, mergeable_min_buf_len, virtqueue_napi_schedule,
 * virtqueue_napi_complete, skb_recv_done, refill_work, virtnet_open).
 *
 * 5.4 defaults: napi_tx = 1 (since 5.3; config no_napi_tx models 0: then
 * start_xmit alone reclaims, and arms the TX interrupt only when it stops
 * the queue, whose handler wakes it): TX buffers are reclaimed in
 * start_xmit, by TX NAPI after the TX interrupt (virtnet_poll_tx) and from
 * the RX poll; start_xmit arms the TX interrupt with enable_cb_delayed and
 * only stops the queue when fewer than 2 + MAX_SKB_FRAGS slots are left
 * (TX NAPI wakes it). kick = !netdev_xmit_more(): true for all but the
 * last skb of a list dev_hard_start_xmit walks. 5.4's virtio_net has no
 * BQL (netdev_tx_sent_queue came in 6.x), so qdisc_avail_bulklimit is 0
 * and pfifo_fast never bulk-dequeues: the lists are the GSO segments
 * validate_xmit_skb makes when the device lacks TSO (a guest without
 * HOST_TSO4); one kick_prepare covers them. Otherwise the kicks saved
 * come from EVENT_IDX / NO_NOTIFY.
 *
 * Guest memory: the rings, their indirect tables, one TX staging buffer
 * per ring slot (the bytes of the header and the skb the descriptors point
 * at: in the kernel the sg entries point into the skb itself) and the RX
 * buffers, all from the guest allocator. Mergeable and small RX buffers
 * are carved from the receive queue's page_frag as in 5.4
 * (add_recvbuf_mergeable, add_recvbuf_small, skb_page_frag_refill of
 * net/core/sock.c): 32 KiB compound pages (SKB_FRAG_PAGE_ORDER 3, a 4 KiB
 * page if that fails), each buffer holding a reference; a mergeable buffer
 * is get_mergeable_buf_len() bytes (1536 for small packets: about 21 to a
 * page) and takes the rest of the page when another would not fit (the
 * "hole"); its truesize travels in the token as in the kernel's ctx. The
 * page is freed when its last buffer is received and the page_frag has let
 * go of it, or reused from offset 0 by the page_frag when only it still
 * holds it. Big-mode buffers keep MAX_SKB_FRAGS + 1 pages each. Payload
 * crosses the guest boundary through the synthetic-payload records of
 * backend_sock.h when the caller gives a map (config .synmap), else as real
 * bytes. Simplified: no XDP (no headroom: 5.4 and later agree), no control
 * vq (queue pairs are set at creation), no RX hash; receive copies the
 * bytes into the skb and drops the buffer's page reference at once (the
 * kernel's skb keeps frag pages until it is freed); multiqueue picks the TX
 * queue by skb->hash (lib/net has one netdev tx queue: stopping any virtio
 * TX queue stops it); the delayed refill runs from a timer with no context
 * (not costed). */
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/backend_sock.h"
#include "vnetsim/cpu.h"
#include "vnetsim/error.h"
#include "vnetsim/kernel.h"
#include "vnetsim/napi.h"
#include "vnetsim/netdev.h"
#include "vnetsim/sim.h"
#include "vnetsim/skb.h"
#include "vnetsim/flow_book.h"
#include "vnetsim/virtio_net.h"

#define MAX_SKB_FRAGS VNS_MAX_SKB_FRAGS
#define TX_STAGE_SIZE (65536u + 4096u)     /* header + a 64 KiB GSO frame, page aligned */
/* skb_page_frag_refill: SKB_FRAG_PAGE_ORDER = get_order(32768) */
#define FRAG_PAGE_SIZE 32768u
/* add_recvbuf_small: VIRTNET_RX_PAD = NET_IP_ALIGN + NET_SKB_PAD, and the
 * skb_shared_info (320 bytes on x86_64 5.4) build_skb puts at the end */
#define VIRTNET_RX_PAD  (VNS_NET_IP_ALIGN + VNS_NET_SKB_PAD)
#define SKB_SHINFO_SIZE 320u
#define NO_PAGE         UINT32_MAX
/* big mode: a chain of MAX_SKB_FRAGS + 1 pages; header and data share the
 * first page (data from padded_vnet_hdr, 32 bytes, on) */
#define BIG_PAGES (MAX_SKB_FRAGS + 1)
#define BIG_SGS (MAX_SKB_FRAGS + 2)
#define PADDED_VNET_HDR 32u
#define MAX_QP 16
#define L1_CACHE_BYTES 64u
#define IP_MAX_MTU 65535u
#define MRG_MAX_BUFS 1024     /* num_buffers this model follows (the kernel: until one is missing) */

struct vq_notify {
    struct vns_virtnet *vi;
    unsigned index;                 /* virtqueue index: rxN = 2N, txN = 2N + 1 */
};

struct txbuf {                      /* the token of a TX buffer */
    struct vns_skb *skb;
    uint32_t slot;
};

struct rxbuf {     /* the token of an RX buffer (buf + ctx) */
    uint64_t gpa;  /* its header */
    uint32_t len;  /* mergeable: truesize (the ctx); else the posted length */
    uint32_t page; /* the frag page it holds a reference on, or NO_PAGE */
    uint32_t next_free;
};

struct frag_page { /* a compound page RX buffers are carved from */
    uint64_t gpa;
    uint32_t size; /* FRAG_PAGE_SIZE or VNS_PAGE_SIZE; 0 = record unused */
    uint32_t refs; /* page_ref_count: its buffers + the page_frag's */
};

struct send_queue {
    struct vns_virtnet *vi;
    unsigned qp;
    struct vq_notify nt;
    struct vns_virtq *vq;
    struct vns_irq irq;
    struct vns_napi_struct napi;
    uint64_t ring_gpa, ring_size, ind_gpa, ind_size;
    uint64_t stage_gpa;             /* num staging buffers */
    struct txbuf *tok;              /* [num] */
    uint32_t *free_slots;           /* stack */
    uint32_t nfree;
    unsigned corrupt;               /* hostile mode: buffers left to corrupt */
    enum vns_devq_err corrupt_kind;
    bool stopped;
    struct vns_virtnet_sq_stats stats;
};

struct receive_queue {
    struct vns_virtnet *vi;
    unsigned qp;
    struct vq_notify nt;
    struct vns_virtq *vq;
    struct vns_irq irq;
    struct vns_napi_struct napi;
    uint64_t ring_gpa, ring_size, ind_gpa, ind_size;
    uint64_t buf_gpa;               /* big mode: nbufs chains of BIG_PAGES pages */
    struct rxbuf *bufs;
    uint32_t nbufs;
    uint32_t free_head;             /* free list through next_free; UINT32_MAX = none */
    struct frag_page *pages;        /* [npages]; unused records have size 0 */
    uint32_t npages;
    uint32_t frag_page;             /* alloc_frag.page, or NO_PAGE */
    uint32_t frag_offset;           /* alloc_frag.offset */
    uint32_t ewma;                  /* mrg_avg_pkt_len internal (precision 0) */
    uint32_t min_buf_len;
    bool in_poll;
    bool refill_pending;
    struct vns_timer refill;        /* the delayed refill work */
    struct vns_virtnet_rq_stats stats;
};

struct vns_virtnet {
    struct vns_kernel *k;
    struct vns_sim *sim;
    struct vns_net_device *dev;
    struct vns_gmem *mem;
    struct vns_galloc *ga;
    uint64_t features;
    enum vns_virtq_layout layout;
    uint32_t num;
    uint32_t rx_buffers;
    unsigned hdr_len;
    bool mergeable, any_header_sg, big_packets;
    bool napi_tx;
    bool ignore_xmit_more; /* config what-if: kick as if netdev_xmit_more() were false */
    unsigned qps;
    struct send_queue sq[MAX_QP];
    struct receive_queue rq[MAX_QP];
    struct vns_synmap *syn;         /* synthetic-payload records, or NULL */
    struct vns_ctx *cur_ctx;        /* the guest context in its step (for notify) */
    vns_virtnet_notify_fn notify;
    void *notify_arg;
    bool rx_oom;                    /* fault: receive buffer allocation fails */
    bool rx_stopped;                /* fault: the driver posts no receive buffers */
};

struct virtnet_priv {
    struct vns_virtnet *vi;
};

static bool virtnet_has(const struct vns_virtnet *vi, unsigned bit)
{
    return vns_virtio_has(vi->features, bit);
}

/* The transport (vp_notify): the write traps to the host. */
static bool virtnet_vq_notify(struct vns_virtq *vq, void *arg)
{
    struct vq_notify *nt = arg;

    (void)vq;
    if (!nt->vi->notify)
        return true;
    return nt->vi->notify(nt->vi->notify_arg, nt->index, nt->vi->cur_ctx);
}

/* --- TX ---------------------------------------------------------------------------- */

/* free_old_xmit_skbs: reap what the device used. Returns packets freed. */
static unsigned free_old_xmit_skbs(struct send_queue *sq, struct vns_ctx *ctx)
{
    unsigned packets = 0;
    uint64_t bytes = 0;
    struct txbuf *t;
    uint32_t len;

    vns_fn_enter(ctx, VNS_FN_free_old_xmit_skbs);
    while ((t = vns_virtq_get_buf(sq->vq, &len, ctx)) != NULL) {
        bytes += t->skb->len;
        packets++;
        vns_consume_skb(t->skb);
        t->skb = NULL;
        sq->free_slots[sq->nfree++] = t->slot;
    }
    /* Avoid overhead when no packets have been processed. */
    if (packets) {
        sq->stats.packets += packets;
        sq->stats.bytes += bytes;
    }
    vns_fn_exit(ctx);
    return packets;
}

/* Write @len bytes of @skb from @off to guest memory at @gpa. */
static int skb_to_guest(struct vns_gmem *mem, const struct vns_skb *skb, uint32_t off, uint32_t len,
                        uint64_t gpa)
{
    uint8_t buf[2048];

    while (len) {
        uint32_t c = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);

        if (vns_skb_copy_bits(skb, off, buf, c) < 0 || vns_gmem_copy_in(mem, gpa, buf, c) < 0)
            return -VNS_EFAULT;
        off += c;
        gpa += c;
        len -= c;
    }
    return 0;
}

/* Hostile-guest mode: corrupt the chain just added (split) so that the
 * device's check sq->corrupt_kind fails. */
static void corrupt_last_add(struct send_queue *sq)
{
    struct vns_gmem *m = sq->vi->mem;
    const struct vns_virtq_addr *a = vns_virtq_addr(sq->vq);
    uint32_t num = vns_virtq_get_vring_size(sq->vq);
    uint16_t idx = vns_gmem_read_le16(m, a->avail + 2);
    uint64_t slot = a->avail + 4 + 2u * ((uint16_t)(idx - 1) & (num - 1));
    uint16_t head = vns_gmem_read_le16(m, slot);
    uint64_t d = a->desc + 16u * (head % num);
    uint16_t flags = vns_gmem_read_le16(m, d + 12);
    uint16_t next = vns_gmem_read_le16(m, d + 14);

    switch (sq->corrupt_kind) {
    case VNS_DEVQ_ERR_HEAD:
        vns_gmem_write_le16(m, slot, (uint16_t)(num + head));
        break;
    case VNS_DEVQ_ERR_AVAIL_IDX:
        vns_gmem_write_le16(m, a->avail + 2, (uint16_t)(idx + num + 1));
        break;
    case VNS_DEVQ_ERR_DESC_INDEX:
        vns_gmem_write_le16(m, d + 12, (uint16_t)(flags | VNS_VRING_DESC_F_NEXT));
        vns_gmem_write_le16(m, d + 14, (uint16_t)(num + 7));
        break;
    case VNS_DEVQ_ERR_LOOP:
        vns_gmem_write_le16(m, d + 12, (uint16_t)(flags | VNS_VRING_DESC_F_NEXT));
        vns_gmem_write_le16(m, d + 14, head);
        break;
    case VNS_DEVQ_ERR_TRANSLATE:
        vns_gmem_write_le64(m, d, 1ull << 60);
        break;
    case VNS_DEVQ_ERR_OUT_AFTER_IN:
        /* the head writable, the next one readable */
        if (flags & VNS_VRING_DESC_F_NEXT)
            vns_gmem_write_le16(m, d + 12, (uint16_t)(flags | VNS_VRING_DESC_F_WRITE));
        (void)next;
        break;
    case VNS_DEVQ_ERR_INDIRECT_LEN:
        if (flags & VNS_VRING_DESC_F_INDIRECT)
            vns_gmem_write_le32(m, d + 8, vns_gmem_read_le32(m, d + 8) + 1);
        break;
    case VNS_DEVQ_ERR_INDIRECT_NESTED:
        if (flags & VNS_VRING_DESC_F_INDIRECT) {
            uint64_t t = vns_gmem_read_le64(m, d);

            vns_gmem_write_le16(m, t + 12, (uint16_t)(vns_gmem_read_le16(m, t + 12) | VNS_VRING_DESC_F_INDIRECT));
        }
        break;
    default:
        break;
    }
}

static int xmit_skb(struct send_queue *sq, struct vns_skb *skb, struct vns_ctx *ctx)
{
    struct vns_virtnet *vi = sq->vi;
    struct vns_sg sg[MAX_SKB_FRAGS + 2];
    struct vns_virtio_net_hdr h;
    uint8_t hb[VNS_VIRTIO_NET_HDR_MRG_LEN];
    unsigned hdr_len = vi->hdr_len, num_sg = 0;
    /* the linear part as the kernel's skb has it; of it, @real bytes are
     * in memory and the rest is a syn_linear range */
    uint32_t headlen = vns_skb_kernel_headlen(skb), real = vns_skb_headlen(skb);
    uint32_t rest = skb->len - headlen, slot;
    uint64_t gpa, p;
    bool can_push, syn;
    int err;

    vns_fn_enter(ctx, VNS_FN_xmit_skb);
    can_push = vi->any_header_sg && !skb->cloned && vns_skb_headroom(skb) >= hdr_len;
    if (vns_virtio_net_hdr_from_skb(skb, &h, false, 0)) {
        err = -VNS_EINVAL;           /* the kernel BUG()s here */
        goto out;
    }
    if (vi->mergeable)
        h.num_buffers = 0;
    if (!sq->nfree) {
        err = -VNS_ENOSPC;
        goto out;
    }
    slot = sq->free_slots[--sq->nfree];
    gpa = sq->stage_gpa + (uint64_t)slot * TX_STAGE_SIZE;
    vns_virtio_net_hdr_encode(&h, hb, hdr_len);
    /* header + linear part at the slot's start, the frags page-aligned
     * after it (fixed places: their synthetic records are replaced, not
     * piled up) */
    p = (gpa + hdr_len + headlen + VNS_PAGE_SIZE - 1) & ~(uint64_t)(VNS_PAGE_SIZE - 1);
    if (p + rest > gpa + TX_STAGE_SIZE)
        p = gpa + hdr_len + headlen;
    syn = vi->syn && skb->syn_len && !skb->frag_list && headlen + skb->syn_len == skb->len;
    if (vns_gmem_copy_in(vi->mem, gpa, hb, hdr_len) < 0 ||
        skb_to_guest(vi->mem, skb, 0, real, gpa + hdr_len) < 0) {
        sq->free_slots[sq->nfree++] = slot;
        err = -VNS_EFAULT;
        goto out;
    }
    if (vi->syn)
        vns_synmap_clear(vi->syn, gpa);
    /* sg: header + linear (pushed) or header alone, then one per page frag */
    if (can_push) {
        sg[num_sg++] = (struct vns_sg){gpa, hdr_len + headlen};
    } else {
        sg[num_sg++] = (struct vns_sg){gpa, hdr_len};
        if (headlen) {
            sg[num_sg++] = (struct vns_sg){gpa + hdr_len, headlen};
            if (vi->syn)
                vns_synmap_clear(vi->syn, gpa + hdr_len);
        }
    }
    if (headlen > real) {
        /* a syn_linear range: recorded after the real bytes of the linear
         * sg entry (written when there is no map or it is full) */
        uint64_t at = can_push ? gpa : gpa + hdr_len;
        uint32_t pre = can_push ? hdr_len + real : real;

        if (!vi->syn || vns_synmap_set(vi->syn, at, pre, headlen - real, skb->pay_flow, skb->pay_off) < 0) {
            if (skb_to_guest(vi->mem, skb, real, headlen - real, gpa + hdr_len + real) < 0) {
                sq->free_slots[sq->nfree++] = slot;
                err = -VNS_EFAULT;
                goto out;
            }
        }
    }
    for (uint32_t done = 0; rest;) {
        uint32_t c = rest > VNS_PAGE_SIZE && num_sg < MAX_SKB_FRAGS + 1 ? VNS_PAGE_SIZE : rest;

        /* a synthetic frag is recorded, not written (backend_sock.h) */
        if (!syn || vns_synmap_set(vi->syn, p, 0, c, skb->pay_flow, skb->pay_off + done) < 0) {
            if (vi->syn)
                vns_synmap_clear(vi->syn, p);
            if (skb_to_guest(vi->mem, skb, headlen + done, c, p) < 0) {
                sq->free_slots[sq->nfree++] = slot;
                err = -VNS_EFAULT;
                goto out;
            }
        }
        sg[num_sg++] = (struct vns_sg){p, c};
        p += c;
        done += c;
        rest -= c;
    }
    sq->tok[slot] = (struct txbuf){skb, slot};
    err = vns_virtq_add_outbuf(sq->vq, sg, num_sg, &sq->tok[slot], ctx);
    if (err) {
        sq->tok[slot].skb = NULL;
        sq->free_slots[sq->nfree++] = slot;
        goto out;
    }
    sq->stats.sgs += num_sg;
    vns__flow_end(skb, VNS_FLOW_CROSSED_OUT, -1); /* in the ring: vhost copies it out */
    if (sq->corrupt && vi->layout == VNS_VIRTQ_SPLIT) {
        sq->corrupt--;
        corrupt_last_add(sq);
    }
out:
    vns_fn_exit(ctx);
    return err;
}

static struct send_queue *virtnet_pick_tx(struct vns_virtnet *vi, struct vns_skb *skb)
{
    /* netdev_pick_tx -> skb_tx_hash over the real queues */
    return &vi->sq[vi->qps > 1 ? vns_skb_get_hash(skb) % vi->qps : 0];
}

static int start_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    struct vns_virtnet *vi = ((struct virtnet_priv *)vns_netdev_priv(dev))->vi;
    struct send_queue *sq = virtnet_pick_tx(vi, skb);
    /* kick = !netdev_xmit_more(): see the file comment */
    bool more = vns_netdev_xmit_more(dev) && !vi->ignore_xmit_more;
    bool kick = !more, use_napi = vi->napi_tx;
    uint64_t descs0;
    uint32_t len = skb->len;
    int err;

    vns_fn_enter(ctx, VNS_FN_start_xmit);
    vi->cur_ctx = ctx;
    /* Free up any pending old buffers before queueing new ones. */
    free_old_xmit_skbs(sq, ctx);
    if (use_napi && kick)
        vns_virtq_enable_cb_delayed(sq->vq, ctx);
    descs0 = vns_virtq_stats(sq->vq)->descs;
    err = xmit_skb(sq, skb, ctx);
    if (err) {
        /* "Unexpected TXQ (%d) queue failure: %d" */
        sq->stats.add_errors++;
        dev->stats.tx_errors++;
        dev->stats.tx_dropped++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
        vns_fn_exit(ctx);
        return VNS_NETDEV_TX_OK;
    }
    sq->stats.descs += vns_virtq_stats(sq->vq)->descs - descs0;
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += len;
    /* Don't wait up for transmitted skbs to be freed (skb_orphan: TSQ no
     * longer sees it). */
    if (!use_napi)
        vns_skb_orphan(skb);
    /* If running out of space, stop queue to avoid getting packets that we
     * are then unable to transmit. */
    if (vns_virtq_num_free(sq->vq) < VNS_VIRTNET_TX_STOP_THRESH) {
        vns_netif_stop_queue(dev);
        sq->stopped = true;
        sq->stats.stops++;
        if (!use_napi && !vns_virtq_enable_cb_delayed(sq->vq, ctx)) {
            /* More just got used, free them then recheck. */
            free_old_xmit_skbs(sq, ctx);
            if (vns_virtq_num_free(sq->vq) >= VNS_VIRTNET_TX_STOP_THRESH) {
                sq->stopped = false;
                sq->stats.wakes++;
                vns_netif_wake_queue(ctx, dev);   /* netif_start_subqueue */
                vns_virtq_disable_cb(sq->vq, ctx);
            }
        }
    }
    if (more)
        sq->stats.xmit_more++;
    if (kick || vns_netif_queue_stopped(dev)) {
        if (vns_virtq_kick_prepare(sq->vq, ctx) && vns_virtq_notify(sq->vq, ctx))
            sq->stats.kicks++;
        else
            sq->stats.kicks_suppressed++;
    } else {
        sq->stats.kicks_xmit_more++; /* the last packet of the list kicks */
    }
    vns_fn_exit(ctx);
    return VNS_NETDEV_TX_OK;
}

static void virtnet_tx_wake(struct send_queue *sq, struct vns_ctx *ctx)
{
    if (sq->stopped && vns_virtq_num_free(sq->vq) >= VNS_VIRTNET_TX_STOP_THRESH) {
        sq->stopped = false;
        sq->stats.wakes++;
        vns_netif_wake_queue(ctx, sq->vi->dev);
    }
}

/* virtqueue_napi_schedule */
static void virtqueue_napi_schedule(struct vns_napi_struct *napi, struct vns_virtq *vq, struct vns_ctx *ctx)
{
    if (vns_napi_schedule_prep(napi)) {
        vns_virtq_disable_cb(vq, ctx);
        vns___napi_schedule(ctx, napi);
    }
}

/* virtqueue_napi_complete: re-enable callbacks, complete, and re-check for
 * buffers used in between (the lost-interrupt race). Returns true if it
 * rescheduled. */
static bool virtqueue_napi_complete(struct vns_napi_struct *napi, struct vns_virtq *vq, int processed,
                                    struct vns_ctx *ctx)
{
    unsigned opaque = vns_virtq_enable_cb_prepare(vq, ctx);

    if (vns_napi_complete_done(ctx, napi, processed)) {
        if (vns_virtq_poll(vq, opaque, ctx)) {
            virtqueue_napi_schedule(napi, vq, ctx);
            return true;
        }
    } else {
        vns_virtq_disable_cb(vq, ctx);
    }
    return false;
}

/* skb_xmit_done: the TX interrupt. */
static int virtnet_tx_irq(struct vns_ctx *ctx, void *arg)
{
    struct send_queue *sq = arg;

    if (!vns_virtq_interrupt(sq->vq, NULL))   /* vring_interrupt (the irq's frame) */
        return VNS_STEP_DONE;
    vns_fn_enter(ctx, VNS_FN_skb_xmit_done);
    sq->stats.interrupts++;
    /* Suppress further interrupts. */
    vns_virtq_disable_cb(sq->vq, ctx);
    if (sq->vi->napi_tx) {
        virtqueue_napi_schedule(&sq->napi, sq->vq, ctx);
    } else if (sq->stopped) {
        /* We were probably waiting for more output buffers. */
        sq->stopped = false;
        sq->stats.wakes++;
        vns_netif_wake_queue(ctx, sq->vi->dev);
    }
    vns_fn_exit(ctx);
    return VNS_STEP_DONE;
}

/* virtnet_poll_tx: one step. */
static int virtnet_poll_tx(struct vns_ctx *ctx, struct vns_napi_struct *napi, int budget)
{
    struct send_queue *sq = napi->priv;

    (void)budget;
    sq->stats.napi_polls++;
    free_old_xmit_skbs(sq, ctx);
    virtqueue_napi_complete(napi, sq->vq, 0, ctx);
    virtnet_tx_wake(sq, ctx);
    return VNS_STEP_DONE;
}

/* --- RX ------------------------------------------------------------------------------ */

/* Big mode: its buffers are page chains of their own (get_a_page); the
 * others are carved from the page_frag. */
static bool rx_big_mode(const struct vns_virtnet *vi)
{
    return !vi->mergeable && vi->big_packets;
}

/* put_page on a frag page: the last reference frees it. */
static void frag_put_page(struct receive_queue *rq, uint32_t idx)
{
    struct frag_page *p = &rq->pages[idx];

    if (--p->refs)
        return;
    vns_galloc_free(rq->vi->ga, p->gpa, p->size);
    p->size = 0;
}

/* A record for a new page: an unused one (the lowest index), else a new
 * one. NO_PAGE when host memory runs out. */
static uint32_t frag_page_record(struct receive_queue *rq)
{
    uint32_t first = rq->npages, n = first ? 2 * first : 16;
    struct frag_page *pages;

    for (uint32_t i = 0; i < rq->npages; i++)
        if (!rq->pages[i].size)
            return i;
    pages = vns_realloc(rq->pages, (size_t)n * sizeof(*pages));
    if (!pages)
        return NO_PAGE;
    memset(pages + first, 0, (size_t)(n - first) * sizeof(*pages));
    rq->pages = pages;
    rq->npages = n;
    return first;
}

/* skb_page_frag_refill (net/core/sock.c): make room for @sz bytes in the
 * page_frag. A page only the page_frag still holds is reused from offset
 * 0; one without room is let go; a new one is a 32 KiB compound page, or a
 * single page when that allocation fails. False when both fail. */
static bool skb_page_frag_refill(struct receive_queue *rq, uint32_t sz)
{
    struct vns_galloc *ga = rq->vi->ga;
    uint32_t idx;
    uint64_t gpa;

    if (rq->frag_page != NO_PAGE) {
        const struct frag_page *p = &rq->pages[rq->frag_page];

        if (p->refs == 1) {
            rq->frag_offset = 0;
            return true;
        }
        if (rq->frag_offset + sz <= p->size)
            return true;
        frag_put_page(rq, rq->frag_page);
        rq->frag_page = NO_PAGE;
    }
    rq->frag_offset = 0;
    idx = frag_page_record(rq);
    if (idx == NO_PAGE)
        return false;
    if (vns_galloc_alloc(ga, FRAG_PAGE_SIZE, FRAG_PAGE_SIZE, &gpa) == 0) {
        rq->pages[idx] = (struct frag_page){gpa, FRAG_PAGE_SIZE, 1};
    } else if (vns_galloc_alloc(ga, VNS_PAGE_SIZE, VNS_PAGE_SIZE, &gpa) == 0) {
        rq->pages[idx] = (struct frag_page){gpa, VNS_PAGE_SIZE, 1};
    } else {
        return false;
    }
    rq->frag_page = idx;
    rq->stats.frag_pages++;
    return true;
}

/* Carve @len bytes from the page_frag for @b (get_page for the buffer):
 * its address, or 0 when no page could be had (-ENOMEM). */
static uint64_t frag_alloc(struct receive_queue *rq, struct rxbuf *b, uint32_t len)
{
    struct frag_page *p;
    uint64_t gpa;

    if (!skb_page_frag_refill(rq, len))
        return 0;
    p = &rq->pages[rq->frag_page];
    p->refs++;
    b->page = rq->frag_page;
    gpa = p->gpa + rq->frag_offset;
    rq->frag_offset += len;
    return gpa;
}

static struct rxbuf *rxbuf_get(struct receive_queue *rq)
{
    struct rxbuf *b;

    if (rq->free_head == UINT32_MAX)
        return NULL;
    b = &rq->bufs[rq->free_head];
    rq->free_head = b->next_free;
    return b;
}

/* The buffer is back: its page reference goes (put_page) and its token
 * is free for the next add_recvbuf. Its synthetic-payload record goes too:
 * the next buffer carved there may start elsewhere in the page, and a
 * record nobody overwrites would stay in the map. */
static void rxbuf_put(struct receive_queue *rq, struct rxbuf *b)
{
    if (b->page != NO_PAGE) {
        if (rq->vi->syn)
            vns_synmap_clear(rq->vi->syn, b->gpa);
        frag_put_page(rq, b->page);
        b->page = NO_PAGE;
    }
    b->next_free = rq->free_head;
    rq->free_head = (uint32_t)(b - rq->bufs);
}

static void ewma_pkt_len_add(struct receive_queue *rq, uint32_t val)
{
    uint32_t internal = rq->ewma;

    rq->ewma = internal ? (((internal << 6) - internal) + val) >> 6 : val;
    rq->stats.ewma_pkt_len = rq->ewma;
}

/* get_mergeable_buf_len (room 0: no XDP). */
static uint32_t get_mergeable_buf_len(const struct receive_queue *rq)
{
    const uint32_t hdr_len = VNS_VIRTIO_NET_HDR_MRG_LEN;
    uint32_t avg = rq->ewma, len;

    if (avg < rq->min_buf_len)
        avg = rq->min_buf_len;
    if (avg > VNS_PAGE_SIZE - hdr_len)
        avg = VNS_PAGE_SIZE - hdr_len;
    len = hdr_len + avg;
    return (len + L1_CACHE_BYTES - 1) & ~(L1_CACHE_BYTES - 1);
}

/* mergeable_min_buf_len */
static uint32_t mergeable_min_buf_len(const struct vns_virtnet *vi, uint32_t rq_size)
{
    const uint32_t hdr_len = VNS_VIRTIO_NET_HDR_MRG_LEN;
    uint32_t packet_len = vi->big_packets ? IP_MAX_MTU : vi->dev->max_mtu;
    uint32_t buf_len = hdr_len + VNS_ETH_HLEN + VNS_VLAN_HLEN + packet_len;
    uint32_t min_buf_len = (buf_len + rq_size - 1) / rq_size;

    if (min_buf_len < hdr_len)
        min_buf_len = hdr_len;
    return VNS_MAX(min_buf_len - hdr_len, (uint32_t)VNS_VIRTNET_GOOD_PACKET_LEN);
}

/* The sg list of a big-mode buffer at @gpa (add_recvbuf_big): the header
 * alone, the rest of the first page, then MAX_SKB_FRAGS whole pages. */
static unsigned big_sgs(const struct vns_virtnet *vi, uint64_t gpa, struct vns_sg *sg)
{
    sg[0] = (struct vns_sg){gpa, vi->hdr_len};
    sg[1] = (struct vns_sg){gpa + PADDED_VNET_HDR, VNS_PAGE_SIZE - PADDED_VNET_HDR};
    for (unsigned i = 2; i < BIG_SGS; i++)
        sg[i] = (struct vns_sg){gpa + (uint64_t)(i - 1) * VNS_PAGE_SIZE, VNS_PAGE_SIZE};
    return BIG_SGS;
}

static int add_recvbuf(struct receive_queue *rq, struct vns_ctx *ctx)
{
    struct vns_virtnet *vi = rq->vi;
    struct vns_sg sg[BIG_SGS];
    unsigned nsg = 1;
    struct rxbuf *b;
    int err;

    vns_fn_enter(ctx, vi->mergeable     ? VNS_FN_add_recvbuf_mergeable
                      : vi->big_packets ? VNS_FN_add_recvbuf_big
                                        : VNS_FN_add_recvbuf_small);
    /* Memory pressure (a fault): the page frag allocation of
     * add_recvbuf_mergeable (GFP_ATOMIC) fails like the pool running dry. */
    b = vi->rx_oom ? NULL : rxbuf_get(rq);
    if (!b) {
        vns_fn_exit(ctx);
        return -VNS_ENOMEM;
    }
    if (vi->mergeable) {
        /* add_recvbuf_mergeable (room 0: no XDP) */
        uint32_t len = get_mergeable_buf_len(rq), hole;

        b->gpa = frag_alloc(rq, b, len);
        if (!b->gpa)
            goto oom;
        hole = rq->pages[b->page].size - rq->frag_offset;
        if (hole < len) {
            /* To avoid internal fragmentation, if there is very likely
             * not enough space for another buffer, add the remaining
             * space to the current buffer. */
            len += hole;
            rq->frag_offset += hole;
        }
        b->len = len; /* mergeable_len_to_ctx(len, 0) */
        sg[0] = (struct vns_sg){b->gpa, b->len};
    } else if (vi->big_packets) {
        nsg = big_sgs(vi, b->gpa, sg);
        b->len = vi->hdr_len + (uint32_t)(BIG_PAGES * VNS_PAGE_SIZE - PADDED_VNET_HDR);
    } else {
        /* add_recvbuf_small: the data area, the pad before it and the
         * shared info after it, from the page_frag */
        uint64_t buf = frag_alloc(
            rq, b,
            VNS_SKB_DATA_ALIGN(vi->hdr_len + VIRTNET_RX_PAD + VNS_VIRTNET_GOOD_PACKET_LEN) +
                VNS_SKB_DATA_ALIGN(SKB_SHINFO_SIZE));

        if (!buf)
            goto oom;
        b->gpa = buf + VIRTNET_RX_PAD;
        b->len = vi->hdr_len + VNS_VIRTNET_GOOD_PACKET_LEN;
        sg[0] = (struct vns_sg){b->gpa, b->len};
    }
    err = vns_virtq_add_inbuf(rq->vq, sg, nsg, b, ctx);
    if (err) {
        rxbuf_put(rq, b);
    } else {
        rq->stats.posted++;
    }
    vns_fn_exit(ctx);
    return err;

oom:
    rxbuf_put(rq, b);
    vns_fn_exit(ctx);
    return -VNS_ENOMEM;
}

/* try_fill_recv: fill the ring, then kick. False only when out of buffers. */
static bool try_fill_recv(struct receive_queue *rq, struct vns_ctx *ctx)
{
    bool oom = false;
    int err;

    vns_fn_enter(ctx, VNS_FN_try_fill_recv);
    if (rq->vi->rx_stopped) {   /* a wedged guest: posts nothing, asks for no retry */
        vns_fn_exit(ctx);
        return true;
    }
    do {
        err = add_recvbuf(rq, ctx);
        oom = err == -VNS_ENOMEM;
        if (err)
            break;
    } while (vns_virtq_num_free(rq->vq));
    rq->vi->cur_ctx = ctx;
    if (vns_virtq_kick_prepare(rq->vq, ctx) && vns_virtq_notify(rq->vq, ctx))
        rq->stats.kicks++;
    vns_fn_exit(ctx);
    return !oom;
}

static void refill_work(struct vns_sim *sim, struct vns_timer *t)
{
    struct receive_queue *rq = t->data;
    bool still_empty;

    (void)sim;
    rq->refill_pending = false;
    rq->stats.refill_work++;
    still_empty = !try_fill_recv(rq, NULL);
    /* In theory, this can happen: if we don't get any buffers in we will
     * *never* try to fill again: retry in HZ/2. */
    if (still_empty) {
        rq->refill_pending = true;
        vns_timer_arm(rq->vi->sim, &rq->refill, vns_sim_now(rq->vi->sim) + VNS_MSEC(500));
    }
}

static void schedule_refill(struct receive_queue *rq, struct vns_ctx *ctx)
{
    rq->stats.refill_fail++;
    if (rq->refill_pending)
        return;
    rq->refill_pending = true;
    vns_timer_arm(rq->vi->sim, &rq->refill, ctx ? vns_ctx_now(ctx) : vns_sim_now(rq->vi->sim));
}

/* Append @len bytes of the buffer at @buf (from byte @skip) to @skb: the
 * real ones copied, those the device recorded as synthetic kept so
 * (page_to_skb attaches the pages: no copy is charged). 0 or -VNS_EINVAL
 * (a mix the skb cannot hold: real bytes after synthetic ones). */
static int guest_to_skb(struct vns_virtnet *vi, uint64_t buf, uint32_t skip, uint32_t len, struct vns_skb *skb)
{
    struct vns_iov seg = {buf, (uint64_t)skip + len};
    struct vns_iov_iter it;

    vns_iov_iter_init(&it, vi->mem, &seg, 1, seg.len);
    it.syn = vi->syn;
    vns_iov_iter_advance(&it, skip);
    return vns_iov_iter_to_skb(NULL, &it, skb, len);
}

/* receive_mergeable: the first buffer is @b (@len bytes incl. header);
 * num_buffers - 1 more come from the ring. NULL when dropped. */
static struct vns_skb *receive_mergeable(struct receive_queue *rq, struct rxbuf *b, uint32_t len,
                                         const struct vns_virtio_net_hdr *h, struct vns_ctx *ctx)
{
    struct vns_virtnet *vi = rq->vi;
    struct rxbuf *parts[MRG_MAX_BUFS];
    uint32_t lens[MRG_MAX_BUFS];
    int num_buf = h->num_buffers, n = 0;
    uint32_t total;
    struct vns_skb *skb = NULL;

    vns_fn_enter(ctx, VNS_FN_receive_mergeable);
    if (num_buf < 1 || num_buf > MRG_MAX_BUFS) {
        /* "rx error: %d buffers out of %d missing" is what a bad count
         * leads to in the kernel; too many for this model: drop. */
        rq->stats.length_errors++;
        vi->dev->stats.rx_errors++;
        vi->dev->stats.rx_dropped++;
        rxbuf_put(rq, b);
        vns_fn_exit(ctx);
        return NULL;
    }
    if (len > b->len) {
        /* "rx error: len %u exceeds truesize %lu" */
        rq->stats.length_errors++;
        goto err_skb;
    }
    parts[n] = b;
    lens[n++] = len - vi->hdr_len;
    total = len - vi->hdr_len;
    while (--num_buf) {
        uint32_t l;
        struct rxbuf *nb = vns_virtq_get_buf(rq->vq, &l, ctx);

        if (!nb) {
            /* "rx error: %d buffers out of %d missing" */
            rq->stats.length_errors++;
            vi->dev->stats.rx_errors++;
            goto err_buf;
        }
        rq->stats.buffers++;
        if (l > nb->len) {
            rxbuf_put(rq, nb);
            rq->stats.length_errors++;
            goto err_skb;
        }
        parts[n] = nb;
        lens[n++] = l;
        total += l;
    }
    vns_fn_enter(ctx, VNS_FN_page_to_skb);
    skb = total + VNS_NET_SKB_PAD <= VNS_SKB_LARGE_BUF ? vns_netdev_alloc_skb(vi->k, total) : NULL;
    for (int i = 0; skb && i < n; i++) {
        if (guest_to_skb(vi, parts[i]->gpa, i ? 0 : vi->hdr_len, lens[i], skb) < 0) {
            rq->stats.length_errors++;
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_PKT_TOO_SMALL);
            skb = NULL;
        }
    }
    vns_fn_exit(ctx);
    if (skb) {
        /* truesize (5.4 page_to_skb, receive_mergeable): napi_alloc_skb
         * of GOOD_COPY_LEN takes the first bytes, each buffer whose bytes
         * become frags adds its truesize (skb_add_rx_frag) */
        skb->truesize = VNS_SKB_TRUESIZE(
            VNS_SKB_DATA_ALIGN(VNS_VIRTNET_GOOD_COPY_LEN + VNS_NET_SKB_PAD + VNS_NET_IP_ALIGN));
        for (int i = 0; i < n; i++)
            skb->truesize += i || lens[0] > VNS_VIRTNET_GOOD_COPY_LEN ? parts[i]->len : 0;
    }
    for (int i = 0; i < n; i++)
        rxbuf_put(rq, parts[i]);
    if (!skb) {
        vi->dev->stats.rx_dropped++;
        vns_fn_exit(ctx);
        return NULL;
    }
    ewma_pkt_len_add(rq, skb->len);
    vns_fn_exit(ctx);
    return skb;

err_skb:
    /* the remaining buffers of the packet go too */
    while (num_buf-- > 1) {
        uint32_t l;
        struct rxbuf *nb = vns_virtq_get_buf(rq->vq, &l, ctx);

        if (!nb) {
            rq->stats.length_errors++;   /* "rx error: %d buffers missing" */
            break;
        }
        rxbuf_put(rq, nb);
    }
    vi->dev->stats.rx_errors++;
err_buf:
    vi->dev->stats.rx_dropped++;
    for (int i = 0; i < n; i++)
        rxbuf_put(rq, parts[i]);
    if (!n)
        rxbuf_put(rq, b);
    vns_fn_exit(ctx);
    return NULL;
}

static struct vns_skb *receive_small(struct receive_queue *rq, struct rxbuf *b, uint32_t len,
                                     struct vns_ctx *ctx)
{
    struct vns_virtnet *vi = rq->vi;
    struct vns_skb *skb = NULL;

    vns_fn_enter(ctx, VNS_FN_receive_small);
    len -= vi->hdr_len;
    if (len > VNS_VIRTNET_GOOD_PACKET_LEN || len + vi->hdr_len > b->len) {
        /* "rx error: len %u exceeds max size %d" */
        rq->stats.length_errors++;
        vi->dev->stats.rx_errors++;
        vi->dev->stats.rx_dropped++;
    } else {
        skb = vns_netdev_alloc_skb(vi->k, len);
        if (skb && guest_to_skb(vi, b->gpa, vi->hdr_len, len, skb) < 0) {
            rq->stats.length_errors++;
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_PKT_TOO_SMALL);
            skb = NULL;
        }
        if (!skb)
            vi->dev->stats.rx_dropped++;
        else /* build_skb of the whole buffer (5.4 receive_small) */
            skb->truesize = VNS_SKB_TRUESIZE(VNS_SKB_DATA_ALIGN(b->len + VNS_NET_SKB_PAD + VNS_NET_IP_ALIGN));
    }
    rxbuf_put(rq, b);
    vns_fn_exit(ctx);
    return skb;
}

/* receive_big: the frame after the header, across the chain's pages. */
static struct vns_skb *receive_big(struct receive_queue *rq, struct rxbuf *b, uint32_t len,
                                   struct vns_ctx *ctx)
{
    struct vns_virtnet *vi = rq->vi;
    struct vns_sg sg[BIG_SGS];
    struct vns_iov iov[BIG_SGS - 1];
    struct vns_iov_iter it;
    struct vns_skb *skb = NULL;
    uint32_t flen = len - vi->hdr_len;

    vns_fn_enter(ctx, VNS_FN_receive_big);
    big_sgs(vi, b->gpa, sg);
    for (unsigned i = 1; i < BIG_SGS; i++)
        iov[i - 1] = (struct vns_iov){sg[i].addr, sg[i].len};
    if (len > b->len) {
        rq->stats.length_errors++;
        vi->dev->stats.rx_errors++;
    } else {
        vns_fn_enter(ctx, VNS_FN_page_to_skb);
        skb = flen + VNS_NET_SKB_PAD <= VNS_SKB_LARGE_BUF ? vns_netdev_alloc_skb(vi->k, flen) : NULL;
        if (skb) {
            vns_iov_iter_init(&it, vi->mem, iov, BIG_SGS - 1, flen);
            it.syn = vi->syn;
            if (vns_iov_iter_to_skb(NULL, &it, skb, flen) < 0) {
                rq->stats.length_errors++;
                vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_PKT_TOO_SMALL);
                skb = NULL;
            }
        }
        vns_fn_exit(ctx);
    }
    if (!skb)
        vi->dev->stats.rx_dropped++;   /* give_pages */
    rxbuf_put(rq, b);
    vns_fn_exit(ctx);
    return skb;
}

static void receive_buf(struct receive_queue *rq, struct rxbuf *b, uint32_t len, struct vns_ctx *ctx)
{
    struct vns_virtnet *vi = rq->vi;
    struct vns_virtio_net_hdr h;
    uint8_t hb[VNS_VIRTIO_NET_HDR_MRG_LEN];
    struct vns_skb *skb;

    vns_fn_enter(ctx, VNS_FN_receive_buf);
    if (len < vi->hdr_len + VNS_ETH_HLEN) {
        /* "%s: short packet %i" */
        rq->stats.length_errors++;
        vi->dev->stats.rx_errors++;
        rxbuf_put(rq, b);
        vns_fn_exit(ctx);
        return;
    }
    vns_gmem_copy_out(vi->mem, b->gpa, hb, vi->hdr_len);
    vns_virtio_net_hdr_decode(hb, vi->hdr_len, &h);
    if (vi->mergeable)
        skb = receive_mergeable(rq, b, len, &h, ctx);
    else if (vi->big_packets)
        skb = receive_big(rq, b, len, ctx);
    else
        skb = receive_small(rq, b, len, ctx);
    if (!skb) {
        vns_fn_exit(ctx);
        return;
    }
    if (h.flags & VNS_VIRTIO_NET_HDR_F_DATA_VALID)
        skb->ip_summed = VNS_CHECKSUM_UNNECESSARY;
    if (vns_virtio_net_hdr_to_skb(skb, &h)) {
        /* "%s: bad gso: type: %u, size: %u" */
        rq->stats.frame_errors++;
        vi->dev->stats.rx_errors++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_DEV_HDR);
        vns_fn_exit(ctx);
        return;
    }
    vns__flow_cross_in(skb, VNS_ETH_HLEN);
    skb->queue_mapping = (uint16_t)rq->qp;      /* skb_record_rx_queue */
    skb->protocol = vns_eth_type_trans(skb, vi->dev);
    rq->stats.packets++;
    rq->stats.bytes += skb->len + VNS_ETH_HLEN;
    vi->dev->stats.rx_packets++;
    vi->dev->stats.rx_bytes += skb->len + VNS_ETH_HLEN;
    vns_napi_gro_receive(ctx, &rq->napi, skb);
    vns_fn_exit(ctx);
}

/* skb_recv_done: the RX interrupt. */
static int virtnet_rx_irq(struct vns_ctx *ctx, void *arg)
{
    struct receive_queue *rq = arg;

    if (!vns_virtq_interrupt(rq->vq, NULL))   /* vring_interrupt (the irq's frame) */
        return VNS_STEP_DONE;
    vns_fn_enter(ctx, VNS_FN_skb_recv_done);
    rq->stats.interrupts++;
    virtqueue_napi_schedule(&rq->napi, rq->vq, ctx);
    vns_fn_exit(ctx);
    return VNS_STEP_DONE;
}

/* virtnet_poll_cleantx: reclaim the paired TX queue from the RX poll. */
static void virtnet_poll_cleantx(struct receive_queue *rq, struct vns_ctx *ctx)
{
    struct send_queue *sq = &rq->vi->sq[rq->qp];

    if (!rq->vi->napi_tx)
        return;
    vns_fn_enter(ctx, VNS_FN_virtnet_poll_cleantx);
    /* __netif_tx_trylock always succeeds here: one step runs at a time */
    if (free_old_xmit_skbs(sq, ctx))
        sq->stats.cleantx++;
    virtnet_tx_wake(sq, ctx);
    vns_fn_exit(ctx);
}

/* virtnet_poll: one received packet per step (virtnet_receive's loop);
 * then refill and complete. */
static int virtnet_poll(struct vns_ctx *ctx, struct vns_napi_struct *napi, int budget)
{
    struct receive_queue *rq = napi->priv;
    struct rxbuf *b;
    uint32_t len;

    if (!rq->in_poll) {
        rq->in_poll = true;
        rq->stats.polls++;
        virtnet_poll_cleantx(rq, ctx);
        vns_fn_enter(ctx, VNS_FN_virtnet_receive);
    }
    if (napi->work < budget && (b = vns_virtq_get_buf(rq->vq, &len, ctx)) != NULL) {
        rq->stats.buffers++;
        receive_buf(rq, b, len, ctx);
        napi->work++;
        if (napi->work < budget)
            return VNS_STEP_AGAIN;
    }
    if (vns_virtq_num_free(rq->vq) > vns_virtq_get_vring_size(rq->vq) / 2) {
        if (!try_fill_recv(rq, ctx))
            schedule_refill(rq, ctx);
    }
    vns_fn_exit(ctx);   /* virtnet_receive */
    rq->in_poll = false;
    /* Out of packets? */
    if (napi->work < budget) {
        rq->stats.napi_complete++;
        if (virtqueue_napi_complete(napi, rq->vq, napi->work, ctx))
            rq->stats.napi_resched++;
    }
    return VNS_STEP_DONE;
}

/* --- device --------------------------------------------------------------------------- */

static int virtnet_open(struct vns_net_device *dev)
{
    struct vns_virtnet *vi = ((struct virtnet_priv *)vns_netdev_priv(dev))->vi;

    for (unsigned i = 0; i < vi->qps; i++) {
        /* Make sure we have some buffers: if oom use wq. */
        if (!try_fill_recv(&vi->rq[i], NULL))
            schedule_refill(&vi->rq[i], NULL);
        /* virtnet_napi_enable: LINUX: also schedules the NAPI once, which
         * finds nothing and re-enables callbacks; they are on already. */
        vns_napi_enable(&vi->rq[i].napi);
        if (vi->napi_tx)
            vns_napi_enable(&vi->sq[i].napi);
    }
    return 0;
}

static void virtnet_close(struct vns_net_device *dev)
{
    struct vns_virtnet *vi = ((struct virtnet_priv *)vns_netdev_priv(dev))->vi;

    for (unsigned i = 0; i < vi->qps; i++) {
        vns_timer_cancel(vi->sim, &vi->rq[i].refill);
        vi->rq[i].refill_pending = false;
        vns_napi_disable(&vi->rq[i].napi);
        vns_napi_disable(&vi->sq[i].napi);
    }
}

static const struct vns_net_device_ops virtnet_netdev = {
    .kind = "virtio_net",
    .priv_size = sizeof(struct virtnet_priv),
    .ndo_open = virtnet_open,
    .ndo_stop = virtnet_close,
    .ndo_start_xmit = start_xmit,
};

static int place_ring(struct vns_virtnet *vi, unsigned index, struct vns_virtq **vq,
                      struct vq_notify *nt, uint64_t *ring_gpa, uint64_t *ring_size,
                      uint64_t *ind_gpa, uint64_t *ind_size)
{
    struct vns_virtq_addr addr;
    bool indirect = virtnet_has(vi, VNS_VIRTIO_RING_F_INDIRECT_DESC);
    uint64_t size = vns_virtq_layout_size(vi->layout, vi->num, 4096);
    int err;

    if (!size)
        return -VNS_EINVAL;
    err = vns_galloc_alloc(vi->ga, size, 4096, ring_gpa);
    if (err)
        return err;
    *ring_size = size;   /* only once allocated: the unwind frees what is set */
    err = vns_virtq_layout(vi->layout, vi->num, 4096, *ring_gpa, &addr);
    if (err)
        return err;
    if (indirect) {
        size = vns_virtq_indirect_size(vi->num, 0);
        err = vns_galloc_alloc(vi->ga, size, 16, ind_gpa);
        if (err)
            return err;
        *ind_size = size;
    }
    nt->vi = vi;
    nt->index = index;
    return vns_virtq_create(vi->mem, &(struct vns_virtq_config){
                                         .layout = vi->layout, .num = vi->num, .addr = addr,
                                         .event_idx = virtnet_has(vi, VNS_VIRTIO_RING_F_EVENT_IDX),
                                         .indirect = indirect, .indirect_gpa = *ind_gpa,
                                         .notify = virtnet_vq_notify, .notify_arg = nt},
                            vq);
}

static void virtnet_free_queues(struct vns_virtnet *vi)
{
    for (unsigned i = 0; i < vi->qps; i++) {
        struct send_queue *sq = &vi->sq[i];
        struct receive_queue *rq = &vi->rq[i];
        struct txbuf *t;

        if (sq->vq) {
            while ((t = vns_virtq_detach_unused_buf(sq->vq)) != NULL)
                if (t->skb)
                    vns_kfree_skb(t->skb);
            vns_virtq_destroy(sq->vq);
        }
        vns_netif_napi_del(&sq->napi);
        vns_netif_napi_del(&rq->napi);
        vns_virtq_destroy(rq->vq);
        if (vi->sim)
            vns_timer_cancel(vi->sim, &rq->refill);
        if (sq->ring_size)
            vns_galloc_free(vi->ga, sq->ring_gpa, sq->ring_size);
        if (sq->ind_size)
            vns_galloc_free(vi->ga, sq->ind_gpa, sq->ind_size);
        if (rq->ring_size)
            vns_galloc_free(vi->ga, rq->ring_gpa, rq->ring_size);
        if (rq->ind_size)
            vns_galloc_free(vi->ga, rq->ind_gpa, rq->ind_size);
        if (sq->tok)
            vns_galloc_free(vi->ga, sq->stage_gpa, (uint64_t)vi->num * TX_STAGE_SIZE);
        if (rq->bufs && rx_big_mode(vi))
            vns_galloc_free(vi->ga, rq->buf_gpa, (uint64_t)rq->nbufs * BIG_PAGES * VNS_PAGE_SIZE);
        for (uint32_t p = 0; p < rq->npages; p++) /* the buffers still posted and the page_frag */
            if (rq->pages[p].size)
                vns_galloc_free(vi->ga, rq->pages[p].gpa, rq->pages[p].size);
        vns_free(sq->tok);
        vns_free(sq->free_slots);
        vns_free(rq->bufs);
        vns_free(rq->pages);
    }
}

static int virtnet_init_queue(struct vns_virtnet *vi, unsigned i, struct vns_cpu *cpu)
{
    struct send_queue *sq = &vi->sq[i];
    struct receive_queue *rq = &vi->rq[i];
    int err;

    sq->vi = rq->vi = vi;
    sq->qp = rq->qp = i;
    err = place_ring(vi, 2 * i, &rq->vq, &rq->nt, &rq->ring_gpa, &rq->ring_size, &rq->ind_gpa,
                     &rq->ind_size);
    if (err)
        return err;
    err = place_ring(vi, 2 * i + 1, &sq->vq, &sq->nt, &sq->ring_gpa, &sq->ring_size, &sq->ind_gpa,
                     &sq->ind_size);
    if (err)
        return err;
    sq->tok = vns_calloc(vi->num, sizeof(*sq->tok));
    sq->free_slots = vns_calloc(vi->num, sizeof(*sq->free_slots));
    rq->nbufs = vi->rx_buffers ? vi->rx_buffers : vi->num;
    rq->bufs = vns_calloc(rq->nbufs, sizeof(*rq->bufs));
    if (!sq->tok || !sq->free_slots || !rq->bufs) {
        vns_free(sq->tok);
        sq->tok = NULL;
        vns_free(rq->bufs);
        rq->bufs = NULL;
        return -VNS_ENOMEM;
    }
    err = vns_galloc_alloc(vi->ga, (uint64_t)vi->num * TX_STAGE_SIZE, 4096, &sq->stage_gpa);
    if (err) {
        vns_free(sq->tok);
        sq->tok = NULL;
        vns_free(rq->bufs);
        rq->bufs = NULL;
        return err;
    }
    if (rx_big_mode(vi)) {
        err = vns_galloc_alloc(vi->ga, (uint64_t)rq->nbufs * BIG_PAGES * VNS_PAGE_SIZE, 4096,
                               &rq->buf_gpa);
        if (err) {
            vns_free(rq->bufs);
            rq->bufs = NULL;
            return err;
        }
    }
    for (uint32_t s = 0; s < vi->num; s++)
        sq->free_slots[sq->nfree++] = vi->num - 1 - s;
    rq->free_head = UINT32_MAX;
    rq->frag_page = NO_PAGE;
    for (uint32_t b = rq->nbufs; b-- > 0;) {
        if (rx_big_mode(vi))
            rq->bufs[b].gpa = rq->buf_gpa + (uint64_t)b * BIG_PAGES * VNS_PAGE_SIZE;
        rq->bufs[b].page = NO_PAGE;
        rxbuf_put(rq, &rq->bufs[b]);
    }
    rq->min_buf_len = mergeable_min_buf_len(vi, vi->num);
    vns_irq_init(&rq->irq, "virtio-input", cpu, VNS_FN_vring_interrupt, virtnet_rx_irq, rq);
    vns_irq_init(&sq->irq, "virtio-output", cpu, VNS_FN_vring_interrupt, virtnet_tx_irq, sq);
    vns_netif_napi_add(vi->dev, &rq->napi, virtnet_poll, VNS_FN_virtnet_poll, VNS_NAPI_POLL_WEIGHT);
    rq->napi.priv = rq;
    vns_netif_napi_add(vi->dev, &sq->napi, virtnet_poll_tx, VNS_FN_virtnet_poll_tx, VNS_NAPI_POLL_WEIGHT);
    sq->napi.priv = sq;
    return 0;
}

int vns_virtnet_create(const struct vns_virtnet_config *cfg, struct vns_virtnet **out)
{
    struct vns_virtnet *vi;
    unsigned qps;
    int err;

    if (!cfg || !cfg->k || !cfg->mem || !cfg->galloc)
        return -VNS_EINVAL;
    qps = cfg->queue_pairs ? cfg->queue_pairs : 1;
    if (qps > MAX_QP || (qps > 1 && !vns_virtio_has(cfg->features, VNS_VIRTIO_NET_F_MQ)))
        return -VNS_EINVAL;
    vi = vns_calloc(1, sizeof(*vi));
    if (!vi)
        return -VNS_ENOMEM;
    vi->k = cfg->k;
    vi->sim = vns_kernel_sim(cfg->k);
    vi->mem = cfg->mem;
    vi->ga = cfg->galloc;
    vi->features = cfg->features;
    vi->layout = cfg->layout;
    vi->num = cfg->ring_size ? cfg->ring_size : 256;
    vi->rx_buffers = cfg->rx_buffers;
    vi->syn = cfg->synmap;
    vi->napi_tx = !cfg->no_napi_tx;
    vi->ignore_xmit_more = cfg->ignore_xmit_more;
    vi->qps = qps;
    vi->notify = cfg->notify;
    vi->notify_arg = cfg->notify_arg;
    /* virtnet_probe: big_packets with any guest GSO feature; mergeable with
     * MRG_RXBUF; header 12 bytes with MRG_RXBUF or VERSION_1, else 10;
     * any_header_sg with ANY_LAYOUT or VERSION_1. */
    vi->big_packets = virtnet_has(vi, VNS_VIRTIO_NET_F_GUEST_TSO4) ||
                      virtnet_has(vi, VNS_VIRTIO_NET_F_GUEST_TSO6) ||
                      virtnet_has(vi, VNS_VIRTIO_NET_F_GUEST_ECN) ||
                      virtnet_has(vi, VNS_VIRTIO_NET_F_GUEST_UFO);
    vi->mergeable = virtnet_has(vi, VNS_VIRTIO_NET_F_MRG_RXBUF);
    vi->hdr_len = (vi->mergeable || virtnet_has(vi, VNS_VIRTIO_F_VERSION_1)) ? VNS_VIRTIO_NET_HDR_MRG_LEN
                                                                              : VNS_VIRTIO_NET_HDR_LEN;
    vi->any_header_sg = virtnet_has(vi, VNS_VIRTIO_F_ANY_LAYOUT) || virtnet_has(vi, VNS_VIRTIO_F_VERSION_1);
    err = vns_alloc_netdev(cfg->k, cfg->name ? cfg->name : "eth%d", &virtnet_netdev, &vi->dev);
    if (err) {
        vns_free(vi);
        return err;
    }
    ((struct virtnet_priv *)vns_netdev_priv(vi->dev))->vi = vi;
    /* Do we support "hardware" checksums? */
    vi->dev->features = 0;
    if (virtnet_has(vi, VNS_VIRTIO_NET_F_CSUM)) {
        vi->dev->features |= VNS_NETIF_F_HW_CSUM | VNS_NETIF_F_SG;
        if (virtnet_has(vi, VNS_VIRTIO_NET_F_HOST_TSO4))
            vi->dev->features |= VNS_NETIF_F_TSO;
        if (virtnet_has(vi, VNS_VIRTIO_NET_F_HOST_TSO6))
            vi->dev->features |= VNS_NETIF_F_TSO6;
        if (virtnet_has(vi, VNS_VIRTIO_NET_F_HOST_ECN))
            vi->dev->features |= VNS_NETIF_F_TSO_ECN;
    }
    vi->dev->features |= VNS_NETIF_F_GRO;
    vi->dev->hw_features = vi->dev->features;
    vi->dev->max_mtu = VNS_ETH_MAX_MTU;
    /* timers first: the unwind cancels them */
    for (unsigned i = 0; i < qps; i++)
        vns_timer_init(&vi->rq[i].refill, refill_work, &vi->rq[i], vns_sim_new_id(vi->sim));
    for (unsigned i = 0; i < qps; i++) {
        struct vns_cpu *cpu = cfg->irq_cpus && cfg->irq_cpus[i]
                                  ? cfg->irq_cpus[i]
                                  : vns_kernel_cpu(cfg->k, i % vns_kernel_ncpus(cfg->k));

        err = virtnet_init_queue(vi, i, cpu);
        if (err)
            goto fail;
    }
    err = vns_register_netdev(vi->dev);
    if (err)
        goto fail;
    *out = vi;
    return 0;

fail:
    virtnet_free_queues(vi);
    vns_free_netdev(vi->dev);
    vns_free(vi);
    return err;
}

void vns_virtnet_destroy(struct vns_virtnet *vi)
{
    if (!vi)
        return;
    vns_dev_close(vi->dev);
    virtnet_free_queues(vi);
    vns_unregister_netdev(vi->dev);
    vns_free(vi);
}

struct vns_net_device *vns_virtnet_dev(const struct vns_virtnet *vi) { return vi->dev; }
unsigned vns_virtnet_nvqs(const struct vns_virtnet *vi) { return 2 * vi->qps; }

struct vns_virtq *vns_virtnet_vq(const struct vns_virtnet *vi, unsigned index)
{
    if (index >= 2 * vi->qps)
        return NULL;
    return index & 1 ? vi->sq[index / 2].vq : vi->rq[index / 2].vq;
}

struct vns_irq *vns_virtnet_irq(const struct vns_virtnet *vi, unsigned index)
{
    if (index >= 2 * vi->qps)
        return NULL;
    return index & 1 ? (struct vns_irq *)&vi->sq[index / 2].irq : (struct vns_irq *)&vi->rq[index / 2].irq;
}

uint64_t vns_virtnet_features(const struct vns_virtnet *vi) { return vi->features; }
unsigned vns_virtnet_hdr_len(const struct vns_virtnet *vi) { return vi->hdr_len; }

const struct vns_virtnet_sq_stats *vns_virtnet_sq_stats(const struct vns_virtnet *vi, unsigned qp)
{
    return qp < vi->qps ? &vi->sq[qp].stats : NULL;
}

const struct vns_virtnet_rq_stats *vns_virtnet_rq_stats(const struct vns_virtnet *vi, unsigned qp)
{
    return qp < vi->qps ? &vi->rq[qp].stats : NULL;
}

int vns_virtnet_corrupt_tx(struct vns_virtnet *vi, unsigned qp, enum vns_devq_err kind, unsigned n)
{
    switch (kind) {
    case VNS_DEVQ_ERR_HEAD:
    case VNS_DEVQ_ERR_AVAIL_IDX:
    case VNS_DEVQ_ERR_DESC_INDEX:
    case VNS_DEVQ_ERR_LOOP:
    case VNS_DEVQ_ERR_TRANSLATE:
    case VNS_DEVQ_ERR_OUT_AFTER_IN:
    case VNS_DEVQ_ERR_INDIRECT_LEN:
    case VNS_DEVQ_ERR_INDIRECT_NESTED:
        break;
    default:
        return -VNS_ENOTSUP;
    }
    if (qp >= vi->qps || vi->layout != VNS_VIRTQ_SPLIT)
        return -VNS_ENOTSUP;
    vi->sq[qp].corrupt = n;
    vi->sq[qp].corrupt_kind = kind;
    return 0;
}

void vns_virtnet_set_rx_fault(struct vns_virtnet *vi, bool oom, bool stopped)
{
    bool resume = vi->rx_stopped && !stopped;

    vi->rx_oom = oom;
    vi->rx_stopped = stopped;
    /* A guest that comes back fills its rings again (the refill work, now). */
    for (unsigned i = 0; resume && i < vi->qps; i++) {
        if (!vi->rq[i].refill_pending) {
            vi->rq[i].refill_pending = true;
            vns_timer_arm(vi->sim, &vi->rq[i].refill, vns_sim_now(vi->sim));
        }
    }
}
