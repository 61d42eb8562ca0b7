#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_check.sh - `mxwall check` and `mxwall watch --check`: every bad
# configuration line, a missing log, an unknown interface, an empty
# journal and missing privileges are each one "FILE:LINE: ..." line with
# exit 1; a sound setup says what watch would do and exits 0; nothing is
# created (no pins, no state).
set -u
cd "$(dirname "$0")/../.." || exit 1
MXWALL=${MXWALL:-build/mxwall}
pass=0
fail=0
D=$(mktemp -d /tmp/mxwall-check.XXXXXX)
chmod 755 "$D"
export MXWALL_PIN_DIR=/sys/fs/bpf/mxwall-check-$$ MXWALL_STATE_DIR=$D/state
trap 'rm -rf "$D" "$MXWALL_PIN_DIR"' EXIT
# a private copy, which the unprivileged user below can run
cp "$MXWALL" "$D/mxwall" && chmod 755 "$D/mxwall" && MXWALL=$D/mxwall
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
has() { if grep -qE -- "$2" <<<"$OUT"; then ok; else bad "$1: no '$2' in: $OUT"; fi; }
hasnt() { if grep -qE -- "$2" <<<"$OUT"; then bad "$1: '$2' in: $OUT"; else ok; fi; }
run() { OUT=$("$MXWALL" "$@" 2>&1); RC=$?; }

: > "$D/mail.log"
C=$D/bad.conf
cat > "$C" <<EOC
log = $D/mail.log
threshold = ten
log = $D/missing.log
interface = mxw-none$$
window = 2x
bogus = 1
EOC
run check --config "$C"
[ "$RC" = 1 ] && ok || bad "bad config: exit $RC, expected 1"
has "every bad line: threshold" "^$C:2: threshold: 'ten' is not a number"
has "every bad line: window" "^$C:5: window: '2x' is not a duration"
has "every bad line: unknown key" "^$C:6: unknown key 'bogus'"
has "missing log: its line" "^$C:3: log file $D/missing.log: No such file or directory"
has "unknown interface: its line" "^$C:4: interface mxw-none$$ does not exist here"
has "the good log" "would follow $D/mail.log"
has "problem count" "^5 problems$"
run watch --check --config "$C"
[ "$RC" = 1 ] && ok || bad "watch --check: exit $RC, expected 1"
has "watch --check is check" "^$C:6: unknown key 'bogus'"
[ -e "$MXWALL_PIN_DIR" ] && bad "check created the pin dir" || ok
[ -e "$MXWALL_STATE_DIR" ] && bad "check created the state dir" || ok

# sound: a log, an interface that exists
G=$D/good.conf
printf 'log = %s\ninterface = lo\nthreshold = 4\nwindow = 10m\n' "$D/mail.log" > "$G"
run check --config "$G"
[ "$RC" = 0 ] && ok || bad "sound config: exit $RC: $OUT"
has "parsed" "^$G: parsed$"
has "would attach" "would (load|attach)"
has "what it would do" "after 4 rejections in 10m"
has "ok" "^ok$"

# no interface and no filter attached: nothing would be dropped
printf 'log = %s\n' "$D/mail.log" > "$D/noif.conf"
run check --config "$D/noif.conf"
[ "$RC" = 1 ] && ok || bad "no interface: exit $RC"
has "no interface" "nothing would be dropped"

# the journal: an empty directory is a problem, log_fallback follows it
mkdir -p "$D/journal"
printf 'log = %s/none.log\nlog_fallback = journal\njournal_directory = %s/journal\njournal_match = _SYSTEMD_UNIT=postfix@-.service\ninterface = lo\n' "$D" "$D" > "$D/j.conf"
run check --config "$D/j.conf"
[ "$RC" = 1 ] && ok || bad "empty journal: exit $RC"
has "empty journal: the log line" "^$D/j.conf:1: no journal files to read in $D/journal"
has "fallback said" "log file $D/none.log does not exist: "
JR=$(selftests/lib/pkgs.sh systemd-journal-remote libsystemd-shared) || bad "pkgs.sh systemd-journal-remote"
echo "2026-11-20T10:00:00+00:00 mx postfix/smtpd[1]: connect from unknown[192.0.2.1]" |
	python3 selftests/lib/journal_export.py |
	(. "$JR/env.sh" && exec "$JR/lib/systemd/systemd-journal-remote" -o "$D/journal/x.journal" -) 2>/dev/null
run check --config "$D/j.conf"
[ "$RC" = 0 ] && ok || bad "journal with files: exit $RC: $OUT"
has "would read the journal" "would read the journal in $D/journal"
has "its match" "entries matching _SYSTEMD_UNIT=postfix@-.service"

# privileges: an unprivileged user
if command -v setpriv >/dev/null; then
	OUT=$(setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all \
		"$MXWALL" check --config "$G" 2>&1)
	RC=$?
	[ "$RC" = 1 ] && ok || bad "unprivileged: exit $RC"
	has "unprivileged: says so" "no CAP_(BPF|NET_ADMIN): watch must run as root"
else
	bad "setpriv (util-linux) missing"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
