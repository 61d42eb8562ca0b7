// SPDX-License-Identifier: GPL-2.0
/*
 * bench_xdp.c - ns per packet of the XDP program against an empty
 * XDP_DROP program, through BPF_PROG_TEST_RUN with repeat, measured
 * interleaved in the same run (round by round, medians reported).
 *
 *  hot:   the same frame repeated (one source, caches warm);
 *  flood: every run a different IPv4 source (bench_flood rewrites it and
 *         tail-calls the program under test; the empty program goes
 *         through the same wrapper), walking the table's hosts (hit) or
 *         2^20 unlisted sources (miss).
 * Tables of 0, 1k, 100k and 1M entries: IPv4 hosts, IPv4 netblocks of
 * /16 to /28, a few IPv6 hosts and /48s; loaded with the real backend
 * apply(), whose time is reported too.
 *
 * veth: with the largest table, packets per second that one CPU drops
 * on a veth pair in a namespace of our own: bench_gen makes the frames
 * (live-frame BPF_PROG_TEST_RUN, a new source each, redirected into one
 * end), the other end runs the program under test in native mode, both
 * on the same CPU; the empty program is measured the same way.
 *
 * usage: bench_xdp [-n] [-q] [-r ROUNDS] [-s SIZE,...]
 *   -n   no veth measurement
 *   -q   quick: fewer repeats (a smoke run, numbers are rough)
 */
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <time.h>

#include <linux/if_link.h>

#include "../prog/xdp_harness.h"
#include "mxbench.skel.h"

__attribute__((weak)) struct mx_globals_opt mx_opt = {
    .pin_dir = "/nonexistent",
    .state_dir = "/nonexistent",
};

static unsigned int rounds = 5;
static bool do_veth = true;
static __u32 veth_frames = 4U << 20;
static __u32 hot_repeat = 1000000;
static __u32 flood_repeat = 1U << 20;

static __u32 mix(__u32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* cpu_s - CPU time of this process (user + system), seconds */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static __u32 median(__u32 *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	return v[n / 2];
}

struct table_mix {
	size_t hosts4, nets4, hosts6, nets6;
};

/* make_table - the entries of a table of n: mostly v4 hosts */
static struct mx_entry *make_table(size_t n, struct table_mix *mx)
{
	struct mx_entry *e = calloc(n ? n : 1, sizeof(*e));
	size_t i, k = 0;
	__u32 a;

	mx->nets4 = n / 50;
	mx->hosts6 = n / 200;
	mx->nets6 = n / 200;
	mx->hosts4 = n - mx->nets4 - mx->hosts6 - mx->nets6;
	for (i = 0; i < mx->hosts4; i++, k++) {
		a = htonl(mix((__u32)i));
		e[k].net.family = AF_INET;
		e[k].net.plen = 32;
		memcpy(e[k].net.addr, &a, 4);
	}
	for (i = 0; i < mx->nets4; i++, k++) {
		unsigned int plen = i % 100 == 0 ? 16 : 20 + (i % 5) * 2;

		a = mix(0x80000000U + (__u32)i) & ~(0xffffffffU >> plen);
		a = htonl(a);
		e[k].net.family = AF_INET;
		e[k].net.plen = (__u8)plen;
		memcpy(e[k].net.addr, &a, 4);
	}
	for (i = 0; i < mx->hosts6 + mx->nets6; i++, k++) {
		e[k].net.family = AF_INET6;
		e[k].net.addr[0] = 0x20;
		e[k].net.addr[1] = 0x01;
		e[k].net.addr[2] = 0x0d;
		e[k].net.addr[3] = 0xb8;
		a = htonl(mix(0x40000000U + (__u32)i));
		memcpy(e[k].net.addr + 4, &a, 4);
		if (i < mx->hosts6) {
			e[k].net.plen = 128;
			e[k].net.addr[15] = 1;
		} else {
			e[k].net.plen = 48;
			e[k].net.addr[6] = e[k].net.addr[7] = 0;
		}
	}
	for (i = 0; i < n; i++) {
		e[i].action = MX_ACT_DROP;
		e[i].origin = MX_ORIGIN_STATIC;
		snprintf(e[i].tags, sizeof(e[i].tags), "bench");
	}
	return e;
}

struct frame {
	const char *name;
	struct pkt p;
	__u32 base, nsrc; /* flood walk */
};

/*
 * measure - interleave ROUNDS runs of prog a and prog b (same frame);
 * medians of the per-packet ns.
 */
static int measure(int fa, int fb, const struct frame *f, __u32 repeat,
		   struct mxbench_bpf *bs, bool flood, __u32 *ma, __u32 *mb)
{
	__u32 ta[32], tb[32], ret, zero = 0;
	unsigned int r;
	int err;

	for (r = 0; r < rounds; r++) {
		if (flood) {
			if (bpf_map_update_elem(bpf_map__fd(bs->maps.bench_jmp),
						&zero, &fa, BPF_ANY))
				return -errno;
			bs->bss->seq = 0;
		}
		err =
		    xh_run(flood ? bpf_program__fd(bs->progs.bench_flood) : fa,
			   f->p.buf, f->p.len, repeat, &ret, &ta[r]);
		if (err)
			return err;
		if (flood) {
			if (bpf_map_update_elem(bpf_map__fd(bs->maps.bench_jmp),
						&zero, &fb, BPF_ANY))
				return -errno;
			bs->bss->seq = 0;
		}
		err =
		    xh_run(flood ? bpf_program__fd(bs->progs.bench_flood) : fb,
			   f->p.buf, f->p.len, repeat, &ret, &tb[r]);
		if (err)
			return err;
	}
	*ma = median(ta, rounds);
	*mb = median(tb, rounds);
	return 0;
}

static void counters(struct xh *h, struct mx_counters *c)
{
	struct mx_status st;

	memset(c, 0, sizeof(*c));
	if (!h->be.ops->status(&h->be, &st))
		*c = st.counters;
}

/* sh - run a shell command; -1 if it did not exit 0 */
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

/* gen_run - send n frames through bench_gen; Mpps on this one CPU */
static int gen_run(struct mxbench_bpf *bs, const struct frame *f, int ifa,
		   __u32 n, double *mpps)
{
	struct xdp_md ctx = {.data_end = (__u32)f->p.len,
			     .ingress_ifindex = (__u32)ifa};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->p.buf,
		    .data_size_in = (__u32)f->p.len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = n,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	bs->bss->seq = 0;
	bs->bss->base = f->base;
	bs->bss->nsrc = f->nsrc;
	bs->bss->gen_ifindex = (__u32)ifa;
	if (bpf_prog_test_run_opts(bpf_program__fd(bs->progs.bench_gen), &o))
		return -errno;
	/*
	 * the kernel's own timer: ns per frame, receiver's softirq work
	 * included, time spent preempted by other tasks left out
	 */
	*mpps = o.duration ? 1000.0 / o.duration : 0;
	return 0;
}

/*
 * veth - Mpps dropped by one CPU on a veth pair (generator and receiver on
 * the same CPU), for the empty program and ours, floods of f[]
 */
static int veth(struct xh *h, struct mxbench_bpf *bs, const struct frame *f,
		int nf)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);
	char ns[64], path[128];
	int self = -1, nsfd = -1, ifa, ifb, i, k, lfd, err = 0;
	struct mx_counters c0, c1;
	cpu_set_t cpus, saved;
	double mpps[2];

	snprintf(ns, sizeof(ns), "mxwall-bench-%d", (int)getpid());
	if (sh("ip netns add %s && ip -n %s link add mxbA type veth peer "
	       "name mxbB && ip -n %s link set mxbA up && ip -n %s link set "
	       "mxbB up",
	       ns, ns, ns, ns)) {
		fprintf(stderr, "veth: cannot make namespace %s\n", ns);
		err = -1;
		goto out;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || nsfd < 0 || setns(nsfd, CLONE_NEWNET)) {
		err = -errno;
		goto out;
	}
	ifa = (int)if_nametoindex("mxbA");
	ifb = (int)if_nametoindex("mxbB");
	/* generator and receiver on one CPU, as a loaded server would be */
	sched_getaffinity(0, sizeof(saved), &saved);
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	for (i = 0; i < nf; i++) {
		for (k = 0; k < 2; k++) {
			int pfd = k ? h->prog_fd
				    : bpf_program__fd(bs->progs.bench_empty);

			lfd = bpf_link_create(pfd, ifb, BPF_XDP, &lo);
			if (lfd < 0) {
				err = -errno;
				fprintf(stderr, "veth: attach: %s\n",
					strerror(errno));
				goto restore;
			}
			counters(h, &c0);
			err = gen_run(bs, &f[i], ifa, veth_frames, &mpps[k]);
			counters(h, &c1);
			close(lfd);
			if (err) {
				fprintf(stderr, "veth: live frames: %s\n",
					strerror(-err));
				goto restore;
			}
			if (k)
				printf(
				    "| veth, 1 CPU | %-26s | mxwall %5.2f Mpps "
				    "| empty %5.2f Mpps | %5.2f | %llu of "
				    "%u frames seen, %.1f%% dropped\n",
				    f[i].name, mpps[1], mpps[0],
				    mpps[0] / mpps[1],
				    (unsigned long long)(c1.seen - c0.seen),
				    veth_frames,
				    c1.seen - c0.seen
					? 100.0 *
					      (double)(c1.dropped -
						       c0.dropped) /
					      (double)(c1.seen - c0.seen)
					: 0.0);
		}
	}
restore:
	sched_setaffinity(0, sizeof(saved), &saved);
	if (setns(self, CLONE_NEWNET))
		err = -errno;
out:
	if (self >= 0)
		close(self);
	if (nsfd >= 0)
		close(nsfd);
	sh("ip netns del %s 2>/dev/null", ns);
	fflush(stdout);
	return err;
}

static int bench_size(size_t n, struct mxbench_bpf *bs, bool last)
{
	struct table_mix tm;
	struct mx_entry *e;
	struct xh h;
	struct frame fr[3];
	struct pkt_opts o = {.family = 4};
	char src[3][INET_ADDRSTRLEN];
	struct mx_counters c0, c1;
	double t0, t1;
	__u32 a, ours = 0, empty = 0;
	int err, i, flood;

	t0 = now_s();
	err = xh_setup(&h, 0);
	t1 = now_s();
	if (err)
		goto out;
	e = make_table(n, &tm);
	if (n) {
		double ta = now_s(), ca = cpu_s();

		err = h.be.ops->apply(&h.be, e, n, NULL, 0);
		if (err) {
			fprintf(stderr, "apply %zu: %s\n", n, strerror(-err));
			free(e);
			goto out;
		}
		printf("# %zu entries (%zu v4 hosts, %zu v4 nets /16-/28, "
		       "%zu v6 hosts, %zu v6 /48): apply %.2f s wall, "
		       "%.2f s CPU (pin dir setup %.2f s)\n",
		       n, tm.hosts4, tm.nets4, tm.hosts6, tm.nets6,
		       now_s() - ta, cpu_s() - ca, t1 - t0);
	}
	free(e);

	/* the frames: a listed host, an unlisted one, non-SMTP traffic */
	a = htonl(mix(7));
	inet_ntop(AF_INET, &a, src[0], sizeof(src[0]));
	a = htonl(mix(0x40000000U));
	inet_ntop(AF_INET, &a, src[1], sizeof(src[1]));
	memcpy(src[2], src[0], sizeof(src[0]));
	fr[0].name = n ? "SYN, blocked host" : "SYN (empty table)";
	o.src = src[0];
	pkt_build(&fr[0].p, &o);
	fr[0].base = 0;
	fr[0].nsrc = tm.hosts4 ? (__u32)tm.hosts4 : 1U << 20;
	fr[1].name = "SYN, unlisted source";
	o.src = src[1];
	pkt_build(&fr[1].p, &o);
	fr[1].base = 0x40000000U;
	fr[1].nsrc = 1U << 20;
	fr[2].name = "non-SMTP (TCP ACK to 443)";
	o.src = src[2];
	o.dport = 443;
	o.flags = 0x10;
	pkt_build(&fr[2].p, &o);
	fr[2].base = 0;
	fr[2].nsrc = 1U << 20;

	for (flood = 0; flood < 2; flood++) {
		for (i = 0; i < 3; i++) {
			const char *check = "";
			char cbuf[96];

			if (!n && i == 0)
				continue;
			if (flood) {
				bs->bss->base = fr[i].base;
				bs->bss->nsrc = fr[i].nsrc;
			}
			counters(&h, &c0);
			err = measure(h.prog_fd,
				      bpf_program__fd(bs->progs.bench_empty),
				      &fr[i], flood ? flood_repeat : hot_repeat,
				      bs, flood, &ours, &empty);
			if (err) {
				fprintf(stderr, "test run: %s\n",
					strerror(-err));
				goto out;
			}
			counters(&h, &c1);
			if (i < 2 && n) {
				/* what the runs of ours did: proof of hits */
				double runs = (double)(c1.seen - c0.seen);

				snprintf(cbuf, sizeof(cbuf), "%.1f%% dropped",
					 runs ? 100.0 *
						    (double)(c1.dropped -
							     c0.dropped) /
						    runs
					      : 0.0);
				check = cbuf;
			}
			printf("| %9zu | %-5s | %-26s | %7u | %7u | %7d | "
			       "%5.2f | %s\n",
			       n, flood ? "flood" : "hot", fr[i].name, ours,
			       empty, (int)ours - (int)empty,
			       empty ? (double)ours / empty : 0.0, check);
			fflush(stdout);
		}
	}
	err = 0;
	if (do_veth && last) {
		printf("# veth pair, %u frames per run, a new source each "
		       "(1M unlisted, or the table's hosts)\n",
		       veth_frames);
		err = veth(&h, bs, fr, 2);
	}
out:
	xh_teardown(&h);
	return err;
}

int main(int argc, char **argv)
{
	size_t sizes[8] = {0, 1000, 100000, 1000000}, nsizes = 4, i;
	struct mxbench_bpf *bs;
	char *s, *tok;
	int c, err = 0;

	while ((c = getopt(argc, argv, "nqr:s:")) != -1) {
		switch (c) {
		case 'n':
			do_veth = false;
			break;
		case 'q':
			hot_repeat = 100000;
			flood_repeat = 1U << 17;
			veth_frames = 1U << 20;
			rounds = 3;
			break;
		case 'r':
			rounds = (unsigned int)atoi(optarg);
			if (rounds < 1 || rounds > 31) {
				fprintf(stderr, "-r %s: 1..31\n", optarg);
				return 2;
			}
			break;
		case 's':
			nsizes = 0;
			s = strdup(optarg);
			for (tok = strtok(s, ","); tok && nsizes < 8;
			     tok = strtok(NULL, ","))
				sizes[nsizes++] = strtoul(tok, NULL, 10);
			free(s);
			break;
		default:
			fprintf(stderr,
				"usage: bench_xdp [-n] [-q] [-r ROUNDS] "
				"[-s SIZE,...]\n");
			return 2;
		}
	}
	if (geteuid()) {
		fprintf(stderr, "bench_xdp: needs root\n");
		return 1;
	}
	bs = mxbench_bpf__open_and_load();
	if (!bs) {
		fprintf(stderr, "bench_xdp: cannot load the helper programs\n");
		return 1;
	}
	printf("# XDP program vs empty XDP_DROP, ns/packet, median of %u "
	       "interleaved rounds;\n# hot: %u repeats of one frame; flood: "
	       "%u runs, a new source each\n",
	       rounds, hot_repeat, flood_repeat);
	printf("| entries | pattern | packet | mxwall ns | empty ns | extra ns "
	       "| ratio | check\n|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < nsizes && !err; i++)
		err = bench_size(sizes[i], bs, i + 1 == nsizes);
	mxbench_bpf__destroy(bs);
	return err ? 1 : 0;
}
