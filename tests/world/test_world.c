/* tests/world/test_world.c -- building machines from a scenario. */
#define _DEFAULT_SOURCE 1   /* libpcap's BSD types */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "support/vns_test.h"
#include "net/net_fixture.h"
#include "vnetsim/inet.h"
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

/* What cannot be built is reported, naming the scenario entry. */
static void test_world_reports_what_is_missing(void **state)
{
    static const char *const cases[][2] = {
        {"host: {devices: [{name: eth0, type: wire, peer: r, addr: 10.0.0.1/24}]}\n"
         "workloads: [{type: ping, from: host, to: r}]\nremotes: [{name: r}]\n",
         "w.yaml:2: error: workload ping: 'r' has no IPv4 address (addr:)"},
        {"workloads: [{type: tcp_stream, from: host, to: r}]\nremotes: [{name: r}]\n",
         "workload tcp_stream: 'r' has no IPv4 address (addr:)"},
    };

    (void)state;
    for (size_t i = 0; i < VNS_ARRAY_SIZE(cases); i++) {
        struct vns_scenario *sc = sc_of(cases[i][0]);
        struct vns_world *w = NULL;
        struct vns_diag d = {0};
        char buf[700];

        assert_true(vns_world_create(sc, &w, &d) < 0);
        assert_null(w);
        vns_diag_format(&d, buf, sizeof(buf));
        if (!strstr(buf, cases[i][1]))
            fail_msg("case %zu: got '%s', want '%s'", i, buf, cases[i][1]);
        vns_scenario_free(sc);
        assert_no_leaks();
    }
}

/* The stats JSON of @w, with @extra merged in. */
static json_t *stats_of(const struct vns_world *w, const char *extra)
{
    FILE *f = tmpfile();
    json_t *root;
    json_error_t e;

    assert_int_equal(vns_world_write_stats_json(w, f, extra), 0);
    rewind(f);
    root = json_loadf(f, 0, &e);
    fclose(f);
    assert_non_null(root);
    return root;
}

/* The stats JSON counts the frame on both ends and on the wire. */
static void check_stats_json(const struct vns_world *w)
{
    json_t *root = stats_of(w, "{\"wall_seconds\": 0.5}"), *m;

    assert_true(json_real_value(json_object_get(root, "wall_seconds")) == 0.5);
    assert_int_equal(json_integer_value(json_object_get(root, "seed")), 3);
    m = json_array_get(json_object_get(root, "machines"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "name")), "host");
    assert_int_equal(json_array_size(json_object_get(m, "cpus")), 2);
    for (size_t i = 0; i < json_array_size(json_object_get(m, "devices")); i++) {
        json_t *dev = json_array_get(json_object_get(m, "devices"), i);

        if (!strcmp(json_string_value(json_object_get(dev, "name")), "eth0"))
            assert_int_equal(json_integer_value(json_object_get(dev, "tx_packets")), 1);
    }
    m = json_array_get(json_object_get(root, "wires"), 0);
    assert_int_equal(json_integer_value(json_object_get(m, "frames")), 1);
    assert_int_equal(json_integer_value(json_object_get(m, "delivered")), 1);
    json_decref(root);
}

/* Every device of every machine is captured to DIR/<machine>-<dev>.pcap
 * with nanosecond timestamps; a frame sent on the host's end of a wire
 * shows on both ends, all bytes present (synthetic payload regenerated). */
static void test_world_pcap_both_ends_of_a_wire(void **state)
{
    struct vns_scenario *sc = sc_of(host_only);
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    const struct vns_machine *host;
    struct vns_net_device *eth0;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, src[6] = {2, 0, 0, 0, 0, 1};
    struct frame_spec fs;
    struct vns_skb *skb;
    char dir[512], path[600], err[PCAP_ERRBUF_SIZE];
    pcap_t *p;
    struct pcap_pkthdr *h;
    const u_char *data;

    (void)state;
    snprintf(dir, sizeof(dir), "%s", VNS_BINARY_DIR);
    assert_int_equal(vns_world_create(sc, &w, &d), 0);
    assert_int_equal(vns_world_pcap_start(w, dir, &d), 0);
    host = vns_world_machine(w, "host");
    eth0 = vns_dev_get_by_name(host->kernel, "eth0");
    fs = frame_default(bcast, src, 1000);
    fs.synthetic = true;
    skb = frame_build(host->kernel, &fs);
    skb->dev = eth0;
    vns_dev_queue_xmit(NULL, skb);
    vns_sim_run(vns_world_sim(w), VNS_MSEC(1));
    assert_int_equal(vns_world_pcap_frames(w, "host", "eth0"), 1);
    assert_int_equal(vns_world_pcap_frames(w, "r1", "eth0"), 1);
    assert_int_equal(vns_world_pcap_frames(w, "host", "br0"), 0);
    assert_int_equal(vns_world_pcap_stop(w, true), 0);
    check_stats_json(w);
    snprintf(path, sizeof(path), "%s/r1-eth0.pcap", dir);
    p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    assert_non_null(p);
    assert_int_equal(pcap_datalink(p), DLT_EN10MB);
    assert_int_equal(pcap_next_ex(p, &h, &data), 1);
    assert_int_equal(h->len, 14 + 20 + 20 + 1000);
    assert_int_equal(h->caplen, h->len);
    assert_memory_equal(data, bcast, 6);
    assert_true(h->ts.tv_sec == 0 && h->ts.tv_usec > 0 && h->ts.tv_usec < 1000000);   /* ns */
    assert_int_equal(pcap_next_ex(p, &h, &data), -2);
    pcap_close(p);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* A capture into a folder that does not exist fails cleanly. */
static void test_world_pcap_bad_dir(void **state)
{
    struct vns_scenario *sc = sc_of(host_only);
    struct vns_world *w = NULL;
    struct vns_diag d = {0};

    (void)state;
    assert_int_equal(vns_world_create(sc, &w, &d), 0);
    assert_int_equal(vns_world_pcap_start(w, "/nonexistent/dir", &d), -VNS_EIO);
    assert_non_null(strstr(d.file, "/nonexistent/dir/host-"));
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* The largest value of column @col of a series CSV. */
static double series_max(const char *csv, const char *col)
{
    const char *hdr_end = strchr(csv, '\n'), *p = csv;
    int idx = 0, k;
    double max = -1;

    while (p < hdr_end && strncmp(p, col, strlen(col)) != 0) {
        p = strchr(p, ',') + 1;
        idx++;
        if (p == (const char *)1 || p > hdr_end)
            fail_msg("no column %s", col);
    }
    for (p = hdr_end + 1; *p; p = strchr(p, '\n') + 1) {
        const char *f = p;

        for (k = 0; k < idx; k++)
            f = strchr(f, ',') + 1;
        max = VNS_MAX(max, strtod(f, NULL));
        if (!strchr(p, '\n'))
            break;
    }
    return max;
}

/* --series: the stream's cwnd grows, the TX ring holds packets in flight,
 * the tap's qdisc and the workload's rate are sampled. */
static void check_series(const struct vns_world *w)
{
    FILE *f = tmpfile();
    char csv[65536];
    size_t n;

    assert_int_equal(vns_series_write_csv(vns_world_sim(w), f), 0);
    rewind(f);
    n = fread(csv, 1, sizeof(csv) - 1, f);
    csv[n] = '\0';
    fclose(f);
    assert_true(series_max(csv, "wl0.tcp_stream.flow0.cwnd") > 10);
    assert_true(series_max(csv, "wl0.tcp_stream.rx_bps") > 1e9);
    assert_true(series_max(csv, "wl2.tcp_rr.packets_per_s") > 1000);
    assert_true(series_max(csv, "vm1/eth0.txq0.ring") >= 1);
    assert_true(series_max(csv, "vm1/eth0.rxq0.ring") > 100);
    assert_true(series_max(csv, "host/tap0.qdisc_backlog") >= 0);
}

/* A guest on a tap on the host's bridge, a TCP stream each way: every
 * byte verified by the receiving stack, the vCPU's VM exits counted. */
static void test_world_guest_tcp_both_ways(void **state)
{
    static const char text[] =
        "duration: 30ms\n"
        "host:\n"
        "  cpus: 3\n"
        "  devices:\n"
        "    - {name: br0, type: bridge, addr: 10.0.0.1/24}\n"
        "    - {name: tap0, type: tap, master: br0}\n"
        "guests:\n"
        "  - {name: vm1, vcpus: [{pin: 0}], addr: 10.0.0.2/24, nic: {backend: tap0, vhost: {pin: 1}}}\n"
        "workloads:\n"
        "  - {type: tcp_stream, from: vm1, to: host, duration: 10ms}\n"
        "  - {type: tcp_stream, from: host, to: vm1, start: 10ms, duration: 10ms}\n"
        "  - {type: tcp_rr, from: vm1, to: host, start: 20ms}\n";
    struct vns_scenario *sc = sc_of(text);
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    struct vns_workload_result r[3];
    const struct vns_machine *vm;

    (void)state;
    assert_int_equal(vns_world_create(sc, &w, &d), 0);
    assert_int_equal(vns_world_series_start(w, VNS_USEC(500)), 0);
    assert_int_equal(vns_sim_run(vns_world_sim(w), sc->duration), 0);
    check_series(w);
    assert_int_equal(vns_world_nworkloads(w), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(vns_world_workload(w, (size_t)i, &r[i]), 0);
        assert_int_equal(r[i].error, 0);
        assert_true(r[i].bytes > 0);
        assert_int_equal(r[i].mismatches, 0);
    }
    assert_true(r[0].bytes > 1000000 && r[1].bytes > 1000000);
    assert_true(r[0].throughput_bps > 1e9);
    assert_true(r[2].transactions > 10);
    assert_true(r[2].latency_p50 > VNS_USEC(5) && r[2].latency_p50 < VNS_MSEC(1));
    vm = vns_world_machine(w, "vm1");
    assert_non_null(vm->nic);
    assert_true(vns_cpu_stats(vm->cpus[0])->vmexits > 0);
    assert_true(vns_cpu_stats(vm->cpus[0])->irqs > 0);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* Build and run @text to its end. */
static struct vns_world *run_text(const char *text, struct vns_scenario **sc)
{
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    char buf[700];

    *sc = sc_of(text);
    if (vns_world_create(*sc, &w, &d) < 0) {
        vns_diag_format(&d, buf, sizeof(buf));
        fail_msg("%s", buf);
    }
    assert_int_equal(vns_sim_run(vns_world_sim(w), (*sc)->duration), 0);
    return w;
}

static struct vns_workload_result result_of(const struct vns_world *w, size_t i)
{
    struct vns_workload_result r;

    assert_int_equal(vns_world_workload(w, i, &r), 0);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.mismatches, 0);
    return r;
}

/* The printed summary holds each of @want. */
static void check_summary(const struct vns_world *w, const char *const *want)
{
    FILE *f = tmpfile();
    char text[8192];
    size_t n;

    vns_world_print_summary(w, f);
    rewind(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    for (; *want; want++)
        if (!strstr(text, *want))
            fail_msg("'%s' not in the summary:\n%s", *want, text);
}

#define GUEST_ON_TAP_REST                                                                          \
    "guests:\n"                                                                                    \
    "  - {name: vm1, vcpus: [{pin: 0}], addr: 10.0.0.2/24, nic: {backend: tap0, vhost: {pin: 1}}}\n"
#define GUEST_ON_TAP                                                                               \
    "host:\n"                                                                                      \
    "  cpus: 3\n"                                                                                  \
    "  devices:\n"                                                                                 \
    "    - {name: br0, type: bridge, addr: 10.0.0.1/24}\n"                                        \
    "    - {name: tap0, type: tap, master: br0}\n" GUEST_ON_TAP_REST

/* The stats JSON of test_world_udp_stream_rate: the run's facts under
 * "sim" (wall_seconds merged in from the caller), the workload's figures,
 * and the guest NIC's TX virtqueue as the driver and vhost-net saw it. */
static void check_rate_json(const struct vns_world *w)
{
    json_t *root = stats_of(w, "{\"sim\": {\"wall_seconds\": 0.25}}"), *sim, *wl, *vm, *tx;

    sim = json_object_get(root, "sim");
    assert_true(json_real_value(json_object_get(sim, "wall_seconds")) == 0.25);
    assert_true(json_real_value(json_object_get(sim, "simulated_seconds")) == 0.015);
    assert_int_equal(json_integer_value(json_object_get(sim, "events")), vns_sim_events_run(vns_world_sim(w)));
    assert_string_equal(json_string_value(json_object_get(sim, "fingerprint")),
                        json_string_value(json_object_get(root, "fingerprint")));
    wl = json_array_get(json_object_get(root, "workloads"), 0);
    assert_int_equal(json_integer_value(json_object_get(wl, "packets_sent")), 425);
    assert_int_equal(json_integer_value(json_object_get(wl, "lost")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "per_packet"), "packets")), 425);
    /* the window: 1 ms to 11 ms; 426 kicks (one per datagram and the ARP
     * request), every CPU's time in it */
    {
        json_t *c = json_object_get(wl, "costs");

        assert_int_equal(json_integer_value(json_object_get(c, "from_ns")), VNS_MSEC(1));
        assert_int_equal(json_integer_value(json_object_get(c, "to_ns")), VNS_MSEC(11));
        assert_int_equal(json_integer_value(json_object_get(c, "kicks")), 426);
        assert_true(json_real_value(json_object_get(json_object_get(c, "cpu_ns_per_packet"), "vm1/cpu0")) > 1000);
        assert_int_equal(json_object_size(json_object_get(c, "drops")), 0);
    }
    vm = json_array_get(json_object_get(root, "machines"), 1);
    assert_string_equal(json_string_value(json_object_get(vm, "name")), "vm1");
    assert_true(json_real_value(json_object_get(json_array_get(json_object_get(vm, "cpus"), 0), "ns_per_packet")) >
                1000);
    tx = json_object_get(json_array_get(json_object_get(json_object_get(vm, "virtio_net"), "queues"), 0), "tx");
    assert_int_equal(json_integer_value(json_object_get(tx, "packets")), 426);   /* + the ARP request */
    assert_int_equal(json_integer_value(json_object_get(tx, "avail")), 426);
    assert_int_equal(json_integer_value(json_object_get(tx, "used")), 426);
    assert_int_equal(json_integer_value(json_object_get(tx, "kicks")), 426);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(tx, "vhost"), "packets")), 426);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(vm, "inet"), "udp_out_datagrams")), 425);
    json_decref(root);
}

/* UDP_STREAM paced at 500 Mbit/s for 10 ms: a 1472-byte datagram every
 * 23552 ns exactly, 425 of them, all delivered; the receiver measures the
 * rate (424 intervals between first and last) within 1%. */
static void test_world_udp_stream_rate(void **state)
{
    struct vns_scenario *sc;
    struct vns_world *w = run_text("duration: 15ms\n" GUEST_ON_TAP
                                   "workloads:\n"
                                   "  - {type: udp_stream, from: vm1, to: host, rate: 500Mbit, start: 1ms, "
                                   "duration: 10ms}\n",
                                   &sc);
    struct vns_workload_result r = result_of(w, 0);

    (void)state;
    assert_string_equal(r.type, "udp_stream");
    assert_int_equal(r.packets_sent, 425);
    assert_int_equal(r.packets, 425);
    assert_int_equal(r.lost, 0);
    assert_int_equal(r.bytes, 425 * 1472);
    assert_int_equal(r.sent_bytes, 425 * 1472);
    assert_true(r.throughput_bps > 0.99 * 500e6 * 425 / 424 && r.throughput_bps < 1.01 * 500e6 * 425 / 424);
    assert_true(r.packets_per_s > 0.99 * 1e9 / 23552 && r.packets_per_s < 1.01 * 1e9 / 23552 * 425 / 424);
    assert_int_equal(r.verified, 425 * 1472);
    check_summary(w, (const char *const[]){"0   udp_stream vm1 -> host                1 501.592 Mbit/s", "       425       425",
                                           "0   1.000ms-11.000ms           1.002",
                                           "0 (0.00%)", "ns/packet", "425 packets received by the workloads",
                                           "vm1 virtio-net (1 queue pair): tx 426 packets, 1.000 kicks/packet", NULL});
    check_rate_json(w);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

static const char lossy_wire[] =
    "duration: 12ms\n"
    "seed: 5\n"
    "host: {devices: [{name: eth0, type: wire, peer: r1, addr: 10.0.0.1/24, rate: 10Gbit, delay: 10us, "
    "loss: 0.02}]}\n"
    "remotes: [{name: r1, addr: 10.0.0.2/24}]\n"
    "workloads:\n"
    "  - {type: udp_stream, from: host, to: r1, rate: 2Gbit, duration: 10ms}\n";

/* The frames the wire lost from the host's end (stats JSON). */
static uint64_t wire_lost_from(const struct vns_world *w, const char *dev)
{
    json_t *root = stats_of(w, NULL), *wires;
    uint64_t lost = 0;

    wires = json_object_get(root, "wires");
    for (size_t i = 0; i < json_array_size(wires); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(wires, i), "from")), dev))
            lost += (uint64_t)json_integer_value(json_object_get(json_array_get(wires, i), "lost"));
    json_decref(root);
    return lost;
}

/* Over a wire losing 2% of frames the receiver counts what the sender
 * sent less exactly what the wire lost. */
static void test_world_udp_stream_lossy_wire(void **state)
{
    struct vns_scenario *sc;
    struct vns_world *w = run_text(lossy_wire, &sc);
    struct vns_workload_result r = result_of(w, 0);
    uint64_t lost = wire_lost_from(w, "eth0");

    (void)state;
    /* 2 Gbit/s of 1472-byte datagrams for 10 ms: 1699 (5888 ns apart) */
    assert_int_equal(r.packets_sent, 1699);
    assert_true(lost > 1699 / 100 && lost < 1699 * 4 / 100);
    assert_int_equal(r.lost, lost);
    assert_int_equal(r.packets, r.packets_sent - lost);
    assert_int_equal(r.bytes, r.packets * 1472);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* A UDP_STREAM sender at full speed into a 100 Mbit/s wire is throttled
 * by its send buffer (the workload sleeps on the send and is woken by
 * sock_wfree): no qdisc drop, no SndbufErrors, and it sends about what
 * the wire carries plus a send buffer's worth, not thousands. */
static void test_world_udp_stream_sndbuf_throttles(void **state)
{
    struct vns_scenario *sc;
    struct vns_world *w =
        run_text("duration: 6ms\n"
                 "seed: 5\n"
                 "host: {devices: [{name: eth0, type: wire, peer: r1, addr: 10.0.0.1/24, rate: 100Mbit, "
                 "delay: 10us}]}\n"
                 "remotes: [{name: r1, addr: 10.0.0.2/24}]\n"
                 "workloads:\n"
                 "  - {type: udp_stream, from: host, to: r1, duration: 5ms}\n",
                 &sc);
    struct vns_workload_result r = result_of(w, 0);
    json_t *root = stats_of(w, NULL), *host = json_array_get(json_object_get(root, "machines"), 0);

    (void)state;
    assert_string_equal(json_string_value(json_object_get(host, "name")), "host");
    assert_null(json_object_get(json_object_get(host, "drops"), "QDISC_DROP"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(host, "inet"), "udp_sndbuf_errors")), 0);
    /* 5 ms at 100 Mbit/s: ~41 frames; the send buffer holds ~90 more */
    assert_true(r.packets >= 40 && r.packets <= 50);
    assert_true(r.packets_sent > r.packets && r.packets_sent < 150);
    assert_int_equal(r.error, 0);
    json_decref(root);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* A UDP_RR server whose replies outrun its 10 Mbit/s wire (the client
 * times out after 100 us and sends the next request) fills its send
 * buffer: it blocks in sendto as netserver does, and every request it
 * has read is answered (at most one reply still waiting at the end);
 * the requests that arrive meanwhile wait in its receive buffer. */
static void test_world_udp_rr_server_blocks_on_full_sndbuf(void **state)
{
    struct vns_scenario *sc;
    struct vns_world *w = run_text(
        "duration: 50ms\n"
        "host: {devices: [{name: eth0, type: wire, peer: r1, addr: 10.1.0.1/24, rate: 10Mbit, "
        "delay: 10us}]}\n"
        "remotes: [{name: r1, addr: 10.1.0.2/24}]\n"
        "workloads:\n"
        "  - {type: udp_rr, from: r1, to: host, request_size: 64, response_size: 1472, "
        "timeout: 100us}\n",
        &sc);
    struct vns_workload_result r = result_of(w, 0);
    const struct vns_inet_stats *hs = vns_inet_stats(vns_world_machine(w, "host")->inet);

    (void)state;
    assert_true(r.transactions > 0 && r.lost > 0);
    assert_true(hs->udp_in_datagrams > 20);
    assert_true(hs->udp_out_datagrams + 1 >= hs->udp_in_datagrams);
    assert_true(hs->udp_out_datagrams <= hs->udp_in_datagrams);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* ping through the kernels' ICMP code: every request answered, the rtt
 * above the wire's two delays, and the same for the same seed. */
static void test_world_ping_rtt(void **state)
{
    static const char text[] =
        "duration: 12ms\n"
        "host:\n"
        "  devices:\n"
        "    - {name: br0, type: bridge, addr: 10.0.0.1/24}\n"
        "    - {name: tap0, type: tap, master: br0}\n"
        "    - {name: eth0, type: wire, peer: r1, addr: 10.1.0.1/24, delay: 20us}\n"
        "remotes: [{name: r1, addr: 10.1.0.2/24}]\n"
        GUEST_ON_TAP_REST
        "workloads:\n"
        "  - {type: ping, from: host, to: r1, interval: 1ms, count: 10, size: 1000}\n"
        "  - {type: ping, from: vm1, to: host, interval: 500us, start: 1ms}\n";
    struct vns_workload_result a[2], b[2];

    (void)state;
    for (int run = 0; run < 2; run++) {
        struct vns_scenario *sc;
        struct vns_world *w = run_text(text, &sc);

        for (size_t i = 0; i < 2; i++)
            (run ? b : a)[i] = result_of(w, i);
        vns_world_destroy(w);
        vns_scenario_free(sc);
    }
    assert_string_equal(a[0].type, "ping");
    assert_int_equal(a[0].packets_sent, 10);
    assert_int_equal(a[0].packets, 10);
    assert_int_equal(a[0].transactions, 10);
    assert_int_equal(a[0].lost, 0);
    assert_int_equal(a[0].bytes, 10 * 1000);
    assert_int_equal(a[0].verified, 10 * 1000);
    assert_true(a[0].latency_p50 > VNS_USEC(40) && a[0].latency_p50 < VNS_USEC(100));
    assert_true(a[1].packets_sent == 22 && a[1].packets >= 21);
    assert_true(a[1].latency_p50 > 0 && a[1].latency_p50 < VNS_USEC(200));
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(a[i].latency_p50, b[i].latency_p50);
        assert_int_equal(a[i].latency_p99, b[i].latency_p99);
        assert_int_equal(a[i].latency_p999, b[i].latency_p999);
        assert_int_equal(a[i].end, b[i].end);
    }
}

/* UDP_RR and TCP_RR with two flows each: transactions on every flow,
 * latency percentiles ordered, no loss on a clean path. */
static void test_world_rr_flows(void **state)
{
    struct vns_scenario *sc;
    struct vns_world *w = run_text("duration: 10ms\n" GUEST_ON_TAP
                                   "workloads:\n"
                                   "  - {type: udp_rr, from: vm1, to: host, flows: 2, request_size: 100, "
                                   "response_size: 1000, duration: 4ms}\n"
                                   "  - {type: tcp_rr, from: host, to: vm1, flows: 2, start: 5ms}\n",
                                   &sc);
    struct vns_workload_result r;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        r = result_of(w, i);
        assert_int_equal(r.flows, 2);
        assert_true(r.transactions > 50);
        assert_int_equal(r.lost, 0);
        assert_true(r.latency_p50 > VNS_USEC(5) && r.latency_p50 <= r.latency_p99 &&
                    r.latency_p99 <= r.latency_p999 && r.latency_p999 < VNS_MSEC(1));
        assert_true(r.transactions_per_s > 10000);
        /* both ends count what they receive: requests and responses */
        assert_true(r.packets >= 2 * r.transactions && r.packets <= 2 * r.transactions + 2);
    }
    r = result_of(w, 0);
    assert_int_equal(r.bytes, r.transactions * 1000);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* syscall: each sender makes the system call it names, as its stacks show. */
static void test_world_syscalls(void **state)
{
    struct vns_scenario *sc;
    struct vns_world *w = run_text("duration: 3ms\n"
                                   "probes: [tcp_sendmsg, udp_sendmsg]\n" GUEST_ON_TAP
                                   "workloads:\n"
                                   "  - {type: tcp_stream, from: vm1, to: host, syscall: sendmsg, duration: 1ms}\n"
                                   "  - {type: udp_stream, from: vm1, to: host, syscall: send, rate: 100Mbit, "
                                   "start: 1ms, duration: 1ms}\n",
                                   &sc);
    char *stacks = vns_test_stacks_string(vns_world_sim(w), false);

    (void)state;
    assert_non_null(strstr(stacks, "[0] tcp_sendmsg\n[0] inet_sendmsg\n[0] sock_sendmsg\n[0] ___sys_sendmsg\n"
                                   "[0] __sys_sendmsg\n[0] __x64_sys_sendmsg\n"));
    assert_non_null(strstr(stacks, "[0] udp_sendmsg\n[0] inet_sendmsg\n[0] sock_sendmsg\n[0] __sys_sendto\n"
                                   "[0] __x64_sys_sendto\n"));
    assert_null(strstr(stacks, "vfs_write"));
    assert_true(result_of(w, 0).bytes > 0 && result_of(w, 1).packets > 0);
    vns_free(stacks);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* to_cpu (netperf -T): the host end of a TCP_RR runs on host CPU 2, which
 * nothing else uses; without it the CPU stays idle. */
static void test_world_workload_cpu(void **state)
{
    static const char *const texts[] = {
        "duration: 5ms\n" GUEST_ON_TAP "workloads: [{type: tcp_rr, from: vm1, to: host}]\n",
        "duration: 5ms\n" GUEST_ON_TAP "workloads: [{type: tcp_rr, from: vm1, to: host, to_cpu: 2}]\n",
    };
    uint64_t busy[2];

    (void)state;
    for (int i = 0; i < 2; i++) {
        struct vns_scenario *sc;
        struct vns_world *w = run_text(texts[i], &sc);

        assert_true(result_of(w, 0).transactions > 50);
        busy[i] = vns_cpu_stats(vns_world_machine(w, "host")->cpus[2])->busy_ns;
        vns_world_destroy(w);
        vns_scenario_free(sc);
    }
    assert_int_equal(busy[0], 0);
    assert_true(busy[1] > VNS_USEC(100));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_world_builds_host_and_remote, teardown),
        cmocka_unit_test_teardown(test_world_reports_what_is_missing, teardown),
        cmocka_unit_test_teardown(test_world_guest_tcp_both_ways, teardown),
        cmocka_unit_test_teardown(test_world_pcap_both_ends_of_a_wire, teardown),
        cmocka_unit_test_teardown(test_world_pcap_bad_dir, teardown),
        cmocka_unit_test_teardown(test_world_udp_stream_rate, teardown),
        cmocka_unit_test_teardown(test_world_udp_stream_lossy_wire, teardown),
        cmocka_unit_test_teardown(test_world_ping_rtt, teardown),
        cmocka_unit_test_teardown(test_world_rr_flows, teardown),
        cmocka_unit_test_teardown(test_world_syscalls, teardown),
        cmocka_unit_test_teardown(test_world_workload_cpu, teardown),
        cmocka_unit_test_teardown(test_world_udp_stream_sndbuf_throttles, teardown),
        cmocka_unit_test_teardown(test_world_udp_rr_server_blocks_on_full_sndbuf, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
