/* vnetsim -- the one allocator every component uses.
 *
 * All heap memory in lib/ goes through vns_malloc()/vns_free(), so that
 * tests can count live allocations (every test is a leak test) and make
 * the N-th allocation fail to exercise every unwind path (SQLite's
 * fault.c, the kernel's goto-unwind discipline). The counters are atomic:
 * a sweep runs independent simulations on libuv's thread pool. */
#ifndef VNETSIM_ALLOC_H
#define VNETSIM_ALLOC_H

#include "vnetsim/common.h"

VNS_EXTERN void *vns_malloc(size_t size);
VNS_EXTERN void *vns_calloc(size_t n, size_t size);   /* overflow-checked */
VNS_EXTERN void *vns_realloc(void *p, size_t size);   /* size 0 frees */
VNS_EXTERN void vns_free(void *p);                     /* NULL is a no-op */
VNS_EXTERN char *vns_strdup(const char *s);

/* Number of blocks currently allocated through this allocator. */
VNS_EXTERN long vns_alloc_live(void);
/* Bytes currently allocated (as requested) and their high-water mark:
 * process-wide, what the max_memory limit reads. */
VNS_EXTERN uint64_t vns_alloc_bytes(void);
VNS_EXTERN uint64_t vns_alloc_bytes_peak(void);
/* Fault injection: the @nth allocation from now (1 = the next) fails and
 * every later one succeeds again; 0 disarms. */
VNS_EXTERN void vns_alloc_fail_at(long nth);
/* Total number of allocations performed (for allocation-failure sweeps). */
VNS_EXTERN long vns_alloc_count(void);

#endif
