/* tests/uv/test_uv.c -- the libuv driver: batches interleave with other
 * handles, pacing, SIGINT stops cleanly, thread-pool sweeps. */
#define _XOPEN_SOURCE 700
#include <signal.h>
#include <uv.h>

#include "support/vns_test.h"
#include "vnetsim/uv.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* A simulation with a long chain of events: each schedules the next. */
struct chain {
    uint64_t fired;
    uint64_t limit;
};

static void chain_cb(struct vns_sim *sim, void *arg)
{
    struct chain *c = arg;

    if (++c->fired < c->limit)
        vns_sim_call_at(sim, vns_sim_now(sim) + 1000, chain_cb, c, 0);
}

struct interleave {
    uv_idle_t other;
    uint64_t other_runs;
    uint64_t seen_mid_run; /* other handle ran while the sim was mid-way */
    struct vns_sim *sim;
    int status;
    bool done;
};

static void other_cb(uv_idle_t *h)
{
    struct interleave *t = h->data;

    t->other_runs++;
    if (!t->done && vns_sim_now(t->sim) > 0)
        t->seen_mid_run++;
}

static void il_done(struct vns_sim *sim, int status, void *arg)
{
    struct interleave *t = arg;

    (void)sim;
    t->status = status;
    t->done = true;
    uv_idle_stop(&t->other);
    uv_close((uv_handle_t *)&t->other, NULL);
}

/* Batches of 1000 events leave room for another idle handle of the loop. */
static void test_uv_interleaves_with_other_handles(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct chain c = {0, 100000};
    struct interleave t = {.sim = sim};
    uv_loop_t loop;

    (void)state;
    uv_loop_init(&loop);
    uv_idle_init(&loop, &t.other);
    t.other.data = &t;
    uv_idle_start(&t.other, other_cb);
    vns_sim_call_at(sim, 0, chain_cb, &c, 0);
    assert_int_equal(
        vns_uv_run_start(&loop, sim,
                         &(struct vns_uv_run_opts){
                             .until = VNS_SEC(1), .batch = 1000, .done = il_done, .arg = &t},
                         NULL),
        0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_true(t.done);
    assert_int_equal(t.status, 0);
    assert_int_equal(c.fired, 100000);
    assert_int_equal(vns_sim_now(sim), VNS_SEC(1));
    assert_true(t.seen_mid_run >= 50); /* ~100 batches, the other handle between */
    vns_sim_destroy(sim);
}

/* A signal raised in-process stops at an event boundary; done still runs
 * (that is where the CLI writes its outputs). */
struct sigtest {
    uv_timer_t timer;
    int signum; /* raised by the timer */
    int status;
    bool done;
    uint64_t events_at_done;
};

static void raise_signal(uv_timer_t *t)
{
    raise(((struct sigtest *)t->data)->signum);
}

static void sig_done(struct vns_sim *sim, int status, void *arg)
{
    struct sigtest *s = arg;

    s->status = status;
    s->done = true;
    s->events_at_done = vns_sim_events_run(sim);
    uv_close((uv_handle_t *)&s->timer, NULL);
}

/* Run a chain that would last an hour, raise @signum after 20 ms of wall
 * time, check the runner stopped cleanly because of it. */
static void sig_run(int signum)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct chain c = {0, UINT64_MAX}; /* would run for the full hour */
    struct sigtest s = {.signum = signum};
    int by = -1;
    uv_loop_t loop;

    uv_loop_init(&loop);
    uv_timer_init(&loop, &s.timer);
    s.timer.data = &s;
    uv_timer_start(&s.timer, raise_signal, 20, 0);
    vns_sim_call_at(sim, 0, chain_cb, &c, 0);
    assert_int_equal(vns_uv_run_start(&loop, sim,
                                      &(struct vns_uv_run_opts){.until = VNS_SEC(3600),
                                                                .handle_sigint = true,
                                                                .handle_sigterm = true,
                                                                .stopped_by = &by,
                                                                .done = sig_done,
                                                                .arg = &s},
                                      NULL),
                     0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    assert_true(s.done);
    assert_int_equal(s.status, -VNS_ECANCELED);
    assert_int_equal(by, signum);
    assert_int_equal(s.events_at_done, c.fired); /* stopped at an event boundary */
    assert_true(vns_sim_now(sim) < VNS_SEC(3600));
    assert_true(c.fired > 0);
    vns_sim_destroy(sim);
}

/* SIGINT stops the run at an event boundary and is reported. */
static void test_uv_sigint_stops_cleanly(void **state)
{
    (void)state;
    sig_run(SIGINT);
}

/* SIGTERM stops the run as SIGINT does. */
static void test_uv_sigterm_stops_cleanly(void **state)
{
    (void)state;
    sig_run(SIGTERM);
}

/* Pacing: 2 ms of virtual time at real-time pace takes about 2 ms of wall
 * time, never less (the virtual clock may not run ahead). */
static void test_uv_pacing_holds_back(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct chain c = {0, 2000}; /* events every 1 us for 2 ms */
    uint64_t t0 = uv_hrtime(), wall;

    (void)state;
    vns_sim_call_at(sim, 0, chain_cb, &c, 0);
    assert_int_equal(vns_uv_run(sim, &(struct vns_uv_run_opts){.until = VNS_MSEC(20), .pace = 1.0}),
                     0);
    wall = uv_hrtime() - t0;
    assert_int_equal(c.fired, 2000);
    assert_true(wall >= VNS_MSEC(19)); /* the run ends at 20 ms virtual */
    vns_sim_destroy(sim);
}

/* Sweeps: N independent simulations on the thread pool; each result is
 * what the same simulation gives when run alone. */
static int sweep_job(size_t i, void *arg)
{
    struct vns_sim *sim = NULL;
    struct vns_demo *d = NULL;
    uint64_t *fps = arg;

    if (vns_sim_create(&(struct vns_sim_config){.seed = i}, &sim) < 0)
        return -1;
    vns_demo_create(sim,
                    &(struct vns_demo_config){.items = 2000 + 100 * i,
                                              .queue_size = 64,
                                              .write_ns = 250,
                                              .work_ns = 300,
                                              .complete_ns = 100},
                    &d);
    vns_sim_run(sim, VNS_MSEC(5));
    fps[i] = vns_sim_fingerprint(sim);
    vns_demo_destroy(d);
    vns_sim_destroy(sim);
    return 0;
}

static void test_uv_sweep_matches_serial(void **state)
{
    enum { N = 6 };
    uint64_t par[N], ser[N];
    int res[N];

    (void)state;
    assert_int_equal(vns_uv_sweep(N, sweep_job, par, res), 0);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(res[i], 0);
        sweep_job(i, ser);
        assert_int_equal(par[i], ser[i]);
    }
    assert_int_not_equal(par[0], par[1]);
}

/* Bad options are refused before anything runs. */
static void test_uv_bad_options(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);

    (void)state;
    vns_sim_run(sim, 100);
    assert_int_equal(vns_uv_run(sim, &(struct vns_uv_run_opts){.until = 50}), -VNS_EINVAL);
    assert_int_equal(vns_uv_run(sim, &(struct vns_uv_run_opts){.until = 500, .pace = -1}),
                     -VNS_EINVAL);
    assert_int_equal(vns_uv_run(sim, NULL), -VNS_EINVAL);
    vns_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_uv_interleaves_with_other_handles, teardown),
        cmocka_unit_test_teardown(test_uv_sigint_stops_cleanly, teardown),
        cmocka_unit_test_teardown(test_uv_sigterm_stops_cleanly, teardown),
        cmocka_unit_test_teardown(test_uv_pacing_holds_back, teardown),
        cmocka_unit_test_teardown(test_uv_sweep_matches_serial, teardown),
        cmocka_unit_test_teardown(test_uv_bad_options, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
