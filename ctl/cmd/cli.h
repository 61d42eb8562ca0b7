/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli.h - the command line in one place: a table per command (its
 * synopsis, what it does, its options) from which cli_getopt() makes the
 * getopt_long() tables and cli_help() the --help text, `mxwall help CMD`
 * and the command list of `mxwall --help`.
 * Callers: main.c (dispatch, help), the command handlers (cli_getopt).
 */
#ifndef MXWALL_CLI_H
#define MXWALL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "core/mxwall.h"

/*
 * The global options, set by main() before a command runs. Only cmd/ and
 * main.c read them: a handler hands its module what it needs
 * (scripts/check-modules.sh holds the rest of ctl/ to that).
 */
struct mx_globals_opt {
	const char *pin_dir;	      /* --pin-dir, $MXWALL_PIN_DIR */
	const char *state_dir;	      /* --state-dir, $MXWALL_STATE_DIR */
	enum mx_backend_kind backend; /* --backend */
	bool backend_given;	      /* --backend on the command line */
	int verbose;		      /* -v, repeatable */
};
extern struct mx_globals_opt mx_opt;

/* one option of a command */
struct cli_opt {
	const char *name; /* long name without "--"; NULL: short only */
	int id;		  /* what cli_getopt() returns for it */
	bool short_too;	  /* -ID works too (id is then a letter) */
	int arg; /* no_argument, required_argument, optional_argument */
	const char *meta; /* the value in --help: "FILE", "[=yes|no]" */
	const char *help; /* one line; '\n' continues it, indented */
};

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;	    /* after "mxwall NAME " */
	const char *about;	    /* what it does, lines of text */
	const struct cli_opt *opts; /* ends with {0}; -h, --help is added */
	const char *after;	    /* text after the options, or NULL */
	const char *errname;	    /* name in error lines, default name */
	const char *alias_of; /* another name of this command: its table */
};

/* the commands, in the order `mxwall --help` lists them */
extern const struct cli_command cli_commands[];
extern const unsigned int cli_ncommands;

/* cli_find - the command called name, or NULL */
const struct cli_command *cli_find(const char *name);

/* cli_help - the --help text of c: usage line, about, options, after */
void cli_help(const struct cli_command *c, FILE *f);

/*
 * cli_getopt - getopt_long() for the command argv[0] (as main.c hands it
 * over): returns the next option's id with optarg set, -1 at the end
 * (optind is then the first argument; options after arguments are taken
 * too, "--" ends them). --help prints the help and exits 0; an unknown
 * option or a missing value is a usage error (exit 2).
 */
int cli_getopt(int argc, char **argv);

#endif /* MXWALL_CLI_H */
