// SPDX-License-Identifier: GPL-2.0
/*
 * test_nft_msg.c - the nftables backend's netlink messages, without a
 * kernel: build them with nft_msg.c, parse them back with libnftnl and
 * compare, as libnftnl's own tests do (tests/nft-set-test.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "backend/nft_msg.h"
#include "test.h"

static struct cidr net_of(const char *s)
{
	struct cidr c;
	char err[128];

	memset(&c, 0, sizeof(c));
	if (cidr_parse(s, 0, &c, err, sizeof(err)) < 0)
		printf("bad test cidr %s: %s\n", s, err);
	return c;
}

/* msg_at - the i-th message of the buffer (batch begin/end included) */
static const struct nlmsghdr *msg_at(const struct nftm_buf *b, size_t i)
{
	const struct nlmsghdr *nlh = (const void *)b->data;
	int len = (int)b->len;

	while (mnl_nlmsg_ok(nlh, len)) {
		if (!i--)
			return nlh;
		nlh = mnl_nlmsg_next(nlh, &len);
	}
	return NULL;
}

static size_t msg_count(const struct nftm_buf *b)
{
	const struct nlmsghdr *nlh = (const void *)b->data;
	int len = (int)b->len;
	size_t n = 0;

	while (mnl_nlmsg_ok(nlh, len)) {
		n++;
		nlh = mnl_nlmsg_next(nlh, &len);
	}
	return n;
}

static uint16_t msg_cmd(const struct nlmsghdr *nlh)
{
	return NFNL_MSG_TYPE(nlh->nlmsg_type);
}

/* parse_elems - every element of an element message as entries */
static size_t parse_elems(const struct nlmsghdr *nlh, int family, int plen,
			  struct mx_entry *out, size_t max, char *set,
			  size_t setlen)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;
	size_t n = 0;

	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return 0;
	}
	if (set)
		snprintf(set, setlen, "%s",
			 nftnl_set_get_str(s, NFTNL_SET_NAME));
	it = nftnl_set_elems_iter_create(s);
	while ((el = nftnl_set_elems_iter_next(it)) && n < max) {
		if (!nftm_elem_to_entry(el, family, plen, 1000, &out[n]))
			n++;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return n;
}

static void test_elements_round_trip(void)
{
	struct mx_entry in[3], out[4];
	struct nftm_elem el[3];
	struct nftm_buf b;
	const struct nlmsghdr *nlh;
	char set[32] = "";
	size_t i, n;

	memset(in, 0, sizeof(in));
	memset(el, 0, sizeof(el));
	in[0].net = net_of("198.51.100.0/24");
	in[0].action = MX_ACT_DROP;
	in[0].origin = MX_ORIGIN_STATIC;
	snprintf(in[0].tags, sizeof(in[0].tags), "static,zen.spamhaus.org");
	in[0].added = 1763900000;
	in[1].net = net_of("203.0.113.0/24");
	in[1].action = MX_ACT_ALLOW;
	in[1].origin = MX_ORIGIN_DYNAMIC;
	in[1].added = 5;
	in[1].expires = 99;
	in[2].net = net_of("192.0.2.0/24");
	in[2].action = MX_ACT_DROP;
	in[2].origin = MX_ORIGIN_DYNAMIC;
	in[2].observe = true;
	snprintf(in[2].tags, sizeof(in[2].tags), "a,bad-helo");
	for (i = 0; i < 3; i++) {
		el[i].net = in[i].net;
		el[i].e = &in[i];
	}
	el[1].carry = true;
	el[1].packets = 7768;
	el[1].bytes = 356000;

	nftm_init(&b, 100);
	nftm_elems(&b, true, AF_INET, 24, el, 3);
	/* three shards: 100 & 63 = 36, 113 & 63 = 49, 2 */
	ASSERT_EQ(msg_count(&b), 3, "one message per shard");
	ASSERT_EQ(b.nrecs, 3, "one record each");
	nlh = msg_at(&b, 0);
	ASSERT_EQ(msg_cmd(nlh), NFT_MSG_NEWSETELEM, "NEWSETELEM");
	ASSERT_TRUE(nlh->nlmsg_flags & NLM_F_ACK, "asks for an ack");
	ASSERT_EQ(nlh->nlmsg_seq, 100, "first sequence number");
	n = parse_elems(nlh, AF_INET, 24, out, 4, set, sizeof(set));
	ASSERT_STR(set, "d4_24_36", "map of /24, shard 36");
	n += parse_elems(msg_at(&b, 1), AF_INET, 24, out + n, 4 - n, set,
			 sizeof(set));
	ASSERT_STR(set, "d4_24_49", "shard 49");
	n += parse_elems(msg_at(&b, 2), AF_INET, 24, out + n, 4 - n, set,
			 sizeof(set));
	ASSERT_STR(set, "d4_24_02", "shard 2");
	ASSERT_EQ(n, 3, "three elements parse back");
	for (i = 0; i < n && i < 3; i++) {
		ASSERT_EQ(cidr_cmp(&out[i].net, &in[i].net), 0, "network");
		ASSERT_EQ(out[i].action, in[i].action, "action");
		ASSERT_EQ(out[i].observe, in[i].observe, "observe");
		ASSERT_EQ(out[i].origin, in[i].origin, "origin");
		ASSERT_STR(out[i].tags, in[i].tags, "tags");
		ASSERT_EQ(out[i].added, in[i].added, "added");
		ASSERT_EQ(out[i].expires, in[i].expires, "expires");
	}
	ASSERT_U64(out[0].packets, 0, "a new element starts at 0 packets");
	ASSERT_U64(out[1].packets, 7768, "carried packets");
	ASSERT_U64(out[1].bytes, 356000, "carried bytes");
	ASSERT_EQ(b.recs[1].nelems, 1, "record knows its elements");
	ASSERT_TRUE(b.recs[1].elems == &el[1], "record points at them");
	nftm_free(&b);
}

static void test_elements_v6_and_delete(void)
{
	struct mx_entry in, out[2];
	struct nftm_elem el[2];
	struct nftm_buf b;
	struct nftnl_set *s;
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	uint32_t len = 0;
	const uint8_t *key;
	size_t n;

	memset(&in, 0, sizeof(in));
	memset(el, 0, sizeof(el));
	in.net = net_of("2001:db8:1::/48");
	in.action = MX_ACT_DROP;
	in.origin = MX_ORIGIN_DYNAMIC;
	el[0].net = in.net;
	el[0].e = &in;
	el[1].net = net_of("2001:db8:2::/48"); /* key only: delete */

	nftm_init(&b, 1);
	nftm_elems(&b, true, AF_INET6, 48, el, 1);
	nftm_elems(&b, false, AF_INET6, 48, &el[1], 1);
	ASSERT_EQ(msg_count(&b), 2, "add and delete");
	n = parse_elems(msg_at(&b, 0), AF_INET6, 48, out, 2, NULL, 0);
	ASSERT_EQ(n, 1, "v6 element parses back");
	ASSERT_EQ(cidr_cmp(&out[0].net, &in.net), 0, "v6 network");
	ASSERT_EQ(msg_cmd(msg_at(&b, 1)), NFT_MSG_DELSETELEM, "DELSETELEM");
	ASSERT_STR(b.recs[1].what, "delete", "record says delete");

	s = nftnl_set_alloc();
	ASSERT_EQ(nftnl_set_elems_nlmsg_parse(msg_at(&b, 1), s), 0,
		  "delete parses");
	it = nftnl_set_elems_iter_create(s);
	e = nftnl_set_elems_iter_next(it);
	ASSERT_TRUE(e != NULL, "delete has its element");
	if (e) {
		key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		ASSERT_EQ(len, 16, "v6 key length");
		ASSERT_TRUE(key && !memcmp(key, el[1].net.addr, 16),
			    "key is the network");
		ASSERT_TRUE(!nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN),
			    "a delete carries no verdict");
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	nftm_free(&b);
}

static void test_elements_chunked(void)
{
	static struct mx_entry in[300];
	static struct nftm_elem el[300];
	struct mx_entry out[NFTM_ELEMS_PER_MSG];
	struct nftm_buf b;
	size_t i, total = 0, max = 0;

	for (i = 0; i < 300; i++) {
		memset(&in[i], 0, sizeof(in[i]));
		in[i].net.family = AF_INET;
		in[i].net.plen = 32;
		/* 10.0.0.0 + 64 i: all in shard 0 */
		in[i].net.addr[0] = 10;
		in[i].net.addr[2] = (uint8_t)(i >> 2);
		in[i].net.addr[3] = (uint8_t)((i & 3) << 6);
		in[i].action = MX_ACT_DROP;
		in[i].origin = MX_ORIGIN_DYNAMIC;
		/* worst case metadata: the longest tags */
		memset(in[i].tags, 'x', MX_TAGS_LEN - 1);
		in[i].tags[MX_TAGS_LEN - 1] = '\0';
		in[i].added = INT64_MAX;
		in[i].expires = INT64_MAX;
		memset(&el[i], 0, sizeof(el[i]));
		el[i].net = in[i].net;
		el[i].e = &in[i];
		el[i].carry = true;
		el[i].packets = UINT64_MAX;
	}
	nftm_init(&b, 1);
	nftm_elems(&b, true, AF_INET, 32, el, 300);
	ASSERT_EQ(msg_count(&b), 3, "300 elements in 3 messages");
	for (i = 0; i < msg_count(&b); i++) {
		const struct nlmsghdr *nlh = msg_at(&b, i);

		if (nlh->nlmsg_len > max)
			max = nlh->nlmsg_len;
		total += parse_elems(nlh, AF_INET, 32, out, NFTM_ELEMS_PER_MSG,
				     NULL, 0);
	}
	ASSERT_EQ(total, 300, "every element parses back");
	/* the element list is one attribute with a 16-bit length */
	ASSERT_TRUE(max < 65535, "worst-case message fits the 16-bit nest");
	ASSERT_EQ(b.recs[2].nelems, 300 - 2 * NFTM_ELEMS_PER_MSG,
		  "last record has the rest");
	ASSERT_TRUE(b.recs[1].elems == &el[NFTM_ELEMS_PER_MSG],
		    "second record starts at its element");
	nftm_free(&b);
}

/* rule_of - parse a NEWRULE message */
static struct nftnl_rule *rule_of(const struct nlmsghdr *nlh)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

struct expr_list {
	char names[256];
	char lookup[32];
	uint8_t mask[16];
	uint32_t mask_len;
	bool vmap;
};

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct expr_list *l = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	size_t len = strlen(l->names);

	snprintf(l->names + len, sizeof(l->names) - len, "%s%s", len ? "," : "",
		 name);
	if (!strcmp(name, "lookup")) {
		snprintf(l->lookup, sizeof(l->lookup), "%s",
			 nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
		l->vmap = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) &&
			  nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG) ==
			      NFT_REG_VERDICT;
	} else if (!strcmp(name, "bitwise")) {
		const void *m =
		    nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &l->mask_len);

		if (m && l->mask_len <= sizeof(l->mask))
			memcpy(l->mask, m, l->mask_len);
	}
	return 0;
}

static void exprs_of(const struct nlmsghdr *nlh, struct expr_list *l,
		     char *chain, size_t len)
{
	struct nftnl_rule *r = rule_of(nlh);

	memset(l, 0, sizeof(*l));
	if (!r)
		return;
	snprintf(chain, len, "%s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	nftnl_expr_foreach(r, expr_cb, l);
	nftnl_rule_free(r);
}

static void test_syn_chain_longest_first(void)
{
	const uint8_t plens[] = {16, 32, 8, 24, 0, 33};
	static const uint8_t s32[4] = {0, 0, 0, 0x3f};
	static const uint8_t s24[4] = {0, 0, 0x3f, 0};
	static const uint8_t s16[4] = {0, 0x3f, 0, 0};
	static const uint8_t m8[4] = {0xff, 0, 0, 0};
	struct expr_list l;
	struct nftm_buf b;
	char chain[32];

	nftm_init(&b, 1);
	nftm_syn_chain_rebuild(&b, AF_INET, plens, ARRAY_SIZE(plens));
	/* flush, /32, /24, /16, /8 (0 and 33 ignored); no update of a record
	 * of SYN sources (the watcher asks the record of handshakes) */
	ASSERT_EQ(msg_count(&b), 5, "flush + four lookups, nothing else");
	ASSERT_EQ(msg_cmd(msg_at(&b, 0)), NFT_MSG_DELRULE, "flush first");
	exprs_of(msg_at(&b, 1), &l, chain, sizeof(chain));
	ASSERT_STR(chain, "syn4", "rules go to syn4");
	ASSERT_STR(l.names, "meta,cmp,payload,bitwise,lookup",
		   "/32 first: ip saddr, shard bits");
	ASSERT_STR(l.lookup, "x4_32", "longest first, its dispatch map");
	ASSERT_TRUE(l.vmap, "a verdict map");
	ASSERT_TRUE(l.mask_len == 4 && !memcmp(l.mask, s32, 4),
		    "/32 shard bits: the last six");
	exprs_of(msg_at(&b, 2), &l, chain, sizeof(chain));
	ASSERT_STR(l.lookup, "x4_24", "then /24");
	ASSERT_TRUE(l.mask_len == 4 && !memcmp(l.mask, s24, 4),
		    "/24 shard bits");
	exprs_of(msg_at(&b, 3), &l, chain, sizeof(chain));
	ASSERT_STR(l.lookup, "x4_16", "then /16");
	ASSERT_TRUE(l.mask_len == 4 && !memcmp(l.mask, s16, 4),
		    "/16 shard bits");
	exprs_of(msg_at(&b, 4), &l, chain, sizeof(chain));
	ASSERT_STR(l.lookup, "d4_8", "then /8, one map");
	ASSERT_TRUE(l.mask_len == 4 && !memcmp(l.mask, m8, 4), "/8 mask");
	nftm_free(&b);
}

/* frag4/frag6: the same lookups as syn4/syn6 */
static void test_frag_chain(void)
{
	const uint8_t plens[] = {8, 32};
	struct expr_list l;
	struct nftm_buf b;
	char chain[32];

	nftm_init(&b, 1);
	nftm_frag_chain_rebuild(&b, AF_INET, plens, ARRAY_SIZE(plens));
	ASSERT_EQ(msg_count(&b), 3, "flush + two lookups");
	ASSERT_EQ(msg_cmd(msg_at(&b, 0)), NFT_MSG_DELRULE, "flush first");
	exprs_of(msg_at(&b, 1), &l, chain, sizeof(chain));
	ASSERT_STR(chain, "frag4", "rules go to frag4");
	ASSERT_STR(l.lookup, "x4_32", "/32 first, no update before it");
	exprs_of(msg_at(&b, 2), &l, chain, sizeof(chain));
	ASSERT_STR(l.lookup, "d4_8", "then /8");
	nftm_free(&b);
}

static void test_sharded_map(void)
{
	const uint8_t plens[] = {61};
	struct expr_list l;
	struct nftm_buf b;
	char chain[32];
	uint8_t shard_mask[16] = {[6] = 0x01, [7] = 0xf8};
	uint8_t net_mask[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf8};
	size_t i, sets = 0, chains = 0, rules = 0, fills = 0;
	const struct nlmsghdr *nlh;

	nftm_init(&b, 1);
	nftm_syn_chain_rebuild(&b, AF_INET6, plens, 1);
	exprs_of(msg_at(&b, 1), &l, chain, sizeof(chain));
	ASSERT_STR(chain, "syn6", "rules go to syn6");
	ASSERT_STR(l.lookup, "x6_61", "v6 dispatch map");
	ASSERT_TRUE(l.mask_len == 16 && !memcmp(l.mask, shard_mask, 16),
		    "/61 shard bits 55..60");
	nftm_free(&b);

	nftm_init(&b, 1);
	nftm_map_add(&b, AF_INET6, 61);
	for (i = 0; (nlh = msg_at(&b, i)); i++) {
		switch (msg_cmd(nlh)) {
		case NFT_MSG_NEWSET:
			sets++;
			break;
		case NFT_MSG_NEWCHAIN:
			chains++;
			break;
		case NFT_MSG_NEWRULE:
			if (rules++ == 7) {
				exprs_of(nlh, &l, chain, sizeof(chain));
				ASSERT_STR(chain, "c6_61_07", "shard chain");
				ASSERT_STR(l.lookup, "d6_61_07", "shard map");
				ASSERT_TRUE(l.mask_len == 16 &&
						!memcmp(l.mask, net_mask, 16),
					    "masked to /61");
			}
			break;
		case NFT_MSG_NEWSETELEM: {
			struct nftnl_set *s = nftnl_set_alloc();

			fills++;
			ASSERT_EQ(nftnl_set_elems_nlmsg_parse(nlh, s), 0,
				  "dispatch elements parse");
			ASSERT_STR(nftnl_set_get_str(s, NFTNL_SET_NAME),
				   "x6_61", "dispatch map filled");
			nftnl_set_free(s);
			break;
		}
		}
	}
	ASSERT_EQ(sets, NFTM_SHARDS + 1, "a map per shard and the dispatch");
	ASSERT_EQ(chains, NFTM_SHARDS, "a chain per shard");
	ASSERT_EQ(rules, NFTM_SHARDS, "a rule per shard chain");
	ASSERT_EQ(fills, 1, "dispatch filled once");
	nftm_free(&b);

	nftm_init(&b, 1);
	nftm_map_add(&b, AF_INET, 8);
	ASSERT_EQ(msg_count(&b), 1, "a short length: one map");
	nftm_free(&b);
}

static void test_shard_of(void)
{
	static const struct {
		const char *net;
		int shard;
	} cases[] = {
	    {"10.0.0.5", 5},	     {"10.0.0.64", 0},
	    {"198.51.100.0/24", 36}, {"203.0.113.0/24", 49},
	    {"10.3.0.0/16", 3},	     {"10.0.0.0/8", 0}, /* not sharded */
	    {"2001:db8:1::/48", 1},  {"2001:db8::3f", 63},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cidr c = net_of(cases[i].net);

		ASSERT_EQ(nftm_shard_of(&c), cases[i].shard, cases[i].net);
	}
}

static void test_table_batch(void)
{
	struct mx_dp_config cfg = {.ports = {25, 587}, .nports = 2};
	struct expr_list l;
	struct nftm_buf b;
	char chain[32];
	static const char *const frag_rules[4] = {
	    "meta,cmp,meta,cmp,payload,bitwise,cmp,immediate",
	    "meta,cmp,meta,cmp,payload,bitwise,cmp,payload,cmp,immediate",
	    "meta,cmp,exthdr,bitwise,cmp,immediate",
	    "meta,cmp,exthdr,bitwise,cmp,payload,cmp,immediate",
	};
	size_t i, n, acks = 0, checks = 0, frags = 0, sets = 0, dynsets = 0;
	uint32_t last_seq = 0;
	bool seq_up = true;

	nftm_init(&b, 7);
	nftm_batch_begin(&b);
	nftm_table_create(&b, &cfg);
	nftm_base_chain_add(&b, "eth0");
	nftm_batch_end(&b);
	n = msg_count(&b);
	ASSERT_EQ(msg_at(&b, 0)->nlmsg_type, NFNL_MSG_BATCH_BEGIN,
		  "batch begins");
	ASSERT_EQ(msg_at(&b, n - 1)->nlmsg_type, NFNL_MSG_BATCH_END,
		  "batch ends");
	ASSERT_EQ(b.nrecs, n - 2, "every message but begin/end recorded");
	for (i = 1; i + 1 < n; i++) {
		const struct nlmsghdr *nlh = msg_at(&b, i);

		if (nlh->nlmsg_flags & NLM_F_ACK)
			acks++;
		if (nlh->nlmsg_seq <= last_seq)
			seq_up = false;
		last_seq = nlh->nlmsg_seq;
		ASSERT_TRUE(nftm_rec_find(&b, nlh->nlmsg_seq) == &b.recs[i - 1],
			    "record found by sequence");
		if (msg_cmd(nlh) == NFT_MSG_NEWSET)
			sets++;
		if (msg_cmd(nlh) == NFT_MSG_NEWRULE) {
			exprs_of(nlh, &l, chain, sizeof(chain));
			if (strstr(l.names, "dynset"))
				dynsets++;
			if (!strcmp(chain, NFTM_CHAIN_CHECK) &&
			    strcmp(l.lookup, NFTM_SET_PORTS)) {
				/* later fragment, short first fragment */
				ASSERT_TRUE(
				    !strcmp(l.names, frag_rules[frags % 4]),
				    "fragment rule");
				frags++;
			} else if (!strcmp(chain, NFTM_CHAIN_CHECK)) {
				checks++;
				ASSERT_STR(
				    l.names,
				    "meta,cmp,meta,cmp,payload,lookup,payload,"
				    "bitwise,cmp,objref,immediate",
				    "SMTP SYN rule");
				ASSERT_STR(l.lookup, NFTM_SET_PORTS,
					   "port set");
				ASSERT_TRUE(l.mask_len == 1 &&
						l.mask[0] == 0x12,
					    "flags & (syn|ack)");
			}
		}
	}
	ASSERT_EQ(acks, n - 2, "every message asks for an ack");
	ASSERT_TRUE(seq_up, "sequence numbers rise");
	ASSERT_EQ(checks, 2, "one SMTP SYN rule per family");
	ASSERT_EQ(frags, 4, "two fragment rules per family");
	/* no record of recent SYN sources: nothing reads one, and its update
	 * cost every SMTP SYN (the watcher asks the record of handshakes) */
	ASSERT_EQ(sets, 1, "one set: the port set");
	ASSERT_EQ(dynsets, 0, "no rule updates a set from the packet path");
	ASSERT_EQ(msg_cmd(msg_at(&b, 1)), NFT_MSG_NEWTABLE, "table first");
	ASSERT_TRUE(msg_at(&b, 1)->nlmsg_flags & NLM_F_EXCL,
		    "table made once (EXCL)");
	nftm_free(&b);
}

/* a table of an older mxwall: its record of SYN sources leaves at attach */
static void test_chains_upgrade(void)
{
	const uint8_t plens4[] = {24}, plens6[] = {48};
	struct nftnl_set *s;
	struct expr_list l;
	struct nftm_buf b;
	char chain[32], name[32];
	size_t i, n, flush_syn = 0, del_at[2] = {0, 0}, dels = 0;
	const struct nlmsghdr *nlh;

	nftm_init(&b, 1);
	nftm_chains_upgrade(&b, plens4, 1, plens6, 1,
			    NFTM_OLD_RECENT4 | NFTM_OLD_RECENT6);
	n = msg_count(&b);
	for (i = 0; i < n; i++) {
		nlh = msg_at(&b, i);
		if (msg_cmd(nlh) == NFT_MSG_DELRULE) {
			exprs_of(nlh, &l, chain, sizeof(chain));
			if (!strncmp(chain, "syn", 3))
				flush_syn = i;
		}
		if (msg_cmd(nlh) == NFT_MSG_NEWRULE) {
			exprs_of(nlh, &l, chain, sizeof(chain));
			ASSERT_TRUE(!strstr(l.names, "dynset"),
				    "no rule updates a set");
		}
		if (msg_cmd(nlh) == NFT_MSG_DELSET && dels < 2) {
			s = nftnl_set_alloc();
			ASSERT_EQ(nftnl_set_nlmsg_parse(nlh, s), 0,
				  "delete set parses");
			snprintf(name, sizeof(name), "%s",
				 nftnl_set_get_str(s, NFTNL_SET_NAME));
			ASSERT_STR(name, dels ? "recent6" : "recent4",
				   "the old record's sets are deleted");
			nftnl_set_free(s);
			del_at[dels++] = i;
		}
	}
	ASSERT_EQ(dels, 2, "recent4 and recent6 deleted");
	ASSERT_TRUE(flush_syn && del_at[0] > flush_syn,
		    "after the flush of the rules that referred to them");
	nftm_free(&b);

	/* a table without them: nothing to delete (ENOENT would fail it) */
	nftm_init(&b, 1);
	nftm_chains_upgrade(&b, plens4, 1, plens6, 1, NFTM_OLD_RECENT6);
	for (i = 0, dels = 0; (nlh = msg_at(&b, i)); i++)
		if (msg_cmd(nlh) == NFT_MSG_DELSET)
			dels++;
	ASSERT_EQ(dels, 1, "only the set the table has");
	nftm_free(&b);
	nftm_init(&b, 1);
	nftm_chains_upgrade(&b, plens4, 1, plens6, 1, 0);
	for (i = 0, dels = 0; (nlh = msg_at(&b, i)); i++)
		if (msg_cmd(nlh) == NFT_MSG_DELSET)
			dels++;
	ASSERT_EQ(dels, 0, "a current table: no set deleted");
	nftm_free(&b);
}

static void test_base_chain(void)
{
	struct nftm_buf b;
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftm_init(&b, 1);
	nftm_base_chain_add(&b, "eth1");
	ASSERT_EQ(nftnl_chain_nlmsg_parse(msg_at(&b, 0), c), 0, "chain parses");
	ASSERT_STR(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), "in_eth1",
		   "chain per interface");
	ASSERT_STR(nftnl_chain_get_str(c, NFTNL_CHAIN_DEV), "eth1", "device");
	ASSERT_EQ(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
		  NF_NETDEV_INGRESS, "ingress hook");
	ASSERT_EQ(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), NFTM_INGRESS_PRIO,
		  "priority");
	ASSERT_EQ(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT,
		  "policy accept");
	nftnl_chain_free(c);
	nftm_free(&b);
}

static void test_comment(void)
{
	static const struct {
		const char *desc;
		uint8_t origin;
		bool observe;
		const char *tags;
		int64_t added, expires;
	} cases[] = {
	    {"static, no tags", MX_ORIGIN_STATIC, false, "", 1, 0},
	    {"dynamic, tags", MX_ORIGIN_DYNAMIC, false, "a,zen.spamhaus.org",
	     1763900000, 1764500000},
	    {"observe", MX_ORIGIN_DYNAMIC, true, "x", 0, 0},
	    {"tags with '=' and spaces", MX_ORIGIN_STATIC, false, "a b=c", 5,
	     6},
	};
	char buf[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mx_entry e, d;

		memset(&e, 0, sizeof(e));
		memset(&d, 0, sizeof(d));
		e.origin = cases[i].origin;
		e.observe = cases[i].observe;
		snprintf(e.tags, sizeof(e.tags), "%s", cases[i].tags);
		e.added = cases[i].added;
		e.expires = cases[i].expires;
		ASSERT_TRUE(nftm_comment_encode(&e, buf, sizeof(buf)) > 0,
			    cases[i].desc);
		nftm_comment_decode(buf, &d);
		ASSERT_EQ(d.origin, e.origin, cases[i].desc);
		ASSERT_EQ(d.observe, e.observe, cases[i].desc);
		ASSERT_STR(d.tags, e.tags, cases[i].desc);
		ASSERT_EQ(d.added, e.added, cases[i].desc);
		ASSERT_EQ(d.expires, e.expires, cases[i].desc);
	}
	{
		struct mx_entry e;

		memset(&e, 0, sizeof(e));
		e.origin = MX_ORIGIN_STATIC;
		ASSERT_EQ(nftm_comment_encode(&e, buf, 10), -ENOSPC,
			  "too small a buffer");
		/* a comment an administrator wrote is not ours: defaults */
		nftm_comment_decode("hello world", &e);
		ASSERT_EQ(e.origin, MX_ORIGIN_DYNAMIC, "foreign comment");
	}
}

static void test_map_names(void)
{
	static const struct {
		const char *name;
		int ret, family, plen, shard;
	} cases[] = {
	    {"d4_24_07", 0, AF_INET, 24, 7},
	    {"d4_32_63", 0, AF_INET, 32, 63},
	    {"d6_128_00", 0, AF_INET6, 128, 0},
	    {"d6_1", 0, AF_INET6, 1, 0},
	    {"d4_15", 0, AF_INET, 15, 0},
	    {"d4_24", -EINVAL, 0, 0, 0},
	    {"d4_24_64", -EINVAL, 0, 0, 0},
	    {"d4_24_7", -EINVAL, 0, 0, 0},
	    {"d4_8_01", -EINVAL, 0, 0, 0},
	    {"d4_33_00", -EINVAL, 0, 0, 0},
	    {"d4_0", -EINVAL, 0, 0, 0},
	    {"d4_024", -EINVAL, 0, 0, 0},
	    {"d6_129_00", -EINVAL, 0, 0, 0},
	    {"d5_8", -EINVAL, 0, 0, 0},
	    {"d4_8x", -EINVAL, 0, 0, 0},
	    {"ports", -EINVAL, 0, 0, 0},
	    {"recent4", -EINVAL, 0, 0, 0},
	    {"x4_32", -EINVAL, 0, 0, 0},
	};
	size_t i;
	char buf[32];

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int family = 0, plen = 0, shard = -1;

		ASSERT_EQ(nftm_map_parse(cases[i].name, &family, &plen, &shard),
			  cases[i].ret, cases[i].name);
		if (cases[i].ret)
			continue;
		ASSERT_EQ(family, cases[i].family, cases[i].name);
		ASSERT_EQ(plen, cases[i].plen, cases[i].name);
		ASSERT_EQ(shard, cases[i].shard, cases[i].name);
		nftm_map_name(buf, sizeof(buf), family, plen, shard);
		ASSERT_STR(buf, cases[i].name, "name round trip");
	}
}

static void test_foreign_elements(void)
{
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	struct mx_entry e;
	uint8_t key[4] = {10, 0, 0, 1};

	/* a host bit under a /24 key: not written by us */
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, 4);
	nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_GOTO);
	nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, NFTM_CHAIN_DROP);
	ASSERT_EQ(nftm_elem_to_entry(el, AF_INET, 24, 0, &e), -EINVAL,
		  "host bits set");
	ASSERT_EQ(nftm_elem_to_entry(el, AF_INET, 32, 0, &e), 0, "a /32");
	ASSERT_EQ(e.action, MX_ACT_DROP, "drop verdict");
	ASSERT_EQ(e.origin, MX_ORIGIN_DYNAMIC, "no comment: dynamic");
	nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, "somewhere");
	ASSERT_EQ(nftm_elem_to_entry(el, AF_INET, 32, 0, &e), -EINVAL,
		  "unknown verdict chain");
	ASSERT_EQ(nftm_elem_to_entry(el, AF_INET6, 128, 0, &e), -EINVAL,
		  "wrong key length");
	nftnl_set_elem_free(el);
}

static void test_ports(void)
{
	const uint16_t ports[] = {25, 465, 587};
	struct nftm_buf b;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;
	size_t n = 0;

	nftm_init(&b, 1);
	nftm_ports(&b, ports, 3);
	ASSERT_EQ(msg_count(&b), 2, "flush, then add");
	ASSERT_EQ(msg_cmd(msg_at(&b, 0)), NFT_MSG_DELSETELEM, "flush");
	ASSERT_EQ(nftnl_set_elems_nlmsg_parse(msg_at(&b, 1), s), 0,
		  "ports parse");
	it = nftnl_set_elems_iter_create(s);
	while ((el = nftnl_set_elems_iter_next(it))) {
		uint32_t len = 0;
		const uint16_t *k =
		    nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);

		ASSERT_TRUE(len == 2 && n < 3 && ntohs(*k) == ports[n],
			    "port in network order");
		n++;
	}
	ASSERT_EQ(n, 3, "three ports");
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	nftm_free(&b);
}

int main(void)
{
	TEST_RUN(test_elements_round_trip);
	TEST_RUN(test_elements_v6_and_delete);
	TEST_RUN(test_elements_chunked);
	TEST_RUN(test_syn_chain_longest_first);
	TEST_RUN(test_frag_chain);
	TEST_RUN(test_sharded_map);
	TEST_RUN(test_shard_of);
	TEST_RUN(test_table_batch);
	TEST_RUN(test_chains_upgrade);
	TEST_RUN(test_base_chain);
	TEST_RUN(test_comment);
	TEST_RUN(test_map_names);
	TEST_RUN(test_foreign_elements);
	TEST_RUN(test_ports);
	return test_finish();
}
