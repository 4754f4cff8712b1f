/* lib/world/demo.c -- the engine demo (see include/vnetsim/demo.h).
 *
 * Not a kernel model: a small, fully deterministic pipeline that uses
 * every mechanism of the engine the data path will use (steps, a vCPU that
 * halts, VM exits, a kthread woken with latency, notification suppression
 * with the lost-wake-up re-check, an interrupt, softirq at irq_exit). */
#include <stdio.h>

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/demo.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"

struct vns_demo {
    struct vns_sim *sim;
    struct vns_demo_config cfg;
    struct vns_cpu *host[2];
    struct vns_cpu *vcpu;
    struct vns_ctx *writer, *worker;
    struct vns_irq irq;
    /* shared state, read and written at step times */
    uint64_t prod, cons, done;
    bool no_notify;          /* worker: "busy, do not notify" */
    bool writer_waiting;     /* writer sleeps on a full queue */
    bool in_handle;          /* worker inside its handler frame */
    struct vns_demo_stats st;
};

static int demo_writer(struct vns_ctx *ctx, void *arg)
{
    struct vns_demo *d = arg;

    if (d->prod == d->cfg.items)
        return VNS_STEP_DONE;
    if (d->prod - d->done >= d->cfg.queue_size) {
        d->writer_waiting = true;
        d->st.writer_full_waits++;
        return VNS_STEP_SLEEP;
    }
    vns_fn_enter(ctx, VNS_FN_vns_demo_write);
    vns_charge_ns(ctx, d->cfg.write_ns);
    d->prod++;
    d->st.produced++;
    if (!d->no_notify) {
        d->st.kicks++;
        vns_vmexit(ctx);
        vns_ctx_wake(ctx, d->worker);
    }
    vns_fn_exit(ctx);
    return VNS_STEP_AGAIN;
}

static int demo_worker(struct vns_ctx *ctx, void *arg)
{
    struct vns_demo *d = arg;

    if (!d->in_handle) {
        vns_fn_enter(ctx, VNS_FN_vns_demo_handle_kick);
        d->in_handle = true;
        d->no_notify = true;
    }
    if (d->cons < d->prod) {
        vns_charge_ns(ctx, d->cfg.work_ns);
        d->cons++;
        d->st.consumed++;
        return VNS_STEP_AGAIN;
    }
    /* Empty: re-enable notifications, then look again, or a kick sent
     * while we were deciding would be lost (vhost_enable_notify). */
    d->no_notify = false;
    if (d->cons < d->prod) {
        d->no_notify = true;
        return VNS_STEP_AGAIN;
    }
    vns_irq_raise(d->sim, &d->irq, vns_ctx_now(ctx));
    vns_fn_exit(ctx);
    d->in_handle = false;
    return VNS_STEP_SLEEP;
}

static int demo_irq(struct vns_ctx *ctx, void *arg)
{
    struct vns_demo *d = arg;

    d->st.irqs++;
    vns_raise_softirq_irqoff(vns_ctx_cpu(ctx), VNS_NET_RX_SOFTIRQ);
    return VNS_STEP_DONE;
}

static int demo_net_rx(struct vns_ctx *ctx, void *arg)
{
    struct vns_demo *d = arg;

    if (d->done < d->cons) {
        vns_charge_ns(ctx, d->cfg.complete_ns);
        d->done++;
        d->st.completed++;
        if (d->done == d->cfg.items)
            d->st.finish_time = vns_ctx_now(ctx);
        if (d->writer_waiting) {
            d->writer_waiting = false;
            vns_ctx_wake(ctx, d->writer);
        }
    }
    return d->done < d->cons ? VNS_STEP_AGAIN : VNS_STEP_DONE;
}

struct vns_demo_config vns_demo_default_config(void)
{
    return (struct vns_demo_config){.items = 200000, .queue_size = 256, .write_ns = 250,
                                    .work_ns = 300, .complete_ns = 120};
}

int vns_demo_create(struct vns_sim *sim, const struct vns_demo_config *cfg, struct vns_demo **out)
{
    struct vns_demo *d;
    int err;

    if (!cfg || !cfg->queue_size || (cfg->queue_size & (cfg->queue_size - 1)))
        return -VNS_EINVAL;
    d = vns_calloc(1, sizeof(*d));
    if (!d)
        return -VNS_ENOMEM;
    d->sim = sim;
    d->cfg = *cfg;
    err = vns_cpu_create(sim, &(struct vns_cpu_config){.name = "host/cpu0"}, &d->host[0]);
    if (!err)
        err = vns_cpu_create(sim, &(struct vns_cpu_config){.name = "host/cpu1"}, &d->host[1]);
    if (!err)
        err = vns_cpu_create(sim, &(struct vns_cpu_config){.name = "vm1/cpu0", .backing_cpu = d->host[0]},
                             &d->vcpu);
    if (!err)
        err = vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .name = "writer",
                                                           .cpu = d->vcpu, .threadfn = -1,
                                                           .fn = demo_writer, .arg = d},
                             &d->writer);
    if (!err)
        err = vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_KTHREAD, .name = "worker",
                                                           .cpu = d->host[cfg->shared_cpu ? 0 : 1],
                                                           .threadfn = VNS_FN_vns_demo_worker,
                                                           .fn = demo_worker, .arg = d},
                             &d->worker);
    if (!err)
        err = vns_ctx_start(d->writer, 0);
    if (err) {
        vns_demo_destroy(d);
        return err;
    }
    vns_irq_init(&d->irq, "demo", d->vcpu, VNS_FN_vns_demo_interrupt, demo_irq, d);
    vns_softirq_open(d->vcpu, VNS_NET_RX_SOFTIRQ, VNS_FN_net_rx_action, demo_net_rx, d);
    *out = d;
    return 0;
}

void vns_demo_destroy(struct vns_demo *d)
{
    if (!d)
        return;
    vns_cpu_destroy(d->vcpu);      /* guest first: its thread is on host/cpu0 */
    vns_cpu_destroy(d->host[0]);
    vns_cpu_destroy(d->host[1]);
    vns_free(d);
}

void vns_demo_stats(const struct vns_demo *d, struct vns_demo_stats *st)
{
    const struct vns_cpu_stats *g = vns_cpu_stats(d->vcpu);

    *st = d->st;
    st->worker_wakeups = vns_ctx_stats(d->worker)->wakeups;
    st->softirq_irq_exit = g->softirq_runs[VNS_SOFTIRQ_AT_IRQ_EXIT];
    st->softirq_bh = g->softirq_runs[VNS_SOFTIRQ_AT_BH_ENABLE];
    st->softirq_ksoftirqd = g->softirq_runs[VNS_SOFTIRQ_IN_KSOFTIRQD];
    st->vcpu_halts = g->halts;
    st->host_busy_ns[0] = vns_cpu_stats(d->host[0])->busy_ns;
    st->host_busy_ns[1] = vns_cpu_stats(d->host[1])->busy_ns;
    st->guest_busy_ns = g->busy_ns;
}

struct vns_cpu *vns_demo_cpu(const struct vns_demo *d, unsigned i)
{
    return i < 2 ? d->host[i] : i == 2 ? d->vcpu : NULL;
}
