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
void vns__world_set_nworkloads(struct vns_world *w, size_t n);

#endif
