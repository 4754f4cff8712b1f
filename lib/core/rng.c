/* lib/core/rng.c -- xoshiro256** streams seeded through splitmix64.
 * Reference: D. Blackman, S. Vigna, "Scrambled linear pseudorandom number
 * generators" (2018), public-domain reference code at prng.di.unimi.it. */
#include "vnetsim/rng.h"

uint64_t vns_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

void vns_rng_seed(struct vns_rng *r, uint64_t seed, const char *stream)
{
    uint64_t x = seed ^ vns_mix64(vns_hash_str(stream));

    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ull;
        r->s[i] = vns_mix64(x);
    }
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;   /* the all-zero state is a fixed point */
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t vns_rng_u64(struct vns_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* 64x64->128 multiply high half, portable. */
static uint64_t mulhi64(uint64_t a, uint64_t b, uint64_t *lo)
{
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32;
    uint64_t b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
    uint64_t mid = (p0 >> 32) + (uint32_t)p1 + (uint32_t)p2;

    *lo = (mid << 32) | (uint32_t)p0;
    return p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

uint64_t vns_rng_below(struct vns_rng *r, uint64_t n)
{
    uint64_t lo, hi;

    if (n == 0)
        return 0;
    hi = mulhi64(vns_rng_u64(r), n, &lo);
    if (lo < n) {
        uint64_t thresh = (0 - n) % n;

        while (lo < thresh)
            hi = mulhi64(vns_rng_u64(r), n, &lo);
    }
    return hi;
}

double vns_rng_double(struct vns_rng *r)
{
    return (double)(vns_rng_u64(r) >> 11) * 0x1.0p-53;
}
