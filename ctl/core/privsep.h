/* SPDX-License-Identifier: GPL-2.0 */
/*
 * privsep.h - shed the capabilities a long-running command no longer
 * needs once it has opened what it needs (OpenBSD spamd's habit).
 * Callers: watch/loop.c (the parent), watch/reader.c and reader_proc.c (the log
 * reader), cmd/scan.c.
 */
#ifndef MXWALL_PRIVSEP_H
#define MXWALL_PRIVSEP_H

#include <sys/types.h>

/*
 * privsep_drop - keep only CAP_BPF, CAP_PERFMON (map updates and reads),
 * CAP_NET_ADMIN (the nft backend, netlink) and CAP_DAC_READ_SEARCH (logs
 * of another owner after rotation); drop every other capability from the
 * effective, permitted, inheritable and bounding sets, and set
 * no_new_privs. Returns 0 or -errno; on error nothing is promised.
 */
int privsep_drop(void);

/* the unprivileged user the log readers run as: this one, else nobody */
#define PRIVSEP_USER "mxwall"
#define PRIVSEP_FALLBACK_USER "nobody"

/*
 * privsep_user - look up PRIVSEP_USER, else PRIVSEP_FALLBACK_USER: uid,
 * gid and which name was found (static). -ENOENT when neither exists.
 * Look up before dropping anything: NSS may open files.
 */
int privsep_user(uid_t *uid, gid_t *gid, const char **name);

/*
 * privsep_become - hold nothing: as root, leave every supplementary group
 * and switch real, effective and saved ids to uid/gid; drop every
 * capability from the bounding, effective, permitted, inheritable and
 * ambient sets; set no_new_privs. Run as another user, only the
 * capability and no_new_privs steps apply. Returns 0 or -errno; on error
 * the caller must not go on to parse.
 */
int privsep_become(uid_t uid, gid_t gid);

/*
 * privsep_become_reader - privsep_user() then privsep_become(): what every
 * command that parses log text does once its files are open. name gets
 * the user (for a log line). Returns 0 or -errno.
 */
int privsep_become_reader(const char **name);

/*
 * privsep_seccomp_reader - a libseccomp filter that kills the process on
 * any system call outside what reading open descriptors, talking on
 * sockets it already has and allocating memory need: no open, no exec,
 * no bpf, no socket, no ptrace. Irrevocable. Returns 0 or -errno.
 */
int privsep_seccomp_reader(void);

#endif /* MXWALL_PRIVSEP_H */
