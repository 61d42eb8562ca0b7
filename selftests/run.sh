#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - run every test suite and add up their closing lines.
#
# A suite is an executable that prints "N passed, N failed" as its last such
# line and exits non-zero on failure: the unit and BPF test binaries under
# build/asan/, and the scripts selftests/*/test_*.sh. A suite that exits
# non-zero without counting a failure, or prints no summary, counts as one
# failure: a crash or a missing prerequisite is never a pass.
#
# usage: selftests/run.sh [PATTERN]   (only suites whose path contains PATTERN)
set -u
cd "$(dirname "$0")/.." || exit 2
pattern=${1:-}
total_pass=0
total_fail=0
failed_suites=()
logdir=build/test-logs
mkdir -p "$logdir"

suites=()
for f in build/asan/test_* build/asan/prog_test_*; do
	[ -x "$f" ] && suites+=("$f")
done
for f in selftests/*/test_*.sh; do
	[ -x "$f" ] && suites+=("$f")
done

for s in "${suites[@]}"; do
	case "$s" in *"$pattern"*) ;; *) continue ;; esac
	name=${s//\//_}
	log="$logdir/$name.log"
	start=$(date +%s)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		"$s" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(( $(date +%s) - start ))
	summary=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$summary" ]; then
		p=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/' <<<"$summary")
		f=$(sed -E 's/^([A-Za-z-]+: )?[0-9]+ passed, ([0-9]+) failed.*/\2/' <<<"$summary")
	else
		p=0
		f=0
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAIL - $s exited $rc without a failure count (see $log)" >>"$log"
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [ "$f" -ne 0 ]; then
		failed_suites+=("$s")
		printf '%-44s %4d passed, %3d failed  (%ss)\n' "$s" "$p" "$f" "$secs"
		sed -n '/^FAIL\|ERROR\|error:\|AddressSanitizer\|runtime error/p' "$log" | head -n 40 | sed 's/^/    /'
		echo "    (full log: $log)"
	else
		printf '%-44s %4d passed, %3d failed  (%ss)\n' "$s" "$p" "$f" "$secs"
	fi
done

if [ "${#suites[@]}" -eq 0 ]; then
	echo "no test suites found: run 'make tests' first"
	total_fail=1
fi
[ "${#failed_suites[@]}" -gt 0 ] && echo "failed suites: ${failed_suites[*]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
