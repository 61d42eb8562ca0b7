/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend.h - the one ops table that every command drives, with two
 * implementations: xdp.c with xdp_table.c, xdp_apply.c, xdp_dump.c (pinned BPF
 * maps, the fast path) and nft.c with nft_nl.c, nft_dump.c, nft_apply.c
 * (table netdev mxwall through libnftnl/libmnl).
 *
 * Promises every implementation keeps:
 *  - apply() is all or nothing: on error nothing changed (a bulk load that
 *    fails half-way is rolled back before apply() returns).
 *  - Adding an entry that exists replaces its action and metadata but keeps
 *    its counters; counters go only with the entry or with zero_counters().
 *  - Counters are packets and IP bytes (header included, as netfilter counts
 *    them), so both backends report the same figures.
 *  - Metadata (origin, tags, added, expires) lives with the entry in the
 *    backend's own state, so that a second mxwall process sees it.
 * Callers: ctl/cmd/ handlers, watch/sync.c, report/report.c, reset.c.
 */
#ifndef MXWALL_BACKEND_H
#define MXWALL_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cidr.h"
#include "core/mxwall.h"

enum mx_action {
	MX_ACT_DROP = 1,
	MX_ACT_ALLOW = 2,
};

enum mx_origin {
	MX_ORIGIN_STATIC = 1,  /* the core list: survives the weekly reset */
	MX_ORIGIN_DYNAMIC = 2, /* cleared by the weekly reset */
};

/* tags as one comma list, "a,zen.spamhaus.org"; "a" = added by watch */
#define MX_TAGS_LEN 64

struct mx_entry {
	struct cidr net;
	uint8_t action; /* enum mx_action */
	uint8_t origin; /* enum mx_origin */
	bool observe;	/* count as if dropping, but pass */
	char tags[MX_TAGS_LEN];
	int64_t added;	 /* unix seconds; 0 unknown */
	int64_t expires; /* unix seconds; 0 = until removed/reset */
	/* read back by dump(); ignored by apply() */
	uint64_t packets;
	uint64_t bytes;
	int64_t last_hit; /* unix seconds; 0 never */
};

/* global counters of the data path (mxwall(8) "status") */
struct mx_counters {
	uint64_t seen;	    /* packets looked at */
	uint64_t syn;	    /* SMTP SYNs */
	uint64_t dropped;   /* SMTP SYNs dropped */
	uint64_t allowed;   /* SMTP SYNs passed by an allow exception */
	uint64_t observed;  /* would have been dropped (observe mode) */
	uint64_t passed;    /* everything passed */
	uint64_t malformed; /* passed because a header did not fit */
};

/* enum mx_attach_mode, MX_PORTS_MAX: core/mxwall.h (config reads them) */
#define MX_IFACES_MAX 16

struct mx_dp_config {
	uint16_t ports[MX_PORTS_MAX]; /* SMTP port set, host order */
	size_t nports;
	bool observe; /* global observe mode */
};

struct mx_iface {
	char name[32];
	int ifindex;
	enum mx_attach_mode mode; /* as attached: native or generic */
};

struct mx_status {
	const char *backend; /* "xdp" or "nft" */
	char why[160];	     /* why this backend (auto fallback reason) */
	struct mx_iface ifaces[MX_IFACES_MAX];
	size_t nifaces;
	struct mx_dp_config cfg;
	size_t entries_static;
	size_t entries_dynamic;
	size_t capacity; /* entries the tables can hold */
	struct mx_counters counters;
};

struct backend;

struct backend_ops {
	const char *name;
	/*
	 * open - find the existing state (pins or table); with create, make
	 * it when missing. -ENOENT: nothing there and !create.
	 */
	int (*open)(struct backend *be, bool create);
	void (*close)(struct backend *be);
	int (*attach)(struct backend *be, const char *ifname,
		      enum mx_attach_mode mode);
	int (*detach)(struct backend *be, const char *ifname);
	int (*set_config)(struct backend *be, const struct mx_dp_config *cfg);
	int (*status)(struct backend *be, struct mx_status *st);
	/* apply - all or nothing, see above */
	int (*apply)(struct backend *be, const struct mx_entry *add,
		     size_t nadd, const struct cidr *del, size_t ndel);
	/* dump - every entry with its counters; *out is the caller's to free */
	int (*dump)(struct backend *be, struct mx_entry **out, size_t *n);
	/* zero_counters - of the given entries; n == 0: of every entry */
	int (*zero_counters)(struct backend *be, const struct cidr *nets,
			     size_t n);
	/*
	 * seen - when the data path last saw an SMTP SYN from host (unix
	 * seconds), from its bounded record of recent SYN sources; -ENOENT if
	 * not in the record. NULL in a backend without such a record (nft);
	 * the watcher asks the record of handshakes instead (wire.h).
	 */
	int (*seen)(struct backend *be, const struct cidr *host, int64_t *when);
	/* destroy - remove every trace (pins or table); after detach */
	int (*destroy)(struct backend *be);
};

struct backend {
	const struct backend_ops *ops;
	const char *pin_dir;   /* XDP: where maps and links are pinned */
	const char *state_dir; /* where the lock and the backend mark live */
	char why[160];	       /* why this backend was chosen */
	bool chosen_auto;      /* not asked for: may fall back to nft */
	int lock_fd;	       /* $state_dir/lock, held by mutating commands */
	int pin_lock_fd;       /* the pin directory, locked before lock_fd */
	void *priv;	       /* the implementation's own state */
};

extern const struct backend_ops backend_xdp_ops;
extern const struct backend_ops backend_nft_ops;

/*
 * what a command (cmd/) hands the front door: the directories and the
 * backend asked for (--backend, or backend = in mxwall.conf)
 */
struct backend_opts {
	const char *pin_dir;	   /* XDP: where maps and links are pinned */
	const char *state_dir;	   /* the lock, the backend mark, the db */
	enum mx_backend_kind kind; /* asked for; AUTO: the front door picks */
	bool kind_given;	   /* asked for on the command line or config */
};

/*
 * backend_open - pick the backend (o->kind when given and not auto, else
 * the one recorded in the state directory, else XDP) and open its state.
 * flags: BE_CREATE to make state, BE_LOCK to take the exclusive lock for a
 * mutating command.
 */
#define BE_CREATE 0x1
#define BE_LOCK 0x2
int backend_open(struct backend *be, const struct backend_opts *o,
		 unsigned int flags);
/*
 * backend_attach - set the filter's configuration and attach be to ifname;
 * on failure the configuration goes back to what it was and state this
 * attach made is removed again. When the backend was left to auto and XDP
 * cannot attach here (the driver or the kernel says it is not possible:
 * EOPNOTSUPP, EINVAL, ...; or the test hook force_xdp_fail) while
 * no interface is attached through XDP yet, the front door falls back: it
 * says so (as "who: ..."), reopens be as the nftables backend with the
 * same flags, records the reason in be->why and attaches there. *fresh:
 * be held no interface and no entry before (its state is this attach's),
 * *old its configuration before (when !*fresh). 0 or -errno; on error be
 * is still open (perhaps as the other backend).
 */
int backend_attach(struct backend *be, unsigned int flags, const char *who,
		   const char *ifname, enum mx_attach_mode mode,
		   const struct mx_dp_config *cfg, bool *fresh,
		   struct mx_dp_config *old);
void backend_close(struct backend *be);
/*
 * backend_open_other - open the existing state of the other backend than
 * be's (no create, no lock: be holds it), to move entries across when the
 * backend changes. -ENOENT when the other one has no state here.
 */
int backend_open_other(const struct backend *be, struct backend *other);
/*
 * backend_follow - when another command switched the backend (attach
 * --backend, or its fallback) and recorded it, put the state of the one
 * recorded in place of be's (whose state the switch removed): 1 when it
 * did, 0 when nothing changed, -errno when the new one cannot be opened.
 */
int backend_follow(struct backend *be);
/*
 * backend_lock / backend_unlock - the exclusive lock of mutating commands
 * (pin directory, then state directory), for a long-running process that
 * opened without BE_LOCK and holds it around each change.
 */
int backend_lock(struct backend *be);
void backend_unlock(struct backend *be);
/*
 * backend_check_change - the one rule both backends hold a change to:
 * every net of a known family, its prefix length 1 to the family's
 * longest, its host bits (and an IPv4 net's bytes past the fourth)
 * clear; every addition's action drop or allow, its origin static or
 * dynamic, its tags NUL-terminated within MX_TAGS_LEN. -EINVAL, nothing
 * changed, otherwise.
 */
int backend_check_change(const struct mx_entry *add, size_t nadd,
			 const struct cidr *del, size_t ndel);
/*
 * backend_apply - the way in for a change from outside ctl/backend/:
 * checked once (backend_check_change), then the backend's apply(), all or
 * nothing. Under the lock.
 */
int backend_apply(struct backend *be, const struct mx_entry *add, size_t nadd,
		  const struct cidr *del, size_t ndel);
/*
 * backend_apply_journaled - backend_apply() that also survives a kill -9
 * or power cut whole: the change is written to $state_dir/journal first and the
 * next backend_open() (any command, the watcher) finishes an interrupted
 * one before reading or changing the entries. Under the lock.
 */
int backend_apply_journaled(struct backend *be, const struct mx_entry *add,
			    size_t nadd, const struct cidr *del, size_t ndel);
/* backend_record - remember which backend is in use for later commands */
int backend_record(struct backend *be);
/* backend_strerror - words a user can act on for an -errno from a backend */
const char *backend_strerror(int err);

/* helpers over the ops, shared by commands, watch and report */
const char *mx_action_name(const struct mx_entry *e);	/* drop/allow/observe */
int mx_entry_cmp_packets(const void *a, const void *b); /* for qsort, desc */
/* mx_tags_has - is tag in the comma list */
bool mx_tags_has(const char *tags, const char *tag);
/* mx_tags_add - append tag if missing; -ENOSPC when it does not fit */
int mx_tags_add(char *tags, size_t len, const char *tag);
/*
 * Where an entry came from, kept as a tag: "peer:NAME" for a peer's
 * export followed by the watcher (import = NAME FILE), "crowdsec" for a
 * CrowdSec decision. Such entries are dynamic but follow their source,
 * not the weekly reset. Anything else is "local".
 */
#define MX_SOURCE_PEER "peer:"
#define MX_SOURCE_CROWDSEC "crowdsec"
/* mx_entry_source - "local", "peer:NAME" or "crowdsec" into buf */
void mx_entry_source(const struct mx_entry *e, char *buf, size_t len);
/* mx_entry_follows_source - a peer's or CrowdSec's entry */
bool mx_entry_follows_source(const struct mx_entry *e);

#endif /* MXWALL_BACKEND_H */
