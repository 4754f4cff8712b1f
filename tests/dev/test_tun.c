/* tests/dev/test_tun.c -- tun/tap as vhost-net's backend, driven directly:
 * ptr_ring semantics, tun_net_xmit's ring and drops, tun_sendmsg's checks
 * in 5.4's order (the guest's bytes are hostile), tun_recvmsg's header and
 * truncation, the XDP batch. */
#include <limits.h>
#include <string.h>

#include "net/net_fixture.h"
#include "vnetsim/backend_sock.h"
#include "vnetsim/gmem.h"
#include "vnetsim/tun.h"
#include "vnetsim/virtio_net.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* The consumer frees slots a batch at a time: a full ring shows room only
 * after `batch` consumes; entries come out in order; unconsume puts back. */
static void test_tun_ptr_ring_batched_release(void **state)
{
    struct vns_ptr_ring r;
    int vals[64];
    void *batch[4];

    (void)state;
    assert_int_equal(vns_ptr_ring_init(&r, 40), 0);
    assert_int_equal(r.batch, 16);
    for (int i = 0; i < 40; i++)
        assert_int_equal(vns_ptr_ring_produce(&r, &vals[i]), 0);
    assert_int_equal(vns_ptr_ring_produce(&r, &vals[40]), -VNS_ENOSPC);
    for (int i = 0; i < 15; i++)
        assert_ptr_equal(vns_ptr_ring_consume(&r), &vals[i]);
    assert_int_equal(vns_ptr_ring_produce(&r, &vals[40]), -VNS_ENOSPC);  /* not a batch yet */
    assert_ptr_equal(vns_ptr_ring_consume(&r), &vals[15]);
    assert_int_equal(vns_ptr_ring_produce(&r, &vals[40]), 0);
    assert_int_equal(vns_ptr_ring_count(&r), 25);
    assert_int_equal(vns_ptr_ring_consume_batched(&r, batch, 4), 4);
    assert_ptr_equal(batch[0], &vals[16]);
    vns_ptr_ring_unconsume(&r, batch, 4, NULL);
    assert_ptr_equal(vns_ptr_ring_peek(&r), &vals[16]);
    assert_int_equal(vns_ptr_ring_count(&r), 25);
    vns_ptr_ring_cleanup(&r, NULL);
    /* a tiny ring releases one slot at a time */
    assert_int_equal(vns_ptr_ring_init(&r, 2), 0);
    assert_int_equal(r.batch, 1);
    vns_ptr_ring_cleanup(&r, NULL);
}

/* Synthetic-payload records: set, replace, clear with backward shift under
 * collisions; readers generate the bytes or keep them synthetic; a record
 * that does not fit its segment (hostile) is ignored. */
static void test_tun_synmap_records(void **state)
{
    struct vns_synmap *m = NULL;
    struct vns_gmem *mem = NULL;
    struct vns_iov iov[2] = {{0x1000, 100}, {0x3000, 5000}};
    struct vns_iov_iter it;
    uint8_t buf[200];
    struct netfix f;
    struct vns_skb *skb;

    (void)state;
    assert_int_equal(vns_synmap_create(64, &m), 0);
    for (uint64_t i = 0; i < 60; i++)
        assert_int_equal(vns_synmap_set(m, 0x100000 + i * 4096, 0, 10, 1, i), 0);
    assert_int_equal(vns_synmap_count(m), 60);
    for (uint64_t i = 0; i < 60; i += 2)
        vns_synmap_clear(m, 0x100000 + i * 4096);
    for (uint64_t i = 0; i < 60; i++) {
        const struct vns_synrec *r = vns_synmap_get(m, 0x100000 + i * 4096);

        if (i % 2)
            assert_true(r && r->off == i);
        else
            assert_null(r);
    }
    for (uint64_t i = 1; i < 60; i += 2)
        vns_synmap_clear(m, 0x100000 + i * 4096);
    assert_int_equal(vns_synmap_count(m), 0);

    assert_int_equal(vns_gmem_create(&mem), 0);
    assert_int_equal(vns_gmem_add_region(mem, 0, 1u << 20), 0);
    memset(buf, 0xab, sizeof(buf));
    assert_int_equal(vns_gmem_copy_in(mem, 0x3000, buf, 30), 0);
    /* segment 2: 30 real bytes, then 4000 synthetic of flow 9 at 777 */
    assert_int_equal(vns_synmap_set(m, 0x3000, 30, 4000, 9, 777), 0);
    vns_iov_iter_init(&it, mem, iov, 2, 5100);
    it.syn = m;
    assert_int_equal(vns_iov_iter_real_len(&it, 5100), 130);
    vns_iov_iter_advance(&it, 120);
    assert_int_equal(vns_copy_from_iter(NULL, &it, buf, 40), 40);
    assert_int_equal(buf[9], 0xab);                             /* real */
    assert_int_equal(buf[10], vns_payload_byte(9, 777));        /* generated */
    assert_int_equal(buf[39], vns_payload_byte(9, 777 + 29));
    /* to an skb: the real bytes linear, the synthetic ones kept */
    netfix_init(&f, 1, NULL);
    skb = vns_alloc_skb(f.k, 256);
    vns_iov_iter_init(&it, mem, iov, 2, 5100);
    it.syn = m;
    assert_int_equal(vns_iov_iter_to_skb(NULL, &it, skb, 130 + 4000), 0);
    assert_int_equal(vns_skb_headlen(skb), 130);
    assert_int_equal(skb->syn_len, 4000);
    assert_int_equal(skb->pay_off, 777);
    vns_kfree_skb(skb);
    /* real bytes after synthetic ones cannot be held */
    skb = vns_alloc_skb(f.k, 256);
    vns_iov_iter_init(&it, mem, iov, 2, 5100);
    it.syn = m;
    assert_int_equal(vns_iov_iter_to_skb(NULL, &it, skb, 5100), -VNS_EINVAL);
    vns_kfree_skb(skb);
    /* a record longer than its segment is ignored */
    assert_int_equal(vns_synmap_set(m, 0x1000, 0, 5000, 9, 0), 0);
    vns_iov_iter_init(&it, mem, iov, 2, 100);
    it.syn = m;
    assert_int_equal(vns_iov_iter_real_len(&it, 100), 100);
    /* a plain write at a segment's start drops its record */
    vns_iov_iter_init(&it, mem, iov + 1, 1, 10);
    it.syn = m;
    assert_int_equal(vns_copy_to_iter(NULL, &it, buf, 10), 10);
    assert_null(vns_synmap_get(m, 0x3000));
    netfix_fini(&f);
    vns_gmem_destroy(mem);
    vns_synmap_destroy(m);
}

struct waiter {
    struct vns_sock_wait w;
    int woken;
};

static void waiter_fn(struct vns_sock_wait *w, unsigned events, struct vns_ctx *waker)
{
    (void)events;
    (void)waker;
    ((struct waiter *)w->arg)->woken++;
}

/* tun_net_xmit queues to the reader's ring and wakes it; a full ring
 * drops (FULL_RING, tx_dropped), never stops the queue. */
static void test_tun_net_xmit_ring_full_drops(void **state)
{
    struct netfix f;
    struct vns_tun *tun = NULL;
    struct vns_net_device *dev;
    struct waiter wt = {0};
    struct frame_spec fs = frame_default(mac_a, mac_b, 100);

    (void)state;
    netfix_init(&f, 1, NULL);
    assert_int_equal(vns_tun_create(f.k, &(struct vns_tun_config){.tx_queue_len = 20}, &tun), 0);
    dev = vns_tun_dev(tun);
    assert_string_equal(dev->name, "tap0");
    assert_int_equal(dev->tx_queue_len, 20);
    assert_int_equal(vns_dev_open(dev), 0);
    wt.w = (struct vns_sock_wait){.fn = waiter_fn, .arg = &wt, .mask = VNS_EPOLLIN};
    vns_sock_wait_add(vns_tun_socket(tun, 0), &wt.w);
    for (int i = 0; i < 30; i++) {
        struct vns_skb *skb = frame_build(f.k, &fs);

        skb->dev = dev;
        vns_dev_queue_xmit(NULL, skb);
    }
    assert_int_equal(vns_tun_queued(tun, 0), 20);
    assert_int_equal(vns_tun_stats(tun)->ring_full, 10);
    assert_int_equal(dev->stats.tx_dropped, 10);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_FULL_RING), 10);
    assert_int_equal(wt.woken, 20);
    assert_false(vns_netif_queue_stopped(dev));
    assert_int_equal(vns_tun_socket(tun, 0)->ops->peek_len(vns_tun_socket(tun, 0)), 14 + 40 + 100);
    assert_int_equal(vns_tun_socket(tun, 0)->sk_sndbuf, INT_MAX);
    vns_sock_wait_del(vns_tun_socket(tun, 0), &wt.w);
    vns_tun_destroy(tun);
    netfix_fini(&f);
}

/* --- tun_sendmsg with guest bytes ----------------------------------------- */

struct gbuf {
    struct vns_gmem *mem;
    struct vns_iov iov[2];
};

static void gbuf_init(struct gbuf *g)
{
    assert_int_equal(vns_gmem_create(&g->mem), 0);
    assert_int_equal(vns_gmem_add_region(g->mem, 0, 1u << 20), 0);
}

/* Write a 12-byte header @h and the frame of @skb (borrowed) at 0x1000,
 * split in two segments; return the total length. */
static size_t gbuf_put(struct gbuf *g, const struct vns_virtio_net_hdr *h, const struct vns_skb *skb,
                       size_t cut)
{
    uint8_t hb[12];
    uint8_t fr[4096];
    size_t n = skb ? skb->len : 0;

    vns_virtio_net_hdr_encode(h, hb, 12);
    if (skb)
        assert_int_equal(vns_skb_copy_bits(skb, 0, fr, (uint32_t)n), 0);
    assert_int_equal(vns_gmem_copy_in(g->mem, 0x1000, hb, 12), 0);
    assert_int_equal(vns_gmem_copy_in(g->mem, 0x1000 + 12, fr, n), 0);
    if (cut > 12 + n)
        cut = 12 + n;
    g->iov[0] = (struct vns_iov){0x1000, cut};
    g->iov[1] = (struct vns_iov){0x1000 + cut, 12 + n - cut};
    return 12 + n;
}

static int send_frame(struct vns_tun *tun, struct gbuf *g, size_t total)
{
    struct vns_msghdr m = {.flags = VNS_MSG_DONTWAIT};
    struct vns_socket *sock = vns_tun_socket(tun, 0);

    vns_iov_iter_init(&m.iter, g->mem, g->iov, 2, total);
    return sock->ops->sendmsg(NULL, sock, &m, total);
}

/* tun_get_user's checks in order; good frames reach the host stack with
 * their offload metadata (NEEDS_CSUM hdr_len fix-up included). */
static void test_tun_sendmsg_validates_guest_header(void **state)
{
    struct netfix f;
    struct vns_tun *tun = NULL;
    struct ipsink sink;
    struct gbuf g;
    struct frame_spec fs = frame_default(mac_a, mac_b, 200);
    struct vns_skb *frame;
    struct vns_virtio_net_hdr h = {0};
    size_t total;

    (void)state;
    netfix_init(&f, 1, NULL);
    ipsink_init(&sink, f.k, true);
    gbuf_init(&g);
    assert_int_equal(vns_tun_create(f.k, &(struct vns_tun_config){.vnet_hdr_sz = 12}, &tun), 0);
    assert_int_equal(vns_dev_open(vns_tun_dev(tun)), 0);
    frame = frame_build(f.k, &fs);

    /* a good frame with NEEDS_CSUM: delivered, CHECKSUM_PARTIAL set */
    h.flags = VNS_VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.csum_start = 34;
    h.csum_offset = 16;
    total = gbuf_put(&g, &h, frame, 7);
    assert_int_equal(send_frame(tun, &g, total), (int)total);
    assert_int_equal(sink.count, 1);
    {
        struct vns_skb *skb = vns_skb_dequeue(&sink.q);

        assert_int_equal(skb->ip_summed, VNS_CHECKSUM_PARTIAL);
        assert_int_equal(skb->csum_offset, 16);
        assert_int_equal(skb->len, 40 + 200);
        vns_consume_skb(skb);
    }
    /* shorter than the vnet header */
    g.iov[0].len = 8;
    g.iov[1].len = 0;
    assert_int_equal(send_frame(tun, &g, 8), -VNS_EINVAL);
    /* hdr_len beyond the frame (after the NEEDS_CSUM fix-up) */
    h.csum_start = 60000;
    total = gbuf_put(&g, &h, frame, 30);
    assert_int_equal(send_frame(tun, &g, total), -VNS_EINVAL);
    /* a frame shorter than an Ethernet header */
    memset(&h, 0, sizeof(h));
    gbuf_put(&g, &h, frame, 12);
    g.iov[1].len = 10;
    assert_int_equal(send_frame(tun, &g, 22), -VNS_EINVAL);
    assert_int_equal(vns_tun_stats(tun)->rx_invalid, 3);
    /* an unknown GSO type: virtio_net_hdr_to_skb refuses, frame error */
    h.gso_type = 9;
    h.gso_size = 1000;
    total = gbuf_put(&g, &h, frame, 100);
    assert_int_equal(send_frame(tun, &g, total), -VNS_EINVAL);
    /* GSO without a size */
    h.gso_type = VNS_VIRTIO_NET_HDR_GSO_TCPV4;
    h.gso_size = 0;
    total = gbuf_put(&g, &h, frame, 100);
    assert_int_equal(send_frame(tun, &g, total), -VNS_EINVAL);
    assert_int_equal(vns_tun_stats(tun)->rx_frame_errors, 2);
    assert_int_equal(vns_kernel_drops(f.k, VNS_SKB_DROP_REASON_DEV_HDR), 2);
    /* a checksum field past the frame's end (caught by the hdr_len
     * fix-up before skb_partial_csum_set would) */
    h.gso_type = 0;
    h.flags = VNS_VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.csum_start = 253;
    h.csum_offset = 0;
    h.hdr_len = 0;
    total = gbuf_put(&g, &h, frame, 100);
    assert_int_equal(send_frame(tun, &g, total), -VNS_EINVAL);
    assert_int_equal(sink.count, 1);
    assert_int_equal(vns_gmem_stats(g.mem)->faults, 0);
    vns_consume_skb(frame);
    vns_tun_destroy(tun);
    vns_gmem_destroy(g.mem);
    netfix_fini(&f);
}

/* tun_recvmsg writes the virtio header (GSO and checksum state of the skb,
 * DATA_VALID for a checked one) and the frame; a short buffer truncates
 * and MSG_TRUNC reports the real length. */
static void test_tun_recvmsg_header_and_trunc(void **state)
{
    struct netfix f;
    struct vns_tun *tun = NULL;
    struct gbuf g;
    struct frame_spec fs = frame_default(mac_a, mac_b, 3000);
    struct vns_socket *sock;
    struct vns_msghdr m = {.flags = 0};
    struct vns_skb *skb;
    struct vns_virtio_net_hdr h;
    uint8_t hb[12], b;

    (void)state;
    netfix_init(&f, 1, NULL);
    gbuf_init(&g);
    assert_int_equal(vns_tun_create(f.k, &(struct vns_tun_config){.vnet_hdr_sz = 12}, &tun), 0);
    assert_int_equal(vns_dev_open(vns_tun_dev(tun)), 0);
    sock = vns_tun_socket(tun, 0);
    fs.synthetic = true;
    for (int i = 0; i < 2; i++) {
        skb = frame_build(f.k, &fs);
        skb->gso_size = 1448;
        skb->gso_type = VNS_SKB_GSO_TCPV4;
        skb->ip_summed = VNS_CHECKSUM_PARTIAL;
        skb->csum_start = skb->transport_header;
        skb->csum_offset = 16;
        skb->dev = vns_tun_dev(tun);
        vns_dev_queue_xmit(NULL, skb);
    }
    assert_int_equal(vns_tun_queued(tun, 0), 2);
    g.iov[0] = (struct vns_iov){0x2000, 8000};
    vns_iov_iter_init(&m.iter, g.mem, g.iov, 1, 8000);
    assert_int_equal(sock->ops->recvmsg(NULL, sock, &m, 8000, VNS_MSG_DONTWAIT), 12 + 14 + 40 + 3000);
    assert_int_equal(vns_gmem_copy_out(g.mem, 0x2000, hb, 12), 0);
    vns_virtio_net_hdr_decode(hb, 12, &h);
    assert_int_equal(h.gso_type, VNS_VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(h.gso_size, 1448);
    assert_int_equal(h.flags, VNS_VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(h.csum_start, 34);
    assert_int_equal(h.csum_offset, 16);
    assert_int_equal(vns_gmem_copy_out(g.mem, 0x2000 + 12 + 54 + 2000, &b, 1), 0);
    assert_int_equal(b, vns_payload_byte(77, 2000));
    /* truncated: returns the buffer length, or the full one with MSG_TRUNC */
    vns_iov_iter_init(&m.iter, g.mem, g.iov, 1, 100);
    m.flags = 0;
    assert_int_equal(sock->ops->recvmsg(NULL, sock, &m, 100, VNS_MSG_DONTWAIT | VNS_MSG_TRUNC), 12 + 54 + 3000);
    assert_true(m.flags & VNS_MSG_TRUNC);
    assert_int_equal(sock->ops->peek_len(sock), 0);
    vns_iov_iter_init(&m.iter, g.mem, g.iov, 1, 100);
    assert_int_equal(sock->ops->recvmsg(NULL, sock, &m, 100, 0), -VNS_EAGAIN);
    vns_tun_destroy(tun);
    vns_gmem_destroy(g.mem);
    netfix_fini(&f);
}

/* The TUN_MSG_PTR batch from vhost: each buffer through tun_xdp_one;
 * a runt is refused, the others delivered; sendmsg reports total_len. */
static void test_tun_sendmsg_xdp_batch(void **state)
{
    struct netfix f;
    struct vns_tun *tun = NULL;
    struct ipsink sink;
    struct frame_spec fs = frame_default(mac_a, mac_b, 500);
    struct vns_skb *frame;
    uint8_t pages[3][VNS_XDP_BUF_SIZE];
    struct vns_xdp_buff xdp[3];
    struct vns_tun_msg_ctl ctl = {.type = VNS_TUN_MSG_PTR, .num = 3, .ptr = xdp};
    struct vns_msghdr m = {.flags = VNS_MSG_DONTWAIT, .control = &ctl};
    struct vns_socket *sock;

    (void)state;
    netfix_init(&f, 1, NULL);
    ipsink_init(&sink, f.k, false);
    assert_int_equal(vns_tun_create(f.k, NULL, &tun), 0);
    assert_int_equal(vns_dev_open(vns_tun_dev(tun)), 0);
    sock = vns_tun_socket(tun, 0);
    frame = frame_build(f.k, &fs);
    memset(pages, 0, sizeof(pages));
    for (int i = 0; i < 3; i++) {
        xdp[i] = (struct vns_xdp_buff){.data_hard_start = pages[i], .data = 128};
        assert_int_equal(vns_skb_copy_bits(frame, 0, pages[i] + 128, frame->len), 0);
        xdp[i].data_end = 128 + (i == 1 ? 10 : frame->len);
    }
    vns_iov_iter_init(&m.iter, NULL, NULL, 0, 0);
    assert_int_equal(sock->ops->sendmsg(NULL, sock, &m, 0), 0);
    assert_int_equal(sink.count, 2);
    assert_int_equal(vns_tun_stats(tun)->xdp_batches, 1);
    assert_int_equal(vns_tun_stats(tun)->xdp_frames, 3);
    assert_int_equal(vns_tun_stats(tun)->rx_invalid, 1);
    vns_consume_skb(frame);
    vns_tun_destroy(tun);
    netfix_fini(&f);
}

/* TUNSETVNETHDRSZ refuses sizes below the 10-byte header. */
static void test_tun_vnet_hdr_sz(void **state)
{
    struct netfix f;
    struct vns_tun *tun = NULL;

    (void)state;
    netfix_init(&f, 1, NULL);
    assert_int_equal(vns_tun_create(f.k, &(struct vns_tun_config){.vnet_hdr_sz = 8}, &tun), -VNS_EINVAL);
    assert_int_equal(vns_tun_create(f.k, NULL, &tun), 0);
    assert_int_equal(vns_tun_set_vnet_hdr_sz(tun, 9), -VNS_EINVAL);
    assert_int_equal(vns_tun_set_vnet_hdr_sz(tun, 12), 0);
    vns_tun_destroy(tun);
    netfix_fini(&f);
}

/* Every allocation failure in vns_tun_create unwinds without a leak. */
static void test_tun_create_alloc_failures(void **state)
{
    struct netfix f;
    struct vns_tun *tun = NULL;
    long live;
    int err = -1;

    (void)state;
    netfix_init(&f, 1, NULL);
    live = vns_alloc_live();
    for (long nth = 1; err && nth < 200; nth++) {
        vns_alloc_fail_at(nth);
        err = vns_tun_create(f.k, &(struct vns_tun_config){.queues = 3}, &tun);
        vns_alloc_fail_at(0);
        if (err) {
            assert_int_equal(err, -VNS_ENOMEM);
            assert_int_equal(vns_alloc_live(), live);
        }
    }
    assert_int_equal(err, 0);
    vns_tun_destroy(tun);
    netfix_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_tun_ptr_ring_batched_release, teardown),
        cmocka_unit_test_teardown(test_tun_synmap_records, teardown),
        cmocka_unit_test_teardown(test_tun_net_xmit_ring_full_drops, teardown),
        cmocka_unit_test_teardown(test_tun_sendmsg_validates_guest_header, teardown),
        cmocka_unit_test_teardown(test_tun_recvmsg_header_and_trunc, teardown),
        cmocka_unit_test_teardown(test_tun_sendmsg_xdp_batch, teardown),
        cmocka_unit_test_teardown(test_tun_vnet_hdr_sz, teardown),
        cmocka_unit_test_teardown(test_tun_create_alloc_failures, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
