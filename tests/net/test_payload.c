/* tests/net/test_payload.c -- synthetic payload content is a function of
 * (flow, stream offset mod 2^32), so offsets derived from 32-bit TCP
 * sequence numbers name the same bytes after 4 GiB (regression: a 6 s
 * tap-bridge run reported one mismatch past 4 GiB). */
#include "support/vns_test.h"
#include "vnetsim/skb.h"

static void test_payload_periodic_in_2_32(void **state)
{
    (void)state;
    for (uint64_t off = 0; off < 4096; off += 7) {
        assert_int_equal(vns_payload_byte(42, off), vns_payload_byte(42, off + (1ull << 32)));
        assert_int_equal(vns_payload_byte(42, 0xfffff000u + off), vns_payload_byte(42, (1ull << 33) + 0xfffff000u + off));
    }
}

/* Different flows and offsets give different bytes (not a constant). */
static void test_payload_varies(void **state)
{
    unsigned same = 0;

    (void)state;
    for (uint64_t off = 0; off < 4096; off++)
        same += vns_payload_byte(1, off) == vns_payload_byte(2, off);
    assert_true(same < 64);   /* ~16 expected by chance */
    same = 0;
    for (uint64_t off = 0; off < 4096; off++)
        same += vns_payload_byte(1, off) == vns_payload_byte(1, off + 1);
    assert_true(same < 64);
}

/* vns_payload_fill gives vns_payload_byte's bytes for every alignment and
 * length, across the 2^32 wrap too. */
static void test_payload_fill_matches_bytes(void **state)
{
    static const uint64_t starts[] = {0, 1, 7, 8, 13, 4096 - 3, (1ull << 32) - 11, (1ull << 40) + 5};
    uint8_t buf[64];

    (void)state;
    for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++)
        for (size_t n = 0; n <= sizeof(buf); n++) {
            vns_payload_fill(0x1234567, starts[s], buf, n);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(buf[i], vns_payload_byte(0x1234567, starts[s] + i));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload_periodic_in_2_32),
        cmocka_unit_test(test_payload_varies),
        cmocka_unit_test(test_payload_fill_matches_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
