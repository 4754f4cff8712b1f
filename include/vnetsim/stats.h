/* vnetsim -- histograms for latencies and sizes.
 *
 * Log-linear buckets (as HdrHistogram): values below 2^SUB_BITS are exact;
 * above, each power of two is split into 2^SUB_BITS buckets, so the
 * relative error of a percentile is below 1/2^SUB_BITS (0.8% at 7 bits).
 * Fixed size, no allocation after init, mergeable. */
#ifndef VNETSIM_STATS_H
#define VNETSIM_STATS_H

#include "vnetsim/common.h"

#define VNS_HIST_SUB_BITS 7
#define VNS_HIST_BUCKETS ((64 - VNS_HIST_SUB_BITS + 1) << VNS_HIST_SUB_BITS)

struct vns_hist {
    uint64_t count;
    uint64_t sum;             /* saturating */
    uint64_t min, max;
    uint64_t bucket[VNS_HIST_BUCKETS];
};

VNS_EXTERN void vns_hist_init(struct vns_hist *h);
VNS_EXTERN void vns_hist_record(struct vns_hist *h, uint64_t v);
VNS_EXTERN void vns_hist_merge(struct vns_hist *into, const struct vns_hist *from);
/* The value at percentile @p (0..100): the bucket's upper bound, clamped
 * to [min, max]. 0 for an empty histogram. */
VNS_EXTERN uint64_t vns_hist_percentile(const struct vns_hist *h, double p);
VNS_EXTERN double vns_hist_mean(const struct vns_hist *h);

#endif
