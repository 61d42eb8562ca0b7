// SPDX-License-Identifier: GPL-2.0
/*
 * nft_elem.c - the nftables backend's elements: map keys, the entry's
 * metadata as the element's comment (nft's userdata), element messages
 * (add, delete, get), and an element read back as an entry with its
 * counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "backend/nft_msg.h"
#include "backend/nft_msg_int.h"

/* nft's element comment (NFTNL_UDATA_SET_ELEM_COMMENT in nftables) */
#define NFT_UDATA_ELEM_COMMENT 0
#define NFTM_COMMENT_LEN 200

size_t nftm_key(const struct cidr *c, uint8_t *key)
{
	size_t len = c->family == AF_INET ? 4 : 16;

	memcpy(key, c->addr, len);
	return len;
}

int nftm_comment_encode(const struct mx_entry *e, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%s%s added=%lld expires=%lld%s%s",
		     e->origin == MX_ORIGIN_STATIC ? "static" : "dynamic",
		     e->observe ? " observe" : "", (long long)e->added,
		     (long long)e->expires, e->tags[0] ? " tags=" : "",
		     e->tags);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

void nftm_comment_decode(const char *s, struct mx_entry *e)
{
	const char *p = s;

	e->origin = MX_ORIGIN_DYNAMIC;
	e->observe = false;
	e->tags[0] = '\0';
	e->added = 0;
	e->expires = 0;
	while (*p) {
		size_t w;

		while (*p == ' ')
			p++;
		w = strcspn(p, " ");
		if (!strncmp(p, "tags=", 5)) {
			/* the rest of the comment */
			snprintf(e->tags, sizeof(e->tags), "%s", p + 5);
			break;
		}
		if (w == 6 && !strncmp(p, "static", 6))
			e->origin = MX_ORIGIN_STATIC;
		else if (w == 7 && !strncmp(p, "observe", 7))
			e->observe = true;
		else if (!strncmp(p, "added=", 6))
			e->added = strtoll(p + 6, NULL, 10);
		else if (!strncmp(p, "expires=", 8))
			e->expires = strtoll(p + 8, NULL, 10);
		p += w;
	}
}

struct comment_find {
	char *buf;
	size_t len;
	bool found;
};

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	struct comment_find *cf = data;
	uint8_t len = nftnl_udata_len(attr);
	const char *v = nftnl_udata_get(attr);

	if (nftnl_udata_type(attr) != NFT_UDATA_ELEM_COMMENT || !len)
		return 0;
	if (len >= cf->len)
		len = (uint8_t)(cf->len - 1);
	memcpy(cf->buf, v, len);
	cf->buf[len] = '\0';
	cf->found = true;
	return 0;
}

const char *nftm_udata_comment(const void *data, uint32_t len, char *buf,
			       size_t buflen)
{
	struct comment_find cf = {buf, buflen, false};

	if (!data || !len || buflen < 2)
		return NULL;
	if (nftnl_udata_parse(data, len, comment_cb, &cf) < 0 || !cf.found)
		return NULL;
	return buf;
}

/* elem_build - one element of a map for the given entry (or key only) */
static struct nftnl_set_elem *elem_build(const struct nftm_elem *x)
{
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	uint8_t key[16];

	if (!el)
		log_panic("out of memory");
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, nftm_key(&x->net, key));
	if (x->e) {
		const struct mx_entry *e = x->e;
		struct nftnl_udata_buf *ud;
		struct nftnl_expr *c;
		char comment[NFTM_COMMENT_LEN];
		const char *chain;

		if (e->action == MX_ACT_ALLOW)
			chain = NFTM_CHAIN_ALLOW;
		else
			chain =
			    e->observe ? NFTM_CHAIN_OBSERVE : NFTM_CHAIN_DROP;
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_GOTO);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, chain);
		/* an entry with a ttl stops matching at its expiry in the
		 * kernel, whether or not a watcher runs to remove it */
		if (x->timeout_ms)
			nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_TIMEOUT,
					       x->timeout_ms);
		if (nftm_comment_encode(e, comment, sizeof(comment)) < 0)
			comment[0] = '\0';
		ud = nftnl_udata_buf_alloc(NFTM_COMMENT_LEN + 8);
		if (!ud)
			log_panic("out of memory");
		nftnl_udata_put_strz(ud, NFT_UDATA_ELEM_COMMENT, comment);
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA,
				   nftnl_udata_buf_data(ud),
				   nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
		/* every element has its counter (started at the carried
		 * values). No `last` expression: nft 1.0.6 (Debian 12)
		 * crashes listing a set element that has one */
		c = nftm_expr("counter");
		nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_PACKETS,
				   x->carry ? x->packets : 0);
		nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_BYTES,
				   x->carry ? x->bytes : 0);
		nftnl_set_elem_add_expr(el, c);
	}
	return el;
}

void nftm_elems(struct nftm_buf *b, bool add, int family, int plen,
		const struct nftm_elem *el, size_t n)
{
	char name[32];
	size_t i = 0, j;

	while (i < n) {
		int shard = nftm_shard_of(&el[i].net);
		size_t cnt = 0;
		struct nftnl_set *s = nftnl_set_alloc();
		struct nlmsghdr *nlh;
		struct nftm_rec *r;

		if (!s)
			log_panic("out of memory");
		/* a message per run of elements of one shard, at most
		 * NFTM_ELEMS_PER_MSG: sorted input makes few messages */
		while (i + cnt < n && cnt < NFTM_ELEMS_PER_MSG &&
		       nftm_shard_of(&el[i + cnt].net) == shard)
			cnt++;
		nftm_map_name(name, sizeof(name), family, plen, shard);
		nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTM_TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, name);
		for (j = 0; j < cnt; j++)
			nftnl_set_elem_add(s, elem_build(&el[i + j]));
		nlh = nftm_hdr(b, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
			       (add ? NLM_F_CREATE : 0) | NLM_F_ACK,
			       add ? "add" : "delete", name);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftm_canon_elems(nlh);
		nftm_done(b, nlh);
		nftnl_set_free(s);
		r = &b->recs[b->nrecs - 1];
		r->elems = &el[i];
		r->nelems = cnt;
		i += cnt;
	}
}

void nftm_elem_get(struct nftm_buf *b, const char *set, const uint8_t *key,
		   size_t keylen, bool reset)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	struct nlmsghdr *nlh;

	if (!s || !el)
		log_panic("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTM_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, (uint32_t)keylen);
	nftnl_set_elem_add(s, el);
	/* a request: the answer (or an error) is the acknowledgement */
	nlh =
	    nftm_hdr(b, reset ? NFTM_MSG_GETSETELEM_RESET : NFT_MSG_GETSETELEM,
		     0, "get", set);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftm_done(b, nlh);
	nftnl_set_free(s);
}

struct expr_read {
	uint64_t packets, bytes;
	bool have_last;
	uint64_t last_ms;
};

static int expr_read_cb(struct nftnl_expr *e, void *data)
{
	struct expr_read *er = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!name)
		return 0;
	if (!strcmp(name, "counter")) {
		er->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		er->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	} else if (!strcmp(name, "last")) {
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LAST_SET) &&
		    nftnl_expr_get_u32(e, NFTNL_EXPR_LAST_SET)) {
			er->have_last = true;
			er->last_ms =
			    nftnl_expr_get_u64(e, NFTNL_EXPR_LAST_MSECS);
		}
	}
	return 0;
}

int nftm_elem_to_entry(struct nftnl_set_elem *el, int family, int plen,
		       int64_t now, struct mx_entry *e)
{
	struct expr_read er = {0};
	const void *key, *ud;
	uint32_t klen = 0, ulen = 0;
	char comment[NFTM_COMMENT_LEN];
	const char *chain;

	memset(e, 0, sizeof(*e));
	key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &klen);
	if (!key || klen != (family == AF_INET ? 4u : 16u))
		return -EINVAL;
	cidr_from_addr(&e->net, family, key);
	e->net.plen = (uint8_t)plen;
	if (cidr_mask(&e->net))
		return -EINVAL;
	chain = nftnl_set_elem_get_str(el, NFTNL_SET_ELEM_CHAIN);
	if (!chain)
		return -EINVAL;
	if (!strcmp(chain, NFTM_CHAIN_ALLOW)) {
		e->action = MX_ACT_ALLOW;
	} else if (!strcmp(chain, NFTM_CHAIN_DROP)) {
		e->action = MX_ACT_DROP;
	} else if (!strcmp(chain, NFTM_CHAIN_OBSERVE)) {
		e->action = MX_ACT_DROP;
	} else {
		return -EINVAL;
	}
	ud = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &ulen);
	if (nftm_udata_comment(ud, ulen, comment, sizeof(comment)))
		nftm_comment_decode(comment, e);
	else
		e->origin = MX_ORIGIN_DYNAMIC;
	/* the verdict is what the data path does: it wins over the comment */
	e->observe = !strcmp(chain, NFTM_CHAIN_OBSERVE);
	nftnl_set_elem_expr_foreach(el, expr_read_cb, &er);
	e->packets = er.packets;
	e->bytes = er.bytes;
	if (er.have_last)
		e->last_hit = now - (int64_t)(er.last_ms / 1000);
	return 0;
}
