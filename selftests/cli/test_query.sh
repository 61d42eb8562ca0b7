#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_query.sh - `mxwall query` / `why` as an operator runs it, against a
# real filter in a namespace: golden text for a blocked host inside a
# netblock, an allow exception inside it, an address no entry covers; the
# handshake record after a real connect from a client; exit status 0 covered, 1 not,
# 2 bad address (nothing opened); --help; not set up is exit 1. The
# database side (events, recidive, pardon) is tested with the watcher in
# selftests/watch/test_query.sh and test_pardon.sh.
# REGEN=1 rewrites the .ok file (on purpose only; review the diff).
set -u
. "$(dirname "$0")/../net/lib.sh"

net_require ip nsenter python3
G=$TOP/selftests/cli/golden
PASS=0
FAIL=0

net_setup || { echo "FAIL - namespace setup"; net_finish; }
PIN_DIR=/sys/fs/bpf/mxwall-query-$$
tmp=$(mktemp -d /tmp/mxwall-query.XXXXXX)
on_cleanup "rm -rf $tmp"

# usage errors come before anything is opened
out=$(mxw query 2>&1); rc=$?
check_eq "no ADDR: exit 2" "$rc|$out" "2|mxwall: query: missing ADDR (see 'mxwall query --help')"
out=$(mxw query 192.0.2.1 300.1.1.1 2>&1); rc=$?
check_eq "bad address: exit 2, named" "$rc|$out" "2|mxwall: query: '300.1.1.1': not an IPv4 address (write all four octets in decimal)"
out=$(mxw why 192.0.2.0/24 2>&1); rc=$?
check_eq "netblock: exit 2" "$rc|$out" "2|mxwall: why: 192.0.2.0/24: expected an address, not a netblock"
out=$(mxw query -n x 192.0.2.1 2>&1); rc=$?
check_eq "bad -n: exit 2" "$rc|$out" "2|mxwall: query: -n x: expected a number of events"
out=$(mxw query --frob 192.0.2.1 2>&1); rc=$?
check_eq "unknown option: exit 2" "$rc|$out" "2|mxwall: query: --frob: unknown option (see 'mxwall query --help')"
out=$(mxw query 192.0.2.1 2>&1); rc=$?
check_eq "not set up: exit 1" "$rc|$out" "1|mxwall: query: mxwall is not set up here (run 'mxwall attach IFACE' first)"
check "no usage error created state" test ! -e "$PIN_DIR"
out=$(mxw why --help 2>&1); rc=$?
check_eq "--help: exit 0, usage first" "$rc|$(head -n1 <<<"$out")" "0|usage: mxwall query ADDR... [-n N] [--json] [--config FILE]"

check "attach" mxw attach veth0 --mode generic
check "block a netblock" mxw block 10.250.0.0/16 --tag wide
check "block a host in it" mxw block 10.250.7.7 --tag njabl --ttl 1d
check "allow an exception in it" mxw allow 10.250.0.2 --tag partner
net_listen 25 >/dev/null || net_finish
check_eq "the exception connects" "$(net_connect 10.250.0.2 10.250.0.1 25)" ok

# the times change from run to run: T stands for them
norm() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z/T/g'; }
mxw query 10.250.0.2 10.250.7.7 198.51.100.1 > "$tmp/out"
rc=$?
check_eq "one not covered: exit 1" "$rc" 1
norm < "$tmp/out" > "$tmp/out.norm"
if [ -n "${REGEN:-}" ]; then
	cp "$tmp/out.norm" "$G/query.ok"
fi
if diff -u "$G/query.ok" "$tmp/out.norm" > "$tmp/diff"; then
	PASS=$((PASS + 1))
else
	FAIL=$((FAIL + 1))
	echo "FAIL - query output differs from $G/query.ok"
	sed 's/^/    /' "$tmp/diff"
fi
mxw query 10.250.0.2 10.250.7.7 > /dev/null
check_eq "all covered: exit 0" "$?" 0
mxw why 10.250.7.7 > /dev/null
check_eq "why is query" "$?" 0

json=$(mxw query --json 10.250.0.2 198.51.100.1)
check "json: list keys of the deciding entry, entries longest first" "$PY" -c '
import json, sys
a = json.loads(sys.argv[1])
q, n = a
assert q["address"] == "10.250.0.2" and q["covered"] is True
assert q["entry"] == "10.250.0.2" and q["action"] == "allow" and q["packets"] >= 1, q
assert [e["entry"] for e in q["entries"]] == ["10.250.0.2", "10.250.0.0/16"]
assert isinstance(q["seen"], str) and q["seen"].endswith("Z"), q["seen"]
assert q["events"] == [] and q["recidive"] is None and q["pardon"] is None
assert q["source"] == "local" and n["source"] is None, (q, n)
assert n["covered"] is False and n["entry"] is None and n["seen"] is False
' "$json"

# the same answers through the nftables backend (the entries move over)
check "switch to nft" mxw --backend nft attach veth0
check_eq "the exception connects through nft" "$(net_connect 10.250.0.2 10.250.0.1 25)" ok
mxw query 10.250.0.2 10.250.7.7 198.51.100.1 > "$tmp/nft"
check_eq "nft: one not covered: exit 1" "$?" 1
check_eq "nft: the same entries, longest first" \
	"$(awk '$1 == "entry" { printf "%s %s, ", $2, $3 }' "$tmp/nft")" \
	"10.250.0.2 allow, 10.250.0.0/16 drop, 10.250.7.7 drop, 10.250.0.0/16 drop, "
check "nft: the exception's SYN counted" grep -q "packets 1  bytes 60" "$tmp/nft"
check_eq "nft: the handshake record" "$(grep -c "wire      SMTP handshake " "$tmp/nft")" 1
net_finish
