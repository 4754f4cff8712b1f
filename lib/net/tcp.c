/* lib/net/tcp.c -- placeholder until the TCP files land. */
#include "inet_int.h"

int vns__tcp_v4_rcv(struct vns_ctx *ctx, struct vns_inet *inet, struct vns_skb *skb)
{
    (void)ctx;
    inet->stats.tcp_no_socket++;
    vns_kfree_skb(skb);
    return VNS_NET_RX_DROP;
}
int vns__tcp_init_sock(struct vns_sock *sk) { (void)sk; return -VNS_ENOSYS; }
void vns__tcp_free_sock(struct vns_sock *sk) { (void)sk; }
int vns__tcp_connect(struct vns_ctx *ctx, struct vns_sock *sk, const struct vns_sockaddr_in *addr)
{ (void)ctx; (void)sk; (void)addr; return -VNS_ENOSYS; }
long vns__tcp_sendmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags)
{ (void)ctx; (void)sk; (void)len; (void)flags; return -VNS_ENOSYS; }
long vns__tcp_recvmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags)
{ (void)ctx; (void)sk; (void)len; (void)flags; return -VNS_ENOSYS; }
void vns__tcp_close(struct vns_ctx *ctx, struct vns_sock *sk) { (void)ctx; vns__sock_free(sk); }
int vns__tcp_accept(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_sock **out)
{ (void)ctx; (void)sk; (void)out; return -VNS_ENOSYS; }
int vns__tcp_listen(struct vns_sock *sk, int backlog) { (void)sk; (void)backlog; return -VNS_ENOSYS; }
void vns__tcp_backlog_rcv(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb);
void vns__tcp_backlog_rcv(struct vns_ctx *ctx, struct vns_sock *sk, struct vns_skb *skb)
{ (void)ctx; (void)sk; vns_kfree_skb(skb); }
int vns_tcp_get_info(const struct vns_sock *sk, struct vns_tcp_info *info) { (void)sk; (void)info; return -VNS_ENOSYS; }
void vns_sock_set_nodelay(struct vns_sock *sk, bool on) { (void)sk; (void)on; }
void vns_sock_set_cork(struct vns_sock *sk, bool on) { (void)sk; (void)on; }
int vns_sock_set_congestion(struct vns_sock *sk, const char *name) { (void)sk; (void)name; return -VNS_ENOENT; }
const char *vns_tcp_state_name(enum vns_tcp_state s) { (void)s; return "?"; }
