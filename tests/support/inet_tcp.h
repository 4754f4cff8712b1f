/* tests/support/inet_tcp.h -- TCP test workloads on top of inet_link.h. */
#ifndef INET_TCP_H
#define INET_TCP_H

#include "support/inet_link.h"

struct tcp_client {
    struct vns_sock *sk; /* may be preset (options) before start */
    struct vns_ctx *ctx;
    struct vns_sockaddr_in dst;
    uint64_t total, sent;
    size_t write_size;
    vns_time_t think; /* pause between writes (0 = none) */
    vns_time_t next_write_at;
    bool no_close;
    int phase;
    int error;
    unsigned writes, blocked;
    vns_time_t connected_at, done_at;
};

struct tcp_server {
    struct vns_sock *lsk, *conn;
    struct vns_ctx *ctx;
    size_t read_size;
    uint64_t received;
    unsigned reads, sleeps;
    bool eof, no_close, conn_closed;
    vns_time_t read_after; /* accept at once, read from then on */
    bool read_timer_set;
    vns_time_t read_interval; /* pause after each read (a slow reader) */
    int error;
    vns_time_t accepted_at, eof_at;
};

void tcp_server_start(struct tcp_server *s, struct inet_host *h, uint16_t port, size_t read_size);
void tcp_client_start(struct tcp_client *c, struct inet_host *h, uint32_t daddr, uint16_t port,
                      uint64_t total, size_t write_size);
void tcp_client_fini(struct tcp_client *c);
void tcp_server_fini(struct tcp_server *s);
/* Close the client (if still open), let TIME_WAIT and the peers' timers
 * run out (80 s more), then free the workloads and the pair. */
void tcp_pair_finish(struct inet_pair *p, struct tcp_client *c, struct tcp_server *s);

#endif
