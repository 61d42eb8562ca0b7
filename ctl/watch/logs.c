// SPDX-License-Identifier: GPL-2.0
/*
 * logs.c - the watcher's logs: opening and closing what it follows (files
 * through the reader process of reader.c, or in this process with the
 * test hook reader_inline; the journal through mta/journal.c), the
 * lines and records that come back (each event handed to sources.c), the
 * first pass before READY, and the warnings about a log that is missing
 * or has stopped growing. loop.c drives it from its event loop.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/mxwall.h"
#include "watch/watch.h"
#include "watch/watch_int.h"

/* ---- lines ---- */

static int on_line(void *arg, struct follow_file *ff, const char *line,
		   size_t len)
{
	struct watch *w = arg;
	struct file_ctx *fc = follow_data(ff);
	struct scan_event ev;
	int64_t ref;

	w->lines++;
	ref = follow_mtime(ff);
	if (ref <= 0 || ref > w->now)
		ref = w->now;
	if (ref != fc->ref_time) {
		scanner_set_ref_time(fc->sc, ref);
		fc->ref_time = ref;
	}
	fc->pos_dirty = true;
	mark_dirty(w);
	if (scanner_feed(fc->sc, line, len, &ev) == 1) {
		w->line_file = follow_name(ff);
		w->line_no = follow_line(ff);
		event(w, ev.time, &ev.ip, ev.mta, ev.tags, false);
		w->line_file = NULL; /* the file may be closed later */
		w->line_no = 0;
	}
	if (w->npend >= 1024)
		flush_pending(w); /* a backlog: do not hold them back */
	return 0;
}

/* ---- the journal ---- */

#define JOURNAL_BUDGET 20000 /* entries per turn of the loop */

/* journal_run - read what is new (at most a budget); 0, or -errno */
int journal_run(struct watch *w)
{
	struct mx_journal_entry e;
	struct scan_event ev;
	int n, rc = 0;

	w->jr_more = false;
	if (!w->jr)
		return 0;
	for (n = 0; n < JOURNAL_BUDGET; n++) {
		/* the reader parses them: no more than it can hold */
		if (w->rd && !reader_feed_room(w->rd))
			return 0; /* its answers wake us */
		rc = journal_next(w->jr, &e);
		if (rc <= 0)
			break;
		mark_dirty(w);
		if (w->rd && e.trusted) {
			/* counted, and the cursor saved, once it read them */
			reader_feed(w->rd, e.line, e.len,
				    journal_cursor(w->jr));
			continue;
		}
		w->lines++;
		w->jr_dirty = true;
		if (!e.trusted) {
			/* a forged identifier: not the MTA's word */
			w->jr_untrusted++;
			if (w->now - w->jr_untrusted_logged >= 60 ||
			    strcmp(e.why, w->jr_why)) {
				log_warn(
				    "journal: ignored an entry not written "
				    "by the MTA (%s): %.200s (%llu ignored "
				    "in all)",
				    e.why, e.line,
				    (unsigned long long)w->jr_untrusted);
				w->jr_untrusted_logged = w->now;
				snprintf(w->jr_why, sizeof(w->jr_why), "%s",
					 e.why);
			}
			continue;
		}
		scanner_set_ref_time(w->jsc, w->now);
		if (scanner_feed(w->jsc, e.line, e.len, &ev) == 1) {
			w->line_file = "journal"; /* entries have no line */
			event(w, ev.time, &ev.ip, ev.mta, ev.tags, false);
			w->line_file = NULL;
		}
		if (w->npend >= 1024)
			flush_pending(w);
	}
	if (n == JOURNAL_BUDGET)
		w->jr_more = true;
	if (rc < 0)
		log_warn("journal: %s", strerror(-rc));
	return rc < 0 ? rc : 0;
}

static void journal_stop(struct watch *w)
{
	journal_close(w->jr);
	w->jr = NULL;
	scanner_free(w->jsc);
	w->jsc = NULL;
}

/* journal_start - open the journal where the last run left it */
static int journal_start(struct watch *w, const struct scan_opts *so)
{
	struct mx_journal_opts o = {
	    .directory = w->cfg.journal_directory,
	    .match = (const char *const *)w->cfg.journal_match,
	    .nmatch = w->cfg.njournal_match,
	};
	int64_t since = w->now - (int64_t)config_max_window(&w->cfg);
	char cur[1024], err[512];
	int rc;

	if (w->jr)
		return 0;
	snprintf(w->jr_key, sizeof(w->jr_key), "journal%s%s",
		 o.directory ? ":" : "", o.directory ? o.directory : "");
	if (!db_cursor_get(w->db, w->jr_key, cur, sizeof(cur)))
		o.cursor = cur;
	o.since_usec = since > 0 ? (uint64_t)since * 1000000 : 0;
	rc = journal_open(&o, &w->jr, err, sizeof(err));
	if (rc) {
		log_err("%s", err);
		return rc;
	}
	w->jsc = scanner_new(so);
	if (!w->cfg.njournal_match)
		log_warn("journal: no journal_match: reading every entry "
			 "(e.g. journal_match = "
			 "_SYSTEMD_UNIT=postfix@-.service)");
	return 0;
}

/* file_look - a followed log that is missing or has not grown: say so */
static void file_look_path(struct watch *w, const char *path,
			   struct file_ctx *fc)
{
	struct stat st;
	int64_t size;

	if (!strcmp(path, "-"))
		return;
	size = stat(path, &st) ? -1 : (int64_t)st.st_size;
	if (size < 0) {
		if (!fc->warned_missing)
			log_warn("WARNING: log file %s does not exist: nothing "
				 "is read until it appears (is the MTA logging "
				 "to the journal? log = journal)",
				 path);
		fc->warned_missing = true;
	} else if (fc->warned_missing) {
		log_info("%s appeared", path);
		fc->warned_missing = false;
	}
	if (size != fc->size || !fc->grown) {
		fc->size = size;
		fc->grown = w->now;
		fc->warned_stale = false;
		return;
	}
	if (size >= 0 && !fc->warned_stale &&
	    w->now - fc->grown >= STALE_SECS) {
		log_warn("WARNING: log file %s has not grown for an hour: is "
			 "the MTA still logging there?",
			 path);
		fc->warned_stale = true;
	}
}

static void file_look(struct watch *w, struct follow_file *ff)
{
	file_look_path(w, follow_path(ff), follow_data(ff));
}

/* ---- the reader process's events ---- */

static void rd_event(void *arg, size_t file, const char *name, uint64_t line,
		     const struct scan_event *ev)
{
	struct watch *w = arg;

	w->rd_ctx[file].pos_dirty = true;
	mark_dirty(w);
	w->line_file = name;
	w->line_no = line;
	event(w, ev->time, &ev->ip, ev->mta, ev->tags, false);
	w->line_file = NULL; /* the reader's names go with it */
	w->line_no = 0;
	if (w->npend >= 1024)
		flush_pending(w); /* a backlog: do not hold them back */
}

static void rd_moved(void *arg, size_t file, uint64_t lines)
{
	struct watch *w = arg;

	w->lines += lines;
	w->rd_ctx[file].pos_dirty = true;
	mark_dirty(w);
}

static const struct reader_cb *rd_cb(struct watch *w)
{
	static struct reader_cb cb = {rd_event, rd_moved, NULL};

	cb.arg = w;
	return &cb;
}

/* ---- setup ---- */

void followers_close(struct watch *w)
{
	size_t i;

	if (w->rd && w->rd_n) {
		/* what the reader read before it stopped counts */
		reader_stop(w->rd, rd_cb(w));
		commit(w);
	}
	for (i = 0; i < w->rd_n; i++)
		free(w->rd_paths[i]);
	free(w->rd_paths);
	free(w->rd_ctx);
	w->rd_paths = NULL;
	w->rd_ctx = NULL;
	w->rd_n = 0;
	w->rd_journal = SIZE_MAX;

	for (i = 0; i < w->nfiles; i++) {
		struct file_ctx *fc = follow_data(w->files[i]);

		/* the rest of that line is dropped by the next follower */
		if (follow_is_stdin(w->files[i]) && follow_midline(w->files[i]))
			w->stdin_midline = true;
		scanner_free(fc->sc);
		free(fc);
	}
	free(w->files);
	w->files = NULL;
	w->nfiles = 0;
	follower_free(w->fw);
	w->fw = NULL;
	journal_stop(w);
}

int followers_open(struct watch *w)
{
	struct scan_opts so = {
	    .spamtraps = (const char *const *)w->cfg.spamtraps,
	    .nspamtraps = w->cfg.nspamtraps,
	};
	char **logs = w->ncli_logs ? w->cli_logs : w->cfg.logs;
	size_t nlogs = w->ncli_logs ? w->ncli_logs : w->cfg.nlogs, i;

	struct stat st;
	int rc = 0;

	struct db_pos *rpos = NULL;

	if (w->rd) {
		rpos = xcalloc(nlogs + 1, sizeof(*rpos));
		w->rd_paths = xcalloc(nlogs + 1, sizeof(*w->rd_paths));
		w->rd_ctx = xcalloc(nlogs + 1, sizeof(*w->rd_ctx));
	}
	w->fw = follower_new();
	for (i = 0; i < nlogs; i++) {
		struct db_pos pos, *resume = NULL;
		struct follow_file *ff;
		struct file_ctx *fc;

		if (!strcmp(logs[i], "journal")) {
			rc = journal_start(w, &so) ?: rc;
			continue;
		}
		if (strcmp(logs[i], "-") && stat(logs[i], &st) &&
		    errno == ENOENT && w->cfg.log_fallback_journal) {
			log_warn("WARNING: log file %s does not exist: reading "
				 "the journal instead (log_fallback = journal)",
				 logs[i]);
			rc = journal_start(w, &so) ?: rc;
			continue;
		}
		if (strcmp(logs[i], "-") && !db_pos_get(w->db, logs[i], &pos))
			resume = &pos;
		if (w->rd) {
			/* the reader process follows it (reader.h) */
			if (resume)
				rpos[w->rd_n] = *resume;
			w->rd_paths[w->rd_n] = xstrdup(logs[i]);
			file_look_path(w, logs[i], &w->rd_ctx[w->rd_n]);
			w->rd_n++;
			continue;
		}
		if (follower_add(w->fw, logs[i], resume, &ff)) {
			log_warn("%s: cannot follow", logs[i]);
			continue;
		}
		if (follow_is_stdin(ff)) {
			if (w->stdin_midline)
				follow_skip_line(ff);
			w->stdin_midline = false;
		}
		fc = xcalloc(1, sizeof(*fc));
		fc->sc = scanner_new(&so);
		follow_set_data(ff, fc);
		w->files =
		    xreallocarray(w->files, w->nfiles + 1, sizeof(*w->files));
		w->files[w->nfiles++] = ff;
		file_look(w, ff);
	}
	w->rd_journal = SIZE_MAX;
	if (w->rd && w->jr) {
		/* its entries are parsed by the reader too (reader_feed) */
		w->rd_journal = w->rd_n;
		w->rd_paths[w->rd_n++] = xstrdup("journal");
	}
	if (w->rd && w->rd_n) {
		int err = reader_start(w->rd, w->rd_paths, rpos, w->rd_n,
				       w->rd_journal, &so, w->now);

		if (err)
			log_err("cannot start the log reader: %s; retrying",
				strerror(-err));
	}
	free(rpos);
	return rc;
}

/* logs_pollfds - what to wait for: the reader's socket, or the follower */
size_t logs_pollfds(struct watch *w, struct pollfd *pfd, size_t max)
{
	if (!w->rd)
		return follower_pollfds(w->fw, pfd, max);
	if (reader_pollfd(w->rd) < 0 || !max)
		return 0;
	pfd[0].fd = reader_pollfd(w->rd);
	pfd[0].events = reader_pollevents(w->rd);
	return 1;
}

/*
 * logs_run - take what was read from the files: 0, 1 at the end of
 * input, -1 failed
 */
int logs_run(struct watch *w)
{
	int rc;

	if (!w->rd) {
		if (follower_run(w->fw, on_line, w))
			return -1;
		return follower_eof(w->fw) ? 1 : 0;
	}
	if (!w->rd_n)
		return 0;
	rc = reader_run(w->rd, w->now, rd_cb(w));
	if (rc < 0)
		log_err("the log reader cannot be restarted: %s",
			strerror(-rc));
	return rc;
}

/* logs_first - the first pass over every log, before READY */
void logs_first(struct watch *w, int sfd)
{
	struct pollfd pfd[2];
	int i;

	if (!w->rd || !w->rd_n) {
		if (logs_run(w) >= 0 && journal_run(w) == 0) {
			flush_pending(w);
			commit(w);
		}
		return;
	}
	/* a signal cuts it short: the main loop takes it */
	for (i = 0; i < 600 && !reader_ready(w->rd); i++) {
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		if (!logs_pollfds(w, pfd + 1, 1))
			pfd[1].fd = -1;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, reader_timeout(w->rd, 100)) > 0 &&
		    pfd[0].revents)
			break;
		if (logs_run(w))
			break;
	}
	journal_run(w);
	flush_pending(w);
	save_positions(w);
	commit(w);
}

/* logs_look - every followed log that is missing or has not grown: say so */
void logs_look(struct watch *w)
{
	size_t i;

	for (i = 0; i < w->nfiles; i++)
		file_look(w, w->files[i]);
	for (i = 0; i < w->rd_n; i++)
		if (i != w->rd_journal)
			file_look_path(w, w->rd_paths[i], &w->rd_ctx[i]);
}

/* logs_stop - the reader reads what is left and stops */
void logs_stop(struct watch *w)
{
	if (w->rd)
		reader_stop(w->rd, rd_cb(w));
}
