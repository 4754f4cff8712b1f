/* tests/support/vns_test.c -- helpers shared by the cmocka tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/vns_test.h"

struct vns_sim *vns_test_sim(uint64_t seed)
{
    struct vns_sim *sim = NULL;

    assert_int_equal(vns_sim_create(&(struct vns_sim_config){.seed = seed}, &sim), 0);
    assert_non_null(sim);
    return sim;
}

struct vns_cpu *vns_test_cpu(struct vns_sim *sim, const char *name, struct vns_cpu *backing)
{
    struct vns_cpu *c = NULL;

    assert_int_equal(vns_cpu_create(sim, &(struct vns_cpu_config){.name = name, .backing_cpu = backing}, &c), 0);
    return c;
}

struct vns_ctx *vns_test_ctx(struct vns_sim *sim, enum vns_ctx_kind kind, const char *name,
                             struct vns_cpu *cpu, vns_step_fn fn, void *arg)
{
    struct vns_ctx *c = NULL;

    assert_int_equal(vns_ctx_create(sim, &(struct vns_ctx_config){.kind = kind, .name = name, .cpu = cpu,
                                                                   .threadfn = -1, .fn = fn, .arg = arg},
                                    &c),
                     0);
    return c;
}

char *vns_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = vns_malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            vns_free(buf);
            buf = NULL;
        } else if (buf) {
            buf[n] = '\0';
            if (len)
                *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

char *vns_test_stacks_string(const struct vns_sim *sim, bool folded)
{
    FILE *f = tmpfile();
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(folded ? vns_probe_write_folded(sim, f) : vns_probe_write_stacks(sim, f), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = vns_malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

char *vns_test_golden_block(const char *title)
{
    char *all = vns_test_read_file(VNS_TEST_SOURCE_DIR "/tests/golden/kernel-stacks.txt", NULL);
    char *p, *q, *out;
    size_t n;

    assert_non_null(all);
    p = strstr(all, title);
    assert_non_null(p);
    p = strchr(p, '\n') + 2;                      /* skip the title and the blank line */
    for (q = p; *q; q = strchr(q, '\n') + 1) {
        if (q[0] != '[' && q[0] != '\n')
            break;                                /* the next title */
        if (!strchr(q, '\n')) {
            q += strlen(q);
            break;
        }
    }
    while (q > p + 1 && q[-1] == '\n' && q[-2] == '\n')
        q--;                                      /* one blank line after the last stack */
    n = (size_t)(q - p);
    out = vns_malloc(n + 2);
    assert_non_null(out);
    memcpy(out, p, n);
    out[n] = '\0';
    if (n && out[n - 1] == '\n' && (n < 2 || out[n - 2] != '\n'))
        strcat(out, "\n");
    vns_free(all);
    return out;
}

bool vns_test_golden_matches(const char *path, const char *got)
{
    char *want;
    bool same;

    if (getenv("VNS_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(got, f);
        fclose(f);
        print_message("updated %s\n", path);
    }
    want = vns_test_read_file(path, NULL);
    same = want && !strcmp(want, got);
    if (!same)
        print_error("%s: got\n%s\nwant\n%s\n", path, got, want ? want : "(no file)\n");
    vns_free(want);
    return same;
}
