/* SPDX-License-Identifier: GPL-2.0 */
/*
 * watch.h - the controller, `mxwall watch` (mxwall(8) "watch",
 * mxwall.conf(5)): what cmd/watch.c read from the command line, and the
 * run. Callers: cmd/watch.c.
 */
#ifndef MXWALL_WATCH_H
#define MXWALL_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"

struct watch_opts {
	/* --pin-dir, --state-dir, --backend; backend = of mxwall.conf
	 * counts when --backend is not given */
	struct backend_opts be;
	const char *conf_path; /* --config, or MX_CONF_DEFAULT */
	bool conf_given;       /* --config given: a missing file is an error */
	bool dry_run;	       /* --dry-run */
	char **logs; /* LOGFILE... ("-" is stdin); none: the config's */
	size_t nlogs;
};

/* watch_run - run until SIGTERM or the end of stdin; the exit status */
int watch_run(const struct watch_opts *o);

#endif /* MXWALL_WATCH_H */
