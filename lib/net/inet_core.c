/* lib/net/inet_core.c -- the IPv4 family of one kernel instance: creation
 * with the kernel's sysctl defaults, packet handler registration
 * (inet_init: dev_add_pack(ip_packet_type), arp_init), counters.
 * LINUX: net/ipv4/af_inet.c, net/ipv4/sysctl_net_ipv4.c, tcp_ipv4.c
 * (tcp_sk_init), tcp.c (tcp_init). */
#include <string.h>

#include "inet_int.h"

static void inet_config_defaults(struct vns_inet_config *c)
{
    if (!c->ip_default_ttl)
        c->ip_default_ttl = 64; /* IPDEFTTL */
    if (!c->tcp_wmem[0]) {
        c->tcp_wmem[0] = 4096; /* tcp_init: SK_MEM_QUANTUM */
        c->tcp_wmem[1] = 16384;
        c->tcp_wmem[2] = 4194304; /* 4 MiB */
    }
    if (!c->tcp_rmem[0]) {
        c->tcp_rmem[0] = 4096;
        c->tcp_rmem[1] = 131072;  /* 5.4: 131072 (tcp_init) */
        c->tcp_rmem[2] = 6291456; /* 6 MiB */
    }
    if (!c->tcp_limit_output_bytes)
        c->tcp_limit_output_bytes = 1048576; /* 5.4: 1 MiB (16 * 65536) */
    if (!c->tcp_min_tso_segs)
        c->tcp_min_tso_segs = 2;
    if (!c->tcp_tso_win_divisor)
        c->tcp_tso_win_divisor = 3;
    if (!c->tcp_init_cwnd)
        c->tcp_init_cwnd = VNS_TCP_INIT_CWND;
    if (!c->tcp_congestion_control)
        c->tcp_congestion_control = "cubic";
    if (!c->udp_rmem_default)
        c->udp_rmem_default = INET_SK_MEM_MAX; /* net.core.rmem_default */
    if (!c->udp_wmem_default)
        c->udp_wmem_default = INET_SK_MEM_MAX;
}

int vns_inet_create(struct vns_kernel *k, const struct vns_inet_config *cfg, struct vns_inet **out)
{
    struct vns_inet *inet;
    int err;

    if (!k || !out)
        return -VNS_EINVAL;
    inet = vns_calloc(1, sizeof(*inet));
    if (!inet)
        return -VNS_ENOMEM;
    inet->k = k;
    inet->sim = vns_kernel_sim(k);
    if (cfg)
        inet->cfg = *cfg;
    inet_config_defaults(&inet->cfg);
    {
        char stream[64];

        memset(stream, 0, sizeof(stream));
        strncpy(stream, "inet.", sizeof(stream) - 1);
        strncat(stream, vns_kernel_name(k), sizeof(stream) - strlen(stream) - 1);
        vns_sim_rng(inet->sim, stream, &inet->rng);
    }
    inet->next_ephemeral = (uint16_t)(32768 + vns_rng_below(&inet->rng, 60999 - 32768 + 1));
    inet->ip_id = (uint16_t)vns_rng_u64(&inet->rng);
    err = vns_dev_add_pack(k, VNS_ETH_P_IP, vns_ip_rcv, inet);
    if (err)
        goto free_inet;
    err = vns_dev_add_pack(k, VNS_ETH_P_ARP, vns_arp_rcv, inet);
    if (err)
        goto remove_ip;
    err = vns__tcp_tasklet_init(inet);
    if (err)
        goto remove_arp;
    *out = inet;
    return 0;
remove_arp:
    vns_dev_remove_pack(k, VNS_ETH_P_ARP);
remove_ip:
    vns_dev_remove_pack(k, VNS_ETH_P_IP);
free_inet:
    vns_free(inet);
    return err;
}

void vns_inet_destroy(struct vns_inet *inet)
{
    if (!inet)
        return;
    while (inet->socks)
        vns__sock_free(inet->socks);
    vns__tcp_tasklet_fini(inet);
    vns__neigh_destroy_all(inet);
    vns_dev_remove_pack(inet->k, VNS_ETH_P_IP);
    vns_dev_remove_pack(inet->k, VNS_ETH_P_ARP);
    vns_free(inet->sk_cache);
    vns_free(inet);
}

struct vns_kernel *vns_inet_kernel(const struct vns_inet *inet)
{
    return inet->k;
}
const struct vns_inet_config *vns_inet_config(const struct vns_inet *inet)
{
    return &inet->cfg;
}
const struct vns_inet_stats *vns_inet_stats(const struct vns_inet *inet)
{
    return &inet->stats;
}

uint64_t vns_inet_flow_id(uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport,
                          uint8_t proto)
{
    uint64_t z =
        ((uint64_t)saddr << 32 | daddr) ^ ((uint64_t)sport << 48 | (uint64_t)dport << 32 | proto);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
