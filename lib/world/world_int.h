/* lib/world/world_int.h -- private to vnetsim: lib/world internals. */
#ifndef VNETSIM_WORLD_INT_H
#define VNETSIM_WORLD_INT_H

#include "vnetsim/world.h"

struct vns_world_pcap;
struct vns_net_device;

int vns__world_pcap_start(struct vns_world_pcap **out, struct vns_sim *sim, struct vns_kernel *const *kernels,
                          const char *const *machine_names, size_t nk, const char *dir, struct vns_diag *d);
/* Close every file; rename them into place if @commit, else remove them.
 * Returns 0 or -VNS_EIO (then no file was kept). */
int vns__world_pcap_finish(struct vns_world_pcap *wp, bool commit);
/* What stats_json.c needs to see of a world. */
struct vns_world_view {
    struct vns_sim *sim;
    const struct vns_machine *host;
    const struct vns_machine *remotes, *guests;
    size_t nremotes, nguests;
    struct vns_wire *const *wires;
    size_t nwires;
};
/* vns_world_write_stats_json (stats_json.c). */
int vns__world_write_stats_json(const struct vns_world *w, const struct vns_world_view *v, FILE *out,
                                const char *extra);
/* The stats as a JSON object (NULL if out of memory), and its writer:
 * @extra merged in, @root consumed. */
struct json_t *vns__world_stats_root(const struct vns_world *w, const struct vns_world_view *v);
int vns__world_dump_stats_json(struct json_t *root, FILE *out, const char *extra);

uint64_t vns__world_pcap_frames(const struct vns_world_pcap *wp, const struct vns_net_device *dev);

struct vns_virtnet;
struct vns_vhost_net;
/* Guest @i's virtio-net driver and its vhost-net instances (one per queue
 * pair): the number of queue pairs, 0 if there is no guest @i. */
unsigned vns__world_guest_queues(const struct vns_world *w, size_t i, struct vns_virtnet **vi,
                                 struct vns_vhost_net *const **nets);
/* Every machine: the host, the guests, the remotes, in that order, in an
 * array to vns_free(), *@count of them; NULL if out of memory. */
const struct vns_machine **vns__world_machines(const struct vns_world *w, size_t *count);

/* Time series of the workloads: received bit rate and packets per
 * second of each, TCP cwnd of its first flows (workload.c). */
int vns__world_workloads_series(struct vns_world *w);

/* A workload's window of counters (costs.c). */
struct vns__costs;
int vns__costs_start(struct vns_world *w, vns_time_t from, vns_time_t to, struct vns__costs **out);
void vns__costs_destroy(struct vns__costs *c);
void vns__costs_get(struct vns__costs *c, struct vns_workload_costs *out);

/* Workloads (workload.c). */
struct vns_workload;
int vns__world_workloads_start(struct vns_world *w, const struct vns_scenario *sc, struct vns_diag *d);
void vns__world_workloads_stop(struct vns_world *w);
/* Workload storage lives in the world. */
struct vns_workload **vns__world_workload_slot(struct vns_world *w, size_t *n);
/* The flow books (flow_book.h): 2i client to server, 2i + 1 server to
 * client of workload i. */
struct vns_flow_reg *vns__world_flow_reg(const struct vns_world *w);
void vns__world_set_nworkloads(struct vns_world *w, size_t n);

/* Faults (faults.c): timers that start and end each scenario fault. */
struct vns_world_faults;
struct vns_virtnet;
struct vns_galloc;
struct vns_gmem;
struct vns_wire;
struct vns_cpu;
int vns__world_faults_start(struct vns_world *w, const struct vns_scenario *sc, struct vns_world_faults **out,
                            struct vns_diag *d);
void vns__world_faults_stop(struct vns_world *w, struct vns_world_faults *fs);
/* What the hostile write of fault @i returned (0, or why it could not be
 * written); -VNS_ENOENT if there is no such fault. */
int vns__world_fault_result(const struct vns_world_faults *fs, size_t i);
/* Frames a flood fault has sent. */
uint64_t vns__world_fault_sent(const struct vns_world_faults *fs, size_t i);
/* The world's faults (NULL if none). */
struct vns_world_faults *vns__world_faults(struct vns_world *w);
/* The virtio-net device of guest @name (and its allocator and RAM). */
struct vns_virtnet *vns__world_guest_nic(struct vns_world *w, const char *name, struct vns_galloc **ga,
                                         struct vns_gmem **mem);
struct vns_vhost_net;
/* The vhost-net worker of queue pair @qp of guest @name. */
struct vns_vhost_net *vns__world_guest_vhost(struct vns_world *w, const char *name, unsigned qp);
struct vns_wire *vns__world_wire(struct vns_world *w, const char *name);
struct vns_cpu *vns__world_host_cpu(struct vns_world *w, unsigned i);
/* The guest's notify of virtqueue @vq (a kick that reaches vhost). */
void vns__world_guest_kick(struct vns_world *w, const char *guest, unsigned vq);

/* The packet ledger (ledger.c). */
struct vns_world_ledger;
int vns__world_ledger_take(const struct vns_world_view *v, struct vns_world_ledger **out);
/* Each workload's byte books (before the drain: workloads must be alive). */
int vns__world_ledger_flows(struct vns_world_ledger *l, const struct vns_world *w);
/* Each guest virtqueue's books (before the drain). */
int vns__world_ledger_vqs(struct vns_world_ledger *l, const struct vns_world *w);
/* After the world is drained: what is still live was held by nothing. */
void vns__world_ledger_audit(struct vns_world_ledger *l);
bool vns__world_ledger_balanced(const struct vns_world_ledger *l);
void vns__world_ledger_print(const struct vns_world_ledger *l, FILE *out);
void vns__world_ledger_summary(const struct vns_world_ledger *l, FILE *out);
struct json_t *vns__world_ledger_json(const struct vns_world_ledger *l);
void vns__world_ledger_free(struct vns_world_ledger *l);

#endif
