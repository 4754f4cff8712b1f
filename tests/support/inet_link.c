/* tests/support/inet_link.c -- see inet_link.h. */
#include <string.h>

#include "support/inet_link.h"
#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/sim.h"
#include "vnetsim/rng.h"
#include "vnetsim/napi.h"
#include "vnetsim/proto/ip.h"
#include "vnetsim/wire.h"

struct inet_link;

struct link_end {
    struct inet_link *l;
    int side;
};

struct link_chan {
    struct inet_link *l;
    int d;                /* frames sent by side d */
    struct vns_skb *head; /* in flight, sorted by arrival (skb->tstamp) */
    struct vns_timer arrive;
    vns_time_t tx_free_at;       /* the wire is busy until then */
    struct vns_skb_head rxq;     /* arrived, waiting for the interrupt */
    struct vns_irq irq;          /* receiver's NIC interrupt */
    struct vns_timer wake;       /* tx ring drained below half */
    struct vns_napi_struct napi; /* receiver's NAPI (cfg.napi) */
};

struct inet_link {
    struct inet_link_config cfg;
    struct inet_host *h[2];
    struct link_chan ch[2]; /* ch[d]: frames sent by side d */
    struct vns_rng rng;
    struct inet_link_stats st;
    struct vns_sim *sim;
};

void inet_host_init(struct inet_host *h, struct vns_sim *sim, const char *name, unsigned ncpus,
                    const struct vns_inet_config *icfg)
{
    char cname[32];

    memset(h, 0, sizeof(*h));
    h->sim = sim;
    h->ncpus = ncpus ? ncpus : 1;
    for (unsigned i = 0; i < h->ncpus; i++) {
        snprintf(cname, sizeof(cname), "%s/cpu%u", name, i);
        h->cpus[i] = vns_test_cpu(sim, cname, NULL);
    }
    assert_int_equal(
        vns_kernel_create(
            sim, &(struct vns_kernel_config){.name = name, .cpus = h->cpus, .ncpus = h->ncpus},
            &h->k),
        0);
    assert_int_equal(vns_inet_create(h->k, icfg, &h->inet), 0);
}

void inet_host_fini(struct inet_host *h)
{
    vns_inet_destroy(h->inet);
    vns_kernel_destroy(h->k);
    for (unsigned i = 0; i < h->ncpus; i++)
        vns_cpu_destroy(h->cpus[i]);
}

static vns_time_t frame_time(const struct inet_link *l, uint32_t len)
{
    /* preamble + SFD 8, FCS 4, inter-frame gap 12 */
    return (vns_time_t)(((uint64_t)len + 24u) * 8u * 1000000000ull / l->cfg.rate_bps);
}

/* A copy of @skb in @k's pools (the wire copies anyway). */
static struct vns_skb *frame_copy(struct vns_kernel *k, const struct vns_skb *skb)
{
    uint32_t hl = vns_skb_headlen(skb);
    uint32_t lin = skb->frag_list ? skb->len : hl;
    struct vns_skb *n = vns_alloc_skb(k, VNS_NET_SKB_PAD + lin);

    if (!n)
        return NULL;
    vns_skb_reserve(n, VNS_NET_SKB_PAD);
    if (skb->frag_list) {
        vns_skb_copy_bits(skb, 0, vns_skb_put(n, lin), lin);
    } else {
        memcpy(vns_skb_put(n, hl), skb->data, hl);
        if (skb->syn_len)
            vns_skb_add_synthetic(n, skb->pay_flow, skb->pay_off, skb->syn_len);
    }
    n->gso_size = skb->gso_size;
    n->gso_segs = skb->gso_segs;
    n->gso_type = skb->gso_type;
    return n;
}

static void chan_insert(struct link_chan *c, struct vns_skb *skb)
{
    struct vns_skb **pp = &c->head;

    while (*pp && (*pp)->tstamp <= skb->tstamp)
        pp = &(*pp)->next;
    skb->next = *pp;
    *pp = skb;
}

static void chan_arm(struct inet_link *l, struct link_chan *c)
{
    if (c->head)
        vns_timer_arm(l->sim, &c->arrive, c->head->tstamp);
    else
        vns_timer_cancel(l->sim, &c->arrive);
}

static int link_irq(struct vns_ctx *ctx, void *arg)
{
    struct link_chan *c = arg;
    struct vns_skb *skb;

    if (c->l->cfg.napi) {
        vns_napi_schedule(ctx, &c->napi);
        return VNS_STEP_DONE;
    }
    while ((skb = vns_skb_dequeue(&c->rxq)) != NULL)
        vns_netif_rx(ctx, skb);
    return VNS_STEP_DONE;
}

/* NAPI poll, one frame per step (napi.h): through GRO; complete when the
 * queue is empty before the budget is used. */
static int link_poll(struct vns_ctx *ctx, struct vns_napi_struct *n, int budget)
{
    struct link_chan *c = n->priv;
    struct vns_skb *skb;

    if (n->work < budget && (skb = vns_skb_dequeue(&c->rxq)) != NULL) {
        vns_napi_gro_receive(ctx, n, skb);
        n->work++;
        return n->work < budget ? VNS_STEP_AGAIN : VNS_STEP_DONE;
    }
    if (n->work < budget)
        vns_napi_complete_done(ctx, n, n->work);
    return VNS_STEP_DONE;
}

static void chan_arrive(struct vns_sim *sim, struct vns_timer *t)
{
    struct link_chan *c = t->data;
    struct inet_link *l = c->l;
    int d = c->d;
    bool any = false;

    while (c->head && c->head->tstamp <= vns_sim_now(sim)) {
        struct vns_skb *skb = c->head;
        struct vns_net_device *dev = l->h[!d]->eth;

        c->head = skb->next;
        skb->next = skb->prev = NULL;
        skb->tstamp = 0;
        skb->protocol = vns_eth_type_trans(skb, dev);
        if (!(l->cfg.no_features))
            skb->ip_summed = VNS_CHECKSUM_UNNECESSARY; /* NIC RX checksum offload */
        dev->stats.rx_packets++;
        dev->stats.rx_bytes += skb->len;
        vns_skb_queue_tail(&c->rxq, skb);
        any = true;
    }
    if (any)
        vns_irq_raise(sim, &c->irq, vns_sim_now(sim));
    chan_arm(l, c);
}

static void chan_wake(struct vns_sim *sim, struct vns_timer *t)
{
    struct link_end *e = t->data;

    (void)sim;
    vns_netif_wake_queue(NULL, e->l->h[e->side]->eth);
}

static int link_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    struct link_end *e = vns_netdev_priv(dev);
    struct inet_link *l = e->l;
    int d = e->side;
    struct link_chan *c = &l->ch[d];
    vns_time_t now = ctx ? vns_ctx_now(ctx) : vns_sim_now(l->sim);
    vns_time_t ft = frame_time(l, skb->len), limit;
    struct vns_kernel *rk = l->h[!d]->k;

    if (skb->ip_summed == VNS_CHECKSUM_PARTIAL && l->cfg.no_features)
        vns_skb_checksum_help(skb);
    if (l->cfg.on_frame)
        l->cfg.on_frame(l->cfg.on_frame_arg, skb, d);
    l->st.frames[d]++;
    l->st.bytes[d] += skb->len;
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += skb->len;
    c->tx_free_at = VNS_MAX(c->tx_free_at, now) + ft;
    if (l->cfg.filter && l->cfg.filter(l->cfg.filter_arg, skb, d)) {
        l->st.filtered[d]++;
    } else if (l->cfg.loss > 0 && vns_rng_double(&l->rng) < l->cfg.loss) {
        l->st.lost[d]++;
    } else {
        int copies = (l->cfg.dup > 0 && vns_rng_double(&l->rng) < l->cfg.dup) ? 2 : 1;

        if (copies == 2)
            l->st.dups[d]++;
        for (int i = 0; i < copies; i++) {
            struct vns_skb *n = frame_copy(rk, skb);

            if (!n)
                break;
            n->tstamp = c->tx_free_at + l->cfg.delay + (vns_time_t)i * ft;
            if (l->cfg.reorder > 0 && vns_rng_double(&l->rng) < l->cfg.reorder) {
                n->tstamp += l->cfg.reorder_delay ? l->cfg.reorder_delay : 3 * ft;
                l->st.reordered[d]++;
            }
            chan_insert(c, n);
        }
        chan_arm(l, c);
    }
    vns_consume_skb(skb);
    /* the NIC's tx ring: stop when it holds tx_ring frames' worth */
    limit = (vns_time_t)l->cfg.tx_ring * frame_time(l, dev->mtu + VNS_ETH_HLEN);
    if (c->tx_free_at > now + limit) {
        vns_netif_stop_queue(dev);
        vns_timer_arm(l->sim, &c->wake, c->tx_free_at - limit / 2);
    }
    return VNS_NETDEV_TX_OK;
}

static const struct vns_net_device_ops link_ops = {
    .kind = "inet_link",
    .priv_size = sizeof(struct link_end),
    .ndo_start_xmit = link_xmit,
};

struct inet_link *inet_link_create(struct inet_host *a, struct inet_host *b,
                                   const struct inet_link_config *cfg)
{
    struct inet_link *l = vns_calloc(1, sizeof(*l));
    struct inet_host *h[2] = {a, b};

    assert_non_null(l);
    if (cfg)
        l->cfg = *cfg;
    if (!l->cfg.rate_bps)
        l->cfg.rate_bps = 10000000000ull;
    if (!l->cfg.delay)
        l->cfg.delay = VNS_USEC(10);
    if (!l->cfg.tx_ring)
        l->cfg.tx_ring = 256;
    if (!l->cfg.features && !l->cfg.no_features)
        l->cfg.features = VNS_NETIF_F_SG | VNS_NETIF_F_HW_CSUM;
    l->sim = a->sim;
    vns_sim_rng(l->sim, "inet_link", &l->rng);
    for (int d = 0; d < 2; d++) {
        struct vns_net_device *dev = NULL;
        struct link_end *e;

        l->h[d] = h[d];
        assert_int_equal(vns_alloc_netdev(h[d]->k, "eth%d", &link_ops, &dev), 0);
        e = vns_netdev_priv(dev);
        e->l = l;
        e->side = d;
        dev->features = l->cfg.no_features ? 0 : l->cfg.features;
        dev->hw_features = dev->features;
        if (l->cfg.mtu)
            dev->mtu = l->cfg.mtu;
        assert_int_equal(vns_register_netdev(dev), 0);
        assert_int_equal(vns_dev_open(dev), 0);
        h[d]->eth = dev;
        l->ch[d].l = l;
        l->ch[d].d = d;
        vns_timer_init(&l->ch[d].arrive, chan_arrive, &l->ch[d], 0);
        vns_timer_init(&l->ch[d].wake, chan_wake, e, 0);
        vns_skb_queue_head_init(&l->ch[d].rxq);
    }
    for (int d = 0; d < 2; d++) {
        vns_irq_init(&l->ch[d].irq, "eth-rx", h[!d]->cpus[0], -1, link_irq, &l->ch[d]);
        if (l->cfg.napi) {
            h[!d]->eth->features |= VNS_NETIF_F_GRO;
            vns_netif_napi_add(h[!d]->eth, &l->ch[d].napi, link_poll, -1, VNS_NAPI_POLL_WEIGHT);
            l->ch[d].napi.priv = &l->ch[d];
            vns_napi_enable(&l->ch[d].napi);
        }
    }
    return l;
}

void inet_link_destroy(struct inet_link *l)
{
    if (!l)
        return;
    for (int d = 0; d < 2; d++) {
        struct link_chan *c = &l->ch[d];

        vns_timer_cancel(l->sim, &c->arrive);
        vns_timer_cancel(l->sim, &c->wake);
        while (c->head) {
            struct vns_skb *skb = c->head;

            c->head = skb->next;
            skb->next = NULL;
            vns_kfree_skb(skb);
        }
        vns_skb_queue_purge_reason(&c->rxq, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
        if (l->cfg.napi) {
            vns_napi_disable(&c->napi);
            vns_netif_napi_del(&c->napi);
        }
    }
    vns_free(l);
}

const struct inet_link_stats *inet_link_stats(const struct inet_link *l)
{
    return &l->st;
}

void inet_pair_init(struct inet_pair *p, uint64_t seed, const struct inet_link_config *lcfg,
                    const struct vns_inet_config *icfg)
{
    memset(p, 0, sizeof(*p));
    p->sim = vns_test_sim(seed);
    inet_host_init(&p->a, p->sim, "a", 1, icfg);
    inet_host_init(&p->b, p->sim, "b", 1, icfg);
    p->link = inet_link_create(&p->a, &p->b, lcfg);
    assert_int_equal(vns_inet_addr_add(p->a.inet, p->a.eth, INET_ADDR_A, 24), 0);
    assert_int_equal(vns_inet_addr_add(p->b.inet, p->b.eth, INET_ADDR_B, 24), 0);
}

void inet_pair_init_wire(struct inet_pair *p, uint64_t seed, const struct vns_wire_config *wcfg,
                         const struct vns_inet_config *icfg)
{
    memset(p, 0, sizeof(*p));
    p->sim = vns_test_sim(seed);
    inet_host_init(&p->a, p->sim, "a", 1, icfg);
    inet_host_init(&p->b, p->sim, "b", 1, icfg);
    assert_int_equal(
        vns_wire_create(p->sim, wcfg, &(struct vns_wire_end){.k = p->a.k, .ifname = "eth0"},
                        &(struct vns_wire_end){.k = p->b.k, .ifname = "eth0"}, &p->wire),
        0);
    p->a.eth = vns_wire_dev(p->wire, 0);
    p->b.eth = vns_wire_dev(p->wire, 1);
    assert_int_equal(vns_dev_open(p->a.eth), 0);
    assert_int_equal(vns_dev_open(p->b.eth), 0);
    assert_int_equal(vns_inet_addr_add(p->a.inet, p->a.eth, INET_ADDR_A, 24), 0);
    assert_int_equal(vns_inet_addr_add(p->b.inet, p->b.eth, INET_ADDR_B, 24), 0);
}

void inet_pair_fini(struct inet_pair *p)
{
    if (p->link)
        inet_link_destroy(p->link);
    vns_wire_destroy(p->wire);
    inet_host_fini(&p->a);
    inet_host_fini(&p->b);
    vns_sim_destroy(p->sim);
}

struct vns_sock *inet_udp_bound(struct inet_host *h, uint16_t port)
{
    struct vns_sock *sk;

    assert_int_equal(vns_socket_create(h->inet, VNS_SOCK_DGRAM, 0, &sk), 0);
    assert_int_equal(vns_sys_bind(sk, &(struct vns_sockaddr_in){.port = port}), 0);
    return sk;
}

bool inet_frame_checksums_ok(const struct vns_skb *frame, uint8_t *proto, unsigned *l4len)
{
    static uint8_t buf[70000];
    const uint8_t *iph = buf + VNS_ETH_HLEN;
    unsigned ihl, tot;
    bool ok = true;
    uint32_t sum;

    *proto = 0;
    *l4len = 0;
    if (frame->len < VNS_ETH_HLEN + 20 || frame->len > sizeof(buf) ||
        vns_skb_copy_bits(frame, 0, buf, frame->len) < 0 || vns_get_be16(buf + 12) != VNS_ETH_P_IP)
        return true;
    ihl = (iph[0] & 0xf) * 4u;
    tot = vns_get_be16(iph + 2);
    if (vns_ip_fast_csum(iph, iph[0] & 0xf) != 0)
        ok = false;
    *proto = iph[9];
    *l4len = tot - ihl;
    if (*proto == VNS_IPPROTO_TCP || *proto == VNS_IPPROTO_UDP) {
        sum = vns_csum_tcpudp_nofold(iph + 12, iph + 16, tot - ihl, *proto, 0);
        sum = vns_csum_partial(iph + ihl, tot - ihl, sum);
        if (vns_csum_fold(sum) != 0)
            ok = false;
    }
    return ok;
}

unsigned inet_link_rx_pending(const struct inet_link *l, int dir, unsigned *napi_state,
                              unsigned *gro_count)
{
    *napi_state = l->ch[dir].napi.state;
    *gro_count = l->ch[dir].napi.gro_count;
    return l->ch[dir].rxq.qlen;
}
