/* tests/virtio/test_devq.c -- the device side against a hostile guest: one
 * test per vhost check (kernel-facts 7.3, 7.4) asserting vhost's errno, the
 * check's own reason and counter, a broken queue, no used ring write and
 * no access outside guest memory; plus what vhost deliberately does NOT
 * check. The guest here is raw bytes written straight into guest memory. */
#include "virtio/vq_fixture.h"

#define OUTSIDE ((uint64_t)VQF_RAM + 0x1000u)   /* first page past guest RAM */
#define BUF VQF_BUF_GPA
#define TABLE 0x300000u
#define W VNS_VRING_DESC_F_WRITE
#define N VNS_VRING_DESC_F_NEXT
#define I VNS_VRING_DESC_F_INDIRECT

static struct vns_iov iov[64];
static unsigned out_n, in_n;

static int setup_split(void **s)
{
    *s = vqf_new_ex(VNS_VIRTQ_SPLIT, 8, false, false, false);
    return 0;
}

static int setup_packed(void **s)
{
    *s = vqf_new_ex(VNS_VIRTQ_PACKED, 8, false, false, false);
    return 0;
}

static int teardown(void **s)
{
    vqf_free(*s);
    assert_no_leaks();
    return 0;
}

static int fetch(struct vqf *f)
{
    return vns_devq_get_vq_desc(f->dq, iov, 64, &out_n, &in_n, NULL);
}

/* The fetch failed with @err for reason @why, the queue is broken, the
 * check was counted once, nothing was used, nothing outside RAM touched,
 * and later calls refuse with -EIO. */
static void expect_broken(struct vqf *f, int ret, int err, enum vns_devq_err why)
{
    const struct vns_devq_stats *st = vns_devq_stats(f->dq);

    assert_int_equal(ret, err);
    assert_int_equal(vns_devq_last_err(f->dq), why);
    assert_string_equal(vns_devq_err_name(vns_devq_last_err(f->dq)), vns_devq_err_name(why));
    assert_true(vns_devq_is_broken(f->dq));
    assert_int_equal(st->errors[why], 1);
    assert_int_equal(st->heads, 0);
    assert_int_equal(st->used, 0);
    assert_int_equal(vns_gmem_stats(f->mem)->faults, 0);
    if (f->layout == VNS_VIRTQ_SPLIT)
        assert_int_equal(vns_gmem_read_le16(f->mem, f->addr.used + VNS_VRING_USED_IDX), 0);
    assert_int_equal(fetch(f), -VNS_EIO);
}

/* A chain the same on both layouts. */
static void chain(struct vqf *f, unsigned n, const uint64_t *a, const uint32_t *l,
                  const uint16_t *fl)
{
    hg_chain(f, n, a, l, fl);
}

/* --- checks of vhost_get_vq_desc ------------------------------------------ */

/* avail->idx more than num ahead of last_avail_idx: -EFAULT "Guest moved
 * used index" (linux-6.6). */
static void test_devq_avail_idx_moved_too_far(void **s)
{
    struct vqf *f = *s;

    hg_desc(f, 0, BUF, 64, 0, 0);
    hg_avail(f, 0, 0, (uint16_t)(f->num + 1));
    expect_broken(f, fetch(f), -VNS_EFAULT, VNS_DEVQ_ERR_AVAIL_IDX);
}

/* avail->idx exactly num ahead is fine (a full ring). */
static void test_devq_avail_idx_full_ring_ok(void **s)
{
    struct vqf *f = *s;

    for (uint16_t i = 0; i < f->num; i++) {
        hg_desc(f, i, BUF + 64u * i, 64, 0, 0);
        hg_avail(f, i, i, (uint16_t)f->num);
    }
    for (uint16_t i = 0; i < f->num; i++)
        assert_int_equal(fetch(f), i);
    assert_int_equal(fetch(f), -VNS_EAGAIN);
    assert_false(vns_devq_is_broken(f->dq));
}

/* Head index >= num: -EINVAL "Guest says index %u > %u is available". */
static void test_devq_head_out_of_range(void **s)
{
    struct vqf *f = *s;

    hg_avail(f, 0, (uint16_t)f->num, 1);
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_HEAD);
}

/* NEXT index >= num: -EINVAL "Desc index is %u > %u". */
static void test_devq_next_out_of_range(void **s)
{
    struct vqf *f = *s;

    hg_desc(f, 0, BUF, 64, N, (uint16_t)f->num);
    hg_avail(f, 0, 0, 1);
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_DESC_INDEX);
}

/* A NEXT loop 0 -> 1 -> 0: -EINVAL "Loop detected" after num descriptors. */
static void test_devq_chain_loop(void **s)
{
    struct vqf *f = *s;

    hg_desc(f, 0, BUF, 64, N, 1);
    hg_desc(f, 1, BUF, 64, N, 0);
    hg_avail(f, 0, 0, 1);
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_LOOP);
    assert_int_equal(vns_devq_stats(f->dq)->descs, f->num);   /* bounded walk */
}

/* Packed: a chain that never ends goes round the ring: loop after num. */
static void test_devq_packed_chain_loop(void **s)
{
    struct vqf *f = *s;

    for (uint32_t k = 0; k < f->num; k++)
        hg_pdesc_at(f, 0, k, BUF, 64, 0, (uint16_t)(N | HG_PK_AVAIL1));
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_LOOP);
}

/* A buffer outside guest memory: -EFAULT "Translation failure". */
static void test_devq_addr_outside_memory(void **s)
{
    struct vqf *f = *s;
    uint64_t a[1] = {OUTSIDE};
    uint32_t l[1] = {64};
    uint16_t fl[1] = {0};

    chain(f, 1, a, l, fl);
    expect_broken(f, fetch(f), -VNS_EFAULT, VNS_DEVQ_ERR_TRANSLATE);
}

/* A buffer that starts inside RAM and runs past its end. */
static void test_devq_len_past_memory(void **s)
{
    struct vqf *f = *s;
    uint64_t a[1] = {VQF_RAM - 16};
    uint32_t l[1] = {32};
    uint16_t fl[1] = {W};

    chain(f, 1, a, l, fl);
    expect_broken(f, fetch(f), -VNS_EFAULT, VNS_DEVQ_ERR_TRANSLATE);
}

/* addr + len wraps the 64-bit address space. */
static void test_devq_addr_wraps(void **s)
{
    struct vqf *f = *s;
    uint64_t a[1] = {UINT64_MAX - 15};
    uint32_t l[1] = {64};
    uint16_t fl[1] = {0};

    chain(f, 1, a, l, fl);
    expect_broken(f, fetch(f), -VNS_EFAULT, VNS_DEVQ_ERR_TRANSLATE);
}

/* More segments than the caller's iov array: -ENOBUFS. */
static void test_devq_iov_full(void **s)
{
    struct vqf *f = *s;
    uint64_t a[3] = {BUF, BUF + 64, BUF + 128};
    uint32_t l[3] = {64, 64, 64};
    uint16_t fl[3] = {N, N, 0};

    chain(f, 3, a, l, fl);
    assert_int_equal(vns_devq_get_vq_desc(f->dq, iov, 2, &out_n, &in_n, NULL), -VNS_ENOBUFS);
    assert_int_equal(vns_devq_last_err(f->dq), VNS_DEVQ_ERR_TRANSLATE);
    assert_true(vns_devq_is_broken(f->dq));
}

/* A device-readable descriptor after a device-writable one: -EINVAL. */
static void test_devq_out_after_in(void **s)
{
    struct vqf *f = *s;
    uint64_t a[2] = {BUF, BUF + 64};
    uint32_t l[2] = {64, 64};
    uint16_t fl[2] = {W | N, 0};

    chain(f, 2, a, l, fl);
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_OUT_AFTER_IN);
}

/* --- checks of get_indirect ------------------------------------------------ */

static void indirect_head(struct vqf *f, uint64_t table, uint32_t len)
{
    uint64_t a[1] = {table};
    uint32_t l[1] = {len};
    uint16_t fl[1] = {I};

    chain(f, 1, a, l, fl);
}

/* Table entry @i, split or packed form. */
static void ind_entry(struct vqf *f, uint32_t i, uint64_t addr, uint32_t len, uint16_t flags,
                      uint16_t next)
{
    if (f->layout == VNS_VIRTQ_SPLIT)
        hg_desc_at(f, TABLE, i, addr, len, flags, next);
    else
        hg_pdesc_at(f, TABLE, i, addr, len, 0, (uint16_t)(flags & ~N));
}

/* Table length not a multiple of 16. */
static void test_devq_indirect_len_not_multiple(void **s)
{
    struct vqf *f = *s;

    indirect_head(f, TABLE, 24);
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_INDIRECT_LEN);
}

/* Table length zero: vhost's loop check fires at once (found 1 > count 0). */
static void test_devq_indirect_len_zero(void **s)
{
    struct vqf *f = *s;

    indirect_head(f, TABLE, 0);
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_INDIRECT_EMPTY);
}

/* Table outside guest memory: translate_desc's -EFAULT. */
static void test_devq_indirect_table_outside(void **s)
{
    struct vqf *f = *s;

    indirect_head(f, OUTSIDE, 32);
    expect_broken(f, fetch(f), -VNS_EFAULT, VNS_DEVQ_ERR_INDIRECT_TRANSLATE);
}

/* More than 65536 entries: -E2BIG (after the table was translated). */
static void test_devq_indirect_too_big(void **s)
{
    struct vqf *f = *s;

    indirect_head(f, 0x100000, (65536u + 1u) * 16u);
    expect_broken(f, fetch(f), -VNS_E2BIG, VNS_DEVQ_ERR_INDIRECT_TOO_BIG);
}

/* Split: NEXT set on the table's last entry: "Loop detected" (vhost reads
 * the table sequentially, so it runs off its end). */
static void test_devq_indirect_next_past_end(void **s)
{
    struct vqf *f = *s;

    ind_entry(f, 0, BUF, 64, N, 1);
    ind_entry(f, 1, BUF + 64, 64, N, 0);
    indirect_head(f, TABLE, 32);
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_INDIRECT_LOOP);
}

/* An indirect descriptor inside an indirect table. */
static void test_devq_indirect_nested(void **s)
{
    struct vqf *f = *s;

    ind_entry(f, 0, BUF, 64, N, 1);
    ind_entry(f, 1, TABLE, 32, I, 0);
    indirect_head(f, TABLE, 32);
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_INDIRECT_NESTED);
}

/* A table entry pointing outside guest memory. */
static void test_devq_indirect_entry_outside(void **s)
{
    struct vqf *f = *s;

    ind_entry(f, 0, BUF, 64, N, 1);
    ind_entry(f, 1, OUTSIDE, 64, W, 0);
    indirect_head(f, TABLE, 32);
    expect_broken(f, fetch(f), -VNS_EFAULT, VNS_DEVQ_ERR_INDIRECT_DESC_TRANSLATE);
}

/* Out after in inside a table. */
static void test_devq_indirect_out_after_in(void **s)
{
    struct vqf *f = *s;

    ind_entry(f, 0, BUF, 64, W | N, 1);
    ind_entry(f, 1, BUF + 64, 64, 0, 0);
    indirect_head(f, TABLE, 32);
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_INDIRECT_OUT_AFTER_IN);
}

/* --- packed-only checks ----------------------------------------------------- */

/* Buffer id >= num. */
static void test_devq_packed_id_out_of_range(void **s)
{
    struct vqf *f = *s;

    hg_pdesc_at(f, 0, 0, BUF, 64, (uint16_t)f->num, HG_PK_AVAIL1);
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_PACKED_ID);
}

/* A chained descriptor whose AVAIL/USED bits say "used" (or the previous
 * lap) while the head says "available". */
static void test_devq_packed_wrap_inconsistent(void **s)
{
    struct vqf *f = *s;

    hg_pdesc_at(f, 0, 1, BUF + 64, 64, 0,
                (uint16_t)(VNS_VRING_PACKED_F_AVAIL_MASK | VNS_VRING_PACKED_F_USED_MASK));
    hg_pdesc_at(f, 0, 0, BUF, 64, 0, (uint16_t)(N | HG_PK_AVAIL1));
    expect_broken(f, fetch(f), -VNS_EINVAL, VNS_DEVQ_ERR_PACKED_WRAP);
}

/* Packed: a head that is not available for the device's wrap counter is
 * "empty", not an error (a used or stale descriptor). */
static void test_devq_packed_stale_head_is_empty(void **s)
{
    struct vqf *f = *s;

    hg_pdesc_at(f, 0, 0, BUF, 64, 0,
                (uint16_t)(VNS_VRING_PACKED_F_AVAIL_MASK | VNS_VRING_PACKED_F_USED_MASK));
    assert_int_equal(fetch(f), -VNS_EAGAIN);
    assert_false(vns_devq_is_broken(f->dq));
}

/* --- what vhost does NOT check ---------------------------------------------- */

/* The next fields of indirect entries are ignored: entries are read in
 * order however next points (vhost's iov_iter). */
static void test_devq_indirect_next_field_ignored(void **s)
{
    struct vqf *f = *s;

    ind_entry(f, 0, BUF, 10, N, 77);
    ind_entry(f, 1, BUF + 100, 20, N, 3);
    ind_entry(f, 2, BUF + 200, 30, W, 0xffff);
    indirect_head(f, TABLE, 48);
    assert_int_equal(fetch(f), 0);
    assert_int_equal(out_n, 2);
    assert_int_equal(in_n, 1);
    assert_int_equal(iov[0].addr, BUF);
    assert_int_equal(iov[1].addr, BUF + 100);
    assert_int_equal(iov[2].addr, BUF + 200);
    assert_int_equal(iov[2].len, 30);
}

/* A split table longer than its NEXT chain is simply not fully read. */
static void test_devq_indirect_table_longer_than_chain(void **s)
{
    struct vqf *f = *s;

    ind_entry(f, 0, BUF, 10, 0, 0);
    ind_entry(f, 1, OUTSIDE, 10, 0, 0);   /* never read */
    indirect_head(f, TABLE, 32);
    assert_int_equal(fetch(f), 0);
    assert_int_equal(out_n, 1);
}

/* An indirect table is not bounded by the ring size. */
static void test_devq_indirect_longer_than_ring(void **s)
{
    struct vqf *f = *s;
    unsigned n = 40;   /* ring has 8 entries */

    for (unsigned k = 0; k < n; k++)
        ind_entry(f, k, BUF + 16u * k, 16, (uint16_t)(k + 1 < n ? N : 0), (uint16_t)(k + 1));
    indirect_head(f, TABLE, 16u * n);
    assert_int_equal(vns_devq_get_vq_desc(f->dq, iov, 64, &out_n, &in_n, NULL), 0);
    assert_int_equal(out_n, n);
}

/* A zero-length device-writable descriptor adds no segment, so an out
 * descriptor after it is accepted (vhost counts segments). */
static void test_devq_zero_len_in_then_out_accepted(void **s)
{
    struct vqf *f = *s;
    uint64_t a[2] = {BUF, BUF + 64};
    uint32_t l[2] = {0, 64};
    uint16_t fl[2] = {W | N, 0};

    chain(f, 2, a, l, fl);
    assert_int_equal(fetch(f), 0);
    assert_int_equal(out_n, 1);
    assert_int_equal(in_n, 0);
}

/* INDIRECT together with NEXT: vhost continues with the outer chain. */
static void test_devq_split_indirect_with_next(void **s)
{
    struct vqf *f = *s;

    ind_entry(f, 0, BUF, 10, 0, 0);
    hg_desc(f, 0, TABLE, 16, I | N, 1);
    hg_desc(f, 1, BUF + 64, 20, W, 0);
    hg_avail(f, 0, 0, 1);
    assert_int_equal(fetch(f), 0);
    assert_int_equal(out_n, 1);
    assert_int_equal(in_n, 1);
}

/* Translation splits a buffer at a region boundary into two segments. */
static void test_devq_buffer_spans_regions(void **s)
{
    struct vns_gmem *m;
    struct vns_gmem_table *t;
    struct vns_iov v[4];

    (void)s;
    assert_int_equal(vns_gmem_create(&m), 0);
    assert_int_equal(vns_gmem_add_region(m, 0, 0x10000), 0);
    assert_int_equal(vns_gmem_add_region(m, 0x10000, 0x10000), 0);
    assert_int_equal(vns_gmem_table_create_all(m, &t), 0);
    assert_int_equal(vns_gmem_table_translate(t, 0xff00, 0x200, v, 4), 2);
    assert_int_equal(v[0].addr, 0xff00);
    assert_int_equal(v[0].len, 0x100);
    assert_int_equal(v[1].addr, 0x10000);
    assert_int_equal(v[1].len, 0x100);
    assert_int_equal(vns_gmem_table_translate(t, 0xff00, 0x200, v, 1), -VNS_ENOBUFS);
    assert_int_equal(vns_gmem_table_translate(t, 0x1ff00, 0x200, v, 4), -VNS_EFAULT);
    vns_gmem_table_destroy(t);
    vns_gmem_destroy(m);
}

/* VHOST_SET_VRING_* checks: desc alignment is not checked, avail/used are;
 * ring parts outside the table are refused. */
static void test_devq_create_checks(void **s)
{
    struct vqf *f = *s;
    struct vns_devq_config c = {.layout = VNS_VIRTQ_SPLIT, .num = 8};
    struct vns_devq *dq = NULL;

    vns_virtq_layout(VNS_VIRTQ_SPLIT, 8, 4096, 0x20000, &c.addr);
    c.addr.desc += 8;   /* misaligned desc table: accepted */
    assert_int_equal(vns_devq_create(f->table, &c, &dq), 0);
    vns_devq_destroy(dq);
    c.addr.avail += 1;
    assert_int_equal(vns_devq_create(f->table, &c, &dq), -VNS_EINVAL);
    c.addr.avail -= 1;
    c.addr.used += 2;
    assert_int_equal(vns_devq_create(f->table, &c, &dq), -VNS_EINVAL);
    c.addr.used -= 2;
    c.num = 6;
    assert_int_equal(vns_devq_create(f->table, &c, &dq), -VNS_EINVAL);
    c.num = 0;
    assert_int_equal(vns_devq_create(f->table, &c, &dq), -VNS_EINVAL);
    c.num = 8;
    c.addr.used = VQF_RAM - 8;
    assert_int_equal(vns_devq_create(f->table, &c, &dq), -VNS_EFAULT);
    c.layout = VNS_VIRTQ_PACKED;
    c.num = 6;   /* packed sizes need not be powers of two */
    c.addr.used = 0x30000;
    assert_int_equal(vns_devq_create(f->table, &c, &dq), 0);
    vns_devq_destroy(dq);
    /* allocation failure sweep: every unwind path frees what it took */
    c.layout = VNS_VIRTQ_PACKED;
    for (long n = 1; n < 10; n++) {
        vns_alloc_fail_at(n);
        int err = vns_devq_create(f->table, &c, &dq);

        vns_alloc_fail_at(0);
        if (err == 0) {
            vns_devq_destroy(dq);
            break;
        }
        assert_int_equal(err, -VNS_ENOMEM);
    }
}

/* A misaligned desc table straddles pages: still read correctly. */
static void test_devq_misaligned_desc_table(void **s)
{
    struct vqf *f = *s;
    struct vns_devq_config c = {.layout = VNS_VIRTQ_SPLIT, .num = 8};
    struct vns_devq *dq = NULL;

    c.addr.desc = 0x20ff8;   /* descriptor 0 crosses a page boundary */
    c.addr.avail = 0x22000;
    c.addr.used = 0x23000;
    assert_int_equal(vns_devq_create(f->table, &c, &dq), 0);
    assert_int_equal(vns_gmem_write_le64(f->mem, 0x20ff8, BUF), 0);
    assert_int_equal(vns_gmem_write_le32(f->mem, 0x21000, 77), 0);
    assert_int_equal(vns_gmem_write_le16(f->mem, 0x22000 + VNS_VRING_AVAIL_IDX, 1), 0);
    assert_int_equal(vns_devq_get_vq_desc(dq, iov, 64, &out_n, &in_n, NULL), 0);
    assert_int_equal(iov[0].addr, BUF);
    assert_int_equal(iov[0].len, 77);
    vns_devq_destroy(dq);
}

#define SPLIT(t) {#t "[split]", t, setup_split, teardown, NULL}
#define PACKED(t) {#t "[packed]", t, setup_packed, teardown, NULL}
#define BOTH(t) SPLIT(t), PACKED(t)

int main(void)
{
    const struct CMUnitTest tests[] = {
        SPLIT(test_devq_avail_idx_moved_too_far),
        SPLIT(test_devq_avail_idx_full_ring_ok),
        SPLIT(test_devq_head_out_of_range),
        SPLIT(test_devq_next_out_of_range),
        SPLIT(test_devq_chain_loop),
        PACKED(test_devq_packed_chain_loop),
        BOTH(test_devq_addr_outside_memory),
        BOTH(test_devq_len_past_memory),
        BOTH(test_devq_addr_wraps),
        BOTH(test_devq_iov_full),
        BOTH(test_devq_out_after_in),
        BOTH(test_devq_indirect_len_not_multiple),
        BOTH(test_devq_indirect_len_zero),
        BOTH(test_devq_indirect_table_outside),
        BOTH(test_devq_indirect_too_big),
        SPLIT(test_devq_indirect_next_past_end),
        BOTH(test_devq_indirect_nested),
        BOTH(test_devq_indirect_entry_outside),
        BOTH(test_devq_indirect_out_after_in),
        PACKED(test_devq_packed_id_out_of_range),
        PACKED(test_devq_packed_wrap_inconsistent),
        PACKED(test_devq_packed_stale_head_is_empty),
        BOTH(test_devq_indirect_next_field_ignored),
        SPLIT(test_devq_indirect_table_longer_than_chain),
        BOTH(test_devq_indirect_longer_than_ring),
        BOTH(test_devq_zero_len_in_then_out_accepted),
        SPLIT(test_devq_split_indirect_with_next),
        SPLIT(test_devq_buffer_spans_regions),
        SPLIT(test_devq_create_checks),
        SPLIT(test_devq_misaligned_desc_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
