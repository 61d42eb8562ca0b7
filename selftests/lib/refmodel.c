// SPDX-License-Identifier: GPL-2.0
/*
 * refmodel.c - the reference model of the data path (see refmodel.h for
 * the rules it implements). Deliberately plain: byte offsets and lengths
 * in size_t, no shared code with bpf/, so a bug in one is not copied into
 * the other.
 */
#include <string.h>

#include "refmodel.h"

const char *const rm_class_name[RM_NCLASS] = {
    [RM_PASS] = "pass",	  [RM_MALFORMED] = "malformed", [RM_MISS] = "miss",
    [RM_ALLOW] = "allow", [RM_OBSERVE] = "observe",	[RM_DROP] = "drop",
};

static unsigned int be16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

bool rm_in_prefix(const uint8_t *addr, const uint8_t *net, int plen)
{
	int full = plen / 8, rest = plen % 8;
	uint8_t m;

	if (memcmp(addr, net, (size_t)full))
		return false;
	if (!rest)
		return true;
	m = (uint8_t)(0xff << (8 - rest));
	return (addr[full] & m) == (net[full] & m);
}

int rm_lookup(const struct rm_table *t, int family, const uint8_t *src)
{
	int best = -1, bestlen = -1;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct rm_entry *e = &t->e[i];

		if (e->family != family || e->plen <= bestlen)
			continue;
		if (rm_in_prefix(src, e->addr, e->plen)) {
			best = (int)i;
			bestlen = e->plen;
		}
	}
	return best;
}

static void set(struct rm_result *r, enum rm_class c, const char *why)
{
	r->cls = c;
	r->why = why;
}

/* an IPv6 extension header that Linux skips on the way to TCP */
static bool v6_ext(unsigned int nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 ||
	       nh == 135;
}

/*
 * tcp_part - the TCP header at off, inside a datagram ending at dgram_end
 * (declared) and a frame of len bytes
 */
static void tcp_part(const struct rm_table *t, const uint8_t *f, size_t len,
		     size_t off, size_t dgram_end, struct rm_result *r)
{
	unsigned int doff, flags, dport;
	size_t i;
	int k;

	if (off + 20 > len) {
		set(r, RM_MALFORMED, "TCP header beyond the frame");
		return;
	}
	doff = (unsigned int)(f[off + 12] >> 4) * 4;
	if (doff < 20) {
		set(r, RM_MALFORMED, "TCP data offset below 5");
		return;
	}
	if (off + doff > len) {
		set(r, RM_MALFORMED, "TCP options beyond the frame");
		return;
	}
	if (off + doff > dgram_end) {
		set(r, RM_MALFORMED, "TCP header beyond the IP length");
		return;
	}
	flags = f[off + 13];
	if (!(flags & 0x02) || (flags & 0x10)) {
		set(r, RM_PASS, "TCP, not SYN without ACK");
		return;
	}
	dport = be16(f + off + 2);
	for (i = 0; i < t->nports; i++)
		if (t->ports[i] == dport)
			break;
	if (i == t->nports) {
		set(r, RM_PASS, "SYN to a port outside the set");
		return;
	}
	k = rm_lookup(t, r->family, r->src);
	r->entry = k;
	if (k < 0) {
		set(r, RM_MISS, "SMTP SYN, no entry");
	} else if (t->e[k].action == RM_ACT_ALLOW) {
		set(r, RM_ALLOW, "SMTP SYN, allow entry");
	} else if (t->observe || t->e[k].observe) {
		set(r, RM_OBSERVE, "SMTP SYN, drop entry, observe mode");
	} else {
		set(r, RM_DROP, "SMTP SYN, drop entry");
	}
}

/*
 * frag_rule - a TCP fragment that cannot prove it is not an SMTP SYN:
 * from a source with an entry it counts to that entry (not as a SYN) and
 * is dropped, allowed or observed as a SYN would
 * be; from an unlisted source it keeps the class it had on its face.
 */
static void frag_rule(const struct rm_table *t, struct rm_result *r)
{
	int k = rm_lookup(t, r->family, r->src);

	if (k < 0)
		return;
	r->entry = k;
	r->frag = true;
	if (t->e[k].action == RM_ACT_ALLOW)
		set(r, RM_ALLOW, "TCP fragment, allow entry");
	else if (t->observe || t->e[k].observe)
		set(r, RM_OBSERVE, "TCP fragment, drop entry, observe mode");
	else
		set(r, RM_DROP, "TCP fragment that may hide a SYN, drop entry");
}

static void ipv4_part(const struct rm_table *t, const uint8_t *f, size_t len,
		      size_t off, struct rm_result *r)
{
	size_t ihl, tot;
	unsigned int fo;

	if (off + 20 > len) {
		set(r, RM_MALFORMED, "IPv4 header beyond the frame");
		return;
	}
	if (f[off] >> 4 != 4) {
		set(r, RM_MALFORMED, "IPv4 ethertype, version not 4");
		return;
	}
	ihl = (size_t)(f[off] & 0xf) * 4;
	if (ihl < 20) {
		set(r, RM_MALFORMED, "IPv4 IHL below 5");
		return;
	}
	if (off + ihl > len) {
		set(r, RM_MALFORMED, "IPv4 options beyond the frame");
		return;
	}
	tot = be16(f + off + 2);
	if (tot < ihl) {
		set(r, RM_MALFORMED, "IPv4 total length below the header");
		return;
	}
	if (off + tot > len) {
		set(r, RM_MALFORMED, "IPv4 total length beyond the frame");
		return;
	}
	r->family = 4;
	r->iplen = (uint32_t)tot;
	memcpy(r->src, f + off + 12, 4);
	fo = be16(f + off + 6);
	if (fo & 0x1fff) {
		set(r, RM_PASS, "IPv4 fragment after the first");
		/* reassembly keys on the protocol: only TCP's can hide a SYN */
		if (f[off + 9] == 6)
			frag_rule(t, r);
		return;
	}
	if (f[off + 9] != 6) {
		set(r, RM_PASS, "IPv4, not TCP");
		return;
	}
	tcp_part(t, f, len, off + ihl, off + tot, r);
	/* a first fragment without the whole TCP header proves nothing */
	if ((fo & 0x2000) && r->cls == RM_MALFORMED)
		frag_rule(t, r);
}

static void ipv6_part(const struct rm_table *t, const uint8_t *f, size_t len,
		      size_t off, struct rm_result *r)
{
	size_t tot, pos, hl;
	unsigned int nh, fo;
	bool first = false;
	int walked = 0;

	if (off + 40 > len) {
		set(r, RM_MALFORMED, "IPv6 header beyond the frame");
		return;
	}
	if (f[off] >> 4 != 6) {
		set(r, RM_MALFORMED, "IPv6 ethertype, version not 6");
		return;
	}
	tot = 40 + (size_t)be16(f + off + 4);
	if (off + tot > len) {
		set(r, RM_MALFORMED, "IPv6 payload length beyond the frame");
		return;
	}
	r->family = 6;
	r->iplen = (uint32_t)tot;
	memcpy(r->src, f + off + 8, 16);
	nh = f[off + 6];
	pos = off + 40;
	while (v6_ext(nh)) {
		if (walked == t->ext_max) {
			set(r, RM_MALFORMED, "IPv6 extension chain too long");
			goto out;
		}
		walked++;
		if (pos + 2 > len) {
			set(r, RM_MALFORMED,
			    "IPv6 extension header beyond the frame");
			goto out;
		}
		if (nh == 44) {
			if (pos + 8 > len) {
				set(r, RM_MALFORMED,
				    "IPv6 fragment header beyond the frame");
				goto out;
			}
			fo = be16(f + pos + 2);
			if (fo & 0xfff8) {
				/* reassembly takes the next header from the
				 * first fragment: any later one may be TCP */
				set(r, RM_PASS,
				    "IPv6 fragment after the first");
				frag_rule(t, r);
				return;
			}
			if (fo & 1) /* M: more follow (else atomic) */
				first = true;
			hl = 8;
		} else if (nh == 51) {
			hl = ((size_t)f[pos + 1] + 2) * 4;
		} else {
			hl = ((size_t)f[pos + 1] + 1) * 8;
		}
		if (pos + hl > len) {
			set(r, RM_MALFORMED,
			    "IPv6 extension header beyond the frame");
			goto out;
		}
		nh = f[pos];
		pos += hl;
	}
	if (nh != 6) {
		set(r, RM_PASS, "IPv6, not TCP");
		/* a first fragment proves it only with its whole chain */
		if (first && pos > off + tot)
			frag_rule(t, r);
		return;
	}
	tcp_part(t, f, len, pos, off + tot, r);
out:
	/* a first fragment without the whole chain and TCP header */
	if (first && r->cls == RM_MALFORMED)
		frag_rule(t, r);
}

void rm_classify(const struct rm_table *t, const uint8_t *f, size_t len,
		 struct rm_result *r)
{
	unsigned int type;
	size_t off = 14;
	int tags;

	memset(r, 0, sizeof(*r));
	r->entry = -1;
	if (len < 14) {
		set(r, RM_MALFORMED, "shorter than Ethernet");
		return;
	}
	type = be16(f + 12);
	for (tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); tags++) {
		if (off + 4 > len) {
			set(r, RM_MALFORMED, "VLAN tag beyond the frame");
			return;
		}
		type = be16(f + off + 2);
		off += 4;
	}
	if (type == 0x0800)
		ipv4_part(t, f, len, off, r);
	else if (type == 0x86dd)
		ipv6_part(t, f, len, off, r);
	else
		set(r, RM_PASS, "not IP (or a third VLAN tag)");
}
