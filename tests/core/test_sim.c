/* tests/core/test_sim.c -- the event queue, timers, run loop, fingerprint. */
#include <stdlib.h>
#include <string.h>

#include "support/vns_test.h"

struct rec {
    vns_time_t at[64];
    int id[64];
    int n;
};

struct tev {
    struct vns_timer t;
    struct rec *r;
    int id;
};

static void tev_fire(struct vns_sim *sim, struct vns_timer *t)
{
    struct tev *e = t->data;

    e->r->at[e->r->n] = vns_sim_now(sim);
    e->r->id[e->r->n++] = e->id;
}

static void tev_init(struct tev *e, struct rec *r, int id)
{
    vns_timer_init(&e->t, tev_fire, e, (uint32_t)id);
    e->r = r;
    e->id = id;
}

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* Events fire in time order; equal times fire in the order they were armed. */
static void test_sim_order_and_ties(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct rec r = {0};
    struct tev e[6];
    const vns_time_t when[6] = {50, 10, 50, 10, 0, 50};

    (void)state;
    for (int i = 0; i < 6; i++) {
        tev_init(&e[i], &r, i);
        assert_int_equal(vns_timer_arm(sim, &e[i].t, when[i]), 0);
    }
    assert_int_equal(vns_sim_run(sim, 100), 0);
    assert_int_equal(r.n, 6);
    const int order[6] = {4, 1, 3, 0, 2, 5};
    for (int i = 0; i < 6; i++)
        assert_int_equal(r.id[i], order[i]);
    assert_int_equal(vns_sim_now(sim), 100);
    vns_sim_destroy(sim);
}

/* Cancel removes a pending timer; re-arming moves it (and puts it after
 * others already armed for the same time). */
static void test_sim_cancel_and_rearm(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct rec r = {0};
    struct tev a, b, c;

    (void)state;
    tev_init(&a, &r, 1);
    tev_init(&b, &r, 2);
    tev_init(&c, &r, 3);
    vns_timer_arm(sim, &a.t, 10);
    vns_timer_arm(sim, &b.t, 20);
    vns_timer_arm(sim, &c.t, 30);
    assert_true(vns_timer_cancel(sim, &b.t));
    assert_false(vns_timer_cancel(sim, &b.t));
    assert_false(vns_timer_pending(&b.t));
    vns_timer_arm(sim, &a.t, 30);          /* re-arm: now after c */
    assert_int_equal(vns_sim_pending(sim), 2);
    vns_sim_run(sim, 1000);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.id[0], 3);
    assert_int_equal(r.id[1], 1);
    assert_int_equal(r.at[1], 30);
    vns_sim_destroy(sim);
}

/* The engine never goes back in time. */
static void test_sim_arm_in_past_fails(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct rec r = {0};
    struct tev a;

    (void)state;
    tev_init(&a, &r, 1);
    vns_sim_run(sim, 100);
    assert_int_equal(vns_timer_arm(sim, &a.t, 99), -VNS_EINVAL);
    assert_int_equal(vns_timer_arm(sim, &a.t, 100), 0);
    vns_sim_destroy(sim);
}

/* Events after `until` stay pending; a later run picks them up. */
static void test_sim_run_until_keeps_later_events(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct rec r = {0};
    struct tev a, b;

    (void)state;
    tev_init(&a, &r, 1);
    tev_init(&b, &r, 2);
    vns_timer_arm(sim, &a.t, 10);
    vns_timer_arm(sim, &b.t, 200);
    vns_sim_run(sim, 100);
    assert_int_equal(r.n, 1);
    assert_int_equal(vns_sim_next_time(sim), 200);
    vns_sim_run(sim, 200);                 /* inclusive */
    assert_int_equal(r.n, 2);
    assert_int_equal(vns_sim_next_time(sim), VNS_TIME_NEVER);
    vns_sim_destroy(sim);
}

static void stop_cb(struct vns_sim *sim, void *arg)
{
    int *n = arg;

    if (++*n == 3)
        vns_sim_stop(sim);
}

/* vns_sim_stop ends a run at the event boundary with -VNS_ECANCELED. */
static void test_sim_stop_at_event_boundary(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    int n = 0;

    (void)state;
    for (int i = 1; i <= 10; i++)
        assert_int_equal(vns_sim_call_at(sim, (vns_time_t)i * 10, stop_cb, &n, 0), 0);
    assert_int_equal(vns_sim_run(sim, 1000), -VNS_ECANCELED);
    assert_int_equal(n, 3);
    assert_int_equal(vns_sim_now(sim), 30);
    assert_int_equal(vns_sim_pending(sim), 7);
    vns_sim_destroy(sim);
}

static void count_cb(struct vns_sim *sim, void *arg)
{
    (void)sim;
    ++*(int *)arg;
}

/* One-shot calls come from a pool: thousands in flight, all fire, none leak. */
static void test_sim_call_pool(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    int n = 0;

    (void)state;
    for (int i = 0; i < 5000; i++)
        assert_int_equal(vns_sim_call_at(sim, (vns_time_t)(i % 97), count_cb, &n, 0), 0);
    vns_sim_run(sim, 1000);
    assert_int_equal(n, 5000);
    assert_int_equal(vns_sim_events_run(sim), 5000);
    vns_sim_destroy(sim);
}

/* Model check of the heap: random arm/re-arm/cancel against a plain
 * array; the firing order must be the reference's (time, seq) order. */
struct mtimer {
    struct vns_timer t;
    vns_time_t exp;
    uint64_t seq;
    bool armed;
};

static int fired[400];
static int fired_count;

static void mt_fire(struct vns_sim *sim, struct vns_timer *t)
{
    (void)sim;
    fired[fired_count++] = (int)t->owner;
}

static struct mtimer *mt_ref;

static int mt_cmp(const void *a, const void *b)
{
    const struct mtimer *x = &mt_ref[*(const int *)a], *y = &mt_ref[*(const int *)b];

    if (x->exp != y->exp)
        return x->exp < y->exp ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void test_sim_heap_matches_reference(void **state)
{
    enum { N = 300 };
    struct vns_sim *sim = vns_test_sim(7);
    struct mtimer *m = vns_calloc(N, sizeof(*m));
    int expect[N], nexp = 0;
    struct vns_rng rng;
    uint64_t seq = 0;

    (void)state;
    vns_rng_seed(&rng, 7, "heap");
    fired_count = 0;
    for (int i = 0; i < N; i++)
        vns_timer_init(&m[i].t, mt_fire, &m[i], (uint32_t)i);
    for (int op = 0; op < 5000; op++) {
        struct mtimer *x = &m[vns_rng_below(&rng, N)];

        if (vns_rng_below(&rng, 4) == 0) {
            assert_int_equal(vns_timer_cancel(sim, &x->t), x->armed);
            x->armed = false;
        } else {
            x->exp = vns_rng_below(&rng, 50);
            x->seq = seq++;
            x->armed = true;
            assert_int_equal(vns_timer_arm(sim, &x->t, x->exp), 0);
        }
    }
    for (int i = 0; i < N; i++)
        if (m[i].armed)
            expect[nexp++] = i;
    mt_ref = m;
    qsort(expect, (size_t)nexp, sizeof(expect[0]), mt_cmp);
    assert_int_equal(vns_sim_pending(sim), nexp);
    vns_sim_run(sim, 100);
    assert_int_equal(fired_count, nexp);
    assert_memory_equal(fired, expect, (size_t)nexp * sizeof(int));
    vns_free(m);
    vns_sim_destroy(sim);
}

/* Model check with the run interleaved: callbacks re-arm themselves, arm
 * and cancel others; runs stop short of the next event; delays span every
 * digit of the queue's radix (0 ns to 2^50 ns). Each event that fires must
 * be the reference's least (expires, seq), and vns_sim_next_time and
 * vns_sim_pending must agree with it throughout. */
enum { LN = 200 };
static struct mtimer live[LN];
static struct vns_rng live_rng;
static uint64_t live_seq;
static uint64_t live_fired;

static vns_time_t live_delay(void)
{
    static const unsigned shift[] = {0, 3, 8, 12, 16, 24, 33, 50};
    unsigned s = shift[vns_rng_below(&live_rng, 8)];

    return s ? vns_rng_below(&live_rng, 1ull << s) : 0;
}

/* A time at or after now; half of them rounded up to a power of two, so
 * that events armed at different distances share an expires (their order
 * then rests on seq alone). */
static vns_time_t live_when(struct vns_sim *sim)
{
    vns_time_t t = vns_sim_now(sim) + live_delay(), q;

    if (vns_rng_below(&live_rng, 2))
        return t;
    q = 1ull << vns_rng_below(&live_rng, 24);
    return (t + q - 1) & ~(q - 1);
}

static void live_arm(struct vns_sim *sim, struct mtimer *x, vns_time_t exp)
{
    assert_int_equal(vns_timer_arm(sim, &x->t, exp), 0);
    x->exp = exp;
    x->seq = live_seq++;
    x->armed = true;
}

static int live_min(void)
{
    int best = -1;

    for (int i = 0; i < LN; i++)
        if (live[i].armed && (best < 0 || live[i].exp < live[best].exp ||
                              (live[i].exp == live[best].exp && live[i].seq < live[best].seq)))
            best = i;
    return best;
}

static size_t live_pending(void)
{
    size_t n = 0;

    for (int i = 0; i < LN; i++)
        n += live[i].armed;
    return n;
}

static void live_fire(struct vns_sim *sim, struct vns_timer *t)
{
    struct mtimer *me = t->data;
    int want = live_min();

    assert_int_equal((int)t->owner, want);
    assert_int_equal(vns_sim_now(sim), me->exp);
    me->armed = false;
    live_fired++;
    assert_int_equal(vns_sim_pending(sim), live_pending());
    assert_int_equal(vns_sim_next_time(sim),
                     live_min() < 0 ? VNS_TIME_NEVER : live[live_min()].exp);
    for (unsigned k = vns_rng_below(&live_rng, 3); k > 0; k--) {
        struct mtimer *x = &live[vns_rng_below(&live_rng, LN)];

        if (vns_rng_below(&live_rng, 3) == 0) {
            assert_int_equal(vns_timer_cancel(sim, &x->t), x->armed);
            x->armed = false;
        } else {
            live_arm(sim, x, live_when(sim));
        }
    }
}

static void test_sim_queue_matches_reference_live(void **state)
{
    struct vns_sim *sim = vns_test_sim(9);

    (void)state;
    memset(live, 0, sizeof(live));
    live_seq = live_fired = 0;
    vns_rng_seed(&live_rng, 9, "queue");
    for (int i = 0; i < LN; i++)
        vns_timer_init(&live[i].t, live_fire, &live[i], (uint32_t)i);
    for (int round = 0; round < 3000; round++) {
        struct mtimer *x = &live[vns_rng_below(&live_rng, LN)];
        int m;

        switch (vns_rng_below(&live_rng, 4)) {
        case 0:
            assert_int_equal(vns_timer_cancel(sim, &x->t), x->armed);
            x->armed = false;
            break;
        case 1:
        case 2:
            live_arm(sim, x, live_when(sim));
            break;
        default:
            /* Run to just short of, or past, the next event. */
            m = live_min();
            if (m >= 0 && live[m].exp > vns_sim_now(sim) && vns_rng_below(&live_rng, 2))
                assert_int_equal(vns_sim_run(sim, live[m].exp - 1), 0);
            else
                assert_int_equal(vns_sim_run(sim, vns_sim_now(sim) + live_delay()), 0);
            break;
        }
        assert_int_equal(vns_sim_pending(sim), live_pending());
        m = live_min();
        assert_int_equal(vns_sim_next_time(sim), m < 0 ? VNS_TIME_NEVER : live[m].exp);
    }
    assert_true(live_fired > 1000);
    vns_sim_destroy(sim);
}

/* A fixed event stream gives a fixed fingerprint; a change in time, kind or
 * owner changes it. */
static uint64_t fp_of(vns_time_t t2, uint32_t owner2, uint64_t seed)
{
    struct vns_sim *sim = vns_test_sim(seed);
    int n = 0;
    uint64_t fp;

    vns_sim_call_at(sim, 5, count_cb, &n, 1);
    vns_sim_call_at(sim, t2, count_cb, &n, owner2);
    vns_sim_run(sim, 100);
    fp = vns_sim_fingerprint(sim);
    vns_sim_destroy(sim);
    return fp;
}

static void test_sim_fingerprint_sensitive(void **state)
{
    (void)state;
    assert_int_equal(fp_of(9, 2, 1), fp_of(9, 2, 1));
    assert_int_not_equal(fp_of(9, 2, 1), fp_of(10, 2, 1));
    assert_int_not_equal(fp_of(9, 2, 1), fp_of(9, 3, 1));
    assert_int_not_equal(fp_of(9, 2, 1), fp_of(9, 2, 2));
}

/* Unknown profiles are refused; the default is linux-5.4. */
static void test_sim_profiles(void **state)
{
    struct vns_sim *sim = NULL;

    (void)state;
    assert_int_equal(vns_sim_create(&(struct vns_sim_config){.profile = "linux-2.6"}, &sim), -VNS_ENOENT);
    assert_null(sim);
    sim = vns_test_sim(0);
    assert_string_equal(vns_profile_name(vns_sim_profile(sim)), "linux-5.4");
    vns_sim_destroy(sim);
    vns_sim_destroy(NULL);
}

/* Allocation failures on every allocation of create+arm unwind cleanly. */
static void test_sim_alloc_failure_sweep(void **state)
{
    (void)state;
    for (long nth = 1; nth < 10; nth++) {
        struct vns_sim *sim = NULL;
        int n = 0, err;

        vns_alloc_fail_at(nth);
        err = vns_sim_create(NULL, &sim);
        if (err == 0) {
            err = vns_sim_call_at(sim, 1, count_cb, &n, 0);
            assert_true(err == 0 || err == -VNS_ENOMEM);
            vns_sim_destroy(sim);
        } else {
            assert_int_equal(err, -VNS_ENOMEM);
            assert_null(sim);
        }
        vns_alloc_fail_at(0);
        assert_no_leaks();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sim_order_and_ties, teardown),
        cmocka_unit_test_teardown(test_sim_cancel_and_rearm, teardown),
        cmocka_unit_test_teardown(test_sim_arm_in_past_fails, teardown),
        cmocka_unit_test_teardown(test_sim_run_until_keeps_later_events, teardown),
        cmocka_unit_test_teardown(test_sim_stop_at_event_boundary, teardown),
        cmocka_unit_test_teardown(test_sim_call_pool, teardown),
        cmocka_unit_test_teardown(test_sim_heap_matches_reference, teardown),
        cmocka_unit_test_teardown(test_sim_queue_matches_reference_live, teardown),
        cmocka_unit_test_teardown(test_sim_fingerprint_sensitive, teardown),
        cmocka_unit_test_teardown(test_sim_profiles, teardown),
        cmocka_unit_test_teardown(test_sim_alloc_failure_sweep, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
