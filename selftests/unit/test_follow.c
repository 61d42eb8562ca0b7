// SPDX-License-Identifier: GPL-2.0
/*
 * test_follow.c - tail -F with exact positions: appends and partial lines,
 * resume from a position, rename rotation, copytruncate, a file that
 * appears later, delete and re-create, and a restart across rotation into
 * NAME.1 and NAME.1.gz and across copytruncate. Every case checks the
 * exact sequence of lines: none twice, none missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "mta/follow.h"
#include "core/mxwall.h"
#include "test.h"

static char dir[] = "/tmp/mxwall-follow-XXXXXX";
static char path[256], path1[256], path1gz[256];

/* lines received, joined with '|' */
struct got {
	char text[8192];
	int n;
	struct db_pos pos;
};

static int on_line(void *arg, struct follow_file *ff, const char *line,
		   size_t len)
{
	struct got *g = arg;
	size_t l = strlen(g->text);

	snprintf(g->text + l, sizeof(g->text) - l, "%s%.*s", g->n ? "|" : "",
		 (int)len, line);
	g->n++;
	follow_pos(ff, &g->pos);
	return 0;
}

static void reset(struct got *g)
{
	g->text[0] = '\0';
	g->n = 0;
}

static void append(const char *p, const char *s)
{
	int fd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0644);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		printf("# append to %s failed\n", p);
	if (fd >= 0)
		close(fd);
}

static void clean(void)
{
	unlink(path);
	unlink(path1);
	unlink(path1gz);
}

static void test_append_partial(void)
{
	struct follower *fw = follower_new();
	struct got g = {"", 0, {0}};
	struct db_pos pos;

	clean();
	append(path, "one\ntwo\nthr");
	ASSERT_EQ(follower_add(fw, path, NULL, NULL), 0, "add");
	ASSERT_EQ(follower_run(fw, on_line, &g), 0, "run");
	ASSERT_STR(g.text, "one|two", "whole lines only");
	ASSERT_U64(g.pos.offset, 8, "pos after two");
	reset(&g);
	append(path, "ee\nfour\n");
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "three|four", "partial completed");
	pos = g.pos;
	follower_free(fw);

	/* resume: exactly the next line */
	append(path, "five\n");
	fw = follower_new();
	reset(&g);
	follower_add(fw, path, &pos, NULL);
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "five", "resume after four");
	follower_free(fw);
}

static void test_rename_rotation(void)
{
	struct follower *fw = follower_new();
	struct got g = {"", 0, {0}};

	clean();
	append(path, "a1\n");
	follower_add(fw, path, NULL, NULL);
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "a1", "before rotation");
	reset(&g);
	append(path, "a2\n");
	ASSERT_EQ(rename(path, path1), 0, "rename");
	append(path1, "a3\n"); /* the writer had not reopened yet */
	append(path, "b1\nb2\n");
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "a2|a3|b1|b2", "old file to its end, then new");
	reset(&g);
	append(path, "b3\n");
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "b3", "following the new file");
	follower_free(fw);
}

/* logrotate `create`: the empty new file appears before the writer moves */
static void test_rotation_create(void)
{
	struct follower *fw = follower_new();
	struct got g = {"", 0, {0}};

	clean();
	append(path, "k1\n");
	follower_add(fw, path, NULL, NULL);
	follower_run(fw, on_line, &g);
	reset(&g);
	rename(path, path1);
	append(path, ""); /* created empty */
	follower_run(fw, on_line, &g);
	ASSERT_EQ(g.n, 0, "nothing yet");
	append(path1, "k2\n"); /* the writer, not yet reopened */
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "k2", "late line of the old file");
	reset(&g);
	append(path1, "k3\n");
	append(path, "m1\n"); /* reopened */
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "k3|m1", "old file drained, then the new one");
	follower_free(fw);
}

static void test_copytruncate(void)
{
	struct follower *fw = follower_new();
	struct got g = {"", 0, {0}};

	clean();
	append(path, "long line number one\nlong line number two\n");
	follower_add(fw, path, NULL, NULL);
	follower_run(fw, on_line, &g);
	ASSERT_EQ(g.n, 2, "two lines");
	reset(&g);
	ASSERT_EQ(truncate(path, 0), 0, "truncate");
	append(path, "c1\n");
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "c1", "shorter file read from 0");
	reset(&g);
	/* truncated and grown past the old offset before we looked */
	ASSERT_EQ(truncate(path, 0), 0, "truncate 2");
	append(path, "d1 is a long line\nd2 is a long line too\n");
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "d1 is a long line|d2 is a long line too",
		   "replaced content detected by hash");
	follower_free(fw);
}

static void test_appears_later_recreated(void)
{
	struct follower *fw = follower_new();
	struct got g = {"", 0, {0}};

	clean();
	ASSERT_EQ(follower_add(fw, path, NULL, NULL), 0, "missing is ok");
	follower_run(fw, on_line, &g);
	ASSERT_EQ(g.n, 0, "nothing yet");
	append(path, "x1\n");
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "x1", "appeared");
	reset(&g);
	unlink(path);
	follower_run(fw, on_line, &g);
	ASSERT_EQ(g.n, 0, "deleted");
	append(path, "y1\ny2\n");
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "y1|y2", "re-created read from start");
	follower_free(fw);
}

/* a restart between rotations: the rest is found in NAME.1 */
static void test_resume_rotated(bool gzip)
{
	struct follower *fw = follower_new();
	struct got g = {"", 0, {0}};
	struct db_pos pos;

	clean();
	append(path, "r1\nr2\n");
	follower_add(fw, path, NULL, NULL);
	follower_run(fw, on_line, &g);
	pos = g.pos;
	follower_free(fw);
	/* while down: more lines, rotation, new lines */
	append(path, "r3\nr4\n");
	rename(path, path1);
	if (gzip) {
		char cmd[1024];

		snprintf(cmd, sizeof(cmd), "gzip -f '%s'", path1);
		ASSERT_EQ(system(cmd), 0, "gzip");
	}
	append(path, "n1\n");
	fw = follower_new();
	reset(&g);
	follower_add(fw, path, &pos, NULL);
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "r3|r4|n1",
		   gzip ? "rest from NAME.1.gz, then new"
			: "rest from NAME.1, then new");
	pos = g.pos;
	follower_free(fw);
	/* and the position is in the new file now */
	append(path, "n2\n");
	fw = follower_new();
	reset(&g);
	follower_add(fw, path, &pos, NULL);
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "n2", "resume in the new file");
	follower_free(fw);
}

static void test_resume_rotated_plain(void)
{
	test_resume_rotated(false);
}

static void test_resume_rotated_gz(void)
{
	test_resume_rotated(true);
}

static void test_resume_copytruncated(void)
{
	struct follower *fw = follower_new();
	struct got g = {"", 0, {0}};
	struct db_pos pos;
	char cmd[1024];

	clean();
	append(path, "t1\n");
	follower_add(fw, path, NULL, NULL);
	follower_run(fw, on_line, &g);
	pos = g.pos;
	follower_free(fw);
	append(path, "t2\n");
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && : > '%s'", path, path1,
		 path);
	ASSERT_EQ(system(cmd), 0, "copytruncate");
	append(path, "u1 is longer than the old offset\n");
	fw = follower_new();
	reset(&g);
	follower_add(fw, path, &pos, NULL);
	follower_run(fw, on_line, &g);
	ASSERT_STR(g.text, "t2|u1 is longer than the old offset",
		   "rest from the copy, then the truncated file");
	follower_free(fw);
}

/* where each line came from, "NAME:LINE" joined with '|' (NAME: basename) */
static int on_where(void *arg, struct follow_file *ff, const char *line,
		    size_t len)
{
	struct got *g = arg;
	size_t l = strlen(g->text);
	const char *name = strrchr(follow_name(ff), '/');

	(void)line;
	(void)len;
	snprintf(g->text + l, sizeof(g->text) - l, "%s%s:%llu", g->n ? "|" : "",
		 name + 1, (unsigned long long)follow_line(ff));
	g->n++;
	follow_pos(ff, &g->pos);
	return 0;
}

/* line numbers: counted, resumed, recounted for an old position, per file */
static void test_line_numbers(void)
{
	struct follower *fw = follower_new();
	struct got g = {"", 0, {0}};
	struct db_pos pos, old;

	clean();
	append(path, "l1\nl2\nl3\n");
	follower_add(fw, path, NULL, NULL);
	follower_run(fw, on_where, &g);
	ASSERT_STR(g.text, "mail.log:1|mail.log:2|mail.log:3",
		   "lines numbered from 1");
	ASSERT_U64(g.pos.line, 3, "position holds the line");
	pos = g.pos;
	follower_free(fw);

	append(path, "l4\n");
	fw = follower_new();
	reset(&g);
	follower_add(fw, path, &pos, NULL);
	follower_run(fw, on_where, &g);
	ASSERT_STR(g.text, "mail.log:4", "resume goes on counting");
	follower_free(fw);

	/* a position saved before lines were counted: counted at resume */
	old = pos;
	old.line = 0;
	fw = follower_new();
	reset(&g);
	follower_add(fw, path, &old, NULL);
	follower_run(fw, on_where, &g);
	ASSERT_STR(g.text, "mail.log:4", "old position: lines counted again");
	pos = g.pos;
	follower_free(fw);

	/* a restart across a rotation: NAME.1 goes on, the new file from 1 */
	append(path, "l5\n");
	rename(path, path1);
	append(path, "m1\nm2\n");
	fw = follower_new();
	reset(&g);
	follower_add(fw, path, &pos, NULL);
	follower_run(fw, on_where, &g);
	ASSERT_STR(g.text, "mail.log.1:5|mail.log:1|mail.log:2",
		   "rotated copy named, then the new file from line 1");
	reset(&g);
	/* copytruncate: from line 1 again */
	ASSERT_EQ(truncate(path, 0), 0, "truncate");
	append(path, "c1\n");
	follower_run(fw, on_where, &g);
	ASSERT_STR(g.text, "mail.log:1", "after copytruncate: line 1");
	follower_free(fw);
}

static void test_hash(void)
{
	ASSERT_U64(follow_hash("", 0), 0xcbf29ce484222325ULL, "fnv offset");
	ASSERT_U64(follow_hash("a", 1), 0xaf63dc4c8601ec8cULL, "fnv of a");
}

int main(void)
{
	char cmd[512];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	snprintf(path1, sizeof(path1), "%s/mail.log.1", dir);
	snprintf(path1gz, sizeof(path1gz), "%s/mail.log.1.gz", dir);
	TEST_RUN(test_hash);
	TEST_RUN(test_append_partial);
	TEST_RUN(test_rename_rotation);
	TEST_RUN(test_rotation_create);
	TEST_RUN(test_copytruncate);
	TEST_RUN(test_appears_later_recreated);
	TEST_RUN(test_resume_rotated_plain);
	TEST_RUN(test_resume_rotated_gz);
	TEST_RUN(test_resume_copytruncated);
	TEST_RUN(test_line_numbers);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		printf("# cleanup failed\n");
	return test_finish();
}
