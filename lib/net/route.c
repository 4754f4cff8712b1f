/* lib/net/route.c -- interface addresses and the IPv4 routing table.
 * LINUX: net/ipv4/devinet.c (inet_insert_ifa), fib_frontend.c
 * (fib_add_ifaddr: a local route for the address and a link-scope prefix
 * route), fib_trie.c (fib_table_lookup: longest prefix match, then the
 * first alias by priority), route.c (ip_route_output_key_hash: saddr
 * selection, RTN_LOCAL for our own addresses).
 *
 * Simplified: one table (main + local merged), a linear array scanned for
 * the longest prefix (routing tables here hold a handful of entries); no
 * route cache, no PMTU exceptions (the route MTU is the device MTU), no
 * multipath, no policy rules. */
#include <string.h>

#include "inet_int.h"

static uint32_t plen_mask(unsigned plen)
{
    return plen == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - plen));
}

struct inet_ifaddr *vns__inet_ifa_for_dev(struct vns_inet *inet, const struct vns_net_device *dev)
{
    for (unsigned i = 0; i < inet->nifa; i++)
        if (inet->ifa[i].dev == dev)
            return &inet->ifa[i];
    return NULL;
}

bool vns_inet_addr_is_local(const struct vns_inet *inet, uint32_t addr)
{
    for (unsigned i = 0; i < inet->nifa; i++)
        if (inet->ifa[i].addr == addr)
            return true;
    return (addr >> 24) == 127;
}

static int route_insert(struct vns_inet *inet, const struct fib_route *r)
{
    for (unsigned i = 0; i < inet->nroutes; i++) {
        const struct fib_route *o = &inet->routes[i];

        if (o->dst == r->dst && o->plen == r->plen && o->metric == r->metric && o->type == r->type)
            return -VNS_EEXIST;
    }
    if (inet->nroutes == INET_MAX_ROUTES)
        return -VNS_ENOSPC;
    inet->routes[inet->nroutes++] = *r;
    return 0;
}

int vns_inet_addr_add(struct vns_inet *inet, struct vns_net_device *dev, uint32_t addr,
                      unsigned plen)
{
    struct fib_route r;
    int err;

    if (!inet || !dev || plen > 32)
        return -VNS_EINVAL;
    for (unsigned i = 0; i < inet->nifa; i++)
        if (inet->ifa[i].addr == addr)
            return -VNS_EEXIST;
    if (inet->nifa == INET_MAX_IFA)
        return -VNS_ENOSPC;
    /* fib_add_ifaddr: local route (type LOCAL, /32) */
    memset(&r, 0, sizeof(r));
    r.dst = addr;
    r.plen = 32;
    r.mask = plen_mask(32);
    r.dev = dev;
    r.prefsrc = addr;
    r.type = VNS_RTN_LOCAL;
    err = route_insert(inet, &r);
    if (err)
        return err;
    /* ... and the prefix route, scope link (unless /32) */
    if (plen < 32) {
        r.plen = plen;
        r.mask = plen_mask(plen);
        r.dst = addr & r.mask;
        r.type = VNS_RTN_UNICAST;
        err = route_insert(inet, &r);
        if (err && err != -VNS_EEXIST) {
            inet->nroutes--;
            return err;
        }
    }
    inet->ifa[inet->nifa].dev = dev;
    inet->ifa[inet->nifa].addr = addr;
    inet->ifa[inet->nifa].plen = plen;
    inet->ifa[inet->nifa].mask = plen_mask(plen);
    inet->nifa++;
    return 0;
}

int vns_inet_route_add(struct vns_inet *inet, uint32_t dst, unsigned plen, uint32_t gw,
                       struct vns_net_device *dev, unsigned metric)
{
    struct fib_route r;
    struct inet_ifaddr *ifa;

    if (!inet || !dev || plen > 32)
        return -VNS_EINVAL;
    memset(&r, 0, sizeof(r));
    r.plen = plen;
    r.mask = plen_mask(plen);
    r.dst = dst & r.mask;
    r.gw = gw;
    r.dev = dev;
    r.metric = metric;
    r.type = VNS_RTN_UNICAST;
    ifa = vns__inet_ifa_for_dev(inet, dev);
    r.prefsrc = ifa ? ifa->addr : 0;
    return route_insert(inet, &r);
}

int vns_inet_route_del(struct vns_inet *inet, uint32_t dst, unsigned plen, unsigned metric)
{
    uint32_t mask = plen_mask(plen);

    for (unsigned i = 0; i < inet->nroutes; i++) {
        struct fib_route *o = &inet->routes[i];

        if (o->type == VNS_RTN_UNICAST && o->dst == (dst & mask) && o->plen == plen &&
            o->metric == metric) {
            memmove(o, o + 1, (inet->nroutes - i - 1) * sizeof(*o));
            inet->nroutes--;
            return 0;
        }
    }
    return -VNS_ENOENT;
}

/* fib_table_lookup: longest prefix; among equal prefixes the lowest
 * metric (fib_alias order), then the first added. */
static const struct fib_route *fib_lookup(const struct vns_inet *inet, uint32_t daddr)
{
    const struct fib_route *best = NULL;

    for (unsigned i = 0; i < inet->nroutes; i++) {
        const struct fib_route *r = &inet->routes[i];

        if ((daddr & r->mask) != r->dst)
            continue;
        if (!(r->dev->flags & VNS_IFF_UP))
            continue; /* fib_table_lookup skips nexthops with a dead device */
        if (!best || r->plen > best->plen || (r->plen == best->plen && r->metric < best->metric))
            best = r;
    }
    return best;
}

int vns_ip_route_output(struct vns_inet *inet, uint32_t daddr, struct vns_rtable *rt)
{
    const struct fib_route *r;

    memset(rt, 0, sizeof(*rt));
    if (daddr == 0xffffffffu) {
        /* limited broadcast: the first device with an address
         * (ip_route_output_key_hash needs an oif; we pick one) */
        if (!inet->nifa)
            return -VNS_EHOSTUNREACH;
        rt->type = VNS_RTN_BROADCAST;
        rt->dev = inet->ifa[0].dev;
        rt->gw = daddr;
        rt->prefsrc = inet->ifa[0].addr;
        rt->mtu = rt->dev->mtu;
        return 0;
    }
    r = fib_lookup(inet, daddr);
    if (!r)
        return -VNS_EHOSTUNREACH;
    rt->type = r->type;
    rt->dev = r->dev;
    rt->gw = r->gw ? r->gw : daddr;
    rt->plen = r->plen;
    rt->prefsrc = r->prefsrc;
    if (!rt->prefsrc) {
        struct inet_ifaddr *ifa = vns__inet_ifa_for_dev(inet, r->dev);

        rt->prefsrc = ifa ? ifa->addr : (inet->nifa ? inet->ifa[0].addr : 0);
    }
    rt->mtu = r->dev->mtu;
    /* directed broadcast of a connected prefix */
    if (r->type == VNS_RTN_UNICAST && !r->gw && r->plen < 31 && (daddr | r->mask) == 0xffffffffu)
        rt->type = VNS_RTN_BROADCAST;
    return 0;
}
