/* lib/core/series.c -- time series sampled at a fixed virtual interval
 * (see trace.h). An observer: its timer kind is VNS_EV_OBSERVE, which the
 * engine leaves out of the fingerprint and the event count. */
#include <inttypes.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/error.h"
#include "core_int.h"

#define SERIES_MAX 256

struct series_col {
    char name[96];
    vns_series_fn fn;
    void *arg;
    bool rate;
    double prev;
};

struct vns_series {
    struct series_col cols[SERIES_MAX];
    unsigned ncols;
    vns_time_t interval;
    struct vns_timer timer;
    double *rows;              /* nsamples x (1 + ncols) */
    size_t nsamples, cap;
    bool started;
};

static struct vns_series *series_get(struct vns_sim *sim)
{
    if (!sim->series)
        sim->series = vns_calloc(1, sizeof(*sim->series));
    return sim->series;
}

void vns__series_free(struct vns_series *s)
{
    if (!s)
        return;
    vns_free(s->rows);
    vns_free(s);
}

int vns_series_add(struct vns_sim *sim, const char *name, vns_series_fn fn, void *arg, bool rate)
{
    struct vns_series *s = series_get(sim);
    struct series_col *c;

    if (!s)
        return -VNS_ENOMEM;
    if (s->started)
        return -VNS_EBUSY;
    if (s->ncols == SERIES_MAX)
        return -VNS_E2BIG;
    c = &s->cols[s->ncols++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->fn = fn;
    c->arg = arg;
    c->rate = rate;
    c->prev = rate ? fn(arg) : 0;
    return 0;
}

static void series_sample(struct vns_sim *sim, struct vns_timer *t)
{
    struct vns_series *s = t->data;
    size_t w = 1 + s->ncols;
    double *row, secs = (double)s->interval / 1e9;

    if (s->nsamples == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *rows = vns_realloc(s->rows, cap * w * sizeof(*rows));

        if (!rows)
            return;   /* out of memory: stop sampling, keep what we have */
        s->rows = rows;
        s->cap = cap;
    }
    row = &s->rows[s->nsamples++ * w];
    row[0] = (double)sim->now / 1e9;
    for (unsigned i = 0; i < s->ncols; i++) {
        struct series_col *c = &s->cols[i];
        double v = c->fn(c->arg);

        row[1 + i] = c->rate ? (v - c->prev) / secs : v;
        c->prev = v;
    }
    vns_timer_arm(sim, t, sim->now + s->interval);
}

int vns_series_start(struct vns_sim *sim, vns_time_t interval)
{
    struct vns_series *s = series_get(sim);

    if (!s)
        return -VNS_ENOMEM;
    if (interval == 0)
        return -VNS_EINVAL;
    s->interval = interval;
    s->started = true;
    vns_timer_init(&s->timer, series_sample, s, 0);
    s->timer.kind = VNS_EV_OBSERVE;
    return vns_timer_arm(sim, &s->timer, sim->now + interval);
}

size_t vns_series_samples(const struct vns_sim *sim)
{
    return sim->series ? sim->series->nsamples : 0;
}

int vns_series_write_csv(const struct vns_sim *sim, FILE *out)
{
    const struct vns_series *s = sim->series;
    size_t w;

    if (!s)
        return -VNS_EINVAL;
    w = 1 + s->ncols;
    fputs("time_s", out);
    for (unsigned i = 0; i < s->ncols; i++)
        fprintf(out, ",%s", s->cols[i].name);
    fputc('\n', out);
    for (size_t r = 0; r < s->nsamples; r++) {
        fprintf(out, "%.9f", s->rows[r * w]);
        for (size_t i = 1; i < w; i++)
            fprintf(out, ",%.6g", s->rows[r * w + i]);
        fputc('\n', out);
    }
    return ferror(out) ? -VNS_EIO : 0;
}
