/* tests/support/inet_tcp.c -- TCP workloads for tests: a client that
 * connects and writes N bytes in writes of W bytes then closes, and a
 * server that accepts one connection and reads until EOF (see
 * inet_tcp.h). */
#include <string.h>

#include "support/inet_tcp.h"
#include "vnetsim/cpu.h"
#include "vnetsim/error.h"
#include "vnetsim/sim.h"

static int client_step(struct vns_ctx *ctx, void *arg)
{
    struct tcp_client *c = arg;
    long n;

    switch (c->phase) {
    case 0: {
        int rc = vns_sys_connect(ctx, c->sk, &c->dst);

        if (rc == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (rc < 0) {
            c->error = rc;
            c->phase = 3;
            return VNS_STEP_DONE;
        }
        c->connected_at = vns_ctx_now(ctx);
        c->phase = 1;
        return VNS_STEP_AGAIN;
    }
    case 1:
        if (c->sent == c->total) {
            c->phase = 2;
            return VNS_STEP_AGAIN;
        }
        if (c->think && vns_ctx_now(ctx) < c->next_write_at) {
            vns_charge_ns(ctx, VNS_USEC(10));
            return VNS_STEP_AGAIN;
        }
        n = vns_sys_write(ctx, c->sk, (size_t)VNS_MIN(c->write_size, c->total - c->sent));
        if (n == -VNS_EAGAIN) {
            c->blocked++;
            return VNS_STEP_SLEEP;
        }
        if (n < 0) {
            c->error = (int)n;
            c->phase = 3;
            return VNS_STEP_DONE;
        }
        c->sent += (uint64_t)n;
        c->writes++;
        c->next_write_at = vns_ctx_now(ctx) + c->think;
        return VNS_STEP_AGAIN;
    case 2:
        if (!c->no_close) {
            vns_sys_close(ctx, c->sk);
            c->sk = NULL;
        }
        c->done_at = vns_ctx_now(ctx);
        c->phase = 3;
        return VNS_STEP_DONE;
    default:
        return VNS_STEP_DONE;
    }
}

static void server_wake(struct vns_sim *sim, void *arg)
{
    struct tcp_server *s = arg;

    (void)sim;
    vns_ctx_wake(NULL, s->ctx);
}

static int server_step(struct vns_ctx *ctx, void *arg)
{
    struct tcp_server *s = arg;
    long n;

    if (!s->conn) {
        int rc = vns_sys_accept(ctx, s->lsk, &s->conn);

        if (rc == -VNS_EAGAIN)
            return VNS_STEP_SLEEP;
        if (rc < 0) {
            s->error = rc;
            return VNS_STEP_DONE;
        }
        s->accepted_at = vns_ctx_now(ctx);
        return VNS_STEP_AGAIN;
    }
    if (s->eof)
        return VNS_STEP_DONE;
    if (vns_ctx_now(ctx) < s->read_after) {
        if (!s->read_timer_set) {
            s->read_timer_set = true;
            vns_sim_call_at(vns_ctx_sim(ctx), s->read_after, server_wake, s, 0);
        }
        return VNS_STEP_SLEEP;
    }
    n = vns_sys_read(ctx, s->conn, s->read_size);
    if (n == -VNS_EAGAIN) {
        s->sleeps++;
        return VNS_STEP_SLEEP;
    }
    if (n < 0) {
        s->error = (int)n;
        return VNS_STEP_DONE;
    }
    if (n == 0) {
        s->eof = true;
        s->eof_at = vns_ctx_now(ctx);
        if (!s->no_close) {
            vns_sys_close(ctx, s->conn);
            s->conn_closed = true;
        }
        return VNS_STEP_DONE;
    }
    s->received += (uint64_t)n;
    s->reads++;
    if (s->read_interval) {
        s->read_after = vns_ctx_now(ctx) + s->read_interval;
        s->read_timer_set = false;
    }
    return VNS_STEP_AGAIN;
}

void tcp_server_start(struct tcp_server *s, struct inet_host *h, uint16_t port, size_t read_size)
{
    memset(s, 0, sizeof(*s));
    s->read_size = read_size ? read_size : 65536;
    assert_int_equal(vns_socket_create(h->inet, VNS_SOCK_STREAM, 0, &s->lsk), 0);
    assert_int_equal(vns_sys_bind(s->lsk, &(struct vns_sockaddr_in){.port = port}), 0);
    assert_int_equal(vns_sys_listen(s->lsk, 16), 0);
    s->ctx = vns_test_ctx(h->sim, VNS_CTX_USER, "server", h->cpus[0], server_step, s);
    vns_ctx_start(s->ctx, vns_sim_now(h->sim));
}

void tcp_client_start(struct tcp_client *c, struct inet_host *h, uint32_t daddr, uint16_t port,
                      uint64_t total, size_t write_size)
{
    c->dst.addr = daddr;
    c->dst.port = port;
    c->total = total;
    c->write_size = write_size ? write_size : 65536;
    if (!c->sk)
        assert_int_equal(vns_socket_create(h->inet, VNS_SOCK_STREAM, 0, &c->sk), 0);
    c->ctx = vns_test_ctx(h->sim, VNS_CTX_USER, "client", h->cpus[0], client_step, c);
    vns_ctx_start(c->ctx, vns_sim_now(h->sim));
}

void tcp_client_fini(struct tcp_client *c)
{
    if (c->sk)
        vns_sys_close(NULL, c->sk);
    vns_ctx_destroy(c->ctx);
}

void tcp_server_fini(struct tcp_server *s)
{
    if (s->conn && !s->conn_closed)
        vns_sys_close(NULL, s->conn);
    vns_sys_close(NULL, s->lsk);
    vns_ctx_destroy(s->ctx);
}

void tcp_pair_finish(struct inet_pair *p, struct tcp_client *c, struct tcp_server *s)
{
    if (c->sk) {
        vns_sys_close(NULL, c->sk);
        c->sk = NULL;
    }
    vns_sim_run(p->sim, vns_sim_now(p->sim) + VNS_SEC(80));
    tcp_client_fini(c);
    tcp_server_fini(s);
    inet_pair_fini(p);
}
