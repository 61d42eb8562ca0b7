#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_pardon.sh - `mxwall unblock ADDR --pardon DURATION` with the watcher:
# the entry goes, the source is not promoted again for DURATION whatever
# the log says (new rejections, a restart replaying the window, the weekly
# reset), `query` shows the pardon, and once it is over new rejections
# promote again (not as a repeat offender). A pardon given before any
# entry works the same, an escalation never covers a pardoned host, and a
# dry run honours pardons too. A plain unblock is no pardon, and a later
# promotion is no repeat offence.
. "$(dirname "$0")/lib.sh"
t_init

cat > "$CONF" <<EOC
log = $LOG
threshold = 3
window = 1h
require_seen = no
escalate = 2
report_dir = $T_DIR/reports
EOC
A=203.0.113.7

start_watch || t_done
rejects $A 3
check "promoted" wait_listed $A

# bad usage changes nothing
"$MXWALL" unblock $A --pardon 0 2> "$T_DIR/err"
check_eq "--pardon 0: exit 2" "$?" 2
check_eq "--pardon 0: named" "$(cat "$T_DIR/err")" "mxwall: unblock: --pardon 0: expected a duration such as 90s, 15m, 2h, 30d or 1w"
"$MXWALL" unblock $A --config "$CONF" 2> /dev/null
check_eq "--config without --pardon: exit 2" "$?" 2
check "still listed after bad usage" listed $A

out=$("$MXWALL" unblock $A --pardon 2h 2>&1)
check_eq "unblock --pardon: exit 0" "$?" 0
until_iso=$(TZ=UTC0 printf '%(%Y-%m-%dT%H:%M:%SZ)T' $((T_NOW + 7200)))
check_eq "says until when" "$out" "mxwall: unblock: $A pardoned until $until_iso"
check_not "entry removed at once" listed $A
check_eq "the watcher's record ends as pardoned" "$(sql "SELECT removal FROM entries WHERE cidr = '$A'")" pardoned
q=$("$MXWALL" query $A)
check_eq "query: not covered now (exit 1)" "$?" 1
check "query shows the pardon" grep -q "^  pardon    until $until_iso ($A, since " <<<"$q"

# the watcher notices the entry is gone (reconcile), then the log goes on
set_now $((T_NOW + 61))
saw_gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q "unblocked ${1:-$A} .*removed from the filter by another mxwall command" "$W_ERR" && return 0
		sleep 0.05
	done
	return 1
}
check "the watcher saw the entry go" saw_gone
rejects $A 5
check "new events recorded" wait_sql "SELECT count(*) FROM events WHERE ip = '$A'" 8
sleep 0.5
check_not "pardoned: not promoted again by new rejections" listed $A
check "the watcher says why" grep -q "not blocking $A: .* pardoned until $until_iso" "$W_ERR"

# a restart replays the window: still pardoned
stop_watch
start_watch || t_done
rejects $A 2
check "events after restart" wait_sql "SELECT count(*) FROM events WHERE ip = '$A'" 10
sleep 0.5
check_not "pardon survives a restart" listed $A

# the weekly reset clears entries, never pardons
stop_watch
check "weekly reset" "$MXWALL" report --reset --config "$CONF" --out /dev/null
check "pardon survives the reset" grep -q "^  pardon    until $until_iso" <<<"$("$MXWALL" query $A)"
start_watch || t_done
rejects $A 3
check "events after reset" wait_sql "SELECT count(*) FROM events WHERE ip = '$A'" 13
sleep 0.5
check_not "pardoned after the reset: not promoted" listed $A

# a pardon given before any entry; and escalation stays off a pardoned host
check "pre-emptive pardon (no entry: exit 0)" "$MXWALL" unblock 203.0.113.8 --pardon 1h
rejects 203.0.113.8 4
rejects 203.0.113.20 3
rejects 203.0.113.21 3
check "two other hosts promoted" wait_listed 203.0.113.21
check "and the first" wait_listed 203.0.113.20
sleep 0.5
check_not "pre-emptive pardon holds" listed 203.0.113.8
check_not "no escalation over pardoned hosts" listed 203.0.113.0/24
check "escalation refusal logged" grep -q "not escalating to 203.0.113.0/24: a pardon" "$W_ERR"

# when the pardon is over, new rejections promote again, with a fresh ttl
set_now $((T_NOW + 7200 + 120))
rejects $A 3
check "after the pardon: promoted again" wait_listed $A
check_eq "not as a repeat offender" "$(sql "SELECT level FROM entries WHERE cidr = '$A' ORDER BY id DESC LIMIT 1")" 0
check "query shows no pardon any more" grep -q "^  pardon    none" <<<"$("$MXWALL" query $A)"

# a plain unblock is no pardon, but no repeat offence either: the
# watcher's entry ends as unblocked, and a new promotion is a fresh one
rejects 203.0.113.40 3
check "promoted" wait_listed 203.0.113.40
check "plain unblock" "$MXWALL" unblock 203.0.113.40
check_eq "the watcher's record ends as unblocked" "$(sql "SELECT removal FROM entries WHERE cidr = '203.0.113.40'")" unblocked
set_now $((T_NOW + 61))
check "the watcher saw it go" saw_gone 203.0.113.40
rejects 203.0.113.40 3
check "promoted again after a plain unblock" wait_listed 203.0.113.40
check_eq "not as a repeat offender" "$(sql "SELECT level FROM entries WHERE cidr = '203.0.113.40' ORDER BY id DESC LIMIT 1")" 0
stop_watch

# a pardon lets no SYN through: a blocked netblock still holds the host
"$MXWALL" block 198.51.100.0/24 2> /dev/null
out=$("$MXWALL" unblock 198.51.100.9 --pardon 1h 2>&1)
check_eq "pardon inside a blocked netblock: exit 0" "$?" 0
check_eq "and a warning says it stays blocked" "$(head -n 1 <<<"$out")" \
	"mxwall: warning: unblock: 198.51.100.9 stays blocked by 198.51.100.0/24: a pardon only stops promotions (use allow to let it through)"
check "the netblock is still there" listed 198.51.100.0/24

# a dry run honours the pardons given so far
check "pardon for the dry run" "$MXWALL" unblock 203.0.113.30 --pardon 1h
{ for i in 1 2 3; do reject_line 203.0.113.30; reject_line 203.0.113.31; done; } > "$T_DIR/dry.log"
"$MXWALL" watch --config "$CONF" --dry-run - < "$T_DIR/dry.log" 2> "$T_DIR/dry.err"
check_eq "dry run exits 0 at the end of its input" "$?" 0
check "dry run: the other would be blocked" grep -q "dry-run: would block 203.0.113.31 " "$T_DIR/dry.err"
check_not "dry run: the pardoned one would not" grep -q "would block 203.0.113.30 " "$T_DIR/dry.err"
check "dry run: says it is pardoned" grep -q "not blocking 203.0.113.30: .*pardoned" "$T_DIR/dry.err"
t_done
