/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scan.h - read MTA log lines, one at a time, and say which of them are
 * events against an SMTP client: a rejection, protocol abuse, a failed
 * authentication or a greylisting deferral (mxwall(8) "scan").
 *
 * Used by: cmd_scan.c (`mxwall scan`) and the controller (`mxwall watch`).
 * Keep the shape of this header stable; add fields at the end.
 *
 * Promises:
 * - The client address comes only from the position where the MTA writes
 *   the connecting client, never from HELO, MAIL FROM, RCPT TO, reverse
 *   names or anything after them. A line that is ambiguous yields nothing
 *   (fail closed) and is counted as "unparsed".
 * - Any byte sequence is accepted: NUL bytes, binary, invalid UTF-8 and
 *   over-long lines are counted as garbage, never a crash.
 * - Memory is bounded: cross-line state (OpenSMTPD sessions, Sendmail
 *   pending unknown-user lines, Postfix SASL de-duplication) lives in fixed
 *   tables with eviction of the oldest entry.
 * - A scanner is not thread-safe; use one per thread (or per log).
 */
#ifndef MXWALL_SCAN_H
#define MXWALL_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/cidr.h"

/* lines longer than this are garbage (no MTA writes one) */
#define SCAN_LINE_MAX (64 * 1024)

struct scan_event {
	int64_t time;	 /* unix seconds (UTC) */
	struct cidr ip;	 /* the client, host entry, canonical */
	const char *mta; /* "postfix", "exim", ... (static string) */
	char tags[64];	 /* comma list, never empty */
};

struct scan_opts {
	const char *const *spamtraps; /* recipient addresses; copied */
	size_t nspamtraps;
	int64_t ref_time; /* e.g. the file's mtime: gives syslog lines
			   * their year; 0 = now */
};

struct scan_stats {
	uint64_t lines;	   /* every line fed */
	uint64_t events;   /* lines that returned an event */
	uint64_t ignored;  /* well-formed lines that are no event */
	uint64_t garbage;  /* no log prefix, NUL bytes, too long, binary */
	uint64_t unparsed; /* rejection-shaped but refused (fail closed):
			    * also counted in ignored */
};

struct scanner;

/*
 * scan_known_tags - every reason tag the scanner writes, DNSBL zones
 * aside (those are names the MTA's configuration queries); NULL-ended
 */
extern const char *const scan_known_tags[];

/* scanner_new - never NULL (aborts on OOM like xmalloc) */
struct scanner *scanner_new(const struct scan_opts *o);
void scanner_free(struct scanner *s);

/*
 * scanner_feed - one line without its newline (a trailing '\r' or '\n' is
 * tolerated); it may hold any bytes. Returns 1 and fills *ev when the line
 * is an event, 0 when not. ev->mta points to a static string. line NULL
 * with len > 0: an over-long line the reader dropped (lineframe.h),
 * counted as garbage.
 */
int scanner_feed(struct scanner *s, const char *line, size_t len,
		 struct scan_event *ev);

/*
 * scanner_set_ref_time - the time the lines to come were written by at the
 * latest (file mtime; now for stdin or a followed log). A syslog stamp that
 * would lie more than a day after it belongs to the year before, which
 * handles a December to January boundary inside one file.
 */
void scanner_set_ref_time(struct scanner *s, int64_t t);

void scanner_stats(const struct scanner *s, struct scan_stats *st);

#endif /* MXWALL_SCAN_H */
