#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_days.sh - the running watcher records the day's first snapshot of the
# global counters ($state_dir/report-days), from which `mxwall report`
# prints its per-day drops: one line per day it ran, none twice a day.
. "$(dirname "$0")/lib.sh"
t_init

cat > "$CONF" <<EOC
log = $LOG
threshold = 2
require_seen = no
blocklist = $T_DIR/none
EOC
DAYS=$MXWALL_STATE_DIR/report-days
# noon UTC, so that a local midnight in any zone is not crossed by a minute
set_now 1795003200
start_watch || t_done
rejects 203.0.113.10 2
check "promoted" wait_listed 203.0.113.10

wait_lines() {	# FILE N: wait up to 5 s for N lines
	local i
	for ((i = 0; i < 50; i++)); do
		[ -e "$1" ] && [ "$(wc -l < "$1")" -eq "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
check "first day's snapshot" wait_lines "$DAYS" 1
check_eq "stamped with the watcher's clock" "$(awk 'NR == 1 { print $1 }' "$DAYS")" 1795003200

set_now $((T_NOW + 120))
sleep 1.5
check_eq "no second snapshot the same day" "$(wc -l < "$DAYS")" 1

set_now $((T_NOW + 86400))
check "next day's snapshot" wait_lines "$DAYS" 2
check_eq "second stamp" "$(awk 'NR == 2 { print $1 }' "$DAYS")" $((1795003200 + 120 + 86400))

stop_watch
t_done
