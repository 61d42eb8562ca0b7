#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - `make demo`: a throwaway lab that shows the weekly cycle.
#
# Two network namespaces joined by a veth pair: the server runs a real
# Postfix (Debian's package unpacked into build/pkgs by
# selftests/lib/pkgs.sh, never installed; its own instance: config, queue
# and log under a temp directory, nothing of the host's mail system touched) with mxwall attached in XDP and
# `mxwall watch` following Postfix's log; the client side runs misbehaving
# SMTP clients for about a minute:
#   10.251.1.10   a zombie on a (simulated) DNSBL, back every 6 s
#   10.251.1.20   bad HELO, two recipients per session, every 7 s
#   10.251.2.30   tries to relay, every 5 s
#   fd00:251::66  bad HELO over IPv6, every 8 s
#   10.251.3.1-6  spamtrap sprayers: one hit each promotes them, four
#                 promoted hosts promote their /24
#   10.251.9.9    in the static core list from the start: dropped all along
#   10.251.4.4    a legitimate sender, never blocked
# Once promoted, a client's SYNs are dropped in XDP and it keeps knocking
# into the counters. Then the lab prints the weekly report, the report by
# /24 and the retry statistics, and removes itself (also on Ctrl-C).
#
# usage: scripts/demo.sh [SECONDS]   (default 60; as root; needs python3,
#        iproute2, nsenter, apt-get (for Postfix) and a built build/mxwall;
#        creates the system accounts postfix/postdrop if the host lacks them)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
MXWALL=${MXWALL:-$TOP/build/mxwall}
SECS=${1:-${DEMO_SECONDS:-60}}
NS_SRV=mxdemo-srv-$$
NS_CLI=mxdemo-cli-$$
PIN_DIR=/sys/fs/bpf/mxwall-demo-$$
LAB=
WATCH_PID=
BOTS_PID=

die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (network namespaces, XDP, Postfix)"
case "$SECS" in '' | *[!0-9]*) die "$SECS: expected a number of seconds" ;; esac
for c in ip nsenter python3 script; do
	command -v "$c" >/dev/null 2>&1 || die "missing: $c"
done
[ -x "$MXWALL" ] || die "$MXWALL not built: run make"
# shellcheck source=../selftests/lib/postfix.sh
. "$TOP/selftests/lib/postfix.sh"
pf_prepare || die "cannot unpack Postfix into build/pkgs"

cleanup()
{
	set +e
	[ -n "$BOTS_PID" ] && kill "$BOTS_PID" 2>/dev/null && wait "$BOTS_PID" 2>/dev/null
	[ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
	if [ -n "$LAB" ] && [ -e "$LAB/pf/main.cf" ]; then
		srv postfix -c "$LAB/pf" stop >/dev/null 2>&1
		# master's children leave with it; wait so the queue can go
		for _ in $(seq 50); do
			[ -e "$LAB/pf/spool/pid/master.pid" ] || break
			kill -0 "$(cat "$LAB/pf/spool/pid/master.pid" 2>/dev/null)" 2>/dev/null || break
			sleep 0.1
		done
	fi
	[ -e "/run/netns/$NS_SRV" ] && mxw detach veth0 >/dev/null 2>&1
	rm -rf "$PIN_DIR"
	ip netns del "$NS_CLI" 2>/dev/null
	ip netns del "$NS_SRV" 2>/dev/null
	[ -n "$LAB" ] && rm -rf "$LAB"
	return 0
}
trap cleanup EXIT
trap 'exit 1' INT TERM

srv() { nsenter --net="/run/netns/$NS_SRV" "$@"; }
mxw() { srv "$MXWALL" --pin-dir "$PIN_DIR" --state-dir "$LAB/state" "$@"; }
step() { printf '\n=== %s\n' "$*"; }

LAB=$(mktemp -d /tmp/mxwall-demo.XXXXXX)
chmod 755 "$LAB"
mkdir -p "$LAB/pf" "$LAB/log" "$LAB/state"
chown postfix "$LAB/log"

step "lab: namespaces $NS_SRV (server) and $NS_CLI (clients)"
ip netns add "$NS_SRV" && ip netns add "$NS_CLI" || die "cannot make namespaces"
ip -n "$NS_CLI" link add veth0 type veth peer name veth0 netns "$NS_SRV" || die "veth"
for ns in "$NS_SRV" "$NS_CLI"; do
	ip -n "$ns" link set lo up
	ip -n "$ns" link set veth0 up
done
ip -n "$NS_SRV" addr add 10.251.0.1/16 dev veth0
ip -n "$NS_SRV" addr add fd00:251::1/64 dev veth0 nodad
ip -n "$NS_CLI" addr add 10.251.0.2/16 dev veth0
for a in 10.251.1.10 10.251.1.20 10.251.2.30 10.251.3.1 10.251.3.2 10.251.3.3 \
	 10.251.3.4 10.251.3.5 10.251.3.6 10.251.9.9 10.251.4.4; do
	ip -n "$NS_CLI" addr add "$a/16" dev veth0
done
ip -n "$NS_CLI" addr add fd00:251::66/64 dev veth0 nodad

step "Postfix: its own instance in $LAB/pf, log in $LAB/log/maillog"
pf_main_cf "$LAB/pf" >"$LAB/pf/main.cf"
cat >>"$LAB/pf/main.cf" <<EOF
myhostname = mx.demo.test
mydomain = demo.test
mydestination = demo.test
inet_interfaces = 10.251.0.1, [fd00:251::1]
inet_protocols = all
maillog_file = $LAB/log/maillog
maillog_file_prefixes = $LAB
smtpd_peername_lookup = no
smtpd_helo_required = yes
smtpd_client_restrictions = check_client_access cidr:$LAB/pf/zombies
smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname
smtpd_recipient_restrictions = check_recipient_access inline:{ trap@demo.test=REJECT }, reject_unauth_destination
local_transport = discard:
default_transport = discard:
alias_maps =
alias_database =
EOF
# a stand-in for a DNSBL: the text Postfix writes for a zen.spamhaus.org hit
echo "10.251.1.10/32 REJECT Service unavailable; Client host [10.251.1.10] blocked using zen.spamhaus.org" >"$LAB/pf/zombies"
{
	pf_master_cf
	echo 'pickup    unix  n       -       n       60      1       pickup'
	echo 'flush     unix  n       -       n       1000    0       flush'
} >"$LAB/pf/master.cf"
srv bash -c "$(declare -f pf_postfix); pf_postfix $LAB/pf start" || die "Postfix did not start"
for _ in $(seq 50); do
	srv ss -ltnH 'sport = :25' | grep -q . && break
	sleep 0.1
done
srv ss -ltnH 'sport = :25' | grep -q . || die "Postfix is not listening"

step "mxwall: attach to veth0, static core list, watcher following the log"
printf '# the core list: a provider we never talk to\n10.251.9.0/24 ; never fixed its abuse\n' >"$LAB/blocklist"
cat >"$LAB/mxwall.conf" <<EOF
log = $LAB/log/maillog
threshold = 4
window = 10m
threshold.spamtrap = 1
spamtrap = trap@demo.test
escalate = 4
require_seen = yes
allow = 10.251.4.4
blocklist = $LAB/blocklist
db = $LAB/state/mxwall.db
EOF
mxw attach veth0 || die "attach failed"
# nsenter itself (not a shell function) in the background: $! is the
# watcher, so that the cleanup's SIGTERM reaches it
nsenter --net="/run/netns/$NS_SRV" "$MXWALL" --pin-dir "$PIN_DIR" \
	--state-dir "$LAB/state" watch --config "$LAB/mxwall.conf" \
	</dev/null >/dev/null 2>"$LAB/watch.log" &
WATCH_PID=$!
for _ in $(seq 100); do
	grep -q following "$LAB/watch.log" && break
	kill -0 "$WATCH_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q following "$LAB/watch.log" || { cat "$LAB/watch.log"; die "the watcher did not start"; }

step "attack: misbehaving clients for $SECS s (promotions appear below as they happen)"
nsenter --net="/run/netns/$NS_CLI" python3 - "$SECS" <<'PY' &
import socket, sys, threading, time
end = time.time() + int(sys.argv[1])
SRV4, SRV6 = "10.251.0.1", "fd00:251::1"

def session(src, helo, rcpts, data=False):
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
    s.bind((src, 0))
    s.settimeout(2.5)
    try:
        s.connect((SRV6 if fam == socket.AF_INET6 else SRV4, 25))
        f = s.makefile("rwb")
        def cmd(line):
            if line is not None:
                f.write(line.encode() + b"\r\n"); f.flush()
            while True:
                r = f.readline()
                if not r or r[3:4] != b"-":
                    return r
        cmd(None)
        cmd("EHLO " + helo)
        cmd("MAIL FROM:<bot@spam.example>")
        ok = False
        for r in rcpts:
            ok = cmd("RCPT TO:<%s>" % r).startswith(b"250") or ok
        if data and ok:
            cmd("DATA")
            cmd("Subject: hello\r\n\r\nhello\r\n.")
        cmd("QUIT")
    except OSError:
        pass            # dropped in XDP: the SYNs time out
    finally:
        s.close()

def bot(src, gap, helo, rcpts, data=False, start=0.0, tries=None):
    time.sleep(start)
    n = 0
    while time.time() < end and (tries is None or n < tries):
        session(src, helo, rcpts, data)
        n += 1
        time.sleep(gap)

bots = [
    ("10.251.1.10", 6, "zombie.spam.example", ["someone@demo.test"]),
    ("10.251.1.20", 7, "localhost", ["a@elsewhere.example", "b@elsewhere.example"]),
    ("10.251.2.30", 5, "relay.spam.example", ["victim@elsewhere.example"]),
    ("fd00:251::66", 8, "localhost", ["x@elsewhere.example"]),
    ("10.251.9.9", 3, "core.spam.example", ["postmaster@demo.test"]),
    ("10.251.4.4", 10, "mail.friend.example", ["postmaster@demo.test"], True),
]
ts = [threading.Thread(target=bot, args=b) for b in bots]
for i in range(1, 7):
    ts.append(threading.Thread(target=bot, args=("10.251.3.%d" % i, 12, "sprayer.spam.example",
              ["trap@demo.test"], False, 2.0 * i)))
for t in ts:
    t.start()
for t in ts:
    t.join()
PY
BOTS_PID=$!
tail -n +1 -f "$LAB/watch.log" --pid="$BOTS_PID" 2>/dev/null | grep --line-buffered -E 'blocked' &
TAIL_PID=$!
wait "$BOTS_PID"
BOTS_PID=
kill "$TAIL_PID" 2>/dev/null
wait "$TAIL_PID" 2>/dev/null
kill "$WATCH_PID"
wait "$WATCH_PID"
WATCH_PID=

step "Postfix rejected $(grep -c 'NOQUEUE: reject' "$LAB/log/maillog") commands and accepted $(grep -c 'status=sent' "$LAB/log/maillog") messages"

step "mxwall report (the weekly report)"
mxw report --config "$LAB/mxwall.conf"

step "mxwall report --by /24"
mxw report --by /24 -n 5 --config "$LAB/mxwall.conf" | sed -n '/^Top/,$p'

step "mxwall stats persistence (retry distribution of refused sources)"
mxw stats persistence --config "$LAB/mxwall.conf"

step "removing the lab"
