/* SPDX-License-Identifier: GPL-2.0 */
/*
 * badchange.h - changes no backend may take, the same list for the front
 * door's check (selftests/unit/test_front.c) and for each backend's own
 * apply() (selftests/unit/test_nft_ops.c, selftests/prog/test_apply.c):
 * both backends must refuse every one with -EINVAL and change nothing.
 */
#ifndef MXWALL_BADCHANGE_H
#define MXWALL_BADCHANGE_H

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "backend/backend.h"

struct badchange {
	const char *desc;
	struct mx_entry add; /* or, with is_del, a deletion of add.net */
	bool is_del;
};

/* bad_net4 - an IPv4 net from its address and length, as given */
static inline struct cidr bad_net4(const char *a, unsigned int plen)
{
	struct cidr c;

	memset(&c, 0, sizeof(c));
	c.family = AF_INET;
	c.plen = (unsigned char)plen;
	inet_pton(AF_INET, a, c.addr);
	return c;
}

/* bad_changes - fill v (at least 10) with the list; its length */
static inline size_t bad_changes(struct badchange *v)
{
	struct mx_entry good;
	size_t n = 0;

	memset(&good, 0, sizeof(good));
	good.net = bad_net4("192.0.2.0", 24);
	good.action = MX_ACT_DROP;
	good.origin = MX_ORIGIN_DYNAMIC;
	strcpy(good.tags, "bad");

#define BAD(d, field, val)                                                     \
	do {                                                                   \
		v[n].desc = (d);                                               \
		v[n].add = good;                                               \
		v[n].add.field = (val);                                        \
		v[n].is_del = false;                                           \
		n++;                                                           \
	} while (0)
	BAD("host bits set", net, bad_net4("192.0.2.1", 24));
	BAD("prefix length 0", net, bad_net4("0.0.0.0", 0));
	BAD("IPv4 prefix length 33", net, bad_net4("192.0.2.1", 33));
	BAD("unknown family", net.family, 7);
	BAD("IPv4 with bytes past the fourth", net.addr[9], 1);
	BAD("unknown action", action, 9);
	BAD("unknown origin", origin, 9);
	BAD("tags without their NUL", tags[0], 'x');
	memset(v[n - 1].add.tags, 'x', sizeof(v[n - 1].add.tags));
	BAD("deletion with host bits", net, bad_net4("192.0.2.1", 24));
	v[n - 1].is_del = true;
	BAD("deletion of prefix length 0", net, bad_net4("0.0.0.0", 0));
	v[n - 1].is_del = true;
#undef BAD
	return n;
}

#endif /* MXWALL_BADCHANGE_H */
