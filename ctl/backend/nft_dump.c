// SPDX-License-Identifier: GPL-2.0
/*
 * nft_dump.c - reading the nftables backend's maps back: elements as
 * entries with their counters, every map as one snapshot (the ruleset
 * generation before and after, read again if a batch was committed in
 * between: docs/nftables.md "Atomic changes"), dump and zero_counters
 * (GETSETELEM_RESET).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>

#include "backend/backend.h"
#include "backend/nft_int.h"
#include "backend/nft_msg.h"

int nftb_elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_rows *rows = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	it = nftnl_set_elems_iter_create(s);
	if (!it)
		log_panic("out of memory");
	/* iter_next returns the current element, then moves on */
	while ((el = nftnl_set_elems_iter_next(it))) {
		struct mx_entry e;

		if (nftm_elem_to_entry(el, rows->family, rows->plen, rows->now,
				       &e))
			continue;
		if (rows->n == rows->cap) {
			rows->cap = rows->cap ? rows->cap * 2 : 256;
			rows->v =
			    xreallocarray(rows->v, rows->cap, sizeof(*rows->v));
		}
		rows->v[rows->n++] = e;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* dump_map - every element of one map into rows (reset: zero as read) */
int nftb_dump_map(struct nftb *p, int family, int plen, bool reset,
		  struct nft_rows *rows)
{
	int shard, err = 0;

	rows->family = family;
	rows->plen = plen;
	for (shard = 0; shard < nftm_shards(plen) && !err; shard++) {
		struct nftnl_set *s;
		char name[32];

		nftm_map_name(name, sizeof(name), family, plen, shard);
		s = nftb_set_ref(name);
		err = nftb_dump(
		    p, reset ? NFTM_MSG_GETSETELEM_RESET : NFT_MSG_GETSETELEM,
		    nftb_elems_payload, s, nftb_elems_cb, rows);
		nftnl_set_free(s);
	}
	return err;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(
	    a, nlh,
	    sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) == NFTA_GEN_ID &&
					 !mnl_attr_validate(a, MNL_TYPE_U32)) *
	    (uint32_t *)data = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

/* gen_id - the ruleset generation: it moves with every committed batch */
static int gen_id(struct nftb *p, uint32_t *id)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t seq = p->seq++;
	int ret;

	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETGEN, AF_UNSPEC, 0, seq);
	if (mnl_socket_sendto(p->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = nftb_nl_recv(p);

		if (n < 0)
			return (int)n;
		errno = 0;
		ret =
		    mnl_cb_run(p->rbuf, (size_t)n, seq, p->portid, gen_cb, id);
		if (ret < 0)
			return errno ? -errno : -EIO;
		/* one NEWGEN message, no ack asked */
		return 0;
	}
}

static int dump_maps(struct nftb *p, bool reset, struct nft_rows *rows);

/*
 * barrier - wait until no batch is being committed: a batch, even an empty
 * one, is processed under the commit mutex inside sendmsg(), so sending
 * one returns only once any commit in progress has finished
 */
static int barrier(struct nftb *p)
{
	struct nftm_buf b;
	int err;

	nftm_init(&b, p->seq);
	nftm_batch_begin(&b);
	nftm_batch_end(&b);
	err = nftb_nl_send(p, &b);
	p->seq = b.seq;
	nftm_free(&b);
	return err;
}

static int dump_cmp(const void *a, const void *b)
{
	return cidr_cmp(&((const struct mx_entry *)a)->net,
			&((const struct mx_entry *)b)->net);
}

/* has_twins - an entry read twice: the dump walked a changing set */
static bool has_twins(struct nft_rows *rows)
{
	size_t i;

	qsort(rows->v, rows->n, sizeof(*rows->v), dump_cmp);
	for (i = 1; i < rows->n; i++)
		if (!cidr_cmp(&rows->v[i - 1].net, &rows->v[i].net))
			return true;
	return false;
}

/*
 * dump_all - every map, as one snapshot. The maps are read one after the
 * other, each in several parts, while another process may commit a batch.
 * The generation moves at the start of a commit's last phase, which then
 * still removes and links elements (a dump that resumes by position skips
 * or repeats some), so: the generation, a barrier (a commit under way
 * finishes), the nftb_dump, a barrier again (one that started meanwhile
 * finishes and has moved the generation), the generation again. Equal:
 * no batch changed the maps during the read. Else (or an entry read twice)
 * the whole read is done again.
 */
int nftb_dump_all(struct nftb *p, bool reset, struct nft_rows *rows)
{
	uint32_t g0 = 0, g1 = 0;
	int tries, err;

	for (tries = 0; tries < DUMP_RETRIES * 4; tries++) {
		rows->n = 0;
		err = gen_id(p, &g0);
		if (!err)
			err = barrier(p);
		if (!err)
			err = dump_maps(p, reset, rows);
		if (!err)
			err = barrier(p);
		if (!err)
			err = gen_id(p, &g1);
		/* a reset is not repeated: counters read and zeroed stay so */
		if (err || reset)
			return err;
		if (g0 == g1 && !has_twins(rows))
			return 0;
		err = nftb_maps_refresh(p);
		if (err)
			return err;
	}
	return -EBUSY;
}

static int dump_maps(struct nftb *p, bool reset, struct nft_rows *rows)
{
	int f, plen, err;

	for (f = 0; f < 2; f++)
		for (plen = 1; plen <= (f ? 128 : 32); plen++) {
			if (!p->have[f][plen])
				continue;
			err = nftb_dump_map(p, f ? AF_INET6 : AF_INET, plen,
					    reset, rows);
			/* removed by another process meanwhile */
			if (err == -ENOENT)
				continue;
			if (err)
				return err;
		}
	return 0;
}

int nft_dump(struct backend *be, struct mx_entry **out, size_t *n)
{
	struct nftb *p = be->priv;
	struct nft_rows rows = {.now = now_s()};
	int err;

	err = nftb_maps_refresh(p);
	if (!err)
		err = nftb_dump_all(p, false, &rows);
	if (err) {
		free(rows.v);
		return err;
	}
	*out = rows.v;
	*n = rows.n;
	return 0;
}

/* ---- zero_counters, seen ---- */

struct missing_ctx {
	const struct nftm_buf *b;
	const struct cidr *nets;
	const size_t *which;
	int err;
};

static int reset_cb(const struct nlmsghdr *nlh, const struct nftm_rec *r,
		    int err, void *data)
{
	struct missing_ctx *c = data;
	char net[CIDR_STRLEN];

	(void)nlh;
	if (!err)
		return 0;
	cidr_format(&c->nets[c->which[r - c->b->recs]], net, sizeof(net));
	log_err("nft: zero counters of %s: %s", net,
		err == -ENOENT ? "no such entry" : strerror(-err));
	if (!c->err)
		c->err = err;
	return 0;
}

int nft_zero_counters(struct backend *be, const struct cidr *nets, size_t n)
{
	struct nftb *p = be->priv;
	size_t which[NFT_GETS_PER_ROUND];
	struct missing_ctx c = {NULL, nets, which, 0};
	struct nft_rows rows = {.now = now_s()};
	size_t i = 0;
	int err;

	err = nftb_maps_refresh(p);
	if (err)
		return err;
	if (!n) {
		/* GETSETELEM_RESET dumps and zeroes each map (Linux 6.5) */
		err = nftb_dump_all(p, true, &rows);
		free(rows.v);
		return err;
	}
	while (i < n && !err) {
		struct nftm_buf b;
		size_t k = 0;

		nftm_init(&b, p->seq);
		for (; i < n && k < NFT_GETS_PER_ROUND; i++) {
			uint8_t key[16];
			char name[32];

			if (!nftb_net_ok(&nets[i]))
				continue;
			if (!p->have[fam_idx(nets[i].family)][nets[i].plen]) {
				char net[CIDR_STRLEN];

				log_err(
				    "nft: zero counters of %s: no such entry",
				    cidr_format(&nets[i], net, sizeof(net)));
				if (!c.err)
					c.err = -ENOENT;
				continue;
			}
			nftm_map_name(name, sizeof(name), nets[i].family,
				      nets[i].plen, nftm_shard_of(&nets[i]));
			nftm_elem_get(&b, name, key, nftm_key(&nets[i], key),
				      true);
			which[k++] = i;
		}
		p->seq = b.seq;
		if (k) {
			c.b = &b;
			err = nftb_requests(p, &b, reset_cb, &c);
		}
		nftm_free(&b);
	}
	return err ? err : c.err;
}
