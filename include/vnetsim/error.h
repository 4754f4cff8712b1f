/* vnetsim -- error codes and diagnostics.
 *
 * Functions return 0 or a negative error code -VNS_E<NAME>. The constants
 * carry errno names with fixed, portable values (Linux's numbers), so a
 * modelled kernel path can return the code the kernel would. */
#ifndef VNETSIM_ERROR_H
#define VNETSIM_ERROR_H

#include "vnetsim/common.h"

enum vns_errno {
    VNS_EPERM = 1,
    VNS_ENOENT = 2,
    VNS_EIO = 5,
    VNS_E2BIG = 7,
    VNS_EBADF = 9,
    VNS_EAGAIN = 11,
    VNS_ENOMEM = 12,
    VNS_EFAULT = 14,
    VNS_EBUSY = 16,
    VNS_EEXIST = 17,
    VNS_ENODEV = 19,
    VNS_EINVAL = 22,
    VNS_ENOSPC = 28,
    VNS_EPIPE = 32,
    VNS_ERANGE = 34,
    VNS_ENOSYS = 38,
    VNS_ELOOP = 40,
    VNS_ENODATA = 61,
    VNS_EPROTO = 71,
    VNS_EOVERFLOW = 75,
    VNS_EMSGSIZE = 90,
    VNS_ENOTSUP = 95,
    VNS_EADDRINUSE = 98,
    VNS_ENETUNREACH = 101,
    VNS_ECONNRESET = 104,
    VNS_ENOBUFS = 105,
    VNS_EISCONN = 106,
    VNS_ENOTCONN = 107,
    VNS_ETIMEDOUT = 110,
    VNS_ECONNREFUSED = 111,
    VNS_EHOSTUNREACH = 113,
    VNS_EALREADY = 114,
    VNS_EINPROGRESS = 115,
    VNS_ECANCELED = 125,
};

/* Text for an error code; accepts either sign. Never NULL. */
VNS_EXTERN const char *vns_strerror(int err);
/* The symbolic name ("EINVAL") of an error code; accepts either sign. */
VNS_EXTERN const char *vns_errname(int err);

/* A diagnostic that can point into an input file: the scenario parser and
 * the CLI report "file:line:col: error: message". line/col are 1-based; 0
 * means "unknown" and is left out when formatted. */
#define VNS_DIAG_MSG_MAX 512
#define VNS_DIAG_FILE_MAX 256
struct vns_diag {
    int code;                          /* negative error code, 0 if none */
    unsigned line;                     /* 1-based, 0 = none */
    unsigned col;                      /* 1-based, 0 = none */
    char file[VNS_DIAG_FILE_MAX];      /* "" = none */
    char msg[VNS_DIAG_MSG_MAX];
};

/* Fill @d (may be NULL: then nothing happens) and return @code, so that a
 * caller can write `return vns_diag_set(d, -VNS_EINVAL, f, l, c, "...")`. */
VNS_EXTERN int vns_diag_set(struct vns_diag *d, int code, const char *file,
                            unsigned line, unsigned col, const char *fmt, ...)
    VNS_PRINTF(6, 7);
/* "file:line:col: error: msg" (parts that are unknown are omitted).
 * Returns the length that the full text needs, as snprintf does. */
VNS_EXTERN int vns_diag_format(const struct vns_diag *d, char *buf, size_t len);

#endif
