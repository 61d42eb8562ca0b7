/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats.h - the retry distribution of refused sources ("mxwall stats
 * persistence"), as a pure function over a list of (source, time, tags)
 * events, so that a unit test can drive it with a generated history.
 *
 * What is counted (mxwall(8) "stats persistence"):
 *  - A "try" is a connection attempt of one source. Events of a source that
 *    come less than STATS_TRY_GAP_SEC after the previous event of the same
 *    source belong to the same try (one SMTP session writes several reject
 *    lines: one per RCPT, then the disconnect); an event at least
 *    STATS_TRY_GAP_SEC after the previous one starts a new try.
 *  - Only sources with at least two tries are counted: they "connected at
 *    least twice at least five seconds apart". The columns count how often
 *    such a source came back after its first try: "1 try" is one more try
 *    after the first refusal (two tries in all), "5-10 tries" five to ten
 *    more, "more" over ten. This is the only reading under which the
 *    sample's "1 try" column (60%) is not empty by definition.
 *  - A source is in the row of every reason tag that any of its events
 *    carried, with the retry count of all its events (the source's
 *    persistence, grouped by why it was refused).
 * Callers: stats.c (cmd_stats), selftests/unit/test_stats.c.
 */
#ifndef MXWALL_STATS_H
#define MXWALL_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "core/cidr.h"

#define STATS_TRY_GAP_SEC 5
#define STATS_DAYS_DEFAULT 28

/* buckets of retries after the first try */
enum {
	STATS_B1,    /* 1 */
	STATS_B2,    /* 2 */
	STATS_B3,    /* 3 */
	STATS_B4,    /* 4 */
	STATS_B5_10, /* 5..10 */
	STATS_BMORE, /* over 10 */
	STATS_NBUCKETS,
};

struct stats_event {
	struct cidr src;  /* the refused host */
	int64_t time;	  /* unix seconds */
	const char *tags; /* comma list of reasons; NULL or "" = none */
};

struct stats_row {
	char what[64]; /* "all refused" or a reason tag */
	uint64_t ips;  /* sources with at least two tries */
	uint64_t n[STATS_NBUCKETS];
};

struct stats_result {
	struct stats_row *rows; /* rows[0]: all refused; then per tag */
	size_t nrows;
};

/*
 * stats_persistence - the distribution over ev[0..n). ev is sorted in place
 * (by source, then time). Rows after the first are sorted by ips
 * descending, then by name. res->rows is the caller's: stats_result_free().
 */
int stats_persistence(struct stats_event *ev, size_t n,
		      struct stats_result *res);
void stats_result_free(struct stats_result *res);
/* stats_bucket - the bucket of a retry count (>= 1) */
int stats_bucket(uint64_t retries);
/* stats_print - the table of mxwall(8) "stats"; stats_print_json - the same as
 * JSON */
void stats_print(FILE *f, const struct stats_result *res);
void stats_print_json(FILE *f, const struct stats_result *res, int days);

/*
 * stats_run - `mxwall stats persistence` over the database of state_dir
 * (or the config's): the exit status
 */
int stats_run(const char *state_dir, const char *conf, uint64_t days,
	      bool json);

#endif /* MXWALL_STATS_H */
