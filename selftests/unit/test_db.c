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

__attribute__((weak)) struct mx_globals_opt mx_opt = {
    .pin_dir = MX_PIN_DIR_DEFAULT,
    .state_dir = MX_STATE_DIR_DEFAULT,
};

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
	struct db_pos p = {1, 42, 1234, 80, 0xfedcba9876543210ULL}, q;
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

static void test_readonly_newer(void)
{
	struct mx_db *db, *ro;
	struct db_event ev = {7, "192.0.2.1", "exim", "bad-helo"};
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
	TEST_RUN(test_readonly_newer);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		printf("# cleanup of %s failed\n", dir);
	return test_finish();
}
