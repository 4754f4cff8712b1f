/* tests/dev/test_dev_alloc.c -- allocation-failure sweeps (SQLite's
 * fault.c, the kernel's goto-unwind discipline): building a kernel with a
 * bridge, macvlans and a wire fails cleanly at every allocation, and
 * flooding through a bridge while skb pools cannot grow drops without
 * leaking. */
#include "net/net_fixture.h"
#include "vnetsim/bridge.h"
#include "vnetsim/macvlan.h"
#include "vnetsim/wire.h"

static int teardown(void **state)
{
    (void)state;
    vns_alloc_fail_at(0);
    assert_no_leaks();
    return 0;
}

struct world {
    struct vns_sim *sim;
    struct vns_cpu *cpu;
    struct vns_kernel *k[2];
    struct vns_net_device *br, *p0, *p1, *mv0, *mv1;
    struct vns_wire *w;
};

static struct vns_net_device *dev_or_null(struct vns_kernel *k, const char *name)
{
    struct vns_net_device *d = NULL;

    if (vns_alloc_netdev(k, name, &capdev_ops, &d))
        return NULL;
    vns_skb_queue_head_init(&capdev_of(d)->q);
    if (vns_register_netdev(d)) {
        vns_free_netdev(d);
        return NULL;
    }
    return d;
}

/* Build as far as allocations allow; 0 if everything was built. */
static int world_build(struct world *w)
{
    memset(w, 0, sizeof(*w));
    if (vns_sim_create(&(struct vns_sim_config){.seed = 1}, &w->sim))
        return -1;
    if (vns_cpu_create(w->sim, &(struct vns_cpu_config){.name = "cpu0"}, &w->cpu))
        return -1;
    for (int i = 0; i < 2; i++)
        if (vns_kernel_create(w->sim, &(struct vns_kernel_config){.name = i ? "b" : "a", .cpus = &w->cpu,
                                                                  .ncpus = 1},
                              &w->k[i]))
            return -1;
    if (vns_br_add_bridge(w->k[0], "br0", &w->br))
        return -1;
    if (!(w->p0 = dev_or_null(w->k[0], "p0")) || vns_br_add_if(w->br, w->p0))
        return -1;
    if (!(w->p1 = dev_or_null(w->k[0], "p1")) || vns_br_add_if(w->br, w->p1))
        return -1;
    if (vns_dev_open(w->br) || vns_dev_open(w->p0) || vns_dev_open(w->p1))
        return -1;
    if (!(w->p1 = dev_or_null(w->k[1], "low")))
        return -1;
    if (vns_macvlan_create(w->p1, "mv0", &(struct vns_macvlan_config){.mode = VNS_MACVLAN_MODE_BRIDGE}, &w->mv0))
        return -1;
    if (vns_macvlan_create(w->p1, "mv1", &(struct vns_macvlan_config){.mode = VNS_MACVLAN_MODE_VEPA}, &w->mv1))
        return -1;
    if (vns_wire_create(w->sim, &(struct vns_wire_config){.name = "w"}, &(struct vns_wire_end){.k = w->k[0]},
                        &(struct vns_wire_end){.k = w->k[1]}, &w->w))
        return -1;
    return 0;
}

static void world_destroy(struct world *w)
{
    vns_wire_destroy(w->w);
    for (int i = 0; i < 2; i++)
        vns_kernel_destroy(w->k[i]);
    vns_sim_destroy(w->sim);
}

static void test_dev_alloc_failure_sweep_build(void **state)
{
    struct world w;
    long n;

    (void)state;
    for (n = 1; n < 1000; n++) {
        long before = vns_alloc_count();
        int rc;

        vns_alloc_fail_at(n);
        rc = world_build(&w);
        vns_alloc_fail_at(0);
        world_destroy(&w);
        assert_int_equal(vns_alloc_live(), 0);
        if (rc == 0 && vns_alloc_count() - before < n)
            break;   /* built with fewer than n allocations: all points covered */
    }
    assert_true(n > 20);
    assert_true(n < 1000);
}

/* Floods while clones and new skbs cannot be allocated: everything that
 * fails is dropped and counted, nothing leaks. */
static void test_dev_alloc_failure_during_flood(void **state)
{
    struct brfix {
        struct netfix f;
        struct vns_net_device *br, *port[3];
    } b;

    (void)state;
    netfix_init(&b.f, 1, NULL);
    assert_int_equal(vns_br_add_bridge(b.f.k, "br0", &b.br), 0);
    for (int i = 0; i < 3; i++) {
        char name[8];

        snprintf(name, sizeof(name), "p%d", i);
        b.port[i] = capdev_new(b.f.k, name, false);
        vns_br_add_if(b.br, b.port[i]);
    }
    vns_dev_open(b.br);
    for (long n = 1; n < 40; n++) {
        struct frame_spec s = frame_default(mac_bcast, mac_a, 100);
        struct vns_skb *skb = frame_build(b.f.k, &s);

        skb->protocol = vns_eth_type_trans(skb, b.port[0]);
        vns_alloc_fail_at(n % 3 + 1);
        vns_netif_receive_skb(NULL, skb);
        vns_alloc_fail_at(0);
        for (int i = 0; i < 3; i++)
            vns_skb_queue_purge_reason(&capdev_of(b.port[i])->q, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
        assert_int_equal(vns_kernel_stats(b.f.k)->skb_live, 0);
    }
    netfix_fini(&b.f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_dev_alloc_failure_sweep_build, teardown),
        cmocka_unit_test_teardown(test_dev_alloc_failure_during_flood, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
