// SPDX-License-Identifier: GPL-2.0
/*
 * privsep.c - drop what is no longer needed, visibly, in one place.
 *
 * Why these four stay: with kernel.unprivileged_bpf_disabled (Debian's
 * default) every bpf() call, map updates on an fd already open included,
 * needs CAP_BPF; CAP_PERFMON lets the kernel accept pointer-carrying map
 * reads; the nft backend talks netlink with CAP_NET_ADMIN on every
 * change; CAP_DAC_READ_SEARCH reads a log that rotation handed to another
 * owner (Ubuntu's syslog:adm 0640). Everything else (CAP_SYS_ADMIN,
 * CAP_SYS_MODULE, CAP_SETUID, CAP_KILL, ...) goes: the watcher parses
 * hostile log text, and a bug there should not own the machine.
 * XXX: on a kernel without CAP_BPF (before 5.8) CAP_SYS_ADMIN is kept.
 */
#include <errno.h>
#include <sys/prctl.h>

#include <sys/capability.h>

#include "core/mxwall.h"
#include "core/privsep.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif

int privsep_drop(void)
{
	cap_value_t keep[5] = {CAP_NET_ADMIN, CAP_DAC_READ_SEARCH};
	int nkeep = 2, last, c, err = 0;
	cap_t caps;

	last = (int)cap_max_bits() - 1;
	if (last >= CAP_BPF) {
		keep[nkeep++] = CAP_BPF;
		keep[nkeep++] = CAP_PERFMON;
	} else {
		keep[nkeep++] = CAP_SYS_ADMIN;
	}
	for (c = 0; c <= last; c++) {
		int k;

		for (k = 0; k < nkeep; k++)
			if (keep[k] == c)
				break;
		if (k < nkeep)
			continue;
		/* EINVAL: not a capability this kernel knows */
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL &&
		    errno != EPERM)
			return -errno;
	}
	caps = cap_init();
	if (!caps)
		return -errno;
	if (cap_set_flag(caps, CAP_EFFECTIVE, nkeep, keep, CAP_SET) ||
	    cap_set_flag(caps, CAP_PERMITTED, nkeep, keep, CAP_SET) ||
	    cap_set_proc(caps))
		err = -errno;
	cap_free(caps);
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		err = -errno;
	return err;
}
