/* SPDX-License-Identifier: GPL-2.0 */
/*
 * watch_int.h - the state of one `mxwall watch` run, shared by its parts:
 * loop.c (the event loop, signals, pidfile, sd_notify, setup), logs.c (the
 * followed logs and the journal), sources.c
 * (source tracking, tag interning), policy.c (the pure promotion policy)
 * and sync.c (the active set, filter sync, the core list, DB batching).
 * Private to ctl/watch/.
 */
#ifndef MXWALL_WATCH_INT_H
#define MXWALL_WATCH_INT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "backend/backend.h"
#include "backend/wire.h"
#include "core/config.h"
#include "core/db.h"
#include "mta/follow.h"
#include "mta/journal.h"
#include "watch/reader.h"
#include "mta/scan.h"
#include "watch/policy.h"

/*
 * Memory under a flood stays bounded: at most SRC_TRACK_MAX sources that
 * are not blocked are tracked (the one whose last event is oldest is
 * forgotten first, counted and logged), and their windows hold at most
 * SRC_EV_BUDGET events together (SRC_EVENTS_MAX each). Events older than
 * the longest window are dropped when a window grows. Blocked sources
 * (bounded by the entries made, which the promotion cap bounds) are not
 * forgotten and their windows do not grow: they start again when they
 * leave.
 */
#define SRC_BUCKETS (1U << 18)
#define SRC_TRACK_MAX (1U << 18)
#define SRC_EV_BUDGET (2U << 20) /* 32 MiB of struct src_event */
#define SRC_EVENTS_MAX 4096	 /* per source; the oldest go first */
#define TAGS_MAX 64		 /* distinct reason tags with their own bit */
#define HOUR_SECS POLICY_HOUR_SECS
#define RECONCILE_SECS 60 /* dump the filter: idle, gone, others' ttl */
#define PRUNE_SECS 3600	  /* housekeeping of the events table */
/* events are kept for report (a week) and stats persistence (28 days) */
#define EVENTS_KEEP_SECS (90 * 24 * 3600)

struct source {
	struct cidr ip;
	struct src_event *ev; /* in time order */
	size_t n, cap;
	bool blocked;	      /* an active entry holds it (or dry-run did) */
	bool refused_logged;  /* wire check said no, and we said so */
	int64_t cap_refused;  /* when the promotion cap last refused it */
	int64_t pardon_until; /* a pardon holds it until then */
	struct source *next;  /* hash chain */
	struct source *older, *newer; /* LRU list, not blocked only */
};

/* an entry this controller added and that is still in the filter */
struct active {
	int64_t id; /* entries row; 0 in dry-run */
	struct cidr net;
	char tags[MX_TAGS_LEN];
	int64_t added;
	int64_t expires;
	uint64_t packets; /* at the last reconcile */
	int64_t moved;	  /* when packets last grew (for idle_expire) */
};

/* a promotion decided, on its way into the filter */
struct pending {
	struct mx_entry e;
	uint64_t hits, level, ttl;
	char kind[16]; /* promote, escalate */
	char msg[160];
	char dur[64];
};

/* what watch keeps per followed file */
struct file_ctx {
	struct scanner *sc;
	int64_t ref_time;
	bool pos_dirty;
	int64_t size;	     /* at the last look (-1: missing) */
	int64_t grown;	     /* when it last grew (or was first seen) */
	bool warned_stale;   /* "has not grown for an hour" said */
	bool warned_missing; /* "does not exist" said */
};

#define STALE_SECS 3600 /* a log that has not grown this long: say so */

struct watch {
	struct mx_config cfg;
	struct backend_opts bo; /* directories, the backend asked for */
	const char *conf_path;
	bool conf_given;
	bool dry_run;
	char **cli_logs;
	size_t ncli_logs;

	struct mx_db *db;
	struct mx_db *pardon_db; /* dry-run: the real file, read-only */
	struct backend be;
	bool have_be;
	struct wire_reader wire; /* the handshake record (require_seen) */
	int64_t wire_logged;	 /* when its absence was last logged */
	int pid_fd;
	char pid_path[4096];

	/* the logs: read by a reader process (reader.c), or in this one
	 * with the test hook reader_inline (tests and `make bench` only) */
	struct reader *rd;
	char **rd_paths;
	struct file_ctx *rd_ctx; /* pos_dirty: moved since the last save;
				  * and what file_look() saw */
	size_t rd_n;
	size_t rd_journal; /* its index among them, SIZE_MAX: none */
	bool inline_reader;
	struct follower *fw;
	bool stdin_midline; /* a SIGHUP came inside a line of stdin */
	struct follow_file **files;
	size_t nfiles;

	/* the journal, when a log is "journal" (or log_fallback) */
	struct mx_journal *jr;
	struct scanner *jsc;
	char jr_key[4200];     /* its row in cursors: journal[:DIR] */
	bool jr_dirty;	       /* cursor moved since the last commit */
	bool jr_more;	       /* stopped on the budget: come back at once */
	uint64_t jr_untrusted; /* entries not from the MTA, ignored */
	int64_t jr_untrusted_logged;
	char jr_why[256]; /* the reason last logged (a new one is logged) */

	bool attached; /* the filter is attached to an interface */

	struct source **bucket;
	size_t nsources;
	struct source *lru_old, *lru_new; /* least, most recently used */
	size_t nlru;			  /* sources in the LRU list */
	size_t ev_total;	/* window slots allocated, all sources */
	uint64_t src_forgotten; /* forgotten since the last log line */
	uint64_t src_forgotten_all;
	int64_t forgot_logged;
	char *tag_names[TAGS_MAX];
	size_t ntags;
	uint64_t counting;	   /* tags whose events count (threshold > 0) */
	size_t counted_ntags;	   /* tags known when counting was computed */
	int *rule_bit;		   /* tag bit of cfg.rules[i], -1: none yet */
	struct policy_guard guard; /* loopback, own addresses */

	struct active *act;
	size_t nact;
	struct pending *pend; /* promotions not yet in the filter */
	size_t npend;

	struct cidr *own; /* the machine's addresses */
	size_t nown;

	int64_t *promo_times; /* promotions in the last hour */
	size_t npromo;
	int64_t cap_logged;

	struct fleet *fleet;  /* export and peers (fleet.c); NULL: none */
	struct csw *crowdsec; /* CrowdSec (crowdsec.c); NULL: none */

	int64_t now;
	const char *fake_now;
	bool dirty;
	bool db_stall; /* the database refused a commit: logs wait */
	struct timespec first_dirty;
	int64_t last_tick, last_reconcile, last_prune;
	uint64_t lines, events;
	const char *line_file; /* where the line being read comes from */
	uint64_t line_no;
};

/* loop.c */
int64_t ms_since(const struct timespec *t);

/* logs.c: the followed logs and the journal */
int followers_open(struct watch *w);
void followers_close(struct watch *w);
void logs_first(struct watch *w, int sfd);
size_t logs_pollfds(struct watch *w, struct pollfd *pfd, size_t max);
int logs_run(struct watch *w); /* 0, 1 at the end of input, -1 failed */
int journal_run(struct watch *w);
void logs_look(struct watch *w);
void logs_stop(struct watch *w);

/* sources.c: tags */
int tag_bit(struct watch *w, const char *tag, size_t len);
uint64_t tags_mask(struct watch *w, const char *tags);
void counting_update(struct watch *w);
/* tags_configure - the rules' tags interned (each with its own bit), then
 * counting_update(); with every new configuration */
void tags_configure(struct watch *w);
void mask_names(struct watch *w, uint64_t m, char *buf, size_t len);

/* sources.c: sources */
void src_set_blocked(struct watch *w, struct source *s, bool blocked);
struct source *src_get(struct watch *w, const struct cidr *ip, bool create);
void src_free_all(struct watch *w);
void src_gc(struct watch *w);
void own_addrs_load(struct watch *w);
const char *protected(struct watch *w, const struct cidr *net);
void event(struct watch *w, int64_t t, const struct cidr *ip, const char *mta,
	   const char *tags, bool replay);

/*
 * fleet.c: what a peer or CrowdSec may not override (loopback, ours, the
 * allowlist, an entry from elsewhere, a local allow covering it, a
 * pardon): the filter's entries and the pardons, read once per batch
 */
struct foreign {
	struct mx_entry *rows; /* the filter, sorted by address */
	size_t nrows;
	struct cidr *v; /* running pardons */
	size_t n;
	bool failed; /* pardons unreadable: refuse all */
};
int foreign_load(struct watch *w, struct foreign *fo);
void foreign_free(struct foreign *fo);
struct mx_entry *foreign_find(struct foreign *fo, const struct cidr *net);
/* foreign_refuses - why source may not block net here, or NULL */
const char *foreign_refuses(struct watch *w, struct foreign *fo,
			    const struct cidr *net, const char *source);

/* fleet.c: export = FILE, import = NAME FILE */
int fleet_init(struct watch *w);
void fleet_free(struct watch *w);
void fleet_changed(struct watch *w);
int fleet_timeout_ms(struct watch *w);
void fleet_tick(struct watch *w);

/* crowdsec.c: bouncer and publisher of CrowdSec's Local API */
int crowdsec_init(struct watch *w);
void crowdsec_free(struct watch *w);
int crowdsec_timeout_ms(struct watch *w);
void crowdsec_tick(struct watch *w);
void crowdsec_promoted(struct watch *w, const struct mx_entry *e,
		       uint64_t hits);

/* sync.c */
void be_follow(struct watch *w);
int be_apply(struct watch *w, const struct mx_entry *add, size_t nadd,
	     const struct cidr *del, size_t ndel);
int lock_take(struct watch *w);
void lock_drop(struct watch *w);
void mark_dirty(struct watch *w);
int save_positions(struct watch *w);
int commit(struct watch *w);
void active_add(struct watch *w, int64_t id, const struct mx_entry *e);
void consider(struct watch *w, struct source *s);
void flush_pending(struct watch *w);
void expire(struct watch *w);
void reconcile(struct watch *w);
void note_day(struct watch *w);
int core_load(struct watch *w);

#endif
