/* tests/support/inet_link.h -- test fixtures for the IPv4/TCP stack: a
 * host (CPUs + kernel instance + IPv4 family) and a point-to-point
 * Ethernet link between two hosts with line rate, propagation delay,
 * random or scripted loss, duplication and reordering (a "wire" of our
 * own: lib/dev's wire device is another issue's). Frames are copied into
 * the receiving kernel's skbs and delivered from a hard interrupt on the
 * receiver's CPU 0 through netif_rx (backlog, NET_RX softirq at irq_exit),
 * as a simple non-NAPI NIC would. */
#ifndef INET_LINK_H
#define INET_LINK_H

#include "support/vns_test.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/inet.h"
#include "vnetsim/socket.h"
#include "vnetsim/tcp.h"

#define INET_HOST_MAX_CPUS 4

struct inet_host {
    struct vns_sim *sim;
    struct vns_cpu *cpus[INET_HOST_MAX_CPUS];
    unsigned ncpus;
    struct vns_kernel *k;
    struct vns_inet *inet;
    struct vns_net_device *eth; /* set by inet_link_create */
};

void inet_host_init(struct inet_host *h, struct vns_sim *sim, const char *name, unsigned ncpus,
                    const struct vns_inet_config *icfg);
void inet_host_fini(struct inet_host *h);

struct inet_link;
/* Return true to drop @frame (borrowed) going from side @dir (0: a->b). */
typedef bool (*inet_link_filter_fn)(void *arg, const struct vns_skb *frame, int dir);

struct inet_link_config {
    uint64_t rate_bps;          /* 0 = 10 Gbit/s */
    vns_time_t delay;           /* one-way propagation; 0 = 10 us */
    double loss;                /* probability per frame */
    double dup;                 /* probability a frame is delivered twice */
    double reorder;             /* probability a frame is held back */
    vns_time_t reorder_delay;   /* how long a held-back frame waits; 0 = 3 frame times */
    uint64_t features;          /* NETIF_F_* of both ends; 0 = SG | HW_CSUM */
    bool no_features;           /* no offloads at all (software checksums) */
    unsigned mtu;               /* 0 = 1500 */
    unsigned tx_ring;           /* frames the NIC accepts ahead of the wire; 0 = 256 */
    bool napi;                  /* receive by NAPI + GRO (napi_gro_receive) instead of netif_rx */
    inet_link_filter_fn filter; /* scripted loss */
    void *filter_arg;
    void (*on_frame)(void *arg, const struct vns_skb *frame, int dir); /* every frame sent */
    void *on_frame_arg;
};

struct inet_link_stats {
    uint64_t frames[2], bytes[2], lost[2], dups[2], reordered[2], filtered[2];
};

/* Create eth0 on both hosts joined by a link; sets a->eth, b->eth. */
struct inet_link *inet_link_create(struct inet_host *a, struct inet_host *b,
                                   const struct inet_link_config *cfg);
/* Purge frames in flight and cancel timers (before destroying the hosts). */
void inet_link_destroy(struct inet_link *l);
const struct inet_link_stats *inet_link_stats(const struct inet_link *l);
/* Frames arrived for side !@dir not yet taken by its NIC interrupt/NAPI. */
unsigned inet_link_rx_pending(const struct inet_link *l, int dir, unsigned *napi_state,
                              unsigned *gro_count);

/* Two hosts 10.0.0.1/24 (a) and 10.0.0.2/24 (b) on one link. */
struct vns_wire;
struct vns_wire_config;

struct inet_pair {
    struct vns_sim *sim;
    struct inet_host a, b;
    struct inet_link *link; /* the test link, or NULL */
    struct vns_wire *wire;  /* or a lib/dev/wire (ixgbe-like NICs), or NULL */
};
void inet_pair_init(struct inet_pair *p, uint64_t seed, const struct inet_link_config *lcfg,
                    const struct vns_inet_config *icfg);
/* The same pair joined by lib/dev/wire ("eth0" at both ends, up, addressed). */
void inet_pair_init_wire(struct inet_pair *p, uint64_t seed, const struct vns_wire_config *wcfg,
                         const struct vns_inet_config *icfg);
void inet_pair_fini(struct inet_pair *p);

/* Recompute the IPv4 header checksum and the TCP/UDP checksum (over the
 * pseudo-header and the whole segment) of an Ethernet frame. Returns the
 * IP protocol (0 if not IPv4) in *proto and the L4 length in *l4len; true
 * if every checksum present verifies. */
bool inet_frame_checksums_ok(const struct vns_skb *frame, uint8_t *proto, unsigned *l4len);

/* A UDP socket of @h bound to @port on any address. */
struct vns_sock *inet_udp_bound(struct inet_host *h, uint16_t port);

#define INET_ADDR_A VNS_IPV4(10, 0, 0, 1)
#define INET_ADDR_B VNS_IPV4(10, 0, 0, 2)

#endif
