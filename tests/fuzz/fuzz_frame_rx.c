/* tests/fuzz/fuzz_frame_rx.c -- arbitrary Ethernet frames (IPv4/TCP/UDP
 * headers parsed on the way) through the receive and forwarding paths: a
 * bridge port, a macvlan lower device, NAPI with GRO, software GSO, and a
 * BRIDGE-mode macvlan's transmit. Every input must leave no skb and no
 * allocation behind, and never crash.
 *
 * Input: a sequence of records [op][len lo][len hi][len bytes of frame]. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vnetsim/vnetsim.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/napi.h"
#include "vnetsim/bridge.h"
#include "vnetsim/macvlan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    (void)ctx;
    dev->stats.tx_packets++;
    vns_consume_skb(skb);
    return VNS_NETDEV_TX_OK;
}

static const struct vns_net_device_ops sink_ops = {.kind = "sink", .ndo_start_xmit = sink_xmit};

static int ip_sink(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev, void *arg)
{
    (void)ctx;
    (void)dev;
    (void)arg;
    vns_consume_skb(skb);
    return VNS_NET_RX_SUCCESS;
}

static int nop_poll(struct vns_ctx *ctx, struct vns_napi_struct *n, int budget)
{
    (void)ctx;
    (void)n;
    (void)budget;
    return VNS_STEP_DONE;
}

static int nop_irq(struct vns_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    return VNS_STEP_DONE;
}

static struct vns_net_device *mkdev(struct vns_kernel *k, const char *name, uint64_t features)
{
    struct vns_net_device *d = NULL;

    if (vns_alloc_netdev(k, name, &sink_ops, &d) || vns_register_netdev(d))
        abort();
    d->features = features;
    vns_dev_open(d);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vns_sim *sim = NULL;
    struct vns_cpu *cpu = NULL;
    struct vns_kernel *k = NULL;
    struct vns_net_device *p0, *p1, *br = NULL, *low, *mv0 = NULL, *mv1 = NULL, *gro, *nogso;
    struct vns_napi_struct napi;
    struct vns_irq irq;
    size_t at = 0;

    if (vns_sim_create(&(struct vns_sim_config){.seed = 1}, &sim) ||
        vns_cpu_create(sim, &(struct vns_cpu_config){.name = "cpu0"}, &cpu) ||
        vns_kernel_create(sim, &(struct vns_kernel_config){.name = "fz", .cpus = &cpu, .ncpus = 1}, &k))
        abort();
    vns_dev_add_pack(k, 0x0800, ip_sink, NULL);
    p0 = mkdev(k, "p0", VNS_NETIF_F_SG);
    p1 = mkdev(k, "p1", VNS_NETIF_F_SG);
    if (vns_br_add_bridge(k, "br0", &br) || vns_br_add_if(br, p0) || vns_br_add_if(br, p1))
        abort();
    vns_dev_open(br);
    low = mkdev(k, "low", VNS_NETIF_F_SG | VNS_NETIF_F_HW_CSUM);
    if (vns_macvlan_create(low, "mv0", &(struct vns_macvlan_config){.mode = VNS_MACVLAN_MODE_BRIDGE}, &mv0) ||
        vns_macvlan_create(low, "mv1", &(struct vns_macvlan_config){.mode = VNS_MACVLAN_MODE_BRIDGE}, &mv1))
        abort();
    vns_dev_open(mv0);
    vns_dev_open(mv1);
    gro = mkdev(k, "gro", VNS_NETIF_F_GRO);
    vns_netif_napi_add(gro, &napi, nop_poll, VNS_FN_virtnet_poll, 64);
    vns_napi_enable(&napi);
    nogso = mkdev(k, "nogso", 0);
    nogso->priv_flags |= VNS_IFF_NO_QUEUE;

    while (at + 3 <= size) {
        uint8_t op = data[at];
        size_t len = (size_t)(data[at + 1] | data[at + 2] << 8) % 4096;
        struct vns_skb *skb;

        at += 3;
        if (len > size - at)
            len = size - at;
        skb = vns_netdev_alloc_skb(k, (uint32_t)len);
        if (!skb)
            break;
        memcpy(vns_skb_put(skb, (uint32_t)len), data + at, len);
        at += len;
        if (len < 14) {   /* a driver drops runts before the stack */
            vns_kfree_skb(skb);
            continue;
        }
        switch (op % 5) {
        case 0:
            skb->protocol = vns_eth_type_trans(skb, (op & 8) ? p1 : p0);
            vns_netif_receive_skb(NULL, skb);
            break;
        case 1:
            skb->protocol = vns_eth_type_trans(skb, low);
            vns_netif_receive_skb(NULL, skb);
            break;
        case 2:
            skb->protocol = vns_eth_type_trans(skb, gro);
            skb->ip_summed = (op & 8) ? VNS_CHECKSUM_UNNECESSARY : VNS_CHECKSUM_NONE;
            vns_napi_gro_receive(NULL, &napi, skb);
            break;
        case 3:
            vns_skb_reset_mac_header(skb);
            skb->network_header = (uint16_t)(skb->mac_header + 14);
            skb->protocol = 0x0800;
            skb->gso_size = (uint16_t)(1 + (op >> 3) * 37);
            skb->gso_type = VNS_SKB_GSO_TCPV4;
            skb->ip_summed = VNS_CHECKSUM_PARTIAL;
            skb->csum_start = (uint16_t)(skb->network_header + 20);
            skb->csum_offset = 16;
            skb->dev = nogso;
            vns_dev_queue_xmit(NULL, skb);
            break;
        default:
            skb->dev = (op & 8) ? mv1 : mv0;
            vns_dev_queue_xmit(NULL, skb);
            break;
        }
    }
    vns_napi_gro_flush(NULL, &napi, false);
    /* drain the backlog (macvlan bridge mode) in a softirq at irq_exit */
    vns_irq_init(&irq, "kick", cpu, -1, nop_irq, NULL);
    vns_irq_raise(sim, &irq, 0);
    vns_sim_run(sim, VNS_MSEC(10));
    vns_netif_napi_del(&napi);
    if (vns_kernel_stats(k)->skb_live != 0)
        __builtin_trap();
    vns_kernel_destroy(k);
    vns_sim_destroy(sim);
    if (vns_alloc_live() != 0)
        __builtin_trap();
    return 0;
}
