/* lib/net/tcp_recovery.c -- TCP loss detection and recovery. LINUX:
 * net/ipv4/tcp_recovery.c (5.4: RACK, tcp_rack_mark_lost,
 * tcp_rack_reo_timeout, tcp_rack_advance) and the recovery half of
 * net/ipv4/tcp_input.c (5.4): tcp_sacktag_write_queue, tcp_newreno_mark_lost,
 * tcp_identify_packet_loss, PRR (tcp_init_cwnd_reduction,
 * tcp_cwnd_reduction, tcp_end_cwnd_reduction), undo (tcp_init_undo,
 * tcp_packet_delayed, tcp_may_undo, tcp_undo_cwnd_reduction,
 * tcp_try_undo_*), tcp_enter_recovery, tcp_enter_loss,
 * tcp_fastretrans_alert and the TLP ACK check (tcp_process_tlp_ack).
 * tcp_ack (tcp_input.c) calls in here.
 *
 * Loss detection follows 5.4's default (net.ipv4.tcp_recovery = 1, RACK):
 * a segment is lost when a segment sent after it was delivered and it was
 * sent more than the reordering window before (reo_wnd = min_rtt/4, 0 once
 * dupthresh SACKed segments are seen or in Recovery); the reordering timer
 * (tcp_rack_reo_timeout) fires for segments not yet past it. Without SACK,
 * NewReno marks the head lost (tcp_newreno_mark_lost). Undo of spurious
 * reductions: D-SACK and timestamps (tcp_try_undo_recovery, and the
 * tcp_try_undo_dsack / tcp_try_undo_loss checks inside tcp_fastretrans_alert);
 * no partial undo, no F-RTO. */
#include <string.h>

#include "inet_int.h"

/* --- RACK (tcp_recovery.c) ------------------------------------------------------ */

static bool tcp_rack_sent_after(vns_time_t t1, vns_time_t t2, uint32_t seq1, uint32_t seq2)
{
    return t1 > t2 || (t1 == t2 && tcp_after(seq1, seq2));
}

/* tcp_rack_advance: @skb (sent at @xmit_time) was delivered. */
void vns__tcp_rack_advance(struct vns_tcp *tp, uint8_t sacked, uint32_t end_seq,
                           vns_time_t xmit_time, vns_time_t now)
{
    vns_time_t rtt = now - xmit_time;

    /* a retransmitted segment acked too fast may be the original's ACK */
    if ((sacked & TCPCB_SACKED_RETRANS) && tp->min_rtt && rtt < tp->min_rtt)
        return;
    if (!tp->min_rtt || rtt < tp->min_rtt)
        tp->min_rtt = rtt ? rtt : 1;
    tp->rack.rtt = rtt;
    if (tcp_rack_sent_after(xmit_time, tp->rack.mstamp, end_seq, tp->rack.end_seq)) {
        tp->rack.mstamp = xmit_time;
        tp->rack.end_seq = end_seq;
    }
}

static vns_time_t tcp_rack_reo_wnd(const struct vns_tcp *tp)
{
    if (!tp->rack.reord) {
        if (tp->ca_state >= VNS_TCP_CA_Recovery)
            return 0;
        if (tp->sacked_out >= tp->reordering)
            return 0;
    }
    return VNS_MIN(tp->min_rtt / 4, (vns_time_t)(tp->srtt_us >> 3) * 1000u);
}

void vns__tcp_mark_skb_lost(struct vns_tcp *tp, struct vns_skb *skb)
{
    struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

    if (cb->sacked & TCPCB_SACKED_ACKED)
        return;
    if (cb->sacked & TCPCB_SACKED_RETRANS) {
        /* the retransmission is lost too */
        cb->sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
        tp->retrans_out -= VNS_MIN(tp->retrans_out, (uint32_t)tcp_skb_pcount(skb));
    }
    if (!(cb->sacked & TCPCB_LOST)) {
        cb->sacked |= TCPCB_LOST;
        tp->lost_out += tcp_skb_pcount(skb);
    }
}

/* tcp_rack_detect_loss */
static void tcp_rack_detect_loss(struct vns_sock *sk, vns_time_t now, vns_time_t *reo_timeout)
{
    struct vns_tcp *tp = sk->tp;
    vns_time_t reo_wnd = tcp_rack_reo_wnd(tp);

    *reo_timeout = 0;
    /* Linux walks tsorted_sent_queue (send order) and stops at the first
     * segment sent after rack.mstamp; the write queue here is in sequence
     * order, so every segment is looked at. */
    for (struct vns_skb *skb = tp->write_queue.head; skb && skb != tp->send_head; skb = skb->next) {
        struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
        int64_t remaining;

        if ((cb->sacked & TCPCB_LOST) && !(cb->sacked & TCPCB_SACKED_RETRANS))
            continue;
        if (cb->sacked & TCPCB_SACKED_ACKED)
            continue;
        if (!tcp_rack_sent_after(tp->rack.mstamp, cb->tx_time, tp->rack.end_seq, cb->end_seq))
            continue;
        remaining = (int64_t)(tp->rack.rtt + reo_wnd) - (int64_t)(now - cb->tx_time);
        if (remaining <= 0)
            vns__tcp_mark_skb_lost(tp, skb);
        else if ((vns_time_t)remaining > *reo_timeout)
            *reo_timeout = (vns_time_t)remaining;
    }
}

/* tcp_rack_mark_lost: detect, and arm the reordering timer for segments
 * that are not yet overdue (+ TCP_TIMEOUT_MIN, 2 jiffies). */
static void tcp_rack_mark_lost(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    vns_time_t timeout, now = inet_now(ctx, sk->inet);

    tcp_rack_detect_loss(sk, now, &timeout);
    if (timeout) {
        timeout = (timeout + VNS_MSEC(1) - 1) / VNS_MSEC(1) * VNS_MSEC(1) + VNS_MSEC(2);
        vns__tcp_reset_xmit_timer(ctx, sk, ICSK_TIME_REO_TIMEOUT, now + VNS_MIN(timeout, tp->rto));
    }
}

static void tcp_enter_recovery(struct vns_sock *sk);

/* tcp_rack_reo_timeout: the reordering window passed without an ACK. */
void vns__tcp_rack_reo_timeout(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    uint32_t prior_inflight = tcp_packets_in_flight(tp);
    vns_time_t timeout;

    sk->inet->stats.tcp_rack_reo_timeouts++;
    tcp_rack_detect_loss(sk, inet_now(ctx, sk->inet), &timeout);
    if (prior_inflight != tcp_packets_in_flight(tp)) {
        if (tp->ca_state != VNS_TCP_CA_Recovery) {
            tcp_enter_recovery(sk);
            vns__tcp_cwnd_reduction(sk, 1, 0);
        }
        vns__tcp_xmit_retransmit_queue(ctx, sk);
    }
    if (tp->pending != ICSK_TIME_RETRANS)
        vns__tcp_rearm_rto(ctx, sk);
}

/* tcp_newreno_mark_lost: without SACK, the head is lost after dupthresh
 * dupacks or on a partial ACK in Recovery. */
static void tcp_newreno_mark_lost(struct vns_sock *sk, bool snd_una_advanced)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_skb *head = tp->write_queue.head;

    if (!head || head == tp->send_head)
        return;
    if ((tp->ca_state < VNS_TCP_CA_Recovery && tp->sacked_out >= tp->reordering) ||
        (tp->ca_state == VNS_TCP_CA_Recovery && snd_una_advanced)) {
        unsigned mss = vns__tcp_current_mss(sk);

        if (TCP_SKB_CB(head)->sacked & TCPCB_LOST)
            return;
        if (head->len > mss)
            vns__tcp_fragment(sk, head, mss, mss);
        vns__tcp_mark_skb_lost(tp, head);
    }
}

static void tcp_identify_packet_loss(struct vns_ctx *ctx, struct vns_sock *sk, int flag)
{
    struct vns_tcp *tp = sk->tp;

    if (!tp->packets_out)
        return;
    if (!tp->sack_ok)
        tcp_newreno_mark_lost(sk, flag & FLAG_SND_UNA_ADVANCED);
    else
        tcp_rack_mark_lost(ctx, sk);
}

/* --- SACK ----------------------------------------------------------------------- */

/* tcp_sacktag_write_queue: mark the segments inside the peer's SACK blocks.
 * Segments straddling a block edge are split at it (tcp_shift/tcp_fragment
 * in Linux; here at the MSS boundary inside the block). Returns the
 * number of newly SACKed packets. */
unsigned vns__tcp_sacktag_write_queue(struct vns_ctx *ctx, struct vns_sock *sk,
                                      const struct tcp_rx_opts *opt, uint32_t prior_snd_una,
                                      int *flag)
{
    struct vns_tcp *tp = sk->tp;
    vns_time_t now = inet_now(ctx, sk->inet);
    unsigned newly = 0, mss = vns__tcp_current_mss(sk);

    vns_fn_enter(ctx, VNS_FN_tcp_sacktag_write_queue);
    for (unsigned i = 0; i < opt->num_sacks; i++) {
        uint32_t start = opt->sacks[i].start, end = opt->sacks[i].end;

        sk->inet->stats.tcp_sack_blocks_rcvd++;
        /* D-SACK: a first block below the cumulative ACK, or inside the second */
        if (i == 0 && (tcp_before(start, prior_snd_una) ||
                       (opt->num_sacks > 1 && !tcp_before(start, opt->sacks[1].start) &&
                        !tcp_after(end, opt->sacks[1].end)))) {
            sk->inet->stats.tcp_dsack_recv++;
            tp->info.dsack_events++;
            tp->rack.reord = true;
            *flag |= FLAG_DSACKING_ACK;
            /* a retransmission proven unnecessary (tcp_check_dsack) */
            if (tp->undo_marker && tp->undo_retrans > 0 && tcp_after(end, tp->undo_marker))
                tp->undo_retrans--;
            continue;
        }
        if (!tcp_after(end, start) || tcp_after(end, tp->snd_nxt) || !tcp_after(end, tp->snd_una))
            continue; /* invalid or old */
        for (struct vns_skb *skb = tp->write_queue.head; skb && skb != tp->send_head;
             skb = skb->next) {
            struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

            if (!tcp_after(cb->end_seq, start))
                continue;
            if (!tcp_before(cb->seq, end))
                break;
            if (cb->sacked & TCPCB_SACKED_ACKED)
                continue;
            /* partly inside: split at an MSS boundary so the SACKed part is whole */
            if (tcp_before(cb->seq, start)) {
                uint32_t cut = ((start - cb->seq) + mss - 1) / mss * mss;

                if (cut >= skb->len || vns__tcp_fragment(sk, skb, cut, mss) < 0)
                    continue;
                continue; /* the tail is the next skb */
            }
            if (tcp_after(cb->end_seq, end)) {
                uint32_t cut = (end - cb->seq) / mss * mss;

                if (cut == 0 || vns__tcp_fragment(sk, skb, cut, mss) < 0)
                    continue;
            }
            if (cb->sacked & TCPCB_SACKED_RETRANS) {
                tp->retrans_out -= VNS_MIN(tp->retrans_out, (uint32_t)tcp_skb_pcount(skb));
                cb->sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
            }
            if (cb->sacked & TCPCB_LOST) {
                tp->lost_out -= VNS_MIN(tp->lost_out, (uint32_t)tcp_skb_pcount(skb));
                cb->sacked &= (uint8_t)~TCPCB_LOST;
            }
            /* a never-retransmitted segment SACKed after a later one: reordering */
            if (!(cb->sacked & TCPCB_EVER_RETRANS) && tcp_before(cb->end_seq, tp->rack.end_seq) &&
                cb->tx_time < tp->rack.mstamp)
                tp->rack.reord = true;
            vns__tcp_rack_advance(tp, cb->sacked, cb->end_seq, cb->tx_time, now);
            cb->sacked |= TCPCB_SACKED_ACKED;
            tp->sacked_out += tcp_skb_pcount(skb);
            tp->delivered += tcp_skb_pcount(skb);
            newly += tcp_skb_pcount(skb);
            *flag |= FLAG_DATA_SACKED;
        }
    }
    vns_fn_exit(ctx);
    return newly;
}
static void tcp_init_cwnd_reduction(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    tp->high_seq = tp->snd_nxt;
    tp->tlp_high_seq = 0;
    tp->snd_cwnd_cnt = 0;
    tp->prior_cwnd = tp->snd_cwnd;
    tp->prr_delivered = 0;
    tp->prr_out = 0;
    tp->snd_ssthresh = tp->ca_ops->ssthresh(sk);
}

/* tcp_cwnd_reduction: Proportional Rate Reduction (RFC 6937). */
void vns__tcp_cwnd_reduction(struct vns_sock *sk, int newly_acked_sacked, int flag)
{
    struct vns_tcp *tp = sk->tp;
    int sndcnt = 0;
    int delta = (int)tp->snd_ssthresh - (int)tcp_packets_in_flight(tp);

    if (newly_acked_sacked <= 0 || !tp->prior_cwnd)
        return;
    tp->prr_delivered += (uint32_t)newly_acked_sacked;
    if (delta < 0) {
        uint64_t dividend = (uint64_t)tp->snd_ssthresh * tp->prr_delivered + tp->prior_cwnd - 1;

        sndcnt = (int)(dividend / tp->prior_cwnd) - (int)tp->prr_out;
    } else if ((flag & (FLAG_RETRANS_DATA_ACKED | FLAG_LOST_RETRANS)) == FLAG_RETRANS_DATA_ACKED) {
        sndcnt = VNS_MIN(
            delta, VNS_MAX((int)tp->prr_delivered - (int)tp->prr_out, newly_acked_sacked) + 1);
    } else {
        sndcnt = VNS_MIN(delta, newly_acked_sacked);
    }
    /* force a fast retransmit upon entering fast recovery */
    sndcnt = VNS_MAX(sndcnt, tp->prr_out ? 0 : 1);
    tp->snd_cwnd = tcp_packets_in_flight(tp) + (uint32_t)sndcnt;
}

static void tcp_end_cwnd_reduction(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    /* reset cwnd to ssthresh in CWR or Recovery (unless undone) */
    if (tp->snd_ssthresh < TCP_INFINITE_SSTHRESH &&
        (tp->ca_state == VNS_TCP_CA_CWR || tp->undo_marker)) {
        tp->snd_cwnd = tp->snd_ssthresh;
        tp->snd_cwnd_cnt = 0;
    }
}

/* tcp_current_ssthresh */
uint32_t vns__tcp_current_ssthresh(const struct vns_tcp *tp)
{
    if (tp->ca_state == VNS_TCP_CA_CWR || tp->ca_state == VNS_TCP_CA_Recovery)
        return tp->snd_ssthresh;
    return VNS_MAX(tp->snd_ssthresh, (tp->snd_cwnd >> 1) + (tp->snd_cwnd >> 2));
}

static void tcp_init_undo(struct vns_tcp *tp)
{
    tp->undo_marker = tp->snd_una;
    tp->undo_retrans = tp->retrans_out ? (int)tp->retrans_out : -1;
}

/* tcp_packet_delayed: the timestamp echo predates our first
 * retransmission, so the original got through. */
static bool tcp_packet_delayed(const struct vns_tcp *tp)
{
    return !tp->retrans_stamp ||
           (tp->saw_tstamp && tp->rcv_tsecr && tcp_before(tp->rcv_tsecr, tp->retrans_stamp));
}

static bool tcp_may_undo(const struct vns_tcp *tp)
{
    return tp->undo_marker && (!tp->undo_retrans || tcp_packet_delayed(tp));
}

/* tcp_undo_cwnd_reduction */
static void tcp_undo_cwnd_reduction(struct vns_sock *sk, bool unmark_loss)
{
    struct vns_tcp *tp = sk->tp;

    if (unmark_loss) {
        for (struct vns_skb *skb = tp->write_queue.head; skb && skb != tp->send_head;
             skb = skb->next)
            TCP_SKB_CB(skb)->sacked &= (uint8_t)~TCPCB_LOST;
        tp->lost_out = 0;
    }
    if (tp->prior_ssthresh) {
        tp->snd_cwnd = tp->ca_ops->undo_cwnd(sk);
        if (tp->prior_ssthresh > tp->snd_ssthresh)
            tp->snd_ssthresh = tp->prior_ssthresh;
    }
    tp->undo_marker = 0;
}

static bool tcp_any_retrans_done(const struct vns_tcp *tp)
{
    return tp->retrans_out || (tp->write_queue.head && tp->write_queue.head != tp->send_head &&
                               (TCP_SKB_CB(tp->write_queue.head)->sacked & TCPCB_EVER_RETRANS));
}

/* tcp_try_undo_recovery: the whole episode was spurious? Always opens
 * (SACK). */
static void tcp_try_undo_recovery(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    if (tcp_may_undo(tp)) {
        tcp_undo_cwnd_reduction(sk, false);
        sk->inet->stats.tcp_full_undo++;
    }
    if (!tcp_any_retrans_done(tp))
        tp->retrans_stamp = 0;
}

static void tcp_enter_recovery(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    if (tp->sack_ok)
        sk->inet->stats.tcp_sack_recovery++;
    else
        sk->inet->stats.tcp_reno_recovery++;
    tp->info.fast_retrans_events++;
    tp->prior_ssthresh = 0;
    tcp_init_undo(tp);
    if (tp->ca_state < VNS_TCP_CA_CWR) {
        tp->prior_ssthresh = vns__tcp_current_ssthresh(tp);
        tcp_init_cwnd_reduction(sk);
    }
    vns__tcp_set_ca_state(sk, VNS_TCP_CA_Recovery);
}

/* tcp_enter_loss (an RTO): everything not SACKed is lost, cwnd 1. */
void vns__tcp_enter_loss(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    (void)ctx;
    if (tp->ca_state <= VNS_TCP_CA_Disorder || !tcp_after(tp->high_seq, tp->snd_una) ||
        (tp->ca_state == VNS_TCP_CA_Loss && !tp->retransmits)) {
        tp->prior_ssthresh = vns__tcp_current_ssthresh(tp);
        tp->prior_cwnd = tp->snd_cwnd;
        tp->snd_ssthresh = tp->ca_ops->ssthresh(sk);
        tcp_init_undo(tp);
    }
    tp->snd_cwnd_cnt = 0;
    tp->retrans_out = 0;
    tp->lost_out = 0;
    if (!tp->sack_ok)
        tp->sacked_out = 0; /* tcp_reset_reno_sack */
    for (struct vns_skb *skb = tp->write_queue.head; skb && skb != tp->send_head; skb = skb->next) {
        struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

        cb->sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
        if (!tp->sack_ok)
            cb->sacked &= (uint8_t)~TCPCB_SACKED_ACKED;
        if (!(cb->sacked & TCPCB_SACKED_ACKED)) {
            cb->sacked |= TCPCB_LOST;
            tp->lost_out += tcp_skb_pcount(skb);
        } else {
            cb->sacked &= (uint8_t)~TCPCB_LOST;
        }
    }
    tp->snd_cwnd = tcp_packets_in_flight(tp) + 1;
    tp->high_seq = tp->snd_nxt;
    tp->tlp_high_seq = 0;
    vns__tcp_set_ca_state(sk, VNS_TCP_CA_Loss);
    tp->rack.reord = true; /* tcp_timeout_mark_lost: reordering may have caused this */
}

/* tcp_fastretrans_alert, reduced to what 5.4 does without undo and ECN.
 * Returns true when lost segments should be retransmitted. */
bool vns__tcp_fastretrans_alert(struct vns_ctx *ctx, struct vns_sock *sk, uint32_t prior_snd_una,
                                unsigned num_dupack, int flag)
{
    struct vns_tcp *tp = sk->tp;

    (void)prior_snd_una;
    vns_fn_enter(ctx, VNS_FN_tcp_fastretrans_alert);
    if (!tp->packets_out && tp->sacked_out)
        tp->sacked_out = 0;
    /* D. exit states once high_seq is acked */
    if (tp->ca_state != VNS_TCP_CA_Open && !tcp_before(tp->snd_una, tp->high_seq)) {
        switch (tp->ca_state) {
        case VNS_TCP_CA_CWR:
            if (tp->snd_una != tp->high_seq) {
                tcp_end_cwnd_reduction(sk);
                vns__tcp_set_ca_state(sk, VNS_TCP_CA_Open);
            }
            break;
        case VNS_TCP_CA_Recovery:
            if (!tp->sack_ok)
                tp->sacked_out = 0;
            tcp_try_undo_recovery(sk);
            tcp_end_cwnd_reduction(sk);
            vns__tcp_set_ca_state(sk, VNS_TCP_CA_Open);
            break;
        case VNS_TCP_CA_Loss:
            tcp_try_undo_recovery(sk);
            vns__tcp_set_ca_state(sk, VNS_TCP_CA_Open);
            break;
        default:
            break;
        }
    }
    /* E. process the state */
    switch (tp->ca_state) {
    case VNS_TCP_CA_Recovery:
        if (!(flag & FLAG_SND_UNA_ADVANCED)) {
            if (!tp->sack_ok)
                tp->sacked_out = VNS_MIN(tp->sacked_out + num_dupack, tp->packets_out);
        }
        tcp_identify_packet_loss(ctx, sk, flag);
        break;
    case VNS_TCP_CA_Loss:
        /* tcp_try_undo_loss: the timestamps show the RTO was spurious */
        if ((flag & FLAG_SND_UNA_ADVANCED) && tcp_may_undo(tp)) {
            tcp_undo_cwnd_reduction(sk, true);
            sk->inet->stats.tcp_loss_undo++;
            vns__tcp_set_ca_state(sk, VNS_TCP_CA_Open);
            vns_fn_exit(ctx);
            return false;
        }
        tcp_identify_packet_loss(ctx, sk, flag);
        break;
    default:
        /* tcp_try_undo_dsack: every retransmission was D-SACKed */
        if (tp->ca_state <= VNS_TCP_CA_Disorder && tp->undo_marker && !tp->undo_retrans) {
            tcp_undo_cwnd_reduction(sk, false);
            sk->inet->stats.tcp_dsack_undo++;
        }
        if (!tp->sack_ok) {
            if (flag & FLAG_SND_UNA_ADVANCED)
                tp->sacked_out = 0;
            tp->sacked_out = VNS_MIN(tp->sacked_out + num_dupack, tp->packets_out);
        }
        tcp_identify_packet_loss(ctx, sk, flag);
        /* tcp_time_to_recover */
        if (!tp->lost_out && !(tp->sacked_out + 1 > tp->reordering)) {
            /* tcp_try_to_open */
            if (tp->ca_state != VNS_TCP_CA_CWR)
                vns__tcp_set_ca_state(sk, (tp->sacked_out || tp->retrans_out) ? VNS_TCP_CA_Disorder
                                                                              : VNS_TCP_CA_Open);
            vns_fn_exit(ctx);
            return false;
        }
        tcp_enter_recovery(sk);
        if (!tp->sack_ok && !tp->lost_out)
            tcp_newreno_mark_lost(sk, flag & FLAG_SND_UNA_ADVANCED);
        break;
    }
    vns_fn_exit(ctx);
    return true;
}
/* tcp_process_tlp_ack: did the loss probe repair a loss? */
void vns__tcp_process_tlp_ack(struct vns_sock *sk, uint32_t ack, int flag)
{
    struct vns_tcp *tp = sk->tp;

    if (tcp_before(ack, tp->tlp_high_seq))
        return;
    if (flag & FLAG_DSACKING_ACK) {
        tp->tlp_high_seq = 0; /* original and probe both arrived: no loss */
    } else if (tcp_after(ack, tp->tlp_high_seq)) {
        /* the probe repaired a loss: reduce cwnd once (CWR) */
        tcp_init_cwnd_reduction(sk);
        vns__tcp_set_ca_state(sk, VNS_TCP_CA_CWR);
        tcp_end_cwnd_reduction(sk);
        vns__tcp_set_ca_state(sk, VNS_TCP_CA_Open);
        sk->inet->stats.tcp_loss_probe_fired++;
    } else if (!(flag & (FLAG_SND_UNA_ADVANCED | FLAG_NOT_DUP | FLAG_DATA_SACKED))) {
        tp->tlp_high_seq = 0;
    }
}
