// SPDX-License-Identifier: GPL-2.0
/*
 * backend_xdp.c - the XDP backend: pinned maps under be->pin_dir, one
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
 *    command's one line comes from backend_strerror()).
 *  - apply() writes IPv4 slots with single atomic stores into the mmapped
 *    table (the program never sees half a slot) and IPv6 keys with the
 *    batch map API; on any failure it undoes what it did before returning:
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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
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
#include "mxwall.skel.h"
#include "wire_shared.h"
#include "mxwall_shared.h"

enum {
	M_CFG,
	M_STATS,
	M_T4,
	M_H6,
	M_BM4,
	M_BM6,
	M_BL4,
	M_CTR,
	M_META,
	M_TAGS,
	M_SEEN,
	M_NR
};

static const char *const map_names[M_NR] = {
    [M_CFG] = MX_MAP_CFG,   [M_STATS] = MX_MAP_STATS, [M_T4] = MX_MAP_T4,
    [M_H6] = MX_MAP_H6,	    [M_BM4] = MX_MAP_BM4,     [M_BM6] = MX_MAP_BM6,
    [M_BL4] = MX_MAP_BL4,   [M_CTR] = MX_MAP_CTR,     [M_META] = MX_MAP_META,
    [M_TAGS] = MX_MAP_TAGS, [M_SEEN] = MX_MAP_SEEN,
};

struct xdp_priv {
	int fd[M_NR];
	struct mx_cfg cfg; /* as read at open */
	unsigned int ncpus;
	struct mx_bkt4 *t4;	/* mmapped IPv4 table */
	__u64 *bm4, *bm6, *bl4; /* mmapped summaries */
	struct mx_ctr *ctr;	/* [cpu * cap + id] */
	struct mx_meta *meta;	/* [id] */
	struct mx_tagset *tags; /* [tagset] */
	__u64 *seen;		/* [slot] */
	size_t len[M_NR];	/* mmapped lengths */
	int ctl_fd;		/* mx_ctl; -1 until made or found */
	__u64 *ctl;		/* mmapped mx_ctl */
	size_t ctl_len;
};

static struct xdp_priv *priv(struct backend *be)
{
	return be->priv;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/*
 * prefault - make the pages of a big fresh allocation in one call: a page
 * fault per 4 KiB costs tens of microseconds in some virtual machines, and
 * a 1M-entry load touches tens of thousands of pages. Best effort.
 */
static void prefault(void *p, size_t len)
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

static int pin_path(const struct backend *be, const char *name, char *buf,
		    size_t len)
{
	return path_join(buf, len, be->pin_dir, name);
}

static size_t map_bytes(size_t value_size, size_t entries)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = ((value_size + 7) & ~(size_t)7) * entries;

	return (n + page - 1) / page * page;
}

static void *map_mmap(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void xdp_close(struct backend *be)
{
	struct xdp_priv *p = priv(be);
	void *maps[M_NR] = {NULL};
	int i;

	if (!p)
		return;
	maps[M_T4] = p->t4;
	maps[M_BM4] = p->bm4;
	maps[M_BM6] = p->bm6;
	maps[M_BL4] = p->bl4;
	maps[M_CTR] = p->ctr;
	maps[M_META] = p->meta;
	maps[M_TAGS] = p->tags;
	maps[M_SEEN] = p->seen;
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
	free(p);
	be->priv = NULL;
}

static int read_cfg(struct xdp_priv *p, struct mx_cfg *cfg)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(p->fd[M_CFG], &zero, cfg))
		return -errno;
	return 0;
}

static int write_cfg(struct xdp_priv *p, const struct mx_cfg *cfg)
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
    [M_H6] = {BPF_MAP_TYPE_HASH, sizeof(struct mx_key6), sizeof(struct mx_val)},
    [M_BM4] = {BPF_MAP_TYPE_ARRAY, 4, 8},
    [M_BM6] = {BPF_MAP_TYPE_ARRAY, 4, 8},
    [M_BL4] = {BPF_MAP_TYPE_ARRAY, 4, 8},
    [M_CTR] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_ctr)},
    [M_META] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_meta)},
    [M_TAGS] = {BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_tagset)},
    [M_SEEN] = {BPF_MAP_TYPE_ARRAY, 4, 8},
};

/* open_pins - open every pinned map, check its layout, mmap the arrays */
static int open_pins(struct backend *be, struct xdp_priv *p)
{
	struct bpf_map_info info;
	__u32 ilen, want_entries;
	char path[4096];
	int i, err, ncpus;

	for (i = 0; i < M_NR; i++) {
		err = pin_path(be, map_names[i], path, sizeof(path));
		if (err)
			return err;
		p->fd[i] = bpf_obj_get(path);
		if (p->fd[i] < 0) {
			err = -errno;
			if (err == -ENOENT && i > 0) {
				/* the command says it (backend_strerror) */
				log_debug("%s: pinned map %s is missing",
					  be->pin_dir, map_names[i]);
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
	err = read_cfg(p, &p->cfg);
	if (err)
		return err;
	if (p->cfg.magic != MX_MAGIC || p->cfg.layout != MX_LAYOUT)
		goto layout;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	if (p->cfg.ncpus != (__u32)ncpus) {
		log_debug("%s: maps were made for %u CPUs, this machine has %d",
			  be->pin_dir, p->cfg.ncpus, ncpus);
		return -EPROTO;
	}
	p->ncpus = (unsigned int)ncpus;
	for (i = 0; i < M_NR; i++) {
		memset(&info, 0, sizeof(info));
		ilen = sizeof(info);
		if (bpf_obj_get_info_by_fd(p->fd[i], &info, &ilen))
			return -errno;
		switch (i) {
		case M_T4:
			want_entries = p->cfg.nb4;
			break;
		case M_H6:
			want_entries = p->cfg.cap6;
			break;
		case M_CTR:
			want_entries = p->cfg.cap * p->cfg.ncpus;
			break;
		case M_META:
			want_entries = p->cfg.cap;
			break;
		case M_BM4:
		case M_BM6:
		case M_BL4:
			want_entries = MX_BM_WORDS;
			break;
		case M_TAGS:
			want_entries = MX_TAGSETS;
			break;
		case M_SEEN:
			want_entries = MX_SEEN_SLOTS;
			break;
		default:
			want_entries = 1;
		}
		if (info.max_entries != want_entries)
			goto layout;
		p->len[i] = map_bytes(info.value_size, info.max_entries);
	}
	p->t4 = map_mmap(p->fd[M_T4], p->len[M_T4]);
	p->bm4 = map_mmap(p->fd[M_BM4], p->len[M_BM4]);
	p->bm6 = map_mmap(p->fd[M_BM6], p->len[M_BM6]);
	p->bl4 = map_mmap(p->fd[M_BL4], p->len[M_BL4]);
	p->ctr = map_mmap(p->fd[M_CTR], p->len[M_CTR]);
	p->meta = map_mmap(p->fd[M_META], p->len[M_META]);
	p->tags = map_mmap(p->fd[M_TAGS], p->len[M_TAGS]);
	p->seen = map_mmap(p->fd[M_SEEN], p->len[M_SEEN]);
	if (!p->t4 || !p->bm4 || !p->bm6 || !p->bl4 || !p->ctr || !p->meta ||
	    !p->tags || !p->seen)
		return -errno;
	return 0;
layout:
	/* one line, from the command: backend_strerror(-EPROTO) */
	log_debug("%s: layout %u, this mxwall knows layout %u", be->pin_dir,
		  p->cfg.layout, MX_LAYOUT);
	return -EPROTO;
}

/* capacity chosen at create time: $MXWALL_CAPACITY (IPv4 entries) */
static void choose_capacity(__u32 *cap4, __u32 *cap6)
{
	const char *s = secure_getenv("MXWALL_CAPACITY");
	uint64_t v;

	*cap4 = MX_V4_CAP_DEFAULT;
	*cap6 = MX_V6_CAP_DEFAULT;
	/* ids are 24 bits in an IPv4 slot: at most 8M + 1M entries */
	if (s && !parse_u64(s, 1024, 8ULL * 1024 * 1024, &v)) {
		*cap4 = (__u32)v;
		*cap6 = (__u32)(v / 8 > 1024 ? v / 8 : 1024);
	}
}

/* load_skel - open and load the program, reusing (or making) the pins */
static int load_skel(struct backend *be, const struct mx_cfg *cfg,
		     struct mxwall_bpf **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = be->pin_dir);
	struct mxwall_bpf *skel;
	int err;

	skel = mxwall_bpf__open_opts(&opts);
	if (!skel)
		return -errno;
	bpf_map__set_max_entries(skel->maps.mx_t4, cfg->nb4);
	bpf_map__set_max_entries(skel->maps.mx_h6, cfg->cap6);
	bpf_map__set_max_entries(skel->maps.mx_ctr, cfg->cap * cfg->ncpus);
	bpf_map__set_max_entries(skel->maps.mx_meta, cfg->cap);
	err = mxwall_bpf__load(skel);
	if (err) {
		mxwall_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int backend_xdp_load(struct backend *be, struct mxwall_bpf **out)
{
	if (!be->priv || be->ops != &backend_xdp_ops)
		return -EINVAL;
	return load_skel(be, &priv(be)->cfg, out);
}

static void remove_pins(const struct backend *be)
{
	char path[4096];
	struct dirent *d;
	DIR *dir;
	int fd;

	dir = opendir(be->pin_dir);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		/* the handshake record is not the filter's (wire.c) */
		if (d->d_name[0] == '.' ||
		    !strncmp(d->d_name, MX_WIRE_PREFIX, strlen(MX_WIRE_PREFIX)))
			continue;
		if (pin_path(be, d->d_name, path, sizeof(path)))
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
	__u32 zero = 0;
	int err, ncpus;

	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	cfg.ncpus = (__u32)ncpus;
	choose_capacity(&cfg.cap4, &cfg.cap6);
	cfg.cap = cfg.cap4 + cfg.cap6;
	for (cfg.nb4 = 1; cfg.nb4 < cfg.cap4 / 4; cfg.nb4 <<= 1)
		;
	err = mkdir_p(be->pin_dir, 0700);
	if (err)
		return err;
	err = load_skel(be, &cfg, &skel);
	if (err)
		goto fail;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.mx_cfg), &zero, &cfg,
				BPF_ANY)) {
		err = -errno;
		goto fail;
	}
	mxwall_bpf__destroy(skel);
	return 0;
fail:
	if (skel)
		mxwall_bpf__destroy(skel);
	remove_pins(be);
	return err;
}

static void ctl_fresh(struct backend *be, struct xdp_priv *p);

static int xdp_open(struct backend *be, bool create)
{
	struct xdp_priv *p;
	char path[4096];
	bool made = false;
	int err, i;

	err = ensure_bpffs(be->pin_dir);
	if (err)
		return err;
	err = pin_path(be, MX_MAP_CFG, path, sizeof(path));
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
	err = open_pins(be, p);
	if (err) {
		xdp_close(be);
		return err;
	}
	if (made)
		ctl_fresh(be, p);
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

	if (strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/'))
		return -ENODEV;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	snprintf(name, sizeof(name), MX_LINK_PREFIX "%s", ifname);
	err = pin_path(be, name, path, sizeof(path));
	if (err)
		return err;
	err = load_skel(be, &p->cfg, &skel);
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
	err = pin_path(be, name, path, sizeof(path));
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

	if (c->nports < 1 || c->nports > MX_PORTS_MAX_BPF)
		return -EINVAL;
	for (i = 0; i < c->nports; i++)
		if (!c->ports[i])
			return -EINVAL;
	err = read_cfg(p, &cfg);
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
	err = write_cfg(p, &cfg);
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
	__u32 id;
	DIR *dir;
	int err, lfd;

	memset(st, 0, sizeof(*st));
	st->backend = "xdp";
	snprintf(st->why, sizeof(st->why), "%s", be->why);
	err = read_cfg(p, &cfg);
	if (err)
		return err;
	dir = opendir(be->pin_dir);
	if (!dir)
		return -errno;
	while ((d = readdir(dir)) && st->nifaces < MX_IFACES_MAX) {
		if (strncmp(d->d_name, MX_LINK_PREFIX, plen))
			continue;
		if (pin_path(be, d->d_name, path, sizeof(path)))
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
		if (!p->meta[id].family)
			continue;
		if (p->meta[id].origin == MX_ORIGIN_STATIC)
			st->entries_static++;
		else
			st->entries_dynamic++;
	}
	st->capacity = (size_t)cfg.cap4 + cfg.cap6;
	return read_stats(p, &st->counters);
}

/* ---- entries ---- */

/*
 * index: open addressing from (family, plen, addr) to id. A slot is
 * (tag << 32) | (id + 1), the tag being the high half of the hash, so a
 * probe rarely has to read an entry to compare; 0 empty, IX_TOMB deleted.
 */
#define IX_TOMB UINT64_MAX

struct index {
	__u64 *slot;
	size_t mask;
	const struct mx_meta *meta;
	/* entries planned, not in meta yet: by id (big), by slot (small) */
	const struct cidr **pend;
	const struct cidr **spend;
};

static __u64 net_hash(const __u8 *addr, __u8 family, __u8 plen)
{
	__u64 h = 0xcbf29ce484222325ULL ^ ((__u64)family << 8 | plen);
	int i;

	for (i = 0; i < 16; i += 4) {
		__u32 w;

		memcpy(&w, addr + i, 4);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h * 0x9e3779b97f4a7c15ULL;
}

static bool meta_is(const struct mx_meta *m, const struct cidr *c)
{
	return m->family == c->family && m->plen == c->plen &&
	       !memcmp(m->addr, c->addr, 16);
}

/* index_pending - the planned entry at slot pos, or NULL */
static const struct cidr *index_pending(const struct index *ix, size_t pos)
{
	if (ix->pend)
		return ix->pend[(__u32)ix->slot[pos] - 1];
	return ix->spend ? ix->spend[pos] : NULL;
}

static bool index_match(const struct index *ix, size_t pos, __u64 h,
			const struct cidr *c)
{
	__u64 s = ix->slot[pos];
	__u32 id = (__u32)s - 1;
	const struct cidr *pc;

	if (s == IX_TOMB || (s >> 32) != (h >> 32))
		return false;
	pc = index_pending(ix, pos);
	if (pc)
		return pc->family == c->family && pc->plen == c->plen &&
		       !memcmp(pc->addr, c->addr, 16);
	return meta_is(&ix->meta[id], c);
}

static void index_init(struct index *ix, const struct mx_meta *meta,
		       size_t want)
{
	size_t n = 64;

	while (n < want * 2)
		n <<= 1;
	ix->slot = xcalloc(n, sizeof(*ix->slot));
	prefault(ix->slot, n * sizeof(*ix->slot));
	ix->mask = n - 1;
	ix->meta = meta;
	ix->pend = NULL;
	ix->spend = NULL;
}

static void index_prefetch(const struct index *ix, const struct cidr *c)
{
	__builtin_prefetch(
	    &ix->slot[net_hash(c->addr, c->family, c->plen) & ix->mask]);
}

/* index_pos - the slot holding c, or SIZE_MAX; *empty: where it would go */
static size_t index_pos(const struct index *ix, const struct cidr *c,
			size_t *empty)
{
	__u64 h = net_hash(c->addr, c->family, c->plen), s;
	size_t i = h & ix->mask, tomb = SIZE_MAX;

	for (;; i = (i + 1) & ix->mask) {
		s = ix->slot[i];
		if (!s) {
			if (empty)
				*empty = tomb != SIZE_MAX ? tomb : i;
			return SIZE_MAX;
		}
		if (s == IX_TOMB && tomb == SIZE_MAX)
			tomb = i;
		if (index_match(ix, i, h, c))
			return i;
	}
}

static __u32 index_get(const struct index *ix, const struct cidr *c)
{
	size_t i = index_pos(ix, c, NULL);

	return i == SIZE_MAX ? UINT32_MAX : (__u32)ix->slot[i] - 1;
}

/* index_put - c is id; pc: c as planned by this call (not in meta yet) */
static void index_put(struct index *ix, const struct cidr *c, __u32 id,
		      const struct cidr *pc)
{
	__u64 h = net_hash(c->addr, c->family, c->plen);
	size_t e = 0, i = index_pos(ix, c, &e);

	if (i == SIZE_MAX)
		i = e;
	ix->slot[i] = (h >> 32 << 32) | (id + 1);
	if (ix->pend && pc)
		ix->pend[id] = pc;
	else if (ix->spend)
		ix->spend[i] = pc;
}

/* index_is_pending - is c planned by this call (not in meta yet) */
static bool index_is_pending(const struct index *ix, const struct cidr *c)
{
	size_t i = index_pos(ix, c, NULL);

	return i != SIZE_MAX && index_pending(ix, i);
}

static void index_del(struct index *ix, const struct cidr *c)
{
	size_t i = index_pos(ix, c, NULL);

	if (i == SIZE_MAX)
		return;
	ix->slot[i] = IX_TOMB;
	if (ix->spend)
		ix->spend[i] = NULL;
}

static void meta_cidr(const struct mx_meta *m, struct cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->family = m->family;
	c->plen = m->plen;
	memcpy(c->addr, m->addr, 16);
}

/* ---- the IPv4 table (mxwall_shared.h): slots written whole ---- */

struct t4_undo {
	__u64 *slot;
	__u64 old;
};

struct t4_log {
	struct t4_undo *v;
	size_t n, alloc;
};

static __u32 host4(const struct cidr *c)
{
	__u32 a;

	memcpy(&a, c->addr, 4);
	return ntohl(a);
}

/* t4_find - the slot holding c, or NULL */
static __u64 *t4_find(struct xdp_priv *p, const struct cidr *c)
{
	__u32 a = host4(c), mask = p->cfg.nb4 - 1, b[2], i, j, meta;
	__u64 x;

	b[0] = mx_t4_b1(a, c->plen, mask);
	b[1] = mx_t4_b2(a, c->plen, mask);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < MX_T4_SLOTS; j++) {
			x = p->t4[b[i]].slot[j];
			meta = (__u32)(x >> 32);
			if (x && (__u32)x == a && MX_T4_PLEN(meta) == c->plen)
				return &p->t4[b[i]].slot[j];
		}
	}
	return NULL;
}

static void t4_prefetch(struct xdp_priv *p, const struct cidr *c)
{
	__u32 a = host4(c), mask = p->cfg.nb4 - 1;

	__builtin_prefetch(&p->t4[mx_t4_b1(a, c->plen, mask)]);
	__builtin_prefetch(&p->t4[mx_t4_b2(a, c->plen, mask)]);
}

/*
 * t4_free - a free slot for c in the less loaded of its two buckets (two
 * choices keep the fullest bucket near half full at half load)
 */
static __u64 *t4_free(struct xdp_priv *p, const struct cidr *c)
{
	__u32 a = host4(c), mask = p->cfg.nb4 - 1, b[2], i, j, used[2];

	b[0] = mx_t4_b1(a, c->plen, mask);
	b[1] = mx_t4_b2(a, c->plen, mask);
	for (i = 0; i < 2; i++)
		for (j = 0, used[i] = 0; j < MX_T4_SLOTS; j++)
			used[i] += p->t4[b[i]].slot[j] != 0;
	i = used[1] < used[0];
	for (j = 0; j < MX_T4_SLOTS; j++)
		if (!p->t4[b[i]].slot[j])
			return &p->t4[b[i]].slot[j];
	return NULL;
}

/* t4_store - one atomic store the program sees whole; logged for undo */
static void t4_store(struct t4_log *log, __u64 *slot, __u64 v)
{
	if (log) {
		if (log->n == log->alloc) {
			log->alloc = log->alloc ? log->alloc * 2 : 1024;
			log->v =
			    xreallocarray(log->v, log->alloc, sizeof(*log->v));
		}
		log->v[log->n].slot = slot;
		log->v[log->n].old = *slot;
		log->n++;
	}
	__atomic_store_n(slot, v, __ATOMIC_RELEASE);
}

static void t4_undo(struct t4_log *log)
{
	while (log->n > 0) {
		log->n--;
		t4_store(NULL, log->v[log->n].slot, log->v[log->n].old);
	}
}

static __u64 t4_slot(const struct cidr *c, const struct mx_meta *m, __u32 id)
{
	__u32 meta = c->plen | id << 8;

	if (m->action == MX_VAL_ALLOW)
		meta |= MX_T4_ALLOW;
	if (m->observe)
		meta |= MX_T4_OBSERVE;
	return (__u64)meta << 32 | host4(c);
}

static void key6_of(const struct cidr *c, struct mx_key6 *k)
{
	memset(k, 0, sizeof(*k));
	k->plen = c->plen;
	memcpy(k->addr, c->addr, 16);
}

static void val_of(const struct mx_meta *m, __u32 id, struct mx_val *v)
{
	memset(v, 0, sizeof(*v));
	v->id = id;
	v->action = m->action;
	v->flags = m->observe ? MX_VAL_OBSERVE : 0;
}

/* tagset_find - the tagset holding tags, making one; 0 for none */
static int tagset_find(struct xdp_priv *p, const char *tags, __u16 *out)
{
	int i, fre = -1;

	if (!tags[0]) {
		*out = 0;
		return 0;
	}
	for (i = 1; i < MX_TAGSETS; i++) {
		if (!p->tags[i].tags[0]) {
			if (fre < 0)
				fre = i;
			continue;
		}
		if (!strncmp(p->tags[i].tags, tags, MX_TAGS_LEN_BPF)) {
			*out = (__u16)i;
			return 0;
		}
	}
	if (fre < 0)
		return -ENOSPC;
	snprintf(p->tags[fre].tags, MX_TAGS_LEN_BPF, "%s", tags);
	*out = (__u16)fre;
	return 0;
}

/*
 * tagsets_gc - forget tagsets that no entry uses, nor any of the nkeep
 * entries of keep (saved copies an undo may put back). Scans the whole
 * capacity: after big changes, or when tagset_find() ran out.
 */
static void tagsets_gc(struct xdp_priv *p, const struct mx_meta *keep,
		       size_t nkeep)
{
	__u8 *used = xcalloc(MX_TAGSETS, 1);
	size_t k;
	__u32 id;
	int i;

	for (id = 0; id < p->cfg.cap; id++)
		if (p->meta[id].family)
			used[p->meta[id].tagset] = 1;
	for (k = 0; k < nkeep; k++)
		if (keep[k].family && keep[k].tagset < MX_TAGSETS)
			used[keep[k].tagset] = 1;
	for (i = 1; i < MX_TAGSETS; i++)
		if (!used[i])
			memset(p->tags[i].tags, 0, sizeof(p->tags[i].tags));
	free(used);
}

/*
 * ---- mx_ctl: the controller's own pinned state ----
 *
 * Derived from mx_meta so that a small apply() need not scan the whole
 * capacity: the live counts per family, one bit per id in use, where the
 * next search for a free id starts, and how far the summaries have gone
 * stale through deletions (a deletion leaves its summary bits set: they
 * are "may match" filters, a stale bit costs a probe, never a verdict).
 * An array of 64-bit words, CTL_HDR header words then the id bitmap,
 * pinned as PIN_DIR/mx_ctl; the program never reads it, and it is not
 * part of MX_LAYOUT: a pin directory without it (or with one of another
 * shape) gets a fresh one at the next apply(), which starts invalid.
 * It is trusted only when CTL_VALID is set and mx_cfg is not marked
 * dirty; every full rebuild (a big apply, a repair after a crash)
 * recomputes all of it. A free id found in the bitmap is checked against
 * mx_meta before use, so a wrong bit costs time, never an entry.
 */
#define MX_MAP_CTL "mx_ctl"
#define CTL_MAGIC_V 0x6d78636c00000001ULL /* "mxcl", version 1 */
enum { CTL_MAGIC, CTL_VALID, CTL_N4, CTL_N6, CTL_STALE, CTL_HINT, CTL_HDR = 8 };
/* a rebuild of the summaries is due once deletions left this many bits */
#define CTL_STALE_MAX (1U << 17)
/* an apply() of this many entries or more takes the full path */
#define BIG_APPLY 8192

static __u32 ctl_words(const struct xdp_priv *p)
{
	return CTL_HDR + (p->cfg.cap + 63) / 64;
}

/* ctl_map - open (or with create, make) and mmap PIN_DIR/mx_ctl */
static int ctl_map(struct backend *be, struct xdp_priv *p, bool create)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	struct bpf_map_info info;
	__u32 ilen = sizeof(info), words = ctl_words(p);
	char path[4096];
	int fd, err;

	err = pin_path(be, MX_MAP_CTL, path, sizeof(path));
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &ilen) ||
		    info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
		    info.value_size != 8 || info.max_entries != words ||
		    !(info.map_flags & BPF_F_MMAPABLE)) {
			/* another shape: ours to replace, it is derived */
			close(fd);
			fd = -1;
			if (!create)
				return -ENOENT;
			if (unlink(path) && errno != ENOENT)
				return -errno;
		}
	}
	if (fd < 0) {
		if (!create)
			return -ENOENT;
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, MX_MAP_CTL, 4, 8, words,
				    &o);
		if (fd < 0)
			return -errno;
		if (bpf_obj_pin(fd, path)) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	p->ctl_len = map_bytes(8, words);
	p->ctl = map_mmap(fd, p->ctl_len);
	if (!p->ctl) {
		err = -errno;
		close(fd);
		return err;
	}
	p->ctl_fd = fd;
	if (p->ctl[CTL_MAGIC] != CTL_MAGIC_V) {
		p->ctl[CTL_VALID] = 0;
		p->ctl[CTL_MAGIC] = CTL_MAGIC_V;
	}
	return 0;
}

/*
 * ctl_fresh - mx_ctl for a pin directory just made: no entries, so it is
 * valid from the start and the first apply() is a small one too. Best
 * effort: without it the first apply() takes the full path.
 */
static void ctl_fresh(struct backend *be, struct xdp_priv *p)
{
	if (ctl_map(be, p, true))
		return;
	/* (a leftover of an earlier pin directory is reset too) */
	memset(p->ctl, 0, (size_t)ctl_words(p) * 8);
	p->ctl[CTL_MAGIC] = CTL_MAGIC_V;
	p->ctl[CTL_VALID] = 1;
}

static bool ctl_valid(const struct xdp_priv *p)
{
	return p->ctl && p->ctl[CTL_VALID] == 1;
}

static void ctl_bit(struct xdp_priv *p, __u32 id, bool on)
{
	__u64 *w = &p->ctl[CTL_HDR + id / 64], b = 1ULL << (id & 63);

	*w = on ? *w | b : *w & ~b;
}

/*
 * ctl_next_free - the next free id from *cur on (wrapping), not in use in
 * mx_meta; *left bounds the ids looked at (at most the capacity, so one
 * call never hands out an id twice). UINT32_MAX when none is left.
 */
static __u32 ctl_next_free(struct xdp_priv *p, __u32 *cur, __u32 *left)
{
	__u32 cap = p->cfg.cap, id;
	__u64 w;

	while (*left) {
		id = *cur < cap ? *cur : 0;
		w = p->ctl[CTL_HDR + id / 64];
		if (!(id & 63) && w == ~0ULL && *left >= 64 && id + 64 <= cap) {
			*cur = id + 64;
			*left -= 64;
			continue;
		}
		*cur = id + 1;
		(*left)--;
		if ((w >> (id & 63)) & 1)
			continue;
		if (p->meta[id].family) {
			/* a stale bit: mend it, look further */
			ctl_bit(p, id, true);
			continue;
		}
		return id;
	}
	return UINT32_MAX;
}

/* ctl_stale_weight - summary bits a deleted entry may leave stale */
static __u32 ctl_stale_weight(const struct cidr *c)
{
	if (c->family == AF_INET)
		return (c->plen >= 24 ? 1 : 1U << (24 - c->plen)) + 1;
	if (c->plen >= 32)
		return 1;
	if (c->plen >= MX_BM6_MIN_PLEN)
		return 1U << (32 - c->plen);
	/* it turned the IPv6 summary off: rebuild to turn it on again */
	return CTL_STALE_MAX;
}

static void bm_set_range(__u64 *bm, __u32 first, __u32 count)
{
	__u32 b = first, end = first + count;

	while (b < end && (b & 63))
		bm[b / 64] |= 1ULL << (b & 63), b++;
	while (b + 64 <= end)
		bm[b / 64] = ~0ULL, b += 64;
	while (b < end)
		bm[b / 64] |= 1ULL << (b & 63), b++;
}

/*
 * sum_set - set the summary bits of entry c in bm4/bl4 (IPv4) or bm6
 * (IPv6); *bm6_off: c is too short for the IPv6 summary. Plain stores:
 * for the published maps, see sum_publish_entry().
 */
static void sum_set(__u64 *bm4, __u64 *bl4, __u64 *bm6, const struct cidr *c,
		    bool *bm6_off)
{
	__u32 a, hi, i, n;

	if (c->family == AF_INET) {
		a = host4(c);
		bm_set_range(bl4, mx_bl4_bit(a, c->plen), 1);
		if (c->plen >= 24)
			bm_set_range(bm4, mx_bm4_bit(a), 1);
		else
			bm_set_range(bm4, mx_bm4_bit(a), 1U << (24 - c->plen));
		return;
	}
	memcpy(&hi, c->addr, 4);
	hi = ntohl(hi);
	if (c->plen >= 32) {
		bm_set_range(bm6, mx_bm6_bit(hi), 1);
	} else if (c->plen >= MX_BM6_MIN_PLEN) {
		n = 1U << (32 - c->plen);
		for (i = 0; i < n; i++)
			bm_set_range(bm6, mx_bm6_bit(hi + i), 1);
	} else {
		*bm6_off = true;
	}
}

/* bm_publish_bit - set one bit of a published summary with one store */
static void bm_publish_bit(__u64 *bm, __u32 bit)
{
	__u64 *w = &bm[bit / 64], b = 1ULL << (bit & 63);

	if (!(*w & b))
		__atomic_store_n(w, *w | b, __ATOMIC_RELEASE);
}

/*
 * sum_publish_entry - set the bits of entry c in the published summaries,
 * each word with one atomic store (only the controller writes them, under
 * the lock); *bm6_off as for sum_set(). For a short IPv4 netblock that is
 * up to 2^23 bits, whole words at a time.
 */
static void sum_publish_entry(struct xdp_priv *p, const struct cidr *c,
			      bool *bm6_off)
{
	__u32 a, hi, i, n, b, end;

	if (c->family == AF_INET) {
		a = host4(c);
		bm_publish_bit(p->bl4, mx_bl4_bit(a, c->plen));
		b = mx_bm4_bit(a);
		end = b + (c->plen >= 24 ? 1 : 1U << (24 - c->plen));
		while (b < end && (b & 63))
			bm_publish_bit(p->bm4, b++);
		for (; b + 64 <= end; b += 64)
			if (p->bm4[b / 64] != ~0ULL)
				__atomic_store_n(&p->bm4[b / 64], ~0ULL,
						 __ATOMIC_RELEASE);
		while (b < end)
			bm_publish_bit(p->bm4, b++);
		return;
	}
	memcpy(&hi, c->addr, 4);
	hi = ntohl(hi);
	if (c->plen >= 32) {
		bm_publish_bit(p->bm6, mx_bm6_bit(hi));
	} else if (c->plen >= MX_BM6_MIN_PLEN) {
		n = 1U << (32 - c->plen);
		for (i = 0; i < n; i++)
			bm_publish_bit(p->bm6, mx_bm6_bit(hi + i));
	} else {
		*bm6_off = true;
	}
}

/* plens_insert - put plen into a longest-first list of n lengths */
static void plens_insert(__u8 *list, __u32 *n, __u32 max, __u8 plen)
{
	__u32 i, j;

	for (i = 0; i < *n; i++) {
		if (list[i] == plen)
			return;
		if (list[i] < plen)
			break;
	}
	if (*n >= max)
		return;
	for (j = *n; j > i; j--)
		list[j] = list[j - 1];
	list[i] = plen;
	(*n)++;
}

/*
 * summaries_rebuild - recompute the summary bitmaps and the lists of prefix
 * lengths present from mx_meta, and publish them; recompute mx_ctl (counts,
 * ids in use, nothing stale). Called after the hashes changed: a bit or a
 * length appears only once its entries are in the hash (never a false
 * miss), and goes only once none is left. Scans the whole capacity: for
 * big changes, a repair, or when deletions left too many stale bits.
 */
static int summaries_rebuild(struct xdp_priv *p)
{
	__u64 *bm4 = xcalloc(MX_BM_WORDS, 8), *bm6 = xcalloc(MX_BM_WORDS, 8);
	__u64 *bl4 = xcalloc(MX_BM_WORDS, 8), *used = NULL;
	__u32 cnt4[33] = {0}, cnt6[129] = {0}, id, i, n, nw = 0;
	const struct mx_meta *m;
	struct mx_cfg cfg;
	bool bm6_off = false;
	struct cidr c;
	int err, pl;

	if (p->ctl) {
		nw = ctl_words(p) - CTL_HDR;
		used = xcalloc(nw, 8);
	}
	for (id = 0; id < p->cfg.cap; id++) {
		m = &p->meta[id];
		if (!m->family)
			continue;
		meta_cidr(m, &c);
		if (m->family == AF_INET)
			cnt4[m->plen]++;
		else
			cnt6[m->plen]++;
		if (used)
			used[id / 64] |= 1ULL << (id & 63);
		sum_set(bm4, bl4, bm6, &c, &bm6_off);
	}
	/* publish the bits: whole 64-bit words, each store atomic */
	for (i = 0; i < MX_BM_WORDS; i++) {
		if (p->bm4[i] != bm4[i])
			__atomic_store_n(&p->bm4[i], bm4[i], __ATOMIC_RELEASE);
		if (p->bm6[i] != bm6[i])
			__atomic_store_n(&p->bm6[i], bm6[i], __ATOMIC_RELEASE);
		if (p->bl4[i] != bl4[i])
			__atomic_store_n(&p->bl4[i], bl4[i], __ATOMIC_RELEASE);
	}
	free(bm4);
	free(bm6);
	free(bl4);
	if (used) {
		__u64 n4 = 0, n6 = 0;

		for (pl = 1; pl <= 32; pl++)
			n4 += cnt4[pl];
		for (pl = 1; pl <= 128; pl++)
			n6 += cnt6[pl];
		memcpy(&p->ctl[CTL_HDR], used, (size_t)nw * 8);
		p->ctl[CTL_N4] = n4;
		p->ctl[CTL_N6] = n6;
		p->ctl[CTL_STALE] = 0;
		if (p->ctl[CTL_HINT] >= p->cfg.cap)
			p->ctl[CTL_HINT] = 0;
		p->ctl[CTL_VALID] = 1;
		free(used);
	}
	err = read_cfg(p, &cfg);
	if (err)
		return err;
	/*
	 * XXX: the program may read the list while this update copies it in;
	 * a torn read costs a missed or an extra probe for that one packet.
	 */
	memset(cfg.plen4, 0, sizeof(cfg.plen4));
	memset(cfg.plen6, 0, sizeof(cfg.plen6));
	for (n = 0, pl = 32; pl >= 1; pl--)
		if (cnt4[pl])
			cfg.plen4[n++] = (__u8)pl;
	cfg.n4 = n;
	for (n = 0, pl = 128; pl >= 1; pl--)
		if (cnt6[pl])
			cfg.plen6[n++] = (__u8)pl;
	cfg.n6 = n;
	if (bm6_off)
		cfg.flags |= MX_CFG_BM6_OFF;
	else
		cfg.flags &= ~MX_CFG_BM6_OFF;
	/* the tables agree with mx_meta again */
	cfg.flags &= ~MX_CFG_DIRTY;
	err = write_cfg(p, &cfg);
	if (!err)
		p->cfg = cfg;
	return err;
}

/*
 * summaries_add - the incremental commit of a small apply(): the summary
 * bits and prefix lengths of the entries added (those of deleted entries
 * stay, counted as stale), then mx_cfg with the mark cleared.
 */
static int summaries_add(struct xdp_priv *p, const struct mx_entry *add,
			 size_t nadd)
{
	bool bm6_off = false;
	struct mx_cfg cfg;
	size_t i;
	int err;

	for (i = 0; i < nadd; i++)
		sum_publish_entry(p, &add[i].net, &bm6_off);
	err = read_cfg(p, &cfg);
	if (err)
		return err;
	for (i = 0; i < nadd; i++) {
		if (add[i].net.family == AF_INET)
			plens_insert(cfg.plen4, &cfg.n4, 32, add[i].net.plen);
		else
			plens_insert(cfg.plen6, &cfg.n6, 128, add[i].net.plen);
	}
	if (bm6_off)
		cfg.flags |= MX_CFG_BM6_OFF;
	cfg.flags &= ~MX_CFG_DIRTY;
	err = write_cfg(p, &cfg);
	if (!err)
		p->cfg = cfg;
	return err;
}

/* the kernel-side changes of one apply(), per family, for rollback */
struct batch {
	void *keys; /* mx_key6[] */
	struct mx_val *vals;
	size_t n;
	size_t ksz;
};

static void batch_init(struct batch *b, size_t ksz, size_t cap)
{
	b->keys = xcalloc(cap ? cap : 1, ksz);
	b->vals = xcalloc(cap ? cap : 1, sizeof(struct mx_val));
	b->n = 0;
	b->ksz = ksz;
}

static void batch_free(struct batch *b)
{
	free(b->keys);
	free(b->vals);
}

static void batch_push(struct batch *b, const struct cidr *c,
		       const struct mx_val *v)
{
	void *k = (char *)b->keys + b->n * b->ksz;

	key6_of(c, k);
	if (v)
		b->vals[b->n] = *v;
	b->n++;
}

/* batch_update - update b[from..to); *done = how many went in */
static int batch_update(int fd, const struct batch *b, size_t from, size_t to,
			size_t *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	size_t off = from;
	__u32 cnt;

	*done = 0;
	while (off < to) {
		cnt = (__u32)(to - off > 65536 ? 65536 : to - off);
		if (bpf_map_update_batch(fd, (char *)b->keys + off * b->ksz,
					 &b->vals[off], &cnt, &o)) {
			int err = -errno;

			*done += cnt;
			return err == -E2BIG ? -ENOSPC : err;
		}
		*done += cnt;
		off += cnt;
	}
	return 0;
}

/* batch_delete - delete b[from..to); *done = how many went */
static int batch_delete(int fd, const struct batch *b, size_t from, size_t to,
			size_t *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	size_t off = from;
	__u32 cnt;

	*done = 0;
	while (off < to) {
		cnt = (__u32)(to - off > 65536 ? 65536 : to - off);
		if (bpf_map_delete_batch(fd, (char *)b->keys + off * b->ksz,
					 &cnt, &o)) {
			int err = -errno;

			*done += cnt;
			return err;
		}
		*done += cnt;
		off += cnt;
	}
	return 0;
}

/* check_cidr - a valid, masked network of a known family */
static int check_cidr(const struct cidr *c)
{
	struct cidr m = *c;
	int i;

	if (c->family != AF_INET && c->family != AF_INET6)
		return -EINVAL;
	if (c->plen < 1 || c->plen > cidr_maxlen(c))
		return -EINVAL;
	if (cidr_mask(&m))
		return -EINVAL;
	if (c->family == AF_INET)
		for (i = 4; i < 16; i++)
			if (c->addr[i])
				return -EINVAL;
	return 0;
}

/* undo_one6 - put an IPv6 key back to v, or take it out when v is NULL */
static void undo_one6(struct xdp_priv *p, const struct cidr *c,
		      const struct mx_val *v)
{
	struct mx_key6 k6;

	key6_of(c, &k6);
	if (v)
		bpf_map_update_elem(p->fd[M_H6], &k6, v, BPF_ANY);
	else
		bpf_map_delete_elem(p->fd[M_H6], &k6);
}

/* set_dirty - mark (or unmark) an apply() under way in mx_cfg */
static int set_dirty(struct xdp_priv *p, bool on)
{
	struct mx_cfg cfg;
	int err = read_cfg(p, &cfg);

	if (err)
		return err;
	if (on)
		cfg.flags |= MX_CFG_DIRTY;
	else
		cfg.flags &= ~MX_CFG_DIRTY;
	return write_cfg(p, &cfg);
}

/*
 * repair - make the tables agree with mx_meta after an apply() that died
 * half-way (kill -9, power): mx_meta is the record of what should be
 * there. A slot or an IPv6 key that no entry owns goes; an entry without
 * its slot or key gets it. The half-done change ends up either done or
 * undone per entry, never as a table that says one thing and a list that
 * says another.
 */
static int repair(struct xdp_priv *p)
{
	__u32 b, j, meta, id, nb = p->cfg.nb4;
	struct mx_key6 k6, next;
	struct mx_val v;
	struct cidr c;
	__u64 x, *slot;
	int fd = p->fd[M_H6], err = 0;
	bool first = true;

	/* IPv4 slots first: keep those whose id owns them */
	for (b = 0; b < nb; b++) {
		for (j = 0; j < MX_T4_SLOTS; j++) {
			x = p->t4[b].slot[j];
			if (!x)
				continue;
			meta = (__u32)(x >> 32);
			id = MX_T4_ID(meta);
			memset(&c, 0, sizeof(c));
			c.family = AF_INET;
			c.plen = (__u8)MX_T4_PLEN(meta);
			x = htonl((__u32)x);
			memcpy(c.addr, &x, 4);
			if (id >= p->cfg.cap || !meta_is(&p->meta[id], &c))
				t4_store(NULL, &p->t4[b].slot[j], 0);
		}
	}
	/* IPv6 keys: the same */
	while (!bpf_map_get_next_key(fd, first ? NULL : &k6, &next)) {
		first = false;
		k6 = next;
		if (bpf_map_lookup_elem(fd, &next, &v))
			continue;
		memset(&c, 0, sizeof(c));
		c.family = AF_INET6;
		c.plen = (__u8)next.plen;
		memcpy(c.addr, next.addr, 16);
		if (v.id >= p->cfg.cap || !meta_is(&p->meta[v.id], &c))
			bpf_map_delete_elem(fd, &next);
	}
	/* then every entry gets its slot or key, with its current action */
	for (id = 0; id < p->cfg.cap; id++) {
		const struct mx_meta *m = &p->meta[id];

		if (!m->family)
			continue;
		meta_cidr(m, &c);
		if (m->family == AF_INET) {
			slot = t4_find(p, &c);
			if (!slot)
				slot = t4_free(p, &c);
			if (!slot) {
				err = -ENOSPC;
				continue;
			}
			t4_store(NULL, slot, t4_slot(&c, m, id));
		} else {
			key6_of(&c, &k6);
			val_of(m, id, &v);
			if (bpf_map_update_elem(fd, &k6, &v, BPF_ANY))
				err = -errno;
		}
	}
	tagsets_gc(p, NULL, 0);
	if (!err)
		err = summaries_rebuild(p);
	return err;
}

/*
 * existing_id - the id of entry c found through the tables rather than
 * mx_meta (one bucket read for IPv4, one lookup for IPv6); UINT32_MAX when
 * absent. Valid when mx_cfg is not marked dirty: the tables then agree
 * with mx_meta.
 */
static __u32 existing_id(struct xdp_priv *p, const struct cidr *c)
{
	struct mx_key6 k6;
	struct mx_val v;
	__u64 *slot;
	__u32 id;

	if (c->family == AF_INET) {
		slot = t4_find(p, c);
		if (!slot)
			return UINT32_MAX;
		id = MX_T4_ID((__u32)(*slot >> 32));
	} else {
		key6_of(c, &k6);
		if (bpf_map_lookup_elem(p->fd[M_H6], &k6, &v))
			return UINT32_MAX;
		id = v.id;
	}
	if (id >= p->cfg.cap || !meta_is(&p->meta[id], c))
		return UINT32_MAX;
	return id;
}

/*
 * The ids an apply() hands out: a big one lists every free id from a scan
 * of mx_meta; a small one searches mx_ctl's bitmap from its hint.
 */
struct idsrc {
	bool big;
	__u32 *free_ids, nfree, next; /* big */
	__u32 cur, left;	      /* small */
};

static __u32 id_take(struct xdp_priv *p, struct idsrc *s)
{
	if (s->big)
		return s->next < s->nfree ? s->free_ids[s->next++] : UINT32_MAX;
	return ctl_next_free(p, &s->cur, &s->left);
}

/*
 * xdp_apply - all or nothing (backend.h). Small changes (under BIG_APPLY
 * entries, mx_ctl valid) cost what they touch: existing entries are found
 * through the tables, free ids through mx_ctl, and the summaries get the
 * new entries' bits (deleted entries' bits stay until a rebuild). Big ones
 * index every entry, and rebuild the summaries and mx_ctl from mx_meta.
 */
static int xdp_apply(struct backend *be, const struct mx_entry *add,
		     size_t nadd, const struct cidr *del, size_t ndel)
{
	bool force_big = false;
	struct xdp_priv *p = priv(be);
	__u32 cap = p->cfg.cap, id, *add_id = NULL, *del_id = NULL;
	struct idsrc ids = {0};
	struct mx_meta *old = NULL; /* saved meta of add_id[] */
	bool *is_new = NULL, *existed = NULL, big;
	struct batch up6, rm6;
	struct t4_log log = {0};
	size_t cur4 = 0, cur6 = 0, used = 0, i, j, done6 = 0, rdone6 = 0;
	__u64 stale = 0;
	struct index ix;
	struct mx_val v;
	struct cidr c;
	__u64 *slot;
	int err = 0;
	unsigned int cpu;

	for (i = 0; i < nadd; i++) {
		err = check_cidr(&add[i].net);
		if (err)
			return err;
		if (add[i].action != MX_ACT_DROP &&
		    add[i].action != MX_ACT_ALLOW)
			return -EINVAL;
		if (add[i].origin != MX_ORIGIN_STATIC &&
		    add[i].origin != MX_ORIGIN_DYNAMIC)
			return -EINVAL;
		if (memchr(add[i].tags, '\0', MX_TAGS_LEN) == NULL)
			return -EINVAL;
	}
	for (i = 0; i < ndel; i++) {
		err = check_cidr(&del[i]);
		if (err)
			return err;
	}

	/* mx_ctl: made at the first change (without it: the full path) */
	if (!p->ctl && ctl_map(be, p, true))
		log_debug("%s: cannot make %s; every change scans the table",
			  be->pin_dir, MX_MAP_CTL);

	/* a previous apply() died half-way: mend the tables first */
	if (read_cfg(p, &p->cfg) == 0 && (p->cfg.flags & MX_CFG_DIRTY)) {
		log_warn("an earlier change of the table did not finish; "
			 "repairing it from the entry list");
		err = repair(p);
		if (err)
			return err;
	}
again:
	big = force_big || !ctl_valid(p) || nadd + ndel >= BIG_APPLY;
	err = set_dirty(p, true);
	if (err)
		return err;

	ids.big = big;
	if (big) {
		/* the current entries and free ids, from mx_meta */
		for (id = 0; id < cap; id++)
			used += p->meta[id].family != 0;
		index_init(&ix, p->meta, used + nadd);
		ix.pend = xcalloc(cap, sizeof(*ix.pend));
		ids.free_ids = xcalloc(cap, sizeof(*ids.free_ids));
		prefault(ids.free_ids, cap * sizeof(*ids.free_ids));
		for (id = 0; id < cap; id++) {
			const struct mx_meta *m = &p->meta[id];

			if (!m->family) {
				ids.free_ids[ids.nfree++] = id;
				continue;
			}
			meta_cidr(m, &c);
			index_put(&ix, &c, id, NULL);
			if (m->family == AF_INET)
				cur4++;
			else
				cur6++;
		}
	} else {
		/* only the entries named, found through the tables */
		index_init(&ix, p->meta, nadd + ndel);
		ix.spend = xcalloc(ix.mask + 1, sizeof(*ix.spend));
		for (i = 0; i < ndel + nadd; i++) {
			const struct cidr *n =
			    i < ndel ? &del[i] : &add[i - ndel].net;

			id = existing_id(p, n);
			if (id != UINT32_MAX && index_get(&ix, n) == UINT32_MAX)
				index_put(&ix, n, id, NULL);
		}
		cur4 = p->ctl[CTL_N4];
		cur6 = p->ctl[CTL_N6];
		ids.cur =
		    (__u32)(p->ctl[CTL_HINT] < cap ? p->ctl[CTL_HINT] : 0);
		ids.left = cap;
	}

	batch_init(&rm6, sizeof(struct mx_key6), ndel);
	batch_init(&up6, sizeof(struct mx_key6), nadd);
	del_id = xcalloc(ndel + 1, sizeof(*del_id));
	add_id = xcalloc(nadd + 1, sizeof(*add_id));
	is_new = xcalloc(nadd + 1, sizeof(*is_new));
	existed = xcalloc(nadd + 1, sizeof(*existed));
	old = xcalloc(nadd + 1, sizeof(*old));
	prefault(add_id, (nadd + 1) * sizeof(*add_id));
	prefault(is_new, (nadd + 1) * sizeof(*is_new));
	prefault(existed, (nadd + 1) * sizeof(*existed));
	prefault(old, (nadd + 1) * sizeof(*old));
	/* the undo log: one record per IPv4 change at most */
	log.alloc = nadd + ndel + 1;
	log.v = xcalloc(log.alloc, sizeof(*log.v));
	prefault(log.v, log.alloc * sizeof(*log.v));

	/* plan the deletions: every one must exist */
	for (i = 0; i < ndel; i++) {
		id = index_get(&ix, &del[i]);
		if (id == UINT32_MAX) {
			err = -ENOENT;
			goto out;
		}
		del_id[i] = id;
		index_del(&ix, &del[i]);
		stale += ctl_stale_weight(&del[i]);
		if (del[i].family == AF_INET) {
			cur4 -= cur4 > 0;
		} else {
			val_of(&p->meta[id], id, &v);
			batch_push(&rm6, &del[i], &v);
			cur6 -= cur6 > 0;
		}
	}
	/* plan the additions: new ids, or the existing entry replaced */
	for (i = 0; i < nadd; i++) {
		const struct cidr *n = &add[i].net;

		/* random reads: start the one 16 entries ahead now */
		if (big && i + 16 < nadd)
			index_prefetch(&ix, &add[i + 16].net);

		id = index_get(&ix, n);
		if (id == UINT32_MAX) {
			id = id_take(p, &ids);
			if (id == UINT32_MAX) {
				err = -ENOSPC;
				goto out_retry;
			}
			is_new[i] = true;
			index_put(&ix, n, id, n);
			if (n->family == AF_INET)
				cur4++;
			else
				cur6++;
		} else {
			/* in the table before this call (or a repeat) */
			existed[i] = !index_is_pending(&ix, n);
		}
		add_id[i] = id;
	}
	if (cur4 > p->cfg.cap4 || cur6 > p->cfg.cap6) {
		err = -ENOSPC;
		goto out_retry;
	}

	/* 1. deletions in the tables; mx_meta keeps them until the end */
	for (i = 0; i < ndel; i++) {
		if (del[i].family != AF_INET)
			continue;
		slot = t4_find(p, &del[i]);
		if (slot)
			t4_store(&log, slot, 0);
	}
	err = batch_delete(p->fd[M_H6], &rm6, 0, rm6.n, &rdone6);
	if (err)
		goto undo_del;

	/* 2. metadata and IPv4 slots of the additions (old copies kept) */
	for (i = 0; i < nadd; i++) {
		struct mx_meta nm;

		if (i + 16 < nadd && add[i + 16].net.family == AF_INET)
			t4_prefetch(p, &add[i + 16].net);
		id = add_id[i];
		old[i] = p->meta[id];
		memset(&nm, 0, sizeof(nm));
		memcpy(nm.addr, add[i].net.addr, 16);
		nm.family = add[i].net.family;
		nm.plen = add[i].net.plen;
		nm.action =
		    add[i].action == MX_ACT_ALLOW ? MX_VAL_ALLOW : MX_VAL_DROP;
		nm.origin = add[i].origin;
		nm.observe = add[i].observe;
		nm.added = add[i].added;
		nm.expires = add[i].expires;
		err = tagset_find(p, add[i].tags, &nm.tagset);
		if (err == -ENOSPC) {
			/* tagsets are collected lazily: collect now, retry */
			tagsets_gc(p, old, i);
			err = tagset_find(p, add[i].tags, &nm.tagset);
		}
		if (err) {
			j = i;
			goto undo_meta;
		}
		if (is_new[i]) {
			/* a new entry starts from zero */
			for (cpu = 0; cpu < p->ncpus; cpu++)
				memset(&p->ctr[(size_t)cpu * cap + id], 0,
				       sizeof(struct mx_ctr));
		}
		p->meta[id] = nm;
		if (nm.family == AF_INET) {
			/* a new net has no slot yet: skip the search */
			slot =
			    is_new[i] && big ? NULL : t4_find(p, &add[i].net);
			if (!slot)
				slot = t4_free(p, &add[i].net);
			if (!slot) {
				/* both buckets full: the table is too full */
				err = -ENOSPC;
				j = i + 1;
				goto undo_meta;
			}
			t4_store(&log, slot, t4_slot(&add[i].net, &nm, id));
		} else {
			val_of(&nm, id, &v);
			batch_push(&up6, &add[i].net, &v);
		}
	}

	/* 3. IPv6 additions in the kernel hash */
	err = batch_update(p->fd[M_H6], &up6, 0, up6.n, &done6);
	if (err)
		goto undo_add;

	/* 4. commit: forget the deleted entries, publish the summaries */
	for (i = 0; i < ndel; i++)
		memset(&p->meta[del_id[i]], 0, sizeof(struct mx_meta));
	if (!big) {
		/* mx_ctl follows; a crash from here on is repaired anyway */
		for (i = 0; i < ndel; i++)
			ctl_bit(p, del_id[i], false);
		for (i = 0; i < nadd; i++)
			if (is_new[i])
				ctl_bit(p, add_id[i], true);
		p->ctl[CTL_N4] = cur4;
		p->ctl[CTL_N6] = cur6;
		p->ctl[CTL_STALE] += stale;
		p->ctl[CTL_HINT] = ids.cur;
		/* an emptied table or too many stale bits: start afresh */
		big = cur4 + cur6 == 0 || p->ctl[CTL_STALE] > CTL_STALE_MAX;
	}
	err = big ? summaries_rebuild(p) : summaries_add(p, add, nadd);
	if (err)
		log_warn("cannot update the lookup summary: %s",
			 strerror(-err));
	err = 0;
	if (big)
		tagsets_gc(p, NULL, 0);
	goto out;

undo_add:
	/*
	 * Rare path, one key at a time: take every IPv6 addition out again,
	 * then put back the values that entries which existed before had
	 * (newest first, so the first occurrence's original value stays).
	 */
	for (i = nadd; i-- > 0;)
		if (!existed[i] && add[i].net.family == AF_INET6)
			undo_one6(p, &add[i].net, NULL);
	for (i = nadd; i-- > 0;) {
		if (!existed[i] || add[i].net.family != AF_INET6)
			continue;
		val_of(&old[i], add_id[i], &v);
		undo_one6(p, &add[i].net, &v);
	}
	j = nadd;
undo_meta:
	while (j-- > 0)
		p->meta[add_id[j]] = old[j];
	tagsets_gc(p, NULL, 0);
undo_del:
	for (i = 0; i < rdone6; i++)
		bpf_map_update_elem(p->fd[M_H6], (char *)rm6.keys + i * rm6.ksz,
				    &rm6.vals[i], BPF_ANY);
	t4_undo(&log);
	goto out;
out_retry:
	/*
	 * Full by mx_ctl's counts or bitmap, which are hints: nothing is
	 * changed yet, so ask mx_meta, the record, through the full path.
	 */
	force_big = !big;
out:
	/* a failed call put everything back: the tables agree with mx_meta */
	if (err)
		set_dirty(p, false);
	batch_free(&rm6);
	batch_free(&up6);
	free(log.v);
	free(ix.slot);
	free(ix.pend);
	free(ix.spend);
	free(ids.free_ids);
	free(del_id);
	free(add_id);
	free(is_new);
	free(existed);
	free(old);
	if (force_big && !big) {
		memset(&ids, 0, sizeof(ids));
		memset(&log, 0, sizeof(log));
		cur4 = cur6 = used = done6 = rdone6 = 0;
		stale = 0;
		goto again;
	}
	return err;
}

/*
 * clock_offset - unix time minus CLOCK_MONOTONIC (the clock of
 * bpf_ktime_get_coarse_ns()), in whole seconds, rounded. The difference of
 * the two clocks only moves when the wall clock is stepped, but reading
 * them costs a few hundred ns between the two calls: at ns precision a
 * stamp near a second boundary would come out one second apart in two
 * reads. Rounded to the second, the offset is the same in every read
 * (unless its fraction sits within a microsecond of one half), so
 * every dump and every process gives the same last_hit for the same
 * stamp; the price is up to half a second of error in an absolute value
 * printed in seconds anyway.
 */
static __s64 clock_offset(void)
{
	struct timespec mono, real;
	__s64 ns;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	ns = ((__s64)real.tv_sec - mono.tv_sec) * 1000000000LL +
	     (real.tv_nsec - mono.tv_nsec);
	return (ns + 500000000LL) / 1000000000LL;
}

/* mono_to_unix_off - a bpf_ktime_get_coarse_ns() stamp as unix seconds */
static int64_t mono_to_unix_off(__u64 ns, __s64 off)
{
	if (!ns)
		return 0;
	return (int64_t)(ns / 1000000000ULL) + off;
}

static int64_t mono_to_unix(__u64 ns)
{
	return mono_to_unix_off(ns, clock_offset());
}

static void sum_ctr(struct xdp_priv *p, __u32 id, struct mx_entry *e, __s64 off)
{
	__u64 last = 0;
	unsigned int cpu;

	e->packets = e->bytes = 0;
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		const struct mx_ctr *ct =
		    &p->ctr[(size_t)cpu * p->cfg.cap + id];

		e->packets += ct->packets;
		e->bytes += ct->bytes;
		if (ct->last_hit > last)
			last = ct->last_hit;
	}
	e->last_hit = mono_to_unix_off(last, off);
}

static int xdp_dump(struct backend *be, struct mx_entry **out, size_t *n)
{
	struct xdp_priv *p = priv(be);
	struct mx_entry *v, *e;
	size_t cnt = 0, alloc = 0;
	const struct mx_meta *m;
	__s64 off = clock_offset();
	__u32 id;

	for (id = 0; id < p->cfg.cap; id++)
		alloc += p->meta[id].family != 0;
	v = xcalloc(alloc + 1, sizeof(*v));
	prefault(v, (alloc + 1) * sizeof(*v));
	for (id = 0; id < p->cfg.cap && cnt < alloc; id++) {
		m = &p->meta[id];
		if (!m->family)
			continue;
		e = &v[cnt++];
		meta_cidr(m, &e->net);
		e->action =
		    m->action == MX_VAL_ALLOW ? MX_ACT_ALLOW : MX_ACT_DROP;
		e->origin = m->origin;
		e->observe = m->observe;
		if (m->tagset && m->tagset < MX_TAGSETS)
			snprintf(e->tags, sizeof(e->tags), "%.*s",
				 MX_TAGS_LEN_BPF - 1, p->tags[m->tagset].tags);
		e->added = m->added;
		e->expires = m->expires;
		sum_ctr(p, id, e, off);
	}
	*out = v;
	*n = cnt;
	return 0;
}

static int xdp_zero_counters(struct backend *be, const struct cidr *nets,
			     size_t n)
{
	struct xdp_priv *p = priv(be);
	struct index ix;
	struct cidr c;
	unsigned int cpu;
	size_t i;
	__u32 id, *ids;

	if (!n) {
		memset(p->ctr, 0,
		       (size_t)p->cfg.cap * p->ncpus * sizeof(struct mx_ctr));
		return 0;
	}
	ids = xcalloc(n, sizeof(*ids));
	index_init(&ix, p->meta, p->cfg.cap);
	for (id = 0; id < p->cfg.cap; id++) {
		if (!p->meta[id].family)
			continue;
		meta_cidr(&p->meta[id], &c);
		index_put(&ix, &c, id, NULL);
	}
	for (i = 0; i < n; i++) {
		ids[i] = index_get(&ix, &nets[i]);
		if (ids[i] == UINT32_MAX) {
			free(ids);
			free(ix.slot);
			return -ENOENT;
		}
	}
	for (i = 0; i < n; i++)
		for (cpu = 0; cpu < p->ncpus; cpu++)
			memset(&p->ctr[(size_t)cpu * p->cfg.cap + ids[i]], 0,
			       sizeof(struct mx_ctr));
	free(ids);
	free(ix.slot);
	return 0;
}

static int xdp_seen(struct backend *be, const struct cidr *host, int64_t *when)
{
	struct xdp_priv *p = priv(be);
	__u32 w[4] = {0}, tag, st;
	int v6;
	__u64 x;

	if (host->family != AF_INET && host->family != AF_INET6)
		return -EINVAL;
	v6 = host->family == AF_INET6;
	memcpy(w, host->addr, v6 ? 16 : 4);
	tag = mx_seen_tag(v6, w);
	x = __atomic_load_n(&p->seen[mx_seen_slot(tag, v6)], __ATOMIC_RELAXED);
	st = (__u32)(x >> 32);
	if (!x || (__u32)x != tag || (st & 1) != (__u32)v6)
		return -ENOENT;
	*when = mono_to_unix((__u64)(st >> 1) << MX_SEEN_SHIFT);
	return 0;
}

static int xdp_destroy(struct backend *be)
{
	char path[4096];
	int err;

	err = pin_path(be, MX_MAP_CFG, path, sizeof(path));
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
    .seen = xdp_seen,
    .destroy = xdp_destroy,
};
