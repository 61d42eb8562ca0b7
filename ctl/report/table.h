/* SPDX-License-Identifier: GPL-2.0 */
/*
 * table.h - printing entry rows: the top/report table of mxwall(8) and the
 * JSON objects of `top --json`, `list --json` and `report --json`, plus the
 * netblock aggregation behind `--by /24|/16|/48`.
 *
 * Callers: cmd_entries.c (list, top), report.c (the weekly report). The
 * printers never sort: callers order the rows (table_sort_packets() or
 * table_sort_address()) and cut them to N before printing.
 */
#ifndef MXWALL_TABLE_H
#define MXWALL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "backend/backend.h"

/* the narrowest first column: "203.0.113.0/24" and friends fit */
#define TABLE_HOST_WIDTH 20

/*
 * table_tags - the Tags column of one row: "[a]" first when present, the
 * other tags in their stored order, "[static]" for the core list, then
 * "[allow]" or "[observe]" when the entry does not simply drop.
 */
void table_tags(const struct mx_entry *e, char *buf, size_t len);
/* table_print - header and one row per entry, columns widened as needed */
void table_print(FILE *f, const struct mx_entry *rows, size_t n);
/* table_print_json - a JSON array of entry_json() objects, one per line */
void table_print_json(FILE *f, const struct mx_entry *rows, size_t n);
/*
 * entry_json - one object: entry, action, packets, bytes, tags, origin,
 * added, expires, last_hit (no newline)
 */
void entry_json(FILE *f, const struct mx_entry *e);
/* entry_json_keys - the same keys without the braces (to add others) */
void entry_json_keys(FILE *f, const struct mx_entry *e);

/* table_sort_packets - packets, then bytes descending, then address */
void table_sort_packets(struct mx_entry *rows, size_t n);
/* table_sort_address - by family, address, prefix length */
void table_sort_address(struct mx_entry *rows, size_t n);

/*
 * table_aggregate - sum rows into netblocks in place: every entry longer
 * than /v4len (IPv4) or /v6len (IPv6) becomes its enclosing netblock and
 * rows that land on the same netblock are merged: packets and bytes summed,
 * tags united ("a" kept first), origin static only if every member is,
 * action allow only if every member is, observe only if every member is,
 * added the earliest, expires 0 if any member never expires else the
 * latest, last_hit the latest. A length of 0 (or the family's full length)
 * leaves that family as it is. Returns the new number of rows, which end
 * up sorted by address.
 */
size_t table_aggregate(struct mx_entry *rows, size_t n, unsigned int v4len,
		       unsigned int v6len);

/*
 * table_parse_by - "/24" -> IPv4 /24 + IPv6 /48; "/16" -> IPv4 /16 + IPv6
 * /32; "/48" -> IPv6 /48 only. -EINVAL for anything else.
 */
int table_parse_by(const char *s, unsigned int *v4len, unsigned int *v6len);

#endif /* MXWALL_TABLE_H */
