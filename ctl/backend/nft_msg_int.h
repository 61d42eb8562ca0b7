/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nft_msg_int.h - what the message builders of the nftables backend
 * share: nft_msg.c (the buffer, expressions, the table, its sets and
 * chains), nft_map.c (the maps of a prefix length and the lookup chains)
 * and nft_elem.c (elements). Not for use outside those three; the rest of
 * the backend uses nft_msg.h.
 */
#ifndef MXWALL_NFT_MSG_INT_H
#define MXWALL_NFT_MSG_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/nft_msg.h"

/* nft's datatype numbers, so that `nft list` prints our sets readably */
#define NFT_TYPE_VERDICT 1
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_IP6ADDR 8
#define NFT_TYPE_INET_SERVICE 13

struct nlmsghdr;
struct nftnl_expr;
struct nftnl_rule;
struct nftnl_set;

/* nftm_hdr - start a message; records it when what is not NULL */
struct nlmsghdr *nftm_hdr(struct nftm_buf *b, uint16_t cmd, uint16_t flags,
			  const char *what, const char *obj);
/* nftm_done - the message is complete: account for its length */
void nftm_done(struct nftm_buf *b, struct nlmsghdr *nlh);
/* nftm_canon_elems - NFTA_LIST_ELEM on each element of a list, so that
 * libnftnl's parser reads our messages back */
void nftm_canon_elems(struct nlmsghdr *nlh);

/* expressions and rules */
struct nftnl_expr *nftm_expr(const char *name);
void nftm_add_bitwise(struct nftnl_rule *r, const uint8_t *mask, uint32_t len);
/* nftm_add_lookup - match against a set, or with vmap take the verdict */
void nftm_add_lookup(struct nftnl_rule *r, const char *set, bool vmap);
/* nftm_add_saddr - the source address of family into the register */
void nftm_add_saddr(struct nftnl_rule *r, int family);
struct nftnl_rule *nftm_rule_new(const char *chain);
/* nftm_rule_emit - append the rule as a message; frees it */
void nftm_rule_emit(struct nftm_buf *b, struct nftnl_rule *r,
		    const char *chain);
void nftm_chain_flush(struct nftm_buf *b, const char *chain);

/* sets and chains */
struct nftnl_set *nftm_set_new(uint32_t keytype, uint32_t keylen,
			       uint32_t flags);
/* nftm_set_emit - a NEWSET message for s, named; frees s */
void nftm_set_emit(struct nftm_buf *b, struct nftnl_set *s, const char *name);
/* nftm_chain_emit - a new chain (a base chain on dev); with dev "" an
 * existing chain of that name is fine */
void nftm_chain_emit(struct nftm_buf *b, const char *name, const char *dev);

#endif /* MXWALL_NFT_MSG_INT_H */
