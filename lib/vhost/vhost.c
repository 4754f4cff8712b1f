/* lib/vhost/vhost.c -- vhost core: worker kthread, work queue, polls,
 * kicks (ioeventfd) and signals (irqfd). LINUX: drivers/vhost/vhost.c of
 * linux-5.4 (vhost_worker, vhost_work_queue, vhost_poll_wakeup,
 * vhost_poll_queue, vhost_signal), virt/kvm/eventfd.c (irqfd) and
 * ioeventfd.
 *
 * 5.4's vhost_worker takes the whole work list (llist_del_all), reverses
 * it to FIFO order and runs each work after clearing VHOST_WORK_QUEUED, so
 * a work can be queued again while it runs; it calls schedule() when
 * need_resched(). Here the worker takes one work at a time in FIFO order
 * (the same order) and the engine preempts at step boundaries.
 * Simplified: no 6.4+ vhost_task, one worker per device (no 6.5+
 * multiple workers), no flush/cancel machinery. */
#include <stdio.h>

#include "vnetsim/alloc.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"
#include "vnetsim/vhost.h"

struct vns_vhost_dev {
    struct vns_sim *sim;
    struct vns_ctx *worker;
    struct vns_vhost_work *head, *tail;   /* work_list, FIFO */
    unsigned nqueued;                     /* works on the list */
    unsigned batch_left;                  /* of them, taken by the current llist_del_all */
    struct vns_vhost_dev_stats stats;
};

/* Run the current work item in steps, with its frame on the stack. */
static int vhost_work_run(struct vns_ctx *ctx, void *arg)
{
    struct vns_vhost_work *work = arg;

    return work->fn(work, ctx);
}

/* vhost_worker(): one work item per continuation; sleep when the list is
 * empty. */
static int vhost_worker(struct vns_ctx *ctx, void *arg)
{
    struct vns_vhost_dev *dev = arg;
    struct vns_vhost_work *work = dev->head;

    if (!work)
        return VNS_STEP_SLEEP;
    /* llist_del_all takes every queued work as one batch: vhost_has_work
     * sees only what is queued after it */
    if (!dev->batch_left)
        dev->batch_left = dev->nqueued;
    dev->batch_left--;
    dev->nqueued--;
    dev->head = work->next;
    if (!dev->head)
        dev->tail = NULL;
    work->next = NULL;
    work->queued = false;          /* clear_bit(VHOST_WORK_QUEUED) before fn */
    work->runs++;
    dev->stats.works_run++;
    /* The work runs from the next step on, as a continuation on top of
     * this loop; its frame goes when it returns DONE. */
    vns_ctx_push(ctx, vhost_work_run, work);
    if (work->frame >= 0)
        vns_fn_enter(ctx, work->frame);
    return VNS_STEP_AGAIN;
}

int vns_vhost_dev_create(struct vns_sim *sim, const struct vns_vhost_dev_config *cfg,
                         struct vns_vhost_dev **out)
{
    struct vns_vhost_dev *dev;
    int err;

    if (!cfg || !cfg->cpu)
        return -VNS_EINVAL;
    dev = vns_calloc(1, sizeof(*dev));
    if (!dev)
        return -VNS_ENOMEM;
    dev->sim = sim;
    err = vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_KTHREAD,
                                                       .name = cfg->name ? cfg->name : "vhost",
                                                       .cpu = cfg->cpu, .threadfn = VNS_FN_vhost_worker,
                                                       .fn = vhost_worker, .arg = dev},
                         &dev->worker);
    if (err) {
        vns_free(dev);
        return err;
    }
    *out = dev;
    return 0;
}

void vns_vhost_dev_destroy(struct vns_vhost_dev *dev)
{
    if (!dev)
        return;
    vns_ctx_destroy(dev->worker);
    vns_free(dev);
}

struct vns_ctx *vns_vhost_dev_worker(const struct vns_vhost_dev *dev) { return dev->worker; }

const struct vns_vhost_dev_stats *vns_vhost_dev_stats(const struct vns_vhost_dev *dev)
{
    ((struct vns_vhost_dev *)dev)->stats.worker_wakeups = vns_ctx_stats(dev->worker)->wakeups;
    return &dev->stats;
}

bool vns_vhost_has_work(const struct vns_vhost_dev *dev) { return dev->nqueued > dev->batch_left; }

void vns_vhost_work_init(struct vns_vhost_work *work, struct vns_vhost_dev *dev, vns_vhost_work_fn fn,
                         int frame, void *arg)
{
    *work = (struct vns_vhost_work){.fn = fn, .frame = frame, .arg = arg, .dev = dev};
}

bool vns_vhost_work_queue(struct vns_vhost_work *work, struct vns_ctx *waker)
{
    struct vns_vhost_dev *dev = work->dev;

    vns_fn_enter(waker, VNS_FN_vhost_work_queue);
    if (work->queued) {
        vns_fn_exit(waker);
        return false;
    }
    work->queued = true;
    dev->nqueued++;
    work->queued_count++;
    dev->stats.works_queued++;
    if (dev->tail)
        dev->tail->next = work;
    else
        dev->head = work;
    dev->tail = work;
    vns_ctx_wake(waker, dev->worker);   /* wake_up_process(dev->worker) */
    vns_fn_exit(waker);
    return true;
}

void vns_vhost_poll_init(struct vns_vhost_poll *poll, struct vns_vhost_dev *dev, vns_vhost_work_fn fn,
                         int frame, void *arg)
{
    vns_vhost_work_init(&poll->work, dev, fn, frame, arg);
    poll->started = false;
    poll->wakeups = 0;
}

void vns_vhost_poll_start(struct vns_vhost_poll *poll) { poll->started = true; }
void vns_vhost_poll_stop(struct vns_vhost_poll *poll) { poll->started = false; }

void vns_vhost_poll_wakeup(struct vns_vhost_poll *poll, struct vns_ctx *waker)
{
    if (!poll->started)
        return;
    vns_fn_enter(waker, VNS_FN_vhost_poll_wakeup);
    poll->wakeups++;
    vns_vhost_work_queue(&poll->work, waker);
    vns_fn_exit(waker);
}

void vns_vhost_poll_queue(struct vns_vhost_poll *poll, struct vns_ctx *waker)
{
    vns_fn_enter(waker, VNS_FN_vhost_poll_queue);
    vns_vhost_work_queue(&poll->work, waker);
    vns_fn_exit(waker);
}

void vns_vhost_vq_call(struct vns_devq *dq, void *arg)
{
    struct vns_vhost_vq *vq = arg;
    struct vns_ctx *ctx = vq->signal_ctx;

    (void)dq;
    vq->signals++;
    vns_charge(ctx, VNS_FN_eventfd_signal, 0);
    if (vq->call)
        vns_irq_raise(vns_ctx_sim(ctx), vq->call, vns_ctx_now(ctx));
}

void vns_vhost_vq_init(struct vns_vhost_vq *vq, struct vns_vhost_dev *dev, struct vns_devq *dq,
                       struct vns_irq *call, vns_vhost_work_fn handle_kick, int frame, void *arg)
{
    vq->dq = dq;
    vq->call = call;
    vq->signal_ctx = NULL;
    vq->kicks = vq->signals = 0;
    vns_vhost_poll_init(&vq->poll, dev, handle_kick, frame, arg);
    vns_vhost_poll_start(&vq->poll);
}

void vns_vhost_vq_kick(struct vns_vhost_vq *vq, struct vns_ctx *guest)
{
    vq->kicks++;
    vns_vmexit(guest);                          /* the notify write traps */
    vns_charge(guest, VNS_FN_ioeventfd_write, 0);
    vns_vhost_poll_wakeup(&vq->poll, guest);
}

bool vns_vhost_vq_signal(struct vns_vhost_vq *vq, struct vns_ctx *ctx)
{
    bool r;

    vq->signal_ctx = ctx;
    r = vns_devq_signal(vq->dq, ctx);
    vq->signal_ctx = NULL;
    return r;
}
