// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_dump.c - reading the XDP backend's entries back: dump() with the
 * per-CPU counters of each entry's slot summed and last-hit times turned
 * into wall-clock seconds, and zeroing counters.
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

/* sum_ctr - the counters of the slot at pos, summed over CPUs */
static void sum_ctr(struct xdp_priv *p, const struct tpos *pos,
		    struct mx_entry *e)
{
	__u32 last = 0, ts;
	unsigned int cpu;

	e->packets = e->bytes = 0;
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		struct mx_ctr c = *xdp_tab_ctr(p, pos, cpu), *ct = &c;

		/* what the host index counted for it, logged hits too */
		xdp_x4_counts(p, pos, cpu, &c);
		e->packets += mx_ctr_packets(ct);
		e->bytes += mx_ctr_bytes(ct);
		ts = mx_ctr_stamp(ct);
		if (ts > last)
			last = ts;
	}
	e->last_hit = xdp_unix_of_ts(p, last);
}

/*
 * xdp_dump - every entry, from mx_meta, with its counters from its slot.
 * An entry whose expiry time has passed is left out: the program no
 * longer matches it (the next apply() removes it).
 */
int xdp_dump(struct backend *be, struct mx_entry **out, size_t *n)
{
	struct xdp_priv *p = priv(be);
	struct mx_entry *v, *e;
	size_t cnt = 0, alloc = 0;
	const struct mx_meta *m;
	int64_t now;
	struct tpos pos;
	__u32 id;

	if (xdp_refresh(be, false))
		return -EUCLEAN;
	p->clock_off = xdp_clock_offset();
	now = mx_now();
	for (id = 0; id < p->cfg.cap; id++)
		alloc += p->meta[id].family != 0;
	v = xcalloc(alloc + 1, sizeof(*v));
	xdp_prefault(v, (alloc + 1) * sizeof(*v));
	for (id = 0; id < p->cfg.cap && cnt < alloc; id++) {
		m = &p->meta[id];
		if (!m->family)
			continue;
		if (m->expires && m->expires <= now) {
			alloc--;
			continue;
		}
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
		if (xdp_tab_find(p, &e->net, &pos))
			sum_ctr(p, &pos, e);
	}
	*out = v;
	*n = cnt;
	return 0;
}

int xdp_zero_counters(struct backend *be, const struct cidr *nets, size_t n)
{
	struct xdp_priv *p = priv(be);
	struct tpos *pos;
	size_t i;

	if (xdp_refresh(be, false))
		return -EUCLEAN;
	if (!n) {
		memset(p->c4, 0, p->len[M_C4]);
		memset(p->c6, 0, p->len[M_C6]);
		xdp_x4_zero_all(p);
		return 0;
	}
	pos = xcalloc(n, sizeof(*pos));
	for (i = 0; i < n; i++) {
		if (!xdp_tab_find(p, &nets[i], &pos[i])) {
			free(pos);
			return -ENOENT;
		}
	}
	for (i = 0; i < n; i++)
		xdp_tab_zero_ctr(p, &pos[i]);
	free(pos);
	return 0;
}
