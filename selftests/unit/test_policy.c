// SPDX-License-Identifier: GPL-2.0
/*
 * test_policy.c - the promotion policy of `mxwall watch` (watch/policy.c)
 * with the clock as an argument: thresholds and windows as mxwall.conf(5)
 * describes them, threshold.TAG rules, the recidive ttl and max_ttl, the
 * hourly cap, the addresses never blocked, idle_expire, durations.
 */
#include <sys/socket.h>

#include "core/cidr.h"
#include "core/config.h"
#include "core/mxwall.h"
#include "test.h"
#include "watch/policy.h"

#define NOW 1700000000LL

static void load(struct mx_config *c, const char *text)
{
	char err[256];

	if (config_parse_string("test.conf", text, c, err, sizeof(err))) {
		TEST_FAIL("config", "%s", err);
		exit(1);
	}
}

static struct cidr ip(const char *s)
{
	struct cidr c;
	char err[64];

	if (cidr_parse(s, 0, &c, err, sizeof(err)) < 0) {
		TEST_FAIL("cidr", "%s: %s", s, err);
		exit(1);
	}
	return c;
}

static void test_threshold_window(void)
{
	struct mx_config c;
	struct src_event ev[10];
	struct policy_verdict v;
	size_t i;

	load(&c, "threshold = 3\nwindow = 1h\n");
	for (i = 0; i < 3; i++) {
		ev[i].time = NOW - 100 + (int64_t)i;
		ev[i].tags = 1; /* bit 0 */
	}
	ASSERT_TRUE(!policy_over_threshold(&c, ev, 2, 1, NULL, NOW, &v),
		    "2 of 3 in the window: not over");
	ASSERT_U64(v.hits, 0, "no verdict: no hits reported");
	ASSERT_TRUE(policy_over_threshold(&c, ev, 3, 1, NULL, NOW, &v),
		    "3 of 3 in the window: over");
	ASSERT_U64(v.hits, 3, "hits");
	ASSERT_U64(v.window, 3600, "the global window");
	ASSERT_U64(v.threshold, 3, "the global threshold");
	ASSERT_U64(v.tags, 1, "the events' tags");
	/* the same events an hour and a second later: out of the window */
	ASSERT_TRUE(
	    !policy_over_threshold(&c, ev, 3, 1, NULL, NOW + 3600 - 99, &v),
	    "the oldest left the window");
	ASSERT_TRUE(
	    policy_over_threshold(&c, ev, 3, 1, NULL, NOW + 3600 - 100, &v),
	    "the oldest on the window's edge still counts");
	/* events of a tag that does not count (not in `counting`) */
	ASSERT_TRUE(!policy_over_threshold(&c, ev, 3, 2, NULL, NOW, &v),
		    "tags outside counting do not count");
	config_free(&c);
}

static void test_tag_rules(void)
{
	struct mx_config c;
	struct src_event ev[2] = {{NOW - 500, 1ULL << 5}, {NOW - 10, 1}};
	struct policy_verdict v;
	int bits[8];
	size_t i, rbl = 99;

	/* rules in the order the file names them, after the default ones */
	load(&c, "threshold = 10\nwindow = 1h\nthreshold.rbl = 1\n"
		 "window.rbl = 10m\nthreshold.helo = 0\n");
	ASSERT_TRUE(c.nrules <= 8, "a few rules");
	for (i = 0; i < c.nrules && i < 8; i++) {
		bits[i] = -1; /* no event carries the tag */
		if (!strcmp(c.rules[i].tag, "rbl")) {
			bits[i] = 5;
			rbl = i;
		}
	}
	ASSERT_TRUE(rbl < c.nrules &&
			!strcmp(c.rules[c.nrules - 1].tag, "helo"),
		    "rbl, then helo last");
	ASSERT_TRUE(policy_over_threshold(&c, ev, 2, 1, bits, NOW, &v),
		    "one rbl event in 10m: over by its own rule");
	ASSERT_U64(v.hits, 1, "the rule's hits");
	ASSERT_U64(v.window, 600, "the rule's window");
	ASSERT_U64(v.threshold, 1, "the rule's threshold");
	ASSERT_U64(v.tags, 1ULL << 5, "only the rule's events' tags");
	ASSERT_U64(v.rules_seen, rbl + 1, "stopped at the rule that hit");
	ASSERT_TRUE(!policy_over_threshold(&c, ev, 2, 1, bits, NOW + 200, &v),
		    "the rbl event left its 10m window");
	ASSERT_U64(v.rules_seen, rbl + 1,
		   "threshold 0 rules (helo) are not looked at");
	bits[rbl] = -1;
	ASSERT_TRUE(!policy_over_threshold(&c, ev, 2, 1, bits, NOW, &v),
		    "a rule whose tag no event carries has no hits");
	config_free(&c);
}

static void test_ttl(void)
{
	struct mx_config c;
	struct db_entry prev = {0};
	uint64_t level = 99;

	load(&c, "ttl = 1h\nrecidive_window = 1d\nrecidive_factor = 4\n"
		 "max_ttl = 10h\n");
	ASSERT_U64(policy_ttl(&c, NULL, NOW, &level), 3600, "first time: ttl");
	ASSERT_U64(level, 0, "first time: level 0");
	prev.added = NOW - 7200;
	prev.expires = NOW - 3600;
	prev.removed = NOW - 3600;
	snprintf(prev.removal, sizeof(prev.removal), "expire");
	prev.level = 0;
	ASSERT_U64(policy_ttl(&c, &prev, NOW, &level), 4 * 3600,
		   "repeat within recidive_window: previous time x factor");
	ASSERT_U64(level, 1, "repeat: level 1");
	prev.level = 1;
	prev.added = NOW - 4 * 3600 - 3600;
	ASSERT_U64(policy_ttl(&c, &prev, NOW, &level), 10 * 3600,
		   "at most max_ttl");
	ASSERT_U64(level, 2, "second repeat: level 2");
	ASSERT_U64(policy_ttl(&c, &prev, NOW - 3600 + 86401, &level), 3600,
		   "removed longer ago than recidive_window: ttl");
	snprintf(prev.removal, sizeof(prev.removal), "unblocked");
	ASSERT_U64(policy_ttl(&c, &prev, NOW, &level), 3600,
		   "unblocked by hand: no repeat");
	ASSERT_U64(level, 0, "unblocked: level 0");
	prev.removed = 0;
	ASSERT_U64(policy_ttl(&c, &prev, NOW, &level), 3600,
		   "still active: ttl");
	config_free(&c);
}

static void test_cap(void)
{
	struct mx_config c;
	int64_t t[4] = {NOW - 4000, NOW - 3700, NOW - 100, NOW - 10};
	size_t n = 4;

	load(&c, "max_promotions_per_hour = 2\n");
	ASSERT_TRUE(policy_cap_full(&c, n), "4 >= 2: full");
	policy_cap_prune(t, &n, NOW);
	ASSERT_U64(n, 2, "those older than an hour are forgotten");
	ASSERT_EQ(t[0], NOW - 100, "the recent ones stay, in order");
	ASSERT_TRUE(policy_cap_full(&c, n), "2 in the hour: still full");
	policy_cap_prune(t, &n, NOW + 3600 - 99);
	ASSERT_U64(n, 1, "an hour after the first: one left");
	ASSERT_TRUE(!policy_cap_full(&c, n), "room again");
	config_free(&c);
}

static void test_protected(void)
{
	struct mx_config c;
	struct policy_guard g;
	struct cidr own = ip("192.0.2.25"), n;

	load(&c, "allow = 198.51.100.0/24\n");
	policy_guard_init(&g);
	g.own = &own;
	g.nown = 1;
	n = ip("127.0.0.2");
	ASSERT_STR(policy_protected(&c, &g, &n), "loopback", "127/8");
	n = ip("::1");
	ASSERT_STR(policy_protected(&c, &g, &n), "loopback", "::1");
	n = ip("192.0.2.25");
	ASSERT_STR(policy_protected(&c, &g, &n), "an address of this machine",
		   "own address");
	n = ip("192.0.2.0/24");
	ASSERT_STR(policy_protected(&c, &g, &n), "an address of this machine",
		   "a netblock covering our address");
	n = ip("198.51.100.9");
	ASSERT_STR(policy_protected(&c, &g, &n), "in the allowlist",
		   "in allow");
	n = ip("198.51.0.0/16");
	ASSERT_STR(policy_protected(&c, &g, &n), "in the allowlist",
		   "a netblock covering allow");
	n = ip("203.0.113.7");
	ASSERT_TRUE(policy_protected(&c, &g, &n) == NULL, "a stranger");
	config_free(&c);
}

static void test_idle_and_dur(void)
{
	struct mx_config c;
	char buf[64];

	load(&c, "seen_max_age = 10m\n");
	ASSERT_TRUE(policy_seen_fresh(&c, NOW - 600, NOW), "handshake 10m ago");
	ASSERT_TRUE(!policy_seen_fresh(&c, NOW - 601, NOW), "10m and 1s ago");
	ASSERT_TRUE(policy_seen_fresh(&c, NOW + 60, NOW), "clock set back");
	config_free(&c);
	load(&c, "idle_expire = 2h\n");
	ASSERT_TRUE(!policy_idle(&c, NOW - 7199, NOW), "hit 7199 s ago");
	ASSERT_TRUE(policy_idle(&c, NOW - 7200, NOW), "no hit for 2h");
	config_free(&c);
	load(&c, "idle_expire = 0\n");
	ASSERT_TRUE(!policy_idle(&c, 0, NOW), "idle_expire 0: never idle");
	config_free(&c);
	policy_fmt_dur(2 * 7 * 86400, buf, sizeof(buf));
	ASSERT_STR(buf, "2w", "weeks");
	policy_fmt_dur(3 * 86400, buf, sizeof(buf));
	ASSERT_STR(buf, "3d", "days");
	policy_fmt_dur(7200, buf, sizeof(buf));
	ASSERT_STR(buf, "2h", "hours");
	policy_fmt_dur(600, buf, sizeof(buf));
	ASSERT_STR(buf, "10m", "minutes");
	policy_fmt_dur(61, buf, sizeof(buf));
	ASSERT_STR(buf, "61s", "seconds");
	policy_fmt_dur(0, buf, sizeof(buf));
	ASSERT_STR(buf, "0 (until the weekly reset)", "zero");
}

int main(void)
{
	TEST_RUN(test_threshold_window);
	TEST_RUN(test_tag_rules);
	TEST_RUN(test_ttl);
	TEST_RUN(test_cap);
	TEST_RUN(test_protected);
	TEST_RUN(test_idle_and_dur);
	return test_finish();
}
