/* vnetsim -- modelled kernel functions and the cost table.
 *
 * Every modelled kernel function has an id (VNS_FN_<name>, the kernel's own
 * name), a default cost per call in ns, and an optional cost per byte in
 * picoseconds. The ids come from one X-macro list per layer
 * (include/vnetsim/funcs/<layer>.def), so a frame push is a store of a
 * small integer and the hot path never looks a name up.
 *
 * A .def file line is one of:
 *   VNS_FUNC(name, call_ns, byte_ps)   a kernel function (can be a frame)
 *   VNS_PARAM(name, ns)                a cost or latency that is not a
 *                                      function (e.g. VM exit, wake-up)
 * Costs are for the reference machine (VNS_COST_REF_MHZ, the Xeon E5-2650
 * v4 of docs/calibration.md); vns_cost_set_cpu_mhz() scales them. */
#ifndef VNETSIM_FUNC_H
#define VNETSIM_FUNC_H

#include "vnetsim/common.h"

enum vns_func {
#define VNS_FUNC(name, call_ns, byte_ps) VNS_FN_##name,
#define VNS_PARAM(name, ns) VNS_FN_##name,
#include "vnetsim/funcs/all.def"
#undef VNS_FUNC
#undef VNS_PARAM
    VNS_FN__COUNT
};

#define VNS_COST_REF_MHZ 2200u

/* The kernel name of @f ("vhost_tx_batch"; profiles may show another
 * symbol, see trace.h). NULL if @f is out of range. */
VNS_EXTERN const char *vns_func_name(int f);
/* Id of the function or parameter called @name, or -VNS_ENOENT. */
VNS_EXTERN int vns_func_lookup(const char *name);
/* True for VNS_PARAM entries (costs that are not frames). */
VNS_EXTERN bool vns_func_is_param(int f);

/* Per-simulation cost table (see sim.h: vns_sim_costs()). */
struct vns_cost_table;

/* Override one entry by name. byte_ps < 0 keeps the current per-byte cost.
 * Returns 0, -VNS_ENOENT for an unknown name, -VNS_ERANGE for a cost above
 * one second. */
VNS_EXTERN int vns_cost_set(struct vns_cost_table *t, const char *name,
                            int64_t call_ns, int64_t byte_ps);
/* Default (unscaled) costs of @f. */
VNS_EXTERN void vns_cost_get(const struct vns_cost_table *t, int f,
                             uint32_t *call_ns, uint32_t *byte_ps);
/* Scale every cost as if the CPU ran at @mhz instead of VNS_COST_REF_MHZ.
 * -VNS_ERANGE outside 100..10000 MHz. */
VNS_EXTERN int vns_cost_set_cpu_mhz(struct vns_cost_table *t, unsigned mhz);
/* Effective (scaled) cost in ns of one call of @f moving @bytes bytes. */
VNS_EXTERN uint64_t vns_cost_of(const struct vns_cost_table *t, int f,
                                uint64_t bytes);

#endif
