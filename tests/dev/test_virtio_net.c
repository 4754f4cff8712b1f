/* tests/dev/test_virtio_net.c -- the virtio-net guest driver against a
 * device played by the test through lib/virtio's device side: the bytes
 * xmit_skb writes (header from the skb's GSO/checksum state, sg layout),
 * queue stop below 2 + MAX_SKB_FRAGS free slots and the wake from TX NAPI,
 * indirect descriptors, mergeable and small receive buffers with the
 * driver's checks (short packet, buffers missing), EWMA buffer sizing. */
#include <string.h>

#include "net/net_fixture.h"
#include "vnetsim/backend_sock.h"
#include "vnetsim/devq.h"
#include "vnetsim/gmem.h"
#include "vnetsim/virtio_net.h"

#define RAM (256ull << 20)

struct fix {
    struct vns_sim *sim;
    struct vns_cpu *cpu;
    struct vns_kernel *k;
    struct vns_gmem *mem;
    struct vns_gmem_table *table;
    struct vns_galloc *ga;
    struct vns_virtnet *vi;
    struct vns_devq *dq[2];        /* rx, tx */
    struct ipsink sink;
    int notifies[2];
    /* app */
    int to_send, sent;
    uint32_t payload;
};

static bool fix_notify(void *arg, unsigned vq, struct vns_ctx *ctx)
{
    struct fix *f = arg;

    (void)ctx;
    f->notifies[vq & 1]++;
    return true;
}

static void fix_signal(struct vns_devq *dq, void *arg)
{
    struct fix *f = arg;

    vns_irq_raise(f->sim, vns_virtnet_irq(f->vi, dq == f->dq[0] ? 0 : 1), vns_sim_now(f->sim));
}

static bool fix_no_napi_tx;   /* the next fix_init: napi_tx=0 */

static void fix_init(struct fix *f, uint64_t features, uint32_t ring, enum vns_virtq_layout layout)
{
    struct vns_kernel_config kc = {.name = "vm1"};

    memset(f, 0, sizeof(*f));
    f->sim = vns_test_sim(3);
    f->cpu = vns_test_cpu(f->sim, "vm1/cpu0", NULL);
    kc.cpus = &f->cpu;
    kc.ncpus = 1;
    assert_int_equal(vns_kernel_create(f->sim, &kc, &f->k), 0);
    assert_int_equal(vns_gmem_create(&f->mem), 0);
    assert_int_equal(vns_gmem_add_region(f->mem, 0, RAM), 0);
    assert_int_equal(vns_gmem_table_create_all(f->mem, &f->table), 0);
    assert_int_equal(vns_galloc_create(1u << 20, RAM - (1u << 20), &f->ga), 0);
    assert_int_equal(vns_virtnet_create(&(struct vns_virtnet_config){.k = f->k, .mem = f->mem, .galloc = f->ga,
                                                                     .features = features, .ring_size = ring,
                                                                     .layout = layout, .notify = fix_notify,
                                                                     .notify_arg = f, .no_napi_tx = fix_no_napi_tx},
                                        &f->vi),
                     0);
    for (unsigned i = 0; i < 2; i++) {
        struct vns_virtq *vq = vns_virtnet_vq(f->vi, i);

        assert_int_equal(vns_devq_create(f->table, &(struct vns_devq_config){
                                                       .layout = layout, .num = ring, .addr = *vns_virtq_addr(vq),
                                                       .event_idx = vns_virtio_has(features, VNS_VIRTIO_RING_F_EVENT_IDX),
                                                       .signal = fix_signal, .signal_arg = f},
                                         &f->dq[i]),
                         0);
    }
    ipsink_init(&f->sink, f->k, true);
    assert_int_equal(vns_dev_open(vns_virtnet_dev(f->vi)), 0);
}

static void fix_fini(struct fix *f)
{
    vns_skb_queue_purge_reason(&f->sink.q, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
    vns_devq_destroy(f->dq[0]);
    vns_devq_destroy(f->dq[1]);
    vns_virtnet_destroy(f->vi);
    vns_kernel_destroy(f->k);
    vns_galloc_destroy(f->ga);
    vns_gmem_table_destroy(f->table);
    vns_gmem_destroy(f->mem);
    vns_sim_destroy(f->sim);
}

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

#define FEATURES                                                                                   \
    (VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_CSUM) | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_CSUM) |           \
     VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_HOST_TSO4) | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_TSO4) |     \
     VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_MRG_RXBUF) | VNS_VIRTIO_BIT(VNS_VIRTIO_RING_F_EVENT_IDX) |      \
     VNS_VIRTIO_BIT(VNS_VIRTIO_F_VERSION_1))

static struct vns_skb *gso_skb(struct vns_kernel *k, uint32_t payload, uint64_t off)
{
    struct frame_spec fs = frame_default(mac_b, mac_a, payload);
    struct vns_skb *skb;

    fs.synthetic = true;
    fs.off = off;
    skb = frame_build(k, &fs);
    skb->gso_size = 1448;
    skb->gso_type = VNS_SKB_GSO_TCPV4;
    skb->ip_summed = VNS_CHECKSUM_PARTIAL;
    skb->csum_start = skb->transport_header;
    skb->csum_offset = 16;
    return skb;
}

static int app(struct vns_ctx *ctx, void *arg)
{
    struct fix *f = arg;
    struct vns_skb *skb;

    if (f->sent == f->to_send)
        return VNS_STEP_DONE;
    skb = gso_skb(f->k, f->payload, (uint64_t)f->sent * f->payload);
    skb->dev = vns_virtnet_dev(f->vi);
    vns_dev_queue_xmit(ctx, skb);
    f->sent++;
    vns_charge_ns(ctx, 1000);
    return VNS_STEP_AGAIN;
}

/* The device reads back what xmit_skb wrote: the 12-byte header from the
 * skb's GSO and checksum state (num_buffers 0), pushed in front of the
 * linear part in one sg (VERSION_1 allows it), then one sg per page frag. */
static void test_virtio_net_xmit_skb_header_and_sg(void **state)
{
    struct fix f;
    struct vns_ctx *c;
    struct vns_iov iov[32];
    unsigned out, in;
    uint8_t hb[12], b;
    struct vns_virtio_net_hdr h;
    int head;

    (void)state;
    fix_init(&f, FEATURES, 64, VNS_VIRTQ_SPLIT);
    f.to_send = 1;
    f.payload = 10000;
    c = vns_test_ctx(f.sim, VNS_CTX_USER, "app", f.cpu, app, &f);
    vns_ctx_start(c, 0);
    vns_sim_run(f.sim, VNS_USEC(100));
    assert_int_equal(f.notifies[1], 1);
    head = vns_devq_get_vq_desc(f.dq[1], iov, 32, &out, &in, NULL);
    assert_true(head >= 0);
    assert_int_equal(in, 0);
    assert_int_equal(out, 1 + 3);                  /* header+linear, 3 page frags */
    assert_int_equal(iov[0].len, 12 + 54);
    assert_int_equal(vns_iov_length(iov, out), 12 + 54 + 10000);
    assert_int_equal(vns_gmem_copy_out(f.mem, iov[0].addr, hb, 12), 0);
    vns_virtio_net_hdr_decode(hb, 12, &h);
    assert_int_equal(h.flags, VNS_VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(h.gso_type, VNS_VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(h.gso_size, 1448);
    assert_int_equal(h.hdr_len, 54);
    assert_int_equal(h.csum_start, 34);
    assert_int_equal(h.csum_offset, 16);
    assert_int_equal(h.num_buffers, 0);
    assert_int_equal(vns_gmem_copy_out(f.mem, iov[2].addr + 100, &b, 1), 0);
    assert_int_equal(b, vns_payload_byte(77, 4096 + 100));
    assert_int_equal(vns_virtnet_sq_stats(f.vi, 0)->sgs, 4);
    vns_devq_add_used(f.dq[1], (uint32_t)head, 0, NULL);
    fix_fini(&f);
}

/* Without VERSION_1 / ANY_LAYOUT the legacy 10-byte header goes in its own
 * sg; with INDIRECT_DESC a multi-sg packet takes one ring slot. */
static void test_virtio_net_legacy_header_and_indirect(void **state)
{
    uint64_t legacy = VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_CSUM) | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_HOST_TSO4) |
                      VNS_VIRTIO_BIT(VNS_VIRTIO_RING_F_INDIRECT_DESC);
    struct fix f;
    struct vns_ctx *c;
    struct vns_iov iov[32];
    unsigned out, in;

    (void)state;
    fix_init(&f, legacy, 64, VNS_VIRTQ_SPLIT);
    assert_int_equal(vns_virtnet_hdr_len(f.vi), 10);
    f.to_send = 2;
    f.payload = 5000;
    c = vns_test_ctx(f.sim, VNS_CTX_USER, "app", f.cpu, app, &f);
    vns_ctx_start(c, 0);
    vns_sim_run(f.sim, VNS_USEC(100));
    assert_int_equal(vns_virtq_num_free(vns_virtnet_vq(f.vi, 1)), 62);   /* one slot each */
    assert_int_equal(vns_virtnet_sq_stats(f.vi, 0)->descs, 2);
    assert_true(vns_devq_get_vq_desc(f.dq[1], iov, 32, &out, &in, NULL) >= 0);
    assert_int_equal(out, 1 + 1 + 2);                  /* header, linear, 2 frags */
    assert_int_equal(iov[0].len, 10);
    assert_int_equal(iov[1].len, 54);
    assert_int_equal(vns_devq_stats(f.dq[1])->indirect, 1);
    fix_fini(&f);
}

/* Fewer than 2 + MAX_SKB_FRAGS free slots stop the queue; the TX
 * interrupt's NAPI poll reclaims and wakes it; every skb is freed. */
static void test_virtio_net_tx_stop_and_wake(void **state)
{
    struct fix f;
    struct vns_ctx *c;
    struct vns_iov iov[32];
    unsigned out, in;
    int head, used = 0;

    (void)state;
    fix_init(&f, FEATURES, 32, VNS_VIRTQ_SPLIT);
    f.to_send = 4;
    f.payload = 60000;                 /* 16 descriptors each */
    c = vns_test_ctx(f.sim, VNS_CTX_USER, "app", f.cpu, app, &f);
    vns_ctx_start(c, 0);
    vns_sim_run(f.sim, VNS_USEC(50));
    assert_true(vns_netif_queue_stopped(vns_virtnet_dev(f.vi)));
    assert_int_equal(vns_virtnet_sq_stats(f.vi, 0)->stops, 1);
    /* the device consumes what is there and signals, until all are sent */
    for (int round = 0; round < 10 && used < 4; round++) {
        while ((head = vns_devq_get_vq_desc(f.dq[1], iov, 32, &out, &in, NULL)) >= 0) {
            vns_devq_add_used(f.dq[1], (uint32_t)head, 0, NULL);
            used++;
        }
        vns_devq_signal(f.dq[1], NULL);
        vns_sim_run(f.sim, vns_sim_now(f.sim) + VNS_USEC(100));
    }
    assert_int_equal(used, 4);
    assert_int_equal(f.sent, 4);
    assert_true(vns_virtnet_sq_stats(f.vi, 0)->wakes >= 1);
    assert_false(vns_netif_queue_stopped(vns_virtnet_dev(f.vi)));
    assert_int_equal(vns_virtnet_sq_stats(f.vi, 0)->packets, 4);   /* reclaimed */
    assert_true(vns_virtnet_sq_stats(f.vi, 0)->interrupts >= 1);
    fix_fini(&f);
}

/* napi_tx=0: the stop arms the TX interrupt (enable_cb_delayed), whose
 * handler wakes the queue; start_xmit reclaims. */
static void test_virtio_net_tx_stop_and_wake_no_napi_tx(void **state)
{
    struct fix f;
    struct vns_ctx *c;
    struct vns_iov iov[32];
    unsigned out, in;
    int head, used = 0;

    (void)state;
    fix_no_napi_tx = true;
    fix_init(&f, FEATURES, 32, VNS_VIRTQ_SPLIT);
    fix_no_napi_tx = false;
    f.to_send = 4;
    f.payload = 60000;
    c = vns_test_ctx(f.sim, VNS_CTX_USER, "app", f.cpu, app, &f);
    vns_ctx_start(c, 0);
    vns_sim_run(f.sim, VNS_USEC(50));
    assert_true(vns_netif_queue_stopped(vns_virtnet_dev(f.vi)));
    for (int round = 0; round < 10 && used < 4; round++) {
        while ((head = vns_devq_get_vq_desc(f.dq[1], iov, 32, &out, &in, NULL)) >= 0) {
            vns_devq_add_used(f.dq[1], (uint32_t)head, 0, NULL);
            used++;
        }
        vns_devq_signal(f.dq[1], NULL);
        vns_sim_run(f.sim, vns_sim_now(f.sim) + VNS_USEC(100));
    }
    assert_int_equal(used, 4);
    assert_int_equal(f.sent, 4);
    assert_true(vns_virtnet_sq_stats(f.vi, 0)->wakes >= 1);
    assert_true(vns_virtnet_sq_stats(f.vi, 0)->interrupts >= 1);
    assert_int_equal(vns_virtnet_sq_stats(f.vi, 0)->napi_polls, 0);
    fix_fini(&f);
}

/* The device's side of a mergeable receive: @nbufs buffers, header with
 * num_buffers = @num_buffers, the frame bytes; returns the frame length. */
static uint32_t dev_receive(struct fix *f, unsigned nbufs, uint16_t num_buffers, uint32_t payload,
                            uint32_t cut_len)
{
    struct frame_spec fs = frame_default(mac_a, mac_b, payload);
    struct vns_skb *frame = frame_build(f->k, &fs);
    uint8_t buf[16384];
    struct vns_used_elem heads[8];
    struct vns_iov iov[8];
    uint32_t total = 12 + frame->len, done = 0;
    uint8_t hb[12];
    unsigned out, in;

    vns_virtio_net_hdr_encode(&(struct vns_virtio_net_hdr){.num_buffers = num_buffers}, hb, 12);
    memcpy(buf, hb, 12);
    assert_int_equal(vns_skb_copy_bits(frame, 0, buf + 12, frame->len), 0);
    if (cut_len)
        total = cut_len;
    for (unsigned i = 0; i < nbufs; i++) {
        int head = vns_devq_get_vq_desc(f->dq[0], iov, 8, &out, &in, NULL);
        uint32_t l;

        assert_true(head >= 0);
        l = (uint32_t)iov[0].len < total - done ? (uint32_t)iov[0].len : total - done;
        assert_int_equal(vns_gmem_copy_in(f->mem, iov[0].addr, buf + done, l), 0);
        heads[i] = (struct vns_used_elem){(uint32_t)head, l};
        done += l;
    }
    vns_devq_add_used_n(f->dq[0], heads, nbufs, NULL);
    vns_devq_signal(f->dq[0], NULL);
    vns_consume_skb(frame);
    return total - 12;
}

/* Mergeable receive: a frame over three buffers arrives whole through
 * NAPI; a count of buffers the device did not use is a length error; a
 * short packet too; the EWMA grows the next buffers. */
static void test_virtio_net_receive_mergeable(void **state)
{
    struct fix f;
    const struct vns_virtnet_rq_stats *rq;
    struct vns_skb *skb;
    uint8_t b;

    (void)state;
    fix_init(&f, FEATURES, 32, VNS_VIRTQ_SPLIT);
    rq = vns_virtnet_rq_stats(f.vi, 0);
    assert_int_equal(rq->posted, 32);
    assert_int_equal(f.notifies[0], 1);               /* the refill kick at open */
    assert_int_equal(dev_receive(&f, 3, 3, 5000, 0), 14 + 40 + 5000);
    vns_sim_run(f.sim, VNS_USEC(100));
    assert_int_equal(rq->interrupts, 1);
    assert_int_equal(rq->packets, 1);
    assert_int_equal(f.sink.count, 1);
    skb = vns_skb_dequeue(&f.sink.q);
    assert_int_equal(skb->len, 40 + 5000);
    assert_int_equal(vns_skb_copy_bits(skb, 40 + 4321, &b, 1), 0);
    assert_int_equal(b, vns_payload_byte(77, 4321));
    vns_consume_skb(skb);
    assert_int_equal(rq->ewma_pkt_len, 14 + 40 + 5000);
    /* num_buffers says 3, the device used 2 */
    dev_receive(&f, 2, 3, 2000, 0);
    vns_sim_run(f.sim, vns_sim_now(f.sim) + VNS_USEC(100));
    assert_int_equal(rq->length_errors, 1);
    assert_int_equal(f.sink.count, 1);
    /* a packet shorter than header + Ethernet header */
    dev_receive(&f, 1, 1, 100, 12 + 10);
    vns_sim_run(f.sim, vns_sim_now(f.sim) + VNS_USEC(100));
    assert_int_equal(rq->length_errors, 2);
    /* a good one after the errors */
    dev_receive(&f, 1, 1, 100, 0);
    vns_sim_run(f.sim, vns_sim_now(f.sim) + VNS_USEC(100));
    assert_int_equal(f.sink.count, 2);
    assert_false(vns_virtq_is_broken(vns_virtnet_vq(f.vi, 0)));
    fix_fini(&f);
}

/* Mergeable buffers are carved from 32 KiB page frags as in 5.4: 21 of
 * 1536 bytes (hdr + GOOD_PACKET_LEN, cache aligned) to a page, the last
 * taking the 512-byte hole (truesize 2048); once all are received the
 * refill reuses the frag page from offset 0 and the freed pages, so guest
 * memory for buffers stays at four pages. */
static void test_virtio_net_rx_buffers_page_frag(void **state)
{
    struct frame_spec fs = frame_default(mac_a, mac_b, 20);
    struct fix f;
    const struct vns_virtnet_rq_stats *rq;
    struct vns_iov iov[4];
    struct vns_skb *frame;
    uint64_t avail, prev_end = 0;
    uint8_t buf[128];
    unsigned out, in;

    (void)state;
    fix_init(&f, FEATURES, 64, VNS_VIRTQ_SPLIT);
    rq = vns_virtnet_rq_stats(f.vi, 0);
    assert_int_equal(rq->frag_pages, 4);
    avail = vns_galloc_avail(f.ga);
    frame = frame_build(f.k, &fs);
    vns_virtio_net_hdr_encode(&(struct vns_virtio_net_hdr){.num_buffers = 1}, buf, 12);
    assert_int_equal(vns_skb_copy_bits(frame, 0, buf + 12, frame->len), 0);
    for (unsigned i = 0; i < 64; i++) {
        int head = vns_devq_get_vq_desc(f.dq[0], iov, 4, &out, &in, NULL);

        assert_true(head >= 0);
        assert_int_equal(in, 1);
        assert_int_equal(iov[0].len, i % 21 == 20 ? 2048 : 1536);
        if (i % 21)
            assert_int_equal(iov[0].addr, prev_end); /* the same page, next to the last */
        else
            assert_int_equal(iov[0].addr % 32768, 0); /* a new compound page */
        prev_end = iov[0].addr + iov[0].len;
        assert_int_equal(vns_gmem_copy_in(f.mem, iov[0].addr, buf, 12 + frame->len), 0);
        vns_devq_add_used(f.dq[0], (uint32_t)head, 12 + frame->len, NULL);
    }
    vns_consume_skb(frame);
    vns_devq_signal(f.dq[0], NULL);
    vns_sim_run(f.sim, VNS_USEC(500));
    assert_int_equal(rq->packets, 64);
    assert_int_equal(rq->posted, 128);
    assert_int_equal(rq->frag_pages, 7); /* three more, the freed ones again */
    assert_int_equal(vns_galloc_avail(f.ga), avail);
    fix_fini(&f);
}

/* Without MRG_RXBUF and guest GSO: small buffers of hdr + 1518 bytes. */
static void test_virtio_net_receive_small(void **state)
{
    uint64_t feat = VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_CSUM) | VNS_VIRTIO_BIT(VNS_VIRTIO_F_VERSION_1);
    struct fix f;

    (void)state;
    fix_init(&f, feat, 16, VNS_VIRTQ_SPLIT);
    assert_int_equal(vns_virtnet_hdr_len(f.vi), 12);
    /* 1920 bytes of page frag each (pad, data, shared info): one page */
    assert_int_equal(vns_virtnet_rq_stats(f.vi, 0)->frag_pages, 1);
    dev_receive(&f, 1, 0, 1000, 0);
    vns_sim_run(f.sim, VNS_USEC(100));
    assert_int_equal(f.sink.count, 1);
    fix_fini(&f);
}

/* Guest GSO without MRG_RXBUF: big mode, each buffer a chain of the header,
 * the rest of its first page and MAX_SKB_FRAGS pages (19 descriptors); a
 * 40 KB GSO frame arrives in one of them. */
static void test_virtio_net_receive_big(void **state)
{
    uint64_t feat = VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_CSUM) | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_CSUM) |
                    VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_TSO4) | VNS_VIRTIO_BIT(VNS_VIRTIO_F_VERSION_1);
    struct fix f;
    struct frame_spec fs = frame_default(mac_a, mac_b, 40000);
    struct vns_skb *frame, *skb;
    struct vns_iov iov[32];
    struct vns_iov_iter it;
    unsigned out, in;
    uint8_t hb[12], b;
    int head;

    (void)state;
    fix_init(&f, feat, 64, VNS_VIRTQ_SPLIT);
    assert_int_equal(vns_virtq_num_free(vns_virtnet_vq(f.vi, 0)), 64 - 3 * 19);   /* 3 chains fit */
    fs.synthetic = true;
    frame = frame_build(f.k, &fs);
    head = vns_devq_get_vq_desc(f.dq[0], iov, 32, &out, &in, NULL);
    assert_true(head >= 0);
    assert_int_equal(in, 19);
    assert_int_equal(iov[0].len, 12);
    vns_virtio_net_hdr_encode(&(struct vns_virtio_net_hdr){.gso_type = VNS_VIRTIO_NET_HDR_GSO_TCPV4,
                                                           .gso_size = 1448, .hdr_len = 54},
                              hb, 12);
    vns_iov_iter_init(&it, f.mem, iov, in, SIZE_MAX);
    assert_int_equal(vns_copy_to_iter(NULL, &it, hb, 12), 12);
    assert_int_equal(vns_skb_copy_datagram_iter(NULL, frame, 0, &it, frame->len), 0);
    vns_devq_add_used(f.dq[0], (uint32_t)head, 12 + frame->len, NULL);
    vns_devq_signal(f.dq[0], NULL);
    vns_sim_run(f.sim, VNS_USEC(100));
    assert_int_equal(f.sink.count, 1);
    skb = vns_skb_dequeue(&f.sink.q);
    assert_int_equal(skb->len, 40 + 40000);
    assert_int_equal(vns_skb_copy_bits(skb, 40 + 33333, &b, 1), 0);
    assert_int_equal(b, vns_payload_byte(77, 33333));
    vns_consume_skb(skb);
    vns_consume_skb(frame);
    fix_fini(&f);
}

/* The same driver over a packed ring (a what-if: vhost has no packed
 * ring; QEMU and DPDK do). */
static void test_virtio_net_packed_ring(void **state)
{
    struct fix f;
    struct vns_ctx *c;
    struct vns_iov iov[32];
    unsigned out, in;
    int head;

    (void)state;
    fix_init(&f, FEATURES | VNS_VIRTIO_BIT(VNS_VIRTIO_F_RING_PACKED), 64, VNS_VIRTQ_PACKED);
    f.to_send = 3;
    f.payload = 3000;
    c = vns_test_ctx(f.sim, VNS_CTX_USER, "app", f.cpu, app, &f);
    vns_ctx_start(c, 0);
    vns_sim_run(f.sim, VNS_USEC(100));
    for (int i = 0; i < 3; i++) {
        head = vns_devq_get_vq_desc(f.dq[1], iov, 32, &out, &in, NULL);
        assert_true(head >= 0);
        assert_int_equal(vns_iov_length(iov, out), 12 + 54 + 3000);
        vns_devq_add_used(f.dq[1], (uint32_t)head, 0, NULL);
    }
    dev_receive(&f, 2, 2, 3000, 0);
    vns_sim_run(f.sim, vns_sim_now(f.sim) + VNS_USEC(100));
    assert_int_equal(f.sink.count, 1);
    fix_fini(&f);
}

/* Hostile guest: each corruption the driver can make is caught by the
 * device's check of that kind; the queue is broken, nothing outside guest
 * memory is touched, and the guest's RX queue still works. */
static void test_virtio_net_hostile_tx_each_kind(void **state)
{
    static const enum vns_devq_err kinds[] = {
        VNS_DEVQ_ERR_HEAD, VNS_DEVQ_ERR_AVAIL_IDX, VNS_DEVQ_ERR_DESC_INDEX, VNS_DEVQ_ERR_LOOP,
        VNS_DEVQ_ERR_TRANSLATE, VNS_DEVQ_ERR_OUT_AFTER_IN, VNS_DEVQ_ERR_INDIRECT_LEN,
        VNS_DEVQ_ERR_INDIRECT_NESTED,
    };

    (void)state;
    for (size_t i = 0; i < VNS_ARRAY_SIZE(kinds); i++) {
        bool ind = kinds[i] == VNS_DEVQ_ERR_INDIRECT_LEN || kinds[i] == VNS_DEVQ_ERR_INDIRECT_NESTED;
        struct fix f;
        struct vns_ctx *c;
        struct vns_iov iov[128];     /* more than the ring: a loop is found before the iovs run out */
        unsigned out, in;

        fix_init(&f, FEATURES | (ind ? VNS_VIRTIO_BIT(VNS_VIRTIO_RING_F_INDIRECT_DESC) : 0), 64, VNS_VIRTQ_SPLIT);
        assert_int_equal(vns_virtnet_corrupt_tx(f.vi, 0, kinds[i], 1), 0);
        f.to_send = 1;
        f.payload = 5000;
        c = vns_test_ctx(f.sim, VNS_CTX_USER, "app", f.cpu, app, &f);
        vns_ctx_start(c, 0);
        vns_sim_run(f.sim, VNS_USEC(100));
        assert_true(vns_devq_get_vq_desc(f.dq[1], iov, 128, &out, &in, NULL) < 0);
        assert_true(vns_devq_is_broken(f.dq[1]));
        assert_int_equal(vns_devq_last_err(f.dq[1]), kinds[i]);
        assert_int_equal(vns_devq_stats(f.dq[1])->errors[kinds[i]], 1);
        assert_int_equal(vns_gmem_stats(f.mem)->faults, 0);
        dev_receive(&f, 1, 1, 100, 0);
        vns_sim_run(f.sim, vns_sim_now(f.sim) + VNS_USEC(100));
        assert_int_equal(f.sink.count, 1);
        fix_fini(&f);
    }
}

/* Negotiation: the intersection with 5.4's driver, less features whose
 * dependency is missing; vhost-net's offer has no packed ring. */
static void test_virtio_net_negotiate(void **state)
{
    uint64_t dev = FEATURES | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_TSO6) | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_CTRL_RX) |
                   VNS_VIRTIO_BIT(40);
    uint64_t f = vns_virtnet_negotiate(dev);

    (void)state;
    assert_int_equal(f, FEATURES | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_TSO6));     /* no CTRL_RX, no bit 40 */
    f = vns_virtnet_negotiate(dev & ~VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_CSUM));
    assert_false(vns_virtio_has(f, VNS_VIRTIO_NET_F_GUEST_TSO4));
    assert_true(vns_virtio_has(f, VNS_VIRTIO_NET_F_HOST_TSO4));
    f = vns_virtnet_negotiate(dev & ~VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_CSUM));
    assert_false(vns_virtio_has(f, VNS_VIRTIO_NET_F_HOST_TSO4));
    assert_false(VNS_VHOST_NET_FEATURES & VNS_VIRTIO_BIT(VNS_VIRTIO_F_RING_PACKED));
    assert_true(VNS_VHOST_NET_FEATURES & VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_MRG_RXBUF));
}

/* Every allocation failure in vns_virtnet_create unwinds: no crash, the
 * guest memory given back, nothing left once the kernel and guest memory
 * are gone (guest pages touched stay with the gmem until then, by design). */
static void test_virtio_net_create_alloc_failures(void **state)
{
    int err = -1;

    (void)state;
    for (long nth = 1; err && nth < 400; nth++) {
        struct vns_sim *sim = vns_test_sim(1);
        struct vns_cpu *cpu = vns_test_cpu(sim, "vm/cpu0", NULL);
        struct vns_kernel *k = NULL;
        struct vns_gmem *mem = NULL;
        struct vns_galloc *ga = NULL;
        struct vns_virtnet *vi = NULL;
        uint64_t avail;

        assert_int_equal(vns_kernel_create(sim, &(struct vns_kernel_config){.name = "vm", .cpus = &cpu, .ncpus = 1}, &k), 0);
        assert_int_equal(vns_gmem_create(&mem), 0);
        assert_int_equal(vns_gmem_add_region(mem, 0, RAM), 0);
        assert_int_equal(vns_galloc_create(1u << 20, RAM - (1u << 20), &ga), 0);
        avail = vns_galloc_avail(ga);
        vns_alloc_fail_at(nth);
        err = vns_virtnet_create(&(struct vns_virtnet_config){.k = k, .mem = mem, .galloc = ga,
                                                              .features = FEATURES | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_MQ) |
                                                                          VNS_VIRTIO_BIT(VNS_VIRTIO_RING_F_INDIRECT_DESC),
                                                              .ring_size = 64, .queue_pairs = 2},
                                 &vi);
        vns_alloc_fail_at(0);
        if (err)
            assert_int_equal(vns_galloc_avail(ga), avail);
        vns_virtnet_destroy(vi);
        assert_int_equal(vns_galloc_avail(ga), avail);
        vns_galloc_destroy(ga);
        vns_gmem_destroy(mem);
        vns_kernel_destroy(k);
        vns_sim_destroy(sim);
        assert_no_leaks();
    }
    assert_int_equal(err, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_virtio_net_xmit_skb_header_and_sg, teardown),
        cmocka_unit_test_teardown(test_virtio_net_legacy_header_and_indirect, teardown),
        cmocka_unit_test_teardown(test_virtio_net_tx_stop_and_wake, teardown),
        cmocka_unit_test_teardown(test_virtio_net_tx_stop_and_wake_no_napi_tx, teardown),
        cmocka_unit_test_teardown(test_virtio_net_receive_mergeable, teardown),
        cmocka_unit_test_teardown(test_virtio_net_rx_buffers_page_frag, teardown),
        cmocka_unit_test_teardown(test_virtio_net_receive_small, teardown),
        cmocka_unit_test_teardown(test_virtio_net_receive_big, teardown),
        cmocka_unit_test_teardown(test_virtio_net_packed_ring, teardown),
        cmocka_unit_test_teardown(test_virtio_net_hostile_tx_each_kind, teardown),
        cmocka_unit_test_teardown(test_virtio_net_negotiate, teardown),
        cmocka_unit_test_teardown(test_virtio_net_create_alloc_failures, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
