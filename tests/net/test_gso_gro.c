/* tests/net/test_gso_gro.c -- software GSO segmentation (sizes, headers,
 * checksums, synthetic payload kept) and GRO (merge rules, flush rules,
 * limits), and a GSO -> GRO round trip that restores the stream. */
#include "net/net_fixture.h"
#include "net/inet_int.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* A TSO skb as TCP output leaves it: CHECKSUM_PARTIAL with the pseudo
 * header in th->check, gso_size @mss. Data at the MAC header. */
static struct vns_skb *tso_skb(struct vns_kernel *k, struct vns_net_device *dev, uint32_t payload,
                               uint16_t mss, bool synthetic, uint8_t flags)
{
    struct frame_spec s = frame_default(mac_b, mac_a, payload);
    struct vns_skb *skb;
    uint8_t *iph, *th;

    s.synthetic = synthetic;
    s.tcp_flags = flags;
    s.ip_id = 100;
    skb = frame_build(k, &s);
    iph = skb->data + 14;
    th = iph + 20;
    vns_put_be16(th + 16, (uint16_t)~vns_csum_fold(vns_csum_tcpudp_nofold(iph + 12, iph + 16, 20 + payload, 6, 0)));
    skb->ip_summed = VNS_CHECKSUM_PARTIAL;
    skb->csum_start = (uint16_t)(th - skb->head);
    skb->csum_offset = 16;
    skb->gso_size = mss;
    skb->gso_type = VNS_SKB_GSO_TCPV4;
    skb->gso_segs = (uint16_t)((payload + mss - 1) / mss);
    skb->dev = dev;
    return skb;
}

static void check_payload(const struct vns_skb *skb, uint32_t off, uint32_t len, uint64_t flow, uint64_t soff)
{
    uint8_t buf[2048];

    while (len) {
        uint32_t n = VNS_MIN(len, (uint32_t)sizeof(buf));

        assert_int_equal(vns_skb_copy_bits(skb, off, buf, n), 0);
        for (uint32_t i = 0; i < n; i++)
            assert_int_equal(buf[i], vns_payload_byte(flow, soff + i));
        off += n;
        soff += n;
        len -= n;
    }
}

/* Without TSO the device gets gso_size segments: headers copied, IP length
 * and id, TCP seq advanced, CWR on the first only, PSH on the last only,
 * full checksums (no checksum offload), payload bytes in order. */
static void test_gso_segments_without_tso(void **state)
{
    struct netfix f;
    struct vns_net_device *dev;
    struct vns_skb *skb;
    unsigned i = 0;

    (void)state;
    netfix_init(&f, 1, NULL);
    dev = capdev_new(f.k, "eth0", true);
    dev->features = VNS_NETIF_F_SG;
    for (int synth = 0; synth < 2; synth++) {
        vns_dev_queue_xmit(NULL, tso_skb(f.k, dev, 3500, 1000, synth,
                                         VNS_TCP_FLAG_ACK | VNS_TCP_FLAG_PSH | VNS_TCP_FLAG_CWR));
        assert_int_equal(capdev_of(dev)->q.qlen, 4);
        i = 0;
        while ((skb = vns_skb_dequeue(&capdev_of(dev)->q)) != NULL) {
            const uint8_t *iph = skb->data + 14, *th = iph + 20;
            uint32_t plen = i < 3 ? 1000 : 500;

            assert_int_equal(skb->len, 54 + plen);
            assert_int_equal(vns_get_be16(iph + 2), 40 + plen);
            assert_int_equal(vns_get_be16(iph + 4), 100 + i);
            assert_int_equal(vns_get_be32(th + 4), 1000 + i * 1000);
            assert_int_equal(!!(th[13] & VNS_TCP_FLAG_CWR), i == 0);
            assert_int_equal(!!(th[13] & VNS_TCP_FLAG_PSH), i == 3);
            assert_int_equal(skb->gso_size, 0);
            assert_int_equal(skb->ip_summed, VNS_CHECKSUM_NONE);
            assert_true(frame_csums_ok(skb, 14));
            assert_int_equal(skb->syn_len, synth ? plen : 0);   /* SG device: frags kept */
            check_payload(skb, 54, plen, 77, i * 1000);
            vns_consume_skb(skb);
            i++;
        }
    }
    netfix_fini(&f);
}

/* A destructor as tcp_wfree releases: the skb's truesize. */
static void test_wfree(struct vns_skb *skb)
{
    struct vns_sock *sk = skb->sk;

    sk->wmem_alloc -= skb->truesize;
}

/* tcp_gso_segment (5.4) with copy_destructor: each segment keeps the
 * truesize of its own allocation (skb_segment: SKB_TRUESIZE of its linear
 * buffer + the frags it references), takes the socket and destructor,
 * and sk_wmem_alloc moves to the segments' sum; freeing them all gives
 * back exactly what was charged. */
static void test_gso_segments_own_truesize(void **state)
{
    struct netfix f;
    struct vns_net_device *dev;
    struct vns_sock sk = {0};

    (void)state;
    netfix_init(&f, 1, NULL);
    dev = capdev_new(f.k, "eth0", true);
    for (int synth = 0; synth < 2; synth++) {
        struct vns_skb *gso = tso_skb(f.k, dev, 3500, 1000, synth, VNS_TCP_FLAG_ACK);
        uint32_t headroom = vns_skb_headroom(gso), sum = 0;
        struct vns_skb *segs;
        unsigned i = 0;

        sk.wmem_alloc = 1 + gso->truesize; /* as __tcp_transmit_skb charges it */
        gso->sk = &sk;
        gso->destructor = test_wfree;
        segs = vns__skb_gso_segment(NULL, gso, synth ? VNS_NETIF_F_SG : 0);
        assert_non_null(segs);
        vns__skb_gso_move_owner(gso, segs);
        vns_consume_skb(gso); /* no owner left: releases nothing */
        for (struct vns_skb *s = segs; s; s = s->next, i++) {
            uint32_t plen = i < 3 ? 1000 : 500;
            uint32_t lin = headroom + 54 + (synth ? 0 : plen);

            assert_int_equal(s->truesize,
                             VNS_SKB_TRUESIZE(VNS_SKB_DATA_ALIGN(lin)) + (synth ? plen : 0));
            assert_ptr_equal(s->sk, &sk);
            assert_ptr_equal(s->destructor, test_wfree);
            sum += s->truesize;
        }
        assert_int_equal(i, 4);
        assert_int_equal(sk.wmem_alloc, 1 + sum);
        vns_kfree_skb_list_reason(segs, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
        assert_int_equal(sk.wmem_alloc, 1);
    }
    netfix_fini(&f);
}

/* With checksum offload but no TSO the segments stay CHECKSUM_PARTIAL
 * (valid once resolved); with TSO the skb goes down whole. */
static void test_gso_offload_variants(void **state)
{
    struct netfix f;
    struct vns_net_device *dev;
    struct vns_skb *skb;

    (void)state;
    netfix_init(&f, 1, NULL);
    dev = capdev_new(f.k, "eth0", true);
    dev->features = VNS_NETIF_F_SG | VNS_NETIF_F_HW_CSUM;
    vns_dev_queue_xmit(NULL, tso_skb(f.k, dev, 2000, 1000, true, VNS_TCP_FLAG_ACK));
    assert_int_equal(capdev_of(dev)->q.qlen, 2);
    while ((skb = vns_skb_dequeue(&capdev_of(dev)->q)) != NULL) {
        assert_int_equal(skb->ip_summed, VNS_CHECKSUM_PARTIAL);
        assert_false(frame_csums_ok(skb, 14));
        assert_int_equal(vns_skb_checksum_help(skb), 0);
        assert_true(frame_csums_ok(skb, 14));
        vns_consume_skb(skb);
    }
    dev->features |= VNS_NETIF_F_TSO;
    vns_dev_queue_xmit(NULL, tso_skb(f.k, dev, 2000, 1000, true, VNS_TCP_FLAG_ACK));
    assert_int_equal(capdev_of(dev)->q.qlen, 1);
    assert_int_equal(capdev_of(dev)->q.head->gso_size, 1000);
    /* no checksum offload at all: a plain skb is checksummed in software */
    dev->features = VNS_NETIF_F_SG;
    skb = tso_skb(f.k, dev, 500, 1000, true, VNS_TCP_FLAG_ACK);
    skb->gso_size = 0;
    skb->gso_type = 0;
    vns_dev_queue_xmit(NULL, skb);
    assert_int_equal(capdev_of(dev)->q.qlen, 2);
    assert_int_equal(capdev_of(dev)->q.tail->ip_summed, VNS_CHECKSUM_NONE);
    assert_true(frame_csums_ok(capdev_of(dev)->q.tail, 14));
    /* without SG the segments are linear */
    dev->features = 0;
    vns_dev_queue_xmit(NULL, tso_skb(f.k, dev, 2000, 1000, true, VNS_TCP_FLAG_ACK));
    assert_int_equal(capdev_of(dev)->q.qlen, 4);
    assert_int_equal(capdev_of(dev)->q.tail->data_len, 0);
    assert_true(frame_csums_ok(capdev_of(dev)->q.tail, 14));
    dev->features = VNS_NETIF_F_SG;
    /* a non-TCP GSO skb cannot be segmented: dropped as SKB_GSO_SEG */
    skb = tso_skb(f.k, dev, 2000, 1000, true, VNS_TCP_FLAG_ACK);
    skb->gso_type = VNS_SKB_GSO_UDP_L4;
    vns_dev_queue_xmit(NULL, skb);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_SKB_GSO_SEG), 1);
    netfix_fini(&f);
}

/* --- GRO -------------------------------------------------------------------- */

struct grofix {
    struct netfix f;
    struct vns_net_device *dev;
    struct vns_napi_struct napi;
    struct ipsink sink;
};

static int gro_poll(struct vns_ctx *ctx, struct vns_napi_struct *n, int budget)
{
    (void)ctx;
    (void)n;
    (void)budget;
    return VNS_STEP_DONE;
}

static void grofix_init(struct grofix *g)
{
    netfix_init(&g->f, 1, NULL);
    g->dev = capdev_new(g->f.k, "eth0", false);
    g->dev->features |= VNS_NETIF_F_GRO;
    vns_netif_napi_add(g->dev, &g->napi, gro_poll, VNS_FN_virtnet_poll, 64);
    vns_napi_enable(&g->napi);
    ipsink_init(&g->sink, g->f.k, true);
}

static void grofix_fini(struct grofix *g)
{
    vns_netif_napi_del(&g->napi);
    vns_skb_queue_purge_reason(&g->sink.q, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
    netfix_fini(&g->f);
}

static enum vns_gro_result gro_seg(struct grofix *g, uint32_t seq, uint32_t len, uint8_t flags,
                                   uint16_t sport, bool synthetic)
{
    struct frame_spec s = frame_default(g->dev->dev_addr, mac_a, len);
    struct vns_skb *skb;

    s.seq = seq;
    s.off = seq - 1000;
    s.tcp_flags = flags;
    s.sport = sport;
    s.synthetic = synthetic;
    skb = frame_build(g->f.k, &s);
    skb->protocol = vns_eth_type_trans(skb, g->dev);
    return vns_napi_gro_receive(NULL, &g->napi, skb);
}

/* In-order full segments merge into one held skb; the flush delivers one
 * GSO skb (gso_size = first segment, gso_segs = count) whose checksums
 * are valid once resolved and whose payload is the stream. */
static void test_gro_merges_in_order_segments(void **state)
{
    struct grofix g;
    struct vns_skb *skb;

    (void)state;
    for (int synth = 0; synth < 2; synth++) {
        grofix_init(&g);
        assert_int_equal(gro_seg(&g, 1000, 1000, 0, 40000, synth), VNS_GRO_HELD);
        for (uint32_t i = 1; i < 4; i++)
            assert_int_equal(gro_seg(&g, 1000 + i * 1000, 1000, 0, 40000, synth), VNS_GRO_MERGED_FREE);
        assert_int_equal(g.sink.count, 0);
        assert_int_equal(g.napi.gro_count, 1);
        vns_napi_gro_flush(NULL, &g.napi, false);
        assert_int_equal(g.sink.count, 1);
        skb = g.sink.q.head;
        assert_int_equal(skb->len, 40 + 4000);
        assert_int_equal(skb->gso_size, 1000);
        assert_int_equal(skb->gso_segs, 4);
        /* skb_gro_receive adds each merged segment's truesize (its frags,
         * or the whole skb on the frag_list) */
        assert_true(skb->truesize > VNS_SKB_STRUCT_OVERHEAD + 4000);
        assert_int_equal(skb->gso_type, VNS_SKB_GSO_TCPV4);
        assert_int_equal(vns_get_be16(skb->data + 2), 4040);
        assert_int_equal(vns_ip_fast_csum(skb->data, 5), 0);
        check_payload(skb, 40, 4000, 77, 0);
        assert_int_equal(vns_skb_checksum_help(skb), 0);
        assert_true(frame_csums_ok(skb, 0));
        assert_int_equal(g.napi.stats.gro_merged, 3);
        grofix_fini(&g);
    }
}

/* Flush rules: a gap in sequence flushes the held skb (the new one is
 * held); PSH merges and flushes; a short segment merges and flushes; a
 * changed ACK does not merge; SYN/FIN pass through. */
static void test_gro_flush_rules(void **state)
{
    struct grofix g;

    (void)state;
    grofix_init(&g);
    gro_seg(&g, 1000, 1000, 0, 40000, true);
    assert_int_equal(gro_seg(&g, 3000, 1000, 0, 40000, true), VNS_GRO_HELD);   /* gap */
    assert_int_equal(g.sink.count, 1);
    assert_int_equal(gro_seg(&g, 4000, 1000, VNS_TCP_FLAG_ACK | VNS_TCP_FLAG_PSH, 40000, true),
                     VNS_GRO_MERGED_FREE);
    assert_int_equal(g.sink.count, 2);                                         /* PSH flushed */
    assert_int_equal(g.sink.q.tail->gso_segs, 2);
    assert_int_equal(gro_seg(&g, 5000, 1000, 0, 40000, true), VNS_GRO_HELD);
    assert_int_equal(gro_seg(&g, 6000, 300, 0, 40000, true), VNS_GRO_MERGED_FREE);
    assert_int_equal(g.sink.count, 3);                                         /* short: flushed */
    assert_int_equal(g.sink.q.tail->len, 40 + 1300);
    assert_int_equal(gro_seg(&g, 6300, 0, 0, 40000, true), VNS_GRO_NORMAL);    /* pure ACK */
    assert_int_equal(gro_seg(&g, 7000, 1000, VNS_TCP_FLAG_SYN, 40000, true), VNS_GRO_NORMAL);
    assert_int_equal(g.sink.count, 5);
    assert_int_equal(g.napi.gro_count, 0);
    grofix_fini(&g);
}

/* Flows are held separately, at most MAX_GRO_SKBS (8): the ninth flushes
 * the oldest; napi_complete_done flushes the rest. */
static void test_gro_flow_limit_and_complete(void **state)
{
    struct grofix g;

    (void)state;
    grofix_init(&g);
    for (uint16_t p = 0; p < 9; p++)
        assert_int_equal(gro_seg(&g, 1000, 1000, 0, (uint16_t)(40000 + p), true), VNS_GRO_HELD);
    assert_int_equal(g.napi.gro_count, VNS_MAX_GRO_SKBS);
    assert_int_equal(g.sink.count, 1);
    assert_int_equal(vns_get_be16(g.sink.q.head->data + 20), 40000);   /* the oldest */
    g.napi.state |= VNS_NAPI_STATE_SCHED;
    assert_true(vns_napi_complete_done(NULL, &g.napi, 9));
    assert_int_equal(g.sink.count, 9);
    assert_int_equal(g.napi.gro_count, 0);
    grofix_fini(&g);
}

/* The 64 KiB limit: a merge that would reach GRO_MAX_SIZE flushes the held
 * skb and starts a new one; without NETIF_F_GRO nothing is held. */
static void test_gro_size_limit_and_disabled(void **state)
{
    struct grofix g;

    (void)state;
    grofix_init(&g);
    for (uint32_t i = 0; i < 70; i++)
        gro_seg(&g, 1000 + i * 1000, 1000, 0, 40000, true);
    assert_int_equal(g.sink.count, 1);
    assert_int_equal(g.sink.q.head->gso_segs, 65);    /* 40 + 65000 < 65536 <= 40 + 66000 */
    vns_napi_gro_flush(NULL, &g.napi, false);
    assert_int_equal(g.sink.q.tail->gso_segs, 5);
    g.dev->features &= ~VNS_NETIF_F_GRO;
    assert_int_equal(gro_seg(&g, 1000, 1000, 0, 40001, true), VNS_GRO_NORMAL);
    assert_int_equal(g.sink.count, 3);
    grofix_fini(&g);
}

/* linux-5.4 dev_gro_receive: NAPI_GRO_CB(skb)->flush = skb_is_gso(skb), so
 * an skb that is already GSO (virtio-net's from a host GSO frame) is never
 * held or merged into: it flushes its flow's held skb and passes as it
 * is (gso_size stays the MSS); the next segment starts a new held skb. */
static void test_gro_gso_skb_not_held(void **state)
{
    struct grofix g;
    struct frame_spec s;
    struct vns_skb *skb;

    (void)state;
    grofix_init(&g);
    assert_int_equal(gro_seg(&g, 1000, 1000, 0, 40000, true), VNS_GRO_HELD);
    s = frame_default(g.dev->dev_addr, mac_a, 3000);
    s.seq = 2000;
    s.off = 1000;
    s.sport = 40000;
    s.synthetic = true;
    skb = frame_build(g.f.k, &s);
    skb->protocol = vns_eth_type_trans(skb, g.dev);
    skb->gso_size = 1000;
    skb->gso_segs = 3;
    skb->gso_type = VNS_SKB_GSO_TCPV4;
    skb->ip_summed = VNS_CHECKSUM_UNNECESSARY;
    assert_int_equal(vns_napi_gro_receive(NULL, &g.napi, skb), VNS_GRO_NORMAL);
    assert_int_equal(g.sink.count, 2); /* the held one, then the GSO skb */
    assert_int_equal(g.sink.q.head->len, 40 + 1000);
    assert_int_equal(g.sink.q.tail->len, 40 + 3000);
    assert_int_equal(g.sink.q.tail->gso_size, 1000);
    assert_int_equal(g.sink.q.tail->gso_segs, 3);
    assert_int_equal(gro_seg(&g, 5000, 1000, 0, 40000, true), VNS_GRO_HELD);
    assert_int_equal(gro_seg(&g, 6000, 1000, 0, 40000, true), VNS_GRO_MERGED_FREE);
    vns_napi_gro_flush(NULL, &g.napi, false);
    assert_int_equal(g.sink.count, 3);
    assert_int_equal(g.sink.q.tail->gso_size, 1000); /* never above the MSS */
    assert_int_equal(g.sink.q.tail->gso_segs, 2);
    assert_int_equal(g.napi.stats.gro_merged, 1);
    grofix_fini(&g);
}

/* Round trip: a 20-segment TSO skb segmented in software and received
 * through GRO comes back as one skb with the same payload. */
static void test_gso_gro_round_trip(void **state)
{
    struct grofix g;
    struct vns_net_device *tx;
    struct vns_skb *skb;

    (void)state;
    grofix_init(&g);
    tx = capdev_new(g.f.k, "tx0", true);
    tx->features = VNS_NETIF_F_SG;
    skb = tso_skb(g.f.k, tx, 20 * 1448, 1448, true, VNS_TCP_FLAG_ACK);
    memcpy(skb->data, g.dev->dev_addr, 6);
    vns_dev_queue_xmit(NULL, skb);
    assert_int_equal(capdev_of(tx)->q.qlen, 20);
    while ((skb = vns_skb_dequeue(&capdev_of(tx)->q)) != NULL) {
        skb->protocol = vns_eth_type_trans(skb, g.dev);
        vns_napi_gro_receive(NULL, &g.napi, skb);
    }
    vns_napi_gro_flush(NULL, &g.napi, false);
    assert_int_equal(g.sink.count, 1);
    assert_int_equal(g.sink.q.head->len, 40 + 20 * 1448);
    assert_int_equal(g.sink.q.head->gso_segs, 20);
    check_payload(g.sink.q.head, 40, 20 * 1448, 77, 0);
    grofix_fini(&g);
}

/* Model check: random segments of three interleaved flows (random sizes
 * up to the first segment's, occasional gaps, PSH, pure ACKs) through GRO;
 * per flow, the delivered skbs carry exactly the sent payload in order,
 * each within 64 KiB and with a valid IP header, and a merged skb never
 * spans a gap. */
static void test_gro_matches_stream_model(void **state)
{
    enum { NFLOWS = 3, NSEG = 1500 };
    struct grofix g;
    struct vns_rng rng;
    uint32_t next_seq[NFLOWS], sent[NFLOWS] = {0}, got[NFLOWS] = {0};
    struct vns_skb *skb;

    (void)state;
    grofix_init(&g);
    vns_rng_seed(&rng, 5, "gro-model");
    for (int i = 0; i < NFLOWS; i++)
        next_seq[i] = 1000;
    for (int n = 0; n < NSEG; n++) {
        int fl = (int)vns_rng_below(&rng, NFLOWS);
        uint32_t len = vns_rng_below(&rng, 8) == 0 ? (uint32_t)vns_rng_below(&rng, 1448) : 1448;
        uint8_t flags = VNS_TCP_FLAG_ACK;

        if (vns_rng_below(&rng, 40) == 0)
            next_seq[fl] += 1448;                      /* a lost segment: a gap */
        if (vns_rng_below(&rng, 20) == 0)
            flags |= VNS_TCP_FLAG_PSH;
        gro_seg(&g, next_seq[fl], len, flags, (uint16_t)(40000 + fl), vns_rng_below(&rng, 2));
        next_seq[fl] += len;
        sent[fl] += len;
        if (vns_rng_below(&rng, 100) == 0)
            vns_napi_gro_flush(NULL, &g.napi, false);  /* a poll ended */
    }
    vns_napi_gro_flush(NULL, &g.napi, false);
    for (int i = 0; i < NFLOWS; i++)
        next_seq[i] = 0;
    while ((skb = vns_skb_dequeue(&g.sink.q)) != NULL) {
        int fl = vns_get_be16(skb->data + 20) - 40000;
        uint32_t seq = vns_get_be32(skb->data + 24), plen = skb->len - 40;

        assert_true(fl >= 0 && fl < NFLOWS);
        assert_true(skb->len < VNS_GRO_MAX_SIZE);
        assert_int_equal(vns_ip_fast_csum(skb->data, 5), 0);
        assert_int_equal(vns_get_be16(skb->data + 2), skb->len);
        assert_true(seq >= next_seq[fl]);               /* in order */
        /* payload bytes are the stream at offset seq - 1000 */
        check_payload(skb, 40, plen, 77, seq - 1000);
        next_seq[fl] = seq + plen;
        got[fl] += plen;
        vns_consume_skb(skb);
    }
    for (int i = 0; i < NFLOWS; i++)
        assert_int_equal(got[i], sent[i]);
    assert_true(g.napi.stats.gro_merged > NSEG / 2);
    grofix_fini(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_gso_segments_without_tso, teardown),
        cmocka_unit_test_teardown(test_gso_offload_variants, teardown),
        cmocka_unit_test_teardown(test_gso_segments_own_truesize, teardown),
        cmocka_unit_test_teardown(test_gro_merges_in_order_segments, teardown),
        cmocka_unit_test_teardown(test_gro_flush_rules, teardown),
        cmocka_unit_test_teardown(test_gro_flow_limit_and_complete, teardown),
        cmocka_unit_test_teardown(test_gro_size_limit_and_disabled, teardown),
        cmocka_unit_test_teardown(test_gro_gso_skb_not_held, teardown),
        cmocka_unit_test_teardown(test_gso_gro_round_trip, teardown),
        cmocka_unit_test_teardown(test_gro_matches_stream_model, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
