/* lib/core/alloc.c -- counted, fault-injectable allocation.
 *
 * Counters are C11 atomics because sweeps run simulations on several
 * threads. Fault injection is process-wide and meant for single-threaded
 * tests. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "vnetsim/alloc.h"

static atomic_long alloc_live;
static atomic_long alloc_total;
static atomic_long alloc_fail_countdown;

static bool alloc_should_fail(void)
{
    long c = atomic_load_explicit(&alloc_fail_countdown, memory_order_relaxed);

    if (c <= 0)
        return false;
    c = atomic_fetch_sub(&alloc_fail_countdown, 1);
    return c == 1;
}

void *vns_malloc(size_t size)
{
    void *p;

    if (alloc_should_fail())
        return NULL;
    p = malloc(size ? size : 1);
    if (p) {
        atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&alloc_total, 1, memory_order_relaxed);
    }
    return p;
}

void *vns_calloc(size_t n, size_t size)
{
    void *p;

    if (size && n > SIZE_MAX / size)
        return NULL;
    p = vns_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *vns_realloc(void *p, size_t size)
{
    void *q;

    if (!p)
        return vns_malloc(size);
    if (size == 0) {
        vns_free(p);
        return NULL;
    }
    if (alloc_should_fail())
        return NULL;
    q = realloc(p, size);
    if (q)
        atomic_fetch_add_explicit(&alloc_total, 1, memory_order_relaxed);
    return q;
}

void vns_free(void *p)
{
    if (!p)
        return;
    atomic_fetch_sub_explicit(&alloc_live, 1, memory_order_relaxed);
    free(p);
}

char *vns_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = vns_malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

long vns_alloc_live(void)
{
    return atomic_load(&alloc_live);
}

long vns_alloc_count(void)
{
    return atomic_load(&alloc_total);
}

void vns_alloc_fail_at(long nth)
{
    atomic_store(&alloc_fail_countdown, nth > 0 ? nth : 0);
}
