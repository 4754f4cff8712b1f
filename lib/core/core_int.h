/* lib/core/core_int.h -- private to vnetsim: the engine's structures.
 * Layers above reach these objects only through the public headers. */
#ifndef VNETSIM_CORE_INT_H
#define VNETSIM_CORE_INT_H

#include "vnetsim/sim.h"
#include "vnetsim/cpu.h"
#include "vnetsim/func.h"
#include "vnetsim/trace.h"

struct vns_cost_table {
    unsigned mhz;
    uint32_t call_ns[VNS_FN__COUNT];    /* at VNS_COST_REF_MHZ */
    uint32_t byte_ps[VNS_FN__COUNT];
    uint32_t eff_call_ns[VNS_FN__COUNT]; /* scaled to mhz */
    uint32_t eff_byte_ps[VNS_FN__COUNT];
};

void vns__cost_init(struct vns_cost_table *t);

/* How a profile shows a frame. */
enum vns_frame_show { VNS_SHOW, VNS_HIDE, VNS_HIDE_UNDER };

struct vns_profile_entry {
    const char *func;     /* kernel name (a VNS_FN_ name) */
    const char *symbol;   /* shown instead; NULL = the name */
    enum vns_frame_show show;
    const char *caller;   /* VNS_HIDE_UNDER: hidden when directly under this */
};

struct vns_profile {
    const char *name;
    const struct vns_profile_entry *entries;
    size_t nentries;
    /* Resolved once (at first use, under a once-flag) into per-id arrays. */
    const char *symbol[VNS_FN__COUNT];
    uint8_t show[VNS_FN__COUNT];
    int16_t hide_caller[VNS_FN__COUNT];
};

void vns__profiles_resolve(void);

/* --- probes --------------------------------------------------------------- */

struct vns_probe_stack {
    uint16_t probe;       /* the probed function */
    uint16_t n;           /* visible frames */
    uint32_t first;       /* order of first sight */
    uint64_t hash;
    uint64_t count;
    uint16_t *frames;     /* innermost first, visible frames only */
};

struct vns_probes {
    uint16_t order[VNS_FN__COUNT];   /* probes in arming order */
    unsigned norder;
    uint64_t hits[VNS_FN__COUNT];
    struct vns_probe_stack *stacks;
    size_t nstacks, capstacks;
    uint32_t *index;      /* open addressing: stack idx + 1, 0 = empty */
    size_t index_cap;     /* power of two */
};

/* --- simulation ----------------------------------------------------------- */

struct vns_call;

_Static_assert(VNS_CTX_MAX_FRAMES <= UINT8_MAX, "frame_limit holds VNS_CTX_MAX_FRAMES");

/* A pending event in the radix heap (lib/core/sim.c): its expires and its
 * links in its bucket's circular list (node indexes; the first
 * VNS_RQ_BUCKETS nodes are the buckets' sentinels). rq_timer[node] is its
 * timer. No seq: a bucket keeps equal times in arming order. 16 bytes. */
struct vns_ev_node {
    vns_time_t expires;
    uint32_t next, prev;
};

/* Buckets: 0 for expires at last; else 1 + (the highest base-256 digit d
 * where expires differs from last) * 256 + (expires' digit d). */
#define VNS_RQ_DIGIT_BITS 8
#define VNS_RQ_BUCKETS    (1 + (64 / VNS_RQ_DIGIT_BITS << VNS_RQ_DIGIT_BITS))
#define VNS_RQ_MASK_WORDS ((VNS_RQ_BUCKETS + 63) / 64)

struct vns_sim {
    vns_time_t now;
    uint64_t seq;
    uint64_t seed;
    struct vns_ev_node *rq;          /* lib/core/sim.c: the radix heap's nodes */
    struct vns_timer **rq_timer;     /* node -> its pending timer */
    uint64_t rq_mask[VNS_RQ_MASK_WORDS];   /* nonempty buckets */
    uint64_t rq_words;               /* nonzero words of rq_mask */
    vns_time_t rq_last;              /* expires of the event last taken */
    uint32_t rq_len, rq_used, rq_cap, rq_free;   /* pending; nodes used, allocated; free list */
    struct vns_timer *firing;        /* whose callback runs; its node is out of the queue */
    uint32_t firing_node;
    uint64_t events_run;
    uint64_t fingerprint;
    bool stop;
    uint64_t max_events;             /* 0 = none; reaching it sets stop and event_limit_hit */
    bool event_limit_hit;
    uint32_t next_id;
    struct vns_cost_table costs;
    const struct vns_profile *profile;
    uint8_t probe_armed[VNS_FN__COUNT];
    bool frames_on;                  /* vns_fn_enter records frames (vns__frames_need) */
    /* vns_fn_enter's one test while frames_on: a frame at depth <
     * frame_limit[f] is just recorded; VNS_CTX_MAX_FRAMES, or 0 once a
     * probe is armed on f. */
    uint8_t frame_limit[VNS_FN__COUNT];
    struct vns_probes *probes;       /* NULL until a probe is armed */
    struct vns_call *call_free;      /* pool of one-shot calls */
    struct vns_call_chunk *call_chunks;
    struct vns_timeline *timeline;   /* NULL unless recording */
    struct vns_series *series;       /* NULL unless sampling */
    struct vns_cpu *cpus, *cpus_tail; /* all CPUs (owned), creation order */
    struct vns_ctx *ctxs, *ctxs_tail; /* all contexts (owned), creation order */
    struct vns_ctx *running;          /* context in a step now (innermost), or NULL */
};

void vns__probe_hit(struct vns_ctx *ctx, int f);
int vns__frames_need(struct vns_sim *sim);
void vns__timeline_step(struct vns_ctx *ctx, vns_time_t start, int fn);
void vns__timeline_free(struct vns_timeline *tl);
void vns__series_free(struct vns_series *s);
void vns__timeline_instant(struct vns_sim *sim, const struct vns_cpu *cpu, const char *name, vns_time_t at);
void vns__probes_free(struct vns_probes *p);

/* --- contexts and CPUs ---------------------------------------------------- */

enum vns_ctx_state {
    VNS_CTX_SLEEPING,     /* blocked until woken */
    VNS_CTX_WAKING,       /* woken; becomes runnable when wake_timer fires */
    VNS_CTX_RUNNABLE,     /* in its CPU's run queue */
    VNS_CTX_CURRENT,      /* owns its CPU (between or during steps) */
    VNS_CTX_ACTIVE,       /* an interrupt context on a CPU's irq stack */
};

struct vns_cont {
    vns_step_fn fn;
    void *arg;
    uint16_t depth;       /* frame depth when pushed; DONE truncates to it */
};

/* State of one __do_softirq run (kernel/softirq.c), kept across steps. */
struct vns_softirq_run {
    uint32_t pending;     /* bits still to run in this pass */
    int max_restart;
    vns_time_t end;       /* start + MAX_SOFTIRQ_TIME */
    bool in_action;
    bool started;
    unsigned nr;          /* the action running */
    uint16_t action_depth;
};

struct vns_ctx {
    struct vns_sim *sim;
    struct vns_cpu *cpu;
    enum vns_ctx_kind kind;
    enum vns_ctx_state state;
    uint32_t id;
    char name[64];
    vns_time_t now;            /* local clock */
    uint64_t ps_rem;           /* sub-ns cost remainder, in ps */
    vns_time_t sleep_at;       /* local time of the last SLEEP */
    bool in_step;              /* its step is executing right now */
    bool wake_pending;         /* woken during its own step */
    bool in_irq_handler;       /* HARDIRQ: before irq_exit (irqs off) */
    uint8_t irq_phase;         /* HARDIRQ: entry, handler, irq_exit, softirq */
    int bh_count;              /* local_bh_disable nesting */
    int softirq_depth;         /* running __do_softirq on this stack */
    unsigned base_depth;       /* frames that are the kind's base frames */
    unsigned depth;
    uint16_t frames[VNS_CTX_MAX_FRAMES];
    unsigned nconts;
    struct vns_cont conts[VNS_CTX_MAX_CONTS];
    struct vns_ctx *below;     /* HARDIRQ: the context it interrupted */
    struct vns_cpu *vcpu;      /* VCPU: the guest CPU this thread runs */
    struct vns_irq *irq;       /* HARDIRQ: the line being handled */
    struct vns_softirq_run sr; /* HARDIRQ or ksoftirqd: current __do_softirq */
    /* scheduling */
    uint64_t vruntime;
    uint32_t rq_idx;           /* in cpu run-queue heap; UINT32_MAX = not queued */
    struct vns_timer wake_timer;
    struct vns_ctx_stats stats;
    struct vns_ctx *sim_next, *sim_prev;
};

#define VNS_IRQ_NEST_MAX 4

struct vns_cpu {
    struct vns_sim *sim;
    uint32_t id;
    char name[64];
    struct vns_cpu *backing_cpu;     /* guest vCPU: host CPU of its thread */
    struct vns_ctx *vcpu_thread;     /* guest vCPU: the host thread */
    struct vns_ctx *curr;            /* task owning the CPU, NULL = idle */
    struct vns_ctx *last;            /* last task that ran (switch cost) */
    struct vns_ctx *idle;
    struct vns_ctx *ksoftirqd;
    struct vns_ctx **rq;             /* run queue: min-heap (vruntime, id) */
    uint32_t rq_len, rq_cap;
    uint64_t min_vruntime;
    vns_time_t curr_since;           /* when curr was switched in */
    bool need_resched;
    unsigned irq_depth;
    struct vns_ctx *irq_ctx[VNS_IRQ_NEST_MAX];
    struct vns_irq *irq_head, *irq_tail;
    vns_time_t free_at;              /* end of the last step */
    bool in_step;
    struct vns_timer dispatch;       /* host CPU: next step boundary */
    uint32_t softirq_pending;
    struct {
        vns_softirq_fn fn;
        void *arg;
        int f;
    } softirq[VNS_NR_SOFTIRQS];
    struct vns_cpu_stats stats;
    unsigned hz;                     /* ticks per second of its kernel */
    struct vns_irq tick_irq;         /* local APIC timer */
    struct vns_timer_list *expired_head, *expired_tail;
    struct vns_cpu *sim_next, *sim_prev;
};

/* Run one step on @cpu starting at @t. Returns the step's end time, or
 * VNS_TIME_NEVER if the CPU had nothing to run (idle). */
vns_time_t vns__cpu_run_step(struct vns_cpu *cpu, vns_time_t t);
bool vns__cpu_has_work(const struct vns_cpu *cpu);
/* Work arrived for @cpu at @t: make sure it runs a step. */
void vns__cpu_kick(struct vns_cpu *cpu, vns_time_t t);
void vns__cpu_enqueue(struct vns_cpu *cpu, struct vns_ctx *ctx);
void vns__cpu_destroy_all(struct vns_sim *sim);
void vns__ctx_truncate(struct vns_ctx *ctx, unsigned depth);
int vns__softirq_loop(struct vns_ctx *ctx, struct vns_softirq_run *sr);
void vns__softirq_run_init(struct vns_ctx *ctx, struct vns_softirq_run *sr);
void vns__ksoftirqd_wake(struct vns_cpu *cpu, vns_time_t when);
void vns__timer_list_cpu_init(struct vns_cpu *cpu);
int vns__ksoftirqd_step(struct vns_ctx *ctx, void *arg);
bool vns__ksoftirqd_running(const struct vns_cpu *cpu, uint32_t pending);
int vns__sim_call(struct vns_sim *sim, vns_time_t when, vns_call_fn fn, void *arg,
                  unsigned kind, uint32_t owner);
void vns__sim_fingerprint_add(struct vns_sim *sim, vns_time_t t, unsigned kind, uint32_t owner);

#endif
