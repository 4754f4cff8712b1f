/* tests/net/test_lookup.c -- the indexes a host with many guests leans on:
 * the neighbour hash (grows as entries come, answers as the list would)
 * and the established-socket cache (an exact 4-tuple match, dropped when
 * sockets come and go), with allocation failures on the way; the CPU id
 * table that finds a CPU's softnet data on a host with a CPU per guest. */
#include "support/inet_link.h"
#include "vnetsim/alloc.h"
#include "vnetsim/error.h"

#include "net/inet_int.h"

static int teardown(void **state)
{
    (void)state;
    vns_alloc_fail_at(0);
    assert_no_leaks();
    return 0;
}

/* Neighbour i of a host: 10.1.x.y. */
static uint32_t nip(unsigned i)
{
    return VNS_IPV4(10, 1, (i >> 8) & 0xff, i & 0xff);
}

/* 1,000 neighbours on two devices: every one is found, on its device
 * only; the table grew to about one per bucket. */
static void test_neigh_hash_many(void **state)
{
    struct inet_pair p;
    struct vns_inet *in;

    (void)state;
    inet_pair_init(&p, 1, NULL, NULL);
    in = p.a.inet;
    for (unsigned i = 0; i < 1000; i++)
        assert_non_null(vns__neigh_create(in, p.a.eth, nip(i)));
    assert_true((1u << in->neigh_hash_shift) >= 1000);
    assert_true((1u << in->neigh_hash_shift) <= 2048);
    for (unsigned i = 0; i < 1000; i++) {
        struct vns_neighbour *n = vns__neigh_lookup(in, p.a.eth, nip(i));

        assert_non_null(n);
        assert_int_equal(n->ip, nip(i));
        assert_null(vns__neigh_lookup(in, p.b.eth, nip(i)));   /* other device */
    }
    assert_null(vns__neigh_lookup(in, p.a.eth, nip(1000)));
    inet_pair_fini(&p);
}

/* A table that cannot grow keeps answering: through longer chains, or
 * through the list when there is no table at all. */
static void test_neigh_hash_alloc_failure(void **state)
{
    struct inet_pair p;
    struct vns_inet *in;

    (void)state;
    inet_pair_init(&p, 1, NULL, NULL);
    in = p.a.inet;
    vns_alloc_fail_at(2);   /* the entry is allocated, the table is not */
    assert_non_null(vns__neigh_create(in, p.a.eth, nip(0)));
    vns_alloc_fail_at(0);
    assert_null(in->neigh_hash);
    assert_non_null(vns__neigh_lookup(in, p.a.eth, nip(0)));
    for (unsigned i = 1; i < 8; i++)
        assert_non_null(vns__neigh_create(in, p.a.eth, nip(i)));
    vns_alloc_fail_at(2);   /* the 9th entry cannot double the table */
    assert_non_null(vns__neigh_create(in, p.a.eth, nip(8)));
    vns_alloc_fail_at(0);
    assert_int_equal(in->neigh_hash_shift, 3);
    for (unsigned i = 0; i <= 8; i++)
        assert_non_null(vns__neigh_lookup(in, p.a.eth, nip(i)));
    inet_pair_fini(&p);
}

/* A TCP socket set up as an accepted child would be. */
static struct vns_sock *child(struct vns_inet *in, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    struct vns_sock *sk = vns__sock_alloc(in, VNS_SOCK_STREAM, 0);

    assert_non_null(sk);
    sk->saddr = laddr;
    sk->sport = lport;
    sk->daddr = raddr;
    sk->dport = rport;
    sk->tp->state = VNS_TCP_ESTABLISHED;
    return sk;
}

/* 300 connections to one local port: each segment finds its own socket,
 * first by the scan, then from the cache; a freed socket leaves the cache
 * and a new one with the same tuple is found instead. */
static void test_sk_cache(void **state)
{
    struct inet_pair p;
    struct vns_inet *in;
    struct vns_sock *sk[300];

    (void)state;
    inet_pair_init(&p, 1, NULL, NULL);
    in = p.a.inet;
    for (unsigned i = 0; i < 300; i++)
        sk[i] = child(in, INET_ADDR_A, 5001, nip(i), (uint16_t)(40000 + i));
    for (int round = 0; round < 2; round++)
        for (unsigned i = 0; i < 300; i++)
            assert_ptr_equal(vns__sk_lookup(in, VNS_IPPROTO_TCP, nip(i), (uint16_t)(40000 + i), INET_ADDR_A, 5001),
                             sk[i]);
    assert_true(in->sk_cache_size >= 4 * 300);
    /* no match: not in the cache, not made up */
    assert_null(vns__sk_lookup(in, VNS_IPPROTO_TCP, nip(7), 39999, INET_ADDR_A, 5001));
    /* a field changes under a cached socket: the cache does not answer */
    sk[5]->dport = 1;
    assert_null(vns__sk_lookup(in, VNS_IPPROTO_TCP, nip(5), 40005, INET_ADDR_A, 5001));
    sk[5]->dport = 40005;
    vns__sock_free(sk[9]);
    assert_null(vns__sk_lookup(in, VNS_IPPROTO_TCP, nip(9), 40009, INET_ADDR_A, 5001));
    sk[9] = child(in, INET_ADDR_A, 5001, nip(9), 40009);
    assert_ptr_equal(vns__sk_lookup(in, VNS_IPPROTO_TCP, nip(9), 40009, INET_ADDR_A, 5001), sk[9]);
    inet_pair_fini(&p);
}

/* A kernel's softnet data per CPU, found through the CPU id table: each
 * CPU's contexts get their own, a CPU listed twice its first, a foreign
 * CPU (or none) the first CPU's. */
static void test_softnet_by_cpu(void **state)
{
    struct vns_sim *sim = vns_test_sim(1);
    struct vns_cpu *cpus[6], *other;
    struct vns_kernel *k;

    (void)state;
    for (unsigned i = 0; i < 5; i++)
        cpus[i] = vns_test_cpu(sim, "h/cpu", NULL);
    other = vns_test_cpu(sim, "other", NULL);
    cpus[5] = cpus[2];
    assert_int_equal(
        vns_kernel_create(sim, &(struct vns_kernel_config){.name = "h", .cpus = cpus, .ncpus = 6},
                          &k),
        0);
    assert_non_null(k->cpu_by_id);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(vns_kernel_softnet(k, vns_cpu_ksoftirqd(cpus[i]))->index, i);
    assert_int_equal(vns_kernel_softnet(k, vns_cpu_ksoftirqd(other))->index, 0);
    assert_int_equal(vns_kernel_softnet(k, NULL)->index, 0);
    vns_kernel_destroy(k);
    vns_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_neigh_hash_many, teardown),
        cmocka_unit_test_teardown(test_neigh_hash_alloc_failure, teardown),
        cmocka_unit_test_teardown(test_sk_cache, teardown),
        cmocka_unit_test_teardown(test_softnet_by_cpu, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
