// SPDX-License-Identifier: GPL-2.0
/*
 * nft_map.c - the nftables backend's maps, one per prefix length in use:
 * shards (a length of /16 or more in 64 maps, reached through a dispatch
 * map and a chain per shard), map names, the messages that create them,
 * and the lookup chains syn4/syn6 and frag4/frag6 that look a source up
 * longest prefix first (docs/nftables.md "Longest prefix", "Shards").
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

#include "backend/nft_msg.h"
#include "backend/nft_msg_int.h"

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
	struct nftnl_rule *r = nftm_rule_new(chain);

	nftm_add_saddr(r, family);
	if (mask)
		nftm_add_bitwise(r, mask, alen);
	nftm_add_lookup(r, map, true);
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

		set = nftm_set_new(family == AF_INET ? NFT_TYPE_IPADDR
						     : NFT_TYPE_IP6ADDR,
				   alen, NFT_SET_MAP | NFT_SET_TIMEOUT);
		nftnl_set_set_u32(set, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftm_map_name(name, sizeof(name), family, plen, s);
		nftm_set_emit(b, set, name);
	}
	if (n == 1)
		return;
	/* sharded: a chain per shard that looks in its map; a miss returns
	 * to syn4/syn6 (the dispatch jumps), which goes on with the next
	 * shorter length */
	for (s = 0; s < n; s++) {
		nftm_map_name(name, sizeof(name), family, plen, s);
		shard_chain_name(chain, sizeof(chain), family, plen, s);
		nftm_chain_emit(b, chain, NULL);
		nftm_rule_emit(
		    b,
		    lookup_rule(chain, family, plen == max ? NULL : mask, name),
		    chain);
	}
	{
		struct nftnl_set *set;
		struct nlmsghdr *nlh;

		set = nftm_set_new(family == AF_INET ? NFT_TYPE_IPADDR
						     : NFT_TYPE_IP6ADDR,
				   alen, NFT_SET_MAP | NFT_SET_TIMEOUT);
		nftnl_set_set_u32(set, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		dispatch_name(disp, sizeof(disp), family, plen);
		nftm_set_emit(b, set, disp);
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
		nlh = nftm_hdr(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK,
			       "fill", disp);
		nftnl_set_elems_nlmsg_build_payload(nlh, set);
		nftm_canon_elems(nlh);
		nftm_done(b, nlh);
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
		nftm_rule_emit(b, r, chain);
	}
}

/* chain_rebuild - flush a lookup chain and add its lookups again */
static void chain_rebuild(struct nftm_buf *b, const char *chain, int family,
			  const uint8_t *plens, size_t n)
{
	nftm_chain_flush(b, chain);
	lookups_emit(b, chain, family, plens, n);
}

void nftm_syn_chain_rebuild(struct nftm_buf *b, int family,
			    const uint8_t *plens, size_t n)
{
	chain_rebuild(b, family == AF_INET ? "syn4" : "syn6", family, plens, n);
}

void nftm_frag_chain_rebuild(struct nftm_buf *b, int family,
			     const uint8_t *plens, size_t n)
{
	chain_rebuild(b, family == AF_INET ? "frag4" : "frag6", family, plens,
		      n);
}
