/* lib/dev/macvlan.c -- macvlan: macvlan_start_xmit, macvlan_queue_xmit,
 * macvlan_broadcast, macvlan_handle_frame, port and device lifecycle.
 * LINUX: drivers/net/macvlan.c (linux-5.4).
 *
 * TX (macvlan_queue_xmit): a BRIDGE-mode vlan sends multicast to its
 * BRIDGE-mode siblings (a clone each, __dev_forward_skb + netif_rx_ni) and
 * then out of the lower device; unicast to a BRIDGE-mode sibling goes
 * through dev_forward_skb(lowerdev) -> netif_rx ("to lowerdev first for its
 * network taps"); everything else leaves by dev_queue_xmit on the lower.
 * RX (macvlan_handle_frame on the lower): multicast from one of our own
 * PRIVATE/PASSTHRU vlans (hairpinned back) goes only to that vlan; other
 * multicast is delivered to the vlans by the rules of
 * macvlan_process_broadcast (external source: every vlan; a VEPA source:
 * VEPA and BRIDGE vlans but the source; any other source: VEPA vlans only)
 * and passed up the lower; unicast goes to the vlan owning the
 * destination MAC (PASSTHRU: the one vlan) with RX_HANDLER_ANOTHER, or up
 * the lower when nobody owns it. Stats as macvlan_count_rx.
 * Simplified: see include/vnetsim/macvlan.h. The port hash (256 buckets by
 * MAC) is a list in creation order: lookups give the same answers. */
#include <stdio.h>
#include <string.h>

#include "vnetsim/macvlan.h"
#include "net/net_int.h"

#define MACVLAN_DEFAULT_BC_QUEUE_LEN 1000

struct vns_macvlan_port {
    struct vns_net_device *dev;       /* the lower device */
    struct vns_macvlan_dev *vlans;
    unsigned count;
    bool passthru;
    /* bc_work: broadcast/multicast delivery to the vlans, a work item on
     * system_unbound_wq, run by this port's kworker */
    struct vns_skb_head bc_queue;     /* clones; cb holds the source ifindex */
    struct vns_ctx *bc_worker;
    bool bc_in_work;
    unsigned bc_depth;
};

/* MACVLAN_SKB_CB(skb)->src, kept as an ifindex (the kernel holds a dev
 * reference; a vlan deleted meanwhile is treated as an external source). */
static void bc_cb_set_src(struct vns_skb *skb, int ifindex)
{
    memcpy(skb->cb, &ifindex, sizeof(ifindex));
}

static int bc_cb_src(const struct vns_skb *skb)
{
    int ifindex;

    memcpy(&ifindex, skb->cb, sizeof(ifindex));
    return ifindex;
}

static struct vns_macvlan_port *macvlan_port_get(const struct vns_net_device *lower)
{
    return (lower->priv_flags & VNS_IFF_MACVLAN_PORT) ? lower->rx_handler_data : NULL;
}

static struct vns_macvlan_dev *macvlan_hash_lookup(const struct vns_macvlan_port *port, const uint8_t *addr)
{
    for (struct vns_macvlan_dev *v = port->vlans; v; v = v->next)
        if (vns_ether_addr_equal(v->dev->dev_addr, addr))
            return v;
    return NULL;
}

static void macvlan_count_rx(struct vns_macvlan_dev *vlan, uint32_t len, bool success, bool multicast)
{
    if (success) {
        vlan->dev->stats.rx_packets++;
        vlan->dev->stats.rx_bytes += len;
        if (multicast)
            vlan->dev->stats.multicast++;
    } else {
        vlan->dev->stats.rx_errors++;
    }
}

/* macvlan_broadcast_one: local (from our own xmit: data at the MAC header)
 * -> __dev_forward_skb; else retarget the received skb. Consumes @skb on
 * failure only. */
static int macvlan_broadcast_one(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_macvlan_dev *vlan,
                                 const uint8_t *dest, bool local)
{
    struct vns_net_device *dev = vlan->dev;
    int ret;

    vns_charge(ctx, VNS_FN_macvlan_broadcast_one, 0);   /* inlined in 5.4: a cost, no frame */
    if (local) {
        ret = vns___dev_forward_skb(ctx, dev, skb);
        return ret;
    }
    skb->dev = dev;
    skb->pkt_type = vns_ether_addr_equal(dest, dev->broadcast) ? VNS_PACKET_BROADCAST : VNS_PACKET_MULTICAST;
    return 0;
}

/* macvlan_broadcast: a clone to every UP vlan in @mode but @src. @skb is
 * borrowed. */
static void macvlan_broadcast(struct vns_ctx *ctx, const struct vns_skb *skb, struct vns_macvlan_port *port,
                              struct vns_net_device *src, unsigned mode, const uint8_t *dest, bool local)
{
    vns_fn_enter(ctx, VNS_FN_macvlan_broadcast);
    if (skb->protocol == VNS_ETH_P_PAUSE)
        goto out;
    for (struct vns_macvlan_dev *vlan = port->vlans; vlan; vlan = vlan->next) {
        struct vns_skb *nskb;
        int err = VNS_NET_RX_DROP;

        if (vlan->dev == src || !(vlan->mode & mode) || !vns_netif_running(vlan->dev))
            continue;
        vns_charge(ctx, VNS_FN_skb_clone, 0);
        nskb = vns_skb_clone(skb);
        if (nskb) {
            err = macvlan_broadcast_one(ctx, nskb, vlan, dest, local);
            if (err == 0)
                err = vns_netif_rx_ni(ctx, nskb);
        }
        macvlan_count_rx(vlan, skb->len + (local ? 0 : VNS_ETH_HLEN), err == VNS_NET_RX_SUCCESS, true);
    }
out:
    vns_fn_exit(ctx);
}

static int macvlan_queue_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    struct vns_macvlan_dev *vlan = vns_macvlan_priv(dev);
    struct vns_macvlan_port *port = vlan->port;
    int ret;

    vns_charge(ctx, VNS_FN_macvlan_queue_xmit, 0);   /* static, inlined in 5.4: a cost, no frame */
    if (vlan->mode == VNS_MACVLAN_MODE_BRIDGE && skb->len >= VNS_ETH_HLEN) {
        const uint8_t *dest = skb->data;
        struct vns_macvlan_dev *dst;

        /* send to other bridge ports directly */
        if (vns_is_multicast_ether_addr(dest)) {
            vns_skb_reset_mac_header(skb);
            macvlan_broadcast(ctx, skb, port, dev, VNS_MACVLAN_MODE_BRIDGE, dest, true);
            goto xmit_world;
        }
        dst = macvlan_hash_lookup(port, dest);
        if (dst && dst->mode == VNS_MACVLAN_MODE_BRIDGE) {
            /* send to lowerdev first for its network taps */
            vns_dev_forward_skb(ctx, vlan->lowerdev, skb);
            return VNS_NET_XMIT_SUCCESS;
        }
    }
xmit_world:
    skb->dev = vlan->lowerdev;
    ret = vns_dev_queue_xmit(ctx, skb);
    return ret;
}

int vns_macvlan_start_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    uint32_t len = skb->len;
    int ret;

    vns_fn_enter(ctx, VNS_FN_macvlan_start_xmit);
    ret = macvlan_queue_xmit(ctx, skb, dev);
    if (ret == VNS_NET_XMIT_SUCCESS || ret == VNS_NET_XMIT_CN) {
        dev->stats.tx_packets++;
        dev->stats.tx_bytes += len;
    } else {
        dev->stats.tx_dropped++;
    }
    vns_fn_exit(ctx);
    return VNS_NETDEV_TX_OK;
}

/* macvlan_broadcast_enqueue: a clone for the port's bc_work (queue limit
 * MACVLAN_DEFAULT_BC_QUEUE_LEN, else counted in the lower's rx_dropped). */
static void macvlan_broadcast_enqueue(struct vns_ctx *ctx, struct vns_macvlan_port *port,
                                      const struct vns_macvlan_dev *src, const struct vns_skb *skb)
{
    struct vns_skb *nskb;

    vns_fn_enter(ctx, VNS_FN_macvlan_broadcast_enqueue);
    vns_charge(ctx, VNS_FN_skb_clone, 0);
    nskb = vns_skb_clone(skb);
    if (!nskb)
        goto err;
    if (port->bc_queue.qlen >= MACVLAN_DEFAULT_BC_QUEUE_LEN) {
        vns_kfree_skb(nskb);
        goto err;
    }
    bc_cb_set_src(nskb, src ? src->dev->ifindex : 0);
    vns_skb_queue_tail(&port->bc_queue, nskb);
    vns_ctx_wake(ctx, port->bc_worker);      /* schedule_work(&port->bc_work) */
    vns_fn_exit(ctx);
    return;
err:
    port->dev->stats.rx_dropped++;
    vns_fn_exit(ctx);
}

/* macvlan_process_broadcast, in the port's kworker: one queued frame per
 * step, delivered by the source rules, then consumed. */
static int macvlan_bc_work(struct vns_ctx *ctx, void *arg)
{
    struct vns_macvlan_port *port = arg;
    struct vns_macvlan_dev *src = NULL;
    struct vns_skb *skb;
    const uint8_t *dest;
    int ifindex;

    if (!port->bc_in_work) {
        if (!port->bc_queue.head)
            return VNS_STEP_SLEEP;
        port->bc_depth = vns_ctx_depth(ctx);
        vns_fn_enter(ctx, VNS_FN_process_one_work);
        vns_fn_enter(ctx, VNS_FN_macvlan_process_broadcast);
        port->bc_in_work = true;
    }
    skb = vns_skb_dequeue(&port->bc_queue);
    if (skb) {
        ifindex = bc_cb_src(skb);
        for (struct vns_macvlan_dev *v = port->vlans; ifindex && v; v = v->next)
            if (v->dev->ifindex == ifindex)
                src = v;
        dest = vns_skb_mac_header(skb);
        if (!src)
            /* frame comes from an external address */
            macvlan_broadcast(ctx, skb, port, NULL,
                              VNS_MACVLAN_MODE_PRIVATE | VNS_MACVLAN_MODE_VEPA | VNS_MACVLAN_MODE_PASSTHRU |
                                  VNS_MACVLAN_MODE_BRIDGE,
                              dest, false);
        else if (src->mode == VNS_MACVLAN_MODE_VEPA)
            /* flood to everyone except source */
            macvlan_broadcast(ctx, skb, port, src->dev, VNS_MACVLAN_MODE_VEPA | VNS_MACVLAN_MODE_BRIDGE,
                              dest, false);
        else
            /* flood only to VEPA ports, bridge ports already saw the frame on the way out */
            macvlan_broadcast(ctx, skb, port, src->dev, VNS_MACVLAN_MODE_VEPA, dest, false);
        vns_consume_skb(skb);
        if (port->bc_queue.head)
            return VNS_STEP_AGAIN;
    }
    vns__unwind(ctx, port->bc_depth);
    port->bc_in_work = false;
    return VNS_STEP_AGAIN;   /* look again; sleeps when empty */
}

static enum vns_rx_handler_result macvlan_handle_frame(struct vns_ctx *ctx, struct vns_skb **pskb)
{
    struct vns_skb *skb = *pskb;
    struct vns_macvlan_port *port;
    struct vns_macvlan_dev *vlan, *src;
    const uint8_t *dest, *source;
    enum vns_rx_handler_result res;
    uint32_t len;

    /* Packets from dev_loopback_xmit() do not have L2 header, bail out */
    if (skb->pkt_type == VNS_PACKET_LOOPBACK)
        return VNS_RX_HANDLER_PASS;
    vns_fn_enter(ctx, VNS_FN_macvlan_handle_frame);
    port = macvlan_port_get(skb->dev);
    dest = vns_skb_mac_header(skb);
    source = dest + VNS_ETH_ALEN;
    if (vns_is_multicast_ether_addr(dest)) {
        src = macvlan_hash_lookup(port, source);
        if (src && src->mode != VNS_MACVLAN_MODE_VEPA && src->mode != VNS_MACVLAN_MODE_BRIDGE) {
            /* forward to original port. */
            int ret = macvlan_broadcast_one(ctx, skb, src, dest, false);

            len = skb->len + VNS_ETH_HLEN;
            if (ret == 0)
                ret = vns_netif_rx(ctx, skb);
            macvlan_count_rx(src, len, ret == VNS_NET_RX_SUCCESS, false);
            vns_fn_exit(ctx);
            return VNS_RX_HANDLER_CONSUMED;
        }
        macvlan_broadcast_enqueue(ctx, port, src, skb);
        vns_fn_exit(ctx);
        return VNS_RX_HANDLER_PASS;
    }
    if (port->passthru)
        vlan = port->vlans;
    else
        vlan = macvlan_hash_lookup(port, dest);
    if (!vlan || vlan->mode == VNS_MACVLAN_MODE_SOURCE) {
        vns_fn_exit(ctx);
        return VNS_RX_HANDLER_PASS;
    }
    if (!vns_netif_running(vlan->dev)) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_DEV_READY);
        vns_fn_exit(ctx);
        return VNS_RX_HANDLER_CONSUMED;
    }
    len = skb->len + VNS_ETH_HLEN;
    skb = vns_skb_share_check(skb);
    if (!skb) {
        macvlan_count_rx(vlan, len, false, false);
        res = VNS_RX_HANDLER_CONSUMED;
    } else {
        *pskb = skb;
        skb->dev = vlan->dev;
        skb->pkt_type = VNS_PACKET_HOST;
        macvlan_count_rx(vlan, len, true, false);
        res = VNS_RX_HANDLER_ANOTHER;
    }
    vns_fn_exit(ctx);
    return res;
}

static void macvlan_port_destroy(struct vns_macvlan_port *port)
{
    struct vns_net_device *lower = port->dev;

    vns_netdev_rx_handler_unregister(lower);
    lower->priv_flags &= ~VNS_IFF_MACVLAN_PORT;
    vns_skb_queue_purge_reason(&port->bc_queue, VNS_SKB_DROP_REASON_DEV_READY);
    vns_ctx_destroy(port->bc_worker);
    vns_free(port);
}

/* macvlan_device_event(NETDEV_UNREGISTER) on the lower: its vlans go too. */
static void macvlan_lower_notify(struct vns_net_device *lower, unsigned long event)
{
    struct vns_macvlan_port *port = macvlan_port_get(lower);

    if (!port || event != VNS_NETDEV_UNREGISTER)
        return;
    while (port->count > 1)
        vns_unregister_netdev(port->vlans->dev);
    vns_unregister_netdev(port->vlans->dev);   /* frees the port */
}

void vns_macvlan_uninit(struct vns_net_device *dev)
{
    struct vns_macvlan_dev *vlan = vns_macvlan_priv(dev);
    struct vns_macvlan_port *port = vlan->port;
    struct vns_macvlan_dev **pp;

    if (!port)
        return;
    for (pp = &port->vlans; *pp; pp = &(*pp)->next) {
        if (*pp == vlan) {
            *pp = vlan->next;
            break;
        }
    }
    if (vlan->mode == VNS_MACVLAN_MODE_PASSTHRU) {
        port->passthru = false;
        vns_dev_set_promiscuity(port->dev, -1);
    }
    vlan->port = NULL;
    if (--port->count == 0)
        macvlan_port_destroy(port);
}

static void macvlan_uninit_op(struct vns_net_device *dev)
{
    vns_macvlan_uninit(dev);
}

static const struct vns_net_device_ops macvlan_netdev_ops = {
    .kind = "macvlan",
    .priv_size = sizeof(struct vns_macvlan_dev),
    .ndo_start_xmit = vns_macvlan_start_xmit,
    .ndo_uninit = macvlan_uninit_op,
};

int vns_macvlan_newlink(struct vns_net_device *lower, const char *name, const struct vns_macvlan_config *cfg,
                        const struct vns_net_device_ops *ops, struct vns_net_device **out)
{
    enum vns_macvlan_mode mode = cfg && cfg->mode ? cfg->mode : VNS_MACVLAN_MODE_VEPA;
    struct vns_macvlan_port *port;
    struct vns_macvlan_dev *vlan, **pp;
    struct vns_net_device *dev = NULL;
    bool new_port = false;
    int err;

    if (!ops || ops->priv_size < sizeof(struct vns_macvlan_dev))
        return -VNS_EINVAL;
    if (mode != VNS_MACVLAN_MODE_PRIVATE && mode != VNS_MACVLAN_MODE_VEPA &&
        mode != VNS_MACVLAN_MODE_BRIDGE && mode != VNS_MACVLAN_MODE_PASSTHRU)
        return -VNS_EINVAL;
    if (lower->priv_flags & VNS_IFF_MACVLAN)
        return -VNS_EINVAL;   /* a macvlan on a macvlan uses its lower (not modelled) */
    port = macvlan_port_get(lower);
    if (!port) {
        if (lower->rx_handler)
            return -VNS_EBUSY;
        char wname[48];

        port = vns_calloc(1, sizeof(*port));
        if (!port)
            return -VNS_ENOMEM;
        port->dev = lower;
        vns_skb_queue_head_init(&port->bc_queue);
        /* system_unbound_wq: modelled by one kworker per port on the
         * kernel's first CPU */
        snprintf(wname, sizeof(wname), "kworker/u:%.20s-bc", lower->name);
        err = vns_ctx_create(vns_kernel_sim(lower->k),
                             &(struct vns_ctx_config){.kind = VNS_CTX_KTHREAD, .name = wname,
                                                      .cpu = vns_kernel_cpu(lower->k, 0),
                                                      .threadfn = VNS_FN_worker_thread,
                                                      .fn = macvlan_bc_work, .arg = port},
                             &port->bc_worker);
        if (err) {
            vns_free(port);
            return err;
        }
        err = vns_netdev_rx_handler_register(lower, macvlan_handle_frame, port);
        if (err) {
            vns_ctx_destroy(port->bc_worker);
            vns_free(port);
            return err;
        }
        lower->rx_handler_notify = macvlan_lower_notify;
        lower->priv_flags |= VNS_IFF_MACVLAN_PORT;
        new_port = true;
    }
    /* "Only one macvlan in passthru mode per lower" */
    if (port->passthru || (mode == VNS_MACVLAN_MODE_PASSTHRU && port->count)) {
        err = -VNS_EINVAL;
        goto fail_port;
    }
    err = vns_alloc_netdev(lower->k, name, ops, &dev);
    if (err)
        goto fail_port;
    /* macvlan_common_setup / macvlan_setup */
    dev->priv_flags |= VNS_IFF_MACVLAN;
    if (!(cfg && cfg->keep_qdisc))
        dev->priv_flags |= VNS_IFF_NO_QUEUE;
    else
        dev->tx_queue_len = 500;   /* macvtap_setup: TUN_READQ_SIZE */
    dev->features = lower->features | VNS_NETIF_F_LLTX;
    dev->mtu = lower->mtu;
    dev->max_mtu = lower->max_mtu;
    if (mode == VNS_MACVLAN_MODE_PASSTHRU)
        memcpy(dev->dev_addr, lower->dev_addr, VNS_ETH_ALEN);   /* eth_hw_addr_inherit */
    else if (cfg && cfg->addr)
        memcpy(dev->dev_addr, cfg->addr, VNS_ETH_ALEN);
    if (mode != VNS_MACVLAN_MODE_PASSTHRU && macvlan_hash_lookup(port, dev->dev_addr)) {
        err = -VNS_EEXIST;   /* macvlan_addr_busy */
        goto fail_dev;
    }
    vlan = vns_macvlan_priv(dev);
    memset(vlan, 0, sizeof(*vlan));
    vlan->dev = dev;
    vlan->lowerdev = lower;
    vlan->mode = mode;
    err = vns_register_netdev(dev);
    if (err)
        goto fail_dev;
    vlan->port = port;
    for (pp = &port->vlans; *pp; pp = &(*pp)->next)
        ;
    *pp = vlan;
    port->count++;
    if (mode == VNS_MACVLAN_MODE_PASSTHRU) {
        port->passthru = true;
        vns_dev_set_promiscuity(lower, 1);
    }
    *out = dev;
    return 0;
fail_dev:
    vns_free_netdev(dev);
fail_port:
    if (new_port)
        macvlan_port_destroy(port);
    return err;
}

int vns_macvlan_create(struct vns_net_device *lower, const char *name, const struct vns_macvlan_config *cfg,
                       struct vns_net_device **out)
{
    return vns_macvlan_newlink(lower, name, cfg, &macvlan_netdev_ops, out);
}

int vns_macvlan_set_mode(struct vns_net_device *dev, enum vns_macvlan_mode mode)
{
    struct vns_macvlan_dev *vlan = vns_macvlan_priv(dev);

    if (!(dev->priv_flags & VNS_IFF_MACVLAN) || !vlan->port)
        return -VNS_EINVAL;
    /* macvlan_changelink: passthru cannot be entered or left */
    if ((vlan->mode == VNS_MACVLAN_MODE_PASSTHRU) != (mode == VNS_MACVLAN_MODE_PASSTHRU))
        return -VNS_EINVAL;
    if (mode != VNS_MACVLAN_MODE_PRIVATE && mode != VNS_MACVLAN_MODE_VEPA &&
        mode != VNS_MACVLAN_MODE_BRIDGE && mode != VNS_MACVLAN_MODE_PASSTHRU)
        return -VNS_EINVAL;
    vlan->mode = mode;
    return 0;
}
