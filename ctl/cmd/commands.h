/* SPDX-License-Identifier: GPL-2.0 */
/*
 * commands.h - one handler per command; each reads its options with
 * cli_getopt() (the table in cli.c, which prints --help) and returns the
 * exit status (0, 1 or 2).
 */
#ifndef MXWALL_COMMANDS_H
#define MXWALL_COMMANDS_H

#include <stdint.h>

int cmd_attach(int argc, char **argv); /* cmd_iface.c */
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_block(int argc, char **argv); /* cmd_entries.c */
int cmd_allow(int argc, char **argv);
int cmd_unblock(int argc, char **argv);
/* pardon.c: unblock --pardon (nets parsed, secs > 0, conf may be NULL) */
struct cidr;
int cmd_unblock_pardon(const char *cmd, const struct cidr *nets, int n,
		       uint64_t secs, const char *conf);
/* pardon.c: after an unblock, the watcher's entries end as "unblocked" */
void cmd_unblock_record(const char *cmd, const struct cidr *nets, int n);
int cmd_list(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_flush(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_scan(int argc, char **argv);	/* cmd_scan.c */
int cmd_watch(int argc, char **argv);	/* watch/loop.c */
int cmd_report(int argc, char **argv);	/* report.c */
int cmd_stats(int argc, char **argv);	/* stats.c */
int cmd_metrics(int argc, char **argv); /* metrics.c */
int cmd_export(int argc, char **argv);	/* cmd/export.c */
int cmd_query(int argc, char **argv);	/* query.c (and `why`) */
int cmd_check(int argc, char **argv);	/* cmd/check.c */
/* check_run - what `check` and `watch --check` print; 0 or 1 */
#include <stdbool.h>
#include <stddef.h>
int check_run(const char *conf, bool conf_given, char **logs, size_t nlogs);

#endif /* MXWALL_COMMANDS_H */
