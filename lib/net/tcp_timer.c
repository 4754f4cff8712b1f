/* lib/net/tcp_timer.c -- TCP timers. LINUX: net/ipv4/tcp_timer.c (5.4):
 * tcp_write_timer -> tcp_write_timer_handler -> tcp_retransmit_timer /
 * tcp_probe_timer, tcp_delack_timer -> tcp_delack_timer_handler,
 * tcp_keepalive_timer (which also ends FIN_WAIT2 orphans), and
 * net/ipv4/tcp_minisocks.c (tcp_time_wait).
 *
 * The timers are kernel timer_lists (lib/core): they fire at a tick of the
 * socket's CPU, from run_timer_softirq -> call_timer_fn at the local APIC
 * timer interrupt's irq_exit, exactly where Linux runs them.
 *
 * RTO: icsk_rto from the RTT estimator (srtt + max(rttvar, 200 ms)),
 * doubled per consecutive timeout up to TCP_RTO_MAX (120 s); the
 * connection fails with ETIMEDOUT after TCP_RETR2 (15) timeouts (the
 * kernel bounds by the time those would take, which is the same for an
 * unchanged RTO), a SYN after tcp_syn_retries (6) and a SYN-ACK after
 * tcp_synack_retries (5). Simplified: a timer firing while the socket is
 * owned by a system call runs anyway (Linux defers it to release_sock via
 * TCP_*_TIMER_DEFERRED); keepalive probes are not modelled. */
#include "inet_int.h"

static void tcp_write_err(struct vns_ctx *ctx, struct vns_sock *sk)
{
    sk->sk_err = VNS_ETIMEDOUT;
    vns__tcp_done(ctx, sk);
}

static void tcp_retransmit_timer(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_inet *inet = sk->inet;
    vns_time_t now = inet_now(ctx, inet);

    vns_fn_enter(ctx, VNS_FN_tcp_retransmit_timer);
    if (tp->state == VNS_TCP_SYN_SENT || tp->state == VNS_TCP_SYN_RECV) {
        unsigned limit =
            tp->state == VNS_TCP_SYN_SENT ? VNS_TCP_SYN_RETRIES : VNS_TCP_SYNACK_RETRIES;

        if (tp->retransmits >= limit) {
            if (tp->state == VNS_TCP_SYN_SENT)
                inet->stats.tcp_attempt_fails++;
            tcp_write_err(ctx, sk);
            vns_fn_exit(ctx);
            return;
        }
        vns__tcp_send_syn(ctx, sk, tp->state == VNS_TCP_SYN_RECV);
        tp->info.total_retrans++;
        inet->stats.tcp_retrans_segs++;
        tp->retransmits++;
        tp->backoff++;
        tp->rto = VNS_MIN(tp->rto * 2, VNS_TCP_RTO_MAX);
        vns__tcp_reset_xmit_timer(ctx, sk, ICSK_TIME_RETRANS, now + tp->rto);
        vns_fn_exit(ctx);
        return;
    }
    if (!tp->packets_out) {
        vns_fn_exit(ctx);
        return;
    }
    if (tp->retransmits >= VNS_TCP_RETR2) {
        tcp_write_err(ctx, sk);
        vns_fn_exit(ctx);
        return;
    }
    inet->stats.tcp_timeouts++;
    tp->info.rto_events++;
    vns__tcp_enter_loss(ctx, sk);
    if (vns__tcp_retransmit_skb(ctx, sk, tp->write_queue.head, 1) < 0) {
        /* local congestion: retry soon (TCP_RESOURCE_PROBE_INTERVAL 500 ms) */
        vns__tcp_reset_xmit_timer(ctx, sk, ICSK_TIME_RETRANS,
                                  now + VNS_MIN(tp->rto, VNS_MSEC(500)));
        vns_fn_exit(ctx);
        return;
    }
    tp->backoff++;
    tp->retransmits++;
    tp->rto = VNS_MIN(tp->rto * 2, VNS_TCP_RTO_MAX);
    vns__tcp_reset_xmit_timer(ctx, sk, ICSK_TIME_RETRANS, now + tp->rto);
    vns_fn_exit(ctx);
}

/* tcp_probe_timer: zero window probes (an ACK-eliciting segment). */
static void tcp_probe_timer(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    vns_fn_enter(ctx, VNS_FN_tcp_probe_timer);
    if (tp->packets_out || !tp->send_head) {
        tp->backoff = 0;
        vns_fn_exit(ctx);
        return;
    }
    /* tcp_write_wakeup: send what the window allows, else a probe */
    vns__tcp_write_xmit(ctx, sk, vns__tcp_current_mss(sk), VNS_TCP_NAGLE_PUSH, 1);
    if (tp->packets_out) {
        tp->backoff = 0;
        vns_fn_exit(ctx);
        return;
    }
    vns__tcp_xmit_probe_skb(ctx, sk);
    tp->backoff++;
    vns__tcp_reset_xmit_timer(ctx, sk, ICSK_TIME_PROBE0,
                              inet_now(ctx, sk->inet) +
                                  VNS_MIN(tp->rto << VNS_MIN(tp->backoff, 10u), VNS_TCP_RTO_MAX));
    vns_fn_exit(ctx);
}

static void tcp_write_timer(struct vns_ctx *ctx, struct vns_timer_list *t)
{
    struct vns_sock *sk = t->data;
    struct vns_tcp *tp = sk->tp;
    uint8_t event = tp->pending;

    vns_fn_enter(ctx, VNS_FN_tcp_write_timer_handler);
    tp->pending = 0;
    if (tp->state == VNS_TCP_CLOSE || tp->state == VNS_TCP_LISTEN || !event) {
        vns_fn_exit(ctx);
        return;
    }
    if (event == ICSK_TIME_RETRANS)
        tcp_retransmit_timer(ctx, sk);
    else if (event == ICSK_TIME_PROBE0)
        tcp_probe_timer(ctx, sk);
    else if (event == ICSK_TIME_LOSS_PROBE)
        vns__tcp_send_loss_probe(ctx, sk);
    else if (event == ICSK_TIME_REO_TIMEOUT)
        vns__tcp_rack_reo_timeout(ctx, sk);
    vns_fn_exit(ctx);
}

static void tcp_delack_timer(struct vns_ctx *ctx, struct vns_timer_list *t)
{
    struct vns_sock *sk = t->data;
    struct vns_tcp *tp = sk->tp;

    vns_fn_enter(ctx, VNS_FN_tcp_delack_timer_handler);
    if (tp->state == VNS_TCP_CLOSE || !(tp->ack_pending & ICSK_ACK_TIMER)) {
        vns_fn_exit(ctx);
        return;
    }
    tp->ack_pending &= (uint8_t)~ICSK_ACK_TIMER;
    if (tp->ack_pending & ICSK_ACK_SCHED) {
        if (!tp->pingpong) {
            /* delayed ACK missed: inflate ATO */
            tp->ato = VNS_MIN(tp->ato << 1, tp->rto);
        } else {
            /* delayed ACK missed: leave pingpong mode and deflate ATO */
            tp->pingpong = false;
            tp->ato = VNS_TCP_ATO_MIN;
        }
        sk->inet->stats.tcp_delayed_acks++;
        tp->info.delayed_acks_sent++;
        vns__tcp_send_ack(ctx, sk);
    }
    vns_fn_exit(ctx);
}

/* TIME_WAIT and orphaned FIN_WAIT2 end here: the socket is freed. */
static void tcp_keepalive_timer(struct vns_ctx *ctx, struct vns_timer_list *t)
{
    struct vns_sock *sk = t->data;

    (void)ctx;
    if (sk->tp->state == VNS_TCP_TIME_WAIT || sk->tp->state == VNS_TCP_FIN_WAIT2) {
        sk->tp->state = VNS_TCP_CLOSE;
        if (sk->user_closed)
            vns__sock_free(sk);
    }
}

/* tcp_compressed_ack_kick: the SACK compression hrtimer. LINUX: an
 * HRTIMER_MODE_REL_PINNED_SOFT hrtimer (HRTIMER_SOFTIRQ); the model runs
 * it from the engine event without a context (its ACK is not charged to a
 * CPU and shows no frames). */
static void tcp_compressed_ack_kick(struct vns_sim *sim, struct vns_timer *t)
{
    struct vns_sock *sk = t->data;
    struct vns_tcp *tp = sk->tp;

    (void)sim;
    if (tp->compressed_ack > VNS_TCP_FASTRETRANS_THRESH) {
        tp->compressed_ack--; /* one ACK is sent after all */
        vns__tcp_send_ack(NULL, sk);
    }
}

void vns__tcp_init_xmit_timers(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    struct vns_cpu *cpu = vns_kernel_cpu(sk->inet->k, sk->cpu);

    vns_timer_init(&tp->compressed_ack_timer, tcp_compressed_ack_kick, sk, vns_cpu_id(cpu));
    vns_timer_list_init(&tp->retransmit_timer, cpu, VNS_FN_tcp_write_timer, tcp_write_timer, sk);
    vns_timer_list_init(&tp->delack_timer, cpu, VNS_FN_tcp_delack_timer, tcp_delack_timer, sk);
    vns_timer_list_init(&tp->keepalive_timer, cpu, VNS_FN_tcp_keepalive_timer, tcp_keepalive_timer,
                        sk);
}

void vns__tcp_clear_xmit_timers(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    tp->pending = 0;
    tp->ack_pending = 0;
    vns_del_timer(&tp->retransmit_timer);
    vns_del_timer(&tp->delack_timer);
    vns_del_timer(&tp->keepalive_timer);
    vns_timer_cancel(sk->inet->sim, &tp->compressed_ack_timer);
}

void vns__tcp_reset_xmit_timer(struct vns_ctx *ctx, struct vns_sock *sk, int what, vns_time_t when)
{
    struct vns_tcp *tp = sk->tp;

    (void)ctx;
    tp->pending = (uint8_t)what;
    vns_mod_timer(&tp->retransmit_timer, VNS_MIN(when, inet_now(ctx, sk->inet) + VNS_TCP_RTO_MAX));
}

/* tcp_rearm_rto */
void vns__tcp_rearm_rto(struct vns_ctx *ctx, struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;

    if (!tp->packets_out) {
        tp->pending = 0;
        vns_del_timer(&tp->retransmit_timer);
        return;
    }
    {
        vns_time_t now = inet_now(ctx, sk->inet), rto = tp->rto;

        /* after a reordering timer or loss probe, the RTO counts from the
         * head's transmission (tcp_rto_delta_us) */
        if ((tp->pending == ICSK_TIME_REO_TIMEOUT || tp->pending == ICSK_TIME_LOSS_PROBE) &&
            tp->write_queue.head) {
            vns_time_t sent = TCP_SKB_CB(tp->write_queue.head)->tx_time;

            rto = sent + tp->rto > now ? sent + tp->rto - now : 1;
        }
        vns__tcp_reset_xmit_timer(ctx, sk, ICSK_TIME_RETRANS, now + rto);
    }
}

/* tcp_time_wait: the socket stays as its own timewait sock. */
void vns__tcp_time_wait(struct vns_ctx *ctx, struct vns_sock *sk, vns_time_t timeo)
{
    vns_fn_enter(ctx, VNS_FN_tcp_time_wait);
    if (sk->user_closed) {
        /* 5.4 tcp_time_wait -> tcp_done -> inet_csk_destroy_sock: an
         * orphan's queues go now (sk_stream_kill_queues; the peer's FIN
         * was just queued), not when TIME_WAIT ends. The model keeps the
         * socket itself as the timewait sock (net/ipv4/tcp_minisocks.c). */
        vns_skb_queue_purge_reason(&sk->receive_queue, VNS_SKB_DROP_REASON_QUEUE_PURGE);
        vns_skb_queue_purge_reason(&sk->tp->ofo_queue, VNS_SKB_DROP_REASON_QUEUE_PURGE);
        sk->rmem_alloc = 0;
    }
    vns__tcp_set_state(ctx, sk, VNS_TCP_TIME_WAIT);
    sk->tp->pending = 0;
    vns_del_timer(&sk->tp->retransmit_timer);
    vns_del_timer(&sk->tp->delack_timer);
    vns_mod_timer(&sk->tp->keepalive_timer, inet_now(ctx, sk->inet) + timeo);
    vns_fn_exit(ctx);
}
