# SPDX-License-Identifier: GPL-2.0
#
# postfix.sh - a private Postfix out of the build tree, for tests and the
# demo (source it; bash). Postfix is never installed on the host: pkgs.sh
# unpacks Debian's package into build/pkgs/postfix and every directory
# Postfix would take from its compiled-in defaults is named in main.cf.
#
#	pf_prepare || exit 1		# unpack, users and groups
#	pf_main_cf DIR >DIR/main.cf	# the directory settings, then your own
#	pf_postfix DIR start		# postfix -c DIR start (same for stop)
#
# Host state: Postfix's daemons drop privileges to mail_owner, and its
# queue wants a setgid group; when the host has no `postfix` user/group
# and `postdrop` group, pf_prepare creates them as system accounts
# (useradd --system, no home, no shell) and leaves them: the same
# accounts Debian's package would create, harmless without Postfix.

PF_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# pf_prepare: PF_ROOT=the unpacked package; PATH and LD_LIBRARY_PATH run it
pf_prepare() {
	PF_ROOT=$("$PF_LIB_DIR/pkgs.sh" postfix) || return 1
	# shellcheck disable=SC1091
	. "$PF_ROOT/env.sh"
	getent group postdrop >/dev/null || groupadd --system postdrop || return 1
	getent group postfix >/dev/null || groupadd --system postfix || return 1
	getent passwd postfix >/dev/null ||
		useradd --system --gid postfix --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin postfix || return 1
	[ -x "$PF_ROOT/usr/lib/postfix/sbin/smtpd" ] || {
		echo "postfix.sh: no smtpd in $PF_ROOT" >&2
		return 1
	}
}

# pf_main_cf DIR: main.cf lines that keep an instance in DIR (queue in
# DIR/spool, data in DIR/data) and take its programs from PF_ROOT
pf_main_cf() {
	local dir=$1
	mkdir -p "$dir/spool" "$dir/data"
	chown postfix "$dir/data"
	cat <<EOF
compatibility_level = 3.6
config_directory = $dir
queue_directory = $dir/spool
data_directory = $dir/data
command_directory = $PF_ROOT/usr/sbin
daemon_directory = $PF_ROOT/usr/lib/postfix/sbin
meta_directory = $PF_ROOT/etc/postfix
shlib_directory = $PF_ROOT/usr/lib/postfix
sendmail_path = $PF_ROOT/usr/sbin/sendmail
newaliases_path = $PF_ROOT/usr/bin/newaliases
mailq_path = $PF_ROOT/usr/bin/mailq
manpage_directory = $PF_ROOT/usr/share/man
mail_owner = postfix
setgid_group = postdrop
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH=$LD_LIBRARY_PATH
EOF
}

# pf_postfix DIR ARGS...: the postfix command on the instance in DIR; says
# why it failed (Postfix writes its reasons to a terminal only, hence
# script(1))
pf_postfix() {
	local dir=$1 out
	shift
	out=$(script -qec "postfix -c $dir $*" /dev/null 2>&1) || {
		echo "postfix $*: $out" >&2
		return 1
	}
}
