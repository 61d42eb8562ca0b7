#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_journal.sh - `log = journal`: the watcher reads real journal files,
# written by systemd-journal-remote (unpacked into build/pkgs) from the
# Journal Export Format with the fields journald sets, in a directory of
# the test's own (journal_directory). Asserted: entries read live as the
# file grows; a local user's `logger -t postfix/smtpd` (uid 1000, _COMM
# logger, a session scope) is ignored and counted, also when it names an
# address; after a restart the watcher resumes exactly after the saved
# cursor (none lost, none twice), across a rotation (file renamed, a new
# one started) while running and a vacuum (the file holding the cursor
# deleted) while stopped; log_fallback = journal when the log file does
# not exist; the loud warnings (log missing, log not grown for an hour, no
# interface attached) and the refusal "the filter is not attached".
. "$(dirname "$0")/lib.sh"
t_init
command -v python3 >/dev/null || t_fatal "python3 missing"
JR=$("$T_ROOT/selftests/lib/pkgs.sh" systemd-journal-remote libsystemd-shared) ||
	t_fatal "cannot unpack systemd-journal-remote (selftests/lib/pkgs.sh)"
JREMOTE=$JR/lib/systemd/systemd-journal-remote
[ -x "$JREMOTE" ] || t_fatal "no $JREMOTE"
EXPORT=$T_ROOT/selftests/lib/journal_export.py
J=$T_DIR/journal
mkdir -p "$J"

# jr FILE - systemd-journal-remote writing stdin's export entries to $J/FILE
jr() { (. "$JR/env.sh" && exec "$JREMOTE" -o "$J/$1" -) 2>>"$T_DIR/jr.err"; }
# put FILE [export options] - stdin's log lines into $J/FILE (one run)
put() { local f=$1; shift; python3 "$EXPORT" "$@" | jr "$f"; }
# ips N FROM - N rejections from 203.0.113.FROM.. at the fake now
ips() { local i; for ((i = 0; i < $1; i++)); do reject_line "203.0.113.$(( ($2 + i) % 200 + 1 ))"; done; }
# forged N IP - what a local user's logger -t postfix/smtpd would leave
forged() { local i; for ((i = 0; i < $1; i++)); do reject_line "$2"; done |
	python3 "$EXPORT" --uid 1000 --gid 1000 --comm logger --exe /usr/bin/logger \
		--unit session-2.scope; }

cat > "$CONF" <<EOC
log = journal
journal_directory = $J
journal_match = _SYSTEMD_UNIT=postfix@-.service
journal_match = SYSLOG_IDENTIFIER=postfix/smtpd
threshold = 1000
require_seen = no
blocklist = $T_DIR/none
EOC

# --- entries written before the first start: read from the window's start
ips 10 0 | put a.journal
check "journal-remote wrote a journal file" test -s "$J/a.journal"
start_watch || t_done
check "says it follows the journal" grep -q "following the journal in $J" "$W_ERR"
check "first start: every entry" wait_events 10

# --- live: journal-remote keeps writing into a growing file
mkfifo "$T_DIR/live.fifo"
jr live.journal < "$T_DIR/live.fifo" &
T_PIDS+=($!)
exec 7>"$T_DIR/live.fifo"
set_now $((T_NOW + 10))
ips 5 10 | python3 "$EXPORT" >&7
check "live: entries as the file grows" wait_events 15

# --- forged by a local user: ignored, counted, never an event
forged 4 198.51.100.9 >&7
set_now $((T_NOW + 10))
ips 2 15 | python3 "$EXPORT" >&7
check "after forged entries: only the MTA's" wait_events 17
check_eq "forged address has no event" "$(sql "SELECT count(*) FROM events WHERE ip = '198.51.100.9'")" 0
check_eq "events read from the journal say so (for query), no line" \
	"$(sql "SELECT DISTINCT l.path || ':' || ifnull(e.line, '-') FROM events e JOIN logfiles l ON l.id = e.file")" "journal:-"
check "forged entries logged as ignored" grep -q "not written by the MTA (_UID=1000 is not a system account)" "$W_ERR"
# the same from a system account, but logger in a user's scope: no
forged_root() { reject_line 198.51.100.10 | python3 "$EXPORT" --uid 0 --comm logger \
	--exe /usr/bin/logger --unit postfix@-.service; }
forged_root >&7
ips 1 17 | python3 "$EXPORT" >&7
check "root's logger in the unit: ignored" wait_events 18
check_eq "root's logger: no event" "$(sql "SELECT count(*) FROM events WHERE ip = '198.51.100.10'")" 0

# --- restart: resume exactly after the saved cursor
stop_watch
check "stop line counts the ignored entries" grep -q "5 journal entries not from the MTA" "$W_ERR"
check_eq "cursor stored in the state database" "$(sql "SELECT count(*) FROM cursors WHERE source = 'journal:$J' AND cursor LIKE 's=%'")" 1
set_now $((T_NOW + 20))
ips 6 20 | python3 "$EXPORT" >&7	# written while the watcher is down
start_watch || t_done
check "restart: the entries written while down" wait_events 24
sleep 1.5
check_eq "restart: none read twice" "$(sql "SELECT count(*) FROM events")" 24

# --- rotation while running: the file is archived, a new one started
exec 7>&-
wait_for_exit() { local i; for ((i = 0; i < 100; i++)); do pgrep -f "$J/live.journal" >/dev/null || return 0; sleep 0.05; done; }
wait_for_exit
mv "$J/live.journal" "$J/live@0000000000000001-0000000000000001.journal~"
set_now $((T_NOW + 30))
ips 5 30 | put live.journal
check "rotation: the new file's entries" wait_events 29
sleep 1.5
check_eq "rotation: none twice" "$(sql "SELECT count(*) FROM events")" 29

# --- vacuum while stopped: the file holding the cursor is deleted
stop_watch
set_now $((T_NOW + 40))
ips 4 40 | put c.journal
rm -f "$J/a.journal" "$J"/live@*.journal~ "$J/live.journal"
start_watch || t_done
check "vacuum: resumes after where the cursor was" wait_events 33
sleep 1.5
check_eq "vacuum: exact count" "$(sql "SELECT count(*) FROM events")" 33
stop_watch

# --- log_fallback: the configured file is missing, the journal is read
cat > "$CONF" <<EOC
log = $T_DIR/no-such/mail.log
log_fallback = journal
journal_directory = $J
journal_match = _SYSTEMD_UNIT=postfix@-.service
threshold = 3
require_seen = yes
blocklist = $T_DIR/none
EOC
start_watch || t_done
check "fallback: says so" grep -q "WARNING: log file $T_DIR/no-such/mail.log does not exist: reading the journal instead" "$W_ERR"
check "fallback: follows the journal" grep -q "following the journal" "$W_ERR"
check "no interface: says so" grep -q "WARNING: the filter is not attached to any interface" "$W_ERR"
set_now $((T_NOW + 50))
for i in 1 2 3; do reject_line 192.0.2.44; done | put c.journal
check "fallback: the journal's entries count" wait_events 36
check "refusal: no handshake (require_seen)" bash -c "for i in \$(seq 50); do grep -q 'not blocking 192.0.2.44: 3 rejections, but the kernel completed no SMTP handshake' '$W_ERR' && exit 0; sleep 0.1; done; exit 1"
check_not "not blocked without the wire" listed 192.0.2.44
stop_watch

# --- a missing log file without fallback, and a log that stopped growing
cat > "$CONF" <<EOC
log = $T_DIR/gone.log
log = $LOG
require_seen = no
blocklist = $T_DIR/none
EOC
start_watch || t_done
check "missing log: loud warning" grep -q "WARNING: log file $T_DIR/gone.log does not exist" "$W_ERR"
set_now $((T_NOW + 3700))
check "stale log: warning after an hour" bash -c "for i in \$(seq 50); do grep -q 'WARNING: log file $LOG has not grown for an hour' '$W_ERR' && exit 0; sleep 0.1; done; exit 1"
stop_watch

# --- bad journal_match: FILE:LINE
printf 'log = journal\njournal_match = postfix\n' > "$T_DIR/bad.conf"
out=$("$MXWALL" watch --config "$T_DIR/bad.conf" 2>&1)
check "bad journal_match: FILE:LINE" grep -q "bad.conf:2: journal_match: 'postfix' is not FIELD=VALUE" <<<"$out"
t_done
