// SPDX-License-Identifier: GPL-2.0
/*
 * util.c - allocators, typed parsers and formatters shared by every command.
 *
 * The parsers take whole strings only: no sign, no trailing garbage, no empty
 * input, and a range the caller names (strtonum habits, never atoi).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/mxwall.h"
#include "core/testhook.h"

static void oom(void)
{
	log_panic("out of memory");
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
	void *q = reallocarray(p, nmemb ? nmemb : 1, size ? size : 1);

	if (!q)
		oom();
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

/* parse_u64 - decimal digits only, within [min, max] */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (!s || !*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* parse_duration - a number with an optional unit s, m, h, d or w */
int parse_duration(const char *s, uint64_t *secs)
{
	static const struct {
		char unit;
		uint64_t secs;
	} units[] = {
	    {'s', 1},
	    {'m', 60},
	    {'h', 60 * 60},
	    {'d', 60 * 60 * 24},
	    {'w', 60 * 60 * 24 * 7},
	};
	char num[32];
	size_t len;
	uint64_t v, mult = 1;
	size_t i;
	int err;

	if (!s || !*s)
		return -EINVAL;
	len = strlen(s);
	if (len >= sizeof(num))
		return -ERANGE;
	memcpy(num, s, len + 1);
	if (!isdigit((unsigned char)num[len - 1])) {
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (num[len - 1] == units[i].unit)
				break;
		if (i == ARRAY_SIZE(units))
			return -EINVAL;
		mult = units[i].secs;
		num[--len] = '\0';
	}
	/* ten years is more than any ttl or window can mean */
	err = parse_u64(num, 0, (uint64_t)10 * 366 * 24 * 3600 / mult, &v);
	if (err)
		return err;
	*secs = v * mult;
	return 0;
}

/* parse_ports - comma list of distinct TCP ports */
int parse_ports(const char *s, uint16_t *ports, size_t max, size_t *n)
{
	char buf[256], *tok, *save = NULL;
	size_t cnt = 0, i;
	uint64_t v;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		for (i = strlen(tok);
		     i && (tok[i - 1] == ' ' || tok[i - 1] == '\t'); i--)
			tok[i - 1] = '\0';
		if (parse_u64(tok, 1, 65535, &v))
			return -EINVAL;
		for (i = 0; i < cnt; i++)
			if (ports[i] == v)
				return -EINVAL;
		if (cnt == max)
			return -ERANGE;
		ports[cnt++] = (uint16_t)v;
	}
	if (!cnt)
		return -EINVAL;
	*n = cnt;
	return 0;
}

bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return true;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

/*
 * fmt_bytes - exact below 100000, then whole K, M, G ... in base 1024, the
 * unit being the smallest that keeps the number at five digits (the way
 * iptables -v prints its counters, which the weekly report grew out of).
 */
void fmt_bytes(uint64_t v, char *buf, size_t len)
{
	static const char suffix[] = "KMGTPE";
	int i = -1;

	while (v > 99999 && i + 1 < (int)sizeof(suffix) - 1) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)v, suffix[i]);
}

void fmt_time_iso(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || !gmtime_r(&tt, &tm)) {
		if (len)
			buf[0] = '\0';
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void fmt_thousands(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	size_t n, i, o = 0;

	n = (size_t)snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	for (i = 0; i < n && o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	if (len)
		buf[o < len ? o : len - 1] = '\0';
}

/*
 * fmt_pct - two significant digits below 10%, whole numbers above,
 * a trailing ".0" dropped: 60%, 17%, 7.4%, 8%, 0.05%. Above 99% a share
 * that is not the whole is cut to tenths (99.9%), never rounded to 100%.
 */
void fmt_pct(uint64_t part, uint64_t whole, char *buf, size_t len)
{
	double p;
	char *dot, *e;
	int prec;

	if (!whole) {
		snprintf(buf, len, "-");
		return;
	}
	p = 100.0 * (double)part / (double)whole;
	if (part < whole && p >= 99.0) {
		/* cut, not rounded: a share that is not all never reads 100% */
		uint64_t tenths = (uint64_t)(p * 10.0);

		if (tenths % 10)
			snprintf(buf, len, "%llu.%llu%%",
				 (unsigned long long)(tenths / 10),
				 (unsigned long long)(tenths % 10));
		else
			snprintf(buf, len, "%llu%%",
				 (unsigned long long)(tenths / 10));
		return;
	}
	if (p == 0 || p >= 9.95)
		prec = 0;
	else if (p >= 0.995)
		prec = 1;
	else if (p >= 0.0995)
		prec = 2;
	else
		prec = 3;
	snprintf(buf, len, "%.*f", prec, p);
	dot = strchr(buf, '.');
	if (dot) {
		e = buf + strlen(buf) - 1;
		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	if (strlen(buf) + 2 <= len)
		strcat(buf, "%");
}

void json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void json_time(FILE *f, int64_t t)
{
	char buf[64];

	if (t <= 0) {
		fputs("null", f);
		return;
	}
	fmt_time_iso(t, buf, sizeof(buf));
	json_str(f, buf);
}

int path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int mkdir_p(const char *path, unsigned int mode)
{
	char buf[PATH_MAX];
	char *p;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * dir_check_private - a directory mxwall writes into as root must be its
 * own: owned by root (or by the user running mxwall) and writable by
 * nobody else, or a local user could plant links or swap files in it.
 */
int dir_check_private(const char *dir, char *why, size_t len)
{
	struct stat st;

	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, len,
			 "%s is owned by uid %u, not by root: refusing to "
			 "write there (chown root %s)",
			 dir, (unsigned int)st.st_uid, dir);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, len,
			 "%s is writable by group or others: refusing to "
			 "write there (chmod go-w %s)",
			 dir, dir);
		return -EPERM;
	}
	return 0;
}

int mkdir_private(const char *dir, unsigned int mode, char *why, size_t len)
{
	int err = mkdir_p(dir, mode);

	if (err) {
		snprintf(why, len, "%s: %s", dir, strerror(-err));
		return err;
	}
	return dir_check_private(dir, why, len);
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t w;

	while (len) {
		w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * write_in_place - a character device or a FIFO (an --out of /dev/null, a
 * pipe to a collector) takes the data as it is; renaming over it would
 * replace the device node with a regular file.
 */
static int write_in_place(const char *path, int flags, const void *data,
			  size_t len)
{
	struct stat st;
	int fd, err;

	fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
	} else if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		err = -EAGAIN; /* swapped since we looked: touch nothing */
	} else {
		err = write_all(fd, data, len);
	}
	if (close(fd) && !err && errno != EINTR)
		err = -errno;
	return err;
}

/* temp_name - "DIR/.BASE.XXXXXX" with six random letters */
static int temp_name(char *buf, size_t len, const char *path)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	const char *slash = strrchr(path, '/');
	unsigned char rnd[6];
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0, i;
	int n;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)(ts.tv_nsec >> (i * 5)) ^
				 (unsigned char)getpid();
	}
	n = snprintf(buf, len, "%.*s.%s.", (int)dlen, path,
		     slash ? slash + 1 : path);
	if (n < 0 || (size_t)n + sizeof(rnd) >= len)
		return -ENAMETOOLONG;
	for (i = 0; i < sizeof(rnd); i++)
		buf[n + (int)i] = abc[rnd[i] % (sizeof(abc) - 1)];
	buf[n + (int)sizeof(rnd)] = '\0';
	return 0;
}

/*
 * tmpfile_link - give the anonymous O_TMPFILE fd a fresh name next to path;
 * linkat never follows a link at the new name and fails if it exists.
 */
static int tmpfile_link(int fd, const char *path, char *tmp, size_t len)
{
	char proc[64];
	int i, err;

	for (i = 0; i < 100; i++) {
		err = temp_name(tmp, len, path);
		if (err)
			return err;
		if (!linkat(fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH))
			return 0;
		if (errno == ENOENT || errno == EPERM) {
			/* AT_EMPTY_PATH wants CAP_DAC_READ_SEARCH */
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			if (!linkat(AT_FDCWD, proc, AT_FDCWD, tmp,
				    AT_SYMLINK_FOLLOW))
				return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* tmpfile_named - the fallback where O_TMPFILE is not supported */
static int tmpfile_named(const char *path, char *tmp, size_t len)
{
	int i, fd, err;

	for (i = 0; i < 100; i++) {
		err = temp_name(tmp, len, path);
		if (err)
			return err;
		fd = open(tmp,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int fill(int fd, const void *data, size_t len, unsigned int mode)
{
	int err = write_all(fd, data, len);

	if (!err && fchmod(fd, mode))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	return err;
}

/*
 * write_file_atomic - readers see the old file or the new one, never half.
 *
 * The new content is written to an unnamed file in the target directory
 * (O_TMPFILE), which a crash leaves nowhere, then linked under a random
 * name that cannot already exist and renamed over path. Nothing at a
 * predictable name is ever opened, so a link planted there is never
 * followed; rename replaces a link at path itself rather than what it
 * points to. A character device or FIFO at path (or a root-owned link to
 * one, /dev/stdout) is written in place instead.
 */
int write_file_atomic(const char *path, const void *data, size_t len,
		      unsigned int mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st, target;
	int fd, err;

	if (!lstat(path, &st)) {
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
			return write_in_place(path, O_NOFOLLOW, data, len);
		if (S_ISLNK(st.st_mode) &&
		    (st.st_uid == 0 || st.st_uid == geteuid()) &&
		    !stat(path, &target) &&
		    (S_ISCHR(target.st_mode) || S_ISFIFO(target.st_mode)))
			return write_in_place(path, 0, data, len);
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
			return -EINVAL; /* a block device, a socket */
	} else if (errno != ENOENT) {
		return -errno;
	}

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return -ENAMETOOLONG;

	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0) {
		err = fill(fd, data, len, mode);
		if (!err)
			err = tmpfile_link(fd, path, tmp, sizeof(tmp));
		close(fd);
		if (err)
			return err;
	} else if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
		fd = tmpfile_named(path, tmp, sizeof(tmp));
		if (fd < 0)
			return fd;
		err = fill(fd, data, len, mode);
		if (close(fd) && !err && errno != EINTR)
			err = -errno;
		if (err) {
			unlink(tmp);
			return err;
		}
	} else {
		return -errno;
	}
	if (rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	return 0;
}

int mx_fake_now(int64_t *now)
{
	const char *fake = mx_test_hook("fake_now");
	char buf[64] = "";
	uint64_t v;
	FILE *f;

	if (!fake || !*fake)
		return -ENOENT;
	if (fake[0] == '/') {
		f = fopen(fake, "re");
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = '\0';
			fclose(f);
		}
		buf[strcspn(buf, "\n ")] = '\0';
	} else {
		snprintf(buf, sizeof(buf), "%s", fake);
	}
	if (parse_u64(buf, 1, INT64_MAX, &v))
		return -EINVAL;
	*now = (int64_t)v;
	return 0;
}

int64_t mx_now(void)
{
	int64_t t;

	return mx_fake_now(&t) ? (int64_t)time(NULL) : t;
}

/*
 * mx_controller_pid - the pid in $state_dir/watch.pid if that process is alive
 * and is an mxwall; 0 when absent or stale.
 */
long mx_controller_pid(const char *state_dir)
{
	char path[4096], buf[64], comm[64] = "";
	long pid;
	ssize_t n;
	char *end;
	int fd;

	if (path_join(path, sizeof(path), state_dir, "watch.pid"))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	if (pid <= 0 || (*end && *end != '\n'))
		return 0;
	if (kill((pid_t)pid, 0) && errno != EPERM)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		comm[n > 0 ? n : 0] = '\0';
		/* a recycled pid belongs to someone else */
		if (!strstr(comm, "mxwall"))
			return 0;
	}
	return pid;
}
