/* tests/core/test_units.c -- values with units, and errors. */
#include "support/vns_test.h"

static void test_units_time(void **state)
{
    vns_time_t t;

    (void)state;
    assert_int_equal(vns_parse_time("250us", &t), 0);
    assert_int_equal(t, 250000);
    assert_int_equal(vns_parse_time("1.5ms", &t), 0);
    assert_int_equal(t, 1500000);
    assert_int_equal(vns_parse_time("0.1ms", &t), 0);
    assert_int_equal(t, 100000);
    assert_int_equal(vns_parse_time("2s", &t), 0);
    assert_int_equal(t, VNS_SEC(2));
    assert_int_equal(vns_parse_time("42", &t), 0);
    assert_int_equal(t, 42);
    assert_int_equal(vns_parse_time("1 s", &t), 0);
    assert_int_equal(vns_parse_time("", &t), -VNS_EINVAL);
    assert_int_equal(vns_parse_time("ms", &t), -VNS_EINVAL);
    assert_int_equal(vns_parse_time("-1s", &t), -VNS_EINVAL);
    assert_int_equal(vns_parse_time("1min", &t), -VNS_EINVAL);
    assert_int_equal(vns_parse_time("1sx", &t), -VNS_EINVAL);
    assert_int_equal(vns_parse_time("99999999999999999999s", &t), -VNS_ERANGE);
    assert_int_equal(vns_parse_time("18446744074s", &t), -VNS_ERANGE);
    assert_int_equal(vns_parse_time(NULL, &t), -VNS_EINVAL);
}

static void test_units_size_rate(void **state)
{
    uint64_t v;

    (void)state;
    assert_int_equal(vns_parse_size("64KiB", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(vns_parse_size("1500", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(vns_parse_size("4k", &v), 0);
    assert_int_equal(v, 4000);
    assert_int_equal(vns_parse_size("1.5MiB", &v), 0);
    assert_int_equal(v, 1572864);
    assert_int_equal(vns_parse_size("3Kib", &v), -VNS_EINVAL);
    assert_int_equal(vns_parse_rate("10Gbit", &v), 0);
    assert_int_equal(v, 10000000000ull);
    assert_int_equal(vns_parse_rate("9.4Gbps", &v), 0);
    assert_int_equal(v, 9400000000ull);
    assert_int_equal(vns_parse_rate("10", &v), -VNS_EINVAL);   /* a rate needs a unit */
    assert_int_equal(vns_parse_u64("0x10", &v), 0);
    assert_int_equal(v, 16);
    assert_int_equal(vns_parse_u64("18446744073709551615", &v), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(vns_parse_u64("18446744073709551616", &v), -VNS_ERANGE);
    assert_int_equal(vns_parse_u64("12a", &v), -VNS_EINVAL);
}

static void test_units_format(void **state)
{
    char b[32];

    (void)state;
    assert_string_equal(vns_format_time(999, b, sizeof(b)), "999ns");
    assert_string_equal(vns_format_time(1500, b, sizeof(b)), "1.500us");
    assert_string_equal(vns_format_time(VNS_MSEC(2) + 5000, b, sizeof(b)), "2.005ms");
    assert_string_equal(vns_format_time(VNS_SEC(3), b, sizeof(b)), "3.000s");
}

/* Errors: names, texts, and file:line:col diagnostics. */
static void test_units_errors_and_diag(void **state)
{
    struct vns_diag d;
    char buf[128];

    (void)state;
    assert_string_equal(vns_errname(-VNS_EPROTO), "EPROTO");
    assert_string_equal(vns_strerror(VNS_ENOMEM), "out of memory");
    assert_string_equal(vns_strerror(-9999), "unknown error");
    assert_string_equal(vns_errname(-VNS_ECONNREFUSED), "ECONNREFUSED");
    assert_int_equal(VNS_ECONNRESET, 104);   /* Linux's numbers */
    assert_int_equal(vns_diag_set(&d, -VNS_EINVAL, "a.yaml", 3, 7, "expected %s", "a time"), -VNS_EINVAL);
    vns_diag_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, "a.yaml:3:7: error: expected a time");
    vns_diag_set(&d, -VNS_EINVAL, "", 0, 0, "bad");
    vns_diag_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, "error: bad");
    assert_int_equal(vns_diag_set(NULL, -VNS_EIO, "x", 1, 1, "y"), -VNS_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units_time),
        cmocka_unit_test(test_units_size_rate),
        cmocka_unit_test(test_units_format),
        cmocka_unit_test(test_units_errors_and_diag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
