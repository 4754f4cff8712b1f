/* lib/world/ledger.c -- the packet ledger of a run (docs/reliability.md).
 *
 * The unit is the skb of one machine: every skb a kernel allocates is
 * created there (a NIC's DMA into a new skb, vhost's or tun's copy of a
 * guest frame, a GSO segment, a clone), and ends with one fate: consumed
 * (delivered to a socket, a sink, or used up: a TX completion, a GSO or
 * GRO original), dropped with a reason, freed by the hardware (a frame
 * the NIC drops: lost, bad FCS, no RX descriptor), merged (a GRO frag_list
 * member, freed with its head), or still in flight at the end (in a ring,
 * a qdisc, a socket buffer, a timer's hands). Crossing a machine boundary
 * (a wire, the guest/host ring) is a fate on one side (consumed after the
 * copy: TX completion) and a creation on the other, so the books balance
 * per machine. Wires keep their own books per direction, in frames and
 * bytes: sent + duplicated = lost + link_down + rx_dropped + delivered +
 * on the line.
 *
 * The counters are the kernel's own (struct vns_kernel_stats: plain
 * increments on the hot path, no allocation). "In flight" is not taken on
 * trust: at the end the world is drained (every socket, device, ring and
 * queue released: what they hold is freed), and an skb still live after
 * that was held by nothing: a leak, and the books do not balance. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/devq.h"
#include "vnetsim/flow_book.h"
#include "vnetsim/vhost.h"
#include "vnetsim/vhost_net.h"
#include "vnetsim/virtio_net.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/skb.h"
#include "vnetsim/wire.h"
#include "world_int.h"

struct ledger_machine {
    const char *name;
    struct vns_kernel *k;
    uint64_t created, consumed, dropped, hw_freed, merged, in_flight, leaked;
};

struct ledger_wire {
    char from[32];
    uint64_t frames, duplicated, lost, link_down, rx_dropped, delivered, in_flight;
    uint64_t bytes, duplicated_bytes, lost_bytes, link_down_bytes, rx_dropped_bytes,
        delivered_bytes, in_flight_bytes;
};

/* A device's books at the end of the run (@at), and after the drain:
 * what it still holds then was released by nothing. */
struct ledger_dev {
    const char *machine;
    const struct vns_dev_book *live; /* the kernel's, read again after the drain */
    struct vns_dev_book at;          /* copy at the end of the run */
    uint64_t leaked, leaked_bytes;
};

/* A virtqueue's books at the end of the run (vns_vq_books). */
struct ledger_vq {
    char what[48]; /* "vm1 rx0" */
    struct vns_vq_books b;
};

/* A workload's byte stream: what the senders' system calls accepted, what
 * reached the receiving application, and how much of that was wrong. */
struct ledger_flow {
    char what[128];
    uint64_t sent, delivered, mismatches;
    bool stream; /* one way: what is delivered was sent (RR and ping count both ends their way) */
    /* packets of a one-way flow: UDP datagrams (a balance: sent =
     * delivered + dropped at the receiving socket + in flight or lost);
     * TCP segments (figures: retransmissions and resegmentation make
     * no packet balance, the byte books are the exact ones) */
    bool udp;
    bool sent_partial; /* TCP: a sender closed before the end (its count stops there) */
    uint64_t pkts_sent, pkts_delivered, retransmitted, socket_drops;
    /* TCP streams: the byte books from socket state */
    bool tcp;
    uint64_t queued;
    int64_t not_received;
    /* the flow books of each direction (client to server, server to
     * client): at the end of the run, and the live one (read again after
     * the drain: what it still holds was held by nothing) */
    struct flow_dir {
        char what[96];
        const struct vns_flow_book *live;
        struct vns_flow_book at;
        uint64_t leaked, leaked_bytes;
    } dir[2];
};

struct vns_world_ledger {
    struct ledger_machine *m;
    size_t nm;
    struct ledger_wire *wires;
    size_t nw;
    struct ledger_flow *flows;
    size_t nf;
    struct ledger_dev *devs;
    size_t nd;
    struct ledger_vq *vqs;
    size_t nvq;
    bool audited;
};

/* in + created = out + consumed + merged + dropped + freed by hardware +
 * held, by construction of the counters; what the audit proves is that
 * every frame held at the end was released through its device by the
 * drain (nothing left held after it). */
static bool dev_balanced(const struct ledger_dev *d)
{
    return !d->leaked && !d->leaked_bytes;
}

/* A flow book's terms (segments or bytes, @v by enum vns_flow_term):
 * what came in = what went + what skbs hold, and no more copied into a
 * machine than out of one. */
static bool flow_terms_balance(const uint64_t *v)
{
    return v[VNS_FLOW_SENT] + v[VNS_FLOW_COPIED] + v[VNS_FLOW_CROSSED_IN] ==
               v[VNS_FLOW_DELIVERED] + v[VNS_FLOW_DROPPED] + v[VNS_FLOW_LOST] +
                   v[VNS_FLOW_HW_FREED] + v[VNS_FLOW_CONSUMED] + v[VNS_FLOW_CROSSED_OUT] +
                   v[VNS_FLOW_LIVE] &&
           v[VNS_FLOW_CROSSED_OUT] >= v[VNS_FLOW_CROSSED_IN];
}

/* A direction with packets: its books balance, and the drain released
 * every packet its skbs held (nothing left after it). */
static bool dir_used(const struct flow_dir *d)
{
    return d->live && (d->at.pkts[VNS_FLOW_SENT] || d->at.pkts[VNS_FLOW_CROSSED_IN] || d->leaked);
}

static bool dir_balanced(const struct flow_dir *d)
{
    return !d->live || (flow_terms_balance(d->at.pkts) && flow_terms_balance(d->at.bytes) &&
                        !d->leaked && !d->leaked_bytes);
}

/* TCP: sent = delivered + in the receivers' queues + not received yet. */
static bool tcp_bytes_balance(const struct ledger_flow *l)
{
    return !l->tcp || (l->not_received >= 0 &&
                       l->sent == l->delivered + l->queued + (uint64_t)l->not_received);
}

/* sent = delivered + in flight or lost; a byte that reaches an
 * application wrong (corrupted, misordered) is a failure; each
 * direction's flow books balance; UDP: what the sendto calls accepted
 * is what the flow books have sent. */
static bool flow_balanced(const struct ledger_flow *l)
{
    return (!l->stream || l->delivered <= l->sent) && !l->mismatches &&
           (!l->udp || l->pkts_delivered + l->socket_drops <= l->pkts_sent) &&
           (!l->udp || !l->dir[0].live || l->dir[0].at.bytes[VNS_FLOW_SENT] == l->sent) &&
           tcp_bytes_balance(l) && dir_balanced(&l->dir[0]) && dir_balanced(&l->dir[1]);
}

static bool machine_balanced(const struct ledger_machine *l)
{
    return l->created == l->consumed + l->dropped + l->hw_freed + l->merged + l->in_flight &&
           !l->leaked;
}

static bool wire_balanced(const struct ledger_wire *l)
{
    return l->frames + l->duplicated ==
               l->lost + l->link_down + l->rx_dropped + l->delivered + l->in_flight &&
           l->bytes + l->duplicated_bytes == l->lost_bytes + l->link_down_bytes +
                                                 l->rx_dropped_bytes + l->delivered_bytes +
                                                 l->in_flight_bytes;
}

/* Every device of every machine, in machine then registration order. */
static int ledger_devs_take(struct vns_world_ledger *l)
{
    size_t n = 0;

    for (size_t i = 0; i < l->nm; i++)
        for (const struct vns_dev_book *b = vns_kernel_dev_books(l->m[i].k); b; b = b->next)
            n++;
    if (!(l->devs = vns_calloc(n ? n : 1, sizeof(*l->devs))))
        return -VNS_ENOMEM;
    for (size_t i = 0; i < l->nm; i++) {
        for (const struct vns_dev_book *b = vns_kernel_dev_books(l->m[i].k); b; b = b->next) {
            struct ledger_dev *d = &l->devs[l->nd++];

            d->machine = l->m[i].name;
            d->live = b;
            d->at = *b;
        }
    }
    return 0;
}

int vns__world_ledger_take(const struct vns_world_view *v, struct vns_world_ledger **out)
{
    struct vns_world_ledger *l = vns_calloc(1, sizeof(*l));
    size_t n = 1 + v->nremotes + v->nguests;

    if (!l || !(l->m = vns_calloc(n, sizeof(*l->m))) ||
        !(l->wires = vns_calloc(2 * v->nwires + 1, sizeof(*l->wires)))) {
        vns__world_ledger_free(l);
        return -VNS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct vns_machine *m = i == 0             ? v->host
                                      : i <= v->nremotes ? &v->remotes[i - 1]
                                                         : &v->guests[i - 1 - v->nremotes];
        const struct vns_kernel_stats *s = vns_kernel_stats(m->kernel);
        struct ledger_machine *e = &l->m[l->nm++];

        e->name = m->name;
        e->k = m->kernel;
        e->created = s->skb_allocs;
        e->consumed = s->consumed;
        for (int r = 0; r < VNS_SKB_DROP_REASON_MAX; r++)
            e->dropped += s->drops[r];
        e->hw_freed = s->hw_freed;
        e->merged = s->merged;
        e->in_flight = s->skb_live;
    }
    if (ledger_devs_take(l) < 0) {
        vns__world_ledger_free(l);
        return -VNS_ENOMEM;
    }
    for (size_t i = 0; i < v->nwires; i++) {
        for (int end = 0; end < 2; end++) {
            const struct vns_wire_stats *s = vns_wire_stats(v->wires[i], end);
            struct ledger_wire *e = &l->wires[l->nw++];

            snprintf(e->from, sizeof(e->from), "%s", vns_wire_dev(v->wires[i], end)->name);
            e->frames = s->frames;
            e->duplicated = s->duplicated;
            e->lost = s->lost;
            e->link_down = s->link_down;
            e->rx_dropped = s->rx_dropped;
            e->delivered = s->delivered;
            e->bytes = s->bytes;
            e->duplicated_bytes = s->duplicated_bytes;
            e->lost_bytes = s->lost_bytes;
            e->link_down_bytes = s->link_down_bytes;
            e->rx_dropped_bytes = s->rx_dropped_bytes;
            e->delivered_bytes = s->delivered_bytes;
            vns_wire_in_flight(v->wires[i], end, &e->in_flight, &e->in_flight_bytes);
        }
    }
    *out = l;
    return 0;
}

int vns__world_ledger_flows(struct vns_world_ledger *l, const struct vns_world *w)
{
    size_t n = vns_world_nworkloads(w);

    l->flows = vns_calloc(n ? n : 1, sizeof(*l->flows));
    if (!l->flows)
        return -VNS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct vns_workload_result r;
        struct ledger_flow *e = &l->flows[l->nf];

        if (vns_world_workload(w, i, &r) < 0)
            continue;
        snprintf(e->what, sizeof(e->what), "workload %zu %s %s -> %s", i, r.type, r.from, r.to);
        e->sent = r.sent_bytes;
        e->delivered = r.bytes;
        e->mismatches = r.mismatches;
        e->udp = !strcmp(r.type, "udp_stream");
        e->stream = !strcmp(r.type, "tcp_stream") || !strcmp(r.type, "tcp_maerts") || e->udp;
        e->pkts_sent = e->udp ? r.packets_sent : r.segs_sent;
        e->pkts_delivered = e->udp ? r.packets : r.segs_received;
        e->retransmitted = r.segs_retransmitted;
        e->socket_drops = r.socket_drops;
        e->sent_partial = r.segs_sent_partial;
        e->tcp = e->stream && !e->udp;
        e->queued = r.tcp_queued_bytes;
        e->not_received = r.tcp_not_received_bytes;
        for (int d = 0; d < 2; d++) {
            struct flow_dir *fd = &e->dir[d];

            fd->live = vns_flow_reg_book(vns__world_flow_reg(w), 2 * i + (size_t)d);
            if (fd->live)
                fd->at = *fd->live;
            snprintf(fd->what, sizeof(fd->what), "%s -> %s", d ? r.to : r.from, d ? r.from : r.to);
        }
        l->nf++;
    }
    return 0;
}

int vns__world_ledger_vqs(struct vns_world_ledger *l, const struct vns_world *w)
{
    struct vns_virtnet *vi;
    struct vns_vhost_net *const *nets;
    size_t n = 0, nguests = 0;
    unsigned qps;

    while ((qps = vns__world_guest_queues(w, nguests, &vi, &nets)) != 0) {
        n += 2 * qps;
        nguests++;
    }
    if (!(l->vqs = vns_calloc(n ? n : 1, sizeof(*l->vqs))))
        return -VNS_ENOMEM;
    for (size_t g = 0; g < nguests; g++) {
        /* the guests are the last machines of the ledger */
        const char *name = l->m[l->nm - nguests + g].name;

        qps = vns__world_guest_queues(w, g, &vi, &nets);
        for (unsigned q = 0; q < qps; q++) {
            for (unsigned tx = 0; tx < 2; tx++) {
                struct ledger_vq *e = &l->vqs[l->nvq++];

                /* virtio-net: rxN = 2N, txN = 2N + 1; vhost-net: rx 0, tx 1 */
                snprintf(e->what, sizeof(e->what), "%s %s%u", name, tx ? "tx" : "rx", q);
                vns_vq_books(vns_virtnet_vq(vi, 2 * q + tx), vns_vhost_net_vq(nets[q], tx)->dq,
                             &e->b);
            }
        }
    }
    return 0;
}

static bool vq_balanced(const struct ledger_vq *e)
{
    return e->b.broken || e->b.balanced;
}

void vns__world_ledger_audit(struct vns_world_ledger *l)
{
    for (size_t i = 0; l && i < l->nm; i++)
        l->m[i].leaked = vns_kernel_stats(l->m[i].k)->skb_live;
    for (size_t i = 0; l && i < l->nf; i++) {
        for (int d = 0; d < 2; d++) {
            struct flow_dir *fd = &l->flows[i].dir[d];

            if (fd->live) {
                fd->leaked = fd->live->pkts[VNS_FLOW_LIVE];
                fd->leaked_bytes = fd->live->bytes[VNS_FLOW_LIVE];
            }
        }
    }
    for (size_t i = 0; l && i < l->nd; i++) {
        l->devs[i].leaked = vns_dev_book_held(l->devs[i].live);
        l->devs[i].leaked_bytes = vns_dev_book_held_bytes(l->devs[i].live);
    }
    if (l)
        l->audited = true;
}

bool vns__world_ledger_balanced(const struct vns_world_ledger *l)
{
    if (!l)
        return true;
    for (size_t i = 0; i < l->nm; i++)
        if (!machine_balanced(&l->m[i]))
            return false;
    for (size_t i = 0; i < l->nw; i++)
        if (!wire_balanced(&l->wires[i]))
            return false;
    for (size_t i = 0; i < l->nf; i++)
        if (!flow_balanced(&l->flows[i]))
            return false;
    for (size_t i = 0; i < l->nd; i++)
        if (!dev_balanced(&l->devs[i]))
            return false;
    for (size_t i = 0; i < l->nvq; i++)
        if (!vq_balanced(&l->vqs[i]))
            return false;
    return true;
}

void vns__world_ledger_free(struct vns_world_ledger *l)
{
    if (!l)
        return;
    vns_free(l->m);
    vns_free(l->wires);
    vns_free(l->flows);
    vns_free(l->devs);
    vns_free(l->vqs);
    vns_free(l);
}

#define U(x) ((unsigned long long)(x))

/* A direction whose flow books do not balance, in segments. */
static void flow_dir_print(const struct ledger_flow *e, const struct flow_dir *d, FILE *out)
{
    const uint64_t *v = d->at.pkts;

    fprintf(out,
            "flow books of %s (%s) do not balance: %llu segments sent + %llu copied + %llu crossed "
            "in %s %llu delivered + %llu dropped + %llu lost on a wire + %llu freed by hardware + "
            "%llu consumed on the way + %llu crossed out + %llu in flight; %llu segments (%llu "
            "bytes) still held after the drain (held by nothing)\n",
            e->what, d->what, U(v[VNS_FLOW_SENT]), U(v[VNS_FLOW_COPIED]), U(v[VNS_FLOW_CROSSED_IN]),
            flow_terms_balance(v) ? "=" : "!=", U(v[VNS_FLOW_DELIVERED]), U(v[VNS_FLOW_DROPPED]),
            U(v[VNS_FLOW_LOST]), U(v[VNS_FLOW_HW_FREED]), U(v[VNS_FLOW_CONSUMED]),
            U(v[VNS_FLOW_CROSSED_OUT]), U(v[VNS_FLOW_LIVE]), U(d->leaked), U(d->leaked_bytes));
}

void vns__world_ledger_print(const struct vns_world_ledger *l, FILE *out)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nm; i++) {
        const struct ledger_machine *e = &l->m[i];

        if (machine_balanced(e))
            continue;
        fprintf(out,
                "ledger of %s does not balance: %llu skbs created, %llu consumed + %llu dropped + "
                "%llu freed by "
                "hardware + %llu merged + %llu in flight",
                e->name, (unsigned long long)e->created, (unsigned long long)e->consumed,
                (unsigned long long)e->dropped, (unsigned long long)e->hw_freed,
                (unsigned long long)e->merged, (unsigned long long)e->in_flight);
        if (e->leaked)
            fprintf(out, "; %llu of those in flight were held by nothing (leaked)",
                    (unsigned long long)e->leaked);
        fputc('\n', out);
    }
    for (size_t i = 0; i < l->nw; i++) {
        const struct ledger_wire *e = &l->wires[i];

        if (!wire_balanced(e))
            fprintf(out,
                    "ledger of wire direction from %s does not balance: %llu frames + %llu "
                    "duplicated != %llu "
                    "lost + %llu link down + %llu dropped at the peer + %llu delivered + %llu on "
                    "the line\n",
                    e->from, (unsigned long long)e->frames, (unsigned long long)e->duplicated,
                    (unsigned long long)e->lost, (unsigned long long)e->link_down,
                    (unsigned long long)e->rx_dropped, (unsigned long long)e->delivered,
                    (unsigned long long)e->in_flight);
    }
    for (size_t i = 0; i < l->nd; i++) {
        const struct ledger_dev *d = &l->devs[i];
        const struct vns_dev_book *b = &d->at;

        if (!dev_balanced(d))
            fprintf(out,
                    "device books of %s %s (%s) do not balance: %llu frames in + %llu created = "
                    "%llu out + %llu consumed + %llu merged + %llu dropped + %llu freed by "
                    "hardware + %llu held at the end; %llu frames (%llu bytes) still held after "
                    "the drain (held by nothing)\n",
                    d->machine, b->name, b->kind, U(b->in), U(b->created), U(b->out),
                    U(b->consumed), U(b->merged), U(b->dropped), U(b->hw_freed),
                    U(vns_dev_book_held(b)), U(d->leaked), U(d->leaked_bytes));
    }
    for (size_t i = 0; i < l->nvq; i++) {
        const struct vns_vq_books *b = &l->vqs[i].b;

        if (!vq_balanced(&l->vqs[i]))
            fprintf(out,
                    "virtqueue books of %s do not balance: %llu buffers made available != %llu "
                    "used + %llu not taken + %llu taken not used, or %llu used != %llu reclaimed "
                    "+ %llu used not reclaimed (ring of %u)\n",
                    l->vqs[i].what, U(b->made_available), U(b->used), U(b->not_taken),
                    U(b->taken_not_used), U(b->used), U(b->reclaimed), U(b->used_not_reclaimed),
                    b->num);
    }
    for (size_t i = 0; i < l->nf; i++) {
        const struct ledger_flow *e = &l->flows[i];

        if (e->mismatches)
            fprintf(out, "%s: %llu bytes reached the application wrong (payload mismatches)\n",
                    e->what, (unsigned long long)e->mismatches);
        if (e->udp && e->pkts_delivered + e->socket_drops > e->pkts_sent)
            fprintf(
                out,
                "%s: %llu datagrams delivered and %llu dropped at the socket but only %llu sent\n",
                e->what, U(e->pkts_delivered), U(e->socket_drops), U(e->pkts_sent));
        if (e->stream && e->delivered > e->sent)
            fprintf(out, "%s: %llu bytes delivered but only %llu sent\n", e->what,
                    (unsigned long long)e->delivered, (unsigned long long)e->sent);
        if (!tcp_bytes_balance(e))
            fprintf(out,
                    "%s: TCP byte books do not balance: %llu bytes sent != %llu delivered + %llu "
                    "in the receivers' queues + %lld not received yet\n",
                    e->what, U(e->sent), U(e->delivered), U(e->queued), (long long)e->not_received);
        if (e->udp && e->dir[0].live && e->dir[0].at.bytes[VNS_FLOW_SENT] != e->sent)
            fprintf(out, "%s: %llu bytes sent by the application but %llu by its flow books\n",
                    e->what, U(e->sent), U(e->dir[0].at.bytes[VNS_FLOW_SENT]));
        for (int d = 0; d < 2; d++)
            if (!dir_balanced(&e->dir[d]))
                flow_dir_print(e, &e->dir[d], out);
    }
}

/* One line: the device books over every device of every machine. */
static void ledger_devs_summary(const struct vns_world_ledger *l, FILE *out)
{
    uint64_t in = 0, out_ = 0, dropped = 0, held = 0, leaked = 0;
    size_t broken = 0, vq_bad = 0;

    for (size_t i = 0; i < l->nd; i++) {
        const struct vns_dev_book *b = &l->devs[i].at;

        in += b->in + b->created;
        out_ += b->out + b->consumed + b->merged;
        dropped += b->dropped + b->hw_freed;
        held += vns_dev_book_held(b);
        leaked += l->devs[i].leaked;
    }
    for (size_t i = 0; i < l->nvq; i++) {
        broken += l->vqs[i].b.broken;
        vq_bad += !vq_balanced(&l->vqs[i]);
    }
    fprintf(out,
            "device books: %s; %zu devices, %llu frames in (with those made inside), %llu out, "
            "%llu dropped, %llu held at the end%s; %zu virtqueues %s (%zu broken)\n",
            leaked ? "DO NOT BALANCE" : "balanced", l->nd, U(in), U(out_), U(dropped), U(held),
            leaked ? " (some held by nothing)" : "", l->nvq, vq_bad ? "DO NOT BALANCE" : "balanced",
            broken);
}

/* One line: the flow books over every direction of every flow. */
static void ledger_flows_summary(const struct vns_world_ledger *l, FILE *out)
{
    uint64_t v[VNS_FLOW_NTERMS] = {0};
    size_t ndirs = 0;
    bool ok = true;

    for (size_t i = 0; i < l->nf; i++) {
        ok &= flow_balanced(&l->flows[i]);
        for (int d = 0; d < 2; d++) {
            const struct flow_dir *fd = &l->flows[i].dir[d];

            if (!dir_used(fd))
                continue;
            ndirs++;
            for (int t = 0; t < VNS_FLOW_NTERMS; t++)
                v[t] += fd->at.pkts[t];
        }
    }
    fprintf(out,
            "flow books: %s; %zu flows in %zu directions, %llu segments sent + %llu copied = %llu "
            "delivered + %llu dropped + %llu lost + %llu used up on the way + %llu in flight at "
            "the end (%llu between machines)\n",
            ok ? "balanced" : "DO NOT BALANCE", l->nf, ndirs, U(v[VNS_FLOW_SENT]),
            U(v[VNS_FLOW_COPIED]), U(v[VNS_FLOW_DELIVERED]), U(v[VNS_FLOW_DROPPED]),
            U(v[VNS_FLOW_LOST] + v[VNS_FLOW_HW_FREED]), U(v[VNS_FLOW_CONSUMED]),
            U(v[VNS_FLOW_LIVE] + v[VNS_FLOW_CROSSED_OUT] - v[VNS_FLOW_CROSSED_IN]),
            U(v[VNS_FLOW_CROSSED_OUT] - v[VNS_FLOW_CROSSED_IN]));
}

void vns__world_ledger_summary(const struct vns_world_ledger *l, FILE *out)
{
    uint64_t created = 0, in_flight = 0, dropped = 0, frames = 0, sent = 0, delivered = 0;

    if (!l)
        return;
    for (size_t i = 0; i < l->nm; i++) {
        created += l->m[i].created;
        in_flight += l->m[i].in_flight;
        dropped += l->m[i].dropped + l->m[i].hw_freed;
    }
    for (size_t i = 0; i < l->nw; i++)
        frames += l->wires[i].frames;
    for (size_t i = 0; i < l->nf; i++) {
        sent += l->flows[i].sent;
        delivered += l->flows[i].delivered;
    }
    fprintf(out,
            "ledger: %s; %llu skbs created on %zu machines, %llu dropped, %llu in flight at the "
            "end; %llu wire "
            "frames; %zu flows, %llu bytes sent, %llu delivered\n",
            vns__world_ledger_balanced(l) ? "balanced" : "DOES NOT BALANCE",
            (unsigned long long)created, l->nm, (unsigned long long)dropped,
            (unsigned long long)in_flight, (unsigned long long)frames, l->nf,
            (unsigned long long)sent, (unsigned long long)delivered);
    ledger_devs_summary(l, out);
    ledger_flows_summary(l, out);
}

#define J(x) json_integer((json_int_t)(x))

/* A one-way flow's packets: UDP datagrams balance; TCP segments (MSS
 * units, GSO/GRO-aware) sent (tcp_info data_segs_out: pcount units,
 * retransmissions included), taken in by the receivers (duplicates
 * included) and retransmitted are figures, not a balance. A sender that
 * closed before the end still sends what it had queued, unseen: then its
 * count would stop short, and packets_sent is left out. */
static void flow_packets_json(json_t *o, const struct ledger_flow *e)
{
    json_object_set_new(o, "packet_unit", json_string(e->udp ? "datagram" : "segment"));
    json_object_set_new(o, "packets_delivered", J(e->pkts_delivered));
    if (!e->sent_partial)
        json_object_set_new(o, "packets_sent", J(e->pkts_sent));
    if (e->udp) {
        json_object_set_new(o, "packets_dropped_at_socket", J(e->socket_drops));
        json_object_set_new(o, "packets_in_flight_or_lost",
                            J(e->pkts_delivered + e->socket_drops <= e->pkts_sent
                                  ? e->pkts_sent - e->pkts_delivered - e->socket_drops
                                  : 0));
    } else {
        json_object_set_new(o, "packets_retransmitted", J(e->retransmitted));
    }
}

/* Lost and hardware-freed segments by reason (the nonzero ones). */
static json_t *flow_losses_json(const struct vns_flow_book *b)
{
    static const char *const name[VNS_FLOW_NLOSSES] = {
        [VNS_FLOW_LOSS_LINE] = "line_loss",       [VNS_FLOW_LOSS_LINK_DOWN] = "link_down",
        [VNS_FLOW_LOSS_NO_PEER] = "no_peer",      [VNS_FLOW_LOSS_NO_MEMORY] = "no_memory",
        [VNS_FLOW_HW_BAD_FCS] = "bad_fcs",        [VNS_FLOW_HW_TOO_LONG] = "too_long",
        [VNS_FLOW_HW_RING_FULL] = "rx_ring_full", [VNS_FLOW_HW_NIC_DOWN] = "nic_down",
    };
    json_t *o = json_object();

    for (int r = 0; r < VNS_FLOW_NLOSSES; r++)
        if (b->losses[r])
            json_object_set_new(o, name[r], J(b->losses[r]));
    return o;
}

/* The flow books of each direction that carried packets. */
static json_t *flow_books_json(const struct ledger_flow *e)
{
    static const char *const key[VNS_FLOW_NTERMS] = {
        [VNS_FLOW_SENT] = "sent",
        [VNS_FLOW_COPIED] = "copied",
        [VNS_FLOW_CROSSED_IN] = "crossed_in",
        [VNS_FLOW_DELIVERED] = "delivered",
        [VNS_FLOW_DROPPED] = "dropped",
        [VNS_FLOW_LOST] = "lost",
        [VNS_FLOW_HW_FREED] = "freed_by_hardware",
        [VNS_FLOW_CONSUMED] = "consumed",
        [VNS_FLOW_CROSSED_OUT] = "crossed_out",
        [VNS_FLOW_LIVE] = "in_flight",
    };
    json_t *a = json_array();

    for (int d = 0; d < 2; d++) {
        const struct flow_dir *fd = &e->dir[d];
        const struct vns_flow_book *b = &fd->at;
        json_t *o, *drops;
        char k[64];

        if (!dir_used(fd))
            continue;
        o = json_object();
        drops = json_object();
        json_object_set_new(o, "direction", json_string(fd->what));
        json_object_set_new(o, "unit", json_string("segment; L4 payload byte"));
        for (int t = 0; t < VNS_FLOW_NTERMS; t++) {
            snprintf(k, sizeof(k), "%s_bytes", key[t]);
            json_object_set_new(o, key[t], J(b->pkts[t]));
            json_object_set_new(o, k, J(b->bytes[t]));
        }
        /* in rings or guest memory between two machines: copied out of one,
         * not yet into the other */
        json_object_set_new(o, "between_machines",
                            J(b->pkts[VNS_FLOW_CROSSED_OUT] - b->pkts[VNS_FLOW_CROSSED_IN]));
        json_object_set_new(o, "between_machines_bytes",
                            J(b->bytes[VNS_FLOW_CROSSED_OUT] - b->bytes[VNS_FLOW_CROSSED_IN]));
        for (int r = 0; r < VNS_SKB_DROP_REASON_MAX; r++)
            if (b->drops[r])
                json_object_set_new(drops, vns_drop_reason_name((enum vns_skb_drop_reason)r),
                                    J(b->drops[r]));
        json_object_set_new(o, "drops", drops);
        json_object_set_new(o, "losses", flow_losses_json(b));
        json_object_set_new(o, "leaked", J(fd->leaked));
        json_object_set_new(o, "balanced", json_boolean(dir_balanced(fd)));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *ledger_devs_json(const struct vns_world_ledger *l)
{
    json_t *ds = json_array();

    for (size_t i = 0; l && i < l->nd; i++) {
        const struct ledger_dev *d = &l->devs[i];
        const struct vns_dev_book *b = &d->at;
        json_t *o = json_object(), *drops = json_object();
        const struct {
            const char *key;
            uint64_t frames, bytes;
        } terms[] = {
            {"in", b->in, b->in_bytes},
            {"created", b->created, b->created_bytes},
            {"out", b->out, b->out_bytes},
            {"consumed", b->consumed, b->consumed_bytes},
            {"merged", b->merged, b->merged_bytes},
            {"dropped", b->dropped, b->dropped_bytes},
            {"freed_by_hardware", b->hw_freed, b->hw_freed_bytes},
            {"held", vns_dev_book_held(b), vns_dev_book_held_bytes(b)},
        };
        char key[64];

        json_object_set_new(o, "machine", json_string(d->machine));
        json_object_set_new(o, "name", json_string(b->name));
        json_object_set_new(o, "kind", json_string(b->kind ? b->kind : ""));
        for (size_t t = 0; t < sizeof(terms) / sizeof(terms[0]); t++) {
            snprintf(key, sizeof(key), "%s_bytes", terms[t].key);
            json_object_set_new(o, terms[t].key, J(terms[t].frames));
            json_object_set_new(o, key, J(terms[t].bytes));
        }
        for (int r = 0; r < VNS_SKB_DROP_REASON_MAX; r++)
            if (b->drops[r])
                json_object_set_new(drops, vns_drop_reason_name((enum vns_skb_drop_reason)r),
                                    J(b->drops[r]));
        json_object_set_new(o, "drops", drops);
        json_object_set_new(o, "leaked", J(d->leaked));
        json_object_set_new(o, "balanced", json_boolean(dev_balanced(d)));
        json_array_append_new(ds, o);
    }
    return ds;
}

static json_t *ledger_vqs_json(const struct vns_world_ledger *l)
{
    json_t *a = json_array();

    for (size_t i = 0; l && i < l->nvq; i++) {
        const struct vns_vq_books *b = &l->vqs[i].b;
        json_t *o = json_object();

        json_object_set_new(o, "queue", json_string(l->vqs[i].what));
        json_object_set_new(o, "made_available", J(b->made_available));
        json_object_set_new(o, "taken", J(b->taken));
        json_object_set_new(o, "used", J(b->used));
        json_object_set_new(o, "reclaimed", J(b->reclaimed));
        json_object_set_new(o, "not_taken", J(b->not_taken));
        json_object_set_new(o, "taken_not_used", J(b->taken_not_used));
        json_object_set_new(o, "used_not_reclaimed", J(b->used_not_reclaimed));
        json_object_set_new(o, "broken", json_boolean(b->broken));
        json_object_set_new(o, "balanced", json_boolean(vq_balanced(&l->vqs[i])));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *vns__world_ledger_json(const struct vns_world_ledger *l)
{
    json_t *root = json_object(), *ms = json_array(), *ws = json_array();

    for (size_t i = 0; l && i < l->nm; i++) {
        const struct ledger_machine *e = &l->m[i];
        json_t *o = json_object();

        json_object_set_new(o, "name", json_string(e->name));
        json_object_set_new(o, "created", J(e->created));
        json_object_set_new(o, "consumed", J(e->consumed));
        json_object_set_new(o, "dropped", J(e->dropped));
        json_object_set_new(o, "freed_by_hardware", J(e->hw_freed));
        json_object_set_new(o, "merged", J(e->merged));
        json_object_set_new(o, "in_flight", J(e->in_flight));
        json_object_set_new(o, "leaked", J(e->leaked));
        json_object_set_new(o, "balanced", json_boolean(machine_balanced(e)));
        json_array_append_new(ms, o);
    }
    for (size_t i = 0; l && i < l->nw; i++) {
        const struct ledger_wire *e = &l->wires[i];
        json_t *o = json_object();

        json_object_set_new(o, "from", json_string(e->from));
        json_object_set_new(o, "frames", J(e->frames));
        json_object_set_new(o, "duplicated", J(e->duplicated));
        json_object_set_new(o, "lost", J(e->lost));
        json_object_set_new(o, "link_down", J(e->link_down));
        json_object_set_new(o, "dropped_at_peer", J(e->rx_dropped));
        json_object_set_new(o, "delivered", J(e->delivered));
        json_object_set_new(o, "on_the_line", J(e->in_flight));
        json_object_set_new(o, "bytes", J(e->bytes));
        json_object_set_new(o, "duplicated_bytes", J(e->duplicated_bytes));
        json_object_set_new(o, "lost_bytes", J(e->lost_bytes));
        json_object_set_new(o, "link_down_bytes", J(e->link_down_bytes));
        json_object_set_new(o, "dropped_at_peer_bytes", J(e->rx_dropped_bytes));
        json_object_set_new(o, "delivered_bytes", J(e->delivered_bytes));
        json_object_set_new(o, "on_the_line_bytes", J(e->in_flight_bytes));
        json_object_set_new(o, "balanced", json_boolean(wire_balanced(e)));
        json_array_append_new(ws, o);
    }
    {
        json_t *fs = json_array();

        for (size_t i = 0; l && i < l->nf; i++) {
            const struct ledger_flow *e = &l->flows[i];
            json_t *o = json_object();

            json_object_set_new(o, "workload", json_string(e->what));
            json_object_set_new(o, "sent_bytes", J(e->sent));
            json_object_set_new(o, "delivered_bytes", J(e->delivered));
            json_object_set_new(
                o, "in_flight_or_lost_bytes",
                J(e->stream && e->delivered <= e->sent ? e->sent - e->delivered : 0));
            json_object_set_new(o, "payload_mismatches", J(e->mismatches));
            if (e->stream)
                flow_packets_json(o, e);
            if (e->tcp) {
                json_object_set_new(o, "queued_bytes", J(e->queued));
                json_object_set_new(o, "not_received_bytes", json_integer(e->not_received));
            }
            json_object_set_new(o, "books", flow_books_json(e));
            json_object_set_new(o, "balanced", json_boolean(flow_balanced(e)));
            json_array_append_new(fs, o);
        }
        json_object_set_new(root, "flows", fs);
    }
    json_object_set_new(root, "devices", ledger_devs_json(l));
    json_object_set_new(root, "virtqueues", ledger_vqs_json(l));
    json_object_set_new(root, "unit",
                        json_string("skb per machine; frame per wire direction; byte per flow; "
                                    "segment and L4 payload byte per flow direction; "
                                    "frame and L2 byte per device"));
    json_object_set_new(root, "audited", json_boolean(l && l->audited));
    json_object_set_new(root, "balanced", json_boolean(vns__world_ledger_balanced(l)));
    json_object_set_new(root, "machines", ms);
    json_object_set_new(root, "wires", ws);
    return root;
}

int vns_world_test_leak(struct vns_world *w, const char *what)
{
    char machine[64];
    const char *colon = strchr(what, ':');
    const struct vns_machine *m;
    struct vns_net_device *dev = NULL;
    struct vns_skb *skb;

    if (!strncmp(what, "flow:", 5)) {
        /* a packet a flow book counts that no skb holds: sent, and
         * forgotten (the drain cannot release it) */
        struct vns_flow_book *b =
            vns_flow_reg_book(vns__world_flow_reg(w), strtoul(what + 5, NULL, 10));

        if (!b)
            return -VNS_ENOENT;
        b->pkts[VNS_FLOW_SENT]++;
        b->pkts[VNS_FLOW_LIVE]++;
        b->bytes[VNS_FLOW_SENT] += 100;
        b->bytes[VNS_FLOW_LIVE] += 100;
        return 0;
    }
    snprintf(machine, sizeof(machine), "%.*s", colon ? (int)(colon - what) : (int)strlen(what),
             what);
    if (!(m = vns_world_machine(w, machine)))
        return -VNS_ENOENT;
    if (colon && !(dev = vns_dev_get_by_name(m->kernel, colon + 1)))
        return -VNS_ENOENT;
    /* Allocated and forgotten: held by nothing. The pool takes the memory
     * back when the kernel is destroyed. */
    if (!(skb = vns_alloc_skb(m->kernel, 128)))
        return -VNS_ENOMEM;
    if (dev) {
        /* in the device's hands, as a received frame would be */
        memset(vns_skb_put(skb, 60), 0, 60);
        vns_dev_book_in(dev, skb);
    }
    return 0;
}
