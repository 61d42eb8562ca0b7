#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_crash.sh - crash safety of the controller: 100 times, kill -9 the
# watcher at a random moment while it is ingesting lines, promoting
# sources, expiring entries, or while `mxwall report --reset` (the weekly
# reset, killed too) clears the week; after every kill:
#  - `PRAGMA integrity_check` of the database says ok;
#  - after a restart, the filter and the database agree: every dynamic
#    entry the database holds as active is in the map, and every dynamic
#    entry in the map is active in the database;
# and at the end every log line written is in the database exactly once
# (no event lost, none counted twice). Time is a fake clock
# (the test hook fake_now), moved forward to make entries expire.
. "$(dirname "$0")/../watch/lib.sh"
t_init
export MXWALL_TEST_HOOKS=${MXWALL_TEST_HOOKS:+$MXWALL_TEST_HOOKS,}capacity=4096
ROUNDS=${CRASH_ROUNDS:-100}

cat > "$CONF" <<EOC
log = $LOG
threshold = 3
window = 1h
ttl = 10m
require_seen = no
max_promotions_per_hour = 1000000
blocklist = $T_DIR/none
commit_interval = 50
EOC

lines=0		# every line written to the log
ipn=0		# fresh source addresses: 198.18.0.0/15
next_ip() { ipn=$((ipn + 1)); IP=198.$((18 + ipn / 65536)).$(((ipn / 256) % 256)).$((ipn % 256 + 0)); }

# rand_sleep MAXMS
rand_sleep() { sleep "$(printf '0.%03d' $((RANDOM % $1)))"; }

db_active() { sql "SELECT cidr FROM entries WHERE removed IS NULL ORDER BY cidr" | sort; }
map_dynamic() {
	"$MXWALL" list --dynamic 2>/dev/null | awk 'NR > 1 { print $1 }' | sort
}

# agree - the database's active entries are the map's dynamic ones
agree() {
	local i a b
	for ((i = 0; i < 20; i++)); do
		a=$(db_active)
		b=$(map_dynamic)
		[ "$a" = "$b" ] && return 0
		sleep 0.1
	done
	echo "    database active: $(echo $a | head -c 600)"
	echo "    map dynamic:     $(echo $b | head -c 600)"
	return 1
}

kills=(0 0 0 0)
names=(ingestion promotion expiry reset)
resets=0
start_watch || t_done
for ((r = 1; r <= ROUNDS; r++)); do
	phase=$((r % 4))
	case $phase in
	0)	# ingestion: single lines from fresh sources, under the threshold
		for ((k = 0; k < 60; k++)); do next_ip; reject_line $IP; done >> "$LOG"
		lines=$((lines + 60))
		rand_sleep 120
		;;
	1)	# promotion: fresh sources over the threshold
		for ((k = 0; k < 12; k++)); do
			next_ip
			reject_line $IP; reject_line $IP zen; reject_line $IP
		done >> "$LOG"
		lines=$((lines + 36))
		rand_sleep 150
		;;
	2)	# expiry: the clock passes every ttl; a line wakes the loop
		set_now $((T_NOW + 660))
		next_ip; reject_line $IP >> "$LOG"
		lines=$((lines + 1))
		rand_sleep 150
		;;
	3)	# the weekly reset, in its own report directory
		resets=$((resets + 1))
		sed "\$a report_dir = $T_DIR/reports-$resets" "$CONF" > "$T_DIR/reset.conf"
		"$MXWALL" report --reset --config "$T_DIR/reset.conf" \
			>/dev/null 2>>"$T_DIR/reset.err" &
		RPID=$!
		rand_sleep 250
		kill -9 $RPID 2>/dev/null
		wait $RPID 2>/dev/null
		;;
	esac
	kill -9 "$W_PID" 2>/dev/null && kills[$phase]=$((kills[phase] + 1))
	wait "$W_PID" 2>/dev/null
	ic=$(sqlite3 "$DB" "PRAGMA integrity_check" 2>&1)
	check_eq "round $r (${names[$phase]}): integrity_check" "$ic" ok
	if [ $phase -eq 3 ] && [ $((RANDOM % 2)) -eq 0 ]; then
		# finish an interrupted reset, as the next cron run would
		"$MXWALL" report --reset --config "$T_DIR/reset.conf" \
			>/dev/null 2>>"$T_DIR/reset.err"
	fi
	start_watch || break
	check "round $r (${names[$phase]}): map and database agree" agree
done
echo "kills: ingestion ${kills[0]}, promotion ${kills[1]}, expiry ${kills[2]}, reset ${kills[3]}; $lines lines, $(sql "SELECT count(*) FROM entries") entries made"
check "killed 100 times in all" test $((kills[0] + kills[1] + kills[2] + kills[3])) -ge "$ROUNDS"
check "every line recorded" wait_events $lines 10
check_eq "no line lost or counted twice" "$(sql "SELECT count(*) FROM events")" $lines
check "promotions happened" test "$(sql "SELECT count(*) FROM entries")" -gt 0
check "expiries happened" test "$(sql "SELECT count(*) FROM entries WHERE removal = 'expire'")" -gt 0
stop_watch
check_eq "final integrity_check" "$(sqlite3 "$DB" "PRAGMA integrity_check")" ok
check "map and database agree at the end" agree
t_done
