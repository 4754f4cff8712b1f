/* vnetsim -- values with units, as scenario files and the command line
 * write them: times ("250us", "1.5ms", "2s"), sizes ("64KiB", "1500",
 * "4k"), rates ("10Gbit", "9.4Gbps", "1Mpps" is not a rate of bits).
 * All parsers reject trailing junk, negative values and overflow. */
#ifndef VNETSIM_UNITS_H
#define VNETSIM_UNITS_H

#include "vnetsim/common.h"

/* ns, us, ms, s (default unit: ns for a bare integer). -VNS_EINVAL on a
 * malformed value, -VNS_ERANGE above about 584 years. */
VNS_EXTERN int vns_parse_time(const char *s, vns_time_t *out);
/* Bytes: B, k/K/KB = 1000, KiB = 1024, M/MB, MiB, G/GB, GiB. */
VNS_EXTERN int vns_parse_size(const char *s, uint64_t *out);
/* Bits per second: bit/bps, Kbit/Kbps, Mbit, Gbit, Tbit (decimal). */
VNS_EXTERN int vns_parse_rate(const char *s, uint64_t *out);
/* Unsigned integer with no unit, decimal or 0x hex. */
VNS_EXTERN int vns_parse_u64(const char *s, uint64_t *out);
/* Format a time with the largest unit that keeps it readable
 * ("1.500ms"). Returns @buf. */
VNS_EXTERN char *vns_format_time(vns_time_t t, char *buf, size_t len);

#endif
