/* vnetsim -- per-flow packet books (docs/reliability.md, "Flow books").
 *
 * A flow book counts one one-way flow's packets, in units that survive
 * GSO and GRO, and their L4 payload bytes. An skb of the flow carries a
 * weight (skb->fbook, fsegs segments, fbytes payload bytes): a GSO skb of
 * N segments weighs N, a GRO head what it merged. Weight enters the book
 * when the sender's L4 builds a data packet (sent), when a packet is
 * copied on its way (a bridge flood clone, a wire duplicate: copied) and
 * when a packet crosses into a machine from bytes (vhost's copy of a
 * guest frame, virtio-net's receive: crossed_in; a wire hands the weight
 * of the frame it sends to the copy it delivers); it
 * leaves by one fate: delivered (taken by the receiving L4), dropped
 * (with a reason), lost on a wire, freed by the hardware, consumed (used
 * up on the way: a bridge's flood original), crossed_out (copied out of
 * the machine: into the guest/host ring). GSO segmentation and GRO
 * merging move weight between skbs; they neither create nor end it.
 * live is the weight held by skbs now: by construction
 *
 *     sent + copied + crossed_in = delivered + dropped + lost + hw_freed
 *                                  + consumed + crossed_out + live
 *
 * and the world's drain proves it: after it live is 0. Observation only:
 * plain increments, no allocation on the hot path; a flow id (the
 * synthetic payload's flow, a mixed hash already) is mapped to its book
 * through a table indexed by its low bits, only where a packet is
 * rebuilt from bytes. */
#ifndef VNETSIM_FLOW_BOOK_H
#define VNETSIM_FLOW_BOOK_H

#include "vnetsim/common.h"
#include "vnetsim/skb.h"

enum vns_flow_term {
    VNS_FLOW_SENT,
    VNS_FLOW_COPIED,
    VNS_FLOW_CROSSED_IN,
    VNS_FLOW_DELIVERED,
    VNS_FLOW_DROPPED,
    VNS_FLOW_LOST,
    VNS_FLOW_HW_FREED,
    VNS_FLOW_CONSUMED,
    VNS_FLOW_CROSSED_OUT,
    VNS_FLOW_LIVE,
    VNS_FLOW_NTERMS
};

/* Why a wire lost a frame (LOST) or a NIC freed it (HW_FREED). */
enum vns_flow_loss {
    VNS_FLOW_LOSS_LINE,      /* loss or burst loss on the line */
    VNS_FLOW_LOSS_LINK_DOWN, /* the link was down */
    VNS_FLOW_LOSS_NO_PEER,   /* the far end is gone */
    VNS_FLOW_LOSS_NO_MEMORY, /* no skb for the copy at the peer */
    VNS_FLOW_HW_BAD_FCS,     /* the peer's NIC: bad FCS */
    VNS_FLOW_HW_TOO_LONG,    /* longer than its MTU */
    VNS_FLOW_HW_RING_FULL,   /* no RX descriptor */
    VNS_FLOW_HW_NIC_DOWN,    /* the NIC was down */
    VNS_FLOW_NLOSSES
};

struct vns_flow_reg;

struct vns_flow_book {
    uint64_t pkts[VNS_FLOW_NTERMS];          /* segments, by term */
    uint64_t bytes[VNS_FLOW_NTERMS];         /* L4 payload bytes, by term */
    uint64_t drops[VNS_SKB_DROP_REASON_MAX]; /* dropped segments by reason */
    uint64_t losses[VNS_FLOW_NLOSSES];       /* lost and hardware-freed segments by reason */
    struct vns_flow_reg *reg;                /* the registry it belongs to */
    struct vns_flow_book *reverse;           /* the other direction's (2i <-> 2i + 1) */
    uint64_t last_id;                        /* the flow id the sender bound last */
};

/* A registry of @nbooks books (zeroed), shared by every kernel of a run;
 * books 2i and 2i + 1 are each other's reverse (the two directions of a
 * flow). -VNS_ENOMEM. */
VNS_EXTERN int vns_flow_reg_create(size_t nbooks, struct vns_flow_reg **out);
VNS_EXTERN void vns_flow_reg_destroy(struct vns_flow_reg *r);
VNS_EXTERN struct vns_flow_book *vns_flow_reg_book(struct vns_flow_reg *r, size_t i);
/* The book of flow id @id (a synthetic payload's flow), NULL if none. */
VNS_EXTERN struct vns_flow_book *vns_flow_reg_lookup(const struct vns_flow_reg *r, uint64_t id);
/* Bind flow id @id to @b (the sender's L4 does it on its first packet of
 * that id). -VNS_ENOMEM: the id stays unbound (its crossings untracked). */
VNS_EXTERN int vns_flow_reg_bind(struct vns_flow_book *b, uint64_t id);
/* Where @k looks flow ids up (one registry for every kernel of a run). */
struct vns_kernel;
VNS_EXTERN void vns_kernel_set_flow_reg(struct vns_kernel *k, struct vns_flow_reg *r);

/* What socket @sk sends from now on is a packet of flow book @b (NULL:
 * none). */
struct vns_sock;
VNS_EXTERN void vns_sock_set_flow_book(struct vns_sock *sk, struct vns_flow_book *b);

/* The sender's L4 built a data packet of @segs segments and @bytes
 * payload bytes of flow id @id: tag @skb with @b. */
VNS_EXTERN void vns__flow_sent(struct vns_skb *skb, struct vns_flow_book *b, uint32_t segs,
                               uint32_t bytes, uint64_t id);
/* The fate of @skb's weight (a term from DELIVERED to CROSSED_OUT); the
 * skb keeps no weight after it. @reason: the drop reason (DROPPED), the
 * enum vns_flow_loss (LOST, HW_FREED), or -1. */
VNS_EXTERN void vns__flow_end(struct vns_skb *skb, enum vns_flow_term t, int reason);
/* @n was copied from a tagged skb (skb_clone): its weight is new. */
VNS_EXTERN void vns__flow_copied(struct vns_skb *n);
/* An undone copy: @n's weight never was. */
VNS_EXTERN void vns__flow_uncopied(struct vns_skb *n);
/* GRO: @skb merged into @p: its weight moves to @p. */
VNS_EXTERN void vns__flow_merge(struct vns_skb *p, struct vns_skb *skb);
/* GSO: @gso's weight moves to its segments @segs (->next list): one
 * segment each while it lasts, the rest on the last; bytes by payload. */
VNS_EXTERN void vns__flow_segmented(struct vns_skb *gso, struct vns_skb *segs, uint32_t hlen);
/* The flow id of an ICMP echo request or reply (@type) from @saddr to
 * @daddr of ping identifier @ident (ping's payload is not synthetic). */
VNS_EXTERN uint64_t vns__flow_icmp_id(uint32_t saddr, uint16_t ident, uint32_t daddr, uint8_t type);
/* A ping socket sent an echo request of @bytes payload: tag it with @b
 * and bind the reply's flow id to @b's reverse. */
VNS_EXTERN void vns__flow_sent_ping(struct vns_skb *skb, struct vns_flow_book *b, uint32_t bytes,
                                    uint32_t saddr, uint16_t ident, uint32_t daddr);
/* The kernel answers an echo request with @r: a packet of the flow bound
 * to @id (its reply direction), if any, @bytes of payload. */
VNS_EXTERN void vns__flow_sent_by_id(struct vns_skb *r, uint64_t id, uint32_t bytes);

/* An skb rebuilt from bytes in kernel @k, its IPv4 header @l3 bytes
 * after skb->data: find its flow (the synthetic payload's flow id, else
 * the 5-tuple's) and weigh it (payload over gso_size, rounded up; 1
 * without GSO): crossed in. Untagged if no book has the flow. */
VNS_EXTERN void vns__flow_cross_in(struct vns_skb *skb, uint32_t l3);

/* A wire: the frame @skb leaves its sender; its weight is held in hand
 * (@w) until given to the copies at the peer or ended there. */
struct vns_flow_hand {
    struct vns_flow_book *b;
    uint32_t segs, bytes;
    unsigned given;
};
VNS_EXTERN void vns__flow_take(struct vns_skb *skb, struct vns_flow_hand *h);
/* The first copy continues the frame; each further one is a copy. */
VNS_EXTERN void vns__flow_give(struct vns_flow_hand *h, struct vns_skb *copy);
/* No copy took it: lost on the wire, for @why (enum vns_flow_loss). */
VNS_EXTERN void vns__flow_hand_lost(struct vns_flow_hand *h, int why);

#endif
