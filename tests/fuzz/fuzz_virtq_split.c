/* tests/fuzz/fuzz_virtq_split.c -- libFuzzer target: the split ring's device
 * side (vhost_get_vq_desc and friends) and driver side over arbitrary guest
 * memory and indices. See fuzz_virtq.h for the input format. */
#include "fuzz/fuzz_virtq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(VNS_VIRTQ_SPLIT, data, size);
}
