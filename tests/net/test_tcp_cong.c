/* tests/net/test_tcp_cong.c -- congestion control under scripted loss:
 * slow start from IW10, one lost segment -> one fast recovery with
 * ssthresh = cwnd/2 (Reno) or 717/1024 cwnd (CUBIC), cwnd = ssthresh when
 * recovery ends (PRR), then additive (Reno) or cubic growth; SACK-based
 * recovery repairs several holes in one episode without an RTO; the RTO
 * backs off exponentially from srtt + 200 ms when everything is lost. */
#include <stdio.h>
#include <string.h>

#include "support/inet_tcp.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"
#include "vnetsim/cpu.h"
#include "vnetsim/proto/ip.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* Drops the data segments whose index (in order of first sending, from
 * a to b) is listed; counts data frames and records retransmission times. */
struct script {
    uint32_t drop[8];
    unsigned ndrop;
    unsigned data_frames;
    uint32_t max_seq_end;
    bool seen_any;
    bool drop_all_after; /* drop every data frame once data_frames >= drop_from */
    unsigned drop_from;
    vns_time_t rtx_times[16];
    unsigned nrtx;
    struct vns_sim *sim;
};

static bool frame_tcp_data(const struct vns_skb *skb, uint32_t *seq, uint32_t *len)
{
    uint8_t h[14 + 60 + 60];
    unsigned ihl, doff, tot;

    if (skb->len < 14 + 40 ||
        vns_skb_copy_bits(skb, 0, h, VNS_MIN((uint32_t)sizeof(h), skb->len)) < 0)
        return false;
    if (vns_get_be16(h + 12) != VNS_ETH_P_IP || h[14 + 9] != VNS_IPPROTO_TCP)
        return false;
    ihl = (h[14] & 0xf) * 4u;
    tot = vns_get_be16(h + 16);
    doff = (h[14 + ihl + 12] >> 4) * 4u;
    *seq = vns_get_be32(h + 14 + ihl + 4);
    *len = tot - ihl - doff;
    return *len > 0;
}

static bool script_filter(void *arg, const struct vns_skb *skb, int dir)
{
    struct script *s = arg;
    uint32_t seq, len;

    if (dir != 0 || !frame_tcp_data(skb, &seq, &len))
        return false;
    if (s->seen_any && (int32_t)(seq + len - s->max_seq_end) <= 0) {
        if (s->nrtx < 16)
            s->rtx_times[s->nrtx++] = vns_sim_now(s->sim);
        return s->drop_all_after && s->data_frames >= s->drop_from;
    }
    s->seen_any = true;
    s->max_seq_end = seq + len;
    s->data_frames++;
    if (s->drop_all_after && s->data_frames >= s->drop_from)
        return true;
    for (unsigned i = 0; i < s->ndrop; i++)
        if (s->drop[i] == s->data_frames)
            return true;
    return false;
}

struct sampler {
    struct vns_timer t;
    struct vns_sim *sim;
    struct tcp_client *c;
    vns_time_t period;
    /* trace */
    unsigned n;
    uint32_t cwnd[4096], ssthresh[4096];
    uint8_t ca[4096];
};

static void sample(struct vns_sim *sim, struct vns_timer *t)
{
    struct sampler *s = t->data;
    struct vns_tcp_info ti;

    if (s->c->sk && vns_tcp_get_info(s->c->sk, &ti) == 0 && s->n < 4096) {
        s->cwnd[s->n] = ti.snd_cwnd;
        s->ssthresh[s->n] = ti.snd_ssthresh;
        s->ca[s->n] = (uint8_t)ti.ca_state;
        s->n++;
    }
    vns_timer_arm(sim, t, vns_sim_now(sim) + s->period);
}

/* One loss at segment 300 of a 10 ms RTT path: returns via *w the cwnd
 * just before recovery, *ss the ssthresh set, and cwnd 1 s later. */
static void run_one_loss(const char *cc, uint32_t *w, uint32_t *ss, uint32_t *after_rec,
                         uint32_t *later, unsigned *recoveries)
{
    struct script sc = {.drop = {300}, .ndrop = 1};
    struct inet_link_config lc = {.rate_bps = 1000000000ull,
                                  .delay = VNS_MSEC(5),
                                  .filter = script_filter,
                                  .filter_arg = &sc};
    struct vns_inet_config icfg = {.tcp_congestion_control = cc};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    static struct sampler sm;
    unsigned i, rec = 0, first = 0;

    inet_pair_init(&p, 41, &lc, &icfg);
    sc.sim = p.sim;
    memset(&sm, 0, sizeof(sm));
    sm.sim = p.sim;
    sm.c = &c;
    sm.period = VNS_MSEC(1);
    vns_timer_init(&sm.t, sample, &sm, 0);
    vns_timer_arm(p.sim, &sm.t, VNS_MSEC(1));
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 400000000, 131072);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_MSEC(2500));
    vns_timer_cancel(p.sim, &sm.t);
    for (i = 1; i < sm.n; i++) {
        if (sm.ca[i] == VNS_TCP_CA_Recovery && sm.ca[i - 1] != VNS_TCP_CA_Recovery) {
            if (!rec++) {
                first = i;
                *w = sm.cwnd[i - 1];
                *ss = sm.ssthresh[i];
            }
        }
    }
    *recoveries = rec;
    for (i = first; i < sm.n && sm.ca[i] == VNS_TCP_CA_Recovery; i++)
        ;
    *after_rec = i < sm.n ? sm.cwnd[i] : 0;
    *later = (i + 1000 < sm.n) ? sm.cwnd[i + 1000] : 0;
    fprintf(stderr, "%s: W %u ssthresh %u after recovery %u, 1 s later %u; rto %lu\n", cc, *w, *ss,
            *after_rec, *later, (unsigned long)vns_inet_stats(p.a.inet)->tcp_timeouts);
    assert_int_equal(vns_inet_stats(p.a.inet)->tcp_timeouts, 0);
    assert_int_equal(vns_inet_stats(p.b.inet)->payload_mismatches, 0);
    tcp_pair_finish(&p, &c, &s);
}

/* Reno: ssthresh = W/2, cwnd = ssthresh after recovery, then about one
 * segment per RTT (10 ms): ~100 segments in 1 s. */
static void test_tcp_cong_reno_one_loss(void **state)
{
    uint32_t w = 0, ss = 0, after = 0, later = 0;
    unsigned rec = 0;

    (void)state;
    run_one_loss("reno", &w, &ss, &after, &later, &rec);
    assert_int_equal(rec, 1);
    assert_true(w >= 100);                           /* slow start from 10 got this far */
    assert_true(ss >= w / 2 - 1 && ss <= w / 2 + 4); /* w is sampled <= 1 ms early */
    assert_int_equal(after, ss);
    assert_true(later >= ss + 70 && later <= ss + 110);
}

/* CUBIC: ssthresh = 717/1024 W (beta 0.7), cwnd = ssthresh after recovery;
 * growth over 1 s stays below W (the plateau is K = cbrt(W x 0.3 / 0.4)
 * seconds away) but above what Reno-friendly growth alone gives at the
 * start. */
static void test_tcp_cong_cubic_one_loss(void **state)
{
    uint32_t w = 0, ss = 0, after = 0, later = 0;
    unsigned rec = 0;

    (void)state;
    run_one_loss("cubic", &w, &ss, &after, &later, &rec);
    assert_int_equal(rec, 1);
    assert_true(w >= 100);
    assert_true(ss >= (w * 717) / 1024 - 1 &&
                ss <= (w * 717) / 1024 + 4); /* w is sampled <= 1 ms early */
    assert_int_equal(after, ss);
    assert_true(later > ss + 20);
    assert_true(later < w + 30);
}

/* Three holes in one window: SACK lets one recovery episode repair them
 * all, each retransmitted once, no timeout. */
static void test_tcp_cong_sack_recovery_three_holes(void **state)
{
    struct script sc = {.drop = {200, 203, 206}, .ndrop = 3};
    struct inet_link_config lc = {.rate_bps = 1000000000ull,
                                  .delay = VNS_MSEC(1),
                                  .filter = script_filter,
                                  .filter_arg = &sc};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    const struct vns_inet_stats *as, *bs;

    (void)state;
    inet_pair_init(&p, 43, &lc, NULL);
    sc.sim = p.sim;
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 5000000, 131072);
    vns_sim_run(p.sim, VNS_SEC(2));
    as = vns_inet_stats(p.a.inet);
    bs = vns_inet_stats(p.b.inet);
    assert_true(s.eof);
    assert_int_equal(s.received, 5000000);
    assert_int_equal(bs->payload_mismatches, 0);
    assert_int_equal(as->tcp_timeouts, 0);
    assert_int_equal(as->tcp_sack_recovery, 1);
    assert_int_equal(as->tcp_retrans_segs, 3);
    assert_int_equal(sc.nrtx, 3);
    assert_true(as->tcp_sack_blocks_rcvd > 0);
    assert_true(bs->tcp_ofo_queue > 0);
    tcp_pair_finish(&p, &c, &s);
}

/* Everything lost from segment 50 on: one tail loss probe at 2 x srtt,
 * then the head is retransmitted at srtt + max(rttvar, 200 ms), then
 * after 2x, 4x, 8x that (exponential back-off). */
static void test_tcp_cong_rto_backoff(void **state)
{
    struct script sc = {.drop_all_after = true, .drop_from = 50};
    struct inet_link_config lc = {.rate_bps = 1000000000ull,
                                  .delay = VNS_MSEC(1),
                                  .filter = script_filter,
                                  .filter_arg = &sc};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct vns_tcp_info ti;
    vns_time_t d0, d1, d2;

    (void)state;
    inet_pair_init(&p, 44, &lc, NULL);
    sc.sim = p.sim;
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 1000000, 131072);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_SEC(4));
    assert_int_equal(vns_tcp_get_info(c.sk, &ti), 0);
    assert_true(sc.nrtx >= 4);
    assert_int_equal(vns_inet_stats(p.a.inet)->tcp_timeouts, sc.nrtx);
    d0 = sc.rtx_times[1] - sc.rtx_times[0];
    d1 = sc.rtx_times[2] - sc.rtx_times[1];
    d2 = sc.rtx_times[3] - sc.rtx_times[2];
    fprintf(stderr, "first rtx %.1f ms, intervals %.1f %.1f %.1f ms, backoff %u\n",
            (double)sc.rtx_times[0] / 1e6, (double)d0 / 1e6, (double)d1 / 1e6, (double)d2 / 1e6,
            ti.backoff);
    assert_true(d0 >= VNS_MSEC(400) && d0 <= VNS_MSEC(430)); /* 2 x (2 ms + 200 ms) */
    assert_true(d1 >= 2 * d0 - VNS_MSEC(2) && d1 <= 2 * d0 + VNS_MSEC(2));
    assert_true(d2 >= 2 * d1 - VNS_MSEC(2) && d2 <= 2 * d1 + VNS_MSEC(2));
    assert_int_equal(ti.backoff, sc.nrtx);
    assert_int_equal(vns_inet_stats(p.a.inet)->tcp_loss_probes,
                     1); /* one TLP before the first RTO */
    assert_int_equal(ti.ca_state, VNS_TCP_CA_Loss);
    assert_int_equal(ti.snd_cwnd, 1);
    vns_sys_close(NULL, c.sk);
    c.sk = NULL;
    tcp_client_fini(&c);
    tcp_server_fini(&s);
    inet_pair_fini(&p);
}

/* HyStart (CUBIC only): on a 100 us RTT path the 5.4 ACK-train test ends
 * slow start once a round spans a millisecond boundary, at a small cwnd
 * (ssthresh = cwnd then); Reno has no HyStart and leaves slow start only
 * on loss. Both move every byte. */
static void hystart_run(const char *cc, uint32_t *ssthresh, uint64_t *exits)
{
    struct inet_link_config lc = {.rate_bps = 1000000000ull, .delay = VNS_USEC(50)};
    struct vns_inet_config icfg = {.tcp_congestion_control = cc};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    struct vns_tcp_info ti;

    inet_pair_init(&p, 45, &lc, &icfg);
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 20000000, 131072);
    c.no_close = true;
    vns_sim_run(p.sim, VNS_MSEC(400));
    assert_int_equal(s.received, 20000000);
    assert_int_equal(vns_tcp_get_info(c.sk, &ti), 0);
    *ssthresh = ti.snd_ssthresh;
    *exits = vns_inet_stats(p.a.inet)->tcp_hystart_exits;
    tcp_pair_finish(&p, &c, &s);
}

static void test_tcp_cong_hystart(void **state)
{
    uint32_t ss;
    uint64_t exits;

    (void)state;
    hystart_run("cubic", &ss, &exits);
    assert_int_equal(exits, 1);
    assert_true(ss >= 16 && ss < 200);
    hystart_run("reno", &ss, &exits);
    assert_int_equal(exits, 0);
    assert_int_equal(ss, 0x7fffffff); /* TCP_INFINITE_SSTHRESH: never left slow start */
}

/* Reordering without loss: segments held back 300 us look lost to RACK,
 * are retransmitted, and come back D-SACKed; the reductions they caused
 * are undone (tcp_try_undo_*), and nothing is lost. */
static void test_tcp_cong_reordering_undo(void **state)
{
    struct inet_link_config lc = {.rate_bps = 1000000000ull,
                                  .delay = VNS_USEC(100),
                                  .reorder = 0.005,
                                  .reorder_delay = VNS_USEC(300)};
    struct inet_pair p;
    struct tcp_server s;
    struct tcp_client c = {0};
    const struct vns_inet_stats *as;

    (void)state;
    inet_pair_init(&p, 46, &lc, NULL);
    tcp_server_start(&s, &p.b, 5001, 0);
    tcp_client_start(&c, &p.a, INET_ADDR_B, 5001, 20000000, 131072);
    vns_sim_run(p.sim, VNS_SEC(2));
    as = vns_inet_stats(p.a.inet);
    fprintf(stderr, "retrans %lu dsack %lu undo full %lu dsack %lu loss %lu recoveries %lu\n",
            (unsigned long)as->tcp_retrans_segs, (unsigned long)as->tcp_dsack_recv,
            (unsigned long)as->tcp_full_undo, (unsigned long)as->tcp_dsack_undo,
            (unsigned long)as->tcp_loss_undo, (unsigned long)as->tcp_sack_recovery);
    assert_true(s.eof);
    assert_int_equal(s.received, 20000000);
    assert_int_equal(vns_inet_stats(p.b.inet)->payload_mismatches, 0);
    assert_int_equal(inet_link_stats(p.link)->lost[0], 0);
    assert_true(as->tcp_retrans_segs > 0);
    assert_true(as->tcp_dsack_recv > 0);
    assert_true(as->tcp_full_undo + as->tcp_dsack_undo + as->tcp_loss_undo > 0);
    tcp_pair_finish(&p, &c, &s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_tcp_cong_reno_one_loss, teardown),
        cmocka_unit_test_teardown(test_tcp_cong_cubic_one_loss, teardown),
        cmocka_unit_test_teardown(test_tcp_cong_sack_recovery_three_holes, teardown),
        cmocka_unit_test_teardown(test_tcp_cong_rto_backoff, teardown),
        cmocka_unit_test_teardown(test_tcp_cong_hystart, teardown),
        cmocka_unit_test_teardown(test_tcp_cong_reordering_undo, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
