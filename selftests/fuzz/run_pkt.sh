#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run_pkt.sh - the long run of the packet fuzzer: the XDP program through
# BPF_PROG_TEST_RUN against the reference model (selftests/prog/
# test_pktfuzz.c) for SECONDS with a fresh seed (printed, so a run can be
# repeated with -s SEED). Disagreements are saved as hex reproducers under
# build/pktfuzz-fail-SEED-N.hex; replay one with
#   build/asan/prog_test_pktfuzz --replay FILE
#
# Then the long run of a fixed size: FUZZ_PKT_FRAMES frames (default
# 10,000,000) with another fresh seed, whatever SECONDS says.
#
# usage: selftests/fuzz/run_pkt.sh [SECONDS [SEED]]   (needs root)
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-${FUZZ_SECONDS:-60}}
seed=${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
bin=build/asan/prog_test_pktfuzz
if [ ! -x "$bin" ]; then
	make --no-print-directory "$bin" || exit 1
fi
frames=${FUZZ_PKT_FRAMES:-10000000}
echo "fuzz: prog_test_pktfuzz for ${secs}s, seed $seed"
ASAN_OPTIONS=detect_leaks=1 "$bin" -t "$secs" -s "$seed" || exit 1
seed2=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
echo "fuzz: prog_test_pktfuzz, $frames frames, seed $seed2"
ASAN_OPTIONS=detect_leaks=1 "$bin" -n "$frames" -s "$seed2"
