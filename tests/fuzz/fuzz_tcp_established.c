/* tests/fuzz/fuzz_tcp_established.c -- TCP segments arriving on an
 * ESTABLISHED connection: the receive path past the listener (tcp_v4_rcv,
 * tcp_rcv_established's fast and slow paths, tcp_validate_incoming,
 * tcp_ack with data in flight, SACK and timestamp options, the
 * out-of-order queue, FIN and RST handling) with a connection that has
 * sent data and has data to read. Any input gives a counted drop or a
 * delivery, never a crash, a leak or undefined behaviour; and the packet
 * ledger balances afterwards: every skb the kernel created has one fate
 * once the connection and the device are gone, and the device's books
 * hold nothing (docs/reliability.md).
 *
 * Set-up (the same every run): the host 10.0.0.2 connects from a
 * non-blocking socket to 10.0.0.1:80 through a device that keeps what it
 * is given; the peer's SYN-ACK (ISN 1000000, MSS 1460, SACK, timestamps,
 * window scale 7) is injected, the host is ESTABLISHED, writes 20000
 * bytes and, at the peer's next ACK, sends the first ten segments (in
 * flight, unacknowledged: the device keeps nothing).
 *
 * Input: a sequence of segments, each [len:1][mode:1][bytes: len]. The
 * bytes are a TCP header (options included) and payload; the ports are
 * always set to the connection's. mode bit 0: seq is rcv_nxt + the
 * header's seq (else as given); bit 1: ack is the first byte the host
 * wrote + the header's ack (else as given); bit 2: keep the checksum as given (else
 * computed); bit 3: read from the socket after the segment; bits 4-7:
 * how long the timers run after it (mode >> 4, in 10 ms units). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_host.h"
#include "vnetsim/socket.h"
#include "vnetsim/tcp.h"

#define PEER_ISN 1000000u
#define PEER     VNS_IPV4(10, 0, 0, 1)
#define HOST     VNS_IPV4(10, 0, 0, 2)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the host sent last: its sequence numbers come from there. */
static struct {
    uint32_t seq_next; /* highest seq + len seen */
    uint32_t ack;      /* its last ack: rcv_nxt */
    uint32_t snd_base; /* ISN + 1: the first byte of the data written */
    uint16_t sport;
    bool seen;
} sent;

static void tap(const struct vns_skb *skb, struct vns_net_device *dev, bool outgoing, void *arg)
{
    uint8_t h[60];
    uint32_t ihl, seq, len, thl;

    (void)dev;
    (void)arg;
    if (!outgoing || skb->len < 14 + 20 + 20 || vns_skb_copy_bits(skb, 0, h, 14 + 20) < 0)
        return;
    ihl = (h[14] & 0xfu) * 4u;
    if (h[14 + 9] != 6 || ihl < 20 || skb->len < 14 + ihl + 20 ||
        vns_skb_copy_bits(skb, 14 + ihl, h, 20) < 0)
        return;
    thl = (h[12] >> 4) * 4u;
    seq = vns_get_be32(h + 4);
    len = skb->len - 14 - ihl - thl + ((h[13] & 0x03) ? 1 : 0); /* SYN/FIN count one */
    if (!sent.seen || (int32_t)(seq + len - sent.seq_next) > 0)
        sent.seq_next = seq + len;
    sent.ack = vns_get_be32(h + 8);
    sent.sport = vns_get_be16(h);
    sent.seen = true;
}

/* A TCP segment from the peer: @tcp (header and payload, @n bytes). */
static void inject(struct fuzz_host *h, const uint8_t *tcp, uint32_t n, bool keep_csum)
{
    struct vns_skb *skb = vns_alloc_skb(h->k, 64 + 20 + n);
    uint8_t *ip, *th;

    if (!skb)
        return;
    vns_skb_reserve(skb, 64);
    ip = vns_skb_put(skb, 20);
    memset(ip, 0, 20);
    ip[0] = 0x45;
    vns_put_be16(ip + 2, (uint16_t)(20 + n));
    ip[8] = 64;
    ip[9] = 6;
    vns_put_be32(ip + 12, PEER);
    vns_put_be32(ip + 16, HOST);
    vns_put_be16(ip + 10, vns_ip_fast_csum(ip, 5));
    th = vns_skb_put(skb, n);
    memcpy(th, tcp, n);
    if (!keep_csum && n >= 18) {
        th[16] = th[17] = 0;
        vns_put_be16(th + 16, vns_csum_fold(vns_csum_partial(
                                  th, n, vns_csum_tcpudp_nofold(ip + 12, ip + 16, n, 6, 0))));
    }
    skb->protocol = 0x0800;
    skb->pkt_type = VNS_PACKET_HOST;
    skb->dev = h->dev;
    vns_skb_reset_network_header(skb);
    vns_ip_rcv(NULL, skb, h->dev, h->inet);
}

/* The peer's SYN-ACK or a plain ACK of everything, with options. */
static void peer_segment(struct fuzz_host *h, uint32_t seq, uint32_t ack, uint8_t flags)
{
    uint8_t t[40] = {0};
    unsigned n = 20;

    vns_put_be16(t, 80);
    vns_put_be16(t + 2, sent.sport);
    vns_put_be32(t + 4, seq);
    vns_put_be32(t + 8, ack);
    t[13] = flags;
    vns_put_be16(t + 14, 1024);
    if (flags & 0x02) { /* SYN: MSS 1460, SACK permitted, timestamps, window scale 7 */
        const uint8_t o[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};

        memcpy(t + 20, o, sizeof(o));
        n += sizeof(o);
    } else { /* timestamps */
        const uint8_t o[] = {1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1};

        memcpy(t + 20, o, sizeof(o));
        n += sizeof(o);
    }
    t[12] = (uint8_t)((n / 4) << 4);
    inject(h, t, n, false);
}

/* Every skb created has one fate and the device holds nothing; else abort
 * (libFuzzer reports it as a crash). */
static void check_ledger(struct vns_kernel *k)
{
    const struct vns_kernel_stats *s = vns_kernel_stats(k);
    uint64_t fates = s->consumed + vns_kernel_drops_total(k) + s->hw_freed + s->merged;

    if (s->skb_live || s->skb_allocs != fates)
        abort();
    for (const struct vns_dev_book *b = vns_kernel_dev_books(k); b; b = b->next)
        if (vns_dev_book_held(b) || vns_dev_book_held_bytes(b))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_host h;
    struct vns_sock *sk = NULL;
    size_t off = 0;

    if (size > 65536)
        return 0;
    memset(&sent, 0, sizeof(sent));
    if (fuzz_host_up(&h) < 0)
        goto out;
    vns_dev_add_tap(h.k, tap, NULL);
    vns_neigh_add_permanent(h.inet, h.dev, PEER, (const uint8_t[]){2, 0, 0, 0, 0, 1});
    if (vns_socket_create(h.inet, VNS_SOCK_STREAM, 0, &sk) < 0)
        goto out;
    vns_sock_set_nonblock(sk, true);
    vns_sys_connect(NULL, sk, &(struct vns_sockaddr_in){.addr = PEER, .port = 80});
    vns_sim_run(h.sim, vns_sim_now(h.sim) + VNS_MSEC(1));
    if (!sent.seen)
        abort(); /* the set-up itself is broken */
    peer_segment(&h, PEER_ISN, sent.seq_next, 0x12);
    vns_sim_run(h.sim, vns_sim_now(h.sim) + VNS_MSEC(1));
    if (vns_sys_connect(NULL, sk, &(struct vns_sockaddr_in){.addr = PEER, .port = 80}) != 0)
        abort();
    sent.snd_base = sent.seq_next;
    vns_sys_write(NULL, sk, 20000);
    /* a window update from the peer: tcp_data_snd_check sends what the
     * write queued (a write without a process context only queues) */
    peer_segment(&h, PEER_ISN + 1, sent.snd_base, 0x10);
    vns_sim_run(h.sim, vns_sim_now(h.sim) + VNS_MSEC(1));

    while (off + 2 <= size) {
        uint32_t n = data[off], mode = data[off + 1];
        uint8_t seg[256];

        off += 2;
        if (n > size - off)
            n = (uint32_t)(size - off);
        memcpy(seg, data + off, n);
        off += n;
        if (n >= 20) {
            vns_put_be16(seg, 80);
            vns_put_be16(seg + 2, sent.sport);
            if (mode & 1)
                vns_put_be32(seg + 4, sent.ack + vns_get_be32(seg + 4));
            if (mode & 2)
                vns_put_be32(seg + 8, sent.snd_base + vns_get_be32(seg + 8));
        }
        inject(&h, seg, n, mode & 4);
        if (mode & 8)
            vns_sys_read(NULL, sk, 65536);
        vns_sim_run(h.sim, vns_sim_now(h.sim) + VNS_MSEC(10) * (mode >> 4));
    }
#ifdef FUZZ_TCP_DEBUG
    {
        struct vns_tcp_info ti;

        vns_tcp_get_info(sk, &ti);
        fprintf(stderr,
                "state %s snd_una %u snd_nxt %u rcv_nxt %u acked %llu received %llu ofo %u sacked "
                "%u retrans %llu\n",
                vns_tcp_state_name(ti.state), ti.snd_una, ti.snd_nxt, ti.rcv_nxt,
                (unsigned long long)ti.bytes_acked, (unsigned long long)ti.bytes_received,
                ti.ofo_queue_len, ti.sacked_out, (unsigned long long)ti.total_retrans);
    }
#endif
    /* the application goes, the connection's timers run out */
    vns_sys_close(NULL, sk);
    vns_sim_run(h.sim, vns_sim_now(h.sim) + VNS_SEC(300));
    vns_inet_destroy(h.inet);
    h.inet = NULL;
    vns_kernel_drain(h.k);
    check_ledger(h.k);
out:
    fuzz_host_down(&h);
    return 0;
}
