// SPDX-License-Identifier: GPL-2.0
/*
 * follow.c - `tail -F` with exact, resumable positions (see follow.h).
 *
 * Each file is read to its end whenever inotify says something changed in
 * its directory (or the caller's periodic tick runs us). After reading,
 * the path is compared with the open file: a new inode at the path means
 * rename rotation (the old file was read to its end first; then the new
 * one is read from its start), a file shorter than what was read means
 * copytruncate (read again from offset 0), a missing path means the file
 * was moved or deleted and is picked up when it is created again.
 *
 * The switch to a new file at the path waits for its first byte: until
 * then the writer (told to reopen only in logrotate's postrotate) may still
 * append to the renamed one.
 * XXX: a writer that appends to the renamed file after it also wrote to
 * the new one loses those late lines, as with tail -F.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "core/mxwall.h"
#include "mta/follow.h"
#include "mta/lineframe.h"

#define FOLLOW_CHUNK (64 * 1024)
#define FOLLOW_BUDGET (4 * 1024 * 1024) /* per follower_run(), see drain() */

/* a source of bytes: the followed file, or a rotated copy being caught up */
struct src {
	int fd;
	gzFile gz;
};

struct follow_file {
	char *path;
	char *dir;
	bool is_stdin;
	bool stdin_eof;
	int wd;		    /* inotify watch on dir, -1 none */
	int fd;		    /* the file at path as last opened, -1 none */
	uint64_t dev, ino;  /* of fd */
	uint64_t rd_off;    /* bytes read from fd */
	struct src catchup; /* rest of the rotated copy, delivered first */
	bool catching_up;
	char *catchup_name; /* its path, while catching up */
	struct db_pos pos;  /* just past the last line delivered */
	char *buf;	    /* bytes read, not yet a whole line */
	size_t len, cap;
	struct lineframe lf; /* inside an over-long line? (lineframe.h) */
	int64_t mtime;
	void *data;
	struct follow_file *next;
};

struct follower {
	struct follow_ops ops;
	int ifd;       /* inotify, -1 if unavailable */
	int efd;       /* readable while input is left: see drain() */
	size_t budget; /* bytes this follower_run() may still read */
	bool more;     /* it stopped on the budget, not at the end */
	struct follow_file *files;
};

uint64_t follow_hash(const char *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)buf[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int sys_open(void *arg, const char *path, int flags)
{
	(void)arg;
	return open(path, flags);
}

static int sys_stat(void *arg, const char *path, struct stat *st)
{
	(void)arg;
	return stat(path, st);
}

static int sys_watch(void *arg, int ifd, const char *dir, uint32_t mask)
{
	(void)arg;
	return inotify_add_watch(ifd, dir, mask);
}

struct follower *follower_new_ops(const struct follow_ops *ops, int ifd)
{
	struct follower *fw = xcalloc(1, sizeof(*fw));

	fw->ops = *ops;
	fw->ifd = ifd;
	fw->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return fw;
}

struct follower *follower_new(void)
{
	static const struct follow_ops sys = {sys_open, sys_stat, sys_watch,
					      NULL};
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (ifd < 0)
		log_warn("inotify: %s; polling logs once a second instead",
			 strerror(errno));
	return follower_new_ops(&sys, ifd);
}

static void src_close(struct src *s)
{
	if (s->gz)
		gzclose(s->gz);
	else if (s->fd >= 0)
		close(s->fd);
	s->gz = NULL;
	s->fd = -1;
}

static ssize_t src_read(struct src *s, void *buf, size_t n)
{
	int r;

	if (s->gz) {
		r = gzread(s->gz, buf, (unsigned int)n);
		if (r < 0) {
			errno = EIO;
			return -1;
		}
		return r;
	}
	return read(s->fd, buf, n);
}

void follower_free(struct follower *fw)
{
	struct follow_file *ff, *next;

	if (!fw)
		return;
	for (ff = fw->files; ff; ff = next) {
		next = ff->next;
		if (ff->fd >= 0 && !ff->is_stdin)
			close(ff->fd);
		src_close(&ff->catchup);
		free(ff->catchup_name);
		free(ff->path);
		free(ff->dir);
		free(ff->buf);
		free(ff);
	}
	if (fw->ifd >= 0)
		close(fw->ifd);
	if (fw->efd >= 0)
		close(fw->efd);
	free(fw);
}

const char *follow_path(const struct follow_file *ff)
{
	return ff->path;
}

bool follow_is_stdin(const struct follow_file *ff)
{
	return ff->is_stdin;
}

void follow_pos(const struct follow_file *ff, struct db_pos *pos)
{
	*pos = ff->pos;
}

const char *follow_name(const struct follow_file *ff)
{
	return ff->catching_up && ff->catchup_name ? ff->catchup_name
						   : ff->path;
}

uint64_t follow_line(const struct follow_file *ff)
{
	return ff->pos.line;
}

/*
 * count_lines - a position saved without its line number (schema 2):
 * count the newlines before it, once, at resume. Unknown (0) on error.
 */
static void count_lines(int fd, struct db_pos *pos)
{
	char buf[FOLLOW_CHUNK];
	uint64_t off = 0, n = 0;
	ssize_t r;
	size_t want, i;

	if (pos->line || !pos->offset)
		return;
	while (off < pos->offset) {
		want = pos->offset - off < sizeof(buf)
			   ? (size_t)(pos->offset - off)
			   : sizeof(buf);
		r = pread(fd, buf, want, (off_t)off);
		if (r <= 0)
			return;
		for (i = 0; i < (size_t)r; i++)
			n += buf[i] == '\n';
		off += (uint64_t)r;
	}
	pos->line = n;
}

void follow_set_data(struct follow_file *ff, void *data)
{
	ff->data = data;
}

void *follow_data(const struct follow_file *ff)
{
	return ff->data;
}

int64_t follow_mtime(const struct follow_file *ff)
{
	return ff->mtime;
}

bool follower_eof(struct follower *fw)
{
	struct follow_file *ff;

	if (!fw->files)
		return false;
	for (ff = fw->files; ff; ff = ff->next)
		if (!ff->is_stdin || !ff->stdin_eof)
			return false;
	return true;
}

size_t follower_pollfds(struct follower *fw, struct pollfd *fds, size_t max)
{
	struct follow_file *ff;
	size_t n = 0;

	if (fw->ifd >= 0 && n < max) {
		fds[n].fd = fw->ifd;
		fds[n++].events = POLLIN;
	}
	if (fw->efd >= 0 && n < max) {
		fds[n].fd = fw->efd;
		fds[n++].events = POLLIN;
	}
	for (ff = fw->files; ff; ff = ff->next) {
		if (ff->is_stdin && !ff->stdin_eof && n < max) {
			fds[n].fd = 0;
			fds[n++].events = POLLIN;
		}
	}
	return n;
}

static void watch_dir(struct follower *fw, struct follow_file *ff)
{
	if (fw->ifd < 0 || ff->wd >= 0 || ff->is_stdin)
		return;
	ff->wd =
	    fw->ops.watch(fw->ops.arg, fw->ifd, ff->dir,
			  IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
			      IN_DELETE | IN_ATTRIB | IN_CLOSE_WRITE);
}

/* verify - does the line before pos->offset in s hash to pos->last_hash */
static bool verify_fd(int fd, const struct db_pos *pos)
{
	char *b;
	bool ok;

	if (pos->offset < pos->last_len || pos->last_len > 16 * LF_LINE_MAX)
		return false;
	if (!pos->last_len)
		return pos->offset == 0;
	b = xmalloc(pos->last_len);
	ok =
	    pread(fd, b, pos->last_len, (off_t)(pos->offset - pos->last_len)) ==
		(ssize_t)pos->last_len &&
	    follow_hash(b, pos->last_len) == pos->last_hash;
	free(b);
	return ok;
}

static bool verify_gz(gzFile gz, const struct db_pos *pos)
{
	char *b;
	bool ok;

	if (pos->offset < pos->last_len || !pos->last_len ||
	    pos->last_len > 16 * LF_LINE_MAX)
		return false;
	if (gzseek(gz, (z_off_t)(pos->offset - pos->last_len), SEEK_SET) < 0)
		return false;
	b = xmalloc(pos->last_len);
	ok = gzread(gz, b, (unsigned int)pos->last_len) == (int)pos->last_len &&
	     follow_hash(b, pos->last_len) == pos->last_hash;
	free(b);
	return ok;
}

/*
 * find_rotated - the old file of pos, rotated away while nobody read it:
 * NAME.0 or NAME.1 by inode or by content, or NAME.1.gz / NAME.0.gz by
 * content. On success ff catches up from there before reading NAME.
 */
static bool find_rotated(struct follower *fw, struct follow_file *ff,
			 const struct db_pos *pos)
{
	static const char *const plain[] = {".0", ".1"};
	static const char *const gz[] = {".1.gz", ".0.gz"};
	char name[PATH_MAX];
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(plain); i++) {
		snprintf(name, sizeof(name), "%s%s", ff->path, plain[i]);
		fd = fw->ops.open(fw->ops.arg, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 &&
		    ((st.st_ino == pos->inode && st.st_dev == pos->dev) ||
		     pos->offset > 0) &&
		    (uint64_t)st.st_size >= pos->offset && verify_fd(fd, pos) &&
		    lseek(fd, (off_t)pos->offset, SEEK_SET) >= 0) {
			ff->catchup.fd = fd;
			ff->catchup.gz = NULL;
			ff->mtime = st.st_mtime;
			ff->pos = *pos;
			count_lines(fd, &ff->pos);
			goto found;
		}
		close(fd);
	}
	for (i = 0; i < ARRAY_SIZE(gz); i++) {
		gzFile g;

		snprintf(name, sizeof(name), "%s%s", ff->path, gz[i]);
		fd = fw->ops.open(fw->ops.arg, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0)
			ff->mtime = st.st_mtime;
		g = gzdopen(fd, "rb");
		if (!g) {
			close(fd);
			continue;
		}
		if (verify_gz(g, pos)) {
			ff->catchup.fd = -1;
			ff->catchup.gz = g;
			ff->pos = *pos; /* line unknown stays unknown here */
			goto found;
		}
		gzclose(g);
	}
	return false;
found:
	ff->catching_up = true;
	free(ff->catchup_name);
	ff->catchup_name = xstrdup(name);
	log_info("%s: resuming in %s, where it was rotated to", ff->path, name);
	return true;
}

/* open_current - (re)open the file at path; read from its start */
static int open_current(struct follower *fw, struct follow_file *ff)
{
	struct stat st;
	int fd;

	fd = fw->ops.open(fw->ops.arg, ff->path,
			  O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	if (ff->fd >= 0)
		close(ff->fd);
	ff->fd = fd;
	ff->dev = st.st_dev;
	ff->ino = st.st_ino;
	ff->rd_off = 0;
	ff->mtime = st.st_mtime;
	return 0;
}

/* start_current - make fd the source of positions, at offset 0 */
static void start_current(struct follow_file *ff)
{
	ff->len = 0;
	memset(&ff->lf, 0, sizeof(ff->lf));
	memset(&ff->pos, 0, sizeof(ff->pos));
	ff->pos.dev = ff->dev;
	ff->pos.inode = ff->ino;
}

int follower_add(struct follower *fw, const char *path,
		 const struct db_pos *resume, struct follow_file **out)
{
	struct follow_file *ff = xcalloc(1, sizeof(*ff)), **tail;
	struct stat st;
	char *slash;

	ff->path = xstrdup(path);
	ff->fd = -1;
	ff->wd = -1;
	ff->catchup.fd = -1;
	if (!strcmp(path, "-")) {
		int fl = fcntl(0, F_GETFL);

		ff->is_stdin = true;
		ff->fd = 0;
		if (fl >= 0)
			fcntl(0, F_SETFL, fl | O_NONBLOCK);
	} else {
		ff->dir = xstrdup(path);
		slash = strrchr(ff->dir, '/');
		if (!slash) {
			free(ff->dir);
			ff->dir = xstrdup(".");
		} else if (slash == ff->dir) {
			slash[1] = '\0';
		} else {
			*slash = '\0';
		}
		watch_dir(fw, ff);
		if (open_current(fw, ff) == 0) {
			start_current(ff);
			if (resume && resume->inode) {
				bool same = resume->inode == ff->ino &&
					    resume->dev == ff->dev;

				if (same && fstat(ff->fd, &st) == 0 &&
				    (uint64_t)st.st_size >= resume->offset &&
				    verify_fd(ff->fd, resume) &&
				    lseek(ff->fd, (off_t)resume->offset,
					  SEEK_SET) >= 0) {
					ff->rd_off = resume->offset;
					ff->pos = *resume;
					count_lines(ff->fd, &ff->pos);
				} else if (!find_rotated(fw, ff, resume) &&
					   resume->offset > 0) {
					log_warn(
					    "%s: the position of the last run "
					    "is gone (rotated and not found as "
					    "%s.1 or %s.1.gz); reading the "
					    "file from its start",
					    path, path, path);
				}
			}
		} else if (resume && resume->inode) {
			/* moved away and not yet re-created */
			find_rotated(fw, ff, resume);
		}
	}
	for (tail = &fw->files; *tail; tail = &(*tail)->next)
		;
	*tail = ff;
	if (out)
		*out = ff;
	return 0;
}

/* deliver - one line of n bytes (nl: it ends in a newline) */
static int deliver(struct follow_file *ff, const char *line, size_t n, bool nl,
		   follow_line_fn fn, void *arg)
{
	/* 0 lines after offset 0: not known (count_lines could not) */
	if (ff->pos.line || !ff->pos.offset)
		ff->pos.line++;
	ff->pos.offset += n;
	ff->pos.last_len = n;
	ff->pos.last_hash = follow_hash(line, n);
	return fn(arg, ff, line, nl ? n - 1 : n);
}

/*
 * deliver_long - an over-long line of total bytes ended with seg[0, n):
 * the position moves past all of it (the verified last line is its end),
 * the callback gets no bytes (line NULL, len total: garbage to the scanner)
 */
static int deliver_long(struct follow_file *ff, const char *seg, size_t n,
			uint64_t total, follow_line_fn fn, void *arg)
{
	if (ff->pos.line || !ff->pos.offset)
		ff->pos.line++;
	ff->pos.offset += total;
	ff->pos.last_len = n;
	ff->pos.last_hash = follow_hash(seg, n);
	return fn(arg, ff, NULL, total > SIZE_MAX ? SIZE_MAX : (size_t)total);
}

/*
 * split - deliver every whole line in buf (lineframe.h: an over-long line
 * is dropped whole, never delivered in pieces); final: the rest too
 */
static int split(struct follow_file *ff, bool final, follow_line_fn fn,
		 void *arg)
{
	size_t start = 0, used;
	uint64_t total;
	enum lf_cut k;
	int rc = 0;

	for (;;) {
		k = lf_cut(&ff->lf, ff->buf + start, ff->len - start, final,
			   &used, &total);
		if (k == LF_MORE) {
			start += used; /* an over-long line's bytes */
			break;
		}
		if (k == LF_LINE)
			rc =
			    deliver(ff, ff->buf + start, used,
				    ff->buf[start + used - 1] == '\n', fn, arg);
		else
			rc = deliver_long(ff, ff->buf + start, used, total, fn,
					  arg);
		start += used;
		if (rc)
			break;
	}
	if (start) {
		memmove(ff->buf, ff->buf + start, ff->len - start);
		ff->len -= start;
	}
	return rc;
}

/*
 * drain - read s to its end (or EAGAIN); *eof set at end of file. Under a
 * flood the end may never come: after FOLLOW_BUDGET bytes in one
 * follower_run() it stops with fw->more set, so that the caller gets to
 * commit, expire and take signals, and comes back at once (efd).
 */
static int drain(struct follower *fw, struct follow_file *ff, struct src *s,
		 bool *eof, follow_line_fn fn, void *arg)
{
	ssize_t n;
	int rc;

	*eof = false;
	for (;;) {
		if (ff->cap - ff->len < FOLLOW_CHUNK) {
			ff->cap = ff->len + 2 * FOLLOW_CHUNK;
			ff->buf = xreallocarray(ff->buf, ff->cap, 1);
		}
		n = src_read(s, ff->buf + ff->len, FOLLOW_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		if (n == 0) {
			*eof = true;
			return 0;
		}
		ff->len += (size_t)n;
		if (s != &ff->catchup)
			ff->rd_off += (uint64_t)n;
		rc = split(ff, false, fn, arg);
		if (rc)
			return rc;
		if (fw->budget <= (size_t)n) {
			fw->budget = 0;
			fw->more = true;
			return 0;
		}
		fw->budget -= (size_t)n;
	}
}

/* run_file - catch up, read, then look at what happened to the path */
static int run_file(struct follower *fw, struct follow_file *ff,
		    follow_line_fn fn, void *arg)
{
	struct stat st;
	bool eof;
	int rc, i;

	if (ff->is_stdin) {
		if (ff->stdin_eof)
			return 0;
		rc = drain(fw, ff, &(struct src){.fd = 0}, &eof, fn, arg);
		if (rc)
			return rc;
		if (eof) {
			ff->stdin_eof = true;
			return split(ff, true, fn, arg);
		}
		return 0;
	}
	watch_dir(fw, ff);
	if (ff->catching_up) {
		rc = drain(fw, ff, &ff->catchup, &eof, fn, arg);
		if (rc || fw->more)
			return rc;
		/* a rotated copy is complete: its last bytes are a line */
		rc = split(ff, true, fn, arg);
		if (rc)
			return rc;
		src_close(&ff->catchup);
		ff->catching_up = false;
		free(ff->catchup_name);
		ff->catchup_name = NULL;
		if (ff->fd < 0 && open_current(fw, ff))
			return 0;
		/* start_current resets pos to the file at path */
		if (ff->fd >= 0 && lseek(ff->fd, 0, SEEK_SET) == 0) {
			ff->rd_off = 0;
			start_current(ff);
		}
	}
	/* at most a few rounds: rotation, then the new file */
	for (i = 0; i < 4; i++) {
		if (ff->fd < 0) {
			if (open_current(fw, ff))
				return 0; /* not there (yet) */
			start_current(ff);
		}
		/*
		 * copytruncate: what was read is gone, or it was replaced by
		 * new lines before we looked (the last line is not where it
		 * was): read again from offset 0
		 */
		if (fstat(ff->fd, &st) == 0) {
			ff->mtime = st.st_mtime;
			if (((uint64_t)st.st_size < ff->rd_off ||
			     !verify_fd(ff->fd, &ff->pos)) &&
			    lseek(ff->fd, 0, SEEK_SET) == 0) {
				ff->rd_off = 0;
				start_current(ff);
			}
		}
		rc = drain(fw, ff, &(struct src){.fd = ff->fd}, &eof, fn, arg);
		if (rc || fw->more)
			return rc;
		if (fw->ops.stat(fw->ops.arg, ff->path, &st))
			return 0; /* moved or deleted: wait for it */
		if ((uint64_t)st.st_ino == ff->ino &&
		    (uint64_t)st.st_dev == ff->dev)
			return 0;
		/*
		 * logrotate's `create` makes the new file before the writer
		 * is told to reopen (postrotate): until the new file has a
		 * byte, the writer may still append to the old one, so stay
		 */
		if (st.st_size == 0)
			return 0;
		/* rename rotation: the old file is read to its end */
		rc = split(ff, true, fn, arg);
		if (rc)
			return rc;
		close(ff->fd);
		ff->fd = -1;
	}
	return 0;
}

int follower_run(struct follower *fw, follow_line_fn fn, void *arg)
{
	char ev[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	struct follow_file *ff;
	int rc;

	uint64_t one = 1;

	if (fw->ifd >= 0)
		while (read(fw->ifd, ev, sizeof(ev)) > 0)
			; /* which file does not matter: all are read */
	if (fw->efd >= 0 && fw->more &&
	    read(fw->efd, &one, sizeof(one)) != sizeof(one))
		one = 1; /* nothing was pending: fine */
	fw->more = false;
	fw->budget = fw->efd >= 0 ? FOLLOW_BUDGET : SIZE_MAX;
	for (ff = fw->files; ff; ff = ff->next) {
		rc = run_file(fw, ff, fn, arg);
		if (rc)
			return rc;
	}
	one = 1;
	if (fw->more && write(fw->efd, &one, sizeof(one)) != sizeof(one))
		log_warn("eventfd: %s", strerror(errno));
	return 0;
}

bool follow_midline(const struct follow_file *ff)
{
	return ff->len > 0 || ff->lf.skipping;
}

void follow_skip_line(struct follow_file *ff)
{
	ff->lf.skipping = true;
	ff->lf.skipped = 0;
}
