/* tests/core/test_demo.c -- the engine demo end to end: determinism and
 * the golden fingerprint (tests/golden/demo.fingerprint).
 *
 * The golden file is written by this program when VNS_UPDATE_GOLDEN=1
 * (scripts/update-golden), then reviewed and committed. Every build type
 * runs this test against the same file, so a result that depends on the
 * optimiser or the compiler shows as a failure. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/vns_test.h"

#define GOLDEN VNS_SOURCE_DIR "/tests/golden/demo.fingerprint"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* Run the default demo and render its deterministic figures. */
static void demo_render(uint64_t seed, struct vns_demo_config cfg, char *buf, size_t len)
{
    struct vns_sim *sim = vns_test_sim(seed);
    struct vns_demo *d = NULL;
    struct vns_demo_stats st;

    assert_int_equal(vns_demo_create(sim, &cfg, &d), 0);
    assert_int_equal(vns_sim_run(sim, VNS_MSEC(100)), 0);
    vns_demo_stats(d, &st);
    snprintf(buf, len,
             "# vnetsim run --seed %" PRIu64 " --duration 100ms (engine demo, linux-5.4)\n"
             "fingerprint 0x%016" PRIx64 "\n"
             "events %" PRIu64 "\n"
             "produced %" PRIu64 "\n"
             "completed %" PRIu64 "\n"
             "finish_time_ns %" PRIu64 "\n"
             "kicks %" PRIu64 "\n"
             "interrupts %" PRIu64 "\n"
             "worker_wakeups %" PRIu64 "\n"
             "vcpu_halts %" PRIu64 "\n"
             "host_cpu0_busy_ns %" PRIu64 "\n"
             "host_cpu1_busy_ns %" PRIu64 "\n",
             seed, vns_sim_fingerprint(sim), vns_sim_events_run(sim), st.produced, st.completed,
             (uint64_t)st.finish_time, st.kicks, st.irqs, st.worker_wakeups, st.vcpu_halts,
             st.host_busy_ns[0], st.host_busy_ns[1]);
    vns_demo_destroy(d);
    vns_sim_destroy(sim);
}

/* Same seed, same bytes. */
static void test_demo_deterministic(void **state)
{
    char a[2048], b[2048];

    (void)state;
    demo_render(42, vns_demo_default_config(), a, sizeof(a));
    demo_render(42, vns_demo_default_config(), b, sizeof(b));
    assert_string_equal(a, b);
}

/* The pipeline's invariants: every item completed once, the kick count
 * bounded by suppression, one interrupt per worker batch. */
static void test_demo_invariants(void **state)
{
    struct vns_sim *sim = vns_test_sim(3);
    struct vns_demo *d = NULL;
    struct vns_demo_stats st;
    struct vns_demo_config cfg = vns_demo_default_config();

    (void)state;
    cfg.items = 5000;
    assert_int_equal(vns_demo_create(sim, &cfg, &d), 0);
    vns_sim_run(sim, VNS_MSEC(100));
    vns_demo_stats(d, &st);
    assert_int_equal(st.produced, 5000);
    assert_int_equal(st.consumed, 5000);
    assert_int_equal(st.completed, 5000);
    assert_true(st.kicks < st.produced / 10);
    assert_int_equal(st.irqs, st.worker_wakeups);
    assert_int_equal(st.softirq_irq_exit, st.irqs);
    assert_true(st.finish_time > 0 && st.finish_time < VNS_MSEC(100));
    vns_demo_destroy(d);
    vns_sim_destroy(sim);
}

/* Sharing the vCPU's host CPU slows the pipeline down: the what-if the
 * engine exists to answer. */
static void test_demo_shared_cpu_is_slower(void **state)
{
    struct vns_demo_config cfg = vns_demo_default_config();
    vns_time_t t[2];

    (void)state;
    cfg.items = 20000;
    for (int shared = 0; shared < 2; shared++) {
        struct vns_sim *sim = vns_test_sim(1);
        struct vns_demo *d = NULL;
        struct vns_demo_stats st;

        cfg.shared_cpu = shared;
        vns_demo_create(sim, &cfg, &d);
        vns_sim_run(sim, VNS_SEC(1));
        vns_demo_stats(d, &st);
        assert_int_equal(st.completed, 20000);
        t[shared] = st.finish_time;
        vns_demo_destroy(d);
        vns_sim_destroy(sim);
    }
    assert_true(t[1] > t[0]);
}

/* The figures equal the golden file in every build type. */
static void test_demo_golden_fingerprint(void **state)
{
    char got[2048];

    (void)state;
    demo_render(42, vns_demo_default_config(), got, sizeof(got));
    assert_true(vns_test_golden_matches(GOLDEN, got));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_demo_deterministic, teardown),
        cmocka_unit_test_teardown(test_demo_invariants, teardown),
        cmocka_unit_test_teardown(test_demo_shared_cpu_is_slower, teardown),
        cmocka_unit_test_teardown(test_demo_golden_fingerprint, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
