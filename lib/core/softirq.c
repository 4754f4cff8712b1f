/* lib/core/softirq.c -- softirqs: raise, __do_softirq, local_bh_enable,
 * ksoftirqd. LINUX: kernel/softirq.c of linux-5.4.
 *
 * Softirqs run in exactly the three places 5.4 runs them:
 *  1. irq_exit, when the interrupted context is not already in interrupt
 *     context (cpu.c, hardirq_step): __do_softirq on the irq stack;
 *  2. the outermost local_bh_enable in process context:
 *     __local_bh_enable_ip -> do_softirq -> do_softirq_own_stack ->
 *     __do_softirq, on the caller's stack and within the caller's step;
 *  3. ksoftirqd, woken when __do_softirq gives up (MAX_SOFTIRQ_RESTART
 *     passes, MAX_SOFTIRQ_TIME, or need_resched) or when a softirq is
 *     raised from process context.
 * As in 5.4's invoke_softirq/do_softirq, softirqs are deferred to
 * ksoftirqd while it is runnable (ksoftirqd_running), except HI and
 * TASKLET (SOFTIRQ_NOW_MASK).
 *
 * The bh-enable case (2) runs to completion inside the caller's step: the
 * caller is deep in C code (ip_finish_output2) and cannot yield. Other
 * contexts therefore see its writes up to one softirq run early; the
 * backlog it drains is usually the packet the caller just queued. */
#include "core_int.h"

#define SOFTIRQ_NOW_MASK ((1u << VNS_HI_SOFTIRQ) | (1u << VNS_TASKLET_SOFTIRQ))

void vns_softirq_open(struct vns_cpu *cpu, unsigned nr, int f, vns_softirq_fn action, void *arg)
{
    if (nr >= VNS_NR_SOFTIRQS)
        return;
    cpu->softirq[nr].fn = action;
    cpu->softirq[nr].arg = arg;
    cpu->softirq[nr].f = f;
}

uint32_t vns_softirq_pending(const struct vns_cpu *cpu)
{
    return cpu->softirq_pending;
}

void vns_raise_softirq_irqoff(struct vns_cpu *cpu, unsigned nr)
{
    if (nr < VNS_NR_SOFTIRQS)
        cpu->softirq_pending |= 1u << nr;
}

void vns_raise_softirq(struct vns_ctx *ctx, unsigned nr)
{
    vns_charge(ctx, VNS_FN_raise_softirq, 0);
    vns_raise_softirq_irqoff(ctx->cpu, nr);
    if (!vns_in_interrupt(ctx))
        vns__ksoftirqd_wake(ctx->cpu, ctx->now);
}

bool vns__ksoftirqd_running(const struct vns_cpu *cpu, uint32_t pending)
{
    const struct vns_ctx *k = cpu->ksoftirqd;

    if (pending & SOFTIRQ_NOW_MASK)
        return false;
    return k->state == VNS_CTX_RUNNABLE || k->state == VNS_CTX_CURRENT ||
           k->state == VNS_CTX_WAKING;
}

void vns__ksoftirqd_wake(struct vns_cpu *cpu, vns_time_t when)
{
    vns_ctx_wake_at(cpu->ksoftirqd, when);
}

void vns__softirq_run_init(struct vns_ctx *ctx, struct vns_softirq_run *sr)
{
    sr->pending = 0;
    sr->max_restart = VNS_MAX_SOFTIRQ_RESTART;
    sr->end = ctx->now + VNS_MAX_SOFTIRQ_TIME;
    sr->in_action = false;
    sr->started = false;
}

/* One or more actions of __do_softirq. Returns VNS_STEP_AGAIN when an
 * action has more items (the step ends there), VNS_STEP_DONE when the run
 * is over. */
int vns__softirq_loop(struct vns_ctx *ctx, struct vns_softirq_run *sr)
{
    struct vns_cpu *cpu = ctx->cpu;
    unsigned nr;
    int r;

    ctx->softirq_depth++;
    for (;;) {
        if (sr->in_action) {
            r = cpu->softirq[sr->nr].fn(ctx, cpu->softirq[sr->nr].arg);
            if (r == VNS_STEP_AGAIN) {
                ctx->softirq_depth--;
                return VNS_STEP_AGAIN;
            }
            vns__ctx_truncate(ctx, sr->action_depth);
            sr->in_action = false;
        }
        if (!sr->pending) {
            uint32_t pending = cpu->softirq_pending;

            if (!pending)
                break;
            if (sr->started &&
                !(ctx->now < sr->end && !cpu->need_resched && --sr->max_restart)) {
                vns_fn_enter(ctx, VNS_FN_wakeup_softirqd);
                vns__ksoftirqd_wake(cpu, ctx->now);
                vns_fn_exit(ctx);
                break;
            }
            sr->started = true;
            sr->pending = pending;
            cpu->softirq_pending = 0;
        }
        for (nr = 0; !(sr->pending & (1u << nr)); nr++)
            ;
        sr->pending &= ~(1u << nr);
        if (!cpu->softirq[nr].fn)
            continue;
        sr->nr = nr;
        sr->action_depth = (uint16_t)ctx->depth;
        sr->in_action = true;
        vns_fn_enter(ctx, cpu->softirq[nr].f);
    }
    ctx->softirq_depth--;
    return VNS_STEP_DONE;
}

void vns_local_bh_disable(struct vns_ctx *ctx)
{
    ctx->bh_count++;
}

void vns_local_bh_enable(struct vns_ctx *ctx)
{
    struct vns_cpu *cpu = ctx->cpu;
    struct vns_softirq_run sr;
    unsigned depth = ctx->depth;

    vns_fn_enter(ctx, VNS_FN___local_bh_enable_ip);
    if (ctx->bh_count > 0)
        ctx->bh_count--;
    if (!vns_in_interrupt(ctx) && cpu->softirq_pending &&
        !vns__ksoftirqd_running(cpu, cpu->softirq_pending)) {
        cpu->stats.softirq_runs[VNS_SOFTIRQ_AT_BH_ENABLE]++;
        vns_fn_enter(ctx, VNS_FN_do_softirq);
        vns_fn_enter(ctx, VNS_FN_do_softirq_own_stack);
        vns_fn_enter(ctx, VNS_FN___do_softirq);
        vns__softirq_run_init(ctx, &sr);
        while (vns__softirq_loop(ctx, &sr) == VNS_STEP_AGAIN)
            ;
    }
    vns__ctx_truncate(ctx, depth);
}

/* ksoftirqd: smpboot_thread_fn -> run_ksoftirqd -> __do_softirq, one
 * action item per step; sleeps when nothing is pending. */
int vns__ksoftirqd_step(struct vns_ctx *ctx, void *arg)
{
    struct vns_cpu *cpu = arg;

    if (!ctx->sr.started && !ctx->sr.in_action) {
        if (!cpu->softirq_pending)
            return VNS_STEP_SLEEP;
        vns__ctx_truncate(ctx, ctx->base_depth);
        cpu->stats.softirq_runs[VNS_SOFTIRQ_IN_KSOFTIRQD]++;
        vns_fn_enter(ctx, VNS_FN_run_ksoftirqd);
        vns_fn_enter(ctx, VNS_FN___do_softirq);
        vns__softirq_run_init(ctx, &ctx->sr);
    }
    if (vns__softirq_loop(ctx, &ctx->sr) == VNS_STEP_AGAIN)
        return VNS_STEP_AGAIN;
    ctx->sr.started = false;
    vns__ctx_truncate(ctx, ctx->base_depth);
    return VNS_STEP_AGAIN;   /* cond_resched(), then look again */
}
