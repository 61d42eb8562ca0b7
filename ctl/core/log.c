// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - the severity ladder of the controller.
 *
 * info: what happened; warn: recoverable, carry on; err: a command failed;
 * fatal: bad configuration or startup failure, exit 1; panic: a broken
 * invariant, abort. One place decides whether a message goes to stderr or to
 * syslog (the watcher under systemd wants syslog). libbpf's own messages come
 * through here one level down and are kept quiet unless -v, so that a user
 * sees our sentence rather than the verifier's log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <bpf/libbpf.h>

#include "core/mxwall.h"

static const char *log_prog = "mxwall";
static bool log_syslog;
static enum mx_log_level log_level = MX_LOG_INFO;
static bool libbpf_quiet = true;
static int log_verbose; /* -v given this many times */

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt,
			va_list ap)
{
	if (libbpf_quiet && log_verbose == 0)
		return 0;
	if (lvl == LIBBPF_DEBUG && log_verbose < 2)
		return 0;
	log_vmsg(MX_LOG_DEBUG + (log_verbose > 0), fmt, ap);
	return 0;
}

void log_set_verbose(int verbose)
{
	log_verbose = verbose;
	if (verbose)
		log_level = MX_LOG_DEBUG;
}

/* log_init - name the program; route libbpf's messages through us */
void log_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');

	log_prog = slash ? slash + 1 : progname;
	libbpf_set_print(libbpf_print);
}

void log_use_syslog(bool on)
{
	if (on && !log_syslog)
		openlog(log_prog, LOG_PID, LOG_DAEMON);
	log_syslog = on;
}

void log_set_level(enum mx_log_level lvl)
{
	log_level = lvl;
}

void log_libbpf_quiet(bool quiet)
{
	libbpf_quiet = quiet;
}

void log_vmsg(enum mx_log_level lvl, const char *fmt, va_list ap)
{
	static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
	static const char *const word[] = {"debug: ", "", "warning: ", ""};
	char buf[2048];
	size_t n;

	if (lvl < log_level && !(lvl == MX_LOG_DEBUG && log_verbose))
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (log_syslog)
		syslog(prio[lvl], "%s%s", word[lvl], buf);
	else
		fprintf(stderr, "%s: %s%s\n", log_prog, word[lvl], buf);
}

void log_msg(enum mx_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(MX_LOG_ERR, fmt, ap);
	va_end(ap);
	exit(EXIT_RUNTIME);
}

void log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(MX_LOG_ERR, fmt, ap);
	va_end(ap);
	abort();
}

void log_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(MX_LOG_ERR, fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}
