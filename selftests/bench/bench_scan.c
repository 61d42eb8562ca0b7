// SPDX-License-Identifier: GPL-2.0
/*
 * bench_scan.c - parser throughput: read a log into memory, then feed
 * every line to one scanner and time only the scanner (one core).
 * Prints "lines, events, seconds, lines/s". Used by bench_scan.sh.
 *
 * usage: bench_scan LOGFILE [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxwall.h"
#include "scan.h"

__attribute__((weak)) struct mx_globals_opt mx_opt;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct scan_opts o = { NULL, 0, 0 };
	struct scan_event ev;
	struct scanner *s;
	char *buf, *p, *e, *nl;
	size_t cap = 1 << 20, len = 0, n;
	unsigned long long lines = 0, events = 0;
	int rounds = argc > 2 ? atoi(argv[2]) : 3, r;
	double t0, best = 0;
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_scan LOGFILE [ROUNDS]\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	buf = xmalloc(cap);
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap)
			buf = xreallocarray(buf, cap *= 2, 1);
	}
	fclose(f);
	for (r = 0; r < (rounds > 0 ? rounds : 1); r++) {
		s = scanner_new(&o);
		lines = events = 0;
		t0 = now();
		for (p = buf, e = buf + len; p < e; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(e - p));
			if (!nl)
				nl = e;
			events += (unsigned long long)scanner_feed(
				s, p, (size_t)(nl - p), &ev);
			lines++;
		}
		t0 = now() - t0;
		if (!r || t0 < best)
			best = t0;
		scanner_free(s);
	}
	printf("lines %llu events %llu seconds %.3f lines/s %.0f\n", lines,
	       events, best, (double)lines / best);
	free(buf);
	return 0;
}
