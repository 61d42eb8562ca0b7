/* SPDX-License-Identifier: GPL-2.0 */
/*
 * follow.h - `tail -F` for the controller: follow log files across rename
 * rotation, copytruncate, a file that appears later and a file deleted and
 * re-created, woken by inotify; read '-' (stdin) as a stream.
 *
 * Promises:
 *  - Lines are delivered whole (without the newline), each exactly once
 *    per position: after a line is delivered, follow_pos() is the position
 *    just past it (inode, offset, length and hash of the line), and a
 *    follower started with that position delivers the next line and
 *    nothing before it.
 *  - A position whose inode is gone (rotated while nobody was reading) is
 *    looked up by content in NAME.0, NAME.1 and NAME.1.gz: the rest of
 *    the old file is delivered first, then the new file from its start.
 *    When no rotated copy holds it, the current file is read from its
 *    start and a warning says lines may have been missed.
 *  - Nothing here blocks: follower_run() reads what is there and returns.
 * Callers: watch/loop.c.
 */
#ifndef MXWALL_FOLLOW_H
#define MXWALL_FOLLOW_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/db.h"

struct follower;
struct follow_file;

/*
 * fn - one line, without its newline; line NULL: an over-long line, len
 * bytes, dropped whole (lineframe.h). Non-zero stops follower_run(), which
 * returns it.
 */
typedef int (*follow_line_fn)(void *arg, struct follow_file *ff,
			      const char *line, size_t len);

struct follower *follower_new(void);

/*
 * follow_ops - how a follower reaches the file system: by default the
 * system calls; a reader that may not open anything asks its parent
 * (watch/reader_proc.c). Each returns what the system call would (-1 and
 * errno).
 */
struct stat;
struct follow_ops {
	int (*open)(void *arg, const char *path, int flags);
	int (*stat)(void *arg, const char *path, struct stat *st);
	/* watch - an inotify watch on dir in the follower's inotify fd */
	int (*watch)(void *arg, int ifd, const char *dir, uint32_t mask);
	void *arg;
};

/*
 * follower_new_ops - a follower that goes through ops, with ifd as its
 * inotify fd (-1: none; it is closed by follower_free)
 */
struct follower *follower_new_ops(const struct follow_ops *ops, int ifd);
/* follower_free - closes every file; the inotify fd too */
void follower_free(struct follower *fw);

/*
 * follower_add - follow path ("-" = stdin) from resume (NULL: from the
 * start). A missing file is not an error: it is read once it appears.
 * Returns 0, or -errno for a path that cannot be watched at all.
 */
int follower_add(struct follower *fw, const char *path,
		 const struct db_pos *resume, struct follow_file **out);

/* follower_pollfds - fds to poll for input (inotify, stdin); count */
size_t follower_pollfds(struct follower *fw, struct pollfd *fds, size_t max);

/*
 * follower_run - drain inotify, read every file to its end, handle
 * rotation and truncation; call fn for each complete line.
 */
int follower_run(struct follower *fw, follow_line_fn fn, void *arg);

/* follower_eof - every followed source is stdin and it has ended */
bool follower_eof(struct follower *fw);

const char *follow_path(const struct follow_file *ff);
bool follow_is_stdin(const struct follow_file *ff);
/* follow_pos - position just past the last line delivered */
void follow_pos(const struct follow_file *ff, struct db_pos *pos);
/*
 * follow_name - the file the last line came from: the path, or the
 * rotated copy (NAME.1, NAME.1.gz) being caught up
 */
const char *follow_name(const struct follow_file *ff);
/* follow_line - line number of the last line delivered in it; 0 unknown */
uint64_t follow_line(const struct follow_file *ff);
/* the caller's pointer for this file (its scanner, say) */
void follow_set_data(struct follow_file *ff, void *data);
void *follow_data(const struct follow_file *ff);
/* mtime of the file being read (for syslog years); 0 for stdin */
int64_t follow_mtime(const struct follow_file *ff);

/*
 * follow_midline - ff (stdin) holds the start of a line not yet ended;
 * follow_skip_line - the bytes ff reads next are the rest of a line that
 * another follower began: dropped up to the newline, like an over-long
 * line (lineframe.h), so that a line is never split. For `watch -` across
 * a SIGHUP, which starts a new reader on the same standard input.
 */
bool follow_midline(const struct follow_file *ff);
void follow_skip_line(struct follow_file *ff);

/* follow_hash - FNV-1a 64 of a line, newline included */
uint64_t follow_hash(const char *buf, size_t len);

#endif /* MXWALL_FOLLOW_H */
