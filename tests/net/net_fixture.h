/* tests/net/net_fixture.h -- shared by tests/net and tests/dev: a kernel on
 * an engine, a capture device (records what it is asked to transmit), an
 * IPv4 protocol handler that records what is delivered, and a builder of
 * Ethernet/IPv4/TCP frames. Header-only: each test program includes it. */
#ifndef VNS_NET_FIXTURE_H
#define VNS_NET_FIXTURE_H

#include <string.h>

#include "support/vns_test.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/napi.h"
#include "vnetsim/qdisc.h"
#include "vnetsim/skb.h"
#include "vnetsim/proto/if_ether.h"
#include "vnetsim/proto/ip.h"
#include "vnetsim/proto/tcp.h"

/* --- capture device ----------------------------------------------------- */

struct capdev {
    struct vns_skb_head q;      /* transmitted skbs, in order */
    int busy;                   /* return NETDEV_TX_BUSY this many times */
    int stop_after;             /* stop the queue after this many xmits (0 = never) */
    unsigned xmits;
    int xmit_frame;             /* frame entered in xmit (VNS_FN_x), 0 = none */
};

static inline int capdev_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    struct capdev *c = vns_netdev_priv(dev);

    if (c->busy > 0) {
        c->busy--;
        return VNS_NETDEV_TX_BUSY;
    }
    if (c->xmit_frame)
        vns_fn_enter(ctx, c->xmit_frame);
    c->xmits++;
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += skb->len;
    vns_skb_queue_tail(&c->q, skb);
    if (c->stop_after && c->xmits >= (unsigned)c->stop_after)
        vns_netif_stop_queue(dev);
    if (c->xmit_frame)
        vns_fn_exit(ctx);
    return VNS_NETDEV_TX_OK;
}

static inline void capdev_uninit(struct vns_net_device *dev)
{
    struct capdev *c = vns_netdev_priv(dev);

    vns_skb_queue_purge_reason(&c->q, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
}

static const struct vns_net_device_ops capdev_ops = {
    .kind = "capture",
    .priv_size = sizeof(struct capdev),
    .ndo_start_xmit = capdev_xmit,
    .ndo_uninit = capdev_uninit,
};

static inline struct vns_net_device *capdev_new(struct vns_kernel *k, const char *name, bool noqueue)
{
    struct vns_net_device *dev = NULL;

    assert_int_equal(vns_alloc_netdev(k, name, &capdev_ops, &dev), 0);
    if (noqueue)
        dev->priv_flags |= VNS_IFF_NO_QUEUE;
    vns_skb_queue_head_init(&((struct capdev *)vns_netdev_priv(dev))->q);
    assert_int_equal(vns_register_netdev(dev), 0);
    assert_int_equal(vns_dev_open(dev), 0);
    return dev;
}

static inline struct capdev *capdev_of(struct vns_net_device *dev)
{
    return vns_netdev_priv(dev);
}

/* --- IPv4 sink ------------------------------------------------------------- */

struct ipsink {
    struct vns_skb_head q;
    unsigned count;
    bool keep;              /* keep the skbs (else consume at once) */
    struct vns_net_device *last_dev;
};

static inline int ipsink_rcv(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev, void *arg)
{
    struct ipsink *s = arg;

    vns_fn_enter(ctx, VNS_FN_ip_rcv);
    s->count++;
    s->last_dev = dev;
    if (s->keep)
        vns_skb_queue_tail(&s->q, skb);
    else
        vns_consume_skb(skb);
    vns_fn_exit(ctx);
    return VNS_NET_RX_SUCCESS;
}

static inline void ipsink_init(struct ipsink *s, struct vns_kernel *k, bool keep)
{
    memset(s, 0, sizeof(*s));
    vns_skb_queue_head_init(&s->q);
    s->keep = keep;
    assert_int_equal(vns_dev_add_pack(k, VNS_ETH_P_IP, ipsink_rcv, s), 0);
}

/* --- frame builder ------------------------------------------------------------ */

struct frame_spec {
    const uint8_t *dst, *src;      /* MACs */
    uint16_t proto;                /* 0 = IPv4 */
    uint8_t saddr[4], daddr[4];
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t tcp_flags;             /* 0 = ACK */
    uint32_t payload;              /* TCP payload bytes */
    bool synthetic;                /* payload as a synthetic range */
    uint64_t flow;                 /* payload content */
    uint64_t off;                  /* stream offset of the payload */
    uint16_t ip_id;
    uint32_t priority;
};

/* An Ethernet/IPv4/TCP frame with valid checksums; data at the MAC header. */
static inline struct vns_skb *frame_build(struct vns_kernel *k, const struct frame_spec *f)
{
    uint32_t lin = 14 + 20 + 20 + (f->synthetic ? 0 : f->payload);
    struct vns_skb *skb = vns_alloc_skb(k, VNS_NET_SKB_PAD + lin);
    uint8_t *p, *iph, *th;
    uint32_t sum;

    assert_non_null(skb);
    vns_skb_reserve(skb, VNS_NET_SKB_PAD);
    p = vns_skb_put(skb, 14);
    memcpy(p, f->dst, 6);
    memcpy(p + 6, f->src, 6);
    vns_put_be16(p + 12, f->proto ? f->proto : VNS_ETH_P_IP);
    vns_skb_reset_mac_header(skb);
    iph = vns_skb_put(skb, 20);
    memset(iph, 0, 20);
    skb->network_header = (uint16_t)(iph - skb->head);
    iph[0] = 0x45;
    vns_put_be16(iph + 2, (uint16_t)(40 + f->payload));
    vns_put_be16(iph + 4, f->ip_id);
    vns_put_be16(iph + 6, VNS_IP_DF);
    iph[8] = 64;
    iph[9] = VNS_IPPROTO_TCP;
    memcpy(iph + 12, f->saddr, 4);
    memcpy(iph + 16, f->daddr, 4);
    vns_put_be16(iph + 10, vns_ip_fast_csum(iph, 5));
    th = vns_skb_put(skb, 20);
    memset(th, 0, 20);
    skb->transport_header = (uint16_t)(th - skb->head);
    vns_put_be16(th, f->sport);
    vns_put_be16(th + 2, f->dport);
    vns_put_be32(th + 4, f->seq);
    vns_put_be32(th + 8, f->ack);
    th[12] = 5 << 4;
    th[13] = f->tcp_flags ? f->tcp_flags : VNS_TCP_FLAG_ACK;
    vns_put_be16(th + 14, 65535);
    if (f->synthetic) {
        assert_int_equal(vns_skb_add_synthetic(skb, f->flow, f->off, f->payload), 0);
    } else {
        p = vns_skb_put(skb, f->payload);
        for (uint32_t i = 0; i < f->payload; i++)
            p[i] = vns_payload_byte(f->flow, f->off + i);
    }
    sum = vns_csum_tcpudp_nofold(iph + 12, iph + 16, 20 + f->payload, VNS_IPPROTO_TCP, 0);
    sum = vns_skb_checksum(skb, 34, 20 + f->payload, sum);
    vns_put_be16(th + 16, vns_csum_fold(sum));
    skb->protocol = VNS_ETH_P_IP;
    skb->priority = f->priority;
    return skb;
}

/* True when the IPv4 and TCP checksums of a frame (data at @l3off = IP
 * header) verify. */
static inline bool frame_csums_ok(const struct vns_skb *skb, uint32_t l3off)
{
    uint8_t h[60];
    uint32_t sum;

    if (vns_skb_copy_bits(skb, l3off, h, 40) < 0)
        return false;
    if (vns_ip_fast_csum(h, 5) != 0)
        return false;
    sum = vns_csum_tcpudp_nofold(h + 12, h + 16, skb->len - l3off - 20, VNS_IPPROTO_TCP, 0);
    sum = vns_skb_checksum(skb, l3off + 20, skb->len - l3off - 20, sum);
    return vns_csum_fold(sum) == 0;
}

/* --- kernel on an engine --------------------------------------------------------- */

struct netfix {
    struct vns_sim *sim;
    struct vns_cpu *cpu[4];
    unsigned ncpu;
    struct vns_kernel *k;
};

static inline void netfix_init_profile(struct netfix *f, unsigned ncpu, const struct vns_kernel_config *over,
                                       const char *profile)
{
    struct vns_kernel_config cfg = {0};
    char name[32];

    memset(f, 0, sizeof(*f));
    assert_int_equal(vns_sim_create(&(struct vns_sim_config){.seed = 7, .profile = profile}, &f->sim), 0);
    f->ncpu = ncpu;
    for (unsigned i = 0; i < ncpu; i++) {
        snprintf(name, sizeof(name), "host/cpu%u", i);
        assert_int_equal(vns_cpu_create(f->sim, &(struct vns_cpu_config){.name = name}, &f->cpu[i]), 0);
    }
    if (over)
        cfg = *over;
    cfg.name = cfg.name ? cfg.name : "host";
    cfg.cpus = f->cpu;
    cfg.ncpus = ncpu;
    assert_int_equal(vns_kernel_create(f->sim, &cfg, &f->k), 0);
}

static inline void netfix_init(struct netfix *f, unsigned ncpu, const struct vns_kernel_config *over)
{
    netfix_init_profile(f, ncpu, over, NULL);
}

static inline void netfix_fini(struct netfix *f)
{
    vns_kernel_destroy(f->k);
    vns_sim_destroy(f->sim);
}

static inline struct vns_ctx *netfix_ctx(struct netfix *f, unsigned cpu, enum vns_ctx_kind kind,
                                         const char *name, vns_step_fn fn, void *arg)
{
    struct vns_ctx *c = NULL;

    assert_int_equal(vns_ctx_create(f->sim, &(struct vns_ctx_config){.kind = kind, .name = name,
                                                                      .cpu = f->cpu[cpu], .threadfn = -1,
                                                                      .fn = fn, .arg = arg},
                                    &c),
                     0);
    return c;
}

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 0x0c};
static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

static inline struct frame_spec frame_default(const uint8_t *dst, const uint8_t *src, uint32_t payload)
{
    struct frame_spec f = {.dst = dst, .src = src, .saddr = {10, 0, 0, 1}, .daddr = {10, 0, 0, 2},
                           .sport = 40000, .dport = 5001, .seq = 1000, .ack = 1, .payload = payload,
                           .flow = 77};

    return f;
}

#endif
