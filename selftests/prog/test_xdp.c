// SPDX-License-Identifier: GPL-2.0
/*
 * test_xdp.c - the XDP program through BPF_PROG_TEST_RUN with described
 * frames: each case states the verdict and the exact global and per-entry
 * counters it must leave. The table is populated with the real
 * backend_xdp apply(), in a pin directory of our own that is removed at
 * the end (also when a case fails).
 */
#include <arpa/inet.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "test.h"
#include "../prog/xdp_harness.h"

static struct xh H;

/* C_F*: a TCP fragment that may hide a SYN, from a listed source: counted
 * to its entry and as dropped/allowed/observed, but not as an SMTP SYN */
enum cls {
	C_PASS,
	C_MALF,
	C_MISS,
	C_ALLOW,
	C_OBS,
	C_DROP,
	C_FALLOW,
	C_FOBS,
	C_FDROP
};

static const char *const cls_name[] = {
    "pass",
    "malformed",
    "miss",
    "allow",
    "observe",
    "drop",
    "fragment allowed",
    "fragment observed",
    "fragment dropped",
};

static void read_counters(struct mx_counters *c)
{
	struct mx_status st;

	memset(c, 0, sizeof(*c));
	if (H.be.ops->status(&H.be, &st) == 0)
		*c = st.counters;
}

/* entry_counts - packets and bytes of one entry, from dump(); -1 if absent */
static int entry_counts(const char *net, __u64 *pk, __u64 *by, int64_t *last)
{
	struct mx_entry *v = NULL;
	struct cidr c;
	char err[64];
	size_t n = 0, i;
	int found = -1;

	if (cidr_parse(net, 0, &c, err, sizeof(err)) < 0)
		return -1;
	if (H.be.ops->dump(&H.be, &v, &n))
		return -1;
	for (i = 0; i < n; i++) {
		if (!cidr_cmp(&v[i].net, &c)) {
			*pk = v[i].packets;
			*by = v[i].bytes;
			if (last)
				*last = v[i].last_hit;
			found = 0;
		}
	}
	free(v);
	return found;
}

/*
 * check_pkt - run one frame; check the XDP action, the change of every
 * global counter, and, if hit is set, the packets and bytes of that entry.
 */
static void check_pkt(const char *desc, const void *buf, size_t len,
		      enum cls want, const char *hit, size_t iplen)
{
	struct mx_counters a, b;
	__u64 pk0 = 0, by0 = 0, pk1 = 0, by1 = 0;
	__u32 ret = 0;
	char d[256];
	bool drop;
	int err;

	read_counters(&a);
	if (hit && entry_counts(hit, &pk0, &by0, NULL)) {
		TEST_FAIL(desc, "entry %s is not in the table", hit);
		return;
	}
	err = xh_run(H.prog_fd, buf, len, 1, &ret, NULL);
	if (err) {
		TEST_FAIL(desc, "test run: %s", strerror(-err));
		return;
	}
	read_counters(&b);
	snprintf(d, sizeof(d), "%s: %s", desc, cls_name[want]);
	drop = want == C_DROP || want == C_FDROP;
	if (ret != (drop ? XDP_DROP : XDP_PASS)) {
		TEST_FAIL(d, "action %u, expected %s", ret,
			  drop ? "XDP_DROP" : "XDP_PASS");
		return;
	}
	if (b.seen - a.seen != 1 ||
	    b.syn - a.syn != (want >= C_MISS && want <= C_DROP) ||
	    b.dropped - a.dropped != drop ||
	    b.allowed - a.allowed != (want == C_ALLOW || want == C_FALLOW) ||
	    b.observed - a.observed != (want == C_OBS || want == C_FOBS) ||
	    b.passed - a.passed != !drop ||
	    b.malformed - a.malformed != (want == C_MALF)) {
		TEST_FAIL(
		    d,
		    "counter deltas seen %llu syn %llu dropped %llu "
		    "allowed %llu observed %llu passed %llu malformed %llu",
		    (unsigned long long)(b.seen - a.seen),
		    (unsigned long long)(b.syn - a.syn),
		    (unsigned long long)(b.dropped - a.dropped),
		    (unsigned long long)(b.allowed - a.allowed),
		    (unsigned long long)(b.observed - a.observed),
		    (unsigned long long)(b.passed - a.passed),
		    (unsigned long long)(b.malformed - a.malformed));
		return;
	}
	if (hit) {
		entry_counts(hit, &pk1, &by1, NULL);
		if (pk1 - pk0 != 1 || by1 - by0 != iplen) {
			TEST_FAIL(d,
				  "entry %s: +%llu packets +%llu bytes, "
				  "expected +1 and +%zu",
				  hit, (unsigned long long)(pk1 - pk0),
				  (unsigned long long)(by1 - by0), iplen);
			return;
		}
	}
	TEST_OK(d);
}

/* beside - a second backend over the test's pins, not yet open */
static void beside(struct backend *be2)
{
	memset(be2, 0, sizeof(*be2));
	be2->ops = &backend_xdp_ops;
	be2->pin_dir = H.pin_dir;
	be2->state_dir = H.state_dir;
	be2->lock_fd = -1;
	be2->pin_lock_fd = -1;
}

/*
 * check_syn - check_pkt() of a plain SMTP SYN from src (an IPv6 source
 * when it has a colon)
 */
static void check_syn(const char *desc, const char *src, enum cls want,
		      const char *hit)
{
	struct pkt_opts o = {.family = strchr(src, ':') ? 6 : 4, .src = src};
	struct pkt p;

	if (pkt_build(&p, &o)) {
		TEST_FAIL(desc, "cannot build the frame");
		return;
	}
	check_pkt(desc, p.buf, p.len, want, hit, hit ? p.iplen : 0);
}

/* the table every case runs against */
static const struct {
	const char *net;
	int action;
	bool observe;
} table[] = {
    {"192.0.2.1", MX_ACT_DROP, false},
    {"198.51.100.0/24", MX_ACT_DROP, false},
    {"198.51.100.77", MX_ACT_ALLOW, false},
    {"203.0.113.0/25", MX_ACT_DROP, true},
    {"10.0.0.0/8", MX_ACT_DROP, false},
    {"10.9.8.0/21", MX_ACT_ALLOW, false},
    {"2001:db8:1::1", MX_ACT_DROP, false},
    {"2001:db8:2::/48", MX_ACT_DROP, false},
    {"2001:db8:2::77", MX_ACT_ALLOW, false},
    {"2001:db8:3::/64", MX_ACT_DROP, true},
    {"2001:db8:4:8000::/49", MX_ACT_DROP, false},
    {"2001:db8:5::5:0/112", MX_ACT_DROP, false},
    {"2c0f:f000::/20", MX_ACT_DROP, false},
};

static void test_populate(void)
{
	struct mx_entry e[ARRAY_SIZE(table)];
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(table); i++)
		xh_entry(&e[i], table[i].net, table[i].action, table[i].observe,
			 "test");
	err = H.be.ops->apply(&H.be, e, ARRAY_SIZE(table), NULL, 0);
	ASSERT_EQ(err, 0, "apply the test table");
}

struct pcase {
	const char *desc;
	struct pkt_opts o;
	enum cls want;
	const char *hit;
};

#define V4(s) .family = 4, .src = (s)
#define V6(s) .family = 6, .src = (s)

static const struct pcase cases[] = {
    {"v4 SYN from a blocked host", {V4("192.0.2.1")}, C_DROP, "192.0.2.1"},
    {"v4 SYN from inside a blocked /24",
     {V4("198.51.100.9")},
     C_DROP,
     "198.51.100.0/24"},
    {"v4 SYN from an allow exception inside a blocked /24",
     {V4("198.51.100.77")},
     C_ALLOW,
     "198.51.100.77"},
    {"v4 SYN from inside a blocked /8",
     {V4("10.200.3.4")},
     C_DROP,
     "10.0.0.0/8"},
    {"v4 SYN from an allowed /21 inside a blocked /8",
     {V4("10.9.15.255")},
     C_ALLOW,
     "10.9.8.0/21"},
    {"v4 SYN just outside the allowed /21",
     {V4("10.9.16.0")},
     C_DROP,
     "10.0.0.0/8"},
    {"v4 SYN from an unblocked host", {V4("192.0.2.2")}, C_MISS, NULL},
    {"v4 SYN from an unblocked host next to a /24",
     {V4("198.51.101.1")},
     C_MISS,
     NULL},
    {"v4 SYN from a per-entry observe netblock",
     {V4("203.0.113.5")},
     C_OBS,
     "203.0.113.0/25"},
    {"v4 SYN just outside the observe /25",
     {V4("203.0.113.128")},
     C_MISS,
     NULL},
    {"v4 ACK from a blocked host",
     {V4("192.0.2.1"), .flags = 0x10},
     C_PASS,
     NULL},
    {"v4 SYN-ACK from a blocked host",
     {V4("192.0.2.1"), .flags = 0x12},
     C_PASS,
     NULL},
    {"v4 RST from a blocked host",
     {V4("192.0.2.1"), .flags = 0x04},
     C_PASS,
     NULL},
    {"v4 SYN+FIN from a blocked host (SYN set, ACK clear)",
     {V4("192.0.2.1"), .flags = 0x03},
     C_DROP,
     "192.0.2.1"},
    {"v4 SYN to port 80 from a blocked host",
     {V4("192.0.2.1"), .dport = 80},
     C_PASS,
     NULL},
    {"v4 SYN to port 587 (not configured) from a blocked host",
     {V4("192.0.2.1"), .dport = 587},
     C_PASS,
     NULL},
    {"v4 UDP to port 25 from a blocked host",
     {V4("192.0.2.1"), .proto = IPPROTO_UDP},
     C_PASS,
     NULL},
    {"v4 SYN with 802.1Q from a blocked host",
     {V4("192.0.2.1"), .nvlan = 1},
     C_DROP,
     "192.0.2.1"},
    {"v4 SYN with QinQ (802.1ad + 802.1Q) from a blocked host",
     {V4("192.0.2.1"), .nvlan = 2, .vlan_proto = ETH_P_8021AD},
     C_DROP,
     "192.0.2.1"},
    {"v4 SYN with two 802.1Q tags from a blocked host",
     {V4("192.0.2.1"), .nvlan = 2},
     C_DROP,
     "192.0.2.1"},
    {"v4 SYN under three VLAN tags (beyond the bound) passes",
     {V4("192.0.2.1"), .nvlan = 3},
     C_PASS,
     NULL},
    {"v4 SYN with 4 bytes of IP options",
     {V4("192.0.2.1"), .ipopt = 4},
     C_DROP,
     "192.0.2.1"},
    {"v4 SYN with 40 bytes of IP options (IHL 15)",
     {V4("192.0.2.1"), .ipopt = 40},
     C_DROP,
     "192.0.2.1"},
    {"v4 SYN with 20 bytes of TCP options",
     {V4("192.0.2.1"), .tcpopt = 20},
     C_DROP,
     "192.0.2.1"},
    {"v4 SYN with payload (TFO-like)",
     {V4("192.0.2.1"), .tcpopt = 20, .payload = 100},
     C_DROP,
     "192.0.2.1"},
    {"v4 first fragment carrying a SYN",
     {V4("192.0.2.1"), .frag = 1},
     C_DROP,
     "192.0.2.1"},
    {"v6 SYN from a blocked host",
     {V6("2001:db8:1::1")},
     C_DROP,
     "2001:db8:1::1"},
    {"v6 SYN from a neighbour of a blocked host",
     {V6("2001:db8:1::2")},
     C_MISS,
     NULL},
    {"v6 SYN from inside a blocked /48",
     {V6("2001:db8:2:ffff::9")},
     C_DROP,
     "2001:db8:2::/48"},
    {"v6 SYN from an allow exception inside a blocked /48",
     {V6("2001:db8:2::77")},
     C_ALLOW,
     "2001:db8:2::77"},
    {"v6 SYN from inside a blocked /49",
     {V6("2001:db8:4:8001::1")},
     C_DROP,
     "2001:db8:4:8000::/49"},
    {"v6 SYN just outside a blocked /49",
     {V6("2001:db8:4:7fff::1")},
     C_MISS,
     NULL},
    {"v6 SYN from inside a blocked /112",
     {V6("2001:db8:5::5:abcd")},
     C_DROP,
     "2001:db8:5::5:0/112"},
    {"v6 SYN from an unblocked host", {V6("2001:db8:9::1")}, C_MISS, NULL},
    {"v6 SYN from inside a blocked /20",
     {V6("2c0f:ffff:1::1")},
     C_DROP,
     "2c0f:f000::/20"},
    {"v6 SYN just outside a blocked /20", {V6("2c0f:e000::1")}, C_MISS, NULL},
    {"v6 SYN from a per-entry observe /64",
     {V6("2001:db8:3::5")},
     C_OBS,
     "2001:db8:3::/64"},
    {"v6 SYN-ACK from a blocked host",
     {V6("2001:db8:1::1"), .flags = 0x12},
     C_PASS,
     NULL},
    {"v6 SYN to port 443 from a blocked host",
     {V6("2001:db8:1::1"), .dport = 443},
     C_PASS,
     NULL},
    {"v6 SYN with QinQ from a blocked host",
     {V6("2001:db8:1::1"), .nvlan = 2, .vlan_proto = ETH_P_8021AD},
     C_DROP,
     "2001:db8:1::1"},
    {"v6 SYN after hop-by-hop",
     {V6("2001:db8:1::1"), .nnext = 1, .next = {IPPROTO_HOPOPTS}},
     C_DROP,
     "2001:db8:1::1"},
    {"v6 SYN after hop-by-hop, routing",
     {V6("2001:db8:1::1"), .nnext = 2,
      .next = {IPPROTO_HOPOPTS, IPPROTO_ROUTING}},
     C_DROP,
     "2001:db8:1::1"},
    {"v6 SYN after hop, dst, routing",
     {V6("2001:db8:1::1"), .nnext = 3,
      .next = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING}},
     C_DROP,
     "2001:db8:1::1"},
    {"v6 SYN after hop, dst, routing, first fragment",
     {V6("2001:db8:1::1"), .nnext = 4,
      .next = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
	       IPPROTO_FRAGMENT}},
     C_DROP,
     "2001:db8:1::1"},
    {"v6 SYN after hop, dst, routing, fragment, AH",
     {V6("2001:db8:1::1"), .nnext = 5,
      .next = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
	       IPPROTO_FRAGMENT, IPPROTO_AH}},
     C_DROP,
     "2001:db8:1::1"},
    {"v6 SYN after 6 extension headers",
     {V6("2001:db8:1::1"), .nnext = 6,
      .next = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
	       IPPROTO_FRAGMENT, IPPROTO_AH, IPPROTO_DSTOPTS}},
     C_DROP,
     "2001:db8:1::1"},
    {"v6 SYN after 8 extension headers (the bound)",
     {V6("2001:db8:1::1"), .nnext = 8,
      .next = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
	       IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_AH, IPPROTO_AH,
	       IPPROTO_DSTOPTS}},
     C_DROP,
     "2001:db8:1::1"},
    {"v6 SYN after 9 extension headers (too long) passes as malformed",
     {V6("2001:db8:1::1"), .nnext = 9,
      .next = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
	       IPPROTO_ROUTING, IPPROTO_DSTOPTS, IPPROTO_AH, IPPROTO_AH,
	       IPPROTO_DSTOPTS, IPPROTO_DSTOPTS}},
     C_MALF,
     NULL},
    {"v6 UDP to port 25 from a blocked host",
     {V6("2001:db8:1::1"), .proto = IPPROTO_UDP},
     C_PASS,
     NULL},
};

/*
 * TCP fragments (RFC 1858): from a listed source, one that cannot prove it
 * is not an SMTP SYN counts to the entry and gets the entry's action;
 * iplen: the declared IP length cut to this (a short first fragment, the
 * rest of the frame is padding), 0 as built
 */
static const struct fcase {
	const char *desc;
	struct pkt_opts o;
	enum cls want;
	const char *hit;
	size_t iplen;
} frag_cases[] = {
    {"v4 first fragment, ACK with its whole TCP header, blocked host",
     {V4("192.0.2.1"), .frag = 1, .flags = 0x10},
     C_PASS,
     NULL,
     0},
    {"v4 first fragment, SYN to port 80 with its whole header",
     {V4("192.0.2.1"), .frag = 1, .dport = 80},
     C_PASS,
     NULL,
     0},
    {"v4 tiny first fragment (8 bytes of TCP) from a blocked host",
     {V4("192.0.2.1"), .frag = 1},
     C_FDROP,
     "192.0.2.1",
     20 + 8},
    {"v4 first fragment with no TCP byte from a blocked /24",
     {V4("198.51.100.9"), .frag = 1},
     C_FDROP,
     "198.51.100.0/24",
     20},
    {"v4 SYN whose options spill into a second fragment, blocked host",
     {V4("192.0.2.1"), .frag = 1, .tcpopt = 20},
     C_FDROP,
     "192.0.2.1",
     20 + 32},
    {"v4 SYN whose options spill, IP options, blocked /8",
     {V4("10.200.3.4"), .frag = 1, .ipopt = 12, .tcpopt = 12},
     C_FDROP,
     "10.0.0.0/8",
     32 + 20},
    {"v4 tiny first fragment from an unblocked host (malformed, passes)",
     {V4("192.0.2.2"), .frag = 1},
     C_MALF,
     NULL,
     20 + 8},
    {"v4 tiny first fragment from an allow exception",
     {V4("198.51.100.77"), .frag = 1},
     C_FALLOW,
     "198.51.100.77",
     20 + 8},
    {"v4 tiny first fragment from a per-entry observe netblock",
     {V4("203.0.113.5"), .frag = 1},
     C_FOBS,
     "203.0.113.0/25",
     20 + 8},
    {"v4 tiny non-fragment (no MF) from a blocked host: malformed",
     {V4("192.0.2.1")},
     C_MALF,
     NULL,
     20 + 8},
    {"v4 non-first fragment from a blocked host",
     {V4("192.0.2.1"), .frag = 2},
     C_FDROP,
     "192.0.2.1",
     0},
    {"v4 non-first fragment from inside a blocked /8",
     {V4("10.1.2.3"), .frag = 2},
     C_FDROP,
     "10.0.0.0/8",
     0},
    {"v4 non-first fragment from an unblocked host passes",
     {V4("192.0.2.2"), .frag = 2},
     C_PASS,
     NULL,
     0},
    {"v4 non-first UDP fragment from a blocked host passes",
     {V4("192.0.2.1"), .frag = 2, .proto = IPPROTO_UDP},
     C_PASS,
     NULL,
     0},
    {"v6 non-first fragment from a blocked host",
     {V6("2001:db8:1::1"), .frag = 2, .nnext = 1, .next = {IPPROTO_FRAGMENT}},
     C_FDROP,
     "2001:db8:1::1",
     0},
    {"v6 non-first fragment saying UDP from a blocked /48",
     {V6("2001:db8:2:1::1"), .frag = 2, .nnext = 1, .next = {IPPROTO_FRAGMENT},
      .proto = IPPROTO_UDP},
     C_FDROP,
     "2001:db8:2::/48",
     0},
    {"v6 non-first fragment after hop-by-hop from a blocked host",
     {V6("2001:db8:1::1"), .frag = 2, .nnext = 2,
      .next = {IPPROTO_HOPOPTS, IPPROTO_FRAGMENT}},
     C_FDROP,
     "2001:db8:1::1",
     0},
    {"v6 non-first fragment from an unblocked host passes",
     {V6("2001:db8:9::1"), .frag = 2, .nnext = 1, .next = {IPPROTO_FRAGMENT}},
     C_PASS,
     NULL,
     0},
    {"v6 non-first fragment from an allow exception",
     {V6("2001:db8:2::77"), .frag = 2, .nnext = 1, .next = {IPPROTO_FRAGMENT}},
     C_FALLOW,
     "2001:db8:2::77",
     0},
    {"v6 first fragment with a whole SYN from a blocked host",
     {V6("2001:db8:1::1"), .nnext = 1, .next = {IPPROTO_FRAGMENT}},
     C_DROP,
     "2001:db8:1::1",
     0},
    {"v6 tiny first fragment (8 bytes of TCP) from a blocked host",
     {V6("2001:db8:1::1"), .nnext = 1, .next = {IPPROTO_FRAGMENT}},
     C_FDROP,
     "2001:db8:1::1",
     40 + 8 + 8},
    {"v6 SYN whose options spill into a second fragment",
     {V6("2001:db8:1::1"), .nnext = 1, .next = {IPPROTO_FRAGMENT},
      .tcpopt = 20},
     C_FDROP,
     "2001:db8:1::1",
     40 + 8 + 24},
    {"v6 first fragment whose header chain spills, blocked host",
     {V6("2001:db8:1::1"), .nnext = 2,
      .next = {IPPROTO_FRAGMENT, IPPROTO_DSTOPTS}},
     C_FDROP,
     "2001:db8:1::1",
     40 + 8 + 8},
    {"v6 first fragment of UDP with its whole header passes",
     {V6("2001:db8:1::1"), .nnext = 1, .next = {IPPROTO_FRAGMENT},
      .proto = IPPROTO_UDP},
     C_PASS,
     NULL,
     0},
    {"v6 first fragment with a chain past the bound, blocked host",
     {V6("2001:db8:1::1"), .nnext = 9,
      .next = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
	       IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_AH, IPPROTO_AH,
	       IPPROTO_DSTOPTS, IPPROTO_DSTOPTS}},
     C_FDROP,
     "2001:db8:1::1",
     0},
    {"v6 tiny first fragment from an unblocked host (malformed, passes)",
     {V6("2001:db8:9::1"), .nnext = 1, .next = {IPPROTO_FRAGMENT}},
     C_MALF,
     NULL,
     40 + 8 + 8},
    {"v6 tiny first fragment from a per-entry observe /64",
     {V6("2001:db8:3::5"), .nnext = 1, .next = {IPPROTO_FRAGMENT}},
     C_FOBS,
     "2001:db8:3::/64",
     40 + 8 + 8},
};

static void test_fragments(void)
{
	struct pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(frag_cases); i++) {
		if (pkt_build(&p, &frag_cases[i].o)) {
			TEST_FAIL(frag_cases[i].desc, "cannot build the frame");
			continue;
		}
		if (frag_cases[i].iplen) {
			pkt_set_iplen(&p, frag_cases[i].o.family,
				      frag_cases[i].iplen);
			p.iplen = frag_cases[i].iplen;
		}
		check_pkt(frag_cases[i].desc, p.buf, p.len, frag_cases[i].want,
			  frag_cases[i].hit, p.iplen);
		/* the same with the frame ending where the datagram does */
		if (frag_cases[i].iplen && frag_cases[i].want != C_MALF) {
			char d[200];

			snprintf(d, sizeof(d), "%s, no padding",
				 frag_cases[i].desc);
			check_pkt(d, p.buf, p.l3 + p.iplen, frag_cases[i].want,
				  frag_cases[i].hit, p.iplen);
		}
	}
}

static void test_cases(void)
{
	struct pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (pkt_build(&p, &cases[i].o)) {
			TEST_FAIL(cases[i].desc, "cannot build the frame");
			continue;
		}
		check_pkt(cases[i].desc, p.buf, p.len, cases[i].want,
			  cases[i].hit, p.iplen);
	}
}

/*
 * the Bloom filter (mx_bl) is what lets the program skip a prefix length
 * without reading the table: with no bit set, every length is skipped;
 * with the bits back, the host and the netblock drop again
 */
static void test_bloom(void)
{
	int fd = bpf_map__fd(H.skel->maps.mx_bl);
	size_t len = (size_t)MX_BM_WORDS * 8;
	__u64 *bl, *save;

	bl = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(bl != MAP_FAILED, "mmap mx_bl");
	if (bl == MAP_FAILED)
		return;
	save = malloc(len);
	memcpy(save, bl, len);
	check_syn("v6 /48 hit with its Bloom bit", "2001:db8:2:ffff::9", C_DROP,
		  "2001:db8:2::/48");
	memset(bl, 0, len); /* no bit for any entry */
	check_syn("v6 host with no bits: filtered out", "2001:db8:1::1", C_MISS,
		  NULL);
	/* a plain drop IPv4 host is answered by the host index first */
	check_syn("v4 host with no bits: found in the host index", "192.0.2.1",
		  C_DROP, "192.0.2.1");
	check_syn("v6 /48 with no bits: filtered out", "2001:db8:2:ffff::9",
		  C_MISS, NULL);
	memcpy(bl, save, len);
	check_syn("v6 /48 with the bits back", "2001:db8:2:ffff::9", C_DROP,
		  "2001:db8:2::/48");
	check_syn("v6 host with the bits back", "2001:db8:1::1", C_DROP,
		  "2001:db8:1::1");
	free(save);
	munmap(bl, len);
}

/* an IPv6 entry shorter than /32 turns the IPv6 summary off, and back */
static void test_short_v6(void)
{
	struct pkt_opts o = {V6("2400:1:2::3")};
	struct mx_entry e;
	struct pkt p;

	xh_entry(&e, "2400::/12", MX_ACT_DROP, false, "");
	ASSERT_EQ(H.be.ops->apply(&H.be, &e, 1, NULL, 0), 0, "block a v6 /12");
	pkt_build(&p, &o);
	check_pkt("v6 SYN inside a blocked /12", p.buf, p.len, C_DROP,
		  "2400::/12", p.iplen);
	o.src = "2001:db8:1::1";
	pkt_build(&p, &o);
	check_pkt("v6 host still blocked with the summary off", p.buf, p.len,
		  C_DROP, "2001:db8:1::1", p.iplen);
	o.src = "2001:db8:9::1";
	pkt_build(&p, &o);
	check_pkt("v6 miss with the summary off", p.buf, p.len, C_MISS, NULL,
		  0);
	ASSERT_EQ(H.be.ops->apply(&H.be, NULL, 0, &e.net, 1), 0,
		  "unblock the /12");
	o.src = "2400:1:2::3";
	pkt_build(&p, &o);
	check_pkt("v6 SYN from the former /12", p.buf, p.len, C_MISS, NULL, 0);
	o.src = "2001:db8:1::1";
	pkt_build(&p, &o);
	check_pkt("v6 host blocked with the summary back on", p.buf, p.len,
		  C_DROP, "2001:db8:1::1", p.iplen);
}

static void test_not_ip(void)
{
	__u8 arp[60] = {0};

	memset(arp, 0xff, 6);
	arp[12] = 0x08;
	arp[13] = 0x06;
	check_pkt("ARP frame", arp, sizeof(arp), C_PASS, NULL, 0);
}

static void set_ports(const __u16 *ports, size_t n, bool observe)
{
	struct mx_dp_config c = {.nports = n, .observe = observe};
	size_t i;

	for (i = 0; i < n; i++)
		c.ports[i] = ports[i];
	ASSERT_EQ(H.be.ops->set_config(&H.be, &c), 0, "set_config");
}

static void test_ports_and_observe(void)
{
	static const __u16 smtp3[] = {25, 465, 587}, smtp1[] = {25};
	struct pkt_opts o = {V4("192.0.2.1")};
	struct mx_status st;
	struct pkt p;

	set_ports(smtp3, 3, false);
	ASSERT_EQ(H.be.ops->status(&H.be, &st), 0, "status");
	ASSERT_EQ(st.cfg.nports, 3, "status shows three ports");
	o.dport = 465;
	pkt_build(&p, &o);
	check_pkt("v4 SYN to 465 (configured)", p.buf, p.len, C_DROP,
		  "192.0.2.1", p.iplen);
	o.dport = 587;
	pkt_build(&p, &o);
	check_pkt("v4 SYN to 587 (configured)", p.buf, p.len, C_DROP,
		  "192.0.2.1", p.iplen);
	o.dport = 25;
	pkt_build(&p, &o);
	check_pkt("v4 SYN to 25 (still configured)", p.buf, p.len, C_DROP,
		  "192.0.2.1", p.iplen);

	set_ports(smtp1, 1, true);
	ASSERT_EQ(H.be.ops->status(&H.be, &st), 0, "status");
	ASSERT_TRUE(st.cfg.observe, "status shows global observe");
	check_pkt("global observe: v4 SYN from a blocked host", p.buf, p.len,
		  C_OBS, "192.0.2.1", p.iplen);
	o.src = "198.51.100.77";
	pkt_build(&p, &o);
	check_pkt("global observe: allow exception still allowed", p.buf, p.len,
		  C_ALLOW, "198.51.100.77", p.iplen);
	o.src = "192.0.2.99";
	pkt_build(&p, &o);
	check_pkt("global observe: unblocked host", p.buf, p.len, C_MISS, NULL,
		  0);
	set_ports(smtp1, 1, false);
	o.src = "192.0.2.1";
	o.dport = 465;
	pkt_build(&p, &o);
	check_pkt("v4 SYN to 465 after the set went back to 25", p.buf, p.len,
		  C_PASS, NULL, 0);
}

/*
 * truncate - every cut of a frame short of its last header byte is
 * malformed: once with the declared IP length left as it was (the frame is
 * shorter than the datagram) and once with it patched to the cut (a short
 * datagram whose headers do not fit).
 */
/*
 * truncate_all - every cut of the frame is malformed; with the IP length
 * patched to the cut, a cut behind a first fragment's fragment header
 * makes a short first fragment instead, which a blocked source (o->src)
 * gets dropped (RFC 1858)
 */
static void truncate_all(const char *what, const struct pkt_opts *o)
{
	struct pkt full, p;
	char desc[160];
	size_t cut, fails = 0, runs = 0, frag_end = SIZE_MAX, off;
	int patch, passed0 = test_passed, v;

	if (pkt_build(&full, o)) {
		TEST_FAIL(what, "cannot build the frame");
		return;
	}
	if (o->family == 4 && o->frag == 1)
		frag_end = full.l3 + 20 + (size_t)o->ipopt;
	for (v = 0, off = full.l3 + 40; o->family == 6 && v < o->nnext; v++) {
		off += o->next[v] == IPPROTO_FRAGMENT ? 8
		       : o->next[v] == IPPROTO_AH     ? 24
						      : 16;
		if (o->next[v] == IPPROTO_FRAGMENT && o->frag != 2) {
			frag_end = off;
			break;
		}
	}
	for (patch = 0; patch < 2; patch++) {
		for (cut = ETH_HLEN; cut < full.len; cut++) {
			size_t before = (size_t)test_failed;

			p = full;
			p.len = cut;
			if (patch) {
				size_t min = o->family == 4 ? 4 : 6;

				if (cut < full.l3 + min ||
				    (o->family == 6 && cut < full.l3 + 40))
					continue;
				pkt_set_iplen(&p, o->family, cut - full.l3);
			}
			snprintf(desc, sizeof(desc), "%s cut at %zu of %zu%s",
				 what, cut, full.len,
				 patch ? " (IP length patched)" : "");
			if (patch && cut >= frag_end)
				check_pkt(desc, p.buf, p.len, C_FDROP, o->src,
					  cut - full.l3);
			else
				check_pkt(desc, p.buf, p.len, C_MALF, NULL, 0);
			fails += (size_t)test_failed != before;
			runs++;
		}
	}
	/* one pass for the lot; each failure was reported on its own */
	test_passed = passed0;
	snprintf(desc, sizeof(desc),
		 "%s: %zu truncations all malformed (or a short first "
		 "fragment, dropped)",
		 what, runs);
	if (!fails)
		TEST_OK(desc);
}

static void test_truncated(void)
{
	struct pkt_opts v4 = {V4("192.0.2.1"), .nvlan = 2, .ipopt = 8,
			      .tcpopt = 12};
	struct pkt_opts v4plain = {V4("192.0.2.1")};
	struct pkt_opts v6 = {V6("2001:db8:1::1"), .nvlan = 1, .nnext = 4,
			      .next = {IPPROTO_HOPOPTS, IPPROTO_ROUTING,
				       IPPROTO_FRAGMENT, IPPROTO_AH},
			      .tcpopt = 8};
	struct pkt_opts v6plain = {V6("2001:db8:1::1")};
	struct pkt p;

	truncate_all("v4 QinQ + IP options + TCP options", &v4);
	truncate_all("v4 plain", &v4plain);
	truncate_all("v6 VLAN + 4 extension headers + TCP options", &v6);
	truncate_all("v6 plain", &v6plain);

	/* declared lengths that lie */
	pkt_build(&p, &v4plain);
	p.buf[p.l3] = 0x44; /* IHL 4 < 5 */
	check_pkt("v4 IHL 4", p.buf, p.len, C_MALF, NULL, 0);
	pkt_build(&p, &v4plain);
	p.buf[p.l3] = 0x55; /* version 5 */
	check_pkt("v4 header with version 5", p.buf, p.len, C_MALF, NULL, 0);
	pkt_build(&p, &v6plain);
	p.buf[p.l3] = 0x40; /* version 4 in an IPv6 ethertype */
	check_pkt("IPv6 ethertype with version 4", p.buf, p.len, C_MALF, NULL,
		  0);
	pkt_build(&p, &v4plain);
	p.buf[p.l4 + 12] = 0x40; /* data offset 4 < 5 */
	check_pkt("TCP data offset 4", p.buf, p.len, C_MALF, NULL, 0);
	pkt_build(&p, &v4plain);
	p.buf[p.l4 + 12] = 0x60; /* data offset 6: options missing */
	check_pkt("TCP data offset past the frame", p.buf, p.len, C_MALF, NULL,
		  0);
	pkt_build(&p, &v4plain);
	pkt_set_iplen(&p, 4, 19);
	check_pkt("v4 total length below the IHL", p.buf, p.len, C_MALF, NULL,
		  0);
	/* Ethernet padding after a short datagram is not a header */
	pkt_build(&p, &v4plain);
	memset(p.buf + p.len, 0, 6);
	p.len += 6;
	check_pkt("v4 SYN with Ethernet padding", p.buf, p.len, C_DROP,
		  "192.0.2.1", p.iplen);
}

static void test_entries(void)
{
	struct pkt_opts o = {V4("192.0.2.1")};
	struct mx_entry e[3], *v = NULL;
	struct cidr c;
	struct pkt p;
	__u64 pk = 0, by = 0, pk2 = 0, by2 = 0;
	int64_t last = 0;
	size_t n = 0;
	char err[64];

	/* counters and last_hit read back */
	ASSERT_EQ(entry_counts("192.0.2.1", &pk, &by, &last), 0, "dump");
	ASSERT_TRUE(pk > 0 && by >= pk * 40, "blocked host has counts");
	ASSERT_TRUE(llabs((long long)(last - time(NULL))) < 5,
		    "last_hit is now");
	ASSERT_EQ(entry_counts("192.0.2.2", &pk2, &by2, NULL), -1,
		  "an unlisted host is not in the dump");

	/* replacing an entry keeps its counters */
	xh_entry(&e[0], "192.0.2.1", MX_ACT_DROP, false, "a,bad-helo");
	e[0].origin = MX_ORIGIN_DYNAMIC;
	e[0].expires = 2000000000;
	ASSERT_EQ(H.be.ops->apply(&H.be, e, 1, NULL, 0), 0, "re-add");
	ASSERT_EQ(entry_counts("192.0.2.1", &pk2, &by2, NULL), 0, "dump");
	ASSERT_U64(pk2, pk, "re-adding keeps the packet count");
	ASSERT_EQ(H.be.ops->dump(&H.be, &v, &n), 0, "dump");
	for (size_t i = 0; i < n; i++) {
		char buf[CIDR_STRLEN];

		if (strcmp(cidr_format(&v[i].net, buf, sizeof(buf)),
			   "192.0.2.1"))
			continue;
		ASSERT_STR(v[i].tags, "a,bad-helo", "tags replaced");
		ASSERT_EQ(v[i].origin, MX_ORIGIN_DYNAMIC, "origin replaced");
		ASSERT_EQ(v[i].expires, 2000000000, "expires replaced");
	}
	free(v);

	/* zero one entry's counters */
	cidr_parse("192.0.2.1", 0, &c, err, sizeof(err));
	ASSERT_EQ(H.be.ops->zero_counters(&H.be, &c, 1), 0, "zero one");
	entry_counts("192.0.2.1", &pk2, &by2, &last);
	ASSERT_U64(pk2, 0, "zeroed packets");
	ASSERT_EQ(last, 0, "zeroed last_hit");
	entry_counts("198.51.100.0/24", &pk2, &by2, NULL);
	ASSERT_TRUE(pk2 > 0, "another entry keeps its counts");

	/* unblock: the entry goes, the source passes */
	cidr_parse("192.0.2.1", 0, &c, err, sizeof(err));
	ASSERT_EQ(H.be.ops->apply(&H.be, NULL, 0, &c, 1), 0, "unblock");
	pkt_build(&p, &o);
	check_pkt("v4 SYN from an unblocked former entry", p.buf, p.len, C_MISS,
		  NULL, 0);
	ASSERT_EQ(H.be.ops->apply(&H.be, NULL, 0, &c, 1), -ENOENT,
		  "unblocking a missing entry fails");

	/* the id is reused and the new entry starts at zero */
	xh_entry(&e[0], "192.0.2.1", MX_ACT_DROP, false, "");
	ASSERT_EQ(H.be.ops->apply(&H.be, e, 1, NULL, 0), 0, "block again");
	entry_counts("192.0.2.1", &pk2, &by2, NULL);
	ASSERT_U64(pk2, 0, "a new entry starts from zero");
	check_pkt("v4 SYN from the blocked-again host", p.buf, p.len, C_DROP,
		  "192.0.2.1", p.iplen);

	/* all or nothing: a bad entry in a list changes nothing */
	xh_entry(&e[0], "192.0.2.50", MX_ACT_DROP, false, "");
	xh_entry(&e[1], "192.0.2.51", MX_ACT_DROP, false, "");
	xh_entry(&e[2], "192.0.2.52", MX_ACT_DROP, false, "");
	e[2].net.plen = 33;
	ASSERT_EQ(H.be.ops->apply(&H.be, e, 3, NULL, 0), -EINVAL,
		  "a /33 is refused");
	ASSERT_EQ(entry_counts("192.0.2.50", &pk2, &by2, NULL), -1,
		  "nothing of the bad list went in");
	xh_entry(&e[2], "192.0.2.52", MX_ACT_DROP, false, "");
	e[2].net.addr[3] = 53;
	e[2].net.plen = 31; /* host bits set */
	ASSERT_EQ(H.be.ops->apply(&H.be, e, 3, NULL, 0), -EINVAL,
		  "host bits under the mask are refused");
	/* a delete of a missing entry in the same call: nothing changes */
	cidr_parse("192.0.2.200", 0, &c, err, sizeof(err));
	xh_entry(&e[2], "192.0.2.52", MX_ACT_DROP, false, "");
	ASSERT_EQ(H.be.ops->apply(&H.be, e, 3, &c, 1), -ENOENT,
		  "add plus a bad delete fails");
	ASSERT_EQ(entry_counts("192.0.2.50", &pk2, &by2, NULL), -1,
		  "and adds nothing");
}

/*
 * an entry's expiry is the program's to honour: past its time it matches
 * nothing (a shorter entry covering it applies), with no controller
 * running; dump leaves it out
 */
static void test_expiry(void)
{
	struct mx_entry e[3];
	struct cidr del[3];
	__u64 pk, by;
	size_t i;

	xh_entry(&e[0], "198.51.100.79", MX_ACT_DROP, false, "ttl");
	e[0].expires = time(NULL) + 1;
	xh_entry(&e[1], "2001:db8:77::1", MX_ACT_DROP, false, "ttl");
	e[1].expires = time(NULL) + 1;
	xh_entry(&e[2], "198.51.100.78", MX_ACT_ALLOW, false, "gone");
	e[2].expires = time(NULL) - 10;
	ASSERT_EQ(H.be.ops->apply(&H.be, e, 3, NULL, 0), 0,
		  "add entries with expiry times");
	check_syn("v4 host before its expiry drops", "198.51.100.79", C_DROP,
		  "198.51.100.79");
	check_syn("v6 host before its expiry drops", "2001:db8:77::1", C_DROP,
		  "2001:db8:77::1");
	/* the table's 198.51.100.0/24 blocks it once its allow is gone */
	check_syn("an expired allow no longer applies", "198.51.100.78", C_DROP,
		  "198.51.100.0/24");
	ASSERT_EQ(entry_counts("198.51.100.78", &pk, &by, NULL), -1,
		  "dump leaves out an expired entry");
	sleep(3);
	check_syn("v4 host past its expiry: the /24 applies", "198.51.100.79",
		  C_DROP, "198.51.100.0/24");
	check_syn("v6 host past its expiry passes", "2001:db8:77::1", C_MISS,
		  NULL);
	for (i = 0; i < 3; i++)
		del[i] = e[i].net;
	ASSERT_EQ(H.be.ops->apply(&H.be, NULL, 0, del, 3), 0,
		  "expired entries can be deleted");
}

/*
 * fill the IPv6 table behind the backend's back so that apply() fails
 * half-way, after its IPv4 changes: everything must be undone
 */
static void test_rollback(void)
{
	struct mx_status st0, st1;
	struct mx_entry *e, *d0 = NULL, *d1 = NULL;
	struct pkt_opts o = {V4("192.0.2.1")};
	size_t i, j, n0 = 0, n1 = 0, n6, t6len;
	int fd = bpf_map__fd(H.skel->maps.mx_t6), err;
	struct mx_bkt6 *t6, *save;
	struct mx_cfg cfg;
	__u32 zero = 0;
	char net[64];
	struct pkt p;

	H.be.ops->status(&H.be, &st0);
	H.be.ops->dump(&H.be, &d0, &n0);
	for (i = 0, n6 = 0; i < n0; i++)
		n6 += d0[i].net.family == AF_INET6;
	bpf_map_lookup_elem(H.cfg_fd, &zero, &cfg);
	t6len = (size_t)cfg.nb6 * sizeof(*t6);
	t6 = mmap(NULL, t6len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(t6 != MAP_FAILED, "mmap the IPv6 table");
	if (t6 == MAP_FAILED)
		return;
	save = malloc(t6len);
	memcpy(save, t6, t6len);
	/* every free slot taken by a key that no entry owns */
	for (i = 0; i < cfg.nb6; i++) {
		for (j = 0; j < MX_T6_SLOTS; j++) {
			if (t6[i].s[j].flags)
				continue;
			t6[i].s[j].hi = 0xeeeeeeeeULL;
			t6[i].s[j].lo = i << 8 | j;
			t6[i].s[j].id = cfg.cap - 1;
			t6[i].s[j].flags = 128;
		}
	}
	e = calloc(61, sizeof(*e));
	/* a change of an existing entry, 20 new IPv4, 40 new IPv6 */
	xh_entry(&e[0], "192.0.2.1", MX_ACT_ALLOW, false, "changed");
	for (i = 1; i < 21; i++) {
		snprintf(net, sizeof(net), "192.0.2.%zu", 100 + i);
		xh_entry(&e[i], net, MX_ACT_DROP, false, "rollback");
	}
	for (i = 21; i < 61; i++) {
		snprintf(net, sizeof(net), "2001:db8:eeee::%zx", i);
		xh_entry(&e[i], net, MX_ACT_DROP, false, "rollback");
	}
	err = H.be.ops->apply(&H.be, e, 61, NULL, 0);
	ASSERT_EQ(err, -ENOSPC, "apply into a full IPv6 table fails");
	H.be.ops->status(&H.be, &st1);
	ASSERT_EQ(st1.entries_static + st1.entries_dynamic,
		  st0.entries_static + st0.entries_dynamic,
		  "entry count unchanged");
	H.be.ops->dump(&H.be, &d1, &n1);
	ASSERT_EQ(n1, n0, "dump unchanged");
	/* last_hit is converted against the clock: compare the rest */
	for (i = 0; i < n0 && i < n1; i++)
		d0[i].last_hit = d1[i].last_hit = 0;
	ASSERT_TRUE(n1 == n0 && !memcmp(d0, d1, n0 * sizeof(*d0)),
		    "every entry as before");
	free(d0);
	free(d1);
	pkt_build(&p, &o);
	check_pkt("after the rollback the host is blocked as before", p.buf,
		  p.len, C_DROP, "192.0.2.1", p.iplen);
	o.src = "192.0.2.101";
	pkt_build(&p, &o);
	check_pkt("after the rollback a refused v4 addition is absent", p.buf,
		  p.len, C_MISS, NULL, 0);
	o.family = 6;
	o.src = "2001:db8:eeee::15";
	pkt_build(&p, &o);
	check_pkt("after the rollback a refused v6 addition is absent", p.buf,
		  p.len, C_MISS, NULL, 0);
	/* the table as it was */
	memcpy(t6, save, t6len);
	free(save);
	munmap(t6, t6len);
	free(e);
}

/* read_cfg - the pinned mx_cfg as it is now (the tables may have grown) */
static void read_cfg(const char *pin_dir, struct mx_cfg *cfg)
{
	char path[256];
	__u32 zero = 0;
	int fd;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(path, sizeof(path), "%s/%s", pin_dir, MX_MAP_CFG);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_map_lookup_elem(fd, &zero, cfg);
		close(fd);
	}
}

/*
 * memory follows the entries: up to the capacity the tables stay; past it
 * they grow, with every entry, its counters and the summaries kept, and
 * the program over the new maps filters as before
 */
static void test_growth(void)
{
	struct mx_status st0, st1;
	struct mx_cfg cfg0, cfg1;
	__u64 pk0 = 0, by0 = 0, pk1 = 0, by1 = 0;
	struct mx_entry *e;
	struct cidr *dl;
	size_t i, n1, n4 = 0;
	struct mx_entry *d = NULL;
	size_t nd = 0;
	char net[64];

	H.be.ops->status(&H.be, &st0);
	H.be.ops->dump(&H.be, &d, &nd);
	for (i = 0; i < nd; i++)
		n4 += d[i].net.family == AF_INET;
	free(d);
	read_cfg(H.pin_dir, &cfg0);
	entry_counts("192.0.2.1", &pk0, &by0, NULL);
	ASSERT_TRUE(pk0 > 0, "an entry with counts before");
	e = calloc(1100, sizeof(*e));
	for (i = 0; i < 1100; i++) {
		snprintf(net, sizeof(net), "101.65.%zu.%zu", i / 256, i % 256);
		xh_entry(&e[i], net, MX_ACT_DROP, false, "");
	}
	/* up to the capacity it fits (two-choice buckets at half load) */
	n1 = cfg0.cap4 - n4;
	ASSERT_EQ(H.be.ops->apply(&H.be, e, n1, NULL, 0), 0,
		  "fill the v4 table to its capacity");
	read_cfg(H.pin_dir, &cfg1);
	ASSERT_EQ(cfg1.gen, cfg0.gen, "no growth up to the capacity");
	check_syn("a host of the full table drops", "101.65.0.7", C_DROP,
		  "101.65.0.7");
	ASSERT_EQ(H.be.ops->apply(&H.be, e + n1, 1100 - n1, NULL, 0), 0,
		  "past the capacity the tables grow");
	read_cfg(H.pin_dir, &cfg1);
	ASSERT_EQ(cfg1.gen, cfg0.gen + 1, "one growth");
	ASSERT_TRUE(cfg1.cap4 >= cfg0.cap4 * MX_CAP_GROWTH,
		    "the IPv4 capacity grew by its factor");
	ASSERT_EQ(cfg1.cap6, cfg0.cap6, "the IPv6 capacity stays");
	H.be.ops->status(&H.be, &st1);
	ASSERT_EQ(st1.entries_static + st1.entries_dynamic,
		  st0.entries_static + st0.entries_dynamic + 1100,
		  "every entry there");
	entry_counts("192.0.2.1", &pk1, &by1, NULL);
	ASSERT_U64(pk1, pk0, "packets kept across the growth");
	ASSERT_U64(by1, by0, "bytes kept across the growth");
	ASSERT_EQ(xh_reload(&H), 0, "the program over the new maps");
	check_syn("a host added past the capacity drops", "101.65.4.3", C_DROP,
		  "101.65.4.3");
	check_syn("an old host drops and counts on", "192.0.2.1", C_DROP,
		  "192.0.2.1");
	check_syn("an old v6 netblock drops", "2001:db8:2:ffff::9", C_DROP,
		  "2001:db8:2::/48");
	dl = calloc(1100, sizeof(*dl));
	for (i = 0; i < 1100; i++)
		dl[i] = e[i].net;
	ASSERT_EQ(H.be.ops->apply(&H.be, NULL, 0, dl, 1100), 0,
		  "and empty it again");
	check_syn("the removed host passes", "101.65.0.7", C_MISS, NULL);
	free(dl);
	free(e);
}

/*
 * a growth killed before its new maps were complete leaves a staging
 * directory without the "ready" mark: the next open removes it and the
 * old tables work on
 */
static void test_growth_half_made(void)
{
	char dir[256], path[300];
	struct backend be2;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/mx_grow", H.pin_dir);
	ASSERT_EQ(mkdir(dir, 0700), 0, "a staging directory");
	snprintf(path, sizeof(path), "%s/%s", dir, MX_MAP_CFG);
	ASSERT_EQ(bpf_obj_pin(H.cfg_fd, path), 0, "a map in it, no mark");
	beside(&be2);
	ASSERT_EQ(be2.ops->open(&be2, false), 0, "the next open works");
	ASSERT_TRUE(stat(dir, &st) != 0, "and removed the half-made set");
	if (be2.priv)
		be2.ops->close(&be2);
	check_syn("the old tables filter on", "192.0.2.1", C_DROP, "192.0.2.1");
}

/* at the most a pin directory allows, a change that needs more fails
 * whole */
static void test_growth_max(void)
{
	struct mx_status st0, st1;
	struct mx_entry *e;
	struct xh h2;
	char net[64];
	size_t i;

	ASSERT_EQ(xh_setup_max(&h2, 1024, 1024), 0,
		  "a table that may not grow");
	e = calloc(1100, sizeof(*e));
	for (i = 0; i < 1100; i++) {
		snprintf(net, sizeof(net), "100.65.%zu.%zu", i / 256, i % 256);
		xh_entry(&e[i], net, MX_ACT_DROP, false, "");
	}
	h2.be.ops->status(&h2.be, &st0);
	log_set_level(MX_LOG_ERR + 1);
	ASSERT_EQ(h2.be.ops->apply(&h2.be, e, 1100, NULL, 0), -ENOSPC,
		  "more entries than the most: table full");
	log_set_level(MX_LOG_INFO);
	h2.be.ops->status(&h2.be, &st1);
	ASSERT_EQ(st1.entries_static + st1.entries_dynamic,
		  st0.entries_static + st0.entries_dynamic,
		  "entry count unchanged");
	ASSERT_EQ(h2.be.ops->apply(&h2.be, e, 1024, NULL, 0), 0,
		  "up to the most it fits");
	free(e);
	xh_teardown(&h2);
	xh_set_hooks(NULL); /* what xh_setup_max set */
}

/*
 * an apply() killed half-way leaves mx_cfg marked dirty and the tables out
 * of step with the entry list; the next apply() mends them from the list
 */
static void test_repair(void)
{
	struct mx_meta m = {.family = AF_INET,
			    .plen = 32,
			    .action = MX_VAL_DROP,
			    .origin = MX_ORIGIN_DYNAMIC};
	struct pkt_opts o = {V4("192.0.2.222")};
	struct mx_bkt4 bk;
	struct mx_cfg cfg;
	char path[256];
	struct pkt p;
	__u32 zero = 0, id, b, a, j;
	int fd_meta, fd_t4;

	snprintf(path, sizeof(path), "%s/%s", H.pin_dir, MX_MAP_META);
	fd_meta = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/%s", H.pin_dir, MX_MAP_T4);
	fd_t4 = bpf_obj_get(path);
	ASSERT_TRUE(fd_meta >= 0 && fd_t4 >= 0, "open the pinned maps");
	bpf_map_lookup_elem(H.cfg_fd, &zero, &cfg);

	/* an entry in the list whose slot never got written */
	inet_pton(AF_INET, "192.0.2.222", m.addr);
	id = cfg.cap - 1;
	ASSERT_EQ(bpf_map_update_elem(fd_meta, &id, &m, BPF_ANY), 0,
		  "write a listed entry without its slot");
	/* a slot whose entry is not in the list */
	a = 0xc00002dfU; /* 192.0.2.223 */
	b = mx_t4_b1(a, 32, cfg.nb4 - 1);
	bpf_map_lookup_elem(fd_t4, &b, &bk);
	for (j = 0; j < MX_T4_SLOTS && bk.s[j].key; j++)
		;
	ASSERT_TRUE(j < MX_T4_SLOTS, "a free slot for the orphan");
	if (j < MX_T4_SLOTS) {
		bk.s[j].key = (__u64)32 << 32 | a;
		bk.s[j].id = cfg.cap - 2;
		bk.s[j].exp = 0;
		bpf_map_update_elem(fd_t4, &b, &bk, BPF_ANY);
	}
	cfg.flags |= MX_CFG_DIRTY;
	bpf_map_update_elem(H.cfg_fd, &zero, &cfg, BPF_ANY);

	pkt_build(&p, &o);
	check_pkt("before the repair the unwritten entry is not enforced",
		  p.buf, p.len, C_MISS, NULL, 0);
	log_set_level(MX_LOG_ERR + 1);
	ASSERT_EQ(H.be.ops->apply(&H.be, NULL, 0, NULL, 0), 0,
		  "the next apply() repairs");
	log_set_level(MX_LOG_INFO);
	check_pkt("after the repair the listed entry drops", p.buf, p.len,
		  C_DROP, "192.0.2.222", p.iplen);
	o.src = "192.0.2.223";
	pkt_build(&p, &o);
	check_pkt("after the repair the orphan slot is gone", p.buf, p.len,
		  C_MISS, NULL, 0);
	bpf_map_lookup_elem(H.cfg_fd, &zero, &cfg);
	ASSERT_TRUE(!(cfg.flags & MX_CFG_DIRTY), "the mark is cleared");
	close(fd_meta);
	close(fd_t4);
}

/* a new build of the program over the same pins keeps entries and counts */
static void test_reload(void)
{
	struct mxwall_bpf *s2 = NULL;
	struct pkt_opts o = {V4("198.51.100.9")};
	struct pkt p;
	__u64 pk0 = 0, by0 = 0, pk1 = 0, by1 = 0;
	__u32 ret = 0;

	ASSERT_EQ(backend_xdp_load(&H.be, &s2), 0,
		  "load a second program instance");
	if (!s2)
		return;
	entry_counts("198.51.100.0/24", &pk0, &by0, NULL);
	pkt_build(&p, &o);
	xh_run(bpf_program__fd(s2->progs.mxwall_xdp), p.buf, p.len, 1, &ret,
	       NULL);
	ASSERT_EQ(ret, XDP_DROP, "the new program drops with the old table");
	entry_counts("198.51.100.0/24", &pk1, &by1, NULL);
	ASSERT_U64(pk1, pk0 + 1, "and counts on from the old counters");
	mxwall_bpf__destroy(s2);
}

/* a pin directory of another layout is refused, not reset */
static void test_layout(void)
{
	struct backend be2;
	struct mx_cfg cfg, bad;
	__u32 zero = 0;

	bpf_map_lookup_elem(H.cfg_fd, &zero, &cfg);
	bad = cfg;
	bad.layout = MX_LAYOUT + 1000;
	bpf_map_update_elem(H.cfg_fd, &zero, &bad, BPF_ANY);
	beside(&be2);
	log_set_level(MX_LOG_ERR + 1);
	ASSERT_EQ(be2.ops->open(&be2, true), -EPROTO,
		  "another layout is refused");
	log_set_level(MX_LOG_INFO);
	bpf_map_update_elem(H.cfg_fd, &zero, &cfg, BPF_ANY);
	ASSERT_EQ(be2.ops->open(&be2, false), 0, "the right layout opens");
	if (be2.priv)
		be2.ops->close(&be2);
}

/* index states of a host: in_index() */
enum { X_OUT = -1, X_ANSWERED = 0, X_ASKS = 1 };

/* in_index - is IPv4 host addr (dotted) in h's host index: X_OUT, or in it
 * and answered from it (X_ANSWERED) or asking the table (X_ASKS) */
static int in_index(struct xh *h, const char *addr)
{
	int fd = bpf_map__fd(h->skel->maps.mx_x4);
	struct bpf_map_info info;
	__u32 ilen = sizeof(info), a, b[2], k, j;
	struct mx_xb4 line;
	struct in_addr in;

	memset(&info, 0, sizeof(info));
	if (inet_pton(AF_INET, addr, &in) != 1 ||
	    bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return X_OUT;
	a = ntohl(in.s_addr);
	b[0] = mx_x4_b1(a, info.max_entries);
	b[1] = mx_x4_b2(a, info.max_entries);
	for (k = 0; k < 2; k++) {
		if (bpf_map_lookup_elem(fd, &b[k], &line))
			return X_OUT;
		for (j = 0; j < MX_X4_SLOTS; j++)
			if (line.k[j] == a)
				return line.hdr & MX_X4_ASK(j) ? X_ASKS
							       : X_ANSWERED;
	}
	return X_OUT;
}

/*
 * the host index: a plain drop IPv4 host is answered from it and counted
 * exactly (each SYN, across the folds of the per-CPU log); an entry that
 * becomes observe, allow or gets an expiry stays in it but asks the table,
 * its counts taken along, and one removed leaves it
 */
static void test_host_index(void)
{
	const char *host = "192.0.2.50";
	struct mx_entry e;
	__u64 pk = 0, by = 0;
	char d[64];
	int i;

	xh_entry(&e, host, MX_ACT_DROP, false, "");
	ASSERT_EQ(H.be.ops->apply(&H.be, &e, 1, NULL, 0), 0, "block a host");
	ASSERT_EQ(in_index(&H, host), X_ANSWERED,
		  "a plain drop host is answered from the index");
	for (i = 0; i < 2 * MX_XLOG + 3; i++) {
		snprintf(d, sizeof(d), "index hit %d counted", i + 1);
		check_syn(d, host, C_DROP, host);
	}
	ASSERT_EQ(entry_counts(host, &pk, &by, NULL), 0, "its counts");
	ASSERT_U64(pk, 2 * MX_XLOG + 3, "every hit counted");
	e.observe = true;
	ASSERT_EQ(H.be.ops->apply(&H.be, &e, 1, NULL, 0), 0, "observe it");
	ASSERT_EQ(in_index(&H, host), X_ASKS,
		  "an observe entry asks the table");
	check_syn("observed, not dropped", host, C_OBS, host);
	ASSERT_EQ(entry_counts(host, &pk, &by, NULL), 0, "its counts");
	ASSERT_U64(pk, 2 * MX_XLOG + 4, "the index's counts went along");
	e.observe = false;
	e.action = MX_ACT_ALLOW;
	ASSERT_EQ(H.be.ops->apply(&H.be, &e, 1, NULL, 0), 0, "allow it");
	ASSERT_EQ(in_index(&H, host), X_ASKS, "an allow entry asks the table");
	check_syn("allowed", host, C_ALLOW, host);
	e.action = MX_ACT_DROP;
	e.expires = time(NULL) + 3600;
	ASSERT_EQ(H.be.ops->apply(&H.be, &e, 1, NULL, 0), 0,
		  "drop it for an hour");
	ASSERT_EQ(in_index(&H, host), X_ASKS,
		  "an entry with an expiry asks the table");
	check_syn("dropped by the table", host, C_DROP, host);
	e.expires = 0;
	ASSERT_EQ(H.be.ops->apply(&H.be, &e, 1, NULL, 0), 0, "drop it again");
	ASSERT_EQ(in_index(&H, host), X_ANSWERED,
		  "answered from the index again");
	check_syn("dropped by the index", host, C_DROP, host);
	ASSERT_EQ(entry_counts(host, &pk, &by, NULL), 0, "its counts");
	ASSERT_U64(pk, 2 * MX_XLOG + 7, "nothing lost on the way");
	ASSERT_EQ(H.be.ops->apply(&H.be, NULL, 0, &e.net, 1), 0, "unblock it");
	ASSERT_EQ(in_index(&H, host), X_OUT, "gone from the index");
	check_syn("an unblocked host passes", host, C_MISS, NULL);
}

/*
 * hosts whose first index line is full: the line says it overflowed, the
 * rest go to their second lines and are found there, counted; a host of
 * that first line that is not listed still passes
 */
static void test_index_overflow(void)
{
	int fd = bpf_map__fd(H.skel->maps.mx_x4);
	struct mx_entry e[MX_X4_SLOTS + 5];
	struct bpf_map_info info;
	__u32 ilen = sizeof(info), nx, line = 0, a, n = 0, lonely = 0;
	struct mx_xb4 x;
	struct cidr del[MX_X4_SLOTS + 5];
	char ip[INET_ADDRSTRLEN], d[96];
	struct in_addr in;
	size_t i;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		ASSERT_TRUE(0, "index map info");
		return;
	}
	nx = info.max_entries;
	/* hosts of 172.16/12 that share one first line */
	for (a = 0xac100001U; a < 0xac200000U && n < MX_X4_SLOTS + 5; a++) {
		if (n == 0)
			line = mx_x4_b1(a, nx);
		if (mx_x4_b1(a, nx) != line || mx_x4_b2(a, nx) == line)
			continue;
		in.s_addr = htonl(a);
		inet_ntop(AF_INET, &in, ip, sizeof(ip));
		xh_entry(&e[n], ip, MX_ACT_DROP, false, "");
		del[n] = e[n].net;
		n++;
	}
	for (a = 0xac200000U; a < 0xac2fffffU && !lonely; a++)
		if (mx_x4_b1(a, nx) == line)
			lonely = a;
	ASSERT_TRUE(n == MX_X4_SLOTS + 5 && lonely,
		    "hosts that share a first index line");
	if (n != MX_X4_SLOTS + 5 || !lonely)
		return;
	ASSERT_EQ(H.be.ops->apply(&H.be, e, n, NULL, 0), 0, "block them all");
	ASSERT_EQ(bpf_map_lookup_elem(fd, &line, &x), 0, "read the line");
	ASSERT_TRUE(x.hdr & MX_X4_OVF, "the full line says it overflowed");
	ASSERT_TRUE(!(x.hdr & MX_X4_PART), "no host left out");
	for (i = 0; i < n; i++) {
		cidr_format(&e[i].net, ip, sizeof(ip));
		snprintf(d, sizeof(d), "host %zu of the line dropped", i);
		check_syn(d, ip, C_DROP, ip);
	}
	in.s_addr = htonl(lonely);
	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	check_syn("an unlisted host of that line passes", ip, C_MISS, NULL);
	ASSERT_EQ(H.be.ops->apply(&H.be, NULL, 0, del, n), 0, "unblock them");
	for (i = 0; i < n; i++) {
		cidr_format(&e[i].net, ip, sizeof(ip));
		check_syn("and they pass", ip, C_MISS, NULL);
	}
}

/* host_of_line - the next address from *a on (host order) whose first
 * index line of nx is line, moved past it; 0 if none below 0xdf000000 */
static __u32 host_of_line(__u32 *a, __u32 nx, __u32 line)
{
	for (; *a < 0xdf000000U; (*a)++)
		if (mx_x4_b1(*a, nx) == line && mx_x4_b2(*a, nx) != line)
			return (*a)++;
	return 0;
}

static void host_entry(struct mx_entry *e, __u32 a, int action, bool observe)
{
	char ip[INET_ADDRSTRLEN];
	struct in_addr in = {.s_addr = htonl(a)};

	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	xh_entry(e, ip, action, observe, "");
}

/*
 * hosts whose two index lines are both full stay out of the index, and
 * their first line says a host of it was left out: the table answers for
 * them (a plain drop host dropped and counted, an observe one observed),
 * and an unlisted host of that line still passes
 */
static void test_index_full(void)
{
	int fd = bpf_map__fd(H.skel->maps.mx_x4);
	struct mx_entry e[2 * MX_X4_SLOTS + 3];
	struct cidr del[2 * MX_X4_SLOTS + 3];
	struct bpf_map_info info;
	__u32 ilen = sizeof(info), nx, l1, l2, a = 0x64400000U, t[3], i, k;
	__u32 n = 0, nfill;
	char ip[INET_ADDRSTRLEN];
	struct mx_xb4 x;
	bool ok = true;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		ASSERT_TRUE(0, "index map info");
		return;
	}
	nx = info.max_entries;
	/* t[0..2]: hosts with the same two lines l1, l2 (t[2] not listed) */
	t[0] = host_of_line(&a, nx, mx_x4_b1(a, nx));
	l1 = mx_x4_b1(t[0], nx);
	l2 = mx_x4_b2(t[0], nx);
	for (i = 1; i < 3 && ok; i++) {
		while ((t[i] = host_of_line(&a, nx, l1)) &&
		       mx_x4_b2(t[i], nx) != l2)
			;
		ok = t[i] != 0;
	}
	/* the free slots of each line filled by hosts whose first it is */
	for (k = 0; k < 2 && ok; k++) {
		__u32 line = k ? l2 : l1, used = 0;

		ok = !bpf_map_lookup_elem(fd, &line, &x);
		for (i = 0; i < MX_X4_SLOTS && ok; i++)
			used += x.k[i] != 0;
		for (i = used; i < MX_X4_SLOTS && ok; i++) {
			__u32 h = host_of_line(&a, nx, line);

			ok = h != 0;
			host_entry(&e[n], h, MX_ACT_DROP, false);
			del[n] = e[n].net;
			n++;
		}
	}
	nfill = n;
	ASSERT_TRUE(ok && t[0], "hosts that fill two index lines");
	if (!ok || !t[0])
		return;
	ASSERT_EQ(H.be.ops->apply(&H.be, e, n, NULL, 0), 0, "fill both lines");
	host_entry(&e[n], t[0], MX_ACT_DROP, false);
	del[n] = e[n].net;
	ASSERT_EQ(H.be.ops->apply(&H.be, &e[n], 1, NULL, 0), 0,
		  "a host with no room");
	n++;
	host_entry(&e[n], t[1], MX_ACT_DROP, true);
	del[n] = e[n].net;
	ASSERT_EQ(H.be.ops->apply(&H.be, &e[n], 1, NULL, 0), 0,
		  "an observe host with no room");
	n++;
	ASSERT_EQ(bpf_map_lookup_elem(fd, &l1, &x), 0, "read the first line");
	ASSERT_TRUE((x.hdr & MX_X4_OVF) && (x.hdr & MX_X4_PART),
		    "the first line says a host of it was left out");
	cidr_format(&e[n - 2].net, ip, sizeof(ip));
	ASSERT_EQ(in_index(&H, ip), X_OUT, "the host is not in the index");
	check_syn("the table drops the host left out", ip, C_DROP, ip);
	check_syn("and counts it", ip, C_DROP, ip);
	cidr_format(&e[n - 1].net, ip, sizeof(ip));
	ASSERT_EQ(in_index(&H, ip), X_OUT, "the observe host is not either");
	check_syn("the table observes the observe host", ip, C_OBS, ip);
	host_entry(&e[n], t[2], MX_ACT_DROP, false);
	cidr_format(&e[n].net, ip, sizeof(ip));
	check_syn("an unlisted host of the lines passes", ip, C_MISS, NULL);
	for (i = 0; i < nfill; i++) {
		cidr_format(&e[i].net, ip, sizeof(ip));
		ASSERT_EQ(in_index(&H, ip), X_ANSWERED, "a host with room");
	}
	ASSERT_EQ(H.be.ops->apply(&H.be, NULL, 0, del, n), 0, "unblock them");
	for (i = 0; i < n; i++) {
		cidr_format(&e[i].net, ip, sizeof(ip));
		check_syn("and they pass", ip, C_MISS, NULL);
	}
}

/*
 * a pin directory of layout 2 (no host index) is upgraded in place by the
 * next open: entries and counters kept, the index built, layout 3 pinned
 */
static void test_upgrade_v2(void)
{
	const char *names[] = {MX_MAP_X4, MX_MAP_XC4, MX_MAP_XL};
	const char *host = "192.0.2.60";
	struct pkt_opts o = {.family = 4, .src = host};
	struct mx_entry e, *v = NULL;
	struct mx_cfg cfg;
	char path[256];
	__u32 zero = 0, ret = 0;
	size_t n = 0, k;
	struct pkt p;
	struct xh U;
	int i;

	if (xh_setup(&U, 0)) {
		ASSERT_TRUE(0, "a second pin directory");
		xh_teardown(&U);
		return;
	}
	/* counts of a layout-2 set are in the table's counters: observe */
	xh_entry(&e, host, MX_ACT_DROP, true, "");
	ASSERT_EQ(U.be.ops->apply(&U.be, &e, 1, NULL, 0), 0, "an entry");
	pkt_build(&p, &o);
	for (i = 0; i < 3; i++)
		xh_run(U.prog_fd, p.buf, p.len, 1, &ret, NULL);
	U.be.ops->close(&U.be);
	for (k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "%s/%s", U.pin_dir, names[k]);
		unlink(path);
	}
	bpf_map_lookup_elem(U.cfg_fd, &zero, &cfg);
	cfg.layout = 2;
	bpf_map_update_elem(U.cfg_fd, &zero, &cfg, BPF_ANY);
	ASSERT_EQ(U.be.ops->open(&U.be, false), 0,
		  "a layout-2 pin directory opens");
	ASSERT_EQ(xh_reload(&U), 0, "and takes this program");
	bpf_map_lookup_elem(U.cfg_fd, &zero, &cfg);
	ASSERT_EQ(cfg.layout, MX_LAYOUT, "upgraded to this layout");
	for (k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "%s/%s", U.pin_dir, names[k]);
		ASSERT_EQ(access(path, F_OK), 0, "the index's maps are pinned");
	}
	ASSERT_EQ(U.be.ops->dump(&U.be, &v, &n), 0, "entries read back");
	ASSERT_TRUE(n == 1 && v[0].packets == 3, "entry and counts kept");
	free(v);
	v = NULL;
	e.observe = false;
	ASSERT_EQ(U.be.ops->apply(&U.be, &e, 1, NULL, 0), 0, "drop it");
	ASSERT_EQ(in_index(&U, host), X_ANSWERED,
		  "the upgraded set has an index");
	xh_run(U.prog_fd, p.buf, p.len, 1, &ret, NULL);
	ASSERT_EQ(ret, XDP_DROP, "dropped from the index");
	ASSERT_EQ(U.be.ops->dump(&U.be, &v, &n), 0, "entries read back");
	ASSERT_TRUE(n == 1 && v[0].packets == 4, "counted on");
	free(v);
	xh_teardown(&U);
}

/* entry_packets - the packets dumped for entry net (dotted host), or -1 */
static long long entry_packets(struct xh *h, const char *net)
{
	struct mx_entry *v = NULL;
	char buf[64];
	long long pk = -1;
	size_t n = 0, i;

	if (h->be.ops->dump(&h->be, &v, &n))
		return -1;
	for (i = 0; i < n; i++) {
		cidr_format(&v[i].net, buf, sizeof(buf));
		if (!strcmp(buf, net))
			pk = (long long)v[i].packets;
	}
	free(v);
	return pk;
}

/*
 * a pin directory of layout 3 (an index of the plain drop hosts only, the
 * header word an overflow flag) is upgraded in place by the next open:
 * entries and counts kept (the index's and the table's), every host in
 * the new index, the observe one asking the table
 */
static void test_upgrade_v3(void)
{
	const char *obs = "192.0.2.61", *drop = "192.0.2.62";
	struct pkt_opts o1 = {.family = 4, .src = obs};
	struct pkt_opts o2 = {.family = 4, .src = drop};
	struct pkt_opts o3 = {.family = 4, .src = "198.18.5.9"};
	struct mx_entry e[3];
	struct pkt p3;
	__u64 w;
	__u32 bit, word;
	int blfd;
	struct mx_xb4 x;
	struct mx_cfg cfg;
	__u32 zero = 0, ret = 0, l, j, obs_a, a4;
	struct pkt p1, p2;
	struct in_addr in;
	struct xh U;
	int i, xfd;

	if (xh_setup(&U, 0)) {
		ASSERT_TRUE(0, "a second pin directory");
		xh_teardown(&U);
		return;
	}
	xh_entry(&e[0], obs, MX_ACT_DROP, true, "");
	xh_entry(&e[1], drop, MX_ACT_DROP, false, "");
	xh_entry(&e[2], "198.18.4.0/22", MX_ACT_DROP, false, "");
	ASSERT_EQ(U.be.ops->apply(&U.be, e, 3, NULL, 0), 0, "three entries");
	pkt_build(&p1, &o1);
	pkt_build(&p2, &o2);
	for (i = 0; i < 3; i++)
		xh_run(U.prog_fd, p1.buf, p1.len, 1, &ret, NULL);
	/* some folded into the index's counters, some still logged */
	for (i = 0; i < MX_XLOG + 5; i++)
		xh_run(U.prog_fd, p2.buf, p2.len, 1, &ret, NULL);
	U.be.ops->close(&U.be);
	/* as layout 3 had it: the observe host out of the index, no ask
	 * bits, the overflow flag in bit 0 */
	inet_pton(AF_INET, obs, &in);
	obs_a = ntohl(in.s_addr);
	xfd = bpf_map__fd(U.skel->maps.mx_x4);
	for (l = 0; !bpf_map_lookup_elem(xfd, &l, &x); l++) {
		x.hdr = x.hdr & MX_X4_OVF ? 1 : 0;
		for (j = 0; j < MX_X4_SLOTS; j++)
			if (x.k[j] == obs_a)
				x.k[j] = 0;
		bpf_map_update_elem(xfd, &l, &x, BPF_ANY);
	}
	/* and no region bits: layout 3 had none */
	blfd = bpf_map__fd(U.skel->maps.mx_bl);
	for (a4 = 0xc6120400U; a4 < 0xc6120800U; a4 += 256) {
		bit = mx_rg4_bit(a4);
		word = bit / 64;
		bpf_map_lookup_elem(blfd, &word, &w);
		w &= ~(1ULL << (bit % 64));
		bpf_map_update_elem(blfd, &word, &w, BPF_ANY);
	}
	bpf_map_lookup_elem(U.cfg_fd, &zero, &cfg);
	cfg.layout = 3;
	bpf_map_update_elem(U.cfg_fd, &zero, &cfg, BPF_ANY);
	ASSERT_EQ(U.be.ops->open(&U.be, false), 0,
		  "a layout-3 pin directory opens");
	ASSERT_EQ(xh_reload(&U), 0, "and takes this program");
	bpf_map_lookup_elem(U.cfg_fd, &zero, &cfg);
	ASSERT_EQ(cfg.layout, MX_LAYOUT, "upgraded to this layout");
	ASSERT_EQ(entry_packets(&U, obs), 3, "the table's counts kept");
	ASSERT_EQ(entry_packets(&U, drop), MX_XLOG + 5,
		  "the index's counts kept, logged hits too");
	ASSERT_EQ(in_index(&U, obs), X_ASKS, "the observe host asks the table");
	ASSERT_EQ(in_index(&U, drop), X_ANSWERED, "the drop host is answered");
	xh_run(U.prog_fd, p1.buf, p1.len, 1, &ret, NULL);
	ASSERT_EQ(ret, XDP_PASS, "the observe host passes");
	xh_run(U.prog_fd, p2.buf, p2.len, 1, &ret, NULL);
	ASSERT_EQ(ret, XDP_DROP, "the drop host is dropped");
	ASSERT_EQ(entry_packets(&U, obs), 4, "counted on");
	ASSERT_EQ(entry_packets(&U, drop), MX_XLOG + 6, "counted on");
	pkt_build(&p3, &o3);
	xh_run(U.prog_fd, p3.buf, p3.len, 1, &ret, NULL);
	ASSERT_EQ(ret, XDP_DROP,
		  "a source in the netblock is dropped "
		  "(the summaries were rebuilt)");
	xh_teardown(&U);
}

static void on_signal(int sig)
{
	xh_teardown(&H);
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(void)
{
	if (!xh_start(&H, 1024, on_signal))
		return 1;
	TEST_RUN(test_populate);
	TEST_RUN(test_cases);
	TEST_RUN(test_fragments);
	TEST_RUN(test_not_ip);
	TEST_RUN(test_bloom);
	TEST_RUN(test_short_v6);
	TEST_RUN(test_ports_and_observe);
	TEST_RUN(test_truncated);
	TEST_RUN(test_entries);
	TEST_RUN(test_expiry);
	TEST_RUN(test_rollback);
	TEST_RUN(test_growth);
	TEST_RUN(test_growth_max);
	TEST_RUN(test_growth_half_made);
	TEST_RUN(test_repair);
	TEST_RUN(test_reload);
	TEST_RUN(test_layout);
	TEST_RUN(test_host_index);
	TEST_RUN(test_index_overflow);
	TEST_RUN(test_index_full);
	TEST_RUN(test_upgrade_v2);
	TEST_RUN(test_upgrade_v3);
	xh_teardown(&H);
	return test_finish();
}
