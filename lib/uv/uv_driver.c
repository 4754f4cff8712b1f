/* lib/uv/uv_driver.c -- run the engine inside a libuv loop.
 *
 * The only file in lib/ that may read a clock (uv_hrtime, for pacing) or
 * include <uv.h>. */
/* libuv's headers need POSIX types (pthread_rwlock_t) under -std=c11. */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <signal.h>
#include <uv.h>

#include "vnetsim/alloc.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"
#include "vnetsim/uv.h"

struct vns_uv_runner {
    struct vns_sim *sim;
    struct vns_uv_run_opts o;
    uv_idle_t idle;
    uv_timer_t timer;
    uv_signal_t sig;     /* SIGINT (o.handle_sigint) */
    uv_signal_t sigterm; /* SIGTERM (o.handle_sigterm) */
    uint64_t wall0;      /* uv_hrtime() at start, ns */
    vns_time_t sim0;
    int status;
    int open_handles;
    bool finished;
};

static void runner_closed(uv_handle_t *h)
{
    struct vns_uv_runner *r = h->data;

    if (--r->open_handles == 0) {
        if (r->o.done)
            r->o.done(r->sim, r->status, r->o.arg);
        vns_free(r);
    }
}

static void runner_finish(struct vns_uv_runner *r, int status)
{
    if (r->finished)
        return;
    r->finished = true;
    r->status = status;
    uv_close((uv_handle_t *)&r->idle, runner_closed);
    uv_close((uv_handle_t *)&r->timer, runner_closed);
    if (r->o.handle_sigint)
        uv_close((uv_handle_t *)&r->sig, runner_closed);
    if (r->o.handle_sigterm)
        uv_close((uv_handle_t *)&r->sigterm, runner_closed);
}

/* Virtual time the wall clock allows so far. */
static vns_time_t runner_allowed(const struct vns_uv_runner *r)
{
    double wall;

    if (r->o.pace <= 0)
        return r->o.until;
    wall = (double)(uv_hrtime() - r->wall0) * r->o.pace;
    if (wall >= (double)(r->o.until - r->sim0))
        return r->o.until;
    return r->sim0 + (vns_time_t)wall;
}

static void runner_idle(uv_idle_t *h);

static void runner_timer(uv_timer_t *t)
{
    struct vns_uv_runner *r = t->data;

    uv_idle_start(&r->idle, runner_idle);
}

static void runner_idle(uv_idle_t *h)
{
    struct vns_uv_runner *r = h->data;
    vns_time_t limit = runner_allowed(r), next;

    vns_sim_run_batch(r->sim, limit, r->o.batch);
    if (r->o.progress)
        r->o.progress(r->sim, r->o.arg);
    if (vns_sim_stop_requested(r->sim)) {
        runner_finish(r, -VNS_ECANCELED);
        return;
    }
    next = vns_sim_next_time(r->sim);
    if (next > r->o.until && limit >= r->o.until) {
        vns_sim_run(r->sim, r->o.until); /* no event left: set the clock */
        runner_finish(r, 0);
        return;
    }
    if (next > limit) {
        /* Paced and ahead of the wall clock: sleep until the next event
         * (or the end of the run) is due. */
        vns_time_t target = next < r->o.until ? next : r->o.until;
        double ms = ceil((double)(target - limit) / r->o.pace / 1e6);

        uv_idle_stop(&r->idle);
        uv_timer_start(&r->timer, runner_timer, (uint64_t)ms, 0);
    }
}

/* SIGINT or SIGTERM: stop at the next event boundary. */
static void runner_signal(uv_signal_t *s, int signum)
{
    struct vns_uv_runner *r = s->data;

    if (r->o.stopped_by && !*r->o.stopped_by)
        *r->o.stopped_by = signum;
    vns_sim_stop(r->sim);
    uv_idle_start(&r->idle, runner_idle); /* finish from the idle path */
    uv_timer_stop(&r->timer);
}

int vns_uv_run_start(uv_loop_t *loop, struct vns_sim *sim, const struct vns_uv_run_opts *opts,
                     struct vns_uv_runner **out)
{
    struct vns_uv_runner *r;

    if (!opts || opts->pace < 0 || opts->until < vns_sim_now(sim))
        return -VNS_EINVAL;
    r = vns_calloc(1, sizeof(*r));
    if (!r)
        return -VNS_ENOMEM;
    r->sim = sim;
    r->o = *opts;
    if (!r->o.batch)
        r->o.batch = 4096;
    r->wall0 = uv_hrtime();
    r->sim0 = vns_sim_now(sim);
    uv_idle_init(loop, &r->idle);
    uv_timer_init(loop, &r->timer);
    r->idle.data = r->timer.data = r->sig.data = r->sigterm.data = r;
    r->open_handles = 2;
    if (r->o.stopped_by)
        *r->o.stopped_by = 0;
    if (r->o.handle_sigint) {
        uv_signal_init(loop, &r->sig);
        uv_signal_start(&r->sig, runner_signal, SIGINT);
        r->open_handles++;
    }
    if (r->o.handle_sigterm) {
        uv_signal_init(loop, &r->sigterm);
        uv_signal_start(&r->sigterm, runner_signal, SIGTERM);
        r->open_handles++;
    }
    uv_idle_start(&r->idle, runner_idle);
    if (out)
        *out = r;
    return 0;
}

void vns_uv_runner_stop(struct vns_uv_runner *r)
{
    vns_sim_stop(r->sim);
    if (!r->finished) {
        uv_timer_stop(&r->timer);
        uv_idle_start(&r->idle, runner_idle);
    }
}

struct run_result {
    vns_uv_done_fn user_done;
    vns_uv_progress_fn user_progress;
    void *user_arg;
    int status;
};

static void run_progress(struct vns_sim *sim, void *arg)
{
    struct run_result *res = arg;

    res->user_progress(sim, res->user_arg);
}

static void run_done(struct vns_sim *sim, int status, void *arg)
{
    struct run_result *res = arg;

    res->status = status;
    if (res->user_done)
        res->user_done(sim, status, res->user_arg);
}

int vns_uv_run(struct vns_sim *sim, const struct vns_uv_run_opts *opts)
{
    uv_loop_t loop;
    struct vns_uv_run_opts o;
    struct run_result res = {0};
    int err;

    if (!opts)
        return -VNS_EINVAL;
    o = *opts;
    res.user_done = o.done;
    res.user_progress = o.progress;
    res.user_arg = o.arg;
    if (o.progress)
        o.progress = run_progress;
    o.done = run_done;
    o.arg = &res;
    if (uv_loop_init(&loop) < 0)
        return -VNS_EIO;
    err = vns_uv_run_start(&loop, sim, &o, NULL);
    if (err == 0) {
        uv_run(&loop, UV_RUN_DEFAULT);
        err = res.status;
    }
    uv_loop_close(&loop);
    return err;
}

/* --- sweeps on the thread pool ----------------------------------------------- */

struct sweep_job {
    uv_work_t req;
    size_t index;
    vns_uv_job_fn fn;
    void *arg;
    int *results;
};

static void sweep_work(uv_work_t *req)
{
    struct sweep_job *j = req->data;

    j->results[j->index] = j->fn(j->index, j->arg);
}

static void sweep_after(uv_work_t *req, int status)
{
    struct sweep_job *j = req->data;

    if (status == UV_ECANCELED)
        j->results[j->index] = -VNS_ECANCELED;
}

int vns_uv_sweep(size_t n, vns_uv_job_fn job, void *arg, int *results)
{
    uv_loop_t loop;
    struct sweep_job *jobs;
    int err = 0;

    if (!n)
        return 0;
    jobs = vns_calloc(n, sizeof(*jobs));
    if (!jobs)
        return -VNS_ENOMEM;
    if (uv_loop_init(&loop) < 0) {
        vns_free(jobs);
        return -VNS_EIO;
    }
    for (size_t i = 0; i < n; i++) {
        jobs[i].req.data = &jobs[i];
        jobs[i].index = i;
        jobs[i].fn = job;
        jobs[i].arg = arg;
        jobs[i].results = results;
        results[i] = -VNS_ECANCELED;
        if (uv_queue_work(&loop, &jobs[i].req, sweep_work, sweep_after) < 0) {
            err = -VNS_EIO;
            break;
        }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    vns_free(jobs);
    return err;
}
