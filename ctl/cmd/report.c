// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - the command lines of `mxwall report`, `mxwall stats
 * persistence` and `mxwall metrics` (their options are in cli.c); the
 * work is report/report.c, report/stats.c and report/metrics.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "cmd/cli.h"
#include "cmd/cmdline.h"
#include "cmd/commands.h"
#include "core/config.h"
#include "core/db.h"
#include "core/mxwall.h"
#include "report/metrics.h"
#include "report/report.h"
#include "report/stats.h"
#include "report/table.h"

int cmd_report(int argc, char **argv)
{
	const char *cmd = argv[0], *conf = NULL;
	struct report_opts o = {0};
	char rdir[4096];
	struct mx_config cfg;
	struct mx_db *db = NULL;
	struct backend be;
	bool top_given = false;
	int c, rc;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'b':
			if (table_parse_by(optarg, &o.v4len, &o.v6len))
				log_usage(
				    "%s: --by %s: expected /24, /16 or /48",
				    cmd, optarg);
			o.by = optarg;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'n':
			if (parse_u64(optarg, 0, 100000000, &o.top))
				log_usage(
				    "%s: -n %s: expected a number of rows", cmd,
				    optarg);
			top_given = true;
			break;
		case 'o':
			if (!*optarg)
				log_usage("%s: --out: empty file name", cmd);
			o.out = optarg;
			break;
		case 'r':
			o.reset = true;
			break;
		}
	}
	if (optind < argc)
		log_usage("%s: %s: unexpected argument", cmd, argv[optind]);
	rc = report_load_config(cmd, conf, &cfg);
	if (rc)
		return rc;
	if (!top_given)
		o.top = cfg.report_top;
	o.state_dir = mx_opt.state_dir;
	if (cfg.report_dir) {
		snprintf(rdir, sizeof(rdir), "%s", cfg.report_dir);
	} else if (path_join(rdir, sizeof(rdir), mx_opt.state_dir, "reports")) {
		log_err("%s: state directory path too long", cmd);
		config_free(&cfg);
		return EXIT_RUNTIME;
	}
	o.report_dir = rdir;
	o.mail_to = cfg.report_mail_to;
	o.sendmail = cfg.sendmail;
	rc = report_open_db(cmd, mx_opt.state_dir, &cfg, o.reset, &db);
	if (!rc)
		rc = cmd_open(cmd, &be, o.reset ? BE_LOCK : 0);
	if (!rc) {
		rc = report_run(&o, &be, db);
		backend_close(&be);
	}
	if (db)
		db_close(db);
	config_free(&cfg);
	return rc;
}

int cmd_stats(int argc, char **argv)
{
	const char *cmd = "stats persistence", *conf = NULL;
	uint64_t days = STATS_DAYS_DEFAULT;
	bool json = false;
	int c;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			if (parse_u64(optarg, 1, 36500, &days))
				log_usage("%s: --days %s: expected 1 to 36500",
					  cmd, optarg);
			break;
		case 'j':
			json = true;
			break;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "persistence"))
		log_usage(
		    "stats: %s: unknown statistic (expected 'persistence')",
		    optind >= argc ? "(none)" : argv[optind]);
	if (optind + 1 < argc)
		log_usage("%s: %s: unexpected argument", cmd, argv[optind + 1]);
	return stats_run(mx_opt.state_dir, conf, days, json);
}

int cmd_metrics(int argc, char **argv)
{
	const char *cmd = argv[0], *conf = NULL, *out = NULL;
	struct backend_opts bo;
	int c;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'o':
			if (!*optarg)
				log_usage("%s: --out: empty file name", cmd);
			out = optarg;
			break;
		}
	}
	if (optind < argc)
		log_usage("%s: %s: unexpected argument", cmd, argv[optind]);
	bo = cmd_backend_opts();
	return metrics_run(&bo, conf, out);
}
