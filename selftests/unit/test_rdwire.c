// SPDX-License-Identifier: GPL-2.0
/*
 * test_rdwire.c - the records the log reader sends its parent (rdwire.h):
 * an event goes through unchanged (IPv4, IPv6, a DNSBL zone, many tags),
 * and the parent refuses a record with any field out of place: each
 * field of a good record is spoiled in turn, and random records and
 * random bit flips of good ones are refused or decode to an event the
 * scanner could have made (canonical host address, known MTA, known tags).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/cidr.h"
#include "core/mxwall.h"
#include "test.h"
#include "watch/rdwire.h"

static const struct db_pos POS = {.dev = 8,
				  .inode = 1234,
				  .offset = 4096,
				  .last_len = 120,
				  .last_hash = 7,
				  .line = 40};

static struct scan_event mk(const char *ip, const char *mta, const char *tags)
{
	struct scan_event ev;
	char err[64];

	memset(&ev, 0, sizeof(ev));
	ev.time = 1795000000;
	cidr_parse(ip, CIDR_HOST_ONLY, &ev.ip, err, sizeof(err));
	ev.mta = mta;
	snprintf(ev.tags, sizeof(ev.tags), "%s", tags);
	return ev;
}

static void roundtrip(const char *ip, const char *mta, const char *tags)
{
	struct scan_event ev = mk(ip, mta, tags), back;
	struct rd_rec r;
	const char *why = "";
	char desc[160];

	snprintf(desc, sizeof(desc), "%s %s %s", ip, mta, tags);
	ASSERT_EQ(rdwire_encode(&ev, 2, &POS, &r), 0, desc);
	r.lines = 1;
	ASSERT_TRUE(rdwire_check(&r, 3, &why), desc);
	rdwire_event(&r, &back);
	ASSERT_EQ(back.time, ev.time, desc);
	ASSERT_TRUE(!memcmp(&back.ip, &ev.ip, sizeof(ev.ip)), desc);
	ASSERT_STR(back.mta, mta, desc);
	ASSERT_STR(back.tags, tags, desc);
	ASSERT_EQ(r.file, 2, desc);
	ASSERT_TRUE(!memcmp(&r.pos, &POS, sizeof(POS)), desc);
}

static void test_roundtrip(void)
{
	roundtrip("192.0.2.1", "postfix", "relay");
	roundtrip("2001:db8::1", "exim", "dnsbl,bad-helo");
	roundtrip("0.0.0.1", "qmail", "zen.spamhaus.org");
	roundtrip("198.51.100.7", "sendmail", "b.barracudacentral.org,dialup");
	roundtrip("2001:db8:ffff::", "opensmtpd", "dialup,dnsbl,baddns,auth");
	roundtrip("203.0.113.9", "courier",
		  "auth,bad-helo,bad-sender,baddns,dialup,dnsbl,greylist,"
		  "other");
	roundtrip("203.0.113.10", "postgrey", "greylist");
}

static void test_encode_refuses(void)
{
	struct scan_event ev = mk("192.0.2.1", "postfix", "relay");
	struct rd_rec r;

	ev.mta = "smail";
	ASSERT_EQ(rdwire_encode(&ev, 0, &POS, &r), -EINVAL, "unknown MTA");
	ev = mk("192.0.2.1", "postfix", "no-such-tag");
	ASSERT_EQ(rdwire_encode(&ev, 0, &POS, &r), -EINVAL, "unknown tag");
	ev = mk("192.0.2.1", "postfix", "a.example.org,b.example.org");
	ASSERT_EQ(rdwire_encode(&ev, 0, &POS, &r), -EINVAL, "two zones");
	ev = mk("192.0.2.1", "postfix", "");
	ASSERT_EQ(rdwire_encode(&ev, 0, &POS, &r), -EINVAL, "no tag");
}

static struct rd_rec good(void)
{
	struct scan_event ev = mk("192.0.2.1", "postfix", "zen.spamhaus.org");
	struct rd_rec r;

	rdwire_encode(&ev, 0, &POS, &r);
	r.lines = 3;
	return r;
}

static void refused(const struct rd_rec *r, const char *desc)
{
	const char *why = NULL;

	ASSERT_TRUE(!rdwire_check(r, 1, &why), desc);
	ASSERT_TRUE(why != NULL, "a reason is given");
}

static void test_fields(void)
{
	struct rd_rec r;
	const char *why;

	r = good();
	ASSERT_TRUE(rdwire_check(&r, 1, &why), "the good record");
#define SPOIL(stmt, desc)                                                      \
	do {                                                                   \
		r = good();                                                    \
		stmt;                                                          \
		refused(&r, desc);                                             \
	} while (0)
	SPOIL(r.type = 0, "type 0");
	SPOIL(r.type = RD_TYPE_MAX + 1, "type past the last");
	SPOIL(r.file = 1, "file id = number of files");
	SPOIL(r.file = 0xffff, "file id 65535");
	SPOIL(r.pad[3] = 1, "padding");
	SPOIL(r.family = 0, "family 0");
	SPOIL(r.family = 17, "family AF_PACKET");
	SPOIL(r.addr[4] = 1, "IPv4 with a fifth byte");
	SPOIL((r.family = AF_INET6, memset(r.addr, 0, 16), r.addr[10] = 0xff,
	       r.addr[11] = 0xff, r.addr[12] = 192, r.addr[15] = 1),
	      "IPv4-mapped IPv6 (the scanner gives IPv4)");
	SPOIL(r.mta = (uint8_t)rd_nmta, "MTA id past the table");
	SPOIL(r.time = -100000, "time before 1970");
	SPOIL(r.time = 253402300799LL + 100000, "time after 9999");
	SPOIL(r.time = INT64_MIN, "time INT64_MIN");
	SPOIL(memset(r.tag, 0, sizeof(r.tag)), "no tag");
	SPOIL(r.tag[0] = (uint8_t)(rd_ntags + 1), "tag id past the table");
	SPOIL((r.tag[0] = 1, r.tag[1] = 1), "the same tag twice");
	SPOIL((r.tag[1] = RD_TAG_ZONE), "two zone tags");
	SPOIL((r.tag[0] = 1, r.tag[2] = 2), "a tag after the end");
	SPOIL(r.tag[0] = 1, "a zone without its tag");
	SPOIL(strcpy(r.zone, "Zen.spamhaus.org"), "upper case zone");
	SPOIL(strcpy(r.zone, "zen spamhaus.org"), "space in the zone");
	SPOIL(strcpy(r.zone, "zen.spamhaus.org\n1.2.3.4"), "newline in zone");
	SPOIL(strcpy(r.zone, "localhost"), "zone without a dot");
	SPOIL(strcpy(r.zone, "a.b"), "zone of three characters");
	SPOIL(strcpy(r.zone, "zen.spamhaus."), "zone with a trailing dot");
	SPOIL(memset(r.zone, 'a', RD_ZONE_LEN), "zone without its NUL");
	SPOIL(r.zone[40] = 'x', "bytes after the zone's NUL");
	SPOIL(r.kind = RD_NAME_MAX + 1, "unknown name kind in an event");
	SPOIL(r.pos.line = r.pos.offset + 1, "more lines than bytes");
	SPOIL(r.lines = 0, "an event on no line");
	SPOIL(r.lines = (1ULL << 32) + 1, "an event after 2^32 lines");
	SPOIL(r.pos.last_len = r.pos.offset + 1, "last line before the start");
	SPOIL((r.pos.offset = 1ULL << 62, r.pos.last_len = 2 << 20),
	      "last line of 2 MiB");
	SPOIL(r.pos.offset = UINT64_MAX, "offset past any file");

	/* the other records carry only their own fields */
	SPOIL((r.type = RD_POS), "position with event fields");
	r = good();
	memset(&r, 0, sizeof(r));
	r.type = RD_POS;
	r.pos = POS;
	r.lines = 9;
	ASSERT_TRUE(rdwire_check(&r, 1, &why), "a position record");
	r.kind = 1;
	refused(&r, "name kind in a position");
	memset(&r, 0, sizeof(r));
	r.type = RD_OPEN;
	r.kind = RD_NAME_0_GZ;
	ASSERT_TRUE(rdwire_check(&r, 1, &why), "an open request");
	r.kind = RD_NAME_MAX + 1;
	refused(&r, "open of an unknown name");
	r.kind = 0;
	r.pos.offset = 1;
	refused(&r, "open with a position");
	memset(&r, 0, sizeof(r));
	r.type = RD_READY;
	r.lines = 1;
	refused(&r, "ready with a line count");
#undef SPOIL
}

/*
 * every tag literal of the scanners (ctl/mta/: SCAN_TAG(ev, "x"), the
 * tables' C("...", "x") and S("...", "x")) has an id on the wire: an event
 * with it gets through (run from the source tree, as selftests/run.sh does)
 */
static void test_tags_of_the_scanners(void)
{
	regex_t re;
	glob_t g;
	size_t i, found = 0;
	char buf[1 << 16];

	ASSERT_EQ(glob("ctl/mta/*.c", 0, NULL, &g), 0, "ctl/mta/*.c found");
	regcomp(&re, "(SCAN_TAG\\(ev, |[CS]\\(\"[^\"]*\", )\"([a-z-]+)\"",
		REG_EXTENDED);
	for (i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");

		while (f && fgets(buf, sizeof(buf), f)) {
			const char *p = buf;
			regmatch_t mm[3];

			while (!regexec(&re, p, 3, mm, 0)) {
				struct scan_event ev;
				struct rd_rec r;
				char tag[64];

				snprintf(tag, sizeof(tag), "%.*s",
					 (int)(mm[2].rm_eo - mm[2].rm_so),
					 p + mm[2].rm_so);
				ev = mk("192.0.2.1", "postfix", tag);
				found++;
				if (rdwire_encode(&ev, 0, &POS, &r))
					TEST_FAIL("tag has an id", "%s (%s)",
						  tag, g.gl_pathv[i]);
				else
					TEST_OK("tag has an id");
				p += mm[0].rm_eo;
			}
		}
		if (f)
			fclose(f);
	}
	printf("# %zu tag literals in ctl/mta/\n", found);
	ASSERT_TRUE(found >= 20, "the scanners' tags were found");
	regfree(&re);
	globfree(&g);
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* whatever passes the check is an event the scanner could have made */
static bool sane(const struct rd_rec *r)
{
	struct scan_event ev;
	char text[CIDR_STRLEN];
	size_t i;

	if (r->type != RD_EVENT)
		return true;
	rdwire_event(r, &ev);
	if (!ev.tags[0] || !cidr_is_host(&ev.ip))
		return false;
	cidr_format(&ev.ip, text, sizeof(text));
	for (i = 0; i < rd_nmta; i++)
		if (ev.mta == rd_mta_names[i])
			break;
	return i < rd_nmta && !strchr(ev.tags, ' ') && !strchr(ev.tags, '\n');
}

static void test_random(void)
{
	uint64_t accepted = 0, insane = 0, n;
	struct rd_rec r;
	uint8_t *b = (uint8_t *)&r;
	size_t i;

	for (n = 0; n < 200000; n++) {
		if (n & 1) {
			for (i = 0; i < sizeof(r); i++)
				b[i] = (uint8_t)rnd();
			r.type = (uint8_t)(1 + rnd() % RD_TYPE_MAX);
		} else {
			r = good();
			for (i = 0; i < 1 + rnd() % 3; i++)
				b[rnd() % sizeof(r)] ^=
				    (uint8_t)(1u << (rnd() % 8));
		}
		if (rdwire_check(&r, 4, NULL)) {
			accepted++;
			insane += !sane(&r);
		}
	}
	printf("# %llu of 200000 random or flipped records accepted\n",
	       (unsigned long long)accepted);
	ASSERT_U64(insane, 0, "every accepted record decodes to a sane event");
	ASSERT_TRUE(accepted > 0, "flipped records inside the ranges pass");
}

int main(void)
{
	TEST_RUN(test_roundtrip);
	TEST_RUN(test_encode_refuses);
	TEST_RUN(test_fields);
	TEST_RUN(test_random);
	TEST_RUN(test_tags_of_the_scanners);
	return test_finish();
}
