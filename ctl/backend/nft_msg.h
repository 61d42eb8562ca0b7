/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nft_msg.h - the netlink messages of the nftables backend (nft_msg.c,
 * nft_map.c, nft_elem.c), built with libnftnl into one growing buffer and
 * parsed back, with no socket and no kernel involved (so
 * selftests/unit/test_nft_msg.c can check every message).
 *
 * The layout these messages make (docs/nftables.md explains why):
 *
 *   table netdev mxwall
 *     counter seen, syn, dropped, allowed, observed     (named counters)
 *     set ports       inet_service                      (SMTP port set)
 *     map d4_N, d6_N  address : verdict, a counter per element (one per
 *                     prefix length N in use; key = source address & /N
 *                     mask); N >= 16: 64 shards d4_N_00..63 by prefix bits,
 *                     a dispatch map x4_N and a chain c4_N_SS per shard
 *     chain in_IFACE  hook ingress device IFACE: count seen, jump check
 *     chain check     SMTP SYN (dport @ports, syn without ack): count syn,
 *                     goto syn4 / syn6
 *                     a TCP fragment that may hide a SYN: goto frag4/6
 *     chain syn4/6    a vmap lookup per prefix length (through the
 *                     shard's chain when sharded), longest first: the
 *                     first hit decides (longest match)
 *     chain frag4/6   the same lookups
 *     chain act_drop, act_allow, act_observe   count, then drop or accept
 *
 * Every message added here records what it does (nftm_rec) so that an error
 * acknowledged by the kernel can be told to the user per message, down to the
 * element when the kernel points at one (NETLINK_EXT_ACK offset).
 * Callers: ctl/backend/nft*.c, selftests/unit/test_nft_msg.c.
 */
#ifndef MXWALL_NFT_MSG_H
#define MXWALL_NFT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netfilter.h>

#include "backend/backend.h"
#include "core/cidr.h"

#define NFTM_TABLE "mxwall"
#define NFTM_FAMILY NFPROTO_NETDEV
#define NFTM_CHAIN_CHECK "check"
#define NFTM_CHAIN_DROP "act_drop"
#define NFTM_CHAIN_ALLOW "act_allow"
#define NFTM_CHAIN_OBSERVE "act_observe"
#define NFTM_SET_PORTS "ports"
#define NFTM_BASE_PREFIX "in_"
/* before any other ingress chain a typical ruleset has (nft default: 0) */
#define NFTM_INGRESS_PRIO (-500)
/* sets of an older layout that the upgrade deletes: the record of recent
 * SMTP SYN sources, filled by an update in syn4/syn6 (docs/nftables.md) */
#define NFTM_OLD_RECENT4_NAME "recent4"
#define NFTM_OLD_RECENT6_NAME "recent6"
#define NFTM_OLD_RECENT4 1u
#define NFTM_OLD_RECENT6 2u
/* elements per NEWSETELEM message: the element list is one nested
 * attribute, whose length is 16 bits; 128 worst-case elements fit */
#define NFTM_ELEMS_PER_MSG 128

/* NFT_MSG_GETSETELEM_RESET (Linux 6.5) and NFT_MSG_DESTROYTABLE (6.3): the
 * uapi header that libnftnl 1.2.4 builds against predates them */
#define NFTM_MSG_DESTROYTABLE 26
#define NFTM_MSG_GETSETELEM_RESET 33

/* the global counters, named counter objects in the table */
enum nftm_counter {
	NFTM_CNT_SEEN,
	NFTM_CNT_SYN,
	NFTM_CNT_DROPPED,
	NFTM_CNT_ALLOWED,
	NFTM_CNT_OBSERVED,
	NFTM_CNT_MAX,
};
extern const char *const nftm_counter_names[NFTM_CNT_MAX];

/* what one message of a batch does, to explain its acknowledgement */
struct nftm_rec {
	uint32_t seq;
	size_t off;		       /* of the nlmsghdr in the buffer */
	const char *what;	       /* "create table", "add elements" ... */
	char obj[32];		       /* the set or chain it touches */
	const struct nftm_elem *elems; /* element messages: the elements */
	size_t nelems;
};

/* a growing buffer of netlink messages: one batch, or a run of requests */
struct nftm_buf {
	char *data;
	size_t len, cap;
	uint32_t seq; /* next sequence number */
	struct nftm_rec *recs;
	size_t nrecs, caprecs;
};

/* one element to add or delete; for an add, the entry and carried counters */
struct nftm_elem {
	struct cidr net;
	const struct mx_entry *e; /* NULL: delete (key only) */
	bool carry;		  /* start the counters at these values */
	uint64_t packets, bytes;
	uint64_t timeout_ms; /* the kernel removes it then (block --ttl) */
};

void nftm_init(struct nftm_buf *b, uint32_t seq);
void nftm_free(struct nftm_buf *b);
void nftm_reset(struct nftm_buf *b);
/* nftm_rec_find - the record of the message with this sequence number */
const struct nftm_rec *nftm_rec_find(const struct nftm_buf *b, uint32_t seq);

void nftm_batch_begin(struct nftm_buf *b);
void nftm_batch_end(struct nftm_buf *b);

/* the skeleton: table, counters, sets, chains, rules (no base chains) */
void nftm_table_create(struct nftm_buf *b, const struct mx_dp_config *cfg);
void nftm_table_destroy(struct nftm_buf *b);

/*
 * Maps of one prefix length. A length of NFTM_SHARD_MIN_PLEN or more is
 * split in NFTM_SHARDS maps by the lowest NFTM_SHARD_BITS bits of the
 * prefix (d4_32_00 ... d4_32_63), reached through a dispatch map (x4_32)
 * that jumps to the shard's chain (c4_32_07): the kernel dumps a set by
 * walking it from the start for every 32 KiB of answer, so a dump costs
 * the square of a set's size, and small sets keep a million entries
 * readable. Shorter lengths have one map (d4_8).
 */
#define NFTM_SHARD_BITS 6
#define NFTM_SHARDS (1 << NFTM_SHARD_BITS)
#define NFTM_SHARD_MIN_PLEN 16
int nftm_shards(int plen);
int nftm_shard_of(const struct cidr *c);
void nftm_map_name(char *buf, size_t len, int family, int plen, int shard);
/* nftm_map_parse - family, prefix length and shard of a map; -EINVAL */
int nftm_map_parse(const char *name, int *family, int *plen, int *shard);
void nftm_map_add(struct nftm_buf *b, int family, int plen);
/*
 * nftm_syn_chain_rebuild - flush syn4 or syn6 and add its rules again: one
 * lookup per prefix length present in plens[] (any order; emitted longest
 * first)
 */
void nftm_syn_chain_rebuild(struct nftm_buf *b, int family,
			    const uint8_t *plens, size_t n);
/* nftm_drop_rule - flush act_drop and add its rule: drop, or observe */
void nftm_drop_rule(struct nftm_buf *b, bool observe);
/* nftm_ports - replace the SMTP port set */
void nftm_ports(struct nftm_buf *b, const uint16_t *ports, size_t n);

/* nftm_frag_chain_rebuild - the same for frag4 or frag6 */
void nftm_frag_chain_rebuild(struct nftm_buf *b, int family,
			     const uint8_t *plens, size_t n);

/* nftm_check_chain - flush the check chain and add its rules again: the
 * SMTP SYN rule per family, then the fragment rules */
void nftm_check_chain(struct nftm_buf *b);

/*
 * nftm_chains_upgrade - bring a table made by an older mxwall up to date:
 * frag4/frag6 (made if missing) and syn4/syn6 with the lookups of the
 * prefix lengths present, the check chain again, and the sets of an older
 * layout named in old_sets (NFTM_OLD_RECENT4 | NFTM_OLD_RECENT6: those the
 * table has) deleted once no rule refers to them
 */
void nftm_chains_upgrade(struct nftm_buf *b, const uint8_t *plens4, size_t n4,
			 const uint8_t *plens6, size_t n6,
			 unsigned int old_sets);

void nftm_base_chain_add(struct nftm_buf *b, const char *ifname);
void nftm_base_chain_del(struct nftm_buf *b, const char *ifname);

/*
 * nftm_elems - NEWSETELEM (add) or DELSETELEM messages for elements of one
 * family and prefix length, several per message, each message to the
 * elements' shard (sort by shard first for the fewest messages). The
 * elements must stay alive as long as the buffer's records.
 */
void nftm_elems(struct nftm_buf *b, bool add, int family, int plen,
		const struct nftm_elem *el, size_t n);
/*
 * nftm_elem_get - a GETSETELEM request for one key (reset: the
 * GETSETELEM_RESET variant that zeroes its counters as it reads them)
 */
void nftm_elem_get(struct nftm_buf *b, const char *set, const uint8_t *key,
		   size_t keylen, bool reset);

/* entry metadata <-> the element's comment (nft shows it as comment "...") */
int nftm_comment_encode(const struct mx_entry *e, char *buf, size_t len);
void nftm_comment_decode(const char *s, struct mx_entry *e);
/* nftm_udata_comment - the comment in element userdata; NULL if none */
const char *nftm_udata_comment(const void *data, uint32_t len, char *buf,
			       size_t buflen);

struct nftnl_set_elem;
/*
 * nftm_elem_to_entry - an element of map d<family>_<plen> as an entry, with
 * counters and the last hit (now: unix seconds of the read); -EINVAL when the
 * element is not one of ours
 */
int nftm_elem_to_entry(struct nftnl_set_elem *el, int family, int plen,
		       int64_t now, struct mx_entry *e);
/* nftm_key - the map key of a network: its address, family-sized */
size_t nftm_key(const struct cidr *c, uint8_t *key);

#endif /* MXWALL_NFT_MSG_H */
