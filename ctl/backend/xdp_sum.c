// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_sum.c - what the XDP backend derives from its entry list (mx_meta):
 * the tag sets, the mx_ctl map (live counts, ids in use, staleness) and
 * the summaries the program reads before the tables (the IPv4 /24 bitmap,
 * the IPv6 /48 bytes of length classes, the Bloom filter over prefixes,
 * the lists of prefix lengths present), kept up to date entry by entry or
 * rebuilt from mx_meta. Layouts: bpf/mxwall_shared.h.
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

/* rg4_each - set (with set()) the region bits of IPv4 entry c, if it is
 * a netblock of MX_RG4_MIN to 31 bits: one a /24 it covers or lies in */
static void rg4_each(const struct cidr *c, __u64 *bl,
		     void (*set)(__u64 *, __u32))
{
	__u32 a = host4(c), i, n;

	if (c->plen < MX_RG4_MIN || c->plen >= 32)
		return;
	n = c->plen >= 24 ? 1 : 1U << (24 - c->plen);
	for (i = 0; i < n; i++)
		set(bl, mx_rg4_bit(a + (i << 8)));
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
		rg4_each(c, bl, bm_set_bit);
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
		rg4_each(c, p->bl, bm_publish_bit);
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
