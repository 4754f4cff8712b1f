/* vnetsim -- a hostile guest driver: corrupt a ring on purpose.
 *
 * Fault injection for the device side (issue 8): each kind writes the
 * ring bytes a buggy or malicious guest driver could write, at the
 * driver's next position, and publishes them, so that the device (vhost)
 * meets them on its next fetch and must refuse them as Linux's vhost does
 * (docs/virtio.md lists the checks). The driver's own state is left as it
 * was: after an injection the queue is expected to break on the device
 * side, and other queues must keep working. */
#ifndef VNETSIM_HOSTILE_H
#define VNETSIM_HOSTILE_H

#include "vnetsim/virtq.h"

enum vns_hostile {
    VNS_HOSTILE_BAD_HEAD,          /* avail ring names head >= num */
    VNS_HOSTILE_AVAIL_JUMP,        /* avail idx moved by more than num */
    VNS_HOSTILE_DESC_LOOP,         /* a descriptor whose next is itself */
    VNS_HOSTILE_NESTED_INDIRECT,   /* INDIRECT inside an indirect table */
    VNS_HOSTILE_BAD_INDIRECT_LEN,  /* indirect table length not a multiple of 16 */
    VNS_HOSTILE_OUT_OF_RANGE,      /* buffer address outside guest memory */
    VNS_HOSTILE_OUT_AFTER_IN,      /* device-readable after device-writable */
    VNS_HOSTILE_PACKED_BAD_ID,     /* packed: buffer id >= num */
    VNS_HOSTILE__COUNT
};

/* "bad_head", "avail_jump", ... (scenario keys, traces). */
VNS_EXTERN const char *vns_hostile_name(enum vns_hostile kind);
/* The kind called @name, or -VNS_ENOENT. */
VNS_EXTERN int vns_hostile_lookup(const char *name);

/* Write the corruption @kind into @vq's ring. @scratch_gpa is 64 bytes of
 * guest RAM the injector may use for a fake indirect table and a buffer.
 * Returns 0, -VNS_EINVAL (a packed-only kind on a split ring or the
 * reverse, or no free descriptor to use), -VNS_EFAULT (@scratch_gpa is not
 * guest RAM). The caller kicks the device as usual. */
VNS_EXTERN int vns_virtq_inject_hostile(struct vns_virtq *vq, enum vns_hostile kind, uint64_t scratch_gpa);

/* The same, and the driver takes the corrupt entry as its own: its avail
 * slot (split) or ring position (packed) and the descriptors it uses are
 * no longer the driver's, so the buffers the driver adds later come after
 * it and the device meets the corruption first, however busy the queue
 * (a guest whose driver goes bad mid-run: scenario faults). -VNS_EBUSY if
 * the ring has no free descriptor for it now. */
VNS_EXTERN int vns_virtq_inject_hostile_in_order(struct vns_virtq *vq, enum vns_hostile kind,
                                                 uint64_t scratch_gpa);

#endif
