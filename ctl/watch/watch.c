// SPDX-License-Identifier: GPL-2.0
/*
 * watch.c - `mxwall watch`, the controller: follow the MTA's logs, keep a
 * window of rejection events per source, promote sources over a threshold
 * into the filter with tag `a` plus their reasons, expire them on time
 * (OpenBSD's spamd greyscan is the model: scan, decide, apply, log).
 *
 * What it promises (DESIGN.md "The controller", mxwall.conf(5)):
 *  - Every line is counted once: events and read positions are committed
 *    in the same database transaction (batched, commit_interval), and a
 *    promotion commits at once.
 *  - It never blocks loopback, the machine's own addresses or anything in
 *    `allow`, never more than max_promotions_per_hour, and by default only
 *    a source the data path has seen sending SMTP SYNs (require_seen): an
 *    address that someone else wrote into a log line is not enough.
 *  - --dry-run opens the filter read-only and a private in-memory
 *    database: it logs what it would do and changes nothing.
 *  - SIGHUP reloads mxwall.conf and the static core list (a bad new config
 *    is logged and the old one kept); SIGTERM commits and exits 0.
 *
 * Test hook: $MXWALL_FAKE_NOW (read with secure_getenv) replaces the clock:
 * unix seconds, or the path of a file holding them, read again on every
 * turn of the loop, so that tests move time forward without sleeping.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "cmd/commands.h"
#include "core/config.h"
#include "core/db.h"
#include "mta/follow.h"
#include "core/listfile.h"
#include "core/mxwall.h"
#include "core/privsep.h"
#include "report/report.h"
#include "mta/scan.h"

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
#define HOUR_SECS 3600
#define RECONCILE_SECS 60 /* dump the filter: idle, gone, others' ttl */
#define PRUNE_SECS 3600	  /* housekeeping of the events table */
/* events are kept for report (a week) and stats persistence (28 days) */
#define EVENTS_KEEP_SECS (90 * 24 * 3600)

struct src_event {
	int64_t time;
	uint64_t tags; /* bit per interned tag */
};

struct source {
	struct cidr ip;
	struct src_event *ev; /* in time order */
	size_t n, cap;
	bool blocked;	     /* an active entry holds it (or dry-run did) */
	bool refused_logged; /* wire check said no, and we said so */
	int64_t cap_refused; /* when the promotion cap last refused it */
	struct source *next; /* hash chain */
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

struct watch {
	struct mx_config cfg;
	const char *conf_path;
	bool conf_given;
	bool dry_run;
	char **cli_logs;
	size_t ncli_logs;

	struct mx_db *db;
	struct backend be;
	bool have_be;
	int lock_fd;
	int pid_fd;
	char pid_path[4096];

	struct follower *fw;
	struct scanner **scanners;
	size_t nscanners;

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
	uint64_t counting;    /* tags whose events count (threshold > 0) */
	size_t counted_ntags; /* tags known when counting was computed */
	struct cidr loop[2];  /* 127.0.0.0/8, ::1 */

	struct active *act;
	size_t nact;
	struct pending *pend; /* promotions not yet in the filter */
	size_t npend;

	struct cidr *own; /* the machine's addresses */
	size_t nown;

	int64_t *promo_times; /* promotions in the last hour */
	size_t npromo;
	int64_t cap_logged;

	int64_t now;
	const char *fake_now;
	bool dirty;
	struct timespec first_dirty;
	int64_t last_tick, last_reconcile, last_prune;
	uint64_t lines, events;
};

/* ---- clock ---- */

static int64_t ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 +
	       (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void clock_update(struct watch *w)
{
	char buf[64] = "";
	uint64_t v;
	FILE *f;

	if (!w->fake_now) {
		w->now = (int64_t)time(NULL);
		return;
	}
	if (w->fake_now[0] == '/') {
		f = fopen(w->fake_now, "re");
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = '\0';
			fclose(f);
		}
		buf[strcspn(buf, "\n ")] = '\0';
	} else {
		snprintf(buf, sizeof(buf), "%s", w->fake_now);
	}
	if (!parse_u64(buf, 1, INT64_MAX, &v))
		w->now = (int64_t)v;
}

static void fmt_dur(uint64_t s, char *buf, size_t len)
{
	if (s == 0)
		snprintf(buf, len, "0 (until the weekly reset)");
	else if (s % (7 * 86400) == 0)
		snprintf(buf, len, "%lluw",
			 (unsigned long long)(s / (7 * 86400)));
	else if (s % 86400 == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(s / 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)s);
}

/* str_copy - snprintf(dst, len, "%s", src) without printf, per line */
static void str_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- tags ---- */

static int tag_bit(struct watch *w, const char *tag, size_t len)
{
	size_t i;

	for (i = 0; i < w->ntags; i++)
		if (strlen(w->tag_names[i]) == len &&
		    !memcmp(w->tag_names[i], tag, len))
			return (int)i;
	if (w->ntags == TAGS_MAX)
		return TAGS_MAX - 1; /* XXX: the 64th and later share */
	w->tag_names[w->ntags] = xmalloc(len + 1);
	memcpy(w->tag_names[w->ntags], tag, len);
	w->tag_names[w->ntags][len] = '\0';
	return (int)w->ntags++;
}

static uint64_t tags_mask(struct watch *w, const char *tags)
{
	uint64_t m = 0;
	const char *p = tags, *c;

	while (*p) {
		c = strchr(p, ',');
		if (!c)
			c = p + strlen(p);
		if (c > p)
			m |= 1ULL << tag_bit(w, p, (size_t)(c - p));
		p = *c ? c + 1 : c;
	}
	return m;
}

/* counting_update - which tags count, from the rules (threshold 0: not) */
static void counting_update(struct watch *w)
{
	const struct mx_tag_rule *r;
	size_t i;

	w->counting = 0;
	for (i = 0; i < w->ntags; i++) {
		r = config_rule(&w->cfg, w->tag_names[i]);
		if (!r || r->threshold > 0)
			w->counting |= 1ULL << i;
	}
	w->counted_ntags = w->ntags;
}

static void mask_names(struct watch *w, uint64_t m, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < w->ntags; i++)
		if (m & (1ULL << i))
			mx_tags_add(buf, len, w->tag_names[i]);
}

/* ---- sources ---- */

static uint32_t src_hash(const struct cidr *c)
{
	uint32_t h = 2166136261U;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ c->addr[i]) * 16777619U;
	return (h ^ c->family) & (SRC_BUCKETS - 1);
}

static bool src_eq(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family && a->plen == b->plen &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static void lru_unlink(struct watch *w, struct source *s)
{
	if (s->older)
		s->older->newer = s->newer;
	else
		w->lru_old = s->newer;
	if (s->newer)
		s->newer->older = s->older;
	else
		w->lru_new = s->older;
	s->older = s->newer = NULL;
	w->nlru--;
}

static void lru_append(struct watch *w, struct source *s)
{
	s->older = w->lru_new;
	s->newer = NULL;
	if (w->lru_new)
		w->lru_new->newer = s;
	else
		w->lru_old = s;
	w->lru_new = s;
	w->nlru++;
}

/* lru_touch - s had an event: the most recently used */
static void lru_touch(struct watch *w, struct source *s)
{
	if (s->blocked || w->lru_new == s)
		return;
	lru_unlink(w, s);
	lru_append(w, s);
}

/* src_set_blocked - blocked sources leave the LRU list (never forgotten) */
static void src_set_blocked(struct watch *w, struct source *s, bool blocked)
{
	if (s->blocked == blocked)
		return;
	s->blocked = blocked;
	if (blocked)
		lru_unlink(w, s); /* and its window stops growing */
	else
		lru_append(w, s);
}

/* src_drop - unhash, unlist and free s */
static void src_drop(struct watch *w, struct source *s)
{
	struct source **pp = &w->bucket[src_hash(&s->ip)];

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	if (!s->blocked)
		lru_unlink(w, s);
	w->ev_total -= s->cap;
	w->nsources--;
	free(s->ev);
	free(s);
}

/* src_forget_oldest - the flood's price: forget the least recent source */
static void src_forget_oldest(struct watch *w, const struct source *keep)
{
	struct source *s = w->lru_old;

	if (!s || s == keep)
		return;
	src_drop(w, s);
	w->src_forgotten++;
	w->src_forgotten_all++;
	if (w->now - w->forgot_logged >= 60) {
		log_warn(
		    "flood: tracking at most %u sources and %u events: forgot "
		    "%llu sources whose last rejection is the oldest",
		    SRC_TRACK_MAX, SRC_EV_BUDGET,
		    (unsigned long long)w->src_forgotten);
		w->src_forgotten = 0;
		w->forgot_logged = w->now;
	}
}

static struct source *src_get(struct watch *w, const struct cidr *ip,
			      bool create)
{
	uint32_t h = src_hash(ip);
	struct source *s;

	for (s = w->bucket[h]; s; s = s->next)
		if (src_eq(&s->ip, ip))
			return s;
	if (!create)
		return NULL;
	if (w->nlru >= SRC_TRACK_MAX)
		src_forget_oldest(w, NULL);
	s = xcalloc(1, sizeof(*s));
	s->ip = *ip;
	s->next = w->bucket[h];
	w->bucket[h] = s;
	w->nsources++;
	lru_append(w, s);
	return s;
}

static void src_free_all(struct watch *w)
{
	struct source *s, *n;
	size_t i;

	for (i = 0; i < SRC_BUCKETS; i++) {
		for (s = w->bucket[i]; s; s = n) {
			n = s->next;
			free(s->ev);
			free(s);
		}
		w->bucket[i] = NULL;
	}
	w->nsources = 0;
	w->nlru = 0;
	w->ev_total = 0;
	w->lru_old = w->lru_new = NULL;
}

/* src_gc - drop sources with nothing in any window and no entry */
static void src_gc(struct watch *w)
{
	int64_t horizon = w->now - (int64_t)config_max_window(&w->cfg);
	struct source **pp, *s;
	size_t i;

	for (i = 0; i < SRC_BUCKETS; i++) {
		for (pp = &w->bucket[i]; (s = *pp);) {
			if (!s->blocked &&
			    (!s->n || s->ev[s->n - 1].time < horizon)) {
				*pp = s->next;
				lru_unlink(w, s);
				w->ev_total -= s->cap;
				free(s->ev);
				free(s);
				w->nsources--;
			} else {
				pp = &s->next;
			}
		}
	}
}

/*
 * src_room - make room for one more event in s's window: drop events
 * older than horizon (they count in no window), grow within the budget
 * (forgetting the least recent sources), else drop s's oldest event.
 */
static void src_room(struct watch *w, struct source *s, int64_t horizon)
{
	size_t k = 0, cap;

	if (s->n < s->cap)
		return;
	while (k < s->n && s->ev[k].time < horizon)
		k++;
	if (k) {
		memmove(s->ev, s->ev + k, (s->n - k) * sizeof(*s->ev));
		s->n -= k;
		return;
	}
	cap = s->cap ? s->cap * 2 : 8;
	while (cap <= SRC_EVENTS_MAX &&
	       w->ev_total + cap - s->cap > SRC_EV_BUDGET && w->lru_old &&
	       w->lru_old != s)
		src_forget_oldest(w, s);
	if (cap <= SRC_EVENTS_MAX &&
	    w->ev_total + cap - s->cap <= SRC_EV_BUDGET) {
		s->ev = xreallocarray(s->ev, cap, sizeof(*s->ev));
		w->ev_total += cap - s->cap;
		s->cap = cap;
		return;
	}
	memmove(s->ev, s->ev + 1, (s->n - 1) * sizeof(*s->ev));
	s->n--;
}

/* ---- protection ---- */

static void own_addrs_load(struct watch *w)
{
	struct ifaddrs *ifa, *i;

	free(w->own);
	w->own = NULL;
	w->nown = 0;
	if (getifaddrs(&ifa)) {
		log_warn("cannot list this machine's addresses: %s",
			 strerror(errno));
		return;
	}
	for (i = ifa; i; i = i->ifa_next) {
		struct cidr c;

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			cidr_from_addr(
			    &c, AF_INET,
			    &((struct sockaddr_in *)i->ifa_addr)->sin_addr);
		else if (i->ifa_addr->sa_family == AF_INET6)
			cidr_from_addr(
			    &c, AF_INET6,
			    &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr);
		else
			continue;
		w->own = xreallocarray(w->own, w->nown + 1, sizeof(*w->own));
		w->own[w->nown++] = c;
	}
	freeifaddrs(ifa);
}

/*
 * protected - never blocked: loopback, our own addresses, the allowlist.
 * For a netblock: if it covers any of them. Fails closed: when in doubt
 * the source is not blocked.
 */
static const char *protected(struct watch *w, const struct cidr *net)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(w->loop); i++)
		if (cidr_contains(&w->loop[i], net) ||
		    cidr_contains(net, &w->loop[i]))
			return "loopback";
	for (i = 0; i < w->nown; i++)
		if (cidr_contains(net, &w->own[i]))
			return "an address of this machine";
	for (i = 0; i < w->cfg.nallow; i++)
		if (cidr_contains(&w->cfg.allow[i], net) ||
		    cidr_contains(net, &w->cfg.allow[i]))
			return "in the allowlist";
	return NULL;
}

/* a promotion decided, on its way into the filter */
struct pending {
	struct mx_entry e;
	uint64_t hits, level, ttl;
	char kind[16]; /* promote, escalate */
	char msg[160];
	char dur[64];
};

/* ---- the filter ---- */

static int lock_take(struct watch *w)
{
	char path[4096];
	int err;

	if (w->lock_fd < 0) {
		err = mkdir_p(mx_opt.state_dir, 0700);
		if (err)
			return err;
		err = path_join(path, sizeof(path), mx_opt.state_dir, "lock");
		if (err)
			return err;
		w->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (w->lock_fd < 0)
			return -errno;
	}
	while (flock(w->lock_fd, LOCK_EX))
		if (errno != EINTR)
			return -errno;
	return 0;
}

static void lock_drop(struct watch *w)
{
	if (w->lock_fd >= 0)
		flock(w->lock_fd, LOCK_UN);
}

/* be_apply - one change under the lock that other commands take too */
static int be_apply(struct watch *w, const struct mx_entry *add, size_t nadd,
		    const struct cidr *del, size_t ndel)
{
	int err;

	if (!w->have_be || w->dry_run)
		return 0;
	err = lock_take(w);
	if (err)
		return err;
	err = w->be.ops->apply(&w->be, add, nadd, del, ndel);
	lock_drop(w);
	return err;
}

/* ---- database batching ---- */

static void mark_dirty(struct watch *w)
{
	if (!w->dirty)
		clock_gettime(CLOCK_MONOTONIC, &w->first_dirty);
	w->dirty = true;
}

struct file_ctx {
	struct scanner *sc;
	int64_t ref_time;
	bool pos_dirty;
};

static struct follow_file **files;
static size_t nfiles;

/* save_positions - into the open transaction, with the events they cover */
static int save_positions(struct watch *w)
{
	struct db_pos pos;
	size_t i;

	for (i = 0; i < nfiles; i++) {
		struct file_ctx *fc = follow_data(files[i]);

		if (!fc->pos_dirty || follow_is_stdin(files[i]))
			continue;
		follow_pos(files[i], &pos);
		if (db_pos_set(w->db, follow_path(files[i]), &pos))
			return -EIO;
		fc->pos_dirty = false;
	}
	return 0;
}

/* commit - positions of every file that moved, then COMMIT */
static int commit(struct watch *w)
{
	int err;

	if (!w->dirty && !db_in_txn(w->db))
		return 0;
	err = db_begin(w->db);
	if (err)
		goto fail;
	err = save_positions(w);
	if (err)
		goto fail;
	err = db_commit(w->db);
	if (err)
		goto fail;
	w->dirty = false;
	return 0;
fail:
	log_err("database: %s", db_errmsg(w->db));
	return err;
}

/* ---- promotion ---- */

/*
 * cap_prune - forget promotions older than an hour. They are appended in
 * time order, so nothing is to do while the first one is recent (with a
 * clock set back, an old one behind a recent one is kept a little longer:
 * the cap only errs on the strict side).
 */
static void cap_prune(struct watch *w)
{
	size_t i, k = 0;

	if (!w->npromo || w->promo_times[0] > w->now - HOUR_SECS)
		return;
	for (i = 0; i < w->npromo; i++)
		if (w->promo_times[i] > w->now - HOUR_SECS)
			w->promo_times[k++] = w->promo_times[i];
	w->npromo = k;
}

static void active_add(struct watch *w, int64_t id, const struct mx_entry *e)
{
	struct active *a;

	w->act = xreallocarray(w->act, w->nact + 1, sizeof(*w->act));
	a = &w->act[w->nact++];
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->net = e->net;
	snprintf(a->tags, sizeof(a->tags), "%s", e->tags);
	a->added = e->added;
	a->expires = e->expires;
}

static struct active *active_find(struct watch *w, const struct cidr *net)
{
	size_t i;

	for (i = 0; i < w->nact; i++)
		if (!cidr_cmp(&w->act[i].net, net))
			return &w->act[i];
	return NULL;
}

static void action_log(struct watch *w, const struct cidr *net,
		       const char *action, const char *reason, int64_t expires)
{
	struct db_action a = {.time = w->now, .expires = expires};

	cidr_format(net, a.cidr, sizeof(a.cidr));
	snprintf(a.action, sizeof(a.action), "%s", action);
	snprintf(a.reason, sizeof(a.reason), "%s", reason);
	if (db_action_add(w->db, &a))
		log_warn("database: %s", db_errmsg(w->db));
	mark_dirty(w);
}

/*
 * ttl_for - the ttl of a new entry for net: the configured one, or for a
 * repeat offender (promoted again within recidive_window of its last
 * removal) its previous time in the filter times recidive_factor, at most
 * max_ttl. *level counts the repeats.
 */
static uint64_t ttl_for(struct watch *w, const char *cidr, uint64_t *level)
{
	struct db_entry prev;
	uint64_t ttl = w->cfg.ttl, len;

	*level = 0;
	if (!w->cfg.recidive_window || db_entry_last(w->db, cidr, &prev) ||
	    !prev.removed ||
	    w->now - prev.removed > (int64_t)w->cfg.recidive_window ||
	    !strcmp(prev.removal, "unblocked"))
		return ttl;
	len = (uint64_t)((prev.expires ? prev.expires : prev.removed) -
			 prev.added);
	if (len < ttl)
		len = ttl;
	if (!len)
		len = 1;
	ttl = len * w->cfg.recidive_factor;
	if (ttl > w->cfg.max_ttl || ttl / w->cfg.recidive_factor != len)
		ttl = w->cfg.max_ttl;
	*level = prev.level + 1;
	return ttl;
}

/*
 * block - put net into the filter for its ttl with tags "a,<reasons>".
 * Returns 0 when blocked (or when dry-run says it would), -EAGAIN when the
 * cap stopped it, -errno when the filter refused.
 */
static int block(struct watch *w, const struct cidr *net, const char *reasons,
		 const char *why, uint64_t hits, const char *kind)
{
	struct mx_entry e = {0};
	struct pending *pd;
	char text[CIDR_STRLEN], dur[64], msg[160];
	uint64_t ttl, level;
	const char *p;

	cidr_format(net, text, sizeof(text));
	cap_prune(w);
	if (w->npromo >= w->cfg.max_promotions_per_hour) {
		if (w->now - w->cap_logged >= 60) {
			log_warn(
			    "not blocking %s: the cap of %llu promotions per "
			    "hour is reached (max_promotions_per_hour)",
			    text,
			    (unsigned long long)w->cfg.max_promotions_per_hour);
			w->cap_logged = w->now;
		}
		action_log(w, net, "refused", "max_promotions_per_hour", 0);
		return -EAGAIN;
	}
	ttl = ttl_for(w, text, &level);
	e.net = *net;
	e.action = MX_ACT_DROP;
	e.origin = MX_ORIGIN_DYNAMIC;
	e.observe = false;
	snprintf(e.tags, sizeof(e.tags), "a");
	for (p = reasons; *p;) {
		char tag[MX_TAGS_LEN];
		size_t n = strcspn(p, ",");

		if (n && n < sizeof(tag)) {
			memcpy(tag, p, n);
			tag[n] = '\0';
			if (mx_tags_add(e.tags, sizeof(e.tags), tag))
				break; /* full: the first reasons stay */
		}
		p += n;
		if (*p == ',')
			p++;
	}
	e.added = w->now;
	e.expires = ttl ? w->now + (int64_t)ttl : 0;
	if (ttl)
		fmt_dur(ttl, dur, sizeof(dur));
	else
		snprintf(dur, sizeof(dur), "until the weekly reset");
	snprintf(msg, sizeof(msg), "%s%s%s", why,
		 level ? ", repeat offender" : "", "");
	if (w->dry_run) {
		log_info("dry-run: would block %s (%s) %s%s: %s", text, e.tags,
			 ttl ? "for " : "", dur, msg);
		active_add(w, 0, &e);
		w->promo_times = xreallocarray(w->promo_times, w->npromo + 1,
					       sizeof(*w->promo_times));
		w->promo_times[w->npromo++] = w->now;
		return 0;
	}
	/* into the filter with the others of this pass: flush_pending() */
	w->pend = xreallocarray(w->pend, w->npend + 1, sizeof(*w->pend));
	pd = &w->pend[w->npend++];
	memset(pd, 0, sizeof(*pd));
	pd->e = e;
	pd->hits = hits;
	pd->level = level;
	pd->ttl = ttl;
	snprintf(pd->kind, sizeof(pd->kind), "%s", kind);
	snprintf(pd->msg, sizeof(pd->msg), "%s", msg);
	snprintf(pd->dur, sizeof(pd->dur), "%s", dur);
	active_add(w, 0, &e);
	w->promo_times = xreallocarray(w->promo_times, w->npromo + 1,
				       sizeof(*w->promo_times));
	w->promo_times[w->npromo++] = w->now;
	return 0;
}

/*
 * flush_pending - the promotions decided since the last flush go into the
 * filter in one apply() (all or nothing), then into the database with the
 * events behind them, committed at once.
 */
static void flush_pending(struct watch *w)
{
	struct timespec t0;
	struct mx_entry *add;
	struct active *a;
	struct source *s;
	char text[CIDR_STRLEN];
	size_t i;
	int err;

	if (!w->npend)
		return;
	add = xcalloc(w->npend, sizeof(*add));
	for (i = 0; i < w->npend; i++)
		add[i] = w->pend[i].e;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = be_apply(w, add, w->npend, NULL, 0);
	free(add);
	log_debug("apply of %zu promotions: %lld ms", w->npend,
		  (long long)ms_since(&t0));
	if (err) {
		for (i = 0; i < w->npend; i++) {
			cidr_format(&w->pend[i].e.net, text, sizeof(text));
			log_err("cannot block %s: %s", text,
				backend_strerror(err));
			a = active_find(w, &w->pend[i].e.net);
			if (a)
				*a = w->act[--w->nact];
			s = src_get(w, &w->pend[i].e.net, false);
			if (s)
				src_set_blocked(w, s, false);
		}
		w->npend = 0;
		return;
	}
	db_begin(w->db);
	for (i = 0; i < w->npend; i++) {
		const struct pending *pd = &w->pend[i];
		struct db_entry de = {0};

		cidr_format(&pd->e.net, text, sizeof(text));
		snprintf(de.cidr, sizeof(de.cidr), "%s", text);
		snprintf(de.tags, sizeof(de.tags), "%s", pd->e.tags);
		de.added = pd->e.added;
		de.expires = pd->e.expires;
		de.hits = pd->hits;
		de.level = pd->level;
		if (db_entry_add(w->db, &de))
			log_warn("database: %s", db_errmsg(w->db));
		a = active_find(w, &pd->e.net);
		if (a)
			a->id = de.id;
		action_log(w, &pd->e.net, pd->kind, pd->msg, pd->e.expires);
		log_info("blocked %s (%s) %s%s: %s", text, pd->e.tags,
			 pd->ttl ? "for " : "", pd->dur, pd->msg);
	}
	w->npend = 0;
	/* a promotion is committed at once, with the events behind it */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	commit(w);
	log_debug("commit: %lld ms", (long long)ms_since(&t0));
}

/* escalate - enough promoted hosts in host's /24 (/48): block the block */
static void escalate(struct watch *w, const struct cidr *host)
{
	struct cidr net;
	char reasons[MX_TAGS_LEN] = "", why[128], text[CIDR_STRLEN];
	const char *prot;
	uint64_t n = 0;
	size_t i;

	if (!w->cfg.escalate)
		return;
	cidr_supernet(host, host->family == AF_INET ? 24 : 48, &net);
	if (active_find(w, &net))
		return;
	for (i = 0; i < w->nact; i++) {
		const struct active *a = &w->act[i];

		if (!cidr_is_host(&a->net) || !cidr_contains(&net, &a->net))
			continue;
		n++;
		/* the hosts' reasons, without their "a" */
		if (a->tags[0] == 'a' && a->tags[1] == ',') {
			const char *p = a->tags + 2;

			while (*p) {
				char tag[MX_TAGS_LEN];
				size_t k = strcspn(p, ",");

				if (k < sizeof(tag)) {
					memcpy(tag, p, k);
					tag[k] = '\0';
					mx_tags_add(reasons,
						    sizeof(reasons) - 2, tag);
				}
				p += k;
				if (*p)
					p++;
			}
		}
	}
	if (n < w->cfg.escalate)
		return;
	cidr_format(&net, text, sizeof(text));
	prot = protected(w, &net);
	if (prot) {
		log_info("not escalating to %s: %s", text, prot);
		return;
	}
	snprintf(why, sizeof(why), "%llu promoted hosts in %s (escalate)",
		 (unsigned long long)n, text);
	block(w, &net, reasons, why, n, "escalate");
}

/* rule_hits - events of s within window carrying a tag of mask */
static uint64_t rule_hits(const struct source *s, int64_t since, uint64_t mask,
			  uint64_t *tags)
{
	uint64_t n = 0;
	size_t i;

	for (i = s->n; i-- > 0;) {
		if (s->ev[i].time < since)
			break;
		if (s->ev[i].tags & mask) {
			n++;
			*tags |= s->ev[i].tags;
		}
	}
	return n;
}

/* consider - is s over a threshold now? then block it */
static void consider(struct watch *w, struct source *s)
{
	const struct mx_tag_rule *r;
	uint64_t hits, tags = 0, win = 0, thr = 0;
	char reasons[MX_TAGS_LEN], why[200], text[CIDR_STRLEN], dur[32];
	int64_t when;
	size_t i;
	int err;

	if (s->blocked || !s->n)
		return;
	/*
	 * The cap refused s within the hour and is still full: the answer
	 * is known (and logged once), without counting again. A flood
	 * sends most of its lines here.
	 */
	if (s->cap_refused && w->now - s->cap_refused < HOUR_SECS &&
	    w->now >= s->cap_refused) {
		cap_prune(w);
		if (w->npromo >= w->cfg.max_promotions_per_hour)
			return;
	}
	hits =
	    rule_hits(s, w->now - (int64_t)w->cfg.window, w->counting, &tags);
	win = w->cfg.window;
	thr = w->cfg.threshold;
	if (hits < w->cfg.threshold) {
		hits = 0;
		for (i = 0; i < w->cfg.nrules; i++) {
			int bit;

			r = &w->cfg.rules[i];
			if (!r->threshold)
				continue;
			bit = tag_bit(w, r->tag, strlen(r->tag));
			tags = 0;
			hits = rule_hits(s, w->now - (int64_t)r->window,
					 1ULL << bit, &tags);
			if (hits >= r->threshold) {
				win = r->window;
				thr = r->threshold;
				break;
			}
			hits = 0;
		}
		if (!hits)
			return;
	}
	cidr_format(&s->ip, text, sizeof(text));
	if (w->cfg.require_seen && w->have_be) {
		err = w->be.ops->seen(&w->be, &s->ip, &when);
		if (err) {
			if (!s->refused_logged)
				log_info("not blocking %s: %llu rejections, "
					 "but no SMTP SYN from it was seen on "
					 "the wire (require_seen)",
					 text, (unsigned long long)hits);
			s->refused_logged = true;
			return;
		}
	} else if (w->cfg.require_seen && !w->dry_run) {
		return; /* no filter to ask: fail closed */
	}
	mask_names(w, tags, reasons, sizeof(reasons) - 2);
	fmt_dur(win, dur, sizeof(dur));
	snprintf(why, sizeof(why), "%llu rejections in %s (threshold %llu): %s",
		 (unsigned long long)hits, dur, (unsigned long long)thr,
		 reasons);
	err = block(w, &s->ip, reasons, why, hits, "promote");
	if (err == 0) {
		src_set_blocked(w, s, true);
		escalate(w, &s->ip);
	} else if (err == -EAGAIN) {
		s->cap_refused = w->now;
	}
}

/*
 * event - one rejection: record it, count it, maybe promote. replay:
 * from the database at start, not recorded again.
 */
static void event(struct watch *w, int64_t t, const struct cidr *ip,
		  const char *mta, const char *tags, bool replay)
{
	struct source *s;
	uint64_t m;
	int64_t horizon = w->now - (int64_t)config_max_window(&w->cfg);

	w->events++;
	if (!replay) {
		struct db_event ev = {.time = t};

		cidr_format(ip, ev.ip, sizeof(ev.ip));
		str_copy(ev.mta, sizeof(ev.mta), mta);
		str_copy(ev.tags, sizeof(ev.tags), tags);
		if (db_begin(w->db) || db_event_add(w->db, &ev))
			log_warn("database: %s", db_errmsg(w->db));
		mark_dirty(w);
	}
	if (t > w->now)
		t = w->now; /* a clock ahead of ours counts as now */
	if (t < horizon)
		return; /* older than any window: counts for nothing */
	if (protected(w, ip))
		return;
	m = tags_mask(w, tags);
	if (w->ntags != w->counted_ntags)
		counting_update(w); /* a new tag: does it count? */
	s = src_get(w, ip, true);
	if (s->blocked)
		return; /* its window starts again when it leaves */
	lru_touch(w, s);
	src_room(w, s, horizon);
	/* keep time order even when logs interleave */
	{
		size_t i = s->n;

		while (i > 0 && s->ev[i - 1].time > t) {
			s->ev[i] = s->ev[i - 1];
			i--;
		}
		s->ev[i].time = t;
		s->ev[i].tags = m;
		s->n++;
	}
	consider(w, s);
}

/* ---- expiry and reconciliation ---- */

static void active_remove(struct watch *w, size_t i, const char *why,
			  const char *words)
{
	struct active a = w->act[i];
	char text[CIDR_STRLEN];
	struct source *s;
	int err;

	cidr_format(&a.net, text, sizeof(text));
	err = a.id ? db_entry_remove(w->db, a.id, w->now, why) : 0;
	if (err == -ENOENT) {
		/* the weekly reset (or another command) said so already */
		words = "removed from the filter by another mxwall command";
	} else {
		if (err)
			log_warn("database: %s", db_errmsg(w->db));
		action_log(w, &a.net, why, words, 0);
	}
	w->act[i] = w->act[--w->nact];
	s = src_get(w, &a.net, false);
	if (s) {
		/* it served its time: counting starts again */
		src_set_blocked(w, s, false);
		s->n = 0;
	}
	log_info("unblocked %s (%s): %s", text, a.tags, words);
}

/* expire - entries whose ttl ran out leave the filter */
static void expire(struct watch *w)
{
	struct cidr *del = NULL;
	size_t i, n = 0;
	int err;

	for (i = 0; i < w->nact; i++)
		if (w->act[i].expires && w->act[i].expires <= w->now) {
			del = xreallocarray(del, n + 1, sizeof(*del));
			del[n++] = w->act[i].net;
		}
	if (!n)
		return;
	err = be_apply(w, NULL, 0, del, n);
	if (err == -ENOENT) {
		/* one of them is gone already (all or nothing): one by one */
		for (i = 0; i < n; i++) {
			err = be_apply(w, NULL, 0, &del[i], 1);
			if (err && err != -ENOENT)
				break;
			err = 0;
		}
	}
	if (err) {
		log_err("cannot remove expired entries: %s",
			backend_strerror(err));
		free(del);
		return;
	}
	db_begin(w->db);
	for (i = 0; i < w->nact;) {
		if (w->act[i].expires && w->act[i].expires <= w->now)
			active_remove(w, i, "expire", "ttl expired");
		else
			i++;
	}
	free(del);
	commit(w);
}

static int find_dump(const struct mx_entry *rows, size_t n,
		     const struct cidr *net)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!cidr_cmp(&rows[i].net, net))
			return (int)i;
	return -1;
}

/*
 * reconcile - compare with the filter: entries someone removed (weekly
 * reset, unblock) are forgotten; entries idle for idle_expire leave early;
 * other dynamic entries whose ttl ran out (mxwall block --ttl) leave too.
 */
/*
 * note_day - record the day's first snapshot of the global counters, from
 * which the weekly report prints its per-day drops.
 */
static void note_day(struct watch *w)
{
	struct mx_status st;
	int err;

	if (w->dry_run || !w->have_be)
		return;
	memset(&st, 0, sizeof(st));
	err = w->be.ops->status(&w->be, &st);
	if (!err)
		err = report_note_day(mx_opt.state_dir, &st.counters, w->now);
	if (err)
		log_warn("cannot record today's counters: %s",
			 backend_strerror(err));
}

static void reconcile(struct watch *w)
{
	struct mx_entry *rows = NULL;
	struct cidr *del = NULL;
	size_t n = 0, ndel = 0, i;
	int err, k;

	if (!w->have_be)
		return;
	err = w->be.ops->dump(&w->be, &rows, &n);
	if (err) {
		log_warn("cannot read the filter: %s", backend_strerror(err));
		return;
	}
	db_begin(w->db);
	for (i = 0; i < w->nact;) {
		struct active *a = &w->act[i];
		int64_t last;

		k = find_dump(rows, n, &a->net);
		if (k < 0) {
			if (!w->dry_run) {
				active_remove(
				    w, i, "gone",
				    "removed from the filter by someone else "
				    "(weekly reset or unblock)");
				continue;
			}
			i++;
			continue;
		}
		/*
		 * The last hit: the backend's own time where it keeps one, else
		 * (nft keeps none) when the counter last grew, seen from here.
		 */
		if (rows[k].packets != a->packets) {
			a->packets = rows[k].packets;
			a->moved = w->now;
		}
		last = a->added;
		if (rows[k].last_hit > last)
			last = rows[k].last_hit;
		if (a->moved > last)
			last = a->moved;
		if (w->cfg.idle_expire && !w->dry_run &&
		    w->now - last >= (int64_t)w->cfg.idle_expire) {
			del = xreallocarray(del, ndel + 1, sizeof(*del));
			del[ndel++] = a->net;
		}
		i++;
	}
	/* dynamic entries of others (block --ttl) whose time is up */
	for (i = 0; i < n && !w->dry_run; i++) {
		if (rows[i].origin == MX_ORIGIN_DYNAMIC && rows[i].expires &&
		    rows[i].expires <= w->now &&
		    !active_find(w, &rows[i].net)) {
			del = xreallocarray(del, ndel + 1, sizeof(*del));
			del[ndel++] = rows[i].net;
		}
	}
	if (ndel) {
		err = be_apply(w, NULL, 0, del, ndel);
		if (err) {
			log_err("cannot remove idle entries: %s",
				backend_strerror(err));
		} else {
			char dur[32];

			fmt_dur(w->cfg.idle_expire, dur, sizeof(dur));
			for (i = 0; i < ndel; i++) {
				struct active *a = active_find(w, &del[i]);
				char text[CIDR_STRLEN], why[64];

				if (a) {
					snprintf(why, sizeof(why),
						 "no hits for %s (idle_expire)",
						 dur);
					active_remove(w, (size_t)(a - w->act),
						      "idle", why);
				} else {
					cidr_format(&del[i], text,
						    sizeof(text));
					log_info("unblocked %s: ttl expired",
						 text);
					action_log(w, &del[i], "expire",
						   "ttl expired", 0);
				}
			}
		}
	}
	commit(w);
	free(del);
	free(rows);
}

/* ---- the static core list ---- */

struct core_ctx {
	char **old;
	size_t nold;
};

static int core_collect(void *arg, const char *cidr)
{
	struct core_ctx *c = arg;

	c->old = xreallocarray(c->old, c->nold + 1, sizeof(*c->old));
	c->old[c->nold++] = xstrdup(cidr);
	return 0;
}

static void core_warn(const char *msg, void *arg)
{
	(void)arg;
	log_warn("%s", msg);
}

/*
 * core_load - make the filter's static entries from blocklist match the
 * file: add what is new, remove what left it since the last load. Entries
 * made static by hand (mxwall block --static) are not touched.
 */
static int core_load(struct watch *w)
{
	struct core_ctx old = {0};
	struct cidr *nets = NULL, *del = NULL;
	struct mx_entry *rows = NULL, *add = NULL;
	const char **texts = NULL;
	size_t n = 0, nrows = 0, nadd = 0, ndel = 0, i, j;
	char err[512], (*tx)[CIDR_STRLEN] = NULL;
	int rc;

	if (!w->cfg.blocklist)
		return 0;
	rc = listfile_read(w->cfg.blocklist, &nets, &n, core_warn, NULL, err,
			   sizeof(err));
	if (rc == -ENOENT) {
		log_info("no static core list at %s", w->cfg.blocklist);
		return 0;
	}
	if (rc) {
		log_err("%s (static core list not loaded)", err);
		return rc;
	}
	if (!w->have_be || w->dry_run) {
		log_info("static core list %s: %zu entries%s", w->cfg.blocklist,
			 n, w->dry_run ? " (dry-run: not loaded)" : "");
		free(nets);
		return 0;
	}
	rc = w->be.ops->dump(&w->be, &rows, &nrows);
	if (rc) {
		log_err("cannot read the filter: %s", backend_strerror(rc));
		free(nets);
		return rc;
	}
	db_core_list(w->db, core_collect, &old);
	tx = xcalloc(n ? n : 1, sizeof(*tx));
	texts = xcalloc(n ? n : 1, sizeof(*texts));
	add = xcalloc(n ? n : 1, sizeof(*add));
	for (i = 0; i < n; i++) {
		cidr_format(&nets[i], tx[i], sizeof(tx[i]));
		texts[i] = tx[i];
		if (find_dump(rows, nrows, &nets[i]) >= 0)
			continue;
		add[nadd].net = nets[i];
		add[nadd].action = MX_ACT_DROP;
		add[nadd].origin = MX_ORIGIN_STATIC;
		add[nadd].added = w->now;
		nadd++;
	}
	for (i = 0; i < old.nold; i++) {
		struct cidr c;
		char e[64];
		int k;

		for (j = 0; j < n; j++)
			if (!strcmp(old.old[i], tx[j]))
				break;
		if (j < n || cidr_parse(old.old[i], 0, &c, e, sizeof(e)) < 0)
			continue;
		k = find_dump(rows, nrows, &c);
		if (k < 0 || rows[k].origin != MX_ORIGIN_STATIC)
			continue;
		del = xreallocarray(del, ndel + 1, sizeof(*del));
		del[ndel++] = c;
	}
	rc = 0;
	if (nadd || ndel)
		rc = be_apply(w, add, nadd, del, ndel);
	if (rc) {
		log_err("static core list %s not loaded: %s", w->cfg.blocklist,
			backend_strerror(rc));
	} else {
		commit(w);
		db_core_replace(w->db, texts, n);
		log_info(
		    "static core list %s: %zu entries (%zu added, %zu removed)",
		    w->cfg.blocklist, n, nadd, ndel);
	}
	for (i = 0; i < old.nold; i++)
		free(old.old[i]);
	free(old.old);
	free(tx);
	free(texts);
	free(add);
	free(del);
	free(rows);
	free(nets);
	return rc;
}

/* ---- lines ---- */

static int on_line(void *arg, struct follow_file *ff, const char *line,
		   size_t len)
{
	struct watch *w = arg;
	struct file_ctx *fc = follow_data(ff);
	struct scan_event ev;
	int64_t ref;

	w->lines++;
	ref = follow_mtime(ff);
	if (ref <= 0 || ref > w->now)
		ref = w->now;
	if (ref != fc->ref_time) {
		scanner_set_ref_time(fc->sc, ref);
		fc->ref_time = ref;
	}
	fc->pos_dirty = true;
	mark_dirty(w);
	if (scanner_feed(fc->sc, line, len, &ev) == 1)
		event(w, ev.time, &ev.ip, ev.mta, ev.tags, false);
	if (w->npend >= 1024)
		flush_pending(w); /* a backlog: do not hold them back */
	return 0;
}

/* ---- setup ---- */

static void followers_close(struct watch *w)
{
	size_t i;

	for (i = 0; i < nfiles; i++) {
		struct file_ctx *fc = follow_data(files[i]);

		scanner_free(fc->sc);
		free(fc);
	}
	free(files);
	files = NULL;
	nfiles = 0;
	follower_free(w->fw);
	w->fw = NULL;
}

static void followers_open(struct watch *w)
{
	struct scan_opts so = {
	    .spamtraps = (const char *const *)w->cfg.spamtraps,
	    .nspamtraps = w->cfg.nspamtraps,
	};
	char **logs = w->ncli_logs ? w->cli_logs : w->cfg.logs;
	size_t nlogs = w->ncli_logs ? w->ncli_logs : w->cfg.nlogs, i;

	w->fw = follower_new();
	for (i = 0; i < nlogs; i++) {
		struct db_pos pos, *resume = NULL;
		struct follow_file *ff;
		struct file_ctx *fc;

		if (strcmp(logs[i], "-") && !db_pos_get(w->db, logs[i], &pos))
			resume = &pos;
		if (follower_add(w->fw, logs[i], resume, &ff)) {
			log_warn("%s: cannot follow", logs[i]);
			continue;
		}
		fc = xcalloc(1, sizeof(*fc));
		fc->sc = scanner_new(&so);
		follow_set_data(ff, fc);
		files = xreallocarray(files, nfiles + 1, sizeof(*files));
		files[nfiles++] = ff;
	}
}

/* replay - the events of the last window, from the database */
static int replay_one(void *arg, const struct db_event *ev)
{
	struct watch *w = arg;
	struct db_entry last;
	struct cidr ip;
	char e[64];

	if (cidr_parse(ev->ip, 0, &ip, e, sizeof(e)) < 0)
		return 0;
	/*
	 * the events up to the end of the source's last entry (ttl, idle,
	 * weekly reset) were used up by it: the running watcher forgot them
	 * then (active_remove), so a restart must not count them again
	 */
	if (!db_entry_last(w->db, ev->ip, &last) && last.removed &&
	    ev->time <= last.removed)
		return 0;
	event(w, ev->time, &ip, ev->mta, ev->tags, true);
	return 0;
}

static int load_active(void *arg, const struct db_entry *de)
{
	struct watch *w = arg;
	struct mx_entry e = {0};
	struct source *s;
	char err[64];

	if (cidr_parse(de->cidr, 0, &e.net, err, sizeof(err)) < 0)
		return 0;
	snprintf(e.tags, sizeof(e.tags), "%s", de->tags);
	e.added = de->added;
	e.expires = de->expires;
	active_add(w, de->id, &e);
	if (cidr_is_host(&e.net)) {
		s = src_get(w, &e.net, true);
		src_set_blocked(w, s, true);
	}
	return 0;
}

static int load_promo(void *arg, const struct db_action *a)
{
	struct watch *w = arg;

	w->promo_times = xreallocarray(w->promo_times, w->npromo + 1,
				       sizeof(*w->promo_times));
	w->promo_times[w->npromo++] = a->time;
	return 0;
}

static int config_read(struct watch *w, struct mx_config *c)
{
	char err[512];
	int rc;

	rc = config_load(w->conf_path, c, err, sizeof(err));
	if (rc == -ENOENT && !w->conf_given) {
		log_info("%s not found: using the defaults", w->conf_path);
		return 0;
	}
	if (rc)
		log_err("%s", err);
	return rc;
}

/* setup_filter - open (make) the filter, attach where configured */
static int setup_filter(struct watch *w)
{
	struct mx_status st;
	size_t i, k;
	int err;

	if (!mx_opt.backend_given && w->cfg.backend != MX_BACKEND_AUTO) {
		mx_opt.backend = w->cfg.backend;
		mx_opt.backend_given = true;
	}
	err = backend_open(&w->be, w->dry_run ? 0 : BE_CREATE);
	if (err) {
		if (w->dry_run) {
			log_warn("dry-run: no filter (%s); the wire check is "
				 "skipped",
				 backend_strerror(err));
			return 0;
		}
		log_err("cannot open the filter: %s", backend_strerror(err));
		return err;
	}
	w->have_be = true;
	if (w->dry_run ||
	    (!w->cfg.nifaces && !w->cfg.ports_set && !w->cfg.observe))
		return 0;
	memset(&st, 0, sizeof(st));
	err = w->be.ops->status(&w->be, &st);
	if (err) {
		log_err("cannot read the filter's status: %s",
			backend_strerror(err));
		return err;
	}
	err = lock_take(w);
	if (err)
		return err;
	if (w->cfg.ports_set || w->cfg.observe != st.cfg.observe) {
		struct mx_dp_config dc = st.cfg;

		if (w->cfg.ports_set) {
			memcpy(dc.ports, w->cfg.ports, sizeof(dc.ports));
			dc.nports = w->cfg.nports;
		}
		dc.observe = w->cfg.observe;
		err = w->be.ops->set_config(&w->be, &dc);
		if (err) {
			log_err("cannot set ports and observe mode: %s",
				backend_strerror(err));
			goto out;
		}
	}
	for (i = 0; i < w->cfg.nifaces; i++) {
		for (k = 0; k < st.nifaces; k++)
			if (!strcmp(st.ifaces[k].name, w->cfg.ifaces[i]))
				break;
		if (k < st.nifaces)
			continue;
		err = w->be.ops->attach(&w->be, w->cfg.ifaces[i], w->cfg.mode);
		if (err) {
			log_err("cannot attach to %s: %s", w->cfg.ifaces[i],
				backend_strerror(err));
			goto out;
		}
		log_info("attached to %s", w->cfg.ifaces[i]);
	}
	backend_record(&w->be);
out:
	lock_drop(w);
	return err;
}

static int pidfile_open(struct watch *w)
{
	char buf[32];
	int err, n;

	err = mkdir_p(mx_opt.state_dir, 0700);
	if (err) {
		log_err("%s: %s", mx_opt.state_dir, strerror(-err));
		return err;
	}
	path_join(w->pid_path, sizeof(w->pid_path), mx_opt.state_dir,
		  "watch.pid");
	w->pid_fd = open(w->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (w->pid_fd < 0) {
		log_err("%s: %s", w->pid_path, strerror(errno));
		return -errno;
	}
	if (flock(w->pid_fd, LOCK_EX | LOCK_NB)) {
		n = (int)read(w->pid_fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_err("another mxwall watch is running (pid %s, %s)", buf,
			w->pid_path);
		close(w->pid_fd);
		w->pid_fd = -1;
		return -EBUSY;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(w->pid_fd, 0) ||
	    pwrite(w->pid_fd, buf, (size_t)n, 0) != n)
		log_warn("%s: cannot write the pid", w->pid_path);
	return 0;
}

/* sd_notify - the NOTIFY_SOCKET datagram protocol of systemd */
static void sd_notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	size_t plen;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	plen = strlen(path);
	if (plen >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, plen);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   len) < 0)
		log_warn("sd_notify: %s", strerror(errno));
	close(fd);
}

/* reload - SIGHUP: new config (kept only if it is valid), core list */
static void reload(struct watch *w)
{
	struct mx_config c;

	log_info("reloading %s", w->conf_path);
	memset(&c, 0, sizeof(c));
	if (config_read(w, &c)) {
		log_err("keeping the running configuration");
		config_free(&c);
		return;
	}
	flush_pending(w);
	commit(w);
	config_free(&w->cfg);
	w->cfg = c;
	if (!w->cfg.blocklist)
		w->cfg.blocklist = xstrdup(MX_BLOCKLIST_DEFAULT);
	log_use_syslog(w->cfg.syslog);
	counting_update(w);
	own_addrs_load(w);
	save_positions(w);
	commit(w);
	followers_close(w);
	followers_open(w);
	core_load(w);
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: mxwall watch [--config FILE] [--dry-run] [LOGFILE...]\n\n"
	    "Follow the MTA's logs and promote sources with many rejections\n"
	    "into the filter (see mxwall.conf(5)).\n\n"
	    "  -c, --config FILE  configuration (default " MX_CONF_DEFAULT ")\n"
	    "  -n, --dry-run      log what would be blocked, change nothing\n"
	    "  -h, --help         this text\n"
	    "LOGFILE... replaces the config's log keys; '-' is stdin.\n");
}

int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct watch *w = xcalloc(1, sizeof(*w));
	char dbpath[4096], err[512];
	struct pollfd pfd[8];
	sigset_t mask;
	int c, sfd = -1, rc = EXIT_RUNTIME;
	size_t i, npfd;
	bool running = true;

	w->conf_path = MX_CONF_DEFAULT;
	w->lock_fd = -1;
	w->pid_fd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:hn", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			w->conf_path = optarg;
			w->conf_given = true;
			break;
		case 'h':
			usage(stdout);
			free(w);
			return EXIT_OK;
		case 'n':
			w->dry_run = true;
			break;
		default:
			log_usage("watch: %s: unknown option (see 'mxwall "
				  "watch --help')",
				  argv[optind - 1]);
		}
	}
	w->cli_logs = argv + optind;
	w->ncli_logs = (size_t)(argc - optind);
	for (i = 0; i < w->ncli_logs; i++)
		if (!w->cli_logs[i][0])
			log_usage("watch: empty LOGFILE argument");
	w->fake_now = secure_getenv("MXWALL_FAKE_NOW");
	if (w->fake_now && !*w->fake_now)
		w->fake_now = NULL;
	clock_update(w);

	if (config_read(w, &w->cfg)) {
		log_err("watch: not starting: fix the configuration");
		free(w);
		return EXIT_RUNTIME;
	}
	if (!w->cfg.blocklist)
		w->cfg.blocklist = xstrdup(MX_BLOCKLIST_DEFAULT);
	if (!w->ncli_logs && !w->cfg.nlogs)
		log_usage(
		    "watch: no log to follow: give LOGFILE or 'log =' in %s",
		    w->conf_path);
	cidr_parse("127.0.0.0/8", 0, &w->loop[0], err, sizeof(err));
	cidr_parse("::1", 0, &w->loop[1], err, sizeof(err));
	log_use_syslog(w->cfg.syslog);
	w->bucket = xcalloc(SRC_BUCKETS, sizeof(*w->bucket));

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		goto out;
	}
	if (!w->dry_run && pidfile_open(w))
		goto out;
	if (config_db_path(&w->cfg, mx_opt.state_dir, dbpath, sizeof(dbpath))) {
		log_err("database path too long");
		goto out;
	}
	if (!w->dry_run && !w->cfg.db && mkdir_p(mx_opt.state_dir, 0700)) {
		log_err("%s: cannot create", mx_opt.state_dir);
		goto out;
	}
	if (db_open(dbpath, w->dry_run ? DB_MEMORY : 0, &w->db, err,
		    sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	if (setup_filter(w))
		goto out;
	/* everything is open: the rest runs with what it needs (privsep.c) */
	c = privsep_drop();
	if (c)
		log_warn(
		    "cannot drop capabilities: %s; running with all of them",
		    strerror(-c));
	else
		log_debug("capabilities dropped");
	own_addrs_load(w);
	counting_update(w);

	/* state of the last run: entries, the hour's promotions, windows */
	db_entries_active(w->db, load_active, w);
	db_promotions_between(w->db, w->now - HOUR_SECS, INT64_MAX, load_promo,
			      w);
	db_events_since(w->db, w->now - (int64_t)config_max_window(&w->cfg),
			replay_one, w);
	flush_pending(w);
	if (core_load(w) && !w->dry_run)
		goto out;
	reconcile(w);
	note_day(w);
	expire(w);
	w->last_reconcile = w->now;
	w->last_tick = w->now;

	followers_open(w);
	if (follower_run(w->fw, on_line, w) == 0) {
		flush_pending(w);
		commit(w);
	}
	for (i = 0; i < nfiles; i++)
		log_info("following %s", follow_is_stdin(files[i])
					     ? "stdin"
					     : follow_path(files[i]));
	sd_notify_send("READY=1\nSTATUS=following the logs");

	while (running) {
		int timeout = 1000;

		if (w->dirty) {
			int64_t left = (int64_t)w->cfg.commit_interval_ms -
				       ms_since(&w->first_dirty);

			timeout = left < 0 ? 0 : (int)left;
		}
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		npfd =
		    1 + follower_pollfds(w->fw, pfd + 1, ARRAY_SIZE(pfd) - 1);
		if (poll(pfd, (nfds_t)npfd, timeout) < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			break;
		}
		clock_update(w);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					reload(w);
				} else {
					log_info("signal %u: stopping",
						 si.ssi_signo);
					running = false;
				}
			}
		}
		if (follower_run(w->fw, on_line, w))
			break;
		flush_pending(w);
		if (w->dirty && ms_since(&w->first_dirty) >=
				    (int64_t)w->cfg.commit_interval_ms) {
			save_positions(w);
			commit(w);
		}
		if (w->now != w->last_tick) {
			w->last_tick = w->now;
			expire(w);
		}
		if (w->now - w->last_reconcile >= RECONCILE_SECS ||
		    w->now < w->last_reconcile) {
			w->last_reconcile = w->now;
			reconcile(w);
			note_day(w);
			src_gc(w);
			own_addrs_load(w);
		}
		if (w->now - w->last_prune >= PRUNE_SECS && !w->dry_run) {
			uint64_t n = 0;

			w->last_prune = w->now;
			db_begin(w->db);
			if (db_events_prune(w->db, w->now - EVENTS_KEEP_SECS,
					    &n))
				log_warn("database: %s", db_errmsg(w->db));
			else if (n)
				log_info(
				    "forgot %llu events older than 90 days",
				    (unsigned long long)n);
			mark_dirty(w);
		}
		if (follower_eof(w->fw)) {
			log_info("end of input");
			break;
		}
	}
	sd_notify_send("STOPPING=1");
	flush_pending(w);
	db_begin(w->db);
	save_positions(w);
	commit(w);
	log_info(
	    "stopped: %llu lines, %llu events, %llu sources forgotten (flood)",
	    (unsigned long long)w->lines, (unsigned long long)w->events,
	    (unsigned long long)w->src_forgotten_all);
	rc = EXIT_OK;
out:
	if (w->fw)
		followers_close(w);
	db_close(w->db);
	if (w->have_be)
		backend_close(&w->be);
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	if (w->pid_fd >= 0) {
		unlink(w->pid_path);
		close(w->pid_fd);
	}
	if (sfd >= 0)
		close(sfd);
	if (w->bucket)
		src_free_all(w);
	free(w->bucket);
	for (i = 0; i < w->ntags; i++)
		free(w->tag_names[i]);
	free(w->act);
	free(w->pend);
	free(w->own);
	free(w->promo_times);
	config_free(&w->cfg);
	free(w);
	return rc;
}
