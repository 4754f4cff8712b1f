/* tests/world/test_ledger.c -- the packet ledger: at the end of a run
 * every skb of every machine has one fate (consumed, dropped with a
 * reason, freed by the hardware, merged, or in flight, and what is in
 * flight is found when the world is drained), and every wire direction's
 * frames and bytes add up. Faults that drop packets keep the books
 * balanced; a packet held by nothing does not. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "support/vns_test.h"
#include "vnetsim/kernel.h"
#include "vnetsim/scenario.h"
#include "vnetsim/vhost_net.h"
#include "vnetsim/virtio_net.h"
#include "vnetsim/world.h"
#include "virtio/virtq_int.h"
#include "world/world_int.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

static const char guest_world[] =
    "duration: 60ms\n"
    "host:\n"
    "  cpus: 4\n"
    "  devices:\n"
    "    - {name: br0, type: bridge, addr: 10.0.0.1/24}\n"
    "    - {name: tap0, type: tap, master: br0}\n"
    "    - {name: eth0, type: wire, peer: r1, rate: 1Gbit, delay: 20us, addr: 10.1.0.1/24}\n"
    "remotes:\n"
    "  - {name: r1, cpus: 2, addr: 10.1.0.2/24}\n"
    "guests:\n"
    "  - {name: vm1, vcpus: [{pin: 1}], addr: 10.0.0.2/24, nic: {backend: tap0, vhost: {pin: 2}}}\n"
    "workloads:\n"
    "  - {type: tcp_stream, from: vm1, to: host}\n"
    "  - {type: tcp_stream, from: host, to: vm1}\n"
    "  - {type: tcp_stream, from: host, to: r1}\n"
    "  - {type: tcp_rr, from: r1, to: host}\n";

/* A buffer published on vm1's rx0 behind its driver's back: avail->idx
 * moved without virtqueue_add. */
static void stray_avail_index(struct vns_world *w)
{
    struct vns_gmem *mem = NULL;
    struct vns_virtnet *vi = vns__world_guest_nic(w, "vm1", NULL, &mem);
    const struct vns_virtq *vq = vns_virtnet_vq(vi, 0);
    uint64_t idx = vq->avail.gpa + VNS_VRING_AVAIL_IDX;

    vns_gmem_write_le16(mem, idx, (uint16_t)(vns_gmem_read_le16(mem, idx) + 1));
}

/* Run @text with @sets; return the stats JSON after vns_world_finish and
 * what finish returned in *fin. @leak_on: a machine (or "machine:device")
 * to leak an skb on, or "ring" for a stray avail index on vm1's rx0. */
static json_t *run_text(const char *text, const char *const *sets, size_t nsets,
                        const char *leak_on, int *fin);

static json_t *run_ledger(const char *const *sets, size_t nsets, const char *leak_on, int *fin)
{
    return run_text(guest_world, sets, nsets, leak_on, fin);
}

/* run_ledger on the scenario @text. */
static json_t *run_text(const char *text, const char *const *sets, size_t nsets,
                        const char *leak_on, int *fin)
{
    struct vns_scenario *sc = NULL;
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    char buf[700];
    FILE *f = tmpfile();
    json_t *root;
    json_error_t e;

    if (vns_scenario_parse(text, strlen(text), "l.yaml", sets, nsets, &sc, &d) < 0 ||
        vns_world_create(sc, &w, &d) < 0) {
        vns_diag_format(&d, buf, sizeof(buf));
        fail_msg("%s", buf);
    }
    assert_int_equal(vns_sim_run(vns_world_sim(w), sc->duration), 0);
    if (leak_on && !strcmp(leak_on, "ring"))
        stray_avail_index(w);
    else if (leak_on)
        assert_int_equal(vns_world_test_leak(w, leak_on), 0);
    *fin = vns_world_finish(w);
    assert_int_equal(vns_world_write_stats_json(w, f, NULL), 0);
    vns_world_destroy(w);
    vns_scenario_free(sc);
    rewind(f);
    root = json_loadf(f, 0, &e);
    fclose(f);
    assert_non_null(root);
    return root;
}

static json_t *ledger_entry(json_t *root, const char *list, const char *key, const char *name)
{
    json_t *a = json_object_get(json_object_get(root, "ledger"), list);

    for (size_t i = 0; i < json_array_size(a); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(a, i), key)), name))
            return json_array_get(a, i);
    fail_msg("no ledger entry %s", name);
    return NULL;
}

static uint64_t num(json_t *o, const char *k)
{
    return (uint64_t)json_integer_value(json_object_get(o, k));
}

static void assert_device_balanced(json_t *d);
static void assert_flow_books_balanced(json_t *f);

/* Every machine's, wire's and device's books balance, audited. */
static void assert_balanced(json_t *root)
{
    json_t *l = json_object_get(root, "ledger");

    assert_true(json_is_true(json_object_get(l, "audited")));
    for (size_t i = 0; i < json_array_size(json_object_get(l, "machines")); i++) {
        json_t *m = json_array_get(json_object_get(l, "machines"), i);

        if (!json_is_true(json_object_get(m, "balanced")))
            fail_msg("%s does not balance", json_string_value(json_object_get(m, "name")));
        assert_int_equal(num(m, "leaked"), 0);
        assert_int_equal(num(m, "created"), num(m, "consumed") + num(m, "dropped") +
                                                num(m, "freed_by_hardware") + num(m, "merged") +
                                                num(m, "in_flight"));
    }
    assert_true(json_array_size(json_object_get(l, "flows")) > 0);
    for (size_t i = 0; i < json_array_size(json_object_get(l, "flows")); i++) {
        json_t *f = json_array_get(json_object_get(l, "flows"), i);

        assert_true(json_is_true(json_object_get(f, "balanced")));
        assert_flow_books_balanced(f);
        if (strstr(json_string_value(json_object_get(f, "workload")), "stream"))
            assert_int_equal(num(f, "sent_bytes"),
                             num(f, "delivered_bytes") + num(f, "in_flight_or_lost_bytes"));
        if (strstr(json_string_value(json_object_get(f, "workload")), "udp_stream"))
            assert_int_equal(num(f, "packets_sent"), num(f, "packets_delivered") +
                                                         num(f, "packets_dropped_at_socket") +
                                                         num(f, "packets_in_flight_or_lost"));
        if (strstr(json_string_value(json_object_get(f, "workload")), "tcp_stream"))
            /* segments in MSS units: none carries more than an MSS (1448
             * with timestamps), GRO and TSO skbs count what they stand for */
            assert_true(num(f, "packets_delivered") * 1448 >= num(f, "delivered_bytes"));
    }
    for (size_t i = 0; i < json_array_size(json_object_get(l, "wires")); i++)
        assert_true(json_is_true(
            json_object_get(json_array_get(json_object_get(l, "wires"), i), "balanced")));
    assert_true(json_array_size(json_object_get(l, "devices")) > 0);
    for (size_t i = 0; i < json_array_size(json_object_get(l, "devices")); i++)
        assert_device_balanced(json_array_get(json_object_get(l, "devices"), i));
    /* one rx and one tx queue per queue pair of each guest */
    assert_true(json_array_size(json_object_get(l, "virtqueues")) >= 2);
    for (size_t i = 0; i < json_array_size(json_object_get(l, "virtqueues")); i++) {
        json_t *q = json_array_get(json_object_get(l, "virtqueues"), i);

        assert_true(json_is_true(json_object_get(q, "balanced")));
        if (json_is_true(json_object_get(q, "broken")))
            continue;
        assert_int_equal(num(q, "made_available"),
                         num(q, "used") + num(q, "not_taken") + num(q, "taken_not_used"));
        assert_int_equal(num(q, "used"), num(q, "reclaimed") + num(q, "used_not_reclaimed"));
    }
    assert_true(json_is_true(json_object_get(l, "balanced")));
}

/* A device's books: in + created = every fate + held, in frames and in
 * bytes; nothing held by nothing after the drain; drops by reason add up. */
static void assert_device_balanced(json_t *d)
{
    uint64_t by_reason = 0;
    const char *k;
    json_t *v;

    if (!json_is_true(json_object_get(d, "balanced")))
        fail_msg("device %s does not balance", json_string_value(json_object_get(d, "name")));
    assert_int_equal(num(d, "leaked"), 0);
    assert_int_equal(num(d, "in") + num(d, "created"),
                     num(d, "out") + num(d, "consumed") + num(d, "merged") + num(d, "dropped") +
                         num(d, "freed_by_hardware") + num(d, "held"));
    assert_int_equal(num(d, "in_bytes") + num(d, "created_bytes"),
                     num(d, "out_bytes") + num(d, "consumed_bytes") + num(d, "merged_bytes") +
                         num(d, "dropped_bytes") + num(d, "freed_by_hardware_bytes") +
                         num(d, "held_bytes"));
    json_object_foreach(json_object_get(d, "drops"), k, v) by_reason +=
        (uint64_t)json_integer_value(v);
    assert_int_equal(by_reason, num(d, "dropped"));
}

/* A flow's books, each direction: sent + copied + crossed in = every
 * fate + crossed out + in flight, in segments and in payload bytes;
 * nothing held by nothing after the drain; drops by reason add up; a TCP
 * stream's bytes: sent = delivered + queued + not received yet. */
static void assert_flow_books_balanced(json_t *f)
{
    json_t *books = json_object_get(f, "books");
    static const char *const unit[] = {"", "_bytes"};

    for (size_t i = 0; i < json_array_size(books); i++) {
        json_t *b = json_array_get(books, i);
        uint64_t by_reason = 0;
        const char *k;
        json_t *v;
        char key[11][32];
        static const char *const terms[] = {
            "sent",        "copied",    "crossed_in",        "delivered",
            "dropped",     "lost",      "freed_by_hardware", "consumed",
            "crossed_out", "in_flight", "between_machines"};

        if (!json_is_true(json_object_get(b, "balanced")))
            fail_msg("the flow books of %s do not balance",
                     json_string_value(json_object_get(b, "direction")));
        assert_int_equal(num(b, "leaked"), 0);
        for (int u = 0; u < 2; u++) {
            for (int t = 0; t < 11; t++)
                snprintf(key[t], sizeof(key[t]), "%s%s", terms[t], unit[u]);
            assert_int_equal(num(b, key[0]) + num(b, key[1]) + num(b, key[2]),
                             num(b, key[3]) + num(b, key[4]) + num(b, key[5]) + num(b, key[6]) +
                                 num(b, key[7]) + num(b, key[8]) + num(b, key[9]));
            assert_int_equal(num(b, key[10]), num(b, key[8]) - num(b, key[2]));
        }
        json_object_foreach(json_object_get(b, "drops"), k, v) by_reason +=
            (uint64_t)json_integer_value(v);
        assert_int_equal(by_reason, num(b, "dropped"));
        /* losses by reason: the wire's add up to lost, the NICs' to
         * freed by hardware */
        {
            json_t *l = json_object_get(b, "losses");

            assert_int_equal(num(l, "line_loss") + num(l, "link_down") + num(l, "no_peer") +
                                 num(l, "no_memory"),
                             num(b, "lost"));
            assert_int_equal(num(l, "bad_fcs") + num(l, "too_long") + num(l, "rx_ring_full") +
                                 num(l, "nic_down"),
                             num(b, "freed_by_hardware"));
        }
    }
    if (json_object_get(f, "queued_bytes"))
        assert_int_equal(num(f, "sent_bytes"), num(f, "delivered_bytes") + num(f, "queued_bytes") +
                                                   num(f, "not_received_bytes"));
}

/* The book of direction @dir ("vm1 -> host") of workload @wl. */
static json_t *flow_book(json_t *root, const char *wl, const char *dir)
{
    json_t *books = json_object_get(ledger_entry(root, "flows", "workload", wl), "books");

    for (size_t i = 0; i < json_array_size(books); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(books, i), "direction")), dir))
            return json_array_get(books, i);
    fail_msg("no flow book %s of %s", dir, wl);
    return NULL;
}

/* The device @name of @machine in the ledger. */
static json_t *ledger_device(json_t *root, const char *machine, const char *name)
{
    json_t *a = json_object_get(json_object_get(root, "ledger"), "devices");

    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *d = json_array_get(a, i);

        if (!strcmp(json_string_value(json_object_get(d, "machine")), machine) &&
            !strcmp(json_string_value(json_object_get(d, "name")), name))
            return d;
    }
    fail_msg("no device %s of %s in the ledger", name, machine);
    return NULL;
}

static uint64_t device_drops(json_t *root, const char *machine, const char *name,
                             const char *reason)
{
    return (uint64_t)json_integer_value(
        json_object_get(json_object_get(ledger_device(root, machine, name), "drops"), reason));
}

/* run_ledger with no leak: the run finishes with every book balanced. */
static json_t *run_balanced(const char *const *sets, size_t nsets)
{
    int fin;
    json_t *root = run_ledger(sets, nsets, NULL, &fin);

    assert_int_equal(fin, 0);
    assert_balanced(root);
    return root;
}

/* A normal run: guest <-> host and host <-> remote traffic, books balance. */
static void test_ledger_normal_run_balances(void **state)
{
    int fin;
    json_t *root = run_ledger(NULL, 0, NULL, &fin);

    (void)state;
    assert_int_equal(fin, 0);
    assert_balanced(root);
    assert_true(num(ledger_entry(root, "machines", "name", "vm1"), "created") > 1000);
    assert_true(num(ledger_entry(root, "wires", "from", "eth0"), "delivered") > 1000);
    /* every device of the world has books, and they saw the traffic */
    assert_true(num(ledger_device(root, "host", "br0"), "in") > 1000);
    assert_true(num(ledger_device(root, "host", "tap0"), "in") > 1000);
    assert_true(num(ledger_device(root, "host", "eth0"), "in") > 1000);
    assert_true(num(ledger_device(root, "r1", "eth0"), "in") > 1000);
    assert_true(num(ledger_device(root, "vm1", "eth0"), "in_bytes") > 1000000);
    {
        /* no loss, no duplicate on the way: the segments taken in are
         * among those sent (the same units on both ends) */
        json_t *f = ledger_entry(root, "flows", "workload", "workload 0 tcp_stream vm1 -> host");

        assert_true(num(f, "packets_delivered") > 1000);
        assert_non_null(json_object_get(f, "packets_sent"));
        assert_true(num(f, "packets_delivered") <= num(f, "packets_sent"));
    }
    json_decref(root);
}

/* Loss, duplication, reordering and corruption on the wire: frames lost,
 * doubled, dropped at the peer (bad FCS) all have their line; the
 * machines' books balance too. */
static void test_ledger_wire_faults_balance(void **state)
{
    /* a seed whose handshake survives (with seed 1 the SYN-ACK is
     * corrupted and the retransmission comes after the end) */
    const char *sets[] = {"seed=3", "host.devices[2].loss=0.01", "host.devices[2].duplicate=0.01",
                          "host.devices[2].reorder=0.01", "host.devices[2].corrupt=0.01"};
    int fin;
    json_t *root = run_ledger(sets, 5, NULL, &fin), *wd;

    (void)state;
    assert_int_equal(fin, 0);
    assert_balanced(root);
    wd = ledger_entry(root, "wires", "from", "eth0");
    assert_true(num(wd, "lost") > 0 && num(wd, "duplicated") > 0 && num(wd, "dropped_at_peer") > 0);
    assert_int_equal(num(wd, "bytes") + num(wd, "duplicated_bytes"),
                     num(wd, "lost_bytes") + num(wd, "link_down_bytes") +
                         num(wd, "dropped_at_peer_bytes") + num(wd, "delivered_bytes") +
                         num(wd, "on_the_line_bytes"));
    assert_true(num(ledger_entry(root, "machines", "name", "r1"), "freed_by_hardware") > 0);
    json_decref(root);
}

/* A tap ring of 16 frames and a guest that stops posting buffers: drops
 * at the tap (FULL_RING), books balanced. A link flap too. */
static void test_ledger_full_tap_ring_balances(void **state)
{
    const char *sets[] = {"host.devices[1].txqueuelen=16",
                          "faults=[{type: rx_stop, target: vm1, at: 10ms, duration: 20ms}, "
                          "{type: link_down, target: eth0, at: 10ms, duration: 5ms}]"};
    int fin;
    json_t *root = run_ledger(sets, 2, NULL, &fin), *host;

    (void)state;
    assert_int_equal(fin, 0);
    assert_balanced(root);
    host = json_array_get(json_object_get(root, "machines"), 0);
    assert_true(json_integer_value(json_object_get(json_object_get(host, "drops"), "FULL_RING")) >
                0);
    /* the drops are the tap's, all of them */
    assert_int_equal(
        device_drops(root, "host", "tap0", "FULL_RING"),
        (uint64_t)json_integer_value(json_object_get(json_object_get(host, "drops"), "FULL_RING")));
    assert_true(num(ledger_entry(root, "wires", "from", "eth0"), "link_down") > 0);
    /* the stream to r1 lost segments to the link flap, by that reason */
    assert_true(
        num(json_object_get(flow_book(root, "workload 2 tcp_stream host -> r1", "host -> r1"),
                            "losses"),
            "link_down") > 0);
    json_decref(root);
}

/* A qdisc that fills: the wire to r1 slowed to 100 Mbit/s with a qdisc
 * limit of 4 (txqueuelen) and 16 UDP flows from the host. Every drop is
 * QDISC_DROP at the host's eth0 (its device books have them all, no other
 * device drops), what it holds at the end fits its NIC ring (512) and its
 * qdisc, and every book balances. */
static void test_ledger_full_qdisc_drops_at_its_device(void **state)
{
    const char *sets[] = {"host.devices[2].rate=100Mbit", "host.devices[2].txqueuelen=4",
                          "workloads[2].type=udp_stream", "workloads[2].flows=16"};
    json_t *root = run_balanced(sets, 4), *host, *eth0, *flow;
    json_t *devs;
    uint64_t drops;

    (void)state;
    host = json_array_get(json_object_get(root, "machines"), 0);
    drops =
        (uint64_t)json_integer_value(json_object_get(json_object_get(host, "drops"), "QDISC_DROP"));
    assert_true(drops > 1000);
    eth0 = ledger_device(root, "host", "eth0");
    assert_int_equal(device_drops(root, "host", "eth0", "QDISC_DROP"), drops);
    assert_true(num(eth0, "dropped") >= drops);
    assert_int_equal(num(eth0, "dropped_bytes"), drops * (14 + 20 + 8 + 1472));
    assert_true(num(eth0, "held") > 0 && num(eth0, "held") <= 512 + 4);
    /* the UDP flow's datagrams: most of them dropped on the way */
    flow = ledger_entry(root, "flows", "workload", "workload 2 udp_stream host -> r1");
    assert_string_equal(json_string_value(json_object_get(flow, "packet_unit")), "datagram");
    assert_true(num(flow, "packets_in_flight_or_lost") >= drops);
    devs = json_object_get(json_object_get(root, "ledger"), "devices");
    for (size_t i = 0; i < json_array_size(devs); i++) {
        json_t *d = json_array_get(devs, i);

        if (d != eth0)
            assert_int_equal(
                json_integer_value(json_object_get(json_object_get(d, "drops"), "QDISC_DROP")), 0);
    }
    json_decref(root);
}

/* A hostile guest breaks its TX queue: what it had in the ring stays
 * there (in flight), the books balance. */
static void test_ledger_hostile_guest_balances(void **state)
{
    const char *sets[] = {
        "faults=[{type: hostile, target: vm1, queue: tx0, kind: desc_loop, at: 10ms}, "
        "{type: rx_oom, target: vm1, at: 20ms, duration: 10ms}]"};
    int fin;
    json_t *root = run_ledger(sets, 1, NULL, &fin);

    (void)state;
    assert_int_equal(fin, 0);
    assert_balanced(root);
    /* the broken queue is reported as such; the others are checked */
    assert_true(json_is_true(
        json_object_get(ledger_entry(root, "virtqueues", "queue", "vm1 tx0"), "broken")));
    assert_true(json_is_false(
        json_object_get(ledger_entry(root, "virtqueues", "queue", "vm1 rx0"), "broken")));
    json_decref(root);
}

/* Packed rings with two queue pairs: every virtqueue's books balance at
 * the end of a run in full flow (buffers in the ring, in vhost's hands,
 * used but not yet reclaimed). */
static void test_ledger_packed_virtqueues_balance(void **state)
{
    const char *sets[] = {"guests[0].nic.ring=packed", "guests[0].nic.queues=2",
                          "guests[0].vcpus=[{pin: 1}, {pin: 3}]"};
    json_t *root = run_balanced(sets, 3), *q;

    (void)state;
    q = ledger_entry(root, "virtqueues", "queue", "vm1 rx1");
    assert_true(num(q, "made_available") > 100);
    assert_true(num(q, "not_taken") + num(q, "taken_not_used") + num(q, "used_not_reclaimed") > 0);
    json_decref(root);
}

/* An skb allocated and forgotten (the test hook): the books of that
 * machine do not balance, finish says so, the others still do. */
static void test_ledger_leak_is_reported(void **state)
{
    int fin;
    json_t *root = run_ledger(NULL, 0, "vm1", &fin), *vm1;

    (void)state;
    assert_int_equal(fin, -VNS_EPROTO);
    vm1 = ledger_entry(root, "machines", "name", "vm1");
    assert_int_equal(num(vm1, "leaked"), 1);
    assert_true(json_is_false(json_object_get(vm1, "balanced")));
    assert_true(
        json_is_true(json_object_get(ledger_entry(root, "machines", "name", "host"), "balanced")));
    assert_true(json_is_false(json_object_get(json_object_get(root, "ledger"), "balanced")));
    json_decref(root);
}

/* An skb put in a device's hands and forgotten: that device's books do
 * not balance (one frame held by nothing after the drain), the others do. */
static void test_ledger_device_leak_is_reported(void **state)
{
    int fin;
    json_t *root = run_ledger(NULL, 0, "host:br0", &fin), *br0;

    (void)state;
    assert_int_equal(fin, -VNS_EPROTO);
    br0 = ledger_device(root, "host", "br0");
    assert_int_equal(num(br0, "leaked"), 1);
    assert_true(json_is_false(json_object_get(br0, "balanced")));
    assert_true(json_is_true(json_object_get(ledger_device(root, "host", "tap0"), "balanced")));
    assert_true(json_is_true(json_object_get(ledger_device(root, "vm1", "eth0"), "balanced")));
    json_decref(root);
}

/* An avail index the driver did not count: vm1 rx0's virtqueue books do
 * not balance, finish says so, the tx queue's still do. */
static void test_ledger_virtqueue_imbalance_is_reported(void **state)
{
    int fin;
    json_t *root = run_ledger(NULL, 0, "ring", &fin), *rx0;

    (void)state;
    assert_int_equal(fin, -VNS_EPROTO);
    rx0 = ledger_entry(root, "virtqueues", "queue", "vm1 rx0");
    assert_true(json_is_false(json_object_get(rx0, "balanced")));
    assert_true(json_is_false(json_object_get(rx0, "broken")));
    assert_true(json_is_true(
        json_object_get(ledger_entry(root, "virtqueues", "queue", "vm1 tx0"), "balanced")));
    assert_true(json_is_false(json_object_get(json_object_get(root, "ledger"), "balanced")));
    json_decref(root);
}

/* Across the guest/host boundary, in a run that went quiet before its
 * end: every frame the guest's driver put on its TX ring was taken by
 * vhost-net and sent to the tap, and every frame vhost-net put on the RX
 * ring was received by the guest's driver. */
static void test_ledger_guest_host_boundary(void **state)
{
    const char *sets[] = {"workloads[0].duration=20ms", "workloads[1].duration=20ms",
                          "workloads[2].duration=20ms", "workloads[3].duration=20ms"};
    struct vns_scenario *sc = NULL;
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    const struct vns_virtnet_sq_stats *sq;
    const struct vns_virtnet_rq_stats *rq;
    const struct vns_vhost_net *net;

    (void)state;
    assert_int_equal(
        vns_scenario_parse(guest_world, strlen(guest_world), "l.yaml", sets, 4, &sc, &d), 0);
    assert_int_equal(vns_world_create(sc, &w, &d), 0);
    assert_int_equal(vns_sim_run(vns_world_sim(w), sc->duration), 0);
    sq = vns_virtnet_sq_stats(vns__world_guest_nic(w, "vm1", NULL, NULL), 0);
    rq = vns_virtnet_rq_stats(vns__world_guest_nic(w, "vm1", NULL, NULL), 0);
    net = vns__world_guest_vhost(w, "vm1", 0);
    assert_true(sq->packets > 1000 && rq->packets > 1000);
    assert_int_equal(sq->packets, vns_vhost_net_tx_stats(net)->packets);
    assert_int_equal(vns_vhost_net_rx_stats(net)->packets,
                     rq->packets + rq->length_errors + rq->frame_errors);
    assert_int_equal(vns_world_finish(w), 0);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

/* A run stopped mid-transfer: the flow books balance with packets in
 * flight (in skbs, or in rings between machines) and TCP bytes queued or
 * not received yet; the senders' books count what tcp_info counts. */
static void test_ledger_flow_books_mid_transfer(void **state)
{
    json_t *root = run_balanced(NULL, 0), *b, *f;
    uint64_t in_flight = 0, bytes_on_the_way = 0;
    const char *const wls[] = {"workload 0 tcp_stream vm1 -> host",
                               "workload 1 tcp_stream host -> vm1",
                               "workload 2 tcp_stream host -> r1"};
    const char *const dirs[] = {"vm1 -> host", "host -> vm1", "host -> r1"};

    (void)state;
    for (int i = 0; i < 3; i++) {
        f = ledger_entry(root, "flows", "workload", wls[i]);
        b = flow_book(root, wls[i], dirs[i]);
        assert_true(num(b, "delivered") > 1000);
        assert_int_equal(num(b, "sent"), num(f, "packets_sent"));
        in_flight += num(b, "in_flight") + num(b, "between_machines");
        bytes_on_the_way += num(f, "queued_bytes") + num(f, "not_received_bytes");
    }
    assert_true(in_flight > 0);
    assert_true(bytes_on_the_way > 0);
    /* the guest's data crossed into the host through vhost-net */
    b = flow_book(root, wls[0], dirs[0]);
    assert_true(num(b, "crossed_out") > 1000);
    assert_true(num(b, "crossed_in") > 1000);
    json_decref(root);
}

/* Streams that stopped well before the end: nothing left in flight,
 * every segment that was neither dropped nor lost was delivered, every
 * byte sent was delivered. */
static void test_ledger_flow_books_quiet_end(void **state)
{
    const char *sets[] = {"workloads[0].duration=20ms", "workloads[1].duration=20ms",
                          "workloads[2].duration=20ms", "workloads[3].duration=20ms"};
    json_t *root = run_balanced(sets, 4);
    json_t *flows = json_object_get(json_object_get(root, "ledger"), "flows");

    (void)state;
    for (size_t i = 0; i < json_array_size(flows); i++) {
        json_t *f = json_array_get(flows, i), *books = json_object_get(f, "books");

        for (size_t j = 0; j < json_array_size(books); j++) {
            json_t *b = json_array_get(books, j);

            assert_int_equal(num(b, "in_flight"), 0);
            assert_int_equal(num(b, "between_machines"), 0);
            assert_int_equal(num(b, "sent") + num(b, "copied"),
                             num(b, "delivered") + num(b, "dropped") + num(b, "lost") +
                                 num(b, "freed_by_hardware") + num(b, "consumed"));
        }
        if (json_object_get(f, "queued_bytes"))
            assert_int_equal(num(f, "sent_bytes"), num(f, "delivered_bytes"));
    }
    json_decref(root);
}

/* A lossy wire that duplicates and corrupts: the host -> r1 stream's
 * books have segments lost on the wire, freed by the peer's NIC (bad
 * FCS), copies (duplicates) and retransmissions among those sent. */
static void test_ledger_flow_books_lossy_wire(void **state)
{
    const char *sets[] = {"seed=3", "host.devices[2].loss=0.01", "host.devices[2].duplicate=0.01",
                          "host.devices[2].reorder=0.01", "host.devices[2].corrupt=0.01"};
    json_t *root = run_balanced(sets, 5), *b, *f;
    const char *wl = "workload 2 tcp_stream host -> r1";

    (void)state;
    f = ledger_entry(root, "flows", "workload", wl);
    b = flow_book(root, wl, "host -> r1");
    assert_true(num(b, "lost") > 0);
    assert_true(num(json_object_get(b, "losses"), "line_loss") > 0);
    assert_true(num(b, "freed_by_hardware") > 0);
    assert_true(num(json_object_get(b, "losses"), "bad_fcs") > 0);
    assert_true(num(b, "copied") > 0);
    assert_true(num(f, "packets_retransmitted") > 0);
    assert_int_equal(num(b, "sent"), num(f, "packets_sent"));
    /* what was sent more than once reached the receiver more than once
     * or was lost: delivered segments exceed what the stream needed */
    assert_true(num(b, "delivered") + num(b, "lost") + num(b, "freed_by_hardware") >
                num(f, "delivered_bytes") / 1448);
    json_decref(root);
}

/* A bridge that floods every frame (ageing_time under a jiffy: 0, "some
 * users want to always flood") to two guests: the
 * clones are copies in the books, the guest that is not the destination
 * drops its copy (by reason), and the books balance. */
static void test_ledger_flow_books_bridge_flood(void **state)
{
    static const char text[] =
        "duration: 30ms\n"
        "host:\n"
        "  cpus: 4\n"
        "  devices:\n"
        "    - {name: br0, type: bridge, addr: 10.0.0.1/24, ageing_time: 1us}\n"
        "    - {name: tap0, type: tap, master: br0}\n"
        "    - {name: tap1, type: tap, master: br0}\n"
        "guests:\n"
        "  - {name: vm1, vcpus: [{pin: 1}], addr: 10.0.0.2/24, nic: {backend: tap0, vhost: {pin: "
        "2}}}\n"
        "  - {name: vm2, vcpus: [{pin: 3}], addr: 10.0.0.3/24, nic: {backend: tap1, vhost: {pin: "
        "2}}}\n"
        "workloads:\n"
        "  - {type: tcp_stream, from: host, to: vm1, duration: 10ms}\n"
        "  - {type: tcp_rr, from: vm2, to: host, duration: 10ms}\n"
        "  - {type: tcp_maerts, from: vm2, to: host, duration: 10ms}\n"
        "  - {type: ping, from: vm2, to: host, count: 3, interval: 1ms}\n";
    int fin;
    json_t *root = run_text(text, NULL, 0, NULL, &fin), *b;

    (void)state;
    assert_int_equal(fin, 0);
    assert_balanced(root);
    b = flow_book(root, "workload 0 tcp_stream host -> vm1", "host -> vm1");
    assert_true(num(b, "copied") > 100);
    assert_true(num(b, "dropped") > 100);
    assert_int_equal(num(b, "dropped"), num(json_object_get(b, "drops"), "OTHERHOST"));
    assert_int_equal(num(b, "in_flight") + num(b, "between_machines"), 0);
    /* TCP_RR carries data both ways: a book each; the responses to vm2
     * are flooded to vm1 too */
    assert_int_equal(num(flow_book(root, "workload 1 tcp_rr vm2 -> host", "vm2 -> host"), "copied"),
                     0);
    assert_true(num(flow_book(root, "workload 1 tcp_rr vm2 -> host", "host -> vm2"), "copied") > 0);
    /* TCP_MAERTS: the data goes from the server to the client; the client
     * closes at the end of its duration with data still coming: the byte
     * books name it (not received), the packet books have nothing left */
    b = flow_book(root, "workload 2 tcp_maerts vm2 -> host", "host -> vm2");
    assert_true(num(b, "delivered") > 100);
    assert_int_equal(num(b, "in_flight") + num(b, "between_machines"), 0);
    assert_true(num(ledger_entry(root, "flows", "workload", "workload 2 tcp_maerts vm2 -> host"),
                    "not_received_bytes") > 0);
    /* ping: the requests and the replies (flooded to vm1 too) */
    b = flow_book(root, "workload 3 ping vm2 -> host", "vm2 -> host");
    assert_int_equal(num(b, "sent"), 3);
    assert_int_equal(num(b, "delivered"), 3);
    b = flow_book(root, "workload 3 ping vm2 -> host", "host -> vm2");
    assert_int_equal(num(b, "sent"), 3);
    assert_int_equal(num(b, "delivered"), 3);
    assert_int_equal(num(b, "copied"), 3);
    json_decref(root);
}

/* A packet a flow book counts that no skb holds (the test hook): that
 * flow's books do not balance, finish says so, the machines' still do. */
static void test_ledger_flow_leak_is_reported(void **state)
{
    int fin;
    json_t *root = run_ledger(NULL, 0, "flow:0", &fin), *b;
    const char *wl = "workload 0 tcp_stream vm1 -> host";

    (void)state;
    assert_int_equal(fin, -VNS_EPROTO);
    b = flow_book(root, wl, "vm1 -> host");
    assert_int_equal(num(b, "leaked"), 1);
    assert_true(json_is_false(json_object_get(b, "balanced")));
    assert_true(
        json_is_false(json_object_get(ledger_entry(root, "flows", "workload", wl), "balanced")));
    assert_true(json_is_true(json_object_get(
        ledger_entry(root, "flows", "workload", "workload 1 tcp_stream host -> vm1"), "balanced")));
    assert_true(
        json_is_true(json_object_get(ledger_entry(root, "machines", "name", "vm1"), "balanced")));
    assert_true(json_is_false(json_object_get(json_object_get(root, "ledger"), "balanced")));
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ledger_normal_run_balances, teardown),
        cmocka_unit_test_teardown(test_ledger_wire_faults_balance, teardown),
        cmocka_unit_test_teardown(test_ledger_full_tap_ring_balances, teardown),
        cmocka_unit_test_teardown(test_ledger_full_qdisc_drops_at_its_device, teardown),
        cmocka_unit_test_teardown(test_ledger_hostile_guest_balances, teardown),
        cmocka_unit_test_teardown(test_ledger_packed_virtqueues_balance, teardown),
        cmocka_unit_test_teardown(test_ledger_leak_is_reported, teardown),
        cmocka_unit_test_teardown(test_ledger_device_leak_is_reported, teardown),
        cmocka_unit_test_teardown(test_ledger_virtqueue_imbalance_is_reported, teardown),
        cmocka_unit_test_teardown(test_ledger_guest_host_boundary, teardown),
        cmocka_unit_test_teardown(test_ledger_flow_books_mid_transfer, teardown),
        cmocka_unit_test_teardown(test_ledger_flow_books_quiet_end, teardown),
        cmocka_unit_test_teardown(test_ledger_flow_books_lossy_wire, teardown),
        cmocka_unit_test_teardown(test_ledger_flow_books_bridge_flood, teardown),
        cmocka_unit_test_teardown(test_ledger_flow_leak_is_reported, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
