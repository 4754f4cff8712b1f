/* tests/virtio/test_vring_uapi.c -- our ring layout against Linux's uapi
 * <linux/virtio_ring.h>: offsets of every part for every power-of-two
 * size 1..32768 at alignment 4096 (vring_init), sizes (vring_size),
 * vring_need_event over the whole 16-bit space of (new - old), the packed
 * structures and the constants. Skipped, with a visible notice, where the
 * header is absent (macOS, BSDs). */
#include <stdio.h>
#include <stdlib.h>

#include "support/vns_test.h"
#include "vnetsim/virtq.h"

#if defined(__has_include)
#if __has_include(<linux/virtio_ring.h>)
#define HAVE_UAPI 1
#include <linux/virtio_ring.h>
#endif
#endif

#ifdef HAVE_UAPI

/* Every power-of-two num: desc/avail/used/used_event/avail_event offsets
 * as vring_init computes them, total as vring_size. */
static void test_vring_uapi_split_layout(void **s)
{
    unsigned checked = 0;

    (void)s;
    for (unsigned num = 1; num <= 32768; num *= 2) {
        unsigned size = vring_size(num, 4096);
        unsigned char *p = aligned_alloc(4096, (size + 4095) & ~4095u);
        struct vring vr;
        struct vns_virtq_addr a;

        assert_non_null(p);
        vring_init(&vr, num, p, 4096);
        assert_int_equal(vns_virtq_layout(VNS_VIRTQ_SPLIT, num, 4096, 0, &a), 0);
        assert_int_equal(a.desc, (uint64_t)((unsigned char *)vr.desc - p));
        assert_int_equal(a.avail, (uint64_t)((unsigned char *)vr.avail - p));
        assert_int_equal(a.used, (uint64_t)((unsigned char *)vr.used - p));
        assert_int_equal(a.avail + VNS_VRING_AVAIL_IDX,
                         (uint64_t)((unsigned char *)&vr.avail->idx - p));
        assert_int_equal(a.avail + vns_vring_avail_slot(num - 1),
                         (uint64_t)((unsigned char *)&vr.avail->ring[num - 1] - p));
        assert_int_equal(a.avail + vns_vring_used_event_off(num),
                         (uint64_t)((unsigned char *)&vring_used_event(&vr) - p));
        assert_int_equal(a.used + VNS_VRING_USED_IDX,
                         (uint64_t)((unsigned char *)&vr.used->idx - p));
        assert_int_equal(a.used + vns_vring_used_slot(num - 1),
                         (uint64_t)((unsigned char *)&vr.used->ring[num - 1] - p));
        assert_int_equal(a.used + vns_vring_avail_event_off(num),
                         (uint64_t)((unsigned char *)&vring_avail_event(&vr) - p));
        assert_int_equal(vns_vring_size(num, 4096), size);
        assert_int_equal(vns_virtq_layout_size(VNS_VIRTQ_SPLIT, num, 4096), size);
        /* the last byte of the ring is avail_event's second byte */
        assert_int_equal(a.used + vns_vring_used_size(num), size);
        free(p);
        checked++;
    }
    assert_int_equal(checked, 16);
}

/* vring_need_event agrees for sampled event and new values and every
 * (new - old) in the 16-bit space. */
static void test_vring_uapi_need_event(void **s)
{
    static const uint16_t ev[] = {0, 1, 2, 3, 127, 128, 255, 256, 1000, 32767, 32768,
                                  32769, 40000, 65533, 65534, 65535};
    static const uint16_t nw[] = {0, 1, 2, 100, 255, 256, 32767, 32768, 32769, 50000,
                                  65534, 65535};
    uint64_t yes = 0, n = 0;

    (void)s;
    for (size_t e = 0; e < VNS_ARRAY_SIZE(ev); e++)
        for (size_t k = 0; k < VNS_ARRAY_SIZE(nw); k++)
            for (uint32_t d = 0; d <= 0xffff; d++) {
                uint16_t old = (uint16_t)(nw[k] - d);
                int a = vns_vring_need_event(ev[e], nw[k], old);
                int b = vring_need_event(ev[e], nw[k], old);

                if (a != b)
                    fail_msg("need_event(%u, %u, %u): ours %d, uapi %d", ev[e], nw[k], old, a, b);
                yes += (uint64_t)a;
                n++;
            }
    assert_int_equal(n, VNS_ARRAY_SIZE(ev) * VNS_ARRAY_SIZE(nw) * 65536u);
    assert_true(yes > 0 && yes < n);
}

/* Packed descriptor and event structures, split structures, constants. */
static void test_vring_uapi_structs_and_constants(void **s)
{
    (void)s;
    assert_int_equal(sizeof(struct vring_desc), VNS_VRING_DESC_SIZE);
    assert_int_equal(offsetof(struct vring_desc, addr), VNS_VRING_DESC_ADDR);
    assert_int_equal(offsetof(struct vring_desc, len), VNS_VRING_DESC_LEN);
    assert_int_equal(offsetof(struct vring_desc, flags), VNS_VRING_DESC_FLAGS);
    assert_int_equal(offsetof(struct vring_desc, next), VNS_VRING_DESC_NEXT);
    assert_int_equal(sizeof(struct vring_used_elem), VNS_VRING_USED_ELEM_SIZE);
    assert_int_equal(offsetof(struct vring_used_elem, id), VNS_VRING_USED_ELEM_ID);
    assert_int_equal(offsetof(struct vring_used_elem, len), VNS_VRING_USED_ELEM_LEN);
    assert_int_equal(offsetof(struct vring_avail, idx), VNS_VRING_AVAIL_IDX);
    assert_int_equal(offsetof(struct vring_avail, ring), VNS_VRING_AVAIL_RING);
    assert_int_equal(offsetof(struct vring_used, idx), VNS_VRING_USED_IDX);
    assert_int_equal(offsetof(struct vring_used, ring), VNS_VRING_USED_RING);
    assert_int_equal(sizeof(struct vring_packed_desc), 16);
    assert_int_equal(offsetof(struct vring_packed_desc, addr), VNS_VRING_PACKED_DESC_ADDR);
    assert_int_equal(offsetof(struct vring_packed_desc, len), VNS_VRING_PACKED_DESC_LEN);
    assert_int_equal(offsetof(struct vring_packed_desc, id), VNS_VRING_PACKED_DESC_ID);
    assert_int_equal(offsetof(struct vring_packed_desc, flags), VNS_VRING_PACKED_DESC_FLAGS);
    assert_int_equal(sizeof(struct vring_packed_desc_event), VNS_VRING_PACKED_EVENT_SIZE);
    assert_int_equal(offsetof(struct vring_packed_desc_event, off_wrap),
                     VNS_VRING_PACKED_EVENT_OFF_WRAP);
    assert_int_equal(offsetof(struct vring_packed_desc_event, flags),
                     VNS_VRING_PACKED_EVENT_FLAGS);
    assert_int_equal(VRING_DESC_F_NEXT, VNS_VRING_DESC_F_NEXT);
    assert_int_equal(VRING_DESC_F_WRITE, VNS_VRING_DESC_F_WRITE);
    assert_int_equal(VRING_DESC_F_INDIRECT, VNS_VRING_DESC_F_INDIRECT);
    assert_int_equal(VRING_USED_F_NO_NOTIFY, VNS_VRING_USED_F_NO_NOTIFY);
    assert_int_equal(VRING_AVAIL_F_NO_INTERRUPT, VNS_VRING_AVAIL_F_NO_INTERRUPT);
    assert_int_equal(VRING_PACKED_DESC_F_AVAIL, VNS_VRING_PACKED_DESC_F_AVAIL);
    assert_int_equal(VRING_PACKED_DESC_F_USED, VNS_VRING_PACKED_DESC_F_USED);
    assert_int_equal(VRING_PACKED_EVENT_FLAG_ENABLE, VNS_VRING_PACKED_EVENT_FLAG_ENABLE);
    assert_int_equal(VRING_PACKED_EVENT_FLAG_DISABLE, VNS_VRING_PACKED_EVENT_FLAG_DISABLE);
    assert_int_equal(VRING_PACKED_EVENT_FLAG_DESC, VNS_VRING_PACKED_EVENT_FLAG_DESC);
    assert_int_equal(VRING_PACKED_EVENT_F_WRAP_CTR, VNS_VRING_PACKED_EVENT_F_WRAP_CTR);
    assert_int_equal(VIRTIO_RING_F_INDIRECT_DESC, VNS_VIRTIO_RING_F_INDIRECT_DESC);
    assert_int_equal(VIRTIO_RING_F_EVENT_IDX, VNS_VIRTIO_RING_F_EVENT_IDX);
    assert_int_equal(VRING_AVAIL_ALIGN_SIZE, VNS_VRING_AVAIL_ALIGN_SIZE);
    assert_int_equal(VRING_USED_ALIGN_SIZE, VNS_VRING_USED_ALIGN_SIZE);
    assert_int_equal(VRING_DESC_ALIGN_SIZE, VNS_VRING_DESC_ALIGN_SIZE);
}

#else

static void test_vring_uapi_absent(void **s)
{
    (void)s;
    fprintf(stderr, "NOTICE: <linux/virtio_ring.h> not found: the uapi cross-checks "
                    "of the ring layout are SKIPPED on this system\n");
    skip();
}

#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
#ifdef HAVE_UAPI
        cmocka_unit_test(test_vring_uapi_split_layout),
        cmocka_unit_test(test_vring_uapi_need_event),
        cmocka_unit_test(test_vring_uapi_structs_and_constants),
#else
        cmocka_unit_test(test_vring_uapi_absent),
#endif
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
