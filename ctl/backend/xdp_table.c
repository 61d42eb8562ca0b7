// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_table.c - the XDP backend's lookup structures on the controller's
 * side: the index from (family, prefix) to entry id over the mmapped
 * mx_meta, the two-choice tables of both families (slots written in the
 * order the program needs, counters addressed by slot and moved with
 * their entry, an undo log), the clock of the program's time stamps, tag
 * sets, the mx_ctl map (live counts, ids in use, staleness) and the
 * summaries (the IPv4 /24 bitmap, the IPv6 /48 bitmap, the Bloom filter
 * over prefixes and the lists of prefix lengths present), kept up to date
 * entry by entry or rebuilt from mx_meta. Layouts: bpf/mxwall_shared.h.
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

/*
 * ---- clocks: the program's time stamps (jiffies, MX_TS_SHIFT; measured
 * by xdp_clock.c) and unix time ----
 */

/*
 * xdp_clock_offset - unix time minus CLOCK_MONOTONIC (the clock of
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
__s64 xdp_clock_offset(void)
{
	struct timespec mono, real;
	int64_t fake;
	__s64 ns;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	if (!mx_fake_now(&fake))
		/* the tests' clock: expiry times are relative to it */
		return fake - mono.tv_sec;
	clock_gettime(CLOCK_REALTIME, &real);
	ns = ((__s64)real.tv_sec - mono.tv_sec) * 1000000000LL +
	     (real.tv_nsec - mono.tv_nsec);
	return (ns + 500000000LL) / 1000000000LL;
}

/* mono_of_jiffies, jiffies_of_mono - through mx_cfg's hz, j0 and t0 */
static __s64 mono_of_jiffies(const struct mx_cfg *c, __u64 j)
{
	__s64 d = (__s64)(j - c->j0), hz = c->hz ? c->hz : 1;

	return (__s64)c->t0 + d / hz * 1000000000LL +
	       d % hz * 1000000000LL / hz;
}

static __s64 jiffies_of_mono(const struct mx_cfg *c, __s64 ns)
{
	__s64 d = ns - (__s64)c->t0, hz = c->hz ? c->hz : 1;

	return (__s64)c->j0 + d / 1000000000LL * hz +
	       d % 1000000000LL * hz / 1000000000LL;
}

/*
 * xdp_ts_of_unix - the program's time stamp at which an entry expiring at
 * unix time t is gone (rounded up: never early); 0 for no expiry, 1 (the
 * past) for a time gone by.
 */
__u32 xdp_ts_of_unix(const struct xdp_priv *p, __s64 t)
{
	__s64 j;
	__u64 ts;

	if (!t)
		return 0;
	j = jiffies_of_mono(&p->cfg, (t - p->clock_off) * 1000000000LL);
	if (j <= 0)
		return 1;
	ts = ((__u64)j + (1ULL << MX_TS_SHIFT) - 1) >> MX_TS_SHIFT;
	if (ts > UINT32_MAX)
		return UINT32_MAX;
	return ts ? (__u32)ts : 1;
}

/* xdp_unix_of_ts - a time stamp of the program as unix seconds; 0 never */
__s64 xdp_unix_of_ts(const struct xdp_priv *p, __u32 ts)
{
	__s64 ns;

	if (!ts)
		return 0;
	ns = mono_of_jiffies(&p->cfg, (__u64)ts << MX_TS_SHIFT);
	return (ns >= 0 ? ns / 1000000000LL : 0) + p->clock_off;
}

/* ---- the tables (mxwall_shared.h) ---- */

static __u32 host4(const struct cidr *c)
{
	__u32 a;

	memcpy(&a, c->addr, 4);
	return ntohl(a);
}

static void words6(const struct cidr *c, __u64 *hi, __u64 *lo)
{
	memcpy(hi, c->addr, 8);
	memcpy(lo, c->addr + 8, 8);
}

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

void xdp_tab_zero_ctr(struct xdp_priv *p, const struct tpos *pos)
{
	unsigned int cpu;

	for (cpu = 0; cpu < p->ncpus; cpu++)
		memset(xdp_tab_ctr(p, pos, cpu), 0, sizeof(struct mx_ctr));
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

static void slot_put(struct xdp_priv *p, const struct tpos *pos,
		     const struct tab_rec *v)
{
	if (pos->family == AF_INET)
		slot_store4(&p->t4[pos->b].s[pos->j], &v->old.s4);
	else
		slot_store6(&p->t6[pos->b].s[pos->j], &v->old.s6);
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
	if (!slot_is(p, pos, c) && ctr_nonzero(p, pos)) {
		/* a new entry starts from zero */
		if (r)
			r->ctr = ctr_save(p, pos);
		xdp_tab_zero_ctr(p, pos);
	}
	memset(&v, 0, sizeof(v));
	if (c->family == AF_INET) {
		v.old.s4.key = (__u64)flags << 32 | host4(c);
		v.old.s4.exp = exp;
		v.old.s4.id = id;
	} else {
		words6(c, &v.old.s6.hi, &v.old.s6.lo);
		v.old.s6.flags = flags;
		v.old.s6.exp = exp;
		v.old.s6.id = id;
	}
	slot_put(p, pos, &v);
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

/* xdp_tagset_find - the tagset holding tags, making one; 0 for none */
int xdp_tagset_find(struct xdp_priv *p, const char *tags, __u16 *out)
{
	int i, fre = -1;

	if (!tags[0]) {
		*out = 0;
		return 0;
	}
	for (i = 1; i < MX_TAGSETS; i++) {
		if (!p->tags[i].tags[0]) {
			if (fre < 0)
				fre = i;
			continue;
		}
		if (!strncmp(p->tags[i].tags, tags, MX_TAGS_LEN_BPF)) {
			*out = (__u16)i;
			return 0;
		}
	}
	if (fre < 0)
		return -ENOSPC;
	snprintf(p->tags[fre].tags, MX_TAGS_LEN_BPF, "%s", tags);
	*out = (__u16)fre;
	return 0;
}

/*
 * xdp_tagsets_gc - forget tagsets that no entry uses, nor any of the nkeep
 * entries of keep (saved copies an undo may put back). Scans the whole
 * capacity: after big changes, or when xdp_tagset_find() ran out.
 */
void xdp_tagsets_gc(struct xdp_priv *p, const struct mx_meta *keep,
		    size_t nkeep)
{
	__u8 *used = xcalloc(MX_TAGSETS, 1);
	size_t k;
	__u32 id;
	int i;

	/* the pins are state on disk: a tagset index past the table (a
	 * corrupt or foreign pin) names nothing, and must not write */
	for (id = 0; id < p->cfg.cap; id++)
		if (p->meta[id].family && p->meta[id].tagset < MX_TAGSETS)
			used[p->meta[id].tagset] = 1;
	for (k = 0; k < nkeep; k++)
		if (keep[k].family && keep[k].tagset < MX_TAGSETS)
			used[keep[k].tagset] = 1;
	for (i = 1; i < MX_TAGSETS; i++)
		if (!used[i])
			memset(p->tags[i].tags, 0, sizeof(p->tags[i].tags));
	free(used);
}

/*
 * ---- mx_ctl: the controller's own pinned state ----
 *
 * Derived from mx_meta so that a small apply() need not scan the whole
 * capacity: the live counts per family, one bit per id in use, where the
 * next search for a free id starts, and how far the summaries have gone
 * stale through deletions (a deletion leaves its summary bits set: they
 * are "may match" filters, a stale bit costs a probe, never a verdict).
 * An array of 64-bit words, CTL_HDR header words then the id bitmap,
 * pinned as PIN_DIR/mx_ctl; the program never reads it, and it is not
 * part of MX_LAYOUT: a pin directory without it (or with one of another
 * shape) gets a fresh one at the next apply(), which starts invalid.
 * It is trusted only when CTL_VALID is set and mx_cfg is not marked
 * dirty; every full rebuild (a big apply, a repair after a crash)
 * recomputes all of it. A free id found in the bitmap is checked against
 * mx_meta before use, so a wrong bit costs time, never an entry.
 */

static __u32 ctl_words(const struct xdp_priv *p)
{
	return CTL_HDR + (p->cfg.cap + 63) / 64;
}

/* xdp_ctl_map - open (or with create, make) and mmap PIN_DIR/mx_ctl */
int xdp_ctl_map(struct backend *be, struct xdp_priv *p, bool create)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	struct bpf_map_info info;
	__u32 ilen = sizeof(info), words = ctl_words(p);
	char path[4096];
	int fd, err;

	err = xdp_pin_path(be, MX_MAP_CTL, path, sizeof(path));
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &ilen) ||
		    info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
		    info.value_size != 8 || info.max_entries != words ||
		    !(info.map_flags & BPF_F_MMAPABLE)) {
			/* another shape: ours to replace, it is derived */
			close(fd);
			fd = -1;
			if (!create)
				return -ENOENT;
			if (unlink(path) && errno != ENOENT)
				return -errno;
		}
	}
	if (fd < 0) {
		if (!create)
			return -ENOENT;
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, MX_MAP_CTL, 4, 8, words,
				    &o);
		if (fd < 0)
			return -errno;
		if (bpf_obj_pin(fd, path)) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	p->ctl_len = xdp_map_bytes(8, words);
	p->ctl = xdp_map_mmap(fd, p->ctl_len);
	if (!p->ctl) {
		err = -errno;
		close(fd);
		return err;
	}
	p->ctl_fd = fd;
	if (p->ctl[CTL_MAGIC] != CTL_MAGIC_V) {
		p->ctl[CTL_VALID] = 0;
		p->ctl[CTL_MAGIC] = CTL_MAGIC_V;
	}
	return 0;
}

/*
 * xdp_ctl_fresh - mx_ctl for a pin directory just made: no entries, so it is
 * valid from the start and the first apply() is a small one too. Best
 * effort: without it the first apply() takes the full path.
 */
void xdp_ctl_fresh(struct backend *be, struct xdp_priv *p)
{
	if (xdp_ctl_map(be, p, true))
		return;
	/* (a leftover of an earlier pin directory is reset too) */
	memset(p->ctl, 0, (size_t)ctl_words(p) * 8);
	p->ctl[CTL_MAGIC] = CTL_MAGIC_V;
	p->ctl[CTL_VALID] = 1;
}

bool xdp_ctl_valid(const struct xdp_priv *p)
{
	return p->ctl && p->ctl[CTL_VALID] == 1;
}

void xdp_ctl_bit(struct xdp_priv *p, __u32 id, bool on)
{
	__u64 *w = &p->ctl[CTL_HDR + id / 64], b = 1ULL << (id & 63);

	*w = on ? *w | b : *w & ~b;
}

/*
 * xdp_ctl_next_free - the next free id from *cur on (wrapping), not in use in
 * mx_meta; *left bounds the ids looked at (at most the capacity, so one
 * call never hands out an id twice). UINT32_MAX when none is left.
 */
__u32 xdp_ctl_next_free(struct xdp_priv *p, __u32 *cur, __u32 *left)
{
	__u32 cap = p->cfg.cap, id;
	__u64 w;

	while (*left) {
		id = *cur < cap ? *cur : 0;
		w = p->ctl[CTL_HDR + id / 64];
		if (!(id & 63) && w == ~0ULL && *left >= 64 && id + 64 <= cap) {
			*cur = id + 64;
			*left -= 64;
			continue;
		}
		*cur = id + 1;
		(*left)--;
		if ((w >> (id & 63)) & 1)
			continue;
		if (p->meta[id].family) {
			/* a stale bit: mend it, look further */
			xdp_ctl_bit(p, id, true);
			continue;
		}
		return id;
	}
	return UINT32_MAX;
}

/* xdp_ctl_stale_weight - summary bits a deleted entry may leave stale */
__u32 xdp_ctl_stale_weight(const struct cidr *c)
{
	if (c->family == AF_INET)
		return (c->plen >= 24 ? 1 : 1U << (24 - c->plen)) + 1;
	if (c->plen >= MX_BM6_PLEN)
		return 2;
	if (c->plen >= MX_BM6_MIN_PLEN)
		return (1U << (MX_BM6_PLEN - c->plen)) + 1;
	/* it turned the IPv6 summary off: rebuild to turn it on again */
	return CTL_STALE_MAX;
}

static void bm_set_range(__u64 *bm, __u32 first, __u32 count)
{
	__u32 b = first, end = first + count;

	while (b < end && (b & 63))
		bm[b / 64] |= 1ULL << (b & 63), b++;
	while (b + 64 <= end)
		bm[b / 64] = ~0ULL, b += 64;
	while (b < end)
		bm[b / 64] |= 1ULL << (b & 63), b++;
}

static void bm_set_bit(__u64 *bm, __u32 bit)
{
	bm[bit / 64] |= 1ULL << (bit & 63);
}

/* bm_publish_bit - set one bit of a published summary with one store */
static void bm_publish_bit(__u64 *bm, __u32 bit)
{
	__u64 *w = &bm[bit / 64], b = 1ULL << (bit & 63);

	if (!(*w & b))
		__atomic_store_n(w, *w | b, __ATOMIC_RELEASE);
}

static void bm_set_byte(__u64 *bm, __u32 byte, __u8 bits)
{
	bm[byte / 8] |= (__u64)bits << (byte % 8 * 8);
}

/* bm_publish_byte - or bits into one byte of a published summary */
static void bm_publish_byte(__u64 *bm, __u32 byte, __u8 bits)
{
	__u64 *w = &bm[byte / 8], b = (__u64)bits << (byte % 8 * 8);

	if ((*w & b) != b)
		__atomic_store_n(w, *w | b, __ATOMIC_RELEASE);
}

/*
 * sum6 - set the Bloom filter bit of IPv6 entry c (with set()) and its
 * class's bit in the summary byte of every /48 it covers (with setb());
 * false when c is too short for the summary, which must then say "maybe"
 * for every source.
 */
static bool sum6(const struct cidr *c, __u64 *bm6, __u64 *bl,
		 void (*set)(__u64 *, __u32),
		 void (*setb)(__u64 *, __u32, __u8))
{
	__u64 hi, lo, hh, m48 = htobe64(~0ULL << (64 - MX_BM6_PLEN));
	__u8 cls = (__u8)(1U << mx_cls6(c->plen));
	__u32 i, n;

	words6(c, &hi, &lo);
	set(bl, mx_bl6_bit(mx_h6(hi, lo, c->plen)));
	if (c->plen >= MX_BM6_PLEN) {
		setb(bm6, mx_bm6_byte(hi, m48), cls);
		return true;
	}
	if (c->plen < MX_BM6_MIN_PLEN)
		return false;
	hh = be64toh(hi);
	n = 1U << (MX_BM6_PLEN - c->plen);
	for (i = 0; i < n; i++)
		setb(bm6,
		     mx_bm6_byte(htobe64(hh + ((__u64)i << (64 - MX_BM6_PLEN))),
				 m48),
		     cls);
	return true;
}

/*
 * sum_set - set the summary bits of entry c in bm4/bl (IPv4) or bm6/bl
 * (IPv6); *bm6_off: c is too short for the IPv6 summary. Plain stores:
 * for the published maps, see sum_publish_entry().
 */
static void sum_set(__u64 *bm4, __u64 *bl, __u64 *bm6, const struct cidr *c,
		    bool *bm6_off)
{
	__u32 a;

	if (c->family == AF_INET) {
		a = host4(c);
		bm_set_bit(bl, mx_bl4_bit(a, c->plen));
		if (c->plen >= 24)
			bm_set_range(bm4, mx_bm4_bit(a), 1);
		else
			bm_set_range(bm4, mx_bm4_bit(a), 1U << (24 - c->plen));
		return;
	}
	if (!sum6(c, bm6, bl, bm_set_bit, bm_set_byte))
		*bm6_off = true;
}

/*
 * sum_publish_entry - set the bits of entry c in the published summaries,
 * each word with one atomic store (only the controller writes them, under
 * the lock); *bm6_off as for sum_set(). For a short IPv4 netblock that is
 * up to 2^23 bits, whole words at a time.
 */
static void sum_publish_entry(struct xdp_priv *p, const struct cidr *c,
			      bool *bm6_off)
{
	__u32 a, b, end;

	if (c->family == AF_INET) {
		a = host4(c);
		bm_publish_bit(p->bl, mx_bl4_bit(a, c->plen));
		b = mx_bm4_bit(a);
		end = b + (c->plen >= 24 ? 1 : 1U << (24 - c->plen));
		while (b < end && (b & 63))
			bm_publish_bit(p->bm4, b++);
		for (; b + 64 <= end; b += 64)
			if (p->bm4[b / 64] != ~0ULL)
				__atomic_store_n(&p->bm4[b / 64], ~0ULL,
						 __ATOMIC_RELEASE);
		while (b < end)
			bm_publish_bit(p->bm4, b++);
		return;
	}
	if (!sum6(c, p->bm6, p->bl, bm_publish_bit, bm_publish_byte))
		*bm6_off = true;
}

/* plens_insert - put plen into a longest-first list of n lengths */
static void plens_insert(__u8 *list, __u32 *n, __u32 max, __u8 plen)
{
	__u32 i, j;

	for (i = 0; i < *n; i++) {
		if (list[i] == plen)
			return;
		if (list[i] < plen)
			break;
	}
	if (*n >= max)
		return;
	for (j = *n; j > i; j--)
		list[j] = list[j - 1];
	list[i] = plen;
	(*n)++;
}

/*
 * xdp_summaries_rebuild - recompute the summary bitmaps and the lists of prefix
 * lengths present from mx_meta, and publish them; recompute mx_ctl (counts,
 * ids in use, nothing stale). Called after the hashes changed: a bit or a
 * length appears only once its entries are in the hash (never a false
 * miss), and goes only once none is left. Scans the whole capacity: for
 * big changes, a repair, or when deletions left too many stale bits.
 */
int xdp_summaries_rebuild(struct xdp_priv *p)
{
	__u64 *bm4 = xcalloc(MX_BM_WORDS, 8), *bm6 = xcalloc(MX_BM_WORDS, 8);
	__u64 *bl = xcalloc(MX_BM_WORDS, 8), *used = NULL;
	__u32 cnt4[33] = {0}, cnt6[129] = {0}, id, i, n, nw = 0;
	const struct mx_meta *m;
	struct mx_cfg cfg;
	bool bm6_off = false;
	struct cidr c;
	int err, pl;

	if (p->ctl) {
		nw = ctl_words(p) - CTL_HDR;
		used = xcalloc(nw, 8);
	}
	for (id = 0; id < p->cfg.cap; id++) {
		m = &p->meta[id];
		if (!m->family)
			continue;
		xdp_meta_cidr(m, &c);
		if (m->family == AF_INET)
			cnt4[m->plen]++;
		else
			cnt6[m->plen]++;
		if (used)
			used[id / 64] |= 1ULL << (id & 63);
		sum_set(bm4, bl, bm6, &c, &bm6_off);
	}
	/* publish the bits: whole 64-bit words, each store atomic */
	for (i = 0; i < MX_BM_WORDS; i++) {
		if (p->bm4[i] != bm4[i])
			__atomic_store_n(&p->bm4[i], bm4[i], __ATOMIC_RELEASE);
		if (p->bm6[i] != bm6[i])
			__atomic_store_n(&p->bm6[i], bm6[i], __ATOMIC_RELEASE);
		if (p->bl[i] != bl[i])
			__atomic_store_n(&p->bl[i], bl[i], __ATOMIC_RELEASE);
	}
	free(bm4);
	free(bm6);
	free(bl);
	if (used) {
		__u64 n4 = 0, n6 = 0;

		for (pl = 1; pl <= 32; pl++)
			n4 += cnt4[pl];
		for (pl = 1; pl <= 128; pl++)
			n6 += cnt6[pl];
		memcpy(&p->ctl[CTL_HDR], used, (size_t)nw * 8);
		p->ctl[CTL_N4] = n4;
		p->ctl[CTL_N6] = n6;
		p->ctl[CTL_STALE] = 0;
		if (p->ctl[CTL_HINT] >= p->cfg.cap)
			p->ctl[CTL_HINT] = 0;
		p->ctl[CTL_VALID] = 1;
		free(used);
	}
	err = xdp_read_cfg(p, &cfg);
	if (err)
		return err;
	/*
	 * XXX: the program may read the list while this update copies it in;
	 * a torn read costs a missed or an extra probe for that one packet.
	 */
	memset(cfg.plen4, 0, sizeof(cfg.plen4));
	memset(cfg.plen6, 0, sizeof(cfg.plen6));
	for (n = 0, pl = 32; pl >= 1; pl--)
		if (cnt4[pl])
			cfg.plen4[n++] = (__u8)pl;
	cfg.n4 = n;
	for (n = 0, pl = 128; pl >= 1; pl--)
		if (cnt6[pl])
			cfg.plen6[n++] = (__u8)pl;
	cfg.n6 = n;
	if (bm6_off)
		cfg.flags |= MX_CFG_BM6_OFF;
	else
		cfg.flags &= ~MX_CFG_BM6_OFF;
	/* the tables agree with mx_meta again */
	cfg.flags &= ~MX_CFG_DIRTY;
	err = xdp_write_cfg(p, &cfg);
	if (!err)
		p->cfg = cfg;
	return err;
}

/*
 * xdp_summaries_add - the incremental commit of a small apply(): the summary
 * bits and prefix lengths of the entries added (those of deleted entries
 * stay, counted as stale), then mx_cfg with the mark cleared.
 */
int xdp_summaries_add(struct xdp_priv *p, const struct mx_entry *add,
		      size_t nadd)
{
	bool bm6_off = false;
	struct mx_cfg cfg;
	size_t i;
	int err;

	for (i = 0; i < nadd; i++)
		sum_publish_entry(p, &add[i].net, &bm6_off);
	err = xdp_read_cfg(p, &cfg);
	if (err)
		return err;
	for (i = 0; i < nadd; i++) {
		if (add[i].net.family == AF_INET)
			plens_insert(cfg.plen4, &cfg.n4, 32, add[i].net.plen);
		else
			plens_insert(cfg.plen6, &cfg.n6, 128, add[i].net.plen);
	}
	if (bm6_off)
		cfg.flags |= MX_CFG_BM6_OFF;
	cfg.flags &= ~MX_CFG_DIRTY;
	err = xdp_write_cfg(p, &cfg);
	if (!err)
		p->cfg = cfg;
	return err;
}

/* the kernel-side changes of one apply(), per family, for rollback */
