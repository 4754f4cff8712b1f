/* sim/bench_engine.c -- engine figures: events per second at several
 * queue depths, timer arm+cancel per second, ns per frame push/pop, and
 * the engine demo end to end. */
#include <inttypes.h>
#include <stdio.h>

#include "vnetsim/vnetsim.h"
#include "core/core_int.h"   /* struct vns_ev_node */

#include "bench.h"

#define now_s bench_now

struct ev {
    struct vns_timer t;
    struct vns_rng *rng;
};

static void ev_fire(struct vns_sim *sim, struct vns_timer *t)
{
    struct ev *e = t->data;

    vns_timer_arm(sim, t, vns_sim_now(sim) + 1 + vns_rng_below(e->rng, 1000));
}

/* Events per second with @pending timers always in the heap. */
static double bench_events(unsigned pending, uint64_t events)
{
    struct vns_sim *sim;
    struct vns_rng rng;
    struct ev *evs = vns_calloc(pending, sizeof(*evs));
    double t0, t1;

    vns_sim_create(NULL, &sim);
    vns_rng_seed(&rng, 1, "bench");
    for (unsigned i = 0; i < pending; i++) {
        evs[i].rng = &rng;
        vns_timer_init(&evs[i].t, ev_fire, &evs[i], i);
        vns_timer_arm(sim, &evs[i].t, vns_rng_below(&rng, 1000));
    }
    t0 = now_s();
    while (vns_sim_events_run(sim) < events)
        vns_sim_run_batch(sim, VNS_TIME_NEVER - 1, 65536);
    t1 = now_s();
    vns_sim_destroy(sim);
    vns_free(evs);
    return (double)events / (t1 - t0);
}

static double bench_arm_cancel(unsigned pending, uint64_t ops)
{
    struct vns_sim *sim;
    struct vns_rng rng;
    struct ev *evs = vns_calloc(pending, sizeof(*evs));
    struct vns_timer t;
    double t0, t1;

    vns_sim_create(NULL, &sim);
    vns_rng_seed(&rng, 1, "bench");
    for (unsigned i = 0; i < pending; i++) {
        vns_timer_init(&evs[i].t, ev_fire, &evs[i], i);
        vns_timer_arm(sim, &evs[i].t, vns_rng_below(&rng, 1000000));
    }
    vns_timer_init(&t, ev_fire, NULL, 0);
    t0 = now_s();
    for (uint64_t i = 0; i < ops; i++) {
        vns_timer_arm(sim, &t, (i * 7919) % 1000000);
        vns_timer_cancel(sim, &t);
    }
    t1 = now_s();
    vns_sim_destroy(sim);
    vns_free(evs);
    return (double)ops / (t1 - t0);
}

struct frames {
    uint64_t n;
};

static int frame_step(struct vns_ctx *ctx, void *arg)
{
    struct frames *f = arg;

    for (uint64_t i = 0; i < f->n; i++) {
        vns_fn_enter(ctx, VNS_FN_handle_tx);
        vns_fn_enter(ctx, VNS_FN_handle_tx_copy);
        vns_fn_exit(ctx);
        vns_fn_exit(ctx);
    }
    return VNS_STEP_DONE;
}

/* ns per frame push+pop, with no probe or with a probe on the inner one. */
static double bench_frames(bool probe, uint64_t n)
{
    struct vns_sim *sim;
    struct vns_cpu *cpu;
    struct vns_ctx *ctx;
    struct frames f = {n};
    double t0, t1;

    vns_sim_create(NULL, &sim);
    vns_cpu_create(sim, &(struct vns_cpu_config){.name = "cpu0"}, &cpu);
    vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_KTHREAD, .name = "k", .cpu = cpu,
                                                  .threadfn = VNS_FN_vhost_worker, .fn = frame_step, .arg = &f},
                   &ctx);
    if (probe)
        vns_probe_add(sim, "handle_tx_copy");
    vns_ctx_start(ctx, 0);
    t0 = now_s();
    vns_sim_run(sim, VNS_TIME_NEVER - 1);
    t1 = now_s();
    vns_sim_destroy(sim);
    return (t1 - t0) * 1e9 / (double)(2 * n);
}

static void bench_demo(void)
{
    struct vns_sim *sim;
    struct vns_demo *d;
    struct vns_demo_stats st;
    struct vns_demo_config cfg = vns_demo_default_config();
    double t0, t1;

    cfg.items = 2000000;
    vns_sim_create(&(struct vns_sim_config){.seed = 42}, &sim);
    vns_demo_create(sim, &cfg, &d);
    t0 = now_s();
    vns_sim_run(sim, VNS_SEC(1));
    t1 = now_s();
    vns_demo_stats(d, &st);
    bench_row("engine", "demo: events per wall second", (double)vns_sim_events_run(sim) / (t1 - t0), "ev/s", NULL);
    bench_row("engine", "demo: wall ns per event", (t1 - t0) * 1e9 / (double)vns_sim_events_run(sim), "ns", NULL);
    vns_demo_destroy(d);
    vns_sim_destroy(sim);
}

void bench_engine(const struct bench_opts *o)
{
    uint64_t k = o->quick ? 1 : 4;   /* quick: a quarter of the work */

    bench_row("engine", "events/s, 1 pending", bench_events(1, 5000000 * k), "ev/s", NULL);
    bench_row("engine", "events/s, 1k pending", bench_events(1000, 2500000 * k), "ev/s", ">= 20 M");
    bench_row("engine", "events/s, 100k pending", bench_events(100000, 1250000 * k), "ev/s", NULL);
    bench_row("engine", "timer schedule+cancel/s, 1k pending", bench_arm_cancel(1000, 5000000 * k), "ops/s",
              NULL);
    bench_row("engine", "frame push+pop, no probe", bench_frames(false, 12500000 * k), "ns", NULL);
    bench_row("engine", "frame push+pop, probe armed (1 of 2 frames)", bench_frames(true, 1250000 * k), "ns",
              NULL);
    /* A pending event is a struct vns_timer embedded in its owner plus a
     * queue node (its expires and list links) and the node's pointer to
     * the timer: no allocation per event. */
    bench_row("engine", "bytes per pending event: queue node + timer pointer",
              (double)(sizeof(struct vns_ev_node) + sizeof(struct vns_timer *)), "B", "ns-3 map: 32");
    bench_row("engine", "bytes per pending event: timer (in its owner)", (double)sizeof(struct vns_timer), "B",
              NULL);
    bench_demo();
}
