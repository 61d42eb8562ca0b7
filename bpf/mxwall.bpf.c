// SPDX-License-Identifier: GPL-2.0
/*
 * mxwall.bpf.c - the XDP program: find SMTP SYNs, look their source up by
 * longest prefix, count, and drop those from blocked sources.
 *
 * Promises: everything that is not an SMTP SYN (TCP to a configured port,
 * SYN set, ACK clear) from a source whose longest matching entry is `drop`
 * passes untouched; a malformed or truncated packet passes and is counted;
 * observe mode (global or per entry) counts as if dropping but passes.
 * A TCP fragment that cannot prove it is not an SMTP SYN (a later
 * fragment, or a first one that does not hold the whole TCP header) is
 * looked up too: from a listed source it counts to the longest entry and
 * is dropped, allowed or observed as a SYN would be (the global "syn"
 * counter excepted); from an unlisted source it passes as before.
 * The global counters are updated at the one verdict exit. Maps are pinned
 * by name, so a new build of this program attached in place keeps the
 * entries and counters (layouts: mxwall_shared.h).
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

#ifndef AF_INET
#define AF_INET 2
#endif

/* sizes of the capacity-dependent maps are set by the controller at load */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_V4_CAP_DEFAULT / 4);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mx_bkt4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_t4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_V6_CAP_DEFAULT);
	__type(key, struct mx_key6);
	__type(value, struct mx_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_h6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_BM_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_bm4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_BM_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_bm6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_BM_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_bl4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_V4_CAP_DEFAULT + MX_V6_CAP_DEFAULT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mx_ctr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_ctr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_V4_CAP_DEFAULT + MX_V6_CAP_DEFAULT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mx_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_TAGSETS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mx_tagset);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_tags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_SEEN_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_seen SEC(".maps");

enum verdict {
	V_PASS,	     /* not ours */
	V_MALFORMED, /* a declared header did not fit */
	V_MISS,	     /* SMTP SYN, no entry */
	V_ALLOW,     /* SMTP SYN, allow entry */
	V_OBSERVE,   /* SMTP SYN, drop entry in observe mode */
	V_DROP,	     /* SMTP SYN, drop entry */
	/* a TCP fragment that may hide an SMTP SYN, from a listed source */
	V_FALLOW,
	V_FOBSERVE,
	V_FDROP,
};

/* verdict - the one exit: global counters, then the XDP action */
static __always_inline int verdict(enum verdict v)
{
	__u32 zero = 0;
	struct mx_stats *s = bpf_map_lookup_elem(&mx_stats, &zero);

	if (!s)
		return v == V_DROP || v == V_FDROP ? XDP_DROP : XDP_PASS;
	s->seen++;
	if (v >= V_MISS && v <= V_DROP)
		s->syn++;
	switch (v) {
	case V_MALFORMED:
		s->malformed++;
		break;
	case V_ALLOW:
	case V_FALLOW:
		s->allowed++;
		break;
	case V_OBSERVE:
	case V_FOBSERVE:
		s->observed++;
		break;
	case V_DROP:
	case V_FDROP:
		s->dropped++;
		return XDP_DROP;
	default:
		break;
	}
	s->passed++;
	return XDP_PASS;
}

/* port_match - is the destination port (network order) in the set */
static __always_inline int port_match(const struct mx_cfg *cfg, __u16 dport)
{
	__u16 p = bpf_ntohs(dport);
	int i;

#pragma unroll
	for (i = 0; i < MX_PORTS_MAX_BPF; i++) {
		if (i >= cfg->nports)
			break;
		if (cfg->ports[i] == p)
			return 1;
	}
	return 0;
}

static __always_inline int bm_test(void *bm, __u32 bit)
{
	__u32 word = bit / 64;
	__u64 *w = bpf_map_lookup_elem(bm, &word);

	return w && (*w >> (bit & 63)) & 1;
}

/* t4_probe - is (plen, a) in bucket b; its meta word in *meta */
static __always_inline int t4_probe(__u32 b, __u32 a, __u32 plen, __u32 *meta)
{
	struct mx_bkt4 *bk = bpf_map_lookup_elem(&mx_t4, &b);
	__u64 s;
	int j;

	if (!bk)
		return 0;
#pragma unroll
	for (j = 0; j < MX_T4_SLOTS; j++) {
		/* one 64-bit load: the controller stores slots whole */
		s = bk->slot[j];
		if ((__u32)s == a && MX_T4_PLEN((__u32)(s >> 32)) == plen) {
			*meta = (__u32)(s >> 32);
			return 1;
		}
	}
	return 0;
}

/* lookup4 - longest match of an IPv4 source (host order) */
static __always_inline int lookup4(const struct mx_cfg *cfg, __u32 src,
				   struct mx_val *out)
{
	__u32 i, n = cfg->n4, plen, a, mask = cfg->nb4 - 1, meta = 0;

	if (!n || !bm_test(&mx_bm4, mx_bm4_bit(src)))
		return 0;
	for (i = 0; i < 33; i++) {
		if (i >= n)
			break;
		plen = cfg->plen4[i];
		if (plen == 0 || plen > 32)
			break;
		a = plen == 32 ? src : src & ~(0xffffffffU >> plen);
		if (!bm_test(&mx_bl4, mx_bl4_bit(a, plen)))
			continue;
		if (t4_probe(mx_t4_b1(a, plen, mask), a, plen, &meta) ||
		    t4_probe(mx_t4_b2(a, plen, mask), a, plen, &meta)) {
			out->id = MX_T4_ID(meta);
			out->action =
			    meta & MX_T4_ALLOW ? MX_VAL_ALLOW : MX_VAL_DROP;
			out->flags = meta & MX_T4_OBSERVE ? MX_VAL_OBSERVE : 0;
			return 1;
		}
	}
	return 0;
}

/* mask64 - the first plen bits (0..64) of a big-endian 64-bit word */
static __always_inline __u64 mask64(__u32 plen)
{
	if (plen >= 64)
		return ~0ULL;
	if (plen == 0)
		return 0;
	return bpf_cpu_to_be64(~0ULL << (64 - plen));
}

/* lookup6 - longest match of an IPv6 source */
static __always_inline int
lookup6(const struct mx_cfg *cfg, const struct ipv6hdr *ip6, struct mx_val *out)
{
	struct mx_key6 k = {};
	struct mx_val *v;
	__u64 hi, lo;
	__u32 i, n = cfg->n6, plen;

	if (!n)
		return 0;
	__builtin_memcpy(&hi, &ip6->saddr.in6_u.u6_addr8[0], 8);
	__builtin_memcpy(&lo, &ip6->saddr.in6_u.u6_addr8[8], 8);
	if (!(cfg->flags & MX_CFG_BM6_OFF) &&
	    !bm_test(&mx_bm6,
		     mx_bm6_bit(bpf_ntohl(ip6->saddr.in6_u.u6_addr32[0]))))
		return 0;
	for (i = 0; i < 129; i++) {
		if (i >= n)
			break;
		plen = cfg->plen6[i];
		if (plen == 0 || plen > 128)
			break;
		k.plen = plen;
		if (plen <= 64) {
			__u64 m = mask64(plen);

			*(__u64 *)&k.addr[0] = hi & m;
			*(__u64 *)&k.addr[8] = 0;
		} else {
			*(__u64 *)&k.addr[0] = hi;
			*(__u64 *)&k.addr[8] = lo & mask64(plen - 64);
		}
		/* the longest length is probed straight away (a host hit
		 * costs no filter read); the others ask the filter first */
		if (i && (cfg->flags & MX_CFG_BL6) &&
		    !bm_test(&mx_bl4, mx_bl6_bit((const __u32 *)k.addr, plen)))
			continue;
		v = bpf_map_lookup_elem(&mx_h6, &k);
		if (v) {
			*out = *v;
			return 1;
		}
	}
	return 0;
}

/*
 * seen_record - note a passing SMTP SYN source in the bounded record
 * (mxwall_shared.h); a source already noted this second costs one read of
 * a cached line.
 */
static __always_inline void seen_record(__u32 family, const __u32 *w, __u64 now)
{
	int v6 = family == 6;
	__u32 tag = mx_seen_tag(v6, w), slot = mx_seen_slot(tag, v6);
	__u32 stamp = (__u32)(now >> MX_SEEN_SHIFT) << 1 | v6;
	__u64 *s, x = (__u64)stamp << 32 | tag;

	s = bpf_map_lookup_elem(&mx_seen, &slot);
	if (s && *s != x)
		*s = x;
}

SEC("xdp")
int mxwall_xdp(struct xdp_md *ctx)
{
	struct cursor c = {
	    .pos = (void *)(long)ctx->data,
	    .end = (void *)(long)ctx->data_end,
	};
	struct ipv6hdr *ip6 = NULL;
	struct iphdr *ip = NULL;
	struct tcphdr *th = NULL;
	const struct mx_cfg *cfg;
	struct mx_val v;
	struct mx_ctr *ctr;
	__u32 zero = 0, len = 0, idx, sa[4] = {}, frag = MX_FRAG_NONE;
	enum verdict base = V_MISS;
	void *l3;
	__u64 now;
	int proto, family, hit;

	proto = parse_eth(&c);
	if (proto == MX_P_SHORT)
		return verdict(V_MALFORMED);
	l3 = c.pos;
	if (proto == bpf_htons(ETH_P_IP)) {
		proto = parse_ip4(&c, &ip, &len, &frag);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		proto = parse_ip6(&c, &ip6, &len, &frag);
	} else {
		return verdict(V_PASS);
	}
	/*
	 * What the packet is on its face (base); a fragment (frag) that
	 * could still be an SMTP SYN once reassembled goes on to the lookup.
	 */
	if (proto == MX_P_SHORT) {
		base = V_MALFORMED;
	} else if (proto == MX_P_OTHER) {
		base = V_PASS;
	} else if (proto != IPPROTO_TCP) {
		base = V_PASS;
		/* a first fragment whose header chain ends inside it */
		if (c.pos - l3 <= len)
			frag = MX_FRAG_NONE;
	} else if (parse_tcp(&c, &th) || c.pos - l3 > len) {
		/* the headers must lie inside the declared datagram length */
		base = V_MALFORMED;
	} else {
		/* the whole TCP header is here: its flags and port decide */
		frag = MX_FRAG_NONE;
		/* tcp[13] & (SYN|ACK) == SYN */
		if (!th->syn || th->ack)
			return verdict(V_PASS);
	}
	if (base != V_MISS && frag == MX_FRAG_NONE)
		return verdict(base);
	cfg = bpf_map_lookup_elem(&mx_cfg, &zero);
	if (!cfg)
		return verdict(base == V_MISS ? V_PASS : base);
	if (base == V_MISS && (!th || !port_match(cfg, th->dest)))
		return verdict(V_PASS);

	/* branch on the pointer: the verifier tracks it, not the family */
	if (ip) {
		family = 4;
		sa[0] = ip->saddr;
		hit = lookup4(cfg, bpf_ntohl(sa[0]), &v);
	} else if (ip6) {
		family = 6;
		__builtin_memcpy(sa, &ip6->saddr, 16);
		hit = lookup6(cfg, ip6, &v);
	} else {
		return verdict(base == V_MISS ? V_PASS : base);
	}
	if (!hit) {
		if (base != V_MISS)
			return verdict(base);
		now = bpf_ktime_get_coarse_ns();
		seen_record(family, sa, now);
		return verdict(V_MISS);
	}

	now = bpf_ktime_get_coarse_ns();
	idx = bpf_get_smp_processor_id() * cfg->cap + v.id;
	ctr = bpf_map_lookup_elem(&mx_ctr, &idx);
	if (ctr) {
		ctr->packets++;
		ctr->bytes += len;
		ctr->last_hit = now;
	}
	if (base != V_MISS) {
		/* a fragment: counted, never recorded as seen on the wire */
		if (v.action == MX_VAL_ALLOW)
			return verdict(V_FALLOW);
		if ((cfg->flags & MX_CFG_OBSERVE) || (v.flags & MX_VAL_OBSERVE))
			return verdict(V_FOBSERVE);
		return verdict(V_FDROP);
	}
	if (v.action == MX_VAL_ALLOW) {
		seen_record(family, sa, now);
		return verdict(V_ALLOW);
	}
	if ((cfg->flags & MX_CFG_OBSERVE) || (v.flags & MX_VAL_OBSERVE)) {
		seen_record(family, sa, now);
		return verdict(V_OBSERVE);
	}
	return verdict(V_DROP);
}

char LICENSE[] SEC("license") = "GPL";
