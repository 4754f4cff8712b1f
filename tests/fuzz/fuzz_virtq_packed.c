/* tests/fuzz/fuzz_virtq_packed.c -- libFuzzer target: the packed ring's
 * device side and driver side over arbitrary guest memory, flags and wrap
 * counters. See fuzz_virtq.h for the input format. */
#include "fuzz/fuzz_virtq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(VNS_VIRTQ_PACKED, data, size);
}
