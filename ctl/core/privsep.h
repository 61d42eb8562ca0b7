/* SPDX-License-Identifier: GPL-2.0 */
/*
 * privsep.h - shed the capabilities a long-running command no longer
 * needs once it has opened what it needs (OpenBSD spamd's habit).
 * Callers: watch.c.
 */
#ifndef MXWALL_PRIVSEP_H
#define MXWALL_PRIVSEP_H

/*
 * privsep_drop - keep only CAP_BPF, CAP_PERFMON (map updates and reads),
 * CAP_NET_ADMIN (the nft backend, netlink) and CAP_DAC_READ_SEARCH (logs
 * of another owner after rotation); drop every other capability from the
 * effective, permitted, inheritable and bounding sets, and set
 * no_new_privs. Returns 0 or -errno; on error nothing is promised.
 */
int privsep_drop(void);

#endif /* MXWALL_PRIVSEP_H */
