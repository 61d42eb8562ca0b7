// SPDX-License-Identifier: GPL-2.0
/*
 * test_report_reset.c - "report --reset" over a fake backend whose state
 * outlives a crashed child: the reset itself (dynamic entries gone, static
 * kept with zeroed counters, the archive holds the report, the next week
 * starts from zero), a crash injected at each step
 * (the test hook crash_after=pending|archive|clear) recovered by the next run
 * with exactly one report, and the mail path through a fake sendmail on
 * PATH that records what it got (and one that fails).
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_backend.h"
#include "core/mxwall.h"
#include "core/testhook.h"
#include "report/report.h"
#include "test.h"

#define NOW 1795327200 /* Sun 2026-11-22 06:00 UTC */

static char *slurp(const char *dir, const char *name)
{
	char path[512], *buf = NULL;
	size_t len = 0;
	FILE *f, *m;
	int c;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

/* count_reports - archive files with this extension */
static int count_reports(const char *dir, const char *ext)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;
	size_t l;

	if (!dp)
		return -1;
	while ((d = readdir(dp))) {
		l = strlen(d->d_name);
		if (l > strlen(ext) &&
		    !strcmp(d->d_name + l - strlen(ext), ext) &&
		    d->d_name[0] != '.')
			n++;
	}
	closedir(dp);
	return n;
}

struct lab {
	char dir[64]; /* state dir; archive in dir/reports */
	char rdir[96];
	struct backend be;
	struct fake_state *s;
	struct report_opts o;
};

static void lab_init(struct lab *l)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->dir, sizeof(l->dir), "/tmp/mxwall-test-reset-XXXXXX");
	if (!mkdtemp(l->dir))
		abort();
	snprintf(l->rdir, sizeof(l->rdir), "%s/reports", l->dir);
	l->s = fake_open(&l->be);
	fake_add(l->s, "203.0.113.7", MX_ORIGIN_DYNAMIC, "a,njabl", 7768,
		 364544);
	fake_add(l->s, "192.0.2.44", MX_ORIGIN_DYNAMIC, "a,cbl", 1893, 85360);
	fake_add(l->s, "198.51.100.0/24", MX_ORIGIN_STATIC, "", 4356, 220160);
	fake_add(l->s, "2001:db8::/32", MX_ORIGIN_STATIC, "cnc", 12, 960);
	l->s->counters.syn = 20000;
	l->s->counters.dropped = 14029;
	l->o.state_dir = l->dir;
	l->o.report_dir = l->rdir;
	l->o.top = 20;
	l->o.reset = true;
	l->o.out = "/dev/null";
	l->o.now = NOW;
}

static void lab_fini(struct lab *l)
{
	char cmd[128];

	fake_close(&l->be);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", l->dir);
	if (system(cmd))
		printf("cannot remove %s\n", l->dir);
}

/* run_crashing - report_run in a child told to die at where */
static int run_crashing(struct lab *l, const char *where)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char hook[64];

		snprintf(hook, sizeof(hook), "crash_after=%s", where);
		setenv(MX_TEST_HOOKS_ENV, hook, 1);
		mx_test_hooks_reset();
		_exit(report_run(&l->o, &l->be, NULL));
	}
	waitpid(pid, &status, 0);
	return status;
}

static void check_cleared(struct lab *l, const char *when)
{
	struct mx_entry *e;
	char desc[128];

	snprintf(desc, sizeof(desc), "%s: dynamic entries removed", when);
	ASSERT_TRUE(!fake_find(l->s, "203.0.113.7") &&
			!fake_find(l->s, "192.0.2.44"),
		    desc);
	e = fake_find(l->s, "198.51.100.0/24");
	snprintf(desc, sizeof(desc), "%s: static entry kept, counters zero",
		 when);
	ASSERT_TRUE(e && e->packets == 0 && e->bytes == 0, desc);
	e = fake_find(l->s, "2001:db8::/32");
	ASSERT_TRUE(e && e->packets == 0 && !strcmp(e->tags, "cnc"), desc);
	snprintf(desc, sizeof(desc), "%s: exactly one report", when);
	ASSERT_EQ(count_reports(l->rdir, ".txt"), 1, desc);
	ASSERT_EQ(count_reports(l->rdir, ".json"), 1, desc);
}

static void test_reset(void)
{
	struct lab l;
	char *txt, *marker;

	lab_init(&l);
	ASSERT_EQ(report_run(&l.o, &l.be, NULL), EXIT_OK, "report --reset");
	check_cleared(&l, "reset");
	txt = slurp(l.rdir, "2026-11-22.txt");
	ASSERT_TRUE(
	    txt &&
		strstr(
		    txt,
		    "203.0.113.7                7768    356K  [a] [njabl]\n"),
	    "the archive holds the week's table");
	ASSERT_TRUE(txt && strstr(txt, "Dropped:        14,029"),
		    "the archive holds the week's totals");
	free(txt);
	txt = slurp(l.rdir, "2026-11-22.json");
	ASSERT_TRUE(txt && strstr(txt, "\"entry\":\"192.0.2.44\""),
		    "the json archive holds the rows");
	free(txt);
	marker = slurp(l.rdir, ".reset");
	ASSERT_STR(marker, "2026-11-22 done 1795327200\n", "marker done");
	free(marker);

	/* the new week starts from the counters at the reset */
	l.s->counters.syn += 50;
	l.o.reset = false;
	l.o.out = NULL;
	l.o.now = NOW + 3600;
	{
		char path[160];

		snprintf(path, sizeof(path), "%s/week.txt", l.dir);
		l.o.out = path;
		ASSERT_EQ(report_run(&l.o, &l.be, NULL), EXIT_OK,
			  "report after the reset");
		txt = slurp(l.dir, "week.txt");
	}
	ASSERT_TRUE(txt && strstr(txt, "Period:         2026-11-22 06:00 UTC "
				       "to 2026-11-22 07:00 UTC\n"),
		    "the new week starts at the reset");
	ASSERT_TRUE(txt && strstr(txt, "SMTP SYNs seen: 50\n"),
		    "totals count from the reset");
	ASSERT_TRUE(txt && strstr(txt, "No drops this week"),
		    "a fresh week has no drops");
	free(txt);

	/* a second --reset the same day (cron and timer both on) is a no-op */
	l.o.reset = true;
	l.o.out = "/dev/null";
	fake_add(l.s, "192.0.2.99", MX_ORIGIN_DYNAMIC, "a", 3, 180);
	ASSERT_EQ(report_run(&l.o, &l.be, NULL), EXIT_OK, "second reset today");
	ASSERT_EQ(count_reports(l.rdir, ".txt"), 1, "no second report today");
	ASSERT_TRUE(fake_find(l.s, "192.0.2.99") != NULL,
		    "and nothing cleared twice");
	lab_fini(&l);
}

static void test_crash_after_archive(void)
{
	struct lab l;
	int applies, st;
	char *marker;

	lab_init(&l);
	st = run_crashing(&l, "archive");
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		    "the child died at the hook");
	ASSERT_EQ(count_reports(l.rdir, ".txt"), 1, "archive written");
	ASSERT_TRUE(fake_find(l.s, "203.0.113.7") != NULL,
		    "dynamic entries still there after the crash");
	marker = slurp(l.rdir, ".reset");
	ASSERT_STR(marker, "2026-11-22 archived 1795327200\n",
		   "marker: archived");
	free(marker);
	applies = l.s->applies;
	l.o.now = NOW + 600;
	ASSERT_EQ(report_run(&l.o, &l.be, NULL), EXIT_OK, "next run");
	ASSERT_TRUE(l.s->applies > applies, "next run cleared");
	check_cleared(&l, "after archive");
	marker = slurp(l.rdir, ".reset");
	ASSERT_STR(marker, "2026-11-22 done 1795327200\n", "marker: done");
	free(marker);
	/* the new week starts where the reported one ended */
	marker = slurp(l.dir, "report-week");
	ASSERT_TRUE(marker && !strncmp(marker, "start 1795327200\n", 17),
		    "next week starts at the report's end");
	free(marker);
	lab_fini(&l);
}

static void test_crash_after_pending(void)
{
	struct lab l;
	int st;

	lab_init(&l);
	st = run_crashing(&l, "pending");
	ASSERT_TRUE(WIFSIGNALED(st), "the child died at the hook");
	ASSERT_EQ(count_reports(l.rdir, ".txt"), 0, "no archive yet");
	ASSERT_EQ(l.s->applies + l.s->zeroes, 0, "nothing cleared");
	/* a day later (Persistent=true catch-up): same name, one report */
	l.o.now = NOW + 86400;
	ASSERT_EQ(report_run(&l.o, &l.be, NULL), EXIT_OK, "next run");
	check_cleared(&l, "after pending");
	ASSERT_EQ(count_reports(l.rdir, ".txt"), 1, "one report");
	{
		char *txt = slurp(l.rdir, "2026-11-22.txt");

		ASSERT_TRUE(txt != NULL, "under the interrupted run's name");
		free(txt);
	}
	lab_fini(&l);
}

static void test_crash_after_clear(void)
{
	struct lab l;
	char *marker;
	int st;

	lab_init(&l);
	st = run_crashing(&l, "clear");
	ASSERT_TRUE(WIFSIGNALED(st), "the child died at the hook");
	ASSERT_EQ(report_run(&l.o, &l.be, NULL), EXIT_OK, "next run");
	check_cleared(&l, "after clear");
	marker = slurp(l.rdir, ".reset");
	ASSERT_STR(marker, "2026-11-22 done 1795327200\n", "marker: done");
	free(marker);
	lab_fini(&l);
}

/* fake_sendmail - a script on PATH that records argv and stdin */
static void fake_sendmail(const char *dir, int exit_code)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bin", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bin/sendmail", dir);
	f = fopen(path, "w");
	fprintf(f,
		"#!/bin/sh\n"
		"echo \"$@\" > '%s/sendmail.args'\n"
		"cat > '%s/sendmail.msg'\n"
		"exit %d\n",
		dir, dir, exit_code);
	fclose(f);
	chmod(path, 0755);
}

static void test_mail(void)
{
	char path[512], *oldpath = xstrdup(getenv("PATH")), *msg, *args;
	struct lab l;

	lab_init(&l);
	fake_sendmail(l.dir, 0);
	snprintf(path, sizeof(path), "%s/bin:%s", l.dir, oldpath);
	setenv("PATH", path, 1);
	l.o.mail_to = "postmaster@example.com";
	ASSERT_EQ(report_run(&l.o, &l.be, NULL), EXIT_OK, "reset with mail");
	args = slurp(l.dir, "sendmail.args");
	ASSERT_STR(args, "-t -i\n", "sendmail -t -i");
	msg = slurp(l.dir, "sendmail.msg");
	ASSERT_TRUE(msg && strstr(msg, "\nTo: postmaster@example.com\n"),
		    "To header");
	ASSERT_TRUE(msg && !strncmp(msg, "From: mxwall <", 14), "From header");
	ASSERT_TRUE(msg && strstr(msg, "\nSubject: mxwall weekly report for "),
		    "Subject header");
	ASSERT_TRUE(msg && strstr(msg, ": 14,029 dropped\n"),
		    "Subject carries the drops");
	ASSERT_TRUE(msg && strstr(msg, "\nDate: ") &&
			strstr(msg, " +0000\nMessage-ID: "),
		    "Date header (RFC 5322, with the zone)");
	ASSERT_TRUE(msg && strstr(msg, "\nMessage-ID: <mxwall."),
		    "Message-ID header");
	ASSERT_TRUE(
	    msg && strstr(msg, "\nContent-Type: text/plain; charset=utf-8\n"),
	    "Content-Type header");
	ASSERT_TRUE(msg && strstr(msg, "\n\nmxwall weekly report for "),
		    "body after a blank line");
	ASSERT_TRUE(
	    msg &&
		strstr(
		    msg,
		    "203.0.113.7                7768    356K  [a] [njabl]\n"),
	    "body holds the table");
	free(args);
	free(msg);
	lab_fini(&l);

	/* a failing sendmail: exit 1, the archive holds the report */
	lab_init(&l);
	fake_sendmail(l.dir, 75);
	snprintf(path, sizeof(path), "%s/bin:%s", l.dir, oldpath);
	setenv("PATH", path, 1);
	l.o.mail_to = "postmaster@example.com";
	ASSERT_EQ(report_run(&l.o, &l.be, NULL), EXIT_RUNTIME,
		  "failing sendmail: exit 1");
	ASSERT_EQ(count_reports(l.rdir, ".txt"), 1,
		  "failing sendmail: the archive holds the report");
	msg = slurp(l.dir, "sendmail.msg");
	ASSERT_TRUE(msg != NULL, "sendmail was run");
	free(msg);
	check_cleared(&l, "failing sendmail: the week still restarts");
	lab_fini(&l);

	/* a header injection through the address is refused */
	lab_init(&l);
	fake_sendmail(l.dir, 0);
	snprintf(path, sizeof(path), "%s/bin:%s", l.dir, oldpath);
	setenv("PATH", path, 1);
	l.o.mail_to = "a@example.com\nBcc: victim@example.org";
	ASSERT_EQ(report_run(&l.o, &l.be, NULL), EXIT_RUNTIME,
		  "address with a newline: refused");
	msg = slurp(l.dir, "sendmail.msg");
	ASSERT_TRUE(msg == NULL, "sendmail not run");
	free(msg);
	lab_fini(&l);
	setenv("PATH", oldpath, 1);
	free(oldpath);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	TEST_RUN(test_reset);
	TEST_RUN(test_crash_after_archive);
	TEST_RUN(test_crash_after_pending);
	TEST_RUN(test_crash_after_clear);
	TEST_RUN(test_mail);
	return test_finish();
}
