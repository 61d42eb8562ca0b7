// SPDX-License-Identifier: GPL-2.0
/*
 * test_table.c - the top/report table and the JSON entry objects, compared
 * byte for byte with golden files (selftests/golden/NAME.ok), and a round
 * trip: every printed Host/Mask parses back to the entry it came from.
 *
 * table_design.ok is the sample table of mxwall(8), not generated. The others
 * are regenerated only on purpose: MXWALL_GOLDEN_REGEN=1 build/asan/test_table
 * (run from the top of the tree), then review the diff.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "core/mxwall.h"
#include "report/table.h"
#include "test.h"

#define GOLDEN_DIR "selftests/golden/"
#define T0 1795416904 /* 2026-11-23T06:55:04Z */

static struct mx_entry E(const char *net, uint64_t pkts, uint64_t bytes,
			 int action, int origin, bool observe,
			 const char *tags) {
	struct mx_entry e;

	memset(&e, 0, sizeof(e));
	if (cidr_parse(net, 0, &e.net, NULL, 0) < 0) {
		printf("FAIL - bad test input %s\n", net);
		exit(1);
	}
	e.packets = pkts;
	e.bytes = bytes;
	e.action = (uint8_t)action;
	e.origin = (uint8_t)origin;
	e.observe = observe;
	snprintf(e.tags, sizeof(e.tags), "%s", tags);
	return e;
}

static char *
slurp(const char *path)
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

/* golden - compare text with GOLDEN_DIR name, or write it when regenerating */
static void golden(const char *name, const char *text)
{
	char path[256], *want;
	FILE *f;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s", name);
	if (getenv("MXWALL_GOLDEN_REGEN") && strcmp(name, "table_design.ok")) {
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

typedef void (*printer_fn)(FILE *f, const struct mx_entry *rows, size_t n);

static char *print_to_string(printer_fn fn, const struct mx_entry *rows,
			     size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, rows, n);
	fclose(f);
	return buf;
}

/* round_trip - each row's first column parses back to its entry */
static void round_trip(const char *desc, const char *text,
		       const struct mx_entry *rows, size_t n)
{
	char *copy = xstrdup(text), *line, *save = NULL, *sp;
	struct cidr c;
	size_t i = 0;

	line = strtok_r(copy, "\n", &save); /* the header */
	for (line = strtok_r(NULL, "\n", &save); line && i < n;
	     line = strtok_r(NULL, "\n", &save), i++) {
		sp = strchr(line, ' ');
		if (sp)
			*sp = '\0';
		if (cidr_parse(line, 0, &c, NULL, 0) != 0 ||
		    cidr_cmp(&c, &rows[i].net)) {
			TEST_FAIL(desc, "row %zu: '%s' does not parse back", i,
				  line);
			free(copy);
			return;
		}
	}
	ASSERT_EQ(i, n, desc);
	free(copy);
}

static void test_design_sample(void)
{
	struct mx_entry rows[2];
	char *out;

	rows[0] = E("203.0.113.7", 7768, 356 * 1024, MX_ACT_DROP,
		    MX_ORIGIN_DYNAMIC, false, "a,njabl");
	rows[1] = E("198.51.100.0/24", 4356, 215 * 1024 + 500, MX_ACT_DROP,
		    MX_ORIGIN_STATIC, false, "");
	out = print_to_string(table_print, rows, 2);
	golden("table_design.ok", out);
	round_trip("design sample round trip", out, rows, 2);
	free(out);
}

static size_t mixed_rows(struct mx_entry *rows)
{
	size_t n = 0;

	/* tags stored out of order: [a] still comes first */
	rows[n++] =
	    E("192.0.2.1", 123456789012ULL, 987654321098ULL, MX_ACT_DROP,
	      MX_ORIGIN_DYNAMIC, false, "zen.spamhaus.org,a,bad-helo");
	rows[n] = E("2001:db8:1234:5678:9abc:def0:1234:5678", 93552, 85360,
		    MX_ACT_DROP, MX_ORIGIN_DYNAMIC, false, "a,dialup");
	rows[n].added = T0;
	rows[n].expires = T0 + 7 * 86400;
	rows[n++].last_hit = T0 + 60;
	rows[n++] = E("2001:db8:ffff:ffff:ffff:ffff:ffff:0/112", 5, 300,
		      MX_ACT_DROP, MX_ORIGIN_STATIC, false, "sbl");
	rows[n++] = E("198.51.100.9", 3, 180, MX_ACT_ALLOW, MX_ORIGIN_STATIC,
		      false, "partner");
	rows[n++] = E("203.0.113.0/24", 2, 120, MX_ACT_DROP, MX_ORIGIN_DYNAMIC,
		      true, "");
	rows[n++] =
	    E("10.0.0.0/8", 0, 0, MX_ACT_DROP, MX_ORIGIN_DYNAMIC, false, "");
	return n;
}

static void test_mixed(void)
{
	struct mx_entry rows[8];
	size_t n = mixed_rows(rows);
	char *out;

	table_sort_packets(rows, n);
	out = print_to_string(table_print, rows, n);
	golden("table_mixed.ok", out);
	round_trip("mixed round trip", out, rows, n);
	free(out);
	out = print_to_string(table_print_json, rows, n);
	golden("table_mixed_json.ok", out);
	free(out);
	out = print_to_string(table_print, rows, 0);
	ASSERT_STR(out, "Host/Mask               Packets   Bytes  Tags\n",
		   "empty table is the header");
	free(out);
	out = print_to_string(table_print_json, rows, 0);
	ASSERT_STR(out, "[]\n", "empty JSON array");
	free(out);
}

static void test_columns_align(void)
{
	struct mx_entry rows[8];
	size_t n = mixed_rows(rows), i;
	char *out, *line, *save = NULL;
	long col = -1;

	out = print_to_string(table_print, rows, n);
	/* the Packets column ends at the same offset on every line */
	for (line = strtok_r(out, "\n", &save), i = 0; line;
	     line = strtok_r(NULL, "\n", &save), i++) {
		char *p = strstr(line, i ? "  " : "Packets");
		long end;

		if (i == 0) {
			col = p - line + 7;
			continue;
		}
		/* first run of blanks after the host, then the number */
		p = line + strcspn(line, " ");
		p += strspn(p, " ");
		end = p - line + (long)strcspn(p, " ");
		if (end != col) {
			TEST_FAIL(
			    "columns",
			    "line %zu: Packets ends at %ld, header at %ld", i,
			    end, col);
			free(out);
			return;
		}
	}
	TEST_OK("columns");
	free(out);
}

static void test_entry_json(void)
{
	struct mx_entry e = E("2001:db8::1", 1, 60, MX_ACT_DROP,
			      MX_ORIGIN_DYNAMIC, false, "a,x\"y");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	e.expires = T0;
	entry_json(f, &e);
	fclose(f);
	ASSERT_STR(
	    buf,
	    "{\"entry\":\"2001:db8::1\",\"action\":\"drop\",\"packets\":1,"
	    "\"bytes\":60,\"tags\":[\"a\",\"x\\\"y\"],\"origin\":\"dynamic\","
	    "\"source\":\"local\",\"added\":null,\"expires\":\"2026-11-23T06:"
	    "55:04Z\",\"last_hit\":"
	    "null}",
	    "one object, escaped tag, nulls");
	free(buf);
}

static void test_tags(void)
{
	struct mx_entry e = E("192.0.2.1", 0, 0, MX_ACT_DROP, MX_ORIGIN_STATIC,
			      false, "x,a,static,y");
	char buf[MX_TAGS_LEN * 2 + 32];

	table_tags(&e, buf, sizeof(buf));
	ASSERT_STR(buf, "[a] [x] [y] [static]",
		   "a first, static from origin once");
	e.action = MX_ACT_ALLOW;
	e.origin = MX_ORIGIN_DYNAMIC;
	snprintf(e.tags, sizeof(e.tags), "%s", "");
	table_tags(&e, buf, sizeof(buf));
	ASSERT_STR(buf, "[allow]", "allow marked");
	e.action = MX_ACT_DROP;
	e.observe = true;
	table_tags(&e, buf, sizeof(buf));
	ASSERT_STR(buf, "[observe]", "observe marked");
	table_tags(&e, buf, 5);
	ASSERT_STR(buf, "[obs", "truncated safely");
}

static void test_aggregate(void)
{
	struct mx_entry rows[8];
	unsigned int v4, v6;
	size_t n = 0;
	char *out;

	rows[n++] = E("203.0.113.7", 10, 600, MX_ACT_DROP, MX_ORIGIN_DYNAMIC,
		      false, "a,njabl");
	rows[n++] = E("203.0.113.9", 5, 300, MX_ACT_DROP, MX_ORIGIN_STATIC,
		      false, "bad-helo");
	rows[n++] = E("203.0.113.0/24", 1, 60, MX_ACT_DROP, MX_ORIGIN_STATIC,
		      false, "");
	rows[n++] =
	    E("203.0.114.1", 7, 420, MX_ACT_DROP, MX_ORIGIN_STATIC, false, "");
	rows[n++] = E("10.0.0.0/8", 100, 6000, MX_ACT_DROP, MX_ORIGIN_STATIC,
		      false, "");
	rows[n++] = E("2001:db8:1:2::5", 4, 320, MX_ACT_DROP, MX_ORIGIN_DYNAMIC,
		      false, "a");
	rows[n++] = E("2001:db8:1:3::5", 4, 320, MX_ACT_ALLOW, MX_ORIGIN_STATIC,
		      false, "");
	rows[0].expires = T0;
	rows[1].expires = 0;

	ASSERT_EQ(table_parse_by("/24", &v4, &v6), 0, "--by /24");
	ASSERT_TRUE(v4 == 24 && v6 == 48, "/24 pairs with /48");
	ASSERT_EQ(table_parse_by("/16", &v4, &v6), 0, "--by /16");
	ASSERT_TRUE(v4 == 16 && v6 == 32, "/16 pairs with /32");
	ASSERT_EQ(table_parse_by("/48", &v4, &v6), 0, "--by /48");
	ASSERT_TRUE(v4 == 0 && v6 == 48, "/48 is IPv6 only");
	ASSERT_EQ(table_parse_by("24", &v4, &v6), -EINVAL, "bare 24 refused");
	ASSERT_EQ(table_parse_by("/8", &v4, &v6), -EINVAL, "/8 refused");

	n = table_aggregate(rows, n, 24, 48);
	ASSERT_EQ(n, 4, "7 rows into 4 netblocks");
	table_sort_packets(rows, n);
	out = print_to_string(table_print, rows, n);
	golden("table_by24.ok", out);
	round_trip("aggregate round trip", out, rows, n);
	free(out);
	/* 203.0.113.0/24 is second by packets: 10 + 5 + 1 */
	ASSERT_U64(rows[1].packets, 16, "summed packets");
	ASSERT_U64(rows[1].bytes, 960, "summed bytes");
	ASSERT_EQ(rows[1].origin, MX_ORIGIN_DYNAMIC, "static only if all are");
	ASSERT_EQ(rows[1].expires, 0, "never expires if one member never does");
	ASSERT_EQ(rows[2].action, MX_ACT_DROP, "allow only if all are");
	ASSERT_EQ(table_aggregate(rows, 0, 24, 48), 0, "empty stays empty");
}

int main(void)
{
	TEST_RUN(test_design_sample);
	TEST_RUN(test_mixed);
	TEST_RUN(test_columns_align);
	TEST_RUN(test_entry_json);
	TEST_RUN(test_tags);
	TEST_RUN(test_aggregate);
	return test_finish();
}
