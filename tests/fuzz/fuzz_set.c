/* tests/fuzz/fuzz_set.c -- `--set key.path=value` assignments applied to a
 * valid scenario: any key path, any value text, any YAML flow collection
 * as a value (faults, limits, a whole guest), in any number. The result is
 * a clear error or a valid scenario, never a crash, a leak or undefined
 * behaviour; a valid one is also printed and built into a world (the
 * builder must refuse what it cannot build, not trip over it).
 *
 * Input: assignments separated by newlines (at most 16). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vnetsim/vnetsim.h"
#include "vnetsim/alloc.h"
#include "vnetsim/scenario.h"
#include "vnetsim/world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base[] =
    "duration: 1ms\n"
    "host:\n"
    "  cpus: 2\n"
    "  devices:\n"
    "    - {name: br0, type: bridge, addr: 10.0.0.1/24}\n"
    "    - {name: tap0, type: tap, master: br0}\n"
    "    - {name: eth0, type: wire, peer: r1, addr: 10.1.0.1/24}\n"
    "remotes:\n"
    "  - {name: r1, addr: 10.1.0.2/24}\n"
    "guests:\n"
    "  - {name: vm1, memory: 64MiB, addr: 10.0.0.2/24, nic: {backend: tap0}}\n"
    "workloads:\n"
    "  - {type: tcp_stream, from: vm1, to: host}\n"
    "faults:\n"
    "  - {type: link_down, target: eth0, at: 100us, duration: 100us}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[4096], *sets[16];
    size_t nsets = 0;
    struct vns_scenario *sc = NULL;
    struct vns_world *w = NULL;
    struct vns_diag d = {0};
    char *p;

    if (size >= sizeof(buf))
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (p = buf; nsets < 16;) {
        char *nl = strchr(p, '\n');

        sets[nsets++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    if (vns_scenario_parse(base, sizeof(base) - 1, "fuzz.yaml", (const char *const *)sets, nsets,
                           &sc, &d) < 0)
        return 0;
    {
        FILE *null = fopen("/dev/null", "w");

        if (null) {
            vns_scenario_print(sc, null);
            fclose(null);
        }
    }
    /* Build (not run: a fuzzed duration may be long) and tear down. Big
     * worlds are refused here to keep each input fast. */
    {
        uint64_t slots = 0; /* receive buffers posted at open touch guest pages: bound them */

        for (size_t i = 0; i < sc->nguests; i++)
            slots += (uint64_t)sc->guests[i].nic.ring_size * sc->guests[i].nic.queues;
        if (sc->nguests <= 4 && sc->host_cpus <= 16 && sc->ndevices <= 16 && sc->nremotes <= 4 &&
            sc->nworkloads <= 64 && sc->nfaults <= 64 && slots <= 8192 &&
            vns_world_create(sc, &w, &d) == 0)
            vns_world_destroy(w);
    }
    vns_scenario_free(sc);
    return 0;
}
