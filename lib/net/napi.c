/* lib/net/napi.c -- NAPI and the NET_RX softirq: napi_schedule_prep,
 * __napi_schedule, napi_complete_done, napi_poll, net_rx_action.
 * LINUX: net/core/dev.c, include/linux/netdevice.h, linux-5.4.
 *
 * net_rx_action splices the CPU's poll_list, polls each NAPI with its
 * weight, stops when netdev_budget (300) is spent or netdev_budget_usecs
 * have passed (in jiffies, as the kernel measures it; time_squeeze++), puts
 * NAPIs that used their whole weight back at the tail (repoll), and
 * re-raises NET_RX if the list is not empty. A poll runs one item per step
 * and net_rx_action keeps its state (budget, current poll, frames) in
 * softnet_data across steps.
 * Simplified: no busy polling, no netpoll, no threaded NAPI (5.12+), GRO
 * flush on repoll flushes what is older than the current jiffy (5.4's
 * napi_gro_flush(n, HZ >= 1000)), one GRO list instead of 8 hash buckets. */
#include <string.h>

#include "net_int.h"

void vns_netif_napi_add(struct vns_net_device *dev, struct vns_napi_struct *n, vns_napi_poll_fn poll,
                        int poll_f, int weight)
{
    n->poll_next = NULL;
    n->on_list = false;
    /* netif_napi_add: "netif_napi_add() called with weight %d" when > 64 */
    n->weight = weight > VNS_NAPI_POLL_WEIGHT || weight <= 0 ? VNS_NAPI_POLL_WEIGHT : weight;
    n->poll = poll;
    n->poll_f = poll_f;
    n->dev = dev;
    n->gro_list = NULL;
    n->gro_count = 0;
    n->work = 0;
    n->cpu = NULL;
    memset(&n->stats, 0, sizeof(n->stats));
    /* napi_hash_add: ids start above NR_CPUS; ifindex-based here. */
    n->napi_id = dev ? (uint32_t)dev->ifindex + 8192u : 0;
    /* Created disabled (NAPI_STATE_SCHED set) until napi_enable. */
    n->state = VNS_NAPI_STATE_SCHED;
}

static void napi_list_del(struct vns_napi_struct **head, struct vns_napi_struct **tail,
                          struct vns_napi_struct *n)
{
    struct vns_napi_struct *prev = NULL;

    for (struct vns_napi_struct *p = *head; p; prev = p, p = p->poll_next) {
        if (p != n)
            continue;
        if (prev)
            prev->poll_next = n->poll_next;
        else
            *head = n->poll_next;
        if (*tail == n)
            *tail = prev;
        n->poll_next = NULL;
        n->on_list = false;
        return;
    }
}

void vns_netif_napi_del(struct vns_napi_struct *n)
{
    struct vns_skb *skb = n->gro_list;

    /* A device going away must not leave its NAPI on a poll list. */
    if (n->dev) {
        struct vns_kernel *k = n->dev->k;

        for (unsigned i = 0; i < k->cfg.ncpus; i++) {
            struct vns_softnet_data *sd = &k->sd[i];

            napi_list_del(&sd->poll_head, &sd->poll_tail, n);
            napi_list_del(&sd->rx.list_head, &sd->rx.list_tail, n);
            napi_list_del(&sd->rx.repoll_head, &sd->rx.repoll_tail, n);
            if (sd->rx.cur == n)
                sd->rx.cur = NULL;
        }
    }

    while (skb) {
        struct vns_skb *next = skb->next;

        skb->next = NULL;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_QUEUE_PURGE); /* flush_gro_hash */
        skb = next;
    }
    n->gro_list = NULL;
    n->gro_count = 0;
}

void vns_napi_enable(struct vns_napi_struct *n)
{
    n->state &= ~(VNS_NAPI_STATE_SCHED | VNS_NAPI_STATE_DISABLE | VNS_NAPI_STATE_MISSED);
}

void vns_napi_disable(struct vns_napi_struct *n)
{
    n->state |= VNS_NAPI_STATE_DISABLE;
    if (!(n->state & VNS_NAPI_STATE_SCHED) && !n->on_list)
        n->state |= VNS_NAPI_STATE_SCHED;
}

bool vns_napi_schedule_prep(struct vns_napi_struct *n)
{
    unsigned val = n->state;

    if (val & VNS_NAPI_STATE_DISABLE)
        return false;
    n->state = val | VNS_NAPI_STATE_SCHED;
    if (val & VNS_NAPI_STATE_SCHED) {
        n->state |= VNS_NAPI_STATE_MISSED;
        n->stats.missed++;
        return false;
    }
    return true;
}

void vns___napi_schedule(struct vns_ctx *ctx, struct vns_napi_struct *n)
{
    struct vns_softnet_data *sd;
    struct vns_kernel *k = n->dev ? n->dev->k : NULL;

    if (!k)
        return;
    vns_fn_enter(ctx, VNS_FN___napi_schedule);
    sd = vns_kernel_softnet(k, ctx);
    n->cpu = sd->cpu;
    n->stats.schedules++;
    if (!n->on_list)
        vns__napi_list_add_tail(&sd->poll_head, &sd->poll_tail, n);
    vns_raise_softirq_irqoff(sd->cpu, VNS_NET_RX_SOFTIRQ);
    vns_fn_exit(ctx);
}

bool vns_napi_schedule(struct vns_ctx *ctx, struct vns_napi_struct *n)
{
    if (!vns_napi_schedule_prep(n))
        return false;
    vns___napi_schedule(ctx, n);
    return true;
}

bool vns_napi_complete_done(struct vns_ctx *ctx, struct vns_napi_struct *n, int work_done)
{
    unsigned val;

    (void)work_done;
    vns_fn_enter(ctx, VNS_FN_napi_complete_done);
    /* gro_flush_timeout 0: flush everything held. */
    if (n->gro_count)
        vns_napi_gro_flush(ctx, n, false);
    val = n->state;
    n->state = val & ~(VNS_NAPI_STATE_MISSED | VNS_NAPI_STATE_SCHED);
    if (val & VNS_NAPI_STATE_MISSED) {
        /* STATE_MISSED: poll once more. */
        n->state |= VNS_NAPI_STATE_SCHED;
        vns___napi_schedule(ctx, n);
        vns_fn_exit(ctx);
        return false;
    }
    vns_fn_exit(ctx);
    return true;
}

/* The end of napi_poll for @n after its poll returned DONE. */
static int napi_poll_finish(struct vns_ctx *ctx, struct vns_softnet_data *sd,
                            struct vns_napi_struct *n)
{
    struct vns_net_rx_run *rx = &sd->rx;
    int work = n->work;

    if (work >= n->weight) {
        if (n->state & VNS_NAPI_STATE_DISABLE) {
            vns_napi_complete_done(ctx, n, 0);
        } else {
            if (n->gro_count)
                vns_napi_gro_flush(ctx, n, sd->k->cfg.hz >= 1000);
            if (!n->on_list) {
                /* list_add_tail(&n->poll_list, repoll) */
                n->stats.repolls++;
                vns__napi_list_add_tail(&rx->repoll_head, &rx->repoll_tail, n);
            }
        }
    }
    vns__unwind(ctx, rx->depth);
    return work;
}

int vns__net_rx_action(struct vns_ctx *ctx, void *arg)
{
    struct vns_softnet_data *sd = arg;
    struct vns_kernel *k = sd->k;
    struct vns_net_rx_run *rx = &sd->rx;
    struct vns_napi_struct *n;
    uint64_t usecs_j;

    if (!rx->active) {
        rx->active = true;
        sd->stats.rx_actions++;
        rx->budget = (int)k->cfg.netdev_budget;
        /* usecs_to_jiffies rounds up */
        usecs_j = ((uint64_t)k->cfg.netdev_budget_usecs * k->cfg.hz + 999999u) / 1000000u;
        rx->time_limit = vns_kernel_jiffies(k, vns__now(ctx, k)) + usecs_j;
        rx->list_head = sd->poll_head;
        rx->list_tail = sd->poll_tail;
        sd->poll_head = sd->poll_tail = NULL;
        rx->repoll_head = rx->repoll_tail = NULL;
        rx->cur = NULL;
    }
    for (;;) {
        if (rx->cur) {
            int work;

            n = rx->cur;
            if (n->poll(ctx, n, n->weight) == VNS_STEP_AGAIN)
                return VNS_STEP_AGAIN;
            rx->cur = NULL;
            work = napi_poll_finish(ctx, sd, n);
            rx->budget -= work;
            if (rx->budget <= 0 ||
                vns_kernel_jiffies(k, vns__now(ctx, k)) >= rx->time_limit) {
                sd->stats.time_squeeze++;
                break;
            }
            continue;
        }
        n = rx->list_head;
        if (!n)
            break;
        rx->list_head = n->poll_next;
        if (!rx->list_head)
            rx->list_tail = NULL;
        n->poll_next = NULL;
        n->on_list = false;          /* list_del_init */
        rx->depth = vns__depth(ctx);
        vns_fn_enter(ctx, VNS_FN_napi_poll);
        n->work = 0;
        if (n->state & VNS_NAPI_STATE_SCHED) {
            n->stats.polls++;
            vns_fn_enter(ctx, n->poll_f);
            rx->cur = n;
            continue;
        }
        napi_poll_finish(ctx, sd, n);
    }
    /* Leftovers first, then what was scheduled meanwhile, then repoll. */
    if (rx->list_head) {
        if (sd->poll_head)
            rx->list_tail->poll_next = sd->poll_head;
        else
            sd->poll_tail = rx->list_tail;
        sd->poll_head = rx->list_head;
    }
    if (rx->repoll_head) {
        if (sd->poll_tail)
            sd->poll_tail->poll_next = rx->repoll_head;
        else
            sd->poll_head = rx->repoll_head;
        sd->poll_tail = rx->repoll_tail;
    }
    rx->list_head = rx->list_tail = NULL;
    rx->repoll_head = rx->repoll_tail = NULL;
    rx->active = false;
    if (sd->poll_head)
        vns_raise_softirq_irqoff(sd->cpu, VNS_NET_RX_SOFTIRQ);
    return VNS_STEP_DONE;
}
