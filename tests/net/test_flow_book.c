/* tests/net/test_flow_book.c -- per-flow packet books: the registry of
 * flow ids, and each hook moving an skb's weight (segments, payload
 * bytes) between the terms of its book, so that sent + copied +
 * crossed in = every fate + crossed out + live at every moment. */
#include "net/net_fixture.h"
#include "net/net_int.h"
#include "vnetsim/flow_book.h"
#include "vnetsim/inet.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* The books' equation in one unit (@v: pkts or bytes). */
static void assert_terms(const uint64_t *v)
{
    assert_int_equal(v[VNS_FLOW_SENT] + v[VNS_FLOW_COPIED] + v[VNS_FLOW_CROSSED_IN],
                     v[VNS_FLOW_DELIVERED] + v[VNS_FLOW_DROPPED] + v[VNS_FLOW_LOST] +
                         v[VNS_FLOW_HW_FREED] + v[VNS_FLOW_CONSUMED] + v[VNS_FLOW_CROSSED_OUT] +
                         v[VNS_FLOW_LIVE]);
}

static void assert_book(const struct vns_flow_book *b)
{
    assert_terms(b->pkts);
    assert_terms(b->bytes);
}

/* A TSO frame of @payload bytes (gso_size @mss) of flow 77, data at the
 * MAC header. */
static struct vns_skb *tso_frame(struct vns_kernel *k, uint32_t payload, uint16_t mss,
                                 bool synthetic)
{
    struct frame_spec s = frame_default(mac_b, mac_a, payload);
    struct vns_skb *skb;

    s.synthetic = synthetic;
    skb = frame_build(k, &s);
    skb->ip_summed = VNS_CHECKSUM_UNNECESSARY;
    if (payload > mss) {
        skb->gso_size = mss;
        skb->gso_type = VNS_SKB_GSO_TCPV4;
        skb->gso_segs = (uint16_t)((payload + mss - 1) / mss);
    }
    return skb;
}

/* Many flow ids bind to two books (the table grows); each is found
 * again, an unknown one is not. */
static void test_flow_book_registry_binds_ids(void **state)
{
    struct vns_flow_reg *r;

    (void)state;
    assert_int_equal(vns_flow_reg_create(2, &r), 0);
    assert_null(vns_flow_reg_book(r, 2));
    for (uint64_t i = 0; i < 100; i++)
        assert_int_equal(vns_flow_reg_bind(vns_flow_reg_book(r, i % 2), i * 0x9e3779b97f4a7c15ull),
                         0);
    for (uint64_t i = 0; i < 100; i++)
        assert_ptr_equal(vns_flow_reg_lookup(r, i * 0x9e3779b97f4a7c15ull),
                         vns_flow_reg_book(r, i % 2));
    assert_null(vns_flow_reg_lookup(r, 12345));
    /* binding again changes nothing */
    assert_int_equal(vns_flow_reg_bind(vns_flow_reg_book(r, 1), 0), 0);
    assert_ptr_equal(vns_flow_reg_lookup(r, 0), vns_flow_reg_book(r, 0));
    vns_flow_reg_destroy(r);
}

/* A sent packet, a clone of it (copied), the clone dropped by reason,
 * the original freed by the hardware: every term moves by the weight,
 * nothing is live at the end, the skb fates carry no weight twice. */
static void test_flow_book_fates_move_weight(void **state)
{
    struct netfix f;
    struct vns_flow_reg *r;
    struct vns_flow_book *b;
    struct vns_skb *skb, *c;

    (void)state;
    netfix_init(&f, 1, NULL);
    assert_int_equal(vns_flow_reg_create(1, &r), 0);
    b = vns_flow_reg_book(r, 0);
    skb = tso_frame(f.k, 3000, 1000, true);
    vns__flow_sent(skb, b, 3, 3000, 77);
    assert_ptr_equal(vns_flow_reg_lookup(r, 77), b);
    assert_int_equal(b->pkts[VNS_FLOW_LIVE], 3);
    c = vns_skb_clone(skb);
    assert_int_equal(b->pkts[VNS_FLOW_COPIED], 3);
    assert_int_equal(b->bytes[VNS_FLOW_LIVE], 6000);
    vns_kfree_skb_reason(c, VNS_SKB_DROP_REASON_OTHERHOST);
    assert_int_equal(b->drops[VNS_SKB_DROP_REASON_OTHERHOST], 3);
    vns__skb_free_hw(skb);
    assert_int_equal(b->pkts[VNS_FLOW_HW_FREED], 3);
    assert_int_equal(b->pkts[VNS_FLOW_LIVE], 0);
    assert_int_equal(b->bytes[VNS_FLOW_LIVE], 0);
    assert_book(b);
    /* delivered, then consumed by the socket: counted once */
    skb = tso_frame(f.k, 500, 1000, true);
    vns__flow_sent(skb, b, 1, 500, 77);
    vns__flow_end(skb, VNS_FLOW_DELIVERED, -1);
    vns_consume_skb(skb);
    assert_int_equal(b->pkts[VNS_FLOW_DELIVERED], 1);
    assert_int_equal(b->pkts[VNS_FLOW_CONSUMED], 0);
    assert_book(b);
    vns_flow_reg_destroy(r);
    netfix_fini(&f);
}

/* Software GSO spreads a 4-segment skb's weight over its segments (one
 * each, payload bytes each); the original is consumed with none left. */
static void test_flow_book_gso_moves_weight(void **state)
{
    struct netfix f;
    struct vns_flow_reg *r;
    struct vns_flow_book *b;
    struct vns_net_device *dev;
    struct vns_skb *skb;
    uint32_t bytes[] = {1000, 1000, 1000, 500};
    unsigned i = 0;

    (void)state;
    netfix_init(&f, 1, NULL);
    assert_int_equal(vns_flow_reg_create(1, &r), 0);
    b = vns_flow_reg_book(r, 0);
    dev = capdev_new(f.k, "eth0", true);
    dev->features = VNS_NETIF_F_SG;
    skb = tso_frame(f.k, 3500, 1000, true);
    skb->dev = dev;
    vns__flow_sent(skb, b, 4, 3500, 77);
    vns_dev_queue_xmit(NULL, skb);
    assert_int_equal(capdev_of(dev)->q.qlen, 4);
    assert_int_equal(b->pkts[VNS_FLOW_CONSUMED], 0);
    assert_int_equal(b->pkts[VNS_FLOW_LIVE], 4);
    while ((skb = vns_skb_dequeue(&capdev_of(dev)->q)) != NULL) {
        assert_ptr_equal(skb->fbook, b);
        assert_int_equal(skb->fsegs, 1);
        assert_int_equal(skb->fbytes, bytes[i++]);
        vns__flow_end(skb, VNS_FLOW_DELIVERED, -1);
        vns_consume_skb(skb);
    }
    assert_int_equal(b->pkts[VNS_FLOW_DELIVERED], 4);
    assert_int_equal(b->bytes[VNS_FLOW_DELIVERED], 3500);
    assert_book(b);
    vns_flow_reg_destroy(r);
    netfix_fini(&f);
}

/* GRO merges weight into the held skb; a merged member has none left. */
static void test_flow_book_merge_moves_weight(void **state)
{
    struct netfix f;
    struct vns_flow_reg *r;
    struct vns_flow_book *b;
    struct vns_skb *p, *skb;

    (void)state;
    netfix_init(&f, 1, NULL);
    assert_int_equal(vns_flow_reg_create(1, &r), 0);
    b = vns_flow_reg_book(r, 0);
    p = tso_frame(f.k, 1000, 1000, true);
    skb = tso_frame(f.k, 1000, 1000, true);
    vns__flow_sent(p, b, 1, 1000, 77);
    vns__flow_sent(skb, b, 1, 1000, 77);
    vns__flow_merge(p, skb);
    assert_int_equal(p->fsegs, 2);
    assert_int_equal(p->fbytes, 2000);
    assert_null(skb->fbook);
    vns_consume_skb(skb);
    assert_int_equal(b->pkts[VNS_FLOW_CONSUMED], 0);
    vns_kfree_skb_reason(p, VNS_SKB_DROP_REASON_DEV_READY);
    assert_int_equal(b->pkts[VNS_FLOW_DROPPED], 2);
    assert_int_equal(b->pkts[VNS_FLOW_LIVE], 0);
    assert_book(b);
    vns_flow_reg_destroy(r);
    netfix_fini(&f);
}

/* An skb rebuilt from bytes: its flow is the one its synthetic payload
 * names, else its 5-tuple's; it weighs its payload over gso_size; an ACK
 * (no payload) and an unknown flow are not tagged. */
static void test_flow_book_cross_in_finds_and_weighs(void **state)
{
    struct netfix f;
    struct vns_flow_reg *r;
    struct vns_flow_book *b;
    struct vns_skb *skb;
    uint64_t tuple = vns_inet_flow_id(0x0a000001, 40000, 0x0a000002, 5001, VNS_IPPROTO_TCP);

    (void)state;
    netfix_init(&f, 1, NULL);
    assert_int_equal(vns_flow_reg_create(2, &r), 0);
    vns_kernel_set_flow_reg(f.k, r);
    b = vns_flow_reg_book(r, 0);
    assert_int_equal(vns_flow_reg_bind(b, 77), 0);
    assert_int_equal(vns_flow_reg_bind(vns_flow_reg_book(r, 1), tuple), 0);
    /* synthetic: flow 77, 3500 bytes over 1448: 3 segments */
    skb = tso_frame(f.k, 3500, 1448, true);
    vns__flow_cross_in(skb, VNS_ETH_HLEN);
    assert_ptr_equal(skb->fbook, b);
    assert_int_equal(skb->fsegs, 3);
    assert_int_equal(skb->fbytes, 3500);
    assert_int_equal(b->pkts[VNS_FLOW_CROSSED_IN], 3);
    vns__flow_end(skb, VNS_FLOW_CROSSED_OUT, -1);
    vns_consume_skb(skb);
    assert_book(b);
    /* materialized: the 5-tuple names the flow; no GSO: 1 */
    skb = tso_frame(f.k, 700, 1448, false);
    vns__flow_cross_in(skb, VNS_ETH_HLEN);
    assert_ptr_equal(skb->fbook, vns_flow_reg_book(r, 1));
    assert_int_equal(skb->fsegs, 1);
    assert_int_equal(skb->fbytes, 700);
    vns_consume_skb(skb);
    assert_int_equal(vns_flow_reg_book(r, 1)->pkts[VNS_FLOW_CONSUMED], 1);
    /* an ACK */
    skb = tso_frame(f.k, 0, 1448, true);
    vns__flow_cross_in(skb, VNS_ETH_HLEN);
    assert_null(skb->fbook);
    vns_consume_skb(skb);
    /* a flow nobody bound */
    skb = tso_frame(f.k, 100, 1448, true);
    skb->pay_flow = 78;
    vns__flow_cross_in(skb, VNS_ETH_HLEN);
    assert_null(skb->fbook);
    vns_consume_skb(skb);
    vns_flow_reg_destroy(r);
    netfix_fini(&f);
}

/* A wire's hand: the first copy continues the frame, a second is a
 * copy; a frame no copy took is lost. */
static void test_flow_book_wire_hand(void **state)
{
    struct netfix f;
    struct vns_flow_reg *r;
    struct vns_flow_book *b;
    struct vns_flow_hand h;
    struct vns_skb *skb, *c1, *c2;

    (void)state;
    netfix_init(&f, 1, NULL);
    assert_int_equal(vns_flow_reg_create(1, &r), 0);
    b = vns_flow_reg_book(r, 0);
    skb = tso_frame(f.k, 1000, 1448, true);
    vns__flow_sent(skb, b, 1, 1000, 77);
    vns__flow_take(skb, &h);
    c1 = vns__skb_copy_to(f.k, skb);
    c2 = vns__skb_copy_to(f.k, skb);
    vns__flow_give(&h, c1);
    vns__flow_give(&h, c2);
    vns__flow_hand_lost(&h, VNS_FLOW_LOSS_LINE);
    vns_consume_skb(skb);
    assert_int_equal(b->pkts[VNS_FLOW_COPIED], 1);
    assert_int_equal(b->pkts[VNS_FLOW_LOST], 0);
    assert_int_equal(b->pkts[VNS_FLOW_CONSUMED], 0);
    assert_int_equal(b->pkts[VNS_FLOW_LIVE], 2);
    vns__skb_free_hw(c1);
    vns_kfree_skb_reason(c2, VNS_SKB_DROP_REASON_DEV_READY);
    skb = tso_frame(f.k, 1000, 1448, true);
    vns__flow_sent(skb, b, 1, 1000, 77);
    vns__flow_take(skb, &h);
    vns__flow_hand_lost(&h, VNS_FLOW_LOSS_LINK_DOWN);
    vns_consume_skb(skb);
    assert_int_equal(b->pkts[VNS_FLOW_LOST], 1);
    assert_int_equal(b->losses[VNS_FLOW_LOSS_LINK_DOWN], 1);
    assert_int_equal(b->losses[VNS_FLOW_LOSS_LINE], 0);
    assert_int_equal(b->pkts[VNS_FLOW_LIVE], 0);
    assert_book(b);
    vns_flow_reg_destroy(r);
    netfix_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_flow_book_registry_binds_ids, teardown),
        cmocka_unit_test_teardown(test_flow_book_fates_move_weight, teardown),
        cmocka_unit_test_teardown(test_flow_book_gso_moves_weight, teardown),
        cmocka_unit_test_teardown(test_flow_book_merge_moves_weight, teardown),
        cmocka_unit_test_teardown(test_flow_book_cross_in_finds_and_weighs, teardown),
        cmocka_unit_test_teardown(test_flow_book_wire_hand, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
