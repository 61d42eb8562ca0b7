// SPDX-License-Identifier: GPL-2.0
/*
 * xdp.c - the XDP backend: pinned maps under be->pin_dir, one
 * pinned bpf_link per interface, entries with their metadata and per-CPU
 * counters (layouts and the lookup design: bpf/mxwall_shared.h).
 *
 * Promises (besides those of backend.h):
 *  - Everything lives in pins: maps as PIN_DIR/<map name>, links as
 *    PIN_DIR/link_<ifname>. The filter keeps working with no process
 *    running; any later process sees the same entries, metadata and counts.
 *  - Attaching to an interface that already carries our link swaps in the
 *    newly loaded program with bpf_link_update(): maps and counters stay.
 *  - A pin directory made by another layout (MX_LAYOUT) is refused with
 *    -EPROTO, never reset; one with a map missing with -EUCLEAN (the
 *    command's one line comes from backend_strerror()). The exceptions
 *    are layout 2 (before the host index) and layout 3 (an index of the
 *    plain drop hosts only): the first open upgrades them in place
 *    (upgrade(): entries and counters kept).
 *  - The host index (mxwall_shared.h) holds every IPv4 host entry and
 *    answers alone only for the plain drop ones: xdp_table.c adds a host
 *    (asking the table) before its table slot is written and takes it out
 *    after; it sets a host's ask bit before its slot stops being a plain
 *    drop entry and clears it after the slot becomes one.
 *  - apply() writes slots into the mmapped tables in the order the program
 *    needs (a key is published last, with one atomic store, and withdrawn
 *    first: the program never matches half a slot); on any failure it
 *    undoes what it did before returning:
 *    all or nothing. 1M entries load in about a second of CPU; a change
 *    of a few entries costs what it touches (tens of microseconds), not a
 *    scan of the capacity.
 * The userspace mirror of the entries is the mx_meta array (mmapped): it
 * is the record of which ids are in use. The summary bitmaps, the list of
 * prefix lengths present, and mx_ctl (live counts, the ids in use, how
 * stale the summaries are) are derived from it: kept up to date entry by
 * entry by small changes (a deletion leaves its summary bits, a "may
 * match" that costs a probe), recomputed from mx_meta by big changes, by
 * the repair of a change that died half-way, and once deletions have
 * left CTL_STALE_MAX stale bits.
 *
 * This file owns the pins (open, create, check the layout, remove),
 * loading the program, attaching it to interfaces, the data path
 * configuration and status, and the ops table. The lookup tables are in
 * xdp_table.c, their summaries in xdp_sum.c, the program's clock in
 * xdp_clock.c, the apply transaction in xdp_apply.c, reading entries and
 * counters back in xdp_dump.c, growing the tables in xdp_grow.c; what
 * they share is xdp_int.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend/backend.h"
#include "backend/xdp.h"
#include "core/testhook.h"
#include "mxwall.skel.h"
#include "wire_shared.h"
#include "mxwall_shared.h"
#include "backend/xdp_int.h"

const char *const map_names[M_NR] = {
    [M_CFG] = MX_MAP_CFG,   [M_STATS] = MX_MAP_STATS, [M_T4] = MX_MAP_T4,
    [M_T6] = MX_MAP_T6,	    [M_C4] = MX_MAP_C4,	      [M_C6] = MX_MAP_C6,
    [M_BM4] = MX_MAP_BM4,   [M_BM6] = MX_MAP_BM6,     [M_BL] = MX_MAP_BL,
    [M_META] = MX_MAP_META, [M_TAGS] = MX_MAP_TAGS,   [M_X4] = MX_MAP_X4,
    [M_XC4] = MX_MAP_XC4,   [M_XL] = MX_MAP_XL,
};

/* the maps that layout 2 did not have (the host index) */
static bool new_in_3(int m)
{
	return m == M_X4 || m == M_XC4 || m == M_XL;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/*
 * xdp_prefault - make the pages of a big fresh allocation in one call: a page
 * fault per 4 KiB costs tens of microseconds in some virtual machines, and
 * a 1M-entry load touches tens of thousands of pages. Best effort.
 */
void xdp_prefault(void *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)p + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t e = ((uintptr_t)p + len) & ~(uintptr_t)(page - 1);

	if (len >= (1U << 20) && e > a)
		madvise((void *)a, e - a, MADV_POPULATE_WRITE);
}

/* ensure_bpffs - mount bpffs at /sys/fs/bpf when the pin dir needs it */
int ensure_bpffs(const char *pin_dir)
{
	struct statfs sfs;

	if (strncmp(pin_dir, "/sys/fs/bpf", 11))
		return 0;
	if (!statfs("/sys/fs/bpf", &sfs) && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

int xdp_pin_path(const struct backend *be, const char *name, char *buf,
		 size_t len)
{
	return path_join(buf, len, be->pin_dir, name);
}

size_t xdp_map_bytes(size_t value_size, size_t entries)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = ((value_size + 7) & ~(size_t)7) * entries;

	return (n + page - 1) / page * page;
}

void *xdp_map_mmap(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* xdp_set_release - unmap and close one open set of maps, and mx_ctl */
void xdp_set_release(struct xdp_priv *p)
{
	void *maps[M_NR] = {NULL};
	int i;

	maps[M_T4] = p->t4;
	maps[M_T6] = p->t6;
	maps[M_C4] = p->c4;
	maps[M_C6] = p->c6;
	maps[M_BM4] = p->bm4;
	maps[M_BM6] = p->bm6;
	maps[M_BL] = p->bl;
	maps[M_META] = p->meta;
	maps[M_TAGS] = p->tags;
	maps[M_X4] = p->x4;
	maps[M_XC4] = p->xc4;
	maps[M_XL] = p->xl;
	for (i = 0; i < M_NR; i++) {
		if (maps[i])
			munmap(maps[i], p->len[i]);
		if (p->fd[i] >= 0)
			close(p->fd[i]);
	}
	if (p->ctl)
		munmap(p->ctl, p->ctl_len);
	if (p->ctl_fd >= 0)
		close(p->ctl_fd);
	memset(p, 0, sizeof(*p));
	for (i = 0; i < M_NR; i++)
		p->fd[i] = -1;
	p->ctl_fd = -1;
}

static void xdp_close(struct backend *be)
{
	struct xdp_priv *p = priv(be);

	if (!p)
		return;
	xdp_set_release(p);
	free(p);
	be->priv = NULL;
}

int xdp_read_cfg(struct xdp_priv *p, struct mx_cfg *cfg)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(p->fd[M_CFG], &zero, cfg))
		return -errno;
	return 0;
}

int xdp_write_cfg(struct xdp_priv *p, const struct mx_cfg *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(p->fd[M_CFG], &zero, cfg, BPF_ANY))
		return -errno;
	return 0;
}

/* expected (type, key size, value size) of each pinned map */
static const struct {
	__u32 type, key, value;
} map_shape[M_NR] = {
    [M_CFG] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_cfg)},
    [M_STATS] = {BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(struct mx_stats)},
    [M_T4] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_bkt4)},
    [M_T6] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_bkt6)},
    [M_C4] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_cline4)},
    [M_C6] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_cline6)},
    [M_BM4] = {BPF_MAP_TYPE_ARRAY, 4, 8},
    [M_BM6] = {BPF_MAP_TYPE_ARRAY, 4, 8},
    [M_BL] = {BPF_MAP_TYPE_ARRAY, 4, 8},
    [M_META] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_meta)},
    [M_TAGS] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_tagset)},
    [M_X4] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_xb4)},
    [M_XC4] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_ctr)},
    [M_XL] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_xlog)},
};

/*
 * set_open - open every map pinned in dir, check its layout, mmap the
 * arrays (p fresh, or released); older: a pin directory of layout 2 (no
 * host index) or 3 (an index of plain drop hosts) is opened too, with
 * p->older set to its layout, for its upgrade (xdp_grow.c)
 */
static int set_open(const char *dir, struct xdp_priv *p, bool older)
{
	struct bpf_map_info info;
	__u32 ilen, want_entries;
	char path[4096];
	int i, err, ncpus, missing3 = 0;

	for (i = 0; i < M_NR; i++) {
		err = path_join(path, sizeof(path), dir, map_names[i]);
		if (err)
			return err;
		p->fd[i] = bpf_obj_get(path);
		if (p->fd[i] < 0 && errno == ENOENT && older && new_in_3(i)) {
			missing3++;
			continue;
		}
		if (p->fd[i] < 0) {
			err = -errno;
			if (err == -ENOENT && i > 0) {
				/* the command says it (backend_strerror) */
				log_debug("%s: pinned map %s is missing", dir,
					  map_names[i]);
				return -EUCLEAN;
			}
			return err;
		}
		memset(&info, 0, sizeof(info));
		ilen = sizeof(info);
		if (bpf_obj_get_info_by_fd(p->fd[i], &info, &ilen))
			return -errno;
		if (info.type != map_shape[i].type ||
		    info.key_size != map_shape[i].key ||
		    info.value_size != map_shape[i].value)
			goto layout;
	}
	err = xdp_read_cfg(p, &p->cfg);
	if (err)
		return err;
	p->older = 0;
	if (older && ((p->cfg.layout == 2 && missing3 == 3) ||
		      (p->cfg.layout == 3 && !missing3)))
		p->older = p->cfg.layout;
	if (p->cfg.magic != MX_MAGIC ||
	    (p->cfg.layout != MX_LAYOUT && !p->older) ||
	    (missing3 && p->older != 2))
		goto layout;
	p->nx4 = mx_nx4(p->cfg.nb4);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	if (p->cfg.ncpus != (__u32)ncpus) {
		log_debug("%s: maps were made for %u CPUs, this machine has %d",
			  dir, p->cfg.ncpus, ncpus);
		return -EPROTO;
	}
	p->ncpus = (unsigned int)ncpus;
	for (i = 0; i < M_NR; i++) {
		if (p->fd[i] < 0)
			continue; /* layout 2's missing index */
		memset(&info, 0, sizeof(info));
		ilen = sizeof(info);
		if (bpf_obj_get_info_by_fd(p->fd[i], &info, &ilen))
			return -errno;
		switch (i) {
		case M_T4:
			want_entries = p->cfg.nb4;
			break;
		case M_T6:
			want_entries = p->cfg.nb6;
			break;
		case M_C4:
			want_entries = p->cfg.nb4 * p->cfg.ncpus;
			break;
		case M_C6:
			want_entries = p->cfg.nb6 * p->cfg.ncpus;
			break;
		case M_META:
			want_entries = p->cfg.cap;
			break;
		case M_BM4:
		case M_BM6:
		case M_BL:
			want_entries = MX_BM_WORDS;
			break;
		case M_TAGS:
			want_entries = MX_TAGSETS;
			break;
		case M_X4:
			want_entries = p->nx4;
			break;
		case M_XC4:
			want_entries = p->nx4 * MX_X4_STRIDE * p->cfg.ncpus;
			break;
		case M_XL:
			want_entries = p->cfg.ncpus;
			break;
		default:
			want_entries = 1;
		}
		if (info.max_entries != want_entries)
			goto layout;
		p->len[i] = xdp_map_bytes(info.value_size, info.max_entries);
	}
	p->t4 = xdp_map_mmap(p->fd[M_T4], p->len[M_T4]);
	p->t6 = xdp_map_mmap(p->fd[M_T6], p->len[M_T6]);
	p->c4 = xdp_map_mmap(p->fd[M_C4], p->len[M_C4]);
	p->c6 = xdp_map_mmap(p->fd[M_C6], p->len[M_C6]);
	p->bm4 = xdp_map_mmap(p->fd[M_BM4], p->len[M_BM4]);
	p->bm6 = xdp_map_mmap(p->fd[M_BM6], p->len[M_BM6]);
	p->bl = xdp_map_mmap(p->fd[M_BL], p->len[M_BL]);
	p->meta = xdp_map_mmap(p->fd[M_META], p->len[M_META]);
	p->tags = xdp_map_mmap(p->fd[M_TAGS], p->len[M_TAGS]);
	if (!p->t4 || !p->t6 || !p->c4 || !p->c6 || !p->bm4 || !p->bm6 ||
	    !p->bl || !p->meta || !p->tags)
		return -errno;
	if (p->older != 2) {
		p->x4 = xdp_map_mmap(p->fd[M_X4], p->len[M_X4]);
		p->xc4 = xdp_map_mmap(p->fd[M_XC4], p->len[M_XC4]);
		p->xl = xdp_map_mmap(p->fd[M_XL], p->len[M_XL]);
		if (!p->x4 || !p->xc4 || !p->xl)
			return -errno;
	}
	p->clock_off = xdp_clock_offset();
	return 0;
layout:
	/* one line, from the command: backend_strerror(-EPROTO) */
	log_debug("%s: layout %u, this mxwall knows layout %u", dir,
		  p->cfg.layout, MX_LAYOUT);
	return -EPROTO;
}

int xdp_set_open(const char *dir, struct xdp_priv *p)
{
	return set_open(dir, p, false);
}

/* xdp_set_open_any - xdp_set_open, layouts 2 and 3 accepted (p->older) */
int xdp_set_open_any(const char *dir, struct xdp_priv *p)
{
	return set_open(dir, p, true);
}

/*
 * capacity chosen at create time (IPv4 entries): MX_V4_CAP_DEFAULT, or for
 * tests the hook capacity=N (the first tables) or N/MAX (and the most
 * they may grow to)
 */
static void choose_capacity(struct mx_cfg *cfg)
{
	const char *s = mx_test_hook("capacity");
	const char *slash = s ? strchr(s, '/') : NULL;
	char first[32];
	uint64_t v;

	cfg->cap4 = MX_V4_CAP_DEFAULT;
	cfg->cap6 = MX_V6_CAP_DEFAULT;
	cfg->cap4_max = MX_V4_CAP_MAX;
	cfg->cap6_max = MX_V6_CAP_MAX;
	if (!s)
		return;
	snprintf(first, sizeof(first), "%.*s",
		 (int)(slash ? slash - s : (ptrdiff_t)strlen(s)), s);
	if (!parse_u64(first, 256, MX_V4_CAP_MAX, &v)) {
		cfg->cap4 = (__u32)v;
		cfg->cap6 = (__u32)(v / 8 > 256 ? v / 8 : 256);
	}
	if (slash && !parse_u64(slash + 1, cfg->cap4, MX_V4_CAP_MAX, &v)) {
		cfg->cap4_max = (__u32)v;
		cfg->cap6_max = cfg->cap6 > v / 8 ? cfg->cap6 : (__u32)(v / 8);
	}
}

/* xdp_size_cfg - buckets for the capacities of cfg: at most half the slots
 * in use */
void xdp_size_cfg(struct mx_cfg *cfg)
{
	cfg->cap = cfg->cap4 + cfg->cap6;
	for (cfg->nb4 = 1; cfg->nb4 < cfg->cap4 / (MX_T4_SLOTS / 2);
	     cfg->nb4 <<= 1)
		;
	for (cfg->nb6 = 1; cfg->nb6 < cfg->cap6 / (MX_T6_SLOTS / 2);
	     cfg->nb6 <<= 1)
		;
}

/* xdp_load_skel - open and load the program, reusing (or making) the maps
 * pinned in dir, sized for cfg */
static int load_skel(const char *dir, const struct mx_cfg *cfg, bool prog,
		     struct mxwall_bpf **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = dir);
	struct mxwall_bpf *skel;
	int err;

	skel = mxwall_bpf__open_opts(&opts);
	if (!skel)
		return -errno;
	/* the verifier's check of the program is most of a load's time */
	bpf_program__set_autoload(skel->progs.mxwall_xdp, prog);
	bpf_map__set_max_entries(skel->maps.mx_t4, cfg->nb4);
	bpf_map__set_max_entries(skel->maps.mx_t6, cfg->nb6);
	bpf_map__set_max_entries(skel->maps.mx_c4, cfg->nb4 * cfg->ncpus);
	bpf_map__set_max_entries(skel->maps.mx_c6, cfg->nb6 * cfg->ncpus);
	bpf_map__set_max_entries(skel->maps.mx_meta, cfg->cap);
	bpf_map__set_max_entries(skel->maps.mx_x4, mx_nx4(cfg->nb4));
	bpf_map__set_max_entries(skel->maps.mx_xc4,
				 mx_nx4(cfg->nb4) * MX_X4_STRIDE * cfg->ncpus);
	bpf_map__set_max_entries(skel->maps.mx_xl, cfg->ncpus);
	err = mxwall_bpf__load(skel);
	if (err) {
		mxwall_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int xdp_load_skel(const char *dir, const struct mx_cfg *cfg,
		  struct mxwall_bpf **out)
{
	return load_skel(dir, cfg, true, out);
}

/*
 * xdp_new_set - make a new set of maps pinned in dir, sized for cfg, and
 * write cfg into its mx_cfg; the maps only: the program is loaded where
 * it is attached (the verifier's check is most of a load's time)
 */
int xdp_new_set(const char *dir, const struct mx_cfg *cfg,
		struct mxwall_bpf **out)
{
	__u32 zero = 0;
	int err = load_skel(dir, cfg, false, out);

	if (err)
		return err;
	if (bpf_map_update_elem(bpf_map__fd((*out)->maps.mx_cfg), &zero, cfg,
				BPF_ANY)) {
		err = -errno;
		mxwall_bpf__destroy(*out);
		*out = NULL;
	}
	return err;
}

int backend_xdp_load(struct backend *be, struct mxwall_bpf **out)
{
	if (!be->priv || be->ops != &backend_xdp_ops)
		return -EINVAL;
	return xdp_load_skel(be->pin_dir, &priv(be)->cfg, out);
}

static void remove_pins(const struct backend *be)
{
	char path[4096];
	struct dirent *d;
	DIR *dir;
	int fd;

	xdp_grow_remove_stage(be);
	dir = opendir(be->pin_dir);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		/* the handshake record is not the filter's (wire.c) */
		if (d->d_name[0] == '.' ||
		    !strncmp(d->d_name, MX_WIRE_PREFIX, strlen(MX_WIRE_PREFIX)))
			continue;
		if (xdp_pin_path(be, d->d_name, path, sizeof(path)))
			continue;
		if (!strncmp(d->d_name, MX_LINK_PREFIX,
			     strlen(MX_LINK_PREFIX))) {
			fd = bpf_obj_get(path);
			if (fd >= 0) {
				bpf_link_detach(fd);
				close(fd);
			}
		}
		unlink(path);
	}
	closedir(dir);
	rmdir(be->pin_dir);
}

/* create_pins - make the maps and pin them, with the default config */
static int create_pins(struct backend *be)
{
	struct mxwall_bpf *skel = NULL;
	struct mx_cfg cfg = {
	    .magic = MX_MAGIC,
	    .layout = MX_LAYOUT,
	    .nports = 1,
	    .ports = {25},
	};
	int err, ncpus;

	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	cfg.ncpus = (__u32)ncpus;
	choose_capacity(&cfg);
	xdp_size_cfg(&cfg);
	cfg.gen = 1;
	err = xdp_clock_calibrate(&cfg);
	if (err)
		return err;
	err = mkdir_p(be->pin_dir, 0700);
	if (err)
		return err;
	err = xdp_new_set(be->pin_dir, &cfg, &skel);
	if (err) {
		remove_pins(be);
		return err;
	}
	mxwall_bpf__destroy(skel);
	return 0;
}

/*
 * upgrade - a pin directory of an older layout (2: no host index; 3: an
 * index of the plain drop hosts only, no region bits) to this layout, in
 * place: the shared summaries rebuilt (region bits), then a growth to the
 * same capacity makes the new set (the index built as the entries are
 * written), switches the interfaces' programs to it, adds the counts, and
 * marks the old mx_cfg replaced, so that an older mxwall still running
 * reopens and refuses this layout instead of writing a table whose index
 * it would not keep. Under the pin directory's lock.
 */
static int upgrade(struct backend *be)
{
	int lfd = -1, err;

	if (be->pin_lock_fd < 0) {
		lfd = open(be->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lfd < 0 || flock(lfd, LOCK_EX)) {
			err = -errno;
			goto out;
		}
		/* upgraded by another process while we waited */
		err = xdp_refresh(be, true);
		if (err || !priv(be)->older)
			goto out;
	}
	log_info("upgrading the pinned maps of %s from layout %u to %u",
		 be->pin_dir, priv(be)->older, MX_LAYOUT);
	/* the shared summaries first: this layout's program skips the IPv4
	 * netblocks of a /24 whose region bit is clear (the old program
	 * takes the new bits for Bloom false positives) */
	err = xdp_summaries_rebuild(priv(be));
	if (!err)
		err = xdp_grow(be, 0, 0, false);
out:
	if (lfd >= 0)
		close(lfd);
	return err;
}

static int xdp_open(struct backend *be, bool create)
{
	struct xdp_priv *p;
	char path[4096];
	bool made = false;
	int err, i;

	err = ensure_bpffs(be->pin_dir);
	if (err)
		return err;
	/* a growth of the tables that a crash interrupted */
	err = xdp_grow_recover(be);
	if (err)
		return err;
	err = xdp_pin_path(be, MX_MAP_CFG, path, sizeof(path));
	if (err)
		return err;
	if (access(path, F_OK)) {
		if (errno != ENOENT)
			return -errno;
		if (!create)
			return -ENOENT;
		err = create_pins(be);
		if (err)
			return err;
		made = true;
	}
	p = xcalloc(1, sizeof(*p));
	for (i = 0; i < M_NR; i++)
		p->fd[i] = -1;
	p->ctl_fd = -1;
	be->priv = p;
	err = xdp_set_open_any(be->pin_dir, p);
	if (!err && p->older)
		err = upgrade(be);
	if (err) {
		xdp_close(be);
		return err;
	}
	if (made)
		xdp_ctl_fresh(be, p);
	return 0;
}

/* ---- interfaces ---- */

static int link_ifindex(int lfd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(lfd, &info, &len))
		return -errno;
	if (info.type != BPF_LINK_TYPE_XDP)
		return -EINVAL;
	return (int)info.xdp.ifindex;
}

static enum mx_attach_mode query_mode(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return MX_MODE_AUTO;
	if (q.attach_mode == XDP_ATTACHED_DRV ||
	    q.attach_mode == XDP_ATTACHED_HW)
		return MX_MODE_NATIVE;
	if (q.attach_mode == XDP_ATTACHED_SKB)
		return MX_MODE_GENERIC;
	if (q.attach_mode == XDP_ATTACHED_MULTI)
		return q.drv_prog_id ? MX_MODE_NATIVE : MX_MODE_GENERIC;
	return MX_MODE_AUTO;
}

static int xdp_attach(struct backend *be, const char *ifname,
		      enum mx_attach_mode mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	struct xdp_priv *p = priv(be);
	struct mxwall_bpf *skel = NULL;
	char name[64], path[4096];
	int ifindex, lfd = -1, prog_fd, err;

	if (xdp_refresh(be, false))
		return -EUCLEAN;

	if (strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/'))
		return -ENODEV;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	snprintf(name, sizeof(name), MX_LINK_PREFIX "%s", ifname);
	err = xdp_pin_path(be, name, path, sizeof(path));
	if (err)
		return err;
	err = xdp_load_skel(be->pin_dir, &p->cfg, &skel);
	if (err) {
		if (err == -EINVAL)
			log_err("%s: cannot load the XDP program over the "
				"pinned maps (another layout?)",
				be->pin_dir);
		return err;
	}
	prog_fd = bpf_program__fd(skel->progs.mxwall_xdp);

	lfd = bpf_obj_get(path);
	if (lfd >= 0) {
		if (link_ifindex(lfd) == ifindex) {
			/* upgrade in place: maps and counters stay */
			if (bpf_link_update(lfd, prog_fd, NULL))
				err = -errno;
			goto out;
		}
		/* the interface went away since: a stale pin */
		bpf_link_detach(lfd);
		close(lfd);
		lfd = -1;
		unlink(path);
	}

	if (!bpf_xdp_query(ifindex, 0, &q) &&
	    q.attach_mode != XDP_ATTACHED_NONE) {
		log_warn("%s already has an XDP program (id %u) that is not "
			 "mxwall's; detach it first",
			 ifname, q.prog_id ? q.prog_id : q.drv_prog_id);
		err = -EBUSY;
		goto out;
	}
	if (mode == MX_MODE_AUTO || mode == MX_MODE_NATIVE) {
		lopts.flags = XDP_FLAGS_DRV_MODE;
		lfd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lopts);
	}
	if (lfd < 0 && (mode == MX_MODE_AUTO || mode == MX_MODE_GENERIC)) {
		lopts.flags = XDP_FLAGS_SKB_MODE;
		lfd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lopts);
	}
	if (lfd < 0) {
		err = -errno;
		if (err == -EEXIST)
			err = -EBUSY;
		goto out;
	}
	if (bpf_obj_pin(lfd, path)) {
		err = -errno;
		bpf_link_detach(lfd);
	}
out:
	if (lfd >= 0)
		close(lfd);
	mxwall_bpf__destroy(skel);
	return err;
}

static int xdp_detach(struct backend *be, const char *ifname)
{
	char name[64], path[4096];
	int lfd, err;

	if (strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/'))
		return -ENODEV;
	snprintf(name, sizeof(name), MX_LINK_PREFIX "%s", ifname);
	err = xdp_pin_path(be, name, path, sizeof(path));
	if (err)
		return err;
	lfd = bpf_obj_get(path);
	if (lfd < 0)
		return -errno;
	if (bpf_link_detach(lfd) && errno != ENOLINK)
		err = -errno;
	close(lfd);
	if (!err && unlink(path))
		err = -errno;
	return err;
}

static int xdp_set_config(struct backend *be, const struct mx_dp_config *c)
{
	struct xdp_priv *p = priv(be);
	struct mx_cfg cfg;
	size_t i;
	int err;

	if (xdp_refresh(be, false))
		return -EUCLEAN;

	if (c->nports < 1 || c->nports > MX_PORTS_MAX_BPF)
		return -EINVAL;
	for (i = 0; i < c->nports; i++)
		if (!c->ports[i])
			return -EINVAL;
	err = xdp_read_cfg(p, &cfg);
	if (err)
		return err;
	memset(cfg.ports, 0, sizeof(cfg.ports));
	for (i = 0; i < c->nports; i++)
		cfg.ports[i] = c->ports[i];
	cfg.nports = (__u32)c->nports;
	if (c->observe)
		cfg.flags |= MX_CFG_OBSERVE;
	else
		cfg.flags &= ~MX_CFG_OBSERVE;
	err = xdp_write_cfg(p, &cfg);
	if (!err)
		p->cfg = cfg;
	return err;
}

static int read_stats(struct xdp_priv *p, struct mx_counters *out)
{
	struct mx_stats *s;
	__u32 zero = 0;
	unsigned int i;

	s = xcalloc(p->ncpus, sizeof(*s));
	if (bpf_map_lookup_elem(p->fd[M_STATS], &zero, s)) {
		free(s);
		return -errno;
	}
	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->ncpus; i++) {
		out->seen += s[i].seen;
		out->syn += s[i].syn;
		out->dropped += s[i].dropped;
		out->allowed += s[i].allowed;
		out->observed += s[i].observed;
		out->passed += s[i].passed;
		out->malformed += s[i].malformed;
	}
	free(s);
	return 0;
}

static int xdp_status(struct backend *be, struct mx_status *st)
{
	struct xdp_priv *p = priv(be);
	struct mx_cfg cfg;
	char path[4096];
	struct dirent *d;
	struct mx_iface *ifc;
	size_t plen = strlen(MX_LINK_PREFIX);
	int64_t now;
	__u32 id;
	DIR *dir;
	int err, lfd;

	if (xdp_refresh(be, false))
		return -EUCLEAN;
	now = mx_now();

	memset(st, 0, sizeof(*st));
	st->backend = "xdp";
	snprintf(st->why, sizeof(st->why), "%s", be->why);
	err = xdp_read_cfg(p, &cfg);
	if (err)
		return err;
	dir = opendir(be->pin_dir);
	if (!dir)
		return -errno;
	while ((d = readdir(dir)) && st->nifaces < MX_IFACES_MAX) {
		if (strncmp(d->d_name, MX_LINK_PREFIX, plen))
			continue;
		if (xdp_pin_path(be, d->d_name, path, sizeof(path)))
			continue;
		lfd = bpf_obj_get(path);
		if (lfd < 0)
			continue;
		ifc = &st->ifaces[st->nifaces++];
		snprintf(ifc->name, sizeof(ifc->name), "%s", d->d_name + plen);
		ifc->ifindex = link_ifindex(lfd);
		if (ifc->ifindex < 0)
			ifc->ifindex = 0;
		ifc->mode =
		    ifc->ifindex ? query_mode(ifc->ifindex) : MX_MODE_AUTO;
		close(lfd);
	}
	closedir(dir);
	for (id = 0; id < cfg.nports && id < MX_PORTS_MAX; id++)
		st->cfg.ports[id] = cfg.ports[id];
	st->cfg.nports = cfg.nports;
	st->cfg.observe = cfg.flags & MX_CFG_OBSERVE;
	for (id = 0; id < cfg.cap; id++) {
		if (!p->meta[id].family ||
		    (p->meta[id].expires && p->meta[id].expires <= now))
			continue; /* expired: the program ignores it */
		if (p->meta[id].origin == MX_ORIGIN_STATIC)
			st->entries_static++;
		else
			st->entries_dynamic++;
	}
	st->capacity = (size_t)cfg.cap4_max + cfg.cap6_max;
	return read_stats(p, &st->counters);
}

static int xdp_destroy(struct backend *be)
{
	char path[4096];
	int err;

	err = xdp_pin_path(be, MX_MAP_CFG, path, sizeof(path));
	if (err)
		return err;
	remove_pins(be);
	if (!access(path, F_OK))
		return -EBUSY;
	return 0;
}

const struct backend_ops backend_xdp_ops = {
    .name = "xdp",
    .open = xdp_open,
    .close = xdp_close,
    .attach = xdp_attach,
    .detach = xdp_detach,
    .set_config = xdp_set_config,
    .status = xdp_status,
    .apply = xdp_apply,
    .dump = xdp_dump,
    .zero_counters = xdp_zero_counters,
    .destroy = xdp_destroy,
};
