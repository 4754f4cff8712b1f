/* tests/net/test_tcp_output.c -- output decisions: the size goal (a
 * multiple of the MSS bounded by half the peer's window, the MSS alone
 * without GSO), Nagle holding a second small segment until the first is
 * acked and TCP_NODELAY not, TCP_CORK coalescing small writes, and the
 * receiver's delayed ACK timing (quick ACKs first, then the 40 ms ato). */
#include <stdio.h>
#include <string.h>

#include "support/inet_tcp.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"
#include "vnetsim/cpu.h"
#include "vnetsim/proto/ip.h"
#include "vnetsim/proto/tcp.h"
#include "vnetsim/qdisc.h"
#include "vnetsim/kernel.h"
#include "vnetsim/wire.h"
#include "net/inet_int.h" /* lock_sock / release_sock for the TSQ_DEFERRED test */

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

struct frames {
    struct vns_sim *sim;
    unsigned ndata, nack;
    vns_time_t data_t[64], ack_t[64];
    uint32_t data_len[64];
};

static void on_frame(void *arg, const struct vns_skb *skb, int dir)
{
    struct frames *f = arg;
    uint8_t h[14 + 60 + 60];
    unsigned ihl, doff, len;

    if (skb->len < 54 || vns_skb_copy_bits(skb, 0, h, VNS_MIN((uint32_t)sizeof(h), skb->len)) < 0)
        return;
    if (vns_get_be16(h + 12) != VNS_ETH_P_IP || h[23] != VNS_IPPROTO_TCP)
        return;
    ihl = (h[14] & 0xf) * 4u;
    doff = (h[14 + ihl + 12] >> 4) * 4u;
    len = vns_get_be16(h + 16) - ihl - doff;
    if (h[14 + ihl + 13] & (VNS_TCP_FLAG_SYN | VNS_TCP_FLAG_FIN))
        return;
    if (dir == 0 && len && f->ndata < 64) {
        f->data_len[f->ndata] = len;
        f->data_t[f->ndata++] = vns_sim_now(f->sim);
    } else if (dir == 1 && !len && f->nack < 64) {
        f->ack_t[f->nack++] = vns_sim_now(f->sim);
    }
}

/* Size goal: 22 x 1448 (half of the 65160-byte window of the SYN-ACK);
 * without SG/checksum offload no GSO: the MSS. */
static void check_size_goal(bool offloads, unsigned expect)
{
    struct inet_link_config lc = {.no_features = !offloads};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct vns_tcp_info ti;

    inet_pair_init(&p, 51, &lc, NULL);
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 100000, 100000);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_MSEC(20));
    assert_int_equal(s.received, 100000);
    assert_int_equal(vns_tcp_get_info(c.sk, &ti), 0);
    assert_int_equal(ti.mss_cache, 1448);
    assert_int_equal(ti.size_goal, expect);
    tcp_pair_finish(&p, &c, &s);
}

static void test_tcp_output_size_goal(void **state)
{
    (void)state;
    check_size_goal(true, 22 * 1448);
    check_size_goal(false, 1448);
}

/* Two 100-byte writes back to back: Nagle sends the second only after the
 * first is acked (one RTT, 2 ms here); with TCP_NODELAY at once. */
static void check_nagle(bool nodelay, vns_time_t *gap)
{
    struct frames f = {0};
    struct inet_link_config lc = {.delay = VNS_MSEC(1), .on_frame = on_frame, .on_frame_arg = &f};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};

    inet_pair_init(&p, 52, &lc, NULL);
    f.sim = p.sim;
    tcp_server_start(&s, &p.b, 5001, 0);
    assert_int_equal(vns_socket_create(p.a.inet, VNS_SOCK_STREAM, 0, &c.sk), 0);
    vns_sock_set_nodelay(c.sk, nodelay);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 200, 100);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_MSEC(20));
    assert_int_equal(s.received, 200);
    assert_int_equal(f.ndata, 2);
    *gap = f.data_t[1] - f.data_t[0];
    tcp_pair_finish(&p, &c, &s);
}

static void test_tcp_output_nagle(void **state)
{
    vns_time_t gap;

    (void)state;
    check_nagle(false, &gap);
    assert_true(gap >= VNS_MSEC(2) && gap < VNS_MSEC(3));
    check_nagle(true, &gap);
    assert_true(gap < VNS_USEC(50));
}

/* TCP_CORK: three 100-byte writes leave as one 300-byte segment when the
 * cork is pulled. */
static int cork_app(struct vns_ctx *ctx, void *arg)
{
    struct vns_sock *sk = arg;

    for (int i = 0; i < 3; i++)
        assert_int_equal(vns_sys_write(ctx, sk, 100), 100);
    return VNS_STEP_DONE;
}

static void test_tcp_output_cork(void **state)
{
    struct frames f = {0};
    struct inet_link_config lc = {.delay = VNS_MSEC(1), .on_frame = on_frame, .on_frame_arg = &f};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct vns_ctx *app;

    (void)state;
    inet_pair_init(&p, 53, &lc, NULL);
    f.sim = p.sim;
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 0, 100);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_MSEC(10));
    vns_sock_set_cork(c.sk, true);
    app = vns_test_ctx(p.sim, VNS_CTX_USER, "app", p.a.cpus[0], cork_app, c.sk);
    vns_ctx_start(app, vns_sim_now(p.sim));
    vns_sim_run(p.sim, VNS_MSEC(20));
    assert_int_equal(f.ndata, 0);
    vns_sock_set_cork(c.sk, false);
    vns_sim_run(p.sim, VNS_MSEC(30));
    assert_int_equal(f.ndata, 1);
    assert_int_equal(f.data_len[0], 300);
    assert_int_equal(s.received, 300);
    vns_ctx_destroy(app);
    tcp_pair_finish(&p, &c, &s);
}

/* Full-sized segments 100 ms apart: the receiver's first 16 ACKs are
 * quick (TCP_MAX_QUICKACKS, one more for the window growth), then each is delayed by the ato, 40 ms
 * (TCP_DELACK_MIN, bounded by max(srtt, 40 ms)), plus at most one tick:
 * one MSS is not "more than one full frame", and a full-sized segment is
 * not "pushed" (tcp_cleanup_rbuf would ACK a short one when the reader
 * drains the queue). */
static void test_tcp_output_delayed_ack_timing(void **state)
{
    struct frames f = {0};
    struct inet_link_config lc = {.delay = VNS_MSEC(1), .on_frame = on_frame, .on_frame_arg = &f};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {.think = VNS_MSEC(100)};
    unsigned quick = 0, delayed = 0;

    (void)state;
    inet_pair_init(&p, 54, &lc, NULL);
    f.sim = p.sim;
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 1448 * 24, 1448);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_SEC(3));
    assert_int_equal(s.received, 1448 * 24);
    assert_int_equal(f.ndata, 24);
    assert_int_equal(f.nack, 24);
    for (unsigned i = 0; i < 24; i++) {
        vns_time_t d = f.ack_t[i] - f.data_t[i] - VNS_MSEC(1);

        if (d < VNS_USEC(100))
            quick++;
        else if (d >= VNS_MSEC(40) && d <= VNS_MSEC(41) + VNS_USEC(100))
            delayed++;
    }
    /* 16 quick ACKs, plus one: the segment that grew rcv_ssthresh to the
     * window clamp (tcp_grow_window sets icsk_ack.quick |= 1) */
    assert_int_equal(quick, 17);
    assert_int_equal(delayed, 7);
    assert_int_equal(vns_inet_stats(p.b.inet)->tcp_delayed_acks, delayed);
    tcp_pair_finish(&p, &c, &s);
}

/* A receiver that does not read: the window closes, the sender stops
 * (rwnd-limited) and probes the zero window with backed-off probes; when
 * the reader starts, the window update restarts the transfer and every
 * byte arrives. */
static void test_tcp_output_zero_window_probe(void **state)
{
    struct inet_link_config lc = {.delay = VNS_USEC(100)};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct vns_tcp_info ti;
    const uint64_t total = 2000000;

    (void)state;
    inet_pair_init(&p, 55, &lc, NULL);
    tcp_server_start(&s, &p.b, 5001, 0);
    s.read_after = VNS_SEC(3);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, total, 65536);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_SEC(2));
    assert_int_equal(vns_tcp_get_info(c.sk, &ti), 0);
    assert_true(ti.snd_wnd < ti.mss_cache); /* closed, or a sliver the receiver will not shrink */
    assert_int_equal(ti.packets_out, 0);
    assert_true(ti.write_queue_bytes > 0);
    assert_true(vns_inet_stats(p.a.inet)->tcp_zero_window_probes >= 2);
    assert_true(s.received == 0);
    assert_int_equal(vns_inet_stats(p.a.inet)->tcp_timeouts, 0);
    vns_sim_run(p.sim, VNS_SEC(6));
    assert_int_equal(s.received, total);
    assert_int_equal(vns_inet_stats(p.b.inet)->payload_mismatches, 0);
    tcp_pair_finish(&p, &c, &s);
}

struct tso_frames {
    unsigned frames, max_segs, not_mss_multiple;
};

static void tso_on_frame(void *arg, const struct vns_skb *skb, int dir)
{
    struct tso_frames *t = arg;
    uint32_t payload;

    if (dir != 0 || skb->len <= 14 + 20 + 32)
        return;
    payload = skb->len - (14 + 20 + 32); /* Ethernet, IPv4, TCP with timestamps */
    t->frames++;
    if (payload / 1448 > t->max_segs)
        t->max_segs = payload / 1448;
    if (payload % 1448)
        t->not_mss_multiple++;
}

/* With a TSO device the stack hands over GSO skbs: a multiple of the MSS
 * (but the last), at most the size goal (45 x 1448 here) and sized by
 * tcp_tso_autosize to ~1 ms of data at the pacing rate: full 64 KiB
 * chunks at 10 Gbit/s, much smaller ones at 100 Mbit/s; deferral
 * (tcp_tso_should_defer) happens. */
static void tso_run(uint64_t rate, struct tso_frames *t, uint64_t *deferred)
{
    struct inet_link_config lc = {.rate_bps = rate,
                                  .delay = VNS_USEC(50),
                                  .on_frame = tso_on_frame,
                                  .on_frame_arg = t,
                                  .features =
                                      VNS_NETIF_F_SG | VNS_NETIF_F_HW_CSUM | VNS_NETIF_F_TSO};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};

    memset(t, 0, sizeof(*t));
    inet_pair_init(&p, 56, &lc, NULL);
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 20000000, 131072);
    vns_sim_run(p.sim, VNS_SEC(3));
    assert_int_equal(s.received, 20000000);
    *deferred = vns_inet_stats(p.a.inet)->tcp_tso_deferred;
    tcp_pair_finish(&p, &c, &s);
}

static void test_tcp_output_tso_sizing(void **state)
{
    struct tso_frames fast, slow;
    uint64_t deferred;

    (void)state;
    tso_run(10000000000ull, &fast, &deferred);
    assert_int_equal(fast.max_segs, 45);
    assert_true(fast.frames < 20000000 / 1448 / 10); /* mostly large GSO frames */
    fprintf(stderr, "fast: %u frames, max %u segs, %u partial; slow: ", fast.frames, fast.max_segs,
            fast.not_mss_multiple);
    assert_true(fast.not_mss_multiple * 10 < fast.frames); /* a partial tail per write at most */
    assert_true(deferred > 0);
    tso_run(100000000ull, &slow, &deferred);
    fprintf(stderr, "%u frames, max %u segs\n", slow.frames, slow.max_segs);
    assert_true(slow.max_segs >= 2 && slow.max_segs < 45);
    assert_true(slow.frames > fast.frames * 2);
}

/* TCP small queues: on a 10 Gbit/s link whose NIC ring holds only 16
 * frames, the bytes waiting in the qdisc stay near tcp_limit_output_bytes
 * (1 MiB) instead of growing with cwnd, and no qdisc drop happens. */
struct qmax {
    struct vns_timer t;
    struct vns_sim *sim;
    struct vns_net_device *dev;
    uint64_t max_backlog;
};

static void qmax_sample(struct vns_sim *sim, struct vns_timer *t)
{
    struct qmax *q = t->data;

    if (q->dev->txq.qdisc && q->dev->txq.qdisc->backlog > q->max_backlog)
        q->max_backlog = q->dev->txq.qdisc->backlog;
    vns_timer_arm(sim, t, vns_sim_now(sim) + VNS_USEC(20));
}

static void test_tcp_output_tsq_bounds_qdisc(void **state)
{
    struct inet_link_config lc = {
        .rate_bps = 10000000000ull, .delay = VNS_USEC(200), .tx_ring = 16, .napi = true};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct qmax q = {0};

    (void)state;
    inet_pair_init(&p, 57, &lc, NULL);
    q.dev = p.a.eth;
    vns_timer_init(&q.t, qmax_sample, &q, 0);
    vns_timer_arm(p.sim, &q.t, VNS_USEC(20));
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 100000000, 262144);
    vns_sim_run(p.sim, VNS_SEC(1));
    vns_timer_cancel(p.sim, &q.t);
    assert_int_equal(s.received, 100000000);
    assert_true(vns_inet_stats(p.a.inet)->tcp_tsq_throttled > 0);
    assert_true(q.max_backlog > 512 * 1024);
    assert_true(q.max_backlog <= 1048576 + 2 * 65536);
    assert_int_equal(vns_kernel_drops(p.a.k, VNS_SKB_DROP_REASON_QDISC_DROP), 0);
    tcp_pair_finish(&p, &c, &s);
}

/* Real sk_wmem_alloc: a bulk sender on a 10 Gbit/s link with a 16-frame
 * NIC ring is throttled by tcp_small_queue_check (its charge never
 * exceeds tcp_limit_output_bytes by more than the skb sent on the edge)
 * and is resumed by tcp_wfree's tasklet: tcp_tsq_write runs from
 * TASKLET_SOFTIRQ (tasklet_action -> tcp_tasklet_func -> tcp_tsq_handler)
 * or, when the writer owns the socket, from tcp_release_cb. At the end
 * every transmitted skb has been freed: the charge is back to 1. */
struct wmax {
    struct vns_timer t;
    struct vns_sock *sk;
    unsigned max;
};

static void wmax_sample(struct vns_sim *sim, struct vns_timer *t)
{
    struct wmax *w = t->data;
    struct vns_sock_stats st;

    vns_sock_get_stats(w->sk, &st);
    if (st.wmem_alloc > w->max)
        w->max = st.wmem_alloc;
    vns_timer_arm(sim, t, vns_sim_now(sim) + VNS_USEC(5));
}

static void test_tcp_output_tsq_wmem_alloc_and_tasklet(void **state)
{
    struct inet_link_config lc = {
        .rate_bps = 10000000000ull, .delay = VNS_USEC(200), .tx_ring = 16, .napi = true};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct wmax w = {0};
    struct vns_sock_stats st;
    const struct vns_inet_stats *as;
    char *stacks;

    (void)state;
    inet_pair_init(&p, 58, &lc, NULL);
    vns_probe_add(p.sim, "tcp_tsq_write");
    c.no_close = true; /* sampled until the end */
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 50000000, 262144);
    w.sk = c.sk;
    vns_timer_init(&w.t, wmax_sample, &w, 0);
    vns_timer_arm(p.sim, &w.t, VNS_USEC(5));
    vns_sim_run(p.sim, VNS_SEC(1));
    vns_timer_cancel(p.sim, &w.t);
    assert_int_equal(s.received, 50000000);
    as = vns_inet_stats(p.a.inet);
    fprintf(stderr, "max sk_wmem_alloc %u, throttled %lu, tasklet queued %lu, deferred %lu\n",
            w.max, (unsigned long)as->tcp_tsq_throttled, (unsigned long)as->tcp_tsq_queued,
            (unsigned long)as->tcp_tsq_deferred);
    assert_true(as->tcp_tsq_throttled > 0);
    assert_true(as->tcp_tsq_queued > 0);
    assert_true(w.max > 512 * 1024);
    assert_true(w.max <= 1048576 + 2 * 66000);
    stacks = vns_test_stacks_string(p.sim, false);
    assert_non_null(strstr(stacks, "[0] tcp_tsq_write\n[0] tcp_tsq_handler\n[0] tcp_tasklet_func\n"
                                   "[0] tasklet_action\n[0] __do_softirq\n"));
    vns_free(stacks);
    vns_sock_get_stats(c.sk, &st);
    assert_int_equal(st.wmem_alloc, 1);
    tcp_pair_finish(&p, &c, &s);
}

/* TCP_TSQ_DEFERRED: an application writes until TSQ throttles it, then
 * keeps the socket owned (lock_sock) across steps. The TX completions'
 * tcp_wfree still queue the socket on the tsq tasklet, whose
 * tcp_tsq_handler finds it owned and defers; release_sock's tcp_release_cb
 * then runs tcp_tsq_write and the data flows again. */
struct owner_app {
    struct vns_sock *sk;
    int phase;
    uint64_t sent;
};

static int owner_step(struct vns_ctx *ctx, void *arg)
{
    struct owner_app *a = arg;
    long n;

    if (a->phase == 0) {
        /* 32 MB first: cwnd grows past what TSQ lets below TCP */
        n = vns_sys_write(ctx, a->sk, (size_t)((32u << 20) - a->sent));
        if (n == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        assert_true(n > 0);
        a->sent += (uint64_t)n;
        if (a->sent < (32u << 20))
            return VNS_STEP_AGAIN;
        vns__lock_sock(ctx, a->sk); /* keep owning it, as a blocked syscall */
        a->phase = 1;
        return VNS_STEP_SLEEP;
    }
    vns__release_sock(ctx, a->sk);
    return VNS_STEP_DONE;
}

static void test_tcp_output_tsq_deferred_to_release_sock(void **state)
{
    struct inet_link_config lc = {
        .rate_bps = 10000000000ull, .delay = VNS_USEC(50), .tx_ring = 16, .napi = true};
    struct vns_inet_config ic = {.tcp_wmem = {4096, 8u << 20, 8u << 20}};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct owner_app a = {0};
    struct vns_ctx *app;
    struct vns_tcp_info ti;
    uint32_t una;
    char *stacks;

    (void)state;
    inet_pair_init(&p, 60, &lc, &ic);
    vns_probe_add(p.sim, "tcp_tsq_write");
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 0, 0);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_MSEC(1));
    a.sk = c.sk;
    app = vns_test_ctx(p.sim, VNS_CTX_USER, "owner", p.a.cpus[0], owner_step, &a);
    vns_ctx_start(app, vns_sim_now(p.sim));
    while (a.phase == 0 && vns_sim_now(p.sim) < VNS_SEC(1))
        vns_sim_run(p.sim, vns_sim_now(p.sim) + VNS_USEC(10));
    assert_int_equal(a.phase, 1);
    vns_sim_run(p.sim, vns_sim_now(p.sim) + VNS_MSEC(5));
    assert_true(vns_inet_stats(p.a.inet)->tcp_tsq_deferred > 0);
    assert_int_equal(vns_tcp_get_info(c.sk, &ti), 0);
    una = ti.snd_nxt;
    vns_sim_run(p.sim, vns_sim_now(p.sim) + VNS_MSEC(5));
    assert_int_equal(vns_tcp_get_info(c.sk, &ti), 0);
    assert_int_equal(ti.snd_nxt, una); /* nothing more went out while owned */
    assert_true(ti.write_seq != ti.snd_nxt);
    vns_ctx_wake(NULL, app);
    vns_sim_run(p.sim, vns_sim_now(p.sim) + VNS_MSEC(100));
    assert_int_equal(s.received, 32u << 20);
    stacks = vns_test_stacks_string(p.sim, false);
    assert_non_null(strstr(stacks, "[0] tcp_tsq_write\n[0] tcp_release_cb\n[0] release_sock\n"));
    vns_free(stacks);
    vns_ctx_destroy(app);
    tcp_pair_finish(&p, &c, &s);
}

/* Autocork decisions: three 100-byte writes with TCP_NODELAY through a
 * 10 Mbit/s lib/dev/wire NIC, which keeps a frame on its TX ring (charged
 * to the socket) until the TX completion of its NAPI poll. The first
 * write leaves at once (the rtx queue is empty). While it is still on the
 * ring, the second is a short tail with more than its truesize of our data
 * below TCP: corked (TCPAutoCorking once, TSQ_THROTTLED), and the third
 * joins it. The completion's tcp_wfree queues the tsq tasklet, which sends
 * the 200 bytes as one segment. With tcp_autocorking off: three segments. */
static void autocork_decision(int autocorking, uint64_t *frames, uint64_t *bytes, uint64_t *corked)
{
    struct vns_inet_config ic = {.tcp_autocorking = autocorking};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct vns_ctx *app;
    uint64_t f0, b0;

    inet_pair_init_wire(
        &p, 61,
        &(struct vns_wire_config){.name = "wire0", .rate_bps = 10000000ull, .delay = VNS_USEC(50)},
        &ic);
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 0, 100);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_MSEC(20));
    vns_sock_set_nodelay(c.sk, true);
    f0 = vns_wire_stats(p.wire, 0)->frames;
    b0 = vns_wire_stats(p.wire, 0)->bytes;
    app = vns_test_ctx(p.sim, VNS_CTX_USER, "app", p.a.cpus[0], cork_app, c.sk);
    vns_ctx_start(app, vns_sim_now(p.sim));
    vns_sim_run(p.sim, VNS_MSEC(60));
    assert_int_equal(s.received, 300);
    *frames = vns_wire_stats(p.wire, 0)->frames - f0;
    *bytes = vns_wire_stats(p.wire, 0)->bytes - b0;
    *corked = vns_inet_stats(p.a.inet)->tcp_autocorking;
    vns_ctx_destroy(app);
    tcp_pair_finish(&p, &c, &s);
}

static void test_tcp_output_autocork_decision(void **state)
{
    uint64_t on, on_bytes, on_corked, off, off_bytes, off_corked;

    (void)state;
    autocork_decision(0, &on, &on_bytes, &on_corked);
    autocork_decision(-1, &off, &off_bytes, &off_corked);
    fprintf(stderr,
            "autocork on: %lu frames (%lu bytes), %lu corked; off: %lu frames (%lu bytes)\n",
            (unsigned long)on, (unsigned long)on_bytes, (unsigned long)on_corked,
            (unsigned long)off, (unsigned long)off_bytes);
    assert_int_equal(on_corked, 1);
    assert_int_equal(on, 2);
    assert_int_equal(off_corked, 0);
    assert_int_equal(off, 3);
    assert_int_equal(off_bytes - on_bytes, 66); /* one Ethernet + IP + TCP(+ts) header less */
}

/* Autocorking (tcp_should_autocork): 100-byte writes with TCP_NODELAY on
 * a 100 Mbit/s link with a one-frame NIC ring, so the frames wait in the
 * qdisc charged to the socket. A short tail waits while more than its
 * truesize of our data is below TCP (TCPAutoCorking counted once per
 * episode, TSQ_THROTTLED set so that tcp_wfree's tasklet pushes it); with
 * tcp_autocorking off it never is, and never more frames leave with it on. */
static uint64_t autocork_frames(int autocorking, uint64_t *corked, unsigned *writes)
{
    struct inet_link_config lc = {
        .rate_bps = 100000000ull, .delay = VNS_USEC(50), .tx_ring = 1, .napi = true};
    struct vns_inet_config ic = {.tcp_autocorking = autocorking};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    uint64_t frames;

    inet_pair_init(&p, 59, &lc, &ic);
    tcp_server_start(&s, &p.b, 5001, 0);
    assert_int_equal(vns_socket_create(p.a.inet, VNS_SOCK_STREAM, 0, &c.sk), 0);
    vns_sock_set_nodelay(c.sk, true);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 200000, 100);
    vns_sim_run(p.sim, VNS_SEC(1));
    assert_int_equal(s.received, 200000);
    frames = inet_link_stats(p.link)->frames[0];
    *corked = vns_inet_stats(p.a.inet)->tcp_autocorking;
    *writes = c.writes;
    tcp_pair_finish(&p, &c, &s);
    return frames;
}

static void test_tcp_output_autocork(void **state)
{
    uint64_t on_corked, off_corked, on, off;
    unsigned on_writes, off_writes;

    (void)state;
    on = autocork_frames(0, &on_corked, &on_writes);
    off = autocork_frames(-1, &off_corked, &off_writes);
    fprintf(stderr,
            "autocork on: %lu frames for %u writes (%lu corked); off: %lu frames for %u writes\n",
            (unsigned long)on, on_writes, (unsigned long)on_corked, (unsigned long)off, off_writes);
    assert_int_equal(on_writes, off_writes);
    assert_true(on_corked > 0);
    assert_int_equal(off_corked, 0);
    assert_true(on <= off);
    assert_true(on * 4 < on_writes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_tcp_output_size_goal, teardown),
        cmocka_unit_test_teardown(test_tcp_output_nagle, teardown),
        cmocka_unit_test_teardown(test_tcp_output_cork, teardown),
        cmocka_unit_test_teardown(test_tcp_output_delayed_ack_timing, teardown),
        cmocka_unit_test_teardown(test_tcp_output_zero_window_probe, teardown),
        cmocka_unit_test_teardown(test_tcp_output_tso_sizing, teardown),
        cmocka_unit_test_teardown(test_tcp_output_tsq_bounds_qdisc, teardown),
        cmocka_unit_test_teardown(test_tcp_output_tsq_wmem_alloc_and_tasklet, teardown),
        cmocka_unit_test_teardown(test_tcp_output_tsq_deferred_to_release_sock, teardown),
        cmocka_unit_test_teardown(test_tcp_output_autocork, teardown),
        cmocka_unit_test_teardown(test_tcp_output_autocork_decision, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
