#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_golden.sh - `mxwall scan` as users run it: golden output for a log
# mixing every supported MTA, hostile and garbage lines (TSV and --json),
# the year taken from the file's mtime across a December/January
# boundary, .gz and stdin input, --stats, over-long lines, the exit
# status and message of bad usage and unreadable files, and the lines
# real Exim, Sendmail, OpenSMTPD and Courier wrote in selftests/mta
# (real-*.in).
# REGEN=1 rewrites the .ok files (on purpose only; review the diff).
set -u
cd "$(dirname "$0")/../.." || exit 1
MXWALL=$(realpath "${MXWALL:-build/mxwall}")
G=selftests/scan/golden
pass=0
fail=0
tmp=$(mktemp -d /tmp/mxwall-scan-test.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL - $*"; }
check_eq() { # desc actual expected
	if [ "$2" == "$3" ]; then ok; else ko "$1: got '$2', expected '$3'"; fi
}
golden() { # desc file.ok actual-file
	if [ -n "${REGEN:-}" ]; then
		cp "$3" "$2"
		ok
	elif diff -u "$2" "$3" >"$tmp/diff"; then
		ok
	else
		ko "$1 differs from $2:"
		head -40 "$tmp/diff"
	fi
}

if [ ! -x "$MXWALL" ]; then
	echo "ERROR: $MXWALL not built (run make)"
	echo "0 passed, 1 failed"
	exit 1
fi
export TZ=UTC
scan() { "$MXWALL" scan "$@"; }

cp "$G/mixed.in" "$tmp/mail.log"
touch -d "2026-01-02 12:00:00 UTC" "$tmp/mail.log"
(cd "$tmp" && TZ=UTC "$MXWALL" scan --spamtrap trap@example.org mail.log) >"$tmp/out.tsv"
check_eq "exit status" "$?" 0
golden "TSV output" "$G/mixed.ok" "$tmp/out.tsv"
(cd "$tmp" && TZ=UTC "$MXWALL" scan --json --spamtrap trap@example.org mail.log) >"$tmp/out.json"
golden "JSON output" "$G/mixed.json.ok" "$tmp/out.json"
if python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$tmp/out.json"; then
	ok
else
	ko "--json output is not one JSON object per line"
fi
check_eq "year boundary: Dec 31 is last year" "$(grep -c '^2025-12-31T23:59:5' "$tmp/out.tsv")" 2
check_eq "forged address never printed" "$(grep -c '203\.0\.113\.9\|198\.51\.100\.7' "$tmp/out.tsv")" 0

# .gz gives the same events
cp -p "$tmp/mail.log" "$tmp/mail.log.1"
gzip -9 "$tmp/mail.log.1"
touch -d "2026-01-02 12:00:00 UTC" "$tmp/mail.log.1.gz"
scan --spamtrap trap@example.org "$tmp/mail.log.1.gz" >"$tmp/gz.tsv"
check_eq "gz exit status" "$?" 0
golden "gz output" "$G/mixed.ok" "$tmp/gz.tsv"

# stdin: the same events (the year comes from today, so compare columns 2-4)
scan --spamtrap trap@example.org - <"$tmp/mail.log" | cut -f2- >"$tmp/stdin.cols"
cut -f2- "$tmp/out.tsv" >"$tmp/file.cols"
golden "stdin events" "$tmp/file.cols" "$tmp/stdin.cols"
scan --spamtrap trap@example.org <"$tmp/mail.log" | cut -f2- >"$tmp/stdin2.cols"
golden "no file means stdin" "$tmp/file.cols" "$tmp/stdin2.cols"

# --stats: counts on stderr
scan --stats "$tmp/mail.log" 2>"$tmp/stats" >/dev/null
check_eq "--stats" "$(cat "$tmp/stats")" "$(cat "$G/mixed.stats.ok")"
[ -n "${REGEN:-}" ] && cp "$tmp/stats" "$G/mixed.stats.ok"

# a 3 MiB line between two events: skipped as garbage, nothing lost
{
	echo "Jan  1 00:00:01 mx postfix/smtpd[1]: lost connection after CONNECT from unknown[192.0.2.1]"
	head -c 3145728 /dev/zero | tr '\0' 'A'
	echo
	echo "Jan  1 00:00:02 mx postfix/smtpd[1]: lost connection after CONNECT from unknown[192.0.2.2]"
} >"$tmp/long.log"
out=$(scan --stats "$tmp/long.log" 2>"$tmp/stats" | cut -f2 | tr '\n' ' ')
check_eq "events around a 3 MiB line" "$out" "192.0.2.1 192.0.2.2 "
check_eq "3 MiB line is garbage" "$(cat "$tmp/stats")" "3 lines, 2 events, 0 ignored (0 unparsed), 1 garbage"

# usage and runtime errors
scan --help >/dev/null
check_eq "--help exit" "$?" 0
scan --bogus >/dev/null 2>"$tmp/err"
check_eq "unknown option exit" "$?" 2
check_eq "unknown option message lines" "$(wc -l <"$tmp/err")" 1
scan --spamtrap "" "$tmp/mail.log" >/dev/null 2>"$tmp/err"
check_eq "empty --spamtrap exit" "$?" 2
grep -q -- "--spamtrap" "$tmp/err" && ok || ko "empty --spamtrap message names the option: $(cat "$tmp/err")"
scan "$tmp/nonexistent.log" >/dev/null 2>"$tmp/err"
check_eq "missing file exit" "$?" 1
grep -q "nonexistent.log" "$tmp/err" && ok || ko "missing file message names the file: $(cat "$tmp/err")"
scan "$tmp" >/dev/null 2>"$tmp/err"
check_eq "directory exit" "$?" 1
# a missing file does not stop the others
out=$(scan "$tmp/nonexistent.log" "$tmp/long.log" 2>/dev/null | wc -l)
check_eq "other files still scanned" "$out" 2

# lines real servers wrote (selftests/mta/test_*.sh: Exim's own mainlog,
# rejectlog and syslog, Sendmail, OpenSMTPD and Courier through syslog),
# checked without the servers: every refusal with the reason the server
# gave, notes, deliveries and the servers' own failures
# print nothing, and no address a client wrote (203.0.113.9) appears
for f in "$G"/real-*.in; do
	n=$(basename "$f" .in)
	cp "$f" "$tmp/$n.log"
	touch -d "2026-12-05 12:00:00 UTC" "$tmp/$n.log"
	(cd "$tmp" && scan "$n.log") >"$tmp/$n.tsv"
	check_eq "$n: exit status" "$?" 0
	golden "$n" "$G/$n.ok" "$tmp/$n.tsv"
	check_eq "$n: no written-in address" "$(grep -c '203\.0\.113\.' "$tmp/$n.tsv")" 0
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
