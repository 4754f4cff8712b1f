/* tests/net/test_ip.c -- IPv4 output and input: the header (version, ihl,
 * TTL 64, DF, tot_len, checksum), the output call chain up to
 * dev_queue_xmit as the kernel's stack shows it, DF packets larger than
 * the MTU refused and counted, and receive validation: every malformed
 * header is a counted drop (bad version/ihl, checksum, truncation), frames
 * for other hosts are dropped with forwarding off, unknown protocols get
 * ICMP protocol unreachable. */
#include <string.h>

#include "support/inet_link.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"
#include "vnetsim/cpu.h"
#include "vnetsim/trace.h"
#include "vnetsim/proto/ip.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

struct capture {
    uint8_t frame[64];
    unsigned n;
};

static void on_frame(void *arg, const struct vns_skb *skb, int dir)
{
    struct capture *c = arg;

    if (dir == 0 && c->n++ == 0)
        vns_skb_copy_bits(skb, 0, c->frame, VNS_MIN(skb->len, (uint32_t)sizeof(c->frame)));
}

struct udp_app {
    struct vns_sock *sk;
    long rc;
    size_t len;
};

static int udp_send_once(struct vns_ctx *ctx, void *arg)
{
    struct udp_app *a = arg;

    a->rc = vns_sys_sendto(ctx, a->sk, a->len, 0,
                           &(struct vns_sockaddr_in){.addr = INET_ADDR_B, .port = 7});
    return VNS_STEP_DONE;
}

/* A datagram leaves with a valid IPv4 header (TTL 64, DF, protocol UDP)
 * through ip_send_skb -> ip_local_out -> ip_output -> ip_finish_output ->
 * __ip_finish_output -> ip_finish_output2 -> dev_queue_xmit. */
static void test_ip_output_header_and_stack(void **state)
{
    struct inet_pair p;
    struct capture cap = {0};
    struct inet_link_config lc = {.on_frame = on_frame, .on_frame_arg = &cap};
    struct udp_app app = {.len = 200};
    struct vns_ctx *ctx;
    struct vns_sock *sink;
    const uint8_t *iph;
    char *stacks;
    static const char expect[] =
        "[0] dev_queue_xmit\n[0] ip_finish_output2\n[0] __ip_finish_output\n"
        "[0] ip_finish_output\n[0] ip_output\n[0] ip_local_out\n[0] ip_send_skb\n"
        "[0] udp_send_skb\n[0] udp_sendmsg\n[0] inet_sendmsg\n[0] sock_sendmsg\n"
        "[0] __sys_sendto\n[0] __x64_sys_sendto\n[0] do_syscall_64\n"
        "[0] entry_SYSCALL_64_after_hwframe\n\n";

    (void)state;
    inet_pair_init(&p, 3, &lc, NULL);
    assert_int_equal(vns_neigh_add_permanent(p.a.inet, p.a.eth, INET_ADDR_B, p.b.eth->dev_addr), 0);
    assert_int_equal(vns_probe_add(p.sim, "dev_queue_xmit"), 0);
    assert_int_equal(vns_socket_create(p.a.inet, VNS_SOCK_DGRAM, 0, &app.sk), 0);
    assert_int_equal(vns_socket_create(p.b.inet, VNS_SOCK_DGRAM, 0, &sink), 0);
    assert_int_equal(vns_sys_bind(sink, &(struct vns_sockaddr_in){.port = 7}), 0);
    ctx = vns_test_ctx(p.sim, VNS_CTX_USER, "app", p.a.cpus[0], udp_send_once, &app);
    vns_ctx_start(ctx, 0);
    vns_sim_run(p.sim, VNS_MSEC(1));
    assert_int_equal(app.rc, 200);
    assert_int_equal(cap.n, 1);
    iph = cap.frame + 14;
    assert_int_equal(iph[0], 0x45);
    assert_int_equal(vns_get_be16(iph + 2), 20 + 8 + 200);
    assert_int_equal(vns_get_be16(iph + 6), VNS_IP_DF);
    assert_int_equal(vns_get_be16(iph + 4), 0); /* DF and no connected socket: id 0 */
    assert_int_equal(iph[8], 64);
    assert_int_equal(iph[9], VNS_IPPROTO_UDP);
    assert_int_equal(vns_get_be32(iph + 12), INET_ADDR_A);
    assert_int_equal(vns_get_be32(iph + 16), INET_ADDR_B);
    assert_int_equal(vns_ip_fast_csum(iph, 5), 0);
    assert_memory_equal(cap.frame, p.b.eth->dev_addr, 6);
    stacks = vns_test_stacks_string(p.sim, false);
    assert_string_equal(stacks, expect);
    vns_free(stacks);
    assert_int_equal(vns_sys_recvfrom(NULL, sink, 1000, VNS_MSG_DONTWAIT, NULL), 200);
    assert_int_equal(vns_inet_stats(p.b.inet)->payload_bytes_verified, 200);
    vns_sys_close(NULL, sink);
    vns_sys_close(NULL, app.sk);
    vns_ctx_destroy(ctx);
    inet_pair_fini(&p);
}

/* Larger than the MTU with DF: refused with EMSGSIZE, counted (no
 * fragmentation in the model; Linux refuses DF packets the same way). */
static void test_ip_df_too_big_refused(void **state)
{
    struct inet_pair p;
    struct vns_skb *skb;

    (void)state;
    inet_pair_init(&p, 3, NULL, NULL);
    assert_int_equal(vns_neigh_add_permanent(p.a.inet, p.a.eth, INET_ADDR_B, p.b.eth->dev_addr), 0);
    skb = vns_alloc_skb(p.a.k, VNS_MAX_TCP_HEADER + 8);
    vns_skb_reserve(skb, VNS_MAX_TCP_HEADER);
    memset(vns_skb_put(skb, 8), 0, 8);
    vns_skb_add_synthetic(skb, 1, 0, 1600);
    vns_skb_reset_transport_header(skb);
    assert_int_equal(vns_ip_send_raw(NULL, p.a.inet, skb, 0, INET_ADDR_B, 253, true),
                     -VNS_EMSGSIZE);
    assert_int_equal(vns_inet_stats(p.a.inet)->ip_frag_fails, 1);
    assert_int_equal(vns_inet_stats(p.a.inet)->ip_frag_needed, 1);
    assert_int_equal(vns_kernel_drops(p.a.k, VNS_SKB_DROP_REASON_PKT_TOO_BIG), 1);
    /* no route */
    skb = vns_alloc_skb(p.a.k, VNS_MAX_TCP_HEADER + 8);
    vns_skb_reserve(skb, VNS_MAX_TCP_HEADER);
    memset(vns_skb_put(skb, 8), 0, 8);
    assert_int_equal(vns_ip_send_raw(NULL, p.a.inet, skb, 0, VNS_IPV4(9, 9, 9, 9), 253, true),
                     -VNS_EHOSTUNREACH);
    assert_int_equal(vns_inet_stats(p.a.inet)->ip_out_no_routes, 1);
    assert_int_equal(vns_kernel_drops(p.a.k, VNS_SKB_DROP_REASON_IP_OUTNOROUTES), 1);
    inet_pair_fini(&p);
}

/* An IPv4 packet of @len bytes (header + zero payload) to @daddr. */
static struct vns_skb *ip_pkt(struct vns_kernel *k, uint32_t daddr, uint8_t proto, unsigned len)
{
    struct vns_skb *skb = vns_alloc_skb(k, 64 + len);
    uint8_t *iph;

    vns_skb_reserve(skb, 64);
    iph = vns_skb_put(skb, len);
    memset(iph, 0, len);
    iph[0] = 0x45;
    vns_put_be16(iph + 2, (uint16_t)len);
    iph[8] = 64;
    iph[9] = proto;
    vns_put_be32(iph + 12, INET_ADDR_A);
    vns_put_be32(iph + 16, daddr);
    vns_put_be16(iph + 10, vns_ip_fast_csum(iph, 5));
    skb->protocol = VNS_ETH_P_IP;
    skb->pkt_type = VNS_PACKET_HOST;
    return skb;
}

static void fix_csum(struct vns_skb *skb)
{
    vns_put_be16(skb->data + 10, 0);
    vns_put_be16(skb->data + 10, vns_ip_fast_csum(skb->data, skb->data[0] & 0xf));
}

/* ip_rcv_core: each malformed header is dropped and counted. */
static void test_ip_rcv_validation(void **state)
{
    struct inet_pair p;
    struct vns_inet *in;
    const struct vns_inet_stats *st;
    struct vns_skb *skb;

    (void)state;
    inet_pair_init(&p, 3, NULL, NULL);
    in = p.b.inet;
    st = vns_inet_stats(in);
    /* shorter than a header */
    skb = ip_pkt(p.b.k, INET_ADDR_B, 253, 40);
    vns_skb_trim(skb, 12);
    assert_int_equal(vns_ip_rcv(NULL, skb, p.b.eth, in), VNS_NET_RX_DROP);
    /* version 6 */
    skb = ip_pkt(p.b.k, INET_ADDR_B, 253, 40);
    skb->data[0] = 0x65;
    fix_csum(skb);
    assert_int_equal(vns_ip_rcv(NULL, skb, p.b.eth, in), VNS_NET_RX_DROP);
    /* ihl 4 */
    skb = ip_pkt(p.b.k, INET_ADDR_B, 253, 40);
    skb->data[0] = 0x44;
    assert_int_equal(vns_ip_rcv(NULL, skb, p.b.eth, in), VNS_NET_RX_DROP);
    /* ihl 15 beyond the data */
    skb = ip_pkt(p.b.k, INET_ADDR_B, 253, 40);
    skb->data[0] = 0x4f;
    assert_int_equal(vns_ip_rcv(NULL, skb, p.b.eth, in), VNS_NET_RX_DROP);
    assert_int_equal(st->ip_in_hdr_errors, 4);
    /* bad checksum */
    skb = ip_pkt(p.b.k, INET_ADDR_B, 253, 40);
    skb->data[8] = 63;
    assert_int_equal(vns_ip_rcv(NULL, skb, p.b.eth, in), VNS_NET_RX_DROP);
    assert_int_equal(st->ip_in_csum_errors, 1);
    assert_int_equal(vns_kernel_drops(p.b.k, VNS_SKB_DROP_REASON_IP_CSUM), 1);
    /* tot_len beyond the frame */
    skb = ip_pkt(p.b.k, INET_ADDR_B, 253, 40);
    vns_put_be16(skb->data + 2, 400);
    fix_csum(skb);
    assert_int_equal(vns_ip_rcv(NULL, skb, p.b.eth, in), VNS_NET_RX_DROP);
    assert_int_equal(st->ip_in_truncated, 1);
    /* tot_len below the header */
    skb = ip_pkt(p.b.k, INET_ADDR_B, 253, 40);
    vns_put_be16(skb->data + 2, 10);
    fix_csum(skb);
    assert_int_equal(vns_ip_rcv(NULL, skb, p.b.eth, in), VNS_NET_RX_DROP);
    assert_int_equal(st->ip_in_hdr_errors, 6);
    /* not for us, forwarding off */
    skb = ip_pkt(p.b.k, VNS_IPV4(10, 0, 0, 77), 253, 40);
    assert_int_equal(vns_ip_rcv(NULL, skb, p.b.eth, in), VNS_NET_RX_DROP);
    assert_int_equal(st->ip_in_addr_errors, 1);
    assert_int_equal(vns_kernel_drops(p.b.k, VNS_SKB_DROP_REASON_IP_INADDRERRORS), 1);
    /* a fragment: no reassembly */
    skb = ip_pkt(p.b.k, INET_ADDR_B, 253, 40);
    vns_put_be16(skb->data + 6, VNS_IP_MF);
    fix_csum(skb);
    assert_int_equal(vns_ip_rcv(NULL, skb, p.b.eth, in), VNS_NET_RX_DROP);
    assert_int_equal(st->ip_in_discards, 1);
    assert_int_equal(vns_kernel_drops(p.b.k, VNS_SKB_DROP_REASON_IP_FRAG_UNMODELLED), 1);
    /* unknown protocol: ICMP protocol unreachable back to a */
    skb = ip_pkt(p.b.k, INET_ADDR_B, 253, 40);
    assert_int_equal(vns_ip_rcv(NULL, skb, p.b.eth, in), VNS_NET_RX_DROP);
    assert_int_equal(st->ip_in_unknown_protos, 1);
    assert_int_equal(st->icmp_out_dest_unreachs, 1);
    vns_sim_run(p.sim, VNS_MSEC(5));
    assert_int_equal(vns_inet_stats(p.a.inet)->icmp_in_msgs, 1);
    /* a padded frame is trimmed to tot_len and delivered */
    skb = ip_pkt(p.b.k, INET_ADDR_B, VNS_IPPROTO_ICMP, 28);
    memset(vns_skb_put(skb, 18), 0xee, 18);
    skb->data[20] = 8; /* echo request, checksum below */
    vns_put_be16(skb->data + 22, vns_csum_fold(vns_csum_partial(skb->data + 20, 8, 0)));
    assert_int_equal(vns_ip_rcv(NULL, skb, p.b.eth, in), VNS_NET_RX_SUCCESS);
    assert_int_equal(st->icmp_in_msgs, 1);
    assert_int_equal(st->ip_in_receives, 11);
    vns_sim_run(p.sim, VNS_MSEC(10));
    assert_int_equal(vns_inet_stats(p.a.inet)->icmp_in_msgs, 2); /* the echo reply */
    inet_pair_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ip_output_header_and_stack, teardown),
        cmocka_unit_test_teardown(test_ip_df_too_big_refused, teardown),
        cmocka_unit_test_teardown(test_ip_rcv_validation, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
