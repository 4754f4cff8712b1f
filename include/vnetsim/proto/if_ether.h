/* vnetsim -- Ethernet wire format. LINUX: include/uapi/linux/if_ether.h,
 * include/linux/etherdevice.h. Multi-byte fields are big-endian on the
 * wire: read and write them with vns_get_be16() / vns_put_be16(). */
#ifndef VNETSIM_PROTO_IF_ETHER_H
#define VNETSIM_PROTO_IF_ETHER_H

#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#define VNS_ETH_ALEN 6
#define VNS_ETH_HLEN 14
#define VNS_ETH_ZLEN 60
#define VNS_ETH_DATA_LEN 1500
#define VNS_ETH_FRAME_LEN 1514
#define VNS_ETH_FCS_LEN 4
#define VNS_ETH_MIN_MTU 68
#define VNS_ETH_MAX_MTU 0xFFFFu
#define VNS_VLAN_HLEN 4

#define VNS_ETH_P_IP 0x0800
#define VNS_ETH_P_ARP 0x0806
#define VNS_ETH_P_8021Q 0x8100
#define VNS_ETH_P_IPV6 0x86DD
#define VNS_ETH_P_PAUSE 0x8808
#define VNS_ETH_P_802_3_MIN 0x0600
#define VNS_ETH_P_802_2 0x0004

struct vns_ethhdr {
    uint8_t h_dest[VNS_ETH_ALEN];
    uint8_t h_source[VNS_ETH_ALEN];
    uint8_t h_proto[2];          /* big-endian */
};
_Static_assert(sizeof(struct vns_ethhdr) == VNS_ETH_HLEN, "ethhdr is 14 bytes");

static inline uint16_t vns_get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t vns_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void vns_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void vns_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* include/linux/etherdevice.h */
static inline bool vns_is_zero_ether_addr(const uint8_t *a)
{
    return !(a[0] | a[1] | a[2] | a[3] | a[4] | a[5]);
}
static inline bool vns_is_multicast_ether_addr(const uint8_t *a) { return a[0] & 1; }
static inline bool vns_is_broadcast_ether_addr(const uint8_t *a)
{
    return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}
static inline bool vns_is_unicast_ether_addr(const uint8_t *a) { return !vns_is_multicast_ether_addr(a); }
static inline bool vns_is_valid_ether_addr(const uint8_t *a)
{
    return !vns_is_multicast_ether_addr(a) && !vns_is_zero_ether_addr(a);
}
/* 01:80:c2:00:00:0X, the IEEE 802.1D reserved group addresses. */
static inline bool vns_is_link_local_ether_addr(const uint8_t *a)
{
    return a[0] == 0x01 && a[1] == 0x80 && a[2] == 0xc2 && a[3] == 0 && a[4] == 0 &&
           (a[5] & 0xf0) == 0;
}
static inline bool vns_ether_addr_equal(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, VNS_ETH_ALEN) == 0;
}

#endif
