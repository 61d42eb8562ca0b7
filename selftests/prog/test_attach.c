// SPDX-License-Identifier: GPL-2.0
/*
 * test_attach.c - backend_xdp attach/detach on a veth pair in a network
 * namespace of our own: pinned links, native and generic mode, upgrade in
 * place (a newly loaded program swapped in with the maps and counters
 * kept), refusing another XDP program, stale link pins, detach.
 * Everything (namespace, pin directory) is removed at the end, also when a
 * check fails or on a signal.
 */
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>

#include <linux/if_link.h>

#include "test.h"
#include "../prog/xdp_harness.h"
#include "mxbench.skel.h"

static struct xh H;
static char ns[64];
static int host_ns = -1;

static int sh(const char *cmd)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
	return system(buf) == 0 ? 0 : -1;
}

static void make_veth(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "ip link add ta type veth peer name tb && ip link set ta up "
		 "&& ip link set tb up");
	ASSERT_EQ(sh(cmd), 0, "make the veth pair ta/tb");
}

static void cleanup(void)
{
	char cmd[128];

	xh_teardown(&H);
	if (host_ns >= 0) {
		if (setns(host_ns, CLONE_NEWNET))
			perror("setns back");
		close(host_ns);
		host_ns = -1;
	}
	if (ns[0]) {
		snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
		sh(cmd);
		ns[0] = '\0';
	}
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* xdp_prog - the id and mode of the XDP program on ifname, 0 if none */
static __u32 xdp_prog(const char *ifname, __u8 *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ifindex = (int)if_nametoindex(ifname);

	if (!ifindex || bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (mode)
		*mode = q.attach_mode;
	return q.prog_id;
}

static bool link_pinned(const char *ifname)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/" MX_LINK_PREFIX "%s", H.pin_dir,
		 ifname);
	return access(path, F_OK) == 0;
}

/* run_attached - one SYN through the program attached to ifname */
static int run_attached(const char *ifname, __u32 *ret)
{
	struct pkt_opts o = {.family = 4, .src = "192.0.2.1"};
	struct pkt p;
	__u32 id = xdp_prog(ifname, NULL);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	pkt_build(&p, &o);
	err = xh_run(fd, p.buf, p.len, 1, ret, NULL);
	close(fd);
	return err;
}

static __u64 packets_of(const char *net)
{
	struct mx_entry *v = NULL;
	struct cidr c;
	char err[64];
	size_t n = 0, i;
	__u64 pk = UINT64_MAX;

	cidr_parse(net, 0, &c, err, sizeof(err));
	if (H.be.ops->dump(&H.be, &v, &n))
		return UINT64_MAX;
	for (i = 0; i < n; i++)
		if (!cidr_cmp(&v[i].net, &c))
			pk = v[i].packets;
	free(v);
	return pk;
}

static void test_attach(void)
{
	struct mx_entry e;
	struct mx_status st;
	__u32 id1, id2, ret = 0;
	__u8 mode = 0;
	size_t i;
	bool found = false;

	xh_entry(&e, "192.0.2.1", MX_ACT_DROP, false, "");
	ASSERT_EQ(H.be.ops->apply(&H.be, &e, 1, NULL, 0), 0, "block a host");

	ASSERT_EQ(H.be.ops->attach(&H.be, "ta", MX_MODE_NATIVE), 0,
		  "attach ta native");
	id1 = xdp_prog("ta", &mode);
	ASSERT_TRUE(id1 != 0, "ta carries a program");
	ASSERT_EQ(mode, XDP_ATTACHED_DRV, "in native mode");
	ASSERT_TRUE(link_pinned("ta"), "the link is pinned");
	ASSERT_EQ(H.be.ops->status(&H.be, &st), 0, "status");
	for (i = 0; i < st.nifaces; i++)
		if (!strcmp(st.ifaces[i].name, "ta"))
			found = st.ifaces[i].mode == MX_MODE_NATIVE;
	ASSERT_TRUE(found, "status lists ta as native");

	ASSERT_EQ(run_attached("ta", &ret), 0, "run the attached program");
	ASSERT_EQ(ret, XDP_DROP, "it drops the blocked host");
	ASSERT_U64(packets_of("192.0.2.1"), 1, "and counts it");

	/* upgrade in place: a new program, the same maps and counters */
	ASSERT_EQ(H.be.ops->attach(&H.be, "ta", MX_MODE_AUTO), 0,
		  "attach ta again (upgrade)");
	id2 = xdp_prog("ta", &mode);
	ASSERT_TRUE(id2 != 0 && id2 != id1, "a newly loaded program runs");
	ASSERT_EQ(mode, XDP_ATTACHED_DRV, "still native");
	ASSERT_U64(packets_of("192.0.2.1"), 1, "the counter survived");
	ASSERT_EQ(run_attached("ta", &ret), 0, "run the new program");
	ASSERT_EQ(ret, XDP_DROP, "it drops with the old table");
	ASSERT_U64(packets_of("192.0.2.1"), 2, "and counts on");

	/* generic mode on the other end */
	ASSERT_EQ(H.be.ops->attach(&H.be, "tb", MX_MODE_GENERIC), 0,
		  "attach tb generic");
	xdp_prog("tb", &mode);
	ASSERT_EQ(mode, XDP_ATTACHED_SKB, "tb in generic mode");
	ASSERT_EQ(H.be.ops->detach(&H.be, "tb"), 0, "detach tb");
	ASSERT_EQ(xdp_prog("tb", NULL), 0, "tb has no program");
	ASSERT_TRUE(!link_pinned("tb"), "tb's link pin is gone");
	ASSERT_EQ(H.be.ops->detach(&H.be, "tb"), -ENOENT,
		  "detaching it again: not attached");

	ASSERT_EQ(H.be.ops->attach(&H.be, "nosuch0", MX_MODE_AUTO), -ENODEV,
		  "unknown interface");
}

static void test_foreign(void)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	struct mxbench_bpf *other = mxbench_bpf__open_and_load();
	int ifb = (int)if_nametoindex("tb");
	int fd;

	ASSERT_TRUE(other != NULL, "load another XDP program");
	if (!other)
		return;
	fd = bpf_program__fd(other->progs.bench_empty);
	ASSERT_EQ(bpf_xdp_attach(ifb, fd, XDP_FLAGS_SKB_MODE, &xo), 0,
		  "attach it to tb without us");
	log_set_level(MX_LOG_ERR + 1);
	ASSERT_EQ(H.be.ops->attach(&H.be, "tb", MX_MODE_AUTO), -EBUSY,
		  "mxwall refuses to replace it");
	log_set_level(MX_LOG_INFO);
	ASSERT_TRUE(!link_pinned("tb"), "and pins nothing");
	bpf_xdp_detach(ifb, XDP_FLAGS_SKB_MODE, &xo);
	mxbench_bpf__destroy(other);
}

static void test_stale(void)
{
	/* the interface goes away under a pinned link, then comes back */
	ASSERT_EQ(H.be.ops->attach(&H.be, "tb", MX_MODE_AUTO), 0, "attach tb");
	ASSERT_EQ(sh("ip link del ta"), 0, "delete the veth pair");
	make_veth();
	ASSERT_TRUE(link_pinned("ta"), "ta's pin is still there (stale)");
	ASSERT_EQ(H.be.ops->attach(&H.be, "ta", MX_MODE_AUTO), 0,
		  "attach the new ta over the stale pin");
	ASSERT_TRUE(xdp_prog("ta", NULL) != 0, "the new ta carries it");
	ASSERT_EQ(H.be.ops->detach(&H.be, "ta"), 0, "detach ta");
	ASSERT_TRUE(link_pinned("tb"), "tb went with the pair, its pin stayed");
	ASSERT_EQ(H.be.ops->detach(&H.be, "tb"), 0,
		  "detach tb: the stale pin is cleared");
	ASSERT_TRUE(!link_pinned("tb"), "tb's pin is gone");
	ASSERT_EQ(H.be.ops->destroy(&H.be), 0, "destroy");
	ASSERT_TRUE(access(H.pin_dir, F_OK) != 0, "the pin dir is gone");
	H.be.ops->close(&H.be);
}

int main(void)
{
	char cmd[128], path[128];
	int fd;

	if (geteuid()) {
		printf("FAIL - needs root (netns, XDP, bpffs)\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, on_signal);
	snprintf(ns, sizeof(ns), "mxwall-test-attach-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "ip netns add %s", ns);
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (sh(cmd) || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    setns(fd, CLONE_NEWNET)) {
		printf("FAIL - cannot make network namespace %s\n", ns);
		cleanup();
		printf("0 passed, 1 failed\n");
		return 1;
	}
	close(fd);
	make_veth();
	if (xh_setup(&H, 1024)) {
		printf("FAIL - cannot set up the XDP test table\n");
		cleanup();
		printf("0 passed, 1 failed\n");
		return 1;
	}
	TEST_RUN(test_attach);
	TEST_RUN(test_foreign);
	TEST_RUN(test_stale);
	cleanup();
	return test_finish();
}
