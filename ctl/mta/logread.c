// SPDX-License-Identifier: GPL-2.0
/*
 * logread.c - line reader over zlib's gzread(), which passes plain files
 * through unchanged, so one path serves .gz, plain files and stdin.
 * Lines are cut by the rule of lineframe.h, as `watch` cuts them.
 * Memory: one buffer of LF_LINE_MAX + 1 + 64 KiB, whatever the input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/mxwall.h"
#include "mta/lineframe.h"
#include "mta/logread.h"

#define CHUNK (64 * 1024)

struct logread {
	gzFile gz;
	char *buf;
	size_t cap;	    /* LF_LINE_MAX + 1 + CHUNK */
	size_t start, fill; /* unread bytes are buf[start, fill) */
	bool eof;
	struct lineframe lf;
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
	r->cap = LF_LINE_MAX + 1 + CHUNK;
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
		 bool *overlong)
{
	uint64_t total;
	size_t used;
	int n;

	*overlong = false;
	for (;;) {
		switch (lf_cut(&r->lf, r->buf + r->start, r->fill - r->start,
			       r->eof, &used, &total)) {
		case LF_LINE:
			*line = r->buf + r->start;
			*len = used;
			if (r->buf[r->start + used - 1] == '\n')
				(*len)--;
			r->start += used;
			return 1;
		case LF_LONG:
			*line = NULL;
			*len = total > SIZE_MAX ? SIZE_MAX : (size_t)total;
			*overlong = true;
			r->start += used;
			return 1;
		case LF_MORE:
			r->start += used;
			if (r->eof)
				return 0;
			break;
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
