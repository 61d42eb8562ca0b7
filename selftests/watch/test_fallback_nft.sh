#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_fallback_nft.sh - the watcher chooses its backend through the same
# front door as `attach`: with the backend left to auto and XDP unable to
# attach to the configured interface (the test hook force_xdp_fail), it
# falls back to nftables, says so, records why, and promotes into nft: the
# source is listed and its SYNs are dropped. Real SYNs through a veth pair.
. "$(dirname "$0")/lib.sh"
t_init
command -v nft >/dev/null || t_fatal "nft missing"

t_ns_pair mxw-fb 10.97.0.1/24 10.97.0.2/24
sleep 0.2

# no backend = : auto
cat > "$CONF" <<EOC
log = $LOG
interface = vs$$
threshold = 2
require_seen = no
blocklist = $T_DIR/none
EOC

in_srv() { nsenter --net=/run/netns/"$S" "$@"; }
listed_ns() { in_srv "$MXWALL" list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx "$1"; }
wait_listed_ns() {
	local i
	for ((i = 0; i < 50; i++)); do listed_ns "$1" && return 0; sleep 0.1; done
	return 1
}
# syn: one connect attempt from 10.97.0.2 to port 25; ok/timeout/refused
syn() {
	nsenter --net=/run/netns/"$C" timeout 8 python3 -c '
import socket
s = socket.socket(); s.bind(("10.97.0.2", 0)); s.settimeout(1.5)
try:
    s.connect(("10.97.0.1", 25)); print("ok")
except ConnectionRefusedError: print("refused")
except OSError: print("timeout")' || echo timeout
}

check_eq "before: the SYN is refused (nothing listens, nothing drops)" "$(syn)" refused

MXWALL_TEST_HOOKS=$MXWALL_TEST_HOOKS,force_xdp_fail start_watch || t_done
check "the watcher says it falls back" \
	grep -q "watch: XDP cannot attach to vs$$ (not supported here); using the nftables backend" "$W_ERR"
check "the watcher says which backend it uses" \
	grep -q "filter: nft backend (auto: XDP cannot attach to vs$$ (not supported here))" "$W_ERR"
check_eq "the backend recorded is nft" "$(head -n1 "$MXWALL_STATE_DIR/backend" 2>/dev/null)" nft
check_eq "status names nft and why" "$(in_srv "$MXWALL" status 2>&1 | head -n1)" \
	"backend:    nft (auto: XDP cannot attach to vs$$ (not supported here))"
check "no XDP maps left behind" test ! -e "$MXWALL_PIN_DIR/mx_cfg"
check "the nft table is on the interface" bash -c "nsenter --net=/run/netns/$S nft list table netdev mxwall >/dev/null 2>&1"

rejects 10.97.0.2 2
check "the source is promoted into nft" wait_listed_ns 10.97.0.2
check_eq "its SYN is dropped" "$(syn)" timeout
check "tag a on the entry" bash -c "nsenter --net=/run/netns/$S '$MXWALL' list | grep '^10.97.0.2 ' | grep -qw a"

stop_watch
in_srv "$MXWALL" detach vs$$ >/dev/null 2>&1
in_srv "$MXWALL" flush --all >/dev/null 2>&1
t_done
