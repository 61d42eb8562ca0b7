/* SPDX-License-Identifier: GPL-2.0 */
/*
 * test.h - table-driven C tests with named assertions that print actual and
 * expected. Every test binary ends with "N passed, N failed" and exits
 * non-zero when anything failed; selftests/run.sh adds the lines up.
 *
 *	static void test_parse(void) {
 *		ASSERT_EQ(cidr_parse("1.2.3.4/33", 0, &c, err, sizeof(err)),
 *-EINVAL, "/33");
 *	}
 *	TEST_MAIN(test_parse, test_format)
 */
#ifndef MXWALL_TEST_H
#define MXWALL_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed, test_failed;
static const char *test_current = "";

#define TEST_OK(desc)                                                          \
	do {                                                                   \
		test_passed++;                                                 \
		if (getenv("TEST_VERBOSE"))                                    \
			printf("ok - %s: %s\n", test_current, desc);           \
	} while (0)

#define TEST_FAIL(desc, ...)                                                   \
	do {                                                                   \
		test_failed++;                                                 \
		printf("FAIL - %s: %s (%s:%d): ", test_current, desc,          \
		       __FILE__, __LINE__);                                    \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
	} while (0)

#define ASSERT_TRUE(cond, desc)                                                \
	do {                                                                   \
		if (cond)                                                      \
			TEST_OK(desc);                                         \
		else                                                           \
			TEST_FAIL(desc, "expected true: %s", #cond);           \
	} while (0)

#define ASSERT_EQ(actual, expected, desc)                                      \
	do {                                                                   \
		long long _a = (long long)(actual),                            \
			  _e = (long long)(expected);                          \
		if (_a == _e)                                                  \
			TEST_OK(desc);                                         \
		else                                                           \
			TEST_FAIL(desc, "%s = %lld, expected %lld", #actual,   \
				  _a, _e);                                     \
	} while (0)

#define ASSERT_U64(actual, expected, desc)                                     \
	do {                                                                   \
		unsigned long long _a = (actual), _e = (expected);             \
		if (_a == _e)                                                  \
			TEST_OK(desc);                                         \
		else                                                           \
			TEST_FAIL(desc, "%s = %llu, expected %llu", #actual,   \
				  _a, _e);                                     \
	} while (0)

#define ASSERT_STR(actual, expected, desc)                                     \
	do {                                                                   \
		const char *_a = (actual), *_e = (expected);                   \
		if (_a && _e && !strcmp(_a, _e))                               \
			TEST_OK(desc);                                         \
		else                                                           \
			TEST_FAIL(desc, "%s = \"%s\", expected \"%s\"",        \
				  #actual, _a ? _a : "(null)",                 \
				  _e ? _e : "(null)");                         \
	} while (0)

static inline int test_finish(void)
{
	printf("%d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}

#define TEST_RUN(fn)                                                           \
	do {                                                                   \
		test_current = #fn;                                            \
		fn();                                                          \
	} while (0)

#endif /* MXWALL_TEST_H */
