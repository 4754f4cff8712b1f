/* lib/scenario/ydoc.c -- YAML to a positioned tree (libyaml's event
 * parser), --set edits, typed getters with key paths and suggestions. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "vnetsim/alloc.h"
#include "vnetsim/units.h"
#include "vnetsim/ydoc.h"

/* --- nodes ------------------------------------------------------------------ */

static struct vns_ynode *ynode_new(struct vns_ydoc *doc, enum vns_ynode_kind kind, unsigned line,
                                   unsigned col)
{
    struct vns_ynode *n;

    if (doc && doc->nodes >= VNS_YDOC_MAX_NODES)
        return NULL;
    n = vns_calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = line;
    n->col = col;
    if (doc)
        doc->nodes++;
    return n;
}

static void ynode_free(struct vns_ynode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        ynode_free(n->items[i]);
        if (n->keys)
            vns_free(n->keys[i]);
    }
    vns_free(n->items);
    vns_free(n->keys);
    vns_free(n->key_line);
    vns_free(n->key_col);
    vns_free(n->scalar);
    vns_free(n);
}

/* Append @v (and, for a map, @key) to container @c. Takes @key. */
static int ynode_append(struct vns_ynode *c, char *key, unsigned kl, unsigned kc, struct vns_ynode *v)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct vns_ynode **items = vns_realloc(c->items, cap * sizeof(*items));

        if (!items)
            return -VNS_ENOMEM;
        c->items = items;
        if (c->kind == VNS_YMAP) {
            char **keys = vns_realloc(c->keys, cap * sizeof(*keys));
            unsigned *l, *k;

            if (!keys)
                return -VNS_ENOMEM;
            c->keys = keys;
            l = vns_realloc(c->key_line, cap * sizeof(*l));
            if (!l)
                return -VNS_ENOMEM;
            c->key_line = l;
            k = vns_realloc(c->key_col, cap * sizeof(*k));
            if (!k)
                return -VNS_ENOMEM;
            c->key_col = k;
        }
        c->cap = cap;
    }
    if (c->kind == VNS_YMAP) {
        c->keys[c->n] = key;
        c->key_line[c->n] = kl;
        c->key_col[c->n] = kc;
    }
    c->items[c->n++] = v;
    return 0;
}

struct vns_ynode *vns_ymap_get(const struct vns_ynode *m, const char *key)
{
    if (!m || m->kind != VNS_YMAP)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0)
            return m->items[i];
    return NULL;
}

/* --- parsing ------------------------------------------------------------------ */

struct frame {
    struct vns_ynode *node;
    char *pending_key;          /* map: key read, value not yet */
    unsigned kl, kc;
};

static const char *event_name(yaml_event_type_t t)
{
    switch (t) {
    case YAML_MAPPING_START_EVENT: return "a map";
    case YAML_SEQUENCE_START_EVENT: return "a list";
    default: return "this";
    }
}

static int ydoc_nomem(const struct vns_ydoc *doc, struct vns_diag *d, unsigned line, unsigned col)
{
    if (doc->nodes >= VNS_YDOC_MAX_NODES)
        return vns_diag_set(d, -VNS_E2BIG, doc->file, line, col, "more than %d values", VNS_YDOC_MAX_NODES);
    return vns_diag_set(d, -VNS_ENOMEM, doc->file, line, col, "out of memory");
}

/* Parse to a tree whose root may be any node (NULL for an empty stream). */
static int ydoc_parse_any(const char *text, size_t len, const char *file, struct vns_ydoc **out,
                          struct vns_diag *d)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    struct frame stack[VNS_YDOC_MAX_DEPTH + 1];
    int depth = 0, err = 0, docs = 0;
    struct vns_ydoc *doc;
    bool done = false;

    if (len > VNS_YDOC_MAX_BYTES)
        return vns_diag_set(d, -VNS_E2BIG, file, 0, 0, "file larger than %u MiB",
                            VNS_YDOC_MAX_BYTES >> 20);
    doc = vns_calloc(1, sizeof(*doc));
    if (!doc || !(doc->file = vns_strdup(file ? file : "<input>"))) {
        vns_free(doc);
        return vns_diag_set(d, -VNS_ENOMEM, file, 0, 0, "out of memory");
    }
    if (!yaml_parser_initialize(&parser)) {
        vns_ydoc_free(doc);
        return vns_diag_set(d, -VNS_ENOMEM, file, 0, 0, "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done && !err) {
        unsigned line, col;
        struct vns_ynode *n = NULL;

        if (!yaml_parser_parse(&parser, &ev)) {
            err = vns_diag_set(d, -VNS_EINVAL, doc->file, (unsigned)parser.problem_mark.line + 1,
                               (unsigned)parser.problem_mark.column + 1, "YAML syntax: %s%s%s",
                               parser.problem ? parser.problem : "error",
                               parser.context ? " " : "", parser.context ? parser.context : "");
            break;
        }
        line = (unsigned)ev.start_mark.line + 1;
        col = (unsigned)ev.start_mark.column + 1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                err = vns_diag_set(d, -VNS_EINVAL, doc->file, line, col,
                                   "more than one YAML document ('---'): a scenario is one document");
            break;
        case YAML_ALIAS_EVENT:
            err = vns_diag_set(d, -VNS_EINVAL, doc->file, line, col,
                               "anchors and aliases (*%s) are not supported; write the value out",
                               (const char *)ev.data.alias.anchor);
            break;
        case YAML_SCALAR_EVENT:
            if (ev.data.scalar.anchor) {
                err = vns_diag_set(d, -VNS_EINVAL, doc->file, line, col,
                                   "anchors (&%s) are not supported", (const char *)ev.data.scalar.anchor);
                break;
            }
            if (depth > 0 && stack[depth - 1].node->kind == VNS_YMAP && !stack[depth - 1].pending_key) {
                /* a key */
                struct vns_ynode *m = stack[depth - 1].node;
                const char *k = (const char *)ev.data.scalar.value;

                if (vns_ymap_get(m, k)) {
                    err = vns_diag_set(d, -VNS_EINVAL, doc->file, line, col, "duplicate key '%s'", k);
                    break;
                }
                stack[depth - 1].pending_key = vns_strdup(k);
                stack[depth - 1].kl = line;
                stack[depth - 1].kc = col;
                if (!stack[depth - 1].pending_key)
                    err = vns_diag_set(d, -VNS_ENOMEM, doc->file, line, col, "out of memory");
                break;
            }
            n = ynode_new(doc, VNS_YSCALAR, line, col);
            if (n) {
                n->scalar = vns_strdup((const char *)ev.data.scalar.value);
                n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                if (!n->scalar) {
                    ynode_free(n);
                    n = NULL;
                }
            }
            if (!n)
                err = ydoc_nomem(doc, d, line, col);
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT: {
            const yaml_char_t *anchor = ev.type == YAML_MAPPING_START_EVENT ? ev.data.mapping_start.anchor
                                                                            : ev.data.sequence_start.anchor;

            if (anchor) {
                err = vns_diag_set(d, -VNS_EINVAL, doc->file, line, col, "anchors (&%s) are not supported",
                                   (const char *)anchor);
                break;
            }
            if (depth > 0 && stack[depth - 1].node->kind == VNS_YMAP && !stack[depth - 1].pending_key) {
                err = vns_diag_set(d, -VNS_EINVAL, doc->file, line, col,
                                   "%s cannot be a map key", event_name(ev.type));
                break;
            }
            if (depth == VNS_YDOC_MAX_DEPTH) {
                err = vns_diag_set(d, -VNS_EINVAL, doc->file, line, col, "nested deeper than %d levels",
                                   VNS_YDOC_MAX_DEPTH);
                break;
            }
            n = ynode_new(doc, ev.type == YAML_MAPPING_START_EVENT ? VNS_YMAP : VNS_YSEQ, line, col);
            if (!n) {
                err = ydoc_nomem(doc, d, line, col);
                break;
            }
            stack[depth].node = n;
            stack[depth].pending_key = NULL;
            depth++;
            n = NULL;   /* attached at its END event */
            break;
        }
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            n = stack[--depth].node;
            break;
        default:
            break;
        }
        if (n && !err) {
            if (depth == 0) {
                doc->root = n;
            } else {
                struct frame *f = &stack[depth - 1];

                err = ynode_append(f->node, f->pending_key, f->kl, f->kc, n);
                if (err) {
                    vns_diag_set(d, err, doc->file, line, col, "out of memory");
                    ynode_free(n);
                } else {
                    f->pending_key = NULL;
                }
            }
        } else if (n) {
            ynode_free(n);
        }
        yaml_event_delete(&ev);
    }
    /* unwind whatever is still open (on error) */
    while (depth > 0) {
        depth--;
        vns_free(stack[depth].pending_key);
        if (depth == 0 || err)
            ynode_free(stack[depth].node);
    }
    yaml_parser_delete(&parser);
    if (err) {
        vns_ydoc_free(doc);
        return err;
    }
    *out = doc;
    return 0;
}

int vns_ydoc_parse(const char *text, size_t len, const char *file, struct vns_ydoc **out,
                   struct vns_diag *d)
{
    struct vns_ydoc *doc;
    int err = ydoc_parse_any(text, len, file, &doc, d);

    if (err)
        return err;
    if (doc->root && doc->root->kind != VNS_YMAP) {
        err = vns_diag_set(d, -VNS_EINVAL, doc->file, doc->root->line, doc->root->col,
                           "a scenario is a map of keys (profile:, seed:, host:, ...)");
        vns_ydoc_free(doc);
        return err;
    }
    *out = doc;
    return 0;
}

int vns_ydoc_load(const char *path, struct vns_ydoc **out, struct vns_diag *d)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    int err;

    if (!f)
        return vns_diag_set(d, -VNS_ENOENT, path, 0, 0, "cannot open the file");
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return vns_diag_set(d, -VNS_EIO, path, 0, 0, "cannot read the file");
    }
    if ((unsigned long)n > VNS_YDOC_MAX_BYTES) {
        fclose(f);
        return vns_diag_set(d, -VNS_E2BIG, path, 0, 0, "file larger than %u MiB", VNS_YDOC_MAX_BYTES >> 20);
    }
    buf = vns_malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return vns_diag_set(d, -VNS_ENOMEM, path, 0, 0, "out of memory");
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        vns_free(buf);
        return vns_diag_set(d, -VNS_EIO, path, 0, 0, "cannot read the file");
    }
    fclose(f);
    err = vns_ydoc_parse(buf, (size_t)n, path, out, d);
    vns_free(buf);
    return err;
}

void vns_ydoc_free(struct vns_ydoc *doc)
{
    if (!doc)
        return;
    ynode_free(doc->root);
    vns_free(doc->file);
    vns_free(doc);
}

/* --- --set ------------------------------------------------------------------ */

/* Give every node of a --set value line 0: errors then say "--set". */
static void ynode_unposition(struct vns_ynode *n)
{
    n->line = n->col = 0;
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == VNS_YMAP)
            n->key_line[i] = n->key_col[i] = 0;
        ynode_unposition(n->items[i]);
    }
}

int vns_ydoc_set(struct vns_ydoc *doc, const char *assignment, struct vns_diag *d)
{
    const char *eq = strchr(assignment, '=');
    const char *p = assignment;
    struct vns_ydoc *vdoc = NULL;
    struct vns_ynode *cur, *val;
    char seg[128];
    int err;

    if (!eq || eq == assignment)
        return vns_diag_set(d, -VNS_EINVAL, "--set", 0, 0, "'%s': expected KEY.PATH=VALUE", assignment);
    err = ydoc_parse_any(eq + 1, strlen(eq + 1), "--set", &vdoc, d);
    if (err)
        return err;
    val = vdoc->root;
    vdoc->root = NULL;
    vns_ydoc_free(vdoc);
    if (!val) {
        val = ynode_new(NULL, VNS_YSCALAR, 0, 0);
        if (!val || !(val->scalar = vns_strdup(""))) {
            ynode_free(val);
            return vns_diag_set(d, -VNS_ENOMEM, "--set", 0, 0, "out of memory");
        }
    }
    ynode_unposition(val);
    if (!doc->root) {
        doc->root = ynode_new(NULL, VNS_YMAP, 0, 0);
        if (!doc->root) {
            ynode_free(val);
            return vns_diag_set(d, -VNS_ENOMEM, "--set", 0, 0, "out of memory");
        }
    }
    cur = doc->root;
    while (p < eq) {
        size_t len = 0;
        bool last;

        if (*p == '[') {
            size_t idx = 0;
            const char *q = p + 1;

            for (; q < eq && *q >= '0' && *q <= '9'; q++)
                idx = idx * 10 + (size_t)(*q - '0');
            if (q == p + 1 || q >= eq || *q != ']' || idx > 100000)
                goto bad_path;
            p = q + 1;
            if (p < eq && *p == '.')
                p++;
            last = p >= eq;
            if (cur->kind != VNS_YSEQ) {
                ynode_free(val);
                return vns_diag_set(d, -VNS_EINVAL, "--set", 0, 0, "'%.*s': [%zu] indexes something that is not a list",
                                    (int)(eq - assignment), assignment, idx);
            }
            if (idx > cur->n) {
                ynode_free(val);
                return vns_diag_set(d, -VNS_EINVAL, "--set", 0, 0,
                                    "'%.*s': index %zu is past the end of a list of %zu",
                                    (int)(eq - assignment), assignment, idx, cur->n);
            }
            if (idx == cur->n) {
                struct vns_ynode *nn = last ? val : ynode_new(NULL, *p == '[' ? VNS_YSEQ : VNS_YMAP, 0, 0);

                if (!nn || ynode_append(cur, NULL, 0, 0, nn) < 0)
                    goto nomem;
                if (last)
                    return 0;
                cur = nn;
            } else if (last) {
                ynode_free(cur->items[idx]);
                cur->items[idx] = val;
                return 0;
            } else {
                cur = cur->items[idx];
            }
            continue;
        }
        while (p + len < eq && p[len] != '.' && p[len] != '[')
            len++;
        if (len == 0 || len >= sizeof(seg))
            goto bad_path;
        memcpy(seg, p, len);
        seg[len] = '\0';
        p += len;
        if (p < eq && *p == '.')
            p++;
        last = p >= eq;
        if (cur->kind != VNS_YMAP) {
            ynode_free(val);
            return vns_diag_set(d, -VNS_EINVAL, "--set", 0, 0, "'%.*s': '%s' is a key of something that is not a map",
                                (int)(eq - assignment), assignment, seg);
        }
        {
            size_t i;

            for (i = 0; i < cur->n && strcmp(cur->keys[i], seg) != 0; i++)
                ;
            if (i < cur->n) {
                if (last) {
                    ynode_free(cur->items[i]);
                    cur->items[i] = val;
                    return 0;
                }
                cur = cur->items[i];
            } else {
                struct vns_ynode *nn = last ? val : ynode_new(NULL, *p == '[' ? VNS_YSEQ : VNS_YMAP, 0, 0);
                char *k = vns_strdup(seg);

                if (!nn || !k || ynode_append(cur, k, 0, 0, nn) < 0) {
                    vns_free(k);
                    if (nn != val)
                        ynode_free(nn);
                    goto nomem;
                }
                if (last)
                    return 0;
                cur = nn;
            }
        }
    }
bad_path:
    ynode_free(val);
    return vns_diag_set(d, -VNS_EINVAL, "--set", 0, 0, "'%.*s': not a key path such as guests[0].nic.ring_size",
                        (int)(eq - assignment), assignment);
nomem:
    ynode_free(val);
    return vns_diag_set(d, -VNS_ENOMEM, "--set", 0, 0, "out of memory");
}

/* --- typed reading -------------------------------------------------------------- */

/* child may be parent: the path is built in a copy. */
void vns_ypath_key(struct vns_ypath *child, const struct vns_ypath *parent, const char *key)
{
    char base[sizeof(parent->path)];

    memcpy(base, parent->path, sizeof(base));
    child->doc = parent->doc;
    child->d = parent->d;
    if (base[0])
        snprintf(child->path, sizeof(child->path), "%.200s.%.50s", base, key);
    else
        snprintf(child->path, sizeof(child->path), "%.250s", key);
}

void vns_ypath_index(struct vns_ypath *child, const struct vns_ypath *parent, size_t i)
{
    char base[sizeof(parent->path)];

    memcpy(base, parent->path, sizeof(base));
    child->doc = parent->doc;
    child->d = parent->d;
    snprintf(child->path, sizeof(child->path), "%.230s[%zu]", base, i);
}

int vns_yerr(const struct vns_ypath *p, const struct vns_ynode *n, const char *key, const char *fmt, ...)
{
    char msg[VNS_DIAG_MSG_MAX - 64], where[300];
    va_list ap;
    bool from_set = n && n->line == 0;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (key && p->path[0])
        snprintf(where, sizeof(where), "%.200s.%.60s", p->path, key);
    else
        snprintf(where, sizeof(where), "%.250s", key ? key : p->path);
    return vns_diag_set(p->d, -VNS_EINVAL, from_set ? "--set" : p->doc->file, n ? n->line : 0,
                        n ? n->col : 0, "%s%s%s", where, where[0] ? ": " : "", msg);
}

size_t vns_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

    if (la >= 63 || lb >= 63)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb];
}

int vns_ycheck_map(const struct vns_ypath *p, const struct vns_ynode *m, const char *const *known)
{
    if (!m || m->kind != VNS_YMAP)
        return vns_yerr(p, m, NULL, "expected a map of keys");
    for (size_t i = 0; i < m->n; i++) {
        const char *best = NULL;
        size_t bestd = SIZE_MAX;
        bool ok = false;

        for (const char *const *k = known; *k; k++) {
            size_t dist;

            if (strcmp(*k, m->keys[i]) == 0) {
                ok = true;
                break;
            }
            dist = vns_edit_distance(*k, m->keys[i]);
            if (dist < bestd) {
                bestd = dist;
                best = *k;
            }
        }
        if (!ok) {
            struct vns_ynode at = {.line = m->key_line[i], .col = m->key_col[i]};

            if (best && bestd <= 2 + strlen(m->keys[i]) / 4)
                return vns_yerr(p, &at, m->keys[i], "unknown key; did you mean '%s'?", best);
            return vns_yerr(p, &at, m->keys[i], "unknown key (known here: %s%s%s%s%s...)", known[0],
                            known[0] && known[1] ? ", " : "", known[0] && known[1] ? known[1] : "",
                            known[0] && known[1] && known[2] ? ", " : "",
                            known[0] && known[1] && known[2] ? known[2] : "");
        }
    }
    return 0;
}

static int scalar_of(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                     const struct vns_ynode **n, const char *expected)
{
    *n = vns_ymap_get(m, key);
    if (!*n)
        return 1;   /* absent: keep the default */
    if ((*n)->kind != VNS_YSCALAR)
        return vns_yerr(p, *n, key, "expected %s, got a %s", expected, (*n)->kind == VNS_YMAP ? "map" : "list");
    return 0;
}

int vns_yget_str(const struct vns_ypath *p, const struct vns_ynode *m, const char *key, const char **out)
{
    const struct vns_ynode *n;
    int r = scalar_of(p, m, key, &n, "a string");

    if (r)
        return r > 0 ? 0 : r;
    *out = n->scalar;
    return 0;
}

int vns_yget_u64(const struct vns_ypath *p, const struct vns_ynode *m, const char *key, uint64_t min,
                 uint64_t max, uint64_t *out)
{
    const struct vns_ynode *n;
    uint64_t v;
    int r = scalar_of(p, m, key, &n, "an integer");

    if (r)
        return r > 0 ? 0 : r;
    if (vns_parse_u64(n->scalar, &v) < 0 || v < min || v > max)
        return vns_yerr(p, n, key, "expected an integer from %llu to %llu, got '%s'", (unsigned long long)min,
                        (unsigned long long)max, n->scalar);
    *out = v;
    return 0;
}

int vns_yget_bool(const struct vns_ypath *p, const struct vns_ynode *m, const char *key, bool *out)
{
    const struct vns_ynode *n;
    int r = scalar_of(p, m, key, &n, "true or false");

    if (r)
        return r > 0 ? 0 : r;
    if (!strcmp(n->scalar, "true") || !strcmp(n->scalar, "on") || !strcmp(n->scalar, "yes"))
        *out = true;
    else if (!strcmp(n->scalar, "false") || !strcmp(n->scalar, "off") || !strcmp(n->scalar, "no"))
        *out = false;
    else
        return vns_yerr(p, n, key, "expected true or false, got '%s'", n->scalar);
    return 0;
}

#define YGET_UNIT(fn, type, parse, what)                                                          \
    int fn(const struct vns_ypath *p, const struct vns_ynode *m, const char *key, type *out)     \
    {                                                                                             \
        const struct vns_ynode *n;                                                                \
        type v;                                                                                   \
        int r = scalar_of(p, m, key, &n, what);                                                   \
                                                                                                  \
        if (r)                                                                                    \
            return r > 0 ? 0 : r;                                                                 \
        if (parse(n->scalar, &v) < 0)                                                             \
            return vns_yerr(p, n, key, "expected %s, got '%s'", what, n->scalar);                 \
        *out = v;                                                                                 \
        return 0;                                                                                 \
    }

YGET_UNIT(vns_yget_time, vns_time_t, vns_parse_time, "a time such as 250us, 10ms or 1s")
YGET_UNIT(vns_yget_size, uint64_t, vns_parse_size, "a size such as 1500, 64KiB or 512MiB")
YGET_UNIT(vns_yget_rate, uint64_t, vns_parse_rate, "a rate such as 10Gbit or 100Mbit")

int vns_yget_enum(const struct vns_ypath *p, const struct vns_ynode *m, const char *key,
                  const char *const *choices, int *out)
{
    const struct vns_ynode *n;
    char list[200] = "";
    int r = scalar_of(p, m, key, &n, "a name");

    if (r)
        return r > 0 ? 0 : r;
    for (int i = 0; choices[i]; i++) {
        if (!strcmp(n->scalar, choices[i])) {
            *out = i;
            return 0;
        }
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", choices[i]);
    }
    return vns_yerr(p, n, key, "expected one of %s, got '%s'", list, n->scalar);
}

int vns_yget_req(const struct vns_ypath *p, const struct vns_ynode *m, const char *key, struct vns_ynode **out)
{
    *out = vns_ymap_get(m, key);
    if (!*out)
        return vns_yerr(p, m, key, "required key is missing");
    return 0;
}
