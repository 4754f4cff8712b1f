/* lib/net/tcp.c -- TCP sockets: creation, connect/listen/accept, the send
 * and receive system call halves, close. LINUX: net/ipv4/tcp.c (5.4):
 * tcp_init_sock, tcp_sendmsg/tcp_sendmsg_locked, tcp_recvmsg,
 * tcp_rcv_space_adjust, tcp_cleanup_rbuf, tcp_close, tcp_set_state,
 * tcp_done; net/ipv4/tcp_ipv4.c (tcp_v4_connect); tcp_output.c
 * (tcp_connect, tcp_connect_init, tcp_select_initial_window,
 * tcp_sync_mss); tcp_input.c (tcp_init_buffer_space,
 * tcp_sndbuf_expand, tcp_new_space).
 *
 * Sizes: sk_sndbuf starts at tcp_wmem[1] (16 KiB) and grows with cwnd
 * (tcp_sndbuf_expand: 2 x max(10, cwnd) x per-MSS truesize, up to
 * tcp_wmem[2]); sk_rcvbuf starts at tcp_rmem[1] (128 KiB) and grows by
 * dynamic right-sizing (tcp_rcv_space_adjust) up to tcp_rmem[2]; the
 * window scale is chosen from tcp_rmem[2] (7 for 6 MiB). Socket memory is
 * SKB_TRUESIZE-like (payload + buffer + 576 bytes of overhead per skb).
 *
 * The model returns from a blocking write when the send buffer is full
 * (see socket.h) instead of sleeping inside tcp_sendmsg. */
#include <string.h>

#include "inet_int.h"

static const char *const tcp_state_names[] = {
    "?",         "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
    "TIME_WAIT", "CLOSE",       "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING",
};

const char *vns_tcp_state_name(enum vns_tcp_state s)
{
    return (unsigned)s < VNS_ARRAY_SIZE(tcp_state_names) ? tcp_state_names[s] : "?";
}

int vns__tcp_init_sock(struct vns_sock *sk)
{
    struct vns_tcp *tp = vns_calloc(1, sizeof(*tp));

    if (!tp)
        return -VNS_ENOMEM;
    sk->tp = tp;
    tp->state = VNS_TCP_CLOSE;
    vns_skb_queue_head_init(&tp->write_queue);
    vns_skb_queue_head_init(&tp->ofo_queue);
    tp->rto = VNS_TCP_TIMEOUT_INIT;
    tp->snd_cwnd = VNS_TCP_INIT_CWND;
    tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
    tp->snd_cwnd_clamp = ~0u;
    tp->mss_cache = VNS_TCP_MSS_DEFAULT;
    tp->mss_clamp = 65535;
    tp->reordering = VNS_TCP_FASTRETRANS_THRESH;
    tp->ca_ops = vns__tcp_cong_find(sk->inet->cfg.tcp_congestion_control);
    if (!tp->ca_ops)
        tp->ca_ops = &vns__tcp_cubic;
    vns__tcp_init_xmit_timers(sk);
    return 0;
}

void vns__tcp_free_sock(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    vns__tcp_clear_xmit_timers(sk);
    vns_skb_queue_purge_reason(&tp->write_queue, VNS_SKB_DROP_REASON_QUEUE_PURGE);
    vns_skb_queue_purge_reason(&tp->ofo_queue, VNS_SKB_DROP_REASON_QUEUE_PURGE);
    /* children not yet accepted are closed with their listener */
    for (struct vns_sock *s = sk->inet->socks; s; s = s->next)
        if (s->tp && s->tp->parent == sk)
            s->tp->parent = NULL;
    vns_free(tp);
    sk->tp = NULL;
}

void vns__tcp_set_state(struct vns_ctx *ctx, struct vns_sock *sk, int state)
{
    vns_fn_enter(ctx, VNS_FN_tcp_set_state);
    sk->tp->state = (uint8_t)state;
    sk->tp->info.state = (enum vns_tcp_state)state;
    vns_fn_exit(ctx);
}

/* tcp_done: the connection is over; an orphan is freed. */
void vns__tcp_done(struct vns_ctx *ctx, struct vns_sock *sk)
{
    vns__tcp_set_state(ctx, sk, VNS_TCP_CLOSE);
    vns__tcp_clear_xmit_timers(sk);
    sk->shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
    if (sk->user_closed) {
        vns__sock_free(sk);
        return;
    }
    vns__sk_wake(ctx, sk);
}

/* Remove @len bytes from the front of @skb's data (payload only). */
void vns__tcp_trim_head(struct vns_skb *skb, uint32_t len)
{
    uint32_t hl = vns_skb_headlen(skb);

    if (len > skb->len)
        len = skb->len;
    if (hl) {
        uint32_t n = VNS_MIN(len, hl);

        vns_skb_pull(skb, n);
        len -= n;
    }
    if (len && skb->syn_len >= len) {
        skb->pay_off += len;
        skb->syn_len -= len;
        skb->data_len -= len;
        skb->len -= len;
    } else if (len) {
        /* frag_list payload: materialize, then pull */
        if (vns_skb_linearize(skb) == 0)
            vns_skb_pull(skb, len);
    }
}

/* tcp_sync_mss: mss_cache from the path MTU, the peer's MSS and options. */
void vns__tcp_sync_mss(struct vns_sock *sk, unsigned pmtu)
{
    struct vns_tcp *tp = sk->tp;
    unsigned mss = pmtu - 20 - 20;

    if (mss > tp->mss_clamp)
        mss = tp->mss_clamp;
    if (tp->tstamp_ok)
        mss -= 12; /* TCPOLEN_TSTAMP_ALIGNED */
    if (mss < VNS_TCP_MIN_SND_MSS)
        mss = VNS_TCP_MIN_SND_MSS;
    tp->mss_cache = mss;
    tp->info.mss_cache = mss;
}

/* tcp_sndbuf_expand */
static void tcp_sndbuf_expand(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    unsigned per_mss = VNS_MAX(tp->advmss, tp->mss_cache) + VNS_MAX_TCP_HEADER + INET_SKB_OVERHEAD;
    unsigned nr_segs, p2 = 1;
    uint64_t sndmem;

    if (sk->userlocks_snd)
        return;
    while (p2 < per_mss)
        p2 <<= 1; /* roundup_pow_of_two */
    nr_segs = VNS_MAX((unsigned)VNS_TCP_INIT_CWND, tp->snd_cwnd);
    nr_segs = VNS_MAX(nr_segs, tp->reordering + 1);
    sndmem = 2ull * nr_segs * p2;
    if (sk->sndbuf < sndmem)
        sk->sndbuf = (unsigned)VNS_MIN(sndmem, (uint64_t)sk->inet->cfg.tcp_wmem[2]);
}

/* tcp_new_space / tcp_check_space: grow the send buffer with cwnd and wake
 * a writer once a third... (sk_stream_is_writeable: free >= queued/2). */
void vns__tcp_new_space(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    if (!sk->waiter)
        return;
    if (tp->state != VNS_TCP_ESTABLISHED && tp->state != VNS_TCP_CLOSE_WAIT)
        return;
    tcp_sndbuf_expand(sk);
    if (sk->sndbuf > sk->wmem_queued && sk->sndbuf - sk->wmem_queued >= sk->wmem_queued / 2) {
        vns_fn_enter(ctx, VNS_FN_sk_stream_write_space);
        vns__sk_wake(ctx, sk);
        vns_fn_exit(ctx);
    }
}

/* tcp_init_buffer_space (at ESTABLISHED) */
void vns__tcp_init_buffer_space(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    int maxwin;

    tcp_sndbuf_expand(sk);
    tp->rcvq_space.space =
        VNS_MIN(VNS_MIN(tp->rcv_ssthresh, tp->rcv_wnd), (uint32_t)VNS_TCP_INIT_CWND * tp->advmss);
    tp->rcvq_space.seq = tp->copied_seq;
    tp->rcvq_space.time = 0;
    maxwin = tcp_win_from_space((int)sk->rcvbuf);
    if ((int)tp->window_clamp >= maxwin) {
        tp->window_clamp = (uint32_t)maxwin;
        /* tcp_app_win 31 */
        if (maxwin > (int)(4 * tp->advmss))
            tp->window_clamp = VNS_MAX((uint32_t)(maxwin - (maxwin >> 31)), 4 * tp->advmss);
    }
    tp->rcv_ssthresh = VNS_MIN(tp->rcv_ssthresh, tp->window_clamp);
}

/* tcp_select_initial_window + the rest of tcp_connect_init. */
void vns__tcp_connect_init(struct vns_sock *sk, unsigned mtu)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_inet *inet = sk->inet;
    unsigned space, mss, wscale = 0;

    tp->advmss = mtu - 40;
    if (tp->user_mss && tp->user_mss < tp->advmss)
        tp->advmss = tp->user_mss;
    tp->rcv_mss = VNS_MIN(tp->advmss, (unsigned)VNS_TCP_MSS_DEFAULT);
    tp->mss_clamp = 65535;
    tp->tstamp_ok = inet->cfg.tcp_timestamps >= 0;
    tp->sack_ok = inet->cfg.tcp_sack >= 0;
    tp->wscale_ok = inet->cfg.tcp_window_scaling >= 0;
    mss = tp->advmss - (tp->tstamp_ok ? 12u : 0u);
    space = (unsigned)tcp_win_from_space((int)sk->rcvbuf);
    tp->window_clamp = 65535u << VNS_TCP_MAX_WSCALE;
    if (space > mss)
        space = space / mss * mss;
    tp->rcv_wnd = VNS_MIN(space, 65535u);
    if (tp->wscale_ok) {
        unsigned s = VNS_MAX(space, inet->cfg.tcp_rmem[2]);
        int l = 0;

        s = VNS_MAX(s, INET_SK_MEM_MAX); /* sysctl_rmem_max */
        while ((s >> l) > 1)
            l++;
        wscale = (unsigned)VNS_MAX(0, VNS_MIN(l - 15, VNS_TCP_MAX_WSCALE));
    }
    tp->rcv_wscale = (uint8_t)wscale;
    tp->window_clamp = VNS_MIN(65535u << wscale, tp->window_clamp);
    tp->rcv_ssthresh = tp->rcv_wnd;
    tp->info.advmss = tp->advmss;
}

int vns__tcp_listen(struct vns_sock *sk, int backlog)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_rtable rt;
    unsigned mtu = 1500;

    if (tp->state != VNS_TCP_CLOSE && tp->state != VNS_TCP_LISTEN)
        return -VNS_EINVAL;
    if (sk->inet->nifa && vns_ip_route_output(sk->inet, sk->inet->ifa[0].addr ^ 1u, &rt) == 0)
        mtu = rt.mtu;
    vns__tcp_connect_init(sk, mtu);
    tp->max_ack_backlog = backlog > 0 ? (unsigned)backlog : 1u; /* min(backlog, somaxconn 128) */
    if (tp->max_ack_backlog > 128)
        tp->max_ack_backlog = 128;
    tp->state = VNS_TCP_LISTEN;
    tp->info.state = VNS_TCP_LISTEN;
    return 0;
}

int vns__tcp_accept(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_sock **out)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_sock *child;

    if (tp->state != VNS_TCP_LISTEN)
        return -VNS_EINVAL;
    child = tp->accept_head;
    if (!child)
        return vns__sk_wait(ctx, sk);
    tp->accept_head = child->tp->accept_next;
    if (!tp->accept_head)
        tp->accept_tail = NULL;
    tp->accept_qlen--;
    child->tp->accept_next = NULL;
    child->tp->parent = NULL;
    *out = child;
    return 0;
}

/* tcp_v4_connect + tcp_connect */
int vns__tcp_connect(struct vns_ctx *ctx, struct vns_sock *sk, const struct vns_sockaddr_in *addr)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_inet *inet = sk->inet;
    struct vns_rtable rt;
    int rc;

    switch (tp->state) {
    case VNS_TCP_ESTABLISHED:
    case VNS_TCP_CLOSE_WAIT:
        return sk->connected ? 0 : -VNS_SOCK_EISCONN;
    case VNS_TCP_SYN_SENT:
        return sk->nonblock ? -VNS_SOCK_EALREADY : vns__sk_wait(ctx, sk);
    case VNS_TCP_CLOSE:
        if (sk->sk_err) {
            rc = -sk->sk_err;
            sk->sk_err = 0;
            return rc;
        }
        break;
    default:
        return -VNS_EINVAL;
    }
    if (sk->connected)
        return -VNS_SOCK_EISCONN;
    vns_fn_enter(ctx, VNS_FN_tcp_v4_connect);
    if (vns_ip_route_output(inet, addr->addr, &rt) < 0 || rt.type == VNS_RTN_LOCAL) {
        inet->stats.ip_out_no_routes++;
        vns_fn_exit(ctx);
        return -VNS_SOCK_ENETUNREACH;
    }
    if (!sk->saddr)
        sk->saddr = rt.prefsrc;
    sk->daddr = addr->addr;
    sk->dport = addr->port;
    if (!sk->sport) {
        sk->sport = vns__inet_ephemeral_port(inet, VNS_IPPROTO_TCP, sk->saddr);
        if (!sk->sport) {
            vns_fn_exit(ctx);
            return -VNS_SOCK_EADDRINUSE;
        }
    }
    sk->bound = true;
    sk->connected = true;
    /* secure_tcp_seq: a keyed hash of the 4-tuple plus a clock */
    tp->iss = (uint32_t)vns_rng_u64(&inet->rng);
    sk->inet_id =
        (uint16_t)(tp->iss ^ tcp_jiffies32(ctx, sk)); /* tcp_v4_connect: write_seq ^ jiffies */
    vns__tcp_connect_init(sk, rt.mtu);
    tp->snd_una = tp->iss;
    tp->snd_nxt = tp->iss + 1;
    tp->write_seq = tp->iss + 1;
    tp->pushed_seq = tp->write_seq;
    tp->snd_sml = tp->write_seq;
    tp->high_seq = tp->write_seq;
    tp->rack.end_seq = tp->iss;
    vns__tcp_set_state(ctx, sk, VNS_TCP_SYN_SENT);
    inet->stats.tcp_active_opens++;
    vns_fn_enter(ctx, VNS_FN_tcp_connect);
    tp->lsndtime = inet_now(ctx, inet);
    vns__tcp_send_syn(ctx, sk, false);
    vns__tcp_reset_xmit_timer(ctx, sk, ICSK_TIME_RETRANS, inet_now(ctx, inet) + tp->rto);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    if (sk->nonblock)
        return -VNS_SOCK_EINPROGRESS;
    return vns__sk_wait(ctx, sk);
}

/* tcp_sendmsg -> tcp_sendmsg_locked */
long vns__tcp_sendmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags)
{
    struct vns_tcp *tp = sk->tp;
    unsigned mss_now, size_goal;
    size_t copied = 0;
    long rc;

    vns_fn_enter(ctx, VNS_FN_tcp_sendmsg);
    vns__lock_sock(ctx, sk);
    vns_fn_enter(ctx, VNS_FN_tcp_sendmsg_locked);
    if (tp->state != VNS_TCP_ESTABLISHED && tp->state != VNS_TCP_CLOSE_WAIT) {
        if (tp->state == VNS_TCP_SYN_SENT || tp->state == VNS_TCP_SYN_RECV)
            rc = (flags & VNS_MSG_DONTWAIT) ? -VNS_EAGAIN : vns__sk_wait(ctx, sk);
        else if (sk->sk_err)
            rc = -sk->sk_err;
        else
            rc = sk->connected ? -VNS_EPIPE : -VNS_SOCK_ENOTCONN;
        goto out_err;
    }
    if (sk->sk_err) {
        rc = -sk->sk_err;
        goto out_err;
    }
    if (sk->shutdown & SEND_SHUTDOWN) {
        rc = -VNS_EPIPE;
        goto out_err;
    }
    mss_now = vns__tcp_send_mss(sk, &size_goal, flags);
    while (copied < len) {
        struct vns_skb *skb = tp->write_queue.tail;
        long copy = 0;

        if (skb && tp->send_head && !(TCP_SKB_CB(skb)->tcp_flags & VNS_TCP_FLAG_FIN))
            copy = (long)size_goal - (long)skb->len;
        if (copy <= 0) {
            /* new_segment */
            if (sk->wmem_queued >= sk->sndbuf) {
                /* wait_for_space */
                if (copied)
                    vns__tcp_push(ctx, sk, flags & ~VNS_MSG_MORE, mss_now, VNS_TCP_NAGLE_PUSH,
                                  size_goal);
                vns_fn_enter(ctx, VNS_FN_sk_stream_wait_memory);
                rc = (flags & VNS_MSG_DONTWAIT) ? -VNS_EAGAIN : vns__sk_wait(ctx, sk);
                vns_fn_exit(ctx);
                if (copied)
                    goto out_copied;
                goto out_err;
            }
            vns_fn_enter(ctx, VNS_FN_sk_stream_alloc_skb);
            skb = vns_alloc_skb(sk->inet->k, VNS_MAX_TCP_HEADER);
            vns_fn_exit(ctx);
            if (!skb) {
                rc = -VNS_ENOBUFS;
                if (copied)
                    goto out_push;
                goto out_err;
            }
            vns_skb_reserve(skb, VNS_MAX_TCP_HEADER);
            memset(TCP_SKB_CB(skb), 0, sizeof(struct tcp_skb_cb));
            TCP_SKB_CB(skb)->seq = tp->write_seq;
            TCP_SKB_CB(skb)->end_seq = tp->write_seq;
            TCP_SKB_CB(skb)->tcp_flags = VNS_TCP_FLAG_ACK;
            TCP_SKB_CB(skb)->truesize = VNS_MAX_TCP_HEADER + INET_SKB_OVERHEAD;
            sk->wmem_queued += TCP_SKB_CB(skb)->truesize;
            /* tcp_skb_entail */
            vns_skb_queue_tail(&tp->write_queue, skb);
            if (!tp->send_head)
                tp->send_head = skb;
            copy = (long)size_goal;
        }
        if ((size_t)copy > len - copied)
            copy = (long)(len - copied);
        vns_charge_bytes(ctx, VNS_FN_tcp_sendmsg_locked, (uint64_t)copy);
        if (vns_skb_add_synthetic(skb, sk->tx_flow, tp->write_seq - tp->iss - 1, (uint32_t)copy) <
            0) {
            rc = -VNS_EINVAL;
            goto out_err;
        }
        TCP_SKB_CB(skb)->end_seq += (uint32_t)copy;
        TCP_SKB_CB(skb)->truesize += (uint32_t)copy;
        sk->wmem_queued += (uint32_t)copy;
        tp->write_seq += (uint32_t)copy;
        copied += (size_t)copy;
        if (copied == len)
            break;
        if (skb->len < size_goal)
            continue;
        /* forced_push: more than half the max window since the last push */
        if (tcp_after(tp->write_seq, tp->pushed_seq + (tp->max_window >> 1))) {
            TCP_SKB_CB(skb)->tcp_flags |= VNS_TCP_FLAG_PSH;
            tp->pushed_seq = tp->write_seq;
            vns__tcp_push_pending_frames(ctx, sk, mss_now, VNS_TCP_NAGLE_PUSH);
        } else if (skb == tp->send_head) {
            vns__tcp_push_one(ctx, sk, mss_now);
        }
    }
out_push:
    if (copied)
        vns__tcp_push(ctx, sk, flags, mss_now, tp->nonagle, size_goal);
out_copied:
    vns_fn_exit(ctx);
    vns__release_sock(ctx, sk);
    vns_fn_exit(ctx);
    return (long)copied;
out_err:
    vns_fn_exit(ctx);
    vns__release_sock(ctx, sk);
    vns_fn_exit(ctx);
    return rc;
}

/* tcp_rcv_space_adjust: dynamic right-sizing of sk_rcvbuf (5.4). */
void vns__tcp_rcv_space_adjust(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    vns_time_t now = inet_now(ctx, sk->inet), rtt = (vns_time_t)(tp->srtt_us >> 3) * 1000u;
    uint32_t copied;

    vns_fn_enter(ctx, VNS_FN_tcp_rcv_space_adjust);
    if (!tp->rcvq_space.time) {
        tp->rcvq_space.time = now;
        tp->rcvq_space.seq = tp->copied_seq;
        goto out;
    }
    if (now - tp->rcvq_space.time < rtt || rtt == 0)
        goto out;
    copied = tp->copied_seq - tp->rcvq_space.seq;
    if (copied > tp->rcvq_space.space) {
        if (!sk->userlocks_rcv) {
            uint64_t rcvwin = ((uint64_t)copied << 1) + 16ull * tp->advmss, grow;
            uint64_t rcvmem = tp->advmss + VNS_MAX_TCP_HEADER + INET_SKB_OVERHEAD, rcvbuf;

            grow = rcvwin * (copied - tp->rcvq_space.space) / VNS_MAX(tp->rcvq_space.space, 1u);
            rcvwin += grow << 1;
            while (tcp_win_from_space((int)rcvmem) < (int)tp->advmss)
                rcvmem += 128;
            rcvbuf = VNS_MIN(rcvwin / tp->advmss * rcvmem, (uint64_t)sk->inet->cfg.tcp_rmem[2]);
            if (rcvbuf > sk->rcvbuf) {
                sk->rcvbuf = (unsigned)rcvbuf;
                tp->window_clamp = (uint32_t)tcp_win_from_space((int)rcvbuf);
            }
        }
        tp->rcvq_space.space = copied;
    }
    tp->rcvq_space.seq = tp->copied_seq;
    tp->rcvq_space.time = now;
out:
    vns_fn_exit(ctx);
}

/* tcp_recvmsg: consume in-order bytes, verifying the payload. */
long vns__tcp_recvmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags)
{
    struct vns_tcp *tp = sk->tp;
    size_t copied = 0;
    struct vns_skb *skb;
    long rc;

    vns_fn_enter(ctx, VNS_FN_tcp_recvmsg);
    vns__lock_sock(ctx, sk);
    if (tp->state == VNS_TCP_LISTEN) {
        rc = -VNS_SOCK_ENOTCONN;
        goto out;
    }
    while (copied < len && (skb = sk->receive_queue.head) != NULL) {
        struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
        uint32_t off = tp->copied_seq - cb->seq;
        uint32_t avail = skb->len > off ? skb->len - off : 0;
        uint32_t n = (uint32_t)VNS_MIN((size_t)avail, len - copied);

        if (n) {
            vns_charge_bytes(ctx, VNS_FN_tcp_recvmsg, n);
            /* The stream offset in 64 bits: copied_seq - irs - 1 wraps
             * after 4 GiB, the sender's synthetic offsets do not. */
            vns__payload_verify(sk->inet, skb, off, n, sk->rx_flow, sk->rx_stream_off);
            sk->rx_stream_off += n;
            tp->copied_seq += n;
            copied += n;
        }
        if (tp->copied_seq - cb->seq >= skb->len) {
            if (cb->tcp_flags & VNS_TCP_FLAG_FIN)
                tp->copied_seq = cb->end_seq;
            vns_skb_dequeue(&sk->receive_queue);
            sk->rmem_alloc -= VNS_MIN(sk->rmem_alloc, cb->truesize);
            vns_consume_skb(skb);
        }
    }
    if (copied) {
        vns__tcp_rcv_space_adjust(ctx, sk);
        /* tcp_cleanup_rbuf: ACK what tcp_input.c left pending, or a
         * window that can grow a lot */
        vns_fn_enter(ctx, VNS_FN_tcp_cleanup_rbuf);
        {
            bool time_to_ack = false;

            if (tp->ack_pending & ICSK_ACK_SCHED) {
                /* once-per-two-segments ACK not sent by tcp_input.c, or the
                 * read emptied the queue after a small (pushed) segment */
                if (tp->rcv_nxt - tp->rcv_wup > tp->rcv_mss ||
                    (((tp->ack_pending & ICSK_ACK_PUSHED2) ||
                      ((tp->ack_pending & ICSK_ACK_PUSHED) && !tp->pingpong)) &&
                     !sk->rmem_alloc))
                    time_to_ack = true;
            }
            if (!time_to_ack && !(sk->shutdown & RCV_SHUTDOWN)) {
                uint32_t rcv_window_now = tcp_receive_window(tp);

                if (2 * rcv_window_now <= tp->window_clamp) {
                    uint32_t new_window = vns__tcp_select_window_raw(sk);

                    if (new_window && new_window >= 2 * rcv_window_now)
                        time_to_ack = true;
                }
            }
            if (time_to_ack && tp->state != VNS_TCP_CLOSE)
                vns__tcp_send_ack(ctx, sk);
        }
        vns_fn_exit(ctx);
        rc = (long)copied;
        goto out;
    }
    if (sk->shutdown & RCV_SHUTDOWN) {
        rc = 0;
        goto out;
    }
    if (sk->sk_err) {
        rc = -sk->sk_err;
        goto out;
    }
    if (tp->state == VNS_TCP_CLOSE) {
        rc = sk->connected ? 0 : -VNS_SOCK_ENOTCONN;
        goto out;
    }
    rc = (flags & VNS_MSG_DONTWAIT) ? -VNS_EAGAIN : vns__sk_wait(ctx, sk);
out:
    vns__release_sock(ctx, sk);
    vns_fn_exit(ctx);
    return rc;
}

/* tcp_shutdown (via inet_shutdown): @how_mask RCV_SHUTDOWN |
 * SEND_SHUTDOWN. Sending FIN moves ESTABLISHED to FIN_WAIT1, CLOSE_WAIT to
 * LAST_ACK (tcp_close_state). */
int vns__tcp_shutdown(struct vns_ctx *ctx, struct vns_sock *sk, int how_mask)
{
    struct vns_tcp *tp = sk->tp;

    if (tp->state == VNS_TCP_LISTEN || tp->state == VNS_TCP_CLOSE || tp->state == VNS_TCP_SYN_SENT)
        return -VNS_SOCK_ENOTCONN;
    sk->shutdown |= (uint8_t)how_mask;
    if ((how_mask & SEND_SHUTDOWN) &&
        (tp->state == VNS_TCP_ESTABLISHED || tp->state == VNS_TCP_SYN_RECV ||
         tp->state == VNS_TCP_CLOSE_WAIT)) {
        vns__tcp_set_state(ctx, sk,
                           tp->state == VNS_TCP_CLOSE_WAIT ? VNS_TCP_LAST_ACK : VNS_TCP_FIN_WAIT1);
        vns__tcp_send_fin(ctx, sk);
    }
    if (sk->waiter)
        vns__sk_wake(ctx, sk);
    return 0;
}

/* tcp_close */
void vns__tcp_close(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    bool unread = sk->receive_queue.qlen != 0;

    vns_fn_enter(ctx, VNS_FN_tcp_close);
    sk->shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
    switch (tp->state) {
    case VNS_TCP_LISTEN: {
        /* close the children not yet accepted */
        while (tp->accept_head) {
            struct vns_sock *c = tp->accept_head;

            tp->accept_head = c->tp->accept_next;
            c->user_closed = true;
            vns__tcp_send_active_reset(ctx, c);
            vns__tcp_done(ctx, c);
        }
        for (struct vns_sock *s = sk->inet->socks, *n; s; s = n) {
            n = s->next;
            if (s->tp && s->tp->parent == sk) {
                s->user_closed = true;
                vns__tcp_done(ctx, s);
            }
        }
        vns__tcp_done(ctx, sk);
        break;
    }
    case VNS_TCP_CLOSE:
    case VNS_TCP_SYN_SENT:
        vns__tcp_done(ctx, sk);
        break;
    default:
        if (unread) {
            /* RFC 2525: data lost, reset */
            vns__tcp_set_state(ctx, sk, VNS_TCP_CLOSE);
            vns__tcp_send_active_reset(ctx, sk);
            vns__tcp_done(ctx, sk);
        } else if (tp->state == VNS_TCP_TIME_WAIT || tp->state == VNS_TCP_FIN_WAIT2 ||
                   tp->state == VNS_TCP_CLOSING || tp->state == VNS_TCP_LAST_ACK ||
                   tp->state == VNS_TCP_FIN_WAIT1) {
            if (tp->state == VNS_TCP_FIN_WAIT2)
                vns_mod_timer(&tp->keepalive_timer, inet_now(ctx, sk->inet) + VNS_SEC(60));
        } else {
            /* tcp_close_state: ESTABLISHED/SYN_RECV -> FIN_WAIT1, CLOSE_WAIT -> LAST_ACK */
            vns__tcp_set_state(
                ctx, sk, tp->state == VNS_TCP_CLOSE_WAIT ? VNS_TCP_LAST_ACK : VNS_TCP_FIN_WAIT1);
            vns__tcp_send_fin(ctx, sk);
        }
        break;
    }
    vns_fn_exit(ctx);
}

void vns_sock_set_nodelay(struct vns_sock *sk, bool on)
{
    if (!sk->tp)
        return;
    if (on)
        sk->tp->nonagle |= VNS_TCP_NAGLE_OFF | VNS_TCP_NAGLE_PUSH;
    else
        sk->tp->nonagle &= (uint8_t)~VNS_TCP_NAGLE_OFF;
}

void vns_sock_set_cork(struct vns_sock *sk, bool on)
{
    if (!sk->tp)
        return;
    if (on) {
        sk->tp->nonagle |= VNS_TCP_NAGLE_CORK;
    } else {
        sk->tp->nonagle &= (uint8_t)~VNS_TCP_NAGLE_CORK;
        if (sk->tp->nonagle & VNS_TCP_NAGLE_OFF)
            sk->tp->nonagle |= VNS_TCP_NAGLE_PUSH;
        if (sk->tp->send_head)
            vns__tcp_push_pending_frames(NULL, sk, vns__tcp_current_mss(sk), sk->tp->nonagle);
    }
}

int vns_sock_set_congestion(struct vns_sock *sk, const char *name)
{
    const struct tcp_cong_ops *ops = vns__tcp_cong_find(name);

    if (!sk->tp || !ops)
        return -VNS_ENOENT;
    sk->tp->ca_ops = ops;
    if (ops->init)
        ops->init(sk);
    return 0;
}

int vns_tcp_get_info(const struct vns_sock *sk, struct vns_tcp_info *info)
{
    const struct vns_tcp *tp = sk->tp;
    uint32_t unsent = 0;

    if (!tp)
        return -VNS_EINVAL;
    *info = tp->info;
    info->state = (enum vns_tcp_state)tp->state;
    info->ca_state = (enum vns_tcp_ca_state)tp->ca_state;
    info->congestion = tp->ca_ops->name;
    info->mss_cache = tp->mss_cache;
    info->advmss = tp->advmss;
    info->rcv_mss = tp->rcv_mss;
    info->snd_wscale = tp->snd_wscale;
    info->rcv_wscale = tp->rcv_wscale;
    info->sack_ok = tp->sack_ok;
    info->tstamp_ok = tp->tstamp_ok;
    info->snd_cwnd = tp->snd_cwnd;
    info->snd_ssthresh = tp->snd_ssthresh;
    info->packets_out = tp->packets_out;
    info->sacked_out = tp->sacked_out;
    info->lost_out = tp->lost_out;
    info->retrans_out = tp->retrans_out;
    info->snd_wnd = tp->snd_wnd;
    info->rcv_wnd = tp->rcv_wnd;
    info->srtt = (vns_time_t)(tp->srtt_us >> 3) * 1000u;
    info->rttvar = (vns_time_t)tp->rttvar_us * 1000u;
    info->rto = tp->rto;
    info->backoff = tp->backoff;
    info->retransmits = tp->retransmits;
    info->pending_timer = tp->pending;
    info->timer_expires =
        vns_timer_list_pending(&tp->retransmit_timer) ? tp->retransmit_timer.expires : 0;
    info->ack_pending = tp->ack_pending;
    info->ofo_queue_len = tp->ofo_queue.qlen;
    for (const struct vns_skb *s = tp->send_head; s; s = s->next)
        unsent += s->len;
    info->write_queue_bytes = unsent;
    info->size_goal = tp->size_goal;
    info->snd_una = tp->snd_una - tp->iss;
    info->snd_nxt = tp->snd_nxt - tp->iss;
    info->write_seq = tp->write_seq - tp->iss;
    info->rcv_nxt = tp->rcv_nxt - tp->irs;
    info->copied_seq = tp->copied_seq - tp->irs;
    return 0;
}
