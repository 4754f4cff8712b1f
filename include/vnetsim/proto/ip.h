/* vnetsim -- IPv4 header wire format. LINUX: include/uapi/linux/ip.h.
 * Fields are big-endian bytes; use vns_get_be16/32 (proto/if_ether.h). */
#ifndef VNETSIM_PROTO_IP_H
#define VNETSIM_PROTO_IP_H

#include <stdint.h>

#define VNS_IPPROTO_ICMP 1
#define VNS_IPPROTO_TCP 6
#define VNS_IPPROTO_UDP 17
#define VNS_IP_DF 0x4000
#define VNS_IP_MF 0x2000
#define VNS_IP_OFFSET 0x1FFF

struct vns_iphdr {
    uint8_t ver_ihl;      /* version (4) << 4 | ihl (32-bit words, >= 5) */
    uint8_t tos;
    uint8_t tot_len[2];
    uint8_t id[2];
    uint8_t frag_off[2];
    uint8_t ttl;
    uint8_t protocol;
    uint8_t check[2];
    uint8_t saddr[4];
    uint8_t daddr[4];
};
_Static_assert(sizeof(struct vns_iphdr) == 20, "iphdr is 20 bytes");

#endif
