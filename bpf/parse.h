/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.h - bounds-checked packet parsers on a cursor, for the XDP program.
 *
 * Each parser checks that the whole header it reads lies inside the frame
 * before touching it, advances the cursor past it and returns the next
 * protocol, or MX_P_SHORT when the header does not fit (the packet is then
 * malformed: it passes and is counted), or MX_P_OTHER when the packet is
 * well formed but not something we look at. The IP parsers also say
 * whether the datagram is a fragment (MX_FRAG_*): a later fragment carries
 * no ports, and a first one may not carry the whole TCP header (RFC 1858),
 * so the caller cannot take either for "not an SMTP SYN" on its face. The VLAN
 * depth and the IPv6 extension chain are bounded constants (mxwall_shared.h),
 * so the verifier sees a bounded walk.
 */
#ifndef MXWALL_PARSE_H
#define MXWALL_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "mxwall_shared.h"

#define MX_P_SHORT (-1) /* a declared header does not fit */
#define MX_P_OTHER (-2) /* well formed, not ours */

/* what the IP parsers say about fragmentation */
#define MX_FRAG_NONE 0	/* not a fragment (an IPv6 atomic one included) */
#define MX_FRAG_FIRST 1 /* offset 0, more fragments follow */
#define MX_FRAG_LATER                                                          \
	2 /* offset > 0: no TCP header; TCP (IPv4) or any                      \
	   * next header (IPv6: reassembly takes the first                     \
	   * fragment's, so a later one proves nothing) */

struct cursor {
	void *pos;
	void *end;
};

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

static __always_inline int proto_is_vlan(__u16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) ||
	       h_proto == bpf_htons(ETH_P_8021AD);
}

/* parse_eth - Ethernet and up to MX_VLAN_MAX tags; returns the ethertype */
static __always_inline int parse_eth(struct cursor *c)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vh;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > c->end)
		return MX_P_SHORT;
	c->pos = eth + 1;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < MX_VLAN_MAX; i++) {
		if (!proto_is_vlan(proto))
			break;
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return MX_P_SHORT;
		proto = vh->proto;
		c->pos = vh + 1;
	}
	return proto;
}

/*
 * parse_ip4 - the IPv4 header with options; returns the L4 protocol, or
 * MX_P_OTHER for a non-first fragment (only the first one carries the TCP
 * header; *frag says MX_FRAG_LATER when it belongs to a TCP datagram).
 * *len gets the declared total length, which must fit the frame.
 */
static __always_inline int parse_ip4(struct cursor *c, struct iphdr **out,
				     __u32 *len, __u32 *frag)
{
	struct iphdr *ip = c->pos;
	__u32 ihl, tot;

	if ((void *)(ip + 1) > c->end)
		return MX_P_SHORT;
	if (ip->version != 4 || ip->ihl < 5)
		return MX_P_SHORT;
	ihl = ip->ihl * 4;
	if (c->pos + ihl > c->end)
		return MX_P_SHORT;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < ihl || c->pos + tot > c->end)
		return MX_P_SHORT;
	*out = ip;
	*len = tot;
	c->pos += ihl;
	if (ip->frag_off & bpf_htons(0x1fff)) { /* offset != 0 */
		if (ip->protocol == IPPROTO_TCP)
			*frag = MX_FRAG_LATER;
		return MX_P_OTHER;
	}
	if (ip->frag_off & bpf_htons(0x2000)) /* MF */
		*frag = MX_FRAG_FIRST;
	return ip->protocol;
}

struct ip6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | flags */
	__be32 ident;
};

/*
 * parse_ip6 - the IPv6 header and a bounded chain of extension headers;
 * returns the upper-layer protocol. A chain longer than MX_V6_EXT_MAX
 * cannot be classified and counts as malformed (it passes). A fragment
 * header sets *frag: MX_FRAG_LATER (and MX_P_OTHER) for a later fragment,
 * MX_FRAG_FIRST when more follow; an atomic fragment is no fragment.
 */
static __always_inline int parse_ip6(struct cursor *c, struct ipv6hdr **out,
				     __u32 *len, __u32 *frag)
{
	struct ipv6hdr *ip6 = c->pos;
	struct ip6_ext *ext;
	struct ip6_frag *fh;
	__u32 tot, hl;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > c->end)
		return MX_P_SHORT;
	if (ip6->version != 6)
		return MX_P_SHORT;
	tot = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if (c->pos + tot > c->end)
		return MX_P_SHORT;
	*out = ip6;
	*len = tot;
	c->pos = ip6 + 1;
	nh = ip6->nexthdr;
	for (i = 0; i < MX_V6_EXT_MAX; i++) {
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case 135: /* mobility header */
			ext = c->pos;
			if ((void *)(ext + 1) > c->end)
				return MX_P_SHORT;
			hl = (ext->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH:
			ext = c->pos;
			if ((void *)(ext + 1) > c->end)
				return MX_P_SHORT;
			hl = (ext->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			fh = c->pos;
			if ((void *)(fh + 1) > c->end)
				return MX_P_SHORT;
			if (fh->frag_off & bpf_htons(0xfff8)) {
				*frag = MX_FRAG_LATER;
				return MX_P_OTHER; /* not the first */
			}
			if (fh->frag_off & bpf_htons(0x0001)) /* M */
				*frag = MX_FRAG_FIRST;
			c->pos = fh + 1;
			nh = fh->nexthdr;
			continue;
		default:
			return nh;
		}
		if (c->pos + hl > c->end)
			return MX_P_SHORT;
		nh = ext->nexthdr;
		c->pos += hl;
	}
	/* still an extension header after the bound: cannot tell */
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case IPPROTO_FRAGMENT:
	case 135:
		return MX_P_SHORT;
	}
	return nh;
}

/*
 * parse_tcp - the TCP header with its options (data offset); returns 0 and
 * the header, or MX_P_SHORT.
 */
static __always_inline int parse_tcp(struct cursor *c, struct tcphdr **out)
{
	struct tcphdr *th = c->pos;
	__u32 doff;

	if ((void *)(th + 1) > c->end)
		return MX_P_SHORT;
	doff = th->doff * 4;
	if (doff < sizeof(*th) || c->pos + doff > c->end)
		return MX_P_SHORT;
	*out = th;
	c->pos += doff;
	return 0;
}

#endif /* MXWALL_PARSE_H */
