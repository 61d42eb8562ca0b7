// SPDX-License-Identifier: GPL-2.0
/*
 * nft_msg.c - build the nftables backend's netlink messages with libnftnl
 * into one buffer: the buffer and its records, batch begin and end, the
 * expressions rules are made of, and the table's skeleton (counters, the
 * port set, the check and action chains, the fragment rules, the base
 * chain of an interface). The maps of a prefix length and the lookup
 * chains are nft_map.c; elements are nft_elem.c.
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

#include "backend/nft_msg.h"
#include "backend/nft_msg_int.h"

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
struct nlmsghdr *nftm_hdr(struct nftm_buf *b, uint16_t cmd, uint16_t flags,
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
void nftm_done(struct nftm_buf *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/*
 * canon_elems - libnftnl 1.2.4 numbers the elements of a list 1, 2, 3...;
 * the kernel ignores the number, but libnftnl's own parser (and the uapi)
 * wants NFTA_LIST_ELEM on each: write that, so our messages parse back
 */
void nftm_canon_elems(struct nlmsghdr *nlh)
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
	nftm_done(b, nftnl_batch_begin(room(b), b->seq++));
}

void nftm_batch_end(struct nftm_buf *b)
{
	nftm_done(b, nftnl_batch_end(room(b), b->seq++));
}

/* ---- expressions ---- */

struct nftnl_expr *nftm_expr(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		log_panic("libnftnl: no expression %s", name);
	return e;
}

static void add_payload(struct nftnl_rule *r, uint32_t base, uint32_t off,
			uint32_t len)
{
	struct nftnl_expr *e = nftm_expr("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_rule_add_expr(r, e);
}

static void add_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftm_expr("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
}

/* add_cmp_op - compare the register with data (big-endian data compares
 * as numbers: the kernel compares bytes) */
static void add_cmp_op(struct nftnl_rule *r, uint32_t op, const void *data,
		       uint32_t len)
{
	struct nftnl_expr *e = nftm_expr("cmp");

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
	struct nftnl_expr *e = nftm_expr("exthdr");

	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_DREG, NFT_REG_1);
	nftnl_expr_set_u8(e, NFTNL_EXPR_EXTHDR_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OP, NFT_EXTHDR_OP_IPV6);
	nftnl_rule_add_expr(r, e);
}

void nftm_add_bitwise(struct nftnl_rule *r, const uint8_t *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = nftm_expr("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	nftnl_rule_add_expr(r, e);
}

/* add_lookup - match against a set, or with vmap take the verdict */
void nftm_add_lookup(struct nftnl_rule *r, const char *set, bool vmap)
{
	struct nftnl_expr *e = nftm_expr("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (vmap)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_rule_add_expr(r, e);
}

static void add_objref(struct nftnl_rule *r, const char *counter)
{
	struct nftnl_expr *e = nftm_expr("objref");

	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, counter);
	nftnl_rule_add_expr(r, e);
}

static void add_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftm_expr("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, e);
}

struct nftnl_rule *nftm_rule_new(const char *chain)
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
void nftm_rule_emit(struct nftm_buf *b, struct nftnl_rule *r, const char *chain)
{
	struct nlmsghdr *nlh;

	nlh = nftm_hdr(b, NFT_MSG_NEWRULE,
		       NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, "add rule",
		       chain);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftm_done(b, nlh);
	nftnl_rule_free(r);
}

void nftm_chain_flush(struct nftm_buf *b, const char *chain)
{
	struct nftnl_rule *r = nftm_rule_new(chain);
	struct nlmsghdr *nlh;

	/* DELRULE with a chain and no handle deletes every rule in it */
	nlh = nftm_hdr(b, NFT_MSG_DELRULE, NLM_F_ACK, "flush chain", chain);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftm_done(b, nlh);
	nftnl_rule_free(r);
}

/* ---- table, sets, chains ---- */

void nftm_set_emit(struct nftm_buf *b, struct nftnl_set *s, const char *name)
{
	struct nlmsghdr *nlh;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTM_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFTM_FAMILY);
	/* the kernel wants an id for sets made in a batch */
	nftnl_set_set_u32(s, NFTNL_SET_ID, b->seq);
	nlh = nftm_hdr(b, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_ACK,
		       "create set", name);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftm_done(b, nlh);
	nftnl_set_free(s);
}

struct nftnl_set *nftm_set_new(uint32_t keytype, uint32_t keylen,
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
void nftm_chain_emit(struct nftm_buf *b, const char *name, const char *dev)
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
	nlh = nftm_hdr(
	    b, NFT_MSG_NEWCHAIN,
	    NLM_F_CREATE | (dev && !*dev ? 0 : NLM_F_EXCL) | NLM_F_ACK,
	    dev && *dev ? "attach to interface" : "create chain", name);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftm_done(b, nlh);
	nftnl_chain_free(c);
}

/*
 * add_saddr - the source address into the register, after a check of the
 * protocol that the path to here already made: it costs a compare, and
 * it is what lets `nft list` print `ip saddr` instead of `@nh,96,32`
 */
void nftm_add_saddr(struct nftnl_rule *r, int family)
{
	uint16_t proto = htons(family == AF_INET ? 0x0800 : 0x86dd);

	add_meta(r, NFT_META_PROTOCOL);
	add_cmp(r, &proto, sizeof(proto));
	add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, family == AF_INET ? 12 : 8,
		    family == AF_INET ? 4 : 16);
}

static void check_rule(struct nftm_buf *b, int family)
{
	struct nftnl_rule *r = nftm_rule_new(NFTM_CHAIN_CHECK);
	uint16_t proto = htons(family == AF_INET ? 0x0800 : 0x86dd);
	uint8_t tcp = 6, syn = 0x02, mask[1] = {0x12};

	/* meta protocol ip[6] meta l4proto tcp */
	add_meta(r, NFT_META_PROTOCOL);
	add_cmp(r, &proto, sizeof(proto));
	add_meta(r, NFT_META_L4PROTO);
	add_cmp(r, &tcp, 1);
	/* tcp dport @ports */
	add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	nftm_add_lookup(r, NFTM_SET_PORTS, false);
	/* tcp flags & (syn | ack) == syn, as spamlogd's tcp[13]&0x12=0x2 */
	add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
	nftm_add_bitwise(r, mask, 1);
	add_cmp(r, &syn, 1);
	add_objref(r, nftm_counter_names[NFTM_CNT_SYN]);
	add_verdict(r, NFT_GOTO, family == AF_INET ? "syn4" : "syn6");
	nftm_rule_emit(b, r, NFTM_CHAIN_CHECK);
}

/*
 * frag_rules - TCP fragments that cannot prove they are not an SMTP SYN
 * (RFC 1858) go to frag4/frag6, which look the source up like syn4/syn6
 * (no "syn" count): a later fragment (IPv4: of a TCP
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
		r = nftm_rule_new(NFTM_CHAIN_CHECK);
		add_meta(r, NFT_META_PROTOCOL);
		add_cmp(r, &ip4, sizeof(ip4));
		add_meta(r, NFT_META_L4PROTO);
		add_cmp(r, &tcp, 1);
		add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 6, 2);
		m = htons(i ? first4 : off4);
		nftm_add_bitwise(r, (const uint8_t *)&m, 2);
		if (i) {
			add_cmp(r, &mf4, 2);
			add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 2, 2);
			add_cmp_op(r, NFT_CMP_LT, &len4, 2);
		} else {
			add_cmp_op(r, NFT_CMP_NEQ, &zero, 2);
		}
		add_verdict(r, NFT_GOTO, "frag4");
		nftm_rule_emit(b, r, NFTM_CHAIN_CHECK);
	}
	for (i = 0; i < 2; i++) {
		/* exthdr frag frag-off & 0xfff8 != 0 / & 0xfff9 == 1 with
		 * ip6 payload length < 1240 */
		r = nftm_rule_new(NFTM_CHAIN_CHECK);
		add_meta(r, NFT_META_PROTOCOL);
		add_cmp(r, &ip6, sizeof(ip6));
		add_exthdr6(r, 44, 2, 2);
		m = htons(i ? first6 : off6);
		nftm_add_bitwise(r, (const uint8_t *)&m, 2);
		if (i) {
			add_cmp(r, &m6, 2);
			add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 4, 2);
			add_cmp_op(r, NFT_CMP_LT, &len6, 2);
		} else {
			add_cmp_op(r, NFT_CMP_NEQ, &zero, 2);
		}
		add_verdict(r, NFT_GOTO, "frag6");
		nftm_rule_emit(b, r, NFTM_CHAIN_CHECK);
	}
}

void nftm_check_chain(struct nftm_buf *b)
{
	nftm_chain_flush(b, NFTM_CHAIN_CHECK);
	check_rule(b, AF_INET);
	check_rule(b, AF_INET6);
	frag_rules(b);
}

static void act_rule(struct nftm_buf *b, const char *chain,
		     enum nftm_counter cnt, int verdict)
{
	struct nftnl_rule *r = nftm_rule_new(chain);

	add_objref(r, nftm_counter_names[cnt]);
	add_verdict(r, verdict, NULL);
	nftm_rule_emit(b, r, chain);
}

void nftm_drop_rule(struct nftm_buf *b, bool observe)
{
	struct nftnl_rule *r;

	nftm_chain_flush(b, NFTM_CHAIN_DROP);
	if (!observe) {
		act_rule(b, NFTM_CHAIN_DROP, NFTM_CNT_DROPPED, NF_DROP);
		return;
	}
	/* global observe mode: what would be dropped is counted and passed */
	r = nftm_rule_new(NFTM_CHAIN_DROP);
	add_verdict(r, NFT_GOTO, NFTM_CHAIN_OBSERVE);
	nftm_rule_emit(b, r, NFTM_CHAIN_DROP);
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
	nlh = nftm_hdr(b, NFT_MSG_DELSETELEM, NLM_F_ACK, "flush set",
		       NFTM_SET_PORTS);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftm_done(b, nlh);
	for (i = 0; i < n; i++) {
		struct nftnl_set_elem *el = nftnl_set_elem_alloc();
		uint16_t p = htons(ports[i]);

		if (!el)
			log_panic("out of memory");
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, &p, sizeof(p));
		nftnl_set_elem_add(s, el); /* the set owns el */
	}
	if (n) {
		nlh = nftm_hdr(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK,
			       "set ports", NFTM_SET_PORTS);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftm_canon_elems(nlh);
		nftm_done(b, nlh);
	}
	nftnl_set_free(s);
}

void nftm_table_create(struct nftm_buf *b, const struct mx_dp_config *cfg)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	int i;

	if (!t)
		log_panic("out of memory");
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFTM_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFTM_FAMILY);
	nlh =
	    nftm_hdr(b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
		     "create table", NFTM_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftm_done(b, nlh);
	nftnl_table_free(t);

	for (i = 0; i < NFTM_CNT_MAX; i++) {
		struct nftnl_obj *o = nftnl_obj_alloc();

		if (!o)
			log_panic("out of memory");
		nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NFTM_TABLE);
		nftnl_obj_set_str(o, NFTNL_OBJ_NAME, nftm_counter_names[i]);
		nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
		nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFTM_FAMILY);
		nlh = nftm_hdr(b, NFT_MSG_NEWOBJ,
			       NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
			       "create counter", nftm_counter_names[i]);
		nftnl_obj_nlmsg_build_payload(nlh, o);
		nftm_done(b, nlh);
		nftnl_obj_free(o);
	}

	nftm_set_emit(b, nftm_set_new(NFT_TYPE_INET_SERVICE, 2, 0),
		      NFTM_SET_PORTS);
	nftm_ports(b, cfg->ports, cfg->nports);

	nftm_chain_emit(b, NFTM_CHAIN_OBSERVE, NULL);
	nftm_chain_emit(b, NFTM_CHAIN_ALLOW, NULL);
	nftm_chain_emit(b, NFTM_CHAIN_DROP, NULL);
	nftm_chain_emit(b, "syn4", NULL);
	nftm_chain_emit(b, "syn6", NULL);
	nftm_chain_emit(b, "frag4", NULL);
	nftm_chain_emit(b, "frag6", NULL);
	nftm_chain_emit(b, NFTM_CHAIN_CHECK, NULL);
	act_rule(b, NFTM_CHAIN_OBSERVE, NFTM_CNT_OBSERVED, NF_ACCEPT);
	act_rule(b, NFTM_CHAIN_ALLOW, NFTM_CNT_ALLOWED, NF_ACCEPT);
	nftm_drop_rule(b, cfg->observe);
	nftm_syn_chain_rebuild(b, AF_INET, NULL, 0);
	nftm_syn_chain_rebuild(b, AF_INET6, NULL, 0);
	nftm_frag_chain_rebuild(b, AF_INET, NULL, 0);
	nftm_frag_chain_rebuild(b, AF_INET6, NULL, 0);
	nftm_check_chain(b);
}

/* set_del - a DELSET message for a set of the table */
static void set_del(struct nftm_buf *b, const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		log_panic("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTM_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nlh = nftm_hdr(b, NFT_MSG_DELSET, NLM_F_ACK, "delete set", name);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftm_done(b, nlh);
	nftnl_set_free(s);
}

void nftm_chains_upgrade(struct nftm_buf *b, const uint8_t *plens4, size_t n4,
			 const uint8_t *plens6, size_t n6,
			 unsigned int old_sets)
{
	nftm_chain_emit(b, "frag4", "");
	nftm_chain_emit(b, "frag6", "");
	nftm_frag_chain_rebuild(b, AF_INET, plens4, n4);
	nftm_frag_chain_rebuild(b, AF_INET6, plens6, n6);
	nftm_syn_chain_rebuild(b, AF_INET, plens4, n4);
	nftm_syn_chain_rebuild(b, AF_INET6, plens6, n6);
	nftm_check_chain(b);
	/* after the flush of syn4/syn6: no rule refers to them any more */
	if (old_sets & NFTM_OLD_RECENT4)
		set_del(b, NFTM_OLD_RECENT4_NAME);
	if (old_sets & NFTM_OLD_RECENT6)
		set_del(b, NFTM_OLD_RECENT6_NAME);
}

void nftm_table_destroy(struct nftm_buf *b)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		log_panic("out of memory");
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFTM_TABLE);
	nlh = nftm_hdr(b, NFT_MSG_DELTABLE, NLM_F_ACK, "delete table",
		       NFTM_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftm_done(b, nlh);
	nftnl_table_free(t);
}

void nftm_base_chain_add(struct nftm_buf *b, const char *ifname)
{
	struct nftnl_rule *r;
	char name[64];

	snprintf(name, sizeof(name), NFTM_BASE_PREFIX "%s", ifname);
	nftm_chain_emit(b, name, ifname);
	r = nftm_rule_new(name);
	add_objref(r, nftm_counter_names[NFTM_CNT_SEEN]);
	add_verdict(r, NFT_JUMP, NFTM_CHAIN_CHECK);
	nftm_rule_emit(b, r, name);
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
	nlh = nftm_hdr(b, NFT_MSG_DELCHAIN, NLM_F_ACK, "detach from interface",
		       name);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftm_done(b, nlh);
	nftnl_chain_free(c);
}
