/* tests/net/test_fq_codel.c -- fq_codel: flow isolation by deficit round
 * robin, CoDel's drop schedule (first drop after target was exceeded for
 * an interval, then interval/sqrt(count)), ECN marking instead of drops,
 * the overlimit drop from the fattest flow, and the default_qdisc sysctl. */
#include "net/net_fixture.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

static struct vns_skb *fpkt(struct vns_kernel *k, struct vns_net_device *dev, uint16_t sport, uint32_t seq,
                            uint8_t tos)
{
    struct frame_spec s = frame_default(mac_b, mac_a, 1000);
    struct vns_skb *skb;

    s.synthetic = true;
    s.sport = sport;
    s.seq = seq;
    skb = frame_build(k, &s);
    if (tos) {
        uint8_t *iph = skb->data + 14;

        iph[1] = tos;
        iph[10] = iph[11] = 0;
        vns_put_be16(iph + 10, vns_ip_fast_csum(iph, 5));
    }
    skb->dev = dev;
    return skb;
}

static struct vns_Qdisc *mkfq(struct vns_net_device *dev)
{
    struct vns_Qdisc *q = NULL;

    assert_int_equal(vns_qdisc_create(dev, &vns_fq_codel_qdisc_ops, 0, &q), 0);
    return q;
}

/* A thin flow arriving behind 100 packets of a fat one is served within
 * the first few dequeues (new flows first, one quantum each round). */
static void test_fq_codel_flow_isolation(void **state)
{
    struct netfix f;
    struct vns_net_device *dev;
    struct vns_Qdisc *q;
    struct vns_fq_codel_xstats st;
    int thin_seen = 0, first_thin = -1;

    (void)state;
    netfix_init(&f, 1, NULL);
    dev = capdev_new(f.k, "eth0", false);
    q = mkfq(dev);
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(q->ops->enqueue(NULL, fpkt(f.k, dev, 1000, i, 0), q), VNS_NET_XMIT_SUCCESS);
    for (uint32_t i = 0; i < 5; i++)
        q->ops->enqueue(NULL, fpkt(f.k, dev, 2000, i, 0), q);
    vns_fq_codel_get(q, NULL, &st);
    assert_int_equal(st.new_flow_count, 2);
    assert_int_equal(q->qlen, 105);
    for (int i = 0; i < 12; i++) {
        struct vns_skb *skb = q->ops->dequeue(NULL, q);

        if (vns_get_be16(skb->data + 34) == 2000) {
            thin_seen++;
            if (first_thin < 0)
                first_thin = i;
        }
        vns_consume_skb(skb);
    }
    /* fat: 2 packets (1054 B each) use its 1514-byte quantum; then thin */
    assert_int_equal(first_thin, 2);
    assert_true(thin_seen >= 4);
    vns_qdisc_destroy(q);
    netfix_fini(&f);
}

/* One standing queue drained at 1 packet/ms: sojourn passes 5 ms at 5 ms,
 * CoDel waits an interval (100 ms), then drops at now, +100/sqrt(1),
 * +100/sqrt(2), ... With ECT packets it marks CE instead and drops none. */
static void codel_run(bool ect, unsigned *drops, unsigned *marks, vns_time_t *first_drop)
{
    struct netfix f;
    struct vns_net_device *dev;
    struct vns_Qdisc *q;
    struct vns_fq_codel_xstats st;
    unsigned prev = 0;

    netfix_init(&f, 1, NULL);
    dev = capdev_new(f.k, "eth0", false);
    q = mkfq(dev);
    for (uint32_t i = 0; i < 600; i++)
        q->ops->enqueue(NULL, fpkt(f.k, dev, 1000, i, ect ? 0x02 : 0), q);
    *first_drop = 0;
    for (unsigned t = 1; t <= 400; t++) {
        struct vns_skb *skb;

        vns_sim_run(f.sim, VNS_MSEC(t));
        skb = q->ops->dequeue(NULL, q);
        assert_non_null(skb);
        if (ect && (skb->data[15] & 3) == 3)
            assert_int_equal(vns_ip_fast_csum(skb->data + 14, 5), 0);
        vns_consume_skb(skb);
        vns_fq_codel_get(q, NULL, &st);
        if (!*first_drop && st.codel_drops + st.ecn_mark > prev)
            *first_drop = VNS_MSEC(t);
        prev = st.codel_drops + st.ecn_mark;
    }
    vns_fq_codel_get(q, NULL, &st);
    *drops = st.codel_drops;
    *marks = st.ecn_mark;
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_QDISC_CONGESTED), st.codel_drops);
    vns_qdisc_destroy(q);
    netfix_fini(&f);
}

static void test_fq_codel_codel_drop_schedule(void **state)
{
    unsigned drops, marks;
    vns_time_t first;

    (void)state;
    codel_run(false, &drops, &marks, &first);
    /* above target from 6 ms (sojourn 5 ms is not above); ok to drop after
     * first_above + interval */
    assert_true(first >= VNS_MSEC(105) && first <= VNS_MSEC(107));
    /* drops at ~106, 206, 277, 335, 385 ms */
    assert_int_equal(drops, 5);
    assert_int_equal(marks, 0);
    codel_run(true, &drops, &marks, &first);
    assert_int_equal(drops, 0);
    assert_int_equal(marks, 5);
}

/* Over the packet limit the fattest flow loses half its backlog (at most
 * drop_batch_size); the thin flow keeps its packets; NET_XMIT_CN tells the
 * sender whose flow lost. */
static void test_fq_codel_overlimit(void **state)
{
    struct netfix f;
    struct vns_net_device *dev;
    struct vns_Qdisc *q;
    struct vns_fq_codel_params p;
    struct vns_fq_codel_xstats st;
    int rc;

    (void)state;
    netfix_init(&f, 1, NULL);
    dev = capdev_new(f.k, "eth0", false);
    q = mkfq(dev);
    vns_fq_codel_get(q, &p, NULL);
    assert_int_equal(p.limit, 10240);
    assert_int_equal(p.flows, 1024);
    assert_int_equal(p.quantum, 1514);
    p.limit = 100;
    assert_int_equal(vns_fq_codel_change(q, &p), 0);
    for (uint32_t i = 0; i < 10; i++)
        q->ops->enqueue(NULL, fpkt(f.k, dev, 2000, i, 0), q);
    for (uint32_t i = 0; i < 90; i++)
        q->ops->enqueue(NULL, fpkt(f.k, dev, 1000, i, 0), q);
    assert_int_equal(q->qlen, 100);
    rc = q->ops->enqueue(NULL, fpkt(f.k, dev, 1000, 90, 0), q);
    assert_int_equal(rc, VNS_NET_XMIT_CN);
    vns_fq_codel_get(q, NULL, &st);
    /* the fat flow had 91: half its bytes is 46 packets */
    assert_int_equal(st.drop_overlimit, 46);
    assert_int_equal(q->qlen, 101 - 46);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_QDISC_OVERLIMIT), 46);
    rc = q->ops->enqueue(NULL, fpkt(f.k, dev, 2000, 10, 0), q);
    assert_int_equal(rc, VNS_NET_XMIT_SUCCESS);
    p.flows = 16;
    assert_int_equal(vns_fq_codel_change(q, &p), -VNS_EINVAL);   /* not while queued */
    vns_qdisc_destroy(q);
    netfix_fini(&f);
}

/* net.core.default_qdisc = fq_codel: devices get it on open; an empty
 * fq_codel is bypassed (locked qdisc with CAN_BYPASS). */
static int send_one(struct vns_ctx *ctx, void *arg)
{
    struct vns_net_device *dev = arg;

    vns_fn_enter(ctx, VNS_FN_ip_finish_output2);
    vns_dev_queue_xmit(ctx, fpkt(dev->k, dev, 1, 1, 0));
    vns_fn_exit(ctx);
    return VNS_STEP_DONE;
}

static void test_fq_codel_default_qdisc(void **state)
{
    struct netfix f;
    struct vns_net_device *dev;
    struct vns_kernel *bad = NULL;
    char *stacks;

    (void)state;
    netfix_init(&f, 1, &(struct vns_kernel_config){.default_qdisc = "fq_codel"});
    dev = capdev_new(f.k, "eth0", false);
    capdev_of(dev)->xmit_frame = VNS_FN_start_xmit;
    assert_string_equal(dev->txq.qdisc->ops->id, "fq_codel");
    vns_probe_add(f.sim, "start_xmit");
    vns_ctx_start(netfix_ctx(&f, 0, VNS_CTX_USER, "app", send_one, dev), 0);
    vns_sim_run(f.sim, VNS_MSEC(1));
    assert_int_equal(capdev_of(dev)->xmits, 1);
    stacks = vns_test_stacks_string(f.sim, false);
    assert_non_null(strstr(stacks, "[0] start_xmit\n[0] sch_direct_xmit\n[0] __dev_queue_xmit\n"));
    vns_free(stacks);
    assert_int_equal(vns_kernel_create(f.sim, &(struct vns_kernel_config){.cpus = f.cpu, .ncpus = 1,
                                                                        .default_qdisc = "sfq"},
                                       &bad),
                     -VNS_EINVAL);
    netfix_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fq_codel_flow_isolation, teardown),
        cmocka_unit_test_teardown(test_fq_codel_codel_drop_schedule, teardown),
        cmocka_unit_test_teardown(test_fq_codel_overlimit, teardown),
        cmocka_unit_test_teardown(test_fq_codel_default_qdisc, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
