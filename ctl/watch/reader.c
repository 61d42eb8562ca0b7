// SPDX-License-Identifier: GPL-2.0
/*
 * reader.c - the watcher's side of the log reader (reader.h): starting
 * and restarting the reader process through the spawner, what it is sent
 * (the logs, positions, the clock, the journal's entries), answering its
 * requests and taking its records. The processes themselves (spawner,
 * reader) are in reader_proc.c.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/mxwall.h"
#include "core/privsep.h"
#include "core/testhook.h"
#include "mta/follow.h"
#include "watch/rdwire.h"
#include "watch/reader.h"
#include "watch/reader_int.h"

#define RESTART_MIN_MS 100
#define RESTART_MAX_MS 10000
#define RUN_MSGS 256	    /* messages per reader_run() */
#define SEEN_MAX 8	    /* file identities remembered per log */
#define STATUS_WAIT_MS 2000 /* for the spawner to report a death */

#define FEED_MAX 4096 /* entries of a fed source in flight */

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
