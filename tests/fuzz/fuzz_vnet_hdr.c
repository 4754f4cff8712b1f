/* tests/fuzz/fuzz_vnet_hdr.c -- a hostile guest's virtio_net_hdr and frame
 * bytes: virtio_net_hdr_to_skb on an skb built from them, and tun's
 * sendmsg (tun_get_user) and XDP-batch (tun_xdp_one) paths over guest
 * memory split at arbitrary points. Invariants: no crash, no read outside
 * guest memory, a CHECKSUM_PARTIAL range inside the linear data, a
 * sendmsg result of total_len or a negative errno, no skb left behind.
 *
 * Input: byte 0 = flags (bit 0: set a network header; bits 1-2: vnet
 * header size 10/12/20/10; bit 3: XDP path; bit 4: hostile synthetic
 * records on both segments, their lengths from bytes 2-5), byte 1 = split
 * point, then the header and the frame. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vnetsim/vnetsim.h"
#include "vnetsim/backend_sock.h"
#include "vnetsim/gmem.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/skb.h"
#include "vnetsim/tun.h"
#include "vnetsim/virtio_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vns_sim *sim;
static struct vns_kernel *k;
static struct vns_tun *tun;
static struct vns_gmem *mem;
static struct vns_synmap *syn;

static int sink(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev, void *arg)
{
    (void)ctx;
    (void)dev;
    (void)arg;
    vns_consume_skb(skb);
    return VNS_NET_RX_SUCCESS;
}

static void setup(void)
{
    struct vns_cpu *cpu = NULL;

    if (sim)
        return;
    if (vns_sim_create(&(struct vns_sim_config){.seed = 1}, &sim) ||
        vns_cpu_create(sim, &(struct vns_cpu_config){.name = "cpu0"}, &cpu) ||
        vns_kernel_create(sim, &(struct vns_kernel_config){.name = "host", .cpus = &cpu, .ncpus = 1}, &k) ||
        vns_tun_create(k, &(struct vns_tun_config){.vnet_hdr_sz = 12}, &tun) ||
        vns_dev_open(vns_tun_dev(tun)) || vns_gmem_create(&mem) || vns_gmem_add_region(mem, 0, 1u << 20) ||
        vns_synmap_create(16, &syn))
        abort();
    vns_dev_add_pack(k, VNS_ETH_P_IP, sink, NULL);
    vns_dev_add_pack(k, VNS_ETH_P_IPV6, sink, NULL);
}

static void fuzz_hdr_to_skb(const uint8_t *p, size_t n, bool set_nh)
{
    struct vns_virtio_net_hdr h;
    struct vns_skb *skb;
    uint32_t end;

    if (n < VNS_VIRTIO_NET_HDR_LEN)
        return;
    vns_virtio_net_hdr_decode(p, VNS_VIRTIO_NET_HDR_LEN, &h);
    p += VNS_VIRTIO_NET_HDR_LEN;
    n -= VNS_VIRTIO_NET_HDR_LEN;
    if (n > 4000)
        n = 4000;
    skb = vns_alloc_skb(k, (uint32_t)n + 64);
    if (!skb)
        abort();
    vns_skb_reserve(skb, 64);
    memcpy(vns_skb_put(skb, (uint32_t)n), p, n);
    if (set_nh && n >= 14) {
        skb->protocol = vns_get_be16(p + 12);
        skb->network_header = (uint16_t)(skb->data - skb->head + 14);
    }
    if (vns_virtio_net_hdr_to_skb(skb, &h) == 0 && skb->ip_summed == VNS_CHECKSUM_PARTIAL) {
        end = (uint32_t)skb->csum_start + skb->csum_offset + 2;
        if (skb->csum_start < vns_skb_headroom(skb) || end > vns_skb_headroom(skb) + vns_skb_headlen(skb))
            abort();
    }
    vns_kfree_skb(skb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned hdr_sz[4] = {10, 12, 20, 10};
    struct vns_socket *sock;
    struct vns_msghdr m = {.flags = VNS_MSG_DONTWAIT};
    struct vns_iov iov[2];
    size_t n, cut;
    unsigned flags;
    int ret;

    setup();
    if (size < 2)
        return 0;
    flags = data[0];
    cut = data[1];
    data += 2;
    size -= 2;
    fuzz_hdr_to_skb(data, size, flags & 1);

    n = size > 8192 ? 8192 : size;
    vns_tun_set_vnet_hdr_sz(tun, hdr_sz[(flags >> 1) & 3]);
    sock = vns_tun_socket(tun, 0);
    if (flags & 8) {
        /* vhost's batch: the header at tun_xdp_hdr.gso, the frame at 128 */
        static uint8_t page[VNS_XDP_BUF_SIZE];
        struct vns_xdp_buff xdp = {.data_hard_start = page, .data = 128};
        struct vns_tun_msg_ctl ctl = {.type = VNS_TUN_MSG_PTR, .num = 1, .ptr = &xdp};
        size_t fl = n > VNS_VIRTIO_NET_HDR_LEN ? n - VNS_VIRTIO_NET_HDR_LEN : 0;

        if (fl > VNS_XDP_BUF_SIZE - 128 - 320)
            fl = VNS_XDP_BUF_SIZE - 128 - 320;
        memset(page, 0, 128);
        memcpy(page + VNS_TUN_XDP_HDR_GSO_OFF, data, n < VNS_VIRTIO_NET_HDR_LEN ? n : VNS_VIRTIO_NET_HDR_LEN);
        if (fl)
            memcpy(page + 128, data + VNS_VIRTIO_NET_HDR_LEN, fl);
        xdp.data_end = 128 + (uint32_t)fl;
        m.control = &ctl;
        vns_iov_iter_init(&m.iter, mem, NULL, 0, 0);
        ret = sock->ops->sendmsg(NULL, sock, &m, 0);
        if (ret != 0)
            abort();
    } else {
        if (vns_gmem_copy_in(mem, 0x1000, data, n))
            abort();
        if (cut > n)
            cut = n;
        iov[0] = (struct vns_iov){0x1000, cut};
        iov[1] = (struct vns_iov){0x1000 + cut, n - cut};
        vns_iov_iter_init(&m.iter, mem, iov, 2, n);
        vns_synmap_clear(syn, 0x1000);
        vns_synmap_clear(syn, 0x1000 + cut);
        if ((flags & 16) && size >= 4) {
            vns_synmap_set(syn, 0x1000, data[0] % 64, data[1], 5, data[2]);
            vns_synmap_set(syn, 0x1000 + cut, data[2] % 32, (uint32_t)data[3] * 64, 6, data[0]);
            m.iter.syn = syn;
        }
        ret = sock->ops->sendmsg(NULL, sock, &m, n);
        if (ret >= 0 && (size_t)ret != n)
            abort();
    }
    if (vns_kernel_stats(k)->skb_live != 0 || vns_gmem_stats(mem)->faults != 0)
        abort();
    return 0;
}
