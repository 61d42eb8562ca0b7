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
 *  - idx_xdp: the floor of a hit that reads only a compact index: IPv4
 *    hosts as bare 4-byte keys, sixteen to a 64-byte line, two candidate
 *    lines (idx_fill() in bench_xdp.c makes the same choice), a hit
 *    dropped with no per-entry counter, no expiry and no netblocks; what
 *    a design with per-entry counters cannot beat.
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

#include "mxwall_shared.h"
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

#define IDX_SLOTS 16
struct idx_bkt {
	__u32 k[IDX_SLOTS]; /* host order; 0 = free */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct idx_bkt);
} idx_h4 SEC(".maps");

const volatile __u32 idx_nb = 1; /* buckets of idx_h4 */

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

/* idx_mix - lowbias32 (mxwall_shared.h), as bench_xdp.c's mix() */
#define idx_mix mx_mix32

static __always_inline int idx_in(const struct idx_bkt *b, __u32 a)
{
	int j;

#pragma unroll
	for (j = 0; j < IDX_SLOTS; j++)
		if (b->k[j] == a)
			return 1;
	return 0;
}

SEC("xdp")
int idx_xdp(struct xdp_md *ctx)
{
	struct ipv6hdr *ip6 = NULL;
	struct iphdr *ip = NULL;
	struct idx_bkt *k1, *k2;
	__u32 len = 0, a, h, b1, b2;

	if (smtp_syn(ctx, &ip, &ip6, &len) || !ip)
		return XDP_PASS;
	a = bpf_ntohl(ip->saddr);
	h = idx_mix(a);
	b1 = (__u32)(((__u64)h * idx_nb) >> 32);
	b2 = (__u32)(((__u64)idx_mix(h ^ 0x5bd1e995U) * idx_nb) >> 32);
	k1 = bpf_map_lookup_elem(&idx_h4, &b1);
	k2 = bpf_map_lookup_elem(&idx_h4, &b2);
	if (!k1 || !k2)
		return XDP_PASS;
	return a && (idx_in(k1, a) || idx_in(k2, a)) ? XDP_DROP : XDP_PASS;
}

/* idx_ctr_xdp: idx_xdp with per-CPU counters by index slot, counted in
 * batches: a hit logs its slot; every IDX_BATCH hits the log is folded,
 * all the counter lines read first, then added to */
#define IDX_BATCH 16
struct idx_ctr {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct idx_ctr);
} idx_c4 SEC(".maps");

struct idx_log {
	__u32 n;
	__u32 slot[IDX_BATCH];
	__u32 len[IDX_BATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct idx_log);
} idx_log SEC(".maps");

static __always_inline int idx_slot(const struct idx_bkt *b, __u32 a)
{
	int j;

#pragma unroll
	for (j = 0; j < IDX_SLOTS; j++)
		if (b->k[j] == a)
			return j;
	return -1;
}

static __always_inline void idx_touch(const void *p)
{
	__u64 v = *(volatile const __u64 *)p;

	asm volatile("" : : "r"(v));
}

static __always_inline void idx_touch32(const __u32 *p)
{
	__u32 v = *(volatile const __u32 *)p;

	asm volatile("" : : "r"(v));
}

/* idx_find - the index slot of host a (line * IDX_SLOTS + key); -1 if it
 * is not in the index */
static __always_inline int idx_find(__u32 a, __u32 *slot)
{
	__u32 h = idx_mix(a), b1, b2;
	struct idx_bkt *k1, *k2;
	int j;

	b1 = (__u32)(((__u64)h * idx_nb) >> 32);
	b2 = (__u32)(((__u64)idx_mix(h ^ 0x5bd1e995U) * idx_nb) >> 32);
	k1 = bpf_map_lookup_elem(&idx_h4, &b1);
	k2 = bpf_map_lookup_elem(&idx_h4, &b2);
	if (!k1 || !k2 || !a)
		return -1;
	j = idx_slot(k1, a);
	if (j < 0) {
		j = idx_slot(k2, a);
		if (j < 0)
			return -1;
		b1 = b2;
	}
	*slot = b1 * IDX_SLOTS + (__u32)j;
	return 0;
}

SEC("xdp")
int idx_ctr_xdp(struct xdp_md *ctx)
{
	struct ipv6hdr *ip6 = NULL;
	struct iphdr *ip = NULL;
	struct idx_log *l;
	struct idx_ctr *c;
	__u32 len = 0, a, slot, zero = 0, base, i, n;

	if (smtp_syn(ctx, &ip, &ip6, &len) || !ip)
		return XDP_PASS;
	a = bpf_ntohl(ip->saddr);
	if (idx_find(a, &slot))
		return XDP_PASS;
	l = bpf_map_lookup_elem(&idx_log, &zero);
	if (!l)
		return XDP_DROP;
	n = l->n;
	if (n >= IDX_BATCH)
		n = 0;
	l->slot[n] = slot;
	l->len[n] = len;
	l->n = ++n;
	if (n < IDX_BATCH)
		return XDP_DROP;
	base = bpf_get_smp_processor_id() * idx_nb * IDX_SLOTS;
	for (i = 0; i < IDX_BATCH; i++) {
		__u32 k = base + l->slot[i];

		c = bpf_map_lookup_elem(&idx_c4, &k);
		if (c)
			idx_touch(c);
	}
	for (i = 0; i < IDX_BATCH; i++) {
		__u32 k = base + l->slot[i];

		c = bpf_map_lookup_elem(&idx_c4, &k);
		if (c) {
			c->packets++;
			c->bytes += l->len[i];
		}
	}
	l->n = 0;
	return XDP_DROP;
}

/* idx_pos_xdp: idx_xdp with the counters where mxwall keeps them, by the
 * slot of the big table (a 16-byte counter per slot per CPU, idx_m4, as
 * many slots as mx_c4 has at this size): the index has a position per
 * slot (idx_p4); a hit logs its index slot and key; every IDX_BATCH hits
 * the fold reads the index lines and positions of all of them, then the
 * counter lines, then adds (a key no longer in its slot is not counted) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
} idx_p4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct idx_ctr);
} idx_m4 SEC(".maps");

const volatile __u32 idx_nm = 1; /* counters of idx_m4 per CPU */

struct idx_plog {
	__u32 n;
	__u32 slot[IDX_BATCH];
	__u32 key[IDX_BATCH];
	__u32 len[IDX_BATCH];
	__u32 pos[IDX_BATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct idx_plog);
} idx_plog SEC(".maps");

static __always_inline void idx_pos_fold(struct idx_plog *l)
{
	__u32 i, base = bpf_get_smp_processor_id() * idx_nm;
	struct idx_bkt *k;
	struct idx_ctr *c;
	__u32 *p;

	for (i = 0; i < IDX_BATCH; i++) {
		__u32 s = l->slot[i], b = s / IDX_SLOTS;

		k = bpf_map_lookup_elem(&idx_h4, &b);
		p = bpf_map_lookup_elem(&idx_p4, &s);
		if (k)
			idx_touch(k);
		if (p)
			idx_touch32(p);
	}
	for (i = 0; i < IDX_BATCH; i++) {
		__u32 s = l->slot[i], b = s / IDX_SLOTS, m;

		l->pos[i] = ~0U;
		k = bpf_map_lookup_elem(&idx_h4, &b);
		p = bpf_map_lookup_elem(&idx_p4, &s);
		if (!k || !p || k->k[s % IDX_SLOTS] != l->key[i])
			continue;
		m = base + *p;
		l->pos[i] = m;
		c = bpf_map_lookup_elem(&idx_m4, &m);
		if (c)
			idx_touch(c);
	}
	for (i = 0; i < IDX_BATCH; i++) {
		__u32 m = l->pos[i];

		c = bpf_map_lookup_elem(&idx_m4, &m);
		if (c) {
			c->packets++;
			c->bytes += l->len[i];
		}
	}
	l->n = 0;
}

SEC("xdp")
int idx_pos_xdp(struct xdp_md *ctx)
{
	struct ipv6hdr *ip6 = NULL;
	struct iphdr *ip = NULL;
	struct idx_plog *l;
	__u32 len = 0, a, slot, zero = 0, n;

	if (smtp_syn(ctx, &ip, &ip6, &len) || !ip)
		return XDP_PASS;
	a = bpf_ntohl(ip->saddr);
	if (idx_find(a, &slot))
		return XDP_PASS;
	l = bpf_map_lookup_elem(&idx_plog, &zero);
	if (!l)
		return XDP_DROP;
	n = l->n;
	if (n >= IDX_BATCH)
		n = 0;
	l->slot[n] = slot;
	l->key[n] = a;
	l->len[n] = len;
	l->n = ++n;
	if (n >= IDX_BATCH)
		idx_pos_fold(l);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
