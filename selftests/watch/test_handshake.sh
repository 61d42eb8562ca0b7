#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_handshake.sh - require_seen asks the kernel's record of completed
# SMTP handshakes, not the SYNs the filter saw: a log line plus something
# anyone can send is not enough. Two namespaces joined by a veth pair, a
# dual-stack listener on port 25, the watcher in the server namespace
# attaching the XDP filter itself, the clock at the real time.
#  - raw SYNs with a forged source, plus forged log lines: not promoted;
#  - a completed handshake (IPv4 through the dual-stack socket, IPv6),
#    plus log lines: promoted;
#  - an IPv6 address whose 32-bit hash under the old record equals that of
#    a source that connected: not promoted (the record keeps addresses
#    whole);
#  - a handshake older than seen_max_age does not vouch; a longer
#    seen_max_age (SIGHUP) lets it;
#  - after a switch to the nft backend the running watcher still reads the
#    record, which goes on recording under nft, and promotes into the nft
#    backend (no restart).
. "$(dirname "$0")/lib.sh"
t_init

t_ns_pair mxw-h 10.96.0.1/24 10.96.0.{2,3,4,5,6}/24 fd00:96::{2,3}/64
ip -n "$S" addr add fd00:96::1/64 dev vs$$ nodad
# forged sources route back to the client side, where nobody answers
ip -n "$S" route add 100.64.0.0/10 via 10.96.0.2
sleep 0.2

t_listen_smtp

cat > "$CONF" <<EOC
log = $LOG
interface = vs$$
threshold = 3
blocklist = $T_DIR/none
EOC

# handshake FROM TO - a completed connect to port 25; prints ok or why not
handshake() {
	nsenter --net=/run/netns/"$C" timeout 8 python3 -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam); s.bind((sys.argv[1], 0)); s.settimeout(3)
try:
    s.connect((sys.argv[2], 25)); print("ok")
except OSError as e: print(e)' "$1" "$2"
}

# raw_syn SRC - three SYNs to port 25 with a forged source, no handshake
raw_syn() {
	nsenter --net=/run/netns/"$C" python3 -c '
import socket, struct, sys
src, dst = sys.argv[1], "10.96.0.1"
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
sa, da = socket.inet_aton(src), socket.inet_aton(dst)
tcp = struct.pack("!HHIIBBHHH", 40000, 25, 12345, 0, 5 << 4, 0x02, 64240, 0, 0)
tcp = tcp[:16] + struct.pack("!H", csum(sa + da + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, sa, da)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(3):
    s.sendto(ip + tcp, (dst, 0))' "$1"
}

# old_twin ADDR - another IPv6 address in ADDR's /64 with the same 32-bit
# tag (and so the same slot) in the record the XDP program used to keep
# (mx_seen_tag of mxwall_shared.h: lowbias32, which inverts)
old_twin() {
	python3 -c '
import ipaddress, struct, sys
M = 0xffffffff
def mix(x):
    x ^= x >> 16; x = x * 0x7feb352d & M; x ^= x >> 15
    x = x * 0x846ca68b & M; x ^= x >> 16; return x
def unshift(x, s):
    r = x
    for _ in range(32 // s + 1):
        r = x ^ (r >> s)
    return r & M
def unmix(x):
    x = unshift(x, 16); x = x * pow(0x846ca68b, -1, 1 << 32) & M
    x = unshift(x, 15); x = x * pow(0x7feb352d, -1, 1 << 32) & M
    return unshift(x, 16)
def tag(w): return mix(w[0] ^ mix(w[1] ^ mix(w[2] ^ mix(w[3]))))
w = struct.unpack("<4I", ipaddress.IPv6Address(sys.argv[1]).packed)
w2 = w[2] ^ 0x5a5a0000
w3 = unmix(w[2] ^ mix(w[3]) ^ w2)
assert tag((w[0], w[1], w2, w3)) == tag(w)
print(ipaddress.IPv6Address(struct.pack("<4I", w[0], w[1], w2, w3)))' "$1"
}

# in the server namespace: the nft backend's table lives there
listed() { nsenter --net=/run/netns/"$S" "$MXWALL" list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx "$1"; }
said() { grep -q "$1" "$W_ERR"; }
wait_said() { local i; for ((i = 0; i < 100; i++)); do said "$1" && return 0; sleep 0.05; done; return 1; }

set_now "$(date +%s)"
start_watch || t_done
check "watch attached the record of handshakes" test -e "$MXWALL_PIN_DIR/wire_link"

# (a) forged SYNs plus forged lines
raw_syn 100.64.1.9
sleep 0.3
rejects 100.64.1.9 5
check "events of the forged source" wait_events 5
check "refused: no handshake" wait_said "not blocking 100.64.1.9: 3 rejections, but the kernel completed no SMTP handshake"
check_not "forged SYN source not blocked" listed 100.64.1.9

# (b) real handshakes
check_eq "v4 handshake" "$(handshake 10.96.0.2 10.96.0.1)" ok
rejects 10.96.0.2 3
check "v4 source with a handshake blocked" wait_listed 10.96.0.2
check_eq "v6 handshake" "$(handshake fd00:96::2 fd00:96::1)" ok
rejects fd00:96::2 3
check "v6 source with a handshake blocked" wait_listed fd00:96::2

# (c) the old record's 32-bit hash collides; the new one keeps addresses
TWIN=$(old_twin fd00:96::3)
check "a twin address" test -n "$TWIN" -a "$TWIN" != fd00:96::3
check_eq "its neighbour connects" "$(handshake fd00:96::3 fd00:96::1)" ok
rejects "$TWIN" 3
check "twin refused" wait_said "not blocking $TWIN: 3 rejections, but the kernel completed no SMTP handshake"
check_not "twin not blocked" listed "$TWIN"

# (d) the age of the record
check_eq "handshake, then two hours pass" "$(handshake 10.96.0.4 10.96.0.1)" ok
set_now $(( $(date +%s) + 7200 ))
sleep 0.3
rejects 10.96.0.4 3
check "too old: refused" wait_said "not blocking 10.96.0.4: 3 rejections, but its last SMTP handshake was 2h ago (seen_max_age 1h)"
check_not "too old: not blocked" listed 10.96.0.4
printf 'seen_max_age = 3h\n' >> "$CONF"
kill -HUP "$W_PID"
check "reloaded" wait_said "reloading"
sleep 0.3
rejects 10.96.0.4 1
check "within seen_max_age = 3h: blocked" wait_listed 10.96.0.4

# a backend switch under the running watcher
check "switch to nft" nsenter --net=/run/netns/"$S" "$MXWALL" --backend nft attach vs$$ 2>/dev/null
check "the record stays" test -e "$MXWALL_PIN_DIR/wire_link"
check_eq "handshake under nft" "$(handshake 10.96.0.5 10.96.0.1)" ok
rejects 10.96.0.5 3
check "the watcher still reads the record" wait_said "blocked 10.96.0.5 "
check_not "no refusal" said "not blocking 10.96.0.5"
check "the watcher follows the switch" said "the filter moved to the nft backend: following it"
check "promoted into the nft backend" wait_listed 10.96.0.5
raw_syn 100.64.1.10
sleep 0.3
rejects 100.64.1.10 3
check "forged under nft: refused" wait_said "not blocking 100.64.1.10: 3 rejections, but the kernel completed no SMTP handshake"
stop_watch
nsenter --net=/run/netns/"$S" "$MXWALL" detach vs$$ >/dev/null 2>&1
t_done
