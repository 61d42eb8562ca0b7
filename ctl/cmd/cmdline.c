// SPDX-License-Identifier: GPL-2.0
/*
 * cmdline.c - shared argument handling of the command handlers.
 *
 * Every usage error is one line on stderr that names the bad argument, then
 * exit 2; nothing has been opened or changed when it happens, because the
 * handlers read all their arguments before they touch the backend.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/cmdline.h"
#include "core/mxwall.h"

struct cidr *cmd_parse_cidrs(const char *cmd, int argc, char **argv)
{
	char why[160], now[CIDR_STRLEN];
	struct cidr *v;
	int i, r;

	if (argc <= 0)
		return NULL;
	v = xcalloc((size_t)argc, sizeof(*v));
	for (i = 0; i < argc; i++) {
		r = cidr_parse(argv[i], 0, &v[i], why, sizeof(why));
		if (r < 0) {
			free(v);
			log_usage("%s: %s", cmd, why);
		}
		if (r == CIDR_MASKED)
			log_warn("%s: %s has host bits set; using %s", cmd,
				 argv[i], cidr_format(&v[i], now, sizeof(now)));
	}
	return v;
}

static bool tag_ok(const char *t, size_t l)
{
	size_t i;

	if (l == 0 || l > 32)
		return false;
	for (i = 0; i < l; i++)
		if (!isalnum((unsigned char)t[i]) && !strchr("._:-", t[i]))
			return false;
	return true;
}

void cmd_add_tags(const char *cmd, char *tags, size_t len, const char *arg)
{
	char one[40];
	const char *p = arg, *comma;
	size_t l;

	do {
		comma = strchr(p, ',');
		l = comma ? (size_t)(comma - p) : strlen(p);
		if (!tag_ok(p, l))
			log_usage("%s: --tag %s: a tag is 1 to 32 letters, "
				  "digits or '.', '_', ':', '-'",
				  cmd, arg);
		snprintf(one, sizeof(one), "%.*s", (int)l, p);
		/* words the listing gives a meaning of its own */
		if (!strcmp(one, "a"))
			log_usage("%s: --tag a: 'a' marks what the watcher "
				  "added; choose another tag",
				  cmd);
		if (!strcmp(one, "static") || !strcmp(one, "dynamic"))
			log_usage("%s: --tag %s: '%s' is an origin, shown by "
				  "list; say --%s",
				  cmd, one, one, one);
		if (mx_tags_add(tags, len, one))
			log_usage("%s: --tag %s: too many tags (at most %d "
				  "characters in all)",
				  cmd, arg, (int)len - 1);
		p = comma ? comma + 1 : p + l;
	} while (comma);
}

struct backend_opts cmd_backend_opts(void)
{
	return (struct backend_opts){.pin_dir = mx_opt.pin_dir,
				     .state_dir = mx_opt.state_dir,
				     .kind = mx_opt.backend,
				     .kind_given = mx_opt.backend_given};
}

int cmd_open(const char *cmd, struct backend *be, unsigned int flags)
{
	struct backend_opts o = cmd_backend_opts();
	int err = backend_open(be, &o, flags);

	if (err) {
		log_err("%s: %s", cmd, backend_strerror(err));
		return EXIT_RUNTIME;
	}
	return 0;
}
