// SPDX-License-Identifier: GPL-2.0
/*
 * mxref.bpf.c - measuring sticks for the benchmark (selftests/bench), not
 * product code; never attached to an interface outside the benchmark's
 * own namespace.
 *  - ref_xdp: the textbook design mxwall is compared with: the same
 *    parser (bpf/parse.h), then a per-CPU hash of hosts whose value holds
 *    the action and the counters (one lookup: key line, then value), and
 *    on a miss an LPM trie of netblocks whose value is an index into a
 *    per-CPU array of counters. SMTP port 25 only, no fragment rule, no
 *    seen record, no global counters.
 *  - parse_xdp: the parser alone (SMTP SYN to port 25 dropped, the rest
 *    passed), the floor of any design.
 * Map sizes are set by the benchmark before load.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"

struct ref_ctr {
	__u64 packets;
	__u64 bytes;
	__u64 last_hit;
};

struct ref_host {
	struct ref_ctr c;
	__u32 action; /* 1 drop, 2 allow */
	__u32 pad;
};

struct ref_key6 {
	__u8 addr[16];
};

struct ref_lpm4 {
	__u32 prefixlen;
	__u32 addr; /* network order */
};

struct ref_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

struct ref_net {
	__u32 id; /* index into ref_ctr */
	__u32 action;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ref_host);
} ref_h4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct ref_key6);
	__type(value, struct ref_host);
} ref_h6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ref_lpm4);
	__type(value, struct ref_net);
} ref_t4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ref_lpm6);
	__type(value, struct ref_net);
} ref_t6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ref_ctr);
} ref_ctr SEC(".maps");

/* smtp_syn - the parser: the IP source (v4 pointer or v6 pointer) of an
 * SMTP SYN to port 25, and its declared length; 0 if it is one */
static __always_inline int smtp_syn(struct xdp_md *ctx, struct iphdr **ip,
				    struct ipv6hdr **ip6, __u32 *len)
{
	struct cursor c = {
	    .pos = (void *)(long)ctx->data,
	    .end = (void *)(long)ctx->data_end,
	};
	struct tcphdr *th = NULL;
	__u32 frag = 0;
	void *l3;
	int proto;

	proto = parse_eth(&c);
	l3 = c.pos;
	if (proto == bpf_htons(ETH_P_IP))
		proto = parse_ip4(&c, ip, len, &frag);
	else if (proto == bpf_htons(ETH_P_IPV6))
		proto = parse_ip6(&c, ip6, len, &frag);
	else
		return -1;
	if (proto != IPPROTO_TCP || parse_tcp(&c, &th) || c.pos - l3 > *len)
		return -1;
	if (!th->syn || th->ack || th->dest != bpf_htons(25))
		return -1;
	return 0;
}

static __always_inline int count(struct ref_ctr *c, __u32 len, __u32 action)
{
	c->packets++;
	c->bytes += len;
	c->last_hit = bpf_ktime_get_coarse_ns();
	return action == 1 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int ref_xdp(struct xdp_md *ctx)
{
	struct ipv6hdr *ip6 = NULL;
	struct iphdr *ip = NULL;
	struct ref_host *h;
	struct ref_net *n;
	struct ref_ctr *c;
	__u32 len = 0;

	if (smtp_syn(ctx, &ip, &ip6, &len))
		return XDP_PASS;
	if (ip) {
		struct ref_lpm4 k = {.prefixlen = 32, .addr = ip->saddr};
		__u32 a = ip->saddr;

		h = bpf_map_lookup_elem(&ref_h4, &a);
		if (h)
			return count(&h->c, len, h->action);
		n = bpf_map_lookup_elem(&ref_t4, &k);
	} else if (ip6) {
		struct ref_lpm6 k = {.prefixlen = 128};
		struct ref_key6 a;

		__builtin_memcpy(a.addr, &ip6->saddr, 16);
		h = bpf_map_lookup_elem(&ref_h6, &a);
		if (h)
			return count(&h->c, len, h->action);
		__builtin_memcpy(k.addr, &ip6->saddr, 16);
		n = bpf_map_lookup_elem(&ref_t6, &k);
	} else {
		return XDP_PASS;
	}
	if (!n)
		return XDP_PASS;
	c = bpf_map_lookup_elem(&ref_ctr, &n->id);
	if (!c)
		return XDP_PASS;
	return count(c, len, n->action);
}

SEC("xdp")
int parse_xdp(struct xdp_md *ctx)
{
	struct ipv6hdr *ip6 = NULL;
	struct iphdr *ip = NULL;
	__u32 len = 0;

	return smtp_syn(ctx, &ip, &ip6, &len) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
