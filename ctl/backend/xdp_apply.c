// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_apply.c - the XDP backend's apply(): one all-or-nothing change of
 * the entries (slots of both families written into the mmapped tables,
 * metadata, summaries, counters of new entries zeroed), the dirty flag
 * while it runs and the repair of one that died half-way.
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
 * there. A slot that no entry owns goes (and a second slot of one entry);
 * an entry without its slot gets it. The half-done change ends up either
 * done or undone per entry, never as a table that says one thing and a
 * list that says another.
 */
static int repair(struct xdp_priv *p)
{
	__u8 *owned = xcalloc(p->cfg.cap ? p->cfg.cap : 1, 1);
	struct tpos pos, at;
	__u32 id, nb;
	struct cidr c;
	int fam, err = 0;

	for (fam = 0; fam < 2; fam++) {
		pos.family = fam ? AF_INET6 : AF_INET;
		nb = fam ? p->cfg.nb6 : p->cfg.nb4;
		for (pos.b = 0; pos.b < nb; pos.b++) {
			for (pos.j = 0;
			     pos.j < (fam ? MX_T6_SLOTS : MX_T4_SLOTS);
			     pos.j++) {
				if (!xdp_tab_get(p, &pos, &c, &id))
					continue;
				if (id < p->cfg.cap && !owned[id] &&
				    xdp_meta_is(&p->meta[id], &c) &&
				    xdp_tab_find(p, &c, &at) && at.b == pos.b &&
				    at.j == pos.j) {
					owned[id] = 1;
					continue;
				}
				xdp_tab_clear(p, NULL, &pos);
			}
		}
	}
	/* then every entry gets its slot, with its current action */
	for (id = 0; id < p->cfg.cap; id++) {
		const struct mx_meta *m = &p->meta[id];

		if (!m->family)
			continue;
		xdp_meta_cidr(m, &c);
		if (!owned[id] && xdp_tab_place(p, NULL, &c, &pos)) {
			err = -ENOSPC;
			continue;
		}
		if (owned[id])
			xdp_tab_find(p, &c, &pos);
		xdp_tab_write(p, NULL, &pos, &c, m, id);
	}
	free(owned);
	xdp_tagsets_gc(p, NULL, 0);
	if (!err)
		err = xdp_summaries_rebuild(p);
	return err;
}

/*
 * existing_id - the id of entry c found through the tables rather than
 * mx_meta (two bucket reads); UINT32_MAX when absent. Valid when mx_cfg is
 * not marked dirty: the tables then agree with mx_meta.
 */
static __u32 existing_id(struct xdp_priv *p, const struct cidr *c)
{
	struct tpos pos;
	struct cidr x;
	__u32 id;

	if (!xdp_tab_find(p, c, &pos) || !xdp_tab_get(p, &pos, &x, &id))
		return UINT32_MAX;
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
	bool force_big = false, grew = false;
	struct xdp_priv *p = priv(be);
	__u32 cap, id, *add_id = NULL, *del_id = NULL;
	struct idsrc ids = {0};
	struct mx_meta *old = NULL; /* saved meta of add_id[] */
	bool *is_new = NULL, big;
	struct tpos *del_pos = NULL;
	struct tab_log log = {0};
	size_t cur4 = 0, cur6 = 0, used = 0, i, j, add4 = 0, add6 = 0;
	size_t need4, need6, base4 = 0, base6 = 0, nexp = 0;
	__u32 *exp_id = NULL; /* expired entries a big change takes out */
	struct tpos *exp_pos = NULL;
	int64_t now;
	__u64 stale = 0;
	struct index ix;
	struct tpos pos;
	int err = 0;

	/* the front door checked it; the pins are too precious to trust */
	err = backend_check_change(add, nadd, del, ndel);
	if (err)
		return err;
	for (i = 0; i < nadd; i++) {
		if (add[i].net.family == AF_INET)
			add4++;
		else
			add6++;
	}

	/* another process may have grown the tables */
	err = xdp_refresh(be, false);
	if (err)
		return err;
	/* a previous apply() died half-way: mend the tables first */
	if (xdp_read_cfg(p, &p->cfg) == 0 && (p->cfg.flags & MX_CFG_DIRTY)) {
		log_warn("an earlier change of the table did not finish; "
			 "repairing it from the entry list");
		err = repair(p);
		if (err)
			return err;
	}
	p->clock_off = xdp_clock_offset();
	now = mx_now();
again:
	/* mx_ctl: made at the first change (without it: the full path) */
	if (!p->ctl && xdp_ctl_map(be, p, true))
		log_debug("%s: cannot make %s; every change scans the table",
			  be->pin_dir, MX_MAP_CTL);
	cap = p->cfg.cap;
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
		exp_id = xcalloc(cap, sizeof(*exp_id));
		exp_pos = xcalloc(cap, sizeof(*exp_pos));
		for (id = 0; id < cap; id++) {
			const struct mx_meta *m = &p->meta[id];
			struct cidr c;

			if (!m->family) {
				ids.free_ids[ids.nfree++] = id;
				continue;
			}
			if (m->expires && m->expires <= now) {
				/* gone for the program: taken out for good */
				exp_id[nexp++] = id;
				continue;
			}
			xdp_meta_cidr(m, &c);
			xdp_index_put(&ix, &c, id, NULL);
			if (m->family == AF_INET)
				cur4++;
			else
				cur6++;
		}
		base4 = cur4;
		base6 = cur6;
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

	del_id = xcalloc(ndel + 1, sizeof(*del_id));
	del_pos = xcalloc(ndel + 1, sizeof(*del_pos));
	add_id = xcalloc(nadd + 1, sizeof(*add_id));
	is_new = xcalloc(nadd + 1, sizeof(*is_new));
	old = xcalloc(nadd + 1, sizeof(*old));
	xdp_prefault(add_id, (nadd + 1) * sizeof(*add_id));
	xdp_prefault(is_new, (nadd + 1) * sizeof(*is_new));
	xdp_prefault(old, (nadd + 1) * sizeof(*old));
	/* the undo log: one record per slot change, a few more for moves */
	log.alloc = nadd + ndel + 1024;
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
		if (del[i].family == AF_INET)
			cur4 -= cur4 > 0;
		else
			cur6 -= cur6 > 0;
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
		}
		add_id[i] = id;
	}
	if (cur4 > p->cfg.cap4 || cur6 > p->cfg.cap6) {
		err = -ENOSPC;
		goto out_retry;
	}

	/* 1. deletions in the tables; mx_meta keeps them until the end */
	for (i = 0; i < nexp; i++) {
		struct cidr c;

		xdp_meta_cidr(&p->meta[exp_id[i]], &c);
		exp_pos[i].family = 0;
		if (xdp_tab_find(p, &c, &pos)) {
			xdp_tab_clear(p, &log, &pos);
			exp_pos[i] = pos;
		}
	}
	for (i = 0; i < ndel; i++) {
		del_pos[i].family = 0;
		if (xdp_tab_find(p, &del[i], &pos)) {
			xdp_tab_clear(p, &log, &pos);
			del_pos[i] = pos;
		}
	}

	/* 2. metadata and slots of the additions (old copies kept) */
	for (i = 0; i < nadd; i++) {
		struct mx_meta nm;

		if (i + 16 < nadd)
			xdp_tab_prefetch(p, &add[i + 16].net);
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
			goto undo;
		}
		p->meta[id] = nm;
		/* a new net has no slot yet: skip the search */
		if ((is_new[i] && big) || !xdp_tab_find(p, &add[i].net, &pos)) {
			err = xdp_tab_place(p, &log, &add[i].net, &pos);
			if (err) {
				/* both buckets full: the table is too full */
				j = i + 1;
				goto undo;
			}
		}
		xdp_tab_write(p, &log, &pos, &add[i].net, &nm, id);
	}

	/* 3. commit: forget the deleted entries, publish the summaries */
	for (i = 0; i < nexp; i++) {
		struct cidr c;

		memset(&p->meta[exp_id[i]], 0, sizeof(struct mx_meta));
		if (exp_pos[i].family && !xdp_tab_get(p, &exp_pos[i], &c, &id))
			xdp_tab_zero_ctr(p, &exp_pos[i]);
	}
	for (i = 0; i < ndel; i++) {
		struct cidr c;

		memset(&p->meta[del_id[i]], 0, sizeof(struct mx_meta));
		/* a slot left free starts its next entry from zero */
		if (del_pos[i].family && !xdp_tab_get(p, &del_pos[i], &c, &id))
			xdp_tab_zero_ctr(p, &del_pos[i]);
	}
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

undo:
	/* the slots first (newest change first), then the metadata */
	xdp_tab_undo(p, &log);
	while (j-- > 0)
		p->meta[add_id[j]] = old[j];
	xdp_tagsets_gc(p, NULL, 0);
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
	xdp_tab_log_free(&log);
	free(ix.slot);
	free(ix.pend);
	free(ix.spend);
	free(ids.free_ids);
	free(exp_id);
	free(exp_pos);
	exp_id = NULL;
	exp_pos = NULL;
	nexp = 0;
	free(del_id);
	free(del_pos);
	free(add_id);
	free(is_new);
	free(old);
	if (err == -ENOSPC && big) {
		/*
		 * The tables are full (by count, or by their hashing when
		 * grew is set): everything is undone, so make them bigger
		 * and start again. xdp_grow() says -ENOSPC past the most
		 * this pin directory allows.
		 */
		int gerr;

		/* at most every addition new: room for all of them */
		need4 = base4 + add4;
		need6 = base6 + add6;
		gerr = xdp_grow(
		    be, (__u32)(need4 < UINT32_MAX ? need4 : UINT32_MAX),
		    (__u32)(need6 < UINT32_MAX ? need6 : UINT32_MAX),
		    cur4 <= p->cfg.cap4 && cur6 <= p->cfg.cap6 &&
			need4 <= p->cfg.cap4 && need6 <= p->cfg.cap6);

		if (gerr && gerr != -ENOSPC)
			log_warn("cannot make the tables bigger: %s",
				 strerror(-gerr));
		if (!gerr) {
			grew = true;
			force_big = true;
		}
	}
	if (force_big && (!big || grew)) {
		grew = false;
		memset(&ids, 0, sizeof(ids));
		cur4 = cur6 = used = 0;
		stale = 0;
		goto again;
	}
	return err;
}
