// SPDX-License-Identifier: GPL-2.0
/*
 * test_listfile.c - the `load` format: comments, Spamhaus DROP lines, CRLF,
 * duplicates, host bits, and every bad line with its exact FILE:LINE error.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/listfile.h"
#include "core/mxwall.h"
#include "test.h"

static const struct {
	const char *desc;
	const char *in;
	const char *out; /* entries joined by ' ', or the exact error */
	int nwarn;
} cases[] = {
    {"empty file", "", "", 0},
    {"only comments and blanks", "# a\n; b\n\n   \n\t\n", "", 0},
    {"plain list", "192.0.2.1\n198.51.100.0/24\n", "192.0.2.1 198.51.100.0/24",
     0},
    {"no final newline", "192.0.2.1", "192.0.2.1", 0},
    {"sorted by address",
     "198.51.100.0/24\n192.0.2.1\n2001:db8::/32\n10.0.0.0/8\n",
     "10.0.0.0/8 192.0.2.1 198.51.100.0/24 2001:db8::/32", 0},
    {"Spamhaus DROP style",
     "; Spamhaus DROP List 2026/11/23 - (c) 2026 The Spamhaus Project\n"
     "; Last-Modified: Mon, 23 Nov 2026 06:00:00 GMT\n"
     "1.10.16.0/20 ; SBL256894\n"
     "1.19.0.0/16 ; SBL434604\n",
     "1.10.16.0/20 1.19.0.0/16", 0},
    {"hash comment after address", "192.0.2.1 # zombie\n", "192.0.2.1", 0},
    {"comment glued to address", "192.0.2.1;x\n192.0.2.2#y\n",
     "192.0.2.1 192.0.2.2", 0},
    {"CRLF line ends", "192.0.2.1\r\n192.0.2.2\r\n", "192.0.2.1 192.0.2.2", 0},
    {"leading and trailing blanks", "  \t192.0.2.1  \n", "192.0.2.1", 0},
    {"duplicates come back once", "192.0.2.1\n192.0.2.1/32\n::ffff:192.0.2.1\n",
     "192.0.2.1", 0},
    {"v6 and v4 duplicates, mixed order",
     "2001:db8::1\n10.0.0.0/8\n2001:db8::/32\n2001:DB8::1\n10.0.0.0/"
     "8\n10.0.0.0/16\n9.255.255.255\n2001:db8::1/128\n",
     "9.255.255.255 10.0.0.0/8 10.0.0.0/16 2001:db8::/32 2001:db8::1", 0},
    {"host bits cleared with a warning", "192.0.2.77/24\n", "192.0.2.0/24", 1},
    {"v6 canonical", "2001:DB8:0::1\n", "2001:db8::1", 0},
    {"bad prefix on line 3", "192.0.2.1\n# ok\n1.2.3.4/33\n192.0.2.2\n",
     "t.list:3: '1.2.3.4/33': prefix length 33 is out of range for IPv4", 0},
    {"bad octet", "300.1.1.1\n",
     "t.list:1: '300.1.1.1': not an IPv4 address (write all four octets in "
     "decimal)",
     0},
    {"bad v6", "\n\n::g\n", "t.list:3: '::g': not an IPv6 address", 0},
    {"short quad", "1.2.3\n",
     "t.list:1: '1.2.3': not an IPv4 address (write all four octets in "
     "decimal)",
     0},
    {"octal-looking quad", "010.1.1.1\n",
     "t.list:1: '010.1.1.1': not an IPv4 address (write all four octets in "
     "decimal)",
     0},
    {"/0 refused", "0.0.0.0/0\n",
     "t.list:1: '0.0.0.0/0': /0 would match every address", 0},
    {"two addresses on a line", "192.0.2.1 192.0.2.2\n",
     "t.list:1: unexpected '192.0.2.2' after the address (one CIDR per line; "
     "comments start with '#' or ';')",
     0},
    {"words after the address", "192.0.2.1 SBL1\n",
     "t.list:1: unexpected 'SBL1' after the address (one CIDR per line; "
     "comments start with '#' or ';')",
     0},
    {"NUL byte", "192.0.2.1\n192.0\0.2.2\n", "t.list:2: NUL byte in the line",
     0},
    {"an ESC in the line is escaped", "192.0.2.1 \x1b[31mred\n",
     "t.list:1: unexpected '\\x1b[31mred' after the address (one CIDR per "
     "line; comments start with '#' or ';')",
     0},
    {"a hostname", "mail.example.com\n",
     "t.list:1: 'mail.example.com': not an IPv4 address (write all four octets "
     "in decimal)",
     0},
};

static int nwarn;
static char lastwarn[512];

static void warn(const char *msg, void *arg)
{
	(void)arg;
	nwarn++;
	snprintf(lastwarn, sizeof(lastwarn), "%s", msg);
}

static size_t case_len(size_t i)
{
	/* the NUL case carries a NUL byte inside: measure to the final \n */
	const char *s = cases[i].in;
	size_t len = strlen(s);

	if (strstr(cases[i].desc, "NUL"))
		len = len + 1 + strlen(s + len + 1);
	return len;
}

static void test_cases(void)
{
	char err[512], got[1024], buf[CIDR_STRLEN];
	struct cidr *v;
	size_t i, n, k;
	int r;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		v = NULL;
		n = 0;
		nwarn = 0;
		err[0] = '\0';
		r = listfile_parse("t.list", cases[i].in, case_len(i), &v, &n,
				   warn, NULL, err, sizeof(err));
		if (!strncmp(cases[i].out, "t.list:", 7)) {
			ASSERT_EQ(r, -EINVAL, cases[i].desc);
			ASSERT_STR(err, cases[i].out, cases[i].desc);
			continue;
		}
		ASSERT_EQ(r, 0, cases[i].desc);
		got[0] = '\0';
		for (k = 0; k < n; k++) {
			if (k)
				strcat(got, " ");
			strcat(got, cidr_format(&v[k], buf, sizeof(buf)));
		}
		ASSERT_STR(got, cases[i].out, cases[i].desc);
		ASSERT_EQ(nwarn, cases[i].nwarn, cases[i].desc);
		free(v);
	}
	nwarn = 0;
	v = NULL;
	listfile_parse("bl", "10.0.0.1/8\n", 11, &v, &n, warn, NULL, err,
		       sizeof(err));
	ASSERT_STR(lastwarn,
		   "bl:1: 10.0.0.1/8 has host bits set; using 10.0.0.0/8",
		   "warning names file, line and both forms");
	free(v);
}

static void test_read(void)
{
	char path[] = "/tmp/mxwall-test-listfile-XXXXXX", err[512];
	struct cidr *v = NULL;
	size_t n = 0, i;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0, "temp file");
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	/* big enough to cross read_all()'s first buffer several times */
	for (i = 0; i < 50000; i++)
		fprintf(f, "10.%zu.%zu.0/24 ; SBL%zu\n", i / 256, i % 256, i);
	fclose(f);
	ASSERT_EQ(listfile_read(path, &v, &n, NULL, NULL, err, sizeof(err)), 0,
		  "read 50000 lines");
	ASSERT_EQ(n, 50000, "50000 entries");
	free(v);
	v = NULL;
	unlink(path);
	ASSERT_EQ(listfile_read(path, &v, &n, NULL, NULL, err, sizeof(err)),
		  -ENOENT, "missing file");
	snprintf(path, sizeof(path), "/tmp");
	ASSERT_EQ(listfile_read(path, &v, &n, NULL, NULL, err, sizeof(err)),
		  -EISDIR, "a directory");
	ASSERT_STR(err, "/tmp: is a directory", "directory message");
	/* /dev/zero: stops at the first read, not at the end of memory */
	ASSERT_EQ(
	    listfile_read("/dev/zero", &v, &n, NULL, NULL, err, sizeof(err)),
	    -EILSEQ, "/dev/zero refused");
	ASSERT_STR(err, "/dev/zero: a NUL byte: not a text file",
		   "/dev/zero message");
}

/* an endless text stream stops at LISTFILE_MAX_BYTES */
static void test_bound(void)
{
	char err[512];
	struct cidr *v = NULL;
	size_t n = 0;
	int p[2], saved;
	pid_t pid;

	ASSERT_TRUE(!pipe(p), "pipe");
	pid = fork();
	if (pid == 0) {
		static const char line[] = "192.0.2.1 ; again and again\n";

		close(p[0]);
		for (;;)
			if (write(p[1], line, sizeof(line) - 1) < 0)
				_exit(0);
	}
	close(p[1]);
	saved = dup(0);
	dup2(p[0], 0);
	close(p[0]);
	ASSERT_EQ(listfile_read("-", &v, &n, NULL, NULL, err, sizeof(err)),
		  -EFBIG, "an endless stdin is refused");
	ASSERT_STR(err, "(stdin): longer than 128 MiB: not a list mxwall loads",
		   "endless stdin message");
	dup2(saved, 0);
	close(saved);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	TEST_RUN(test_cases);
	TEST_RUN(test_read);
	TEST_RUN(test_bound);
	return test_finish();
}
