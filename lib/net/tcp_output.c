/* lib/net/tcp_output.c -- TCP output. LINUX: net/ipv4/tcp_output.c (5.4):
 * tcp_current_mss, tcp_xmit_size_goal (in tcp.c), tcp_push and
 * __tcp_push_pending_frames, tcp_write_xmit with tcp_cwnd_test,
 * tcp_snd_wnd_test, tcp_nagle_test, tcp_tso_should_defer,
 * tcp_mss_split_point, tso_fragment/tcp_fragment, __tcp_transmit_skb
 * (header, options, window, checksum setup, clone), tcp_event_new_data_sent,
 * tcp_send_ack, tcp_send_delayed_ack, tcp_send_fin, tcp_send_active_reset,
 * tcp_v4_send_reset (tcp_ipv4.c), __tcp_retransmit_skb,
 * tcp_xmit_retransmit_queue, __tcp_select_window / tcp_select_window.
 *
 * Segments are skbs on the write queue with an empty linear part and a
 * synthetic payload range (flow = the 4-tuple's id, offset = seq - ISN - 1).
 * __tcp_transmit_skb clones one, pushes the header and hands it to
 * ip_queue_xmit; a GSO skb (gso_size = mss) is segmented by
 * validate_xmit_skb when the device lacks TSO.
 *
 * TCP small queues (tcp_small_queue_check) and autocorking
 * (tcp_should_autocork) use sk_wmem_alloc as 5.4 does: __tcp_transmit_skb
 * charges each transmitted clone's truesize to its socket (skb_set_owner_w
 * with the destructor tcp_wfree, __sock_wfree for pure ACKs); the charge
 * goes when the clone is freed or orphaned wherever that happens (the
 * guest driver's free_old_xmit_skbs, tun_net_xmit's skb_orphan, a wire, a
 * qdisc drop). tcp_wfree on a TSQ_THROTTLED socket queues it on the
 * freeing CPU's tsq_tasklet (TASKLET_SOFTIRQ): tcp_tasklet_func ->
 * tcp_tsq_handler -> tcp_tsq_write, or TCP_TSQ_DEFERRED to tcp_release_cb
 * when a system call owns the socket. Not modelled: pacing (sk_pacing_rate
 * sizes TSO autosizing and TSQ only), MTU probing, urgent data, ECN. */
#include <string.h>

#include "inet_int.h"

static void tcp_sock_wfree(struct vns_skb *skb);

unsigned vns__tcp_current_mss(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    return tp->mss_cache;
}

/* tcp_xmit_size_goal + tcp_send_mss (net/ipv4/tcp.c). */
unsigned vns__tcp_send_mss(struct vns_sock *sk, unsigned *size_goal, int flags)
{
    struct vns_tcp *tp = sk->tp;
    unsigned mss_now = vns__tcp_current_mss(sk), new_size_goal, goal, segs;
    struct vns_rtable rt;
    bool large_allowed = false;
    unsigned gso_max_size = VNS_GSO_MAX_SIZE;

    (void)flags;
    /* sk_can_gso: the route's device does SG and checksum offload (GSO is
     * then done in software if it lacks TSO) */
    if (vns_ip_route_output(sk->inet, sk->daddr, &rt) == 0 && rt.dev) {
        large_allowed =
            (rt.dev->features & VNS_NETIF_F_SG) && (rt.dev->features & VNS_NETIF_F_CSUM_MASK);
        gso_max_size = rt.dev->gso_max_size;
    }
    if (!large_allowed) {
        *size_goal = mss_now;
        tp->size_goal = mss_now;
        return mss_now;
    }
    new_size_goal = gso_max_size - 1 - VNS_MAX_TCP_HEADER;
    /* tcp_bound_to_half_wnd */
    {
        unsigned cutoff =
            tp->max_window > VNS_TCP_MSS_DEFAULT ? tp->max_window >> 1 : tp->max_window;

        if (cutoff && new_size_goal > cutoff)
            new_size_goal = VNS_MAX(cutoff, 68u - 20u - (tp->tstamp_ok ? 12u : 0u));
    }
    segs = new_size_goal / mss_now;
    if (segs > 65535)
        segs = 65535; /* sk_gso_max_segs */
    goal = segs * mss_now;
    *size_goal = VNS_MAX(goal, mss_now);
    tp->size_goal = *size_goal;
    return mss_now;
}

void vns__tcp_set_skb_tso_segs(struct vns_skb *skb, unsigned mss_now)
{
    struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

    if (skb->len <= mss_now) {
        cb->pcount = 1;
    } else {
        cb->pcount = (uint16_t)((skb->len + mss_now - 1) / mss_now);
    }
}

/* __tcp_select_window (tcp_output.c, 5.4). */
unsigned vns__tcp_select_window_raw(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    int mss = (int)tp->rcv_mss;
    int free_space =
        tcp_win_from_space((int)sk->rcvbuf - (int)sk->backlog_len - (int)sk->rmem_alloc);
    int allowed_space = tcp_win_from_space((int)sk->rcvbuf);
    int full_space = VNS_MIN((int)tp->window_clamp, allowed_space);
    int window;

    if (free_space < 0)
        free_space = 0;
    if (mss > full_space) {
        mss = full_space;
        if (mss <= 0)
            return 0;
    }
    if (free_space < (full_space >> 1)) {
        tp->quick = 0;
        free_space = free_space & ~((1 << tp->rcv_wscale) - 1);
        if (free_space < (allowed_space >> 4) || free_space < mss)
            return 0;
    }
    if (free_space > (int)tp->rcv_ssthresh)
        free_space = (int)tp->rcv_ssthresh;
    window = (int)tp->rcv_wnd;
    if (tp->rcv_wscale) {
        window = free_space;
        if (((window >> tp->rcv_wscale) << tp->rcv_wscale) != window)
            window = ((window >> tp->rcv_wscale) + 1) << tp->rcv_wscale;
    } else {
        if (window <= free_space - mss || window > free_space)
            window = mss ? (free_space / mss) * mss : free_space;
        else if (mss == full_space && free_space > window + (full_space >> 1))
            window = free_space;
    }
    return (unsigned)window;
}

/* tcp_select_window: never shrink the offered window; returns the field
 * value (scaled). */
unsigned vns__tcp_select_window(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    uint32_t cur_win = tcp_receive_window(tp);
    uint32_t new_win = vns__tcp_select_window_raw(sk);

    if (new_win < cur_win) {
        uint32_t a = 1u << tp->rcv_wscale;

        new_win = (cur_win + a - 1) & ~(a - 1);
    }
    tp->rcv_wnd = new_win;
    tp->rcv_wup = tp->rcv_nxt;
    new_win = VNS_MIN(new_win, 65535u << tp->rcv_wscale);
    new_win >>= tp->rcv_wscale;
    tp->info.rcv_wnd = tp->rcv_wnd;
    return new_win;
}

/* Write the options of a segment at @p; returns their length (a multiple
 * of 4). tcp_syn_options / tcp_synack_options / tcp_established_options. */
static unsigned tcp_write_options(struct vns_sock *sk, uint8_t *p, uint8_t flags, uint32_t tsval)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_inet *inet = sk->inet;
    uint8_t *start = p;
    bool syn = flags & VNS_TCP_FLAG_SYN;
    bool ts = syn ? inet->cfg.tcp_timestamps >= 0 && (!(flags & VNS_TCP_FLAG_ACK) || tp->tstamp_ok)
                  : tp->tstamp_ok;

    if (syn) {
        p[0] = TCPOPT_MSS;
        p[1] = TCPOLEN_MSS;
        vns_put_be16(p + 2, (uint16_t)tp->advmss);
        p += 4;
    }
    if (ts) {
        bool sackperm = syn && (flags & VNS_TCP_FLAG_ACK ? tp->sack_ok : inet->cfg.tcp_sack >= 0);

        if (sackperm) {
            p[0] = TCPOPT_SACK_PERM;
            p[1] = TCPOLEN_SACK_PERM;
        } else {
            p[0] = TCPOPT_NOP;
            p[1] = TCPOPT_NOP;
        }
        p[2] = TCPOPT_TIMESTAMP;
        p[3] = TCPOLEN_TIMESTAMP;
        vns_put_be32(p + 4, tsval);
        vns_put_be32(p + 8, tp->ts_recent);
        p += 12;
    } else if (syn && (flags & VNS_TCP_FLAG_ACK ? tp->sack_ok : inet->cfg.tcp_sack >= 0)) {
        p[0] = TCPOPT_NOP;
        p[1] = TCPOPT_NOP;
        p[2] = TCPOPT_SACK_PERM;
        p[3] = TCPOLEN_SACK_PERM;
        p += 4;
    }
    if (syn && (flags & VNS_TCP_FLAG_ACK ? tp->wscale_ok : inet->cfg.tcp_window_scaling >= 0)) {
        p[0] = TCPOPT_NOP;
        p[1] = TCPOPT_WINDOW;
        p[2] = TCPOLEN_WINDOW;
        p[3] = tp->rcv_wscale;
        p += 4;
    }
    if (!syn && tp->sack_ok && (tp->num_sacks || tp->dsack_pending)) {
        unsigned max_blocks = (40u - (unsigned)(p - start) - 4u) / 8u;
        unsigned n = 0;
        uint8_t *hdr = p;

        p += 4;
        if (tp->dsack_pending && n < max_blocks) {
            vns_put_be32(p, tp->dsack.start);
            vns_put_be32(p + 4, tp->dsack.end);
            p += 8;
            n++;
        }
        for (unsigned i = 0; i < tp->num_sacks && n < max_blocks; i++, n++) {
            vns_put_be32(p, tp->selective_acks[i].start);
            vns_put_be32(p + 4, tp->selective_acks[i].end);
            p += 8;
        }
        hdr[0] = TCPOPT_NOP;
        hdr[1] = TCPOPT_NOP;
        hdr[2] = TCPOPT_SACK;
        hdr[3] = (uint8_t)(2 + 8 * n);
        tp->dsack_pending = false;
    }
    return (unsigned)(p - start);
}

/* tcp_event_ack_sent / tcp_dec_quickack_mode */
static void tcp_event_ack_sent(struct vns_sock *sk, unsigned pkts, uint32_t rcv_nxt)
{
    struct vns_tcp *tp = sk->tp;

    if (tp->quick) {
        if (pkts >= tp->quick) {
            tp->quick = 0;
            tp->ato = VNS_TCP_ATO_MIN;
        } else {
            tp->quick = (uint8_t)(tp->quick - pkts);
        }
    }
    if (tp->compressed_ack > VNS_TCP_FASTRETRANS_THRESH) {
        sk->inet->stats.tcp_ack_compressed += tp->compressed_ack - VNS_TCP_FASTRETRANS_THRESH;
        tp->compressed_ack = VNS_TCP_FASTRETRANS_THRESH;
        vns_timer_cancel(sk->inet->sim, &tp->compressed_ack_timer);
    }
    if (rcv_nxt != tp->rcv_nxt)
        return; /* an ACK of older data: more to ACK */
    tp->ack_pending = 0;
    vns_del_timer(&tp->delack_timer);
}

/* __tcp_transmit_skb: consumes nothing when @clone_it (the original stays
 * on the write queue); otherwise consumes @skb. */
int vns__tcp_transmit_skb(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb,
                          bool clone_it, uint32_t rcv_nxt)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_inet *inet = sk->inet;
    struct tcp_skb_cb *tcb = TCP_SKB_CB(skb);
    struct vns_skb *oskb = skb;
    uint8_t opts[40];
    unsigned optlen, hlen, pcount = tcb->pcount ? tcb->pcount : 1;
    uint8_t *th;
    uint32_t tsval = tcp_jiffies32(ctx, sk) + tp->tsoffset;
    int err;

    vns_fn_enter(ctx, VNS_FN___tcp_transmit_skb);
    tcb->tx_time = inet_now(ctx, inet);
    if (clone_it) {
        skb = vns_skb_clone(oskb);
        if (!skb) {
            vns_fn_exit(ctx);
            return -VNS_ENOBUFS;
        }
        /* materialized mode: the segment carries real bytes */
        if (inet->cfg.materialize_payload && skb->syn_len && vns_skb_linearize(skb) < 0) {
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOMEM);
            vns_fn_exit(ctx);
            return -VNS_ENOBUFS;
        }
    }
    optlen = tcp_write_options(sk, opts, tcb->tcp_flags, tsval);
    hlen = 20 + optlen;
    th = vns_skb_push(skb, hlen);
    vns_skb_reset_transport_header(skb);
    vns_put_be16(th, sk->sport);
    vns_put_be16(th + 2, sk->dport);
    vns_put_be32(th + 4, tcb->seq);
    vns_put_be32(th + 8, rcv_nxt);
    th[12] = (uint8_t)((hlen / 4) << 4);
    th[13] = tcb->tcp_flags;
    if (tcb->tcp_flags & VNS_TCP_FLAG_SYN) {
        /* RFC 1323: the window in SYN segments is never scaled */
        vns_put_be16(th + 14, (uint16_t)VNS_MIN(tp->rcv_wnd, 65535u));
    } else {
        vns_put_be16(th + 14, (uint16_t)vns__tcp_select_window(sk));
    }
    vns_put_be16(th + 16, 0);
    vns_put_be16(th + 18, 0);
    memcpy(th + 20, opts, optlen);
    /* tcp_v4_send_check: CHECKSUM_PARTIAL with the pseudo-header sum */
    {
        uint8_t s[4], d[4];

        vns_put_be32(s, sk->saddr);
        vns_put_be32(d, sk->daddr);
        vns_put_be16(th + 16, (uint16_t)~vns_csum_fold(
                                  vns_csum_tcpudp_nofold(s, d, skb->len, VNS_IPPROTO_TCP, 0)));
        skb->ip_summed = VNS_CHECKSUM_PARTIAL;
        skb->csum_start = skb->transport_header;
        skb->csum_offset = 16;
    }
    if (tcb->tcp_flags & VNS_TCP_FLAG_ACK)
        tcp_event_ack_sent(sk, pcount, rcv_nxt);
    if (skb->len != hlen) {
        /* tcp_event_data_sent: an interactive exchange enters pingpong */
        vns_time_t now = inet_now(ctx, inet);

        if (tp->lrcvtime && now - tp->lrcvtime < tp->ato)
            tp->pingpong = true;
        tp->lsndtime = now;
        tp->info.data_segs_out += pcount;
        if (sk->fbook)
            vns__flow_sent(skb, sk->fbook, pcount, skb->len - hlen, sk->tx_flow);
    }
    tp->info.segs_out += pcount;
    inet->stats.tcp_out_segs += pcount;
    if (pcount > 1) {
        skb->gso_size = (uint16_t)tp->mss_cache;
        skb->gso_segs = (uint16_t)pcount;
        skb->gso_type = VNS_SKB_GSO_TCPV4;
    } else {
        skb->gso_size = 0;
        skb->gso_segs = 0;
        skb->gso_type = 0;
    }
    /* skb_orphan(skb); skb->sk = sk; skb->destructor = skb_is_tcp_pure_ack
     * ? __sock_wfree : tcp_wfree; refcount_add(skb->truesize,
     * &sk->sk_wmem_alloc). __tcp_send_ack marks a pure ACK with truesize 2
     * (skb_set_tcp_pure_ack). */
    vns_skb_orphan(skb);
    skb->sk = sk;
    skb->destructor = skb->truesize == 2 ? tcp_sock_wfree : vns__tcp_wfree;
    sk->wmem_alloc += skb->truesize;
    err = vns__ip_queue_xmit(ctx, sk, skb);
    if (err > 0)
        err = -VNS_ENOBUFS; /* NET_XMIT_DROP: tcp_enter_cwr in Linux */
    vns_fn_exit(ctx);
    return err;
}

/* tcp_fragment / tso_fragment: split @skb at @len; the tail becomes a new
 * skb right after it in the write queue. */
int vns__tcp_fragment(struct vns_sock *sk, struct vns_skb *skb, uint32_t len, unsigned mss_now)
{
    struct vns_tcp *tp = sk->tp;
    struct tcp_skb_cb *cb = TCP_SKB_CB(skb), *ncb;
    struct vns_skb *buff;
    uint32_t rest = skb->len - len;

    if (len >= skb->len)
        return 0;
    buff = vns_alloc_skb(sk->inet->k, VNS_MAX_TCP_HEADER);
    if (!buff)
        return -VNS_ENOMEM;
    vns_skb_reserve(buff, VNS_MAX_TCP_HEADER);
    if (vns_skb_add_synthetic(buff, skb->pay_flow, skb->pay_off + (len - vns_skb_headlen(skb)),
                              rest) < 0) {
        vns_consume_skb(buff); /* still empty: nothing is dropped */
        return -VNS_EINVAL;
    }
    vns_skb_trim(skb, len);
    skb->truesize -= rest; /* buff->truesize += nlen; skb->truesize -= nlen */
    ncb = TCP_SKB_CB(buff);
    memset(ncb, 0, sizeof(*ncb));
    ncb->seq = cb->seq + len;
    ncb->end_seq = cb->end_seq;
    cb->end_seq = ncb->seq;
    /* PSH and FIN go to the second part */
    ncb->tcp_flags = cb->tcp_flags;
    cb->tcp_flags &= (uint8_t) ~(VNS_TCP_FLAG_FIN | VNS_TCP_FLAG_PSH);
    ncb->sacked = cb->sacked;
    ncb->tx_time = cb->tx_time;
    ncb->truesize = rest;
    cb->truesize = cb->truesize > rest ? cb->truesize - rest : 0;
    {
        unsigned old = cb->pcount;

        vns__tcp_set_skb_tso_segs(skb, mss_now);
        vns__tcp_set_skb_tso_segs(buff, mss_now);
        if (cb->seq != tp->snd_nxt && tcp_before(cb->seq, tp->snd_nxt)) {
            /* already sent: fix the counters */
            int diff = (int)old - (int)cb->pcount - (int)ncb->pcount;

            tp->packets_out = (uint32_t)((int)tp->packets_out - diff);
            if (cb->sacked & TCPCB_SACKED_ACKED)
                tp->sacked_out = (uint32_t)((int)tp->sacked_out - diff);
            if (cb->sacked & TCPCB_SACKED_RETRANS)
                tp->retrans_out = (uint32_t)((int)tp->retrans_out - diff);
            if (cb->sacked & TCPCB_LOST)
                tp->lost_out = (uint32_t)((int)tp->lost_out - diff);
        }
    }
    /* insert after skb */
    buff->next = skb->next;
    buff->prev = skb;
    if (skb->next)
        skb->next->prev = buff;
    else
        tp->write_queue.tail = buff;
    skb->next = buff;
    tp->write_queue.qlen++;
    return 0;
}

/* tcp_cwnd_test */
static unsigned tcp_cwnd_test(const struct vns_tcp *tp, struct vns_skb *skb)
{
    uint32_t in_flight, cwnd, halfcwnd;

    if ((TCP_SKB_CB(skb)->tcp_flags & VNS_TCP_FLAG_FIN) && tcp_skb_pcount(skb) == 1)
        return 1;
    in_flight = tcp_packets_in_flight(tp);
    cwnd = tp->snd_cwnd;
    if (in_flight >= cwnd)
        return 0;
    halfcwnd = VNS_MAX(cwnd >> 1, 1u);
    return VNS_MIN(halfcwnd, cwnd - in_flight);
}

static bool tcp_snd_wnd_test(const struct vns_tcp *tp, struct vns_skb *skb, unsigned cur_mss)
{
    uint32_t end_seq = TCP_SKB_CB(skb)->end_seq;

    if (skb->len > cur_mss)
        end_seq = TCP_SKB_CB(skb)->seq + cur_mss;
    return !tcp_after(end_seq, tcp_wnd_end(tp));
}

static bool tcp_minshall_check(const struct vns_tcp *tp)
{
    return tcp_after(tp->snd_sml, tp->snd_una) && !tcp_after(tp->snd_sml, tp->snd_nxt);
}

static bool tcp_nagle_check(bool partial, const struct vns_tcp *tp, int nonagle)
{
    return partial && ((nonagle & VNS_TCP_NAGLE_CORK) ||
                       (!nonagle && tp->packets_out && tcp_minshall_check(tp)));
}

static bool tcp_nagle_test(const struct vns_tcp *tp, struct vns_skb *skb, unsigned cur_mss,
                           int nonagle)
{
    if (nonagle & VNS_TCP_NAGLE_PUSH)
        return true;
    if (TCP_SKB_CB(skb)->tcp_flags & VNS_TCP_FLAG_FIN)
        return true;
    if (!tcp_nagle_check(skb->len < cur_mss, tp, nonagle))
        return true;
    return false;
}

static unsigned tcp_mss_split_point(struct vns_sock *sk, struct vns_skb *skb, unsigned mss_now,
                                    unsigned max_segs, int nonagle)
{
    struct vns_tcp *tp = sk->tp;
    uint32_t partial, needed, window, max_len;

    window = tcp_wnd_end(tp) - TCP_SKB_CB(skb)->seq;
    max_len = mss_now * max_segs;
    if (max_len <= window && skb != tp->write_queue.tail)
        return max_len;
    needed = VNS_MIN(skb->len, window);
    if (max_len <= needed)
        return max_len;
    partial = needed % mss_now;
    if (tcp_nagle_check(partial != 0, tp, nonagle))
        return needed - partial;
    return needed;
}

/* tcp_tso_should_defer (5.4). */
static bool tcp_tso_should_defer(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb,
                                 bool *is_cwnd_limited, unsigned max_segs)
{
    struct vns_tcp *tp = sk->tp;
    uint32_t send_win, cong_win, limit, in_flight;
    vns_time_t now = inet_now(ctx, sk->inet);
    struct vns_skb *head;
    bool defer = false;

    vns_fn_enter(ctx, VNS_FN_tcp_tso_should_defer);
    if (tp->ca_state >= VNS_TCP_CA_Recovery)
        goto send_now;
    /* defer only if the last write was within the current jiffy */
    if ((int32_t)(tcp_jiffies32(ctx, sk) - (uint32_t)(tp->lsndtime / VNS_MSEC(1))) > 0)
        goto send_now;
    in_flight = tcp_packets_in_flight(tp);
    send_win = tcp_wnd_end(tp) - TCP_SKB_CB(skb)->seq;
    cong_win = (tp->snd_cwnd - in_flight) * tp->mss_cache;
    limit = VNS_MIN(send_win, cong_win);
    if (limit >= max_segs * tp->mss_cache)
        goto send_now;
    if (skb != tp->write_queue.tail && limit >= skb->len)
        goto send_now;
    {
        uint32_t chunk = VNS_MIN(tp->snd_wnd, tp->snd_cwnd * tp->mss_cache);

        chunk /= sk->inet->cfg.tcp_tso_win_divisor;
        if (limit >= chunk)
            goto send_now;
    }
    head = tp->write_queue.head;
    if (!head || head == tp->send_head)
        goto send_now;
    /* if the next ACK is likely to come too late (half srtt), do not defer */
    if ((int64_t)(now - TCP_SKB_CB(head)->tx_time) - (int64_t)(tp->srtt_us >> 4) * 1000 < 0)
        goto send_now;
    if (cong_win < send_win && cong_win <= skb->len)
        *is_cwnd_limited = true;
    defer = true;
    sk->inet->stats.tcp_tso_deferred++;
send_now:
    vns_fn_exit(ctx);
    return defer;
}

/* tcp_tso_segs / tcp_tso_autosize: ~1 ms of data at the pacing rate,
 * at least tcp_min_tso_segs. */
/* sk_pacing_rate in bytes/s (tcp_update_pacing_rate): mss x cwnd / srtt,
 * 200% in slow start, 120% after; ~0 (unlimited) before an RTT sample. */
static uint64_t tcp_pacing_rate(const struct vns_tcp *tp)
{
    uint64_t rate;

    if (!tp->srtt_us)
        return UINT64_MAX;
    rate = (uint64_t)tp->mss_cache * VNS_MAX(tp->snd_cwnd, tp->packets_out) * 1000000ull * 8u /
           tp->srtt_us;
    return rate * (tcp_in_slow_start(tp) ? 200u : 120u) / 100u;
}

/* tcp_tso_segs / tcp_tso_autosize: ~1 ms of data at the pacing rate
 * (>> sk_pacing_shift 10), at least tcp_min_tso_segs. */
static unsigned tcp_tso_segs(struct vns_sock *sk, unsigned mss_now)
{
    uint64_t rate = tcp_pacing_rate(sk->tp), bytes;
    unsigned segs, max = 65535u / mss_now ? 65535u / mss_now : 1u;

    if (rate == UINT64_MAX)
        return max;
    bytes = rate >> 10;
    segs = (unsigned)VNS_MIN(bytes / mss_now, 65535ull);
    segs = VNS_MAX(segs, sk->inet->cfg.tcp_min_tso_segs);
    return VNS_MIN(segs, max);
}

/* tcp_small_queue_check (5.4 net/ipv4/tcp_output.c): limit =
 * max(2 * skb->truesize, sk_pacing_rate >> sk_pacing_shift (10)), at most
 * tcp_limit_output_bytes (1 MiB in 5.4's tcp_sk_init) for a socket that is
 * not paced by fq (SK_PACING_NONE: always here), << factor (1 for a
 * retransmission); the TCP_TX_DELAY extra (5.3+, off by default) is not
 * modelled. Over it: send anyway with an empty rtx queue (a delayed
 * TX completion must not stall us), else set TSQ_THROTTLED and re-check
 * (smp_mb__after_atomic: a completion may have come in between; single-
 * threaded here, the re-check is kept for its shape). tcp_wfree resumes. */
static bool tcp_small_queue_check(struct vns_sock *sk, struct vns_skb *skb, unsigned factor)
{
    struct vns_tcp *tp = sk->tp;
    uint64_t limit, rate = tcp_pacing_rate(tp);

    limit = VNS_MAX(2ull * skb->truesize, rate == UINT64_MAX ? UINT64_MAX : rate >> 10);
    limit = VNS_MIN(limit, (uint64_t)sk->inet->cfg.tcp_limit_output_bytes);
    limit <<= factor;
    if (sk->wmem_alloc > limit) {
        if (!tp->write_queue.head || tp->write_queue.head == tp->send_head)
            return false; /* tcp_rtx_queue_empty */
        sk->tsq_flags |= TSQF_THROTTLED;
        if (sk->wmem_alloc > limit) {
            sk->inet->stats.tcp_tsq_throttled++;
            return true;
        }
    }
    return false;
}

/* --- TCP small queues: destructor and tasklet (5.4 net/ipv4/tcp_output.c) --- */

/* __sk_free when the last sk_wmem_alloc reference goes. */
static void sk_wmem_put(struct vns_sock *sk, uint32_t n)
{
    sk->wmem_alloc -= VNS_MIN(n, sk->wmem_alloc); /* never more than charged */
    if (!sk->wmem_alloc)
        vns_free(sk);
}

void vns__sk_free(struct vns_sock *sk)
{
    sk_wmem_put(sk, 1);
}

/* __sock_wfree: a pure ACK's 2 bytes. */
static void tcp_sock_wfree(struct vns_skb *skb)
{
    sk_wmem_put(skb->sk, skb->truesize);
}

/* Which of @inet's CPUs @ctx runs on: the freeing CPU's tasklet (this_cpu_ptr).
 * Between steps (a device model's engine event) the socket's CPU stands in. */
static struct tsq_tasklet *tsq_this_cpu(struct vns_inet *inet, struct vns_ctx *ctx,
                                        const struct vns_sock *sk)
{
    if (ctx) {
        struct vns_cpu *cpu = vns_ctx_cpu(ctx);

        for (unsigned i = 0; i < inet->ntsq; i++)
            if (vns_kernel_cpu(inet->k, i) == cpu)
                return &inet->tsq[i];
    }
    return &inet->tsq[sk->cpu < inet->ntsq ? sk->cpu : 0];
}

/* tcp_wfree: the destructor of a transmitted clone. Releases its truesize
 * but keeps one reference; if TSQ throttled the socket and it is not
 * queued yet, it goes on this CPU's tsq list (keeping that reference) and
 * TASKLET_SOFTIRQ is raised; else the reference is dropped (sk_free). Not
 * when ksoftirqd frees it and more is still queued (under stress: wait
 * for the queues to drain). A closed socket only loses the charge. */
void vns__tcp_wfree(struct vns_skb *skb)
{
    struct vns_sock *sk = skb->sk;
    struct vns_ctx *ctx = vns__skb_free_ctx(skb);
    struct tsq_tasklet *tsq;
    bool empty;

    /* WARN_ON(refcount_sub_and_test(skb->truesize - 1, ...)) */
    sk->wmem_alloc -= VNS_MIN(skb->truesize - 1, sk->wmem_alloc - 1);
    if (sk->freed)
        goto out;
    vns_fn_enter(ctx, VNS_FN_tcp_wfree);
    if (ctx && sk->wmem_alloc >= VNS_SKB_TRUESIZE(1) &&
        vns_cpu_ksoftirqd(vns_ctx_cpu(ctx)) == ctx) {
        vns_fn_exit(ctx);
        goto out;
    }
    if (!(sk->tsq_flags & TSQF_THROTTLED) || (sk->tsq_flags & TSQF_QUEUED)) {
        vns_fn_exit(ctx);
        goto out;
    }
    sk->tsq_flags = (sk->tsq_flags & ~TSQF_THROTTLED) | TSQF_QUEUED;
    tsq = tsq_this_cpu(sk->inet, ctx, sk);
    empty = !tsq->head;
    sk->tsq_next = tsq->head;
    tsq->head = sk;
    sk->inet->stats.tcp_tsq_queued++;
    if (empty) {
        /* tasklet_schedule -> raise_softirq_irqoff(TASKLET_SOFTIRQ) */
        struct vns_cpu *cpu = vns_kernel_cpu(sk->inet->k, tsq->cpu);

        if (ctx && vns_ctx_cpu(ctx) == cpu) {
            vns_raise_softirq(ctx, VNS_TASKLET_SOFTIRQ);
        } else {
            vns_raise_softirq_irqoff(cpu, VNS_TASKLET_SOFTIRQ);
            vns_ctx_wake_at(vns_cpu_ksoftirqd(cpu),
                            ctx ? vns_ctx_now(ctx) : vns_sim_now(sk->inet->sim));
        }
    }
    vns_fn_exit(ctx);
    return;
out:
    vns__sk_free(sk);
}

/* tcp_tsq_write: resume sending in the states that send data. */
static void tcp_tsq_write(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    vns_fn_enter(ctx, VNS_FN_tcp_tsq_write);
    if ((1u << tp->state) &
        ((1u << VNS_TCP_ESTABLISHED) | (1u << VNS_TCP_FIN_WAIT1) | (1u << VNS_TCP_CLOSING) |
         (1u << VNS_TCP_CLOSE_WAIT) | (1u << VNS_TCP_LAST_ACK))) {
        if (tp->lost_out > tp->retrans_out && tp->snd_cwnd > tcp_packets_in_flight(tp))
            vns__tcp_xmit_retransmit_queue(ctx, sk);
        vns__tcp_write_xmit(ctx, sk, vns__tcp_current_mss(sk), tp->nonagle, 0);
    }
    vns_fn_exit(ctx);
}

/* tcp_tsq_handler: write now, or defer to tcp_release_cb while a system
 * call owns the socket (bh_lock_sock / sock_owned_by_user). */
static void tcp_tsq_handler(struct vns_ctx *ctx, struct vns_sock *sk)
{
    vns_fn_enter(ctx, VNS_FN_tcp_tsq_handler);
    if (!sk->owned_by_user) {
        tcp_tsq_write(ctx, sk);
    } else if (!(sk->tsq_flags & TCPF_TSQ_DEFERRED)) {
        sk->tsq_flags |= TCPF_TSQ_DEFERRED;
        sk->wmem_alloc++; /* sock_hold: tcp_release_cb's __sock_put drops it */
        sk->inet->stats.tcp_tsq_deferred++;
    }
    vns_fn_exit(ctx);
}

/* tasklet_action -> tcp_tasklet_func, one socket per step: the list is
 * spliced at the start (sockets queued meanwhile raise the softirq again). */
static int tcp_tasklet_action(struct vns_ctx *ctx, void *arg)
{
    struct tsq_tasklet *tsq = arg;
    struct vns_sock *sk;

    if (!tsq->run) {
        tsq->run = tsq->head;
        tsq->head = NULL;
    }
    sk = tsq->run;
    if (!sk)
        return VNS_STEP_DONE;
    tsq->run = sk->tsq_next;
    sk->tsq_next = NULL;
    vns_fn_enter(ctx, VNS_FN_tcp_tasklet_func);
    sk->tsq_flags &= ~TSQF_QUEUED;
    tcp_tsq_handler(ctx, sk);
    vns_fn_exit(ctx);
    vns__sk_free(sk);
    return tsq->run ? VNS_STEP_AGAIN : VNS_STEP_DONE;
}

/* tcp_release_cb (from release_sock): the deferred TSQ write. */
void vns__tcp_release_cb(struct vns_ctx *ctx, struct vns_sock *sk)
{
    if (!(sk->tsq_flags & TCPF_TSQ_DEFERRED))
        return;
    vns_fn_enter(ctx, VNS_FN_tcp_release_cb);
    sk->tsq_flags &= ~TCPF_TSQ_DEFERRED;
    if (sk->tp)
        tcp_tsq_write(ctx, sk);
    vns_fn_exit(ctx);
    vns__sk_free(sk); /* __sock_put */
}

static bool tsq_list_del(struct vns_sock **pp, struct vns_sock *sk)
{
    for (; *pp; pp = &(*pp)->tsq_next) {
        if (*pp == sk) {
            *pp = sk->tsq_next;
            sk->tsq_next = NULL;
            return true;
        }
    }
    return false;
}

void vns__tcp_tsq_forget(struct vns_sock *sk)
{
    for (unsigned i = 0; i < sk->inet->ntsq && (sk->tsq_flags & TSQF_QUEUED); i++) {
        if (tsq_list_del(&sk->inet->tsq[i].head, sk) || tsq_list_del(&sk->inet->tsq[i].run, sk)) {
            sk->tsq_flags &= ~TSQF_QUEUED;
            vns__sk_free(sk);
        }
    }
    if (sk->tsq_flags & TCPF_TSQ_DEFERRED) {
        sk->tsq_flags &= ~TCPF_TSQ_DEFERRED;
        vns__sk_free(sk);
    }
}

/* tcp_tasklet_init: one tsq_tasklet per CPU, the TASKLET_SOFTIRQ action. */
int vns__tcp_tasklet_init(struct vns_inet *inet)
{
    unsigned n = vns_kernel_ncpus(inet->k);

    inet->tsq = vns_calloc(n, sizeof(*inet->tsq));
    if (!inet->tsq)
        return -VNS_ENOMEM;
    inet->ntsq = n;
    for (unsigned i = 0; i < n; i++) {
        inet->tsq[i].inet = inet;
        inet->tsq[i].cpu = i;
        vns_softirq_open(vns_kernel_cpu(inet->k, i), VNS_TASKLET_SOFTIRQ, VNS_FN_tasklet_action,
                         tcp_tasklet_action, &inet->tsq[i]);
    }
    return 0;
}

/* Sockets still queued drop their tasklet reference; the action goes. */
void vns__tcp_tasklet_fini(struct vns_inet *inet)
{
    for (unsigned i = 0; i < inet->ntsq; i++) {
        struct tsq_tasklet *tsq = &inet->tsq[i];

        vns_softirq_open(vns_kernel_cpu(inet->k, i), VNS_TASKLET_SOFTIRQ, -1, NULL, NULL);
        tsq->head = tsq->run = NULL; /* already emptied by vns__sock_free */
    }
    vns_free(inet->tsq);
    inet->tsq = NULL;
    inet->ntsq = 0;
}

static void tcp_event_new_data_sent(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb)
{
    struct vns_tcp *tp = sk->tp;
    unsigned prior_packets = tp->packets_out;

    vns_fn_enter(ctx, VNS_FN_tcp_event_new_data_sent);
    tp->send_head = skb->next;
    tp->snd_nxt = TCP_SKB_CB(skb)->end_seq;
    tp->packets_out += tcp_skb_pcount(skb);
    if (!prior_packets || tp->pending == ICSK_TIME_PROBE0)
        vns__tcp_rearm_rto(ctx, sk);
    vns_fn_exit(ctx);
}

bool vns__tcp_write_xmit(struct vns_ctx *ctx, struct vns_sock *sk, unsigned mss_now, int nonagle,
                         int push_one)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_skb *skb;
    unsigned sent_pkts = 0, max_segs;
    bool is_cwnd_limited = false, is_rwnd_limited = false;

    vns_fn_enter(ctx, VNS_FN_tcp_write_xmit);
    max_segs = tcp_tso_segs(sk, mss_now);
    while ((skb = tp->send_head) != NULL) {
        unsigned tso_segs, cwnd_quota, limit;

        vns__tcp_set_skb_tso_segs(skb, mss_now);
        tso_segs = tcp_skb_pcount(skb);
        cwnd_quota = tcp_cwnd_test(tp, skb);
        if (!cwnd_quota) {
            if (push_one == 2)
                cwnd_quota = 1; /* force a loss probe */
            else
                break;
        }
        if (!tcp_snd_wnd_test(tp, skb, mss_now)) {
            is_rwnd_limited = true;
            break;
        }
        if (tso_segs == 1) {
            if (!tcp_nagle_test(tp, skb, mss_now,
                                skb == tp->write_queue.tail ? nonagle : VNS_TCP_NAGLE_PUSH)) {
                sk->inet->stats.tcp_nagle_deferred++;
                break;
            }
        } else if (!push_one && tcp_tso_should_defer(ctx, sk, skb, &is_cwnd_limited, max_segs)) {
            break;
        }
        limit = mss_now;
        if (tso_segs > 1)
            limit = tcp_mss_split_point(sk, skb, mss_now, VNS_MIN(cwnd_quota, max_segs), nonagle);
        if (skb->len > limit) {
            vns_fn_enter(ctx, VNS_FN_tso_fragment);
            if (vns__tcp_fragment(sk, skb, limit, mss_now) < 0) {
                vns_fn_exit(ctx);
                break;
            }
            vns_fn_exit(ctx);
        }
        if (tcp_small_queue_check(sk, skb, 0))
            break;
        if (vns__tcp_transmit_skb(ctx, sk, skb, true, tp->rcv_nxt))
            break;
        if (tp->ca_state == VNS_TCP_CA_Recovery)
            tp->prr_out += tcp_skb_pcount(skb);
        tcp_event_new_data_sent(ctx, sk, skb);
        /* tcp_minshall_update */
        if (skb->len < tcp_skb_pcount(skb) * mss_now)
            tp->snd_sml = TCP_SKB_CB(skb)->end_seq;
        sent_pkts += tcp_skb_pcount(skb);
        if (push_one)
            break;
    }
    if (is_rwnd_limited)
        sk->inet->stats.tcp_rwnd_limited++;
    vns_fn_exit(ctx);
    if (sent_pkts) {
        /* one loss probe per tail loss episode */
        if (push_one != 2)
            vns__tcp_schedule_loss_probe(ctx, sk, false);
        /* tcp_cwnd_validate */
        if (tp->packets_out > tp->max_packets_out || is_cwnd_limited) {
            tp->max_packets_out = tp->packets_out;
        }
        tp->is_cwnd_limited = is_cwnd_limited || tcp_packets_in_flight(tp) >= tp->snd_cwnd;
        if (tp->is_cwnd_limited)
            sk->inet->stats.tcp_cwnd_limited++;
        return false;
    }
    return !tp->packets_out && tp->send_head;
}

void vns__tcp_check_probe_timer(struct vns_sock *sk, struct vns_ctx *ctx)
{
    struct vns_tcp *tp = sk->tp;

    if (!tp->packets_out && !tp->pending)
        vns__tcp_reset_xmit_timer(ctx, sk, ICSK_TIME_PROBE0, inet_now(ctx, sk->inet) + tp->rto);
}

void vns__tcp_push_pending_frames(struct vns_ctx *ctx, struct vns_sock *sk, unsigned cur_mss,
                                  int nonagle)
{
    vns_fn_enter(ctx, VNS_FN___tcp_push_pending_frames);
    if (sk->tp->state == VNS_TCP_CLOSE) {
        vns_fn_exit(ctx);
        return;
    }
    if (vns__tcp_write_xmit(ctx, sk, cur_mss, nonagle, 0))
        vns__tcp_check_probe_timer(sk, ctx);
    vns_fn_exit(ctx);
}

void vns__tcp_push_one(struct vns_ctx *ctx, struct vns_sock *sk, unsigned mss_now)
{
    vns_fn_enter(ctx, VNS_FN_tcp_push_one);
    vns__tcp_write_xmit(ctx, sk, mss_now, VNS_TCP_NAGLE_PUSH, 1);
    vns_fn_exit(ctx);
}

/* tcp_should_autocork (5.4 net/ipv4/tcp.c): a tail shorter than the size
 * goal, tcp_autocorking on, something in the rtx queue (5.4's
 * !tcp_rtx_queue_empty; before the rtx rbtree: skb != tcp_write_queue_head)
 * and more than this skb's truesize of our data still below TCP (a pure
 * ACK there does not count). No tcp_skb_can_collapse_to (5.17+). */
static bool tcp_should_autocork(struct vns_sock *sk, struct vns_skb *skb, unsigned size_goal)
{
    struct vns_tcp *tp = sk->tp;

    return skb->len < size_goal && sk->inet->cfg.tcp_autocorking >= 0 &&
           tp->write_queue.head != tp->send_head && sk->wmem_alloc > skb->truesize;
}

/* tcp_push (net/ipv4/tcp.c): autocork sets TSQ_THROTTLED (counting
 * TCPAutoCorking once) so that tcp_wfree's tasklet pushes the tail when
 * the data below drains; re-check after setting it (a completion may
 * already have happened). */
void vns__tcp_push(struct vns_ctx *ctx, struct vns_sock *sk, int flags, unsigned mss_now,
                   int nonagle, unsigned size_goal)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_skb *skb = tp->write_queue.tail;

    vns_fn_enter(ctx, VNS_FN_tcp_push);
    if (!skb || !tp->send_head) {
        vns_fn_exit(ctx);
        return;
    }
    if (!(flags & VNS_MSG_MORE)) {
        /* tcp_mark_push */
        TCP_SKB_CB(skb)->tcp_flags |= VNS_TCP_FLAG_PSH;
        tp->pushed_seq = tp->write_seq;
    }
    if (tcp_should_autocork(sk, skb, size_goal)) {
        if (!(sk->tsq_flags & TSQF_THROTTLED)) {
            sk->inet->stats.tcp_autocorking++; /* LINUX_MIB_TCPAUTOCORKING */
            sk->tsq_flags |= TSQF_THROTTLED;
        }
        if (sk->wmem_alloc > skb->truesize) {
            vns_fn_exit(ctx);
            return;
        }
    }
    if (flags & VNS_MSG_MORE)
        nonagle = VNS_TCP_NAGLE_CORK;
    vns__tcp_push_pending_frames(ctx, sk, mss_now, nonagle);
    vns_fn_exit(ctx);
}

/* A control segment (no data) in a fresh skb. */
static struct vns_skb *tcp_ctl_skb(struct vns_sock *sk, uint32_t seq, uint8_t flags)
{
    struct vns_skb *skb = vns_alloc_skb(sk->inet->k, VNS_MAX_TCP_HEADER);
    struct tcp_skb_cb *cb;

    if (!skb)
        return NULL;
    vns_skb_reserve(skb, VNS_MAX_TCP_HEADER);
    cb = TCP_SKB_CB(skb);
    memset(cb, 0, sizeof(*cb));
    cb->seq = seq;
    cb->end_seq = seq + ((flags & (VNS_TCP_FLAG_SYN | VNS_TCP_FLAG_FIN)) ? 1 : 0);
    cb->tcp_flags = flags;
    cb->pcount = 1;
    return skb;
}

/* tcp_send_ack -> __tcp_send_ack */
void vns__tcp_send_ack(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_skb *skb;

    if (tp->state == VNS_TCP_CLOSE)
        return;
    vns_fn_enter(ctx, VNS_FN_tcp_send_ack);
    vns_fn_enter(ctx, VNS_FN___tcp_send_ack);
    skb = tcp_ctl_skb(sk, tp->snd_nxt, VNS_TCP_FLAG_ACK);
    if (!skb) {
        /* inet_csk_schedule_ack + retry via the delack timer */
        tp->ack_pending |= ICSK_ACK_SCHED;
        vns_fn_exit(ctx);
        vns_fn_exit(ctx);
        return;
    }
    skb->truesize = 2; /* skb_set_tcp_pure_ack */
    vns__tcp_transmit_skb(ctx, sk, skb, false, tp->rcv_nxt);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
}

/* tcp_send_delayed_ack (5.4) */
void vns__tcp_send_delayed_ack(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    vns_time_t ato = tp->ato, now = inet_now(ctx, sk->inet), timeout;

    vns_fn_enter(ctx, VNS_FN_tcp_send_delayed_ack);
    if (ato > VNS_TCP_DELACK_MIN) {
        vns_time_t max_ato = VNS_MSEC(500); /* HZ / 2 */

        if (tp->pingpong || (tp->ack_pending & ICSK_ACK_PUSHED))
            max_ato = VNS_TCP_DELACK_MAX;
        if (tp->srtt_us) {
            vns_time_t rtt = VNS_MAX((vns_time_t)(tp->srtt_us >> 3) * 1000u, VNS_TCP_DELACK_MIN);

            if (rtt < max_ato)
                max_ato = rtt;
        }
        ato = VNS_MIN(ato, max_ato);
    }
    timeout = now + ato;
    if (tp->ack_pending & ICSK_ACK_TIMER) {
        /* about to expire anyway: send now */
        if (tp->delack_timer.expires <= now + (ato >> 2)) {
            vns__tcp_send_ack(ctx, sk);
            vns_fn_exit(ctx);
            return;
        }
        if (timeout >= tp->delack_timer.expires)
            timeout = tp->delack_timer.expires;
    }
    tp->ack_pending |= ICSK_ACK_SCHED | ICSK_ACK_TIMER;
    vns_mod_timer(&tp->delack_timer, timeout);
    vns_fn_exit(ctx);
}

/* SYN (tcp_connect) or SYN-ACK (tcp_v4_send_synack). */
int vns__tcp_send_syn(struct vns_ctx *ctx, struct vns_sock *sk, bool synack)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_skb *skb =
        tcp_ctl_skb(sk, tp->iss, (uint8_t)(VNS_TCP_FLAG_SYN | (synack ? VNS_TCP_FLAG_ACK : 0)));

    if (!skb)
        return -VNS_ENOBUFS;
    if (synack)
        vns_fn_enter(ctx, VNS_FN_tcp_v4_send_synack);
    vns__tcp_transmit_skb(ctx, sk, skb, false, tp->rcv_nxt);
    if (synack)
        vns_fn_exit(ctx);
    return 0;
}

/* tcp_send_fin: FIN on the last unsent skb, or a new empty one. */
void vns__tcp_send_fin(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_skb *tail = tp->write_queue.tail;

    vns_fn_enter(ctx, VNS_FN_tcp_send_fin);
    if (tail && tp->send_head) {
        TCP_SKB_CB(tail)->tcp_flags |= VNS_TCP_FLAG_FIN;
        TCP_SKB_CB(tail)->end_seq++;
        tp->write_seq++;
    } else {
        struct vns_skb *skb = tcp_ctl_skb(sk, tp->write_seq, VNS_TCP_FLAG_FIN | VNS_TCP_FLAG_ACK);

        if (!skb) {
            vns_fn_exit(ctx);
            return;
        }
        tp->write_seq++;
        vns_skb_queue_tail(&tp->write_queue, skb);
        if (!tp->send_head)
            tp->send_head = skb;
    }
    vns__tcp_push_pending_frames(ctx, sk, vns__tcp_current_mss(sk), VNS_TCP_NAGLE_OFF);
    vns_fn_exit(ctx);
}

void vns__tcp_send_active_reset(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_skb *skb;

    vns_fn_enter(ctx, VNS_FN_tcp_send_active_reset);
    skb = tcp_ctl_skb(sk, tp->snd_nxt, VNS_TCP_FLAG_ACK | VNS_TCP_FLAG_RST);
    if (skb) {
        sk->inet->stats.tcp_out_rsts++;
        vns__tcp_transmit_skb(ctx, sk, skb, false, tp->rcv_nxt);
    }
    vns_fn_exit(ctx);
}

/* tcp_v4_send_reset: answer a segment that has no socket. @skb is
 * borrowed; its data is past the TCP header, transport header set. */
void vns__tcp_v4_send_reset(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb)
{
    const uint8_t *th = vns_skb_transport_header(skb);
    const uint8_t *iph = vns_skb_network_header(skb);
    struct tcp_skb_cb *icb = TCP_SKB_CB(skb);
    struct vns_skb *r;
    uint8_t *rh;
    uint8_t flags = th[13];

    if (flags & VNS_TCP_FLAG_RST)
        return;
    vns_fn_enter(ctx, VNS_FN_tcp_v4_send_reset);
    r = vns_alloc_skb(inet->k, VNS_MAX_TCP_HEADER + 20);
    if (!r) {
        vns_fn_exit(ctx);
        return;
    }
    vns_skb_reserve(r, VNS_MAX_TCP_HEADER);
    rh = vns_skb_put(r, 20);
    memset(rh, 0, 20);
    vns_put_be16(rh, vns_get_be16(th + 2));
    vns_put_be16(rh + 2, vns_get_be16(th));
    if (flags & VNS_TCP_FLAG_ACK) {
        vns_put_be32(rh + 4, vns_get_be32(th + 8));
        rh[13] = VNS_TCP_FLAG_RST;
    } else {
        vns_put_be32(rh + 8, icb->end_seq);
        rh[13] = VNS_TCP_FLAG_RST | VNS_TCP_FLAG_ACK;
    }
    rh[12] = 5 << 4;
    vns_put_be16(rh + 16,
                 vns_csum_fold(vns_csum_partial(
                     rh, 20, vns_csum_tcpudp_nofold(iph + 16, iph + 12, 20, VNS_IPPROTO_TCP, 0))));
    vns_skb_reset_transport_header(r);
    inet->stats.tcp_out_rsts++;
    inet->stats.tcp_out_segs++;
    vns_ip_send_raw(ctx, inet, r, vns_get_be32(iph + 16), vns_get_be32(iph + 12), VNS_IPPROTO_TCP,
                    true);
    vns_fn_exit(ctx);
}

/* tcp_xmit_probe_skb: an ACK with an old sequence number (snd_una - 1),
 * which the peer must answer with an ACK carrying its window. */
void vns__tcp_xmit_probe_skb(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_skb *skb = tcp_ctl_skb(sk, tp->snd_una - 1, VNS_TCP_FLAG_ACK);

    if (!skb)
        return;
    TCP_SKB_CB(skb)->end_seq = tp->snd_una - 1;
    sk->inet->stats.tcp_zero_window_probes++;
    vns__tcp_transmit_skb(ctx, sk, skb, false, tp->rcv_nxt);
}

/* __tcp_retransmit_skb: trim what is acked, cut to @segs MSS, send a
 * clone. Counts the retransmission (total_retrans, RetransSegs). */
int vns__tcp_retransmit_skb_raw(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb,
                                unsigned segs)
{
    struct vns_tcp *tp = sk->tp;
    struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
    unsigned cur_mss = vns__tcp_current_mss(sk), len;
    int err;

    vns_fn_enter(ctx, VNS_FN___tcp_retransmit_skb);
    /* partially acked: trim what the peer already has */
    if (tcp_before(cb->seq, tp->snd_una)) {
        vns__tcp_trim_head(skb, tp->snd_una - cb->seq);
        cb->seq = tp->snd_una;
        vns__tcp_set_skb_tso_segs(skb, cur_mss);
    }
    len = cur_mss * VNS_MAX(segs, 1u);
    if (skb->len > len) {
        if (vns__tcp_fragment(sk, skb, len, cur_mss) < 0) {
            vns_fn_exit(ctx);
            return -VNS_ENOMEM;
        }
    }
    vns__tcp_set_skb_tso_segs(skb, cur_mss);
    err = vns__tcp_transmit_skb(ctx, sk, skb, true, tp->rcv_nxt);
    if (!err) {
        unsigned pc = tcp_skb_pcount(skb);

        cb->sacked |= TCPCB_EVER_RETRANS;
        tp->info.total_retrans += pc;
        sk->inet->stats.tcp_retrans_segs += pc;
        if (tp->ca_state == VNS_TCP_CA_Recovery)
            tp->prr_out += pc;
    }
    vns_fn_exit(ctx);
    return err;
}

/* tcp_retransmit_skb: __tcp_retransmit_skb, then mark it retransmitted
 * (TCPCB_SACKED_RETRANS, retrans_out). */
int vns__tcp_retransmit_skb(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb,
                            unsigned segs)
{
    struct vns_tcp *tp = sk->tp;
    int err;

    vns_fn_enter(ctx, VNS_FN_tcp_retransmit_skb);
    err = vns__tcp_retransmit_skb_raw(ctx, sk, skb, segs);
    if (!err) {
        TCP_SKB_CB(skb)->sacked |= TCPCB_SACKED_RETRANS;
        tp->retrans_out += tcp_skb_pcount(skb);
        /* save the stamp of the first retransmission, for undo */
        if (!tp->retrans_stamp)
            tp->retrans_stamp = tcp_jiffies32(ctx, sk) + tp->tsoffset;
        if (tp->undo_retrans < 0)
            tp->undo_retrans = 0;
        tp->undo_retrans += (int)tcp_skb_pcount(skb);
    }
    vns_fn_exit(ctx);
    return err;
}

/* tcp_schedule_loss_probe (5.4, tcp_early_retrans = 3): a tail loss probe
 * 2 x srtt after the last send (+ TCP_RTO_MIN with one packet out, else
 * + 2 jiffies), no later than the RTO; SACK connections in Open/CWR. */
bool vns__tcp_schedule_loss_probe(struct vns_ctx *ctx, struct vns_sock *sk, bool advancing_rto)
{
    struct vns_tcp *tp = sk->tp;
    vns_time_t now = inet_now(ctx, sk->inet), timeout, rto_delta;

    if (!tp->packets_out || !tp->sack_ok ||
        (tp->ca_state != VNS_TCP_CA_Open && tp->ca_state != VNS_TCP_CA_CWR))
        return false;
    if (tp->srtt_us) {
        timeout = (vns_time_t)(tp->srtt_us >> 2) * 1000u;
        timeout = (timeout + VNS_MSEC(1) - 1) / VNS_MSEC(1) * VNS_MSEC(1); /* usecs_to_jiffies */
        timeout += tp->packets_out == 1 ? VNS_TCP_RTO_MIN : VNS_MSEC(2);   /* TCP_TIMEOUT_MIN */
    } else {
        timeout = VNS_TCP_TIMEOUT_INIT;
    }
    if (advancing_rto) {
        rto_delta = tp->rto;
    } else {
        struct vns_skb *head = tp->write_queue.head;
        vns_time_t sent = head ? TCP_SKB_CB(head)->tx_time : now;

        rto_delta = sent + tp->rto > now ? sent + tp->rto - now : 0;
    }
    if (rto_delta > 0)
        timeout = VNS_MIN(timeout, rto_delta);
    vns__tcp_reset_xmit_timer(ctx, sk, ICSK_TIME_LOSS_PROBE, now + timeout);
    return true;
}

/* tcp_send_loss_probe: new data if the window allows, else the last
 * segment again (one MSS of it). */
void vns__tcp_send_loss_probe(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    unsigned mss = vns__tcp_current_mss(sk), pcount;
    struct vns_skb *skb = tp->send_head;

    if (skb && tcp_snd_wnd_test(tp, skb, mss)) {
        pcount = tp->packets_out;
        vns__tcp_write_xmit(ctx, sk, mss, VNS_TCP_NAGLE_OFF, 2);
        if (tp->packets_out > pcount)
            goto probe_sent;
        goto rearm_timer;
    }
    /* the last skb of the retransmit queue */
    skb = tp->send_head ? tp->send_head->prev : tp->write_queue.tail;
    if (!skb || tp->tlp_high_seq)
        goto rearm_timer;
    pcount = tcp_skb_pcount(skb);
    if (pcount > 1 && skb->len > (pcount - 1) * mss) {
        if (vns__tcp_fragment(sk, skb, (pcount - 1) * mss, mss) < 0)
            goto rearm_timer;
        skb = skb->next;
    }
    if (!skb || vns__tcp_retransmit_skb_raw(ctx, sk, skb, 1))
        goto rearm_timer;
    tp->tlp_high_seq = tp->snd_nxt;
probe_sent:
    sk->inet->stats.tcp_loss_probes++;
    tp->pending = 0;
rearm_timer:
    vns__tcp_rearm_rto(ctx, sk);
}

/* tcp_xmit_retransmit_queue: retransmit the segments marked lost while
 * the congestion window allows. */
void vns__tcp_xmit_retransmit_queue(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_skb *skb;

    if (!tp->packets_out)
        return;
    vns_fn_enter(ctx, VNS_FN_tcp_xmit_retransmit_queue);
    for (skb = tp->write_queue.head; skb && skb != tp->send_head; skb = skb->next) {
        struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
        int segs = (int)tp->snd_cwnd - (int)tcp_packets_in_flight(tp);

        if (segs <= 0)
            break;
        if (tp->retrans_out >= tp->lost_out)
            break;
        if (!(cb->sacked & TCPCB_LOST))
            continue;
        if (cb->sacked & (TCPCB_SACKED_ACKED | TCPCB_SACKED_RETRANS))
            continue;
        if (tcp_small_queue_check(sk, skb, 1))
            break;
        if (vns__tcp_retransmit_skb(ctx, sk, skb, (unsigned)segs))
            break;
        if (tp->ca_state != VNS_TCP_CA_Loss)
            sk->inet->stats.tcp_fast_retrans++;
        if (skb == tp->write_queue.head)
            vns__tcp_reset_xmit_timer(ctx, sk, ICSK_TIME_RETRANS,
                                      inet_now(ctx, sk->inet) + tp->rto);
    }
    vns_fn_exit(ctx);
}
