/* examples/hello_engine.c -- the smallest useful vnetsim program.
 *
 * Builds two host CPUs, one kthread that does 1000 items of 2 us each,
 * and prints when it finished and how busy its CPU was. Uses only the
 * public API (#include <vnetsim/vnetsim.h>), so it also serves as the
 * out-of-tree build test of the installed package.
 *
 *   cc hello_engine.c $(pkg-config --cflags --libs vnetsim) */
#include <inttypes.h>
#include <stdio.h>

#include <vnetsim/vnetsim.h>

struct work {
    int left;
    vns_time_t finished;
};

/* One item per step; the engine advances the clock by what we charge. */
static int worker(struct vns_ctx *ctx, void *arg)
{
    struct work *w = arg;

    if (w->left == 0) {
        w->finished = vns_ctx_now(ctx);
        return VNS_STEP_DONE;
    }
    vns_charge_ns(ctx, 2000);
    w->left--;
    return VNS_STEP_AGAIN;
}

int main(void)
{
    struct vns_sim *sim;
    struct vns_cpu *cpu;
    struct vns_ctx *ctx;
    struct work w = {1000, 0};
    int err;

    err = vns_sim_create(&(struct vns_sim_config){.seed = 1}, &sim);
    if (!err)
        err = vns_cpu_create(sim, &(struct vns_cpu_config){.name = "cpu0"}, &cpu);
    if (!err)
        err = vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_KTHREAD, .name = "worker",
                                                           .cpu = cpu, .threadfn = -1,
                                                           .fn = worker, .arg = &w},
                             &ctx);
    if (!err)
        err = vns_ctx_start(ctx, 0);
    if (!err)
        err = vns_sim_run(sim, VNS_MSEC(10));
    if (err) {
        fprintf(stderr, "hello_engine: %s\n", vns_strerror(err));
        return 1;
    }
    printf("hello from vnetsim %s: 1000 items done at %" PRIu64 " ns, cpu0 busy %" PRIu64
           " ns, fingerprint 0x%016" PRIx64 "\n",
           VNS_VERSION_STRING, (uint64_t)w.finished, vns_cpu_stats(cpu)->busy_ns,
           vns_sim_fingerprint(sim));
    vns_sim_destroy(sim);
    return w.finished == VNS_USEC(2000) ? 0 : 1;
}
