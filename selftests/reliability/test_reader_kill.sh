#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_reader_kill.sh - kill -9 of the log reader, 100 times, while a flood
# is written into the log: the watcher restarts it each time from the last
# position it received, so that every line is recorded exactly once (per
# address, the events in the database are the lines in the log) and the
# promotions are those of a run without kills (every address with at least
# `threshold` lines, and no other); the stop line counts each line once.
set -u
. "$(dirname "$0")/../watch/lib.sh"
t_init
export MXWALL_TEST_HOOKS=${MXWALL_TEST_HOOKS:+$MXWALL_TEST_HOOKS,}capacity=8192
KILLS=${KILLS:-100}

cat > "$CONF" <<EOC
log = $LOG
threshold = 4
require_seen = no
max_promotions_per_hour = 100000
blocklist = $T_DIR/none
commit_interval = 50
EOC

reader_pid() { sed -n 's/.*log reader started (pid \([0-9]*\)).*/\1/p' "$W_ERR" | tail -n 1; }

start_watch || t_done

# the flood: 200 addresses, address k gets (k % 7) + 1 lines per round,
# rounds until the killing is over
flood() {
	local round=0 k ip
	while [ ! -e "$T_DIR/stop" ]; do
		for ((k = 0; k < 200; k++)); do
			ip=198.51.100.$k
			[ "$k" -ge 100 ] && ip=2001:db8::$((k - 99))
			rejects "$ip" $(((k + round) % 7 + 1))
		done
		round=$((round + 1))
		[ "$round" -ge 2 ] && sleep 0.05
	done
}
flood &
FP=$!
T_PIDS+=("$FP")

killed=0
prev=
for ((i = 0; i < KILLS; i++)); do
	for ((j = 0; j < 100; j++)); do
		p=$(reader_pid)
		[ -n "$p" ] && [ "$p" != "$prev" ] && [ -e "/proc/$p" ] && break
		sleep 0.02
	done
	[ -n "$p" ] && [ "$p" != "$prev" ] || break
	sleep 0.0$((RANDOM % 10))
	kill -9 "$p" 2>/dev/null && killed=$((killed + 1))
	prev=$p
done
touch "$T_DIR/stop"
wait "$FP"
check_eq "the reader was killed $KILLS times" "$killed" "$KILLS"
check_eq "each kill was logged as such" \
	"$(grep -c 'log reader (pid [0-9]*) was killed by signal 9' "$W_ERR")" "$KILLS"

lines=$(wc -l < "$LOG")
check "every line is recorded ($lines)" wait_events "$lines" 60
sleep 0.5
check_eq "and none twice" "$(sql 'SELECT count(*) FROM events')" "$lines"
# per address: the database's count is the log's count
awk '{ sub(/.*RCPT from unknown\[/, ""); sub(/\].*/, ""); print }' "$LOG" |
	sort | uniq -c | awk '{ print $2 "|" $1 }' | sort > "$T_DIR/want"
sql "SELECT ip, count(*) FROM events GROUP BY ip" | sort > "$T_DIR/got"
check "per address, the events are the lines" cmp -s "$T_DIR/want" "$T_DIR/got"
[ -n "${DEBUG:-}" ] && diff "$T_DIR/want" "$T_DIR/got" | head -5
# promotions as without kills: every address with >= 4 lines, no other
awk -F'|' '$2 >= 4 { print $1 }' "$T_DIR/want" | sort > "$T_DIR/want.promo"
for ((i = 0; i < 100; i++)); do
	"$MXWALL" list 2>/dev/null | awk 'NR > 1 { print $1 }' | sort > "$T_DIR/got.promo"
	cmp -s "$T_DIR/want.promo" "$T_DIR/got.promo" && break
	sleep 0.1
done
[ -n "${DEBUG:-}" ] && diff "$T_DIR/want.promo" "$T_DIR/got.promo" | head -5
check "promoted: the addresses with at least 4 lines, and only those ($(wc -l < "$T_DIR/want.promo"))" \
	cmp -s "$T_DIR/want.promo" "$T_DIR/got.promo"
check_eq "the database's promotions are those addresses" \
	"$(sql "SELECT count(DISTINCT cidr) FROM entries")" "$(wc -l < "$T_DIR/want.promo")"
p=$(reader_pid)
check "a reader runs after it all" test -e "/proc/$p/status"
stop_watch
check "the stop line counts every line once" grep -q "stopped: $lines lines, $lines events" "$W_ERR"
t_done
