/* tests/world/test_faults.c -- scenario faults, end to end: what a user
 * must see when one part of the world breaks. Only the faulty queue
 * breaks, the others keep their throughput, TCP recovers and delivers
 * every byte (payload verified at the receiver), and every drop is
 * counted where it happens. */
#include <stdio.h>
#include <string.h>

#include "support/vns_test.h"
#include "vnetsim/hostile.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/scenario.h"
#include "vnetsim/vhost_net.h"
#include "vnetsim/virtio_net.h"
#include "vnetsim/wire.h"
#include "vnetsim/world.h"
#include "world/world_int.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

static struct vns_scenario *sc_of(const char *text, const char *const *sets, size_t nsets)
{
    struct vns_scenario *sc = NULL;
    struct vns_diag d = {0};
    char buf[700];

    if (vns_scenario_parse(text, strlen(text), "f.yaml", sets, nsets, &sc, &d) < 0) {
        vns_diag_format(&d, buf, sizeof(buf));
        fail_msg("%s", buf);
    }
    return sc;
}

static struct vns_world *world_of(const struct vns_scenario *sc)
{
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    char buf[700];

    if (vns_world_create(sc, &w, &d) < 0) {
        vns_diag_format(&d, buf, sizeof(buf));
        fail_msg("%s", buf);
    }
    return w;
}

static uint64_t wl_bytes(const struct vns_world *w, size_t i)
{
    struct vns_workload_result r;

    assert_int_equal(vns_world_workload(w, i, &r), 0);
    assert_int_equal(r.mismatches, 0);
    return r.bytes;
}

/* TCP workload @i stopped sending a while ago: every byte its sender's
 * system calls accepted reached the receiving application. */
static void assert_all_delivered(const struct vns_world *w, size_t i)
{
    struct vns_workload_result r;

    assert_int_equal(vns_world_workload(w, i, &r), 0);
    if (r.bytes != r.sent_bytes || r.mismatches)
        fail_msg("workload %zu: %llu bytes sent, %llu delivered, %llu wrong", i,
                 (unsigned long long)r.sent_bytes, (unsigned long long)r.bytes,
                 (unsigned long long)r.mismatches);
}

/* Two guests on one bridge, each with its own vhost worker CPU; streams
 * vm1 -> host (0), host -> vm1 (1), vm2 -> host (2). */
static const char two_guests[] =
    "duration: 40ms\n"
    "host:\n"
    "  cpus: 6\n"
    "  devices:\n"
    "    - {name: br0, type: bridge, addr: 10.0.0.1/24}\n"
    "    - {name: tap0, type: tap, master: br0}\n"
    "    - {name: tap1, type: tap, master: br0}\n"
    "guests:\n"
    "  - {name: vm1, vcpus: [{pin: 4}], addr: 10.0.0.2/24, nic: {backend: tap0, vhost: {pin: 2}}}\n"
    "  - {name: vm2, vcpus: [{pin: 5}], addr: 10.0.0.3/24, nic: {backend: tap1, vhost: {pin: 3}}}\n"
    "workloads:\n"
    "  - {type: tcp_stream, from: vm1, to: host}\n"
    "  - {type: tcp_stream, from: host, to: vm1}\n"
    "  - {type: tcp_stream, from: vm2, to: host}\n";

struct window {
    uint64_t at[3], end[3]; /* bytes per workload when the fault starts and at the end */
};

/* Run @sc to @t0, note the bytes, run to the end. */
static void run_window(struct vns_world *w, const struct vns_scenario *sc, vns_time_t t0,
                       struct window *win)
{
    assert_int_equal(vns_sim_run(vns_world_sim(w), t0), 0);
    for (size_t i = 0; i < vns_world_nworkloads(w) && i < 3; i++)
        win->at[i] = wl_bytes(w, i);
    assert_int_equal(vns_sim_run(vns_world_sim(w), sc->duration), 0);
    for (size_t i = 0; i < vns_world_nworkloads(w) && i < 3; i++)
        win->end[i] = wl_bytes(w, i);
}

/* The same world with no fault: what vm2 moves between t0 and the end. */
static void baseline(const char *text, vns_time_t t0, struct window *win)
{
    struct vns_scenario *sc = sc_of(text, NULL, 0);
    struct vns_world *w = world_of(sc);

    run_window(w, sc, t0, win);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* A hostile write on vm1's TX or RX queue, for every split-ring kind: the
 * vhost worker refuses it (a ring error on that queue only), the stream
 * through that queue stops, and vm2's stream moves as much as it does
 * with no fault. */
static void test_faults_hostile_breaks_only_that_queue(void **state)
{
    static const char *const queues[] = {"tx0", "rx0"};
    struct window base;

    (void)state;
    baseline(two_guests, VNS_MSEC(12), &base);
    assert_true(base.end[2] - base.at[2] > 1000000);
    for (int k = 0; k < VNS_HOSTILE__COUNT; k++) {
        if (k == VNS_HOSTILE_PACKED_BAD_ID)
            continue;
        for (int q = 0; q < 2; q++) {
            char set[128];
            const char *sets[] = {set};
            struct vns_scenario *sc;
            struct vns_world *w;
            struct window win;
            const struct vns_vhost_net *v1, *v2;
            uint64_t errs;

            snprintf(set, sizeof(set),
                     "faults=[{type: hostile, target: vm1, queue: %s, kind: %s, at: 10ms}]",
                     queues[q], vns_hostile_name((enum vns_hostile)k));
            sc = sc_of(two_guests, sets, 1);
            w = world_of(sc);
            run_window(w, sc, VNS_MSEC(12), &win);
            v1 = vns__world_guest_vhost(w, "vm1", 0);
            v2 = vns__world_guest_vhost(w, "vm2", 0);
            errs = q == 0 ? vns_vhost_net_tx_stats(v1)->ring_errors +
                                vns_vhost_net_tx_stats(v1)->format_errors
                          : vns_vhost_net_rx_stats(v1)->ring_errors +
                                vns_vhost_net_rx_stats(v1)->format_errors;
            if (errs == 0)
                fail_msg("%s on %s: vhost saw no error", vns_hostile_name((enum vns_hostile)k),
                         queues[q]);
            /* vm2's queues never see an error and keep their throughput */
            assert_int_equal(vns_vhost_net_tx_stats(v2)->ring_errors +
                                 vns_vhost_net_rx_stats(v2)->ring_errors,
                             0);
            if ((win.end[2] - win.at[2]) * 10 < (base.end[2] - base.at[2]) * 9)
                fail_msg("%s on %s: vm2 moved %llu bytes after the fault, %llu without it",
                         vns_hostile_name((enum vns_hostile)k), queues[q],
                         (unsigned long long)(win.end[2] - win.at[2]),
                         (unsigned long long)(base.end[2] - base.at[2]));
            /* the broken queue's stream stops (a few segments may be in flight) */
            if (win.end[q] - win.at[q] > (base.end[q] - base.at[q]) / 10)
                fail_msg("%s on %s: vm1's stream went on (%llu bytes)",
                         vns_hostile_name((enum vns_hostile)k), queues[q],
                         (unsigned long long)(win.end[q] - win.at[q]));
            vns_world_destroy(w);
            vns_scenario_free(sc);
            assert_no_leaks();
        }
    }
}

/* packed_bad_id on a packed ring: the same, and the kinds that do not fit
 * a ring layout are refused by the scenario with file:line:col. */
static void test_faults_hostile_packed_and_refusals(void **state)
{
    const char *sets[] = {
        "guests[0].nic.ring=packed",
        "faults=[{type: hostile, target: vm1, queue: tx0, kind: packed_bad_id, at: 10ms}]"};
    struct vns_scenario *sc = sc_of(two_guests, sets, 2);
    struct vns_world *w = world_of(sc);
    struct window win;
    struct vns_diag d = {0};
    char buf[700];

    (void)state;
    run_window(w, sc, VNS_MSEC(12), &win);
    assert_true(vns_vhost_net_tx_stats(vns__world_guest_vhost(w, "vm1", 0))->ring_errors > 0);
    assert_true(win.end[2] - win.at[2] > 1000000);
    vns_world_destroy(w);
    vns_scenario_free(sc);
    sets[1] = "faults=[{type: hostile, target: vm2, queue: tx0, kind: packed_bad_id, at: 10ms}]";
    assert_true(vns_scenario_parse(two_guests, strlen(two_guests), "f.yaml", sets, 2, &sc, &d) < 0);
    vns_diag_format(&d, buf, sizeof(buf));
    assert_non_null(strstr(buf, "faults[0].kind: packed_bad_id needs a packed ring"));
    sets[1] = "faults=[{type: hostile, target: vm1, queue: tx0, kind: bad_head, at: 10ms}]";
    assert_true(vns_scenario_parse(two_guests, strlen(two_guests), "f.yaml", sets, 2, &sc, &d) < 0);
    vns_diag_format(&d, buf, sizeof(buf));
    assert_non_null(strstr(buf, "bad_head is a split-ring corruption"));
}

/* Memory pressure in vm1 for 20 ms: receive buffer allocation fails, the
 * delayed refill work retries every 500 ms and brings the ring back; the
 * host -> vm1 stream then goes on with every byte verified; vm2 is not
 * touched. */
static void test_faults_rx_oom_refill_recovers(void **state)
{
    const char *sets[] = {"duration=700ms", "workloads[0].duration=5ms",
                          "workloads[1].duration=600ms",
                          "faults=[{type: rx_oom, target: vm1, at: 10ms, duration: 20ms}]"};
    struct vns_scenario *sc = sc_of(two_guests, sets, VNS_ARRAY_SIZE(sets));
    struct vns_world *w = world_of(sc);
    const struct vns_virtnet_rq_stats *rq;
    uint64_t at_end_of_fault, v2;

    (void)state;
    assert_int_equal(vns_sim_run(vns_world_sim(w), VNS_MSEC(30)), 0);
    at_end_of_fault = wl_bytes(w, 1);
    v2 = wl_bytes(w, 2);
    assert_int_equal(vns_sim_run(vns_world_sim(w), sc->duration), 0);
    rq = vns_virtnet_rq_stats(vns__world_guest_nic(w, "vm1", NULL, NULL), 0);
    assert_true(rq->refill_fail > 0);
    assert_true(rq->refill_work > 0);
    assert_true(wl_bytes(w, 1) > at_end_of_fault + 10000000); /* it recovered */
    assert_true(wl_bytes(w, 2) > v2 + 100000000);
    assert_int_equal(
        vns_virtnet_rq_stats(vns__world_guest_nic(w, "vm2", NULL, NULL), 0)->refill_fail, 0);
    assert_all_delivered(w, 1);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* vm1 stops posting receive buffers for 20 ms behind a tap whose ring
 * (txqueuelen) holds 8 frames: the host's frames for it are dropped at
 * tap0 (tun's ring is full: FULL_RING, tx_dropped), vm2's tap drops
 * nothing, and after vm1 resumes TCP delivers every byte. */
static void test_faults_rx_stop_drops_at_the_tap(void **state)
{
    const char *sets[] = {"duration=400ms", "host.devices[1].txqueuelen=8",
                          "workloads[0].duration=5ms", "workloads[1].duration=300ms",
                          "faults=[{type: rx_stop, target: vm1, at: 10ms, duration: 20ms}]"};
    struct vns_scenario *sc = sc_of(two_guests, sets, VNS_ARRAY_SIZE(sets));
    struct vns_world *w = world_of(sc);
    const struct vns_machine *host;
    uint64_t at_resume;

    (void)state;
    assert_int_equal(vns_sim_run(vns_world_sim(w), VNS_MSEC(30)), 0);
    at_resume = wl_bytes(w, 1);
    assert_int_equal(vns_sim_run(vns_world_sim(w), sc->duration), 0);
    host = vns_world_machine(w, "host");
    assert_true(vns_kernel_drops(host->kernel, VNS_SKB_DROP_REASON_FULL_RING) > 0);
    assert_true(vns_dev_get_by_name(host->kernel, "tap0")->stats.tx_dropped > 0);
    assert_int_equal(vns_dev_get_by_name(host->kernel, "tap1")->stats.tx_dropped, 0);
    assert_true(wl_bytes(w, 1) > at_resume + 10000000);
    assert_all_delivered(w, 1);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* A busy host process on vm1's vhost CPU slows vm1's receive stream
 * down (handle_rx copies each host frame into the guest's buffers on that
 * CPU); vm2, whose worker is on another CPU, keeps its throughput. */
static void test_faults_cpu_hog_starves_one_worker(void **state)
{
    const char *sets[] = {"faults=[{type: cpu_hog, cpu: 2, at: 10ms}]"};
    struct vns_scenario *sc = sc_of(two_guests, sets, 1);
    struct vns_world *w = world_of(sc);
    struct window base, win;

    (void)state;
    baseline(two_guests, VNS_MSEC(12), &base);
    run_window(w, sc, VNS_MSEC(12), &win);
    /* host -> vm1 loses at least a fifth, vm2 keeps 90% */
    if (!((win.end[1] - win.at[1]) * 5 < (base.end[1] - base.at[1]) * 4))
        fail_msg("host -> vm1: %llu bytes with the hog, %llu without",
                 (unsigned long long)(win.end[1] - win.at[1]),
                 (unsigned long long)(base.end[1] - base.at[1]));
    assert_true((win.end[2] - win.at[2]) * 10 >= (base.end[2] - base.at[2]) * 9);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* vm1 floods the host with raw frames at 5 Gbit/s: the host drops them
 * (no handler for the EtherType: UNHANDLED_PROTO), each one counted; vm2's
 * stream keeps 80% of its throughput and the books balance. */
static void test_faults_flood(void **state)
{
    const char *sets[] = {"faults=[{type: flood, target: vm1, at: 10ms, rate: 5Gbit, size: 1514}]"};
    struct vns_scenario *sc = sc_of(two_guests, sets, 1);
    struct vns_world *w = world_of(sc);
    struct window base, win;
    uint64_t sent, dropped;

    (void)state;
    baseline(two_guests, VNS_MSEC(12), &base);
    run_window(w, sc, VNS_MSEC(12), &win);
    sent = vns__world_fault_sent(vns__world_faults(w), 0);
    dropped =
        vns_kernel_drops(vns_world_machine(w, "host")->kernel, VNS_SKB_DROP_REASON_UNHANDLED_PROTO);
    assert_true(sent > 500);
    /* every frame sent is dropped by the host, or still on its way */
    assert_true(dropped <= sent && dropped + 300 >= sent);
    assert_true((win.end[2] - win.at[2]) * 10 >= (base.end[2] - base.at[2]) * 8);
    assert_int_equal(vns_world_finish(w), 0);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

static const char wire_world[] =
    "duration: 600ms\n"
    "host:\n"
    "  cpus: 2\n"
    "  devices:\n"
    "    - {name: eth0, type: wire, peer: r1, rate: 1Gbit, delay: 50us, addr: 10.1.0.1/24}\n"
    "remotes:\n"
    "  - {name: r1, cpus: 2, addr: 10.1.0.2/24}\n"
    "workloads:\n"
    "  - {type: tcp_stream, from: host, to: r1}\n";

/* A link flap of 50 ms: frames are lost while it is down (counted as
 * link_down on the wire), TCP retransmits and goes on, every byte
 * verified. */
static void test_faults_link_flap(void **state)
{
    const char *sets[] = {"workloads[0].duration=450ms",
                          "faults=[{type: link_down, target: eth0, at: 100ms, duration: 50ms}]"};
    struct vns_scenario *sc = sc_of(wire_world, sets, 2);
    struct vns_world *w = world_of(sc);
    uint64_t down_end;

    (void)state;
    assert_int_equal(vns_sim_run(vns_world_sim(w), VNS_MSEC(150)), 0);
    down_end = wl_bytes(w, 0);
    assert_int_equal(vns_sim_run(vns_world_sim(w), sc->duration), 0);
    assert_true(vns_wire_stats(vns__world_wire(w, "eth0"), 0)->link_down > 0);
    assert_true(vns_wire_link_up(vns__world_wire(w, "eth0")));
    assert_true(wl_bytes(w, 0) > down_end + 10000000);
    assert_all_delivered(w, 0);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* Gilbert-Elliott bursts: losses come in runs (the bad state), TCP
 * delivers every byte anyway. */
static void test_faults_gilbert_bursts(void **state)
{
    const char *sets[] = {"workloads[0].duration=450ms",
                          "host.devices[0].gilbert={p: 0.001, r: 0.2, loss_bad: 0.8}"};
    struct vns_scenario *sc = sc_of(wire_world, sets, 2);
    struct vns_world *w = world_of(sc);
    const struct vns_wire_stats *st;

    (void)state;
    assert_int_equal(vns_sim_run(vns_world_sim(w), sc->duration), 0);
    st = vns_wire_stats(vns__world_wire(w, "eth0"), 0);
    assert_true(st->burst_lost > 0);
    assert_int_equal(st->lost, st->burst_lost);
    assert_true(st->bad_frames >= st->burst_lost);
    assert_true(wl_bytes(w, 0) > 10000000);
    assert_all_delivered(w, 0);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* Duplication, reordering and corruption on the wire: each counted on
 * the wire (corrupted frames dropped by the receiving NIC's FCS check:
 * rx_crc_errors), TCP delivers the stream with no byte wrong. */
static void test_faults_wire_dup_reorder_corrupt(void **state)
{
    const char *sets[] = {"seed=3",
                          "duration=400ms",
                          "workloads[0].duration=200ms",
                          "host.devices[0].duplicate=0.01",
                          "host.devices[0].reorder=0.01",
                          "host.devices[0].reorder_delay=300us",
                          "host.devices[0].corrupt=0.01"};
    struct vns_scenario *sc = sc_of(wire_world, sets, VNS_ARRAY_SIZE(sets));
    struct vns_world *w = world_of(sc);
    const struct vns_wire_stats *st;

    (void)state;
    assert_int_equal(vns_sim_run(vns_world_sim(w), sc->duration), 0);
    st = vns_wire_stats(vns__world_wire(w, "eth0"), 0);
    assert_true(st->duplicated > 0 && st->reordered > 0 && st->corrupted > 0);
    assert_int_equal(
        vns_dev_get_by_name(vns_world_machine(w, "r1")->kernel, "eth0")->stats.rx_crc_errors,
        st->corrupted);
    assert_true(wl_bytes(w, 0) > 10000000); /* mismatches checked there: 0 */
    assert_all_delivered(w, 0);
    assert_int_equal(vns_world_finish(w), 0);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* Corruption with the NICs' FCS check off (rx_all): a corrupted frame,
 * its synthetic payload included, reaches r1's stack, which drops it on
 * a bad checksum (TCP_CSUM, UDP_CSUM; IP_CSUM for a header bit), as the
 * kernel does for CHECKSUM_NONE; no wrong byte reaches an application,
 * TCP delivers its whole stream and the books balance. */
static void test_faults_wire_corrupt_rx_all_checksum_drops(void **state)
{
    static const char text[] =
        "seed: 4\n"
        "duration: 300ms\n"
        "host:\n"
        "  cpus: 2\n"
        "  devices:\n"
        "    - {name: eth0, type: wire, peer: r1, rate: 1Gbit, delay: 50us, addr: 10.1.0.1/24, "
        "corrupt: 0.01, rx_all: true}\n"
        "remotes:\n"
        "  - {name: r1, cpus: 2, addr: 10.1.0.2/24}\n"
        "workloads:\n"
        "  - {type: tcp_stream, from: host, to: r1, duration: 200ms}\n"
        "  - {type: udp_stream, from: host, to: r1, rate: 100Mbit, duration: 200ms}\n";
    struct vns_scenario *sc = sc_of(text, NULL, 0);
    struct vns_world *w = world_of(sc);
    const struct vns_machine *r1;
    struct vns_workload_result u;

    (void)state;
    assert_int_equal(vns_sim_run(vns_world_sim(w), sc->duration), 0);
    r1 = vns_world_machine(w, "r1");
    assert_true(vns_wire_stats(vns__world_wire(w, "eth0"), 0)->corrupted > 20);
    assert_int_equal(vns_dev_get_by_name(r1->kernel, "eth0")->stats.rx_crc_errors, 0);
    assert_true(vns_kernel_drops(r1->kernel, VNS_SKB_DROP_REASON_TCP_CSUM) > 0);
    assert_true(vns_kernel_drops(r1->kernel, VNS_SKB_DROP_REASON_UDP_CSUM) > 0);
    assert_true(wl_bytes(w, 0) > 10000000); /* mismatches checked there: 0 */
    assert_all_delivered(w, 0);
    assert_int_equal(vns_world_workload(w, 1, &u), 0);
    assert_true(u.packets > 0 && u.packets < u.packets_sent);
    assert_int_equal(u.mismatches, 0);
    assert_int_equal(vns_world_finish(w), 0);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* Bad fault entries are errors with file:line:col and the key path. */
static void test_faults_scenario_errors(void **state)
{
    static const char *const cases[][2] = {
        {"faults=[{type: link_down, target: tap0, at: 1ms}]", "--set: error: faults[0].target"},
        {"faults=[{type: link_down, target: tap0, at: 1ms}]",
         "faults[0].target: 'tap0' is not a wire of the host"},
        {"faults=[{type: rx_oom, target: vm9, at: 1ms}]", "faults[0].target: no guest 'vm9'"},
        {"faults=[{type: hostile, target: vm1, queue: tx3, kind: bad_head, at: 1ms}]",
         "faults[0].queue: guest 'vm1' has 1 queue pair"},
        {"faults=[{type: hostile, target: vm1, queue: tx0, kind: bad_hed, at: 1ms}]",
         "unknown kind 'bad_hed'"},
        {"faults=[{type: cpu_hog, cpu: 9, at: 1ms}]", "faults[0].cpu"},
        {"faults=[{type: rx_oom, target: vm1, at: 1s}]",
         "faults[0].at: starts after the end of the run"},
        {"faults=[{type: rx_oom, target: vm1, at: 5}]", NULL}, /* ns: accepted */
        {"faults=[{type: rx_oom, target: vm1, at: 5parsecs}]", "faults[0].at"},
        {"host.devices[1].gilbert={p: 0.1, r: 0.1}",
         "host.devices[1].gilbert: only a wire has this key"},
        {"limits={max_time: 0}", "limits.max_time: must be longer than 0"},
        {"faults=[{type: flood, target: vm1, rate: 0Gbit}]", "faults[0].rate: must be above 0"},
        {"faults=[{type: flood, target: vm1, size: 20}]",
         "faults[0].size: expected a frame of 60 to 9014 bytes"},
        {"faults=[{type: rx_oom, target: vm1, rate: 1Gbit}]",
         "faults[0].rate: only a flood has this key"},
        {"limits={max_memory: 10k}", "limits.max_memory: expected at least 1MiB"},
        {"limits={max_event: 10}", "did you mean 'max_events'"},
    };

    (void)state;
    for (size_t i = 0; i < VNS_ARRAY_SIZE(cases); i++) {
        struct vns_scenario *sc = NULL;
        struct vns_diag d = {0};
        const char *sets[] = {cases[i][0]};
        char buf[700];
        int err = vns_scenario_parse(two_guests, strlen(two_guests), "f.yaml", sets, 1, &sc, &d);

        if (!cases[i][1]) {
            assert_int_equal(err, 0);
            vns_scenario_free(sc);
            continue;
        }
        assert_true(err < 0);
        vns_diag_format(&d, buf, sizeof(buf));
        if (!strstr(buf, cases[i][1]))
            fail_msg("case %zu: got '%s', want '%s'", i, buf, cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_faults_scenario_errors, teardown),
        cmocka_unit_test_teardown(test_faults_hostile_breaks_only_that_queue, teardown),
        cmocka_unit_test_teardown(test_faults_hostile_packed_and_refusals, teardown),
        cmocka_unit_test_teardown(test_faults_rx_oom_refill_recovers, teardown),
        cmocka_unit_test_teardown(test_faults_rx_stop_drops_at_the_tap, teardown),
        cmocka_unit_test_teardown(test_faults_cpu_hog_starves_one_worker, teardown),
        cmocka_unit_test_teardown(test_faults_flood, teardown),
        cmocka_unit_test_teardown(test_faults_link_flap, teardown),
        cmocka_unit_test_teardown(test_faults_gilbert_bursts, teardown),
        cmocka_unit_test_teardown(test_faults_wire_dup_reorder_corrupt, teardown),
        cmocka_unit_test_teardown(test_faults_wire_corrupt_rx_all_checksum_drops, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
