#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_flood_live.sh - the watcher stays alive under a log flood: while
# lines arrive faster than it can read them (250,000 a second for 7 s), it
# still commits its read position and events as it goes, promotes a source
# that crosses the threshold within a few seconds, and stops within a
# second on SIGTERM, committing what it read (every event it committed is
# a line of the log, and it resumes from there). A follower that reads a
# growing file to its end before returning starves all of this.
. "$(dirname "$0")/../watch/lib.sh"
t_init
export MXWALL_TEST_HOOKS=${MXWALL_TEST_HOOKS:+$MXWALL_TEST_HOOKS,}capacity=4096
command -v python3 >/dev/null || t_fatal "python3 missing"

cat > "$CONF" <<EOC
log = $LOG
threshold = 3
window = 1h
require_seen = no
blocklist = $T_DIR/none
EOC
# (lines from 10.0.0.1 on: one each, never over the threshold)

start_watch || t_done
python3 - "$LOG" 250000 7 "$(iso "$T_NOW")" "$T_DIR/flood-on" <<'EOP' &
import os, sys, time
path, rate, secs, stamp, on = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
slice_n = rate // 20
# the flood: relay rejections, each source once (under the threshold);
# then one source three times
RELAY = "554 5.7.1 <x@y>: Relay access denied"
def line(i, ip=None):
    what = RELAY
    ip = ip or "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255 or 1)
    return ("%s mx postfix/smtpd[42]: NOQUEUE: reject: RCPT from unknown[%s]: "
            "%s; from=<a@b> to=<x@y>\n" % (stamp, ip, what))
pool = [b"".join(line(s * slice_n + k + 1).encode() for k in range(slice_n))
        for s in range(secs * 20)]
fd = os.open(path, os.O_WRONLY | os.O_APPEND)
open(on, "w").close()		# the lines are ready: the flood starts
t0 = time.monotonic()
for s in range(secs * 20):
    chunk = pool[s % len(pool)]
    if s == 20:	# after one second: a source over the threshold
        chunk += (line(0, "198.18.7.7") * 3).encode()
    os.write(fd, chunk)
    d = t0 + (s + 1) / 20 - time.monotonic()
    if d > 0:
        time.sleep(d)
EOP
GEN=$!
T_PIDS+=("$GEN")
for ((i = 0; i < 300; i++)); do [ -e "$T_DIR/flood-on" ] && break; sleep 0.05; done
check "the flood started" test -e "$T_DIR/flood-on"
pos() { sqlite3 -cmd ".timeout 5000" "$DB" "SELECT offset FROM positions"; }
sleep 1.5
p1=$(pos); p1=${p1:-0}
sleep 1.5
p2=$(pos); p2=${p2:-0}
check "read position committed during the flood ($p1 -> $p2)" test "$p2" -gt "$p1"
check "promotion during the flood" wait_listed 198.18.7.7 2
kill -0 "$GEN" 2>/dev/null
check_eq "the flood is still on" "$?" 0
t0=$(date +%s%N)
kill -TERM "$W_PID"
wait "$W_PID"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "exit 0 on SIGTERM during the flood" "$rc" 0
check "stopped within 1.5 s ($ms ms)" test "$ms" -lt 1500
wait "$GEN"
ev=$(sql "SELECT count(*) FROM events")
p=$(pos)
check_eq "events committed = lines before the committed position" "$ev" "$(head -c "$p" "$LOG" | wc -l)"
start_watch || t_done
lines=$(wc -l < "$LOG")
check "resumes and reads the rest" wait_events "$lines" 60
stop_watch
check_eq "every line once" "$(sql "SELECT count(*) FROM events")" "$lines"
t_done
