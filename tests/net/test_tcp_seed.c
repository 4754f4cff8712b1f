/* tests/net/test_tcp_seed.c -- the host half of the seed stacks: a host
 * process writing to a TCP socket whose route leaves through a Linux
 * bridge produces block 4 of shared/reference/kernel-stacks.txt ("tun
 * recv path") from br_dev_queue_push_xmit down to
 * entry_SYSCALL_64_after_hwframe; the port below the bridge is the test
 * link (a tap device in the seed, whose tun_net_xmit frames need the
 * vhost side to read them). */
#include <string.h>

#include "support/inet_tcp.h"
#include "vnetsim/bridge.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"
#include "vnetsim/trace.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

static void test_tcp_seed_bridge_write_stack(void **state)
{
    struct vns_sim *sim = vns_test_sim(61);
    struct inet_host a, b;
    struct inet_link *link;
    struct vns_net_device *br = NULL;
    struct tcp_server s;
    struct tcp_client c = {0};
    char *stacks;
    static const char block4[] =
        "[0] br_dev_queue_push_xmit\n[0] br_forward_finish\n[0] __br_forward\n[0] br_forward\n"
        "[0] br_dev_xmit\n[0] dev_hard_start_xmit\n[0] __dev_queue_xmit\n[0] dev_queue_xmit\n"
        "[0] ip_finish_output2\n[0] __ip_finish_output\n[0] ip_finish_output\n[0] ip_output\n"
        "[0] ip_local_out\n[0] __ip_queue_xmit\n[0] ip_queue_xmit\n[0] __tcp_transmit_skb\n"
        "[0] tcp_write_xmit\n[0] __tcp_push_pending_frames\n[0] tcp_push\n[0] tcp_sendmsg_locked\n"
        "[0] tcp_sendmsg\n[0] inet_sendmsg\n[0] sock_sendmsg\n[0] sock_write_iter\n[0] "
        "new_sync_write\n"
        "[0] __vfs_write\n[0] vfs_write\n[0] ksys_write\n[0] __x64_sys_write\n[0] do_syscall_64\n"
        "[0] entry_SYSCALL_64_after_hwframe\n\n";

    (void)state;
    inet_host_init(&a, sim, "host", 1, NULL);
    inet_host_init(&b, sim, "peer", 1, NULL);
    link = inet_link_create(&a, &b, NULL);
    assert_int_equal(vns_br_add_bridge(a.k, "br0", &br), 0);
    assert_int_equal(vns_dev_open(br), 0);
    assert_int_equal(vns_br_add_if(br, a.eth), 0);
    assert_int_equal(vns_inet_addr_add(a.inet, br, INET_ADDR_A, 24), 0);
    assert_int_equal(vns_inet_addr_add(b.inet, b.eth, INET_ADDR_B, 24), 0);
    assert_int_equal(vns_probe_add(sim, "br_dev_queue_push_xmit"), 0);
    tcp_server_start(&s, &b, 5001, 0);
    tcp_client_start(&c, &a, INET_ADDR_B, 5001, 1000000, 16384);
    vns_sim_run(sim, VNS_MSEC(100));
    assert_int_equal(c.error, 0);
    assert_true(s.eof);
    assert_int_equal(s.received, 1000000);
    assert_int_equal(vns_inet_stats(b.inet)->payload_mismatches, 0);
    stacks = vns_test_stacks_string(sim, false);
    if (!strstr(stacks, block4))
        fprintf(stderr, "%s", stacks);
    assert_non_null(strstr(stacks, block4));
    vns_free(stacks);
    vns_sim_run(sim, VNS_SEC(70));
    tcp_client_fini(&c);
    tcp_server_fini(&s);
    inet_link_destroy(link);
    inet_host_fini(&a);
    inet_host_fini(&b);
    vns_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_tcp_seed_bridge_write_stack, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
