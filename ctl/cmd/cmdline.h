/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmdline.h - what the command handlers share when they read their
 * arguments: CIDR and tag arguments, and opening the backend with a message a
 * user can act on. Callers: cmd_iface.c, cmd_entries.c (and any later command).
 */
#ifndef MXWALL_CMDLINE_H
#define MXWALL_CMDLINE_H

#include <stddef.h>

#include "backend/backend.h"
#include "core/cidr.h"

/*
 * cmd_parse_cidrs - argv[0..argc) as CIDRs (netblocks allowed); a bad one
 * is a usage error naming it (exit 2); host bits under the mask are cleared
 * with a warning. Returns an array the caller frees (NULL when argc == 0).
 */
struct cidr *cmd_parse_cidrs(const char *cmd, int argc, char **argv);
/*
 * cmd_add_tags - add a --tag value (one tag or a comma list) to tags;
 * a tag is 1..32 characters of [A-Za-z0-9._:-]. Usage error otherwise.
 */
void cmd_add_tags(const char *cmd, char *tags, size_t len, const char *arg);
/*
 * cmd_backend_opts - the global options (--pin-dir, --state-dir,
 * --backend) as the backend's front door takes them
 */
struct backend_opts cmd_backend_opts(void);
/*
 * cmd_open - backend_open(); on failure log "CMD: words" and return
 * EXIT_RUNTIME, else 0.
 */
int cmd_open(const char *cmd, struct backend *be, unsigned int flags);

#endif /* MXWALL_CMDLINE_H */
