/* lib/core/error.c -- error names, texts and file:line:col diagnostics. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vnetsim/error.h"

struct err_entry {
    int code;
    const char *name;
    const char *text;
};

static const struct err_entry error_table[] = {
    {VNS_EPERM, "EPERM", "operation not permitted"},
    {VNS_ENOENT, "ENOENT", "no such object"},
    {VNS_EIO, "EIO", "input/output error"},
    {VNS_E2BIG, "E2BIG", "argument list too long"},
    {VNS_EBADF, "EBADF", "bad descriptor"},
    {VNS_EAGAIN, "EAGAIN", "try again"},
    {VNS_ENOMEM, "ENOMEM", "out of memory"},
    {VNS_EFAULT, "EFAULT", "bad address"},
    {VNS_EBUSY, "EBUSY", "resource busy"},
    {VNS_EEXIST, "EEXIST", "already exists"},
    {VNS_ENODEV, "ENODEV", "no such device"},
    {VNS_EINVAL, "EINVAL", "invalid argument"},
    {VNS_ENOSPC, "ENOSPC", "no space left"},
    {VNS_EPIPE, "EPIPE", "broken pipe"},
    {VNS_ERANGE, "ERANGE", "value out of range"},
    {VNS_ENOSYS, "ENOSYS", "not implemented"},
    {VNS_ELOOP, "ELOOP", "loop detected"},
    {VNS_ENODATA, "ENODATA", "no data available"},
    {VNS_EPROTO, "EPROTO", "protocol error"},
    {VNS_EOVERFLOW, "EOVERFLOW", "value too large"},
    {VNS_EMSGSIZE, "EMSGSIZE", "message too long"},
    {VNS_ENOTSUP, "ENOTSUP", "not supported"},
    {VNS_EADDRINUSE, "EADDRINUSE", "address already in use"},
    {VNS_ENETUNREACH, "ENETUNREACH", "network unreachable"},
    {VNS_ECONNRESET, "ECONNRESET", "connection reset by peer"},
    {VNS_ENOBUFS, "ENOBUFS", "no buffer space available"},
    {VNS_EISCONN, "EISCONN", "already connected"},
    {VNS_ENOTCONN, "ENOTCONN", "not connected"},
    {VNS_ETIMEDOUT, "ETIMEDOUT", "timed out"},
    {VNS_ECONNREFUSED, "ECONNREFUSED", "connection refused"},
    {VNS_EHOSTUNREACH, "EHOSTUNREACH", "no route to host"},
    {VNS_EALREADY, "EALREADY", "operation already in progress"},
    {VNS_EINPROGRESS, "EINPROGRESS", "operation in progress"},
    {VNS_ECANCELED, "ECANCELED", "canceled"},
};

static const struct err_entry *error_find(int err)
{
    if (err < 0)
        err = -err;
    for (size_t i = 0; i < VNS_ARRAY_SIZE(error_table); i++)
        if (error_table[i].code == err)
            return &error_table[i];
    return NULL;
}

const char *vns_strerror(int err)
{
    const struct err_entry *e;

    if (err == 0)
        return "success";
    e = error_find(err);
    return e ? e->text : "unknown error";
}

const char *vns_errname(int err)
{
    const struct err_entry *e;

    if (err == 0)
        return "OK";
    e = error_find(err);
    return e ? e->name : "E?";
}

int vns_diag_set(struct vns_diag *d, int code, const char *file, unsigned line,
                 unsigned col, const char *fmt, ...)
{
    va_list ap;

    if (!d)
        return code;
    d->code = code;
    d->line = line;
    d->col = col;
    snprintf(d->file, sizeof(d->file), "%s", file ? file : "");
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
    return code;
}

int vns_diag_format(const struct vns_diag *d, char *buf, size_t len)
{
    char where[VNS_DIAG_FILE_MAX + 32] = "";

    if (d->file[0] && d->line && d->col)
        snprintf(where, sizeof(where), "%s:%u:%u: ", d->file, d->line, d->col);
    else if (d->file[0] && d->line)
        snprintf(where, sizeof(where), "%s:%u: ", d->file, d->line);
    else if (d->file[0])
        snprintf(where, sizeof(where), "%s: ", d->file);
    return snprintf(buf, len, "%serror: %s", where, d->msg);
}
