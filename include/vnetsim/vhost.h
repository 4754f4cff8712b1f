/* vnetsim -- vhost core: the worker kthread, its work list, polls, kicks
 * and signals (drivers/vhost/vhost.c, linux-5.4).
 *
 * A vhost device owns one worker kthread ("vhost-<owner>", base frames
 * ret_from_fork, kthread, vhost_worker) pinned to a host CPU. Work items
 * (vhost_work) are queued at most once at a time (VHOST_WORK_QUEUED) and
 * run in FIFO order; a work function runs in steps like any kernel loop
 * (VNS_STEP_AGAIN after each packet), with its frame (handle_tx_kick,
 * handle_rx_net, ...) on the worker's stack for as long as it runs.
 *
 * A vhost_poll stands for the wait-queue entry vhost puts on a file: the
 * kick eventfd (ioeventfd: the guest's notify) or the backend socket
 * (tun/tap: data to read, room to write). Its wake-up queues its work.
 *
 * The queue itself is a struct vns_devq (include/vnetsim/devq.h); a
 * vns_vhost_vq ties it to its kick poll and to the guest interrupt its
 * signal raises (irqfd). */
#ifndef VNETSIM_VHOST_H
#define VNETSIM_VHOST_H

#include "vnetsim/common.h"
#include "vnetsim/cpu.h"
#include "vnetsim/devq.h"

struct vns_vhost_dev;
struct vns_vhost_work;

/* A work function: called in steps on the worker. Return VNS_STEP_AGAIN
 * to be called again in a new step (more to do now), VNS_STEP_DONE when
 * finished (it may have re-queued itself, as vhost_exceeds_weight does). */
typedef int (*vns_vhost_work_fn)(struct vns_vhost_work *work, struct vns_ctx *ctx);

struct vns_vhost_work {
    vns_vhost_work_fn fn;
    int frame;                      /* VNS_FN_handle_tx_kick, ... or -1 */
    void *arg;
    /* engine-owned */
    struct vns_vhost_dev *dev;
    bool queued;                    /* VHOST_WORK_QUEUED */
    struct vns_vhost_work *next;
    uint64_t queued_count, runs;
};

struct vns_vhost_poll {
    struct vns_vhost_work work;
    bool started;                   /* vhost_poll_start .. vhost_poll_stop */
    uint64_t wakeups;
};

struct vns_vhost_dev_config {
    const char *name;               /* worker thread name, e.g. "vhost-1234" */
    struct vns_cpu *cpu;            /* host CPU the worker is pinned to */
};

struct vns_vhost_dev_stats {
    uint64_t works_queued;          /* vhost_work_queue that queued */
    uint64_t works_run;
    uint64_t worker_wakeups;
};

VNS_EXTERN int vns_vhost_dev_create(struct vns_sim *sim, const struct vns_vhost_dev_config *cfg,
                                    struct vns_vhost_dev **out);
/* Stops the worker (its pending work is dropped). NULL is a no-op. */
VNS_EXTERN void vns_vhost_dev_destroy(struct vns_vhost_dev *dev);
VNS_EXTERN struct vns_ctx *vns_vhost_dev_worker(const struct vns_vhost_dev *dev);
VNS_EXTERN const struct vns_vhost_dev_stats *vns_vhost_dev_stats(const struct vns_vhost_dev *dev);

/* vhost_has_work: work is queued on @dev's worker (vhost-net's busy
 * polling stops for it). */
VNS_EXTERN bool vns_vhost_has_work(const struct vns_vhost_dev *dev);

VNS_EXTERN void vns_vhost_work_init(struct vns_vhost_work *work, struct vns_vhost_dev *dev,
                                    vns_vhost_work_fn fn, int frame, void *arg);
/* vhost_work_queue: queue @work unless already queued, waking the worker
 * at @waker's local time (NULL: now). Returns true if it was queued. */
VNS_EXTERN bool vns_vhost_work_queue(struct vns_vhost_work *work, struct vns_ctx *waker);

VNS_EXTERN void vns_vhost_poll_init(struct vns_vhost_poll *poll, struct vns_vhost_dev *dev,
                                    vns_vhost_work_fn fn, int frame, void *arg);
VNS_EXTERN void vns_vhost_poll_start(struct vns_vhost_poll *poll);
VNS_EXTERN void vns_vhost_poll_stop(struct vns_vhost_poll *poll);
/* vhost_poll_wakeup: the file became ready; queue the work if started. */
VNS_EXTERN void vns_vhost_poll_wakeup(struct vns_vhost_poll *poll, struct vns_ctx *waker);
/* vhost_poll_queue: queue the work unconditionally (weight exceeded). */
VNS_EXTERN void vns_vhost_poll_queue(struct vns_vhost_poll *poll, struct vns_ctx *waker);

/* A virtqueue as vhost drives it: the device-side ring, the kick poll and
 * the interrupt its signal raises in the guest (irqfd). */
struct vns_vhost_vq {
    struct vns_devq *dq;
    struct vns_vhost_poll poll;     /* kick: the ioeventfd's wait-queue entry */
    struct vns_irq *call;           /* guest interrupt (irqfd); may be NULL */
    struct vns_ctx *signal_ctx;     /* during vns_vhost_vq_signal */
    uint64_t kicks, signals;
};

/* Attach @dq: kicks queue @handle_kick (with @frame) on @dev; a signal
 * raises @call. Create @dq with .signal = vns_vhost_vq_call and
 * .signal_arg = @vq so that vhost_signal reaches the irqfd. */
VNS_EXTERN void vns_vhost_vq_init(struct vns_vhost_vq *vq, struct vns_vhost_dev *dev,
                                  struct vns_devq *dq, struct vns_irq *call,
                                  vns_vhost_work_fn handle_kick, int frame, void *arg);
/* The devq signal callback (eventfd_signal on the irqfd). */
VNS_EXTERN void vns_vhost_vq_call(struct vns_devq *dq, void *arg);
/* The guest's notify reaches the device: a VM exit on the guest context
 * @guest (counted, charged), the ioeventfd write, the poll wake-up. Use it
 * as the guest virtqueue's notify callback (arg: the vns_vhost_vq); the
 * guest context is the one in its step, passed by the caller. */
VNS_EXTERN void vns_vhost_vq_kick(struct vns_vhost_vq *vq, struct vns_ctx *guest);
/* vhost_signal: if vhost_notify says so, raise the guest interrupt at
 * @ctx's local time through the irqfd. Returns true if signalled. */
VNS_EXTERN bool vns_vhost_vq_signal(struct vns_vhost_vq *vq, struct vns_ctx *ctx);

#endif
