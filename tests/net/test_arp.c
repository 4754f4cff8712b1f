/* tests/net/test_arp.c -- neighbour resolution: the first packet to a new
 * neighbour is queued while ARP resolves it, the reply flushes the queue;
 * an unanswered neighbour gets 3 broadcast requests 1 s apart and then
 * fails, dropping its queue; the unresolved queue is bounded by
 * unres_qlen_bytes; malformed ARP is dropped and counted; REACHABLE goes
 * STALE after the reachable time, and a STALE entry in use is
 * re-confirmed through DELAY and PROBE with a unicast request. */
#include <string.h>

#include "support/inet_link.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"
#include "vnetsim/cpu.h"
#include "vnetsim/kernel.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

struct sender {
    struct vns_sock *sk;
    uint32_t dst;
    unsigned n, sent;
    size_t len;
};

static int send_step(struct vns_ctx *ctx, void *arg)
{
    struct sender *s = arg;
    struct vns_sockaddr_in to = {.addr = s->dst, .port = 9};

    if (s->sent == s->n)
        return VNS_STEP_DONE;
    assert_int_equal(vns_sys_sendto(ctx, s->sk, s->len, 0, &to), (long)s->len);
    s->sent++;
    return s->sent == s->n ? VNS_STEP_DONE : VNS_STEP_AGAIN;
}

static struct vns_ctx *start_sender(struct inet_host *h, struct sender *s, uint32_t dst, unsigned n,
                                    size_t len)
{
    struct vns_ctx *ctx;

    memset(s, 0, sizeof(*s));
    assert_int_equal(vns_socket_create(h->inet, VNS_SOCK_DGRAM, 0, &s->sk), 0);
    s->dst = dst;
    s->n = n;
    s->len = len;
    ctx = vns_test_ctx(h->sim, VNS_CTX_USER, "sender", h->cpus[0], send_step, s);
    vns_ctx_start(ctx, vns_sim_now(h->sim));
    return ctx;
}

/* Packets wait on the neighbour while ARP resolves it; one request, one
 * reply, then all are delivered; both sides learn each other. */
static void test_arp_resolution_queues_then_flushes(void **state)
{
    struct inet_pair p;
    struct sender s;
    struct vns_ctx *ctx;
    struct vns_neigh_info ni;
    struct vns_sock *rx;
    struct vns_sock_stats st;

    (void)state;
    inet_pair_init(&p, 7, NULL, NULL);
    rx = inet_udp_bound(&p.b, 9);
    ctx = start_sender(&p.a, &s, INET_ADDR_B, 5, 100);
    vns_sim_run(p.sim, VNS_USEC(5));
    /* all five sent before any reply can come back (10 us wire delay) */
    assert_int_equal(s.sent, 5);
    assert_int_equal(vns_neigh_get(p.a.inet, p.a.eth, INET_ADDR_B, &ni), 0);
    assert_int_equal(ni.nud_state, VNS_NUD_INCOMPLETE);
    assert_int_equal(ni.arp_queue_len, 5);
    vns_sim_run(p.sim, VNS_MSEC(1));
    assert_int_equal(vns_neigh_get(p.a.inet, p.a.eth, INET_ADDR_B, &ni), 0);
    assert_int_equal(ni.nud_state, VNS_NUD_REACHABLE);
    assert_memory_equal(ni.ha, p.b.eth->dev_addr, 6);
    assert_int_equal(ni.arp_queue_len, 0);
    /* b learnt a from the request (STALE: not confirmed) */
    assert_int_equal(vns_neigh_get(p.b.inet, p.b.eth, INET_ADDR_A, &ni), 0);
    assert_int_equal(ni.nud_state, VNS_NUD_STALE);
    assert_int_equal(vns_inet_stats(p.a.inet)->arp_requests_sent, 1);
    assert_int_equal(vns_inet_stats(p.b.inet)->arp_replies_sent, 1);
    assert_int_equal(vns_inet_stats(p.a.inet)->arp_replies_rcvd, 1);
    vns_sock_get_stats(rx, &st);
    assert_int_equal(vns_inet_stats(p.b.inet)->ip_in_delivers, 5);
    assert_int_equal(vns_sys_recvfrom(NULL, rx, 2000, VNS_MSG_DONTWAIT, NULL), 100);
    vns_sys_close(NULL, rx);
    vns_sys_close(NULL, s.sk);
    vns_ctx_destroy(ctx);
    inet_pair_fini(&p);
}

/* Nobody answers: three broadcast requests at 0, 1 s, 2 s; at 3 s the
 * entry fails and its queued packets are dropped. */
static void test_arp_unanswered_fails_after_three_probes(void **state)
{
    struct inet_pair p;
    struct sender s;
    struct vns_ctx *ctx;
    struct vns_neigh_info ni;
    uint32_t ghost = VNS_IPV4(10, 0, 0, 99);

    (void)state;
    inet_pair_init(&p, 7, NULL, NULL);
    ctx = start_sender(&p.a, &s, ghost, 3, 100);
    vns_sim_run(p.sim, VNS_MSEC(500));
    assert_int_equal(vns_inet_stats(p.a.inet)->arp_requests_sent, 1);
    vns_sim_run(p.sim, VNS_MSEC(1500));
    assert_int_equal(vns_inet_stats(p.a.inet)->arp_requests_sent, 2);
    vns_sim_run(p.sim, VNS_MSEC(2500));
    assert_int_equal(vns_inet_stats(p.a.inet)->arp_requests_sent, 3);
    assert_int_equal(vns_neigh_get(p.a.inet, p.a.eth, ghost, &ni), 0);
    assert_int_equal(ni.nud_state, VNS_NUD_INCOMPLETE);
    assert_int_equal(ni.arp_queue_len, 3);
    vns_sim_run(p.sim, VNS_MSEC(3500));
    assert_int_equal(vns_neigh_get(p.a.inet, p.a.eth, ghost, &ni), 0);
    assert_int_equal(ni.nud_state, VNS_NUD_FAILED);
    assert_int_equal(ni.arp_queue_len, 0);
    assert_int_equal(vns_inet_stats(p.a.inet)->arp_requests_sent, 3);
    assert_int_equal(vns_inet_stats(p.a.inet)->neigh_res_failed, 1);
    /* arp_error_report's reason for each queued packet */
    assert_int_equal(vns_kernel_drops(p.a.k, VNS_SKB_DROP_REASON_NEIGH_FAILED), 3);
    /* b saw the requests but they were not for it */
    assert_int_equal(vns_inet_stats(p.b.inet)->arp_requests_rcvd, 3);
    assert_int_equal(vns_inet_stats(p.b.inet)->arp_replies_sent, 0);
    vns_sys_close(NULL, s.sk);
    vns_ctx_destroy(ctx);
    inet_pair_fini(&p);
}

/* The unresolved queue holds unres_qlen_bytes (212992) of truesize: the
 * oldest packets are discarded beyond it. */
static void test_arp_queue_bounded(void **state)
{
    struct inet_pair p;
    struct sender s;
    struct vns_ctx *ctx;
    struct vns_neigh_info ni;
    const struct vns_inet_stats *st;

    (void)state;
    inet_pair_init(&p, 7, NULL, NULL);
    ctx = start_sender(&p.a, &s, VNS_IPV4(10, 0, 0, 50), 400, 1000);
    vns_sim_run(p.sim, VNS_MSEC(100));
    assert_int_equal(s.sent, 400);
    assert_int_equal(vns_neigh_get(p.a.inet, p.a.eth, VNS_IPV4(10, 0, 0, 50), &ni), 0);
    st = vns_inet_stats(p.a.inet);
    assert_true(ni.arp_queue_len < 400);
    assert_true(ni.arp_queue_len > 50);
    assert_int_equal(st->neigh_unres_discards + ni.arp_queue_len, 400);
    assert_int_equal(vns_kernel_drops(p.a.k, VNS_SKB_DROP_REASON_NEIGH_QUEUEFULL),
                     st->neigh_unres_discards);
    vns_sys_close(NULL, s.sk);
    vns_ctx_destroy(ctx);
    inet_pair_fini(&p);
}

/* Truncated or foreign ARP is dropped and counted, never parsed. */
static void test_arp_malformed_dropped(void **state)
{
    struct inet_pair p;
    struct vns_skb *skb;
    uint8_t *a;

    (void)state;
    inet_pair_init(&p, 7, NULL, NULL);
    skb = vns_alloc_skb(p.b.k, 128);
    vns_skb_reserve(skb, 64);
    memset(vns_skb_put(skb, 10), 0, 10);
    assert_int_equal(vns_arp_rcv(NULL, skb, p.b.eth, p.b.inet), VNS_NET_RX_DROP);
    skb = vns_alloc_skb(p.b.k, 128);
    vns_skb_reserve(skb, 64);
    a = vns_skb_put(skb, 28);
    memset(a, 0, 28);
    vns_put_be16(a, 6); /* IEEE 802 hardware: not ours */
    vns_put_be16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    vns_put_be16(a + 6, 1);
    assert_int_equal(vns_arp_rcv(NULL, skb, p.b.eth, p.b.inet), VNS_NET_RX_DROP);
    assert_int_equal(vns_inet_stats(p.b.inet)->arp_rcv_errors, 2);
    inet_pair_fini(&p);
}

/* REACHABLE decays to STALE after the reachable time when unused; a
 * STALE entry in use goes DELAY, then PROBE (unicast request) after 5 s,
 * and the reply makes it REACHABLE again. */
static void test_arp_stale_delay_probe(void **state)
{
    struct inet_pair p;
    struct sender s;
    struct vns_ctx *ctx;
    struct vns_neigh_info ni;
    struct vns_sock *rx;
    uint64_t req;

    (void)state;
    inet_pair_init(&p, 7, NULL, NULL);
    rx = inet_udp_bound(&p.b, 9);
    ctx = start_sender(&p.a, &s, INET_ADDR_B, 1, 10);
    vns_sim_run(p.sim, VNS_MSEC(10));
    assert_int_equal(vns_neigh_get(p.a.inet, p.a.eth, INET_ADDR_B, &ni), 0);
    assert_int_equal(ni.nud_state, VNS_NUD_REACHABLE);
    vns_sim_run(p.sim, VNS_SEC(50)); /* reachable_time is in [15 s, 45 s) */
    assert_int_equal(vns_neigh_get(p.a.inet, p.a.eth, INET_ADDR_B, &ni), 0);
    assert_int_equal(ni.nud_state, VNS_NUD_STALE);
    req = vns_inet_stats(p.a.inet)->arp_requests_sent;
    s.n = 2; /* one more datagram */
    vns_ctx_push(ctx, send_step, &s);
    vns_ctx_wake(NULL, ctx);
    vns_sim_run(p.sim, VNS_SEC(50) + VNS_MSEC(10));
    assert_int_equal(vns_neigh_get(p.a.inet, p.a.eth, INET_ADDR_B, &ni), 0);
    assert_int_equal(ni.nud_state, VNS_NUD_DELAY);
    assert_int_equal(vns_inet_stats(p.b.inet)->ip_in_delivers, 2); /* sent at once from STALE */
    vns_sim_run(p.sim, VNS_SEC(56));
    assert_int_equal(vns_inet_stats(p.a.inet)->arp_requests_sent, req + 1); /* the unicast probe */
    assert_int_equal(vns_neigh_get(p.a.inet, p.a.eth, INET_ADDR_B, &ni), 0);
    assert_int_equal(ni.nud_state, VNS_NUD_REACHABLE);
    vns_sys_close(NULL, rx);
    vns_sys_close(NULL, s.sk);
    vns_ctx_destroy(ctx);
    inet_pair_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_arp_resolution_queues_then_flushes, teardown),
        cmocka_unit_test_teardown(test_arp_unanswered_fails_after_three_probes, teardown),
        cmocka_unit_test_teardown(test_arp_queue_bounded, teardown),
        cmocka_unit_test_teardown(test_arp_malformed_dropped, teardown),
        cmocka_unit_test_teardown(test_arp_stale_delay_probe, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
