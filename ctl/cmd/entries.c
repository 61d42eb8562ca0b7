// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_entries.c - the commands that change or show the entries: block,
 * allow, unblock, list, load, flush, top.
 *
 * Every command reads all of its arguments (and `load` its whole file)
 * before it opens the backend, so a usage error or a bad line changes
 * nothing. Mutating commands hold the backend lock (BE_LOCK) and hand the
 * backend one apply() call, which is all or nothing.
 *
 * Origins: `block` makes dynamic entries unless --static (the weekly reset
 * removes them); `allow` makes static entries unless --dynamic, because an
 * exception should outlive the reset of the blocks around it; `load` makes
 * static entries unless --dynamic.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "cmd/cli.h"
#include "cmd/cmdline.h"
#include "cmd/commands.h"
#include "core/listfile.h"
#include "fleet/export.h"
#include "fleet/import.h"
#include "core/mxwall.h"
#include "report/table.h"

/* apply_or_fail - one apply(); logs and returns the exit status */
static int apply_or_fail(const char *cmd, struct backend *be,
			 const struct mx_entry *add, size_t nadd,
			 const struct cidr *del, size_t ndel)
{
	int err = backend_apply_journaled(be, add, nadd, del, ndel);

	if (err) {
		log_err("%s: %s (nothing was changed)", cmd,
			backend_strerror(err));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* dump_or_fail - every entry with its counters, or log and fail */
static int dump_or_fail(const char *cmd, struct backend *be,
			struct mx_entry **rows, size_t *n)
{
	int err = be->ops->dump(be, rows, n);

	if (err) {
		log_err("%s: cannot read the entries: %s", cmd,
			backend_strerror(err));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* add_entries - block and allow: same shape, different defaults */
static int entry_net_cmp(const void *a, const void *b)
{
	return cidr_cmp(&((const struct mx_entry *)a)->net,
			&((const struct mx_entry *)b)->net);
}

static const char *origin_name(int origin)
{
	return origin == MX_ORIGIN_STATIC ? "static" : "dynamic";
}

/*
 * keep_existing - adding over entries that are there: an entry keeps its
 * origin unless the command asked for one (the core list must not turn
 * dynamic and go with the weekly reset because a tag was added), its tags
 * are merged with the new ones, and the user is told what changed: one
 * line per entry for a few, a summary for many.
 */
static int keep_existing(const char *cmd, struct backend *be,
			 struct mx_entry *add, size_t n, bool origin_asked)
{
	struct mx_entry *rows = NULL, *old;
	char net[CIDR_STRLEN], tags[MX_TAGS_LEN];
	size_t nrows = 0, i, found = 0, kept = 0, merged = 0;
	int rc;

	rc = dump_or_fail(cmd, be, &rows, &nrows);
	if (rc)
		return rc;
	qsort(rows, nrows, sizeof(*rows), entry_net_cmp);
	for (i = 0; i < n; i++) {
		old =
		    bsearch(&add[i], rows, nrows, sizeof(*rows), entry_net_cmp);
		if (!old)
			continue;
		found++;
		cidr_format(&add[i].net, net, sizeof(net));
		if (!origin_asked && old->origin != add[i].origin) {
			add[i].origin = old->origin;
			kept++;
		}
		snprintf(tags, sizeof(tags), "%s", old->tags);
		if (add[i].tags[0]) {
			char copy[MX_TAGS_LEN], *save = NULL, *t;

			snprintf(copy, sizeof(copy), "%s", add[i].tags);
			for (t = strtok_r(copy, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				if (mx_tags_add(tags, sizeof(tags), t)) {
					log_err("%s: %s: its tags and the new "
						"ones do not fit in %d bytes "
						"(nothing was changed)",
						cmd, net, MX_TAGS_LEN - 1);
					free(rows);
					return EXIT_RUNTIME;
				}
		}
		if (strcmp(tags, old->tags))
			merged++;
		snprintf(add[i].tags, sizeof(add[i].tags), "%s", tags);
		if (n <= 10)
			log_info("%s: %s was already an entry (%s%s%s): "
				 "%s %s%s%s",
				 cmd, net, origin_name(old->origin),
				 old->tags[0] ? ", tags " : "", old->tags,
				 add[i].origin == old->origin ? "kept" : "now",
				 origin_name(add[i].origin),
				 tags[0] ? ", tags " : "", tags);
	}
	if (n > 10 && found)
		log_info("%s: %zu of the entries were there already: %zu kept "
			 "their origin (static stays static), %zu got more "
			 "tags",
			 cmd, found, kept, merged);
	free(rows);
	return EXIT_OK;
}

static int add_entries(int argc, char **argv, enum mx_action action)
{
	const char *cmd = argv[0];
	bool is_block = action == MX_ACT_DROP, stat = !is_block,
	     observe = false;
	bool seen_static = false, seen_dynamic = false;
	char tags[MX_TAGS_LEN] = "";
	uint64_t ttl = 0;
	struct mx_entry *add = NULL;
	struct backend be;
	struct cidr *nets;
	int c, i, n, rc;
	time_t now;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'd':
			seen_dynamic = true;
			stat = false;
			break;
		case 'o':
			observe = true;
			break;
		case 's':
			seen_static = true;
			stat = true;
			break;
		case 't':
			cmd_add_tags(cmd, tags, sizeof(tags), optarg);
			break;
		case 'T':
			if (parse_duration(optarg, &ttl) || ttl == 0)
				log_usage("%s: --ttl %s: expected a duration "
					  "such as 90s, 15m, 2h, 30d or 1w",
					  cmd, optarg);
			break;
		}
	}
	if (seen_static && seen_dynamic)
		log_usage("%s: --static and --dynamic exclude each other", cmd);
	n = argc - optind;
	if (n <= 0)
		log_usage("%s: missing CIDR (see 'mxwall %s --help')", cmd,
			  cmd);
	nets = cmd_parse_cidrs(cmd, n, argv + optind);

	now = time(NULL);
	add = xcalloc((size_t)n, sizeof(*add));
	for (i = 0; i < n; i++) {
		add[i].net = nets[i];
		add[i].action = (uint8_t)action;
		add[i].origin = stat ? MX_ORIGIN_STATIC : MX_ORIGIN_DYNAMIC;
		add[i].observe = observe;
		memcpy(add[i].tags, tags, sizeof(tags));
		add[i].added = now;
		add[i].expires = ttl ? now + (int64_t)ttl : 0;
	}
	free(nets);
	rc = cmd_open(cmd, &be, BE_LOCK);
	if (rc == EXIT_OK) {
		rc = keep_existing(cmd, &be, add, (size_t)n,
				   seen_static || seen_dynamic);
		if (rc == EXIT_OK)
			rc = apply_or_fail(cmd, &be, add, (size_t)n, NULL, 0);
		backend_close(&be);
	}
	free(add);
	return rc;
}

int cmd_block(int argc, char **argv)
{
	return add_entries(argc, argv, MX_ACT_DROP);
}

int cmd_allow(int argc, char **argv)
{
	return add_entries(argc, argv, MX_ACT_ALLOW);
}

/* find_entry - the entry for exactly net, or NULL */
static const struct mx_entry *find_entry(const struct mx_entry *rows, size_t n,
					 const struct cidr *net)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!cidr_cmp(&rows[i].net, net))
			return &rows[i];
	return NULL;
}

/* covering - the longest entry that contains net, or NULL */
static const struct mx_entry *covering(const struct mx_entry *rows, size_t n,
				       const struct cidr *net)
{
	const struct mx_entry *best = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_contains(&rows[i].net, net) &&
		    (!best || rows[i].net.plen > best->net.plen))
			best = &rows[i];
	return best;
}

int cmd_unblock(int argc, char **argv)
{
	const char *cmd = argv[0];
	char a[CIDR_STRLEN], b[CIDR_STRLEN];
	const char *conf = NULL;
	uint64_t pardon = 0;
	const struct mx_entry *cov;
	struct mx_entry *rows = NULL;
	struct backend be;
	struct cidr *nets;
	size_t nrows = 0;
	int c, i, n, rc;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'p':
			if (parse_duration(optarg, &pardon) || pardon == 0)
				log_usage(
				    "%s: --pardon %s: expected a duration "
				    "such as 90s, 15m, 2h, 30d or 1w",
				    cmd, optarg);
			break;
		}
	}
	n = argc - optind;
	if (n <= 0)
		log_usage("%s: missing CIDR (see 'mxwall %s --help')", cmd,
			  cmd);
	if (conf && !pardon)
		log_usage("%s: --config goes with --pardon", cmd);
	nets = cmd_parse_cidrs(cmd, n, argv + optind);
	if (pardon) {
		rc = cmd_unblock_pardon(cmd, nets, n, pardon, conf);
		free(nets);
		return rc;
	}
	rc = cmd_open(cmd, &be, BE_LOCK);
	if (rc)
		goto out;
	rc = dump_or_fail(cmd, &be, &rows, &nrows);
	if (rc)
		goto out_close;
	for (i = 0; i < n; i++) {
		if (find_entry(rows, nrows, &nets[i]))
			continue;
		cov = covering(rows, nrows, &nets[i]);
		if (cov)
			log_err("%s: %s is not an entry (it is inside %s; "
				"nothing was changed)",
				cmd, cidr_format(&nets[i], a, sizeof(a)),
				cidr_format(&cov->net, b, sizeof(b)));
		else
			log_err("%s: %s is not an entry (nothing was changed)",
				cmd, cidr_format(&nets[i], a, sizeof(a)));
		rc = EXIT_RUNTIME;
		goto out_close;
	}
	rc = apply_or_fail(cmd, &be, NULL, 0, nets, (size_t)n);
	if (rc == EXIT_OK)
		cmd_unblock_record(cmd, nets, n);
out_close:
	backend_close(&be);
out:
	free(rows);
	free(nets);
	return rc;
}

/* keep_origin - filter rows in place; origin 0 keeps everything */
static size_t keep_origin(struct mx_entry *rows, size_t n, int origin)
{
	size_t i, out = 0;

	if (!origin)
		return n;
	for (i = 0; i < n; i++)
		if (rows[i].origin == origin)
			rows[out++] = rows[i];
	return out;
}

int cmd_list(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct mx_entry *rows = NULL;
	struct backend be;
	bool json = false, plain = false;
	int c, rc, origin = 0;
	size_t n = 0;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'd':
		case 's':
			if (origin)
				log_usage("%s: --static and --dynamic exclude "
					  "each other",
					  cmd);
			origin =
			    c == 's' ? MX_ORIGIN_STATIC : MX_ORIGIN_DYNAMIC;
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			plain = true;
			break;
		}
	}
	if (json && plain)
		log_usage("%s: --json and --plain exclude each other", cmd);
	if (optind < argc)
		log_usage("%s: %s: unexpected argument", cmd, argv[optind]);
	rc = cmd_open(cmd, &be, 0);
	if (rc)
		return rc;
	rc = dump_or_fail(cmd, &be, &rows, &n);
	backend_close(&be);
	if (rc)
		return rc;
	n = keep_origin(rows, n, origin);
	table_sort_address(rows, n);
	if (plain) {
		/* the export's plain format: `load --format plain` reads it
		 * back with its tags and origins */
		struct export_opts o = {.format = EXPORT_PLAIN,
					.now = time(NULL)};
		struct export_stats st;
		char err[128];

		export_write(stdout, rows, n, &o, &st, err, sizeof(err));
	} else if (json) {
		table_print_json(stdout, rows, n);
	} else {
		table_print(stdout, rows, n);
	}
	free(rows);
	return EXIT_OK;
}

/* merge_tags - the --tag list into an entry's own tags from the file */
static int merge_tags(const char *cmd, struct mx_entry *e, const char *tags)
{
	char copy[MX_TAGS_LEN], *save = NULL, *t;
	char host[CIDR_STRLEN];

	snprintf(copy, sizeof(copy), "%s", tags);
	for (t = strtok_r(copy, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		if (mx_tags_add(e->tags, sizeof(e->tags), t)) {
			log_err("%s: %s: the tags do not fit in %d bytes "
				"(nothing was loaded)",
				cmd, cidr_format(&e->net, host, sizeof(host)),
				MX_TAGS_LEN - 1);
			return -ENOSPC;
		}
	}
	return 0;
}

static void load_warn(const char *msg, void *arg)
{
	(void)arg;
	log_warn("%s", msg);
}

int cmd_load(int argc, char **argv)
{
	const char *cmd = argv[0];
	char tags[MX_TAGS_LEN] = "", err[512];
	struct mx_entry *add = NULL;
	struct cidr *nets = NULL;
	bool dynamic = false, formatted = false;
	enum import_format fmt = IMPORT_PLAIN;
	struct backend be;
	size_t n = 0, i;
	const char *path;
	int c, rc;
	time_t now;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'd':
			dynamic = true;
			break;
		case 'f':
			if (import_parse_format(optarg, &fmt))
				log_usage("%s: --format: '%s' is not plain, "
					  "rbldnsd, zone or drop-json",
					  cmd, optarg);
			formatted = true;
			break;
		case 't':
			cmd_add_tags(cmd, tags, sizeof(tags), optarg);
			break;
		}
	}
	if (optind >= argc)
		log_usage("%s: missing FILE (see 'mxwall %s --help')", cmd,
			  cmd);
	if (argc - optind > 1)
		log_usage("%s: %s: unexpected argument (one FILE at a time)",
			  cmd, argv[optind + 1]);
	path = argv[optind];
	now = time(NULL);
	if (formatted) {
		bool marked = false;

		if (import_read(fmt, path, &add, &n, &marked, err,
				sizeof(err))) {
			log_err("%s (nothing was loaded)", err);
			return EXIT_RUNTIME;
		}
		for (i = 0; i < n; i++) {
			/* an mxwall export says each entry's origin */
			if (dynamic || !marked)
				add[i].origin = dynamic ? MX_ORIGIN_DYNAMIC
							: MX_ORIGIN_STATIC;
			if (tags[0] && merge_tags(cmd, &add[i], tags)) {
				free(add);
				return EXIT_RUNTIME;
			}
			add[i].added = now;
		}
	} else {
		if (listfile_read(path, &nets, &n, load_warn, NULL, err,
				  sizeof(err))) {
			log_err("%s (nothing was loaded)", err);
			return EXIT_RUNTIME;
		}
		add = xcalloc(n, sizeof(*add));
		for (i = 0; i < n; i++) {
			add[i].net = nets[i];
			add[i].action = MX_ACT_DROP;
			add[i].origin =
			    dynamic ? MX_ORIGIN_DYNAMIC : MX_ORIGIN_STATIC;
			if (tags[0])
				memcpy(add[i].tags, tags, sizeof(tags));
			add[i].added = now;
		}
		free(nets);
	}
	rc = cmd_open(cmd, &be, BE_LOCK);
	if (rc == EXIT_OK) {
		/* --dynamic is for the new entries: the core list stays */
		if (n)
			rc = keep_existing(cmd, &be, add, n, false);
		if (n && rc == EXIT_OK)
			rc = apply_or_fail(cmd, &be, add, n, NULL, 0);
		backend_close(&be);
	}
	if (rc == EXIT_OK)
		log_info("%s: %zu entr%s from %s", cmd, n, n == 1 ? "y" : "ies",
			 path);
	free(add);
	return rc;
}

int cmd_flush(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct mx_entry *rows = NULL;
	struct cidr *del = NULL;
	size_t n = 0, ndel = 0, i;
	struct backend be;
	int c, rc, which = 0;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'a':
		case 'd':
			if (which && which != c)
				log_usage("%s: --dynamic and --all exclude "
					  "each other",
					  cmd);
			which = c;
			break;
		}
	}
	if (optind < argc)
		log_usage("%s: %s: unexpected argument", cmd, argv[optind]);
	if (!which)
		log_usage("%s: say --dynamic or --all", cmd);
	rc = cmd_open(cmd, &be, BE_LOCK);
	if (rc)
		return rc;
	rc = dump_or_fail(cmd, &be, &rows, &n);
	if (rc)
		goto out;
	del = xcalloc(n, sizeof(*del));
	for (i = 0; i < n; i++)
		if (which == 'a' || rows[i].origin != MX_ORIGIN_STATIC)
			del[ndel++] = rows[i].net;
	if (ndel)
		rc = apply_or_fail(cmd, &be, NULL, 0, del, ndel);
	if (rc == EXIT_OK)
		log_info("%s: removed %zu entr%s", cmd, ndel,
			 ndel == 1 ? "y" : "ies");
out:
	backend_close(&be);
	free(del);
	free(rows);
	return rc;
}

int cmd_top(int argc, char **argv)
{
	const char *cmd = argv[0];
	unsigned int v4len = 0, v6len = 0;
	struct mx_entry *rows = NULL;
	uint64_t top = 20;
	struct backend be;
	bool json = false, by = false;
	size_t n = 0;
	int c, rc;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'b':
			if (table_parse_by(optarg, &v4len, &v6len))
				log_usage(
				    "%s: --by %s: expected /24, /16 or /48",
				    cmd, optarg);
			by = true;
			break;
		case 'j':
			json = true;
			break;
		case 'n':
			if (parse_u64(optarg, 0, 100000000, &top))
				log_usage(
				    "%s: -n %s: expected a number of rows", cmd,
				    optarg);
			break;
		}
	}
	if (optind < argc)
		log_usage("%s: %s: unexpected argument", cmd, argv[optind]);
	rc = cmd_open(cmd, &be, 0);
	if (rc)
		return rc;
	rc = dump_or_fail(cmd, &be, &rows, &n);
	backend_close(&be);
	if (rc)
		return rc;
	if (by)
		n = table_aggregate(rows, n, v4len, v6len);
	table_sort_packets(rows, n);
	if (top && n > top)
		n = (size_t)top;
	if (json)
		table_print_json(stdout, rows, n);
	else
		table_print(stdout, rows, n);
	free(rows);
	return EXIT_OK;
}
