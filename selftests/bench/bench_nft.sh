#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench_nft.sh - the nftables backend next to the XDP backend, in one run:
#
#  1. load time: `mxwall load FILE` of 100k and 1M entries into an empty
#     table (90% /32 hosts, 9% /24, 1% /20), and loading the same 100k
#     again over themselves (every entry replaced, counters kept);
#  2. drop cost per packet: SMTP SYN frames sent by one pinned thread
#     (selftests/bench/tools/synflood.c) through a veth pair into a
#     namespace where they are dropped by nothing (the IP stack throws
#     them away: not for this host), by XDP, or by nftables, with the 1M
#     list loaded, each on its own veth pair, the runs taking turns. On
#     veth the receive path runs in the sender's context,
#     so CPU ns per frame = send cost + receive cost; the rows differ only
#     on the receive side. Two source mixes: /32 hosts (the first map nft
#     looks in) and /20 netblocks (nft looks in the /32 and /24 maps first).
#     Each figure is the lowest of ROUNDS runs (other work on the machine
#     only ever adds time).
#  3. read back: `mxwall top -n 20` over 100k and 1M entries (every
#     counter is read).
#
# usage: selftests/bench/bench_nft.sh [-q] [-w]
#   -q  quick: 100k only, fewer frames (a smoke run)
#   -w  write the table into docs/performance.md ("## nftables backend")
set -u
cd "$(dirname "$0")/../.." || exit 2
MXWALL=${MXWALL:-$PWD/build/mxwall}
QUICK=0
WRITE=0
while getopts qw o; do
	case $o in
	q) QUICK=1 ;;
	w) WRITE=1 ;;
	*) echo "usage: $0 [-q] [-w]" >&2; exit 2 ;;
	esac
done
ROUNDS=3
FRAMES=1000000
SIZES="100000 1000000"
if [ "$QUICK" = 1 ]; then
	ROUNDS=1
	FRAMES=200000
	SIZES="100000"
fi
SRV=mxbn-srv-$$
CLI=mxbn-cli-$$
TMP=
PIN=/sys/fs/bpf/mxwall-test-bench-nft-$$

cleanup() {
	local k
	for k in xdp nft none; do
		ip netns del "$SRV-$k" 2>/dev/null
		ip netns del "$CLI-$k" 2>/dev/null
		rm -rf "$PIN-$k"
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT

die() {
	echo "bench_nft: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$MXWALL" ] || die "$MXWALL not built (make)"
for t in ip nsenter python3 gcc taskset; do
	command -v "$t" >/dev/null || die "$t not installed"
done
TMP=$(mktemp -d /tmp/mxwall-bench-nft.XXXXXX) || die mktemp
gcc -O2 -Wall -o "$TMP/synflood" selftests/bench/tools/synflood.c ||
	die "cannot build synflood"

# the lists: N entries, 90% hosts from 11.0.0.1, 9% /24 from 12.0.0.0,
# 1% /20 from 14.0.0.0 (disjoint, so every entry is its own longest match)
for n in $SIZES; do
	python3 - "$n" "$TMP/list$n" <<'EOF' || die "cannot write the lists"
import ipaddress, sys
n = int(sys.argv[1])
hosts, n24 = n * 90 // 100, n * 9 // 100
n20 = n - hosts - n24
base = lambda s: int(ipaddress.IPv4Address(s))
ip = lambda v: str(ipaddress.IPv4Address(v))
with open(sys.argv[2], "w") as f:
    f.write("# bench list: %d entries\n" % n)
    for i in range(hosts):
        f.write(ip(base("11.0.0.1") + i) + "\n")
    for i in range(n24):
        f.write(ip(base("12.0.0.0") + i * 256) + "/24\n")
    for i in range(n20):
        f.write(ip(base("14.0.0.0") + i * 4096) + "/20\n")
EOF
done

# three pairs: the XDP receiver, the nft receiver, and one with no filter;
# the drop rounds go round the three, so that other work on the machine
# weighs on each the same
for k in xdp nft none; do
	ip netns add "$SRV-$k" || die "ip netns add"
	ip netns add "$CLI-$k" || die "ip netns add"
	ip -n "$SRV-$k" link add v0 type veth peer name v1 netns "$CLI-$k" ||
		die veth
	ip -n "$SRV-$k" addr add 10.250.0.1/16 dev v0
	ip -n "$CLI-$k" addr add 10.250.0.2/16 dev v1
	ip -n "$SRV-$k" link set v0 up
	ip -n "$CLI-$k" link set v1 up
	ip -n "$SRV-$k" link set lo up
done

# mx BACKEND ARGS...: mxwall in that backend's namespace and state
mx() {
	local k=$1
	shift
	nsenter --net=/run/netns/"$SRV-$k" env \
		MXWALL_STATE_DIR="$TMP/state-$k" MXWALL_PIN_DIR="$PIN-$k" \
		"$MXWALL" "$@"
}

# fresh BACKEND: a new state, attached to v0
fresh() {
	rm -rf "$TMP/state-$1" "$PIN-$1"
	mkdir -p "$TMP/state-$1"
	mx "$1" --backend "$1" attach v0 >/dev/null || die "attach --backend $1"
}

# gone BACKEND: detach and remove every trace
gone() {
	mx "$1" flush --all >/dev/null 2>&1
	mx "$1" detach v0 >/dev/null 2>&1
	nsenter --net=/run/netns/"$SRV-$1" nft delete table netdev mxwall \
		2>/dev/null
	rm -rf "$PIN-$1"
}

# timed CMD...: seconds taken, or "failed"
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	if ! "$@" >"$TMP/out" 2>&1; then
		echo failed
		sed 's/^/    /' "$TMP/out" >&2
		return
	fi
	t1=$(date +%s.%N)
	python3 -c "print('%.2f' % ($t1 - $t0))"
}

dropped() {
	mx "$1" status --json | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["counters"]["dropped"])'
}

# flood BACKEND SRC_FIRST NSRC STEP: CPU ns per frame of one run
flood() {
	nsenter --net=/run/netns/"$CLI-$1" taskset -c 1 "$TMP/synflood" \
		v1 02:00:00:00:00:99 "$2" "$3" "$4" 10.250.0.1 "$FRAMES" |
		awk '{ print $4 }'
}

declare -A LOAD RELOAD TOP DROP_H DROP_N BEFORE

BIG=${SIZES##* }
for be in xdp nft; do
	for n in $SIZES; do
		fresh "$be"
		LOAD[$be,$n]=$(timed mx "$be" load "$TMP/list$n")
		echo "load $n entries ($be): ${LOAD[$be,$n]} s"
		if [ "$n" = 100000 ]; then
			RELOAD[$be]=$(timed mx "$be" load "$TMP/list$n")
			echo "reload $n entries over themselves ($be): ${RELOAD[$be]} s"
		fi
		TOP[$be,$n]=$(timed mx "$be" top -n 20)
		echo "top -n 20 over $n entries ($be): ${TOP[$be,$n]} s"
		# the biggest list stays loaded for the drop rounds
		[ "$n" = "$BIG" ] || gone "$be"
	done
	BEFORE[$be]=$(dropped "$be")
done

# the frames go to a MAC that is not v0's: without a filter, the IP
# stack drops them as not for this host
for r in $(seq "$ROUNDS"); do
	for k in none xdp nft; do
		v=$(flood "$k" 11.0.0.1 65536 1)
		if [ -n "$v" ] && { [ -z "${DROP_H[$k]:-}" ] || [ "$v" -lt "${DROP_H[$k]}" ]; }; then
			DROP_H[$k]=$v
		fi
		v=$(flood "$k" 14.0.0.7 $((BIG / 100)) 4096)
		if [ -n "$v" ] && { [ -z "${DROP_N[$k]:-}" ] || [ "$v" -lt "${DROP_N[$k]}" ]; }; then
			DROP_N[$k]=$v
		fi
	done
	echo "drop round $r: none ${DROP_H[none]:-?}/${DROP_N[none]:-?} xdp ${DROP_H[xdp]:-?}/${DROP_N[xdp]:-?} nft ${DROP_H[nft]:-?}/${DROP_N[nft]:-?} ns (lowest so far, hosts / netblocks)"
done
for be in xdp nft; do
	d=$(( $(dropped "$be") - BEFORE[$be] ))
	echo "$be dropped $d of $((2 * ROUNDS * FRAMES)) frames"
	if [ "$d" -lt "$((2 * ROUNDS * FRAMES * 9 / 10))" ]; then
		echo "bench_nft: $be did not drop the frames" >&2
		DROP_H[$be]="not dropped"
		DROP_N[$be]="not dropped"
	fi
	gone "$be"
done

kernel=$(uname -r)
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
{
	echo "## nftables backend"
	echo
	echo "Measured by selftests/bench/bench_nft.sh on $(date -u +%Y-%m-%d), kernel"
	echo "$kernel, $cpu, $(nproc) CPUs shared with other work (each"
	echo "drop figure is the lowest of $ROUNDS runs of $FRAMES frames, the"
	echo "three receivers taking turns)."
	echo
	echo "Load time, \`mxwall load FILE\` into an empty table (90% /32, 9% /24,"
	echo "1% /20), and read-back time, wall seconds:"
	echo
	echo "| entries | XDP maps | nft sets |"
	echo "|--------:|---------:|---------:|"
	for n in $SIZES; do
		echo "| $n | ${LOAD[xdp,$n]} | ${LOAD[nft,$n]} |"
	done
	echo "| 100000 again (all replaced, counters kept) | ${RELOAD[xdp]} | ${RELOAD[nft]} |"
	for n in $SIZES; do
		echo "| \`top -n 20\` over $n (every counter read) | ${TOP[xdp,$n]} | ${TOP[nft,$n]} |"
	done
	echo
	echo "Drop cost per SMTP SYN on a veth pair, $BIG entries loaded: CPU ns"
	echo "per frame for send + receive in the sender's context (the send part"
	echo "is the same in every row):"
	echo
	echo "| receiver | from /32 hosts | from /20 netblocks |"
	echo "|----------|---------------:|-------------------:|"
	echo "| no filter (IP stack drops: not for this host) | ${DROP_H[none]} | ${DROP_N[none]} |"
	echo "| XDP (mxwall, veth native) | ${DROP_H[xdp]} | ${DROP_N[xdp]} |"
	echo "| nftables (mxwall, netdev ingress) | ${DROP_H[nft]} | ${DROP_N[nft]} |"
	for k in xdp nft; do
		dh="?" dn="?"
		case "${DROP_H[$k]}${DROP_H[none]}" in
		*[!0-9]*) ;;
		*) dh=$((DROP_H[$k] - DROP_H[none])) ;;
		esac
		case "${DROP_N[$k]}${DROP_N[none]}" in
		*[!0-9]*) ;;
		*) dn=$((DROP_N[$k] - DROP_N[none])) ;;
		esac
		echo "| $k minus no filter | $dh | $dn |"
	done
	echo
	echo "nft looks up each prefix length present, longest first, two lookups"
	echo "per length of /16 and longer (the shard dispatch, then the shard's"
	echo "map; docs/nftables.md): a host costs two here, a /20 source six"
	echo "(/32, /24 and /20). XDP on veth converts each frame for the program,"
	echo "which is why its rows sit above \"no filter\"; on a NIC with native"
	echo "XDP the drop happens before the kernel allocates anything."
} >"$TMP/table.md"
echo
cat "$TMP/table.md"

if [ "$WRITE" = 1 ]; then
	f=docs/performance.md
	[ -e "$f" ] || echo "# Performance" >"$f"
	python3 - "$f" "$TMP/table.md" <<'EOF'
import re, sys
path, new = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
m = re.search(r'^## nftables backend\n.*?(?=^## |\Z)', text, re.S | re.M)
if m:
    text = text[:m.start()] + new + "\n" + text[m.end():]
else:
    text = text.rstrip("\n") + "\n\n" + new
open(path, "w").write(text)
EOF
	echo "bench_nft: wrote the table into $f"
fi
