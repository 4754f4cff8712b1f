/* lib/scenario/sc_int.h -- shared by the scenario reader (scenario.c) and
 * its printer (sc_print.c): the names of the enums, in enum order. */
#ifndef VNETSIM_SC_INT_H
#define VNETSIM_SC_INT_H

extern const char *const vns__sc_dev_types[];
extern const char *const vns__sc_macvlan_modes[];
extern const char *const vns__sc_payloads[];
extern const char *const vns__sc_workload_types[];
extern const char *const vns__sc_syscalls[];
extern const char *const vns__sc_rings[];
extern const char *const vns__sc_features[];
extern const char *const vns__sc_fault_types[];

#endif
