# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - shared helpers of the `mxwall watch` tests: a private pin dir,
# state dir and network namespace names, a watcher started in the
# background with a fake clock, log lines with chosen times, and waits
# that poll instead of sleeping blindly. Sourced by selftests/watch/test_*.sh.
#
# Every test: t_init; ...; t_done (prints "N passed, N failed"). The trap
# stops the watcher and removes the pin dir, state dir and namespaces also
# on failure.

set -u
T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MXWALL=${MXWALL:-$T_ROOT/build/mxwall}
T_PASS=0
T_FAIL=0
T_PIDS=()
T_NETNS=()

t_fatal() { echo "FAIL - $*"; T_FAIL=$((T_FAIL + 1)); t_done; }

t_init() {
	[ "$(id -u)" = 0 ] || { echo "FAIL - needs root (BPF maps)"; echo "0 passed, 1 failed"; exit 1; }
	[ -x "$MXWALL" ] || { echo "FAIL - $MXWALL not built"; echo "0 passed, 1 failed"; exit 1; }
	command -v sqlite3 >/dev/null || { echo "FAIL - sqlite3 missing"; echo "0 passed, 1 failed"; exit 1; }
	T_DIR=$(mktemp -d /tmp/mxwall-watch-test.XXXXXX)
	# a private copy: a rebuild in the tree must not pull it away mid-test
	cp "$MXWALL" "$T_DIR/mxwall" || { echo "FAIL - copy $MXWALL"; echo "0 passed, 1 failed"; exit 1; }
	MXWALL=$T_DIR/mxwall
	export MXWALL_PIN_DIR=/sys/fs/bpf/mxwall-test-$$-$RANDOM
	export MXWALL_STATE_DIR=$T_DIR/state
	# the fake clock (test hook fake_now, ctl/core/testhook.h): a file
	T_NOW_FILE=$T_DIR/now
	export MXWALL_TEST_HOOKS=fake_now=$T_NOW_FILE
	T_NOW=1795000000	# fixed: Nov 2026
	echo $T_NOW > "$T_NOW_FILE"
	LOG=$T_DIR/mail.log
	CONF=$T_DIR/mxwall.conf
	DB=$MXWALL_STATE_DIR/mxwall.db
	: > "$LOG"
	trap t_cleanup EXIT
}

t_cleanup() {
	local p ns
	for p in "${T_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for ns in "${T_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	[ -n "${T_EXTRA_CLEANUP:-}" ] && eval "$T_EXTRA_CLEANUP"
	rm -rf "$MXWALL_PIN_DIR"
	if [ "$T_FAIL" -ne 0 ] && [ -n "${T_DIR:-}" ]; then
		for f in "$T_DIR"/watch*.err; do
			[ -e "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
		done
	fi
	rm -rf "$T_DIR"
}

t_done() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ] && exit 0
	exit 1
}

ok() { T_PASS=$((T_PASS + 1)); [ -n "${TEST_VERBOSE:-}" ] && echo "ok - $1"; return 0; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL - $1${2:+: $2}"; return 0; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d" "command failed: $*"; fi; }
check_not() { local d=$1; shift; if "$@"; then fail "$d" "expected to fail: $*"; else ok "$d"; fi; }
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', expected '$3'"; fi; }

# set_now SECS - move the fake clock
set_now() { T_NOW=$1; echo "$T_NOW" > "$T_NOW_FILE.tmp"; mv "$T_NOW_FILE.tmp" "$T_NOW_FILE"; }

# iso SECS - the short-iso stamp journalctl writes
# (printf's %(...)T, no fork: tests write thousands of lines)
iso() { TZ=UTC0 printf '%(%Y-%m-%dT%H:%M:%S)T.000000+00:00' "$1"; }

# reject_line IP [KIND] [SECS] - one Postfix rejection of IP
reject_line() {
	local ip=$1 kind=${2:-relay} t=${3:-$T_NOW} what
	case $kind in
	relay) what="554 5.7.1 <x@example.org>: Relay access denied" ;;
	zen) what="554 5.7.1 Service unavailable; Client host [$ip] blocked using zen.spamhaus.org" ;;
	helo) what="504 5.5.2 <bad>: Helo command rejected: need fully-qualified hostname" ;;
	grey) what="450 4.2.0 <x@example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html" ;;
	esac
	local stamp
	TZ=UTC0 printf -v stamp '%(%Y-%m-%dT%H:%M:%S)T.000000+00:00' "$t"
	echo "$stamp mx postfix/smtpd[4242]: NOQUEUE: reject: RCPT from unknown[$ip]: $what; from=<a@b.example> to=<x@example.org> proto=ESMTP helo=<h.example>"
}

# rejects IP N [KIND] - append N rejections to $LOG
rejects() { local i; for ((i = 0; i < $2; i++)); do reject_line "$1" "${3:-relay}"; done >> "$LOG"; }

# t_ns_pair NAME SRV_ADDR CLI_ADDR... - server namespace $S and client
# namespace $C (NAME-s-PID, NAME-c-PID) joined by veth vsPID / vcPID, up,
# with the addresses given (CIDR; client IPv6 without DAD); the watcher runs
# in $S (W_NETNS); both are removed on exit
t_ns_pair() {
	local a
	S=$1-s-$$
	C=$1-c-$$
	T_NETNS+=("$S" "$C")
	W_NETNS=$S
	ip netns add "$S" && ip netns add "$C" || t_fatal "netns"
	ip link add vs$$ netns "$S" type veth peer name vc$$ netns "$C" || t_fatal "veth"
	ip -n "$S" addr add "$2" dev vs$$
	shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$C" addr add "$a" dev vc$$ nodad ;;
		*) ip -n "$C" addr add "$a" dev vc$$ ;;
		esac
	done
	ip -n "$S" link set vs$$ up; ip -n "$S" link set lo up
	ip -n "$C" link set vc$$ up; ip -n "$C" link set lo up
}

# t_listen_smtp - a dual-stack listener on port 25 in $S that accepts and
# closes (a completed handshake is what require_seen asks for)
t_listen_smtp() {
	nsenter --net=/run/netns/"$S" python3 -c '
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 25))
s.listen(64)
while True:
    s.accept()[0].close()' &
	T_PIDS+=($!)
}

# start_watch [ARGS...] - watcher in the background, waits for "following";
# with W_NETNS set, in that network namespace (nsenter keeps the bpffs)
start_watch() {
	local n=${#T_PIDS[@]} i
	W_ERR=$T_DIR/watch$n.err
	${W_NETNS:+nsenter --net=/run/netns/$W_NETNS} "$MXWALL" watch --config "$CONF" "$@" 2> "$W_ERR" &
	W_PID=$!
	T_PIDS+=("$W_PID")
	for ((i = 0; i < 200; i++)); do
		grep -q "following" "$W_ERR" 2>/dev/null && return 0
		kill -0 "$W_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "watcher started" "$(tail -n 5 "$W_ERR")"
	return 1
}

# stop_watch - SIGTERM, expect exit 0
stop_watch() {
	local rc
	kill -TERM "$W_PID" 2>/dev/null
	wait "$W_PID"
	rc=$?
	check_eq "watch exits 0 on SIGTERM" "$rc" 0
}

# sql QUERY - against the state database (read side)
sql() { sqlite3 -cmd ".timeout 5000" "$DB" "$1" 2>/dev/null; }

# wait_sql QUERY VALUE [SECS] - until the query returns VALUE (else says
# what it returned last)
wait_sql() {
	local i v lim=$(( ${3:-5} * 20 ))
	for ((i = 0; i < lim; i++)); do
		v=$(sql "$1")
		[ "$v" = "$2" ] && return 0
		sleep 0.05
	done
	echo "wait_sql: '$1' returned '$v', not '$2'" >&2
	return 1
}

# wait_events N - until N events are committed
wait_events() { wait_sql "SELECT count(*) FROM events" "$1" "${2:-5}"; }

# listed CIDR - is CIDR in the filter (mxwall list)
listed() { "$MXWALL" list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx "$1"; }
tags_of() { "$MXWALL" list 2>/dev/null | awk -v c="$1" '$1 == c { $1 = $2 = $3 = ""; sub(/^ +/, ""); print }'; }

# wait_listed CIDR [SECS] / wait_unlisted CIDR [SECS]
wait_listed() {
	local i lim=$(( ${2:-5} * 20 ))
	for ((i = 0; i < lim; i++)); do listed "$1" && return 0; sleep 0.05; done
	return 1
}
wait_unlisted() {
	local i lim=$(( ${2:-5} * 20 ))
	for ((i = 0; i < lim; i++)); do listed "$1" || return 0; sleep 0.05; done
	return 1
}
