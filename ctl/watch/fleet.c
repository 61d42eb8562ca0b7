// SPDX-License-Identifier: GPL-2.0
/*
 * fleet.c - owns the watcher's side of a fleet of MX hosts
 * (docs/fleet.md): the export file kept fresh (`export = FILE`), and the
 * peers' files followed (`import = NAME FILE [FORMAT]`).
 *
 * Export: rewritten within a second of a change this watcher made
 * (debounced: one write for a burst), and whenever a look at the filter
 * every RECONCILE_SECS finds that someone else changed it (a `block`, the
 * weekly reset).
 *
 * Import: each peer's file is looked at every second; when it changed it
 * is read whole (fleet/import.c: all or nothing, so a truncated or broken
 * file leaves the previous set in place) and its entries become the
 * filter's entries tagged `peer:NAME`, added and removed as the file
 * changes, in one apply. A peer never overrides what is here: not a
 * protected address (loopback, ours, the allowlist), not a pardon
 * (`unblock --pardon`), not an entry from anywhere else (a local allow, the
 * core list, a promotion, another peer), not an address a local allow covers; a
 * peer netblock holding a peer exception is left out whole (blocking it would
 * block what the peer let through). A file not refreshed for import_max_age
 * takes its entries with it; a file over import_max entries is refused whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "core/mxwall.h"
#include "fleet/export.h"
#include "fleet/import.h"
#include "watch/watch_int.h"

#define EXPORT_DEBOUNCE_MS 300
#define PEER_CHECK_MS 500

struct peer {
	char name[32];
	char tag[40]; /* peer:NAME */
	char path[4096];
	enum import_format fmt;
	bool have_stat;
	struct stat st;	  /* the file as last read */
	struct stat seen; /* the file at the last look, not read yet */
	bool have_seen;
	int64_t fresh_at; /* mtime of the last good read; 0: never */
	bool expired;	  /* its entries were taken out for age */
	char last_err[768];
	int64_t last_check; /* monotonic ms */
};

struct fleet {
	struct peer *peers;
	size_t npeers;
	bool export_due;
	struct timespec changed_at;
	uint64_t export_digest;
	int64_t last_digest; /* monotonic seconds */
	int64_t last_count;  /* monotonic seconds */
	size_t count_static, count_dynamic;
};

/* pacing runs on the monotonic clock (the fake clock of tests stands) */
static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t mono_secs(void)
{
	return mono_ms() / 1000;
}

void fleet_free(struct watch *w)
{
	if (!w->fleet)
		return;
	free(w->fleet->peers);
	free(w->fleet);
	w->fleet = NULL;
}

int fleet_init(struct watch *w)
{
	struct fleet *f;
	size_t i;

	fleet_free(w);
	if (!w->cfg.export_path && !w->cfg.nimports)
		return 0;
	f = xcalloc(1, sizeof(*f));
	f->peers = xcalloc(w->cfg.nimports + 1, sizeof(*f->peers));
	for (i = 0; i < w->cfg.nimports; i++) {
		struct peer *p = &f->peers[f->npeers];
		char fmt[16] = "plain";

		/* checked by config.c: NAME FILE [FORMAT] */
		if (sscanf(w->cfg.imports[i], "%31s %4095s %15s", p->name,
			   p->path, fmt) < 2 ||
		    import_parse_format(fmt, &p->fmt))
			continue;
		snprintf(p->tag, sizeof(p->tag), "%s%s", MX_SOURCE_PEER,
			 p->name);
		f->npeers++;
	}
	f->export_due = w->cfg.export_path != NULL;
	f->last_digest = f->last_count = mono_secs();
	for (i = 0; i < f->npeers; i++)
		f->peers[i].last_check = INT64_MIN / 2;
	w->fleet = f;
	return 0;
}

void fleet_changed(struct watch *w)
{
	struct fleet *f = w->fleet;

	if (!f || !w->cfg.export_path || f->export_due)
		return;
	f->export_due = true;
	clock_gettime(CLOCK_MONOTONIC, &f->changed_at);
}

int fleet_timeout_ms(struct watch *w)
{
	struct fleet *f = w->fleet;
	int64_t left;

	if (!f)
		return 1000;
	if (!f->export_due)
		return 1000;
	left = EXPORT_DEBOUNCE_MS - ms_since(&f->changed_at);
	return left < 0 ? 0 : (int)left;
}

/* FNV-1a over what an export says, to see a change made by someone else */
static uint64_t digest(const struct mx_entry *rows, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	size_t i, k;

	for (i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)&rows[i].net;

		for (k = 0; k < sizeof(rows[i].net); k++)
			h = (h ^ p[k]) * 1099511628211ull;
		h = (h ^ rows[i].action) * 1099511628211ull;
		h = (h ^ rows[i].origin) * 1099511628211ull;
		h = (h ^ rows[i].observe) * 1099511628211ull;
		for (p = (const unsigned char *)rows[i].tags; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ ',') * 1099511628211ull;
	}
	return h;
}

static int cmp_net(const void *a, const void *b)
{
	return cidr_cmp(&((const struct mx_entry *)a)->net,
			&((const struct mx_entry *)b)->net);
}

static void export_write_now(struct watch *w, struct mx_entry *rows, size_t n)
{
	struct export_opts o = {.now = w->now};
	struct export_stats st;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *fp;
	int rc;

	export_parse_format(w->cfg.export_format, &o.format);
	o.zone = w->cfg.export_zone;
	if (o.format == EXPORT_ZONE) {
		o.family = w->cfg.export_family == 6 ? AF_INET6 : AF_INET;
		o.serial = export_next_serial(
		    export_read_serial(w->cfg.export_path), w->now);
	}
	fp = open_memstream(&buf, &len);
	if (!fp)
		return;
	rc = export_write(fp, rows, n, &o, &st, err, sizeof(err));
	if (fclose(fp) || rc) {
		log_warn("export %s: %s", w->cfg.export_path,
			 rc ? err : "out of memory");
		free(buf);
		return;
	}
	rc = write_file_atomic(w->cfg.export_path, buf, len, 0644);
	free(buf);
	if (rc)
		log_warn("export %s: %s", w->cfg.export_path, strerror(-rc));
	else
		log_debug("export %s: %zu entries", w->cfg.export_path,
			  st.written);
}

/*
 * someone else changed the filter: the entry counts moved (looked at every
 * second, cheap), or the whole of it differs (every RECONCILE_SECS)
 */
static bool changed_elsewhere(struct watch *w, struct fleet *f, int64_t mono)
{
	struct mx_status st;

	if (mono - f->last_digest >= RECONCILE_SECS)
		return true;
	if (mono == f->last_count)
		return false;
	f->last_count = mono;
	memset(&st, 0, sizeof(st));
	if (w->be.ops->status(&w->be, &st))
		return false;
	if (st.entries_static == f->count_static &&
	    st.entries_dynamic == f->count_dynamic)
		return false;
	f->count_static = st.entries_static;
	f->count_dynamic = st.entries_dynamic;
	return true;
}

/* the export: due after our own change, or changed by someone else */
static void export_tick(struct watch *w)
{
	struct fleet *f = w->fleet;
	struct mx_entry *rows = NULL;
	int64_t mono = mono_secs();
	uint64_t d;
	size_t n = 0;

	if (!w->cfg.export_path || !w->have_be)
		return;
	if (!(f->export_due &&
	      ms_since(&f->changed_at) >= EXPORT_DEBOUNCE_MS) &&
	    !changed_elsewhere(w, f, mono))
		return;
	if (w->be.ops->dump(&w->be, &rows, &n)) {
		log_warn("export: cannot read the filter");
		return;
	}
	f->last_digest = mono;
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_net);
	d = digest(rows, n);
	if (f->export_due || d != f->export_digest) {
		f->export_due = false;
		f->export_digest = d;
		export_write_now(w, rows, n);
	}
	free(rows);
}

/* --- peers ------------------------------------------------------------- */

static bool has_tag(const struct mx_entry *e, const char *tag)
{
	return mx_tags_has(e->tags, tag);
}

/* does any entry of v (sorted or not) that is an allow cover or equal net */
static bool allow_covers(const struct mx_entry *v, size_t n,
			 const struct cidr *net)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].action == MX_ACT_ALLOW &&
		    cidr_contains(&v[i].net, net))
			return true;
	return false;
}

/* does a peer exception lie inside net */
static bool holds_exception(const struct mx_entry *v, size_t n,
			    const struct cidr *net)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].action == MX_ACT_ALLOW && v[i].net.plen > net->plen &&
		    cidr_contains(net, &v[i].net))
			return true;
	return false;
}

static struct mx_entry *find_net(struct mx_entry *v, size_t n,
				 const struct cidr *net)
{
	struct mx_entry key = {.net = *net};

	return n ? bsearch(&key, v, n, sizeof(*v), cmp_net) : NULL;
}

static int pardon_collect(void *arg, const struct db_pardon *p)
{
	struct foreign *ps = arg;
	char err[64];

	ps->v = xreallocarray(ps->v, ps->n + 1, sizeof(*ps->v));
	if (cidr_parse(p->cidr, 0, &ps->v[ps->n], err, sizeof(err)) >= 0)
		ps->n++;
	return 0;
}

/* a pardon holds net or lies inside it (as for promotions, sync.c) */
static bool is_pardoned(const struct foreign *ps, const struct cidr *net)
{
	size_t i;

	if (ps->failed)
		return true; /* cannot say: fail closed */
	for (i = 0; i < ps->n; i++)
		if (cidr_contains(&ps->v[i], net) ||
		    cidr_contains(net, &ps->v[i]))
			return true;
	return false;
}

int foreign_load(struct watch *w, struct foreign *fo)
{
	int err;

	memset(fo, 0, sizeof(*fo));
	err = w->be.ops->dump(&w->be, &fo->rows, &fo->nrows);
	if (err)
		return err;
	if (fo->nrows > 1)
		qsort(fo->rows, fo->nrows, sizeof(*fo->rows), cmp_net);
	if (db_pardons_active(w->db, w->now, pardon_collect, fo))
		fo->failed = true;
	return 0;
}

void foreign_free(struct foreign *fo)
{
	free(fo->rows);
	free(fo->v);
	memset(fo, 0, sizeof(*fo));
}

struct mx_entry *foreign_find(struct foreign *fo, const struct cidr *net)
{
	return find_net(fo->rows, fo->nrows, net);
}

const char *foreign_refuses(struct watch *w, struct foreign *fo,
			    const struct cidr *net, const char *source)
{
	struct mx_entry *have = foreign_find(fo, net);

	if (protected(w, net))
		return "protected";
	if (have && !mx_tags_has(have->tags, source))
		return "an entry from elsewhere";
	if (allow_covers(fo->rows, fo->nrows, net))
		return "under a local allow";
	if (is_pardoned(fo, net))
		return "pardoned";
	return NULL;
}

/*
 * peer_apply - make the filter's peer:NAME entries what want says (want
 * NULL: none). One apply; the caller logs.
 */
static int peer_apply(struct watch *w, struct peer *p, struct mx_entry *want,
		      size_t nwant, size_t *nadded, size_t *nremoved,
		      size_t *nskipped)
{
	struct mx_entry *add = NULL;
	struct cidr *del = NULL;
	struct foreign fo;
	size_t nadd = 0, ndel = 0, i;
	int err;

	*nadded = *nremoved = *nskipped = 0;
	err = foreign_load(w, &fo);
	if (err)
		return err;
	add = xcalloc(nwant + 1, sizeof(*add));
	del = xcalloc(fo.nrows + 1, sizeof(*del));
	for (i = 0; i < nwant; i++) {
		struct mx_entry *e = &want[i], *have;
		char tags[MX_TAGS_LEN];

		if (e->action != MX_ACT_DROP)
			continue; /* exceptions only shape the rest */
		/* second hand (the peer's own peers, CrowdSec): not again,
		 * or two hosts would keep an entry alive for each other */
		if (mx_entry_follows_source(e) ||
		    foreign_refuses(w, &fo, &e->net, p->tag) ||
		    holds_exception(want, nwant, &e->net)) {
			(*nskipped)++;
			continue;
		}
		have = foreign_find(&fo, &e->net);
		e->origin = MX_ORIGIN_DYNAMIC;
		e->added = have ? have->added : w->now;
		e->expires = 0;
		snprintf(tags, sizeof(tags), "%s", p->tag);
		/* the peer's reasons, as many as fit */
		for (char *s = e->tags, *t; *s; s = t) {
			char one[MX_TAGS_LEN];
			size_t l = strcspn(s, ",");

			t = s + l + (s[l] == ',');
			snprintf(one, sizeof(one), "%.*s", (int)l, s);
			if (strcmp(one, "a") && strcmp(one, "static"))
				mx_tags_add(tags, sizeof(tags), one);
		}
		memcpy(e->tags, tags, sizeof(tags));
		if (have && !strcmp(have->tags, e->tags))
			continue; /* already there as it is */
		add[nadd++] = *e;
	}
	/* what the peer no longer lists */
	for (i = 0; i < fo.nrows; i++) {
		bool keep = false;
		size_t k;

		if (!has_tag(&fo.rows[i], p->tag))
			continue;
		for (k = 0; k < nwant && !keep; k++)
			keep = want[k].action == MX_ACT_DROP &&
			       !cidr_cmp(&want[k].net, &fo.rows[i].net) &&
			       has_tag(&want[k], p->tag);
		if (!keep)
			del[ndel++] = fo.rows[i].net;
	}
	err = nadd || ndel ? be_apply(w, add, nadd, del, ndel) : 0;
	if (!err) {
		*nadded = nadd;
		*nremoved = ndel;
	}
	foreign_free(&fo);
	free(add);
	free(del);
	return err;
}

static void peer_log_once(struct peer *p, const char *msg)
{
	if (!strcmp(p->last_err, msg))
		return;
	snprintf(p->last_err, sizeof(p->last_err), "%.700s", msg);
	log_warn("peer %s: %s", p->name, msg);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* settled - the file looks as it did at the last look */
static bool settled(struct peer *p, const struct stat *st)
{
	bool same = p->have_seen && same_file(st, &p->seen);

	p->seen = *st;
	p->have_seen = true;
	return same;
}

static void peer_check(struct watch *w, struct peer *p)
{
	size_t nadd, ndel, nskip, n = 0;
	struct mx_entry *want = NULL;
	char err[512];
	struct stat st;
	int rc;

	if (stat(p->path, &st)) {
		snprintf(err, sizeof(err),
			 "%.300s: %s (the last set stays until it "
			 "is import_max_age old)",
			 p->path, strerror(errno));
		peer_log_once(p, err);
	} else if ((!p->have_stat || !same_file(&st, &p->st)) &&
		   !settled(p, &st)) {
		/* changed since the last look: a writer may still be at
		 * it; read it when it stood still for one look */
	} else if (!p->have_stat || !same_file(&st, &p->st)) {
		rc = import_read(p->fmt, p->path, &want, &n, NULL, err,
				 sizeof(err));
		p->st = st;
		p->have_stat = true;
		if (rc) {
			char msg[768];

			snprintf(msg, sizeof(msg),
				 "%.600s (the previous set stays in place)",
				 err);
			peer_log_once(p, msg);
		} else if (n > w->cfg.import_max) {
			snprintf(err, sizeof(err),
				 "%.300s: %zu entries, over import_max (%llu): "
				 "refused whole",
				 p->path, n,
				 (unsigned long long)w->cfg.import_max);
			peer_log_once(p, err);
		} else if (st.st_mtime + (int64_t)w->cfg.import_max_age <
			   w->now) {
			snprintf(err, sizeof(err),
				 "%.300s: not refreshed for import_max_age: "
				 "not applied",
				 p->path);
			peer_log_once(p, err);
			/* what an earlier run took from it goes too */
			p->fresh_at = st.st_mtime;
		} else {
			rc = peer_apply(w, p, want, n, &nadd, &ndel, &nskip);
			if (rc) {
				snprintf(err, sizeof(err),
					 "cannot apply %.300s: %s (will try "
					 "again)",
					 p->path, backend_strerror(rc));
				peer_log_once(p, err);
				p->have_stat = false;
			} else {
				p->last_err[0] = '\0';
				p->fresh_at = st.st_mtime;
				p->expired = false;
				log_info("peer %s: %s: %zu entries, %zu added "
					 "or changed, %zu removed, %zu "
					 "not applied (protected, local, "
					 "allowed or excepted)",
					 p->name, p->path, n, nadd, ndel,
					 nskip);
			}
		}
		free(want);
	}
	/* a peer that stopped refreshing its file takes its entries along */
	if (p->fresh_at && !p->expired &&
	    p->fresh_at + (int64_t)w->cfg.import_max_age < w->now) {
		rc = peer_apply(w, p, NULL, 0, &nadd, &ndel, &nskip);
		if (!rc) {
			p->expired = true;
			log_warn("peer %s: %s not refreshed for %llus "
				 "(import_max_age): %zu entries removed",
				 p->name, p->path,
				 (unsigned long long)w->cfg.import_max_age,
				 ndel);
		}
	}
}

void fleet_tick(struct watch *w)
{
	struct fleet *f = w->fleet;
	size_t i;

	if (!f)
		return;
	if (w->have_be && !w->dry_run) {
		for (i = 0; i < f->npeers; i++) {
			struct peer *p = &f->peers[i];

			if (mono_ms() - p->last_check < PEER_CHECK_MS)
				continue;
			p->last_check = mono_ms();
			peer_check(w, p);
		}
	}
	export_tick(w);
}
