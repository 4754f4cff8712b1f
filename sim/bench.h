/* sim/bench.h -- `vnetsim bench`: benchmark figures, one table per run.
 *
 * Each group (engine, virtq, path, scale, callgrind) adds rows of one
 * figure with its unit. Figures are printed, never judged: speed targets
 * are read off the table (docs/performance.md), not asserted by tests. */
#ifndef VNETSIM_SIM_BENCH_H
#define VNETSIM_SIM_BENCH_H

#include <stdbool.h>
#include <stdint.h>

struct bench_opts {
    bool quick;              /* shorter runs, smaller scale (CI smoke) */
    unsigned scale_max;      /* largest guest count of the scale group */
    const char *self;        /* how to run this program again (callgrind) */
};

/* One row: "@group  @what  @value @unit"; @target, if not NULL, says what
 * docs/performance.md asks of the figure ("target >= 20 M"). */
void bench_row(const char *group, const char *what, double value, const char *unit, const char *target);
/* A row whose figure could not be measured, with the reason. */
void bench_row_na(const char *group, const char *what, const char *why);
double bench_now(void);

void bench_engine(const struct bench_opts *o);
void bench_virtq(const struct bench_opts *o);
void bench_path(const struct bench_opts *o);
void bench_scale(const struct bench_opts *o);
void bench_callgrind(const struct bench_opts *o);
/* Print the scale group's scenario for @n guests (to run it by hand). */
void bench_scale_yaml(unsigned n);

/* The full-path workloads, shared by bench_path and the callgrind child.
 * Runs @which ("udp" or "tcp") for @sim_ns of simulated time; returns 0 and
 * fills the figures, or a negative error (message printed). */
struct bench_path_result {
    double wall_s;           /* vns_sim_run only, not building the world */
    uint64_t frames;         /* UDP: datagrams received by the host socket */
    uint64_t bytes;          /* delivered to the receiving application */
    uint64_t events;
    double sim_s;
};
int bench_path_run(const char *which, uint64_t sim_ns, bool probes, struct bench_path_result *r);

#endif
