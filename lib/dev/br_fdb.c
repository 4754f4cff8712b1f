/* lib/dev/br_fdb.c -- the bridge forwarding database: lookup, learning
 * (br_fdb_update), local and static entries, ageing (br_fdb_cleanup).
 * LINUX: net/bridge/br_fdb.c (linux-5.4).
 *
 * Modelled as 5.4: br_fdb_update ignores ports not in LEARNING/FORWARDING
 * and a bridge with ageing_time 0 (hold_time 0: "some users want to always
 * flood"); an own (local) address seen as a source is ignored (the kernel
 * warns); a station that moved updates dst; lookups do not check expiry
 * (5.4's fdb_find_rcu; the gc deletes expired entries); br_fdb_cleanup runs
 * every min(hold_time, next expiry), at least 10 ms apart, deleting
 * non-static entries with updated + hold_time <= now.
 * Simplified: no VLAN key (vid 0), 256 buckets keyed by the MAC instead of
 * an rhashtable, no netlink notifications, no topology-change hold time;
 * the gc work runs as a timer event with no CPU cost (it is a kworker on
 * system_long_wq in the kernel). Entries are allocated per new address
 * (kmem_cache_alloc in the kernel): not per packet. */
#include <string.h>

#include "br_private.h"

static unsigned br_mac_hash(const uint8_t *a)
{
    uint32_t h = 2166136261u;

    for (int i = 0; i < VNS_ETH_ALEN; i++)
        h = (h ^ a[i]) * 16777619u;
    return h % BR_HASH_SIZE;
}

struct net_bridge_fdb_entry *vns__br_fdb_find(struct net_bridge *br, const uint8_t *addr)
{
    for (struct net_bridge_fdb_entry *f = br->hash[br_mac_hash(addr)]; f; f = f->next)
        if (vns_ether_addr_equal(f->addr, addr))
            return f;
    return NULL;
}

struct net_bridge_fdb_entry *vns__br_fdb_find_rcu(struct vns_ctx *ctx, struct net_bridge *br,
                                                 const uint8_t *addr)
{
    struct net_bridge_fdb_entry *f;

    vns_fn_enter(ctx, VNS_FN_br_fdb_find_rcu);
    f = vns__br_fdb_find(br, addr);
    vns_fn_exit(ctx);
    return f;
}

static struct net_bridge_fdb_entry *fdb_create(struct net_bridge *br, struct net_bridge_port *p,
                                               const uint8_t *addr, bool is_local, bool is_static,
                                               uint64_t now_j)
{
    struct net_bridge_fdb_entry *f = vns_calloc(1, sizeof(*f));
    unsigned h = br_mac_hash(addr);

    if (!f)
        return NULL;
    memcpy(f->addr, addr, VNS_ETH_ALEN);
    f->dst = p;
    f->is_local = is_local;
    f->is_static = is_static;
    f->updated = f->used = now_j;
    f->next = br->hash[h];
    br->hash[h] = f;
    f->list_next = br->fdb_list;
    br->fdb_list = f;
    br->fdb_count++;
    return f;
}

static void fdb_delete(struct net_bridge *br, struct net_bridge_fdb_entry *f)
{
    struct net_bridge_fdb_entry **pp;

    for (pp = &br->hash[br_mac_hash(f->addr)]; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    }
    for (pp = &br->fdb_list; *pp; pp = &(*pp)->list_next) {
        if (*pp == f) {
            *pp = f->list_next;
            break;
        }
    }
    br->fdb_count--;
    vns_free(f);
}

/* fdb_insert: a local, static entry (the port's or the bridge's MAC). */
int vns__br_fdb_insert(struct net_bridge *br, struct net_bridge_port *p, const uint8_t *addr)
{
    struct net_bridge_fdb_entry *f;

    if (!vns_is_valid_ether_addr(addr))
        return -VNS_EINVAL;
    f = vns__br_fdb_find(br, addr);
    if (f) {
        /* it is okay to have multiple ports with same address, just use
         * the first one; a learned entry is replaced by the local one */
        if (f->is_local)
            return 0;
        fdb_delete(br, f);
    }
    return fdb_create(br, p, addr, true, true, br_jiffies(br, NULL)) ? 0 : -VNS_ENOMEM;
}

void vns__br_fdb_update(struct vns_ctx *ctx, struct net_bridge *br, struct net_bridge_port *source,
                        const uint8_t *addr)
{
    struct net_bridge_fdb_entry *fdb;
    uint64_t now_j;

    /* some users want to always flood. */
    if (br->ageing_time == 0)
        return;
    /* ignore packets unless we are using this port */
    if (!(source->state == VNS_BR_STATE_LEARNING || source->state == VNS_BR_STATE_FORWARDING))
        return;
    vns_fn_enter(ctx, VNS_FN_br_fdb_update);
    now_j = br_jiffies(br, ctx);
    fdb = vns__br_fdb_find(br, addr);
    if (fdb) {
        /* "received packet on %s with own address as source address" */
        if (!fdb->is_local) {
            if (source != fdb->dst)
                fdb->dst = source;   /* station moved */
            fdb->updated = now_j;
        }
    } else {
        fdb_create(br, source, addr, false, false, now_j);   /* -ENOMEM: not learned */
    }
    vns_fn_exit(ctx);
}

void vns__br_fdb_delete_by_port(struct net_bridge *br, struct net_bridge_port *p, bool do_all)
{
    struct net_bridge_fdb_entry *f = br->fdb_list, *next;

    for (; f; f = next) {
        next = f->list_next;
        if (f->dst != p)
            continue;
        if (!do_all && (f->is_static || f->is_local))
            continue;
        fdb_delete(br, f);
    }
}

void vns__br_fdb_flush_all(struct net_bridge *br)
{
    while (br->fdb_list)
        fdb_delete(br, br->fdb_list);
    if (br->gc_armed)
        vns_timer_cancel(vns_kernel_sim(br->dev->k), &br->gc_timer);
    br->gc_armed = false;
}

/* br_fdb_cleanup: delete expired dynamic entries, re-arm for the next
 * expiry (at least 10 ms later). */
static void br_fdb_cleanup(struct vns_sim *sim, struct vns_timer *t)
{
    struct net_bridge *br = t->data;
    uint64_t hz = vns_kernel_hz(br->dev->k);
    uint64_t delay = br->ageing_time ? br->ageing_time : hz * 300;
    uint64_t work_delay = delay, now = vns_kernel_jiffies(br->dev->k, vns_sim_now(sim));
    uint64_t min_delay = (10 * hz + 999) / 1000;
    struct net_bridge_fdb_entry *f, *next;

    for (f = br->fdb_list; f; f = next) {
        uint64_t this_timer = f->updated + delay;

        next = f->list_next;
        if (f->is_static)
            continue;
        if (this_timer > now)
            work_delay = VNS_MIN(work_delay, this_timer - now);
        else
            fdb_delete(br, f);
    }
    work_delay = VNS_MAX(work_delay, min_delay ? min_delay : 1);
    vns_timer_arm(sim, &br->gc_timer, vns_sim_now(sim) + work_delay * (VNS_SEC(1) / hz));
}

void vns__br_fdb_gc_start(struct net_bridge *br)
{
    struct vns_sim *sim = vns_kernel_sim(br->dev->k);

    if (br->gc_armed)
        return;
    vns_timer_init(&br->gc_timer, br_fdb_cleanup, br, vns_sim_new_id(sim));
    /* br_dev_open: mod_delayed_work(system_long_wq, &br->gc_work, HZ / 10) */
    vns_timer_arm(sim, &br->gc_timer, vns_sim_now(sim) + VNS_MSEC(100));
    br->gc_armed = true;
}

/* --- public ----------------------------------------------------------------- */

int vns_br_fdb_add(struct vns_net_device *brdev, struct vns_net_device *port, const uint8_t *addr,
                   bool is_static)
{
    struct net_bridge *br = vns_netdev_priv(brdev);
    struct net_bridge_port *p = port ? br_port_get(port) : NULL;
    struct net_bridge_fdb_entry *f;

    if (port && (!p || p->br != br))
        return -VNS_EINVAL;
    if (!vns_is_valid_ether_addr(addr))
        return -VNS_EINVAL;
    if (vns__br_fdb_find(br, addr))
        return -VNS_EEXIST;
    f = fdb_create(br, p, addr, !p, is_static || !p, br_jiffies(br, NULL));
    if (!f)
        return -VNS_ENOMEM;
    f->added_by_user = true;
    return 0;
}

int vns_br_fdb_del(struct vns_net_device *brdev, const uint8_t *addr)
{
    struct net_bridge *br = vns_netdev_priv(brdev);
    struct net_bridge_fdb_entry *f = vns__br_fdb_find(br, addr);

    if (!f)
        return -VNS_ENOENT;
    fdb_delete(br, f);
    return 0;
}

bool vns_br_fdb_get(const struct vns_net_device *brdev, const uint8_t *addr, struct vns_br_fdb_info *info)
{
    struct net_bridge *br = vns_netdev_priv(brdev);
    struct net_bridge_fdb_entry *f = vns__br_fdb_find(br, addr);

    if (!f)
        return false;
    if (info) {
        info->dst = f->dst ? f->dst->dev : NULL;
        info->is_local = f->is_local;
        info->is_static = f->is_static;
        info->updated = f->updated;
    }
    return true;
}

unsigned vns_br_fdb_count(const struct vns_net_device *brdev)
{
    const struct net_bridge *br = vns_netdev_priv(brdev);

    return br->fdb_count;
}

void vns_br_set_ageing_time(struct vns_net_device *brdev, vns_time_t t)
{
    struct net_bridge *br = vns_netdev_priv(brdev);
    uint64_t hz = vns_kernel_hz(brdev->k);

    br->ageing_time = t / (VNS_SEC(1) / hz);
}
