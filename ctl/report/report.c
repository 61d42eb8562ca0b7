// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - "mxwall report": the weekly top-N of what was dropped, and
 * with --reset the start of a new week.
 *
 * The reset, and why a crash cannot leave it half done. A marker file,
 * $report_dir/.reset, holds "NAME STATE TO" (NAME the archive's base name,
 * TO the end of the reported week) and is replaced atomically and fsync'd
 * at each step:
 *   1. "NAME pending TO"   before the archive is written;
 *   2. the archive NAME.txt and NAME.json (temp file, fsync, rename, fsync
 *      of the directory; .json last), then the mail when configured;
 *   3. "NAME archived TO"  the report is safe: only the clear is left;
 *   4. the clear: dynamic entries removed, static counters zeroed, the
 *      baseline of the next week written (start TO, counters now);
 *   5. "NAME done TO".
 * Every step of the clear is idempotent, so the next run finishes a reset
 * it finds "archived" (or "pending" with both archive files present)
 * without writing a second report, and one it finds "pending" without the
 * archive starts over under the same NAME: the week is reported once.
 * A run that finishes an interrupted reset does not mail: the mail went
 * out before "archived" was written, or the crash hit sendmail itself, and
 * the archive holds the report either way.
 * MXWALL_TEST_CRASH_AFTER=pending|archive|clear (read with secure_getenv)
 * kills the process with SIGKILL after step 1, 3 or 4, for the tests.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "core/config.h"
#include "core/db.h"
#include "report/mail.h"
#include "core/mxwall.h"
#include "report/report.h"
#include "report/stats.h"
#include "report/table.h"

#define WEEK_FILE "report-week"
#define DAYS_FILE "report-days"
#define MARKER_FILE ".reset"
#define DAYS_KEEP_SEC (60 * 24 * 60 * 60)

/* ---- counters as text: "seen syn dropped allowed observed passed malformed"
 */

static int counters_fmt(char *buf, size_t len, const struct mx_counters *c)
{
	return snprintf(
	    buf, len, "%llu %llu %llu %llu %llu %llu %llu",
	    (unsigned long long)c->seen, (unsigned long long)c->syn,
	    (unsigned long long)c->dropped, (unsigned long long)c->allowed,
	    (unsigned long long)c->observed, (unsigned long long)c->passed,
	    (unsigned long long)c->malformed);
}

static bool counters_scan(const char *s, struct mx_counters *c)
{
	unsigned long long v[7];

	if (sscanf(s, "%llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6]) != 7)
		return false;
	c->seen = v[0];
	c->syn = v[1];
	c->dropped = v[2];
	c->allowed = v[3];
	c->observed = v[4];
	c->passed = v[5];
	c->malformed = v[6];
	return true;
}

/* delta - now minus then; a counter that went down started again at 0 */
static uint64_t delta(uint64_t now, uint64_t then)
{
	return now >= then ? now - then : now;
}

static void counters_sub(struct mx_counters *out, const struct mx_counters *now,
			 const struct mx_counters *base)
{
	out->seen = delta(now->seen, base->seen);
	out->syn = delta(now->syn, base->syn);
	out->dropped = delta(now->dropped, base->dropped);
	out->allowed = delta(now->allowed, base->allowed);
	out->observed = delta(now->observed, base->observed);
	out->passed = delta(now->passed, base->passed);
	out->malformed = delta(now->malformed, base->malformed);
}

/* ---- files under the state and report directories */

/* fsync_dir - make a rename in dir durable */
static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

/* write_durable - write_file_atomic, then the directory entry too */
static int write_durable(const char *dir, const char *name, const char *data,
			 size_t len)
{
	char path[4096];
	int err;

	err = path_join(path, sizeof(path), dir, name);
	if (!err)
		err = write_file_atomic(path, data, len, 0640);
	if (!err)
		err = fsync_dir(dir);
	return err;
}

/* read_small - a whole small file into a malloc'd string; -ENOENT if none */
static int read_small(const char *dir, const char *name, char **out)
{
	char path[4096], *buf = NULL;
	size_t len = 0, cap = 0, r;
	FILE *f;
	int err;

	err = path_join(path, sizeof(path), dir, name);
	if (err)
		return err;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = xreallocarray(buf, cap, 1);
		}
		r = fread(buf + len, 1, cap - len - 1, f);
		len += r;
		if (r == 0)
			break;
	}
	err = ferror(f) ? -EIO : 0;
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* week_read - the baseline of this week; -ENOENT when none was recorded */
static int week_read(const char *state_dir, struct report_snap *base)
{
	char *buf = NULL, *nl;
	long long start;
	int err = read_small(state_dir, WEEK_FILE, &buf);

	if (err)
		return err;
	nl = strchr(buf, '\n');
	if (sscanf(buf, "start %lld", &start) != 1 || !nl ||
	    strncmp(nl + 1, "counters ", 9) ||
	    !counters_scan(nl + 10, &base->c)) {
		free(buf);
		return -EINVAL;
	}
	base->at = start;
	free(buf);
	return 0;
}

static int week_write(const char *state_dir, const struct report_snap *base)
{
	char buf[512], c[256];
	int n;

	counters_fmt(c, sizeof(c), &base->c);
	n = snprintf(buf, sizeof(buf), "start %lld\ncounters %s\n",
		     (long long)base->at, c);
	return write_durable(state_dir, WEEK_FILE, buf, (size_t)n);
}

/* days_read - every snapshot in the days file, oldest first */
static int days_read(const char *state_dir, struct report_snap **out, size_t *n)
{
	char *buf = NULL, *line, *save = NULL;
	struct report_snap *s = NULL;
	size_t cap = 0;
	long long at;
	int err, off;

	*out = NULL;
	*n = 0;
	err = read_small(state_dir, DAYS_FILE, &buf);
	if (err)
		return err == -ENOENT ? 0 : err;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			s = xreallocarray(s, cap, sizeof(*s));
		}
		if (sscanf(line, "%lld %n", &at, &off) != 1 ||
		    !counters_scan(line + off, &s[*n].c))
			continue; /* a torn line of an old version */
		s[*n].at = at;
		(*n)++;
	}
	free(buf);
	*out = s;
	return 0;
}

/* local_midnight - start of the local day that holds t */
static int64_t local_midnight(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	tm.tm_hour = 0;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

/* next_midnight - start of the local day after the one that holds t */
static int64_t next_midnight(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	tm.tm_mday++;
	tm.tm_hour = 0;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

int report_note_day(const char *state_dir, const struct mx_counters *c,
		    int64_t now)
{
	struct report_snap *s = NULL;
	char *buf = NULL, line[320], cs[256], why[PATH_MAX + 128];
	size_t n = 0, i, len = 0;
	FILE *f;
	int err;

	err = days_read(state_dir, &s, &n);
	if (err)
		return err;
	if (n && local_midnight(s[n - 1].at) == local_midnight(now)) {
		free(s);
		return 0;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		free(s);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (s[i].at < now - DAYS_KEEP_SEC)
			continue;
		counters_fmt(cs, sizeof(cs), &s[i].c);
		fprintf(f, "%lld %s\n", (long long)s[i].at, cs);
	}
	counters_fmt(cs, sizeof(cs), c);
	snprintf(line, sizeof(line), "%lld %s\n", (long long)now, cs);
	fputs(line, f);
	fclose(f);
	err = mkdir_private(state_dir, 0700, why, sizeof(why));
	if (!err)
		err = write_durable(state_dir, DAYS_FILE, buf, len);
	free(buf);
	free(s);
	return err;
}

size_t report_split_days(const struct report_snap *snaps, size_t n,
			 struct report_day **out)
{
	struct report_day *d = NULL;
	size_t nd = 0, i;
	int64_t day;
	uint64_t drop;

	*out = NULL;
	if (n < 2)
		return 0;
	d = xcalloc(n, sizeof(*d));
	for (i = 0; i + 1 < n; i++) {
		day = local_midnight(snaps[i].at);
		drop = delta(snaps[i + 1].c.dropped, snaps[i].c.dropped);
		if (nd && d[nd - 1].start == day) {
			d[nd - 1].dropped += drop;
			continue;
		}
		d[nd].start = day;
		d[nd].dropped = drop;
		nd++;
	}
	/* a day runs until the next snapshot's day (days without one merge) */
	for (i = 0; i < nd; i++)
		d[i].end = i + 1 < nd ? d[i + 1].start
				      : next_midnight(snaps[n - 1].at - 1);
	for (i = 0; i + 1 < nd; i++)
		if (d[i].end < next_midnight(d[i].start))
			d[i].end = next_midnight(d[i].start);
	*out = d;
	return nd;
}

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

static void fmt_date(int64_t t, char *buf, size_t len)
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
	stats_fmt_pct(r->totals.dropped, r->totals.syn, pct, sizeof(pct));
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
			if (r->days[i].end > next_midnight(r->days[i].start))
				w = 32;
		fprintf(f, "\nDrops per day:\n");
		for (i = 0; i < r->ndays; i++) {
			fmt_day(r->days[i].start, a, sizeof(a));
			fmt_thousands(r->days[i].dropped, n1, sizeof(n1));
			if (r->days[i].end > next_midnight(r->days[i].start)) {
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
		fmt_date(r->days[i].start, d, sizeof(d));
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
static int report_build(const struct report_opts *o, struct backend *be,
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
	err = week_read(o->state_dir, &base);
	if (err == -ENOENT) {
		memset(&base, 0, sizeof(base));
	} else if (err) {
		*what = "cannot read " WEEK_FILE " in the state directory";
		return err;
	}
	r->from = base.at;
	counters_sub(&r->totals, &st.counters, &base.c);

	/* today's snapshot first, so a report run alone still splits days */
	report_note_day(o->state_dir, &st.counters, now);
	err = days_read(o->state_dir, &snaps, &nsnap);
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

static void report_free(struct report *r)
{
	free(r->rows);
	free(r->days);
	r->rows = NULL;
	r->days = NULL;
}

/* render - the report as text or JSON in a malloc'd buffer */
static char *render(const struct report *r, bool json, size_t *len)
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

/* ---- the reset */

struct marker {
	char name[64];	/* archive base name, "2026-11-22" */
	char state[16]; /* pending, archived, done */
	int64_t to;	/* end of the reported week */
};

static int marker_read(const char *dir, struct marker *m)
{
	char *buf = NULL;
	long long to;
	int err = read_small(dir, MARKER_FILE, &buf);

	if (err)
		return err;
	memset(m, 0, sizeof(*m));
	if (sscanf(buf, "%63s %15s %lld", m->name, m->state, &to) != 3 ||
	    strchr(m->name, '/')) {
		free(buf);
		return -EINVAL;
	}
	m->to = to;
	free(buf);
	return 0;
}

static int marker_write(const char *dir, const char *name, const char *state,
			int64_t to)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%s %s %lld\n", name, state,
			 (long long)to);

	return write_durable(dir, MARKER_FILE, buf, (size_t)n);
}

/* crash_point - the test hook: die here, as a power cut would */
static void crash_point(const char *where)
{
	const char *v = secure_getenv("MXWALL_TEST_CRASH_AFTER");

	if (v && !strcmp(v, where)) {
		log_warn("MXWALL_TEST_CRASH_AFTER=%s: killing myself", where);
		kill(getpid(), SIGKILL);
	}
}

static bool archive_has(const char *dir, const char *name, const char *ext)
{
	char file[128], path[4096];
	struct stat sb;

	snprintf(file, sizeof(file), "%s%s", name, ext);
	if (path_join(path, sizeof(path), dir, file))
		return false;
	return stat(path, &sb) == 0;
}

/* archive_name - the date of to; "-2", "-3", ... when that one is taken */
static int archive_name(const char *dir, int64_t to, char *name, size_t len)
{
	char date[32];
	int i;

	fmt_date(to, date, sizeof(date));
	snprintf(name, len, "%s", date);
	for (i = 2; i < 100 && (archive_has(dir, name, ".txt") ||
				archive_has(dir, name, ".json"));
	     i++)
		snprintf(name, len, "%s-%d", date, i);
	return i < 100 ? 0 : -EEXIST;
}

struct reset_ids {
	int64_t *id;
	char (*cidr)[CIDR_STRLEN];
	size_t n, cap;
};

static int collect_active(void *arg, const struct db_entry *e)
{
	struct reset_ids *r = arg;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->id = xreallocarray(r->id, r->cap, sizeof(*r->id));
		r->cidr = xreallocarray(r->cidr, r->cap, sizeof(*r->cidr));
	}
	r->id[r->n] = e->id;
	snprintf(r->cidr[r->n], CIDR_STRLEN, "%s", e->cidr);
	r->n++;
	return 0;
}

/* db_note_reset - the controller's record of the entries the reset removed */
static void db_note_reset(struct mx_db *db, const struct cidr *del, size_t ndel,
			  int64_t now)
{
	struct reset_ids ids = {0};
	struct db_action a;
	char text[CIDR_STRLEN];
	size_t i, k;

	if (!db || db_entries_active(db, collect_active, &ids))
		goto out;
	db_begin(db);
	for (i = 0; i < ids.n; i++) {
		for (k = 0; k < ndel; k++)
			if (!strcmp(cidr_format(&del[k], text, sizeof(text)),
				    ids.cidr[i]))
				break;
		if (k == ndel)
			continue;
		db_entry_remove(db, ids.id[i], now, "reset");
		memset(&a, 0, sizeof(a));
		a.time = now;
		snprintf(a.cidr, sizeof(a.cidr), "%s", ids.cidr[i]);
		snprintf(a.action, sizeof(a.action), "reset");
		snprintf(a.reason, sizeof(a.reason), "weekly reset");
		db_action_add(db, &a);
	}
	if (db_commit(db))
		log_warn("report: the database did not record the reset: %s",
			 db_errmsg(db));
out:
	free(ids.id);
	free(ids.cidr);
}

/*
 * clear_week - remove the dynamic entries, zero the static entries'
 * counters, and start the next week at start. Idempotent: run twice, it
 * ends in the same state.
 */
static int clear_week(const struct report_opts *o, struct backend *be,
		      struct mx_db *db, int64_t start, int64_t now,
		      const char **what)
{
	struct cidr *del = NULL, *keep = NULL;
	struct mx_entry *rows = NULL;
	struct report_snap base;
	struct mx_status st;
	size_t n = 0, ndel = 0, nkeep = 0, i;
	int err;

	err = be->ops->dump(be, &rows, &n);
	if (err) {
		*what = "cannot read the entries";
		return err;
	}
	del = xcalloc(n + 1, sizeof(*del));
	keep = xcalloc(n + 1, sizeof(*keep));
	for (i = 0; i < n; i++) {
		/* peers' and CrowdSec's entries follow their source */
		if (rows[i].origin == MX_ORIGIN_STATIC ||
		    mx_entry_follows_source(&rows[i]))
			keep[nkeep++] = rows[i].net;
		else
			del[ndel++] = rows[i].net;
	}
	free(rows);
	if (ndel) {
		err = be->ops->apply(be, NULL, 0, del, ndel);
		if (err) {
			*what = "cannot remove the dynamic entries";
			goto out;
		}
	}
	if (nkeep) {
		err = be->ops->zero_counters(be, keep, nkeep);
		if (err) {
			*what =
			    "cannot zero the counters of the static entries";
			goto out;
		}
	}
	memset(&st, 0, sizeof(st));
	err = be->ops->status(be, &st);
	if (err) {
		*what = "cannot read the counters";
		goto out;
	}
	base.at = start;
	base.c = st.counters;
	err = week_write(o->state_dir, &base);
	if (err) {
		*what = "cannot write " WEEK_FILE " in the state directory";
		goto out;
	}
	db_note_reset(db, del, ndel, now);
	log_info("report: weekly reset: %zu dynamic entries removed, "
		 "counters of %zu static entries zeroed",
		 ndel, nkeep);
out:
	free(del);
	free(keep);
	return err;
}

/* send_report - mail text; logs and returns the exit status */
static int send_report(const struct report_opts *o, const struct report *r,
		       const char *text)
{
	char prog[4096], subject[512], a[32], b[32], d[32], err[256];
	int e;

	if (!o->mail_to || !*o->mail_to)
		return EXIT_OK;
	e = mail_find_sendmail(o->sendmail, prog, sizeof(prog));
	if (e) {
		log_err("report: cannot mail the report to %s: no sendmail "
			"found (the archive holds it)",
			o->mail_to);
		return EXIT_RUNTIME;
	}
	fmt_date(r->to, b, sizeof(b));
	fmt_thousands(r->totals.dropped, d, sizeof(d));
	if (r->from > 0) {
		fmt_date(r->from, a, sizeof(a));
		snprintf(subject, sizeof(subject),
			 "mxwall weekly report for %s, %s to %s: %s dropped",
			 r->host, a, b, d);
	} else {
		snprintf(subject, sizeof(subject),
			 "mxwall weekly report for %s, until %s: %s dropped",
			 r->host, b, d);
	}
	e = mail_send(prog, o->mail_to, subject, text, err, sizeof(err));
	if (e) {
		log_err("report: mailing the report to %s failed: %s (the "
			"archive holds it)",
			o->mail_to, err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* emit - the report where the user asked for it */
static int emit(const struct report_opts *o, const char *data, size_t len)
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

/*
 * finish_pending - a reset interrupted after its archive was written: do
 * the clear, write no second report. Returns an exit status.
 */
static int finish_pending(const struct report_opts *o, struct backend *be,
			  struct mx_db *db, const struct marker *m, int64_t now)
{
	const char *what = "";
	int err;

	log_warn("report: finishing the weekly reset of %s, interrupted "
		 "after its report was archived (no second report)",
		 m->name);
	err = marker_write(o->report_dir, m->name, "archived", m->to);
	if (!err)
		err = clear_week(o, be, db, m->to, now, &what);
	else
		what = "cannot write the reset marker";
	if (!err) {
		crash_point("clear");
		err = marker_write(o->report_dir, m->name, "done", m->to);
		what = "cannot write the reset marker";
	}
	if (err) {
		log_err("report: %s: %s", what, backend_strerror(err));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int report_run(const struct report_opts *o, struct backend *be,
	       struct mx_db *db)
{
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	char name[64] = "", d1[32], d2[32], file[80], why[PATH_MAX + 128];
	char *text = NULL, *json = NULL;
	size_t tlen = 0, jlen = 0;
	const char *what = "";
	int err, rc = EXIT_OK, mail_rc;
	struct report r;
	struct marker m;
	bool have_m;

	if (!o->reset) {
		err = report_build(o, be, db, now, &r, &what);
		if (err) {
			log_err("report: %s: %s", what, backend_strerror(err));
			report_free(&r);
			return EXIT_RUNTIME;
		}
		text = render(&r, o->json, &tlen);
		rc = emit(o, text, tlen);
		free(text);
		report_free(&r);
		return rc;
	}

	err = mkdir_private(o->report_dir, 0750, why, sizeof(why));
	if (err == -EPERM || err == -ENOTDIR) {
		log_err("report: archive %s (nothing was reset)", why);
		return EXIT_RUNTIME;
	}
	if (err) {
		log_err("report: cannot make the archive %s: %s", o->report_dir,
			strerror(-err));
		return EXIT_RUNTIME;
	}
	err = marker_read(o->report_dir, &m);
	if (err && err != -ENOENT) {
		log_err("report: %s/%s: %s", o->report_dir, MARKER_FILE,
			err == -EINVAL ? "unreadable reset marker (remove it "
					 "after checking the archive)"
				       : strerror(-err));
		return EXIT_RUNTIME;
	}
	have_m = !err;
	if (have_m && (!strcmp(m.state, "archived") ||
		       (!strcmp(m.state, "pending") &&
			archive_has(o->report_dir, m.name, ".txt") &&
			archive_has(o->report_dir, m.name, ".json"))))
		return finish_pending(o, be, db, &m, now);
	if (have_m && !strcmp(m.state, "pending")) {
		/* died before the archive was complete: nothing was cleared */
		snprintf(name, sizeof(name), "%s", m.name);
	} else if (have_m && !strcmp(m.state, "done")) {
		fmt_date(m.to, d1, sizeof(d1));
		fmt_date(now, d2, sizeof(d2));
		if (!strcmp(d1, d2)) {
			log_info("report: the weekly reset already ran today "
				 "(%s/%s.txt); nothing to do",
				 o->report_dir, m.name);
			return EXIT_OK;
		}
	}
	if (!name[0] && archive_name(o->report_dir, now, name, sizeof(name))) {
		log_err("report: too many reports for today in %s",
			o->report_dir);
		return EXIT_RUNTIME;
	}

	err = report_build(o, be, db, now, &r, &what);
	if (err) {
		log_err("report: %s: %s (nothing was reset)", what,
			backend_strerror(err));
		report_free(&r);
		return EXIT_RUNTIME;
	}
	text = render(&r, false, &tlen);
	json = render(&r, true, &jlen);
	err = marker_write(o->report_dir, name, "pending", now);
	what = "cannot write the reset marker";
	if (!err) {
		crash_point("pending");
		snprintf(file, sizeof(file), "%s.txt", name);
		err = write_durable(o->report_dir, file, text, tlen);
		what = "cannot write the archive";
	}
	if (!err) {
		snprintf(file, sizeof(file), "%s.json", name);
		err = write_durable(o->report_dir, file, json, jlen);
	}
	if (err) {
		log_err("report: %s in %s: %s (nothing was reset)", what,
			o->report_dir, strerror(-err));
		rc = EXIT_RUNTIME;
		goto out;
	}
	mail_rc = send_report(o, &r, text);
	err = marker_write(o->report_dir, name, "archived", now);
	if (err) {
		log_err("report: cannot write the reset marker in %s: %s "
			"(report archived as %s.txt, nothing was reset)",
			o->report_dir, strerror(-err), name);
		rc = EXIT_RUNTIME;
		goto out;
	}
	crash_point("archive");
	err = clear_week(o, be, db, now, now, &what);
	if (err) {
		log_err("report: %s: %s (report archived as %s.txt; the next "
			"'report --reset' finishes the reset)",
			what, backend_strerror(err), name);
		rc = EXIT_RUNTIME;
		goto out;
	}
	crash_point("clear");
	err = marker_write(o->report_dir, name, "done", now);
	if (err) {
		log_err("report: cannot write the reset marker in %s: %s",
			o->report_dir, strerror(-err));
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = emit(o, o->json ? json : text, o->json ? jlen : tlen);
	if (mail_rc)
		rc = mail_rc;
out:
	free(text);
	free(json);
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

int report_open_db(const char *cmd, const struct mx_config *c, bool write,
		   struct mx_db **db)
{
	char path[4096], err[512];
	int e;

	*db = NULL;
	if (config_db_path(c, mx_opt.state_dir, path, sizeof(path))) {
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
