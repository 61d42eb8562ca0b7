# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - what the fleet tests share on top of selftests/watch/lib.sh:
# Debian's DNS servers unpacked into the build tree (never installed on
# the host), a namespace with an interface to attach to, and DNSBL queries.

. "$(dirname "${BASH_SOURCE[0]}")/../watch/lib.sh"

# f_pkgs NAME... - the root where selftests/lib/pkgs.sh unpacked NAMEs
f_pkgs() { "$T_ROOT/selftests/lib/pkgs.sh" "$@"; }

# f_netns NAME - a namespace with lo up and a veth pair (v0, v1) to attach
f_netns() {
	ip netns add "$1" || return 1
	T_NETNS+=("$1")
	ip -n "$1" link set lo up &&
		ip -n "$1" link add v0 type veth peer name v1 &&
		ip -n "$1" link set v0 up && ip -n "$1" link set v1 up
}

# in_ns NAME CMD... - CMD in NAME's network, with the host's bpffs
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

# f_watch X PINS STATE CONF [NS] - host X's watcher in the background (in
# namespace NS when given; nsenter keeps the host's bpffs), its log in
# $T_DIR/watch-X.err, its pid in X_PID (X in upper case); waits until it
# follows its log
f_watch() {
	local x=$1 pins=$2 state=$3 conf=$4 ns=${5:-} i
	${ns:+nsenter --net=/run/netns/$ns} "$MXWALL" --pin-dir "$pins" --state-dir "$state" \
		watch --config "$conf" 2> "$T_DIR/watch-$x.err" &
	eval "${x^^}_PID=$!"
	T_PIDS+=("$!")
	for ((i = 0; i < 200; i++)); do
		grep -q following "$T_DIR/watch-$x.err" && return 0
		sleep 0.05
	done
	fail "watcher $x started" "$(tail -n 5 "$T_DIR/watch-$x.err")"
	return 1
}

# revname ADDR ZONE - the DNSBL query name (RFC 5782)
revname() {
	python3 -c 'import ipaddress, sys
a = ipaddress.ip_address(sys.argv[1])
if a.version == 4:
    print(".".join(reversed(str(a).split("."))) + "." + sys.argv[2])
else:
    print(".".join(reversed(a.exploded.replace(":", ""))) + "." + sys.argv[2])' "$1" "$2"
}

# dnsbl NS PORT ADDR ZONE [TYPE] - what the DNSBL answers: the A value,
# the TXT text, or NXDOMAIN (rcode first line, answers after)
dnsbl() {
	in_ns "$1" python3 "$T_ROOT/selftests/lib/dnsq.py" 127.0.0.1 "$2" \
		"$(revname "$3" "$4")" "${5:-A}" | awk 'NR == 1 && $0 != "NOERROR" { print; exit } NR > 1 { print }'
}

# wait_dnsbl NS PORT ADDR ZONE VALUE [SECS] - until the answer is VALUE
wait_dnsbl() {
	local i lim=$(( ${6:-5} * 10 ))
	for ((i = 0; i < lim; i++)); do
		[ "$(dnsbl "$1" "$2" "$3" "$4")" = "$5" ] && return 0
		sleep 0.1
	done
	return 1
}
