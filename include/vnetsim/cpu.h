/* vnetsim -- CPUs, execution contexts, steps, interrupts and softirqs.
 *
 * A context (a user process in a system call, a kthread such as a vhost
 * worker or ksoftirqd, a hard interrupt, the softirq run at irq_exit, the
 * idle loop) executes in STEPS on one CPU. A step starts at virtual time t
 * on a free CPU; every modelled function charges its cost to the running
 * context (vns_fn_enter, vns_charge), so the context's local clock
 * ctx->now is t + cost so far, and anything it schedules (a wake-up, an
 * interrupt, a packet on a wire) happens at that local time. When the step
 * returns, the CPU is busy until ctx->now.
 *
 * A kernel loop that handles many items (handle_tx, virtnet_poll,
 * net_rx_action, ...) returns VNS_STEP_AGAIN after each item and is called
 * again in a new step at its local time, so other contexts see its writes,
 * and it sees theirs, at the right simulated time. Its frames stay on the
 * context's shadow stack across steps.
 *
 * Work is a stack of continuations (fn, arg) per context: a step calls the
 * top one. VNS_STEP_DONE pops it (and truncates the shadow stack back to
 * its depth at push time), VNS_STEP_AGAIN keeps it for the next step,
 * VNS_STEP_SLEEP keeps it and blocks the context until vns_ctx_wake().
 *
 * Interrupts: a hard interrupt that reaches a CPU in a step is taken when
 * the step ends (the model's one approximation of preemption, documented
 * in docs/architecture.md); on an idle CPU it is taken at once. It runs on
 * top of the interrupted context (ret_from_intr, do_IRQ, handler), then
 * irq_exit runs pending softirqs (__do_softirq) on the same stack. Softirqs
 * also run at the outermost local_bh_enable in process context and in
 * ksoftirqd, exactly where linux-5.4's kernel/softirq.c runs them.
 *
 * A guest vCPU is a vns_cpu backed by a host context (the vCPU thread) on
 * a host CPU: guest steps are host steps of that thread, and a vCPU with
 * nothing to do halts, freeing its host CPU until an interrupt wakes it. */
#ifndef VNETSIM_CPU_H
#define VNETSIM_CPU_H

#include "vnetsim/common.h"
#include "vnetsim/func.h"
#include "vnetsim/sim.h"

enum vns_ctx_kind {
    VNS_CTX_USER,     /* a process; its kernel stack starts at the syscall entry */
    VNS_CTX_KTHREAD,  /* ret_from_fork, kthread, then its thread function */
    VNS_CTX_HARDIRQ,  /* ret_from_intr, do_IRQ, handler (+ irq_exit softirqs) */
    VNS_CTX_IDLE,     /* the idle loop of a CPU (a halted vCPU) */
    VNS_CTX_VCPU,     /* host thread that runs a guest vCPU */
};

enum vns_step_ret {
    VNS_STEP_DONE = 0,   /* this continuation is finished */
    VNS_STEP_AGAIN = 1,  /* call me again in the next step */
    VNS_STEP_SLEEP = 2,  /* block until vns_ctx_wake(); then call me again */
};

typedef int (*vns_step_fn)(struct vns_ctx *ctx, void *arg);

/* Softirq numbers as in include/linux/interrupt.h. */
enum vns_softirq_nr {
    VNS_HI_SOFTIRQ = 0,
    VNS_TIMER_SOFTIRQ,
    VNS_NET_TX_SOFTIRQ,
    VNS_NET_RX_SOFTIRQ,
    VNS_BLOCK_SOFTIRQ,
    VNS_IRQ_POLL_SOFTIRQ,
    VNS_TASKLET_SOFTIRQ,
    VNS_SCHED_SOFTIRQ,
    VNS_HRTIMER_SOFTIRQ,
    VNS_RCU_SOFTIRQ,
    VNS_NR_SOFTIRQS
};

/* kernel/softirq.c (linux-5.4): __do_softirq restarts at most
 * MAX_SOFTIRQ_RESTART times within MAX_SOFTIRQ_TIME, then wakes ksoftirqd. */
#define VNS_MAX_SOFTIRQ_RESTART 10
#define VNS_MAX_SOFTIRQ_TIME VNS_MSEC(2)

/* A softirq action runs in steps like any loop: VNS_STEP_AGAIN = more
 * items now, VNS_STEP_DONE = finished this invocation. */
typedef int (*vns_softirq_fn)(struct vns_ctx *ctx, void *arg);

/* Maximum depth of a context's shadow stack and continuation stack. */
#define VNS_CTX_MAX_FRAMES 112
#define VNS_CTX_MAX_CONTS 24

struct vns_ctx_stats {
    uint64_t busy_ns;      /* CPU time consumed by this context's steps */
    uint64_t steps;
    uint64_t wakeups;      /* real sleep -> runnable transitions */
    uint64_t switches;     /* times it was switched in after another context */
};

struct vns_cpu_stats {
    uint64_t busy_ns;      /* time spent in steps (any context) */
    uint64_t irqs;         /* hard interrupts taken */
    uint64_t softirq_runs[3]; /* __do_softirq at irq_exit, at bh enable, in ksoftirqd */
    uint64_t ctx_switches;
    uint64_t halts;        /* vCPU only: HLT exits (the vCPU thread slept) */
    uint64_t halt_wakeups; /* vCPU only: woken from halt */
    uint64_t vmexits;      /* vCPU only: exits counted with vns_vmexit() */
};

enum { VNS_SOFTIRQ_AT_IRQ_EXIT, VNS_SOFTIRQ_AT_BH_ENABLE, VNS_SOFTIRQ_IN_KSOFTIRQD };

struct vns_cpu_config {
    const char *name;             /* "host/cpu0", "vm1/cpu0"; copied */
    struct vns_cpu *backing_cpu;  /* set for a guest vCPU: the host CPU its thread runs on */
    unsigned hz;                  /* CONFIG_HZ of its kernel (timer_list ticks); 0 = 1000 */
};

/* Create a CPU (with its idle context and ksoftirqd). */
VNS_EXTERN int vns_cpu_create(struct vns_sim *sim, const struct vns_cpu_config *cfg,
                              struct vns_cpu **out);
VNS_EXTERN void vns_cpu_destroy(struct vns_cpu *cpu);
VNS_EXTERN const char *vns_cpu_name(const struct vns_cpu *cpu);
VNS_EXTERN uint32_t vns_cpu_id(const struct vns_cpu *cpu);
VNS_EXTERN const struct vns_cpu_stats *vns_cpu_stats(const struct vns_cpu *cpu);
VNS_EXTERN struct vns_sim *vns_cpu_sim(const struct vns_cpu *cpu);
/* The host thread of a guest vCPU, NULL for a host CPU. */
VNS_EXTERN struct vns_ctx *vns_cpu_vcpu_thread(const struct vns_cpu *cpu);
VNS_EXTERN struct vns_ctx *vns_cpu_ksoftirqd(const struct vns_cpu *cpu);
/* True while the CPU has nothing to run (a vCPU: halted). */
VNS_EXTERN bool vns_cpu_is_idle(const struct vns_cpu *cpu);

struct vns_ctx_config {
    enum vns_ctx_kind kind;       /* USER or KTHREAD (others are internal) */
    const char *name;             /* "vhost-1234", "netperf"; copied */
    struct vns_cpu *cpu;          /* where it runs (pinned) */
    int threadfn;                 /* KTHREAD: the thread function frame (VNS_FN_x), or -1 */
    vns_step_fn fn;               /* main continuation; may be NULL (push later) */
    void *arg;
};

/* Create a context. It starts asleep; vns_ctx_wake() or vns_ctx_start()
 * makes it runnable. */
VNS_EXTERN int vns_ctx_create(struct vns_sim *sim, const struct vns_ctx_config *cfg,
                              struct vns_ctx **out);
VNS_EXTERN void vns_ctx_destroy(struct vns_ctx *ctx);
/* Make a new context runnable at @when (no wake-up latency, not counted). */
VNS_EXTERN int vns_ctx_start(struct vns_ctx *ctx, vns_time_t when);

/* Push a continuation; it runs in the next step of @ctx (before the ones
 * below it). -VNS_EOVERFLOW if the continuation stack is full. */
VNS_EXTERN int vns_ctx_push(struct vns_ctx *ctx, vns_step_fn fn, void *arg);

/* Wake @ctx at time @when (try_to_wake_up). If it is asleep it becomes
 * runnable after the wake-up latency; if it is runnable, running, or went
 * to sleep only after @when (it was still running then), nothing is lost:
 * it just runs again. Returns true if it was really asleep. */
VNS_EXTERN bool vns_ctx_wake_at(struct vns_ctx *ctx, vns_time_t when);
/* Wake @ctx from @waker's step: at waker's local time, charging
 * try_to_wake_up to the waker. @waker may be NULL (then: now). */
VNS_EXTERN bool vns_ctx_wake(struct vns_ctx *waker, struct vns_ctx *ctx);

VNS_EXTERN const char *vns_ctx_name(const struct vns_ctx *ctx);
VNS_EXTERN enum vns_ctx_kind vns_ctx_kind(const struct vns_ctx *ctx);
VNS_EXTERN struct vns_cpu *vns_ctx_cpu(const struct vns_ctx *ctx);
VNS_EXTERN struct vns_sim *vns_ctx_sim(const struct vns_ctx *ctx);
VNS_EXTERN const struct vns_ctx_stats *vns_ctx_stats(const struct vns_ctx *ctx);
VNS_EXTERN bool vns_ctx_is_sleeping(const struct vns_ctx *ctx);
VNS_EXTERN uint32_t vns_ctx_id(const struct vns_ctx *ctx);

/* The context whose step is running now (the innermost: a guest vCPU's
 * step inside its host thread's), or NULL between steps (an engine event).
 * For code reached without a ctx argument, such as an skb destructor. */
VNS_EXTERN struct vns_ctx *vns_sim_running_ctx(const struct vns_sim *sim);

/* The context's local clock: during a step, step start + cost so far. */
VNS_EXTERN vns_time_t vns_ctx_now(const struct vns_ctx *ctx);

/* Charge @ns to the running context. */
VNS_EXTERN void vns_charge_ns(struct vns_ctx *ctx, uint64_t ns);
/* Charge the cost of @f moving @bytes (call cost + per-byte cost). */
VNS_EXTERN void vns_charge(struct vns_ctx *ctx, int f, uint64_t bytes);
/* Charge only the per-byte cost of @f for @bytes. */
VNS_EXTERN void vns_charge_bytes(struct vns_ctx *ctx, int f, uint64_t bytes);

/* Enter a modelled function: push its frame, charge its per-call cost,
 * fire probes armed on it. Pair with vns_fn_exit(). @ctx may be NULL
 * (a unit test driving a component with no engine): then nothing happens.
 * @f < 0 (the API's "no frame") does nothing either: then do not call
 * vns_fn_exit for it. */
VNS_EXTERN void vns_fn_enter(struct vns_ctx *ctx, int f);
VNS_EXTERN void vns_fn_exit(struct vns_ctx *ctx);
/* Shadow-stack depth (own frames, not those of an interrupted context). */
VNS_EXTERN unsigned vns_ctx_depth(const struct vns_ctx *ctx);
/* Copy the full stack seen at this point, innermost first, as function
 * ids (including the frames of the context an interrupt runs on top of).
 * Returns the number of frames (may exceed @max: then truncated). Frames
 * are recorded when struct vns_sim_config's record_frames is set, or once
 * a probe or the timeline is on; until then only each context's base
 * frames (its kind's, and its thread function) are returned. */
VNS_EXTERN unsigned vns_ctx_stack(const struct vns_ctx *ctx, uint16_t *frames,
                                  unsigned max);

/* --- softirq (kernel/softirq.c) --------------------------------------- */

/* Register the action of softirq @nr on @cpu (open_softirq, per CPU
 * because each kernel instance has its own CPUs). @f is its frame. */
VNS_EXTERN void vns_softirq_open(struct vns_cpu *cpu, unsigned nr, int f,
                                 vns_softirq_fn action, void *arg);
/* raise_softirq: mark pending; if not in interrupt context, wake
 * ksoftirqd (as the kernel does when raised from process context). */
VNS_EXTERN void vns_raise_softirq(struct vns_ctx *ctx, unsigned nr);
/* __raise_softirq_irqoff: only mark pending (hardirq / bh-off callers). */
VNS_EXTERN void vns_raise_softirq_irqoff(struct vns_cpu *cpu, unsigned nr);
VNS_EXTERN uint32_t vns_softirq_pending(const struct vns_cpu *cpu);
/* local_bh_disable / local_bh_enable in the running context. The
 * outermost enable runs pending softirqs on the same stack
 * (__local_bh_enable_ip -> do_softirq -> do_softirq_own_stack ->
 * __do_softirq), within the caller's step. */
VNS_EXTERN void vns_local_bh_disable(struct vns_ctx *ctx);
VNS_EXTERN void vns_local_bh_enable(struct vns_ctx *ctx);
/* in_interrupt(): hardirq, softirq, or bottom halves disabled. */
VNS_EXTERN bool vns_in_interrupt(const struct vns_ctx *ctx);

/* --- hard interrupts ------------------------------------------------------ */

/* A hard interrupt line. The handler runs as a continuation on the
 * interrupt context (with @f pushed as its frame), at most once per
 * delivery; a line raised while already pending is coalesced, as an
 * edge-triggered MSI is while masked/pending. */
struct vns_irq {
    const char *name;
    struct vns_cpu *cpu;        /* affinity */
    vns_step_fn handler;
    void *arg;
    int f;                      /* handler's frame (VNS_FN_x), -1 for none */
    int entry_f, vector_f;      /* entry frames: ret_from_intr, do_IRQ (the default) */
    /* engine-owned */
    bool pending;
    struct vns_irq *next_pending;
    uint64_t raised;            /* deliveries requested */
    uint64_t taken;             /* handler runs */
    uint64_t coalesced;         /* raised while pending */
};

VNS_EXTERN void vns_irq_init(struct vns_irq *irq, const char *name, struct vns_cpu *cpu,
                             int f, vns_step_fn handler, void *arg);
/* Raise @irq at time @when (an MSI reaching its CPU; for a guest CPU, the
 * injection: a halted vCPU is woken). */
VNS_EXTERN void vns_irq_raise(struct vns_sim *sim, struct vns_irq *irq, vns_time_t when);

/* --- timer_list (kernel/time/timer.c) ------------------------------------------
 *
 * A kernel timer: it expires at the first tick (1/HZ boundary of its CPU's
 * kernel) at or after its expiry time; the local APIC timer interrupt
 * raises TIMER_SOFTIRQ and the callback runs from run_timer_softirq ->
 * call_timer_fn at irq_exit (or in ksoftirqd), on top of whatever the CPU
 * was running, like TCP's delayed-ACK and retransmit timers. */
struct vns_timer_list;
typedef void (*vns_timer_list_fn)(struct vns_ctx *ctx, struct vns_timer_list *t);

struct vns_timer_list {
    struct vns_timer ev;        /* engine event at the tick */
    struct vns_cpu *cpu;
    vns_timer_list_fn fn;
    int f;                      /* callback frame (VNS_FN_tcp_delack_timer ...) or -1 */
    void *data;
    vns_time_t expires;         /* requested expiry (ns) */
    bool expired;               /* on the CPU's expired list, not yet run */
    struct vns_timer_list *next_expired;
};

VNS_EXTERN void vns_timer_list_init(struct vns_timer_list *t, struct vns_cpu *cpu, int f,
                                    vns_timer_list_fn fn, void *data);
/* mod_timer: (re)arm to expire at @expires (rounded up to a tick).
 * Returns true if it was pending. */
VNS_EXTERN bool vns_mod_timer(struct vns_timer_list *t, vns_time_t expires);
/* del_timer: returns true if it was pending. */
VNS_EXTERN bool vns_del_timer(struct vns_timer_list *t);
VNS_EXTERN bool vns_timer_list_pending(const struct vns_timer_list *t);
/* Length of a tick of @cpu's kernel in ns (1e9 / HZ). */
VNS_EXTERN vns_time_t vns_cpu_tick_ns(const struct vns_cpu *cpu);

/* Count a VM exit of the guest vCPU running @ctx and charge its cost (the
 * world switch of a kick, an MMIO/PIO write). No-op on a host context. */
VNS_EXTERN void vns_vmexit(struct vns_ctx *ctx);

#endif
