/* lib/world/pcap.c -- one pcap file per device (tcpdump -i DEV, every
 * machine), through libpcap, with nanosecond timestamps.
 *
 * The capture point is the kernel's packet tap (ptype_all): transmit in
 * dev_queue_xmit_nit, receive in deliver_skb, as tcpdump sees them; a GSO
 * skb is captured as the one large frame tcpdump shows on a TSO device.
 * Synthetic payload is regenerated (vns_skb_copy_bits), so a capture holds
 * every byte. Timestamps are the event time of the step that handed the
 * skb to the tap (at most one step early; docs/architecture.md).
 * Files are written beside their final names and renamed at the end of a
 * successful run: whole or not at all. */
/* libpcap's headers use the BSD types (u_int, u_char) that strict C11
 * hides: ask the C library for them. */
#define _DEFAULT_SOURCE 1
#define _DARWIN_C_SOURCE 1
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "vnetsim/alloc.h"
#include "vnetsim/kernel.h"
#include "vnetsim/netdev.h"
#include "vnetsim/sim.h"
#include "vnetsim/skb.h"
#include "world_int.h"

#define PCAP_SNAPLEN 262144u

struct pcap_file {
    const struct vns_net_device *dev;
    pcap_t *p;
    pcap_dumper_t *d;
    char path[512], tmp[520];
    uint64_t frames;
};

struct vns_world_pcap {
    struct vns_sim *sim;
    struct vns_kernel **kernels;   /* those whose tap is ours */
    size_t nk;
    struct pcap_file *files;
    size_t n;
    uint8_t *buf;
    bool failed;
};

static struct pcap_file *pcap_find(struct vns_world_pcap *wp, const struct vns_net_device *dev)
{
    for (size_t i = 0; i < wp->n; i++)
        if (wp->files[i].dev == dev)
            return &wp->files[i];
    return NULL;
}

static void pcap_tap(const struct vns_skb *skb, struct vns_net_device *dev, bool outgoing, void *arg)
{
    struct vns_world_pcap *wp = arg;
    struct pcap_file *f = pcap_find(wp, dev);
    struct pcap_pkthdr h;
    vns_time_t now = vns_sim_now(wp->sim);
    uint32_t pre = 0, len;

    if (!f || !f->d)
        return;
    /* On receive data is past the Ethernet header: capture from it. */
    if (!outgoing && skb->mac_header != VNS_SKB_NO_HDR && skb->head + skb->mac_header < skb->data)
        pre = (uint32_t)(skb->data - (skb->head + skb->mac_header));
    len = pre + skb->len;
    h.caplen = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
    h.len = len;
    h.ts.tv_sec = (time_t)(now / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(now % 1000000000u);   /* ns: PCAP_TSTAMP_PRECISION_NANO */
    memcpy(wp->buf, skb->data - pre, pre);
    if (vns_skb_copy_bits(skb, 0, wp->buf + pre, h.caplen - pre) < 0) {
        wp->failed = true;
        return;
    }
    pcap_dump((u_char *)f->d, &h, wp->buf);
    f->frames++;
}

int vns__world_pcap_start(struct vns_world_pcap **out, struct vns_sim *sim, struct vns_kernel *const *kernels,
                          const char *const *machine_names, size_t nk, const char *dir, struct vns_diag *d)
{
    struct vns_world_pcap *wp = vns_calloc(1, sizeof(*wp));
    size_t cap = 0;

    if (!wp || !(wp->buf = vns_malloc(PCAP_SNAPLEN)))
        goto nomem;
    wp->sim = sim;
    if (!(wp->kernels = vns_calloc(nk ? nk : 1, sizeof(*wp->kernels))))
        goto nomem;
    for (size_t m = 0; m < nk; m++) {
        for (int i = 1; i < 4096; i++) {
            struct vns_net_device *dev = vns_dev_get_by_index(kernels[m], i);
            struct pcap_file *f;

            if (!dev)
                continue;
            if (wp->n == cap) {
                struct pcap_file *nf = vns_realloc(wp->files, (cap = cap ? cap * 2 : 8) * sizeof(*nf));

                if (!nf)
                    goto nomem;
                wp->files = nf;
            }
            f = &wp->files[wp->n++];
            memset(f, 0, sizeof(*f));
            f->dev = dev;
            snprintf(f->path, sizeof(f->path), "%s/%s-%s.pcap", dir, machine_names[m], dev->name);
            snprintf(f->tmp, sizeof(f->tmp), "%s.tmp", f->path);
            f->p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, PCAP_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
            if (!f->p)
                goto nomem;
            f->d = pcap_dump_open(f->p, f->tmp);
            if (!f->d) {
                vns_diag_set(d, -VNS_EIO, f->path, 0, 0, "cannot create the capture (%s)", pcap_geterr(f->p));
                vns__world_pcap_finish(wp, false);
                return -VNS_EIO;
            }
        }
        if (vns_dev_add_tap(kernels[m], pcap_tap, wp) < 0)
            goto nomem;
        wp->kernels[wp->nk++] = kernels[m];
    }
    *out = wp;
    return 0;
nomem:
    vns__world_pcap_finish(wp, false);
    return vns_diag_set(d, -VNS_ENOMEM, dir, 0, 0, "out of memory");
}

int vns__world_pcap_finish(struct vns_world_pcap *wp, bool commit)
{
    int err = 0;

    if (!wp)
        return 0;
    if (wp->failed)
        commit = false;
    for (size_t m = 0; m < wp->nk; m++)   /* the stacks go on without us */
        vns_dev_remove_tap(wp->kernels[m], pcap_tap, wp);
    for (size_t i = 0; i < wp->n; i++) {
        struct pcap_file *f = &wp->files[i];

        if (f->d) {
            if (pcap_dump_flush(f->d) != 0)
                commit = false;
            pcap_dump_close(f->d);
        }
        if (f->p)
            pcap_close(f->p);
    }
    for (size_t i = 0; i < wp->n; i++) {
        struct pcap_file *f = &wp->files[i];

        if (!f->d)
            continue;
        if (!commit || rename(f->tmp, f->path) != 0) {
            remove(f->tmp);
            err = -VNS_EIO;
        }
    }
    vns_free(wp->files);
    vns_free(wp->kernels);
    vns_free(wp->buf);
    vns_free(wp);
    return commit ? err : -VNS_EIO;
}

uint64_t vns__world_pcap_frames(const struct vns_world_pcap *wp, const struct vns_net_device *dev)
{
    for (size_t i = 0; wp && i < wp->n; i++)
        if (wp->files[i].dev == dev)
            return wp->files[i].frames;
    return 0;
}
