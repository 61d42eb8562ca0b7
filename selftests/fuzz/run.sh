#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - run libFuzzer targets: each BIN for SECONDS, seeded from
# selftests/fuzz/corpus/NAME/ (read only; kept small in the repository).
# New inputs go to build/fuzz-corpus/NAME/, crashes to build/fuzz-crash/.
# To fold findings back into the seeds, minimised:
#   BIN -merge=1 selftests/fuzz/corpus/NAME build/fuzz-corpus/NAME
#
# usage: selftests/fuzz/run.sh SECONDS BIN...
set -u
cd "$(dirname "$0")/../.." || exit 2
if [ $# -lt 2 ]; then
	echo "usage: $0 SECONDS BIN..." >&2
	exit 2
fi
secs=$1
shift
rc=0
for bin in "$@"; do
	name=$(basename "$bin")
	seeds=selftests/fuzz/corpus/$name
	work=build/fuzz-corpus/$name
	mkdir -p "$work" build/fuzz-crash "$seeds"
	echo "fuzz: $name for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 \
		-artifact_prefix=build/fuzz-crash/"$name"- -print_final_stats=1 \
		"$work" "$seeds"; then
		echo "fuzz: $name FAILED (see build/fuzz-crash/)"
		rc=1
	fi
done
exit $rc
