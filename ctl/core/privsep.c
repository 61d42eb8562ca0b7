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
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>
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

int privsep_user(uid_t *uid, gid_t *gid, const char **name)
{
	static const char *const names[] = {PRIVSEP_USER,
					    PRIVSEP_FALLBACK_USER};
	const struct passwd *pw;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		errno = 0;
		pw = getpwnam(names[i]);
		if (pw && pw->pw_uid != 0 && pw->pw_gid != 0) {
			*uid = pw->pw_uid;
			*gid = pw->pw_gid;
			if (name)
				*name = names[i];
			return 0;
		}
	}
	return -ENOENT;
}

int privsep_become(uid_t uid, gid_t gid)
{
	int c, last = (int)cap_max_bits() - 1, err = 0;
	cap_t caps;

	/* the bounding set needs CAP_SETPCAP: before the ids change */
	for (c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL &&
		    errno != EPERM)
			return -errno;
	if (geteuid() == 0 || getuid() == 0) {
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid))
			return -errno;
		if (getuid() == 0 || geteuid() == 0 || getgid() == 0 ||
		    getegid() == 0)
			return -EPERM;
	}
	/* a non-root caller may hold file or ambient capabilities */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	caps = cap_init();
	if (!caps)
		return -errno;
	if (cap_set_proc(caps))
		err = -errno;
	cap_free(caps);
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		err = -errno;
	return err;
}

int privsep_become_reader(const char **name)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	int err;

	if (geteuid() == 0 || uid == 0) {
		err = privsep_user(&uid, &gid, name);
		if (err)
			return err;
	} else if (name) {
		*name = NULL;
	}
	return privsep_become(uid, gid);
}

/*
 * The reader's system calls: descriptors it was given (read, seek, stat,
 * poll, the socket to its parent), memory, the clock, exit. glibc's
 * fstat() is fstatat(fd, "", AT_EMPTY_PATH): a path is refused by the
 * flag. mprotect never with PROT_EXEC; fcntl only the status flags; ioctl
 * only TCGETS (stdio asks whether stderr is a terminal).
 * Anything else, open, execve, bpf, socket, ptrace included, kills.
 */
int privsep_seccomp_reader(void)
{
	static const int plain[] = {
	    SCMP_SYS(read),
	    SCMP_SYS(readv),
	    SCMP_SYS(pread64),
	    SCMP_SYS(write),
	    SCMP_SYS(writev),
	    SCMP_SYS(lseek),
	    SCMP_SYS(close),
	    SCMP_SYS(fstat),
	    SCMP_SYS(recvmsg),
	    SCMP_SYS(sendmsg),
	    SCMP_SYS(recvfrom),
	    SCMP_SYS(sendto),
	    SCMP_SYS(poll),
	    SCMP_SYS(ppoll),
	    SCMP_SYS(brk),
	    SCMP_SYS(munmap),
	    SCMP_SYS(mremap),
	    SCMP_SYS(madvise),
	    SCMP_SYS(clock_gettime),
	    SCMP_SYS(gettimeofday),
	    SCMP_SYS(time),
	    SCMP_SYS(eventfd2),
	    SCMP_SYS(futex),
	    SCMP_SYS(rt_sigreturn),
	    SCMP_SYS(restart_syscall),
	    SCMP_SYS(exit),
	    SCMP_SYS(exit_group),
	    SCMP_SYS(getpid),
	};
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(plain) && !rc; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
	if (!rc)
		rc = seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
		    SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	if (!rc)
		rc = seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, SCMP_SYS(statx), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	if (!rc)
		rc =
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!rc)
		rc =
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				      SCMP_A1(SCMP_CMP_EQ, F_GETFL));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				      SCMP_A1(SCMP_CMP_EQ, F_SETFL));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_EQ, TCGETS));
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}
