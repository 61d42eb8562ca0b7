// SPDX-License-Identifier: GPL-2.0
/*
 * check.c - `mxwall check` and `mxwall watch --check`: everything watch
 * would need, checked without starting it. The whole configuration is
 * parsed (every bad line, not the first), every log is opened (the journal
 * through sd-journal), the filter, the interfaces and the privileges are
 * looked at; what watch would do is printed, and each problem as
 * "FILE:LINE: what is wrong" (the line of the key it comes from). Exit 0
 * when there is none, 1 otherwise. Nothing is changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "cmd/cli.h"
#include "cmd/cmdline.h"
#include "cmd/commands.h"
#include "core/config.h"
#include "core/mxwall.h"
#include "mta/journal.h"
#include "watch/policy.h"

struct check {
	const struct mx_config *c;
	const char *conf;
	unsigned int problems;
};

static void problem_msg(void *arg, const char *msg)
{
	struct check *k = arg;

	printf("%s\n", msg);
	k->problems++;
}

/* problem - "FILE:LINE: ..." for the idx-th value of key (line 0: none) */
static void __attribute__((format(printf, 4, 5)))
problem(struct check *k, const char *key, size_t idx, const char *fmt, ...)
{
	unsigned int line = key ? config_line(k->c, key, idx) : 0;
	va_list ap;

	if (line)
		printf("%s:%u: ", k->conf, line);
	else
		printf("%s: ", k->conf);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	k->problems++;
}

static void check_journal(struct check *k, const char *key, size_t idx)
{
	struct mx_journal_opts o = {
	    .directory = k->c->journal_directory,
	    .match = (const char *const *)k->c->journal_match,
	    .nmatch = k->c->njournal_match,
	};
	struct mx_journal *j;
	uint64_t bytes = 0;
	char err[512];
	size_t i;

	if (journal_open(&o, &j, err, sizeof(err))) {
		problem(k, key, idx, "%s", err);
		return;
	}
	if (journal_usage(j, &bytes) || !bytes)
		problem(k, key, idx, "no journal files to read%s%s",
			o.directory ? " in " : "",
			o.directory ? o.directory : "");
	else
		printf("would read the journal%s%s (%llu bytes of journal "
		       "files)\n",
		       o.directory ? " in " : "",
		       o.directory ? o.directory : "",
		       (unsigned long long)bytes);
	journal_close(j);
	if (!o.nmatch)
		printf("  every entry (no journal_match)\n");
	for (i = 0; i < o.nmatch; i++)
		printf("  entries matching %s\n", o.match[i]);
	printf("  counting only those journald says the MTA wrote\n");
}

static void check_logs(struct check *k, char **cli, size_t ncli)
{
	char **logs = ncli ? cli : k->c->logs;
	size_t n = ncli ? ncli : k->c->nlogs, i;
	const char *key = ncli ? NULL : "log";
	struct stat st;
	int fd;

	if (!n)
		problem(k, NULL, 0,
			"no log to follow: give LOGFILE or 'log =' lines");
	for (i = 0; i < n; i++) {
		if (!strcmp(logs[i], "-")) {
			printf("would read standard input\n");
			continue;
		}
		if (!strcmp(logs[i], "journal")) {
			check_journal(k, key, i);
			continue;
		}
		fd = open(logs[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0 && errno == ENOENT && k->c->log_fallback_journal) {
			printf("log file %s does not exist: log_fallback = "
			       "journal\n",
			       logs[i]);
			check_journal(k, key, i);
			continue;
		}
		if (fd < 0) {
			problem(k, key, i, "log file %s: %s", logs[i],
				strerror(errno));
			continue;
		}
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			printf("would follow %s (%lld bytes)\n", logs[i],
			       (long long)st.st_size);
		else
			printf("would follow %s\n", logs[i]);
		close(fd);
	}
}

/* check_privileges - watch loads BPF and attaches: root or the caps */
static void check_privileges(struct check *k)
{
	static const cap_value_t need[] = {CAP_BPF, CAP_NET_ADMIN};
	static const char *const names[] = {"CAP_BPF", "CAP_NET_ADMIN"};
	cap_flag_value_t v;
	cap_t caps;
	size_t i;

	caps = cap_get_proc();
	if (!caps) {
		problem(k, NULL, 0, "cannot read this process's capabilities");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(need); i++) {
		if (cap_get_flag(caps, need[i], CAP_EFFECTIVE, &v) ||
		    v != CAP_SET) {
			/* CAP_SYS_ADMIN stands in for CAP_BPF */
			if (need[i] == CAP_BPF &&
			    !cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE,
					  &v) &&
			    v == CAP_SET)
				continue;
			problem(k, NULL, 0,
				"no %s: watch must run as root (or with "
				"CAP_BPF and CAP_NET_ADMIN)",
				names[i]);
		}
	}
	cap_free(caps);
}

static void check_filter(struct check *k)
{
	struct backend_opts bo = cmd_backend_opts();
	struct mx_status st;
	struct backend be;
	size_t i, j;
	int err;

	for (i = 0; i < k->c->nifaces; i++)
		if (!if_nametoindex(k->c->ifaces[i]))
			problem(k, "interface", i,
				"interface %s does not exist here",
				k->c->ifaces[i]);
	err = backend_open(&be, &bo, 0);
	if (err) {
		printf("the filter is not loaded yet (%s): watch loads it\n",
		       backend_strerror(err));
		for (i = 0; i < k->c->nifaces; i++)
			if (if_nametoindex(k->c->ifaces[i]))
				printf("would attach to %s\n", k->c->ifaces[i]);
		if (!k->c->nifaces)
			problem(k, NULL, 0,
				"no interface = and no filter attached: "
				"nothing would be dropped%s",
				k->c->require_seen
				    ? ", and with require_seen nothing blocked"
				    : "");
		return;
	}
	memset(&st, 0, sizeof(st));
	err = be.ops->status(&be, &st);
	if (err) {
		problem(k, NULL, 0, "cannot read the filter's status: %s",
			backend_strerror(err));
		backend_close(&be);
		return;
	}
	printf("backend %s%s%s\n", st.backend, st.why[0] ? ": " : "", st.why);
	for (i = 0; i < st.nifaces; i++)
		printf("attached to %s (%s)\n", st.ifaces[i].name,
		       st.ifaces[i].mode == MX_MODE_NATIVE ? "native"
							   : "generic");
	for (i = 0; i < k->c->nifaces; i++) {
		for (j = 0; j < st.nifaces; j++)
			if (!strcmp(st.ifaces[j].name, k->c->ifaces[i]))
				break;
		if (j == st.nifaces && if_nametoindex(k->c->ifaces[i]))
			printf("would attach to %s\n", k->c->ifaces[i]);
	}
	if (!st.nifaces && !k->c->nifaces)
		problem(k, NULL, 0,
			"the filter is not attached to any interface and no "
			"interface = is given: nothing would be dropped%s",
			k->c->require_seen
			    ? ", and with require_seen nothing blocked"
			    : "");
	backend_close(&be);
}

static void check_state(struct check *k)
{
	char db[4096];
	struct stat st;

	if (config_db_path(k->c, mx_opt.state_dir, db, sizeof(db))) {
		problem(k, "db", 0, "database path too long");
		return;
	}
	printf("state database %s%s\n", db,
	       stat(db, &st) ? " (created at start)" : "");
	if (k->c->blocklist && access(k->c->blocklist, R_OK))
		printf("no static core list at %s\n", k->c->blocklist);
	else if (k->c->blocklist)
		printf("static core list %s\n", k->c->blocklist);
}

int check_run(const char *conf, bool conf_given, char **logs, size_t nlogs)
{
	struct mx_config c;
	struct check k = {.c = &c, .conf = conf};
	char win[32];

	if (access(conf, F_OK) && errno == ENOENT && !conf_given) {
		config_defaults(&c);
		printf("%s not found: the defaults\n", conf);
	} else if (config_check(conf, &c, problem_msg, &k) == 0) {
		printf("%s: parsed\n", conf);
	}
	policy_fmt_dur(c.window, win, sizeof(win));
	check_logs(&k, logs, nlogs);
	check_filter(&k);
	check_privileges(&k);
	check_state(&k);
	printf("would block a source after %llu rejections in %s "
	       "(require_seen %s)%s\n",
	       (unsigned long long)c.threshold, win,
	       c.require_seen ? "yes" : "no",
	       c.observe ? ", in observe mode" : "");
	config_free(&c);
	if (k.problems) {
		printf("%u problem%s\n", k.problems,
		       k.problems == 1 ? "" : "s");
		return EXIT_RUNTIME;
	}
	printf("ok\n");
	return EXIT_OK;
}

int cmd_check(int argc, char **argv)
{
	const char *conf = MX_CONF_DEFAULT;
	bool given = false;
	int c;

	while ((c = cli_getopt(argc, argv)) != -1) {
		if (c == 'c') {
			conf = optarg;
			given = true;
		}
	}
	return check_run(conf, given, argv + optind, (size_t)(argc - optind));
}
