// SPDX-License-Identifier: GPL-2.0
/*
 * test_stats.c - the persistence statistics on a generated event history
 * whose distribution is known in advance, the percentage format, and the
 * printed table against the sample in mxwall(8).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/mxwall.h"
#include "report/stats.h"
#include "test.h"

static uint64_t rng = 88172645463325252ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void test_bucket(void)
{
	ASSERT_EQ(stats_bucket(1), STATS_B1, "1 retry");
	ASSERT_EQ(stats_bucket(4), STATS_B4, "4 retries");
	ASSERT_EQ(stats_bucket(5), STATS_B5_10, "5 retries");
	ASSERT_EQ(stats_bucket(10), STATS_B5_10, "10 retries");
	ASSERT_EQ(stats_bucket(11), STATS_BMORE, "11 retries");
}

static void test_pct(void)
{
	static const struct {
		uint64_t part, whole;
		const char *want;
	} t[] = {
	    {60, 100, "60%"},
	    {74, 1000, "7.4%"},
	    {8, 100, "8%"},
	    {80, 1000, "8%"},
	    {82, 1000, "8.2%"},
	    {5, 10000, "0.05%"},
	    {0, 5, "0%"},
	    {1, 1, "100%"},
	    {0, 0, "-"},
	    {9996, 100000, "10%"},
	    {1, 3, "33%"},
	    {1, 30, "3.3%"},
	    {1, 300, "0.33%"},
	    {1, 100000, "0.001%"},
	    /* SYNs passed: never "100%" */
	    {996, 1000, "99.6%"},
	    {9999, 10000, "99.9%"},
	    {999999, 1000000, "99.9%"},
	    {995, 1000, "99.5%"},
	    {991, 1000, "99.1%"},
	    {989, 1000, "99%"},
	};
	char buf[16], desc[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		fmt_pct(t[i].part, t[i].whole, buf, sizeof(buf));
		snprintf(desc, sizeof(desc), "%llu of %llu",
			 (unsigned long long)t[i].part,
			 (unsigned long long)t[i].whole);
		ASSERT_STR(buf, t[i].want, desc);
	}
}

/*
 * A generated history: for each retry count r, a known number of sources
 * make r + 1 tries; each try is one to three reject lines less than five
 * seconds apart, tries are five seconds to two days apart. Noise: sources
 * that only ever made one try, some of them with lines spread over a minute
 * at four-second gaps (one long session, still one try). Tags: dialup for
 * sources with an even index, baddns for every third, cbl on a single
 * event of every fifth. The events are shuffled before counting.
 */
struct gen {
	struct stats_event *ev;
	size_t n, cap;
};

static void add(struct gen *g, uint32_t host, int64_t t, const char *tags)
{
	struct stats_event *e;
	uint32_t a = htonl(host);

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 1024;
		g->ev = xreallocarray(g->ev, g->cap, sizeof(*g->ev));
	}
	e = &g->ev[g->n++];
	memset(e, 0, sizeof(*e));
	cidr_from_addr(&e->src, AF_INET, &a);
	e->time = t;
	e->tags = tags;
}

static void test_generated(void)
{
	/* sources per retry count 1..15 */
	static const unsigned int per_retry[16] = {
	    0, 700, 210, 90, 50, 30, 20, 15, 10, 8, 6, 5, 4, 3, 2, 1,
	};
	uint64_t want_all[STATS_NBUCKETS] = {0}, want_ips = 0;
	uint64_t want_dialup[STATS_NBUCKETS] = {0}, dialup_ips = 0;
	uint64_t want_cbl[STATS_NBUCKETS] = {0}, cbl_ips = 0;
	uint64_t baddns_ips = 0;
	struct stats_result res = {0};
	struct gen g = {0};
	uint32_t host = 0x0a000001;
	unsigned int r, k, t, idx = 0;
	int64_t now, j;
	struct stats_event tmp;
	size_t i, m, b;
	const struct stats_row *row;

	for (r = 1; r < 16; r++) {
		for (k = 0; k < per_retry[r]; k++, idx++, host += 7) {
			const char *tag = idx % 2 == 0	 ? "dialup"
					  : idx % 3 == 0 ? "baddns"
							 : "relay";
			now = 1700000000 + (int64_t)(rnd() % 86400);
			for (t = 0; t <= r; t++) {
				unsigned int lines = 1 + rnd() % 3;

				for (m = 0; m < lines; m++)
					add(&g, host, now + (int64_t)m * 2,
					    idx % 5 == 0 && t == 0 && m == 0
						? "cbl"
						: tag);
				/* next try: at least 5 s after the last line */
				now += (int64_t)(lines - 1) * 2 + 5 +
				       (t % 2 ? rnd() % 172800 : 0);
			}
			b = (size_t)stats_bucket(r);
			want_all[b]++;
			want_ips++;
			if (idx % 2 == 0) {
				want_dialup[b]++;
				dialup_ips++;
			} else if (idx % 3 == 0) {
				baddns_ips++;
			}
			if (idx % 5 == 0) {
				want_cbl[b]++;
				cbl_ips++;
			}
		}
	}
	/* one-try sources: never counted */
	for (k = 0; k < 500; k++, host += 7) {
		now = 1700000000 + (int64_t)(rnd() % 86400);
		if (k % 2)
			for (j = 0; j < 60; j += 4)
				add(&g, host, now + j, "dialup");
		else
			add(&g, host, now, "spamtrap");
	}
	/* shuffle */
	for (i = g.n - 1; i > 0; i--) {
		m = rnd() % (i + 1);
		tmp = g.ev[i];
		g.ev[i] = g.ev[m];
		g.ev[m] = tmp;
	}

	ASSERT_EQ(stats_persistence(g.ev, g.n, &res), 0, "runs");
	ASSERT_STR(res.rows[0].what, "all refused", "first row");
	ASSERT_U64(res.rows[0].ips, want_ips, "all: different IPs");
	for (b = 0; b < STATS_NBUCKETS; b++)
		ASSERT_U64(res.rows[0].n[b], want_all[b], "all: bucket");
	/* 700 of 1154 came back once: the sample's "1 try" reading */
	ASSERT_U64(res.rows[0].n[STATS_B1], 700, "all: 1 try");
	ASSERT_U64(res.rows[0].n[STATS_BMORE], 15, "all: more");
	/* four tag rows; one-try sources make no spamtrap row */
	ASSERT_EQ(res.nrows, 5, "rows: all + dialup, relay, baddns, cbl");
	row = &res.rows[1];
	ASSERT_STR(row->what, "dialup", "largest tag first");
	ASSERT_U64(row->ips, dialup_ips, "dialup: ips");
	for (b = 0; b < STATS_NBUCKETS; b++)
		ASSERT_U64(row->n[b], want_dialup[b], "dialup: bucket");
	for (i = 1; i < res.nrows; i++) {
		row = &res.rows[i];
		if (!strcmp(row->what, "baddns"))
			ASSERT_U64(row->ips, baddns_ips, "baddns: ips");
		if (!strcmp(row->what, "spamtrap"))
			TEST_FAIL("spamtrap", "one-try sources made a row");
		if (strcmp(row->what, "cbl"))
			continue;
		ASSERT_U64(row->ips, cbl_ips, "cbl: ips (one event is enough)");
		for (b = 0; b < STATS_NBUCKETS; b++)
			ASSERT_U64(row->n[b], want_cbl[b], "cbl: bucket");
	}
	for (i = 2; i < res.nrows; i++)
		ASSERT_TRUE(res.rows[i - 1].ips >= res.rows[i].ips,
			    "rows sorted by ips");
	stats_result_free(&res);
	free(g.ev);
}

/* the boundary: exactly 5 s apart is a new try, 4 s is the same try */
static void test_gap(void)
{
	struct stats_result res = {0};
	struct gen g = {0};

	add(&g, 0x01020304, 100, "x");
	add(&g, 0x01020304, 104, "x"); /* same try */
	add(&g, 0x01020304, 109, "x"); /* new try: 5 s after 104 */
	add(&g, 0x01020305, 100, "y");
	add(&g, 0x01020305, 104, "y");
	add(&g, 0x01020305, 108, "y"); /* one long session */
	ASSERT_EQ(stats_persistence(g.ev, g.n, &res), 0, "runs");
	ASSERT_U64(res.rows[0].ips, 1, "only the source with two tries");
	ASSERT_U64(res.rows[0].n[STATS_B1], 1, "it came back once");
	ASSERT_EQ(res.nrows, 2, "no row for y");
	stats_result_free(&res);
	free(g.ev);

	memset(&g, 0, sizeof(g));
	ASSERT_EQ(stats_persistence(NULL, 0, &res), 0, "empty history");
	ASSERT_U64(res.rows[0].ips, 0, "nobody");
	ASSERT_EQ(res.nrows, 1, "only the all row");
	stats_result_free(&res);
}

/* the two sample rows of mxwall(8), from counts that give them */
static void test_print_sample(void)
{
	struct stats_row rows[2] = {
	    {"all refused", 46583, {27850, 7919, 3447, 1910, 3727, 1730}},
	    {"dynamic", 25430, {15100, 4380, 1958, 1068, 2085, 839}},
	};
	struct stats_result res = {rows, 2};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	stats_print(f, &res);
	fclose(f);
	ASSERT_STR(buf,
		   "What              Different IPs  1 try  2 tries  3 tries  "
		   "4 tries  5-10 tries  more\n"
		   "all refused              46,583    60%      17%     7.4%   "
		   "  4.1%          8%  3.7%\n"
		   "dynamic                  25,430    59%      17%     7.7%   "
		   "  4.2%        8.2%  3.3%\n",
		   "mxwall(8) sample");
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	stats_print_json(f, &res, 28);
	fclose(f);
	ASSERT_TRUE(strstr(buf, "{\"what\": \"dynamic\", \"ips\": 25430, "
				"\"retries\": {\"1\": 15100, \"2\": 4380, "
				"\"3\": 1958, \"4\": 1068, \"5-10\": 2085, "
				"\"more\": 839}}") != NULL,
		    "json row");
	ASSERT_TRUE(strstr(buf, "\"days\": 28") != NULL, "json days");
	free(buf);
}

int main(void)
{
	TEST_RUN(test_bucket);
	TEST_RUN(test_pct);
	TEST_RUN(test_generated);
	TEST_RUN(test_gap);
	TEST_RUN(test_print_sample);
	return test_finish();
}
