/* lib/net/netdev.c -- device lifecycle: alloc_netdev, register_netdevice,
 * dev_open/dev_close with dev_activate/dev_deactivate, rx_handler
 * registration, tx queue stop/wake. LINUX: net/core/dev.c,
 * net/ethernet/eth.c (ether_setup), net/sched/sch_generic.c (dev_activate,
 * attach_one_default_qdisc, dev_deactivate).
 *
 * Simplified: one tx queue; no notifier chain (the devices that care, the
 * bridge and macvlan, are told directly by their own code); no rtnl. */
#include <stdio.h>
#include <string.h>

#include "net_int.h"

int vns_alloc_netdev(struct vns_kernel *k, const char *name, const struct vns_net_device_ops *ops,
                     struct vns_net_device **out)
{
    struct vns_net_device *dev;
    char buf[VNS_IFNAMSIZ];
    const char *pct;

    if (!k || !ops || !name || strlen(name) >= VNS_IFNAMSIZ)
        return -VNS_EINVAL;
    pct = strstr(name, "%d");
    if (pct) {
        /* dev_alloc_name: the first free number. */
        int i;

        for (i = 0; i < 1000; i++) {
            snprintf(buf, sizeof(buf), "%.*s%d%s", (int)(pct - name), name, i, pct + 2);
            if (!vns_dev_get_by_name(k, buf))
                break;
        }
        if (i == 1000)
            return -VNS_ENOSPC;
        name = buf;
    }
    dev = vns_calloc(1, sizeof(*dev) + ops->priv_size + 16);
    if (!dev)
        return -VNS_ENOMEM;
    snprintf(dev->name, sizeof(dev->name), "%s", name);
    dev->k = k;
    dev->ops = ops;
    dev->priv = ops->priv_size ? (void *)((char *)dev + ((sizeof(*dev) + 15) & ~(size_t)15)) : NULL;
    /* ether_setup */
    dev->flags = VNS_IFF_BROADCAST | VNS_IFF_MULTICAST;
    dev->mtu = VNS_ETH_DATA_LEN;
    dev->min_mtu = VNS_ETH_MIN_MTU;
    dev->max_mtu = VNS_ETH_DATA_LEN;
    dev->hard_header_len = VNS_ETH_HLEN;
    dev->tx_queue_len = 1000;      /* DEFAULT_TX_QUEUE_LEN */
    dev->gso_max_size = VNS_GSO_MAX_SIZE;
    memset(dev->broadcast, 0xff, VNS_ETH_ALEN);
    vns_kernel_random_ether_addr(k, dev->dev_addr);
    dev->txq.dev = dev;
    dev->txq.xmit_lock_owner = -1;
    *out = dev;
    return 0;
}

void vns_free_netdev(struct vns_net_device *dev)
{
    if (!dev)
        return;
    vns_qdisc_destroy(dev->txq.qdisc_sleeping);
    if (dev->txq.qdisc != dev->txq.qdisc_sleeping)
        vns_qdisc_destroy(dev->txq.qdisc);
    vns_free(dev);
}

/* A new book at the end of the kernel's list (never freed before it). */
static struct vns_dev_book *netdev_book_new(struct vns_kernel *k)
{
    unsigned i = k->nbooks;
    struct vns_dev_book *b;

    if (i < VNS__NBOOKS0) {
        b = &k->books0[i];
    } else {
        struct vns__book_chunk *c = k->book_chunks;

        if ((i - VNS__NBOOKS0) % VNS__BOOK_CHUNK == 0) {
            if (!(c = vns_calloc(1, sizeof(*c))))
                return NULL;
            c->next = k->book_chunks;
            k->book_chunks = c;
        }
        b = &c->b[(i - VNS__NBOOKS0) % VNS__BOOK_CHUNK];
    }
    k->nbooks++;
    *(k->books_tail ? k->books_tail : &k->books) = b;
    k->books_tail = &b->next;
    return b;
}

int vns_register_netdev(struct vns_net_device *dev)
{
    struct vns_kernel *k = dev->k;
    struct vns_net_device **pp;
    struct vns_Qdisc *noop = NULL;
    int err;

    if (!dev->ops->kind || !dev->ops->ndo_start_xmit)
        return -VNS_EINVAL;
    if (vns_dev_get_by_name(k, dev->name))
        return -VNS_EEXIST;
    err = vns_qdisc_create(dev, &vns_noop_qdisc_ops, 0, &noop);
    if (err)
        return err;
    if (!dev->book && !(dev->book = netdev_book_new(k))) {
        vns_qdisc_destroy(noop);
        return -VNS_ENOMEM;
    }
    memcpy(dev->book->name, dev->name, sizeof(dev->book->name));
    dev->book->kind = dev->ops->kind;
    dev->book->gone = false;
    dev->txq.qdisc = noop;
    dev->ifindex = k->next_ifindex++;
    for (pp = &k->devs; *pp; pp = &(*pp)->k_next)
        ;
    *pp = dev;
    return 0;
}

void vns_unregister_netdev(struct vns_net_device *dev)
{
    struct vns_net_device **pp;
    struct vns_kernel *k;

    if (!dev)
        return;
    k = dev->k;
    if (dev->rx_handler_notify)
        dev->rx_handler_notify(dev, VNS_NETDEV_UNREGISTER);
    vns_dev_close(dev);
    if (dev->ops->ndo_uninit)
        dev->ops->ndo_uninit(dev);
    for (pp = &k->devs; *pp; pp = &(*pp)->k_next) {
        if (*pp == dev) {
            *pp = dev->k_next;
            break;
        }
    }
    /* Packets of this device still in a backlog are dropped (flush_backlog). */
    for (unsigned i = 0; i < k->cfg.ncpus; i++) {
        struct vns_skb_head *qs[2] = {&k->sd[i].input_pkt_queue, &k->sd[i].process_queue};

        for (int j = 0; j < 2; j++) {
            struct vns_skb_head keep;
            struct vns_skb *skb;

            vns_skb_queue_head_init(&keep);
            while ((skb = vns_skb_dequeue(qs[j])) != NULL) {
                if (skb->dev == dev)
                    vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_DEV_READY);
                else
                    vns_skb_queue_tail(&keep, skb);
            }
            *qs[j] = keep;
        }
    }
    if (dev->book)
        dev->book->gone = true; /* the kernel keeps it for the ledger */
    vns_free_netdev(dev);
}

const struct vns_dev_book *vns_kernel_dev_books(const struct vns_kernel *k)
{
    return k->books;
}

void vns_dev_book_in(struct vns_net_device *dev, struct vns_skb *skb)
{
    vns__book_in(dev->book, skb);
}

struct vns_net_device *vns_dev_get_by_name(const struct vns_kernel *k, const char *name)
{
    for (struct vns_net_device *d = k->devs; d; d = d->k_next)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

struct vns_net_device *vns_dev_get_by_index(const struct vns_kernel *k, int ifindex)
{
    for (struct vns_net_device *d = k->devs; d; d = d->k_next)
        if (d->ifindex == ifindex)
            return d;
    return NULL;
}

/* dev_activate: attach_one_default_qdisc on first open, then make the
 * configured qdisc active. */
void vns__dev_activate(struct vns_net_device *dev)
{
    struct vns_netdev_queue *txq = &dev->txq;

    if (!txq->qdisc_sleeping) {
        struct vns_Qdisc *q = NULL;
        const struct vns_Qdisc_ops *dflt = vns_qdisc_lookup_ops(dev->k->cfg.default_qdisc);
        const struct vns_Qdisc_ops *ops =
            (dev->priv_flags & VNS_IFF_NO_QUEUE) ? &vns_noqueue_qdisc_ops : dflt;

        if (vns_qdisc_create(dev, ops, dev->tx_queue_len, &q) < 0) {
            /* pfifo_fast on tx_queue_len 0 fails: the kernel then keeps
             * noqueue (qdisc_create_dflt failure -> noop, but
             * attach_one_default_qdisc uses noqueue for tx_queue_len 0). */
            if (vns_qdisc_create(dev, &vns_noqueue_qdisc_ops, 0, &q) < 0)
                return;
        }
        q->flags |= VNS_TCQ_F_ONETXQUEUE | VNS_TCQ_F_NOPARENT;
        txq->qdisc_sleeping = q;
    }
    if (txq->qdisc != txq->qdisc_sleeping) {
        vns_qdisc_destroy(txq->qdisc);   /* the noop placeholder */
        txq->qdisc = txq->qdisc_sleeping;
    }
    txq->qdisc->deactivated = false;
}

/* dev_deactivate: noop qdisc active, queued packets dropped (qdisc_reset). */
void vns__dev_deactivate(struct vns_net_device *dev)
{
    struct vns_netdev_queue *txq = &dev->txq;
    struct vns_Qdisc *noop = NULL;

    if (!txq->qdisc || txq->qdisc == txq->qdisc_sleeping) {
        if (vns_qdisc_create(dev, &vns_noop_qdisc_ops, 0, &noop) < 0)
            return;
        if (txq->qdisc_sleeping) {
            txq->qdisc_sleeping->deactivated = true;
            vns_qdisc_reset(txq->qdisc_sleeping);
        }
        txq->qdisc = noop;
    }
}

int vns_dev_open(struct vns_net_device *dev)
{
    int err;

    if (dev->flags & VNS_IFF_UP)
        return 0;
    if (dev->ops->ndo_open) {
        err = dev->ops->ndo_open(dev);
        if (err)
            return err;
    }
    dev->flags |= VNS_IFF_UP;
    vns__dev_activate(dev);
    if (dev->rx_handler_notify)
        dev->rx_handler_notify(dev, VNS_NETDEV_UP);
    return 0;
}

void vns_dev_close(struct vns_net_device *dev)
{
    if (!(dev->flags & VNS_IFF_UP))
        return;
    vns__dev_deactivate(dev);
    if (dev->ops->ndo_stop)
        dev->ops->ndo_stop(dev);
    dev->flags &= ~VNS_IFF_UP;
    if (dev->rx_handler_notify)
        dev->rx_handler_notify(dev, VNS_NETDEV_DOWN);
}

int vns_dev_set_mtu(struct vns_net_device *dev, unsigned mtu)
{
    if (mtu < dev->min_mtu || mtu > dev->max_mtu)
        return -VNS_EINVAL;
    if (dev->ops->ndo_change_mtu)
        return dev->ops->ndo_change_mtu(dev, mtu);
    dev->mtu = mtu;
    return 0;
}

void vns_dev_set_addr(struct vns_net_device *dev, const uint8_t *addr)
{
    memcpy(dev->dev_addr, addr, VNS_ETH_ALEN);
}

void vns_dev_set_promiscuity(struct vns_net_device *dev, int inc)
{
    if (inc > 0)
        dev->promiscuity++;
    else if (dev->promiscuity > 0)
        dev->promiscuity--;
    if (dev->promiscuity)
        dev->flags |= VNS_IFF_PROMISC;
    else
        dev->flags &= ~VNS_IFF_PROMISC;
}

int vns_netdev_rx_handler_register(struct vns_net_device *dev, vns_rx_handler_func_t h, void *data)
{
    if (dev->rx_handler)
        return -VNS_EBUSY;
    dev->rx_handler = h;
    dev->rx_handler_data = data;
    return 0;
}

void vns_netdev_rx_handler_unregister(struct vns_net_device *dev)
{
    dev->rx_handler = NULL;
    dev->rx_handler_data = NULL;
    dev->rx_handler_notify = NULL;
}

void vns_netif_stop_queue(struct vns_net_device *dev)
{
    if (!(dev->txq.state & VNS_QUEUE_STATE_DRV_XOFF))
        dev->txq.stops++;
    dev->txq.state |= VNS_QUEUE_STATE_DRV_XOFF;
}

void vns_netif_wake_queue(struct vns_ctx *ctx, struct vns_net_device *dev)
{
    /* netif_tx_wake_queue: clear XOFF and, if it was set, __netif_schedule. */
    if (!(dev->txq.state & VNS_QUEUE_STATE_DRV_XOFF))
        return;
    dev->txq.state &= ~VNS_QUEUE_STATE_DRV_XOFF;
    dev->txq.wakes++;
    if (dev->txq.qdisc && dev->txq.qdisc->ops->enqueue)
        vns___netif_schedule(ctx, dev->txq.qdisc);
}
