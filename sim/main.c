/* sim/main.c -- the vnetsim command: subcommand dispatch and help. */
#define _POSIX_C_SOURCE 200809L /* setenv, execv */
#include <stdio.h>
#include <string.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <gnu/libc-version.h>
#include <stdlib.h>
#include <unistd.h>
#endif

#include "cli.h"

static void usage(FILE *f)
{
    fputs("usage: vnetsim <command> [options]\n"
          "\n"
          "Deterministic simulator of the Linux virtualized network stack\n"
          "(virtio-net -> virtqueue -> vhost-net -> tun/tap -> bridge -> TCP/IP).\n"
          "\n"
          "commands:\n"
          "  run [options]      run the default scenario (the engine demo until\n"
          "                     scenario files land); `vnetsim run --help`\n"
          "  check FILE         validate a scenario file and print its topology\n"
          "  sweep FILE --set K=V1,V2,...  run every point of a parameter sweep in parallel\n"
          "  functions [-p P]   list the modelled kernel functions, their symbols and costs\n"
          "                     (alias: funcs)\n"
          "  profiles           list the kernel profiles\n"
          "  bench              benchmark figures of the simulator itself (one table)\n"
          "  version            print the version\n"
          "  help               this text\n",
          f);
}

const char *cli_argv0 = "vnetsim";

static int cmd_profiles(void)
{
    for (const char *const *p = vns_profile_names(); *p; p++)
        printf("%s%s\n", *p, p == vns_profile_names() ? " (default)" : "");
    return 0;
}

/* Transparent huge pages for the heap. With many guests the simulator's
 * hot state (about 1 MB a guest: sockets, rings, skbs, guest pages) spans
 * tens of thousands of 4 KiB pages and most accesses to another guest's
 * objects miss the TLB: 100 guests run in about 15% less CPU time with
 * 2 MiB pages, one guest the same (docs/performance.md). glibc >= 2.35
 * madvises what malloc maps when the tunable glibc.malloc.hugetlb=1 is
 * set, and reads tunables only at start-up, so the command executes
 * itself once more with it. Not when GLIBC_TUNABLES or VNS_NO_HUGEPAGES
 * is set, nor under Valgrind (the new image would run outside it). The
 * simulation is the same either way. */
static void heap_hugepages(char **argv)
{
#if defined(__linux__) && defined(__GLIBC__)
    const char *preload = getenv("LD_PRELOAD");
    int major = 0, minor = 0;

    if (getenv("GLIBC_TUNABLES") || getenv("VNS_NO_HUGEPAGES") ||
        (preload && strstr(preload, "vgpreload")))
        return;
    if (sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor) != 2 ||
        (major == 2 && minor < 35) || major < 2)
        return;
    if (setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1))
        return;
    execv("/proc/self/exe", argv);
    unsetenv("GLIBC_TUNABLES"); /* could not: carry on with 4 KiB pages */
#else
    (void)argv;
#endif
}

int main(int argc, char **argv)
{
    heap_hugepages(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    cli_argv0 = argv[0];
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "sweep"))
        return cmd_sweep(argc - 1, argv + 1);
    if (!strcmp(argv[1], "check"))
        return cmd_check(argc - 1, argv + 1);
    if (!strcmp(argv[1], "functions") || !strcmp(argv[1], "funcs"))
        return cmd_funcs(argc - 1, argv + 1);
    if (!strcmp(argv[1], "bench"))
        return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(argv[1], "profiles"))
        return cmd_profiles();
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("vnetsim %s\n", VNS_VERSION_STRING);
        return 0;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    cli_error("unknown command '%s' (try 'vnetsim help')", argv[1]);
    return 2;
}
