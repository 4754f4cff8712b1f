/* lib/core/func.c -- the table of modelled functions and the cost table. */
#include <string.h>

#include "vnetsim/error.h"
#include "core_int.h"

struct func_info {
    const char *name;
    uint32_t call_ns;
    uint32_t byte_ps;
    bool param;
};

static const struct func_info func_table[VNS_FN__COUNT] = {
#define VNS_FUNC(n, c, b) {#n, (c), (b), false},
#define VNS_PARAM(n, c) {#n, (c), 0, true},
#include "vnetsim/funcs/all.def"
#undef VNS_FUNC
#undef VNS_PARAM
};

const char *vns_func_name(int f)
{
    if (f < 0 || f >= VNS_FN__COUNT)
        return NULL;
    return func_table[f].name;
}

int vns_func_lookup(const char *name)
{
    if (!name)
        return -VNS_ENOENT;
    for (int f = 0; f < VNS_FN__COUNT; f++)
        if (strcmp(func_table[f].name, name) == 0)
            return f;
    return -VNS_ENOENT;
}

bool vns_func_is_param(int f)
{
    return f >= 0 && f < VNS_FN__COUNT && func_table[f].param;
}

static void cost_rescale(struct vns_cost_table *t, int f)
{
    /* Costs scale with the inverse of the clock: at twice the MHz, half
     * the ns. Parameters that are latencies of the platform (not CPU work)
     * scale too: a simplification, documented in docs/architecture.md. */
    t->eff_call_ns[f] = (uint32_t)(((uint64_t)t->call_ns[f] * VNS_COST_REF_MHZ + t->mhz / 2) / t->mhz);
    t->eff_byte_ps[f] = (uint32_t)(((uint64_t)t->byte_ps[f] * VNS_COST_REF_MHZ + t->mhz / 2) / t->mhz);
}

void vns__cost_init(struct vns_cost_table *t)
{
    t->mhz = VNS_COST_REF_MHZ;
    for (int f = 0; f < VNS_FN__COUNT; f++) {
        t->call_ns[f] = func_table[f].call_ns;
        t->byte_ps[f] = func_table[f].byte_ps;
        cost_rescale(t, f);
    }
}

int vns_cost_set(struct vns_cost_table *t, const char *name, int64_t call_ns, int64_t byte_ps)
{
    int f = vns_func_lookup(name);

    if (f < 0)
        return f;
    if (call_ns < 0 || call_ns > 1000000000 || byte_ps > 1000000000)
        return -VNS_ERANGE;
    t->call_ns[f] = (uint32_t)call_ns;
    if (byte_ps >= 0)
        t->byte_ps[f] = (uint32_t)byte_ps;
    cost_rescale(t, f);
    return 0;
}

void vns_cost_get(const struct vns_cost_table *t, int f, uint32_t *call_ns, uint32_t *byte_ps)
{
    if (f < 0 || f >= VNS_FN__COUNT) {
        *call_ns = *byte_ps = 0;
        return;
    }
    *call_ns = t->call_ns[f];
    *byte_ps = t->byte_ps[f];
}

int vns_cost_set_cpu_mhz(struct vns_cost_table *t, unsigned mhz)
{
    if (mhz < 100 || mhz > 10000)
        return -VNS_ERANGE;
    t->mhz = mhz;
    for (int f = 0; f < VNS_FN__COUNT; f++)
        cost_rescale(t, f);
    return 0;
}

uint64_t vns_cost_of(const struct vns_cost_table *t, int f, uint64_t bytes)
{
    return t->eff_call_ns[f] + (bytes * t->eff_byte_ps[f] + 500) / 1000;
}
