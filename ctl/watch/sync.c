// SPDX-License-Identifier: GPL-2.0
/*
 * sync.c - owns what `mxwall watch` does to the filter and the database:
 * the active set (entries this controller added), promotions on their way
 * in (consider, block, escalate, flush_pending: one apply per pass, then
 * committed at once), expiry and reconciliation with the filter, the
 * static core list, the day counters, and the batching of events and
 * read positions into one transaction per commit_interval.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/listfile.h"
#include "core/mxwall.h"
#include "report/report.h"
#include "watch/watch_int.h"

/* ---- the filter ---- */

/*
 * lock_take - the lock every mutating command takes: the pin directory's,
 * then the state directory's (backend_lock), so a command with other
 * state directory but the same pins waits for the watcher too
 */
int lock_take(struct watch *w)
{
	return backend_lock(&w->be);
}

void lock_drop(struct watch *w)
{
	backend_unlock(&w->be);
}

/*
 * be_follow - under the lock: after a backend switch by `mxwall attach`
 * the entries live in the other backend and this one's state is gone;
 * promote and reconcile against the one now in use, with no restart.
 */
void be_follow(struct watch *w)
{
	int err;

	if (!w->have_be || w->dry_run)
		return;
	err = backend_follow(&w->be);
	if (err > 0)
		log_info("the filter moved to the %s backend: following it",
			 w->be.ops->name);
	else if (err < 0)
		log_warn("the filter moved to another backend, which cannot "
			 "be opened: %s",
			 backend_strerror(err));
}

/* be_apply - one change under the lock that other commands take too */
int be_apply(struct watch *w, const struct mx_entry *add, size_t nadd,
	     const struct cidr *del, size_t ndel)
{
	int err;

	if (!w->have_be || w->dry_run)
		return 0;
	err = lock_take(w);
	if (err)
		return err;
	be_follow(w);
	err = backend_apply(&w->be, add, nadd, del, ndel);
	lock_drop(w);
	if (!err)
		fleet_changed(w); /* the export follows */
	return err;
}

/* ---- database batching ---- */

void mark_dirty(struct watch *w)
{
	if (!w->dirty)
		clock_gettime(CLOCK_MONOTONIC, &w->first_dirty);
	w->dirty = true;
}

/* save_positions - into the open transaction, with the events they cover */
int save_positions(struct watch *w)
{
	struct db_pos pos;
	size_t i;

	for (i = 0; i < w->rd_n && w->rd; i++) {
		if (!w->rd_ctx[i].pos_dirty || !strcmp(w->rd_paths[i], "-") ||
		    i == w->rd_journal)
			continue;
		reader_pos(w->rd, i, &pos);
		if (db_pos_set(w->db, w->rd_paths[i], &pos))
			return -EIO;
		w->rd_ctx[i].pos_dirty = false;
	}
	for (i = 0; i < w->nfiles; i++) {
		struct file_ctx *fc = follow_data(w->files[i]);

		if (!fc->pos_dirty || follow_is_stdin(w->files[i]))
			continue;
		follow_pos(w->files[i], &pos);
		if (db_pos_set(w->db, follow_path(w->files[i]), &pos))
			return -EIO;
		fc->pos_dirty = false;
	}
	if (w->jr && w->rd && w->rd_journal != SIZE_MAX) {
		/* the entries the reader has parsed, no further */
		bool moved;
		const char *cur = reader_fed_cursor(w->rd, &moved);

		if (moved && cur && db_cursor_set(w->db, w->jr_key, cur))
			return -EIO;
	} else if (w->jr && w->jr_dirty && journal_cursor(w->jr)) {
		if (db_cursor_set(w->db, w->jr_key, journal_cursor(w->jr)))
			return -EIO;
		w->jr_dirty = false;
	}
	return 0;
}

/* commit - positions of every file that moved, then COMMIT */
int commit(struct watch *w)
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
	if (w->db_stall) {
		w->db_stall = false;
		log_info("database: writable again; every change that "
			 "waited is recorded, reading the logs again");
	}
	return 0;
fail:
	/*
	 * the next try after one more commit interval, not at once: a full
	 * disk is logged once per interval, and nothing spins meanwhile
	 */
	clock_gettime(CLOCK_MONOTONIC, &w->first_dirty);
	w->dirty = true;
	if (db_stalled(w->db)) {
		w->db_stall = true;
		log_err("database: %s (the changes wait in memory and the "
			"logs are not read further until the database takes "
			"them; trying again every %u ms)",
			db_errmsg(w->db),
			(unsigned int)w->cfg.commit_interval_ms);
	} else {
		log_err("database: %s", db_errmsg(w->db));
	}
	return err;
}

/* ---- promotion ---- */

static void cap_prune(struct watch *w)
{
	policy_cap_prune(w->promo_times, &w->npromo, w->now);
}

void active_add(struct watch *w, int64_t id, const struct mx_entry *e)
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

/* ttl_for - the ttl of a new entry for net (policy_ttl) */
static uint64_t ttl_for(struct watch *w, const char *cidr, uint64_t *level)
{
	struct db_entry prev;

	if (!w->cfg.recidive_window || db_entry_last(w->db, cidr, &prev))
		return policy_ttl(&w->cfg, NULL, w->now, level);
	return policy_ttl(&w->cfg, &prev, w->now, level);
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
	if (policy_cap_full(&w->cfg, w->npromo)) {
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
		policy_fmt_dur(ttl, dur, sizeof(dur));
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
void flush_pending(struct watch *w)
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
		crowdsec_promoted(w, &pd->e, pd->hits);
	}
	w->npend = 0;
	/* a promotion is committed at once, with the events behind it */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	commit(w);
	log_debug("commit: %lld ms", (long long)ms_since(&t0));
}

struct pardon_ctx {
	const struct cidr *net;
	struct db_pardon found;
};

static int pardon_match(void *arg, const struct db_pardon *p)
{
	struct pardon_ctx *c = arg;
	struct cidr pc;
	char err[64];

	if (cidr_parse(p->cidr, 0, &pc, err, sizeof(err)) < 0)
		return 0;
	if ((cidr_contains(&pc, c->net) || cidr_contains(c->net, &pc)) &&
	    p->until > c->found.until)
		c->found = *p;
	return 0;
}

/*
 * pardoned - does a pardon (mxwall unblock --pardon) hold net, or lie
 * inside it? Asked of the database right before a promotion, so that a
 * pardon given a moment ago counts, across restarts and weekly resets.
 * Returns until when (0: none); fails closed (no promotion) when the
 * database cannot say.
 */
static int64_t pardoned(struct watch *w, const struct cidr *net)
{
	struct mx_db *db = w->pardon_db ? w->pardon_db : w->db;
	struct pardon_ctx c = {.net = net};

	if (db_pardons_active(db, w->now, pardon_match, &c)) {
		log_warn("database: %s (not promoting while pardons cannot "
			 "be read)",
			 db_errmsg(db));
		return w->now + 60;
	}
	return c.found.until;
}

/* same64_before - an earlier entry inside net48 lies in act[i]'s /64 */
static bool same64_before(const struct watch *w, const struct cidr *net48,
			  size_t i)
{
	struct cidr mine, other;
	size_t k;

	cidr_supernet(&w->act[i].net, 64, &mine);
	for (k = 0; k < i; k++) {
		const struct cidr *b = &w->act[k].net;

		if (b->plen < 64 || !cidr_contains(net48, b))
			continue;
		cidr_supernet(b, 64, &other);
		if (!cidr_cmp(&other, &mine))
			return true;
	}
	return false;
}

/*
 * escalate - enough promoted hosts in host's /24 (IPv6: enough distinct
 * /64s in its /48): block the block
 */
static void escalate(struct watch *w, const struct cidr *host)
{
	struct cidr net;
	char reasons[MX_TAGS_LEN] = "", why[128], text[CIDR_STRLEN];
	const char *prot;
	uint64_t n = 0;
	size_t i;
	bool v6;

	if (!w->cfg.escalate)
		return;
	v6 = host->family == AF_INET6;
	cidr_supernet(host, v6 ? 48 : 24, &net);
	if (active_find(w, &net))
		return;
	for (i = 0; i < w->nact; i++) {
		const struct active *a = &w->act[i];

		if (!cidr_contains(&net, &a->net) ||
		    (!cidr_is_host(&a->net) && (!v6 || a->net.plen < 64)))
			continue;
		/*
		 * IPv6: one /64 is one customer's link and holds 2^64
		 * hosts: count distinct /64s, not hosts
		 */
		if (!v6 || !same64_before(w, &net, i))
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
	if (pardoned(w, &net)) {
		log_info("not escalating to %s: a pardon holds an address in "
			 "it",
			 text);
		return;
	}
	snprintf(why, sizeof(why), "%llu promoted %s in %s (escalate)",
		 (unsigned long long)n, v6 ? "/64s" : "hosts", text);
	block(w, &net, reasons, why, n, "escalate");
}

/*
 * wire_vouches - require_seen: did the kernel complete an SMTP handshake
 * with s within seen_max_age (wire.h)? The record is asked afresh each
 * time, through its pins, so a backend switch or an upgrade needs no
 * restart. Without a record nothing is promoted (dry-run: not checked).
 */
static bool wire_vouches(struct watch *w, struct source *s, const char *text,
			 uint64_t hits)
{
	char dur[32], age[32];
	int64_t when = 0;
	int err;

	err = wire_lookup(&w->wire, &s->ip, &when);
	if (err == -ENXIO || (err && err != -ENOENT)) {
		if (w->dry_run)
			return true;
		if (!w->wire_logged || w->now - w->wire_logged >= HOUR_SECS ||
		    w->now < w->wire_logged) {
			log_err("not blocking %s: cannot read the record of "
				"SMTP handshakes in %s (%s); run 'mxwall "
				"attach' (require_seen)",
				text, w->wire.pin_dir,
				err == -ENXIO ? "not attached"
					      : backend_strerror(err));
			w->wire_logged = w->now;
		}
		return false;
	}
	if (!err && policy_seen_fresh(&w->cfg, when, w->now))
		return true;
	if (!s->refused_logged) {
		policy_fmt_dur(w->cfg.seen_max_age, dur, sizeof(dur));
		if (err)
			log_info("not blocking %s: %llu rejections, but the "
				 "kernel completed no SMTP handshake with it "
				 "(require_seen)",
				 text, (unsigned long long)hits);
		else {
			uint64_t a = (uint64_t)(w->now - when);

			/* whole minutes read better than 7199s */
			policy_fmt_dur(a < 60 ? a : (a + 30) / 60 * 60, age,
				       sizeof(age));
			log_info("not blocking %s: %llu rejections, but its "
				 "last SMTP handshake was %s ago "
				 "(seen_max_age %s)",
				 text, (unsigned long long)hits, age, dur);
		}
	}
	s->refused_logged = true;
	return false;
}

/* consider - is s over a threshold now (policy_over_threshold)? block it */
void consider(struct watch *w, struct source *s)
{
	struct policy_verdict v;
	char reasons[MX_TAGS_LEN], why[200], text[CIDR_STRLEN], dur[32];
	uint64_t hits;
	size_t i;
	bool over;
	int err;

	if (s->blocked || !s->n || s->pardon_until > w->now)
		return;
	/*
	 * The cap refused s within the hour and is still full: the answer
	 * is known (and logged once), without counting again. A flood
	 * sends most of its lines here.
	 */
	if (s->cap_refused && w->now - s->cap_refused < HOUR_SECS &&
	    w->now >= s->cap_refused) {
		cap_prune(w);
		if (policy_cap_full(&w->cfg, w->npromo))
			return;
	}
	over = policy_over_threshold(&w->cfg, s->ev, s->n, w->counting,
				     w->rule_bit, w->now, &v);
	/* the rules looked at know their tag from now on */
	for (i = 0; i < v.rules_seen; i++)
		if (w->cfg.rules[i].threshold)
			tag_bit(w, w->cfg.rules[i].tag,
				strlen(w->cfg.rules[i].tag));
	if (!over)
		return;
	hits = v.hits;
	cidr_format(&s->ip, text, sizeof(text));
	if (w->cfg.require_seen && !wire_vouches(w, s, text, hits))
		return;
	s->pardon_until = pardoned(w, &s->ip);
	if (s->pardon_until > w->now) {
		char until[32];

		fmt_time_iso(s->pardon_until, until, sizeof(until));
		log_info("not blocking %s: %llu rejections, but it is pardoned "
			 "until %s (unblock --pardon)",
			 text, (unsigned long long)hits, until);
		return;
	}
	mask_names(w, v.tags, reasons, sizeof(reasons) - 2);
	policy_fmt_dur(v.window, dur, sizeof(dur));
	snprintf(why, sizeof(why), "%llu rejections in %s (threshold %llu): %s",
		 (unsigned long long)hits, dur, (unsigned long long)v.threshold,
		 reasons);
	err = block(w, &s->ip, reasons, why, hits, "promote");
	if (err == 0) {
		src_set_blocked(w, s, true);
		escalate(w, &s->ip);
	} else if (err == -EAGAIN) {
		s->cap_refused = w->now;
	}
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
void expire(struct watch *w)
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
void note_day(struct watch *w)
{
	struct mx_status st;
	int err;

	if (w->dry_run || !w->have_be)
		return;
	memset(&st, 0, sizeof(st));
	err = w->be.ops->status(&w->be, &st);
	if (!err)
		err = report_note_day(w->bo.state_dir, &st.counters, w->now);
	if (err)
		log_warn("cannot record today's counters: %s",
			 backend_strerror(err));
}

void reconcile(struct watch *w)
{
	struct mx_entry *rows = NULL;
	struct cidr *del = NULL;
	size_t n = 0, ndel = 0, i;
	int err, k;

	if (!w->have_be)
		return;
	if (!w->dry_run && !lock_take(w)) {
		be_follow(w);
		lock_drop(w);
	}
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
		if (!w->dry_run && policy_idle(&w->cfg, last, w->now)) {
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

			policy_fmt_dur(w->cfg.idle_expire, dur, sizeof(dur));
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
int core_load(struct watch *w)
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
