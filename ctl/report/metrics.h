/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metrics.h - the Prometheus text exposition of mxwall's state, for
 * node_exporter's textfile collector ("mxwall metrics").
 *
 * metrics_format() is pure: it prints what it is given, so a unit test can
 * hold its output to the format (HELP and TYPE before each family, label
 * values escaped, names prefixed mxwall_). Families whose source was not
 * available (no database, no log positions) are left out rather than
 * printed as zero: an absent series reads as "unknown", a zero as "none".
 * Callers: metrics.c (cmd_metrics), selftests/unit/test_metrics.c.
 */
#ifndef MXWALL_METRICS_H
#define MXWALL_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/backend.h"

/* how far the controller is behind one log */
struct metrics_lag {
	const char *log; /* path as configured; "-" for stdin */
	double seconds;	 /* age of the oldest unread line, 0 if none */
	uint64_t bytes;	 /* file size minus the read position */
};

struct metrics_input {
	const struct mx_status *st; /* global counters, entries by origin */
	bool have_db;		    /* promotions/expiries are known */
	uint64_t promotions;	    /* total, from the database */
	uint64_t expiries;
	const struct mx_entry *top; /* the top N by packets, sorted */
	size_t ntop;
	const struct metrics_lag *lag; /* one per log the watcher follows */
	size_t nlag;
	bool controller_up; /* an mxwall watch runs on this state */
};

void metrics_format(FILE *f, const struct metrics_input *in);
/* metrics_label - a label value escaped as the text format wants */
void metrics_label(FILE *f, const char *s);

/*
 * metrics_run - `mxwall metrics`: to out (NULL, "-": stdout); the backend
 * and state directory as bo says; exit status
 */
int metrics_run(const struct backend_opts *bo, const char *conf,
		const char *out);

#endif /* MXWALL_METRICS_H */
