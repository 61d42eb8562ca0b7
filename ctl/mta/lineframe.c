// SPDX-License-Identifier: GPL-2.0
/*
 * lineframe.c - owns the line framing of every log reader (lineframe.h):
 * whole lines, and over-long lines dropped whole.
 */
#include <string.h>

#include "mta/lineframe.h"

enum lf_cut lf_cut(struct lineframe *lf, const char *p, size_t n, bool eof,
		   size_t *used, uint64_t *total)
{
	const char *nl;

	*used = 0;
	*total = 0;
	if (lf->skipping) {
		nl = memchr(p, '\n', n);
		if (nl || eof) {
			*used = nl ? (size_t)(nl - p) + 1 : n;
			*total = lf->skipped + *used;
			lf->skipping = false;
			lf->skipped = 0;
			return LF_LONG;
		}
		*used = n;
		lf->skipped += n;
		return LF_MORE;
	}
	/* a line holds at most LF_LINE_MAX bytes before its newline */
	nl = memchr(p, '\n', n > LF_LINE_MAX ? LF_LINE_MAX + 1 : n);
	if (nl) {
		*used = (size_t)(nl - p) + 1;
		return LF_LINE;
	}
	if (n > LF_LINE_MAX) {
		lf->skipping = true;
		lf->skipped = 0;
		return lf_cut(lf, p, n, eof, used, total);
	}
	if (eof && n) {
		*used = n; /* the last line, without a newline */
		return LF_LINE;
	}
	return LF_MORE;
}
