/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reader.h - the side of `mxwall watch` that reads hostile log text,
 * holding nothing (mxwall(8) SECURITY, docs/reliability.md).
 *
 * Three processes:
 *  - the watcher (the caller) keeps what needs privilege: it opens and
 *    reopens the logs, the pinned maps, the database, netlink;
 *  - a spawner, forked by reader_new() while the watcher is still
 *    privileged, switches to the unprivileged user (mxwall, else nobody)
 *    with no capability and no_new_privs, and forks readers on request;
 *  - a reader, forked by the spawner, adds a seccomp filter (no open, no
 *    exec, no bpf, no socket: privsep_seccomp_reader), follows the logs
 *    through descriptors the watcher opens for it and passes over a
 *    socketpair (SCM_RIGHTS), parses them and sends fixed-size records
 *    (rdwire.h): events and positions.
 *
 * Promises:
 *  - The watcher checks every record (rdwire_check, and that a position
 *    names a file it opened for that log); a bad record stops the reader.
 *  - A position moves only with the records before it: an event's record
 *    carries the position just past its line. So a reader killed at any
 *    point is restarted from the last position received, and every line
 *    is read once: nothing lost, nothing repeated (a partial line of
 *    standard input is the exception: the pipe gave it to the dead one).
 *  - A reader that dies is restarted after 0.1 s, doubling to 10 s while
 *    readers die without making progress; why it died is logged.
 * Callers: watch.c.
 */
#ifndef MXWALL_READER_H
#define MXWALL_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/db.h"
#include "mta/scan.h"

struct reader;

struct reader_cb {
	/*
	 * an event of log file, checked; reader_pos() is just past it. name:
	 * the file its line was read from (the log, or a rotated copy being
	 * caught up); line: its number there (0: not known)
	 */
	void (*event)(void *arg, size_t file, const char *name, uint64_t line,
		      const struct scan_event *ev);
	/* lines of log file read since the last call; the position moved */
	void (*moved)(void *arg, size_t file, uint64_t lines);
	void *arg;
};

/*
 * reader_new - start the spawner. Call while still privileged enough to
 * switch users (before privsep_drop()). NULL with errno on failure.
 */
struct reader *reader_new(void);

/*
 * reader_start - follow paths[0..n) ("-" is standard input) from pos
 * (NULL or a zero position: from the start) with a new reader. Stops a
 * running one first (reader_stop). fed < n: that source is not a file but
 * gets its lines from reader_feed() (the journal, which the watcher
 * reads: sd-journal opens and maps its files itself); its name is
 * paths[fed]. Returns 0 or -errno.
 */
int reader_start(struct reader *r, char *const *paths, const struct db_pos *pos,
		 size_t n, size_t fed, const struct scan_opts *so, int64_t now);

/*
 * reader_feed - one entry of the fed source for the reader to parse, with
 * the cursor that resumes after it. Kept until the reader has read it, and
 * sent again to the next reader if this one dies first. -EAGAIN when
 * reader_feed_room() is false: read no more entries until it is true.
 */
int reader_feed(struct reader *r, const char *line, size_t len,
		const char *cursor);
bool reader_feed_room(const struct reader *r);

/*
 * reader_fed_cursor - the cursor of the last fed entry the reader has read
 * (NULL: none yet); *moved: it changed since the last call
 */
const char *reader_fed_cursor(struct reader *r, bool *moved);

/* reader_pollevents - the events to poll reader_pollfd() for */
short reader_pollevents(const struct reader *r);

/* reader_pollfd - the fd to poll for POLLIN; -1 while no reader runs */
int reader_pollfd(const struct reader *r);

/* reader_timeout - timeout lowered to the ms until a restart is due */
int reader_timeout(const struct reader *r, int timeout);

/*
 * reader_run - take what the reader sent (a bounded amount), answer its
 * requests, restart it when due; now is the watcher's clock, passed on.
 * Returns 1 once every source is standard input and it has ended, 0, or
 * -errno when readers can no longer be made (the spawner is gone).
 */
int reader_run(struct reader *r, int64_t now, const struct reader_cb *cb);

/* reader_ready - the running reader has read every log once */
bool reader_ready(const struct reader *r);

/* reader_pos - the position just past the last line received of file */
void reader_pos(const struct reader *r, size_t file, struct db_pos *pos);

/* reader_pid - the running reader, 0 while none runs */
pid_t reader_pid(const struct reader *r);

/*
 * reader_stop - tell the reader to stop, take everything it sent before
 * it did (events included, through cb), and wait for it to end.
 */
void reader_stop(struct reader *r, const struct reader_cb *cb);

/* reader_free - stop the reader and the spawner */
void reader_free(struct reader *r);

#endif /* MXWALL_READER_H */
