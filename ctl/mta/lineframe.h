/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lineframe.h - the one rule by which every log reader cuts bytes into
 * lines (logread.c for `scan`, follow.c for `watch`, files and stdin
 * alike): a line ends at its newline, or at the end of the input. A line
 * longer than LF_LINE_MAX bytes (its newline not counted) is no line: it
 * is dropped whole, up to and with its newline, and reported once as an
 * over-long line, which the scanner counts as garbage. No part of it is
 * ever read as a line of its own, so the same bytes give the same events
 * in every reader.
 */
#ifndef MXWALL_LINEFRAME_H
#define MXWALL_LINEFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LF_LINE_MAX (64 * 1024) /* = SCAN_LINE_MAX: no MTA writes more */

/* where a reader is in its input: inside an over-long line or not */
struct lineframe {
	bool skipping;	  /* dropping an over-long line to its newline */
	uint64_t skipped; /* its bytes dropped so far */
};

enum lf_cut {
	LF_MORE, /* no line yet: drop *used bytes, then read more */
	LF_LINE, /* p[0, *used) is a line, with its newline if it has one */
	LF_LONG, /* an over-long line ends with p[0, *used); *total bytes */
};

/*
 * lf_cut - the next line in the unread bytes p[0, n); eof: no more bytes
 * will come. A reader holds at most LF_LINE_MAX + 1 unread bytes plus what
 * it reads at once: more are dropped (LF_MORE with *used > 0).
 */
enum lf_cut lf_cut(struct lineframe *lf, const char *p, size_t n, bool eof,
		   size_t *used, uint64_t *total);

#endif /* MXWALL_LINEFRAME_H */
