// SPDX-License-Identifier: GPL-2.0
/*
 * db.c - the controller's SQLite state database (see db.h for what it
 * promises). Statements are prepared once and kept; every function returns
 * 0 or -errno (-EIO for an SQLite error, whose text db_errmsg() gives).
 *
 * Why synchronous=NORMAL and not FULL: in WAL mode NORMAL loses no commit
 * when the process dies (the WAL is in the page cache, which the kernel
 * keeps); only a power cut can roll back the last commits, and then the
 * read positions roll back with the events they belong to (one
 * transaction), so the lines are simply read again. FULL would fsync on
 * every batch, several times a second under a flood, for nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/db.h"
#include "core/mxwall.h"

enum db_stmt {
	ST_EVENT_ADD,
	ST_EVENTS_SINCE,
	ST_EVENTS_COUNT,
	ST_EVENTS_PRUNE,
	ST_ENTRY_ADD,
	ST_ENTRY_REMOVE,
	ST_ENTRY_EXPIRES,
	ST_ENTRIES_ACTIVE,
	ST_ENTRY_LAST,
	ST_ACTION_ADD,
	ST_ACTIONS,
	ST_ACTIONS_KIND,
	ST_PROMOTIONS,
	ST_PROMOTIONS_COUNT,
	ST_POS_GET,
	ST_POS_SET,
	ST_CORE_LIST,
	ST_EVENTS_OF,
	ST_LOGFILE_ADD,
	ST_LOGFILE_ID,
	ST_PARDON_SET,
	ST_PARDONS_ACTIVE,
	ST_CURSOR_GET,
	ST_CURSOR_SET,
	ST_NSTMT,
};

static const char *const stmt_sql[ST_NSTMT] = {
    [ST_EVENT_ADD] = "INSERT INTO events(time, ip, mta, tags, file, line)"
		     " VALUES(?, ?, ?, ?, ?, ?)",
    [ST_EVENTS_SINCE] = "SELECT time, ip, mta, tags FROM events"
			" WHERE time >= ? AND time < ? ORDER BY time, id",
    [ST_EVENTS_COUNT] =
	"SELECT count(*) FROM events WHERE time >= ? AND time < ?",
    [ST_EVENTS_PRUNE] = "DELETE FROM events WHERE time < ?",
    [ST_ENTRY_ADD] =
	"INSERT INTO entries(cidr, tags, added, expires, hits, level)"
	" VALUES(?, ?, ?, ?, ?, ?)",
    [ST_ENTRY_REMOVE] = "UPDATE entries SET removed = ?, removal = ?"
			" WHERE id = ? AND removed IS NULL",
    [ST_ENTRY_EXPIRES] = "UPDATE entries SET expires = ? WHERE id = ?",
    [ST_ENTRIES_ACTIVE] =
	"SELECT id, cidr, tags, added, expires, removed, removal, hits,"
	" level FROM entries WHERE removed IS NULL ORDER BY id",
    [ST_ENTRY_LAST] =
	"SELECT id, cidr, tags, added, expires, removed, removal, hits,"
	" level FROM entries WHERE cidr = ? ORDER BY id DESC LIMIT 1",
    [ST_ACTION_ADD] = "INSERT INTO actions(time, cidr, action, reason, expires)"
		      " VALUES(?, ?, ?, ?, ?)",
    [ST_ACTIONS] = "SELECT time, cidr, action, reason, expires FROM actions"
		   " WHERE time >= ? AND time < ? ORDER BY time, id",
    [ST_ACTIONS_KIND] =
	"SELECT time, cidr, action, reason, expires FROM actions"
	" WHERE time >= ? AND time < ? AND action = ? ORDER BY time, id",
    [ST_PROMOTIONS] =
	"SELECT time, cidr, action, reason, expires FROM actions"
	" WHERE time >= ? AND time < ?"
	" AND action IN ('promote', 'escalate') ORDER BY time, id",
    [ST_PROMOTIONS_COUNT] = "SELECT count(*) FROM actions WHERE time >= ?"
			    " AND action IN ('promote', 'escalate')",
    [ST_POS_GET] =
	"SELECT dev, inode, offset, last_len, last_hash, line FROM positions"
	" WHERE path = ?",
    [ST_POS_SET] = "INSERT OR REPLACE INTO positions(path, dev, inode, offset,"
		   " last_len, last_hash, line) VALUES(?, ?, ?, ?, ?, ?, ?)",
    [ST_CORE_LIST] = "SELECT cidr FROM core ORDER BY cidr",
    /* the time index bounds the walk; no index by address (see 1 -> 2) */
    [ST_EVENTS_OF] =
	"SELECT e.time, e.ip, e.mta, e.tags, l.path, e.line FROM events e"
	" LEFT JOIN logfiles l ON l.id = e.file WHERE e.time >= ?"
	" AND e.time <= ? AND e.ip = ? ORDER BY e.time DESC, e.id DESC"
	" LIMIT ?",
    [ST_LOGFILE_ADD] = "INSERT OR IGNORE INTO logfiles(path) VALUES(?)",
    [ST_LOGFILE_ID] = "SELECT id FROM logfiles WHERE path = ?",
    [ST_PARDON_SET] = "INSERT OR REPLACE INTO pardons(cidr, added, until, by)"
		      " VALUES(?, ?, ?, ?)",
    [ST_PARDONS_ACTIVE] = "SELECT cidr, added, until, by FROM pardons"
			  " WHERE until > ? ORDER BY cidr",
    [ST_CURSOR_GET] = "SELECT cursor FROM cursors WHERE source = ?",
    [ST_CURSOR_SET] =
	"INSERT OR REPLACE INTO cursors(source, cursor) VALUES(?, ?)",
};

/*
 * migrations[v] takes the schema from version v to v + 1. Never edit a
 * released step; add one.
 */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  time INTEGER NOT NULL," /* unix seconds from the log line */
    "  ip TEXT NOT NULL,"
    "  mta TEXT NOT NULL,"
    "  tags TEXT NOT NULL);"
    "CREATE INDEX events_time ON events(time);"
    "CREATE INDEX events_ip ON events(ip, time);"
    "CREATE TABLE entries ("
    "  id INTEGER PRIMARY KEY,"
    "  cidr TEXT NOT NULL,"
    "  tags TEXT NOT NULL,"
    "  added INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL," /* 0: until the weekly reset */
    "  removed INTEGER,"	  /* NULL: active */
    "  removal TEXT,"
    "  hits INTEGER NOT NULL DEFAULT 0,"
    "  level INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX entries_cidr ON entries(cidr);"
    "CREATE INDEX entries_active ON entries(removed);"
    "CREATE TABLE actions ("
    "  id INTEGER PRIMARY KEY,"
    "  time INTEGER NOT NULL,"
    "  cidr TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  expires INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX actions_time ON actions(time);"
    "CREATE TABLE positions ("
    "  path TEXT PRIMARY KEY,"
    "  dev INTEGER NOT NULL,"
    "  inode INTEGER NOT NULL,"
    "  offset INTEGER NOT NULL,"
    "  last_len INTEGER NOT NULL,"
    "  last_hash INTEGER NOT NULL);"
    "CREATE TABLE core (cidr TEXT PRIMARY KEY);",
    /*
     * 1 -> 2: no query looks events up by address, and keeping that
     * index cost random page writes on every insert (a quarter of the
     * time under a flood). Events are written in time order, so the
     * time index only grows at its right edge.
     */
    "DROP INDEX IF EXISTS events_ip;",
    /*
     * 2 -> 3: where each event was read (for `query`): the log's path
     * once in logfiles, its id and the line number in the event. Older
     * events keep NULL. Positions learn their line number (0 for the
     * old ones: follow.c counts the lines again). Pardons.
     */
    "CREATE TABLE logfiles ("
    "  id INTEGER PRIMARY KEY,"
    "  path TEXT NOT NULL UNIQUE);"
    "ALTER TABLE events ADD COLUMN file INTEGER;"
    "ALTER TABLE events ADD COLUMN line INTEGER;"
    "ALTER TABLE positions ADD COLUMN line INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE pardons ("
    "  cidr TEXT PRIMARY KEY,"
    "  added INTEGER NOT NULL,"
    "  until INTEGER NOT NULL,"
    "  by TEXT NOT NULL DEFAULT '');",
    /* 3 -> 4: the journal's read position, an sd-journal cursor */
    "CREATE TABLE cursors ("
    "  source TEXT PRIMARY KEY,"
    "  cursor TEXT NOT NULL);",
};

_Static_assert(ARRAY_SIZE(migrations) == DB_SCHEMA_VERSION,
	       "one migration step per schema version");

/* log paths already in logfiles: events name their file by its id */
#define DB_FILES_CACHED 16

struct mx_db {
	sqlite3 *h;
	sqlite3_stmt *st[ST_NSTMT];
	bool txn;
	bool readonly;
	/*
	 * the redo log: every write of the open transaction as SQL with its
	 * values. SQLite rolls a transaction back by itself on some errors
	 * (a full disk: SQLITE_FULL on a write or on COMMIT); then lost is
	 * set, later writes only join the log (never run on their own in
	 * autocommit, which would save a read position without the events
	 * before it), and the next db_begin() runs the log again first.
	 */
	char **redo;
	size_t nredo, credo;
	bool lost;
	struct {
		char *path;
		int64_t id;
	} files[DB_FILES_CACHED];
	size_t nfiles;
};

const char *db_errmsg(struct mx_db *db)
{
	return db && db->h ? sqlite3_errmsg(db->h) : "no database";
}

static int exec(struct mx_db *db, const char *sql)
{
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	return 0;
}

static void files_forget(struct mx_db *db);

static void redo_push(struct mx_db *db, char *sql)
{
	if (!sql)
		log_panic("out of memory");
	if (db->nredo == db->credo) {
		db->credo = db->credo ? db->credo * 2 : 256;
		db->redo =
		    xreallocarray(db->redo, db->credo, sizeof(*db->redo));
	}
	db->redo[db->nredo++] = sql;
}

static void redo_clear(struct mx_db *db)
{
	size_t i;

	for (i = 0; i < db->nredo; i++)
		sqlite3_free(db->redo[i]);
	free(db->redo);
	db->redo = NULL;
	db->nredo = db->credo = 0;
}

/* txn_gone - did SQLite roll the open transaction back by itself */
static bool txn_gone(struct mx_db *db)
{
	if (!db->txn || !sqlite3_get_autocommit(db->h))
		return false;
	db->txn = false;
	db->lost = true;
	files_forget(db); /* their rows went with the rest */
	return true;
}

/*
 * step_write - run a statement that changes the database, keeping it in
 * the redo log of the open transaction. While the transaction is lost,
 * only log it: it runs when the next db_begin() replays the log.
 */
static int step_write(struct mx_db *db, sqlite3_stmt *s)
{
	char *sql = NULL;
	int rc;

	if (db->lost) {
		redo_push(db, sqlite3_expanded_sql(s));
		sqlite3_reset(s);
		return 0;
	}
	if (db->txn) {
		sql = sqlite3_expanded_sql(s);
		if (!sql)
			log_panic("out of memory");
	}
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE) {
		if (sql)
			redo_push(db, sql);
		return 0;
	}
	if (sql && txn_gone(db)) {
		redo_push(db, sql); /* it failed with the rest: again later */
		return 0;
	}
	sqlite3_free(sql);
	return -EIO;
}

/* exec_write - exec() of a change, through the redo log like step_write */
static int exec_write(struct mx_db *db, const char *sql)
{
	if (db->lost) {
		redo_push(db, sqlite3_mprintf("%s", sql));
		return 0;
	}
	if (exec(db, sql)) {
		if (txn_gone(db)) {
			redo_push(db, sqlite3_mprintf("%s", sql));
			return 0;
		}
		return -EIO;
	}
	if (db->txn)
		redo_push(db, sqlite3_mprintf("%s", sql));
	return 0;
}

static sqlite3_stmt *stmt(struct mx_db *db, enum db_stmt s)
{
	if (!db->st[s] && sqlite3_prepare_v3(db->h, stmt_sql[s], -1,
					     SQLITE_PREPARE_PERSISTENT,
					     &db->st[s], NULL) != SQLITE_OK)
		return NULL;
	sqlite3_reset(db->st[s]);
	sqlite3_clear_bindings(db->st[s]);
	return db->st[s];
}

/* run a statement that returns no rows */

int db_schema_version(struct mx_db *db)
{
	sqlite3_stmt *s;
	int v = -EIO;

	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return -EIO;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* migrate - bring the schema to DB_SCHEMA_VERSION in one transaction */
static int migrate(struct mx_db *db, char *err, size_t errlen)
{
	char sql[64];
	int v, i;

	if (exec(db, "BEGIN IMMEDIATE"))
		goto fail;
	v = db_schema_version(db);
	if (v < 0)
		goto fail_rb;
	if (v > DB_SCHEMA_VERSION) {
		exec(db, "ROLLBACK");
		snprintf(
		    err, errlen,
		    "database schema version %d is newer than this mxwall (%d)",
		    v, DB_SCHEMA_VERSION);
		return -EPROTO;
	}
	for (i = v; i < DB_SCHEMA_VERSION; i++)
		if (exec(db, migrations[i]))
			goto fail_rb;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 DB_SCHEMA_VERSION);
	if (exec(db, sql) || exec(db, "COMMIT"))
		goto fail_rb;
	return 0;
fail_rb:
	snprintf(err, errlen, "database migration: %s", db_errmsg(db));
	exec(db, "ROLLBACK");
	return -EIO;
fail:
	snprintf(err, errlen, "database: %s", db_errmsg(db));
	return -EIO;
}

int db_open(const char *path, unsigned int flags, struct mx_db **out, char *err,
	    size_t errlen)
{
	struct mx_db *db = xcalloc(1, sizeof(*db));
	int oflags, rc;

	*out = NULL;
	db->readonly = flags & DB_READONLY;
	if (flags & DB_MEMORY)
		path = ":memory:";
	oflags = db->readonly ? SQLITE_OPEN_READONLY
			      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	oflags |= SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	if (!db->readonly && !(flags & DB_MEMORY)) {
		/*
		 * create it 0600 whatever the umask: it holds every source
		 * and line; SQLite gives its -wal and -shm files the same mode
		 */
		int fd =
		    open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (fd >= 0)
			close(fd);
	}
	if (sqlite3_open_v2(path, &db->h, oflags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db_errmsg(db));
		rc = db->h && sqlite3_errcode(db->h) == SQLITE_CANTOPEN
			 ? -ENOENT
			 : -EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	/* a reader (report) may briefly hold a lock during a checkpoint */
	sqlite3_busy_timeout(db->h, 5000);
	if (!db->readonly && !(flags & DB_MEMORY)) {
		if (exec(db, "PRAGMA journal_mode = WAL")) {
			snprintf(err, errlen, "%s: %s", path, db_errmsg(db));
			rc = -EIO;
			goto fail;
		}
	}
	/*
	 * 16 MiB of page cache (the default is 2 MiB): the right edges of
	 * the tables and indexes a batch writes stay in memory. A bound,
	 * not a reservation.
	 */
	if (exec(db, "PRAGMA synchronous = NORMAL") ||
	    exec(db, "PRAGMA cache_size = -16384")) {
		snprintf(err, errlen, "%s: %s", path, db_errmsg(db));
		rc = -EIO;
		goto fail;
	}
	if (db->readonly) {
		rc = db_schema_version(db);
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", path, db_errmsg(db));
			goto fail;
		}
		if (rc != DB_SCHEMA_VERSION) {
			snprintf(err, errlen,
				 "%s: schema version %d, expected %d (run "
				 "mxwall watch once)",
				 path, rc, DB_SCHEMA_VERSION);
			rc = -EPROTO;
			goto fail;
		}
	} else {
		rc = migrate(db, err, errlen);
		if (rc)
			goto fail;
	}
	*out = db;
	return 0;
fail:
	sqlite3_close(db->h);
	free(db);
	return rc;
}

void db_close(struct mx_db *db)
{
	size_t i;

	if (!db)
		return;
	if (db->txn || db->lost)
		db_commit(db);
	if (db->txn)
		exec(db, "ROLLBACK");
	redo_clear(db);
	for (i = 0; i < ST_NSTMT; i++)
		sqlite3_finalize(db->st[i]);
	for (i = 0; i < db->nfiles; i++)
		free(db->files[i].path);
	sqlite3_close(db->h);
	free(db);
}

static void files_forget(struct mx_db *db)
{
	size_t i;

	for (i = 0; i < db->nfiles; i++)
		free(db->files[i].path);
	db->nfiles = 0;
}

/* file_id - the logfiles id of path, made on first use; 0 on error */
static int64_t file_id(struct mx_db *db, const char *path)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	size_t i;

	for (i = 0; i < db->nfiles; i++)
		if (!strcmp(db->files[i].path, path))
			return db->files[i].id;
	s = stmt(db, ST_LOGFILE_ADD);
	if (!s)
		return 0;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	if (step_write(db, s))
		return 0;
	s = stmt(db, ST_LOGFILE_ID);
	if (!s)
		return 0;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (!id)
		return 0;
	if (db->nfiles == DB_FILES_CACHED) {
		free(db->files[0].path);
		memmove(db->files, db->files + 1,
			(DB_FILES_CACHED - 1) * sizeof(db->files[0]));
		db->nfiles--;
	}
	db->files[db->nfiles].path = xstrdup(path);
	db->files[db->nfiles++].id = id;
	return id;
}

int db_begin(struct mx_db *db)
{
	size_t i;

	if (db->txn)
		return 0;
	if (exec(db, "BEGIN IMMEDIATE"))
		return -EIO;
	db->txn = true;
	if (!db->lost)
		return 0;
	/* the writes of a transaction SQLite rolled back, in their order */
	for (i = 0; i < db->nredo; i++) {
		if (exec(db, db->redo[i])) {
			if (!txn_gone(db)) {
				exec(db, "ROLLBACK");
				db->txn = false;
			}
			db->lost = true;
			return -EIO;
		}
	}
	db->lost = false;
	return 0;
}

int db_commit(struct mx_db *db)
{
	if (db->lost)
		return db_begin(db) ? -EIO : db_commit(db);
	if (!db->txn)
		return 0;
	if (exec(db, "COMMIT")) {
		/* still open (busy): COMMIT again later; rolled back: the
		 * redo log brings it back */
		txn_gone(db);
		return -EIO;
	}
	db->txn = false;
	redo_clear(db);
	return 0;
}

void db_rollback(struct mx_db *db)
{
	if (db->txn)
		exec(db, "ROLLBACK");
	db->txn = false;
	db->lost = false;
	redo_clear(db);
	files_forget(db);
}

bool db_in_txn(struct mx_db *db)
{
	return db->txn || db->lost;
}

bool db_stalled(struct mx_db *db)
{
	return db && db->lost;
}

static void text_col(sqlite3_stmt *s, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

int db_event_add(struct mx_db *db, const struct db_event *ev)
{
	int64_t fid = ev->file ? file_id(db, ev->file) : 0;
	sqlite3_stmt *s = stmt(db, ST_EVENT_ADD);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, ev->time);
	sqlite3_bind_text(s, 2, ev->ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, ev->mta, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, ev->tags, -1, SQLITE_STATIC);
	if (fid)
		sqlite3_bind_int64(s, 5, fid);
	if (ev->line)
		sqlite3_bind_int64(s, 6, (int64_t)ev->line);
	return step_write(db, s);
}

/* events_walk - rows of time, ip, mta, tags[, file, line] to fn */
static int events_walk(sqlite3_stmt *s, db_event_fn fn, void *arg)
{
	bool where = sqlite3_column_count(s) > 4;
	struct db_event ev;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&ev, 0, sizeof(ev));
		ev.time = sqlite3_column_int64(s, 0);
		text_col(s, 1, ev.ip, sizeof(ev.ip));
		text_col(s, 2, ev.mta, sizeof(ev.mta));
		text_col(s, 3, ev.tags, sizeof(ev.tags));
		if (where) {
			ev.file = (const char *)sqlite3_column_text(s, 4);
			ev.line = (uint64_t)sqlite3_column_int64(s, 5);
		}
		rc = fn(arg, &ev);
		if (rc) {
			sqlite3_reset(s);
			return rc;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int db_events_of(struct mx_db *db, const char *ip, int64_t from, int64_t to,
		 size_t max, db_event_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt(db, ST_EVENTS_OF);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	sqlite3_bind_text(s, 3, ip, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, max ? (int64_t)max : -1);
	return events_walk(s, fn, arg);
}

int db_events_between(struct mx_db *db, int64_t from, int64_t to,
		      db_event_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt(db, ST_EVENTS_SINCE);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	return events_walk(s, fn, arg);
}

int db_events_since(struct mx_db *db, int64_t since, db_event_fn fn, void *arg)
{
	return db_events_between(db, since, INT64_MAX, fn, arg);
}

static int count_query(struct mx_db *db, sqlite3_stmt *s, uint64_t *n)
{
	int rc = sqlite3_step(s);

	(void)db;
	if (rc == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

int db_events_count(struct mx_db *db, int64_t from, int64_t to, uint64_t *n)
{
	sqlite3_stmt *s = stmt(db, ST_EVENTS_COUNT);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	return count_query(db, s, n);
}

int db_events_prune(struct mx_db *db, int64_t before, uint64_t *n)
{
	sqlite3_stmt *s = stmt(db, ST_EVENTS_PRUNE);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, before);
	rc = step_write(db, s);
	if (!rc && n)
		*n = (uint64_t)sqlite3_changes(db->h);
	return rc;
}

int db_entry_add(struct mx_db *db, struct db_entry *e)
{
	sqlite3_stmt *s = stmt(db, ST_ENTRY_ADD);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, e->cidr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, e->tags, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, e->added);
	sqlite3_bind_int64(s, 4, e->expires);
	sqlite3_bind_int64(s, 5, (int64_t)e->hits);
	sqlite3_bind_int64(s, 6, (int64_t)e->level);
	rc = step_write(db, s);
	if (!rc)
		e->id = sqlite3_last_insert_rowid(db->h);
	return rc;
}

int db_entry_remove(struct mx_db *db, int64_t id, int64_t when, const char *why)
{
	sqlite3_stmt *s = stmt(db, ST_ENTRY_REMOVE);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, when);
	sqlite3_bind_text(s, 2, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	if (step_write(db, s))
		return -EIO;
	/* the first removal and its reason stand */
	return sqlite3_changes(db->h) ? 0 : -ENOENT;
}

int db_entry_set_expires(struct mx_db *db, int64_t id, int64_t expires)
{
	sqlite3_stmt *s = stmt(db, ST_ENTRY_EXPIRES);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, expires);
	sqlite3_bind_int64(s, 2, id);
	return step_write(db, s);
}

static void entry_row(sqlite3_stmt *s, struct db_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(s, 0);
	text_col(s, 1, e->cidr, sizeof(e->cidr));
	text_col(s, 2, e->tags, sizeof(e->tags));
	e->added = sqlite3_column_int64(s, 3);
	e->expires = sqlite3_column_int64(s, 4);
	e->removed = sqlite3_column_int64(s, 5);
	text_col(s, 6, e->removal, sizeof(e->removal));
	e->hits = (uint64_t)sqlite3_column_int64(s, 7);
	e->level = (uint64_t)sqlite3_column_int64(s, 8);
}

int db_entries_active(struct mx_db *db, db_entry_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt(db, ST_ENTRIES_ACTIVE);
	struct db_entry *all = NULL;
	size_t n = 0, i;
	int rc;

	if (!s)
		return -EIO;
	/* collect first: fn may well update the rows it is given */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		all = xreallocarray(all, n + 1, sizeof(*all));
		entry_row(s, &all[n++]);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(all);
		return -EIO;
	}
	rc = 0;
	for (i = 0; i < n && !rc; i++)
		rc = fn(arg, &all[i]);
	free(all);
	return rc;
}

int db_entry_last(struct mx_db *db, const char *cidr, struct db_entry *out)
{
	sqlite3_stmt *s = stmt(db, ST_ENTRY_LAST);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, cidr, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		entry_row(s, out);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int db_action_add(struct mx_db *db, const struct db_action *a)
{
	sqlite3_stmt *s = stmt(db, ST_ACTION_ADD);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, a->time);
	sqlite3_bind_text(s, 2, a->cidr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, a->expires);
	return step_write(db, s);
}

static int actions_walk(sqlite3_stmt *s, db_action_fn fn, void *arg)
{
	struct db_action a;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a.time = sqlite3_column_int64(s, 0);
		text_col(s, 1, a.cidr, sizeof(a.cidr));
		text_col(s, 2, a.action, sizeof(a.action));
		text_col(s, 3, a.reason, sizeof(a.reason));
		a.expires = sqlite3_column_int64(s, 4);
		rc = fn(arg, &a);
		if (rc) {
			sqlite3_reset(s);
			return rc;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int db_actions_between(struct mx_db *db, int64_t from, int64_t to,
		       const char *action, db_action_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt(db, action ? ST_ACTIONS_KIND : ST_ACTIONS);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	if (action)
		sqlite3_bind_text(s, 3, action, -1, SQLITE_STATIC);
	return actions_walk(s, fn, arg);
}

int db_promotions_between(struct mx_db *db, int64_t from, int64_t to,
			  db_action_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt(db, ST_PROMOTIONS);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	return actions_walk(s, fn, arg);
}

int db_promotions_count(struct mx_db *db, int64_t since, uint64_t *n)
{
	sqlite3_stmt *s = stmt(db, ST_PROMOTIONS_COUNT);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, since);
	return count_query(db, s, n);
}

int db_pos_get(struct mx_db *db, const char *path, struct db_pos *pos)
{
	sqlite3_stmt *s = stmt(db, ST_POS_GET);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		pos->dev = (uint64_t)sqlite3_column_int64(s, 0);
		pos->inode = (uint64_t)sqlite3_column_int64(s, 1);
		pos->offset = (uint64_t)sqlite3_column_int64(s, 2);
		pos->last_len = (uint64_t)sqlite3_column_int64(s, 3);
		pos->last_hash = (uint64_t)sqlite3_column_int64(s, 4);
		pos->line = (uint64_t)sqlite3_column_int64(s, 5);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int db_pos_set(struct mx_db *db, const char *path, const struct db_pos *pos)
{
	sqlite3_stmt *s = stmt(db, ST_POS_SET);

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)pos->dev);
	sqlite3_bind_int64(s, 3, (int64_t)pos->inode);
	sqlite3_bind_int64(s, 4, (int64_t)pos->offset);
	sqlite3_bind_int64(s, 5, (int64_t)pos->last_len);
	/* the hash is stored as its two's complement: SQLite is signed */
	sqlite3_bind_int64(s, 6, (int64_t)pos->last_hash);
	sqlite3_bind_int64(s, 7, (int64_t)pos->line);
	return step_write(db, s);
}

int db_pardon_set(struct mx_db *db, const struct db_pardon *p)
{
	sqlite3_stmt *s = stmt(db, ST_PARDON_SET);

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, p->cidr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, p->added);
	sqlite3_bind_int64(s, 3, p->until);
	sqlite3_bind_text(s, 4, p->by, -1, SQLITE_STATIC);
	return step_write(db, s);
}

int db_pardons_active(struct mx_db *db, int64_t now, db_pardon_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt(db, ST_PARDONS_ACTIVE);
	struct db_pardon p;
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&p, 0, sizeof(p));
		text_col(s, 0, p.cidr, sizeof(p.cidr));
		p.added = sqlite3_column_int64(s, 1);
		p.until = sqlite3_column_int64(s, 2);
		text_col(s, 3, p.by, sizeof(p.by));
		rc = fn(arg, &p);
		if (rc) {
			sqlite3_reset(s);
			return rc;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int db_cursor_get(struct mx_db *db, const char *source, char *buf, size_t len)
{
	sqlite3_stmt *s = stmt(db, ST_CURSOR_GET);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *c = sqlite3_column_text(s, 0);

		if (!c || strlen((const char *)c) >= len)
			rc = SQLITE_DONE; /* unusable: start afresh */
		else
			snprintf(buf, len, "%s", c);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int db_cursor_set(struct mx_db *db, const char *source, const char *cursor)
{
	sqlite3_stmt *s = stmt(db, ST_CURSOR_SET);

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cursor, -1, SQLITE_STATIC);
	return step_write(db, s);
}

int db_core_list(struct mx_db *db, db_cidr_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt(db, ST_CORE_LIST);
	char **all = NULL;
	size_t n = 0, i;
	int rc;

	if (!s)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		all = xreallocarray(all, n + 1, sizeof(*all));
		all[n++] = xstrdup(t ? (const char *)t : "");
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		rc = -EIO;
	else
		rc = 0;
	for (i = 0; i < n; i++) {
		if (!rc)
			rc = fn(arg, all[i]);
		free(all[i]);
	}
	free(all);
	return rc;
}

int db_core_replace(struct mx_db *db, const char *const *cidrs, size_t n)
{
	sqlite3_stmt *s = NULL;
	bool own = !db->txn;
	size_t i;
	int rc;

	if (own && db_begin(db))
		return -EIO;
	rc = exec_write(db, "DELETE FROM core");
	if (!rc &&
	    sqlite3_prepare_v2(db->h, "INSERT OR IGNORE INTO core VALUES(?)",
			       -1, &s, NULL) != SQLITE_OK)
		rc = -EIO;
	for (i = 0; !rc && i < n; i++) {
		sqlite3_bind_text(s, 1, cidrs[i], -1, SQLITE_STATIC);
		rc = step_write(db, s);
	}
	sqlite3_finalize(s);
	if (own) {
		if (rc) {
			db_rollback(db);
		} else {
			rc = db_commit(db);
		}
	}
	return rc;
}

int db_integrity_check(struct mx_db *db, char *msg, size_t len)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db->h, "PRAGMA integrity_check", -1, &s, NULL) !=
	    SQLITE_OK) {
		snprintf(msg, len, "%s", db_errmsg(db));
		return -EIO;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		text_col(s, 0, msg, len);
	else
		snprintf(msg, len, "%s", db_errmsg(db));
	sqlite3_finalize(s);
	return rc == SQLITE_ROW && !strcmp(msg, "ok") ? 0 : -EIO;
}
