// SPDX-License-Identifier: GPL-2.0
/*
 * export.c - `mxwall export`: the entries as a file other hosts read
 * (fleet/export.c writes the formats; docs/fleet.md shows the setups).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "backend/backend.h"
#include "cmd/cli.h"
#include "cmd/cmdline.h"
#include "cmd/commands.h"
#include "core/mxwall.h"
#include "fleet/export.h"

static int parse_family(const char *cmd, const char *s)
{
	if (!strcmp(s, "4"))
		return AF_INET;
	if (!strcmp(s, "6"))
		return AF_INET6;
	log_usage("%s: --family: '%s' is not 4 or 6", cmd, s);
}

/* a zone name: labels of [A-Za-z0-9-_], no empty label, no trailing dot */
static bool zone_name_ok(const char *z)
{
	size_t l = 0;

	if (!*z || strlen(z) > 200)
		return false;
	for (; *z; z++) {
		if (*z == '.') {
			if (!l)
				return false;
			l = 0;
			continue;
		}
		if (!((*z >= 'a' && *z <= 'z') || (*z >= 'A' && *z <= 'Z') ||
		      (*z >= '0' && *z <= '9') || *z == '-' || *z == '_'))
			return false;
		if (++l > 63)
			return false;
	}
	return l > 0;
}

int cmd_export(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct export_opts o = {.format = EXPORT_RBLDNSD};
	struct export_stats st;
	struct mx_entry *rows = NULL;
	const char *out = NULL;
	char err[256], *buf = NULL;
	struct backend be;
	size_t n = 0, len = 0;
	bool family_given = false;
	FILE *f;
	int c, rc;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'd':
		case 's':
			if (o.select != EXPORT_ALL)
				log_usage("%s: --static and --dynamic exclude "
					  "each other",
					  cmd);
			o.select = c == 's' ? EXPORT_STATIC : EXPORT_DYNAMIC;
			break;
		case 'F':
			o.family = parse_family(cmd, optarg);
			family_given = true;
			break;
		case 'f':
			if (export_parse_format(optarg, &o.format))
				log_usage("%s: --format: '%s' is not rbldnsd, "
					  "zone, plain or json",
					  cmd, optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'z':
			if (!zone_name_ok(optarg))
				log_usage("%s: --zone: '%s' is not a domain "
					  "name",
					  cmd, optarg);
			o.zone = optarg;
			break;
		}
	}
	if (optind < argc)
		log_usage("%s: %s: unexpected argument", cmd, argv[optind]);
	if (o.format == EXPORT_ZONE && !o.zone)
		log_usage("%s: the zone format needs --zone NAME", cmd);
	if (o.format == EXPORT_ZONE && !family_given)
		o.family = AF_INET;
	rc = cmd_open(cmd, &be, 0);
	if (rc)
		return rc;
	rc = be.ops->dump(&be, &rows, &n);
	backend_close(&be);
	if (rc) {
		log_err("%s: cannot read the entries: %s", cmd,
			backend_strerror(rc));
		return EXIT_RUNTIME;
	}
	o.now = time(NULL);
	if (o.format == EXPORT_ZONE)
		o.serial = export_next_serial(out ? export_read_serial(out) : 0,
					      o.now);
	f = open_memstream(&buf, &len);
	if (!f)
		log_fatal("%s: out of memory", cmd);
	rc = export_write(f, rows, n, &o, &st, err, sizeof(err));
	free(rows);
	if (fclose(f) || rc) {
		log_err("%s: %s", cmd, rc ? err : "out of memory");
		free(buf);
		return rc == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	}
	if (st.expanded)
		log_warn("%s: %zu netblock%s off an %s boundary written as "
			 "several wildcards",
			 cmd, st.expanded, st.expanded == 1 ? "" : "s",
			 o.family == AF_INET6 ? "nibble" : "octet");
	if (st.too_wide)
		log_warn("%s: %zu netblock%s too wide for wildcards (more than "
			 "%d names) left out of the zone",
			 cmd, st.too_wide, st.too_wide == 1 ? "" : "s",
			 EXPORT_MAX_EXPAND);
	if (!out || !strcmp(out, "-")) {
		rc = fwrite(buf, 1, len, stdout) == len && !fflush(stdout)
			 ? 0
			 : -EIO;
	} else {
		rc = write_file_atomic(out, buf, len, 0644);
	}
	free(buf);
	if (rc) {
		log_err("%s: %s: %s", cmd, out ? out : "standard output",
			strerror(-rc));
		return EXIT_RUNTIME;
	}
	if (out)
		log_info("%s: %zu entr%s to %s (%s)", cmd, st.written,
			 st.written == 1 ? "y" : "ies", out,
			 export_format_name(o.format));
	return EXIT_OK;
}
