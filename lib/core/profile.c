/* lib/core/profile.c -- kernel profiles: the symbol each modelled function
 * shows and which frames a real stack trace of that kernel leaves out.
 *
 * linux-5.4 reproduces ../shared/reference/kernel-stacks.txt, captured on a
 * ~5.4 x86_64 host and guest:
 *  - vhost_tx_batch is shown as the GCC clone "vhost_tx_batch.isra.23";
 *  - inlined helpers never appear (netdev_start_xmit/xmit_one in
 *    dev_hard_start_xmit, __netif_receive_skb_core in
 *    __netif_receive_skb_one_core, neigh_output/neigh_hh_output in
 *    ip_finish_output2, virtnet_receive/receive_buf in virtnet_poll);
 *  - dev_hard_start_xmit is missing directly under sch_direct_xmit in
 *    every seed stack (start_xmit, tun_net_xmit, macvlan_start_xmit all sit
 *    on sch_direct_xmit) yet present under __dev_queue_xmit (br_dev_xmit):
 *    the capture lost that one frame, so the profile hides it there only.
 * Entries name functions that later layers define; a name that is not a
 * modelled function (yet) is ignored. */
#include <string.h>

#include "core_int.h"

static const struct vns_profile_entry linux_5_4_entries[] = {
    {"vhost_tx_batch", "vhost_tx_batch.isra.23", VNS_SHOW, NULL},
    {"dev_hard_start_xmit", NULL, VNS_HIDE_UNDER, "sch_direct_xmit"},
    {"xmit_one", NULL, VNS_HIDE, NULL},
    {"netdev_start_xmit", NULL, VNS_HIDE, NULL},
    {"__netif_receive_skb_core", NULL, VNS_HIDE, NULL},
    {"neigh_output", NULL, VNS_HIDE, NULL},
    {"neigh_hh_output", NULL, VNS_HIDE, NULL},
    {"virtnet_receive", NULL, VNS_HIDE, NULL},
    {"receive_buf", NULL, VNS_HIDE, NULL},
    {"napi_poll", NULL, VNS_HIDE, NULL},
    {"xmit_skb", NULL, VNS_HIDE, NULL},
    {"__dev_xmit_skb", NULL, VNS_HIDE, NULL},
    {"qdisc_restart", NULL, VNS_HIDE, NULL},
};

/* linux-6.6 differs where the call chain itself changed: x86 interrupt
 * entry became asm_common_interrupt/common_interrupt with irq_exit_rcu
 * (5.8+), __vfs_write is gone (5.9+), GCC numbers clones differently. The
 * vhost_task worker (6.4+) changes the base frames, which is a model
 * difference, not a profile one (docs/architecture.md). */
static const struct vns_profile_entry linux_6_6_entries[] = {
    {"vhost_tx_batch", "vhost_tx_batch.constprop.0", VNS_SHOW, NULL},
    {"ret_from_intr", "asm_common_interrupt", VNS_SHOW, NULL},
    {"do_IRQ", "common_interrupt", VNS_SHOW, NULL},
    {"irq_exit", "irq_exit_rcu", VNS_SHOW, NULL},
    {"__vfs_write", NULL, VNS_HIDE, NULL},
    {"xmit_one", NULL, VNS_HIDE, NULL},
    {"netdev_start_xmit", NULL, VNS_HIDE, NULL},
    {"__netif_receive_skb_core", NULL, VNS_HIDE, NULL},
    {"neigh_output", NULL, VNS_HIDE, NULL},
    {"neigh_hh_output", NULL, VNS_HIDE, NULL},
    {"virtnet_receive", NULL, VNS_HIDE, NULL},
    {"receive_buf", NULL, VNS_HIDE, NULL},
    {"napi_poll", NULL, VNS_HIDE, NULL},
    {"xmit_skb", NULL, VNS_HIDE, NULL},
    {"__dev_xmit_skb", NULL, VNS_HIDE, NULL},
    {"qdisc_restart", NULL, VNS_HIDE, NULL},
};

static struct vns_profile profiles[] = {
    {"linux-5.4", linux_5_4_entries, VNS_ARRAY_SIZE(linux_5_4_entries), {0}, {0}, {0}},
    {"linux-6.6", linux_6_6_entries, VNS_ARRAY_SIZE(linux_6_6_entries), {0}, {0}, {0}},
};

static const char *const profile_names[] = {"linux-5.4", "linux-6.6", NULL};

static void profile_resolve(struct vns_profile *p)
{
    for (int f = 0; f < VNS_FN__COUNT; f++) {
        p->symbol[f] = vns_func_name(f);
        p->show[f] = VNS_SHOW;
        p->hide_caller[f] = -1;
    }
    for (size_t i = 0; i < p->nentries; i++) {
        const struct vns_profile_entry *e = &p->entries[i];
        int f = vns_func_lookup(e->func);

        if (f < 0)
            continue;
        if (e->symbol)
            p->symbol[f] = e->symbol;
        p->show[f] = (uint8_t)e->show;
        if (e->show == VNS_HIDE_UNDER) {
            int c = vns_func_lookup(e->caller);

            if (c < 0)
                p->show[f] = VNS_SHOW;
            else
                p->hide_caller[f] = (int16_t)c;
        }
    }
}

/* The tables are immutable after this; each resolve writes the same
 * values, so a race between two first users is benign. C11 call_once
 * (<threads.h>) is not available on macOS, hence the idempotent write. */
void vns__profiles_resolve(void)
{
    static volatile int resolved;

    if (resolved)
        return;
    for (size_t i = 0; i < VNS_ARRAY_SIZE(profiles); i++)
        profile_resolve(&profiles[i]);
    resolved = 1;
}

const struct vns_profile *vns_profile_find(const char *name)
{
    vns__profiles_resolve();
    for (size_t i = 0; name && i < VNS_ARRAY_SIZE(profiles); i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

const char *const *vns_profile_names(void) { return profile_names; }
const char *vns_profile_name(const struct vns_profile *p) { return p->name; }

const char *vns_profile_symbol(const struct vns_profile *p, int f)
{
    if (f < 0 || f >= VNS_FN__COUNT)
        return "?";
    return p->symbol[f];
}

bool vns_profile_shows(const struct vns_profile *p, int f, int caller)
{
    if (f < 0 || f >= VNS_FN__COUNT)
        return false;
    switch (p->show[f]) {
    case VNS_HIDE:
        return false;
    case VNS_HIDE_UNDER:
        return caller != p->hide_caller[f];
    default:
        return true;
    }
}
