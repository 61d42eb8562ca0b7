/* SPDX-License-Identifier: GPL-2.0 */
/*
 * journal.h - the systemd journal as a log source, through libsystemd's
 * sd-journal: `log = journal` with `journal_match = ...` in mxwall.conf.
 *
 * Promises:
 *  - Entries come in journal order as the line `journalctl -o short-iso`
 *    would print (UTC stamp, host, identifier[pid]: message), so the
 *    same scanners read them as files.
 *  - Resumable: journal_cursor() names the last entry returned; a reader
 *    opened with that cursor returns the entry after it and nothing
 *    before. If that entry was vacuumed meanwhile, the reader starts at
 *    the first entry after where it was (sd-journal's seek by seqnum or
 *    time). Files rotated, added or removed while reading are followed by
 *    sd-journal itself.
 *  - Trust: each entry says whether the fields journald sets itself
 *    (_UID, _COMM, _SYSTEMD_UNIT; a client cannot forge them) show it was
 *    written by the MTA: a system account (uid below 1000) running an MTA
 *    program or in an MTA's unit (one named in a match, or a known one).
 *    A user's `logger -t postfix/smtpd` has the right identifier but
 *    _COMM=logger and a login uid: not trusted. Callers ignore and count
 *    untrusted entries.
 *  - Nothing here blocks: journal_next() returns 0 when there is nothing
 *    new; poll journal_fd() (and call again at least once a second: a
 *    writer need not wake inotify).
 *
 * Self-contained (no controller state): it can run in a reader process.
 */
#ifndef MXWALL_JOURNAL_H
#define MXWALL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mx_journal;

struct mx_journal_opts {
	const char *directory;	  /* NULL: the local system journal */
	const char *const *match; /* journal_match values, OR-ed; each is
				   * FIELD=VALUE terms (AND), '+' = OR */
	size_t nmatch;
	const char *cursor;  /* resume after this entry; NULL: since_usec */
	uint64_t since_usec; /* first start: entries from this time on */
};

struct mx_journal_entry {
	const char *line; /* valid until the next call; no newline */
	size_t len;
	int64_t time;	 /* unix seconds (__REALTIME_TIMESTAMP) */
	bool trusted;	 /* written by the MTA, see above */
	const char *why; /* if not trusted: which field said no */
};

/* journal_open - 0, or -errno with the reason in err */
int journal_open(const struct mx_journal_opts *o, struct mx_journal **out,
		 char *err, size_t errlen);
void journal_close(struct mx_journal *j);

/* journal_check_match - 0 if a journal_match value is well formed, else
 * -EINVAL with the reason in err (for config checks) */
int journal_check_match(const char *match, char *err, size_t errlen);

/* journal_next - 1 with an entry, 0 when nothing is new, -errno */
int journal_next(struct mx_journal *j, struct mx_journal_entry *e);

/* journal_cursor - of the last entry journal_next() returned; NULL before
 * the first (then the cursor given to journal_open still stands) */
const char *journal_cursor(const struct mx_journal *j);

/* journal_fd - to poll for new entries; -1 if none */
int journal_fd(struct mx_journal *j);
/* journal_process - after journal_fd() was readable */
void journal_process(struct mx_journal *j);

/* journal_usage - bytes of the journal files open (0: nothing to read) */
int journal_usage(struct mx_journal *j, uint64_t *bytes);

#endif /* MXWALL_JOURNAL_H */
