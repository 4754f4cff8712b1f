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

#include "fuzz_host.h"
#include "vnetsim/socket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_host h;
    struct vns_sock *udp = NULL;
    size_t off = 0;
    int records = 0;

    if (size > 4096)
        return 0;
    if (fuzz_host_up(&h) < 0)
        goto out;
    vns_neigh_add_permanent(h.inet, h.dev, VNS_IPV4(10, 0, 0, 9),
                            (const uint8_t[]){2, 0, 0, 0, 0, 9});
    /* A datagram to 10.0.0.1: an incomplete neighbour with a queued skb
     * that a fuzzed reply may resolve. */
    if (vns_socket_create(h.inet, VNS_SOCK_DGRAM, 0, &udp) == 0)
        vns_sys_sendto(NULL, udp, 100, 0,
                       &(struct vns_sockaddr_in){.addr = VNS_IPV4(10, 0, 0, 1), .port = 9});
    while (off < size && records++ < 8) {
        size_t len = data[off++];
        struct vns_skb *skb;

        if (len > size - off)
            len = size - off;
        skb = vns_alloc_skb(h.k, 64 + (uint32_t)len);
        if (!skb)
            break;
        vns_skb_reserve(skb, 64);
        memcpy(vns_skb_put(skb, (uint32_t)len), data + off, len);
        off += len;
        skb->protocol = 0x0806;
        skb->pkt_type = VNS_PACKET_HOST;
        skb->dev = h.dev;
        vns_arp_rcv(NULL, skb, h.dev, h.inet);
    }
    vns_sim_run(h.sim, VNS_SEC(5)); /* ARP retransmits, queue expiry */
out:
    fuzz_host_down(&h);
    return 0;
}
