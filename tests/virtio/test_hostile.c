/* tests/virtio/test_hostile.c -- the hostile guest driver: every kind of
 * ring corruption, injected after honest traffic, is refused by the device
 * side with vhost's check; the queue breaks and nothing outside guest
 * memory is touched; a healthy queue beside it keeps working. */
#include "vq_fixture.h"
#include "vnetsim/hostile.h"

#define SCRATCH 0x600000u

static int teardown(void **s)
{
    (void)s;
    assert_no_leaks();
    return 0;
}

/* Pass @n honest buffers through @f: add, fetch, use, reap. */
static void honest(struct vqf *f, int n)
{
    struct vns_iov iov[4];
    unsigned out, in;
    static uint64_t tok[64];

    for (int i = 0; i < n; i++) {
        struct vns_sg sg = {VQF_BUF_GPA + 2048u * (uint64_t)(i % 64), 1500};
        uint32_t len;
        int head;

        assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tok[i % 64], NULL), 0);
        vns_virtq_kick(f->vq, NULL);
        head = vns_devq_get_vq_desc(f->dq, iov, 4, &out, &in, NULL);
        assert_true(head >= 0);
        assert_int_equal(vns_devq_add_used(f->dq, (uint32_t)head, 0, NULL), 0);
        assert_ptr_equal(vns_virtq_get_buf(f->vq, &len, NULL), &tok[i % 64]);
    }
}

struct expect {
    enum vns_hostile kind;
    int err;                        /* from get_vq_desc */
    enum vns_devq_err why;
};

static void check_kinds(enum vns_virtq_layout layout, const struct expect *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct vqf *f = vqf_new(layout, 64, true, true);
        static struct vns_iov iov[1024];  /* vhost-net passes UIO_MAXIOV */
        unsigned out, in;
        int r;

        honest(f, 70);              /* past a wrap of a 64-entry ring */
        assert_int_equal(vns_virtq_inject_hostile(f->vq, e[i].kind, SCRATCH), 0);
        r = vns_devq_get_vq_desc(f->dq, iov, 1024, &out, &in, NULL);
        if (r != e[i].err || vns_devq_last_err(f->dq) != e[i].why)
            fail_msg("%s on %s: got %d/%s, want %d/%s", vns_hostile_name(e[i].kind),
                     layout == VNS_VIRTQ_SPLIT ? "split" : "packed", r,
                     vns_devq_err_name(vns_devq_last_err(f->dq)), e[i].err, vns_devq_err_name(e[i].why));
        assert_true(vns_devq_is_broken(f->dq));
        assert_int_equal(vns_devq_stats(f->dq)->errors[e[i].why], 1);
        assert_int_equal(vns_devq_get_vq_desc(f->dq, iov, 1024, &out, &in, NULL), -VNS_EIO);
        assert_int_equal(vns_gmem_stats(f->mem)->faults, 0);
        vqf_free(f);
    }
}

/* Split ring: each corruption meets its vhost check. */
static void test_hostile_split_kinds(void **s)
{
    static const struct expect e[] = {
        {VNS_HOSTILE_BAD_HEAD, -VNS_EINVAL, VNS_DEVQ_ERR_HEAD},
        {VNS_HOSTILE_AVAIL_JUMP, -VNS_EFAULT, VNS_DEVQ_ERR_AVAIL_IDX},
        {VNS_HOSTILE_DESC_LOOP, -VNS_EINVAL, VNS_DEVQ_ERR_LOOP},
        {VNS_HOSTILE_NESTED_INDIRECT, -VNS_EINVAL, VNS_DEVQ_ERR_INDIRECT_NESTED},
        {VNS_HOSTILE_BAD_INDIRECT_LEN, -VNS_EINVAL, VNS_DEVQ_ERR_INDIRECT_LEN},
        {VNS_HOSTILE_OUT_OF_RANGE, -VNS_EFAULT, VNS_DEVQ_ERR_TRANSLATE},
        {VNS_HOSTILE_OUT_AFTER_IN, -VNS_EINVAL, VNS_DEVQ_ERR_OUT_AFTER_IN},
    };

    (void)s;
    check_kinds(VNS_VIRTQ_SPLIT, e, VNS_ARRAY_SIZE(e));
}

/* Packed ring: the kinds that exist there. */
static void test_hostile_packed_kinds(void **s)
{
    static const struct expect e[] = {
        {VNS_HOSTILE_PACKED_BAD_ID, -VNS_EINVAL, VNS_DEVQ_ERR_PACKED_ID},
        {VNS_HOSTILE_NESTED_INDIRECT, -VNS_EINVAL, VNS_DEVQ_ERR_INDIRECT_NESTED},
        {VNS_HOSTILE_BAD_INDIRECT_LEN, -VNS_EINVAL, VNS_DEVQ_ERR_INDIRECT_LEN},
        {VNS_HOSTILE_OUT_OF_RANGE, -VNS_EFAULT, VNS_DEVQ_ERR_TRANSLATE},
        {VNS_HOSTILE_OUT_AFTER_IN, -VNS_EINVAL, VNS_DEVQ_ERR_OUT_AFTER_IN},
    };

    (void)s;
    check_kinds(VNS_VIRTQ_PACKED, e, VNS_ARRAY_SIZE(e));
}

/* Kinds that do not exist on a layout, a bad scratch address, names. */
static void test_hostile_refusals_and_names(void **s)
{
    struct vqf *sp = vqf_new(VNS_VIRTQ_SPLIT, 64, true, true), *pk = vqf_new(VNS_VIRTQ_PACKED, 64, true, true);

    (void)s;
    assert_int_equal(vns_virtq_inject_hostile(sp->vq, VNS_HOSTILE_PACKED_BAD_ID, SCRATCH), -VNS_EINVAL);
    assert_int_equal(vns_virtq_inject_hostile(pk->vq, VNS_HOSTILE_BAD_HEAD, SCRATCH), -VNS_EINVAL);
    assert_int_equal(vns_virtq_inject_hostile(pk->vq, VNS_HOSTILE_DESC_LOOP, SCRATCH), -VNS_EINVAL);
    assert_int_equal(vns_virtq_inject_hostile(sp->vq, VNS_HOSTILE_OUT_OF_RANGE, VQF_RAM), -VNS_EFAULT);
    assert_int_equal(vns_virtq_inject_hostile(sp->vq, VNS_HOSTILE__COUNT, SCRATCH), -VNS_EINVAL);
    assert_false(vns_devq_is_broken(sp->dq));
    assert_int_equal(vns_hostile_lookup("desc_loop"), VNS_HOSTILE_DESC_LOOP);
    assert_int_equal(vns_hostile_lookup("nope"), -VNS_ENOENT);
    for (int k = 0; k < VNS_HOSTILE__COUNT; k++)
        assert_int_equal(vns_hostile_lookup(vns_hostile_name((enum vns_hostile)k)), k);
    vqf_free(sp);
    vqf_free(pk);
}

/* Two queues: the corrupted one breaks, the other keeps every buffer. */
static void test_hostile_only_the_faulty_queue_breaks(void **s)
{
    struct vqf *bad = vqf_new(VNS_VIRTQ_SPLIT, 256, true, false), *good = vqf_new(VNS_VIRTQ_SPLIT, 256, true, false);
    struct vns_iov iov[4];
    unsigned out, in;

    (void)s;
    honest(bad, 10);
    honest(good, 10);
    assert_int_equal(vns_virtq_inject_hostile(bad->vq, VNS_HOSTILE_DESC_LOOP, SCRATCH), 0);
    assert_true(vns_devq_get_vq_desc(bad->dq, iov, 4, &out, &in, NULL) < 0);
    honest(good, 1000);
    assert_true(vns_devq_is_broken(bad->dq));
    assert_false(vns_devq_is_broken(good->dq));
    assert_int_equal(vns_devq_stats(good->dq)->heads, 1010);
    vqf_free(bad);
    vqf_free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hostile_split_kinds, teardown),
        cmocka_unit_test_teardown(test_hostile_packed_kinds, teardown),
        cmocka_unit_test_teardown(test_hostile_refusals_and_names, teardown),
        cmocka_unit_test_teardown(test_hostile_only_the_faulty_queue_breaks, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
