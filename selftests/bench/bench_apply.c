// SPDX-License-Identifier: GPL-2.0
/*
 * bench_apply.c - the cost of changing the XDP backend's table with the
 * real backend_xdp apply(), at the default capacity, in a pin directory of
 * our own (nothing attached):
 *  - a bulk load of N entries (default 1M: IPv4 hosts, 1% netblocks, a
 *    few IPv6), wall and CPU seconds;
 *  - then single-entry applies over that table, 100 of each: add a host,
 *    delete it, add a /20, delete it; median and max in ms;
 *  - the kernel memory of the filter's maps (the memlock the kernel
 *    reports for each pinned map), empty and loaded, and the time
 *    `bpftool map dump` takes on each map an administrator would read.
 *
 * usage: bench_apply [-n ENTRIES] [-t TRIALS]
 */
#include <getopt.h>
#include <time.h>

#include "../prog/xdp_harness.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static __u32 mix(__u32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void set4(struct mx_entry *e, __u32 a, int plen)
{
	memset(e, 0, sizeof(*e));
	e->net.family = AF_INET;
	e->net.plen = (uint8_t)plen;
	if (plen < 32)
		a &= ~(0xffffffffU >> plen);
	a = htonl(a);
	memcpy(e->net.addr, &a, 4);
	e->action = MX_ACT_DROP;
	e->origin = MX_ORIGIN_DYNAMIC;
	snprintf(e->tags, sizeof(e->tags), "a");
}

/* one_kind - trials of add then delete of one entry; medians and maxima */
static int one_kind(struct xh *h, const char *what, int plen, int trials)
{
	double *ta = calloc(trials, sizeof(double));
	double *td = calloc(trials, sizeof(double));
	struct mx_entry e;
	double t0;
	int i, err;

	for (i = 0; i < trials; i++) {
		/* 100.64.0.0/10 is not used by the bulk load */
		set4(&e, 0x64400000U + ((__u32)i << 12) + 5, plen);
		t0 = now_s();
		err = h->be.ops->apply(&h->be, &e, 1, NULL, 0);
		ta[i] = (now_s() - t0) * 1e3;
		if (err)
			goto fail;
		t0 = now_s();
		err = h->be.ops->apply(&h->be, NULL, 0, &e.net, 1);
		td[i] = (now_s() - t0) * 1e3;
		if (err)
			goto fail;
	}
	qsort(ta, trials, sizeof(double), cmp_d);
	qsort(td, trials, sizeof(double), cmp_d);
	printf("single %-8s add: median %.3f ms, max %.3f ms; delete: median "
	       "%.3f ms, max %.3f ms (%d trials)\n",
	       what, ta[trials / 2], ta[trials - 1], td[trials / 2],
	       td[trials - 1], trials);
	free(ta);
	free(td);
	return 0;
fail:
	printf("bench_apply: %s apply: %s\n", what, strerror(-err));
	free(ta);
	free(td);
	return err;
}

/* map_memlock - the kernel memory of one map, from its fdinfo */
static unsigned long long map_memlock(int fd)
{
	unsigned long long v = 0;
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static const char *const filter_maps[] = {
    MX_MAP_CFG, MX_MAP_STATS, MX_MAP_T4, MX_MAP_T6,   MX_MAP_C4,   MX_MAP_C6,
    MX_MAP_BM4, MX_MAP_BM6,   MX_MAP_BL, MX_MAP_META, MX_MAP_TAGS,
};

/* memory - the filter's kernel memory now, map by map */
static void memory(struct xh *h, const char *when)
{
	unsigned long long sum = 0, v;
	char path[256];
	size_t i;
	int fd;

	printf("kernel memory, %s:", when);
	for (i = 0; i < sizeof(filter_maps) / sizeof(filter_maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", h->pin_dir,
			 filter_maps[i]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		v = map_memlock(fd);
		close(fd);
		sum += v;
		printf(" %s %.1f", filter_maps[i], (double)v / (1 << 20));
	}
	printf(" -> %.1f MiB on %d CPUs\n", (double)sum / (1 << 20),
	       libbpf_num_possible_cpus());
}

/* dump_time - seconds `bpftool map dump` takes on one pinned map */
static void dump_time(struct xh *h, const char *name)
{
	char cmd[512];
	double t0 = now_s();
	int rc;

	snprintf(cmd, sizeof(cmd),
		 "bpftool map dump pinned %s/%s >/dev/null 2>&1", h->pin_dir,
		 name);
	rc = system(cmd);
	printf("bpftool map dump %s: %.1f s%s\n", name, now_s() - t0,
	       rc ? " (failed)" : "");
}

int main(int argc, char **argv)
{
	size_t n = 1000000, i;
	int trials = 100, c, err, rc = 1;
	struct mx_entry *v;
	struct xh h;
	double t0, c0;

	while ((c = getopt(argc, argv, "n:t:")) != -1) {
		if (c == 'n')
			n = strtoul(optarg, NULL, 0);
		else if (c == 't')
			trials = atoi(optarg);
		else
			return 2;
	}
	if (trials < 1)
		trials = 1;
	if (geteuid()) {
		printf("bench_apply: needs root\n");
		return 1;
	}
	if (xh_setup(&h, 0)) {
		printf("bench_apply: cannot set up the table\n");
		xh_teardown(&h);
		return 1;
	}
	memory(&h, "empty filter");
	v = calloc(n ? n : 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		__u32 r = mix((__u32)i * 2654435761U + 1);

		/* avoid 100.64.0.0/10, where the single applies go */
		if ((r & 0xffc00000U) == 0x64400000U)
			r ^= 0x80000000U;
		if (i % 200 == 1) {
			v[i].net.family = AF_INET6;
			v[i].net.plen = 128;
			v[i].net.addr[0] = 0x20;
			v[i].net.addr[1] = 0x01;
			memcpy(v[i].net.addr + 12, &r, 4);
			v[i].action = MX_ACT_DROP;
			v[i].origin = MX_ORIGIN_STATIC;
			continue;
		}
		set4(&v[i], r, i % 100 == 3 ? 16 + (int)(i / 100 % 13) : 32);
		v[i].origin = MX_ORIGIN_STATIC;
		v[i].tags[0] = '\0';
	}
	t0 = now_s();
	c0 = cpu_s();
	err = h.be.ops->apply(&h.be, v, n, NULL, 0);
	if (err) {
		printf("bench_apply: bulk load: %s\n", strerror(-err));
		goto out;
	}
	printf("bulk load of %zu entries: %.2f s wall, %.2f s CPU\n", n,
	       now_s() - t0, cpu_s() - c0);
	memory(&h, "loaded");
	for (i = 0; i < sizeof(filter_maps) / sizeof(filter_maps[0]); i++)
		dump_time(&h, filter_maps[i]);
	if (one_kind(&h, "host", 32, trials) || one_kind(&h, "/20", 20, trials))
		goto out;
	rc = 0;
out:
	free(v);
	xh_teardown(&h);
	return rc;
}
