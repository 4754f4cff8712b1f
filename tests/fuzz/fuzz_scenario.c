/* tests/fuzz/fuzz_scenario.c -- the whole scenario reader (YAML, --set,
 * validation, cross-references) on arbitrary bytes. Input: YAML, then
 * optionally NUL-separated --set assignments. Errors are fine; crashes,
 * leaks, hangs and sanitizer reports are bugs. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vnetsim/vnetsim.h"
#include "vnetsim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t ylen = nul ? (size_t)(nul - data) : size;
    char setbuf[512];
    const char *sets[8];
    size_t nsets = 0;
    struct vns_scenario *sc = NULL;
    struct vns_diag d;

    if (nul) {
        size_t n = size - ylen - 1;
        char *p = setbuf;

        if (n >= sizeof(setbuf))
            n = sizeof(setbuf) - 1;
        memcpy(setbuf, nul + 1, n);
        setbuf[n] = '\0';
        while (nsets < 8 && p < setbuf + n) {
            sets[nsets++] = p;
            p += strlen(p) + 1;
        }
    }
    if (vns_scenario_parse((const char *)data, ylen, "fuzz.yaml", sets, nsets, &sc, &d) == 0) {
        FILE *f = fopen("/dev/null", "w");

        if (f) {
            vns_scenario_print(sc, f);
            fclose(f);
        }
        vns_scenario_free(sc);
    } else {
        char buf[1024];

        vns_diag_format(&d, buf, sizeof(buf));
    }
    return 0;
}
