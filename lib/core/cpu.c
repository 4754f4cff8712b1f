/* lib/core/cpu.c -- CPUs, contexts, the step loop, scheduling, interrupts.
 *
 * Models the parts of kernel/sched/core.c, kernel/sched/fair.c and
 * arch/x86/kernel/irq.c that decide WHEN work runs and ON WHICH STACK:
 *  - a per-CPU run queue ordered by virtual runtime (CFS's pick of the
 *    leftmost entity), wake-up placement with half the sched_latency
 *    credit (GENTLE_FAIR_SLEEPERS), wake-up preemption when the woken task
 *    leads by more than sched_wakeup_granularity, and tick-style
 *    preemption after sched_min_granularity. Preemption happens only at a
 *    step boundary.
 *  - hard interrupts taken at the end of the current step (or at once on
 *    an idle CPU), running on top of the interrupted context, then
 *    irq_exit running softirqs on the same stack (softirq.c).
 *  - guest vCPUs whose steps are steps of their host thread; a vCPU with
 *    nothing to run halts and frees the host CPU.
 * Simplified: no SMP load balancing (contexts are pinned), no priorities,
 * no RT classes, irq time is not charged to the interrupted task. */
#include <stdio.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/error.h"
#include "core_int.h"

static const int16_t base_user[] = {VNS_FN_entry_SYSCALL_64_after_hwframe, VNS_FN_do_syscall_64};
static const int16_t base_kthread[] = {VNS_FN_ret_from_fork, VNS_FN_kthread};
static const int16_t base_idle[] = {
    VNS_FN_secondary_startup_64, VNS_FN_start_secondary, VNS_FN_cpu_startup_entry,
    VNS_FN_do_idle, VNS_FN_default_idle_call, VNS_FN_arch_cpu_idle,
    VNS_FN_default_idle, VNS_FN_native_safe_halt,
};

/* --- run queue: min-heap on (vruntime, id) ---------------------------------- */

static inline bool rq_before(const struct vns_ctx *a, const struct vns_ctx *b)
{
    return a->vruntime < b->vruntime || (a->vruntime == b->vruntime && a->id < b->id);
}

static void rq_set(struct vns_cpu *cpu, uint32_t i, struct vns_ctx *c)
{
    cpu->rq[i] = c;
    c->rq_idx = i;
}

static void rq_sift(struct vns_cpu *cpu, uint32_t i)
{
    struct vns_ctx *c = cpu->rq[i];

    while (i > 0 && rq_before(c, cpu->rq[(i - 1) / 2])) {
        rq_set(cpu, i, cpu->rq[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        struct vns_ctx *best = c;

        if (l < cpu->rq_len && rq_before(cpu->rq[l], best))
            m = l, best = cpu->rq[l];
        if (l + 1 < cpu->rq_len && rq_before(cpu->rq[l + 1], best))
            m = l + 1, best = cpu->rq[l + 1];
        if (m == i)
            break;
        rq_set(cpu, i, best);
        i = m;
    }
    rq_set(cpu, i, c);
}

static int rq_push(struct vns_cpu *cpu, struct vns_ctx *c)
{
    if (cpu->rq_len == cpu->rq_cap) {
        uint32_t cap = cpu->rq_cap ? cpu->rq_cap * 2 : 8;
        struct vns_ctx **q = vns_realloc(cpu->rq, cap * sizeof(*q));

        if (!q)
            return -VNS_ENOMEM;
        cpu->rq = q;
        cpu->rq_cap = cap;
    }
    rq_set(cpu, cpu->rq_len++, c);
    rq_sift(cpu, c->rq_idx);
    return 0;
}

static void rq_remove(struct vns_cpu *cpu, struct vns_ctx *c)
{
    uint32_t i = c->rq_idx;
    struct vns_ctx *last;

    if (i == UINT32_MAX)
        return;
    last = cpu->rq[--cpu->rq_len];
    c->rq_idx = UINT32_MAX;
    if (last != c) {
        rq_set(cpu, i, last);
        rq_sift(cpu, i);
    }
}

static uint64_t param(const struct vns_sim *sim, int f)
{
    return sim->costs.eff_call_ns[f];
}

static void update_min_vruntime(struct vns_cpu *cpu)
{
    uint64_t v = UINT64_MAX;

    if (cpu->curr)
        v = cpu->curr->vruntime;
    if (cpu->rq_len && cpu->rq[0]->vruntime < v)
        v = cpu->rq[0]->vruntime;
    if (v != UINT64_MAX && v > cpu->min_vruntime)
        cpu->min_vruntime = v;
}

/* enqueue_task_fair + check_preempt_wakeup, reduced. */
void vns__cpu_enqueue(struct vns_cpu *cpu, struct vns_ctx *ctx)
{
    uint64_t credit = param(cpu->sim, VNS_FN_sched_latency) / 2;
    uint64_t floor = cpu->min_vruntime > credit ? cpu->min_vruntime - credit : 0;

    if (ctx->vruntime < floor)
        ctx->vruntime = floor;
    ctx->state = VNS_CTX_RUNNABLE;
    if (rq_push(cpu, ctx) < 0) {
        /* Out of memory growing a run queue: run it anyway by making it
         * current when the CPU is idle; otherwise retry at the next wake. */
        ctx->state = VNS_CTX_SLEEPING;
        return;
    }
    if (!cpu->curr ||
        cpu->curr->vruntime > ctx->vruntime + param(cpu->sim, VNS_FN_sched_wakeup_granularity))
        cpu->need_resched = true;
}

static bool cpu_pick_next(struct vns_cpu *cpu, vns_time_t t)
{
    struct vns_ctx *c;

    if (!cpu->rq_len)
        return false;
    c = cpu->rq[0];
    rq_remove(cpu, c);
    c->state = VNS_CTX_CURRENT;
    cpu->curr = c;
    cpu->curr_since = t;
    cpu->need_resched = false;
    return true;
}

/* --- contexts ------------------------------------------------------------------- */

static void ctx_wake_fire(struct vns_sim *sim, struct vns_timer *t)
{
    struct vns_ctx *ctx = t->data;

    (void)sim;
    vns__cpu_enqueue(ctx->cpu, ctx);
    vns__cpu_kick(ctx->cpu, sim->now);
}

static struct vns_ctx *ctx_new(struct vns_sim *sim, enum vns_ctx_kind kind, const char *name,
                               struct vns_cpu *cpu)
{
    struct vns_ctx *ctx = vns_calloc(1, sizeof(*ctx));

    if (!ctx)
        return NULL;
    ctx->sim = sim;
    ctx->cpu = cpu;
    ctx->kind = kind;
    ctx->id = vns_sim_new_id(sim);
    ctx->state = VNS_CTX_SLEEPING;
    ctx->rq_idx = UINT32_MAX;
    snprintf(ctx->name, sizeof(ctx->name), "%.63s", name ? name : "?");
    vns_timer_init(&ctx->wake_timer, ctx_wake_fire, ctx, ctx->id);
    ctx->wake_timer.kind = VNS_EV_WAKE;
    ctx->sim_prev = sim->ctxs_tail;
    if (sim->ctxs_tail)
        sim->ctxs_tail->sim_next = ctx;
    else
        sim->ctxs = ctx;
    sim->ctxs_tail = ctx;
    return ctx;
}

static void ctx_push_base(struct vns_ctx *ctx, const int16_t *frames, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ctx->frames[ctx->depth++] = (uint16_t)frames[i];
    ctx->base_depth = ctx->depth;
}

int vns_ctx_create(struct vns_sim *sim, const struct vns_ctx_config *cfg, struct vns_ctx **out)
{
    struct vns_ctx *ctx;

    if (!cfg || !cfg->cpu || cfg->cpu->sim != sim)
        return -VNS_EINVAL;
    if (cfg->kind != VNS_CTX_USER && cfg->kind != VNS_CTX_KTHREAD)
        return -VNS_EINVAL;
    if (cfg->threadfn >= VNS_FN__COUNT)
        return -VNS_EINVAL;
    ctx = ctx_new(sim, cfg->kind, cfg->name, cfg->cpu);
    if (!ctx)
        return -VNS_ENOMEM;
    if (cfg->kind == VNS_CTX_USER) {
        ctx_push_base(ctx, base_user, VNS_ARRAY_SIZE(base_user));
    } else {
        ctx_push_base(ctx, base_kthread, VNS_ARRAY_SIZE(base_kthread));
        if (cfg->threadfn >= 0) {
            ctx->frames[ctx->depth++] = (uint16_t)cfg->threadfn;
            ctx->base_depth = ctx->depth;
        }
    }
    if (cfg->fn)
        vns_ctx_push(ctx, cfg->fn, cfg->arg);
    *out = ctx;
    return 0;
}

static void ctx_unlink(struct vns_ctx *ctx)
{
    struct vns_sim *sim = ctx->sim;

    if (ctx->sim_prev)
        ctx->sim_prev->sim_next = ctx->sim_next;
    else
        sim->ctxs = ctx->sim_next;
    if (ctx->sim_next)
        ctx->sim_next->sim_prev = ctx->sim_prev;
    else
        sim->ctxs_tail = ctx->sim_prev;
}

void vns_ctx_destroy(struct vns_ctx *ctx)
{
    struct vns_cpu *cpu;

    if (!ctx)
        return;
    cpu = ctx->cpu;
    vns_timer_cancel(ctx->sim, &ctx->wake_timer);
    if (cpu) {
        rq_remove(cpu, ctx);
        if (cpu->curr == ctx)
            cpu->curr = NULL;
        if (cpu->last == ctx)
            cpu->last = NULL;
    }
    ctx_unlink(ctx);
    vns_free(ctx);
}

int vns_ctx_start(struct vns_ctx *ctx, vns_time_t when)
{
    if (ctx->state != VNS_CTX_SLEEPING)
        return -VNS_EBUSY;
    ctx->state = VNS_CTX_WAKING;
    return vns_timer_arm(ctx->sim, &ctx->wake_timer, VNS_MAX(when, ctx->sim->now));
}

int vns_ctx_push(struct vns_ctx *ctx, vns_step_fn fn, void *arg)
{
    if (ctx->nconts == VNS_CTX_MAX_CONTS)
        return -VNS_EOVERFLOW;
    ctx->conts[ctx->nconts].fn = fn;
    ctx->conts[ctx->nconts].arg = arg;
    ctx->conts[ctx->nconts].depth = (uint16_t)ctx->depth;
    ctx->nconts++;
    return 0;
}

static bool cpu_is_idle_at(const struct vns_cpu *cpu, vns_time_t when)
{
    return !cpu->curr && !cpu->rq_len && !cpu->irq_depth && !cpu->in_step &&
           cpu->free_at <= when;
}

bool vns_ctx_wake_at(struct vns_ctx *ctx, vns_time_t when)
{
    struct vns_sim *sim = ctx->sim;
    vns_time_t ready;
    bool real = false;

    if (when < sim->now)
        when = sim->now;
    switch (ctx->state) {
    case VNS_CTX_CURRENT:
    case VNS_CTX_RUNNABLE:
    case VNS_CTX_ACTIVE:
        if (ctx->in_step)
            ctx->wake_pending = true;
        return false;
    case VNS_CTX_WAKING:
        return false;
    case VNS_CTX_SLEEPING:
        break;
    }
    if (when <= ctx->sleep_at) {
        /* The waker ran while this context was still in the step that
         * decided to sleep: in the kernel it would have seen TASK_RUNNING
         * restored before schedule(). It simply runs again. */
        ready = VNS_MAX(ctx->sleep_at, sim->now);
    } else if (ctx->kind == VNS_CTX_VCPU) {
        ready = when + param(sim, VNS_FN_vcpu_wakeup);
        ctx->vcpu->stats.halt_wakeups++;
        real = true;
    } else {
        ready = when;
        if (cpu_is_idle_at(ctx->cpu, when))
            ready += param(sim, VNS_FN_sched_wakeup_idle_latency);
        real = true;
    }
    if (real)
        ctx->stats.wakeups++;
    ctx->state = VNS_CTX_WAKING;
    vns_timer_arm(sim, &ctx->wake_timer, ready);
    return real;
}

bool vns_ctx_wake(struct vns_ctx *waker, struct vns_ctx *ctx)
{
    if (!waker)
        return vns_ctx_wake_at(ctx, ctx->sim->now);
    vns_charge(waker, VNS_FN_try_to_wake_up, 0);
    return vns_ctx_wake_at(ctx, waker->now);
}

const char *vns_ctx_name(const struct vns_ctx *ctx) { return ctx->name; }
enum vns_ctx_kind vns_ctx_kind(const struct vns_ctx *ctx) { return ctx->kind; }
struct vns_cpu *vns_ctx_cpu(const struct vns_ctx *ctx) { return ctx->cpu; }
struct vns_sim *vns_ctx_sim(const struct vns_ctx *ctx) { return ctx->sim; }
const struct vns_ctx_stats *vns_ctx_stats(const struct vns_ctx *ctx) { return &ctx->stats; }
bool vns_ctx_is_sleeping(const struct vns_ctx *ctx) { return ctx->state == VNS_CTX_SLEEPING; }
uint32_t vns_ctx_id(const struct vns_ctx *ctx) { return ctx->id; }
vns_time_t vns_ctx_now(const struct vns_ctx *ctx) { return ctx->now; }
unsigned vns_ctx_depth(const struct vns_ctx *ctx) { return ctx->depth; }

/* --- cost and frames ------------------------------------------------------------ */

void vns_charge_ns(struct vns_ctx *ctx, uint64_t ns)
{
    if (ctx)
        ctx->now += ns;
}

void vns_charge_bytes(struct vns_ctx *ctx, int f, uint64_t bytes)
{
    uint64_t ps;

    if (!ctx)
        return;
    ps = bytes * ctx->sim->costs.eff_byte_ps[f] + ctx->ps_rem;
    ctx->now += ps / 1000;
    ctx->ps_rem = ps % 1000;
}

void vns_charge(struct vns_ctx *ctx, int f, uint64_t bytes)
{
    if (!ctx)
        return;
    ctx->now += ctx->sim->costs.eff_call_ns[f];
    if (bytes)
        vns_charge_bytes(ctx, f, bytes);
}

#ifndef VNS_NO_TRACE_FRAMES
/* A frame too deep to record, or a probe armed on @f. */
static VNS_NOINLINE void fn_enter_slow(struct vns_ctx *ctx, int f, unsigned d)
{
    if (d < VNS_CTX_MAX_FRAMES)
        ctx->frames[d] = (uint16_t)f;
    if (ctx->sim->probe_armed[f])
        vns__probe_hit(ctx, f);
}
#endif

/* Entered and left by every modelled function: inlined into them all by
 * LTO (left to itself, gcc kept a call in some of the sites). */
#if defined(__GNUC__) && !defined(__clang__)
#define FN_INLINE __attribute__((always_inline)) inline
#else
#define FN_INLINE
#endif

FN_INLINE void vns_fn_enter(struct vns_ctx *ctx, int f)
{
    unsigned d;

    if (!ctx || VNS_UNLIKELY((unsigned)f >= VNS_FN__COUNT))
        return;   /* -1 is "no frame" throughout the API */
    d = ctx->depth++;
    ctx->now += ctx->sim->costs.eff_call_ns[f];
#ifndef VNS_NO_TRACE_FRAMES
    /* Tracing, once a probe or the timeline needs frames: record the
     * frame and test for a probe, in one compare (frame_limit[f] is 0
     * when a probe is armed on f; the probe sees the frame entered and
     * charged). Laid out of line: a run that records nothing pays one
     * test. */
    if (VNS_UNLIKELY(ctx->sim->frames_on)) {
        if (VNS_LIKELY(d < ctx->sim->frame_limit[f]))
            ctx->frames[d] = (uint16_t)f;
        else
            fn_enter_slow(ctx, f, d);
    }
#else
    (void)d;
#endif
}

/* Pairs with vns_fn_enter(ctx, f) for a valid @f only: a caller that may
 * pass -1 checks it before exiting too. */
FN_INLINE void vns_fn_exit(struct vns_ctx *ctx)
{
    if (ctx && ctx->depth > ctx->base_depth)
        ctx->depth--;
}

void vns__ctx_truncate(struct vns_ctx *ctx, unsigned depth)
{
    if (ctx->depth > depth)
        ctx->depth = VNS_MAX(depth, ctx->base_depth);
}

/* Start recording frames. The base frames are written at creation, so
 * recording can start exactly while every context is at its base. */
int vns__frames_need(struct vns_sim *sim)
{
    if (sim->frames_on)
        return 0;
    for (const struct vns_ctx *c = sim->ctxs; c; c = c->sim_next)
        if (c->depth != c->base_depth)
            return -VNS_EBUSY;
    sim->frames_on = true;
    return 0;
}

unsigned vns_ctx_stack(const struct vns_ctx *ctx, uint16_t *frames, unsigned max)
{
    unsigned n = 0;

    for (; ctx; ctx = ctx->below) {
        /* Not recording (vns__frames_need): only the base frames are known. */
        unsigned d = VNS_MIN(ctx->sim->frames_on ? ctx->depth : ctx->base_depth,
                             (unsigned)VNS_CTX_MAX_FRAMES);

        while (d-- > 0) {
            if (n < max)
                frames[n] = ctx->frames[d];
            n++;
        }
    }
    return n;
}

/* --- hard interrupts --------------------------------------------------------------- */

void vns_irq_init(struct vns_irq *irq, const char *name, struct vns_cpu *cpu, int f,
                  vns_step_fn handler, void *arg)
{
    memset(irq, 0, sizeof(*irq));
    irq->name = name;
    irq->cpu = cpu;
    irq->f = f;
    irq->handler = handler;
    irq->arg = arg;
    irq->entry_f = VNS_FN_ret_from_intr;
    irq->vector_f = VNS_FN_do_IRQ;
}

static void irq_deliver(struct vns_sim *sim, void *arg)
{
    struct vns_irq *irq = arg;
    struct vns_cpu *cpu = irq->cpu;

    if (VNS_UNLIKELY(sim->timeline != NULL))
        vns__timeline_instant(sim, cpu, irq->name ? irq->name : "irq", sim->now);
    if (irq->pending) {
        irq->coalesced++;
        return;
    }
    irq->pending = true;
    irq->next_pending = NULL;
    if (cpu->irq_tail)
        cpu->irq_tail->next_pending = irq;
    else
        cpu->irq_head = irq;
    cpu->irq_tail = irq;
    vns__cpu_kick(cpu, sim->now);
}

void vns_irq_raise(struct vns_sim *sim, struct vns_irq *irq, vns_time_t when)
{
    irq->raised++;
    if (vns__sim_call(sim, VNS_MAX(when, sim->now), irq_deliver, irq, VNS_EV_IRQ, irq->cpu->id) < 0)
        irq_deliver(sim, irq);   /* no memory for the event: deliver now */
}

void vns_vmexit(struct vns_ctx *ctx)
{
    if (!ctx || !ctx->cpu->backing_cpu)
        return;
    ctx->cpu->stats.vmexits++;
    if (VNS_UNLIKELY(ctx->sim->timeline != NULL))
        vns__timeline_instant(ctx->sim, ctx->cpu, "vmexit", ctx->now);
    vns_charge(ctx, VNS_FN_vmexit, 0);
}

static bool in_interrupt_below(const struct vns_ctx *c)
{
    for (; c; c = c->below)
        if (c->kind == VNS_CTX_HARDIRQ || c->bh_count > 0 || c->softirq_depth > 0)
            return true;
    return false;
}

bool vns_in_interrupt(const struct vns_ctx *ctx)
{
    return in_interrupt_below(ctx);
}

enum { IRQ_ENTRY, IRQ_HANDLER, IRQ_EXIT, IRQ_SOFTIRQ };

/* The whole life of one hard interrupt on its context, in steps:
 * ret_from_intr -> do_IRQ -> handler, then irq_exit -> __do_softirq
 * (arch/x86/kernel/irq.c do_IRQ and kernel/softirq.c irq_exit, 5.4). */
static int hardirq_step(struct vns_ctx *a, void *arg)
{
    struct vns_irq *irq = a->irq;
    struct vns_cpu *cpu = a->cpu;
    int r;

    (void)arg;
    switch (a->irq_phase) {
    case IRQ_ENTRY:
        if (cpu->backing_cpu)
            vns_charge(a, VNS_FN_irq_inject, 0);
        vns_fn_enter(a, irq->entry_f);
        vns_fn_enter(a, irq->vector_f);
        if (irq->f >= 0)
            vns_fn_enter(a, irq->f);
        a->irq_phase = IRQ_HANDLER;
        /* fall through */
    case IRQ_HANDLER:
        r = irq->handler(a, irq->arg);
        if (r == VNS_STEP_AGAIN)
            return VNS_STEP_AGAIN;
        vns__ctx_truncate(a, 2);
        a->in_irq_handler = false;
        a->irq_phase = IRQ_EXIT;
        /* fall through */
    case IRQ_EXIT:
        vns_fn_enter(a, VNS_FN_irq_exit);
        if (in_interrupt_below(a->below) || !cpu->softirq_pending ||
            vns__ksoftirqd_running(cpu, cpu->softirq_pending))
            return VNS_STEP_DONE;
        /* HAVE_IRQ_EXIT_ON_IRQ_STACK: __do_softirq straight from irq_exit. */
        cpu->stats.softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT]++;
        vns_fn_enter(a, VNS_FN___do_softirq);
        vns__softirq_run_init(a, &a->sr);
        a->irq_phase = IRQ_SOFTIRQ;
        /* fall through */
    default:
        if (vns__softirq_loop(a, &a->sr) == VNS_STEP_AGAIN)
            return VNS_STEP_AGAIN;
        return VNS_STEP_DONE;
    }
}

static bool irqs_enabled(const struct vns_cpu *cpu)
{
    return !cpu->irq_depth || !cpu->irq_ctx[cpu->irq_depth - 1]->in_irq_handler;
}

static void take_irq(struct vns_cpu *cpu)
{
    struct vns_irq *irq = cpu->irq_head;
    struct vns_ctx *a = cpu->irq_ctx[cpu->irq_depth];

    cpu->irq_head = irq->next_pending;
    if (!cpu->irq_head)
        cpu->irq_tail = NULL;
    irq->pending = false;
    irq->taken++;
    cpu->stats.irqs++;
    a->below = cpu->irq_depth ? cpu->irq_ctx[cpu->irq_depth - 1]
                              : (cpu->curr ? cpu->curr : cpu->idle);
    cpu->irq_depth++;
    a->state = VNS_CTX_ACTIVE;
    a->irq = irq;
    a->depth = 0;
    a->nconts = 0;
    a->in_irq_handler = true;
    a->bh_count = 0;
    a->softirq_depth = 0;
    a->irq_phase = IRQ_ENTRY;
    memset(&a->sr, 0, sizeof(a->sr));
    vns_ctx_push(a, hardirq_step, NULL);
}

/* --- the step ----------------------------------------------------------------------- */

bool vns__cpu_has_work(const struct vns_cpu *cpu)
{
    return cpu->irq_head || cpu->irq_depth || cpu->curr || cpu->rq_len;
}

static void cont_done(struct vns_ctx *ctx, unsigned i)
{
    unsigned depth = ctx->conts[i].depth;

    if (i + 1 == ctx->nconts) {
        ctx->nconts--;
        vns__ctx_truncate(ctx, depth);
        return;
    }
    /* It pushed continuations and finished: they inherit its frame scope
     * (a tail call), so the frames it entered are dropped when they end. */
    if (ctx->conts[i + 1].depth > depth)
        ctx->conts[i + 1].depth = (uint16_t)depth;
    memmove(&ctx->conts[i], &ctx->conts[i + 1], (ctx->nconts - i - 1) * sizeof(ctx->conts[0]));
    ctx->nconts--;
}

struct vns_ctx *vns_sim_running_ctx(const struct vns_sim *sim)
{
    return sim->running;
}

vns_time_t vns__cpu_run_step(struct vns_cpu *cpu, vns_time_t t)
{
    struct vns_ctx *ctx;
    bool task;
    unsigned i;
    int ret;
    uint64_t busy;

    if (cpu->irq_head && irqs_enabled(cpu) && cpu->irq_depth < VNS_IRQ_NEST_MAX)
        take_irq(cpu);
    if (cpu->irq_depth) {
        ctx = cpu->irq_ctx[cpu->irq_depth - 1];
        task = false;
    } else {
        if (!cpu->curr && !cpu_pick_next(cpu, t))
            return VNS_TIME_NEVER;
        ctx = cpu->curr;
        task = true;
    }
    ctx->now = t;
    ctx->ps_rem = 0;
    if (task && cpu->last != ctx) {
        if (cpu->last) {
            vns_charge(ctx, VNS_FN___schedule, 0);
            cpu->stats.ctx_switches++;
            ctx->stats.switches++;
        }
        cpu->last = ctx;
    }
    ctx->in_step = true;
    cpu->in_step = true;
    if (ctx->nconts) {
        struct vns_ctx *outer = cpu->sim->running; /* a vCPU step runs inside its thread's */

        i = ctx->nconts - 1;
        cpu->sim->running = ctx;
        ret = ctx->conts[i].fn(ctx, ctx->conts[i].arg);
        cpu->sim->running = outer;
        if (VNS_UNLIKELY(cpu->sim->timeline != NULL))
            vns__timeline_step(ctx, t, ctx->depth ? ctx->frames[VNS_MIN(ctx->depth, VNS_CTX_MAX_FRAMES) - 1] : -1);
        if (ret == VNS_STEP_DONE || (ret == VNS_STEP_SLEEP && !task))
            cont_done(ctx, i);
    } else {
        ret = VNS_STEP_SLEEP;
    }
    ctx->in_step = false;
    cpu->in_step = false;
    busy = ctx->now - t;
    cpu->stats.busy_ns += busy;
    ctx->stats.busy_ns += busy;
    ctx->stats.steps++;

    if (!task) {
        if (!ctx->nconts) {
            ctx->state = VNS_CTX_SLEEPING;
            ctx->below = NULL;
            cpu->irq_depth--;
        }
    } else {
        ctx->vruntime += busy;
        if ((ret == VNS_STEP_SLEEP || !ctx->nconts) && !ctx->wake_pending) {
            ctx->state = VNS_CTX_SLEEPING;
            ctx->sleep_at = ctx->now;
            cpu->curr = NULL;
        } else if (cpu->rq_len &&
                   (cpu->need_resched ||
                    (ctx->now - cpu->curr_since >= param(cpu->sim, VNS_FN_sched_min_granularity) &&
                     rq_before(cpu->rq[0], ctx)))) {
            cpu->curr = NULL;
            if (rq_push(cpu, ctx) == 0)
                ctx->state = VNS_CTX_RUNNABLE;
            else
                cpu->curr = ctx;   /* cannot queue it: keep running it */
        }
        update_min_vruntime(cpu);
    }
    ctx->wake_pending = false;
    return ctx->now;
}

/* --- dispatch of host CPUs ------------------------------------------------------------ */

static void cpu_dispatch(struct vns_sim *sim, struct vns_timer *tm)
{
    struct vns_cpu *cpu = tm->data;
    vns_time_t end = vns__cpu_run_step(cpu, sim->now);

    if (end == VNS_TIME_NEVER)
        return;
    cpu->free_at = end;
    if (vns__cpu_has_work(cpu))
        vns_timer_arm(sim, &cpu->dispatch, end);
}

void vns__cpu_kick(struct vns_cpu *cpu, vns_time_t t)
{
    vns_time_t at;

    if (cpu->backing_cpu) {
        vns_ctx_wake_at(cpu->vcpu_thread, t);
        return;
    }
    if (cpu->in_step)
        return;   /* the step's end re-dispatches */
    at = VNS_MAX(VNS_MAX(t, cpu->free_at), cpu->sim->now);
    if (vns_timer_pending(&cpu->dispatch) && cpu->dispatch.expires <= at)
        return;
    vns_timer_arm(cpu->sim, &cpu->dispatch, at);
}

/* The host thread of a guest vCPU: KVM_RUN until the guest halts. */
static int vcpu_thread_step(struct vns_ctx *host, void *arg)
{
    struct vns_cpu *guest = arg;
    vns_time_t end;

    if (vns__cpu_has_work(guest)) {
        end = vns__cpu_run_step(guest, host->now);
        if (end != VNS_TIME_NEVER) {
            host->now = end;
            guest->free_at = end;
        }
        if (vns__cpu_has_work(guest))
            return VNS_STEP_AGAIN;
    }
    /* Nothing to run: the guest idles in native_safe_halt -> HLT exit. */
    guest->stats.halts++;
    vns_charge(host, VNS_FN_vcpu_halt_exit, 0);
    return VNS_STEP_SLEEP;
}

/* --- CPUs ----------------------------------------------------------------------------- */

int vns_cpu_create(struct vns_sim *sim, const struct vns_cpu_config *cfg, struct vns_cpu **out)
{
    struct vns_cpu *cpu;
    char name[64];
    int err = -VNS_ENOMEM;

    if (!cfg || (cfg->backing_cpu && (cfg->backing_cpu->sim != sim || cfg->backing_cpu->backing_cpu)))
        return -VNS_EINVAL;
    if (cfg->hz && (cfg->hz < 24 || cfg->hz > 10000))
        return -VNS_EINVAL;   /* Linux offers 100, 250, 300, 1000 */
    cpu = vns_calloc(1, sizeof(*cpu));
    if (!cpu)
        return -VNS_ENOMEM;
    cpu->sim = sim;
    cpu->id = vns_sim_new_id(sim);
    snprintf(cpu->name, sizeof(cpu->name), "%.63s", cfg->name ? cfg->name : "cpu");
    cpu->backing_cpu = cfg->backing_cpu;
    cpu->hz = cfg->hz ? cfg->hz : 1000;
    vns_timer_init(&cpu->dispatch, cpu_dispatch, cpu, cpu->id);
    cpu->dispatch.kind = VNS_EV_CPU;
    cpu->sim_prev = sim->cpus_tail;
    if (sim->cpus_tail)
        sim->cpus_tail->sim_next = cpu;
    else
        sim->cpus = cpu;
    sim->cpus_tail = cpu;

    snprintf(name, sizeof(name), "swapper/%.48s", cpu->name);
    cpu->idle = ctx_new(sim, VNS_CTX_IDLE, name, cpu);
    if (!cpu->idle)
        goto fail;
    ctx_push_base(cpu->idle, base_idle, VNS_ARRAY_SIZE(base_idle));
    snprintf(name, sizeof(name), "ksoftirqd/%.48s", cpu->name);
    cpu->ksoftirqd = ctx_new(sim, VNS_CTX_KTHREAD, name, cpu);
    if (!cpu->ksoftirqd)
        goto fail;
    ctx_push_base(cpu->ksoftirqd, base_kthread, VNS_ARRAY_SIZE(base_kthread));
    cpu->ksoftirqd->frames[cpu->ksoftirqd->depth++] = VNS_FN_smpboot_thread_fn;
    cpu->ksoftirqd->base_depth = cpu->ksoftirqd->depth;
    vns_ctx_push(cpu->ksoftirqd, vns__ksoftirqd_step, cpu);
    for (int i = 0; i < VNS_IRQ_NEST_MAX; i++) {
        snprintf(name, sizeof(name), "irq%d/%.48s", i, cpu->name);
        cpu->irq_ctx[i] = ctx_new(sim, VNS_CTX_HARDIRQ, name, cpu);
        if (!cpu->irq_ctx[i])
            goto fail;
    }
    vns__timer_list_cpu_init(cpu);
    if (cpu->backing_cpu) {
        snprintf(name, sizeof(name), "vcpu/%.48s", cpu->name);
        cpu->vcpu_thread = ctx_new(sim, VNS_CTX_VCPU, name, cpu->backing_cpu);
        if (!cpu->vcpu_thread)
            goto fail;
        cpu->vcpu_thread->vcpu = cpu;
        vns_ctx_push(cpu->vcpu_thread, vcpu_thread_step, cpu);
    }
    *out = cpu;
    return 0;
fail:
    vns_cpu_destroy(cpu);
    return err;
}

void vns_cpu_destroy(struct vns_cpu *cpu)
{
    struct vns_sim *sim;
    struct vns_ctx *c, *next;

    if (!cpu)
        return;
    sim = cpu->sim;
    if (cpu->vcpu_thread)
        vns_ctx_destroy(cpu->vcpu_thread);
    for (c = sim->ctxs; c; c = next) {
        next = c->sim_next;
        if (c->cpu == cpu)
            vns_ctx_destroy(c);
    }
    vns_timer_cancel(sim, &cpu->dispatch);
    if (cpu->sim_prev)
        cpu->sim_prev->sim_next = cpu->sim_next;
    else
        sim->cpus = cpu->sim_next;
    if (cpu->sim_next)
        cpu->sim_next->sim_prev = cpu->sim_prev;
    else
        sim->cpus_tail = cpu->sim_prev;
    vns_free(cpu->rq);
    vns_free(cpu);
}

void vns__cpu_destroy_all(struct vns_sim *sim)
{
    /* Guests first: their vCPU threads live on host CPUs. */
    for (struct vns_cpu *c = sim->cpus, *n; c; c = n) {
        n = c->sim_next;
        if (c->backing_cpu)
            vns_cpu_destroy(c);
    }
    while (sim->cpus)
        vns_cpu_destroy(sim->cpus);
    while (sim->ctxs)
        vns_ctx_destroy(sim->ctxs);
}

const char *vns_cpu_name(const struct vns_cpu *cpu) { return cpu->name; }
uint32_t vns_cpu_id(const struct vns_cpu *cpu) { return cpu->id; }
const struct vns_cpu_stats *vns_cpu_stats(const struct vns_cpu *cpu) { return &cpu->stats; }
struct vns_sim *vns_cpu_sim(const struct vns_cpu *cpu) { return cpu->sim; }
struct vns_ctx *vns_cpu_vcpu_thread(const struct vns_cpu *cpu) { return cpu->vcpu_thread; }
struct vns_ctx *vns_cpu_ksoftirqd(const struct vns_cpu *cpu) { return cpu->ksoftirqd; }
bool vns_cpu_is_idle(const struct vns_cpu *cpu) { return !vns__cpu_has_work(cpu) && !cpu->in_step; }
