// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_table.c - the XDP backend's lookup structures on the controller's
 * side: the index from (family, prefix) to entry id over the mmapped
 * mx_meta, the IPv4 two-choice table (slots written whole, with an undo
 * log), tag sets, the mx_ctl map (live counts, ids in use, staleness) and
 * the summaries (the /24 bitmap, the Bloom filter over prefixes, the IPv6
 * summary and the list of prefix lengths present), kept up to date entry
 * by entry or rebuilt from mx_meta. Layouts: bpf/mxwall_shared.h.
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

/* ---- the IPv4 table (mxwall_shared.h): slots written whole ---- */

static __u32 host4(const struct cidr *c)
{
	__u32 a;

	memcpy(&a, c->addr, 4);
	return ntohl(a);
}

/* xdp_t4_find - the slot holding c, or NULL */
__u64 *xdp_t4_find(struct xdp_priv *p, const struct cidr *c)
{
	__u32 a = host4(c), mask = p->cfg.nb4 - 1, b[2], i, j, meta;
	__u64 x;

	b[0] = mx_t4_b1(a, c->plen, mask);
	b[1] = mx_t4_b2(a, c->plen, mask);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < MX_T4_SLOTS; j++) {
			x = p->t4[b[i]].slot[j];
			meta = (__u32)(x >> 32);
			if (x && (__u32)x == a && MX_T4_PLEN(meta) == c->plen)
				return &p->t4[b[i]].slot[j];
		}
	}
	return NULL;
}

void xdp_t4_prefetch(struct xdp_priv *p, const struct cidr *c)
{
	__u32 a = host4(c), mask = p->cfg.nb4 - 1;

	__builtin_prefetch(&p->t4[mx_t4_b1(a, c->plen, mask)]);
	__builtin_prefetch(&p->t4[mx_t4_b2(a, c->plen, mask)]);
}

/*
 * xdp_t4_free - a free slot for c in the less loaded of its two buckets (two
 * choices keep the fullest bucket near half full at half load)
 */
__u64 *xdp_t4_free(struct xdp_priv *p, const struct cidr *c)
{
	__u32 a = host4(c), mask = p->cfg.nb4 - 1, b[2], i, j, used[2];

	b[0] = mx_t4_b1(a, c->plen, mask);
	b[1] = mx_t4_b2(a, c->plen, mask);
	for (i = 0; i < 2; i++)
		for (j = 0, used[i] = 0; j < MX_T4_SLOTS; j++)
			used[i] += p->t4[b[i]].slot[j] != 0;
	i = used[1] < used[0];
	for (j = 0; j < MX_T4_SLOTS; j++)
		if (!p->t4[b[i]].slot[j])
			return &p->t4[b[i]].slot[j];
	return NULL;
}

/* xdp_t4_store - one atomic store the program sees whole; logged for undo */
void xdp_t4_store(struct t4_log *log, __u64 *slot, __u64 v)
{
	if (log) {
		if (log->n == log->alloc) {
			log->alloc = log->alloc ? log->alloc * 2 : 1024;
			log->v =
			    xreallocarray(log->v, log->alloc, sizeof(*log->v));
		}
		log->v[log->n].slot = slot;
		log->v[log->n].old = *slot;
		log->n++;
	}
	__atomic_store_n(slot, v, __ATOMIC_RELEASE);
}

void xdp_t4_undo(struct t4_log *log)
{
	while (log->n > 0) {
		log->n--;
		xdp_t4_store(NULL, log->v[log->n].slot, log->v[log->n].old);
	}
}

__u64 xdp_t4_slot(const struct cidr *c, const struct mx_meta *m, __u32 id)
{
	__u32 meta = c->plen | id << 8;

	if (m->action == MX_VAL_ALLOW)
		meta |= MX_T4_ALLOW;
	if (m->observe)
		meta |= MX_T4_OBSERVE;
	return (__u64)meta << 32 | host4(c);
}

void xdp_key6_of(const struct cidr *c, struct mx_key6 *k)
{
	memset(k, 0, sizeof(*k));
	k->plen = c->plen;
	memcpy(k->addr, c->addr, 16);
}

void xdp_val_of(const struct mx_meta *m, __u32 id, struct mx_val *v)
{
	memset(v, 0, sizeof(*v));
	v->id = id;
	v->action = m->action;
	v->flags = m->observe ? MX_VAL_OBSERVE : 0;
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
	if (c->plen >= 32)
		return 1;
	if (c->plen >= MX_BM6_MIN_PLEN)
		return 1U << (32 - c->plen);
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

/*
 * sum_set - set the summary bits of entry c in bm4/bl4 (IPv4) or bm6
 * (IPv6); *bm6_off: c is too short for the IPv6 summary. Plain stores:
 * for the published maps, see sum_publish_entry().
 */
static void sum_set(__u64 *bm4, __u64 *bl4, __u64 *bm6, const struct cidr *c,
		    bool *bm6_off)
{
	__u32 a, hi, i, n, w[4];

	if (c->family == AF_INET) {
		a = host4(c);
		bm_set_range(bl4, mx_bl4_bit(a, c->plen), 1);
		if (c->plen >= 24)
			bm_set_range(bm4, mx_bm4_bit(a), 1);
		else
			bm_set_range(bm4, mx_bm4_bit(a), 1U << (24 - c->plen));
		return;
	}
	memcpy(w, c->addr, 16);
	bm_set_range(bl4, mx_bl6_bit(w, c->plen), 1);
	memcpy(&hi, c->addr, 4);
	hi = ntohl(hi);
	if (c->plen >= 32) {
		bm_set_range(bm6, mx_bm6_bit(hi), 1);
	} else if (c->plen >= MX_BM6_MIN_PLEN) {
		n = 1U << (32 - c->plen);
		for (i = 0; i < n; i++)
			bm_set_range(bm6, mx_bm6_bit(hi + i), 1);
	} else {
		*bm6_off = true;
	}
}

/* bm_publish_bit - set one bit of a published summary with one store */
static void bm_publish_bit(__u64 *bm, __u32 bit)
{
	__u64 *w = &bm[bit / 64], b = 1ULL << (bit & 63);

	if (!(*w & b))
		__atomic_store_n(w, *w | b, __ATOMIC_RELEASE);
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
	__u32 a, hi, i, n, b, end, w[4];

	if (c->family == AF_INET) {
		a = host4(c);
		bm_publish_bit(p->bl4, mx_bl4_bit(a, c->plen));
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
	memcpy(w, c->addr, 16);
	bm_publish_bit(p->bl4, mx_bl6_bit(w, c->plen));
	memcpy(&hi, c->addr, 4);
	hi = ntohl(hi);
	if (c->plen >= 32) {
		bm_publish_bit(p->bm6, mx_bm6_bit(hi));
	} else if (c->plen >= MX_BM6_MIN_PLEN) {
		n = 1U << (32 - c->plen);
		for (i = 0; i < n; i++)
			bm_publish_bit(p->bm6, mx_bm6_bit(hi + i));
	} else {
		*bm6_off = true;
	}
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
	__u64 *bl4 = xcalloc(MX_BM_WORDS, 8), *used = NULL;
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
		sum_set(bm4, bl4, bm6, &c, &bm6_off);
	}
	/* publish the bits: whole 64-bit words, each store atomic */
	for (i = 0; i < MX_BM_WORDS; i++) {
		if (p->bm4[i] != bm4[i])
			__atomic_store_n(&p->bm4[i], bm4[i], __ATOMIC_RELEASE);
		if (p->bm6[i] != bm6[i])
			__atomic_store_n(&p->bm6[i], bm6[i], __ATOMIC_RELEASE);
		if (p->bl4[i] != bl4[i])
			__atomic_store_n(&p->bl4[i], bl4[i], __ATOMIC_RELEASE);
	}
	free(bm4);
	free(bm6);
	free(bl4);
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
	/* the tables agree with mx_meta again; mx_bl4 has every IPv6 bit */
	cfg.flags &= ~MX_CFG_DIRTY;
	cfg.flags |= MX_CFG_BL6;
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
