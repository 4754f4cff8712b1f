/* vnetsim -- a physical link: two NICs (one in each of two kernel
 * instances, or both in one) joined by a full-duplex wire.
 *
 * The NIC is modelled after ixgbe (drivers/net/ethernet/intel/ixgbe/
 * ixgbe_main.c): ndo_start_xmit puts frames on a TX descriptor ring
 * (stopping the queue when it is full, NETDEV_TX_BUSY when a frame does not
 * fit), hardware TSO and checksum offload; the MAC serializes one frame at
 * a time at the line rate (preamble, FCS and inter-frame gap included: 24
 * bytes per frame, 64-byte minimum); after the propagation delay the frame
 * lands in the peer's RX ring (full: rx_missed_errors) and the peer's
 * interrupt (masked while its NAPI runs) schedules NAPI; the poll cleans TX
 * completions (waking the queue) and receives one frame per step through
 * napi_gro_receive.
 * Impairments, drawn per frame and direction from the named RNG stream
 * "<wire>.<end>.impair": loss, duplication, reordering (an extra delay)
 * and corruption (one flipped bit; the receiver's FCS check drops it and
 * counts rx_crc_errors, unless fcs_check is off).
 * Simplified: one queue pair, one descriptor per frame, no interrupt
 * moderation (ITR), no flow control (pause frames), no autonegotiation. */
#ifndef VNETSIM_WIRE_H
#define VNETSIM_WIRE_H

#include "vnetsim/netdev.h"

struct vns_wire;

struct vns_wire_config {
    const char *name;          /* "wire0" (RNG streams, irq names); copied */
    uint64_t rate_bps;         /* line rate; 0 = 10 Gbit/s */
    vns_time_t delay;          /* one-way propagation delay (ns) */
    unsigned mtu;              /* both NICs; 0 = 1500 */
    double loss;               /* probability per frame, 0..1 */
    double dup;
    double reorder;
    vns_time_t reorder_delay;  /* extra delay of a reordered frame; 0 = 100 us */
    double corrupt;
    /* Gilbert-Elliott bursty loss (on when ge_p > 0): per frame the
     * direction's state moves good -> bad with ge_p, bad -> good with ge_r;
     * a frame is lost with ge_loss_bad in the bad state, ge_loss_good in
     * the good one. Mean burst length 1/ge_r frames. */
    double ge_p, ge_r, ge_loss_bad, ge_loss_good;
    bool no_fcs_check;         /* rx-all: deliver corrupted frames (CHECKSUM_NONE) */
    unsigned tx_ring;          /* descriptors; 0 = 512 */
    unsigned rx_ring;          /* 0 = 512 */
    uint64_t features;         /* NIC features; 0 = SG | HW_CSUM | TSO | GRO */
};

struct vns_wire_end {
    struct vns_kernel *k;
    const char *ifname;        /* "eth0" */
    unsigned cpu;              /* CPU (index in the kernel) of its interrupt */
};

/* Per direction (frames sent by one end). */
struct vns_wire_stats {
    uint64_t frames, bytes;    /* put on the wire */
    uint64_t lost, duplicated, reordered, corrupted;
    uint64_t burst_lost;       /* of lost: by the Gilbert-Elliott model */
    uint64_t bad_frames;       /* frames sent in the Gilbert-Elliott bad state */
    uint64_t link_down;        /* lost because the link was down (a flap) */
    uint64_t delivered;        /* reached the peer's RX ring */
    /* The ledger of a direction (docs/reliability.md): frames + duplicated
     * = lost + link_down + rx_dropped + delivered + in flight, in frames
     * and in bytes. */
    uint64_t rx_dropped;       /* reached the peer's MAC and dropped there (FCS, length,
                                * RX ring full, NIC down, no memory for the DMA) */
    uint64_t duplicated_bytes, lost_bytes, link_down_bytes, rx_dropped_bytes, delivered_bytes;
    uint64_t busy;             /* NETDEV_TX_BUSY returned */
    vns_time_t busy_ns;        /* time the line was busy */
};

/* Create the wire and its two NICs (registered, not up). */
VNS_EXTERN int vns_wire_create(struct vns_sim *sim, const struct vns_wire_config *cfg,
                               const struct vns_wire_end *a, const struct vns_wire_end *b,
                               struct vns_wire **out);
/* Unregister both NICs, drop frames in flight. NULL is a no-op. Call
 * before destroying either kernel. */
VNS_EXTERN void vns_wire_destroy(struct vns_wire *w);
/* The NIC of end 0 or 1. */
VNS_EXTERN struct vns_net_device *vns_wire_dev(const struct vns_wire *w, int end);
/* Frames sent by end @end. */
VNS_EXTERN const struct vns_wire_stats *vns_wire_stats(const struct vns_wire *w, int end);
/* Link flap: while down, every frame that leaves the MAC is lost
 * (counted in link_down). The NICs' carrier stays up: the stacks do not
 * see the flap, as with a fault behind a switch. */
VNS_EXTERN void vns_wire_set_link(struct vns_wire *w, bool up);
VNS_EXTERN bool vns_wire_link_up(const struct vns_wire *w);
/* Frames of direction @end (sent by that end) on the line now: sent,
 * not yet at the peer's MAC. */
VNS_EXTERN void vns_wire_in_flight(const struct vns_wire *w, int end, uint64_t *frames, uint64_t *bytes);
/* Serialization time of a frame of @len bytes (without FCS) at the line rate. */
VNS_EXTERN vns_time_t vns_wire_frame_time(const struct vns_wire *w, uint32_t len);

#endif
