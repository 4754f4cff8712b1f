/* tests/mem/test_gmem.c -- sparse guest memory, LE accessors, areas, the
 * device memory table, the guest allocator and buffer pool. */
#include <string.h>

#include "support/vns_test.h"
#include "vnetsim/gmem.h"

static int teardown(void **s)
{
    (void)s;
    assert_no_leaks();
    return 0;
}

/* Pages exist once written; reads of untouched pages are zeros and free. */
static void test_gmem_sparse_pages(void **s)
{
    struct vns_gmem *m;
    uint8_t b[16];

    (void)s;
    assert_int_equal(vns_gmem_create(&m), 0);
    assert_int_equal(vns_gmem_add_region(m, 0, 1ull << 40), 0);   /* 1 TiB guest */
    assert_int_equal(vns_gmem_read_le64(m, 123456789), 0);
    assert_int_equal(vns_gmem_stats(m)->pages, 0);
    assert_int_equal(vns_gmem_write_le32(m, (1ull << 39) + 4094, 0xa1b2c3d4), 0);  /* straddles */
    assert_int_equal(vns_gmem_stats(m)->pages, 2);
    assert_int_equal(vns_gmem_read_le32(m, (1ull << 39) + 4094), 0xa1b2c3d4);
    assert_int_equal(vns_gmem_copy_out(m, (1ull << 39) + 4094, b, 4), 0);
    assert_int_equal(b[0], 0xd4);   /* little-endian bytes */
    assert_int_equal(b[3], 0xa1);
    assert_int_equal(vns_gmem_fill(m, 1 << 20, 0, 1 << 20), 0);   /* zeroing allocates nothing */
    assert_int_equal(vns_gmem_stats(m)->pages, 2);
    assert_int_equal(vns_gmem_write_le64(m, 8, 0x0102030405060708ull), 0);
    assert_int_equal(vns_gmem_read_le16(m, 8), 0x0708);
    assert_int_equal(vns_gmem_read_le64(m, 8), 0x0102030405060708ull);
    assert_int_equal(vns_gmem_stats(m)->faults, 0);
    vns_gmem_destroy(m);
}

/* Accesses outside RAM are refused and counted, never performed. */
static void test_gmem_outside_refused(void **s)
{
    struct vns_gmem *m;
    uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    (void)s;
    assert_int_equal(vns_gmem_create(&m), 0);
    assert_int_equal(vns_gmem_add_region(m, 0x1000, 0x2000), 0);
    assert_int_equal(vns_gmem_add_region(m, 0x10000, 0x1000), 0);
    assert_int_equal(vns_gmem_copy_out(m, 0x0, b, 1), -VNS_EFAULT);
    assert_int_equal(vns_gmem_copy_in(m, 0x2ffc, b, 8), -VNS_EFAULT);   /* runs past the end */
    assert_int_equal(vns_gmem_read_le16(m, 0x2fff), 0);
    assert_int_equal(vns_gmem_write_le64(m, UINT64_MAX - 3, 1), -VNS_EFAULT);
    assert_int_equal(vns_gmem_stats(m)->faults, 4);
    assert_int_equal(vns_gmem_stats(m)->pages, 0);
    assert_true(vns_gmem_range_ok(m, 0x1000, 0x2000));
    assert_false(vns_gmem_range_ok(m, 0x1000, 0x2001));
    assert_true(vns_gmem_range_ok(m, 0x10000, 0));
    assert_int_equal(vns_gmem_add_region(m, 0x2000, 0x1000), -VNS_EEXIST);
    assert_int_equal(vns_gmem_add_region(m, 0x20001, 0x1000), -VNS_EINVAL);
    assert_int_equal(vns_gmem_add_region(m, UINT64_MAX - 0xfff, 0x2000), -VNS_EINVAL);
    vns_gmem_destroy(m);
}

/* Adjacent regions: one copy crosses them. Region limit. */
static void test_gmem_regions(void **s)
{
    struct vns_gmem *m;
    struct vns_gmem_table_region r[VNS_GMEM_MAX_REGIONS + 1];
    uint8_t in[64], out[64];

    (void)s;
    assert_int_equal(vns_gmem_create(&m), 0);
    assert_int_equal(vns_gmem_add_region(m, 0x4000, 0x1000), 0);
    assert_int_equal(vns_gmem_add_region(m, 0x3000, 0x1000), 0);
    for (int i = 0; i < 64; i++)
        in[i] = (uint8_t)i;
    assert_int_equal(vns_gmem_copy_in(m, 0x4000 - 32, in, 64), 0);
    assert_int_equal(vns_gmem_copy_out(m, 0x4000 - 32, out, 64), 0);
    assert_memory_equal(in, out, 64);
    assert_int_equal(vns_gmem_regions(m, r, 4), 2);
    assert_int_equal(r[0].guest_phys_addr, 0x3000);
    for (unsigned i = 2; i < VNS_GMEM_MAX_REGIONS; i++)
        assert_int_equal(vns_gmem_add_region(m, 0x100000ull * i, 0x1000), 0);
    assert_int_equal(vns_gmem_add_region(m, 0x1000000000ull, 0x1000), -VNS_E2BIG);
    vns_gmem_destroy(m);
}

/* Areas: straddling reads/writes, out-of-area accesses are faults. */
static void test_gmem_area(void **s)
{
    struct vns_gmem *m;
    struct vns_gmem_area a;

    (void)s;
    assert_int_equal(vns_gmem_create(&m), 0);
    assert_int_equal(vns_gmem_add_region(m, 0, 0x10000), 0);
    assert_int_equal(vns_gmem_area_init(&a, m, 0xff0, 0x20), 0);
    assert_int_equal(a.npages, 2);
    vns_gmem_area_write_le32(&a, 0xe, 0x11223344);   /* crosses 0x1000 */
    assert_int_equal(vns_gmem_read_le32(m, 0xffe), 0x11223344);
    assert_int_equal(vns_gmem_area_read_le32(&a, 0xe), 0x11223344);
    assert_int_equal(vns_gmem_area_read_le16(&a, 0x1f), 0);   /* past the end */
    assert_int_equal(vns_gmem_stats(m)->faults, 1);
    vns_gmem_area_fini(&a);
    assert_int_equal(vns_gmem_area_init(&a, m, 0xfff0, 0x20), -VNS_EFAULT);
    vns_gmem_area_fini(&a);
    /* allocation failure of the page table is reported */
    vns_alloc_fail_at(1);
    assert_int_equal(vns_gmem_area_init(&a, m, 0x8000, 0x10), -VNS_ENOMEM);
    vns_alloc_fail_at(0);
    vns_gmem_destroy(m);
}

/* The memory table: VHOST_SET_MEM_TABLE checks and translate_desc. */
static void test_gmem_table(void **s)
{
    struct vns_gmem *m;
    struct vns_gmem_table *t;
    struct vns_gmem_table_region r[VNS_GMEM_TABLE_MAX_REGIONS + 1];
    struct vns_iov v[4];
    uint8_t src[300], dst[300];

    (void)s;
    assert_int_equal(vns_gmem_create(&m), 0);
    assert_int_equal(vns_gmem_add_region(m, 0, 0x100000), 0);
    memset(r, 0, sizeof(r));
    for (unsigned i = 0; i < VNS_GMEM_TABLE_MAX_REGIONS + 1; i++) {
        r[i].guest_phys_addr = 0x1000ull * i;
        r[i].memory_size = 0x1000;
    }
    assert_int_equal(vns_gmem_table_create(m, r, VNS_GMEM_TABLE_MAX_REGIONS + 1, &t), -VNS_E2BIG);
    r[1].memory_size = 0;
    assert_int_equal(vns_gmem_table_create(m, r, 2, &t), -VNS_EFAULT);
    r[1].memory_size = 0x2000;
    r[2].guest_phys_addr = 0x2800;
    assert_int_equal(vns_gmem_table_create(m, r, 3, &t), -VNS_EINVAL);   /* overlap */
    r[2].guest_phys_addr = 0x200000;   /* not guest RAM */
    assert_int_equal(vns_gmem_table_create(m, r, 3, &t), -VNS_EFAULT);
    /* two regions with a hole between them */
    r[0].guest_phys_addr = 0x8000;
    r[0].memory_size = 0x1000;
    r[1].guest_phys_addr = 0x0;
    r[1].memory_size = 0x8000;
    r[2].guest_phys_addr = 0xa000;
    r[2].memory_size = 0x1000;
    assert_int_equal(vns_gmem_table_create(m, r, 3, &t), 0);
    assert_int_equal(vns_gmem_table_translate(t, 0x7f80, 0x100, v, 4), 2);
    assert_int_equal(v[0].len + v[1].len, 0x100);
    assert_int_equal(vns_gmem_table_translate(t, 0x8f80, 0x100, v, 4), -VNS_EFAULT);   /* hole */
    assert_int_equal(vns_gmem_table_translate(t, 0x5, 0, v, 0), 0);
    assert_int_equal(vns_gmem_table_translate(t, UINT64_MAX, 2, v, 4), -VNS_EFAULT);
    assert_true(vns_gmem_table_access_ok(t, 0xa000, 0x1000));
    assert_false(vns_gmem_table_access_ok(t, 0x9fff, 2));
    /* copies through translated segments */
    for (int i = 0; i < 300; i++)
        src[i] = (uint8_t)(i * 7);
    assert_int_equal(vns_gmem_table_translate(t, 0x7f00, 300, v, 4), 2);
    assert_int_equal(vns_gmem_copy_to_iov(m, v, 2, src, 300), 300);
    assert_int_equal(vns_gmem_copy_from_iov(m, v, 2, dst, 300), 300);
    assert_memory_equal(src, dst, 300);
    assert_int_equal(vns_gmem_copy_from_iov(m, v, 1, dst, 300), 256);
    vns_gmem_table_destroy(t);
    vns_gmem_destroy(m);
}

/* The guest allocator: alignment, first fit, coalescing, double free. */
static void test_gmem_galloc(void **s)
{
    struct vns_galloc *a;
    uint64_t g1, g2, g3, g4;

    (void)s;
    assert_int_equal(vns_galloc_create(0x1000, 0x10000, &a), 0);
    assert_int_equal(vns_galloc_alloc(a, 100, 16, &g1), 0);
    assert_int_equal(g1, 0x1000);
    assert_int_equal(vns_galloc_alloc(a, 0x1000, 0x1000, &g2), 0);
    assert_int_equal(g2, 0x2000);   /* padding left free */
    assert_int_equal(vns_galloc_alloc(a, 8, 8, &g3), 0);
    assert_int_equal(g3, 0x1000 + 104);
    assert_int_equal(vns_galloc_alloc(a, 0x100000, 1, &g4), -VNS_ENOMEM);
    assert_int_equal(vns_galloc_alloc(a, 8, 3, &g4), -VNS_EINVAL);
    assert_int_equal(vns_galloc_free(a, g2, 0x1000), 0);
    assert_int_equal(vns_galloc_free(a, g2, 0x1000), -VNS_EINVAL);   /* double free */
    assert_int_equal(vns_galloc_free(a, g1, 100), 0);
    assert_int_equal(vns_galloc_free(a, g3, 8), 0);
    assert_int_equal(vns_galloc_avail(a), 0x10000);
    assert_int_equal(vns_galloc_alloc(a, 0x10000, 0, &g4), 0);   /* coalesced back */
    assert_int_equal(vns_galloc_free(a, 0x0, 0x10), -VNS_EINVAL);
    vns_galloc_destroy(a);
}

/* The buffer pool hands out distinct buffers and catches bad puts. */
static void test_gmem_pool(void **s)
{
    struct vns_galloc *a;
    struct vns_gbuf_pool *p;
    uint64_t b[5];

    (void)s;
    assert_int_equal(vns_galloc_create(0, 0x100000, &a), 0);
    assert_int_equal(vns_gbuf_pool_create(a, 1500, 4, 64, &p), 0);
    assert_int_equal(vns_gbuf_pool_buf_size(p), 1500);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(vns_gbuf_pool_get(p, &b[i]), 0);
        assert_int_equal(b[i] % 64, 0);
        for (int j = 0; j < i; j++)
            assert_true(b[i] >= b[j] + 1500 || b[j] >= b[i] + 1500);
    }
    assert_int_equal(vns_gbuf_pool_get(p, &b[4]), -VNS_ENOBUFS);
    assert_int_equal(vns_gbuf_pool_put(p, b[2] + 1), -VNS_EINVAL);
    assert_int_equal(vns_gbuf_pool_put(p, b[2]), 0);
    assert_int_equal(vns_gbuf_pool_put(p, b[2]), -VNS_EINVAL);
    assert_int_equal(vns_gbuf_pool_free_count(p), 1);
    vns_gbuf_pool_destroy(p);
    assert_int_equal(vns_galloc_avail(a), 0x100000);
    /* allocation failure sweep */
    for (long n = 1; n < 6; n++) {
        int err;

        vns_alloc_fail_at(n);
        err = vns_gbuf_pool_create(a, 100, 8, 0, &p);
        vns_alloc_fail_at(0);
        if (err == 0) {
            vns_gbuf_pool_destroy(p);
            break;
        }
        assert_int_equal(err, -VNS_ENOMEM);
    }
    vns_galloc_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_gmem_sparse_pages, teardown),
        cmocka_unit_test_teardown(test_gmem_outside_refused, teardown),
        cmocka_unit_test_teardown(test_gmem_regions, teardown),
        cmocka_unit_test_teardown(test_gmem_area, teardown),
        cmocka_unit_test_teardown(test_gmem_table, teardown),
        cmocka_unit_test_teardown(test_gmem_galloc, teardown),
        cmocka_unit_test_teardown(test_gmem_pool, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
