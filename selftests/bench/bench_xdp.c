// SPDX-License-Identifier: GPL-2.0
/*
 * bench_xdp.c - ns per packet of the XDP program, of a reference design
 * (selftests/bench/mxref.bpf.c: per-CPU hash of hosts with the counters in
 * the value, LPM trie of netblocks), of the parser alone and of an empty
 * XDP_DROP program, through BPF_PROG_TEST_RUN with repeat, measured
 * interleaved in the same run (round by round, medians reported); and the
 * cost of one uncached memory read on this machine (a pointer chase over
 * 512 MiB, in every round of a row beside the programs), so that the
 * extra ns over the empty program read as reads of the same moments.
 *
 *  hot:   the same frame repeated (one source, caches warm);
 *  flood: every run a different source (bench_flood rewrites it and
 *         tail-calls the program under test; every program goes through
 *         the same wrapper), walking the table's hosts (hit) or 2^20
 *         unlisted sources (miss); IPv4 and IPv6.
 * Tables of 0, 1k, 100k and 1M entries: IPv4 hosts, IPv4 netblocks of
 * /16 to /28, IPv6 hosts (a tenth) and netblocks of /48 to /64 (mostly
 * /48); loaded with the real backend apply(), whose time is
 * reported too; the reference gets the same.
 *
 * veth: with the largest table, packets per second that one CPU drops
 * on a veth pair in a namespace of our own: bench_gen makes the frames
 * (live-frame BPF_PROG_TEST_RUN, a new source each, redirected into one
 * end), the other end runs the program under test in native mode, both
 * on the same CPU; the reference and the empty program are measured the
 * same way.
 *
 * usage: bench_xdp [-n] [-q] [-r ROUNDS] [-s SIZE,...]
 *   -n   no veth measurement
 *   -V   the veth measurement only (with the largest table)
 *   -q   quick: fewer repeats (a smoke run, numbers are rough)
 */
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/if_link.h>

#include "../prog/xdp_harness.h"
#include "mxbench.skel.h"
#include "mxref.skel.h"

static unsigned int rounds = 5;
static bool do_veth = true;
static bool veth_only;
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
	mx->hosts6 = n / 10;
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
			/* /48 mostly, every 4th one of /52-/64 (inside
			 * 2001:db8::/32, where the unlisted walk is: longer
			 * ones would cover most of it) */
			static const __u8 pl[] = {52, 56, 60, 64};
			size_t j = i - mx->hosts6;

			e[k].net.plen = j % 4 ? 48 : pl[(j / 4) % 4];
			e[k].net.addr[6] =
			    e[k].net.plen > 48 ? (__u8)(j >> 2) : 0;
			e[k].net.addr[7] = 0;
			if (e[k].net.plen == 52)
				e[k].net.addr[6] &= 0xf0;
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

enum { P_OURS, P_REF, P_PARSE, P_EMPTY, NPROG };
static const char *const prog_name[NPROG] = {"mxwall", "reference", "parse",
					     "empty"};

/*
 * The memory-latency probe: a random cyclic walk over 512 MiB of 64-byte
 * lines (Sattolo's shuffle), on transparent huge pages where the kernel
 * gives them (as the kernel's own direct map is), so a step is a memory
 * read, not a page walk. Made once; chase_ns() walks on from where the
 * last walk stopped, so it can be measured in every round beside the
 * programs: the machine's memory latency moves with what its neighbours
 * do, and a row's "reads" divides by the latency of the same moments.
 */
static struct {
	__u32 *next;
	size_t p;
} chase;

static int chase_init(void)
{
	const size_t lines = (512UL << 20) / 64;
	__u32 *perm = malloc(lines * 4), x = 12345;
	size_t i, j;

	chase.next = aligned_alloc(2UL << 20, lines * 64);
	if (!chase.next || !perm) {
		free(chase.next);
		free(perm);
		chase.next = NULL;
		return -ENOMEM;
	}
	madvise(chase.next, lines * 64, MADV_HUGEPAGE);
	for (i = 0; i < lines; i++)
		perm[i] = (__u32)i;
	for (i = lines - 1; i > 0; i--) { /* one cycle through every line */
		x = mix(x + (__u32)i);
		j = x % i;
		__u32 tmp = perm[i];
		perm[i] = perm[j];
		perm[j] = tmp;
	}
	for (i = 0; i < lines; i++)
		chase.next[(size_t)perm[i] * 16] = perm[(i + 1) % lines];
	free(perm);
	return 0;
}

/* chase_ns - ns of one dependent load that misses every cache, over steps
 * steps (after a warm-up of an eighth as many) */
static double chase_ns(size_t steps)
{
	volatile __u32 sink;
	size_t i, p = chase.p;
	double t0, t1;

	if (!chase.next)
		return 0;
	for (i = 0; i < steps / 8; i++)
		p = chase.next[p * 16];
	t0 = now_s();
	for (i = 0; i < steps; i++)
		p = chase.next[p * 16];
	t1 = now_s();
	sink = (__u32)p;
	(void)sink;
	chase.p = p;
	return (t1 - t0) * 1e9 / (double)steps;
}

/* steps of the probe in each round of a row: ~50 ms */
#define CHASE_ROUND_STEPS (1U << 18)

/*
 * measure - interleave ROUNDS runs of every program (same frame) and of
 * the memory-latency probe; the median per-packet ns of each program in
 * m[], the probe's median in *rd
 */
static double dmedian(double *v, unsigned int n);

static int measure(const int *fds, const struct frame *f, __u32 repeat,
		   struct mxbench_bpf *bs, bool flood, __u32 *m, double *rd)
{
	__u32 t[NPROG][32], ret, zero = 0;
	double tr[32];
	unsigned int r;
	int err, k;

	for (r = 0; r < rounds; r++) {
		tr[r] = chase_ns(CHASE_ROUND_STEPS);
		for (k = 0; k < NPROG; k++) {
			if (flood) {
				if (bpf_map_update_elem(
					bpf_map__fd(bs->maps.bench_jmp), &zero,
					&fds[k], BPF_ANY))
					return -errno;
				bs->bss->seq = 0;
			}
			err = xh_run(
			    flood ? bpf_program__fd(bs->progs.bench_flood)
				  : fds[k],
			    f->p.buf, f->p.len, repeat, &ret, &t[k][r]);
			if (err)
				return err;
		}
	}
	for (k = 0; k < NPROG; k++)
		m[k] = median(t[k], rounds);
	*rd = dmedian(tr, rounds);
	return 0;
}

static void counters(struct xh *h, struct mx_counters *c)
{
	struct mx_status st;

	memset(c, 0, sizeof(*c));
	if (!h->be.ops->status(&h->be, &st))
		*c = st.counters;
}

/* the reference design's map values, as mxref.bpf.c lays them out */
struct ref_host {
	__u64 packets, bytes, last_hit;
	__u32 action, pad;
};

struct ref_net {
	__u32 id, action;
};

/* the index of idx_xdp (mxref.bpf.c): 16 keys a line, at most 85% full */
#define IDX_SLOTS 16

static __u32 idx_nb_for(size_t hosts)
{
	return (__u32)(hosts * 100 / (IDX_SLOTS * 85) + 1);
}

/* idx_put - a into a free slot of line b of t; 1 if it found one */
static int idx_put(__u32 *t, __u32 b, __u32 a)
{
	int j;

	for (j = 0; j < IDX_SLOTS; j++)
		if (!t[b * IDX_SLOTS + (__u32)j]) {
			t[b * IDX_SLOTS + (__u32)j] = a;
			return 1;
		}
	return 0;
}

/* idx_fill - put the IPv4 hosts of e[] into idx_h4 (first free slot of
 * either line); how many found no room */
static size_t idx_fill(struct mxref_bpf *r, const struct mx_entry *e, size_t n,
		       __u32 nb)
{
	size_t sz = ((size_t)nb * IDX_SLOTS * 4 + 4095) & ~(size_t)4095, i;
	__u32 *t = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED,
			bpf_map__fd(r->maps.idx_h4), 0);
	size_t lost = 0;

	if (t == MAP_FAILED)
		return n;
	for (i = 0; i < n; i++) {
		__u32 a, h, b[2];
		int c, j, done = 0;

		if (e[i].net.family != AF_INET || e[i].net.plen != 32)
			continue;
		memcpy(&a, e[i].net.addr, 4);
		a = ntohl(a);
		h = mix(a);
		b[0] = (__u32)(((__u64)h * nb) >> 32);
		b[1] = (__u32)(((__u64)mix(h ^ 0x5bd1e995U) * nb) >> 32);
		for (c = 0; c < 2 && !done; c++)
			done = idx_put(t, b[c], a);
		/* one relocation step: a key of the first line to its other */
		for (j = 0; j < IDX_SLOTS && !done; j++) {
			__u32 o = t[b[0] * IDX_SLOTS + (__u32)j], ho = mix(o);
			__u32 o1 = (__u32)(((__u64)ho * nb) >> 32);
			__u32 o2 =
			    (__u32)(((__u64)mix(ho ^ 0x5bd1e995U) * nb) >> 32);

			if (idx_put(t, o1 == b[0] ? o2 : o1, o)) {
				t[b[0] * IDX_SLOTS + (__u32)j] = a;
				done = 1;
			}
		}
		lost += !done;
	}
	munmap(t, sz);
	return lost;
}

/* idx_nm_for - counters per CPU of mxwall's IPv4 table for n entries: the
 * first tables of 1024 grown fourfold, two slots per entry */
static __u32 idx_nm_for(size_t n)
{
	__u32 cap = MX_V4_CAP_DEFAULT;

	while (cap < n)
		cap *= MX_CAP_GROWTH;
	return cap * 2;
}

/* idx_fill_pos - each index slot's position in idx_m4: spread over it */
static int idx_fill_pos(struct mxref_bpf *r, __u32 nb, __u32 nm)
{
	size_t sz = ((size_t)nb * IDX_SLOTS * 4 + 4095) & ~(size_t)4095, i;
	__u32 *t = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED,
			bpf_map__fd(r->maps.idx_p4), 0);

	if (t == MAP_FAILED)
		return -1;
	for (i = 0; i < (size_t)nb * IDX_SLOTS; i++)
		t[i] = mix((__u32)i ^ 0x2545f491U) % nm;
	munmap(t, sz);
	return 0;
}

/* ref_load - the reference design with the same entries (all drop) */
static struct mxref_bpf *ref_load(const struct mx_entry *e, size_t n)
{
	struct mxref_bpf *r = mxref_bpf__open();
	int ncpu = libbpf_num_possible_cpus(), f;
	size_t i, k, nh[2] = {0, 0}, nn = 0;
	__u32 id = 0;

	if (!r || ncpu < 1)
		return NULL;
	for (i = 0; i < n; i++) {
		f = e[i].net.family == AF_INET6;
		if (e[i].net.plen == (f ? 128 : 32))
			nh[f]++;
		else
			nn++;
	}
	bpf_map__set_max_entries(r->maps.ref_h4, nh[0] ? (__u32)nh[0] : 1);
	bpf_map__set_max_entries(r->maps.ref_h6, nh[1] ? (__u32)nh[1] : 1);
	bpf_map__set_max_entries(r->maps.ref_t4, nn ? (__u32)nn : 1);
	bpf_map__set_max_entries(r->maps.ref_t6, nn ? (__u32)nn : 1);
	bpf_map__set_max_entries(r->maps.ref_ctr, nn ? (__u32)nn : 1);
	r->rodata->idx_nb = idx_nb_for(nh[0]);
	bpf_map__set_max_entries(r->maps.idx_h4, r->rodata->idx_nb);
	bpf_map__set_max_entries(r->maps.idx_c4,
				 r->rodata->idx_nb * IDX_SLOTS * (__u32)ncpu);
	bpf_map__set_max_entries(r->maps.idx_p4, r->rodata->idx_nb * IDX_SLOTS);
	/* as many counters as mxwall's mx_c4 has for this many entries */
	r->rodata->idx_nm = idx_nm_for(n);
	bpf_map__set_max_entries(r->maps.idx_m4,
				 r->rodata->idx_nm * (__u32)ncpu);
	if (mxref_bpf__load(r))
		goto fail;
	if (idx_fill(r, e, n, r->rodata->idx_nb) ||
	    idx_fill_pos(r, r->rodata->idx_nb, r->rodata->idx_nm)) {
		fprintf(stderr, "index: hosts left out, or cannot map it\n");
		goto fail;
	}
	for (f = 0; f < 2; f++) {
		size_t klen = f ? 16 : 4, vlen = sizeof(struct ref_host);
		char *keys = calloc(nh[f] + 1, klen);
		struct ref_host *vals =
		    calloc((nh[f] + 1) * (size_t)ncpu, vlen);
		__u32 cnt = 0;
		int c, err;

		if (!keys || !vals) {
			free(keys);
			free(vals);
			goto fail;
		}
		for (i = 0, k = 0; i < n; i++) {
			if ((e[i].net.family == AF_INET6) != f ||
			    e[i].net.plen != (f ? 128 : 32))
				continue;
			memcpy(keys + k * klen, e[i].net.addr, klen);
			for (c = 0; c < ncpu; c++)
				vals[k * (size_t)ncpu + (size_t)c].action = 1;
			k++;
		}
		cnt = (__u32)k;
		err = k ? bpf_map_update_batch(
			      bpf_map__fd(f ? r->maps.ref_h6 : r->maps.ref_h4),
			      keys, vals, &cnt, NULL)
			: 0;
		free(keys);
		free(vals);
		if (err) {
			fprintf(stderr, "reference: hosts: %s\n",
				strerror(errno));
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		struct ref_net v = {id, 1};
		struct {
			__u32 plen;
			__u8 addr[16];
		} key = {e[i].net.plen, {0}};
		int v6 = e[i].net.family == AF_INET6;

		if (e[i].net.plen == (v6 ? 128 : 32))
			continue;
		memcpy(key.addr, e[i].net.addr, v6 ? 16 : 4);
		if (bpf_map_update_elem(
			bpf_map__fd(v6 ? r->maps.ref_t6 : r->maps.ref_t4), &key,
			&v, BPF_ANY)) {
			fprintf(stderr, "reference: nets: %s\n",
				strerror(errno));
			goto fail;
		}
		id++;
	}
	return r;
fail:
	mxref_bpf__destroy(r);
	return NULL;
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
	bs->bss->v6 = 0;
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

/* prog_time - run count and total run time of a program (BPF stats on) */
static void prog_time(int fd, __u64 *cnt, __u64 *ns)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	*cnt = *ns = 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		*cnt = info.run_cnt;
		*ns = info.run_time_ns;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double dmedian(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* rate - Mpps of a program that takes ns a frame */
static double rate(double ns)
{
	return ns > 0 ? 1e3 / ns : 0.0;
}

/* the programs of the veth measurement, in the order they run */
enum { V_EMPTY, V_OURS, V_REF, V_IDX, V_IDXC, V_IDXP, NV };

/*
 * veth_one - flood f through program pfd attached to ifb: the rate of the
 * generator (*mpps, BPF stats off), then the program's own ns per frame
 * (*pns, a second pass with BPF stats on; they cost two clock reads a
 * run, so they stay off for the first); the mxwall counters around the
 * first pass into c0/c1 when h is given
 */
static int veth_one(struct xh *h, struct mxbench_bpf *bs, int pfd, int ifa,
		    int ifb, const struct frame *f, __u32 frames, double *mpps,
		    double *pns, struct mx_counters *c0, struct mx_counters *c1)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);
	__u64 r0, r1, t0, t1;
	int lfd, sfd, err;
	double dummy;

	lfd = bpf_link_create(pfd, ifb, BPF_XDP, &lo);
	if (lfd < 0) {
		fprintf(stderr, "veth: attach: %s\n", strerror(errno));
		return -errno;
	}
	if (h)
		counters(h, c0);
	err = gen_run(bs, f, ifa, frames, mpps);
	if (h)
		counters(h, c1);
	sfd = err ? -1 : bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (!err && sfd < 0) {
		err = -errno;
		fprintf(stderr, "veth: BPF stats: %s\n", strerror(errno));
	}
	if (!err) {
		prog_time(pfd, &r0, &t0);
		err = gen_run(bs, f, ifa, frames / 4, &dummy);
		prog_time(pfd, &r1, &t1);
		*pns = r1 > r0 ? (double)(t1 - t0) / (double)(r1 - r0) : 0.0;
	}
	if (sfd >= 0)
		close(sfd);
	close(lfd);
	if (err)
		fprintf(stderr, "veth: live frames: %s\n", strerror(-err));
	return err;
}

/*
 * veth - Mpps dropped by one CPU on a veth pair (generator and receiver on
 * the same CPU), for the empty program, ours, the reference and the index
 * floor (idx_xdp), floods of f[]
 */
static int veth(struct xh *h, struct mxbench_bpf *bs, struct mxref_bpf *ref,
		const struct frame *f, int nf)
{
	char ns[64], path[128];
	int self = -1, nsfd = -1, ifa, ifb, i, k, err = 0;
	struct mx_counters c0, c1;
	cpu_set_t cpus, saved;
	double mpps[NV], pns[NV], vm[NV][32], vp[NV][32];
	__u32 frames = veth_frames / rounds;
	unsigned long long seen, dropped;
	unsigned int r;
	int pfd[NV];

	pfd[V_EMPTY] = bpf_program__fd(bs->progs.bench_empty);
	pfd[V_OURS] = h->prog_fd;
	pfd[V_REF] = bpf_program__fd(ref->progs.ref_xdp);
	pfd[V_IDX] = bpf_program__fd(ref->progs.idx_xdp);
	pfd[V_IDXC] = bpf_program__fd(ref->progs.idx_ctr_xdp);
	pfd[V_IDXP] = bpf_program__fd(ref->progs.idx_pos_xdp);
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
		/* rounds interleaved, medians reported: the machine's noise
		 * falls on every program alike */
		seen = dropped = 0;
		for (r = 0; r < rounds && !err; r++) {
			for (k = 0; k < NV && !err; k++)
				err = veth_one(k == V_OURS ? h : NULL, bs,
					       pfd[k], ifa, ifb, &f[i], frames,
					       &vm[k][r], &vp[k][r], &c0, &c1);
			seen += c1.seen - c0.seen;
			dropped += c1.dropped - c0.dropped;
		}
		if (err)
			break;
		for (k = 0; k < NV; k++) {
			mpps[k] = dmedian(vm[k], rounds);
			pns[k] = dmedian(vp[k], rounds);
		}
		printf(
		    "| veth, 1 CPU | %-26s | frames/s  | mxwall %5.2f Mpps | "
		    "reference %5.2f Mpps | %4.2fx | empty %5.2f Mpps | "
		    "mxwall saw %llu of %u frames, %.1f%% dropped\n",
		    f[i].name, mpps[V_OURS], mpps[V_REF],
		    mpps[V_REF] > 0 ? mpps[V_OURS] / mpps[V_REF] : 0.0,
		    mpps[V_EMPTY], seen, frames * rounds,
		    seen ? 100.0 * (double)dropped / (double)seen : 0.0);
		printf(
		    "| veth, 1 CPU | %-26s | program   | mxwall %5.2f Mpps | "
		    "reference %5.2f Mpps | %4.2fx | empty %5.2f Mpps | ns a "
		    "frame: mxwall %.0f, reference %.0f, empty %.0f\n",
		    f[i].name, rate(pns[V_OURS]), rate(pns[V_REF]),
		    pns[V_OURS] > 0 ? pns[V_REF] / pns[V_OURS] : 0,
		    rate(pns[V_EMPTY]), pns[V_OURS], pns[V_REF], pns[V_EMPTY]);
		printf("| veth, 1 CPU | %-26s | sticks    | index floor %5.2f "
		       "Mpps (%.0f ns) | + counters by index slot %5.2f Mpps "
		       "(%.0f ns) | + counters by table slot %5.2f Mpps (%.0f "
		       "ns)\n",
		       f[i].name, rate(pns[V_IDX]), pns[V_IDX],
		       rate(pns[V_IDXC]), pns[V_IDXC], rate(pns[V_IDXP]),
		       pns[V_IDXP]);
	}
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

/* one measured case: a frame, hot or a flood walk */
struct bcase {
	const char *name;
	int family;
	bool flood;
	bool hit;     /* expected to hit (0 entries: skipped) */
	char src[64]; /* hot: the source */
	__u32 base, nsrc;
	__u16 dport;
	__u8 flags;
};

static int bench_size(size_t n, struct mxbench_bpf *bs, bool last)
{
	struct table_mix tm;
	struct mx_entry *e;
	struct mxref_bpf *ref = NULL;
	struct xh h;
	struct bcase bc[16];
	struct frame fr;
	struct mx_counters c0, c1;
	double t0, t1;
	__u32 a, m[NPROG];
	__u8 a6[16] = {0x20, 0x01, 0x0d, 0xb8};
	int err, i, nb = 0, fds[NPROG];

	t0 = now_s();
	err = xh_setup(&h, 0);
	t1 = now_s();
	if (err)
		goto out;
	e = make_table(n, &tm);
	if (n) {
		double ta = now_s(), ca = cpu_s(), wa, wc;

		err = h.be.ops->apply(&h.be, e, n, NULL, 0);
		if (err) {
			fprintf(stderr, "apply %zu: %s\n", n, strerror(-err));
			free(e);
			goto out;
		}
		wa = now_s() - ta;
		wc = cpu_s() - ca;
		/* the tables grew past their first size: the program loaded
		 * before uses the old maps (an attached interface would have
		 * been switched by apply(); ours is not attached) */
		err = xh_reload(&h);
		if (err) {
			fprintf(stderr, "reload: %s\n", strerror(-err));
			free(e);
			goto out;
		}
		printf("# %zu entries (%zu v4 hosts, %zu v4 nets /16-/28, "
		       "%zu v6 hosts, %zu v6 nets /48-/64): apply %.2f s wall, "
		       "%.2f s CPU (pin dir setup %.2f s)\n",
		       n, tm.hosts4, tm.nets4, tm.hosts6, tm.nets6, wa, wc,
		       t1 - t0);
	}
	ref = ref_load(e, n);
	free(e);
	if (!ref) {
		fprintf(stderr, "cannot load the reference design\n");
		err = -1;
		goto out;
	}
	fds[P_OURS] = h.prog_fd;
	fds[P_REF] = bpf_program__fd(ref->progs.ref_xdp);
	fds[P_PARSE] = bpf_program__fd(ref->progs.parse_xdp);
	fds[P_EMPTY] = bpf_program__fd(bs->progs.bench_empty);

	/* the cases: sources as make_table() makes them */
	memset(bc, 0, sizeof(bc));
	a = htonl(mix(7));
	inet_ntop(AF_INET, &a, bc[nb].src, sizeof(bc[nb].src));
	bc[nb++] = (struct bcase){
	    "v4 SYN, blocked host", 4, false, true, {0}, 0, 0, 0, 0};
	inet_ntop(AF_INET, &a, bc[nb - 1].src, sizeof(bc[nb - 1].src));
	a = htonl((mix(0x80000000U + 1) & ~(0xffffffffU >> 22)) | 0x155);
	bc[nb] = (struct bcase){
	    "v4 SYN, blocked /22", 4, false, true, {0}, 0, 0, 0, 0};
	inet_ntop(AF_INET, &a, bc[nb++].src, sizeof(bc[0].src));
	a = htonl(mix(0x40000000U));
	bc[nb] = (struct bcase){
	    "v4 SYN, unlisted", 4, false, false, {0}, 0, 0, 0, 0};
	inet_ntop(AF_INET, &a, bc[nb++].src, sizeof(bc[0].src));
	a = htonl(mix(7));
	bc[nb] = (struct bcase){
	    "v4 ACK to 443 (not SMTP)", 4, false, false, {0}, 0, 0, 443, 0x10};
	inet_ntop(AF_INET, &a, bc[nb++].src, sizeof(bc[0].src));
	a = htonl(mix(0x40000000U + 3));
	memcpy(a6 + 4, &a, 4);
	a6[15] = 1;
	bc[nb] = (struct bcase){
	    "v6 SYN, blocked host", 6, false, true, {0}, 0, 0, 0, 0};
	inet_ntop(AF_INET6, a6, bc[nb++].src, sizeof(bc[0].src));
	a = htonl(mix(0x40000000U + (__u32)tm.hosts6 + 1));
	memcpy(a6 + 4, &a, 4);
	a6[6] = 0x12;
	a6[7] = 0x34;
	bc[nb] = (struct bcase){
	    "v6 SYN, blocked /48", 6, false, true, {0}, 0, 0, 0, 0};
	inet_ntop(AF_INET6, a6, bc[nb++].src, sizeof(bc[0].src));
	a = htonl(mix(0xc0000000U));
	memcpy(a6 + 4, &a, 4);
	bc[nb] = (struct bcase){
	    "v6 SYN, unlisted", 6, false, false, {0}, 0, 0, 0, 0};
	inet_ntop(AF_INET6, a6, bc[nb++].src, sizeof(bc[0].src));
	/* floods: the walk writes the source (v6: bytes 4..7, byte 15 = 1) */
	bc[nb++] = (struct bcase){
	    "v4 SYN, blocked hosts", 4, true, true, "192.0.2.1", 0,
	    (__u32)tm.hosts4,	     0, 0};
	bc[nb++] = (struct bcase){
	    "v4 SYN, unlisted", 4,	  true, false, "192.0.2.1",
	    0x40000000U,	1U << 20, 0,	0};
	bc[nb++] = (struct bcase){
	    "v6 SYN, blocked hosts", 6, true, true, "2001:db8::1", 0x40000000U,
	    (__u32)tm.hosts6,	     0, 0};
	bc[nb++] = (struct bcase){
	    "v6 SYN, unlisted", 6,	  true, false, "2001:db8::1",
	    0xc0000000U,	1U << 20, 0,	0};

	for (i = 0; i < nb && !veth_only; i++) {
		struct pkt_opts o = {.family = bc[i].family,
				     .src = bc[i].src,
				     .dport = bc[i].dport,
				     .flags = bc[i].flags};
		char check[96] = "";
		double runs, rd = 0;
		int k;

		if (bc[i].hit && (!n || (bc[i].flood && !bc[i].nsrc)))
			continue;
		memset(&fr, 0, sizeof(fr));
		fr.name = bc[i].name;
		if (pkt_build(&fr.p, &o)) {
			fprintf(stderr, "%s: cannot build %s\n", bc[i].name,
				bc[i].src);
			err = -1;
			goto out;
		}
		bs->bss->base = bc[i].base;
		bs->bss->nsrc = bc[i].nsrc;
		bs->bss->v6 = bc[i].family == 6;
		counters(&h, &c0);
		err = measure(fds, &fr, bc[i].flood ? flood_repeat : hot_repeat,
			      bs, bc[i].flood, m, &rd);
		if (err) {
			fprintf(stderr, "test run: %s\n", strerror(-err));
			goto out;
		}
		counters(&h, &c1);
		runs = (double)(c1.seen - c0.seen);
		if (!bc[i].dport)
			snprintf(check, sizeof(check), "%.1f%% dropped",
				 runs ? 100.0 *
					    (double)(c1.dropped - c0.dropped) /
					    runs
				      : 0.0);
		printf("| %7zu | %-5s | %-24s |", n,
		       bc[i].flood ? "flood" : "hot", bc[i].name);
		for (k = 0; k < NPROG; k++)
			printf(" %5u |", m[k]);
		printf(" %+5d | %+5d | %5.2f | %4.0f | %5.2f | %s\n",
		       (int)m[P_OURS] - (int)m[P_EMPTY],
		       (int)m[P_REF] - (int)m[P_EMPTY],
		       m[P_REF] > m[P_EMPTY]
			   ? ((double)m[P_OURS] - m[P_EMPTY]) /
				 ((double)m[P_REF] - m[P_EMPTY])
			   : 0.0,
		       rd, rd > 0 ? ((double)m[P_OURS] - m[P_EMPTY]) / rd : 0.0,
		       check);
		fflush(stdout);
	}
	err = 0;
	if (do_veth && last) {
		struct frame vf[2];
		struct pkt_opts o = {.family = 4, .src = "192.0.2.1"};

		memset(vf, 0, sizeof(vf));
		vf[0].name = "SYN flood, blocked hosts";
		pkt_build(&vf[0].p, &o);
		vf[0].base = 0;
		vf[0].nsrc = tm.hosts4 ? (__u32)tm.hosts4 : 1U << 20;
		vf[1].name = "SYN flood, 1M unlisted";
		pkt_build(&vf[1].p, &o);
		vf[1].base = 0x40000000U;
		vf[1].nsrc = 1U << 20;
		printf("# veth pair, %u frames per run, a new IPv4 source "
		       "each\n",
		       veth_frames);
		err = veth(&h, bs, ref, vf, 2);
	}
out:
	if (ref)
		mxref_bpf__destroy(ref);
	xh_teardown(&h);
	return err;
}

int main(int argc, char **argv)
{
	size_t sizes[8] = {0, 1000, 100000, 1000000}, nsizes = 4, i;
	struct mxbench_bpf *bs;
	char *s, *tok;
	int c, err = 0;

	while ((c = getopt(argc, argv, "nqr:s:V")) != -1) {
		switch (c) {
		case 'n':
			do_veth = false;
			break;
		case 'V':
			veth_only = true;
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
				"usage: bench_xdp [-n] [-q] [-V] [-r ROUNDS] "
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
	if (chase_init()) {
		fprintf(stderr, "bench_xdp: no memory for the latency probe\n");
		return 1;
	}
	printf("# ns/packet, median of %u interleaved rounds; hot: %u "
	       "repeats of one frame; flood: %u runs, a new source each\n"
	       "# one uncached read (pointer chase over 512 MiB, %u steps in "
	       "every round of a row, beside the programs): %.0f ns at the "
	       "start\n"
	       "# extra = over the empty program; ratio = mxwall extra / "
	       "reference extra; read = the row's probe (median); reads = "
	       "mxwall extra / read\n",
	       rounds, hot_repeat, flood_repeat, CHASE_ROUND_STEPS,
	       chase_ns(8U << 20));
	printf("| entries | run | packet | %s | %s | %s | %s | mxwall extra | "
	       "ref extra | ratio | read | reads | mxwall's verdicts\n"
	       "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
	       prog_name[0], prog_name[1], prog_name[2], prog_name[3]);
	for (i = veth_only ? nsizes - 1 : 0; i < nsizes && !err; i++)
		err = bench_size(sizes[i], bs, i + 1 == nsizes);
	mxbench_bpf__destroy(bs);
	return err ? 1 : 0;
}
