// SPDX-License-Identifier: GPL-2.0
/*
 * backend.c - choosing and opening a backend, the lock that serialises
 * mutating commands, and helpers over entries that both backends share.
 *
 * The lock: the pin directory itself (flock on the directory), then
 * $state_dir/lock; the watcher takes the same pair around each change.
 *
 * Choice, here and nowhere else: the backend asked for (--backend, or
 * backend = in mxwall.conf for the watcher) wins; otherwise the backend
 * recorded in $state_dir/backend by the last successful attach; otherwise
 * XDP. Left to auto, backend_attach() (for `attach` and `watch`) falls
 * back to nft when XDP cannot attach and records the reason, which
 * `status` shows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "core/testhook.h"

static int read_recorded(const struct backend *be, char *why, size_t whylen)
{
	char path[4096], buf[256] = "";
	ssize_t n;
	int fd;
	char *nl;

	if (path_join(path, sizeof(path), be->state_dir, "backend"))
		return MX_BACKEND_AUTO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return MX_BACKEND_AUTO;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return MX_BACKEND_AUTO;
	buf[n] = '\0';
	/* first line: the name; second line: why */
	nl = strchr(buf, '\n');
	if (nl) {
		*nl = '\0';
		snprintf(why, whylen, "%s", nl + 1);
		nl = strchr(why, '\n');
		if (nl)
			*nl = '\0';
	}
	if (!strcmp(buf, "nft"))
		return MX_BACKEND_NFT;
	if (!strcmp(buf, "xdp"))
		return MX_BACKEND_XDP;
	return MX_BACKEND_AUTO;
}

int backend_record(struct backend *be)
{
	char path[4096], buf[256], why[PATH_MAX + 128];
	int n, err;

	err = mkdir_private(be->state_dir, 0700, why, sizeof(why));
	if (err) {
		log_err("%s", why);
		return err;
	}
	err = path_join(path, sizeof(path), be->state_dir, "backend");
	if (err)
		return err;
	n = snprintf(buf, sizeof(buf), "%s\n%s\n", be->ops->name, be->why);
	return write_file_atomic(path, buf, (size_t)n, 0600);
}

static int flock_wait(int fd)
{
	while (flock(fd, LOCK_EX))
		if (errno != EINTR)
			return -errno;
	return 0;
}

/*
 * lock_pins - the lock lives with the pins: two commands that share a pin
 * directory serialise even when their state directories differ. The lock
 * is the pin directory itself (bpffs holds no plain files); detach removes
 * it, so after waiting make sure the directory locked is still the one at
 * the path. No pin directory (nothing set up, or nft without bpffs): no
 * pin lock, the state directory's lock serialises.
 */
static int lock_pins(struct backend *be, bool create)
{
	struct stat held, now;
	int fd, err, i;

	for (i = 0; i < 100; i++) {
		fd = open(be->pin_dir,
			  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create &&
		    be->ops == &backend_xdp_ops && !mkdir_p(be->pin_dir, 0700))
			continue;
		if (fd < 0)
			return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
		err = flock_wait(fd);
		if (!err && fstat(fd, &held))
			err = -errno;
		if (err) {
			close(fd);
			return err;
		}
		if (!stat(be->pin_dir, &now) && now.st_dev == held.st_dev &&
		    now.st_ino == held.st_ino) {
			be->pin_lock_fd = fd;
			return 0;
		}
		/* removed (or removed and made again) while we waited */
		close(fd);
		if (!create && access(be->pin_dir, F_OK))
			return 0;
	}
	return -EBUSY;
}

static int lock_state(struct backend *be)
{
	char path[4096], why[PATH_MAX + 128];
	int err;

	err = mkdir_private(be->state_dir, 0700, why, sizeof(why));
	if (err) {
		log_err("%s", why);
		return err;
	}
	err = path_join(path, sizeof(path), be->state_dir, "lock");
	if (err)
		return err;
	be->lock_fd =
	    open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (be->lock_fd < 0)
		return -errno;
	return flock_wait(be->lock_fd);
}

static void unlock_fds(struct backend *be)
{
	if (be->lock_fd >= 0)
		close(be->lock_fd);
	if (be->pin_lock_fd >= 0)
		close(be->pin_lock_fd);
	be->lock_fd = -1;
	be->pin_lock_fd = -1;
}

/* take_lock - the pin directory's, then the state directory's */
static int take_lock(struct backend *be, bool create)
{
	int err;

	/* mutating commands are short; wait for the other one to finish */
	err = lock_pins(be, create);
	if (!err)
		err = lock_state(be);
	if (err)
		unlock_fds(be);
	return err;
}

int backend_lock(struct backend *be)
{
	int err = 0;

	if (be->lock_fd < 0 && be->pin_lock_fd < 0)
		return take_lock(be, false);
	if (be->pin_lock_fd >= 0)
		err = flock_wait(be->pin_lock_fd);
	if (!err && be->lock_fd >= 0)
		err = flock_wait(be->lock_fd);
	return err;
}

void backend_unlock(struct backend *be)
{
	if (be->lock_fd >= 0)
		flock(be->lock_fd, LOCK_UN);
	if (be->pin_lock_fd >= 0)
		flock(be->pin_lock_fd, LOCK_UN);
}

/* ---- the journal: a change survives a kill -9 whole or not at all */

#define JOURNAL_FILE "journal"
static const char journal_magic[8] = "MXWJRN1";

struct journal_hdr {
	char magic[8];
	uint32_t entry_size, cidr_size;
	uint64_t nadd, ndel;
};

static int journal_path(const struct backend *be, char *buf, size_t len)
{
	return path_join(buf, len, be->state_dir, JOURNAL_FILE);
}

/* filter_missing - the deletions that still have an entry to delete */
static size_t filter_missing(struct backend *be, struct cidr *del, size_t n)
{
	struct mx_entry *rows = NULL;
	size_t nrows = 0, i, j, k = 0;

	if (be->ops->dump(be, &rows, &nrows))
		return n;
	for (i = 0; i < n; i++)
		for (j = 0; j < nrows; j++)
			if (!cidr_cmp(&del[i], &rows[j].net)) {
				del[k++] = del[i];
				break;
			}
	free(rows);
	return k;
}

/*
 * journal_replay - a change that a crash (kill -9, power cut) interrupted
 * between its journal and its end: apply it again, whole. Under the lock.
 */
static int journal_replay(struct backend *be)
{
	char path[4096];
	struct journal_hdr h;
	struct mx_entry *add = NULL;
	struct cidr *del = NULL;
	struct stat st;
	size_t ndel;
	int fd, err = -EPROTO;

	if (journal_path(be, path, sizeof(path)))
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) || read(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, journal_magic, sizeof(h.magic)) ||
	    h.entry_size != sizeof(*add) || h.cidr_size != sizeof(*del) ||
	    h.nadd > (uint64_t)st.st_size / sizeof(*add) ||
	    h.ndel > (uint64_t)st.st_size / sizeof(*del) ||
	    (uint64_t)st.st_size !=
		sizeof(h) + h.nadd * sizeof(*add) + h.ndel * sizeof(*del))
		goto out;
	add = xcalloc(h.nadd, sizeof(*add));
	del = xcalloc(h.ndel, sizeof(*del));
	if (read(fd, add, h.nadd * sizeof(*add)) !=
		(ssize_t)(h.nadd * sizeof(*add)) ||
	    read(fd, del, h.ndel * sizeof(*del)) !=
		(ssize_t)(h.ndel * sizeof(*del)))
		goto out;
	/*
	 * backend_apply_journaled() checked the change before writing it:
	 * one that fails the check now is no journal of ours (and would fail
	 * every open until removed by hand)
	 */
	if (backend_check_change(add, h.nadd, del, h.ndel))
		goto out;
	/* deleted before the crash: nothing left to delete */
	ndel = filter_missing(be, del, h.ndel);
	err = be->ops->apply(be, add, h.nadd, del, ndel);
	if (!err)
		log_warn("finished a change that was interrupted: %llu "
			 "entr%s added or replaced, %zu removed",
			 (unsigned long long)h.nadd, h.nadd == 1 ? "y" : "ies",
			 ndel);
out:
	close(fd);
	free(add);
	free(del);
	if (err == -EPROTO) {
		log_warn("%s: not a journal this mxwall wrote; removed", path);
		err = 0;
	}
	if (!err)
		unlink(path);
	return err;
}

/* net_ok - a net of a known family, length and host bits in order */
static bool net_ok(const struct cidr *c)
{
	struct cidr m = *c;
	int i;

	if (c->family != AF_INET && c->family != AF_INET6)
		return false;
	if (c->plen < 1 || c->plen > cidr_maxlen(c) || cidr_mask(&m))
		return false;
	if (c->family == AF_INET)
		for (i = 4; i < 16; i++)
			if (c->addr[i])
				return false;
	return true;
}

int backend_check_change(const struct mx_entry *add, size_t nadd,
			 const struct cidr *del, size_t ndel)
{
	size_t i;

	for (i = 0; i < nadd; i++) {
		if (!net_ok(&add[i].net))
			return -EINVAL;
		if (add[i].action != MX_ACT_DROP &&
		    add[i].action != MX_ACT_ALLOW)
			return -EINVAL;
		if (add[i].origin != MX_ORIGIN_STATIC &&
		    add[i].origin != MX_ORIGIN_DYNAMIC)
			return -EINVAL;
		if (!memchr(add[i].tags, '\0', MX_TAGS_LEN))
			return -EINVAL;
	}
	for (i = 0; i < ndel; i++)
		if (!net_ok(&del[i]))
			return -EINVAL;
	return 0;
}

int backend_apply(struct backend *be, const struct mx_entry *add, size_t nadd,
		  const struct cidr *del, size_t ndel)
{
	int err = backend_check_change(add, nadd, del, ndel);

	return err ? err : be->ops->apply(be, add, nadd, del, ndel);
}

int backend_apply_journaled(struct backend *be, const struct mx_entry *add,
			    size_t nadd, const struct cidr *del, size_t ndel)
{
	struct journal_hdr h = {.entry_size = sizeof(*add),
				.cidr_size = sizeof(*del),
				.nadd = nadd,
				.ndel = ndel};
	char path[4096], *buf;
	size_t len;
	int err;

	err = backend_check_change(add, nadd, del, ndel);
	if (err)
		return err;
	/* small changes are one batch or one map update: no journal */
	if (nadd + ndel <= 1)
		return be->ops->apply(be, add, nadd, del, ndel);
	err = journal_path(be, path, sizeof(path));
	if (err)
		return err;
	memcpy(h.magic, journal_magic, sizeof(h.magic));
	len = sizeof(h) + nadd * sizeof(*add) + ndel * sizeof(*del);
	buf = xmalloc(len);
	memcpy(buf, &h, sizeof(h));
	if (nadd)
		memcpy(buf + sizeof(h), add, nadd * sizeof(*add));
	if (ndel)
		memcpy(buf + sizeof(h) + nadd * sizeof(*add), del,
		       ndel * sizeof(*del));
	err = write_file_atomic(path, buf, len, 0600);
	free(buf);
	if (err)
		return err;
	err = be->ops->apply(be, add, nadd, del, ndel);
	/* applied, or rolled back by apply itself: either way whole */
	unlink(path);
	return err;
}

/*
 * finish_interrupted - before anyone reads or changes the entries, a change
 * that a crash cut short is made whole (under the lock, taken for it when
 * the command would not otherwise)
 */
static int finish_interrupted(struct backend *be, unsigned int flags)
{
	char path[4096];
	int err;

	if (journal_path(be, path, sizeof(path)) || access(path, F_OK))
		return 0;
	if (!(flags & BE_LOCK)) {
		err = take_lock(be, false);
		if (err)
			return err;
	}
	err = journal_replay(be);
	if (!(flags & BE_LOCK))
		unlock_fds(be);
	return err;
}

/* open_state - lock (with BE_LOCK) and open the state of be->ops */
static int open_state(struct backend *be, unsigned int flags)
{
	int err;

	if (flags & BE_LOCK) {
		err = take_lock(be, flags & BE_CREATE);
		if (err)
			return err;
	}
	err = be->ops->open(be, flags & BE_CREATE);
	if (err) {
		unlock_fds(be);
		return err;
	}
	err = finish_interrupted(be, flags);
	if (err) {
		be->ops->close(be);
		unlock_fds(be);
		return err;
	}
	return 0;
}

static void backend_init(struct backend *be, const char *pin_dir,
			 const char *state_dir)
{
	memset(be, 0, sizeof(*be));
	be->lock_fd = -1;
	be->pin_lock_fd = -1;
	be->pin_dir = pin_dir;
	be->state_dir = state_dir;
}

int backend_open(struct backend *be, const struct backend_opts *o,
		 unsigned int flags)
{
	enum mx_backend_kind kind = o->kind;
	bool given = o->kind_given && kind != MX_BACKEND_AUTO;

	backend_init(be, o->pin_dir, o->state_dir);
	if (!given)
		kind = (enum mx_backend_kind)read_recorded(be, be->why,
							   sizeof(be->why));
	if (kind == MX_BACKEND_AUTO) {
		kind = MX_BACKEND_XDP;
		snprintf(be->why, sizeof(be->why), "default");
	} else if (o->kind_given) {
		snprintf(be->why, sizeof(be->why), "chosen with --backend");
	}
	be->chosen_auto = !given;
	be->ops = kind == MX_BACKEND_NFT ? &backend_nft_ops : &backend_xdp_ops;
	return open_state(be, flags);
}

/* xdp_not_possible - errors that mean "XDP cannot attach here" */
static bool xdp_not_possible(int err)
{
	switch (-err) {
	case EOPNOTSUPP:
	case EINVAL:
	case 524: /* the kernel's own ENOTSUPP */
	case E2BIG:
	case ENOMEM:
		return true;
	}
	return false;
}

/*
 * attach_on - set the configuration and attach through an open backend;
 * on failure the configuration goes back to what it was.
 */
static int attach_on(struct backend *be, const char *ifname,
		     enum mx_attach_mode mode, const struct mx_dp_config *cfg,
		     const struct mx_dp_config *old, bool had_old)
{
	int err;

	err = be->ops->set_config(be, cfg);
	if (err)
		return err;
	if (be->ops == &backend_xdp_ops && mx_test_hook("force_xdp_fail"))
		err = -EOPNOTSUPP;
	else
		err = be->ops->attach(be, ifname, mode);
	if (err && had_old)
		be->ops->set_config(be, old);
	return err;
}

/* state_before - how be's state is before an attach (see backend_attach) */
static int state_before(struct backend *be, size_t *nifaces, bool *fresh,
			struct mx_dp_config *old)
{
	struct mx_status st;
	int err;

	memset(&st, 0, sizeof(st));
	err = be->ops->status(be, &st);
	if (err)
		return err;
	*nifaces = st.nifaces;
	*fresh = st.nifaces == 0 && st.entries_static + st.entries_dynamic == 0;
	*old = st.cfg;
	return 0;
}

int backend_attach(struct backend *be, unsigned int flags, const char *who,
		   const char *ifname, enum mx_attach_mode mode,
		   const struct mx_dp_config *cfg, bool *fresh,
		   struct mx_dp_config *old)
{
	const char *pin_dir = be->pin_dir, *state_dir = be->state_dir;
	char xdp_err[128];
	size_t nifaces;
	int err;

	err = state_before(be, &nifaces, fresh, old);
	if (err)
		return err;
	err = attach_on(be, ifname, mode, cfg, old, !*fresh);
	if (!err || !be->chosen_auto || be->ops != &backend_xdp_ops ||
	    nifaces || !xdp_not_possible(err))
		goto out;
	snprintf(xdp_err, sizeof(xdp_err), "%s", backend_strerror(err));
	if (*fresh)
		be->ops->destroy(be);
	backend_close(be);
	log_warn("%s: XDP cannot attach to %s (%s); using the nftables backend",
		 who, ifname, xdp_err);
	backend_init(be, pin_dir, state_dir);
	be->ops = &backend_nft_ops;
	snprintf(be->why, sizeof(be->why),
		 "auto: XDP cannot attach to %.16s (%.100s)", ifname, xdp_err);
	err = open_state(be, flags);
	if (err) {
		/* be stays closeable: nothing open, nothing locked */
		be->ops = NULL;
		return err;
	}
	*fresh = true;
	if (!state_before(be, &nifaces, fresh, old) && !*fresh)
		err = attach_on(be, ifname, mode, cfg, old, true);
	else
		err = attach_on(be, ifname, mode, cfg, old, false);
out:
	if (err && *fresh)
		be->ops->destroy(be);
	return err;
}

/* open_beside - open the existing state of ops in be's directories */
static int open_beside(const struct backend *be, const struct backend_ops *ops,
		       struct backend *other)
{
	int err;

	backend_init(other, be->pin_dir, be->state_dir);
	other->ops = ops;
	err = other->ops->open(other, false);
	if (err)
		other->ops = NULL;
	return err;
}

int backend_open_other(const struct backend *be, struct backend *other)
{
	return open_beside(be,
			   be->ops == &backend_xdp_ops ? &backend_nft_ops
						       : &backend_xdp_ops,
			   other);
}

int backend_follow(struct backend *be)
{
	struct backend nb;
	char why[160] = "";
	int kind, err;

	kind = read_recorded(be, why, sizeof(why));
	if (kind == MX_BACKEND_AUTO ||
	    (kind == MX_BACKEND_NFT) == (be->ops == &backend_nft_ops))
		return 0;
	err = open_beside(
	    be, kind == MX_BACKEND_NFT ? &backend_nft_ops : &backend_xdp_ops,
	    &nb);
	if (err)
		return err;
	snprintf(nb.why, sizeof(nb.why), "%s", why);
	/* the locks held stay held */
	nb.lock_fd = be->lock_fd;
	nb.pin_lock_fd = be->pin_lock_fd;
	if (be->priv)
		be->ops->close(be);
	*be = nb;
	return 1;
}

void backend_close(struct backend *be)
{
	if (be->ops && be->priv)
		be->ops->close(be);
	unlock_fds(be);
}

const char *backend_strerror(int err)
{
	switch (-err) {
	case ENOENT:
		return "mxwall is not set up here (run 'mxwall attach IFACE' "
		       "first)";
	case EPERM:
	case EACCES:
		return "permission denied: needs CAP_BPF and CAP_NET_ADMIN, or "
		       "root";
	case E2BIG:
	case ENOSPC:
		return "table full";
	case EEXIST:
		return "already exists";
	case EBUSY:
		return "busy: another program or table is in the way";
	case ENODEV:
		return "no such interface";
	case EOPNOTSUPP:
		return "not supported here";
	case EPROTO:
		return "the pinned maps have another layout than this mxwall "
		       "expects; refusing to touch them (detach with the "
		       "mxwall that made them, or remove the pin directory: "
		       "this loses entries and counters)";
	case EUCLEAN:
		return "the pin directory is incomplete: a pinned map is "
		       "missing (remove the pin directory to start over: this "
		       "loses entries and counters)";
	default:
		return strerror(-err);
	}
}

const char *mx_action_name(const struct mx_entry *e)
{
	if (e->action == MX_ACT_ALLOW)
		return "allow";
	return e->observe ? "observe" : "drop";
}

int mx_entry_cmp_packets(const void *a, const void *b)
{
	const struct mx_entry *x = a, *y = b;

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return cidr_cmp(&x->net, &y->net);
}

bool mx_tags_has(const char *tags, const char *tag)
{
	size_t len = strlen(tag);
	const char *p = tags;

	while (p && *p) {
		if (!strncmp(p, tag, len) && (p[len] == ',' || p[len] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

int mx_tags_add(char *tags, size_t len, const char *tag)
{
	size_t have = strlen(tags), add = strlen(tag);

	if (!add || mx_tags_has(tags, tag))
		return 0;
	if (have + (have ? 1 : 0) + add + 1 > len)
		return -ENOSPC;
	if (have)
		tags[have++] = ',';
	memcpy(tags + have, tag, add + 1);
	return 0;
}

void mx_entry_source(const struct mx_entry *e, char *buf, size_t len)
{
	const char *p = e->tags;

	while (p && *p) {
		size_t l = strcspn(p, ",");

		if ((l > 5 && !strncmp(p, MX_SOURCE_PEER, 5)) ||
		    (l == strlen(MX_SOURCE_CROWDSEC) &&
		     !strncmp(p, MX_SOURCE_CROWDSEC, l))) {
			snprintf(buf, len, "%.*s", (int)l, p);
			return;
		}
		p += l;
		if (*p == ',')
			p++;
	}
	snprintf(buf, len, "local");
}

bool mx_entry_follows_source(const struct mx_entry *e)
{
	char src[MX_TAGS_LEN];

	mx_entry_source(e, src, sizeof(src));
	return strcmp(src, "local") != 0;
}
