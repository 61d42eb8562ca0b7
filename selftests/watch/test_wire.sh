#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_wire.sh - trust the wire over the log: with require_seen (the
# default) a source is promoted only after the kernel completed an SMTP
# handshake with it (test_handshake.sh: forged SYNs, hash twins, age).
# Real connects go through a veth pair between two namespaces; the
# watcher attaches the filter itself (interface =) and runs in the server
# namespace, where its own addresses are never blocked. Then the blocked
# source's SYNs are dropped and counted.
. "$(dirname "$0")/lib.sh"
t_init

t_ns_pair mxw-w 10.97.0.1/24 10.97.0.2/24 10.97.0.3/24
sleep 0.2
t_listen_smtp

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

start_watch || t_done
check "watch attached the filter itself" grep -q "attached to vs$$" "$W_ERR"
# the filter stamps hits with the wall clock: run an hour in the past, so
# that idle expiry can tell an entry with recent hits from one without
stop_watch
set_now $(( $(date +%s) - 3600 ))
start_watch || t_done

# 10.97.0.3 never sent a SYN: its log lines are not enough
rejects 10.97.0.3 5
check "events of the unseen source" wait_events 5
check_not "unseen source not blocked" listed 10.97.0.3
check "refusal says why" grep -q "not blocking 10.97.0.3: 3 rejections, but the kernel completed no SMTP handshake" "$W_ERR"

# 10.97.0.2 connects
check_eq "first connect passes" "$(syn 10.97.0.2)" ok
rejects 10.97.0.2 3
check "seen source blocked" wait_listed 10.97.0.2
check_eq "its next SYN is dropped" "$(syn 10.97.0.2)" timeout
pk=$("$MXWALL" list --json | python3 -c 'import json,sys; print([e["packets"] for e in json.load(sys.stdin) if e["entry"] == "10.97.0.2"][0])')
check "drop counted" test "${pk:-0}" -ge 1
check_eq "the other source still connects" "$(syn 10.97.0.3)" ok
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
