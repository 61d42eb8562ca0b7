#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_longline.sh - one line-framing rule in every reader (lineframe.h): a
# line longer than 64 KiB is dropped whole, up to its newline. Its tail is
# never read as a line of its own, so a rejection of an innocent address
# written inside such a line yields no event: not in `scan`, not in `watch`
# following a file, not in `watch -` reading stdin. The line before and
# the line after it still count.
. "$(dirname "$0")/lib.sh"
t_init

INNOCENT=198.51.100.77
cat > "$CONF" <<EOC
log = $LOG
threshold = 1
require_seen = no
EOC

# long_line FILE - a rejection of 203.0.113.1, then a line of 256 KiB of
# junk whose tail is a whole rejection line of $INNOCENT (the junk ends at
# file offset 256 KiB, where a reader that hands over what it holds every
# 64 KiB read would cut it), then a rejection of 203.0.113.2
long_line() {
	local first
	first=$(reject_line 203.0.113.1)
	{
		echo "$first"
		head -c $((262144 - ${#first} - 1)) /dev/zero | tr '\0' x
		reject_line "$INNOCENT"
		reject_line 203.0.113.2
	} > "$1"
}

long_line "$T_DIR/long.log"
check "the long line is over 128 KiB" test "$(sed -n 2p "$T_DIR/long.log" | wc -c)" -gt 131072
check "its tail starts at 256 KiB" test "$(head -c 262144 "$T_DIR/long.log" | tail -c 1)" = x

# scan: the lines around it are events, nothing of it is
out=$("$MXWALL" scan "$T_DIR/long.log" 2>/dev/null | cut -f2 | tr '\n' ' ')
check_eq "scan: events of the lines around the long line only" "$out" "203.0.113.1 203.0.113.2 "
out=$("$MXWALL" scan - < "$T_DIR/long.log" 2>/dev/null | cut -f2 | tr '\n' ' ')
check_eq "scan -: the same from stdin" "$out" "203.0.113.1 203.0.113.2 "
stats=$("$MXWALL" scan --stats "$T_DIR/long.log" 2>&1 >/dev/null)
check "scan --stats counts the long line as garbage" grep -q "garbage 1\b\|1 garbage" <<<"$stats"

# watch following a file
cp "$T_DIR/long.log" "$LOG"
start_watch || t_done
check "watch (file): the lines around it are events" wait_events 2
sleep 0.3
check_eq "watch (file): no event of the long line's tail" \
	"$(sql "SELECT count(*) FROM events WHERE ip = '$INNOCENT'")" 0
check_not "watch (file): the innocent address is not blocked" listed "$INNOCENT"
check "watch (file): the next line still promotes" wait_listed 203.0.113.2
stop_watch

# watch - reading stdin (a fresh state)
"$MXWALL" flush --all >/dev/null 2>&1
rm -rf "$MXWALL_STATE_DIR"
: > "$LOG"
"$MXWALL" watch --config "$CONF" - < "$T_DIR/long.log" 2> "$T_DIR/watch-stdin.err"
check_eq "watch - (stdin): exits 0 at the end of input" "$?" 0
check_eq "watch - (stdin): the lines around it are events" \
	"$(sql "SELECT group_concat(ip, ' ') FROM (SELECT ip FROM events ORDER BY id)")" "203.0.113.1 203.0.113.2"
check_eq "watch - (stdin): no event of the long line's tail" \
	"$(sql "SELECT count(*) FROM events WHERE ip = '$INNOCENT'")" 0
check_not "watch - (stdin): the innocent address is not blocked" listed "$INNOCENT"
check "watch - (stdin): counted three lines" grep -q "stopped: 3 lines, 2 events" "$T_DIR/watch-stdin.err"

t_done
