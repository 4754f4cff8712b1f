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
 *              `slice` steps and the scheduler shares the CPU with it
 *   flood      a process of the guest sends raw Ethernet frames (a packet
 *              socket: sendto -> dev_queue_xmit) at `rate`, to the host
 *              device on the guest's subnet (broadcast if there is none),
 *              EtherType 0x88b5 (local experimental): the host has no
 *              handler for it and drops it (UNHANDLED_PROTO); the guest's
 *              own qdisc drops what its NIC cannot take */
#include <stdio.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/gmem.h"
#include "vnetsim/hostile.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/sim.h"
#include "vnetsim/skb.h"
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
    /* flood */
    struct vns_ctx *flooder;
    struct vns_timer pace; /* wakes the flooder for its next frame */
    const struct vns_machine *guest;
    uint8_t dst[6];
    vns_time_t next; /* when the next frame is due */
    uint64_t sent, offset;
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

static void flood_wake(struct vns_sim *sim, struct vns_timer *t)
{
    struct fault *f = t->data;

    vns_ctx_wake_at(f->flooder, vns_sim_now(sim));
}

/* One frame per step, paced at the fault's rate (pktgen-like: the time
 * between frames is the frame's bits at that rate). */
static int flood_step(struct vns_ctx *ctx, void *arg)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct fault *f = arg;
    struct vns_net_device *dev = f->guest->nic;
    struct vns_skb *skb;
    uint32_t pay = (uint32_t)f->sc->size - VNS_ETH_HLEN;
    uint8_t *h;

    if (!f->active)
        return VNS_STEP_SLEEP;
    if (vns_ctx_now(ctx) < f->next) {
        vns_timer_arm(vns_ctx_sim(ctx), &f->pace, f->next);
        return VNS_STEP_SLEEP;
    }
    vns_fn_enter(ctx, VNS_FN___x64_sys_sendto);
    vns_fn_enter(ctx, VNS_FN___sys_sendto);
    skb = vns_netdev_alloc_skb(f->guest->kernel, VNS_ETH_HLEN);
    if (skb) {
        h = vns_skb_put(skb, VNS_ETH_HLEN);
        memcpy(h,
               f->dst[0] | f->dst[1] | f->dst[2] | f->dst[3] | f->dst[4] | f->dst[5] ? f->dst
                                                                                     : bcast,
               6);
        memcpy(h + 6, dev->dev_addr, 6);
        h[12] = 0x88;
        h[13] = 0xb5;
        vns_skb_add_synthetic(skb, 0xf100d, f->offset, pay);
        f->offset += pay;
        vns_skb_reset_mac_header(skb);
        skb->protocol = 0x88b5;
        skb->dev = dev;
        vns_dev_queue_xmit(ctx, skb);
        f->sent++;
    }
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    f->next = VNS_MAX(f->next, vns_ctx_now(ctx)) +
              (vns_time_t)((f->sc->size + 24) * 8 * 1000000000ull / f->sc->rate_bps);
    return VNS_STEP_AGAIN;
}

/* The host device whose subnet holds the guest's address: its MAC. */
static void flood_dst(struct fault *f, const struct vns_scenario *sc)
{
    const struct vns_sc_guest *g = NULL;
    const struct vns_machine *host = vns_world_machine(f->w, "host");

    for (size_t i = 0; i < sc->nguests; i++)
        if (!strcmp(sc->guests[i].name, f->sc->target))
            g = &sc->guests[i];
    for (size_t i = 0; g && g->addr.set && i < sc->ndevices; i++) {
        const struct vns_sc_device *d = &sc->devices[i];
        uint32_t mask = d->addr.prefix ? ~0u << (32 - d->addr.prefix) : 0;

        if (d->addr.set && ((d->addr.ip ^ g->addr.ip) & mask) == 0) {
            memcpy(f->dst, vns_dev_get_by_name(host->kernel, d->name)->dev_addr, 6);
            return;
        }
    }
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
    case VNS_SC_FAULT_FLOOD:
        if (on) {
            f->next = vns_sim_now(vns_world_sim(f->w));
            vns_ctx_start(f->flooder, f->next);
        }
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
        vns_timer_init(&f->pace, flood_wake, f, vns_sim_new_id(sim));
        if (s->type == VNS_SC_FAULT_HOSTILE) {
            vns__world_guest_nic(w, s->target, &ga, NULL);
            err = vns_galloc_alloc(ga, 64, 64, &f->scratch);
        } else if (s->type == VNS_SC_FAULT_FLOOD) {
            f->guest = vns_world_machine(w, s->target);
            flood_dst(f, sc);
            snprintf(name, sizeof(name), "flood-%zu", i);
            err = vns_ctx_create(sim,
                                 &(struct vns_ctx_config){.kind = VNS_CTX_USER,
                                                          .name = name,
                                                          .cpu = f->guest->cpus[0],
                                                          .threadfn = -1,
                                                          .fn = flood_step,
                                                          .arg = f},
                                 &f->flooder);
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
        vns_timer_cancel(sim, &fs->f[i].pace);
        vns_ctx_destroy(fs->f[i].hog);
        vns_ctx_destroy(fs->f[i].flooder);
    }
    vns_free(fs->f);
    vns_free(fs);
}

uint64_t vns__world_fault_sent(const struct vns_world_faults *fs, size_t i)
{
    return fs && i < fs->n ? fs->f[i].sent : 0;
}

int vns__world_fault_result(const struct vns_world_faults *fs, size_t i)
{
    return fs && i < fs->n ? fs->f[i].result : -VNS_ENOENT;
}
