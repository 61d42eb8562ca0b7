// SPDX-License-Identifier: GPL-2.0
/*
 * test_util.c - the typed parsers and formatters of util.c: report byte
 * units (the sample values of mxwall(8)), durations, port lists, numbers,
 * thousands separators, ISO times and JSON strings.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/mxwall.h"
#include "core/testhook.h"
#include "test.h"

static void test_fmt_bytes(void)
{
	static const struct {
		uint64_t in;
		const char *out;
	} cases[] = {
	    {0, "0"},
	    {1, "1"},
	    {93552, "93552"}, /* the sample report: exact */
	    {85360, "85360"}, /* the sample report: exact */
	    {99999, "99999"},
	    {100000, "97K"},
	    {356 * 1024, "356K"},	 /* mxwall(8): 356K */
	    {356 * 1024 + 1023, "356K"}, /* whole numbers, truncated */
	    {215 * 1024, "215K"},
	    {99999ULL * 1024 + 1023, "99999K"},
	    {100000ULL * 1024, "97M"},
	    {5ULL * 1024 * 1024 * 1024 * 1024, "5120G"},
	    {UINT64_MAX, "16383P"}, /* five digits at most */
	};
	char buf[32], desc[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(desc, sizeof(desc), "fmt_bytes(%llu)",
			 (unsigned long long)cases[i].in);
		fmt_bytes(cases[i].in, buf, sizeof(buf));
		ASSERT_STR(buf, cases[i].out, desc);
	}
}

static void test_parse_duration(void)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t secs;
	} cases[] = {
	    {"0", 0, 0},
	    {"90", 0, 90},
	    {"90s", 0, 90},
	    {"15m", 0, 900},
	    {"2h", 0, 7200},
	    {"30d", 0, 30 * 86400},
	    {"1w", 0, 604800},
	    {"3650d", 0, 3650ULL * 86400},
	    {"", -EINVAL, 0},
	    {"h", -EINVAL, 0},
	    {"1x", -EINVAL, 0},
	    {"1H", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {"+1", -EINVAL, 0},
	    {"1.5h", -EINVAL, 0},
	    {" 1h", -EINVAL, 0},
	    {"1h ", -EINVAL, 0},
	    {"1h30m", -EINVAL, 0},
	    {"99999999w", -ERANGE, 0},
	    {"99999999999999999999999", -ERANGE, 0},
	};
	char desc[64];
	uint64_t v;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(desc, sizeof(desc), "parse_duration(\"%s\")",
			 cases[i].in);
		v = 12345;
		r = parse_duration(cases[i].in, &v);
		ASSERT_EQ(r, cases[i].ret, desc);
		if (!cases[i].ret)
			ASSERT_U64(v, cases[i].secs, desc);
		else
			ASSERT_U64(v, 12345, "output untouched on error");
	}
}

static void test_parse_ports(void)
{
	static const struct {
		const char *in;
		int ret;
		size_t n;
		uint16_t ports[3];
	} cases[] = {
	    {"25", 0, 1, {25}},
	    {"25,465,587", 0, 3, {25, 465, 587}},
	    {"25, 465 ,587", 0, 3, {25, 465, 587}},
	    {"65535", 0, 1, {65535}},
	    {"0", -EINVAL, 0, {0}},
	    {"65536", -EINVAL, 0, {0}},
	    {"25,25", -EINVAL, 0, {0}},
	    {"", -EINVAL, 0, {0}},
	    {",", -EINVAL, 0, {0}},
	    {"smtp", -EINVAL, 0, {0}},
	    {"25;465", -EINVAL, 0, {0}},
	    {"-25", -EINVAL, 0, {0}},
	    {"1,2,3,4", -ERANGE, 0, {0}}, /* max 3 below */
	};
	uint16_t ports[3];
	char desc[64];
	size_t i, n, k;
	int r;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(desc, sizeof(desc), "parse_ports(\"%s\")",
			 cases[i].in);
		n = 0;
		r = parse_ports(cases[i].in, ports, 3, &n);
		ASSERT_EQ(r, cases[i].ret, desc);
		if (cases[i].ret)
			continue;
		ASSERT_EQ(n, cases[i].n, desc);
		for (k = 0; k < n && k < 3; k++)
			ASSERT_EQ(ports[k], cases[i].ports[k], desc);
	}
}

static void test_parse_u64(void)
{
	static const struct {
		const char *in;
		uint64_t min, max;
		int ret;
		uint64_t v;
	} cases[] = {
	    {"0", 0, 10, 0, 0},
	    {"10", 0, 10, 0, 10},
	    {"11", 0, 10, -ERANGE, 0},
	    {"0", 1, 10, -ERANGE, 0},
	    {"18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX},
	    {"18446744073709551616", 0, UINT64_MAX, -ERANGE, 0},
	    {"007", 0, 10, 0, 7},
	    {"", 0, 10, -EINVAL, 0},
	    {"+1", 0, 10, -EINVAL, 0},
	    {"-1", 0, 10, -EINVAL, 0},
	    {"1a", 0, 10, -EINVAL, 0},
	    {" 1", 0, 10, -EINVAL, 0},
	    {"0x10", 0, 100, -EINVAL, 0},
	};
	char desc[80];
	uint64_t v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(desc, sizeof(desc), "parse_u64(\"%s\", %llu, %llu)",
			 cases[i].in, (unsigned long long)cases[i].min,
			 (unsigned long long)cases[i].max);
		ASSERT_EQ(
		    parse_u64(cases[i].in, cases[i].min, cases[i].max, &v),
		    cases[i].ret, desc);
		if (!cases[i].ret)
			ASSERT_U64(v, cases[i].v, desc);
	}
}

static void test_parse_bool(void)
{
	bool b = false;

	ASSERT_TRUE(parse_bool("yes", &b) && b, "yes");
	ASSERT_TRUE(parse_bool("Off", &b) && !b, "Off");
	ASSERT_TRUE(parse_bool("1", &b) && b, "1");
	ASSERT_TRUE(!parse_bool("maybe", &b), "maybe refused");
	ASSERT_TRUE(!parse_bool("", &b), "empty refused");
}

static void test_formatters(void)
{
	char buf[64];
	char *mem = NULL;
	size_t len = 0;
	FILE *f;

	fmt_thousands(0, buf, sizeof(buf));
	ASSERT_STR(buf, "0", "thousands 0");
	fmt_thousands(999, buf, sizeof(buf));
	ASSERT_STR(buf, "999", "thousands 999");
	fmt_thousands(46583, buf, sizeof(buf));
	ASSERT_STR(buf, "46,583", "thousands 46583 (mxwall(8))");
	fmt_thousands(1234567, buf, sizeof(buf));
	ASSERT_STR(buf, "1,234,567", "thousands 1234567");

	fmt_time_iso(1795416904, buf, sizeof(buf));
	ASSERT_STR(buf, "2026-11-23T06:55:04Z", "ISO 8601 UTC");
	fmt_time_iso(0, buf, sizeof(buf));
	ASSERT_STR(buf, "", "time 0 is empty");

	f = open_memstream(&mem, &len);
	json_str(f, "a\"b\\c\nd\x01");
	fclose(f);
	ASSERT_STR(mem, "\"a\\\"b\\\\c\\nd\\u0001\"", "JSON escapes");
	free(mem);
}

/* hooks (value, none, last wins, unknown ignored), set and read again */
static void set_hooks(const char *v)
{
	if (v)
		setenv(MX_TEST_HOOKS_ENV, v, 1);
	else
		unsetenv(MX_TEST_HOOKS_ENV);
	mx_test_hooks_reset();
}

static void test_hooks(void)
{
	set_hooks(NULL);
	ASSERT_TRUE(mx_test_hook("reader") == NULL, "unset: no hook");
	set_hooks("reader=open,,force_xdp_fail,nosuch=1,reader=bpf");
	ASSERT_STR(mx_test_hook("reader"), "bpf", "the last one wins");
	ASSERT_STR(mx_test_hook("force_xdp_fail"), "", "a hook without value");
	ASSERT_TRUE(mx_test_hook_is("reader", "bpf"), "hook_is");
	ASSERT_TRUE(!mx_test_hook_is("reader", "open"), "hook_is: other value");
	ASSERT_TRUE(mx_test_hook("nosuch") == NULL, "unknown: ignored");
	ASSERT_TRUE(mx_test_hook("fake_now") == NULL, "not given");
	setenv(MX_TEST_HOOKS_ENV, "fake_now=1", 1);
	ASSERT_STR(mx_test_hook("reader"), "bpf", "read once");
	set_hooks(NULL);
}

/* the test clock: the hook fake_now, seconds or a file holding them */
static void test_clock(void)
{
	char path[] = "/tmp/mxwall-now-XXXXXX", hook[64];
	int64_t t = 0;
	FILE *f;
	int fd;

	set_hooks(NULL);
	ASSERT_EQ(mx_fake_now(&t), -ENOENT, "no hook");
	ASSERT_TRUE(mx_now() >= (int64_t)time(NULL) - 1, "real clock");
	set_hooks("fake_now=1795000000");
	ASSERT_EQ(mx_fake_now(&t), 0, "seconds");
	ASSERT_EQ(t, 1795000000, "the seconds given");
	ASSERT_EQ(mx_now(), 1795000000, "mx_now follows it");
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f) {
		fputs("1795003600\n", f);
		fclose(f);
	}
	snprintf(hook, sizeof(hook), "fake_now=%s", path);
	set_hooks(hook);
	ASSERT_EQ(mx_now(), 1795003600, "from the file, read on each call");
	f = fopen(path, "w");
	if (f)
		fclose(f); /* empty: being rewritten */
	ASSERT_EQ(mx_fake_now(&t), -EINVAL, "an unreadable value says so");
	ASSERT_TRUE(mx_now() >= (int64_t)time(NULL) - 1, "mx_now: real clock");
	set_hooks("fake_now=soon");
	ASSERT_EQ(mx_fake_now(&t), -EINVAL, "garbage");
	unlink(path);
	set_hooks(NULL);
}

int main(void)
{
	TEST_RUN(test_fmt_bytes);
	TEST_RUN(test_parse_duration);
	TEST_RUN(test_parse_ports);
	TEST_RUN(test_parse_u64);
	TEST_RUN(test_parse_bool);
	TEST_RUN(test_formatters);
	TEST_RUN(test_hooks);
	TEST_RUN(test_clock);
	return test_finish();
}
