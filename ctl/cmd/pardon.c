// SPDX-License-Identifier: GPL-2.0
/*
 * pardon.c - `mxwall unblock CIDR... --pardon DURATION`: remove the entry
 * (when there is one) and keep the watcher from promoting the source again
 * for DURATION, whatever the log says.
 *
 * The pardon lives in the controller's database (the pardons table), not in
 * the filter: it survives a restart of the watcher and the weekly reset
 * (report --reset clears entries, never pardons), and the watcher asks the
 * database right before each promotion, so a pardon counts at once. It
 * never lets SYNs through on its own: `allow` is the permanent form, and a
 * pardoned host inside a blocked netblock stays blocked by it (a warning
 * says so).
 *
 * A plain `unblock` tells the watcher's database too (when there is one):
 * its entry for the CIDR ends as "unblocked", so that a later promotion is
 * a fresh one, not a repeat offence with a longer ttl.
 *
 * All or nothing: the pardons and the removal of the watcher's record are
 * written in one transaction, which is rolled back when the filter refuses
 * the change.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "cmd/cli.h"
#include "cmd/cmdline.h"
#include "cmd/commands.h"
#include "core/config.h"
#include "core/db.h"
#include "core/mxwall.h"
#include "report/report.h"

/* db_open_rw - the watcher's database, made when it is not there yet */
static int db_open_rw(const char *cmd, const struct mx_config *cfg,
		      struct mx_db **db)
{
	char path[4096], err[512];
	int e;

	if (config_db_path(cfg, mx_opt.state_dir, path, sizeof(path))) {
		log_err("%s: database path too long", cmd);
		return EXIT_RUNTIME;
	}
	if (!cfg->db && mkdir_p(mx_opt.state_dir, 0700)) {
		log_err("%s: %s: cannot create", cmd, mx_opt.state_dir);
		return EXIT_RUNTIME;
	}
	e = db_open(path, 0, db, err, sizeof(err));
	if (e) {
		log_err("%s: cannot open the database: %s", cmd, err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

void cmd_unblock_record(const char *cmd, const struct cidr *nets, int n)
{
	char path[4096], err[512], text[CIDR_STRLEN];
	struct mx_config cfg;
	struct mx_db *db = NULL;
	struct db_entry e;
	int64_t now = mx_now();
	int i;

	memset(&cfg, 0, sizeof(cfg));
	if (report_load_config(cmd, NULL, &cfg) ||
	    config_db_path(&cfg, mx_opt.state_dir, path, sizeof(path)) ||
	    access(path, F_OK))
		goto out; /* no watcher here: nothing to tell */
	if (db_open(path, 0, &db, err, sizeof(err))) {
		log_warn("%s: the watcher's database was not told: %s", cmd,
			 err);
		goto out;
	}
	if (db_begin(db))
		goto fail;
	for (i = 0; i < n; i++) {
		cidr_format(&nets[i], text, sizeof(text));
		if (!db_entry_last(db, text, &e) && !e.removed &&
		    db_entry_remove(db, e.id, now, "unblocked") == -EIO)
			goto fail;
	}
	if (!db_commit(db))
		goto out;
fail:
	log_warn("%s: the watcher's database was not told: %s", cmd,
		 db_errmsg(db));
	db_rollback(db);
out:
	db_close(db);
	config_free(&cfg);
}

int cmd_unblock_pardon(const char *cmd, const struct cidr *nets, int n,
		       uint64_t secs, const char *conf)
{
	struct mx_entry *rows = NULL;
	struct cidr *del = NULL;
	struct mx_config cfg;
	struct mx_db *db = NULL;
	struct backend be;
	char text[CIDR_STRLEN], net[CIDR_STRLEN], until[32];
	size_t nrows = 0, ndel = 0, k;
	int64_t now = mx_now();
	int i, rc, err;

	memset(&cfg, 0, sizeof(cfg));
	rc = report_load_config(cmd, conf, &cfg);
	if (rc)
		goto out_cfg;
	rc = cmd_open(cmd, &be, BE_LOCK);
	if (rc)
		goto out_cfg;
	err = be.ops->dump(&be, &rows, &nrows);
	if (err) {
		log_err("%s: cannot read the entries: %s", cmd,
			backend_strerror(err));
		rc = EXIT_RUNTIME;
		goto out_be;
	}
	rc = db_open_rw(cmd, &cfg, &db);
	if (rc)
		goto out_be;
	del = xcalloc((size_t)n, sizeof(*del));
	if (db_begin(db))
		goto db_fail;
	for (i = 0; i < n; i++) {
		struct db_pardon p = {.added = now};
		struct db_entry e;
		const struct mx_entry *cov = NULL;

		cidr_format(&nets[i], text, sizeof(text));
		snprintf(p.cidr, sizeof(p.cidr), "%s", text);
		p.until = now + (int64_t)secs;
		snprintf(p.by, sizeof(p.by), "unblock");
		if (db_pardon_set(db, &p))
			goto db_fail;
		for (k = 0; k < nrows; k++) {
			if (!cidr_cmp(&rows[k].net, &nets[i]))
				del[ndel++] = nets[i];
			else if (cidr_contains(&rows[k].net, &nets[i]) &&
				 rows[k].action == MX_ACT_DROP &&
				 (!cov || rows[k].net.plen > cov->net.plen))
				cov = &rows[k];
		}
		if (cov) /* another drop entry holds it, before or after */
			log_warn("%s: %s stays blocked by %s: a pardon only "
				 "stops promotions (use allow to let it "
				 "through)",
				 cmd, text,
				 cidr_format(&cov->net, net, sizeof(net)));
		/* the watcher's record of it ends here, not as a recidive */
		if (!db_entry_last(db, text, &e) && !e.removed &&
		    db_entry_remove(db, e.id, now, "pardoned") == -EIO)
			goto db_fail;
	}
	if (ndel) {
		err = backend_apply(&be, NULL, 0, del, ndel);
		if (err) {
			db_rollback(db);
			log_err("%s: %s (nothing was changed)", cmd,
				backend_strerror(err));
			rc = EXIT_RUNTIME;
			goto out;
		}
	}
	if (db_commit(db)) {
		log_err("%s: database: %s (the pardons were not recorded%s)",
			cmd, db_errmsg(db),
			ndel ? "; the entries are removed" : "");
		rc = EXIT_RUNTIME;
		goto out;
	}
	fmt_time_iso(now + (int64_t)secs, until, sizeof(until));
	for (i = 0; i < n; i++)
		log_info("%s: %s pardoned until %s", cmd,
			 cidr_format(&nets[i], text, sizeof(text)), until);
	rc = EXIT_OK;
	goto out;
db_fail:
	log_err("%s: database: %s (nothing was changed)", cmd, db_errmsg(db));
	db_rollback(db);
	rc = EXIT_RUNTIME;
out:
	db_close(db);
out_be:
	backend_close(&be);
out_cfg:
	free(del);
	free(rows);
	config_free(&cfg);
	return rc;
}
