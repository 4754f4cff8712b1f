/* lib/net/sch_fq_codel.c -- the fq_codel qdisc: per-flow FIFOs served by
 * deficit round robin (new flows before old ones), each controlled by
 * CoDel. LINUX: net/sched/sch_fq_codel.c, include/net/codel.h,
 * include/net/codel_impl.h (linux-5.4). The default qdisc of many
 * distributions (net.core.default_qdisc = fq_codel via systemd).
 *
 * Modelled: the flow hash (skb->hash, else a hash of the IPv4 addresses,
 * protocol and ports) scaled onto `flows` (1024) buckets; a new flow gets
 * one quantum (psched_mtu) of deficit and goes on new_flows; a flow with no
 * deficit left moves to old_flows with another quantum; an emptied new flow
 * passes through old_flows once if any exist (anti-starvation). CoDel per
 * flow: sojourn time measured from the enqueue timestamp, "ok to drop"
 * after it stayed above target (5 ms) for interval (100 ms) with more than
 * one MTU queued; in the dropping state the next drop comes at
 * interval / sqrt(count), with the kernel's Q0.32 reciprocal square root
 * kept by Newton steps, and count restarts from the last cycle when the
 * queue went bad again soon; ECN-capable IPv4 packets are CE-marked instead
 * of dropped (ecn on by default). Overlimit (10240 packets or 32 MiB of
 * truesize): fq_codel_drop drops up to 64 packets from the head of the
 * fattest flow, until half of its backlog is gone, and returns NET_XMIT_CN
 * when that was the arriving packet's flow. A locked qdisc with
 * TCQ_F_CAN_BYPASS, so an empty fq_codel is bypassed by __dev_xmit_skb.
 * Simplified: no tc filters (classification by hash only), no ce_threshold,
 * truesize is the skb's buffer size plus a fixed overhead, times are
 * nanoseconds (the kernel's codel_time_t is ns >> 10). */
#include <string.h>

#include "vnetsim/proto/ip.h"
#include "net_int.h"

#define REC_INV_SQRT_SHIFT 16        /* 32 - bits of a u16 */
#define SKB_TRUESIZE_OVERHEAD 576u   /* sizeof(sk_buff) + skb_shared_info, aligned */

struct fq_codel_vars {
    uint32_t count;                  /* drops in this dropping cycle */
    uint32_t lastcount;
    bool dropping;
    uint16_t rec_inv_sqrt;           /* 1/sqrt(count), Q0.16 of a Q0.32 value */
    vns_time_t first_above_time;     /* 0 = below target */
    vns_time_t drop_next;
    vns_time_t ldelay;               /* last sojourn time */
};

struct fq_codel_flow {
    struct vns_skb *head, *tail;
    struct fq_codel_flow *chain_next; /* on new_flows or old_flows */
    bool on_chain;
    int deficit;
    uint32_t backlog;                /* bytes */
    struct fq_codel_vars cvars;
};

struct flow_list {
    struct fq_codel_flow *head, *tail;
};

struct fq_codel_sched_data {
    struct fq_codel_flow *flows;
    struct vns_fq_codel_params p;
    struct vns_fq_codel_xstats st;
    struct flow_list new_flows, old_flows;
};

/* qdisc_skb_cb / codel_skb_cb: the enqueue time and the memory charge. */
struct codel_skb_cb {
    vns_time_t enqueue_time;
    uint32_t mem_usage;
};
_Static_assert(sizeof(struct codel_skb_cb) <= VNS_SKB_CB_SIZE, "codel cb fits");

static struct codel_skb_cb *codel_cb(struct vns_skb *skb)
{
    return (struct codel_skb_cb *)(void *)skb->cb;
}

static void list_add_tail_flow(struct flow_list *l, struct fq_codel_flow *f)
{
    f->chain_next = NULL;
    f->on_chain = true;
    if (l->tail)
        l->tail->chain_next = f;
    else
        l->head = f;
    l->tail = f;
}

static struct fq_codel_flow *list_pop_flow(struct flow_list *l)
{
    struct fq_codel_flow *f = l->head;

    if (f) {
        l->head = f->chain_next;
        if (!l->head)
            l->tail = NULL;
        f->chain_next = NULL;
        f->on_chain = false;
    }
    return f;
}

/* INET_ECN_set_ce for IPv4: ECT(0)/ECT(1) -> CE with the header checksum
 * fixed; true if the packet now carries CE. */
static bool inet_ecn_set_ce(struct vns_skb *skb)
{
    uint8_t *iph;

    if (skb->protocol != VNS_ETH_P_IP || skb->network_header == VNS_SKB_NO_HDR ||
        skb->network_header + 20u > (uint32_t)(skb->tail - skb->head))
        return false;
    iph = vns_skb_network_header(skb);
    if ((iph[1] & 3) == 0)
        return false;                 /* Not-ECT */
    if ((iph[1] & 3) == 3)
        return true;                  /* already CE */
    iph[1] |= 3;
    iph[10] = iph[11] = 0;
    vns_put_be16(iph + 10, vns_ip_fast_csum(iph, iph[0] & 0xfu));
    return true;
}

/* The Newton iteration for 1/sqrt(count) in Q0.32:
 * x' = x * (3 - count * x^2) / 2. */
static void codel_newton_step(struct fq_codel_vars *v)
{
    uint32_t invsqrt = (uint32_t)v->rec_inv_sqrt << REC_INV_SQRT_SHIFT;
    uint32_t invsqrt2 = (uint32_t)(((uint64_t)invsqrt * invsqrt) >> 32);
    uint64_t val = (3ull << 32) - ((uint64_t)v->count * invsqrt2);

    val >>= 2;
    val = (val * invsqrt) >> (32 - 2 + 1);
    v->rec_inv_sqrt = (uint16_t)(val >> REC_INV_SQRT_SHIFT);
}

/* t + interval / sqrt(count) */
static vns_time_t codel_control_law(vns_time_t t, vns_time_t interval, uint16_t rec_inv_sqrt)
{
    return t + (vns_time_t)((interval * ((uint64_t)rec_inv_sqrt << REC_INV_SQRT_SHIFT)) >> 32);
}

static struct vns_skb *flow_dequeue_head(struct vns_Qdisc *sch, struct fq_codel_flow *flow)
{
    struct fq_codel_sched_data *q = sch->priv;
    struct vns_skb *skb = flow->head;

    if (!skb)
        return NULL;
    flow->head = skb->next;
    if (!flow->head)
        flow->tail = NULL;
    skb->next = NULL;
    flow->backlog -= skb->len;
    q->st.memory_usage -= codel_cb(skb)->mem_usage;
    sch->qlen--;
    sch->backlog -= skb->len;
    return skb;
}

static bool codel_should_drop(struct vns_Qdisc *sch, struct vns_skb *skb, struct fq_codel_vars *v,
                              vns_time_t now)
{
    struct fq_codel_sched_data *q = sch->priv;

    if (!skb) {
        v->first_above_time = 0;
        return false;
    }
    v->ldelay = now - codel_cb(skb)->enqueue_time;
    if (skb->len > q->st.maxpacket)
        q->st.maxpacket = skb->len;
    if (v->ldelay < q->p.target || sch->backlog <= q->p.quantum) {
        /* went below: stay below for at least interval */
        v->first_above_time = 0;
        return false;
    }
    if (v->first_above_time == 0) {
        v->first_above_time = now + q->p.interval;
        return false;
    }
    return now > v->first_above_time;
}

static void codel_drop(struct vns_Qdisc *sch, struct vns_skb *skb)
{
    struct fq_codel_sched_data *q = sch->priv;

    q->st.codel_drops++;
    sch->stats.drops++;
    vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_QDISC_CONGESTED);
}

/* codel_dequeue for one flow. */
static struct vns_skb *codel_dequeue(struct vns_Qdisc *sch, struct fq_codel_flow *flow, vns_time_t now)
{
    struct fq_codel_sched_data *q = sch->priv;
    struct fq_codel_vars *v = &flow->cvars;
    struct vns_skb *skb = flow_dequeue_head(sch, flow);
    bool drop;

    if (!skb) {
        v->dropping = false;
        return NULL;
    }
    drop = codel_should_drop(sch, skb, v, now);
    if (v->dropping) {
        if (!drop) {
            v->dropping = false;   /* sojourn below target: leave the dropping state */
        } else {
            /* drop (or mark) as many as are due now */
            while (v->dropping && now >= v->drop_next) {
                v->count++;
                codel_newton_step(v);
                if (q->p.ecn && inet_ecn_set_ce(skb)) {
                    q->st.ecn_mark++;
                    v->drop_next = codel_control_law(v->drop_next, q->p.interval, v->rec_inv_sqrt);
                    return skb;
                }
                codel_drop(sch, skb);
                skb = flow_dequeue_head(sch, flow);
                if (!codel_should_drop(sch, skb, v, now))
                    v->dropping = false;
                else
                    v->drop_next = codel_control_law(v->drop_next, q->p.interval, v->rec_inv_sqrt);
            }
        }
    } else if (drop) {
        uint32_t delta;

        if (q->p.ecn && inet_ecn_set_ce(skb)) {
            q->st.ecn_mark++;
        } else {
            codel_drop(sch, skb);
            skb = flow_dequeue_head(sch, flow);
            codel_should_drop(sch, skb, v, now);
        }
        v->dropping = true;
        /* went bad again soon after the last cycle: resume its drop rate */
        delta = v->count - v->lastcount;
        if (delta > 1 && now - v->drop_next < 16 * q->p.interval) {
            v->count = delta;
            codel_newton_step(v);
        } else {
            v->count = 1;
            v->rec_inv_sqrt = (uint16_t)(~0u >> REC_INV_SQRT_SHIFT);
        }
        v->lastcount = v->count;
        v->drop_next = codel_control_law(now, q->p.interval, v->rec_inv_sqrt);
    }
    return skb;
}

/* fq_codel_drop: the fattest flow loses up to drop_batch_size packets from
 * its head, until half of its backlog is gone. Returns its index. */
static unsigned fq_codel_drop(struct vns_ctx *ctx, struct vns_Qdisc *sch)
{
    struct fq_codel_sched_data *q = sch->priv;
    uint32_t maxbacklog = 0, threshold, len = 0, i = 0;
    unsigned idx = 0;
    struct fq_codel_flow *flow;

    vns_fn_enter(ctx, VNS_FN_fq_codel_drop);
    for (unsigned f = 0; f < q->p.flows; f++) {
        if (q->flows[f].backlog > maxbacklog) {
            maxbacklog = q->flows[f].backlog;
            idx = f;
        }
    }
    threshold = maxbacklog >> 1;
    flow = &q->flows[idx];
    do {
        struct vns_skb *skb = flow_dequeue_head(sch, flow);

        if (!skb)
            break;
        len += skb->len;
        sch->stats.drops++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_QDISC_OVERLIMIT);
    } while (++i < q->p.drop_batch_size && len < threshold);
    flow->cvars.count += i;   /* tell CoDel to signal harder */
    vns_fn_exit(ctx);
    return idx;
}

static uint32_t skb_truesize(const struct vns_skb *skb)
{
    return (uint32_t)(skb->end - skb->head) + skb->data_len + SKB_TRUESIZE_OVERHEAD;
}

static int fq_codel_enqueue(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_Qdisc *sch)
{
    struct fq_codel_sched_data *q = sch->priv;
    struct vns_kernel *k = sch->dev->k;
    unsigned idx, ret_idx;
    uint32_t before;
    struct fq_codel_flow *flow;
    bool memory_limited;

    vns_fn_enter(ctx, VNS_FN_fq_codel_enqueue);
    /* reciprocal_scale(skb_get_hash(skb), flows_cnt) */
    idx = (unsigned)(((uint64_t)vns_skb_get_hash(skb) * q->p.flows) >> 32);
    codel_cb(skb)->enqueue_time = vns__now(ctx, k);
    flow = &q->flows[idx];
    skb->next = NULL;
    if (flow->tail)
        flow->tail->next = skb;
    else
        flow->head = skb;
    flow->tail = skb;
    flow->backlog += skb->len;
    sch->backlog += skb->len;
    if (!flow->on_chain) {
        list_add_tail_flow(&q->new_flows, flow);
        q->st.new_flow_count++;
        flow->deficit = (int)q->p.quantum;
    }
    codel_cb(skb)->mem_usage = skb_truesize(skb);
    q->st.memory_usage += codel_cb(skb)->mem_usage;
    memory_limited = q->st.memory_usage > q->p.memory_limit;
    if (++sch->qlen <= sch->limit && !memory_limited) {
        vns_fn_exit(ctx);
        return VNS_NET_XMIT_SUCCESS;
    }
    before = sch->qlen;
    ret_idx = fq_codel_drop(ctx, sch);
    q->st.drop_overlimit += before - sch->qlen;
    if (memory_limited)
        q->st.drop_overmemory += before - sch->qlen;
    vns_fn_exit(ctx);
    return ret_idx == idx ? VNS_NET_XMIT_CN : VNS_NET_XMIT_SUCCESS;
}

static struct vns_skb *fq_codel_dequeue(struct vns_ctx *ctx, struct vns_Qdisc *sch)
{
    struct fq_codel_sched_data *q = sch->priv;
    vns_time_t now = vns__now(ctx, sch->dev->k);
    struct vns_skb *skb = NULL;

    vns_fn_enter(ctx, VNS_FN_fq_codel_dequeue);
    for (;;) {
        struct flow_list *head = &q->new_flows;
        struct fq_codel_flow *flow;

        if (!head->head) {
            head = &q->old_flows;
            if (!head->head)
                break;
        }
        flow = head->head;
        if (flow->deficit <= 0) {
            flow->deficit += (int)q->p.quantum;
            list_add_tail_flow(&q->old_flows, list_pop_flow(head));
            continue;
        }
        skb = codel_dequeue(sch, flow, now);
        if (!skb) {
            /* force a pass through old_flows to prevent starvation */
            list_pop_flow(head);
            if (head == &q->new_flows && q->old_flows.head)
                list_add_tail_flow(&q->old_flows, flow);
            continue;
        }
        flow->deficit -= (int)skb->len;
        break;
    }
    vns_fn_exit(ctx);
    return skb;
}

static void fq_codel_reset(struct vns_Qdisc *sch)
{
    struct fq_codel_sched_data *q = sch->priv;

    for (unsigned i = 0; i < q->p.flows; i++) {
        struct fq_codel_flow *f = &q->flows[i];
        struct vns_skb *skb;

        while ((skb = flow_dequeue_head(sch, f)) != NULL) {
            sch->stats.drops++;
            vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_QDISC_DROP);
        }
        memset(f, 0, sizeof(*f));
    }
    q->new_flows.head = q->new_flows.tail = NULL;
    q->old_flows.head = q->old_flows.tail = NULL;
    q->st.memory_usage = 0;
}

static int fq_codel_alloc_flows(struct fq_codel_sched_data *q, uint32_t n)
{
    struct fq_codel_flow *f = vns_calloc(n, sizeof(*f));

    if (!f)
        return -VNS_ENOMEM;
    vns_free(q->flows);
    q->flows = f;
    q->p.flows = n;
    return 0;
}

static int fq_codel_init(struct vns_Qdisc *sch)
{
    struct fq_codel_sched_data *q = sch->priv;
    unsigned mtu = sch->dev ? sch->dev->mtu + sch->dev->hard_header_len : 1514;

    memset(q, 0, sizeof(*q));
    sch->limit = 10 * 1024;
    q->p.limit = sch->limit;
    q->p.quantum = mtu;                  /* psched_mtu */
    q->p.target = VNS_MSEC(5);
    q->p.interval = VNS_MSEC(100);
    q->p.ecn = true;
    q->p.drop_batch_size = 64;
    q->p.memory_limit = 32u << 20;
    if (fq_codel_alloc_flows(q, 1024) < 0)
        return -VNS_ENOMEM;
    sch->flags |= VNS_TCQ_F_CAN_BYPASS;  /* limit >= 1 */
    return 0;
}

static void fq_codel_destroy(struct vns_Qdisc *sch)
{
    struct fq_codel_sched_data *q = sch->priv;

    vns_free(q->flows);
    q->flows = NULL;
}

const struct vns_Qdisc_ops vns_fq_codel_qdisc_ops = {
    .id = "fq_codel",
    .priv_size = sizeof(struct fq_codel_sched_data),
    .enqueue = fq_codel_enqueue,
    .dequeue = fq_codel_dequeue,
    .init = fq_codel_init,
    .reset = fq_codel_reset,
    .destroy = fq_codel_destroy,
};

int vns_fq_codel_change(struct vns_Qdisc *sch, const struct vns_fq_codel_params *p)
{
    struct fq_codel_sched_data *q;

    if (!sch || sch->ops != &vns_fq_codel_qdisc_ops || !p)
        return -VNS_EINVAL;
    q = sch->priv;
    if (p->flows && p->flows != q->p.flows) {
        if (sch->qlen || p->flows > 65536)
            return -VNS_EINVAL;
        if (fq_codel_alloc_flows(q, p->flows) < 0)
            return -VNS_ENOMEM;
    }
    if (p->limit)
        sch->limit = q->p.limit = p->limit;
    if (p->quantum)
        q->p.quantum = VNS_MAX(256u, p->quantum);
    if (p->target)
        q->p.target = p->target;
    if (p->interval)
        q->p.interval = p->interval;
    q->p.ecn = p->ecn;
    if (p->drop_batch_size)
        q->p.drop_batch_size = p->drop_batch_size;
    if (p->memory_limit)
        q->p.memory_limit = VNS_MIN(1u << 31, p->memory_limit);
    /* shrink to the new limits */
    while (sch->qlen > sch->limit || q->st.memory_usage > q->p.memory_limit) {
        struct vns_skb *skb = fq_codel_dequeue(NULL, sch);

        if (!skb)
            break;
        sch->stats.drops++;
        vns_kfree_skb_reason(skb, VNS_SKB_DROP_REASON_QDISC_OVERLIMIT);
    }
    return 0;
}

void vns_fq_codel_get(const struct vns_Qdisc *sch, struct vns_fq_codel_params *p, struct vns_fq_codel_xstats *st)
{
    const struct fq_codel_sched_data *q = sch->priv;

    if (sch->ops != &vns_fq_codel_qdisc_ops)
        return;
    if (p)
        *p = q->p;
    if (st) {
        *st = q->st;
        st->new_flows_len = st->old_flows_len = 0;
        for (const struct fq_codel_flow *f = q->new_flows.head; f; f = f->chain_next)
            st->new_flows_len++;
        for (const struct fq_codel_flow *f = q->old_flows.head; f; f = f->chain_next)
            st->old_flows_len++;
    }
}
