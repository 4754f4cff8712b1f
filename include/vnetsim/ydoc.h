/* vnetsim -- YAML documents with positions, for scenario files.
 *
 * A scenario file is parsed (libyaml) into a small tree of maps,
 * sequences and scalars, each node remembering its file, line and column,
 * so every later error can say "file:line:col: guests[0].nic.ring_size:
 * expected ...". The typed getters below produce those errors; a map
 * consumer checks for unknown keys and gets the closest known one as a
 * suggestion. `--set a.b[0].c=value` edits the tree before it is read.
 *
 * Untrusted input: sizes, nesting depth and node counts are bounded;
 * anchors and aliases are refused (no "billion laughs"); duplicate keys
 * are errors. */
#ifndef VNETSIM_YDOC_H
#define VNETSIM_YDOC_H

#include "vnetsim/common.h"
#include "vnetsim/error.h"

enum vns_ynode_kind { VNS_YSCALAR, VNS_YMAP, VNS_YSEQ };

#define VNS_YDOC_MAX_BYTES (16u << 20)   /* 16 MiB of YAML */
#define VNS_YDOC_MAX_DEPTH 64
#define VNS_YDOC_MAX_NODES 1000000

struct vns_ynode {
    enum vns_ynode_kind kind;
    unsigned line, col;          /* 1-based position of the node */
    char *scalar;                /* VNS_YSCALAR: the text (NUL-terminated) */
    bool plain;                  /* scalar was unquoted */
    size_t n;                    /* map entries or sequence items */
    char **keys;                 /* VNS_YMAP: keys[i] */
    unsigned *key_line, *key_col;
    struct vns_ynode **items;    /* values (map) or items (sequence) */
    size_t cap;
};

struct vns_ydoc {
    char *file;                  /* name used in diagnostics */
    struct vns_ynode *root;      /* a map, or NULL for an empty document */
    size_t nodes;
};

/* Parse @len bytes of YAML. @file names the input in diagnostics. On
 * error returns -VNS_EINVAL (or -VNS_ENOMEM, -VNS_E2BIG) and fills @d. */
VNS_EXTERN int vns_ydoc_parse(const char *text, size_t len, const char *file,
                              struct vns_ydoc **out, struct vns_diag *d);
/* Read and parse a file. */
VNS_EXTERN int vns_ydoc_load(const char *path, struct vns_ydoc **out, struct vns_diag *d);
VNS_EXTERN void vns_ydoc_free(struct vns_ydoc *doc);

/* Value of @key in map @m, or NULL. */
VNS_EXTERN struct vns_ynode *vns_ymap_get(const struct vns_ynode *m, const char *key);

/* Apply "path=value" (path: a.b[2].c; value: YAML flow text such as 1024,
 * 250us, [a, b] or {x: 1}). Creates missing map keys; an index may be
 * one past the end of a sequence to append. Errors name the path. */
VNS_EXTERN int vns_ydoc_set(struct vns_ydoc *doc, const char *assignment, struct vns_diag *d);

/* --- typed reading with key paths --------------------------------------- */

/* Where a reader is: the document (for the file name) and the key path of
 * the map being read ("guests[0].nic"). Errors go to @d. */
struct vns_ypath {
    const struct vns_ydoc *doc;
    struct vns_diag *d;
    char path[256];
};

/* Extend @parent's path with ".key" or "[i]" into @child. */
VNS_EXTERN void vns_ypath_key(struct vns_ypath *child, const struct vns_ypath *parent, const char *key);
VNS_EXTERN void vns_ypath_index(struct vns_ypath *child, const struct vns_ypath *parent, size_t i);

/* Report an error at node @n (its line and column) about path @p.key. */
VNS_EXTERN int vns_yerr(const struct vns_ypath *p, const struct vns_ynode *n, const char *key,
                        const char *fmt, ...) VNS_PRINTF(4, 5);

/* Check that map @m has only keys from the NULL-terminated @known; the
 * error for an unknown key names the closest known key. @m must be a map
 * (else an error "expected a map"). */
VNS_EXTERN int vns_ycheck_map(const struct vns_ypath *p, const struct vns_ynode *m,
                              const char *const *known);

/* Getters: a missing key leaves *out at its default and returns 0 (or, for
 * the _req variants, is an error). A present key of the wrong form is an
 * error naming the expected form. */
VNS_EXTERN int vns_yget_str(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                            const char **out);
VNS_EXTERN int vns_yget_u64(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                            uint64_t min, uint64_t max, uint64_t *out);
VNS_EXTERN int vns_yget_bool(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                             bool *out);
VNS_EXTERN int vns_yget_time(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                             vns_time_t *out);
VNS_EXTERN int vns_yget_size(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                             uint64_t *out);
VNS_EXTERN int vns_yget_rate(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                             uint64_t *out);
/* One of the NULL-terminated @choices; *out receives its index. */
VNS_EXTERN int vns_yget_enum(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                             const char *const *choices, int *out);
/* A required key of any kind. */
VNS_EXTERN int vns_yget_req(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                            struct vns_ynode **out);

/* Edit distance (for suggestions). */
VNS_EXTERN size_t vns_edit_distance(const char *a, const char *b);

#endif
