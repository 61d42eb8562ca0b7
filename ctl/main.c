// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - the global options and dispatch of mxwall; the commands and
 * their options are the table in cmd/cli.c.
 *
 * Global options may stand anywhere before a "--": --backend, --pin-dir,
 * --state-dir (each also as --opt=value); -v and --version only before the
 * command. Environment overrides ($MXWALL_PIN_DIR, $MXWALL_STATE_DIR) are read
 * with secure_getenv so that a setuid or file-capability binary ignores them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "core/mxwall.h"

#define USAGE_LINE                                                             \
	"usage: mxwall [--backend xdp|nft|auto] [--pin-dir DIR] "              \
	"[--state-dir DIR] [-v]\n"                                             \
	"              COMMAND [ARGS]\n"

/* short_usage - no command given: the usage line and the command names */
static void short_usage(FILE *f)
{
	unsigned int i;
	int col;

	col = fprintf(f, USAGE_LINE "commands:") - (int)strlen(USAGE_LINE);
	for (i = 0; i < cli_ncommands; i++) {
		if (col + 1 + (int)strlen(cli_commands[i].name) > 79)
			col = fprintf(f, "\n ") - 1;
		col += fprintf(f, " %s", cli_commands[i].name);
	}
	fprintf(f, "\n'mxwall --help' says more, 'mxwall help COMMAND' "
		   "describes a command.\n");
}

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, USAGE_LINE
		"\n"
		"Drop SMTP SYNs from blocked hosts and netblocks in XDP (or "
		"nftables),\n"
		"promote sources the MTA keeps rejecting, report who knocks "
		"hardest.\n\n"
		"commands:\n");
	for (i = 0; i < cli_ncommands; i++)
		fprintf(f, "  %-8s %s\n", cli_commands[i].name,
			cli_commands[i].synopsis);
	fprintf(f,
		"\nglobal options:\n"
		"  --backend B      xdp, nft or auto (default: auto: the "
		"backend in use,\n"
		"                   XDP for a new setup, nft where XDP cannot "
		"attach)\n"
		"  --pin-dir DIR    pinned maps and links "
		"(default " MX_PIN_DIR_DEFAULT ")\n"
		"  --state-dir DIR  state and database "
		"(default " MX_STATE_DIR_DEFAULT ")\n"
		"  -v, --verbose    more detail, libbpf's messages too (repeat "
		"for more)\n"
		"  --version        print the version\n\n"
		"'mxwall help COMMAND' or 'mxwall COMMAND --help' describes a "
		"command;\nsee mxwall(8).\n");
}

static int set_backend(const char *v)
{
	if (!strcmp(v, "xdp"))
		mx_opt.backend = MX_BACKEND_XDP;
	else if (!strcmp(v, "nft"))
		mx_opt.backend = MX_BACKEND_NFT;
	else if (!strcmp(v, "auto"))
		mx_opt.backend = MX_BACKEND_AUTO;
	else
		log_usage("--backend %s: expected xdp, nft or auto", v);
	mx_opt.backend_given = true;
	return 0;
}

/*
 * take_global - if argv[*i] is a global long option, consume it (and its
 * value) and return true.
 */
static bool take_global(int argc, char **argv, int *i)
{
	static const char *const names[] = {"--backend", "--pin-dir",
					    "--state-dir"};
	const char *arg = argv[*i], *val = NULL;
	size_t k, len;

	for (k = 0; k < ARRAY_SIZE(names); k++) {
		len = strlen(names[k]);
		if (strncmp(arg, names[k], len))
			continue;
		if (arg[len] == '=') {
			val = arg + len + 1;
		} else if (arg[len] == '\0') {
			if (*i + 1 >= argc)
				log_usage("%s: missing value", names[k]);
			val = argv[++*i];
		} else {
			continue;
		}
		if (!*val)
			log_usage("%s: empty value", names[k]);
		if (k == 0)
			set_backend(val);
		else if (k == 1)
			mx_opt.pin_dir = val;
		else
			mx_opt.state_dir = val;
		return true;
	}
	return false;
}

static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

/*
 * state_dir_check - every command but scan writes into the state directory
 * as root: refuse one that another user could plant links in.
 */
static void state_dir_check(void)
{
	char why[PATH_MAX + 128];
	int err = dir_check_private(mx_opt.state_dir, why, sizeof(why));

	if (err == -EPERM || err == -ENOTDIR)
		log_fatal("state directory %s", why);
}

int main(int argc, char **argv)
{
	const char *env;
	char **rest;
	int i, n = 0;
	const struct cli_command *c;
	bool seen_cmd = false, dashdash = false;

	log_init(argv[0]);
	env = secure_getenv("MXWALL_PIN_DIR");
	if (env && *env)
		mx_opt.pin_dir = env;
	env = secure_getenv("MXWALL_STATE_DIR");
	if (env && *env)
		mx_opt.state_dir = env;

	rest = xcalloc((size_t)argc + 1, sizeof(*rest));
	for (i = 1; i < argc; i++) {
		if (!dashdash && !strcmp(argv[i], "--"))
			dashdash = true;
		if (!dashdash && take_global(argc, argv, &i))
			continue;
		if (!seen_cmd) {
			if (!strcmp(argv[i], "-v") ||
			    !strcmp(argv[i], "--verbose")) {
				mx_opt.verbose++;
				continue;
			}
			if (!strcmp(argv[i], "-h") ||
			    !strcmp(argv[i], "--help")) {
				usage(stdout);
				return EXIT_OK;
			}
			if (!strcmp(argv[i], "--version")) {
				printf("mxwall %s\n", MXWALL_VERSION);
				return EXIT_OK;
			}
			if (argv[i][0] == '-')
				log_usage(
				    "%s: unknown option (see 'mxwall --help')",
				    argv[i]);
			seen_cmd = true;
		}
		rest[n++] = argv[i];
	}
	if (n == 0) {
		short_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(rest[0], "help")) {
		if (n == 1) {
			usage(stdout);
			return EXIT_OK;
		}
		c = cli_find(rest[1]);
		if (!c)
			log_usage("help: %s: unknown command (see 'mxwall "
				  "--help')",
				  rest[1]);
		if (n > 2)
			log_usage("help: %s: unexpected argument", rest[2]);
		cli_help(c, stdout);
		return EXIT_OK;
	}
	log_set_verbose(mx_opt.verbose);
	c = cli_find(rest[0]);
	if (!c)
		log_usage("%s: unknown command (see 'mxwall --help')", rest[0]);
	if (strcmp(rest[0], "scan") && !wants_help(n, rest))
		state_dir_check();
	/* the handler's options start at rest[1] (cli_getopt) */
	return c->fn(n, rest);
}
