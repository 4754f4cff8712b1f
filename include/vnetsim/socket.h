/* vnetsim -- the socket system calls that workloads make (UDP and TCP over
 * IPv4). LINUX: net/socket.c, fs/read_write.c, net/ipv4/af_inet.c,
 * net/ipv4/udp.c, net/ipv4/tcp.c.
 *
 * Every call takes the calling context: a VNS_CTX_USER context (its base
 * frames entry_SYSCALL_64_after_hwframe, do_syscall_64 are the engine's),
 * and pushes the kernel's frames (__x64_sys_write, ksys_write, vfs_write,
 * __vfs_write, new_sync_write, sock_write_iter, sock_sendmsg,
 * inet_sendmsg, tcp_sendmsg, ...) as it runs.
 *
 * Blocking: a call that would block returns -VNS_EAGAIN after registering
 * the calling context as the socket's waiter (sk_sleep): the workload
 * returns VNS_STEP_SLEEP from its step and calls again when woken (the
 * socket wakes it on data, buffer space, connection or error). A socket
 * made non-blocking (O_NONBLOCK) returns -VNS_EAGAIN without registering.
 * A blocking write that fills the send buffer part-way returns the bytes
 * it queued (the rest is written by the next call): LINUX: tcp_sendmsg
 * sleeps inside the call; the model returns instead, so one write(2) of N
 * bytes may show as several entries of the syscall frames.
 *
 * Payload is synthetic: write(len) queues @len bytes whose content is
 * vns_payload_byte(vns_inet_flow_id(4-tuple), stream offset); read()
 * returns lengths. Receivers verify what they get (vns_inet_stats:
 * payload_bytes_verified / payload_mismatches). */
#ifndef VNETSIM_SOCKET_H
#define VNETSIM_SOCKET_H

#include "vnetsim/common.h"
#include "vnetsim/inet.h"

/* Socket errors that lib/core's errno list lacks (Linux values).
 * XXX(inet): move into vnetsim/error.h so vns_strerror names them. */
enum {
    VNS_SOCK_EADDRINUSE = 98,
    VNS_SOCK_ENETUNREACH = 101,
    VNS_SOCK_ECONNRESET = 104,
    VNS_SOCK_EISCONN = 106,
    VNS_SOCK_ENOTCONN = 107,
    VNS_SOCK_ECONNREFUSED = 111,
    VNS_SOCK_EALREADY = 114,
    VNS_SOCK_EINPROGRESS = 115,
};

enum vns_sock_type {
    VNS_SOCK_STREAM = 1, /* TCP */
    VNS_SOCK_DGRAM = 2,  /* UDP */
};

/* send/recv flags (include/linux/socket.h) */
#define VNS_MSG_DONTWAIT 0x40
#define VNS_MSG_MORE     0x8000

struct vns_sockaddr_in {
    uint32_t addr; /* host order */
    uint16_t port; /* host order */
};

/* socket(AF_INET, type, 0). The socket belongs to @inet; timers run on
 * CPU @cpu of its kernel (where the application runs). */
VNS_EXTERN int vns_socket_create(struct vns_inet *inet, enum vns_sock_type type, unsigned cpu,
                                 struct vns_sock **out);
/* Release the descriptor: TCP close (FIN, or RST with unread data) as
 * close(2) does; the socket memory lives on until the protocol is done
 * with it (TIME_WAIT, or an orphan's FIN handshake). @ctx may be NULL.
 * NULL sock is a no-op. */
VNS_EXTERN void vns_sys_close(struct vns_ctx *ctx, struct vns_sock *sk);

VNS_EXTERN int vns_sys_bind(struct vns_sock *sk, const struct vns_sockaddr_in *addr);
VNS_EXTERN int vns_sys_listen(struct vns_sock *sk, int backlog);
/* TCP: first call sends the SYN and returns -VNS_EAGAIN (blocking) or
 * -VNS_SOCK_EINPROGRESS (non-blocking); the call after the wake-up returns
 * 0 or the error (-VNS_SOCK_ECONNREFUSED, -VNS_ETIMEDOUT). UDP: sets the
 * default destination. */
VNS_EXTERN int vns_sys_connect(struct vns_ctx *ctx, struct vns_sock *sk,
                               const struct vns_sockaddr_in *addr);
/* A connected socket from the accept queue in *out, or -VNS_EAGAIN. */
VNS_EXTERN int vns_sys_accept(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_sock **out);

/* write(2) / send(2) of @len synthetic bytes: bytes queued (> 0),
 * -VNS_EAGAIN, -VNS_EPIPE, -VNS_SOCK_ENOTCONN, ... */
VNS_EXTERN long vns_sys_write(struct vns_ctx *ctx, struct vns_sock *sk, size_t len);
VNS_EXTERN long vns_sys_send(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags);
/* sendmsg(2) of one iovec of @len synthetic bytes (lib/net/sendmsg.c):
 * the same as send but through __sys_sendmsg / ___sys_sendmsg (msghdr and
 * iovec copied from user space). */
VNS_EXTERN long vns_sys_sendmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags);
/* sendto(2) for UDP: one datagram of @len payload bytes. -VNS_EMSGSIZE
 * above 65507; -VNS_EAGAIN / -VNS_ENOBUFS when the send buffer is full. */
VNS_EXTERN long vns_sys_sendto(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags,
                               const struct vns_sockaddr_in *to);
/* read(2) / recv(2): bytes consumed (> 0), 0 at end of stream (TCP),
 * -VNS_EAGAIN. UDP: one datagram (truncated to @len), its source in @from
 * (recvfrom). */
VNS_EXTERN long vns_sys_read(struct vns_ctx *ctx, struct vns_sock *sk, size_t len);
VNS_EXTERN long vns_sys_recv(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags);
VNS_EXTERN long vns_sys_recvfrom(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags,
                                 struct vns_sockaddr_in *from);

/* shutdown(2): SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2. TCP SHUT_WR sends the
 * FIN once the queued data is out (tcp_shutdown); reading continues. */
#define VNS_SHUT_RD   0
#define VNS_SHUT_WR   1
#define VNS_SHUT_RDWR 2
VNS_EXTERN int vns_sys_shutdown(struct vns_ctx *ctx, struct vns_sock *sk, int how);

/* setsockopt equivalents. */
VNS_EXTERN void vns_sock_set_nonblock(struct vns_sock *sk, bool on);
VNS_EXTERN void vns_sock_set_sndbuf(struct vns_sock *sk,
                                    unsigned bytes); /* SO_SNDBUF (doubled, as the kernel does) */
VNS_EXTERN void vns_sock_set_rcvbuf(struct vns_sock *sk, unsigned bytes); /* SO_RCVBUF (doubled) */
VNS_EXTERN void vns_sock_set_nodelay(struct vns_sock *sk, bool on);       /* TCP_NODELAY */
VNS_EXTERN void vns_sock_set_cork(struct vns_sock *sk, bool on);          /* TCP_CORK */
/* TCP_CONGESTION: "cubic" or "reno". -VNS_ENOENT otherwise. */
VNS_EXTERN int vns_sock_set_congestion(struct vns_sock *sk, const char *name);
VNS_EXTERN void vns_sock_set_priority(struct vns_sock *sk,
                                      uint32_t prio);               /* SO_PRIORITY (qdisc band) */
VNS_EXTERN void vns_sock_set_tos(struct vns_sock *sk, uint8_t tos); /* IP_TOS */

VNS_EXTERN struct vns_sockaddr_in vns_sock_local(const struct vns_sock *sk);
VNS_EXTERN struct vns_sockaddr_in vns_sock_peer(const struct vns_sock *sk);
/* Pending socket error (SO_ERROR), 0 if none. */
VNS_EXTERN int vns_sock_error(const struct vns_sock *sk);

struct vns_sock_stats {
    uint64_t bytes_sent;     /* accepted by write/send */
    uint64_t bytes_received; /* returned by read/recv */
    uint64_t datagrams_received;
    uint64_t drops;       /* UDP: rcvbuf full */
    unsigned rmem_alloc;  /* sk_rmem_alloc (truesize of queued skbs) */
    unsigned wmem_queued; /* sk_wmem_queued */
    unsigned wmem_alloc;  /* sk_wmem_alloc: 1 + truesize of sent skbs still below TCP */
    unsigned rcvbuf, sndbuf;
};
VNS_EXTERN void vns_sock_get_stats(const struct vns_sock *sk, struct vns_sock_stats *st);

#endif
