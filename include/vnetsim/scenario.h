/* vnetsim -- scenario files: YAML -> a validated description of the world.
 *
 * lib/scenario reads a scenario (docs/scenarios.md is the reference of
 * every key), applies `--set key.path=value` overrides, and checks
 * everything that can be checked before a run: types and units, ranges,
 * names that must exist (a backend device, a bridge master, a workload
 * endpoint), pins to CPUs that exist, duplicate names. Every error names
 * file:line:col, the key path and the expected form.
 *
 * The result is plain data; lib/world builds machines from it. */
#ifndef VNETSIM_SCENARIO_H
#define VNETSIM_SCENARIO_H

#include <stdio.h>
#include "vnetsim/common.h"
#include "vnetsim/error.h"

#define VNS_SC_NAME_MAX 32
#define VNS_SC_MAX_CPUS 256
#define VNS_SC_MAX_ITEMS 4096        /* devices, guests, workloads, probes */

enum vns_sc_payload { VNS_SC_PAYLOAD_SYNTHETIC, VNS_SC_PAYLOAD_MATERIALIZED };

enum vns_sc_dev_type {
    VNS_SC_DEV_BRIDGE, VNS_SC_DEV_TAP, VNS_SC_DEV_MACVLAN, VNS_SC_DEV_MACVTAP, VNS_SC_DEV_WIRE,
};

enum vns_sc_macvlan_mode {
    VNS_SC_MACVLAN_BRIDGE, VNS_SC_MACVLAN_PRIVATE, VNS_SC_MACVLAN_VEPA, VNS_SC_MACVLAN_PASSTHRU,
};

/* An IPv4 address with prefix length ("10.0.0.1/24"). */
struct vns_sc_addr {
    bool set;
    uint32_t ip;                 /* host byte order */
    uint8_t prefix;
};

struct vns_sc_device {
    char name[VNS_SC_NAME_MAX];
    enum vns_sc_dev_type type;
    struct vns_sc_addr addr;
    char master[VNS_SC_NAME_MAX];    /* tap/macvlan: bridge to join ("" = none) */
    char lower[VNS_SC_NAME_MAX];     /* macvlan/macvtap: lower device */
    enum vns_sc_macvlan_mode mode;
    uint32_t mtu;                    /* 0 = 1500 */
    uint32_t txqueuelen;             /* 0 = 1000 (tap: 1000, bridge: noqueue) */
    vns_time_t ageing_time;          /* bridge FDB, 0 = 300 s */
    /* wire */
    char peer[VNS_SC_NAME_MAX];      /* remote host at the other end */
    uint64_t rate_bps;               /* 0 = 10 Gbit/s */
    vns_time_t delay;                /* one-way propagation */
    double loss, duplicate, reorder, corrupt;   /* probabilities 0..1 */
    vns_time_t reorder_delay;        /* extra delay of a reordered frame, 0 = 100 us */
    /* Gilbert-Elliott bursty loss (gilbert: {p, r, loss_bad, loss_good}); off when p is 0 */
    double ge_p, ge_r, ge_loss_bad, ge_loss_good;
    bool offloads;                   /* false: ethtool -K DEV tx off sg off tso off gso off gro off */
    bool rx_all;                     /* wire: ethtool -K DEV rx-all on (bad-FCS frames delivered) */
    unsigned line;                   /* where it was declared */
};

/* virtio-net feature bits the scenario can name (include/uapi/linux/virtio_net.h). */
enum vns_sc_feature {
    VNS_SC_F_CSUM, VNS_SC_F_GUEST_CSUM, VNS_SC_F_TSO4, VNS_SC_F_GUEST_TSO4, VNS_SC_F_MRG_RXBUF,
    VNS_SC_F_EVENT_IDX, VNS_SC_F_INDIRECT_DESC, VNS_SC_F_MQ, VNS_SC_F_VERSION_1,
    VNS_SC_F_NOTIFY_ON_EMPTY, VNS_SC_F__COUNT
};

struct vns_sc_nic {
    char backend[VNS_SC_NAME_MAX];   /* a tap or macvtap device of the host */
    bool packed;                     /* ring: split (default) or packed */
    uint32_t ring_size;              /* 256 */
    uint32_t queues;                 /* queue pairs, 1 */
    uint32_t features;               /* bit per enum vns_sc_feature */
    bool features_set;
    int vhost_pin;                   /* host CPU of the vhost worker(s); -1 = any (cpu 0) */
    bool napi_tx;                    /* virtio_net napi_tx module parameter (true) */
    bool offloads;                   /* false: the guest's ethtool -K eth0 gro off tx off sg off tso off */
};

struct vns_sc_guest {
    char name[VNS_SC_NAME_MAX];
    uint32_t nvcpus;
    int vcpu_pin[VNS_SC_MAX_CPUS];   /* host CPU of each vCPU thread */
    uint64_t memory;                 /* bytes, 512 MiB */
    struct vns_sc_addr addr;
    struct vns_sc_nic nic;
    unsigned line;
};

struct vns_sc_remote {
    char name[VNS_SC_NAME_MAX];
    uint32_t cpus;
    struct vns_sc_addr addr;
    unsigned line;
};

enum vns_sc_workload_type {
    VNS_SC_TCP_STREAM, VNS_SC_TCP_MAERTS, VNS_SC_TCP_RR, VNS_SC_UDP_RR, VNS_SC_UDP_STREAM, VNS_SC_PING,
};

enum vns_sc_syscall { VNS_SC_SYS_WRITE, VNS_SC_SYS_SEND, VNS_SC_SYS_SENDMSG };

struct vns_sc_workload {
    enum vns_sc_workload_type type;
    char from[VNS_SC_NAME_MAX];      /* "host", a guest or a remote */
    char to[VNS_SC_NAME_MAX];
    vns_time_t start, duration;      /* duration 0 = until the end */
    uint64_t write_size;             /* stream: bytes per write (64 KiB); udp_stream: datagram (1472) */
    uint64_t request_size, response_size;   /* RR: 1 and 1 */
    uint64_t rate_bps;               /* udp_stream: 0 = as fast as possible */
    uint64_t sndbuf, rcvbuf;         /* 0 = kernel defaults */
    enum vns_sc_syscall syscall;
    uint32_t flows;                  /* parallel connections, 1 */
    uint32_t from_cpu, to_cpu;       /* netperf -T: flow k on CPU (x_cpu + k) mod ncpus (0) */
    vns_time_t interval;             /* ping: 1 s */
    uint64_t size;                   /* ping: payload bytes (56) */
    uint64_t count;                  /* ping: requests, 0 = until the end */
    vns_time_t timeout;              /* udp_rr: a request unanswered this long is lost (10 ms) */
    unsigned line;
};

/* Faults injected at a chosen time (docs/scenarios.md, faults:). */
enum vns_sc_fault_type {
    VNS_SC_FAULT_LINK_DOWN,          /* a wire drops every frame for a while (a flap) */
    VNS_SC_FAULT_HOSTILE,            /* a guest writes a corrupt ring entry on one queue */
    VNS_SC_FAULT_RX_OOM,             /* guest memory pressure: rx buffer allocation fails */
    VNS_SC_FAULT_RX_STOP,            /* a guest stops posting rx buffers */
    VNS_SC_FAULT_CPU_HOG,            /* a busy host thread on one host CPU */
    VNS_SC_FAULT_FLOOD,              /* a guest process sends raw frames as fast as `rate` */
};

struct vns_sc_fault {
    enum vns_sc_fault_type type;
    char target[VNS_SC_NAME_MAX];    /* link_down: a wire device; hostile, rx_*: a guest */
    vns_time_t at;                   /* when it starts */
    vns_time_t duration;             /* how long; 0 = until the end of the run */
    int hostile;                     /* enum vns_hostile */
    uint32_t queue;                  /* hostile: virtqueue index (rxN = 2N, txN = 2N + 1) */
    uint32_t cpu;                    /* cpu_hog: host CPU */
    vns_time_t slice;                /* cpu_hog: length of one busy step, 100 us */
    uint64_t rate_bps;               /* flood: frame bits per second, 1 Gbit/s */
    uint64_t size;                   /* flood: Ethernet frame length (no FCS), 1514 */
    unsigned line;
};

/* Resource limits: a run that reaches one stops at an event boundary,
 * writes its outputs marked partial and exits 1. 0 = no limit. */
struct vns_sc_limits {
    uint64_t max_events;
    vns_time_t max_time;             /* simulated time */
    uint64_t max_memory;             /* bytes the simulator has allocated */
};

struct vns_sc_outputs {
    char stacks[256], folded[256], stats_json[256], pcap[256], timeline[256], series[256];
};

struct vns_sc_cost {
    char func[64];
    uint64_t call_ns;
    int64_t byte_ps;                 /* -1 = unchanged */
};

struct vns_scenario {
    char file[256];
    char profile[32];                /* "linux-5.4" */
    uint64_t seed;                   /* 1 */
    vns_time_t duration;             /* 1 s */
    enum vns_sc_payload payload;
    uint32_t cpu_mhz;                /* 0 = reference (2200) */
    uint32_t host_cpus;              /* 4 */
    struct vns_sc_cost *costs;
    size_t ncosts;
    struct vns_sc_device *devices;
    size_t ndevices;
    struct vns_sc_guest *guests;
    size_t nguests;
    struct vns_sc_remote *remotes;
    size_t nremotes;
    struct vns_sc_workload *workloads;
    size_t nworkloads;
    char (*probes)[64];
    size_t nprobes;
    struct vns_sc_fault *faults;
    size_t nfaults;
    struct vns_sc_limits limits;
    struct vns_sc_outputs outputs;
};

/* Read @path, apply the @nsets assignments "key.path=value" in order, and
 * validate. Returns 0, or a negative code with @d naming the place. */
VNS_EXTERN int vns_scenario_load(const char *path, const char *const *sets, size_t nsets,
                                 struct vns_scenario **out, struct vns_diag *d);
/* The same from text in memory (@name for diagnostics). */
VNS_EXTERN int vns_scenario_parse(const char *text, size_t len, const char *name,
                                  const char *const *sets, size_t nsets, struct vns_scenario **out,
                                  struct vns_diag *d);
VNS_EXTERN void vns_scenario_free(struct vns_scenario *sc);
/* Print the resolved topology and settings (`vnetsim check`). */
VNS_EXTERN void vns_scenario_print(const struct vns_scenario *sc, FILE *out);
/* Names used in files and messages. */
VNS_EXTERN const char *vns_sc_dev_type_name(enum vns_sc_dev_type t);
VNS_EXTERN const char *vns_sc_workload_name(enum vns_sc_workload_type t);
VNS_EXTERN const char *vns_sc_feature_name(enum vns_sc_feature f);
VNS_EXTERN const char *vns_sc_fault_name(enum vns_sc_fault_type t);

#endif
