// SPDX-License-Identifier: GPL-2.0
/*
 * reader_proc.c - the processes the watcher forks to read its logs
 * (reader.c says why and how they talk): the spawner, which drops to an
 * unprivileged user and forks readers on request, and the reader itself,
 * confined by seccomp, which follows the logs through follow.c (its open,
 * stat and inotify calls answered by the watcher), parses them and sends
 * records (rdwire.h); and the descriptor passing both sides use. A
 * reader may be made to misbehave by the test hook reader= (core/testhook.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/mxwall.h"
#include "core/privsep.h"
#include "mta/follow.h"
#include "watch/rdwire.h"
#include "watch/reader.h"
#include "watch/reader_int.h"

/* ---- fd passing ---- */

ssize_t send_fd_flags(int sock, const void *buf, size_t len, int fd, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	ssize_t n;

	if (fd >= 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t send_fd(int sock, const void *buf, size_t len, int fd)
{
	return send_fd_flags(sock, buf, len, fd, 0);
}

ssize_t recv_fd(int sock, void *buf, size_t len, int *fd, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return n;
}

char *dir_of(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');

	if (!slash) {
		free(dir);
		return xstrdup(".");
	}
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return dir;
}

/* ==== the reader process ==== */

struct wfile {
	bool fed;     /* RC_LINE brings its lines */
	uint64_t seq; /* fed: the last entry read */
	char *path;
	size_t pathlen;
	struct follow_file *ff;
	struct scanner *sc;
	int64_t ref_time;
	uint64_t lines; /* since the last RD_POS */
	struct db_pos sent;
	bool midline; /* RC_MIDLINE */
};

struct worker {
	int sock;
	int64_t now;
	struct wfile *f;
	size_t nf;
	struct rd_rec out[RD_BATCH];
	size_t nout;
	uint64_t gen;
	enum hook hook;
	uint64_t lines_total;
};

static void wk_die(const char *what)
{
	log_err("reader: %s: %s", what, strerror(errno));
	_exit(1);
}

static void wk_flush(struct worker *wk)
{
	if (!wk->nout)
		return;
	if (send_fd(wk->sock, wk->out, wk->nout * sizeof(wk->out[0]), -1) < 0)
		_exit(errno == EPIPE || errno == ECONNRESET ? 0 : 1);
	wk->nout = 0;
}

static struct rd_rec *wk_rec(struct worker *wk)
{
	if (wk->nout == RD_BATCH)
		wk_flush(wk);
	memset(&wk->out[wk->nout], 0, sizeof(wk->out[0]));
	return &wk->out[wk->nout++];
}

static void wk_feed(struct worker *wk, const struct rd_ctl *m, size_t len);

/*
 * wk_midline - stopping (SIGHUP) inside a line of stdin: say so, and the
 * next reader drops the rest of that line (follow_skip_line), which
 * neither of us can read whole
 */
static void wk_midline(struct worker *wk)
{
	size_t i;

	for (i = 0; i < wk->nf; i++) {
		if (!wk->f[i].ff || !follow_is_stdin(wk->f[i].ff) ||
		    !follow_midline(wk->f[i].ff))
			continue;
		struct rd_rec *r = wk_rec(wk);

		r->type = RD_MIDLINE;
		r->file = (uint16_t)i;
	}
}

/*
 * wk_ctl - one message of the watcher; the clock and the entries of a fed
 * source are taken on the way. -1 when none is there (MSG_DONTWAIT).
 */
static ssize_t wk_ctl_flags(struct worker *wk, struct rd_ctl *m, int *fd,
			    int flags)
{
	ssize_t n = recv_fd(wk->sock, m, sizeof(*m), fd, flags);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	if (n == 0) {
		wk_midline(wk);
		wk_flush(wk); /* what was read counts */
		_exit(0);     /* the watcher stops us (or is gone) */
	}
	if (n < (ssize_t)offsetof(struct rd_ctl, text))
		wk_die("message from the watcher");
	n -= (ssize_t)offsetof(struct rd_ctl, text);
	m->text[(size_t)n < sizeof(m->text) ? (size_t)n : sizeof(m->text) - 1] =
	    '\0';
	if (m->type == RC_NOW || m->type == RC_GO)
		wk->now = m->now;
	if (m->type == RC_LINE)
		wk_feed(wk, m, (size_t)n);
	return n;
}

static ssize_t wk_ctl(struct worker *wk, struct rd_ctl *m, int *fd)
{
	return wk_ctl_flags(wk, m, fd, 0);
}

/* wk_ask - a request; 0 (st and *fdp from the answer) or -1 with errno */
static int wk_ask(struct worker *wk, uint8_t type, size_t file, uint8_t kind,
		  struct stat *st, int *fdp)
{
	struct rd_ctl *m = xmalloc(sizeof(*m));
	struct rd_rec *r = wk_rec(wk);
	int fd;

	r->type = type;
	r->file = (uint16_t)file;
	r->kind = kind;
	wk_flush(wk);
	for (;;) {
		wk_ctl(wk, m, &fd);
		if (m->type == RC_REPLY)
			break;
		if (fd >= 0)
			close(fd);
	}
	if (m->err) {
		if (fd >= 0)
			close(fd);
		errno = m->err;
		free(m);
		return -1;
	}
	if (st)
		*st = m->st;
	free(m);
	if (fdp)
		*fdp = fd;
	else if (fd >= 0)
		close(fd);
	return 0;
}

/* wk_name - which log and which of its names path is */
static bool wk_name(struct worker *wk, const char *path, size_t *file,
		    uint8_t *kind)
{
	size_t i, k;

	for (i = 0; i < wk->nf; i++) {
		if (wk->f[i].fed ||
		    strncmp(path, wk->f[i].path, wk->f[i].pathlen))
			continue;
		for (k = 0; k <= RD_NAME_MAX; k++) {
			if (!strcmp(path + wk->f[i].pathlen,
				    rd_name_suffix[k])) {
				*file = i;
				*kind = (uint8_t)k;
				return true;
			}
		}
	}
	return false;
}

static int wk_open(void *arg, const char *path, int flags)
{
	struct worker *wk = arg;
	uint8_t kind;
	size_t file;
	int fd;

	if (!wk_name(wk, path, &file, &kind)) {
		errno = EACCES;
		return -1;
	}
	if (wk_ask(wk, RD_OPEN, file, kind, NULL, &fd))
		return -1;
	if (fd < 0) {
		errno = EIO;
		return -1;
	}
	if (!(flags & O_NONBLOCK)) {
		int fl = fcntl(fd, F_GETFL);

		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	return fd;
}

static int wk_stat(void *arg, const char *path, struct stat *st)
{
	struct worker *wk = arg;
	uint8_t kind;
	size_t file;

	if (!wk_name(wk, path, &file, &kind) || kind != RD_NAME_LOG) {
		errno = EACCES;
		return -1;
	}
	return wk_ask(wk, RD_STAT, file, 0, st, NULL);
}

static int wk_watch(void *arg, int ifd, const char *dir, uint32_t mask)
{
	struct worker *wk = arg;
	size_t i;

	(void)ifd;
	(void)mask;
	/* follow.c watches the directory of a log: which log says it */
	for (i = 0; i < wk->nf; i++) {
		char *d;

		if (wk->f[i].fed)
			continue;
		d = dir_of(wk->f[i].path);
		bool same = !strcmp(d, dir);

		free(d);
		if (same)
			return wk_ask(wk, RD_WATCH, i, 0, NULL, NULL) ? -1 : 1;
	}
	errno = EACCES;
	return -1;
}

static int wk_line(void *arg, struct follow_file *ff, const char *line,
		   size_t len)
{
	struct worker *wk = arg;
	struct wfile *f = follow_data(ff);
	struct scan_event ev;
	struct db_pos pos;
	int64_t ref = follow_mtime(ff);

	if (ref <= 0 || ref > wk->now)
		ref = wk->now;
	if (ref != f->ref_time) {
		scanner_set_ref_time(f->sc, ref);
		f->ref_time = ref;
	}
	f->lines++;
	wk->lines_total++;
	if (scanner_feed(f->sc, line, len, &ev) == 1) {
		follow_pos(ff, &pos);
		struct rd_rec *r = wk_rec(wk);

		if (rdwire_encode(&ev, (uint16_t)(f - wk->f), &pos, r)) {
			wk->nout--;
			log_warn("reader: an event of %s cannot be sent "
				 "(MTA or tag without an id)",
				 f->path);
		} else {
			size_t file;
			uint8_t kind = RD_NAME_LOG;

			/* catching up a rotated copy: which one */
			if (!wk_name(wk, follow_name(ff), &file, &kind))
				kind = RD_NAME_LOG;
			r->kind = kind;
			r->lines = f->lines;
			f->lines = 0;
			f->sent = pos;
		}
	}
	return 0;
}

/* wk_feed - an entry of a fed source: parse it like a line of a log */
static void wk_feed(struct worker *wk, const struct rd_ctl *m, size_t len)
{
	struct wfile *f;
	struct scan_event ev;

	if (m->file >= wk->nf || !wk->f[m->file].fed || !wk->f[m->file].sc)
		return;
	f = &wk->f[m->file];
	if (wk->now != f->ref_time) {
		scanner_set_ref_time(f->sc, wk->now);
		f->ref_time = wk->now;
	}
	f->lines++;
	wk->lines_total++;
	f->seq = m->pos.offset;
	if (scanner_feed(f->sc, m->text, len, &ev) == 1) {
		struct db_pos pos = {.offset = f->seq};
		struct rd_rec *r = wk_rec(wk);

		if (rdwire_encode(&ev, (uint16_t)m->file, &pos, r)) {
			wk->nout--;
			log_warn("reader: an event of %s cannot be sent "
				 "(MTA or tag without an id)",
				 f->path);
		} else {
			r->lines = f->lines;
			f->lines = 0;
			f->sent = pos;
		}
	}
}

/* wk_positions - a position record for every log that moved */
static void wk_positions(struct worker *wk)
{
	struct db_pos pos;
	struct rd_rec *r;
	size_t i;

	for (i = 0; i < wk->nf; i++) {
		struct wfile *f = &wk->f[i];

		if (f->fed) {
			memset(&pos, 0, sizeof(pos));
			pos.offset = f->seq;
		} else {
			follow_pos(f->ff, &pos);
		}
		if (!f->lines && !memcmp(&pos, &f->sent, sizeof(pos)))
			continue;
		r = wk_rec(wk);
		r->type = RD_POS;
		r->file = (uint16_t)i;
		r->pos = pos;
		r->lines = f->lines;
		f->lines = 0;
		f->sent = pos;
	}
}

/*
 * wk_hook - test-only: once the first reader has read a line, a system
 * call the filter must refuse (it kills), or a record the watcher must
 * refuse (an event of address family 99)
 */
static void wk_hook(struct worker *wk)
{
	struct rd_rec *r;

	if (wk->hook == HOOK_NONE || wk->gen != 1 || !wk->lines_total)
		return;
	switch (wk->hook) {
	case HOOK_RECORD:
		r = wk_rec(wk);
		r->type = RD_EVENT;
		r->family = 99;
		r->tag[0] = 1;
		r->lines = 1;
		wk_flush(wk);
		wk->hook = HOOK_NONE;
		return;
	case HOOK_OPEN:
		open("/etc/hostname", O_RDONLY);
		break;
	case HOOK_EXEC:
		execl("/bin/true", "true", (char *)NULL);
		break;
	case HOOK_BPF:
		syscall(SYS_bpf, 0, NULL, 0);
		break;
	default:
		break;
	}
	log_err("reader: the test hook's system call was not refused");
	_exit(3);
}

static void worker_main(int sock)
{
	static const struct follow_ops ops = {wk_open, wk_stat, wk_watch, NULL};
	struct follow_ops o = ops;
	struct worker wk = {.sock = sock};
	struct rd_ctl *m = xmalloc(sizeof(*m));
	struct scan_opts so = {0};
	const char **traps = NULL;
	struct follower *fw;
	struct pollfd pfd[8];
	bool ready = false;
	size_t i, npfd;
	int fd, ifd = -1;

	/* the time zone file is read now: the filter forbids open */
	if (!getenv("TZ"))
		setenv("TZ", ":/etc/localtime", 1);
	tzset();
	log_use_syslog(false);
	if (privsep_seccomp_reader())
		wk_die("seccomp");
	for (;;) {
		wk_ctl(&wk, m, &fd);
		if (m->type == RC_FILE) {
			struct wfile *f;

			wk.f = xreallocarray(wk.f, wk.nf + 1, sizeof(*wk.f));
			f = &wk.f[wk.nf++];
			memset(f, 0, sizeof(*f));
			f->path = xstrdup(m->text);
			f->pathlen = strlen(f->path);
			f->sent = m->pos;
			f->fed = m->flags & RC_FED;
			f->midline = m->flags & RC_MIDLINE;
			f->seq = m->pos.offset;
		} else if (m->type == RC_TRAP) {
			traps = xreallocarray(traps, so.nspamtraps + 1,
					      sizeof(*traps));
			traps[so.nspamtraps++] = xstrdup(m->text);
		} else if (m->type == RC_GO) {
			ifd = fd;
			wk.gen = m->gen;
			wk.hook = (enum hook)m->hook;
			break;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	so.spamtraps = traps;
	o.arg = &wk;
	fw = follower_new_ops(&o, ifd);
	for (i = 0; i < wk.nf; i++) {
		struct wfile *f = &wk.f[i];
		struct db_pos resume = f->sent;

		f->sc = scanner_new(&so);
		if (f->fed)
			continue;
		follower_add(fw, f->path, resume.inode ? &resume : NULL,
			     &f->ff);
		follow_set_data(f->ff, f);
		follow_pos(f->ff, &f->sent);
		if (f->midline && f->ff && follow_is_stdin(f->ff))
			follow_skip_line(f->ff);
	}
	for (;;) {
		follower_run(fw, wk_line, &wk);
		wk_positions(&wk);
		if (!ready) {
			wk_rec(&wk)->type = RD_READY;
			ready = true;
		}
		if (follower_eof(fw)) {
			wk_rec(&wk)->type = RD_EOF;
			wk_flush(&wk);
			_exit(0);
		}
		wk_flush(&wk);
		wk_hook(&wk);
		pfd[0].fd = sock;
		pfd[0].events = POLLIN;
		npfd = 1 + follower_pollfds(fw, pfd + 1, ARRAY_SIZE(pfd) - 1);
		if (poll(pfd, (nfds_t)npfd, 1000) < 0 && errno != EINTR)
			wk_die("poll");
		/* everything the watcher sent: clock, fed entries */
		while (pfd[0].revents &&
		       wk_ctl_flags(&wk, m, &fd, MSG_DONTWAIT) >= 0) {
			if (fd >= 0)
				close(fd);
			if (wk.nout >= RD_BATCH / 2)
				break; /* positions go out between */
		}
	}
}

/* ==== the spawner ==== */

static void sp_send(int ctl, uint32_t op, pid_t pid, int status)
{
	struct sp_msg m = {.op = op, .pid = pid, .status = status};

	if (send_fd(ctl, &m, sizeof(m), -1) < 0)
		_exit(0); /* the watcher is gone */
}

void spawner_main(int ctl, uid_t uid, gid_t gid, pid_t watcher)
{
	struct pollfd pfd[2];
	struct sp_msg m;
	sigset_t mask;
	int sfd, fd, err;
	pid_t pid;

	/* nothing of the watcher's: maps, database, netlink, lock */
	if (dup2(ctl, 3) < 0)
		_exit(1);
	ctl = 3;
	close_range(4, ~0U, 0);
	err = privsep_become(uid, gid);
	if (err) {
		log_err("reader: cannot drop privileges: %s", strerror(-err));
		_exit(1);
	}
	/* after the switch of ids, which clears it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != watcher)
		_exit(0);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		_exit(1);
	pfd[0].fd = ctl;
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			_exit(1);
		if (pfd[1].revents) {
			struct signalfd_siginfo si;
			int status;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
				sp_send(ctl, SP_DIED, pid, status);
		}
		if (!pfd[0].revents)
			continue;
		if (recv_fd(ctl, &m, sizeof(m), &fd, 0) <= 0)
			_exit(0); /* the watcher is gone: readers die too */
		if (m.op == SP_KILL && m.pid > 0 &&
		    waitpid(m.pid, NULL, WNOHANG | WNOWAIT) == 0) {
			/* our child, alive or not yet reaped: its pid is
			 * not anybody else's */
			kill(m.pid, SIGKILL);
		}
		if (m.op != SP_SPAWN || fd < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		pid = fork();
		if (pid == 0) {
			if (dup2(fd, 3) < 0)
				_exit(1);
			close_range(4, ~0U, 0);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			sigprocmask(SIG_UNBLOCK, &mask, NULL);
			worker_main(3);
			_exit(0);
		}
		close(fd);
		if (pid < 0)
			sp_send(ctl, SP_FAILED, 0, errno);
		else
			sp_send(ctl, SP_SPAWNED, pid, 0);
	}
}
