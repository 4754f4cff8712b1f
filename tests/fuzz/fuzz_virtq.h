/* tests/fuzz/fuzz_virtq.h -- libFuzzer body shared by fuzz_virtq_split.c and
 * fuzz_virtq_packed.c: a hostile guest writes arbitrary bytes into the ring
 * and the memory around it, and drives the device side (vhost's calls) and
 * the driver side (a hostile device, too) in an arbitrary order.
 *
 * Input: [num][flags] then commands until the input ends:
 *   0 write   u16 offset, u8 len, len bytes  -> guest RAM [0, 64 KiB)
 *   1 fetch   u8 iov_size                     -> vns_devq_get_vq_desc
 *   2 used    u16 id, u32 len                 -> vns_devq_add_used
 *   3 signal                                  -> vns_devq_signal
 *   4 enable  / 5 disable notify, 6 discard u8 n, 7 avail_empty
 *   8 driver add u8 shape, 9 driver get_buf, 10 driver enable_cb_delayed,
 *   11 driver kick_prepare, 12 write u64 at a ring offset (index-like)
 * Invariants (abort on violation): no access outside guest RAM
 * (faults == 0), every returned segment inside the memory table and the
 * iov array, counters consistent. Loops are bounded by construction: a
 * hang is a libFuzzer timeout, a finding. Structure after rust-vmm's
 * virtio_queue fuzz target (kernel-facts 17.4). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/devq.h"
#include "vnetsim/error.h"
#include "vnetsim/gmem.h"
#include "vnetsim/virtq.h"

#define FZ_RAM0 (1u << 20)        /* [0, 1 MiB) */
#define FZ_RAM1_AT (3u << 20)     /* [3 MiB, 4 MiB): a hole between */
#define FZ_RING 0x1000u
#define FZ_IND 0x40000u

struct fz_in {
    const uint8_t *p;
    size_t n;
};

static uint64_t fz_take(struct fz_in *in, unsigned bytes)
{
    uint64_t v = 0;

    for (unsigned k = 0; k < bytes && in->n; k++, in->p++, in->n--)
        v |= (uint64_t)in->p[0] << (8 * k);
    return v;
}

static void fz_check(bool ok)
{
    if (!ok)
        abort();
}

static int fz_run(enum vns_virtq_layout layout, const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct vns_gmem *m = NULL;
    struct vns_gmem_table *t = NULL;
    struct vns_virtq *vq = NULL;
    struct vns_devq *dq = NULL;
    struct vns_virtq_config vc;
    struct vns_devq_config dc;
    struct vns_iov iov[64];
    static int tokens[8];
    uint8_t sel = (uint8_t)fz_take(&in, 1), flags = (uint8_t)fz_take(&in, 1);
    uint32_t num = layout == VNS_VIRTQ_SPLIT ? 1u << (sel % 9) : 1u + sel % 256u;

    if (vns_gmem_create(&m) || vns_gmem_add_region(m, 0, FZ_RAM0) ||
        vns_gmem_add_region(m, FZ_RAM1_AT, 1u << 20) || vns_gmem_table_create_all(m, &t))
        abort();
    memset(&vc, 0, sizeof(vc));
    memset(&dc, 0, sizeof(dc));
    vc.layout = dc.layout = layout;
    vc.num = dc.num = num;
    if (vns_virtq_layout(layout, num, 4096, FZ_RING, &vc.addr))
        abort();
    dc.addr = vc.addr;
    vc.event_idx = dc.event_idx = flags & 1;
    dc.notify_on_empty = flags & 2;
    vc.indirect = flags & 4;
    vc.indirect_gpa = FZ_IND;
    vc.indirect_max = 4;
    if (flags & 8)
        dc.base = (uint16_t)(sel * 257u);
    if (vns_virtq_create(m, &vc, &vq) || vns_devq_create(t, &dc, &dq))
        abort();

    while (in.n > 0) {
        uint8_t cmd = (uint8_t)fz_take(&in, 1);

        switch (cmd % 13) {
        case 0: {   /* the hostile guest writes raw bytes */
            uint16_t off = (uint16_t)fz_take(&in, 2);
            uint8_t len = (uint8_t)fz_take(&in, 1);
            size_t n = len < in.n ? len : in.n;

            fz_check(vns_gmem_copy_in(m, off, in.p, n) == 0);
            in.p += n;
            in.n -= n;
            break;
        }
        case 1: {
            unsigned size = 1u + (unsigned)fz_take(&in, 1) % 64u, out_n = 99, in_n = 99;
            int head = vns_devq_get_vq_desc(dq, iov, size, &out_n, &in_n, NULL);

            if (head >= 0) {
                uint8_t buf[64];

                fz_check((uint32_t)head < num);
                fz_check(out_n + in_n <= size);
                for (unsigned k = 0; k < out_n + in_n; k++)
                    fz_check(vns_gmem_table_access_ok(t, iov[k].addr, iov[k].len));
                /* what vhost-net then does: copy from / to the segments */
                (void)vns_gmem_copy_from_iov(m, iov, out_n, buf, sizeof(buf));
                (void)vns_gmem_copy_to_iov(m, iov + out_n, in_n, buf, sizeof(buf));
            } else {
                fz_check(head == -VNS_EAGAIN || vns_devq_is_broken(dq));
            }
            break;
        }
        case 2: {
            uint16_t id = (uint16_t)fz_take(&in, 2);
            uint32_t len = (uint32_t)fz_take(&in, 4);

            (void)vns_devq_add_used(dq, id % (num + 2u), len, NULL);
            break;
        }
        case 3:
            (void)vns_devq_signal(dq, NULL);
            break;
        case 4:
            (void)vns_devq_enable_notify(dq, NULL);
            break;
        case 5:
            vns_devq_disable_notify(dq, NULL);
            break;
        case 6:
            vns_devq_discard_vq_desc(dq, (unsigned)fz_take(&in, 1) % 4u, NULL);
            break;
        case 7:
            (void)vns_devq_avail_empty(dq, NULL);
            break;
        case 8: {   /* the driver, against a device that may be hostile */
            uint8_t shape = (uint8_t)fz_take(&in, 1);
            struct vns_sg sg[6];
            unsigned total = 1u + shape % 6u, out = (shape >> 3) % (total + 1u);

            for (unsigned k = 0; k < total; k++) {
                sg[k].addr = 0x80000u + 0x100u * k;
                sg[k].len = 64u + k;
            }
            (void)vns_virtq_add_sgs(vq, sg, out, total - out, &tokens[shape % 8], NULL);
            break;
        }
        case 9: {
            uint32_t len;
            void *tok = vns_virtq_get_buf(vq, &len, NULL);

            fz_check(tok == NULL || ((int *)tok >= tokens && (int *)tok < tokens + 8));
            break;
        }
        case 10:
            (void)vns_virtq_enable_cb_delayed(vq, NULL);
            break;
        case 11:
            (void)vns_virtq_kick_prepare(vq, NULL);
            break;
        case 12: {   /* an index-like u16 at a ring part offset */
            uint8_t part = (uint8_t)fz_take(&in, 1);
            uint16_t off = (uint16_t)fz_take(&in, 2), v = (uint16_t)fz_take(&in, 2);
            uint64_t base = part % 3 == 0 ? vc.addr.desc : part % 3 == 1 ? vc.addr.avail
                                                                          : vc.addr.used;

            fz_check(vns_gmem_write_le16(m, base + off % 1024u, v) == 0 ||
                     !vns_gmem_range_ok(m, base + off % 1024u, 2));
            break;
        }
        }
        fz_check(vns_virtq_num_free(vq) <= num);
    }
    /* detach everything the device never returned */
    for (unsigned k = 0; k < num && vns_virtq_detach_unused_buf(vq); k++)
        ;
    fz_check(vns_gmem_stats(m)->faults == 0);
    vns_devq_destroy(dq);
    vns_virtq_destroy(vq);
    vns_gmem_table_destroy(t);
    vns_gmem_destroy(m);
    fz_check(vns_alloc_live() == 0);
    return 0;
}
