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
# or, for a test's smtpd that logs to DIR/maillog (swaks as its clients):
#	pf_smtpd_cf DIR ADDR DOMAIN >DIR/main.cf; echo "your own" >>DIR/main.cf
#	pf_master_cf [SERVICE] >DIR/master.cf
#	pf_postscreen_cf ZONE >>DIR/main.cf	# or postscreen in front of smtpd,
#	pf_master_cf_postscreen >DIR/master.cf	# refusing ZONE's listed clients
#	pf_start DIR NS ADDR [PORT]	# started in namespace NS, accepting
#	pf_kill DIR [NS]		# stopped, for a trap (also after NS is gone)
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

# pf_smtpd_cf DIR ADDR DOMAIN: pf_main_cf, then an instance that listens on
# ADDR (IPv4), is mx.DOMAIN, accepts mail for DOMAIN only (discarded),
# relays for nobody outside 127.0.0.0/8, and logs to DIR/maillog with
# Postfix's own timestamps; append the test's restrictions
pf_smtpd_cf() {
	local dir=$1 addr=$2 domain=$3
	pf_main_cf "$dir"
	cat <<EOF
inet_interfaces = $addr
inet_protocols = ipv4
myhostname = mx.$domain
mydomain = $domain
myorigin = $domain
mydestination = $domain
mynetworks = 127.0.0.0/8
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
local_recipient_maps =
alias_maps =
alias_database =
local_transport = discard:
default_transport = discard:
biff = no
smtputf8_enable = no
smtpd_banner = mx.$domain ESMTP
EOF
}

# pf_master_cf [SERVICE]: smtpd on SERVICE (default smtp, or a port) and
# the daemons it needs, no pickup or local delivery
pf_master_cf() {
	printf '%-9s inet  n       -       n       -       -       smtpd\n' "${1:-smtp}"
	pf_master_daemons
}

# pf_master_cf_postscreen: postscreen on port 25 in front of smtpd, with
# the DNSBL lookups (dnsblog) and the daemons smtpd needs
pf_master_cf_postscreen() {
	cat <<'EOF'
smtp      inet  n       -       n       -       1       postscreen
smtpd     pass  -       -       n       -       -       smtpd
dnsblog   unix  -       -       n       -       0       dnsblog
tlsproxy  unix  -       -       n       -       0       tlsproxy
EOF
	pf_master_daemons
}

# pf_postscreen_cf ZONE: main.cf lines for postscreen that refuses a client
# ZONE lists (127.0.0.2 or .3) with a 521 reply before any SMTP (action
# drop), after a greet wait of one second; no other test enforced; DNSBL
# results are cached for a second only (a test connects again soon)
pf_postscreen_cf() {
	cat <<EOF
postscreen_dnsbl_sites = $1=127.0.0.[2..3]
postscreen_dnsbl_threshold = 1
postscreen_dnsbl_action = drop
postscreen_greet_action = ignore
postscreen_greet_wait = 1s
postscreen_dnsbl_min_ttl = 1s
postscreen_dnsbl_max_ttl = 1s
postscreen_dnsbl_timeout = 5s
EOF
}

# pf_master_daemons: the daemons every test instance needs
pf_master_daemons() {
	cat <<'EOF'
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
discard   unix  -       -       n       -       -       discard
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# pf_start DIR NS ADDR [PORT]: the instance in DIR started in namespace NS,
# until it accepts on ADDR:PORT (default 25); DIR/maillog exists then.
# When /etc/netns/NS exists, it starts under `ip netns exec`, which puts
# the files there (resolv.conf) over /etc's: Postfix's DNS lookups go to
# the namespace's own resolver. Says why it failed (Postfix's own words
# and its log's last lines).
pf_start() {
	local dir=$1 ns=$2 addr=$3 port=${4:-25} i
	local run=(nsenter --net="/run/netns/$ns")
	[ -d "/etc/netns/$ns" ] && run=(ip netns exec "$ns")
	chmod 755 "$dir"	# postfix (the user) must reach its data_directory
	"${run[@]}" bash -c "$(declare -f pf_postfix); pf_postfix $dir start" \
		2>"$dir/start.log" || {
		tail -n 5 "$dir/start.log" "$dir/maillog" >&2 2>/dev/null
		return 1
	}
	for i in $(seq 100); do
		nsenter --net="/run/netns/$ns" bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null && break
		sleep 0.1
	done
	[ -e "$dir/maillog" ] || touch "$dir/maillog"
	nsenter --net="/run/netns/$ns" bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null || {
		echo "postfix.sh: nothing accepts on $addr:$port" >&2
		return 1
	}
}

# pf_kill DIR [NS]: stop the instance in DIR; its master killed when the
# namespace is already gone
pf_kill() {
	[ -n "${2:-}" ] && [ -e "/run/netns/$2" ] &&
		nsenter --net="/run/netns/$2" postfix -c "$1" stop >/dev/null 2>&1
	[ -s "$1/spool/pid/master.pid" ] && kill -9 "$(cat "$1/spool/pid/master.pid")" 2>/dev/null
	return 0
}

# pf_line_time N ERE FILE: unix seconds of the time Postfix wrote on the
# Nth line of FILE (a maillog_file) matching ERE (whole seconds: Postfix
# 3.7 stamps "Mmm dd hh:mm:ss" in local time, no year)
pf_line_time() {
	grep -E -- "$2" "$3" | sed -n "$1p" | python3 -c '
import sys, time
from datetime import datetime
f = sys.stdin.read().split()
if len(f) < 3:
    sys.exit(1)
fmt = "%Y %b %d %H:%M:%S.%f" if "." in f[2] else "%Y %b %d %H:%M:%S"
t = datetime.strptime(" ".join([str(time.localtime().tm_year)] + f[:3]), fmt)
print(t.timestamp())'
}
