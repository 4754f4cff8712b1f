/* vnetsim -- common definitions shared by every layer.
 *
 * Virtual time is a uint64_t count of nanoseconds since the start of the
 * simulation. Nothing in lib/ ever reads a wall clock. */
#ifndef VNETSIM_COMMON_H
#define VNETSIM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#if defined(VNS_STATIC_DEFINE)
#define VNS_EXTERN
#elif defined(VNS_BUILDING_LIB) && (defined(__GNUC__) || defined(__clang__))
#define VNS_EXTERN __attribute__((visibility("default")))
#else
#define VNS_EXTERN
#endif

#if defined(__GNUC__) || defined(__clang__)
#define VNS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define VNS_LIKELY(x)    __builtin_expect(!!(x), 1)
#define VNS_UNLIKELY(x)  __builtin_expect(!!(x), 0)
#define VNS_NOINLINE     __attribute__((noinline))
#else
#define VNS_NOINLINE
#define VNS_PRINTF(f, a)
#define VNS_LIKELY(x)   (x)
#define VNS_UNLIKELY(x) (x)
#endif

/* Virtual time in nanoseconds. */
typedef uint64_t vns_time_t;

#define VNS_TIME_NEVER UINT64_MAX
#define VNS_NSEC(x) ((vns_time_t)(x))
#define VNS_USEC(x) ((vns_time_t)(x) * 1000u)
#define VNS_MSEC(x) ((vns_time_t)(x) * 1000000u)
#define VNS_SEC(x)  ((vns_time_t)(x) * 1000000000u)

#define VNS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VNS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VNS_MAX(a, b) ((a) > (b) ? (a) : (b))
#define VNS_CONTAINER_OF(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct vns_sim;
struct vns_cpu;
struct vns_ctx;

#endif
