/* lib/net/flow_dissector.c -- skb_get_hash. LINUX: net/core/
 * flow_dissector.c (__skb_get_hash: the flow dissector's hash of
 * addresses, protocol and ports, cached in skb->hash). Used by fq_codel's
 * flow classification and by multiqueue devices to pick a queue
 * (skb_tx_hash; tun's automatic queue selection). */
#include "vnetsim/proto/if_ether.h"
#include "vnetsim/proto/ip.h"
#include "vnetsim/rng.h"
#include "vnetsim/skb.h"

/* skb_get_hash: the flow dissector's hash of the IPv4 4-tuple (kept in
 * skb->hash, as the kernel caches it). */
uint32_t vns_skb_get_hash(struct vns_skb *skb)
{
    uint8_t h[40];
    uint64_t z;
    uint32_t off;

    if (skb->hash)
        return skb->hash;
    z = skb->protocol;
    if (skb->protocol == VNS_ETH_P_IP && skb->network_header != VNS_SKB_NO_HDR) {
        off = (uint32_t)vns_skb_network_offset(skb);
        if (vns_skb_copy_bits(skb, off, h, 20) == 0) {
            unsigned ihl = (h[0] & 0xfu) * 4u;

            z = vns_get_be32(h + 12) ^ ((uint64_t)vns_get_be32(h + 16) << 32) ^ ((uint64_t)h[9] << 56);
            if ((h[9] == VNS_IPPROTO_TCP || h[9] == VNS_IPPROTO_UDP) && ihl >= 20 &&
                vns_skb_copy_bits(skb, off + ihl, h + 20, 4) == 0)
                z = vns_mix64(z) ^ vns_get_be32(h + 20);
        }
    }
    skb->hash = (uint32_t)vns_mix64(z);
    if (!skb->hash)
        skb->hash = 1;   /* 0 means "not computed" */
    return skb->hash;
}
