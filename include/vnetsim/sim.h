/* vnetsim -- the discrete-event engine.
 *
 * A simulation owns a virtual clock, an event queue ordered by
 * (time, insertion sequence) so that ties fire in scheduling order, the
 * cost table, the kernel profile, probes, named RNG streams and a
 * fingerprint: a 64-bit hash over the ordered stream of executed events
 * (time, kind, owner), so any behavioural change shows as a new number.
 *
 * Timers are caller-allocated (struct vns_timer inside the owning object),
 * cancellable and re-armable in O(log n), as the kernel's timer_list and
 * hrtimer are used by TCP RTO, delayed ACK, FDB ageing and NAPI. */
#ifndef VNETSIM_SIM_H
#define VNETSIM_SIM_H

#include "vnetsim/common.h"
#include "vnetsim/rng.h"

struct vns_timer;
struct vns_cost_table;
struct vns_profile;

typedef void (*vns_timer_fn)(struct vns_sim *sim, struct vns_timer *t);

/* Event kinds hashed into the fingerprint. A closed set. */
enum vns_event_kind {
    VNS_EV_TIMER = 1,   /* a vns_timer set by a component */
    VNS_EV_CPU = 2,     /* a CPU reaches a step boundary */
    VNS_EV_WAKE = 3,    /* a context becomes runnable */
    VNS_EV_IRQ = 4,     /* an interrupt reaches a CPU */
    VNS_EV_CALL = 5,    /* a one-shot vns_sim_call_at() */
    VNS_EV_OBSERVE = 6, /* an observer (time series): not in the fingerprint */
};

struct vns_timer {
    vns_time_t expires;      /* absolute virtual time; valid while pending */
    uint64_t seq;            /* insertion sequence; breaks ties */
    uint32_t heap_idx;       /* its slot in the event heap while pending; UINT32_MAX = idle */
    uint16_t kind;           /* enum vns_event_kind */
    uint32_t owner;          /* hashed into the fingerprint (an object id) */
    vns_timer_fn fn;
    void *data;              /* for the callback */
};

struct vns_sim_config {
    uint64_t seed;           /* 0 is a valid seed */
    const char *profile;     /* kernel profile name; NULL = "linux-5.4" */
    /* Record every context's call frames from the start (for
     * vns_ctx_stack, or probes armed while contexts are mid-call).
     * Otherwise frames are recorded from when a probe or the timeline
     * first needs them, which must be while no context is mid-call
     * (before the run, typically); a run with neither does not pay for
     * them (docs/performance.md, "What tracing costs"). */
    bool record_frames;
};

/* Create a simulation at time 0. Returns 0, -VNS_ENOMEM, or -VNS_ENOENT
 * for an unknown profile. *out is untouched on failure. */
VNS_EXTERN int vns_sim_create(const struct vns_sim_config *cfg, struct vns_sim **out);
/* Destroy a simulation; NULL is a no-op. Objects created on it (CPUs,
 * contexts) must be destroyed first, except those the sim owns. */
VNS_EXTERN void vns_sim_destroy(struct vns_sim *sim);

VNS_EXTERN vns_time_t vns_sim_now(const struct vns_sim *sim);
VNS_EXTERN uint64_t vns_sim_seed(const struct vns_sim *sim);
/* Derive the named RNG stream @stream from the simulation seed. */
VNS_EXTERN void vns_sim_rng(const struct vns_sim *sim, const char *stream,
                            struct vns_rng *out);
VNS_EXTERN struct vns_cost_table *vns_sim_costs(struct vns_sim *sim);
VNS_EXTERN const struct vns_profile *vns_sim_profile(const struct vns_sim *sim);

/* Timers. init once; arm (re-arm moves a pending timer); cancel. */
VNS_EXTERN void vns_timer_init(struct vns_timer *t, vns_timer_fn fn, void *data,
                               uint32_t owner);
/* Arm @t to fire at absolute time @expires. Returns -VNS_EINVAL if
 * @expires is in the past (the engine never goes back in time). */
VNS_EXTERN int vns_timer_arm(struct vns_sim *sim, struct vns_timer *t,
                             vns_time_t expires);
/* Returns true if @t was pending. */
VNS_EXTERN bool vns_timer_cancel(struct vns_sim *sim, struct vns_timer *t);
static inline bool vns_timer_pending(const struct vns_timer *t)
{
    return t->heap_idx != UINT32_MAX;
}

/* One-shot callback at @when (pooled, no malloc in steady state). */
typedef void (*vns_call_fn)(struct vns_sim *sim, void *arg);
VNS_EXTERN int vns_sim_call_at(struct vns_sim *sim, vns_time_t when,
                               vns_call_fn fn, void *arg, uint32_t owner);

/* Run events up to and including time @until; the clock then reads @until
 * unless the run was stopped early. Returns 0, or -VNS_ECANCELED when
 * vns_sim_stop() ended it (the clock stays at the last event). */
VNS_EXTERN int vns_sim_run(struct vns_sim *sim, vns_time_t until);
/* Run at most @max events with time <= @until. Returns the number run.
 * The clock is not advanced past the last event: the caller (the libuv
 * driver) decides when the run is over. */
VNS_EXTERN size_t vns_sim_run_batch(struct vns_sim *sim, vns_time_t until, size_t max);
/* Ask a run to stop at the next event boundary (safe from a callback). */
VNS_EXTERN void vns_sim_stop(struct vns_sim *sim);
VNS_EXTERN bool vns_sim_stop_requested(const struct vns_sim *sim);
/* Resource limit: stop (as vns_sim_stop) right after the @n-th event;
 * 0 = no limit. vns_sim_event_limit_hit() tells that it happened. */
VNS_EXTERN void vns_sim_set_max_events(struct vns_sim *sim, uint64_t n);
VNS_EXTERN bool vns_sim_event_limit_hit(const struct vns_sim *sim);
/* Move the clock forward to @t with no events due before it (end of run). */
VNS_EXTERN void vns_sim_advance(struct vns_sim *sim, vns_time_t t);
/* Time of the next pending event, VNS_TIME_NEVER if none. */
VNS_EXTERN vns_time_t vns_sim_next_time(const struct vns_sim *sim);
VNS_EXTERN size_t vns_sim_pending(const struct vns_sim *sim);
VNS_EXTERN uint64_t vns_sim_events_run(const struct vns_sim *sim);
/* Hash of the ordered stream of executed events so far. */
VNS_EXTERN uint64_t vns_sim_fingerprint(const struct vns_sim *sim);
/* Next object id (for timer owners and contexts); starts at 1. */
VNS_EXTERN uint32_t vns_sim_new_id(struct vns_sim *sim);

#endif
