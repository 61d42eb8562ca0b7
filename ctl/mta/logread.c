// SPDX-License-Identifier: GPL-2.0
/*
 * logread.c - line reader over zlib's gzread(), which passes plain files
 * through unchanged, so one path serves .gz, plain files and stdin.
 * Memory: one buffer of LOGREAD_MAX + 64 KiB, whatever the input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "mta/logread.h"
#include "core/mxwall.h"

#define CHUNK (64 * 1024)

struct logread {
	gzFile gz;
	char *buf;
	size_t cap;	    /* LOGREAD_MAX + CHUNK */
	size_t start, fill; /* unread bytes are buf[start, fill) */
	bool eof;
	bool skipping; /* dropping the rest of an over-long line */
};

struct logread *logread_open(const char *path, int64_t *mtime)
{
	struct logread *r;
	struct stat st;
	int fd, saved;

	if (!strcmp(path, "-"))
		fd = dup(STDIN_FILENO);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		errno = EISDIR;
		return NULL;
	}
	if (mtime)
		*mtime = S_ISREG(st.st_mode) && strcmp(path, "-")
			     ? (int64_t)st.st_mtime
			     : 0;
	r = xcalloc(1, sizeof(*r));
	r->gz = gzdopen(fd, "rb");
	if (!r->gz) {
		close(fd);
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	gzbuffer(r->gz, 128 * 1024);
	r->cap = LOGREAD_MAX + CHUNK;
	r->buf = xmalloc(r->cap);
	return r;
}

/* fill - read more after compacting; returns bytes read, 0 at EOF, -errno */
static int fill(struct logread *r)
{
	int n, errnum;

	if (r->start) {
		memmove(r->buf, r->buf + r->start, r->fill - r->start);
		r->fill -= r->start;
		r->start = 0;
	}
	if (r->eof || r->fill >= r->cap)
		return 0;
	n = gzread(r->gz, r->buf + r->fill,
		   (unsigned int)(r->cap - r->fill > CHUNK ? CHUNK
							   : r->cap - r->fill));
	if (n < 0) {
		gzerror(r->gz, &errnum);
		return errnum == Z_ERRNO ? -errno : -EIO;
	}
	if (n == 0)
		r->eof = true;
	r->fill += (size_t)n;
	return n;
}

int logread_line(struct logread *r, const char **line, size_t *len,
		 bool *truncated)
{
	char *nl;
	size_t avail;
	int n;

	*truncated = false;
	for (;;) {
		avail = r->fill - r->start;
		nl = memchr(r->buf + r->start, '\n', avail);
		if (r->skipping) {
			if (nl) {
				r->start = (size_t)(nl - r->buf) + 1;
				r->skipping = false;
				continue;
			}
			r->start = r->fill;
			if (r->eof) {
				r->skipping = false;
				continue;
			}
		} else if (nl) {
			*line = r->buf + r->start;
			*len = (size_t)(nl - (r->buf + r->start));
			r->start += *len + 1;
			return 1;
		} else if (avail >= LOGREAD_MAX) {
			*line = r->buf + r->start;
			*len = LOGREAD_MAX;
			*truncated = true;
			r->start += LOGREAD_MAX;
			r->skipping = true;
			return 1;
		} else if (r->eof) {
			if (!avail)
				return 0;
			*line = r->buf + r->start; /* last line, no newline */
			*len = avail;
			r->start = r->fill;
			return 1;
		}
		n = fill(r);
		if (n < 0)
			return n;
	}
}

void logread_close(struct logread *r)
{
	if (!r)
		return;
	gzclose(r->gz);
	free(r->buf);
	free(r);
}
