/* tests/dev/test_bridge.c -- the Linux bridge: which ports a frame reaches
 * (flooding, forwarding, no hairpin, local delivery), FDB learning, moves,
 * ageing and static/local entries, port flags and states, link-local
 * groups, the host's br_dev_xmit path and its seed stack. */
#include "net/net_fixture.h"
#include "vnetsim/bridge.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

struct brfix {
    struct netfix f;
    struct vns_net_device *br;
    struct vns_net_device *port[3];
    struct ipsink sink;
};

static void brfix_init(struct brfix *b)
{
    char name[16];

    netfix_init(&b->f, 1, NULL);
    assert_int_equal(vns_br_add_bridge(b->f.k, "br0", &b->br), 0);
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "tap%d", i);
        b->port[i] = capdev_new(b->f.k, name, false);
        capdev_of(b->port[i])->xmit_frame = VNS_FN_tun_net_xmit;
        assert_int_equal(vns_br_add_if(b->br, b->port[i]), 0);
    }
    assert_int_equal(vns_dev_open(b->br), 0);
    ipsink_init(&b->sink, b->f.k, false);
}

static void brfix_fini(struct brfix *b)
{
    netfix_fini(&b->f);
}

/* A frame arriving on port @in from @src to @dst. */
static void br_rx(struct brfix *b, int in, const uint8_t *dst, const uint8_t *src)
{
    struct frame_spec s = frame_default(dst, src, 64);
    struct vns_skb *skb;

    s.synthetic = true;
    skb = frame_build(b->f.k, &s);
    skb->protocol = vns_eth_type_trans(skb, b->port[in]);
    vns_netif_receive_skb(NULL, skb);
}

/* Frames each port transmitted since the last call (and drop them). */
static void br_out(struct brfix *b, unsigned n[3])
{
    for (int i = 0; i < 3; i++) {
        struct capdev *c = capdev_of(b->port[i]);

        n[i] = c->q.qlen;
        vns_skb_queue_purge_reason(&c->q, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
    }
}

#define assert_out(b, a0, a1, a2)                   \
    do {                                            \
        unsigned n_[3];                             \
        br_out(b, n_);                              \
        assert_int_equal(n_[0], a0);                \
        assert_int_equal(n_[1], a1);                \
        assert_int_equal(n_[2], a2);                \
    } while (0)

/* Unknown unicast floods to every other port and teaches the source;
 * the reply then goes only to the learned port; a frame to a learned
 * address on its own ingress port goes nowhere (no hairpin). */
static void test_bridge_flood_learn_forward(void **state)
{
    struct brfix b;
    struct vns_br_fdb_info info;

    (void)state;
    brfix_init(&b);
    assert_int_equal(vns_br_port_state(b.port[0]), VNS_BR_STATE_FORWARDING);
    br_rx(&b, 0, mac_b, mac_a);
    assert_out(&b, 0, 1, 1);
    assert_true(vns_br_fdb_get(b.br, mac_a, &info));
    assert_ptr_equal(info.dst, b.port[0]);
    assert_false(info.is_local);
    br_rx(&b, 1, mac_a, mac_b);
    assert_out(&b, 1, 0, 0);
    assert_true(vns_br_fdb_get(b.br, mac_b, &info));
    assert_ptr_equal(info.dst, b.port[1]);
    br_rx(&b, 1, mac_b, mac_c);           /* dst behind the ingress port */
    assert_out(&b, 0, 0, 0);
    assert_int_equal(vns_kernel_drops(b.f.k, VNS_SKB_DROP_REASON_BRIDGE_NO_EGRESS), 1);
    assert_int_equal(vns_br_port_stats(b.port[0])->rx_frames, 1);
    assert_int_equal(vns_br_port_stats(b.port[1])->rx_frames, 2);
    assert_int_equal(vns_br_port_stats(b.port[2])->tx_frames, 1);
    assert_int_equal(vns_br_port_stats(b.port[2])->flooded, 1);
    assert_int_equal(b.sink.count, 0);
    /* hairpin mode on port 1: now it goes back out */
    vns_br_port_set_flags(b.port[1], VNS_BR_HAIRPIN_MODE, true);
    br_rx(&b, 1, mac_b, mac_c);
    assert_out(&b, 0, 1, 0);
    brfix_fini(&b);
}

/* Broadcast and multicast flood to the other ports and go up the bridge
 * device; the bridge's MAC and a port's MAC are local: delivered up only. */
static void test_bridge_broadcast_multicast_local(void **state)
{
    struct brfix b;
    struct vns_br_fdb_info info;

    (void)state;
    brfix_init(&b);
    br_rx(&b, 2, mac_bcast, mac_c);
    assert_out(&b, 1, 1, 0);
    assert_int_equal(b.sink.count, 1);
    assert_ptr_equal(b.sink.last_dev, b.br);
    br_rx(&b, 0, mac_mcast, mac_a);
    assert_out(&b, 0, 1, 1);
    assert_int_equal(b.sink.count, 2);
    assert_int_equal(b.br->stats.multicast, 1);
    br_rx(&b, 0, b.br->dev_addr, mac_a);
    assert_out(&b, 0, 0, 0);
    assert_int_equal(b.sink.count, 3);
    br_rx(&b, 0, b.port[2]->dev_addr, mac_a);
    assert_out(&b, 0, 0, 0);
    assert_int_equal(b.sink.count, 4);
    assert_true(vns_br_fdb_get(b.br, b.port[2]->dev_addr, &info));
    assert_true(info.is_local && info.is_static);
    assert_int_equal(b.br->stats.rx_packets, 4);
    /* promiscuous bridge: unicast to others is also delivered up */
    vns_dev_set_promiscuity(b.br, 1);
    br_rx(&b, 0, mac_b, mac_a);
    assert_out(&b, 0, 1, 1);
    assert_int_equal(b.sink.count, 5);
    brfix_fini(&b);
}

/* Ingress checks: an invalid source MAC is dropped; pause frames are
 * dropped; the STP group is forwarded with STP off; other link-local
 * groups go up the port device (not bridged). */
static void test_bridge_ingress_checks(void **state)
{
    static const uint8_t stp[6] = {0x01, 0x80, 0xc2, 0, 0, 0x00};
    static const uint8_t pause[6] = {0x01, 0x80, 0xc2, 0, 0, 0x01};
    static const uint8_t lldp[6] = {0x01, 0x80, 0xc2, 0, 0, 0x0e};
    struct brfix b;

    (void)state;
    brfix_init(&b);
    br_rx(&b, 0, mac_b, mac_mcast);
    assert_out(&b, 0, 0, 0);
    assert_int_equal(vns_kernel_drops(b.f.k, VNS_SKB_DROP_REASON_MAC_INVALID_SOURCE), 1);
    br_rx(&b, 0, pause, mac_a);
    assert_out(&b, 0, 0, 0);
    assert_int_equal(vns_kernel_drops(b.f.k, VNS_SKB_DROP_REASON_BRIDGE_LINK_LOCAL), 1);
    br_rx(&b, 0, stp, mac_a);
    assert_out(&b, 0, 1, 1);
    br_rx(&b, 1, lldp, mac_b);
    assert_out(&b, 0, 0, 0);
    assert_int_equal(b.sink.count, 2);        /* STP group went up too (multicast) */
    assert_ptr_equal(b.sink.last_dev, b.port[1]);
    assert_true(vns_br_fdb_get(b.br, mac_b, NULL));   /* learned by local_finish */
    brfix_fini(&b);
}

/* Port flags and states: no BR_FLOOD / BR_BCAST_FLOOD ports are skipped;
 * a LEARNING port learns but does not forward; a BLOCKING port drops; a
 * port without BR_LEARNING teaches nothing. */
static void test_bridge_port_flags_and_states(void **state)
{
    struct brfix b;

    (void)state;
    brfix_init(&b);
    vns_br_port_set_flags(b.port[2], VNS_BR_FLOOD, false);
    br_rx(&b, 0, mac_b, mac_a);
    assert_out(&b, 0, 1, 0);
    vns_br_port_set_flags(b.port[1], VNS_BR_BCAST_FLOOD, false);
    br_rx(&b, 0, mac_bcast, mac_a);
    assert_out(&b, 0, 0, 1);
    vns_br_port_set_state(b.port[1], VNS_BR_STATE_LEARNING);
    br_rx(&b, 1, mac_a, mac_c);
    assert_out(&b, 0, 0, 0);
    assert_true(vns_br_fdb_get(b.br, mac_c, NULL));
    vns_br_port_set_state(b.port[1], VNS_BR_STATE_BLOCKING);
    br_rx(&b, 1, mac_a, mac_b);
    assert_out(&b, 0, 0, 0);
    assert_false(vns_br_fdb_get(b.br, mac_b, NULL));
    assert_int_equal(vns_kernel_drops(b.f.k, VNS_SKB_DROP_REASON_BRIDGE_PORT_STATE), 2);
    vns_br_port_set_state(b.port[1], VNS_BR_STATE_FORWARDING);
    vns_br_port_set_flags(b.port[1], VNS_BR_LEARNING, false);
    br_rx(&b, 1, mac_a, mac_b);
    assert_out(&b, 1, 0, 0);
    assert_false(vns_br_fdb_get(b.br, mac_b, NULL));
    /* ports of a bridge that is down are disabled */
    vns_dev_close(b.br);
    assert_int_equal(vns_br_port_state(b.port[0]), VNS_BR_STATE_DISABLED);
    br_rx(&b, 0, mac_b, mac_a);
    assert_out(&b, 0, 0, 0);
    vns_dev_open(b.br);
    assert_int_equal(vns_br_port_state(b.port[0]), VNS_BR_STATE_FORWARDING);
    /* a port device going down is disabled, and back */
    vns_dev_close(b.port[2]);
    assert_int_equal(vns_br_port_state(b.port[2]), VNS_BR_STATE_DISABLED);
    vns_dev_open(b.port[2]);
    assert_int_equal(vns_br_port_state(b.port[2]), VNS_BR_STATE_FORWARDING);
    brfix_fini(&b);
}

/* A station that moves is re-learned on its new port. Dynamic entries age
 * out after 300 s (the gc runs in virtual time); static and local ones
 * stay; an aged-out destination is flooded again. */
struct rxev {
    struct brfix *b;
    int in;
    const uint8_t *dst, *src;
};

static void rx_at(struct vns_sim *sim, void *arg)
{
    struct rxev *e = arg;

    (void)sim;
    br_rx(e->b, e->in, e->dst, e->src);
}

static void test_bridge_fdb_move_and_ageing(void **state)
{
    struct brfix b;
    struct vns_br_fdb_info info;
    struct rxev refresh;

    (void)state;
    brfix_init(&b);
    br_rx(&b, 0, mac_b, mac_a);
    br_rx(&b, 2, mac_b, mac_a);               /* A moved to port 2 */
    assert_true(vns_br_fdb_get(b.br, mac_a, &info));
    assert_ptr_equal(info.dst, b.port[2]);
    assert_int_equal(vns_br_fdb_add(b.br, b.port[1], mac_c, true), 0);
    assert_int_equal(vns_br_fdb_add(b.br, b.port[1], mac_c, true), -VNS_EEXIST);
    br_out(&b, (unsigned[3]){0});
    /* B is learned at 200 s, so it outlives A */
    refresh = (struct rxev){.b = &b, .in = 1, .dst = mac_a, .src = mac_b};
    vns_sim_call_at(b.f.sim, VNS_SEC(200), rx_at, &refresh, 0);
    vns_sim_run(b.f.sim, VNS_SEC(299));
    assert_true(vns_br_fdb_get(b.br, mac_a, NULL));
    vns_sim_run(b.f.sim, VNS_SEC(301));
    assert_false(vns_br_fdb_get(b.br, mac_a, NULL));
    assert_true(vns_br_fdb_get(b.br, mac_b, NULL));
    assert_true(vns_br_fdb_get(b.br, mac_c, NULL));                /* static */
    assert_true(vns_br_fdb_get(b.br, b.port[0]->dev_addr, NULL));  /* local */
    vns_sim_run(b.f.sim, VNS_SEC(501));
    assert_false(vns_br_fdb_get(b.br, mac_b, NULL));
    br_out(&b, (unsigned[3]){0});
    br_rx(&b, 1, mac_a, mac_b);               /* A unknown again: flooded */
    assert_out(&b, 1, 0, 1);
    /* ageing_time 0: the bridge learns nothing (a hub) */
    vns_br_set_ageing_time(b.br, 0);
    br_rx(&b, 0, mac_b, mac_a);
    assert_false(vns_br_fdb_get(b.br, mac_a, NULL));
    assert_int_equal(vns_br_fdb_count(b.br), 6);   /* br, 3 ports, C, B (just re-learned) */
    brfix_fini(&b);
}

/* Removing a port forgets its entries; a removed port gets nothing. */
static void test_bridge_del_if(void **state)
{
    struct brfix b;

    (void)state;
    brfix_init(&b);
    br_rx(&b, 2, mac_b, mac_c);
    br_out(&b, (unsigned[3]){0});
    assert_int_equal(vns_br_del_if(b.br, b.port[2]), 0);
    assert_false(vns_br_is_port(b.port[2]));
    assert_false(vns_br_fdb_get(b.br, mac_c, NULL));
    assert_false(vns_br_fdb_get(b.br, b.port[2]->dev_addr, NULL));
    assert_int_equal(b.port[2]->promiscuity, 0);
    br_rx(&b, 0, mac_b, mac_a);
    assert_out(&b, 0, 1, 0);
    assert_int_equal(vns_br_add_if(b.br, b.br), -VNS_ELOOP);
    assert_int_equal(vns_br_add_if(b.br, b.port[0]), -VNS_EBUSY);
    brfix_fini(&b);
}

/* The host sends through the bridge (br_dev_xmit): a known destination
 * goes to its port only, along the seed's "tun recv path"; unknown unicast
 * and broadcast flood to every port (local_orig). */
struct hostsend {
    struct brfix *b;
    const uint8_t *dst;
};

static int host_step(struct vns_ctx *ctx, void *arg)
{
    struct hostsend *h = arg;
    struct frame_spec s = frame_default(h->dst, h->b->br->dev_addr, 1000);
    struct vns_skb *skb;

    s.synthetic = true;
    skb = frame_build(h->b->f.k, &s);
    skb->dev = h->b->br;
    vns_fn_enter(ctx, VNS_FN_ip_finish_output2);
    vns_local_bh_disable(ctx);
    vns_dev_queue_xmit(ctx, skb);
    vns_local_bh_enable(ctx);
    vns_fn_exit(ctx);
    return VNS_STEP_DONE;
}

static void test_bridge_host_xmit_seed_stack(void **state)
{
    struct brfix b;
    struct hostsend h;
    char *stacks, *seed, *cut;
    size_t len;
    const char *tail = "[0] ip_finish_output2\n";

    (void)state;
    brfix_init(&b);
    br_rx(&b, 1, mac_a, mac_b);               /* learn B on port 1 */
    br_out(&b, (unsigned[3]){0});
    h = (struct hostsend){.b = &b, .dst = mac_b};
    vns_probe_add(b.f.sim, "tun_net_xmit");
    vns_ctx_start(netfix_ctx(&b.f, 0, VNS_CTX_USER, "app", host_step, &h), 0);
    vns_sim_run(b.f.sim, VNS_MSEC(1));
    assert_out(&b, 0, 1, 0);
    assert_int_equal(b.br->stats.tx_packets, 1);
    stacks = vns_test_stacks_string(b.f.sim, false);
    /* everything down to ip_finish_output2 is the seed's tun recv path */
    cut = strstr(stacks, tail);
    assert_non_null(cut);
    cut[strlen(tail)] = '\0';
    seed = vns_test_read_file(VNS_SOURCE_DIR "/tests/golden/kernel-stacks.txt", &len);
    assert_non_null(strstr(seed, "tun recv path\n\n"));
    assert_non_null(strstr(strstr(seed, "tun recv path\n\n"), stacks));
    assert_string_equal(stacks, "[0] tun_net_xmit\n[0] sch_direct_xmit\n[0] __qdisc_run\n[0] __dev_queue_xmit\n"
                                "[0] dev_queue_xmit\n[0] br_dev_queue_push_xmit\n[0] br_forward_finish\n"
                                "[0] __br_forward\n[0] br_forward\n[0] br_dev_xmit\n[0] dev_hard_start_xmit\n"
                                "[0] __dev_queue_xmit\n[0] dev_queue_xmit\n[0] ip_finish_output2\n");
    vns_free(seed);
    vns_free(stacks);
    /* unknown unicast and broadcast from the host reach every port */
    h.dst = mac_c;
    vns_ctx_start(netfix_ctx(&b.f, 0, VNS_CTX_USER, "app2", host_step, &h), VNS_MSEC(2));
    vns_sim_run(b.f.sim, VNS_MSEC(3));
    assert_out(&b, 1, 1, 1);
    h.dst = mac_bcast;
    vns_ctx_start(netfix_ctx(&b.f, 0, VNS_CTX_USER, "app3", host_step, &h), VNS_MSEC(4));
    vns_sim_run(b.f.sim, VNS_MSEC(5));
    assert_out(&b, 1, 1, 1);
    assert_int_equal(b.sink.count, 0);        /* the host's own frames do not loop back */
    brfix_fini(&b);
}

/* Model check: random stations on five ports (moving now and then) send
 * random unicast and broadcast frames; each frame must come out of exactly
 * the ports a reference learning switch (MAC -> last ingress port) names:
 * broadcast and unknown unicast to all but the ingress port, known unicast
 * to its port unless that is the ingress port. */
static void test_bridge_matches_reference_switch(void **state)
{
    enum { NPORTS = 5, NSTA = 12, NFRAMES = 3000 };
    struct netfix f;
    struct vns_net_device *br = NULL, *port[NPORTS];
    int where[NSTA], ref[NSTA];
    uint8_t mac[NSTA][6];
    struct vns_rng rng;

    (void)state;
    netfix_init(&f, 1, NULL);
    assert_int_equal(vns_br_add_bridge(f.k, "br0", &br), 0);
    for (int i = 0; i < NPORTS; i++) {
        char name[8];

        snprintf(name, sizeof(name), "p%d", i);
        port[i] = capdev_new(f.k, name, false);
        assert_int_equal(vns_br_add_if(br, port[i]), 0);
    }
    vns_dev_open(br);
    vns_rng_seed(&rng, 99, "bridge-model");
    for (int i = 0; i < NSTA; i++) {
        memcpy(mac[i], mac_a, 6);
        mac[i][5] = (uint8_t)(0x20 + i);
        where[i] = (int)vns_rng_below(&rng, NPORTS);
        ref[i] = -1;
    }
    for (int n = 0; n < NFRAMES; n++) {
        int src = (int)vns_rng_below(&rng, NSTA), dst = (int)vns_rng_below(&rng, NSTA + 1);
        int in, expect[NPORTS];
        struct frame_spec s;
        struct vns_skb *skb;

        if (vns_rng_below(&rng, 50) == 0)
            where[src] = (int)vns_rng_below(&rng, NPORTS);   /* the station moves */
        in = where[src];
        ref[src] = in;                 /* learning comes before the lookup */
        for (int p = 0; p < NPORTS; p++) {
            if (dst == NSTA || ref[dst] < 0)
                expect[p] = p != in;
            else
                expect[p] = p == ref[dst] && p != in;
        }
        s = frame_default(dst == NSTA ? mac_bcast : mac[dst], mac[src], 10);
        s.synthetic = true;
        skb = frame_build(f.k, &s);
        skb->protocol = vns_eth_type_trans(skb, port[in]);
        vns_netif_receive_skb(NULL, skb);
        for (int p = 0; p < NPORTS; p++) {
            struct capdev *c = capdev_of(port[p]);

            assert_int_equal(c->q.qlen, expect[p]);
            vns_skb_queue_purge_reason(&c->q, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
        }
    }
    netfix_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_bridge_flood_learn_forward, teardown),
        cmocka_unit_test_teardown(test_bridge_broadcast_multicast_local, teardown),
        cmocka_unit_test_teardown(test_bridge_ingress_checks, teardown),
        cmocka_unit_test_teardown(test_bridge_port_flags_and_states, teardown),
        cmocka_unit_test_teardown(test_bridge_fdb_move_and_ageing, teardown),
        cmocka_unit_test_teardown(test_bridge_del_if, teardown),
        cmocka_unit_test_teardown(test_bridge_host_xmit_seed_stack, teardown),
        cmocka_unit_test_teardown(test_bridge_matches_reference_switch, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
