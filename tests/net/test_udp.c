/* tests/net/test_udp.c -- UDP: datagrams delivered and verified, the
 * receive buffer limit (drops counted as RcvbufErrors when the reader
 * falls behind), a blocking reader woken per datagram, software checksums
 * on a device without offloads (every frame's UDP and IP checksum
 * verifies), bad checksums and short packets dropped, closed ports
 * answered with ICMP port unreachable, oversize datagrams refused. */
#include <string.h>

#include "support/inet_link.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"
#include "vnetsim/cpu.h"
#include "vnetsim/kernel.h"
#include "vnetsim/proto/ip.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

struct sender {
    struct vns_sock *sk;
    unsigned n, sent;
    size_t len;
    uint16_t port;
};

static int send_step(struct vns_ctx *ctx, void *arg)
{
    struct sender *s = arg;

    assert_int_equal(
        vns_sys_sendto(ctx, s->sk, s->len, 0, &(struct vns_sockaddr_in){INET_ADDR_B, s->port}),
        (long)s->len);
    return ++s->sent == s->n ? VNS_STEP_DONE : VNS_STEP_AGAIN;
}

struct reader {
    struct vns_sock *sk;
    unsigned got, want, sleeps;
    uint64_t bytes;
};

static int read_step(struct vns_ctx *ctx, void *arg)
{
    struct reader *r = arg;
    struct vns_sockaddr_in from;
    long n = vns_sys_recvfrom(ctx, r->sk, 65536, 0, &from);

    if (n == -VNS_EAGAIN) {
        r->sleeps++;
        return VNS_STEP_SLEEP;
    }
    assert_true(n > 0);
    assert_int_equal(from.addr, INET_ADDR_A);
    r->bytes += (uint64_t)n;
    return ++r->got == r->want ? VNS_STEP_DONE : VNS_STEP_AGAIN;
}

/* Nobody reads: the queue fills to sk_rcvbuf, the rest are RcvbufErrors;
 * queued + dropped = sent, and reading later returns the queued ones,
 * each verified. */
static void test_udp_rcvbuf_full_drops(void **state)
{
    struct inet_pair p;
    struct sender s = {.n = 400, .len = 1000, .port = 5001};
    struct vns_ctx *ctx;
    struct vns_sock *rx;
    struct vns_sock_stats st;
    const struct vns_inet_stats *bs;
    unsigned got = 0;

    (void)state;
    inet_pair_init(&p, 11, NULL, NULL);
    rx = inet_udp_bound(&p.b, 5001);
    assert_int_equal(vns_socket_create(p.a.inet, VNS_SOCK_DGRAM, 0, &s.sk), 0);
    ctx = vns_test_ctx(p.sim, VNS_CTX_USER, "tx", p.a.cpus[0], send_step, &s);
    vns_ctx_start(ctx, 0);
    vns_sim_run(p.sim, VNS_MSEC(50));
    assert_int_equal(s.sent, 400);
    bs = vns_inet_stats(p.b.inet);
    vns_sock_get_stats(rx, &st);
    assert_true(bs->udp_rcvbuf_errors > 0);
    assert_int_equal(st.drops, bs->udp_rcvbuf_errors);
    assert_int_equal(vns_kernel_drops(p.b.k, VNS_SKB_DROP_REASON_SOCKET_RCVBUFF),
                     bs->udp_rcvbuf_errors);
    assert_true(st.rmem_alloc <= st.rcvbuf + 4096);
    while (vns_sys_recvfrom(NULL, rx, 2000, VNS_MSG_DONTWAIT, NULL) == 1000)
        got++;
    assert_int_equal(got + bs->udp_rcvbuf_errors, 400);
    assert_int_equal(bs->udp_in_datagrams, got);
    assert_int_equal(bs->payload_bytes_verified, (uint64_t)got * 1000);
    assert_int_equal(bs->payload_mismatches, 0);
    vns_sock_get_stats(rx, &st);
    assert_int_equal(st.rmem_alloc, 0);
    vns_sys_close(NULL, rx);
    vns_sys_close(NULL, s.sk);
    vns_ctx_destroy(ctx);
    inet_pair_fini(&p);
}

/* A blocking reader sleeps when the queue is empty and is woken by each
 * arrival; a slow sender (one datagram per ms) means one sleep per
 * datagram. */
static int slow_send_step(struct vns_ctx *ctx, void *arg)
{
    struct sender *s = arg;

    if (vns_ctx_now(ctx) < (vns_time_t)s->sent * VNS_MSEC(1)) {
        vns_charge_ns(ctx, VNS_USEC(50)); /* busy: think time */
        return VNS_STEP_AGAIN;
    }
    return send_step(ctx, arg);
}

static void test_udp_blocking_reader(void **state)
{
    struct inet_pair p;
    struct sender s = {.n = 20, .len = 512, .port = 6000};
    struct reader r = {.want = 20};
    struct vns_ctx *tx, *rxc;

    (void)state;
    inet_pair_init(&p, 12, NULL, NULL);
    r.sk = inet_udp_bound(&p.b, 6000);
    assert_int_equal(vns_socket_create(p.a.inet, VNS_SOCK_DGRAM, 0, &s.sk), 0);
    tx = vns_test_ctx(p.sim, VNS_CTX_USER, "tx", p.a.cpus[0], slow_send_step, &s);
    rxc = vns_test_ctx(p.sim, VNS_CTX_USER, "rx", p.b.cpus[0], read_step, &r);
    vns_ctx_start(tx, 0);
    vns_ctx_start(rxc, 0);
    vns_sim_run(p.sim, VNS_MSEC(100));
    assert_int_equal(r.got, 20);
    assert_int_equal(r.bytes, 20 * 512);
    assert_int_equal(r.sleeps, 20);
    assert_int_equal(vns_inet_stats(p.b.inet)->payload_mismatches, 0);
    vns_sys_close(NULL, r.sk);
    vns_sys_close(NULL, s.sk);
    vns_ctx_destroy(tx);
    vns_ctx_destroy(rxc);
    inet_pair_fini(&p);
}

struct csum_check {
    unsigned udp_frames, bad;
};

/* Every frame on the wire: its IPv4 and UDP checksums verify. */
static void check_frame(void *arg, const struct vns_skb *skb, int dir)
{
    struct csum_check *c = arg;
    uint8_t proto;
    unsigned l4len;

    (void)dir;
    if (!inet_frame_checksums_ok(skb, &proto, &l4len))
        c->bad++;
    if (proto == VNS_IPPROTO_UDP)
        c->udp_frames++;
}

/* No offloads: checksums are computed in software on transmit
 * (validate_xmit_skb -> skb_checksum_help) and verified on receive, with
 * synthetic and with materialized payload. */
static void check_software_checksums(bool materialize)
{
    struct inet_pair p;
    struct csum_check cc = {0};
    struct inet_link_config lc = {
        .no_features = true, .on_frame = check_frame, .on_frame_arg = &cc};
    struct vns_inet_config icfg = {.materialize_payload = materialize};
    struct sender s = {.n = 30, .len = 1200, .port = 7000};
    struct vns_ctx *ctx;
    struct vns_sock *rx;
    unsigned got = 0;

    inet_pair_init(&p, 13, &lc, &icfg);
    rx = inet_udp_bound(&p.b, 7000);
    assert_int_equal(vns_socket_create(p.a.inet, VNS_SOCK_DGRAM, 0, &s.sk), 0);
    ctx = vns_test_ctx(p.sim, VNS_CTX_USER, "tx", p.a.cpus[0], send_step, &s);
    vns_ctx_start(ctx, 0);
    vns_sim_run(p.sim, VNS_MSEC(20));
    assert_int_equal(cc.udp_frames, 30);
    assert_int_equal(cc.bad, 0);
    while (vns_sys_recvfrom(NULL, rx, 2000, VNS_MSG_DONTWAIT, NULL) == 1200)
        got++;
    assert_int_equal(got, 30);
    assert_int_equal(vns_inet_stats(p.b.inet)->udp_in_csum_errors, 0);
    assert_int_equal(vns_inet_stats(p.b.inet)->payload_bytes_verified, 30 * 1200);
    vns_sys_close(NULL, rx);
    vns_sys_close(NULL, s.sk);
    vns_ctx_destroy(ctx);
    inet_pair_fini(&p);
}

static void test_udp_software_checksums(void **state)
{
    (void)state;
    check_software_checksums(false);
    check_software_checksums(true);
}

static struct vns_skb *udp_pkt(struct vns_kernel *k, uint16_t dport, unsigned plen, bool good_csum)
{
    struct vns_skb *skb = vns_alloc_skb(k, 64 + 28 + plen);
    uint8_t *iph, *uh;

    vns_skb_reserve(skb, 64);
    iph = vns_skb_put(skb, 28 + plen);
    memset(iph, 0x5a, 28 + plen);
    memset(iph, 0, 28);
    iph[0] = 0x45;
    vns_put_be16(iph + 2, (uint16_t)(28 + plen));
    iph[8] = 64;
    iph[9] = VNS_IPPROTO_UDP;
    vns_put_be32(iph + 12, INET_ADDR_A);
    vns_put_be32(iph + 16, INET_ADDR_B);
    vns_put_be16(iph + 10, vns_ip_fast_csum(iph, 5));
    uh = iph + 20;
    vns_put_be16(uh, 1234);
    vns_put_be16(uh + 2, dport);
    vns_put_be16(uh + 4, (uint16_t)(8 + plen));
    vns_put_be16(uh + 6,
                 vns_csum_fold(vns_csum_partial(
                     uh, 8 + plen,
                     vns_csum_tcpudp_nofold(iph + 12, iph + 16, 8 + plen, VNS_IPPROTO_UDP, 0))));
    if (!vns_get_be16(uh + 6))
        vns_put_be16(uh + 6, 0xffff);
    if (!good_csum)
        uh[8] ^= 1;
    skb->protocol = VNS_ETH_P_IP;
    return skb;
}

/* Bad checksum, short header, length beyond the packet: counted drops;
 * a closed port gets ICMP port unreachable; a good one is queued. */
static void test_udp_rcv_validation(void **state)
{
    struct inet_pair p;
    const struct vns_inet_stats *st;
    struct vns_sock *rx;
    struct vns_skb *skb;

    (void)state;
    inet_pair_init(&p, 14, NULL, NULL);
    st = vns_inet_stats(p.b.inet);
    rx = inet_udp_bound(&p.b, 9000);
    assert_int_equal(vns_ip_rcv(NULL, udp_pkt(p.b.k, 9000, 40, false), p.b.eth, p.b.inet),
                     VNS_NET_RX_DROP);
    assert_int_equal(st->udp_in_csum_errors, 1);
    assert_int_equal(vns_kernel_drops(p.b.k, VNS_SKB_DROP_REASON_UDP_CSUM), 1);
    skb = udp_pkt(p.b.k, 9000, 40, true);
    vns_put_be16(skb->data + 24, 200); /* UDP length beyond the datagram */
    vns_ip_rcv(NULL, skb, p.b.eth, p.b.inet);
    skb = udp_pkt(p.b.k, 9000, 0, true);
    vns_put_be16(skb->data + 2, 24); /* IP says only 4 bytes of UDP header */
    vns_put_be16(skb->data + 10, 0);
    vns_put_be16(skb->data + 10, vns_ip_fast_csum(skb->data, 5));
    vns_ip_rcv(NULL, skb, p.b.eth, p.b.inet);
    assert_int_equal(st->udp_in_errors, 3);
    vns_ip_rcv(NULL, udp_pkt(p.b.k, 9001, 40, true), p.b.eth, p.b.inet);
    assert_int_equal(st->udp_no_ports, 1);
    assert_int_equal(st->icmp_out_dest_unreachs, 1);
    assert_int_equal(vns_kernel_drops(p.b.k, VNS_SKB_DROP_REASON_NO_SOCKET), 1);
    assert_int_equal(vns_kernel_drops(p.b.k, VNS_SKB_DROP_REASON_PKT_TOO_SMALL), 2);
    assert_int_equal(vns_kernel_drops(p.b.k, VNS_SKB_DROP_REASON_NOT_SPECIFIED), 0);
    vns_ip_rcv(NULL, udp_pkt(p.b.k, 9000, 40, true), p.b.eth, p.b.inet);
    assert_int_equal(vns_sys_recvfrom(NULL, rx, 100, VNS_MSG_DONTWAIT, NULL), 40);
    assert_int_equal(vns_sys_recvfrom(NULL, rx, 100, VNS_MSG_DONTWAIT, NULL), -VNS_EAGAIN);
    vns_sim_run(p.sim, VNS_MSEC(5));
    assert_int_equal(vns_inet_stats(p.a.inet)->icmp_in_msgs, 1);
    vns_sys_close(NULL, rx);
    inet_pair_fini(&p);
}

/* Datagrams that would need fragmenting are refused with EMSGSIZE. */
static int big_send(struct vns_ctx *ctx, void *arg)
{
    struct vns_sock *sk = arg;
    struct vns_sockaddr_in to = {INET_ADDR_B, 9};

    assert_int_equal(vns_sys_sendto(ctx, sk, 1473, 0, &to), -VNS_EMSGSIZE);
    assert_int_equal(vns_sys_sendto(ctx, sk, 70000, 0, &to), -VNS_EMSGSIZE);
    assert_int_equal(vns_sys_sendto(ctx, sk, 1472, 0, &to), 1472);
    assert_int_equal(vns_sys_sendto(ctx, sk, 10, 0, NULL), -VNS_SOCK_ENOTCONN);
    return VNS_STEP_DONE;
}

static void test_udp_too_big(void **state)
{
    struct inet_pair p;
    struct vns_sock *sk;
    struct vns_ctx *ctx;

    (void)state;
    inet_pair_init(&p, 15, NULL, NULL);
    assert_int_equal(vns_socket_create(p.a.inet, VNS_SOCK_DGRAM, 0, &sk), 0);
    ctx = vns_test_ctx(p.sim, VNS_CTX_USER, "tx", p.a.cpus[0], big_send, sk);
    vns_ctx_start(ctx, 0);
    vns_sim_run(p.sim, VNS_MSEC(5));
    assert_int_equal(vns_inet_stats(p.a.inet)->ip_frag_fails, 1);
    assert_int_equal(vns_inet_stats(p.a.inet)->udp_out_datagrams, 1);
    vns_sys_close(NULL, sk);
    vns_ctx_destroy(ctx);
    inet_pair_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_udp_rcvbuf_full_drops, teardown),
        cmocka_unit_test_teardown(test_udp_blocking_reader, teardown),
        cmocka_unit_test_teardown(test_udp_software_checksums, teardown),
        cmocka_unit_test_teardown(test_udp_rcv_validation, teardown),
        cmocka_unit_test_teardown(test_udp_too_big, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
