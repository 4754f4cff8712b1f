/* vnetsim -- libuv driver: run a simulation inside a uv loop.
 *
 * The only layer that talks to libuv (lib/uv). The engine runs in batches
 * from an idle handle, so other handles on the loop (a UI, a socket, a
 * timer) are served between batches. Optional real-time pacing keeps the
 * virtual clock at most `pace` times ahead of the wall clock. SIGINT and
 * SIGTERM (each when asked for) stop the run at an event boundary; the done callback still runs, so
 * outputs are written. A sweep runs N independent simulations on libuv's thread pool
 * (uv_queue_work). */
#ifndef VNETSIM_UV_H
#define VNETSIM_UV_H

#include "vnetsim/common.h"

struct uv_loop_s;
struct vns_uv_runner;

/* Called once when the run ends: status 0 (reached `until`) or
 * -VNS_ECANCELED (stopped by SIGINT, SIGTERM or vns_uv_runner_stop). */
typedef void (*vns_uv_done_fn)(struct vns_sim *sim, int status, void *arg);
/* Called after every batch with the virtual time reached. */
typedef void (*vns_uv_progress_fn)(struct vns_sim *sim, void *arg);

struct vns_uv_run_opts {
    vns_time_t until;   /* run until this virtual time */
    double pace;        /* 0 = as fast as possible; 1 = real time */
    size_t batch;       /* events per batch; 0 = 4096 */
    bool handle_sigint; /* stop cleanly on SIGINT */
    /* Stop cleanly on SIGTERM. The CLI keeps its own SIGTERM handler
     * (sim/cmd_run.c) and leaves this off: libuv's handler would replace it. */
    bool handle_sigterm;
    int *stopped_by; /* if set: the signal that stopped the run, else 0 */
    vns_uv_progress_fn progress;
    vns_uv_done_fn done;
    void *arg;
};

/* Start running @sim on @loop; returns at once. The runner frees itself
 * after `done` has been called. */
VNS_EXTERN int vns_uv_run_start(struct uv_loop_s *loop, struct vns_sim *sim,
                                const struct vns_uv_run_opts *opts, struct vns_uv_runner **out);
/* Ask the runner to stop at the next event boundary. */
VNS_EXTERN void vns_uv_runner_stop(struct vns_uv_runner *r);
/* Convenience: a private loop, run to the end, return the status. */
VNS_EXTERN int vns_uv_run(struct vns_sim *sim, const struct vns_uv_run_opts *opts);

/* Run @n independent jobs on the thread pool; job(i, arg) runs on a worker
 * thread and must only touch its own simulation. results[i] receives its
 * return value. Blocks until all are done. Returns 0 or a uv error mapped
 * to -VNS_EIO. */
typedef int (*vns_uv_job_fn)(size_t index, void *arg);
VNS_EXTERN int vns_uv_sweep(size_t n, vns_uv_job_fn job, void *arg, int *results);

#endif
