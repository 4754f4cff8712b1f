/* vnetsim -- UDP header wire format. LINUX: include/uapi/linux/udp.h. */
#ifndef VNETSIM_PROTO_UDP_H
#define VNETSIM_PROTO_UDP_H

#include <stdint.h>

struct vns_udphdr {
    uint8_t source[2];
    uint8_t dest[2];
    uint8_t len[2];
    uint8_t check[2];
};
_Static_assert(sizeof(struct vns_udphdr) == 8, "udphdr is 8 bytes");

#endif
