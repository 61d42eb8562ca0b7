/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cidr.h - one address or netblock of either family.
 *
 * Addresses are held in network byte order; an IPv4 address fills the
 * first four bytes of addr[] and the rest is zero, so two equal CIDRs are
 * equal as bytes (memcmp-safe, hashable). Host bits under the mask are
 * always clear once cidr_parse() has accepted a string.
 */
#ifndef MXWALL_CIDR_H
#define MXWALL_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cidr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t plen;	/* prefix length: 1..32 or 1..128 */
	uint8_t pad[2];
	uint8_t addr[16]; /* network order; v4 in addr[0..3] */
};

/* the longest printed form: full v6, "/128", NUL */
#define CIDR_STRLEN 56

/* cidr_parse() flags */
#define CIDR_ALLOW_ZERO 0x1 /* accept /0 (never for block lists) */
#define CIDR_HOST_ONLY 0x2  /* a bare address; a /len is an error */

/* cidr_parse() result above 0: accepted, but host bits were cleared */
#define CIDR_MASKED 1

/*
 * cidr_parse - "a.b.c.d[/len]" or IPv6 text "[/len]".
 * IPv4 must be a full dotted quad without leading zeros (no "1.2.3" or
 * "010.1.1.1": inet_aton would read those as something else). An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) becomes the IPv4 address. Returns 0,
 * CIDR_MASKED, or -EINVAL with a reason in err ("prefix length 33 is out of
 * range for IPv4", "/0 would block every address").
 */
int cidr_parse(const char *s, unsigned int flags, struct cidr *out, char *err,
	       size_t errlen);
/* cidr_from_addr - a host entry from a raw address (AF_INET: 4 bytes) */
void cidr_from_addr(struct cidr *c, int family, const void *addr);
/* cidr_format - canonical text; a host prints without /32 or /128 */
char *cidr_format(const struct cidr *c, char *buf, size_t len);
/* cidr_format_full - always with the prefix length */
char *cidr_format_full(const struct cidr *c, char *buf, size_t len);
/* cidr_mask - clear host bits; returns true if any were set */
bool cidr_mask(struct cidr *c);
bool cidr_is_host(const struct cidr *c);
/* cidr_contains - outer covers inner (same family, shorter or equal) */
bool cidr_contains(const struct cidr *outer, const struct cidr *inner);
int cidr_cmp(const struct cidr *a, const struct cidr *b);
/* cidr_supernet - the enclosing /plen of c (e.g. the /24 of a host) */
void cidr_supernet(const struct cidr *c, unsigned int plen, struct cidr *out);
static inline unsigned int cidr_maxlen(const struct cidr *c)
{
	return c->family == 2 /* AF_INET */ ? 32 : 128;
}

#endif /* MXWALL_CIDR_H */
