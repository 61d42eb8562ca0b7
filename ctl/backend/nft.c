// SPDX-License-Identifier: GPL-2.0
/*
 * backend_nft.c - the nftables backend: table netdev mxwall, driven through
 * libnftnl and libmnl on a NETLINK_NETFILTER socket (never the nft binary).
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
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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
#include "backend/nft_msg.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* how long to wait for the kernel's answers once a request is sent */
#define NFT_REPLY_TIMEOUT_MS 5000
/* GET requests sent per round, so that the answers fit the socket buffer */
#define NFT_GETS_PER_ROUND 512
#define NFT_RBUF_SIZE (256 * 1024)

struct nftb {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	bool have[2][129];   /* maps present: [0] IPv4, [1] IPv6 */
	bool no_tmo[2][129]; /* made by an older mxwall: no element timeouts */
	char *rbuf;	     /* receive buffer, NFT_RBUF_SIZE */
};

static int fam_idx(int family)
{
	return family == AF_INET ? 0 : 1;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- the socket ---- */

static int nl_open(struct nftb *p)
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

static int nl_send(struct nftb *p, const struct nftm_buf *b)
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
static ssize_t nl_recv(struct nftb *p)
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
static int batch_talk(struct nftb *p, struct nftm_buf *b)
{
	size_t acked = 0;
	int first = 0, err;

	bufsizes(p, b->len, b->nrecs);
	err = nl_send(p, b);
	if (err)
		return err;
	while (acked < b->nrecs) {
		const struct nlmsghdr *nlh;
		ssize_t n = nl_recv(p);
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

/* a reply to one request of a run: data (err 0) or the error */
typedef int (*reply_cb)(const struct nlmsghdr *nlh, const struct nftm_rec *r,
			int err, void *data);

/*
 * requests - send requests that each get one answer (a message or an
 * error), and hand each answer to cb
 */
static int requests(struct nftb *p, struct nftm_buf *b, reply_cb cb, void *data)
{
	size_t answered = 0;
	int err;

	bufsizes(p, b->len, b->nrecs * 2);
	err = nl_send(p, b);
	if (err)
		return err;
	while (answered < b->nrecs) {
		const struct nlmsghdr *nlh;
		ssize_t n = nl_recv(p);
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
static int dump(struct nftb *p, uint16_t cmd,
		void (*payload)(struct nlmsghdr *, const void *),
		const void *obj, mnl_cb_t cb, void *data)
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
		ssize_t n = nl_recv(p);

		if (n < 0)
			return (int)n;
		ret = mnl_cb_run(p->rbuf, (size_t)n, seq, p->portid, cb, data);
		if (ret < 0)
			return errno ? -errno : -EIO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

/* a dump that a concurrent change interrupted is read again */
#define DUMP_RETRIES 5

/* ---- maps present ---- */

static void set_payload(struct nlmsghdr *nlh, const void *obj)
{
	nftnl_set_nlmsg_build_payload(nlh, (struct nftnl_set *)obj);
}

static void elems_payload(struct nlmsghdr *nlh, const void *obj)
{
	nftnl_set_elems_nlmsg_build_payload(nlh, (struct nftnl_set *)obj);
}

static struct nftnl_set *set_ref(const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		log_panic("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTM_TABLE);
	if (name)
		nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	return s;
}

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
		}
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* maps_refresh - which prefix-length maps exist now */
static int maps_refresh(struct nftb *p)
{
	struct nftnl_set *s = set_ref(NULL);
	int err;

	memset(p->have, 0, sizeof(p->have));
	memset(p->no_tmo, 0, sizeof(p->no_tmo));
	err = dump(p, NFT_MSG_GETSET, set_payload, s, maps_cb, p);
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
		n = nl_recv(p);
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

	err = nl_open(p);
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
		err = batch_talk(p, &b);
		p->seq = b.seq;
		nftm_free(&b);
		/* made by another process meanwhile: fine */
		if (err == -EEXIST)
			err = 0;
	}
	if (!err)
		err = maps_refresh(p);
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

/* run_batch - a batch of what fill() adds, sent and acknowledged */
static int run_batch(struct nftb *p, void (*fill)(struct nftm_buf *, void *),
		     void *arg)
{
	struct nftm_buf b;
	int err;

	nftm_init(&b, p->seq);
	nftm_batch_begin(&b);
	fill(&b, arg);
	nftm_batch_end(&b);
	err = batch_talk(p, &b);
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

	/* a table made by an older mxwall gets the fragment rules here */
	for (f = 0; f < 2; f++)
		for (plen = 1; plen <= (f ? 128 : 32); plen++)
			if (a->p->have[f][plen])
				plens[f][n[f]++] = (uint8_t)plen;
	nftm_frag_chains_upgrade(b, plens[0], n[0], plens[1], n[1]);
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

static int read_ifaces(struct nftb *p, struct mx_status *st)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct ifaces_ctx c = {st};
	int err, tries = 0;

	if (!ch)
		log_panic("out of memory");
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, NFTM_TABLE);
	do {
		st->nifaces = 0;
		err =
		    dump(p, NFT_MSG_GETCHAIN, table_payload, ch, chains_cb, &c);
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
	err = read_ifaces(p, &st);
	if (err)
		return err;
	for (i = 0; i < st.nifaces; i++)
		if (!strcmp(st.ifaces[i].name, ifname))
			a.ifname = NULL; /* attached already: rules only */
	if (a.ifname && st.nifaces >= MX_IFACES_MAX)
		return -ENOSPC;
	return run_batch(p, fill_attach, &a);
}

static int nft_detach(struct backend *be, const char *ifname)
{
	return run_batch(be->priv, fill_detach, (void *)ifname);
}

static int nft_set_config(struct backend *be, const struct mx_dp_config *cfg)
{
	if (cfg->nports > MX_PORTS_MAX)
		return -EINVAL;
	return run_batch(be->priv, fill_config, (void *)cfg);
}

static int nft_destroy(struct backend *be)
{
	struct nftb *p = be->priv;
	int err = table_exists(p);

	/* gone already: nothing to do, and nothing to complain about */
	if (err == -ENOENT)
		return 0;
	if (!err)
		err = run_batch(p, fill_destroy, NULL);
	if (err == -ENOENT)
		err = 0;
	if (!err)
		memset(p->have, 0, sizeof(p->have));
	return err;
}

/* ---- reading elements ---- */

struct rows {
	struct mx_entry *v;
	size_t n, cap;
	int family, plen;
	int64_t now;
};

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rows *rows = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	it = nftnl_set_elems_iter_create(s);
	if (!it)
		log_panic("out of memory");
	/* iter_next returns the current element, then moves on */
	while ((el = nftnl_set_elems_iter_next(it))) {
		struct mx_entry e;

		if (nftm_elem_to_entry(el, rows->family, rows->plen, rows->now,
				       &e))
			continue;
		if (rows->n == rows->cap) {
			rows->cap = rows->cap ? rows->cap * 2 : 256;
			rows->v =
			    xreallocarray(rows->v, rows->cap, sizeof(*rows->v));
		}
		rows->v[rows->n++] = e;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* dump_map - every element of one map into rows (reset: zero as read) */
static int dump_map(struct nftb *p, int family, int plen, bool reset,
		    struct rows *rows)
{
	int shard, err = 0;

	rows->family = family;
	rows->plen = plen;
	for (shard = 0; shard < nftm_shards(plen) && !err; shard++) {
		struct nftnl_set *s;
		char name[32];

		nftm_map_name(name, sizeof(name), family, plen, shard);
		s = set_ref(name);
		err = dump(
		    p, reset ? NFTM_MSG_GETSETELEM_RESET : NFT_MSG_GETSETELEM,
		    elems_payload, s, elems_cb, rows);
		nftnl_set_free(s);
	}
	return err;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(
	    a, nlh,
	    sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) == NFTA_GEN_ID &&
					 !mnl_attr_validate(a, MNL_TYPE_U32)) *
	    (uint32_t *)data = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

/* gen_id - the ruleset generation: it moves with every committed batch */
static int gen_id(struct nftb *p, uint32_t *id)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t seq = p->seq++;
	int ret;

	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETGEN, AF_UNSPEC, 0, seq);
	if (mnl_socket_sendto(p->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = nl_recv(p);

		if (n < 0)
			return (int)n;
		errno = 0;
		ret =
		    mnl_cb_run(p->rbuf, (size_t)n, seq, p->portid, gen_cb, id);
		if (ret < 0)
			return errno ? -errno : -EIO;
		/* one NEWGEN message, no ack asked */
		return 0;
	}
}

static int dump_maps(struct nftb *p, bool reset, struct rows *rows);

/*
 * barrier - wait until no batch is being committed: a batch, even an empty
 * one, is processed under the commit mutex inside sendmsg(), so sending
 * one returns only once any commit in progress has finished
 */
static int barrier(struct nftb *p)
{
	struct nftm_buf b;
	int err;

	nftm_init(&b, p->seq);
	nftm_batch_begin(&b);
	nftm_batch_end(&b);
	err = nl_send(p, &b);
	p->seq = b.seq;
	nftm_free(&b);
	return err;
}

static int dump_cmp(const void *a, const void *b)
{
	return cidr_cmp(&((const struct mx_entry *)a)->net,
			&((const struct mx_entry *)b)->net);
}

/* has_twins - an entry read twice: the dump walked a changing set */
static bool has_twins(struct rows *rows)
{
	size_t i;

	qsort(rows->v, rows->n, sizeof(*rows->v), dump_cmp);
	for (i = 1; i < rows->n; i++)
		if (!cidr_cmp(&rows->v[i - 1].net, &rows->v[i].net))
			return true;
	return false;
}

/*
 * dump_all - every map, as one snapshot. The maps are read one after the
 * other, each in several parts, while another process may commit a batch.
 * The generation moves at the start of a commit's last phase, which then
 * still removes and links elements (a dump that resumes by position skips
 * or repeats some), so: the generation, a barrier (a commit under way
 * finishes), the dump, a barrier again (one that started meanwhile
 * finishes and has moved the generation), the generation again. Equal:
 * no batch changed the maps during the read. Else (or an entry read twice)
 * the whole read is done again.
 */
static int dump_all(struct nftb *p, bool reset, struct rows *rows)
{
	uint32_t g0 = 0, g1 = 0;
	int tries, err;

	for (tries = 0; tries < DUMP_RETRIES * 4; tries++) {
		rows->n = 0;
		err = gen_id(p, &g0);
		if (!err)
			err = barrier(p);
		if (!err)
			err = dump_maps(p, reset, rows);
		if (!err)
			err = barrier(p);
		if (!err)
			err = gen_id(p, &g1);
		/* a reset is not repeated: counters read and zeroed stay so */
		if (err || reset)
			return err;
		if (g0 == g1 && !has_twins(rows))
			return 0;
		err = maps_refresh(p);
		if (err)
			return err;
	}
	return -EBUSY;
}

static int dump_maps(struct nftb *p, bool reset, struct rows *rows)
{
	int f, plen, err;

	for (f = 0; f < 2; f++)
		for (plen = 1; plen <= (f ? 128 : 32); plen++) {
			if (!p->have[f][plen])
				continue;
			err = dump_map(p, f ? AF_INET6 : AF_INET, plen, reset,
				       rows);
			/* removed by another process meanwhile */
			if (err == -ENOENT)
				continue;
			if (err)
				return err;
		}
	return 0;
}

static int nft_dump(struct backend *be, struct mx_entry **out, size_t *n)
{
	struct nftb *p = be->priv;
	struct rows rows = {.now = now_s()};
	int err;

	err = maps_refresh(p);
	if (!err)
		err = dump_all(p, false, &rows);
	if (err) {
		free(rows.v);
		return err;
	}
	*out = rows.v;
	*n = rows.n;
	return 0;
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

static int nft_status(struct backend *be, struct mx_status *st)
{
	struct nftb *p = be->priv;
	uint64_t v[NFTM_CNT_MAX] = {0};
	struct rows rows = {.now = now_s()};
	struct nftnl_obj *o;
	struct nftnl_rule *r;
	struct nftnl_set *s;
	size_t i;
	int err;

	st->backend = "nft";
	snprintf(st->why, sizeof(st->why), "%s", be->why);
	err = read_ifaces(p, st);
	if (err)
		return err;

	o = nftnl_obj_alloc();
	if (!o)
		log_panic("out of memory");
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NFTM_TABLE);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	err = dump(p, NFT_MSG_GETOBJ, obj_payload, o, ctr_cb, v);
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
	s = set_ref(NFTM_SET_PORTS);
	err = dump(p, NFT_MSG_GETSETELEM, elems_payload, s, ports_cb, &st->cfg);
	nftnl_set_free(s);
	if (err)
		return err;
	r = nftnl_rule_alloc();
	if (!r)
		log_panic("out of memory");
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFTM_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFTM_CHAIN_DROP);
	err = dump(p, NFT_MSG_GETRULE, rule_payload, r, drop_rule_cb,
		   &st->cfg.observe);
	nftnl_rule_free(r);
	if (err)
		return err;

	err = maps_refresh(p);
	if (!err)
		err = dump_all(p, false, &rows);
	if (err) {
		free(rows.v);
		return err;
	}
	st->entries_static = st->entries_dynamic = 0;
	for (i = 0; i < rows.n; i++) {
		if (rows.v[i].origin == MX_ORIGIN_STATIC)
			st->entries_static++;
		else
			st->entries_dynamic++;
	}
	free(rows.v);
	/* sets have no fixed size: memory is the limit */
	st->capacity = 0;
	return 0;
}

/* ---- apply ---- */

/* key_cmp - map order: family, prefix length, shard, then address */
static int key_cmp(const struct cidr *x, const struct cidr *y)
{
	int a, b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	a = nftm_shard_of(x);
	b = nftm_shard_of(y);
	if (a != b)
		return a < b ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

static int elem_cmp(const void *a, const void *b)
{
	const struct nftm_elem *x = a, *y = b;
	int c = key_cmp(&x->net, &y->net);

	if (c)
		return c;
	/* the later of two equal entries wins: keep the input order */
	return x->e < y->e ? -1 : x->e > y->e;
}

static bool net_ok(const struct cidr *c)
{
	struct cidr m = *c;

	if (c->family == AF_INET)
		return c->plen >= 1 && c->plen <= 32 && !cidr_mask(&m);
	if (c->family == AF_INET6)
		return c->plen >= 1 && c->plen <= 128 && !cidr_mask(&m);
	return false;
}

/* dedupe - sorted elements, keeping the last of each equal run */
static size_t dedupe(struct nftm_elem *v, size_t n)
{
	size_t i, out = 0;

	for (i = 0; i < n; i++) {
		if (i + 1 < n && !cidr_cmp(&v[i].net, &v[i + 1].net))
			continue;
		v[out++] = v[i];
	}
	return out;
}

static bool in_sorted(const struct nftm_elem *v, size_t n, const struct cidr *c)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = key_cmp(&v[mid].net, c);

		if (!r)
			return true;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* same_entry - nothing to change: action, mark and metadata are equal */
static bool same_entry(const struct mx_entry *a, const struct mx_entry *b)
{
	return a->action == b->action && a->observe == b->observe &&
	       a->origin == b->origin && a->added == b->added &&
	       a->expires == b->expires && !strcmp(a->tags, b->tags);
}

struct lookup_ctx {
	struct nftm_elem *adds;
	bool *found;
	struct mx_entry *old;
	const struct nftm_buf *b;
	size_t base;	     /* adds index of the first request */
	const size_t *which; /* request k -> adds index */
	int64_t now;
};

static int lookup_cb(const struct nlmsghdr *nlh, const struct nftm_rec *r,
		     int err, void *data)
{
	struct lookup_ctx *c = data;
	size_t k = (size_t)(r - c->b->recs), i = c->which[k];
	struct rows rows = {.now = c->now};

	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	rows.family = c->adds[i].net.family;
	rows.plen = c->adds[i].net.plen;
	elems_cb(nlh, &rows);
	if (rows.n == 1) {
		c->found[i] = true;
		c->old[i] = rows.v[0];
	}
	free(rows.v);
	return 0;
}

/*
 * lookup_existing - which adds are already entries, and their counters:
 * GET requests in rounds, answered one by one
 */
static int lookup_existing(struct nftb *p, struct nftm_elem *adds, size_t nadd,
			   bool *found, struct mx_entry *old)
{
	size_t which[NFT_GETS_PER_ROUND];
	struct lookup_ctx c = {adds, found, old, NULL, 0, which, now_s()};
	size_t i = 0;
	int err = 0;

	while (i < nadd && !err) {
		struct nftm_buf b;
		size_t k = 0;

		nftm_init(&b, p->seq);
		for (; i < nadd && k < NFT_GETS_PER_ROUND; i++) {
			const struct cidr *n = &adds[i].net;
			uint8_t key[16];
			char name[32];

			if (!p->have[fam_idx(n->family)][n->plen])
				continue;
			nftm_map_name(name, sizeof(name), n->family, n->plen,
				      nftm_shard_of(n));
			nftm_elem_get(&b, name, key, nftm_key(n, key), false);
			which[k++] = i;
		}
		p->seq = b.seq;
		if (k) {
			c.b = &b;
			err = requests(p, &b, lookup_cb, &c);
		}
		nftm_free(&b);
	}
	return err;
}

static int row_cmp(const void *a, const void *b)
{
	return key_cmp(&((const struct mx_entry *)a)->net,
		       &((const struct mx_entry *)b)->net);
}

/*
 * lookup_by_dump - the same answer as lookup_existing for many adds: read
 * each map that has adds whole and merge (adds are sorted by map, then
 * address), which beats one request per entry for a bulk load
 */
static int lookup_by_dump(struct nftb *p, struct nftm_elem *adds, size_t nadd,
			  bool *found, struct mx_entry *old)
{
	size_t i = 0, j;
	int err;

	while (i < nadd) {
		const struct cidr *n = &adds[i].net;
		struct rows rows = {.now = now_s()};
		size_t end = i, r = 0;

		while (end < nadd && adds[end].net.family == n->family &&
		       adds[end].net.plen == n->plen)
			end++;
		if (!p->have[fam_idx(n->family)][n->plen]) {
			i = end;
			continue;
		}
		err = dump_map(p, n->family, n->plen, false, &rows);
		if (err && err != -ENOENT) {
			free(rows.v);
			return err;
		}
		qsort(rows.v, rows.n, sizeof(*rows.v), row_cmp);
		for (j = i; j < end; j++) {
			int c = 1;

			while (r < rows.n &&
			       (c = key_cmp(&rows.v[r].net, &adds[j].net)) < 0)
				r++;
			if (r < rows.n && !c) {
				found[j] = true;
				old[j] = rows.v[r];
			}
		}
		free(rows.v);
		i = end;
	}
	return 0;
}

/* above this many adds, reading the maps whole is cheaper than asking */
#define NFT_LOOKUP_DUMP_MIN 2048

struct apply_plan {
	struct nftm_elem *dels;
	size_t ndel;
	struct nftm_elem *adds;
	size_t nadd;
	bool newmap[2][129]; /* maps this batch creates */
	bool maps[2][129];   /* maps after the batch */
};

/* plen_run - end of the run of elements with the same family and length */
static size_t plen_run(const struct nftm_elem *v, size_t i, size_t n)
{
	size_t j = i;

	while (j < n && v[j].net.family == v[i].net.family &&
	       v[j].net.plen == v[i].net.plen)
		j++;
	return j;
}

static void fill_apply(struct nftm_buf *b, void *arg)
{
	struct apply_plan *pl = arg;
	size_t i, j;
	int f, plen;

	for (f = 0; f < 2; f++) {
		uint8_t plens[129];
		size_t n = 0;
		bool any = false;

		for (plen = 1; plen <= (f ? 128 : 32); plen++) {
			if (pl->newmap[f][plen]) {
				nftm_map_add(b, f ? AF_INET6 : AF_INET, plen);
				any = true;
			}
			if (pl->maps[f][plen])
				plens[n++] = (uint8_t)plen;
		}
		/* a new map: the syn chain gets its lookups again, longest
		 * first, in the same batch (packets see the old chain or the
		 * new one, never a mix) */
		if (any) {
			nftm_syn_chain_rebuild(b, f ? AF_INET6 : AF_INET, plens,
					       n);
			nftm_frag_chain_rebuild(b, f ? AF_INET6 : AF_INET,
						plens, n);
		}
	}
	/* deletions first: a replaced entry is deleted, then added again */
	for (i = 0; i < pl->ndel; i = j) {
		j = plen_run(pl->dels, i, pl->ndel);
		nftm_elems(b, false, pl->dels[i].net.family,
			   pl->dels[i].net.plen, &pl->dels[i], j - i);
	}
	for (i = 0; i < pl->nadd; i = j) {
		j = plen_run(pl->adds, i, pl->nadd);
		nftm_elems(b, true, pl->adds[i].net.family,
			   pl->adds[i].net.plen, &pl->adds[i], j - i);
	}
}

static int nft_apply(struct backend *be, const struct mx_entry *add,
		     size_t nadd, const struct cidr *del, size_t ndel)
{
	struct nftb *p = be->priv;
	struct apply_plan pl;
	struct mx_entry *old = NULL;
	bool *found = NULL;
	char net[CIDR_STRLEN];
	size_t i, na, nd, out;
	int64_t now;
	int err = 0;

	if (!nadd && !ndel)
		return 0;
	for (i = 0; i < nadd; i++)
		if (!net_ok(&add[i].net) || (add[i].action != MX_ACT_DROP &&
					     add[i].action != MX_ACT_ALLOW))
			return -EINVAL;
	for (i = 0; i < ndel; i++)
		if (!net_ok(&del[i]))
			return -EINVAL;
	memset(&pl, 0, sizeof(pl));
	pl.adds = xcalloc(nadd ? nadd : 1, sizeof(*pl.adds));
	for (i = 0; i < nadd; i++) {
		pl.adds[i].net = add[i].net;
		pl.adds[i].e = &add[i];
	}
	qsort(pl.adds, nadd, sizeof(*pl.adds), elem_cmp);
	na = dedupe(pl.adds, nadd);
	/* room for the explicit deletions and one per replaced entry */
	pl.dels = xcalloc(ndel + na + 1, sizeof(*pl.dels));
	for (i = 0; i < ndel; i++)
		pl.dels[i].net = del[i];
	qsort(pl.dels, ndel, sizeof(*pl.dels), elem_cmp);
	nd = dedupe(pl.dels, ndel);

	err = maps_refresh(p);
	if (err)
		goto out;
	/*
	 * the ttl in the kernel too: the element stops matching at expiry
	 * with or without a watcher (a map from an older mxwall takes no
	 * timeouts: the watcher removes those entries)
	 */
	now = now_s();
	for (i = 0; i < na; i++) {
		const struct mx_entry *e = pl.adds[i].e;

		if (e->expires > 0 &&
		    !p->no_tmo[fam_idx(e->net.family)][e->net.plen])
			pl.adds[i].timeout_ms =
			    (uint64_t)(e->expires > now ? e->expires - now
							: 1) *
			    1000;
	}
	for (i = 0; i < nd; i++) {
		const struct cidr *c = &pl.dels[i].net;

		if (!p->have[fam_idx(c->family)][c->plen]) {
			log_err("nft: delete %s: no such entry",
				cidr_format(c, net, sizeof(net)));
			err = -ENOENT;
			goto out;
		}
	}
	found = xcalloc(na + 1, sizeof(*found));
	old = xcalloc(na + 1, sizeof(*old));
	if (na >= NFT_LOOKUP_DUMP_MIN)
		err = lookup_by_dump(p, pl.adds, na, found, old);
	else
		err = lookup_existing(p, pl.adds, na, found, old);
	if (err)
		goto out;

	memcpy(pl.maps, p->have, sizeof(pl.maps));
	out = 0;
	for (i = 0; i < na; i++) {
		struct nftm_elem *x = &pl.adds[i];
		int f = fam_idx(x->net.family);

		if (found[i] && !in_sorted(pl.dels, nd, &x->net)) {
			if (same_entry(x->e, &old[i]))
				continue; /* nothing to change */
			/* replace: same counters, new verdict and metadata */
			x->carry = true;
			x->packets = old[i].packets;
			x->bytes = old[i].bytes;
			pl.dels[nd + pl.ndel++].net = x->net;
		}
		if (!pl.maps[f][x->net.plen]) {
			pl.maps[f][x->net.plen] = true;
			pl.newmap[f][x->net.plen] = true;
		}
		pl.adds[out++] = *x;
	}
	pl.ndel += nd;
	pl.nadd = out;
	/* replaced entries joined the deletions: group them by map again */
	qsort(pl.dels, pl.ndel, sizeof(*pl.dels), elem_cmp);
	if (!pl.nadd && !pl.ndel)
		goto out;
	err = run_batch(p, fill_apply, &pl);
	if (!err)
		memcpy(p->have, pl.maps, sizeof(p->have));
out:
	free(found);
	free(old);
	free(pl.adds);
	free(pl.dels);
	return err;
}

/* ---- zero_counters, seen ---- */

struct missing_ctx {
	const struct nftm_buf *b;
	const struct cidr *nets;
	const size_t *which;
	int err;
};

static int reset_cb(const struct nlmsghdr *nlh, const struct nftm_rec *r,
		    int err, void *data)
{
	struct missing_ctx *c = data;
	char net[CIDR_STRLEN];

	(void)nlh;
	if (!err)
		return 0;
	cidr_format(&c->nets[c->which[r - c->b->recs]], net, sizeof(net));
	log_err("nft: zero counters of %s: %s", net,
		err == -ENOENT ? "no such entry" : strerror(-err));
	if (!c->err)
		c->err = err;
	return 0;
}

static int nft_zero_counters(struct backend *be, const struct cidr *nets,
			     size_t n)
{
	struct nftb *p = be->priv;
	size_t which[NFT_GETS_PER_ROUND];
	struct missing_ctx c = {NULL, nets, which, 0};
	struct rows rows = {.now = now_s()};
	size_t i = 0;
	int err;

	err = maps_refresh(p);
	if (err)
		return err;
	if (!n) {
		/* GETSETELEM_RESET dumps and zeroes each map (Linux 6.5) */
		err = dump_all(p, true, &rows);
		free(rows.v);
		return err;
	}
	while (i < n && !err) {
		struct nftm_buf b;
		size_t k = 0;

		nftm_init(&b, p->seq);
		for (; i < n && k < NFT_GETS_PER_ROUND; i++) {
			uint8_t key[16];
			char name[32];

			if (!net_ok(&nets[i]))
				continue;
			if (!p->have[fam_idx(nets[i].family)][nets[i].plen]) {
				char net[CIDR_STRLEN];

				log_err(
				    "nft: zero counters of %s: no such entry",
				    cidr_format(&nets[i], net, sizeof(net)));
				if (!c.err)
					c.err = -ENOENT;
				continue;
			}
			nftm_map_name(name, sizeof(name), nets[i].family,
				      nets[i].plen, nftm_shard_of(&nets[i]));
			nftm_elem_get(&b, name, key, nftm_key(&nets[i], key),
				      true);
			which[k++] = i;
		}
		p->seq = b.seq;
		if (k) {
			c.b = &b;
			err = requests(p, &b, reset_cb, &c);
		}
		nftm_free(&b);
	}
	return err ? err : c.err;
}

struct seen_ctx {
	int64_t when;
	bool found;
};

static int seen_cb(const struct nlmsghdr *nlh, const struct nftm_rec *r,
		   int err, void *data)
{
	struct seen_ctx *c = data;
	struct nftnl_set *s;
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	(void)r;
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	s = nftnl_set_alloc();
	if (!s)
		log_panic("out of memory");
	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0) {
		it = nftnl_set_elems_iter_create(s);
		if (!it)
			log_panic("out of memory");
		el = nftnl_set_elems_iter_cur(it);
		if (el &&
		    nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_EXPIRATION)) {
			uint64_t left = nftnl_set_elem_get_u64(
			    el, NFTNL_SET_ELEM_EXPIRATION);
			uint64_t tmo = NFTM_RECENT_TIMEOUT_MS;

			if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_TIMEOUT))
				tmo = nftnl_set_elem_get_u64(
				    el, NFTNL_SET_ELEM_TIMEOUT);
			/* each SYN renews the timeout: the last SYN came
			 * (timeout - left) ago */
			c->when =
			    now_s() -
			    (int64_t)((tmo > left ? tmo - left : 0) / 1000);
			c->found = true;
		}
		nftnl_set_elems_iter_destroy(it);
	}
	nftnl_set_free(s);
	return 0;
}

static int nft_seen(struct backend *be, const struct cidr *host, int64_t *when)
{
	struct nftb *p = be->priv;
	struct seen_ctx c = {0, false};
	struct nftm_buf b;
	uint8_t key[16];
	int err;

	if (host->family != AF_INET && host->family != AF_INET6)
		return -EINVAL;
	nftm_init(&b, p->seq);
	nftm_elem_get(&b, host->family == AF_INET ? "recent4" : "recent6", key,
		      nftm_key(host, key), false);
	p->seq = b.seq;
	err = requests(p, &b, seen_cb, &c);
	nftm_free(&b);
	if (err)
		return err;
	if (!c.found)
		return -ENOENT;
	*when = c.when;
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
    .seen = nft_seen,
    .destroy = nft_destroy,
};
