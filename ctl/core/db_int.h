/* SPDX-License-Identifier: GPL-2.0 */
/*
 * db_int.h - what the two files of the state database share: db.c (the
 * connection, the schema and its migrations, transactions and their redo
 * log) and db_query.c (the statements and the rows they read and write).
 * Not for use outside ctl/core/db*.c.
 */
#ifndef MXWALL_DB_INT_H
#define MXWALL_DB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/db.h"

/* the prepared statements, kept for the life of the connection; their SQL
 * is in db_query.c */
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

/*
 * db_step_write - run a statement that changes the database, keeping it in
 * the redo log of the open transaction (db.c). 0 or -EIO.
 */
int db_step_write(struct mx_db *db, sqlite3_stmt *s);
/* db_exec_write - the same for SQL text */
int db_exec_write(struct mx_db *db, const char *sql);
/* db_stmt - statement s, prepared on first use, reset, its bindings
 * cleared; NULL on error (db_query.c) */
sqlite3_stmt *db_stmt(struct mx_db *db, enum db_stmt s);

#endif /* MXWALL_DB_INT_H */
