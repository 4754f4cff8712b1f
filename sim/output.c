/* sim/output.c -- outputs written whole or not at all. */
#define _XOPEN_SOURCE 700   /* uv.h needs the POSIX types */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("vnetsim: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_out_open(struct cli_out *o, const char *path)
{
    static unsigned serial;

    memset(o, 0, sizeof(*o));
    if (strlen(path) >= sizeof(o->path)) {
        cli_error("%s: path too long", path);
        return -VNS_EINVAL;
    }
    strcpy(o->path, path);
    snprintf(o->tmp, sizeof(o->tmp), "%s.tmp%u", path, serial++);
    o->f = fopen(o->tmp, "wb");
    if (!o->f) {
        cli_error("%s: cannot create %s: %s; nothing written", path, o->tmp, strerror(errno));
        return -VNS_EIO;
    }
    return 0;
}

/* The reason of the first failure: a write (disk full: ENOSPC, a file
 * size limit: EFBIG, with SIGXFSZ ignored), the close, or the rename. */
int cli_out_commit(struct cli_out *o)
{
    int bad = ferror(o->f) ? (errno ? errno : EIO) : 0;

    if (fflush(o->f) != 0 && !bad)
        bad = errno ? errno : EIO;
    if (fclose(o->f) != 0 && !bad)
        bad = errno ? errno : EIO;
    o->f = NULL;
    if (!bad && rename(o->tmp, o->path) != 0)
        bad = errno ? errno : EIO;
    if (bad) {
        remove(o->tmp);
        cli_error("%s: write failed: %s; nothing written", o->path, strerror(bad));
        return -VNS_EIO;
    }
    return 0;
}

void cli_out_abort(struct cli_out *o)
{
    if (o->f) {
        fclose(o->f);
        o->f = NULL;
        remove(o->tmp);
    }
}

int cli_mkdir(const char *opt, const char *dir)
{
    uv_fs_t req;
    int e = uv_fs_mkdir(NULL, &req, dir, 0777, NULL);

    uv_fs_req_cleanup(&req);
    if (e < 0 && e != UV_EEXIST) {
        cli_error("%s %s: cannot create the folder (%s)", opt, dir, uv_strerror(e));
        return -VNS_EIO;
    }
    return 0;
}
