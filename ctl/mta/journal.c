// SPDX-License-Identifier: GPL-2.0
/*
 * journal.c - the systemd journal through sd-journal (see journal.h).
 *
 * Trust: journald sets the fields starting with '_' from the socket's
 * credentials, not from what the client sends; SYSLOG_IDENTIFIER and
 * MESSAGE are the client's word. An entry counts when all of _UID (a
 * system account), _COMM (an MTA's program name) and _SYSTEMD_UNIT (an
 * MTA's unit, or one named in a match) agree.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-journal.h>

#include "core/config.h"
#include "core/mxwall.h"
#include "mta/journal.h"

#define JOURNAL_LINE_MAX (64 * 1024)
#define JOURNAL_SYSTEM_UID_MAX 999 /* Debian: FIRST_UID is 1000 */

/* process names of MTA daemons (_COMM, at most 15 bytes) */
static const char *const mta_comms[] = {
    /* Postfix */
    "smtpd", "postscreen", "dnsblog", "tlsproxy", "anvil", "master", "cleanup",
    "qmgr", "smtp", "lmtp", "local", "bounce", "pickup", "postlogd", "postfix",
    "virtual", "pipe", "error", "discard", "trivial-rewrite", "verify",
    "proxymap", "scache",
    /* Exim, Sendmail, Courier, qmail (OpenSMTPD is "smtpd" too) */
    "exim4", "exim", "sendmail", "sm-mta", "courieresmtpd", "couriertcpd",
    "courierlogger", "qmail-smtpd", "rblsmtpd", "tcpserver"};

/* units MTA packages ship (shell patterns) */
static const char *const mta_units[] = {
    "postfix.service",	     "postfix@*.service",   "exim4.service",
    "exim.service",	     "opensmtpd.service",   "smtpd.service",
    "sendmail.service",	     "courier-mta.service", "courier-mta-ssl.service",
    "courier-mta-*.service", "qmail*.service"};

struct mx_journal {
	sd_journal *j;
	char **units; /* _SYSTEMD_UNIT values named in matches */
	size_t nunits;
	char *resume;	      /* cursor to skip past; NULL once done */
	uint64_t resume_usec; /* its time (t=), 0 unknown */
	char *cursor;	      /* of the last entry returned */
	char *buf;
	size_t cap;
	char why[256];
};

/* field - FIELD's value of the current entry, NUL-terminated into out */
static bool field(sd_journal *j, const char *name, char *out, size_t outlen)
{
	const void *d;
	size_t l, n = strlen(name);

	if (sd_journal_get_data(j, name, &d, &l) < 0 || l <= n ||
	    ((const char *)d)[n] != '=')
		return false;
	l -= n + 1;
	if (l >= outlen)
		l = outlen - 1;
	memcpy(out, (const char *)d + n + 1, l);
	out[l] = '\0';
	return true;
}

int journal_check_match(const char *match, char *err, size_t errlen)
{
	return config_journal_terms(match, NULL, NULL, err, errlen);
}

static int add_term(void *arg, const char *t, size_t n)
{
	struct mx_journal *mj = arg;
	static const char unit[] = "_SYSTEMD_UNIT=";

	if (n == 1 && *t == '+')
		return sd_journal_add_disjunction(mj->j);
	if (n > sizeof(unit) - 1 && !strncmp(t, unit, sizeof(unit) - 1)) {
		mj->units = xreallocarray(mj->units, mj->nunits + 1,
					  sizeof(*mj->units));
		mj->units[mj->nunits++] =
		    strndup(t + sizeof(unit) - 1, n - (sizeof(unit) - 1));
		if (!mj->units[mj->nunits - 1])
			return -ENOMEM;
	}
	return sd_journal_add_match(mj->j, t, n);
}

/* cursor_usec - the t= (realtime) part of a cursor; 0 if none */
static uint64_t cursor_usec(const char *c)
{
	const char *t = strstr(c, ";t=");

	if (!t && !strncmp(c, "t=", 2))
		t = c - 1;
	return t ? strtoull(t + 3, NULL, 16) : 0;
}

int journal_open(const struct mx_journal_opts *o, struct mx_journal **out,
		 char *err, size_t errlen)
{
	struct mx_journal *mj = xcalloc(1, sizeof(*mj));
	size_t i;
	int rc;

	*out = NULL;
	if (o->directory)
		rc = sd_journal_open_directory(&mj->j, o->directory, 0);
	else
		rc = sd_journal_open(&mj->j,
				     SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open the journal%s%s: %s",
			 o->directory ? " in " : "",
			 o->directory ? o->directory : "", strerror(-rc));
		goto fail;
	}
	for (i = 0; i < o->nmatch; i++) {
		if (i && (rc = sd_journal_add_disjunction(mj->j)) < 0) {
			snprintf(err, errlen, "journal_match: %s",
				 strerror(-rc));
			goto fail;
		}
		rc = config_journal_terms(o->match[i], add_term, mj, err,
					  errlen);
		if (rc < 0)
			goto fail;
	}
	if (o->cursor && *o->cursor) {
		rc = sd_journal_seek_cursor(mj->j, o->cursor);
		if (rc < 0) {
			snprintf(err, errlen, "journal cursor '%s': %s",
				 o->cursor, strerror(-rc));
			goto fail;
		}
		mj->resume = xstrdup(o->cursor);
		mj->resume_usec = cursor_usec(o->cursor);
	} else {
		rc = sd_journal_seek_realtime_usec(mj->j, o->since_usec);
		if (rc < 0) {
			snprintf(err, errlen, "journal seek: %s",
				 strerror(-rc));
			goto fail;
		}
	}
	*out = mj;
	return 0;
fail:
	journal_close(mj);
	return rc < 0 ? rc : -EINVAL;
}

void journal_close(struct mx_journal *mj)
{
	size_t i;

	if (!mj)
		return;
	if (mj->j)
		sd_journal_close(mj->j);
	for (i = 0; i < mj->nunits; i++)
		free(mj->units[i]);
	free(mj->units);
	free(mj->resume);
	free(mj->cursor);
	free(mj->buf);
	free(mj);
}

const char *journal_cursor(const struct mx_journal *mj)
{
	return mj->cursor;
}

int journal_fd(struct mx_journal *mj)
{
	int fd = sd_journal_get_fd(mj->j);

	return fd < 0 ? -1 : fd;
}

void journal_process(struct mx_journal *mj)
{
	sd_journal_process(mj->j);
}

int journal_usage(struct mx_journal *mj, uint64_t *bytes)
{
	return sd_journal_get_usage(mj->j, bytes);
}

static bool in_list(const char *s, const char *const *l, size_t n, bool glob)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (glob ? fnmatch(l[i], s, 0) == 0 : strcmp(l[i], s) == 0)
			return true;
	return false;
}

/* trusted - journald's own fields say the MTA wrote the current entry */
static bool trusted(struct mx_journal *mj)
{
	char uid[32], comm[64], unit[256], *end;
	unsigned long u;

	if (!field(mj->j, "_UID", uid, sizeof(uid))) {
		snprintf(mj->why, sizeof(mj->why), "no _UID");
		return false;
	}
	errno = 0;
	u = strtoul(uid, &end, 10);
	if (errno || *end || end == uid || u > JOURNAL_SYSTEM_UID_MAX) {
		snprintf(mj->why, sizeof(mj->why),
			 "_UID=%s is not a system account", uid);
		return false;
	}
	if (!field(mj->j, "_COMM", comm, sizeof(comm)) ||
	    !in_list(comm, mta_comms, ARRAY_SIZE(mta_comms), false)) {
		snprintf(mj->why, sizeof(mj->why),
			 "_COMM=%s is not an MTA program", comm);
		if (!field(mj->j, "_COMM", comm, sizeof(comm)))
			snprintf(mj->why, sizeof(mj->why), "no _COMM");
		return false;
	}
	if (!field(mj->j, "_SYSTEMD_UNIT", unit, sizeof(unit))) {
		snprintf(mj->why, sizeof(mj->why), "no _SYSTEMD_UNIT");
		return false;
	}
	if (!in_list(unit, mta_units, ARRAY_SIZE(mta_units), true) &&
	    !in_list(unit, (const char *const *)mj->units, mj->nunits, false)) {
		snprintf(mj->why, sizeof(mj->why),
			 "_SYSTEMD_UNIT=%.120s is not an MTA's unit (name it "
			 "in journal_match)",
			 unit);
		return false;
	}
	return true;
}

/* render - the entry as journalctl -o short-iso prints it, into mj->buf */
static size_t render(struct mx_journal *mj, uint64_t usec)
{
	char host[256], ident[256], pid[32], stamp[64];
	const void *d;
	size_t l = 0, n, i;
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	int k;

	if (!field(mj->j, "_HOSTNAME", host, sizeof(host)))
		snprintf(host, sizeof(host), "localhost");
	if (!field(mj->j, "SYSLOG_IDENTIFIER", ident, sizeof(ident)) &&
	    !field(mj->j, "_COMM", ident, sizeof(ident)))
		snprintf(ident, sizeof(ident), "unknown");
	if (!field(mj->j, "SYSLOG_PID", pid, sizeof(pid)) &&
	    !field(mj->j, "_PID", pid, sizeof(pid)))
		pid[0] = '\0';
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (sd_journal_get_data(mj->j, "MESSAGE", &d, &l) < 0 || l < 8) {
		d = "MESSAGE=";
		l = 8;
	}
	l -= 8;
	if (l > JOURNAL_LINE_MAX)
		l = JOURNAL_LINE_MAX;
	n = strlen(stamp) + strlen(host) + strlen(ident) + strlen(pid) + 32 + l;
	if (n > mj->cap) {
		mj->cap = n;
		mj->buf = xreallocarray(mj->buf, mj->cap, 1);
	}
	k = snprintf(mj->buf, mj->cap, "%s.%06u+00:00 %s %s%s%s%s: ", stamp,
		     (unsigned int)(usec % 1000000), host, ident,
		     pid[0] ? "[" : "", pid, pid[0] ? "]" : "");
	memcpy(mj->buf + k, (const char *)d + 8, l);
	/* one line: a message's own newlines or NULs become spaces */
	for (i = (size_t)k; i < (size_t)k + l; i++)
		if (mj->buf[i] == '\n' || mj->buf[i] == '\0')
			mj->buf[i] = ' ';
	return (size_t)k + l;
}

int journal_next(struct mx_journal *mj, struct mx_journal_entry *e)
{
	uint64_t usec;
	char *c;
	int rc;

	for (;;) {
		rc = sd_journal_next(mj->j);
		if (rc <= 0)
			return rc;
		if (sd_journal_get_realtime_usec(mj->j, &usec) < 0)
			usec = 0;
		if (mj->resume) {
			bool saved =
			    sd_journal_test_cursor(mj->j, mj->resume) > 0;

			/* the saved entry was vacuumed: skip what is older
			 * than it (sd-journal's nearest match) */
			if (!saved && mj->resume_usec && usec < mj->resume_usec)
				continue;
			free(mj->resume);
			mj->resume = NULL;
			if (saved)
				continue; /* returned before the restart */
		}
		break;
	}
	if (sd_journal_get_cursor(mj->j, &c) >= 0) {
		free(mj->cursor);
		mj->cursor = c;
	}
	e->len = render(mj, usec);
	e->line = mj->buf;
	e->time = (int64_t)(usec / 1000000);
	e->trusted = trusted(mj);
	e->why = e->trusted ? NULL : mj->why;
	return 1;
}
