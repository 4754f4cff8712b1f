/* tests/world/test_world.c -- building machines from a scenario. */
#include <string.h>

#include "support/vns_test.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/scenario.h"
#include "vnetsim/world.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

static struct vns_scenario *sc_of(const char *text)
{
    struct vns_scenario *sc = NULL;
    struct vns_diag d = {0};
    char buf[700];

    if (vns_scenario_parse(text, strlen(text), "w.yaml", NULL, 0, &sc, &d) < 0) {
        vns_diag_format(&d, buf, sizeof(buf));
        fail_msg("%s", buf);
    }
    return sc;
}

static const char host_only[] =
    "seed: 3\n"
    "costs: {do_IRQ: 321}\n"
    "probes: [net_rx_action]\n"
    "host:\n"
    "  cpus: 2\n"
    "  devices:\n"
    "    - {name: mv0, type: macvlan, lower: eth0, mode: bridge}\n"   /* before its lower: ordering */
    "    - {name: br0, type: bridge, ageing_time: 10s}\n"
    "    - {name: eth0, type: wire, peer: r1, rate: 1Gbit, delay: 20us}\n"
    "remotes:\n"
    "  - {name: r1, cpus: 1}\n";

/* Host, remote, wire, bridge and macvlan are built, in dependency order,
 * up, with the scenario's seed, costs and probes. */
static void test_world_builds_host_and_remote(void **state)
{
    struct vns_scenario *sc = sc_of(host_only);
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    const struct vns_machine *host, *r1;
    struct vns_net_device *eth0, *mv0, *reth0;
    uint32_t c, b;

    (void)state;
    assert_int_equal(vns_world_create(sc, &w, &d), 0);
    host = vns_world_machine(w, "host");
    r1 = vns_world_machine(w, "r1");
    assert_non_null(host);
    assert_non_null(r1);
    assert_null(vns_world_machine(w, "vm9"));
    assert_int_equal(host->ncpus, 2);
    assert_int_equal(r1->ncpus, 1);
    eth0 = vns_dev_get_by_name(host->kernel, "eth0");
    mv0 = vns_dev_get_by_name(host->kernel, "mv0");
    reth0 = vns_dev_get_by_name(r1->kernel, "eth0");
    assert_non_null(eth0);
    assert_non_null(mv0);
    assert_non_null(reth0);
    assert_non_null(vns_dev_get_by_name(host->kernel, "br0"));
    assert_true(vns_netif_running(eth0) && vns_netif_running(mv0) && vns_netif_running(reth0));
    assert_int_equal(vns_sim_seed(vns_world_sim(w)), 3);
    vns_cost_get(vns_sim_costs(vns_world_sim(w)), VNS_FN_do_IRQ, &c, &b);
    assert_int_equal(c, 321);
    assert_int_equal(vns_sim_run(vns_world_sim(w), VNS_MSEC(1)), 0);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* What is not built yet is reported, naming the scenario entry. */
static void test_world_reports_what_is_missing(void **state)
{
    static const char *const cases[][2] = {
        {"host: {devices: [{name: tap0, type: tap}]}\n", "w.yaml:1: error: host device 'tap0': tap and macvtap devices are not built yet"},
        {"host: {devices: [{name: tap0, type: tap}]}\nguests:\n  - {name: vm1, nic: {backend: tap0}}\n",
         "host device 'tap0'"},
        {"workloads: [{type: ping, from: host, to: r}]\nremotes: [{name: r}]\n",
         "w.yaml:1: error: workload ping: workloads need the sockets of issue 5"},
    };

    (void)state;
    for (size_t i = 0; i < VNS_ARRAY_SIZE(cases); i++) {
        struct vns_scenario *sc = sc_of(cases[i][0]);
        struct vns_world *w = NULL;
        struct vns_diag d = {0};
        char buf[700];

        assert_int_equal(vns_world_create(sc, &w, &d), -VNS_ENOSYS);
        assert_null(w);
        vns_diag_format(&d, buf, sizeof(buf));
        if (!strstr(buf, cases[i][1]))
            fail_msg("case %zu: got '%s', want '%s'", i, buf, cases[i][1]);
        vns_scenario_free(sc);
        assert_no_leaks();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_world_builds_host_and_remote, teardown),
        cmocka_unit_test_teardown(test_world_reports_what_is_missing, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
