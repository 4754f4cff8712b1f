/* vnetsim -- TCP state visible to tests, workloads and outputs (the
 * struct tcp_info of getsockopt(TCP_INFO), plus the constants of
 * include/net/tcp.h that the model uses). */
#ifndef VNETSIM_TCP_H
#define VNETSIM_TCP_H

#include "vnetsim/common.h"

struct vns_sock;

/* TCP states (include/net/tcp_states.h) */
enum vns_tcp_state {
    VNS_TCP_ESTABLISHED = 1,
    VNS_TCP_SYN_SENT,
    VNS_TCP_SYN_RECV,
    VNS_TCP_FIN_WAIT1,
    VNS_TCP_FIN_WAIT2,
    VNS_TCP_TIME_WAIT,
    VNS_TCP_CLOSE,
    VNS_TCP_CLOSE_WAIT,
    VNS_TCP_LAST_ACK,
    VNS_TCP_LISTEN,
    VNS_TCP_CLOSING,
};

/* include/net/tcp.h */
#define VNS_TCP_INIT_CWND          10
#define VNS_TCP_RTO_MIN            VNS_MSEC(200)
#define VNS_TCP_RTO_MAX            VNS_SEC(120)
#define VNS_TCP_TIMEOUT_INIT       VNS_SEC(1)
#define VNS_TCP_DELACK_MAX         VNS_MSEC(200)
#define VNS_TCP_DELACK_MIN         VNS_MSEC(40)
#define VNS_TCP_ATO_MIN            VNS_MSEC(40)
#define VNS_TCP_MAX_QUICKACKS      16
#define VNS_TCP_RETR2              15
#define VNS_TCP_SYN_RETRIES        6
#define VNS_TCP_SYNACK_RETRIES     5
#define VNS_TCP_TIMEWAIT_LEN       VNS_SEC(60)
#define VNS_TCP_FASTRETRANS_THRESH 3
#define VNS_TCP_MSS_DEFAULT        536
#define VNS_TCP_MIN_SND_MSS        48
#define VNS_TCP_MAX_WSCALE         14
#define VNS_TCP_NAGLE_OFF          1
#define VNS_TCP_NAGLE_CORK         2
#define VNS_TCP_NAGLE_PUSH         4

/* icsk_ca_state (include/net/inet_connection_sock.h, tcp.h) */
enum vns_tcp_ca_state {
    VNS_TCP_CA_Open = 0,
    VNS_TCP_CA_Disorder = 1,
    VNS_TCP_CA_CWR = 2,
    VNS_TCP_CA_Recovery = 3,
    VNS_TCP_CA_Loss = 4,
};

struct vns_tcp_info {
    enum vns_tcp_state state;
    enum vns_tcp_ca_state ca_state;
    const char *congestion; /* "cubic", "reno" */
    unsigned mss_cache;     /* send MSS net of the timestamp option (1448 on a 1500 MTU) */
    unsigned advmss;
    unsigned rcv_mss;
    unsigned snd_wscale, rcv_wscale;
    bool sack_ok, tstamp_ok;
    uint32_t snd_cwnd; /* segments */
    uint32_t snd_ssthresh;
    uint32_t packets_out, sacked_out, lost_out, retrans_out;
    uint32_t snd_wnd; /* peer's window, bytes */
    uint32_t rcv_wnd; /* our last advertised window, bytes */
    vns_time_t srtt;  /* smoothed RTT (ns); 0 = no sample yet */
    vns_time_t rttvar;
    vns_time_t rto;           /* current RTO (icsk_rto, before backoff) */
    unsigned backoff;         /* icsk_backoff */
    unsigned retransmits;     /* icsk_retransmits (consecutive RTOs) */
    unsigned pending_timer;   /* icsk_pending: 0 none, 1 RTO, 3 zero-window probe, 5 loss probe */
    vns_time_t timer_expires; /* when it fires (0 if not armed) */
    unsigned ack_pending;     /* icsk_ack.pending bits */
    uint64_t total_retrans;
    uint64_t bytes_acked, bytes_received;
    uint64_t segs_out, segs_in, data_segs_out, data_segs_in;
    /* data_segs_in counts skbs taken in (after GRO, one per skb); this
     * counts the segments they stand for, in the units of data_segs_out:
     * a GRO or TSO skb of N MSS-sized segments counts N (its payload over
     * gso_size, or over mss_cache without GSO metadata or when gso_size
     * is larger, rounded up). The
     * packet figures of a TCP flow (docs/reliability.md). */
    uint64_t data_segs_in_units;
    uint64_t delivered;
    uint64_t rto_events, fast_retrans_events, dsack_events;
    uint64_t delayed_acks_sent, quick_acks_sent;
    unsigned ofo_queue_len;                                    /* skbs in the out-of-order queue */
    unsigned write_queue_bytes;                                /* unsent bytes */
    unsigned size_goal;                                        /* last tcp_send_mss size goal */
    uint32_t snd_una, snd_nxt, write_seq, rcv_nxt, copied_seq; /* relative to the ISNs */
};

VNS_EXTERN int vns_tcp_get_info(const struct vns_sock *sk, struct vns_tcp_info *info);
VNS_EXTERN const char *vns_tcp_state_name(enum vns_tcp_state s);

#endif
