/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nft_int.h - what the files of the nftables backend share: nft.c (open,
 * attach, config, status, the ops table), nft_nl.c (the netlink socket:
 * batches and their acknowledgements, requests, dumps), nft_dump.c
 * (reading the maps back, zeroing counters) and nft_apply.c (the apply
 * transaction). The messages themselves are nft_msg.h's. Not for use
 * outside ctl/backend/nft*.c.
 */
#ifndef MXWALL_NFT_INT_H
#define MXWALL_NFT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <libmnl/libmnl.h>

#include "backend/backend.h"
#include "backend/nft_msg.h"

/* GET requests sent per round, so that the answers fit the socket buffer */
#define NFT_GETS_PER_ROUND 512
/* a dump that a concurrent change interrupted is read again */
#define DUMP_RETRIES 5

/* the open backend (be->priv) */
struct nftb {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	bool have[2][129];   /* maps present: [0] IPv4, [1] IPv6 */
	bool no_tmo[2][129]; /* made by an older mxwall: no element timeouts */
	unsigned int old_sets; /* NFTM_OLD_RECENT4/6 of an older layout */
	char *rbuf;	       /* receive buffer, NFT_RBUF_SIZE (nft_nl.c) */
};

static inline int fam_idx(int family)
{
	return family == AF_INET ? 0 : 1;
}

static inline int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- nft_nl.c: the socket */

/* nftb_nl_open - the socket, bound, with extended acks; the receive buffer */
int nftb_nl_open(struct nftb *p);
int nftb_nl_send(struct nftb *p, const struct nftm_buf *b);
/* nftb_nl_recv - one datagram into p->rbuf, waiting at most the reply
 * timeout; its length or -errno */
ssize_t nftb_nl_recv(struct nftb *p);
/*
 * nftb_batch_talk - send a batch in one go and read an acknowledgement for
 * every message; returns 0 or the first error, each error reported in words
 */
int nftb_batch_talk(struct nftb *p, struct nftm_buf *b);
/* a reply to one request of a run: data (err 0) or the error */
typedef int (*nftb_reply_cb)(const struct nlmsghdr *nlh,
			     const struct nftm_rec *r, int err, void *data);
/*
 * nftb_requests - send requests that each get one answer (a message or an
 * error), and hand each answer to cb
 */
int nftb_requests(struct nftb *p, struct nftm_buf *b, nftb_reply_cb cb,
		  void *data);
/* nftb_dump - one dump request; cb sees every message until NLMSG_DONE */
int nftb_dump(struct nftb *p, uint16_t cmd,
	      void (*payload)(struct nlmsghdr *, const void *), const void *obj,
	      mnl_cb_t cb, void *data);
/* payloads of dump requests: a set (GETSET), its elements (GETSETELEM) */
struct nftnl_set;
void nftb_set_payload(struct nlmsghdr *nlh, const void *obj);
void nftb_elems_payload(struct nlmsghdr *nlh, const void *obj);
/* nftb_set_ref - a set of our table by name (NULL: every set) */
struct nftnl_set *nftb_set_ref(const char *name);

/* ---- nft.c */

/* nftb_maps_refresh - which prefix-length maps exist now (p->have) */
int nftb_maps_refresh(struct nftb *p);
/* nftb_run_batch - a batch of what fill() adds, sent and acknowledged */
int nftb_run_batch(struct nftb *p, void (*fill)(struct nftm_buf *, void *),
		   void *arg);

/* ---- nft_dump.c: reading the maps back */

/* entries read from maps of one family and prefix length at a time */
struct nft_rows {
	struct mx_entry *v;
	size_t n, cap;
	int family, plen;
	int64_t now;
};

/* nftb_elems_cb - a GETSETELEM answer's elements into rows (mnl_cb_t) */
int nftb_elems_cb(const struct nlmsghdr *nlh, void *data);
/* nftb_dump_map - every element of one map into rows (reset: zero as read) */
int nftb_dump_map(struct nftb *p, int family, int plen, bool reset,
		  struct nft_rows *rows);
/* nftb_dump_all - every map, as one snapshot (reset: zero as read, once) */
int nftb_dump_all(struct nftb *p, bool reset, struct nft_rows *rows);

/* ---- nft_apply.c */

/* nftb_net_ok - a network a map can hold: the front door's rule */
bool nftb_net_ok(const struct cidr *c);

/* ---- the operations (backend.h), gathered in nft.c's backend_nft_ops */
int nft_status(struct backend *be, struct mx_status *st);
int nft_apply(struct backend *be, const struct mx_entry *add, size_t nadd,
	      const struct cidr *del, size_t ndel);
int nft_dump(struct backend *be, struct mx_entry **out, size_t *n);
int nft_zero_counters(struct backend *be, const struct cidr *nets, size_t n);

#endif /* MXWALL_NFT_INT_H */
