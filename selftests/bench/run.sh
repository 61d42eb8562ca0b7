#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - run every benchmark (`make bench`): each executable under
# build/bench/ and each executable selftests/bench/bench_*.sh, one after
# the other (they measure time, so never in parallel), with their output
# as it comes. A benchmark that fails is named at the end and makes the
# exit status non-zero; the others still run.
#
# usage: selftests/bench/run.sh [PATTERN]   (only those whose path contains PATTERN)
set -u
cd "$(dirname "$0")/../.." || exit 2
pattern=${1:-}
failed=()
ran=0

benches=()
for f in build/bench/*; do
	case "$f" in *.d | *.o) continue ;; esac
	[ -f "$f" ] && [ -x "$f" ] && benches+=("$f")
done
for f in selftests/bench/bench_*.sh; do
	[ -f "$f" ] && [ -x "$f" ] && benches+=("$f")
done

for b in "${benches[@]}"; do
	case "$b" in *"$pattern"*) ;; *) continue ;; esac
	echo "== $b ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"
	start=$(date +%s)
	"$b" </dev/null
	rc=$?
	ran=$((ran + 1))
	echo "== $b: exit $rc in $(( $(date +%s) - start ))s"
	[ "$rc" -ne 0 ] && failed+=("$b")
done

if [ "$ran" -eq 0 ]; then
	echo "no benchmarks found: run 'make tests' first"
	exit 1
fi
if [ "${#failed[@]}" -gt 0 ]; then
	echo "failed benchmarks: ${failed[*]}"
	exit 1
fi
echo "$ran benchmarks ran"
