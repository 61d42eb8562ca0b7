// SPDX-License-Identifier: GPL-2.0
/*
 * query.c - `mxwall query ADDR...` (alias `why`): the operator's question
 * "why is this address blocked?". For each address: every entry of the
 * filter that covers it, longest first (the first one decides), with its
 * counters; when the kernel last completed an SMTP handshake with it (the
 * record the watcher's require_seen asks, backend/wire.h); its recidive
 * level and pardon from the database; and the events behind the watcher's
 * promotion (or, when it is not blocked by the watcher, the events of the
 * last window, which would count towards one), newest first, with the log
 * file and line each was read from.
 *
 * Exit status: 0 when every address is covered by an entry, 1 when one is
 * not (or on a runtime failure), 2 on a bad address (before anything is
 * opened). Read-only: no lock, nothing is changed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cmd/cli.h"
#include "backend/wire.h"
#include "cmd/cmdline.h"
#include "cmd/commands.h"
#include "core/config.h"
#include "core/db.h"
#include "core/mxwall.h"
#include "report/report.h"
#include "report/table.h"
#include "watch/policy.h"

struct q_event {
	int64_t time;
	char mta[16];
	char tags[64];
	char *file; /* NULL: not known (recorded before schema 3) */
	uint64_t line;
};

struct q_events {
	struct q_event *v;
	size_t n;
};

/* what is known about one address */
struct q_addr {
	struct cidr ip;
	char text[CIDR_STRLEN];
	struct mx_entry *cov; /* covering entries, longest first */
	size_t ncov;
	bool seen_known; /* the handshake record could say */
	int64_t seen;	 /* last SMTP handshake; 0 none */
	bool seen_stale; /* older than seen_max_age */
	bool have_entry; /* a watcher entry (db) for it */
	struct db_entry entry;
	bool promoted; /* that entry is active and covers ip */
	struct db_pardon pardon;
	bool pardoned;
	int64_t ev_from, ev_to;
	struct q_events ev;
};

static int keep_event(void *arg, const struct db_event *ev)
{
	struct q_events *e = arg;
	struct q_event *q;

	e->v = xreallocarray(e->v, e->n + 1, sizeof(*e->v));
	q = &e->v[e->n++];
	memset(q, 0, sizeof(*q));
	q->time = ev->time;
	snprintf(q->mta, sizeof(q->mta), "%s", ev->mta);
	snprintf(q->tags, sizeof(q->tags), "%s", ev->tags);
	q->file = ev->file ? xstrdup(ev->file) : NULL;
	q->line = ev->line;
	return 0;
}

struct pardon_find {
	const struct cidr *ip;
	struct db_pardon *out;
	bool found;
};

/* the longest running pardon that holds the address */
static int find_pardon(void *arg, const struct db_pardon *p)
{
	struct pardon_find *f = arg;
	struct cidr c, best;
	char err[64];

	if (cidr_parse(p->cidr, 0, &c, err, sizeof(err)) < 0 ||
	    !cidr_contains(&c, f->ip))
		return 0;
	if (f->found &&
	    cidr_parse(f->out->cidr, 0, &best, err, sizeof(err)) >= 0 &&
	    best.plen >= c.plen)
		return 0;
	*f->out = *p;
	f->found = true;
	return 0;
}

static int cmp_longest(const void *a, const void *b)
{
	const struct mx_entry *x = a, *y = b;

	return (int)y->net.plen - (int)x->net.plen;
}

/*
 * look_db - the watcher's record: its entry for the address (or for the
 * covering netblock it made), the pardon, the events
 */
static void look_db(struct mx_db *db, const struct mx_config *cfg,
		    struct q_addr *q, uint64_t max, int64_t now)
{
	struct pardon_find pf = {&q->ip, &q->pardon, false};
	int64_t win = (int64_t)config_max_window(cfg);
	char c[CIDR_STRLEN];
	size_t i;

	if (!db_entry_last(db, q->text, &q->entry))
		q->have_entry = true;
	q->promoted = q->have_entry && !q->entry.removed;
	/* an escalated netblock of the watcher covering it */
	for (i = 0; i < q->ncov && !q->promoted; i++) {
		struct db_entry e;

		if (!mx_tags_has(q->cov[i].tags, "a"))
			continue;
		cidr_format(&q->cov[i].net, c, sizeof(c));
		if (!db_entry_last(db, c, &e) && !e.removed) {
			q->entry = e;
			q->have_entry = q->promoted = true;
		}
	}
	db_pardons_active(db, now, find_pardon, &pf);
	q->pardoned = pf.found;
	if (q->promoted) {
		/* what made the promotion: its window before it */
		q->ev_from = q->entry.added - win;
		q->ev_to = q->entry.added;
	} else {
		/* what counts towards one now */
		q->ev_from = now - win;
		q->ev_to = now;
	}
	if (db_events_of(db, q->text, q->ev_from, q->ev_to, (size_t)max,
			 keep_event, &q->ev))
		log_warn("query: database: %s", db_errmsg(db));
}

static const char *ts(int64_t t, char *buf, size_t len)
{
	if (t <= 0)
		snprintf(buf, len, "-");
	else
		fmt_time_iso(t, buf, len);
	return buf;
}

static void print_text(FILE *f, const struct q_addr *q, bool have_db)
{
	char a[64], b[64], c[64], tags[128], net[CIDR_STRLEN], by[32];
	char src[MX_TAGS_LEN];
	size_t i;

	fprintf(f, "%s: %s\n", q->text,
		!q->ncov ? "not covered by any entry"
		: q->cov[0].action == MX_ACT_ALLOW
		    ? "allowed (an exception)"
		    : (q->cov[0].observe ? "observed (counted, passed)"
					 : "blocked"));
	for (i = 0; i < q->ncov; i++) {
		const struct mx_entry *e = &q->cov[i];

		table_tags(e, tags, sizeof(tags));
		fmt_bytes(e->bytes, by, sizeof(by));
		mx_entry_source(e, src, sizeof(src));
		fprintf(f, "  entry     %s  %s  %s  %s  %s\n",
			cidr_format(&e->net, net, sizeof(net)),
			mx_action_name(e),
			e->origin == MX_ORIGIN_STATIC ? "static" : "dynamic",
			src, tags[0] ? tags : "-");
		fprintf(f,
			"            added %s  expires %s  last hit %s  "
			"packets %llu  bytes %s\n",
			ts(e->added, a, sizeof(a)),
			e->expires ? ts(e->expires, b, sizeof(b)) : "never",
			ts(e->last_hit, c, sizeof(c)),
			(unsigned long long)e->packets, by);
	}
	if (!q->seen_known)
		fprintf(f, "  wire      unknown (no record of SMTP handshakes "
			   "here)\n");
	else if (q->seen)
		fprintf(f, "  wire      SMTP handshake %s%s\n",
			ts(q->seen, a, sizeof(a)),
			q->seen_stale ? " (older than seen_max_age)" : "");
	else
		fprintf(f, "  wire      no SMTP handshake recorded\n");
	if (!have_db) {
		fprintf(f, "  database  none (the watcher never ran)\n");
		return;
	}
	if (!q->have_entry)
		fprintf(f, "  recidive  never promoted\n");
	else if (q->promoted)
		fprintf(f,
			"  recidive  level %llu (promoted %s, %llu events)\n",
			(unsigned long long)q->entry.level,
			ts(q->entry.added, a, sizeof(a)),
			(unsigned long long)q->entry.hits);
	else
		fprintf(f,
			"  recidive  level %llu (last entry removed %s: %s)\n",
			(unsigned long long)q->entry.level,
			ts(q->entry.removed, a, sizeof(a)), q->entry.removal);
	if (q->pardoned)
		fprintf(f, "  pardon    until %s (%s, since %s%s%s)\n",
			ts(q->pardon.until, a, sizeof(a)), q->pardon.cidr,
			ts(q->pardon.added, b, sizeof(b)),
			q->pardon.by[0] ? ", by " : "", q->pardon.by);
	else
		fprintf(f, "  pardon    none\n");
	fprintf(f, "  events    %s %s to %s (newest first): %zu\n",
		q->promoted ? "behind the promotion," : "in the last window,",
		ts(q->ev_from, a, sizeof(a)), ts(q->ev_to, b, sizeof(b)),
		q->ev.n);
	for (i = 0; i < q->ev.n; i++) {
		const struct q_event *e = &q->ev.v[i];

		fprintf(f, "    %s  %s  %s  ", ts(e->time, a, sizeof(a)),
			e->mta, e->tags);
		if (e->file && e->line)
			fprintf(f, "%s:%llu\n", e->file,
				(unsigned long long)e->line);
		else if (e->file)
			fprintf(f, "%s\n", e->file);
		else
			fprintf(f, "-\n");
	}
}

static void json_tags(FILE *f, const char *tags)
{
	const char *p = tags;
	char one[64];
	bool first = true;
	size_t l;

	fputc('[', f);
	while (*p) {
		l = strcspn(p, ",");
		if (l && l < sizeof(one)) {
			snprintf(one, sizeof(one), "%.*s", (int)l, p);
			if (!first)
				fputc(',', f);
			json_str(f, one);
			first = false;
		}
		p += l;
		if (*p)
			p++;
	}
	fputc(']', f);
}

static void print_json(FILE *f, const struct q_addr *q, bool have_db)
{
	size_t i;

	fputs("{\"address\":", f);
	json_str(f, q->text);
	fprintf(f, ",\"covered\":%s,", q->ncov ? "true" : "false");
	if (q->ncov)
		entry_json_keys(f, &q->cov[0]);
	else
		fputs(
		    "\"entry\":null,\"action\":null,\"packets\":0,\"bytes\":0,"
		    "\"tags\":[],\"origin\":null,\"source\":null,\"added\":"
		    "null,\"expires\":"
		    "null,\"last_hit\":null",
		    f);
	fputs(",\"entries\":[", f);
	for (i = 0; i < q->ncov; i++) {
		if (i)
			fputc(',', f);
		entry_json(f, &q->cov[i]);
	}
	fputs("],\"seen\":", f);
	if (q->seen_known && q->seen)
		json_time(f, q->seen);
	else
		fputs(q->seen_known ? "false" : "null", f);
	fputs(",\"recidive\":", f);
	if (have_db && q->have_entry)
		fprintf(f, "%llu", (unsigned long long)q->entry.level);
	else
		fputs("null", f);
	fputs(",\"pardon\":", f);
	if (q->pardoned) {
		fputs("{\"entry\":", f);
		json_str(f, q->pardon.cidr);
		fputs(",\"added\":", f);
		json_time(f, q->pardon.added);
		fputs(",\"until\":", f);
		json_time(f, q->pardon.until);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"events\":[", f);
	for (i = 0; i < q->ev.n; i++) {
		const struct q_event *e = &q->ev.v[i];

		fputs(i ? ",{\"time\":" : "{\"time\":", f);
		json_time(f, e->time);
		fputs(",\"mta\":", f);
		json_str(f, e->mta);
		fputs(",\"tags\":", f);
		json_tags(f, e->tags);
		fputs(",\"file\":", f);
		if (e->file)
			json_str(f, e->file);
		else
			fputs("null", f);
		fputs(",\"line\":", f);
		if (e->line)
			fprintf(f, "%llu", (unsigned long long)e->line);
		else
			fputs("null", f);
		fputc('}', f);
	}
	fputs("]}", f);
}

/* parse_hosts - every argument a full address (no netblock): else exit 2 */
static struct q_addr *parse_hosts(const char *cmd, int n, char **argv)
{
	struct q_addr *q = xcalloc((size_t)n, sizeof(*q));
	char why[160];
	int i;

	for (i = 0; i < n; i++) {
		if (cidr_parse(argv[i], 0, &q[i].ip, why, sizeof(why)) < 0) {
			free(q);
			log_usage("%s: %s", cmd, why);
		}
		if (!cidr_is_host(&q[i].ip)) {
			free(q);
			log_usage("%s: %s: expected an address, not a "
				  "netblock",
				  cmd, argv[i]);
		}
		cidr_format(&q[i].ip, q[i].text, sizeof(q[i].text));
	}
	return q;
}

int cmd_query(int argc, char **argv)
{
	const char *cmd = argv[0], *conf = NULL;
	struct mx_entry *rows = NULL;
	struct mx_config cfg;
	struct mx_db *db = NULL;
	struct wire_reader wire;
	struct backend be;
	struct q_addr *q;
	uint64_t max = 10;
	bool json = false, all = true;
	size_t nrows = 0, k, j;
	int c, i, n, rc, err;
	int64_t now;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'n':
			if (parse_u64(optarg, 0, 100000000, &max))
				log_usage(
				    "%s: -n %s: expected a number of events",
				    cmd, optarg);
			break;
		}
	}
	n = argc - optind;
	if (n <= 0)
		log_usage("%s: missing ADDR (see 'mxwall %s --help')", cmd,
			  cmd);
	q = parse_hosts(cmd, n, argv + optind);
	memset(&cfg, 0, sizeof(cfg));
	rc = report_load_config(cmd, conf, &cfg);
	if (rc)
		goto out;
	rc = cmd_open(cmd, &be, 0);
	if (rc)
		goto out;
	wire_reader_init(&wire, be.pin_dir);
	err = be.ops->dump(&be, &rows, &nrows);
	if (err) {
		log_err("%s: cannot read the entries: %s", cmd,
			backend_strerror(err));
		rc = EXIT_RUNTIME;
		backend_close(&be);
		goto out;
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < nrows; k++) {
			if (!cidr_contains(&rows[k].net, &q[i].ip))
				continue;
			q[i].cov = xreallocarray(q[i].cov, q[i].ncov + 1,
						 sizeof(*q[i].cov));
			q[i].cov[q[i].ncov++] = rows[k];
		}
		qsort(q[i].cov, q[i].ncov, sizeof(*q[i].cov), cmp_longest);
		err = wire_lookup(&wire, &q[i].ip, &q[i].seen);
		q[i].seen_known = !err || err == -ENOENT;
		if (err)
			q[i].seen = 0;
		q[i].seen_stale =
		    q[i].seen && !policy_seen_fresh(&cfg, q[i].seen, mx_now());
		if (!q[i].ncov)
			all = false;
	}
	wire_reader_close(&wire);
	backend_close(&be);
	rc = report_open_db(cmd, mx_opt.state_dir, &cfg, false, &db);
	if (rc)
		goto out;
	now = mx_now();
	for (i = 0; db && i < n; i++)
		look_db(db, &cfg, &q[i], max, now);
	if (json)
		fputs("[\n", stdout);
	for (i = 0; i < n; i++) {
		if (json) {
			fputs("  ", stdout);
			print_json(stdout, &q[i], db != NULL);
			fputs(i + 1 < n ? ",\n" : "\n", stdout);
		} else {
			if (i)
				fputc('\n', stdout);
			print_text(stdout, &q[i], db != NULL);
		}
	}
	if (json)
		fputs("]\n", stdout);
	rc = all ? EXIT_OK : EXIT_RUNTIME;
out:
	for (i = 0; i < n; i++) {
		for (j = 0; j < q[i].ev.n; j++)
			free(q[i].ev.v[j].file);
		free(q[i].ev.v);
		free(q[i].cov);
	}
	free(q);
	free(rows);
	db_close(db);
	config_free(&cfg);
	return rc;
}
