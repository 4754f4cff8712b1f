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

#include "fuzz_host.h"
#include "vnetsim/socket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_host h;
    struct vns_sock *udp = NULL, *tcp = NULL;
    struct vns_skb *skb;
    uint32_t peer = VNS_IPV4(10, 0, 0, 1);
    uint8_t *p;

    if (size < 2 || size > 70000)
        return 0;
    if (fuzz_host_up(&h) < 0)
        goto out;
    vns_neigh_add_permanent(h.inet, h.dev, peer, (const uint8_t[]){2, 0, 0, 0, 0, 1});
    vns_socket_create(h.inet, VNS_SOCK_DGRAM, 0, &udp);
    vns_sys_bind(udp, &(struct vns_sockaddr_in){.port = 9});
    vns_socket_create(h.inet, VNS_SOCK_STREAM, 0, &tcp);
    vns_sys_bind(tcp, &(struct vns_sockaddr_in){.port = 80});
    vns_sys_listen(tcp, 4);

    skb = vns_alloc_skb(h.k, 64 + 20 + (uint32_t)size);
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
    skb->dev = h.dev;
    vns_ip_rcv(NULL, skb, h.dev, h.inet);
    /* let timers (SYN-ACK retransmits, delayed ACKs) run a little */
    vns_sim_run(h.sim, VNS_SEC(2));
out:
    fuzz_host_down(&h);
    return 0;
}
