/* lib/world/faults.c -- the scenario's faults: events that break one part
 * of the world for a while (docs/reliability.md lists each with what the
 * user sees).
 *
 * Each fault is two timers of the simulation: one at `at` that starts it,
 * one at `at + duration` that ends it (none when it lasts to the end, or
 * for a hostile write, which happens once). They are ordinary events: a
 * fault is part of the run's fingerprint, and the same seed gives the same
 * run.
 *
 *   link_down  the wire drops every frame (vns_wire_set_link)
 *   hostile    the guest writes one corrupt ring entry on a queue and
 *              kicks (vns_virtq_inject_hostile); vhost-net must refuse it
 *              (vq_err) and the queue stays broken, as in Linux
 *   rx_oom     receive buffer allocation fails in the guest; virtio-net's
 *              delayed refill work must bring the ring back
 *              (drivers/net/virtio_net.c refill_work, HZ/2 retries)
 *   rx_stop    the guest posts no receive buffers (then resumes)
 *   cpu_hog    a busy host process pinned to a host CPU: it runs in
 *              `slice` steps and the scheduler shares the CPU with it */
#include <stdio.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/gmem.h"
#include "vnetsim/hostile.h"
#include "vnetsim/sim.h"
#include "vnetsim/virtio_net.h"
#include "vnetsim/wire.h"
#include "world_int.h"

struct fault {
    struct vns_world *w;
    const struct vns_sc_fault *sc;
    struct vns_timer start, end;
    struct vns_ctx *hog;  /* cpu_hog: the busy process */
    vns_time_t hog_until; /* 0 = to the end */
    uint64_t scratch;     /* hostile: 64 bytes of guest RAM */
    int result;           /* hostile: what the injection returned */
    bool active;
};

struct vns_world_faults {
    struct fault *f;
    size_t n;
};

/* The busy process: a loop that never sleeps, one slice per step. */
static int hog_step(struct vns_ctx *ctx, void *arg)
{
    struct fault *f = arg;

    if (!f->active || (f->hog_until && vns_ctx_now(ctx) >= f->hog_until))
        return VNS_STEP_SLEEP;
    vns_charge_ns(ctx, f->sc->slice);
    return VNS_STEP_AGAIN;
}

static void fault_set(struct fault *f, bool on)
{
    const struct vns_sc_fault *s = f->sc;
    struct vns_virtnet *vi;

    f->active = on;
    switch (s->type) {
    case VNS_SC_FAULT_LINK_DOWN:
        vns_wire_set_link(vns__world_wire(f->w, s->target), !on);
        break;
    case VNS_SC_FAULT_RX_OOM:
    case VNS_SC_FAULT_RX_STOP:
        vi = vns__world_guest_nic(f->w, s->target, NULL, NULL);
        vns_virtnet_set_rx_fault(vi, on && s->type == VNS_SC_FAULT_RX_OOM,
                                 on && s->type == VNS_SC_FAULT_RX_STOP);
        break;
    case VNS_SC_FAULT_HOSTILE:
        if (on) {
            vi = vns__world_guest_nic(f->w, s->target, NULL, NULL);
            f->result = vns_virtq_inject_hostile_in_order(vns_virtnet_vq(vi, s->queue),
                                                          (enum vns_hostile)s->hostile, f->scratch);
            if (!f->result)
                vns__world_guest_kick(f->w, s->target, s->queue);
            else if (f->result == -VNS_EBUSY) /* the ring is full now: as soon as a slot frees */
                vns_timer_arm(vns_world_sim(f->w), &f->start,
                              vns_sim_now(vns_world_sim(f->w)) + VNS_USEC(10));
        }
        break;
    case VNS_SC_FAULT_CPU_HOG:
        if (on)
            vns_ctx_start(f->hog, vns_sim_now(vns_world_sim(f->w)));
        break;
    }
}

static void fault_start(struct vns_sim *sim, struct vns_timer *t)
{
    (void)sim;
    fault_set(t->data, true);
}

static void fault_end(struct vns_sim *sim, struct vns_timer *t)
{
    (void)sim;
    fault_set(t->data, false);
}

int vns__world_faults_start(struct vns_world *w, const struct vns_scenario *sc,
                            struct vns_world_faults **out, struct vns_diag *d)
{
    struct vns_sim *sim = vns_world_sim(w);
    struct vns_world_faults *fs;
    char name[64];
    int err = 0;

    *out = NULL;
    if (!sc->nfaults)
        return 0;
    fs = vns_calloc(1, sizeof(*fs));
    if (!fs || !(fs->f = vns_calloc(sc->nfaults, sizeof(*fs->f)))) {
        vns_free(fs);
        return vns_diag_set(d, -VNS_ENOMEM, sc->file, 0, 0, "out of memory");
    }
    *out = fs;
    for (size_t i = 0; i < sc->nfaults && !err; i++) {
        const struct vns_sc_fault *s = &sc->faults[i];
        struct fault *f = &fs->f[i];
        struct vns_galloc *ga;

        f->w = w;
        f->sc = s;
        fs->n++;
        vns_timer_init(&f->start, fault_start, f, vns_sim_new_id(sim));
        vns_timer_init(&f->end, fault_end, f, vns_sim_new_id(sim));
        if (s->type == VNS_SC_FAULT_HOSTILE) {
            vns__world_guest_nic(w, s->target, &ga, NULL);
            err = vns_galloc_alloc(ga, 64, 64, &f->scratch);
        } else if (s->type == VNS_SC_FAULT_CPU_HOG) {
            snprintf(name, sizeof(name), "hog-%zu", i);
            f->hog_until = s->duration ? s->at + s->duration : 0;
            err = vns_ctx_create(sim,
                                 &(struct vns_ctx_config){.kind = VNS_CTX_USER,
                                                          .name = name,
                                                          .cpu = vns__world_host_cpu(w, s->cpu),
                                                          .threadfn = -1,
                                                          .fn = hog_step,
                                                          .arg = f},
                                 &f->hog);
        }
        if (!err)
            err = vns_timer_arm(sim, &f->start, s->at);
        if (!err && s->duration && s->type != VNS_SC_FAULT_HOSTILE)
            err = vns_timer_arm(sim, &f->end, s->at + s->duration);
        if (err)
            return vns_diag_set(d, err, sc->file, s->line, 0, "fault %s: %s",
                                vns_sc_fault_name(s->type), vns_strerror(err));
    }
    return 0;
}

void vns__world_faults_stop(struct vns_world *w, struct vns_world_faults *fs)
{
    struct vns_sim *sim = vns_world_sim(w);

    if (!fs)
        return;
    for (size_t i = 0; i < fs->n; i++) {
        vns_timer_cancel(sim, &fs->f[i].start);
        vns_timer_cancel(sim, &fs->f[i].end);
        vns_ctx_destroy(fs->f[i].hog);
    }
    vns_free(fs->f);
    vns_free(fs);
}

int vns__world_fault_result(const struct vns_world_faults *fs, size_t i)
{
    return fs && i < fs->n ? fs->f[i].result : -VNS_ENOENT;
}
