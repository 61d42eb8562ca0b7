/* SPDX-License-Identifier: GPL-2.0 */
/*
 * logread.h - read a log line by line: plain or gzip-compressed (zlib
 * reads both), or stdin for "-". Lines come without their newline and may
 * hold any bytes. A line longer than LOGREAD_MAX is returned cut to
 * LOGREAD_MAX bytes with *truncated set (the rest up to the newline is
 * skipped), so memory stays bounded whatever the input.
 */
#ifndef MXWALL_LOGREAD_H
#define MXWALL_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGREAD_MAX (1024 * 1024)

struct logread;

/* logread_open - NULL with errno on failure; *mtime gets the file's mtime
 * (0 for stdin and pipes) */
struct logread *logread_open(const char *path, int64_t *mtime);
/* logread_line - 1 with a line, 0 at end of input, -errno on error */
int logread_line(struct logread *r, const char **line, size_t *len,
		 bool *truncated);
void logread_close(struct logread *r);

#endif /* MXWALL_LOGREAD_H */
