// SPDX-License-Identifier: GPL-2.0
/*
 * cli.c - owns the command line of mxwall: every command's synopsis, text
 * and options in one table, the getopt_long() tables made from it, and
 * every --help text. The synopses are those of mxwall(8), which
 * selftests/cli/test_docs.sh holds them to.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "core/mxwall.h"

/* the global options (cli.h); main() sets them before a command runs */
struct mx_globals_opt mx_opt = {
    .pin_dir = MX_PIN_DIR_DEFAULT,
    .state_dir = MX_STATE_DIR_DEFAULT,
    .backend = MX_BACKEND_AUTO,
};

#define TAG_HELP "a reason shown in [brackets] (repeatable, or a comma list)"
#define BY_HELP                                                                \
	"sum hosts into netblocks: /24 = IPv4 /24 and IPv6 /48,\n"             \
	"/16 = IPv4 /16 and IPv6 /32, /48 = IPv6 /48 only"

static const struct cli_opt attach_opts[] = {
    {"mode", 'm', false, required_argument, "M",
     "native, generic or auto (default auto: native where the\n"
     "driver supports it, else generic)"},
    {"ports", 'p', false, required_argument, "LIST",
     "SMTP ports to filter (default: as before, else 25)"},
    {"observe", 'o', false, optional_argument, "[=yes|no]",
     "count as if dropping, but pass everything\n"
     "(default: as before, else no)"},
    {0},
};

static const struct cli_opt detach_opts[] = {
    {"all", 'a', false, no_argument, NULL, "detach from every interface"},
    {0},
};

static const struct cli_opt json_opts[] = {
    {"json", 'j', false, no_argument, NULL, "one JSON object"},
    {0},
};

static const struct cli_opt block_opts[] = {
    {"tag", 't', false, required_argument, "TAG", TAG_HELP},
    {"ttl", 'T', false, required_argument, "DURATION",
     "expire after DURATION (90s, 15m, 2h, 30d, 1w)"},
    {"static", 's', false, no_argument, NULL,
     "part of the core list: the weekly reset keeps it\n"
     "(default: dynamic, removed by the weekly reset)"},
    {"observe", 'o', false, no_argument, NULL,
     "count as if dropping, but let the packets pass"},
    {0},
};

static const struct cli_opt allow_opts[] = {
    {"tag", 't', false, required_argument, "TAG", TAG_HELP},
    {"static", 's', false, no_argument, NULL,
     "survive the weekly reset (the default for allow)"},
    {"dynamic", 'd', false, no_argument, NULL, "removed by the weekly reset"},
    {0},
};

static const struct cli_opt unblock_opts[] = {
    {"pardon", 'p', false, required_argument, "DURATION",
     "and keep the watcher from promoting it again for\n"
     "DURATION (90s, 15m, 2h, 30d, 1w), whatever the log\n"
     "says; kept across restarts and the weekly reset.\n"
     "A CIDR that is no entry is pardoned all the same.\n"
     "('allow' is the permanent form.)"},
    {"config", 'c', false, required_argument, "FILE",
     "where the database is (default " MX_CONF_DEFAULT ")"},
    {0},
};

static const struct cli_opt list_opts[] = {
    {"json", 'j', false, no_argument, NULL, "a JSON array of entry objects"},
    {"plain", 'p', false, no_argument, NULL,
     "one '[!]CIDR ; tags' line each, as 'export --format plain':\n"
     "'mxwall list --plain | mxwall load --format plain -' on another\n"
     "host keeps the tags and the static and dynamic entries"},
    {"dynamic", 'd', false, no_argument, NULL,
     "only the entries the weekly reset removes"},
    {"static", 's', false, no_argument, NULL, "only the core list"},
    {0},
};

static const struct cli_opt load_opts[] = {
    {"tag", 't', false, required_argument, "TAG", TAG_HELP},
    {"dynamic", 'd', false, no_argument, NULL,
     "removed by the weekly reset (default: static, the core list)"},
    {"format", 'f', false, required_argument, "F",
     "read another host's export or a published list:\n"
     "plain    '[!]CIDR [; tag,tag]' ('!' = allow), FireHOL .netset\n"
     "rbldnsd  ip4/ip6 set and trie datasets, '!' = allow\n"
     "zone     an RFC 5782 zone (mxwall export --format zone)\n"
     "drop-json Spamhaus DROP/EDROP JSON (the sblid as tag)"},
    {0},
};

static const struct cli_opt query_opts[] = {
    {NULL, 'n', true, required_argument, "N",
     "show at most N events per address (default 10; 0 = all)"},
    {"json", 'j', false, no_argument, NULL,
     "a JSON array, one object per address: the keys of\n"
     "'list --json' for the deciding entry, plus address,\n"
     "covered, entries, seen, recidive, pardon, events"},
    {"config", 'c', false, required_argument, "FILE",
     "where the database is (default " MX_CONF_DEFAULT ")"},
    {0},
};

#define QUERY_ABOUT                                                            \
	"Why is ADDR blocked (or not)? Every entry covering it, longest "      \
	"first\n"                                                              \
	"(the first decides), with action, origin, tags, added, expires, "     \
	"last\n"                                                               \
	"hit and counters; its last completed SMTP handshake (require_seen); " \
	"its\n"                                                                \
	"recidive level and pardon; and the rejections behind the promotion\n" \
	"(time, MTA, reason tags, log file and line), newest first."
#define QUERY_AFTER                                                            \
	"Exit status: 0 every ADDR is covered by an entry, 1 one is not, 2 "   \
	"bad ADDR."

static const struct cli_opt export_opts[] = {
    {"format", 'f', false, required_argument, "F",
     "rbldnsd (default), zone, plain or json"},
    {"static", 's', false, no_argument, NULL, "only the core list"},
    {"dynamic", 'd', false, no_argument, NULL, "only dynamic entries"},
    {"family", 'F', false, required_argument, "4|6", "only one address family"},
    {"zone", 'z', false, required_argument, "NAME",
     "the zone's name (zone format)"},
    {"out", 'o', false, required_argument, "FILE",
     "write FILE atomically instead of standard output"},
    {0},
};

static const struct cli_opt flush_opts[] = {
    {"dynamic", 'd', false, no_argument, NULL,
     "the dynamic entries (what the weekly reset removes)"},
    {"all", 'a', false, no_argument, NULL,
     "every entry, the core list and exceptions too"},
    {0},
};

static const struct cli_opt top_opts[] = {
    {NULL, 'n', true, required_argument, "N",
     "show N rows (default 20; 0 = all)"},
    {"by", 'b', false, required_argument, "/24|/16|/48", BY_HELP},
    {"json", 'j', false, no_argument, NULL, "a JSON array of entry objects"},
    {0},
};

static const struct cli_opt scan_opts[] = {
    {"json", 'j', false, no_argument, NULL,
     "one JSON object per line: time, ip, mta, tags, line, file"},
    {"spamtrap", 't', false, required_argument, "ADDR",
     "tag rejections for this recipient 'spamtrap' (repeatable)"},
    {"stats", 's', false, no_argument, NULL,
     "print line counts to stderr at the end"},
    {0},
};

static const struct cli_opt watch_opts[] = {
    {"config", 'c', true, required_argument, "FILE",
     "configuration (default " MX_CONF_DEFAULT ")"},
    {"dry-run", 'n', true, no_argument, NULL,
     "log what would be blocked, change nothing"},
    {"check", 'k', false, no_argument, NULL,
     "check the configuration, logs, filter, interfaces and\n"
     "privileges, say what would be done, and exit (= mxwall check)"},
    {0},
};

static const struct cli_opt check_opts[] = {
    {"config", 'c', true, required_argument, "FILE",
     "configuration (default " MX_CONF_DEFAULT ")"},
    {0},
};

static const struct cli_opt report_opts[] = {
    {NULL, 'n', true, required_argument, "N",
     "rows in the table (default: report_top, 20; 0 = all)"},
    {"by", 'b', false, required_argument, "/24|/16|/48", BY_HELP},
    {"reset", 'r', false, no_argument, NULL,
     "archive, mail, then start a new week"},
    {"json", 'j', false, no_argument, NULL,
     "an object with period, totals, days and rows"},
    {"out", 'o', false, required_argument, "FILE",
     "write the report to FILE (atomically), not stdout;\n"
     "a device or FIFO is written in place, - is stdout"},
    {"config", 'c', false, required_argument, "FILE",
     "mxwall.conf (default " MX_CONF_DEFAULT ")"},
    {0},
};

static const struct cli_opt stats_opts[] = {
    {"days", 'd', false, required_argument, "N",
     "the last N days (default 28)"},
    {"json", 'j', false, no_argument, NULL,
     "an object with the counts per row"},
    {"config", 'c', false, required_argument, "FILE",
     "mxwall.conf, for the database path (default\n" MX_CONF_DEFAULT ")"},
    {0},
};

static const struct cli_opt metrics_opts[] = {
    {"out", 'o', false, required_argument, "FILE",
     "write FILE atomically (temp file and rename);\n"
     "name it *.prom in the collector's directory;\n"
     "a device or FIFO is written in place, - is stdout"},
    {"config", 'c', false, required_argument, "FILE",
     "mxwall.conf (default " MX_CONF_DEFAULT ")"},
    {0},
};

const struct cli_command cli_commands[] = {
    {"attach", cmd_attach,
     "IFACE [--mode native|generic|auto] [--ports 25,465,587] "
     "[--observe[=yes|no]]",
     "Attach the filter to IFACE (again: replace the program, keep entries "
     "and\n"
     "counters). With the backend left to auto, XDP is tried first and "
     "nftables\n"
     "is used when XDP cannot attach here. Either way the record of "
     "completed\n"
     "SMTP handshakes that the watcher asks (require_seen) is attached "
     "too.",
     attach_opts, NULL, NULL, NULL},
    {"detach", cmd_detach, "IFACE | --all",
     "Take the filter off IFACE (or off every interface). When the last\n"
     "interface is detached and no entries are left, every trace (pinned\n"
     "maps, the record of SMTP handshakes, nftables table) is removed;\n"
     "otherwise entries and counters stay for the next attach.",
     detach_opts, NULL, NULL, NULL},
    {"status", cmd_status, "[--json]",
     "The backend in use and why, interfaces and modes, ports, observe "
     "mode,\n"
     "entry counts and capacity, the global counters, the sources in the\n"
     "record of SMTP handshakes, and whether the controller (mxwall watch)\n"
     "is running.",
     json_opts, NULL, NULL, NULL},
    {"block", cmd_block,
     "CIDR... [--tag TAG] [--ttl DURATION] [--static] [--observe]",
     "Drop SMTP SYNs from each CIDR (a host or a netblock).", block_opts, NULL,
     NULL, NULL},
    {"allow", cmd_allow, "CIDR... [--tag TAG] [--static|--dynamic]",
     "An exception inside a blocked netblock: SMTP SYNs from each CIDR "
     "pass\n"
     "(the longest prefix wins) and are counted.",
     allow_opts, NULL, NULL, NULL},
    {"unblock", cmd_unblock, "CIDR... [--pardon DURATION [--config FILE]]",
     "Remove the entry for each CIDR (a block or an allow exception), "
     "with\n"
     "its counters. Each must be an entry as listed; nothing changes if "
     "one\n"
     "is not.",
     unblock_opts, NULL, NULL, NULL},
    {"list", cmd_list, "[--json|--plain] [--dynamic|--static]",
     "Every entry, sorted by address, with its counters and tags.", list_opts,
     NULL, NULL, NULL},
    {"load", cmd_load,
     "FILE [--format plain|rbldnsd|zone|drop-json] [--tag TAG] [--dynamic]",
     "Block every CIDR listed in FILE ('-' = stdin): one per line, '#' or "
     "';'\n"
     "start a comment (Spamhaus DROP style '1.2.3.0/24 ; SBL1'). All or "
     "nothing:\n"
     "the first bad line is reported as FILE:LINE and nothing changes.",
     load_opts, NULL, NULL, NULL},
    {"flush", cmd_flush, "--dynamic|--all",
     "Remove entries with their counters.", flush_opts, NULL, NULL, NULL},
    {"top", cmd_top, "[-n N] [--by /24|/16|/48] [--json]",
     "The entries that matched the most packets, live from the counters:\n"
     "every entry, allow exceptions and the core list included.",
     top_opts, NULL, NULL, NULL},
    {"scan", cmd_scan, "[--json] [--spamtrap ADDR]... [--stats] [LOGFILE...]",
     "Print every SMTP rejection, protocol abuse, authentication failure\n"
     "and greylisting deferral in MTA logs (Postfix, Exim, Sendmail,\n"
     "OpenSMTPD, postgrey, Courier, qmail/rblsmtpd), one per line:\n"
     "TIME<TAB>IP<TAB>MTA<TAB>TAGS. LOGFILE may be gzip-compressed; '-'\n"
     "(the default) reads stdin. Syslog stamps take their year from the\n"
     "file's modification time.",
     scan_opts, NULL, NULL, NULL},
    {"check", cmd_check, "[--config FILE] [LOGFILE...]",
     "Check what watch needs without starting it: parse the whole\n"
     "configuration, open every log (or the journal), look at the filter,\n"
     "the interfaces and the privileges, and print what watch would do.\n"
     "Each problem is one line, FILE:LINE: what is wrong; exit 0 when\n"
     "there is none, 1 otherwise.",
     check_opts, NULL, NULL, NULL},
    {"watch", cmd_watch, "[--config FILE] [--dry-run] [--check] [LOGFILE...]",
     "Follow the MTA's logs and promote sources with many rejections\n"
     "into the filter (see mxwall.conf(5)).",
     watch_opts, "LOGFILE... replaces the config's log keys; '-' is stdin.",
     NULL, NULL},
    {"report", cmd_report,
     "[-n N] [--by /24|/16|/48] [--reset] [--json] [--out FILE] [--config "
     "FILE]",
     "The weekly report: the period since the last reset, SMTP SYNs seen "
     "and\n"
     "dropped, entries, promotions, drops per day and the top N entries "
     "by\n"
     "packets. With --reset the report is archived first "
     "(REPORT_DIR/DATE.txt\n"
     "and .json), mailed to report_mail_to when configured, and only then "
     "are\n"
     "the dynamic entries removed and the static entries' counters zeroed.",
     report_opts, NULL, NULL, NULL},
    {"stats", cmd_stats, "persistence [--days N] [--json] [--config FILE]",
     "How persistent refused sources are, from the controller's database: "
     "of\n"
     "the sources that tried at least twice (tries are connections at "
     "least\n"
     "5 s after the source's previous rejection), the share that came back\n"
     "1, 2, 3, 4, 5-10 and more times; one row for all, one per reason "
     "tag.",
     stats_opts, NULL, "stats persistence", NULL},
    {"metrics", cmd_metrics, "[--out FILE] [--config FILE]",
     "Prometheus text format for node_exporter's textfile collector:\n"
     "global counters, entries by origin, promotions and expiries, the\n"
     "top entries' packets and bytes (report_top of them), and how far\n"
     "the controller is behind each log.",
     metrics_opts, NULL, NULL, NULL},
    {"export", cmd_export,
     "[--format rbldnsd|zone|plain|json] [--static|--dynamic] [--family "
     "4|6] [--zone NAME] [--out FILE]",
     "Write the filter's entries for other hosts, atomically with --out:\n"
     "  rbldnsd  an rbldnsd `combined` dataset (ip4trie and ip6trie),\n"
     "           served by `rbldnsd ZONE:combined:FILE` (default)\n"
     "  zone     an RFC 5782 zone for nsd, knot or bind (--zone NAME; one\n"
     "           family per zone, --family 4 by default)\n"
     "  plain    one CIDR per line with '; tags' (the `load` format)\n"
     "  json     the `list --json` objects\n"
     "Listed entries answer 127.0.0.2 (127.0.0.3 for the core list) with a\n"
     "TXT naming the reason tags; allow and observe entries are exclusions.",
     export_opts, NULL, NULL, NULL},
    {"query", cmd_query, "ADDR... [-n N] [--json] [--config FILE]", QUERY_ABOUT,
     query_opts, QUERY_AFTER, NULL, NULL},
    {"why", cmd_query, "ADDR... [-n N] [--json] [--config FILE] (= query)",
     NULL, NULL, NULL, NULL, "query"},
};

const unsigned int cli_ncommands = ARRAY_SIZE(cli_commands);

const struct cli_command *cli_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < cli_ncommands; i++)
		if (!strcmp(cli_commands[i].name, name))
			return &cli_commands[i];
	return NULL;
}

#define HELP_COL 19 /* where an option's text starts */
#define WIDTH 79

/* print_usage - "usage: mxwall NAME SYNOPSIS", wrapped between brackets */
static void print_usage(const struct cli_command *c, FILE *f)
{
	const char *p = c->synopsis, *end;
	int indent, col, depth, len;

	col = indent = fprintf(f, "usage: mxwall %s ", c->name);
	while (*p) {
		/* the next word at bracket depth 0 */
		depth = 0;
		for (end = p; *end && (depth || *end != ' '); end++) {
			if (*end == '[')
				depth++;
			else if (*end == ']' && depth)
				depth--;
		}
		len = (int)(end - p);
		if (col > indent && col + 1 + len > WIDTH)
			col = fprintf(f, "\n%*s", indent, "") - 1;
		else if (col > indent)
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", len, p);
		p = *end ? end + 1 : end;
	}
	fputc('\n', f);
}

static void print_opt(FILE *f, const char *left, const char *help)
{
	const char *nl;
	int n = fprintf(f, "  %s", left);

	if (n < HELP_COL)
		fprintf(f, "%*s", HELP_COL - n, "");
	else
		fprintf(f, "  ");
	while ((nl = strchr(help, '\n'))) {
		fprintf(f, "%.*s\n%*s", (int)(nl - help), help, HELP_COL, "");
		help = nl + 1;
	}
	fprintf(f, "%s\n", help);
}

void cli_help(const struct cli_command *c, FILE *f)
{
	const struct cli_opt *o;
	char left[64];

	if (c->alias_of)
		c = cli_find(c->alias_of);
	print_usage(c, f);
	fprintf(f, "\n%s\n", c->about);
	for (o = c->opts; o->id; o++) {
		const char *meta = o->meta ? o->meta : "";
		const char *sep =
		    o->arg == optional_argument || !o->meta ? "" : " ";

		if (!o->name)
			snprintf(left, sizeof(left), "-%c%s%s", o->id, sep,
				 meta);
		else if (o->short_too)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->id,
				 o->name, sep, meta);
		else
			snprintf(left, sizeof(left), "--%s%s%s", o->name, sep,
				 meta);
		print_opt(f, left, o->help);
	}
	print_opt(f, "-h, --help", "this text");
	if (c->after)
		fprintf(f, "%s\n", c->after);
}

/* bad_option - "CMD: --opt: unknown option|missing value", exit 2 */
static void __attribute__((noreturn))
bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	size_t len;

	if (c == ':')
		log_usage("%s: %s: missing value", cmd, arg);
	if (optopt > 0 && optopt < 128 && arg[0] == '-' && arg[1] != '-')
		log_usage("%s: -%c: unknown option (see 'mxwall %s --help')",
			  cmd, optopt, cmd);
	len = strcspn(arg, "=");
	log_usage("%s: %.*s: unknown option (see 'mxwall %s --help')", cmd,
		  (int)len, arg, cmd);
}

/* the getopt_long() tables of the command being parsed */
static struct {
	const struct cli_command *cmd;
	struct option longopts[16];
	char optstring[40];
} cur;

static const struct cli_command *cli_begin(const char *name)
{
	const struct cli_command *c = cli_find(name);
	const struct cli_opt *o;
	size_t n = 0, k = 0;

	if (!c)
		log_usage("%s: unknown command (see 'mxwall --help')", name);
	memset(&cur, 0, sizeof(cur));
	cur.cmd = c;
	if (c->alias_of)
		c = cli_find(c->alias_of);
	cur.optstring[k++] = ':';
	cur.optstring[k++] = 'h';
	for (o = c->opts; o->id; o++) {
		if (o->name && n < ARRAY_SIZE(cur.longopts) - 2) {
			cur.longopts[n].name = o->name;
			cur.longopts[n].has_arg = o->arg;
			cur.longopts[n].val = o->id;
			n++;
		}
		if (o->short_too && k < sizeof(cur.optstring) - 3) {
			cur.optstring[k++] = (char)o->id;
			if (o->arg == required_argument)
				cur.optstring[k++] = ':';
		}
	}
	cur.longopts[n].name = "help";
	cur.longopts[n].val = 'h';
	optind = 0; /* a fresh start for GNU getopt */
	opterr = 0;
	return c;
}

int cli_getopt(int argc, char **argv)
{
	const struct cli_command *c = cur.cmd;
	int id;

	if (!c || strcmp(c->name, argv[0]))
		c = cli_begin(argv[0]);
	id = getopt_long(argc, argv, cur.optstring, cur.longopts, NULL);
	if (id == -1) {
		cur.cmd = NULL;
		return -1;
	}
	if (id == 'h') {
		cli_help(c, stdout);
		exit(EXIT_OK);
	}
	if (id == '?' || id == ':')
		bad_option(c->errname ? c->errname : argv[0], id, argv);
	return id;
}
