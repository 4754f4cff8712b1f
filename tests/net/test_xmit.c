/* tests/net/test_xmit.c -- the transmit core and qdiscs: pfifo_fast bands
 * and limits, the enqueue -> __qdisc_run -> sch_direct_xmit path and its
 * stack, requeue on NETDEV_TX_BUSY, the dev_tx_weight quota and NET_TX,
 * noqueue devices, device down, the recursion limit. */
#include "net/net_fixture.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

static struct vns_skb *pkt(struct vns_kernel *k, struct vns_net_device *dev, uint32_t prio, uint32_t tag)
{
    struct frame_spec s = frame_default(mac_b, mac_a, 100);
    struct vns_skb *skb;

    s.priority = prio;
    s.synthetic = true;
    skb = frame_build(k, &s);
    skb->dev = dev;
    skb->hash = tag;
    return skb;
}

/* pfifo_fast: prio2band picks the band, each band holds tx_queue_len
 * packets, overflow is QDISC_DROP; dequeue drains band 0, 1, 2 in order. */
static void test_qdisc_pfifo_fast_bands_and_limits(void **state)
{
    struct netfix f;
    struct vns_net_device *dev;
    struct vns_Qdisc *q = NULL;
    struct vns_skb *skb;

    (void)state;
    netfix_init(&f, 1, NULL);
    dev = capdev_new(f.k, "cap0", false);
    assert_int_equal(vns_pfifo_fast_band(6), 0);   /* TC_PRIO_INTERACTIVE */
    assert_int_equal(vns_pfifo_fast_band(0), 1);   /* best effort */
    assert_int_equal(vns_pfifo_fast_band(2), 2);   /* bulk */
    assert_int_equal(vns_pfifo_fast_band(16 + 6), 0);   /* & TC_PRIO_MAX */
    assert_int_equal(vns_qdisc_create(dev, &vns_pfifo_fast_ops, 4, &q), 0);
    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(q->ops->enqueue(NULL, pkt(f.k, dev, 2, 200 + i), q),
                         i < 4 ? VNS_NET_XMIT_SUCCESS : VNS_NET_XMIT_DROP);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(q->ops->enqueue(NULL, pkt(f.k, dev, 0, 100 + i), q), VNS_NET_XMIT_SUCCESS);
    assert_int_equal(q->ops->enqueue(NULL, pkt(f.k, dev, 6, 0), q), VNS_NET_XMIT_SUCCESS);
    assert_int_equal(q->qlen, 9);
    assert_int_equal(vns_pfifo_fast_band_qlen(q, 2), 4);
    assert_int_equal(q->stats.drops, 1);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_QDISC_DROP), 1);
    {
        static const uint32_t order[] = {0, 100, 101, 102, 103, 200, 201, 202, 203};

        for (unsigned i = 0; i < VNS_ARRAY_SIZE(order); i++) {
            skb = q->ops->dequeue(NULL, q);
            assert_non_null(skb);
            assert_int_equal(skb->hash, order[i]);
            vns_consume_skb(skb);
        }
    }
    assert_null(q->ops->dequeue(NULL, q));
    {
        struct vns_Qdisc *none = NULL;

        dev->tx_queue_len = 0;   /* pfifo_fast_init: -EINVAL on tx_queue_len 0 */
        assert_int_equal(vns_qdisc_create(dev, &vns_pfifo_fast_ops, 0, &none), -VNS_EINVAL);
        assert_null(none);
    }
    vns_qdisc_destroy(q);
    netfix_fini(&f);
}

/* A device gets pfifo_fast with its tx_queue_len on open, noqueue with
 * IFF_NO_QUEUE or tx_queue_len 0, the noop qdisc while down. */
static void test_qdisc_default_attach(void **state)
{
    struct netfix f;
    struct vns_net_device *a, *b, *c = NULL;

    (void)state;
    netfix_init(&f, 1, NULL);
    a = capdev_new(f.k, "cap%d", false);
    b = capdev_new(f.k, "cap%d", true);
    assert_string_equal(a->name, "cap0");
    assert_string_equal(b->name, "cap1");
    assert_string_equal(a->txq.qdisc->ops->id, "pfifo_fast");
    assert_int_equal(a->txq.qdisc->limit, 1000);
    assert_string_equal(b->txq.qdisc->ops->id, "noqueue");
    assert_int_equal(vns_alloc_netdev(f.k, "cap%d", &capdev_ops, &c), 0);
    c->tx_queue_len = 0;
    vns_skb_queue_head_init(&capdev_of(c)->q);
    assert_int_equal(vns_register_netdev(c), 0);
    assert_string_equal(c->txq.qdisc->ops->id, "noop");
    assert_int_equal(vns_dev_open(c), 0);
    assert_string_equal(c->txq.qdisc->ops->id, "noqueue");
    vns_dev_close(a);
    assert_string_equal(a->txq.qdisc->ops->id, "noop");
    assert_int_equal(vns_dev_open(a), 0);
    assert_string_equal(a->txq.qdisc->ops->id, "pfifo_fast");
    netfix_fini(&f);
}

/* The full path in process context: enqueue, __qdisc_run, sch_direct_xmit,
 * driver; the probe sees the seed's "virtio-net xmit path" lower part. */
struct sender {
    struct vns_kernel *k;
    struct vns_net_device *dev;
    int n;
    int rc[128];
};

static int send_step(struct vns_ctx *ctx, void *arg)
{
    struct sender *s = arg;

    vns_fn_enter(ctx, VNS_FN_ip_finish_output2);
    for (int i = 0; i < s->n; i++)
        s->rc[i] = vns_dev_queue_xmit(ctx, pkt(s->k, s->dev, 0, (uint32_t)i));
    vns_fn_exit(ctx);
    return VNS_STEP_DONE;
}

static void test_xmit_pfifo_fast_stack(void **state)
{
    struct netfix f;
    struct sender s;
    char *stacks;
    const char *expect = "[0] start_xmit\n[0] sch_direct_xmit\n[0] __qdisc_run\n[0] __dev_queue_xmit\n"
                         "[0] dev_queue_xmit\n[0] ip_finish_output2\n[0] do_syscall_64\n"
                         "[0] entry_SYSCALL_64_after_hwframe\n\n";

    (void)state;
    netfix_init(&f, 1, NULL);
    s = (struct sender){.k = f.k, .n = 3};
    s.dev = capdev_new(f.k, "eth0", false);
    capdev_of(s.dev)->xmit_frame = VNS_FN_start_xmit;
    vns_probe_add(f.sim, "start_xmit");
    vns_ctx_start(netfix_ctx(&f, 0, VNS_CTX_USER, "app", send_step, &s), 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(capdev_of(s.dev)->xmits, 3);
    assert_int_equal(s.rc[0], VNS_NET_XMIT_SUCCESS);
    assert_int_equal(s.dev->txq.qdisc->stats.packets, 3);
    assert_int_equal(s.dev->txq.qdisc->qlen, 0);
    stacks = vns_test_stacks_string(f.sim, false);
    assert_string_equal(stacks, expect);
    vns_free(stacks);
    netfix_fini(&f);
}

/* NETDEV_TX_BUSY: the skb is requeued (gso_skb), __netif_schedule raises
 * NET_TX inside the bh-off send, and the softirq at the outermost
 * local_bh_enable retransmits it: one packet, one requeue, in order. */
static void test_xmit_busy_requeues_and_net_tx_resends(void **state)
{
    struct netfix f;
    struct sender s;

    (void)state;
    netfix_init(&f, 1, NULL);
    s = (struct sender){.k = f.k, .n = 2};
    s.dev = capdev_new(f.k, "eth0", false);
    capdev_of(s.dev)->busy = 1;
    vns_ctx_start(netfix_ctx(&f, 0, VNS_CTX_USER, "app", send_step, &s), 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(capdev_of(s.dev)->xmits, 2);
    assert_int_equal(s.dev->txq.qdisc->stats.requeues, 1);
    assert_int_equal(vns_kernel_softnet_of(f.k, 0)->stats.tx_actions, 1);
    assert_int_equal(vns_cpu_stats(f.cpu[0])->softirq_runs[VNS_SOFTIRQ_AT_BH_ENABLE], 1);
    assert_int_equal(capdev_of(s.dev)->q.head->hash, 0);
    assert_int_equal(capdev_of(s.dev)->q.tail->hash, 1);
    netfix_fini(&f);
}

/* A stopped queue holds packets in the qdisc; waking it from process
 * context raises NET_TX (ksoftirqd), and __qdisc_run sends dev_tx_weight
 * (64) per run, rescheduling itself for the rest. */
struct waker {
    struct sender *s;
    int phase;
};

static int wake_step(struct vns_ctx *ctx, void *arg)
{
    struct waker *w = arg;

    if (w->phase++ == 0) {
        vns_netif_stop_queue(w->s->dev);
        send_step(ctx, w->s);
        return VNS_STEP_AGAIN;
    }
    vns_netif_wake_queue(ctx, w->s->dev);
    return VNS_STEP_DONE;
}

static void test_xmit_quota_and_wake(void **state)
{
    struct netfix f;
    struct sender s;
    struct waker w = {.s = &s};
    struct vns_skb *skb;
    uint32_t expect = 0;

    (void)state;
    netfix_init(&f, 1, NULL);
    s = (struct sender){.k = f.k, .n = 100};
    s.dev = capdev_new(f.k, "eth0", false);
    vns_ctx_start(netfix_ctx(&f, 0, VNS_CTX_USER, "app", wake_step, &w), 0);
    vns_sim_run(f.sim, VNS_MSEC(5));
    assert_int_equal(capdev_of(s.dev)->xmits, 100);
    /* one run when the first packet was requeued, then 64 + 36 */
    assert_int_equal(vns_kernel_softnet_of(f.k, 0)->stats.tx_actions, 3);
    assert_int_equal(vns_cpu_stats(f.cpu[0])->softirq_runs[VNS_SOFTIRQ_IN_KSOFTIRQD], 1);
    assert_int_equal(s.dev->txq.wakes, 1);
    while ((skb = vns_skb_dequeue(&capdev_of(s.dev)->q)) != NULL) {
        assert_int_equal(skb->hash, expect++);
        vns_consume_skb(skb);
    }
    netfix_fini(&f);
}

/* noqueue: the driver is called directly (no qdisc statistics); a stopped
 * noqueue device drops ("asks to queue packet"); a closed one drops in
 * the noop qdisc with NET_XMIT_CN. */
static void test_xmit_noqueue_paths(void **state)
{
    struct netfix f;
    struct vns_net_device *dev;

    (void)state;
    netfix_init(&f, 1, NULL);
    dev = capdev_new(f.k, "br0", true);
    assert_int_equal(vns_dev_queue_xmit(NULL, pkt(f.k, dev, 0, 1)), VNS_NETDEV_TX_OK);
    assert_int_equal(capdev_of(dev)->xmits, 1);
    vns_netif_stop_queue(dev);
    assert_int_equal(vns_dev_queue_xmit(NULL, pkt(f.k, dev, 0, 2)), -VNS_ENODEV);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_NETDEV_TX_BUSY), 1);
    assert_int_equal(dev->stats.tx_dropped, 1);
    vns_dev_close(dev);
    assert_int_equal(vns_dev_queue_xmit(NULL, pkt(f.k, dev, 0, 3)), VNS_NET_XMIT_CN);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_QDISC_DROP), 1);
    assert_int_equal(capdev_of(dev)->xmits, 1);
    netfix_fini(&f);
}

/* A device whose xmit sends to itself: with HARD_TX_LOCK held (not LLTX)
 * the second level is a dead loop at once; an LLTX device recurses until
 * xmit_recursion exceeds XMIT_RECURSION_LIMIT (10 in 5.4). */
static int loop_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    capdev_of(dev)->xmits++;
    skb->dev = dev;
    vns_dev_queue_xmit(ctx, skb);
    return VNS_NETDEV_TX_OK;
}

static const struct vns_net_device_ops loop_ops = {
    .kind = "loop", .priv_size = sizeof(struct capdev), .ndo_start_xmit = loop_xmit,
};

static void test_xmit_recursion_limit(void **state)
{
    struct netfix f;
    struct vns_net_device *dev = NULL;

    (void)state;
    netfix_init(&f, 1, NULL);
    assert_int_equal(vns_alloc_netdev(f.k, "loop0", &loop_ops, &dev), 0);
    dev->priv_flags |= VNS_IFF_NO_QUEUE;
    assert_int_equal(vns_register_netdev(dev), 0);
    vns_dev_open(dev);
    vns_dev_queue_xmit(NULL, pkt(f.k, dev, 0, 0));
    assert_int_equal(capdev_of(dev)->xmits, 1);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_RECURSION_LIMIT), 1);
    dev->features |= VNS_NETIF_F_LLTX;
    capdev_of(dev)->xmits = 0;
    vns_dev_queue_xmit(NULL, pkt(f.k, dev, 0, 0));
    assert_int_equal(capdev_of(dev)->xmits, 11);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_RECURSION_LIMIT), 2);
    assert_int_equal(vns_kernel_softnet_of(f.k, 0)->xmit_recursion, 0);
    netfix_fini(&f);
}

/* A locked, work-conserving qdisc (a plain FIFO with TCQ_F_CAN_BYPASS, as
 * pfifo is): an empty qdisc sends directly with sch_direct_xmit from
 * __dev_queue_xmit (no __qdisc_run frame); behind a busy driver packets
 * are enqueued and sent by the run. */
static int fifo_enqueue(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_Qdisc *q)
{
    struct vns_skb_head *h = q->priv;

    (void)ctx;
    if (q->qlen >= q->limit)
        return vns_qdisc_drop(skb, q);
    vns_skb_queue_tail(h, skb);
    q->qlen++;
    return VNS_NET_XMIT_SUCCESS;
}

static struct vns_skb *fifo_dequeue(struct vns_ctx *ctx, struct vns_Qdisc *q)
{
    struct vns_skb *skb = vns_skb_dequeue(q->priv);

    (void)ctx;
    if (skb)
        q->qlen--;
    return skb;
}

static int fifo_init(struct vns_Qdisc *q)
{
    vns_skb_queue_head_init(q->priv);
    return 0;
}

static void fifo_reset(struct vns_Qdisc *q)
{
    vns_skb_queue_purge_reason(q->priv, VNS_SKB_DROP_REASON_QDISC_DROP);
}

static const struct vns_Qdisc_ops fifo_ops = {
    .id = "pfifo", .priv_size = sizeof(struct vns_skb_head), .static_flags = VNS_TCQ_F_CAN_BYPASS,
    .enqueue = fifo_enqueue, .dequeue = fifo_dequeue, .init = fifo_init, .reset = fifo_reset,
};

static void test_xmit_locked_qdisc_bypass(void **state)
{
    struct netfix f;
    struct sender s;
    struct vns_Qdisc *q = NULL;
    char *stacks;

    (void)state;
    netfix_init(&f, 1, NULL);
    s = (struct sender){.k = f.k, .n = 1};
    s.dev = capdev_new(f.k, "eth0", false);
    capdev_of(s.dev)->xmit_frame = VNS_FN_start_xmit;
    assert_int_equal(vns_qdisc_create(s.dev, &fifo_ops, 100, &q), 0);
    vns_dev_graft_qdisc(s.dev, q);
    assert_ptr_equal(s.dev->txq.qdisc, q);
    vns_probe_add(f.sim, "start_xmit");
    vns_ctx_start(netfix_ctx(&f, 0, VNS_CTX_USER, "app", send_step, &s), 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(capdev_of(s.dev)->xmits, 1);
    stacks = vns_test_stacks_string(f.sim, false);
    assert_string_equal(stacks, "[0] start_xmit\n[0] sch_direct_xmit\n[0] __dev_queue_xmit\n[0] dev_queue_xmit\n"
                                "[0] ip_finish_output2\n[0] do_syscall_64\n[0] entry_SYSCALL_64_after_hwframe\n\n");
    vns_free(stacks);
    /* a busy driver: the first is requeued, the rest queue behind it */
    capdev_of(s.dev)->busy = 1;
    s.n = 5;
    vns_ctx_start(netfix_ctx(&f, 0, VNS_CTX_USER, "app2", send_step, &s), VNS_MSEC(2));
    vns_sim_run(f.sim, VNS_MSEC(3));
    assert_int_equal(capdev_of(s.dev)->xmits, 6);
    assert_int_equal(q->stats.requeues, 1);
    assert_int_equal(q->qlen, 0);
    netfix_fini(&f);
}

/* dev_kfree_skb_any from a hard interrupt defers the free to NET_TX's
 * completion_queue (run at that irq_exit); elsewhere it frees at once. */
struct irqfree {
    struct vns_kernel *k;
    struct vns_skb *skb[2];
    uint64_t live_in_irq;
    bool balanced_in_irq;
};

/* The packet ledger of @k (docs/reliability.md): created = consumed +
 * dropped + freed by hardware + merged + in flight. */
static bool books_balance(struct vns_kernel *k)
{
    const struct vns_kernel_stats *s = vns_kernel_stats(k);

    return s->skb_allocs ==
           s->consumed + vns_kernel_drops_total(k) + s->hw_freed + s->merged + s->skb_live;
}

static int irq_free(struct vns_ctx *ctx, void *arg)
{
    struct irqfree *r = arg;

    vns_dev_kfree_skb_any(ctx, r->skb[0], true);
    vns_napi_consume_skb(ctx, r->skb[1], 0);
    r->live_in_irq = vns_kernel_stats(r->k)->skb_live;
    r->balanced_in_irq = books_balance(r->k);
    return VNS_STEP_DONE;
}

static void test_xmit_free_from_irq_uses_completion_queue(void **state)
{
    struct netfix f;
    struct irqfree r;
    struct vns_irq irq;
    struct vns_skb *skb;

    (void)state;
    netfix_init(&f, 1, NULL);
    r = (struct irqfree){.k = f.k};
    r.skb[0] = vns_netdev_alloc_skb(f.k, 10);
    r.skb[1] = vns_netdev_alloc_skb(f.k, 10);
    vns_irq_init(&irq, "txdone", f.cpu[0], -1, irq_free, &r);
    vns_irq_raise(f.sim, &irq, 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(r.live_in_irq, 2);
    assert_true(r.balanced_in_irq);
    assert_int_equal(vns_kernel_stats(f.k)->skb_live, 0);
    assert_int_equal(vns_kernel_softnet_of(f.k, 0)->stats.completions, 2);
    assert_int_equal(vns_kernel_stats(f.k)->consumed, 2);
    assert_int_equal(vns_kernel_stats(f.k)->hw_freed, 0);
    assert_int_equal(vns_kernel_drops_total(f.k), 0);
    assert_true(books_balance(f.k));
    skb = vns_netdev_alloc_skb(f.k, 10);
    vns_dev_kfree_skb_any(NULL, skb, false);
    assert_int_equal(vns_kernel_stats(f.k)->skb_live, 0);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_NOT_SPECIFIED), 1);
    netfix_fini(&f);
}

/* The ledger counts an skb on the completion_queue once: in flight while
 * it waits (its fate is decided, not yet counted, as 5.4 keeps the reason
 * in get_kfree_skb_cb until net_tx_action), then consumed or dropped when
 * NET_TX or the end-of-run drain frees it. */
static void test_xmit_completion_queue_counted_once(void **state)
{
    struct netfix f;
    struct irqfree r;
    struct vns_irq irq;
    const struct vns_kernel_stats *st;

    (void)state;
    netfix_init(&f, 1, NULL);
    st = vns_kernel_stats(f.k);
    r = (struct irqfree){.k = f.k};
    r.skb[0] = vns_netdev_alloc_skb(f.k, 10);
    r.skb[1] = vns_netdev_alloc_skb(f.k, 10);
    /* the run ends before NET_TX serves the queue: no action to run */
    vns_softirq_open(f.cpu[0], VNS_NET_TX_SOFTIRQ, -1, NULL, NULL);
    vns_irq_init(&irq, "txdone", f.cpu[0], -1, irq_free, &r);
    vns_irq_raise(f.sim, &irq, 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(r.live_in_irq, 2);
    assert_true(r.balanced_in_irq);
    assert_non_null(vns_kernel_softnet_of(f.k, 0)->completion_queue.head);
    assert_int_equal(st->skb_live, 2);
    assert_int_equal(st->consumed, 0);
    assert_true(books_balance(f.k));
    /* the end-of-run drain frees the queue, counting each skb once */
    vns_kernel_drain(f.k);
    assert_null(vns_kernel_softnet_of(f.k, 0)->completion_queue.head);
    assert_int_equal(st->skb_live, 0);
    assert_int_equal(st->consumed, 2);
    assert_int_equal(st->hw_freed, 0);
    assert_int_equal(vns_kernel_drops_total(f.k), 0);
    assert_true(books_balance(f.k));
    netfix_fini(&f);
}

/* linux-6.6 behaviour: an empty pfifo_fast is bypassed (sch_direct_xmit
 * straight from __dev_queue_xmit, 5.14+), and XMIT_RECURSION_LIMIT is 8. */
static void test_xmit_linux66_bypass_and_recursion(void **state)
{
    struct netfix f;
    struct sender s;
    struct vns_net_device *loop = NULL;
    char *stacks;

    (void)state;
    netfix_init_profile(&f, 1, NULL, "linux-6.6");
    assert_int_equal(vns_kernel_config(f.k)->version, 606);
    s = (struct sender){.k = f.k, .n = 2};
    s.dev = capdev_new(f.k, "eth0", false);
    capdev_of(s.dev)->xmit_frame = VNS_FN_start_xmit;
    vns_probe_add(f.sim, "start_xmit");
    vns_ctx_start(netfix_ctx(&f, 0, VNS_CTX_USER, "app", send_step, &s), 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(capdev_of(s.dev)->xmits, 2);
    assert_int_equal(s.dev->txq.qdisc->qlen, 0);
    stacks = vns_test_stacks_string(f.sim, false);
    /* the linux-6.6 profile shows dev_hard_start_xmit under sch_direct_xmit */
    assert_non_null(strstr(stacks, "[0] start_xmit\n[0] dev_hard_start_xmit\n[0] sch_direct_xmit\n"
                                   "[0] __dev_queue_xmit\n[0] dev_queue_xmit\n"));
    assert_null(strstr(stacks, "__qdisc_run"));
    vns_free(stacks);
    assert_int_equal(vns_alloc_netdev(f.k, "loop0", &loop_ops, &loop), 0);
    loop->priv_flags |= VNS_IFF_NO_QUEUE;
    loop->features |= VNS_NETIF_F_LLTX;
    assert_int_equal(vns_register_netdev(loop), 0);
    vns_dev_open(loop);
    vns_dev_queue_xmit(NULL, pkt(f.k, loop, 0, 0));
    assert_int_equal(capdev_of(loop)->xmits, 9);
    netfix_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_qdisc_pfifo_fast_bands_and_limits, teardown),
        cmocka_unit_test_teardown(test_qdisc_default_attach, teardown),
        cmocka_unit_test_teardown(test_xmit_pfifo_fast_stack, teardown),
        cmocka_unit_test_teardown(test_xmit_busy_requeues_and_net_tx_resends, teardown),
        cmocka_unit_test_teardown(test_xmit_quota_and_wake, teardown),
        cmocka_unit_test_teardown(test_xmit_noqueue_paths, teardown),
        cmocka_unit_test_teardown(test_xmit_recursion_limit, teardown),
        cmocka_unit_test_teardown(test_xmit_locked_qdisc_bypass, teardown),
        cmocka_unit_test_teardown(test_xmit_free_from_irq_uses_completion_queue, teardown),
        cmocka_unit_test_teardown(test_xmit_completion_queue_counted_once, teardown),
        cmocka_unit_test_teardown(test_xmit_linux66_bypass_and_recursion, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
