/* tests/fuzz/fuzz_host.h -- one machine for the receive-path fuzz targets:
 * a simulation, one CPU, a kernel with an IPv4 stack and one device
 * ("eth0", up, 10.0.0.2/24) whose transmit consumes what it is given. */
#ifndef VNS_FUZZ_HOST_H
#define VNS_FUZZ_HOST_H

#include "vnetsim/vnetsim.h"
#include "vnetsim/cpu.h"
#include "vnetsim/inet.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/sim.h"
#include "vnetsim/skb.h"

struct fuzz_host {
    struct vns_sim *sim;
    struct vns_cpu *cpu;
    struct vns_kernel *k;
    struct vns_inet *inet;
    struct vns_net_device *dev;
};

static int fuzz_null_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    (void)ctx;
    (void)dev;
    vns_consume_skb(skb);
    return VNS_NETDEV_TX_OK;
}

static const struct vns_net_device_ops fuzz_null_ops = {.kind = "null",
                                                        .ndo_start_xmit = fuzz_null_xmit};

/* 0, or -1 with what was built torn down by fuzz_host_down. */
static inline int fuzz_host_up(struct fuzz_host *h)
{
    *h = (struct fuzz_host){0};
    if (vns_sim_create(&(struct vns_sim_config){.seed = 1}, &h->sim) < 0 ||
        vns_cpu_create(h->sim, &(struct vns_cpu_config){.name = "cpu0"}, &h->cpu) < 0 ||
        vns_kernel_create(h->sim,
                          &(struct vns_kernel_config){.name = "k", .cpus = &h->cpu, .ncpus = 1},
                          &h->k) < 0 ||
        vns_inet_create(h->k, NULL, &h->inet) < 0 ||
        vns_alloc_netdev(h->k, "eth0", &fuzz_null_ops, &h->dev) < 0)
        return -1;
    if (vns_register_netdev(h->dev) < 0) {
        vns_free_netdev(h->dev);
        h->dev = NULL;
        return -1;
    }
    vns_dev_open(h->dev);
    vns_inet_addr_add(h->inet, h->dev, VNS_IPV4(10, 0, 0, 2), 24);
    return 0;
}

static inline void fuzz_host_down(struct fuzz_host *h)
{
    vns_inet_destroy(h->inet);
    vns_kernel_destroy(h->k);
    vns_cpu_destroy(h->cpu);
    vns_sim_destroy(h->sim);
}

#endif
