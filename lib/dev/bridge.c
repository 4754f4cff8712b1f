/* lib/dev/bridge.c -- the bridge device and its ports: br_dev_xmit,
 * br_dev_open/stop, br_add_bridge, br_add_if, br_del_if.
 * LINUX: net/bridge/br_device.c, net/bridge/br_if.c, br_stp_if.c (linux-5.4).
 *
 * br_dev_xmit (host stack -> bridge) counts tx, pulls the Ethernet header
 * and floods broadcast/multicast (local_orig), forwards known unicast
 * (br_forward) or floods unknown unicast; it always returns NETDEV_TX_OK.
 * Ports: new_nbp flags BR_LEARNING | BR_FLOOD | BR_MCAST_FLOOD |
 * BR_BCAST_FLOOD, hairpin off; the port device becomes promiscuous, gets
 * br_handle_frame as rx_handler, and its MAC a local FDB entry.
 * Simplified: the bridge keeps its own (generated) MAC instead of taking
 * the lowest port MAC (br_stp_recalculate_bridge_id); with STP off a port
 * is FORWARDING while it and the bridge are up (br_stp_enable_bridge,
 * br_add_if, and the port's NETDEV_UP/DOWN events); no MTU auto-adjust. */
#include <string.h>

#include "br_private.h"

static void br_port_state_update(struct net_bridge_port *p)
{
    bool up = vns_netif_running(p->br->dev) && vns_netif_running(p->dev);

    if (up && p->state == VNS_BR_STATE_DISABLED)
        p->state = VNS_BR_STATE_FORWARDING;   /* br_stp_enable_port, BR_NO_STP */
    else if (!up)
        p->state = VNS_BR_STATE_DISABLED;
}

static int br_dev_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    struct net_bridge *br = vns_netdev_priv(dev);
    struct net_bridge_fdb_entry *dst;
    const uint8_t *dest;

    vns_fn_enter(ctx, VNS_FN_br_dev_xmit);
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += skb->len;
    BR_INPUT_SKB_CB(skb)->brdev = dev;
    vns_skb_reset_mac_header(skb);
    if (!vns_skb_pull(skb, VNS_ETH_HLEN)) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_PKT_TOO_SMALL);
        goto out;
    }
    dest = vns_skb_mac_header(skb);
    if (vns_is_broadcast_ether_addr(dest)) {
        vns__br_flood(ctx, br, skb, BR_PKT_BROADCAST, false, true);
    } else if (vns_is_multicast_ether_addr(dest)) {
        vns__br_flood(ctx, br, skb, BR_PKT_MULTICAST, false, true);
    } else if ((dst = vns__br_fdb_find_rcu(ctx, br, dest)) != NULL) {
        vns__br_forward(ctx, dst->dst, skb, false, true);
    } else {
        vns__br_flood(ctx, br, skb, BR_PKT_UNICAST, false, true);
    }
out:
    vns_fn_exit(ctx);
    return VNS_NETDEV_TX_OK;
}

static int br_dev_open(struct vns_net_device *dev)
{
    struct net_bridge *br = vns_netdev_priv(dev);

    vns__br_fdb_gc_start(br);
    /* br_stp_enable_bridge: every port that is up starts forwarding. */
    for (struct net_bridge_port *p = br->port_list; p; p = p->next)
        if (vns_netif_running(p->dev))
            p->state = VNS_BR_STATE_FORWARDING;
    return 0;
}

static void br_dev_stop(struct vns_net_device *dev)
{
    struct net_bridge *br = vns_netdev_priv(dev);

    for (struct net_bridge_port *p = br->port_list; p; p = p->next)
        p->state = VNS_BR_STATE_DISABLED;   /* br_stp_disable_bridge */
}

static void del_nbp(struct net_bridge_port *p);

static void br_dev_uninit(struct vns_net_device *dev)
{
    struct net_bridge *br = vns_netdev_priv(dev);

    while (br->port_list)
        del_nbp(br->port_list);
    vns__br_fdb_flush_all(br);
}

static const struct vns_net_device_ops br_netdev_ops = {
    .kind = "bridge",
    .priv_size = sizeof(struct net_bridge),
    .ndo_open = br_dev_open,
    .ndo_stop = br_dev_stop,
    .ndo_start_xmit = br_dev_xmit,
    .ndo_uninit = br_dev_uninit,
};

int vns_br_add_bridge(struct vns_kernel *k, const char *name, struct vns_net_device **out)
{
    struct vns_net_device *dev = NULL;
    struct net_bridge *br;
    int err;

    err = vns_alloc_netdev(k, name, &br_netdev_ops, &dev);
    if (err)
        return err;
    /* br_dev_setup */
    dev->priv_flags |= VNS_IFF_EBRIDGE | VNS_IFF_NO_QUEUE;
    dev->features |= VNS_NETIF_F_LLTX | VNS_NETIF_F_SG | VNS_NETIF_F_HW_CSUM | VNS_NETIF_F_GSO_SOFTWARE |
                     VNS_NETIF_F_FRAGLIST;
    dev->max_mtu = VNS_ETH_MAX_MTU;
    br = vns_netdev_priv(dev);
    memset(br, 0, sizeof(*br));
    br->dev = dev;
    br->next_port_no = 1;
    br->ageing_time = (uint64_t)300 * vns_kernel_hz(k);   /* BR_DEFAULT_AGEING_TIME */
    err = vns_register_netdev(dev);
    if (err) {
        vns_free_netdev(dev);
        return err;
    }
    if (vns__br_fdb_insert(br, NULL, dev->dev_addr) < 0) {
        vns_unregister_netdev(dev);
        return -VNS_ENOMEM;
    }
    *out = dev;
    return 0;
}

/* br_device_event for a port device. */
static void br_port_notify(struct vns_net_device *dev, unsigned long event)
{
    struct net_bridge_port *p = br_port_get(dev);

    if (!p)
        return;
    if (event == VNS_NETDEV_UNREGISTER)
        del_nbp(p);
    else
        br_port_state_update(p);
}

/* del_nbp: forget the port's FDB entries, unhook it. */
static void del_nbp(struct net_bridge_port *p)
{
    struct net_bridge *br = p->br;
    struct vns_net_device *dev = p->dev;
    struct net_bridge_port **pp;

    for (pp = &br->port_list; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    vns_dev_set_promiscuity(dev, -1);
    vns__br_fdb_delete_by_port(br, p, true);
    vns_netdev_rx_handler_unregister(dev);
    dev->priv_flags &= ~VNS_IFF_BRIDGE_PORT;
    dev->master = NULL;
    vns_free(p);
}

int vns_br_add_if(struct vns_net_device *brdev, struct vns_net_device *dev)
{
    struct net_bridge *br = vns_netdev_priv(brdev);
    struct net_bridge_port *p, **pp;
    int err;

    if (brdev->ops != &br_netdev_ops || dev->k != brdev->k)
        return -VNS_EINVAL;
    if (dev == brdev || (dev->priv_flags & VNS_IFF_EBRIDGE))
        return -VNS_ELOOP;   /* "Don't allow bridging non-ethernet like devices / bridge to itself" */
    if ((dev->priv_flags & VNS_IFF_BRIDGE_PORT) || dev->rx_handler)
        return -VNS_EBUSY;
    p = vns_calloc(1, sizeof(*p));
    if (!p)
        return -VNS_ENOMEM;
    p->br = br;
    p->dev = dev;
    p->port_no = br->next_port_no++;
    p->flags = VNS_BR_LEARNING | VNS_BR_FLOOD | VNS_BR_MCAST_FLOOD | VNS_BR_BCAST_FLOOD;
    p->state = VNS_BR_STATE_DISABLED;
    err = vns_netdev_rx_handler_register(dev, vns__br_handle_frame, p);
    if (err) {
        vns_free(p);
        return err;
    }
    dev->rx_handler_notify = br_port_notify;
    dev->priv_flags |= VNS_IFF_BRIDGE_PORT;
    dev->master = brdev;
    vns_dev_set_promiscuity(dev, 1);
    for (pp = &br->port_list; *pp; pp = &(*pp)->next)
        ;
    *pp = p;
    if (vns__br_fdb_insert(br, p, dev->dev_addr) < 0) {
        del_nbp(p);
        return -VNS_ENOMEM;
    }
    br_port_state_update(p);
    return 0;
}

int vns_br_del_if(struct vns_net_device *brdev, struct vns_net_device *dev)
{
    struct net_bridge_port *p = br_port_get(dev);

    if (!p || p->br->dev != brdev)
        return -VNS_EINVAL;
    del_nbp(p);
    return 0;
}

bool vns_br_is_port(const struct vns_net_device *dev)
{
    return br_port_get(dev) != NULL;
}

int vns_br_port_set_flags(struct vns_net_device *dev, unsigned flags, bool on)
{
    struct net_bridge_port *p = br_port_get(dev);

    if (!p)
        return -VNS_EINVAL;
    if (on)
        p->flags |= flags;
    else
        p->flags &= ~flags;
    if (!(p->flags & VNS_BR_LEARNING))
        vns__br_fdb_delete_by_port(p->br, p, false);
    return 0;
}

unsigned vns_br_port_flags(const struct vns_net_device *dev)
{
    const struct net_bridge_port *p = br_port_get(dev);

    return p ? p->flags : 0;
}

int vns_br_port_set_state(struct vns_net_device *dev, unsigned state)
{
    struct net_bridge_port *p = br_port_get(dev);

    if (!p || state > VNS_BR_STATE_BLOCKING)
        return -VNS_EINVAL;
    p->state = state;
    return 0;
}

unsigned vns_br_port_state(const struct vns_net_device *dev)
{
    const struct net_bridge_port *p = br_port_get(dev);

    return p ? p->state : VNS_BR_STATE_DISABLED;
}

const struct vns_br_port_stats *vns_br_port_stats(const struct vns_net_device *dev)
{
    const struct net_bridge_port *p = br_port_get(dev);

    return p ? &p->stats : NULL;
}
