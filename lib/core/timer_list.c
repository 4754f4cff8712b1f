/* lib/core/timer_list.c -- kernel timers that run in TIMER_SOFTIRQ.
 * LINUX: kernel/time/timer.c (mod_timer, del_timer, run_timer_softirq,
 * call_timer_fn) and the local APIC timer interrupt
 * (arch/x86/kernel/apic/apic.c smp_apic_timer_interrupt, which raises
 * TIMER_SOFTIRQ through update_process_times -> run_local_timers).
 *
 * Simplified: no timer wheel. A timer fires at the first tick of its CPU
 * at or after its expiry, which is what the wheel guarantees for the
 * short timeouts networking uses (the wheel's coarser levels only delay
 * far-away timers, by up to 12.5%); tickless idle does not change it. The
 * tick interrupt is raised only when a timer is due, not every tick. */
#include "vnetsim/error.h"
#include "core_int.h"

vns_time_t vns_cpu_tick_ns(const struct vns_cpu *cpu)
{
    return VNS_SEC(1) / cpu->hz;
}

/* The local APIC timer: raise TIMER_SOFTIRQ; irq_exit runs it. */
static int tick_handler(struct vns_ctx *ctx, void *arg)
{
    (void)arg;
    vns_raise_softirq_irqoff(vns_ctx_cpu(ctx), VNS_TIMER_SOFTIRQ);
    return VNS_STEP_DONE;
}

/* run_timer_softirq: one expired timer per step (call_timer_fn). */
static int run_timer_softirq(struct vns_ctx *ctx, void *arg)
{
    struct vns_cpu *cpu = arg;
    struct vns_timer_list *t = cpu->expired_head;
    unsigned depth;

    if (!t)
        return VNS_STEP_DONE;
    cpu->expired_head = t->next_expired;
    if (!cpu->expired_head)
        cpu->expired_tail = NULL;
    t->next_expired = NULL;
    t->expired = false;
    depth = vns_ctx_depth(ctx);
    vns_fn_enter(ctx, VNS_FN_call_timer_fn);
    if (t->f >= 0)
        vns_fn_enter(ctx, t->f);
    t->fn(ctx, t);     /* may re-arm t */
    vns__ctx_truncate(ctx, depth);
    return cpu->expired_head ? VNS_STEP_AGAIN : VNS_STEP_DONE;
}

void vns__timer_list_cpu_init(struct vns_cpu *cpu)
{
    vns_irq_init(&cpu->tick_irq, "LOC", cpu, VNS_FN_smp_apic_timer_interrupt, tick_handler, NULL);
    /* 5.4 x86: apic_timer_interrupt -> smp_apic_timer_interrupt (the
     * handler frame is that function itself, so no separate vector). */
    cpu->tick_irq.entry_f = VNS_FN_apic_timer_interrupt;
    cpu->tick_irq.vector_f = VNS_FN_smp_apic_timer_interrupt;
    cpu->tick_irq.f = -1;
    vns_softirq_open(cpu, VNS_TIMER_SOFTIRQ, VNS_FN_run_timer_softirq, run_timer_softirq, cpu);
}

static void timer_list_expire(struct vns_sim *sim, struct vns_timer *ev)
{
    struct vns_timer_list *t = ev->data;
    struct vns_cpu *cpu = t->cpu;

    t->expired = true;
    t->next_expired = NULL;
    if (cpu->expired_tail)
        cpu->expired_tail->next_expired = t;
    else
        cpu->expired_head = t;
    cpu->expired_tail = t;
    vns_irq_raise(sim, &cpu->tick_irq, sim->now);
}

void vns_timer_list_init(struct vns_timer_list *t, struct vns_cpu *cpu, int f, vns_timer_list_fn fn,
                         void *data)
{
    vns_timer_init(&t->ev, timer_list_expire, t, cpu->id);
    t->cpu = cpu;
    t->fn = fn;
    t->f = f;
    t->data = data;
    t->expires = 0;
    t->expired = false;
    t->next_expired = NULL;
}

/* Take @t off its CPU's expired list (it was due but has not run). */
static void expired_unlink(struct vns_timer_list *t)
{
    struct vns_cpu *cpu = t->cpu;
    struct vns_timer_list **pp, *prev = NULL;

    for (pp = &cpu->expired_head; *pp; prev = *pp, pp = &(*pp)->next_expired) {
        if (*pp == t) {
            *pp = t->next_expired;
            if (cpu->expired_tail == t)
                cpu->expired_tail = prev;
            break;
        }
    }
    t->expired = false;
    t->next_expired = NULL;
}

bool vns_timer_list_pending(const struct vns_timer_list *t)
{
    return vns_timer_pending(&t->ev) || t->expired;
}

bool vns_mod_timer(struct vns_timer_list *t, vns_time_t expires)
{
    struct vns_sim *sim = t->cpu->sim;
    vns_time_t tick = vns_cpu_tick_ns(t->cpu), at;
    bool was = vns_timer_list_pending(t);

    if (t->expired)
        expired_unlink(t);
    if (expires < sim->now)
        expires = sim->now;
    t->expires = expires;
    at = (expires + tick - 1) / tick * tick;   /* the next tick boundary */
    vns_timer_arm(sim, &t->ev, at);
    return was;
}

bool vns_del_timer(struct vns_timer_list *t)
{
    bool was = vns_timer_list_pending(t);

    vns_timer_cancel(t->cpu->sim, &t->ev);
    if (t->expired)
        expired_unlink(t);
    return was;
}
