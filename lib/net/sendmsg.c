/* lib/net/sendmsg.c -- the sendmsg(2) system call. LINUX: net/socket.c
 * (__x64_sys_sendmsg, __sys_sendmsg, ___sys_sendmsg: the msghdr and its
 * iovec copied from user space, then sock_sendmsg). One iovec, no
 * ancillary data. */
#include "inet_int.h"

long vns_sys_sendmsg(struct vns_ctx *ctx, struct vns_sock *sk, size_t len, int flags)
{
    long rc;

    vns_fn_enter(ctx, VNS_FN___x64_sys_sendmsg);
    vns_fn_enter(ctx, VNS_FN___sys_sendmsg);
    vns_fn_enter(ctx, VNS_FN____sys_sendmsg);
    rc = vns__sock_sendmsg(ctx, sk, len, flags, NULL);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return rc;
}
