// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_scan.c - `mxwall scan [--json] [--spamtrap ADDR]... [LOGFILE...]`:
 * print every event against an SMTP client found in MTA logs, one per
 * line, TIME<TAB>IP<TAB>MTA<TAB>TAGS (mxwall(8) "scan"), or
 * one JSON object per line with --json. Reads plain or .gz files, or
 * stdin for "-" (the default when no file is named). Read-only: it
 * changes nothing anywhere.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "mta/logread.h"
#include "core/privsep.h"
#include "core/mxwall.h"
#include "mta/scan.h"

static void print_event(const struct scan_event *ev, bool json,
			const char *file, uint64_t lineno)
{
	char t[32], ip[CIDR_STRLEN];
	const char *p, *c;

	fmt_time_iso(ev->time, t, sizeof(t));
	cidr_format(&ev->ip, ip, sizeof(ip));
	if (!json) {
		printf("%s\t%s\t%s\t%s\n", t, ip, ev->mta, ev->tags);
		return;
	}
	printf("{\"time\":\"%s\",\"ip\":\"%s\",\"mta\":\"%s\",\"tags\":[", t,
	       ip, ev->mta);
	for (p = ev->tags; *p; p = c ? c + 1 : p + strlen(p)) {
		char tag[sizeof(ev->tags)];
		size_t n;

		c = strchr(p, ',');
		n = c ? (size_t)(c - p) : strlen(p);
		memcpy(tag, p, n);
		tag[n] = '\0';
		if (p != ev->tags)
			putchar(',');
		json_str(stdout, tag);
		if (!c)
			break;
	}
	printf("],\"line\":%llu,\"file\":", (unsigned long long)lineno);
	json_str(stdout, file);
	printf("}\n");
}

/* scan_file - 0, or -errno when the file could not be read */
static int scan_file(struct scanner *s, struct logread *r, int64_t mtime,
		     const char *path, bool json)
{
	struct scan_event ev;
	const char *line;
	size_t len;
	bool trunc;
	uint64_t lineno = 0;
	int rc;

	scanner_set_ref_time(s, mtime);
	while ((rc = logread_line(r, &line, &len, &trunc)) > 0) {
		lineno++;
		/* an over-long line comes without its bytes: garbage */
		if (scanner_feed(s, trunc ? NULL : line, len, &ev))
			print_event(&ev, json, path, lineno);
	}
	return rc;
}

int cmd_scan(int argc, char **argv)
{
	const char **traps = NULL;
	static char *stdin_only[] = {"-", NULL};
	char **files;
	struct scan_opts so;
	struct scan_stats st;
	struct scanner *s;
	struct {
		struct logread *r;
		int64_t mtime;
		int err;
	} * in;
	const char *user = NULL;
	size_t ntraps = 0, nfiles, i;
	bool json = false, stats = false;
	int c, rc, ret = EXIT_OK;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			stats = true;
			break;
		case 't':
			if (!*optarg || strchr(optarg, ' ') ||
			    !strchr(optarg, '@')) {
				free(traps);
				log_usage(
				    "--spamtrap %s: expected a mail address",
				    optarg);
			}
			traps =
			    xreallocarray(traps, ntraps + 1, sizeof(*traps));
			traps[ntraps++] = optarg;
			break;
		}
	}
	files = optind < argc ? argv + optind : stdin_only;

	/*
	 * Open every file first, then hold nothing while parsing text that
	 * strangers wrote: no capability, and as root the unprivileged user.
	 */
	for (nfiles = 0; files[nfiles]; nfiles++)
		;
	in = xcalloc(nfiles + 1, sizeof(*in));
	for (i = 0; i < nfiles; i++) {
		in[i].r = logread_open(files[i], &in[i].mtime);
		in[i].err = in[i].r ? 0 : errno;
	}
	c = privsep_become_reader(&user);
	if (c) {
		log_err("cannot drop privileges before parsing: %s%s",
			strerror(-c),
			c == -ENOENT ? " (no user " PRIVSEP_USER
				       " or " PRIVSEP_FALLBACK_USER ")"
				     : "");
		for (i = 0; i < nfiles; i++)
			if (in[i].r)
				logread_close(in[i].r);
		free(in);
		free(traps);
		return EXIT_RUNTIME;
	}
	if (user)
		log_debug("parsing as user %s, without capabilities", user);

	memset(&so, 0, sizeof(so));
	so.spamtraps = traps;
	so.nspamtraps = ntraps;
	s = scanner_new(&so);
	for (i = 0; i < nfiles; i++) {
		rc = in[i].r
			 ? scan_file(s, in[i].r, in[i].mtime, files[i], json)
			 : -in[i].err;
		if (in[i].r)
			logread_close(in[i].r);
		if (rc < 0) {
			log_err("%s: %s", files[i], strerror(-rc));
			ret = EXIT_RUNTIME;
		}
	}
	free(in);
	if (fflush(stdout) == EOF) {
		log_err("writing the output: %s", strerror(errno));
		ret = EXIT_RUNTIME;
	}
	scanner_stats(s, &st);
	if (stats)
		fprintf(
		    stderr,
		    "%llu lines, %llu events, %llu ignored (%llu unparsed), "
		    "%llu garbage\n",
		    (unsigned long long)st.lines, (unsigned long long)st.events,
		    (unsigned long long)st.ignored,
		    (unsigned long long)st.unparsed,
		    (unsigned long long)st.garbage);
	scanner_free(s);
	free(traps);
	return ret;
}
