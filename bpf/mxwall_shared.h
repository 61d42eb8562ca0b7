/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mxwall_shared.h - the one header the XDP program (bpf/mxwall.bpf.c) and
 * the controller (ctl/backend/xdp*.c, selftests/prog, selftests/bench) both
 * include: map names, keys, values, flags and counter indices.
 *
 * Every layout here is pinned under the pin directory and outlives both the
 * program and the controller. Changing any struct, map size rule or meaning
 * of a field requires bumping MX_LAYOUT, so that an old pin directory is
 * refused with a clear message instead of being misread. Numbers are never
 * reused. Only __u8..__u64 types, so both sides agree on the layout.
 *
 * Lookup design (chosen by measurement, see docs/performance.md), one
 * scheme for both families:
 *  - a summary per family answers most misses from one 2 MiB array
 *    (MX_MAP_BM4: one bit per IPv4 /24 that any entry touches; MX_MAP_BM6:
 *    one byte per hash of an IPv6 /48, a bit per class of prefix lengths
 *    present there (mx_cls6), entries from /32 to /47 setting the byte of
 *    each of their /48s), so an IPv6 lookup skips the lengths that have
 *    no entry near the source;
 *  - a table per family of 64-byte buckets, keyed by (prefix length,
 *    masked address), probed from the longest prefix length present down
 *    (the lists of lengths present are in the config map). Each key has
 *    two candidate buckets (two choices, one relocation step on insert),
 *    so a probe reads two lines that do not depend on each other. IPv4
 *    (MX_MAP_T4): four 16-byte slots a bucket; IPv6 (MX_MAP_T6): two
 *    32-byte slots;
 *  - before each probe, a one-hash Bloom filter over every (family, prefix
 *    length, prefix) present (MX_MAP_BL, 2 MiB), so a source whose summary
 *    says "maybe" because of a neighbour does not cost a table read per
 *    prefix length; and in the same filter a region bit a /24 that an
 *    IPv4 netblock of /16 to /31 covers or lies in (mx_rg4_bit), so a
 *    source whose /24 has hosts only skips the netblock lengths with one
 *    read instead of a Bloom read each;
 *  - per-CPU counters addressed by table slot (MX_MAP_C4, MX_MAP_C6: one
 *    counter line per bucket per CPU, at cpu * buckets + bucket), so the
 *    program starts the reads of the bucket lines and of their counter
 *    lines together, before it knows which slot holds the key: a hit under
 *    a flood costs one memory latency, not two in a row; each CPU writes
 *    its own lines (no bouncing);
 *  - an entry's expiry time in its slot: the program treats an expired
 *    entry as absent, with or without a controller running;
 *  - entry metadata in an array indexed by an entry id kept in the slot,
 *    for the controller only;
 *  - a host index (layout 4, MX_MAP_X4): every IPv4 host entry (/32) as
 *    a bare 4-byte key, fifteen to a 64-byte line, two candidate lines;
 *    about 5 bytes an entry, so a flood from a million blocked hosts is
 *    answered from a few MiB that stay in the cache instead of a table
 *    line and a counter line out of it. A key found there with its slot's
 *    "ask" bit clear is a plain drop entry with no expiry, the longest
 *    match: dropped from the index alone. With the bit set (allow,
 *    observe, an expiry) the table answers. A source not found is no
 *    /32 entry at all, so the table is probed for its netblocks only
 *    (a miss pays the index line instead of the /32 Bloom bit), unless
 *    its first line says a host of it was left out (both lines full).
 *    The controller keeps this true around every table change: a host
 *    goes in (asking) before its slot is written and leaves after, its
 *    bit is set before the slot stops being a plain drop and cleared
 *    after it becomes one. Counters of the index-only hits are kept by
 *    index slot (MX_MAP_XC4) and counted in batches: a hit is logged
 *    (MX_MAP_XL, MX_XLOG hits a CPU) and every MX_XLOG-th hit the program
 *    reads the logged slots' counter lines all at once, then adds. An
 *    entry's counts are its table slot's, its index slot's and its hits
 *    still in the logs (the controller adds all three);
 *  - memory that follows the entries: the tables, counters and metadata
 *    are made small and replaced by bigger ones as entries come (the
 *    controller fills the new maps and switches the program to them).
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
#define MX_LAYOUT 4
#define MX_MAGIC 0x6d78776cU /* "mxwl" */

/* map names: also the file names of the pins (< 16 characters) */
#define MX_MAP_CFG "mx_cfg"	/* array[1] of struct mx_cfg */
#define MX_MAP_STATS "mx_stats" /* percpu array[1] of struct mx_stats */
#define MX_MAP_T4 "mx_t4"	/* array[nb4] of struct mx_bkt4 */
#define MX_MAP_T6 "mx_t6"	/* array[nb6] of struct mx_bkt6 */
#define MX_MAP_C4 "mx_c4"	/* array[ncpus * nb4] of struct mx_cline4 */
#define MX_MAP_C6 "mx_c6"	/* array[ncpus * nb6] of struct mx_cline6 */
#define MX_MAP_BM4 "mx_bm4"	/* array[MX_BM_WORDS] of __u64 */
#define MX_MAP_BM6 "mx_bm6"	/* array[MX_BM_WORDS] of __u64 */
#define MX_MAP_BL "mx_bl"	/* array[MX_BM_WORDS] of __u64 */
#define MX_MAP_META "mx_meta"	/* array[cap] of struct mx_meta */
#define MX_MAP_TAGS "mx_tags"	/* array[MX_TAGSETS] of mx_tagset */
#define MX_MAP_X4 "mx_x4"	/* array[mx_nx4(nb4)] of struct mx_xb4 */
#define MX_MAP_XC4 "mx_xc4" /* array[ncpus * nx4 * MX_X4_STRIDE] of mx_ctr */
#define MX_MAP_XL "mx_xl"   /* array[ncpus] of struct mx_xlog */
/* the link of interface IFNAME is pinned as MX_LINK_PREFIX IFNAME */
#define MX_LINK_PREFIX "link_"

/*
 * Capacities (entries): the maps of a new pin directory are made for few
 * entries, and the controller makes bigger ones as entries come (growing
 * by MX_CAP_GROWTH), up to the most a pin directory allows.
 */
#define MX_V4_CAP_DEFAULT 1024U
#define MX_V6_CAP_DEFAULT 256U
#define MX_V4_CAP_MAX (16U * 1024 * 1024)
#define MX_V6_CAP_MAX (4U * 1024 * 1024)
#define MX_CAP_GROWTH 4

/* summary bitmaps and the Bloom filter: 2^24 bits = 2 MiB each */
#define MX_BM_BITS_LOG2 24
#define MX_BM_WORDS ((1U << MX_BM_BITS_LOG2) / 64)
/* the IPv6 summary has a byte per hash of the /48 (2^21 of them) ... */
#define MX_BM6_PLEN 48
#define MX_BM6_BYTES_LOG2 21
/* ... entries shorter than this make it always say "maybe" */
#define MX_BM6_MIN_PLEN 32

#define MX_PORTS_MAX_BPF 8
#define MX_TAGSETS 16384
#define MX_TAGS_LEN_BPF 64

/* parser bounds */
#define MX_VLAN_MAX 2
#define MX_V6_EXT_MAX 8 /* extension headers walked (>= 6) */

/* struct mx_cfg.flags */
#define MX_CFG_OBSERVE 0x1  /* global observe mode */
#define MX_CFG_BM6_OFF 0x2  /* IPv6 summary unusable: probe every time */
#define MX_CFG_DIRTY 0x4    /* an apply() is under way, or died half-way */
#define MX_CFG_REPLACED 0x8 /* these maps were replaced by bigger ones */

struct mx_cfg {
	__u32 magic;  /* MX_MAGIC */
	__u32 layout; /* MX_LAYOUT */
	__u32 flags;  /* MX_CFG_* */
	__u32 nports;
	__u16 ports[MX_PORTS_MAX_BPF]; /* SMTP ports, host order */
	__u32 cap4;		       /* IPv4 entries */
	__u32 cap6;		       /* IPv6 entries */
	__u32 cap;		       /* ids 0..cap-1 = cap4 + cap6 */
	__u32 ncpus; /* the counter maps have ncpus lines per bucket */
	__u32 n4;    /* prefix lengths present, longest first */
	__u32 n6;
	__u8 plen4[33];
	__u8 plen6[129];
	__u8 pad[2];
	__u32 nb4;	/* buckets of mx_t4, a power of two */
	__u32 nb6;	/* buckets of mx_t6, a power of two */
	__u32 cap4_max; /* how far the controller may grow the tables */
	__u32 cap6_max;
	__u32 gen; /* tables made so far: 1 at create, +1 a growth */
	/* the program's clock (jiffies): ticks per second, and one moment
	 * as jiffies and CLOCK_MONOTONIC ns, measured at create */
	__u32 hz;
	__u64 j0;
	__u64 t0;
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
 * Slot flags (the upper half of an IPv4 slot's key, the flags word of an
 * IPv6 slot): bits 0-7 the prefix length (1..32, 1..128), MX_E_ALLOW,
 * MX_E_OBSERVE. 0 = the slot is free.
 */
#define MX_E_PLEN(f) ((f)&0xff)
#define MX_E_ALLOW 0x100
#define MX_E_OBSERVE 0x200

/*
 * An IPv4 slot: key = (flags << 32) | address in host order, host bits
 * clear, loaded and stored as one 64-bit word, so the program never sees a
 * key with another entry's flags; exp and id are written before the key.
 */
struct mx_slot4 {
	__u64 key;
	__u32 exp; /* expiry, a time stamp (MX_TS_SHIFT); 0 none */
	__u32 id;  /* index into mx_meta (controller only) */
};

#define MX_T4_SLOTS 4
struct mx_bkt4 {
	struct mx_slot4 s[MX_T4_SLOTS];
};

/*
 * An IPv6 slot: the address as two raw 64-bit words (network byte order
 * in memory, host bits clear). The controller writes hi, lo, exp and id of
 * a free slot before its flags, and clears the flags first when it frees
 * one.
 */
struct mx_slot6 {
	__u64 hi;
	__u64 lo;
	__u32 flags;
	__u32 exp;
	__u32 id;
	__u32 pad;
};

#define MX_T6_SLOTS 2
struct mx_bkt6 {
	struct mx_slot6 s[MX_T6_SLOTS];
};

/*
 * Counters of one slot on one CPU, 16 bytes: packets and bytes in the low
 * 48 bits of each word (2.8e14 per CPU and entry), the last hit's time
 * stamp in their upper 16 bits (low half in pk, high half in by). A time
 * stamp is bpf_jiffies64() >> MX_TS_SHIFT (units of 64 ticks: 64 ms at
 * HZ=1000, 640 ms at HZ=100; mx_cfg's hz, j0 and t0 turn it into
 * CLOCK_MONOTONIC); 0 never. Expiry times in slots are in the same units.
 */
#define MX_TS_SHIFT 6
#define MX_CTR_MASK ((1ULL << 48) - 1)

struct mx_ctr {
	__u64 pk;
	__u64 by;
};

static inline __u64 mx_ctr_packets(const struct mx_ctr *c)
{
	return c->pk & MX_CTR_MASK;
}

static inline __u64 mx_ctr_bytes(const struct mx_ctr *c)
{
	return c->by & MX_CTR_MASK;
}

static inline __u32 mx_ctr_stamp(const struct mx_ctr *c)
{
	return (__u32)(c->pk >> 48) | (__u32)(c->by >> 48) << 16;
}

/* one counter line: the counters of one bucket's slots on one CPU */
struct mx_cline4 {
	struct mx_ctr c[MX_T4_SLOTS];
};

struct mx_cline6 {
	struct mx_ctr c[MX_T6_SLOTS];
};

/* the two candidate buckets of an IPv4 (plen, masked address, host order) */
static inline __u32 mx_t4_b1(__u32 a, __u32 plen, __u32 mask)
{
	return mx_mix32(a ^ (plen * 0x9e3779b9U)) & mask;
}

static inline __u32 mx_t4_b2(__u32 a, __u32 plen, __u32 mask)
{
	return mx_mix32(a ^ (plen * 0x9e3779b9U) ^ 0x5bd1e995U) & mask;
}

/*
 * mx_h6 - the hash of an IPv6 (plen, masked address as two raw words):
 * its low 32 bits pick the first bucket, the next ones the second, its top
 * MX_BM_BITS_LOG2 bits the Bloom filter's bit. Two multiplies that do not
 * wait on each other, then one to mix.
 */
static inline __u64 mx_h6(__u64 hi, __u64 lo, __u32 plen)
{
	__u64 h = (hi ^ plen) * 0x9e3779b97f4a7c15ULL ^
		  (lo + plen) * 0xc2b2ae3d27d4eb4fULL;

	h ^= h >> 31;
	h *= 0xd6e8feb86659fd93ULL;
	return h ^ (h >> 29);
}

static inline __u32 mx_t6_b1(__u64 h, __u32 mask)
{
	return (__u32)h & mask;
}

static inline __u32 mx_t6_b2(__u64 h, __u32 mask)
{
	return (__u32)(h >> 20) & mask;
}

/*
 * The host index (MX_MAP_X4): mx_nx4(nb4) lines of MX_X4_SLOTS keys (IPv4
 * addresses in host order; 0 = free, so 0.0.0.0 is never indexed and the
 * table always answers for it), the lines of a key chosen by mx_x4_b1 and
 * mx_x4_b2, and a header word:
 *  - MX_X4_ASK(j): the host in slot j is not a plain drop entry without
 *    expiry (or is changing): the table answers for it;
 *  - MX_X4_OVF: a host whose first line this is went to its second (the
 *    controller puts a host in its first line when there is room, and
 *    sets this before the key goes to the second), so a lookup that does
 *    not find a host in its first line reads the second only when set;
 *  - MX_X4_PART: a host whose first line this is found both lines full
 *    and is in neither: a host not found may still have a /32 entry.
 * OVF and PART are never cleared until the index is made anew (a growth).
 * Index slot s is line s / MX_X4_STRIDE, key s % MX_X4_STRIDE (always
 * below MX_X4_SLOTS); its counters on a CPU are at
 * cpu * nx4 * MX_X4_STRIDE + s of MX_MAP_XC4.
 */
#define MX_X4_SLOTS 15
#define MX_X4_STRIDE 16
#define MX_X4_ASK(j) (1U << (j))
#define MX_X4_OVF (1U << 31)
#define MX_X4_PART (1U << 30)
struct mx_xb4 {
	__u32 hdr; /* MX_X4_ASK(slot) | MX_X4_OVF | MX_X4_PART */
	__u32 k[MX_X4_SLOTS];
};

/* index lines for a table of nb4 buckets: at most 90% of the slots used
 * when the table is as full as it gets (two entries a bucket; a host
 * whose two lines are full stays out, the table answers for it) */
static inline __u32 mx_nx4(__u32 nb4)
{
	return (__u32)((__u64)nb4 * 19 / 128) + 1;
}

static inline __u32 mx_x4_b1(__u32 a, __u32 nx)
{
	return (__u32)(((__u64)mx_mix32(a) * nx) >> 32);
}

static inline __u32 mx_x4_b2(__u32 a, __u32 nx)
{
	return (__u32)(((__u64)mx_mix32(mx_mix32(a) ^ 0x5bd1e995U) * nx) >> 32);
}

/*
 * A CPU's log of index hits not yet counted (MX_MAP_XL, at index cpu):
 * n hits, each its index slot, key, length and time stamp. Written by the
 * program on that CPU only; the controller reads it to add the hits
 * still in it.
 */
#define MX_XLOG 64
struct mx_xlog {
	__u32 n;
	__u32 pad;
	__u32 slot[MX_XLOG];
	__u32 key[MX_XLOG];
	__u32 len[MX_XLOG];
	__u32 ts[MX_XLOG];
};

/* struct mx_meta.action */
#define MX_VAL_DROP 1
#define MX_VAL_ALLOW 2

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

/* mx_bm4 bit of an IPv4 address in host order */
static inline __u32 mx_bm4_bit(__u32 addr_host)
{
	return addr_host >> 8;
}

/* mx_bl bit of an IPv4 (plen, masked address in host order) */
static inline __u32 mx_bl4_bit(__u32 a, __u32 plen)
{
	return mx_mix32(a ^ (plen * 0x85ebca6bU) ^ 0x27d4eb2fU) >>
	       (32 - MX_BM_BITS_LOG2);
}

/*
 * The IPv4 region bits in mx_bl: IPv4 netblocks of MX_RG4_MIN to 31 bits
 * set the bit of every /24 they cover or lie in (at most 256); a lookup
 * probes those lengths only when its source's /24 has its bit set. (A
 * "prefix length" of 33 keeps the bits apart from the entries' own.)
 */
#define MX_RG4_MIN 16
static inline __u32 mx_rg4_bit(__u32 addr_host)
{
	return mx_bl4_bit(addr_host & 0xffffff00U, 33);
}

/* mx_bl bit of an IPv6 entry, from its mx_h6() */
static inline __u32 mx_bl6_bit(__u64 h)
{
	return (__u32)(h >> (64 - MX_BM_BITS_LOG2));
}

/*
 * mx_bm6_byte - the IPv6 summary's byte (index into the 2 MiB array) of an
 * address whose first 64 bits, as a raw word, are hi; mask48: the raw word
 * of the /48 mask (the same bytes on both sides).
 */
static inline __u32 mx_bm6_byte(__u64 hi, __u64 mask48)
{
	return (__u32)(((hi & mask48) * 0x9e3779b97f4a7c15ULL) >>
		       (64 - MX_BM6_BYTES_LOG2));
}

/*
 * mx_cls6 - the class of an IPv6 prefix length: the bit it sets in its
 * /48's summary byte. Lengths of one class share a bit (the Bloom filter
 * tells them apart); the common ones (/128, /64, /48) have their own.
 */
static inline __u32 mx_cls6(__u32 plen)
{
	if (plen == 128)
		return 0;
	if (plen > 64)
		return 1;
	if (plen == 64)
		return 2;
	if (plen > 56)
		return 3;
	if (plen > 48)
		return 4;
	if (plen == 48)
		return 5;
	return 6; /* /32 to /47: the byte of each of its /48s */
}

#endif /* MXWALL_SHARED_H */
