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
 *  - an exact hash per family keyed by (prefix length, masked address),
 *    probed from the longest prefix length present down, using the list of
 *    lengths present kept in the config map; a host hit is one hash lookup;
 *  - per-entry counters in a plain array indexed by cpu * capacity + id, so
 *    each CPU writes its own cache lines (no bouncing) and the lookup is
 *    inlined (one memory access);
 *  - entry metadata in an array indexed by the entry id, for the controller.
 */
#ifndef MXWALL_SHARED_H
#define MXWALL_SHARED_H

#include <linux/types.h>

/* bump on any change of a pinned layout below */
#define MX_LAYOUT 1
#define MX_MAGIC 0x6d78776cU	/* "mxwl" */

/* map names: also the file names of the pins (< 16 characters) */
#define MX_MAP_CFG "mx_cfg"		/* array[1] of struct mx_cfg */
#define MX_MAP_STATS "mx_stats"	/* percpu array[1] of struct mx_stats */
#define MX_MAP_H4 "mx_h4"		/* hash mx_key4 -> mx_val */
#define MX_MAP_H6 "mx_h6"		/* hash mx_key6 -> mx_val */
#define MX_MAP_BM4 "mx_bm4"		/* array[MX_BM_WORDS] of __u64 */
#define MX_MAP_BM6 "mx_bm6"		/* array[MX_BM_WORDS] of __u64 */
#define MX_MAP_CTR "mx_ctr"		/* array[ncpus * cap] of mx_ctr */
#define MX_MAP_META "mx_meta"		/* array[cap] of struct mx_meta */
#define MX_MAP_TAGS "mx_tags"		/* array[MX_TAGSETS] of mx_tagset */
#define MX_MAP_SEEN "mx_seen"		/* array[MX_SEEN_SLOTS] of mx_seen */
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
#define MX_SEEN_SLOTS (64U * 1024)	/* recent SYN sources, direct-mapped */
#define MX_SEEN_MULT 0x61c88647U

/* parser bounds */
#define MX_VLAN_MAX 2
#define MX_V6_EXT_MAX 8		/* extension headers walked (>= 6) */

/* struct mx_cfg.flags */
#define MX_CFG_OBSERVE 0x1	/* global observe mode */
#define MX_CFG_BM6_OFF 0x2	/* IPv6 summary unusable: probe every time */

struct mx_cfg {
	__u32 magic;		/* MX_MAGIC */
	__u32 layout;		/* MX_LAYOUT */
	__u32 flags;		/* MX_CFG_* */
	__u32 nports;
	__u16 ports[MX_PORTS_MAX_BPF];	/* SMTP ports, host order */
	__u32 cap4;		/* capacity of mx_h4 */
	__u32 cap6;		/* capacity of mx_h6 */
	__u32 cap;		/* ids 0..cap-1 = cap4 + cap6 */
	__u32 ncpus;		/* mx_ctr has ncpus * cap entries */
	__u32 n4;		/* prefix lengths present, longest first */
	__u32 n6;
	__u8 plen4[33];
	__u8 plen6[129];
	__u8 pad[2];
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

struct mx_key4 {
	__u32 plen;
	__u8 addr[4];		/* network order, host bits clear */
};

struct mx_key6 {
	__u32 plen;
	__u32 pad;		/* zero */
	__u8 addr[16];		/* network order, host bits clear */
};

/* struct mx_val.action */
#define MX_VAL_DROP 1
#define MX_VAL_ALLOW 2
/* struct mx_val.flags */
#define MX_VAL_OBSERVE 0x1

struct mx_val {
	__u32 id;		/* index into mx_meta, mx_ctr */
	__u8 action;		/* MX_VAL_DROP or MX_VAL_ALLOW */
	__u8 flags;		/* MX_VAL_* */
	__u16 pad;
};

struct mx_ctr {
	__u64 packets;
	__u64 bytes;		/* IP bytes, header included */
	__u64 last_hit;		/* bpf_ktime_get_coarse_ns(); 0 never */
};

/* controller-only metadata of an entry, index = id */
struct mx_meta {
	__u8 addr[16];		/* network order; v4 in the first 4 bytes */
	__u8 family;		/* 0 = slot free, else AF_INET / AF_INET6 */
	__u8 plen;
	__u8 action;		/* MX_VAL_DROP or MX_VAL_ALLOW */
	__u8 origin;		/* enum mx_origin */
	__u8 observe;
	__u8 pad;
	__u16 tagset;		/* index into mx_tags; 0 = no tags */
	__s64 added;		/* unix seconds */
	__s64 expires;		/* unix seconds; 0 none */
};

struct mx_tagset {
	char tags[MX_TAGS_LEN_BPF];	/* comma list, NUL terminated */
};

/* one slot of the recent SMTP SYN record; slot = hash(source) */
struct mx_seen {
	__u8 addr[16];
	__u32 family;		/* 4 or 6; 0 empty */
	__u32 pad;
	__u64 when;		/* bpf_ktime_get_coarse_ns() */
};

/* mx_bm4 bit of an IPv4 address in host order */
static inline __u32 mx_bm4_bit(__u32 addr_host)
{
	return addr_host >> 8;
}

/* mx_bm6 bit of an IPv6 address whose first 32 bits are hi_host */
static inline __u32 mx_bm6_bit(__u32 hi_host)
{
	return (__u32)(hi_host * MX_BM6_MULT) >> (32 - MX_BM_BITS_LOG2);
}

/* mx_seen slot of a source: fold the address, multiply, take high bits */
static inline __u32 mx_seen_slot(__u32 fold)
{
	return (__u32)(fold * MX_SEEN_MULT) >> 16;
}

#endif /* MXWALL_SHARED_H */
