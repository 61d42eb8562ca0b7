#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench_scan.sh - MTA log scanner throughput against fail2ban-regex with
# Debian's postfix filter, on the same generated realistic Postfix log
# (1M lines by default; gen_postfix_log.py, fixed seed), in one run.
#
#   parser     build/bench/bench_scan: the scanner alone, log in memory
#   mxwall     build/mxwall scan FILE > /dev/null: reading + parsing + output
#   fail2ban   fail2ban-regex -r FILE-prefix ROOT/etc/fail2ban/filter.d/postfix.conf
#
# fail2ban is Debian's package unpacked into build/pkgs/fail2ban
# (selftests/lib/pkgs.sh), never installed on the host.
#
# fail2ban-regex is slow, so by default it reads the first F2B_LINES
# lines of the same file (a rate in lines/s compares either way; say so
# when quoting the ratio). Generated data lives in build/bench-data/
# (never committed). Timings are wall clock on a shared machine.
#
# usage: selftests/bench/bench_scan.sh [LINES]     env: F2B_LINES (200000)
set -u
cd "$(dirname "$0")/../.." || exit 2
lines=${1:-1000000}
f2b_lines=${F2B_LINES:-200000}
data=build/bench-data
log=$data/postfix-$lines.log
f2b_root=$(selftests/lib/pkgs.sh fail2ban) || exit 1
# shellcheck disable=SC1091
. "$f2b_root/env.sh"
filter=$f2b_root/etc/fail2ban/filter.d/postfix.conf

for f in build/bench/bench_scan build/mxwall; do
	if [ ! -x "$f" ]; then
		echo "bench_scan: $f missing (run make tests)" >&2
		exit 1
	fi
done
if [ ! -x "$f2b_root/usr/bin/fail2ban-regex" ] || [ ! -r "$filter" ]; then
	echo "bench_scan: fail2ban-regex or $filter missing in $f2b_root" >&2
	exit 1
fi
mkdir -p "$data"
if [ ! -s "$log" ]; then
	echo "bench_scan: generating $log ($lines lines)"
	python3 selftests/bench/gen_postfix_log.py "$lines" >"$log.tmp" && mv "$log.tmp" "$log" || exit 1
fi
n=$(wc -l <"$log")

now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }

# parser alone
parser=$(build/bench/bench_scan "$log" 3) || exit 1
parser_rate=$(sed -E 's/.*lines\/s ([0-9]+).*/\1/' <<<"$parser")
parser_events=$(sed -E 's/.*events ([0-9]+).*/\1/' <<<"$parser")

# the command end to end
t0=$(now)
events=$(build/mxwall scan "$log" | wc -l)
t1=$(now)
mx_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
mx_rate=$(rate "$n" "$mx_secs")

# fail2ban-regex on the first f2b_lines lines of the same file
f2b_log=$data/postfix-$lines-head-$f2b_lines.log
[ "$f2b_lines" -ge "$n" ] && f2b_log=$log || head -n "$f2b_lines" "$log" >"$f2b_log"
f2b_n=$(wc -l <"$f2b_log")
t0=$(now)
f2b_out=$(python3 "$f2b_root/usr/bin/fail2ban-regex" -r "$f2b_log" "$filter" 2>&1) || { echo "$f2b_out" | tail -5; exit 1; }
t1=$(now)
f2b_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
f2b_rate=$(rate "$f2b_n" "$f2b_secs")
f2b_matched=$(grep -E '^Lines:' <<<"$f2b_out" | sed -E 's/.* ([0-9]+) matched.*/\1/')

printf 'scan benchmark: %s (%d lines, realistic Postfix mix)\n' "$log" "$n"
printf '  %-28s %12s lines/s  (%s events)\n' "parser (bench_scan)" "$parser_rate" "$parser_events"
printf '  %-28s %12s lines/s  (%s events, %.2f s)\n' "mxwall scan (end to end)" "$mx_rate" "$events" "$mx_secs"
printf '  %-28s %12s lines/s  (%s of %d lines matched, %.2f s; first %d lines)\n' \
	"fail2ban-regex postfix" "$f2b_rate" "$f2b_matched" "$f2b_n" "$f2b_secs" "$f2b_n"
awk -v a="$parser_rate" -v b="$mx_rate" -v c="$f2b_rate" 'BEGIN {
	printf "  ratio parser/fail2ban-regex:      %.0fx\n", a / c
	printf "  ratio mxwall scan/fail2ban-regex: %.0fx\n", b / c
}'
