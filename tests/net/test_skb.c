/* tests/net/test_skb.c -- skb: pools, references, linear ops, synthetic
 * payload, copies, checksums, queues, drop accounting by reason. */
#include "net/net_fixture.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* push/pull/put move data and tail exactly; pull beyond headlen fails. */
static void test_skb_linear_ops(void **state)
{
    struct netfix f;
    struct vns_skb *skb;

    (void)state;
    netfix_init(&f, 1, NULL);
    skb = vns_netdev_alloc_skb(f.k, 100);
    assert_int_equal(vns_skb_headroom(skb), VNS_NET_SKB_PAD);
    vns_skb_put_data(skb, "abcdefgh", 8);
    assert_int_equal(skb->len, 8);
    assert_non_null(vns_skb_pull(skb, 3));
    assert_memory_equal(skb->data, "defgh", 5);
    assert_null(vns_skb_pull(skb, 6));
    vns_skb_push(skb, 3);
    assert_memory_equal(skb->data, "abc", 3);
    assert_int_equal(skb->len, 8);
    vns_skb_trim(skb, 4);
    assert_int_equal(skb->len, 4);
    assert_int_equal(vns_skb_headlen(skb), 4);
    vns_consume_skb(skb);
    assert_int_equal(vns_kernel_stats(f.k)->skb_live, 0);
    netfix_fini(&f);
}

/* A synthetic range reads as vns_payload_byte(flow, off + i); linearize
 * materializes the same bytes. */
static void test_skb_synthetic_payload(void **state)
{
    struct netfix f;
    struct vns_skb *skb;
    uint8_t buf[3000];

    (void)state;
    netfix_init(&f, 1, NULL);
    skb = vns_netdev_alloc_skb(f.k, 64);
    vns_skb_put_data(skb, "HDR", 3);
    assert_int_equal(vns_skb_add_synthetic(skb, 9, 1000, 2500), 0);
    assert_int_equal(skb->len, 2503);
    assert_int_equal(skb->data_len, 2500);
    assert_int_equal(vns_skb_nr_frags(skb), 1);
    /* not contiguous: refused */
    assert_int_equal(vns_skb_add_synthetic(skb, 9, 5000, 10), -VNS_EINVAL);
    assert_int_equal(vns_skb_copy_bits(skb, 0, buf, 2503), 0);
    assert_memory_equal(buf, "HDR", 3);
    for (int i = 0; i < 2500; i++)
        assert_int_equal(buf[3 + i], vns_payload_byte(9, 1000 + (uint64_t)i));
    assert_int_equal(vns_skb_copy_bits(skb, 2500, buf, 4), -VNS_EFAULT);
    assert_int_equal(vns_skb_linearize(skb), 0);
    assert_int_equal(skb->data_len, 0);
    assert_int_equal(skb->len, 2503);
    assert_int_equal(skb->data[3 + 1234], vns_payload_byte(9, 2234));
    vns_kfree_skb(skb);
    netfix_fini(&f);
}

/* The checksum over linear + synthetic bytes at any split and odd offset
 * equals the checksum of the same bytes in one flat buffer. */
static void test_skb_checksum_matches_flat(void **state)
{
    struct netfix f;
    uint8_t flat[1500];

    (void)state;
    netfix_init(&f, 1, NULL);
    for (uint32_t lin = 0; lin < 40; lin += 7) {
        struct vns_skb *skb = vns_netdev_alloc_skb(f.k, 64);

        for (uint32_t i = 0; i < lin; i++)
            vns_skb_put(skb, 1)[0] = (uint8_t)(i * 37 + 1);
        vns_skb_add_synthetic(skb, 3, 17, 1000);
        vns_skb_copy_bits(skb, 0, flat, skb->len);
        for (uint32_t off = 0; off < 5; off++) {
            uint32_t a = vns_csum_fold(vns_skb_checksum(skb, off, skb->len - off, 0));
            uint32_t b = vns_csum_fold(vns_csum_partial(flat + off, skb->len - off, 0));

            assert_int_equal(a, b);
        }
        vns_consume_skb(skb);
    }
    netfix_fini(&f);
}

/* A built frame has valid IPv4 and TCP checksums, synthetic or not, and a
 * flipped payload bit breaks the TCP one. */
static void test_skb_frame_checksums(void **state)
{
    struct netfix f;
    struct frame_spec s;
    struct vns_skb *a, *b;

    (void)state;
    netfix_init(&f, 1, NULL);
    s = frame_default(mac_b, mac_a, 1000);
    a = frame_build(f.k, &s);
    s.synthetic = true;
    b = frame_build(f.k, &s);
    assert_true(frame_csums_ok(a, 14));
    assert_true(frame_csums_ok(b, 14));
    a->data[60] ^= 0x10;
    assert_false(frame_csums_ok(a, 14));
    vns_consume_skb(a);
    vns_consume_skb(b);
    netfix_fini(&f);
}

/* checksum_help fills a CHECKSUM_PARTIAL checksum from the pseudo-header. */
static void test_skb_checksum_help(void **state)
{
    struct netfix f;
    struct frame_spec s = frame_default(mac_b, mac_a, 333);
    struct vns_skb *skb;
    uint8_t *iph, *th;

    (void)state;
    netfix_init(&f, 1, NULL);
    s.synthetic = true;
    skb = frame_build(f.k, &s);
    iph = skb->data + 14;
    th = iph + 20;
    vns_put_be16(th + 16, (uint16_t)~vns_csum_fold(vns_csum_tcpudp_nofold(iph + 12, iph + 16, 353, 6, 0)));
    skb->ip_summed = VNS_CHECKSUM_PARTIAL;
    skb->csum_start = (uint16_t)(th - skb->head);
    skb->csum_offset = 16;
    assert_false(frame_csums_ok(skb, 14));
    assert_int_equal(vns_skb_checksum_help(skb), 0);
    assert_int_equal(skb->ip_summed, VNS_CHECKSUM_NONE);
    assert_true(frame_csums_ok(skb, 14));
    vns_consume_skb(skb);
    netfix_fini(&f);
}

/* References: get + two frees; drops are counted once per kfree by
 * reason; consume is not a drop. */
static void test_skb_refs_and_drop_reasons(void **state)
{
    struct netfix f;
    struct vns_skb *skb, *c;

    (void)state;
    netfix_init(&f, 1, NULL);
    skb = vns_netdev_alloc_skb(f.k, 10);
    vns_skb_put_data(skb, "0123456789", 10);
    vns_skb_get(skb);
    c = vns_skb_share_check(skb);      /* shared: a private copy */
    assert_ptr_not_equal(c, skb);
    assert_memory_equal(c->data, "0123456789", 10);
    assert_int_equal(skb->users, 1);
    vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_QDISC_DROP);
    vns_kfree_skb_reason(c, VNS_SKB_DROP_REASON_CPU_BACKLOG);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_QDISC_DROP), 1);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_CPU_BACKLOG), 1);
    assert_int_equal(vns_kernel_drops_total(f.k), 2);
    assert_int_equal(vns_kernel_stats(f.k)->consumed, 1);
    assert_string_equal(vns_drop_reason_name(VNS_SKB_DROP_REASON_CPU_BACKLOG), "CPU_BACKLOG");
    assert_int_equal(vns_kernel_stats(f.k)->skb_live, 0);
    netfix_fini(&f);
}

/* Pools: after a warm-up, allocating and freeing again mallocs nothing. */
static void test_skb_pool_no_malloc_in_steady_state(void **state)
{
    struct netfix f;
    struct vns_skb *s[100];
    long allocs;

    (void)state;
    netfix_init(&f, 1, NULL);
    for (int i = 0; i < 100; i++)
        s[i] = vns_netdev_alloc_skb(f.k, 1500);
    for (int i = 0; i < 100; i++)
        vns_consume_skb(s[i]);
    allocs = vns_alloc_count();
    for (int r = 0; r < 10; r++) {
        for (int i = 0; i < 100; i++)
            s[i] = vns_netdev_alloc_skb(f.k, 1500);
        for (int i = 0; i < 100; i++)
            vns_consume_skb(s[i]);
    }
    assert_int_equal(vns_alloc_count(), allocs);
    netfix_fini(&f);
}

/* Allocation failure: NULL and counted, nothing leaked. */
static void test_skb_alloc_failure(void **state)
{
    struct netfix f;

    (void)state;
    netfix_init(&f, 1, NULL);
    vns_alloc_fail_at(1);
    assert_null(vns_netdev_alloc_skb(f.k, 100));
    assert_int_equal(vns_kernel_stats(f.k)->skb_alloc_fail, 1);
    assert_null(vns_alloc_skb(f.k, VNS_SKB_LARGE_BUF + 1));
    netfix_fini(&f);
}

/* Queues are FIFO; splice keeps order; purge drops with the reason. */
static void test_skb_queue_ops(void **state)
{
    struct netfix f;
    struct vns_skb_head a, b;

    (void)state;
    netfix_init(&f, 1, NULL);
    vns_skb_queue_head_init(&a);
    vns_skb_queue_head_init(&b);
    for (int i = 0; i < 3; i++) {
        struct vns_skb *skb = vns_netdev_alloc_skb(f.k, 4);

        skb->priority = (uint32_t)i;
        vns_skb_queue_tail(i < 2 ? &a : &b, skb);
    }
    vns_skb_queue_splice_tail_init(&b, &a);
    assert_int_equal(a.qlen, 3);
    assert_int_equal(b.qlen, 0);
    for (uint32_t i = 0; i < 2; i++) {
        struct vns_skb *skb = vns_skb_dequeue(&a);

        assert_int_equal(skb->priority, i);
        vns_consume_skb(skb);
    }
    vns_skb_queue_purge_reason(&a, VNS_SKB_DROP_REASON_DEV_READY);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_DEV_READY), 1);
    netfix_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_skb_linear_ops, teardown),
        cmocka_unit_test_teardown(test_skb_synthetic_payload, teardown),
        cmocka_unit_test_teardown(test_skb_checksum_matches_flat, teardown),
        cmocka_unit_test_teardown(test_skb_frame_checksums, teardown),
        cmocka_unit_test_teardown(test_skb_checksum_help, teardown),
        cmocka_unit_test_teardown(test_skb_refs_and_drop_reasons, teardown),
        cmocka_unit_test_teardown(test_skb_pool_no_malloc_in_steady_state, teardown),
        cmocka_unit_test_teardown(test_skb_alloc_failure, teardown),
        cmocka_unit_test_teardown(test_skb_queue_ops, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
