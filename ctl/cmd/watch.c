// SPDX-License-Identifier: GPL-2.0
/*
 * watch.c - `mxwall watch`: its command line (the options are in cli.c),
 * then the controller's run (watch/loop.c).
 */
#include <getopt.h>

#include "cmd/cli.h"
#include "cmd/cmdline.h"
#include "cmd/commands.h"
#include "core/mxwall.h"
#include "watch/watch.h"

int cmd_watch(int argc, char **argv)
{
	struct watch_opts o = {.be = cmd_backend_opts(),
			       .conf_path = MX_CONF_DEFAULT};
	bool check = false;
	size_t i;
	int c;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'c':
			o.conf_path = optarg;
			o.conf_given = true;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'k':
			check = true;
			break;
		}
	}
	o.logs = argv + optind;
	o.nlogs = (size_t)(argc - optind);
	for (i = 0; i < o.nlogs; i++)
		if (!o.logs[i][0])
			log_usage("watch: empty LOGFILE argument");
	if (check) /* = mxwall check */
		return check_run(o.conf_path, o.conf_given, o.logs, o.nlogs);
	return watch_run(&o);
}
