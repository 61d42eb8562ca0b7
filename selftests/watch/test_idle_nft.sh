#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_idle_nft.sh - idle expiry on the nftables backend, which keeps no
# last-hit time: the watcher takes an entry's counter growing between two
# looks as a hit, so an entry whose SYNs keep being dropped stays, while
# one without hits leaves after idle_expire. Real SYNs through a veth pair;
# the fake clock of lib.sh moves the hours.
. "$(dirname "$0")/lib.sh"
t_init
command -v nft >/dev/null || t_fatal "nft missing"

S=mxw-is-$$
C=mxw-ic-$$
T_NETNS+=("$S" "$C")
ip netns add "$S" && ip netns add "$C" || t_fatal "netns"
ip link add vs$$ netns "$S" type veth peer name vc$$ netns "$C" || t_fatal "veth"
ip -n "$S" addr add 10.98.0.1/24 dev vs$$
ip -n "$C" addr add 10.98.0.2/24 dev vc$$
ip -n "$S" link set vs$$ up; ip -n "$S" link set lo up
ip -n "$C" link set vc$$ up; ip -n "$C" link set lo up
sleep 0.2

cat > "$CONF" <<EOC
log = $LOG
backend = nft
interface = vs$$
threshold = 2
require_seen = no
idle_expire = 1h
blocklist = $T_DIR/none
EOC

in_srv() { nsenter --net=/run/netns/"$S" "$@"; }
listed_ns() { in_srv "$MXWALL" list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx "$1"; }
wait_unlisted_ns() {
	local i
	for ((i = 0; i < 50; i++)); do listed_ns "$1" || return 0; sleep 0.1; done
	return 1
}
wait_listed_ns() {
	local i
	for ((i = 0; i < 50; i++)); do listed_ns "$1" && return 0; sleep 0.1; done
	return 1
}
# syn: one connect attempt from 10.98.0.2 to port 25; prints ok/timeout/refused
syn() {
	ip netns exec "$C" timeout 8 python3 -c '
import socket
s = socket.socket(); s.bind(("10.98.0.2", 0)); s.settimeout(1.5)
try:
    s.connect(("10.98.0.1", 25)); print("ok")
except ConnectionRefusedError: print("refused")
except OSError: print("timeout")' || echo timeout
}

W_ERR=$T_DIR/watch0.err
# nsenter execs the watcher: $! is the watcher itself, for the trap
nsenter --net=/run/netns/"$S" "$MXWALL" watch --config "$CONF" 2> "$W_ERR" &
W_PID=$!
T_PIDS+=("$W_PID")
for ((i = 0; i < 200; i++)); do grep -q "following" "$W_ERR" 2>/dev/null && break; sleep 0.05; done
check "watcher follows" grep -q "following" "$W_ERR"
check "nft backend in use" grep -q "nft" "$MXWALL_STATE_DIR/backend"
T0=$T_NOW

rejects 10.98.0.2 2
rejects 10.98.0.44 2
check "busy source promoted" wait_listed_ns 10.98.0.2
check "quiet source promoted" wait_listed_ns 10.98.0.44

check_eq "SYN dropped" "$(syn)" timeout
set_now $((T0 + 61))
sleep 1.5
check_eq "SYN dropped later" "$(syn)" timeout
set_now $((T0 + 1800))
sleep 1.5

set_now $((T0 + 3601))
check "the quiet entry leaves after idle_expire" wait_unlisted_ns 10.98.0.44
check "the entry whose SYNs keep coming stays" listed_ns 10.98.0.2
check_eq "one idle removal" "$(sql "SELECT count(*) FROM entries WHERE removal = 'idle'")" 1

kill -TERM "$W_PID"; wait "$W_PID"
in_srv "$MXWALL" detach vs$$ >/dev/null 2>&1
in_srv "$MXWALL" flush --all >/dev/null 2>&1
t_done
