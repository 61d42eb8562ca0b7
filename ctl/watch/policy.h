/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy.h - the promotion policy of `mxwall watch` as pure functions:
 * is a source over a threshold, which ttl does it get, is an address
 * protected, is the hourly cap reached, is an entry idle. Every input,
 * the clock included, is an argument; nothing here reads the environment,
 * the database or the filter (selftests/unit/test_policy.c).
 */
#ifndef MXWALL_WATCH_POLICY_H
#define MXWALL_WATCH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cidr.h"
#include "core/config.h"
#include "core/db.h"

#define POLICY_HOUR_SECS 3600

/* one rejection in a source's window */
struct src_event {
	int64_t time;
	uint64_t tags; /* bit per interned tag */
};

/* policy_rule_hits - events since `since` (of ev[0..n), in time order)
 * carrying a tag of mask; the tags of those events are or-ed into *tags */
uint64_t policy_rule_hits(const struct src_event *ev, size_t n, int64_t since,
			  uint64_t mask, uint64_t *tags);

/* what policy_over_threshold decided */
struct policy_verdict {
	uint64_t hits;	    /* events in the window that count */
	uint64_t tags;	    /* the tags of those events */
	uint64_t window;    /* seconds, of the rule that hit */
	uint64_t threshold; /* of the rule that hit */
	size_t rules_seen;  /* cfg->rules[0..rules_seen) were looked at */
};

/*
 * policy_over_threshold - is a source with the events ev[0..n) over a
 * threshold at now? First the global window and threshold over the tags
 * of `counting`, then each threshold.TAG rule in order; rule_bit[i] is
 * the tag bit of cfg->rules[i], -1 when no event carries that tag.
 */
bool policy_over_threshold(const struct mx_config *cfg,
			   const struct src_event *ev, size_t n,
			   uint64_t counting, const int *rule_bit, int64_t now,
			   struct policy_verdict *v);

/*
 * policy_ttl - the ttl of a new entry: cfg->ttl, or for a repeat offender
 * (prev: its last entry, removed within recidive_window of now and not
 * by `unblock`) its previous time in the filter times recidive_factor,
 * at most max_ttl. prev may be NULL. *level counts the repeats.
 */
uint64_t policy_ttl(const struct mx_config *cfg, const struct db_entry *prev,
		    int64_t now, uint64_t *level);

/*
 * policy_cap_prune - forget promotion times older than an hour. They are
 * appended in time order, so nothing is to do while the first one is
 * recent (with a clock set back, an old one behind a recent one is kept a
 * little longer: the cap only errs on the strict side).
 */
void policy_cap_prune(int64_t *times, size_t *n, int64_t now);

/* policy_cap_full - max_promotions_per_hour reached by n promotions */
bool policy_cap_full(const struct mx_config *cfg, size_t n);

/* addresses never blocked */
struct policy_guard {
	struct cidr loop[2];	/* 127.0.0.0/8, ::1 */
	const struct cidr *own; /* the machine's addresses */
	size_t nown;
};

/* policy_guard_init - the loopback nets of g; own left empty */
void policy_guard_init(struct policy_guard *g);

/*
 * policy_protected - why net is never blocked (loopback, an address of
 * this machine, the allowlist; for a netblock: if it covers any of them),
 * or NULL. Fails closed: when in doubt the source is not blocked.
 */
const char *policy_protected(const struct mx_config *cfg,
			     const struct policy_guard *g,
			     const struct cidr *net);

/*
 * policy_seen_fresh - does a handshake at `when` still vouch for its
 * source at now (seen_max_age)? One stamped after now (a clock set back)
 * counts as just made.
 */
bool policy_seen_fresh(const struct mx_config *cfg, int64_t when, int64_t now);

/* policy_idle - an entry last hit at `last` is idle at now (idle_expire) */
bool policy_idle(const struct mx_config *cfg, int64_t last, int64_t now);

/* policy_fmt_dur - seconds as "2w", "3d", "1h", "5m", "7s" */
void policy_fmt_dur(uint64_t s, char *buf, size_t len);

#endif
