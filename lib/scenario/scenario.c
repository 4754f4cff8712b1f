/* lib/scenario/scenario.c -- scenario files to a validated struct
 * vns_scenario (docs/scenarios.md is the reference of every key).
 *
 * Reading happens while the YAML tree is alive, in an order where every
 * name a section refers to is already known (remotes, host devices,
 * guests, workloads), so every error, cross-references included, points
 * at the line and column of the offending value. */
#include <stdio.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/func.h"
#include "vnetsim/hostile.h"
#include "vnetsim/scenario.h"
#include "vnetsim/trace.h"
#include "vnetsim/units.h"
#include "vnetsim/ydoc.h"
#include "sc_int.h"

const char *const vns__sc_dev_types[] = {"bridge", "tap", "macvlan", "macvtap", "wire", NULL};
const char *const vns__sc_macvlan_modes[] = {"bridge", "private", "vepa", "passthru", NULL};
const char *const vns__sc_payloads[] = {"synthetic", "materialized", NULL};
const char *const vns__sc_workload_types[] = {"tcp_stream", "tcp_maerts", "tcp_rr", "udp_rr", "udp_stream",
                                             "ping", NULL};
const char *const vns__sc_syscalls[] = {"write", "send", "sendmsg", NULL};
const char *const vns__sc_rings[] = {"split", "packed", NULL};
const char *const vns__sc_features[] = {"csum", "guest_csum", "tso4", "guest_tso4", "mrg_rxbuf", "event_idx",
                                       "indirect_desc", "mq", "version_1", "notify_on_empty", NULL};

const char *vns_sc_dev_type_name(enum vns_sc_dev_type t) { return vns__sc_dev_types[t]; }
const char *vns_sc_workload_name(enum vns_sc_workload_type t) { return vns__sc_workload_types[t]; }
const char *vns_sc_feature_name(enum vns_sc_feature f) { return vns__sc_features[f]; }

const char *const vns__sc_fault_types[] = {"link_down", "hostile", "rx_oom", "rx_stop", "cpu_hog", "flood", NULL};

const char *vns_sc_fault_name(enum vns_sc_fault_type t) { return vns__sc_fault_types[t]; }

/* Default virtio-net features: what QEMU offers and Linux 5.4 accepts for
 * a vhost-net NIC (minus MQ, which the queue count turns on). */
#define DEFAULT_FEATURES                                                                            \
    ((1u << VNS_SC_F_CSUM) | (1u << VNS_SC_F_GUEST_CSUM) | (1u << VNS_SC_F_TSO4) |               \
     (1u << VNS_SC_F_GUEST_TSO4) | (1u << VNS_SC_F_MRG_RXBUF) | (1u << VNS_SC_F_EVENT_IDX) |     \
     (1u << VNS_SC_F_INDIRECT_DESC) | (1u << VNS_SC_F_VERSION_1))

/* --- small readers -------------------------------------------------------------- */

static int read_name(const struct vns_ypath *p, const struct vns_ynode *m, const char *key, char *out,
                     bool required)
{
    const struct vns_ynode *n = vns_ymap_get(m, key);

    if (!n) {
        if (required)
            return vns_yerr(p, m, key, "required key is missing");
        return 0;
    }
    if (n->kind != VNS_YSCALAR || !n->scalar[0])
        return vns_yerr(p, n, key, "expected a name");
    if (strlen(n->scalar) >= VNS_SC_NAME_MAX)
        return vns_yerr(p, n, key, "name longer than %d characters", VNS_SC_NAME_MAX - 1);
    for (const char *c = n->scalar; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-' || *c == '.'))
            return vns_yerr(p, n, key, "'%s' is not a name (letters, digits, '_', '-', '.')", n->scalar);
    }
    strcpy(out, n->scalar);
    return 0;
}

static int read_addr(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                     struct vns_sc_addr *out)
{
    const struct vns_ynode *n = vns_ymap_get(m, key);
    unsigned a, b, c, dd, len;
    char extra;

    if (!n)
        return 0;
    if (n->kind != VNS_YSCALAR || sscanf(n->scalar, "%u.%u.%u.%u/%u%c", &a, &b, &c, &dd, &len, &extra) != 5 ||
        a > 255 || b > 255 || c > 255 || dd > 255 || len > 32 || len == 0)
        return vns_yerr(p, n, key, "expected an IPv4 address with prefix such as 10.0.0.2/24, got '%s'",
                        n->kind == VNS_YSCALAR ? n->scalar : "a collection");
    out->set = true;
    out->ip = a << 24 | b << 16 | c << 8 | dd;
    out->prefix = (uint8_t)len;
    return 0;
}

static int read_prob(const struct vns_ypath *p, const struct vns_ynode *m, const char *key, double *out)
{
    const struct vns_ynode *n = vns_ymap_get(m, key);
    double v;
    char extra;

    if (!n)
        return 0;
    if (n->kind != VNS_YSCALAR || sscanf(n->scalar, "%lf%c", &v, &extra) != 1 || !(v >= 0.0 && v <= 1.0))
        return vns_yerr(p, n, key, "expected a probability from 0 to 1, got '%s'",
                        n->kind == VNS_YSCALAR ? n->scalar : "a collection");
    *out = v;
    return 0;
}

static int read_u32(const struct vns_ypath *p, const struct vns_ynode *m, const char *key, uint32_t min,
                    uint32_t max, uint32_t *out)
{
    uint64_t v = *out;
    int err = vns_yget_u64(p, m, key, min, max, &v);

    if (!err)
        *out = (uint32_t)v;
    return err;
}

/* A sequence under @key (absent = empty), bounded in length. */
static int read_seq(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                    const struct vns_ynode **out)
{
    const struct vns_ynode *n = vns_ymap_get(m, key);

    *out = NULL;
    if (!n)
        return 0;
    if (n->kind != VNS_YSEQ)
        return vns_yerr(p, n, key, "expected a list");
    if (n->n > VNS_SC_MAX_ITEMS)
        return vns_yerr(p, n, key, "more than %d entries", VNS_SC_MAX_ITEMS);
    *out = n;
    return 0;
}

static const struct vns_sc_device *find_dev(const struct vns_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->ndevices; i++)
        if (!strcmp(sc->devices[i].name, name))
            return &sc->devices[i];
    return NULL;
}

/* The CPU count of endpoint @name; 0 if there is no such endpoint. */
static uint32_t endpoint_cpus(const struct vns_scenario *sc, const char *name)
{
    if (!strcmp(name, "host"))
        return sc->host_cpus;
    for (size_t i = 0; i < sc->nguests; i++)
        if (!strcmp(sc->guests[i].name, name))
            return sc->guests[i].nvcpus;
    for (size_t i = 0; i < sc->nremotes; i++)
        if (!strcmp(sc->remotes[i].name, name))
            return sc->remotes[i].cpus;
    return 0;
}

static bool endpoint_exists(const struct vns_scenario *sc, const char *name)
{
    return endpoint_cpus(sc, name) > 0;
}

/* --- sections ---------------------------------------------------------------------- */

static int read_costs(const struct vns_ypath *p, const struct vns_ynode *m, struct vns_scenario *sc)
{
    const struct vns_ynode *c = vns_ymap_get(m, "costs");
    struct vns_ypath cp;

    if (!c)
        return 0;
    vns_ypath_key(&cp, p, "costs");
    if (c->kind != VNS_YMAP)
        return vns_yerr(p, c, "costs", "expected a map of function: cost (ns, or ns/ps-per-byte)");
    sc->costs = vns_calloc(c->n ? c->n : 1, sizeof(*sc->costs));
    if (!sc->costs)
        return vns_yerr(p, c, "costs", "out of memory");
    for (size_t i = 0; i < c->n; i++) {
        const struct vns_ynode *v = c->items[i];
        struct vns_sc_cost *e = &sc->costs[sc->ncosts];
        char buf[64], *slash;
        vns_time_t ns;
        uint64_t ps;
        struct vns_ynode at = {.line = c->key_line[i], .col = c->key_col[i]};

        if (vns_func_lookup(c->keys[i]) < 0)
            return vns_yerr(&cp, &at, c->keys[i], "no modelled function or parameter of that name "
                                                  "(`vnetsim funcs` lists them)");
        if (v->kind != VNS_YSCALAR || strlen(v->scalar) >= sizeof(buf))
            return vns_yerr(&cp, v, c->keys[i], "expected a cost such as 120, 1.5us or 20/50 (ns/ps per byte)");
        strcpy(buf, v->scalar);
        e->byte_ps = -1;
        slash = strchr(buf, '/');
        if (slash) {
            *slash = '\0';
            if (vns_parse_u64(slash + 1, &ps) < 0 || ps > 1000000000)
                return vns_yerr(&cp, v, c->keys[i], "'%s': expected picoseconds per byte after '/'", v->scalar);
            e->byte_ps = (int64_t)ps;
        }
        if (vns_parse_time(buf, &ns) < 0 || ns > 1000000000)
            return vns_yerr(&cp, v, c->keys[i], "expected a cost such as 120, 1.5us or 20/50, got '%s'",
                            v->scalar);
        snprintf(e->func, sizeof(e->func), "%s", c->keys[i]);
        e->call_ns = ns;
        sc->ncosts++;
    }
    return 0;
}

static int read_remotes(const struct vns_ypath *p, const struct vns_ynode *root, struct vns_scenario *sc)
{
    static const char *const keys[] = {"name", "cpus", "addr", NULL};
    const struct vns_ynode *seq;
    struct vns_ypath sp;
    int err = read_seq(p, root, "remotes", &seq);

    if (err || !seq)
        return err;
    vns_ypath_key(&sp, p, "remotes");
    sc->remotes = vns_calloc(seq->n ? seq->n : 1, sizeof(*sc->remotes));
    if (!sc->remotes)
        return vns_yerr(p, seq, "remotes", "out of memory");
    for (size_t i = 0; i < seq->n; i++) {
        const struct vns_ynode *m = seq->items[i];
        struct vns_sc_remote *r = &sc->remotes[i];
        struct vns_ypath ip;

        vns_ypath_index(&ip, &sp, i);
        r->cpus = 2;
        r->line = m->line;
        if ((err = vns_ycheck_map(&ip, m, keys)) || (err = read_name(&ip, m, "name", r->name, true)) ||
            (err = read_u32(&ip, m, "cpus", 1, VNS_SC_MAX_CPUS, &r->cpus)) ||
            (err = read_addr(&ip, m, "addr", &r->addr)))
            return err;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(sc->remotes[j].name, r->name) || !strcmp(r->name, "host"))
                return vns_yerr(&ip, vns_ymap_get(m, "name"), "name", "'%s' is already the name of %s", r->name,
                                strcmp(r->name, "host") ? "another remote" : "the host");
        sc->nremotes++;
    }
    return 0;
}

/* gilbert: {p, r, loss_bad, loss_good}: the Gilbert-Elliott loss model. */
static int read_gilbert(const struct vns_ypath *p, const struct vns_ynode *m, struct vns_sc_device *d)
{
    static const char *const keys[] = {"p", "r", "loss_bad", "loss_good", NULL};
    const struct vns_ynode *g = vns_ymap_get(m, "gilbert");
    struct vns_ypath gp;
    int err;

    if (!g)
        return 0;
    vns_ypath_key(&gp, p, "gilbert");
    d->ge_loss_bad = 1.0;
    if ((err = vns_ycheck_map(&gp, g, keys)))
        return err;
    if (!vns_ymap_get(g, "p") || !vns_ymap_get(g, "r"))
        return vns_yerr(&gp, g, vns_ymap_get(g, "p") ? "r" : "p",
                        "required key is missing (p: good->bad and r: bad->good probabilities per frame)");
    if ((err = read_prob(&gp, g, "p", &d->ge_p)) || (err = read_prob(&gp, g, "r", &d->ge_r)) ||
        (err = read_prob(&gp, g, "loss_bad", &d->ge_loss_bad)) ||
        (err = read_prob(&gp, g, "loss_good", &d->ge_loss_good)))
        return err;
    if (d->ge_p > 0 && d->ge_r == 0)
        return vns_yerr(&gp, vns_ymap_get(g, "r"), "r", "must be above 0 (the bad state would never end)");
    return 0;
}

static int read_devices(const struct vns_ypath *hp, const struct vns_ynode *host, struct vns_scenario *sc)
{
    static const char *const keys[] = {
        "name",       "type",        "addr",          "master",  "lower",    "mode",   "mtu",
        "txqueuelen", "ageing_time", "peer",          "rate",    "delay",    "loss",   "duplicate",
        "reorder",    "corrupt",     "reorder_delay", "gilbert", "offloads", "rx_all", NULL};
    const struct vns_ynode *seq;
    struct vns_ypath sp;
    int err = read_seq(hp, host, "devices", &seq);

    if (err || !seq)
        return err;
    vns_ypath_key(&sp, hp, "devices");
    sc->devices = vns_calloc(seq->n ? seq->n : 1, sizeof(*sc->devices));
    if (!sc->devices)
        return vns_yerr(hp, seq, "devices", "out of memory");
    /* Pass 1: each device on its own. */
    for (size_t i = 0; i < seq->n; i++) {
        const struct vns_ynode *m = seq->items[i];
        struct vns_sc_device *d = &sc->devices[i];
        struct vns_ypath ip;
        int type = -1, mode = 0;

        vns_ypath_index(&ip, &sp, i);
        d->line = m->line;
        d->offloads = true;
        if ((err = vns_ycheck_map(&ip, m, keys)) || (err = read_name(&ip, m, "name", d->name, true)) ||
            (err = vns_yget_bool(&ip, m, "offloads", &d->offloads)))
            return err;
        if (!vns_ymap_get(m, "type"))
            return vns_yerr(&ip, m, "type", "required key is missing (bridge, tap, macvlan, macvtap or wire)");
        if ((err = vns_yget_enum(&ip, m, "type", vns__sc_dev_types, &type)) ||
            (err = vns_yget_enum(&ip, m, "mode", vns__sc_macvlan_modes, &mode)) ||
            (err = read_addr(&ip, m, "addr", &d->addr)) || (err = read_name(&ip, m, "master", d->master, false)) ||
            (err = read_name(&ip, m, "lower", d->lower, false)) ||
            (err = read_name(&ip, m, "peer", d->peer, false)) ||
            (err = read_u32(&ip, m, "mtu", 68, 65535, &d->mtu)) ||
            (err = read_u32(&ip, m, "txqueuelen", 0, 1000000, &d->txqueuelen)) ||
            (err = vns_yget_time(&ip, m, "ageing_time", &d->ageing_time)) ||
            (err = vns_yget_rate(&ip, m, "rate", &d->rate_bps)) || (err = vns_yget_time(&ip, m, "delay", &d->delay)) ||
            (err = read_prob(&ip, m, "loss", &d->loss)) || (err = read_prob(&ip, m, "duplicate", &d->duplicate)) ||
            (err = read_prob(&ip, m, "reorder", &d->reorder)) || (err = read_prob(&ip, m, "corrupt", &d->corrupt)) ||
            (err = vns_yget_time(&ip, m, "reorder_delay", &d->reorder_delay)) || (err = read_gilbert(&ip, m, d)))
            return err;
        if ((err = vns_yget_bool(&ip, m, "rx_all", &d->rx_all)))
            return err;
        d->type = (enum vns_sc_dev_type)type;
        if (d->type != VNS_SC_DEV_WIRE) {
            static const char *const wire_only[] = {
                "rate",    "delay",         "loss",    "duplicate", "reorder",
                "corrupt", "reorder_delay", "gilbert", "rx_all",    NULL};

            for (int k = 0; wire_only[k]; k++)
                if (vns_ymap_get(m, wire_only[k]))
                    return vns_yerr(&ip, vns_ymap_get(m, wire_only[k]), wire_only[k],
                                    "only a wire has this key (this device is a %s)", vns__sc_dev_types[type]);
        }
        d->mode = (enum vns_sc_macvlan_mode)mode;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(sc->devices[j].name, d->name))
                return vns_yerr(&ip, vns_ymap_get(m, "name"), "name",
                                "two devices are called '%s' (the other is on line %u)", d->name,
                                sc->devices[j].line);
        sc->ndevices++;
    }
    /* Pass 2: references between devices, and to remotes. */
    for (size_t i = 0; i < seq->n; i++) {
        const struct vns_ynode *m = seq->items[i];
        const struct vns_sc_device *d = &sc->devices[i], *o;
        struct vns_ypath ip;

        vns_ypath_index(&ip, &sp, i);
        if (d->master[0]) {
            o = find_dev(sc, d->master);
            if (!o)
                return vns_yerr(&ip, vns_ymap_get(m, "master"), "master", "no device '%s' on the host", d->master);
            if (o->type != VNS_SC_DEV_BRIDGE)
                return vns_yerr(&ip, vns_ymap_get(m, "master"), "master", "'%s' is a %s, not a bridge", d->master,
                                vns__sc_dev_types[o->type]);
            if (d->type == VNS_SC_DEV_BRIDGE)
                return vns_yerr(&ip, vns_ymap_get(m, "master"), "master", "a bridge cannot be a bridge port here");
        }
        if (d->type == VNS_SC_DEV_MACVLAN || d->type == VNS_SC_DEV_MACVTAP) {
            if (!d->lower[0])
                return vns_yerr(&ip, m, "lower", "required for a %s (the device it sits on)", vns__sc_dev_types[d->type]);
            o = find_dev(sc, d->lower);
            if (!o)
                return vns_yerr(&ip, vns_ymap_get(m, "lower"), "lower", "no device '%s' on the host", d->lower);
            if (o->type == VNS_SC_DEV_MACVLAN || o->type == VNS_SC_DEV_MACVTAP || o->type == VNS_SC_DEV_TAP)
                return vns_yerr(&ip, vns_ymap_get(m, "lower"), "lower", "a %s cannot sit on a %s",
                                vns__sc_dev_types[d->type], vns__sc_dev_types[o->type]);
        } else if (d->lower[0]) {
            return vns_yerr(&ip, vns_ymap_get(m, "lower"), "lower", "only a macvlan or macvtap has a lower device");
        }
        if (d->type == VNS_SC_DEV_WIRE) {
            bool found = false;

            if (!d->peer[0])
                return vns_yerr(&ip, m, "peer", "required for a wire (the remote host at its other end)");
            for (size_t r = 0; r < sc->nremotes; r++)
                found |= !strcmp(sc->remotes[r].name, d->peer);
            if (!found)
                return vns_yerr(&ip, vns_ymap_get(m, "peer"), "peer", "no remote host '%s' (declare it under remotes:)",
                                d->peer);
        } else if (d->peer[0]) {
            return vns_yerr(&ip, vns_ymap_get(m, "peer"), "peer", "only a wire has a peer");
        }
    }
    return 0;
}

static int read_nic(const struct vns_ypath *gp, const struct vns_ynode *g, struct vns_scenario *sc,
                    struct vns_sc_guest *guest, size_t gi)
{
    static const char *const keys[] = {"backend", "ring", "ring_size", "queues", "features", "vhost", "napi_tx",
                                       "offloads", NULL};
    static const char *const vhost_keys[] = {"pin", NULL};
    const struct vns_ynode *m = vns_ymap_get(g, "nic"), *f, *v;
    struct vns_sc_nic *nic = &guest->nic;
    struct vns_ypath np;
    const struct vns_sc_device *be;
    int ring = 0, err;

    nic->ring_size = 256;
    nic->queues = 1;
    nic->features = DEFAULT_FEATURES;
    nic->vhost_pin = -1;
    nic->napi_tx = true;
    nic->offloads = true;
    if (!m)
        return vns_yerr(gp, g, "nic", "required key is missing (at least {backend: <tap or macvtap>})");
    vns_ypath_key(&np, gp, "nic");
    if ((err = vns_ycheck_map(&np, m, keys)) || (err = read_name(&np, m, "backend", nic->backend, true)) ||
        (err = vns_yget_bool(&np, m, "offloads", &nic->offloads)) ||
        (err = vns_yget_enum(&np, m, "ring", vns__sc_rings, &ring)) ||
        (err = read_u32(&np, m, "ring_size", 1, 32768, &nic->ring_size)) ||
        (err = read_u32(&np, m, "queues", 1, VNS_SC_MAX_CPUS, &nic->queues)) ||
        (err = vns_yget_bool(&np, m, "napi_tx", &nic->napi_tx)))
        return err;
    nic->packed = ring == 1;
    if (!nic->packed && (nic->ring_size & (nic->ring_size - 1)))
        return vns_yerr(&np, vns_ymap_get(m, "ring_size"), "ring_size",
                        "a split ring's size must be a power of two (1 to 32768), got %u", nic->ring_size);
    be = find_dev(sc, nic->backend);
    if (!be)
        return vns_yerr(&np, vns_ymap_get(m, "backend"), "backend", "no device '%s' on the host", nic->backend);
    if (be->type != VNS_SC_DEV_TAP && be->type != VNS_SC_DEV_MACVTAP)
        return vns_yerr(&np, vns_ymap_get(m, "backend"), "backend", "'%s' is a %s; a NIC backend is a tap or a macvtap",
                        nic->backend, vns__sc_dev_types[be->type]);
    for (size_t j = 0; j < gi; j++)
        if (!strcmp(sc->guests[j].nic.backend, nic->backend))
            return vns_yerr(&np, vns_ymap_get(m, "backend"), "backend", "'%s' is already the backend of guest '%s'",
                            nic->backend, sc->guests[j].name);
    f = vns_ymap_get(m, "features");
    if (f) {
        if (f->kind != VNS_YSEQ)
            return vns_yerr(&np, f, "features", "expected a list of feature names");
        nic->features = 0;
        nic->features_set = true;
        for (size_t i = 0; i < f->n; i++) {
            int k = -1;

            for (int j = 0; vns__sc_features[j]; j++)
                if (f->items[i]->kind == VNS_YSCALAR && !strcmp(f->items[i]->scalar, vns__sc_features[j]))
                    k = j;
            if (k < 0) {
                struct vns_ypath fp;

                vns_ypath_key(&fp, &np, "features");
                vns_ypath_index(&fp, &fp, i);
                return vns_yerr(&fp, f->items[i], NULL, "unknown feature '%s' (known: csum, guest_csum, tso4, "
                                "guest_tso4, mrg_rxbuf, event_idx, indirect_desc, mq, version_1, notify_on_empty)",
                                f->items[i]->kind == VNS_YSCALAR ? f->items[i]->scalar : "?");
            }
            nic->features |= 1u << k;
        }
    }
    if (nic->queues > 1 && !(nic->features & (1u << VNS_SC_F_MQ))) {
        if (nic->features_set)
            return vns_yerr(&np, vns_ymap_get(m, "queues"), "queues", "%u queue pairs need the mq feature",
                            nic->queues);
        nic->features |= 1u << VNS_SC_F_MQ;
    }
    if (nic->queues > guest->nvcpus)
        return vns_yerr(&np, vns_ymap_get(m, "queues"), "queues",
                        "%u queue pairs for %u vCPUs (virtio-net uses at most one pair per vCPU)", nic->queues,
                        guest->nvcpus);
    v = vns_ymap_get(m, "vhost");
    if (v) {
        struct vns_ypath vp;
        uint64_t pin = 0;

        vns_ypath_key(&vp, &np, "vhost");
        if ((err = vns_ycheck_map(&vp, v, vhost_keys)) ||
            (err = vns_yget_u64(&vp, v, "pin", 0, sc->host_cpus - 1, &pin)))
            return err;
        nic->vhost_pin = vns_ymap_get(v, "pin") ? (int)pin : -1;
    }
    return 0;
}

static int read_guests(const struct vns_ypath *p, const struct vns_ynode *root, struct vns_scenario *sc)
{
    static const char *const keys[] = {"name", "vcpus", "memory", "addr", "nic", NULL};
    const struct vns_ynode *seq;
    struct vns_ypath sp;
    int err = read_seq(p, root, "guests", &seq);

    if (err || !seq)
        return err;
    vns_ypath_key(&sp, p, "guests");
    sc->guests = vns_calloc(seq->n ? seq->n : 1, sizeof(*sc->guests));
    if (!sc->guests)
        return vns_yerr(p, seq, "guests", "out of memory");
    for (size_t i = 0; i < seq->n; i++) {
        const struct vns_ynode *m = seq->items[i], *vc;
        struct vns_sc_guest *g = &sc->guests[i];
        struct vns_ypath ip;

        vns_ypath_index(&ip, &sp, i);
        g->line = m->line;
        g->memory = 512ull << 20;
        if ((err = vns_ycheck_map(&ip, m, keys)) || (err = read_name(&ip, m, "name", g->name, true)) ||
            (err = vns_yget_size(&ip, m, "memory", &g->memory)) || (err = read_addr(&ip, m, "addr", &g->addr)))
            return err;
        if (endpoint_exists(sc, g->name))
            return vns_yerr(&ip, vns_ymap_get(m, "name"), "name", "'%s' is already the name of the host, a remote "
                            "or another guest", g->name);
        if (g->memory < (16ull << 20) || g->memory > (1ull << 40))
            return vns_yerr(&ip, vns_ymap_get(m, "memory"), "memory", "expected 16MiB to 1TiB");
        vc = vns_ymap_get(m, "vcpus");
        if (!vc || vc->kind == VNS_YSCALAR) {
            uint32_t n = 1;

            if ((err = read_u32(&ip, m, "vcpus", 1, VNS_SC_MAX_CPUS, &n)))
                return err;
            g->nvcpus = n;
            for (uint32_t c = 0; c < n; c++)
                g->vcpu_pin[c] = (int)(c % sc->host_cpus);
        } else if (vc->kind == VNS_YSEQ && vc->n >= 1 && vc->n <= VNS_SC_MAX_CPUS) {
            struct vns_ypath vp;
            static const char *const vkeys[] = {"pin", NULL};

            vns_ypath_key(&vp, &ip, "vcpus");
            for (size_t c = 0; c < vc->n; c++) {
                struct vns_ypath cp;
                uint64_t pin = c % sc->host_cpus;

                vns_ypath_index(&cp, &vp, c);
                if ((err = vns_ycheck_map(&cp, vc->items[c], vkeys)) ||
                    (err = vns_yget_u64(&cp, vc->items[c], "pin", 0, sc->host_cpus - 1, &pin)))
                    return err;
                g->vcpu_pin[c] = (int)pin;
            }
            g->nvcpus = (uint32_t)vc->n;
        } else {
            return vns_yerr(&ip, vc, "vcpus", "expected a count or a list such as [{pin: 0}, {pin: 1}]");
        }
        sc->nguests++;   /* visible to read_nic's duplicate-backend check */
        if ((err = read_nic(&ip, m, sc, g, i)))
            return err;
    }
    return 0;
}

static int read_workloads(const struct vns_ypath *p, const struct vns_ynode *root, struct vns_scenario *sc)
{
    static const char *const keys[] = {"type", "from", "to", "start", "duration", "write_size", "request_size",
                                       "response_size", "rate", "sndbuf", "rcvbuf", "syscall", "flows", "from_cpu", "to_cpu",
                                       "interval", "size", "count", "timeout", NULL};
    const struct vns_ynode *seq;
    struct vns_ypath sp;
    int err = read_seq(p, root, "workloads", &seq);

    if (err || !seq)
        return err;
    vns_ypath_key(&sp, p, "workloads");
    sc->workloads = vns_calloc(seq->n ? seq->n : 1, sizeof(*sc->workloads));
    if (!sc->workloads)
        return vns_yerr(p, seq, "workloads", "out of memory");
    for (size_t i = 0; i < seq->n; i++) {
        const struct vns_ynode *m = seq->items[i];
        struct vns_sc_workload *w = &sc->workloads[i];
        struct vns_ypath ip;
        int type = -1, sys = 0;

        vns_ypath_index(&ip, &sp, i);
        w->line = m->line;
        w->write_size = 64 * 1024;
        w->request_size = w->response_size = 1;
        w->flows = 1;
        w->interval = VNS_SEC(1);
        w->size = 56;
        w->timeout = VNS_MSEC(10);
        if ((err = vns_ycheck_map(&ip, m, keys)))
            return err;
        if (!vns_ymap_get(m, "type"))
            return vns_yerr(&ip, m, "type", "required key is missing (tcp_stream, tcp_maerts, tcp_rr, udp_rr, "
                                            "udp_stream or ping)");
        if ((err = vns_yget_enum(&ip, m, "type", vns__sc_workload_types, &type)) ||
            (err = read_name(&ip, m, "from", w->from, true)) || (err = read_name(&ip, m, "to", w->to, true)) ||
            (err = vns_yget_time(&ip, m, "start", &w->start)) ||
            (err = vns_yget_time(&ip, m, "duration", &w->duration)) ||
            (err = vns_yget_size(&ip, m, "write_size", &w->write_size)) ||
            (err = vns_yget_size(&ip, m, "request_size", &w->request_size)) ||
            (err = vns_yget_size(&ip, m, "response_size", &w->response_size)) ||
            (err = vns_yget_rate(&ip, m, "rate", &w->rate_bps)) || (err = vns_yget_size(&ip, m, "sndbuf", &w->sndbuf)) ||
            (err = vns_yget_size(&ip, m, "rcvbuf", &w->rcvbuf)) ||
            (err = vns_yget_enum(&ip, m, "syscall", vns__sc_syscalls, &sys)) ||
            (err = read_u32(&ip, m, "flows", 1, 1024, &w->flows)) ||
            (err = read_u32(&ip, m, "from_cpu", 0, 1023, &w->from_cpu)) ||
            (err = read_u32(&ip, m, "to_cpu", 0, 1023, &w->to_cpu)) ||
            (err = vns_yget_time(&ip, m, "interval", &w->interval)) ||
            (err = vns_yget_size(&ip, m, "size", &w->size)) || (err = vns_yget_u64(&ip, m, "count", 0, UINT32_MAX, &w->count)) ||
            (err = vns_yget_time(&ip, m, "timeout", &w->timeout)))
            return err;
        w->type = (enum vns_sc_workload_type)type;
        if (w->type == VNS_SC_UDP_STREAM && !vns_ymap_get(m, "write_size"))
            w->write_size = 1472;   /* one datagram fills a 1500-byte MTU */
        if (w->type == VNS_SC_UDP_STREAM && w->write_size > 65507)
            return vns_yerr(&ip, vns_ymap_get(m, "write_size"), "write_size", "a datagram holds 1 to 65507 bytes");
        if ((w->type == VNS_SC_UDP_RR || w->type == VNS_SC_TCP_RR) &&
            (!w->request_size || !w->response_size ||
             (w->type == VNS_SC_UDP_RR && (w->request_size > 65507 || w->response_size > 65507))))
            return vns_yerr(&ip, vns_ymap_get(m, vns_ymap_get(m, "request_size") ? "request_size" : "response_size"),
                            "request_size", "expected 1 byte to %s", w->type == VNS_SC_UDP_RR ? "65507" : "64MiB");
        if (w->size > 65507)
            return vns_yerr(&ip, vns_ymap_get(m, "size"), "size", "an echo request holds 0 to 65507 bytes");
        if (w->type == VNS_SC_PING && !w->interval)
            return vns_yerr(&ip, vns_ymap_get(m, "interval"), "interval", "expected a time above 0");
        if (w->type == VNS_SC_UDP_RR && !w->timeout)
            return vns_yerr(&ip, vns_ymap_get(m, "timeout"), "timeout", "expected a time above 0");
        w->syscall = (enum vns_sc_syscall)sys;
        if (!endpoint_exists(sc, w->from))
            return vns_yerr(&ip, vns_ymap_get(m, "from"), "from", "no endpoint '%s' (host, a guest or a remote)", w->from);
        if (!endpoint_exists(sc, w->to))
            return vns_yerr(&ip, vns_ymap_get(m, "to"), "to", "no endpoint '%s' (host, a guest or a remote)", w->to);
        if (!strcmp(w->from, w->to))
            return vns_yerr(&ip, vns_ymap_get(m, "to"), "to", "a workload needs two different endpoints");
        if (w->from_cpu >= endpoint_cpus(sc, w->from))
            return vns_yerr(&ip, vns_ymap_get(m, "from_cpu"), "from_cpu", "'%s' has CPUs 0 to %u, not %u", w->from,
                            endpoint_cpus(sc, w->from) - 1, w->from_cpu);
        if (w->to_cpu >= endpoint_cpus(sc, w->to))
            return vns_yerr(&ip, vns_ymap_get(m, "to_cpu"), "to_cpu", "'%s' has CPUs 0 to %u, not %u", w->to,
                            endpoint_cpus(sc, w->to) - 1, w->to_cpu);
        if (w->write_size == 0 || w->write_size > (64ull << 20))
            return vns_yerr(&ip, vns_ymap_get(m, "write_size"), "write_size", "expected 1 byte to 64MiB");
        if (w->start >= sc->duration)
            return vns_yerr(&ip, vns_ymap_get(m, "start"), "start", "starts after the end of the run (duration)");
        sc->nworkloads++;
    }
    return 0;
}

static int read_probes(const struct vns_ypath *p, const struct vns_ynode *root, struct vns_scenario *sc)
{
    const struct vns_ynode *seq;
    int err = read_seq(p, root, "probes", &seq);
    struct vns_ypath sp;

    if (err || !seq)
        return err;
    vns_ypath_key(&sp, p, "probes");
    sc->probes = vns_calloc(seq->n ? seq->n : 1, sizeof(*sc->probes));
    if (!sc->probes)
        return vns_yerr(p, seq, "probes", "out of memory");
    for (size_t i = 0; i < seq->n; i++) {
        const struct vns_ynode *n = seq->items[i];
        struct vns_ypath ip;
        int f;

        vns_ypath_index(&ip, &sp, i);
        if (n->kind != VNS_YSCALAR || strlen(n->scalar) >= 64)
            return vns_yerr(&ip, n, NULL, "expected a function name");
        f = vns_func_lookup(n->scalar);
        if (f < 0 || vns_func_is_param(f))
            return vns_yerr(&ip, n, NULL, "no modelled function '%s' (`vnetsim funcs` lists them)", n->scalar);
        strcpy(sc->probes[sc->nprobes++], n->scalar);
    }
    return 0;
}

static const struct vns_sc_guest *find_guest(const struct vns_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->nguests; i++)
        if (!strcmp(sc->guests[i].name, name))
            return &sc->guests[i];
    return NULL;
}

/* hostile: queue "rxN" or "txN" of the guest's NIC -> virtqueue index. */
static int read_queue(const struct vns_ypath *p, const struct vns_ynode *m, const struct vns_sc_guest *g,
                      uint32_t *out)
{
    const struct vns_ynode *n = vns_ymap_get(m, "queue");
    unsigned q;
    char dir[3], extra;

    if (!n)
        return vns_yerr(p, m, "queue", "required key is missing (rx0, tx0, rx1, ...)");
    if (n->kind != VNS_YSCALAR || sscanf(n->scalar, "%2[rtx]%u%c", dir, &q, &extra) != 2 ||
        (strcmp(dir, "rx") && strcmp(dir, "tx")))
        return vns_yerr(p, n, "queue", "expected a queue such as tx0 or rx1, got '%s'",
                        n->kind == VNS_YSCALAR ? n->scalar : "a collection");
    if (q >= g->nic.queues)
        return vns_yerr(p, n, "queue", "guest '%s' has %u queue pair%s (%s0..%s%u)", g->name, g->nic.queues,
                        g->nic.queues > 1 ? "s" : "", dir, dir, g->nic.queues - 1);
    *out = 2 * q + (dir[0] == 't');
    return 0;
}

static int read_faults(const struct vns_ypath *p, const struct vns_ynode *root, struct vns_scenario *sc)
{
    static const char *const keys[] = {"type",  "target", "at",   "duration", "kind", "queue",
                                       "cpu",   "slice",  "rate", "size",     NULL};
    const struct vns_ynode *seq;
    struct vns_ypath sp;
    int err = read_seq(p, root, "faults", &seq);

    if (err || !seq)
        return err;
    vns_ypath_key(&sp, p, "faults");
    sc->faults = vns_calloc(seq->n ? seq->n : 1, sizeof(*sc->faults));
    if (!sc->faults)
        return vns_yerr(p, seq, "faults", "out of memory");
    for (size_t i = 0; i < seq->n; i++) {
        const struct vns_ynode *m = seq->items[i], *k;
        struct vns_sc_fault *f = &sc->faults[i];
        const struct vns_sc_guest *g = NULL;
        struct vns_ypath ip;
        int type = -1;
        uint64_t cpu = 0;

        vns_ypath_index(&ip, &sp, i);
        f->line = m->line;
        f->slice = VNS_USEC(100);
        f->rate_bps = 1000000000ull;
        f->size = 1514;
        if ((err = vns_ycheck_map(&ip, m, keys)))
            return err;
        if (!vns_ymap_get(m, "type"))
            return vns_yerr(&ip, m, "type", "required key is missing (link_down, hostile, rx_oom, rx_stop, "
                                            "cpu_hog or flood)");
        if ((err = vns_yget_enum(&ip, m, "type", vns__sc_fault_types, &type)) ||
            (err = vns_yget_time(&ip, m, "at", &f->at)) || (err = vns_yget_time(&ip, m, "duration", &f->duration)) ||
            (err = vns_yget_time(&ip, m, "slice", &f->slice)) || (err = vns_yget_rate(&ip, m, "rate", &f->rate_bps)) ||
            (err = vns_yget_size(&ip, m, "size", &f->size)))
            return err;
        f->type = (enum vns_sc_fault_type)type;
        if (f->type != VNS_SC_FAULT_FLOOD && (vns_ymap_get(m, "rate") || vns_ymap_get(m, "size")))
            return vns_yerr(&ip, vns_ymap_get(m, vns_ymap_get(m, "rate") ? "rate" : "size"),
                            vns_ymap_get(m, "rate") ? "rate" : "size", "only a flood has this key");
        if (f->type == VNS_SC_FAULT_FLOOD && (f->size < 60 || f->size > 9014))
            return vns_yerr(&ip, vns_ymap_get(m, "size"), "size", "expected a frame of 60 to 9014 bytes");
        if (f->type == VNS_SC_FAULT_FLOOD && f->rate_bps == 0)
            return vns_yerr(&ip, vns_ymap_get(m, "rate"), "rate", "must be above 0");
        if (f->at >= sc->duration)
            return vns_yerr(&ip, vns_ymap_get(m, "at"), "at", "starts after the end of the run (duration)");
        if (f->type == VNS_SC_FAULT_CPU_HOG) {
            if (vns_ymap_get(m, "target"))
                return vns_yerr(&ip, vns_ymap_get(m, "target"), "target", "a cpu_hog names a host cpu:, not a target");
            if (!vns_ymap_get(m, "cpu"))
                return vns_yerr(&ip, m, "cpu", "required key is missing (the host CPU the busy thread runs on)");
            if ((err = vns_yget_u64(&ip, m, "cpu", 0, sc->host_cpus - 1, &cpu)))
                return err;
            f->cpu = (uint32_t)cpu;
            if (f->slice < VNS_USEC(1) || f->slice > VNS_MSEC(100))
                return vns_yerr(&ip, vns_ymap_get(m, "slice"), "slice", "expected 1us to 100ms");
        } else {
            if (vns_ymap_get(m, "cpu") || vns_ymap_get(m, "slice"))
                return vns_yerr(&ip, vns_ymap_get(m, vns_ymap_get(m, "cpu") ? "cpu" : "slice"),
                                vns_ymap_get(m, "cpu") ? "cpu" : "slice", "only a cpu_hog has this key");
            if ((err = read_name(&ip, m, "target", f->target, true)))
                return err;
        }
        if (f->type == VNS_SC_FAULT_LINK_DOWN) {
            const struct vns_sc_device *d = find_dev(sc, f->target);

            if (!d || d->type != VNS_SC_DEV_WIRE)
                return vns_yerr(&ip, vns_ymap_get(m, "target"), "target", "%s'%s' is not a wire of the host",
                                d ? "" : "no device ", f->target);
        } else if (f->type != VNS_SC_FAULT_CPU_HOG) {
            g = find_guest(sc, f->target);
            if (!g)
                return vns_yerr(&ip, vns_ymap_get(m, "target"), "target", "no guest '%s'", f->target);
        }
        k = vns_ymap_get(m, "kind");
        if (f->type == VNS_SC_FAULT_HOSTILE) {
            if (!k)
                return vns_yerr(&ip, m, "kind", "required key is missing (bad_head, avail_jump, desc_loop, "
                                                "nested_indirect, bad_indirect_len, out_of_range, out_after_in, "
                                                "packed_bad_id)");
            if (k->kind != VNS_YSCALAR || (f->hostile = vns_hostile_lookup(k->scalar)) < 0)
                return vns_yerr(&ip, k, "kind", "unknown kind '%s' (bad_head, avail_jump, desc_loop, "
                                "nested_indirect, bad_indirect_len, out_of_range, out_after_in, packed_bad_id)",
                                k->kind == VNS_YSCALAR ? k->scalar : "?");
            if ((err = read_queue(&ip, m, g, &f->queue)))
                return err;
            if (f->hostile == VNS_HOSTILE_PACKED_BAD_ID && !g->nic.packed)
                return vns_yerr(&ip, k, "kind", "packed_bad_id needs a packed ring (guest '%s' has a split one)",
                                g->name);
            if (g->nic.packed && (f->hostile == VNS_HOSTILE_BAD_HEAD || f->hostile == VNS_HOSTILE_AVAIL_JUMP ||
                                  f->hostile == VNS_HOSTILE_DESC_LOOP))
                return vns_yerr(&ip, k, "kind", "%s is a split-ring corruption (guest '%s' has a packed ring)",
                                k->scalar, g->name);
            if (vns_ymap_get(m, "duration"))
                return vns_yerr(&ip, vns_ymap_get(m, "duration"), "duration",
                                "a hostile write happens once (a broken queue stays broken)");
        } else if (k || vns_ymap_get(m, "queue")) {
            return vns_yerr(&ip, k ? k : vns_ymap_get(m, "queue"), k ? "kind" : "queue",
                            "only a hostile fault has this key");
        }
        sc->nfaults++;
    }
    return 0;
}

static int read_limits(const struct vns_ypath *p, const struct vns_ynode *root, struct vns_scenario *sc)
{
    static const char *const keys[] = {"max_events", "max_time", "max_memory", NULL};
    const struct vns_ynode *m = vns_ymap_get(root, "limits");
    struct vns_ypath lp;
    int err;

    if (!m)
        return 0;
    vns_ypath_key(&lp, p, "limits");
    if ((err = vns_ycheck_map(&lp, m, keys)) ||
        (err = vns_yget_u64(&lp, m, "max_events", 1, UINT64_MAX, &sc->limits.max_events)) ||
        (err = vns_yget_time(&lp, m, "max_time", &sc->limits.max_time)) ||
        (err = vns_yget_size(&lp, m, "max_memory", &sc->limits.max_memory)))
        return err;
    if (vns_ymap_get(m, "max_time") && sc->limits.max_time == 0)
        return vns_yerr(&lp, vns_ymap_get(m, "max_time"), "max_time", "must be longer than 0");
    if (vns_ymap_get(m, "max_memory") && sc->limits.max_memory < (1u << 20))
        return vns_yerr(&lp, vns_ymap_get(m, "max_memory"), "max_memory", "expected at least 1MiB");
    return 0;
}

static int read_outputs(const struct vns_ypath *p, const struct vns_ynode *root, struct vns_scenario *sc)
{
    static const char *const keys[] = {"stacks", "folded", "stats_json", "pcap", "timeline", "series", NULL};
    const struct vns_ynode *m = vns_ymap_get(root, "outputs");
    char *dst[] = {sc->outputs.stacks, sc->outputs.folded, sc->outputs.stats_json, sc->outputs.pcap,
                   sc->outputs.timeline, sc->outputs.series};
    struct vns_ypath op;
    int err;

    if (!m)
        return 0;
    vns_ypath_key(&op, p, "outputs");
    if ((err = vns_ycheck_map(&op, m, keys)))
        return err;
    for (int i = 0; keys[i]; i++) {
        const char *s = NULL;

        if ((err = vns_yget_str(&op, m, keys[i], &s)))
            return err;
        if (s && strlen(s) >= 256)
            return vns_yerr(&op, vns_ymap_get(m, keys[i]), keys[i], "path longer than 255 characters");
        if (s)
            strcpy(dst[i], s);
    }
    return 0;
}

static int read_scenario(const struct vns_ydoc *doc, struct vns_scenario *sc, struct vns_diag *d)
{
    static const char *const top[] = {"profile", "seed", "duration", "payload", "cpu_mhz", "costs", "host",
                                      "guests", "remotes", "workloads", "probes", "outputs", "faults", "limits",
                                      NULL};
    static const char *const host_keys[] = {"cpus", "devices", NULL};
    struct vns_ypath p = {.doc = doc, .d = d, .path = ""}, hp;
    const struct vns_ynode *root = doc->root, *host;
    const char *profile = "linux-5.4";
    int payload = 0, err;

    snprintf(sc->file, sizeof(sc->file), "%s", doc->file);
    sc->seed = 1;
    sc->duration = VNS_SEC(1);
    sc->host_cpus = 4;
    if (!root) {
        strcpy(sc->profile, profile);
        return 0;
    }
    if ((err = vns_ycheck_map(&p, root, top)) || (err = vns_yget_str(&p, root, "profile", &profile)) ||
        (err = vns_yget_u64(&p, root, "seed", 0, UINT64_MAX, &sc->seed)) ||
        (err = vns_yget_time(&p, root, "duration", &sc->duration)) ||
        (err = vns_yget_enum(&p, root, "payload", vns__sc_payloads, &payload)) ||
        (err = read_u32(&p, root, "cpu_mhz", 100, 10000, &sc->cpu_mhz)))
        return err;
    if (!vns_profile_find(profile))
        return vns_yerr(&p, vns_ymap_get(root, "profile"), "profile",
                        "no kernel profile '%s' (known: linux-5.4, linux-6.6)", profile);
    snprintf(sc->profile, sizeof(sc->profile), "%s", profile);
    if (sc->duration == 0)
        return vns_yerr(&p, vns_ymap_get(root, "duration"), "duration", "must be longer than 0");
    sc->payload = (enum vns_sc_payload)payload;
    if ((err = read_costs(&p, root, sc)) || (err = read_remotes(&p, root, sc)))
        return err;
    host = vns_ymap_get(root, "host");
    vns_ypath_key(&hp, &p, "host");
    if (host) {
        if ((err = vns_ycheck_map(&hp, host, host_keys)) ||
            (err = read_u32(&hp, host, "cpus", 1, VNS_SC_MAX_CPUS, &sc->host_cpus)) ||
            (err = read_devices(&hp, host, sc)))
            return err;
    }
    if ((err = read_guests(&p, root, sc)) || (err = read_workloads(&p, root, sc)) ||
        (err = read_probes(&p, root, sc)) || (err = read_outputs(&p, root, sc)) ||
        (err = read_faults(&p, root, sc)) || (err = read_limits(&p, root, sc)))
        return err;
    return 0;
}

static int scenario_from_doc(struct vns_ydoc *doc, const char *const *sets, size_t nsets,
                             struct vns_scenario **out, struct vns_diag *d)
{
    struct vns_scenario *sc;
    int err = 0;

    for (size_t i = 0; i < nsets && !err; i++)
        err = vns_ydoc_set(doc, sets[i], d);
    if (err)
        return err;
    sc = vns_calloc(1, sizeof(*sc));
    if (!sc)
        return vns_diag_set(d, -VNS_ENOMEM, doc->file, 0, 0, "out of memory");
    err = read_scenario(doc, sc, d);
    if (err) {
        vns_scenario_free(sc);
        return err;
    }
    *out = sc;
    return 0;
}

int vns_scenario_parse(const char *text, size_t len, const char *name, const char *const *sets, size_t nsets,
                       struct vns_scenario **out, struct vns_diag *d)
{
    struct vns_ydoc *doc;
    int err = vns_ydoc_parse(text, len, name, &doc, d);

    if (err)
        return err;
    err = scenario_from_doc(doc, sets, nsets, out, d);
    vns_ydoc_free(doc);
    return err;
}

int vns_scenario_load(const char *path, const char *const *sets, size_t nsets, struct vns_scenario **out,
                      struct vns_diag *d)
{
    struct vns_ydoc *doc;
    int err = vns_ydoc_load(path, &doc, d);

    if (err)
        return err;
    err = scenario_from_doc(doc, sets, nsets, out, d);
    vns_ydoc_free(doc);
    return err;
}

void vns_scenario_free(struct vns_scenario *sc)
{
    if (!sc)
        return;
    vns_free(sc->costs);
    vns_free(sc->devices);
    vns_free(sc->guests);
    vns_free(sc->remotes);
    vns_free(sc->workloads);
    vns_free(sc->probes);
    vns_free(sc->faults);
    vns_free(sc);
}
