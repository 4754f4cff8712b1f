/* tests/dev/test_wire.c -- two kernel instances joined by a wire: line
 * rate and delay, ring limits and queue flow control, loss, duplication,
 * reordering and corruption under a fixed seed, MTU, and a host bridge
 * whose uplink is the wire (frames reach exactly the right ports). */
#include "net/net_fixture.h"
#include "vnetsim/bridge.h"
#include "vnetsim/wire.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

struct wfix {
    struct vns_sim *sim;
    struct vns_cpu *cpu[2];
    struct vns_kernel *k[2];
    struct vns_wire *w;
    struct vns_net_device *eth[2];
    struct ipsink sink[2];
};

static void wfix_init(struct wfix *x, uint64_t seed, const struct vns_wire_config *cfg)
{
    memset(x, 0, sizeof(*x));
    x->sim = vns_test_sim(seed);
    for (int i = 0; i < 2; i++) {
        char name[16];

        snprintf(name, sizeof(name), "h%d/cpu0", i);
        assert_int_equal(vns_cpu_create(x->sim, &(struct vns_cpu_config){.name = name}, &x->cpu[i]), 0);
        snprintf(name, sizeof(name), "h%d", i);
        assert_int_equal(vns_kernel_create(x->sim, &(struct vns_kernel_config){.name = name, .cpus = &x->cpu[i],
                                                                               .ncpus = 1},
                                           &x->k[i]),
                         0);
        ipsink_init(&x->sink[i], x->k[i], true);
    }
    assert_int_equal(vns_wire_create(x->sim, cfg, &(struct vns_wire_end){.k = x->k[0], .ifname = "eth0"},
                                     &(struct vns_wire_end){.k = x->k[1], .ifname = "eth0"}, &x->w),
                     0);
    for (int i = 0; i < 2; i++) {
        x->eth[i] = vns_wire_dev(x->w, i);
        assert_int_equal(vns_dev_open(x->eth[i]), 0);
    }
}

static void wfix_fini(struct wfix *x)
{
    for (int i = 0; i < 2; i++)
        vns_skb_queue_purge_reason(&x->sink[i].q, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
    vns_wire_destroy(x->w);
    for (int i = 0; i < 2; i++)
        vns_kernel_destroy(x->k[i]);
    vns_sim_destroy(x->sim);
}

/* A process on h0 sends @n frames (seq = index) to h1's MAC in one step. */
struct burst {
    struct wfix *x;
    int n;
    uint32_t payload;
    const uint8_t *dst;
};

static int burst_step(struct vns_ctx *ctx, void *arg)
{
    struct burst *b = arg;

    for (int i = 0; i < b->n; i++) {
        struct frame_spec s = frame_default(b->dst ? b->dst : b->x->eth[1]->dev_addr, b->x->eth[0]->dev_addr,
                                            b->payload);
        struct vns_skb *skb;

        s.synthetic = true;
        s.seq = (uint32_t)i;
        s.off = (uint64_t)i * b->payload;
        s.tcp_flags = VNS_TCP_FLAG_ACK | VNS_TCP_FLAG_PSH;   /* no GRO merging */
        skb = frame_build(b->x->k[0], &s);
        skb->dev = b->x->eth[0];
        vns_dev_queue_xmit(ctx, skb);
    }
    return VNS_STEP_DONE;
}

static void send_burst(struct wfix *x, int n, uint32_t payload, vns_time_t until)
{
    struct burst b = {.x = x, .n = n, .payload = payload};
    struct vns_ctx *c = NULL;

    assert_int_equal(vns_ctx_create(x->sim, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .name = "sender",
                                                                      .cpu = x->cpu[0], .threadfn = -1,
                                                                      .fn = burst_step, .arg = &b},
                                    &c),
                     0);
    vns_ctx_start(c, vns_sim_now(x->sim));
    vns_sim_run(x->sim, until);
}

static uint32_t seq_of(const struct vns_skb *skb)
{
    return vns_get_be32(skb->data + 24);
}

/* 1 Gbit/s, 50 us: frames arrive one serialization time apart, in order,
 * with valid checksums and payload; the first after ser + delay + the
 * driver's costs. */
static void test_wire_rate_delay_order(void **state)
{
    struct wfix x;
    vns_time_t ser;
    struct vns_skb *skb;
    uint32_t expect = 0;

    (void)state;
    wfix_init(&x, 1, &(struct vns_wire_config){.name = "wire0", .rate_bps = 1000000000ull, .delay = VNS_USEC(50)});
    ser = vns_wire_frame_time(x.w, 1514);
    assert_int_equal(ser, (1514 + 24) * 8);          /* 12304 ns at 1 Gbit/s */
    assert_int_equal(vns_wire_frame_time(x.w, 10), (60 + 24) * 8);
    send_burst(&x, 50, 1460, VNS_MSEC(10));
    assert_int_equal(x.sink[1].count, 50);
    assert_int_equal(vns_wire_stats(x.w, 0)->frames, 50);
    assert_int_equal(vns_wire_stats(x.w, 0)->delivered, 50);
    assert_int_equal(vns_wire_stats(x.w, 0)->busy_ns, 50 * ser);
    assert_int_equal(x.eth[0]->stats.tx_packets, 50);
    assert_int_equal(x.eth[1]->stats.rx_packets, 50);
    while ((skb = vns_skb_dequeue(&x.sink[1].q)) != NULL) {
        assert_int_equal(seq_of(skb), expect);
        assert_true(frame_csums_ok(skb, 0));
        assert_int_equal(skb->ip_summed, VNS_CHECKSUM_UNNECESSARY);
        assert_int_equal(skb->truesize, 2304); /* ixgbe_build_skb on a 2 KiB half page */
        if (expect == 0) {
            assert_true(skb->tstamp >= ser + VNS_USEC(50));
            assert_true(skb->tstamp < ser + VNS_USEC(60));
        }
        expect++;
        vns_consume_skb(skb);
    }
    /* the receiver's NAPI ran in the interrupt's softirq */
    assert_true(vns_cpu_stats(x.cpu[1])->irqs >= 1);
    assert_true(vns_cpu_stats(x.cpu[1])->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT] >= 1);
    wfix_fini(&x);
}

/* A small TX ring fills: the queue stops, the qdisc holds the rest, TX
 * completions wake it (NET_TX) and every frame gets through in order. */
static void test_wire_tx_ring_flow_control(void **state)
{
    struct wfix x;
    struct vns_skb *skb;
    uint32_t expect = 0;

    (void)state;
    wfix_init(&x, 1, &(struct vns_wire_config){.rate_bps = 1000000000ull, .tx_ring = 32});
    send_burst(&x, 500, 1460, VNS_MSEC(20));
    assert_int_equal(x.sink[1].count, 500);
    assert_true(x.eth[0]->txq.stops >= 1);
    assert_int_equal(x.eth[0]->txq.stops, x.eth[0]->txq.wakes);
    assert_true(vns_kernel_softnet_of(x.k[0], 0)->stats.tx_actions >= 1);
    assert_int_equal(vns_kernel_drops_total(x.k[0]), 0);
    while ((skb = vns_skb_dequeue(&x.sink[1].q)) != NULL) {
        assert_int_equal(seq_of(skb), expect++);
        vns_consume_skb(skb);
    }
    wfix_fini(&x);
}

/* Impairments under a fixed seed: counts add up exactly, the same seed
 * gives the same outcome, another seed another one. */
static uint64_t last_fingerprint;

static void impaired(uint64_t seed, const struct vns_wire_config *cfg, struct vns_wire_stats *out,
                     unsigned *rx, unsigned *inversions, uint64_t *crc)
{
    struct wfix x;
    struct vns_skb *skb;
    uint32_t last = 0;
    bool first = true;

    wfix_init(&x, seed, cfg);
    send_burst(&x, 400, 200, VNS_MSEC(20));
    *out = *vns_wire_stats(x.w, 0);
    *rx = x.sink[1].count;
    *inversions = 0;
    while ((skb = vns_skb_dequeue(&x.sink[1].q)) != NULL) {
        if (!first && seq_of(skb) < last)
            (*inversions)++;
        last = seq_of(skb);
        first = false;
        vns_consume_skb(skb);
    }
    *crc = x.eth[1]->stats.rx_crc_errors;
    last_fingerprint = vns_sim_fingerprint(x.sim);
    wfix_fini(&x);
}

static void test_wire_impairments_seeded(void **state)
{
    struct vns_wire_config cfg = {.name = "lossy", .rate_bps = 10000000000ull, .delay = VNS_USEC(5),
                                  .loss = 0.1, .dup = 0.05, .reorder = 0.1, .corrupt = 0.05};
    struct vns_wire_stats s1, s2, s3;
    unsigned rx1, rx2, rx3, inv1, inv2, inv3;
    uint64_t crc1, crc2, crc3;

    (void)state;
    uint64_t fp1;

    impaired(42, &cfg, &s1, &rx1, &inv1, &crc1);
    fp1 = last_fingerprint;
    assert_int_equal(s1.frames, 400);
    assert_true(s1.lost > 10 && s1.lost < 80);
    assert_true(s1.duplicated > 2);
    assert_true(s1.reordered > 10);
    assert_true(s1.corrupted > 2);
    /* every copy that was not lost arrives unless its FCS is bad */
    assert_int_equal(s1.delivered, s1.frames - s1.lost + s1.duplicated - crc1);
    assert_int_equal(crc1, s1.corrupted);
    assert_int_equal(rx1, s1.delivered);
    assert_true(inv1 > 0);
    impaired(42, &cfg, &s2, &rx2, &inv2, &crc2);
    assert_memory_equal(&s1, &s2, sizeof(s1));
    assert_true(last_fingerprint == fp1);     /* the same event stream */
    assert_int_equal(rx1, rx2);
    assert_int_equal(inv1, inv2);
    impaired(43, &cfg, &s3, &rx3, &inv3, &crc3);
    assert_true(last_fingerprint != fp1);
    assert_true(s3.lost != s1.lost || s3.reordered != s1.reordered || s3.corrupted != s1.corrupted);
    /* without the FCS check corrupted frames reach the stack, unverified */
    cfg.no_fcs_check = true;
    cfg.loss = cfg.dup = cfg.reorder = 0;
    impaired(42, &cfg, &s2, &rx2, &inv2, &crc2);
    assert_int_equal(crc2, 0);
    assert_true(s2.corrupted > 0);
    /* a flipped EtherType bit can make a frame unhandled; the rest arrive */
    assert_true(rx2 <= 400 && rx2 >= 400 - s2.corrupted);
    assert_int_equal(s2.delivered, 400);
    assert_true(inv2 <= s2.corrupted);   /* only a corrupted seq looks out of order */
}

/* True when the TCP payload of @skb (data at the IP header) is the
 * synthetic stream of frame_default's flow at @off. */
static bool payload_intact(const struct vns_skb *skb, uint64_t off)
{
    uint8_t buf[2048];
    uint32_t len = skb->len - 40;

    if (len > sizeof(buf) || vns_skb_copy_bits(skb, 40, buf, len) < 0)
        return false;
    for (uint32_t i = 0; i < len; i++)
        if (buf[i] != vns_payload_byte(77, off + i))
            return false;
    return true;
}

/* Corruption flips a bit anywhere in the frame, the synthetic payload
 * included (the receiving NIC's copy of a corrupted frame holds real
 * bytes): with the FCS check off (rx-all) some delivered frames carry a
 * wrong payload, every one of them fails its TCP checksum and is
 * reported CHECKSUM_NONE, and every frame whose checksums verify carries
 * the right payload. */
static void test_wire_corruption_reaches_payload(void **state)
{
    struct vns_wire_config cfg = {.name = "bad",
                                  .rate_bps = 10000000000ull,
                                  .delay = VNS_USEC(5),
                                  .corrupt = 0.5,
                                  .no_fcs_check = true};
    struct wfix x;
    struct vns_skb *skb;
    unsigned bad_payload = 0, bad_csum = 0;

    (void)state;
    wfix_init(&x, 7, &cfg);
    send_burst(&x, 200, 1000, VNS_MSEC(20));
    assert_true(vns_wire_stats(x.w, 0)->corrupted > 50);
    while ((skb = vns_skb_dequeue(&x.sink[1].q)) != NULL) {
        bool csum_ok = frame_csums_ok(skb, 0),
             intact = payload_intact(skb, (uint64_t)seq_of(skb) * 1000);

        bad_payload += !intact;
        bad_csum += !csum_ok;
        if (!intact)
            assert_false(csum_ok);
        if (!csum_ok)
            assert_int_equal(skb->ip_summed, VNS_CHECKSUM_NONE);
        vns_consume_skb(skb);
    }
    assert_true(bad_payload > 20);
    assert_true(bad_csum >= bad_payload);
    wfix_fini(&x);
}

/* A frame larger than the receiver's MTU is dropped by its NIC; TSO skbs
 * are segmented by the sending NIC. */
static int tso_step(struct vns_ctx *ctx, void *arg)
{
    struct wfix *x = arg;
    struct frame_spec s = frame_default(x->eth[1]->dev_addr, x->eth[0]->dev_addr, 14600);
    struct vns_skb *skb;
    uint8_t *iph, *th;

    s.synthetic = true;
    skb = frame_build(x->k[0], &s);
    iph = skb->data + 14;
    th = iph + 20;
    vns_put_be16(th + 16, (uint16_t)~vns_csum_fold(vns_csum_tcpudp_nofold(iph + 12, iph + 16, 20 + 14600, 6, 0)));
    skb->ip_summed = VNS_CHECKSUM_PARTIAL;
    skb->csum_start = (uint16_t)(th - skb->head);
    skb->csum_offset = 16;
    skb->gso_size = 1460;
    skb->gso_segs = 10;
    skb->gso_type = VNS_SKB_GSO_TCPV4;
    skb->dev = x->eth[0];
    vns_dev_queue_xmit(ctx, skb);
    return VNS_STEP_DONE;
}

static void test_wire_tso_and_mtu(void **state)
{
    struct wfix x;
    struct vns_ctx *c = NULL;

    (void)state;
    wfix_init(&x, 1, &(struct vns_wire_config){.rate_bps = 10000000000ull});
    vns_ctx_create(x.sim, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .name = "tso", .cpu = x.cpu[0],
                                                    .threadfn = -1, .fn = tso_step, .arg = &x},
                   &c);
    vns_ctx_start(c, 0);
    vns_sim_run(x.sim, VNS_MSEC(1));
    assert_int_equal(vns_wire_stats(x.w, 0)->frames, 10);
    /* GRO on the receiver may merge them back: the payload all arrived */
    {
        uint32_t bytes = 0;

        for (struct vns_skb *skb = x.sink[1].q.head; skb; skb = skb->next)
            bytes += skb->len - 40;
        assert_int_equal(bytes, 14600);
    }
    vns_dev_set_mtu(x.eth[1], 1000);
    send_burst(&x, 3, 1400, VNS_MSEC(2));
    assert_int_equal(x.eth[1]->stats.rx_errors, 3);
    wfix_fini(&x);
}

/* A host bridge whose uplink is the wire, with two tap-like ports: a remote
 * unknown unicast floods to both taps (not back to the wire); a tap's reply
 * is forwarded over the wire only; a remote broadcast reaches both taps
 * and the bridge itself. */
static void test_wire_host_bridge(void **state)
{
    struct wfix x;
    struct vns_net_device *br = NULL, *tap[2];
    struct burst b;
    struct vns_ctx *c = NULL;
    struct frame_spec s;
    struct vns_skb *skb;

    (void)state;
    wfix_init(&x, 1, &(struct vns_wire_config){.rate_bps = 10000000000ull, .delay = VNS_USEC(1)});
    vns_dev_remove_pack(x.k[1], VNS_ETH_P_IP);
    ipsink_init(&x.sink[1], x.k[1], true);
    assert_int_equal(vns_br_add_bridge(x.k[1], "br0", &br), 0);
    assert_int_equal(vns_br_add_if(br, x.eth[1]), 0);
    for (int i = 0; i < 2; i++) {
        tap[i] = capdev_new(x.k[1], i ? "tap1" : "tap0", false);
        assert_int_equal(vns_br_add_if(br, tap[i]), 0);
    }
    vns_dev_open(br);
    /* remote -> unknown MAC (mac_b, a guest behind tap1 not yet learned) */
    b = (struct burst){.x = &x, .n = 1, .payload = 100, .dst = mac_b};
    vns_ctx_create(x.sim, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .name = "r1", .cpu = x.cpu[0],
                                                    .threadfn = -1, .fn = burst_step, .arg = &b},
                   &c);
    vns_ctx_start(c, 0);
    vns_sim_run(x.sim, VNS_MSEC(1));
    assert_int_equal(capdev_of(tap[0])->q.qlen, 1);
    assert_int_equal(capdev_of(tap[1])->q.qlen, 1);
    assert_int_equal(vns_br_port_stats(x.eth[1])->rx_frames, 1);
    assert_int_equal(vns_br_port_stats(tap[0])->flooded, 1);
    assert_int_equal(vns_wire_stats(x.w, 1)->frames, 0);
    assert_int_equal(x.sink[1].count, 0);
    /* the guest behind tap1 answers: learned there, forwarded to the wire */
    s = frame_default(x.eth[0]->dev_addr, mac_b, 100);
    s.synthetic = true;
    skb = frame_build(x.k[1], &s);
    skb->protocol = vns_eth_type_trans(skb, tap[1]);
    vns_netif_receive_skb(NULL, skb);
    vns_sim_run(x.sim, VNS_MSEC(2));
    assert_int_equal(vns_wire_stats(x.w, 1)->frames, 1);
    assert_int_equal(x.sink[0].count, 1);
    assert_int_equal(capdev_of(tap[0])->q.qlen, 1);    /* nothing new */
    /* remote broadcast: both taps and the bridge's own stack */
    b = (struct burst){.x = &x, .n = 1, .payload = 100, .dst = mac_bcast};
    vns_ctx_create(x.sim, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .name = "r2", .cpu = x.cpu[0],
                                                    .threadfn = -1, .fn = burst_step, .arg = &b},
                   &c);
    vns_ctx_start(c, VNS_MSEC(3));
    vns_sim_run(x.sim, VNS_MSEC(4));
    assert_int_equal(capdev_of(tap[0])->q.qlen, 2);
    assert_int_equal(capdev_of(tap[1])->q.qlen, 2);
    assert_int_equal(x.sink[1].count, 1);
    assert_ptr_equal(x.sink[1].last_dev, br);
    assert_int_equal(vns_br_port_stats(x.eth[1])->rx_frames, 2);
    assert_int_equal(vns_br_port_stats(x.eth[1])->tx_frames, 1);
    assert_int_equal(br->stats.rx_packets, 1);
    wfix_fini(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_wire_rate_delay_order, teardown),
        cmocka_unit_test_teardown(test_wire_tx_ring_flow_control, teardown),
        cmocka_unit_test_teardown(test_wire_impairments_seeded, teardown),
        cmocka_unit_test_teardown(test_wire_corruption_reaches_payload, teardown),
        cmocka_unit_test_teardown(test_wire_tso_and_mtu, teardown),
        cmocka_unit_test_teardown(test_wire_host_bridge, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
