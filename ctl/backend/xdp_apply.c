// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_apply.c - the XDP backend's apply(): one all-or-nothing change of
 * the entries (IPv4 slots by atomic stores into the mmapped table, IPv6
 * keys with the batch map API, metadata, summaries, counters of new ids
 * zeroed), the dirty flag while it runs and the repair of one that died
 * half-way.
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

struct batch {
	void *keys; /* mx_key6[] */
	struct mx_val *vals;
	size_t n;
	size_t ksz;
};

static void batch_init(struct batch *b, size_t ksz, size_t cap)
{
	b->keys = xcalloc(cap ? cap : 1, ksz);
	b->vals = xcalloc(cap ? cap : 1, sizeof(struct mx_val));
	b->n = 0;
	b->ksz = ksz;
}

static void batch_free(struct batch *b)
{
	free(b->keys);
	free(b->vals);
}

static void batch_push(struct batch *b, const struct cidr *c,
		       const struct mx_val *v)
{
	void *k = (char *)b->keys + b->n * b->ksz;

	xdp_key6_of(c, k);
	if (v)
		b->vals[b->n] = *v;
	b->n++;
}

/* batch_update - update b[from..to); *done = how many went in */
static int batch_update(int fd, const struct batch *b, size_t from, size_t to,
			size_t *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	size_t off = from;
	__u32 cnt;

	*done = 0;
	while (off < to) {
		cnt = (__u32)(to - off > 65536 ? 65536 : to - off);
		if (bpf_map_update_batch(fd, (char *)b->keys + off * b->ksz,
					 &b->vals[off], &cnt, &o)) {
			int err = -errno;

			*done += cnt;
			return err == -E2BIG ? -ENOSPC : err;
		}
		*done += cnt;
		off += cnt;
	}
	return 0;
}

/* batch_delete - delete b[from..to); *done = how many went */
static int batch_delete(int fd, const struct batch *b, size_t from, size_t to,
			size_t *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	size_t off = from;
	__u32 cnt;

	*done = 0;
	while (off < to) {
		cnt = (__u32)(to - off > 65536 ? 65536 : to - off);
		if (bpf_map_delete_batch(fd, (char *)b->keys + off * b->ksz,
					 &cnt, &o)) {
			int err = -errno;

			*done += cnt;
			return err;
		}
		*done += cnt;
		off += cnt;
	}
	return 0;
}

/* check_cidr - a valid, masked network of a known family */
static int check_cidr(const struct cidr *c)
{
	struct cidr m = *c;
	int i;

	if (c->family != AF_INET && c->family != AF_INET6)
		return -EINVAL;
	if (c->plen < 1 || c->plen > cidr_maxlen(c))
		return -EINVAL;
	if (cidr_mask(&m))
		return -EINVAL;
	if (c->family == AF_INET)
		for (i = 4; i < 16; i++)
			if (c->addr[i])
				return -EINVAL;
	return 0;
}

/* undo_one6 - put an IPv6 key back to v, or take it out when v is NULL */
static void undo_one6(struct xdp_priv *p, const struct cidr *c,
		      const struct mx_val *v)
{
	struct mx_key6 k6;

	xdp_key6_of(c, &k6);
	if (v)
		bpf_map_update_elem(p->fd[M_H6], &k6, v, BPF_ANY);
	else
		bpf_map_delete_elem(p->fd[M_H6], &k6);
}

/* set_dirty - mark (or unmark) an apply() under way in mx_cfg */
static int set_dirty(struct xdp_priv *p, bool on)
{
	struct mx_cfg cfg;
	int err = xdp_read_cfg(p, &cfg);

	if (err)
		return err;
	if (on)
		cfg.flags |= MX_CFG_DIRTY;
	else
		cfg.flags &= ~MX_CFG_DIRTY;
	return xdp_write_cfg(p, &cfg);
}

/*
 * repair - make the tables agree with mx_meta after an apply() that died
 * half-way (kill -9, power): mx_meta is the record of what should be
 * there. A slot or an IPv6 key that no entry owns goes; an entry without
 * its slot or key gets it. The half-done change ends up either done or
 * undone per entry, never as a table that says one thing and a list that
 * says another.
 */
static int repair(struct xdp_priv *p)
{
	__u32 b, j, meta, id, nb = p->cfg.nb4;
	struct mx_key6 k6, next;
	struct mx_val v;
	struct cidr c;
	__u64 x, *slot;
	int fd = p->fd[M_H6], err = 0;
	bool first = true;

	/* IPv4 slots first: keep those whose id owns them */
	for (b = 0; b < nb; b++) {
		for (j = 0; j < MX_T4_SLOTS; j++) {
			x = p->t4[b].slot[j];
			if (!x)
				continue;
			meta = (__u32)(x >> 32);
			id = MX_T4_ID(meta);
			memset(&c, 0, sizeof(c));
			c.family = AF_INET;
			c.plen = (__u8)MX_T4_PLEN(meta);
			x = htonl((__u32)x);
			memcpy(c.addr, &x, 4);
			if (id >= p->cfg.cap || !xdp_meta_is(&p->meta[id], &c))
				xdp_t4_store(NULL, &p->t4[b].slot[j], 0);
		}
	}
	/* IPv6 keys: the same */
	while (!bpf_map_get_next_key(fd, first ? NULL : &k6, &next)) {
		first = false;
		k6 = next;
		if (bpf_map_lookup_elem(fd, &next, &v))
			continue;
		memset(&c, 0, sizeof(c));
		c.family = AF_INET6;
		c.plen = (__u8)next.plen;
		memcpy(c.addr, next.addr, 16);
		if (v.id >= p->cfg.cap || !xdp_meta_is(&p->meta[v.id], &c))
			bpf_map_delete_elem(fd, &next);
	}
	/* then every entry gets its slot or key, with its current action */
	for (id = 0; id < p->cfg.cap; id++) {
		const struct mx_meta *m = &p->meta[id];

		if (!m->family)
			continue;
		xdp_meta_cidr(m, &c);
		if (m->family == AF_INET) {
			slot = xdp_t4_find(p, &c);
			if (!slot)
				slot = xdp_t4_free(p, &c);
			if (!slot) {
				err = -ENOSPC;
				continue;
			}
			xdp_t4_store(NULL, slot, xdp_t4_slot(&c, m, id));
		} else {
			xdp_key6_of(&c, &k6);
			xdp_val_of(m, id, &v);
			if (bpf_map_update_elem(fd, &k6, &v, BPF_ANY))
				err = -errno;
		}
	}
	xdp_tagsets_gc(p, NULL, 0);
	if (!err)
		err = xdp_summaries_rebuild(p);
	return err;
}

/*
 * existing_id - the id of entry c found through the tables rather than
 * mx_meta (one bucket read for IPv4, one lookup for IPv6); UINT32_MAX when
 * absent. Valid when mx_cfg is not marked dirty: the tables then agree
 * with mx_meta.
 */
static __u32 existing_id(struct xdp_priv *p, const struct cidr *c)
{
	struct mx_key6 k6;
	struct mx_val v;
	__u64 *slot;
	__u32 id;

	if (c->family == AF_INET) {
		slot = xdp_t4_find(p, c);
		if (!slot)
			return UINT32_MAX;
		id = MX_T4_ID((__u32)(*slot >> 32));
	} else {
		xdp_key6_of(c, &k6);
		if (bpf_map_lookup_elem(p->fd[M_H6], &k6, &v))
			return UINT32_MAX;
		id = v.id;
	}
	if (id >= p->cfg.cap || !xdp_meta_is(&p->meta[id], c))
		return UINT32_MAX;
	return id;
}

/*
 * The ids an apply() hands out: a big one lists every free id from a scan
 * of mx_meta; a small one searches mx_ctl's bitmap from its hint.
 */
struct idsrc {
	bool big;
	__u32 *free_ids, nfree, next; /* big */
	__u32 cur, left;	      /* small */
};

static __u32 id_take(struct xdp_priv *p, struct idsrc *s)
{
	if (s->big)
		return s->next < s->nfree ? s->free_ids[s->next++] : UINT32_MAX;
	return xdp_ctl_next_free(p, &s->cur, &s->left);
}

/*
 * xdp_apply - all or nothing (backend.h). Small changes (under BIG_APPLY
 * entries, mx_ctl valid) cost what they touch: existing entries are found
 * through the tables, free ids through mx_ctl, and the summaries get the
 * new entries' bits (deleted entries' bits stay until a rebuild). Big ones
 * index every entry, and rebuild the summaries and mx_ctl from mx_meta.
 */
int xdp_apply(struct backend *be, const struct mx_entry *add, size_t nadd,
	      const struct cidr *del, size_t ndel)
{
	bool force_big = false;
	struct xdp_priv *p = priv(be);
	__u32 cap = p->cfg.cap, id, *add_id = NULL, *del_id = NULL;
	struct idsrc ids = {0};
	struct mx_meta *old = NULL; /* saved meta of add_id[] */
	bool *is_new = NULL, *existed = NULL, big;
	struct batch up6, rm6;
	struct t4_log log = {0};
	size_t cur4 = 0, cur6 = 0, used = 0, i, j, done6 = 0, rdone6 = 0;
	__u64 stale = 0;
	struct index ix;
	struct mx_val v;
	struct cidr c;
	__u64 *slot;
	int err = 0;
	unsigned int cpu;

	for (i = 0; i < nadd; i++) {
		err = check_cidr(&add[i].net);
		if (err)
			return err;
		if (add[i].action != MX_ACT_DROP &&
		    add[i].action != MX_ACT_ALLOW)
			return -EINVAL;
		if (add[i].origin != MX_ORIGIN_STATIC &&
		    add[i].origin != MX_ORIGIN_DYNAMIC)
			return -EINVAL;
		if (memchr(add[i].tags, '\0', MX_TAGS_LEN) == NULL)
			return -EINVAL;
	}
	for (i = 0; i < ndel; i++) {
		err = check_cidr(&del[i]);
		if (err)
			return err;
	}

	/* mx_ctl: made at the first change (without it: the full path) */
	if (!p->ctl && xdp_ctl_map(be, p, true))
		log_debug("%s: cannot make %s; every change scans the table",
			  be->pin_dir, MX_MAP_CTL);

	/* a previous apply() died half-way: mend the tables first */
	if (xdp_read_cfg(p, &p->cfg) == 0 && (p->cfg.flags & MX_CFG_DIRTY)) {
		log_warn("an earlier change of the table did not finish; "
			 "repairing it from the entry list");
		err = repair(p);
		if (err)
			return err;
	}
again:
	big = force_big || !xdp_ctl_valid(p) || nadd + ndel >= BIG_APPLY;
	err = set_dirty(p, true);
	if (err)
		return err;

	ids.big = big;
	if (big) {
		/* the current entries and free ids, from mx_meta */
		for (id = 0; id < cap; id++)
			used += p->meta[id].family != 0;
		xdp_index_init(&ix, p->meta, used + nadd);
		ix.pend = xcalloc(cap, sizeof(*ix.pend));
		ids.free_ids = xcalloc(cap, sizeof(*ids.free_ids));
		xdp_prefault(ids.free_ids, cap * sizeof(*ids.free_ids));
		for (id = 0; id < cap; id++) {
			const struct mx_meta *m = &p->meta[id];

			if (!m->family) {
				ids.free_ids[ids.nfree++] = id;
				continue;
			}
			xdp_meta_cidr(m, &c);
			xdp_index_put(&ix, &c, id, NULL);
			if (m->family == AF_INET)
				cur4++;
			else
				cur6++;
		}
	} else {
		/* only the entries named, found through the tables */
		xdp_index_init(&ix, p->meta, nadd + ndel);
		ix.spend = xcalloc(ix.mask + 1, sizeof(*ix.spend));
		for (i = 0; i < ndel + nadd; i++) {
			const struct cidr *n =
			    i < ndel ? &del[i] : &add[i - ndel].net;

			id = existing_id(p, n);
			if (id != UINT32_MAX &&
			    xdp_index_get(&ix, n) == UINT32_MAX)
				xdp_index_put(&ix, n, id, NULL);
		}
		cur4 = p->ctl[CTL_N4];
		cur6 = p->ctl[CTL_N6];
		ids.cur =
		    (__u32)(p->ctl[CTL_HINT] < cap ? p->ctl[CTL_HINT] : 0);
		ids.left = cap;
	}

	batch_init(&rm6, sizeof(struct mx_key6), ndel);
	batch_init(&up6, sizeof(struct mx_key6), nadd);
	del_id = xcalloc(ndel + 1, sizeof(*del_id));
	add_id = xcalloc(nadd + 1, sizeof(*add_id));
	is_new = xcalloc(nadd + 1, sizeof(*is_new));
	existed = xcalloc(nadd + 1, sizeof(*existed));
	old = xcalloc(nadd + 1, sizeof(*old));
	xdp_prefault(add_id, (nadd + 1) * sizeof(*add_id));
	xdp_prefault(is_new, (nadd + 1) * sizeof(*is_new));
	xdp_prefault(existed, (nadd + 1) * sizeof(*existed));
	xdp_prefault(old, (nadd + 1) * sizeof(*old));
	/* the undo log: one record per IPv4 change at most */
	log.alloc = nadd + ndel + 1;
	log.v = xcalloc(log.alloc, sizeof(*log.v));
	xdp_prefault(log.v, log.alloc * sizeof(*log.v));

	/* plan the deletions: every one must exist */
	for (i = 0; i < ndel; i++) {
		id = xdp_index_get(&ix, &del[i]);
		if (id == UINT32_MAX) {
			err = -ENOENT;
			goto out;
		}
		del_id[i] = id;
		xdp_index_del(&ix, &del[i]);
		stale += xdp_ctl_stale_weight(&del[i]);
		if (del[i].family == AF_INET) {
			cur4 -= cur4 > 0;
		} else {
			xdp_val_of(&p->meta[id], id, &v);
			batch_push(&rm6, &del[i], &v);
			cur6 -= cur6 > 0;
		}
	}
	/* plan the additions: new ids, or the existing entry replaced */
	for (i = 0; i < nadd; i++) {
		const struct cidr *n = &add[i].net;

		/* random reads: start the one 16 entries ahead now */
		if (big && i + 16 < nadd)
			xdp_index_prefetch(&ix, &add[i + 16].net);

		id = xdp_index_get(&ix, n);
		if (id == UINT32_MAX) {
			id = id_take(p, &ids);
			if (id == UINT32_MAX) {
				err = -ENOSPC;
				goto out_retry;
			}
			is_new[i] = true;
			xdp_index_put(&ix, n, id, n);
			if (n->family == AF_INET)
				cur4++;
			else
				cur6++;
		} else {
			/* in the table before this call (or a repeat) */
			existed[i] = !xdp_index_is_pending(&ix, n);
		}
		add_id[i] = id;
	}
	if (cur4 > p->cfg.cap4 || cur6 > p->cfg.cap6) {
		err = -ENOSPC;
		goto out_retry;
	}

	/* 1. deletions in the tables; mx_meta keeps them until the end */
	for (i = 0; i < ndel; i++) {
		if (del[i].family != AF_INET)
			continue;
		slot = xdp_t4_find(p, &del[i]);
		if (slot)
			xdp_t4_store(&log, slot, 0);
	}
	err = batch_delete(p->fd[M_H6], &rm6, 0, rm6.n, &rdone6);
	if (err)
		goto undo_del;

	/* 2. metadata and IPv4 slots of the additions (old copies kept) */
	for (i = 0; i < nadd; i++) {
		struct mx_meta nm;

		if (i + 16 < nadd && add[i + 16].net.family == AF_INET)
			xdp_t4_prefetch(p, &add[i + 16].net);
		id = add_id[i];
		old[i] = p->meta[id];
		memset(&nm, 0, sizeof(nm));
		memcpy(nm.addr, add[i].net.addr, 16);
		nm.family = add[i].net.family;
		nm.plen = add[i].net.plen;
		nm.action =
		    add[i].action == MX_ACT_ALLOW ? MX_VAL_ALLOW : MX_VAL_DROP;
		nm.origin = add[i].origin;
		nm.observe = add[i].observe;
		nm.added = add[i].added;
		nm.expires = add[i].expires;
		err = xdp_tagset_find(p, add[i].tags, &nm.tagset);
		if (err == -ENOSPC) {
			/* tagsets are collected lazily: collect now, retry */
			xdp_tagsets_gc(p, old, i);
			err = xdp_tagset_find(p, add[i].tags, &nm.tagset);
		}
		if (err) {
			j = i;
			goto undo_meta;
		}
		if (is_new[i]) {
			/* a new entry starts from zero */
			for (cpu = 0; cpu < p->ncpus; cpu++)
				memset(&p->ctr[(size_t)cpu * cap + id], 0,
				       sizeof(struct mx_ctr));
		}
		p->meta[id] = nm;
		if (nm.family == AF_INET) {
			/* a new net has no slot yet: skip the search */
			slot = is_new[i] && big ? NULL
						: xdp_t4_find(p, &add[i].net);
			if (!slot)
				slot = xdp_t4_free(p, &add[i].net);
			if (!slot) {
				/* both buckets full: the table is too full */
				err = -ENOSPC;
				j = i + 1;
				goto undo_meta;
			}
			xdp_t4_store(&log, slot,
				     xdp_t4_slot(&add[i].net, &nm, id));
		} else {
			xdp_val_of(&nm, id, &v);
			batch_push(&up6, &add[i].net, &v);
		}
	}

	/* 3. IPv6 additions in the kernel hash */
	err = batch_update(p->fd[M_H6], &up6, 0, up6.n, &done6);
	if (err)
		goto undo_add;

	/* 4. commit: forget the deleted entries, publish the summaries */
	for (i = 0; i < ndel; i++)
		memset(&p->meta[del_id[i]], 0, sizeof(struct mx_meta));
	if (!big) {
		/* mx_ctl follows; a crash from here on is repaired anyway */
		for (i = 0; i < ndel; i++)
			xdp_ctl_bit(p, del_id[i], false);
		for (i = 0; i < nadd; i++)
			if (is_new[i])
				xdp_ctl_bit(p, add_id[i], true);
		p->ctl[CTL_N4] = cur4;
		p->ctl[CTL_N6] = cur6;
		p->ctl[CTL_STALE] += stale;
		p->ctl[CTL_HINT] = ids.cur;
		/* an emptied table or too many stale bits: start afresh */
		big = cur4 + cur6 == 0 || p->ctl[CTL_STALE] > CTL_STALE_MAX;
	}
	err = big ? xdp_summaries_rebuild(p) : xdp_summaries_add(p, add, nadd);
	if (err)
		log_warn("cannot update the lookup summary: %s",
			 strerror(-err));
	err = 0;
	if (big)
		xdp_tagsets_gc(p, NULL, 0);
	goto out;

undo_add:
	/*
	 * Rare path, one key at a time: take every IPv6 addition out again,
	 * then put back the values that entries which existed before had
	 * (newest first, so the first occurrence's original value stays).
	 */
	for (i = nadd; i-- > 0;)
		if (!existed[i] && add[i].net.family == AF_INET6)
			undo_one6(p, &add[i].net, NULL);
	for (i = nadd; i-- > 0;) {
		if (!existed[i] || add[i].net.family != AF_INET6)
			continue;
		xdp_val_of(&old[i], add_id[i], &v);
		undo_one6(p, &add[i].net, &v);
	}
	j = nadd;
undo_meta:
	while (j-- > 0)
		p->meta[add_id[j]] = old[j];
	xdp_tagsets_gc(p, NULL, 0);
undo_del:
	for (i = 0; i < rdone6; i++)
		bpf_map_update_elem(p->fd[M_H6], (char *)rm6.keys + i * rm6.ksz,
				    &rm6.vals[i], BPF_ANY);
	xdp_t4_undo(&log);
	goto out;
out_retry:
	/*
	 * Full by mx_ctl's counts or bitmap, which are hints: nothing is
	 * changed yet, so ask mx_meta, the record, through the full path.
	 */
	force_big = !big;
out:
	/* a failed call put everything back: the tables agree with mx_meta */
	if (err)
		set_dirty(p, false);
	batch_free(&rm6);
	batch_free(&up6);
	free(log.v);
	free(ix.slot);
	free(ix.pend);
	free(ix.spend);
	free(ids.free_ids);
	free(del_id);
	free(add_id);
	free(is_new);
	free(existed);
	free(old);
	if (force_big && !big) {
		memset(&ids, 0, sizeof(ids));
		memset(&log, 0, sizeof(log));
		cur4 = cur6 = used = done6 = rdone6 = 0;
		stale = 0;
		goto again;
	}
	return err;
}
