/* sim/cmd_check.c -- `vnetsim check FILE [--set K=V]...`: validate a
 * scenario and print the resolved topology. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vnetsim/scenario.h"

#define MAX_SETS 64

/* Load @path with the --set options of argv; prints the error and returns
 * NULL on failure. Shared by check and run. */
struct vns_scenario *cli_load_scenario(const char *path, const char *const *sets, size_t nsets)
{
    struct vns_scenario *sc = NULL;
    struct vns_diag d = {0};
    char buf[VNS_DIAG_MSG_MAX + VNS_DIAG_FILE_MAX + 64];

    int err = path ? vns_scenario_load(path, sets, nsets, &sc, &d)
                   : vns_scenario_parse(cli_default_scenario, strlen(cli_default_scenario), "default.yaml", sets,
                                        nsets, &sc, &d);

    if (err < 0) {
        vns_diag_format(&d, buf, sizeof(buf));
        fprintf(stderr, "%s\n", buf);
        return NULL;
    }
    return sc;
}

int cmd_check(int argc, char **argv)
{
    const char *sets[MAX_SETS], *file = NULL;
    size_t nsets = 0;
    struct vns_scenario *sc;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts("usage: vnetsim check FILE [--set KEY.PATH=VALUE]...\n"
                 "Validate a scenario file and print the resolved topology.\n"
                 "Errors name file:line:col, the key path and the expected form (exit 2).\n"
                 "docs/scenarios.md lists every key.");
            return 0;
        } else if (!strcmp(argv[i], "--set") || !strncmp(argv[i], "--set=", 6)) {
            const char *v = argv[i][5] == '=' ? argv[i] + 6 : (i + 1 < argc ? argv[++i] : NULL);

            if (!v) {
                cli_error("--set needs KEY.PATH=VALUE");
                return 2;
            }
            if (nsets == MAX_SETS) {
                cli_error("too many --set options (at most %d)", MAX_SETS);
                return 2;
            }
            sets[nsets++] = v;
        } else if (argv[i][0] == '-') {
            cli_error("unknown option '%s' (try 'vnetsim check --help')", argv[i]);
            return 2;
        } else if (file) {
            cli_error("one scenario file at a time ('%s' and '%s')", file, argv[i]);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        cli_error("check needs a scenario FILE");
        return 2;
    }
    sc = cli_load_scenario(file, sets, nsets);
    if (!sc)
        return 2;
    vns_scenario_print(sc, stdout);
    printf("ok\n");
    vns_scenario_free(sc);
    return 0;
}
