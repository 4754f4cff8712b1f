/* tests/core/test_softirq.c -- softirqs at their three invocation points
 * (kernel/softirq.c, linux-5.4): irq_exit, local_bh_enable, ksoftirqd;
 * the stacks they run on; restart limits. */
#include <string.h>

#include "support/vns_test.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

struct rx {
    int items;            /* items to process, one per step */
    int done;
    int actions;          /* action invocations */
    int reraise;          /* re-raise NET_RX this many more times */
    enum vns_ctx_kind kind[64];
    vns_time_t at[64];
};

static int rx_action(struct vns_ctx *ctx, void *arg)
{
    struct rx *r = arg;

    if (r->actions < 64) {
        r->kind[r->actions] = vns_ctx_kind(ctx);
        r->at[r->actions] = vns_ctx_now(ctx);
    }
    r->actions++;
    if (r->done < r->items) {
        vns_charge_ns(ctx, 100);
        r->done++;
        if (r->done < r->items)
            return VNS_STEP_AGAIN;
    }
    if (r->reraise > 0) {
        r->reraise--;
        vns_raise_softirq_irqoff(vns_ctx_cpu(ctx), VNS_NET_RX_SOFTIRQ);
    }
    return VNS_STEP_DONE;
}

static int irq_raise_rx(struct vns_ctx *ctx, void *arg)
{
    (void)arg;
    vns_raise_softirq_irqoff(vns_ctx_cpu(ctx), VNS_NET_RX_SOFTIRQ);
    return VNS_STEP_DONE;
}

static const char idle_recv_stack[] =
    "[0] net_rx_action\n"
    "[0] __do_softirq\n"
    "[0] irq_exit\n"
    "[0] do_IRQ\n"
    "[0] ret_from_intr\n"
    "[0] native_safe_halt\n"
    "[0] default_idle\n"
    "[0] arch_cpu_idle\n"
    "[0] default_idle_call\n"
    "[0] do_idle\n"
    "[0] cpu_startup_entry\n"
    "[0] start_secondary\n"
    "[0] secondary_startup_64\n"
    "\n";

/* 1. irq_exit: an interrupt on a halted vCPU raises NET_RX; the action runs
 * at irq_exit on the idle loop's stack, one item per step, exactly the
 * lower half of the seed's "virtio-net recv path". */
static void test_softirq_at_irq_exit_on_idle_vcpu(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *h0 = vns_test_cpu(sim, "host/cpu0", NULL), *g0 = vns_test_cpu(sim, "vm/cpu0", h0);
    struct rx r = {.items = 5};
    struct vns_irq irq;
    char *stacks;

    (void)state;
    vns_softirq_open(g0, VNS_NET_RX_SOFTIRQ, VNS_FN_net_rx_action, rx_action, &r);
    vns_irq_init(&irq, "virtio0-input", g0, -1, irq_raise_rx, NULL);
    assert_int_equal(vns_probe_add(sim, "net_rx_action"), 0);
    vns_irq_raise(sim, &irq, 1000);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(r.done, 5);
    assert_int_equal(r.actions, 5);           /* one step per item */
    for (int i = 0; i < 5; i++)
        assert_int_equal(r.kind[i], VNS_CTX_HARDIRQ);
    for (int i = 1; i < 5; i++)
        assert_int_equal(r.at[i], r.at[i - 1] + 100);   /* consecutive steps */
    assert_int_equal(vns_cpu_stats(g0)->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT], 1);
    assert_int_equal(vns_cpu_stats(g0)->softirq_runs[VNS_SOFTIRQ_IN_KSOFTIRQD], 0);
    assert_int_equal(vns_probe_hits(sim, VNS_FN_net_rx_action), 1);
    stacks = vns_test_stacks_string(sim, false);
    assert_string_equal(stacks, idle_recv_stack);
    vns_free(stacks);
    vns_sim_destroy(sim);
}

/* 2. local_bh_enable: only the outermost enable runs pending softirqs,
 * on the caller's stack (__local_bh_enable_ip -> do_softirq ->
 * do_softirq_own_stack -> __do_softirq), within the caller's step. */
static int proc_step(struct vns_ctx *ctx, void *arg)
{
    struct rx *r = arg;

    vns_fn_enter(ctx, VNS_FN_ip_finish_output2);
    vns_local_bh_disable(ctx);
    vns_raise_softirq_irqoff(vns_ctx_cpu(ctx), VNS_NET_RX_SOFTIRQ);
    vns_local_bh_disable(ctx);
    vns_local_bh_enable(ctx);                 /* inner: must not run them */
    assert_int_equal(r->actions, 0);
    assert_true(vns_in_interrupt(ctx));
    vns_local_bh_enable(ctx);                 /* outer: runs them here */
    assert_int_equal(r->done, r->items);
    assert_false(vns_in_interrupt(ctx));
    vns_fn_exit(ctx);
    return VNS_STEP_DONE;
}

static void test_softirq_at_local_bh_enable(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "host/cpu0", NULL);
    struct rx r = {.items = 3};
    struct vns_ctx *p = NULL;
    char *stacks;
    const char *expect =
        "[0] net_rx_action\n"
        "[0] __do_softirq\n"
        "[0] do_softirq_own_stack\n"
        "[0] do_softirq\n"
        "[0] __local_bh_enable_ip\n"
        "[0] ip_finish_output2\n"
        "[0] do_syscall_64\n"
        "[0] entry_SYSCALL_64_after_hwframe\n"
        "\n";

    (void)state;
    vns_softirq_open(c0, VNS_NET_RX_SOFTIRQ, VNS_FN_net_rx_action, rx_action, &r);
    assert_int_equal(vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .name = "app",
                                                                   .cpu = c0, .threadfn = -1,
                                                                   .fn = proc_step, .arg = &r},
                                    &p),
                     0);
    vns_probe_add(sim, "net_rx_action");
    vns_ctx_start(p, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(r.done, 3);
    assert_int_equal(r.kind[0], VNS_CTX_USER);
    assert_int_equal(vns_cpu_stats(c0)->softirq_runs[VNS_SOFTIRQ_AT_BH_ENABLE], 1);
    assert_int_equal(vns_ctx_stats(p)->steps, 1);   /* all inside the one step */
    stacks = vns_test_stacks_string(sim, false);
    assert_string_equal(stacks, expect);
    vns_free(stacks);
    vns_sim_destroy(sim);
}

/* 3a. raise_softirq from process context (not in interrupt) wakes
 * ksoftirqd, which runs the action on its own stack. */
static int raise_step(struct vns_ctx *ctx, void *arg)
{
    (void)arg;
    vns_raise_softirq(ctx, VNS_NET_RX_SOFTIRQ);
    return VNS_STEP_DONE;
}

static void test_softirq_in_ksoftirqd_when_raised_from_process(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "host/cpu0", NULL);
    struct rx r = {.items = 2};
    struct vns_ctx *p = NULL;
    char *stacks;
    const char *expect =
        "[0] net_rx_action\n"
        "[0] __do_softirq\n"
        "[0] run_ksoftirqd\n"
        "[0] smpboot_thread_fn\n"
        "[0] kthread\n"
        "[0] ret_from_fork\n"
        "\n";

    (void)state;
    vns_softirq_open(c0, VNS_NET_RX_SOFTIRQ, VNS_FN_net_rx_action, rx_action, &r);
    vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .name = "app", .cpu = c0,
                                                  .threadfn = -1, .fn = raise_step},
                   &p);
    vns_probe_add(sim, "net_rx_action");
    vns_ctx_start(p, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(r.done, 2);
    assert_int_equal(r.kind[0], VNS_CTX_KTHREAD);
    assert_int_equal(vns_cpu_stats(c0)->softirq_runs[VNS_SOFTIRQ_IN_KSOFTIRQD], 1);
    assert_true(vns_ctx_is_sleeping(vns_cpu_ksoftirqd(c0)));
    stacks = vns_test_stacks_string(sim, false);
    assert_string_equal(stacks, expect);
    vns_free(stacks);
    vns_sim_destroy(sim);
}

/* 3b. An action that keeps re-raising itself: __do_softirq at irq_exit
 * makes MAX_SOFTIRQ_RESTART passes (the first plus 9 restarts), then wakes
 * ksoftirqd, which finishes the rest. */
static void test_softirq_restart_limit_defers_to_ksoftirqd(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "host/cpu0", NULL);
    struct rx r = {.items = 0, .reraise = 25};
    struct vns_irq irq;
    int at_irq = 0;

    (void)state;
    vns_softirq_open(c0, VNS_NET_RX_SOFTIRQ, VNS_FN_net_rx_action, rx_action, &r);
    vns_irq_init(&irq, "nic", c0, -1, irq_raise_rx, NULL);
    vns_irq_raise(sim, &irq, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    for (int i = 0; i < r.actions && i < 64; i++)
        at_irq += r.kind[i] == VNS_CTX_HARDIRQ;
    assert_int_equal(r.actions, 26);
    assert_int_equal(at_irq, VNS_MAX_SOFTIRQ_RESTART);
    assert_int_equal(vns_cpu_stats(c0)->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT], 1);
    assert_true(vns_cpu_stats(c0)->softirq_runs[VNS_SOFTIRQ_IN_KSOFTIRQD] >= 1);
    assert_int_equal(vns_softirq_pending(c0), 0);
    vns_sim_destroy(sim);
}

/* While ksoftirqd is runnable, irq_exit leaves NET_RX to it
 * (ksoftirqd_running() in 5.4's invoke_softirq). */
static void test_softirq_irq_exit_defers_while_ksoftirqd_runs(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "host/cpu0", NULL);
    struct rx r = {.items = 1};
    struct vns_irq irq;

    (void)state;
    vns_softirq_open(c0, VNS_NET_RX_SOFTIRQ, VNS_FN_net_rx_action, rx_action, &r);
    vns_irq_init(&irq, "nic", c0, -1, irq_raise_rx, NULL);
    vns_ctx_wake_at(vns_cpu_ksoftirqd(c0), 0);      /* runnable from t=0 */
    vns_irq_raise(sim, &irq, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(r.done, 1);
    assert_int_equal(r.kind[0], VNS_CTX_KTHREAD);
    assert_int_equal(vns_cpu_stats(c0)->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT], 0);
    vns_sim_destroy(sim);
}

/* A nested interrupt during softirq processing does not run softirqs at
 * its own irq_exit (in_interrupt); its stack sits on the softirq's. */
struct nest {
    struct vns_irq *second;
    int rx_steps, second_runs;
};

static int nest_rx(struct vns_ctx *ctx, void *arg)
{
    struct nest *n = arg;

    if (n->rx_steps++ == 0)
        vns_irq_raise(vns_ctx_sim(ctx), n->second, vns_ctx_now(ctx));
    vns_charge_ns(ctx, 100);
    return n->rx_steps < 4 ? VNS_STEP_AGAIN : VNS_STEP_DONE;
}

static int nest_second(struct vns_ctx *ctx, void *arg)
{
    struct nest *n = arg;

    n->second_runs++;
    vns_fn_enter(ctx, VNS_FN_napi_gro_receive);   /* probed: shows the nesting */
    vns_fn_exit(ctx);
    vns_raise_softirq_irqoff(vns_ctx_cpu(ctx), VNS_NET_TX_SOFTIRQ);
    return VNS_STEP_DONE;
}

static int tx_action(struct vns_ctx *ctx, void *arg)
{
    (void)ctx;
    ++*(int *)arg;
    return VNS_STEP_DONE;
}

static void test_softirq_nested_irq_does_not_recurse(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "host/cpu0", NULL);
    struct vns_irq first, second;
    struct nest n = {.second = &second};
    int tx = 0;
    char *stacks;

    (void)state;
    vns_softirq_open(c0, VNS_NET_RX_SOFTIRQ, VNS_FN_net_rx_action, nest_rx, &n);
    vns_softirq_open(c0, VNS_NET_TX_SOFTIRQ, VNS_FN_net_tx_action, tx_action, &tx);
    vns_irq_init(&first, "a", c0, -1, irq_raise_rx, NULL);
    vns_irq_init(&second, "b", c0, -1, nest_second, &n);
    vns_probe_add(sim, "napi_gro_receive");
    vns_irq_raise(sim, &first, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(n.second_runs, 1);
    assert_int_equal(n.rx_steps, 4);
    assert_int_equal(tx, 1);                                 /* by the outer __do_softirq restart */
    assert_int_equal(vns_cpu_stats(c0)->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT], 1);
    stacks = vns_test_stacks_string(sim, false);
    assert_non_null(strstr(stacks, "[0] napi_gro_receive\n[0] do_IRQ\n[0] ret_from_intr\n"
                                   "[0] net_rx_action\n[0] __do_softirq\n[0] irq_exit\n"));
    vns_free(stacks);
    vns_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_softirq_at_irq_exit_on_idle_vcpu, teardown),
        cmocka_unit_test_teardown(test_softirq_at_local_bh_enable, teardown),
        cmocka_unit_test_teardown(test_softirq_in_ksoftirqd_when_raised_from_process, teardown),
        cmocka_unit_test_teardown(test_softirq_restart_limit_defers_to_ksoftirqd, teardown),
        cmocka_unit_test_teardown(test_softirq_irq_exit_defers_while_ksoftirqd_runs, teardown),
        cmocka_unit_test_teardown(test_softirq_nested_irq_does_not_recurse, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
