/* lib/core/trace.c -- probes: record each distinct stack seen at a probed
 * function; write them in the seed format or flamegraph-collapsed.
 *
 * A hit builds the stack as the profile shows it (innermost first, hidden
 * frames dropped) and looks it up in an open-addressing table keyed by a
 * hash of (probe, frames); only a new stack allocates. */
#include <stdlib.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/error.h"
#include "vnetsim/rng.h"
#include "core_int.h"

#define STACK_MAX (VNS_CTX_MAX_FRAMES * (VNS_IRQ_NEST_MAX + 1))

static struct vns_probes *probes_get(struct vns_sim *sim)
{
    if (!sim->probes)
        sim->probes = vns_calloc(1, sizeof(*sim->probes));
    return sim->probes;
}

void vns__probes_free(struct vns_probes *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nstacks; i++)
        vns_free(p->stacks[i].frames);
    vns_free(p->stacks);
    vns_free(p->index);
    vns_free(p);
}

int vns_probe_add_id(struct vns_sim *sim, int f)
{
    struct vns_probes *p;

    if (f < 0 || f >= VNS_FN__COUNT)
        return -VNS_ENOENT;
    if (vns_func_is_param(f))
        return -VNS_EINVAL;
#ifdef VNS_NO_TRACE_FRAMES
    return -VNS_ENOTSUP;   /* built with -DVNS_TRACE_FRAMES=OFF */
#endif
    if (sim->probe_armed[f])
        return 0;
    if (vns__frames_need(sim))
        return -VNS_EBUSY;   /* a context is mid-call: its stack is not recorded */
    p = probes_get(sim);
    if (!p)
        return -VNS_ENOMEM;
    p->order[p->norder++] = (uint16_t)f;
    sim->probe_armed[f] = 1;
    sim->frame_limit[f] = 0;   /* vns_fn_enter takes its slow path for f */
    return 0;
}

int vns_probe_add(struct vns_sim *sim, const char *name)
{
    int f = vns_func_lookup(name);

    if (f < 0) {
        /* Accept the profile's symbol too ("vhost_tx_batch.isra.23"). */
        for (int i = 0; i < VNS_FN__COUNT; i++) {
            if (strcmp(vns_profile_symbol(sim->profile, i), name) == 0) {
                f = i;
                break;
            }
        }
    }
    if (f < 0)
        return -VNS_ENOENT;
    return vns_probe_add_id(sim, f);
}

uint64_t vns_probe_hits(const struct vns_sim *sim, int f)
{
    if (!sim->probes || f < 0 || f >= VNS_FN__COUNT)
        return 0;
    return sim->probes->hits[f];
}

size_t vns_probe_nstacks(const struct vns_sim *sim)
{
    return sim->probes ? sim->probes->nstacks : 0;
}

static uint64_t stack_hash(uint16_t probe, const uint16_t *fr, unsigned n)
{
    uint64_t h = vns_mix64(probe + 1);

    for (unsigned i = 0; i < n; i++)
        h = vns_mix64(h ^ fr[i]);
    return h;
}

static int index_grow(struct vns_probes *p)
{
    size_t cap = p->index_cap ? p->index_cap * 2 : 64;
    uint32_t *idx = vns_calloc(cap, sizeof(*idx));

    if (!idx)
        return -VNS_ENOMEM;
    for (size_t i = 0; i < p->nstacks; i++) {
        size_t j = p->stacks[i].hash & (cap - 1);

        while (idx[j])
            j = (j + 1) & (cap - 1);
        idx[j] = (uint32_t)i + 1;
    }
    vns_free(p->index);
    p->index = idx;
    p->index_cap = cap;
    return 0;
}

void vns__probe_hit(struct vns_ctx *ctx, int f)
{
    struct vns_sim *sim = ctx->sim;
    struct vns_probes *p = sim->probes;
    uint16_t raw[STACK_MAX], vis[STACK_MAX];
    unsigned n = vns_ctx_stack(ctx, raw, STACK_MAX), nv = 0;
    struct vns_probe_stack *s;
    uint64_t h;
    size_t j;

    if (!p)
        return;
    p->hits[f]++;
    n = VNS_MIN(n, (unsigned)STACK_MAX);
    for (unsigned i = 0; i < n; i++) {
        int caller = i + 1 < n ? raw[i + 1] : -1;

        if (vns_profile_shows(sim->profile, raw[i], caller))
            vis[nv++] = raw[i];
    }
    h = stack_hash((uint16_t)f, vis, nv);
    if (p->index_cap) {
        for (j = h & (p->index_cap - 1); p->index[j]; j = (j + 1) & (p->index_cap - 1)) {
            s = &p->stacks[p->index[j] - 1];
            if (s->hash == h && s->probe == f && s->n == nv &&
                memcmp(s->frames, vis, nv * sizeof(vis[0])) == 0) {
                s->count++;
                return;
            }
        }
    }
    /* A new stack. Keep the table at most half full. */
    if ((p->nstacks + 1) * 2 > p->index_cap && index_grow(p) < 0)
        return;
    if (p->nstacks == p->capstacks) {
        size_t cap = p->capstacks ? p->capstacks * 2 : 16;
        struct vns_probe_stack *st = vns_realloc(p->stacks, cap * sizeof(*st));

        if (!st)
            return;
        p->stacks = st;
        p->capstacks = cap;
    }
    s = &p->stacks[p->nstacks];
    s->frames = vns_malloc((nv ? nv : 1) * sizeof(vis[0]));
    if (!s->frames)
        return;
    memcpy(s->frames, vis, nv * sizeof(vis[0]));
    s->probe = (uint16_t)f;
    s->n = (uint16_t)nv;
    s->hash = h;
    s->count = 1;
    s->first = (uint32_t)p->nstacks;
    for (j = h & (p->index_cap - 1); p->index[j]; j = (j + 1) & (p->index_cap - 1))
        ;
    p->index[j] = (uint32_t)++p->nstacks;
}

int vns_stack_write(const struct vns_profile *prof, const uint16_t *frames, unsigned n, FILE *out)
{
    for (unsigned i = 0; i < n; i++)
        if (fprintf(out, "[0] %s\n", vns_profile_symbol(prof, frames[i])) < 0)
            return -VNS_EIO;
    return fputc('\n', out) == EOF ? -VNS_EIO : 0;
}

int vns_probe_write_stacks(const struct vns_sim *sim, FILE *out)
{
    const struct vns_probes *p = sim->probes;

    if (!p)
        return 0;
    for (unsigned k = 0; k < p->norder; k++) {
        for (size_t i = 0; i < p->nstacks; i++) {
            const struct vns_probe_stack *s = &p->stacks[i];

            if (s->probe == p->order[k] && vns_stack_write(sim->profile, s->frames, s->n, out) < 0)
                return -VNS_EIO;
        }
    }
    return ferror(out) ? -VNS_EIO : 0;
}

struct folded_line {
    char *text;
    uint64_t count;
};

static int folded_cmp(const void *a, const void *b)
{
    return strcmp(((const struct folded_line *)a)->text, ((const struct folded_line *)b)->text);
}

int vns_probe_write_folded(const struct vns_sim *sim, FILE *out)
{
    const struct vns_probes *p = sim->probes;
    struct folded_line *lines;
    size_t n = 0;
    int err = 0;

    if (!p || !p->nstacks)
        return 0;
    lines = vns_calloc(p->nstacks, sizeof(*lines));
    if (!lines)
        return -VNS_ENOMEM;
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct vns_probe_stack *s = &p->stacks[i];
        size_t len = 1;
        char *t;

        for (unsigned k = 0; k < s->n; k++)
            len += strlen(vns_profile_symbol(sim->profile, s->frames[k])) + 1;
        t = vns_malloc(len);
        if (!t) {
            err = -VNS_ENOMEM;
            goto out;
        }
        t[0] = '\0';
        for (unsigned k = s->n; k-- > 0;) {   /* outermost first */
            strcat(t, vns_profile_symbol(sim->profile, s->frames[k]));
            if (k)
                strcat(t, ";");
        }
        lines[n].text = t;
        lines[n++].count = s->count;
    }
    /* Two probes can see the same stack (probing a function and its
     * caller); merge equal lines after sorting. */
    qsort(lines, n, sizeof(*lines), folded_cmp);
    for (size_t i = 0; i < n; i++) {
        uint64_t c = lines[i].count;

        while (i + 1 < n && strcmp(lines[i].text, lines[i + 1].text) == 0)
            c += lines[++i].count;
        if (fprintf(out, "%s %llu\n", lines[i].text, (unsigned long long)c) < 0) {
            err = -VNS_EIO;
            break;
        }
    }
out:
    for (size_t i = 0; i < n; i++)
        vns_free(lines[i].text);
    vns_free(lines);
    return err;
}
