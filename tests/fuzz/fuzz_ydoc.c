/* tests/fuzz/fuzz_ydoc.c -- the scenario file reader: arbitrary bytes are
 * parsed; if a tree results, a --set built from the input's tail is
 * applied and every typed getter reads every key. Any crash, leak, hang
 * or sanitizer report is a bug. Input: YAML text, then optionally a NUL
 * and a "path=value" assignment. */
#include <stdint.h>
#include <string.h>

#include "vnetsim/vnetsim.h"
#include "vnetsim/ydoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const struct vns_ypath *p, const struct vns_ynode *m, int depth)
{
    static const char *const choices[] = {"a", "b", NULL};

    if (!m || depth > 8)
        return;
    if (m->kind == VNS_YMAP) {
        static const char *const known[] = {"profile", "seed", "guests", NULL};

        (void)vns_ycheck_map(p, m, known);
        for (size_t i = 0; i < m->n; i++) {
            struct vns_ypath c;
            const char *s;
            uint64_t u;
            vns_time_t t;
            bool b;
            int e;

            vns_ypath_key(&c, p, m->keys[i]);
            (void)vns_yget_str(p, m, m->keys[i], &s);
            (void)vns_yget_u64(p, m, m->keys[i], 0, UINT64_MAX, &u);
            (void)vns_yget_time(p, m, m->keys[i], &t);
            (void)vns_yget_size(p, m, m->keys[i], &u);
            (void)vns_yget_rate(p, m, m->keys[i], &u);
            (void)vns_yget_bool(p, m, m->keys[i], &b);
            (void)vns_yget_enum(p, m, m->keys[i], choices, &e);
            read_all(&c, m->items[i], depth + 1);
        }
    } else if (m->kind == VNS_YSEQ) {
        for (size_t i = 0; i < m->n; i++) {
            struct vns_ypath c;

            vns_ypath_index(&c, p, i);
            read_all(&c, m->items[i], depth + 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t ylen = nul ? (size_t)(nul - data) : size;
    struct vns_ydoc *doc = NULL;
    struct vns_diag d;
    char set[256];

    if (vns_ydoc_parse((const char *)data, ylen, "fuzz.yaml", &doc, &d) == 0) {
        if (nul) {
            size_t n = size - ylen - 1;

            if (n >= sizeof(set))
                n = sizeof(set) - 1;
            memcpy(set, nul + 1, n);
            set[n] = '\0';
            (void)vns_ydoc_set(doc, set, &d);
        }
        {
            struct vns_ypath p = {.doc = doc, .d = &d, .path = ""};

            read_all(&p, doc->root, 0);
        }
        vns_ydoc_free(doc);
    }
    return 0;
}
