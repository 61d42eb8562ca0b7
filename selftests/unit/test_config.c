// SPDX-License-Identifier: GPL-2.0
/*
 * test_config.c - mxwall.conf: defaults, every key type, lists, per-tag
 * rules, and the FILE:LINE error for each kind of mistake.
 */
#include <errno.h>
#include <unistd.h>

#include "core/config.h"
#include "test.h"

static void test_defaults(void)
{
	struct mx_config c;
	const struct mx_tag_rule *r;
	char buf[256];

	config_defaults(&c);
	ASSERT_U64(c.threshold, 10, "threshold 10");
	ASSERT_U64(c.window, 3600, "window 1h");
	ASSERT_U64(c.ttl, 0, "ttl until reset");
	ASSERT_TRUE(c.require_seen, "require_seen yes");
	ASSERT_U64(c.seen_max_age, 3600, "seen_max_age 1h");
	ASSERT_U64(c.escalate, 0, "escalate off");
	ASSERT_U64(c.max_promotions_per_hour, 500, "cap 500");
	ASSERT_U64(c.recidive_window, 30 * 86400, "recidive_window 30d");
	ASSERT_U64(c.recidive_factor, 2, "recidive_factor 2");
	ASSERT_U64(c.max_ttl, 90 * 86400, "max_ttl 90d");
	ASSERT_U64(c.idle_expire, 14 * 86400, "idle_expire 14d");
	ASSERT_U64(c.report_top, 20, "report_top 20");
	ASSERT_EQ(c.nports, 1, "one port");
	ASSERT_EQ(c.ports[0], 25, "port 25");
	ASSERT_EQ(c.nlogs, 0, "no logs");
	ASSERT_TRUE(c.report_mail_to == NULL, "no mail");
	r = config_rule(&c, "greylist");
	ASSERT_TRUE(r && r->threshold == 0, "greylist does not count");
	ASSERT_EQ(config_db_path(&c, "/tmp/st", buf, sizeof(buf)), 0,
		  "db path");
	ASSERT_STR(buf, "/tmp/st/mxwall.db", "db under state dir");
	config_free(&c);
}

static const char full[] = "# sample\n"
			   "log = /var/log/mail.log\n"
			   "log = -   # stdin\n"
			   "backend = xdp\n"
			   "interface = eth0\n"
			   "interface = eth1\n"
			   "ports = 25, 465, 587\n"
			   "threshold = 5\n"
			   "window = 30m\n"
			   "threshold.zen.spamhaus.org = 1\n"
			   "window.bad-helo = 10m\n"
			   "threshold.greylist = 50\n"
			   "ttl = 2d\n"
			   "allow = 192.0.2.0/24\n"
			   "allow = 2001:db8::/32\n"
			   "spamtrap = trap@example.com\n"
			   "require_seen = no\n"
			   "seen_max_age = 10m\n"
			   "escalate = 4\n"
			   "max_promotions_per_hour = 100\n"
			   "recidive_window = 2w\n"
			   "recidive_factor = 3\n"
			   "max_ttl = 60d\n"
			   "idle_expire = 0\n"
			   "db = /tmp/x.db\n"
			   "report_mail_to = postmaster@example.com\n"
			   "report_top = 50\n"
			   "\t \n"
			   "syslog = yes\n";

static void test_full(void)
{
	struct mx_config c;
	const struct mx_tag_rule *r;
	char err[256] = "";

	ASSERT_EQ(config_parse_string("t.conf", full, &c, err, sizeof(err)), 0,
		  "full file parses");
	if (*err)
		printf("# %s\n", err);
	ASSERT_EQ(c.nlogs, 2, "two logs");
	ASSERT_STR(c.nlogs == 2 ? c.logs[1] : "", "-", "stdin, comment cut");
	ASSERT_EQ(c.backend, MX_BACKEND_XDP, "backend");
	ASSERT_EQ(c.nifaces, 2, "two interfaces");
	ASSERT_EQ(c.nports, 3, "three ports");
	ASSERT_TRUE(c.ports_set, "ports given");
	ASSERT_EQ(c.ports[2], 587, "587");
	ASSERT_U64(c.threshold, 5, "threshold");
	ASSERT_U64(c.window, 1800, "window");
	r = config_rule(&c, "zen.spamhaus.org");
	ASSERT_TRUE(r && r->threshold == 1 && r->window == 1800,
		    "zen rule: own threshold, global window");
	r = config_rule(&c, "bad-helo");
	ASSERT_TRUE(r && r->threshold == 5 && r->window == 600,
		    "bad-helo rule: global threshold, own window");
	r = config_rule(&c, "greylist");
	ASSERT_TRUE(r && r->threshold == 50, "greylist made to count");
	ASSERT_U64(config_max_window(&c), 1800, "max window");
	ASSERT_U64(c.ttl, 2 * 86400, "ttl");
	ASSERT_EQ(c.nallow, 2, "two allow");
	ASSERT_EQ(c.nallow == 2 ? c.allow[1].plen : 0, 32, "v6 allow /32");
	ASSERT_EQ(c.nspamtraps, 1, "spamtrap");
	ASSERT_TRUE(!c.require_seen, "require_seen no");
	ASSERT_U64(c.seen_max_age, 600, "seen_max_age");
	ASSERT_U64(c.escalate, 4, "escalate");
	ASSERT_U64(c.max_promotions_per_hour, 100, "cap");
	ASSERT_U64(c.recidive_window, 14 * 86400, "recidive_window");
	ASSERT_U64(c.recidive_factor, 3, "factor");
	ASSERT_U64(c.max_ttl, 60 * 86400, "max_ttl");
	ASSERT_U64(c.idle_expire, 0, "idle off");
	ASSERT_STR(c.db, "/tmp/x.db", "db");
	ASSERT_STR(c.report_mail_to, "postmaster@example.com", "mail to");
	ASSERT_U64(c.report_top, 50, "report_top");
	ASSERT_TRUE(c.syslog, "syslog");
	config_free(&c);
}

static const struct {
	const char *desc, *text, *err;
} bad[] = {
    {"unknown key", "threshold = 3\nfoo = 1\n", "t.conf:2: unknown key 'foo'"},
    {"no equals", "\n\nthreshold 3\n", "t.conf:3: expected 'key = value'"},
    {"bad number", "threshold = ten\n",
     "t.conf:1: threshold: 'ten' is not a number from 1 to 1000000"},
    {"zero threshold", "threshold = 0\n",
     "t.conf:1: threshold: '0' is not a number from 1 to 1000000"},
    {"bad duration", "window = 5x\n",
     "t.conf:1: window: '5x' is not a duration (a number with s, m, h, d or "
     "w)"},
    {"bad bool", "require_seen = maybe\n",
     "t.conf:1: require_seen: 'maybe' is not yes or no"},
    {"bad cidr", "allow = 1.2.3\n", NULL},
    {"slash zero", "allow = 0.0.0.0/0\n", NULL},
    {"bad ports", "ports = 25,25\n", NULL},
    {"bad backend", "backend = ebpf\n",
     "t.conf:1: backend: 'ebpf': expected auto, xdp or nft"},
    {"twice", "ttl = 1d\nttl = 2d\n", "t.conf:2: ttl given twice"},
    {"bad tag", "threshold.a b = 1\n", NULL},
    {"tag bad value", "window.relay = 0\n",
     "t.conf:1: window.relay: '0' is not a duration from 1s to 1 year"},
    {"seen_max_age 0", "seen_max_age = 0\n", NULL},
    {"seen_max_age past 30d", "seen_max_age = 31d\n", NULL},
    {"empty key", "= 3\n", "t.conf:1: missing key before '='"},
    {"empty value", "db =\n", "t.conf:1: db: empty value"},
    {"a tag's threshold twice",
     "threshold.relay = 3\nwindow.relay = 1h\nthreshold.relay = 9\n",
     "t.conf:3: threshold.relay given twice"},
    {"a tag's window twice", "window.relay = 1h\nwindow.relay = 2h\n",
     "t.conf:2: window.relay given twice"},
    {"allow with host bits", "allow = 192.0.2.77/24\n",
     "t.conf:1: allow: '192.0.2.77/24' has host bits set (did you mean "
     "192.0.2.0/24?)"},
    {"a duration without unit", "window = 10\n",
     "t.conf:1: window: '10' needs a unit: 10s, 10m, 10h, 10d or 10w"},
    {"a tag window without unit", "window.relay = 10\n",
     "t.conf:1: window.relay: '10' needs a unit: 10s, 10m, 10h, 10d or "
     "10w"},
    {"a comment glued to a value", "threshold = 5# five\n",
     "t.conf:1: threshold: '5# five' is not a number from 1 to 1000000"},
};

/* '#' inside a value is part of it: an address keeps its local part */
static void test_hash_in_value(void)
{
	struct mx_config c;
	char err[256] = "";

	ASSERT_EQ(config_parse_string("t.conf",
				      "spamtrap = a#b@example.org # trap\n"
				      "idle_expire = 0\n",
				      &c, err, sizeof(err)),
		  0, "spamtrap with '#' parses");
	ASSERT_U64(c.nspamtraps, 1, "one spamtrap");
	if (c.nspamtraps)
		ASSERT_STR(c.spamtraps[0], "a#b@example.org",
			   "spamtrap kept whole, the comment cut");
	config_free(&c);
}

static void test_errors(void)
{
	struct mx_config c;
	char err[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		ASSERT_EQ(config_parse_string("t.conf", bad[i].text, &c, err,
					      sizeof(err)),
			  -EINVAL, bad[i].desc);
		if (bad[i].err)
			ASSERT_STR(err, bad[i].err, bad[i].desc);
		else
			ASSERT_TRUE(!strncmp(err, "t.conf:1: ", 10),
				    bad[i].desc);
		/* a failed load leaves the defaults */
		ASSERT_U64(c.threshold, 10, "defaults after error");
		config_free(&c);
	}
}

/* per-tag rules: CONF_RULES_MAX distinct tags (greylist's own counts),
 * then a clear error; a tag named again is no new one */
static void test_rules_max(void)
{
	char text[CONF_RULES_MAX * 40 + 64], err[256];
	struct mx_config c;
	size_t n = 0;
	int i;

	for (i = 1; i < CONF_RULES_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "threshold.z%d.example = 1\n", i);
	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "window.z1.example = 5m\n");
	ASSERT_EQ(config_parse_string("t.conf", text, &c, err, sizeof(err)), 0,
		  "CONF_RULES_MAX rule tags are taken");
	ASSERT_U64(c.nrules, CONF_RULES_MAX, "greylist plus the others");
	config_free(&c);
	snprintf(text + n, sizeof(text) - n, "threshold.one-more = 2\n");
	err[0] = '\0';
	ASSERT_EQ(config_parse_string("t.conf", text, &c, err, sizeof(err)),
		  -EINVAL, "one more rule tag is refused");
	ASSERT_TRUE(strstr(err, "more than") != NULL, err);
	config_free(&c);
}

static void test_file(void)
{
	char path[] = "/tmp/mxwall-conf-XXXXXX", err[256] = "";
	struct mx_config c;
	int fd = mkstemp(path);

	ASSERT_TRUE(fd >= 0, "mkstemp");
	if (fd < 0)
		return;
	ASSERT_EQ(write(fd, "log = /a\nlog = /b\nescalate = 2\n", 31), 31,
		  "write");
	close(fd);
	ASSERT_EQ(config_load(path, &c, err, sizeof(err)), 0, "load file");
	ASSERT_EQ(c.nlogs, 2, "lists from file");
	ASSERT_U64(c.escalate, 2, "escalate from file");
	config_free(&c);
	unlink(path);
	ASSERT_EQ(config_load(path, &c, err, sizeof(err)), -ENOENT,
		  "missing file");
	ASSERT_TRUE(strstr(err, path) != NULL, "error names the file");
	config_free(&c);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = calloc(1, 1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* every key is documented in mxwall.conf(5) and the sample config */
static void test_documented(void)
{
	char *man = slurp("docs/mxwall.conf.5");
	char *sample = slurp("scripts/mxwall.conf");
	char key[64], pat[80];
	size_t i;

	ASSERT_TRUE(man != NULL,
		    "docs/mxwall.conf.5 readable (run from the tree)");
	ASSERT_TRUE(sample != NULL, "scripts/mxwall.conf readable");
	for (i = 0; man && sample && config_key_names[i]; i++) {
		snprintf(key, sizeof(key), "%s", config_key_names[i]);
		if (strstr(key, ".TAG"))
			strstr(key, ".TAG")[1] = '\0'; /* "threshold." */
		snprintf(pat, sizeof(pat), "Ic %s", key);
		if (!strstr(man, pat))
			TEST_FAIL(key, "not in docs/mxwall.conf.5");
		else
			TEST_OK(key);
		if (!strstr(sample, key))
			TEST_FAIL(key, "not in scripts/mxwall.conf");
		else
			TEST_OK(key);
	}
	free(man);
	free(sample);
}

int main(void)
{
	TEST_RUN(test_defaults);
	TEST_RUN(test_full);
	TEST_RUN(test_errors);
	TEST_RUN(test_hash_in_value);
	TEST_RUN(test_rules_max);
	TEST_RUN(test_file);
	TEST_RUN(test_documented);
	return test_finish();
}
