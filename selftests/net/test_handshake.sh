#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_handshake.sh - the record of completed SMTP handshakes (what the
# watcher's require_seen asks; bpf/wire.bpf.c), read straight from its
# pinned map, on both backends. Two namespaces joined by a veth pair, a
# dual-stack listener on port 25 in the server namespace.
#  - attach makes the record (again from empty over pins of another
#    layout): a completed handshake is noted under the
#    client's full address (IPv4 through the dual-stack socket as IPv4,
#    IPv6 as itself), a neighbour is not;
#  - a raw SYN with a forged source that reaches the listener, a connect
#    to a port in the set where nothing listens, a handshake with a port
#    outside the set and a handshake in another network namespace are
#    not noted;
#  - status counts the sources recorded;
#  - attach again (an upgrade) replaces the program and keeps the record;
#  - switching the backend to nft keeps the record and goes on noting;
#  - detach of the last interface removes the program and every pin.
. "$(dirname "$0")/lib.sh"

net_require ip nsenter ss bpftool
SRV4=10.250.0.1
SRV6=fd00:250::1
SPOOF=100.64.1.9

net_setup || { echo "FAIL - namespace setup"; net_finish; }
net_add_src 10.250.4.1 10.250.4.2 10.250.4.3 fd00:250::41 fd00:250::42
net_listen 25 || net_finish
# the forged source routes back to the client side, where nobody answers
ip -n "$NS_SRV" route add 100.64.0.0/10 via 10.250.0.2

# recorded ADDR - is ADDR in the handshake record
recorded()
{
	bpftool map dump pinned "$PIN_DIR/wire_seen" | "$PY" -c '
import json, socket, sys
a = sys.argv[1]
if ":" in a:
    fam, key = 6, socket.inet_pton(socket.AF_INET6, a)
else:
    fam, key = 4, socket.inet_pton(socket.AF_INET, a) + bytes(12)
for e in json.load(sys.stdin):
    k = e.get("formatted", e)["key"]
    if k["family"] == fam and bytes(k["addr"]) == key:
        sys.exit(0)
sys.exit(1)' "$1"
}

# raw_syn SRC DST PORT - three SYNs with a forged source, no handshake
raw_syn()
{
	ns_cli "$PY" -c '
import socket, struct, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
sa, da = socket.inet_aton(src), socket.inet_aton(dst)
tcp = struct.pack("!HHIIBBHHH", 40000, port, 12345, 0, 5 << 4, 0x02, 64240, 0, 0)
tcp = tcp[:16] + struct.pack("!H", csum(sa + da + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, sa, da)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(3):
    s.sendto(ip + tcp, (dst, 0))
' "$@"
}

# listen_in NS PORT - a bare IPv4 listener in namespace NS for 30 s
listen_in()
{
	local i

	nsenter --net="/run/netns/$1" "$PY" -c '
import socket, sys, time
s = socket.socket()
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(8)
time.sleep(30)' "$2" &
	on_cleanup "kill $!"
	for i in $(seq 50); do
		nsenter --net="/run/netns/$1" ss -ltnH "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

absent() { ! recorded "$1"; }

# prog_gone ID - the kernel frees a program an RCU grace period after its
# last reference goes: wait up to 5 s for it
prog_gone() { local i; for ((i = 0; i < 50; i++)); do bpftool prog show id "$1" >/dev/null 2>&1 || return 0; sleep 0.1; done; return 1; }
wire_link_prog() { bpftool -j link show pinned "$PIN_DIR/wire_link" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["prog_id"])'; }

# a record of another layout in the way (an older mxwall): made again
mkdir -p "$PIN_DIR"
bpftool map create "$PIN_DIR/wire_seen" type hash key 20 value 8 entries 16 name wire_seen
out=$(mxw --backend xdp attach veth0 --ports 25,587 2>&1)
check_eq "attach (xdp), ports 25 and 587" "$?" 0
check "says the record starts again" grep -q "the handshake record has another layout; starting it again from empty" <<<"$out"
check_eq "the record is made anew" "$(bpftool -j map show pinned "$PIN_DIR/wire_seen" |
	"$PY" -c 'import json, sys; print(json.load(sys.stdin)["max_entries"])')" 131072
check "the record is pinned" test -e "$PIN_DIR/wire_seen"
check "the program is attached" wire_link_prog

check_eq "v4 handshake" "$(net_connect 10.250.4.1 $SRV4 25)" ok
check_eq "v6 handshake" "$(net_connect fd00:250::41 $SRV6 25)" ok
check "v4 client noted (dual-stack socket: as IPv4)" recorded 10.250.4.1
check "v6 client noted" recorded fd00:250::41
check "v6 neighbour not noted" absent fd00:250::42
check "status --json counts them" bash -c "$(declare -f mxw ns_srv); $(declare -p MXWALL PIN_DIR STATE_DIR NS_SRV PY); \
	mxw status --json | \"\$PY\" -c 'import json, sys; h = json.load(sys.stdin)[\"handshakes\"]; assert h == {\"attached\": True, \"sources\": 2}, h'"
check "status says so" bash -c "$(declare -f mxw ns_srv); $(declare -p MXWALL PIN_DIR STATE_DIR NS_SRV); \
	mxw status | grep -qx 'handshakes: 2 sources recorded'"

raw_syn $SPOOF $SRV4 25
sleep 0.3
check "the forged SYN reached the listener (SYN-RECV)" bash -c \
	"nsenter --net=/run/netns/$NS_SRV ss -Htn state syn-recv | grep -q $SPOOF"
check "forged SYN source not noted" absent $SPOOF
check_eq "refused connect (587: nothing listens)" "$(net_connect 10.250.4.2 $SRV4 587)" refused
check "refused source not noted" absent 10.250.4.2

# a port outside the set
listen_in "$NS_SRV" 2525
check "handshake with port 2525" ns_cli "$PY" -c \
	'import socket; socket.create_connection(("10.250.0.1", 2525), 2, ("10.250.4.2", 0)).close()'
check "handshake with port 2525 not noted" absent 10.250.4.2

# another namespace: a listener on port 25 on the client side
listen_in "$NS_CLI" 25
check "handshake in the client namespace" ns_srv "$PY" -c \
	'import socket; socket.create_connection(("10.250.0.2", 25), 2, ("10.250.0.1", 0)).close()'
check "handshake in another namespace not noted" absent 10.250.0.1

# upgrade in place
id1=$(wire_link_prog)
check "attach again" mxw attach veth0
id2=$(wire_link_prog)
check "a new program runs" test -n "$id2" -a "$id1" != "$id2"
# the kernel frees a replaced program after an RCU grace period: wait for it
check "the old one is gone" prog_gone "$id1"
check "the record stays" recorded 10.250.4.1

# switch to nft: the record stays and goes on
check "switch to nft" mxw --backend nft attach veth0
check "the record stays with nft" recorded fd00:250::41
check_eq "v4 handshake (nft)" "$(net_connect 10.250.4.3 $SRV4 25)" ok
check "noted under nft" recorded 10.250.4.3
raw_syn 100.64.1.10 $SRV4 25
sleep 0.3
check "forged SYN not noted under nft" absent 100.64.1.10

id3=$(wire_link_prog)
check "detach" mxw detach veth0
check_eq "no pins left" "$(ls -A "$PIN_DIR" 2>/dev/null | wc -l)" 0
check "the program is gone" prog_gone "$id3"
net_finish
