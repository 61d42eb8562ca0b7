// SPDX-License-Identifier: GPL-2.0
/*
 * mxwall.bpf.c - the XDP program: find SMTP SYNs, look their source up by
 * longest prefix, count, and drop those from blocked sources.
 *
 * Promises: everything that is not an SMTP SYN (TCP to a configured port,
 * SYN set, ACK clear) from a source whose longest matching entry is `drop`
 * passes untouched; a malformed or truncated packet passes and is counted;
 * observe mode (global or per entry) counts as if dropping but passes;
 * an entry past its expiry time is absent (no controller needs to run).
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

/* placeholders: the controller sizes these maps before loading */
#define MX_NB4_DEFAULT (MX_V4_CAP_DEFAULT / 2)
#define MX_NB6_DEFAULT MX_V6_CAP_DEFAULT

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_NB4_DEFAULT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mx_bkt4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_t4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_NB6_DEFAULT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mx_bkt6);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_t6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_NB4_DEFAULT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mx_cline4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_c4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_NB6_DEFAULT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mx_cline6);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_c6 SEC(".maps");

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
} mx_bl SEC(".maps");

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

/* the host index (mxwall_shared.h): sized by the controller */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mx_xb4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_x4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mx_ctr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_xc4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mx_xlog);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mx_xl SEC(".maps");

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

/* what a lookup found: the entry's flags and its counters on this CPU */
struct hit {
	__u32 flags; /* MX_E_* */
	struct mx_ctr *ctr;
};

#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))

/*
 * touch - start the read of a line whose address does not depend on the
 * table: the counters of a bucket, read before the bucket says which slot
 * (if any) is ours, so the two misses overlap instead of following each
 * other. The loaded value is kept alive so the compiler keeps the load.
 */
static __always_inline void touch(const void *p)
{
	__u64 v = *(volatile const __u64 *)p;

	asm volatile("" : : "r"(v));
}

/* live - is an entry with expiry exp in force at time stamp now */
static __always_inline int live(__u32 exp, __u32 now)
{
	return !exp || now < exp;
}

/*
 * probe4 - is (plen, a) in bucket b; its flags and counter slot in *h.
 * The bucket and its counter line (cl) are both in flight already.
 */
static __always_inline int probe4(struct mx_bkt4 *bk, struct mx_cline4 *cl,
				  __u64 key, __u32 now, struct hit *h)
{
	int j;

#pragma unroll
	for (j = 0; j < MX_T4_SLOTS; j++) {
		/* one 64-bit load: the controller stores keys whole */
		__u64 k = bk->s[j].key;

		/* the key's flags beyond the length are the entry's */
		if ((__u32)k != (__u32)key ||
		    MX_E_PLEN((__u32)(k >> 32)) != (__u32)(key >> 32))
			continue;
		if (!live(bk->s[j].exp, now))
			return 0;
		h->flags = (__u32)(k >> 32);
		h->ctr = &cl->c[j];
		return 1;
	}
	return 0;
}

/* lookup4 - longest live match of an IPv4 source (host order); no32: the
 * host index says the table holds no /32 entry for it */
static __always_inline int lookup4(const struct mx_cfg *cfg, __u32 src,
				   __u32 cpu, __u32 now, struct hit *h,
				   int no32)
{
	__u32 i, n = cfg->n4, plen, a, nb = cfg->nb4, mask = nb - 1, b1, b2;
	struct mx_cline4 *c1, *c2;
	struct mx_bkt4 *k1, *k2;
	int region;
	__u64 key;

	if (!n || !bm_test(&mx_bm4, mx_bm4_bit(src)))
		return 0;
	region = bm_test(&mx_bl, mx_rg4_bit(src));
	for (i = 0; i < 33; i++) {
		if (i >= n)
			break;
		plen = cfg->plen4[i];
		if (plen == 0 || plen > 32)
			break;
		if (plen == 32 && no32)
			continue;
		/* the netblocks of /16 to /31: only where the source's /24
		 * has its region bit */
		if (plen < 32 && plen >= MX_RG4_MIN && !region)
			continue;
		a = plen == 32 ? src : src & ~(0xffffffffU >> plen);
		if (!bm_test(&mx_bl, mx_bl4_bit(a, plen)))
			continue;
		b1 = mx_t4_b1(a, plen, mask);
		b2 = mx_t4_b2(a, plen, mask);
		k1 = bpf_map_lookup_elem(&mx_t4, &b1);
		k2 = bpf_map_lookup_elem(&mx_t4, &b2);
		b1 += cpu * nb;
		b2 += cpu * nb;
		c1 = bpf_map_lookup_elem(&mx_c4, &b1);
		c2 = bpf_map_lookup_elem(&mx_c4, &b2);
		if (!k1 || !k2 || !c1 || !c2)
			return 0;
		/* four independent reads in flight at once: the second
		 * bucket too, or a key found there would be read only once
		 * the first one's slots have been compared */
		touch(k2);
		touch(c1);
		touch(c2);
		key = (__u64)plen << 32 | a;
		if (probe4(k1, c1, key, now, h) || probe4(k2, c2, key, now, h))
			return 1;
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

static __always_inline int probe6(struct mx_bkt6 *bk, struct mx_cline6 *cl,
				  __u64 hi, __u64 lo, __u32 plen, __u32 now,
				  struct hit *h)
{
	int j;

#pragma unroll
	for (j = 0; j < MX_T6_SLOTS; j++) {
		__u32 f = bk->s[j].flags;

		if (MX_E_PLEN(f) != plen || bk->s[j].hi != hi ||
		    bk->s[j].lo != lo)
			continue;
		if (!live(bk->s[j].exp, now))
			return 0;
		h->flags = f;
		h->ctr = &cl->c[j];
		return 1;
	}
	return 0;
}

/* lookup6 - longest live match of an IPv6 source */
static __always_inline int lookup6(const struct mx_cfg *cfg,
				   const struct ipv6hdr *ip6, __u32 cpu,
				   __u32 now, struct hit *h)
{
	__u32 i, n = cfg->n6, plen, nb = cfg->nb6, mask = nb - 1, b1, b2;
	struct mx_cline6 *c1, *c2;
	struct mx_bkt6 *k1, *k2;
	__u64 hi, lo, mhi, mlo, x, *w;
	__u32 cls = 0xff, byte;

	if (!n)
		return 0;
	__builtin_memcpy(&hi, &ip6->saddr.in6_u.u6_addr8[0], 8);
	__builtin_memcpy(&lo, &ip6->saddr.in6_u.u6_addr8[8], 8);
	if (!(cfg->flags & MX_CFG_BM6_OFF)) {
		/* the classes of lengths with an entry near the source */
		byte = mx_bm6_byte(hi, mask64(MX_BM6_PLEN));
		b1 = byte / 8;
		w = bpf_map_lookup_elem(&mx_bm6, &b1);
		if (!w)
			return 0;
		cls = (__u32)(*w >> (byte % 8 * 8)) & 0xff;
		if (!cls)
			return 0;
	}
	for (i = 0; i < 129; i++) {
		if (i >= n)
			break;
		plen = cfg->plen6[i];
		if (plen == 0 || plen > 128)
			break;
		if (plen <= 64) {
			mhi = hi & mask64(plen);
			mlo = 0;
		} else {
			mhi = hi;
			mlo = lo & mask64(plen - 64);
		}
		if (!(cls >> mx_cls6(plen) & 1))
			continue;
		x = mx_h6(mhi, mlo, plen);
		if (!bm_test(&mx_bl, mx_bl6_bit(x)))
			continue;
		b1 = mx_t6_b1(x, mask);
		b2 = mx_t6_b2(x, mask);
		k1 = bpf_map_lookup_elem(&mx_t6, &b1);
		k2 = bpf_map_lookup_elem(&mx_t6, &b2);
		b1 += cpu * nb;
		b2 += cpu * nb;
		c1 = bpf_map_lookup_elem(&mx_c6, &b1);
		c2 = bpf_map_lookup_elem(&mx_c6, &b2);
		if (!k1 || !k2 || !c1 || !c2)
			return 0;
		touch(k2);
		touch(c1);
		touch(c2);
		if (probe6(k1, c1, mhi, mlo, plen, now, h) ||
		    probe6(k2, c2, mhi, mlo, plen, now, h))
			return 1;
	}
	return 0;
}

/* count - one more packet of len bytes at time stamp now */
static __always_inline void count(struct mx_ctr *c, __u32 len, __u32 now)
{
	c->pk = ((c->pk + 1) & MX_CTR_MASK) | (__u64)(now & 0xffff) << 48;
	c->by = ((c->by + len) & MX_CTR_MASK) | (__u64)(now >> 16) << 48;
}

/* xslot - the slot of key a in index line x, or -1 */
static __always_inline int xslot(const struct mx_xb4 *x, __u32 a)
{
	int j;

#pragma unroll
	for (j = 0; j < MX_X4_SLOTS; j++)
		if (x->k[j] == a)
			return j;
	return -1;
}

/*
 * xfold - count the logged hits into their index slots' counters on this
 * CPU: every counter line read first (they do not depend on each other,
 * so their misses overlap), then added to. A hit whose key has left its
 * slot since is not counted (the controller took the entry out).
 */
static __always_inline void xfold(struct mx_xlog *l, __u32 cpu, __u32 nx)
{
	__u32 i, base = cpu * nx * MX_X4_STRIDE;
	struct mx_xb4 *x;
	struct mx_ctr *c;

	for (i = 0; i < MX_XLOG; i++) {
		__u32 k = base + l->slot[i];

		c = bpf_map_lookup_elem(&mx_xc4, &k);
		if (c)
			touch(c);
	}
	for (i = 0; i < MX_XLOG; i++) {
		__u32 s = l->slot[i], b = s / MX_X4_STRIDE, k = base + s;
		__u32 j = s % MX_X4_STRIDE;

		x = bpf_map_lookup_elem(&mx_x4, &b);
		if (!x || j >= MX_X4_SLOTS || x->k[j] != l->key[i])
			continue;
		c = bpf_map_lookup_elem(&mx_xc4, &k);
		if (c)
			count(c, l->len[i], l->ts[i]);
	}
	l->n = 0;
}

/* what the host index says of an IPv4 source */
enum xres {
	X_NO32,	 /* no /32 entry: the table for its netblocks */
	X_TABLE, /* the table answers */
	X_DROP,	 /* a plain drop host: dropped, hit logged */
};

/*
 * xlookup - look IPv4 source a (host order), whose /24 summary bit is set,
 * up in the host index; a hit on a plain drop host is logged, and counted
 * with the others every MX_XLOG-th hit. A key is read before its line's
 * header word (the controller sets a slot's ask bit before it publishes a
 * key and clears it after the table holds a plain drop entry for it).
 */
static __always_inline enum xres xlookup(const struct mx_cfg *cfg, __u32 a,
					 __u32 cpu, __u32 now, __u32 len)
{
	__u32 nx = mx_nx4(cfg->nb4), b1, b2, n, hdr;
	struct mx_xb4 *x1, *x2;
	struct mx_xlog *l;
	int j;

	if (!a)
		return X_TABLE;
	b1 = mx_x4_b1(a, nx);
	b2 = mx_x4_b2(a, nx);
	x1 = bpf_map_lookup_elem(&mx_x4, &b1);
	x2 = bpf_map_lookup_elem(&mx_x4, &b2);
	if (!x1 || !x2)
		return X_TABLE;
	/* the controller fills a host's first line first: the second is
	 * read only when the host is not in the first and the first has
	 * overflowed */
	j = xslot(x1, a);
	if (j < 0) {
		barrier();
		hdr = READ_ONCE(x1->hdr);
		if (hdr & MX_X4_OVF)
			j = xslot(x2, a);
		if (j < 0)
			return hdr & MX_X4_PART ? X_TABLE : X_NO32;
		x1 = x2;
		b1 = b2;
	}
	barrier();
	if (READ_ONCE(x1->hdr) & MX_X4_ASK(j))
		return X_TABLE;
	l = bpf_map_lookup_elem(&mx_xl, &cpu);
	if (!l)
		return X_DROP;
	n = l->n;
	if (n >= MX_XLOG)
		n = 0;
	l->slot[n] = b1 * MX_X4_STRIDE + (__u32)j;
	l->key[n] = a;
	l->len[n] = len;
	l->ts[n] = now;
	l->n = ++n;
	if (n >= MX_XLOG)
		xfold(l, cpu, nx);
	return X_DROP;
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
	struct hit h = {};
	__u32 zero = 0, len = 0, cpu, now, frag = MX_FRAG_NONE;
	enum verdict base = V_MISS;
	enum xres x = X_TABLE;
	void *l3;
	int proto, hit;

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

	/* a whole IPv4 SMTP SYN: most sources that are not listed stop at
	 * the /24 summary, before anything else is read */
	if (ip && base == V_MISS &&
	    !bm_test(&mx_bm4, mx_bm4_bit(bpf_ntohl(ip->saddr))))
		return verdict(base);
	/* branch on the pointer: the verifier tracks it, not the family */
	cpu = bpf_get_smp_processor_id();
	/* jiffies: a load, where the coarse clock costs ~15 ns a packet */
	now = (__u32)(bpf_jiffies64() >> MX_TS_SHIFT);
	/* then the host index */
	if (ip && base == V_MISS) {
		x = xlookup(cfg, bpf_ntohl(ip->saddr), cpu, now, len);
		if (x == X_DROP)
			return verdict(cfg->flags & MX_CFG_OBSERVE ? V_OBSERVE
								   : V_DROP);
	}
	if (ip)
		hit = lookup4(cfg, bpf_ntohl(ip->saddr), cpu, now, &h,
			      x == X_NO32);
	else if (ip6)
		hit = lookup6(cfg, ip6, cpu, now, &h);
	else
		return verdict(base == V_MISS ? V_PASS : base);
	if (!hit)
		return verdict(base);

	count(h.ctr, len, now);
	if (base != V_MISS) {
		/* a fragment that may hide an SMTP SYN */
		if (h.flags & MX_E_ALLOW)
			return verdict(V_FALLOW);
		if ((cfg->flags & MX_CFG_OBSERVE) || (h.flags & MX_E_OBSERVE))
			return verdict(V_FOBSERVE);
		return verdict(V_FDROP);
	}
	if (h.flags & MX_E_ALLOW)
		return verdict(V_ALLOW);
	if ((cfg->flags & MX_CFG_OBSERVE) || (h.flags & MX_E_OBSERVE))
		return verdict(V_OBSERVE);
	return verdict(V_DROP);
}

char LICENSE[] SEC("license") = "GPL";
