/* vnetsim -- a world: the machines a scenario describes, built.
 *
 * lib/world turns a validated struct vns_scenario (include/vnetsim/
 * scenario.h) into a simulation: the host (its CPUs, its kernel instance,
 * its devices), remote hosts joined to it by wires, and guests (vCPUs
 * whose threads are pinned to host CPUs, guest memory, a kernel instance
 * of their own, a virtio-net NIC on a tap or macvtap with its vhost
 * worker), then the workloads.
 *
 * Every machine gets an IPv4 stack with the scenario's addresses (on the
 * host: on the device that has them; on a remote: on its end of the wire;
 * on a guest: on its virtio-net NIC). Workloads run as user processes on
 * their machines (lib/world/workload.c: TCP_STREAM, TCP_MAERTS, TCP_RR,
 * UDP_STREAM, UDP_RR, ping). */
#ifndef VNETSIM_WORLD_H
#define VNETSIM_WORLD_H

#include "vnetsim/common.h"
#include "vnetsim/error.h"
#include "vnetsim/scenario.h"

struct vns_world;
struct vns_kernel;
struct vns_inet;
struct vns_net_device;

enum vns_machine_kind { VNS_MACHINE_HOST, VNS_MACHINE_GUEST, VNS_MACHINE_REMOTE };

struct vns_machine {
    char name[VNS_SC_NAME_MAX];
    enum vns_machine_kind kind;
    struct vns_cpu **cpus;         /* host CPUs, remote CPUs or guest vCPUs */
    unsigned ncpus;
    struct vns_kernel *kernel;
    struct vns_inet *inet;         /* its IPv4 stack */
    uint32_t addr;                 /* its first IPv4 address (0 = none) */
    struct vns_gmem *mem;          /* guests: their RAM */
    struct vns_net_device *nic;    /* guests: the virtio-net device */
};

/* What a workload measured (see vns_world_workload). */
struct vns_workload_result {
    const char *type;              /* "tcp_stream", ... */
    const char *from, *to;
    unsigned flows;
    uint64_t bytes;                /* delivered to the receiving application */
    uint64_t sent_bytes;           /* accepted by the sender's system calls */
    /* Packets the applications sent and received: UDP datagrams, echo
     * requests and replies, RR requests and responses (both ends count
     * what they receive); TCP streams: data segments taken in by the
     * receiving socket (tcp_info data_segs_in, after GRO). */
    uint64_t packets_sent, packets;
    uint64_t lost;                 /* udp_stream, ping: sent - received; udp_rr: timeouts */
    uint64_t transactions;         /* RR; ping: replies matched to a request */
    vns_time_t start, end;         /* first and last byte received */
    double throughput_bps;         /* bytes * 8 / (end - start) */
    double packets_per_s;          /* packets / (end - start) */
    double transactions_per_s;     /* RR: transactions / (end - first send) */
    uint64_t latency_p50, latency_p99, latency_p999;   /* RR and ping (rtt), ns */
    uint64_t verified, mismatches; /* payload bytes checked at the receiver */
    /* The packet figures of a one-way flow (docs/reliability.md): TCP in
     * MSS-sized segments (GSO/GRO-aware): the senders' data segments
     * (retransmissions included), those retransmitted, and the segments
     * the receiving sockets took in (duplicates included); UDP: datagrams
     * the receiving sockets dropped (SOCKET_RCVBUFF). */
    uint64_t segs_sent, segs_retransmitted, segs_received;
    /* a sender closed its socket before the end: segs_sent stops at its
     * close (a closed socket still sends what it had queued, unseen) */
    bool segs_sent_partial;
    uint64_t socket_drops;
    /* TCP streams, the byte books from socket state (docs/reliability.md),
     * summed over the connections: bytes in the receiving sockets' queues
     * (rcv_nxt - copied_seq) and written by the senders but not received
     * in order yet (write_seq - the receiver's rcv_nxt; negative would be
     * a receiver ahead of its sender) */
    uint64_t tcp_queued_bytes;
    int64_t tcp_not_received_bytes;
    int error;                     /* a socket error, 0 if none */
};

/* Build the world of @sc. Errors name the scenario entry (file:line). */
VNS_EXTERN int vns_world_create(const struct vns_scenario *sc, struct vns_world **out,
                                struct vns_diag *d);
VNS_EXTERN void vns_world_destroy(struct vns_world *w);
VNS_EXTERN struct vns_sim *vns_world_sim(const struct vns_world *w);
/* "host", a guest or a remote; NULL if none. */
VNS_EXTERN const struct vns_machine *vns_world_machine(const struct vns_world *w, const char *name);
/* Capture every device of every machine into DIR/<machine>-<device>.pcap
 * (libpcap, nanosecond timestamps) from now on. The files appear, whole,
 * only when vns_world_pcap_stop(w, true) succeeds. */
VNS_EXTERN int vns_world_pcap_start(struct vns_world *w, const char *dir, struct vns_diag *d);
/* Finish the capture: keep the files (@commit) or remove them. Returns 0
 * or -VNS_EIO (a write failed: no file is kept). */
VNS_EXTERN int vns_world_pcap_stop(struct vns_world *w, bool commit);
/* Frames captured so far on @machine's device @dev (for tests). */
VNS_EXTERN uint64_t vns_world_pcap_frames(const struct vns_world *w, const char *machine, const char *dev);

/* Write every figure of the run so far as JSON (sorted keys; the same run
 * gives the same bytes). @extra, if not NULL, is a JSON object text merged
 * in at the top (run facts such as wall time). Returns 0, -VNS_ENOMEM or
 * -VNS_EIO. */
VNS_EXTERN int vns_world_write_stats_json(const struct vns_world *w, FILE *out, const char *extra);

/* Sample every @interval: each CPU's utilization ("host/cpu0.util"), each
 * device's receive and transmit bit rates ("host/eth0.rx_bps") and qdisc
 * backlog in packets ("host/tap0.qdisc_backlog"), each guest virtqueue's
 * occupancy ("vm1/eth0.txq0.ring": buffers made available and not yet
 * used), each workload's received bit and packet rates
 * ("wl0.tcp_stream.rx_bps") and its TCP flows' cwnd ("wl0.tcp_stream.
 * flow0.cwnd", the first 4 flows). At most 256 columns. Write them with
 * vns_series_write_csv(vns_world_sim(w), f). */
VNS_EXTERN int vns_world_series_start(struct vns_world *w, vns_time_t interval);

VNS_EXTERN size_t vns_world_nworkloads(const struct vns_world *w);
VNS_EXTERN int vns_world_workload(const struct vns_world *w, size_t i, struct vns_workload_result *out);

/* End the run: take the packet ledger (docs/reliability.md) and the
 * figures of the stats JSON, then drain the world (every socket, device,
 * ring and queue released) and audit the ledger: an skb still live after
 * the drain was held by nothing (a leak). Returns 0 if the books balance,
 * -VNS_EPROTO if not, -VNS_ENOMEM. After it the world can only be written
 * (vns_world_write_stats_json, with a "ledger" object), asked for its
 * workloads and ledger, and destroyed. A capture must be stopped first. */
VNS_EXTERN int vns_world_finish(struct vns_world *w);
/* Print what does not balance (nothing if all does). */
VNS_EXTERN void vns_world_print_ledger(const struct vns_world *w, FILE *out);
/* One line: balanced or not, skbs created, dropped, in flight, wire
 * frames, flows and their bytes. */
VNS_EXTERN void vns_world_print_ledger_summary(const struct vns_world *w, FILE *out);
/* Test hook: allocate an skb on machine @what and forget it (a leak the
 * ledger must report); "MACHINE:DEV" puts it in that device's hands first
 * (its device books must not balance either); "flow:N" counts a packet in
 * flow book N (2i: workload i client to server, 2i + 1: server to
 * client) that no skb holds (that flow's books must not balance).
 * -VNS_ENOENT: no such one. */
VNS_EXTERN int vns_world_test_leak(struct vns_world *w, const char *what);
/* What the machines did while a workload ran, from its start to its end
 * (or to now if it runs to the end): every guest NIC's kicks and
 * interrupts, every CPU's busy time, every kernel's drops. Workloads that
 * overlap in time each count all of it. */
struct vns_workload_costs {
    vns_time_t from, to;           /* the window; both 0 before it starts */
    uint64_t kicks;                /* virtio-net notifies (TX and RX refill), all guests */
    uint64_t interrupts;           /* virtio-net interrupts (TX and RX), all guests */
    size_t ncpus;                  /* every CPU: the host's, the guests', the remotes' */
    struct vns_cpu const *const *cpus;
    const uint64_t *busy_ns;       /* busy time of cpus[i] in the window */
    const uint64_t *drops;         /* by enum vns_skb_drop_reason (VNS_SKB_DROP_REASON_MAX) */
};
/* The arrays stay valid until the next call for any workload or the
 * world's destruction. -VNS_ENOENT if there is no workload @i. */
VNS_EXTERN int vns_world_workload_costs(const struct vns_world *w, size_t i, struct vns_workload_costs *out);

/* Print per-CPU busy time, interrupts and VM exits, each guest NIC's kicks
 * and interrupts per packet, and drops by reason. */
VNS_EXTERN void vns_world_print_summary(const struct vns_world *w, FILE *out);

/* Print machines, CPUs and devices as built. */
VNS_EXTERN void vns_world_print(const struct vns_world *w, FILE *out);

#endif
