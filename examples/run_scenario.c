/* examples/run_scenario.c -- load a scenario file, build its world, run
 * it and print the stats JSON: the vnetsim CLI's `run` in 40 lines of the
 * public API.
 *
 *   run_scenario examples/scenarios/host-remote.yaml [key.path=value ...] */
#include <stdio.h>

#include <vnetsim/vnetsim.h>
#include <vnetsim/scenario.h>
#include <vnetsim/world.h>

int main(int argc, char **argv)
{
    struct vns_scenario *sc = NULL;
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    char msg[1024];
    int err;

    if (argc < 2) {
        fprintf(stderr, "usage: %s SCENARIO.yaml [key.path=value ...]\n", argv[0]);
        return 2;
    }
    /* argv[2..] are --set style overrides, applied in order. */
    err = vns_scenario_load(argv[1], (const char *const *)argv + 2, (size_t)(argc - 2), &sc, &d);
    if (!err)
        err = vns_world_create(sc, &w, &d);
    if (err) {
        vns_diag_format(&d, msg, sizeof(msg));
        fprintf(stderr, "%s\n", msg);
        vns_scenario_free(sc);
        return 2;
    }
    err = vns_sim_run(vns_world_sim(w), sc->duration);
    if (!err)
        err = vns_world_write_stats_json(w, stdout, NULL);
    vns_world_destroy(w);
    vns_scenario_free(sc);
    return err ? 1 : 0;
}
