/* SPDX-License-Identifier: GPL-2.0 */
/*
 * import.h - reading lists written by other hosts or published by others:
 * the `load` format with tags (FireHOL .netset files too), rbldnsd data,
 * an RFC 5782 zone, and Spamhaus' DROP JSON.
 *
 * All or nothing: the whole input is checked before anything is returned;
 * the first bad line fails the parse with "NAME:LINE: what is wrong" and
 * nothing in *out. Inputs over IMPORT_MAX_BYTES are refused unread.
 * The result is sorted by address, one entry per CIDR (the longest
 * original prefix wins), and an entry that says the same as the entry
 * covering it (the wildcards of a zone) is folded into it.
 *
 * Entries come back with net, action (drop, or allow for an exclusion),
 * tags (only well-formed ones) and origin STATIC when the input marks the
 * entry as a core-list one (127.0.0.3, a `static` tag), else DYNAMIC.
 *
 * Callers: cmd/entries.c (load --format), watch/ (import = NAME FILE).
 */
#ifndef MXWALL_IMPORT_H
#define MXWALL_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"

enum import_format {
	IMPORT_PLAIN,
	IMPORT_RBLDNSD,
	IMPORT_ZONE,
	IMPORT_DROP_JSON,
};

#define IMPORT_MAX_BYTES (256u << 20)

/* import_parse_format - "plain", "rbldnsd", "zone", "drop-json"; -EINVAL */
int import_parse_format(const char *s, enum import_format *out);

int import_parse(enum import_format fmt, const char *name, const char *buf,
		 size_t len, struct mx_entry **out, size_t *n, char *err,
		 size_t errlen);
/*
 * import_read - read path ("-" = stdin), bounded, and parse it. *marked
 * (may be NULL): the file is an mxwall export, whose entries say their
 * origin (static or dynamic) themselves.
 */
int import_read(enum import_format fmt, const char *path, struct mx_entry **out,
		size_t *n, bool *marked, char *err, size_t errlen);

#endif /* MXWALL_IMPORT_H */
