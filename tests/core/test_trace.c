/* tests/core/test_trace.c -- frames, probes, profiles and both output
 * formats, checked against the seed stacks (tests/golden/kernel-stacks.txt,
 * a copy of shared/reference/kernel-stacks.txt).
 *
 * Here the frames are pushed by hand, as the modelled functions will push
 * them: raw call chains including the frames linux-5.4 does not show
 * (inlined helpers, dev_hard_start_xmit under sch_direct_xmit). The
 * profile must turn each into the seed's stack exactly. The data-path
 * tests of lib/net, lib/dev and lib/vhost check the same stacks arising
 * from real control flow. */
#include <stdio.h>
#include <string.h>

#include "support/vns_test.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

#define END (-1)

static const int write_syscall[] = {
    VNS_FN___x64_sys_write, VNS_FN_ksys_write, VNS_FN_vfs_write, VNS_FN___vfs_write,
    VNS_FN_new_sync_write, VNS_FN_sock_write_iter, VNS_FN_sock_sendmsg, VNS_FN_inet_sendmsg,
    VNS_FN_tcp_sendmsg, VNS_FN_tcp_sendmsg_locked, VNS_FN_tcp_push,
    VNS_FN___tcp_push_pending_frames, VNS_FN_tcp_write_xmit, VNS_FN___tcp_transmit_skb,
    VNS_FN_ip_queue_xmit, VNS_FN___ip_queue_xmit, VNS_FN_ip_local_out, VNS_FN_ip_output,
    VNS_FN_ip_finish_output, VNS_FN___ip_finish_output, VNS_FN_ip_finish_output2, END};

static const int to_qdisc[] = {
    VNS_FN_neigh_output, VNS_FN_neigh_hh_output, VNS_FN_dev_queue_xmit, VNS_FN___dev_queue_xmit,
    VNS_FN___dev_xmit_skb, VNS_FN___qdisc_run, VNS_FN_qdisc_restart, VNS_FN_sch_direct_xmit,
    VNS_FN_dev_hard_start_xmit, VNS_FN_xmit_one, VNS_FN_netdev_start_xmit, END};

static const int vhost_tx[] = {VNS_FN_handle_tx_kick, VNS_FN_handle_tx, VNS_FN_handle_tx_copy, END};

static void push_all(struct vns_ctx *ctx, const int *f)
{
    for (; *f != END; f++)
        vns_fn_enter(ctx, *f);
}

struct script {
    const int *parts[6];
    int probe;
};

static int script_step(struct vns_ctx *ctx, void *arg)
{
    const struct script *s = arg;

    for (int i = 0; s->parts[i]; i++)
        push_all(ctx, s->parts[i]);
    vns_fn_enter(ctx, s->probe);
    return VNS_STEP_DONE;
}

/* Run @s on a fresh context of @kind and compare with the golden block. */
static void check_seed(enum vns_ctx_kind kind, int threadfn, struct script *s, const char *title)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = NULL;
    struct vns_ctx *ctx = NULL;
    char *got, *want;

    assert_int_equal(vns_cpu_create(sim, &(struct vns_cpu_config){.name = "cpu0"}, &c0), 0);
    assert_int_equal(vns_ctx_create(sim, &(struct vns_ctx_config){.kind = kind, .name = "t", .cpu = c0,
                                                                   .threadfn = threadfn,
                                                                   .fn = script_step, .arg = s},
                                    &ctx),
                     0);
    assert_int_equal(vns_probe_add_id(sim, s->probe), 0);
    vns_ctx_start(ctx, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    got = vns_test_stacks_string(sim, false);
    want = vns_test_golden_block(title);
    assert_string_equal(got, want);
    vns_free(got);
    vns_free(want);
    vns_sim_destroy(sim);
}

/* Seed "virtio-net xmit path": guest write() down to start_xmit. */
static void test_trace_seed_virtio_net_xmit(void **state)
{
    struct script s = {{write_syscall, to_qdisc, NULL}, VNS_FN_start_xmit};

    (void)state;
    check_seed(VNS_CTX_USER, -1, &s, "virtio-net xmit path");
}

/* Seed "tun xmit path": the vhost worker sends to tun. */
static void test_trace_seed_tun_xmit(void **state)
{
    struct script s = {{vhost_tx, NULL}, VNS_FN_tun_sendmsg};

    (void)state;
    check_seed(VNS_CTX_KTHREAD, VNS_FN_vhost_worker, &s, "tun xmit path");
}

/* Seed "tap xmit path": vhost_tx_batch shows as vhost_tx_batch.isra.23. */
static void test_trace_seed_tap_xmit(void **state)
{
    static const int batch[] = {VNS_FN_vhost_tx_batch, VNS_FN_tap_sendmsg, END};
    static const int q[] = {VNS_FN_dev_queue_xmit, VNS_FN___dev_queue_xmit, VNS_FN___dev_xmit_skb,
                            VNS_FN___qdisc_run, VNS_FN_qdisc_restart, VNS_FN_sch_direct_xmit,
                            VNS_FN_dev_hard_start_xmit, VNS_FN_xmit_one, VNS_FN_netdev_start_xmit, END};
    struct script s = {{vhost_tx, batch, q, NULL}, VNS_FN_macvlan_start_xmit};

    (void)state;
    check_seed(VNS_CTX_KTHREAD, VNS_FN_vhost_worker, &s, "tap xmit path");
}

/* Seed "tun recv path": dev_hard_start_xmit is shown under
 * __dev_queue_xmit (noqueue bridge) but not under sch_direct_xmit. */
static void test_trace_seed_tun_recv(void **state)
{
    static const int br[] = {VNS_FN_neigh_output, VNS_FN_neigh_hh_output, VNS_FN_dev_queue_xmit,
                             VNS_FN___dev_queue_xmit, VNS_FN_dev_hard_start_xmit, VNS_FN_xmit_one,
                             VNS_FN_netdev_start_xmit, VNS_FN_br_dev_xmit, VNS_FN_br_forward,
                             VNS_FN___br_forward, VNS_FN_br_forward_finish,
                             VNS_FN_br_dev_queue_push_xmit, END};
    static const int q[] = {VNS_FN_dev_queue_xmit, VNS_FN___dev_queue_xmit, VNS_FN___dev_xmit_skb,
                            VNS_FN___qdisc_run, VNS_FN_qdisc_restart, VNS_FN_sch_direct_xmit,
                            VNS_FN_dev_hard_start_xmit, VNS_FN_xmit_one, VNS_FN_netdev_start_xmit, END};
    struct script s = {{write_syscall, br, q, NULL}, VNS_FN_tun_net_xmit};

    (void)state;
    check_seed(VNS_CTX_USER, -1, &s, "tun recv path");
}

/* Folded output: outermost first, ';'-joined, with counts, sorted. */
static int twice_step(struct vns_ctx *ctx, void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++) {
        vns_fn_enter(ctx, VNS_FN_handle_tx_kick);
        vns_fn_enter(ctx, VNS_FN_handle_tx);
        vns_fn_enter(ctx, VNS_FN_vhost_tx_batch);
        vns_fn_exit(ctx);
        vns_fn_exit(ctx);
        vns_fn_exit(ctx);
    }
    vns_fn_enter(ctx, VNS_FN_handle_rx_kick);
    vns_fn_enter(ctx, VNS_FN_handle_rx);
    return VNS_STEP_DONE;
}

static void test_trace_folded_counts(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = NULL;
    struct vns_ctx *ctx = NULL;
    char *got;

    (void)state;
    vns_cpu_create(sim, &(struct vns_cpu_config){.name = "cpu0"}, &c0);
    vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_KTHREAD, .name = "vhost", .cpu = c0,
                                                  .threadfn = VNS_FN_vhost_worker, .fn = twice_step},
                   &ctx);
    assert_int_equal(vns_probe_add(sim, "vhost_tx_batch.isra.23"), 0);   /* by symbol */
    assert_int_equal(vns_probe_add(sim, "handle_rx"), 0);
    assert_int_equal(vns_probe_add(sim, "no_such_fn"), -VNS_ENOENT);
    assert_int_equal(vns_probe_add(sim, "vmexit"), -VNS_EINVAL);
    vns_ctx_start(ctx, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(vns_probe_hits(sim, VNS_FN_vhost_tx_batch), 2);
    assert_int_equal(vns_probe_nstacks(sim), 2);
    got = vns_test_stacks_string(sim, true);
    assert_string_equal(got,
                        "ret_from_fork;kthread;vhost_worker;handle_rx_kick;handle_rx 1\n"
                        "ret_from_fork;kthread;vhost_worker;handle_tx_kick;handle_tx;vhost_tx_batch.isra.23 2\n");
    vns_free(got);
    vns_sim_destroy(sim);
}

/* Profiles differ in symbols and hidden frames; unknown names are NULL. */
static void test_trace_profiles(void **state)
{
    const struct vns_profile *p54 = vns_profile_find("linux-5.4");
    const struct vns_profile *p66 = vns_profile_find("linux-6.6");

    (void)state;
    assert_non_null(p54);
    assert_non_null(p66);
    assert_null(vns_profile_find("linux-9.9"));
    assert_string_equal(vns_profile_symbol(p54, VNS_FN_vhost_tx_batch), "vhost_tx_batch.isra.23");
    assert_string_equal(vns_profile_symbol(p66, VNS_FN_do_IRQ), "common_interrupt");
    assert_false(vns_profile_shows(p54, VNS_FN_dev_hard_start_xmit, VNS_FN_sch_direct_xmit));
    assert_true(vns_profile_shows(p54, VNS_FN_dev_hard_start_xmit, VNS_FN___dev_queue_xmit));
    assert_true(vns_profile_shows(p54, VNS_FN___vfs_write, VNS_FN_vfs_write));
    assert_false(vns_profile_shows(p66, VNS_FN___vfs_write, VNS_FN_vfs_write));
    assert_string_equal(vns_profile_names()[0], "linux-5.4");
}

/* With no probe armed, entering a frame records nothing and allocates
 * nothing; deep recursion beyond the shadow stack does not overflow. */
static int deep_step(struct vns_ctx *ctx, void *arg)
{
    (void)arg;
    for (int i = 0; i < VNS_CTX_MAX_FRAMES + 50; i++)
        vns_fn_enter(ctx, VNS_FN_handle_tx);
    vns_fn_enter(ctx, VNS_FN_handle_rx);
    for (int i = 0; i < VNS_CTX_MAX_FRAMES + 51; i++)
        vns_fn_exit(ctx);
    return VNS_STEP_DONE;
}

static void test_trace_deep_stack_bounded(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = NULL;
    struct vns_ctx *ctx = NULL;

    (void)state;
    vns_cpu_create(sim, &(struct vns_cpu_config){.name = "cpu0"}, &c0);
    vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_KTHREAD, .name = "k", .cpu = c0,
                                                  .threadfn = -1, .fn = deep_step},
                   &ctx);
    vns_probe_add(sim, "handle_rx");
    vns_ctx_start(ctx, 0);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(vns_probe_hits(sim, VNS_FN_handle_rx), 1);
    assert_int_equal(vns_ctx_depth(ctx), 2);   /* base frames remain */
    vns_sim_destroy(sim);
}

/* The timeline records one event per step on the CPU's track, with the
 * context's name and the innermost function, as Chrome trace JSON. */
static void test_trace_timeline_json(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *c0 = vns_test_cpu(sim, "host/cpu0", NULL);
    struct vns_ctx *ctx = NULL;
    char *json;
    FILE *f;
    long n;

    (void)state;
    vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_KTHREAD, .name = "vhost-1", .cpu = c0,
                                                  .threadfn = VNS_FN_vhost_worker, .fn = twice_step},
                   &ctx);
    assert_int_equal(vns_timeline_write(sim, stdout), -VNS_EINVAL);   /* not enabled */
    assert_int_equal(vns_timeline_enable(sim, 0), 0);
    vns_ctx_start(ctx, 1500);
    vns_sim_run(sim, VNS_MSEC(1));
    assert_int_equal(vns_timeline_steps(sim), 1);
    f = tmpfile();
    assert_int_equal(vns_timeline_write(sim, f), 0);
    n = ftell(f);
    rewind(f);
    json = vns_malloc((size_t)n + 1);
    assert_int_equal(fread(json, 1, (size_t)n, f), (size_t)n);
    json[n] = '\0';
    fclose(f);
    assert_non_null(strstr(json, "\"traceEvents\""));
    assert_non_null(strstr(json, "{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": "));
    assert_non_null(strstr(json, "\"args\": {\"name\": \"host/cpu0\"}"));
    assert_non_null(strstr(json, "{\"name\": \"vhost-1\", \"cat\": \"kthread\", \"ph\": \"X\""));
    assert_non_null(strstr(json, "\"ts\": 1.500"));
    assert_non_null(strstr(json, "\"args\": {\"fn\": \"handle_rx\"}"));
    vns_free(json);
    vns_sim_destroy(sim);
}

/* Frames are recorded from when something reads them: a context that
 * sleeps mid-call with nothing recording cannot have a probe armed on it
 * (EBUSY: its stack would be wrong), and shows only its base frames; with
 * record_frames set, the same probe arms and sees the whole stack. */
static int sleep_mid_call(struct vns_ctx *ctx, void *arg)
{
    int *state = arg;

    if ((*state)++ == 0) {
        vns_fn_enter(ctx, VNS_FN_handle_tx_kick);
        vns_fn_enter(ctx, VNS_FN_handle_tx);
        return VNS_STEP_SLEEP;   /* asleep inside handle_tx */
    }
    vns_fn_enter(ctx, VNS_FN_handle_tx_copy);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    vns_fn_exit(ctx);
    return VNS_STEP_DONE;
}

static void frames_mid_call(bool record, int *probe_err, unsigned *stack_n, uint64_t *hits)
{
    struct vns_sim *sim;
    struct vns_cpu *c0 = NULL;
    struct vns_ctx *ctx = NULL;
    uint16_t fr[16];
    int state = 0;

    assert_int_equal(vns_sim_create(&(struct vns_sim_config){.seed = 1, .record_frames = record}, &sim), 0);
    vns_cpu_create(sim, &(struct vns_cpu_config){.name = "cpu0"}, &c0);
    vns_ctx_create(sim, &(struct vns_ctx_config){.kind = VNS_CTX_KTHREAD, .name = "vhost", .cpu = c0,
                                                  .threadfn = VNS_FN_vhost_worker, .fn = sleep_mid_call,
                                                  .arg = &state},
                   &ctx);
    vns_ctx_start(ctx, 0);
    vns_sim_run(sim, VNS_USEC(10));
    assert_int_equal(vns_ctx_depth(ctx), 5);   /* kthread base 3, handle_tx_kick, handle_tx */
    *stack_n = vns_ctx_stack(ctx, fr, 16);
    *probe_err = vns_probe_add(sim, "handle_tx_copy");
    vns_ctx_wake(NULL, ctx);
    vns_sim_run(sim, VNS_MSEC(1));
    *hits = vns_probe_hits(sim, VNS_FN_handle_tx_copy);
    assert_int_equal(vns_ctx_depth(ctx), 3);
    vns_sim_destroy(sim);
}

static void test_trace_frames_on_demand(void **state)
{
    int err;
    unsigned n;
    uint64_t hits;

    (void)state;
    frames_mid_call(false, &err, &n, &hits);
    assert_int_equal(err, -VNS_EBUSY);
    assert_int_equal(n, 3);   /* base frames only: the rest were not recorded */
    assert_int_equal(hits, 0);
    frames_mid_call(true, &err, &n, &hits);
    assert_int_equal(err, 0);
    assert_int_equal(n, 5);
    assert_int_equal(hits, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_trace_seed_virtio_net_xmit, teardown),
        cmocka_unit_test_teardown(test_trace_seed_tun_xmit, teardown),
        cmocka_unit_test_teardown(test_trace_seed_tap_xmit, teardown),
        cmocka_unit_test_teardown(test_trace_seed_tun_recv, teardown),
        cmocka_unit_test_teardown(test_trace_folded_counts, teardown),
        cmocka_unit_test_teardown(test_trace_profiles, teardown),
        cmocka_unit_test_teardown(test_trace_deep_stack_bounded, teardown),
        cmocka_unit_test_teardown(test_trace_timeline_json, teardown),
        cmocka_unit_test_teardown(test_trace_frames_on_demand, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
