/* vnetsim -- ICMP echo ("ping") sockets: socket(AF_INET, SOCK_DGRAM,
 * IPPROTO_ICMP). LINUX: net/ipv4/ping.c (ping_v4_sendmsg, ping_rcv,
 * ping_recvmsg), net/ipv4/icmp.c (icmp_echo answers on the other side).
 *
 * The socket's echo identifier is a free id of the ICMP "port" space, as
 * ping_get_port picks it. A request carries @len payload bytes of ping's
 * pattern (byte i is i & 0xff), real and linear whatever the scenario's
 * payload mode, so its ICMP checksum is computed in software as the
 * kernel does (csum_partial_copy_fromiovecend); the reply's payload is
 * checked against the pattern (vns_inet_stats payload counters). No
 * fragmentation: a request larger than the route MTU is -VNS_EMSGSIZE.
 * Close with vns_sys_close(). */
#ifndef VNETSIM_PING_H
#define VNETSIM_PING_H

#include "vnetsim/socket.h"

/* A ping socket of @inet whose timers would run on CPU @cpu. */
VNS_EXTERN int vns_ping_socket_create(struct vns_inet *inet, unsigned cpu, struct vns_sock **out);
/* sendto(2): one ICMP echo request, sequence @seq, @len payload bytes, to
 * @daddr. Returns @len, -VNS_SOCK_ENETUNREACH, -VNS_EMSGSIZE or
 * -VNS_ENOBUFS (a qdisc drop is success, as for UDP). */
VNS_EXTERN long vns_sys_ping_sendto(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, uint16_t seq,
                                    uint32_t daddr);
/* recvfrom(2): one echo reply: its payload length, sequence in *@seq and
 * source in *@from (either may be NULL), or -VNS_EAGAIN (the caller is
 * woken when one arrives). */
VNS_EXTERN long vns_sys_ping_recvfrom(struct vns_ctx *ctx, struct vns_sock *sk, uint16_t *seq, uint32_t *from);

#endif
