// SPDX-License-Identifier: GPL-2.0
/*
 * nft.c - the nftables backend: table netdev mxwall, driven through
 * libnftnl and libmnl on a NETLINK_NETFILTER socket (never the nft binary).
 * This file owns opening (the table made when missing), which maps exist,
 * attach and detach (a base chain per interface), the port set and observe
 * mode, destroy, status, and the ops table; the socket is nft_nl.c, reading
 * entries back nft_dump.c, the apply transaction nft_apply.c, the messages
 * nft_msg.c, nft_map.c and nft_elem.c.
 *
 * Promises (backend.h): every change is one atomic batch (begin, messages
 * with NLM_F_ACK, end, one send), so a bulk load applies fully or not at
 * all and a concurrent reader never sees half of it; every acknowledgement
 * is read and an error is told per message, down to the element when the
 * kernel points at one (NETLINK_EXT_ACK). Only table netdev mxwall is ever
 * touched. The layout is in nft_msg.h, the reasons in docs/nftables.md.
 *
 * Longest-prefix match: one map per prefix length in use, looked up longest
 * first, so entries never overlap inside a map, an allow exception inside a
 * blocked netblock wins, and a packet counts once, to the longest entry.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "backend/backend.h"
#include "backend/nft_int.h"
#include "backend/nft_msg.h"

/* ---- maps present ---- */

static int maps_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftb *p = data;
	struct nftnl_set *s = nftnl_set_alloc();
	const char *name, *table;
	int family, plen;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) == 0) {
		name = nftnl_set_get_str(s, NFTNL_SET_NAME);
		table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
		if (name && table && !strcmp(table, NFTM_TABLE) &&
		    !nftm_map_parse(name, &family, &plen, NULL)) {
			p->have[fam_idx(family)][plen] = true;
			if (!(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) &
			      NFT_SET_TIMEOUT))
				p->no_tmo[fam_idx(family)][plen] = true;
		} else if (name && table && !strcmp(table, NFTM_TABLE)) {
			if (!strcmp(name, NFTM_OLD_RECENT4_NAME))
				p->old_sets |= NFTM_OLD_RECENT4;
			else if (!strcmp(name, NFTM_OLD_RECENT6_NAME))
				p->old_sets |= NFTM_OLD_RECENT6;
		}
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* maps_refresh - which prefix-length maps exist now */
int nftb_maps_refresh(struct nftb *p)
{
	struct nftnl_set *s = nftb_set_ref(NULL);
	int err;

	memset(p->have, 0, sizeof(p->have));
	memset(p->no_tmo, 0, sizeof(p->no_tmo));
	p->old_sets = 0;
	err = nftb_dump(p, NFT_MSG_GETSET, nftb_set_payload, s, maps_cb, p);
	nftnl_set_free(s);
	return err;
}

/* table_exists - 0, -ENOENT, or another error */
static int table_exists(struct nftb *p)
{
	struct nftnl_table *t = nftnl_table_alloc();
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t seq = p->seq++;
	ssize_t n;
	int ret;

	if (!t)
		log_panic("out of memory");
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFTM_TABLE);
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETTABLE, NFTM_FAMILY,
				    NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (mnl_socket_sendto(p->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* the table, then the ack; or the error */
	for (;;) {
		n = nftb_nl_recv(p);
		if (n < 0)
			return (int)n;
		errno = 0;
		ret =
		    mnl_cb_run(p->rbuf, (size_t)n, seq, p->portid, NULL, NULL);
		if (ret < 0)
			return errno ? -errno : -EIO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

/* ---- ops ---- */

static int nft_open(struct backend *be, bool create)
{
	struct nftb *p = xcalloc(1, sizeof(*p));
	int err;

	err = nftb_nl_open(p);
	if (err) {
		free(p);
		return err;
	}
	be->priv = p;
	err = table_exists(p);
	if (err == -ENOENT && create) {
		struct mx_dp_config cfg = {.ports = {25}, .nports = 1};
		struct nftm_buf b;

		nftm_init(&b, p->seq);
		nftm_batch_begin(&b);
		nftm_table_create(&b, &cfg);
		nftm_batch_end(&b);
		err = nftb_batch_talk(p, &b);
		p->seq = b.seq;
		nftm_free(&b);
		/* made by another process meanwhile: fine */
		if (err == -EEXIST)
			err = 0;
	}
	if (!err)
		err = nftb_maps_refresh(p);
	if (err) {
		be->ops->close(be);
		return err;
	}
	return 0;
}

static void nft_close(struct backend *be)
{
	struct nftb *p = be->priv;

	if (!p)
		return;
	if (p->nl)
		mnl_socket_close(p->nl);
	free(p->rbuf);
	free(p);
	be->priv = NULL;
}

/* nftb_run_batch - a batch of what fill() adds, sent and acknowledged */
int nftb_run_batch(struct nftb *p, void (*fill)(struct nftm_buf *, void *),
		   void *arg)
{
	struct nftm_buf b;
	int err;

	nftm_init(&b, p->seq);
	nftm_batch_begin(&b);
	fill(&b, arg);
	nftm_batch_end(&b);
	err = nftb_batch_talk(p, &b);
	p->seq = b.seq;
	nftm_free(&b);
	return err;
}

struct attach_arg {
	const char *ifname;
	const struct nftb *p;
};

static void fill_attach(struct nftm_buf *b, void *arg)
{
	const struct attach_arg *a = arg;
	uint8_t plens[2][129];
	size_t n[2] = {0, 0};
	int f, plen;

	/* a table made by an older mxwall is brought up to date here: the
	 * fragment rules, and no record of recent SYN sources any more */
	for (f = 0; f < 2; f++)
		for (plen = 1; plen <= (f ? 128 : 32); plen++)
			if (a->p->have[f][plen])
				plens[f][n[f]++] = (uint8_t)plen;
	nftm_chains_upgrade(b, plens[0], n[0], plens[1], n[1], a->p->old_sets);
	if (a->ifname)
		nftm_base_chain_add(b, a->ifname);
}

static void fill_detach(struct nftm_buf *b, void *arg)
{
	nftm_base_chain_del(b, arg);
}

static void fill_destroy(struct nftm_buf *b, void *arg)
{
	(void)arg;
	nftm_table_destroy(b);
}

static void fill_config(struct nftm_buf *b, void *arg)
{
	const struct mx_dp_config *cfg = arg;

	nftm_ports(b, cfg->ports, cfg->nports);
	nftm_drop_rule(b, cfg->observe);
}

/* ---- chains: which interfaces ---- */

struct ifaces_ctx {
	struct mx_status *st;
};

static int chains_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifaces_ctx *c = data;
	struct nftnl_chain *ch = nftnl_chain_alloc();
	const char *name, *table;

	if (!ch)
		return MNL_CB_ERROR;
	if (nftnl_chain_nlmsg_parse(nlh, ch) == 0) {
		name = nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME);
		table = nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE);
		if (name && table && !strcmp(table, NFTM_TABLE) &&
		    !strncmp(name, NFTM_BASE_PREFIX,
			     strlen(NFTM_BASE_PREFIX)) &&
		    c->st->nifaces < MX_IFACES_MAX) {
			struct mx_iface *f = &c->st->ifaces[c->st->nifaces++];

			/* the interface is in the name: the chain keeps it
			 * even while the device is gone */
			snprintf(f->name, sizeof(f->name), "%s",
				 name + strlen(NFTM_BASE_PREFIX));
			f->ifindex = (int)if_nametoindex(f->name);
			f->mode = MX_MODE_AUTO;
		}
	}
	nftnl_chain_free(ch);
	return MNL_CB_OK;
}

static void table_payload(struct nlmsghdr *nlh, const void *obj)
{
	nftnl_chain_nlmsg_build_payload(nlh, (struct nftnl_chain *)obj);
}

int nftb_read_ifaces(struct nftb *p, struct mx_status *st)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct ifaces_ctx c = {st};
	int err, tries = 0;

	if (!ch)
		log_panic("out of memory");
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, NFTM_TABLE);
	do {
		st->nifaces = 0;
		err = nftb_dump(p, NFT_MSG_GETCHAIN, table_payload, ch,
				chains_cb, &c);
	} while (err == -EINTR && ++tries < DUMP_RETRIES);
	nftnl_chain_free(ch);
	return err;
}

static int nft_attach(struct backend *be, const char *ifname,
		      enum mx_attach_mode mode)
{
	struct nftb *p = be->priv;
	struct attach_arg a = {ifname, p};
	struct mx_status st;
	size_t i;
	int err;

	/* nftables has no native or generic: the ingress hook is the one */
	(void)mode;
	if (strlen(ifname) >= IF_NAMESIZE || !if_nametoindex(ifname))
		return -ENODEV;
	memset(&st, 0, sizeof(st));
	err = nftb_read_ifaces(p, &st);
	if (err)
		return err;
	for (i = 0; i < st.nifaces; i++)
		if (!strcmp(st.ifaces[i].name, ifname))
			a.ifname = NULL; /* attached already: rules only */
	if (a.ifname && st.nifaces >= MX_IFACES_MAX)
		return -ENOSPC;
	/* the lookup chains are rebuilt from the maps there are now */
	err = nftb_maps_refresh(p);
	if (err)
		return err;
	return nftb_run_batch(p, fill_attach, &a);
}

static int nft_detach(struct backend *be, const char *ifname)
{
	return nftb_run_batch(be->priv, fill_detach, (void *)ifname);
}

static int nft_set_config(struct backend *be, const struct mx_dp_config *cfg)
{
	if (cfg->nports > MX_PORTS_MAX)
		return -EINVAL;
	return nftb_run_batch(be->priv, fill_config, (void *)cfg);
}

static int nft_destroy(struct backend *be)
{
	struct nftb *p = be->priv;
	int err = table_exists(p);

	/* gone already: nothing to do, and nothing to complain about */
	if (err == -ENOENT)
		return 0;
	if (!err)
		err = nftb_run_batch(p, fill_destroy, NULL);
	if (err == -ENOENT)
		err = 0;
	if (!err)
		memset(p->have, 0, sizeof(p->have));
	return err;
}

/* ---- status ---- */

static int ctr_cb(const struct nlmsghdr *nlh, void *data)
{
	uint64_t *v = data;
	struct nftnl_obj *o = nftnl_obj_alloc();
	const char *name, *table;
	int i;

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) == 0) {
		name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
		table = nftnl_obj_get_str(o, NFTNL_OBJ_TABLE);
		for (i = 0; name && table && !strcmp(table, NFTM_TABLE) &&
			    i < NFTM_CNT_MAX;
		     i++)
			if (!strcmp(name, nftm_counter_names[i]))
				v[i] = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

static void obj_payload(struct nlmsghdr *nlh, const void *obj)
{
	nftnl_obj_nlmsg_build_payload(nlh, (struct nftnl_obj *)obj);
}

static int ports_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mx_dp_config *cfg = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0) {
		it = nftnl_set_elems_iter_create(s);
		if (!it)
			log_panic("out of memory");
		while ((el = nftnl_set_elems_iter_next(it))) {
			uint32_t len = 0;
			const uint16_t *k =
			    nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);

			if (k && len == 2 && cfg->nports < MX_PORTS_MAX)
				cfg->ports[cfg->nports++] = ntohs(*k);
		}
		nftnl_set_elems_iter_destroy(it);
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int verdict_cb(struct nftnl_expr *e, void *data)
{
	bool *observe = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (name && !strcmp(name, "immediate") &&
	    nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT) &&
	    (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) == NFT_GOTO)
		*observe = true;
	return 0;
}

static int drop_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *chain;

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0) {
		chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
		if (chain && !strcmp(chain, NFTM_CHAIN_DROP))
			nftnl_expr_foreach(r, verdict_cb, data);
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static void rule_payload(struct nlmsghdr *nlh, const void *obj)
{
	nftnl_rule_nlmsg_build_payload(nlh, (struct nftnl_rule *)obj);
}

int nft_status(struct backend *be, struct mx_status *st)
{
	struct nftb *p = be->priv;
	uint64_t v[NFTM_CNT_MAX] = {0};
	struct mx_entry *rows = NULL;
	struct nftnl_obj *o;
	struct nftnl_rule *r;
	struct nftnl_set *s;
	size_t i, n = 0;
	int err;

	st->backend = "nft";
	snprintf(st->why, sizeof(st->why), "%s", be->why);
	err = nftb_read_ifaces(p, st);
	if (err)
		return err;

	o = nftnl_obj_alloc();
	if (!o)
		log_panic("out of memory");
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NFTM_TABLE);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	err = nftb_dump(p, NFT_MSG_GETOBJ, obj_payload, o, ctr_cb, v);
	nftnl_obj_free(o);
	if (err)
		return err;
	st->counters.seen = v[NFTM_CNT_SEEN];
	st->counters.syn = v[NFTM_CNT_SYN];
	st->counters.dropped = v[NFTM_CNT_DROPPED];
	st->counters.allowed = v[NFTM_CNT_ALLOWED];
	st->counters.observed = v[NFTM_CNT_OBSERVED];
	st->counters.passed = v[NFTM_CNT_SEEN] >= v[NFTM_CNT_DROPPED]
				  ? v[NFTM_CNT_SEEN] - v[NFTM_CNT_DROPPED]
				  : 0;
	/* not counted here: the kernel drops malformed packets itself
	 * before nft sees their transport header */
	st->counters.malformed = 0;

	memset(&st->cfg, 0, sizeof(st->cfg));
	s = nftb_set_ref(NFTM_SET_PORTS);
	err = nftb_dump(p, NFT_MSG_GETSETELEM, nftb_elems_payload, s, ports_cb,
			&st->cfg);
	nftnl_set_free(s);
	if (err)
		return err;
	r = nftnl_rule_alloc();
	if (!r)
		log_panic("out of memory");
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFTM_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFTM_CHAIN_DROP);
	err = nftb_dump(p, NFT_MSG_GETRULE, rule_payload, r, drop_rule_cb,
			&st->cfg.observe);
	nftnl_rule_free(r);
	if (err)
		return err;

	err = nft_dump(be, &rows, &n);
	if (err)
		return err;
	st->entries_static = st->entries_dynamic = 0;
	for (i = 0; i < n; i++) {
		if (rows[i].origin == MX_ORIGIN_STATIC)
			st->entries_static++;
		else
			st->entries_dynamic++;
	}
	free(rows);
	/* sets have no fixed size: memory is the limit */
	st->capacity = 0;
	return 0;
}

const struct backend_ops backend_nft_ops = {
    .name = "nft",
    .open = nft_open,
    .close = nft_close,
    .attach = nft_attach,
    .detach = nft_detach,
    .set_config = nft_set_config,
    .status = nft_status,
    .apply = nft_apply,
    .dump = nft_dump,
    .zero_counters = nft_zero_counters,
    /* no .seen: the watcher asks the record of handshakes (wire.h) */
    .destroy = nft_destroy,
};
