#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_rotation.sh - the watcher follows its log across rename-and-create,
# copytruncate, gzip of the rotated file, a log that appears later, a log
# deleted and re-created, and restarts between rotations (the rotation
# happening while it is down): the exact number of events is recorded,
# none twice, none lost. Also '-' (stdin).
. "$(dirname "$0")/lib.sh"
t_init

LATE=$T_DIR/late/mail.log
cat > "$CONF" <<EOC
log = $LOG
log = $LATE
threshold = 1000
require_seen = no
blocklist = $T_DIR/none
EOC
mkdir -p "$T_DIR/late"
n=0
# add K lines to FILE, counting them
add() { local i; for ((i = 0; i < $2; i++)); do reject_line 203.0.113.$(( (n + i) % 200 + 1 )); done >> "$1"; n=$((n + $2)); }

add "$LOG" 10
start_watch || t_done
check "initial lines" wait_events 10

# rename and create
add "$LOG" 5
mv "$LOG" "$LOG.1"
add "$LOG.1" 3			# the writer had not reopened yet
add "$LOG" 7
check "rename rotation: exact count" wait_events $n

# copytruncate
add "$LOG" 4
cp "$LOG" "$LOG.0" && : > "$LOG"
add "$LOG" 6
check "copytruncate: exact count" wait_events $n

# a log that appears later, then deleted and re-created
add "$LATE" 5
check "late log: exact count" wait_events $n
rm -f "$LATE"
sleep 0.3
add "$LATE" 2
check "re-created: exact count" wait_events $n

# restart between rotations: stop, more lines, rotate (gzip), new lines
add "$LOG" 3
check "before stop" wait_events $n
stop_watch
add "$LOG" 8			# written while we are down
rm -f "$LOG.1" "$LOG.0"
mv "$LOG" "$LOG.1" && gzip "$LOG.1"
add "$LOG" 4
start_watch || t_done
check "restart across rotation + gzip: exact count" wait_events $n
check "resumed in the gzip file" grep -q "resuming in $LOG.1.gz" "$W_ERR"

# restart across plain rename rotation and a second restart with no change
stop_watch
add "$LOG" 2
mv "$LOG" "$LOG.1"
add "$LOG" 3
start_watch || t_done
check "restart across rename: exact count" wait_events $n
stop_watch
start_watch || t_done
sleep 0.5
check_eq "restart without change reads nothing twice" "$(sql "SELECT count(*) FROM events")" "$n"
stop_watch

# stdin: every line once, exits at end of input
m=$(sql "SELECT count(*) FROM events")
for i in $(seq 1 25); do reject_line 198.51.100.$i; done | "$MXWALL" watch --config "$CONF" - 2> "$T_DIR/watch-stdin.err"
check_eq "stdin exits 0 at end of input" "$?" 0
check_eq "stdin: 25 events" "$(sql "SELECT count(*) FROM events")" $((m + 25))
check_eq "integrity" "$(sql "PRAGMA integrity_check")" ok
t_done
