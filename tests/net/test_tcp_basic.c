/* tests/net/test_tcp_basic.c -- the TCP state machine: three-way handshake
 * with options (MSS, SACK, timestamps, window scale), a transfer whose
 * every byte is verified at the receiver, orderly close through
 * FIN_WAIT/TIME_WAIT/LAST_ACK, connection refused (RST), and the seed
 * stack of the write path. */
#include <string.h>

#include "support/inet_tcp.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"
#include "vnetsim/cpu.h"
#include "vnetsim/trace.h"
#include "net/inet_int.h" /* lock_sock / release_sock for the backlog test */

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* Handshake, 1 MB transfer, close: both ends agree on options, every
 * byte arrives once and verified, the close ends in TIME_WAIT on the
 * active side, holding no skb, and the sockets are freed after 60 s. */
static void test_tcp_handshake_transfer_close(void **state)
{
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct vns_tcp_info ci, si;
    const uint64_t total = 1000000;

    (void)state;
    inet_pair_init(&p, 21, NULL, NULL);
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, total, 65536);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_MSEC(1));
    assert_int_equal(c.error, 0);
    assert_true(c.phase >= 1);
    assert_non_null(s.conn);
    assert_int_equal(vns_tcp_get_info(c.sk, &ci), 0);
    assert_int_equal(vns_tcp_get_info(s.conn, &si), 0);
    assert_int_equal(ci.state, VNS_TCP_ESTABLISHED);
    assert_int_equal(si.state, VNS_TCP_ESTABLISHED);
    assert_true(ci.sack_ok && ci.tstamp_ok && si.sack_ok && si.tstamp_ok);
    assert_int_equal(ci.mss_cache, 1448); /* 1500 - 40 - 12 (timestamps) */
    assert_int_equal(ci.rcv_wscale, 7);   /* tcp_rmem[2] 6 MiB */
    assert_int_equal(si.snd_wscale, 7);
    assert_int_equal(vns_sock_peer(s.conn).addr, INET_ADDR_A);
    vns_sim_run(p.sim, VNS_MSEC(200));
    assert_int_equal(c.sent, total);
    assert_int_equal(s.received, total);
    assert_int_equal(vns_inet_stats(p.b.inet)->payload_bytes_verified, total);
    assert_int_equal(vns_inet_stats(p.b.inet)->payload_mismatches, 0);
    assert_int_equal(vns_tcp_get_info(c.sk, &ci), 0);
    assert_int_equal(ci.total_retrans, 0);
    assert_true(ci.srtt > 0);
    /* close: client FIN -> server EOF, server closes -> LAST_ACK -> CLOSE */
    vns_sys_close(NULL, c.sk);
    {
        struct vns_sock *csk = c.sk;

        c.sk = NULL;
        vns_sim_run(p.sim, VNS_MSEC(400));
        assert_true(s.eof);
        assert_true(s.conn_closed);
        /* the orphan in TIME_WAIT holds no skb: tcp_done's
         * inet_csk_destroy_sock freed the server's queued FIN */
        assert_int_equal(vns_kernel_stats(p.a.k)->skb_live, 0);
        (void)csk;
    }
    vns_sim_run(p.sim, VNS_SEC(70)); /* TIME_WAIT ends */
    tcp_client_fini(&c);
    s.conn = NULL;
    tcp_server_fini(&s);
    assert_int_equal(vns_inet_stats(p.a.inet)->tcp_active_opens, 1);
    assert_int_equal(vns_inet_stats(p.b.inet)->tcp_passive_opens, 1);
    inet_pair_fini(&p);
}

/* connect to a closed port: RST, ECONNREFUSED. */
static void test_tcp_connect_refused(void **state)
{
    struct inet_pair p;
    struct tcp_client c = {0};

    (void)state;
    inet_pair_init(&p, 22, NULL, NULL);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5999, 10, 10);
    vns_sim_run(p.sim, VNS_MSEC(5));
    assert_int_equal(c.error, -VNS_SOCK_ECONNREFUSED);
    assert_int_equal(vns_inet_stats(p.b.inet)->tcp_out_rsts, 1);
    /* the SYN: no socket; the RST at the client: consumed by tcp_reset */
    assert_int_equal(vns_kernel_drops(p.b.k, VNS_SKB_DROP_REASON_NO_SOCKET), 1);
    assert_int_equal(vns_kernel_drops_total(p.a.k), 0);
    tcp_client_fini(&c);
    inet_pair_fini(&p);
}

/* The user write path, as in the seed stacks, ends in dev_queue_xmit. */
static void test_tcp_write_stack(void **state)
{
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    char *stacks, *blk;

    (void)state;
    inet_pair_init(&p, 23, NULL, NULL);
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 20000, 20000);
    assert_int_equal(vns_probe_add(p.sim, "dev_queue_xmit"), 0);
    vns_sim_run(p.sim, VNS_MSEC(50));
    assert_int_equal(s.received, 20000);
    stacks = vns_test_stacks_string(p.sim, false);
    blk = strstr(
        stacks,
        "[0] dev_queue_xmit\n[0] ip_finish_output2\n[0] __ip_finish_output\n[0] ip_finish_output\n"
        "[0] ip_output\n[0] ip_local_out\n[0] __ip_queue_xmit\n[0] ip_queue_xmit\n"
        "[0] __tcp_transmit_skb\n[0] tcp_write_xmit\n[0] __tcp_push_pending_frames\n"
        "[0] tcp_push\n[0] tcp_sendmsg_locked\n[0] tcp_sendmsg\n[0] inet_sendmsg\n"
        "[0] sock_sendmsg\n[0] sock_write_iter\n[0] new_sync_write\n[0] __vfs_write\n"
        "[0] vfs_write\n[0] ksys_write\n[0] __x64_sys_write\n[0] do_syscall_64\n"
        "[0] entry_SYSCALL_64_after_hwframe\n\n");
    if (!blk)
        fprintf(stderr, "%s", stacks);
    assert_non_null(blk);
    vns_free(stacks);
    tcp_pair_finish(&p, &c, &s);
}

/* Tearing everything down in the middle of a lossy transfer (queues full,
 * timers armed, out-of-order data held) frees every skb and socket. */
static void test_tcp_destroy_mid_transfer(void **state)
{
    struct inet_link_config lc = {.loss = 0.02, .reorder = 0.02};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};

    (void)state;
    inet_pair_init(&p, 24, &lc, NULL);
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 50000000, 65536);
    vns_sim_run(p.sim, VNS_MSEC(3));
    assert_true(s.received > 0 && !s.eof);
    vns_ctx_destroy(c.ctx);
    vns_ctx_destroy(s.ctx);
    inet_pair_fini(&p); /* sockets, queues and timers go with the inet */
}

static int write_30000(struct vns_ctx *ctx, void *arg)
{
    assert_int_equal(vns_sys_write(ctx, arg, 30000), 30000);
    return VNS_STEP_DONE;
}

/* Segments that arrive while a system call owns the socket (lock_sock)
 * wait on its backlog (tcp_add_backlog) and are processed by
 * release_sock (__release_sock -> tcp_v4_do_rcv). */
static void test_tcp_backlog_while_owned(void **state)
{
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct vns_tcp_info ti;
    struct vns_ctx *app;

    (void)state;
    inet_pair_init(&p, 25, NULL, NULL);
    tcp_server_start(&s, &p.b, 5001, 0);
    s.read_after = VNS_SEC(10); /* accept, then do not read for now */
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 0, 0);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_MSEC(1));
    assert_non_null(s.conn);
    vns__lock_sock(NULL, s.conn);
    app = vns_test_ctx(p.sim, VNS_CTX_USER, "app", p.a.cpus[0], write_30000, c.sk);
    vns_ctx_start(app, vns_sim_now(p.sim));
    vns_sim_run(p.sim, VNS_MSEC(5));
    assert_true(vns_inet_stats(p.b.inet)->tcp_backlog_queued > 0);
    assert_int_equal(vns_tcp_get_info(s.conn, &ti), 0);
    assert_int_equal(ti.rcv_nxt, 1); /* nothing processed yet */
    vns__release_sock(NULL, s.conn);
    assert_int_equal(vns_tcp_get_info(s.conn, &ti), 0);
    assert_int_equal(ti.rcv_nxt,
                     1 + 10 * 1448); /* the initial window, IW10, was all in the backlog */
    s.read_after = 0;
    vns_ctx_wake(NULL, s.ctx);
    vns_sim_run(p.sim, VNS_MSEC(20));
    assert_int_equal(s.received, 30000);
    vns_ctx_destroy(app);
    tcp_pair_finish(&p, &c, &s);
}

/* netperf TCP_STREAM's end: the client shuts its sending side down
 * (FIN_WAIT1 -> FIN_WAIT2), the server reads to EOF and closes, the
 * client reads EOF (0) and ends in TIME_WAIT. */
struct shut_app {
    struct vns_sock *sk;
    int phase;
    long eof;
};

static int shut_step(struct vns_ctx *ctx, void *arg)
{
    struct shut_app *a = arg;
    long n;

    if (a->phase == 0) {
        assert_int_equal(vns_sys_write(ctx, a->sk, 100000), 100000);
        assert_int_equal(vns_sys_shutdown(ctx, a->sk, VNS_SHUT_WR), 0);
        assert_int_equal(vns_sys_write(ctx, a->sk, 1), -VNS_EPIPE);
        a->phase = 1;
        return VNS_STEP_AGAIN;
    }
    n = vns_sys_read(ctx, a->sk, 1000);
    if (n == -VNS_EAGAIN)
        return VNS_STEP_SLEEP;
    a->eof = n;
    return VNS_STEP_DONE;
}

static void test_tcp_shutdown_write(void **state)
{
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct shut_app a = {.eof = -1};
    struct vns_ctx *app;
    struct vns_tcp_info ti;

    (void)state;
    inet_pair_init(&p, 26, NULL, NULL);
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 0, 0);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_MSEC(1));
    a.sk = c.sk;
    app = vns_test_ctx(p.sim, VNS_CTX_USER, "app", p.a.cpus[0], shut_step, &a);
    vns_ctx_start(app, vns_sim_now(p.sim));
    vns_sim_run(p.sim, VNS_MSEC(300));
    assert_true(s.eof);
    assert_int_equal(s.received, 100000);
    assert_int_equal(a.eof, 0);
    assert_int_equal(vns_tcp_get_info(c.sk, &ti), 0);
    assert_int_equal(ti.state, VNS_TCP_TIME_WAIT);
    vns_ctx_destroy(app);
    tcp_pair_finish(&p, &c, &s);
}

/* Simultaneous close: both ends send their FIN at the same time, so each
 * gets the peer's FIN in FIN_WAIT1 before its own is acked: CLOSING
 * (tcp_fin), then the ACK of its FIN moves it to TIME_WAIT (RFC 793's
 * figure 13, tcp_rcv_state_process's TCP_CLOSING case). */
static void test_tcp_simultaneous_close(void **state)
{
    struct inet_link_config lc = {.delay = VNS_USEC(100)};
    struct inet_pair p;
    struct tcp_server s = {0};
    struct tcp_client c = {0};
    struct vns_tcp_info ca, sa;
    vns_time_t t0;

    (void)state;
    inet_pair_init(&p, 27, &lc, NULL);
    tcp_server_start(&s, &p.b, 5001, 0);
    s.no_close = true;
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 0, 0);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_MSEC(2));
    assert_non_null(s.conn);
    t0 = vns_sim_now(p.sim);
    assert_int_equal(vns_sys_shutdown(NULL, c.sk, 1), 0);
    assert_int_equal(vns_sys_shutdown(NULL, s.conn, 1), 0);
    assert_int_equal(vns_tcp_get_info(c.sk, &ca), 0);
    assert_int_equal(ca.state, VNS_TCP_FIN_WAIT1);
    /* the FINs have crossed; the ACKs of them are still on the wire */
    vns_sim_run(p.sim, t0 + VNS_USEC(150));
    assert_int_equal(vns_tcp_get_info(c.sk, &ca), 0);
    assert_int_equal(vns_tcp_get_info(s.conn, &sa), 0);
    assert_int_equal(ca.state, VNS_TCP_CLOSING);
    assert_int_equal(sa.state, VNS_TCP_CLOSING);
    vns_sim_run(p.sim, t0 + VNS_USEC(400));
    assert_int_equal(vns_tcp_get_info(c.sk, &ca), 0);
    assert_int_equal(vns_tcp_get_info(s.conn, &sa), 0);
    assert_int_equal(ca.state, VNS_TCP_TIME_WAIT);
    assert_int_equal(sa.state, VNS_TCP_TIME_WAIT);
    tcp_pair_finish(&p, &c, &s);
}

/* SYN_SENT retransmission (tcp_retransmit_timer on a SYN, 5.4's
 * TCP_TIMEOUT_INIT 1 s doubling): the first two SYNs are lost on the
 * link, the third (sent at 1 s + 2 s) gets through, and the connection is
 * established just after 3 s with the same ISN. */
struct syn_drop {
    struct vns_sim *sim;
    unsigned syns, dropped;
    vns_time_t at[4];
};

static bool syn_drop_filter(void *arg, const struct vns_skb *skb, int dir)
{
    struct syn_drop *d = arg;
    uint8_t h[14 + 20 + 20];
    unsigned ihl;

    if (dir != 0 || skb->len < sizeof(h) || vns_skb_copy_bits(skb, 0, h, sizeof(h)) < 0 ||
        vns_get_be16(h + 12) != VNS_ETH_P_IP || h[14 + 9] != VNS_IPPROTO_TCP)
        return false;
    ihl = (h[14] & 0xf) * 4u;
    if (ihl != 20 || !(h[14 + ihl + 13] & VNS_TCP_FLAG_SYN))
        return false;
    if (d->syns < 4)
        d->at[d->syns] = vns_sim_now(d->sim);
    if (d->syns++ < 2) {
        d->dropped++;
        return true;
    }
    return false;
}

static void test_tcp_syn_retransmit(void **state)
{
    struct syn_drop d = {0};
    struct inet_link_config lc = {.filter = syn_drop_filter, .filter_arg = &d};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};

    (void)state;
    inet_pair_init(&p, 28, &lc, NULL);
    d.sim = p.sim;
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 10000, 10000);
    vns_sim_run(p.sim, VNS_SEC(5));
    assert_int_equal(d.syns, 3);
    assert_int_equal(d.dropped, 2);
    /* the RTO of a SYN: 1 s, then 2 s (backoff), at jiffy granularity */
    assert_true(d.at[1] - d.at[0] >= VNS_SEC(1) && d.at[1] - d.at[0] < VNS_SEC(1) + VNS_MSEC(5));
    assert_true(d.at[2] - d.at[1] >= VNS_SEC(2) && d.at[2] - d.at[1] < VNS_SEC(2) + VNS_MSEC(5));
    assert_true(c.connected_at > d.at[2]);
    assert_int_equal(c.error, 0);
    assert_int_equal(s.received, 10000);
    tcp_pair_finish(&p, &c, &s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_tcp_handshake_transfer_close, teardown),
        cmocka_unit_test_teardown(test_tcp_connect_refused, teardown),
        cmocka_unit_test_teardown(test_tcp_write_stack, teardown),
        cmocka_unit_test_teardown(test_tcp_destroy_mid_transfer, teardown),
        cmocka_unit_test_teardown(test_tcp_backlog_while_owned, teardown),
        cmocka_unit_test_teardown(test_tcp_shutdown_write, teardown),
        cmocka_unit_test_teardown(test_tcp_simultaneous_close, teardown),
        cmocka_unit_test_teardown(test_tcp_syn_retransmit, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
