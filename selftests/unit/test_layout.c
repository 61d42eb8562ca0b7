// SPDX-License-Identifier: GPL-2.0
/*
 * test_layout.c - the lookup layout both sides include (bpf/
 * mxwall_shared.h), on its own: the pinned sizes (a change needs a new
 * MX_LAYOUT), the slot and counter encodings, and the hashes that
 * pick buckets and summary bits (in range, spread, and depending on every
 * input they are meant to). The program and the controller agreeing on
 * them is what the packet fuzzer checks end to end.
 */
#include <stdlib.h>
#include <string.h>

#include "mxwall_shared.h"
#include "test.h"

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* the sizes pinned under MX_LAYOUT 4: changing one needs a new layout */
static void test_sizes(void)
{
	ASSERT_EQ(MX_LAYOUT, 4, "layout number");
	ASSERT_EQ(sizeof(struct mx_xb4), 64, "an index line is one line");
	ASSERT_EQ(MX_X4_SLOTS, 15, "fifteen keys and a header word");
	/* the header: an ask bit a slot, below the two line flags */
	ASSERT_TRUE(MX_X4_ASK(MX_X4_SLOTS - 1) < MX_X4_PART &&
			MX_X4_PART < MX_X4_OVF && MX_X4_SLOTS <= MX_X4_STRIDE,
		    "ask bits, PART and OVF do not overlap");
	ASSERT_EQ(sizeof(struct mx_xlog), 8 + 4 * 4 * MX_XLOG,
		  "a CPU's log of index hits");
	ASSERT_EQ(sizeof(struct mx_bkt4), 64, "an IPv4 bucket is one line");
	ASSERT_EQ(sizeof(struct mx_bkt6), 64, "an IPv6 bucket is one line");
	ASSERT_EQ(sizeof(struct mx_slot4), 16, "IPv4 slot");
	ASSERT_EQ(sizeof(struct mx_slot6), 32, "IPv6 slot");
	ASSERT_EQ(sizeof(struct mx_ctr), 16, "counters of one slot");
	ASSERT_EQ(sizeof(struct mx_cline4), 64,
		  "an IPv4 bucket's counters are one line");
	ASSERT_EQ(sizeof(struct mx_cline6), 32,
		  "an IPv6 bucket's counters are half a line");
	ASSERT_EQ(sizeof(struct mx_meta), 40, "entry metadata");
	ASSERT_EQ(sizeof(struct mx_cfg), 264, "config");
	ASSERT_EQ(sizeof(struct mx_stats), 56, "global counters");
	ASSERT_EQ(MX_BM_WORDS * 8, 2U << 20, "a summary is 2 MiB");
}

/* a slot's flags: plen | allow | observe; counters: 48 bits + time stamp */
static void test_slot(void)
{
	__u32 f = 24 | MX_E_ALLOW;
	struct mx_ctr c = {0, 0};
	__u32 ts = 0xabcd1234U;

	ASSERT_EQ(MX_E_PLEN(f), 24, "prefix length back");
	ASSERT_TRUE(f & MX_E_ALLOW, "allow bit");
	ASSERT_TRUE(!(f & MX_E_OBSERVE), "observe bit clear");
	f = 128 | MX_E_OBSERVE;
	ASSERT_EQ(MX_E_PLEN(f), 128, "/128 fits the eight bits");
	/* what the program does per packet (bpf/mxwall.bpf.c count()) */
	c.pk = ((c.pk + 1) & MX_CTR_MASK) | (__u64)(ts & 0xffff) << 48;
	c.by = ((c.by + 60) & MX_CTR_MASK) | (__u64)(ts >> 16) << 48;
	ASSERT_EQ(mx_ctr_packets(&c), 1, "one packet");
	ASSERT_EQ(mx_ctr_bytes(&c), 60, "its bytes");
	ASSERT_EQ(mx_ctr_stamp(&c), ts, "the time stamp back whole");
	c.pk = MX_CTR_MASK | (c.pk & ~MX_CTR_MASK);
	c.pk = ((c.pk + 1) & MX_CTR_MASK) | (__u64)(ts & 0xffff) << 48;
	ASSERT_EQ(mx_ctr_packets(&c), 0, "packets wrap at 2^48, alone");
	ASSERT_EQ(mx_ctr_stamp(&c), ts, "the stamp survives the wrap");
}

/* mx_mix32 is a bijection: no two of a million inputs collide */
static void test_mix(void)
{
	const __u32 n = 1U << 20;
	__u32 *v = malloc(n * sizeof(*v)), i, dup = 0;

	for (i = 0; i < n; i++)
		v[i] = mx_mix32(i * 0x10001U);
	qsort(v, n, sizeof(*v), cmp_u32);
	for (i = 1; i < n; i++)
		dup += v[i] == v[i - 1];
	ASSERT_EQ(dup, 0, "no collision in 2^20 inputs");
	free(v);
}

/* the two buckets of a key: in range, and different for almost all keys */
static void test_buckets(void)
{
	const __u32 mask = (1U << 18) - 1;
	__u32 i, same = 0, out = 0, hist[16] = {0}, hmin = ~0U, hmax = 0;

	for (i = 0; i < 1000000; i++) {
		__u32 a = mx_mix32(i), plen = 16 + i % 17;
		__u32 b1 = mx_t4_b1(a, plen, mask),
		      b2 = mx_t4_b2(a, plen, mask);

		out += b1 > mask || b2 > mask;
		same += b1 == b2;
		hist[b1 & 15]++;
	}
	for (i = 0; i < 16; i++) {
		hmin = hist[i] < hmin ? hist[i] : hmin;
		hmax = hist[i] > hmax ? hist[i] : hmax;
	}
	ASSERT_EQ(out, 0, "buckets within the mask");
	ASSERT_TRUE(same < 100, "the two choices differ (<0.01% equal)");
	ASSERT_TRUE(hmax - hmin < hmax / 20, "buckets spread evenly");
	ASSERT_TRUE(mx_t4_b1(0x0a000000U, 8, mask) !=
			    mx_t4_b1(0x0a000000U, 9, mask) ||
			mx_t4_b2(0x0a000000U, 8, mask) !=
			    mx_t4_b2(0x0a000000U, 9, mask),
		    "the prefix length is part of the key");
}

/* the IPv6 hash: buckets in range and spread; depends on every word and
 * on the length; the Bloom bit and the /48 summary bit in range */
static void test_h6(void)
{
	const __u32 mask = (1U << 16) - 1;
	__u64 hi = 0xb80d0120ULL, lo = 0, h, base;
	__u32 i, out = 0, same = 0, eq = 0, hist[16] = {0}, hmin = ~0U,
		 hmax = 0;
	__u64 m48 = 0x0000ffffffffffffULL; /* the raw word of /48 (LE) */

	for (i = 0; i < 1000000; i++) {
		__u64 x = hi ^ ((__u64)mx_mix32(i) << 32), y = mx_mix32(~i);

		h = mx_h6(x, y, 1 + i % 128);
		out += mx_t6_b1(h, mask) > mask || mx_t6_b2(h, mask) > mask;
		out += mx_bl6_bit(h) >> MX_BM_BITS_LOG2;
		out += mx_bm6_byte(x, m48) >> MX_BM6_BYTES_LOG2;
		eq += mx_t6_b1(h, mask) == mx_t6_b2(h, mask);
		hist[mx_t6_b1(h, mask) & 15]++;
	}
	for (i = 0; i < 16; i++) {
		hmin = hist[i] < hmin ? hist[i] : hmin;
		hmax = hist[i] > hmax ? hist[i] : hmax;
	}
	ASSERT_EQ(out, 0, "buckets and bits within range");
	ASSERT_TRUE(eq < 100, "the two choices differ (<0.01% equal)");
	ASSERT_TRUE(hmax - hmin < hmax / 20, "buckets spread evenly");
	base = mx_h6(hi, lo, 48);
	ASSERT_TRUE(mx_h6(hi ^ 1, lo, 48) != base, "the high word counts");
	ASSERT_TRUE(mx_h6(hi, lo ^ 1, 48) != base, "the low word counts");
	for (i = 1; i <= 128; i++)
		same += i != 48 && mx_h6(hi, lo, i) == base;
	ASSERT_EQ(same, 0, "the length counts");
	ASSERT_EQ(mx_bm6_byte(hi | 0xffff000000000000ULL, m48),
		  mx_bm6_byte(hi, m48), "the /48 byte ignores bits past /48");
	ASSERT_TRUE(mx_bm6_byte(hi ^ 0x0000010000000000ULL, m48) !=
			mx_bm6_byte(hi, m48),
		    "the /48's last bit counts");
	ASSERT_EQ(MX_BM6_BYTES_LOG2 + 3, MX_BM_BITS_LOG2,
		  "the IPv6 summary's bytes fill its 2 MiB");
}

/* the classes of IPv6 prefix lengths: one bit of a byte each, the common
 * lengths alone in theirs, neighbours grouped */
static void test_cls6(void)
{
	__u32 plen, seen = 0;

	for (plen = 1; plen <= 128; plen++) {
		ASSERT_TRUE(mx_cls6(plen) < 8, "a class is a bit of a byte");
		seen |= 1U << mx_cls6(plen);
	}
	ASSERT_EQ(seen, 0x7f, "seven classes used");
	ASSERT_TRUE(mx_cls6(128) != mx_cls6(127), "/128 alone");
	ASSERT_TRUE(mx_cls6(64) != mx_cls6(65) && mx_cls6(64) != mx_cls6(63),
		    "/64 alone");
	ASSERT_TRUE(mx_cls6(48) != mx_cls6(49) && mx_cls6(48) != mx_cls6(47),
		    "/48 alone");
	ASSERT_EQ(mx_cls6(56), mx_cls6(52), "/52 and /56 share a class");
	ASSERT_EQ(mx_cls6(32), mx_cls6(47), "/32 to /47 share a class");
}

/* IPv4 summary bits: below 2^24; the /24 bit is the /24 */
static void test_bits(void)
{
	__u32 i, out = 0;

	for (i = 0; i < 100000; i++) {
		__u32 a = mx_mix32(i);

		out += mx_bm4_bit(a) >> MX_BM_BITS_LOG2;
		out += mx_bl4_bit(a, 1 + i % 32) >> MX_BM_BITS_LOG2;
	}
	ASSERT_EQ(out, 0, "every bit in range");
	ASSERT_EQ(mx_bm4_bit(0xc0000201U), 0xc00002U, "/24 bit is the /24");
}

/*
 * the host index: its lines for a table at its fullest (two entries a
 * bucket) leave a tenth of the slots free; a host's two lines are in
 * range, spread evenly, and mostly differ
 */
static void test_index(void)
{
	__u32 nb, nx, a, b1, b2, same = 0, n = 1U << 16, max = 0;
	__u32 *load;

	for (nb = 1; nb <= (8U << 20); nb <<= 1) {
		nx = mx_nx4(nb);
		/* two entries a bucket fill at most 90% of the slots */
		if ((__u64)nx * MX_X4_SLOTS * 9 < (__u64)nb * 2 * 10) {
			ASSERT_TRUE(0, "index room for a table size");
			return;
		}
	}
	ASSERT_TRUE(1, "every table size has index room for its entries at "
		       "90% fill");
	nx = mx_nx4(1U << 12);
	load = calloc(nx, sizeof(*load));
	for (a = 1; a <= n; a++) {
		b1 = mx_x4_b1(a * 2654435761U, nx);
		b2 = mx_x4_b2(a * 2654435761U, nx);
		if (b1 >= nx || b2 >= nx) {
			ASSERT_TRUE(0, "index lines in range");
			free(load);
			return;
		}
		same += b1 == b2;
		load[b1]++;
	}
	for (a = 0; a < nx; a++)
		if (load[a] > max)
			max = load[a];
	ASSERT_TRUE(same < n / 100, "a host's two index lines differ");
	ASSERT_TRUE(max < 2 * n / nx + 16, "first index lines spread evenly");
	free(load);
}

int main(void)
{
	TEST_RUN(test_sizes);
	TEST_RUN(test_index);
	TEST_RUN(test_slot);
	TEST_RUN(test_mix);
	TEST_RUN(test_buckets);
	TEST_RUN(test_bits);
	TEST_RUN(test_h6);
	TEST_RUN(test_cls6);
	return test_finish();
}
