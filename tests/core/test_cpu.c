/* tests/core/test_cpu.c -- steps, cost accounting, wake-ups, scheduling,
 * hard interrupts and vCPUs. */
#include <string.h>

#include "support/vns_test.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

static uint64_t cost(struct vns_sim *sim, int f)
{
    return vns_cost_of(vns_sim_costs(sim), f, 0);
}

/* --- a two-context pipeline with exact times ------------------------------- */

struct pipe {
    struct vns_ctx *a, *b;
    int produced, consumed, total;
    vns_time_t done_at[8];
    vns_time_t step_start[8];
};

static int pipe_a(struct vns_ctx *ctx, void *arg)
{
    struct pipe *p = arg;

    if (p->produced == p->total)
        return VNS_STEP_DONE;
    vns_charge_ns(ctx, 100);
    p->produced++;
    vns_ctx_wake(ctx, p->b);
    return VNS_STEP_AGAIN;
}

static int pipe_b(struct vns_ctx *ctx, void *arg)
{
    struct pipe *p = arg;

    if (p->consumed == p->produced)
        return VNS_STEP_SLEEP;
    p->step_start[p->consumed] = vns_ctx_now(ctx);
    vns_charge_ns(ctx, 300);
    p->done_at[p->consumed++] = vns_ctx_now(ctx);
    return VNS_STEP_AGAIN;
}

/* Completion times follow from the cost model alone: A produces at 100,
 * 200, 300; B wakes on an idle CPU after the wake-up latency (1000 ns)
 * and takes 300 ns per item. */
static void test_cpu_pipeline_exact_times(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cost_table *ct = vns_sim_costs(sim);
    struct vns_cpu *c0 = vns_test_cpu(sim, "c0", NULL), *c1 = vns_test_cpu(sim, "c1", NULL);
    struct pipe p = {.total = 3};

    (void)state;
    assert_int_equal(vns_cost_set(ct, "try_to_wake_up", 0, -1), 0);
    assert_int_equal(vns_cost_set(ct, "sched_wakeup_idle_latency", 1000, -1), 0);
    p.a = vns_test_ctx(sim, VNS_CTX_KTHREAD, "a", c0, pipe_a, &p);
    p.b = vns_test_ctx(sim, VNS_CTX_KTHREAD, "b", c1, pipe_b, &p);
    vns_ctx_start(p.a, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(p.consumed, 3);
    assert_int_equal(p.done_at[0], 1400);
    assert_int_equal(p.done_at[1], 1700);
    assert_int_equal(p.done_at[2], 2000);
    assert_int_equal(vns_ctx_stats(p.a)->busy_ns, 300);
    assert_int_equal(vns_ctx_stats(p.b)->busy_ns, 900);
    assert_int_equal(vns_cpu_stats(c1)->busy_ns, 900);
    assert_int_equal(vns_ctx_stats(p.b)->wakeups, 1);   /* later wakes found it running */
    assert_true(vns_ctx_is_sleeping(p.b));
    assert_true(vns_cpu_is_idle(c0) && vns_cpu_is_idle(c1));
    vns_sim_destroy(sim);
}

/* --- producer/consumer with notification suppression --------------------- */

struct pc {
    struct vns_ctx *prod, *cons;
    int n, produced, consumed, kicks, kicks_while_busy;
    bool no_notify, in_batch, started;
    vns_time_t made_at[256];
    vns_time_t max_early;   /* how far before its production an item was seen */
};

static int pc_prod(struct vns_ctx *ctx, void *arg)
{
    struct pc *s = arg;

    if (s->produced == s->n)
        return VNS_STEP_DONE;
    vns_charge_ns(ctx, 100);
    s->made_at[s->produced++] = vns_ctx_now(ctx);
    if (!s->no_notify) {   /* the consumer's "busy, do not notify" */
        s->kicks++;
        s->kicks_while_busy += s->in_batch;
        vns_ctx_wake(ctx, s->cons);
    }
    return VNS_STEP_AGAIN;
}

static int pc_cons(struct vns_ctx *ctx, void *arg)
{
    struct pc *s = arg;

    if (!s->in_batch) {
        s->in_batch = true;
        s->no_notify = true;
    }
    if (s->consumed < s->produced) {
        vns_time_t seen = vns_ctx_now(ctx), made = s->made_at[s->consumed];

        if (made > seen && made - seen > s->max_early)
            s->max_early = made - seen;
        vns_charge_ns(ctx, 250);
        s->consumed++;
        return VNS_STEP_AGAIN;
    }
    s->no_notify = false;             /* enable, then re-check */
    if (s->consumed < s->produced) {
        s->no_notify = true;
        return VNS_STEP_AGAIN;
    }
    s->in_batch = false;
    return VNS_STEP_SLEEP;
}

/* The consumer, busy for 25 us over 100 items, sees the items the producer
 * writes meanwhile (never more than one producer step early), and the
 * producer sees "do not notify" and stops kicking. */
static void test_cpu_producer_consumer_shared_state(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "c0", NULL), *c1 = vns_test_cpu(sim, "c1", NULL);
    struct pc s = {.n = 100};

    (void)state;
    s.prod = vns_test_ctx(sim, VNS_CTX_USER, "prod", c0, pc_prod, &s);
    s.cons = vns_test_ctx(sim, VNS_CTX_KTHREAD, "cons", c1, pc_cons, &s);
    vns_ctx_start(s.prod, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(s.consumed, 100);
    /* The producer kicks until the woken consumer runs (wake-up latency),
     * then sees the flag: no kick while the consumer is busy. */
    assert_true(s.kicks >= 1 && s.kicks <= 10);
    assert_int_equal(s.kicks_while_busy, 0);
    assert_int_equal(vns_ctx_stats(s.cons)->wakeups, 1);
    assert_true(s.max_early <= 100);              /* error bound: one item */
    vns_sim_destroy(sim);
}

/* --- CPU contention ------------------------------------------------------------ */

struct spin {
    uint64_t steps;
};

static int spin_step(struct vns_ctx *ctx, void *arg)
{
    struct spin *s = arg;

    vns_charge_ns(ctx, 10000);
    s->steps++;
    return VNS_STEP_AGAIN;
}

/* Two always-busy threads on one CPU share it evenly (CFS), switching
 * about every sched_min_granularity; a third CPU's thread is unaffected. */
static void test_cpu_contention_fair_share(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "c0", NULL), *c1 = vns_test_cpu(sim, "c1", NULL);
    struct spin a = {0}, b = {0}, c = {0};
    struct vns_ctx *ta = vns_test_ctx(sim, VNS_CTX_KTHREAD, "a", c0, spin_step, &a);
    struct vns_ctx *tb = vns_test_ctx(sim, VNS_CTX_KTHREAD, "b", c0, spin_step, &b);
    struct vns_ctx *tc = vns_test_ctx(sim, VNS_CTX_KTHREAD, "c", c1, spin_step, &c);
    uint64_t sa, sb, sw;

    (void)state;
    vns_ctx_start(ta, 0);
    vns_ctx_start(tb, 0);
    vns_ctx_start(tc, 0);
    vns_sim_run(sim, VNS_MSEC(100));
    sa = vns_ctx_stats(ta)->busy_ns;
    sb = vns_ctx_stats(tb)->busy_ns;
    sw = vns_cpu_stats(c0)->ctx_switches;
    assert_true(sa > VNS_MSEC(45) && sa < VNS_MSEC(55));
    assert_true(sb > VNS_MSEC(45) && sb < VNS_MSEC(55));
    assert_true(sw > 100 && sw < 160);            /* ~100 ms / 0.75 ms */
    assert_true(c.steps >= 9990);                 /* alone on c1: 100 ms / 10 us */
    assert_int_equal(vns_cpu_stats(c1)->ctx_switches, 0);
    vns_sim_destroy(sim);
}

/* --- wake while still running ----------------------------------------------- */

struct late {
    struct vns_ctx *x, *y;
    int xsteps;
    vns_time_t xstart[4];
};

static int late_x(struct vns_ctx *ctx, void *arg)
{
    struct late *l = arg;

    l->xstart[l->xsteps++] = vns_ctx_now(ctx);
    if (l->xsteps == 1)
        vns_charge_ns(ctx, 1000);   /* decides to sleep at 1000 */
    return l->xsteps >= 3 ? VNS_STEP_DONE : VNS_STEP_SLEEP;
}

static int late_y(struct vns_ctx *ctx, void *arg)
{
    struct late *l = arg;

    vns_ctx_wake_at(l->x, vns_ctx_now(ctx));   /* at 500: x still running */
    return VNS_STEP_DONE;
}

/* A wake-up that arrives while the target is in the step that decides to
 * sleep is not lost: the target runs again at the end of that step, with
 * no wake-up latency and no wake-up counted. */
static void test_cpu_wake_during_step_not_lost(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "c0", NULL), *c1 = vns_test_cpu(sim, "c1", NULL);
    struct late l = {0};

    (void)state;
    l.x = vns_test_ctx(sim, VNS_CTX_KTHREAD, "x", c0, late_x, &l);
    l.y = vns_test_ctx(sim, VNS_CTX_KTHREAD, "y", c1, late_y, &l);
    vns_ctx_start(l.x, 0);
    vns_ctx_start(l.y, 500);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(l.xsteps, 2);
    assert_int_equal(l.xstart[1], 1000);
    assert_int_equal(vns_ctx_stats(l.x)->wakeups, 0);
    vns_sim_destroy(sim);
}

/* --- hard interrupts --------------------------------------------------------------- */

struct irqrec {
    vns_time_t at[8];
    int n;
};

static int rec_handler(struct vns_ctx *ctx, void *arg)
{
    struct irqrec *r = arg;

    r->at[r->n++] = vns_ctx_now(ctx);
    return VNS_STEP_DONE;
}

static int long_step(struct vns_ctx *ctx, void *arg)
{
    (void)arg;
    vns_charge_ns(ctx, 10000);
    return VNS_STEP_DONE;
}

/* An interrupt reaching a CPU in a step is taken when the step ends. */
static void test_cpu_irq_taken_at_step_end(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "c0", NULL);
    struct vns_ctx *k = vns_test_ctx(sim, VNS_CTX_KTHREAD, "k", c0, long_step, NULL);
    struct irqrec r = {0};
    struct vns_irq irq;

    (void)state;
    vns_irq_init(&irq, "test", c0, -1, rec_handler, &r);
    vns_ctx_start(k, 0);
    vns_irq_raise(sim, &irq, 2000);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(r.n, 1);
    assert_int_equal(r.at[0], 10000 + cost(sim, VNS_FN_ret_from_intr) + cost(sim, VNS_FN_do_IRQ));
    assert_int_equal(irq.taken, 1);
    assert_int_equal(vns_cpu_stats(c0)->irqs, 1);
    vns_sim_destroy(sim);
}

/* An interrupt raised again while pending is coalesced (one handler run). */
static void test_cpu_irq_coalesced_while_pending(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "c0", NULL);
    struct vns_ctx *k = vns_test_ctx(sim, VNS_CTX_KTHREAD, "k", c0, long_step, NULL);
    struct irqrec r = {0};
    struct vns_irq irq;

    (void)state;
    vns_irq_init(&irq, "test", c0, -1, rec_handler, &r);
    vns_ctx_start(k, 0);
    vns_irq_raise(sim, &irq, 1000);
    vns_irq_raise(sim, &irq, 2000);
    vns_irq_raise(sim, &irq, 20000);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(irq.raised, 3);
    assert_int_equal(irq.coalesced, 1);
    assert_int_equal(r.n, 2);
    vns_sim_destroy(sim);
}

/* A guest vCPU with nothing to run halts and frees its host CPU for other
 * threads; an interrupt wakes it after the vCPU wake-up latency. */
static void test_cpu_vcpu_halts_and_wakes_on_irq(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *h0 = vns_test_cpu(sim, "host/cpu0", NULL);
    struct vns_cpu *g0 = vns_test_cpu(sim, "vm/cpu0", h0);
    struct spin s = {0};
    struct vns_ctx *k = vns_test_ctx(sim, VNS_CTX_KTHREAD, "hostwork", h0, spin_step, &s);
    struct irqrec r = {0};
    struct vns_irq irq;
    vns_time_t expect;

    (void)state;
    vns_irq_init(&irq, "virtio0", g0, -1, rec_handler, &r);
    vns_ctx_start(k, 0);
    vns_irq_raise(sim, &irq, 5000);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(r.n, 1);
    /* The host thread holds h0; as in CFS the woken vCPU thread (whose
     * lead is under sched_wakeup_granularity) gets the CPU when the host
     * thread has run sched_min_granularity, at a 10 us step boundary. */
    expect = 5000 + cost(sim, VNS_FN_vcpu_wakeup);
    assert_true(r.at[0] >= expect);
    assert_true(r.at[0] <= cost(sim, VNS_FN_sched_min_granularity) + 10000 + 2000);
    assert_int_equal(vns_cpu_stats(g0)->halt_wakeups, 1);
    assert_int_equal(vns_cpu_stats(g0)->halts, 1);          /* halted again after */
    assert_true(vns_cpu_is_idle(g0));
    assert_true(s.steps > 90);                              /* host CPU mostly free */
    vns_sim_destroy(sim);
}

/* A vCPU with no host contention: exact time from the cost model. */
static void test_cpu_vcpu_irq_exact_time(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *h0 = vns_test_cpu(sim, "host/cpu0", NULL);
    struct vns_cpu *g0 = vns_test_cpu(sim, "vm/cpu0", h0);
    struct irqrec r = {0};
    struct vns_irq irq;

    (void)state;
    vns_irq_init(&irq, "virtio0", g0, -1, rec_handler, &r);
    vns_irq_raise(sim, &irq, 5000);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(r.n, 1);
    assert_int_equal(r.at[0], 5000 + cost(sim, VNS_FN_vcpu_wakeup) + cost(sim, VNS_FN_irq_inject) +
                                  cost(sim, VNS_FN_ret_from_intr) + cost(sim, VNS_FN_do_IRQ));
    vns_sim_destroy(sim);
}

/* VM exits are counted and charged on guest contexts only. */
static int exit_step(struct vns_ctx *ctx, void *arg)
{
    (void)arg;
    vns_vmexit(ctx);
    return VNS_STEP_DONE;
}

static void test_cpu_vmexit_counted_on_guest_only(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *h0 = vns_test_cpu(sim, "host/cpu0", NULL);
    struct vns_cpu *g0 = vns_test_cpu(sim, "vm/cpu0", h0);
    struct vns_ctx *g = vns_test_ctx(sim, VNS_CTX_USER, "g", g0, exit_step, NULL);
    struct vns_cpu *h1 = vns_test_cpu(sim, "host/cpu1", NULL);
    struct vns_ctx *h = vns_test_ctx(sim, VNS_CTX_USER, "h", h1, exit_step, NULL);

    (void)state;
    vns_ctx_start(g, 0);
    vns_ctx_start(h, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(vns_cpu_stats(g0)->vmexits, 1);
    assert_int_equal(vns_cpu_stats(h1)->vmexits, 0);
    assert_int_equal(vns_ctx_stats(g)->busy_ns, cost(sim, VNS_FN_vmexit));
    assert_int_equal(vns_ctx_stats(h)->busy_ns, 0);
    vns_sim_destroy(sim);
}

/* Cost table: lookup, override, unknown names, CPU clock scaling. */
static void test_cpu_cost_table(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cost_table *ct = vns_sim_costs(sim);
    uint32_t c, b;

    (void)state;
    assert_int_equal(vns_cost_set(ct, "no_such_function", 1, 1), -VNS_ENOENT);
    assert_int_equal(vns_cost_set(ct, "do_IRQ", -1, 1), -VNS_ERANGE);
    assert_int_equal(vns_cost_set(ct, "do_IRQ", 200, 500), 0);
    vns_cost_get(ct, VNS_FN_do_IRQ, &c, &b);
    assert_int_equal(c, 200);
    assert_int_equal(b, 500);
    assert_int_equal(vns_cost_of(ct, VNS_FN_do_IRQ, 1000), 200 + 500);
    assert_int_equal(vns_cost_set_cpu_mhz(ct, 4400), 0);   /* twice as fast */
    assert_int_equal(vns_cost_of(ct, VNS_FN_do_IRQ, 1000), 100 + 250);
    assert_int_equal(vns_cost_set_cpu_mhz(ct, 50), -VNS_ERANGE);
    assert_int_equal(vns_func_lookup("vhost_tx_batch"), VNS_FN_vhost_tx_batch);
    assert_string_equal(vns_func_name(VNS_FN_tcp_sendmsg), "tcp_sendmsg");
    assert_true(vns_func_is_param(VNS_FN_vmexit));
    assert_false(vns_func_is_param(VNS_FN_do_IRQ));
    vns_sim_destroy(sim);
}

/* Bad configurations are refused without side effects. */
static void test_cpu_bad_config(void **state)
{
    struct vns_sim *sim = vns_test_sim(1), *other = vns_test_sim(2);
    struct vns_cpu *c0 = vns_test_cpu(sim, "c0", NULL), *g0 = vns_test_cpu(sim, "g0", c0), *x = NULL;
    struct vns_ctx *ctx = NULL;

    (void)state;
    assert_int_equal(vns_cpu_create(sim, NULL, &x), -VNS_EINVAL);
    assert_int_equal(vns_cpu_create(sim, &(struct vns_cpu_config){.name = "n", .backing_cpu = g0}, &x),
                     -VNS_EINVAL);   /* a vCPU cannot back another */
    assert_int_equal(vns_cpu_create(other, &(struct vns_cpu_config){.name = "n", .backing_cpu = c0}, &x),
                     -VNS_EINVAL);   /* a CPU of another simulation */
    assert_null(x);
    assert_int_equal(vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_HARDIRQ, .cpu = c0}, &ctx),
                     -VNS_EINVAL);
    assert_int_equal(vns_ctx_create(other, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .cpu = c0}, &ctx),
                     -VNS_EINVAL);
    assert_null(ctx);
    vns_sim_destroy(other);
    vns_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_cpu_pipeline_exact_times, teardown),
        cmocka_unit_test_teardown(test_cpu_producer_consumer_shared_state, teardown),
        cmocka_unit_test_teardown(test_cpu_contention_fair_share, teardown),
        cmocka_unit_test_teardown(test_cpu_wake_during_step_not_lost, teardown),
        cmocka_unit_test_teardown(test_cpu_irq_taken_at_step_end, teardown),
        cmocka_unit_test_teardown(test_cpu_irq_coalesced_while_pending, teardown),
        cmocka_unit_test_teardown(test_cpu_vcpu_halts_and_wakes_on_irq, teardown),
        cmocka_unit_test_teardown(test_cpu_vcpu_irq_exact_time, teardown),
        cmocka_unit_test_teardown(test_cpu_vmexit_counted_on_guest_only, teardown),
        cmocka_unit_test_teardown(test_cpu_cost_table, teardown),
        cmocka_unit_test_teardown(test_cpu_bad_config, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
