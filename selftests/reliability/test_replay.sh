#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_replay.sh - a restart must not change what the watcher decides.
# When an entry ends (ttl expiry, weekly reset), the running watcher starts
# counting that source from zero; a watcher restarted afterwards replays
# the events of the last window from its database and must do the same:
# the events that led to the ended entry do not promote the source again.
# New rejections after the end still count (and make a repeat offender).
. "$(dirname "$0")/../watch/lib.sh"
t_init
export MXWALL_TEST_HOOKS=${MXWALL_TEST_HOOKS:+$MXWALL_TEST_HOOKS,}capacity=4096

cat > "$CONF" <<EOC
log = $LOG
threshold = 3
window = 1h
ttl = 10m
require_seen = no
blocklist = $T_DIR/none
commit_interval = 50
EOC

start_watch || t_done
rejects 198.18.0.1 3
check "promoted" wait_listed 198.18.0.1
set_now $((T_NOW + 660))
rejects 198.18.0.9 1		# wakes the loop at the new time
check "expired after its ttl" wait_unlisted 198.18.0.1
kill -9 "$W_PID"; wait "$W_PID" 2>/dev/null
start_watch || t_done
sleep 0.5
check_not "restart after an expiry: not promoted again from old events" listed 198.18.0.1
stop_watch
start_watch || t_done
sleep 0.3
check_not "clean restart: not promoted again either" listed 198.18.0.1
rejects 198.18.0.1 3
check "new rejections after the expiry count again" wait_listed 198.18.0.1
check "as a repeat offender" grep -q "198.18.0.1.*repeat offender" "$W_ERR"

# the weekly reset (another process) ends the entry
rejects 198.18.0.2 3
check "second source promoted" wait_listed 198.18.0.2
stop_watch
sed "\$a report_dir = $T_DIR/reports" "$CONF" > "$T_DIR/reset.conf"
check "weekly reset" "$MXWALL" report --reset --config "$T_DIR/reset.conf" --out /dev/null
check_not "reset removed it" listed 198.18.0.2
start_watch || t_done
sleep 0.5
check_not "restart after the reset: not promoted again from old events" listed 198.18.0.2
stop_watch
t_done
