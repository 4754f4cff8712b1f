/* tests/fuzz/fuzz_ipv4_rx.c -- IPv4, ICMP, UDP and TCP header parsing on
 * receive: arbitrary bytes are handed to ip_rcv (and, with a valid IPv4
 * header prepended, to the transport protocols) of a kernel with a UDP
 * socket, a TCP listener and an established TCP connection's worth of
 * state reachable by the addresses used. Any input gives a counted drop
 * or a delivery, never a crash, a leak or undefined behaviour.
 *
 * Input: byte 0 selects the mode (even: raw IPv4 packet; odd: the bytes
 * are an L4 payload behind a generated valid IPv4 header whose protocol is
 * byte 1); the rest is the packet. */
#include <stdint.h>
#include <string.h>

#include "vnetsim/vnetsim.h"
#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/inet.h"
#include "vnetsim/socket.h"
#include "vnetsim/sim.h"
#include "vnetsim/skb.h"

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
    struct vns_sock *udp = NULL, *tcp = NULL;
    struct vns_skb *skb;
    uint32_t me = VNS_IPV4(10, 0, 0, 2), peer = VNS_IPV4(10, 0, 0, 1);
    uint8_t *p;

    if (size < 2 || size > 70000)
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
    vns_inet_addr_add(inet, dev, me, 24);
    vns_neigh_add_permanent(inet, dev, peer, (const uint8_t[]){2, 0, 0, 0, 0, 1});
    vns_socket_create(inet, VNS_SOCK_DGRAM, 0, &udp);
    vns_sys_bind(udp, &(struct vns_sockaddr_in){.port = 9});
    vns_socket_create(inet, VNS_SOCK_STREAM, 0, &tcp);
    vns_sys_bind(tcp, &(struct vns_sockaddr_in){.port = 80});
    vns_sys_listen(tcp, 4);

    skb = vns_alloc_skb(k, 64 + 20 + (uint32_t)size);
    if (!skb)
        goto out;
    vns_skb_reserve(skb, 64);
    if (data[0] & 1) {
        uint32_t len = (uint32_t)size - 2 + 20;

        p = vns_skb_put(skb, 20);
        memset(p, 0, 20);
        p[0] = 0x45;
        p[2] = (uint8_t)(len >> 8);
        p[3] = (uint8_t)len;
        p[8] = 64;
        p[9] = data[1];
        p[12] = 10, p[13] = 0, p[14] = 0, p[15] = 1;
        p[16] = 10, p[17] = 0, p[18] = 0, p[19] = 2;
        {
            uint16_t c = vns_ip_fast_csum(p, 5);

            p[10] = (uint8_t)(c >> 8);
            p[11] = (uint8_t)c;
        }
        memcpy(vns_skb_put(skb, (uint32_t)size - 2), data + 2, size - 2);
    } else {
        memcpy(vns_skb_put(skb, (uint32_t)size - 1), data + 1, size - 1);
    }
    skb->protocol = 0x0800;
    skb->pkt_type = VNS_PACKET_HOST;
    skb->dev = dev;
    vns_ip_rcv(NULL, skb, dev, inet);
    /* let timers (SYN-ACK retransmits, delayed ACKs) run a little */
    vns_sim_run(sim, VNS_SEC(2));
out:
    vns_inet_destroy(inet);
    vns_kernel_destroy(k);
    vns_cpu_destroy(cpu);
    vns_sim_destroy(sim);
    return 0;
}
