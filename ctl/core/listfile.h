/* SPDX-License-Identifier: GPL-2.0 */
/*
 * listfile.h - the `load` format: one CIDR per line, '#' or ';' starts a
 * comment (Spamhaus DROP style "1.2.3.0/24 ; SBL1"), blank lines ignored.
 *
 * All or nothing: the whole input is parsed before anything is returned;
 * the first bad line makes the parse fail with "NAME:LINE: what is wrong"
 * in err and nothing in *out. Host bits under the mask are cleared and
 * reported through the warn callback. Duplicates are fine and come back
 * once: the result is sorted by address and unique.
 * Callers: cmd_entries.c (load), watch/sync.c (the static core list).
 */
#ifndef MXWALL_LISTFILE_H
#define MXWALL_LISTFILE_H

#include <stddef.h>
#include <stdio.h>

#include "core/cidr.h"

/* called for a line that parsed with host bits cleared: "NAME:LINE: ..." */
typedef void (*listfile_warn_fn)(const char *msg, void *arg);

/*
 * listfile_parse - parse len bytes of buf; name is used in messages.
 * Returns 0 with *out (the caller frees it) and *n, or -EINVAL with err set.
 */
int listfile_parse(const char *name, const char *buf, size_t len,
		   struct cidr **out, size_t *n, listfile_warn_fn warn,
		   void *warn_arg, char *err, size_t errlen);
/* the most listfile_read() takes: a million-line list is ~20 MiB */
#define LISTFILE_MAX_BYTES (128 << 20)

/*
 * listfile_read - read path ("-" = stdin) and parse it. -errno with err set
 * when the file cannot be read ("NAME: No such file or directory"), is
 * longer than LISTFILE_MAX_BYTES (-EFBIG) or holds a NUL byte (-EILSEQ).
 * Control bytes in err are written as \xNN.
 */
int listfile_read(const char *path, struct cidr **out, size_t *n,
		  listfile_warn_fn warn, void *warn_arg, char *err,
		  size_t errlen);

#endif /* MXWALL_LISTFILE_H */
