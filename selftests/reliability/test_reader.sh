#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_reader.sh - the log reader of `mxwall watch` holds nothing
# (reader.h, mxwall(8) SECURITY):
#  - the reader's /proc/PID/status: no id is 0, CapEff/CapPrm/CapBnd (and
#    CapInh/CapAmb) empty, NoNewPrivs 1, Seccomp 2 (filter); the spawner
#    that forks it: not root, no capability, no_new_privs; neither holds a
#    descriptor of the database, a BPF object or a netlink socket;
#  - a reader made (the test hook reader=, MXWALL_TEST_HOOKS) to open a
#    file, to exec or to call bpf() is killed by its filter (SIGSYS), the
#    watcher logs why and starts another: every line is recorded once,
#    before and after, and the source is promoted;
#  - a reader that sends a record the watcher refuses is stopped and
#    replaced the same way, and the refused record changes nothing;
#  - started as systemd starts it (scripts/mxwall.service: its
#    CapabilityBoundingSet, no_new_privs), the reader holds nothing all
#    the same and the watcher promotes;
#  - the journal (log = journal, files written by systemd-journal-remote)
#    is read by the watcher and parsed by the reader: a first reader killed
#    by its filter and 10 kill -9 while entries stream in lose and repeat
#    no entry, and the saved cursor is the last entry a reader parsed;
#  - the MTA log corpus through the split watcher gives the same events
#    (time, address, MTA, tags, file and line, in order) as the watcher
#    reading in its own process, and those of `mxwall scan`.
set -u
. "$(dirname "$0")/../watch/lib.sh"
t_init
export MXWALL_TEST_HOOKS=${MXWALL_TEST_HOOKS:+$MXWALL_TEST_HOOKS,}capacity=4096

cat > "$CONF" <<EOC
log = $LOG
threshold = 3
require_seen = no
blocklist = $T_DIR/none
commit_interval = 50
EOC

# reader_pid - the running reader, from the watcher's last start line
reader_pid() { sed -n 's/.*log reader started (pid \([0-9]*\)).*/\1/p' "$W_ERR" | tail -n 1; }
st() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
no_root_ids() { awk '$1 == "Uid:" || $1 == "Gid:" { for (i = 2; i <= 5; i++) if ($i == 0) exit 1 }' "/proc/$1/status"; }
# holds - descriptors of pid that point at the database, BPF or netlink
holds() {
	local f l out=
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		case $l in
		*mxwall.db* | *bpf* | *"$MXWALL_PIN_DIR"*) out="$out $l" ;;
		socket:*)
			ino=${l#socket:[}; ino=${ino%]}
			grep -q " $ino " /proc/net/netlink 2>/dev/null && out="$out netlink:$l" ;;
		esac
	done
	echo "${out# }"
}
# wait_new_reader OLD - until a reader other than OLD runs
wait_new_reader() {
	local i p
	for ((i = 0; i < 100; i++)); do
		p=$(reader_pid)
		[ -n "$p" ] && [ "$p" != "$1" ] && [ -e "/proc/$p/status" ] && return 0
		sleep 0.05
	done
	return 1
}

# ---- what the reader and the spawner hold ----
start_watch || t_done
RP=$(reader_pid)
check "a reader runs" test -n "$RP" -a -e "/proc/$RP/status"
SP=$(awk '$1 == "PPid:" { print $2 }' "/proc/$RP/status")
check_eq "the reader's parent is the spawner, a child of the watcher" \
	"$(awk '$1 == "PPid:" { print $2 }' "/proc/$SP/status")" "$W_PID"
check "reader: no uid or gid is 0" no_root_ids "$RP"
want=$(id -u mxwall 2>/dev/null || id -u nobody)
check_eq "reader runs as mxwall or nobody" "$(st "$RP" Uid)" "$want"
for set in CapEff CapPrm CapBnd CapInh CapAmb; do
	check_eq "reader $set is empty" "$(st "$RP" $set)" 0000000000000000
done
check_eq "reader NoNewPrivs" "$(st "$RP" NoNewPrivs)" 1
check_eq "reader Seccomp is 2 (filter)" "$(st "$RP" Seccomp)" 2
check "spawner: no uid or gid is 0" no_root_ids "$SP"
for set in CapEff CapPrm CapBnd; do
	check_eq "spawner $set is empty" "$(st "$SP" $set)" 0000000000000000
done
check_eq "spawner NoNewPrivs" "$(st "$SP" NoNewPrivs)" 1
check_eq "reader holds no database, BPF or netlink descriptor" "$(holds "$RP")" ""
check_eq "spawner holds no database, BPF or netlink descriptor" "$(holds "$SP")" ""
check "the watcher does (so the check can see them)" test -n "$(holds "$W_PID")"
rejects 192.0.2.10 3
check "the split watcher promotes" wait_listed 192.0.2.10
stop_watch

# ---- as the systemd unit starts it ----
unit=$T_ROOT/scripts/mxwall.service
bset=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' |
	sed 's/cap_//g; s/ /,+/g; s/^/-all,+/')
check "the unit names a bounding set" test -n "$bset"
MXWALL_REAL=$MXWALL
printf '#!/bin/sh\nexec setpriv --bounding-set %s --no-new-privs %s "$@"\n' \
	"$bset" "$MXWALL_REAL" > "$T_DIR/as-unit"
chmod +x "$T_DIR/as-unit"
MXWALL=$T_DIR/as-unit
start_watch
MXWALL=$MXWALL_REAL
RP=$(reader_pid)
for set in CapEff CapPrm CapBnd; do
	check_eq "under the unit: reader $set is empty" "$(st "$RP" $set)" 0000000000000000
done
check "under the unit: reader not root" no_root_ids "$RP"
check_eq "under the unit: reader Seccomp is 2" "$(st "$RP" Seccomp)" 2
check_not "under the unit: nothing was refused" grep -qi "cannot\|denied\|not permitted" "$W_ERR"
rejects 192.0.2.11 3
check "under the unit: the split watcher promotes" wait_listed 192.0.2.11
stop_watch

# ---- a reader that misbehaves is killed and replaced, nothing lost ----
n_ev() { sql "SELECT count(*) FROM events WHERE ip = '$1'"; }
i=0
for hook in open exec bpf record; do
	i=$((i + 1))
	ip=192.0.2.$((20 + i))
	MXWALL_TEST_HOOKS=$MXWALL_TEST_HOOKS,reader=$hook start_watch || continue
	old=$(reader_pid)
	rejects "$ip" 1
	check "$hook: a new reader replaces the first" wait_new_reader "$old"
	if [ "$hook" = record ]; then
		check "$hook: the watcher says which field was wrong" \
			grep -q "log reader (pid $old) .*after a bad record: unknown address family" "$W_ERR"
	else
		check "$hook: the watcher says the filter killed it" \
			grep -q "log reader (pid $old) was killed by its seccomp filter (SIGSYS)" "$W_ERR"
	fi
	rejects "$ip" 2
	check "$hook: promoted with lines from both readers" wait_listed "$ip"
	check "$hook: every line recorded once" wait_sql "SELECT count(*) FROM events WHERE ip = '$ip'" 3
	sleep 0.3
	check_eq "$hook: and not again" "$(n_ev "$ip")" 3
	check "$hook: the new reader is confined too" test "$(st "$(reader_pid)" Seccomp)" = 2
	stop_watch
done

# ---- the journal: the watcher reads it, the reader parses it ----
JR=$("$T_ROOT/selftests/lib/pkgs.sh" systemd-journal-remote libsystemd-shared) ||
	t_fatal "cannot unpack systemd-journal-remote (selftests/lib/pkgs.sh)"
J=$T_DIR/journal
mkdir -p "$J"
export MXWALL_STATE_DIR=$T_DIR/jstate	# a database of its own
DB=$MXWALL_STATE_DIR/mxwall.db
jput() { python3 "$T_ROOT/selftests/lib/journal_export.py" |
	(. "$JR/env.sh" && exec "$JR/lib/systemd/systemd-journal-remote" -o "$J/$1" -) 2>>"$T_DIR/jr.err"; }
cat > "$CONF" <<EOC
log = journal
journal_directory = $J
journal_match = SYSLOG_IDENTIFIER=postfix/smtpd
threshold = 1000
require_seen = no
blocklist = $T_DIR/none
EOC
# a second each (sd-journal orders entries of several files by time)
jt=$((T_NOW - 3000))
for ((k = 0; k < 300; k++)); do reject_line "203.0.113.$((k % 150 + 1))" relay $((jt++)); done | jput a.journal
# the first reader dies on its first entries: the next one gets them again
MXWALL_TEST_HOOKS=$MXWALL_TEST_HOOKS,reader=exec start_watch || t_done
killed_sys() { grep -q "killed by its seccomp filter" "$W_ERR"; }
wait_killed_sys() { local i; for ((i = 0; i < 100; i++)); do killed_sys && return 0; sleep 0.05; done; return 1; }
check "journal: the first reader is killed by its filter" wait_killed_sys
check "journal: every entry recorded" wait_events 300 20
# kill -9 while entries stream in
for ((i = 0; i < 10; i++)); do
	old=$(reader_pid)
	for ((k = 0; k < 100; k++)); do reject_line "198.51.100.$((k + 1))" relay $((jt + k)); done | jput "b$i.journal" &
	jt=$((jt + 100))
	JP=$!
	sleep 0.0$((RANDOM % 10))
	kill -9 "$old" 2>/dev/null
	wait "$JP"
	wait_new_reader "$old" || true
done
check "journal: after 10 kills, every entry recorded" wait_events 1300 30
sleep 0.5
check_eq "journal: and none twice" "$(sql 'SELECT count(*) FROM events')" 1300
stop_watch
check "journal: the cursor of the last entry read is kept" test -n "$(sql "SELECT count(*) FROM cursors")"
start_watch || t_done
sleep 0.5
check_eq "journal: a restart reads nothing again" "$(sql 'SELECT count(*) FROM events')" 1300
check "journal: lines counted once" grep -q "stopped: 1300 lines, 1300 events" "$T_DIR/watch$((${#T_PIDS[@]} - 2)).err"
stop_watch

# ---- the corpus: split, in one process, and scan agree ----
CORPUS=$T_ROOT/selftests/scan/corpus
find "$CORPUS" -type f -print0 | sort -z | xargs -0 cat > "$T_DIR/corpus.log"
echo 1124013600 > "$T_NOW_FILE"	# the corpus's "now" (2005)
cat > "$CONF" <<EOC
threshold = 1000000
require_seen = no
blocklist = $T_DIR/none
EOC
events_of() {
	sqlite3 -separator '	' "$1" "SELECT time, ip, mta, tags FROM events ORDER BY id" |
		awk -F'\t' '{ printf "%s\t%s\t%s\t%s\n", strftime("%Y-%m-%dT%H:%M:%SZ", $1, 1), $2, $3, $4 }'
}
run_watch() {
	local dir=$1; shift
	MXWALL_STATE_DIR=$dir env "$@" "$MXWALL" watch --config "$CONF" - \
		< "$T_DIR/corpus.log" 2> "$dir.err"
}
mkdir -p "$T_DIR/split" "$T_DIR/inline"
run_watch "$T_DIR/split"
check_eq "split watcher: ends at the end of input" "$?" 0
run_watch "$T_DIR/inline" MXWALL_TEST_HOOKS=$MXWALL_TEST_HOOKS,reader_inline
check_eq "watcher in one process: ends at the end of input" "$?" 0
events_of "$T_DIR/split/mxwall.db" > "$T_DIR/split.ev"
events_of "$T_DIR/inline/mxwall.db" > "$T_DIR/inline.ev"
touch -d @1124013600 "$T_DIR/corpus.log"
"$MXWALL" scan "$T_DIR/corpus.log" > "$T_DIR/scan.all"
n=$(wc -l < "$T_DIR/scan.all")
check "the corpus has events ($n)" test "$n" -gt 100
check "split watcher: the same events as in one process" cmp -s "$T_DIR/split.ev" "$T_DIR/inline.ev"
where_of() { sqlite3 "$1" "SELECT e.line, l.path FROM events e LEFT JOIN logfiles l ON l.id = e.file ORDER BY e.id"; }
check "split watcher: each event's file and line as in one process" \
	cmp -s <(where_of "$T_DIR/split/mxwall.db") <(where_of "$T_DIR/inline/mxwall.db")
check "the events have line numbers" test "$(sqlite3 "$T_DIR/split/mxwall.db" "SELECT count(*) FROM events WHERE line > 0")" -gt 100
check_eq "split watcher: as many events as scan finds" \
	"$(grep -o '[0-9]* events, ' "$T_DIR/split.err")" "$n events, "
# the database keeps 90 days (before the corpus's now: 2005-05-16 10:00)
awk -F'\t' '$1 >= "2005-05-16T10:00:00Z"' "$T_DIR/scan.all" > "$T_DIR/scan.ev"
check "split watcher: the events scan finds, those the database keeps" \
	cmp -s "$T_DIR/split.ev" "$T_DIR/scan.ev"
check_eq "split watcher: lines counted as in one process" \
	"$(grep -o 'stopped: [0-9]* lines, [0-9]* events' "$T_DIR/split.err")" \
	"$(grep -o 'stopped: [0-9]* lines, [0-9]* events' "$T_DIR/inline.err")"
check "the reader ran" grep -q "log reader started" "$T_DIR/split.err"
check_not "no reader died" grep -q "log reader (pid" "$T_DIR/split.err"
t_done
