/* lib/world/world.c -- build machines from a scenario (include/vnetsim/
 * world.h). Order matters as it does on a real host: remotes and their
 * kernels first (a wire needs both ends), then the host's devices in an
 * order where every lower device and bridge exists before it is used,
 * then guests. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/bridge.h"
#include "vnetsim/cpu.h"
#include "vnetsim/flow_book.h"
#include "vnetsim/func.h"
#include "vnetsim/gmem.h"
#include "vnetsim/kernel.h"
#include "vnetsim/macvlan.h"
#include "vnetsim/netdev.h"
#include "vnetsim/sim.h"
#include "vnetsim/trace.h"
#include "vnetsim/backend_sock.h"
#include "vnetsim/inet.h"
#include "vnetsim/tap.h"
#include "vnetsim/tun.h"
#include "vnetsim/vhost_net.h"
#include "vnetsim/virtio_net.h"
#include "vnetsim/wire.h"
#include "vnetsim/world.h"
#include "world_int.h"

/* A guest's virtual hardware beyond its machine. */
struct guest_hw {
    struct vns_gmem_table *table;
    struct vns_galloc *ga;
    struct vns_synmap *syn;
    struct vns_virtnet *vi;
    struct vns_vhost_net *nets[VNS_SC_MAX_CPUS];
    unsigned qps;
};

/* A tap or macvtap of the host and the guest that uses it. */
struct backend {
    const char *name;
    struct vns_tun *tun;
    struct vns_tap *tap;
};

struct vns_world {
    struct vns_sim *sim;
    const struct vns_scenario *sc;
    struct guest_hw *hw;           /* per guest */
    struct backend *backends;
    size_t nbackends;
    struct vns_workload *workloads;
    size_t nworkloads;
    struct vns_machine host;
    struct vns_machine *guests;
    size_t nguests;
    struct vns_machine *remotes;
    size_t nremotes;
    struct vns_wire **wires;
    size_t nwires;
    struct vns_world_pcap *pcap;
    struct vns_world_faults *faults;
    struct vns_world_ledger *ledger;
    json_t *final_stats;           /* the stats JSON taken by vns_world_finish */
    bool drained;
    struct vns_flow_reg *flows; /* the flow books: two per workload (flow_book.h) */
};

/* ethtool -K DEV tx off sg off tso off gso off gro off: the stack
 * checksums, segments and (not) coalesces in software. */
static void offloads_off(struct vns_net_device *dev)
{
    dev->features &= ~(VNS_NETIF_F_CSUM_MASK | VNS_NETIF_F_SG | VNS_NETIF_F_FRAGLIST | VNS_NETIF_F_GSO_SOFTWARE |
                       VNS_NETIF_F_GRO | VNS_NETIF_F_LRO);
}

/* The flow books of the run: two per workload (client to server, server
 * to client), one registry that every kernel looks flow ids up in. */
static int world_flow_books(struct vns_world *w)
{
    int err = vns_flow_reg_create(2 * w->sc->nworkloads, &w->flows);

    if (err < 0)
        return err;
    vns_kernel_set_flow_reg(w->host.kernel, w->flows);
    for (size_t i = 0; i < w->nguests; i++)
        vns_kernel_set_flow_reg(w->guests[i].kernel, w->flows);
    for (size_t i = 0; i < w->nremotes; i++)
        vns_kernel_set_flow_reg(w->remotes[i].kernel, w->flows);
    return 0;
}

static int world_err(const struct vns_scenario *sc, struct vns_diag *d, int code, unsigned line,
                     const char *what, const char *msg)
{
    return vns_diag_set(d, code, sc->file, line, 0, "%s: %s", what, msg);
}

/* CPUs and a kernel for a host or remote machine. */
static int machine_init(struct vns_world *w, struct vns_machine *m, const char *name,
                        enum vns_machine_kind kind, unsigned ncpus, const int *pins)
{
    char cname[64];
    int err;

    snprintf(m->name, sizeof(m->name), "%s", name);
    m->kind = kind;
    m->cpus = vns_calloc(ncpus, sizeof(*m->cpus));
    if (!m->cpus)
        return -VNS_ENOMEM;
    for (unsigned i = 0; i < ncpus; i++) {
        struct vns_cpu_config cc = {.name = cname};

        snprintf(cname, sizeof(cname), "%.31s/cpu%u", name, i);
        if (kind == VNS_MACHINE_GUEST)
            cc.backing_cpu = w->host.cpus[pins[i]];
        err = vns_cpu_create(w->sim, &cc, &m->cpus[i]);
        if (err)
            return err;
        m->ncpus++;
    }
    err = vns_kernel_create(w->sim, &(struct vns_kernel_config){.name = name, .cpus = m->cpus, .ncpus = ncpus},
                            &m->kernel);
    if (!err)
        err = vns_inet_create(m->kernel, &(struct vns_inet_config){.materialize_payload =
                                                                   w->sc->payload == VNS_SC_PAYLOAD_MATERIALIZED},
                              &m->inet);
    return err;
}

static void machine_fini(struct vns_machine *m)
{
    vns_inet_destroy(m->inet);
    vns_kernel_destroy(m->kernel);
    for (unsigned i = 0; i < m->ncpus; i++)
        vns_cpu_destroy(m->cpus[i]);
    vns_free(m->cpus);
    vns_gmem_destroy(m->mem);
}

static struct vns_machine *find_remote(struct vns_world *w, const char *name)
{
    for (size_t i = 0; i < w->nremotes; i++)
        if (!strcmp(w->remotes[i].name, name))
            return &w->remotes[i];
    return NULL;
}

static const enum vns_macvlan_mode macvlan_modes[] = {
    [VNS_SC_MACVLAN_BRIDGE] = VNS_MACVLAN_MODE_BRIDGE, [VNS_SC_MACVLAN_PRIVATE] = VNS_MACVLAN_MODE_PRIVATE,
    [VNS_SC_MACVLAN_VEPA] = VNS_MACVLAN_MODE_VEPA, [VNS_SC_MACVLAN_PASSTHRU] = VNS_MACVLAN_MODE_PASSTHRU,
};

/* The guest whose NIC uses the host device @name, or NULL. */
static const struct vns_sc_guest *guest_of_backend(const struct vns_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->nguests; i++)
        if (!strcmp(sc->guests[i].nic.backend, name))
            return &sc->guests[i];
    return NULL;
}

/* The scenario's feature names as virtio feature bits. */
static uint64_t guest_features(const struct vns_sc_guest *g)
{
    static const unsigned bit[VNS_SC_F__COUNT] = {
        [VNS_SC_F_CSUM] = VNS_VIRTIO_NET_F_CSUM, [VNS_SC_F_GUEST_CSUM] = VNS_VIRTIO_NET_F_GUEST_CSUM,
        [VNS_SC_F_TSO4] = VNS_VIRTIO_NET_F_HOST_TSO4, [VNS_SC_F_GUEST_TSO4] = VNS_VIRTIO_NET_F_GUEST_TSO4,
        [VNS_SC_F_MRG_RXBUF] = VNS_VIRTIO_NET_F_MRG_RXBUF, [VNS_SC_F_EVENT_IDX] = VNS_VIRTIO_RING_F_EVENT_IDX,
        [VNS_SC_F_INDIRECT_DESC] = VNS_VIRTIO_RING_F_INDIRECT_DESC, [VNS_SC_F_MQ] = VNS_VIRTIO_NET_F_MQ,
        [VNS_SC_F_VERSION_1] = VNS_VIRTIO_F_VERSION_1, [VNS_SC_F_NOTIFY_ON_EMPTY] = VNS_VIRTIO_F_NOTIFY_ON_EMPTY,
    };
    uint32_t sf = g ? g->nic.features : ((1u << VNS_SC_F_CSUM) | (1u << VNS_SC_F_GUEST_CSUM) | (1u << VNS_SC_F_TSO4) |
                                        (1u << VNS_SC_F_GUEST_TSO4) | (1u << VNS_SC_F_MRG_RXBUF) |
                                        (1u << VNS_SC_F_EVENT_IDX) | (1u << VNS_SC_F_VERSION_1));
    uint64_t f = 0;

    for (int i = 0; i < VNS_SC_F__COUNT; i++)
        if (sf & (1u << i))
            f |= VNS_VIRTIO_BIT(bit[i]);
    return f;
}

/* One host device whose dependencies exist. */
static int build_device(struct vns_world *w, const struct vns_sc_device *sd, struct vns_diag *d)
{
    struct vns_kernel *k = w->host.kernel;
    struct vns_net_device *dev = NULL, *lower;
    char what[80];
    int err = 0;

    snprintf(what, sizeof(what), "host device '%s'", sd->name);
    switch (sd->type) {
    case VNS_SC_DEV_BRIDGE:
        err = vns_br_add_bridge(k, sd->name, &dev);
        if (!err && sd->ageing_time)
            vns_br_set_ageing_time(dev, sd->ageing_time);
        break;
    case VNS_SC_DEV_WIRE: {
        struct vns_machine *r = find_remote(w, sd->peer);
        struct vns_wire **ws = vns_realloc(w->wires, (w->nwires + 1) * sizeof(*ws));
        struct vns_wire_config wc = {.name = sd->name, .rate_bps = sd->rate_bps, .delay = sd->delay,
                                     .mtu = sd->mtu, .loss = sd->loss, .dup = sd->duplicate, .reorder_delay = sd->reorder_delay,
                                     .ge_p = sd->ge_p, .ge_r = sd->ge_r, .ge_loss_bad = sd->ge_loss_bad, .ge_loss_good = sd->ge_loss_good,
                                     .reorder = sd->reorder, .corrupt = sd->corrupt};

        wc.no_fcs_check = sd->rx_all; /* ethtool -K DEV rx-all on */
        if (!ws)
            return world_err(w->sc, d, -VNS_ENOMEM, sd->line, what, "out of memory");
        w->wires = ws;
        err = vns_wire_create(w->sim, &wc, &(struct vns_wire_end){.k = k, .ifname = sd->name},
                              &(struct vns_wire_end){.k = r->kernel, .ifname = "eth0"}, &w->wires[w->nwires]);
        if (!err) {
            dev = vns_wire_dev(w->wires[w->nwires], 0);
            w->nwires++;
            err = vns_dev_open(vns_wire_dev(w->wires[w->nwires - 1], 1));
        }
        break;
    }
    case VNS_SC_DEV_MACVLAN:
        lower = vns_dev_get_by_name(k, sd->lower);
        err = vns_macvlan_create(lower, sd->name, &(struct vns_macvlan_config){.mode = macvlan_modes[sd->mode]}, &dev);
        break;
    case VNS_SC_DEV_TAP:
    case VNS_SC_DEV_MACVTAP: {
        const struct vns_sc_guest *g = guest_of_backend(w->sc, sd->name);
        uint64_t f = g ? guest_features(g) : guest_features(NULL);
        /* QEMU's TUNSETVNETHDRSZ: the guest's header length */
        unsigned hdr = vns_virtio_has(f, VNS_VIRTIO_NET_F_MRG_RXBUF) || vns_virtio_has(f, VNS_VIRTIO_F_VERSION_1) ? 12 : 10;
        unsigned queues = g ? g->nic.queues : 1;
        struct backend *b = &w->backends[w->nbackends];

        b->name = sd->name;
        if (sd->type == VNS_SC_DEV_TAP) {
            err = vns_tun_create(k, &(struct vns_tun_config){.name = sd->name, .queues = queues, .vnet_hdr_sz = hdr,
                                                             .no_offloads = !vns_virtio_has(f, VNS_VIRTIO_NET_F_GUEST_TSO4),
                                                             .tx_queue_len = sd->txqueuelen},
                                 &b->tun);
            if (!err)
                dev = vns_tun_dev(b->tun);
        } else {
            lower = vns_dev_get_by_name(k, sd->lower);
            err = vns_macvtap_create(lower, sd->name,
                                     &(struct vns_tap_config){.mode = macvlan_modes[sd->mode], .queues = queues,
                                                              .vnet_hdr_sz = hdr,
                                                              .no_offloads = !vns_virtio_has(f, VNS_VIRTIO_NET_F_GUEST_TSO4),
                                                              .tx_queue_len = sd->txqueuelen},
                                     &b->tap);
            if (!err)
                dev = vns_tap_dev(b->tap);
        }
        if (!err)
            w->nbackends++;
        break;
    }
    }
    if (err)
        return world_err(w->sc, d, err, sd->line, what, vns_strerror(err));
    if (sd->mtu && sd->type != VNS_SC_DEV_WIRE && (err = vns_dev_set_mtu(dev, sd->mtu)))
        return world_err(w->sc, d, err, sd->line, what, "cannot set the MTU");
    if (sd->txqueuelen)
        dev->tx_queue_len = sd->txqueuelen;
    if (!sd->offloads)
        offloads_off(dev);
    if ((err = vns_dev_open(dev)))
        return world_err(w->sc, d, err, sd->line, what, vns_strerror(err));
    if (sd->master[0]) {
        struct vns_net_device *br = vns_dev_get_by_name(k, sd->master);

        if ((err = vns_br_add_if(br, dev)))
            return world_err(w->sc, d, err, sd->line, what, vns_strerror(err));
    }
    return 0;
}

/* Devices in dependency order: bridges and wires, then what sits on them. */
static int build_devices(struct vns_world *w, struct vns_diag *d)
{
    const struct vns_scenario *sc = w->sc;
    bool *done = vns_calloc(sc->ndevices ? sc->ndevices : 1, sizeof(*done));
    size_t left = sc->ndevices;
    int err = 0;

    if (!done)
        return vns_diag_set(d, -VNS_ENOMEM, sc->file, 0, 0, "out of memory");
    while (left && !err) {
        size_t before = left;

        for (size_t i = 0; i < sc->ndevices && !err; i++) {
            const struct vns_sc_device *sd = &sc->devices[i];

            if (done[i])
                continue;
            if ((sd->lower[0] && !vns_dev_get_by_name(w->host.kernel, sd->lower)) ||
                (sd->master[0] && !vns_dev_get_by_name(w->host.kernel, sd->master)))
                continue;   /* wait for them */
            err = build_device(w, sd, d);
            done[i] = true;
            left--;
        }
        if (!err && left == before)
            err = vns_diag_set(d, -VNS_EINVAL, sc->file, 0, 0, "host devices depend on each other in a cycle");
    }
    vns_free(done);
    return err;
}

static bool guest_notify(void *arg, unsigned vq_index, struct vns_ctx *ctx)
{
    struct guest_hw *hw = arg;

    vns_vhost_net_kick(hw->nets[vq_index / 2], vq_index & 1 ? VNS_VHOST_NET_VQ_TX : VNS_VHOST_NET_VQ_RX, ctx);
    return true;
}

static struct backend *find_backend(struct vns_world *w, const char *name)
{
    for (size_t i = 0; i < w->nbackends; i++)
        if (!strcmp(w->backends[i].name, name))
            return &w->backends[i];
    return NULL;
}

/* A guest: vCPUs on their pinned host CPUs, RAM, its kernel, a virtio-net
 * NIC wired through vhost-net (one worker per queue pair) to its tap or
 * macvtap, as QEMU sets it up (VHOST_SET_MEM_TABLE, SET_VRING_*,
 * NET_SET_BACKEND, TUNSETVNETHDRSZ). */
static int build_guest(struct vns_world *w, size_t i, struct vns_diag *d)
{
    const struct vns_sc_guest *g = &w->sc->guests[i];
    struct vns_machine *m = &w->guests[i];
    struct guest_hw *hw = &w->hw[i];
    struct backend *b = find_backend(w, g->nic.backend);
    uint64_t features = guest_features(g);
    char what[80], name[64];
    int err;

    snprintf(what, sizeof(what), "guest '%s'", g->name);
    if ((err = machine_init(w, m, g->name, VNS_MACHINE_GUEST, g->nvcpus, g->vcpu_pin)))
        return world_err(w->sc, d, err, g->line, what, vns_strerror(err));
    w->nguests++;
    if (!b)
        return world_err(w->sc, d, -VNS_EINVAL, g->line, what, "its backend was not built");
    hw->qps = g->nic.queues;
    if ((err = vns_gmem_create(&m->mem)) || (err = vns_gmem_add_region(m->mem, 0, g->memory)) ||
        (err = vns_gmem_table_create_all(m->mem, &hw->table)) ||
        (err = vns_galloc_create(1u << 20, g->memory - (1u << 20), &hw->ga)))
        return world_err(w->sc, d, err, g->line, what, "cannot set up guest memory");
    if (w->sc->payload == VNS_SC_PAYLOAD_SYNTHETIC && (err = vns_synmap_create(256, &hw->syn)))
        return world_err(w->sc, d, err, g->line, what, vns_strerror(err));
    err = vns_virtnet_create(&(struct vns_virtnet_config){.k = m->kernel, .mem = m->mem, .galloc = hw->ga,
                                                          .features = features, .ring_size = g->nic.ring_size,
                                                          .queue_pairs = g->nic.queues, .synmap = hw->syn,
                                                          .irq_cpus = m->cpus, .no_napi_tx = !g->nic.napi_tx,
                                                          .layout = g->nic.packed ? VNS_VIRTQ_PACKED : VNS_VIRTQ_SPLIT,
                                                          .notify = guest_notify, .notify_arg = hw},
                             &hw->vi);
    if (err)
        return world_err(w->sc, d, err, g->line, what, "cannot create its virtio-net device");
    m->nic = vns_virtnet_dev(hw->vi);
    if (!g->nic.offloads)
        offloads_off(m->nic);
    /* On a macvtap the guest's MAC is the macvtap's (what libvirt sets up):
     * macvtap only takes frames to its own address. */
    if (b->tap)
        vns_dev_set_addr(m->nic, vns_tap_dev(b->tap)->dev_addr);
    for (unsigned q = 0; q < hw->qps; q++) {
        unsigned pin = g->nic.vhost_pin < 0 ? 0 : (unsigned)g->nic.vhost_pin;

        snprintf(name, sizeof(name), "vhost-%zu-%u", 1000 + i, q);
        err = vns_vhost_net_create(w->sim, &(struct vns_vhost_net_config){.name = name, .cpu = w->host.cpus[pin],
                                                                         .table = hw->table, .features = features,
                                                                         .synmap = hw->syn},
                                   &hw->nets[q]);
        for (unsigned v = 0; v < 2 && !err; v++) {
            struct vns_virtq *vq = vns_virtnet_vq(hw->vi, 2 * q + v);

            err = vns_vhost_net_set_vring(hw->nets[q], v, vns_virtq_layout_of(vq), vns_virtq_get_vring_size(vq),
                                          vns_virtq_addr(vq), vns_virtnet_irq(hw->vi, 2 * q + v));
            if (!err)
                err = vns_vhost_net_set_backend(hw->nets[q], v, b->tap ? vns_tap_socket(b->tap, q)
                                                                       : vns_tun_socket(b->tun, q));
        }
        if (err)
            return world_err(w->sc, d, err, g->line, what, "cannot attach vhost-net");
    }
    if ((err = vns_dev_open(m->nic)))
        return world_err(w->sc, d, err, g->line, what, vns_strerror(err));
    return 0;
}

static int build_guests(struct vns_world *w, struct vns_diag *d)
{
    size_t n = w->sc->nguests ? w->sc->nguests : 1;
    int err = 0;

    w->guests = vns_calloc(n, sizeof(*w->guests));
    w->hw = vns_calloc(n, sizeof(*w->hw));
    if (!w->guests || !w->hw)
        return vns_diag_set(d, -VNS_ENOMEM, w->sc->file, 0, 0, "out of memory");
    for (size_t i = 0; i < w->sc->nguests && !err; i++)
        err = build_guest(w, i, d);
    return err;
}

static int add_addr(struct vns_world *w, struct vns_machine *m, struct vns_net_device *dev,
                    const struct vns_sc_addr *a, unsigned line, struct vns_diag *d)
{
    int err;

    if (!a->set)
        return 0;
    if (!dev)
        return world_err(w->sc, d, -VNS_EINVAL, line, m->name,
                         "has an address but no device to hold it (a remote needs a wire)");
    err = vns_inet_addr_add(m->inet, dev, a->ip, a->prefix);
    if (err)
        return world_err(w->sc, d, err, line, m->name, "cannot add its address");
    if (!m->addr)
        m->addr = a->ip;
    return 0;
}

/* ip addr add: host devices, each remote's end of its wire, guest NICs. */
static int assign_addresses(struct vns_world *w, struct vns_diag *d)
{
    const struct vns_scenario *sc = w->sc;
    int err = 0;

    for (size_t i = 0; i < sc->ndevices && !err; i++)
        err = add_addr(w, &w->host, vns_dev_get_by_name(w->host.kernel, sc->devices[i].name), &sc->devices[i].addr,
                       sc->devices[i].line, d);
    for (size_t i = 0; i < sc->nremotes && !err; i++)
        err = add_addr(w, &w->remotes[i], vns_dev_get_by_name(w->remotes[i].kernel, "eth0"), &sc->remotes[i].addr,
                       sc->remotes[i].line, d);
    for (size_t i = 0; i < sc->nguests && !err; i++)
        err = add_addr(w, &w->guests[i], w->guests[i].nic, &sc->guests[i].addr, sc->guests[i].line, d);
    return err;
}

int vns_world_create(const struct vns_scenario *sc, struct vns_world **out, struct vns_diag *d)
{
    struct vns_world *w = vns_calloc(1, sizeof(*w));
    int err;

    if (!w)
        return vns_diag_set(d, -VNS_ENOMEM, sc->file, 0, 0, "out of memory");
    w->sc = sc;
    err = vns_sim_create(&(struct vns_sim_config){.seed = sc->seed, .profile = sc->profile}, &w->sim);
    if (err)
        goto fail_msg;
    if (sc->cpu_mhz && (err = vns_cost_set_cpu_mhz(vns_sim_costs(w->sim), sc->cpu_mhz)))
        goto fail_msg;
    for (size_t i = 0; i < sc->ncosts; i++) {
        err = vns_cost_set(vns_sim_costs(w->sim), sc->costs[i].func, (int64_t)sc->costs[i].call_ns,
                           sc->costs[i].byte_ps);
        if (err)
            goto fail_msg;
    }
    for (size_t i = 0; i < sc->nprobes; i++)
        if ((err = vns_probe_add(w->sim, sc->probes[i])))
            goto fail_msg;
    if ((err = machine_init(w, &w->host, "host", VNS_MACHINE_HOST, sc->host_cpus, NULL)))
        goto fail_msg;
    w->remotes = vns_calloc(sc->nremotes ? sc->nremotes : 1, sizeof(*w->remotes));
    if (!w->remotes) {
        err = -VNS_ENOMEM;
        goto fail_msg;
    }
    for (size_t i = 0; i < sc->nremotes; i++) {
        err = machine_init(w, &w->remotes[i], sc->remotes[i].name, VNS_MACHINE_REMOTE, sc->remotes[i].cpus, NULL);
        w->nremotes++;
        if (err)
            goto fail_msg;
    }
    w->backends = vns_calloc(sc->ndevices ? sc->ndevices : 1, sizeof(*w->backends));
    if (!w->backends) {
        err = -VNS_ENOMEM;
        goto fail_msg;
    }
    if ((err = build_devices(w, d)))
        goto fail;
    if ((err = build_guests(w, d)) || (err = assign_addresses(w, d)))
        goto fail;
    if ((err = world_flow_books(w)) < 0)
        goto fail_msg;
    if ((err = vns__world_workloads_start(w, sc, d)) || (err = vns__world_faults_start(w, sc, &w->faults, d)))
        goto fail;
    *out = w;
    return 0;
fail_msg:
    vns_diag_set(d, err, sc->file, 0, 0, "cannot build the world: %s", vns_strerror(err));
fail:
    vns_world_destroy(w);
    return err;
}

/* Release everything that holds packets, leaving the kernels (their
 * counters) and the machines' CPUs and memory. */
static void world_drain(struct vns_world *w)
{
    if (w->drained)
        return;
    w->drained = true;
    vns__world_pcap_finish(w->pcap, false);
    w->pcap = NULL;
    vns__world_workloads_stop(w);
    vns__world_faults_stop(w, w->faults);
    w->faults = NULL;
    /* The order of tests/vhost/test_vhost_net.c's teardown: sockets,
     * vhost, the guest NIC, the host's devices, kernels, memory. */
    for (size_t i = 0; i < w->nguests; i++)
        vns_inet_destroy(w->guests[i].inet), w->guests[i].inet = NULL;
    vns_inet_destroy(w->host.inet);
    w->host.inet = NULL;
    for (size_t i = 0; i < w->nremotes; i++)
        vns_inet_destroy(w->remotes[i].inet), w->remotes[i].inet = NULL;
    for (size_t i = 0; w->hw && i < w->nguests; i++) {
        for (unsigned q = 0; q < w->hw[i].qps; q++)
            vns_vhost_net_destroy(w->hw[i].nets[q]), w->hw[i].nets[q] = NULL;
        vns_virtnet_destroy(w->hw[i].vi);
        w->hw[i].vi = NULL;
    }
    for (size_t i = 0; i < w->nbackends; i++) {
        vns_tun_destroy(w->backends[i].tun);
        vns_tap_destroy(w->backends[i].tap);
    }
    vns_free(w->backends);
    w->nbackends = 0;
    for (size_t i = 0; i < w->nwires; i++)
        vns_wire_destroy(w->wires[i]);
    w->nwires = 0;
    w->backends = NULL;
    if (w->host.kernel)
        vns_kernel_drain(w->host.kernel);
    for (size_t i = 0; i < w->nremotes; i++)
        if (w->remotes[i].kernel)
            vns_kernel_drain(w->remotes[i].kernel);
    for (size_t i = 0; i < w->nguests; i++)
        if (w->guests[i].kernel)
            vns_kernel_drain(w->guests[i].kernel);
}

void vns_world_destroy(struct vns_world *w)
{
    if (!w)
        return;
    world_drain(w);
    json_decref(w->final_stats);
    vns__world_ledger_free(w->ledger);
    vns_free(w->wires);
    for (size_t i = 0; i < w->nguests; i++) {
        machine_fini(&w->guests[i]);
        vns_galloc_destroy(w->hw[i].ga);
        vns_gmem_table_destroy(w->hw[i].table);
        vns_synmap_destroy(w->hw[i].syn);
    }
    vns_free(w->guests);
    vns_free(w->hw);
    machine_fini(&w->host);
    for (size_t i = 0; i < w->nremotes; i++)
        machine_fini(&w->remotes[i]);
    vns_free(w->remotes);
    vns_sim_destroy(w->sim);
    vns_flow_reg_destroy(w->flows);
    vns_free(w);
}

struct vns_flow_reg *vns__world_flow_reg(const struct vns_world *w)
{
    return w->flows;
}

struct vns_sim *vns_world_sim(const struct vns_world *w) { return w->sim; }

static size_t guest_index(const struct vns_world *w, const char *name)
{
    for (size_t i = 0; i < w->nguests; i++)
        if (!strcmp(w->guests[i].name, name))
            return i;
    return SIZE_MAX;
}

struct vns_virtnet *vns__world_guest_nic(struct vns_world *w, const char *name, struct vns_galloc **ga,
                                         struct vns_gmem **mem)
{
    size_t i = guest_index(w, name);

    if (i == SIZE_MAX)
        return NULL;
    if (ga)
        *ga = w->hw[i].ga;
    if (mem)
        *mem = w->guests[i].mem;
    return w->hw[i].vi;
}

struct vns_vhost_net *vns__world_guest_vhost(struct vns_world *w, const char *name, unsigned qp)
{
    size_t i = guest_index(w, name);

    return i == SIZE_MAX || qp >= w->hw[i].qps ? NULL : w->hw[i].nets[qp];
}

struct vns_wire *vns__world_wire(struct vns_world *w, const char *name)
{
    for (size_t i = 0; i < w->nwires; i++)
        if (!strcmp(vns_wire_dev(w->wires[i], 0)->name, name))
            return w->wires[i];
    return NULL;
}

struct vns_world_faults *vns__world_faults(struct vns_world *w) { return w->faults; }

struct vns_cpu *vns__world_host_cpu(struct vns_world *w, unsigned i)
{
    return i < w->host.ncpus ? w->host.cpus[i] : NULL;
}

void vns__world_guest_kick(struct vns_world *w, const char *guest, unsigned vq)
{
    size_t i = guest_index(w, guest);

    if (i != SIZE_MAX)
        guest_notify(&w->hw[i], vq, NULL);
}

const struct vns_machine *vns_world_machine(const struct vns_world *w, const char *name)
{
    if (!strcmp(name, "host"))
        return &w->host;
    for (size_t i = 0; i < w->nguests; i++)
        if (!strcmp(w->guests[i].name, name))
            return &w->guests[i];
    for (size_t i = 0; i < w->nremotes; i++)
        if (!strcmp(w->remotes[i].name, name))
            return &w->remotes[i];
    return NULL;
}

static void print_machine(const struct vns_machine *m, FILE *out)
{
    static const char *const kinds[] = {"host", "guest", "remote"};

    fprintf(out, "%s %s: %u CPUs, kernel %s, devices:", kinds[m->kind], m->name, m->ncpus,
            vns_kernel_name(m->kernel));
    for (int i = 1; i < 1024; i++) {
        struct vns_net_device *dev = vns_dev_get_by_index(m->kernel, i);

        if (dev)
            fprintf(out, " %s%s", dev->name, dev->master ? "" : "");
    }
    fputc('\n', out);
}

void vns_world_print(const struct vns_world *w, FILE *out)
{
    print_machine(&w->host, out);
    for (size_t i = 0; i < w->nremotes; i++)
        print_machine(&w->remotes[i], out);
    for (size_t i = 0; i < w->nguests; i++)
        print_machine(&w->guests[i], out);
}

int vns_world_pcap_start(struct vns_world *w, const char *dir, struct vns_diag *d)
{
    struct vns_kernel *ks[1 + 2 * VNS_SC_MAX_ITEMS];
    const char *names[1 + 2 * VNS_SC_MAX_ITEMS];
    size_t n = 0;

    if (w->pcap)
        return 0;
    ks[n] = w->host.kernel;
    names[n++] = w->host.name;
    for (size_t i = 0; i < w->nremotes; i++) {
        ks[n] = w->remotes[i].kernel;
        names[n++] = w->remotes[i].name;
    }
    for (size_t i = 0; i < w->nguests; i++) {
        ks[n] = w->guests[i].kernel;
        names[n++] = w->guests[i].name;
    }
    return vns__world_pcap_start(&w->pcap, w->sim, ks, names, n, dir, d);
}

int vns_world_pcap_stop(struct vns_world *w, bool commit)
{
    int err = vns__world_pcap_finish(w->pcap, commit);

    w->pcap = NULL;
    return err;
}

uint64_t vns_world_pcap_frames(const struct vns_world *w, const char *machine, const char *dev)
{
    const struct vns_machine *m = vns_world_machine(w, machine);

    if (!m || !w->pcap)
        return 0;
    return vns__world_pcap_frames(w->pcap, vns_dev_get_by_name(m->kernel, dev));
}

static struct vns_world_view world_view(const struct vns_world *w)
{
    struct vns_world_view v = {.sim = w->sim, .host = &w->host, .remotes = w->remotes, .guests = w->guests,
                               .nremotes = w->nremotes, .nguests = w->nguests, .wires = w->wires,
                               .nwires = w->nwires};
    return v;
}

/* Every figure of the run so far (the stats JSON without run facts). */
static json_t *world_stats(const struct vns_world *w)
{
    struct vns_world_view v = world_view(w);

    return vns__world_stats_root(w, &v);
}

int vns_world_finish(struct vns_world *w)
{
    struct vns_world_view v = world_view(w);
    int err;

    if (w->drained)
        return w->ledger && !vns__world_ledger_balanced(w->ledger) ? -VNS_EPROTO : 0;
    w->final_stats = world_stats(w);
    if (!w->final_stats)
        return -VNS_ENOMEM;
    if ((err = vns__world_ledger_take(&v, &w->ledger)) < 0 ||
        (err = vns__world_ledger_flows(w->ledger, w)) < 0 ||
        (err = vns__world_ledger_vqs(w->ledger, w)) < 0)
        return err;
    world_drain(w);
    vns__world_ledger_audit(w->ledger);
    json_object_set_new(w->final_stats, "ledger", vns__world_ledger_json(w->ledger));
    return vns__world_ledger_balanced(w->ledger) ? 0 : -VNS_EPROTO;
}

void vns_world_print_ledger(const struct vns_world *w, FILE *out)
{
    vns__world_ledger_print(w->ledger, out);
}

void vns_world_print_ledger_summary(const struct vns_world *w, FILE *out)
{
    vns__world_ledger_summary(w->ledger, out);
}

int vns_world_write_stats_json(const struct vns_world *w, FILE *out, const char *extra)
{
    return vns__world_dump_stats_json(w->final_stats ? json_deep_copy(w->final_stats) : world_stats(w), out, extra);
}

struct vns_workload **vns__world_workload_slot(struct vns_world *w, size_t *n)
{
    *n = w->nworkloads;
    return &w->workloads;
}

void vns__world_set_nworkloads(struct vns_world *w, size_t n) { w->nworkloads = n; }
size_t vns_world_nworkloads(const struct vns_world *w) { return w->nworkloads; }

unsigned vns__world_guest_queues(const struct vns_world *w, size_t i, struct vns_virtnet **vi,
                                 struct vns_vhost_net *const **nets)
{
    if (i >= w->nguests)
        return 0;
    *vi = w->hw[i].vi;
    *nets = w->hw[i].nets;
    return w->hw[i].qps;
}

const struct vns_machine **vns__world_machines(const struct vns_world *w, size_t *count)
{
    const struct vns_machine **ms = vns_calloc(1 + w->nguests + w->nremotes, sizeof(*ms));
    size_t n = 0;

    if (!ms)
        return NULL;
    ms[n++] = &w->host;
    for (size_t i = 0; i < w->nguests; i++)
        ms[n++] = &w->guests[i];
    for (size_t i = 0; i < w->nremotes; i++)
        ms[n++] = &w->remotes[i];
    *count = n;
    return ms;
}
