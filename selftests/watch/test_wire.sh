#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_wire.sh - trust the wire over the log: with require_seen (the
# default) a source is promoted only after the data path saw SMTP SYNs
# from it. Real SYNs go through a veth pair between two namespaces; the
# watcher attaches the filter itself (interface =) and runs in the server
# namespace, where its own addresses are never blocked. Then the blocked
# source's SYNs are dropped and counted.
. "$(dirname "$0")/lib.sh"
t_init

S=mxw-ws-$$
C=mxw-wc-$$
T_NETNS+=("$S" "$C")
ip netns add "$S" && ip netns add "$C" || t_fatal "netns"
ip link add vs$$ netns "$S" type veth peer name vc$$ netns "$C" || t_fatal "veth"
ip -n "$S" addr add 10.97.0.1/24 dev vs$$
ip -n "$C" addr add 10.97.0.2/24 dev vc$$
ip -n "$C" addr add 10.97.0.3/24 dev vc$$
ip -n "$S" link set vs$$ up; ip -n "$S" link set lo up
ip -n "$C" link set vc$$ up; ip -n "$C" link set lo up
sleep 0.2

cat > "$CONF" <<EOC
log = $LOG
interface = vs$$
threshold = 3
blocklist = $T_DIR/none
EOC
# syn FROM: one connect attempt to port 25 from FROM; prints ok/timeout/refused
syn() {
	ip netns exec "$C" timeout 8 python3 -c '
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.settimeout(2)
try:
    s.connect(("10.97.0.1", 25)); print("ok")
except ConnectionRefusedError: print("refused")
except OSError: print("timeout")' "$1" || echo timeout
}

start_watch_ns() {
	local n=${#T_PIDS[@]} i
	W_ERR=$T_DIR/watch$n.err
	nsenter --net=/run/netns/"$S" "$MXWALL" watch --config "$CONF" 2> "$W_ERR" &
	W_PID=$!
	T_PIDS+=("$W_PID")
	for ((i = 0; i < 200; i++)); do
		grep -q "following" "$W_ERR" 2>/dev/null && return 0
		kill -0 "$W_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "watcher started" "$(tail -n 5 "$W_ERR")"
	return 1
}
start_watch_ns || t_done
check "watch attached the filter itself" grep -q "attached to vs$$" "$W_ERR"
# the filter stamps hits with the wall clock: run an hour in the past, so
# that idle expiry can tell an entry with recent hits from one without
stop_watch
set_now $(( $(date +%s) - 3600 ))
start_watch_ns || t_done

# 10.97.0.3 never sent a SYN: its log lines are not enough
rejects 10.97.0.3 5
check "events of the unseen source" wait_events 5
check_not "unseen source not blocked" listed 10.97.0.3
check "refusal says why" grep -q "not blocking 10.97.0.3: 3 rejections, but no SMTP SYN" "$W_ERR"

# 10.97.0.2 connects (port 25 closed: refused, but the SYN was seen)
check_eq "first connect passes" "$(syn 10.97.0.2)" refused
rejects 10.97.0.2 3
check "seen source blocked" wait_listed 10.97.0.2
check_eq "its next SYN is dropped" "$(syn 10.97.0.2)" timeout
pk=$("$MXWALL" list --json | python3 -c 'import json,sys; print([e["packets"] for e in json.load(sys.stdin) if e["entry"] == "10.97.0.2"][0])')
check "drop counted" test "${pk:-0}" -ge 1
check_eq "the other source still connects" "$(syn 10.97.0.3)" refused
# now 10.97.0.3 was seen: its next rejection promotes it
rejects 10.97.0.3 1
check "seen later, then blocked" wait_listed 10.97.0.3

# require_seen = no, own addresses: never blocked
printf 'require_seen = no\nidle_expire = 1h\n' >> "$CONF"
kill -HUP "$W_PID"
for i in $(seq 1 40); do grep -q "reloading" "$W_ERR" && break; sleep 0.05; done
sleep 0.2
rejects 10.97.0.1 5
rejects 10.97.0.4 3
check "require_seen = no promotes the unseen" wait_listed 10.97.0.4
check_not "own address never blocked" listed 10.97.0.1

# idle expiry, an hour later: the entry whose SYNs were dropped stays
set_now $(( $(date +%s) + 61 ))
check "entries without hits leave (idle_expire)" wait_unlisted 10.97.0.4 5
check_not "the other one too" listed 10.97.0.3
check "the entry with recent hits stays" listed 10.97.0.2
check_eq "idle removals" "$(sql "SELECT count(*) FROM entries WHERE removal = 'idle'")" 2
stop_watch
nsenter --net=/run/netns/"$S" "$MXWALL" detach vs$$ >/dev/null 2>&1
t_done
