/* tests/core/test_series.c -- time series: gauges and rates sampled at a
 * fixed interval, written as CSV, without changing the simulation. */
#include <string.h>

#include "support/vns_test.h"

struct counter {
    double v;
};

static void bump(struct vns_sim *sim, void *arg)
{
    struct counter *c = arg;

    c->v += 10;                     /* 10 per 100 us = 100000 per second */
    if (vns_sim_now(sim) < VNS_MSEC(1))
        vns_sim_call_at(sim, vns_sim_now(sim) + VNS_USEC(100), bump, c, 1);
}

static double read_counter(void *arg)
{
    return ((struct counter *)arg)->v;
}

static uint64_t run(bool sample, char **csv)
{
    struct vns_sim *sim = vns_test_sim(4);
    struct counter c = {0};
    uint64_t fp;

    vns_sim_call_at(sim, VNS_USEC(50), bump, &c, 1);
    if (sample) {
        assert_int_equal(vns_series_add(sim, "count", read_counter, &c, false), 0);
        assert_int_equal(vns_series_add(sim, "count_per_s", read_counter, &c, true), 0);
        assert_int_equal(vns_series_start(sim, VNS_USEC(500)), 0);
        assert_int_equal(vns_series_add(sim, "late", read_counter, &c, false), -VNS_EBUSY);
    }
    vns_sim_run(sim, VNS_MSEC(1));
    fp = vns_sim_fingerprint(sim);
    if (sample) {
        FILE *f = tmpfile();
        long n;

        assert_int_equal(vns_series_samples(sim), 2);
        assert_int_equal(vns_series_write_csv(sim, f), 0);
        n = ftell(f);
        rewind(f);
        *csv = vns_malloc((size_t)n + 1);
        assert_int_equal(fread(*csv, 1, (size_t)n, f), (size_t)n);
        (*csv)[n] = '\0';
        fclose(f);
    }
    vns_sim_destroy(sim);
    return fp;
}

/* Gauge and rate columns at 0.5 ms and 1 ms; sampling leaves the
 * fingerprint unchanged. */
static void test_series_csv_and_fingerprint(void **state)
{
    char *csv = NULL;
    uint64_t with = run(true, &csv), without = run(false, NULL);

    (void)state;
    assert_int_equal(with, without);
    assert_string_equal(csv, "time_s,count,count_per_s\n"
                             "0.000500000,50,100000\n"
                             "0.001000000,100,100000\n");
    vns_free(csv);
    assert_no_leaks();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_csv_and_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
