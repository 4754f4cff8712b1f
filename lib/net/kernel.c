/* lib/net/kernel.c -- a kernel instance: CPUs, per-CPU softnet_data,
 * sysctls, pools, protocol handlers. LINUX: net/core/dev.c net_dev_init()
 * (softnet_data init, open_softirq(NET_TX/NET_RX)), net/core/sysctl_net_core.c
 * (defaults).
 *
 * Simplified: one network namespace; no RPS/RFS/XPS; a fixed small table of
 * protocol handlers (ptype_base) and taps (ptype_all). */
#include <stdio.h>
#include <string.h>

#include "vnetsim/rng.h"
#include "vnetsim/trace.h"
#include "net_int.h"

#define SKB_POOL_CHUNK 64
#define SMALL_POOL_CHUNK 64
#define LARGE_POOL_CHUNK 4

/* The CPU id -> index table of vns_kernel_softnet. Without it (no
 * memory, or ids spread over more than 64 per CPU) the lookup scans. */
static void kernel_cpu_map(struct vns_kernel *k)
{
    uint32_t lo = UINT32_MAX, hi = 0;

    for (unsigned i = 0; i < k->cfg.ncpus; i++) {
        uint32_t id = vns_cpu_id(k->cpus[i]);

        lo = id < lo ? id : lo;
        hi = id > hi ? id : hi;
    }
    if (!k->cfg.ncpus || hi - lo >= 64u * k->cfg.ncpus + 64u)
        return;
    k->cpu_by_id = vns_calloc((size_t)(hi - lo) + 1, sizeof(*k->cpu_by_id));
    if (!k->cpu_by_id)
        return;
    k->cpu_id0 = lo;
    k->ncpu_ids = hi - lo + 1;
    for (unsigned i = k->cfg.ncpus; i-- > 0;) /* a CPU listed twice: the first, as the scan */
        k->cpu_by_id[vns_cpu_id(k->cpus[i]) - lo] = i + 1;
}

int vns_kernel_create(struct vns_sim *sim, const struct vns_kernel_config *cfg,
                      struct vns_kernel **out)
{
    struct vns_kernel *k;

    if (!sim || !cfg || !cfg->ncpus || !cfg->cpus)
        return -VNS_EINVAL;
    for (unsigned i = 0; i < cfg->ncpus; i++)
        if (!cfg->cpus[i] || vns_cpu_sim(cfg->cpus[i]) != sim)
            return -VNS_EINVAL;
    k = vns_calloc(1, sizeof(*k));
    if (!k)
        return -VNS_ENOMEM;
    k->sim = sim;
    snprintf(k->name, sizeof(k->name), "%.31s", cfg->name ? cfg->name : "kernel");
    k->cfg = *cfg;
    k->cfg.name = k->name;
    if (!k->cfg.hz)
        k->cfg.hz = 1000;
    if (!k->cfg.netdev_max_backlog)
        k->cfg.netdev_max_backlog = 1000;
    if (!k->cfg.netdev_budget)
        k->cfg.netdev_budget = 300;
    if (!k->cfg.netdev_budget_usecs)
        k->cfg.netdev_budget_usecs = 2 * 1000000u / k->cfg.hz;
    if (!k->cfg.dev_weight)
        k->cfg.dev_weight = 64;
    if (!k->cfg.dev_tx_weight)
        k->cfg.dev_tx_weight = 64;
    if (!k->cfg.version) {
        const char *prof = vns_profile_name(vns_sim_profile(sim));

        k->cfg.version = strcmp(prof, "linux-6.6") == 0 ? 606 : 504;
    }
    if (k->cfg.version != 504 && k->cfg.version != 606) {
        vns_free(k);
        return -VNS_EINVAL;
    }
    if (!k->cfg.default_qdisc)
        k->cfg.default_qdisc = "pfifo_fast";
    if (!vns_qdisc_lookup_ops(k->cfg.default_qdisc) || !vns_qdisc_lookup_ops(k->cfg.default_qdisc)->enqueue ||
        strcmp(k->cfg.default_qdisc, "noop") == 0) {
        vns_free(k);
        return -VNS_EINVAL;
    }
    if (!k->cfg.mac_seed)
        k->cfg.mac_seed = (uint32_t)vns_hash_str(k->name);
    k->cpus = vns_calloc(cfg->ncpus, sizeof(*k->cpus));
    k->sd = vns_calloc(cfg->ncpus, sizeof(*k->sd));
    if (!k->cpus || !k->sd) {
        vns_free(k->cpus);
        vns_free(k->sd);
        vns_free(k);
        return -VNS_ENOMEM;
    }
    k->cfg.cpus = k->cpus;
    k->next_ifindex = 1;
    vns__pool_init(&k->skb_pool, sizeof(struct vns_skb), SKB_POOL_CHUNK);
    vns__pool_init(&k->small_pool, VNS_SKB_SMALL_BUF, SMALL_POOL_CHUNK);
    vns__pool_init(&k->large_pool, VNS_SKB_LARGE_BUF, LARGE_POOL_CHUNK);
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        struct vns_softnet_data *sd = &k->sd[i];

        k->cpus[i] = cfg->cpus[i];
        sd->k = k;
        sd->cpu = cfg->cpus[i];
        sd->index = i;
        vns_skb_queue_head_init(&sd->input_pkt_queue);
        vns_skb_queue_head_init(&sd->process_queue);
        vns_skb_queue_head_init(&sd->completion_queue);
        /* net_dev_init: sd->backlog.poll = process_backlog; weight set at
         * each poll from dev_rx_weight. */
        sd->backlog.poll = vns__process_backlog;
        sd->backlog.poll_f = VNS_FN_process_backlog;
        sd->backlog.weight = (int)k->cfg.dev_weight;
        sd->backlog.priv = sd;
        vns_softirq_open(sd->cpu, VNS_NET_TX_SOFTIRQ, VNS_FN_net_tx_action, vns__net_tx_action, sd);
        vns_softirq_open(sd->cpu, VNS_NET_RX_SOFTIRQ, VNS_FN_net_rx_action, vns__net_rx_action, sd);
    }
    kernel_cpu_map(k);
    *out = k;
    return 0;
}

void vns_kernel_drain(struct vns_kernel *k)
{
    /* Newest first: upper devices (bridges, macvlans) before their lowers. */
    while (k->devs) {
        struct vns_net_device *last = k->devs;

        while (last->k_next)
            last = last->k_next;
        vns_unregister_netdev(last);
    }
    for (unsigned i = 0; i < k->cfg.ncpus; i++) {
        struct vns_softnet_data *sd = &k->sd[i];

        vns_skb_queue_purge_reason(&sd->input_pkt_queue, VNS_SKB_DROP_REASON_DEV_READY);
        vns_skb_queue_purge_reason(&sd->process_queue, VNS_SKB_DROP_REASON_DEV_READY);
        /* as net_tx_action would: each counted once, with its fate */
        while (sd->completion_queue.head)
            vns__completion_free(vns_skb_dequeue(&sd->completion_queue));
        vns_softirq_open(sd->cpu, VNS_NET_TX_SOFTIRQ, -1, NULL, NULL);
        vns_softirq_open(sd->cpu, VNS_NET_RX_SOFTIRQ, -1, NULL, NULL);
    }
}

void vns_kernel_destroy(struct vns_kernel *k)
{
    if (!k)
        return;
    vns_kernel_drain(k);
    vns__pool_fini(&k->skb_pool);
    vns__pool_fini(&k->small_pool);
    vns__pool_fini(&k->large_pool);
    while (k->book_chunks) {
        struct vns__book_chunk *c = k->book_chunks;

        k->book_chunks = c->next;
        vns_free(c);
    }
    vns_free(k->sd);
    vns_free(k->cpus);
    vns_free(k->cpu_by_id);
    vns_free(k);
}

const char *vns_kernel_name(const struct vns_kernel *k) { return k->name; }
struct vns_sim *vns_kernel_sim(const struct vns_kernel *k) { return k->sim; }
unsigned vns_kernel_ncpus(const struct vns_kernel *k) { return k->cfg.ncpus; }
unsigned vns_kernel_hz(const struct vns_kernel *k) { return k->cfg.hz; }
const struct vns_kernel_config *vns_kernel_config(const struct vns_kernel *k) { return &k->cfg; }
const struct vns_kernel_stats *vns_kernel_stats(const struct vns_kernel *k) { return &k->stats; }

struct vns_cpu *vns_kernel_cpu(const struct vns_kernel *k, unsigned i)
{
    return i < k->cfg.ncpus ? k->cpus[i] : NULL;
}

struct vns_softnet_data *vns_kernel_softnet_of(struct vns_kernel *k, unsigned cpu)
{
    return cpu < k->cfg.ncpus ? &k->sd[cpu] : NULL;
}

struct vns_softnet_data *vns_kernel_softnet(struct vns_kernel *k, const struct vns_ctx *ctx)
{
    if (ctx) {
        struct vns_cpu *c = vns_ctx_cpu(ctx);

        if (k->cpu_by_id && c) {
            uint32_t d = vns_cpu_id(c) - k->cpu_id0;

            return d < k->ncpu_ids && k->cpu_by_id[d] ? &k->sd[k->cpu_by_id[d] - 1] : &k->sd[0];
        }
        for (unsigned i = 0; i < k->cfg.ncpus; i++)
            if (k->cpus[i] == c)
                return &k->sd[i];
    }
    return &k->sd[0];
}

uint64_t vns_kernel_drops(const struct vns_kernel *k, enum vns_skb_drop_reason r)
{
    return (unsigned)r < VNS_SKB_DROP_REASON_MAX ? k->stats.drops[r] : 0;
}

uint64_t vns_kernel_drops_total(const struct vns_kernel *k)
{
    uint64_t t = 0;

    for (unsigned i = 0; i < VNS_SKB_DROP_REASON_MAX; i++)
        t += k->stats.drops[i];
    return t;
}

uint64_t vns_kernel_jiffies(const struct vns_kernel *k, vns_time_t t)
{
    return t / (VNS_SEC(1) / k->cfg.hz);
}

void vns_kernel_random_ether_addr(struct vns_kernel *k, uint8_t *addr)
{
    uint64_t z = vns_mix64(((uint64_t)k->cfg.mac_seed << 32) | ++k->mac_counter);

    for (int i = 0; i < VNS_ETH_ALEN; i++)
        addr[i] = (uint8_t)(z >> (8 * i));
    addr[0] &= 0xfe;   /* clear multicast bit */
    addr[0] |= 0x02;   /* locally administered (eth_random_addr) */
}

int vns_dev_add_pack(struct vns_kernel *k, uint16_t type, vns_packet_rcv_fn fn, void *arg)
{
    for (unsigned i = 0; i < k->nptype; i++) {
        if (k->ptype[i].type == type) {
            k->ptype[i].fn = fn;
            k->ptype[i].arg = arg;
            return 0;
        }
    }
    if (k->nptype == VNS__NPTYPE)
        return -VNS_ENOSPC;
    k->ptype[k->nptype].type = type;
    k->ptype[k->nptype].fn = fn;
    k->ptype[k->nptype].arg = arg;
    k->nptype++;
    return 0;
}

void vns_dev_remove_pack(struct vns_kernel *k, uint16_t type)
{
    for (unsigned i = 0; i < k->nptype; i++) {
        if (k->ptype[i].type == type) {
            k->ptype[i] = k->ptype[--k->nptype];
            return;
        }
    }
}

int vns_dev_add_tap(struct vns_kernel *k, vns_packet_tap_fn fn, void *arg)
{
    if (k->ntaps == VNS__NTAPS)
        return -VNS_ENOSPC;
    k->taps[k->ntaps].fn = fn;
    k->taps[k->ntaps].arg = arg;
    k->ntaps++;
    return 0;
}

void vns_dev_remove_tap(struct vns_kernel *k, vns_packet_tap_fn fn, void *arg)
{
    for (unsigned i = 0; i < k->ntaps; i++) {
        if (k->taps[i].fn == fn && k->taps[i].arg == arg) {
            memmove(&k->taps[i], &k->taps[i + 1], (k->ntaps - i - 1) * sizeof(k->taps[0]));
            k->ntaps--;
            return;
        }
    }
}
