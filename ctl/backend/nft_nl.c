// SPDX-License-Identifier: GPL-2.0
/*
 * nft_nl.c - the nftables backend's netlink socket (NETLINK_NETFILTER,
 * libmnl): open it with extended acks, size its buffers for a batch, send
 * a batch in one go and read an acknowledgement for every message (each
 * error told in words, down to the element the kernel points at), runs of
 * requests that each get one answer, and dumps. What the messages say is
 * nft_msg.c's; what to send when is nft.c's, nft_dump.c's, nft_apply.c's.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>

#include "backend/nft_int.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* how long to wait for the kernel's answers once a request is sent */
#define NFT_REPLY_TIMEOUT_MS 5000
#define NFT_RBUF_SIZE (256 * 1024)

int nftb_nl_open(struct nftb *p)
{
	int one = 1;

	p->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!p->nl)
		return -errno;
	if (mnl_socket_bind(p->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(p->nl);
		p->nl = NULL;
		return err;
	}
	p->portid = mnl_socket_get_portid(p->nl);
	/* errors point at the attribute at fault; acks without the request */
	mnl_socket_setsockopt(p->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(p->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	p->seq = (uint32_t)time(NULL) << 8;
	p->rbuf = xmalloc(NFT_RBUF_SIZE);
	return 0;
}

/* bufsizes - room for a send of len bytes and answers to nmsgs messages */
static void bufsizes(struct nftb *p, size_t len, size_t nmsgs)
{
	int fd = mnl_socket_get_fd(p->nl);
	size_t r = nmsgs * 1024 + (1 << 20);
	int snd, rcv;

	if (len > (1u << 30) || r > (1u << 30))
		r = 1u << 30;
	snd = (int)(len + 65536 > (1u << 30) ? (1u << 30) : len + 65536);
	rcv = (int)r;
	/* FORCE: above net.core.[rw]mem_max, as nft does for big batches */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

/* nl_drain - drop answers left over by a request that stopped early */
static void nl_drain(struct nftb *p)
{
	while (recv(mnl_socket_get_fd(p->nl), p->rbuf, NFT_RBUF_SIZE,
		    MSG_DONTWAIT) > 0)
		;
}

int nftb_nl_send(struct nftb *p, const struct nftm_buf *b)
{
	ssize_t n;

	nl_drain(p);
	n = mnl_socket_sendto(p->nl, b->data, b->len);

	if (n < 0)
		return -errno;
	if ((size_t)n != b->len)
		return -EMSGSIZE;
	return 0;
}

/* nl_recv - one datagram, waiting at most the reply timeout */
ssize_t nftb_nl_recv(struct nftb *p)
{
	struct pollfd pfd = {.fd = mnl_socket_get_fd(p->nl), .events = POLLIN};
	ssize_t n;
	int r;

	do {
		r = poll(&pfd, 1, NFT_REPLY_TIMEOUT_MS);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	n = mnl_socket_recvfrom(p->nl, p->rbuf, NFT_RBUF_SIZE);
	if (n < 0)
		return -errno;
	return n;
}

/* ext-ack attributes of an error message */
struct ext_ack {
	const char *msg;
	uint32_t off;
	bool have_off;
};

static void ext_ack_parse(const struct nlmsghdr *nlh, struct ext_ack *x)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off;

	memset(x, 0, sizeof(*x));
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* with NETLINK_CAP_ACK only the request's header is echoed */
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	off = MNL_ALIGN(off);
	if (MNL_NLMSG_HDRLEN + off > nlh->nlmsg_len)
		return;
	mnl_attr_for_each_payload((const void *)((const char *)e + off),
				  nlh->nlmsg_len - MNL_NLMSG_HDRLEN - off)
	{
		const struct nlattr *a = attr;

		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			x->msg = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == NLMSGERR_ATTR_OFFS &&
			 !mnl_attr_validate(a, MNL_TYPE_U32)) {
			x->off = mnl_attr_get_u32(a);
			x->have_off = true;
		}
	}
}

/*
 * elem_at - which element of an element message the error offset points
 * into: walk NFTA_SET_ELEM_LIST_ELEMENTS of the request as sent
 */
static long elem_at(const struct nftm_buf *b, const struct nftm_rec *r,
		    uint32_t off)
{
	const struct nlmsghdr *nlh = (const void *)(b->data + r->off);
	const struct nlattr *a, *el;
	long i = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, a)
		{
			size_t s = (const char *)el - (const char *)nlh;

			if (off >= s && off < s + el->nla_len)
				return i;
			i++;
		}
	}
	return -1;
}

/* err_words - the kernel's errno in the words of this backend */
static const char *err_words(const struct nftm_rec *r, int err)
{
	bool elems = r && r->elems;

	switch (-err) {
	case ENOENT:
		if (elems && !strcmp(r->what, "delete"))
			return "no such entry";
		if (r && !strcmp(r->what, "detach from interface"))
			return "not attached to this interface";
		return "the mxwall table or one of its parts is missing (run "
		       "'mxwall attach IFACE')";
	case EEXIST:
		return "already exists";
	case EBUSY:
		return "busy: in use by a rule, or changed by another process "
		       "at the same time";
	case ENFILE:
	case ENOSPC:
	case E2BIG:
		return "table full";
	case EOVERFLOW:
		return "overlaps an existing interval";
	case EPERM:
		return "permission denied: needs CAP_NET_ADMIN";
	case EOPNOTSUPP:
		return "not supported by this kernel";
	default:
		return strerror(-err);
	}
}

/* report - one line per failed message, naming the element if we can */
static void report(const struct nftm_buf *b, const struct nftm_rec *r, int err,
		   const struct ext_ack *x)
{
	char net[CIDR_STRLEN] = "";
	long i = -1;

	if (r && r->elems && x->have_off)
		i = elem_at(b, r, x->off);
	if (r && r->elems && i < 0 && r->nelems == 1)
		i = 0;
	if (r && r->elems && i >= 0 && (size_t)i < r->nelems)
		cidr_format(&r->elems[i].net, net, sizeof(net));
	log_err("nft: %s%s%s%s%s: %s%s%s", r ? r->what : "batch",
		net[0] ? " " : "", net,
		r && r->obj[0] ? (r->elems ? " in " : " ") : "",
		r ? r->obj : "", err_words(r, err), x->msg ? ": " : "",
		x->msg ? x->msg : "");
}

/*
 * batch_talk - send a batch in one go and read an acknowledgement for every
 * message; returns 0 or the first error, each error reported in words
 */
int nftb_batch_talk(struct nftb *p, struct nftm_buf *b)
{
	size_t acked = 0;
	int first = 0, err;

	bufsizes(p, b->len, b->nrecs);
	err = nftb_nl_send(p, b);
	if (err)
		return err;
	while (acked < b->nrecs) {
		const struct nlmsghdr *nlh;
		ssize_t n = nftb_nl_recv(p);
		int len;

		if (n < 0) {
			if (n == -ENOBUFS)
				log_err("nft: acknowledgements were lost "
					"(socket buffer too small)");
			return first ? first : (int)n;
		}
		len = (int)n;
		for (nlh = (const void *)p->rbuf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;
			const struct nftm_rec *r;
			struct ext_ack x;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			r = nftm_rec_find(b, nlh->nlmsg_seq);
			if (r)
				acked++;
			if (!e->error)
				continue;
			ext_ack_parse(nlh, &x);
			report(b, r, e->error, &x);
			if (!first)
				first = e->error;
			/* an error on batch begin or end: nothing else comes */
			if (!r)
				return first;
		}
	}
	return first;
}

/*
 * requests - send requests that each get one answer (a message or an
 * error), and hand each answer to cb
 */
int nftb_requests(struct nftb *p, struct nftm_buf *b, nftb_reply_cb cb,
		  void *data)
{
	size_t answered = 0;
	int err;

	bufsizes(p, b->len, b->nrecs * 2);
	err = nftb_nl_send(p, b);
	if (err)
		return err;
	while (answered < b->nrecs) {
		const struct nlmsghdr *nlh;
		ssize_t n = nftb_nl_recv(p);
		int len;

		if (n < 0)
			return (int)n;
		len = (int)n;
		for (nlh = (const void *)p->rbuf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nftm_rec *r;
			int e = 0;

			r = nftm_rec_find(b, nlh->nlmsg_seq);
			if (!r)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				e = ((const struct nlmsgerr *)
					 mnl_nlmsg_get_payload(nlh))
					->error;
				if (!e)
					continue; /* a plain ack */
			}
			answered++;
			err = cb(nlh, r, e, data);
			if (err)
				return err;
		}
	}
	return 0;
}

/* dump - one dump request; cb sees every message until NLMSG_DONE */
int nftb_dump(struct nftb *p, uint16_t cmd,
	      void (*payload)(struct nlmsghdr *, const void *), const void *obj,
	      mnl_cb_t cb, void *data)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t seq = p->seq++;
	int ret;

	nlh = nftnl_nlmsg_build_hdr(req, cmd, NFTM_FAMILY,
				    NLM_F_DUMP | NLM_F_ACK, seq);
	if (payload)
		payload(nlh, obj);
	nl_drain(p);
	if (mnl_socket_sendto(p->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = nftb_nl_recv(p);

		if (n < 0)
			return (int)n;
		ret = mnl_cb_run(p->rbuf, (size_t)n, seq, p->portid, cb, data);
		if (ret < 0)
			return errno ? -errno : -EIO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

void nftb_set_payload(struct nlmsghdr *nlh, const void *obj)
{
	nftnl_set_nlmsg_build_payload(nlh, (struct nftnl_set *)obj);
}

void nftb_elems_payload(struct nlmsghdr *nlh, const void *obj)
{
	nftnl_set_elems_nlmsg_build_payload(nlh, (struct nftnl_set *)obj);
}

struct nftnl_set *nftb_set_ref(const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		log_panic("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTM_TABLE);
	if (name)
		nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	return s;
}
