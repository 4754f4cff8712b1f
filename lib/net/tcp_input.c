/* lib/net/tcp_input.c -- TCP input. LINUX: net/ipv4/tcp_ipv4.c (tcp_v4_rcv,
 * tcp_v4_do_rcv, tcp_v4_conn_request), net/ipv4/tcp_input.c (5.4):
 * tcp_rcv_established, tcp_rcv_state_process, tcp_rcv_synsent_state_process,
 * tcp_ack (tcp_ack_update_window, tcp_sacktag_write_queue,
 * tcp_clean_rtx_queue, tcp_ack_update_rtt/tcp_rtt_estimator/tcp_set_rto,
 * tcp_fastretrans_alert, vns__tcp_cwnd_reduction (PRR), tcp_cong_control),
 * tcp_data_queue, tcp_data_queue_ofo, tcp_ofo_queue, tcp_event_data_recv,
 * __tcp_ack_snd_check, tcp_fin, tcp_reset, tcp_grow_window. SACK
 * tagging, RACK/NewReno loss detection, PRR, undo, the recovery state
 * machine and the TLP ACK check are in tcp_recovery.c.
 *
 * Loss detection and recovery (RACK with its reordering timer, NewReno,
 * PRR, undo, TLP acks) are described in tcp_recovery.c. No header prediction
 * fast path (the slow path gives the same result), no PAWS, no ECN, no
 * urgent data, no request sockets: a SYN on a listener creates the child
 * socket at once in SYN_RECV (no SYN cookies). */
#include <string.h>

#include "inet_int.h"

/* tcp_parse_options: the header at the transport header; bad lengths end
 * the parse (as the kernel does: "silly options"). */
void vns__tcp_parse_options(const struct vns_skb *skb, struct tcp_rx_opts *opt)
{
    const uint8_t *th = vns_skb_transport_header(skb);
    int length = (int)((th[12] >> 4) * 4u) - 20;
    const uint8_t *ptr = th + 20;
    bool syn = th[13] & VNS_TCP_FLAG_SYN;

    memset(opt, 0, sizeof(*opt));
    while (length > 0) {
        int opcode = *ptr++, opsize;

        if (opcode == TCPOPT_EOL)
            return;
        if (opcode == TCPOPT_NOP) {
            length--;
            continue;
        }
        if (length < 2)
            return;
        opsize = *ptr++;
        if (opsize < 2 || opsize > length)
            return;
        switch (opcode) {
        case TCPOPT_MSS:
            if (opsize == 4 && syn)
                opt->mss = vns_get_be16(ptr);
            break;
        case TCPOPT_WINDOW:
            if (opsize == 3 && syn) {
                opt->wscale_ok = true;
                opt->snd_wscale = VNS_MIN(ptr[0], (uint8_t)VNS_TCP_MAX_WSCALE);
            }
            break;
        case TCPOPT_TIMESTAMP:
            if (opsize == 10) {
                opt->saw_tstamp = true;
                opt->rcv_tsval = vns_get_be32(ptr);
                opt->rcv_tsecr = vns_get_be32(ptr + 4);
            }
            break;
        case TCPOPT_SACK_PERM:
            if (opsize == 2 && syn)
                opt->sack_ok = true;
            break;
        case TCPOPT_SACK:
            if (opsize >= 10 && ((opsize - 2) % 8) == 0 && !syn) {
                unsigned n = (unsigned)(opsize - 2) / 8;

                for (unsigned i = 0; i < n && opt->num_sacks < 4; i++) {
                    opt->sacks[opt->num_sacks].start = vns_get_be32(ptr + (size_t)8 * i);
                    opt->sacks[opt->num_sacks].end = vns_get_be32(ptr + (size_t)8 * i + 4);
                    opt->num_sacks++;
                }
            }
            break;
        default:
            break;
        }
        ptr += opsize - 2;
        length -= opsize;
    }
}

void vns__tcp_incr_quickack(struct vns_sock *sk, unsigned max_quickacks)
{
    struct vns_tcp *tp = sk->tp;
    unsigned quickacks = tp->rcv_wnd / (2 * VNS_MAX(tp->rcv_mss, 1u));

    if (quickacks == 0)
        quickacks = 2;
    quickacks = VNS_MIN(quickacks, max_quickacks);
    if (quickacks > tp->quick)
        tp->quick = (uint8_t)quickacks;
}

static void tcp_enter_quickack_mode(struct vns_sock *sk, unsigned max_quickacks)
{
    vns__tcp_incr_quickack(sk, max_quickacks);
    sk->tp->pingpong = false;
    sk->tp->ato = VNS_TCP_ATO_MIN;
}

static bool tcp_in_quickack_mode(const struct vns_tcp *tp)
{
    return tp->quick && !tp->pingpong;
}

/* --- RTT ------------------------------------------------------------------------ */

static void tcp_rtt_estimator(struct vns_tcp *tp, long mrtt_us)
{
    long m = mrtt_us;
    uint32_t srtt = tp->srtt_us;
    const uint32_t rto_min_us = 200000;

    if (srtt != 0) {
        m -= (long)(srtt >> 3);
        srtt = (uint32_t)((long)srtt + m);
        if (m < 0) {
            m = -m;
            m -= (long)(tp->mdev_us >> 2);
            if (m > 0)
                m >>= 3;
        } else {
            m -= (long)(tp->mdev_us >> 2);
        }
        tp->mdev_us = (uint32_t)((long)tp->mdev_us + m);
        if (tp->mdev_us > tp->mdev_max_us) {
            tp->mdev_max_us = tp->mdev_us;
            if (tp->mdev_max_us > tp->rttvar_us)
                tp->rttvar_us = tp->mdev_max_us;
        }
        if (tcp_after(tp->snd_una, tp->rtt_seq)) {
            if (tp->mdev_max_us < tp->rttvar_us)
                tp->rttvar_us -= (tp->rttvar_us - tp->mdev_max_us) >> 2;
            tp->rtt_seq = tp->snd_nxt;
            tp->mdev_max_us = rto_min_us;
        }
    } else {
        srtt = (uint32_t)(m << 3);
        tp->mdev_us = (uint32_t)(m << 1);
        tp->rttvar_us = VNS_MAX(tp->mdev_us, rto_min_us);
        tp->mdev_max_us = tp->rttvar_us;
        tp->rtt_seq = tp->snd_nxt;
    }
    tp->srtt_us = VNS_MAX(1u, srtt);
}

/* tcp_ack_update_rtt: Karn's rule (seq RTT only from never-retransmitted
 * data), else the timestamp echo. */
static void tcp_ack_update_rtt(struct vns_ctx *ctx, struct vns_sock *sk, long seq_rtt_us,
                               const struct tcp_rx_opts *opt)
{
    struct vns_tcp *tp = sk->tp;

    if (seq_rtt_us < 0 && tp->tstamp_ok && opt->saw_tstamp && opt->rcv_tsecr) {
        uint32_t delta_ms = tcp_jiffies32(ctx, sk) + tp->tsoffset - opt->rcv_tsecr;

        if (delta_ms < 0x7fffffff)
            seq_rtt_us = (long)delta_ms * 1000L;
    }
    if (seq_rtt_us < 0)
        return;
    if (seq_rtt_us == 0)
        seq_rtt_us = 1;
    tcp_rtt_estimator(tp, seq_rtt_us);
    /* tcp_set_rto + tcp_bound_rto */
    tp->rto = (vns_time_t)((tp->srtt_us >> 3) + tp->rttvar_us) * 1000u;
    if (tp->rto > VNS_TCP_RTO_MAX)
        tp->rto = VNS_TCP_RTO_MAX;
    tp->backoff = 0;
    tp->info.srtt = (vns_time_t)(tp->srtt_us >> 3) * 1000u;
    tp->info.rttvar = (vns_time_t)tp->rttvar_us * 1000u;
}

/* --- ACK processing ---------------------------------------------------------------- */

/* tcp_clean_rtx_queue: free what the cumulative ACK covers. Returns the
 * packets newly acked (not previously SACKed). */
static unsigned tcp_clean_rtx_queue(struct vns_ctx *ctx, struct vns_sock *sk,
                                    uint32_t prior_snd_una, int *flag, long *seq_rtt_us,
                                    const struct tcp_rx_opts *opt)
{
    struct vns_tcp *tp = sk->tp;
    vns_time_t now = inet_now(ctx, sk->inet);
    vns_time_t first_ackt = 0;
    unsigned pkts_acked = 0, newly = 0;
    bool fully = true;
    struct vns_skb *skb;

    (void)prior_snd_una;
    (void)opt;
    vns_fn_enter(ctx, VNS_FN_tcp_clean_rtx_queue);
    *seq_rtt_us = -1;
    while ((skb = tp->write_queue.head) != NULL && skb != tp->send_head) {
        struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
        unsigned acked_pcount;
        uint8_t sacked = cb->sacked;

        if (tcp_after(cb->end_seq, tp->snd_una)) {
            /* tcp_tso_acked: a GSO skb partly acked loses its head */
            unsigned old_pcount = tcp_skb_pcount(skb);
            uint32_t trim = tp->snd_una - cb->seq;

            if (old_pcount == 1 || !tcp_after(tp->snd_una, cb->seq))
                break;
            vns__tcp_trim_head(skb, trim);
            cb->seq = tp->snd_una;
            cb->truesize -= VNS_MIN(cb->truesize, trim);
            sk->wmem_queued -= VNS_MIN(sk->wmem_queued, trim);
            vns__tcp_set_skb_tso_segs(skb, vns__tcp_current_mss(sk));
            acked_pcount = old_pcount > tcp_skb_pcount(skb) ? old_pcount - tcp_skb_pcount(skb) : 0;
            fully = false;
        } else {
            acked_pcount = tcp_skb_pcount(skb);
        }
        if (sacked & TCPCB_SACKED_RETRANS)
            tp->retrans_out -= VNS_MIN(tp->retrans_out, acked_pcount);
        if (sacked & TCPCB_EVER_RETRANS) {
            *flag |= FLAG_RETRANS_DATA_ACKED;
        } else if (!(sacked & TCPCB_SACKED_ACKED)) {
            if (!first_ackt)
                first_ackt = cb->tx_time;
            *flag |= FLAG_ORIG_SACK_ACKED;
        }
        if (sacked & TCPCB_SACKED_ACKED) {
            tp->sacked_out -= VNS_MIN(tp->sacked_out, acked_pcount);
        } else {
            vns__tcp_rack_advance(tp, sacked, cb->end_seq, cb->tx_time, now);
            newly += acked_pcount;
            tp->delivered += acked_pcount;
        }
        if (sacked & TCPCB_LOST)
            tp->lost_out -= VNS_MIN(tp->lost_out, acked_pcount);
        tp->packets_out -= VNS_MIN(tp->packets_out, acked_pcount);
        pkts_acked += acked_pcount;
        if (cb->tcp_flags & VNS_TCP_FLAG_SYN)
            *flag |= FLAG_SYN_ACKED;
        else
            *flag |= FLAG_DATA_ACKED;
        if (!fully)
            break;
        vns_skb_dequeue(&tp->write_queue);
        sk->wmem_queued -= VNS_MIN(sk->wmem_queued, cb->truesize);
        vns_consume_skb(skb);
    }
    if (first_ackt)
        *seq_rtt_us = (long)((now - first_ackt) / 1000u);
    if (*flag & FLAG_ACKED)
        *flag |= FLAG_SET_XMIT_TIMER;
    if (tp->ca_ops->pkts_acked && pkts_acked)
        tp->ca_ops->pkts_acked(sk, pkts_acked, *seq_rtt_us);
    vns_fn_exit(ctx);
    return newly;
}

/* tcp_v4_mtu_reduced + tcp_simple_retransmit: a smaller path MTU; sent
 * segments larger than the new MSS are lost (Loss state without a cwnd
 * change: "units changed"), and retransmitted at the new size. */
void vns__tcp_v4_mtu_reduced(struct vns_ctx *ctx, struct vns_sock *sk, unsigned mtu)
{
    struct vns_tcp *tp = sk->tp;
    unsigned old_mss = tp->mss_cache, mss;

    if (!tp || tp->state == VNS_TCP_LISTEN || tp->state == VNS_TCP_CLOSE)
        return;
    vns__tcp_sync_mss(sk, mtu);
    mss = tp->mss_cache;
    if (mss >= old_mss)
        return;
    for (struct vns_skb *skb = tp->write_queue.head; skb && skb != tp->send_head; skb = skb->next) {
        struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
        unsigned seglen = cb->pcount > 1 ? old_mss : skb->len;

        if (seglen > mss && !(cb->sacked & TCPCB_SACKED_ACKED))
            vns__tcp_mark_skb_lost(tp, skb);
    }
    if (!tp->lost_out)
        return;
    if (tp->ca_state != VNS_TCP_CA_Loss) {
        tp->high_seq = tp->snd_nxt;
        tp->snd_ssthresh = vns__tcp_current_ssthresh(tp);
        tp->prior_ssthresh = 0;
        tp->undo_marker = 0;
        vns__tcp_set_ca_state(sk, VNS_TCP_CA_Loss);
    }
    vns__tcp_xmit_retransmit_queue(ctx, sk);
}

static bool tcp_may_update_window(const struct vns_tcp *tp, uint32_t ack, uint32_t ack_seq,
                                  uint32_t nwin)
{
    return tcp_after(ack, tp->snd_una) || tcp_after(ack_seq, tp->snd_wl1) ||
           (ack_seq == tp->snd_wl1 && nwin > tp->snd_wnd);
}

/* tcp_ack: process an incoming ACK. Returns -1 for an ACK of data never
 * sent, 0 for an old or dubious one handled, 1 otherwise. */
static int tcp_ack(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb,
                   const struct tcp_rx_opts *opt, int flag)
{
    struct vns_tcp *tp = sk->tp;
    struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
    const uint8_t *th = vns_skb_transport_header(skb);
    uint32_t ack = vns_get_be32(th + 8), prior_snd_una = tp->snd_una;
    uint32_t nwin = (uint32_t)vns_get_be16(th + 14) << tp->snd_wscale;
    unsigned prior_packets = tp->packets_out, num_dupack = 0, newly_sacked = 0, newly_acked;
    uint32_t prior_delivered = tp->delivered;
    long seq_rtt_us = -1;
    bool rexmit = false;

    vns_fn_enter(ctx, VNS_FN_tcp_ack);
    if (tcp_before(ack, prior_snd_una)) {
        /* old ACK: only D-SACK information is of interest */
        if (opt->num_sacks)
            vns__tcp_sacktag_write_queue(ctx, sk, opt, prior_snd_una, &flag);
        vns_fn_exit(ctx);
        return 0;
    }
    if (tcp_after(ack, tp->snd_nxt)) {
        vns_fn_exit(ctx);
        return -1;
    }
    if (tcp_after(ack, prior_snd_una)) {
        flag |= FLAG_SND_UNA_ADVANCED;
        tp->retransmits = 0;
    }
    /* tcp_ack_update_window */
    if (tcp_may_update_window(tp, ack, cb->seq, nwin)) {
        if (tp->snd_wnd != nwin)
            flag |= FLAG_WIN_UPDATE;
        tp->snd_wl1 = cb->seq;
        tp->snd_wnd = nwin;
        if (nwin > tp->max_window)
            tp->max_window = nwin;
    }
    tp->snd_una = ack;
    if (cb->seq != cb->end_seq)
        flag |= FLAG_DATA;
    tp->saw_tstamp = opt->saw_tstamp && tp->tstamp_ok;
    if (tp->saw_tstamp)
        tp->rcv_tsecr = opt->rcv_tsecr;
    if (opt->num_sacks && tp->sack_ok)
        newly_sacked = vns__tcp_sacktag_write_queue(ctx, sk, opt, prior_snd_una, &flag);
    if (!prior_packets) {
        /* nothing outstanding: a window update or a probe reply */
        if (tp->send_head)
            tp->backoff = 0;
        vns_fn_exit(ctx);
        return 1;
    }
    newly_acked = tcp_clean_rtx_queue(ctx, sk, prior_snd_una, &flag, &seq_rtt_us, opt);
    tp->bytes_acked += ack - prior_snd_una;
    tp->info.bytes_acked += ack - prior_snd_una;
    if (flag & FLAG_ACKED)
        tcp_ack_update_rtt(ctx, sk, seq_rtt_us, opt);
    if (tp->tlp_high_seq)
        vns__tcp_process_tlp_ack(sk, ack, flag);
    /* if needed, reset the TLP/RTO timer; RACK may override it below */
    if (flag & FLAG_SET_XMIT_TIMER) {
        /* tcp_set_xmit_timer */
        if (!vns__tcp_schedule_loss_probe(ctx, sk, true))
            vns__tcp_rearm_rto(ctx, sk);
    }
    if (!(flag & (FLAG_SND_UNA_ADVANCED | FLAG_NOT_DUP)))
        num_dupack = 1;
    /* tcp_ack_is_dubious */
    if (!(flag & FLAG_NOT_DUP) || (flag & FLAG_CA_ALERT) || tp->ca_state != VNS_TCP_CA_Open)
        rexmit = vns__tcp_fastretrans_alert(ctx, sk, prior_snd_una, num_dupack, flag);
    /* tcp_cong_control */
    {
        int acked_sacked = (int)(tp->delivered - prior_delivered);

        (void)newly_acked;
        (void)newly_sacked;
        if (tp->ca_state == VNS_TCP_CA_CWR || tp->ca_state == VNS_TCP_CA_Recovery) {
            vns__tcp_cwnd_reduction(sk, acked_sacked, flag);
        } else if (flag & FLAG_DATA_ACKED) {
            vns_fn_enter(ctx, VNS_FN_tcp_cong_avoid);
            vns_fn_enter(ctx, tp->ca_ops == &vns__tcp_cubic ? VNS_FN_cubictcp_cong_avoid
                                                            : VNS_FN_tcp_reno_cong_avoid);
            tp->ca_ops->cong_avoid(sk, ack, (uint32_t)acked_sacked);
            vns_fn_exit(ctx);
            vns_fn_exit(ctx);
        }
    }
    if (rexmit)
        vns__tcp_xmit_retransmit_queue(ctx, sk);
    tp->info.delivered = tp->delivered;
    vns_fn_exit(ctx);
    return 1;
}

/* --- receive queue ------------------------------------------------------------------- */

static void tcp_queue_rcv(struct vns_sock *sk, struct vns_skb *skb)
{
    struct vns_tcp *tp = sk->tp;

    TCP_SKB_CB(skb)->truesize = skb->truesize;
    sk->rmem_alloc += TCP_SKB_CB(skb)->truesize;
    vns_skb_queue_tail(&sk->receive_queue, skb);
    tp->rcv_nxt = TCP_SKB_CB(skb)->end_seq;
}

/* __tcp_grow_window / tcp_grow_window */
static void tcp_grow_window(struct vns_sock *sk, struct vns_skb *skb)
{
    struct vns_tcp *tp = sk->tp;
    int space = tcp_win_from_space((int)sk->rcvbuf - (int)sk->rmem_alloc);

    if (tp->rcv_ssthresh < tp->window_clamp && (int)tp->rcv_ssthresh < space) {
        unsigned incr = 0;
        int truesize = tcp_win_from_space((int)skb->truesize);

        if (truesize <= (int)skb->len) {
            incr = 2 * tp->advmss;
        } else {
            int window = tcp_win_from_space((int)sk->inet->cfg.tcp_rmem[2]) >> 1;

            truesize >>= 1;
            while ((int)tp->rcv_ssthresh <= window) {
                if (truesize <= (int)skb->len) {
                    incr = 2 * tp->rcv_mss;
                    break;
                }
                truesize >>= 1;
                window >>= 1;
            }
        }
        if (incr) {
            incr = VNS_MAX(incr, 2 * skb->len);
            tp->rcv_ssthresh = VNS_MIN(tp->rcv_ssthresh + incr, tp->window_clamp);
            tp->quick |= 1;
        }
    }
}

/* tcp_event_data_recv: delayed-ACK timing (ato) and window growth. */
static void tcp_event_data_recv(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb)
{
    struct vns_tcp *tp = sk->tp;
    vns_time_t now = inet_now(ctx, sk->inet);

    vns_fn_enter(ctx, VNS_FN_tcp_event_data_recv);
    tp->ack_pending |= ICSK_ACK_SCHED;
    /* tcp_measure_rcv_mss */
    {
        unsigned lss = tp->last_seg_size, len = skb->gso_size ? skb->gso_size : skb->len;
        unsigned hdr = tp->tstamp_ok ? 32u : 20u; /* tcp_header_len */

        tp->last_seg_size = 0;
        if (len >= tp->rcv_mss) {
            tp->rcv_mss = VNS_MIN(len, tp->advmss);
        } else {
            /* a short segment: if it is a consistent size, that is the MSS */
            bool psh = TCP_SKB_CB(skb)->tcp_flags & VNS_TCP_FLAG_PSH;

            if (len + hdr >= VNS_TCP_MSS_DEFAULT + 20u || (len + hdr >= 88u + 20u && !psh)) {
                tp->last_seg_size = len;
                if (len == lss) {
                    tp->rcv_mss = len;
                    goto measured;
                }
            }
            if (tp->ack_pending & ICSK_ACK_PUSHED)
                tp->ack_pending |= ICSK_ACK_PUSHED2;
            tp->ack_pending |= ICSK_ACK_PUSHED;
        }
    }
measured:
    if (!tp->ato) {
        vns__tcp_incr_quickack(sk, VNS_TCP_MAX_QUICKACKS);
        tp->ato = VNS_TCP_ATO_MIN;
    } else {
        vns_time_t m = now - tp->lrcvtime;

        if (m <= VNS_TCP_ATO_MIN / 2) {
            tp->ato = (tp->ato >> 1) + VNS_TCP_ATO_MIN / 2;
        } else if (m < tp->ato) {
            tp->ato = (tp->ato >> 1) + m;
            if (tp->ato > tp->rto)
                tp->ato = tp->rto;
        } else if (m > tp->rto) {
            vns__tcp_incr_quickack(sk, VNS_TCP_MAX_QUICKACKS);
        }
    }
    tp->lrcvtime = now;
    if (skb->len >= 128)
        tcp_grow_window(sk, skb);
    vns_fn_exit(ctx);
}

/* The SACK blocks we advertise: the out-of-order queue as ranges, the one
 * holding the newest segment first (tcp_sack_new_ofo_skb keeps the most
 * recent block first; the rest follow in sequence order here). */
static void tcp_sack_rebuild(struct vns_tcp *tp, uint32_t newest_seq)
{
    struct {
        uint32_t start, end;
    } blk[64];
    unsigned n = 0;

    tp->num_sacks = 0;
    if (!tp->sack_ok)
        return;
    for (struct vns_skb *s = tp->ofo_queue.head; s; s = s->next) {
        struct tcp_skb_cb *cb = TCP_SKB_CB(s);

        if (n && !tcp_before(blk[n - 1].end, cb->seq)) {
            if (tcp_after(cb->end_seq, blk[n - 1].end))
                blk[n - 1].end = cb->end_seq;
        } else if (n < VNS_ARRAY_SIZE(blk)) {
            blk[n].start = cb->seq;
            blk[n].end = cb->end_seq;
            n++;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (!tcp_before(newest_seq, blk[i].start) && tcp_before(newest_seq, blk[i].end)) {
            tp->selective_acks[0].start = blk[i].start;
            tp->selective_acks[0].end = blk[i].end;
            tp->num_sacks = 1;
            blk[i].start = blk[i].end; /* used */
            break;
        }
    }
    for (unsigned i = 0; i < n && tp->num_sacks < 4; i++) {
        if (blk[i].start == blk[i].end)
            continue;
        tp->selective_acks[tp->num_sacks].start = blk[i].start;
        tp->selective_acks[tp->num_sacks].end = blk[i].end;
        tp->num_sacks++;
    }
}

static void tcp_dsack_set(struct vns_sock *sk, uint32_t seq, uint32_t end_seq)
{
    struct vns_tcp *tp = sk->tp;

    if (tp->sack_ok) {
        tp->dsack.start = seq;
        tp->dsack.end = end_seq;
        tp->dsack_pending = true;
    }
}

static void tcp_fin(struct vns_ctx *ctx, struct vns_sock *sk);

/* tcp_ofo_queue: move what became in-order to the receive queue. */
static void tcp_ofo_queue(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_skb *skb;

    vns_fn_enter(ctx, VNS_FN_tcp_ofo_queue);
    while ((skb = tp->ofo_queue.head) != NULL) {
        struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
        bool fin;

        if (tcp_after(cb->seq, tp->rcv_nxt))
            break;
        vns_skb_dequeue(&tp->ofo_queue);
        sk->rmem_alloc -= VNS_MIN(sk->rmem_alloc, cb->truesize);
        if (!tcp_after(cb->end_seq, tp->rcv_nxt)) {
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_OFO_DROP); /* already received */
            continue;
        }
        if (tcp_before(cb->seq, tp->rcv_nxt)) {
            vns__tcp_trim_head(skb, tp->rcv_nxt - cb->seq);
            cb->seq = tp->rcv_nxt;
        }
        fin = cb->tcp_flags & VNS_TCP_FLAG_FIN;
        tcp_queue_rcv(sk, skb);
        if (fin) {
            tcp_fin(ctx, sk);
            break;
        }
    }
    vns_fn_exit(ctx);
}

/* tcp_data_queue_ofo: keep it sorted, drop what is covered. */
static void tcp_data_queue_ofo(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb)
{
    struct vns_tcp *tp = sk->tp;
    struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
    struct vns_skb *p, *prev = NULL;
    uint32_t seq = cb->seq, end_seq = cb->end_seq;

    vns_fn_enter(ctx, VNS_FN_tcp_data_queue_ofo);
    sk->inet->stats.tcp_ofo_queue++;
    tp->ack_pending |= ICSK_ACK_SCHED;
    if (sk->rmem_alloc + skb->truesize > sk->rcvbuf) {
        sk->inet->stats.tcp_ofo_drop++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_PROTO_MEM);
        vns_fn_exit(ctx);
        return;
    }
    for (p = tp->ofo_queue.head; p; prev = p, p = p->next) {
        struct tcp_skb_cb *pcb = TCP_SKB_CB(p);

        if (!tcp_before(seq, pcb->seq) && !tcp_after(end_seq, pcb->end_seq)) {
            /* all bits are present: D-SACK it */
            tcp_dsack_set(sk, seq, end_seq);
            sk->inet->stats.tcp_ofo_drop++;
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_OFOMERGE);
            tcp_sack_rebuild(tp, seq);
            vns_fn_exit(ctx);
            return;
        }
        if (tcp_after(pcb->seq, seq))
            break;
    }
    /* insert after prev */
    cb->truesize = skb->truesize;
    sk->rmem_alloc += cb->truesize;
    skb->prev = prev;
    skb->next = prev ? prev->next : tp->ofo_queue.head;
    if (skb->next)
        skb->next->prev = skb;
    else
        tp->ofo_queue.tail = skb;
    if (prev)
        prev->next = skb;
    else
        tp->ofo_queue.head = skb;
    tp->ofo_queue.qlen++;
    /* remove later skbs fully covered by this one */
    while ((p = skb->next) != NULL && !tcp_after(TCP_SKB_CB(p)->end_seq, end_seq)) {
        skb->next = p->next;
        if (p->next)
            p->next->prev = skb;
        else
            tp->ofo_queue.tail = skb;
        tp->ofo_queue.qlen--;
        p->next = p->prev = NULL;
        sk->rmem_alloc -= VNS_MIN(sk->rmem_alloc, TCP_SKB_CB(p)->truesize);
        tcp_dsack_set(sk, TCP_SKB_CB(p)->seq, TCP_SKB_CB(p)->end_seq);
        vns_kfree_skb_reason(p, VNS_SKB_DROP_REASON_TCP_OFOMERGE);
    }
    tcp_sack_rebuild(tp, seq);
    vns_fn_exit(ctx);
}

/* tcp_data_queue (5.4). Consumes @skb (data at the payload). */
static void tcp_data_queue(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb)
{
    struct vns_tcp *tp = sk->tp;
    struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
    enum vns_skb_drop_reason reason = VNS_SKB_DROP_REASON_TCP_OLD_DATA;

    vns_fn_enter(ctx, VNS_FN_tcp_data_queue);
    if (cb->seq == cb->end_seq) {
        vns_consume_skb(skb);
        vns_fn_exit(ctx);
        return;
    }
    tp->info.data_segs_in++;
    {
        /* a large skb without GSO metadata (virtio-net's big packets), or
         * with a gso_size above the MSS (GRO over skbs that were GSO
         * already), in segments of the connection's MSS */
        uint32_t mss = VNS_MAX(tp->mss_cache, 1u);
        uint32_t unit = skb->gso_size && skb->gso_size <= mss ? skb->gso_size : mss;

        tp->info.data_segs_in_units += VNS_MAX((cb->end_seq - cb->seq + unit - 1u) / unit, 1u);
    }
    if (cb->seq == tp->rcv_nxt) {
        bool fin;

        if (tcp_receive_window(tp) == 0) {
            sk->inet->stats.tcp_rcv_pruned++;
            reason = VNS_SKB_DROP_REASON_TCP_ZEROWINDOW;
            goto out_of_window;
        }
    queue_and_out:
        /* set here: the partial-overlap path jumps to this label */
        fin = cb->tcp_flags & VNS_TCP_FLAG_FIN;
        if (sk->rmem_alloc + skb->truesize > sk->rcvbuf + (sk->rcvbuf >> 1)) {
            /* tcp_try_rmem_schedule + tcp_prune_queue failing */
            sk->inet->stats.tcp_rcv_pruned++;
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_PROTO_MEM);
            vns_fn_exit(ctx);
            return;
        }
        tp->info.bytes_received += skb->len;
        if (skb->len)
            tcp_event_data_recv(ctx, sk, skb);
        tcp_queue_rcv(sk, skb);
        if (fin)
            tcp_fin(ctx, sk);
        if (tp->ofo_queue.qlen) {
            tcp_ofo_queue(ctx, sk);
            /* RFC 5681 4.2: ACK at once when a gap is filled */
            if (!tp->ofo_queue.qlen)
                tp->ack_pending |= ICSK_ACK_NOW | ICSK_ACK_SCHED;
            tcp_sack_rebuild(tp, tp->rcv_nxt);
        }
        if (tp->num_sacks && !tp->ofo_queue.qlen)
            tp->num_sacks = 0;
        vns__sk_wake(ctx, sk);
        vns_fn_exit(ctx);
        return;
    }
    if (!tcp_after(cb->end_seq, tp->rcv_nxt)) {
        /* a retransmission of what we have: D-SACK and ACK at once */
        sk->inet->stats.tcp_dup_data_rcvd++;
        tcp_dsack_set(sk, cb->seq, cb->end_seq);
    out_of_window:
        tcp_enter_quickack_mode(sk, VNS_TCP_MAX_QUICKACKS);
        tp->ack_pending |= ICSK_ACK_SCHED;
        vns_kfree_skb_reason(skb, reason);
        vns_fn_exit(ctx);
        return;
    }
    /* out of window (e.g. a zero window probe) */
    if (!tcp_before(cb->seq, tp->rcv_nxt + tcp_receive_window(tp))) {
        reason = VNS_SKB_DROP_REASON_TCP_OVERWINDOW;
        goto out_of_window;
    }
    if (tcp_before(cb->seq, tp->rcv_nxt)) {
        /* partial: seq < rcv_nxt < end_seq */
        tcp_dsack_set(sk, cb->seq, tp->rcv_nxt);
        if (!tcp_receive_window(tp)) {
            reason = VNS_SKB_DROP_REASON_TCP_ZEROWINDOW;
            goto out_of_window;
        }
        vns__tcp_trim_head(skb, tp->rcv_nxt - cb->seq);
        cb->seq = tp->rcv_nxt;
        goto queue_and_out;
    }
    tcp_data_queue_ofo(ctx, sk, skb);
    vns_fn_exit(ctx);
}

/* __tcp_ack_snd_check (5.4), with SACK compression: out-of-order data
 * is ACKed at once for the first 3 (dupthresh) ACKs of a hole, then at
 * most every min(5% of the RTT, tcp_comp_sack_delay_ns 1 ms) or every
 * tcp_comp_sack_nr (44) ACKs. */
static void tcp_ack_snd_check(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    vns_time_t delay;

    if (!(tp->ack_pending & ICSK_ACK_SCHED))
        return;
    vns_fn_enter(ctx, VNS_FN___tcp_ack_snd_check);
    /* more than one full frame received and the window's right edge moves
     * (or nothing is left unread: SO_RCVLOWAT 1), quick-ack mode, or ACK_NOW */
    if (((tp->rcv_nxt - tp->rcv_wup) > tp->rcv_mss &&
         (tp->rcv_nxt - tp->copied_seq < 1 || vns__tcp_select_window_raw(sk) >= tp->rcv_wnd)) ||
        tcp_in_quickack_mode(tp) || (tp->ack_pending & ICSK_ACK_NOW))
        goto send_now;
    if (!tp->ofo_queue.qlen) {
        vns__tcp_send_delayed_ack(ctx, sk);
        goto out;
    }
    if (!tp->sack_ok || tp->compressed_ack >= 44) /* tcp_comp_sack_nr */
        goto send_now;
    if (tp->compressed_ack_rcv_nxt != tp->rcv_nxt) {
        tp->compressed_ack_rcv_nxt = tp->rcv_nxt;
        if (tp->compressed_ack > VNS_TCP_FASTRETRANS_THRESH)
            sk->inet->stats.tcp_ack_compressed += tp->compressed_ack - VNS_TCP_FASTRETRANS_THRESH;
        tp->compressed_ack = 0;
    }
    if (++tp->compressed_ack <= VNS_TCP_FASTRETRANS_THRESH)
        goto send_now;
    if (vns_timer_pending(&tp->compressed_ack_timer))
        goto out;
    /* 5% of the RTT (rcv_rtt_est is not modelled: srtt), at most 1 ms */
    delay = VNS_MIN((vns_time_t)VNS_MSEC(1), (vns_time_t)tp->srtt_us * 125u / 20u);
    vns_timer_arm(sk->inet->sim, &tp->compressed_ack_timer, inet_now(ctx, sk->inet) + delay);
    goto out;
send_now:
    if (tcp_in_quickack_mode(tp)) {
        sk->inet->stats.tcp_quick_acks++;
        tp->info.quick_acks_sent++;
    }
    vns__tcp_send_ack(ctx, sk);
out:
    vns_fn_exit(ctx);
}

/* tcp_fin: the peer is done sending. */
static void tcp_fin(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    vns_fn_enter(ctx, VNS_FN_tcp_fin);
    tp->ack_pending |= ICSK_ACK_SCHED;
    sk->shutdown |= RCV_SHUTDOWN;
    switch (tp->state) {
    case VNS_TCP_SYN_RECV:
    case VNS_TCP_ESTABLISHED:
        vns__tcp_set_state(ctx, sk, VNS_TCP_CLOSE_WAIT);
        tp->pingpong = true;
        break;
    case VNS_TCP_FIN_WAIT1:
        /* simultaneous close */
        vns__tcp_send_ack(ctx, sk);
        vns__tcp_set_state(ctx, sk, VNS_TCP_CLOSING);
        break;
    case VNS_TCP_FIN_WAIT2:
        vns__tcp_send_ack(ctx, sk);
        vns__tcp_time_wait(ctx, sk, VNS_TCP_TIMEWAIT_LEN);
        break;
    default:
        break;
    }
    /* the out-of-order queue is useless past the FIN (skb_rbtree_purge) */
    vns_skb_queue_purge_reason(&tp->ofo_queue, VNS_SKB_DROP_REASON_QUEUE_PURGE);
    tp->num_sacks = 0;
    vns__sk_wake(ctx, sk);
    vns_fn_exit(ctx);
}

/* tcp_reset: a RST arrived. */
static void tcp_reset(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    switch (tp->state) {
    case VNS_TCP_SYN_SENT:
        sk->sk_err = VNS_SOCK_ECONNREFUSED;
        break;
    case VNS_TCP_CLOSE_WAIT:
        sk->sk_err = VNS_EPIPE;
        break;
    case VNS_TCP_CLOSE:
        return;
    default:
        sk->sk_err = VNS_SOCK_ECONNRESET;
        sk->inet->stats.tcp_estab_resets++;
        break;
    }
    vns__tcp_done(ctx, sk);
}

/* tcp_sequence: the segment overlaps the receive window. */
static bool tcp_sequence(const struct vns_tcp *tp, uint32_t seq, uint32_t end_seq)
{
    return !tcp_before(end_seq, tp->rcv_wup) &&
           !tcp_after(seq, tp->rcv_nxt + tcp_receive_window(tp));
}

/* Why tcp_sequence() refused a segment: 6.x's tcp_sequence returns
 * TCP_OLD_SEQUENCE before rcv_wup, else TCP_INVALID_SEQUENCE
 * (net/ipv4/tcp_input.c). */
static enum vns_skb_drop_reason tcp_sequence_reason(const struct vns_tcp *tp, uint32_t end_seq)
{
    return tcp_before(end_seq, tp->rcv_wup) ? VNS_SKB_DROP_REASON_TCP_OLD_SEQUENCE
                                            : VNS_SKB_DROP_REASON_TCP_INVALID_SEQUENCE;
}

/* tcp_rcv_established (slow path). Consumes @skb. */
static void tcp_rcv_established(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb,
                                const struct tcp_rx_opts *opt)
{
    struct vns_tcp *tp = sk->tp;
    struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

    vns_fn_enter(ctx, VNS_FN_tcp_rcv_established);
    /* tcp_validate_incoming */
    if (!tcp_sequence(tp, cb->seq, cb->end_seq)) {
        if (!(cb->tcp_flags & VNS_TCP_FLAG_RST)) {
            tcp_dsack_set(sk, cb->seq, cb->end_seq);
            vns__tcp_send_ack(ctx, sk); /* tcp_send_dupack */
        }
        vns_kfree_skb_reason(skb, tcp_sequence_reason(tp, cb->end_seq));
        vns_fn_exit(ctx);
        return;
    }
    if (cb->tcp_flags & VNS_TCP_FLAG_RST) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_RESET);
        tcp_reset(ctx, sk);
        vns_fn_exit(ctx);
        return;
    }
    if (cb->tcp_flags & VNS_TCP_FLAG_SYN) {
        /* challenge ACK (RFC 5961) */
        vns__tcp_send_ack(ctx, sk);
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_INVALID_SYN);
        vns_fn_exit(ctx);
        return;
    }
    if (!(cb->tcp_flags & VNS_TCP_FLAG_ACK)) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_FLAGS);
        vns_fn_exit(ctx);
        return;
    }
    if (tcp_ack(ctx, sk, skb, opt, FLAG_SLOWPATH) < 0) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_ACK_UNSENT_DATA);
        vns_fn_exit(ctx);
        return;
    }
    /* tcp_store_ts_recent */
    if (opt->saw_tstamp && tp->tstamp_ok && !tcp_after(cb->seq, tp->rcv_wup))
        tp->ts_recent = opt->rcv_tsval;
    tcp_data_queue(ctx, sk, skb);
    /* tcp_data_snd_check */
    if (tp->send_head)
        vns__tcp_push_pending_frames(ctx, sk, vns__tcp_current_mss(sk), tp->nonagle);
    vns__tcp_new_space(ctx, sk);
    tcp_ack_snd_check(ctx, sk);
    vns_fn_exit(ctx);
}

/* Options of the SYN exchange: MSS, window scale, SACK, timestamps. */
static void tcp_syn_options_apply(struct vns_sock *sk, const struct tcp_rx_opts *opt)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_inet *inet = sk->inet;

    tp->mss_clamp = opt->mss ? VNS_MIN((unsigned)opt->mss, tp->mss_clamp) : VNS_TCP_MSS_DEFAULT;
    if (tp->user_mss)
        tp->mss_clamp = VNS_MIN(tp->mss_clamp, tp->user_mss);
    tp->wscale_ok = opt->wscale_ok && inet->cfg.tcp_window_scaling >= 0;
    if (tp->wscale_ok) {
        tp->snd_wscale = opt->snd_wscale;
    } else {
        tp->snd_wscale = 0;
        tp->rcv_wscale = 0;
    }
    tp->sack_ok = opt->sack_ok && inet->cfg.tcp_sack >= 0;
    tp->tstamp_ok = opt->saw_tstamp && inet->cfg.tcp_timestamps >= 0;
    if (tp->tstamp_ok)
        tp->ts_recent = opt->rcv_tsval;
    tp->rack.reord = false;
}

/* The connection is established (tcp_finish_connect / the SYN_RECV ACK). */
static void tcp_established(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_rtable rt;

    vns__tcp_set_state(ctx, sk, VNS_TCP_ESTABLISHED);
    if (vns_ip_route_output(sk->inet, sk->daddr, &rt) == 0)
        vns__tcp_sync_mss(sk, rt.mtu);
    vns__tcp_init_buffer_space(sk);
    tp->snd_cwnd = VNS_MIN(sk->inet->cfg.tcp_init_cwnd, tp->snd_cwnd_clamp);
    tp->retransmits = 0;
    tp->backoff = 0;
    tp->lsndtime = inet_now(ctx, sk->inet);
    sk->tx_flow = vns_inet_flow_id(sk->saddr, sk->sport, sk->daddr, sk->dport, VNS_IPPROTO_TCP);
    sk->rx_flow = vns_inet_flow_id(sk->daddr, sk->dport, sk->saddr, sk->sport, VNS_IPPROTO_TCP);
    if (tp->ca_ops->init)
        tp->ca_ops->init(sk);
}

/* The handshake completed: stop the SYN timer, take the SYN's RTT sample
 * (none after a retransmitted SYN: tcp_init_transfer then falls back to
 * TCP_TIMEOUT_INIT), go ESTABLISHED. */
static void tcp_handshake_done(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    vns_del_timer(&tp->retransmit_timer);
    tp->pending = 0;
    if (!tp->retransmits) {
        vns_time_t rtt = inet_now(ctx, sk->inet) - tp->lsndtime;

        tcp_rtt_estimator(tp, (long)VNS_MAX(rtt / 1000u, (vns_time_t)1));
        tp->rto = (vns_time_t)((tp->srtt_us >> 3) + tp->rttvar_us) * 1000u;
    } else {
        tp->rto = VNS_TCP_TIMEOUT_INIT;
    }
    tcp_established(ctx, sk);
    tp->info.srtt = (vns_time_t)(tp->srtt_us >> 3) * 1000u;
}

/* tcp_rcv_synsent_state_process */
static void tcp_rcv_synsent(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb,
                            const struct tcp_rx_opts *opt)
{
    struct vns_tcp *tp = sk->tp;
    struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
    const uint8_t *th = vns_skb_transport_header(skb);
    uint32_t ack = vns_get_be32(th + 8);

    if (cb->tcp_flags & VNS_TCP_FLAG_ACK) {
        if (ack != tp->snd_nxt) {
            vns__tcp_v4_send_reset(ctx, sk->inet, skb);
            vns_kfree_skb_reason(
                skb, VNS_SKB_DROP_REASON_NOT_SPECIFIED); /* 6.x: reset via tcp_v4_do_rcv, unnamed */
            return;
        }
        if (cb->tcp_flags & VNS_TCP_FLAG_RST) {
            vns_consume_skb(skb); /* 6.x: tcp_reset, then __kfree_skb */
            sk->inet->stats.tcp_attempt_fails++;
            tcp_reset(ctx, sk);
            return;
        }
        if (!(cb->tcp_flags & VNS_TCP_FLAG_SYN)) {
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_FLAGS);
            return;
        }
        tcp_syn_options_apply(sk, opt);
        tp->irs = cb->seq;
        tp->rcv_nxt = cb->seq + 1;
        tp->rcv_wup = tp->rcv_nxt;
        tp->copied_seq = tp->rcv_nxt;
        tp->snd_una = ack;
        tp->snd_wl1 = cb->seq;
        tp->snd_wnd = vns_get_be16(th + 14); /* not scaled in a SYN */
        tp->max_window = tp->snd_wnd;
        tcp_handshake_done(ctx, sk);
        vns_consume_skb(skb);
        vns__tcp_send_ack(ctx, sk);
        vns__sk_wake(ctx, sk);
        return;
    }
    /* a SYN without ACK: simultaneous open is not modelled */
    vns_kfree_skb_reason(skb,
                         VNS_SKB_DROP_REASON_NOT_SPECIFIED); /* simultaneous open, not modelled */
}

/* tcp_v4_conn_request: a SYN on a listener. The child is created at once
 * (no request sock) in SYN_RECV and answers with a SYN-ACK. */
static void tcp_v4_conn_request(struct vns_ctx *ctx, struct vns_sock *lsk, struct vns_skb *skb,
                                const struct tcp_rx_opts *opt)
{
    struct vns_inet *inet = lsk->inet;
    struct vns_tcp *ltp = lsk->tp;
    struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
    const uint8_t *iph = vns_skb_network_header(skb);
    const uint8_t *th = vns_skb_transport_header(skb);
    struct vns_sock *sk;
    struct vns_tcp *tp;
    unsigned pending = 0;

    vns_fn_enter(ctx, VNS_FN_tcp_v4_conn_request);
    for (struct vns_sock *s = inet->socks; s; s = s->next)
        if (s->tp && s->tp->parent == lsk)
            pending++;
    if (pending >= ltp->max_ack_backlog) {
        vns_consume_skb(skb); /* accept queue full: tcp_listendrop, then consume_skb */
        vns_fn_exit(ctx);
        return;
    }
    sk = vns__sock_alloc(inet, VNS_SOCK_STREAM, lsk->cpu);
    if (!sk) {
        vns_consume_skb(skb); /* as tcp_conn_request's drop: label */
        vns_fn_exit(ctx);
        return;
    }
    tp = sk->tp;
    sk->saddr = vns_get_be32(iph + 16);
    sk->daddr = vns_get_be32(iph + 12);
    sk->sport = vns_get_be16(th + 2);
    sk->dport = vns_get_be16(th);
    sk->bound = true;
    sk->sndbuf = lsk->sndbuf;
    sk->rcvbuf = lsk->rcvbuf;
    sk->userlocks_rcv = lsk->userlocks_rcv;
    sk->userlocks_snd = lsk->userlocks_snd;
    tp->ca_ops = ltp->ca_ops;
    tp->nonagle = ltp->nonagle;
    tp->parent = lsk;
    inet->stats.tcp_passive_opens++;
    {
        struct vns_rtable rt;
        unsigned mtu = vns_ip_route_output(inet, sk->daddr, &rt) == 0 ? rt.mtu : 1500;

        vns__tcp_connect_init(sk, mtu);
        tcp_syn_options_apply(sk, opt);
        vns__tcp_sync_mss(sk, mtu);
    }
    tp->irs = cb->seq;
    tp->rcv_nxt = cb->seq + 1;
    tp->rcv_wup = tp->rcv_nxt;
    tp->copied_seq = tp->rcv_nxt;
    tp->snd_wnd = vns_get_be16(th + 14);
    tp->max_window = tp->snd_wnd;
    tp->snd_wl1 = cb->seq;
    tp->iss = (uint32_t)vns_rng_u64(&inet->rng);
    sk->inet_id = (uint16_t)vns_rng_u64(&inet->rng); /* tcp_v4_syn_recv_sock: prandom_u32() */
    tp->snd_una = tp->iss;
    tp->snd_nxt = tp->iss + 1;
    tp->write_seq = tp->iss + 1;
    tp->pushed_seq = tp->write_seq;
    tp->snd_sml = tp->iss + 1;
    tp->high_seq = tp->iss + 1;
    tp->rack.end_seq = tp->iss;
    vns__tcp_set_state(ctx, sk, VNS_TCP_SYN_RECV);
    tp->lsndtime = inet_now(ctx, inet);
    vns__tcp_send_syn(ctx, sk, true);
    vns__tcp_reset_xmit_timer(ctx, sk, ICSK_TIME_RETRANS,
                              inet_now(ctx, inet) + VNS_TCP_TIMEOUT_INIT);
    vns_consume_skb(skb);
    vns_fn_exit(ctx);
}

/* tcp_rcv_state_process: every state but ESTABLISHED. Consumes @skb. */
static void tcp_rcv_state_process(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb,
                                  const struct tcp_rx_opts *opt)
{
    struct vns_tcp *tp = sk->tp;
    struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
    int state = tp->state;

    vns_fn_enter(ctx, VNS_FN_tcp_rcv_state_process);
    switch (state) {
    case VNS_TCP_CLOSE:
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_CLOSE);
        goto out;
    case VNS_TCP_LISTEN:
        if (cb->tcp_flags & VNS_TCP_FLAG_ACK) {
            vns__tcp_v4_send_reset(ctx, sk->inet, skb);
            vns_kfree_skb_reason(
                skb, VNS_SKB_DROP_REASON_NOT_SPECIFIED); /* 6.x: LISTEN + ACK returns 1, reset */
        } else if ((cb->tcp_flags & VNS_TCP_FLAG_SYN) && !(cb->tcp_flags & VNS_TCP_FLAG_RST)) {
            tcp_v4_conn_request(ctx, sk, skb, opt);
        } else {
            vns_kfree_skb_reason(skb, (cb->tcp_flags & VNS_TCP_FLAG_RST)
                                          ? VNS_SKB_DROP_REASON_TCP_RESET
                                          : VNS_SKB_DROP_REASON_TCP_FLAGS);
        }
        goto out;
    case VNS_TCP_SYN_SENT:
        tcp_rcv_synsent(ctx, sk, skb, opt);
        goto out;
    default:
        break;
    }
    if (!tcp_sequence(tp, cb->seq, cb->end_seq) && state != VNS_TCP_SYN_RECV) {
        if (!(cb->tcp_flags & VNS_TCP_FLAG_RST))
            vns__tcp_send_ack(ctx, sk);
        vns_kfree_skb_reason(skb, tcp_sequence_reason(tp, cb->end_seq));
        goto out;
    }
    if (cb->tcp_flags & VNS_TCP_FLAG_RST) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_RESET);
        tcp_reset(ctx, sk);
        goto out;
    }
    if (state == VNS_TCP_SYN_RECV && (cb->tcp_flags & VNS_TCP_FLAG_SYN) && cb->seq == tp->irs) {
        /* the SYN again: our SYN-ACK was lost */
        vns__tcp_send_syn(ctx, sk, true);
        vns_kfree_skb_reason(skb,
                             VNS_SKB_DROP_REASON_NOT_SPECIFIED); /* tcp_check_req returns NULL */
        goto out;
    }
    if (!(cb->tcp_flags & VNS_TCP_FLAG_ACK)) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_FLAGS);
        goto out;
    }
    if (state == VNS_TCP_SYN_RECV) {
        /* tcp_check_req: the third packet of the handshake */
        const uint8_t *th = vns_skb_transport_header(skb);
        struct vns_sock *lsk = tp->parent;

        vns_fn_enter(ctx, VNS_FN_tcp_check_req);
        if (vns_get_be32(th + 8) != tp->iss + 1) {
            vns__tcp_v4_send_reset(ctx, sk->inet, skb);
            vns_kfree_skb_reason(
                skb, VNS_SKB_DROP_REASON_NOT_SPECIFIED); /* tcp_check_req, then LISTEN + ACK */
            vns_fn_exit(ctx);
            goto out;
        }
        tp->snd_una = tp->iss + 1;
        tp->snd_wnd = (uint32_t)vns_get_be16(th + 14) << tp->snd_wscale;
        tp->max_window = tp->snd_wnd;
        tp->snd_wl1 = cb->seq;
        tcp_handshake_done(ctx, sk);
        if (lsk && !lsk->freed) {
            /* inet_csk_reqsk_queue_add + sk_data_ready on the listener */
            tp->accept_next = NULL;
            if (lsk->tp->accept_tail)
                lsk->tp->accept_tail->tp->accept_next = sk;
            else
                lsk->tp->accept_head = sk;
            lsk->tp->accept_tail = sk;
            lsk->tp->accept_qlen++;
            vns__sk_wake(ctx, lsk);
        }
        vns_fn_exit(ctx);
        /* data in the ACK goes on as in ESTABLISHED */
        tcp_rcv_established(ctx, sk, skb, opt);
        goto out;
    }
    /* FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK, CLOSE_WAIT, TIME_WAIT */
    if (tcp_ack(ctx, sk, skb, opt, FLAG_SLOWPATH) < 0) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_ACK_UNSENT_DATA);
        goto out;
    }
    switch (state) {
    case VNS_TCP_FIN_WAIT1:
        if (tp->snd_una == tp->write_seq) {
            vns__tcp_set_state(ctx, sk, VNS_TCP_FIN_WAIT2);
            sk->shutdown |= SEND_SHUTDOWN;
            if (sk->user_closed)
                vns_mod_timer(&tp->keepalive_timer,
                              inet_now(ctx, sk->inet) + VNS_SEC(60)); /* tcp_fin_timeout */
        }
        break;
    case VNS_TCP_CLOSING:
        if (tp->snd_una == tp->write_seq) {
            vns__tcp_time_wait(ctx, sk, VNS_TCP_TIMEWAIT_LEN);
            vns_consume_skb(skb);
            goto out;
        }
        break;
    case VNS_TCP_LAST_ACK:
        if (tp->snd_una == tp->write_seq) {
            vns_consume_skb(skb);
            vns__tcp_done(ctx, sk);
            goto out;
        }
        break;
    case VNS_TCP_TIME_WAIT:
        /* a retransmitted FIN: ACK it again and restart the timer */
        if (cb->tcp_flags & VNS_TCP_FLAG_FIN) {
            vns__tcp_send_ack(ctx, sk);
            vns_mod_timer(&tp->keepalive_timer, inet_now(ctx, sk->inet) + VNS_TCP_TIMEWAIT_LEN);
        }
        vns_kfree_skb_reason(
            skb, VNS_SKB_DROP_REASON_NOT_SPECIFIED); /* tcp_v4_rcv discard_it after TCP_TW_* */
        goto out;
    default:
        break;
    }
    /* data and FIN (not after our receive side is shut by their FIN) */
    if (state == VNS_TCP_CLOSE_WAIT || state == VNS_TCP_CLOSING || state == VNS_TCP_LAST_ACK) {
        if (cb->end_seq != cb->seq && !tcp_after(cb->end_seq, tp->rcv_nxt)) {
            tcp_dsack_set(sk, cb->seq, cb->end_seq);
            vns__tcp_send_ack(ctx, sk);
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_TCP_OLD_DATA); /* as tcp_data_queue */
        } else if (cb->end_seq == cb->seq) {
            /* a processed ACK. LINUX: 6.x reaches tcp_drop_reason with
             * NOT_SPECIFIED here; it was delivered, so the model consumes it */
            vns_consume_skb(skb);
        } else {
            /* data after their FIN: 6.x discards it (NOT_SPECIFIED) */
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOT_SPECIFIED);
        }
    } else {
        tcp_data_queue(ctx, sk, skb);
    }
    if (tp->state != VNS_TCP_CLOSE) {
        if (tp->send_head)
            vns__tcp_push_pending_frames(ctx, sk, vns__tcp_current_mss(sk), tp->nonagle);
        tcp_ack_snd_check(ctx, sk);
    }
out:
    vns_fn_exit(ctx);
}

/* tcp_v4_do_rcv: @skb's data at the payload, header parsed into its cb. */
int vns__tcp_v4_do_rcv(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb)
{
    struct tcp_rx_opts opt;

    vns_fn_enter(ctx, VNS_FN_tcp_v4_do_rcv);
    vns__tcp_parse_options(skb, &opt);
    sk->tp->info.segs_in++;
    if (sk->tp->state == VNS_TCP_ESTABLISHED)
        tcp_rcv_established(ctx, sk, skb, &opt);
    else
        tcp_rcv_state_process(ctx, sk, skb, &opt);
    vns_fn_exit(ctx);
    return VNS_NET_RX_SUCCESS;
}

void vns__tcp_backlog_rcv(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb)
{
    vns__tcp_v4_do_rcv(ctx, sk, skb);
}

/* tcp_v4_rcv: validate, look up the socket, process or backlog. Consumes
 * @skb (data at the TCP header). */
int vns__tcp_v4_rcv(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb)
{
    const uint8_t *iph = vns_skb_network_header(skb);
    const uint8_t *th;
    unsigned doff;
    struct tcp_skb_cb *cb;
    struct vns_sock *sk;
    uint32_t saddr = vns_get_be32(iph + 12), daddr = vns_get_be32(iph + 16);
    /* 6.x's drop_reason: NOT_SPECIFIED for a non-PACKET_HOST frame */
    enum vns_skb_drop_reason reason = VNS_SKB_DROP_REASON_NOT_SPECIFIED;

    vns_fn_enter(ctx, VNS_FN_tcp_v4_rcv);
    if (skb->pkt_type != VNS_PACKET_HOST)
        goto discard;
    inet->stats.tcp_in_segs++;
    reason = VNS_SKB_DROP_REASON_PKT_TOO_SMALL;
    if (!vns_pskb_may_pull(skb, 20))
        goto bad_packet;
    th = skb->data;
    doff = (th[12] >> 4) * 4u;
    if (doff < 20 || !vns_pskb_may_pull(skb, doff) || doff > skb->len)
        goto bad_packet;
    /* tcp_v4_checksum_init / tcp_checksum_complete */
    if (skb->ip_summed != VNS_CHECKSUM_UNNECESSARY && skb->ip_summed != VNS_CHECKSUM_PARTIAL) {
        if (vns_csum_fold(vns_skb_checksum(
                skb, 0, skb->len,
                vns_csum_tcpudp_nofold(iph + 12, iph + 16, skb->len, VNS_IPPROTO_TCP, 0))) != 0) {
            inet->stats.tcp_in_csum_errors++;
            reason = VNS_SKB_DROP_REASON_TCP_CSUM;
            goto bad_packet;
        }
    }
    skb->transport_header = (uint16_t)(skb->data - skb->head);
    cb = TCP_SKB_CB(skb);
    memset(cb, 0, sizeof(*cb));
    cb->seq = vns_get_be32(th + 4);
    cb->tcp_flags = th[13];
    cb->end_seq = cb->seq + ((th[13] & VNS_TCP_FLAG_SYN) ? 1u : 0u) +
                  ((th[13] & VNS_TCP_FLAG_FIN) ? 1u : 0u) + (skb->len - doff);
    vns_skb_pull(skb, doff);
    sk =
        vns__sk_lookup(inet, VNS_IPPROTO_TCP, saddr, vns_get_be16(th), daddr, vns_get_be16(th + 2));
    if (!sk) {
        inet->stats.tcp_no_socket++;
        vns__tcp_v4_send_reset(ctx, inet, skb);
        reason = VNS_SKB_DROP_REASON_NO_SOCKET;
        goto discard;
    }
    if (sk->owned_by_user && sk->tp->state != VNS_TCP_LISTEN) {
        /* tcp_add_backlog: limit sk_rcvbuf + sk_sndbuf */
        uint32_t ts = skb->truesize;

        if (sk->backlog_len + ts > sk->rcvbuf + sk->sndbuf) {
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_SOCKET_BACKLOG);
            vns_fn_exit(ctx);
            return VNS_NET_RX_DROP;
        }
        sk->backlog_len += ts;
        inet->stats.tcp_backlog_queued++;
        if (skb->fbook)
            vns__flow_end(skb, VNS_FLOW_DELIVERED, -1);
        vns_skb_queue_tail(&sk->backlog, skb);
        vns_fn_exit(ctx);
        return VNS_NET_RX_SUCCESS;
    }
    if (skb->fbook)
        vns__flow_end(skb, VNS_FLOW_DELIVERED, -1);
    vns__tcp_v4_do_rcv(ctx, sk, skb);
    vns_fn_exit(ctx);
    return VNS_NET_RX_SUCCESS;

bad_packet:
    inet->stats.tcp_in_errs++;
discard:
    vns_kfree_skb_reason(skb, reason);
    vns_fn_exit(ctx);
    return VNS_NET_RX_DROP;
}
