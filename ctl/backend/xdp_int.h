/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xdp_int.h - what the files of the XDP backend (ctl/backend/xdp.c,
 * xdp_table.c, xdp_sum.c, xdp_clock.c, xdp_apply.c, xdp_dump.c,
 * xdp_grow.c) share: the open backend's state
 * (struct xdp_priv: map fds and mmapped maps) and the functions one file
 * calls in another. Not for use outside ctl/backend/xdp*.c.
 */
#ifndef MXWALL_XDP_INT_H
#define MXWALL_XDP_INT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <linux/types.h>

#include "backend/backend.h"
#include "mxwall_shared.h"

struct mxwall_bpf;

enum {
	M_CFG,
	M_STATS,
	M_T4,
	M_T6,
	M_C4,
	M_C6,
	M_BM4,
	M_BM6,
	M_BL,
	M_META,
	M_TAGS,
	M_X4,
	M_XC4,
	M_XL,
	M_NR
};

extern const char *const map_names[M_NR];

struct xdp_priv {
	int fd[M_NR];
	struct mx_cfg cfg; /* as read at open */
	unsigned int ncpus;
	struct mx_bkt4 *t4; /* mmapped tables */
	struct mx_bkt6 *t6;
	struct mx_cline4 *c4;	/* [cpu * nb4 + bucket] */
	struct mx_cline6 *c6;	/* [cpu * nb6 + bucket] */
	__u64 *bm4, *bm6, *bl;	/* mmapped summaries */
	struct mx_meta *meta;	/* [id] */
	struct mx_tagset *tags; /* [tagset] */
	struct mx_xb4 *x4;	/* the host index: [line] */
	struct mx_ctr *xc4;	/* [(cpu * nx4 + line) * MX_X4_STRIDE + key] */
	struct mx_xlog *xl;	/* [cpu] */
	__u32 nx4;		/* lines of x4: mx_nx4(cfg.nb4) */
	__u32 older;		/* opened as layout 2 or 3: to upgrade */
	__s64 clock_off;	/* unix - CLOCK_MONOTONIC seconds, at open */
	size_t len[M_NR];	/* mmapped lengths */
	int ctl_fd;		/* mx_ctl; -1 until made or found */
	__u64 *ctl;		/* mmapped mx_ctl */
	size_t ctl_len;
};

static inline struct xdp_priv *priv(struct backend *be)
{
	return be->priv;
}

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

/* a slot of either table */
struct tpos {
	__u8 family; /* AF_INET or AF_INET6 */
	__u32 b;     /* bucket */
	__u32 j;     /* slot in the bucket */
};

/* one change of a slot, for undo (xdp_tab_undo) */
struct tab_rec {
	struct tpos pos;
	struct tpos from; /* a move: the slot it came from */
	bool move;
	union {
		struct mx_slot4 s4;
		struct mx_slot6 s6;
	} old;
	struct mx_ctr *ctr; /* counters it had (ncpus), or NULL: zero */
};

struct tab_log {
	struct tab_rec *v;
	size_t n, alloc;
};

#define MX_MAP_CTL "mx_ctl"
#define CTL_MAGIC_V 0x6d78636c00000001ULL /* "mxcl", version 1 */
enum { CTL_MAGIC, CTL_VALID, CTL_N4, CTL_N6, CTL_STALE, CTL_HINT, CTL_HDR = 8 };
/* a rebuild of the summaries is due once deletions left this many bits */
#define CTL_STALE_MAX (1U << 17)
/* an apply() of this many entries or more takes the full path */
#define BIG_APPLY 8192

/* host4 - an IPv4 net's address in host order */
static inline __u32 host4(const struct cidr *c)
{
	__u32 a;

	memcpy(&a, c->addr, 4);
	return ntohl(a);
}

/* words6 - an IPv6 net's address as two raw words (network byte order) */
static inline void words6(const struct cidr *c, __u64 *hi, __u64 *lo)
{
	memcpy(hi, c->addr, 8);
	memcpy(lo, c->addr + 8, 8);
}

/* xdp.c: pins, sets of maps and configuration */
int xdp_set_open(const char *dir, struct xdp_priv *p);
int xdp_set_open_any(const char *dir, struct xdp_priv *p);
void xdp_set_release(struct xdp_priv *p);
int xdp_load_skel(const char *dir, const struct mx_cfg *cfg,
		  struct mxwall_bpf **out);
int xdp_new_set(const char *dir, const struct mx_cfg *cfg,
		struct mxwall_bpf **out);
void xdp_size_cfg(struct mx_cfg *cfg);
size_t xdp_map_bytes(size_t value_size, size_t entries);
void *xdp_map_mmap(int fd, size_t len);
int xdp_pin_path(const struct backend *be, const char *name, char *buf,
		 size_t len);
void xdp_prefault(void *p, size_t len);
int xdp_read_cfg(struct xdp_priv *p, struct mx_cfg *cfg);
int xdp_write_cfg(struct xdp_priv *p, const struct mx_cfg *cfg);

/* xdp_table.c: the index, the tables; xdp_sum.c: tag sets, mx_ctl,
 * summaries; xdp_clock.c: time stamps */
void xdp_ctl_bit(struct xdp_priv *p, __u32 id, bool on);
void xdp_ctl_fresh(struct backend *be, struct xdp_priv *p);
int xdp_ctl_map(struct backend *be, struct xdp_priv *p, bool create);
__u32 xdp_ctl_next_free(struct xdp_priv *p, __u32 *cur, __u32 *left);
__u32 xdp_ctl_stale_weight(const struct cidr *c);
bool xdp_ctl_valid(const struct xdp_priv *p);
void xdp_index_del(struct index *ix, const struct cidr *c);
__u32 xdp_index_get(const struct index *ix, const struct cidr *c);
void xdp_index_init(struct index *ix, const struct mx_meta *meta, size_t want);
bool xdp_index_is_pending(const struct index *ix, const struct cidr *c);
void xdp_index_prefetch(const struct index *ix, const struct cidr *c);
void xdp_index_put(struct index *ix, const struct cidr *c, __u32 id,
		   const struct cidr *pc);
void xdp_meta_cidr(const struct mx_meta *m, struct cidr *c);
bool xdp_meta_is(const struct mx_meta *m, const struct cidr *c);
int xdp_summaries_add(struct xdp_priv *p, const struct mx_entry *add,
		      size_t nadd);
int xdp_summaries_rebuild(struct xdp_priv *p);
bool xdp_tab_find(struct xdp_priv *p, const struct cidr *c, struct tpos *pos);
int xdp_tab_place(struct xdp_priv *p, struct tab_log *log, const struct cidr *c,
		  struct tpos *pos);
void xdp_tab_prefetch(struct xdp_priv *p, const struct cidr *c);
void xdp_tab_write(struct xdp_priv *p, struct tab_log *log,
		   const struct tpos *pos, const struct cidr *c,
		   const struct mx_meta *m, __u32 id);
void xdp_tab_clear(struct xdp_priv *p, struct tab_log *log,
		   const struct tpos *pos);
void xdp_tab_undo(struct xdp_priv *p, struct tab_log *log);
void xdp_tab_log_free(struct tab_log *log);
bool xdp_tab_get(struct xdp_priv *p, const struct tpos *pos, struct cidr *c,
		 __u32 *id);
struct mx_ctr *xdp_tab_ctr(struct xdp_priv *p, const struct tpos *pos,
			   unsigned int cpu);
void xdp_ctr_add(struct mx_ctr *t, const struct mx_ctr *f);
void xdp_x4_counts(struct xdp_priv *p, const struct tpos *pos, unsigned int cpu,
		   struct mx_ctr *sum);
void xdp_x4_fold_logs(struct xdp_priv *p);
void xdp_x4_zero_all(struct xdp_priv *p);
void xdp_tab_zero_ctr(struct xdp_priv *p, const struct tpos *pos);
__u32 xdp_ts_of_unix(const struct xdp_priv *p, __s64 t);
__s64 xdp_unix_of_ts(const struct xdp_priv *p, __u32 ts);
__s64 xdp_clock_offset(void);
int xdp_tagset_find(struct xdp_priv *p, const char *tags, __u16 *out);
void xdp_tagsets_gc(struct xdp_priv *p, const struct mx_meta *keep,
		    size_t nkeep);

/* xdp_clock.c: the program's clock */
int xdp_clock_read(__u64 *jiffies, __u64 *mono_ns);
int xdp_clock_calibrate(struct mx_cfg *cfg);

/* xdp_grow.c: memory that follows the entries */
int xdp_grow(struct backend *be, __u32 need4, __u32 need6, bool force);
int xdp_grow_recover(struct backend *be);
void xdp_grow_remove_stage(const struct backend *be);
int xdp_refresh(struct backend *be, bool force);

/* xdp_apply.c: the apply transaction */
int xdp_apply(struct backend *be, const struct mx_entry *add, size_t nadd,
	      const struct cidr *del, size_t ndel);

/* xdp_dump.c: reading back */
int xdp_dump(struct backend *be, struct mx_entry **out, size_t *n);
int xdp_zero_counters(struct backend *be, const struct cidr *nets, size_t n);

#endif /* MXWALL_XDP_INT_H */
