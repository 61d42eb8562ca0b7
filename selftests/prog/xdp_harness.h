/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xdp_harness.h - shared by the BPF_PROG_TEST_RUN tests (selftests/prog)
 * and the benchmark (selftests/bench/bench_xdp.c): a throw-away pin
 * directory populated through the real backend_xdp ops, the program loaded
 * over those pins, and a packet builder for described frames.
 *
 * Promises: everything lives under /sys/fs/bpf/mxwall-test-<pid>-<n> and
 * xh_teardown() removes it; nothing touches an interface.
 */
#ifndef MXWALL_XDP_HARNESS_H
#define MXWALL_XDP_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend/backend.h"
#include "backend/xdp.h"
#include "core/cidr.h"
#include "core/mxwall.h"
#include "core/testhook.h"
#include "mxwall.skel.h"
#include "mxwall_shared.h"

struct xh {
	struct backend be;
	char pin_dir[128];
	char state_dir[128];
	struct mxwall_bpf *skel;
	int prog_fd;
	int cfg_fd;
};

/*
 * xh_setup_max - a fresh pin dir with first tables for cap4 IPv4 entries
 * (0: the default), growing up to max4 (0: the default most), and the
 * program loaded
 */
/* xh_set_hooks - the test hook capacity=N[/MAX] (core/testhook.h), or none */
static inline void xh_set_hooks(const char *capacity)
{
	char hooks[64];

	if (capacity) {
		snprintf(hooks, sizeof(hooks), "capacity=%s", capacity);
		setenv(MX_TEST_HOOKS_ENV, hooks, 1);
	} else {
		unsetenv(MX_TEST_HOOKS_ENV);
	}
	mx_test_hooks_reset();
}

static inline int xh_setup_max(struct xh *h, unsigned int cap4,
			       unsigned int max4)
{
	static int seq;
	char capbuf[32], path[256];
	int err;

	memset(h, 0, sizeof(*h));
	snprintf(h->pin_dir, sizeof(h->pin_dir),
		 "/sys/fs/bpf/mxwall-test-%d-%d", (int)getpid(), seq++);
	snprintf(h->state_dir, sizeof(h->state_dir), "/tmp/mxwall-test-%d",
		 (int)getpid());
	if (max4)
		snprintf(capbuf, sizeof(capbuf), "%u/%u", cap4, max4);
	else
		snprintf(capbuf, sizeof(capbuf), "%u", cap4);
	if (cap4)
		xh_set_hooks(capbuf);
	else
		xh_set_hooks(NULL);
	h->be.ops = &backend_xdp_ops;
	h->be.pin_dir = h->pin_dir;
	h->be.state_dir = h->state_dir;
	h->be.lock_fd = -1;
	err = h->be.ops->open(&h->be, true);
	if (err) {
		fprintf(stderr, "backend open %s: %s\n", h->pin_dir,
			strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/%s", h->pin_dir, MX_MAP_CFG);
	h->cfg_fd = bpf_obj_get(path);
	if (h->cfg_fd < 0)
		return -errno;
	err = backend_xdp_load(&h->be, &h->skel);
	if (err) {
		fprintf(stderr, "program load: %s\n", strerror(-err));
		return err;
	}
	h->prog_fd = bpf_program__fd(h->skel->progs.mxwall_xdp);
	return 0;
}

/* xh_setup - as xh_setup_max, the tables free to grow */
static inline int xh_setup(struct xh *h, unsigned int cap4)
{
	return xh_setup_max(h, cap4, 0);
}

/*
 * xh_reload - the program loaded again over the pins as they are now: after
 * an apply() grew the tables, the program loaded before still uses the
 * old maps (the backend switches the programs of interfaces, not ours)
 */
static inline int xh_reload(struct xh *h)
{
	char path[256];
	int err;

	if (h->skel)
		mxwall_bpf__destroy(h->skel);
	h->skel = NULL;
	if (h->cfg_fd > 0)
		close(h->cfg_fd);
	snprintf(path, sizeof(path), "%s/%s", h->pin_dir, MX_MAP_CFG);
	h->cfg_fd = bpf_obj_get(path);
	if (h->cfg_fd < 0)
		return -errno;
	err = backend_xdp_load(&h->be, &h->skel);
	if (err)
		return err;
	h->prog_fd = bpf_program__fd(h->skel->progs.mxwall_xdp);
	return 0;
}

static inline void xh_teardown(struct xh *h)
{
	if (h->skel)
		mxwall_bpf__destroy(h->skel);
	h->skel = NULL;
	if (h->cfg_fd > 0)
		close(h->cfg_fd);
	if (h->be.priv) {
		h->be.ops->destroy(&h->be);
		h->be.ops->close(&h->be);
	}
	rmdir(h->state_dir);
}

/*
 * xh_start - the common start of a BPF test binary: root, the handler that
 * tears the table down on a signal, and the table itself. On failure it
 * prints the failure and the closing line and returns false.
 */
static inline bool xh_start(struct xh *h, unsigned int cap4,
			    void (*on_signal)(int))
{
	if (geteuid()) {
		printf("FAIL - needs root (BPF_PROG_TEST_RUN, bpffs)\n");
		printf("0 passed, 1 failed\n");
		return false;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, on_signal);
	if (xh_setup(h, cap4)) {
		xh_teardown(h);
		printf("FAIL - cannot set up the XDP test table\n");
		printf("0 passed, 1 failed\n");
		return false;
	}
	return true;
}

/* xh_entry - fill an entry from text: "1.2.3.0/24", action, observe */
static inline int xh_entry(struct mx_entry *e, const char *net, int action,
			   bool observe, const char *tags)
{
	char err[128];

	memset(e, 0, sizeof(*e));
	if (cidr_parse(net, 0, &e->net, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", net, err);
		return -EINVAL;
	}
	e->action = (uint8_t)action;
	e->origin = MX_ORIGIN_STATIC;
	e->observe = observe;
	snprintf(e->tags, sizeof(e->tags), "%s", tags ? tags : "");
	return 0;
}

/* xh_run - one run of the program over the frame; retval is the action */
static inline int xh_run(int prog_fd, const void *pkt, size_t len, __u32 repeat,
			 __u32 *retval, __u32 *duration)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = (__u32)len, .repeat = repeat);
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (err)
		return -errno;
	*retval = o.retval;
	if (duration)
		*duration = o.duration;
	return 0;
}

/* ---- packet builder ---- */

struct pkt_opts {
	int family;	    /* 4 or 6 */
	const char *src;    /* source address text */
	__u16 sport, dport; /* dport 0 = 25 */
	__u8 flags;	    /* TCP flags; 0 = SYN */
	__u8 proto;	    /* 0 = TCP */
	int nvlan;	    /* 0..3 tags */
	__u16 vlan_proto;   /* 0 = 802.1Q; for the outer tag of QinQ */
	int ipopt;	    /* IPv4 option bytes (multiple of 4, <= 40) */
	int frag;	    /* 0 none, 1 first fragment, 2 a later one */
	int next[12];	    /* IPv6 extension headers, in order */
	int nnext;
	int tcpopt;  /* TCP option bytes (multiple of 4, <= 40) */
	int payload; /* TCP payload bytes */
};

struct pkt {
	__u8 buf[1024];
	size_t len;
	size_t l3;	   /* offset of the IP header */
	size_t l4;	   /* offset of the TCP header */
	size_t iplen;	   /* declared IP length */
	size_t bounds[32]; /* every header boundary, for truncation */
	int nbounds;
};

static inline void put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

/* pkt_build - a frame as described; returns 0 or -EINVAL */
static inline int pkt_build(struct pkt *p, const struct pkt_opts *o)
{
	__u8 *b = p->buf, nh;
	size_t off = 0, i;
	int v;

	memset(p, 0, sizeof(*p));
	/* Ethernet */
	memcpy(b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	off = 12;
	for (v = 0; v < o->nvlan; v++) {
		put16(b + off,
		      v == 0 && o->vlan_proto ? o->vlan_proto : ETH_P_8021Q);
		put16(b + off + 2, (__u16)(100 + v));
		off += 4;
		p->bounds[p->nbounds++] = off;
	}
	put16(b + off, o->family == 4 ? ETH_P_IP : ETH_P_IPV6);
	off += 2;
	p->bounds[p->nbounds++] = off;
	p->l3 = off;
	if (o->family == 4) {
		int ihl = 20 + o->ipopt;

		b[off] = (__u8)(0x40 | (ihl / 4));
		b[off + 8] = 64;
		b[off + 9] = o->proto ? o->proto : IPPROTO_TCP;
		if (o->frag == 1)
			put16(b + off + 6, 0x2000); /* MF, offset 0 */
		else if (o->frag == 2)
			put16(b + off + 6, 185); /* offset 1480 */
		if (inet_pton(AF_INET, o->src, b + off + 12) != 1)
			return -EINVAL;
		inet_pton(AF_INET, "192.0.2.25", b + off + 16);
		p->bounds[p->nbounds++] = off + 20;
		for (i = 0; i < (size_t)o->ipopt; i++)
			b[off + 20 + i] = 1; /* NOP */
		off += ihl;
		if (o->ipopt)
			p->bounds[p->nbounds++] = off;
	} else {
		b[off] = 0x60;
		b[off + 7] = 64;
		nh = o->nnext ? (__u8)o->next[0]
			      : (o->proto ? o->proto : IPPROTO_TCP);
		b[off + 6] = nh;
		if (inet_pton(AF_INET6, o->src, b + off + 8) != 1)
			return -EINVAL;
		inet_pton(AF_INET6, "2001:db8:25::25", b + off + 24);
		off += 40;
		p->bounds[p->nbounds++] = off;
		for (v = 0; v < o->nnext; v++) {
			nh = v + 1 < o->nnext
				 ? (__u8)o->next[v + 1]
				 : (o->proto ? o->proto : IPPROTO_TCP);
			b[off] = nh;
			if (o->next[v] == IPPROTO_FRAGMENT) {
				if (o->frag == 2)
					put16(b + off + 2, 1480);
				else
					put16(b + off + 2, 1); /* M */
				off += 8;
			} else if (o->next[v] == IPPROTO_AH) {
				b[off + 1] = 4; /* (4 + 2) * 4 = 24 */
				off += 24;
			} else {
				b[off + 1] = 1; /* (1 + 1) * 8 = 16 */
				b[off + 2] = 1; /* PadN */
				b[off + 3] = 12;
				off += 16;
			}
			p->bounds[p->nbounds++] = off;
		}
	}
	p->l4 = off;
	if (!o->proto || o->proto == IPPROTO_TCP) {
		int doff = 20 + o->tcpopt;

		put16(b + off, o->sport ? o->sport : 40000);
		put16(b + off + 2, o->dport ? o->dport : 25);
		b[off + 12] = (__u8)((doff / 4) << 4);
		b[off + 13] = o->flags ? o->flags : 0x02;
		put16(b + off + 14, 64240);
		p->bounds[p->nbounds++] = off + 20;
		for (i = 0; i < (size_t)o->tcpopt; i++)
			b[off + 20 + i] = 1; /* NOP */
		off += doff;
		if (o->tcpopt)
			p->bounds[p->nbounds++] = off;
	} else {
		off += 8; /* UDP and others: 8 bytes */
	}
	off += (size_t)o->payload;
	p->len = off;
	p->iplen = off - p->l3;
	if (o->family == 4)
		put16(b + p->l3 + 2, (__u16)p->iplen);
	else
		put16(b + p->l3 + 4, (__u16)(p->iplen - 40));
	return 0;
}

/* pkt_set_iplen - rewrite the declared IP length (after a truncation) */
static inline void pkt_set_iplen(struct pkt *p, int family, size_t iplen)
{
	if (family == 4)
		put16(p->buf + p->l3 + 2, (__u16)iplen);
	else
		put16(p->buf + p->l3 + 4, (__u16)(iplen - 40));
}

#endif /* MXWALL_XDP_HARNESS_H */
