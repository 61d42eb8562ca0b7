/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export.h - the filter's entries as files other hosts read: an rbldnsd
 * `combined` dataset and an RFC 5782 zone (so the fleet's MTAs query the
 * list as a DNSBL), the `load` format with tags, and the `list --json`
 * objects. docs/fleet.md describes the formats; mxwall(8) the command.
 *
 * What a DNS answer says is what the filter does: the longest entry that
 * covers an address decides, and `allow` or observe entries are
 * exclusions (never listed), also inside a listed netblock.
 *
 * Callers: cmd/export.c (mxwall export), watch/ (export = FILE).
 */
#ifndef MXWALL_EXPORT_H
#define MXWALL_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/backend.h"

enum export_format {
	EXPORT_RBLDNSD,
	EXPORT_ZONE,
	EXPORT_PLAIN,
	EXPORT_JSON,
};

/* which entries: every one, only the core list, only dynamic ones */
enum export_select {
	EXPORT_ALL,
	EXPORT_STATIC,
	EXPORT_DYNAMIC,
};

/* A values of a listed address (RFC 5782 127.0.0.0/8 return codes) */
#define EXPORT_A_DYNAMIC "127.0.0.2"
#define EXPORT_A_STATIC "127.0.0.3"

struct export_opts {
	enum export_format format;
	enum export_select select;
	int family;	    /* AF_INET, AF_INET6, or 0 for both */
	const char *zone;   /* zone name for `zone` (SOA, NS); NULL: none */
	uint32_t serial;    /* SOA serial for `zone` */
	const char *source; /* written into the header comment */
	int64_t now;	    /* unix seconds, for the header comment */
};

/* export_parse_format - "rbldnsd", "zone", "plain", "json"; -EINVAL */
int export_parse_format(const char *s, enum export_format *out);
const char *export_format_name(enum export_format f);

/*
 * export_write - the selected rows (any order; sorted here) to f.
 * Returns 0, or -EINVAL with a reason in err (a zone without a name or
 * without one family: wildcards of IPv4 and IPv6 names would answer for
 * each other in one zone). The caller warns about what st counts.
 */
struct export_stats {
	size_t written;	 /* entries written */
	size_t expanded; /* zone: netblocks off an octet/nibble boundary,
			    written as several wildcards */
	size_t too_wide; /* zone: netblocks that would need more than
			    EXPORT_MAX_EXPAND wildcards, not written */
};
#define EXPORT_MAX_EXPAND 65536
int export_write(FILE *f, struct mx_entry *rows, size_t n,
		 const struct export_opts *o, struct export_stats *st,
		 char *err, size_t errlen);

/*
 * export_next_serial - a SOA serial for a zone rewritten at `now`: the
 * current unix time, or one more than prev when that is not smaller
 * (two writes in one second, a clock set back). prev 0: no previous zone.
 */
uint32_t export_next_serial(uint32_t prev, int64_t now);
/* export_read_serial - the serial of a zone file mxwall wrote; 0 if none */
uint32_t export_read_serial(const char *path);

#endif /* MXWALL_EXPORT_H */
