// SPDX-License-Identifier: GPL-2.0
/*
 * reader.c - the log reader in its own unprivileged, seccomp-confined
 * process, and the watcher's side of it (reader.h).
 *
 * Sockets (SOCK_SEQPACKET: a message arrives whole or not at all):
 *  - ctl, watcher <-> spawner: "spawn a reader on this socket" (the socket
 *    passed with SCM_RIGHTS), "spawned pid", "pid died with status";
 *  - sock, watcher <-> reader: the reader's records (rdwire.h), in
 *    batches; the watcher's messages (struct rd_ctl): the logs to follow
 *    and where to resume, the spam traps, the clock, and answers to the
 *    reader's requests, an opened log passed with SCM_RIGHTS.
 *
 * The reader names what it wants opened by log index and rotation suffix
 * (enum rd_name), never by path: the watcher builds the path from its own
 * configuration. follow.c runs unchanged in the reader; its open, stat and
 * inotify calls go through follow_ops to the watcher.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
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
#include "core/testhook.h"
#include "mta/follow.h"
#include "watch/rdwire.h"
#include "watch/reader.h"

#define RESTART_MIN_MS 100
#define RESTART_MAX_MS 10000
#define RUN_MSGS 256	    /* messages per reader_run() */
#define SEEN_MAX 8	    /* file identities remembered per log */
#define STATUS_WAIT_MS 2000 /* for the spawner to report a death */

/* the watcher's messages to the reader */
enum rd_ctl_type {
	RC_FILE = 1, /* a log: file, flags (RC_STDIN), pos, text = path */
	RC_TRAP,     /* a spam trap address: text */
	RC_GO,	     /* that was all: now, gen, hook; the inotify fd */
	RC_REPLY,    /* the answer to a request: err, st; an fd */
	RC_NOW,	     /* the watcher's clock moved */
	RC_LINE,     /* an entry of a fed source: file, pos.offset (its
		      * number), text (no NUL) */
};
#define RC_STDIN 1
#define RC_FED 2      /* RC_FILE: lines come as RC_LINE (the journal) */
#define RC_MIDLINE 4  /* RC_FILE: stdin is inside a line: skip to its end */
#define FEED_MAX 4096 /* entries of a fed source in flight */

struct rd_ctl {
	uint32_t type;
	int32_t err; /* RC_REPLY: 0 or an errno */
	uint32_t file;
	uint32_t flags;
	int64_t now;
	uint64_t gen;
	uint32_t hook; /* enum hook: a test makes the first reader misbehave */
	uint32_t pad;
	struct db_pos pos;
	struct stat st;
	char text[SCAN_LINE_MAX + 2];
};

/* the spawner's messages */
enum sp_op { SP_SPAWN = 1, SP_SPAWNED, SP_FAILED, SP_DIED, SP_KILL };
struct sp_msg {
	uint32_t op;
	int32_t pid;
	int32_t status; /* SP_DIED: wait status; SP_FAILED: errno */
	int32_t pad;
};

/* test-only: the hook reader= makes the first reader misbehave */
enum hook { HOOK_NONE, HOOK_OPEN, HOOK_EXEC, HOOK_BPF, HOOK_RECORD };

struct rfile {
	char *path;
	char *names[RD_NAME_MAX + 1]; /* path and its rotated names */
	bool is_stdin;
	struct db_pos pos;
	uint64_t seen_dev[SEEN_MAX], seen_ino[SEEN_MAX];
	size_t nseen, seen_next;
};

/* an entry of the fed source, kept until the reader says it was read */
struct fed {
	uint64_t seq;
	char *line;
	size_t len;
	char *cursor;
};

struct reader {
	pid_t spawner;
	int ctl;
	int ifd;  /* inotify: kept here, handed to each reader */
	int sock; /* to the running reader, -1 none */
	pid_t pid;
	struct rfile *f;
	size_t nf;
	char **traps;
	size_t ntraps;
	uint64_t gen;
	int64_t now_sent;
	bool ready, eof, progressed, restart_pending, spawner_gone, stopping;
	bool midline; /* the last reader stopped inside a line of stdin */
	unsigned int backoff_ms;
	struct timespec started, restart_at;
	enum hook hook;
	/* a death the spawner reported before we asked */
	pid_t died_pid;
	int died_status;
	/* the fed source (the journal): entries sent, not yet read */
	size_t fed_file; /* SIZE_MAX: none */
	struct fed fq[FEED_MAX];
	size_t fq_head, fq_n, fq_sent;
	uint64_t fq_seq; /* of the last entry queued */
	char *fq_cursor; /* of the last entry read by a reader */
	bool fq_moved;
};

/* ---- fd passing ---- */

static ssize_t send_fd_flags(int sock, const void *buf, size_t len, int fd,
			     int flags)
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

static ssize_t send_fd(int sock, const void *buf, size_t len, int fd)
{
	return send_fd_flags(sock, buf, len, fd, 0);
}

/* recv_fd - one message; *fd gets a passed descriptor or -1 */
static ssize_t recv_fd(int sock, void *buf, size_t len, int *fd, int flags)
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

/* dir_of - the directory follow.c watches for path */
static char *dir_of(const char *path)
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

static void spawner_main(int ctl, uid_t uid, gid_t gid, pid_t watcher)
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

/* ==== the watcher's side ==== */

struct reader *reader_new(void)
{
	struct reader *r = xcalloc(1, sizeof(*r));
	const char *user = NULL;
	int sv[2], err;
	uid_t uid = getuid();
	gid_t gid = getgid();
	pid_t watcher = getpid();

	if (geteuid() == 0 || uid == 0) {
		err = privsep_user(&uid, &gid, &user);
		if (err) {
			log_err("no user " PRIVSEP_USER
				" or " PRIVSEP_FALLBACK_USER
				" to read the logs as");
			free(r);
			errno = -err;
			return NULL;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		free(r);
		return NULL;
	}
	fflush(NULL);
	r->spawner = fork();
	if (r->spawner < 0) {
		err = errno;
		close(sv[0]);
		close(sv[1]);
		free(r);
		errno = err;
		return NULL;
	}
	if (r->spawner == 0) {
		close(sv[0]);
		spawner_main(sv[1], uid, gid, watcher);
		_exit(0);
	}
	close(sv[1]);
	r->ctl = sv[0];
	r->sock = -1;
	r->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->ifd < 0)
		log_warn("inotify: %s; polling logs once a second instead",
			 strerror(errno));
	r->backoff_ms = RESTART_MIN_MS;
	r->fed_file = SIZE_MAX;
	if (mx_test_hook_is("reader", "open"))
		r->hook = HOOK_OPEN;
	else if (mx_test_hook_is("reader", "exec"))
		r->hook = HOOK_EXEC;
	else if (mx_test_hook_is("reader", "bpf"))
		r->hook = HOOK_BPF;
	else if (mx_test_hook_is("reader", "record"))
		r->hook = HOOK_RECORD;
	log_debug("log reader: user %s, spawner pid %d",
		  user ? user : "(the caller's)", (int)r->spawner);
	return r;
}

/* ctl_wait - the spawner's next message about what we asked, or a death */
static int ctl_recv(struct reader *r, struct sp_msg *m, int timeout_ms)
{
	struct pollfd p = {.fd = r->ctl, .events = POLLIN};
	int fd, rc;

	rc = poll(&p, 1, timeout_ms);
	if (rc <= 0)
		return rc < 0 ? -errno : -ETIMEDOUT;
	rc = (int)recv_fd(r->ctl, m, sizeof(*m), &fd, MSG_DONTWAIT);
	if (fd >= 0)
		close(fd);
	if (rc == 0 || (rc < 0 && errno != EAGAIN)) {
		r->spawner_gone = true;
		return -EPIPE;
	}
	return rc == (int)sizeof(*m) ? 1 : 0;
}

static void describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(buf, len,
			 "was killed by its seccomp filter (SIGSYS): it made "
			 "a system call a log reader never needs");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended (status 0x%x)", (unsigned)status);
}

/* reap - the status of the reader pid from the spawner; -1 if unknown */
static int reap(struct reader *r, pid_t pid)
{
	struct sp_msg m;
	int rc;

	if (r->died_pid == pid) {
		r->died_pid = 0;
		return r->died_status;
	}
	for (;;) {
		rc = ctl_recv(r, &m, STATUS_WAIT_MS);
		if (rc < 0)
			return -1;
		if (rc == 1 && m.op == SP_DIED && m.pid == pid)
			return m.status;
	}
}

/*
 * sp_kill - the spawner kills the reader: the watcher may not (no
 * CAP_KILL, and another uid), and the spawner knows the pid is its own
 */
static void sp_kill(struct reader *r, pid_t pid)
{
	struct sp_msg m = {.op = SP_KILL, .pid = pid};

	if (pid > 0 && send_fd(r->ctl, &m, sizeof(m), -1) < 0)
		r->spawner_gone = true;
}

/* gone - the reader's socket ended: learn why, plan a restart */
static void gone(struct reader *r, const char *why)
{
	char how[160];
	int status;
	pid_t pid = r->pid;

	if (r->sock >= 0)
		close(r->sock);
	r->sock = -1;
	r->pid = 0;
	if (why)
		sp_kill(r, pid);
	status = reap(r, pid);
	if (r->stopping || (r->eof && !why && status == 0))
		return; /* stopped, or standard input ended */
	if (status < 0)
		snprintf(how, sizeof(how), "ended (status unknown)");
	else
		describe(status, how, sizeof(how));
	if (r->progressed) {
		r->backoff_ms = RESTART_MIN_MS;
	} else {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - r->started.tv_sec >= 10)
			r->backoff_ms = RESTART_MIN_MS;
	}
	log_warn("log reader (pid %d) %s%s%s; restarting it in %u ms", (int)pid,
		 how, why ? " after a bad record: " : "", why ? why : "",
		 r->backoff_ms);
	clock_gettime(CLOCK_MONOTONIC, &r->restart_at);
	r->restart_at.tv_nsec += (long)r->backoff_ms * 1000000L;
	r->restart_at.tv_sec += r->restart_at.tv_nsec / 1000000000L;
	r->restart_at.tv_nsec %= 1000000000L;
	r->restart_pending = true;
	if (!r->progressed)
		r->backoff_ms = r->backoff_ms * 2 > RESTART_MAX_MS
				    ? RESTART_MAX_MS
				    : r->backoff_ms * 2;
	r->ready = true; /* the watcher is up; it waits for nobody */
}

static int ctl_send(struct reader *r, struct rd_ctl *m, size_t textlen, int fd)
{
	return send_fd(r->sock, m, offsetof(struct rd_ctl, text) + textlen,
		       fd) < 0
		   ? -errno
		   : 0;
}

static void seen_add(struct rfile *f, uint64_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < f->nseen; i++)
		if (f->seen_dev[i] == dev && f->seen_ino[i] == ino)
			return;
	f->seen_dev[f->seen_next] = dev;
	f->seen_ino[f->seen_next] = ino;
	f->seen_next = (f->seen_next + 1) % SEEN_MAX;
	if (f->nseen < SEEN_MAX)
		f->nseen++;
}

/* fq_flush - send the queued entries the reader has not got (no wait) */
static void fq_flush(struct reader *r)
{
	static struct rd_ctl *m;

	if (!m)
		m = xcalloc(1, sizeof(*m));
	while (r->sock >= 0 && r->fq_sent < r->fq_n) {
		const struct fed *e =
		    &r->fq[(r->fq_head + r->fq_sent) % FEED_MAX];
		size_t len =
		    e->len < sizeof(m->text) ? e->len : sizeof(m->text);

		memset(m, 0, offsetof(struct rd_ctl, text));
		m->type = RC_LINE;
		m->file = (uint32_t)r->fed_file;
		m->pos.offset = e->seq;
		memcpy(m->text, e->line, len);
		if (send_fd_flags(r->sock, m,
				  offsetof(struct rd_ctl, text) + len, -1,
				  MSG_DONTWAIT) < 0)
			return; /* full: later (POLLOUT), or gone: drain() */
		r->fq_sent++;
	}
}

/* fq_ack - the reader read the fed entries up to seq */
static void fq_ack(struct reader *r, uint64_t seq)
{
	while (r->fq_n && r->fq[r->fq_head].seq <= seq) {
		struct fed *e = &r->fq[r->fq_head];

		free(r->fq_cursor);
		r->fq_cursor = e->cursor;
		free(e->line);
		e->line = NULL;
		e->cursor = NULL;
		r->fq_head = (r->fq_head + 1) % FEED_MAX;
		r->fq_n--;
		if (r->fq_sent)
			r->fq_sent--;
		r->fq_moved = true;
	}
}

static void fq_clear(struct reader *r)
{
	fq_ack(r, UINT64_MAX);
	free(r->fq_cursor);
	r->fq_cursor = NULL;
	r->fq_head = r->fq_n = r->fq_sent = 0;
	r->fq_moved = false;
}

bool reader_feed_room(const struct reader *r)
{
	return r->fed_file != SIZE_MAX && r->fq_n < FEED_MAX;
}

int reader_feed(struct reader *r, const char *line, size_t len,
		const char *cursor)
{
	struct fed *e;

	if (!reader_feed_room(r))
		return -EAGAIN;
	e = &r->fq[(r->fq_head + r->fq_n) % FEED_MAX];
	e->seq = ++r->fq_seq;
	e->line = xmalloc(len ? len : 1);
	memcpy(e->line, line, len);
	e->len = len;
	e->cursor = xstrdup(cursor ? cursor : "");
	r->fq_n++;
	fq_flush(r);
	return 0;
}

const char *reader_fed_cursor(struct reader *r, bool *moved)
{
	if (moved) {
		*moved = r->fq_moved;
		r->fq_moved = false;
	}
	return r->fq_cursor && *r->fq_cursor ? r->fq_cursor : NULL;
}

/* spawn - a new reader, told the logs and where to resume */
static int spawn(struct reader *r, int64_t now)
{
	struct rd_ctl *m;
	struct sp_msg sm = {.op = SP_SPAWN};
	int sv[2], rc, err = 0;
	size_t i;

	r->restart_pending = false;
	if (r->spawner_gone)
		return -EPIPE;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	if (send_fd(r->ctl, &sm, sizeof(sm), sv[1]) < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		r->spawner_gone = true;
		return err;
	}
	close(sv[1]);
	for (;;) {
		rc = ctl_recv(r, &sm, STATUS_WAIT_MS);
		if (rc < 0) {
			close(sv[0]);
			r->spawner_gone = rc == -EPIPE || r->spawner_gone;
			return rc;
		}
		if (rc != 1)
			continue;
		if (sm.op == SP_DIED) {
			r->died_pid = sm.pid;
			r->died_status = sm.status;
			continue;
		}
		break;
	}
	if (sm.op != SP_SPAWNED) {
		close(sv[0]);
		return sm.op == SP_FAILED ? -sm.status : -EPROTO;
	}
	r->sock = sv[0];
	r->pid = sm.pid;
	r->gen++;
	r->ready = false;
	r->progressed = false;
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	m = xcalloc(1, sizeof(*m));
	for (i = 0; i < r->nf && !err; i++) {
		size_t n = strlen(r->f[i].path);

		memset(m, 0, offsetof(struct rd_ctl, text));
		m->type = RC_FILE;
		m->file = (uint32_t)i;
		m->flags = r->f[i].is_stdin ? RC_STDIN : 0;
		if (i == r->fed_file)
			m->flags |= RC_FED;
		if (r->f[i].is_stdin && r->midline)
			m->flags |= RC_MIDLINE;
		m->pos = r->f[i].pos;
		memcpy(m->text, r->f[i].path, n + 1);
		err = ctl_send(r, m, n + 1, -1);
		if (r->f[i].pos.inode)
			seen_add(&r->f[i], r->f[i].pos.dev, r->f[i].pos.inode);
	}
	r->midline = false; /* told to the reader that reads on */
	for (i = 0; i < r->ntraps && !err; i++) {
		size_t n = strlen(r->traps[i]);

		memset(m, 0, offsetof(struct rd_ctl, text));
		m->type = RC_TRAP;
		memcpy(m->text, r->traps[i], n + 1);
		err = ctl_send(r, m, n + 1, -1);
	}
	if (!err) {
		memset(m, 0, offsetof(struct rd_ctl, text));
		m->type = RC_GO;
		m->now = now;
		m->gen = r->gen;
		m->hook = r->hook;
		err = ctl_send(r, m, 0, r->ifd);
	}
	free(m);
	r->now_sent = now;
	r->fq_sent = 0; /* what the last reader did not read, again */
	if (!err)
		fq_flush(r);
	if (err)
		gone(r, NULL);
	else
		log_info("log reader started (pid %d)", (int)r->pid);
	return 0;
}

static void rfiles_free(struct reader *r)
{
	size_t i;

	for (i = 0; i < r->nf; i++) {
		size_t k;

		for (k = 0; k <= RD_NAME_MAX; k++)
			free(r->f[i].names[k]);
		free(r->f[i].path);
	}
	free(r->f);
	r->f = NULL;
	r->nf = 0;
	for (i = 0; i < r->ntraps; i++)
		free(r->traps[i]);
	free(r->traps);
	r->traps = NULL;
	r->ntraps = 0;
}

int reader_start(struct reader *r, char *const *paths, const struct db_pos *pos,
		 size_t n, size_t fed, const struct scan_opts *so, int64_t now)
{
	size_t i;

	if (r->pid)
		reader_stop(r, NULL);
	rfiles_free(r);
	fq_clear(r);
	r->fed_file = fed < n ? fed : SIZE_MAX;
	r->fq_seq = 0;
	r->f = xcalloc(n ? n : 1, sizeof(*r->f));
	r->nf = n;
	for (i = 0; i < n; i++) {
		size_t k, n = strlen(paths[i]);

		r->f[i].path = xstrdup(paths[i]);
		r->f[i].is_stdin = !strcmp(paths[i], "-");
		for (k = 0; k <= RD_NAME_MAX; k++) {
			r->f[i].names[k] = xmalloc(n + 8);
			snprintf(r->f[i].names[k], n + 8, "%s%s", paths[i],
				 rd_name_suffix[k]);
		}
		if (pos && i != r->fed_file)
			r->f[i].pos = pos[i];
	}
	r->traps = xcalloc(so->nspamtraps + 1, sizeof(*r->traps));
	for (i = 0; i < so->nspamtraps; i++)
		r->traps[i] = xstrdup(so->spamtraps[i]);
	r->ntraps = so->nspamtraps;
	r->eof = false;
	r->backoff_ms = RESTART_MIN_MS;
	return spawn(r, now);
}

int reader_pollfd(const struct reader *r)
{
	return r->sock;
}

short reader_pollevents(const struct reader *r)
{
	return POLLIN | (r->fq_sent < r->fq_n ? POLLOUT : 0);
}

int reader_timeout(const struct reader *r, int timeout)
{
	struct timespec now;
	int64_t ms;

	if (!r->restart_pending)
		return timeout;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (r->restart_at.tv_sec - now.tv_sec) * 1000 +
	     (r->restart_at.tv_nsec - now.tv_nsec) / 1000000 + 1;
	if (ms < 0)
		ms = 0;
	return timeout < 0 || ms < timeout ? (int)ms : timeout;
}

bool reader_ready(const struct reader *r)
{
	return r->ready;
}

void reader_pos(const struct reader *r, size_t file, struct db_pos *pos)
{
	*pos = r->f[file].pos;
}

pid_t reader_pid(const struct reader *r)
{
	return r->pid;
}

/* serve - a request of the reader; the path is ours, never the reader's */
static void serve(struct reader *r, const struct rd_rec *q)
{
	struct rfile *f = &r->f[q->file];
	struct rd_ctl m;
	int fd = -1;

	memset(&m, 0, offsetof(struct rd_ctl, text));
	m.type = RC_REPLY;
	if (f->is_stdin) {
		m.err = EINVAL;
	} else if (q->type == RD_OPEN) {
		fd = open(f->names[q->kind],
			  O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd < 0 || fstat(fd, &m.st))
			m.err = errno;
		else if (!S_ISREG(m.st.st_mode) && !S_ISFIFO(m.st.st_mode))
			m.err = EINVAL; /* a device is no log */
		else
			seen_add(f, m.st.st_dev, m.st.st_ino);
		if (m.err && fd >= 0) {
			close(fd);
			fd = -1;
		}
	} else if (q->type == RD_STAT) {
		if (stat(f->path, &m.st))
			m.err = errno;
	} else if (r->ifd < 0) {
		m.err = ENOSYS;
	} else {
		char *dir = dir_of(f->path);
		int wd;

		wd = inotify_add_watch(r->ifd, dir,
				       IN_MODIFY | IN_CREATE | IN_MOVED_TO |
					   IN_MOVED_FROM | IN_DELETE |
					   IN_ATTRIB | IN_CLOSE_WRITE);
		if (wd < 0)
			m.err = errno;
		free(dir);
	}
	if (ctl_send(r, &m, 0, fd) && fd >= 0)
		log_debug("reader reply: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* known - a position names a file opened for this log (or nothing yet) */
static bool known(const struct reader *r, size_t file, const struct db_pos *p)
{
	const struct rfile *f = &r->f[file];
	size_t i;

	if (file == r->fed_file) {
		/* an entry number: at or after what was read, not past what
		 * was sent */
		uint64_t first =
		    r->fq_n ? r->fq[r->fq_head].seq - 1 : r->fq_seq;

		return !p->dev && !p->inode && !p->last_len && !p->last_hash &&
		       !p->line && p->offset >= first &&
		       p->offset <= first + r->fq_sent;
	}
	if (f->is_stdin || (!p->dev && !p->inode))
		return f->is_stdin ? !p->dev && !p->inode : !p->offset;
	for (i = 0; i < f->nseen; i++)
		if (f->seen_dev[i] == p->dev && f->seen_ino[i] == p->inode)
			return true;
	return false;
}

/* take - one message of records: all checked first, then applied */
static const char *take(struct reader *r, const struct rd_rec *rec, size_t n,
			const struct reader_cb *cb)
{
	const char *why = NULL;
	struct scan_event ev;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!rdwire_check(&rec[i], r->nf, &why))
			return why;
		if ((rec[i].type == RD_EVENT || rec[i].type == RD_POS) &&
		    !known(r, rec[i].file, &rec[i].pos))
			return "a position in a file not opened for that log";
	}
	for (i = 0; i < n; i++) {
		const struct rd_rec *q = &rec[i];

		switch (q->type) {
		case RD_EVENT:
			if (q->file == r->fed_file)
				fq_ack(r, q->pos.offset);
			r->f[q->file].pos = q->pos;
			r->progressed = true;
			if (cb && cb->moved)
				cb->moved(cb->arg, q->file, q->lines);
			rdwire_event(q, &ev);
			if (cb && cb->event)
				cb->event(cb->arg, q->file,
					  r->f[q->file].names[q->kind],
					  q->pos.line, &ev);
			break;
		case RD_POS:
			if (q->file == r->fed_file)
				fq_ack(r, q->pos.offset);
			r->f[q->file].pos = q->pos;
			r->progressed = true;
			if (cb && cb->moved)
				cb->moved(cb->arg, q->file, q->lines);
			break;
		case RD_READY:
			r->ready = true;
			break;
		case RD_EOF:
			r->eof = true;
			break;
		case RD_MIDLINE:
			r->midline = r->f[q->file].is_stdin;
			break;
		default:
			if (r->sock >= 0)
				serve(r, q);
			break;
		}
	}
	return NULL;
}

/* drain - messages of the reader; false once its socket ended */
static bool drain(struct reader *r, const struct reader_cb *cb, int max,
		  int flags)
{
	static struct rd_rec buf[RD_BATCH + 1];
	const char *bad;
	ssize_t n;
	int fd, i;

	for (i = 0; i < max; i++) {
		n = recv_fd(r->sock, buf, sizeof(buf), &fd, flags);
		if (fd >= 0) {
			close(fd);
			gone(r, "it passed a descriptor");
			return false;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			gone(r, NULL);
			return false;
		}
		if ((size_t)n % sizeof(buf[0]) ||
		    (size_t)n > sizeof(buf) - sizeof(buf[0])) {
			gone(r, "a message not made of whole records");
			return false;
		}
		bad = take(r, buf, (size_t)n / sizeof(buf[0]), cb);
		if (bad) {
			gone(r, bad);
			return false;
		}
	}
	return true;
}

int reader_run(struct reader *r, int64_t now, const struct reader_cb *cb)
{
	struct sp_msg sm;

	if (r->sock >= 0) {
		if (now != r->now_sent) {
			struct rd_ctl m;

			memset(&m, 0, offsetof(struct rd_ctl, text));
			m.type = RC_NOW;
			m.now = now;
			if (!ctl_send(r, &m, 0, -1))
				r->now_sent = now;
		}
		drain(r, cb, RUN_MSGS, MSG_DONTWAIT);
		fq_flush(r);
	}
	if (r->eof && r->sock < 0)
		return 1;
	/* a death the spawner reported while nobody asked */
	while (ctl_recv(r, &sm, 0) == 1)
		if (sm.op == SP_DIED) {
			r->died_pid = sm.pid;
			r->died_status = sm.status;
		}
	if (r->restart_pending && reader_timeout(r, 0) == 0) {
		int err = spawn(r, now);

		if (err) {
			log_err("cannot start a log reader: %s",
				strerror(-err));
			if (err == -EPIPE)
				return err;
			r->restart_pending = true;
			clock_gettime(CLOCK_MONOTONIC, &r->restart_at);
			r->restart_at.tv_sec += RESTART_MAX_MS / 1000;
		}
	}
	return r->spawner_gone && r->sock < 0 ? -EPIPE : 0;
}

void reader_stop(struct reader *r, const struct reader_cb *cb)
{
	struct pollfd p;
	pid_t pid = r->pid;
	int i;

	r->restart_pending = false;
	if (r->sock < 0)
		return;
	r->stopping = true;
	shutdown(r->sock, SHUT_WR);
	p.fd = r->sock;
	p.events = POLLIN;
	/* the records are taken; requests get no answer now */
	for (i = 0; i < 50 && r->sock >= 0; i++)
		if (poll(&p, 1, 100) > 0 &&
		    !drain(r, cb, RUN_MSGS, MSG_DONTWAIT))
			break;
	if (r->sock >= 0) {
		close(r->sock);
		r->sock = -1;
		sp_kill(r, pid);
		reap(r, pid);
	}
	r->stopping = false;
	r->restart_pending = false;
	r->pid = 0;
}

void reader_free(struct reader *r)
{
	if (!r)
		return;
	reader_stop(r, NULL);
	rfiles_free(r);
	fq_clear(r);
	close(r->ctl); /* the spawner ends with its socket */
	if (r->spawner > 0)
		waitpid(r->spawner, NULL, 0);
	if (r->ifd >= 0)
		close(r->ifd);
	free(r);
}
