/* lib/net/net_int.h -- private to vnetsim: the kernel instance and helpers
 * shared by the files of lib/net and lib/dev. */
#ifndef VNETSIM_NET_INT_H
#define VNETSIM_NET_INT_H

#include "vnetsim/alloc.h"
#include "vnetsim/cpu.h"
#include "vnetsim/error.h"
#include "vnetsim/func.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/napi.h"
#include "vnetsim/qdisc.h"
#include "vnetsim/sim.h"
#include "vnetsim/skb.h"
#include "vnetsim/flow_book.h"

/* A free-list pool of fixed-size blocks, grown in chunks (kmem_cache). */
struct vns__pool_chunk {
    struct vns__pool_chunk *next;
};
struct vns__pool {
    size_t size;            /* block size */
    unsigned per_chunk;
    void *free;             /* singly linked through the first word */
    struct vns__pool_chunk *chunks;
    uint64_t live;
};

#define VNS__NBOOKS0    4
#define VNS__BOOK_CHUNK 16
struct vns__book_chunk {
    struct vns__book_chunk *next;
    struct vns_dev_book b[VNS__BOOK_CHUNK];
};

#define VNS__NPTYPE 8
#define VNS__NTAPS 4

struct vns_kernel {
    struct vns_sim *sim;
    char name[32];
    struct vns_kernel_config cfg;   /* defaults applied; cpus copied */
    struct vns_cpu **cpus;
    struct vns_softnet_data *sd;    /* one per CPU */
    /* vns_kernel_softnet without a scan of the CPUs (a host has one per
     * guest at scale): cpu_by_id[vns_cpu_id(cpu) - cpu_id0] is the CPU's
     * index + 1, 0 for an id that is not one of ours; NULL when the ids
     * are too far apart for a table (then the scan). */
    uint32_t *cpu_by_id;
    uint32_t cpu_id0, ncpu_ids;
    struct vns_net_device *devs;    /* ifindex order */
    /* Every device's books, registration order: they outlive their device
     * (the ledger reads them after the drain) and go with the kernel. The
     * first ones are here, so that registering a guest's few devices
     * allocates nothing (and unwinding one leaves nothing behind); more
     * come in chunks. */
    struct vns_dev_book *books, **books_tail;
    struct vns_dev_book books0[VNS__NBOOKS0];
    unsigned nbooks; /* used, over books0 and the chunks */
    struct vns__book_chunk *book_chunks;
    int next_ifindex;
    uint32_t mac_counter;
    struct vns__pool skb_pool;
    struct vns__pool small_pool, large_pool;
    struct vns_kernel_stats stats;
    struct {
        uint16_t type;
        vns_packet_rcv_fn fn;
        void *arg;
    } ptype[VNS__NPTYPE];
    unsigned nptype;
    struct {
        vns_packet_tap_fn fn;
        void *arg;
    } taps[VNS__NTAPS];
    unsigned ntaps;
    struct vns_flow_reg *flows; /* the run's flow books (flow_book.h), or NULL */
};

void vns__pool_init(struct vns__pool *p, size_t size, unsigned per_chunk);
void *vns__pool_get(struct vns__pool *p, uint64_t *grows);
void vns__pool_put(struct vns__pool *p, void *block);
void vns__pool_fini(struct vns__pool *p);

/* Free an skb that never reached the stack (a frame the hardware drops:
 * lost on the wire, bad FCS, no RX descriptor): no drop reason counted,
 * the device counts it. */
void vns__skb_free_hw(struct vns_skb *skb);
/* Free an skb taken off a completion_queue, counted as consumed or dropped
 * with the fate vns_dev_kfree_skb_any kept in its cb (net_tx_action). */
void vns__completion_free(struct vns_skb *skb);
/* Copy @skb into a new skb of kernel @k (a NIC DMA): linear bytes,
 * synthetic range and frag_list bytes, with NET_SKB_PAD headroom. */
struct vns_skb *vns__skb_copy_to(struct vns_kernel *k, const struct vns_skb *skb);

/* --- the device books (docs/reliability.md): plain increments ---------- */

/* The L2 length of @skb as a device sees it: from the Ethernet header
 * (on receive, eth_type_trans has pulled it already). */
static inline uint32_t vns__book_frame_len(const struct vns_skb *skb)
{
    const uint8_t *mac = skb->head + skb->mac_header;

    if (skb->mac_header != VNS_SKB_NO_HDR && mac < skb->data)
        return skb->len + (uint32_t)(skb->data - mac);
    return skb->len;
}
/* @skb leaves its device's hands: to another device or a protocol. */
static inline void vns__book_out(struct vns_skb *skb)
{
    struct vns_dev_book *b = skb->book;

    if (b) {
        b->out++;
        b->out_bytes += skb->book_len;
        skb->book = NULL;
    }
}
/* @skb enters the hands of the device of book @b (out of the previous
 * one's); a no-op if it is there already. */
static inline void vns__book_in(struct vns_dev_book *b, struct vns_skb *skb)
{
    if (skb->book == b)
        return;
    vns__book_out(skb);
    if (b) {
        skb->book = b;
        skb->book_len = vns__book_frame_len(skb);
        b->in++;
        b->in_bytes += skb->book_len;
    }
}
/* @n was made from an skb of book @b (a GSO segment, a clone). */
static inline void vns__book_created(struct vns_dev_book *b, struct vns_skb *n)
{
    n->book = b;
    if (b) {
        n->book_len = vns__book_frame_len(n);
        b->created++;
        b->created_bytes += n->book_len;
    }
}
/* @skb is merged into another by GRO: its fate is its head's. */
static inline void vns__book_merged(struct vns_skb *skb)
{
    struct vns_dev_book *b = skb->book;

    if (b) {
        b->merged++;
        b->merged_bytes += skb->book_len;
        skb->book = NULL;
    }
}
/* @skb is dropped (@reason >= 0) or consumed (-1) in its device's hands. */
void vns__book_fate(struct vns_skb *skb, int reason);

/* Pop frames down to @depth (a poll or a loop that spans steps). */
static inline void vns__unwind(struct vns_ctx *ctx, unsigned depth)
{
    if (!ctx)
        return;
    while (vns_ctx_depth(ctx) > depth)
        vns_fn_exit(ctx);
}
static inline unsigned vns__depth(const struct vns_ctx *ctx)
{
    return ctx ? vns_ctx_depth(ctx) : 0;
}
static inline vns_time_t vns__now(const struct vns_ctx *ctx, const struct vns_kernel *k)
{
    return ctx ? vns_ctx_now(ctx) : vns_sim_now(k->sim);
}

/* list_add_tail of a NAPI onto a (head, tail) poll list. */
static inline void vns__napi_list_add_tail(struct vns_napi_struct **head, struct vns_napi_struct **tail,
                                           struct vns_napi_struct *n)
{
    n->poll_next = NULL;
    n->on_list = true;
    if (*tail)
        (*tail)->poll_next = n;
    else
        *head = n;
    *tail = n;
}

/* netdev.c */
void vns__dev_activate(struct vns_net_device *dev);
void vns__dev_deactivate(struct vns_net_device *dev);
/* dev_xmit.c */
int vns__net_tx_action(struct vns_ctx *ctx, void *arg);
void vns__dev_queue_xmit_nit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_net_device *dev);
/* validate_xmit_skb: may segment (returns a ->next list) or drop (NULL). */
struct vns_skb *vns__validate_xmit_skb(struct vns_ctx *ctx, struct vns_skb *skb,
                                      struct vns_net_device *dev);
struct vns_skb *vns__dev_hard_start_xmit(struct vns_ctx *ctx, struct vns_skb *first,
                                        struct vns_net_device *dev, int *ret);
/* sch_generic.c */
bool vns__sch_direct_xmit(struct vns_ctx *ctx, struct vns_skb *skb, struct vns_Qdisc *q,
                          struct vns_net_device *dev, bool validate);
void vns__qdisc_run(struct vns_ctx *ctx, struct vns_Qdisc *q);
/* dev_rx.c */
int vns__net_rx_action(struct vns_ctx *ctx, void *arg);
int vns__process_backlog(struct vns_ctx *ctx, struct vns_napi_struct *n, int quota);
int vns__netif_receive_skb_internal(struct vns_ctx *ctx, struct vns_skb *skb);
/* gro.c */
void vns__gro_flush_all(struct vns_ctx *ctx, struct vns_napi_struct *n);
/* gso.c */
struct vns_skb *vns__skb_gso_segment(struct vns_ctx *ctx, struct vns_skb *skb, uint64_t features);
bool vns__netif_needs_gso(const struct vns_skb *skb, uint64_t features);

#endif
