#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_switch.sh - changing the backend moves the state across: entries with
# their action, origin, tags and expiry, the port set and observe mode go
# from XDP to nftables and back; the old backend is detached and removed
# only after the new one is in place, and blocked sources stay blocked.
. "$(dirname "$0")/lib.sh"
net_require nft sqlite3
net_setup
net_add_src 10.250.7.7 10.250.9.1 10.250.9.9 fd00:250::77
net_listen 25

# the entries as a stable text: entry action origin tags expires
entries() {
	mxw list --json | "$PY" -c '
import json, sys
for e in json.load(sys.stdin):
    print(e["entry"], e["action"], e["origin"], ",".join(e["tags"]), e["expires"])'
}

check "xdp attach" mxw --backend xdp attach veth0 --ports 25,587
check "block host" mxw block 10.250.7.7 --tag bad-helo --ttl 3h
check "block netblock" mxw block 10.250.9.0/24 --static --tag sbl
check "allow inside" mxw allow 10.250.9.9 --tag partner
check "block v6" mxw block fd00:250::77 --tag zen.spamhaus.org
BEFORE=$(entries)
check_eq "four entries" "$(wc -l <<<"$BEFORE")" 4

check "switch to nft" mxw --backend nft attach veth0
check_eq "entries moved to nft" "$(entries)" "$BEFORE"
check "status says nft" bash -c "$(declare -f mxw ns_srv); $(declare -p MXWALL PIN_DIR STATE_DIR NS_SRV) ; mxw status | grep -q '^backend: *nft'"
check "ports moved" bash -c "$(declare -f mxw ns_srv); $(declare -p MXWALL PIN_DIR STATE_DIR NS_SRV) ; mxw status --json | grep -q '\"ports\":\[25,587\]'"
check_eq "xdp pins removed" "$(ls "$PIN_DIR" 2>/dev/null | grep -vc '^wire_')" 0
check "the handshake record stays" test -e "$PIN_DIR/wire_link"
check_eq "no xdp program left" "$(ns_srv ip -d link show veth0 | grep -c 'prog/xdp')" 0
check_eq "nft: blocked host" "$(net_connect 10.250.7.7 10.250.0.1 25)" timeout
check_eq "nft: netblock member" "$(net_connect 10.250.9.1 10.250.0.1 25)" timeout
check_eq "nft: allow exception" "$(net_connect 10.250.9.9 10.250.0.1 25)" ok
check_eq "nft: v6 host" "$(net_connect fd00:250::77 fd00:250::1 25)" timeout
check_eq "nft: unlisted" "$(net_connect 10.250.0.2 10.250.0.1 25)" ok

check "switch back to xdp" mxw --backend xdp attach veth0
check_eq "entries moved back" "$(entries)" "$BEFORE"
check_eq "nft table removed" "$(ns_srv nft list tables | grep -c mxwall)" 0
check_eq "xdp: blocked host" "$(net_connect 10.250.7.7 10.250.0.1 25)" timeout
check_eq "xdp: allow exception" "$(net_connect 10.250.9.9 10.250.0.1 25)" ok
check "plain attach keeps xdp" mxw attach veth0
check_eq "still four entries" "$(entries | wc -l)" 4

check "detach" mxw detach veth0
check "flush" mxw flush --all
net_finish
