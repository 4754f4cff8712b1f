/* vnetsim -- the Linux bridge. LINUX: net/bridge/br_device.c, br_if.c,
 * br_input.c, br_forward.c, br_fdb.c, br_private.h (linux-5.4).
 *
 * A bridge is a net_device (br_dev_xmit, noqueue, LLTX) with ports: each
 * port device gets br_handle_frame as its rx_handler. The forwarding
 * database learns source MACs on ingress, ages dynamic entries after
 * ageing_time (300 s), and holds local entries (the bridge's and each
 * port's MAC; never age, delivered up) and user static entries. Unknown
 * unicast, broadcast and multicast (no snooping state) are flooded to
 * every eligible port; a frame never goes back out of its ingress port
 * unless the port is in hairpin mode.
 * STP is off (BR_NO_STP, the default): a port is FORWARDING while it and the
 * bridge are up, DISABLED otherwise; states can be set by hand. VLAN
 * filtering, multicast snooping (MDB), netfilter hooks, proxy ARP,
 * switchdev and isolation are not modelled. */
#ifndef VNETSIM_BRIDGE_H
#define VNETSIM_BRIDGE_H

#include "vnetsim/netdev.h"

/* port states (include/uapi/linux/if_bridge.h) */
enum {
    VNS_BR_STATE_DISABLED = 0,
    VNS_BR_STATE_LISTENING = 1,
    VNS_BR_STATE_LEARNING = 2,
    VNS_BR_STATE_FORWARDING = 3,
    VNS_BR_STATE_BLOCKING = 4,
};

/* port flags (include/linux/if_bridge.h) */
#define VNS_BR_HAIRPIN_MODE (1u << 0)
#define VNS_BR_LEARNING (1u << 5)
#define VNS_BR_FLOOD (1u << 6)
#define VNS_BR_MCAST_FLOOD (1u << 11)
#define VNS_BR_BCAST_FLOOD (1u << 14)

#define VNS_BR_DEFAULT_AGEING_TIME VNS_SEC(300)

struct vns_br_port_stats {
    uint64_t rx_frames;       /* frames that entered br_handle_frame */
    uint64_t tx_frames;       /* frames sent out of this port (br_dev_queue_push_xmit) */
    uint64_t flooded;         /* of tx_frames: sent by a flood */
    uint64_t dropped;         /* dropped on ingress (state, source, link-local) */
};

struct vns_br_fdb_info {
    struct vns_net_device *dst;   /* port device; NULL = the bridge itself */
    bool is_local;
    bool is_static;
    uint64_t updated;             /* jiffies of the last refresh */
};

/* br_add_bridge: a bridge device @name (IFF_EBRIDGE | IFF_NO_QUEUE, LLTX),
 * registered, not yet up. Its own MAC is a local FDB entry. */
VNS_EXTERN int vns_br_add_bridge(struct vns_kernel *k, const char *name, struct vns_net_device **out);
/* br_add_if / br_del_if. -VNS_EBUSY if @port is already enslaved or has
 * another rx_handler, -VNS_ELOOP for a bridge as its own port. */
VNS_EXTERN int vns_br_add_if(struct vns_net_device *br, struct vns_net_device *port);
VNS_EXTERN int vns_br_del_if(struct vns_net_device *br, struct vns_net_device *port);
VNS_EXTERN bool vns_br_is_port(const struct vns_net_device *dev);
VNS_EXTERN int vns_br_port_set_flags(struct vns_net_device *port, unsigned flags, bool on);
VNS_EXTERN unsigned vns_br_port_flags(const struct vns_net_device *port);
VNS_EXTERN int vns_br_port_set_state(struct vns_net_device *port, unsigned state);
VNS_EXTERN unsigned vns_br_port_state(const struct vns_net_device *port);
VNS_EXTERN const struct vns_br_port_stats *vns_br_port_stats(const struct vns_net_device *port);
/* ageing_time (bridge ageing_time sysctl); 0 = never learn (hub mode). */
VNS_EXTERN void vns_br_set_ageing_time(struct vns_net_device *br, vns_time_t t);
/* bridge fdb add: @port NULL = local to the bridge. Static entries never
 * age. -VNS_EEXIST if present. */
VNS_EXTERN int vns_br_fdb_add(struct vns_net_device *br, struct vns_net_device *port,
                              const uint8_t *addr, bool is_static);
VNS_EXTERN int vns_br_fdb_del(struct vns_net_device *br, const uint8_t *addr);
/* Look an address up; false if absent. */
VNS_EXTERN bool vns_br_fdb_get(const struct vns_net_device *br, const uint8_t *addr,
                               struct vns_br_fdb_info *info);
VNS_EXTERN unsigned vns_br_fdb_count(const struct vns_net_device *br);

#endif
