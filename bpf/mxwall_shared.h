/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mxwall_shared.h - the one header the XDP program (bpf/mxwall.bpf.c) and
 * the controller (ctl/backend_xdp.c, selftests/prog, selftests/bench) both
 * include: map names, keys, values, flags and counter indices.
 *
 * Every layout here is pinned under the pin directory and outlives both the
 * program and the controller. Changing any struct, map size rule or meaning
 * of a field requires bumping MX_LAYOUT, so that an old pin directory is
 * refused with a clear message instead of being misread. Numbers are never
 * reused. Only __u8..__u64 types, so both sides agree on the layout.
 *
 * Lookup design (chosen by measurement, see docs/performance.md):
 *  - a summary bitmap per family (MX_MAP_BM4: one bit per IPv4 /24 that any
 *    entry touches; MX_MAP_BM6: one bit per hash of the IPv6 /32) answers
 *    most misses from one cache-resident 2 MiB array;
 *  - an exact table per family keyed by (prefix length, masked address),
 *    probed from the longest prefix length present down, using the list of
 *    lengths present kept in the config map; a host hit is one probe.
 *    IPv4 (MX_MAP_T4): our own two-choice table in an mmapped array of
 *    64-byte buckets with eight 8-byte slots, so a probe reads one or two
 *    cache lines that do not depend on each other (a kernel hash reads a
 *    bucket, then an element); the controller writes a slot with one
 *    atomic 64-bit store. IPv6 (MX_MAP_H6, far fewer entries): a kernel
 *    hash, written with the batch API;
 *  - before a probe of the IPv4 table for one prefix length, a one-hash
 *    Bloom filter over every (prefix length, prefix) present (MX_MAP_BL4,
 *    2 MiB), so a source whose /24 summary bit is set by a neighbour does
 *    not cost a table read per prefix length; IPv6 entries have their bits
 *    in it too (mx_bl6_bit), tested before each IPv6 hash probe;
 *  - per-entry counters in a plain array indexed by cpu * capacity + id, so
 *    each CPU writes its own cache lines (no bouncing) and the lookup is
 *    inlined (one memory access);
 *  - entry metadata in an array indexed by the entry id, for the controller.
 */
#ifndef MXWALL_SHARED_H
#define MXWALL_SHARED_H

#include <linux/types.h>

/* mx_mix32 - a bijection on 32 bits with good avalanche (lowbias32) */
static inline __u32 mx_mix32(__u32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/* bump on any change of a pinned layout below */
#define MX_LAYOUT 1
#define MX_MAGIC 0x6d78776cU /* "mxwl" */

/* map names: also the file names of the pins (< 16 characters) */
#define MX_MAP_CFG "mx_cfg"	/* array[1] of struct mx_cfg */
#define MX_MAP_STATS "mx_stats" /* percpu array[1] of struct mx_stats */
#define MX_MAP_T4 "mx_t4"	/* array[nb4] of struct mx_bkt4 */
#define MX_MAP_H6 "mx_h6"	/* hash mx_key6 -> mx_val */
#define MX_MAP_BM4 "mx_bm4"	/* array[MX_BM_WORDS] of __u64 */
#define MX_MAP_BM6 "mx_bm6"	/* array[MX_BM_WORDS] of __u64 */
#define MX_MAP_BL4 "mx_bl4"	/* array[MX_BM_WORDS] of __u64 */
#define MX_MAP_CTR "mx_ctr"	/* array[ncpus * cap] of mx_ctr */
#define MX_MAP_META "mx_meta"	/* array[cap] of struct mx_meta */
#define MX_MAP_TAGS "mx_tags"	/* array[MX_TAGSETS] of mx_tagset */
#define MX_MAP_SEEN "mx_seen"	/* array[MX_SEEN_SLOTS] of __u64 */
/* the link of interface IFNAME is pinned as MX_LINK_PREFIX IFNAME */
#define MX_LINK_PREFIX "link_"

/* default capacities (entries); the controller may choose others at create */
#ifndef MX_V4_CAP_DEFAULT
#define MX_V4_CAP_DEFAULT (2U * 1024 * 1024)
#endif
#ifndef MX_V6_CAP_DEFAULT
#define MX_V6_CAP_DEFAULT (256U * 1024)
#endif

/* summary bitmaps: 2^24 bits = 2 MiB each */
#define MX_BM_BITS_LOG2 24
#define MX_BM_WORDS ((1U << MX_BM_BITS_LOG2) / 64)
/* IPv6 summary: bit = hash of the first 32 bits of the address */
#define MX_BM6_MULT 0x9e3779b1U
/* IPv6 entries shorter than this make the IPv6 summary always say "maybe" */
#define MX_BM6_MIN_PLEN 16

#define MX_PORTS_MAX_BPF 8
#define MX_TAGSETS 16384
#define MX_TAGS_LEN_BPF 64
/* recent SYN sources: slots of the direct-mapped record */
#define MX_SEEN_SLOTS (64U * 1024)

/* parser bounds */
#define MX_VLAN_MAX 2
#define MX_V6_EXT_MAX 8 /* extension headers walked (>= 6) */

/* struct mx_cfg.flags */
#define MX_CFG_OBSERVE 0x1 /* global observe mode */
#define MX_CFG_BM6_OFF 0x2 /* IPv6 summary unusable: probe every time */
#define MX_CFG_DIRTY 0x4   /* an apply() is under way, or died half-way */
#define MX_CFG_BL6 0x8	   /* mx_bl4 also holds every IPv6 entry's bit */

struct mx_cfg {
	__u32 magic;  /* MX_MAGIC */
	__u32 layout; /* MX_LAYOUT */
	__u32 flags;  /* MX_CFG_* */
	__u32 nports;
	__u16 ports[MX_PORTS_MAX_BPF]; /* SMTP ports, host order */
	__u32 cap4;  /* IPv4 entries (mx_t4 has cap4 / 4 buckets) */
	__u32 cap6;  /* capacity of mx_h6 */
	__u32 cap;   /* ids 0..cap-1 = cap4 + cap6 */
	__u32 ncpus; /* mx_ctr has ncpus * cap entries */
	__u32 n4;    /* prefix lengths present, longest first */
	__u32 n6;
	__u8 plen4[33];
	__u8 plen6[129];
	__u8 pad[2];
	__u32 nb4; /* buckets of mx_t4, a power of two */
};

/* global counters, index by field; summed over CPUs by the controller */
struct mx_stats {
	__u64 seen;
	__u64 syn;
	__u64 dropped;
	__u64 allowed;
	__u64 observed;
	__u64 passed;
	__u64 malformed;
};

/*
 * One IPv4 slot: (meta << 32) | address in host order, host bits clear;
 * 0 = free. meta: bits 0-5 prefix length (1..32), bit 6 allow, bit 7
 * observe, bits 8-31 the entry id.
 */
#define MX_T4_SLOTS 8
#define MX_T4_PLEN(meta) ((meta)&0x3f)
#define MX_T4_ALLOW 0x40
#define MX_T4_OBSERVE 0x80
#define MX_T4_ID(meta) ((meta) >> 8)
#define MX_T4_ID_MAX 0xffffffU
/* buckets: the power of two at or above cap4 / 4 (load at most 1/2) */

struct mx_bkt4 {
	__u64 slot[MX_T4_SLOTS];
};

/* the two candidate buckets of (plen, masked address in host order) */
static inline __u32 mx_t4_b1(__u32 a, __u32 plen, __u32 mask)
{
	return mx_mix32(a ^ (plen * 0x9e3779b9U)) & mask;
}

static inline __u32 mx_t4_b2(__u32 a, __u32 plen, __u32 mask)
{
	return mx_mix32(a ^ (plen * 0x9e3779b9U) ^ 0x5bd1e995U) & mask;
}

struct mx_key6 {
	__u32 plen;
	__u32 pad;     /* zero */
	__u8 addr[16]; /* network order, host bits clear */
};

/* struct mx_val.action */
#define MX_VAL_DROP 1
#define MX_VAL_ALLOW 2
/* struct mx_val.flags */
#define MX_VAL_OBSERVE 0x1

struct mx_val {
	__u32 id;    /* index into mx_meta, mx_ctr */
	__u8 action; /* MX_VAL_DROP or MX_VAL_ALLOW */
	__u8 flags;  /* MX_VAL_* */
	__u16 pad;
};

struct mx_ctr {
	__u64 packets;
	__u64 bytes;	/* IP bytes, header included */
	__u64 last_hit; /* bpf_ktime_get_coarse_ns(); 0 never */
};

/* controller-only metadata of an entry, index = id */
struct mx_meta {
	__u8 addr[16]; /* network order; v4 in the first 4 bytes */
	__u8 family;   /* 0 = slot free, else AF_INET / AF_INET6 */
	__u8 plen;
	__u8 action; /* MX_VAL_DROP or MX_VAL_ALLOW */
	__u8 origin; /* enum mx_origin */
	__u8 observe;
	__u8 pad;
	__u16 tagset;  /* index into mx_tags; 0 = no tags */
	__s64 added;   /* unix seconds */
	__s64 expires; /* unix seconds; 0 none */
};

struct mx_tagset {
	char tags[MX_TAGS_LEN_BPF]; /* comma list, NUL terminated */
};

/*
 * The record of recent SMTP SYN sources: a direct-mapped table of 64-bit
 * slots (512 KiB, stays in cache), the slot chosen by a hash of the source
 * and overwritten by the latest source that maps there. Measured: an
 * 8-way set with least-recent replacement costs ~15 ns more per packet
 * under a random-source flood (branch misses), which is where the record
 * works hardest. A slot is (stamp << 32) | tag: tag is the IPv4 address
 * (as loaded from the packet) or a 32-bit hash of the IPv6 address; stamp
 * is (bpf_ktime_get_coarse_ns() >> 30) << 1 | is_v6 (units of 1.07 s).
 */
#define MX_SEEN_SHIFT 30

/* mx_seen_tag - the tag of a source; w: its address as four raw words */
static inline __u32 mx_seen_tag(int v6, const __u32 *w)
{
	return v6 ? mx_mix32(w[0] ^
			     mx_mix32(w[1] ^ mx_mix32(w[2] ^ mx_mix32(w[3]))))
		  : w[0];
}

static inline __u32 mx_seen_slot(__u32 tag, int v6)
{
	return mx_mix32(tag ^ (v6 ? 0xa5a5a5a5U : 0)) & (MX_SEEN_SLOTS - 1);
}

/* mx_bm4 bit of an IPv4 address in host order */
static inline __u32 mx_bm4_bit(__u32 addr_host)
{
	return addr_host >> 8;
}

/* mx_bl4 bit of (plen, masked IPv4 address in host order) */
static inline __u32 mx_bl4_bit(__u32 a, __u32 plen)
{
	return mx_mix32(a ^ (plen * 0x85ebca6bU) ^ 0x27d4eb2fU) >>
	       (32 - MX_BM_BITS_LOG2);
}

/*
 * mx_bl4 bit of an IPv6 (plen, masked address): w is the address as four
 * raw words (network order, host bits clear). IPv6 entries share the IPv4
 * Bloom filter (far fewer of them); the program tests it before a probe
 * of mx_h6 only when MX_CFG_BL6 says every IPv6 entry has its bit (a pin
 * directory filled by an older controller gets it at the next rebuild).
 */
static inline __u32 mx_bl6_bit(const __u32 *w, __u32 plen)
{
	return mx_mix32(w[0] ^
			mx_mix32(w[1] ^
				 mx_mix32(w[2] ^
					  mx_mix32(w[3] ^ plen * 0x9e3779b1U) ^
					  0x6a09e667U))) >>
	       (32 - MX_BM_BITS_LOG2);
}

/* mx_bm6 bit of an IPv6 address whose first 32 bits are hi_host */
static inline __u32 mx_bm6_bit(__u32 hi_host)
{
	return (__u32)(hi_host * MX_BM6_MULT) >> (32 - MX_BM_BITS_LOG2);
}

#endif /* MXWALL_SHARED_H */
