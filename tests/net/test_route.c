/* tests/net/test_route.c -- interface addresses and the routing table:
 * longest prefix match, metrics, the default route, local and broadcast
 * destinations, devices that are down, deletion. */
#include "support/inet_link.h"
#include "vnetsim/error.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* The longest prefix wins; equal prefixes go to the lower metric; the
 * default route catches the rest; no route is EHOSTUNREACH. */
static void test_route_longest_prefix_and_default(void **state)
{
    struct inet_pair p;
    struct vns_rtable rt;
    struct vns_inet *in;

    (void)state;
    inet_pair_init(&p, 1, NULL, NULL);
    in = p.a.inet;
    assert_int_equal(vns_ip_route_output(in, VNS_IPV4(192, 168, 1, 1), &rt), -VNS_EHOSTUNREACH);
    assert_int_equal(vns_ip_route_output(in, VNS_IPV4(10, 0, 0, 7), &rt), 0);
    assert_int_equal(rt.type, VNS_RTN_UNICAST);
    assert_ptr_equal(rt.dev, p.a.eth);
    assert_int_equal(rt.gw, VNS_IPV4(10, 0, 0, 7)); /* on-link: next hop is the destination */
    assert_int_equal(rt.prefsrc, INET_ADDR_A);
    assert_int_equal(rt.plen, 24);
    assert_int_equal(rt.mtu, 1500);

    assert_int_equal(vns_inet_route_add(in, 0, 0, VNS_IPV4(10, 0, 0, 254), p.a.eth, 0), 0);
    assert_int_equal(
        vns_inet_route_add(in, VNS_IPV4(172, 16, 0, 0), 12, VNS_IPV4(10, 0, 0, 2), p.a.eth, 0), 0);
    assert_int_equal(
        vns_inet_route_add(in, VNS_IPV4(172, 16, 5, 0), 24, VNS_IPV4(10, 0, 0, 3), p.a.eth, 10), 0);
    assert_int_equal(
        vns_inet_route_add(in, VNS_IPV4(172, 16, 5, 0), 24, VNS_IPV4(10, 0, 0, 4), p.a.eth, 5), 0);
    assert_int_equal(
        vns_inet_route_add(in, VNS_IPV4(172, 16, 5, 0), 24, VNS_IPV4(10, 0, 0, 4), p.a.eth, 5),
        -VNS_EEXIST);

    assert_int_equal(vns_ip_route_output(in, VNS_IPV4(8, 8, 8, 8), &rt), 0);
    assert_int_equal(rt.gw, VNS_IPV4(10, 0, 0, 254));
    assert_int_equal(rt.plen, 0);
    assert_int_equal(vns_ip_route_output(in, VNS_IPV4(172, 20, 1, 1), &rt), 0);
    assert_int_equal(rt.gw, VNS_IPV4(10, 0, 0, 2));
    assert_int_equal(rt.plen, 12);
    assert_int_equal(vns_ip_route_output(in, VNS_IPV4(172, 16, 5, 9), &rt), 0);
    assert_int_equal(rt.gw, VNS_IPV4(10, 0, 0, 4)); /* metric 5 beats 10 */
    assert_int_equal(rt.plen, 24);
    assert_int_equal(vns_inet_route_del(in, VNS_IPV4(172, 16, 5, 0), 24, 5), 0);
    assert_int_equal(vns_ip_route_output(in, VNS_IPV4(172, 16, 5, 9), &rt), 0);
    assert_int_equal(rt.gw, VNS_IPV4(10, 0, 0, 3));
    assert_int_equal(vns_inet_route_del(in, VNS_IPV4(172, 16, 5, 0), 24, 5), -VNS_ENOENT);

    /* our own address is LOCAL; the subnet broadcast is BROADCAST */
    assert_int_equal(vns_ip_route_output(in, INET_ADDR_A, &rt), 0);
    assert_int_equal(rt.type, VNS_RTN_LOCAL);
    assert_int_equal(vns_ip_route_output(in, VNS_IPV4(10, 0, 0, 255), &rt), 0);
    assert_int_equal(rt.type, VNS_RTN_BROADCAST);
    assert_true(vns_inet_addr_is_local(in, INET_ADDR_A));
    assert_false(vns_inet_addr_is_local(in, INET_ADDR_B));
    assert_int_equal(vns_inet_addr_add(in, p.a.eth, INET_ADDR_A, 24), -VNS_EEXIST);

    /* routes through a device that is down are skipped */
    vns_dev_close(p.a.eth);
    assert_int_equal(vns_ip_route_output(in, VNS_IPV4(8, 8, 8, 8), &rt), -VNS_EHOSTUNREACH);
    inet_pair_fini(&p);
}

/* The table has a fixed size: the 65th route is refused with ENOSPC. */
static void test_route_table_full(void **state)
{
    struct inet_pair p;
    int rc = 0;
    unsigned i;

    (void)state;
    inet_pair_init(&p, 1, NULL, NULL);
    for (i = 0; i < 100 && rc == 0; i++)
        rc = vns_inet_route_add(p.a.inet, VNS_IPV4(20, i, 0, 0), 16, INET_ADDR_B, p.a.eth, 0);
    assert_int_equal(rc, -VNS_ENOSPC);
    assert_true(i > 50);
    inet_pair_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_route_longest_prefix_and_default, teardown),
        cmocka_unit_test_teardown(test_route_table_full, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
