#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_stdin_hup.sh - `watch -` across a SIGHUP in the middle of a line of
# standard input: the reload starts a new reader on the same stdin, and the
# line is not split (lineframe.h: a line is whole or dropped up to its
# newline). The half written before the signal begins with junk, the half
# after it is a whole rejection of an innocent address: as one line it is
# no event, split it would block the innocent address. With the reader
# process and with the reader inline (the test hook reader_inline).
. "$(dirname "$0")/lib.sh"
t_init

INNOCENT=198.51.100.88
cat > "$CONF" <<EOC
log = $LOG
threshold = 1
require_seen = no
EOC

# run LABEL - one watcher on a FIFO: a line, half a line, SIGHUP, the rest
run() {
	local label=$1 i err=$T_DIR/watch-$1.err

	rm -rf "$MXWALL_STATE_DIR" "$T_DIR/in"
	"$MXWALL" flush --all >/dev/null 2>&1
	mkfifo "$T_DIR/in"
	"$MXWALL" watch --config "$CONF" - < "$T_DIR/in" 2> "$err" &
	W_PID=$!
	T_PIDS+=("$W_PID")
	exec 7> "$T_DIR/in"
	for ((i = 0; i < 200; i++)); do grep -q following "$err" && break; sleep 0.05; done
	reject_line 203.0.113.1 >&7
	check "$label: the line before" wait_events 1
	printf 'junk written before the signal: ' >&7
	sleep 0.5
	kill -HUP "$W_PID"
	for ((i = 0; i < 200; i++)); do grep -q "reloading" "$err" && break; sleep 0.05; done
	sleep 1
	reject_line "$INNOCENT" >&7
	reject_line 203.0.113.2 >&7
	check "$label: the line after" wait_events 2
	exec 7>&-
	wait "$W_PID"
	check_eq "$label: exits 0 at the end of input" "$?" 0
	check "$label: reloaded" grep -q "reloading" "$err"
	check_eq "$label: no event of the line the signal fell in" \
		"$(sql "SELECT count(*) FROM events WHERE ip = '$INNOCENT'")" 0
	check_not "$label: the innocent address is not blocked" listed "$INNOCENT"
	check_eq "$label: events of the other lines" \
		"$(sql "SELECT group_concat(ip, ' ') FROM (SELECT ip FROM events ORDER BY id)")" \
		"203.0.113.1 203.0.113.2"
}

run reader
MXWALL_TEST_HOOKS=$MXWALL_TEST_HOOKS,reader_inline run inline
t_done
