/* lib/dev/virtio_net_hdr.c -- the virtio_net_hdr codec and its validation.
 * LINUX: include/linux/virtio_net.h (virtio_net_hdr_to_skb,
 * virtio_net_hdr_from_skb) and net/core/skbuff.c (skb_partial_csum_set)
 * of linux-5.4. The header comes from an untrusted guest (tun/tap TX) or an
 * untrusted host (the guest's receive_buf): every field is checked as 5.4
 * checks it, and no more.
 *
 * LINUX: 5.4's checks only. Later kernels (5.7-6.x, syzbot-driven) also
 * require the transport header to be pullable with NEEDS_CSUM, the GSO
 * type to match the dissected protocol and gso_size to fit the payload;
 * a 5.4 host accepts those packets and lets GSO or the stack drop them. */
#include <string.h>

#include "vnetsim/backend_sock.h"
#include "vnetsim/gmem.h"
#include "vnetsim/error.h"
#include "vnetsim/skb.h"
#include "vnetsim/virtio_net.h"
#include "vnetsim/proto/if_ether.h"

void vns_virtio_net_hdr_decode(const uint8_t *p, unsigned len, struct vns_virtio_net_hdr *h)
{
    h->flags = p[0];
    h->gso_type = p[1];
    h->hdr_len = vns_le16_load(p + 2);
    h->gso_size = vns_le16_load(p + 4);
    h->csum_start = vns_le16_load(p + 6);
    h->csum_offset = vns_le16_load(p + 8);
    h->num_buffers = len >= VNS_VIRTIO_NET_HDR_MRG_LEN ? vns_le16_load(p + 10) : 0;
}

void vns_virtio_net_hdr_encode(const struct vns_virtio_net_hdr *h, uint8_t *p, unsigned len)
{
    p[0] = h->flags;
    p[1] = h->gso_type;
    vns_le16_store(p + 2, h->hdr_len);
    vns_le16_store(p + 4, h->gso_size);
    vns_le16_store(p + 6, h->csum_start);
    vns_le16_store(p + 8, h->csum_offset);
    if (len >= VNS_VIRTIO_NET_HDR_MRG_LEN)
        vns_le16_store(p + 10, h->num_buffers);
}

/* skb_partial_csum_set (5.4). */
static bool skb_partial_csum_set(struct vns_skb *skb, uint16_t start, uint16_t off)
{
    uint32_t csum_end = (uint32_t)start + off + 2u;
    uint32_t csum_start = vns_skb_headroom(skb) + start;

    if (csum_start > 0xFFFFu || csum_end > vns_skb_headlen(skb))
        return false;   /* "bad partial csum: csum=%u/%u headroom=%u headlen=%u" */
    skb->ip_summed = VNS_CHECKSUM_PARTIAL;
    skb->csum_start = (uint16_t)csum_start;
    skb->csum_offset = off;
    skb->transport_header = (uint16_t)csum_start;
    return true;
}

/* skb_probe_transport_header: the flow dissector finds the L4 offset of an
 * IPv4 or IPv6 packet whose network header is set; nothing is set if it
 * cannot (then the GSO packet is refused). */
static void skb_probe_transport_header(struct vns_skb *skb)
{
    const uint8_t *nh;
    uint32_t noff, headlen = vns_skb_headlen(skb);
    uint32_t ihl;

    if (skb->transport_header != VNS_SKB_NO_HDR)
        return;
    noff = (uint32_t)skb->network_header;
    if (noff < vns_skb_headroom(skb) || noff - vns_skb_headroom(skb) + 1 > headlen)
        return;
    nh = skb->head + noff;
    if (skb->protocol == VNS_ETH_P_IP && (nh[0] >> 4) == 4) {
        ihl = (uint32_t)(nh[0] & 15) * 4;
        if (ihl >= 20 && noff - vns_skb_headroom(skb) + ihl <= headlen)
            skb->transport_header = (uint16_t)(noff + ihl);
    } else if (skb->protocol == VNS_ETH_P_IPV6 && (nh[0] >> 4) == 6) {
        if (noff - vns_skb_headroom(skb) + 40 <= headlen)
            skb->transport_header = (uint16_t)(noff + 40);
    }
}

int vns_virtio_net_hdr_to_skb(struct vns_skb *skb, const struct vns_virtio_net_hdr *h)
{
    uint32_t gso_type = 0;

    if (h->gso_type != VNS_VIRTIO_NET_HDR_GSO_NONE) {
        switch (h->gso_type & ~VNS_VIRTIO_NET_HDR_GSO_ECN) {
        case VNS_VIRTIO_NET_HDR_GSO_TCPV4:
            gso_type = VNS_SKB_GSO_TCPV4;
            break;
        case VNS_VIRTIO_NET_HDR_GSO_TCPV6:
            gso_type = VNS_SKB_GSO_TCPV6;
            break;
        case VNS_VIRTIO_NET_HDR_GSO_UDP:
            gso_type = VNS_SKB_GSO_UDP;
            break;
        default:
            return -VNS_EINVAL;
        }
        if (h->gso_type & VNS_VIRTIO_NET_HDR_GSO_ECN)
            gso_type |= VNS_SKB_GSO_TCP_ECN;
        if (h->gso_size == 0)
            return -VNS_EINVAL;
    }
    if (h->flags & VNS_VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (!skb_partial_csum_set(skb, h->csum_start, h->csum_offset))
            return -VNS_EINVAL;
    } else if (gso_type && skb->network_header != VNS_SKB_NO_HDR && skb->network_header != 0) {
        /* gso packets without NEEDS_CSUM do not set transport_offset:
         * probe and drop if it does not match (virtio_net_hdr_set_proto
         * when no protocol is known yet). */
        if (!skb->protocol)
            skb->protocol = (gso_type & VNS_SKB_GSO_TCPV6) ? VNS_ETH_P_IPV6 : VNS_ETH_P_IP;
        skb_probe_transport_header(skb);
        if (skb->transport_header == VNS_SKB_NO_HDR) {
            /* UFO does not specify ipv4 or 6: try both */
            if ((gso_type & VNS_SKB_GSO_UDP) && skb->protocol == VNS_ETH_P_IP) {
                skb->protocol = VNS_ETH_P_IPV6;
                skb_probe_transport_header(skb);
            }
            if (skb->transport_header == VNS_SKB_NO_HDR)
                return -VNS_EINVAL;
        }
    }
    if (h->gso_type != VNS_VIRTIO_NET_HDR_GSO_NONE) {
        skb->gso_size = h->gso_size;
        /* Header must be checked, and gso_segs computed. */
        skb->gso_type = gso_type | VNS_SKB_GSO_DODGY;
        skb->gso_segs = 0;
    }
    return 0;
}

int vns_virtio_net_hdr_from_skb(const struct vns_skb *skb, struct vns_virtio_net_hdr *h,
                                bool has_data_valid, int vlan_hlen)
{
    memset(h, 0, sizeof(*h));   /* no info leak */
    if (vns_skb_is_gso(skb)) {
        /* This is a hint as to how much should be linear. */
        h->hdr_len = (uint16_t)vns_skb_headlen(skb);
        h->gso_size = skb->gso_size;
        if (skb->gso_type & VNS_SKB_GSO_TCPV4)
            h->gso_type = VNS_VIRTIO_NET_HDR_GSO_TCPV4;
        else if (skb->gso_type & VNS_SKB_GSO_TCPV6)
            h->gso_type = VNS_VIRTIO_NET_HDR_GSO_TCPV6;
        else
            return -VNS_EINVAL;
        if (skb->gso_type & VNS_SKB_GSO_TCP_ECN)
            h->gso_type |= VNS_VIRTIO_NET_HDR_GSO_ECN;
    } else {
        h->gso_type = VNS_VIRTIO_NET_HDR_GSO_NONE;
    }
    if (skb->ip_summed == VNS_CHECKSUM_PARTIAL) {
        h->flags = VNS_VIRTIO_NET_HDR_F_NEEDS_CSUM;
        /* skb_checksum_start_offset + vlan_hlen */
        h->csum_start = (uint16_t)((int)skb->csum_start - (int)vns_skb_headroom(skb) + vlan_hlen);
        h->csum_offset = skb->csum_offset;
    } else if (has_data_valid && skb->ip_summed == VNS_CHECKSUM_UNNECESSARY) {
        h->flags = VNS_VIRTIO_NET_HDR_F_DATA_VALID;
    }
    return 0;
}

int vns_virtio_net_put_user(struct vns_ctx *ctx, const struct vns_skb *skb, unsigned vnet_hdr_sz,
                            struct vns_iov_iter *iter)
{
    uint32_t n;

    if (vnet_hdr_sz) {
        struct vns_virtio_net_hdr gso;
        uint8_t hb[VNS_VIRTIO_NET_HDR_LEN];

        if (vns_iov_iter_count(iter) < vnet_hdr_sz)
            return -VNS_EINVAL;
        /* tun: "unexpected GSO type" -EINVAL; tap: BUG() */
        if (vns_virtio_net_hdr_from_skb(skb, &gso, true, 0))
            return -VNS_EINVAL;
        vns_virtio_net_hdr_encode(&gso, hb, sizeof(hb));
        if (vns_copy_to_iter(ctx, iter, hb, sizeof(hb)) != sizeof(hb))
            return -VNS_EFAULT;
        vns_iov_iter_advance(iter, vnet_hdr_sz - sizeof(hb));
    }
    n = skb->len < vns_iov_iter_count(iter) ? skb->len : (uint32_t)vns_iov_iter_count(iter);
    vns_skb_copy_datagram_iter(ctx, skb, 0, iter, n);
    return (int)(vnet_hdr_sz + skb->len);
}

/* --- feature negotiation (drivers/net/virtio_net.c features[], 5.4) -------- */

uint64_t vns_virtnet_driver_features(void)
{
    static const unsigned bits[] = {
        VNS_VIRTIO_NET_F_CSUM, VNS_VIRTIO_NET_F_GUEST_CSUM, VNS_VIRTIO_NET_F_MAC, VNS_VIRTIO_NET_F_HOST_TSO4,
        VNS_VIRTIO_NET_F_HOST_UFO, VNS_VIRTIO_NET_F_HOST_TSO6, VNS_VIRTIO_NET_F_HOST_ECN,
        VNS_VIRTIO_NET_F_GUEST_TSO4, VNS_VIRTIO_NET_F_GUEST_TSO6, VNS_VIRTIO_NET_F_GUEST_ECN,
        VNS_VIRTIO_NET_F_GUEST_UFO, VNS_VIRTIO_NET_F_MRG_RXBUF, VNS_VIRTIO_NET_F_STATUS,
        VNS_VIRTIO_NET_F_CTRL_VQ, VNS_VIRTIO_NET_F_CTRL_RX, VNS_VIRTIO_NET_F_CTRL_VLAN,
        VNS_VIRTIO_NET_F_GUEST_ANNOUNCE, VNS_VIRTIO_NET_F_MQ, VNS_VIRTIO_NET_F_CTRL_MAC_ADDR,
        VNS_VIRTIO_NET_F_MTU, VNS_VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, VNS_VIRTIO_NET_F_SPEED_DUPLEX,
        VNS_VIRTIO_NET_F_STANDBY,
        /* virtio_ring / virtio core (vring_transport_features) */
        VNS_VIRTIO_RING_F_INDIRECT_DESC, VNS_VIRTIO_RING_F_EVENT_IDX, VNS_VIRTIO_F_VERSION_1,
        VNS_VIRTIO_F_RING_PACKED,
    };
    uint64_t f = 0;

    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        f |= VNS_VIRTIO_BIT(bits[i]);
    return f;
}

uint64_t vns_virtnet_negotiate(uint64_t device_features)
{
    uint64_t f = device_features & vns_virtnet_driver_features();
    const uint64_t guest_gso = VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_TSO4) | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_TSO6) |
                               VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_ECN) | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_UFO);
    const uint64_t host_gso = VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_HOST_TSO4) | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_HOST_TSO6) |
                              VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_HOST_ECN) | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_HOST_UFO);
    const uint64_t ctrl = VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_CTRL_RX) | VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_CTRL_VLAN) |
                          VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_ANNOUNCE) |
                          VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_CTRL_MAC_ADDR) |
                          VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);

    if (!vns_virtio_has(f, VNS_VIRTIO_NET_F_GUEST_CSUM))
        f &= ~guest_gso;
    if (!vns_virtio_has(f, VNS_VIRTIO_NET_F_CSUM))
        f &= ~host_gso;
    if (!vns_virtio_has(f, VNS_VIRTIO_NET_F_GUEST_TSO4) && !vns_virtio_has(f, VNS_VIRTIO_NET_F_GUEST_TSO6))
        f &= ~VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_GUEST_ECN);
    if (!vns_virtio_has(f, VNS_VIRTIO_NET_F_HOST_TSO4) && !vns_virtio_has(f, VNS_VIRTIO_NET_F_HOST_TSO6))
        f &= ~VNS_VIRTIO_BIT(VNS_VIRTIO_NET_F_HOST_ECN);
    if (!vns_virtio_has(f, VNS_VIRTIO_NET_F_CTRL_VQ))
        f &= ~ctrl;
    return f;
}
