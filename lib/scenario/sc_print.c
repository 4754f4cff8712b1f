/* lib/scenario/sc_print.c -- `vnetsim check`: the resolved topology and
 * settings of a scenario, every default filled in. */
#include <stdio.h>

#include "vnetsim/hostile.h"
#include "vnetsim/scenario.h"
#include "vnetsim/units.h"
#include "sc_int.h"

static void print_addr(FILE *out, const struct vns_sc_addr *a)
{
    if (a->set)
        fprintf(out, " %u.%u.%u.%u/%u", a->ip >> 24, (a->ip >> 16) & 255, (a->ip >> 8) & 255, a->ip & 255,
                a->prefix);
}

void vns_scenario_print(const struct vns_scenario *sc, FILE *out)
{
    char t[32];

    fprintf(out, "scenario %s\n", sc->file);
    fprintf(out, "  profile %s, seed %llu, duration %s, payload %s", sc->profile, (unsigned long long)sc->seed,
            vns_format_time(sc->duration, t, sizeof(t)), vns__sc_payloads[sc->payload]);
    if (sc->cpu_mhz)
        fprintf(out, ", cpu %u MHz", sc->cpu_mhz);
    fprintf(out, "\nhost: %u CPUs\n", sc->host_cpus);
    for (size_t i = 0; i < sc->ndevices; i++) {
        const struct vns_sc_device *d = &sc->devices[i];

        fprintf(out, "  %-12s %-8s", d->name, vns__sc_dev_types[d->type]);
        print_addr(out, &d->addr);
        if (d->master[0])
            fprintf(out, " master %s", d->master);
        if (d->lower[0])
            fprintf(out, " lower %s mode %s", d->lower, vns__sc_macvlan_modes[d->mode]);
        if (d->type == VNS_SC_DEV_WIRE)
            fprintf(out, " peer %s rate %llu bit/s delay %s", d->peer,
                    (unsigned long long)(d->rate_bps ? d->rate_bps : 10000000000ull),
                    vns_format_time(d->delay, t, sizeof(t)));
        fputc('\n', out);
    }
    for (size_t i = 0; i < sc->nremotes; i++) {
        fprintf(out, "remote %s: %u CPUs", sc->remotes[i].name, sc->remotes[i].cpus);
        print_addr(out, &sc->remotes[i].addr);
        fputc('\n', out);
    }
    for (size_t i = 0; i < sc->nguests; i++) {
        const struct vns_sc_guest *g = &sc->guests[i];

        fprintf(out, "guest %s: %u vCPUs on host CPUs", g->name, g->nvcpus);
        for (uint32_t c = 0; c < g->nvcpus; c++)
            fprintf(out, "%s%d", c ? "," : " ", g->vcpu_pin[c]);
        fprintf(out, ", %llu MiB", (unsigned long long)(g->memory >> 20));
        print_addr(out, &g->addr);
        fprintf(out, "\n  nic: backend %s, %s ring of %u, %u queue pair%s, vhost on host CPU %d, features",
                g->nic.backend, g->nic.packed ? "packed" : "split", g->nic.ring_size, g->nic.queues,
                g->nic.queues > 1 ? "s" : "", g->nic.vhost_pin < 0 ? 0 : g->nic.vhost_pin);
        for (int f = 0; f < VNS_SC_F__COUNT; f++)
            if (g->nic.features & (1u << f))
                fprintf(out, " %s", vns__sc_features[f]);
        fputc('\n', out);
    }
    for (size_t i = 0; i < sc->nworkloads; i++) {
        const struct vns_sc_workload *w = &sc->workloads[i];

        fprintf(out, "workload %s: %s -> %s from %s", vns__sc_workload_types[w->type], w->from, w->to,
                vns_format_time(w->start, t, sizeof(t)));
        if (w->duration)
            fprintf(out, " for %s", vns_format_time(w->duration, t, sizeof(t)));
        if (w->type == VNS_SC_TCP_STREAM || w->type == VNS_SC_TCP_MAERTS || w->type == VNS_SC_UDP_STREAM)
            fprintf(out, ", %llu-byte %s", (unsigned long long)w->write_size, vns__sc_syscalls[w->syscall]);
        if (w->type == VNS_SC_UDP_STREAM)
            fprintf(out, w->rate_bps ? " at %llu bit/s" : " unpaced", (unsigned long long)w->rate_bps);
        if (w->type == VNS_SC_TCP_RR || w->type == VNS_SC_UDP_RR)
            fprintf(out, ", %llu-byte requests, %llu-byte responses", (unsigned long long)w->request_size,
                    (unsigned long long)w->response_size);
        if (w->type == VNS_SC_UDP_RR)
            fprintf(out, ", timeout %s", vns_format_time(w->timeout, t, sizeof(t)));
        if (w->type == VNS_SC_PING) {
            fprintf(out, ", %llu-byte echo every %s", (unsigned long long)w->size,
                    vns_format_time(w->interval, t, sizeof(t)));
            if (w->count)
                fprintf(out, ", %llu of them", (unsigned long long)w->count);
        }
        if (w->flows > 1)
            fprintf(out, ", %u flows", w->flows);
        fputc('\n', out);
    }
    if (sc->nprobes) {
        fprintf(out, "probes:");
        for (size_t i = 0; i < sc->nprobes; i++)
            fprintf(out, " %s", sc->probes[i]);
        fputc('\n', out);
    }
    for (size_t i = 0; i < sc->nfaults; i++) {
        const struct vns_sc_fault *f = &sc->faults[i];

        fprintf(out, "fault %s", vns__sc_fault_types[f->type]);
        if (f->type == VNS_SC_FAULT_CPU_HOG)
            fprintf(out, " on host CPU %u", f->cpu);
        else
            fprintf(out, " on %s", f->target);
        if (f->type == VNS_SC_FAULT_HOSTILE)
            fprintf(out, " %s%u %s", f->queue & 1 ? "tx" : "rx", f->queue / 2, vns_hostile_name(f->hostile));
        fprintf(out, " at %s", vns_format_time(f->at, t, sizeof(t)));
        if (f->duration)
            fprintf(out, " for %s", vns_format_time(f->duration, t, sizeof(t)));
        fputc('\n', out);
    }
    if (sc->limits.max_events || sc->limits.max_time || sc->limits.max_memory) {
        fprintf(out, "limits:");
        if (sc->limits.max_events)
            fprintf(out, " max_events %llu", (unsigned long long)sc->limits.max_events);
        if (sc->limits.max_time)
            fprintf(out, " max_time %s", vns_format_time(sc->limits.max_time, t, sizeof(t)));
        if (sc->limits.max_memory)
            fprintf(out, " max_memory %llu bytes", (unsigned long long)sc->limits.max_memory);
        fputc('\n', out);
    }
    for (size_t i = 0; i < sc->ncosts; i++)
        fprintf(out, "cost %s = %llu ns%s\n", sc->costs[i].func, (unsigned long long)sc->costs[i].call_ns,
                sc->costs[i].byte_ps >= 0 ? " + ps/byte" : "");
}
