// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_grow.c - memory that follows the entries. A new pin directory's
 * tables, counters and metadata are made for few entries (mxwall_shared.h,
 * MX_V4_CAP_DEFAULT); when an apply() needs more room, xdp_grow() makes
 * the maps of a bigger capacity beside the pinned ones (PIN_DIR/mx_grow/),
 * fills them from the current ones, switches the program of every
 * interface to them (bpf_link_update), adds what the old program counted
 * until it stopped, and moves their pins over the old ones. The summaries,
 * the tag sets and the global counters are the same maps in both sets
 * (pinned in both places while it runs), so they need no copy.
 *
 * A crash leaves one of three states, each mended by the next open
 * (xdp_grow_recover): no "ready" mark: the new set is half made and goes,
 * the old one never stopped working; "ready": the new set is complete:
 * the links are switched to it (again), the old counts added unless the
 * "counted" mark says they were, and the pins moved over. A process that
 * still has the old set open sees MX_CFG_REPLACED in the old mx_cfg and
 * opens the new one (xdp_refresh).
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend/backend.h"
#include "backend/xdp.h"
#include "mxwall.skel.h"
#include "mxwall_shared.h"
#include "backend/xdp_int.h"

#define STAGE "mx_grow" /* bpffs refuses names with a dot */
#define MARK_READY "ready"
#define MARK_COUNTED "counted"

/* the maps each set has of its own (the others are shared) */
static const int own_maps[] = {M_CFG,  M_T4, M_T6,  M_C4, M_C6,
			       M_META, M_X4, M_XC4, M_XL};

static bool is_own(int m)
{
	size_t i;

	for (i = 0; i < sizeof(own_maps) / sizeof(own_maps[0]); i++)
		if (own_maps[i] == m)
			return true;
	return false;
}

static int stage_dir(const struct backend *be, char *buf, size_t len)
{
	return path_join(buf, len, be->pin_dir, STAGE);
}

static int stage_path(const struct backend *be, const char *name, char *buf,
		      size_t len)
{
	char dir[4096];
	int err = stage_dir(be, dir, sizeof(dir));

	return err ? err : path_join(buf, len, dir, name);
}

static bool stage_has(const struct backend *be, const char *name)
{
	char path[4096];
	struct stat st;

	return !stage_path(be, name, path, sizeof(path)) && !lstat(path, &st);
}

static int stage_mark(const struct backend *be, const char *name)
{
	char path[4096];
	int err = stage_path(be, name, path, sizeof(path));

	if (err)
		return err;
	if (symlink(name, path) && errno != EEXIST)
		return -errno;
	return 0;
}

/* xdp_grow_remove_stage - remove a staging directory and what it pins */
void xdp_grow_remove_stage(const struct backend *be)
{
	char dir[4096], path[4096];
	struct dirent *d;
	DIR *dh;

	if (stage_dir(be, dir, sizeof(dir)))
		return;
	dh = opendir(dir);
	if (!dh)
		return;
	while ((d = readdir(dh)))
		if (d->d_name[0] != '.' &&
		    !path_join(path, sizeof(path), dir, d->d_name))
			unlink(path);
	closedir(dh);
	rmdir(dir);
}

/* has_links - is the filter attached to an interface */
static bool has_links(const struct backend *be)
{
	struct dirent *d;
	bool any = false;
	DIR *dh;

	dh = opendir(be->pin_dir);
	if (!dh)
		return true; /* ask the long way */
	while (!any && (d = readdir(dh)))
		any =
		    !strncmp(d->d_name, MX_LINK_PREFIX, strlen(MX_LINK_PREFIX));
	closedir(dh);
	return any;
}

/*
 * switch_links - the program of every interface of ours becomes prog_fd
 * (maps and counters are the caller's business); then wait until no CPU
 * runs the one it replaced (an RCU grace period: membarrier's global
 * command waits for one).
 */
static int switch_links(const struct backend *be, int prog_fd)
{
	char path[4096];
	struct dirent *d;
	int fd, err = 0;
	DIR *dh;

	dh = opendir(be->pin_dir);
	if (!dh)
		return -errno;
	while ((d = readdir(dh))) {
		if (strncmp(d->d_name, MX_LINK_PREFIX,
			    strlen(MX_LINK_PREFIX)) ||
		    path_join(path, sizeof(path), be->pin_dir, d->d_name))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (bpf_link_update(fd, prog_fd, NULL) && !err)
			err = -errno;
		close(fd);
	}
	closedir(dh);
	syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	return err;
}

/*
 * add_counts - every entry's counts in the old set o added to the new n:
 * its table slot's, and what o's host index counted for it (the hits
 * still in o's logs counted first: no program runs on o any more)
 */
static void add_counts(struct xdp_priv *o, struct xdp_priv *n)
{
	struct tpos op, np;
	struct mx_ctr sum;
	struct cidr c;
	unsigned int cpu;
	__u32 id, nb;
	int fam;

	xdp_x4_fold_logs(o);
	for (fam = 0; fam < 2; fam++) {
		op.family = fam ? AF_INET6 : AF_INET;
		nb = fam ? o->cfg.nb6 : o->cfg.nb4;
		for (op.b = 0; op.b < nb; op.b++)
			for (op.j = 0; op.j < (fam ? MX_T6_SLOTS : MX_T4_SLOTS);
			     op.j++) {
				if (!xdp_tab_get(o, &op, &c, &id) ||
				    !xdp_tab_find(n, &c, &np))
					continue;
				for (cpu = 0; cpu < o->ncpus; cpu++) {
					sum = *xdp_tab_ctr(o, &op, cpu);
					xdp_x4_counts(o, &op, cpu, &sum);
					xdp_ctr_add(xdp_tab_ctr(n, &np, cpu),
						    &sum);
				}
			}
	}
}

/* move_pins - the new set's own pins over the old ones; the shared go */
static int move_pins(const struct backend *be)
{
	char from[4096], to[4096];
	int i, err = 0;

	for (i = 0; i < M_NR; i++) {
		if (stage_path(be, map_names[i], from, sizeof(from)) ||
		    xdp_pin_path(be, map_names[i], to, sizeof(to)))
			return -ENAMETOOLONG;
		if (!is_own(i)) {
			unlink(from);
			continue;
		}
		if (rename(from, to) && errno != ENOENT && !err)
			err = -errno;
	}
	return err;
}

/*
 * finish - from a complete new set on: switch, count, move (each step
 * done again after a crash is harmless but the count, which its mark
 * guards). o: the old set, open.
 */
static int finish(struct backend *be, struct xdp_priv *o)
{
	struct mxwall_bpf *skel = NULL;
	struct xdp_priv n;
	struct mx_cfg cfg;
	char dir[4096];
	int err;

	memset(&n, 0, sizeof(n));
	xdp_set_release(&n);
	err = stage_dir(be, dir, sizeof(dir));
	if (!err)
		err = xdp_set_open(dir, &n);
	/* a program over the new maps only where one runs (a load costs
	 * the verifier's check of it) */
	if (!err && has_links(be)) {
		err = xdp_load_skel(dir, &n.cfg, &skel);
		if (!err)
			err = switch_links(
			    be, bpf_program__fd(skel->progs.mxwall_xdp));
	}
	if (!err && !stage_has(be, MARK_COUNTED)) {
		add_counts(o, &n);
		err = stage_mark(be, MARK_COUNTED);
	}
	if (!err) {
		/* a process with the old set open: open the new one */
		if (!xdp_read_cfg(o, &cfg)) {
			cfg.flags |= MX_CFG_REPLACED;
			xdp_write_cfg(o, &cfg);
		}
		err = move_pins(be);
	}
	if (!err)
		xdp_grow_remove_stage(be);
	if (skel)
		mxwall_bpf__destroy(skel);
	xdp_set_release(&n);
	return err;
}

/* fill - every entry of o, with its metadata, into the new set n */
static int fill(struct xdp_priv *o, struct xdp_priv *n)
{
	const struct mx_meta *m;
	struct tpos pos;
	struct cidr c;
	__u32 id;
	int err;

	n->clock_off = o->clock_off;
	memcpy(n->meta, o->meta, (size_t)o->cfg.cap * sizeof(*o->meta));
	for (id = 0; id < o->cfg.cap; id++) {
		m = &o->meta[id];
		if (!m->family)
			continue;
		xdp_meta_cidr(m, &c);
		err = xdp_tab_place(n, NULL, &c, &pos);
		if (err)
			return err;
		xdp_tab_write(n, NULL, &pos, &c, m, id);
	}
	return 0;
}

static __u32 next_cap(__u32 cap, __u32 need, __u32 max)
{
	while (cap < need && cap < max)
		cap = cap > max / MX_CAP_GROWTH ? max : cap * MX_CAP_GROWTH;
	return cap;
}

/*
 * xdp_grow - make the tables of be hold need4 IPv4 and need6 IPv6 entries
 * (at least the next capacity up of a family whose need exceeds its
 * capacity, or both when force: a table too full by its hashing). Under
 * the lock, with the tables agreeing with mx_meta. -ENOSPC past the most
 * the pin directory allows.
 */
int xdp_grow(struct backend *be, __u32 need4, __u32 need6, bool force)
{
	struct xdp_priv *p = priv(be), n;
	struct mxwall_bpf *skel = NULL;
	struct mx_cfg cfg = p->cfg;
	char dir[4096], path[4096];
	int i, err;

	if (force) {
		need4 = need4 > cfg.cap4 ? need4 : cfg.cap4 + 1;
		need6 = need6 > cfg.cap6 ? need6 : cfg.cap6 + 1;
	}
	if (need4 > cfg.cap4_max || need6 > cfg.cap6_max)
		return -ENOSPC;
	if (need4 > cfg.cap4)
		cfg.cap4 = next_cap(cfg.cap4, need4, cfg.cap4_max);
	if (need6 > cfg.cap6)
		cfg.cap6 = next_cap(cfg.cap6, need6, cfg.cap6_max);
	/* the same capacity: only to upgrade an older set (xdp.c) */
	if (cfg.cap4 == p->cfg.cap4 && cfg.cap6 == p->cfg.cap6 && !p->older)
		return force ? -ENOSPC : 0;
	xdp_size_cfg(&cfg);
	cfg.layout = MX_LAYOUT;
	cfg.flags &= ~(MX_CFG_DIRTY | MX_CFG_REPLACED);
	cfg.gen++;
	log_debug("%s: tables grow to %u IPv4 and %u IPv6 entries", be->pin_dir,
		  cfg.cap4, cfg.cap6);

	xdp_grow_remove_stage(be);
	err = stage_dir(be, dir, sizeof(dir));
	if (err)
		return err;
	if (mkdir(dir, 0700))
		return -errno;
	/* the shared maps: the same objects, pinned in both places */
	for (i = 0; i < M_NR; i++) {
		if (is_own(i))
			continue;
		err = path_join(path, sizeof(path), dir, map_names[i]);
		if (!err && bpf_obj_pin(p->fd[i], path))
			err = -errno;
		if (err)
			goto fail;
	}
	err = xdp_new_set(dir, &cfg, &skel);
	if (err)
		goto fail;
	memset(&n, 0, sizeof(n));
	xdp_set_release(&n);
	err = xdp_set_open(dir, &n);
	if (!err)
		err = fill(p, &n);
	xdp_set_release(&n);
	if (!err)
		err = stage_mark(be, MARK_READY);
	if (err)
		goto fail;
	/* from here on the new set is the one: a crash rolls forward */
	mxwall_bpf__destroy(skel);
	err = finish(be, p);
	if (err)
		return err;
	return xdp_refresh(be, true);
fail:
	if (skel)
		mxwall_bpf__destroy(skel);
	xdp_grow_remove_stage(be);
	return err;
}

/*
 * xdp_grow_recover - mend what a growth that died left (see the top):
 * called by open, before the pins are read. Takes the pin directory's
 * lock when the caller does not hold it.
 */
int xdp_grow_recover(struct backend *be)
{
	struct xdp_priv o;
	char dir[4096];
	struct stat st;
	int lfd = -1, err = 0;

	if (stage_dir(be, dir, sizeof(dir)) || lstat(dir, &st))
		return 0;
	if (be->pin_lock_fd < 0) {
		lfd = open(be->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lfd < 0 || flock(lfd, LOCK_EX)) {
			err = -errno;
			goto out;
		}
		if (lstat(dir, &st))
			goto out; /* mended while we waited */
	}
	if (!stage_has(be, MARK_READY)) {
		log_debug("%s: removing the half-made tables of a growth that "
			  "did not finish",
			  be->pin_dir);
		xdp_grow_remove_stage(be);
		goto out;
	}
	log_warn("finishing a growth of the tables that a crash interrupted");
	memset(&o, 0, sizeof(o));
	xdp_set_release(&o);
	/* the old set may be of an older layout, the growth its upgrade */
	err = xdp_set_open_any(be->pin_dir, &o);
	if (err == -EUCLEAN || err == -EPROTO) {
		/* the old pins are partly moved already: the count is done
		 * (the mark guards it), only the moves are left */
		err = stage_has(be, MARK_COUNTED) ? move_pins(be) : err;
		if (!err)
			xdp_grow_remove_stage(be);
	} else if (!err) {
		err = finish(be, &o);
	}
	xdp_set_release(&o);
out:
	if (lfd >= 0)
		close(lfd);
	return err;
}

/*
 * xdp_refresh - after another process (or this one) grew the tables, open
 * the new set in place of the old one; force: whatever the old one says
 */
int xdp_refresh(struct backend *be, bool force)
{
	struct xdp_priv *p = priv(be);
	struct mx_cfg cfg;
	int err;

	if (!force) {
		err = xdp_read_cfg(p, &cfg);
		if (err || !(cfg.flags & MX_CFG_REPLACED))
			return err;
	}
	xdp_set_release(p);
	err = xdp_grow_recover(be);
	if (!err)
		err = xdp_set_open_any(be->pin_dir, p);
	return err;
}
