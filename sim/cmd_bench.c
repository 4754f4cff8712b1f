/* sim/cmd_bench.c -- `vnetsim bench`: every benchmark figure in one table.
 *
 * Groups run in order (engine, virtq, path, scale, callgrind); each row is
 * printed as soon as it is measured. Figures depend on the machine; the
 * targets column says what docs/performance.md asks of a figure, and no
 * row ever fails on a number (speed is never a test verdict). */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bench.h"
#include "cli.h"

static const char *const groups[] = {"engine", "virtq", "path", "scale", "callgrind", NULL};

static void usage(FILE *f)
{
    fputs("usage: vnetsim bench [--quick] [--only GROUP[,GROUP...]] [--scale-max N] [--csv]\n"
          "\n"
          "Measure the simulator itself and print one table: a row per figure with\n"
          "its unit, and the target from docs/performance.md where there is one.\n"
          "Build with -DCMAKE_BUILD_TYPE=Release for figures worth comparing\n"
          "(`cmake --build build --target bench` runs this).\n"
          "\n"
          "groups:\n"
          "  engine     events/s with 1, 1k and 100k pending events; timer schedule+\n"
          "             cancel/s; ns per traced frame; bytes per pending event\n"
          "  virtq      ring round trips/s: split and packed, 1 and 3 descriptors,\n"
          "             event idx on and off, indirect\n"
          "  path       full path per frame: UDP_STREAM 1472-byte datagrams guest ->\n"
          "             virtio-net -> vhost-net -> tap -> bridge -> host socket\n"
          "             (frames per wall-second, wall ns per frame, with and without a\n"
          "             probe); TCP_STREAM guest -> host with TSO (simulated seconds\n"
          "             per wall-second, goodput, events per simulated second)\n"
          "  scale      1, 10, 100, 1000 guests each running TCP_RR to the host on one\n"
          "             bridge for 1 simulated second: wall time, peak RSS, RSS and\n"
          "             wall time per guest (each size in a child process)\n"
          "  callgrind  instructions per simulated frame for the two path rows, from\n"
          "             two runs of different length under Valgrind's callgrind\n"
          "             (skipped when valgrind is not installed)\n"
          "\n"
          "options:\n"
          "  --quick         shorter runs and at most 100 guests (a smoke run)\n"
          "  --only GROUPS   run only these groups (comma-separated)\n"
          "  --scale-max N   largest guest count of the scale group (default 1000)\n"
          "  --csv           CSV rows (group,figure,value,unit,target), values unrounded\n"
          "  --scale-yaml N  print the scale group's scenario for N guests and exit\n"
          "                  (vnetsim run it, --set duration=..., to look inside)\n"
          "  -h, --help      this text\n"
          "\n"
          "exit status: 0 figures printed, 2 usage error\n",
          f);
}

double bench_now(void)
{
    return (double)uv_hrtime() / 1e9;
}

/* 12.3 M, 456.7 k, 8.90: three significant figures read at a glance. */
static void fmt_value(char *buf, size_t n, double v)
{
    if (v >= 1e9)
        snprintf(buf, n, "%.2f G", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, n, "%.2f M", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, n, "%.1f k", v / 1e3);
    else if (v >= 100)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.3g", v);
}

static bool csv;   /* --csv: group,figure,value,unit,target with full values */

void bench_row(const char *group, const char *what, double value, const char *unit, const char *target)
{
    char v[32];

    if (csv) {
        printf("%s,\"%s\",%.6g,%s,\"%s\"\n", group, what, value, unit, target ? target : "");
        fflush(stdout);
        return;
    }
    fmt_value(v, sizeof(v), value);
    printf("%-9s %-56s %10s %-9s %s\n", group, what, v, unit, target ? target : "");
    fflush(stdout);
}

void bench_row_na(const char *group, const char *what, const char *why)
{
    if (csv) {
        printf("%s,\"%s\",,,\"n/a: %s\"\n", group, what, why);
        fflush(stdout);
        return;
    }
    printf("%-9s %-56s %10s %-9s (%s)\n", group, what, "n/a", "", why);
    fflush(stdout);
}

static bool wanted(const char *only, const char *group)
{
    size_t n = strlen(group);

    if (!only)
        return true;
    for (const char *p = only; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);

        if (len == n && !strncmp(p, group, n))
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

static int check_only(const char *only)
{
    for (const char *p = only; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        bool ok = false;

        for (const char *const *g = groups; *g; g++)
            ok |= strlen(*g) == len && !strncmp(p, *g, len);
        if (!ok) {
            cli_error("bench: --only: unknown group '%.*s' (engine, virtq, path, scale, callgrind)", (int)len, p);
            return -1;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* The child run of the callgrind group: one path workload, figures on
 * stdout for the parent to parse. */
static int child_path(const char *which, const char *sim_time)
{
    struct bench_path_result r;
    uint64_t ns;

    if (vns_parse_time(sim_time, &ns) || !ns) {
        cli_error("bench: --child-path: bad time '%s'", sim_time);
        return 2;
    }
    if (bench_path_run(which, ns, false, &r))
        return 1;
    printf("frames %llu bytes %llu events %llu\n", (unsigned long long)r.frames, (unsigned long long)r.bytes,
           (unsigned long long)r.events);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    struct bench_opts o = {.scale_max = 1000, .self = cli_argv0};
    const char *only = NULL, *child = NULL, *child_time = "100ms";
    bool scale_set = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--csv")) {
            csv = true;
        } else if (!strcmp(a, "--quick")) {
            o.quick = true;
        } else if (!strcmp(a, "--only") && i + 1 < argc) {
            only = argv[++i];
            if (check_only(only))
                return 2;
        } else if (!strcmp(a, "--scale-max") && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);

            if (*end || v < 1 || v > 100000) {
                cli_error("bench: --scale-max: expected an integer from 1 to 100000, got '%s'", argv[i]);
                return 2;
            }
            o.scale_max = (unsigned)v;
            scale_set = true;
        } else if (!strcmp(a, "--scale-yaml") && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);

            if (*end || v < 1 || v > 100000) {
                cli_error("bench: --scale-yaml: expected an integer from 1 to 100000, got '%s'", argv[i]);
                return 2;
            }
            bench_scale_yaml((unsigned)v);
            return 0;
        } else if (!strcmp(a, "--child-path") && i + 2 < argc) {   /* internal: callgrind child */
            child = argv[++i];
            child_time = argv[++i];
        } else {
            cli_error("bench: unknown or incomplete option '%s' (try 'vnetsim bench --help')", a);
            return 2;
        }
    }
    if (child)
        return child_path(child, child_time);
    if (o.quick && !scale_set)
        o.scale_max = 100;
    if (csv) {
        printf("group,figure,value,unit,target\n");
    } else {
        printf("vnetsim %s bench%s: one core, wall clock; figures, not verdicts\n", VNS_VERSION_STRING,
               o.quick ? " --quick" : "");
        printf("%-9s %-56s %10s %-9s %s\n", "group", "figure", "value", "unit", "target");
    }
    if (wanted(only, "engine"))
        bench_engine(&o);
    if (wanted(only, "virtq"))
        bench_virtq(&o);
    if (wanted(only, "path"))
        bench_path(&o);
    if (wanted(only, "scale"))
        bench_scale(&o);
    if (wanted(only, "callgrind"))
        bench_callgrind(&o);
    return 0;
}
