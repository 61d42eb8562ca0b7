#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_diskfull.sh - the watcher on a full disk: the state directory is a
# small tmpfs, filled up while rejections keep coming. Expected: the error
# is logged about once per commit interval (no busy loop: the watcher's
# CPU time stays low), nothing is lost (once space returns every line is
# recorded, exactly once), and the saved read position never passes an
# event that is not recorded (a kill -9 while the disk is full, space
# freed, a restart: every line recorded exactly once).
#
# Runs in a private mount namespace: the tmpfs goes with it.
set -u
if [ -z "${MXW_DISKFULL_NS:-}" ]; then
	command -v unshare >/dev/null || { echo "FAIL - unshare missing"; echo "0 passed, 1 failed"; exit 1; }
	MXW_DISKFULL_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
t_init

SD=$MXWALL_STATE_DIR
mkdir -p "$SD"
mount -t tmpfs -o size=4m,mode=0700 mxwall-test "$SD" || t_fatal "mount tmpfs"
T_EXTRA_CLEANUP="umount -l $SD"

cat > "$CONF" <<EOC
log = $LOG
threshold = 100000
require_seen = no
blocklist = $T_DIR/none
commit_interval = 200
EOC

fill() { dd if=/dev/zero of="$SD/filler" bs=16k 2>/dev/null; sync; }
unfill() { rm -f "$SD/filler"; }
errors() { grep -c 'database: ' "$W_ERR"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# feed N FROM: N rejections from distinct addresses
feed()
{
	local i
	for ((i = $2; i < $2 + $1; i++)); do
		reject_line "10.77.$((i / 250)).$((i % 250 + 1))"
	done >> "$LOG"
}

start_watch || t_done
feed 100 0
check "100 events recorded" wait_events 100

# ---- the disk fills up while rejections come ----
fill
check "the tmpfs is full" test "$(df --output=avail "$SD" | tail -n 1)" -lt 64
e0=$(errors)
t0=$(cpu_ticks "$W_PID")
feed 3000 100
sleep 4
t1=$(cpu_ticks "$W_PID")
e1=$(errors)
check "the watcher still runs" kill -0 "$W_PID"
check "the full disk is reported" test "$e1" -gt "$e0"
# 4 s at one try per 200 ms: about 20 lines
check "about one error line per commit interval ($((e1 - e0)) in 4 s)" \
	test $((e1 - e0)) -le 30
# a busy loop burns ~400 ticks in 4 s
check "no busy loop ($((t1 - t0)) ticks of CPU in 4 s)" test $((t1 - t0)) -le 60
check_eq "nothing of the new lines was half recorded" \
	"$(sql "SELECT count(*) FROM events")" 100

# ---- space returns ----
unfill
check "every line recorded once space returns" wait_events 3100 10
sleep 0.5
check_eq "each exactly once" "$(sql "SELECT count(*), count(DISTINCT ip) FROM events")" "3100|3100"
check "the recovery is logged" grep -q "writable again" "$W_ERR"

# ---- full again, and the watcher dies before space returns ----
fill
feed 500 3100
sleep 2
kill -9 "$W_PID"
wait "$W_PID" 2>/dev/null
check_eq "nothing recorded while full" "$(sql "SELECT count(*) FROM events")" 3100
unfill
start_watch || t_done
check "after the restart every line is recorded" wait_events 3600 10
sleep 0.5
check_eq "exactly once: the saved position never passed a lost event" \
	"$(sql "SELECT count(*), count(DISTINCT ip) FROM events")" "3600|3600"
stop_watch
t_done
