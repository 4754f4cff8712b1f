/* tests/virtio/test_virtq.c -- driver and device together, on both layouts:
 * model-based random round trips against a FIFO reference model (no buffer
 * lost or duplicated, tokens and lengths as the device used them, kick and
 * interrupt decisions equal to the reference formulas) past 65536
 * operations and many packed wrap flips; plus unit tests of suppression,
 * enable_cb_delayed's 3/4 rule, detach, full rings, a hostile device and
 * allocation failures. */
#include "virtio/vq_fixture.h"

#define BUF VQF_BUF_GPA
#define MAXSG 10

static int teardown(void **s)
{
    vqf_free(*s);
    assert_no_leaks();
    return 0;
}

/* --- the reference model ----------------------------------------------------- */

struct tok {
    uint32_t serial;
    unsigned nout, nin;
    struct vns_sg sg[MAXSG];
    unsigned descs;       /* ring descriptors it occupies */
    uint64_t in_bytes;
    int head;             /* what the device fetched it as */
};

#define QCAP 4096u
struct fifo {
    void *v[QCAP];
    uint32_t len[QCAP];
    unsigned h, t;
};
static void fifo_push(struct fifo *q, void *v, uint32_t len)
{
    assert_true(q->t - q->h < QCAP);
    q->v[q->t % QCAP] = v;
    q->len[q->t % QCAP] = len;
    q->t++;
}
static void *fifo_pop(struct fifo *q, uint32_t *len)
{
    void *v;

    assert_true(q->t != q->h);
    v = q->v[q->h % QCAP];
    if (len)
        *len = q->len[q->h % QCAP];
    q->h++;
    return v;
}
static unsigned fifo_n(const struct fifo *q)
{
    return q->t - q->h;
}

struct model {
    struct vqf *f;
    bool packed;
    uint32_t num;
    struct vns_rng rng;
    struct tok *toks;       /* pool */
    struct tok **free_toks;
    unsigned nfree_toks, ntoks;
    uint32_t serial;
    struct fifo added;      /* added, not fetched (driver order) */
    struct tok *inflight[1024]; /* fetched, not used */
    unsigned ninflight;
    struct fifo used;       /* used, not reclaimed (device order) */
    unsigned free_descs;
    /* split counters (buffers) / packed counters (descriptor positions) */
    uint64_t avail_total, kick_old, dev_seen, dev_fetched, used_total, reclaimed;
    uint64_t dev_event;     /* split: avail_event full; packed: device event position */
    unsigned dev_evt_flags; /* packed device area flags; split: unused */
    bool dev_notify_on;
    /* driver interrupt suppression */
    bool cb_enabled;        /* !NO_INTERRUPT shadow / event shadow != DISABLE */
    unsigned drv_shadow;    /* packed: event_flags_shadow */
    unsigned drv_mem_flags; /* packed: driver area flags in memory; split: NO_INTERRUPT in memory */
    bool event_triggered;
    uint16_t drv_used_event;  /* split: used_event in memory */
    uint64_t drv_event_pos;   /* packed: driver event position (full) */
    /* device signal state */
    uint16_t sig_used;
    bool sig_valid;
    uint64_t used_since_sig;  /* packed: positions */
    uint64_t pk_sig_total;    /* packed: used positions at last decision */
    /* statistics of the run */
    uint64_t ops, kicks, kicks_no, sigs, sigs_no, adds, enospc, gets;
};

static bool need_event16(uint16_t ev, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - ev - 1) < (uint16_t)(new_idx - old);
}

/* Decode a packed event (a full position @ev_full, written by the other
 * side as (pos, wrap)) relative to the lap of @now_full. */
static uint64_t pk_decode(uint32_t num, uint64_t ev_full, uint64_t now_full)
{
    uint64_t pos = ev_full % num;
    unsigned ev_wrap = 1u ^ (unsigned)((ev_full / num) & 1);
    uint64_t lap = now_full / num;
    unsigned cur_wrap = 1u ^ (unsigned)(lap & 1);

    if (ev_wrap == cur_wrap)
        return lap * num + pos;
    return lap == 0 ? pos - num /* wraps: never inside the window */ : (lap - 1) * num + pos;
}

static void model_init(struct model *m, struct vqf *f, uint64_t seed)
{
    memset(m, 0, sizeof(*m));
    m->f = f;
    m->packed = f->layout == VNS_VIRTQ_PACKED;
    m->num = f->num;
    vns_rng_seed(&m->rng, seed, "virtq.model");
    m->ntoks = f->num + 8;
    m->toks = calloc(m->ntoks, sizeof(*m->toks));
    m->free_toks = calloc(m->ntoks, sizeof(*m->free_toks));
    for (unsigned i = 0; i < m->ntoks; i++)
        m->free_toks[m->nfree_toks++] = &m->toks[i];
    m->free_descs = f->num;
    m->dev_notify_on = true;
    m->dev_evt_flags = VNS_VRING_PACKED_EVENT_FLAG_ENABLE;
    m->cb_enabled = true;
    m->drv_shadow = VNS_VRING_PACKED_EVENT_FLAG_ENABLE;
    m->drv_mem_flags = 0;
}

static void model_fini(struct model *m)
{
    free(m->toks);
    free(m->free_toks);
}

static uint64_t rnd(struct model *m, uint64_t n)
{
    return vns_rng_below(&m->rng, n);
}

static void op_add(struct model *m)
{
    struct tok *t;
    unsigned total = 1 + (unsigned)rnd(m, rnd(m, 8) == 0 ? MAXSG : 4);
    unsigned need;
    int ret;

    if (m->nfree_toks == 0)
        return;
    t = m->free_toks[m->nfree_toks - 1];
    t->serial = ++m->serial;
    t->nout = (unsigned)rnd(m, total + 1);
    t->nin = total - t->nout;
    t->in_bytes = 0;
    for (unsigned k = 0; k < total; k++) {
        t->sg[k].addr = BUF + (uint64_t)(t->serial % 512) * 8192 + 512u * k;
        t->sg[k].len = 1 + (uint32_t)rnd(m, 512);
        if (k >= t->nout)
            t->in_bytes += t->sg[k].len;
    }
    need = (m->f->indirect && total > 1 && m->free_descs && total <= 8) ? 1 : total;
    ret = vns_virtq_add_sgs(m->f->vq, t->sg, t->nout, t->nin, t, NULL);
    if (m->free_descs < need) {
        assert_int_equal(ret, -VNS_ENOSPC);
        m->enospc++;
        return;
    }
    assert_int_equal(ret, 0);
    m->nfree_toks--;
    t->descs = need;
    m->free_descs -= need;
    m->avail_total += m->packed ? need : 1;
    fifo_push(&m->added, t, 0);
    m->adds++;
}

static void op_kick_prepare(struct model *m)
{
    bool want, got = vns_virtq_kick_prepare(m->f->vq, NULL);

    if (!m->packed) {
        if (m->f->event_idx)
            want = need_event16((uint16_t)m->dev_event, (uint16_t)m->avail_total,
                                (uint16_t)m->kick_old);
        else
            want = m->dev_notify_on;
    } else if (m->dev_evt_flags != VNS_VRING_PACKED_EVENT_FLAG_DESC) {
        want = m->dev_evt_flags != VNS_VRING_PACKED_EVENT_FLAG_DISABLE;
    } else {
        uint64_t e = pk_decode(m->num, m->dev_event, m->avail_total);

        want = m->kick_old <= e && e < m->avail_total;
    }
    assert_int_equal(got, want);
    m->kick_old = m->avail_total;
    if (got)
        m->kicks++;
    else
        m->kicks_no++;
}

static void op_fetch(struct model *m)
{
    struct vns_iov iov[MAXSG + 2];
    unsigned out_n, in_n;
    int head;
    bool expect;

    if (!m->packed) {
        if (m->dev_fetched == m->dev_seen)
            m->dev_seen = m->avail_total;   /* vhost re-reads avail->idx */
        expect = m->dev_fetched != m->dev_seen;
    } else {
        expect = fifo_n(&m->added) > 0;
    }
    head = vns_devq_get_vq_desc(m->f->dq, iov, MAXSG + 2, &out_n, &in_n, NULL);
    if (!expect) {
        assert_int_equal(head, -VNS_EAGAIN);
        return;
    }
    assert_true(head >= 0 && (uint32_t)head < m->num);
    {
        struct tok *t = fifo_pop(&m->added, NULL);

        assert_int_equal(out_n, t->nout);
        assert_int_equal(in_n, t->nin);
        for (unsigned k = 0; k < t->nout + t->nin; k++) {
            assert_int_equal(iov[k].addr, t->sg[k].addr);
            assert_int_equal(iov[k].len, t->sg[k].len);
        }
        t->head = head;
        m->inflight[m->ninflight++] = t;
        m->dev_fetched += m->packed ? t->descs : 1;
    }
}

static void op_use(struct model *m)
{
    struct vns_used_elem e[3];
    unsigned n;

    if (m->ninflight == 0)
        return;
    n = 1 + (unsigned)rnd(m, m->ninflight < 3 ? m->ninflight : 3);
    for (unsigned k = 0; k < n; k++) {
        unsigned pick = (unsigned)rnd(m, m->ninflight);
        struct tok *t = m->inflight[pick];
        uint32_t len = (uint32_t)rnd(m, t->in_bytes + 1);

        m->inflight[pick] = m->inflight[--m->ninflight];
        e[k].id = (uint32_t)t->head;
        e[k].len = len;
        fifo_push(&m->used, t, len);
        if (!m->packed) {
            uint16_t old = (uint16_t)m->used_total, nw = (uint16_t)(m->used_total + 1);

            if ((uint16_t)(nw - m->sig_used) < (uint16_t)(nw - old))
                m->sig_valid = false;
            m->used_total++;
        } else {
            m->used_total += t->descs;
            m->used_since_sig += t->descs;
        }
    }
    if (n == 1)
        assert_int_equal(vns_devq_add_used(m->f->dq, e[0].id, e[0].len, NULL), 0);
    else
        assert_int_equal(vns_devq_add_used_n(m->f->dq, e, n, NULL), 0);
}

static void op_signal(struct model *m)
{
    bool want, got = vns_devq_notify(m->f->dq, NULL);

    if (!m->packed) {
        if (!m->f->event_idx) {
            want = !m->drv_mem_flags;
        } else {
            uint16_t old = m->sig_used;
            bool v = m->sig_valid;

            m->sig_used = (uint16_t)m->used_total;
            m->sig_valid = true;
            want = !v || need_event16(m->drv_used_event, (uint16_t)m->used_total, old);
        }
    } else {
        uint64_t count = m->used_since_sig;
        bool v = m->sig_valid;

        m->used_since_sig = 0;
        m->sig_valid = true;
        if (m->drv_mem_flags == VNS_VRING_PACKED_EVENT_FLAG_DISABLE) {
            want = false;
        } else if (m->drv_mem_flags == VNS_VRING_PACKED_EVENT_FLAG_ENABLE) {
            want = true;
        } else if (!v || count >= m->num) {
            want = true;
        } else {
            uint64_t e = pk_decode(m->num, m->drv_event_pos, m->used_total);

            want = m->used_total - count <= e && e < m->used_total;
        }
    }
    assert_int_equal(got, want);
    if (got) {
        m->sigs++;
        /* the guest takes the interrupt: vring_interrupt */
        bool run = vns_virtq_interrupt(m->f->vq, NULL);

        assert_int_equal(run, fifo_n(&m->used) > 0);
        if (run && m->f->event_idx)
            m->event_triggered = true;
    } else {
        m->sigs_no++;
    }
}

static void op_get_buf(struct model *m)
{
    uint32_t len = 0xdeadbeef, want_len;
    void *got = vns_virtq_get_buf(m->f->vq, &len, NULL);
    struct tok *t;

    if (fifo_n(&m->used) == 0) {
        assert_null(got);
        return;
    }
    t = fifo_pop(&m->used, &want_len);
    assert_ptr_equal(got, t);
    assert_int_equal(len, want_len);
    m->free_descs += t->descs;
    m->reclaimed += m->packed ? t->descs : 1;
    m->free_toks[m->nfree_toks++] = t;
    m->gets++;
    if (!m->packed) {
        if (m->cb_enabled)
            m->drv_used_event = (uint16_t)m->reclaimed;
    } else if (m->drv_shadow == VNS_VRING_PACKED_EVENT_FLAG_DESC) {
        m->drv_event_pos = m->reclaimed;
    }
}

static void op_disable_cb(struct model *m)
{
    vns_virtq_disable_cb(m->f->vq, NULL);
    if (!m->packed) {
        if (m->cb_enabled) {
            m->cb_enabled = false;
            if (!m->event_triggered) {
                if (m->f->event_idx)
                    m->drv_used_event = 0;
                else
                    m->drv_mem_flags = 1;
            }
        }
    } else if (m->drv_shadow != VNS_VRING_PACKED_EVENT_FLAG_DISABLE) {
        m->drv_shadow = VNS_VRING_PACKED_EVENT_FLAG_DISABLE;
        m->cb_enabled = false;
        if (!m->event_triggered)
            m->drv_mem_flags = VNS_VRING_PACKED_EVENT_FLAG_DISABLE;
    }
}

static void model_enable_flags(struct model *m)
{
    if (!m->packed) {
        m->cb_enabled = true;
        if (!m->f->event_idx)
            m->drv_mem_flags = 0;
    } else if (m->drv_shadow == VNS_VRING_PACKED_EVENT_FLAG_DISABLE) {
        m->drv_shadow = m->f->event_idx ? VNS_VRING_PACKED_EVENT_FLAG_DESC
                                        : VNS_VRING_PACKED_EVENT_FLAG_ENABLE;
        m->drv_mem_flags = m->drv_shadow;
        m->cb_enabled = true;
    }
}

static void op_enable_cb(struct model *m)
{
    bool got = vns_virtq_enable_cb(m->f->vq, NULL);

    m->event_triggered = false;
    if (!m->packed) {
        model_enable_flags(m);
        m->drv_used_event = (uint16_t)m->reclaimed;
    } else {
        if (m->f->event_idx)
            m->drv_event_pos = m->reclaimed;
        model_enable_flags(m);
    }
    assert_int_equal(got, fifo_n(&m->used) == 0);
}

static void op_enable_cb_delayed(struct model *m)
{
    bool got = vns_virtq_enable_cb_delayed(m->f->vq, NULL);
    bool want;

    m->event_triggered = false;
    if (!m->packed) {
        uint16_t bufs = (uint16_t)((uint16_t)(m->avail_total - m->reclaimed) * 3 / 4);

        model_enable_flags(m);
        m->drv_used_event = (uint16_t)(m->reclaimed + bufs);
        want = !((uint16_t)(m->used_total - m->reclaimed) > bufs);
    } else {
        if (m->f->event_idx)
            m->drv_event_pos = m->reclaimed + (m->num - m->free_descs) * 3 / 4;
        model_enable_flags(m);
        want = fifo_n(&m->used) == 0;
    }
    assert_int_equal(got, want);
}

static void op_dev_notify_toggle(struct model *m)
{
    if (m->dev_notify_on) {
        vns_devq_disable_notify(m->f->dq, NULL);
        m->dev_notify_on = false;
        if (m->packed)
            m->dev_evt_flags = VNS_VRING_PACKED_EVENT_FLAG_DISABLE;
    } else {
        bool got = vns_devq_enable_notify(m->f->dq, NULL), want;

        m->dev_notify_on = true;
        if (!m->packed) {
            if (m->f->event_idx)
                m->dev_event = m->dev_seen;
            want = m->avail_total != m->dev_seen;
        } else {
            if (m->f->event_idx) {
                m->dev_evt_flags = VNS_VRING_PACKED_EVENT_FLAG_DESC;
                m->dev_event = m->dev_fetched;
            } else {
                m->dev_evt_flags = VNS_VRING_PACKED_EVENT_FLAG_ENABLE;
            }
            want = fifo_n(&m->added) > 0;
        }
        assert_int_equal(got, want);
    }
}

static void model_check(struct model *m)
{
    struct vns_vq_books b;

    vns_vq_books(m->f->vq, m->f->dq, &b);
    assert_true(b.balanced); /* the virtqueue books hold after every step */
    assert_int_equal(b.not_taken, fifo_n(&m->added));
    assert_int_equal(b.taken_not_used, m->ninflight);
    assert_int_equal(b.used_not_reclaimed, fifo_n(&m->used));
    assert_int_equal(vns_virtq_num_free(m->f->vq), m->free_descs);
    assert_false(vns_virtq_is_broken(m->f->vq));
    assert_false(vns_devq_is_broken(m->f->dq));
    assert_int_equal(vns_gmem_stats(m->f->mem)->faults, 0);
}

static void model_run(struct vqf *f, uint64_t seed, unsigned nops)
{
    struct model m;

    model_init(&m, f, seed);
    for (unsigned i = 0; i < nops; i++) {
        uint64_t r = rnd(&m, 100);

        if (r < 30)
            op_add(&m);
        else if (r < 40)
            op_kick_prepare(&m);
        else if (r < 60)
            op_fetch(&m);
        else if (r < 72)
            op_use(&m);
        else if (r < 78)
            op_signal(&m);
        else if (r < 93)
            op_get_buf(&m);
        else if (r < 95)
            op_disable_cb(&m);
        else if (r < 96)
            op_enable_cb(&m);
        else if (r < 97)
            op_enable_cb_delayed(&m);
        else
            op_dev_notify_toggle(&m);
        if ((i & 255) == 0)
            model_check(&m);
    }
    /* drain: everything added comes back exactly once */
    while (fifo_n(&m.added) || m.ninflight || fifo_n(&m.used)) {
        op_fetch(&m);
        op_use(&m);
        op_get_buf(&m);
    }
    model_check(&m);
    assert_int_equal(vns_virtq_num_free(f->vq), f->num);
    assert_null(vns_virtq_detach_unused_buf(f->vq));
    assert_int_equal(vns_virtq_stats(f->vq)->get_bufs, m.adds);
    assert_int_equal(vns_devq_stats(f->dq)->heads, m.adds);
    /* the run exercised what it claims to */
    assert_true(m.adds > 10000);
    assert_true(m.kicks > 0 && m.sigs > 0);
    assert_true(m.enospc > 0);
    if (!m.packed)
        assert_true(m.avail_total > 65536);          /* 16-bit indices wrapped */
    else
        assert_true(m.used_total / f->num >= 8);     /* many wrap-counter flips */
    if (f->event_idx || m.packed)
        assert_true(m.kicks_no > 0);
    print_message("ops %u adds %llu enospc %llu kicks %llu/%llu signals %llu/%llu "
                  "avail %llu used %llu\n", nops, (unsigned long long)m.adds,
                  (unsigned long long)m.enospc, (unsigned long long)m.kicks,
                  (unsigned long long)m.kicks_no, (unsigned long long)m.sigs,
                  (unsigned long long)m.sigs_no, (unsigned long long)m.avail_total,
                  (unsigned long long)m.used_total);
    model_fini(&m);
}

struct cfg {
    enum vns_virtq_layout layout;
    uint32_t num;
    bool event_idx, indirect;
};

static int setup_cfg(void **s)
{
    const struct cfg *c = *s;

    *s = vqf_new(c->layout, c->num, c->event_idx, c->indirect);
    return 0;
}

/* Random driver/device interleavings agree with the FIFO model. */
static void test_virtq_model_round_trips(void **s)
{
    struct vqf *f = *s;

    model_run(f, 1000u + f->num * 4u + f->event_idx * 2u + f->indirect, 600000);
}

/* --- unit tests ------------------------------------------------------------------ */

static struct vns_sg one_sg(uint64_t a, uint32_t l)
{
    struct vns_sg sg = {a, l};

    return sg;
}

static int tokv[64];

/* Without EVENT_IDX the driver kicks iff the device has not set NO_NOTIFY. */
static void test_virtq_kick_follows_no_notify(void **s)
{
    struct vqf *f = *s;
    struct vns_sg sg = one_sg(BUF, 64);

    assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tokv[0], NULL), 0);
    assert_true(vns_virtq_kick_prepare(f->vq, NULL));
    vns_devq_disable_notify(f->dq, NULL);
    assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tokv[1], NULL), 0);
    assert_false(vns_virtq_kick_prepare(f->vq, NULL));
    /* enable_notify reports the buffer that slipped in meanwhile */
    assert_true(vns_devq_enable_notify(f->dq, NULL));
    assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tokv[2], NULL), 0);
    assert_true(vns_virtq_kick(f->vq, NULL));
    assert_int_equal(f->kicks, 1);
}

/* With EVENT_IDX the driver kicks once per avail_event crossing. */
static void test_virtq_kick_event_idx(void **s)
{
    struct vqf *f = *s;
    struct vns_sg sg = one_sg(BUF, 64);
    struct vns_iov iov[4];
    unsigned o, i;

    vns_devq_disable_notify(f->dq, NULL);
    assert_false(vns_devq_enable_notify(f->dq, NULL));   /* nothing new */
    assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tokv[0], NULL), 0);
    assert_true(vns_virtq_kick_prepare(f->vq, NULL));      /* crosses the event */
    assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tokv[1], NULL), 0);
    assert_false(vns_virtq_kick_prepare(f->vq, NULL));     /* device not re-armed */
    vns_devq_disable_notify(f->dq, NULL);
    assert_true(vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL) >= 0);
    assert_true(vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL) >= 0);
    assert_int_equal(vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL), -VNS_EAGAIN);
    assert_false(vns_devq_enable_notify(f->dq, NULL));
    assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tokv[2], NULL), 0);
    assert_true(vns_virtq_kick_prepare(f->vq, NULL));
}

/* enable_cb_delayed asks for the interrupt 3/4 of the way through the
 * outstanding buffers (used_event / driver event offset), and the device
 * signals exactly when that many are used. */
static void test_virtq_enable_cb_delayed_three_quarters(void **s)
{
    struct vqf *f = *s;
    struct vns_sg sg = one_sg(BUF, 64);
    struct vns_iov iov[4];
    unsigned o, i, n = 8, signalled_at = 0;
    int heads[8];

    vns_virtq_disable_cb(f->vq, NULL);
    for (unsigned k = 0; k < n; k++)
        assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tokv[k], NULL), 0);
    for (unsigned k = 0; k < n; k++)
        heads[k] = vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL);
    assert_true(vns_virtq_enable_cb_delayed(f->vq, NULL));
    if (f->layout == VNS_VIRTQ_SPLIT)
        assert_int_equal(vns_gmem_read_le16(f->mem, f->addr.avail + vns_vring_used_event_off(f->num)),
                         6);
    else
        assert_int_equal(vns_gmem_read_le16(f->mem, f->addr.avail), 6 | 0x8000);
    (void)vns_devq_notify(f->dq, NULL);   /* first decision is always yes (!valid) */
    for (unsigned k = 0; k < n; k++) {
        assert_int_equal(vns_devq_add_used(f->dq, (uint32_t)heads[k], 0, NULL), 0);
        if (vns_devq_notify(f->dq, NULL) && !signalled_at)
            signalled_at = k + 1;
    }
    assert_int_equal(signalled_at, 7);   /* the 7th used buffer passes index 6 */
}

/* A full ring refuses the add; with out buffers it still notifies. */
static void test_virtq_add_full_ring_fails(void **s)
{
    struct vqf *f = *s;
    struct vns_sg sg = one_sg(BUF, 64);
    unsigned k;

    for (k = 0; k < f->num; k++)
        assert_int_equal(vns_virtq_add_inbuf(f->vq, &sg, 1, &tokv[k], NULL), 0);
    assert_int_equal(vns_virtq_num_free(f->vq), 0);
    assert_int_equal(vns_virtq_add_inbuf(f->vq, &sg, 1, &tokv[k], NULL), -VNS_ENOSPC);
    assert_int_equal(f->kicks, 0);
    assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tokv[k], NULL), -VNS_ENOSPC);
    assert_int_equal(f->kicks, 1);
    assert_int_equal(vns_virtq_stats(f->vq)->enospc, 2);
    assert_int_equal(vns_virtq_add_sgs(f->vq, &sg, 0, 0, &tokv[0], NULL), -VNS_EINVAL);
    assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, NULL, NULL), -VNS_EINVAL);
}

/* detach_unused_buf hands back every outstanding token once. */
static void test_virtq_detach_unused(void **s)
{
    struct vqf *f = *s;
    struct vns_sg sg[3] = {one_sg(BUF, 64), one_sg(BUF + 64, 64), one_sg(BUF + 128, 64)};
    int seen[8] = {0};
    void *t;

    for (unsigned k = 0; k < 4; k++)
        assert_int_equal(vns_virtq_add_sgs(f->vq, sg, 1, 2, &tokv[k], NULL), 0);
    while ((t = vns_virtq_detach_unused_buf(f->vq)) != NULL)
        seen[(int *)t - tokv]++;
    for (unsigned k = 0; k < 4; k++)
        assert_int_equal(seen[k], 1);
    assert_int_equal(vns_virtq_num_free(f->vq), f->num);
}

/* A device that returns an id that is not an outstanding head breaks the
 * driver's queue (BAD_RING), which then refuses everything. */
static void test_virtq_bad_used_id_breaks_driver(void **s)
{
    struct vqf *f = *s;
    struct vns_sg sg = one_sg(BUF, 64);
    uint32_t len;

    assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tokv[0], NULL), 0);
    if (f->layout == VNS_VIRTQ_SPLIT) {
        vns_gmem_write_le32(f->mem, f->addr.used + vns_vring_used_slot(0), f->num + 3);
        vns_gmem_write_le16(f->mem, f->addr.used + VNS_VRING_USED_IDX, 1);
    } else {
        vns_gmem_write_le16(f->mem, f->addr.desc + VNS_VRING_PACKED_DESC_ID, 5);   /* not a head */
        vns_gmem_write_le16(f->mem, f->addr.desc + VNS_VRING_PACKED_DESC_FLAGS,
                            VNS_VRING_PACKED_F_AVAIL_MASK | VNS_VRING_PACKED_F_USED_MASK);
    }
    assert_null(vns_virtq_get_buf(f->vq, &len, NULL));
    assert_true(vns_virtq_is_broken(f->vq));
    assert_int_equal(vns_virtq_stats(f->vq)->bad_ring, 1);
    assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tokv[1], NULL), -VNS_EIO);
    assert_false(vns_virtq_notify(f->vq, NULL));
}

/* Indirect: a multi-sg buffer takes one ring descriptor; a chain longer
 * than the table falls back to direct descriptors. */
static void test_virtq_indirect_one_desc(void **s)
{
    struct vqf *f = *s;
    struct vns_sg sg[10];
    struct vns_iov iov[12];
    unsigned o, i;

    for (unsigned k = 0; k < 10; k++)
        sg[k] = one_sg(BUF + 512u * k, 100 + k);
    assert_int_equal(vns_virtq_add_sgs(f->vq, sg, 2, 1, &tokv[0], NULL), 0);
    assert_int_equal(vns_virtq_num_free(f->vq), f->num - 1);
    assert_int_equal(vns_virtq_add_sgs(f->vq, sg, 5, 5, &tokv[1], NULL), 0);   /* > 8: direct */
    assert_int_equal(vns_virtq_num_free(f->vq), f->num - 11);
    assert_int_equal(vns_virtq_stats(f->vq)->indirect, 1);
    assert_true(vns_devq_get_vq_desc(f->dq, iov, 12, &o, &i, NULL) >= 0);
    assert_int_equal(o, 2);
    assert_int_equal(i, 1);
    assert_int_equal(iov[2].len, 102);
    assert_true(vns_devq_get_vq_desc(f->dq, iov, 12, &o, &i, NULL) >= 0);
    assert_int_equal(o + i, 10);
}

/* Discarded heads come back on the next fetch. */
static void test_virtq_discard(void **s)
{
    struct vqf *f = *s;
    struct vns_sg sg[2] = {one_sg(BUF, 64), one_sg(BUF + 64, 64)};
    struct vns_iov iov[4];
    unsigned o, i;
    int h1, h2;

    assert_int_equal(vns_virtq_add_sgs(f->vq, sg, 1, 1, &tokv[0], NULL), 0);
    assert_int_equal(vns_virtq_add_sgs(f->vq, sg, 2, 0, &tokv[1], NULL), 0);
    h1 = vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL);
    h2 = vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL);
    vns_devq_discard_vq_desc(f->dq, 2, NULL);
    assert_int_equal(vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL), h1);
    assert_int_equal(i, 1);
    assert_int_equal(vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL), h2);
    assert_int_equal(o, 2);
    assert_int_equal(vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL), -VNS_EAGAIN);
}

/* The virtqueue books through adds, fetches, a discard, uses and
 * reclaims; on a split ring an avail index the driver did not count (a
 * buffer published behind its back) unbalances them. */
static void test_virtq_books(void **s)
{
    struct vqf *f = *s;
    struct vns_sg sg = one_sg(BUF, 64);
    struct vns_iov iov[4];
    struct vns_vq_books b;
    unsigned o, i;
    int h;

    for (int k = 0; k < 3; k++)
        assert_int_equal(vns_virtq_add_sgs(f->vq, &sg, 1, 0, &tokv[k], NULL), 0);
    assert_true(vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL) >= 0);
    vns_devq_discard_vq_desc(f->dq, 1, NULL);
    h = vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL);
    assert_true(h >= 0 && vns_devq_get_vq_desc(f->dq, iov, 4, &o, &i, NULL) >= 0);
    assert_int_equal(vns_devq_add_used(f->dq, (uint32_t)h, 0, NULL), 0);
    vns_vq_books(f->vq, f->dq, &b);
    assert_true(b.balanced);
    assert_int_equal(b.made_available, 3);
    assert_int_equal(b.taken, 2);
    assert_int_equal(b.used, 1);
    assert_int_equal(b.not_taken, 1);
    assert_int_equal(b.taken_not_used, 1);
    assert_int_equal(b.used_not_reclaimed, 1);
    assert_non_null(vns_virtq_get_buf(f->vq, &o, NULL));
    vns_vq_books(f->vq, f->dq, &b);
    assert_true(b.balanced);
    assert_int_equal(b.reclaimed, 1);
    assert_int_equal(b.used_not_reclaimed, 0);
    if (f->layout == VNS_VIRTQ_SPLIT) {
        uint64_t idx = f->addr.avail + VNS_VRING_AVAIL_IDX;

        vns_gmem_write_le16(f->mem, idx, (uint16_t)(vns_gmem_read_le16(f->mem, idx) + 1));
        vns_vq_books(f->vq, f->dq, &b);
        assert_false(b.balanced);
        assert_int_equal(b.not_taken, 2);
    }
}

/* NOTIFY_ON_EMPTY: the device signals whenever the avail ring is empty. */
static void test_virtq_notify_on_empty(void **s)
{
    struct vqf *f = *s;
    struct vns_devq_config c = {.layout = f->layout, .num = f->num, .addr = f->addr,
                                .notify_on_empty = true};
    struct vns_devq *dq;

    vns_devq_destroy(f->dq);
    assert_int_equal(vns_devq_create(f->table, &c, &dq), 0);
    f->dq = dq;
    vns_virtq_disable_cb(f->vq, NULL);
    assert_true(vns_devq_notify(dq, NULL));   /* empty ring */
}

/* Allocation failures in create unwind completely. */
static void test_virtq_create_alloc_failures(void **s)
{
    struct vqf *f = *s;
    struct vns_virtq_config c = {.layout = f->layout, .num = f->num, .addr = f->addr};
    struct vns_virtq *vq;
    long n;

    for (n = 1; n < 20; n++) {
        int err;

        vns_alloc_fail_at(n);
        err = vns_virtq_create(f->mem, &c, &vq);
        vns_alloc_fail_at(0);
        if (err == 0) {
            vns_virtq_destroy(vq);
            break;
        }
        assert_int_equal(err, -VNS_ENOMEM);
    }
    assert_true(n > 1 && n < 20);
    c.addr.avail += 1;
    assert_int_equal(vns_virtq_create(f->mem, &c, &vq), -VNS_EINVAL);
    c.addr.avail = VQF_RAM;
    assert_int_equal(vns_virtq_create(f->mem, &c, &vq), -VNS_EFAULT);
}

/* Split: 65535 adds without a kick_prepare make the driver kick by itself
 * (num_added would otherwise become ambiguous on 16 bits). */
static void test_virtq_split_forced_kick_at_65535(void **s)
{
    struct vqf *f = *s;
    struct vns_sg sg = one_sg(BUF, 64);
    struct vns_iov iov[2];
    unsigned o, i;
    uint32_t len;

    for (unsigned k = 1; k <= 65535; k++) {
        int head;

        assert_int_equal(vns_virtq_add_outbuf(f->vq, &sg, 1, &tokv[0], NULL), 0);
        assert_int_equal(f->kicks, k == 65535 ? 1 : 0);
        head = vns_devq_get_vq_desc(f->dq, iov, 2, &o, &i, NULL);
        assert_true(head >= 0);
        assert_int_equal(vns_devq_add_used(f->dq, (uint32_t)head, 0, NULL), 0);
        assert_ptr_equal(vns_virtq_get_buf(f->vq, &len, NULL), &tokv[0]);
    }
    assert_int_equal(vns_virtq_stats(f->vq)->kicks, 1);   /* the forced kick_prepare */
}

/* --- costs through the engine ------------------------------------------------- */

struct cost_run {
    struct vqf *f;
    struct vns_sim *sim;
    uint64_t add_ns, get_desc_ns, get_buf_ns, copy_ns;
    int steps;
};

static uint64_t cost(struct vns_sim *sim, const char *name)
{
    return vns_cost_of(vns_sim_costs(sim), vns_func_lookup(name), 0);
}

static int cost_step(struct vns_ctx *ctx, void *arg)
{
    struct cost_run *r = arg;
    struct vns_sg sg[3] = {one_sg(BUF, 64), one_sg(BUF + 64, 64), one_sg(BUF + 128, 64)};
    struct vns_iov iov[4];
    unsigned o, i;
    uint32_t len;
    vns_time_t t0 = vns_ctx_now(ctx);
    unsigned depth = vns_ctx_depth(ctx);
    int head;

    assert_int_equal(vns_virtq_add_sgs(r->f->vq, sg, 1, 2, &tokv[0], ctx), 0);
    r->add_ns = vns_ctx_now(ctx) - t0;
    t0 = vns_ctx_now(ctx);
    head = vns_devq_get_vq_desc(r->f->dq, iov, 4, &o, &i, ctx);
    assert_true(head >= 0);
    r->get_desc_ns = vns_ctx_now(ctx) - t0;
    {
        uint8_t pkt[150] = {0};

        t0 = vns_ctx_now(ctx);
        assert_int_equal(vns_devq_copy_from_iov(r->f->dq, iov, o, pkt, sizeof(pkt), ctx), 64);
        assert_int_equal(vns_devq_copy_to_iov(r->f->dq, iov + o, i, pkt, sizeof(pkt), ctx), 128);
        r->copy_ns = vns_ctx_now(ctx) - t0;
    }
    assert_int_equal(vns_devq_add_used(r->f->dq, (uint32_t)head, 10, ctx), 0);
    t0 = vns_ctx_now(ctx);
    assert_ptr_equal(vns_virtq_get_buf(r->f->vq, &len, ctx), &tokv[0]);
    r->get_buf_ns = vns_ctx_now(ctx) - t0;
    assert_int_equal(vns_ctx_depth(ctx), depth);   /* every frame pushed was popped */
    r->steps++;
    return VNS_STEP_DONE;
}

/* With a context, each call pushes its kernel frame and charges per call
 * and per descriptor (cost table defaults, funcs/virtio.def). */
static void test_virtq_costs_charged(void **s)
{
    struct vqf *f = *s;
    struct cost_run r = {.f = f, .sim = vns_test_sim(7)};
    struct vns_cpu *cpu = vns_test_cpu(r.sim, "c0", NULL);
    struct vns_ctx *ctx = vns_test_ctx(r.sim, VNS_CTX_KTHREAD, "vhost-1", cpu, cost_step, &r);
    bool split = f->layout == VNS_VIRTQ_SPLIT;

    assert_int_equal(vns_probe_add(r.sim, "vhost_get_vq_desc"), 0);
    assert_int_equal(vns_probe_add(r.sim, split ? "virtqueue_add_split" : "virtqueue_add_packed"), 0);
    vns_ctx_start(ctx, 0);
    vns_sim_run(r.sim, VNS_MSEC(1));
    assert_int_equal(r.steps, 1);
    assert_int_equal(r.add_ns, cost(r.sim, split ? "virtqueue_add_split" : "virtqueue_add_packed") +
                                   3 * cost(r.sim, "virtqueue_add_desc_split"));
    assert_int_equal(r.get_desc_ns, cost(r.sim, "vhost_get_vq_desc") + 3 * cost(r.sim, "translate_desc"));
    assert_int_equal(r.get_buf_ns,
                     cost(r.sim, split ? "virtqueue_get_buf_ctx_split" : "virtqueue_get_buf_ctx_packed") +
                         cost(r.sim, split ? "detach_buf_split" : "detach_buf_packed"));
    assert_int_equal(r.copy_ns, vns_cost_of(vns_sim_costs(r.sim), vns_func_lookup("copy_from_iter"), 64) +
                                    vns_cost_of(vns_sim_costs(r.sim), vns_func_lookup("copy_to_iter"), 128));
    assert_true(r.copy_ns > cost(r.sim, "copy_from_iter") + cost(r.sim, "copy_to_iter"));   /* per byte */
    assert_int_equal(vns_probe_hits(r.sim, vns_func_lookup("vhost_get_vq_desc")), 1);
    vns_sim_destroy(r.sim);
}

/* Layout sizes and part addresses. */
static void test_virtq_layout(void **s)
{
    struct vns_virtq_addr a;

    (void)s;
    assert_int_equal(vns_virtq_layout_size(VNS_VIRTQ_SPLIT, 256, 4096), 10246);
    assert_int_equal(vns_virtq_layout_size(VNS_VIRTQ_SPLIT, 1024, 4096), 28678);
    assert_int_equal(vns_virtq_layout_size(VNS_VIRTQ_SPLIT, 100, 4096), 0);
    assert_int_equal(vns_virtq_layout_size(VNS_VIRTQ_SPLIT, 65536, 4096), 0);
    assert_int_equal(vns_virtq_layout_size(VNS_VIRTQ_PACKED, 100, 0), 1608);
    assert_int_equal(vns_virtq_layout(VNS_VIRTQ_SPLIT, 256, 4096, 0x1000, &a), 0);
    assert_int_equal(a.avail, 0x1000 + 4096);
    assert_int_equal(a.used, 0x1000 + 8192);
    assert_int_equal(vns_virtq_layout(VNS_VIRTQ_PACKED, 3, 0, 0, &a), 0);
    assert_int_equal(a.avail, 48);
    assert_int_equal(a.used, 52);
    assert_int_equal(vns_virtq_layout(VNS_VIRTQ_SPLIT, 256, 3000, 0, &a), -VNS_EINVAL);
}

static const struct cfg u_plain[2] = {{VNS_VIRTQ_SPLIT, 16, false, false},
                                      {VNS_VIRTQ_PACKED, 16, false, false}};
static const struct cfg u_event[2] = {{VNS_VIRTQ_SPLIT, 16, true, false},
                                      {VNS_VIRTQ_PACKED, 16, true, false}};
static const struct cfg u_ind[2] = {{VNS_VIRTQ_SPLIT, 16, false, true},
                                    {VNS_VIRTQ_PACKED, 16, false, true}};

/* Every unit test runs on both layouts (STYLE 7). */
#define LAYOUTS(t, c) {#t "[split]", t, setup_cfg, teardown, (void *)&(c)[0]}, \
                      {#t "[packed]", t, setup_cfg, teardown, (void *)&(c)[1]}
#define BOTH(t) LAYOUTS(t, u_plain)
#define BOTH_EV(t) LAYOUTS(t, u_event)
#define BOTH_IND(t) LAYOUTS(t, u_ind)

static const struct cfg cfgs[] = {
    {VNS_VIRTQ_SPLIT, 16, false, false}, {VNS_VIRTQ_SPLIT, 64, true, false},
    {VNS_VIRTQ_SPLIT, 32, false, true},  {VNS_VIRTQ_SPLIT, 8, true, true},
    {VNS_VIRTQ_PACKED, 16, false, false}, {VNS_VIRTQ_PACKED, 63, true, false},
    {VNS_VIRTQ_PACKED, 32, false, true},  {VNS_VIRTQ_PACKED, 7, true, true},
};
#define MODEL(i, name) {"test_virtq_model_round_trips[" name "]", test_virtq_model_round_trips, \
                        setup_cfg, teardown, (void *)&cfgs[i]}

int main(void)
{
    const struct CMUnitTest tests[] = {
        MODEL(0, "split,16"),
        MODEL(1, "split,64,event_idx"),
        MODEL(2, "split,32,indirect"),
        MODEL(3, "split,8,event_idx,indirect"),
        MODEL(4, "packed,16"),
        MODEL(5, "packed,63,event_idx"),
        MODEL(6, "packed,32,indirect"),
        MODEL(7, "packed,7,event_idx,indirect"),
        BOTH(test_virtq_kick_follows_no_notify),
        BOTH_EV(test_virtq_kick_event_idx),
        BOTH_EV(test_virtq_enable_cb_delayed_three_quarters),
        BOTH(test_virtq_add_full_ring_fails),
        BOTH_IND(test_virtq_detach_unused),
        BOTH(test_virtq_bad_used_id_breaks_driver),
        BOTH_IND(test_virtq_indirect_one_desc),
        BOTH(test_virtq_books),
        BOTH(test_virtq_discard),
        BOTH(test_virtq_notify_on_empty),
        BOTH(test_virtq_create_alloc_failures),
        BOTH(test_virtq_costs_charged),
        {"test_virtq_split_forced_kick_at_65535", test_virtq_split_forced_kick_at_65535, setup_cfg,
         teardown, (void *)&u_plain[0]},
        {"test_virtq_layout", test_virtq_layout, NULL, NULL, NULL},
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
