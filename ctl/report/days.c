// SPDX-License-Identifier: GPL-2.0
/*
 * days.c - the report's week on disk, in the state directory: the
 * baseline of this week (report-week: the time of the last reset and the
 * global counters then), the daily snapshots of the global counters
 * (report-days, written by report_note_day() from report, metrics and
 * watch) and the per-day drops made of them (report_split_days()); and the
 * durable small-file writes the reset uses for its marker and archive.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mxwall.h"
#include "report/report.h"
#include "report/report_int.h"

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

void report_counters_sub(struct mx_counters *out, const struct mx_counters *now,
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

/* report_write_durable - write_file_atomic, then the directory entry too */
int report_write_durable(const char *dir, const char *name, const char *data,
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

/* report_read_small - a whole small file into a malloc'd string; -ENOENT if
 * none */
int report_read_small(const char *dir, const char *name, char **out)
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

/* report_week_read - the baseline of this week; -ENOENT when none was recorded
 */
int report_week_read(const char *state_dir, struct report_snap *base)
{
	char *buf = NULL, *nl;
	long long start;
	int err = report_read_small(state_dir, WEEK_FILE, &buf);

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

int report_week_write(const char *state_dir, const struct report_snap *base)
{
	char buf[512], c[256];
	int n;

	counters_fmt(c, sizeof(c), &base->c);
	n = snprintf(buf, sizeof(buf), "start %lld\ncounters %s\n",
		     (long long)base->at, c);
	return report_write_durable(state_dir, WEEK_FILE, buf, (size_t)n);
}

/* report_days_read - every snapshot in the days file, oldest first */
int report_days_read(const char *state_dir, struct report_snap **out, size_t *n)
{
	char *buf = NULL, *line, *save = NULL;
	struct report_snap *s = NULL;
	size_t cap = 0;
	long long at;
	int err, off;

	*out = NULL;
	*n = 0;
	err = report_read_small(state_dir, DAYS_FILE, &buf);
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

/* report_next_midnight - start of the local day after the one that holds t */
int64_t report_next_midnight(int64_t t)
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

	err = report_days_read(state_dir, &s, &n);
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
		err = report_write_durable(state_dir, DAYS_FILE, buf, len);
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
		d[i].end = i + 1 < nd
			       ? d[i + 1].start
			       : report_next_midnight(snaps[n - 1].at - 1);
	for (i = 0; i + 1 < nd; i++)
		if (d[i].end < report_next_midnight(d[i].start))
			d[i].end = report_next_midnight(d[i].start);
	*out = d;
	return nd;
}
