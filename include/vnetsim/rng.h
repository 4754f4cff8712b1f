/* vnetsim -- seeded random number streams.
 *
 * xoshiro256** (Blackman & Vigna), seeded with splitmix64 from the
 * simulation seed mixed with a hash of a stream name. Each component draws
 * from its own named stream, so adding a component (or a draw in one) never
 * changes the numbers another component sees. */
#ifndef VNETSIM_RNG_H
#define VNETSIM_RNG_H

#include "vnetsim/common.h"

struct vns_rng {
    uint64_t s[4];
};

/* Seed @r from @seed and the stream name @stream (NULL = ""). */
VNS_EXTERN void vns_rng_seed(struct vns_rng *r, uint64_t seed, const char *stream);
VNS_EXTERN uint64_t vns_rng_u64(struct vns_rng *r);
/* Uniform in [0, n); n == 0 returns 0. Unbiased (Lemire's method). */
VNS_EXTERN uint64_t vns_rng_below(struct vns_rng *r, uint64_t n);
/* Uniform in [0, 1) with 53 random bits. */
VNS_EXTERN double vns_rng_double(struct vns_rng *r);
/* 64-bit FNV-1a of a string; used to derive streams (stable across builds). */
VNS_EXTERN uint64_t vns_hash_str(const char *s);
/* A strong 64-bit mixer (splitmix64 finaliser). */
static inline uint64_t vns_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
