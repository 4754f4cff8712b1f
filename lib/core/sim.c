/* lib/core/sim.c -- the event queue, timers and the run loop.
 *
 * Events run in (expires, seq) order: seq is a global insertion counter,
 * so events at equal times fire in the order they were armed (libuv's
 * start_id). The order is total, so the queue's internal shape never
 * changes which event runs next: any correct priority queue gives the
 * same run, byte for byte.
 *
 * The queue is a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) on
 * expires, in base 256. It relies on a property of a simulator: time only
 * grows. Let last be the expires of the event last taken to fire (last <=
 * now <= the expires of anything armed after). A pending event is filed
 * by the highest base-256 digit d where its expires differs from last,
 * and its own digit there: bucket 1 + 256 d + digit, or bucket 0 if it
 * expires at last. Buckets in index order hold disjoint, increasing
 * ranges of time. The next event is bucket 0's first; when bucket 0 is
 * empty, it is the earliest of the lowest nonempty bucket, whose expires
 * becomes last: that bucket's other events share digits d and up with
 * the new last, so each is refiled into a strictly lower bucket. An event
 * moves at most 8 times in its life (once or twice for the nanoseconds to
 * milliseconds ahead that a network model arms); arm and cancel are O(1);
 * finding the lowest bucket is two find-first-set over a two-level
 * bitmap; no chain of comparisons mispredicts per level as in the 4-ary
 * heap it replaced (docs/performance.md has the figures of both).
 *
 * Events at equal times must run in seq order, and do without a sort:
 * a bucket is a function of (expires, last), so events with the same
 * expires always share a bucket; each joins the tail when armed (with
 * the newest seq), and a refile walks a bucket in order, appending. So
 * every bucket keeps equal times in seq order, bucket 0 (the events at
 * last) included. The event firing is out of every bucket.
 *
 * A pending timer holds a node (t->heap_idx): its key and its links in a
 * circular list per bucket, in one array (16 bytes a node, sentinels
 * first), so filing and refiling touch that compact array, never the
 * timers scattered through their owners. */
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/error.h"
#include "core_int.h"

#define RQ_NONE UINT32_MAX

static inline unsigned msb64(uint64_t x) /* x != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
    return 63u - (unsigned)__builtin_clzll(x);
#else
    unsigned n = 0;

    while (x >>= 1)
        n++;
    return n;
#endif
}

static inline unsigned lsb64(uint64_t x) /* x != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned n = 0;

    while (!(x & 1)) {
        x >>= 1;
        n++;
    }
    return n;
#endif
}

static inline unsigned rq_bucket(const struct vns_sim *sim, vns_time_t expires)
{
    uint64_t x = expires ^ sim->rq_last;
    unsigned d;

    if (!x)
        return 0;
    d = msb64(x) / VNS_RQ_DIGIT_BITS;
    return 1 + (d << VNS_RQ_DIGIT_BITS) +
           (unsigned)((expires >> (d * VNS_RQ_DIGIT_BITS)) & ((1u << VNS_RQ_DIGIT_BITS) - 1));
}

static inline void rq_mark(struct vns_sim *sim, unsigned b)
{
    sim->rq_mask[b >> 6] |= 1ull << (b & 63);
    sim->rq_words |= 1ull << (b >> 6);
}

static inline void rq_unmark(struct vns_sim *sim, unsigned b)
{
    if (!(sim->rq_mask[b >> 6] &= ~(1ull << (b & 63))))
        sim->rq_words &= ~(1ull << (b >> 6));
}

/* Append node @n to bucket @b. */
static inline void rq_link(struct vns_sim *sim, uint32_t n, unsigned b)
{
    struct vns_ev_node *q = sim->rq;
    uint32_t tail = q[b].prev;

    q[n].next = b;
    q[n].prev = tail;
    q[tail].next = n;
    q[b].prev = n;
    rq_mark(sim, b);
}

static inline void rq_unlink(struct vns_sim *sim, uint32_t n)
{
    struct vns_ev_node *q = sim->rq;
    uint32_t p = q[n].prev, nx = q[n].next;

    q[p].next = nx;
    q[nx].prev = p;
    if (p == nx) /* it was alone: p is its bucket's sentinel, now empty */
        rq_unmark(sim, p);
}

/* Grow the node array (and the node -> timer table) by doubling. */
static int rq_grow(struct vns_sim *sim)
{
    uint32_t cap = sim->rq_cap ? sim->rq_cap * 2 : 2 * VNS_RQ_BUCKETS;
    struct vns_ev_node *q;
    struct vns_timer **t;

    if (!(t = vns_realloc(sim->rq_timer, cap * sizeof(*t))))
        return -VNS_ENOMEM;
    sim->rq_timer = t;
    if (!(q = vns_realloc(sim->rq, cap * sizeof(*q))))
        return -VNS_ENOMEM;
    sim->rq = q;
    if (!sim->rq_cap) {
        for (uint32_t b = 0; b < VNS_RQ_BUCKETS; b++)
            q[b].next = q[b].prev = b; /* empty circular lists */
        sim->rq_used = VNS_RQ_BUCKETS;
    }
    sim->rq_cap = cap;
    return 0;
}

static inline uint32_t rq_node_get(struct vns_sim *sim)
{
    uint32_t n = sim->rq_free;

    if (n != RQ_NONE) {
        sim->rq_free = sim->rq[n].next;
        return n;
    }
    return sim->rq_used++;
}

static inline void rq_node_put(struct vns_sim *sim, uint32_t n)
{
    sim->rq[n].next = sim->rq_free;
    sim->rq_free = n;
}

/* The lowest nonempty bucket above 0, or 0 if none. */
static inline unsigned rq_lowest(const struct vns_sim *sim)
{
    uint64_t m = sim->rq_mask[0] & ~1ull, w;

    if (m)
        return lsb64(m);
    w = sim->rq_words & ~1ull;
    if (!w)
        return 0;
    w = lsb64(w);
    return (unsigned)(64 * w) + lsb64(sim->rq_mask[w]);
}

/* The earliest expires in bucket @b (nonempty). */
static vns_time_t rq_min_of(const struct vns_sim *sim, unsigned b)
{
    const struct vns_ev_node *q = sim->rq;
    vns_time_t best = VNS_TIME_NEVER;

    for (uint32_t n = q[b].next; n != b; n = q[n].next)
        best = q[n].expires < best ? q[n].expires : best;
    return best;
}

/* Take the next event's node out of the queue (to fire), if it expires
 * by @until; else RQ_NONE, and nothing changed (last moves only to an
 * event that fires, so whatever is armed later stays at or above it). */
static uint32_t rq_take(struct vns_sim *sim, vns_time_t until)
{
    struct vns_ev_node *q = sim->rq;
    vns_time_t m;
    unsigned b;
    uint32_t n;

    if (!(sim->rq_mask[0] & 1)) {
        b = rq_lowest(sim);
        if (!b)
            return RQ_NONE;
        n = q[b].next;
        if (q[n].next == b) { /* alone in its bucket: nothing to refile */
            if (q[n].expires > until)
                return RQ_NONE;
            sim->rq_last = q[n].expires;
            rq_unlink(sim, n);
            return n;
        }
        if ((m = rq_min_of(sim, b)) > until)
            return RQ_NONE;
        sim->rq_last = m;
        /* Refile the bucket: each event now differs from last below
         * digit d, those at last go to bucket 0. */
        q[b].next = q[b].prev = b;
        rq_unmark(sim, b);
        while (n != b) {
            uint32_t nx = q[n].next;

            rq_link(sim, n, rq_bucket(sim, q[n].expires));
            n = nx;
        }
    } else if (sim->rq_last > until) {
        return RQ_NONE;
    }
    n = q[0].next;
    rq_unlink(sim, n);
    return n;
}

void vns_timer_init(struct vns_timer *t, vns_timer_fn fn, void *data, uint32_t owner)
{
    memset(t, 0, sizeof(*t));
    t->heap_idx = UINT32_MAX;
    t->kind = VNS_EV_TIMER;
    t->owner = owner;
    t->fn = fn;
    t->data = data;
}

int vns_timer_arm(struct vns_sim *sim, struct vns_timer *t, vns_time_t expires)
{
    uint32_t n;

    if (expires < sim->now)
        return -VNS_EINVAL;
    if (sim->rq_used == sim->rq_cap && sim->rq_free == RQ_NONE && rq_grow(sim))
        return -VNS_ENOMEM; /* before touching t: it stays as it was */
    if (vns_timer_pending(t)) {
        n = t->heap_idx; /* re-armed: same node, new key */
        rq_unlink(sim, n);
    } else if (sim->firing == t) {
        /* Re-armed from its own callback (the commonest arm there is): it
         * keeps its node, taken out of the queue to fire. */
        sim->firing = NULL;
        n = sim->firing_node;
    } else {
        n = rq_node_get(sim);
        sim->rq_timer[n] = t;
        sim->rq_len++;
    }
    t->expires = expires;
    t->seq = sim->seq++;
    t->heap_idx = n;
    sim->rq[n].expires = expires;
    rq_link(sim, n, rq_bucket(sim, expires));
    return 0;
}

static void rq_remove(struct vns_sim *sim, uint32_t n)
{
    rq_unlink(sim, n);
    rq_node_put(sim, n);
    sim->rq_len--;
}

bool vns_timer_cancel(struct vns_sim *sim, struct vns_timer *t)
{
    if (!vns_timer_pending(t))
        return false;
    rq_remove(sim, t->heap_idx);
    t->heap_idx = UINT32_MAX;
    return true;
}

/* --- one-shot calls, pooled ------------------------------------------------ */

struct vns_call {
    struct vns_timer timer;
    vns_call_fn fn;
    void *arg;
    struct vns_call *next_free;
};

#define CALL_CHUNK 64
struct vns_call_chunk {
    struct vns_call_chunk *next;
    struct vns_call calls[CALL_CHUNK];
};

static void call_fire(struct vns_sim *sim, struct vns_timer *t)
{
    struct vns_call *c = VNS_CONTAINER_OF(t, struct vns_call, timer);
    vns_call_fn fn = c->fn;
    void *arg = c->arg;

    c->next_free = sim->call_free;   /* free first: fn may schedule again */
    sim->call_free = c;
    fn(sim, arg);
}

int vns_sim_call_at(struct vns_sim *sim, vns_time_t when, vns_call_fn fn, void *arg,
                    uint32_t owner)
{
    return vns__sim_call(sim, when, fn, arg, VNS_EV_CALL, owner);
}

int vns__sim_call(struct vns_sim *sim, vns_time_t when, vns_call_fn fn, void *arg,
                  unsigned kind, uint32_t owner)
{
    struct vns_call *c;
    int err;

    if (when < sim->now)
        return -VNS_EINVAL;
    if (!sim->call_free) {
        struct vns_call_chunk *ch = vns_malloc(sizeof(*ch));

        if (!ch)
            return -VNS_ENOMEM;
        ch->next = sim->call_chunks;
        sim->call_chunks = ch;
        for (int i = CALL_CHUNK - 1; i >= 0; i--) {
            ch->calls[i].next_free = sim->call_free;
            sim->call_free = &ch->calls[i];
        }
    }
    c = sim->call_free;
    vns_timer_init(&c->timer, call_fire, NULL, owner);
    c->timer.kind = (uint16_t)kind;
    c->fn = fn;
    c->arg = arg;
    err = vns_timer_arm(sim, &c->timer, when);
    if (err)
        return err;
    sim->call_free = c->next_free;
    return 0;
}

/* --- simulation -------------------------------------------------------------- */

int vns_sim_create(const struct vns_sim_config *cfg, struct vns_sim **out)
{
    const char *pname = cfg && cfg->profile ? cfg->profile : "linux-5.4";
    const struct vns_profile *prof = vns_profile_find(pname);
    struct vns_sim *sim;

    if (!prof)
        return -VNS_ENOENT;
    sim = vns_calloc(1, sizeof(*sim));
    if (!sim)
        return -VNS_ENOMEM;
    sim->seed = cfg ? cfg->seed : 0;
    sim->profile = prof;
    sim->next_id = 1;
    sim->rq_free = RQ_NONE;
    sim->fingerprint = vns_mix64(sim->seed ^ 0x766e657473696dull); /* "vnetsim" */
    vns__cost_init(&sim->costs);
    memset(sim->frame_limit, VNS_CTX_MAX_FRAMES, sizeof(sim->frame_limit));
    sim->frames_on = cfg && cfg->record_frames;
    *out = sim;
    return 0;
}

void vns_sim_destroy(struct vns_sim *sim)
{
    if (!sim)
        return;
    vns__cpu_destroy_all(sim);
    while (sim->call_chunks) {
        struct vns_call_chunk *ch = sim->call_chunks;

        sim->call_chunks = ch->next;
        vns_free(ch);
    }
    vns__probes_free(sim->probes);
    vns__timeline_free(sim->timeline);
    vns__series_free(sim->series);
    vns_free(sim->rq);
    vns_free(sim->rq_timer);
    vns_free(sim);
}

vns_time_t vns_sim_now(const struct vns_sim *sim) { return sim->now; }
uint64_t vns_sim_seed(const struct vns_sim *sim) { return sim->seed; }
struct vns_cost_table *vns_sim_costs(struct vns_sim *sim) { return &sim->costs; }
const struct vns_profile *vns_sim_profile(const struct vns_sim *sim) { return sim->profile; }
size_t vns_sim_pending(const struct vns_sim *sim) { return sim->rq_len - (sim->firing != NULL); }
uint64_t vns_sim_events_run(const struct vns_sim *sim) { return sim->events_run; }
uint64_t vns_sim_fingerprint(const struct vns_sim *sim) { return sim->fingerprint; }
uint32_t vns_sim_new_id(struct vns_sim *sim) { return sim->next_id++; }
void vns_sim_stop(struct vns_sim *sim) { sim->stop = true; }
bool vns_sim_stop_requested(const struct vns_sim *sim) { return sim->stop; }
void vns_sim_set_max_events(struct vns_sim *sim, uint64_t n) { sim->max_events = n; }
bool vns_sim_event_limit_hit(const struct vns_sim *sim) { return sim->event_limit_hit; }

void vns_sim_rng(const struct vns_sim *sim, const char *stream, struct vns_rng *out)
{
    vns_rng_seed(out, sim->seed, stream);
}

vns_time_t vns_sim_next_time(const struct vns_sim *sim)
{
    unsigned b;

    if (sim->rq_mask[0] & 1)
        return sim->rq_last;
    b = rq_lowest(sim);
    return b ? rq_min_of(sim, b) : VNS_TIME_NEVER;
}

void vns__sim_fingerprint_add(struct vns_sim *sim, vns_time_t t, unsigned kind, uint32_t owner)
{
    sim->fingerprint = vns_mix64(sim->fingerprint ^ t);
    sim->fingerprint = vns_mix64(sim->fingerprint ^ (((uint64_t)kind << 32) | owner));
}

/* Run the event of node @n, which rq_take took out of the queue. The
 * timer reads as not pending while it fires; if the callback re-arms it,
 * vns_timer_arm files its node again, otherwise it is freed after
 * (without touching the timer, which the callback may have freed).
 * Nothing armed meanwhile can sort before it (later seq, expires >= now). */
static void sim_run_one(struct vns_sim *sim, uint32_t n)
{
    struct vns_timer *t = sim->rq_timer[n];

    t->heap_idx = UINT32_MAX;
    sim->now = t->expires;
    if (t->kind != VNS_EV_OBSERVE) {   /* observers do not change results */
        sim->events_run++;
        vns__sim_fingerprint_add(sim, t->expires, t->kind, t->owner);
        if (VNS_UNLIKELY(sim->events_run == sim->max_events)) {
            sim->stop = true;   /* after this event: an event boundary */
            sim->event_limit_hit = true;
        }
    }
    sim->firing = t;
    sim->firing_node = n;
    t->fn(sim, t);
    if (sim->firing == t) {
        sim->firing = NULL;
        rq_node_put(sim, n);
        sim->rq_len--;
    }
}

size_t vns_sim_run_batch(struct vns_sim *sim, vns_time_t until, size_t max)
{
    size_t n = 0;
    uint32_t node;

    while (n < max && !sim->stop && (node = rq_take(sim, until)) != RQ_NONE) {
        sim_run_one(sim, node);
        n++;
    }
    return n;
}

void vns_sim_advance(struct vns_sim *sim, vns_time_t t)
{
    vns_time_t next = vns_sim_next_time(sim);

    if (t > sim->now)
        sim->now = next <= t ? next : t;
}

int vns_sim_run(struct vns_sim *sim, vns_time_t until)
{
    uint32_t node;

    while (!sim->stop && (node = rq_take(sim, until)) != RQ_NONE)
        sim_run_one(sim, node);
    if (sim->stop)
        return -VNS_ECANCELED;
    if (until > sim->now)
        sim->now = until;
    return 0;
}
