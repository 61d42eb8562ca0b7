#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_upgrade.sh - upgrade in place. Two namespaces joined by a veth pair,
# the filter attached on the server side by the mxwall of this tree (A),
# SYNs from a blocked source dropped and counted. Then:
#  - a second mxwall (B), built here from the same sources with a freshly
#    compiled BPF object and skeleton, attaches to the same interface: the
#    link now runs a new program (another program id), and the entries and
#    counters are those of before (no zeroed week); B's program goes on
#    counting into the same maps;
#  - a pinned layout that differs from the one this mxwall knows (the
#    layout number in mx_cfg, as backend_xdp.c checks it, set to another
#    value) is refused by attach, block, list, top and status with one
#    clear line saying so, exit 1, and nothing is reset: once the number is
#    put back, every entry and counter is still there (and the program kept
#    dropping and counting meanwhile);
#  - a pin directory with a map missing is refused the same way;
#  - the record of SMTP handshakes runs B's program too and keeps what A's
#    recorded.
set -u
. "$(dirname "$0")/../net/lib.sh"

net_require ip nsenter python3 ss bpftool clang cc
export MXWALL_TEST_HOOKS=${MXWALL_TEST_HOOKS:+$MXWALL_TEST_HOOKS,}capacity=4096	# small maps: quick to make and to read

SRV4=10.250.0.1
BLK=10.250.1.10
FREE=10.250.1.30

WDIR=$(mktemp -d /tmp/mxwall-upgrade.XXXXXX)
on_cleanup "rm -rf $WDIR"
cp "$MXWALL" "$WDIR/mxwall-a" || net_finish
A=$WDIR/mxwall-a
B=$WDIR/mxwall-b

# build_b - mxwall again, with a freshly compiled BPF object and skeleton
# (same flags as the Makefile) linked with this tree's other objects
build_b()
{
	local arch multi o

	arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
	multi=$(cc -print-multiarch 2>/dev/null)
	mkdir -p "$WDIR/inc" "$WDIR/obj" || return 1
	clang -O2 -g -Werror -Wall -target bpf -D__TARGET_ARCH_$arch \
		-I/usr/include/$multi -I"$TOP/bpf" \
		-c "$TOP/bpf/mxwall.bpf.c" -o "$WDIR/mxwall.bpf.o" || return 1
	bpftool gen skeleton "$WDIR/mxwall.bpf.o" > "$WDIR/inc/mxwall.skel.h" || return 1
	cc -O2 -g -std=gnu11 -D_GNU_SOURCE -I"$WDIR/inc" -I"$TOP/build" \
		-I"$TOP/ctl" -I"$TOP/bpf" -c "$TOP/ctl/backend/xdp.c" \
		-o "$WDIR/obj/backend_xdp.o" || return 1
	# the objects of this tree's sources (not stale ones of removed files)
	for c in "$TOP"/ctl/*.c "$TOP"/ctl/*/*.c; do
		rel=${c#"$TOP"/ctl/}
		rel=${rel%.c}.o
		case "$rel" in backend/xdp.o) continue ;; esac
		cp "$TOP/build/obj/$rel" "$WDIR/obj/${rel//\//_}" || return 1
	done
	# shellcheck disable=SC2046
	cc "$WDIR"/obj/*.o $(make -s -C "$TOP" print-ldlibs) -o "$B"
}

mx() { local bin=$1; shift; ns_srv "$bin" --pin-dir "$PIN_DIR" --state-dir "$STATE_DIR" "$@"; }

field()
{
	mx "$1" top --json -n 0 | python3 -c '
import json, sys
rows = {r["entry"]: r for r in json.load(sys.stdin)}
r = rows.get(sys.argv[1])
print("absent" if r is None else r[sys.argv[2]])' "$2" "$3"
}

prog_id()
{
	bpftool -j link show pinned "$PIN_DIR/link_veth0" | python3 -c '
import json, sys
print(json.load(sys.stdin)["prog_id"])'
}

# set_layout N - write N into the layout field of the pinned mx_cfg
set_layout()
{
	local val

	val=$(bpftool -j map lookup pinned "$PIN_DIR/mx_cfg" key 0 0 0 0 | python3 -c '
import json, struct, sys
d = json.load(sys.stdin)
v = bytes(int(b, 16) for b in d["value"])
v = v[:4] + struct.pack("<I", int(sys.argv[1])) + v[8:]
print(" ".join(str(b) for b in v))' "$1") || return 1
	bpftool map update pinned "$PIN_DIR/mx_cfg" key 0 0 0 0 value $val
}

get_layout()
{
	bpftool -j map lookup pinned "$PIN_DIR/mx_cfg" key 0 0 0 0 | python3 -c '
import json, struct, sys
d = json.load(sys.stdin)
v = bytes(int(b, 16) for b in d["value"])
print(struct.unpack("<I", v[4:8])[0])'
}

# the record of SMTP handshakes (bpf/wire.bpf.c): its program, and is
# IPv4 ADDR in it (key: family 4 as a u32, then the address in 16 bytes)
wire_prog()
{
	bpftool -j link show pinned "$PIN_DIR/wire_link" | python3 -c '
import json, sys
print(json.load(sys.stdin)["prog_id"])'
}
in_record()
{
	bpftool map lookup pinned "$PIN_DIR/wire_seen" \
		key 4 0 0 0 ${1//./ } 0 0 0 0 0 0 0 0 0 0 0 0 >/dev/null 2>&1
}

SNAP=
snapshot() { mx "$A" list --json | python3 -c '
import json, sys
print(sorted((r["entry"], r["action"], ",".join(r["tags"])) for r in json.load(sys.stdin)))'; }

check "build a fresh mxwall (B)" build_b
[ -x "$B" ] || net_finish
net_setup || { echo "FAIL - namespace setup"; net_finish; }
net_add_src $BLK $FREE
net_listen 25 || net_finish

check "A: attach veth0" mx "$A" attach veth0
check "A: block $BLK" mx "$A" block $BLK --tag upgrade
check "A: block a netblock" mx "$A" block 198.51.100.0/24
check "A: allow an exception" mx "$A" allow 198.51.100.7
check_eq "A drops $BLK" "$(net_connect $BLK $SRV4 25)" timeout
n1=$(field "$A" $BLK packets)
check "A counted the SYNs" test "$n1" -ge 2
id1=$(prog_id)
check_eq "A: an unlisted source connects" "$(net_connect $FREE $SRV4 25)" ok
check "A: its handshake is recorded" in_record $FREE
w1=$(wire_prog)

# upgrade in place with B
check "B: attach veth0 again (upgrade)" mx "$B" attach veth0
id2=$(prog_id)
check "the link runs a new program ($id1 -> $id2)" test "$id1" != "$id2"
check_eq "B sees A's counter" "$(field "$B" $BLK packets)" "$n1"
check_eq "entries kept" "$(mx "$B" list | wc -l)" 4
check_eq "B's program drops $BLK" "$(net_connect $BLK $SRV4 25)" timeout
check_eq "unlisted source still connects" "$(net_connect $FREE $SRV4 25)" ok
n2=$(field "$B" $BLK packets)
check "B's program counts on into the same counter ($n1 -> $n2)" test "$n2" -ge $((n1 + 2))
check_eq "A reads the same figure" "$(field "$A" $BLK packets)" "$n2"
w2=$(wire_prog)
check "the handshake record runs a new program ($w1 -> $w2)" test -n "$w2" -a "$w1" != "$w2"
check "and keeps what it recorded" in_record $FREE
SNAP=$(snapshot)

# a layout this mxwall does not know: refused, never reset
LAYOUT=$(sed -n 's/^#define MX_LAYOUT \([0-9]*\)$/\1/p' "$(dirname "$0")/../../bpf/mxwall_shared.h")
check_eq "layout number as pinned" "$(get_layout)" "$LAYOUT"
check "simulate a layout change" set_layout 99
for cmd in "attach veth0" "block 192.0.2.99" "list" "top" "status" "flush --all"; do
	out=$(mx "$A" $cmd 2>&1)
	rc=$?
	check_eq "$cmd with another layout: exit 1" "$rc" 1
	check "$cmd: says the layout differs" grep -q "the pinned maps have another layout than this mxwall expects; refusing to touch them" <<<"$out"
	check_eq "$cmd: in one line" "$(printf '%s\n' "$out" | wc -l)" 1
done
check_eq "the layout number was not rewritten" "$(get_layout)" 99
check_eq "meanwhile the program still drops" "$(net_connect $BLK $SRV4 25)" timeout
check "put the layout back" set_layout "$LAYOUT"
check_eq "entries unchanged after the refusals" "$(snapshot)" "$SNAP"
n3=$(field "$A" $BLK packets)
check "counters not reset, and they grew meanwhile ($n2 -> $n3)" test "$n3" -ge $((n2 + 2))

# a map missing from the pin directory: refused too
# (the attached program holds the map, so it lives on unpinned: pin it back)
stats_id=$(bpftool -j map show pinned "$PIN_DIR/mx_stats" | python3 -c '
import json, sys
print(json.load(sys.stdin)["id"])')
rm "$PIN_DIR/mx_stats"
out=$(mx "$A" list 2>&1)
check_eq "missing map: list exit 1" "$?" 1
check "missing map: says the pin directory is incomplete" grep -q "the pin directory is incomplete: a pinned map is missing" <<<"$out"
check_eq "missing map: in one line" "$(printf '%s\n' "$out" | wc -l)" 1
out=$(mx "$A" attach veth0 2>&1)
check_eq "missing map: attach exit 1" "$?" 1
check "pin the map back" bpftool map pin id "$stats_id" "$PIN_DIR/mx_stats"
check_eq "entries unchanged after the missing map" "$(snapshot)" "$SNAP"
check_eq "counter unchanged" "$(field "$A" $BLK packets)" "$n3"

check "detach" mx "$A" detach veth0
check "flush" mx "$A" flush --all
net_finish
