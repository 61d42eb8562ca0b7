// SPDX-License-Identifier: GPL-2.0
/*
 * wire.c - load, attach, remove and read the record of completed SMTP
 * handshakes (wire.h; the program and its layouts: bpf/wire.bpf.c,
 * bpf/wire_shared.h).
 *
 * The program sits on a tracepoint, whose links cannot swap programs: an
 * upgrade attaches the new program beside the old one, pins its link
 * under a temporary name and renames it over the old pin, which lets the
 * old link go. Both write the same pinned maps meanwhile, so no handshake
 * goes unrecorded.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend/backend.h"
#include "backend/wire.h"
#include "backend/xdp.h"
#include "core/mxwall.h"
#include "wire.skel.h"
#include "wire_shared.h"

static const char *const wire_pins[] = {MX_WIRE_LINK, MX_WIRE_MAP_CFG,
					MX_WIRE_MAP_SEEN};

static void unpin(const char *pin_dir, const char *name)
{
	char path[4096];

	if (!path_join(path, sizeof(path), pin_dir, name))
		unlink(path);
}

/* load - the program over the pins (made when missing) */
static int load(const char *pin_dir, struct wire_bpf **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct wire_bpf *skel;
	int err;

	skel = wire_bpf__open_opts(&opts);
	if (!skel)
		return -errno;
	err = wire_bpf__load(skel);
	if (err) {
		wire_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int wire_ensure(const char *pin_dir, const uint16_t *ports, size_t nports)
{
	struct mx_wire_cfg cfg = {
	    .magic = MX_WIRE_MAGIC,
	    .layout = MX_WIRE_LAYOUT,
	};
	char tmp[4096], path[4096];
	struct wire_bpf *skel = NULL;
	struct bpf_link *link;
	struct stat ns;
	__u32 zero = 0;
	size_t i;
	int err;

	if (nports > MX_WIRE_PORTS_MAX)
		return -EINVAL;
	for (i = 0; i < nports; i++)
		cfg.ports[i] = ports[i];
	cfg.nports = (__u32)nports;
	if (stat("/proc/self/ns/net", &ns))
		return -errno;
	cfg.netns = (__u32)ns.st_ino;
	err = path_join(path, sizeof(path), pin_dir, MX_WIRE_LINK);
	if (!err)
		err = path_join(tmp, sizeof(tmp), pin_dir,
				MX_WIRE_PREFIX "link_new");
	if (!err)
		err = ensure_bpffs(pin_dir);
	if (!err)
		err = mkdir_p(pin_dir, 0700);
	if (err)
		return err;
	log_libbpf_quiet(true);
	err = load(pin_dir, &skel);
	if (err == -EINVAL) {
		/* pins of another layout: the record starts again */
		log_warn("%s: the handshake record has another layout; "
			 "starting it again from empty",
			 pin_dir);
		unpin(pin_dir, MX_WIRE_MAP_CFG);
		unpin(pin_dir, MX_WIRE_MAP_SEEN);
		err = load(pin_dir, &skel);
	}
	log_libbpf_quiet(false);
	if (err)
		return err;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.wire_cfg), &zero, &cfg,
				BPF_ANY)) {
		err = -errno;
		goto out;
	}
	link = bpf_program__attach_raw_tracepoint(skel->progs.mxwall_wire,
						  "inet_sock_set_state");
	if (!link) {
		err = -errno;
		goto out;
	}
	unlink(tmp);
	if (bpf_obj_pin(bpf_link__fd(link), tmp) || rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
	}
	/* pinned: closing our fd leaves it attached */
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
out:
	wire_bpf__destroy(skel);
	return err;
}

int wire_follow(struct backend *be)
{
	struct mx_status st;
	int err;

	memset(&st, 0, sizeof(st));
	err = be->ops->status(be, &st);
	if (err)
		return err;
	return wire_ensure(be->pin_dir, st.cfg.ports, st.cfg.nports);
}

int wire_remove(const char *pin_dir)
{
	char path[4096];
	size_t i;
	int fd;

	if (path_join(path, sizeof(path), pin_dir, MX_WIRE_LINK))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		/* gone now even if someone still holds the link open */
		bpf_link_detach(fd);
		close(fd);
	}
	for (i = 0; i < ARRAY_SIZE(wire_pins); i++)
		unpin(pin_dir, wire_pins[i]);
	unpin(pin_dir, MX_WIRE_PREFIX "link_new");
	if (rmdir(pin_dir) && errno != ENOENT && errno != ENOTEMPTY &&
	    errno != EEXIST)
		return -errno;
	return 0;
}

void wire_reader_init(struct wire_reader *r, const char *pin_dir)
{
	r->pin_dir = pin_dir;
	r->fd = -1;
	r->ino = 0;
}

void wire_reader_close(struct wire_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->ino = 0;
}

/* reader_open - (re)open the map when its pin is not the one open */
static int reader_open(struct wire_reader *r)
{
	char path[4096];
	struct stat st;

	if (path_join(path, sizeof(path), r->pin_dir, MX_WIRE_MAP_SEEN))
		return -ENAMETOOLONG;
	if (stat(path, &st)) {
		wire_reader_close(r);
		return errno == ENOENT ? -ENXIO : -errno;
	}
	if (r->fd >= 0 && st.st_ino == r->ino)
		return 0;
	wire_reader_close(r);
	r->fd = bpf_obj_get(path);
	if (r->fd < 0) {
		r->fd = -1;
		return errno == ENOENT ? -ENXIO : -errno;
	}
	r->ino = st.st_ino;
	return 0;
}

/* boot_to_unix - a bpf_ktime_get_boot_ns() stamp as unix seconds */
static int64_t boot_to_unix(__u64 ns)
{
	struct timespec boot, real;
	__s64 now;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &real);
	now = (__s64)boot.tv_sec * 1000000000LL + boot.tv_nsec;
	if ((__s64)ns > now)
		ns = (__u64)now;
	return (int64_t)real.tv_sec - (now - (__s64)ns) / 1000000000LL;
}

int wire_lookup(struct wire_reader *r, const struct cidr *host, int64_t *when)
{
	struct mx_wire_key k;
	__u64 stamp;
	int err;

	memset(&k, 0, sizeof(k));
	if (host->family == AF_INET) {
		k.family = MX_WIRE_V4;
		memcpy(k.addr, host->addr, 4);
	} else if (host->family == AF_INET6) {
		k.family = MX_WIRE_V6;
		memcpy(k.addr, host->addr, 16);
	} else {
		return -EINVAL;
	}
	err = reader_open(r);
	if (err)
		return err;
	if (bpf_map_lookup_elem(r->fd, &k, &stamp))
		return errno == ENOENT ? -ENOENT : -errno;
	*when = boot_to_unix(stamp);
	return 0;
}

int wire_status(const char *pin_dir, bool *attached, size_t *sources)
{
	struct wire_reader r;
	struct mx_wire_key k, next;
	char path[4096];
	void *prev = NULL;
	int err;

	*sources = 0;
	err = path_join(path, sizeof(path), pin_dir, MX_WIRE_LINK);
	if (err)
		return err;
	*attached = !access(path, F_OK);
	wire_reader_init(&r, pin_dir);
	err = reader_open(&r);
	if (err)
		return err;
	while (!bpf_map_get_next_key(r.fd, prev, &next)) {
		(*sources)++;
		k = next;
		prev = &k;
	}
	wire_reader_close(&r);
	return 0;
}
