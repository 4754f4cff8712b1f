/* tests/scenario/test_scenario.c -- scenario files: the examples parse;
 * every impossible configuration is an error at the right place. */
#include <string.h>

#include "support/vns_test.h"
#include "vnetsim/scenario.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* Every shipped example is valid. */
static void test_scenario_examples_parse(void **state)
{
    static const char *const files[] = {"tap-bridge.yaml", "macvtap.yaml", "shared-cpu.yaml", "host-remote.yaml"};

    (void)state;
    for (size_t i = 0; i < VNS_ARRAY_SIZE(files); i++) {
        char path[512];
        struct vns_scenario *sc = NULL;
        struct vns_diag d = {0};
        char buf[700];

        snprintf(path, sizeof(path), "%s/examples/scenarios/%s", VNS_SOURCE_DIR, files[i]);
        if (vns_scenario_load(path, NULL, 0, &sc, &d) != 0) {
            vns_diag_format(&d, buf, sizeof(buf));
            fail_msg("%s", buf);
        }
        vns_scenario_free(sc);
    }
}

/* The DESIGN.md example reads back as written; defaults fill the rest. */
static void test_scenario_values_and_defaults(void **state)
{
    struct vns_scenario *sc = NULL;
    struct vns_diag d = {0};
    const struct vns_sc_guest *g;

    (void)state;
    assert_int_equal(vns_scenario_load(VNS_SOURCE_DIR "/examples/scenarios/tap-bridge.yaml", NULL, 0, &sc, &d), 0);
    assert_string_equal(sc->profile, "linux-5.4");
    assert_int_equal(sc->seed, 42);
    assert_int_equal(sc->duration, VNS_SEC(6));
    assert_int_equal(sc->host_cpus, 4);
    assert_int_equal(sc->ndevices, 2);
    assert_int_equal(sc->devices[1].type, VNS_SC_DEV_TAP);
    assert_string_equal(sc->devices[1].master, "br0");
    assert_int_equal(sc->devices[0].addr.ip, 0x0a000001);
    assert_int_equal(sc->devices[0].addr.prefix, 24);
    g = &sc->guests[0];
    assert_int_equal(g->nvcpus, 1);
    assert_int_equal(g->vcpu_pin[0], 0);
    assert_int_equal(g->memory, 512ull << 20);
    assert_int_equal(g->nic.ring_size, 256);
    assert_int_equal(g->nic.vhost_pin, 2);
    assert_true(g->nic.features & (1u << VNS_SC_F_EVENT_IDX));
    assert_false(g->nic.features & (1u << VNS_SC_F_MQ));
    assert_int_equal(sc->workloads[0].type, VNS_SC_TCP_STREAM);
    assert_int_equal(sc->workloads[0].write_size, 65536);
    assert_int_equal(sc->nprobes, 4);
    vns_scenario_free(sc);
}

/* --set overrides any key before validation. */
static void test_scenario_set_overrides(void **state)
{
    const char *sets[] = {"guests[0].nic.ring_size=1024", "seed=9", "guests[0].nic.vhost.pin=1",
                          "workloads[0].write_size=1472"};
    struct vns_scenario *sc = NULL;
    struct vns_diag d = {0};
    char buf[700];

    (void)state;
    assert_int_equal(vns_scenario_load(VNS_SOURCE_DIR "/examples/scenarios/tap-bridge.yaml", sets, 4, &sc, &d), 0);
    assert_int_equal(sc->guests[0].nic.ring_size, 1024);
    assert_int_equal(sc->seed, 9);
    assert_int_equal(sc->guests[0].nic.vhost_pin, 1);
    assert_int_equal(sc->workloads[0].write_size, 1472);
    vns_scenario_free(sc);
    sets[0] = "guests[0].nic.ring_size=100";
    assert_int_equal(vns_scenario_load(VNS_SOURCE_DIR "/examples/scenarios/tap-bridge.yaml", sets, 1, &sc, &d),
                     -VNS_EINVAL);
    vns_diag_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, "--set: error: guests[0].nic.ring_size: a split ring's size must be a power of "
                             "two (1 to 32768), got 100");
}

static const char base[] =
    "host:\n"
    "  cpus: 2\n"
    "  devices:\n"
    "    - {name: br0, type: bridge}\n"
    "    - {name: tap0, type: tap, master: br0}\n"
    "    - {name: tap1, type: tap, master: br0}\n"
    "guests:\n"
    "  - {name: vm1, nic: {backend: tap0}}\n";

struct bad {
    const char *yaml;      /* appended to base, or standalone if it starts with '!' */
    const char *want;      /* substring of the formatted error */
};

/* Impossible configurations: each is an error naming file:line:col, the
 * key path and the expected form. */
static void test_scenario_errors(void **state)
{
    static const struct bad cases[] = {
        {"!sed: 1\n", "t.yaml:1:1: error: sed: unknown key; did you mean 'seed'?"},
        {"!duration: 10parsecs\n", "t.yaml:1:11: error: duration: expected a time"},
        {"!profile: linux-2.6\n", "no kernel profile 'linux-2.6'"},
        {"!costs: {no_such: 10}\n", "costs.no_such: no modelled function"},
        {"!costs: {do_IRQ: fast}\n", "costs.do_IRQ: expected a cost"},
        {"!guests:\n  - {name: vm1, nic: {backend: tap9}}\n", "t.yaml:2:32: error: guests[0].nic.backend: no device 'tap9'"},
        {"!host: {devices: [{name: a, type: bridge}, {name: a, type: tap}]}\n", "two devices are called 'a'"},
        {"!host: {devices: [{name: t, type: tap, master: x}]}\n", "host.devices[0].master: no device 'x'"},
        {"!host: {devices: [{name: t, type: tap}, {name: u, type: tap, master: t}]}\n", "'t' is a tap, not a bridge"},
        {"!host: {devices: [{name: m, type: macvtap}]}\n", "host.devices[0].lower: required for a macvtap"},
        {"!host: {devices: [{name: w, type: wire}]}\n", "host.devices[0].peer: required for a wire"},
        {"!host: {devices: [{name: w, type: wire, peer: nope}]}\n", "no remote host 'nope'"},
        {"!host: {devices: [{name: w, type: nic}]}\n", "expected one of bridge, tap, macvlan, macvtap, wire, got 'nic'"},
        {"!host: {devices: [{name: w, type: wire, peer: r, loss: 2}]}\nremotes: [{name: r}]\n", "loss: expected a probability"},
        {"guests[0]: 1\n", "t.yaml:9:1: error: guests[0]: unknown key; did you mean 'guests'?"},
        {"workloads: [\n", "YAML syntax"},
        {"workloads: [{type: tcp_stream, from: vm1, to: vm2}]\n", "workloads[0].to: no endpoint 'vm2'"},
        {"workloads: [{type: tcp_stream, from: vm1, to: vm1}]\n", "two different endpoints"},
        {"workloads: [{type: tcp_sprint, from: vm1, to: host}]\n", "expected one of tcp_stream"},
        {"workloads: [{from: vm1, to: host}]\n", "workloads[0].type: required key is missing"},
        {"workloads: [{type: ping, from: vm1, to: host, start: 5s}]\n", "starts after the end of the run"},
        {"workloads: [{type: tcp_rr, from: vm1, to: host, to_cpu: 2}]\n",
         "workloads[0].to_cpu: 'host' has CPUs 0 to 1, not 2"},
        {"workloads: [{type: tcp_rr, from: vm1, to: host, from_cpu: 1}]\n",
         "workloads[0].from_cpu: 'vm1' has CPUs 0 to 0, not 1"},
        {"probes: [start_xmit, nope]\n", "probes[1]: no modelled function 'nope'"},
        {"probes: [vmexit]\n", "probes[0]: no modelled function 'vmexit'"},
        {"outputs: {stackz: a}\n", "outputs.stackz: unknown key; did you mean 'stacks'?"},
    };
    static const struct bad guest_cases[] = {
        {"  - {name: vm2, nic: {backend: tap0}}\n", "'tap0' is already the backend of guest 'vm1'"},
        {"  - {name: vm1, nic: {backend: br0}}\n", "'vm1' is already the name"},
        {"  - {name: vm2, nic: {backend: br0}}\n", "'br0' is a bridge; a NIC backend is a tap or a macvtap"},
        {"  - {name: vm2}\n", "guests[1].nic: required key is missing"},
        {"  - {name: vm2, vcpus: [{pin: 5}], nic: {backend: tap1}}\n", "guests[1].vcpus[0].pin: expected an integer from 0 to 1"},
        {"  - {name: vm2, vcpus: 1, nic: {backend: tap1, queues: 2}}\n", "2 queue pairs for 1 vCPUs"},
        {"  - {name: vm2, memory: 1KiB, nic: {backend: tap1}}\n", "memory: expected 16MiB to 1TiB"},
        {"  - {name: vm2, addr: 10.0.0.300/24, nic: {backend: tap1}}\n", "expected an IPv4 address"},
        {"  - {name: 'vm 2', nic: {backend: tap1}}\n", "'vm 2' is not a name"},
        {"  - {name: vm2, nic: {backend: tap1, features: [csum, turbo]}}\n", "guests[1].nic.features[1]: unknown feature 'turbo'"},
        {"  - {name: vm2, nic: {backend: tap1, ring: packed, ring_size: 100, vhost: {pin: 9}}}\n", "vhost.pin: expected an integer from 0 to 1"},
    };
    char text[2048], buf[700];

    (void)state;
    for (size_t i = 0; i < VNS_ARRAY_SIZE(cases) + VNS_ARRAY_SIZE(guest_cases); i++) {
        const struct bad *c = i < VNS_ARRAY_SIZE(cases) ? &cases[i] : &guest_cases[i - VNS_ARRAY_SIZE(cases)];
        struct vns_scenario *sc = NULL;
        struct vns_diag d = {0};

        if (c->yaml[0] == '!')
            snprintf(text, sizeof(text), "%s", c->yaml + 1);
        else
            snprintf(text, sizeof(text), "%s%s", base, c->yaml);
        assert_true(vns_scenario_parse(text, strlen(text), "t.yaml", NULL, 0, &sc, &d) < 0);
        assert_null(sc);
        vns_diag_format(&d, buf, sizeof(buf));
        if (!strstr(buf, c->want))
            fail_msg("case %zu: got '%s', want '%s'", i, buf, c->want);
        assert_no_leaks();
    }
}

/* The printed topology names every device, guest, workload and override. */
static void test_scenario_print(void **state)
{
    const char *sets[] = {"costs={do_IRQ: 200, copy_to_iter: 20/50}", "cpu_mhz=3000",
                          "workloads[1]={type: udp_stream, from: host, to: vmA, flows: 4, duration: 10ms}"};
    struct vns_scenario *sc = NULL;
    struct vns_diag d = {0};
    char *text;
    FILE *f = tmpfile();
    long n;

    (void)state;
    assert_int_equal(vns_scenario_load(VNS_SOURCE_DIR "/examples/scenarios/macvtap.yaml", sets, 3, &sc, &d), 0);
    vns_scenario_print(sc, f);
    n = ftell(f);
    rewind(f);
    text = vns_malloc((size_t)n + 1);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "profile linux-5.4, seed 7, duration 40.000ms, payload synthetic, cpu 3000 MHz"));
    assert_non_null(strstr(text, "eth0         wire     peer peer1 rate 10000000000 bit/s delay 5.000us"));
    assert_non_null(strstr(text, "macvtap0     macvtap  lower eth0 mode bridge"));
    assert_non_null(strstr(text, "remote peer1: 2 CPUs 192.168.1.100/24"));
    assert_non_null(strstr(text, "nic: backend macvtap1, split ring of 256, 1 queue pair, vhost on host CPU 3"));
    assert_non_null(strstr(text, "workload udp_stream: host -> vmA from 0ns for 10.000ms, 1472-byte write unpaced, 4 flows"));
    assert_non_null(strstr(text, "cost do_IRQ = 200 ns\n"));
    assert_non_null(strstr(text, "cost copy_to_iter = 20 ns + ps/byte"));
    assert_int_equal(sc->costs[1].byte_ps, 50);
    vns_free(text);
    vns_scenario_free(sc);
}

/* An empty file is the default scenario description. */
static void test_scenario_empty_defaults(void **state)
{
    struct vns_scenario *sc = NULL;
    struct vns_diag d = {0};

    (void)state;
    assert_int_equal(vns_scenario_parse("", 0, "e.yaml", NULL, 0, &sc, &d), 0);
    assert_string_equal(sc->profile, "linux-5.4");
    assert_int_equal(sc->host_cpus, 4);
    assert_int_equal(sc->nguests, 0);
    vns_scenario_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_scenario_examples_parse, teardown),
        cmocka_unit_test_teardown(test_scenario_values_and_defaults, teardown),
        cmocka_unit_test_teardown(test_scenario_set_overrides, teardown),
        cmocka_unit_test_teardown(test_scenario_errors, teardown),
        cmocka_unit_test_teardown(test_scenario_empty_defaults, teardown),
        cmocka_unit_test_teardown(test_scenario_print, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
