/* lib/core/timeline.c -- per-step records for a Chrome/Perfetto
 * trace-event timeline (the JSON "traceEvents" format that
 * chrome://tracing and ui.perfetto.dev open). */
#include <inttypes.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/error.h"
#include "core_int.h"

struct tl_step {
    vns_time_t start, end;
    uint32_t cpu, ctx;
    int16_t fn;
    uint8_t kind;
};

struct tl_instant {
    vns_time_t at;
    uint32_t cpu;
    uint16_t name;          /* index in inames */
};

struct vns_timeline {
    struct tl_step *steps;
    size_t n, max, dropped;
    struct tl_instant *inst;
    size_t ninst;
    char *inames[64];       /* distinct instant names (interned) */
    unsigned ninames;
    char **names;          /* by object id: CPU and context names */
    uint32_t nnames;
};

int vns_timeline_enable(struct vns_sim *sim, size_t max_steps)
{
    struct vns_timeline *tl;

    if (sim->timeline)
        return 0;
    if (vns__frames_need(sim))
        return -VNS_EBUSY;   /* a context is mid-call: its frames are not recorded */
    tl = vns_calloc(1, sizeof(*tl));
    if (!tl)
        return -VNS_ENOMEM;
    tl->max = max_steps ? max_steps : 1000000;
    sim->timeline = tl;
    return 0;
}

void vns__timeline_free(struct vns_timeline *tl)
{
    if (!tl)
        return;
    for (uint32_t i = 0; i < tl->nnames; i++)
        vns_free(tl->names[i]);
    vns_free(tl->names);
    vns_free(tl->steps);
    vns_free(tl->inst);
    for (unsigned i = 0; i < tl->ninames; i++)
        vns_free(tl->inames[i]);
    vns_free(tl);
}

/* Remember the name of object @id (the first time it is seen). */
static void tl_name(struct vns_timeline *tl, uint32_t id, const char *name)
{
    if (id >= tl->nnames) {
        uint32_t n = VNS_MAX(id + 1, tl->nnames * 2);
        char **names = vns_realloc(tl->names, n * sizeof(*names));

        if (!names)
            return;
        memset(names + tl->nnames, 0, (n - tl->nnames) * sizeof(*names));
        tl->names = names;
        tl->nnames = n;
    }
    if (!tl->names[id])
        tl->names[id] = vns_strdup(name);
}

void vns__timeline_step(struct vns_ctx *ctx, vns_time_t start, int fn)
{
    struct vns_timeline *tl = ctx->sim->timeline;
    struct tl_step *s;

    if (tl->n == tl->max) {
        tl->dropped++;
        return;
    }
    if (tl->n % 4096 == 0) {
        struct tl_step *st = vns_realloc(tl->steps, (tl->n + 4096) * sizeof(*st));

        if (!st) {
            tl->dropped++;
            return;
        }
        tl->steps = st;
    }
    s = &tl->steps[tl->n++];
    s->start = start;
    s->end = ctx->now;
    s->cpu = ctx->cpu->id;
    s->ctx = ctx->id;
    s->fn = (int16_t)fn;
    s->kind = (uint8_t)ctx->kind;
    tl_name(tl, ctx->cpu->id, ctx->cpu->name);
    tl_name(tl, ctx->id, ctx->name);
}

/* An instant event (an interrupt raised, a VM exit) on @cpu's track. */
void vns__timeline_instant(struct vns_sim *sim, const struct vns_cpu *cpu, const char *name, vns_time_t at)
{
    struct vns_timeline *tl = sim->timeline;
    unsigned k;

    if (tl->n + tl->ninst >= tl->max) {
        tl->dropped++;
        return;
    }
    for (k = 0; k < tl->ninames && strcmp(tl->inames[k], name); k++)
        ;
    if (k == tl->ninames) {
        if (k == VNS_ARRAY_SIZE(tl->inames) || !(tl->inames[k] = vns_strdup(name))) {
            tl->dropped++;
            return;
        }
        tl->ninames++;
    }
    if (tl->ninst % 1024 == 0) {
        struct tl_instant *in = vns_realloc(tl->inst, (tl->ninst + 1024) * sizeof(*in));

        if (!in) {
            tl->dropped++;
            return;
        }
        tl->inst = in;
    }
    tl->inst[tl->ninst].at = at;
    tl->inst[tl->ninst].cpu = cpu->id;
    tl->inst[tl->ninst++].name = (uint16_t)k;
    tl_name(tl, cpu->id, cpu->name);
}

size_t vns_timeline_steps(const struct vns_sim *sim)
{
    return sim->timeline ? sim->timeline->n : 0;
}

static const char *const kind_names[] = {"user", "kthread", "hardirq", "idle", "vcpu"};

/* Names are our own identifiers and CPU names from the user: escape the
 * two characters JSON cares about, drop control characters. */
static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, out);
    }
    fputc('"', out);
}

static void json_us(FILE *out, vns_time_t ns)
{
    fprintf(out, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

int vns_timeline_write(const struct vns_sim *sim, FILE *out)
{
    const struct vns_timeline *tl = sim->timeline;
    bool first = true;

    if (!tl)
        return -VNS_EINVAL;
    fputs("{\"displayTimeUnit\": \"ns\", \"otherData\": {\"generator\": \"vnetsim\", \"steps\": ", out);
    fprintf(out, "%zu, \"dropped_steps\": %zu}, \"traceEvents\": [\n", tl->n, tl->dropped);
    /* One track per CPU, named after it. */
    for (const struct vns_cpu *c = sim->cpus; c; c = c->sim_next) {
        fprintf(out, "%s{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": %" PRIu32 ", \"args\": {\"name\": ",
                first ? "" : ",\n", c->id);
        json_str(out, c->id < tl->nnames && tl->names[c->id] ? tl->names[c->id] : c->name);
        fputs("}}", out);
        first = false;
    }
    for (size_t i = 0; i < tl->n; i++) {
        const struct tl_step *s = &tl->steps[i];

        fputs(first ? "{\"name\": " : ",\n{\"name\": ", out);
        first = false;
        json_str(out, s->ctx < tl->nnames ? tl->names[s->ctx] : "?");
        fprintf(out, ", \"cat\": \"%s\", \"ph\": \"X\", \"pid\": 1, \"tid\": %" PRIu32 ", \"ts\": ",
                kind_names[s->kind < VNS_ARRAY_SIZE(kind_names) ? s->kind : 0], s->cpu);
        json_us(out, s->start);
        fputs(", \"dur\": ", out);
        json_us(out, s->end - s->start);
        if (s->fn >= 0) {
            fputs(", \"args\": {\"fn\": ", out);
            json_str(out, vns_profile_symbol(sim->profile, s->fn));
            fputc('}', out);
        }
        fputc('}', out);
    }
    for (size_t i = 0; i < tl->ninst; i++) {
        const struct tl_instant *in = &tl->inst[i];

        fputs(first ? "{\"name\": " : ",\n{\"name\": ", out);
        first = false;
        json_str(out, tl->inames[in->name]);
        fprintf(out, ", \"cat\": \"event\", \"ph\": \"i\", \"s\": \"t\", \"pid\": 1, \"tid\": %" PRIu32 ", \"ts\": ",
                in->cpu);
        json_us(out, in->at);
        fputc('}', out);
    }
    fputs("\n]}\n", out);
    return ferror(out) ? -VNS_EIO : 0;
}
