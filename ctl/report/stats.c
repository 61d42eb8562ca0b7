// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - "mxwall stats persistence": how persistent refused sources are.
 *
 * The counting is a pure function over events (stats.h says exactly what a
 * try is and which sources count); cmd_stats() only reads the events of the
 * last N days from the controller's database and prints the result.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/db.h"
#include "core/mxwall.h"
#include "report/report.h"
#include "report/stats.h"

int stats_bucket(uint64_t retries)
{
	if (retries <= 4)
		return (int)retries - 1;
	if (retries <= 10)
		return STATS_B5_10;
	return STATS_BMORE;
}

static int event_cmp(const void *a, const void *b)
{
	const struct stats_event *x = a, *y = b;
	int c = memcmp(&x->src, &y->src, sizeof(x->src));

	if (c)
		return c;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct stats_row *x = a, *y = b;

	if (x->ips != y->ips)
		return x->ips > y->ips ? -1 : 1;
	return strcmp(x->what, y->what);
}

/* row_get - the row of tag, made on first use */
static struct stats_row *row_get(struct stats_result *res, size_t *cap,
				 const char *tag, size_t len)
{
	size_t i;

	if (len >= sizeof(res->rows[0].what))
		len = sizeof(res->rows[0].what) - 1;
	for (i = 1; i < res->nrows; i++)
		if (!strncmp(res->rows[i].what, tag, len) &&
		    res->rows[i].what[len] == '\0')
			return &res->rows[i];
	if (res->nrows == *cap) {
		*cap *= 2;
		res->rows = xreallocarray(res->rows, *cap, sizeof(*res->rows));
	}
	memset(&res->rows[res->nrows], 0, sizeof(res->rows[0]));
	memcpy(res->rows[res->nrows].what, tag, len);
	return &res->rows[res->nrows++];
}

/* seen_tag - has this source already been counted under tag */
static bool seen_tag(const char **seen, size_t nseen, const char *tag,
		     size_t len)
{
	size_t i;

	for (i = 0; i < nseen; i++)
		if (!strncmp(seen[i], tag, len) &&
		    (seen[i][len] == ',' || seen[i][len] == '\0'))
			return true;
	return false;
}

/* count_source - add one source (events ev[0..n), sorted by time) */
static void count_source(struct stats_result *res, size_t *cap,
			 const struct stats_event *ev, size_t n,
			 const char ***seen, size_t *seencap)
{
	uint64_t tries = 1;
	size_t i, nseen = 0, len;
	const char *p, *end;
	struct stats_row *row;
	int b;

	for (i = 1; i < n; i++)
		if (ev[i].time - ev[i - 1].time >= STATS_TRY_GAP_SEC)
			tries++;
	if (tries < 2)
		return;
	b = stats_bucket(tries - 1);
	res->rows[0].ips++;
	res->rows[0].n[b]++;
	for (i = 0; i < n; i++) {
		for (p = ev[i].tags; p && *p; p = *end ? end + 1 : end) {
			end = strchrnul(p, ',');
			len = (size_t)(end - p);
			if (!len || seen_tag(*seen, nseen, p, len))
				continue;
			if (nseen == *seencap) {
				*seencap *= 2;
				*seen = xreallocarray(*seen, *seencap,
						      sizeof(**seen));
			}
			(*seen)[nseen++] = p;
			row = row_get(res, cap, p, len);
			row->ips++;
			row->n[b]++;
		}
	}
}

int stats_persistence(struct stats_event *ev, size_t n,
		      struct stats_result *res)
{
	size_t cap = 8, seencap = 8, i, start;
	const char **seen;

	res->rows = xcalloc(cap, sizeof(*res->rows));
	res->nrows = 1;
	snprintf(res->rows[0].what, sizeof(res->rows[0].what), "all refused");
	seen = xcalloc(seencap, sizeof(*seen));
	if (n)
		qsort(ev, n, sizeof(*ev), event_cmp);
	for (start = 0, i = 1; i <= n; i++) {
		if (i < n &&
		    !memcmp(&ev[i].src, &ev[start].src, sizeof(ev[i].src)))
			continue;
		if (n)
			count_source(res, &cap, ev + start, i - start, &seen,
				     &seencap);
		start = i;
	}
	free(seen);
	if (res->nrows > 2)
		qsort(res->rows + 1, res->nrows - 1, sizeof(*res->rows),
		      row_cmp);
	return 0;
}

void stats_result_free(struct stats_result *res)
{
	free(res->rows);
	res->rows = NULL;
	res->nrows = 0;
}

void stats_print(FILE *f, const struct stats_result *res)
{
	static const int widths[STATS_NBUCKETS] = {5, 7, 7, 7, 10, 4};
	char ips[32], pct[16];
	int w = 16, b;
	size_t i;

	for (i = 0; i < res->nrows; i++)
		if ((int)strlen(res->rows[i].what) > w)
			w = (int)strlen(res->rows[i].what);
	fprintf(f, "%-*s  %13s  %5s  %7s  %7s  %7s  %10s  %4s\n", w, "What",
		"Different IPs", "1 try", "2 tries", "3 tries", "4 tries",
		"5-10 tries", "more");
	for (i = 0; i < res->nrows; i++) {
		fmt_thousands(res->rows[i].ips, ips, sizeof(ips));
		fprintf(f, "%-*s  %13s", w, res->rows[i].what, ips);
		for (b = 0; b < STATS_NBUCKETS; b++) {
			fmt_pct(res->rows[i].n[b], res->rows[i].ips, pct,
				sizeof(pct));
			fprintf(f, "  %*s", widths[b], pct);
		}
		fputc('\n', f);
	}
}

void stats_print_json(FILE *f, const struct stats_result *res, int days)
{
	static const char *const names[STATS_NBUCKETS] = {
	    "1", "2", "3", "4", "5-10", "more",
	};
	size_t i;
	int b;

	fprintf(f, "{\"days\": %d, \"try_gap_seconds\": %d, \"rows\": [", days,
		STATS_TRY_GAP_SEC);
	for (i = 0; i < res->nrows; i++) {
		fprintf(f, "%s\n  {\"what\": ", i ? "," : "");
		json_str(f, res->rows[i].what);
		fprintf(f, ", \"ips\": %llu, \"retries\": {",
			(unsigned long long)res->rows[i].ips);
		for (b = 0; b < STATS_NBUCKETS; b++)
			fprintf(f, "%s\"%s\": %llu", b ? ", " : "", names[b],
				(unsigned long long)res->rows[i].n[b]);
		fprintf(f, "}}");
	}
	fprintf(f, "\n]}\n");
}

/* ---- the command: events of the last N days from the database */

struct load {
	struct stats_event *ev;
	size_t n, cap;
	char **tags; /* distinct tag lists, interned */
	size_t ntags, tagcap;
	uint64_t bad; /* addresses that did not parse */
};

/* intern - one copy of each distinct tag list (there are few) */
static const char *intern(struct load *l, const char *tags)
{
	size_t i;

	for (i = l->ntags; i > 0; i--)
		if (!strcmp(l->tags[i - 1], tags))
			return l->tags[i - 1];
	if (l->ntags == l->tagcap) {
		l->tagcap = l->tagcap ? l->tagcap * 2 : 32;
		l->tags = xreallocarray(l->tags, l->tagcap, sizeof(*l->tags));
	}
	l->tags[l->ntags] = xstrdup(tags);
	return l->tags[l->ntags++];
}

static int load_event(void *arg, const struct db_event *e)
{
	struct load *l = arg;
	struct stats_event *s;
	char err[128];

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->ev = xreallocarray(l->ev, l->cap, sizeof(*l->ev));
	}
	s = &l->ev[l->n];
	if (cidr_parse(e->ip, CIDR_HOST_ONLY, &s->src, err, sizeof(err)) < 0) {
		l->bad++;
		return 0;
	}
	s->time = e->time;
	s->tags = intern(l, e->tags);
	l->n++;
	return 0;
}

int stats_run(const char *state_dir, const char *conf, uint64_t days, bool json)
{
	const char *cmd = "stats persistence";
	struct stats_result res = {0};
	struct load l = {0};
	struct mx_config cfg;
	struct mx_db *db = NULL;
	int64_t now = (int64_t)time(NULL);
	size_t i;
	int rc, err;

	rc = report_load_config(cmd, conf, &cfg);
	if (rc)
		return rc;
	rc = report_open_db(cmd, state_dir, &cfg, false, &db);
	config_free(&cfg);
	if (rc)
		return rc;
	if (!db) {
		log_err("%s: no controller database yet (run 'mxwall watch' "
			"first)",
			cmd);
		return EXIT_RUNTIME;
	}
	err = db_events_since(db, now - (int64_t)days * 86400, load_event, &l);
	if (err) {
		log_err("%s: cannot read the events: %s", cmd, db_errmsg(db));
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (l.bad)
		log_warn("%s: %llu events with an unreadable address skipped",
			 cmd, (unsigned long long)l.bad);
	stats_persistence(l.ev, l.n, &res);
	if (json)
		stats_print_json(stdout, &res, (int)days);
	else
		stats_print(stdout, &res);
	if (fflush(stdout)) {
		log_err("%s: cannot write: %s", cmd, strerror(errno));
		rc = EXIT_RUNTIME;
	}
	stats_result_free(&res);
out:
	for (i = 0; i < l.ntags; i++)
		free(l.tags[i]);
	free(l.tags);
	free(l.ev);
	db_close(db);
	return rc;
}
