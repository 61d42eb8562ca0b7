// SPDX-License-Identifier: GPL-2.0
/*
 * test_layout.c - the lookup layout both sides include (bpf/
 * mxwall_shared.h), on its own: the pinned sizes (a change needs a new
 * MX_LAYOUT), the slot encoding of the IPv4 table, and the hashes that
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

/* the sizes pinned under MX_LAYOUT 1: changing one needs a new layout */
static void test_sizes(void)
{
	ASSERT_EQ(MX_LAYOUT, 1, "layout number");
	ASSERT_EQ(sizeof(struct mx_bkt4), 64, "an IPv4 bucket is one line");
	ASSERT_EQ(sizeof(struct mx_key6), 24, "IPv6 key");
	ASSERT_EQ(sizeof(struct mx_val), 8, "IPv6 value");
	ASSERT_EQ(sizeof(struct mx_ctr), 24, "counters of one entry");
	ASSERT_EQ(sizeof(struct mx_meta), 40, "entry metadata");
	ASSERT_EQ(sizeof(struct mx_cfg), 224, "config");
	ASSERT_EQ(sizeof(struct mx_stats), 56, "global counters");
	ASSERT_EQ(MX_BM_WORDS * 8, 2U << 20, "a summary is 2 MiB");
}

/* a slot: (meta << 32) | address; meta = plen | allow | observe | id */
static void test_slot(void)
{
	__u32 meta = 24 | MX_T4_ALLOW | (MX_T4_ID_MAX << 8);

	ASSERT_EQ(MX_T4_PLEN(meta), 24, "prefix length back");
	ASSERT_TRUE(meta & MX_T4_ALLOW, "allow bit");
	ASSERT_TRUE(!(meta & MX_T4_OBSERVE), "observe bit clear");
	ASSERT_EQ(MX_T4_ID(meta), MX_T4_ID_MAX, "largest id back");
	meta = 32 | MX_T4_OBSERVE | (7U << 8);
	ASSERT_EQ(MX_T4_PLEN(meta), 32, "/32 fits the six bits");
	ASSERT_EQ(MX_T4_ID(meta), 7, "id 7");
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

/* summary bits: below 2^24; the IPv6 filter's bit depends on every word
 * of the address and on the length */
static void test_bits(void)
{
	__u32 w[4] = {0x20010db8U, 1, 2, 3}, x[4], i, k, base, same = 0,
	      out = 0;

	for (i = 0; i < 100000; i++) {
		__u32 a = mx_mix32(i);

		memcpy(x, w, sizeof(x));
		x[i % 4] ^= a;
		out += mx_bm4_bit(a) >> MX_BM_BITS_LOG2;
		out += mx_bl4_bit(a, 1 + i % 32) >> MX_BM_BITS_LOG2;
		out += mx_bm6_bit(a) >> MX_BM_BITS_LOG2;
		out += mx_bl6_bit(x, 1 + i % 128) >> MX_BM_BITS_LOG2;
		out += mx_seen_slot(a, (int)(i & 1)) >= MX_SEEN_SLOTS;
	}
	ASSERT_EQ(out, 0, "every bit and slot in range");
	ASSERT_EQ(mx_bm4_bit(0xc0000201U), 0xc00002U, "/24 bit is the /24");
	base = mx_bl6_bit(w, 48);
	for (k = 0; k < 4; k++) {
		memcpy(x, w, sizeof(x));
		x[k] ^= 0x100;
		ASSERT_TRUE(mx_bl6_bit(x, 48) != base, "each word counts");
	}
	for (i = 1; i <= 128; i++)
		same += i != 48 && mx_bl6_bit(w, i) == base;
	ASSERT_EQ(same, 0, "the length counts");
	ASSERT_TRUE(mx_bl6_bit(w, 48) != mx_bl4_bit(w[0], 48 % 33),
		    "IPv6 bits are not IPv4 ones");
}

int main(void)
{
	TEST_RUN(test_sizes);
	TEST_RUN(test_slot);
	TEST_RUN(test_mix);
	TEST_RUN(test_buckets);
	TEST_RUN(test_bits);
	return test_finish();
}
