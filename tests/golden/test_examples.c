/* tests/golden/test_examples.c -- every scenario of examples/scenarios/
 * gives the fingerprint and figures of tests/golden/examples/<name>.
 * fingerprint, in every build type: CI runs this test (label golden) with
 * gcc -O0 and clang -O2, so a behavioural change, or one that depends on
 * the compiler or the optimiser, shows. The figures are integers only.
 *
 * tap-bridge.yaml lasts 6 s for the neighbour states of the seed stacks
 * (tests/cli/cli_seed_stacks.sh); here, as in tests/cli/cli_examples.sh,
 * it runs for its first 20 ms.
 *
 * VNS_UPDATE_GOLDEN=1 (scripts/update-golden) writes the files instead;
 * review the diff before committing them. */
#define _DEFAULT_SOURCE 1   /* dirent */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/vns_test.h"
#include "vnetsim/scenario.h"
#include "vnetsim/world.h"

#define EXAMPLES VNS_SOURCE_DIR "/examples/scenarios"
#define GOLDEN   VNS_SOURCE_DIR "/tests/golden/examples"
#define MAX_EXAMPLES 64

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The example names (file names without .yaml), sorted. */
static size_t list_examples(char **names)
{
    DIR *d = opendir(EXAMPLES);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL && n < MAX_EXAMPLES) {
        size_t len = strlen(e->d_name);

        if (len > 5 && !strcmp(e->d_name + len - 5, ".yaml")) {
            names[n] = vns_malloc(len - 4);
            memcpy(names[n], e->d_name, len - 5);
            names[n++][len - 5] = '\0';
        }
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    return n;
}

/* Run example @name and render its golden text into @out. */
static void render(const char *name, char *out, size_t len)
{
    const char *sets[] = {"duration=20ms"};
    bool cut = !strcmp(name, "tap-bridge");
    struct vns_scenario *sc = NULL;
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    char path[512], buf[700];
    size_t n;

    snprintf(path, sizeof(path), EXAMPLES "/%s.yaml", name);
    if (vns_scenario_load(path, sets, cut ? 1 : 0, &sc, &d) < 0 || vns_world_create(sc, &w, &d) < 0) {
        vns_diag_format(&d, buf, sizeof(buf));
        fail_msg("%s", buf);
    }
    assert_int_equal(vns_sim_run(vns_world_sim(w), sc->duration), 0);
    n = (size_t)snprintf(out, len, "# vnetsim run examples/scenarios/%s.yaml%s\nfingerprint 0x%016" PRIx64
                                   "\nevents %" PRIu64 "\n",
                         name, cut ? " --duration 20ms" : "", vns_sim_fingerprint(vns_world_sim(w)),
                         vns_sim_events_run(vns_world_sim(w)));
    for (size_t i = 0; i < vns_world_nworkloads(w) && n < len; i++) {
        struct vns_workload_result r;

        assert_int_equal(vns_world_workload(w, i, &r), 0);
        n += (size_t)snprintf(out + n, len - n,
                              "workload %zu %s %s -> %s: bytes %" PRIu64 " packets_sent %" PRIu64
                              " packets %" PRIu64 " lost %" PRIu64 " transactions %" PRIu64 " p50 %" PRIu64
                              " p99 %" PRIu64 " p99.9 %" PRIu64 " error %d\n",
                              i, r.type, r.from, r.to, r.bytes, r.packets_sent, r.packets, r.lost, r.transactions,
                              r.latency_p50, r.latency_p99, r.latency_p999, r.error);
    }
    assert_true(n < len);
    vns_world_destroy(w);
    vns_scenario_free(sc);
}

static void test_examples_golden_fingerprints(void **state)
{
    char *names[MAX_EXAMPLES];
    size_t n = list_examples(names);
    static char got[16384];
    unsigned bad = 0;

    (void)state;
    assert_true(n >= 10);
    for (size_t i = 0; i < n; i++) {
        char path[512];

        render(names[i], got, sizeof(got));
        snprintf(path, sizeof(path), GOLDEN "/%s.fingerprint", names[i]);
        bad += !vns_test_golden_matches(path, got);
        vns_free(names[i]);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_golden_fingerprints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
