/* tests/vhost/test_vhost.c -- the vhost worker, work queue and polls, and
 * the virtio transport end to end on the engine: a guest context adds
 * buffers and kicks (VM exits), the vhost worker fetches them with
 * notifications off while busy, returns them and signals (irqfd), the
 * guest's interrupt reaps them. */
#include <string.h>

#include "support/vns_test.h"
#include "vnetsim/devq.h"
#include "vnetsim/gmem.h"
#include "vnetsim/vhost.h"
#include "vnetsim/virtq.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

/* --- worker and work queue ----------------------------------------------------- */

struct job {
    int items, done;
    vns_time_t at[16];
};

/* A handle_tx-like loop: frames handle_tx -> handle_tx_copy stay on the
 * worker's stack across its steps; each item "sends" through tun_sendmsg. */
static int job_fn(struct vns_vhost_work *w, struct vns_ctx *ctx)
{
    struct job *j = w->arg;

    if (j->done == 0 && vns_ctx_depth(ctx) == 4) {     /* first step: open the loop frames */
        vns_fn_enter(ctx, VNS_FN_handle_tx);
        vns_fn_enter(ctx, VNS_FN_handle_tx_copy);
    }
    vns_fn_enter(ctx, VNS_FN_tun_sendmsg);
    vns_charge_ns(ctx, 500);
    vns_fn_exit(ctx);
    j->at[j->done++] = vns_ctx_now(ctx);
    return j->done < j->items ? VNS_STEP_AGAIN : VNS_STEP_DONE;
}

static int queue_from_user(struct vns_ctx *ctx, void *arg)
{
    vns_vhost_work_queue(arg, ctx);
    vns_vhost_work_queue(arg, ctx);     /* already queued: no second run */
    return VNS_STEP_DONE;
}

/* A queued work runs once on the worker, in steps, on the seed's stack:
 * ret_from_fork -> kthread -> vhost_worker -> handle_tx_kick -> handle_tx
 * -> handle_tx_copy -> tun_sendmsg ("tun xmit path"). */
static void test_vhost_work_runs_on_worker_with_seed_stack(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "host/cpu0", NULL), *c1 = vns_test_cpu(sim, "host/cpu1", NULL);
    struct vns_vhost_dev *dev = NULL;
    struct vns_vhost_work w;
    struct job j = {.items = 3};
    struct vns_ctx *user;
    char *stacks, *want;
    const char *seed_tun_xmit =
        "[0] tun_sendmsg\n[0] handle_tx_copy\n[0] handle_tx\n[0] handle_tx_kick\n"
        "[0] vhost_worker\n[0] kthread\n[0] ret_from_fork\n\n";

    (void)state;
    assert_int_equal(vns_vhost_dev_create(sim, &(struct vns_vhost_dev_config){.name = "vhost-42", .cpu = c1}, &dev), 0);
    vns_vhost_work_init(&w, dev, job_fn, VNS_FN_handle_tx_kick, &j);
    user = vns_test_ctx(sim, VNS_CTX_USER, "qemu", c0, queue_from_user, &w);
    vns_probe_add(sim, "tun_sendmsg");
    vns_ctx_start(user, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(j.done, 3);
    assert_int_equal(w.runs, 1);
    assert_int_equal(w.queued_count, 1);
    assert_false(w.queued);
    assert_int_equal(vns_vhost_dev_stats(dev)->worker_wakeups, 1);
    assert_int_equal(j.at[1] - j.at[0], 500 + vns_cost_of(vns_sim_costs(sim), VNS_FN_tun_sendmsg, 0));
    assert_true(vns_ctx_is_sleeping(vns_vhost_dev_worker(dev)));
    stacks = vns_test_stacks_string(sim, false);
    want = seed_tun_xmit ? (char *)seed_tun_xmit : NULL;
    assert_string_equal(stacks, want);
    vns_free(stacks);
    vns_vhost_dev_destroy(dev);
    vns_sim_destroy(sim);
}

struct requeue {
    struct vns_vhost_work *w;
    int runs;
};

static int requeue_fn(struct vns_vhost_work *w, struct vns_ctx *ctx)
{
    struct requeue *r = w->arg;

    if (++r->runs == 1)
        vns_vhost_work_queue(w, ctx);   /* QUEUED was cleared before fn: it queues */
    return VNS_STEP_DONE;
}

/* A work queued again while it runs runs again (VHOST_WORK_QUEUED is
 * cleared before the work function is called). */
static void test_vhost_work_requeued_while_running(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c1 = vns_test_cpu(sim, "host/cpu1", NULL);
    struct vns_vhost_dev *dev = NULL;
    struct vns_vhost_work w;
    struct requeue r = {0};

    (void)state;
    vns_vhost_dev_create(sim, &(struct vns_vhost_dev_config){.name = "vhost", .cpu = c1}, &dev);
    vns_vhost_work_init(&w, dev, requeue_fn, -1, &r);
    r.w = &w;
    vns_vhost_work_queue(&w, NULL);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(r.runs, 2);
    assert_int_equal(w.runs, 2);
    assert_int_equal(vns_vhost_dev_stats(dev)->works_run, 2);
    vns_vhost_dev_destroy(dev);
    vns_sim_destroy(sim);
}

/* A stopped poll ignores wake-ups; a started one queues its work. */
static void test_vhost_poll_start_stop(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c1 = vns_test_cpu(sim, "host/cpu1", NULL);
    struct vns_vhost_dev *dev = NULL;
    struct vns_vhost_poll p;
    struct requeue r = {0};

    (void)state;
    vns_vhost_dev_create(sim, &(struct vns_vhost_dev_config){.name = "vhost", .cpu = c1}, &dev);
    vns_vhost_poll_init(&p, dev, requeue_fn, -1, &r);
    r.runs = 1;   /* do not requeue */
    vns_vhost_poll_wakeup(&p, NULL);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(p.work.runs, 0);
    vns_vhost_poll_start(&p);
    vns_vhost_poll_wakeup(&p, NULL);
    vns_sim_run(sim, VNS_MSEC(2));
    assert_int_equal(p.work.runs, 1);
    assert_int_equal(p.wakeups, 1);
    vns_vhost_dev_destroy(dev);
    vns_sim_destroy(sim);
}

/* --- the transport end to end --------------------------------------------------- */

#define RAM (4u << 20)
#define RING_GPA 0x10000u
#define BUF_GPA 0x100000u

struct e2e {
    struct vns_gmem *mem;
    struct vns_gmem_table *table;
    struct vns_virtq *vq;
    struct vns_devq *dq;
    struct vns_vhost_dev *dev;
    struct vns_vhost_vq hvq;
    struct vns_irq irq;
    struct vns_ctx *guest;        /* the guest context in its step (for the notify) */
    int n, added, reaped, handled, bad;
    bool busy;                    /* worker inside its loop, notifications off */
    int kicks_while_busy, idles;
    vns_time_t finish;            /* when the last buffer was reaped */
    uint64_t tokens[512];
};

static bool e2e_notify(struct vns_virtq *vq, void *arg)
{
    struct e2e *e = arg;

    (void)vq;
    e->kicks_while_busy += e->busy;
    vns_vhost_vq_kick(&e->hvq, e->guest);
    return true;
}

/* Guest: one buffer per step; kick only when the device asks for it. */
static int e2e_guest(struct vns_ctx *ctx, void *arg)
{
    struct e2e *e = arg;
    struct vns_sg sg = {BUF_GPA + 2048u * (uint64_t)(e->added % 128), 1500};

    if (e->added == e->n)
        return VNS_STEP_DONE;
    if (vns_virtq_num_free(e->vq) == 0)
        return VNS_STEP_SLEEP;      /* woken by the interrupt's reaping */
    e->tokens[e->added] = 1000 + (uint64_t)e->added;
    assert_int_equal(vns_virtq_add_outbuf(e->vq, &sg, 1, &e->tokens[e->added], ctx), 0);
    e->added++;
    vns_charge_ns(ctx, 300);
    e->guest = ctx;
    vns_virtq_kick(e->vq, ctx);
    return VNS_STEP_AGAIN;
}

/* Device: handle_tx's loop, one buffer per step, notifications off while
 * busy, the enable + re-check at the end. */
static int e2e_handle_kick(struct vns_vhost_work *w, struct vns_ctx *ctx)
{
    struct e2e *e = w->arg;
    struct vns_iov iov[8];
    unsigned out, in;
    int head;

    vns_devq_disable_notify(e->dq, ctx);
    e->busy = true;
    head = vns_devq_get_vq_desc(e->dq, iov, 8, &out, &in, ctx);
    if (head == -VNS_EAGAIN) {
        if (vns_devq_enable_notify(e->dq, ctx))
            return VNS_STEP_AGAIN;      /* a buffer slipped in: go on */
        e->busy = false;
        e->idles++;
        return VNS_STEP_DONE;
    }
    if (head < 0 || out != 1 || in != 0 || iov[0].len != 1500) {
        e->bad++;
        return VNS_STEP_DONE;
    }
    vns_charge_ns(ctx, 700);
    vns_devq_add_used(e->dq, (uint32_t)head, 0, ctx);
    vns_vhost_vq_signal(&e->hvq, ctx);
    e->handled++;
    return VNS_STEP_AGAIN;
}

/* Guest interrupt: vring_interrupt -> reap used buffers (skb_xmit_done). */
static int e2e_irq(struct vns_ctx *ctx, void *arg)
{
    struct e2e *e = arg;
    uint32_t len;
    uint64_t *tok;

    while ((tok = vns_virtq_get_buf(e->vq, &len, ctx)) != NULL) {
        if (*tok != 1000 + (uint64_t)e->reaped)
            e->bad++;
        if (++e->reaped == e->n)
            e->finish = vns_ctx_now(ctx);
    }
    vns_ctx_wake(ctx, e->guest);
    return VNS_STEP_DONE;
}

static void e2e_run(bool event_idx, bool shared_cpu, struct e2e *e, struct vns_sim **simp)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *h0 = vns_test_cpu(sim, "host/cpu0", NULL), *h1 = vns_test_cpu(sim, "host/cpu1", NULL);
    struct vns_cpu *g0 = vns_test_cpu(sim, "vm/cpu0", h0);
    struct vns_virtq_addr addr;
    struct vns_ctx *app;

    assert_int_equal(vns_gmem_create(&e->mem), 0);
    assert_int_equal(vns_gmem_add_region(e->mem, 0, RAM), 0);
    assert_int_equal(vns_gmem_table_create_all(e->mem, &e->table), 0);
    assert_int_equal(vns_virtq_layout(VNS_VIRTQ_SPLIT, 256, 4096, RING_GPA, &addr), 0);
    assert_int_equal(vns_virtq_create(e->mem, &(struct vns_virtq_config){.layout = VNS_VIRTQ_SPLIT, .num = 256,
                                                                      .addr = addr, .event_idx = event_idx,
                                                                      .notify = e2e_notify, .notify_arg = e},
                                      &e->vq),
                     0);
    assert_int_equal(vns_devq_create(e->table, &(struct vns_devq_config){.layout = VNS_VIRTQ_SPLIT, .num = 256,
                                                                       .addr = addr, .event_idx = event_idx,
                                                                       .signal = vns_vhost_vq_call,
                                                                       .signal_arg = &e->hvq},
                                     &e->dq),
                     0);
    assert_int_equal(vns_vhost_dev_create(sim, &(struct vns_vhost_dev_config){.name = "vhost-1",
                                                                           .cpu = shared_cpu ? h0 : h1},
                                          &e->dev),
                     0);
    vns_irq_init(&e->irq, "virtio0-output", g0, VNS_FN_vring_interrupt, e2e_irq, e);
    vns_vhost_vq_init(&e->hvq, e->dev, e->dq, &e->irq, e2e_handle_kick, VNS_FN_handle_tx_kick, e);
    app = vns_test_ctx(sim, VNS_CTX_USER, "app", g0, e2e_guest, e);
    e->guest = app;
    vns_ctx_start(app, 0);
    vns_sim_run(sim, VNS_MSEC(50));
    *simp = sim;
}

static void e2e_free(struct e2e *e, struct vns_sim *sim)
{
    vns_vhost_dev_destroy(e->dev);
    vns_devq_destroy(e->dq);
    vns_virtq_destroy(e->vq);
    vns_gmem_table_destroy(e->table);
    vns_gmem_destroy(e->mem);
    vns_sim_destroy(sim);
}

/* 400 buffers through a 256-entry ring: every buffer used once and reaped
 * in order; while the worker is busy the guest sees NO_NOTIFY (or, with
 * EVENT_IDX, an avail_event left behind) and never kicks; with EVENT_IDX at
 * most one kick per time the worker went idle; nothing touched memory
 * outside the guest. */
static void test_vhost_transport_end_to_end(void **state)
{
    for (int ei = 0; ei < 2; ei++) {
        struct e2e e = {.n = 400};
        struct vns_sim *sim;
        const struct vns_cpu_stats *g;

        (void)state;
        e2e_run(ei, false, &e, &sim);
        g = vns_cpu_stats(vns_ctx_cpu(e.guest));
        assert_int_equal(e.bad, 0);
        assert_int_equal(e.handled, 400);
        assert_int_equal(e.reaped, 400);
        assert_int_equal(e.hvq.kicks, g->vmexits);
        assert_true(g->vmexits >= 1);
        assert_int_equal(e.kicks_while_busy, 0);
        if (ei)
            assert_true(g->vmexits <= (uint64_t)e.idles + 1);
        assert_true(e.hvq.signals >= 1);
        assert_false(vns_devq_is_broken(e.dq));
        assert_int_equal(vns_gmem_stats(e.mem)->faults, 0);
        print_message("event_idx=%d: %d buffers, %llu kicks (VM exits), %d worker idles, %llu signals, "
                      "%llu guest irqs\n", ei, e.n, (unsigned long long)g->vmexits, e.idles,
                      (unsigned long long)e.hvq.signals, (unsigned long long)g->irqs);
        e2e_free(&e, sim);
    }
}

/* The worker sharing the vCPU's host CPU: same result, later. */
static void test_vhost_transport_shared_cpu(void **state)
{
    struct e2e a = {.n = 200}, b = {.n = 200};
    struct vns_sim *sa, *sb;

    (void)state;
    e2e_run(true, false, &a, &sa);
    e2e_run(true, true, &b, &sb);
    assert_int_equal(a.reaped, 200);
    assert_int_equal(b.reaped, 200);
    assert_true(a.finish > 0);
    assert_true(b.finish > a.finish);
    assert_true(vns_ctx_stats(vns_vhost_dev_worker(b.dev))->switches > 0);
    e2e_free(&a, sa);
    e2e_free(&b, sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_vhost_work_runs_on_worker_with_seed_stack, teardown),
        cmocka_unit_test_teardown(test_vhost_work_requeued_while_running, teardown),
        cmocka_unit_test_teardown(test_vhost_poll_start_stop, teardown),
        cmocka_unit_test_teardown(test_vhost_transport_end_to_end, teardown),
        cmocka_unit_test_teardown(test_vhost_transport_shared_cpu, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
