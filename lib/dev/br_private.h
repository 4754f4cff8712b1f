/* lib/dev/br_private.h -- private to the bridge files (net/bridge/br_private.h). */
#ifndef VNETSIM_BR_PRIVATE_H
#define VNETSIM_BR_PRIVATE_H

#include "vnetsim/bridge.h"
#include "net/net_int.h"

#define BR_HASH_SIZE 256

enum br_pkt_type { BR_PKT_UNICAST, BR_PKT_MULTICAST, BR_PKT_BROADCAST };

struct net_bridge;

struct net_bridge_port {
    struct net_bridge *br;
    struct vns_net_device *dev;
    struct net_bridge_port *next;    /* port_list, in order of addition */
    uint16_t port_no;
    unsigned state;
    unsigned flags;
    struct vns_br_port_stats stats;
};

struct net_bridge_fdb_entry {
    struct net_bridge_fdb_entry *next;   /* hash chain */
    struct net_bridge_fdb_entry *list_next; /* fdb_list, newest first */
    struct net_bridge_port *dst;     /* NULL: the bridge device itself */
    uint8_t addr[VNS_ETH_ALEN];
    bool is_local, is_static, added_by_user;
    uint64_t updated, used;          /* jiffies */
};

struct net_bridge {
    struct vns_net_device *dev;
    struct net_bridge_port *port_list;
    uint16_t next_port_no;
    struct net_bridge_fdb_entry *hash[BR_HASH_SIZE];
    struct net_bridge_fdb_entry *fdb_list;
    unsigned fdb_count;
    uint64_t ageing_time;            /* jiffies */
    struct vns_timer gc_timer;       /* br_fdb_cleanup (gc_work) */
    bool gc_armed;
};

/* BR_INPUT_SKB_CB */
struct br_input_skb_cb {
    struct vns_net_device *brdev;
};
_Static_assert(sizeof(struct br_input_skb_cb) <= VNS_SKB_CB_SIZE, "br cb fits");
static inline struct br_input_skb_cb *BR_INPUT_SKB_CB(struct vns_skb *skb)
{
    return (struct br_input_skb_cb *)(void *)skb->cb;
}

static inline struct net_bridge_port *br_port_get(const struct vns_net_device *dev)
{
    return (dev->priv_flags & VNS_IFF_BRIDGE_PORT) ? dev->rx_handler_data : NULL;
}

static inline uint64_t br_jiffies(const struct net_bridge *br, const struct vns_ctx *ctx)
{
    return vns_kernel_jiffies(br->dev->k, vns__now(ctx, br->dev->k));
}

/* br_fdb.c */
struct net_bridge_fdb_entry *vns__br_fdb_find(struct net_bridge *br, const uint8_t *addr);
struct net_bridge_fdb_entry *vns__br_fdb_find_rcu(struct vns_ctx *ctx, struct net_bridge *br,
                                                 const uint8_t *addr);
int vns__br_fdb_insert(struct net_bridge *br, struct net_bridge_port *p, const uint8_t *addr);
void vns__br_fdb_update(struct vns_ctx *ctx, struct net_bridge *br, struct net_bridge_port *p,
                        const uint8_t *addr);
void vns__br_fdb_delete_by_port(struct net_bridge *br, struct net_bridge_port *p, bool do_all);
void vns__br_fdb_flush_all(struct net_bridge *br);
void vns__br_fdb_gc_start(struct net_bridge *br);
/* br_input.c */
enum vns_rx_handler_result vns__br_handle_frame(struct vns_ctx *ctx, struct vns_skb **pskb);
/* br_forward.c */
void vns__br_forward(struct vns_ctx *ctx, struct net_bridge_port *to, struct vns_skb *skb,
                     bool local_rcv, bool local_orig);
void vns__br_flood(struct vns_ctx *ctx, struct net_bridge *br, struct vns_skb *skb,
                   enum br_pkt_type pkt_type, bool local_rcv, bool local_orig);

#endif
