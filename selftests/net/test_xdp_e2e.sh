#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_xdp_e2e.sh - the XDP filter end to end: two namespaces joined by a
# veth pair, `mxwall attach` on the server side, a listener on port 25, and
# real TCP connects from several client source addresses (v4 and v6).
#
# Blocked hosts and members of blocked netblocks time out, an allow
# exception inside a blocked netblock connects, unlisted sources connect;
# `top --json` shows exact counts (every blocked connect sends exactly two
# SYNs: TCP_SYNCNT=1; a SYN with Linux's options is 60 IP bytes over IPv4,
# 80 over IPv6); a second mxwall process sees the same state; attach again
# (an upgrade) keeps the counters; observe mode counts but passes; detach
# restores connectivity; flush --all + detach leaves no pins.
set -u
. "$(dirname "$0")/lib.sh"

net_require ip nsenter ss

V4_HOST=10.250.1.10		# blocked host
V4_NET=10.250.2.0/24		# blocked netblock ...
V4_MEMBER=10.250.2.5		# ... a member of it
V4_ALLOW=10.250.2.7		# ... and an allow exception inside
V4_FREE=10.250.3.5		# not listed
V4_TTL=10.250.3.6		# blocked for 3 s only
V4_GROW=10.77.0.1		# one of the entries that make the tables grow
V6_HOST=fd00:250::10
V6_NET=fd00:250::200/120
V6_MEMBER=fd00:250::205
V6_ALLOW=fd00:250::207
V6_FREE=fd00:250::5
SRV4=10.250.0.1
SRV6=fd00:250::1

net_setup || { echo "FAIL - namespace setup"; net_finish; }
net_add_src $V4_HOST $V4_MEMBER $V4_ALLOW $V4_FREE $V4_TTL $V4_GROW $V6_HOST $V6_MEMBER $V6_ALLOW $V6_FREE
net_listen 25 || net_finish

# connect_all SRC... - "SRC=result" for each, in parallel (blocked ones wait 2.5 s)
connect_all()
{
	local s dst tmp pids=()

	tmp=$(mktemp -d /tmp/mxwall-e2e.XXXXXX)
	for s in "$@"; do
		case "$s" in *:*) dst=$SRV6 ;; *) dst=$SRV4 ;; esac
		net_connect "$s" "$dst" 25 >"$tmp/$s" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for s in "$@"; do
		printf '%s=%s ' "$s" "$(cat "$tmp/$s")"
	done
	rm -rf "$tmp"
}

# snap: read `top --json -n 0` once; field ENTRY KEY queries that snapshot
snap()
{
	SNAP=$(mxw top --json -n 0)
}

field()
{
	printf '%s' "$SNAP" | "$PY" -c '
import json, sys
rows = {r["entry"]: r for r in json.load(sys.stdin)}
r = rows.get(sys.argv[1])
print("missing" if r is None else r[sys.argv[2]])
' "$1" "$2"
}

ALL="$V4_HOST $V4_MEMBER $V4_ALLOW $V4_FREE $V6_HOST $V6_MEMBER $V6_ALLOW $V6_FREE"
ALL_OK="$V4_HOST=ok $V4_MEMBER=ok $V4_ALLOW=ok $V4_FREE=ok $V6_HOST=ok $V6_MEMBER=ok $V6_ALLOW=ok $V6_FREE=ok "
FILTERED="$V4_HOST=timeout $V4_MEMBER=timeout $V4_ALLOW=ok $V4_FREE=ok $V6_HOST=timeout $V6_MEMBER=timeout $V6_ALLOW=ok $V6_FREE=ok "

check_eq "every source connects before attach" "$(connect_all $ALL)" "$ALL_OK"

check "attach veth0" mxw attach veth0
st=$(mxw status --json)
check "status: xdp on veth0, port 25" "$PY" -c '
import json, sys
s = json.loads(sys.argv[1])
assert s["backend"] == "xdp", s
assert [i["name"] for i in s["interfaces"]] == ["veth0"], s
assert s["interfaces"][0]["mode"] in ("native", "generic"), s
assert s["ports"] == [25] and s["observe"] is False, s
assert s["controller"]["running"] is False, s
' "$st"
check "status text says the controller is not running" \
	bash -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' status | grep -qx 'controller: not running'"

check "block hosts and netblocks" mxw block $V4_HOST $V6_HOST --tag njabl
check "block netblocks (static)" mxw block $V4_NET $V6_NET --static
check "allow exceptions inside" mxw allow $V4_ALLOW $V6_ALLOW --tag partner

check_eq "blocked time out, exceptions and unlisted connect" "$(connect_all $ALL)" "$FILTERED"

# exact counts: two SYNs per blocked connect, one per allowed connect
snap
check_eq "v4 host: packets" "$(field $V4_HOST packets)" 2
check_eq "v4 host: bytes" "$(field $V4_HOST bytes)" 120
check_eq "v6 host: packets" "$(field $V6_HOST packets)" 2
check_eq "v6 host: bytes" "$(field $V6_HOST bytes)" 160
check_eq "v4 netblock: packets" "$(field $V4_NET packets)" 2
check_eq "v6 netblock: packets" "$(field $V6_NET packets)" 2
check_eq "v4 allow: packets" "$(field $V4_ALLOW packets)" 1
check_eq "v6 allow: packets" "$(field $V6_ALLOW packets)" 1
check_eq "v4 allow: action" "$(field $V4_ALLOW action)" allow
check_eq "v4 host: tags" "$(field $V4_HOST tags)" "['njabl']"
check_eq "v4 netblock: origin" "$(field $V4_NET origin)" static
check_eq "unlisted source is no entry" "$(field $V4_FREE packets)" missing
last=$(field $V4_HOST last_hit)
check "v4 host: last_hit is ISO 8601" grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' <<<"$last"

st=$(mxw status --json)
check "global counters: 8 dropped, 2 allowed by exception" "$PY" -c '
import json, sys
c = json.loads(sys.argv[1])["counters"]
assert c["dropped"] == 8 and c["allowed"] == 2, c
assert c["syn"] >= 12, c
' "$st"

# the text table: sorted by packets, hosts without /32
top=$(mxw top -n 3)
check_eq "top header" "$(head -n1 <<<"$top")" "Host/Mask               Packets   Bytes  Tags"
check "top row: v4 host with tags" grep -Eq "^$V4_HOST +2 +120  \[njabl\]$" <<<"$top"
check_eq "top -n 3 prints 3 rows" "$(($(wc -l <<<"$top") - 1))" 3
check_eq "top --by /24 sums the netblock" \
	"$(mxw top --by /24 --json | "$PY" -c '
import json, sys
r = {x["entry"]: x for x in json.load(sys.stdin)}
print(r["10.250.2.0/24"]["packets"], r["fd00:250::/48"]["packets"])')" "3 5"

# a second process sees the same state (metadata from the pinned maps)
check_eq "list --static shows the core entries" \
	"$(mxw list --static --json | "$PY" -c '
import json, sys
print(" ".join(r["entry"] for r in json.load(sys.stdin)))')" \
	"$V4_NET $V4_ALLOW $V6_NET $V6_ALLOW"
check_eq "list --dynamic shows the blocked hosts" \
	"$(mxw list --dynamic --json | "$PY" -c '
import json, sys
print(" ".join(r["entry"] for r in json.load(sys.stdin)))')" "$V4_HOST $V6_HOST"

# upgrade: attach again replaces the program and keeps entries and counters
# entry, packets and bytes of every row (last_hit is derived from a
# monotonic clock and may shift by a second between two reads)
counts()
{
	mxw top --json -n 0 | "$PY" -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["entry"], r["action"], r["packets"], r["bytes"], r["origin"], ",".join(r["tags"]))'
}
before=$(counts)
check "attach again (upgrade)" mxw attach veth0
check_eq "upgrade kept entries and counters" "$(counts)" "$before"
mode=$(mxw status --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["interfaces"][0]["mode"])')
other=native
[ "$mode" = native ] && other=generic
check_eq "an upgrade asking for another mode says the mode stays" \
	"$(mxw attach veth0 --mode $other 2>&1; echo "rc=$?")" \
	"mxwall: warning: attach: veth0 stays in $mode mode (detach first to change the mode)
mxwall: attach: veth0: xdp backend, $mode mode
rc=0"
check_eq "still filtering after the upgrade" "$(connect_all $V4_HOST $V4_FREE)" "$V4_HOST=timeout $V4_FREE=ok "
snap
check_eq "counting after the upgrade" "$(field $V4_HOST packets)" 4

# growth while attached: past the first tables' room (1024 IPv4 entries)
# the maps are replaced by bigger ones, the program on the interface with
# them, every entry and counter kept
prog_id() {
	bpftool -j link show pinned "$PIN_DIR/link_veth0" | "$PY" -c '
import json, sys; print(json.load(sys.stdin)["prog_id"])'
}
id0=$(prog_id)
before=$(counts)
"$PY" -c '
for i in range(2000): print("10.77.%d.%d" % (i // 250, i % 250 + 1))' >"$STATE_DIR/grow.txt"
check "load 2000 entries into tables made for 1024" mxw load "$STATE_DIR/grow.txt"
check "the interface runs a program over the new maps" test "$(prog_id)" != "$id0"
check_eq "entries and counters kept across the growth" \
	"$(counts | grep -v '^10\.77\.')" "$before"
check_eq "filtering with the new maps" "$(connect_all $V4_GROW $V4_FREE)" \
	"$V4_GROW=timeout $V4_FREE=ok "
snap
check "an entry of the new maps counts" test "$(field $V4_GROW packets)" -ge 1
check_eq "every loaded entry listed" "$(mxw list | grep -c '^10\.77\.')" 2000
# shellcheck disable=SC2046
check "unblock them again" mxw unblock $(cat "$STATE_DIR/grow.txt")

# ttl
check "block with a ttl" mxw block $V4_FREE --ttl 1h
snap
exp=$(field $V4_FREE expires)
check "expires is set about an hour ahead" "$PY" -c '
import datetime, sys
e = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ")
d = (e - datetime.datetime.utcnow()).total_seconds()
assert 3500 < d <= 3600, d
' "$exp"
check "unblock it" mxw unblock $V4_FREE
# a ttl is the data path's to honour: no watcher runs here
check "block with a ttl of 3 s, no watcher" mxw block $V4_TTL --ttl 3s
check_eq "a ttl entry drops before its expiry" "$(connect_all $V4_TTL)" "$V4_TTL=timeout "
sleep 4
check_eq "past its expiry it passes, with no watcher" "$(connect_all $V4_TTL)" "$V4_TTL=ok "
snap
check_eq "list leaves the expired entry out" "$(field $V4_TTL packets)" missing

# observe mode: counted as if dropped, but passed
check "attach --observe" mxw attach veth0 --observe
check_eq "observe: blocked host connects" "$(connect_all $V4_HOST)" "$V4_HOST=ok "
snap
check_eq "observe: still counted" "$(field $V4_HOST packets)" 5
check "attach --observe=no" mxw attach veth0 --observe=no
check_eq "enforcing again" "$(connect_all $V6_HOST)" "$V6_HOST=timeout "

# per-entry observe: that entry counts and passes, the others still drop
check "block --observe" mxw block $V4_FREE --observe
check_eq "observed entry connects, blocked host does not" "$(connect_all $V4_FREE $V4_HOST)" \
	"$V4_FREE=ok $V4_HOST=timeout "
snap
check_eq "observed entry: action" "$(field $V4_FREE action)" observe
check_eq "observed entry: counted once" "$(field $V4_FREE packets)" 1
check "unblock the observed entry" mxw unblock $V4_FREE

# unblock restores one source
check "unblock the v6 host" mxw unblock $V6_HOST
check_eq "unblocked v6 host connects" "$(connect_all $V6_HOST)" "$V6_HOST=ok "

# flush --dynamic keeps the core list
check "flush --dynamic" mxw flush --dynamic
check_eq "only static entries remain" "$(mxw list --json | grep -c '"origin":"dynamic"')" 0
check_eq "static entries kept" "$(mxw list --static --json | grep -c '"entry"')" 4

# detach restores connectivity; with entries left, the pins stay
check "detach veth0" mxw detach veth0
check_eq "every source connects after detach" "$(connect_all $ALL)" "$ALL_OK"
check "entries survive detach" test -e "$PIN_DIR"
check_eq "status: no interfaces" "$(mxw status --json | "$PY" -c '
import json, sys; print(json.load(sys.stdin)["interfaces"])')" "[]"

# attach again, then flush --all + detach --all leaves no trace
check "attach again after detach" mxw attach veth0
check_eq "kept entries filter again" "$(connect_all $V4_MEMBER)" "$V4_MEMBER=timeout "
check "flush --all" mxw flush --all
check "detach --all" mxw detach --all
check "no pins left" test ! -e "$PIN_DIR"
check_eq "XDP gone from veth0" "$(ns_srv ip -d link show veth0 | grep -c 'prog/xdp')" 0
check_eq "every source connects at the end" "$(connect_all $ALL)" "$ALL_OK"

net_finish
