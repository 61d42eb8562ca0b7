#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_failstatic.sh - fail-static: with the controller dead (kill -9), the
# filter keeps dropping and counting. Two namespaces joined by a veth pair,
# the filter attached on the server side, a static entry (mxwall block)
# and dynamic entries that `mxwall watch` promoted from log lines; then the
# watcher is killed with SIGKILL (no chance to clean up) and:
#  - `mxwall status` says "controller: not running" (and --json
#    "running":false), although its stale watch.pid is still there;
#  - SYNs from the static and from the promoted sources (v4 and v6) are
#    still dropped and counted, twice over, in the entry counters and the
#    global counters; an unlisted source still connects;
#  - a restarted watcher takes over the same entries (none lost, none
#    doubled) and status says it is running again.
set -u
. "$(dirname "$0")/../net/lib.sh"

net_require ip nsenter python3 ss
export MXWALL_TEST_HOOKS=${MXWALL_TEST_HOOKS:+$MXWALL_TEST_HOOKS,}capacity=4096	# small maps: quick to make and to read

SRV4=10.250.0.1
SRV6=fd00:250::1
BLK=10.250.1.10		# static block
DYN=10.250.1.20		# promoted by the watcher
DYN6=fd00:250::20	# promoted by the watcher
FREE=10.250.1.30	# never listed

net_setup || { echo "FAIL - namespace setup"; net_finish; }
net_add_src $BLK $DYN $FREE $DYN6
net_listen 25 || net_finish

WDIR=$(mktemp -d /tmp/mxwall-failstatic.XXXXXX)
on_cleanup "rm -rf $WDIR"
# a private copy: a rebuild in the tree must not swap the binary mid-test
cp "$MXWALL" "$WDIR/mxwall" || net_finish
MXWALL=$WDIR/mxwall
LOG=$WDIR/mail.log
CONF=$WDIR/mxwall.conf
: > "$LOG"
cat > "$CONF" <<EOC
log = $LOG
threshold = 2
window = 1h
require_seen = no
blocklist = $WDIR/none
commit_interval = 50
EOC

WPID=
start_watch()
{
	local i n0

	# watch.err is appended to: wait for this watcher's own line
	n0=$(grep -c following "$WDIR/watch.err" 2>/dev/null)
	# nsenter execs mxwall: $! is the watcher itself
	nsenter --net="/run/netns/$NS_SRV" "$MXWALL" --pin-dir "$PIN_DIR" \
		--state-dir "$STATE_DIR" watch --config "$CONF" \
		2>>"$WDIR/watch.err" &
	WPID=$!
	on_cleanup "kill -9 $WPID"
	for i in $(seq 100); do
		[ "$(grep -c following "$WDIR/watch.err" 2>/dev/null)" -gt "${n0:-0}" ] && return 0
		sleep 0.05
	done
	echo "FAIL - watcher did not start:"
	tail -n 5 "$WDIR/watch.err"
	return 1
}

reject()
{
	local stamp

	stamp=$(date -u +%Y-%m-%dT%H:%M:%S.000000+00:00)
	echo "$stamp mx postfix/smtpd[42]: NOQUEUE: reject: RCPT from unknown[$1]: 554 5.7.1 <x@example.org>: Relay access denied; from=<a@b.example> to=<x@example.org> proto=ESMTP helo=<h.example>" >> "$LOG"
}

# field ENTRY KEY - from top --json
field()
{
	mxw top --json -n 0 | python3 -c '
import json, sys
rows = {r["entry"]: r for r in json.load(sys.stdin)}
r = rows.get(sys.argv[1])
print("absent" if r is None else r[sys.argv[2]])' "$1" "$2"
}

gstat()
{
	mxw status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = d.get("counters", d)
print(c[sys.argv[1]])' "$1"
}

listed() { mxw list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx "$1"; }
wait_listed()
{
	local i
	for i in $(seq 100); do listed "$1" && return 0; sleep 0.05; done
	return 1
}

connect_all()
{
	local s dst pids=()

	for s in "$@"; do
		case "$s" in *:*) dst=$SRV6 ;; *) dst=$SRV4 ;; esac
		net_connect "$s" "$dst" 25 >"$WDIR/c.$s" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for s in "$@"; do printf '%s=%s ' "$s" "$(cat "$WDIR/c.$s")"; done
}

check "attach veth0" mxw attach veth0
check "static block" mxw block $BLK
start_watch || net_finish
check "status: controller running" sh -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' status | grep -q 'controller: running (pid $WPID)'"
reject $DYN; reject $DYN; reject $DYN6; reject $DYN6
check "watcher promotes $DYN" wait_listed $DYN
check "watcher promotes $DYN6" wait_listed $DYN6

kill -9 $WPID
wait $WPID 2>/dev/null
check "watch.pid left behind by SIGKILL" test -e "$STATE_DIR/watch.pid"
out=$(mxw status)
check_eq "status exit code with the controller dead" "$?" 0
check "status says: controller: not running" grep -q "^controller: not running$" <<<"$out"
check "status --json: running false" sh -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' status --json | grep -q '\"running\":false'"

# a blocked connect sends a SYN and its retransmissions (TCP_SYNCNT=1):
# count what the entries got, and check that every figure agrees
d0=$(gstat dropped)
check_eq "round 1 with the controller dead" "$(connect_all $BLK $DYN $DYN6 $FREE)" \
	"$BLK=timeout $DYN=timeout $DYN6=timeout $FREE=ok "
b1=$(field $BLK packets); p1=$(field $DYN packets); q1=$(field $DYN6 packets)
check "static entry counted" test "$b1" -ge 2
check "promoted v4 entry counted" test "$p1" -ge 2
check "promoted v6 entry counted" test "$q1" -ge 2
check_eq "global dropped = sum of the entries" "$(gstat dropped)" $((d0 + b1 + p1 + q1))
check_eq "round 2, still dead" "$(connect_all $BLK $DYN $DYN6 $FREE)" \
	"$BLK=timeout $DYN=timeout $DYN6=timeout $FREE=ok "
b2=$(field $BLK packets); p2=$(field $DYN packets); q2=$(field $DYN6 packets)
check "static entry keeps counting" test "$b2" -ge $((b1 + 2))
check "promoted entry keeps counting" test "$p2" -ge $((p1 + 2))
check "promoted v6 keeps counting" test "$q2" -ge $((q1 + 2))
check_eq "global dropped keeps counting" "$(gstat dropped)" $((d0 + b2 + p2 + q2))
check_eq "bytes of the v4 entry (SYNs of 60 IP bytes)" "$(field $DYN bytes)" $((p2 * 60))
check_eq "bytes of the v6 entry (SYNs of 80 IP bytes)" "$(field $DYN6 bytes)" $((q2 * 80))

n_before=$(mxw list | wc -l)
start_watch || net_finish
check "status after restart: running" sh -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' status | grep -q 'controller: running (pid $WPID)'"
sleep 0.5
check_eq "restart keeps the entries, none doubled" "$(mxw list | wc -l)" "$n_before"
check_eq "restart keeps the counters" "$(field $DYN packets)" "$p2"
kill -TERM $WPID
wait $WPID
check_eq "watcher exits 0 on SIGTERM" "$?" 0
check "status after a clean stop: not running" sh -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' status | grep -q 'controller: not running'"
check "detach" mxw detach veth0
net_finish
