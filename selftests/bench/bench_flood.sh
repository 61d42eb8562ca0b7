#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench_flood.sh - the watcher under a log flood (`make bench`, not `make
# check`): Postfix rejection lines appended at RATE lines per second (default
# 100,000) for SECS seconds (default 60), from a pool of 200,000 sources of
# which many cross the threshold, so the promotion cap is hit at once.
# Every second: the log size against the watcher's committed read position
# (the backlog), its RSS, and the entries made. Prints the table and a
# summary: lines/s offered and read, the backlog at the end, peak RSS,
# promotions against the cap, and whether it kept up (at most 2 s of input
# behind at the end, no backlog growing through the second half, caught up
# after). A benchmark measures: missing the rate is reported, not failed.
# It exits non-zero only when something broke: the watcher died or exited
# non-zero, events lost or duplicated (the events table against the lines
# up to the committed position), a failed integrity check, or more entries
# than max_promotions_per_hour.
#
# usage: selftests/bench/bench_flood.sh [RATE [SECS]]   (root: BPF maps)
set -u
cd "$(dirname "$0")/../.." || exit 2
RATE=${1:-100000}
SECS=${2:-60}
CAP=500

[ "$(id -u)" = 0 ] || { echo "bench_flood: needs root (BPF maps)"; exit 1; }
[ -x build/mxwall ] || { echo "bench_flood: build/mxwall not built"; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench_flood: sqlite3 missing"; exit 1; }

D=$(mktemp -d /tmp/mxwall-flood.XXXXXX)
cp build/mxwall "$D/mxwall"
export MXWALL_PIN_DIR=/sys/fs/bpf/mxwall-test-flood-$$
export MXWALL_STATE_DIR=$D/state
export MXWALL_TEST_HOOKS=${MXWALL_TEST_HOOKS:+$MXWALL_TEST_HOOKS,}capacity=65536
WPID=
GPID=
cleanup()
{
	[ -n "$GPID" ] && kill "$GPID" 2>/dev/null
	[ -n "$WPID" ] && kill -9 "$WPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$MXWALL_PIN_DIR" "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

LOG=$D/mail.log
: > "$LOG"
cat > "$D/mxwall.conf" <<EOC
log = $LOG
threshold = 5
window = 1h
require_seen = no
max_promotions_per_hour = $CAP
blocklist = $D/none
EOC
DB=$MXWALL_STATE_DIR/mxwall.db

"$D/mxwall" watch --config "$D/mxwall.conf" 2>"$D/watch.err" &
WPID=$!
for i in $(seq 100); do grep -q following "$D/watch.err" && break; sleep 0.05; done
grep -q following "$D/watch.err" || { echo "bench_flood: watcher did not start"; cat "$D/watch.err"; exit 1; }

# the writer: RATE lines a second in 20 slices, for SECS seconds
python3 - "$LOG" "$RATE" "$SECS" > "$D/gen.out" <<'EOP' &
import os, random, sys, time
path, rate, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(7)
pool = ["10.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255))
        for _ in range(200000)]
what = ["554 5.7.1 <x@example.org>: Relay access denied",
        "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org",
        "504 5.5.2 <bad>: Helo command rejected: need fully-qualified hostname",
        "550 5.1.1 <u@example.org>: Recipient address rejected: User unknown in local recipient table"]
stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())
# a pool of ready lines (one stamp: the run is far shorter than the window)
slice_n = rate // 20
lines = []
for _ in range(max(slice_n * 8, 100000)):
    ip = pool[rnd.randrange(len(pool))]
    w = what[rnd.randrange(4)].replace("{ip}", ip)
    lines.append(("%s mx postfix/smtpd[4242]: NOQUEUE: reject: RCPT from unknown[%s]: %s; "
                  "from=<a@b.example> to=<x@example.org> proto=ESMTP helo=<h.example>\n"
                  % (stamp, ip, w)).encode())
slices = [b"".join(lines[i:i + slice_n]) for i in range(0, len(lines) - slice_n + 1, slice_n)]
fd = os.open(path, os.O_WRONLY | os.O_APPEND)
t0 = time.monotonic()
total = 0
for s in range(secs * 20):
    os.write(fd, slices[s % len(slices)])
    total += slice_n
    delay = t0 + (s + 1) / 20 - time.monotonic()
    if delay > 0:
        time.sleep(delay)
el = time.monotonic() - t0
print("written %d lines in %.1f s: %.0f lines/s" % (total, el, total / el))
EOP
GPID=$!

pos() { sqlite3 -cmd ".timeout 2000" "$DB" "SELECT offset FROM positions" 2>/dev/null | head -n 1; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$WPID/status" 2>/dev/null; }
entries() { sqlite3 -cmd ".timeout 2000" "$DB" "SELECT count(*) FROM entries" 2>/dev/null; }

printf '%5s %12s %12s %10s %9s %8s\n' secs log_MiB read_MiB backlog_MiB rss_MiB entries
t=0
declare -a LAG RSS
start=$(date +%s.%N)
while kill -0 "$GPID" 2>/dev/null; do
	sleep 1
	t=$((t + 1))
	size=$(stat -c %s "$LOG")
	p=$(pos); p=${p:-0}
	r=$(rss); r=${r:-0}
	LAG[$t]=$((size - p))
	RSS[$t]=$r
	printf '%5d %12.1f %12.1f %10.1f %9.1f %8s\n' $t \
		"$(echo "$size / 1048576" | bc -l)" "$(echo "$p / 1048576" | bc -l)" \
		"$(echo "${LAG[$t]} / 1048576" | bc -l)" "$(echo "$r / 1024" | bc -l)" "$(entries)"
done
wait "$GPID"
GPID=
flood_t=$t	# samples; a sample takes a little more than a second
# the writer's own duration of the flood (its last line)
elapsed=$(sed -n 's/^written [0-9]* lines in \([0-9.]*\) s.*/\1/p' "$D/gen.out")
[ -n "$elapsed" ] || elapsed=$(echo "$(date +%s.%N) - $start" | bc -l)
cat "$D/gen.out"
size=$(stat -c %s "$LOG")
lines=$(wc -l < "$LOG")
catch=0
while [ "$(pos)" != "$size" ] && [ $catch -lt 60 ] && kill -0 "$WPID" 2>/dev/null; do
	sleep 1; catch=$((catch + 1))
done
p_end=$(pos); p_end=${p_end:-0}
caught=$([ "$p_end" = "$size" ] && echo yes || echo no)
rss_end=$(rss)
n_entries=$(entries)
alive=yes
kill -0 "$WPID" 2>/dev/null || alive=no
kill -TERM "$WPID" 2>/dev/null; wait "$WPID"; wrc=$?; WPID=
# the lines up to the committed position must be there, each once
p_end=$(pos); p_end=${p_end:-0}
want=$(head -c "$p_end" "$LOG" | wc -l)
events=$(sqlite3 "$DB" "SELECT count(*) FROM events")
refused=$(sqlite3 "$DB" "SELECT count(*) FROM actions WHERE action = 'refused'")
integ=$(sqlite3 "$DB" "PRAGMA integrity_check")
half=$((flood_t / 2))
max1=0; max2=0; rmax=0
for ((i = 1; i <= flood_t; i++)); do
	[ $i -le $half ] && [ "${LAG[$i]}" -gt $max1 ] && max1=${LAG[$i]}
	[ $i -gt $half ] && [ "${LAG[$i]}" -gt $max2 ] && max2=${LAG[$i]}
	[ "${RSS[$i]}" -gt $rmax ] && rmax=${RSS[$i]}
done
[ "${rss_end:-0}" -gt $rmax ] && rmax=$rss_end
lag_end=${LAG[$flood_t]:-0}
# lines per second, from bytes and the mean line length
per_line=$(echo "$size / $lines" | bc -l)
offered=$(echo "$lines / $elapsed" | bc)
read_rate=$(echo "($size - $lag_end) / $per_line / $elapsed" | bc)
lag_lines=$(echo "$lag_end / $per_line" | bc)
# kept up: at the end of the flood at most two seconds of input behind,
# and no backlog growing through the second half
kept=no
[ "$lag_lines" -le $((RATE * 2)) ] && [ "$max2" -le $((max1 * 2 + 8 * 1048576)) ] &&
	[ "$caught" = yes ] && kept=yes
echo "summary: offered $offered lines/s ($lines lines, $((size / 1048576)) MiB in $(printf %.1f "$elapsed") s), read $read_rate lines/s during the flood"
echo "summary: backlog at the end of the flood $lag_lines lines ($((lag_end / 1048576)) MiB); max first half $((max1 / 1048576)) MiB, second half $((max2 / 1048576)) MiB; caught up: $caught, ${catch}s after the flood"
echo "summary: RSS at 10s $(( ${RSS[10]:-0} / 1024 )) MiB, peak $((rmax / 1024)) MiB, at the end $(( ${rss_end:-0} / 1024 )) MiB"
echo "summary: $n_entries entries made (cap $CAP per hour), $refused refusals logged, $(grep -c "cap of" "$D/watch.err") cap warnings"
echo "summary: $events events recorded for $want lines up to the committed position; database $integ; watcher exit $wrc"
echo "summary: $(grep -c "flood: tracking" "$D/watch.err") 'forgot sources' warnings; at the stop: $(sed -n 's/^mxwall: stopped: //p' "$D/watch.err")"
echo "summary: kept up with $RATE lines/s: $kept"
# broken, as opposed to slow: these fail the run
fail=0
[ "$alive" = yes ] || { echo "FAIL - the watcher died"; tail -n 5 "$D/watch.err"; fail=1; }
[ "$wrc" -eq 0 ] || { echo "FAIL - watcher exit $wrc"; fail=1; }
[ "$n_entries" -le $CAP ] || { echo "FAIL - $n_entries entries: the promotion cap ($CAP) did not hold"; fail=1; }
[ "$events" -eq "$want" ] || { echo "FAIL - $events events for $want lines: lost or duplicated"; fail=1; }
[ "$integ" = ok ] || { echo "FAIL - integrity check: $integ"; fail=1; }
exit $fail
