/* tests/world/test_checksums.c -- examples/scenarios/checksums.yaml: with
 * every checksum and segmentation offload off and materialized payload,
 * every checksum of every frame of every capture verifies. The captures
 * are read with libpcap and each IPv4 header, TCP, UDP and ICMP checksum
 * recomputed (RFC 1071, over the pseudo-header for TCP and UDP); no frame
 * exceeds the MTU (no GSO frame reached a capture). If tshark is
 * installed it reads them too, with checksum validation on, and must find
 * nothing malformed and no bad checksum. */
#define _DEFAULT_SOURCE 1   /* libpcap's BSD types; popen */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/vns_test.h"
#include "vnetsim/scenario.h"
#include "vnetsim/world.h"

#define CAPS VNS_BINARY_DIR "/checksums-caps"
static const char *const caps[] = {"host-br0", "host-tap0", "vm1-eth0"};

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* Run the example with its captures in CAPS (once per program). */
static int run_example(void **state)
{
    struct vns_scenario *sc = NULL;
    struct vns_world *w = NULL;
    struct vns_diag d = {0};

    (void)state;
    if (system("mkdir -p " CAPS) != 0 ||
        vns_scenario_load(VNS_SOURCE_DIR "/examples/scenarios/checksums.yaml", NULL, 0, &sc, &d) < 0 ||
        vns_world_create(sc, &w, &d) < 0 || vns_world_pcap_start(w, CAPS, &d) < 0 ||
        vns_sim_run(vns_world_sim(w), sc->duration) < 0 || vns_world_pcap_stop(w, true) < 0)
        return -1;
    vns_world_destroy(w);
    vns_scenario_free(sc);
    return 0;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

struct counts {
    unsigned frames, ip, tcp, udp, icmp;
};

/* Every checksum of one Ethernet frame verifies. */
static void check_frame(const char *file, unsigned n, const u_char *f, uint32_t len, struct counts *c)
{
    const u_char *ip = f + 14, *l4;
    unsigned ihl, tot, proto;
    uint32_t ps;

    c->frames++;
    if (len > 1514)
        fail_msg("%s frame %u: %u bytes, above the MTU (a GSO frame)", file, n, len);
    if (len < 14 || f[12] != 0x08 || f[13] != 0x00)
        return;   /* ARP */
    ihl = (ip[0] & 15u) * 4;
    tot = (unsigned)(ip[2] << 8 | ip[3]);
    if (len < 14 + tot || tot < ihl)
        fail_msg("%s frame %u: IPv4 total length %u, frame %u", file, n, tot, len);
    if (fold(sum16(ip, ihl, 0)) != 0)
        fail_msg("%s frame %u: bad IPv4 header checksum", file, n);
    c->ip++;
    l4 = ip + ihl;
    proto = ip[9];
    ps = sum16(ip + 12, 8, 0) + proto + (tot - ihl);   /* pseudo-header */
    if (proto == 6) {
        if (fold(sum16(l4, tot - ihl, ps)) != 0)
            fail_msg("%s frame %u: bad TCP checksum 0x%02x%02x", file, n, l4[16], l4[17]);
        c->tcp++;
    } else if (proto == 17) {
        if ((l4[6] | l4[7]) == 0 || fold(sum16(l4, tot - ihl, ps)) != 0)
            fail_msg("%s frame %u: bad UDP checksum 0x%02x%02x", file, n, l4[6], l4[7]);
        c->udp++;
    } else if (proto == 1) {
        if (fold(sum16(l4, tot - ihl, 0)) != 0)
            fail_msg("%s frame %u: bad ICMP checksum", file, n);
        c->icmp++;
    }
}

static void test_checksums_all_verify(void **state)
{
    struct counts total = {0};

    (void)state;
    for (size_t i = 0; i < VNS_ARRAY_SIZE(caps); i++) {
        char path[512], err[PCAP_ERRBUF_SIZE];
        struct pcap_pkthdr *h;
        const u_char *data;
        struct counts c = {0};
        pcap_t *p;

        snprintf(path, sizeof(path), CAPS "/%s.pcap", caps[i]);
        p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
        if (!p)
            fail_msg("%s: %s", path, err);
        assert_int_equal(pcap_datalink(p), DLT_EN10MB);
        while (pcap_next_ex(p, &h, &data) == 1) {
            assert_int_equal(h->caplen, h->len);
            check_frame(caps[i], c.frames + 1, data, h->caplen, &c);
        }
        pcap_close(p);
        /* every kind of checksum is there to check on every device */
        assert_true(c.tcp > 100 && c.udp > 50 && c.icmp >= 10);
        total.frames += c.frames;
        total.ip += c.ip;
    }
    assert_true(total.ip > 1000);
}

/* tshark, where installed: nothing malformed, no bad checksum. */
static void test_checksums_tshark(void **state)
{
    (void)state;
    if (system("command -v tshark >/dev/null 2>&1") != 0)
        skip();
    for (size_t i = 0; i < VNS_ARRAY_SIZE(caps); i++) {
        char cmd[1024], line[1024];
        FILE *f;
        unsigned bad = 0;

        snprintf(cmd, sizeof(cmd),
                 "tshark -r " CAPS "/%s.pcap -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE "
                 "-o udp.check_checksum:TRUE -Y '_ws.malformed || _ws.expert.severity >= error || "
                 "ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0 || "
                 "icmp.checksum.status == 0' 2>/dev/null",
                 caps[i]);
        f = popen(cmd, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
            print_message("tshark %s: %s", caps[i], line);
            bad++;
        }
        assert_int_equal(pclose(f), 0);
        assert_int_equal(bad, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_checksums_all_verify, teardown),
        cmocka_unit_test_teardown(test_checksums_tshark, teardown),
    };
    return cmocka_run_group_tests(tests, run_example, NULL);
}
