// SPDX-License-Identifier: GPL-2.0
/*
 * test_nft_ops.c - backend_nft_ops against the kernel, in a network
 * namespace of its own (unshare(CLONE_NEWNET): nothing of the machine is
 * touched, the namespace goes with the process). Needs root.
 *
 * Traffic runs on lo: a listener on 127.0.0.1:25, connects bound to other
 * 127/8 sources, each waiting less than the first SYN retransmission so that
 * it sends exactly one SYN. Asserts longest-prefix counting (a host inside a
 * blocked /24 counts its own SYNs, an allow exception wins), no seen(),
 * zero_counters(), replace keeping counters, all-or-nothing apply, status,
 * observe mode, detach and destroy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "test.h"
#include "badchange.h"

static struct cidr net_of(const char *s)
{
	struct cidr c;
	char err[128];

	memset(&c, 0, sizeof(c));
	if (cidr_parse(s, 0, &c, err, sizeof(err)) < 0)
		printf("bad test cidr %s: %s\n", s, err);
	return c;
}

static struct mx_entry entry(const char *net, int action, bool observe,
			     const char *tags)
{
	struct mx_entry e;

	memset(&e, 0, sizeof(e));
	e.net = net_of(net);
	e.action = (uint8_t)action;
	e.origin = MX_ORIGIN_DYNAMIC;
	e.observe = observe;
	snprintf(e.tags, sizeof(e.tags), "%s", tags);
	e.added = 1763900000;
	return e;
}

/* syn_from - one connect from src to 127.0.0.1:25: 1 connected, 0 not */
static int syn_from(const char *src)
{
	struct sockaddr_in a = {.sin_family = AF_INET}, d = a;
	struct pollfd pfd;
	int fd, r, err = 0;
	socklen_t len = sizeof(err);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	inet_pton(AF_INET, src, &a.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &d.sin_addr);
	d.sin_port = htons(25);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	r = connect(fd, (struct sockaddr *)&d, sizeof(d));
	if (r < 0 && errno != EINPROGRESS) {
		close(fd);
		return 0;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	/* the first retransmission comes after 1 s: one SYN only */
	r = poll(&pfd, 1, 400);
	if (r == 1)
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	close(fd);
	return r == 1 && !err;
}

static const struct mx_entry *find(const struct mx_entry *v, size_t n,
				   const char *net)
{
	struct cidr c = net_of(net);
	size_t i;

	for (i = 0; i < n; i++)
		if (!cidr_cmp(&v[i].net, &c))
			return &v[i];
	return NULL;
}

static long long packets(struct backend *be, const char *net)
{
	struct mx_entry *v = NULL;
	const struct mx_entry *e;
	size_t n = 0;
	long long r = -1;

	if (be->ops->dump(be, &v, &n))
		return -2;
	e = find(v, n, net);
	if (e)
		r = (long long)e->packets;
	free(v);
	return r;
}

static int lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), r;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return r;
}

static struct backend be;
static int listener = -1;

static void test_open_attach(void)
{
	struct mx_dp_config cfg = {.ports = {25, 587}, .nports = 2};

	ASSERT_EQ(backend_nft_ops.open(&be, false), -ENOENT,
		  "no table, no create: ENOENT");
	ASSERT_EQ(backend_nft_ops.open(&be, true), 0, "create the table");
	ASSERT_EQ(be.ops->set_config(&be, &cfg), 0, "set ports");
	ASSERT_EQ(be.ops->attach(&be, "lo", MX_MODE_AUTO), 0, "attach lo");
	ASSERT_EQ(be.ops->attach(&be, "lo", MX_MODE_AUTO), 0,
		  "attach again: nothing to do");
	ASSERT_EQ(be.ops->attach(&be, "nosuchif0", MX_MODE_AUTO), -ENODEV,
		  "no such interface");
}

static void test_longest_prefix(void)
{
	struct mx_entry add[4];

	add[0] = entry("127.0.0.0/24", MX_ACT_DROP, false, "net");
	add[1] = entry("127.0.0.5", MX_ACT_DROP, false, "host");
	add[2] = entry("127.0.0.9", MX_ACT_ALLOW, false, "");
	add[3] = entry("127.1.0.0/16", MX_ACT_DROP, true, "obs");
	ASSERT_EQ(be.ops->apply(&be, add, 4, NULL, 0), 0, "apply 4 entries");
	ASSERT_EQ(syn_from("127.0.0.5"), 0, "blocked host cannot connect");
	ASSERT_EQ(syn_from("127.0.0.7"), 0, "source in blocked /24 cannot");
	ASSERT_EQ(syn_from("127.0.0.9"), 1, "allow exception connects");
	ASSERT_EQ(syn_from("127.1.0.3"), 1, "observed source connects");
	ASSERT_EQ(syn_from("127.2.0.1"), 1, "unlisted source connects");
	ASSERT_EQ(packets(&be, "127.0.0.5"), 1, "host counts its SYN");
	ASSERT_EQ(packets(&be, "127.0.0.0/24"), 1,
		  "the /24 counts only the other SYN");
	ASSERT_EQ(packets(&be, "127.0.0.9"), 1, "allow counts its SYN");
	ASSERT_EQ(packets(&be, "127.1.0.0/16"), 1, "observe counts");
}

/* nft keeps no record of SYN sources: the watcher asks the record of
 * completed handshakes (backend/wire.h), under either backend */
static void test_no_seen(void)
{
	ASSERT_TRUE(be.ops->seen == NULL, "no seen() on nft");
}

static void test_status(void)
{
	struct mx_status st;

	memset(&st, 0, sizeof(st));
	ASSERT_EQ(be.ops->status(&be, &st), 0, "status");
	ASSERT_STR(st.backend, "nft", "backend name");
	ASSERT_EQ(st.nifaces, 1, "one interface");
	ASSERT_STR(st.ifaces[0].name, "lo", "it is lo");
	ASSERT_EQ(st.cfg.nports, 2, "two ports");
	ASSERT_EQ(st.cfg.observe, false, "not observing");
	ASSERT_EQ(st.entries_dynamic, 4, "four dynamic entries");
	ASSERT_U64(st.counters.syn, 5, "five SMTP SYNs");
	ASSERT_U64(st.counters.dropped, 2, "two dropped");
	ASSERT_U64(st.counters.allowed, 1, "one allowed");
	ASSERT_U64(st.counters.observed, 1, "one observed");
	ASSERT_TRUE(st.counters.seen >= 5, "seen counts every packet");
}

static void test_replace_keeps_counters(void)
{
	struct mx_entry add =
	    entry("127.0.0.0/24", MX_ACT_DROP, false, "renamed");
	struct mx_entry *v = NULL;
	const struct mx_entry *e;
	size_t n = 0;

	add.origin = MX_ORIGIN_STATIC;
	ASSERT_EQ(be.ops->apply(&be, &add, 1, NULL, 0), 0, "re-add /24");
	ASSERT_EQ(be.ops->dump(&be, &v, &n), 0, "dump");
	e = find(v, n, "127.0.0.0/24");
	ASSERT_TRUE(e != NULL, "still there");
	if (e) {
		ASSERT_U64(e->packets, 1, "packets kept");
		ASSERT_TRUE(e->bytes >= 40, "bytes kept");
		ASSERT_STR(e->tags, "renamed", "tags replaced");
		ASSERT_EQ(e->origin, MX_ORIGIN_STATIC, "origin replaced");
	}
	ASSERT_EQ(n, 4, "no duplicate");
	free(v);
}

static void test_all_or_nothing(void)
{
	struct mx_entry add[2];
	struct cidr del = net_of("127.3.0.0/16");

	add[0] = entry("127.4.0.0/16", MX_ACT_DROP, false, "a");
	add[1] = entry("127.4.0.1", MX_ACT_DROP, false, "b");
	/* the delete of an entry that is not there fails the whole apply */
	ASSERT_EQ(be.ops->apply(&be, add, 2, &del, 1), -ENOENT,
		  "apply with a missing delete");
	ASSERT_EQ(packets(&be, "127.4.0.0/16"), -1, "nothing added");
	del = net_of("127.0.0.4"); /* a length with a map, no element */
	ASSERT_EQ(be.ops->apply(&be, add, 2, &del, 1), -ENOENT,
		  "kernel refuses the delete in the batch");
	ASSERT_EQ(packets(&be, "127.4.0.1"), -1, "still nothing added");
	add[1] = entry("127.4.0.0/16", MX_ACT_ALLOW, false, "last");
	ASSERT_EQ(be.ops->apply(&be, add, 2, NULL, 0), 0, "same entry twice");
	{
		struct mx_entry *v = NULL;
		const struct mx_entry *e;
		size_t n = 0;

		be.ops->dump(&be, &v, &n);
		e = find(v, n, "127.4.0.0/16");
		ASSERT_TRUE(e && e->action == MX_ACT_ALLOW, "the last wins");
		free(v);
	}
	del = net_of("127.4.0.0/16");
	ASSERT_EQ(be.ops->apply(&be, NULL, 0, &del, 1), 0, "unblock");
	ASSERT_EQ(packets(&be, "127.4.0.0/16"), -1, "gone");
}

static void test_zero_counters(void)
{
	struct cidr h = net_of("127.0.0.5"), missing = net_of("127.9.9.9");

	ASSERT_EQ(be.ops->zero_counters(&be, &h, 1), 0, "zero one entry");
	ASSERT_EQ(packets(&be, "127.0.0.5"), 0, "its counter is 0");
	ASSERT_EQ(packets(&be, "127.0.0.9"), 1, "the others kept");
	ASSERT_EQ(be.ops->zero_counters(&be, &missing, 1), -ENOENT,
		  "zero a missing entry: ENOENT");
	ASSERT_EQ(be.ops->zero_counters(&be, NULL, 0), 0, "zero all");
	ASSERT_EQ(packets(&be, "127.0.0.9"), 0, "all zero");
	ASSERT_EQ(packets(&be, "127.0.0.0/24"), 0, "all zero (/24)");
}

static void test_observe_mode(void)
{
	struct mx_dp_config cfg = {.ports = {25}, .nports = 1, .observe = true};
	struct mx_status st;

	ASSERT_EQ(be.ops->set_config(&be, &cfg), 0, "global observe on");
	memset(&st, 0, sizeof(st));
	be.ops->status(&be, &st);
	ASSERT_EQ(st.cfg.observe, true, "status says observe");
	ASSERT_EQ(syn_from("127.0.0.5"), 1, "blocked host passes");
	ASSERT_EQ(packets(&be, "127.0.0.5"), 1, "and is counted");
	cfg.observe = false;
	ASSERT_EQ(be.ops->set_config(&be, &cfg), 0, "global observe off");
	ASSERT_EQ(syn_from("127.0.0.5"), 0, "blocked again");
}

static void test_detach_destroy(void)
{
	ASSERT_EQ(be.ops->detach(&be, "lo"), 0, "detach lo");
	ASSERT_EQ(be.ops->detach(&be, "lo"), -ENOENT, "detach again");
	ASSERT_EQ(syn_from("127.0.0.5"), 1, "detached: passes");
	ASSERT_EQ(be.ops->destroy(&be), 0, "destroy");
	ASSERT_EQ(be.ops->destroy(&be), 0, "destroy again: nothing to do");
	be.ops->close(&be);
	ASSERT_EQ(backend_nft_ops.open(&be, false), -ENOENT, "table gone");
}

/* the front door's list of bad changes: refused whole, -EINVAL, as the
 * other backend refuses them (selftests/lib/badchange.h) */
static void test_bad_changes(void)
{
	struct mx_entry *d0 = NULL, *d1 = NULL;
	struct badchange v[16];
	size_t n = bad_changes(v), i, n0 = 0, n1 = 0;
	int err;

	ASSERT_EQ(be.ops->dump(&be, &d0, &n0), 0, "dump before");
	for (i = 0; i < n; i++) {
		err = v[i].is_del
			  ? be.ops->apply(&be, NULL, 0, &v[i].add.net, 1)
			  : be.ops->apply(&be, &v[i].add, 1, NULL, 0);
		ASSERT_EQ(err, -EINVAL, v[i].desc);
	}
	ASSERT_EQ(be.ops->dump(&be, &d1, &n1), 0, "dump after");
	ASSERT_EQ(n1, n0, "nothing added or taken");
	free(d0);
	free(d1);
}

int main(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(25)};
	int one = 1;

	if (unshare(CLONE_NEWNET) || lo_up()) {
		printf(
		    "FAIL - a network namespace of its own: %s (needs root)\n",
		    strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	listener = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bind(listener, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(listener, 64)) {
		printf("FAIL - listener on 127.0.0.1:25: %s\n",
		       strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	memset(&be, 0, sizeof(be));
	be.ops = &backend_nft_ops;
	be.lock_fd = -1;
	snprintf(be.why, sizeof(be.why), "test");
	TEST_RUN(test_open_attach);
	TEST_RUN(test_longest_prefix);
	TEST_RUN(test_no_seen);
	TEST_RUN(test_status);
	TEST_RUN(test_replace_keeps_counters);
	TEST_RUN(test_all_or_nothing);
	TEST_RUN(test_bad_changes);
	TEST_RUN(test_zero_counters);
	TEST_RUN(test_observe_mode);
	TEST_RUN(test_detach_destroy);
	if (be.priv)
		be.ops->close(&be);
	close(listener);
	return test_finish();
}
