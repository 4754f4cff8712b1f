/* sim/main.c -- the vnetsim command: subcommand dispatch and help. */
#include <stdio.h>
#include <string.h>

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

int main(int argc, char **argv)
{
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
