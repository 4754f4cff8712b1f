/* lib/dev/wire.c -- a physical NIC pair on a wire (see include/vnetsim/wire.h).
 * LINUX: the NIC side follows drivers/net/ethernet/intel/ixgbe/ixgbe_main.c
 * (ixgbe_xmit_frame, ixgbe_msix_clean_rings, ixgbe_poll, ixgbe_clean_tx_irq,
 * ixgbe_clean_rx_irq); the wire is IEEE 802.3 framing arithmetic.
 *
 * Time: the MAC's serialization and the propagation are timer events (the
 * line is hardware, not CPU time); the driver's xmit, interrupt and poll
 * run on the kernel's CPUs and charge their costs there.
 * Simplified: TSO and checksum offload happen "in hardware" at xmit time
 * (segments and checksums are made with no CPU cost); the RX checksum is
 * reported as CHECKSUM_UNNECESSARY unless the frame was corrupted and
 * delivered (no_fcs_check); TX completions are cleaned at the start of
 * each poll, not counted against the budget (as ixgbe does). A corrupted
 * frame is the one copy made with its payload materialized (wire_copy),
 * so its flipped bit is anywhere in it and the receivers' checksums and
 * payload checks see it. */
#include <stdio.h>
#include <string.h>

#include "vnetsim/flow_book.h"
#include "vnetsim/rng.h"
#include "vnetsim/wire.h"
#include "net/net_int.h"

#define WIRE_OVERHEAD 24u   /* preamble + SFD 8, FCS 4, inter-frame gap 12 */
#define WIRE_MIN_FRAME 60u  /* without FCS */
/* ixgbe RX buffers with build_skb and 4 KiB pages: half a page each
 * (ixgbe_rx_pg_size / 2), of which IXGBE_RXBUFFER_1536 hold frame data */
#define WIRE_RX_BUF      2048u
#define WIRE_RX_BUF_DATA 1536u

struct wire_nic;

struct vns_wire {
    struct vns_sim *sim;
    char name[32];
    struct vns_wire_config cfg;
    struct wire_nic *nic[2];
    struct vns_wire_stats stats[2];
    bool down;                       /* link flap: every frame is lost */
};

struct wire_nic {
    struct vns_wire *w;
    int end;
    struct vns_net_device *dev;
    struct vns_napi_struct napi;
    struct vns_irq irq;
    char irq_name[48];
    bool irq_enabled;
    /* TX */
    struct vns_skb_head tx_ring;     /* waiting for the line */
    struct vns_skb *serializing;
    struct vns_skb_head tx_done;     /* sent, not yet cleaned */
    unsigned tx_used;                /* descriptors in use */
    vns_time_t line_free;
    struct vns_timer tx_timer;
    struct vns_rng rng;
    bool ge_bad;                     /* Gilbert-Elliott state of this direction */
    /* RX */
    struct vns_skb_head rx_ring;     /* arrived, not yet polled */
    struct vns_skb_head in_flight;   /* toward this NIC, by arrival time (skb->tstamp) */
    struct vns_timer rx_timer;
};

/* ser(len) = (max(len, 60) + 24) * 8 bits at rate_bps, rounded up. */
vns_time_t vns_wire_frame_time(const struct vns_wire *w, uint32_t len)
{
    uint64_t bits = (uint64_t)(VNS_MAX(len, WIRE_MIN_FRAME) + WIRE_OVERHEAD) * 8u;

    return (vns_time_t)((bits * 1000000000ull + w->cfg.rate_bps - 1) / w->cfg.rate_bps);
}

static struct wire_nic *peer_of(struct wire_nic *n)
{
    return n->w->nic[!n->end];
}

static void nic_raise_irq(struct wire_nic *n, vns_time_t when)
{
    if (n->irq_enabled && vns_netif_running(n->dev))
        vns_irq_raise(n->w->sim, &n->irq, when);
}

static void tx_start_next(struct wire_nic *n, vns_time_t t)
{
    struct vns_skb *skb;

    if (n->serializing || !(skb = vns_skb_dequeue(&n->tx_ring)))
        return;
    n->serializing = skb;
    t = VNS_MAX(t, n->line_free);
    n->w->stats[n->end].busy_ns += vns_wire_frame_time(n->w, skb->len);
    vns_timer_arm(n->w->sim, &n->tx_timer, t + vns_wire_frame_time(n->w, skb->len));
}

/* Insert in arrival order (stable among equal times). */
static void in_flight_insert(struct wire_nic *to, struct vns_skb *skb)
{
    struct vns_skb_head *q = &to->in_flight;
    struct vns_skb *p = q->tail;

    while (p && p->tstamp > skb->tstamp)
        p = p->prev;
    if (!p) {
        vns_skb_queue_head(q, skb);
    } else if (p == q->tail) {
        vns_skb_queue_tail(q, skb);
    } else {
        skb->prev = p;
        skb->next = p->next;
        p->next->prev = skb;
        p->next = skb;
        q->qlen++;
    }
    if (!vns_timer_pending(&to->rx_timer) || to->rx_timer.expires > q->head->tstamp)
        vns_timer_arm(to->w->sim, &to->rx_timer, q->head->tstamp);
}

/* Gilbert-Elliott: a two-state Markov chain per direction, stepped once
 * per frame (good -> bad with ge_p, bad -> good with ge_r), then a loss
 * draw with the state's loss probability. */
static bool wire_burst_lost(struct vns_wire *w, struct wire_nic *n)
{
    const struct vns_wire_config *c = &w->cfg;

    if (c->ge_p <= 0)
        return false;
    if (n->ge_bad ? vns_rng_double(&n->rng) < c->ge_r : vns_rng_double(&n->rng) < c->ge_p)
        n->ge_bad = !n->ge_bad;
    if (n->ge_bad)
        w->stats[n->end].bad_frames++;
    return vns_rng_double(&n->rng) < (n->ge_bad ? c->ge_loss_bad : c->ge_loss_good);
}

/* The receiving NIC's copy of a frame. A frame that the line corrupts is
 * copied with every byte real (its synthetic payload materialized), so the
 * flipped bit can land anywhere in it and the receiver's checksums see it:
 * the NIC drops it on its FCS, or with rx-all (no_fcs_check) the stack
 * finds a bad IP/TCP/UDP checksum, as for a real corrupted frame. A copy
 * of the linear buffer only (vns__skb_copy_to) keeps the payload a
 * synthetic range that regenerates intact. */
static struct vns_skb *wire_copy(struct vns_kernel *k, const struct vns_skb *skb, bool materialize)
{
    struct vns_skb *n;
    uint32_t bufs = VNS_MAX(1u, (skb->len + WIRE_RX_BUF_DATA - 1) / WIRE_RX_BUF_DATA);

    if (!materialize) {
        n = vns__skb_copy_to(k, skb);
    } else {
        n = vns_netdev_alloc_skb(k, skb->len);
        if (n)
            vns_skb_copy_bits(skb, 0, vns_skb_put(n, skb->len), skb->len);
    }
    /* truesize as ixgbe_build_skb makes it (5.4): build_skb around the
     * first half-page buffer (SKB_TRUESIZE(2048 - shared info)), each
     * further buffer a frag of truesize 2048 (ixgbe_add_rx_frag) */
    if (n)
        n->truesize = VNS_SKB_TRUESIZE(WIRE_RX_BUF - 320u) + (bufs - 1u) * WIRE_RX_BUF;
    return n;
}

/* The frame on the line is out: the bits travel to the peer, the
 * descriptor completes (TX interrupt). */
static void tx_timer_fire(struct vns_sim *sim, struct vns_timer *t)
{
    struct wire_nic *n = t->data, *to = peer_of(n);
    struct vns_wire *w = n->w;
    struct vns_wire_stats *st = &w->stats[n->end];
    struct vns_skb *skb = n->serializing;
    vns_time_t now = vns_sim_now(sim);
    unsigned copies = 1;
    struct vns_flow_hand fh; /* the flow books: the frame's weight */

    vns__flow_take(skb, &fh);
    n->serializing = NULL;
    n->line_free = now;
    st->frames++;
    st->bytes += skb->len;
    if (w->down) {
        st->link_down++;
        st->link_down_bytes += skb->len;
        copies = 0;
    } else if (wire_burst_lost(w, n)) {
        st->lost++;
        st->lost_bytes += skb->len;
        st->burst_lost++;
        copies = 0;
    } else if (w->cfg.loss > 0 && vns_rng_double(&n->rng) < w->cfg.loss) {
        st->lost++;
        st->lost_bytes += skb->len;
        copies = 0;
    } else if (w->cfg.dup > 0 && vns_rng_double(&n->rng) < w->cfg.dup) {
        st->duplicated++;
        st->duplicated_bytes += skb->len;
        copies = 2;
    }
    if (!to && copies) {   /* the far end is gone: lost on the line */
        st->lost += copies;
        st->lost_bytes += (uint64_t)copies * skb->len;
    }
    for (unsigned c = 0; c < copies && to; c++) {
        bool reordered = w->cfg.reorder > 0 && vns_rng_double(&n->rng) < w->cfg.reorder;
        bool corrupted = w->cfg.corrupt > 0 && vns_rng_double(&n->rng) < w->cfg.corrupt;
        struct vns_skb *f = wire_copy(to->dev->k, skb, corrupted);

        if (!f) {
            to->dev->stats.rx_missed_errors++;
            st->rx_dropped++;
            st->rx_dropped_bytes += skb->len;
            continue;
        }
        vns__flow_give(&fh, f);
        f->tstamp = now + w->cfg.delay;
        if (reordered) {
            st->reordered++;
            f->tstamp += w->cfg.reorder_delay;
        }
        if (corrupted) {
            /* any bit of the frame: headers or payload */
            uint64_t bit = vns_rng_below(&n->rng, (uint64_t)f->len * 8u);

            st->corrupted++;
            f->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            f->cb[0] = 1;    /* FCS no longer matches */
        }
        in_flight_insert(to, f);
    }
    vns__flow_hand_lost(&fh, w->down   ? VNS_FLOW_LOSS_LINK_DOWN
                             : !copies ? VNS_FLOW_LOSS_LINE
                             : !to     ? VNS_FLOW_LOSS_NO_PEER
                                       : VNS_FLOW_LOSS_NO_MEMORY);
    vns_skb_queue_tail(&n->tx_done, skb);
    nic_raise_irq(n, now);
    tx_start_next(n, now);
}

/* Frames reach the peer's MAC: FCS check, RX descriptor, interrupt. */
static void rx_timer_fire(struct vns_sim *sim, struct vns_timer *t)
{
    struct wire_nic *n = t->data;
    struct vns_wire *w = n->w;
    vns_time_t now = vns_sim_now(sim);
    struct vns_skb *skb;
    bool any = false;

    while (n->in_flight.head && n->in_flight.head->tstamp <= now) {
        struct vns_wire_stats *st = &w->stats[!n->end];
        uint64_t *drop = NULL;   /* the device counter of a hardware drop */

        skb = vns_skb_dequeue(&n->in_flight);
        skb->tstamp = 0;
        if (!vns_netif_running(n->dev)) {
            drop = &n->dev->stats.rx_dropped;
        } else if (skb->cb[0] && !w->cfg.no_fcs_check) {
            n->dev->stats.rx_errors++;
            drop = &n->dev->stats.rx_crc_errors;
        } else if (skb->len > n->dev->mtu + VNS_ETH_HLEN + VNS_VLAN_HLEN) {
            drop = &n->dev->stats.rx_errors;   /* rx_length_errors */
        } else if (n->rx_ring.qlen >= w->cfg.rx_ring) {
            drop = &n->dev->stats.rx_missed_errors;
        }
        if (drop) {
            (*drop)++;
            st->rx_dropped++;   /* the wire's ledger: dropped at the peer */
            st->rx_dropped_bytes += skb->len;
            vns__flow_end(skb, VNS_FLOW_HW_FREED,
                          drop == &n->dev->stats.rx_dropped         ? VNS_FLOW_HW_NIC_DOWN
                          : drop == &n->dev->stats.rx_crc_errors    ? VNS_FLOW_HW_BAD_FCS
                          : drop == &n->dev->stats.rx_missed_errors ? VNS_FLOW_HW_RING_FULL
                                                                    : VNS_FLOW_HW_TOO_LONG);
            vns__skb_free_hw(skb);
        } else {
            st->delivered++;
            st->delivered_bytes += skb->len;
            vns_skb_queue_tail(&n->rx_ring, skb);
            any = true;
        }
    }
    if (n->in_flight.head)
        vns_timer_arm(sim, &n->rx_timer, n->in_flight.head->tstamp);
    if (any)
        nic_raise_irq(n, now);
}

/* ixgbe_msix_clean_rings: the queue interrupt stays masked while NAPI runs. */
static int nic_irq(struct vns_ctx *ctx, void *arg)
{
    struct wire_nic *n = arg;

    vns_fn_enter(ctx, VNS_FN_ixgbe_msix_clean_rings);
    n->irq_enabled = false;
    vns_napi_schedule(ctx, &n->napi);
    vns_fn_exit(ctx);
    return VNS_STEP_DONE;
}

static void nic_clean_tx(struct vns_ctx *ctx, struct wire_nic *n)
{
    struct vns_skb *skb;
    unsigned done = 0;

    if (!n->tx_done.head)
        return;
    vns_fn_enter(ctx, VNS_FN_ixgbe_clean_tx_irq);
    while ((skb = vns_skb_dequeue(&n->tx_done)) != NULL) {
        n->dev->stats.tx_packets++;
        n->dev->stats.tx_bytes += skb->len;
        vns_consume_skb(skb);
        done++;
    }
    n->tx_used -= done;
    /* TX_WAKE_THRESHOLD: wake once a quarter of the ring is free */
    if (vns_netif_queue_stopped(n->dev) && n->w->cfg.tx_ring - n->tx_used >= VNS_MAX(1u, n->w->cfg.tx_ring / 4))
        vns_netif_wake_queue(ctx, n->dev);
    vns_fn_exit(ctx);
}

/* ixgbe_poll: TX completions, then one received frame per step. */
static int nic_poll(struct vns_ctx *ctx, struct vns_napi_struct *napi, int budget)
{
    struct wire_nic *n = napi->priv;
    struct vns_skb *skb;

    if (napi->work == 0 && !n->napi.cpu)
        n->napi.cpu = vns_ctx_cpu(ctx);
    nic_clean_tx(ctx, n);
    if (napi->work < budget && (skb = vns_skb_dequeue(&n->rx_ring)) != NULL) {
        vns_fn_enter(ctx, VNS_FN_ixgbe_clean_rx_irq);
        n->dev->stats.rx_packets++;
        n->dev->stats.rx_bytes += skb->len;
        if (vns_is_multicast_ether_addr(skb->data))
            n->dev->stats.multicast++;
        skb->ip_summed = n->w->cfg.no_fcs_check && skb->cb[0] ? VNS_CHECKSUM_NONE : VNS_CHECKSUM_UNNECESSARY;
        skb->cb[0] = 0;
        skb->protocol = vns_eth_type_trans(skb, n->dev);
        vns_napi_gro_receive(ctx, napi, skb);
        vns_fn_exit(ctx);
        napi->work++;
        if (napi->work < budget)
            return VNS_STEP_AGAIN;
        return VNS_STEP_DONE;
    }
    if (napi->work < budget && vns_napi_complete_done(ctx, napi, napi->work)) {
        /* ixgbe_irq_enable_queues; work that came meanwhile fires it */
        n->irq_enabled = true;
        if (n->rx_ring.head || n->tx_done.head)
            nic_raise_irq(n, vns_ctx_now(ctx));
    }
    return VNS_STEP_DONE;
}

static int nic_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    struct wire_nic *n = vns_netdev_priv(dev);
    unsigned ring = n->w->cfg.tx_ring, need = vns_skb_is_gso(skb) ? VNS_MAX(1u, skb->gso_segs) : 1;
    struct vns_skb *segs;

    vns_fn_enter(ctx, VNS_FN_ixgbe_xmit_frame);
    if (ring - n->tx_used < need) {
        /* ixgbe_maybe_stop_tx: "Detected Tx Unit Hang"-free path */
        vns_netif_stop_queue(dev);
        n->w->stats[n->end].busy++;
        vns_fn_exit(ctx);
        return VNS_NETDEV_TX_BUSY;
    }
    if (vns_skb_is_gso(skb)) {
        /* hardware TSO: segments and checksums at no CPU cost */
        segs = vns__skb_gso_segment(NULL, skb, dev->features & ~VNS_NETIF_F_GSO_SOFTWARE & ~VNS_NETIF_F_CSUM_MASK);
        if (!segs) {
            dev->stats.tx_dropped++;
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_SKB_GSO_SEG);
            vns_fn_exit(ctx);
            return VNS_NETDEV_TX_OK;
        }
        vns_consume_skb(skb);
    } else {
        vns_skb_checksum_help(skb);   /* hardware checksum */
        segs = skb;
    }
    while (segs) {
        struct vns_skb *next = segs->next;

        segs->next = NULL;
        if (n->tx_used >= ring) {
            /* the last segments of an skb whose gso_segs undercounted */
            dev->stats.tx_dropped++;
            vns_kfree_skb_reason(segs, VNS_SKB_DROP_REASON_FULL_RING);
        } else {
            n->tx_used++;
            vns_skb_queue_tail(&n->tx_ring, segs);
        }
        segs = next;
    }
    if (n->tx_used >= ring)
        vns_netif_stop_queue(dev);
    tx_start_next(n, ctx ? vns_ctx_now(ctx) : vns_sim_now(n->w->sim));
    vns_fn_exit(ctx);
    return VNS_NETDEV_TX_OK;
}

static int nic_open(struct vns_net_device *dev)
{
    struct wire_nic *n = vns_netdev_priv(dev);

    vns_napi_enable(&n->napi);
    n->irq_enabled = true;
    return 0;
}

static void nic_stop(struct vns_net_device *dev)
{
    struct wire_nic *n = vns_netdev_priv(dev);

    vns_napi_disable(&n->napi);
    n->irq_enabled = false;
}

static void nic_uninit(struct vns_net_device *dev)
{
    struct wire_nic *n = vns_netdev_priv(dev);
    struct vns_sim *sim = n->w->sim;

    vns_timer_cancel(sim, &n->tx_timer);
    vns_timer_cancel(sim, &n->rx_timer);
    if (n->serializing)
        vns_kfree_skb_reason(n->serializing, VNS_SKB_DROP_REASON_DEV_READY);
    n->serializing = NULL;
    vns_skb_queue_purge_reason(&n->tx_ring, VNS_SKB_DROP_REASON_DEV_READY);
    while (n->tx_done.head)
        vns_consume_skb(vns_skb_dequeue(&n->tx_done));
    while (n->rx_ring.head)
        vns__skb_free_hw(vns_skb_dequeue(&n->rx_ring));
    while (n->in_flight.head)
        vns__skb_free_hw(vns_skb_dequeue(&n->in_flight));
    vns_netif_napi_del(&n->napi);
    /* XXX(net): the engine has no way to withdraw a raised vns_irq; a NIC
     * must not be unregistered while its interrupt is in flight (destroy
     * wires when the simulation will not run again). */
    n->w->nic[n->end] = NULL;
}

static const struct vns_net_device_ops nic_ops = {
    .kind = "wire",
    .priv_size = sizeof(struct wire_nic),
    .ndo_open = nic_open,
    .ndo_stop = nic_stop,
    .ndo_start_xmit = nic_xmit,
    .ndo_uninit = nic_uninit,
};

static int nic_create(struct vns_wire *w, int end, const struct vns_wire_end *e)
{
    struct vns_net_device *dev = NULL;
    struct wire_nic *n;
    char stream[64];
    int err;

    if (!e || !e->k || e->cpu >= vns_kernel_ncpus(e->k) || vns_kernel_sim(e->k) != w->sim)
        return -VNS_EINVAL;
    err = vns_alloc_netdev(e->k, e->ifname ? e->ifname : "eth%d", &nic_ops, &dev);
    if (err)
        return err;
    dev->features = w->cfg.features;
    dev->mtu = w->cfg.mtu;
    dev->max_mtu = 9710;   /* IXGBE_MAX_JUMBO_FRAME_SIZE - ETH_HLEN - ETH_FCS_LEN */
    n = vns_netdev_priv(dev);
    memset(n, 0, sizeof(*n));
    n->w = w;
    n->end = end;
    n->dev = dev;
    vns_skb_queue_head_init(&n->tx_ring);
    vns_skb_queue_head_init(&n->tx_done);
    vns_skb_queue_head_init(&n->rx_ring);
    vns_skb_queue_head_init(&n->in_flight);
    err = vns_register_netdev(dev);
    if (err) {
        vns_free_netdev(dev);
        return err;
    }
    vns_netif_napi_add(dev, &n->napi, nic_poll, VNS_FN_ixgbe_poll, VNS_NAPI_POLL_WEIGHT);
    n->napi.priv = n;
    snprintf(n->irq_name, sizeof(n->irq_name), "%s-TxRx-0", dev->name);
    vns_irq_init(&n->irq, n->irq_name, vns_kernel_cpu(e->k, e->cpu), -1, nic_irq, n);
    vns_timer_init(&n->tx_timer, tx_timer_fire, n, vns_sim_new_id(w->sim));
    vns_timer_init(&n->rx_timer, rx_timer_fire, n, vns_sim_new_id(w->sim));
    snprintf(stream, sizeof(stream), "%s.%d.impair", w->name, end);
    vns_sim_rng(w->sim, stream, &n->rng);
    w->nic[end] = n;
    return 0;
}

int vns_wire_create(struct vns_sim *sim, const struct vns_wire_config *cfg, const struct vns_wire_end *a,
                    const struct vns_wire_end *b, struct vns_wire **out)
{
    struct vns_wire *w;
    int err;

    if (!sim || !cfg || (cfg->loss < 0 || cfg->loss > 1) || cfg->dup < 0 || cfg->dup > 1 ||
        cfg->reorder < 0 || cfg->reorder > 1 || cfg->corrupt < 0 || cfg->corrupt > 1 || !(cfg->ge_p >= 0) ||
        cfg->ge_p > 1 || !(cfg->ge_r >= 0) || cfg->ge_r > 1 || !(cfg->ge_loss_bad >= 0) || cfg->ge_loss_bad > 1 ||
        !(cfg->ge_loss_good >= 0) || cfg->ge_loss_good > 1)
        return -VNS_EINVAL;
    w = vns_calloc(1, sizeof(*w));
    if (!w)
        return -VNS_ENOMEM;
    w->sim = sim;
    snprintf(w->name, sizeof(w->name), "%.31s", cfg->name ? cfg->name : "wire");
    w->cfg = *cfg;
    w->cfg.name = w->name;
    if (!w->cfg.rate_bps)
        w->cfg.rate_bps = 10000000000ull;
    if (!w->cfg.mtu)
        w->cfg.mtu = VNS_ETH_DATA_LEN;
    if (!w->cfg.reorder_delay)
        w->cfg.reorder_delay = VNS_USEC(100);
    if (!w->cfg.tx_ring)
        w->cfg.tx_ring = 512;
    if (!w->cfg.rx_ring)
        w->cfg.rx_ring = 512;
    if (!w->cfg.features)
        w->cfg.features = VNS_NETIF_F_SG | VNS_NETIF_F_HW_CSUM | VNS_NETIF_F_TSO | VNS_NETIF_F_GRO;
    err = nic_create(w, 0, a);
    if (!err)
        err = nic_create(w, 1, b);
    if (err) {
        vns_wire_destroy(w);
        return err;
    }
    *out = w;
    return 0;
}

void vns_wire_destroy(struct vns_wire *w)
{
    if (!w)
        return;
    for (int i = 0; i < 2; i++)
        if (w->nic[i])
            vns_unregister_netdev(w->nic[i]->dev);
    vns_free(w);
}

struct vns_net_device *vns_wire_dev(const struct vns_wire *w, int end)
{
    return w->nic[end & 1] ? w->nic[end & 1]->dev : NULL;
}

const struct vns_wire_stats *vns_wire_stats(const struct vns_wire *w, int end)
{
    return &w->stats[end & 1];
}

void vns_wire_set_link(struct vns_wire *w, bool up)
{
    w->down = !up;
}

bool vns_wire_link_up(const struct vns_wire *w) { return !w->down; }

void vns_wire_in_flight(const struct vns_wire *w, int end, uint64_t *frames, uint64_t *bytes)
{
    const struct wire_nic *to = w->nic[!(end & 1)];

    *frames = *bytes = 0;
    for (const struct vns_skb *skb = to ? to->in_flight.head : NULL; skb; skb = skb->next) {
        (*frames)++;
        *bytes += skb->len;
    }
}
