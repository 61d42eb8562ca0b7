#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_dns.sh - `mxwall export` served by real DNS servers, as the fleet's
# MTAs would query it (RFC 5782 names, A and TXT): Debian's rbldnsd with
# the combined dataset, and nsd with the zone file (checked by
# nsd-checkzone first). The DNSBL must answer exactly what the filter
# does: hosts, netblocks (also off an octet or nibble boundary), allow
# exceptions inside a blocked netblock, the core list with its own value,
# IPv6. Then `load --format` reads every export back to the same list,
# and a bad peer file changes nothing.
. "$(dirname "$0")/lib.sh"
t_init
command -v python3 >/dev/null || t_fatal "python3 missing"
R=$(f_pkgs rbldnsd nsd) || t_fatal "unpacking the DNS servers"
. "$R/env.sh"
NS=mxw-dns-$$
f_netns "$NS" || t_fatal "namespace"
mx() { in_ns "$NS" "$MXWALL" "$@"; }

check "attach" mx attach v0
check "block hosts and netblocks" mx block 192.0.2.7 203.0.113.0/24 198.51.100.0/22 --tag bad-helo
check "block with another reason" mx block 2001:db8::/32 2001:db8:1::5 --tag relay
check "allow exceptions" mx allow 203.0.113.9 2001:db8::9
check "a core-list entry" mx block 10.0.0.0/8 --static --tag njabl
mx list > "$T_DIR/list.before"

# --- rbldnsd ------------------------------------------------------------
D=$T_DIR/dns
mkdir -p "$D" && chmod 0755 "$T_DIR" "$D"
check "export rbldnsd" mx export --format rbldnsd --out "$D/bl.rbldnsd"
chmod 0644 "$D/bl.rbldnsd"
ip netns exec "$NS" "$R/usr/sbin/rbldnsd" -n -q -u nobody -b 127.0.0.1/53 \
	-w "$D" -p "$D/rbldnsd.pid" bl.example:combined:bl.rbldnsd \
	> "$T_DIR/rbldnsd.log" 2>&1 &
T_PIDS+=("$!")
check "rbldnsd answers" wait_dnsbl "$NS" 53 192.0.2.7 bl.example 127.0.0.2 10
rbl() { dnsbl "$NS" 53 "$1" bl.example "${2:-A}"; }
check_eq "rbldnsd: a host" "$(rbl 192.0.2.7)" 127.0.0.2
check_eq "rbldnsd: TXT names the reason" "$(rbl 192.0.2.7 TXT)" "listed by mxwall: bad-helo"
check_eq "rbldnsd: a member of a /24" "$(rbl 203.0.113.5)" 127.0.0.2
check_eq "rbldnsd: the allow exception inside it" "$(rbl 203.0.113.9)" NXDOMAIN
check_eq "rbldnsd: a /22 member" "$(rbl 198.51.103.200)" 127.0.0.2
check_eq "rbldnsd: just outside the /22" "$(rbl 198.51.104.1)" NXDOMAIN
check_eq "rbldnsd: the core list answers 127.0.0.3" "$(rbl 10.20.30.40)" 127.0.0.3
check_eq "rbldnsd: an unlisted address" "$(rbl 192.0.2.8)" NXDOMAIN
check_eq "rbldnsd: IPv6 host" "$(rbl 2001:db8:1::5)" 127.0.0.2
check_eq "rbldnsd: IPv6 netblock member" "$(rbl 2001:db8:ffff::1)" 127.0.0.2
check_eq "rbldnsd: IPv6 allow exception" "$(rbl 2001:db8::9)" NXDOMAIN
check_eq "rbldnsd: IPv6 outside" "$(rbl 2001:db9::1)" NXDOMAIN

# --- nsd with the zone files ---------------------------------------------
check "export zone (IPv4)" mx export --format zone --zone bl.example --out "$D/bl.example.zone"
check "export zone (IPv6)" mx export --format zone --zone bl6.example --family 6 --out "$D/bl6.example.zone"
check_not "a zone of both families is refused" mx export --format zone --zone x.example --family 4 --family 4 --static --dynamic
check "nsd-checkzone accepts the IPv4 zone" "$R/usr/sbin/nsd-checkzone" bl.example "$D/bl.example.zone"
check "nsd-checkzone accepts the IPv6 zone" "$R/usr/sbin/nsd-checkzone" bl6.example "$D/bl6.example.zone"
cat > "$D/nsd.conf" <<EOC
server:
	ip-address: 127.0.0.2
	port: 53
	username: ""
	chroot: ""
	zonesdir: "$D"
	pidfile: "$D/nsd.pid"
	zonelistfile: "$D/zone.list"
	xfrdfile: "$D/xfrd.state"
	xfrdir: "$D"
	logfile: "$D/nsd.log"
	database: ""
remote-control:
	control-enable: no
zone:
	name: bl.example
	zonefile: "$D/bl.example.zone"
zone:
	name: bl6.example
	zonefile: "$D/bl6.example.zone"
EOC
ip -n "$NS" addr add 127.0.0.2/8 dev lo 2>/dev/null
T_EXTRA_CLEANUP="pkill -9 -f '$D/nsd.conf'; pkill -9 -f '$D/rbldnsd.pid'"
ip netns exec "$NS" "$R/usr/sbin/nsd" -d -c "$D/nsd.conf" > "$T_DIR/nsd.log" 2>&1 &
T_PIDS+=("$!")
nsdq() { in_ns "$NS" python3 "$T_ROOT/selftests/lib/dnsq.py" 127.0.0.2 53 "$(revname "$1" "$2")" "${3:-A}" |
	awk 'NR == 1 && $0 != "NOERROR" { print; exit } NR > 1 { print }'; }
for i in $(seq 50); do [ "$(nsdq 192.0.2.7 bl.example)" = 127.0.0.2 ] && break; sleep 0.1; done
check_eq "nsd: a host" "$(nsdq 192.0.2.7 bl.example)" 127.0.0.2
check_eq "nsd: TXT names the reason" "$(nsdq 192.0.2.7 bl.example TXT)" "listed by mxwall: bad-helo"
check_eq "nsd: a member of a /24 (wildcard)" "$(nsdq 203.0.113.5 bl.example)" 127.0.0.2
# NOERROR without an A record (the name exists, the wildcard stops): not listed
check_eq "nsd: the allow exception inside it" "$(nsdq 203.0.113.9 bl.example)" ""
check_eq "nsd: a /22 member (expanded wildcards)" "$(nsdq 198.51.103.200 bl.example)" 127.0.0.2
check_eq "nsd: just outside the /22" "$(nsdq 198.51.104.1 bl.example)" NXDOMAIN
check_eq "nsd: the core list answers 127.0.0.3" "$(nsdq 10.20.30.40 bl.example)" 127.0.0.3
check_eq "nsd: an unlisted address" "$(nsdq 192.0.2.8 bl.example)" NXDOMAIN
check_eq "nsd: the RFC 5782 test entry 127.0.0.2" "$(nsdq 127.0.0.2 bl.example)" 127.0.0.2
check_eq "nsd: 127.0.0.1 is not listed" "$(nsdq 127.0.0.1 bl.example)" NXDOMAIN
check_eq "nsd: IPv6 host" "$(nsdq 2001:db8:1::5 bl6.example)" 127.0.0.2
check_eq "nsd: IPv6 netblock member" "$(nsdq 2001:db8:ffff::1 bl6.example)" 127.0.0.2
check_eq "nsd: IPv6 allow exception" "$(nsdq 2001:db8::9 bl6.example)" ""
check_eq "nsd: IPv6 outside" "$(nsdq 2001:db9::1 bl6.example)" NXDOMAIN
s1=$(awk '/^; serial/ { print $3 }' "$D/bl.example.zone")
check "export zone again" mx export --format zone --zone bl.example --out "$D/bl.example.zone"
s2=$(awk '/^; serial/ { print $3 }' "$D/bl.example.zone")
[ -n "$s1" ] && [ "$s2" -gt "$s1" ] && ok "the SOA serial rises on every write" ||
	fail "the SOA serial rises on every write" "$s1 -> $s2"
grep -q "SOA.* $s2 " "$D/bl.example.zone" && ok "the SOA record carries it" || fail "the SOA record carries it"

# --- load --format reads every export back ---------------------------------
mx export --format plain > "$D/list.plain"
mx export --format json > "$D/list.json"
for f in rbldnsd plain; do
	file=$D/bl.$f
	[ $f = plain ] && file=$D/list.plain
	check "flush before load of $f" mx flush --all
	check "load --format $f" mx load --format $f --dynamic "$file"
	mx list | awk 'NR > 1 { print $1, $4, $5 }' | sed 's/ *$//' | sort > "$T_DIR/after"
	awk 'NR > 1 { print $1, $4, $5 }' "$T_DIR/list.before" | sed 's/ \[static\]//; s/ *$//' | sort > "$T_DIR/want"
	check_eq "load --format $f: the same entries and tags" "$(diff "$T_DIR/want" "$T_DIR/after")" ""
done
check "flush before load of the zones" mx flush --all
check "load --format zone (IPv4)" mx load --format zone --dynamic "$D/bl.example.zone"
check "load --format zone (IPv6)" mx load --format zone --dynamic "$D/bl6.example.zone"
check "the /22 comes back as its /24s" bash -c "$MXWALL list --json | grep -q '198.51.103.0/24'"
check "the exception comes back" bash -c "$MXWALL list | grep -q '^203.0.113.9 .*\[allow\]'"

# --- list --plain | load --format plain: tags and origins kept ------------
check "flush before list --plain round trip" mx flush --all
check "the original entries back" mx load --format plain "$D/list.plain"
origins() { mx list --json | python3 -c 'import json,sys
for e in sorted(json.load(sys.stdin), key=lambda e: e["entry"]):
    print(e["entry"], e["action"], e["origin"], ",".join(e["tags"]))'; }
origins > "$T_DIR/o.before"
grep -q '^10.0.0.0/8 drop static njabl$' "$T_DIR/o.before" && grep -q '^192.0.2.7 drop dynamic bad-helo$' "$T_DIR/o.before" &&
	ok "an mxwall export loads with its own origins" || fail "an mxwall export loads with its own origins" "$(cat "$T_DIR/o.before")"
mx list --plain > "$T_DIR/list.plain2"
check "flush" mx flush --all
check "list --plain | load --format plain -" bash -c "nsenter --net=/run/netns/$NS $MXWALL load --format plain - < $T_DIR/list.plain2"
check_eq "the same entries, tags and origins" "$(origins | diff "$T_DIR/o.before" -)" ""

# --- bad peer files change nothing --------------------------------------
mx list > "$T_DIR/list.good"
printf '192.0.2.99\n0.0.0.0/0\n' > "$D/evil.txt"
check_not "a file listing 0.0.0.0/0 is refused" mx load --format plain "$D/evil.txt"
printf '192.0.2.99 ; relay\n192.0.2.' > "$D/trunc.txt"
check_not "a truncated plain list is refused" mx load --format plain "$D/trunc.txt"
printf '{"cidr":"192.0.2.99/32"}\n{"cidr":"192.0.2.' > "$D/trunc.json"
check_not "a truncated DROP JSON is refused" mx load --format drop-json "$D/trunc.json"
check_eq "nothing changed" "$(mx list | diff - "$T_DIR/list.good")" ""
mx load --format plain "$D/evil.txt" 2> "$T_DIR/err" >/dev/null
grep -q "evil.txt:2" "$T_DIR/err" && ok "the error names FILE:LINE" || fail "the error names FILE:LINE" "$(cat "$T_DIR/err")"
check "detach" mx detach --all
t_done
