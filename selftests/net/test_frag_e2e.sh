#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_frag_e2e.sh - fragmented SYNs cannot get a blocked source a SYN-ACK
# (RFC 1858), on both backends: two namespaces joined by a veth pair, a
# listener on port 25 in the server, raw fragments from the client
# (selftests/net/fragsyn.py): a tiny first fragment (8 bytes of TCP, the
# flags in the second) and a SYN whose options spill into the second
# fragment, over IPv4 and IPv6 (fragment header).
#
# Asserts, for XDP and then nft: from an unblocked source every shape gets
# a SYN-ACK (the kernel reassembles them: the test can see a bypass; Linux
# itself refuses the tiny IPv6 shape); from a blocked host and from inside
# a blocked netblock none does; every fragment counted to the entry.
#
# usage: selftests/net/test_frag_e2e.sh
set -u
. "$(dirname "$0")/lib.sh"

net_require ip nsenter "$PY"
net_setup || { echo "FAIL - namespaces"; echo "0 passed, 1 failed"; exit 1; }
FRAG=$TOP/selftests/net/fragsyn.py
V4_OK=10.250.1.1 V4_HOST=10.250.2.2 V4_NET=10.250.3.3
V6_OK=fd00:250::1:1 V6_HOST=fd00:250::2:2 V6_NET=fd00:250::3:3
net_add_src $V4_OK $V4_HOST $V4_NET $V6_OK $V6_HOST $V6_NET
net_listen 25 || net_finish
MAC=$(ip -n "$NS_SRV" -br link show veth0 | awk '{print $3}')

fragsyn()
{
	ns_cli "$PY" "$FRAG" veth0 "$MAC" "$@"
}

# entry_packets NET - packets counted to an entry (list --json)
entry_packets()
{
	mxw list --json | "$PY" -c '
import json, sys
for e in json.load(sys.stdin):
    if e["entry"] in (sys.argv[1], sys.argv[1].split("/")[0]):
        print(e.get("packets", 0))
' "$1"
}

run_backend()
{
	local be=$1 shape src dst n0 n1

	check "$be: attach" mxw --backend "$be" attach veth0
	check "$be: block a host and a netblock" \
		mxw block $V4_HOST/32 10.250.3.0/24 $V6_HOST/128 fd00:250::3:0/112
	for shape in whole tiny spill; do
		check_eq "$be: v4 $shape SYN from an unblocked source gets a SYN-ACK" \
			"$(fragsyn $V4_OK 10.250.0.1 25 $shape)" synack
	done
	# Linux itself discards an IPv6 first fragment without the whole TCP
	# header (RFC 8200 4.5), but not one whose options spill
	check_eq "$be: v6 tiny SYN from an unblocked source: the kernel refuses it" \
		"$(fragsyn $V6_OK fd00:250::1 25 tiny)" none
	for shape in whole spill; do
		check_eq "$be: v6 $shape SYN from an unblocked source gets a SYN-ACK" \
			"$(fragsyn $V6_OK fd00:250::1 25 $shape)" synack
	done
	n0=$(entry_packets $V4_HOST/32)
	m0=$(entry_packets $V6_HOST/128)
	for shape in whole tiny spill; do
		for src in $V4_HOST $V4_NET; do
			check_eq "$be: v4 $shape SYN from blocked $src: no SYN-ACK" \
				"$(fragsyn $src 10.250.0.1 25 $shape)" none
		done
		for src in $V6_HOST $V6_NET; do
			check_eq "$be: v6 $shape SYN from blocked $src: no SYN-ACK" \
				"$(fragsyn $src fd00:250::1 25 $shape)" none
		done
	done
	n1=$(entry_packets $V4_HOST/32)
	m1=$(entry_packets $V6_HOST/128)
	# whole: 1, tiny: 2 fragments, spill: 2 fragments
	check_eq "$be: the blocked v4 host's fragments counted to its entry" \
		"$((n1 - n0))" 5
	check_eq "$be: the blocked v6 host's fragments counted to its entry" \
		"$((m1 - m0))" 5
	check "$be: flush" mxw flush --all
}

# the nft attach switches backends: the XDP program goes away
run_backend xdp
run_backend nft
check_eq "nft: the XDP program is gone" \
	"$(ns_srv ip -d link show veth0 | grep -c xdp)" 0
net_finish
