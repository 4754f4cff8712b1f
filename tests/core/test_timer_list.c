/* tests/core/test_timer_list.c -- kernel timers: tick rounding, TIMER
 * softirq at irq_exit of the local APIC timer, mod/del semantics. */
#include <string.h>

#include "support/vns_test.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

struct fired {
    int n;
    vns_time_t at[8];
    enum vns_ctx_kind kind[8];
    int rearm;              /* re-arm this many times, every 10 ms */
};

static void on_timer(struct vns_ctx *ctx, struct vns_timer_list *t)
{
    struct fired *f = t->data;

    f->at[f->n] = vns_ctx_now(ctx);
    f->kind[f->n++] = vns_ctx_kind(ctx);
    if (f->rearm > 0) {
        f->rearm--;
        vns_mod_timer(t, t->expires + VNS_MSEC(10));
    }
}

static struct vns_cpu *cpu_hz(struct vns_sim *sim, unsigned hz)
{
    struct vns_cpu *c = NULL;

    assert_int_equal(vns_cpu_create(sim, &(struct vns_cpu_config){.name = "cpu0", .hz = hz}, &c), 0);
    return c;
}

/* At HZ=250 a timer for 5 ms fires at the 8 ms tick, from the local APIC
 * timer's irq_exit, on the idle CPU's stack:
 * tcp_delack_timer <- call_timer_fn <- run_timer_softirq <- __do_softirq
 * <- irq_exit <- smp_apic_timer_interrupt <- apic_timer_interrupt. */
static void test_timer_list_fires_at_tick_in_softirq(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c = cpu_hz(sim, 250);
    struct vns_timer_list t;
    struct fired f = {0};
    char *stacks;
    const char *want =
        "[0] call_timer_fn\n[0] run_timer_softirq\n[0] __do_softirq\n[0] irq_exit\n"
        "[0] smp_apic_timer_interrupt\n[0] apic_timer_interrupt\n[0] native_safe_halt\n"
        "[0] default_idle\n[0] arch_cpu_idle\n[0] default_idle_call\n[0] do_idle\n"
        "[0] cpu_startup_entry\n[0] start_secondary\n[0] secondary_startup_64\n\n";

    (void)state;
    assert_int_equal(vns_cpu_tick_ns(c), VNS_MSEC(4));
    vns_timer_list_init(&t, c, -1, on_timer, &f);
    vns_probe_add(sim, "call_timer_fn");
    assert_false(vns_mod_timer(&t, VNS_MSEC(5)));
    assert_true(vns_timer_list_pending(&t));
    vns_sim_run(sim, VNS_MSEC(20));
    assert_int_equal(f.n, 1);
    assert_int_equal(f.kind[0], VNS_CTX_HARDIRQ);
    assert_true(f.at[0] >= VNS_MSEC(8) && f.at[0] < VNS_MSEC(8) + 2000);
    assert_false(vns_timer_list_pending(&t));
    assert_int_equal(vns_cpu_stats(c)->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT], 1);
    stacks = vns_test_stacks_string(sim, false);
    assert_string_equal(stacks, want);
    vns_free(stacks);
    vns_sim_destroy(sim);
}

/* mod_timer moves a pending timer; del_timer stops it, even when it is
 * already due but has not run yet. */
static void test_timer_list_mod_and_del(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c = cpu_hz(sim, 1000);
    struct vns_timer_list a, b;
    struct fired fa = {0}, fb = {0};

    (void)state;
    vns_timer_list_init(&a, c, -1, on_timer, &fa);
    vns_timer_list_init(&b, c, -1, on_timer, &fb);
    vns_mod_timer(&a, VNS_MSEC(3));
    assert_true(vns_mod_timer(&a, VNS_MSEC(7)));      /* was pending: moved */
    vns_mod_timer(&b, VNS_MSEC(5));
    assert_true(vns_del_timer(&b));
    assert_false(vns_del_timer(&b));
    vns_sim_run(sim, VNS_MSEC(20));
    assert_int_equal(fa.n, 1);
    assert_true(fa.at[0] >= VNS_MSEC(7) && fa.at[0] < VNS_MSEC(7) + 2000);
    assert_int_equal(fb.n, 0);
    vns_sim_destroy(sim);
}

/* A timer that re-arms itself from its callback runs periodically; two
 * timers due on the same tick both run, one per step, in expiry order. */
static void test_timer_list_periodic_and_same_tick(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c = cpu_hz(sim, 1000);
    struct vns_timer_list p, x, y;
    struct fired fp = {.rearm = 3}, fx = {0}, fy = {0};

    (void)state;
    vns_timer_list_init(&p, c, -1, on_timer, &fp);
    vns_timer_list_init(&x, c, -1, on_timer, &fx);
    vns_timer_list_init(&y, c, -1, on_timer, &fy);
    vns_mod_timer(&p, VNS_MSEC(10));
    vns_mod_timer(&x, VNS_USEC(4500));
    vns_mod_timer(&y, VNS_USEC(4200));   /* same 5 ms tick, armed later */
    vns_sim_run(sim, VNS_MSEC(100));
    assert_int_equal(fp.n, 4);
    for (int i = 1; i < 4; i++)
        assert_int_equal(fp.at[i] - fp.at[i - 1], VNS_MSEC(10));
    assert_int_equal(fx.n, 1);
    assert_int_equal(fy.n, 1);
    assert_true(fx.at[0] < fy.at[0]);    /* x was armed first: same tick, queued first */
    vns_sim_destroy(sim);
}

/* HZ outside what a kernel can be built with is refused. */
static void test_timer_list_bad_hz(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c = NULL;

    (void)state;
    assert_int_equal(vns_cpu_create(sim, &(struct vns_cpu_config){.name = "x", .hz = 3}, &c), -VNS_EINVAL);
    assert_null(c);
    vns_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_timer_list_fires_at_tick_in_softirq, teardown),
        cmocka_unit_test_teardown(test_timer_list_mod_and_del, teardown),
        cmocka_unit_test_teardown(test_timer_list_periodic_and_same_tick, teardown),
        cmocka_unit_test_teardown(test_timer_list_bad_hz, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
