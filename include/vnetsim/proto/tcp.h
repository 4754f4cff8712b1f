/* vnetsim -- TCP header wire format. LINUX: include/uapi/linux/tcp.h. */
#ifndef VNETSIM_PROTO_TCP_H
#define VNETSIM_PROTO_TCP_H

#include <stdint.h>

#define VNS_TCP_FLAG_FIN 0x01
#define VNS_TCP_FLAG_SYN 0x02
#define VNS_TCP_FLAG_RST 0x04
#define VNS_TCP_FLAG_PSH 0x08
#define VNS_TCP_FLAG_ACK 0x10
#define VNS_TCP_FLAG_URG 0x20
#define VNS_TCP_FLAG_ECE 0x40
#define VNS_TCP_FLAG_CWR 0x80

struct vns_tcphdr {
    uint8_t source[2];
    uint8_t dest[2];
    uint8_t seq[4];
    uint8_t ack_seq[4];
    uint8_t doff_res;     /* data offset (32-bit words) << 4 */
    uint8_t flags;        /* CWR ECE URG ACK PSH RST SYN FIN */
    uint8_t window[2];
    uint8_t check[2];
    uint8_t urg_ptr[2];
};
_Static_assert(sizeof(struct vns_tcphdr) == 20, "tcphdr is 20 bytes");

#endif
