// SPDX-License-Identifier: GPL-2.0
/*
 * test_report.c - the weekly report's format: golden files for a full
 * week, an empty week and a first week without a database, the per-day
 * split of drops, and report_run() over a fake backend for -n, --by,
 * --json (same rows as `top --json`) and --out.
 * Golden files are regenerated only on purpose:
 * MXWALL_GOLDEN_REGEN=1 build/asan/test_report (then read the diff).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake_backend.h"
#include "core/mxwall.h"
#include "report/report.h"
#include "report/table.h"
#include "test.h"

#define GOLDEN_DIR "selftests/golden/"

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static void golden(const char *name, const char *text)
{
	char path[256], *want;
	FILE *f;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s", name);
	if (getenv("MXWALL_GOLDEN_REGEN")) {
		f = fopen(path, "w");
		if (f) {
			fputs(text, f);
			fclose(f);
		}
	}
	want = slurp(path);
	if (!want) {
		TEST_FAIL(name, "cannot read %s (run from the top of the tree)",
			  path);
		return;
	}
	if (!strcmp(want, text))
		TEST_OK(name);
	else
		TEST_FAIL(
		    name,
		    "output differs from %s:\n--- expected\n%s--- actual\n%s",
		    path, want, text);
	free(want);
}

/* utc - unix time of a UTC date (the tests run with TZ=UTC) */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi};

	return (int64_t)timegm(&tm);
}

static void entry(struct mx_entry *e, const char *net, enum mx_origin o,
		  const char *tags, uint64_t packets, uint64_t bytes)
{
	char err[128];

	memset(e, 0, sizeof(*e));
	cidr_parse(net, 0, &e->net, err, sizeof(err));
	e->action = MX_ACT_DROP;
	e->origin = (uint8_t)o;
	snprintf(e->tags, sizeof(e->tags), "%s", tags);
	e->packets = packets;
	e->bytes = bytes;
}

static char *text_of(const struct report *r, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (json)
		report_print_json(f, r);
	else
		report_print_text(f, r);
	fclose(f);
	return buf;
}

/* the seed report's week: days from snapshots, tags, static, IPv6 */
static void test_golden_week(void)
{
	struct report_snap snaps[] = {
	    {utc(2026, 11, 15, 6, 0), {.dropped = 1000}}, /* reset */
	    {utc(2026, 11, 16, 0, 1), {.dropped = 4000}},
	    {utc(2026, 11, 17, 0, 0), {.dropped = 9000}},
	    /* no snapshot on the 18th and 19th: merged into the 17th */
	    {utc(2026, 11, 20, 0, 2), {.dropped = 15000}},
	    {utc(2026, 11, 21, 0, 0), {.dropped = 16000}},
	    {utc(2026, 11, 22, 6, 0), {.dropped = 31409}}, /* now */
	};
	struct mx_entry rows[5];
	struct report r = {0};
	char *out, *json, *tj = NULL;
	size_t tlen = 0;
	FILE *f;

	entry(&rows[0], "203.0.113.7", MX_ORIGIN_DYNAMIC, "a,njabl", 7768,
	      364544);
	entry(&rows[1], "198.51.100.99", MX_ORIGIN_DYNAMIC, "a,bad-helo", 4539,
	      223232);
	entry(&rows[2], "198.51.100.0/24", MX_ORIGIN_STATIC, "", 4356, 220160);
	entry(&rows[3], "2001:db8:5::/48", MX_ORIGIN_STATIC, "cnc", 1949,
	      93552);
	entry(&rows[4], "192.0.2.44", MX_ORIGIN_DYNAMIC, "a,dialup,cbl", 1893,
	      85360);
	r.from = snaps[0].at;
	r.to = snaps[5].at;
	snprintf(r.host, sizeof(r.host), "mx.example.org");
	r.totals.syn = 48211;
	r.totals.dropped = 30409;
	r.entries_static = 12;
	r.entries_dynamic = 311;
	r.promotions = 298;
	r.ndays = report_split_days(snaps, ARRAY_SIZE(snaps), &r.days);
	r.rows = rows;
	r.nrows = 5;
	r.top = 20;
	ASSERT_EQ(r.ndays, 5, "five day lines: 15, 16, 17-19, 20, 21-22");
	out = text_of(&r, false);
	golden("report_week.ok", out);
	ASSERT_TRUE(strstr(out, "Top 5 by packets:\nHost/Mask") != NULL,
		    "table follows the header");
	free(out);

	json = text_of(&r, true);
	golden("report_week_json.ok", json);
	/* rows are the same objects as `top --json` prints */
	f = open_memstream(&tj, &tlen);
	table_print_json(f, rows, 5);
	fclose(f);
	ASSERT_TRUE(strstr(json, tj) != NULL, "json rows = top --json rows");
	ASSERT_TRUE(strstr(json,
			   "\"period\":{\"from\":\"2026-11-15T06:00:00Z\","
			   "\"to\":\"2026-11-22T06:00:00Z\"}") != NULL,
		    "json period");
	ASSERT_TRUE(strstr(json, "\"dropped\":30409") != NULL, "json totals");
	free(tj);
	free(json);
	free(r.days);
}

static void test_golden_empty(void)
{
	struct report r = {0};
	char *out;

	r.from = utc(2026, 11, 15, 6, 0);
	r.to = utc(2026, 11, 22, 6, 0);
	snprintf(r.host, sizeof(r.host), "quiet.example.org");
	r.totals.syn = 312;
	r.entries_static = 2;
	r.promotions = 0;
	r.top = 20;
	out = text_of(&r, false);
	golden("report_empty.ok", out);
	ASSERT_TRUE(strstr(out, "No drops this week") != NULL,
		    "an empty week says so");
	ASSERT_TRUE(strstr(out, "Host/Mask") == NULL, "and prints no table");
	free(out);
	out = text_of(&r, true);
	ASSERT_TRUE(strstr(out, "\"rows\":[]") != NULL, "json: empty rows");
	free(out);
	/* drops, but every entry that dropped has expired since */
	r.totals.dropped = 40;
	out = text_of(&r, false);
	ASSERT_TRUE(strstr(out,
			   "\nNo entry in the filter has drops: the "
			   "entries that dropped this week have left it.\n") !=
			NULL,
		    "drops by entries that left: said so, no empty table");
	ASSERT_TRUE(strstr(out, "No drops this week") == NULL,
		    "and not called an empty week");
	free(out);
}

/* the first week: no reset yet, no database */
static void test_golden_first(void)
{
	struct mx_entry rows[1];
	struct report r = {0};
	char *out;

	entry(&rows[0], "203.0.113.0/24", MX_ORIGIN_DYNAMIC, "a,spamtrap", 5,
	      300);
	r.to = utc(2026, 11, 22, 6, 0);
	snprintf(r.host, sizeof(r.host), "new.example.org");
	r.totals.syn = 5;
	r.totals.dropped = 5;
	r.entries_dynamic = 1;
	r.promotions = -1;
	r.rows = rows;
	r.nrows = 1;
	r.top = 20;
	r.by = "/24";
	out = text_of(&r, false);
	golden("report_first.ok", out);
	free(out);
	out = text_of(&r, true);
	ASSERT_TRUE(strstr(out, "\"from\":null") != NULL, "json: from null");
	ASSERT_TRUE(strstr(out, "\"promotions\":null") != NULL,
		    "json: promotions unknown");
	ASSERT_TRUE(strstr(out, "\"by\":\"/24\"") != NULL, "json: by");
	free(out);
}

static void test_split_days(void)
{
	struct report_snap s[] = {
	    {utc(2026, 11, 15, 6, 0), {.dropped = 100}},
	    {utc(2026, 11, 15, 23, 0), {.dropped = 150}},
	    {utc(2026, 11, 16, 1, 0), {.dropped = 400}},
	    /* the data path was re-created: counting starts again */
	    {utc(2026, 11, 17, 1, 0), {.dropped = 30}},
	    {utc(2026, 11, 17, 2, 0), {.dropped = 70}},
	};
	struct report_day *d = NULL;
	size_t n;

	n = report_split_days(s, ARRAY_SIZE(s), &d);
	ASSERT_EQ(n, 3, "three days");
	ASSERT_U64(d[0].dropped, 300,
		   "15th: 50 + 250 (until 01:00 on the 16th)");
	ASSERT_EQ(d[0].start, utc(2026, 11, 15, 0, 0),
		  "15th starts at midnight");
	ASSERT_EQ(d[0].end, utc(2026, 11, 16, 0, 0), "15th ends at midnight");
	ASSERT_U64(d[1].dropped, 30, "16th: the counter went down: 30");
	ASSERT_U64(d[2].dropped, 40, "17th");
	free(d);
	n = report_split_days(s, 1, &d);
	ASSERT_EQ(n, 0, "one snapshot: no days");
	free(d);
}

/* report_run over the fake backend: -n, --by, --json, --out */
static void test_run(void)
{
	char dir[] = "/tmp/mxwall-test-report-XXXXXX", out[256], *txt;
	struct report_opts o = {0};
	struct fake_state *s;
	struct backend be;

	ASSERT_TRUE(mkdtemp(dir) != NULL, "state dir");
	s = fake_open(&be);
	fake_add(s, "203.0.113.7", MX_ORIGIN_DYNAMIC, "a,njabl", 700, 33600);
	fake_add(s, "203.0.113.9", MX_ORIGIN_DYNAMIC, "a,cbl", 600, 28800);
	fake_add(s, "198.51.100.0/24", MX_ORIGIN_STATIC, "", 650, 31200);
	fake_add(s, "192.0.2.1", MX_ORIGIN_DYNAMIC, "a,dialup", 10, 480);
	fake_add(s, "192.0.2.200", MX_ORIGIN_DYNAMIC, "a", 0, 0);
	s->counters.syn = 5000;
	s->counters.dropped = 1960;
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	o.state_dir = dir;
	o.report_dir = dir;
	o.top = 2;
	o.out = out;
	o.now = utc(2026, 11, 22, 6, 0);
	ASSERT_EQ(report_run(&o, &be, NULL), EXIT_OK, "report -n 2 --out");
	txt = slurp(out);
	ASSERT_TRUE(
	    txt &&
		strstr(txt,
		       "Top 2 by packets:\n"
		       "Host/Mask               Packets   Bytes  Tags\n"
		       "203.0.113.7                 700   33600  [a] [njabl]\n"
		       "198.51.100.0/24             650   31200  [static]\n") !=
		    NULL,
	    "-n 2: the two largest, in order");
	ASSERT_TRUE(txt && strstr(txt, "192.0.2.200") == NULL,
		    "entries without packets are left out");
	ASSERT_TRUE(txt && strstr(txt, "Promotions:     unknown") != NULL,
		    "no database: promotions unknown");
	free(txt);

	o.top = 0;
	o.v4len = 24;
	o.v6len = 48;
	o.by = "/24";
	ASSERT_EQ(report_run(&o, &be, NULL), EXIT_OK, "report --by /24");
	txt = slurp(out);
	ASSERT_TRUE(txt && strstr(txt, "Top 3 netblocks (/24) by packets:\n") !=
			       NULL,
		    "--by /24 heading");
	ASSERT_TRUE(txt && strstr(txt, "203.0.113.0/24             1300   "
				       "62400  [a] [njabl] [cbl]\n") != NULL,
		    "--by /24 sums two hosts and unites their tags");
	free(txt);

	o.json = true;
	ASSERT_EQ(report_run(&o, &be, NULL), EXIT_OK, "report --json --by /24");
	txt = slurp(out);
	ASSERT_TRUE(txt && strstr(txt, "{\"entry\":\"203.0.113.0/"
				       "24\",\"action\":\"drop\",\"packets\":"
				       "1300,\"bytes\":62400,") != NULL,
		    "--json rows aggregated");
	ASSERT_TRUE(txt && strstr(txt, "\"smtp_syn\":5000,\"dropped\":1960") !=
			       NULL,
		    "--json totals from the counters (no reset yet)");
	free(txt);
	ASSERT_EQ(s->applies + s->zeroes, 0, "without --reset nothing changes");
	fake_close(&be);
	snprintf(out, sizeof(out), "rm -rf '%s'", dir);
	ASSERT_EQ(system(out), 0, "cleanup");
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	TEST_RUN(test_golden_week);
	TEST_RUN(test_golden_empty);
	TEST_RUN(test_golden_first);
	TEST_RUN(test_split_days);
	TEST_RUN(test_run);
	return test_finish();
}
