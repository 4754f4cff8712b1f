/* tests/core/test_rng.c -- seeded streams: known answers, determinism,
 * independence, ranges. */
#include <math.h>
#include <string.h>

#include "support/vns_test.h"

/* xoshiro256** from state {1,2,3,4}: the reference implementation's first
 * outputs (computed independently with Python's integers). */
static void test_rng_known_answers(void **state)
{
    struct vns_rng r = {{1, 2, 3, 4}};
    const uint64_t expect[4] = {11520ull, 0ull, 1509978240ull, 1215971899390074240ull};

    (void)state;
    for (int i = 0; i < 4; i++)
        assert_int_equal(vns_rng_u64(&r), expect[i]);
}

/* Same seed and stream name, same numbers. */
static void test_rng_deterministic(void **state)
{
    struct vns_rng a, b;

    (void)state;
    vns_rng_seed(&a, 42, "wire0.loss");
    vns_rng_seed(&b, 42, "wire0.loss");
    for (int i = 0; i < 1000; i++)
        assert_int_equal(vns_rng_u64(&a), vns_rng_u64(&b));
}

/* Streams are independent: drawing from one never changes another, and
 * different names or seeds give different sequences. */
static void test_rng_streams_independent(void **state)
{
    struct vns_sim *sim = vns_test_sim(42);
    struct vns_rng a1, b1, a2, b2, c;
    uint64_t first[8];

    (void)state;
    vns_sim_rng(sim, "a", &a1);
    vns_sim_rng(sim, "b", &b1);
    for (int i = 0; i < 8; i++)
        first[i] = vns_rng_u64(&b1);
    /* A second world where stream a is used heavily before b. */
    vns_sim_rng(sim, "a", &a2);
    for (int i = 0; i < 100000; i++)
        (void)vns_rng_u64(&a2);
    vns_sim_rng(sim, "b", &b2);
    for (int i = 0; i < 8; i++)
        assert_int_equal(vns_rng_u64(&b2), first[i]);
    assert_int_not_equal(vns_rng_u64(&a1), first[0]);
    vns_rng_seed(&c, 43, "b");
    assert_int_not_equal(vns_rng_u64(&c), first[0]);
    vns_sim_destroy(sim);
    assert_no_leaks();
}

/* below(n) stays in range and is close to uniform (chi-square, 10 bins). */
static void test_rng_below_uniform(void **state)
{
    struct vns_rng r;
    unsigned bins[10] = {0};
    double chi = 0;
    const int n = 100000;

    (void)state;
    vns_rng_seed(&r, 1, "uniform");
    assert_int_equal(vns_rng_below(&r, 0), 0);
    assert_int_equal(vns_rng_below(&r, 1), 0);
    for (int i = 0; i < n; i++) {
        uint64_t v = vns_rng_below(&r, 10);

        assert_true(v < 10);
        bins[v]++;
    }
    for (int i = 0; i < 10; i++)
        chi += pow((double)bins[i] - n / 10.0, 2) / (n / 10.0);
    assert_true(chi < 27.9);   /* p = 0.001 for 9 degrees of freedom */
    for (int i = 0; i < 1000; i++) {
        double d = vns_rng_double(&r);

        assert_true(d >= 0.0 && d < 1.0);
        assert_true(vns_rng_below(&r, UINT64_MAX) < UINT64_MAX);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_known_answers),
        cmocka_unit_test(test_rng_deterministic),
        cmocka_unit_test(test_rng_streams_independent),
        cmocka_unit_test(test_rng_below_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
