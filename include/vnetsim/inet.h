/* vnetsim -- the IPv4 protocol family of a kernel instance (struct net's
 * ipv4 part): interface addresses, the routing table, the ARP neighbour
 * table, IPv4 input and output, and the socket tables of UDP and TCP.
 *
 * One struct vns_inet per struct vns_kernel (host or guest); creating it
 * registers ip_rcv (ETH_P_IP) and arp_rcv (ETH_P_ARP) with dev_add_pack, as
 * inet_init and arp_init do. LINUX: net/ipv4/af_inet.c (inet_init),
 * devinet.c (in_device, ifa), fib_frontend.c + fib_trie.c (routes),
 * route.c (ip_route_output_key_hash), arp.c + net/core/neighbour.c,
 * ip_output.c, ip_input.c, icmp.c, udp.c, tcp*.c.
 *
 * Addresses are host-order uint32_t (10.0.0.1 = 0x0a000001), ports
 * host-order uint16_t. Sysctls are the kernel's defaults (cited in
 * lib/net/inet_int.h); 0 in the config means "default". */
#ifndef VNETSIM_INET_H
#define VNETSIM_INET_H

#include "vnetsim/common.h"
#include "vnetsim/skb.h"

struct vns_kernel;
struct vns_net_device;
struct vns_inet;
struct vns_sock;

#define VNS_IPV4(a, b, c, d)                                                                       \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

struct vns_inet_config {
    unsigned ip_default_ttl; /* net.ipv4.ip_default_ttl, 64 */
    bool ip_no_pmtu_disc;    /* net.ipv4.ip_no_pmtu_disc, 0: DF set on TCP/UDP */
    /* net.ipv4.tcp_* (tcp_sk_init in net/ipv4/tcp_ipv4.c, tcp.c tcp_init) */
    unsigned tcp_wmem[3];               /* 4096 16384 4194304 */
    unsigned tcp_rmem[3];               /* 4096 131072 6291456 */
    int tcp_autocorking;                /* 1; -1 = off */
    int tcp_sack;                       /* 1; -1 = off */
    int tcp_timestamps;                 /* 1; -1 = off */
    int tcp_window_scaling;             /* 1; -1 = off */
    unsigned tcp_limit_output_bytes;    /* 1 MiB (5.4: 1048576) */
    unsigned tcp_min_tso_segs;          /* 2 */
    unsigned tcp_tso_win_divisor;       /* 3 */
    unsigned tcp_init_cwnd;             /* TCP_INIT_CWND 10 (a route metric in Linux) */
    const char *tcp_congestion_control; /* "cubic" (5.4 default), "reno" */
    /* SO_RCVBUF/SO_SNDBUF (net.core.*mem_default 212992) for UDP */
    unsigned udp_rmem_default;
    unsigned udp_wmem_default;
    bool skip_payload_verify; /* receivers do not regenerate and compare payload */
    bool materialize_payload; /* transmitted skbs carry real payload bytes (DESIGN.md 4:
                                 materialized mode) */
};

VNS_EXTERN int vns_inet_create(struct vns_kernel *k, const struct vns_inet_config *cfg,
                               struct vns_inet **out);
/* Close every socket (no packets are sent), free queued packets, cancel
 * timers, unregister the packet handlers. NULL is a no-op. Call before
 * vns_kernel_destroy. */
VNS_EXTERN void vns_inet_destroy(struct vns_inet *inet);
VNS_EXTERN struct vns_kernel *vns_inet_kernel(const struct vns_inet *inet);
VNS_EXTERN const struct vns_inet_config *vns_inet_config(const struct vns_inet *inet);

/* --- addresses and routes (devinet.c, fib_frontend.c, fib_trie.c) ------- */

/* inet_insert_ifa + fib_add_ifaddr: @addr/@plen on @dev; adds the local
 * route and the prefix route (scope link). -VNS_EEXIST, -VNS_ENOSPC. */
VNS_EXTERN int vns_inet_addr_add(struct vns_inet *inet, struct vns_net_device *dev, uint32_t addr,
                                 unsigned plen);
/* ip route add @dst/@plen [via @gw] dev @dev [metric @metric]; @gw 0 =
 * directly connected. -VNS_EEXIST (same dst/plen/metric), -VNS_ENOSPC. */
VNS_EXTERN int vns_inet_route_add(struct vns_inet *inet, uint32_t dst, unsigned plen, uint32_t gw,
                                  struct vns_net_device *dev, unsigned metric);
VNS_EXTERN int vns_inet_route_del(struct vns_inet *inet, uint32_t dst, unsigned plen,
                                  unsigned metric);

enum vns_rtn_type {
    VNS_RTN_UNICAST = 1,
    VNS_RTN_LOCAL = 2,
    VNS_RTN_BROADCAST = 3,
};

/* A route lookup result (struct fib_result + rtable, reduced). */
struct vns_rtable {
    enum vns_rtn_type type;
    struct vns_net_device *dev; /* output device (NULL for LOCAL with no dev) */
    uint32_t gw;                /* next hop: the gateway, or the destination */
    uint32_t prefsrc;           /* source address to use */
    unsigned plen;              /* prefix length of the matching route */
    unsigned mtu;               /* dev->mtu (no PMTU cache) */
};

/* ip_route_output_key: longest prefix match, lower metric wins between
 * equal prefixes. 0 or -VNS_EHOSTUNREACH (the kernel's -ENETUNREACH). */
VNS_EXTERN int vns_ip_route_output(struct vns_inet *inet, uint32_t daddr, struct vns_rtable *rt);
/* True if @addr is one of this kernel's addresses (inet_addr_type LOCAL). */
VNS_EXTERN bool vns_inet_addr_is_local(const struct vns_inet *inet, uint32_t addr);

/* --- neighbours (net/core/neighbour.c, net/ipv4/arp.c) ------------------ */

/* NUD_* states (include/uapi/linux/neighbour.h). */
#define VNS_NUD_INCOMPLETE 0x01
#define VNS_NUD_REACHABLE  0x02
#define VNS_NUD_STALE      0x04
#define VNS_NUD_DELAY      0x08
#define VNS_NUD_PROBE      0x10
#define VNS_NUD_FAILED     0x20
#define VNS_NUD_NOARP      0x40
#define VNS_NUD_PERMANENT  0x80
#define VNS_NUD_NONE       0x00
#define VNS_NUD_VALID                                                                              \
    (VNS_NUD_PERMANENT | VNS_NUD_NOARP | VNS_NUD_REACHABLE | VNS_NUD_PROBE | VNS_NUD_STALE |       \
     VNS_NUD_DELAY)
#define VNS_NUD_CONNECTED (VNS_NUD_PERMANENT | VNS_NUD_NOARP | VNS_NUD_REACHABLE)

struct vns_neigh_info {
    unsigned nud_state;
    uint8_t ha[6];
    unsigned arp_queue_len; /* packets waiting for resolution */
    unsigned probes;
};

/* The neighbour entry of (@dev, @ip): 0 and *info, or -VNS_ENOENT. */
VNS_EXTERN int vns_neigh_get(const struct vns_inet *inet, const struct vns_net_device *dev,
                             uint32_t ip, struct vns_neigh_info *info);
/* ip neigh replace @ip lladdr @ha nud permanent dev @dev. */
VNS_EXTERN int vns_neigh_add_permanent(struct vns_inet *inet, struct vns_net_device *dev,
                                       uint32_t ip, const uint8_t *ha);

/* --- counters (SNMP MIBs: /proc/net/snmp, netstat) ---------------------- */

struct vns_inet_stats {
    /* IPSTATS_MIB_* */
    uint64_t ip_in_receives, ip_in_hdr_errors, ip_in_addr_errors, ip_in_unknown_protos;
    uint64_t ip_in_discards, ip_in_delivers, ip_in_truncated, ip_in_csum_errors;
    uint64_t ip_out_requests, ip_out_no_routes, ip_out_discards;
    uint64_t ip_frag_fails;  /* DF set and larger than the MTU: refused */
    uint64_t ip_frag_needed; /* ICMP FRAG_NEEDED reported to the local sender */
    /* ICMP */
    uint64_t icmp_out_msgs, icmp_in_msgs, icmp_out_dest_unreachs;
    /* ARP / neighbour table (struct neigh_statistics) */
    uint64_t arp_requests_sent, arp_replies_sent, arp_requests_rcvd, arp_replies_rcvd;
    uint64_t arp_rcv_errors; /* malformed or not for us */
    uint64_t neigh_allocs, neigh_res_failed, neigh_unres_discards, neigh_lookups;
    /* UDP_MIB_* */
    uint64_t udp_in_datagrams, udp_no_ports, udp_in_errors, udp_rcvbuf_errors;
    uint64_t udp_sndbuf_errors, udp_out_datagrams, udp_in_csum_errors;
    /* TCP_MIB_* and LINUX_MIB_TCP* */
    uint64_t tcp_active_opens, tcp_passive_opens, tcp_attempt_fails, tcp_estab_resets;
    uint64_t tcp_in_segs, tcp_out_segs, tcp_retrans_segs, tcp_in_errs, tcp_in_csum_errors;
    uint64_t tcp_out_rsts, tcp_no_socket;
    uint64_t tcp_delayed_acks, tcp_quick_acks;
    uint64_t tcp_backlog_queued, tcp_ofo_queue, tcp_ofo_drop, tcp_rcv_pruned;
    uint64_t tcp_fast_retrans, tcp_timeouts, tcp_loss_probes, tcp_sack_recovery, tcp_reno_recovery;
    uint64_t tcp_dsack_recv, tcp_dup_data_rcvd, tcp_sack_blocks_rcvd;
    uint64_t tcp_autocorking, tcp_tsq_throttled, tcp_nagle_deferred, tcp_tso_deferred;
    uint64_t tcp_tsq_queued;   /* tcp_wfree put a throttled socket on a tsq tasklet */
    uint64_t tcp_tsq_deferred; /* tcp_tsq_handler found it owned: TCP_TSQ_DEFERRED */
    uint64_t tcp_rwnd_limited, tcp_cwnd_limited;
    uint64_t tcp_zero_window_probes, tcp_loss_probe_fired, tcp_hystart_exits;
    uint64_t tcp_full_undo, tcp_dsack_undo, tcp_loss_undo; /* spurious reductions undone */
    uint64_t tcp_ack_compressed;    /* SACKs not sent thanks to SACK compression */
    uint64_t tcp_rack_reo_timeouts; /* RACK reordering timer expiries */
    /* payload verification at receivers (model only) */
    uint64_t payload_bytes_verified, payload_mismatches;
};

VNS_EXTERN const struct vns_inet_stats *vns_inet_stats(const struct vns_inet *inet);

/* --- IPv4 entry points ---------------------------------------------------- */

/* The source/destination of a flow: its synthetic payload content id, a
 * fixed function of the 4-tuple, so the receiver can regenerate it. */
VNS_EXTERN uint64_t vns_inet_flow_id(uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport,
                                     uint8_t proto);

/* ip_rcv: the ETH_P_IP handler (registered by vns_inet_create; exposed
 * for tests and fuzzing). Consumes @skb (data at the IPv4 header). */
VNS_EXTERN int vns_ip_rcv(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev,
                          void *inet);
/* arp_rcv. Consumes @skb (data at the ARP header). */
VNS_EXTERN int vns_arp_rcv(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev,
                           void *inet);

/* Send an IPv4 datagram carrying @skb's data (the L4 header and payload,
 * data at the L4 header, transport header set) from @saddr (0 = pick) to
 * @daddr: route, build the IP header, ip_local_out. For raw tests and
 * ICMP. Consumes @skb. 0, -VNS_EHOSTUNREACH, -VNS_EMSGSIZE, or a
 * positive NET_XMIT_ code from the device. */
VNS_EXTERN int vns_ip_send_raw(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb,
                               uint32_t saddr, uint32_t daddr, uint8_t protocol, bool df);

/* Headroom every locally generated IPv4 packet reserves (MAX_TCP_HEADER:
 * L1_CACHE_ALIGN(128 + MAX_HEADER) with MAX_HEADER = LL_MAX_HEADER 32 +
 * 48 for tunnels: 256 in the model). */
#define VNS_MAX_TCP_HEADER 256u

#endif
