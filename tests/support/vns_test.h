/* tests/support/vns_test.h -- helpers shared by the cmocka tests. */
#ifndef VNS_TEST_H
#define VNS_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vnetsim/vnetsim.h"

/* Assert that every allocation made through vns_malloc was freed. */
#define assert_no_leaks() assert_int_equal(vns_alloc_live(), 0)

/* A simulation with @seed, asserted to be created. */
struct vns_sim *vns_test_sim(uint64_t seed);

/* A CPU (a guest vCPU when @backing is a host CPU), asserted created. */
struct vns_cpu *vns_test_cpu(struct vns_sim *sim, const char *name, struct vns_cpu *backing);
/* A user or kthread context with main continuation @fn, asserted created. */
struct vns_ctx *vns_test_ctx(struct vns_sim *sim, enum vns_ctx_kind kind, const char *name,
                             struct vns_cpu *cpu, vns_step_fn fn, void *arg);

/* Read a whole file into a NUL-terminated vns_malloc'd buffer (NULL on
 * error); *len receives its length if non-NULL. */
char *vns_test_read_file(const char *path, size_t *len);

/* Block @title of tests/golden/kernel-stacks.txt (the seed): its stacks in
 * the seed format, each followed by a blank line. vns_malloc'd. */
char *vns_test_golden_block(const char *title);

/* A golden file: with VNS_UPDATE_GOLDEN set (scripts/update-golden), write
 * @got into @path first; then true if @path holds exactly @got. On a
 * difference both texts are printed. */
bool vns_test_golden_matches(const char *path, const char *got);

/* Write @sim's probe stacks (seed format) into a vns_malloc'd string. */
char *vns_test_stacks_string(const struct vns_sim *sim, bool folded);

#endif
