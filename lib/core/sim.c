/* lib/core/sim.c -- the event queue, timers and the run loop.
 *
 * A min-heap of timers ordered by (expires, seq): seq is a global
 * insertion counter, so events at equal times fire in the order they were
 * armed (libuv's start_id). A pending timer holds a slot number; the slot
 * table (heap_pos) says where its entry is, so cancel and re-arm are
 * O(log n) while a sift writes only to the heap and that compact table,
 * never to the timers, which are scattered through their owners (with
 * 1,000 guests, one cache miss per level otherwise). The order is total,
 * so the heap's shape never changes which event runs next: any heap gives
 * the same run. */
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/error.h"
#include "core_int.h"

/* A 4-ary heap of (expires, seq, timer) entries: the keys sit in the heap
 * array itself, so sifting compares without touching the timers (which are
 * scattered through their owners), and four children share a cache line
 * or two. Half the depth of a binary heap for the same n. */
#define HEAP_D 4

/* Sift-down picks among random keys, where a branch per comparison
 * mispredicts half the time: with a 128-bit integer the (expires, seq)
 * order is one unsigned compare that compiles to flags and conditional
 * moves. */
#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 vns_u128;

static inline vns_u128 ent_key(const struct vns_heap_ent *a)
{
    return ((vns_u128)a->expires << 64) | a->seq;
}

static inline bool ent_before(const struct vns_heap_ent *a, const struct vns_heap_ent *b)
{
    return ent_key(a) < ent_key(b);
}
#else
static inline bool ent_before(const struct vns_heap_ent *a, const struct vns_heap_ent *b)
{
    return a->expires < b->expires || (a->expires == b->expires && a->seq < b->seq);
}
#endif

static inline void heap_set(struct vns_sim *sim, uint32_t i, struct vns_heap_ent e)
{
    sim->heap[i] = e;
    sim->heap_pos[e.slot] = i;
}

/* Slots: as many as entries in the heap, recycled through a stack. */
static uint32_t slot_get(struct vns_sim *sim)
{
    return sim->nslot_free ? sim->slot_free[--sim->nslot_free] : sim->nslots++;
}

static void slot_put(struct vns_sim *sim, uint32_t s)
{
    sim->slot_free[sim->nslot_free++] = s;
}

/* Double the heap and its slot tables (heap_cap moves only when all grew). */
static int heap_grow(struct vns_sim *sim)
{
    uint32_t cap = sim->heap_cap ? sim->heap_cap * 2 : 64;
    struct vns_heap_ent *h = vns_realloc(sim->heap, cap * sizeof(*h));
    uint32_t *pos, *fr;
    struct vns_timer **st;

    if (!h)
        return -VNS_ENOMEM;
    sim->heap = h;
    if (!(pos = vns_realloc(sim->heap_pos, cap * sizeof(*pos))))
        return -VNS_ENOMEM;
    sim->heap_pos = pos;
    if (!(fr = vns_realloc(sim->slot_free, cap * sizeof(*fr))))
        return -VNS_ENOMEM;
    sim->slot_free = fr;
    if (!(st = vns_realloc(sim->slot_timer, cap * sizeof(*st))))
        return -VNS_ENOMEM;
    sim->slot_timer = st;
    sim->heap_cap = cap;
    return 0;
}

static void heap_up(struct vns_sim *sim, uint32_t i)
{
    struct vns_heap_ent e = sim->heap[i];

    while (i > 0) {
        uint32_t p = (i - 1) / HEAP_D;

        if (!ent_before(&e, &sim->heap[p]))
            break;
        heap_set(sim, i, sim->heap[p]);
        i = p;
    }
    heap_set(sim, i, e);
}

/* (Floyd's bottom-up variant, hole to a leaf then sift up, measured
 * 5% slower here: bench engine rows.) */
static void heap_down(struct vns_sim *sim, uint32_t i)
{
    struct vns_heap_ent e = sim->heap[i];
    uint32_t n = sim->heap_len;

    for (;;) {
        uint32_t c = HEAP_D * i + 1, end = c + HEAP_D < n ? c + HEAP_D : n, m = c;

        if (c >= n)
            break;
        if (end - c == HEAP_D) {
            /* All four children: a branch-free tournament (masks, not
             * ternaries, so the compiler cannot turn it back into jumps). */
            const struct vns_heap_ent *h = &sim->heap[c];
            uint32_t a = (uint32_t)ent_before(&h[1], &h[0]);
            uint32_t b = 2 + (uint32_t)ent_before(&h[3], &h[2]);
            uint32_t lt = (uint32_t)ent_before(&h[b], &h[a]);

            m = c + (a ^ ((a ^ b) & (0u - lt)));
        } else {
            for (uint32_t k = c + 1; k < end; k++)
                m = ent_before(&sim->heap[k], &sim->heap[m]) ? k : m;
        }
        if (!ent_before(&sim->heap[m], &e))
            break;
        heap_set(sim, i, sim->heap[m]);
        i = m;
    }
    heap_set(sim, i, e);
}

static void heap_remove(struct vns_sim *sim, struct vns_timer *t)
{
    uint32_t i = sim->heap_pos[t->heap_idx];
    struct vns_heap_ent last = sim->heap[--sim->heap_len];

    slot_put(sim, t->heap_idx);
    t->heap_idx = UINT32_MAX;
    if (i == sim->heap_len)
        return;   /* it was the last entry */
    heap_set(sim, i, last);
    if (i > 0 && ent_before(&last, &sim->heap[(i - 1) / HEAP_D]))
        heap_up(sim, i);
    else
        heap_down(sim, i);
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
    uint32_t s;

    if (expires < sim->now)
        return -VNS_EINVAL;
    if (sim->heap_len == sim->heap_cap && heap_grow(sim))
        return -VNS_ENOMEM;   /* before touching t: it stays as it was */
    if (vns_timer_pending(t))
        heap_remove(sim, t);
    t->expires = expires;
    t->seq = sim->seq++;
    if (sim->firing == t) {
        /* Re-armed from its own callback (the commonest arm there is): its
         * old entry is still the root, so one sift-down replaces a pop and
         * a push. */
        sim->firing = NULL;
        s = sim->heap[0].slot;
        t->heap_idx = s;
        heap_set(sim, 0, (struct vns_heap_ent){expires, t->seq, s});
        heap_down(sim, 0);
        return 0;
    }
    s = slot_get(sim);
    t->heap_idx = s;
    sim->slot_timer[s] = t;
    heap_set(sim, sim->heap_len, (struct vns_heap_ent){expires, t->seq, s});
    heap_up(sim, sim->heap_len++);
    return 0;
}

bool vns_timer_cancel(struct vns_sim *sim, struct vns_timer *t)
{
    if (!vns_timer_pending(t))
        return false;
    heap_remove(sim, t);
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
    sim->fingerprint = vns_mix64(sim->seed ^ 0x766e657473696dull); /* "vnetsim" */
    vns__cost_init(&sim->costs);
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
    vns_free(sim->heap);
    vns_free(sim->heap_pos);
    vns_free(sim->slot_free);
    vns_free(sim->slot_timer);
    vns_free(sim);
}

vns_time_t vns_sim_now(const struct vns_sim *sim) { return sim->now; }
uint64_t vns_sim_seed(const struct vns_sim *sim) { return sim->seed; }
struct vns_cost_table *vns_sim_costs(struct vns_sim *sim) { return &sim->costs; }
const struct vns_profile *vns_sim_profile(const struct vns_sim *sim) { return sim->profile; }
size_t vns_sim_pending(const struct vns_sim *sim) { return sim->heap_len - (sim->firing != NULL); }
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
    vns_time_t next = VNS_TIME_NEVER;

    if (!sim->firing)
        return sim->heap_len ? sim->heap[0].expires : VNS_TIME_NEVER;
    /* Asked from a callback: the root is the event firing; the next one is
     * the least of its children. */
    for (uint32_t k = 1; k <= HEAP_D && k < sim->heap_len; k++)
        if (sim->heap[k].expires < next)
            next = sim->heap[k].expires;
    return next;
}

void vns__sim_fingerprint_add(struct vns_sim *sim, vns_time_t t, unsigned kind, uint32_t owner)
{
    sim->fingerprint = vns_mix64(sim->fingerprint ^ t);
    sim->fingerprint = vns_mix64(sim->fingerprint ^ (((uint64_t)kind << 32) | owner));
}

/* Drop the root entry without touching its timer (which its callback may
 * have freed). */
static void heap_pop_root(struct vns_sim *sim)
{
    struct vns_heap_ent last = sim->heap[--sim->heap_len];

    slot_put(sim, sim->heap[0].slot);
    if (sim->heap_len) {
        heap_set(sim, 0, last);
        heap_down(sim, 0);
    }
}

/* Run the earliest event. Its entry stays at the root while it fires (the
 * timer itself reads as not pending): nothing armed meanwhile can sort
 * before it (later seq, expires >= now), so if the callback re-arms it,
 * vns_timer_arm sifts the root down once; otherwise it is popped after. */
static void sim_run_one(struct vns_sim *sim)
{
    struct vns_timer *t = sim->slot_timer[sim->heap[0].slot];

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
    t->fn(sim, t);
    if (sim->firing == t) {
        sim->firing = NULL;
        heap_pop_root(sim);
    }
}

size_t vns_sim_run_batch(struct vns_sim *sim, vns_time_t until, size_t max)
{
    size_t n = 0;

    while (n < max && !sim->stop && sim->heap_len && sim->heap[0].expires <= until) {
        sim_run_one(sim);
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
    while (!sim->stop && sim->heap_len && sim->heap[0].expires <= until)
        sim_run_one(sim);
    if (sim->stop)
        return -VNS_ECANCELED;
    if (until > sim->now)
        sim->now = until;
    return 0;
}
