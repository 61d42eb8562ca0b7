/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reader_int.h - what the two halves of the log reader share, private to
 * reader.c (the watcher's side) and reader_proc.c (the processes the
 * watcher forks: the spawner and the unprivileged reader): the messages on
 * their sockets and descriptor passing. reader.c's head says how they talk.
 */
#ifndef MXWALL_WATCH_READER_INT_H
#define MXWALL_WATCH_READER_INT_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/db.h"
#include "mta/scan.h"

/* the watcher's messages to the reader */
enum rd_ctl_type {
	RC_FILE = 1, /* a log: file, flags (RC_STDIN), pos, text = path */
	RC_TRAP,     /* a spam trap address: text */
	RC_GO,	     /* that was all: now, gen, hook; the inotify fd */
	RC_REPLY,    /* the answer to a request: err, st; an fd */
	RC_NOW,	     /* the watcher's clock moved */
	RC_LINE,     /* an entry of a fed source: file, pos.offset (its
		      * number), text (no NUL) */
};
#define RC_STDIN 1
#define RC_FED 2     /* RC_FILE: lines come as RC_LINE (the journal) */
#define RC_MIDLINE 4 /* RC_FILE: stdin is inside a line: skip to its end */

struct rd_ctl {
	uint32_t type;
	int32_t err; /* RC_REPLY: 0 or an errno */
	uint32_t file;
	uint32_t flags;
	int64_t now;
	uint64_t gen;
	uint32_t hook; /* enum hook: a test makes the first reader misbehave */
	uint32_t pad;
	struct db_pos pos;
	struct stat st;
	char text[SCAN_LINE_MAX + 2];
};

/* the spawner's messages */
enum sp_op { SP_SPAWN = 1, SP_SPAWNED, SP_FAILED, SP_DIED, SP_KILL };
struct sp_msg {
	uint32_t op;
	int32_t pid;
	int32_t status; /* SP_DIED: wait status; SP_FAILED: errno */
	int32_t pad;
};

/* test-only: the hook reader= makes the first reader misbehave */
enum hook { HOOK_NONE, HOOK_OPEN, HOOK_EXEC, HOOK_BPF, HOOK_RECORD };

/* send_fd - one message, with fd passed (SCM_RIGHTS) unless fd < 0 */
ssize_t send_fd_flags(int sock, const void *buf, size_t len, int fd, int flags);
ssize_t send_fd(int sock, const void *buf, size_t len, int fd);
/* recv_fd - one message; *fd gets a passed descriptor or -1 */
ssize_t recv_fd(int sock, void *buf, size_t len, int *fd, int flags);
/* dir_of - the directory follow.c watches for path (the caller frees) */
char *dir_of(const char *path);

/*
 * spawner_main - the spawner (forked by reader_new): drops to uid/gid,
 * forks a reader for every socket the watcher sends over ctl and reports
 * their deaths; ends with the watcher. Does not return.
 */
void spawner_main(int ctl, uid_t uid, gid_t gid, pid_t watcher)
    __attribute__((noreturn));

#endif /* MXWALL_WATCH_READER_INT_H */
