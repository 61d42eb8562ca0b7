// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - "mxwall metrics": the data path's counters, the entries by
 * origin, the controller's promotions and expiries, the top entries' drops
 * and the controller's lag behind each log, in Prometheus text format.
 *
 * With --out FILE the text is written atomically (temp file in the same
 * directory, fsync, rename), so node_exporter's textfile collector never
 * reads half a file; the file should end in ".prom". A device or FIFO is
 * written in place, "-" is standard output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/db.h"
#include "report/metrics.h"
#include "core/mxwall.h"
#include "report/report.h"
#include "report/table.h"

void metrics_label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP mxwall_%s %s\n# TYPE mxwall_%s %s\n", name, help,
		name, type);
}

static void scalar(FILE *f, const char *name, const char *type,
		   const char *help, uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "mxwall_%s %llu\n", name, (unsigned long long)v);
}

/* backend_info - one series per (backend, mode) in use */
static void backend_info(FILE *f, const struct mx_status *st)
{
	const char *be = st->backend ? st->backend : "unknown";
	bool native = false, generic = false;
	size_t i;

	for (i = 0; i < st->nifaces; i++) {
		if (st->ifaces[i].mode == MX_MODE_NATIVE)
			native = true;
		else
			generic = true;
	}
	if (!st->nifaces || strcmp(be, "xdp")) {
		fprintf(f,
			"mxwall_backend_info{backend=\"%s\",mode=\"%s\"} 1\n",
			be, st->nifaces ? "ingress" : "detached");
		return;
	}
	if (native)
		fprintf(
		    f,
		    "mxwall_backend_info{backend=\"%s\",mode=\"native\"} 1\n",
		    be);
	if (generic)
		fprintf(
		    f,
		    "mxwall_backend_info{backend=\"%s\",mode=\"generic\"} 1\n",
		    be);
}

void metrics_format(FILE *f, const struct metrics_input *in)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} ctr[] = {
	    {"packets_seen_total", "Packets the data path looked at.",
	     offsetof(struct mx_counters, seen)},
	    {"smtp_syn_total", "SMTP SYNs seen.",
	     offsetof(struct mx_counters, syn)},
	    {"dropped_total", "SMTP SYNs dropped from blocked sources.",
	     offsetof(struct mx_counters, dropped)},
	    {"allowed_total", "SMTP SYNs passed by an allow exception.",
	     offsetof(struct mx_counters, allowed)},
	    {"observed_total",
	     "SMTP SYNs that would have been dropped (observe mode).",
	     offsetof(struct mx_counters, observed)},
	    {"passed_total", "Packets passed.",
	     offsetof(struct mx_counters, passed)},
	    {"malformed_total",
	     "Packets passed because a header did not fit the frame.",
	     offsetof(struct mx_counters, malformed)},
	};
	const struct mx_status *st = in->st;
	char host[CIDR_STRLEN];
	size_t i;

	if (st) {
		for (i = 0; i < ARRAY_SIZE(ctr); i++)
			scalar(f, ctr[i].name, "counter", ctr[i].help,
			       *(const uint64_t *)((const char *)&st->counters +
						   ctr[i].off));
		family(f, "entries", "gauge",
		       "Entries in the filter by origin.");
		fprintf(f, "mxwall_entries{origin=\"static\"} %zu\n",
			st->entries_static);
		fprintf(f, "mxwall_entries{origin=\"dynamic\"} %zu\n",
			st->entries_dynamic);
		scalar(f, "entries_capacity", "gauge",
		       "Entries the tables can hold.", st->capacity);
		scalar(f, "interfaces_attached", "gauge",
		       "Interfaces the filter is attached to.", st->nifaces);
		family(f, "backend_info", "gauge",
		       "The backend in use and how it is attached (mode "
		       "native, generic, ingress or detached).");
		backend_info(f, st);
	}
	scalar(f, "controller_up", "gauge",
	       "1 while mxwall watch runs on this state directory.",
	       in->controller_up ? 1 : 0);
	if (in->have_db) {
		scalar(f, "promotions_total", "counter",
		       "Sources the controller promoted into the filter.",
		       in->promotions);
		scalar(f, "expiries_total", "counter",
		       "Dynamic entries that expired or left idle.",
		       in->expiries);
	}
	if (in->ntop) {
		family(f, "entry_packets_total", "counter",
		       "SMTP SYNs matched by an entry (the top entries by "
		       "packets).");
		for (i = 0; i < in->ntop; i++) {
			fputs("mxwall_entry_packets_total{entry=", f);
			metrics_label(f, cidr_format(&in->top[i].net, host,
						     sizeof(host)));
			fprintf(f, ",action=\"%s\"} %llu\n",
				mx_action_name(&in->top[i]),
				(unsigned long long)in->top[i].packets);
		}
		family(f, "entry_bytes_total", "counter",
		       "IP bytes matched by an entry (the top entries by "
		       "packets).");
		for (i = 0; i < in->ntop; i++) {
			fputs("mxwall_entry_bytes_total{entry=", f);
			metrics_label(f, cidr_format(&in->top[i].net, host,
						     sizeof(host)));
			fprintf(f, ",action=\"%s\"} %llu\n",
				mx_action_name(&in->top[i]),
				(unsigned long long)in->top[i].bytes);
		}
	}
	if (in->nlag) {
		family(f, "log_lag_seconds", "gauge",
		       "Seconds the controller is behind a log (age of its "
		       "oldest unread line).");
		for (i = 0; i < in->nlag; i++) {
			fputs("mxwall_log_lag_seconds{log=", f);
			metrics_label(f, in->lag[i].log);
			fprintf(f, "} %.3f\n", in->lag[i].seconds);
		}
		family(f, "log_lag_bytes", "gauge",
		       "Bytes of a log the controller has not read yet.");
		for (i = 0; i < in->nlag; i++) {
			fputs("mxwall_log_lag_bytes{log=", f);
			metrics_label(f, in->lag[i].log);
			fprintf(f, "} %llu\n",
				(unsigned long long)in->lag[i].bytes);
		}
	}
}

/* ---- the command */

/* parse_line_time - the timestamp a log line starts with; 0 if none */
static int64_t parse_line_time(const char *line, int64_t now)
{
	struct tm tm;
	const char *p;
	time_t t;
	int sign, hh, mm;

	memset(&tm, 0, sizeof(tm));
	/* ISO 8601 (journalctl -o short-iso, rsyslog high precision) */
	p = strptime(line, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p) {
		if (*p == '.' || *p == ',')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		if (*p == 'Z')
			return (int64_t)timegm(&tm);
		if ((*p == '+' || *p == '-') &&
		    (sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2 ||
		     sscanf(p + 1, "%2d%2d", &hh, &mm) == 2)) {
			sign = *p == '-' ? -1 : 1;
			return (int64_t)timegm(&tm) -
			       sign * (hh * 3600 + mm * 60);
		}
		tm.tm_isdst = -1;
		return (int64_t)mktime(&tm);
	}
	/* RFC 3164 "Nov 23 14:28:43": this year, or last year's December */
	memset(&tm, 0, sizeof(tm));
	if (!strptime(line, "%b %d %H:%M:%S", &tm))
		return 0;
	{
		time_t n = (time_t)now;
		struct tm nt;

		localtime_r(&n, &nt);
		tm.tm_year = nt.tm_year;
	}
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if ((int64_t)t > now + 86400) {
		tm.tm_year--;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	return (int64_t)t;
}

/*
 * log_lag - how far the watcher is behind path: the unread bytes after its
 * read position, and the age of the first unread line (its timestamp; if
 * it has none, the file's mtime, which makes the figure a lower bound).
 * A log that was rotated away from the position is unread from its start.
 */
static int log_lag(struct mx_db *db, const char *path, int64_t now,
		   struct metrics_lag *lag)
{
	struct db_pos pos;
	struct stat sb;
	char line[512];
	uint64_t off = 0;
	int64_t t;
	ssize_t r;
	int fd;

	lag->log = path;
	lag->seconds = 0;
	lag->bytes = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		close(fd);
		return -errno;
	}
	if (!db_pos_get(db, path, &pos) && pos.dev == (uint64_t)sb.st_dev &&
	    pos.inode == (uint64_t)sb.st_ino &&
	    pos.offset <= (uint64_t)sb.st_size)
		off = pos.offset;
	lag->bytes = (uint64_t)sb.st_size - off;
	if (lag->bytes) {
		r = pread(fd, line, sizeof(line) - 1, (off_t)off);
		line[r > 0 ? r : 0] = '\0';
		t = parse_line_time(line, now);
		if (!t)
			t = (int64_t)sb.st_mtime;
		lag->seconds = t < now ? (double)(now - t) : 0;
	}
	close(fd);
	return 0;
}

struct count_arg {
	uint64_t n;
};

static int count_action(void *arg, const struct db_action *a)
{
	(void)a;
	((struct count_arg *)arg)->n++;
	return 0;
}

/* count_actions - actions of the given kinds over all time */
static int count_actions(struct mx_db *db, const char *const *kinds,
			 uint64_t *n)
{
	struct count_arg c = {0};
	int err;

	for (; *kinds; kinds++) {
		err = db_actions_between(db, 0, INT64_MAX, *kinds, count_action,
					 &c);
		if (err)
			return err;
	}
	*n = c.n;
	return 0;
}

int metrics_run(const struct backend_opts *bo, const char *conf,
		const char *out)
{
	static const char *const promote[] = {"promote", "escalate", NULL};
	static const char *const expire[] = {"expire", "idle", NULL};
	const char *cmd = "metrics";
	struct metrics_input in = {0};
	struct metrics_lag *lag = NULL;
	struct mx_entry *rows = NULL;
	struct mx_config cfg;
	struct mx_status st;
	struct mx_db *db = NULL;
	struct backend be;
	int64_t now = (int64_t)time(NULL);
	char *text = NULL;
	size_t n = 0, len = 0, i;
	FILE *f;
	int rc, err;

	rc = report_load_config(cmd, conf, &cfg);
	if (rc)
		return rc;
	err = backend_open(&be, bo, 0);
	if (err) {
		log_err("%s: %s", cmd, backend_strerror(err));
		rc = EXIT_RUNTIME;
		goto out_cfg;
	}
	memset(&st, 0, sizeof(st));
	err = be.ops->status(&be, &st);
	if (!err)
		err = be.ops->dump(&be, &rows, &n);
	backend_close(&be);
	if (err) {
		log_err("%s: cannot read the counters: %s", cmd,
			backend_strerror(err));
		rc = EXIT_RUNTIME;
		goto out_cfg;
	}
	/* the report's per-day drops need a daily snapshot: take it here too */
	report_note_day(bo->state_dir, &st.counters, now);
	table_sort_packets(rows, n);
	in.st = &st;
	in.controller_up = mx_controller_pid(bo->state_dir) > 0;
	in.top = rows;
	in.ntop = n < cfg.report_top ? n : (size_t)cfg.report_top;
	rc = report_open_db(cmd, bo->state_dir, &cfg, false, &db);
	if (rc)
		goto out_cfg;
	if (db) {
		in.have_db = !count_actions(db, promote, &in.promotions) &&
			     !count_actions(db, expire, &in.expiries);
		lag = xcalloc(cfg.nlogs + 1, sizeof(*lag));
		for (i = 0; i < cfg.nlogs; i++)
			if (strcmp(cfg.logs[i], "-") &&
			    !log_lag(db, cfg.logs[i], now, &lag[in.nlag]))
				in.nlag++;
		in.lag = lag;
	}
	f = open_memstream(&text, &len);
	if (!f)
		log_fatal("out of memory");
	metrics_format(f, &in);
	fclose(f);
	if (out && strcmp(out, "-")) {
		err = write_file_atomic(out, text, len, 0644);
		if (err) {
			log_err("%s: --out %s: %s", cmd, out, strerror(-err));
			rc = EXIT_RUNTIME;
		}
	} else if (fwrite(text, 1, len, stdout) != len || fflush(stdout)) {
		log_err("%s: cannot write: %s", cmd, strerror(errno));
		rc = EXIT_RUNTIME;
	}
	free(text);
	free(lag);
	if (db)
		db_close(db);
out_cfg:
	free(rows);
	config_free(&cfg);
	return rc;
}
