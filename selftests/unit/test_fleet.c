// SPDX-License-Identifier: GPL-2.0
/*
 * test_fleet.c - export and import (ctl/fleet/): every format says what
 * the filter does. Random entry sets (hosts and netblocks of every
 * length, drop and allow, nested) are exported; for random addresses near
 * them the longest-prefix verdict of the original set must equal
 *  - the verdict of the set read back by the importer (every format), and
 *  - the answer of a DNS server to the zone file, computed here by the
 *    wildcard rules of RFC 4592 (closest encloser, source of synthesis).
 * Then bad input: each malformed file fails whole, naming FILE:LINE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "test.h"

#include "core/cidr.h"
#include "core/mxwall.h"
#include "fleet/crowdsec.h"
#include "fleet/export.h"
#include "fleet/import.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* verdict: 1 listed (the filter drops), 0 not */
static int verdict(const struct mx_entry *v, size_t n, const struct cidr *a)
{
	const struct mx_entry *best = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_contains(&v[i].net, a) &&
		    (!best || v[i].net.plen > best->net.plen))
			best = &v[i];
	return best && best->action == MX_ACT_DROP && !best->observe;
}

static void random_set(struct mx_entry *v, size_t n, int family)
{
	static const uint8_t lens4[] = {8, 12, 16, 20, 22, 24, 26, 28, 32, 32};
	static const uint8_t lens6[] = {20, 29, 32, 40, 48, 50, 56, 64, 128};
	size_t i;

	memset(v, 0, n * sizeof(*v));
	for (i = 0; i < n; i++) {
		struct mx_entry *e = &v[i];
		int k;

		e->net.family = (uint8_t)family;
		if (family == AF_INET) {
			/* a small space so that entries nest */
			e->net.addr[0] = (uint8_t)(rnd() % 3 ? 198 : 7);
			e->net.addr[1] = (uint8_t)(rnd() % 4);
			e->net.addr[2] = (uint8_t)(rnd() % 8);
			e->net.addr[3] = (uint8_t)rnd();
			e->net.plen = lens4[rnd() % sizeof(lens4)];
		} else {
			e->net.addr[0] = 0x20;
			e->net.addr[1] = 0x01;
			e->net.addr[2] = 0x0d;
			e->net.addr[3] = 0xb8;
			for (k = 4; k < 16; k++)
				e->net.addr[k] = (uint8_t)(rnd() % 3);
			e->net.plen = lens6[rnd() % sizeof(lens6)];
		}
		cidr_mask(&e->net);
		e->action = rnd() % 5 ? MX_ACT_DROP : MX_ACT_ALLOW;
		e->origin = rnd() % 4 ? MX_ORIGIN_DYNAMIC : MX_ORIGIN_STATIC;
		snprintf(e->tags, sizeof(e->tags), "%s",
			 rnd() % 2 ? "a,relay" : "bad-helo");
	}
}

/* an address inside or next to a random entry */
static void probe(const struct mx_entry *v, size_t n, struct cidr *a)
{
	const struct mx_entry *e = &v[rnd() % n];
	unsigned int k;

	*a = e->net;
	a->plen = (uint8_t)cidr_maxlen(a);
	for (k = e->net.plen; k < a->plen; k++)
		if (rnd() & 1)
			a->addr[k / 8] |= (uint8_t)(0x80 >> (k % 8));
	if (rnd() % 4 == 0) /* just outside */
		a->addr[(e->net.plen ? e->net.plen - 1 : 0) / 8] ^=
		    (uint8_t)(0x80 >>
			      ((e->net.plen ? e->net.plen - 1 : 0) % 8));
}

/* --- a resolver of zone text by RFC 4592 ------------------------------ */

struct zrec {
	char name[100];
	char type[8];
	char data[80];
};

struct zone {
	struct zrec *r;
	size_t n;
};

static void zone_load(struct zone *z, const char *text)
{
	const char *p = text;
	size_t cap = 0;

	z->r = NULL;
	z->n = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		char line[300];
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		struct zrec rec;

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		p += l + (nl ? 1 : 0);
		if (line[0] == ';' || line[0] == '$' || line[0] == '@')
			continue;
		if (sscanf(line, "%99s %7s %79[^\n]", rec.name, rec.type,
			   rec.data) != 3)
			continue;
		if (z->n == cap) {
			cap = cap ? cap * 2 : 256;
			z->r = realloc(z->r, cap * sizeof(*z->r));
		}
		z->r[z->n++] = rec;
	}
}

/* does any record own name, or a name below it (an empty non-terminal) */
static bool zone_exists(const struct zone *z, const char *name)
{
	size_t i, l = strlen(name);

	for (i = 0; i < z->n; i++) {
		size_t rl = strlen(z->r[i].name);

		if (!strcmp(z->r[i].name, name))
			return true;
		if (rl > l && z->r[i].name[rl - l - 1] == '.' &&
		    !strcmp(z->r[i].name + rl - l, name))
			return true;
	}
	return false;
}

static bool zone_has_a(const struct zone *z, const char *name)
{
	size_t i;

	for (i = 0; i < z->n; i++)
		if (!strcmp(z->r[i].name, name) && !strcmp(z->r[i].type, "A"))
			return true;
	return false;
}

/* listed: an A record answers the query name (RFC 4592 section 3.3.1) */
static int zone_query(const struct zone *z, const struct cidr *a)
{
	char q[100], ce[104], wild[108];
	unsigned int i, labels = a->family == AF_INET ? 4 : 32;
	size_t off = 0;
	const char *dot;

	for (i = labels; i-- > 0;) {
		unsigned int v =
		    a->family == AF_INET
			? a->addr[i]
			: (a->addr[i / 2] >> (i % 2 ? 0 : 4)) & 0xf;
		off += (size_t)snprintf(q + off, sizeof(q) - off,
					a->family == AF_INET ? "%s%u" : "%s%x",
					off ? "." : "", v);
	}
	if (zone_exists(z, q))
		return zone_has_a(z, q);
	/* the closest encloser: the longest existing ancestor */
	snprintf(ce, sizeof(ce), "%s", q);
	for (;;) {
		dot = strchr(ce, '.');
		if (!dot)
			return 0; /* below the apex, nothing: NXDOMAIN */
		memmove(ce, dot + 1, strlen(dot + 1) + 1);
		if (zone_exists(z, ce))
			break;
	}
	snprintf(wild, sizeof(wild), "*.%s", ce);
	return zone_has_a(z, wild);
}

/* --- the tests --------------------------------------------------------- */

static char *export_text(struct mx_entry *v, size_t n, enum export_format f,
			 int family)
{
	struct export_opts o = {.format = f,
				.family = family,
				.zone = "bl.example",
				.serial = 7,
				.now = 1800000000};
	struct mx_entry *copy = xcalloc(n, sizeof(*copy));
	struct export_stats st;
	char err[200], *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	memcpy(copy, v, n * sizeof(*v));
	if (export_write(fp, copy, n, &o, &st, err, sizeof(err)))
		printf("export: %s\n", err);
	fclose(fp);
	free(copy);
	return buf;
}

static void round_trip(int family, enum export_format ef,
		       enum import_format imf, const char *what)
{
	size_t round, bad_import = 0, bad_dns = 0, probes = 0;

	for (round = 0; round < 40; round++) {
		size_t n = 1 + rnd() % 60, m = 0, k;
		struct mx_entry *v = xcalloc(n, sizeof(*v)), *back = NULL;
		char err[200] = "";
		struct zone z;
		char *text;

		random_set(v, n, family);
		/* one entry per CIDR, as a filter holds them */
		for (k = 0, m = 0; k < n; k++) {
			size_t j;
			bool dup = false;

			for (j = 0; j < m; j++)
				dup = dup || !cidr_cmp(&v[k].net, &v[j].net);
			if (!dup)
				v[m++] = v[k];
		}
		n = m;
		text = export_text(v, n, ef, family);
		if (import_parse(imf, "x", text, strlen(text), &back, &m, err,
				 sizeof(err))) {
			TEST_FAIL(what, "import of the export failed: %s", err);
			free(text);
			free(v);
			continue;
		}
		if (ef == EXPORT_ZONE)
			zone_load(&z, text);
		for (k = 0; k < 200; k++) {
			struct cidr a;
			int want;

			probe(v, n, &a);
			want = verdict(v, n, &a);
			probes++;
			if (verdict(back, m, &a) != want)
				bad_import++;
			if (ef == EXPORT_ZONE && zone_query(&z, &a) != want) {
				char h[CIDR_STRLEN];

				if (!bad_dns)
					printf("dns differs for %s (want %d)\n",
					       cidr_format(&a, h, sizeof(h)),
					       want);
				bad_dns++;
			}
		}
		if (ef == EXPORT_ZONE)
			free(z.r);
		free(back);
		free(text);
		free(v);
	}
	ASSERT_EQ(bad_import, 0, what);
	if (ef == EXPORT_ZONE)
		ASSERT_EQ(bad_dns, 0, "the zone answers as the filter decides");
	ASSERT_TRUE(probes >= 8000, "probed enough addresses");
}

static void test_round_trips(void)
{
	round_trip(AF_INET, EXPORT_RBLDNSD, IMPORT_RBLDNSD, "rbldnsd v4");
	round_trip(AF_INET6, EXPORT_RBLDNSD, IMPORT_RBLDNSD, "rbldnsd v6");
	round_trip(AF_INET, EXPORT_PLAIN, IMPORT_PLAIN, "plain v4");
	round_trip(AF_INET6, EXPORT_PLAIN, IMPORT_PLAIN, "plain v6");
	round_trip(AF_INET, EXPORT_ZONE, IMPORT_ZONE, "zone v4");
	round_trip(AF_INET6, EXPORT_ZONE, IMPORT_ZONE, "zone v6");
}

static void test_zone_needs_one_family(void)
{
	struct mx_entry e = {.action = MX_ACT_DROP};
	struct export_opts o = {.format = EXPORT_ZONE, .zone = "bl.example"};
	struct export_stats st;
	char err[200] = "";
	FILE *fp = fopen("/dev/null", "w");

	cidr_parse("192.0.2.1", 0, &e.net, err, sizeof(err));
	ASSERT_EQ(export_write(fp, &e, 1, &o, &st, err, sizeof(err)), -EINVAL,
		  "a zone of both families is refused");
	ASSERT_TRUE(strstr(err, "one family") != NULL, err);
	o.family = AF_INET;
	o.zone = NULL;
	ASSERT_EQ(export_write(fp, &e, 1, &o, &st, err, sizeof(err)), -EINVAL,
		  "a zone without a name is refused");
	fclose(fp);
}

static void test_tags_and_values(void)
{
	static const char rbl[] =
	    "$SOA 0 ns.x hm.x 0 1h 1h 1w 1h\n"
	    "$DATASET ip4trie:x @\n"
	    ":127.0.0.2:listed\n"
	    "192.0.2.0/24 :127.0.0.3:listed by mxwall: njabl, relay\n"
	    "!192.0.2.9\n"
	    "198.51.100.7 listed by mxwall: bad-helo\n"
	    "$DATASET dnset:names @\n"
	    "spam.example :2:not an address\n"
	    "$DATASET ip6trie @\n"
	    "2001:db8::/32\n";
	struct mx_entry *v = NULL;
	char err[200] = "", host[CIDR_STRLEN];
	size_t n = 0;

	ASSERT_EQ(import_parse(IMPORT_RBLDNSD, "r", rbl, strlen(rbl), &v, &n,
			       err, sizeof(err)),
		  0, "rbldnsd data with other datasets and specials");
	ASSERT_EQ(n, 4, "four address entries");
	if (n != 4) {
		free(v);
		return;
	}
	ASSERT_STR(cidr_format(&v[0].net, host, sizeof(host)), "192.0.2.0/24",
		   "sorted");
	ASSERT_STR(v[0].tags, "njabl,relay", "tags from our TXT");
	ASSERT_EQ(v[0].origin, MX_ORIGIN_STATIC, "127.0.0.3 is the core list");
	ASSERT_EQ(v[1].action, MX_ACT_ALLOW, "an exclusion is an allow");
	ASSERT_STR(v[2].tags, "bad-helo", "a TXT without an A value");
	ASSERT_EQ(v[3].net.family, AF_INET6, "the ip6trie section");
	free(v);
}

static void test_drop_json(void)
{
	static const char drop[] =
	    "{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL256894\",\"rir\":"
	    "\"apnic\"}\n"
	    "{\"cidr\":\"2001:db8:100::/40\",\"sblid\":\"SBL1\",\"rir\":"
	    "\"ripencc\"}\n"
	    "{\"type\":\"metadata\",\"timestamp\":1700000000,\"size\":2,"
	    "\"records\":2,\"copyright\":\"(c)\",\"terms\":\"t\"}\n";
	struct mx_entry *v = NULL;
	char err[200] = "";
	size_t n = 0;

	ASSERT_EQ(import_parse(IMPORT_DROP_JSON, "d", drop, strlen(drop), &v,
			       &n, err, sizeof(err)),
		  0, "DROP JSON with its metadata line");
	ASSERT_EQ(n, 2, "two netblocks");
	if (n == 2)
		ASSERT_STR(v[0].tags, "SBL256894", "the SBL id as tag");
	free(v);
}

static void expect_bad(enum import_format f, const char *text,
		       const char *where, const char *desc)
{
	struct mx_entry *v = (void *)1;
	char err[300] = "";
	size_t n = 99;
	int rc = import_parse(f, "peer.txt", text, strlen(text), &v, &n, err,
			      sizeof(err));

	ASSERT_EQ(rc, -EINVAL, desc);
	ASSERT_TRUE(rc != -EINVAL || strstr(err, where) != NULL, desc);
	if (rc != -EINVAL)
		printf("  (error was '%s')\n", err);
	else if (!strstr(err, where))
		printf("  error '%s' does not name '%s'\n", err, where);
	if (!rc)
		free(v);
}

static void test_bad_input(void)
{
	char big[5000];

	expect_bad(IMPORT_PLAIN, "192.0.2.1\n0.0.0.0/0\n", "peer.txt:2",
		   "a peer listing everything");
	expect_bad(IMPORT_PLAIN, "192.0.2.1\n::/0\n", "peer.txt:2",
		   "a peer listing every IPv6 address");
	expect_bad(IMPORT_PLAIN, "192.0.2.1\n198.51.100.7/24\n", "peer.txt:2",
		   "host bits under the mask");
	expect_bad(IMPORT_PLAIN, "192.0.2.1\n192.0.2.\n", "peer.txt:2",
		   "a truncated last line");
	expect_bad(IMPORT_PLAIN, "192.0.2.1 trailing words\n", "peer.txt:1",
		   "text after the address");
	expect_bad(IMPORT_PLAIN, "1.2.3\n", "peer.txt:1", "abbreviated IPv4");
	expect_bad(IMPORT_RBLDNSD, "$DATASET ip4set @\n127.0.0.1-255\n",
		   "peer.txt:2", "an rbldnsd range we do not read");
	expect_bad(IMPORT_ZONE, "$ORIGIN bl.example.\n1.2.0.192 A 10.0.0.1\n",
		   "peer.txt:2", "an A value outside 127/8");
	expect_bad(IMPORT_ZONE,
		   "$ORIGIN bl.example.\n1.2.0.192.other. A "
		   "127.0.0.2\n",
		   "peer.txt:2", "a name outside the zone");
	expect_bad(IMPORT_DROP_JSON, "{\"cidr\":\"1.2.3.0/24\"\n", "peer.txt:1",
		   "truncated JSON");
	expect_bad(IMPORT_DROP_JSON, "{\"cidr\":7}\n", "peer.txt:1",
		   "a cidr that is no string");
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	expect_bad(IMPORT_PLAIN, big, "peer.txt:1", "an over-long line");
	{
		static const char nul[] = "192.0.2.1\n\0\n";
		struct mx_entry *v = NULL;
		char err[200] = "";
		size_t n = 0;

		ASSERT_EQ(import_parse(IMPORT_PLAIN, "b", nul, sizeof(nul) - 1,
				       &v, &n, err, sizeof(err)),
			  -EINVAL, "a NUL byte: not a text list");
	}
	{
		static const char esc[] = "\x1b[31mred\n";
		struct mx_entry *v = NULL;
		char err[200] = "";
		size_t n = 0;

		import_parse(IMPORT_PLAIN, "e", esc, strlen(esc), &v, &n, err,
			     sizeof(err));
		ASSERT_TRUE(!strchr(err, 0x1b), "no raw ESC in the message");
	}
}

static void test_serial_rises(void)
{
	ASSERT_EQ(export_next_serial(0, 1800000000), 1800000000,
		  "the time when there was none");
	ASSERT_EQ(export_next_serial(1800000000, 1800000000), 1800000001,
		  "two writes in one second");
	ASSERT_EQ(export_next_serial(1800000100, 1800000000), 1800000101,
		  "a clock set back");
}

static void test_crowdsec_stream(void)
{
	static const char good[] =
	    "{\"new\":[{\"id\":1,\"type\":\"ban\",\"scope\":\"Ip\","
	    "\"value\":\"192.0.2.5\",\"duration\":\"59m57.248s\","
	    "\"origin\":\"cscli\",\"scenario\":\"crowdsecurity/ssh-bf\"},"
	    "{\"id\":2,\"type\":\"ban\",\"scope\":\"Range\",\"value\":"
	    "\"2001:db8::/32\",\"duration\":\"4h\",\"origin\":\"lists\","
	    "\"scenario\":\"manual 'ban' from 'cli'\"},"
	    "{\"id\":3,\"type\":\"ban\",\"scope\":\"Country\",\"value\":"
	    "\"FR\",\"duration\":\"4h\"},"
	    "{\"id\":4,\"type\":\"ban\",\"scope\":\"Range\",\"value\":"
	    "\"0.0.0.0/0\",\"duration\":\"4h\"},"
	    "{\"id\":5,\"type\":\"captcha\",\"scope\":\"Ip\",\"value\":"
	    "\"192.0.2.6\",\"duration\":\"4h\"},"
	    "{\"id\":6,\"type\":\"ban\",\"scope\":\"Ip\",\"value\":"
	    "\"192.0.2.0/24\",\"duration\":\"4h\"},"
	    "{\"id\":7,\"type\":\"ban\",\"scope\":\"Ip\",\"value\":"
	    "\"::ffff:192.0.2.8\",\"duration\":\"-3s\"},"
	    "{\"id\":8,\"type\":\"ban\",\"scope\":\"ip\",\"value\":"
	    "\"::ffff:192.0.2.9\",\"duration\":\"1m\"}],"
	    "\"deleted\":[{\"id\":9,\"type\":\"ban\",\"scope\":\"Ip\","
	    "\"value\":\"198.51.100.1\",\"duration\":\"-1s\"}]}";
	static const char *const bad[] = {
	    "{\"new\":[{\"id\":1,\"type\":\"ban\"",
	    "[1,2,3]",
	    "{\"new\":{\"id\":1}}",
	    "{\"new\":[7]}",
	    "{\"new\":[{\"type\":\"ban\",\"scope\":\"Ip\",\"value\":"
	    "\"192.0.2.1\"}]}",
	    "{\"new\":null}garbage",
	};
	struct cs_batch b;
	char err[200], host[CIDR_STRLEN];
	size_t i;

	ASSERT_EQ(cs_parse_stream(good, strlen(good), &b, err, sizeof(err)), 0,
		  "a stream batch");
	ASSERT_EQ(b.nadd, 3, "ban Ip, ban Range, an IPv4-mapped host");
	ASSERT_EQ(b.skipped, 5,
		  "Country, /0, captcha, a range as Ip, expired: skipped");
	ASSERT_EQ(b.ndel, 1, "one deleted");
	if (b.nadd == 3) {
		ASSERT_STR(b.add[0].tag, "crowdsecurity:ssh-bf",
			   "the scenario as a tag");
		ASSERT_EQ(b.add[0].duration, 3597, "Go's duration, seconds");
		ASSERT_STR(b.add[1].tag, "manual-ban-from-cli",
			   "a scenario with spaces and quotes");
		ASSERT_STR(cidr_format(&b.add[2].net, host, sizeof(host)),
			   "192.0.2.9", "::ffff:a.b.c.d is the IPv4 host");
	}
	cs_batch_free(&b);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(cs_parse_stream(bad[i], strlen(bad[i]), &b, err,
					  sizeof(err)),
			  -EBADMSG, bad[i]);
		ASSERT_EQ(b.nadd + b.ndel, 0, "nothing of a bad batch");
	}
}

static void test_crowdsec_duration(void)
{
	int64_t s = 0;

	ASSERT_EQ(cs_parse_duration("3h59m58.248606221s", &s), 0, "h m s");
	ASSERT_EQ(s, 14398, "in seconds");
	ASSERT_EQ(cs_parse_duration("1.5h", &s), 0, "a fraction");
	ASSERT_EQ(s, 5400, "1.5h");
	ASSERT_EQ(cs_parse_duration("250ms", &s), 0, "milliseconds");
	ASSERT_EQ(cs_parse_duration("-5s", &s), 0, "negative: expired");
	ASSERT_EQ(s, -5, "-5s");
	ASSERT_EQ(cs_parse_duration("", &s), -EINVAL, "empty");
	ASSERT_EQ(cs_parse_duration("4d", &s), -EINVAL, "no d in Go");
	ASSERT_EQ(cs_parse_duration("9999999999h", &s), -ERANGE, "huge");
}

int main(void)
{
	TEST_RUN(test_round_trips);
	TEST_RUN(test_zone_needs_one_family);
	TEST_RUN(test_tags_and_values);
	TEST_RUN(test_drop_json);
	TEST_RUN(test_bad_input);
	TEST_RUN(test_serial_rises);
	TEST_RUN(test_crowdsec_stream);
	TEST_RUN(test_crowdsec_duration);
	return test_finish();
}
