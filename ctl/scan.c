// SPDX-License-Identifier: GPL-2.0
/*
 * scan.c - the line dispatcher for MTA logs (stub while the parsers land).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxwall.h"
#include "scan.h"

struct scanner {
	struct scan_stats st;
	int64_t ref_time;
};

struct scanner *scanner_new(const struct scan_opts *o)
{
	struct scanner *s = xcalloc(1, sizeof(*s));

	s->ref_time = o && o->ref_time ? o->ref_time : (int64_t)time(NULL);
	return s;
}

void scanner_free(struct scanner *s)
{
	free(s);
}

int scanner_feed(struct scanner *s, const char *line, size_t len,
		 struct scan_event *ev)
{
	(void)line;
	(void)len;
	(void)ev;
	s->st.lines++;
	s->st.ignored++;
	return 0;
}

void scanner_set_ref_time(struct scanner *s, int64_t t)
{
	s->ref_time = t;
}

void scanner_stats(const struct scanner *s, struct scan_stats *st)
{
	*st = s->st;
}
