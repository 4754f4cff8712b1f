/* lib/net/neigh.c -- the neighbour table (ARP cache) and neighbour output.
 * LINUX: net/core/neighbour.c (__neigh_event_send, neigh_timer_handler,
 * __neigh_update, neigh_resolve_output, neigh_invalidate),
 * include/net/neighbour.h (neigh_output, neigh_hh_output), net/ipv4/arp.c
 * (arp_constructor: NOARP for broadcast). Parameters: arp_tbl.parms
 * (lib/net/inet_int.h): 3 unicast + 3 multicast probes, retrans 1 s,
 * base reachable 30 s (randomised to [1/2, 3/2)), delay_probe 5 s, an
 * unresolved queue of unres_qlen_bytes = SK_WMEM_MAX bytes (oldest
 * packets dropped first, counted as unres_discards).
 *
 * Simplified: no garbage collection (gc_thresh*), no proxy ARP, no
 * hh_cache seqlock (the Ethernet header is rebuilt from n->ha, which is
 * what the cache holds); NUD_FAILED entries are re-probed on the next
 * packet as NUD_NONE ones are. */
#include <string.h>

#include "inet_int.h"

static vns_time_t neigh_rand_reach_time(struct vns_inet *inet)
{
    /* neigh_rand_reach_time: base/2 + prandom % base */
    return ARP_BASE_REACHABLE_TIME / 2 + vns_rng_below(&inet->rng, ARP_BASE_REACHABLE_TIME);
}

static uint32_t neigh_hash(const struct vns_inet *inet, uint32_t ip)
{
    return (ip * 0x9e3779b1u) >> (32 - inet->neigh_hash_shift);
}

/* neigh_hash_grow: room for @inet's neighbours at one per bucket,
 * rehashing the whole list. Returns false on allocation failure: the old
 * table stays (longer chains, same answers). */
static bool neigh_hash_grow(struct vns_inet *inet)
{
    uint32_t shift = inet->neigh_hash_shift ? inet->neigh_hash_shift + 1 : 3;
    struct vns_neighbour **h = vns_calloc((size_t)1 << shift, sizeof(*h));

    if (!h)
        return false;
    vns_free(inet->neigh_hash);
    inet->neigh_hash = h;
    inet->neigh_hash_shift = shift;
    for (struct vns_neighbour *n = inet->neighs; n; n = n->next) {
        n->hnext = h[neigh_hash(inet, n->ip)];
        h[neigh_hash(inet, n->ip)] = n;
    }
    return true;
}

struct vns_neighbour *vns__neigh_lookup(struct vns_inet *inet, const struct vns_net_device *dev,
                                        uint32_t ip)
{
    inet->stats.neigh_lookups++;
    if (!inet->neigh_hash) {   /* never allocated: the list is all there is */
        for (struct vns_neighbour *n = inet->neighs; n; n = n->next)
            if (n->dev == dev && n->ip == ip)
                return n;
        return NULL;
    }
    for (struct vns_neighbour *n = inet->neigh_hash[neigh_hash(inet, ip)]; n; n = n->hnext)
        if (n->dev == dev && n->ip == ip)
            return n;
    return NULL;
}

static void neigh_timer_handler(struct vns_ctx *ctx, struct vns_timer_list *t);

/* arp_constructor: broadcast and multicast destinations need no ARP. */
static void arp_constructor(struct vns_inet *inet, struct vns_neighbour *n)
{
    struct inet_ifaddr *ifa = vns__inet_ifa_for_dev(inet, n->dev);

    if (n->ip == 0xffffffffu || (ifa && ifa->plen < 31 && (n->ip | ifa->mask) == 0xffffffffu &&
                                 (n->ip & ifa->mask) == (ifa->addr & ifa->mask))) {
        n->nud_state = VNS_NUD_NOARP;
        memcpy(n->ha, n->dev->broadcast, VNS_ETH_ALEN);
    } else if ((n->ip >> 28) == 0xe) {
        /* ip_eth_mc_map: 01:00:5e + low 23 bits */
        n->nud_state = VNS_NUD_NOARP;
        n->ha[0] = 0x01;
        n->ha[1] = 0x00;
        n->ha[2] = 0x5e;
        n->ha[3] = (uint8_t)((n->ip >> 16) & 0x7f);
        n->ha[4] = (uint8_t)(n->ip >> 8);
        n->ha[5] = (uint8_t)n->ip;
    }
}

struct vns_neighbour *vns__neigh_create(struct vns_inet *inet, struct vns_net_device *dev,
                                        uint32_t ip)
{
    struct vns_neighbour *n = vns_calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->inet = inet;
    n->dev = dev;
    n->ip = ip;
    n->nud_state = VNS_NUD_NONE;
    n->reachable_time = neigh_rand_reach_time(inet);
    vns_skb_queue_head_init(&n->arp_queue);
    vns_timer_list_init(&n->timer, vns_kernel_cpu(inet->k, 0), VNS_FN_neigh_timer_handler,
                        neigh_timer_handler, n);
    arp_constructor(inet, n);
    n->next = inet->neighs;
    inet->neighs = n;
    if ((inet->nneigh + 1 > (inet->neigh_hash_shift ? 1u << inet->neigh_hash_shift : 0u) &&
         neigh_hash_grow(inet)) || !inet->neigh_hash) {
        /* rehashed with the list, n included (or no table at all yet) */
    } else {
        n->hnext = inet->neigh_hash[neigh_hash(inet, ip)];
        inet->neigh_hash[neigh_hash(inet, ip)] = n;
    }
    inet->nneigh++;
    inet->stats.neigh_allocs++;
    return n;
}

void vns__neigh_destroy_all(struct vns_inet *inet)
{
    struct vns_neighbour *n = inet->neighs;

    while (n) {
        struct vns_neighbour *next = n->next;

        vns_del_timer(&n->timer);
        vns_skb_queue_purge_reason(&n->arp_queue, VNS_SKB_DROP_REASON_QUEUE_PURGE);
        vns_free(n);
        n = next;
    }
    inet->neighs = NULL;
    vns_free(inet->neigh_hash);
    inet->neigh_hash = NULL;
    inet->neigh_hash_shift = 0;
    inet->nneigh = 0;
}

int vns_neigh_get(const struct vns_inet *inet, const struct vns_net_device *dev, uint32_t ip,
                  struct vns_neigh_info *info)
{
    for (const struct vns_neighbour *n = inet->neighs; n; n = n->next) {
        if (n->dev == dev && n->ip == ip) {
            info->nud_state = n->nud_state;
            memcpy(info->ha, n->ha, VNS_ETH_ALEN);
            info->arp_queue_len = n->arp_queue.qlen;
            info->probes = n->probes;
            return 0;
        }
    }
    return -VNS_ENOENT;
}

int vns_neigh_add_permanent(struct vns_inet *inet, struct vns_net_device *dev, uint32_t ip,
                            const uint8_t *ha)
{
    struct vns_neighbour *n = vns__neigh_lookup(inet, dev, ip);

    if (!n)
        n = vns__neigh_create(inet, dev, ip);
    if (!n)
        return -VNS_ENOMEM;
    vns__neigh_update(NULL, n, ha, VNS_NUD_PERMANENT);
    return 0;
}

static void neigh_arm(struct vns_neighbour *n, vns_time_t when)
{
    vns_mod_timer(&n->timer, when);
}

static unsigned neigh_max_probes(const struct vns_neighbour *n)
{
    /* UCAST_PROBES + APP_PROBES + (INCOMPLETE ? MCAST_PROBES : MCAST_REPROBES 0) */
    return ARP_UCAST_PROBES + ((n->nud_state & VNS_NUD_INCOMPLETE) ? ARP_MCAST_PROBES : 0);
}

/* neigh_probe -> arp_solicit: broadcast while INCOMPLETE (or the unicast
 * probes are used up), unicast to the cached address in PROBE. */
static void neigh_probe(struct vns_ctx *ctx, struct vns_neighbour *n)
{
    struct vns_inet *inet = n->inet;
    struct inet_ifaddr *ifa = vns__inet_ifa_for_dev(inet, n->dev);
    uint32_t saddr = ifa ? ifa->addr : (inet->nifa ? inet->ifa[0].addr : 0);
    const uint8_t *dst_ha = NULL;

    vns_fn_enter(ctx, VNS_FN_arp_solicit);
    if ((n->nud_state & VNS_NUD_VALID) && n->probes < ARP_UCAST_PROBES)
        dst_ha = n->ha;
    n->probes++;
    vns__arp_send(ctx, inet, ARPOP_REQUEST, n->dev, n->ip, saddr, dst_ha, NULL);
    vns_fn_exit(ctx);
}

/* neigh_invalidate: resolution failed; queued packets are dropped (the
 * kernel reports EHOSTUNREACH to their sockets). */
static void neigh_invalidate(struct vns_neighbour *n)
{
    n->inet->stats.neigh_res_failed++;
    n->inet->stats.ip_out_discards += n->arp_queue.qlen;
    /* arp_error_report: kfree_skb_reason(skb, NEIGH_FAILED) (6.x
     * net/ipv4/arp.c) */
    vns_skb_queue_purge_reason(&n->arp_queue, VNS_SKB_DROP_REASON_NEIGH_FAILED);
    n->arp_queue_len_bytes = 0;
}

static void neigh_timer_handler(struct vns_ctx *ctx, struct vns_timer_list *t)
{
    struct vns_neighbour *n = t->data;
    vns_time_t now = inet_now(ctx, n->inet), next = now + ARP_RETRANS_TIME;
    unsigned state = n->nud_state;

    if (!(state & (VNS_NUD_REACHABLE | VNS_NUD_DELAY | VNS_NUD_PROBE | VNS_NUD_INCOMPLETE)))
        return;
    if (state & VNS_NUD_REACHABLE) {
        if (now <= n->confirmed + n->reachable_time) {
            next = n->confirmed + n->reachable_time;
        } else if (now <= n->used + ARP_DELAY_PROBE_TIME) {
            n->nud_state = VNS_NUD_DELAY;
            n->updated = now;
            next = now + ARP_DELAY_PROBE_TIME;
        } else {
            n->nud_state = VNS_NUD_STALE;
            n->updated = now;
            return;
        }
    } else if (state & VNS_NUD_DELAY) {
        if (now <= n->confirmed + ARP_DELAY_PROBE_TIME) {
            n->nud_state = VNS_NUD_REACHABLE;
            n->updated = now;
            next = n->confirmed + n->reachable_time;
        } else {
            n->nud_state = VNS_NUD_PROBE;
            n->updated = now;
            n->probes = 0;
            next = now + ARP_RETRANS_TIME;
        }
    }
    if ((n->nud_state & (VNS_NUD_INCOMPLETE | VNS_NUD_PROBE)) && n->probes >= neigh_max_probes(n)) {
        n->nud_state = VNS_NUD_FAILED;
        neigh_invalidate(n);
        return;
    }
    if (n->nud_state & (VNS_NUD_INCOMPLETE | VNS_NUD_PROBE | VNS_NUD_REACHABLE | VNS_NUD_DELAY))
        neigh_arm(n, next);
    if (n->nud_state & (VNS_NUD_INCOMPLETE | VNS_NUD_PROBE))
        neigh_probe(ctx, n);
}

/* __neigh_event_send: 0 = the packet may go now, 1 = it was queued (or
 * dropped) waiting for resolution. Consumes @skb when it returns 1. */
static int neigh_event_send(struct vns_ctx *ctx, struct vns_neighbour *n, struct vns_skb *skb)
{
    struct vns_inet *inet = n->inet;
    vns_time_t now = inet_now(ctx, inet);
    bool immediate_probe = false;
    uint32_t truesize;

    n->used = now;
    if (n->nud_state & (VNS_NUD_CONNECTED | VNS_NUD_DELAY | VNS_NUD_PROBE))
        return 0;
    vns_fn_enter(ctx, VNS_FN___neigh_event_send);
    if (!(n->nud_state & (VNS_NUD_STALE | VNS_NUD_INCOMPLETE))) {
        /* NONE or FAILED: start resolving */
        n->probes = ARP_UCAST_PROBES;
        n->nud_state = VNS_NUD_INCOMPLETE;
        n->updated = now;
        neigh_arm(n, now + ARP_RETRANS_TIME);
        immediate_probe = true;
    } else if (n->nud_state & VNS_NUD_STALE) {
        n->nud_state = VNS_NUD_DELAY;
        n->updated = now;
        neigh_arm(n, now + ARP_DELAY_PROBE_TIME);
        vns_fn_exit(ctx);
        return 0;
    }
    /* INCOMPLETE: queue, dropping the oldest beyond unres_qlen_bytes */
    truesize = skb->truesize;
    while (n->arp_queue_len_bytes + truesize > ARP_QUEUE_LEN_BYTES) {
        struct vns_skb *old = vns_skb_dequeue(&n->arp_queue);

        if (!old)
            break;
        n->arp_queue_len_bytes -= old->truesize;
        inet->stats.neigh_unres_discards++;
        vns_kfree_skb_reason(old, VNS_SKB_DROP_REASON_NEIGH_QUEUEFULL);
    }
    vns_skb_queue_tail(&n->arp_queue, skb);
    n->arp_queue_len_bytes += truesize;
    if (immediate_probe)
        neigh_probe(ctx, n);
    vns_fn_exit(ctx);
    return 1;
}

/* Fill the Ethernet header from the neighbour and hand to the device. */
static int neigh_xmit_ll(struct vns_ctx *ctx, struct vns_neighbour *n, struct vns_skb *skb)
{
    uint8_t *eth;

    if (vns_skb_headroom(skb) < VNS_ETH_HLEN) {
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_NOMEM);
        return -VNS_ENOMEM;
    }
    eth = vns_skb_push(skb, VNS_ETH_HLEN);
    memcpy(eth, n->ha, VNS_ETH_ALEN);
    memcpy(eth + 6, n->dev->dev_addr, VNS_ETH_ALEN);
    vns_put_be16(eth + 12, VNS_ETH_P_IP);
    vns_skb_reset_mac_header(skb);
    skb->dev = n->dev;
    skb->protocol = VNS_ETH_P_IP;
    return vns_dev_queue_xmit(ctx, skb);
}

/* neigh_resolve_output: resolve, then send (or leave queued). */
static int neigh_resolve_output(struct vns_ctx *ctx, struct vns_neighbour *n, struct vns_skb *skb)
{
    int rc;

    vns_fn_enter(ctx, VNS_FN_neigh_resolve_output);
    if (neigh_event_send(ctx, n, skb)) {
        vns_fn_exit(ctx);
        return 0;
    }
    rc = neigh_xmit_ll(ctx, n, skb);
    vns_fn_exit(ctx);
    return rc;
}

/* neigh_output: the cached header when NUD_CONNECTED (neigh_hh_output),
 * else n->output = neigh_resolve_output. Consumes @skb (data at the IPv4
 * header). */
int vns__neigh_output(struct vns_ctx *ctx, struct vns_neighbour *n, struct vns_skb *skb)
{
    int rc;

    vns_fn_enter(ctx, VNS_FN_neigh_output);
    if (n->nud_state & VNS_NUD_CONNECTED) {
        vns_fn_enter(ctx, VNS_FN_neigh_hh_output);
        n->used = inet_now(ctx, n->inet);
        rc = neigh_xmit_ll(ctx, n, skb);
        vns_fn_exit(ctx);
    } else {
        rc = neigh_resolve_output(ctx, n, skb);
    }
    vns_fn_exit(ctx);
    return rc;
}

/* __neigh_update: new link-layer address and state (ARP reply/request,
 * or an administrative entry). A newly valid entry sends its queue. */
void vns__neigh_update(struct vns_ctx *ctx, struct vns_neighbour *n, const uint8_t *lladdr,
                       unsigned state)
{
    vns_time_t now = inet_now(ctx, n->inet);
    unsigned old = n->nud_state;

    vns_fn_enter(ctx, VNS_FN_neigh_update);
    if (old & (VNS_NUD_NOARP | VNS_NUD_PERMANENT) && !(state & VNS_NUD_PERMANENT)) {
        vns_fn_exit(ctx);
        return; /* NEIGH_UPDATE_F_ADMIN needed to change those */
    }
    /* A STALE update with the same address keeps a better state. */
    if (state == VNS_NUD_STALE && (old & VNS_NUD_VALID) && lladdr &&
        vns_ether_addr_equal(lladdr, n->ha) && !(old & VNS_NUD_STALE)) {
        vns_fn_exit(ctx);
        return;
    }
    if (lladdr)
        memcpy(n->ha, lladdr, VNS_ETH_ALEN);
    n->nud_state = state;
    n->updated = now;
    if (state & VNS_NUD_CONNECTED)
        n->confirmed = now;
    if (state & VNS_NUD_REACHABLE)
        neigh_arm(n, now + n->reachable_time);
    else if (!(state & (VNS_NUD_INCOMPLETE | VNS_NUD_PROBE | VNS_NUD_DELAY)))
        vns_del_timer(&n->timer);
    n->probes = 0;
    if (!(old & VNS_NUD_VALID) && (state & VNS_NUD_VALID)) {
        struct vns_skb *skb;

        while ((skb = vns_skb_dequeue(&n->arp_queue)) != NULL) {
            n->arp_queue_len_bytes -= skb->truesize;
            neigh_xmit_ll(ctx, n, skb);
        }
        n->arp_queue_len_bytes = 0;
    }
    vns_fn_exit(ctx);
}
