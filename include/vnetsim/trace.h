/* vnetsim -- kernel profiles, probes and stack outputs.
 *
 * A kernel profile maps each modelled function to the symbol the real
 * kernel shows (linux-5.4: vhost_tx_batch -> "vhost_tx_batch.isra.23") and
 * hides frames that the real kernel does not show (inlined functions, or a
 * frame seen only from some callers). linux-5.4 reproduces the seed stacks
 * of ../shared/reference/kernel-stacks.txt exactly.
 *
 * A probe on a function records every distinct stack seen when the
 * function is entered (as the profile shows it) with a hit count. With no
 * probe armed, vns_fn_enter costs a bit test. */
#ifndef VNETSIM_TRACE_H
#define VNETSIM_TRACE_H

#include <stdio.h>
#include "vnetsim/common.h"

struct vns_profile;

/* The profile called @name ("linux-5.4", "linux-6.6"), or NULL. */
VNS_EXTERN const struct vns_profile *vns_profile_find(const char *name);
VNS_EXTERN const char *vns_profile_name(const struct vns_profile *p);
/* Names of all profiles, NULL-terminated. */
VNS_EXTERN const char *const *vns_profile_names(void);
/* The symbol @p shows for function @f. */
VNS_EXTERN const char *vns_profile_symbol(const struct vns_profile *p, int f);
/* Whether frame @f is shown when its caller's frame is @caller (-1 for
 * none). */
VNS_EXTERN bool vns_profile_shows(const struct vns_profile *p, int f, int caller);

/* Arm a probe on the function called @name (kernel name or the profile's
 * symbol). Returns 0, -VNS_ENOENT (unknown function: the CLI lists the
 * names), -VNS_EINVAL for a parameter that is not a function, -VNS_EBUSY
 * if frames were not being recorded (struct vns_sim_config's
 * record_frames) and a context is mid-call: arm probes before the run. */
VNS_EXTERN int vns_probe_add(struct vns_sim *sim, const char *name);
VNS_EXTERN int vns_probe_add_id(struct vns_sim *sim, int f);
/* Times the probed function @f was entered. */
VNS_EXTERN uint64_t vns_probe_hits(const struct vns_sim *sim, int f);
/* Number of distinct stacks recorded over all probes. */
VNS_EXTERN size_t vns_probe_nstacks(const struct vns_sim *sim);

/* Write each distinct stack once, in the seed's format: one "[0] symbol"
 * line per frame, innermost first, a blank line after each stack; probes in
 * the order they were armed, stacks in order of first sight. Returns 0 or
 * -VNS_EIO. */
VNS_EXTERN int vns_probe_write_stacks(const struct vns_sim *sim, FILE *out);
/* Write flamegraph-collapsed stacks: "outer;...;inner count" per line,
 * sorted, as stackcollapse scripts do. Returns 0 or -VNS_EIO. */
VNS_EXTERN int vns_probe_write_folded(const struct vns_sim *sim, FILE *out);

/* Format one stack (function ids, innermost first) as the profile shows it,
 * in the seed format, into @out. */
VNS_EXTERN int vns_stack_write(const struct vns_profile *p, const uint16_t *frames,
                               unsigned n, FILE *out);

/* --- timeline ---------------------------------------------------------------
 * Record every step (CPU, context, start, end, innermost function) for a
 * Chrome/Perfetto trace-event timeline: one track per CPU (host and guest),
 * with interrupts (when raised at their CPU) and VM exits as instant
 * events.
 * At most @max_steps are kept (0 = 1,000,000); later ones are counted but
 * dropped, and the file says so. -VNS_EBUSY as for vns_probe_add. */
VNS_EXTERN int vns_timeline_enable(struct vns_sim *sim, size_t max_steps);
/* Write the JSON trace ({"traceEvents": [...]}, ts/dur in microseconds).
 * Returns 0, -VNS_EINVAL if not enabled, -VNS_EIO. */
VNS_EXTERN int vns_timeline_write(const struct vns_sim *sim, FILE *out);
VNS_EXTERN size_t vns_timeline_steps(const struct vns_sim *sim);

/* --- time series ------------------------------------------------------------
 *
 * Sampled every @interval of virtual time: each series is a function read
 * at the sample (a gauge, e.g. ring occupancy or cwnd) or, with @rate, the
 * increase of a counter per second since the previous sample (throughput,
 * CPU utilization). Sampling is an observer: its events are not in the
 * fingerprint, so --series never changes a result. */
typedef double (*vns_series_fn)(void *arg);

/* Register a column before vns_series_start(). -VNS_E2BIG past 256. */
VNS_EXTERN int vns_series_add(struct vns_sim *sim, const char *name, vns_series_fn fn, void *arg, bool rate);
/* Start sampling now + @interval, then every @interval. */
VNS_EXTERN int vns_series_start(struct vns_sim *sim, vns_time_t interval);
VNS_EXTERN size_t vns_series_samples(const struct vns_sim *sim);
/* CSV: "time_s,<name>,..." then one row per sample. 0 or -VNS_EIO. */
VNS_EXTERN int vns_series_write_csv(const struct vns_sim *sim, FILE *out);

#endif
