// SPDX-License-Identifier: GPL-2.0
/*
 * nft_apply.c - the nftables backend's apply transaction: check and sort
 * the changes, ask which adds exist already (per entry, or whole maps for
 * a bulk load) so that a replaced entry keeps its counters and an
 * unchanged one is left alone, and send it all as one batch that creates
 * the maps of new prefix lengths and rebuilds the lookup chains with them
 * (backend.h: all or nothing; docs/nftables.md "Atomic changes").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>

#include "backend/backend.h"
#include "backend/nft_int.h"
#include "backend/nft_msg.h"

/* key_cmp - map order: family, prefix length, shard, then address */
static int key_cmp(const struct cidr *x, const struct cidr *y)
{
	int a, b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	a = nftm_shard_of(x);
	b = nftm_shard_of(y);
	if (a != b)
		return a < b ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

static int elem_cmp(const void *a, const void *b)
{
	const struct nftm_elem *x = a, *y = b;
	int c = key_cmp(&x->net, &y->net);

	if (c)
		return c;
	/* the later of two equal entries wins: keep the input order */
	return x->e < y->e ? -1 : x->e > y->e;
}

bool nftb_net_ok(const struct cidr *c)
{
	return !backend_check_change(NULL, 0, c, 1);
}

/* dedupe - sorted elements, keeping the last of each equal run */
static size_t dedupe(struct nftm_elem *v, size_t n)
{
	size_t i, out = 0;

	for (i = 0; i < n; i++) {
		if (i + 1 < n && !cidr_cmp(&v[i].net, &v[i + 1].net))
			continue;
		v[out++] = v[i];
	}
	return out;
}

static bool in_sorted(const struct nftm_elem *v, size_t n, const struct cidr *c)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = key_cmp(&v[mid].net, c);

		if (!r)
			return true;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* same_entry - nothing to change: action, mark and metadata are equal */
static bool same_entry(const struct mx_entry *a, const struct mx_entry *b)
{
	return a->action == b->action && a->observe == b->observe &&
	       a->origin == b->origin && a->added == b->added &&
	       a->expires == b->expires && !strcmp(a->tags, b->tags);
}

struct lookup_ctx {
	struct nftm_elem *adds;
	bool *found;
	struct mx_entry *old;
	const struct nftm_buf *b;
	size_t base;	     /* adds index of the first request */
	const size_t *which; /* request k -> adds index */
	int64_t now;
};

static int lookup_cb(const struct nlmsghdr *nlh, const struct nftm_rec *r,
		     int err, void *data)
{
	struct lookup_ctx *c = data;
	size_t k = (size_t)(r - c->b->recs), i = c->which[k];
	struct nft_rows rows = {.now = c->now};

	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	rows.family = c->adds[i].net.family;
	rows.plen = c->adds[i].net.plen;
	nftb_elems_cb(nlh, &rows);
	if (rows.n == 1) {
		c->found[i] = true;
		c->old[i] = rows.v[0];
	}
	free(rows.v);
	return 0;
}

/*
 * lookup_existing - which adds are already entries, and their counters:
 * GET requests in rounds, answered one by one
 */
static int lookup_existing(struct nftb *p, struct nftm_elem *adds, size_t nadd,
			   bool *found, struct mx_entry *old)
{
	size_t which[NFT_GETS_PER_ROUND];
	struct lookup_ctx c = {adds, found, old, NULL, 0, which, now_s()};
	size_t i = 0;
	int err = 0;

	while (i < nadd && !err) {
		struct nftm_buf b;
		size_t k = 0;

		nftm_init(&b, p->seq);
		for (; i < nadd && k < NFT_GETS_PER_ROUND; i++) {
			const struct cidr *n = &adds[i].net;
			uint8_t key[16];
			char name[32];

			if (!p->have[fam_idx(n->family)][n->plen])
				continue;
			nftm_map_name(name, sizeof(name), n->family, n->plen,
				      nftm_shard_of(n));
			nftm_elem_get(&b, name, key, nftm_key(n, key), false);
			which[k++] = i;
		}
		p->seq = b.seq;
		if (k) {
			c.b = &b;
			err = nftb_requests(p, &b, lookup_cb, &c);
		}
		nftm_free(&b);
	}
	return err;
}

static int row_cmp(const void *a, const void *b)
{
	return key_cmp(&((const struct mx_entry *)a)->net,
		       &((const struct mx_entry *)b)->net);
}

/*
 * lookup_by_dump - the same answer as lookup_existing for many adds: read
 * each map that has adds whole and merge (adds are sorted by map, then
 * address), which beats one request per entry for a bulk load
 */
static int lookup_by_dump(struct nftb *p, struct nftm_elem *adds, size_t nadd,
			  bool *found, struct mx_entry *old)
{
	size_t i = 0, j;
	int err;

	while (i < nadd) {
		const struct cidr *n = &adds[i].net;
		struct nft_rows rows = {.now = now_s()};
		size_t end = i, r = 0;

		while (end < nadd && adds[end].net.family == n->family &&
		       adds[end].net.plen == n->plen)
			end++;
		if (!p->have[fam_idx(n->family)][n->plen]) {
			i = end;
			continue;
		}
		err = nftb_dump_map(p, n->family, n->plen, false, &rows);
		if (err && err != -ENOENT) {
			free(rows.v);
			return err;
		}
		qsort(rows.v, rows.n, sizeof(*rows.v), row_cmp);
		for (j = i; j < end; j++) {
			int c = 1;

			while (r < rows.n &&
			       (c = key_cmp(&rows.v[r].net, &adds[j].net)) < 0)
				r++;
			if (r < rows.n && !c) {
				found[j] = true;
				old[j] = rows.v[r];
			}
		}
		free(rows.v);
		i = end;
	}
	return 0;
}

/* above this many adds, reading the maps whole is cheaper than asking */
#define NFT_LOOKUP_DUMP_MIN 2048

struct apply_plan {
	struct nftm_elem *dels;
	size_t ndel;
	struct nftm_elem *adds;
	size_t nadd;
	bool newmap[2][129]; /* maps this batch creates */
	bool maps[2][129];   /* maps after the batch */
};

/* plen_run - end of the run of elements with the same family and length */
static size_t plen_run(const struct nftm_elem *v, size_t i, size_t n)
{
	size_t j = i;

	while (j < n && v[j].net.family == v[i].net.family &&
	       v[j].net.plen == v[i].net.plen)
		j++;
	return j;
}

static void fill_apply(struct nftm_buf *b, void *arg)
{
	struct apply_plan *pl = arg;
	size_t i, j;
	int f, plen;

	for (f = 0; f < 2; f++) {
		uint8_t plens[129];
		size_t n = 0;
		bool any = false;

		for (plen = 1; plen <= (f ? 128 : 32); plen++) {
			if (pl->newmap[f][plen]) {
				nftm_map_add(b, f ? AF_INET6 : AF_INET, plen);
				any = true;
			}
			if (pl->maps[f][plen])
				plens[n++] = (uint8_t)plen;
		}
		/* a new map: the syn chain gets its lookups again, longest
		 * first, in the same batch (packets see the old chain or the
		 * new one, never a mix) */
		if (any) {
			nftm_syn_chain_rebuild(b, f ? AF_INET6 : AF_INET, plens,
					       n);
			nftm_frag_chain_rebuild(b, f ? AF_INET6 : AF_INET,
						plens, n);
		}
	}
	/* deletions first: a replaced entry is deleted, then added again */
	for (i = 0; i < pl->ndel; i = j) {
		j = plen_run(pl->dels, i, pl->ndel);
		nftm_elems(b, false, pl->dels[i].net.family,
			   pl->dels[i].net.plen, &pl->dels[i], j - i);
	}
	for (i = 0; i < pl->nadd; i = j) {
		j = plen_run(pl->adds, i, pl->nadd);
		nftm_elems(b, true, pl->adds[i].net.family,
			   pl->adds[i].net.plen, &pl->adds[i], j - i);
	}
}

int nft_apply(struct backend *be, const struct mx_entry *add, size_t nadd,
	      const struct cidr *del, size_t ndel)
{
	struct nftb *p = be->priv;
	struct apply_plan pl;
	struct mx_entry *old = NULL;
	bool *found = NULL;
	char net[CIDR_STRLEN];
	size_t i, na, nd, out;
	int64_t now;
	int err = 0;

	if (!nadd && !ndel)
		return 0;
	/* the front door checked it; the same rule as the XDP backend's */
	err = backend_check_change(add, nadd, del, ndel);
	if (err)
		return err;
	memset(&pl, 0, sizeof(pl));
	pl.adds = xcalloc(nadd ? nadd : 1, sizeof(*pl.adds));
	for (i = 0; i < nadd; i++) {
		pl.adds[i].net = add[i].net;
		pl.adds[i].e = &add[i];
	}
	qsort(pl.adds, nadd, sizeof(*pl.adds), elem_cmp);
	na = dedupe(pl.adds, nadd);
	/* room for the explicit deletions and one per replaced entry */
	pl.dels = xcalloc(ndel + na + 1, sizeof(*pl.dels));
	for (i = 0; i < ndel; i++)
		pl.dels[i].net = del[i];
	qsort(pl.dels, ndel, sizeof(*pl.dels), elem_cmp);
	nd = dedupe(pl.dels, ndel);

	err = nftb_maps_refresh(p);
	if (err)
		goto out;
	/*
	 * the ttl in the kernel too: the element stops matching at expiry
	 * with or without a watcher (a map from an older mxwall takes no
	 * timeouts: the watcher removes those entries)
	 */
	now = now_s();
	for (i = 0; i < na; i++) {
		const struct mx_entry *e = pl.adds[i].e;

		if (e->expires > 0 &&
		    !p->no_tmo[fam_idx(e->net.family)][e->net.plen])
			pl.adds[i].timeout_ms =
			    (uint64_t)(e->expires > now ? e->expires - now
							: 1) *
			    1000;
	}
	for (i = 0; i < nd; i++) {
		const struct cidr *c = &pl.dels[i].net;

		if (!p->have[fam_idx(c->family)][c->plen]) {
			log_err("nft: delete %s: no such entry",
				cidr_format(c, net, sizeof(net)));
			err = -ENOENT;
			goto out;
		}
	}
	found = xcalloc(na + 1, sizeof(*found));
	old = xcalloc(na + 1, sizeof(*old));
	if (na >= NFT_LOOKUP_DUMP_MIN)
		err = lookup_by_dump(p, pl.adds, na, found, old);
	else
		err = lookup_existing(p, pl.adds, na, found, old);
	if (err)
		goto out;

	memcpy(pl.maps, p->have, sizeof(pl.maps));
	out = 0;
	for (i = 0; i < na; i++) {
		struct nftm_elem *x = &pl.adds[i];
		int f = fam_idx(x->net.family);

		if (found[i] && !in_sorted(pl.dels, nd, &x->net)) {
			if (same_entry(x->e, &old[i]))
				continue; /* nothing to change */
			/* replace: same counters, new verdict and metadata */
			x->carry = true;
			x->packets = old[i].packets;
			x->bytes = old[i].bytes;
			pl.dels[nd + pl.ndel++].net = x->net;
		}
		if (!pl.maps[f][x->net.plen]) {
			pl.maps[f][x->net.plen] = true;
			pl.newmap[f][x->net.plen] = true;
		}
		pl.adds[out++] = *x;
	}
	pl.ndel += nd;
	pl.nadd = out;
	/* replaced entries joined the deletions: group them by map again */
	qsort(pl.dels, pl.ndel, sizeof(*pl.dels), elem_cmp);
	if (!pl.nadd && !pl.ndel)
		goto out;
	err = nftb_run_batch(p, fill_apply, &pl);
	if (!err)
		memcpy(p->have, pl.maps, sizeof(p->have));
out:
	free(found);
	free(old);
	free(pl.adds);
	free(pl.dels);
	return err;
}
