// SPDX-License-Identifier: GPL-2.0
/*
 * nft_msg.c - build the nftables backend's netlink messages with libnftnl
 * into one buffer, and turn set elements read back into entries.
 *
 * Promises: no socket, no kernel; every message carries NLM_F_ACK (requests
 * excepted) and a record saying what it does; element metadata lives in
 * the element's userdata as an nft comment, so `nft list` shows it and a
 * second process reads it back.
 */
#include <arpa/inet.h>
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

/* nft's datatype numbers, so that `nft list` prints our sets readably */
#define NFT_TYPE_VERDICT 1
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_IP6ADDR 8
#define NFT_TYPE_INET_SERVICE 13
/* nft's element comment (NFTNL_UDATA_SET_ELEM_COMMENT in nftables) */
#define NFT_UDATA_ELEM_COMMENT 0
#define NFTM_COMMENT_LEN 200
/* room a single message may need, element lists included */
#define NFTM_MSG_MAX (80 * 1024)

const char *const nftm_counter_names[NFTM_CNT_MAX] = {
    [NFTM_CNT_SEEN] = "seen",	      [NFTM_CNT_SYN] = "syn",
    [NFTM_CNT_DROPPED] = "dropped",   [NFTM_CNT_ALLOWED] = "allowed",
    [NFTM_CNT_OBSERVED] = "observed",
};

void nftm_init(struct nftm_buf *b, uint32_t seq)
{
	memset(b, 0, sizeof(*b));
	b->seq = seq;
}

void nftm_free(struct nftm_buf *b)
{
	free(b->data);
	free(b->recs);
	memset(b, 0, sizeof(*b));
}

void nftm_reset(struct nftm_buf *b)
{
	b->len = 0;
	b->nrecs = 0;
}

const struct nftm_rec *nftm_rec_find(const struct nftm_buf *b, uint32_t seq)
{
	size_t lo = 0, hi = b->nrecs;

	/* records are appended in sequence order */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->recs[mid].seq == seq)
			return &b->recs[mid];
		if (b->recs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* room - make sure one more message of any size fits; returns its start */
static char *room(struct nftm_buf *b)
{
	if (b->cap - b->len < NFTM_MSG_MAX) {
		size_t cap = b->cap ? b->cap * 2 : 256 * 1024;

		while (cap - b->len < NFTM_MSG_MAX)
			cap *= 2;
		b->data = xreallocarray(b->data, cap, 1);
		b->cap = cap;
	}
	return b->data + b->len;
}

/* hdr - start a message; records it when what is not NULL */
static struct nlmsghdr *hdr(struct nftm_buf *b, uint16_t cmd, uint16_t flags,
			    const char *what, const char *obj)
{
	struct nlmsghdr *nlh;
	uint32_t seq = b->seq++;

	nlh = nftnl_nlmsg_build_hdr(room(b), cmd, NFTM_FAMILY, flags, seq);
	if (what) {
		struct nftm_rec *r;

		if (b->nrecs == b->caprecs) {
			b->caprecs = b->caprecs ? b->caprecs * 2 : 64;
			b->recs = xreallocarray(b->recs, b->caprecs,
						sizeof(*b->recs));
		}
		r = &b->recs[b->nrecs++];
		memset(r, 0, sizeof(*r));
		r->seq = seq;
		r->off = b->len;
		r->what = what;
		snprintf(r->obj, sizeof(r->obj), "%s", obj ? obj : "");
	}
	return nlh;
}

/* done - the message is complete: account for its length */
static void done(struct nftm_buf *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/*
 * canon_elems - libnftnl 1.2.4 numbers the elements of a list 1, 2, 3...;
 * the kernel ignores the number, but libnftnl's own parser (and the uapi)
 * wants NFTA_LIST_ELEM on each: write that, so our messages parse back
 */
static void canon_elems(struct nlmsghdr *nlh)
{
	struct nlattr *a, *el;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, a)
		{
			uint16_t flags = el->nla_type & ~NLA_TYPE_MASK;

			el->nla_type = flags | NFTA_LIST_ELEM;
		}
	}
}

void nftm_batch_begin(struct nftm_buf *b)
{
	done(b, nftnl_batch_begin(room(b), b->seq++));
}

void nftm_batch_end(struct nftm_buf *b)
{
	done(b, nftnl_batch_end(room(b), b->seq++));
}

/* ---- expressions ---- */

static struct nftnl_expr *expr(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		log_panic("libnftnl: no expression %s", name);
	return e;
}

static void add_payload(struct nftnl_rule *r, uint32_t base, uint32_t off,
			uint32_t len)
{
	struct nftnl_expr *e = expr("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_rule_add_expr(r, e);
}

static void add_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = expr("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
}

/* add_cmp_op - compare the register with data (big-endian data compares
 * as numbers: the kernel compares bytes) */
static void add_cmp_op(struct nftnl_rule *r, uint32_t op, const void *data,
		       uint32_t len)
{
	struct nftnl_expr *e = expr("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

static void add_cmp(struct nftnl_rule *r, const void *data, uint32_t len)
{
	add_cmp_op(r, NFT_CMP_EQ, data, len);
}

/* add_exthdr6 - a field of the first IPv6 extension header of a type */
static void add_exthdr6(struct nftnl_rule *r, uint8_t type, uint32_t off,
			uint32_t len)
{
	struct nftnl_expr *e = expr("exthdr");

	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_DREG, NFT_REG_1);
	nftnl_expr_set_u8(e, NFTNL_EXPR_EXTHDR_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OP, NFT_EXTHDR_OP_IPV6);
	nftnl_rule_add_expr(r, e);
}

static void add_bitwise(struct nftnl_rule *r, const uint8_t *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = expr("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	nftnl_rule_add_expr(r, e);
}

/* add_lookup - match against a set, or with vmap take the verdict */
static void add_lookup(struct nftnl_rule *r, const char *set, bool vmap)
{
	struct nftnl_expr *e = expr("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (vmap)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_rule_add_expr(r, e);
}

static void add_objref(struct nftnl_rule *r, const char *counter)
{
	struct nftnl_expr *e = expr("objref");

	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, counter);
	nftnl_rule_add_expr(r, e);
}

static void add_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = expr("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, e);
}

static void add_dynset_update(struct nftnl_rule *r, const char *set)
{
	struct nftnl_expr *e = expr("dynset");

	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
	nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT,
			   NFTM_RECENT_TIMEOUT_MS);
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_rule *rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		log_panic("out of memory");
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFTM_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFTM_FAMILY);
	return r;
}

/* rule_emit - append the rule as a message; frees it */
static void rule_emit(struct nftm_buf *b, struct nftnl_rule *r,
		      const char *chain)
{
	struct nlmsghdr *nlh;

	nlh = hdr(b, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK,
		  "add rule", chain);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	done(b, nlh);
	nftnl_rule_free(r);
}

static void chain_flush(struct nftm_buf *b, const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);
	struct nlmsghdr *nlh;

	/* DELRULE with a chain and no handle deletes every rule in it */
	nlh = hdr(b, NFT_MSG_DELRULE, NLM_F_ACK, "flush chain", chain);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	done(b, nlh);
	nftnl_rule_free(r);
}

/* ---- table, sets, chains ---- */

static void set_emit(struct nftm_buf *b, struct nftnl_set *s, const char *name)
{
	struct nlmsghdr *nlh;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTM_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFTM_FAMILY);
	/* the kernel wants an id for sets made in a batch */
	nftnl_set_set_u32(s, NFTNL_SET_ID, b->seq);
	nlh = hdr(b, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_ACK, "create set",
		  name);
	nftnl_set_nlmsg_build_payload(nlh, s);
	done(b, nlh);
	nftnl_set_free(s);
}

static struct nftnl_set *set_new(uint32_t keytype, uint32_t keylen,
				 uint32_t flags)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		log_panic("out of memory");
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, keytype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, keylen);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	return s;
}

/* chain_emit - a new chain (a base chain on dev); with dev "" an existing
 * chain of that name is fine */
static void chain_emit(struct nftm_buf *b, const char *name, const char *dev)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		log_panic("out of memory");
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFTM_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFTM_FAMILY);
	if (dev && *dev) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_NETDEV_INGRESS);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, NFTM_INGRESS_PRIO);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, dev);
	}
	nlh = hdr(b, NFT_MSG_NEWCHAIN,
		  NLM_F_CREATE | (dev && !*dev ? 0 : NLM_F_EXCL) | NLM_F_ACK,
		  dev && *dev ? "attach to interface" : "create chain", name);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	done(b, nlh);
	nftnl_chain_free(c);
}

/*
 * add_saddr - the source address into the register, after a check of the
 * protocol that the path to here already made: it costs a compare, and
 * it is what lets `nft list` print `ip saddr` instead of `@nh,96,32`
 */
static void add_saddr(struct nftnl_rule *r, int family)
{
	uint16_t proto = htons(family == AF_INET ? 0x0800 : 0x86dd);

	add_meta(r, NFT_META_PROTOCOL);
	add_cmp(r, &proto, sizeof(proto));
	add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, family == AF_INET ? 12 : 8,
		    family == AF_INET ? 4 : 16);
}

static void check_rule(struct nftm_buf *b, int family)
{
	struct nftnl_rule *r = rule_new(NFTM_CHAIN_CHECK);
	uint16_t proto = htons(family == AF_INET ? 0x0800 : 0x86dd);
	uint8_t tcp = 6, syn = 0x02, mask[1] = {0x12};

	/* meta protocol ip[6] meta l4proto tcp */
	add_meta(r, NFT_META_PROTOCOL);
	add_cmp(r, &proto, sizeof(proto));
	add_meta(r, NFT_META_L4PROTO);
	add_cmp(r, &tcp, 1);
	/* tcp dport @ports */
	add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	add_lookup(r, NFTM_SET_PORTS, false);
	/* tcp flags & (syn | ack) == syn, as spamlogd's tcp[13]&0x12=0x2 */
	add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
	add_bitwise(r, mask, 1);
	add_cmp(r, &syn, 1);
	add_objref(r, nftm_counter_names[NFTM_CNT_SYN]);
	add_verdict(r, NFT_GOTO, family == AF_INET ? "syn4" : "syn6");
	rule_emit(b, r, NFTM_CHAIN_CHECK);
}

/*
 * frag_rules - TCP fragments that cannot prove they are not an SMTP SYN
 * (RFC 1858) go to frag4/frag6, which look the source up like syn4/syn6
 * (no "syn" count, no @recent update): a later fragment (IPv4: of a TCP
 * datagram; IPv6: any, since reassembly takes the next header from the
 * first fragment), and a first fragment too short to be sure it holds the
 * whole TCP header. nft cannot add two header fields, so "too short" is
 * the longest header chain there can be: an IPv4 length under 120 (IHL
 * 60 + TCP 60), an IPv6 payload under 1240 (the minimum MTU less the
 * header; a real first fragment is never shorter). The first fragment
 * alone is harmless anyway: its later fragments are dropped.
 */
static void frag_rules(struct nftm_buf *b)
{
	static const uint16_t off4 = 0x1fff, first4 = 0x3fff, off6 = 0xfff8,
			      first6 = 0xfff9;
	uint16_t ip4 = htons(0x0800), ip6 = htons(0x86dd), zero = 0,
		 mf4 = htons(0x2000), m6 = htons(0x0001), len4 = htons(120),
		 len6 = htons(1240), m;
	uint8_t tcp = 6;
	struct nftnl_rule *r;
	int i;

	for (i = 0; i < 2; i++) {
		/* ip frag-off & 0x1fff != 0 / == 0x2000 with ip length < 120 */
		r = rule_new(NFTM_CHAIN_CHECK);
		add_meta(r, NFT_META_PROTOCOL);
		add_cmp(r, &ip4, sizeof(ip4));
		add_meta(r, NFT_META_L4PROTO);
		add_cmp(r, &tcp, 1);
		add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 6, 2);
		m = htons(i ? first4 : off4);
		add_bitwise(r, (const uint8_t *)&m, 2);
		if (i) {
			add_cmp(r, &mf4, 2);
			add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 2, 2);
			add_cmp_op(r, NFT_CMP_LT, &len4, 2);
		} else {
			add_cmp_op(r, NFT_CMP_NEQ, &zero, 2);
		}
		add_verdict(r, NFT_GOTO, "frag4");
		rule_emit(b, r, NFTM_CHAIN_CHECK);
	}
	for (i = 0; i < 2; i++) {
		/* exthdr frag frag-off & 0xfff8 != 0 / & 0xfff9 == 1 with
		 * ip6 payload length < 1240 */
		r = rule_new(NFTM_CHAIN_CHECK);
		add_meta(r, NFT_META_PROTOCOL);
		add_cmp(r, &ip6, sizeof(ip6));
		add_exthdr6(r, 44, 2, 2);
		m = htons(i ? first6 : off6);
		add_bitwise(r, (const uint8_t *)&m, 2);
		if (i) {
			add_cmp(r, &m6, 2);
			add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 4, 2);
			add_cmp_op(r, NFT_CMP_LT, &len6, 2);
		} else {
			add_cmp_op(r, NFT_CMP_NEQ, &zero, 2);
		}
		add_verdict(r, NFT_GOTO, "frag6");
		rule_emit(b, r, NFTM_CHAIN_CHECK);
	}
}

void nftm_check_chain(struct nftm_buf *b)
{
	chain_flush(b, NFTM_CHAIN_CHECK);
	check_rule(b, AF_INET);
	check_rule(b, AF_INET6);
	frag_rules(b);
}

static void act_rule(struct nftm_buf *b, const char *chain,
		     enum nftm_counter cnt, int verdict)
{
	struct nftnl_rule *r = rule_new(chain);

	add_objref(r, nftm_counter_names[cnt]);
	add_verdict(r, verdict, NULL);
	rule_emit(b, r, chain);
}

void nftm_drop_rule(struct nftm_buf *b, bool observe)
{
	struct nftnl_rule *r;

	chain_flush(b, NFTM_CHAIN_DROP);
	if (!observe) {
		act_rule(b, NFTM_CHAIN_DROP, NFTM_CNT_DROPPED, NF_DROP);
		return;
	}
	/* global observe mode: what would be dropped is counted and passed */
	r = rule_new(NFTM_CHAIN_DROP);
	add_verdict(r, NFT_GOTO, NFTM_CHAIN_OBSERVE);
	rule_emit(b, r, NFTM_CHAIN_DROP);
}

void nftm_ports(struct nftm_buf *b, const uint16_t *ports, size_t n)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	size_t i;

	if (!s)
		log_panic("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTM_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, NFTM_SET_PORTS);
	/* DELSETELEM without elements flushes the set */
	nlh =
	    hdr(b, NFT_MSG_DELSETELEM, NLM_F_ACK, "flush set", NFTM_SET_PORTS);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	done(b, nlh);
	for (i = 0; i < n; i++) {
		struct nftnl_set_elem *el = nftnl_set_elem_alloc();
		uint16_t p = htons(ports[i]);

		if (!el)
			log_panic("out of memory");
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, &p, sizeof(p));
		nftnl_set_elem_add(s, el); /* the set owns el */
	}
	if (n) {
		nlh = hdr(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK,
			  "set ports", NFTM_SET_PORTS);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		canon_elems(nlh);
		done(b, nlh);
	}
	nftnl_set_free(s);
}

void nftm_table_create(struct nftm_buf *b, const struct mx_dp_config *cfg)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	struct nftnl_set *s;
	int i;

	if (!t)
		log_panic("out of memory");
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFTM_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFTM_FAMILY);
	nlh = hdr(b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
		  "create table", NFTM_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	done(b, nlh);
	nftnl_table_free(t);

	for (i = 0; i < NFTM_CNT_MAX; i++) {
		struct nftnl_obj *o = nftnl_obj_alloc();

		if (!o)
			log_panic("out of memory");
		nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NFTM_TABLE);
		nftnl_obj_set_str(o, NFTNL_OBJ_NAME, nftm_counter_names[i]);
		nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
		nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFTM_FAMILY);
		nlh = hdr(b, NFT_MSG_NEWOBJ,
			  NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
			  "create counter", nftm_counter_names[i]);
		nftnl_obj_nlmsg_build_payload(nlh, o);
		done(b, nlh);
		nftnl_obj_free(o);
	}

	set_emit(b, set_new(NFT_TYPE_INET_SERVICE, 2, 0), NFTM_SET_PORTS);
	for (i = 0; i < 2; i++) {
		s = set_new(i ? NFT_TYPE_IP6ADDR : NFT_TYPE_IPADDR, i ? 16 : 4,
			    NFT_SET_TIMEOUT | NFT_SET_EVAL);
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, NFTM_RECENT_TIMEOUT_MS);
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, NFTM_RECENT_SIZE);
		set_emit(b, s, i ? "recent6" : "recent4");
	}
	nftm_ports(b, cfg->ports, cfg->nports);

	chain_emit(b, NFTM_CHAIN_OBSERVE, NULL);
	chain_emit(b, NFTM_CHAIN_ALLOW, NULL);
	chain_emit(b, NFTM_CHAIN_DROP, NULL);
	chain_emit(b, "syn4", NULL);
	chain_emit(b, "syn6", NULL);
	chain_emit(b, "frag4", NULL);
	chain_emit(b, "frag6", NULL);
	chain_emit(b, NFTM_CHAIN_CHECK, NULL);
	act_rule(b, NFTM_CHAIN_OBSERVE, NFTM_CNT_OBSERVED, NF_ACCEPT);
	act_rule(b, NFTM_CHAIN_ALLOW, NFTM_CNT_ALLOWED, NF_ACCEPT);
	nftm_drop_rule(b, cfg->observe);
	nftm_syn_chain_rebuild(b, AF_INET, NULL, 0);
	nftm_syn_chain_rebuild(b, AF_INET6, NULL, 0);
	nftm_frag_chain_rebuild(b, AF_INET, NULL, 0);
	nftm_frag_chain_rebuild(b, AF_INET6, NULL, 0);
	nftm_check_chain(b);
}

void nftm_frag_chains_upgrade(struct nftm_buf *b, const uint8_t *plens4,
			      size_t n4, const uint8_t *plens6, size_t n6)
{
	chain_emit(b, "frag4", "");
	chain_emit(b, "frag6", "");
	nftm_frag_chain_rebuild(b, AF_INET, plens4, n4);
	nftm_frag_chain_rebuild(b, AF_INET6, plens6, n6);
	nftm_check_chain(b);
}

void nftm_table_destroy(struct nftm_buf *b)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		log_panic("out of memory");
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFTM_TABLE);
	nlh = hdr(b, NFT_MSG_DELTABLE, NLM_F_ACK, "delete table", NFTM_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	done(b, nlh);
	nftnl_table_free(t);
}

int nftm_shards(int plen)
{
	return plen >= NFTM_SHARD_MIN_PLEN ? NFTM_SHARDS : 1;
}

/* bit q of an address, counted from the most significant bit */
static int addr_bit(const uint8_t *addr, int q)
{
	return (addr[q / 8] >> (7 - q % 8)) & 1;
}

int nftm_shard_of(const struct cidr *c)
{
	int q, s = 0;

	if (nftm_shards(c->plen) == 1)
		return 0;
	/* the lowest NFTM_SHARD_BITS bits of the prefix */
	for (q = c->plen - NFTM_SHARD_BITS; q < c->plen; q++)
		s = s << 1 | addr_bit(c->addr, q);
	return s;
}

void nftm_map_name(char *buf, size_t len, int family, int plen, int shard)
{
	if (nftm_shards(plen) == 1)
		snprintf(buf, len, "d%c_%d", family == AF_INET ? '4' : '6',
			 plen);
	else
		snprintf(buf, len, "d%c_%d_%02d", family == AF_INET ? '4' : '6',
			 plen, shard);
}

int nftm_map_parse(const char *name, int *family, int *plen, int *shard)
{
	char *end;
	long v, sh = 0;

	if (name[0] != 'd' || (name[1] != '4' && name[1] != '6') ||
	    name[2] != '_' || name[3] < '1' || name[3] > '9')
		return -EINVAL;
	v = strtol(name + 3, &end, 10);
	if (v < 1 || v > (name[1] == '4' ? 32 : 128))
		return -EINVAL;
	if (nftm_shards((int)v) > 1) {
		/* two digits, 00 to NFTM_SHARDS - 1 */
		if (end[0] != '_' || end[1] < '0' || end[1] > '9' ||
		    end[2] < '0' || end[2] > '9' || end[3])
			return -EINVAL;
		sh = (end[1] - '0') * 10 + (end[2] - '0');
		if (sh >= NFTM_SHARDS)
			return -EINVAL;
	} else if (*end) {
		return -EINVAL;
	}
	*family = name[1] == '4' ? AF_INET : AF_INET6;
	*plen = (int)v;
	if (shard)
		*shard = (int)sh;
	return 0;
}

static void mask_of(int family, int plen, uint8_t *mask)
{
	int i, len = family == AF_INET ? 4 : 16;

	for (i = 0; i < len; i++) {
		int bits = plen - i * 8;

		mask[i] = bits >= 8   ? 0xff
			  : bits <= 0 ? 0
				      : (uint8_t)(0xff << (8 - bits));
	}
}

/* shard_bits - the address bits that pick the shard of a prefix length;
 * with s >= 0, the key of shard s (those bits set as in s) */
static void shard_bits(int family, int plen, int s, uint8_t *out)
{
	int q, len = family == AF_INET ? 4 : 16;

	memset(out, 0, (size_t)len);
	for (q = plen - NFTM_SHARD_BITS; q < plen; q++)
		if (s < 0 || (s >> (plen - 1 - q)) & 1)
			out[q / 8] |= (uint8_t)(0x80 >> (q % 8));
}

static void dispatch_name(char *buf, size_t len, int family, int plen)
{
	snprintf(buf, len, "x%c_%d", family == AF_INET ? '4' : '6', plen);
}

static void shard_chain_name(char *buf, size_t len, int family, int plen, int s)
{
	snprintf(buf, len, "c%c_%d_%02d", family == AF_INET ? '4' : '6', plen,
		 s);
}

/* lookup_rule - saddr, masked to plen, looked up in a verdict map */
static struct nftnl_rule *lookup_rule(const char *chain, int family,
				      const uint8_t *mask, const char *map)
{
	uint32_t alen = family == AF_INET ? 4 : 16;
	struct nftnl_rule *r = rule_new(chain);

	add_saddr(r, family);
	if (mask)
		add_bitwise(r, mask, alen);
	add_lookup(r, map, true);
	return r;
}

void nftm_map_add(struct nftm_buf *b, int family, int plen)
{
	int s, n = nftm_shards(plen), max = family == AF_INET ? 32 : 128;
	uint32_t alen = family == AF_INET ? 4 : 16;
	uint8_t mask[16];
	char name[32], chain[32], disp[32];

	mask_of(family, plen, mask);
	for (s = 0; s < n; s++) {
		struct nftnl_set *set;

		set = set_new(family == AF_INET ? NFT_TYPE_IPADDR
						: NFT_TYPE_IP6ADDR,
			      alen, NFT_SET_MAP | NFT_SET_TIMEOUT);
		nftnl_set_set_u32(set, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftm_map_name(name, sizeof(name), family, plen, s);
		set_emit(b, set, name);
	}
	if (n == 1)
		return;
	/* sharded: a chain per shard that looks in its map; a miss returns
	 * to syn4/syn6 (the dispatch jumps), which goes on with the next
	 * shorter length */
	for (s = 0; s < n; s++) {
		nftm_map_name(name, sizeof(name), family, plen, s);
		shard_chain_name(chain, sizeof(chain), family, plen, s);
		chain_emit(b, chain, NULL);
		rule_emit(
		    b,
		    lookup_rule(chain, family, plen == max ? NULL : mask, name),
		    chain);
	}
	{
		struct nftnl_set *set;
		struct nlmsghdr *nlh;

		set = set_new(family == AF_INET ? NFT_TYPE_IPADDR
						: NFT_TYPE_IP6ADDR,
			      alen, NFT_SET_MAP | NFT_SET_TIMEOUT);
		nftnl_set_set_u32(set, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		dispatch_name(disp, sizeof(disp), family, plen);
		set_emit(b, set, disp);
		set = nftnl_set_alloc();
		if (!set)
			log_panic("out of memory");
		nftnl_set_set_str(set, NFTNL_SET_TABLE, NFTM_TABLE);
		nftnl_set_set_str(set, NFTNL_SET_NAME, disp);
		for (s = 0; s < n; s++) {
			struct nftnl_set_elem *el = nftnl_set_elem_alloc();
			uint8_t key[16];

			if (!el)
				log_panic("out of memory");
			shard_bits(family, plen, s, key);
			shard_chain_name(chain, sizeof(chain), family, plen, s);
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, alen);
			nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT,
					       NFT_JUMP);
			nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, chain);
			nftnl_set_elem_add(set, el);
		}
		nlh = hdr(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK,
			  "fill", disp);
		nftnl_set_elems_nlmsg_build_payload(nlh, set);
		canon_elems(nlh);
		done(b, nlh);
		nftnl_set_free(set);
	}
}

/* lookups_emit - a vmap lookup per prefix length present, longest first:
 * the first map that has the source decides */
static void lookups_emit(struct nftm_buf *b, const char *chain, int family,
			 const uint8_t *plens, size_t n)
{
	int max = family == AF_INET ? 32 : 128;
	struct nftnl_rule *r;
	bool present[129] = {false};
	size_t i;
	int p;

	for (i = 0; i < n; i++)
		if (plens[i] >= 1 && plens[i] <= max)
			present[plens[i]] = true;
	for (p = max; p >= 1; p--) {
		uint8_t mask[16];
		char name[32];

		if (!present[p])
			continue;
		if (nftm_shards(p) > 1) {
			/* the shard's bits pick the chain to jump to */
			shard_bits(family, p, -1, mask);
			dispatch_name(name, sizeof(name), family, p);
			r = lookup_rule(chain, family, mask, name);
		} else {
			mask_of(family, p, mask);
			nftm_map_name(name, sizeof(name), family, p, 0);
			r = lookup_rule(chain, family, p == max ? NULL : mask,
					name);
		}
		rule_emit(b, r, chain);
	}
}

void nftm_syn_chain_rebuild(struct nftm_buf *b, int family,
			    const uint8_t *plens, size_t n)
{
	const char *chain = family == AF_INET ? "syn4" : "syn6";
	struct nftnl_rule *r;

	chain_flush(b, chain);
	/* update @recentN { saddr }: its own rule, because a full set makes
	 * the update break the rule it is in */
	r = rule_new(chain);
	add_saddr(r, family);
	add_dynset_update(r, family == AF_INET ? "recent4" : "recent6");
	rule_emit(b, r, chain);
	lookups_emit(b, chain, family, plens, n);
}

void nftm_frag_chain_rebuild(struct nftm_buf *b, int family,
			     const uint8_t *plens, size_t n)
{
	const char *chain = family == AF_INET ? "frag4" : "frag6";

	chain_flush(b, chain);
	lookups_emit(b, chain, family, plens, n);
}

void nftm_base_chain_add(struct nftm_buf *b, const char *ifname)
{
	struct nftnl_rule *r;
	char name[64];

	snprintf(name, sizeof(name), NFTM_BASE_PREFIX "%s", ifname);
	chain_emit(b, name, ifname);
	r = rule_new(name);
	add_objref(r, nftm_counter_names[NFTM_CNT_SEEN]);
	add_verdict(r, NFT_JUMP, NFTM_CHAIN_CHECK);
	rule_emit(b, r, name);
}

void nftm_base_chain_del(struct nftm_buf *b, const char *ifname)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	char name[64];

	if (!c)
		log_panic("out of memory");
	snprintf(name, sizeof(name), NFTM_BASE_PREFIX "%s", ifname);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFTM_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nlh =
	    hdr(b, NFT_MSG_DELCHAIN, NLM_F_ACK, "detach from interface", name);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	done(b, nlh);
	nftnl_chain_free(c);
}

/* ---- elements ---- */

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
		c = expr("counter");
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
		nlh = hdr(b, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
			  (add ? NLM_F_CREATE : 0) | NLM_F_ACK,
			  add ? "add" : "delete", name);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		canon_elems(nlh);
		done(b, nlh);
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
	nlh = hdr(b, reset ? NFTM_MSG_GETSETELEM_RESET : NFT_MSG_GETSETELEM, 0,
		  "get", set);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	done(b, nlh);
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
