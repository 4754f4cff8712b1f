/* vnetsim -- macvlan. LINUX: drivers/net/macvlan.c, include/linux/if_macvlan.h,
 * include/uapi/linux/if_link.h (linux-5.4).
 *
 * A macvlan is a virtual device with its own MAC on a lower device. The
 * first macvlan on a lower device creates its port (struct macvlan_port)
 * and registers macvlan_handle_frame as the lower's rx_handler. Modes:
 * PRIVATE, VEPA (default), BRIDGE, PASSTHRU (one macvlan takes the whole
 * lower device), SOURCE (not modelled). In BRIDGE mode a frame between two
 * BRIDGE-mode siblings never leaves the host: macvlan_queue_xmit hands it
 * to dev_forward_skb(lowerdev) -> netif_rx -> the per-CPU backlog, and the
 * lower device's receive (process_backlog -> macvlan_handle_frame) passes
 * it to the sibling with RX_HANDLER_ANOTHER -- the seed's tap recv path.
 *
 * macvtap (issue 6) is a macvlan with its own ops and a qdisc: create it
 * with vns_macvlan_newlink(), a priv struct that starts with struct
 * vns_macvlan_dev, .ndo_start_xmit = vns_macvlan_start_xmit, keep_qdisc.
 * Broadcast/multicast received on the lower device reaches the vlans from
 * the port's work item (macvlan_process_broadcast; queue limit
 * MACVLAN_DEFAULT_BC_QUEUE_LEN 1000), run by one kworker per port on the
 * kernel's first CPU (system_unbound_wq is not modelled further).
 * Simplified: every vlan accepts every multicast group (mc_filter all
 * ones); no SOURCE mode, no IPv4 defrag of multicast, no offload (accel)
 * channels. */
#ifndef VNETSIM_MACVLAN_H
#define VNETSIM_MACVLAN_H

#include "vnetsim/netdev.h"

enum vns_macvlan_mode {
    VNS_MACVLAN_MODE_PRIVATE = 1,
    VNS_MACVLAN_MODE_VEPA = 2,
    VNS_MACVLAN_MODE_BRIDGE = 4,
    VNS_MACVLAN_MODE_PASSTHRU = 8,
    VNS_MACVLAN_MODE_SOURCE = 16,
};

struct vns_macvlan_port;

/* The first member of every macvlan-kind device's priv (struct macvlan_dev). */
struct vns_macvlan_dev {
    struct vns_net_device *dev;
    struct vns_net_device *lowerdev;
    struct vns_macvlan_port *port;
    struct vns_macvlan_dev *next;     /* port's vlan list, creation order */
    enum vns_macvlan_mode mode;
};

struct vns_macvlan_config {
    enum vns_macvlan_mode mode;       /* 0 = VEPA (the default) */
    const uint8_t *addr;              /* NULL = random (eth_hw_addr_random) */
    bool keep_qdisc;                  /* macvtap: no IFF_NO_QUEUE */
};

/* ip link add @name link @lower type macvlan mode ...: registered, not up.
 * -VNS_EBUSY: the lower has another rx_handler (a bridge port) or a
 * passthru vlan; -VNS_EINVAL: a second vlan while one is passthru, or
 * SOURCE mode; -VNS_EEXIST: the MAC is taken on this port. */
VNS_EXTERN int vns_macvlan_create(struct vns_net_device *lower, const char *name,
                                  const struct vns_macvlan_config *cfg, struct vns_net_device **out);
/* The same with the caller's ops (macvtap). ops->priv_size must be at
 * least sizeof(struct vns_macvlan_dev), which starts its priv. */
VNS_EXTERN int vns_macvlan_newlink(struct vns_net_device *lower, const char *name,
                                   const struct vns_macvlan_config *cfg,
                                   const struct vns_net_device_ops *ops, struct vns_net_device **out);
/* The uninit every macvlan-kind device's ndo_uninit must call. */
VNS_EXTERN void vns_macvlan_uninit(struct vns_net_device *dev);
/* ndo_start_xmit of macvlan devices (macvlan_start_xmit). */
VNS_EXTERN int vns_macvlan_start_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev);
VNS_EXTERN int vns_macvlan_set_mode(struct vns_net_device *dev, enum vns_macvlan_mode mode);
static inline struct vns_macvlan_dev *vns_macvlan_priv(const struct vns_net_device *dev)
{
    return (struct vns_macvlan_dev *)vns_netdev_priv(dev);
}

#endif
