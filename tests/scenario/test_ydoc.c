/* tests/scenario/test_ydoc.c -- YAML tree with positions, --set, typed
 * getters and the errors a user sees. */
#include <string.h>

#include "support/vns_test.h"
#include "vnetsim/ydoc.h"

static int teardown(void **state)
{
    (void)state;
    assert_no_leaks();
    return 0;
}

static struct vns_ydoc *parse_ok(const char *text)
{
    struct vns_ydoc *doc = NULL;
    struct vns_diag d = {0};

    assert_int_equal(vns_ydoc_parse(text, strlen(text), "t.yaml", &doc, &d), 0);
    return doc;
}

static void parse_err(const char *text, const char *want)
{
    struct vns_ydoc *doc = NULL;
    struct vns_diag d = {0};
    char buf[600];

    assert_true(vns_ydoc_parse(text, strlen(text), "t.yaml", &doc, &d) < 0);
    assert_null(doc);
    vns_diag_format(&d, buf, sizeof(buf));
    if (!strstr(buf, want))
        fail_msg("got '%s', want '%s'", buf, want);
}

static const char scenario[] =
    "profile: linux-5.4\n"
    "seed: 42\n"
    "guests:\n"
    "  - name: vm1\n"
    "    nic: {ring_size: 256, features: [event_idx, csum]}\n"
    "  - name: vm2\n"
    "    nic:\n"
    "      ring_size: 1024\n";

/* Nodes keep their line and column; maps and lists nest. */
static void test_ydoc_tree_and_positions(void **state)
{
    struct vns_ydoc *doc = parse_ok(scenario);
    struct vns_ynode *g, *nic, *rs, *feat;

    (void)state;
    g = vns_ymap_get(doc->root, "guests");
    assert_non_null(g);
    assert_int_equal(g->kind, VNS_YSEQ);
    assert_int_equal(g->n, 2);
    nic = vns_ymap_get(g->items[0], "nic");
    rs = vns_ymap_get(nic, "ring_size");
    assert_string_equal(rs->scalar, "256");
    assert_int_equal(rs->line, 5);
    assert_int_equal(rs->col, 22);
    feat = vns_ymap_get(nic, "features");
    assert_int_equal(feat->kind, VNS_YSEQ);
    assert_string_equal(feat->items[1]->scalar, "csum");
    rs = vns_ymap_get(vns_ymap_get(g->items[1], "nic"), "ring_size");
    assert_int_equal(rs->line, 8);
    assert_int_equal(rs->col, 18);
    vns_ydoc_free(doc);
}

/* Bad YAML is an error at file:line:col, never a crash. */
static void test_ydoc_errors(void **state)
{
    (void)state;
    parse_err("a: [1, 2\n", "t.yaml:2:1: error: YAML syntax");
    parse_err("a: 1\na: 2\n", "t.yaml:2:1: error: duplicate key 'a'");
    parse_err("a: &x 1\nb: *x\n", "anchors (&x) are not supported");
    parse_err("a: 1\n---\nb: 2\n", "more than one YAML document");
    parse_err("- 1\n- 2\n", "t.yaml:1:1: error: a scenario is a map");
    parse_err("? [a]\n: 1\n", "cannot be a map key");
    {
        char deep[400];
        size_t n = 0;

        for (int i = 0; i < 70; i++)
            deep[n++] = '[';
        deep[n] = '\0';
        parse_err(deep, "nested deeper than 64 levels");
    }
}

/* An empty file is an empty scenario (all defaults). */
static void test_ydoc_empty(void **state)
{
    struct vns_ydoc *doc = parse_ok("# nothing\n");

    (void)state;
    assert_null(doc->root);
    vns_ydoc_free(doc);
}

/* --set edits: replace, create nested keys, append to a list, and clear
 * errors for impossible paths. */
static void test_ydoc_set(void **state)
{
    struct vns_ydoc *doc = parse_ok(scenario);
    struct vns_diag d = {0};
    struct vns_ynode *g;
    char buf[600];

    (void)state;
    assert_int_equal(vns_ydoc_set(doc, "guests[0].nic.ring_size=1024", &d), 0);
    assert_int_equal(vns_ydoc_set(doc, "guests[1].vhost.pin=3", &d), 0);
    assert_int_equal(vns_ydoc_set(doc, "guests[2]={name: vm3}", &d), 0);
    assert_int_equal(vns_ydoc_set(doc, "costs.do_IRQ=200", &d), 0);
    assert_int_equal(vns_ydoc_set(doc, "seed=7", &d), 0);
    g = vns_ymap_get(doc->root, "guests");
    assert_string_equal(vns_ymap_get(vns_ymap_get(g->items[0], "nic"), "ring_size")->scalar, "1024");
    assert_string_equal(vns_ymap_get(vns_ymap_get(g->items[1], "vhost"), "pin")->scalar, "3");
    assert_int_equal(g->n, 3);
    assert_string_equal(vns_ymap_get(g->items[2], "name")->scalar, "vm3");
    assert_string_equal(vns_ymap_get(vns_ymap_get(doc->root, "costs"), "do_IRQ")->scalar, "200");
    assert_string_equal(vns_ymap_get(doc->root, "seed")->scalar, "7");
    assert_int_equal(vns_ydoc_set(doc, "guests[7].name=x", &d), -VNS_EINVAL);
    vns_diag_format(&d, buf, sizeof(buf));
    assert_non_null(strstr(buf, "index 7 is past the end of a list of 3"));
    assert_int_equal(vns_ydoc_set(doc, "seed.x=1", &d), -VNS_EINVAL);
    assert_int_equal(vns_ydoc_set(doc, "guests.name=1", &d), -VNS_EINVAL);
    assert_int_equal(vns_ydoc_set(doc, "novalue", &d), -VNS_EINVAL);
    assert_int_equal(vns_ydoc_set(doc, "a..b=1", &d), -VNS_EINVAL);
    assert_int_equal(vns_ydoc_set(doc, "a[x]=1", &d), -VNS_EINVAL);
    assert_int_equal(vns_ydoc_set(doc, "a=[1, 2", &d), -VNS_EINVAL);
    vns_ydoc_free(doc);
}

/* Typed getters: units, ranges, enums, and messages with key paths. */
static void test_ydoc_getters(void **state)
{
    struct vns_ydoc *doc = parse_ok("duration: 1.5ms\nrate: 10Gbit\nsize: 64KiB\nq: 5\nbad: 10parsecs\n"
                                    "on: yes\nmode: bridge\nlist: [1]\n");
    struct vns_diag d = {0};
    struct vns_ypath p = {.doc = doc, .d = &d, .path = ""}, c;
    vns_time_t t = 0;
    uint64_t v = 99;
    bool b = false;
    int e = -1;
    const char *s = NULL;
    static const char *const modes[] = {"private", "vepa", "bridge", "passthru", NULL};
    char buf[600];

    (void)state;
    assert_int_equal(vns_yget_time(&p, doc->root, "duration", &t), 0);
    assert_int_equal(t, 1500000);
    assert_int_equal(vns_yget_rate(&p, doc->root, "rate", &v), 0);
    assert_int_equal(v, 10000000000ull);
    assert_int_equal(vns_yget_size(&p, doc->root, "size", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(vns_yget_u64(&p, doc->root, "missing", 0, 10, &v), 0);
    assert_int_equal(v, 65536);   /* default kept */
    assert_int_equal(vns_yget_bool(&p, doc->root, "on", &b), 0);
    assert_true(b);
    assert_int_equal(vns_yget_enum(&p, doc->root, "mode", modes, &e), 0);
    assert_int_equal(e, 2);
    assert_int_equal(vns_yget_str(&p, doc->root, "mode", &s), 0);
    assert_string_equal(s, "bridge");

    vns_ypath_key(&c, &p, "guests");
    vns_ypath_index(&c, &c, 0);
    assert_string_equal(c.path, "guests[0]");
    assert_int_equal(vns_yget_u64(&c, doc->root, "q", 8, 16, &v), -VNS_EINVAL);
    vns_diag_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, "t.yaml:4:4: error: guests[0].q: expected an integer from 8 to 16, got '5'");
    assert_int_equal(vns_yget_time(&p, doc->root, "bad", &t), -VNS_EINVAL);
    vns_diag_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, "t.yaml:5:6: error: bad: expected a time such as 250us, 10ms or 1s, got '10parsecs'");
    assert_int_equal(vns_yget_enum(&p, doc->root, "duration", modes, &e), -VNS_EINVAL);
    vns_diag_format(&d, buf, sizeof(buf));
    assert_non_null(strstr(buf, "expected one of private, vepa, bridge, passthru, got '1.5ms'"));
    assert_int_equal(vns_yget_time(&p, doc->root, "list", &t), -VNS_EINVAL);
    vns_diag_format(&d, buf, sizeof(buf));
    assert_non_null(strstr(buf, "got a list"));
    vns_ydoc_free(doc);
}

/* Unknown keys: the closest known key is suggested. */
static void test_ydoc_unknown_key_suggestion(void **state)
{
    struct vns_ydoc *doc = parse_ok("nic:\n  ring_sise: 256\n");
    struct vns_diag d = {0};
    struct vns_ypath p = {.doc = doc, .d = &d, .path = ""}, c;
    static const char *const known[] = {"backend", "ring", "ring_size", "queues", NULL};
    char buf[600];

    (void)state;
    vns_ypath_key(&c, &p, "nic");
    assert_int_equal(vns_ycheck_map(&c, vns_ymap_get(doc->root, "nic"), known), -VNS_EINVAL);
    vns_diag_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, "t.yaml:2:3: error: nic.ring_sise: unknown key; did you mean 'ring_size'?");
    assert_int_equal(vns_edit_distance("kitten", "sitting"), 3);
    vns_ydoc_free(doc);
}

/* Values from --set report "--set" instead of a file position. */
static void test_ydoc_set_values_report_set(void **state)
{
    struct vns_ydoc *doc = parse_ok("seed: 1\n");
    struct vns_diag d = {0};
    struct vns_ypath p = {.doc = doc, .d = &d, .path = ""};
    uint64_t v;
    char buf[600];

    (void)state;
    assert_int_equal(vns_ydoc_set(doc, "seed=banana", &d), 0);
    assert_int_equal(vns_yget_u64(&p, doc->root, "seed", 0, 100, &v), -VNS_EINVAL);
    vns_diag_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, "--set: error: seed: expected an integer from 0 to 100, got 'banana'");
    vns_ydoc_free(doc);
}

/* Every allocation failure during parsing unwinds without a leak. */
static void test_ydoc_alloc_failure_sweep(void **state)
{
    (void)state;
    for (long nth = 1; nth < 120; nth++) {
        struct vns_ydoc *doc = NULL;
        struct vns_diag d = {0};
        int err;

        vns_alloc_fail_at(nth);
        err = vns_ydoc_parse(scenario, strlen(scenario), "t.yaml", &doc, &d);
        vns_alloc_fail_at(0);
        if (err)
            assert_int_equal(err, -VNS_ENOMEM);
        vns_ydoc_free(doc);
        assert_no_leaks();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ydoc_tree_and_positions, teardown),
        cmocka_unit_test_teardown(test_ydoc_errors, teardown),
        cmocka_unit_test_teardown(test_ydoc_empty, teardown),
        cmocka_unit_test_teardown(test_ydoc_set, teardown),
        cmocka_unit_test_teardown(test_ydoc_getters, teardown),
        cmocka_unit_test_teardown(test_ydoc_unknown_key_suggestion, teardown),
        cmocka_unit_test_teardown(test_ydoc_set_values_report_set, teardown),
        cmocka_unit_test_teardown(test_ydoc_alloc_failure_sweep, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
