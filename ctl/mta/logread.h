/* SPDX-License-Identifier: GPL-2.0 */
/*
 * logread.h - read a log line by line: plain or gzip-compressed (zlib
 * reads both), or stdin for "-". Lines come without their newline and may
 * hold any bytes. They are cut by the rule of lineframe.h: a line longer
 * than LF_LINE_MAX is dropped whole and returned as *overlong with no
 * bytes (*line NULL, *len its length), so memory stays bounded whatever
 * the input and no part of it is read as a line.
 */
#ifndef MXWALL_LOGREAD_H
#define MXWALL_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct logread;

/* logread_open - NULL with errno on failure; *mtime gets the file's mtime
 * (0 for stdin and pipes) */
struct logread *logread_open(const char *path, int64_t *mtime);
/* logread_line - 1 with a line, 0 at end of input, -errno on error */
int logread_line(struct logread *r, const char **line, size_t *len,
		 bool *overlong);
void logread_close(struct logread *r);

#endif /* MXWALL_LOGREAD_H */
