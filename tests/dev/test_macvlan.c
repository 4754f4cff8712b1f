/* tests/dev/test_macvlan.c -- macvlan: the mode matrix (which frames
 * reach which device in private, vepa, bridge and passthru, with and
 * without a hairpinning switch), delivery through the backlog, lifecycle,
 * and the seed's tap xmit / tap recv stacks arising from the real path. */
#include "net/net_fixture.h"
#include "vnetsim/macvlan.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

struct mvfix {
    struct netfix f;
    struct vns_net_device *eth0, *mv[2];
    struct ipsink sink;
    struct vns_skb_head wire;   /* what eth0 sent */
};

static void mvfix_init(struct mvfix *m, enum vns_macvlan_mode m0, enum vns_macvlan_mode m1)
{
    netfix_init(&m->f, 1, NULL);
    m->eth0 = capdev_new(m->f.k, "eth0", false);
    assert_int_equal(vns_macvlan_create(m->eth0, "mv0", &(struct vns_macvlan_config){.mode = m0, .addr = mac_a},
                                        &m->mv[0]),
                     0);
    vns_dev_open(m->mv[0]);
    if (m1) {
        assert_int_equal(vns_macvlan_create(m->eth0, "mv1", &(struct vns_macvlan_config){.mode = m1, .addr = mac_b},
                                            &m->mv[1]),
                         0);
        vns_dev_open(m->mv[1]);
    }
    ipsink_init(&m->sink, m->f.k, true);
    vns_skb_queue_head_init(&m->wire);
}

static void mvfix_fini(struct mvfix *m)
{
    vns_skb_queue_purge_reason(&m->sink.q, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
    vns_skb_queue_purge_reason(&m->wire, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
    netfix_fini(&m->f);
}

/* Run @fn in a process context with bottom halves off around it, as a
 * sender or a NIC's poll would, so the backlog runs at the enable. */
struct job {
    struct mvfix *m;
    void (*fn)(struct vns_ctx *ctx, struct mvfix *m, const void *arg);
    const void *arg;
};

static int job_step(struct vns_ctx *ctx, void *arg)
{
    struct job *j = arg;

    vns_local_bh_disable(ctx);
    j->fn(ctx, j->m, j->arg);
    vns_local_bh_enable(ctx);
    return VNS_STEP_DONE;
}

static void run_job(struct mvfix *m, void (*fn)(struct vns_ctx *, struct mvfix *, const void *), const void *arg)
{
    static unsigned n;
    struct job j = {.m = m, .fn = fn, .arg = arg};
    vns_time_t t = vns_sim_now(m->f.sim) + VNS_USEC(10);
    char name[16];

    snprintf(name, sizeof(name), "job%u", n++);
    vns_ctx_start(netfix_ctx(&m->f, 0, VNS_CTX_USER, name, job_step, &j), t);
    vns_sim_run(m->f.sim, t + VNS_MSEC(1));
    /* what eth0 transmitted goes on the wire queue */
    vns_skb_queue_splice_tail_init(&capdev_of(m->eth0)->q, &m->wire);
}

/* The send of a frame @dst from mv[*idx]. */
struct send_arg {
    int from;
    const uint8_t *dst;
};

static void do_send(struct vns_ctx *ctx, struct mvfix *m, const void *arg)
{
    const struct send_arg *a = arg;
    struct frame_spec s = frame_default(a->dst, m->mv[a->from]->dev_addr, 64);
    struct vns_skb *skb;

    s.synthetic = true;
    skb = frame_build(m->f.k, &s);
    skb->dev = m->mv[a->from];
    vns_dev_queue_xmit(ctx, skb);
}

/* The frame at the head of the wire comes back in on eth0 (a hairpinning
 * switch, or a remote sender when @frame is given). */
static void do_receive(struct vns_ctx *ctx, struct mvfix *m, const void *arg)
{
    struct vns_skb *skb = (struct vns_skb *)(uintptr_t)arg;

    if (!skb)
        skb = vns_skb_dequeue(&m->wire);
    skb->protocol = vns_eth_type_trans(skb, m->eth0);
    vns_netif_receive_skb(ctx, skb);
}

static struct vns_skb *remote_frame(struct mvfix *m, const uint8_t *dst)
{
    struct frame_spec s = frame_default(dst, mac_c, 64);

    s.synthetic = true;
    return frame_build(m->f.k, &s);
}

/* Counts of frames delivered up, by device: [mv0, mv1, eth0]. */
static void delivered(struct mvfix *m, unsigned n[3])
{
    struct vns_skb *skb;

    n[0] = n[1] = n[2] = 0;
    while ((skb = vns_skb_dequeue(&m->sink.q)) != NULL) {
        if (skb->dev == m->mv[0])
            n[0]++;
        else if (m->mv[1] && skb->dev == m->mv[1])
            n[1]++;
        else if (skb->dev == m->eth0)
            n[2]++;
        vns_consume_skb(skb);
    }
}

#define assert_delivered(m, a, b, c)            \
    do {                                        \
        unsigned n_[3];                         \
        delivered(m, n_);                       \
        assert_int_equal(n_[0], a);             \
        assert_int_equal(n_[1], b);             \
        assert_int_equal(n_[2], c);             \
    } while (0)

/* Unicast mv0 -> mv1: only BRIDGE-to-BRIDGE stays inside the host; every
 * other pair goes out on the wire; a hairpinning switch brings it back to
 * mv1 (unicast has no private check in macvlan_handle_frame). */
static void test_macvlan_unicast_mode_matrix(void **state)
{
    static const enum vns_macvlan_mode modes[3] = {VNS_MACVLAN_MODE_PRIVATE, VNS_MACVLAN_MODE_VEPA,
                                                   VNS_MACVLAN_MODE_BRIDGE};
    struct send_arg a = {.from = 0, .dst = mac_b};

    (void)state;
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            struct mvfix m;
            bool local = modes[i] == VNS_MACVLAN_MODE_BRIDGE && modes[j] == VNS_MACVLAN_MODE_BRIDGE;

            mvfix_init(&m, modes[i], modes[j]);
            run_job(&m, do_send, &a);
            assert_int_equal(m.wire.qlen, local ? 0 : 1);
            assert_delivered(&m, 0, local ? 1 : 0, 0);
            assert_int_equal(m.mv[0]->stats.tx_packets, 1);
            if (!local) {
                run_job(&m, do_receive, NULL);
                assert_delivered(&m, 0, 1, 0);
            }
            assert_int_equal(m.mv[1]->stats.rx_packets, 1);
            mvfix_fini(&m);
        }
    }
}

/* Broadcast from mv0. BRIDGE: a clone to the BRIDGE sibling at once, and
 * out. Back from a hairpinning switch: a VEPA source reaches VEPA and
 * BRIDGE siblings (not itself) and the lower; a BRIDGE source reaches only
 * VEPA siblings (BRIDGE ones saw it on the way out); a PRIVATE source gets
 * only its own frame back (and the lower does not). */
static void test_macvlan_broadcast_mode_matrix(void **state)
{
    static const struct {
        enum vns_macvlan_mode m0, m1;
        unsigned local_mv1;             /* on transmit */
        unsigned back_mv0, back_mv1, back_eth0;
    } cases[] = {
        {VNS_MACVLAN_MODE_BRIDGE, VNS_MACVLAN_MODE_BRIDGE, 1, 0, 0, 1},
        {VNS_MACVLAN_MODE_BRIDGE, VNS_MACVLAN_MODE_VEPA, 0, 0, 1, 1},
        {VNS_MACVLAN_MODE_VEPA, VNS_MACVLAN_MODE_VEPA, 0, 0, 1, 1},
        {VNS_MACVLAN_MODE_VEPA, VNS_MACVLAN_MODE_BRIDGE, 0, 0, 1, 1},
        {VNS_MACVLAN_MODE_VEPA, VNS_MACVLAN_MODE_PRIVATE, 0, 0, 0, 1},
        {VNS_MACVLAN_MODE_PRIVATE, VNS_MACVLAN_MODE_VEPA, 0, 1, 0, 0},
        {VNS_MACVLAN_MODE_PRIVATE, VNS_MACVLAN_MODE_BRIDGE, 0, 1, 0, 0},
    };
    struct send_arg a = {.from = 0, .dst = mac_bcast};

    (void)state;
    for (unsigned i = 0; i < VNS_ARRAY_SIZE(cases); i++) {
        struct mvfix m;

        mvfix_init(&m, cases[i].m0, cases[i].m1);
        run_job(&m, do_send, &a);
        assert_int_equal(m.wire.qlen, 1);
        assert_delivered(&m, 0, cases[i].local_mv1, 0);
        run_job(&m, do_receive, NULL);
        assert_delivered(&m, cases[i].back_mv0, cases[i].back_mv1, cases[i].back_eth0);
        mvfix_fini(&m);
    }
}

/* From outside: broadcast reaches every vlan and the lower; unicast to a
 * vlan's MAC reaches only it; to an unknown MAC only the lower; a vlan
 * that is down drops its unicast. */
static void test_macvlan_external_frames(void **state)
{
    struct mvfix m;

    (void)state;
    mvfix_init(&m, VNS_MACVLAN_MODE_PRIVATE, VNS_MACVLAN_MODE_BRIDGE);
    run_job(&m, do_receive, remote_frame(&m, mac_bcast));
    assert_delivered(&m, 1, 1, 1);
    assert_int_equal(m.mv[0]->stats.multicast, 1);
    run_job(&m, do_receive, remote_frame(&m, mac_b));
    assert_delivered(&m, 0, 1, 0);
    run_job(&m, do_receive, remote_frame(&m, mac_c));
    assert_delivered(&m, 0, 0, 1);
    vns_dev_close(m.mv[1]);
    run_job(&m, do_receive, remote_frame(&m, mac_b));
    assert_delivered(&m, 0, 0, 0);
    assert_int_equal(vns_kernel_drops(m.f.k, VNS_SKB_DROP_REASON_DEV_READY), 1);
    /* a closed vlan gets no broadcast either */
    run_job(&m, do_receive, remote_frame(&m, mac_bcast));
    assert_delivered(&m, 1, 0, 1);
    mvfix_fini(&m);
}

/* PASSTHRU: one vlan with the lower's MAC takes every unicast frame;
 * a second vlan is refused; the lower is promiscuous while it exists. */
static void test_macvlan_passthru(void **state)
{
    struct mvfix m;
    struct vns_net_device *x = NULL;

    (void)state;
    mvfix_init(&m, VNS_MACVLAN_MODE_PASSTHRU, 0);
    assert_memory_equal(m.mv[0]->dev_addr, m.eth0->dev_addr, 6);
    assert_true(m.eth0->flags & VNS_IFF_PROMISC);
    assert_int_equal(vns_macvlan_create(m.eth0, "mv1", NULL, &x), -VNS_EINVAL);
    run_job(&m, do_receive, remote_frame(&m, mac_c));
    assert_delivered(&m, 1, 0, 0);
    run_job(&m, do_receive, remote_frame(&m, m.eth0->dev_addr));
    assert_delivered(&m, 1, 0, 0);
    assert_int_equal(vns_macvlan_set_mode(m.mv[0], VNS_MACVLAN_MODE_BRIDGE), -VNS_EINVAL);
    vns_unregister_netdev(m.mv[0]);
    m.mv[0] = NULL;
    assert_false(m.eth0->flags & VNS_IFF_PROMISC);
    assert_null(m.eth0->rx_handler);
    mvfix_fini(&m);
}

/* Lifecycle: duplicate MACs are refused; a bridge port cannot carry
 * macvlans; unregistering the lower takes its vlans along. */
static void test_macvlan_lifecycle(void **state)
{
    struct mvfix m;
    struct vns_net_device *x = NULL, *c;

    (void)state;
    mvfix_init(&m, VNS_MACVLAN_MODE_BRIDGE, VNS_MACVLAN_MODE_VEPA);
    assert_int_equal(vns_macvlan_create(m.eth0, "mv2", &(struct vns_macvlan_config){.addr = mac_a}, &x),
                     -VNS_EEXIST);
    assert_int_equal(vns_macvlan_set_mode(m.mv[1], VNS_MACVLAN_MODE_BRIDGE), 0);
    assert_int_equal(vns_macvlan_create(m.eth0, "mv2", &(struct vns_macvlan_config){.mode = VNS_MACVLAN_MODE_SOURCE},
                                        &x),
                     -VNS_EINVAL);
    c = capdev_new(m.f.k, "eth1", false);
    vns_netdev_rx_handler_register(c, NULL, NULL);
    c->rx_handler = (vns_rx_handler_func_t)(uintptr_t)1;   /* someone else's handler */
    assert_int_equal(vns_macvlan_create(c, "mv3", NULL, &x), -VNS_EBUSY);
    c->rx_handler = NULL;
    vns_unregister_netdev(m.eth0);
    assert_null(vns_dev_get_by_name(m.f.k, "mv0"));
    assert_null(vns_dev_get_by_name(m.f.k, "mv1"));
    m.mv[0] = m.mv[1] = NULL;
    mvfix_fini(&m);
}

/* The seed stacks from the real path: a vhost worker (frames of issue 6
 * stand in: handle_tx_kick, handle_tx, handle_tx_copy, vhost_tx_batch,
 * tap_sendmsg) transmits on a macvtap-like vlan with a qdisc to a BRIDGE
 * sibling: "tap xmit path" (macvlan_start_xmit under sch_direct_xmit) and
 * "tap recv path" (macvlan_handle_frame under process_backlog at the
 * __dev_queue_xmit bh enable). A host process sending through the TCP/IP
 * chain over a BRIDGE macvlan reaches the sibling's tap_handle_frame under
 * ip_finish_output2's bh enable: the first "tap recv path" stack. */
static enum vns_rx_handler_result fake_tap_handle_frame(struct vns_ctx *ctx, struct vns_skb **pskb)
{
    vns_fn_enter(ctx, VNS_FN_tap_handle_frame);
    vns_consume_skb(*pskb);
    vns_fn_exit(ctx);
    return VNS_RX_HANDLER_CONSUMED;
}

static const struct vns_net_device_ops fake_macvtap_ops = {
    .kind = "macvtap",
    .priv_size = sizeof(struct vns_macvlan_dev),
    .ndo_start_xmit = vns_macvlan_start_xmit,
    .ndo_uninit = vns_macvlan_uninit,
};

struct seedjob {
    struct netfix *f;
    struct vns_net_device *from;
    const uint8_t *dst;
    const int *frames;
    unsigned nframes;
};

static int seed_step(struct vns_ctx *ctx, void *arg)
{
    struct seedjob *j = arg;
    struct frame_spec s = frame_default(j->dst, j->from->dev_addr, 1000);
    struct vns_skb *skb;
    bool ip = false;

    s.synthetic = true;
    skb = frame_build(j->f->k, &s);
    skb->dev = j->from;
    for (unsigned i = 0; i < j->nframes; i++) {
        vns_fn_enter(ctx, j->frames[i]);
        ip = j->frames[i] == VNS_FN_ip_finish_output2;
    }
    if (ip)
        vns_local_bh_disable(ctx);   /* rcu_read_lock_bh in ip_finish_output2 */
    vns_dev_queue_xmit(ctx, skb);
    if (ip)
        vns_local_bh_enable(ctx);
    return VNS_STEP_DONE;
}

static void test_macvlan_seed_stacks(void **state)
{
    static const int vhost_frames[] = {VNS_FN_handle_tx_kick, VNS_FN_handle_tx, VNS_FN_handle_tx_copy,
                                       VNS_FN_vhost_tx_batch, VNS_FN_tap_sendmsg};
    static const int tcp_frames[] = {
        VNS_FN___x64_sys_write, VNS_FN_ksys_write, VNS_FN_vfs_write, VNS_FN___vfs_write,
        VNS_FN_new_sync_write, VNS_FN_sock_write_iter, VNS_FN_sock_sendmsg, VNS_FN_inet_sendmsg,
        VNS_FN_tcp_sendmsg, VNS_FN_tcp_sendmsg_locked, VNS_FN_tcp_push, VNS_FN___tcp_push_pending_frames,
        VNS_FN_tcp_write_xmit, VNS_FN___tcp_transmit_skb, VNS_FN_ip_queue_xmit, VNS_FN___ip_queue_xmit,
        VNS_FN_ip_local_out, VNS_FN_ip_output, VNS_FN_ip_finish_output, VNS_FN___ip_finish_output,
        VNS_FN_ip_finish_output2};
    struct netfix f;
    struct vns_net_device *eth0, *tapa = NULL, *tapb = NULL, *host = NULL;
    struct seedjob vj, hj;
    struct vns_ctx *vhost = NULL;
    char *stacks, *seed, *p, *q;
    size_t len;
    int nstacks = 0;

    (void)state;
    netfix_init(&f, 1, NULL);
    eth0 = capdev_new(f.k, "eth0", false);
    assert_int_equal(vns_macvlan_newlink(eth0, "macvtap0",
                                         &(struct vns_macvlan_config){.mode = VNS_MACVLAN_MODE_BRIDGE,
                                                                      .addr = mac_a, .keep_qdisc = true},
                                         &fake_macvtap_ops, &tapa),
                     0);
    assert_int_equal(vns_macvlan_newlink(eth0, "macvtap1",
                                         &(struct vns_macvlan_config){.mode = VNS_MACVLAN_MODE_BRIDGE,
                                                                      .addr = mac_b, .keep_qdisc = true},
                                         &fake_macvtap_ops, &tapb),
                     0);
    assert_int_equal(vns_macvlan_create(eth0, "macvlan0",
                                        &(struct vns_macvlan_config){.mode = VNS_MACVLAN_MODE_BRIDGE, .addr = mac_c},
                                        &host),
                     0);
    vns_dev_open(tapa);
    vns_dev_open(tapb);
    vns_dev_open(host);
    assert_string_equal(tapa->txq.qdisc->ops->id, "pfifo_fast");
    assert_int_equal(tapa->tx_queue_len, 500);
    vns_netdev_rx_handler_register(tapb, fake_tap_handle_frame, NULL);
    vns_probe_add(f.sim, "macvlan_start_xmit");
    vns_probe_add(f.sim, "macvlan_handle_frame");
    vns_probe_add(f.sim, "tap_handle_frame");
    vj = (struct seedjob){.f = &f, .from = tapa, .dst = mac_b, .frames = vhost_frames,
                          .nframes = VNS_ARRAY_SIZE(vhost_frames)};
    assert_int_equal(vns_ctx_create(f.sim, &(struct vns_ctx_config){.kind = VNS_CTX_KTHREAD, .name = "vhost-1",
                                                                     .cpu = f.cpu[0], .threadfn = VNS_FN_vhost_worker,
                                                                     .fn = seed_step, .arg = &vj},
                                    &vhost),
                     0);
    vns_ctx_start(vhost, 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(tapb->stats.rx_packets, 1);
    assert_int_equal(eth0->stats.tx_packets, 0);      /* never on the wire */
    hj = (struct seedjob){.f = &f, .from = host, .dst = mac_b, .frames = tcp_frames,
                          .nframes = VNS_ARRAY_SIZE(tcp_frames)};
    vns_ctx_start(netfix_ctx(&f, 0, VNS_CTX_USER, "iperf", seed_step, &hj), VNS_MSEC(2));
    vns_sim_run(f.sim, VNS_MSEC(3));
    assert_int_equal(tapb->stats.rx_packets, 2);
    /* Every stack whose bottom is a seed bottom is, verbatim, a seed stack. */
    stacks = vns_test_stacks_string(f.sim, false);
    seed = vns_test_read_file(VNS_SOURCE_DIR "/tests/golden/kernel-stacks.txt", &len);
    for (p = stacks; (q = strstr(p, "\n\n")) != NULL; p = q + 2) {
        char one[4096];

        /* one stack, with its last newline (the seed file's last stack
         * has no blank line after it) */
        memcpy(one, p, (size_t)(q - p) + 1);
        one[q - p + 1] = '\0';
        /* the seed probed tap_handle_frame under the host's TCP send and
         * macvlan_start_xmit / macvlan_handle_frame under vhost */
        if ((strncmp(one, "[0] tap_handle_frame\n", 21) == 0 && strstr(one, "[0] ip_finish_output2\n")) ||
            (strstr(one, "[0] vhost_tx_batch.isra.23\n") && !strstr(one, "tap_handle_frame"))) {
            if (!strstr(seed, one))
                fprintf(stderr, "NOT IN SEED:\n%s", one);
            assert_non_null(strstr(seed, one));
            nstacks++;
        }
    }
    /* tap xmit path, both tap recv path stacks */
    assert_int_equal(nstacks, 3);
    assert_non_null(strstr(stacks, "[0] macvlan_start_xmit\n[0] sch_direct_xmit\n[0] __qdisc_run\n"
                                   "[0] __dev_queue_xmit\n[0] dev_queue_xmit\n[0] tap_sendmsg\n"
                                   "[0] vhost_tx_batch.isra.23\n"));
    vns_free(seed);
    vns_free(stacks);
    netfix_fini(&f);
}

/* Broadcasts received on the lower device reach the vlans from the port's
 * work item (macvlan_process_broadcast in a kworker), not from the
 * receive path; its queue holds MACVLAN_DEFAULT_BC_QUEUE_LEN (1000). */
static void test_macvlan_broadcast_work_queue(void **state)
{
    struct mvfix m;
    char *stacks;

    (void)state;
    mvfix_init(&m, VNS_MACVLAN_MODE_BRIDGE, VNS_MACVLAN_MODE_VEPA);
    m.sink.keep = false;
    vns_probe_add(m.f.sim, "ip_rcv");
    for (int i = 0; i < 1100; i++) {
        struct vns_skb *skb = remote_frame(&m, mac_bcast);

        skb->protocol = vns_eth_type_trans(skb, m.eth0);
        vns_netif_receive_skb(NULL, skb);
    }
    /* the lower got them all at once; the vlans nothing yet */
    assert_int_equal(m.sink.count, 1100);
    assert_int_equal(m.mv[0]->stats.rx_packets, 0);
    assert_int_equal(m.eth0->stats.rx_dropped, 100);
    vns_sim_run(m.f.sim, VNS_MSEC(50));
    assert_int_equal(m.mv[0]->stats.rx_packets, 1000);
    assert_int_equal(m.mv[1]->stats.rx_packets, 1000);
    assert_int_equal(m.sink.count, 3100);
    stacks = vns_test_stacks_string(m.f.sim, false);
    assert_non_null(strstr(stacks, "[0] macvlan_process_broadcast\n[0] process_one_work\n[0] worker_thread\n"
                                   "[0] kthread\n[0] ret_from_fork\n"));
    vns_free(stacks);
    mvfix_fini(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_macvlan_unicast_mode_matrix, teardown),
        cmocka_unit_test_teardown(test_macvlan_broadcast_mode_matrix, teardown),
        cmocka_unit_test_teardown(test_macvlan_external_frames, teardown),
        cmocka_unit_test_teardown(test_macvlan_passthru, teardown),
        cmocka_unit_test_teardown(test_macvlan_lifecycle, teardown),
        cmocka_unit_test_teardown(test_macvlan_seed_stacks, teardown),
        cmocka_unit_test_teardown(test_macvlan_broadcast_work_queue, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
