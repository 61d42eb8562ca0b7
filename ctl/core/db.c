// SPDX-License-Identifier: GPL-2.0
/*
 * db.c - the controller's SQLite state database (see db.h for what it
 * promises): the connection (opened 0600, WAL), the schema and its
 * migrations, transactions and the redo log that survives SQLite rolling
 * one back by itself. The statements and rows are db_query.c. Every
 * function returns 0 or -errno (-EIO for an SQLite error, whose text
 * db_errmsg() gives).
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
#include "core/db_int.h"
#include "core/mxwall.h"

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
 * db_step_write - run a statement that changes the database, keeping it in
 * the redo log of the open transaction. While the transaction is lost,
 * only log it: it runs when the next db_begin() replays the log.
 */
int db_step_write(struct mx_db *db, sqlite3_stmt *s)
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

/* db_exec_write - exec() of a change, through the redo log like step_write */
int db_exec_write(struct mx_db *db, const char *sql)
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
