// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_table.c - the XDP backend's lookup tables on the controller's side:
 * the index from (family, prefix) to entry id over the mmapped mx_meta,
 * and the two-choice tables of both families (slots written in the order
 * the program needs, counters addressed by slot and moved with their
 * entry, an undo log), and the host index of every IPv4 host that the
 * slot writer keeps (x_before, x_after), with its counters and logs.
 * The summaries, tag sets and mx_ctl are in
 * xdp_sum.c, the program's clock in xdp_clock.c. Layouts:
 * bpf/mxwall_shared.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <endian.h>
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

/* ---- entries ---- */

static __u64 net_hash(const __u8 *addr, __u8 family, __u8 plen)
{
	__u64 h = 0xcbf29ce484222325ULL ^ ((__u64)family << 8 | plen);
	int i;

	for (i = 0; i < 16; i += 4) {
		__u32 w;

		memcpy(&w, addr + i, 4);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h * 0x9e3779b97f4a7c15ULL;
}

bool xdp_meta_is(const struct mx_meta *m, const struct cidr *c)
{
	return m->family == c->family && m->plen == c->plen &&
	       !memcmp(m->addr, c->addr, 16);
}

/* index_pending - the planned entry at slot pos, or NULL */
static const struct cidr *index_pending(const struct index *ix, size_t pos)
{
	if (ix->pend)
		return ix->pend[(__u32)ix->slot[pos] - 1];
	return ix->spend ? ix->spend[pos] : NULL;
}

static bool index_match(const struct index *ix, size_t pos, __u64 h,
			const struct cidr *c)
{
	__u64 s = ix->slot[pos];
	__u32 id = (__u32)s - 1;
	const struct cidr *pc;

	if (s == IX_TOMB || (s >> 32) != (h >> 32))
		return false;
	pc = index_pending(ix, pos);
	if (pc)
		return pc->family == c->family && pc->plen == c->plen &&
		       !memcmp(pc->addr, c->addr, 16);
	return xdp_meta_is(&ix->meta[id], c);
}

void xdp_index_init(struct index *ix, const struct mx_meta *meta, size_t want)
{
	size_t n = 64;

	while (n < want * 2)
		n <<= 1;
	ix->slot = xcalloc(n, sizeof(*ix->slot));
	xdp_prefault(ix->slot, n * sizeof(*ix->slot));
	ix->mask = n - 1;
	ix->meta = meta;
	ix->pend = NULL;
	ix->spend = NULL;
}

void xdp_index_prefetch(const struct index *ix, const struct cidr *c)
{
	__builtin_prefetch(
	    &ix->slot[net_hash(c->addr, c->family, c->plen) & ix->mask]);
}

/* index_pos - the slot holding c, or SIZE_MAX; *empty: where it would go */
static size_t index_pos(const struct index *ix, const struct cidr *c,
			size_t *empty)
{
	__u64 h = net_hash(c->addr, c->family, c->plen), s;
	size_t i = h & ix->mask, tomb = SIZE_MAX;

	for (;; i = (i + 1) & ix->mask) {
		s = ix->slot[i];
		if (!s) {
			if (empty)
				*empty = tomb != SIZE_MAX ? tomb : i;
			return SIZE_MAX;
		}
		if (s == IX_TOMB && tomb == SIZE_MAX)
			tomb = i;
		if (index_match(ix, i, h, c))
			return i;
	}
}

__u32 xdp_index_get(const struct index *ix, const struct cidr *c)
{
	size_t i = index_pos(ix, c, NULL);

	return i == SIZE_MAX ? UINT32_MAX : (__u32)ix->slot[i] - 1;
}

/* xdp_index_put - c is id; pc: c as planned by this call (not in meta yet) */
void xdp_index_put(struct index *ix, const struct cidr *c, __u32 id,
		   const struct cidr *pc)
{
	__u64 h = net_hash(c->addr, c->family, c->plen);
	size_t e = 0, i = index_pos(ix, c, &e);

	if (i == SIZE_MAX)
		i = e;
	ix->slot[i] = (h >> 32 << 32) | (id + 1);
	if (ix->pend && pc)
		ix->pend[id] = pc;
	else if (ix->spend)
		ix->spend[i] = pc;
}

/* xdp_index_is_pending - is c planned by this call (not in meta yet) */
bool xdp_index_is_pending(const struct index *ix, const struct cidr *c)
{
	size_t i = index_pos(ix, c, NULL);

	return i != SIZE_MAX && index_pending(ix, i);
}

void xdp_index_del(struct index *ix, const struct cidr *c)
{
	size_t i = index_pos(ix, c, NULL);

	if (i == SIZE_MAX)
		return;
	ix->slot[i] = IX_TOMB;
	if (ix->spend)
		ix->spend[i] = NULL;
}

void xdp_meta_cidr(const struct mx_meta *m, struct cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->family = m->family;
	c->plen = m->plen;
	memcpy(c->addr, m->addr, 16);
}

/* ---- the tables (mxwall_shared.h) ---- */

/* buckets - the two candidate buckets of c */
static void buckets(const struct xdp_priv *p, const struct cidr *c, __u32 b[2])
{
	__u64 hi, lo, h;

	if (c->family == AF_INET) {
		b[0] = mx_t4_b1(host4(c), c->plen, p->cfg.nb4 - 1);
		b[1] = mx_t4_b2(host4(c), c->plen, p->cfg.nb4 - 1);
		return;
	}
	words6(c, &hi, &lo);
	h = mx_h6(hi, lo, c->plen);
	b[0] = mx_t6_b1(h, p->cfg.nb6 - 1);
	b[1] = mx_t6_b2(h, p->cfg.nb6 - 1);
}

static __u32 nslots(__u8 family)
{
	return family == AF_INET ? MX_T4_SLOTS : MX_T6_SLOTS;
}

/* slot_used - is the slot at pos taken */
static bool slot_used(const struct xdp_priv *p, const struct tpos *pos)
{
	if (pos->family == AF_INET)
		return __atomic_load_n(&p->t4[pos->b].s[pos->j].key,
				       __ATOMIC_RELAXED) != 0;
	return __atomic_load_n(&p->t6[pos->b].s[pos->j].flags,
			       __ATOMIC_RELAXED) != 0;
}

/* slot_is - does the slot at pos hold c */
static bool slot_is(const struct xdp_priv *p, const struct tpos *pos,
		    const struct cidr *c)
{
	__u64 hi, lo;

	if (pos->family == AF_INET) {
		__u64 k = p->t4[pos->b].s[pos->j].key;

		return k && (__u32)k == host4(c) &&
		       MX_E_PLEN((__u32)(k >> 32)) == c->plen;
	}
	words6(c, &hi, &lo);
	return p->t6[pos->b].s[pos->j].flags &&
	       MX_E_PLEN(p->t6[pos->b].s[pos->j].flags) == c->plen &&
	       p->t6[pos->b].s[pos->j].hi == hi &&
	       p->t6[pos->b].s[pos->j].lo == lo;
}

/* xdp_tab_get - the entry in the slot at pos: its net and id */
bool xdp_tab_get(struct xdp_priv *p, const struct tpos *pos, struct cidr *c,
		 __u32 *id)
{
	memset(c, 0, sizeof(*c));
	c->family = pos->family;
	if (pos->family == AF_INET) {
		const struct mx_slot4 *s = &p->t4[pos->b].s[pos->j];
		__u32 a;

		if (!s->key)
			return false;
		a = htonl((__u32)s->key);
		memcpy(c->addr, &a, 4);
		c->plen = (__u8)MX_E_PLEN((__u32)(s->key >> 32));
		*id = s->id;
		return true;
	} else {
		const struct mx_slot6 *s = &p->t6[pos->b].s[pos->j];

		if (!s->flags)
			return false;
		memcpy(c->addr, &s->hi, 8);
		memcpy(c->addr + 8, &s->lo, 8);
		c->plen = (__u8)MX_E_PLEN(s->flags);
		*id = s->id;
		return true;
	}
}

/* xdp_tab_find - the slot holding c */
bool xdp_tab_find(struct xdp_priv *p, const struct cidr *c, struct tpos *pos)
{
	__u32 b[2], i, j;

	buckets(p, c, b);
	pos->family = c->family;
	for (i = 0; i < 2; i++) {
		pos->b = b[i];
		for (j = 0; j < nslots(c->family); j++) {
			pos->j = j;
			if (slot_is(p, pos, c))
				return true;
		}
	}
	return false;
}

void xdp_tab_prefetch(struct xdp_priv *p, const struct cidr *c)
{
	__u32 b[2];

	buckets(p, c, b);
	if (c->family == AF_INET) {
		__builtin_prefetch(&p->t4[b[0]]);
		__builtin_prefetch(&p->t4[b[1]]);
	} else {
		__builtin_prefetch(&p->t6[b[0]]);
		__builtin_prefetch(&p->t6[b[1]]);
	}
}

struct mx_ctr *xdp_tab_ctr(struct xdp_priv *p, const struct tpos *pos,
			   unsigned int cpu)
{
	if (pos->family == AF_INET)
		return &p->c4[(size_t)cpu * p->cfg.nb4 + pos->b].c[pos->j];
	return &p->c6[(size_t)cpu * p->cfg.nb6 + pos->b].c[pos->j];
}

static long x_find(struct xdp_priv *p, __u32 a);
static __u32 x_host(__u64 key);
static struct mx_ctr *x_ctr(struct xdp_priv *p, __u32 s, unsigned int cpu);
static void x_logged_sum(struct xdp_priv *p, __u32 s, __u32 a, unsigned int cpu,
			 struct mx_ctr *sum, bool take);

/* xdp_tab_zero_ctr - the counters of the entry at pos back to zero: its
 * slot's, and in the index its index slot's and its hits still logged */
void xdp_tab_zero_ctr(struct xdp_priv *p, const struct tpos *pos)
{
	struct mx_ctr gone;
	unsigned int cpu;
	__u32 a;
	long s;

	for (cpu = 0; cpu < p->ncpus; cpu++)
		memset(xdp_tab_ctr(p, pos, cpu), 0, sizeof(struct mx_ctr));
	if (!p->x4 || pos->family != AF_INET)
		return;
	a = x_host(p->t4[pos->b].s[pos->j].key);
	s = x_find(p, a);
	if (s < 0)
		return;
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		memset(x_ctr(p, (__u32)s, cpu), 0, sizeof(struct mx_ctr));
		x_logged_sum(p, (__u32)s, a, cpu, &gone, true);
	}
}

/* ctr_nonzero - has any CPU counted into the slot at pos */
static bool ctr_nonzero(struct xdp_priv *p, const struct tpos *pos)
{
	unsigned int cpu;

	for (cpu = 0; cpu < p->ncpus; cpu++) {
		const struct mx_ctr *x = xdp_tab_ctr(p, pos, cpu);

		if (x->pk || x->by)
			return true;
	}
	return false;
}

static struct mx_ctr *ctr_save(struct xdp_priv *p, const struct tpos *pos)
{
	struct mx_ctr *v = xcalloc(p->ncpus, sizeof(*v));
	unsigned int cpu;

	for (cpu = 0; cpu < p->ncpus; cpu++)
		v[cpu] = *xdp_tab_ctr(p, pos, cpu);
	return v;
}

static void ctr_restore(struct xdp_priv *p, const struct tpos *pos,
			const struct mx_ctr *v)
{
	unsigned int cpu;

	for (cpu = 0; cpu < p->ncpus; cpu++)
		*xdp_tab_ctr(p, pos, cpu) = v ? v[cpu] : (struct mx_ctr){0, 0};
}

/*
 * ctr_move_begin, ctr_move_end - the counters of slot from go to slot to
 * (whose own are dropped): copied before to's key is published, and what
 * the program counted into from meanwhile added once from's key is gone.
 */
static void ctr_move_begin(struct xdp_priv *p, const struct tpos *from,
			   const struct tpos *to)
{
	unsigned int cpu;

	for (cpu = 0; cpu < p->ncpus; cpu++)
		*xdp_tab_ctr(p, to, cpu) = *xdp_tab_ctr(p, from, cpu);
}

static void ctr_move_end(struct xdp_priv *p, const struct tpos *from,
			 const struct tpos *to, const struct mx_ctr *copied)
{
	unsigned int cpu;

	for (cpu = 0; cpu < p->ncpus; cpu++) {
		struct mx_ctr *f = xdp_tab_ctr(p, from, cpu),
			      *t = xdp_tab_ctr(p, to, cpu), x = *f;
		__u64 dp = (x.pk - copied[cpu].pk) & MX_CTR_MASK,
		      db = (x.by - copied[cpu].by) & MX_CTR_MASK;

		if (dp || db) {
			t->pk = ((t->pk + dp) & MX_CTR_MASK) |
				(x.pk & ~MX_CTR_MASK);
			t->by = ((t->by + db) & MX_CTR_MASK) |
				(x.by & ~MX_CTR_MASK);
		}
		memset(f, 0, sizeof(*f));
	}
}

/* log_push - a record for the undo log; NULL without a log */
static struct tab_rec *log_push(struct tab_log *log)
{
	struct tab_rec *r;

	if (!log)
		return NULL;
	if (log->n == log->alloc) {
		log->alloc = log->alloc ? log->alloc * 2 : 1024;
		log->v = xreallocarray(log->v, log->alloc, sizeof(*log->v));
	}
	r = &log->v[log->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* ---- the host index (mxwall_shared.h) ---- */

/* xdp_ctr_add - t += f: packets and bytes added, the later stamp kept */
void xdp_ctr_add(struct mx_ctr *t, const struct mx_ctr *f)
{
	__u64 pk = (mx_ctr_packets(t) + mx_ctr_packets(f)) & MX_CTR_MASK;
	__u64 by = (mx_ctr_bytes(t) + mx_ctr_bytes(f)) & MX_CTR_MASK;
	__u32 ts = mx_ctr_stamp(t) > mx_ctr_stamp(f) ? mx_ctr_stamp(t)
						     : mx_ctr_stamp(f);

	t->pk = pk | (__u64)(ts & 0xffff) << 48;
	t->by = by | (__u64)(ts >> 16) << 48;
}

/* x_host - the host of an IPv4 slot's key if it is a /32 entry (the
 * index holds every one), else 0 */
static __u32 x_host(__u64 key)
{
	return MX_E_PLEN((__u32)(key >> 32)) == 32 ? (__u32)key : 0;
}

/* x_elig - may the index answer for an IPv4 slot alone: a plain drop
 * host with no expiry */
static bool x_elig(__u64 key, __u32 exp)
{
	__u32 f = (__u32)(key >> 32);

	return x_host(key) && !(f & (MX_E_ALLOW | MX_E_OBSERVE)) && !exp;
}

static __u32 *x_key(struct xdp_priv *p, __u32 s)
{
	return &p->x4[s / MX_X4_STRIDE].k[s % MX_X4_STRIDE];
}

/* x_hdr - the header word of index slot s's line */
static __u32 *x_hdr(struct xdp_priv *p, __u32 s)
{
	return &p->x4[s / MX_X4_STRIDE].hdr;
}

static struct mx_ctr *x_ctr(struct xdp_priv *p, __u32 s, unsigned int cpu)
{
	return &p->xc4[(size_t)cpu * p->nx4 * MX_X4_STRIDE + s];
}

/* x_find - the index slot of host a, or -1 */
static long x_find(struct xdp_priv *p, __u32 a)
{
	__u32 b[2] = {mx_x4_b1(a, p->nx4), mx_x4_b2(a, p->nx4)}, s;
	int i;

	if (!a)
		return -1;
	for (i = 0; i < 2; i++)
		for (s = b[i] * MX_X4_STRIDE;
		     s < b[i] * MX_X4_STRIDE + MX_X4_SLOTS; s++)
			if (__atomic_load_n(x_key(p, s), __ATOMIC_ACQUIRE) == a)
				return (long)s;
	return -1;
}

/*
 * x_add - host a into the index if it is not there, asking the table
 * (its ask bit set before its key appears), its counters from zero; with
 * both of its lines full it stays out and its first line says so
 */
static void x_add(struct xdp_priv *p, __u32 a)
{
	__u32 b[2] = {mx_x4_b1(a, p->nx4), mx_x4_b2(a, p->nx4)}, s;
	unsigned int cpu;
	int i;

	if (!a || x_find(p, a) >= 0)
		return;
	for (i = 0; i < 2; i++) {
		/* the first line full: the program must look in the second
		 * (set before the key can appear there) */
		if (i == 1)
			__atomic_fetch_or(&p->x4[b[0]].hdr, MX_X4_OVF,
					  __ATOMIC_RELEASE);
		for (s = b[i] * MX_X4_STRIDE;
		     s < b[i] * MX_X4_STRIDE + MX_X4_SLOTS; s++) {
			if (*x_key(p, s))
				continue;
			for (cpu = 0; cpu < p->ncpus; cpu++)
				memset(x_ctr(p, s, cpu), 0,
				       sizeof(struct mx_ctr));
			__atomic_fetch_or(x_hdr(p, s),
					  MX_X4_ASK(s % MX_X4_STRIDE),
					  __ATOMIC_RELEASE);
			__atomic_store_n(x_key(p, s), a, __ATOMIC_RELEASE);
			return;
		}
	}
	__atomic_fetch_or(&p->x4[b[0]].hdr, MX_X4_PART, __ATOMIC_RELEASE);
}

/*
 * x_elsewhere - does the table hold host a in a slot other than pos (elig:
 * as a plain drop entry)
 */
static bool x_elsewhere(struct xdp_priv *p, __u32 a, const struct tpos *pos,
			bool elig)
{
	__u32 b[2] = {mx_t4_b1(a, 32, p->cfg.nb4 - 1),
		      mx_t4_b2(a, 32, p->cfg.nb4 - 1)},
	      j;
	const struct mx_slot4 *d;
	int i;

	for (i = 0; i < 2; i++)
		for (j = 0; j < MX_T4_SLOTS; j++) {
			if (b[i] == pos->b && j == pos->j)
				continue;
			d = &p->t4[b[i]].s[j];
			if (x_host(d->key) == a &&
			    (!elig || x_elig(d->key, d->exp)))
				return true;
		}
	return false;
}

/* x_logged - one logged hit as a counter */
static void x_logged(const struct mx_xlog *l, __u32 i, struct mx_ctr *one)
{
	one->pk = 1 | (__u64)(l->ts[i] & 0xffff) << 48;
	one->by = (l->len[i] & MX_CTR_MASK) | (__u64)(l->ts[i] >> 16) << 48;
}

/* x_logged_sum - add to sum the hits of (index slot s, host a) in cpu's
 * log; take: and take them out of it (a fold skips them then) */
static void x_logged_sum(struct xdp_priv *p, __u32 s, __u32 a, unsigned int cpu,
			 struct mx_ctr *sum, bool take)
{
	struct mx_xlog *l = &p->xl[cpu];
	struct mx_ctr one;
	__u32 i, n = __atomic_load_n(&l->n, __ATOMIC_ACQUIRE);

	for (i = 0; i < n && i < MX_XLOG; i++) {
		if (l->slot[i] != s || l->key[i] != a)
			continue;
		x_logged(l, i, &one);
		xdp_ctr_add(sum, &one);
		if (take)
			__atomic_store_n(&l->key[i], 0, __ATOMIC_RELAXED);
	}
}

/*
 * x_ask - host a (in the table at pos) no longer answered from the index:
 * its ask bit set first, then its index counts and its hits still logged
 * added to the slot's own
 */
static void x_ask(struct xdp_priv *p, __u32 a, const struct tpos *pos)
{
	long s = x_find(p, a);
	unsigned int cpu;
	__u32 ask;

	if (s < 0)
		return;
	ask = MX_X4_ASK((__u32)s % MX_X4_STRIDE);
	if (__atomic_fetch_or(x_hdr(p, (__u32)s), ask, __ATOMIC_SEQ_CST) & ask)
		return;
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		struct mx_ctr sum = {0, 0};

		/* taken out of the log: a fold must not count them again */
		x_logged_sum(p, (__u32)s, a, cpu, &sum, true);
		xdp_ctr_add(&sum, x_ctr(p, (__u32)s, cpu));
		xdp_ctr_add(xdp_tab_ctr(p, pos, cpu), &sum);
		memset(x_ctr(p, (__u32)s, cpu), 0, sizeof(struct mx_ctr));
	}
}

/* x_answer - host a, a plain drop entry in the table now, answered from
 * the index (its counters there are zero: cleared when it was asked) */
static void x_answer(struct xdp_priv *p, __u32 a)
{
	long s = x_find(p, a);

	if (s >= 0)
		__atomic_fetch_and(x_hdr(p, (__u32)s),
				   ~MX_X4_ASK((__u32)s % MX_X4_STRIDE),
				   __ATOMIC_RELEASE);
}

/* x_del - host a out of the index (asked already: no counts left) */
static void x_del(struct xdp_priv *p, __u32 a)
{
	long s = x_find(p, a);

	if (s >= 0)
		__atomic_store_n(x_key(p, (__u32)s), 0, __ATOMIC_RELEASE);
}

/*
 * x_before - before the IPv4 slot at pos takes the contents nv: a new
 * host goes into the index, asking the table; a plain drop host that the
 * slot will no longer hold as one is asked from now on, its index counts
 * moved to the slot (the program stops answering it from the index
 * before the table changes)
 */
static void x_before(struct xdp_priv *p, const struct tpos *pos,
		     const struct mx_slot4 *nv)
{
	const struct mx_slot4 *d = &p->t4[pos->b].s[pos->j];
	__u32 a = x_host(d->key), b = x_host(nv->key);

	if (!p->x4)
		return;
	x_add(p, b);
	if (!a || !x_elig(d->key, d->exp))
		return;
	if (b == a && x_elig(nv->key, nv->exp))
		return;
	if (!x_elsewhere(p, a, pos, true))
		x_ask(p, a, pos);
}

/*
 * x_after - the IPv4 slot at pos held old and holds nv now: a host the
 * table no longer holds leaves the index; a plain drop host is answered
 * from it
 */
static void x_after(struct xdp_priv *p, const struct tpos *pos,
		    const struct mx_slot4 *old, const struct mx_slot4 *nv)
{
	__u32 a = x_host(old->key), b = x_host(nv->key);

	if (!p->x4)
		return;
	if (a && a != b && !x_elsewhere(p, a, pos, false))
		x_del(p, a);
	if (x_elig(nv->key, nv->exp))
		x_answer(p, b);
}

/*
 * xdp_x4_counts - add to sum what the index counted on cpu for the entry
 * in the IPv4 slot at pos: its index slot's counters and its hits still
 * in that CPU's log (exact at rest; under traffic a fold between the two
 * reads may count up to MX_XLOG hits twice in this one reading)
 */
void xdp_x4_counts(struct xdp_priv *p, const struct tpos *pos, unsigned int cpu,
		   struct mx_ctr *sum)
{
	__u32 a;
	long s;

	if (!p->x4 || pos->family != AF_INET)
		return;
	a = x_host(p->t4[pos->b].s[pos->j].key);
	s = x_find(p, a);
	if (s < 0)
		return;
	xdp_ctr_add(sum, x_ctr(p, (__u32)s, cpu));
	x_logged_sum(p, (__u32)s, a, cpu, sum, false);
}

/*
 * xdp_x4_fold_logs - count every logged hit into its index slot, as the
 * program would: only for a set no program runs on any more (a growth,
 * after the switch)
 */
void xdp_x4_fold_logs(struct xdp_priv *p)
{
	struct mx_xlog *l;
	struct mx_ctr one;
	unsigned int cpu;
	__u32 i, s;

	if (!p->x4)
		return;
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		l = &p->xl[cpu];
		for (i = 0; i < l->n && i < MX_XLOG; i++) {
			s = l->slot[i];
			if (s >= p->nx4 * MX_X4_STRIDE ||
			    s % MX_X4_STRIDE >= MX_X4_SLOTS ||
			    *x_key(p, s) != l->key[i])
				continue;
			x_logged(l, i, &one);
			xdp_ctr_add(x_ctr(p, s, cpu), &one);
		}
		l->n = 0;
	}
}

/* xdp_x4_zero_all - every index counter and log back to zero */
void xdp_x4_zero_all(struct xdp_priv *p)
{
	unsigned int cpu;

	if (!p->x4)
		return;
	memset(p->xc4, 0, p->len[M_XC4]);
	for (cpu = 0; cpu < p->ncpus; cpu++)
		__atomic_store_n(&p->xl[cpu].n, 0, __ATOMIC_RELEASE);
}

/*
 * slot_store - put raw slot contents at pos, in the order the program
 * needs: a key is published last (and withdrawn first), with one atomic
 * store, so the program never matches a key with another's flags.
 */
static void slot_store4(struct mx_slot4 *d, const struct mx_slot4 *v)
{
	if (!v->key) {
		__atomic_store_n(&d->key, 0, __ATOMIC_RELEASE);
		return;
	}
	if (d->key && ((__u32)d->key != (__u32)v->key ||
		       MX_E_PLEN((__u32)(d->key >> 32)) !=
			   MX_E_PLEN((__u32)(v->key >> 32))))
		__atomic_store_n(&d->key, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&d->exp, v->exp, __ATOMIC_RELAXED);
	__atomic_store_n(&d->id, v->id, __ATOMIC_RELAXED);
	__atomic_store_n(&d->key, v->key, __ATOMIC_RELEASE);
}

static void slot_store6(struct mx_slot6 *d, const struct mx_slot6 *v)
{
	bool same = d->flags && MX_E_PLEN(d->flags) == MX_E_PLEN(v->flags) &&
		    d->hi == v->hi && d->lo == v->lo;

	if (!v->flags || !same)
		__atomic_store_n(&d->flags, 0, __ATOMIC_RELEASE);
	if (!v->flags)
		return;
	if (!same) {
		__atomic_store_n(&d->hi, v->hi, __ATOMIC_RELAXED);
		__atomic_store_n(&d->lo, v->lo, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&d->exp, v->exp, __ATOMIC_RELAXED);
	__atomic_store_n(&d->id, v->id, __ATOMIC_RELAXED);
	__atomic_store_n(&d->flags, v->flags, __ATOMIC_RELEASE);
}

/* slot_write - v into the slot at pos, the host index kept after it
 * (x_before() done by the caller) */
static void slot_write(struct xdp_priv *p, const struct tpos *pos,
		       const struct tab_rec *v)
{
	if (pos->family == AF_INET) {
		struct mx_slot4 old = p->t4[pos->b].s[pos->j];

		slot_store4(&p->t4[pos->b].s[pos->j], &v->old.s4);
		x_after(p, pos, &old, &v->old.s4);
	} else {
		slot_store6(&p->t6[pos->b].s[pos->j], &v->old.s6);
	}
}

/* slot_put - v into the slot at pos, the host index kept around it */
static void slot_put(struct xdp_priv *p, const struct tpos *pos,
		     const struct tab_rec *v)
{
	if (pos->family == AF_INET)
		x_before(p, pos, &v->old.s4);
	slot_write(p, pos, v);
}

/* slot_read - the raw contents at pos, into r->old */
static void slot_read(struct xdp_priv *p, const struct tpos *pos,
		      struct tab_rec *r)
{
	if (pos->family == AF_INET)
		r->old.s4 = p->t4[pos->b].s[pos->j];
	else
		r->old.s6 = p->t6[pos->b].s[pos->j];
}

/*
 * xdp_tab_write - entry c (metadata m, id) into the slot at pos: a slot that
 * held another entry, or a free one, gets c with zero counters (counters
 * left there are kept in the log for an undo); the slot of c itself is
 * updated in place, counters kept.
 */
void xdp_tab_write(struct xdp_priv *p, struct tab_log *log,
		   const struct tpos *pos, const struct cidr *c,
		   const struct mx_meta *m, __u32 id)
{
	struct tab_rec *r = log_push(log), v;
	__u32 flags = c->plen, exp = xdp_ts_of_unix(p, m->expires);

	if (m->action == MX_VAL_ALLOW)
		flags |= MX_E_ALLOW;
	if (m->observe)
		flags |= MX_E_OBSERVE;
	if (r) {
		r->pos = *pos;
		slot_read(p, pos, r);
	}
	memset(&v, 0, sizeof(v));
	if (c->family == AF_INET) {
		v.old.s4.key = (__u64)flags << 32 | host4(c);
		v.old.s4.exp = exp;
		v.old.s4.id = id;
		/* a host leaving the index brings its counts to the slot
		 * first, so that they are saved (or kept) below */
		x_before(p, pos, &v.old.s4);
	} else {
		words6(c, &v.old.s6.hi, &v.old.s6.lo);
		v.old.s6.flags = flags;
		v.old.s6.exp = exp;
		v.old.s6.id = id;
	}
	if (!slot_is(p, pos, c) && ctr_nonzero(p, pos)) {
		/* a new entry starts from zero */
		if (r)
			r->ctr = ctr_save(p, pos);
		xdp_tab_zero_ctr(p, pos);
	}
	slot_write(p, pos, &v);
}

/* xdp_tab_clear - free the slot at pos (its counters stay, for undo) */
void xdp_tab_clear(struct xdp_priv *p, struct tab_log *log,
		   const struct tpos *pos)
{
	struct tab_rec *r = log_push(log), v;

	if (r) {
		r->pos = *pos;
		slot_read(p, pos, r);
	}
	memset(&v, 0, sizeof(v));
	slot_put(p, pos, &v);
}

/* slot_move - the entry at from to the free slot to, with its counters */
static void slot_move(struct xdp_priv *p, const struct tpos *from,
		      const struct tpos *to)
{
	struct mx_ctr *copied;
	struct tab_rec v;

	ctr_move_begin(p, from, to);
	copied = ctr_save(p, to);
	slot_read(p, from, &v);
	slot_put(p, to, &v);
	memset(&v, 0, sizeof(v));
	slot_put(p, from, &v);
	ctr_move_end(p, from, to, copied);
	free(copied);
}

/* free_in - a free slot of bucket b, or -1 */
static int free_in(struct xdp_priv *p, __u8 family, __u32 b)
{
	struct tpos pos = {family, b, 0};

	for (pos.j = 0; pos.j < nslots(family); pos.j++)
		if (!slot_used(p, &pos))
			return (int)pos.j;
	return -1;
}

static __u32 used_in(struct xdp_priv *p, __u8 family, __u32 b)
{
	struct tpos pos = {family, b, 0};
	__u32 n = 0;

	for (pos.j = 0; pos.j < nslots(family); pos.j++)
		n += slot_used(p, &pos);
	return n;
}

/*
 * xdp_tab_place - a free slot for c: in the less loaded of its two
 * buckets, or, both full, made by moving one of their entries to its
 * other bucket (one cuckoo step, logged so an undo moves it back).
 * -ENOSPC when no step frees one: the table is too full.
 */
int xdp_tab_place(struct xdp_priv *p, struct tab_log *log, const struct cidr *c,
		  struct tpos *pos)
{
	__u32 b[2], alt[2], i, u0, u1;
	struct tpos from, to;
	struct tab_rec *r;
	struct cidr o;
	__u32 oid;
	int j;

	buckets(p, c, b);
	pos->family = c->family;
	u0 = used_in(p, c->family, b[0]);
	u1 = used_in(p, c->family, b[1]);
	pos->b = u1 < u0 ? b[1] : b[0];
	j = free_in(p, c->family, pos->b);
	if (j >= 0) {
		pos->j = (__u32)j;
		return 0;
	}
	for (i = 0; i < 2; i++) {
		from.family = c->family;
		from.b = b[i];
		for (from.j = 0; from.j < nslots(c->family); from.j++) {
			if (!xdp_tab_get(p, &from, &o, &oid))
				continue;
			buckets(p, &o, alt);
			to.family = c->family;
			to.b = alt[0] == from.b ? alt[1] : alt[0];
			if (to.b == from.b)
				continue;
			j = free_in(p, c->family, to.b);
			if (j < 0)
				continue;
			to.j = (__u32)j;
			r = log_push(log);
			if (r) {
				r->move = true;
				r->from = from;
				r->pos = to;
			}
			slot_move(p, &from, &to);
			*pos = from;
			return 0;
		}
	}
	return -ENOSPC;
}

/* xdp_tab_undo - put every slot the log changed back, newest first */
void xdp_tab_undo(struct xdp_priv *p, struct tab_log *log)
{
	struct tab_rec *r;

	while (log->n > 0) {
		r = &log->v[--log->n];
		if (r->move) {
			slot_move(p, &r->pos, &r->from);
			continue;
		}
		slot_put(p, &r->pos, r);
		if (r->ctr)
			ctr_restore(p, &r->pos, r->ctr);
		free(r->ctr);
		r->ctr = NULL;
	}
}

void xdp_tab_log_free(struct tab_log *log)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		free(log->v[i].ctr);
	free(log->v);
	memset(log, 0, sizeof(*log));
}
