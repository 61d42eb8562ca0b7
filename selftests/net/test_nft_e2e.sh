#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_nft_e2e.sh - the nftables backend end to end: two namespaces joined
# by a veth pair, mxwall attached with --backend nft on the server side, a
# listener on port 25, TCP connects from several IPv4 and IPv6 sources.
#
# Asserts: blocked sources cannot connect and others can; an allow exception
# inside a blocked netblock connects; the per-entry counters in `top --json`
# and the global counters in `status --json` equal the SYNs sent (each
# connect waits less than the first SYN retransmission, so it sends exactly
# one SYN); non-SMTP ports pass; the administrator's own table is untouched
# by attach, block and detach, and `nft list ruleset` still works; a batch
# that the kernel refuses half-way leaves the previous state; the table
# holds no record of SYN sources, and attach removes that of a table made
# by an older mxwall; auto falls back to nft when XDP attach is refused
# (the test hook force_xdp_fail) and `status` says so.
#
# usage: selftests/net/test_nft_e2e.sh [-d]   (-d: a shell on failure)
set -u
cd "$(dirname "$0")/../.." || exit 2
MXWALL=${MXWALL:-$PWD/build/mxwall}
DEBUG_SHELL=0
[ "${1:-}" = "-d" ] && DEBUG_SHELL=1

pass=0
fail=0
SRV=mxnft-srv-$$
CLI=mxnft-cli-$$
STATE=
PIN=/sys/fs/bpf/mxwall-test-nft-$$
LPID=
OUT=

cleanup() {
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	[ -n "$STATE" ] && rm -rf "$STATE"
	[ -n "$OUT" ] && rm -f "$OUT"
	rm -rf "$PIN"
}
trap cleanup EXIT

ok() {
	pass=$((pass + 1))
	[ -n "${TEST_VERBOSE:-}" ] && echo "ok - $1"
	return 0
}

bad() {
	fail=$((fail + 1))
	echo "FAIL - $1"
	[ -s "$OUT" ] && sed 's/^/    /' "$OUT"
	if [ "$DEBUG_SHELL" = 1 ]; then
		echo "debug shell: server namespace $SRV, client $CLI"
		bash -i </dev/tty
	fi
	return 0
}

# check DESC CMD...: passes when CMD succeeds; its output is shown on failure
check() {
	local desc=$1
	shift
	if "$@" >"$OUT" 2>&1; then ok "$desc"; else bad "$desc"; fi
}

# check_not DESC CMD...: passes when CMD fails
check_not() {
	local desc=$1
	shift
	if "$@" >"$OUT" 2>&1; then bad "$desc"; else ok "$desc"; fi
}

# check_eq DESC ACTUAL EXPECTED
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		echo "$1: got '$2', expected '$3'" >"$OUT"
		bad "$1"
	fi
}

die() {
	echo "FAIL - missing prerequisite: $*"
	echo "$pass passed, $((fail + 1)) failed"
	exit 1
}

mx() {
	nsenter --net=/run/netns/"$SRV" env MXWALL_STATE_DIR="$STATE" \
		MXWALL_PIN_DIR="$PIN" "$MXWALL" "$@"
}

srv() {
	nsenter --net=/run/netns/"$SRV" "$@"
}

# connect SRC DST [PORT]: prints ok, refused or timeout; one SYN only
connect() {
	nsenter --net=/run/netns/"$CLI" python3 - "$1" "$2" "${3:-25}" <<'EOF'
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ':' in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.bind((src, 0))
# the first SYN retransmission comes after 1 s: wait less, send one SYN
s.settimeout(0.9)
try:
    s.connect((dst, port))
    print("ok")
except ConnectionRefusedError:
    print("refused")
except (socket.timeout, TimeoutError):
    print("timeout")
EOF
}

# packets_of ENTRY: packets of one entry from `top --json` (-1: absent)
packets_of() {
	mx top -n 1000 --json | python3 -c '
import json, sys
want = sys.argv[1]
for r in json.load(sys.stdin):
    if r["entry"] == want:
        print(r["packets"]); break
else:
    print(-1)' "$1"
}

# counter NAME: one global counter from `status --json`
counter() {
	mx status --json | python3 -c '
import json, sys
st = json.load(sys.stdin)
def find(o):
    if isinstance(o, dict):
        if sys.argv[1] in o and not isinstance(o[sys.argv[1]], (dict, list)):
            return o[sys.argv[1]]
        for v in o.values():
            r = find(v)
            if r is not None:
                return r
    return None
c = st.get("counters", st)
print(find(c))' "$1"
}

# status_field KEY: a top-level string of `status --json`
status_field() {
	mx status --json | python3 -c '
import json, sys
print(json.load(sys.stdin).get(sys.argv[1]))' "$1"
}

[ "$(id -u)" = 0 ] || die "must run as root"
for t in ip nsenter nft python3; do
	command -v "$t" >/dev/null || die "$t not installed"
done
[ -x "$MXWALL" ] || die "$MXWALL not built (make)"
STATE=$(mktemp -d /tmp/mxwall-nft-state.XXXXXX) || die "mktemp"
OUT=$(mktemp /tmp/mxwall-nft-out.XXXXXX) || die "mktemp"

ip netns add "$SRV" || die "ip netns add"
ip netns add "$CLI" || die "ip netns add"
ip -n "$SRV" link add v0 type veth peer name v1 netns "$CLI" || die "veth"
ip -n "$SRV" link set lo up
ip -n "$CLI" link set lo up
ip -n "$SRV" addr add 10.9.0.1/16 dev v0
ip -n "$SRV" addr add fd00:9::1/32 dev v0 nodad
for a in 10.9.0.2 10.9.1.5 10.9.1.9 10.9.2.7 10.9.3.3; do
	ip -n "$CLI" addr add $a/16 dev v1
done
for a in fd00:9::2 fd00:9:1::5 fd00:9:1::9; do
	ip -n "$CLI" addr add $a/32 dev v1 nodad
done
ip -n "$SRV" link set v0 up
ip -n "$CLI" link set v1 up
# no offloads in the way of counting bytes as the kernel sees them
srv sysctl -qw net.ipv4.tcp_syncookies=0

# the listener on port 25 (both families); nsenter execs python, so $! is
# the listener itself
nsenter --net=/run/netns/"$SRV" python3 -c '
import socket, threading
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 25))
s.listen(512)
while True:
    c, _ = s.accept()
    c.close()
' &
LPID=$!
sleep 0.5
check_eq "listener reachable before attach" "$(connect 10.9.0.2 10.9.0.1)" ok

# the administrator's own table, before mxwall does anything
srv nft -f - <<'EOF' || die "nft: cannot create the admin table"
table inet admin {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 9999 counter drop
	}
}
EOF
admin_before=$(srv nft list table inet admin)

# --- attach and block ---
check "attach --backend nft" mx --backend nft attach v0
check_eq "status: backend nft" "$(status_field backend)" nft
check "block netblock, host, v6 /48" mx block 10.9.1.0/24 10.9.2.7 \
	fd00:9:1::/48 --tag test
check "allow exceptions inside the blocks" mx allow 10.9.1.9 fd00:9:1::9
check "observe entry" mx block --observe 10.9.3.0/24
check "list shows the entries" bash -c \
	"$(declare -f mx); SRV=$SRV STATE=$STATE PIN=$PIN MXWALL=$MXWALL; mx list | grep -q '^10.9.1.0/24'"

# --- traffic ---
check_eq "clean v4 source connects" "$(connect 10.9.0.2 10.9.0.1)" ok
check_eq "clean v6 source connects" "$(connect fd00:9::2 fd00:9::1)" ok
n_net=0
for i in 1 2 3 4 5; do
	check_eq "blocked /24 source times out ($i)" \
		"$(connect 10.9.1.5 10.9.0.1)" timeout
	n_net=$((n_net + 1))
done
check_eq "blocked host times out" "$(connect 10.9.2.7 10.9.0.1)" timeout
check_eq "blocked v6 /48 source times out" \
	"$(connect fd00:9:1::5 fd00:9::1)" timeout
check_eq "allow exception inside blocked /24 connects" \
	"$(connect 10.9.1.9 10.9.0.1)" ok
check_eq "allow exception inside blocked v6 /48 connects" \
	"$(connect fd00:9:1::9 fd00:9::1)" ok
check_eq "observe entry passes" "$(connect 10.9.3.3 10.9.0.1)" ok
check_eq "blocked source reaches another port (not SMTP)" \
	"$(connect 10.9.1.5 10.9.0.1 26)" refused

# --- counters: one SYN per connect ---
check_eq "counter of 10.9.1.0/24" "$(packets_of 10.9.1.0/24)" "$n_net"
check_eq "counter of 10.9.2.7" "$(packets_of 10.9.2.7)" 1
check_eq "counter of fd00:9:1::/48" "$(packets_of fd00:9:1::/48)" 1
check_eq "counter of allow 10.9.1.9 (longest match)" \
	"$(packets_of 10.9.1.9)" 1
check_eq "counter of allow fd00:9:1::9" "$(packets_of fd00:9:1::9)" 1
check_eq "counter of observe 10.9.3.0/24" "$(packets_of 10.9.3.0/24)" 1
check_eq "global dropped" "$(counter dropped)" $((n_net + 2))
check_eq "global allowed" "$(counter allowed)" 2
check_eq "global observed" "$(counter observed)" 1
# SMTP SYNs: 2 clean + 5 dropped + 2 allowed + 1 observed (+1 before attach
# is not seen); the port 26 SYN is not SMTP
check_eq "global SMTP SYNs" "$(counter syn)" $((2 + n_net + 2 + 2 + 1))
bytes=$(mx top --json | python3 -c '
import json, sys
print([r["bytes"] for r in json.load(sys.stdin) if r["entry"] == "10.9.2.7"][0])')
[ "$bytes" -ge 40 ] && [ "$bytes" -le 80 ] && ok "bytes are IP bytes of one SYN ($bytes)" ||
	{ echo "bytes=$bytes" >"$OUT"; bad "bytes are IP bytes of one SYN"; }
# no record of SYN sources in the table: nothing reads one (the watcher
# asks the record of completed handshakes), and its update cost every SYN
check_not "no set of recent SYN sources in the table" bash -c \
	"nsenter --net=/run/netns/$SRV nft list table netdev mxwall | grep -q recent"
check_not "no rule updates a set from the packet path" bash -c \
	"nsenter --net=/run/netns/$SRV nft list table netdev mxwall | grep -q 'update @'"
# a table of an older mxwall, with its record and the rules filling it:
# attach again brings it up to date and still filters
srv nft add set netdev mxwall recent4 \
	'{ type ipv4_addr; size 65536; flags dynamic,timeout; timeout 1h; }'
srv nft add set netdev mxwall recent6 \
	'{ type ipv6_addr; size 65536; flags dynamic,timeout; timeout 1h; }'
srv nft insert rule netdev mxwall syn4 meta protocol ip update @recent4 '{ ip saddr }'
srv nft insert rule netdev mxwall syn6 meta protocol ip6 update @recent6 '{ ip6 saddr }'
check "an older table's record is there" bash -c \
	"nsenter --net=/run/netns/$SRV nft list table netdev mxwall | grep -q 'update @recent4'"
check "attach again over an older table" mx attach v0
check_not "attach removed the older table's sets" bash -c \
	"nsenter --net=/run/netns/$SRV nft list table netdev mxwall | grep -q recent"
check_not "and the rules that filled them" bash -c \
	"nsenter --net=/run/netns/$SRV nft list table netdev mxwall | grep -q 'update @'"
check_eq "blocked host still times out after the upgrade" \
	"$(connect 10.9.2.7 10.9.0.1)" timeout
check_eq "blocked v6 source still times out after the upgrade" \
	"$(connect fd00:9:1::5 fd00:9::1)" timeout
check_eq "allow exception still connects after the upgrade" \
	"$(connect 10.9.1.9 10.9.0.1)" ok
check_eq "counter of 10.9.2.7 after the upgrade" "$(packets_of 10.9.2.7)" 2
check_eq "counter of fd00:9:1::/48 after the upgrade" \
	"$(packets_of fd00:9:1::/48)" 2

# --- re-adding keeps counters, replaces metadata ---
check "re-block host with another tag" mx block 10.9.2.7 --tag again
check_eq "counter kept across re-add" "$(packets_of 10.9.2.7)" 2
check "metadata replaced" bash -c \
	"$(declare -f mx); SRV=$SRV STATE=$STATE PIN=$PIN MXWALL=$MXWALL; mx list --json | grep '\"10.9.2.7\"' | grep -q again"

# --- a batch the kernel refuses half-way changes nothing ---
before=$(mx list --json)
# a map of the name mxwall would use for 10.61.0.0/20 (shard 16), but of
# another type: the kernel refuses the elements added to it, in the middle
# of the batch
srv nft add map netdev mxwall d4_20_16 '{ type ipv4_addr : ipv4_addr; }'
printf '10.60.0.0/24\n10.61.0.0/20\n10.62.0.1\n' >"$STATE/load.txt"
check_not "load with an entry the kernel refuses fails" mx load "$STATE/load.txt"
check_eq "failed load left the previous entries" "$(mx list --json)" "$before"
check_not "no entry of the failed load is there" bash -c \
	"$(declare -f mx); SRV=$SRV STATE=$STATE PIN=$PIN MXWALL=$MXWALL; mx list | grep -q '10.6[02]'"
srv nft delete map netdev mxwall d4_20_16
# the same load plus an entry that exists: it is replaced, counters kept
echo 10.9.1.0/24 >>"$STATE/load.txt"
check "the same load applies once the obstacle is gone" mx load "$STATE/load.txt"
check_eq "load over an existing entry keeps its counter" \
	"$(packets_of 10.9.1.0/24)" "$n_net"
check "loaded entries listed" bash -c \
	"$(declare -f mx); SRV=$SRV STATE=$STATE PIN=$PIN MXWALL=$MXWALL; mx list | grep -q '^10.61.0.0/20'"
check_eq "clean source still connects after the load" "$(connect 10.9.0.2 10.9.0.1)" ok

# --- unblock, zero counters via report? flush ---
check "unblock the host" mx unblock 10.9.2.7
check_eq "unblocked host connects" "$(connect 10.9.2.7 10.9.0.1)" ok
check_not "unblock of a missing entry fails" mx unblock 10.9.2.7

# --- block --ttl stops dropping at expiry with no watcher running ---
check "block --ttl 3s, no watcher" mx block 10.9.2.7 --ttl 3s
check_eq "a ttl entry drops before expiry" "$(connect 10.9.2.7 10.9.0.1)" timeout
sleep 4
check_eq "and passes after expiry (the kernel's element timeout)" \
	"$(connect 10.9.2.7 10.9.0.1)" ok
check_not "the expired entry is no longer listed" bash -c \
	"$(declare -f mx); SRV=$SRV STATE=$STATE PIN=$PIN MXWALL=$MXWALL; mx list | grep -q '^10.9.2.7 '"

# --- the admin's table and nft itself ---
check "nft list ruleset works with the mxwall table" srv nft list ruleset
check_eq "admin table untouched after attach/block" \
	"$(srv nft list table inet admin)" "$admin_before"
check "detach" mx detach v0
check_eq "admin table untouched after detach" \
	"$(srv nft list table inet admin)" "$admin_before"
check_eq "after detach, blocked source connects" \
	"$(connect 10.9.1.5 10.9.0.1)" ok
check "flush --all" mx flush --all
check "detach --all leaves no table" bash -c \
	"$(declare -f mx); SRV=$SRV STATE=$STATE PIN=$PIN MXWALL=$MXWALL; mx attach v0 && mx detach v0"
check_not "mxwall table gone" srv nft list table netdev mxwall
check "admin table still there" srv nft list table inet admin
check_eq "admin table untouched at the end" \
	"$(srv nft list table inet admin)" "$admin_before"

# --- a concurrent reader sees the table before or after a load, never
# half of it (one batch; dumps compare the ruleset generation) ---
python3 - "$STATE/big.txt" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(40000):
        f.write("10.%d.%d.%d\n" % (100 + i // 65536, (i // 256) % 256, i % 256))
    for i in range(2000):
        f.write("172.%d.%d.0/24\n" % (16 + i // 256, i % 256))
EOF
check "attach for the concurrent read" mx attach v0
check "one entry before the load" mx block 10.9.2.7
rm -f "$STATE/counts"
(
	while [ ! -e "$STATE/load.done" ]; do
		mx status --json 2>/dev/null | python3 -c \
			'import json,sys; e = json.load(sys.stdin)["entries"]; print(e["static"] + e["dynamic"])' \
			>>"$STATE/counts" || echo error >>"$STATE/counts"
	done
) &
RPID=$!
sleep 0.3
# the load adds 42,000 entries; loading the same list again replaces every
# one of them (delete and add, in one batch): a reader never sees fewer
rc=0
for i in 1 2 3 4 5; do
	mx load "$STATE/big.txt" >"$OUT" 2>&1 || rc=1
done
touch "$STATE/load.done"
wait "$RPID"
check_eq "load of 42,000 entries, then four times again, while a reader lists" "$rc" 0
samples=$(wc -l <"$STATE/counts")
[ "$samples" -ge 3 ] && ok "the reader read $samples times" ||
	{ echo "samples=$samples" >"$OUT"; bad "the reader read at least 3 times"; }
mx list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' \
	>>"$STATE/counts"
bad_counts=$(grep -cv '^\(1\|42001\)$' "$STATE/counts")
check_eq "every read saw 1 or 42001 entries ($(sort "$STATE/counts" | uniq -c | tr '\n' ' '))" \
	"$bad_counts" 0
check "flush after the concurrent read" mx flush --all
check "detach after the concurrent read" mx detach v0

# --- auto fallback when XDP attach is refused ---
rm -f "$STATE/backend"
nsenter --net=/run/netns/"$SRV" env MXWALL_STATE_DIR="$STATE" \
	MXWALL_PIN_DIR="$PIN" MXWALL_TEST_HOOKS=force_xdp_fail "$MXWALL" attach v0 \
	>"$OUT" 2>&1
rc=$?
check_eq "auto attach with XDP refused succeeds" "$rc" 0
check_eq "auto: status says nft" "$(status_field backend)" nft
why=$(status_field why)
case "$why" in
*XDP*) ok "auto: status says why ($why)" ;;
*) echo "why=$why" >"$OUT"; bad "auto: status says why" ;;
esac
check "auto: block works on the fallback" mx block 10.9.2.7
check_eq "auto: blocked host times out" "$(connect 10.9.2.7 10.9.0.1)" timeout
check_eq "auto: counter" "$(packets_of 10.9.2.7)" 1
check "auto: unblock, detach" bash -c \
	"$(declare -f mx); SRV=$SRV STATE=$STATE PIN=$PIN MXWALL=$MXWALL; mx unblock 10.9.2.7 && mx detach v0"
check_not "auto: table gone after the last detach" srv nft list table netdev mxwall

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
