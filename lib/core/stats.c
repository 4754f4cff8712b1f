/* lib/core/stats.c -- log-linear histograms (see stats.h). */
#include <string.h>

#include "vnetsim/stats.h"

#define S VNS_HIST_SUB_BITS

/* Values below 2^S are their own bucket (group 0). Above, with msb the
 * leading bit, shift = msb - S keeps S+1 significant bits: group
 * shift + 1, sub-bucket (v >> shift) - 2^S. */
static unsigned hist_index(uint64_t v)
{
    unsigned msb = 63, shift;

    if (v < (1u << S))
        return (unsigned)v;
    while (!(v >> msb))
        msb--;
    shift = msb - S;
    return ((shift + 1) << S) + (unsigned)((v >> shift) - (1u << S));
}

/* Largest value that maps to bucket @i. */
static uint64_t hist_upper(unsigned i)
{
    unsigned g = i >> S, sub = i & ((1u << S) - 1), shift;
    uint64_t top;

    if (g == 0)
        return sub;
    shift = g - 1;
    top = (uint64_t)(1u << S) + sub + 1;
    if (top > (UINT64_MAX >> shift))
        return UINT64_MAX;   /* the last bucket reaches 2^64 - 1 */
    return (top << shift) - 1;
}

void vns_hist_init(struct vns_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

void vns_hist_record(struct vns_hist *h, uint64_t v)
{
    h->bucket[hist_index(v)]++;
    h->count++;
    h->sum = h->sum + v < h->sum ? UINT64_MAX : h->sum + v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void vns_hist_merge(struct vns_hist *into, const struct vns_hist *from)
{
    for (unsigned i = 0; i < VNS_HIST_BUCKETS; i++)
        into->bucket[i] += from->bucket[i];
    into->count += from->count;
    into->sum = into->sum + from->sum < into->sum ? UINT64_MAX : into->sum + from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t vns_hist_percentile(const struct vns_hist *h, double p)
{
    uint64_t rank, seen = 0;

    if (!h->count)
        return 0;
    if (p <= 0)
        return h->min;
    if (p >= 100)
        return h->max;
    rank = (uint64_t)((p / 100.0) * (double)h->count + 0.5);
    if (rank == 0)
        rank = 1;
    for (unsigned i = 0; i < VNS_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t v = hist_upper(i);

            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double vns_hist_mean(const struct vns_hist *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}
