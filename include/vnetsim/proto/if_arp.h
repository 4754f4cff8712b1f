/* vnetsim -- ARP wire format for Ethernet/IPv4. LINUX:
 * include/uapi/linux/if_arp.h (struct arphdr and the Ethernet/IPv4 body
 * that follows it). Multi-byte fields are big-endian bytes. */
#ifndef VNETSIM_PROTO_IF_ARP_H
#define VNETSIM_PROTO_IF_ARP_H

#include <stdint.h>

#define VNS_ARPHRD_ETHER 1
#define VNS_ARPOP_REQUEST 1
#define VNS_ARPOP_REPLY 2

struct vns_arphdr {
    uint8_t ar_hrd[2];    /* ARPHRD_ETHER */
    uint8_t ar_pro[2];    /* ETH_P_IP */
    uint8_t ar_hln;       /* 6 */
    uint8_t ar_pln;       /* 4 */
    uint8_t ar_op[2];     /* ARPOP_* */
};
_Static_assert(sizeof(struct vns_arphdr) == 8, "arphdr is 8 bytes");

/* The Ethernet/IPv4 body after struct arphdr. */
struct vns_arp_eth_ipv4 {
    struct vns_arphdr hdr;
    uint8_t ar_sha[6];
    uint8_t ar_sip[4];
    uint8_t ar_tha[6];
    uint8_t ar_tip[4];
};
_Static_assert(sizeof(struct vns_arp_eth_ipv4) == 28, "Ethernet/IPv4 ARP is 28 bytes");

#endif
