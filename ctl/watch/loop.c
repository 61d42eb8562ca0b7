// SPDX-License-Identifier: GPL-2.0
/*
 * loop.c - `mxwall watch`, the controller: follow the MTA's logs, keep a
 * window of rejection events per source, promote sources over a threshold
 * into the filter with tag `a` plus their reasons, expire them on time
 * (OpenBSD's spamd greyscan is the model: scan, decide, apply, log).
 *
 * What it promises (mxwall(8) "watch", mxwall.conf(5)):
 *  - Every line is counted once: events and read positions are committed
 *    in the same database transaction (batched, commit_interval), and a
 *    promotion commits at once.
 *  - It never blocks loopback, the machine's own addresses or anything in
 *    `allow`, never more than max_promotions_per_hour, and by default only
 *    a source with which the kernel completed an SMTP handshake within
 *    seen_max_age (require_seen, backend/wire.h): an address that someone
 *    else wrote into a log line, or a forged SYN, is not enough.
 *  - --dry-run opens the filter read-only and a private in-memory
 *    database: it logs what it would do and changes nothing.
 *  - SIGHUP reloads mxwall.conf and the static core list (a bad new config
 *    is logged and the old one kept); SIGTERM commits and exits 0.
 *
 * This file owns the run: options, setup (config, pidfile, database, the
 * filter through the backend's front door, privileges), the event loop
 * with its signals and timers, the SIGHUP reload and sd_notify. The parts:
 * logs.c (the followed logs, the journal, the reader process of reader.c),
 * sources.c (sources, tags), policy.c (the pure promotion policy), sync.c
 * (active set, filter sync, core list, database batching), fleet.c and
 * crowdsec.c (peers, exports, CrowdSec).
 *
 * Test hooks (core/testhook.h): fake_now replaces the clock (unix seconds,
 * or the path of a file holding them, read again on every turn of the
 * loop), so that tests move time forward without sleeping; reader_inline
 * parses the logs in this process.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/mxwall.h"
#include "core/privsep.h"
#include "core/testhook.h"
#include "watch/watch.h"
#include "watch/watch_int.h"

/* ---- clock ---- */

int64_t ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 +
	       (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void clock_update(struct watch *w)
{
	int64_t t;

	if (!w->fake_now)
		w->now = (int64_t)time(NULL);
	else if (!mx_fake_now(&t))
		w->now = t; /* unreadable for a moment: keep the last */
}

/* attached_update - is the filter on an interface? say so when not */
static void attached_update(struct watch *w, bool start)
{
	struct mx_status st;
	bool was = w->attached;

	if (!w->have_be)
		return;
	memset(&st, 0, sizeof(st));
	if (w->be.ops->status(&w->be, &st))
		return;
	w->attached = st.nifaces > 0;
	if (!w->attached && (was || start))
		log_warn("WARNING: the filter is not attached to any "
			 "interface: nothing is dropped (mxwall attach "
			 "IFACE, or interface = in mxwall.conf)");
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
	struct mx_dp_config dc, old;
	struct mx_status st;
	size_t i, k;
	bool fresh;
	int err;

	/* backend = of mxwall.conf, unless --backend was given */
	if (!w->bo.kind_given && w->cfg.backend != MX_BACKEND_AUTO) {
		w->bo.kind = w->cfg.backend;
		w->bo.kind_given = true;
	}
	err = backend_open(&w->be, &w->bo, w->dry_run ? 0 : BE_CREATE);
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
		goto said;
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
	dc = st.cfg;
	if (w->cfg.ports_set) {
		memcpy(dc.ports, w->cfg.ports, sizeof(dc.ports));
		dc.nports = w->cfg.nports;
	}
	dc.observe = w->cfg.observe;
	if (w->cfg.ports_set || w->cfg.observe != st.cfg.observe) {
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
		/* the front door: left to auto, nft where XDP cannot attach */
		err = backend_attach(&w->be, BE_CREATE | BE_LOCK, "watch",
				     w->cfg.ifaces[i], w->cfg.mode, &dc, &fresh,
				     &old);
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
	if (err)
		return err;
said:
	log_info("filter: %s backend (%s)", w->be.ops->name, w->be.why);
	return 0;
}

/*
 * setup_wire - attach the record of SMTP handshakes that require_seen
 * asks (an upgraded mxwall replaces its program here), with the filter's
 * port set. Without it nothing is promoted: say so, but keep watching.
 */
static int setup_wire(struct watch *w)
{
	int err;

	if (w->dry_run || !w->cfg.require_seen || !w->have_be)
		return 0;
	err = lock_take(w);
	if (err)
		return err;
	err = wire_follow(&w->be);
	lock_drop(w);
	if (err)
		log_err("cannot attach the record of SMTP handshakes: %s; no "
			"source is promoted while require_seen = yes",
			backend_strerror(err));
	return 0;
}

static int pidfile_open(struct watch *w)
{
	char buf[32], why[PATH_MAX + 128];
	int err, n;

	err = mkdir_private(w->bo.state_dir, 0700, why, sizeof(why));
	if (err) {
		log_err("%s", why);
		return err;
	}
	path_join(w->pid_path, sizeof(w->pid_path), w->bo.state_dir,
		  "watch.pid");
	w->pid_fd =
	    open(w->pid_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
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
	tags_configure(w);
	own_addrs_load(w);
	fleet_init(w); /* peers read again, the export rewritten */
	if (crowdsec_init(w) < 0)
		log_err("CrowdSec is off until its settings are fixed");
	save_positions(w);
	commit(w);
	followers_close(w);
	if (followers_open(w))
		log_err("reload: a log cannot be read (see above)");
	core_load(w);
}

int watch_run(const struct watch_opts *o)
{
	struct watch *w = xcalloc(1, sizeof(*w));
	char dbpath[4096], err[512];
	struct pollfd pfd[8];
	sigset_t mask;
	int c, sfd = -1, rc = EXIT_RUNTIME;
	size_t i, npfd;
	bool running = true, stalled;

	w->pid_fd = -1;
	w->bo = o->be;
	wire_reader_init(&w->wire, w->bo.pin_dir);
	w->conf_path = o->conf_path;
	w->conf_given = o->conf_given;
	w->dry_run = o->dry_run;
	w->cli_logs = o->logs;
	w->ncli_logs = o->nlogs;
	w->fake_now = mx_test_hook("fake_now");
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
	policy_guard_init(&w->guard);
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
	if (config_db_path(&w->cfg, w->bo.state_dir, dbpath, sizeof(dbpath))) {
		log_err("database path too long");
		goto out;
	}
	if (!w->dry_run && !w->cfg.db && mkdir_p(w->bo.state_dir, 0700)) {
		log_err("%s: cannot create", w->bo.state_dir);
		goto out;
	}
	if (db_open(dbpath, w->dry_run ? DB_MEMORY : 0, &w->db, err,
		    sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	/* a dry run honours the pardons given so far (unblock --pardon) */
	if (w->dry_run && !access(dbpath, F_OK) &&
	    db_open(dbpath, DB_READONLY, &w->pardon_db, err, sizeof(err)))
		log_warn("dry-run: pardons not read: %s", err);
	if (setup_filter(w) || setup_wire(w))
		goto out;
	/* the logs are parsed by a process that holds nothing (reader.h) */
	w->rd_journal = SIZE_MAX;
	w->inline_reader = mx_test_hook("reader_inline") != NULL;
	if (!w->inline_reader) {
		w->rd = reader_new();
		if (!w->rd) {
			log_err("cannot start the log reader: %s",
				strerror(errno));
			goto out;
		}
	}
	/* everything is open: the rest runs with what it needs (privsep.c) */
	c = privsep_drop();
	if (c)
		log_warn(
		    "cannot drop capabilities: %s; running with all of them",
		    strerror(-c));
	else
		log_debug("capabilities dropped");
	own_addrs_load(w);
	tags_configure(w);
	fleet_init(w);
	if (crowdsec_init(w) < 0) {
		log_err("watch: not starting: fix the CrowdSec settings");
		goto out;
	}

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

	attached_update(w, true);
	if (followers_open(w))
		goto out;
	logs_first(w, sfd);
	for (i = 0; i < w->rd_n; i++)
		if (i != w->rd_journal)
			log_info("following %s", strcmp(w->rd_paths[i], "-")
						     ? w->rd_paths[i]
						     : "stdin");
	for (i = 0; i < w->nfiles; i++)
		log_info("following %s", follow_is_stdin(w->files[i])
					     ? "stdin"
					     : follow_path(w->files[i]));
	if (w->jr)
		log_info("following the journal%s%s (%zu journal_match)",
			 w->cfg.journal_directory ? " in " : "",
			 w->cfg.journal_directory ? w->cfg.journal_directory
						  : "",
			 w->cfg.njournal_match);
	sd_notify_send("READY=1\nSTATUS=following the logs");

	while (running) {
		int timeout = fleet_timeout_ms(w);

		if (crowdsec_timeout_ms(w) < timeout)
			timeout = crowdsec_timeout_ms(w);

		if (w->dirty) {
			int64_t left = (int64_t)w->cfg.commit_interval_ms -
				       ms_since(&w->first_dirty);

			if (left < timeout)
				timeout = left < 0 ? 0 : (int)left;
		}
		/* the database refuses a commit (a full disk): read no more
		 * until it takes what was read, so nothing is lost or spins */
		stalled = db_stalled(w->db);
		if (w->jr_more && !stalled)
			timeout = 0;
		if (w->rd && !stalled)
			timeout = reader_timeout(w->rd, timeout);
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		npfd = 1;
		if (!stalled)
			npfd += logs_pollfds(w, pfd + 1, ARRAY_SIZE(pfd) - 2);
		if (!stalled && w->jr && journal_fd(w->jr) >= 0) {
			pfd[npfd].fd = journal_fd(w->jr);
			pfd[npfd++].events = POLLIN;
		}
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
		c = stalled ? 0 : logs_run(w);
		if (c < 0)
			break;
		if (w->jr && !stalled) {
			journal_process(w->jr);
			journal_run(w);
		}
		flush_pending(w);
		fleet_tick(w);
		crowdsec_tick(w);
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
			attached_update(w, false);
			logs_look(w);
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
		if (c == 1) {
			log_info("end of input");
			break;
		}
	}
	sd_notify_send("STOPPING=1");
	logs_stop(w);
	flush_pending(w);
	db_begin(w->db);
	save_positions(w);
	commit(w);
	log_info("stopped: %llu lines, %llu events, %llu sources forgotten "
		 "(flood), %llu journal entries not from the MTA (ignored)",
		 (unsigned long long)w->lines, (unsigned long long)w->events,
		 (unsigned long long)w->src_forgotten_all,
		 (unsigned long long)w->jr_untrusted);
	rc = EXIT_OK;
out:
	followers_close(w);
	reader_free(w->rd);
	db_close(w->db);
	db_close(w->pardon_db);
	if (w->have_be)
		backend_close(&w->be);
	wire_reader_close(&w->wire);
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
	free(w->rule_bit);
	free(w->act);
	free(w->pend);
	free(w->own);
	free(w->promo_times);
	fleet_free(w);
	crowdsec_free(w);
	config_free(&w->cfg);
	free(w);
	return rc;
}
