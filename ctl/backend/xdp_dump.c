// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_dump.c - reading the XDP backend's entries back: dump() with the
 * per-CPU counters summed and last-hit times turned into wall-clock
 * seconds, zeroing counters, and the record of recent SYN sources.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend/backend.h"
#include "backend/xdp.h"
#include "wire_shared.h"
#include "mxwall_shared.h"
#include "backend/xdp_int.h"

/*
 * clock_offset - unix time minus CLOCK_MONOTONIC (the clock of
 * bpf_ktime_get_coarse_ns()), in whole seconds, rounded. The difference of
 * the two clocks only moves when the wall clock is stepped, but reading
 * them costs a few hundred ns between the two calls: at ns precision a
 * stamp near a second boundary would come out one second apart in two
 * reads. Rounded to the second, the offset is the same in every read
 * (unless its fraction sits within a microsecond of one half), so
 * every dump and every process gives the same last_hit for the same
 * stamp; the price is up to half a second of error in an absolute value
 * printed in seconds anyway.
 */
static __s64 clock_offset(void)
{
	struct timespec mono, real;
	__s64 ns;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	ns = ((__s64)real.tv_sec - mono.tv_sec) * 1000000000LL +
	     (real.tv_nsec - mono.tv_nsec);
	return (ns + 500000000LL) / 1000000000LL;
}

/* mono_to_unix_off - a bpf_ktime_get_coarse_ns() stamp as unix seconds */
static int64_t mono_to_unix_off(__u64 ns, __s64 off)
{
	if (!ns)
		return 0;
	return (int64_t)(ns / 1000000000ULL) + off;
}

static int64_t mono_to_unix(__u64 ns)
{
	return mono_to_unix_off(ns, clock_offset());
}

static void sum_ctr(struct xdp_priv *p, __u32 id, struct mx_entry *e, __s64 off)
{
	__u64 last = 0;
	unsigned int cpu;

	e->packets = e->bytes = 0;
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		const struct mx_ctr *ct =
		    &p->ctr[(size_t)cpu * p->cfg.cap + id];

		e->packets += ct->packets;
		e->bytes += ct->bytes;
		if (ct->last_hit > last)
			last = ct->last_hit;
	}
	e->last_hit = mono_to_unix_off(last, off);
}

int xdp_dump(struct backend *be, struct mx_entry **out, size_t *n)
{
	struct xdp_priv *p = priv(be);
	struct mx_entry *v, *e;
	size_t cnt = 0, alloc = 0;
	const struct mx_meta *m;
	__s64 off = clock_offset();
	__u32 id;

	for (id = 0; id < p->cfg.cap; id++)
		alloc += p->meta[id].family != 0;
	v = xcalloc(alloc + 1, sizeof(*v));
	xdp_prefault(v, (alloc + 1) * sizeof(*v));
	for (id = 0; id < p->cfg.cap && cnt < alloc; id++) {
		m = &p->meta[id];
		if (!m->family)
			continue;
		e = &v[cnt++];
		xdp_meta_cidr(m, &e->net);
		e->action =
		    m->action == MX_VAL_ALLOW ? MX_ACT_ALLOW : MX_ACT_DROP;
		e->origin = m->origin;
		e->observe = m->observe;
		if (m->tagset && m->tagset < MX_TAGSETS)
			snprintf(e->tags, sizeof(e->tags), "%.*s",
				 MX_TAGS_LEN_BPF - 1, p->tags[m->tagset].tags);
		e->added = m->added;
		e->expires = m->expires;
		sum_ctr(p, id, e, off);
	}
	*out = v;
	*n = cnt;
	return 0;
}

int xdp_zero_counters(struct backend *be, const struct cidr *nets, size_t n)
{
	struct xdp_priv *p = priv(be);
	struct index ix;
	struct cidr c;
	unsigned int cpu;
	size_t i;
	__u32 id, *ids;

	if (!n) {
		memset(p->ctr, 0,
		       (size_t)p->cfg.cap * p->ncpus * sizeof(struct mx_ctr));
		return 0;
	}
	ids = xcalloc(n, sizeof(*ids));
	xdp_index_init(&ix, p->meta, p->cfg.cap);
	for (id = 0; id < p->cfg.cap; id++) {
		if (!p->meta[id].family)
			continue;
		xdp_meta_cidr(&p->meta[id], &c);
		xdp_index_put(&ix, &c, id, NULL);
	}
	for (i = 0; i < n; i++) {
		ids[i] = xdp_index_get(&ix, &nets[i]);
		if (ids[i] == UINT32_MAX) {
			free(ids);
			free(ix.slot);
			return -ENOENT;
		}
	}
	for (i = 0; i < n; i++)
		for (cpu = 0; cpu < p->ncpus; cpu++)
			memset(&p->ctr[(size_t)cpu * p->cfg.cap + ids[i]], 0,
			       sizeof(struct mx_ctr));
	free(ids);
	free(ix.slot);
	return 0;
}

int xdp_seen(struct backend *be, const struct cidr *host, int64_t *when)
{
	struct xdp_priv *p = priv(be);
	__u32 w[4] = {0}, tag, st;
	int v6;
	__u64 x;

	if (host->family != AF_INET && host->family != AF_INET6)
		return -EINVAL;
	v6 = host->family == AF_INET6;
	memcpy(w, host->addr, v6 ? 16 : 4);
	tag = mx_seen_tag(v6, w);
	x = __atomic_load_n(&p->seen[mx_seen_slot(tag, v6)], __ATOMIC_RELAXED);
	st = (__u32)(x >> 32);
	if (!x || (__u32)x != tag || (st & 1) != (__u32)v6)
		return -ENOENT;
	*when = mono_to_unix((__u64)(st >> 1) << MX_SEEN_SHIFT);
	return 0;
}
