/* lib/world/workload.c -- workloads modelled on netperf, iperf3 and ping:
 * TCP_STREAM, TCP_MAERTS, TCP_RR, UDP_STREAM, UDP_RR and ping between two
 * machines of a world, as user processes making system calls on real
 * sockets (lib/net socket.c, ping.c), so every byte goes down and up the
 * modelled stacks.
 *
 * The client runs on `from`, the server on `to` (netperf -> netserver).
 * Stream data flows from -> to (TCP_STREAM, UDP_STREAM) or to -> from
 * (TCP_MAERTS). TCP_RR and UDP_RR send request_size bytes and wait for
 * response_size, one transaction at a time, recording each transaction's
 * latency; a UDP_RR request unanswered for `timeout` is counted lost and
 * the next one is sent (netperf would hang). The UDP_RR server blocks in
 * sendto while its send buffer is full, as netserver does, and answers
 * every request it has read. UDP_STREAM sends write_size
 * datagrams as fast as it can, or paced to `rate` of payload bits (iperf3
 * -u -b: the schedule is exact in integer nanoseconds, and a sender that
 * falls behind catches up back to back). ping sends an ICMP echo request
 * of `size` bytes every `interval` (`count` of them, or until the end) on
 * a ping socket; the other machine's kernel answers (icmp_echo), there is
 * no server process.
 *
 * Each workload runs from `start` for `duration` (or to the end of the
 * run) with `flows` parallel flows, flow k on CPU (from_cpu + k) mod N of
 * the client's machine and (to_cpu + k) mod N of the server's (netperf
 * -T); several workloads run at once. Flows use ports 5001, 5002, ... in
 * the order of the scenario. The sender makes the system call `syscall`
 * names (write, send or sendmsg). What the machines did during each
 * workload's window is counted by costs.c. */
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/error.h"
#include "vnetsim/flow_book.h"
#include "vnetsim/inet.h"
#include "vnetsim/ping.h"
#include "vnetsim/sim.h"
#include "vnetsim/socket.h"
#include "vnetsim/stats.h"
#include "vnetsim/tcp.h"
#include "vnetsim/trace.h"
#include "world_int.h"

#define PING_RING 1024u          /* send times kept for matching replies */

struct wl_flow {
    struct vns_workload *wl;
    struct vns_sock *lsk, *srv, *cli;
    struct vns_ctx *server, *client;
    struct vns_sockaddr_in dst;
    struct vns_timer timer;      /* UDP_STREAM pacing, ping interval, UDP_RR timeout */
    bool timer_fired;
    int cphase, sphase;
    uint64_t cpending;           /* RR client: response bytes still to come */
    uint64_t sgot;               /* TCP_RR server: request bytes read so far */
    bool sreply;                 /* UDP_RR server: a response still to send, to sto */
    struct vns_sockaddr_in sto;
    vns_time_t req_at;           /* RR: when the pending request was sent */
    vns_time_t next_tx;          /* paced sender: the next send time */
    uint64_t next_frac;          /* its fraction of a nanosecond, in 1/rate units */
    uint64_t seq;                /* ping: requests sent */
    vns_time_t *ping_sent;       /* ping: send time of seq % PING_RING */
    uint64_t rx_segs;            /* TCP: data segments received (tcp_info) */
    /* TCP: the figures of a socket of this flow that is closed already
     * (taken at its close), by side: client, server */
    struct wl_segs {
        uint64_t out, retrans, in_units;
        bool closed; /* taken at its close: what it sent after is not seen */
        /* the byte books' socket state (relative to the ISNs), last taken */
        bool seq;
        enum vns_tcp_state state;
        uint32_t write_seq, rcv_nxt, copied_seq;
    } closed[2];
};

struct vns_workload {
    const struct vns_sc_workload *spec;
    struct vns_inet *rx_inet;    /* the receiving side's stack (payload checks) */
    vns_time_t end;              /* stop sending at this time */
    struct wl_flow *flows;
    unsigned nflows;
    /* the whole workload's figures */
    uint64_t sent, received;     /* application bytes of the data direction */
    uint64_t tx_packets, rx_packets, transactions, timeouts;
    vns_time_t first_tx, first_rx, last_rx;
    struct vns_hist lat;
    struct vns__costs *costs;    /* counters over its window (costs.c) */
    struct vns_flow_book *books[2]; /* flow books: client to server, server to client */
    int error;
};

static bool stream_from_client(const struct vns_sc_workload *s)
{
    return s->type != VNS_SC_TCP_MAERTS;
}

static bool is_tcp(const struct vns_sc_workload *s)
{
    return s->type == VNS_SC_TCP_STREAM || s->type == VNS_SC_TCP_MAERTS || s->type == VNS_SC_TCP_RR;
}

static void wl_rx(struct vns_workload *wl, struct vns_ctx *ctx, long n)
{
    if (!wl->first_rx)
        wl->first_rx = vns_ctx_now(ctx);
    wl->last_rx = vns_ctx_now(ctx);
    wl->received += (uint64_t)n;
}

static void wl_tx(struct vns_workload *wl, struct vns_ctx *ctx, long n)
{
    if (!wl->first_tx)
        wl->first_tx = vns_ctx_now(ctx);
    wl->sent += (uint64_t)n;
}

/* Receive what is there (TCP); account first/last byte times and the
 * data segments the socket has taken in. */
static long wl_read(struct vns_ctx *ctx, struct wl_flow *f, struct vns_sock *sk, size_t max)
{
    long n = vns_sys_read(ctx, sk, max);

    if (n > 0) {
        struct vns_tcp_info ti;

        if (f->wl->spec->type != VNS_SC_TCP_RR && vns_tcp_get_info(sk, &ti) == 0) {
            f->wl->rx_packets += ti.data_segs_in - f->rx_segs;
            f->rx_segs = ti.data_segs_in;
        }
    }
    return n;
}

/* The sender's system call (syscall: write, send or sendmsg). */
static long wl_write(struct vns_ctx *ctx, const struct vns_sc_workload *s, struct vns_sock *sk, size_t len)
{
    switch (s->syscall) {
    case VNS_SC_SYS_SEND:
        return vns_sys_send(ctx, sk, len, 0);
    case VNS_SC_SYS_SENDMSG:
        return vns_sys_sendmsg(ctx, sk, len, 0);
    default:
        return vns_sys_write(ctx, sk, len);
    }
}

static int wl_fail(struct vns_workload *wl, long err)
{
    if (!wl->error)
        wl->error = (int)err;
    return VNS_STEP_DONE;
}

/* One send of @len bytes (a datagram if @packet): the step's result. */
static int wl_send(struct vns_ctx *ctx, struct wl_flow *f, struct vns_sock *sk, uint64_t len, bool packet)
{
    long n = wl_write(ctx, f->wl->spec, sk, len);

    if (n == -VNS_EAGAIN)
        return VNS_STEP_SLEEP;
    if (n < 0)
        return wl_fail(f->wl, n);
    wl_tx(f->wl, ctx, n);
    f->wl->tx_packets += packet;
    return VNS_STEP_AGAIN;
}

static int stream_write(struct vns_ctx *ctx, struct wl_flow *f, struct vns_sock *sk)
{
    return wl_send(ctx, f, sk, f->wl->spec->write_size, false);
}

/* One read of a TCP stream's receiver: the step's result, or -1 at the
 * end of the stream or an error (*@n: 0 or the error). */
static int stream_read(struct vns_ctx *ctx, struct wl_flow *f, struct vns_sock *sk, long *n)
{
    *n = wl_read(ctx, f, sk, 65536);
    if (*n == -VNS_EAGAIN)
        return VNS_STEP_SLEEP;
    if (*n <= 0)
        return -1;
    wl_rx(f->wl, ctx, *n);
    return VNS_STEP_AGAIN;
}

static void flow_timer(struct vns_sim *sim, struct vns_timer *t)
{
    struct wl_flow *f = t->data;

    f->timer_fired = true;
    vns_ctx_wake_at(f->client, vns_sim_now(sim));
}

/* Sleep until @when (nanosleep / hrtimer). */
static int sleep_until(struct vns_ctx *ctx, struct wl_flow *f, vns_time_t when)
{
    f->timer_fired = false;
    vns_timer_arm(vns_ctx_sim(ctx), &f->timer, when);
    return VNS_STEP_SLEEP;
}

/* The data bytes a TCP socket's sequence state stands for (relative to
 * the ISNs, which the SYN takes one of; a FIN takes one more). */
static bool fin_in(enum vns_tcp_state s)
{
    return s == VNS_TCP_CLOSE_WAIT || s == VNS_TCP_LAST_ACK || s == VNS_TCP_CLOSING ||
           s == VNS_TCP_TIME_WAIT;
}

static bool fin_out(enum vns_tcp_state s)
{
    return s == VNS_TCP_FIN_WAIT1 || s == VNS_TCP_FIN_WAIT2 || s == VNS_TCP_CLOSING ||
           s == VNS_TCP_TIME_WAIT || s == VNS_TCP_LAST_ACK;
}

/* The byte books of one connection: @tx the sender's state, @rx the
 * receiver's (seq false: no socket yet, nothing received). */
static void tcp_byte_books(const struct wl_segs *tx, const struct wl_segs *rx,
                           struct vns_workload_result *out)
{
    uint32_t written = 0, rcvd = 0, copied = 0;

    if (tx->seq && tx->write_seq)
        written = tx->write_seq - 1 - fin_out(tx->state);
    if (rx->seq && rx->rcv_nxt) {
        rcvd = rx->rcv_nxt - 1 - fin_in(rx->state);
        copied = rx->copied_seq - 1 - (fin_in(rx->state) && rx->copied_seq == rx->rcv_nxt);
    }
    out->tcp_queued_bytes += (uint32_t)(rcvd - copied);
    out->tcp_not_received_bytes += (int32_t)(written - rcvd);
}

/* Add @sk's segment figures (TCP) to @s. */
static void wl_segs_add(struct wl_segs *s, const struct vns_sock *sk)
{
    struct vns_tcp_info ti;

    if (sk && vns_tcp_get_info(sk, &ti) == 0) {
        s->out += ti.data_segs_out;
        s->retrans += ti.total_retrans;
        s->in_units += ti.data_segs_in_units;
        s->seq = true;
        s->state = ti.state;
        s->write_seq = ti.write_seq;
        s->rcv_nxt = ti.rcv_nxt;
        s->copied_seq = ti.copied_seq;
    }
}

static int client_close(struct vns_ctx *ctx, struct wl_flow *f)
{
    vns_timer_cancel(vns_ctx_sim(ctx), &f->timer);
    if (is_tcp(f->wl->spec)) {
        wl_segs_add(&f->closed[0], f->cli);
        f->closed[0].closed = true;
    }
    vns_sys_close(ctx, f->cli);
    f->cli = NULL;
    f->cphase = 2;
    return VNS_STEP_DONE;
}

/* Advance the paced sender's schedule by one datagram: size * 8 bits at
 * rate bit/s, exactly (the remainder carried in 1/rate ns units). */
static void pace_next(struct wl_flow *f, const struct vns_sc_workload *s)
{
    uint64_t num = s->write_size * 8u * 1000000000u;   /* < 2^60 for 64 KiB */

    f->next_tx += num / s->rate_bps;
    f->next_frac += num % s->rate_bps;
    if (f->next_frac >= s->rate_bps) {
        f->next_frac -= s->rate_bps;
        f->next_tx++;
    }
}

static int udp_stream_client(struct vns_ctx *ctx, struct wl_flow *f)
{
    struct vns_workload *wl = f->wl;
    const struct vns_sc_workload *s = wl->spec;
    vns_time_t now = vns_ctx_now(ctx);
    int rc;

    if (now >= wl->end)
        return client_close(ctx, f);
    if (s->rate_bps && now < f->next_tx)
        return f->next_tx >= wl->end ? client_close(ctx, f) : sleep_until(ctx, f, f->next_tx);
    rc = wl_send(ctx, f, f->cli, s->write_size, true);
    if (rc == VNS_STEP_AGAIN && s->rate_bps)
        pace_next(f, s);
    return rc;
}

static int udp_rr_client(struct vns_ctx *ctx, struct wl_flow *f)
{
    struct vns_workload *wl = f->wl;
    const struct vns_sc_workload *s = wl->spec;
    long n;

    if (!f->cpending) {
        if (vns_ctx_now(ctx) >= wl->end)
            return client_close(ctx, f);
        int rc = wl_send(ctx, f, f->cli, s->request_size, true);

        if (rc != VNS_STEP_AGAIN)
            return rc;
        f->req_at = vns_ctx_now(ctx);
        f->cpending = 1;
        f->timer_fired = false;
        vns_timer_arm(vns_ctx_sim(ctx), &f->timer, f->req_at + s->timeout);
        return VNS_STEP_AGAIN;
    }
    n = vns_sys_recv(ctx, f->cli, 65536, 0);
    if (n == -VNS_EAGAIN) {
        if (!f->timer_fired)
            return VNS_STEP_SLEEP;
        wl->timeouts++;          /* lost: send the next request */
        f->cpending = 0;
        return VNS_STEP_AGAIN;
    }
    if (n < 0)
        return wl_fail(wl, n);
    vns_timer_cancel(vns_ctx_sim(ctx), &f->timer);
    wl_rx(wl, ctx, n);
    wl->rx_packets++;
    wl->transactions++;
    vns_hist_record(&wl->lat, vns_ctx_now(ctx) - f->req_at);
    f->cpending = 0;
    return VNS_STEP_AGAIN;
}

static int ping_client(struct vns_ctx *ctx, struct wl_flow *f)
{
    struct vns_workload *wl = f->wl;
    const struct vns_sc_workload *s = wl->spec;
    vns_time_t now = vns_ctx_now(ctx);
    uint16_t seq;
    long n = vns_sys_ping_recvfrom(ctx, f->cli, &seq, NULL);

    if (n >= 0) {
        uint64_t k = f->seq - (uint16_t)(f->seq - seq);   /* the request it answers */

        if (seq == (uint16_t)k && k < f->seq && f->seq - k <= PING_RING) {
            vns_hist_record(&wl->lat, now - f->ping_sent[k % PING_RING]);
            wl->transactions++;
        }
        wl_rx(wl, ctx, n);
        wl->rx_packets++;
        return VNS_STEP_AGAIN;
    }
    if (n != -VNS_EAGAIN)
        return wl_fail(wl, n);
    if (now >= wl->end || (s->count && f->seq >= s->count))
        return VNS_STEP_SLEEP;   /* no more requests; replies still wake us */
    if (now < f->next_tx)
        return f->timer_fired || vns_timer_pending(&f->timer) ? VNS_STEP_SLEEP : sleep_until(ctx, f, f->next_tx);
    n = vns_sys_ping_sendto(ctx, f->cli, s->size, (uint16_t)f->seq, f->dst.addr);
    if (n < 0)
        return wl_fail(wl, n);
    f->ping_sent[f->seq % PING_RING] = now;
    f->seq++;
    wl_tx(wl, ctx, n);
    wl->tx_packets++;
    f->next_tx += s->interval;
    f->timer_fired = false;
    return VNS_STEP_AGAIN;
}

static int client_step(struct vns_ctx *ctx, void *arg)
{
    struct wl_flow *f = arg;
    struct vns_workload *wl = f->wl;
    const struct vns_sc_workload *s = wl->spec;
    long n;

    if (f->cphase == 0) {
        int rc = s->type == VNS_SC_PING ? 0 : vns_sys_connect(ctx, f->cli, &f->dst);

        if (rc == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (rc < 0)
            return wl_fail(wl, rc);
        f->cphase = 1;
        f->next_tx = vns_ctx_now(ctx);
        return VNS_STEP_AGAIN;
    }
    if (f->cphase != 1)
        return VNS_STEP_DONE;
    switch (s->type) {
    case VNS_SC_UDP_STREAM:
        return udp_stream_client(ctx, f);
    case VNS_SC_UDP_RR:
        return udp_rr_client(ctx, f);
    case VNS_SC_PING:
        return ping_client(ctx, f);
    case VNS_SC_TCP_STREAM:
        return vns_ctx_now(ctx) >= wl->end ? client_close(ctx, f) : stream_write(ctx, f, f->cli);
    case VNS_SC_TCP_MAERTS: {
        int rc;

        if (vns_ctx_now(ctx) >= wl->end)
            return client_close(ctx, f);
        rc = stream_read(ctx, f, f->cli, &n);
        return rc >= 0 ? rc : n < 0 ? wl_fail(wl, n) : VNS_STEP_DONE;
    }
    case VNS_SC_TCP_RR:
        if (vns_ctx_now(ctx) >= wl->end)
            return client_close(ctx, f);
        /* request, then wait for the whole response */
        if (!f->cpending) {
            n = vns_sys_write(ctx, f->cli, s->request_size);
            if (n == -VNS_EAGAIN)
                return VNS_STEP_SLEEP;
            if (n < 0)
                return wl_fail(wl, n);
            wl_tx(wl, ctx, n);
            wl->tx_packets++;
            f->req_at = vns_ctx_now(ctx);
            f->cpending = s->response_size;
            return VNS_STEP_AGAIN;
        }
        n = wl_read(ctx, f, f->cli, f->cpending);
        if (n == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (n <= 0)
            return n < 0 ? wl_fail(wl, n) : VNS_STEP_DONE;
        wl_rx(wl, ctx, n);
        f->cpending -= (uint64_t)n;
        if (!f->cpending) {
            wl->transactions++;
            wl->rx_packets++;
            vns_hist_record(&wl->lat, vns_ctx_now(ctx) - f->req_at);
        }
        return VNS_STEP_AGAIN;
    }
    return VNS_STEP_DONE;
}

static int server_close(struct vns_ctx *ctx, struct wl_flow *f, long n)
{
    f->sphase = 1;   /* EOF or error: close */
    if (is_tcp(f->wl->spec)) {
        wl_segs_add(&f->closed[1], f->srv);
        f->closed[1].closed = true;
    }
    vns_sys_close(ctx, f->srv);
    f->srv = NULL;
    return n < 0 ? wl_fail(f->wl, n) : VNS_STEP_DONE;
}

/* The UDP_RR server's response to f->sto. netserver's socket is blocking:
 * with its send buffer full, sendto sleeps in sock_wait_for_wmem
 * (sock_alloc_send_pskb, net/core/sock.c in 5.4) until sock_wfree frees
 * room, then sends; the model's sendto returns -EAGAIN with the server
 * registered as the socket's waiter, and the server sends again when it
 * is woken, before it reads the next request. */
static int udp_rr_reply(struct vns_ctx *ctx, struct wl_flow *f)
{
    long n = vns_sys_sendto(ctx, f->srv, f->wl->spec->response_size, 0, &f->sto);

    if (n == -VNS_EAGAIN)
        return VNS_STEP_SLEEP;
    f->sreply = false;
    return n < 0 ? wl_fail(f->wl, n) : VNS_STEP_AGAIN;
}

static int udp_server(struct vns_ctx *ctx, struct wl_flow *f)
{
    struct vns_workload *wl = f->wl;
    long n;

    if (f->sreply)
        return udp_rr_reply(ctx, f);
    n = vns_sys_recvfrom(ctx, f->srv, 65536, 0, &f->sto);
    if (n == -VNS_EAGAIN)
        return VNS_STEP_SLEEP;
    if (n < 0)
        return wl_fail(wl, n);
    wl->rx_packets++;
    if (wl->spec->type == VNS_SC_UDP_STREAM) {
        wl_rx(wl, ctx, n);
        return VNS_STEP_AGAIN;
    }
    f->sreply = true;
    return udp_rr_reply(ctx, f);
}

static int server_step(struct vns_ctx *ctx, void *arg)
{
    struct wl_flow *f = arg;
    struct vns_workload *wl = f->wl;
    const struct vns_sc_workload *s = wl->spec;
    long n;

    if (!is_tcp(s))
        return udp_server(ctx, f);
    if (!f->srv) {
        int rc = vns_sys_accept(ctx, f->lsk, &f->srv);

        if (rc == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (rc < 0)
            return wl_fail(wl, rc);
        vns_sock_set_flow_book(f->srv, wl->books[1]);
        return VNS_STEP_AGAIN;
    }
    if (f->sphase)
        return VNS_STEP_DONE;
    if (s->type == VNS_SC_TCP_STREAM) {
        int rc = stream_read(ctx, f, f->srv, &n);

        return rc >= 0 ? rc : server_close(ctx, f, n);
    }
    if (s->type == VNS_SC_TCP_MAERTS)
        return vns_ctx_now(ctx) >= wl->end ? server_close(ctx, f, 0) : stream_write(ctx, f, f->srv);
    /* TCP_RR server: read a whole request, answer it. */
    if (f->sgot < s->request_size) {
        n = vns_sys_read(ctx, f->srv, s->request_size - f->sgot);
        if (n == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (n <= 0)
            return server_close(ctx, f, n);
        f->sgot += (uint64_t)n;
        if (f->sgot == s->request_size)
            wl->rx_packets++;
        return VNS_STEP_AGAIN;
    }
    n = vns_sys_write(ctx, f->srv, s->response_size);
    if (n == -VNS_EAGAIN)
        return VNS_STEP_SLEEP;
    if (n < 0)
        return wl_fail(wl, n);
    f->sgot = 0;
    return VNS_STEP_AGAIN;
}

/* Sockets and processes of flow @k of @wl, on port @port. */
static int flow_start(struct vns_sim *sim, struct vns_workload *wl, struct wl_flow *f, unsigned k, size_t i,
                      const struct vns_machine *from, const struct vns_machine *to, uint16_t port)
{
    const struct vns_sc_workload *s = wl->spec;
    unsigned fc = (s->from_cpu + k) % from->ncpus, tc = (s->to_cpu + k) % to->ncpus;
    bool tcp = is_tcp(s);
    char name[64];
    int err = 0;

    f->wl = wl;
    vns_timer_init(&f->timer, flow_timer, f, 0);   /* owner: the client, below */
    f->dst.addr = to->addr;
    f->dst.port = port;
    if (s->type == VNS_SC_PING) {
        f->ping_sent = vns_calloc(PING_RING, sizeof(*f->ping_sent));
        err = f->ping_sent ? vns_ping_socket_create(from->inet, fc, &f->cli) : -VNS_ENOMEM;
    } else {
        err = vns_socket_create(to->inet, tcp ? VNS_SOCK_STREAM : VNS_SOCK_DGRAM, tc, &f->lsk);
        if (!err)
            err = vns_sys_bind(f->lsk, &(struct vns_sockaddr_in){.port = port});
        if (!err && tcp)
            err = vns_sys_listen(f->lsk, 16);
        if (!tcp) {   /* the UDP server reads the bound socket itself */
            f->srv = f->lsk;
            f->lsk = NULL;
        }
        if (!err)
            err = vns_socket_create(from->inet, tcp ? VNS_SOCK_STREAM : VNS_SOCK_DGRAM, fc, &f->cli);
    }
    if (!err) {
        vns_sock_set_flow_book(f->cli, wl->books[0]);
        vns_sock_set_flow_book(f->srv, wl->books[1]); /* UDP: the bound socket answers */
    }
    if (!err && s->sndbuf) {
        vns_sock_set_sndbuf(f->cli, (unsigned)s->sndbuf);
        if (f->srv) /* the UDP_RR server's responses (netperf -S) */
            vns_sock_set_sndbuf(f->srv, (unsigned)s->sndbuf);
    }
    if (!err && s->rcvbuf) {
        vns_sock_set_rcvbuf(f->cli, (unsigned)s->rcvbuf);
        if (f->srv)
            vns_sock_set_rcvbuf(f->srv, (unsigned)s->rcvbuf);
    }
    if (!err && s->type == VNS_SC_TCP_RR)
        vns_sock_set_nodelay(f->cli, true);
    if (!err && s->type != VNS_SC_PING) {
        snprintf(name, sizeof(name), k ? "netserver-%zu.%u" : "netserver-%zu", i, k);
        err = vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .name = name, .cpu = to->cpus[tc],
                                                          .threadfn = -1, .fn = server_step, .arg = f},
                             &f->server);
        if (!err)
            err = vns_ctx_start(f->server, s->start);
    }
    snprintf(name, sizeof(name), k ? "%s-%zu.%u" : "%s-%zu", s->type == VNS_SC_PING ? "ping" : "netperf", i, k);
    if (!err)
        err = vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_USER, .name = name, .cpu = from->cpus[fc],
                                                          .threadfn = -1, .fn = client_step, .arg = f},
                             &f->client);
    if (!err)
        f->timer.owner = vns_ctx_id(f->client);
    if (!err)
        err = vns_ctx_start(f->client, s->start);
    return err;
}

static int workload_start(struct vns_world *w, struct vns_workload *wl, const struct vns_sc_workload *s, size_t i,
                          uint16_t *port, const struct vns_scenario *sc, struct vns_diag *d)
{
    const struct vns_machine *from = vns_world_machine(w, s->from), *to = vns_world_machine(w, s->to);
    int err = 0;

    wl->spec = s;
    vns_hist_init(&wl->lat);
    wl->books[0] = vns_flow_reg_book(vns__world_flow_reg(w), 2 * i);
    wl->books[1] = vns_flow_reg_book(vns__world_flow_reg(w), 2 * i + 1);
    if (!to->addr)
        return vns_diag_set(d, -VNS_EINVAL, sc->file, s->line, 0, "workload %s: '%s' has no IPv4 address (addr:)",
                            vns_sc_workload_name(s->type), s->to);
    wl->rx_inet = stream_from_client(s) ? to->inet : from->inet;
    if (s->type == VNS_SC_PING)
        wl->rx_inet = from->inet;   /* replies are checked by ping */
    wl->end = s->duration ? s->start + s->duration : VNS_TIME_NEVER;
    wl->flows = vns_calloc(s->flows, sizeof(*wl->flows));
    if (!wl->flows)
        err = -VNS_ENOMEM;
    if (!err)
        err = vns__costs_start(w, s->start, wl->end, &wl->costs);
    for (unsigned k = 0; k < s->flows && !err; k++) {
        err = flow_start(vns_world_sim(w), wl, &wl->flows[k], k, i, from, to, (*port)++);
        wl->nflows++;
    }
    if (err)
        return vns_diag_set(d, err, sc->file, s->line, 0, "workload %s: %s", vns_sc_workload_name(s->type),
                            vns_strerror(err));
    return 0;
}

int vns__world_workloads_start(struct vns_world *w, const struct vns_scenario *sc, struct vns_diag *d)
{
    size_t n;
    struct vns_workload **slot = vns__world_workload_slot(w, &n);
    uint16_t port = 5001;
    int err = 0;

    if (!sc->nworkloads)
        return 0;
    *slot = vns_calloc(sc->nworkloads, sizeof(**slot));
    if (!*slot)
        return vns_diag_set(d, -VNS_ENOMEM, sc->file, 0, 0, "out of memory");
    vns__world_set_nworkloads(w, sc->nworkloads);
    for (size_t i = 0; i < sc->nworkloads && !err; i++)
        err = workload_start(w, &(*slot)[i], &sc->workloads[i], i, &port, sc, d);
    return err;
}

void vns__world_workloads_stop(struct vns_world *w)
{
    size_t n;
    struct vns_workload **slot = vns__world_workload_slot(w, &n);

    for (size_t i = 0; *slot && i < n; i++) {
        struct vns_workload *wl = &(*slot)[i];

        for (unsigned k = 0; k < wl->nflows; k++) {
            struct wl_flow *f = &wl->flows[k];

            vns_timer_cancel(vns_world_sim(w), &f->timer);
            vns_sys_close(NULL, f->cli);
            vns_sys_close(NULL, f->srv);
            vns_sys_close(NULL, f->lsk);
            vns_ctx_destroy(f->client);
            vns_ctx_destroy(f->server);
            vns_free(f->ping_sent);
        }
        vns_free(wl->flows);
        vns__costs_destroy(wl->costs);
    }
    vns_free(*slot);
    *slot = NULL;
}

static double series_rx_bits(void *arg)
{
    return (double)((const struct vns_workload *)arg)->received * 8;
}

static double series_rx_packets(void *arg)
{
    return (double)((const struct vns_workload *)arg)->rx_packets;
}

/* The sending socket's congestion window (segments); 0 once closed. */
static double series_cwnd(void *arg)
{
    const struct wl_flow *f = arg;
    const struct vns_sock *sk = f->wl->spec->type == VNS_SC_TCP_MAERTS ? f->srv : f->cli;
    struct vns_tcp_info ti;

    return sk && vns_tcp_get_info(sk, &ti) == 0 ? (double)ti.snd_cwnd : 0.0;
}

int vns__world_workloads_series(struct vns_world *w)
{
    size_t n;
    struct vns_workload **slot = vns__world_workload_slot(w, &n);
    struct vns_sim *sim = vns_world_sim(w);
    char name[96];
    int err = 0;

    for (size_t i = 0; *slot && i < n && !err; i++) {
        struct vns_workload *wl = &(*slot)[i];
        const char *type = vns_sc_workload_name(wl->spec->type);

        snprintf(name, sizeof(name), "wl%zu.%s.rx_bps", i, type);
        err = vns_series_add(sim, name, series_rx_bits, wl, true);
        snprintf(name, sizeof(name), "wl%zu.%s.packets_per_s", i, type);
        if (!err)
            err = vns_series_add(sim, name, series_rx_packets, wl, true);
        for (unsigned k = 0; k < wl->nflows && k < 4 && !err && is_tcp(wl->spec) && wl->spec->type != VNS_SC_TCP_RR;
             k++) {
            snprintf(name, sizeof(name), "wl%zu.%s.flow%u.cwnd", i, type, k);
            err = vns_series_add(sim, name, series_cwnd, &wl->flows[k], false);
        }
    }
    return err;
}

int vns_world_workload_costs(const struct vns_world *w, size_t i, struct vns_workload_costs *out)
{
    size_t n;
    struct vns_workload **slot = vns__world_workload_slot((struct vns_world *)w, &n);

    if (!*slot || i >= n || !(*slot)[i].costs)
        return -VNS_ENOENT;
    vns__costs_get((*slot)[i].costs, out);
    return 0;
}

int vns_world_workload(const struct vns_world *w, size_t i, struct vns_workload_result *out)
{
    size_t n;
    struct vns_workload **slot = vns__world_workload_slot((struct vns_world *)w, &n);
    const struct vns_workload *wl;
    const struct vns_sc_workload *s;
    const struct vns_inet_stats *st;
    vns_time_t span;

    if (!*slot || i >= n)
        return -VNS_ENOENT;
    wl = &(*slot)[i];
    s = wl->spec;
    memset(out, 0, sizeof(*out));
    out->type = vns_sc_workload_name(s->type);
    out->from = s->from;
    out->to = s->to;
    out->flows = wl->nflows;
    out->bytes = wl->received;
    out->sent_bytes = wl->sent;
    out->transactions = wl->transactions;
    out->packets_sent = wl->tx_packets;
    out->packets = wl->rx_packets;
    if (s->type == VNS_SC_UDP_STREAM || s->type == VNS_SC_PING)
        out->lost = wl->tx_packets > wl->rx_packets ? wl->tx_packets - wl->rx_packets : 0;
    else if (s->type == VNS_SC_UDP_RR)
        out->lost = wl->timeouts;
    out->start = wl->first_rx;
    out->end = wl->last_rx;
    if (wl->last_rx > wl->first_rx) {
        span = wl->last_rx - wl->first_rx;
        out->throughput_bps = (double)wl->received * 8e9 / (double)span;
        out->packets_per_s = (double)wl->rx_packets * 1e9 / (double)span;
    }
    if (s->type != VNS_SC_PING && wl->transactions && wl->last_rx > wl->first_tx)
        out->transactions_per_s = (double)wl->transactions * 1e9 / (double)(wl->last_rx - wl->first_tx);
    out->latency_p50 = vns_hist_percentile(&wl->lat, 50);
    out->latency_p99 = vns_hist_percentile(&wl->lat, 99);
    out->latency_p999 = vns_hist_percentile(&wl->lat, 99.9);
    st = vns_inet_stats(wl->rx_inet);
    out->verified = st->payload_bytes_verified;
    out->mismatches = st->payload_mismatches;
    out->error = wl->error;
    for (unsigned k = 0; k < wl->nflows; k++) {
        const struct wl_flow *f = &wl->flows[k];
        /* the data direction: client -> server, but server -> client for maerts */
        int tx = stream_from_client(s) ? 0 : 1;
        struct wl_segs seg[2] = {f->closed[0], f->closed[1]};
        struct vns_sock_stats ss;

        if (is_tcp(s)) {
            wl_segs_add(&seg[0], f->cli);
            wl_segs_add(&seg[1], f->srv);
            out->segs_sent += seg[tx].out;
            out->segs_sent_partial |= seg[tx].closed;
            out->segs_retransmitted += seg[tx].retrans;
            out->segs_received += seg[!tx].in_units;
            tcp_byte_books(&seg[tx], &seg[!tx], out);
        } else if (s->type == VNS_SC_UDP_STREAM && f->srv) {
            vns_sock_get_stats(f->srv, &ss);
            out->socket_drops += ss.drops;
        }
    }
    return 0;
}
