/* lib/world/workload.c -- workloads modelled on netperf: TCP_STREAM,
 * TCP_MAERTS and TCP_RR between two machines of a world, as user
 * processes making system calls on real sockets (lib/net socket.c), so
 * every byte goes down and up the modelled stacks.
 *
 * The connection goes from `from` to `to` (netperf -> netserver). Stream
 * data flows from -> to (TCP_STREAM) or to -> from (TCP_MAERTS); TCP_RR
 * sends request_size bytes and waits for response_size, one transaction at
 * a time, recording each transaction's latency. Each workload runs from
 * `start` for `duration` (or to the end of the run) on CPU 0 of its
 * machines; several run at once. Not yet: UDP_STREAM, UDP_RR, ping. */
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/error.h"
#include "vnetsim/inet.h"
#include "vnetsim/sim.h"
#include "vnetsim/socket.h"
#include "vnetsim/stats.h"
#include "world_int.h"

struct vns_workload {
    const struct vns_sc_workload *spec;
    struct vns_sim *sim;
    struct vns_inet *rx_inet;      /* the receiving side's stack (payload checks) */
    struct vns_sock *lsk, *srv, *cli;
    struct vns_ctx *server, *client;
    struct vns_sockaddr_in dst;
    vns_time_t end;                /* stop sending at this time */
    int cphase, sphase;
    uint64_t sent, received;       /* application bytes of the data direction */
    uint64_t cpending;             /* RR client: response bytes still to come */
    uint64_t sgot;                 /* RR server: request bytes read so far */
    vns_time_t req_at, first_rx, last_rx;
    uint64_t transactions;
    struct vns_hist lat;
    int error;
};

static bool stream_from_client(const struct vns_workload *wl)
{
    return wl->spec->type == VNS_SC_TCP_STREAM;
}

/* Receive what is there; account first/last byte times. */
static long wl_read(struct vns_ctx *ctx, struct vns_workload *wl, struct vns_sock *sk, size_t max)
{
    long n = vns_sys_read(ctx, sk, max);

    if (n > 0) {
        if (!wl->first_rx)
            wl->first_rx = vns_ctx_now(ctx);
        wl->last_rx = vns_ctx_now(ctx);
    }
    return n;
}

static int wl_fail(struct vns_workload *wl, long err)
{
    if (!wl->error)
        wl->error = (int)err;
    return VNS_STEP_DONE;
}

static int client_step(struct vns_ctx *ctx, void *arg)
{
    struct vns_workload *wl = arg;
    const struct vns_sc_workload *s = wl->spec;
    long n;

    switch (wl->cphase) {
    case 0: {
        int rc = vns_sys_connect(ctx, wl->cli, &wl->dst);

        if (rc == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (rc < 0)
            return wl_fail(wl, rc);
        wl->cphase = 1;
        return VNS_STEP_AGAIN;
    }
    case 1:
        if (vns_ctx_now(ctx) >= wl->end) {
            vns_sys_close(ctx, wl->cli);
            wl->cli = NULL;
            wl->cphase = 2;
            return VNS_STEP_DONE;
        }
        if (s->type == VNS_SC_TCP_STREAM) {
            n = vns_sys_write(ctx, wl->cli, s->write_size);
            if (n == -VNS_EAGAIN)
                return VNS_STEP_SLEEP;
            if (n < 0)
                return wl_fail(wl, n);
            wl->sent += (uint64_t)n;
            return VNS_STEP_AGAIN;
        }
        if (s->type == VNS_SC_TCP_MAERTS) {
            n = wl_read(ctx, wl, wl->cli, 65536);
            if (n == -VNS_EAGAIN)
                return VNS_STEP_SLEEP;
            if (n <= 0)
                return n < 0 ? wl_fail(wl, n) : VNS_STEP_DONE;
            wl->received += (uint64_t)n;
            return VNS_STEP_AGAIN;
        }
        /* TCP_RR: request, then wait for the whole response. */
        if (!wl->cpending) {
            n = vns_sys_write(ctx, wl->cli, s->request_size);
            if (n == -VNS_EAGAIN)
                return VNS_STEP_SLEEP;
            if (n < 0)
                return wl_fail(wl, n);
            wl->req_at = vns_ctx_now(ctx);
            wl->cpending = s->response_size;
            return VNS_STEP_AGAIN;
        }
        n = wl_read(ctx, wl, wl->cli, wl->cpending);
        if (n == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (n <= 0)
            return n < 0 ? wl_fail(wl, n) : VNS_STEP_DONE;
        wl->received += (uint64_t)n;
        wl->cpending -= (uint64_t)n;
        if (!wl->cpending) {
            wl->transactions++;
            vns_hist_record(&wl->lat, vns_ctx_now(ctx) - wl->req_at);
        }
        return VNS_STEP_AGAIN;
    default:
        return VNS_STEP_DONE;
    }
}

static int server_step(struct vns_ctx *ctx, void *arg)
{
    struct vns_workload *wl = arg;
    const struct vns_sc_workload *s = wl->spec;
    long n;

    if (!wl->srv) {
        int rc = vns_sys_accept(ctx, wl->lsk, &wl->srv);

        if (rc == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (rc < 0)
            return wl_fail(wl, rc);
        return VNS_STEP_AGAIN;
    }
    if (wl->sphase)
        return VNS_STEP_DONE;
    if (s->type == VNS_SC_TCP_STREAM) {
        n = wl_read(ctx, wl, wl->srv, 65536);
        if (n == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (n <= 0) {
            wl->sphase = 1;   /* EOF or error: close */
            vns_sys_close(ctx, wl->srv);
            wl->srv = NULL;
            return n < 0 ? wl_fail(wl, n) : VNS_STEP_DONE;
        }
        wl->received += (uint64_t)n;
        return VNS_STEP_AGAIN;
    }
    if (s->type == VNS_SC_TCP_MAERTS) {
        if (vns_ctx_now(ctx) >= wl->end) {
            vns_sys_close(ctx, wl->srv);
            wl->srv = NULL;
            wl->sphase = 1;
            return VNS_STEP_DONE;
        }
        n = vns_sys_write(ctx, wl->srv, s->write_size);
        if (n == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (n < 0)
            return wl_fail(wl, n);
        wl->sent += (uint64_t)n;
        return VNS_STEP_AGAIN;
    }
    /* TCP_RR server: read a whole request, answer it. */
    if (wl->sgot < s->request_size) {
        n = vns_sys_read(ctx, wl->srv, s->request_size - wl->sgot);
        if (n == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (n <= 0) {
            wl->sphase = 1;
            vns_sys_close(ctx, wl->srv);
            wl->srv = NULL;
            return n < 0 ? wl_fail(wl, n) : VNS_STEP_DONE;
        }
        wl->sgot += (uint64_t)n;
        return VNS_STEP_AGAIN;
    }
    n = vns_sys_write(ctx, wl->srv, s->response_size);
    if (n == -VNS_EAGAIN)
        return VNS_STEP_SLEEP;
    if (n < 0)
        return wl_fail(wl, n);
    wl->sgot = 0;
    return VNS_STEP_AGAIN;
}

static int workload_start(struct vns_world *w, struct vns_workload *wl, const struct vns_sc_workload *s, size_t i,
                          const struct vns_scenario *sc, struct vns_diag *d)
{
    struct vns_inet *from, *to;
    uint32_t from_addr, to_addr;
    struct vns_cpu *fcpu, *tcpu;
    struct vns_sim *sim;
    char name[64];
    int err;

    wl->spec = s;
    vns_hist_init(&wl->lat);
    if (s->type != VNS_SC_TCP_STREAM && s->type != VNS_SC_TCP_MAERTS && s->type != VNS_SC_TCP_RR)
        return vns_diag_set(d, -VNS_ENOSYS, sc->file, s->line, 0, "workload %s: not built yet (TCP_STREAM, "
                            "TCP_MAERTS and TCP_RR are)", vns_sc_workload_name(s->type));
    from = vns__world_inet_of(w, s->from, &from_addr, &sim, &fcpu);
    to = vns__world_inet_of(w, s->to, &to_addr, &sim, &tcpu);
    if (!to_addr)
        return vns_diag_set(d, -VNS_EINVAL, sc->file, s->line, 0, "workload %s: '%s' has no IPv4 address (addr:)",
                            vns_sc_workload_name(s->type), s->to);
    wl->sim = sim;
    wl->rx_inet = stream_from_client(wl) ? to : from;
    wl->end = s->duration ? s->start + s->duration : VNS_TIME_NEVER;
    wl->dst.addr = to_addr;
    wl->dst.port = (uint16_t)(5001 + i);
    err = vns_socket_create(to, VNS_SOCK_STREAM, 0, &wl->lsk);
    if (!err)
        err = vns_sys_bind(wl->lsk, &(struct vns_sockaddr_in){.port = wl->dst.port});
    if (!err)
        err = vns_sys_listen(wl->lsk, 16);
    if (!err)
        err = vns_socket_create(from, VNS_SOCK_STREAM, 0, &wl->cli);
    if (!err && s->sndbuf)
        vns_sock_set_sndbuf(wl->cli, (unsigned)s->sndbuf);
    if (!err && s->rcvbuf)
        vns_sock_set_rcvbuf(wl->cli, (unsigned)s->rcvbuf);
    if (!err && s->type == VNS_SC_TCP_RR)
        vns_sock_set_nodelay(wl->cli, true);
    snprintf(name, sizeof(name), "netserver-%zu", i);
    if (!err)
        err = vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .name = name, .cpu = tcpu,
                                                          .threadfn = -1, .fn = server_step, .arg = wl},
                             &wl->server);
    snprintf(name, sizeof(name), "netperf-%zu", i);
    if (!err)
        err = vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .name = name, .cpu = fcpu,
                                                          .threadfn = -1, .fn = client_step, .arg = wl},
                             &wl->client);
    if (!err)
        err = vns_ctx_start(wl->server, s->start);
    if (!err)
        err = vns_ctx_start(wl->client, s->start);
    if (err)
        return vns_diag_set(d, err, sc->file, s->line, 0, "workload %s: %s", vns_sc_workload_name(s->type),
                            vns_strerror(err));
    return 0;
}

int vns__world_workloads_start(struct vns_world *w, const struct vns_scenario *sc, struct vns_diag *d)
{
    size_t n;
    struct vns_workload **slot = vns__world_workload_slot(w, &n);
    int err = 0;

    if (!sc->nworkloads)
        return 0;
    *slot = vns_calloc(sc->nworkloads, sizeof(**slot));
    if (!*slot)
        return vns_diag_set(d, -VNS_ENOMEM, sc->file, 0, 0, "out of memory");
    for (size_t i = 0; i < sc->nworkloads && !err; i++) {
        err = workload_start(w, &(*slot)[i], &sc->workloads[i], i, sc, d);
        vns__world_workload_slot(w, &n);
    }
    vns__world_set_nworkloads(w, sc->nworkloads);
    return err;
}

void vns__world_workloads_stop(struct vns_world *w)
{
    size_t n;
    struct vns_workload **slot = vns__world_workload_slot(w, &n);

    for (size_t i = 0; *slot && i < n; i++) {
        struct vns_workload *wl = &(*slot)[i];

        if (wl->cli)
            vns_sys_close(NULL, wl->cli);
        if (wl->srv)
            vns_sys_close(NULL, wl->srv);
        if (wl->lsk)
            vns_sys_close(NULL, wl->lsk);
        vns_ctx_destroy(wl->client);
        vns_ctx_destroy(wl->server);
    }
    vns_free(*slot);
    *slot = NULL;
}

int vns_world_workload(const struct vns_world *w, size_t i, struct vns_workload_result *out)
{
    size_t n;
    struct vns_workload **slot = vns__world_workload_slot((struct vns_world *)w, &n);
    const struct vns_workload *wl;
    const struct vns_inet_stats *st;

    if (!*slot || i >= n)
        return -VNS_ENOENT;
    wl = &(*slot)[i];
    memset(out, 0, sizeof(*out));
    out->type = vns_sc_workload_name(wl->spec->type);
    out->from = wl->spec->from;
    out->to = wl->spec->to;
    out->bytes = wl->received;
    out->transactions = wl->transactions;
    out->start = wl->first_rx;
    out->end = wl->last_rx;
    if (wl->last_rx > wl->first_rx)
        out->throughput_bps = (double)wl->received * 8e9 / (double)(wl->last_rx - wl->first_rx);
    out->latency_p50 = vns_hist_percentile(&wl->lat, 50);
    out->latency_p99 = vns_hist_percentile(&wl->lat, 99);
    out->latency_p999 = vns_hist_percentile(&wl->lat, 99.9);
    st = vns_inet_stats(wl->rx_inet);
    out->verified = st->payload_bytes_verified;
    out->mismatches = st->payload_mismatches;
    out->error = wl->error;
    return 0;
}
