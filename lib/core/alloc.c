/* lib/core/alloc.c -- counted, fault-injectable allocation.
 *
 * Counters are C11 atomics because sweeps run simulations on several
 * threads. Fault injection is process-wide and meant for single-threaded
 * tests. */
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vnetsim/alloc.h"

static atomic_long alloc_live;
static atomic_long alloc_total;
static atomic_long alloc_fail_countdown;
static atomic_llong alloc_bytes;       /* requested bytes live */
static atomic_llong alloc_bytes_peak;

/* Each block carries its size in front (for the byte counters that
 * resource limits read), aligned as malloc aligns. */
#define HDR ((sizeof(size_t) + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t))

static void bytes_add(long long n)
{
    long long now = atomic_fetch_add_explicit(&alloc_bytes, n, memory_order_relaxed) + n;
    long long peak = atomic_load_explicit(&alloc_bytes_peak, memory_order_relaxed);

    while (now > peak &&
           !atomic_compare_exchange_weak_explicit(&alloc_bytes_peak, &peak, now, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

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

    if (alloc_should_fail() || size > SIZE_MAX - HDR)
        return NULL;
    p = malloc(HDR + (size ? size : 1));
    if (!p)
        return NULL;
    *(size_t *)p = size;
    bytes_add((long long)size);
    atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&alloc_total, 1, memory_order_relaxed);
    return (char *)p + HDR;
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
    size_t old;

    if (!p)
        return vns_malloc(size);
    if (size == 0) {
        vns_free(p);
        return NULL;
    }
    if (alloc_should_fail() || size > SIZE_MAX - HDR)
        return NULL;
    old = *(size_t *)((char *)p - HDR);
    q = realloc((char *)p - HDR, HDR + size);
    if (!q)
        return NULL;
    *(size_t *)q = size;
    bytes_add((long long)size - (long long)old);
    atomic_fetch_add_explicit(&alloc_total, 1, memory_order_relaxed);
    return (char *)q + HDR;
}

void vns_free(void *p)
{
    if (!p)
        return;
    atomic_fetch_sub_explicit(&alloc_live, 1, memory_order_relaxed);
    p = (char *)p - HDR;
    bytes_add(-(long long)*(size_t *)p);
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

uint64_t vns_alloc_bytes(void)
{
    long long b = atomic_load(&alloc_bytes);

    return b > 0 ? (uint64_t)b : 0;
}

uint64_t vns_alloc_bytes_peak(void)
{
    long long b = atomic_load(&alloc_bytes_peak);

    return b > 0 ? (uint64_t)b : 0;
}

long vns_alloc_count(void)
{
    return atomic_load(&alloc_total);
}

void vns_alloc_fail_at(long nth)
{
    atomic_store(&alloc_fail_countdown, nth > 0 ? nth : 0);
}
