/* lib/net/inet_int.h -- private to vnetsim: the IPv4 family of a kernel
 * (addresses, routes, neighbours, sockets) shared by route.c, neigh.c,
 * arp.c, ip_output.c, ip_input.c, icmp.c, udp.c, tcp*.c and socket.c.
 *
 * Defaults cited from linux-5.4: net/ipv4/arp.c (arp_tbl), tcp_ipv4.c
 * (tcp_sk_init), tcp.c (tcp_init: tcp_wmem/tcp_rmem), af_inet.c
 * (ip_default_ttl = IPDEFTTL 64), net/core/sock.c (SK_WMEM_MAX/SK_RMEM_MAX
 * 212992 = net.core.{w,r}mem_default). */
#ifndef VNETSIM_INET_INT_H
#define VNETSIM_INET_INT_H

#include "net_int.h"
#include "vnetsim/inet.h"
#include "vnetsim/socket.h"
#include "vnetsim/tcp.h"
#include "vnetsim/proto/if_ether.h"
#include "vnetsim/proto/ip.h"
#include "vnetsim/proto/tcp.h"
#include "vnetsim/proto/udp.h"

#define INET_MAX_IFA    16
#define INET_MAX_ROUTES 64
#define INET_SK_MEM_MAX 212992u /* SK_WMEM_MAX / SK_RMEM_MAX (net/core/sock.c) */

/* arp_tbl.parms (net/ipv4/arp.c) */
#define ARP_UCAST_PROBES        3
#define ARP_MCAST_PROBES        3
#define ARP_RETRANS_TIME        VNS_SEC(1)
#define ARP_BASE_REACHABLE_TIME VNS_SEC(30)
#define ARP_DELAY_PROBE_TIME    VNS_SEC(5)
#define ARP_QUEUE_LEN_BYTES     INET_SK_MEM_MAX /* unres_qlen_bytes */

/* ARP wire format (include/uapi/linux/if_arp.h) */
#define ARPHRD_ETHER  1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY   2
#define ARP_HLEN      28

struct inet_ifaddr {
    struct vns_net_device *dev;
    uint32_t addr;
    uint32_t mask;
    unsigned plen;
};

struct fib_route {
    uint32_t dst;
    uint32_t mask;
    unsigned plen;
    uint32_t gw;
    struct vns_net_device *dev;
    unsigned metric;
    uint32_t prefsrc;
    enum vns_rtn_type type;
};

#define VNS_SK_CACHE_MIN 16u

struct vns_neighbour {
    struct vns_neighbour *next;
    struct vns_neighbour *hnext;   /* chain in inet->neigh_hash */
    struct vns_inet *inet;
    struct vns_net_device *dev;
    uint32_t ip;
    unsigned nud_state;
    uint8_t ha[VNS_ETH_ALEN];
    struct vns_skb_head arp_queue; /* packets waiting for resolution */
    uint32_t arp_queue_len_bytes;
    unsigned probes;
    vns_time_t confirmed; /* last reachability confirmation */
    vns_time_t updated;
    vns_time_t used;
    vns_time_t reachable_time; /* randomised base_reachable_time */
    struct vns_timer_list timer;
    bool dead;
};

/* Socket memory accounting: SKB_TRUESIZE(X) = X + the aligned sk_buff and
 * skb_shared_info (256 + 320 bytes on x86-64, include/linux/skbuff.h). */
#define INET_SKB_OVERHEAD 576u

/* TCP control block in skb->cb (struct tcp_skb_cb). */
struct tcp_skb_cb {
    uint32_t seq;
    uint32_t end_seq;
    uint8_t tcp_flags;
    uint8_t sacked;  /* TCPCB_* */
    uint16_t pcount; /* tcp_skb_pcount */
    uint32_t truesize;
    vns_time_t tx_time; /* skb_mstamp of the last transmission */
};
#define TCPCB_SACKED_ACKED   0x01
#define TCPCB_SACKED_RETRANS 0x02
#define TCPCB_LOST           0x04
#define TCPCB_EVER_RETRANS   0x80
_Static_assert(sizeof(struct tcp_skb_cb) <= VNS_SKB_CB_SIZE, "tcp_skb_cb fits skb->cb");
static inline struct tcp_skb_cb *TCP_SKB_CB(struct vns_skb *skb)
{
    return (struct tcp_skb_cb *)(void *)skb->cb;
}

/* UDP / IP receive control block. */
struct inet_rx_cb {
    uint32_t saddr;
    uint16_t sport;
    uint32_t truesize;
};
static inline struct inet_rx_cb *INET_RX_CB(struct vns_skb *skb)
{
    return (struct inet_rx_cb *)(void *)skb->cb;
}

/* Congestion control ops (struct tcp_congestion_ops, reduced). */
struct vns_tcp;
struct tcp_cong_ops {
    const char *name;
    void (*init)(struct vns_sock *sk);
    uint32_t (*ssthresh)(struct vns_sock *sk);
    void (*cong_avoid)(struct vns_sock *sk, uint32_t ack, uint32_t acked);
    void (*set_state)(struct vns_sock *sk, uint8_t new_state);
    void (*cwnd_event_tx_start)(struct vns_sock *sk);
    void (*pkts_acked)(struct vns_sock *sk, uint32_t acked, int64_t rtt_us);
    uint32_t (*undo_cwnd)(struct vns_sock *sk);
};
extern const struct tcp_cong_ops vns__tcp_reno;
extern const struct tcp_cong_ops vns__tcp_cubic;

/* bictcp state of tcp_cubic.c */
struct cubic_state {
    uint32_t cnt;
    uint32_t last_max_cwnd;
    uint32_t last_cwnd;
    uint32_t last_time; /* jiffies-like ms */
    uint32_t bic_origin_point;
    uint32_t bic_K;
    uint32_t delay_min;   /* us */
    uint32_t epoch_start; /* ms; 0 = not started */
    uint32_t ack_cnt;
    uint32_t tcp_cwnd;
    /* HyStart */
    uint8_t found;
    uint32_t round_start, end_seq, last_ack, curr_rtt;
    uint8_t sample_cnt;
};

struct vns_tcp {
    uint8_t state; /* enum vns_tcp_state */
    uint8_t ca_state;
    uint32_t iss, irs;
    /* send sequence space */
    uint32_t snd_una, snd_nxt, write_seq, pushed_seq, snd_wl1, snd_wnd, max_window, snd_sml;
    uint32_t high_seq;      /* snd_nxt at the start of recovery/loss */
    uint32_t tlp_high_seq;  /* snd_nxt when a TLP retransmission went out, 0 = none */
    uint32_t undo_marker;   /* snd_una when a reduction began; 0 = nothing to undo */
    int undo_retrans;       /* retransmissions not yet proven spurious; -1 = none */
    uint32_t retrans_stamp; /* TS value of the first retransmission, 0 = none */
    /* receive sequence space */
    uint32_t rcv_nxt, copied_seq, rcv_wup, rcv_wnd, rcv_ssthresh, window_clamp;
    /* options */
    unsigned mss_cache, advmss, mss_clamp, rcv_mss, user_mss;
    uint8_t snd_wscale, rcv_wscale;
    bool wscale_ok, sack_ok, tstamp_ok;
    uint32_t ts_recent, rcv_tsecr;
    bool saw_tstamp;
    uint32_t tsoffset;
    /* SACK blocks we advertise */
    struct {
        uint32_t start, end;
    } selective_acks[4];
    unsigned num_sacks;
    struct {
        uint32_t start, end;
    } dsack;
    bool dsack_pending;
    /* congestion control */
    uint32_t snd_cwnd, snd_ssthresh, snd_cwnd_cnt, snd_cwnd_clamp, prior_cwnd, prior_ssthresh;
    uint32_t packets_out, sacked_out, lost_out, retrans_out;
    uint32_t prr_delivered, prr_out;
    uint32_t delivered;
    uint32_t reordering;
    unsigned dupacks; /* Reno-style duplicate ACK count (no SACK) */
    const struct tcp_cong_ops *ca_ops;
    struct cubic_state cubic;
    bool is_cwnd_limited;
    uint32_t max_packets_out;
    /* RACK (tcp_recovery.c): the most recently sent delivered segment */
    struct {
        vns_time_t mstamp;
        uint32_t end_seq;
        vns_time_t rtt;
        bool reord;
    } rack;
    vns_time_t min_rtt; /* windowed min in Linux; all-time min here */
    /* RTT / RTO (RFC 6298, tcp_rtt_estimator) in us */
    uint32_t srtt_us; /* << 3 */
    uint32_t mdev_us, mdev_max_us, rttvar_us;
    uint32_t rtt_seq;
    vns_time_t rto;
    unsigned backoff, retransmits;
    uint8_t pending; /* ICSK_TIME_RETRANS / PROBE0 */
    /* delayed ACK (struct inet_connection_sock icsk_ack) */
    uint8_t ack_pending; /* ICSK_ACK_* */
    uint8_t quick;
    bool pingpong;
    vns_time_t ato;
    vns_time_t lrcvtime;
    unsigned last_seg_size;
    /* output */
    uint8_t nonagle;
    bool cork;
    unsigned size_goal;
    uint32_t lsndtime_ms;
    vns_time_t lsndtime;
    vns_time_t tso_deferred; /* tcp_tso_should_defer start (0 = none) */
    /* queues */
    struct vns_skb_head write_queue; /* all not-yet-acked data: rtx part then unsent */
    struct vns_skb *send_head;       /* first unsent skb in write_queue */
    struct vns_skb_head ofo_queue;   /* out of order, sorted by seq */
    /* timers */
    struct vns_timer_list retransmit_timer;
    struct vns_timer_list delack_timer;
    struct vns_timer_list keepalive_timer; /* TIME_WAIT / orphan FIN_WAIT2 */
    struct vns_timer compressed_ack_timer; /* hrtimer: SACK compression (5.4) */
    unsigned compressed_ack;
    uint32_t compressed_ack_rcv_nxt;
    /* receive buffer autotuning (tcp_rcv_space_adjust) */
    struct {
        uint32_t space, seq;
        vns_time_t time;
    } rcvq_space;
    /* listener */
    struct vns_sock *accept_head, *accept_tail;
    unsigned accept_qlen, max_ack_backlog;
    struct vns_sock *parent; /* listener of a not-yet-accepted child */
    struct vns_sock *accept_next;
    /* counters */
    struct vns_tcp_info info;
    uint64_t bytes_acked;
    unsigned syn_retries;
};

#define ICSK_ACK_SCHED        1
#define ICSK_ACK_TIMER        2
#define ICSK_ACK_PUSHED       4
#define ICSK_ACK_PUSHED2      8
#define ICSK_ACK_NOW          16
#define ICSK_TIME_RETRANS     1
#define ICSK_TIME_PROBE0      3
#define ICSK_TIME_REO_TIMEOUT 4
#define ICSK_TIME_LOSS_PROBE  5
#define RCV_SHUTDOWN          1
#define SEND_SHUTDOWN         2

struct vns_sock {
    uint32_t sk_cache_slot;    /* 1 + its slot in inet->sk_cache; 0 = none */
    struct vns_inet *inet;
    struct vns_sock *next; /* inet's socket list */
    enum vns_sock_type type;
    uint8_t protocol;
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    unsigned cpu;
    bool bound;
    bool connected; /* UDP: default destination set */
    bool nonblock;
    bool user_closed; /* descriptor released (orphan) */
    bool freed;
    int sk_err;
    uint8_t shutdown;
    struct vns_ctx *waiter; /* sk_sleep: one waiting context */
    /* SOCK_NOSPACE: a UDP send found sk_wmem_alloc >= sk_sndbuf; the
     * waiter (if any) sleeps in sock_wait_for_wmem until sock_wfree's
     * sk_write_space finds half the buffer free */
    bool nospace;
    unsigned sndbuf, rcvbuf;
    bool userlocks_snd, userlocks_rcv; /* SOCK_SNDBUF_LOCK / SOCK_RCVBUF_LOCK */
    uint32_t rmem_alloc, wmem_queued;
    /* sk_wmem_alloc, a refcount as in the kernel: 1 for the socket itself
     * (sk_alloc) + the truesize of its transmitted skbs not yet freed or
     * orphaned below TCP (skb_set_owner_w / tcp_wfree); 1 more while the
     * socket waits on a TSQ tasklet list. The memory is released when it
     * drops to 0 (__sk_free), so a closed socket outlives its skbs. */
    uint32_t wmem_alloc;
    unsigned long tsq_flags;   /* sk_tsq_flags: TSQF_* */
    struct vns_sock *tsq_next; /* tsq_node: on a CPU's tsq_tasklet list */
    struct vns_skb_head receive_queue;
    bool owned_by_user; /* lock_sock held by a syscall */
    struct vns_skb_head backlog;
    uint32_t backlog_len;
    uint64_t tx_flow, rx_flow; /* synthetic payload ids */
    struct vns_flow_book *fbook; /* the flow books of what it sends, or NULL */
    uint64_t rx_stream_off;    /* TCP: bytes read so far (64-bit stream offset); UDP: unused */
    uint8_t tos;
    uint32_t priority;
    uint16_t inet_id; /* IP id of DF packets of a connected socket */
    struct vns_sock_stats st;
    struct vns_tcp *tp; /* TCP only */
};

/* sk_tsq_flags bits (include/linux/tcp.h, 5.4) */
#define TSQF_THROTTLED    (1ul << 0)
#define TSQF_QUEUED       (1ul << 1)
#define TCPF_TSQ_DEFERRED (1ul << 2)

/* Per-CPU struct tsq_tasklet (net/ipv4/tcp_output.c): sockets whose
 * transmitted skbs were freed while TSQ_THROTTLED, for tcp_tasklet_func. */
struct tsq_tasklet {
    struct vns_inet *inet;
    unsigned cpu;          /* index in the kernel's CPUs */
    struct vns_sock *head; /* list_add order: newest first */
    struct vns_sock *run;  /* spliced list being handled (one per step) */
};

struct vns_inet {
    struct vns_kernel *k;
    struct vns_sim *sim;
    struct vns_inet_config cfg;
    struct inet_ifaddr ifa[INET_MAX_IFA];
    unsigned nifa;
    struct fib_route routes[INET_MAX_ROUTES];
    unsigned nroutes;
    struct vns_neighbour *neighs;
    /* neigh_hash (net/core/neighbour.c's nht, which also doubles as it
     * fills): a host on a bridge with 1,000 guests holds 1,000
     * neighbours, and every transmit looks one up. Chains by address; the
     * list above keeps creation order. */
    struct vns_neighbour **neigh_hash;
    uint32_t neigh_hash_shift;     /* 1 << shift buckets; 0 = none yet */
    unsigned nneigh;
    struct vns_sock *socks;
    /* Established TCP sockets by 4-tuple, direct-mapped (the kernel's
     * inet_ehash): every segment received looks its socket up. Allocated
     * at the first lookup; cleared when a socket is added (a new socket
     * may take precedence in list order) and a slot when its socket goes. */
    struct vns_sock **sk_cache;
    uint32_t sk_cache_size;    /* a power of two, >= 4 x nsocks */
    uint32_t nsocks;
    uint16_t next_ephemeral; /* ip_local_port_range 32768..60999 */
    uint16_t ip_id;
    struct vns_rng rng;      /* ISNs, reachable_time */
    struct tsq_tasklet *tsq; /* one per CPU of k (TASKLET_SOFTIRQ action) */
    unsigned ntsq;
    struct vns_inet_stats stats;
};

/* route.c */
struct inet_ifaddr *vns__inet_ifa_for_dev(struct vns_inet *inet, const struct vns_net_device *dev);
/* neigh.c / arp.c */
struct vns_neighbour *vns__neigh_lookup(struct vns_inet *inet, const struct vns_net_device *dev,
                                        uint32_t ip);
struct vns_neighbour *vns__neigh_create(struct vns_inet *inet, struct vns_net_device *dev,
                                        uint32_t ip);
int vns__neigh_output(struct vns_ctx *ctx, struct vns_neighbour *n, struct vns_skb *skb);
void vns__neigh_update(struct vns_ctx *ctx, struct vns_neighbour *n, const uint8_t *lladdr,
                       unsigned state);
void vns__neigh_destroy_all(struct vns_inet *inet);
void vns__arp_send(struct vns_ctx *ctx, struct vns_inet *inet, int op, struct vns_net_device *dev,
                   uint32_t dest_ip, uint32_t src_ip, const uint8_t *dest_hw,
                   const uint8_t *target_hw);
/* ip_output.c */
int vns__ip_queue_xmit(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb);
int vns__ip_local_out(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb,
                      const struct vns_rtable *rt);
void vns__ip_build_header(struct vns_inet *inet, struct vns_sock *sk, struct vns_skb *skb,
                          uint32_t saddr, uint32_t daddr, uint8_t proto, uint8_t tos, bool df,
                          unsigned segs);
/* icmp.c */
void vns__icmp_send(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb_in,
                    uint8_t type, uint8_t code, uint32_t info);
int vns__icmp_rcv(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb);
/* ping.c: an ICMP echo reply (data at the ICMP header). Consumes @skb. */
int vns__ping_rcv(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb);
/* udp.c */
int vns__udp_rcv(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb);
long vns__udp_sendmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags,
                      const struct vns_sockaddr_in *to);
long vns__udp_recvmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags,
                      struct vns_sockaddr_in *from);
/* tcp*.c */
int vns__tcp_v4_rcv(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb);
int vns__tcp_init_sock(struct vns_sock *sk);
void vns__tcp_free_sock(struct vns_sock *sk);
int vns__tcp_connect(struct vns_ctx *ctx, struct vns_sock *sk, const struct vns_sockaddr_in *addr);
long vns__tcp_sendmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags);
long vns__tcp_recvmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags);
void vns__tcp_close(struct vns_ctx *ctx, struct vns_sock *sk);
int vns__tcp_shutdown(struct vns_ctx *ctx, struct vns_sock *sk, int how_mask);
int vns__tcp_accept(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_sock **out);
int vns__tcp_listen(struct vns_sock *sk, int backlog);
/* socket.c */
/* sock_sendmsg: the protocol's sendmsg under the sock_sendmsg and
 * inet_sendmsg frames (for the system calls of socket.c and sendmsg.c). */
long vns__sock_sendmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags,
                       const struct vns_sockaddr_in *to);
struct vns_sock *vns__sock_alloc(struct vns_inet *inet, enum vns_sock_type type, unsigned cpu);
void vns__sock_free(struct vns_sock *sk);
void vns__sk_wake(struct vns_ctx *ctx, struct vns_sock *sk);
int vns__sk_wait(struct vns_ctx *ctx, struct vns_sock *sk);
uint16_t vns__inet_ephemeral_port(struct vns_inet *inet, uint8_t proto, uint32_t saddr);
struct vns_sock *vns__sk_lookup(struct vns_inet *inet, uint8_t proto, uint32_t saddr,
                                uint16_t sport, uint32_t daddr, uint16_t dport);
void vns__lock_sock(struct vns_ctx *ctx, struct vns_sock *sk);
void vns__release_sock(struct vns_ctx *ctx, struct vns_sock *sk);
void vns__tcp_backlog_rcv(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb);
bool vns__payload_verify(struct vns_inet *inet, const struct vns_skb *skb, uint32_t off,
                         uint32_t len, uint64_t flow, uint64_t stream_off);

static inline vns_time_t inet_now(const struct vns_ctx *ctx, const struct vns_inet *inet)
{
    return ctx ? vns_ctx_now(ctx) : vns_sim_now(inet->sim);
}

/* Sequence number arithmetic (include/net/tcp.h before(), after()). */
static inline bool tcp_before(uint32_t s1, uint32_t s2)
{
    return (int32_t)(s1 - s2) < 0;
}
#define tcp_after(s2, s1) tcp_before(s1, s2)

#endif

/* --- TCP internals shared by tcp.c, tcp_output.c, tcp_input.c, tcp_timer.c,
 * tcp_cong.c --------------------------------------------------------------- */
#ifndef VNETSIM_TCP_INTERNALS
#define VNETSIM_TCP_INTERNALS

/* TCP options (include/net/tcp.h) */
#define TCPOPT_EOL             0
#define TCPOPT_NOP             1
#define TCPOPT_MSS             2
#define TCPOPT_WINDOW          3
#define TCPOPT_SACK_PERM       4
#define TCPOPT_SACK            5
#define TCPOPT_TIMESTAMP       8
#define TCPOLEN_MSS            4
#define TCPOLEN_WINDOW         3
#define TCPOLEN_SACK_PERM      2
#define TCPOLEN_TIMESTAMP      10
#define TCPOLEN_TSTAMP_ALIGNED 12

/* Parsed options of a received segment (tcp_parse_options). */
struct tcp_rx_opts {
    bool saw_tstamp, sack_ok, wscale_ok;
    uint16_t mss;
    uint8_t snd_wscale;
    uint32_t rcv_tsval, rcv_tsecr;
    unsigned num_sacks;
    struct {
        uint32_t start, end;
    } sacks[4];
};

/* FLAG_* of tcp_input.c */
#define FLAG_DATA               0x01
#define FLAG_WIN_UPDATE         0x02
#define FLAG_DATA_ACKED         0x04
#define FLAG_RETRANS_DATA_ACKED 0x08
#define FLAG_SYN_ACKED          0x10
#define FLAG_DATA_SACKED        0x20
#define FLAG_ECE                0x40
#define FLAG_LOST_RETRANS       0x80
#define FLAG_SLOWPATH           0x100
#define FLAG_ORIG_SACK_ACKED    0x200
#define FLAG_SND_UNA_ADVANCED   0x400
#define FLAG_DSACKING_ACK       0x800
#define FLAG_SET_XMIT_TIMER     0x1000
#define FLAG_ACKED              (FLAG_DATA_ACKED | FLAG_SYN_ACKED)
#define FLAG_NOT_DUP            (FLAG_DATA | FLAG_WIN_UPDATE | FLAG_ACKED)
#define FLAG_CA_ALERT           (FLAG_DATA_SACKED | FLAG_ECE | FLAG_DSACKING_ACK)
#define FLAG_FORWARD_PROGRESS   (FLAG_ACKED | FLAG_DATA_SACKED)

static inline uint32_t tcp_jiffies32(const struct vns_ctx *ctx, const struct vns_sock *sk)
{
    return (uint32_t)(inet_now(ctx, sk->inet) / VNS_MSEC(1)); /* HZ = 1000 */
}
static inline uint32_t tcp_packets_in_flight(const struct vns_tcp *tp)
{
    return tp->packets_out - (tp->sacked_out + tp->lost_out) + tp->retrans_out;
}
static inline bool tcp_in_slow_start(const struct vns_tcp *tp)
{
    return tp->snd_cwnd < tp->snd_ssthresh;
}
static inline uint32_t tcp_wnd_end(const struct vns_tcp *tp)
{
    return tp->snd_una + tp->snd_wnd;
}
static inline uint32_t tcp_receive_window(const struct vns_tcp *tp)
{
    int32_t win = (int32_t)(tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt);

    return win < 0 ? 0 : (uint32_t)win;
}
static inline unsigned tcp_skb_pcount(struct vns_skb *skb)
{
    return TCP_SKB_CB(skb)->pcount;
}
/* tcp_win_from_space with tcp_adv_win_scale = 1 */
static inline int tcp_win_from_space(int space)
{
    return space - (space >> 1);
}
#define TCP_INFINITE_SSTHRESH 0x7fffffffu

/* tcp.c */
void vns__tcp_set_state(struct vns_ctx *ctx, struct vns_sock *sk, int state);
void vns__tcp_done(struct vns_ctx *ctx, struct vns_sock *sk);
void vns__tcp_init_buffer_space(struct vns_sock *sk);
void vns__tcp_rcv_space_adjust(struct vns_ctx *ctx, struct vns_sock *sk);
void vns__tcp_trim_head(struct vns_skb *skb, uint32_t len);
void vns__tcp_sync_mss(struct vns_sock *sk, unsigned pmtu);
void vns__tcp_connect_init(struct vns_sock *sk, unsigned mtu);
void vns__tcp_new_space(struct vns_ctx *ctx, struct vns_sock *sk);
/* tcp_output.c */
unsigned vns__tcp_current_mss(struct vns_sock *sk);
unsigned vns__tcp_send_mss(struct vns_sock *sk, unsigned *size_goal, int flags);
void vns__tcp_push(struct vns_ctx *ctx, struct vns_sock *sk, int flags, unsigned mss_now,
                   int nonagle, unsigned size_goal);
void vns__tcp_push_one(struct vns_ctx *ctx, struct vns_sock *sk, unsigned mss_now);
void vns__tcp_push_pending_frames(struct vns_ctx *ctx, struct vns_sock *sk, unsigned cur_mss,
                                  int nonagle);
bool vns__tcp_write_xmit(struct vns_ctx *ctx, struct vns_sock *sk, unsigned mss_now, int nonagle,
                         int push_one);
int vns__tcp_transmit_skb(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb,
                          bool clone_it, uint32_t rcv_nxt);
void vns__tcp_send_ack(struct vns_ctx *ctx, struct vns_sock *sk);
void vns__tcp_send_delayed_ack(struct vns_ctx *ctx, struct vns_sock *sk);
int vns__tcp_send_syn(struct vns_ctx *ctx, struct vns_sock *sk, bool synack);
void vns__tcp_send_fin(struct vns_ctx *ctx, struct vns_sock *sk);
void vns__tcp_send_active_reset(struct vns_ctx *ctx, struct vns_sock *sk);
void vns__tcp_xmit_probe_skb(struct vns_ctx *ctx, struct vns_sock *sk);
bool vns__tcp_schedule_loss_probe(struct vns_ctx *ctx, struct vns_sock *sk, bool advancing_rto);
void vns__tcp_send_loss_probe(struct vns_ctx *ctx, struct vns_sock *sk);
int vns__tcp_retransmit_skb_raw(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb,
                                unsigned segs);
void vns__tcp_v4_send_reset(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb);
int vns__tcp_retransmit_skb(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb,
                            unsigned segs);
void vns__tcp_xmit_retransmit_queue(struct vns_ctx *ctx, struct vns_sock *sk);
int vns__tcp_fragment(struct vns_sock *sk, struct vns_skb *skb, uint32_t len, unsigned mss_now);
void vns__tcp_set_skb_tso_segs(struct vns_skb *skb, unsigned mss_now);
unsigned vns__tcp_select_window(struct vns_sock *sk);
unsigned vns__tcp_select_window_raw(struct vns_sock *sk);
void vns__tcp_check_probe_timer(struct vns_sock *sk, struct vns_ctx *ctx);
/* TCP small queues: tasklets per CPU, destructors, release_cb. */
int vns__tcp_tasklet_init(struct vns_inet *inet);
void vns__tcp_tasklet_fini(struct vns_inet *inet);
void vns__tcp_wfree(struct vns_skb *skb);
void vns__tcp_release_cb(struct vns_ctx *ctx, struct vns_sock *sk);
/* A socket being freed leaves its TSQ tasklet list and drops the
 * references held for the tasklet and for tcp_release_cb (the kernel's
 * would find it closed and sk_free it). */
void vns__tcp_tsq_forget(struct vns_sock *sk);
/* sk_free: drop the socket's own sk_wmem_alloc reference. */
void vns__sk_free(struct vns_sock *sk);
/* tcp_recovery.c (called from tcp_ack) */
uint32_t vns__tcp_current_ssthresh(const struct vns_tcp *tp);
void vns__tcp_cwnd_reduction(struct vns_sock *sk, int newly_acked_sacked, int flag);
bool vns__tcp_fastretrans_alert(struct vns_ctx *ctx, struct vns_sock *sk, uint32_t prior_snd_una,
                                unsigned num_dupack, int flag);
void vns__tcp_mark_skb_lost(struct vns_tcp *tp, struct vns_skb *skb);
void vns__tcp_process_tlp_ack(struct vns_sock *sk, uint32_t ack, int flag);
void vns__tcp_rack_advance(struct vns_tcp *tp, uint8_t sacked, uint32_t end_seq,
                           vns_time_t xmit_time, vns_time_t now);
unsigned vns__tcp_sacktag_write_queue(struct vns_ctx *ctx, struct vns_sock *sk,
                                      const struct tcp_rx_opts *opt, uint32_t prior_snd_una,
                                      int *flag);
/* tcp_input.c */
int vns__tcp_v4_do_rcv(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb);
void vns__tcp_parse_options(const struct vns_skb *skb, struct tcp_rx_opts *opt);
void vns__tcp_enter_loss(struct vns_ctx *ctx, struct vns_sock *sk);
void vns__tcp_v4_mtu_reduced(struct vns_ctx *ctx, struct vns_sock *sk, unsigned mtu);
void vns__tcp_rack_reo_timeout(struct vns_ctx *ctx, struct vns_sock *sk);
void vns__tcp_incr_quickack(struct vns_sock *sk, unsigned max_quickacks);
/* tcp_timer.c */
void vns__tcp_init_xmit_timers(struct vns_sock *sk);
void vns__tcp_clear_xmit_timers(struct vns_sock *sk);
void vns__tcp_reset_xmit_timer(struct vns_ctx *ctx, struct vns_sock *sk, int what, vns_time_t when);
void vns__tcp_rearm_rto(struct vns_ctx *ctx, struct vns_sock *sk);
void vns__tcp_time_wait(struct vns_ctx *ctx, struct vns_sock *sk, vns_time_t timeo);
/* tcp_cong.c */
const struct tcp_cong_ops *vns__tcp_cong_find(const char *name);
void vns__tcp_set_ca_state(struct vns_sock *sk, uint8_t ca_state);
uint32_t vns__tcp_slow_start(struct vns_tcp *tp, uint32_t acked);
void vns__tcp_cong_avoid_ai(struct vns_tcp *tp, uint32_t w, uint32_t acked);
bool vns__tcp_is_cwnd_limited(const struct vns_tcp *tp);

#endif
