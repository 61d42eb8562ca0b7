#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_escalate_dryrun.sh - netblock escalation (N promoted hosts in one
# /24, or N distinct /64s in one /48, block the block, not when it covers
# the allowlist), and
# --dry-run: it logs what it would block and changes nothing (no entry,
# no database, no pid file).
. "$(dirname "$0")/lib.sh"
t_init

cat > "$CONF" <<EOC
log = $LOG
threshold = 2
escalate = 3
require_seen = no
allow = 198.51.100.200
blocklist = $T_DIR/blocklist
EOC
echo "192.0.2.0/24" > "$T_DIR/blocklist"

# dry-run first: same config, nothing may change
rejects 203.0.113.1 2
rejects 203.0.113.2 2 zen
"$MXWALL" watch --dry-run --config "$CONF" - < "$LOG" 2> "$T_DIR/watch-dry.err"
check_eq "dry-run exits 0" "$?" 0
check "dry-run says what it would block" grep -q "dry-run: would block 203.0.113.1 (a,relay)" "$T_DIR/watch-dry.err"
check "dry-run names the reasons" grep -q "dry-run: would block 203.0.113.2 (a,zen.spamhaus.org)" "$T_DIR/watch-dry.err"
check_eq "dry-run: no database" "$(ls "$DB" 2>/dev/null)" ""
check_eq "dry-run: no pins" "$(ls "$MXWALL_PIN_DIR" 2>/dev/null)" ""
: > "$LOG"

# systemd's notify socket: READY=1 once it follows its logs
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(20)
open(sys.argv[2], "w").write(s.recv(4096).decode())' "$T_DIR/notify" "$T_DIR/notified" &
T_PIDS+=("$!")
for i in $(seq 1 40); do [ -S "$T_DIR/notify" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$T_DIR/notify start_watch || t_done
for i in $(seq 1 40); do [ -s "$T_DIR/notified" ] && break; sleep 0.05; done
check "READY=1 sent to NOTIFY_SOCKET" grep -q "^READY=1" "$T_DIR/notified"
check_eq "pid file" "$(cat "$MXWALL_STATE_DIR/watch.pid")" "$W_PID"
"$MXWALL" watch --config "$CONF" 2> "$T_DIR/second.err"
check_eq "second watcher exits 1" "$?" 1
check "second watcher names the pid" grep -q "another mxwall watch is running (pid $W_PID" "$T_DIR/second.err"
check "core list" listed 192.0.2.0/24
# SIGHUP reloads the core list: what left it leaves the filter
printf '192.0.2.0/25\n' > "$T_DIR/blocklist"
kill -HUP "$W_PID"
check "new core entry after reload" wait_listed 192.0.2.0/25
check "old core entry removed" wait_unlisted 192.0.2.0/24
printf '192.0.2.0/24\n' > "$T_DIR/blocklist"
kill -HUP "$W_PID"
check "core list restored" wait_listed 192.0.2.0/24
rejects 203.0.113.1 2
rejects 203.0.113.2 2
check "two hosts" wait_listed 203.0.113.2
check_not "two hosts do not escalate" listed 203.0.113.0/24
rejects 203.0.113.3 2 zen
check "third host" wait_listed 203.0.113.3
check "third host escalates to the /24" wait_listed 203.0.113.0/24
check_eq "netblock tags: a + the hosts' reasons" "$(tags_of 203.0.113.0/24)" "[a] [relay] [zen.spamhaus.org]"
check_eq "escalation in the actions log" "$(sql "SELECT count(*) FROM actions WHERE action = 'escalate' AND cidr = '203.0.113.0/24'")" 1

# IPv6: /48
for h in 1 2 3; do rejects 2001:db8:1:$h::5 2; done
check "v6 escalates to the /48" wait_listed 2001:db8:1::/48
check "the v6 escalation counts /64s" grep -q "3 promoted /64s in 2001:db8:1::/48" "$W_ERR"

# one /64 is one customer: hosts in it count once
for h in 1 2 3 4 5; do rejects 2001:db8:2:7::$h 2; done
check "five hosts of one /64 promoted" wait_listed 2001:db8:2:7::5
sleep 0.3
check_not "five hosts of one /64 do not escalate to the /48" listed 2001:db8:2::/48
rejects 2001:db8:2:8::1 2
check "a second /64" wait_listed 2001:db8:2:8::1
sleep 0.3
check_not "two /64s do not escalate" listed 2001:db8:2::/48
rejects 2001:db8:2:9::1 2
check "a third /64 escalates to the /48" wait_listed 2001:db8:2::/48

# a /24 holding an allowlisted address is not escalated
for h in 1 2 3; do rejects 198.51.100.$h 2; done
check "hosts next to the allowlist" wait_listed 198.51.100.3
sleep 0.3
check_not "no escalation over the allowlist" listed 198.51.100.0/24
check "escalation refusal logged" grep -q "not escalating to 198.51.100.0/24: in the allowlist" "$W_ERR"

# the weekly reset while the watcher runs: it forgets the entries, and the
# reset's own record ("reset") stands
active=$(sql "SELECT count(*) FROM entries WHERE removed IS NULL")
check "some entries active" test "$active" -ge 5
"$MXWALL" report --reset --config "$CONF" --out "$T_DIR/report.txt" > "$T_DIR/report.out" 2>&1
check_eq "report --reset with the watcher running" "$?" 0
check_not "dynamic entries cleared" listed 203.0.113.1
check "core list kept" listed 192.0.2.0/24
set_now $((T_NOW + 61))	# the watcher compares with the filter once a minute
sleep 2
check_eq "no entry active" "$(sql "SELECT count(*) FROM entries WHERE removed IS NULL")" 0
check_eq "removals say reset" "$(sql "SELECT count(*) FROM entries WHERE removal = 'reset'")" "$active"
check_eq "no 'gone' overwrote them" "$(sql "SELECT count(*) FROM actions WHERE action = 'gone'")" 0
# and counting starts again: the next threshold crossing promotes again
rejects 203.0.113.1 2
check "promoted again after the reset" wait_listed 203.0.113.1
stop_watch
t_done
