// SPDX-License-Identifier: GPL-2.0
/*
 * test_cidr.c - CIDR parsing, canonical printing, comparison and
 * containment: the strict rules of mxwall(8) (full dotted quads, no leading
 * zeros, RFC 5952 output, host bits cleared with CIDR_MASKED, /0 refused).
 */
#include <errno.h>
#include <sys/socket.h>

#include "core/cidr.h"
#include "core/mxwall.h"
#include "test.h"

static const struct {
	const char *desc;
	const char *in;
	unsigned int flags;
	int ret;	 /* 0, CIDR_MASKED or -EINVAL */
	const char *out; /* cidr_format, or a substring of the error */
} parse_cases[] = {
    {"v4 host", "203.0.113.7", 0, 0, "203.0.113.7"},
    {"v4 host /32 prints bare", "203.0.113.7/32", 0, 0, "203.0.113.7"},
    {"v4 netblock", "198.51.100.0/24", 0, 0, "198.51.100.0/24"},
    {"v4 host bits cleared", "198.51.100.77/24", 0, CIDR_MASKED,
     "198.51.100.0/24"},
    {"v4 /1", "128.0.0.0/1", 0, 0, "128.0.0.0/1"},
    {"v4 zero address host", "0.0.0.0", 0, 0, "0.0.0.0"},
    {"v4 all ones", "255.255.255.255", 0, 0, "255.255.255.255"},
    {"v6 host lower-cased, compressed", "2001:DB8:0:0:0:0:0:1", 0, 0,
     "2001:db8::1"},
    {"v6 /128 prints bare", "2001:db8::1/128", 0, 0, "2001:db8::1"},
    {"v6 netblock", "2001:db8::/32", 0, 0, "2001:db8::/32"},
    {"v6 host bits cleared", "2001:db8::1/48", 0, CIDR_MASKED, "2001:db8::/48"},
    {"v6 RFC 5952 longest zero run", "2001:db8:0:0:1:0:0:1", 0, 0,
     "2001:db8::1:0:0:1"},
    {"v6 single zero not compressed", "2001:db8:0:1:1:1:1:1", 0, 0,
     "2001:db8:0:1:1:1:1:1"},
    {"v4-mapped becomes v4", "::ffff:192.0.2.1", 0, 0, "192.0.2.1"},
    {"v4-mapped netblock becomes v4", "::ffff:192.0.2.0/120", 0, 0,
     "192.0.2.0/24"},
    {"/0 with CIDR_ALLOW_ZERO", "0.0.0.0/0", CIDR_ALLOW_ZERO, 0, "0.0.0.0/0"},
    {"prefix 33", "1.2.3.4/33", 0, -EINVAL,
     "prefix length 33 is out of range for IPv4"},
    {"prefix 129", "2001:db8::/129", 0, -EINVAL, "out of range for IPv6"},
    {"octet 300", "300.1.1.1", 0, -EINVAL, "not an IPv4 address"},
    {"bad hex digit", "::g", 0, -EINVAL, "not an IPv6 address"},
    {"empty", "", 0, -EINVAL, "empty address"},
    {"three octets", "1.2.3", 0, -EINVAL, "not an IPv4 address"},
    {"five octets", "1.2.3.4.5", 0, -EINVAL, "not an IPv4 address"},
    {"leading zero (octal to inet_aton)", "010.1.1.1", 0, -EINVAL,
     "not an IPv4 address"},
    {"hex octet", "0x1.1.1.1", 0, -EINVAL, "not an IPv4 address"},
    {"trailing dot", "1.2.3.", 0, -EINVAL, "not an IPv4 address"},
    {"bare /0", "/0", 0, -EINVAL, "missing address"},
    {"v4 /0", "1.2.3.4/0", 0, -EINVAL, "/0 would match every address"},
    {"v6 /0", "::/0", 0, -EINVAL, "/0 would match every address"},
    {"missing prefix length", "1.2.3.4/", 0, -EINVAL, "missing prefix length"},
    {"prefix with leading zero", "1.2.3.0/024", 0, -EINVAL,
     "bad prefix length"},
    {"negative prefix", "1.2.3.0/-1", 0, -EINVAL, "bad prefix length"},
    {"two slashes", "1.2.3.0/24/8", 0, -EINVAL, "bad prefix length"},
    {"leading blank", " 1.2.3.4", 0, -EINVAL, "not an IPv4 address"},
    {"trailing blank", "1.2.3.4 ", 0, -EINVAL, "not an IPv4 address"},
    {"zone index", "fe80::1%eth0", 0, -EINVAL, "not an IPv6 address"},
    {"hostname", "mail.example.com", 0, -EINVAL, "not an IPv4 address"},
    {"host only refuses a netblock", "1.2.3.0/24", CIDR_HOST_ONLY, -EINVAL,
     "not a netblock"},
};

static void test_parse(void)
{
	char err[160], buf[CIDR_STRLEN], desc[200];
	struct cidr c;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		snprintf(desc, sizeof(desc), "%s ('%s')", parse_cases[i].desc,
			 parse_cases[i].in);
		err[0] = '\0';
		r = cidr_parse(parse_cases[i].in, parse_cases[i].flags, &c, err,
			       sizeof(err));
		ASSERT_EQ(r, parse_cases[i].ret, desc);
		if (parse_cases[i].ret >= 0)
			ASSERT_STR(cidr_format(&c, buf, sizeof(buf)),
				   parse_cases[i].out, desc);
		else if (strstr(err, parse_cases[i].out))
			TEST_OK(desc);
		else
			TEST_FAIL(desc, "error \"%s\" lacks \"%s\"", err,
				  parse_cases[i].out);
	}
}

/* round trip: the canonical text of every accepted case parses back equal */
static void test_round_trip(void)
{
	char buf[CIDR_STRLEN];
	struct cidr a, b;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		if (parse_cases[i].ret < 0)
			continue;
		cidr_parse(parse_cases[i].in, parse_cases[i].flags, &a, NULL,
			   0);
		cidr_format(&a, buf, sizeof(buf));
		ASSERT_EQ(cidr_parse(buf, parse_cases[i].flags, &b, NULL, 0), 0,
			  parse_cases[i].desc);
		ASSERT_EQ(memcmp(&a, &b, sizeof(a)), 0, parse_cases[i].desc);
	}
}

static struct cidr P(const char *s) {
	struct cidr c;

	if (cidr_parse(s, CIDR_ALLOW_ZERO, &c, NULL, 0) < 0) {
		printf("FAIL - bad test input %s\n", s);
		exit(1);
	}
	return c;
}

static void
test_contains_cmp(void)
{
	struct cidr a, b, s;
	char buf[CIDR_STRLEN];

	a = P("198.51.100.0/24");
	b = P("198.51.100.7");
	ASSERT_TRUE(cidr_contains(&a, &b), "/24 contains its host");
	ASSERT_TRUE(!cidr_contains(&b, &a), "host does not contain its /24");
	ASSERT_TRUE(cidr_contains(&a, &a), "contains itself");
	b = P("198.51.101.7");
	ASSERT_TRUE(!cidr_contains(&a, &b), "neighbour /24 not contained");
	b = P("::ffff:198.51.100.7");
	ASSERT_TRUE(cidr_contains(&a, &b), "v4-mapped host is the v4 host");
	b = P("2001:db8::7");
	ASSERT_TRUE(!cidr_contains(&a, &b), "other family never contained");

	ASSERT_TRUE(cidr_cmp(&a, &b) < 0, "v4 sorts before v6");
	ASSERT_TRUE(cidr_cmp(&b, &a) > 0, "v6 sorts after v4");
	a = P("10.0.0.0/8");
	b = P("10.0.0.0/16");
	ASSERT_TRUE(cidr_cmp(&a, &b) < 0,
		    "shorter prefix first at same address");
	a = P("9.255.255.255");
	b = P("10.0.0.0/8");
	ASSERT_TRUE(cidr_cmp(&a, &b) < 0,
		    "address order is numeric, not textual");
	ASSERT_EQ(cidr_cmp(&b, &b), 0, "equal");

	a = P("203.0.113.77");
	cidr_supernet(&a, 24, &s);
	ASSERT_STR(cidr_format(&s, buf, sizeof(buf)), "203.0.113.0/24",
		   "supernet /24");
	cidr_supernet(&a, 16, &s);
	ASSERT_STR(cidr_format(&s, buf, sizeof(buf)), "203.0.0.0/16",
		   "supernet /16");
	a = P("2001:db8:1:2::5");
	cidr_supernet(&a, 48, &s);
	ASSERT_STR(cidr_format(&s, buf, sizeof(buf)), "2001:db8:1::/48",
		   "supernet /48");
	a = P("10.0.0.0/8");
	cidr_supernet(&a, 24, &s);
	ASSERT_STR(cidr_format(&s, buf, sizeof(buf)), "10.0.0.0/8",
		   "supernet never lengthens a prefix");
	a = P("1.2.3.4");
	ASSERT_STR(cidr_format_full(&a, buf, sizeof(buf)), "1.2.3.4/32",
		   "format_full keeps /32");
	a = P("::1");
	ASSERT_TRUE(cidr_is_host(&a), "::1 is a host");
	a = P("::/1");
	ASSERT_TRUE(!cidr_is_host(&a), "::/1 is not a host");
}

static void test_from_addr(void)
{
	const uint8_t v4[4] = {192, 0, 2, 9};
	const uint8_t mapped[16] = {0, 0, 0,	0,    0,   0, 0, 0,
				    0, 0, 0xff, 0xff, 192, 0, 2, 9};
	char buf[CIDR_STRLEN];
	struct cidr c;

	cidr_from_addr(&c, AF_INET, v4);
	ASSERT_STR(cidr_format(&c, buf, sizeof(buf)), "192.0.2.9",
		   "from v4 bytes");
	cidr_from_addr(&c, AF_INET6, mapped);
	ASSERT_STR(cidr_format(&c, buf, sizeof(buf)), "192.0.2.9",
		   "from v4-mapped v6 bytes");
	ASSERT_EQ(c.family, AF_INET, "v4-mapped becomes AF_INET");
}

int main(void)
{
	TEST_RUN(test_parse);
	TEST_RUN(test_round_trip);
	TEST_RUN(test_contains_cmp);
	TEST_RUN(test_from_addr);
	return test_finish();
}
