// SPDX-License-Identifier: GPL-2.0
/*
 * crowdsec.c - owns the watcher's side of CrowdSec (docs/fleet.md): as a
 * bouncer, the Local API's ban decisions become filter entries tagged
 * `crowdsec` and the scenario, expiring with the decision; as a machine,
 * this watcher's promotions go to the LAPI as alerts with a ban decision
 * (scenario mxwall/smtp-rejections), so every bouncer of the fleet
 * applies them.
 *
 * The first poll asks for the whole set (startup=true) and makes the
 * filter's CrowdSec entries that set; later polls carry what is new and
 * what was deleted. A decision never overrides what is here (see
 * foreign_refuses() in fleet.c), and at most crowdsec_max entries come
 * from CrowdSec. When the LAPI cannot be reached the last known set
 * stays, polls back off up to CS_BACKOFF_MAX_MS, and `mxwall status`
 * says "crowdsec: unreachable since ..." (the state file
 * $state_dir/crowdsec.status, written here). Alerts wait in a bounded
 * queue while the LAPI is away.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mxwall.h"
#include "fleet/crowdsec.h"
#include "watch/watch_int.h"

#define CS_BACKOFF_MAX_MS (5 * 60 * 1000)
#define CS_QUEUE_MAX 10000
#define CS_SCENARIO "mxwall/smtp-rejections"

/* a decision id the filter holds an entry for */
struct cs_held {
	int64_t id;
	struct cidr net;
};

struct csw {
	struct cs_client *cl;
	char key[512];
	char machine[128];
	char password[512];
	bool bouncer, publisher;
	bool started;	      /* the startup poll went through */
	int64_t next_poll_ms; /* monotonic */
	int64_t backoff_ms;
	int64_t down_since; /* 0: reachable */
	char down_err[256];
	struct cs_held *held;
	size_t nheld;
	struct cs_alert *q; /* alerts waiting to be pushed */
	char (*qmsg)[160];
	size_t nq;
	uint64_t dropped;
	int64_t next_push_ms;
	int64_t push_backoff_ms;
	bool push_down;
};

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* read_secret - the first line of a file, no newline; -errno */
static int read_secret(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? 0 : -ENODATA;
}

static void status_write(struct watch *w, struct csw *c)
{
	char path[4096], text[512], when[64];
	size_t i, n = 0;
	int len;

	if (w->dry_run ||
	    path_join(path, sizeof(path), w->bo.state_dir, "crowdsec.status"))
		return;
	for (i = 0; i < c->nheld; i++)
		n++;
	if (c->down_since) {
		fmt_time_iso(c->down_since, when, sizeof(when));
		len = snprintf(text, sizeof(text), "unreachable since %s: %s\n",
			       when, c->down_err);
	} else {
		fmt_time_iso(w->now, when, sizeof(when));
		len =
		    snprintf(text, sizeof(text),
			     "ok, %zu decisions held, last poll %s\n", n, when);
	}
	write_file_atomic(path, text, (size_t)len, 0644);
}

void crowdsec_free(struct watch *w)
{
	struct csw *c = w->crowdsec;

	if (!c)
		return;
	cs_free(c->cl);
	free(c->held);
	free(c->q);
	free(c->qmsg);
	free(c);
	w->crowdsec = NULL;
}

int crowdsec_init(struct watch *w)
{
	const struct mx_config *cfg = &w->cfg;
	struct csw *c;
	int err;

	crowdsec_free(w);
	if (!cfg->crowdsec_url)
		return 0;
	c = xcalloc(1, sizeof(*c));
	if (cfg->crowdsec_api_key) {
		snprintf(c->key, sizeof(c->key), "%s", cfg->crowdsec_api_key);
		c->bouncer = true;
	} else if (cfg->crowdsec_api_key_file) {
		err = read_secret(cfg->crowdsec_api_key_file, c->key,
				  sizeof(c->key));
		if (err) {
			log_err("crowdsec_api_key_file %s: %s",
				cfg->crowdsec_api_key_file, strerror(-err));
			free(c);
			return err;
		}
		c->bouncer = true;
	}
	if (cfg->crowdsec_machine_id) {
		if (!cfg->crowdsec_password_file) {
			log_err("crowdsec_machine_id needs "
				"crowdsec_password_file");
			free(c);
			return -EINVAL;
		}
		err = read_secret(cfg->crowdsec_password_file, c->password,
				  sizeof(c->password));
		if (err) {
			log_err("crowdsec_password_file %s: %s",
				cfg->crowdsec_password_file, strerror(-err));
			free(c);
			return err;
		}
		snprintf(c->machine, sizeof(c->machine), "%s",
			 cfg->crowdsec_machine_id);
		c->publisher = true;
	}
	if (!c->bouncer && !c->publisher) {
		log_warn("crowdsec_url without a bouncer key or a machine: "
			 "CrowdSec is not used");
		free(c);
		return 0;
	}
	c->cl = cs_new(cfg->crowdsec_url);
	if (!c->cl) {
		log_err("crowdsec: cannot set up libcurl");
		free(c);
		return -ENOMEM;
	}
	w->crowdsec = c;
	log_info("crowdsec: %s%s%s at %s", c->bouncer ? "bouncer" : "",
		 c->bouncer && c->publisher ? " and " : "",
		 c->publisher ? "publisher" : "", cfg->crowdsec_url);
	return 0;
}

int crowdsec_timeout_ms(struct watch *w)
{
	struct csw *c = w->crowdsec;
	int64_t left, now = mono_ms(), next;

	if (!c)
		return 1000;
	next = c->bouncer ? c->next_poll_ms : INT64_MAX;
	if (c->nq && c->next_push_ms < next)
		next = c->next_push_ms;
	left = next - now;
	return left < 0 ? 0 : left > 1000 ? 1000 : (int)left;
}

static void held_drop(struct csw *c, int64_t id)
{
	size_t i;

	for (i = 0; i < c->nheld; i++) {
		if (c->held[i].id == id) {
			c->held[i] = c->held[--c->nheld];
			return;
		}
	}
}

static bool held_net(struct csw *c, const struct cidr *net)
{
	size_t i;

	for (i = 0; i < c->nheld; i++)
		if (!cidr_cmp(&c->held[i].net, net))
			return true;
	return false;
}

static size_t filter_count(struct foreign *fo)
{
	size_t i, n = 0;

	for (i = 0; i < fo->nrows; i++)
		n += mx_tags_has(fo->rows[i].tags, MX_SOURCE_CROWDSEC);
	return n;
}

/* apply one good batch; startup: it is the whole set */
static int apply_batch(struct watch *w, struct csw *c, struct cs_batch *b,
		       bool startup)
{
	struct mx_entry *add = xcalloc(b->nadd + 1, sizeof(*add));
	struct cidr *del = NULL;
	size_t nadd = 0, ndel = 0, i, k, refused = 0, capped = 0, have;
	struct foreign fo;
	int err;

	err = foreign_load(w, &fo);
	if (err) {
		free(add);
		return err;
	}
	del = xcalloc(fo.nrows + b->ndel + 1, sizeof(*del));
	if (startup)
		c->nheld = 0;
	for (i = 0; i < b->ndel; i++)
		held_drop(c, b->del[i].id);
	have = filter_count(&fo);
	for (i = 0; i < b->nadd; i++) {
		const struct cs_decision *d = &b->add[i];
		struct mx_entry *e, *cur;
		int64_t until = w->now + d->duration;

		if (foreign_refuses(w, &fo, &d->net, MX_SOURCE_CROWDSEC)) {
			refused++;
			continue;
		}
		/* the same net twice in a batch: one entry, the later end */
		for (k = 0, e = NULL; k < nadd && !e; k++)
			if (!cidr_cmp(&add[k].net, &d->net))
				e = &add[k];
		cur = foreign_find(&fo, &d->net);
		if (!e && !cur && have + nadd >= w->cfg.crowdsec_max) {
			capped++;
			continue;
		}
		if (!e) {
			e = &add[nadd++];
			memset(e, 0, sizeof(*e));
			e->net = d->net;
			e->action = MX_ACT_DROP;
			e->origin = MX_ORIGIN_DYNAMIC;
			e->added = cur ? cur->added : w->now;
			snprintf(e->tags, sizeof(e->tags), "%s",
				 MX_SOURCE_CROWDSEC);
			mx_tags_add(e->tags, sizeof(e->tags), d->tag);
		}
		if (cur && cur->expires > until && !startup)
			until = cur->expires;
		if (until > e->expires)
			e->expires = until;
		c->held =
		    xreallocarray(c->held, c->nheld + 1, sizeof(*c->held));
		c->held[c->nheld].id = d->id;
		c->held[c->nheld].net = d->net;
		c->nheld++;
	}
	/* entries no decision holds any more */
	for (i = 0; i < fo.nrows; i++) {
		const struct mx_entry *r = &fo.rows[i];
		bool readded = false;

		if (!mx_tags_has(r->tags, MX_SOURCE_CROWDSEC) ||
		    held_net(c, &r->net))
			continue;
		for (k = 0; k < nadd && !readded; k++)
			readded = !cidr_cmp(&add[k].net, &r->net);
		if (!readded)
			del[ndel++] = r->net;
	}
	err = nadd || ndel ? be_apply(w, add, nadd, del, ndel) : 0;
	if (err)
		log_warn("crowdsec: cannot apply %zu decisions: %s (will ask "
			 "for the whole set again)",
			 nadd + ndel, backend_strerror(err));
	else if (nadd || ndel || refused || capped || b->skipped)
		log_info(
		    "crowdsec: %zu decisions applied, %zu entries removed, "
		    "%zu not applied (protected, local or pardoned), %zu "
		    "over crowdsec_max, %zu not enforced (type, scope or "
		    "value)",
		    nadd, ndel, refused, capped, b->skipped);
	foreign_free(&fo);
	free(add);
	free(del);
	return err;
}

static void poll_once(struct watch *w, struct csw *c)
{
	struct cs_batch b;
	char err[512];
	int rc;

	rc = cs_stream(c->cl, c->key, !c->started, &b, err, sizeof(err));
	if (rc == -EBADMSG || rc == -EFBIG) {
		/* the LAPI answered, but nothing of that batch is used */
		log_warn("crowdsec: %s: nothing of this batch applied", err);
		c->started = false; /* the next poll asks for the whole set */
	} else if (rc) {
		if (!c->down_since) {
			c->down_since = w->now;
			log_warn("crowdsec: unreachable: %s (the last known "
				 "decisions stay; trying again)",
				 err);
		}
		snprintf(c->down_err, sizeof(c->down_err), "%.250s", err);
		c->backoff_ms = c->backoff_ms
				    ? c->backoff_ms * 2
				    : (int64_t)w->cfg.crowdsec_poll * 1000;
		if (c->backoff_ms > CS_BACKOFF_MAX_MS)
			c->backoff_ms = CS_BACKOFF_MAX_MS;
		c->next_poll_ms = mono_ms() + c->backoff_ms;
		status_write(w, c);
		return;
	} else {
		if (c->down_since)
			log_info("crowdsec: reachable again");
		c->down_since = 0;
		if (apply_batch(w, c, &b, !c->started))
			c->started = false;
		else
			c->started = true;
		cs_batch_free(&b);
	}
	c->backoff_ms = 0;
	c->next_poll_ms = mono_ms() + (int64_t)w->cfg.crowdsec_poll * 1000;
	status_write(w, c);
}

/* until the next weekly reset (Sunday 06:00 local time), for ttl = 0 */
static int64_t until_reset(int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;
	int64_t next;

	localtime_r(&t, &tm);
	tm.tm_mday += (7 - tm.tm_wday) % 7;
	tm.tm_hour = 6;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	next = (int64_t)mktime(&tm);
	if (next <= now)
		next += 7 * 24 * 3600;
	return next - now;
}

void crowdsec_promoted(struct watch *w, const struct mx_entry *e, uint64_t hits)
{
	struct csw *c = w->crowdsec;
	char net[CIDR_STRLEN];
	struct cs_alert *a;

	if (!c || !c->publisher || w->dry_run)
		return;
	if (c->nq == CS_QUEUE_MAX) {
		c->dropped++;
		return;
	}
	if (!c->nq) {
		c->q = xreallocarray(c->q, CS_QUEUE_MAX, sizeof(*c->q));
		c->qmsg =
		    xreallocarray(c->qmsg, CS_QUEUE_MAX, sizeof(*c->qmsg));
	}
	a = &c->q[c->nq];
	memset(a, 0, sizeof(*a));
	a->net = e->net;
	a->scenario = CS_SCENARIO;
	a->events = hits;
	a->start = a->stop = w->now;
	a->duration =
	    e->expires > w->now ? e->expires - w->now : until_reset(w->now);
	snprintf(c->qmsg[c->nq], sizeof(c->qmsg[c->nq]),
		 "mxwall: %s promoted: %.100s",
		 cidr_format(&e->net, net, sizeof(net)), e->tags);
	c->nq++;
	if (c->next_push_ms > mono_ms() && !c->push_down)
		c->next_push_ms = mono_ms();
}

static void push_queue(struct watch *w, struct csw *c)
{
	char err[512];
	size_t i;
	int rc;

	for (i = 0; i < c->nq; i++)
		c->q[i].message = c->qmsg[i];
	rc = cs_push(c->cl, c->machine, c->password, c->q, c->nq, w->now, err,
		     sizeof(err));
	if (rc) {
		if (!c->push_down)
			log_warn("crowdsec: cannot publish %zu promotions: %s "
				 "(kept, trying again)",
				 c->nq, err);
		c->push_down = true;
		c->push_backoff_ms =
		    c->push_backoff_ms ? c->push_backoff_ms * 2 : 1000;
		if (c->push_backoff_ms > CS_BACKOFF_MAX_MS)
			c->push_backoff_ms = CS_BACKOFF_MAX_MS;
		c->next_push_ms = mono_ms() + c->push_backoff_ms;
		return;
	}
	log_info("crowdsec: published %zu promotions%s", c->nq,
		 c->push_down ? " (the Local API is back)" : "");
	if (c->dropped)
		log_warn("crowdsec: %llu promotions were not published (the "
			 "queue of %d was full)",
			 (unsigned long long)c->dropped, CS_QUEUE_MAX);
	c->dropped = 0;
	c->nq = 0;
	c->push_down = false;
	c->push_backoff_ms = 0;
}

void crowdsec_tick(struct watch *w)
{
	struct csw *c = w->crowdsec;
	int64_t now;

	if (!c || !w->have_be)
		return;
	now = mono_ms();
	if (c->bouncer && !w->dry_run && now >= c->next_poll_ms)
		poll_once(w, c);
	if (c->publisher && c->nq && mono_ms() >= c->next_push_ms)
		push_queue(w, c);
}
