/* SPDX-License-Identifier: GPL-2.0 */
/*
 * db.h - the state database of the controller (SQLite, one file under
 * /var/lib/mxwall/): rejection events, the entries `watch` added and why,
 * the promotions/expiries log, and the read position in each log.
 *
 * Promises:
 *  - The schema carries a version (PRAGMA user_version); db_open() migrates
 *    an older file forward in one transaction and refuses a newer one.
 *  - WAL journal, synchronous=NORMAL: a commit survives a crash of the
 *    process (kill -9) at any moment. On power loss the last commits may
 *    roll back, but events and read positions are written in the same
 *    transaction, so they roll back together: the lines are read again,
 *    never counted twice or skipped.
 *  - Writers batch: db_begin() opens a transaction if none is open, and
 *    db_commit() ends it. A transaction SQLite rolls back by itself (a
 *    full disk) is not lost: its writes are kept as SQL and run again, in
 *    order, by the next db_begin() or db_commit(); until then no write
 *    runs outside it (db_stalled()). Readers (report, stats) never block the
 * watcher for long (busy timeout, WAL readers do not block the writer).
 *  - Every event keeps where it was read (log file and line) for `query`;
 *    events of a database made before schema 3 have neither (NULL, 0).
 *  - Pardons (`unblock --pardon`) live here, not in the filter, so that
 *    they survive a restart of the watcher and the weekly reset.
 * Callers: watch/ (writer), report.c, reset.c, stats.c, metrics.c, cmd/query.c
 * (readers), cmd/entries.c (pardons).
 */
#ifndef MXWALL_DB_H
#define MXWALL_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cidr.h"

#define DB_SCHEMA_VERSION 4

#define DB_READONLY 0x1 /* open an existing file for reading */
#define DB_MEMORY 0x2	/* a private in-memory database (dry-run) */

struct mx_db;

struct db_event {
	int64_t time;	      /* unix seconds, from the log line */
	char ip[CIDR_STRLEN]; /* canonical address text */
	char mta[16];	      /* postfix, exim, ... */
	char tags[64];	      /* comma list */
	/*
	 * where the line was read: the log's path ("-" for stdin) and its
	 * line number there (1 = the first); NULL and 0 when unknown. Read
	 * back only by db_events_of(), where file points into the row
	 * (valid during the callback).
	 */
	const char *file;
	uint64_t line;
};

struct db_entry {
	int64_t id;		/* row id, set by db_entry_add() */
	char cidr[CIDR_STRLEN]; /* host or netblock, canonical text */
	char tags[64];		/* "a,reason,..." as put into the filter */
	int64_t added;		/* unix seconds */
	int64_t expires;	/* 0: until the weekly reset */
	int64_t removed;	/* 0: still active */
	char removal[32];	/* expired, idle, reset, unblocked, ... */
	uint64_t hits;		/* events that led to the promotion */
	uint64_t level;		/* 0 first time, n: n-th repeat (recidive) */
};

/* one line of the promotions/expiries log */
struct db_action {
	int64_t time;
	char cidr[CIDR_STRLEN];
	char action[16];  /* promote, escalate, expire, idle, reset, gone,
			   * refused (cap), dry-run */
	char reason[128]; /* tags and counts, or why it left */
	int64_t expires;  /* for promote/escalate: until when (0 reset) */
};

/* read position in one log: resume exactly after a restart */
struct db_pos {
	uint64_t dev;
	uint64_t inode;
	uint64_t offset;    /* just after the last line consumed */
	uint64_t last_len;  /* length of that line, newline included */
	uint64_t last_hash; /* FNV-1a 64 of that line */
	uint64_t line;	    /* lines before offset; 0 with offset > 0:
			     * not known (a position saved before schema 3) */
};

/* a pardon: the watcher does not promote cidr (or a block holding it) */
struct db_pardon {
	char cidr[CIDR_STRLEN];
	int64_t added; /* unix seconds */
	int64_t until; /* unix seconds: no promotion before */
	char by[32];   /* who pardoned: "unblock" */
};

/* db_open - open or create (and migrate) path; err says what failed */
int db_open(const char *path, unsigned int flags, struct mx_db **out, char *err,
	    size_t errlen);
void db_close(struct mx_db *db); /* commits an open transaction */
const char *db_errmsg(struct mx_db *db);

/* batching: begin if none is open; commit if one is open */
int db_begin(struct mx_db *db);
int db_commit(struct mx_db *db);
bool db_in_txn(struct mx_db *db);
/*
 * db_stalled - SQLite rolled the open transaction back by itself (a full
 * disk) and no db_begin()/db_commit() has brought it back yet: its writes
 * and those since wait in memory, and the caller should stop taking more
 * input and retry the commit once in a while.
 */
bool db_stalled(struct mx_db *db);
/* db_rollback - undo the open transaction, if one is open */
void db_rollback(struct mx_db *db);

/* events */
int db_event_add(struct mx_db *db, const struct db_event *ev);
typedef int (*db_event_fn)(void *arg, const struct db_event *ev);
/* in time order; fn returning non-zero stops the walk and is returned */
int db_events_since(struct mx_db *db, int64_t since, db_event_fn fn, void *arg);
int db_events_between(struct mx_db *db, int64_t from, int64_t to,
		      db_event_fn fn, void *arg); /* from <= t < to */
int db_events_count(struct mx_db *db, int64_t from, int64_t to, uint64_t *n);
/*
 * db_events_of - events of one address (canonical text) from <= t <= to,
 * newest first, at most max (0: all), with their file and line
 */
int db_events_of(struct mx_db *db, const char *ip, int64_t from, int64_t to,
		 size_t max, db_event_fn fn, void *arg);
/* drop events older than before (housekeeping); *n removed */
int db_events_prune(struct mx_db *db, int64_t before, uint64_t *n);

/* entries the controller added */
int db_entry_add(struct mx_db *db, struct db_entry *e); /* sets e->id */
/* db_entry_remove - mark removed; -ENOENT if it was already (the first
 * removal and its reason stand: report --reset's "reset", say) */
int db_entry_remove(struct mx_db *db, int64_t id, int64_t when,
		    const char *why);
int db_entry_set_expires(struct mx_db *db, int64_t id, int64_t expires);
typedef int (*db_entry_fn)(void *arg, const struct db_entry *e);
int db_entries_active(struct mx_db *db, db_entry_fn fn, void *arg);
/* the latest entry (active or not) for cidr text; -ENOENT if none */
int db_entry_last(struct mx_db *db, const char *cidr, struct db_entry *out);

/* promotions/expiries log */
int db_action_add(struct mx_db *db, const struct db_action *a);
typedef int (*db_action_fn)(void *arg, const struct db_action *a);
/* every action from <= t < to, in time order; action NULL: all kinds */
int db_actions_between(struct mx_db *db, int64_t from, int64_t to,
		       const char *action, db_action_fn fn, void *arg);
/* promote and escalate actions from <= t < to */
int db_promotions_between(struct mx_db *db, int64_t from, int64_t to,
			  db_action_fn fn, void *arg);
/* promotions (promote + escalate) since t, for the hourly cap */
int db_promotions_count(struct mx_db *db, int64_t since, uint64_t *n);

/* read positions */
int db_pos_get(struct mx_db *db, const char *path, struct db_pos *pos);
int db_pos_set(struct mx_db *db, const char *path, const struct db_pos *pos);
/* the journal's position: source names the journal read, the cursor is
 * sd-journal's; -ENOENT if none is stored */
int db_cursor_get(struct mx_db *db, const char *source, char *buf, size_t len);
int db_cursor_set(struct mx_db *db, const char *source, const char *cursor);

/* pardons: one per cidr text, a new one replaces the old */
int db_pardon_set(struct mx_db *db, const struct db_pardon *p);
typedef int (*db_pardon_fn)(void *arg, const struct db_pardon *p);
/* every pardon still running at now (until > now), by cidr */
int db_pardons_active(struct mx_db *db, int64_t now, db_pardon_fn fn,
		      void *arg);

/* the static core list as last loaded by watch (to remove what left it) */
typedef int (*db_cidr_fn)(void *arg, const char *cidr);
int db_core_list(struct mx_db *db, db_cidr_fn fn, void *arg);
int db_core_replace(struct mx_db *db, const char *const *cidrs, size_t n);

/* PRAGMA integrity_check: 0 if "ok", else -EIO with the first problem */
int db_integrity_check(struct mx_db *db, char *msg, size_t len);
int db_schema_version(struct mx_db *db);

#endif /* MXWALL_DB_H */
