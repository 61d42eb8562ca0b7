// SPDX-License-Identifier: GPL-2.0
/*
 * mail.c - the weekly report goes out through the local MTA's sendmail
 * (mail.h). Nothing here speaks SMTP: queueing, retries and delivery are
 * the MTA's job, and it is the MTA mxwall protects that knows how.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report/mail.h"
#include "core/mxwall.h"

static bool is_exec(const char *path)
{
	return access(path, X_OK) == 0;
}

int mail_find_sendmail(const char *prog, char *buf, size_t len)
{
	static const char *const fallback[] = {
	    "/usr/sbin/sendmail",
	    "/usr/lib/sendmail",
	};
	const char *path, *p, *end;
	char cand[4096];
	size_t i;

	if (prog && *prog && strcmp(prog, MAIL_SENDMAIL_DEFAULT)) {
		if (!is_exec(prog))
			return -ENOENT;
		return snprintf(buf, len, "%s", prog) >= (int)len
			   ? -ENAMETOOLONG
			   : 0;
	}
	path = getenv("PATH");
	for (p = path; p && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end == p)
			continue;
		if (snprintf(cand, sizeof(cand), "%.*s/sendmail",
			     (int)(end - p), p) >= (int)sizeof(cand))
			continue;
		if (is_exec(cand))
			return snprintf(buf, len, "%s", cand) >= (int)len
				   ? -ENAMETOOLONG
				   : 0;
	}
	for (i = 0; i < ARRAY_SIZE(fallback); i++)
		if (is_exec(fallback[i]))
			return snprintf(buf, len, "%s", fallback[i]) >= (int)len
				   ? -ENAMETOOLONG
				   : 0;
	return -ENOENT;
}

static bool header_safe(const char *s)
{
	return s && !strpbrk(s, "\r\n");
}

/* build_message - headers and body in one malloc'd buffer */
static char *build_message(const char *to, const char *subject,
			   const char *body)
{
	char host[256] = "localhost", date[64], user[64] = "root";
	struct passwd *pw = getpwuid(geteuid());
	char *msg = NULL;
	size_t len = 0;
	struct tm tm;
	time_t now = time(NULL);
	FILE *f;

	if (gethostname(host, sizeof(host) - 1) || !header_safe(host) ||
	    !host[0])
		snprintf(host, sizeof(host), "localhost");
	if (pw && header_safe(pw->pw_name))
		snprintf(user, sizeof(user), "%s", pw->pw_name);
	/* RFC 5322 date: English names whatever the locale */
	localtime_r(&now, &tm);
	{
		static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed",
						 "Thu", "Fri", "Sat"};
		static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr",
						  "May", "Jun", "Jul", "Aug",
						  "Sep", "Oct", "Nov", "Dec"};
		long off = tm.tm_gmtoff / 60;

		snprintf(date, sizeof(date),
			 "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
			 wd[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon],
			 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	}
	f = open_memstream(&msg, &len);
	if (!f)
		return NULL;
	fprintf(f,
		"From: mxwall <%s@%s>\n"
		"To: %s\n"
		"Subject: %s\n"
		"Date: %s\n"
		"Message-ID: <mxwall.%lld.%d@%s>\n"
		"MIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"Content-Transfer-Encoding: 8bit\n"
		"Auto-Submitted: auto-generated\n"
		"\n%s",
		user, host, to, subject, date, (long long)now, (int)getpid(),
		host, body);
	if (body[0] && body[strlen(body) - 1] != '\n')
		fputc('\n', f);
	if (fclose(f)) {
		free(msg);
		return NULL;
	}
	return msg;
}

int mail_send(const char *sendmail, const char *to, const char *subject,
	      const char *body, char *err, size_t errlen)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	int pfd[2] = {-1, -1}, status, rc = 0;
	char *msg = NULL;
	pid_t pid;

	if (!header_safe(to) || !header_safe(subject) || !*to) {
		snprintf(err, errlen,
			 "the recipient or subject is not one line");
		return -EINVAL;
	}
	msg = build_message(to, subject, body);
	if (!msg) {
		snprintf(err, errlen, "cannot build the message");
		return -ENOMEM;
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		if (dup2(pfd[0], STDIN_FILENO) < 0)
			_exit(127);
		execl(sendmail, "sendmail", "-t", "-i", (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	pfd[0] = -1;
	/* a sendmail that dies early must not kill us with SIGPIPE */
	sigaction(SIGPIPE, &ign, &old);
	rc = write_all(pfd[1], msg, strlen(msg));
	close(pfd[1]);
	pfd[1] = -1;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	sigaction(SIGPIPE, &old, NULL);
	if (status == -1) {
		rc = -ECHILD;
		snprintf(err, errlen, "lost track of %s", sendmail);
	} else if (WIFSIGNALED(status)) {
		rc = -EIO;
		snprintf(err, errlen, "%s was killed by signal %d", sendmail,
			 WTERMSIG(status));
	} else if (WEXITSTATUS(status) == 127) {
		rc = -ENOENT;
		snprintf(err, errlen, "cannot run %s", sendmail);
	} else if (WEXITSTATUS(status)) {
		rc = -EIO;
		snprintf(err, errlen, "%s exited with status %d", sendmail,
			 WEXITSTATUS(status));
	} else if (rc) {
		snprintf(err, errlen, "writing to %s: %s", sendmail,
			 strerror(-rc));
	}
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(msg);
	return rc;
}
