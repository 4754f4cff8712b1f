/* tests/fuzz/fuzz_arp_rx.c -- ARP parsing on receive (net/ipv4/arp.c:
 * arp_rcv, arp_process): arbitrary ARP payloads reach a kernel with an
 * address on the device, an incomplete neighbour with a queued packet and
 * a permanent one, then the timers run (retransmits, queue expiry). Any
 * input gives a reply, an update or a counted drop, never a crash, a leak
 * or undefined behaviour.
 *
 * Input: a sequence of records [len][len bytes of ARP payload] (at most
 * 8), each handed to arp_rcv in turn. */
#include <stdint.h>
#include <string.h>

#include "vnetsim/vnetsim.h"
#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/inet.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/sim.h"
#include "vnetsim/skb.h"
#include "vnetsim/socket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int null_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev)
{
    (void)ctx;
    (void)dev;
    vns_consume_skb(skb);
    return VNS_NETDEV_TX_OK;
}

static const struct vns_net_device_ops null_ops = {.kind = "null", .ndo_start_xmit = null_xmit};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vns_sim *sim = NULL;
    struct vns_cpu *cpu = NULL;
    struct vns_kernel *k = NULL;
    struct vns_inet *inet = NULL;
    struct vns_net_device *dev = NULL;
    struct vns_sock *udp = NULL;
    size_t off = 0;
    int records = 0;

    if (size > 4096)
        return 0;
    if (vns_sim_create(&(struct vns_sim_config){.seed = 1}, &sim) < 0)
        return 0;
    if (vns_cpu_create(sim, &(struct vns_cpu_config){.name = "cpu0"}, &cpu) < 0)
        goto out;
    if (vns_kernel_create(sim, &(struct vns_kernel_config){.name = "k", .cpus = &cpu, .ncpus = 1},
                          &k) < 0)
        goto out;
    if (vns_inet_create(k, NULL, &inet) < 0)
        goto out;
    if (vns_alloc_netdev(k, "eth0", &null_ops, &dev) < 0)
        goto out;
    if (vns_register_netdev(dev) < 0) {
        vns_free_netdev(dev);
        goto out;
    }
    vns_dev_open(dev);
    vns_inet_addr_add(inet, dev, VNS_IPV4(10, 0, 0, 2), 24);
    vns_neigh_add_permanent(inet, dev, VNS_IPV4(10, 0, 0, 9), (const uint8_t[]){2, 0, 0, 0, 0, 9});
    /* A datagram to 10.0.0.1: an incomplete neighbour with a queued skb
     * that a fuzzed reply may resolve. */
    if (vns_socket_create(inet, VNS_SOCK_DGRAM, 0, &udp) == 0)
        vns_sys_sendto(NULL, udp, 100, 0,
                       &(struct vns_sockaddr_in){.addr = VNS_IPV4(10, 0, 0, 1), .port = 9});
    while (off < size && records++ < 8) {
        size_t len = data[off++];
        struct vns_skb *skb;

        if (len > size - off)
            len = size - off;
        skb = vns_alloc_skb(k, 64 + (uint32_t)len);
        if (!skb)
            break;
        vns_skb_reserve(skb, 64);
        memcpy(vns_skb_put(skb, (uint32_t)len), data + off, len);
        off += len;
        skb->protocol = 0x0806;
        skb->pkt_type = VNS_PACKET_HOST;
        skb->dev = dev;
        vns_arp_rcv(NULL, skb, dev, inet);
    }
    vns_sim_run(sim, VNS_SEC(5)); /* ARP retransmits, queue expiry */
out:
    vns_inet_destroy(inet);
    vns_kernel_destroy(k);
    vns_cpu_destroy(cpu);
    vns_sim_destroy(sim);
    return 0;
}
