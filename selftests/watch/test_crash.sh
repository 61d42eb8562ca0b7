#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_crash.sh - kill -9 the watcher while it ingests a steady stream of
# log lines, restart it, several times (one restart across a rotation):
# the database passes PRAGMA integrity_check and holds every line's event
# exactly once.
. "$(dirname "$0")/lib.sh"
t_init

cat > "$CONF" <<EOC
log = $LOG
threshold = 1000000
require_seen = no
blocklist = $T_DIR/none
commit_interval = 50
EOC
TOTAL=3000
# the watcher runs before the stream starts (a watcher started after the
# rotation would rightly read only the new file: a log never read is read
# from its start, the rotated copy only to resume a saved position)
start_watch || t_done
# the stream: TOTAL lines, in bursts, about 3 seconds
(
	for ((i = 0; i < TOTAL; i += 50)); do
		for ((k = i; k < i + 50; k++)); do
			reject_line 203.0.$(( k / 250 )).$(( k % 250 + 1 ))
		done >> "$LOG"
		[ $i -eq 1500 ] && mv "$LOG" "$LOG.1"	# rotation mid-stream
		sleep 0.05
	done
	touch "$T_DIR/writer-done"
) &
WRITER=$!
T_PIDS+=("$WRITER")

kills=0
while [ ! -e "$T_DIR/writer-done" ]; do
	sleep 0.$(( RANDOM % 5 + 3 ))
	kill -9 "$W_PID" 2>/dev/null && kills=$((kills + 1))
	wait "$W_PID" 2>/dev/null
	start_watch || t_done
done
wait "$WRITER"
check "killed at least twice while ingesting" test "$kills" -ge 2
check "every line recorded" wait_events $TOTAL 10
sleep 0.3
check_eq "no line twice" "$(sql "SELECT count(*) FROM events")" $TOTAL
check_eq "distinct lines" "$(sql "SELECT count(DISTINCT ip) FROM events")" $TOTAL
stop_watch
check_eq "integrity_check" "$(sql "PRAGMA integrity_check")" ok
t_done
