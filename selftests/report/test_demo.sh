#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_demo.sh - `make demo` (scripts/demo.sh) works as the README says:
# with the Postfix of selftests/lib/pkgs.sh (not the host's), Postfix
# rejects the bad clients, mxwall drops their SYNs, the report prints,
# and the lab leaves no namespace, pin directory or temp directory behind.
set -u
cd "$(dirname "$0")/../.." || exit 1
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
[ "$(id -u)" = 0 ] || { echo "FAIL - needs root"; echo "0 passed, 1 failed"; exit 1; }
[ -x build/mxwall ] || { echo "FAIL - build/mxwall not built"; echo "0 passed, 1 failed"; exit 1; }
before=$(ip netns list | grep -c mxdemo)
out=$(scripts/demo.sh 8 2>&1)
rc=$?
[ "$rc" = 0 ] && ok || bad "demo exits 0 (got $rc): $(tail -n 5 <<<"$out")"
rej=$(sed -n 's/^=== Postfix rejected \([0-9]*\) commands.*/\1/p' <<<"$out")
[ "${rej:-0}" -gt 0 ] && ok || bad "Postfix rejected commands (${rej:-none})"
drop=$(sed -n 's/^Dropped: *\([0-9,]*\) .*/\1/p' <<<"$out" | tr -d ,)
[ "${drop:-0}" -gt 0 ] && ok || bad "SYNs dropped (${drop:-none})"
grep -q '^=== mxwall report --by /24' <<<"$out" && ok || bad "the report by /24"
grep -q 'blocked' <<<"$out" && ok || bad "promotions shown as they happen"
[ "$(ip netns list | grep -c mxdemo)" = "$before" ] && ok || bad "namespaces left behind"
ls -d /sys/fs/bpf/mxwall-demo-* >/dev/null 2>&1 && bad "pin directory left behind" || ok
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
