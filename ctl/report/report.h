/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report.h - the weekly report ("mxwall report") and the weekly reset.
 *
 * The week: it starts at the last reset, whose time and global counters
 * are kept in $state_dir/report-week (the baseline), and ends now. The
 * totals of the report are the counters now minus the baseline. Per-day
 * drops come from daily snapshots of the global dropped counter in
 * $state_dir/report-days: report_note_day() records the first observation
 * of each local day; `report`, `metrics` and `watch` call it, so the split
 * between days is as fine as the most frequent of them runs.
 *
 * The reset is crash-safe through a marker file in the report directory
 * (reset.c says how). The printers are pure so that golden files hold
 * them to their format.
 * Callers: cmd/report.c (cmd_report), metrics.c, watch/sync.c
 * (report_note_day), selftests/unit/test_report*.c.
 */
#ifndef MXWALL_REPORT_H
#define MXWALL_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/backend.h"

struct mx_db;

/* drops of one local day (or of a run of days without a snapshot) */
struct report_day {
	int64_t start; /* local midnight of the first day */
	int64_t end;   /* local midnight after the last day */
	uint64_t dropped;
};

struct report {
	int64_t from; /* last reset; 0 = none recorded yet */
	int64_t to;   /* when the report was made */
	char host[256];
	struct mx_counters totals; /* this week */
	size_t entries_static;
	size_t entries_dynamic;
	int64_t promotions;	 /* this week; -1 = unknown (no database) */
	struct report_day *days; /* oldest first */
	size_t ndays;
	struct mx_entry *rows; /* sorted by packets, cut to top */
	size_t nrows;
	uint64_t top;	/* N asked for; 0 = all */
	const char *by; /* "/24", "/16", "/48" or NULL */
};

/* a snapshot of the global counters at a time */
struct report_snap {
	int64_t at;
	struct mx_counters c;
};

void report_print_text(FILE *f, const struct report *r);
void report_print_json(FILE *f, const struct report *r);

/*
 * report_split_days - per-day drops over [from, to] from the baseline
 * (first), the daily snapshots between, and the counters at to (last).
 * A counter that went down (the data path was re-created) counts from
 * zero. *out is the caller's to free. Returns the number of days.
 */
size_t report_split_days(const struct report_snap *snaps, size_t n,
			 struct report_day **out);

/* report_note_day - record c as today's snapshot unless there is one */
int report_note_day(const char *state_dir, const struct mx_counters *c,
		    int64_t now);

/* what cmd_report does, for tests that bring their own backend */
struct report_opts {
	uint64_t top;		   /* -n */
	unsigned int v4len, v6len; /* --by */
	const char *by;
	bool reset;
	bool json;
	const char *out; /* --out FILE, NULL: stdout */
	const char *state_dir;
	const char *report_dir; /* archive */
	const char *mail_to;	/* NULL: no mail */
	const char *sendmail;	/* NULL: find it */
	int64_t now;		/* 0: time(NULL) */
};

/*
 * report_run - build and print the report; with reset, archive it, mail
 * it and clear the week (reset.c). db may be NULL. Returns an exit
 * status, having logged what went wrong.
 */
int report_run(const struct report_opts *o, struct backend *be,
	       struct mx_db *db);

/*
 * shared by report, stats and metrics: the config (path NULL: the default
 * file if it exists, else defaults) and the controller's database in
 * state_dir (unless the config names one; NULL when it does not exist
 * yet). Both log and return an exit status.
 */
struct mx_config;
int report_load_config(const char *cmd, const char *path, struct mx_config *c);
int report_open_db(const char *cmd, const char *state_dir,
		   const struct mx_config *c, bool write, struct mx_db **db);

#endif /* MXWALL_REPORT_H */
