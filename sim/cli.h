/* sim/cli.h -- the vnetsim command: shared helpers. */
#ifndef VNETSIM_CLI_H
#define VNETSIM_CLI_H

#include <stdio.h>
#include "vnetsim/vnetsim.h"

/* An output file written whole or not at all: data goes to a temporary
 * file beside the target, renamed over it only on success. */
struct cli_out {
    FILE *f;
    char path[1024];
    char tmp[1100];
};

int cli_out_open(struct cli_out *o, const char *path);
/* Close and rename into place; on any write error remove the temporary
 * file and return -VNS_EIO. */
int cli_out_commit(struct cli_out *o);
void cli_out_abort(struct cli_out *o);

void cli_error(const char *fmt, ...) VNS_PRINTF(1, 2);
/* mkdir @dir unless it exists (its parent must); errors name option @opt. */
int cli_mkdir(const char *opt, const char *dir);

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
struct vns_scenario *cli_load_scenario(const char *path, const char *const *sets, size_t nsets);
/* The same for the built-in default scenario (path NULL above means it). */
#define CLI_DEFAULT_SCENARIO_NAME "default scenario (examples/scenarios/default.yaml)"
extern const char cli_default_scenario[];
int cmd_funcs(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* argv[0] of the vnetsim process (to run itself again, e.g. under valgrind). */
extern const char *cli_argv0;

#endif
