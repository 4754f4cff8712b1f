/* lib/core/units.c -- parsing and formatting of values with units. */
#include <stdio.h>
#include <string.h>

#include "vnetsim/error.h"
#include "vnetsim/units.h"

struct unit {
    const char *name;
    uint64_t mul;
};

/* Parse "<digits>[.<digits>]<unit>" exactly, in integer arithmetic (no
 * floating point: 0.1ms must be exactly 100000 ns on every platform). */
static int parse_scaled(const char *s, const struct unit *units, size_t nunits, uint64_t *out)
{
    uint64_t ip = 0, frac = 0, fdiv = 1, mul = 0;
    const char *p = s;
    bool digits = false;

    if (!s)
        return -VNS_EINVAL;
    while (*p == ' ')
        p++;
    for (; *p >= '0' && *p <= '9'; p++, digits = true) {
        if (ip > (UINT64_MAX - 9) / 10)
            return -VNS_ERANGE;
        ip = ip * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
            if (fdiv <= UINT64_MAX / 100) {   /* ignore digits beyond precision */
                frac = frac * 10 + (uint64_t)(*p - '0');
                fdiv *= 10;
            }
        }
    }
    if (!digits)
        return -VNS_EINVAL;
    while (*p == ' ')
        p++;
    for (size_t i = 0; i < nunits; i++) {
        if (strcmp(p, units[i].name) == 0) {
            mul = units[i].mul;
            break;
        }
    }
    if (!mul)
        return -VNS_EINVAL;
    if (ip && mul > UINT64_MAX / ip)
        return -VNS_ERANGE;
    ip *= mul;
    /* frac/fdiv * mul, rounded to nearest; must be exact for the units. */
    if (frac) {
        uint64_t f;

        if (mul > UINT64_MAX / frac) {
            /* reduce precision until it fits */
            while (frac && mul > UINT64_MAX / frac) {
                frac /= 10;
                fdiv /= 10;
            }
        }
        f = (frac * mul + fdiv / 2) / fdiv;
        if (ip > UINT64_MAX - f)
            return -VNS_ERANGE;
        ip += f;
    }
    *out = ip;
    return 0;
}

static const struct unit time_units[] = {
    {"", 1}, {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000},
};

static const struct unit size_units[] = {
    {"", 1}, {"B", 1}, {"k", 1000}, {"K", 1000}, {"KB", 1000}, {"KiB", 1024},
    {"M", 1000000}, {"MB", 1000000}, {"MiB", 1048576},
    {"G", 1000000000}, {"GB", 1000000000}, {"GiB", 1073741824},
};

static const struct unit rate_units[] = {
    {"bit", 1}, {"bps", 1}, {"Kbit", 1000}, {"Kbps", 1000}, {"kbit", 1000},
    {"Mbit", 1000000}, {"Mbps", 1000000}, {"Gbit", 1000000000}, {"Gbps", 1000000000},
    {"Tbit", 1000000000000ull}, {"Tbps", 1000000000000ull},
};

int vns_parse_time(const char *s, vns_time_t *out)
{
    return parse_scaled(s, time_units, VNS_ARRAY_SIZE(time_units), out);
}

int vns_parse_size(const char *s, uint64_t *out)
{
    return parse_scaled(s, size_units, VNS_ARRAY_SIZE(size_units), out);
}

int vns_parse_rate(const char *s, uint64_t *out)
{
    return parse_scaled(s, rate_units, VNS_ARRAY_SIZE(rate_units), out);
}

int vns_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;

    if (!s || !*s)
        return -VNS_EINVAL;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && p[2]) {
        for (p += 2; *p; p++) {
            int d = (*p >= '0' && *p <= '9') ? *p - '0'
                  : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
                  : (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10 : -1;

            if (d < 0)
                return -VNS_EINVAL;
            if (v > UINT64_MAX >> 4)
                return -VNS_ERANGE;
            v = (v << 4) | (uint64_t)d;
        }
    } else {
        for (; *p; p++) {
            if (*p < '0' || *p > '9')
                return -VNS_EINVAL;
            if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
                return -VNS_ERANGE;
            v = v * 10 + (uint64_t)(*p - '0');
        }
    }
    *out = v;
    return 0;
}

char *vns_format_time(vns_time_t t, char *buf, size_t len)
{
    if (t >= VNS_SEC(1))
        snprintf(buf, len, "%llu.%03llus", (unsigned long long)(t / 1000000000u),
                 (unsigned long long)(t % 1000000000u / 1000000u));
    else if (t >= VNS_MSEC(1))
        snprintf(buf, len, "%llu.%03llums", (unsigned long long)(t / 1000000u),
                 (unsigned long long)(t % 1000000u / 1000u));
    else if (t >= VNS_USEC(1))
        snprintf(buf, len, "%llu.%03lluus", (unsigned long long)(t / 1000u),
                 (unsigned long long)(t % 1000u));
    else
        snprintf(buf, len, "%lluns", (unsigned long long)t);
    return buf;
}
