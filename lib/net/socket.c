/* lib/net/socket.c -- the socket system calls of workloads, socket
 * memory, waiters, port allocation and lookup. LINUX: net/socket.c
 * (__sys_sendto, __sys_recvfrom, __sys_connect, __sys_accept4,
 * sock_sendmsg, sock_recvmsg, sock_read_iter, sock_write_iter,
 * sock_close), fs/read_write.c (ksys_write, vfs_write, __vfs_write,
 * new_sync_write and the read side), net/ipv4/af_inet.c (inet_sendmsg,
 * inet_recvmsg, inet_stream_connect, inet_accept, inet_release),
 * net/core/sock.c (lock_sock, release_sock / __release_sock with the
 * backlog, sock_def_readable), net/ipv4/inet_hashtables.c (port
 * selection from ip_local_port_range 32768-60999, __inet_lookup).
 *
 * Simplified: one waiting context per socket (sk_sleep is a wait queue
 * in Linux); lookups scan a list (tests hold a few sockets); the file
 * layer (fdget, rw_verify_area) is charged in the frames' costs only. */
#include <string.h>

#include "inet_int.h"
#include "vnetsim/rng.h"

struct vns_sock *vns__sock_alloc(struct vns_inet *inet, enum vns_sock_type type, unsigned cpu)
{
    struct vns_sock *sk = vns_calloc(1, sizeof(*sk));

    if (!sk)
        return NULL;
    sk->inet = inet;
    sk->type = type;
    sk->protocol = type == VNS_SOCK_STREAM ? VNS_IPPROTO_TCP : VNS_IPPROTO_UDP;
    sk->cpu = cpu < vns_kernel_ncpus(inet->k) ? cpu : 0;
    vns_skb_queue_head_init(&sk->receive_queue);
    vns_skb_queue_head_init(&sk->backlog);
    sk->wmem_alloc = 1; /* sk_alloc: refcount_set(&sk->sk_wmem_alloc, 1) */
    if (type == VNS_SOCK_STREAM) {
        sk->sndbuf = inet->cfg.tcp_wmem[1];
        sk->rcvbuf = inet->cfg.tcp_rmem[1];
        if (vns__tcp_init_sock(sk) < 0) {
            vns_free(sk);
            return NULL;
        }
    } else {
        sk->sndbuf = inet->cfg.udp_wmem_default;
        sk->rcvbuf = inet->cfg.udp_rmem_default;
    }
    sk->next = inet->socks;
    inet->socks = sk;
    inet->nsocks++;
    if (inet->sk_cache && inet->sk_cache_size < 4 * inet->nsocks) {
        vns_free(inet->sk_cache);   /* regrown at the next lookup */
        inet->sk_cache = NULL;
        inet->sk_cache_size = 0;
    } else if (inet->sk_cache) {
        memset(inet->sk_cache, 0, inet->sk_cache_size * sizeof(*inet->sk_cache));
    }
    return sk;
}

/* Unlink and free: queues purged, timers cancelled. */
void vns__sock_free(struct vns_sock *sk)
{
    struct vns_sock **pp;

    for (pp = &sk->inet->socks; *pp; pp = &(*pp)->next) {
        if (*pp == sk) {
            *pp = sk->next;
            break;
        }
    }
    sk->inet->nsocks--;
    if (sk->sk_cache_slot && sk->inet->sk_cache && sk->sk_cache_slot <= sk->inet->sk_cache_size &&
        sk->inet->sk_cache[sk->sk_cache_slot - 1] == sk)
        sk->inet->sk_cache[sk->sk_cache_slot - 1] = NULL;
    vns_skb_queue_purge_reason(&sk->receive_queue, VNS_SKB_DROP_REASON_QUEUE_PURGE);
    vns_skb_queue_purge_reason(&sk->backlog, VNS_SKB_DROP_REASON_QUEUE_PURGE);
    if (sk->tp)
        vns__tcp_free_sock(sk);
    sk->freed = true;
    vns__tcp_tsq_forget(sk);
    /* sk_free: the memory goes with the last sk_wmem_alloc reference,
     * when the last transmitted skb is freed below TCP */
    vns__sk_free(sk);
}

int vns_socket_create(struct vns_inet *inet, enum vns_sock_type type, unsigned cpu,
                      struct vns_sock **out)
{
    struct vns_sock *sk;

    if (!inet || (type != VNS_SOCK_STREAM && type != VNS_SOCK_DGRAM))
        return -VNS_EINVAL;
    sk = vns__sock_alloc(inet, type, cpu);
    if (!sk)
        return -VNS_ENOMEM;
    *out = sk;
    return 0;
}

/* sk_data_ready / sk_write_space / sk_state_change: wake the waiter. */
void vns__sk_wake(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_ctx *w = sk->waiter;

    if (!w)
        return;
    sk->waiter = NULL;
    vns_fn_enter(ctx, VNS_FN_sock_def_readable);
    vns_ctx_wake(ctx, w);
    vns_fn_exit(ctx);
}

/* Would block: register @ctx (unless non-blocking) and return -EAGAIN. */
int vns__sk_wait(struct vns_ctx *ctx, struct vns_sock *sk)
{
    if (!sk->nonblock && ctx)
        sk->waiter = ctx;
    return -VNS_EAGAIN;
}

uint16_t vns__inet_ephemeral_port(struct vns_inet *inet, uint8_t proto, uint32_t saddr)
{
    /* inet_hash_connect / udp_lib_get_port: ip_local_port_range 32768..60999 */
    for (unsigned tries = 0; tries < 28232; tries++) {
        uint16_t port = inet->next_ephemeral;
        bool used = false;

        inet->next_ephemeral = (uint16_t)(port >= 60999 ? 32768 : port + 1);
        for (struct vns_sock *s = inet->socks; s; s = s->next)
            if (s->protocol == proto && s->sport == port &&
                (!s->saddr || !saddr || s->saddr == saddr))
                used = true;
        if (!used)
            return port;
    }
    return 0;
}

struct vns_sock *vns__sk_lookup(struct vns_inet *inet, uint8_t proto, uint32_t saddr,
                                uint16_t sport, uint32_t daddr, uint16_t dport)
{
    struct vns_sock *best = NULL;
    int best_score = -1;
    uint32_t slot = 0;

    /* @saddr/@sport: the packet's source (the remote end) */
    if (proto == VNS_IPPROTO_TCP) {
        struct vns_sock *s;

        if (!inet->sk_cache) {
            uint32_t n = VNS_SK_CACHE_MIN;

            while (n < 4 * inet->nsocks && n < (1u << 20))
                n <<= 1;
            if (!(inet->sk_cache = vns_calloc(n, sizeof(*inet->sk_cache))))
                goto scan;   /* no cache: the scan alone is still right */
            inet->sk_cache_size = n;
        }
        slot = (uint32_t)(vns_mix64(((uint64_t)saddr << 32 | daddr) ^ ((uint64_t)sport << 16 | dport)) &
                          (inet->sk_cache_size - 1));
        s = inet->sk_cache[slot];
        /* still the exact match the scan found (fields can change) */
        if (s && s->sport == dport && (!s->saddr || s->saddr == daddr) && !s->freed &&
            s->tp->state != VNS_TCP_LISTEN && s->dport == sport && s->daddr == saddr)
            return s;
    }
scan:
    for (struct vns_sock *s = inet->socks; s; s = s->next) {
        int score = 0;

        if (s->protocol != proto || s->sport != dport || s->freed)
            continue;
        if (s->saddr) {
            if (s->saddr != daddr)
                continue;
            score += 2;
        }
        if (proto == VNS_IPPROTO_TCP) {
            if (s->tp->state == VNS_TCP_LISTEN) {
                score += 0;
            } else if (s->dport == sport && s->daddr == saddr) {
                if (inet->sk_cache) {
                    inet->sk_cache[slot] = s;
                    s->sk_cache_slot = slot + 1;
                }
                return s; /* established (or request) match */
            } else {
                continue;
            }
        } else if (s->connected) {
            if (s->daddr != saddr || s->dport != sport)
                continue;
            score += 4;
        }
        if (score > best_score) {
            best = s;
            best_score = score;
        }
    }
    return best;
}

void vns__lock_sock(struct vns_ctx *ctx, struct vns_sock *sk)
{
    vns_fn_enter(ctx, VNS_FN_lock_sock_nested);
    sk->owned_by_user = true;
    vns_fn_exit(ctx);
}

/* release_sock: process what softirqs queued on the backlog meanwhile. */
void vns__release_sock(struct vns_ctx *ctx, struct vns_sock *sk)
{
    vns_fn_enter(ctx, VNS_FN_release_sock);
    if (sk->backlog.qlen) {
        struct vns_skb *skb;

        vns_fn_enter(ctx, VNS_FN___release_sock);
        while ((skb = vns_skb_dequeue(&sk->backlog)) != NULL) {
            sk->backlog_len -=
                skb->truesize < sk->backlog_len ? skb->truesize : sk->backlog_len;
            if (sk->tp && !sk->freed)
                vns__tcp_backlog_rcv(ctx, sk, skb);
            else
                vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_CLOSE);
        }
        sk->backlog_len = 0;
        vns_fn_exit(ctx);
    }
    if (sk->tp)
        vns__tcp_release_cb(ctx, sk); /* sk->sk_prot->release_cb */
    sk->owned_by_user = false;
    vns_fn_exit(ctx);
}

bool vns__payload_verify(struct vns_inet *inet, const struct vns_skb *skb, uint32_t off,
                         uint32_t len, uint64_t flow, uint64_t stream_off)
{
    uint32_t hl = vns_skb_headlen(skb);
    uint8_t buf[256], want[256];

    if (inet->cfg.skip_payload_verify || len == 0)
        return true;
    if (!skb->frag_list && off >= hl && off + len <= hl + skb->syn_len) {
        /* one synthetic range: its (flow, offset) decide every byte */
        if (skb->pay_flow == flow && (uint32_t)(skb->pay_off + (off - hl)) == (uint32_t)stream_off) {
            inet->stats.payload_bytes_verified += len;
            return true;
        }
        /* same bytes by accident are possible only for identical ids */
    }
    for (uint32_t done = 0; done < len;) {
        uint32_t n = VNS_MIN(len - done, (uint32_t)sizeof(buf));

        if (vns_skb_copy_bits(skb, off + done, buf, n) < 0)
            goto bad;
        vns_payload_fill(flow, stream_off + done, want, n);
        if (memcmp(buf, want, n))
            goto bad;
        done += n;
    }
    inet->stats.payload_bytes_verified += len;
    return true;
bad:
    inet->stats.payload_mismatches++;
    return false;
}

/* --- system calls ------------------------------------------------------------ */

long vns__sock_sendmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags,
                       const struct vns_sockaddr_in *to)
{
    long rc;

    vns_fn_enter(ctx, VNS_FN_sock_sendmsg);
    vns_fn_enter(ctx, VNS_FN_inet_sendmsg);
    if (sk->type == VNS_SOCK_STREAM)
        rc = vns__tcp_sendmsg(ctx, sk, len, flags);
    else
        rc = vns__udp_sendmsg(ctx, sk, len, flags, to);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    if (rc > 0)
        sk->st.bytes_sent += (uint64_t)rc;
    return rc;
}

static long sock_recvmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags,
                         struct vns_sockaddr_in *from)
{
    long rc;

    vns_fn_enter(ctx, VNS_FN_sock_recvmsg);
    vns_fn_enter(ctx, VNS_FN_inet_recvmsg);
    if (sk->type == VNS_SOCK_STREAM)
        rc = vns__tcp_recvmsg(ctx, sk, len, flags);
    else
        rc = vns__udp_recvmsg(ctx, sk, len, flags, from);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    if (rc > 0)
        sk->st.bytes_received += (uint64_t)rc;
    return rc;
}

/* The VFS frames of write(2) and read(2) on a socket (fs/read_write.c,
 * net/socket.c, linux-5.4), outermost first. */
static const int write_frames[] = {VNS_FN___x64_sys_write, VNS_FN_ksys_write, VNS_FN_vfs_write,
                                   VNS_FN___vfs_write, VNS_FN_new_sync_write, VNS_FN_sock_write_iter};
static const int read_frames[] = {VNS_FN___x64_sys_read, VNS_FN_ksys_read, VNS_FN_vfs_read,
                                  VNS_FN___vfs_read, VNS_FN_new_sync_read, VNS_FN_sock_read_iter};

static void frames_enter(struct vns_ctx *ctx, const int *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vns_fn_enter(ctx, f[i]);
}

static void frames_exit(struct vns_ctx *ctx, size_t n)
{
    while (n--)
        vns_fn_exit(ctx);
}

long vns_sys_write(struct vns_ctx *ctx, struct vns_sock *sk, size_t len)
{
    long rc;

    frames_enter(ctx, write_frames, VNS_ARRAY_SIZE(write_frames));
    rc = vns__sock_sendmsg(ctx, sk, len, 0, NULL);
    frames_exit(ctx, VNS_ARRAY_SIZE(write_frames));
    return rc;
}

long vns_sys_send(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags)
{
    return vns_sys_sendto(ctx, sk, len, flags, NULL);
}

long vns_sys_sendto(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags,
                    const struct vns_sockaddr_in *to)
{
    long rc;

    vns_fn_enter(ctx, VNS_FN___x64_sys_sendto);
    vns_fn_enter(ctx, VNS_FN___sys_sendto);
    rc = vns__sock_sendmsg(ctx, sk, len, flags, to);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return rc;
}

long vns_sys_read(struct vns_ctx *ctx, struct vns_sock *sk, size_t len)
{
    long rc;

    frames_enter(ctx, read_frames, VNS_ARRAY_SIZE(read_frames));
    rc = sock_recvmsg(ctx, sk, len, 0, NULL);
    frames_exit(ctx, VNS_ARRAY_SIZE(read_frames));
    return rc;
}

long vns_sys_recv(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags)
{
    return vns_sys_recvfrom(ctx, sk, len, flags, NULL);
}

long vns_sys_recvfrom(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags,
                      struct vns_sockaddr_in *from)
{
    long rc;

    vns_fn_enter(ctx, VNS_FN___x64_sys_recvfrom);
    vns_fn_enter(ctx, VNS_FN___sys_recvfrom);
    rc = sock_recvmsg(ctx, sk, len, flags, from);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return rc;
}

int vns_sys_bind(struct vns_sock *sk, const struct vns_sockaddr_in *addr)
{
    if (sk->bound)
        return -VNS_EINVAL;
    if (addr->addr && !vns_inet_addr_is_local(sk->inet, addr->addr))
        return -VNS_EINVAL; /* EADDRNOTAVAIL */
    if (addr->port) {
        for (struct vns_sock *s = sk->inet->socks; s; s = s->next)
            if (s != sk && s->protocol == sk->protocol && s->sport == addr->port &&
                (!s->saddr || !addr->addr || s->saddr == addr->addr))
                return -VNS_SOCK_EADDRINUSE;
        sk->sport = addr->port;
    } else {
        sk->sport = vns__inet_ephemeral_port(sk->inet, sk->protocol, addr->addr);
    }
    sk->saddr = addr->addr;
    sk->bound = true;
    return 0;
}

int vns_sys_listen(struct vns_sock *sk, int backlog)
{
    if (sk->type != VNS_SOCK_STREAM || !sk->bound)
        return -VNS_EINVAL;
    return vns__tcp_listen(sk, backlog);
}

int vns_sys_connect(struct vns_ctx *ctx, struct vns_sock *sk, const struct vns_sockaddr_in *addr)
{
    int rc;

    vns_fn_enter(ctx, VNS_FN___x64_sys_connect);
    vns_fn_enter(ctx, VNS_FN___sys_connect);
    if (sk->type == VNS_SOCK_DGRAM) {
        struct vns_rtable rt;

        rc = vns_ip_route_output(sk->inet, addr->addr, &rt);
        if (rc == 0) {
            if (!sk->saddr)
                sk->saddr = rt.prefsrc;
            if (!sk->sport)
                sk->sport = vns__inet_ephemeral_port(sk->inet, sk->protocol, sk->saddr);
            sk->bound = true;
            sk->daddr = addr->addr;
            sk->dport = addr->port;
            sk->connected = true;
            sk->tx_flow =
                vns_inet_flow_id(sk->saddr, sk->sport, sk->daddr, sk->dport, VNS_IPPROTO_UDP);
        } else {
            rc = -VNS_SOCK_ENETUNREACH;
        }
    } else {
        vns_fn_enter(ctx, VNS_FN_inet_stream_connect);
        rc = vns__tcp_connect(ctx, sk, addr);
        vns_fn_exit(ctx);
    }
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return rc;
}

int vns_sys_accept(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_sock **out)
{
    int rc;

    if (sk->type != VNS_SOCK_STREAM)
        return -VNS_EINVAL;
    vns_fn_enter(ctx, VNS_FN___x64_sys_accept4);
    vns_fn_enter(ctx, VNS_FN___sys_accept4);
    vns_fn_enter(ctx, VNS_FN_inet_accept);
    rc = vns__tcp_accept(ctx, sk, out);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return rc;
}

void vns_sys_close(struct vns_ctx *ctx, struct vns_sock *sk)
{
    if (!sk)
        return;
    vns_fn_enter(ctx, VNS_FN___x64_sys_close);
    vns_fn_enter(ctx, VNS_FN_sock_close);
    vns_fn_enter(ctx, VNS_FN_inet_release);
    sk->waiter = NULL;
    sk->user_closed = true;
    if (sk->type == VNS_SOCK_STREAM)
        vns__tcp_close(ctx, sk); /* may free it */
    else
        vns__sock_free(sk);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
}

void vns_sock_set_nonblock(struct vns_sock *sk, bool on)
{
    sk->nonblock = on;
}
void vns_sock_set_priority(struct vns_sock *sk, uint32_t prio)
{
    sk->priority = prio;
}
void vns_sock_set_tos(struct vns_sock *sk, uint8_t tos)
{
    sk->tos = tos;
}

/* inet_shutdown */
int vns_sys_shutdown(struct vns_ctx *ctx, struct vns_sock *sk, int how)
{
    if (how < VNS_SHUT_RD || how > VNS_SHUT_RDWR)
        return -VNS_EINVAL;
    if (sk->type == VNS_SOCK_DGRAM) {
        sk->shutdown |= (uint8_t)(how + 1);
        if (sk->waiter)
            vns__sk_wake(ctx, sk);
        return 0;
    }
    return vns__tcp_shutdown(ctx, sk, how + 1);
}

void vns_sock_set_sndbuf(struct vns_sock *sk, unsigned bytes)
{
    /* sock_setsockopt SO_SNDBUF: min(val, wmem_max) * 2, at least SOCK_MIN_SNDBUF */
    bytes = VNS_MIN(bytes, INET_SK_MEM_MAX);
    sk->sndbuf = VNS_MAX(bytes * 2u, 4608u);
    sk->userlocks_snd = true;
}

void vns_sock_set_rcvbuf(struct vns_sock *sk, unsigned bytes)
{
    bytes = VNS_MIN(bytes, INET_SK_MEM_MAX);
    sk->rcvbuf = VNS_MAX(bytes * 2u, 2304u);
    sk->userlocks_rcv = true;
}

struct vns_sockaddr_in vns_sock_local(const struct vns_sock *sk)
{
    return (struct vns_sockaddr_in){.addr = sk->saddr, .port = sk->sport};
}

struct vns_sockaddr_in vns_sock_peer(const struct vns_sock *sk)
{
    return (struct vns_sockaddr_in){.addr = sk->daddr, .port = sk->dport};
}

int vns_sock_error(const struct vns_sock *sk)
{
    return sk->sk_err;
}

void vns_sock_get_stats(const struct vns_sock *sk, struct vns_sock_stats *st)
{
    *st = sk->st;
    st->rmem_alloc = sk->rmem_alloc;
    st->wmem_queued = sk->wmem_queued;
    st->wmem_alloc = sk->wmem_alloc;
    st->rcvbuf = sk->rcvbuf;
    st->sndbuf = sk->sndbuf;
}
