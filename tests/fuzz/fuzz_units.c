/* tests/fuzz/fuzz_units.c -- the value parsers behind --set, --duration and
 * scenario files: any byte string gives 0 or an error, never a crash, and
 * a parsed time formats back without overflow. */
#include <stdint.h>
#include <string.h>

#include "vnetsim/vnetsim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[128], buf[64];
    uint64_t v;
    vns_time_t t;

    if (size >= sizeof(s))
        size = sizeof(s) - 1;
    memcpy(s, data, size);
    s[size] = '\0';
    if (vns_parse_time(s, &t) == 0)
        vns_format_time(t, buf, sizeof(buf));
    (void)vns_parse_size(s, &v);
    (void)vns_parse_rate(s, &v);
    (void)vns_parse_u64(s, &v);
    return 0;
}
