// SPDX-License-Identifier: GPL-2.0
/*
 * test_db.c - the state database: schema version and migration, batched
 * events, entries, the promotions log, read positions, the core list,
 * integrity check, read-only access and refusing a newer schema.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/db.h"
#include "core/mxwall.h"
#include "test.h"

static char dir[] = "/tmp/mxwall-db-XXXXXX";
static char path[256];

static int count_ev(void *arg, const struct db_event *ev)
{
	(void)ev;
	(*(int *)arg)++;
	return 0;
}

static int first_ip(void *arg, const struct db_event *ev)
{
	snprintf(arg, CIDR_STRLEN, "%s", ev->ip);
	return 1; /* stop */
}

static int count_act(void *arg, const struct db_action *a)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

static int count_entry(void *arg, const struct db_entry *e)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static int count_core(void *arg, const char *c)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

static void test_open_schema(void)
{
	struct mx_db *db;
	char err[256] = "", msg[256];

	ASSERT_EQ(db_open(path, 0, &db, err, sizeof(err)), 0, "create");
	if (!db) {
		printf("# %s\n", err);
		return;
	}
	ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION, "schema version");
	ASSERT_EQ(db_integrity_check(db, msg, sizeof(msg)), 0, "integrity");
	ASSERT_STR(msg, "ok", "integrity ok");
	db_close(db);
	/* reopen: no migration twice */
	ASSERT_EQ(db_open(path, 0, &db, err, sizeof(err)), 0, "reopen");
	db_close(db);
}

static void test_events(void)
{
	struct mx_db *db;
	struct db_event ev = {.mta = "postfix", .tags = "relay"};
	char err[256], ip[CIDR_STRLEN] = "";
	uint64_t n = 0;
	int i, cnt = 0, rc;

	if (db_open(path, 0, &db, err, sizeof(err)))
		return;
	ASSERT_EQ(db_begin(db), 0, "begin");
	ASSERT_TRUE(db_in_txn(db), "in txn");
	ASSERT_EQ(db_begin(db), 0, "begin again is a no-op");
	for (i = 0; i < 100; i++) {
		ev.time = 1000 + i;
		snprintf(ev.ip, sizeof(ev.ip), "192.0.2.%d", i);
		rc = db_event_add(db, &ev);
		if (rc)
			break;
	}
	ASSERT_EQ(rc, 0, "100 events added");
	ASSERT_EQ(db_commit(db), 0, "commit");
	ASSERT_TRUE(!db_in_txn(db), "no txn");
	ASSERT_EQ(db_events_count(db, 0, INT64_MAX, &n), 0, "count");
	ASSERT_U64(n, 100, "100 events");
	ASSERT_EQ(db_events_since(db, 1090, count_ev, &cnt), 0, "since");
	ASSERT_EQ(cnt, 10, "10 since 1090");
	cnt = 0;
	ASSERT_EQ(db_events_between(db, 1010, 1020, count_ev, &cnt), 0,
		  "between");
	ASSERT_EQ(cnt, 10, "10 in [1010,1020)");
	ASSERT_EQ(db_events_since(db, 1050, first_ip, ip), 1, "fn stops walk");
	ASSERT_STR(ip, "192.0.2.50", "time order");
	ASSERT_EQ(db_events_prune(db, 1050, &n), 0, "prune");
	ASSERT_U64(n, 50, "50 pruned");
	/* an uncommitted batch is lost when the process dies: here, closed
	 * without commit through a second handle's view */
	db_close(db);
}

static void test_entries_actions(void)
{
	struct mx_db *db;
	struct db_entry e = {0}, last;
	struct db_action a = {0};
	char err[256];
	uint64_t n = 99;
	int cnt = 0;

	if (db_open(path, 0, &db, err, sizeof(err)))
		return;
	snprintf(e.cidr, sizeof(e.cidr), "203.0.113.7");
	snprintf(e.tags, sizeof(e.tags), "a,relay");
	e.added = 5000;
	e.expires = 6000;
	e.hits = 10;
	ASSERT_EQ(db_entry_add(db, &e), 0, "entry add");
	ASSERT_TRUE(e.id > 0, "id set");
	ASSERT_EQ(db_entries_active(db, count_entry, &cnt), 0, "active");
	ASSERT_EQ(cnt, 1, "one active");
	ASSERT_EQ(db_entry_remove(db, e.id, 6000, "expired"), 0, "remove");
	ASSERT_EQ(db_entry_remove(db, e.id, 6001, "gone"), -ENOENT,
		  "second removal refused");
	cnt = 0;
	ASSERT_EQ(db_entries_active(db, count_entry, &cnt), 0, "active 2");
	ASSERT_EQ(cnt, 0, "none active");
	ASSERT_EQ(db_entry_last(db, "203.0.113.7", &last), 0, "last");
	ASSERT_EQ(last.removed, 6000, "removed time");
	ASSERT_STR(last.removal, "expired", "removal reason");
	ASSERT_U64(last.hits, 10, "hits");
	ASSERT_EQ(db_entry_last(db, "203.0.113.8", &last), -ENOENT, "none");

	a.time = 5000;
	snprintf(a.cidr, sizeof(a.cidr), "203.0.113.7");
	snprintf(a.action, sizeof(a.action), "promote");
	snprintf(a.reason, sizeof(a.reason), "10 rejections: relay");
	ASSERT_EQ(db_action_add(db, &a), 0, "action promote");
	a.time = 6000;
	snprintf(a.action, sizeof(a.action), "expire");
	ASSERT_EQ(db_action_add(db, &a), 0, "action expire");
	a.time = 6100;
	snprintf(a.action, sizeof(a.action), "escalate");
	snprintf(a.cidr, sizeof(a.cidr), "203.0.113.0/24");
	ASSERT_EQ(db_action_add(db, &a), 0, "action escalate");
	ASSERT_EQ(db_promotions_between(db, 0, 10000, count_act, &cnt), 0,
		  "promotions");
	ASSERT_EQ(cnt, 2, "promote + escalate");
	cnt = 0;
	ASSERT_EQ(db_actions_between(db, 0, 10000, NULL, count_act, &cnt), 0,
		  "all actions");
	ASSERT_EQ(cnt, 3, "three actions");
	cnt = 0;
	ASSERT_EQ(db_actions_between(db, 0, 10000, "expire", count_act, &cnt),
		  0, "expire actions");
	ASSERT_EQ(cnt, 1, "one expiry");
	ASSERT_EQ(db_promotions_count(db, 5500, &n), 0, "count since");
	ASSERT_U64(n, 1, "one promotion since 5500");
	db_close(db);
}

static void test_positions_core(void)
{
	struct mx_db *db;
	struct db_pos p = {1, 42, 1234, 80, 0xfedcba9876543210ULL, 17}, q;
	const char *core[] = {"198.51.100.0/24", "2001:db8::/32"};
	char err[256];
	int cnt = 0;

	if (db_open(path, 0, &db, err, sizeof(err)))
		return;
	ASSERT_EQ(db_pos_get(db, "/var/log/mail.log", &q), -ENOENT, "no pos");
	ASSERT_EQ(db_pos_set(db, "/var/log/mail.log", &p), 0, "set pos");
	ASSERT_EQ(db_pos_get(db, "/var/log/mail.log", &q), 0, "get pos");
	ASSERT_U64(q.inode, 42, "inode");
	ASSERT_U64(q.offset, 1234, "offset");
	ASSERT_U64(q.last_len, 80, "last len");
	ASSERT_U64(q.last_hash, 0xfedcba9876543210ULL,
		   "64-bit hash round trip");
	ASSERT_U64(q.line, 17, "line number");
	p.offset = 2000;
	ASSERT_EQ(db_pos_set(db, "/var/log/mail.log", &p), 0, "update pos");
	ASSERT_EQ(db_pos_get(db, "/var/log/mail.log", &q), 0, "get pos 2");
	ASSERT_U64(q.offset, 2000, "offset updated");
	ASSERT_EQ(db_core_replace(db, core, 2), 0, "core replace");
	ASSERT_EQ(db_core_list(db, count_core, &cnt), 0, "core list");
	ASSERT_EQ(cnt, 2, "two core");
	ASSERT_EQ(db_core_replace(db, core, 1), 0, "core replace 1");
	cnt = 0;
	db_core_list(db, count_core, &cnt);
	ASSERT_EQ(cnt, 1, "one core");
	db_close(db);
}

struct seen_ev {
	int n;
	int64_t time[8];
	char file[8][64];
	uint64_t line[8];
};

static int keep_ev(void *arg, const struct db_event *ev)
{
	struct seen_ev *s = arg;

	if (s->n < 8) {
		s->time[s->n] = ev->time;
		snprintf(s->file[s->n], sizeof(s->file[0]), "%s",
			 ev->file ? ev->file : "(null)");
		s->line[s->n] = ev->line;
	}
	s->n++;
	return 0;
}

/* events of one address with where they were read, newest first */
static void test_events_of(void)
{
	struct db_event ev = {.mta = "postfix", .tags = "relay"};
	struct mx_db *db;
	struct seen_ev got = {0};
	char err[256];
	int i;

	if (db_open(path, 0, &db, err, sizeof(err)))
		return;
	db_begin(db);
	for (i = 0; i < 6; i++) {
		ev.time = 5000 + i;
		snprintf(ev.ip, sizeof(ev.ip), "%s",
			 i % 2 ? "198.51.100.9" : "198.51.100.8");
		ev.file = i < 4 ? "/var/log/mail.log" : "/var/log/mail.log.1";
		ev.line = 100 + (uint64_t)i;
		ASSERT_EQ(db_event_add(db, &ev), 0, "event with file and line");
	}
	ev.file = NULL;
	ev.line = 0;
	ev.time = 5010;
	snprintf(ev.ip, sizeof(ev.ip), "198.51.100.9");
	db_event_add(db, &ev);
	ASSERT_EQ(db_commit(db), 0, "commit");
	ASSERT_EQ(
	    db_events_of(db, "198.51.100.9", 5000, 5010, 0, keep_ev, &got), 0,
	    "events of");
	ASSERT_EQ(got.n, 4, "only that address, both ends included");
	ASSERT_EQ(got.time[0], 5010, "newest first");
	ASSERT_STR(got.file[0], "(null)", "unknown file is NULL");
	ASSERT_U64(got.line[0], 0, "unknown line is 0");
	ASSERT_STR(got.file[1], "/var/log/mail.log.1", "file kept");
	ASSERT_U64(got.line[1], 105, "line kept");
	ASSERT_STR(got.file[3], "/var/log/mail.log", "first file");
	ASSERT_U64(got.line[3], 101, "first line");
	memset(&got, 0, sizeof(got));
	db_events_of(db, "198.51.100.9", 5000, 5010, 2, keep_ev, &got);
	ASSERT_EQ(got.n, 2, "bounded by max");
	memset(&got, 0, sizeof(got));
	db_events_of(db, "198.51.100.9", 5002, 5004, 0, keep_ev, &got);
	ASSERT_EQ(got.n, 1, "bounded by time");
	db_close(db);
}

struct pardons_seen {
	int n;
	char cidr[4][CIDR_STRLEN];
	int64_t until[4];
};

static int keep_pardon(void *arg, const struct db_pardon *p)
{
	struct pardons_seen *s = arg;

	if (s->n < 4) {
		snprintf(s->cidr[s->n], CIDR_STRLEN, "%s", p->cidr);
		s->until[s->n] = p->until;
	}
	s->n++;
	return 0;
}

static void test_pardons(void)
{
	struct db_pardon p = {"192.0.2.7", 100, 200, "unblock"};
	struct pardons_seen got = {0};
	struct mx_db *db;
	char err[256];

	if (db_open(path, 0, &db, err, sizeof(err)))
		return;
	ASSERT_EQ(db_pardon_set(db, &p), 0, "pardon set");
	snprintf(p.cidr, sizeof(p.cidr), "2001:db8::/48");
	p.until = 150;
	ASSERT_EQ(db_pardon_set(db, &p), 0, "second pardon");
	ASSERT_EQ(db_pardons_active(db, 120, keep_pardon, &got), 0, "active");
	ASSERT_EQ(got.n, 2, "two running at 120");
	memset(&got, 0, sizeof(got));
	db_pardons_active(db, 150, keep_pardon, &got);
	ASSERT_EQ(got.n, 1, "one running at 150 (until is exclusive)");
	ASSERT_STR(got.cidr[0], "192.0.2.7", "the longer one");
	snprintf(p.cidr, sizeof(p.cidr), "192.0.2.7");
	p.until = 900;
	ASSERT_EQ(db_pardon_set(db, &p), 0, "pardon replaced");
	memset(&got, 0, sizeof(got));
	db_pardons_active(db, 150, keep_pardon, &got);
	ASSERT_EQ(got.n, 1, "still one");
	ASSERT_EQ(got.until[0], 900, "the new until");
	db_close(db);
}

/*
 * a schema 2 file (as the previous release wrote it) is migrated in place:
 * its events, entries and positions stay; old events have no file/line
 */
static void test_migrate_v2(void)
{
	static const char v2[] =
	    "CREATE TABLE events (id INTEGER PRIMARY KEY, time INTEGER NOT "
	    "NULL, ip TEXT NOT NULL, mta TEXT NOT NULL, tags TEXT NOT NULL);"
	    "CREATE INDEX events_time ON events(time);"
	    "CREATE TABLE entries (id INTEGER PRIMARY KEY, cidr TEXT NOT NULL,"
	    " tags TEXT NOT NULL, added INTEGER NOT NULL, expires INTEGER NOT "
	    "NULL, removed INTEGER, removal TEXT, hits INTEGER NOT NULL "
	    "DEFAULT 0, level INTEGER NOT NULL DEFAULT 0);"
	    "CREATE INDEX entries_cidr ON entries(cidr);"
	    "CREATE INDEX entries_active ON entries(removed);"
	    "CREATE TABLE actions (id INTEGER PRIMARY KEY, time INTEGER NOT "
	    "NULL, cidr TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT "
	    "NULL, expires INTEGER NOT NULL DEFAULT 0);"
	    "CREATE INDEX actions_time ON actions(time);"
	    "CREATE TABLE positions (path TEXT PRIMARY KEY, dev INTEGER NOT "
	    "NULL, inode INTEGER NOT NULL, offset INTEGER NOT NULL, last_len "
	    "INTEGER NOT NULL, last_hash INTEGER NOT NULL);"
	    "CREATE TABLE core (cidr TEXT PRIMARY KEY);"
	    "INSERT INTO events(time, ip, mta, tags) VALUES(700, '192.0.2.5',"
	    " 'exim', 'relay');"
	    "INSERT INTO entries(cidr, tags, added, expires, level) VALUES("
	    "'192.0.2.5', 'a,relay', 700, 0, 2);"
	    "INSERT INTO positions VALUES('/var/log/mail.log', 1, 2, 300, 30,"
	    " 5);"
	    "PRAGMA user_version = 2;";
	char old[300], err[256];
	struct seen_ev got = {0};
	struct db_entry e;
	struct db_pos pos;
	struct mx_db *db;
	sqlite3 *h;

	snprintf(old, sizeof(old), "%s/v2.db", dir);
	ASSERT_EQ(sqlite3_open(old, &h), SQLITE_OK, "make a v2 file");
	ASSERT_EQ(sqlite3_exec(h, v2, NULL, NULL, NULL), SQLITE_OK, "v2 rows");
	sqlite3_close(h);
	ASSERT_EQ(db_open(old, 0, &db, err, sizeof(err)), 0, "v2 migrates");
	if (!db) {
		printf("# %s\n", err);
		return;
	}
	ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION, "now current");
	db_events_of(db, "192.0.2.5", 0, 1000, 0, keep_ev, &got);
	ASSERT_EQ(got.n, 1, "old event kept");
	ASSERT_STR(got.file[0], "(null)", "old event: no file");
	ASSERT_EQ(db_entry_last(db, "192.0.2.5", &e), 0, "old entry kept");
	ASSERT_U64(e.level, 2, "its recidive level");
	ASSERT_EQ(db_pos_get(db, "/var/log/mail.log", &pos), 0, "old pos");
	ASSERT_U64(pos.offset, 300, "old offset");
	ASSERT_U64(pos.line, 0, "line not known");
	db_close(db);
}

static void test_readonly_newer(void)
{
	struct mx_db *db, *ro;
	struct db_event ev = {7, "192.0.2.1", "exim", "bad-helo", NULL, 0};
	char err[256] = "";
	uint64_t n = 0;
	sqlite3 *h;

	/* a reader sees committed rows while the writer has a batch open */
	if (db_open(path, 0, &db, err, sizeof(err)))
		return;
	ASSERT_EQ(db_open(path, DB_READONLY, &ro, err, sizeof(err)), 0,
		  "readonly open");
	if (!ro) {
		db_close(db);
		return;
	}
	db_begin(db);
	db_event_add(db, &ev);
	ASSERT_EQ(db_events_count(ro, 0, 8, &n), 0, "reader during batch");
	ASSERT_U64(n, 0, "uncommitted invisible");
	db_commit(db);
	ASSERT_EQ(db_events_count(ro, 0, 8, &n), 0, "reader after commit");
	ASSERT_U64(n, 1, "committed visible");
	db_close(ro);
	db_close(db);

	/* a file from a newer mxwall is refused */
	ASSERT_EQ(sqlite3_open(path, &h), SQLITE_OK, "raw open");
	sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(h);
	ASSERT_EQ(db_open(path, 0, &db, err, sizeof(err)), -EPROTO,
		  "newer schema refused");
	ASSERT_TRUE(strstr(err, "newer") != NULL, "says newer");
	ASSERT_EQ(db_open("/nonexistent/dir/x.db", DB_READONLY, &db, err,
			  sizeof(err)),
		  -ENOENT, "missing file read-only");
	ASSERT_EQ(db_open(NULL, DB_MEMORY, &db, err, sizeof(err)), 0, "memory");
	db_close(db);
}

int main(void)
{
	char cmd[512];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/state.db", dir);
	TEST_RUN(test_open_schema);
	TEST_RUN(test_events);
	TEST_RUN(test_entries_actions);
	TEST_RUN(test_positions_core);
	TEST_RUN(test_events_of);
	TEST_RUN(test_pardons);
	TEST_RUN(test_migrate_v2);
	TEST_RUN(test_readonly_newer);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		printf("# cleanup of %s failed\n", dir);
	return test_finish();
}
