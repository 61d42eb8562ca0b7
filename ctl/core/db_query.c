// SPDX-License-Identifier: GPL-2.0
/*
 * db_query.c - the rows of the controller's state database (db.h): the
 * statements, prepared once and kept, and what reads and writes events
 * (with the log file and line they came from), entries, actions, read
 * positions, journal cursors, pardons and the core list, and the integrity
 * check. Writes go through the redo log of db.c (db_step_write). Every
 * function returns 0 or -errno (-EIO for an SQLite error).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/db.h"
#include "core/db_int.h"
#include "core/mxwall.h"

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

sqlite3_stmt *db_stmt(struct mx_db *db, enum db_stmt s)
{
	if (!db->st[s] && sqlite3_prepare_v3(db->h, stmt_sql[s], -1,
					     SQLITE_PREPARE_PERSISTENT,
					     &db->st[s], NULL) != SQLITE_OK)
		return NULL;
	sqlite3_reset(db->st[s]);
	sqlite3_clear_bindings(db->st[s]);
	return db->st[s];
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
	s = db_stmt(db, ST_LOGFILE_ADD);
	if (!s)
		return 0;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	if (db_step_write(db, s))
		return 0;
	s = db_stmt(db, ST_LOGFILE_ID);
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

static void text_col(sqlite3_stmt *s, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

int db_event_add(struct mx_db *db, const struct db_event *ev)
{
	int64_t fid = ev->file ? file_id(db, ev->file) : 0;
	sqlite3_stmt *s = db_stmt(db, ST_EVENT_ADD);

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
	return db_step_write(db, s);
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
	sqlite3_stmt *s = db_stmt(db, ST_EVENTS_OF);

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
	sqlite3_stmt *s = db_stmt(db, ST_EVENTS_SINCE);

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
	sqlite3_stmt *s = db_stmt(db, ST_EVENTS_COUNT);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	return count_query(db, s, n);
}

int db_events_prune(struct mx_db *db, int64_t before, uint64_t *n)
{
	sqlite3_stmt *s = db_stmt(db, ST_EVENTS_PRUNE);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, before);
	rc = db_step_write(db, s);
	if (!rc && n)
		*n = (uint64_t)sqlite3_changes(db->h);
	return rc;
}

int db_entry_add(struct mx_db *db, struct db_entry *e)
{
	sqlite3_stmt *s = db_stmt(db, ST_ENTRY_ADD);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, e->cidr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, e->tags, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, e->added);
	sqlite3_bind_int64(s, 4, e->expires);
	sqlite3_bind_int64(s, 5, (int64_t)e->hits);
	sqlite3_bind_int64(s, 6, (int64_t)e->level);
	rc = db_step_write(db, s);
	if (!rc)
		e->id = sqlite3_last_insert_rowid(db->h);
	return rc;
}

int db_entry_remove(struct mx_db *db, int64_t id, int64_t when, const char *why)
{
	sqlite3_stmt *s = db_stmt(db, ST_ENTRY_REMOVE);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, when);
	sqlite3_bind_text(s, 2, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	if (db_step_write(db, s))
		return -EIO;
	/* the first removal and its reason stand */
	return sqlite3_changes(db->h) ? 0 : -ENOENT;
}

int db_entry_set_expires(struct mx_db *db, int64_t id, int64_t expires)
{
	sqlite3_stmt *s = db_stmt(db, ST_ENTRY_EXPIRES);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, expires);
	sqlite3_bind_int64(s, 2, id);
	return db_step_write(db, s);
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
	sqlite3_stmt *s = db_stmt(db, ST_ENTRIES_ACTIVE);
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
	sqlite3_stmt *s = db_stmt(db, ST_ENTRY_LAST);
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
	sqlite3_stmt *s = db_stmt(db, ST_ACTION_ADD);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, a->time);
	sqlite3_bind_text(s, 2, a->cidr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, a->expires);
	return db_step_write(db, s);
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
	sqlite3_stmt *s = db_stmt(db, action ? ST_ACTIONS_KIND : ST_ACTIONS);

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
	sqlite3_stmt *s = db_stmt(db, ST_PROMOTIONS);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	return actions_walk(s, fn, arg);
}

int db_promotions_count(struct mx_db *db, int64_t since, uint64_t *n)
{
	sqlite3_stmt *s = db_stmt(db, ST_PROMOTIONS_COUNT);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, since);
	return count_query(db, s, n);
}

int db_pos_get(struct mx_db *db, const char *path, struct db_pos *pos)
{
	sqlite3_stmt *s = db_stmt(db, ST_POS_GET);
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
	sqlite3_stmt *s = db_stmt(db, ST_POS_SET);

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
	return db_step_write(db, s);
}

int db_pardon_set(struct mx_db *db, const struct db_pardon *p)
{
	sqlite3_stmt *s = db_stmt(db, ST_PARDON_SET);

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, p->cidr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, p->added);
	sqlite3_bind_int64(s, 3, p->until);
	sqlite3_bind_text(s, 4, p->by, -1, SQLITE_STATIC);
	return db_step_write(db, s);
}

int db_pardons_active(struct mx_db *db, int64_t now, db_pardon_fn fn, void *arg)
{
	sqlite3_stmt *s = db_stmt(db, ST_PARDONS_ACTIVE);
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
	sqlite3_stmt *s = db_stmt(db, ST_CURSOR_GET);
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
	sqlite3_stmt *s = db_stmt(db, ST_CURSOR_SET);

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cursor, -1, SQLITE_STATIC);
	return db_step_write(db, s);
}

int db_core_list(struct mx_db *db, db_cidr_fn fn, void *arg)
{
	sqlite3_stmt *s = db_stmt(db, ST_CORE_LIST);
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
	rc = db_exec_write(db, "DELETE FROM core");
	if (!rc &&
	    sqlite3_prepare_v2(db->h, "INSERT OR IGNORE INTO core VALUES(?)",
			       -1, &s, NULL) != SQLITE_OK)
		rc = -EIO;
	for (i = 0; !rc && i < n; i++) {
		sqlite3_bind_text(s, 1, cidrs[i], -1, SQLITE_STATIC);
		rc = db_step_write(db, s);
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
