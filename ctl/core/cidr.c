// SPDX-License-Identifier: GPL-2.0
/*
 * cidr.c - parse, normalise, compare and print CIDRs.
 *
 * Parsing is strict because a block list is the wrong place for guesses:
 * "10.1" is not 10.0.0.1, "010.1.1.1" is not 8.1.1.1, and "/0" would block
 * every address (spamd's sdl.c refuses it for the same reason).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/cidr.h"

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* parse_quad - exactly four decimal octets, no leading zeros */
static bool parse_quad(const char *s, uint8_t out[4])
{
	unsigned int part = 0, v;
	const char *p = s;

	for (part = 0; part < 4; part++) {
		if (*p < '0' || *p > '9')
			return false;
		if (*p == '0' && p[1] >= '0' && p[1] <= '9')
			return false;
		v = 0;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (unsigned int)(*p - '0');
			if (v > 255)
				return false;
			p++;
		}
		out[part] = (uint8_t)v;
		if (part < 3 && *p++ != '.')
			return false;
	}
	return *p == '\0';
}

int cidr_parse(const char *s, unsigned int flags, struct cidr *out, char *err,
	       size_t errlen)
{
	char buf[64];
	const char *slash;
	size_t alen;
	unsigned int plen, maxlen;
	struct cidr c;
	bool has_len;

	memset(&c, 0, sizeof(c));
	if (!s || !*s)
		return fail(err, errlen, "empty address");
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0)
		return fail(err, errlen, "'%s': missing address", s);
	if (alen >= sizeof(buf))
		return fail(err, errlen, "'%.40s...': not an IP address", s);
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	if (strchr(buf, ':')) {
		if (inet_pton(AF_INET6, buf, c.addr) != 1)
			return fail(err, errlen, "'%s': not an IPv6 address",
				    buf);
		c.family = AF_INET6;
	} else {
		if (!parse_quad(buf, c.addr))
			return fail(err, errlen,
				    "'%s': not an IPv4 address (write all four "
				    "octets in decimal)",
				    buf);
		c.family = AF_INET;
	}
	maxlen = c.family == AF_INET ? 32 : 128;

	has_len = slash != NULL;
	plen = maxlen;
	if (has_len) {
		const char *p = slash + 1;

		if (flags & CIDR_HOST_ONLY)
			return fail(err, errlen,
				    "'%s': expected an address, not a netblock",
				    s);
		if (!*p)
			return fail(err, errlen, "'%s': missing prefix length",
				    s);
		plen = 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || plen > 1000)
				return fail(err, errlen,
					    "'%s': bad prefix length", s);
			plen = plen * 10 + (unsigned int)(*p - '0');
		}
		if (slash[1] == '0' && slash[2] != '\0')
			return fail(err, errlen, "'%s': bad prefix length", s);
		if (plen > maxlen)
			return fail(
			    err, errlen,
			    "'%s': prefix length %u is out of range for %s", s,
			    plen, c.family == AF_INET ? "IPv4" : "IPv6");
	}

	/* ::ffff:a.b.c.d is an IPv4 host that came through a v6 socket */
	if (c.family == AF_INET6 && !memcmp(c.addr, v4mapped, 12) &&
	    plen >= 96) {
		memmove(c.addr, c.addr + 12, 4);
		memset(c.addr + 4, 0, 12);
		c.family = AF_INET;
		plen -= 96;
	}
	if (plen == 0 && !(flags & CIDR_ALLOW_ZERO))
		return fail(err, errlen, "'%s': /0 would match every address",
			    s);
	c.plen = (uint8_t)plen;
	*out = c;
	return cidr_mask(out) ? CIDR_MASKED : 0;
}

void cidr_from_addr(struct cidr *c, int family, const void *addr)
{
	memset(c, 0, sizeof(*c));
	c->family = (uint8_t)family;
	if (family == AF_INET) {
		memcpy(c->addr, addr, 4);
		c->plen = 32;
	} else {
		memcpy(c->addr, addr, 16);
		c->plen = 128;
		if (!memcmp(c->addr, v4mapped, 12)) {
			memmove(c->addr, c->addr + 12, 4);
			memset(c->addr + 4, 0, 12);
			c->family = AF_INET;
			c->plen = 32;
		}
	}
}

bool cidr_mask(struct cidr *c)
{
	unsigned int maxlen = c->family == AF_INET ? 32 : 128;
	unsigned int i, bits;
	bool had = false;
	uint8_t keep;

	for (i = 0; i < 16; i++) {
		bits = i * 8;
		if (bits >= maxlen || bits >= c->plen)
			keep = 0;
		else if (bits + 8 <= c->plen)
			keep = 0xff;
		else
			keep = (uint8_t)(0xff << (8 - (c->plen - bits)));
		if (c->addr[i] & (uint8_t)~keep)
			had = true;
		c->addr[i] &= keep;
	}
	return had;
}

bool cidr_is_host(const struct cidr *c)
{
	return c->plen == (c->family == AF_INET ? 32 : 128);
}

char *cidr_format_full(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, c->plen);
	return buf;
}

char *cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!cidr_is_host(c))
		return cidr_format_full(c, buf, len);
	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s", a);
	return buf;
}

bool cidr_contains(const struct cidr *outer, const struct cidr *inner)
{
	struct cidr t;

	if (outer->family != inner->family || outer->plen > inner->plen)
		return false;
	t = *inner;
	t.plen = outer->plen;
	cidr_mask(&t);
	return !memcmp(t.addr, outer->addr, 16);
}

int cidr_cmp(const struct cidr *a, const struct cidr *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr, b->addr, 16);
	if (r)
		return r < 0 ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return 0;
}

void cidr_supernet(const struct cidr *c, unsigned int plen, struct cidr *out)
{
	*out = *c;
	if (plen < out->plen)
		out->plen = (uint8_t)plen;
	cidr_mask(out);
}
