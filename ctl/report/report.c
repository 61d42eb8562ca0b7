// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - "mxwall report": the weekly top-N of what was dropped. Owns
 * building the report (counters and entries from the backend, the week
 * from days.c, promotions from the database), printing it as text and
 * JSON, where it goes (--out), report_run() and the config and database
 * helpers report, stats and metrics share. The week on disk is days.c;
 * --reset (archive, mail, clear) is reset.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "core/config.h"
#include "core/db.h"
#include "core/mxwall.h"
#include "report/report.h"
#include "report/report_int.h"
#include "report/table.h"

/* ---- printing */

static void fmt_local(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M %Z", &tm);
}

static void fmt_day(int64_t t, char *buf, size_t len)
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed",
					 "Thu", "Fri", "Sat"};
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	snprintf(buf, len, "%s %04d-%02d-%02d", wd[tm.tm_wday],
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void report_fmt_date(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

void report_print_text(FILE *f, const struct report *r)
{
	char a[64], b[64], n1[32], n2[32], pct[16], lbl[160];
	size_t i;
	int w = 14;

	fprintf(f, "mxwall weekly report for %s\n", r->host);
	fmt_local(r->to, b, sizeof(b));
	if (r->from > 0) {
		fmt_local(r->from, a, sizeof(a));
		fprintf(f, "Period:         %s to %s\n", a, b);
	} else {
		fprintf(f,
			"Period:         until %s (no reset recorded yet: "
			"counted since the filter was set up)\n",
			b);
	}
	fmt_thousands(r->totals.syn, n1, sizeof(n1));
	fprintf(f, "SMTP SYNs seen: %s\n", n1);
	fmt_thousands(r->totals.dropped, n2, sizeof(n2));
	fmt_pct(r->totals.dropped, r->totals.syn, pct, sizeof(pct));
	if (r->totals.syn)
		fprintf(f, "Dropped:        %s (%s of SMTP SYNs)\n", n2, pct);
	else
		fprintf(f, "Dropped:        %s\n", n2);
	fprintf(f, "Entries:        %zu static, %zu dynamic\n",
		r->entries_static, r->entries_dynamic);
	if (r->promotions >= 0)
		fprintf(f, "Promotions:     %lld this week\n",
			(long long)r->promotions);
	else
		fprintf(f,
			"Promotions:     unknown (no controller database)\n");
	if (r->ndays) {
		/* a run of days without a snapshot prints as "Tue .. to Thu .."
		 */
		for (i = 0; i < r->ndays; i++)
			if (r->days[i].end >
			    report_next_midnight(r->days[i].start))
				w = 32;
		fprintf(f, "\nDrops per day:\n");
		for (i = 0; i < r->ndays; i++) {
			fmt_day(r->days[i].start, a, sizeof(a));
			fmt_thousands(r->days[i].dropped, n1, sizeof(n1));
			if (r->days[i].end >
			    report_next_midnight(r->days[i].start)) {
				fmt_day(r->days[i].end - 1, b, sizeof(b));
				snprintf(lbl, sizeof(lbl), "%s to %s", a, b);
			} else {
				snprintf(lbl, sizeof(lbl), "%s", a);
			}
			fprintf(f, "  %-*s  %12s\n", w, lbl, n1);
		}
	}
	fputc('\n', f);
	if (!r->nrows && !r->totals.dropped) {
		fprintf(f, "No drops this week: no blocked source sent an SMTP "
			   "SYN.\n");
		return;
	}
	if (!r->nrows) {
		/* counters leave with their entry (expiry, unblock) */
		fprintf(f, "No entry in the filter has drops: the entries that "
			   "dropped this week have left it.\n");
		return;
	}
	if (r->by)
		fprintf(f, "Top %llu netblocks (%s) by packets:\n",
			(unsigned long long)r->nrows, r->by);
	else
		fprintf(f, "Top %llu by packets:\n",
			(unsigned long long)r->nrows);
	table_print(f, r->rows, r->nrows);
}

void report_print_json(FILE *f, const struct report *r)
{
	char d[32];
	size_t i;

	fputs("{\"period\":{\"from\":", f);
	json_time(f, r->from);
	fputs(",\"to\":", f);
	json_time(f, r->to);
	fputs("},\n\"host\":", f);
	json_str(f, r->host);
	fprintf(f,
		",\n\"totals\":{\"packets_seen\":%llu,\"smtp_syn\":%llu,"
		"\"dropped\":%llu,\"allowed\":%llu,\"observed\":%llu,"
		"\"entries_static\":%zu,\"entries_dynamic\":%zu,"
		"\"promotions\":",
		(unsigned long long)r->totals.seen,
		(unsigned long long)r->totals.syn,
		(unsigned long long)r->totals.dropped,
		(unsigned long long)r->totals.allowed,
		(unsigned long long)r->totals.observed, r->entries_static,
		r->entries_dynamic);
	if (r->promotions >= 0)
		fprintf(f, "%lld}", (long long)r->promotions);
	else
		fputs("null}", f);
	fputs(",\n\"days\":[", f);
	for (i = 0; i < r->ndays; i++) {
		report_fmt_date(r->days[i].start, d, sizeof(d));
		fprintf(f, "%s{\"date\":", i ? "," : "");
		json_str(f, d);
		fprintf(
		    f, ",\"days\":%d,\"dropped\":%llu}",
		    (int)((r->days[i].end - r->days[i].start + 43200) / 86400),
		    (unsigned long long)r->days[i].dropped);
	}
	fputs("],\n\"by\":", f);
	if (r->by)
		json_str(f, r->by);
	else
		fputs("null", f);
	fprintf(f, ",\n\"top\":%llu,\n\"rows\":", (unsigned long long)r->top);
	table_print_json(f, r->rows, r->nrows);
	fputs("}\n", f);
}

/* ---- building the report */

static int count_promotion(void *arg, const struct db_action *a)
{
	(void)a;
	(*(int64_t *)arg)++;
	return 0;
}

/*
 * report_build - the report of the week ending now: status and entries
 * from the backend, the baseline and day snapshots from the state
 * directory, the promotions from db (when there is one).
 */
int report_build(const struct report_opts *o, struct backend *be,
		 struct mx_db *db, int64_t now, struct report *r,
		 const char **what)
{
	struct report_snap base = {0}, *snaps = NULL, *all = NULL;
	struct mx_entry *rows = NULL;
	struct mx_status st;
	size_t n = 0, nsnap = 0, nall = 0, i, k;
	int err;

	memset(r, 0, sizeof(*r));
	r->to = now;
	r->top = o->top;
	r->by = o->by;
	r->promotions = -1;
	if (gethostname(r->host, sizeof(r->host) - 1) || !r->host[0])
		snprintf(r->host, sizeof(r->host), "localhost");
	memset(&st, 0, sizeof(st));
	err = be->ops->status(be, &st);
	if (err) {
		*what = "cannot read the counters";
		return err;
	}
	r->entries_static = st.entries_static;
	r->entries_dynamic = st.entries_dynamic;
	err = report_week_read(o->state_dir, &base);
	if (err == -ENOENT) {
		memset(&base, 0, sizeof(base));
	} else if (err) {
		*what = "cannot read " WEEK_FILE " in the state directory";
		return err;
	}
	r->from = base.at;
	report_counters_sub(&r->totals, &st.counters, &base.c);

	/* today's snapshot first, so a report run alone still splits days */
	report_note_day(o->state_dir, &st.counters, now);
	err = report_days_read(o->state_dir, &snaps, &nsnap);
	if (err) {
		*what = "cannot read " DAYS_FILE " in the state directory";
		return err;
	}
	all = xcalloc(nsnap + 2, sizeof(*all));
	if (base.at > 0)
		all[nall++] = base;
	for (i = 0; i < nsnap; i++)
		if (snaps[i].at > base.at && snaps[i].at < now)
			all[nall++] = snaps[i];
	all[nall].at = now;
	all[nall++].c = st.counters;
	free(snaps);
	r->ndays = report_split_days(all, nall, &r->days);
	free(all);

	if (db) {
		r->promotions = 0;
		err = db_promotions_between(db, base.at, now + 1,
					    count_promotion, &r->promotions);
		if (err)
			r->promotions = -1;
	}

	err = be->ops->dump(be, &rows, &n);
	if (err) {
		*what = "cannot read the entries";
		return err;
	}
	/* the report is about who knocked: entries without packets leave */
	for (i = 0, k = 0; i < n; i++)
		if (rows[i].packets)
			rows[k++] = rows[i];
	n = k;
	if (o->v4len || o->v6len) {
		/* merge in address order: the united tags come out the same
		 * whatever order the backend dumped the entries in */
		table_sort_address(rows, n);
		n = table_aggregate(rows, n, o->v4len, o->v6len);
	}
	table_sort_packets(rows, n);
	if (o->top && n > o->top)
		n = (size_t)o->top;
	r->rows = rows;
	r->nrows = n;
	return 0;
}

void report_free(struct report *r)
{
	free(r->rows);
	free(r->days);
	r->rows = NULL;
	r->days = NULL;
}

/* report_render - the report as text or JSON in a malloc'd buffer */
char *report_render(const struct report *r, bool json, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		log_fatal("out of memory");
	if (json)
		report_print_json(f, r);
	else
		report_print_text(f, r);
	if (fclose(f))
		log_fatal("out of memory");
	return buf;
}

/* report_emit - the report where the user asked for it */
int report_emit(const struct report_opts *o, const char *data, size_t len)
{
	int err;

	if (!o->out || !strcmp(o->out, "-")) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout)) {
			log_err("report: cannot write the report: %s",
				strerror(errno));
			return EXIT_RUNTIME;
		}
		return EXIT_OK;
	}
	err = write_file_atomic(o->out, data, len, 0644);
	if (err) {
		log_err("report: --out %s: %s", o->out, strerror(-err));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int report_run(const struct report_opts *o, struct backend *be,
	       struct mx_db *db)
{
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	const char *what = "";
	struct report r;
	size_t tlen = 0;
	char *text;
	int err, rc;

	if (o->reset)
		return report_reset(o, be, db, now);
	err = report_build(o, be, db, now, &r, &what);
	if (err) {
		log_err("report: %s: %s", what, backend_strerror(err));
		report_free(&r);
		return EXIT_RUNTIME;
	}
	text = report_render(&r, o->json, &tlen);
	rc = report_emit(o, text, tlen);
	free(text);
	report_free(&r);
	return rc;
}

/* ---- the command */

int report_load_config(const char *cmd, const char *path, struct mx_config *c)
{
	char err[512];

	if (!path && access(MX_CONF_DEFAULT, F_OK)) {
		config_defaults(c);
		return EXIT_OK;
	}
	if (config_load(path ? path : MX_CONF_DEFAULT, c, err, sizeof(err))) {
		log_err("%s: %s", cmd, err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int report_open_db(const char *cmd, const char *state_dir,
		   const struct mx_config *c, bool write, struct mx_db **db)
{
	char path[4096], err[512];
	int e;

	*db = NULL;
	if (config_db_path(c, state_dir, path, sizeof(path))) {
		log_err("%s: database path too long", cmd);
		return EXIT_RUNTIME;
	}
	if (access(path, F_OK))
		return EXIT_OK; /* no controller yet: no database */
	e = db_open(path, write ? 0 : DB_READONLY, db, err, sizeof(err));
	if (e) {
		log_err("%s: cannot open the database: %s", cmd, err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
