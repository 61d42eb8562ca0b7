#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_query.sh - `mxwall query` (and `why`) after the watcher promoted
# from a log: the covering entries longest first, the recidive level, the
# events behind the promotion newest first with the log file and line each
# came from (also for a Postfix cleanup-stage rejection joined to smtpd's
# client by queue id, never to an address in the rejected header), -n,
# --json, and the exit status (0 covered, 1 not, 2 bad address).
. "$(dirname "$0")/lib.sh"
t_init

cat > "$CONF" <<EOC
log = $LOG
threshold = 3
window = 1h
require_seen = no
EOC

# lines 1-2: another source; 3-5: three rejections of 203.0.113.7
rejects 198.51.100.1 2
reject_line 203.0.113.7 relay $((T_NOW - 30)) >> "$LOG"
reject_line 203.0.113.7 helo $((T_NOW - 20)) >> "$LOG"
stamp=$(iso $((T_NOW - 10)))
{
	# line 5: smtpd names the client of queue id 4F1A2B3C4D ...
	echo "$stamp mx postfix/smtpd[4243]: 4F1A2B3C4D: client=unknown[203.0.113.7]:41000"
	# line 6: ... and cleanup refuses its header, which names another address
	echo "$stamp mx postfix/cleanup[4250]: 4F1A2B3C4D: reject: header Subject: hi from evil[192.0.2.99]; from=<a@b> to=<c@d> proto=ESMTP helo=<h> from unknown[192.0.2.99]; from=<a@b.example> to=<x@example.org> proto=ESMTP helo=<h.example>: 5.7.1 message content rejected"
} >> "$LOG"
start_watch || t_done
check "cleanup rejection joined: promoted" wait_listed 203.0.113.7
check_not "address in the rejected header not promoted" listed 192.0.2.99
check_eq "header address has no event" "$(sql "SELECT count(*) FROM events WHERE ip = '192.0.2.99'")" 0
"$MXWALL" block 203.0.113.0/24 --tag wide

out=$("$MXWALL" query 203.0.113.7 2>&1)
rc=$?
check_eq "query exit 0 when covered" "$rc" 0
check_eq "first line" "$(sed -n 1p <<<"$out")" "203.0.113.7: blocked"
check_eq "entries longest first" "$(awk '$1 == "entry" { printf "%s ", $2 }' <<<"$out")" "203.0.113.7 203.0.113.0/24 "
check "tags of the promotion" grep -q "entry     203.0.113.7  drop  dynamic  local  \[a\] \[bad-helo\] \[relay\] \[content\]" <<<"$out"
check "recidive level" grep -q "recidive  level 0 (promoted" <<<"$out"
check "no pardon" grep -q "pardon    none" <<<"$out"
check "wire: require_seen = no, no interface: no record" grep -q "wire      unknown (no record of SMTP handshakes here)" <<<"$out"
ev=$(awk '/^  events/ { on = 1; next } on { print $2, $3, $4 }' <<<"$out")
check_eq "events newest first with file and line" "$ev" "postfix content $LOG:6
postfix bad-helo $LOG:4
postfix relay $LOG:3"
check_eq "event time" "$(awk '/^  events/ { getline; print $1 }' <<<"$out")" "$(TZ=UTC0 printf '%(%Y-%m-%dT%H:%M:%SZ)T' $((T_NOW - 10)))"

out=$("$MXWALL" why -n 1 203.0.113.7)
check_eq "why is query; -n bounds the events" "$(awk '/^  events/ { on = 1; next } on' <<<"$out" | wc -l)" 1

# --json: the list keys of the deciding entry, plus the others
json=$("$MXWALL" query --json 203.0.113.7 198.51.100.1)
rc=$?
check_eq "json: exit 1 when one is not covered" "$rc" 1
check "json parses and holds the keys" python3 - "$LOG" <<PYEOF
import json, sys
a = json.loads('''$json''')
assert len(a) == 2, a
q = a[0]
for k in ("entry", "action", "packets", "bytes", "tags", "origin", "source", "added",
          "expires", "last_hit", "events", "entries", "seen", "recidive",
          "pardon", "address", "covered"):
    assert k in q, k
assert q["entry"] == "203.0.113.7" and q["covered"] is True, q
assert sorted(q["tags"]) == ["a", "bad-helo", "content", "relay"], q["tags"]
assert [e["entry"] for e in q["entries"]] == ["203.0.113.7", "203.0.113.0/24"]
assert q["recidive"] == 0 and q["pardon"] is None
ev = q["events"]
assert [(e["file"], e["line"]) for e in ev] == [(sys.argv[1], 6), (sys.argv[1], 4), (sys.argv[1], 3)], ev
assert ev[0]["tags"] == ["content"] and ev[0]["mta"] == "postfix"
b = a[1]
assert b["covered"] is False and b["entry"] is None and b["recidive"] is None
assert len(b["events"]) == 2, b   # in the last window, not promoted
PYEOF

"$MXWALL" query 198.51.100.1 > /dev/null 2>&1
check_eq "not covered: exit 1" "$?" 1
"$MXWALL" query 203.0.113.7 1.2.3 > /dev/null 2> "$T_DIR/err"
check_eq "bad address: exit 2" "$?" 2
check_eq "bad address named" "$(cat "$T_DIR/err")" "mxwall: query: '1.2.3': not an IPv4 address (write all four octets in decimal)"
"$MXWALL" query 203.0.113.0/24 > /dev/null 2> "$T_DIR/err"
check_eq "netblock: exit 2" "$?" 2

# a restart goes on counting lines where it stopped
stop_watch
rejects 198.51.100.2 1
start_watch || t_done
check "event after restart" wait_events 6
check_eq "its line" "$(sql "SELECT e.line FROM events e WHERE e.ip = '198.51.100.2'")" 7
check_eq "its file" "$(sql "SELECT l.path FROM events e JOIN logfiles l ON l.id = e.file WHERE e.ip = '198.51.100.2'")" "$LOG"
stop_watch
t_done
