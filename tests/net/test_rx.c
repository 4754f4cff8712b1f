/* tests/net/test_rx.c -- the receive side: netif_rx and the per-CPU
 * backlog (netdev_max_backlog, CPU_BACKLOG drops), process_backlog quota
 * and the net_rx_action budget, NAPI scheduling from an interrupt (poll at
 * irq_exit, the seed's virtio-net recv path), repoll, MISSED, the time
 * limit, rx_handler results, protocol delivery. */
#include "net/net_fixture.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

static struct vns_skb *rx_pkt(struct vns_kernel *k, struct vns_net_device *dev, uint32_t tag)
{
    struct frame_spec s = frame_default(dev->dev_addr, mac_a, 100);
    struct vns_skb *skb;

    s.synthetic = true;
    s.seq = tag;
    skb = frame_build(k, &s);
    skb->protocol = vns_eth_type_trans(skb, dev);
    skb->hash = tag;
    return skb;
}

static int irq_nop(struct vns_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    return VNS_STEP_DONE;
}

/* netif_rx accepts while qlen <= netdev_max_backlog (1001 packets), then
 * drops with CPU_BACKLOG. The softirq at the next irq_exit drains it: the
 * backlog is the only NAPI, so each net_rx_action polls it once (64, then
 * repoll and re-raise); __do_softirq restarts 10 times, then leaves the
 * rest to ksoftirqd, exactly as 5.4 does. */
static void test_rx_backlog_limit_and_budget(void **state)
{
    struct netfix f;
    struct vns_net_device *dev;
    struct vns_softnet_data *sd;
    struct ipsink sink;
    struct vns_irq irq;
    int ok = 0;

    (void)state;
    netfix_init(&f, 1, NULL);
    dev = capdev_new(f.k, "eth0", false);
    ipsink_init(&sink, f.k, false);
    for (uint32_t i = 0; i < 1100; i++)
        ok += vns_netif_rx(NULL, rx_pkt(f.k, dev, i)) == VNS_NET_RX_SUCCESS;
    sd = vns_kernel_softnet_of(f.k, 0);
    assert_int_equal(ok, 1001);
    assert_int_equal(sd->stats.dropped, 99);
    assert_int_equal(dev->stats.rx_dropped, 99);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_CPU_BACKLOG), 99);
    assert_true(vns_softirq_pending(f.cpu[0]) & (1u << VNS_NET_RX_SOFTIRQ));
    assert_int_equal(sink.count, 0);
    vns_irq_init(&irq, "nic", f.cpu[0], -1, irq_nop, NULL);
    vns_irq_raise(f.sim, &irq, 100);
    vns_sim_run(f.sim, VNS_MSEC(10));
    assert_int_equal(sink.count, 1001);
    assert_int_equal(sd->stats.processed, 1001);
    assert_int_equal(sd->stats.rx_actions, 16);          /* 15 x 64 + 41 */
    assert_int_equal(sd->stats.time_squeeze, 0);
    assert_int_equal(sd->backlog.stats.repolls, 15);
    assert_int_equal(sd->backlog.state, 0);
    assert_int_equal(vns_cpu_stats(f.cpu[0])->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT], 1);
    assert_int_equal(vns_cpu_stats(f.cpu[0])->softirq_runs[VNS_SOFTIRQ_IN_KSOFTIRQD], 1);
    netfix_fini(&f);
}

/* A frame queued with netif_rx inside a bh-disabled region is processed at
 * the outermost local_bh_enable, on the same stack. */
struct bhsend {
    struct vns_kernel *k;
    struct vns_net_device *dev;
    struct ipsink *sink;
    unsigned before_enable;
};

static int bh_step(struct vns_ctx *ctx, void *arg)
{
    struct bhsend *b = arg;

    vns_fn_enter(ctx, VNS_FN_ip_finish_output2);
    vns_local_bh_disable(ctx);
    vns_netif_rx(ctx, rx_pkt(b->k, b->dev, 1));
    vns_local_bh_disable(ctx);
    vns_local_bh_enable(ctx);
    b->before_enable = b->sink->count;
    vns_local_bh_enable(ctx);
    vns_fn_exit(ctx);
    return VNS_STEP_DONE;
}

static void test_rx_netif_rx_runs_at_local_bh_enable(void **state)
{
    struct netfix f;
    struct ipsink sink;
    struct bhsend b;
    struct vns_ctx *app;
    char *stacks;
    const char *expect =
        "[0] ip_rcv\n[0] __netif_receive_skb_one_core\n[0] __netif_receive_skb\n[0] process_backlog\n"
        "[0] net_rx_action\n[0] __do_softirq\n[0] do_softirq_own_stack\n[0] do_softirq\n"
        "[0] __local_bh_enable_ip\n[0] ip_finish_output2\n[0] do_syscall_64\n"
        "[0] entry_SYSCALL_64_after_hwframe\n\n";

    (void)state;
    netfix_init(&f, 1, NULL);
    ipsink_init(&sink, f.k, false);
    b = (struct bhsend){.k = f.k, .dev = capdev_new(f.k, "eth0", false), .sink = &sink};
    vns_probe_add(f.sim, "ip_rcv");
    app = netfix_ctx(&f, 0, VNS_CTX_USER, "app", bh_step, &b);
    vns_ctx_start(app, 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(b.before_enable, 0);
    assert_int_equal(sink.count, 1);
    assert_int_equal(vns_ctx_stats(app)->steps, 1);
    assert_int_equal(vns_cpu_stats(f.cpu[0])->softirq_runs[VNS_SOFTIRQ_AT_BH_ENABLE], 1);
    stacks = vns_test_stacks_string(f.sim, false);
    assert_string_equal(stacks, expect);
    vns_free(stacks);
    netfix_fini(&f);
}

/* A fake NIC: an interrupt schedules NAPI; the poll delivers one frame per
 * step through napi_gro_receive and completes when the ring is empty. */
struct fnic {
    struct vns_napi_struct napi;
    struct vns_skb_head ring;
    struct vns_irq irq;
    struct vns_net_device *dev;
    uint64_t cost_ns;
};

static int fnic_irq(struct vns_ctx *ctx, void *arg)
{
    struct fnic *n = arg;

    vns_napi_schedule(ctx, &n->napi);
    return VNS_STEP_DONE;
}

static int fnic_poll(struct vns_ctx *ctx, struct vns_napi_struct *napi, int budget)
{
    struct fnic *n = napi->priv;
    struct vns_skb *skb;

    if (napi->work < budget && (skb = vns_skb_dequeue(&n->ring)) != NULL) {
        vns_charge_ns(ctx, n->cost_ns);
        vns_napi_gro_receive(ctx, napi, skb);
        napi->work++;
        if (napi->work < budget)
            return VNS_STEP_AGAIN;
        return VNS_STEP_DONE;
    }
    if (napi->work < budget)
        vns_napi_complete_done(ctx, napi, napi->work);
    return VNS_STEP_DONE;
}

static void fnic_init(struct fnic *n, struct vns_net_device *dev, struct vns_cpu *cpu, int frame)
{
    memset(n, 0, sizeof(*n));
    n->dev = dev;
    vns_skb_queue_head_init(&n->ring);
    vns_netif_napi_add(dev, &n->napi, fnic_poll, frame, VNS_NAPI_POLL_WEIGHT);
    n->napi.priv = n;
    vns_napi_enable(&n->napi);
    vns_irq_init(&n->irq, dev->name, cpu, -1, fnic_irq, n);
}

/* On a halted guest vCPU: the interrupt wakes it, NAPI is scheduled in the
 * handler, and the poll runs at irq_exit: the seed's virtio-net recv path. */
static void test_rx_napi_from_irq_runs_at_irq_exit(void **state)
{
    struct vns_sim *sim = vns_test_sim(3);
    struct vns_cpu *host = NULL, *vcpu = NULL;
    struct vns_kernel *k = NULL;
    struct vns_net_device *dev;
    struct ipsink sink;
    struct fnic nic;
    char *stacks, *seed;
    size_t len;

    (void)state;
    assert_int_equal(vns_cpu_create(sim, &(struct vns_cpu_config){.name = "host/cpu0"}, &host), 0);
    assert_int_equal(vns_cpu_create(sim, &(struct vns_cpu_config){.name = "vm/cpu0", .backing_cpu = host}, &vcpu), 0);
    assert_int_equal(vns_kernel_create(sim, &(struct vns_kernel_config){.name = "vm", .cpus = &vcpu, .ncpus = 1}, &k), 0);
    dev = capdev_new(k, "eth0", false);
    ipsink_init(&sink, k, false);
    fnic_init(&nic, dev, vcpu, VNS_FN_virtnet_poll);
    for (uint32_t i = 0; i < 3; i++)
        vns_skb_queue_tail(&nic.ring, rx_pkt(k, dev, i * 100));
    vns_probe_add(sim, "napi_gro_receive");
    vns_irq_raise(sim, &nic.irq, 1000);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(sink.count, 3);
    assert_int_equal(nic.napi.state, 0);
    assert_int_equal(nic.napi.stats.polls, 1);
    assert_int_equal(vns_cpu_stats(vcpu)->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT], 1);
    /* the stack is the seed's "virtio-net recv path" */
    stacks = vns_test_stacks_string(sim, false);
    seed = vns_test_read_file(VNS_SOURCE_DIR "/tests/golden/kernel-stacks.txt", &len);
    assert_non_null(seed);
    assert_non_null(strstr(seed, stacks));
    assert_string_equal(stacks, "[0] napi_gro_receive\n[0] virtnet_poll\n[0] net_rx_action\n[0] __do_softirq\n"
                                "[0] irq_exit\n[0] do_IRQ\n[0] ret_from_intr\n[0] native_safe_halt\n"
                                "[0] default_idle\n[0] arch_cpu_idle\n[0] default_idle_call\n[0] do_idle\n"
                                "[0] cpu_startup_entry\n[0] start_secondary\n[0] secondary_startup_64\n\n");
    vns_free(seed);
    vns_free(stacks);
    vns_netif_napi_del(&nic.napi);
    vns_kernel_destroy(k);
    vns_sim_destroy(sim);
}

/* One interrupt that schedules five NAPIs (so all are on the list at the
 * first pass). */
static struct fnic *five;

static int irq_five(struct vns_ctx *ctx, void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++)
        vns_napi_schedule(ctx, &five[i].napi);
    return VNS_STEP_DONE;
}

/* Five NAPIs share the 300 budget: 64 each in turn (work == weight:
 * repoll at the tail); after the fifth the budget is spent (-20): the
 * action is squeezed and the rest runs in later passes. */
static void test_rx_napi_budget_and_repoll(void **state)
{
    struct netfix f;
    struct ipsink sink;
    struct fnic nic[5];
    struct vns_softnet_data *sd;
    struct vns_irq irq;
    char name[16];

    (void)state;
    netfix_init(&f, 1, NULL);
    ipsink_init(&sink, f.k, false);
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "eth%d", i);
        fnic_init(&nic[i], capdev_new(f.k, name, false), f.cpu[0], VNS_FN_virtnet_poll);
        for (uint32_t j = 0; j < 200; j++)
            vns_skb_queue_tail(&nic[i].ring, rx_pkt(f.k, nic[i].dev, j));
    }
    five = nic;
    vns_irq_init(&irq, "five", f.cpu[0], -1, irq_five, NULL);
    vns_irq_raise(f.sim, &irq, 0);
    vns_sim_run(f.sim, VNS_MSEC(10));
    sd = vns_kernel_softnet_of(f.k, 0);
    assert_int_equal(sink.count, 1000);
    /* passes: 320 (squeezed), 320 (squeezed), 320 (squeezed), 40 */
    assert_int_equal(sd->stats.time_squeeze, 3);
    assert_int_equal(sd->stats.rx_actions, 4);
    for (int i = 0; i < 5; i++) {
        /* 64, 64, 64, 8 */
        assert_int_equal(nic[i].napi.stats.polls, 4);
        assert_int_equal(nic[i].napi.stats.repolls, 3);
        assert_int_equal(nic[i].napi.state, 0);
        vns_netif_napi_del(&nic[i].napi);
    }
    netfix_fini(&f);
}

/* napi_schedule while scheduled sets MISSED; napi_complete_done then
 * reschedules instead of completing. */
static void test_rx_napi_missed(void **state)
{
    struct netfix f;
    struct fnic n;

    (void)state;
    netfix_init(&f, 1, NULL);
    fnic_init(&n, capdev_new(f.k, "eth0", false), f.cpu[0], VNS_FN_virtnet_poll);
    assert_true(vns_napi_schedule(NULL, &n.napi));
    assert_false(vns_napi_schedule(NULL, &n.napi));
    assert_int_equal(n.napi.stats.missed, 1);
    assert_true(n.napi.state & VNS_NAPI_STATE_MISSED);
    n.napi.on_list = false;              /* as net_rx_action's list_del_init */
    vns_kernel_softnet_of(f.k, 0)->poll_head = vns_kernel_softnet_of(f.k, 0)->poll_tail = NULL;
    assert_false(vns_napi_complete_done(NULL, &n.napi, 0));
    assert_true(n.napi.state & VNS_NAPI_STATE_SCHED);
    assert_true(n.napi.on_list);
    n.napi.on_list = false;
    assert_true(vns_napi_complete_done(NULL, &n.napi, 0));
    assert_int_equal(n.napi.state, 0);
    vns_napi_disable(&n.napi);
    assert_false(vns_napi_schedule(NULL, &n.napi));
    netfix_fini(&f);
}

/* netdev_budget_usecs: with a packet budget that is never reached, a pass
 * stops once the jiffy clock reaches its time limit (time_squeeze) and the
 * rest runs in later passes (or ksoftirqd after MAX_SOFTIRQ_TIME). */
static void test_rx_time_limit(void **state)
{
    struct netfix f;
    struct ipsink sink;
    struct fnic nic[5];
    struct vns_softnet_data *sd;
    struct vns_irq irq;
    char name[16];

    (void)state;
    netfix_init(&f, 1, &(struct vns_kernel_config){.netdev_budget = 100000, .netdev_budget_usecs = 1000});
    ipsink_init(&sink, f.k, false);
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "eth%d", i);
        fnic_init(&nic[i], capdev_new(f.k, name, false), f.cpu[0], VNS_FN_virtnet_poll);
        nic[i].cost_ns = 10000;
        for (uint32_t j = 0; j < 200; j++)
            vns_skb_queue_tail(&nic[i].ring, rx_pkt(f.k, nic[i].dev, j));
    }
    five = nic;
    vns_irq_init(&irq, "five", f.cpu[0], -1, irq_five, NULL);
    vns_irq_raise(f.sim, &irq, 0);
    vns_sim_run(f.sim, VNS_MSEC(100));
    sd = vns_kernel_softnet_of(f.k, 0);
    assert_int_equal(sink.count, 1000);
    /* each poll of 64 takes 640 us: a pass ends after one or two polls */
    assert_true(sd->stats.time_squeeze >= 5);
    assert_true(sd->stats.rx_actions >= 6);
    for (int i = 0; i < 5; i++)
        vns_netif_napi_del(&nic[i].napi);
    netfix_fini(&f);
}

/* rx_handler results: CONSUMED stops, PASS delivers to the protocol,
 * ANOTHER goes round with the new device; no handler: UNHANDLED_PROTO. */
static struct vns_net_device *another_to;

static enum vns_rx_handler_result h_consume(struct vns_ctx *ctx, struct vns_skb **pskb)
{
    (void)ctx;
    vns_consume_skb(*pskb);
    return VNS_RX_HANDLER_CONSUMED;
}

static enum vns_rx_handler_result h_pass(struct vns_ctx *ctx, struct vns_skb **pskb)
{
    (void)ctx;
    (void)pskb;
    return VNS_RX_HANDLER_PASS;
}

static enum vns_rx_handler_result h_another(struct vns_ctx *ctx, struct vns_skb **pskb)
{
    (void)ctx;
    (*pskb)->dev = another_to;
    return VNS_RX_HANDLER_ANOTHER;
}

static void test_rx_handler_results(void **state)
{
    struct netfix f;
    struct vns_net_device *a, *b;
    struct ipsink sink;
    struct vns_skb *skb;

    (void)state;
    netfix_init(&f, 1, NULL);
    a = capdev_new(f.k, "eth0", false);
    b = capdev_new(f.k, "eth1", false);
    skb = rx_pkt(f.k, a, 0);
    skb->protocol = 0x88b5;     /* no handler */
    assert_int_equal(vns_netif_receive_skb(NULL, skb), VNS_NET_RX_DROP);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_UNHANDLED_PROTO), 1);
    assert_int_equal(a->stats.rx_dropped, 1);
    ipsink_init(&sink, f.k, false);
    vns_netdev_rx_handler_register(a, h_consume, NULL);
    assert_int_equal(vns_netdev_rx_handler_register(a, h_pass, NULL), -VNS_EBUSY);
    vns_netif_receive_skb(NULL, rx_pkt(f.k, a, 0));
    assert_int_equal(sink.count, 0);
    vns_netdev_rx_handler_unregister(a);
    vns_netdev_rx_handler_register(a, h_pass, NULL);
    vns_netif_receive_skb(NULL, rx_pkt(f.k, a, 0));
    assert_int_equal(sink.count, 1);
    assert_ptr_equal(sink.last_dev, a);
    vns_netdev_rx_handler_unregister(a);
    vns_netdev_rx_handler_register(a, h_another, NULL);
    another_to = b;
    vns_netif_receive_skb(NULL, rx_pkt(f.k, a, 0));
    assert_int_equal(sink.count, 2);
    assert_ptr_equal(sink.last_dev, b);
    assert_int_equal(vns_kernel_softnet_of(f.k, 0)->stats.processed, 5);   /* ANOTHER counts twice */
    netfix_fini(&f);
}

/* eth_type_trans classifies the destination. */
static void test_rx_eth_type_trans(void **state)
{
    struct netfix f;
    struct vns_net_device *dev;
    const uint8_t *dsts[4];
    const int types[4] = {VNS_PACKET_HOST, VNS_PACKET_BROADCAST, VNS_PACKET_MULTICAST, VNS_PACKET_OTHERHOST};

    (void)state;
    netfix_init(&f, 1, NULL);
    dev = capdev_new(f.k, "eth0", false);
    dsts[0] = dev->dev_addr;
    dsts[1] = mac_bcast;
    dsts[2] = mac_mcast;
    dsts[3] = mac_c;
    for (int i = 0; i < 4; i++) {
        struct frame_spec s = frame_default(dsts[i], mac_a, 10);
        struct vns_skb *skb = frame_build(f.k, &s);

        assert_int_equal(vns_eth_type_trans(skb, dev), VNS_ETH_P_IP);
        assert_int_equal(skb->pkt_type, types[i]);
        assert_int_equal(skb->len, 50);
        assert_ptr_equal(skb->dev, dev);
        vns_consume_skb(skb);
    }
    netfix_fini(&f);
}

/* Each CPU has its own backlog: netif_rx from a context on CPU 1 queues
 * there, and CPU 1's softirq processes it. */
static void test_rx_backlog_per_cpu(void **state)
{
    struct netfix f;
    struct ipsink sink;
    struct bhsend b;

    (void)state;
    netfix_init(&f, 2, NULL);
    ipsink_init(&sink, f.k, false);
    b = (struct bhsend){.k = f.k, .dev = capdev_new(f.k, "eth0", false), .sink = &sink};
    vns_ctx_start(netfix_ctx(&f, 1, VNS_CTX_USER, "app", bh_step, &b), 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(sink.count, 1);
    assert_int_equal(vns_kernel_softnet_of(f.k, 1)->stats.processed, 1);
    assert_int_equal(vns_kernel_softnet_of(f.k, 0)->stats.processed, 0);
    assert_int_equal(vns_cpu_stats(f.cpu[1])->softirq_runs[VNS_SOFTIRQ_AT_BH_ENABLE], 1);
    assert_int_equal(vns_cpu_stats(f.cpu[0])->softirq_runs[VNS_SOFTIRQ_AT_BH_ENABLE], 0);
    netfix_fini(&f);
}

/* dev_forward_skb: a frame longer than MTU + header + VLAN_HLEN (and not
 * GSO) or a device that is down is dropped and counted on the target;
 * otherwise it is received as if it arrived on the device. netif_rx_ni in
 * process context runs the softirq at once. */
struct fwd {
    struct vns_kernel *k;
    struct vns_net_device *dev;
    int rc[3];
};

static int fwd_step(struct vns_ctx *ctx, void *arg)
{
    struct fwd *w = arg;
    struct frame_spec s = frame_default(w->dev->dev_addr, mac_a, 1500);
    struct vns_skb *skb;

    s.synthetic = true;
    w->rc[0] = vns_dev_forward_skb(ctx, w->dev, frame_build(w->k, &s));      /* 1554 > 1518 */
    s.payload = 1400;
    w->rc[1] = vns_dev_forward_skb(ctx, w->dev, frame_build(w->k, &s));
    skb = frame_build(w->k, &s);
    skb->protocol = vns_eth_type_trans(skb, w->dev);
    w->rc[2] = vns_netif_rx_ni(ctx, skb);
    return VNS_STEP_DONE;
}

static void test_rx_dev_forward_skb_and_netif_rx_ni(void **state)
{
    struct netfix f;
    struct ipsink sink;
    struct fwd w;

    (void)state;
    netfix_init(&f, 1, NULL);
    ipsink_init(&sink, f.k, false);
    w = (struct fwd){.k = f.k, .dev = capdev_new(f.k, "veth0", false)};
    vns_ctx_start(netfix_ctx(&f, 0, VNS_CTX_USER, "app", fwd_step, &w), 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(w.rc[0], VNS_NET_RX_DROP);
    assert_int_equal(w.rc[1], VNS_NET_RX_SUCCESS);
    assert_int_equal(w.rc[2], VNS_NET_RX_SUCCESS);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_PKT_TOO_BIG), 1);
    assert_int_equal(w.dev->stats.rx_dropped, 1);
    /* both queued frames ran in netif_rx_ni's softirq, in the step */
    assert_int_equal(sink.count, 2);
    assert_int_equal(vns_cpu_stats(f.cpu[0])->softirq_runs[VNS_SOFTIRQ_AT_BH_ENABLE], 1);
    vns_dev_close(w.dev);
    assert_int_equal(vns_dev_forward_skb(NULL, w.dev, frame_build(f.k, &(struct frame_spec){
                                                                      .dst = mac_b, .src = mac_a, .payload = 10})),
                     VNS_NET_RX_DROP);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_DEV_READY), 1);
    netfix_fini(&f);
}

/* netif_napi_del takes a scheduled NAPI off the poll list: a later
 * net_rx_action never touches it. */
static void test_rx_napi_del_while_scheduled(void **state)
{
    struct netfix f;
    struct fnic n;
    struct vns_irq irq;

    (void)state;
    netfix_init(&f, 1, NULL);
    fnic_init(&n, capdev_new(f.k, "eth0", false), f.cpu[0], VNS_FN_virtnet_poll);
    vns_skb_queue_tail(&n.ring, rx_pkt(f.k, n.dev, 1));
    assert_true(vns_napi_schedule(NULL, &n.napi));
    assert_true(n.napi.on_list);
    vns_netif_napi_del(&n.napi);
    assert_false(n.napi.on_list);
    assert_null(vns_kernel_softnet_of(f.k, 0)->poll_head);
    vns_irq_init(&irq, "kick", f.cpu[0], -1, irq_nop, NULL);
    vns_irq_raise(f.sim, &irq, 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(n.napi.stats.polls, 0);
    assert_int_equal(vns_kernel_softnet_of(f.k, 0)->stats.rx_actions, 1);
    vns_skb_queue_purge_reason(&n.ring, VNS_SKB_DROP_REASON_DEV_READY);
    netfix_fini(&f);
}

/* A packet tap (ptype_all, as tcpdump) sees each received frame once per
 * receive round and each transmitted one at xmit_one. */
struct tapcount {
    unsigned in, out;
    struct vns_net_device *last;
};

static void tap_fn(const struct vns_skb *skb, struct vns_net_device *dev, bool outgoing, void *arg)
{
    struct tapcount *t = arg;

    (void)skb;
    if (outgoing)
        t->out++;
    else
        t->in++;
    t->last = dev;
}

static void test_rx_packet_taps(void **state)
{
    struct netfix f;
    struct vns_net_device *dev;
    struct ipsink sink;
    struct tapcount t = {0};
    struct frame_spec s;

    (void)state;
    netfix_init(&f, 1, NULL);
    dev = capdev_new(f.k, "eth0", true);
    ipsink_init(&sink, f.k, false);
    assert_int_equal(vns_dev_add_tap(f.k, tap_fn, &t), 0);
    vns_netif_receive_skb(NULL, rx_pkt(f.k, dev, 1));
    assert_int_equal(t.in, 1);
    assert_ptr_equal(t.last, dev);
    s = frame_default(mac_b, mac_a, 10);
    {
        struct vns_skb *skb = frame_build(f.k, &s);

        skb->dev = dev;
        vns_dev_queue_xmit(NULL, skb);
    }
    assert_int_equal(t.out, 1);
    assert_int_equal(sink.count, 1);
    netfix_fini(&f);
}

/* linux-6.6 behaviour: netif_rx from process context disables bottom
 * halves itself, so the frame is processed before netif_rx returns (5.4:
 * only at the next irq_exit or bh enable). */
struct rxnow {
    struct vns_kernel *k;
    struct vns_net_device *dev;
    struct ipsink *sink;
    unsigned after;
};

static int rxnow_step(struct vns_ctx *ctx, void *arg)
{
    struct rxnow *r = arg;

    vns_netif_rx(ctx, rx_pkt(r->k, r->dev, 1));
    r->after = r->sink->count;
    return VNS_STEP_DONE;
}

static void test_rx_netif_rx_versions(void **state)
{
    for (int v = 0; v < 2; v++) {
        struct netfix f;
        struct ipsink sink;
        struct rxnow r;

        (void)state;
        netfix_init_profile(&f, 1, NULL, v ? "linux-6.6" : "linux-5.4");
        ipsink_init(&sink, f.k, false);
        r = (struct rxnow){.k = f.k, .dev = capdev_new(f.k, "eth0", false), .sink = &sink};
        vns_ctx_start(netfix_ctx(&f, 0, VNS_CTX_USER, "app", rxnow_step, &r), 0);
        vns_sim_run(f.sim, VNS_MSEC(1));
        assert_int_equal(r.after, v ? 1 : 0);
        /* 5.4: raised from process context without bh off -> still pending
         * (nothing woke ksoftirqd); a later interrupt would run it */
        assert_int_equal(sink.count, v ? 1 : 0);
        netfix_fini(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_rx_backlog_limit_and_budget, teardown),
        cmocka_unit_test_teardown(test_rx_netif_rx_runs_at_local_bh_enable, teardown),
        cmocka_unit_test_teardown(test_rx_napi_from_irq_runs_at_irq_exit, teardown),
        cmocka_unit_test_teardown(test_rx_napi_budget_and_repoll, teardown),
        cmocka_unit_test_teardown(test_rx_napi_missed, teardown),
        cmocka_unit_test_teardown(test_rx_time_limit, teardown),
        cmocka_unit_test_teardown(test_rx_handler_results, teardown),
        cmocka_unit_test_teardown(test_rx_eth_type_trans, teardown),
        cmocka_unit_test_teardown(test_rx_backlog_per_cpu, teardown),
        cmocka_unit_test_teardown(test_rx_dev_forward_skb_and_netif_rx_ni, teardown),
        cmocka_unit_test_teardown(test_rx_napi_del_while_scheduled, teardown),
        cmocka_unit_test_teardown(test_rx_packet_taps, teardown),
        cmocka_unit_test_teardown(test_rx_netif_rx_versions, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
