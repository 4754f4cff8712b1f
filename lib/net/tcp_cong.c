/* lib/net/tcp_cong.c -- congestion control: Reno and CUBIC (the 5.4
 * default). LINUX: net/ipv4/tcp_cong.c (tcp_slow_start, tcp_cong_avoid_ai,
 * tcp_reno_*), net/ipv4/tcp_cubic.c (bictcp_update, bictcp_cong_avoid,
 * bictcp_recalc_ssthresh, bictcp_state, bictcp_acked), include/net/tcp.h
 * (tcp_is_cwnd_limited).
 *
 * CUBIC follows tcp_cubic.c of 5.4: beta 717/1024, bic_scale 41,
 * fast convergence, TCP friendliness, delay_min in ms << 3, one update
 * per jiffy (HZ 1000), and HyStart as 5.4 has it (hystart_detect =
 * ACK_TRAIN | DELAY, low window 16, ack delta 2 ms, 8 delay samples,
 * threshold clamp(delay_min/8, 4 ms, 16 ms)). Note the 5.4 ACK-train test
 * works in milliseconds: on sub-millisecond RTTs (delay_min >> 4 == 0) it
 * ends slow start as soon as a round spans a jiffy boundary, a known 5.4
 * behaviour (reworked in 5.7) that the model reproduces on purpose.
 * Simplified: cubic_root computes the exact integer cube root where the
 * kernel uses a table and one Newton step (they differ by at most 1). */
#include <string.h>

#include "inet_int.h"

bool vns__tcp_is_cwnd_limited(const struct vns_tcp *tp)
{
    if (tp->is_cwnd_limited)
        return true;
    /* If in slow start, ensure cwnd grows to twice what was ACKed. */
    if (tcp_in_slow_start(tp))
        return tp->snd_cwnd < 2 * tp->max_packets_out;
    return false;
}

uint32_t vns__tcp_slow_start(struct vns_tcp *tp, uint32_t acked)
{
    uint32_t cwnd = VNS_MIN(tp->snd_cwnd + acked, tp->snd_ssthresh);

    acked -= cwnd - tp->snd_cwnd;
    tp->snd_cwnd = VNS_MIN(cwnd, tp->snd_cwnd_clamp);
    return acked;
}

void vns__tcp_cong_avoid_ai(struct vns_tcp *tp, uint32_t w, uint32_t acked)
{
    if (tp->snd_cwnd_cnt >= w) {
        tp->snd_cwnd_cnt = 0;
        tp->snd_cwnd++;
    }
    tp->snd_cwnd_cnt += acked;
    if (tp->snd_cwnd_cnt >= w) {
        uint32_t delta = tp->snd_cwnd_cnt / w;

        tp->snd_cwnd_cnt -= delta * w;
        tp->snd_cwnd += delta;
    }
    tp->snd_cwnd = VNS_MIN(tp->snd_cwnd, tp->snd_cwnd_clamp);
}

void vns__tcp_set_ca_state(struct vns_sock *sk, uint8_t ca_state)
{
    struct vns_tcp *tp = sk->tp;

    if (tp->ca_ops->set_state)
        tp->ca_ops->set_state(sk, ca_state);
    tp->ca_state = ca_state;
}

/* --- Reno --------------------------------------------------------------------- */

static void reno_cong_avoid(struct vns_sock *sk, uint32_t ack, uint32_t acked)
{
    struct vns_tcp *tp = sk->tp;

    (void)ack;
    if (!vns__tcp_is_cwnd_limited(tp))
        return;
    if (tcp_in_slow_start(tp)) {
        acked = vns__tcp_slow_start(tp, acked);
        if (!acked)
            return;
    }
    vns__tcp_cong_avoid_ai(tp, tp->snd_cwnd, acked);
}

static uint32_t reno_ssthresh(struct vns_sock *sk)
{
    return VNS_MAX(sk->tp->snd_cwnd >> 1u, 2u);
}

static uint32_t reno_undo_cwnd(struct vns_sock *sk)
{
    return VNS_MAX(sk->tp->snd_cwnd, sk->tp->prior_cwnd);
}

const struct tcp_cong_ops vns__tcp_reno = {
    .name = "reno",
    .ssthresh = reno_ssthresh,
    .cong_avoid = reno_cong_avoid,
    .undo_cwnd = reno_undo_cwnd,
};

/* --- CUBIC -------------------------------------------------------------------- */

#define BICTCP_BETA_SCALE   1024
#define BICTCP_HZ           10
#define CUBIC_BETA          717
#define CUBIC_BIC_SCALE     41
#define CUBIC_HZ            1000u
#define HYSTART_ACK_TRAIN   0x1
#define HYSTART_DELAY       0x2
#define HYSTART_LOW_WINDOW  16
#define HYSTART_ACK_DELTA   2
#define HYSTART_MIN_SAMPLES 8
#define HYSTART_DELAY_MIN   (4u << 3)
#define HYSTART_DELAY_MAX   (16u << 3)

static const uint32_t cube_rtt_scale = CUBIC_BIC_SCALE * 10;
static const uint32_t beta_scale =
    8 * (BICTCP_BETA_SCALE + CUBIC_BETA) / 3 / (BICTCP_BETA_SCALE - CUBIC_BETA);

static uint64_t cube_factor(void)
{
    return (1ull << (10 + 3 * BICTCP_HZ)) / (uint64_t)(CUBIC_BIC_SCALE * 10);
}

static uint32_t cubic_root(uint64_t a)
{
    uint64_t lo = 0, hi = 2097152; /* 2^21: cube above 2^63 */

    while (lo < hi) {
        uint64_t mid = (lo + hi + 1) / 2;

        if (mid * mid * mid <= a)
            lo = mid;
        else
            hi = mid - 1;
    }
    return (uint32_t)lo;
}

static void bictcp_reset(struct cubic_state *ca)
{
    ca->cnt = 0;
    ca->last_max_cwnd = 0;
    ca->last_cwnd = 0;
    ca->last_time = 0;
    ca->bic_origin_point = 0;
    ca->bic_K = 0;
    ca->delay_min = 0;
    ca->epoch_start = 0;
    ca->ack_cnt = 0;
    ca->tcp_cwnd = 0;
    ca->found = 0;
}

/* bictcp_clock: jiffies_to_msecs(jiffies) with HZ 1000 */
static uint32_t bictcp_clock(struct vns_sock *sk)
{
    return tcp_jiffies32(NULL, sk);
}

static void bictcp_hystart_reset(struct vns_sock *sk)
{
    struct cubic_state *ca = &sk->tp->cubic;

    ca->round_start = ca->last_ack = bictcp_clock(sk);
    ca->end_seq = sk->tp->snd_nxt;
    ca->curr_rtt = 0;
    ca->sample_cnt = 0;
}

static void bictcp_init(struct vns_sock *sk)
{
    bictcp_reset(&sk->tp->cubic);
    bictcp_hystart_reset(sk);
}

static void hystart_update(struct vns_sock *sk, uint32_t delay)
{
    struct vns_tcp *tp = sk->tp;
    struct cubic_state *ca = &tp->cubic;
    uint32_t now = bictcp_clock(sk);

    if (ca->found & (HYSTART_ACK_TRAIN | HYSTART_DELAY))
        return;
    /* ack-train detection */
    if ((int32_t)(now - ca->last_ack) <= HYSTART_ACK_DELTA) {
        ca->last_ack = now;
        if ((int32_t)(now - ca->round_start) > (int32_t)(ca->delay_min >> 4)) {
            ca->found |= HYSTART_ACK_TRAIN;
            sk->inet->stats.tcp_hystart_exits++;
            tp->snd_ssthresh = tp->snd_cwnd;
        }
    }
    /* delay increase detection */
    if (ca->sample_cnt < HYSTART_MIN_SAMPLES) {
        if (ca->curr_rtt == 0 || ca->curr_rtt > delay)
            ca->curr_rtt = delay;
        ca->sample_cnt++;
    } else {
        uint32_t thresh =
            VNS_MIN(VNS_MAX(ca->delay_min >> 3, HYSTART_DELAY_MIN), HYSTART_DELAY_MAX);

        if (ca->curr_rtt > ca->delay_min + thresh) {
            ca->found |= HYSTART_DELAY;
            sk->inet->stats.tcp_hystart_exits++;
            tp->snd_ssthresh = tp->snd_cwnd;
        }
    }
}

static void bictcp_update(struct cubic_state *ca, uint32_t cwnd, uint32_t acked, uint32_t cubic_now)
{
    uint32_t delta, bic_target, max_cnt;
    uint64_t offs, t;

    ca->ack_cnt += acked;
    if (ca->last_cwnd == cwnd && (int32_t)(cubic_now - ca->last_time) <= (int32_t)(CUBIC_HZ / 32))
        return;
    /* at most one recalculation per jiffy; epoch_start = 0 forces one */
    if (ca->epoch_start && cubic_now == ca->last_time)
        goto tcp_friendliness;
    ca->last_cwnd = cwnd;
    ca->last_time = cubic_now;
    if (ca->epoch_start == 0) {
        ca->epoch_start = cubic_now ? cubic_now : 1;
        ca->ack_cnt = acked;
        ca->tcp_cwnd = cwnd;
        if (ca->last_max_cwnd <= cwnd) {
            ca->bic_K = 0;
            ca->bic_origin_point = cwnd;
        } else {
            ca->bic_K = cubic_root(cube_factor() * (ca->last_max_cwnd - cwnd));
            ca->bic_origin_point = ca->last_max_cwnd;
        }
    }
    t = (uint64_t)(int32_t)(cubic_now - ca->epoch_start);
    t += ca->delay_min >> 3; /* msecs_to_jiffies, HZ 1000 */
    t <<= BICTCP_HZ;
    t /= CUBIC_HZ;
    offs = t < ca->bic_K ? ca->bic_K - t : t - ca->bic_K;
    delta = (uint32_t)((cube_rtt_scale * offs * offs * offs) >> (10 + 3 * BICTCP_HZ));
    bic_target = t < ca->bic_K ? ca->bic_origin_point - delta : ca->bic_origin_point + delta;
    if (bic_target > cwnd)
        ca->cnt = cwnd / (bic_target - cwnd);
    else
        ca->cnt = 100 * cwnd;
    /* the first epoch: at most 5% growth per RTT */
    if (ca->last_max_cwnd == 0 && ca->cnt > 20)
        ca->cnt = 20;
tcp_friendliness:
    delta = (cwnd * beta_scale) >> 3;
    while (ca->ack_cnt > delta) {
        ca->ack_cnt -= delta;
        ca->tcp_cwnd++;
    }
    if (ca->tcp_cwnd > cwnd) {
        delta = ca->tcp_cwnd - cwnd;
        max_cnt = cwnd / delta;
        if (ca->cnt > max_cnt)
            ca->cnt = max_cnt;
    }
    ca->cnt = VNS_MAX(ca->cnt, 2u);
}

static void bictcp_cong_avoid(struct vns_sock *sk, uint32_t ack, uint32_t acked)
{
    struct vns_tcp *tp = sk->tp;
    struct cubic_state *ca = &tp->cubic;

    (void)ack;
    if (!vns__tcp_is_cwnd_limited(tp))
        return;
    if (tcp_in_slow_start(tp)) {
        if (tcp_after(ack, ca->end_seq))
            bictcp_hystart_reset(sk);
        acked = vns__tcp_slow_start(tp, acked);
        if (!acked)
            return;
    }
    bictcp_update(ca, tp->snd_cwnd, acked, tcp_jiffies32(NULL, sk));
    vns__tcp_cong_avoid_ai(tp, ca->cnt, acked);
}

static uint32_t bictcp_recalc_ssthresh(struct vns_sock *sk)
{
    struct vns_tcp *tp = sk->tp;
    struct cubic_state *ca = &tp->cubic;

    ca->epoch_start = 0;
    if (tp->snd_cwnd < ca->last_max_cwnd) /* fast convergence */
        ca->last_max_cwnd =
            (tp->snd_cwnd * (BICTCP_BETA_SCALE + CUBIC_BETA)) / (2 * BICTCP_BETA_SCALE);
    else
        ca->last_max_cwnd = tp->snd_cwnd;
    return VNS_MAX((tp->snd_cwnd * CUBIC_BETA) / BICTCP_BETA_SCALE, 2u);
}

static void bictcp_state(struct vns_sock *sk, uint8_t new_state)
{
    if (new_state == VNS_TCP_CA_Loss) {
        bictcp_reset(&sk->tp->cubic);
        bictcp_hystart_reset(sk);
    }
}

static void bictcp_cwnd_event_tx_start(struct vns_sock *sk)
{
    /* CA_EVENT_TX_START after idle: shift the epoch (5.4 keeps it simple:
     * restart it) */
    sk->tp->cubic.epoch_start = 0;
}

static void bictcp_acked(struct vns_sock *sk, uint32_t acked, int64_t rtt_us)
{
    struct cubic_state *ca = &sk->tp->cubic;
    uint32_t delay;

    (void)acked;
    if (rtt_us < 0)
        return;
    /* discard delay samples right after fast recovery */
    if (ca->epoch_start && (int32_t)(tcp_jiffies32(NULL, sk) - ca->epoch_start) < (int32_t)CUBIC_HZ)
        return;
    delay = (uint32_t)(((uint64_t)rtt_us << 3) / 1000u);
    if (delay == 0)
        delay = 1;
    if (ca->delay_min == 0 || ca->delay_min > delay)
        ca->delay_min = delay;
    if (tcp_in_slow_start(sk->tp) && sk->tp->snd_cwnd >= HYSTART_LOW_WINDOW)
        hystart_update(sk, delay);
}

static uint32_t cubic_undo_cwnd(struct vns_sock *sk)
{
    return VNS_MAX(sk->tp->snd_cwnd, sk->tp->prior_cwnd);
}

const struct tcp_cong_ops vns__tcp_cubic = {
    .name = "cubic",
    .init = bictcp_init,
    .ssthresh = bictcp_recalc_ssthresh,
    .cong_avoid = bictcp_cong_avoid,
    .set_state = bictcp_state,
    .cwnd_event_tx_start = bictcp_cwnd_event_tx_start,
    .pkts_acked = bictcp_acked,
    .undo_cwnd = cubic_undo_cwnd,
};

const struct tcp_cong_ops *vns__tcp_cong_find(const char *name)
{
    if (!name || !strcmp(name, "cubic"))
        return &vns__tcp_cubic;
    if (!strcmp(name, "reno"))
        return &vns__tcp_reno;
    return NULL;
}
