/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report_int.h - what the files of the weekly report share: report.c
 * (build, print, run), days.c (the week's baseline and day snapshots in
 * the state directory, durable small files) and reset.c (the crash-safe
 * weekly reset). Not for use outside ctl/report/report.c, days.c, reset.c.
 */
#ifndef MXWALL_REPORT_INT_H
#define MXWALL_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report.h"

#define WEEK_FILE "report-week" /* in the state directory */
#define DAYS_FILE "report-days" /* in the state directory */

/* ---- days.c */

/* report_counters_sub - now minus base; a counter that went down counts
 * from zero (the data path was re-created) */
void report_counters_sub(struct mx_counters *out, const struct mx_counters *now,
			 const struct mx_counters *base);
/* report_write_durable - write_file_atomic, then the directory entry too */
int report_write_durable(const char *dir, const char *name, const char *data,
			 size_t len);
/* report_read_small - a whole small file into a malloc'd string; -ENOENT
 * if none */
int report_read_small(const char *dir, const char *name, char **out);
/* report_week_read - the baseline of this week; -ENOENT when none was
 * recorded */
int report_week_read(const char *state_dir, struct report_snap *base);
int report_week_write(const char *state_dir, const struct report_snap *base);
/* report_days_read - every snapshot in the days file, oldest first */
int report_days_read(const char *state_dir, struct report_snap **out,
		     size_t *n);
/* report_next_midnight - start of the local day after the one that holds t */
int64_t report_next_midnight(int64_t t);

/* ---- report.c */

/* report_fmt_date - t as the local date, "2026-11-22" */
void report_fmt_date(int64_t t, char *buf, size_t len);
/*
 * report_build - the report of the week ending now; on error *what says
 * what failed. report_free() it either way.
 */
int report_build(const struct report_opts *o, struct backend *be,
		 struct mx_db *db, int64_t now, struct report *r,
		 const char **what);
void report_free(struct report *r);
/* report_render - the report as text or JSON in a malloc'd buffer */
char *report_render(const struct report *r, bool json, size_t *len);
/* report_emit - the report where the user asked for it (--out, stdout);
 * logs and returns an exit status */
int report_emit(const struct report_opts *o, const char *data, size_t len);

/* ---- reset.c */

/* report_reset - report_run with o->reset: archive, mail, clear the week */
int report_reset(const struct report_opts *o, struct backend *be,
		 struct mx_db *db, int64_t now);

#endif /* MXWALL_REPORT_INT_H */
