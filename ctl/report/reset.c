// SPDX-License-Identifier: GPL-2.0
/*
 * reset.c - "mxwall report --reset": archive the week's report, mail it,
 * and start a new week (report_reset(), called by report_run()).
 *
 * Why a crash cannot leave the reset half done. A marker file,
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
 * The test hook crash_after=pending|archive|clear (core/testhook.h) kills
 * the process with SIGKILL after step 1, 3 or 4, for the tests.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "core/db.h"
#include "core/mxwall.h"
#include "core/testhook.h"
#include "report/mail.h"
#include "report/report.h"
#include "report/report_int.h"

#define MARKER_FILE ".reset"

struct marker {
	char name[64];	/* archive base name, "2026-11-22" */
	char state[16]; /* pending, archived, done */
	int64_t to;	/* end of the reported week */
};

static int marker_read(const char *dir, struct marker *m)
{
	char *buf = NULL;
	long long to;
	int err = report_read_small(dir, MARKER_FILE, &buf);

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

	return report_write_durable(dir, MARKER_FILE, buf, (size_t)n);
}

/* crash_point - the test hook: die here, as a power cut would */
static void crash_point(const char *where)
{
	if (mx_test_hook_is("crash_after", where)) {
		log_warn("test hook crash_after=%s: killing myself", where);
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

	report_fmt_date(to, date, sizeof(date));
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
		err = backend_apply(be, NULL, 0, del, ndel);
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
	err = report_week_write(o->state_dir, &base);
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
	report_fmt_date(r->to, b, sizeof(b));
	fmt_thousands(r->totals.dropped, d, sizeof(d));
	if (r->from > 0) {
		report_fmt_date(r->from, a, sizeof(a));
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

int report_reset(const struct report_opts *o, struct backend *be,
		 struct mx_db *db, int64_t now)
{
	char name[64] = "", d1[32], d2[32], file[80], why[PATH_MAX + 128];
	char *text = NULL, *json = NULL;
	size_t tlen = 0, jlen = 0;
	const char *what = "";
	int err, rc = EXIT_OK, mail_rc;
	struct report r;
	struct marker m;
	bool have_m;

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
		report_fmt_date(m.to, d1, sizeof(d1));
		report_fmt_date(now, d2, sizeof(d2));
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
	text = report_render(&r, false, &tlen);
	json = report_render(&r, true, &jlen);
	err = marker_write(o->report_dir, name, "pending", now);
	what = "cannot write the reset marker";
	if (!err) {
		crash_point("pending");
		snprintf(file, sizeof(file), "%s.txt", name);
		err = report_write_durable(o->report_dir, file, text, tlen);
		what = "cannot write the archive";
	}
	if (!err) {
		snprintf(file, sizeof(file), "%s.json", name);
		err = report_write_durable(o->report_dir, file, json, jlen);
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
	rc = report_emit(o, o->json ? json : text, o->json ? jlen : tlen);
	if (mail_rc)
		rc = mail_rc;
out:
	free(text);
	free(json);
	report_free(&r);
	return rc;
}
