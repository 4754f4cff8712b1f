/* tests/core/test_stats.c -- histograms: exact small values, bounded
 * relative error, percentiles against a sorted reference, merge. */
#include <stdlib.h>

#include "support/vns_test.h"
#include "vnetsim/stats.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Small values are exact; percentiles of a known set. */
static void test_stats_exact_small(void **state)
{
    struct vns_hist h;

    (void)state;
    vns_hist_init(&h);
    assert_int_equal(vns_hist_percentile(&h, 50), 0);
    for (uint64_t v = 1; v <= 100; v++)
        vns_hist_record(&h, v);
    assert_int_equal(h.count, 100);
    assert_int_equal(vns_hist_percentile(&h, 50), 50);
    assert_int_equal(vns_hist_percentile(&h, 99), 99);
    assert_int_equal(vns_hist_percentile(&h, 100), 100);
    assert_int_equal(vns_hist_percentile(&h, 0), 1);
    assert_true(vns_hist_mean(&h) == 50.5);
}

/* Random values over many magnitudes: every percentile is within the
 * bucket precision (1/2^SUB_BITS) above the exact order statistic. */
static void test_stats_percentiles_match_reference(void **state)
{
    enum { N = 20000 };
    static struct vns_hist h;
    uint64_t *v = malloc(N * sizeof(*v));
    struct vns_rng r;
    const double ps[] = {1, 10, 50, 90, 99, 99.9};

    (void)state;
    vns_hist_init(&h);
    vns_rng_seed(&r, 5, "hist");
    for (int i = 0; i < N; i++) {
        v[i] = vns_rng_u64(&r) >> vns_rng_below(&r, 64);
        vns_hist_record(&h, v[i]);
    }
    qsort(v, N, sizeof(*v), cmp_u64);
    for (size_t k = 0; k < VNS_ARRAY_SIZE(ps); k++) {
        uint64_t exact = v[(size_t)((ps[k] / 100.0) * N + 0.5) - 1];
        uint64_t got = vns_hist_percentile(&h, ps[k]);

        assert_true(got >= exact);
        assert_true((double)(got - exact) <= (double)exact / (1u << VNS_HIST_SUB_BITS) + 1);
    }
    assert_int_equal(vns_hist_percentile(&h, 100), v[N - 1]);
    free(v);
}

/* Extremes do not overflow; merge adds counts and keeps min/max. */
static void test_stats_extremes_and_merge(void **state)
{
    static struct vns_hist a, b;

    (void)state;
    vns_hist_init(&a);
    vns_hist_init(&b);
    vns_hist_record(&a, UINT64_MAX);
    vns_hist_record(&a, 0);
    vns_hist_record(&b, 1000);
    vns_hist_merge(&a, &b);
    assert_int_equal(a.count, 3);
    assert_int_equal(a.min, 0);
    assert_int_equal(a.max, UINT64_MAX);
    assert_int_equal(a.sum, UINT64_MAX);                 /* saturated */
    assert_int_equal(vns_hist_percentile(&a, 99), UINT64_MAX);
    assert_true(vns_hist_percentile(&a, 50) >= 1000 && vns_hist_percentile(&a, 50) < 1008);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_exact_small),
        cmocka_unit_test(test_stats_percentiles_match_reference),
        cmocka_unit_test(test_stats_extremes_and_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
