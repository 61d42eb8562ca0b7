#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_dnsbl.sh - the fleet's DNSBL path end to end, with real servers:
# host A's watcher promotes a swaks client from its real Postfix's log and
# keeps its export fresh (export = FILE, export_format = rbldnsd);
# Debian's rbldnsd serves that file as a zone from a third namespace;
# host B's real Postfix runs postscreen with postscreen_dnsbl_sites
# pointing at the zone (B's namespace reaches the server through
# /etc/netns/B/resolv.conf, which `ip netns exec` puts over
# /etc/resolv.conf) and refuses the client with 521 before any SMTP;
# B's watcher, threshold 1 for the zone's tag, promotes the client and B's
# XDP filter drops its SYNs. Prints the time from A's crossing log line to
# B's entry.
#
#	NS_N: bridge br0, the client 203.0.113.77 (and 203.0.113.78)
#	NS_A: eth0 203.0.113.1   Postfix (smtpd), A's watcher
#	NS_B: eth0 203.0.113.2   Postfix (postscreen), B's XDP filter and watcher
#	NS_D: eth0 203.0.113.53  rbldnsd, zone bl.a.example
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/selftests/lib/postfix.sh"
t_init
unset MXWALL_TEST_HOOKS	# no fake clock: Postfix and rbldnsd live in real time
command -v swaks >/dev/null || t_fatal "swaks is not installed (scripts/install-deps.sh)"
pf_prepare || t_fatal "cannot unpack Postfix into the build tree (selftests/lib/pkgs.sh)"
R=$(f_pkgs rbldnsd) || t_fatal "cannot unpack rbldnsd into the build tree (selftests/lib/pkgs.sh)"
RBLDNSD=$R/usr/sbin/rbldnsd
[ -x "$RBLDNSD" ] || t_fatal "no rbldnsd in $R"
ZONE=bl.a.example
CLIENT=203.0.113.77	# misbehaves on A
OTHER=203.0.113.78	# does not
D=$T_DIR/fleet
mkdir -p "$D/a" "$D/b" "$D/dns"
chmod 755 "$T_DIR" "$D" "$D/dns"	# postfix and rbldnsd (nobody) read below
PA=/sys/fs/bpf/mxwall-test-$$-a
PB=/sys/fs/bpf/mxwall-test-$$-b
PFA=$T_DIR/pfa
PFB=$T_DIR/pfb
NS_N=mxw-dn-$$
NS_A=mxw-da-$$
NS_B=mxw-db-$$
NS_D=mxw-dd-$$
ETC_NETNS_NEW=
[ -d /etc/netns ] || ETC_NETNS_NEW=1
T_EXTRA_CLEANUP="pf_kill $PFA $NS_A; pf_kill $PFB $NS_B; rm -rf $PA $PB /etc/netns/$NS_B;"
T_EXTRA_CLEANUP+=" [ -n \"\$ETC_NETNS_NEW\" ] && rmdir /etc/netns 2>/dev/null"

# --- the network: one segment, a bridge in NS_N --------------------------
for ns in "$NS_N" "$NS_A" "$NS_B" "$NS_D"; do
	ip netns add "$ns" || t_fatal "netns $ns"
	T_NETNS+=("$ns")
	ip -n "$ns" link set lo up
done
ip -n "$NS_N" link add br0 type bridge || t_fatal "bridge"
for h in A:1 B:2 D:53; do
	ns=NS_${h%%:*}
	ip -n "$NS_N" link add "p${h%%:*}" type veth peer name eth0 netns "${!ns}" || t_fatal "veth"
	ip -n "$NS_N" link set "p${h%%:*}" master br0 up
	ip -n "${!ns}" addr add "203.0.113.${h#*:}/24" dev eth0
	ip -n "${!ns}" link set eth0 up
done
ip -n "$NS_N" addr add $CLIENT/24 dev br0
ip -n "$NS_N" addr add $OTHER/24 dev br0
ip -n "$NS_N" link set br0 up
# B's resolver is the DNS namespace's rbldnsd
mkdir -p "/etc/netns/$NS_B" || t_fatal "/etc/netns/$NS_B"
printf 'nameserver 203.0.113.53\noptions timeout:1 attempts:3\n' > "/etc/netns/$NS_B/resolv.conf"

A() { in_ns "$NS_A" "$MXWALL" --pin-dir "$PA" --state-dir "$D/a" "$@"; }
B() { in_ns "$NS_B" "$MXWALL" --pin-dir "$PB" --state-dir "$D/b" "$@"; }
# client CMD... - CMD from the client
client() { in_ns "$NS_N" "$@"; }
# Debian's python3, not a shim that starts a shell first
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)
# dnsq ADDR - the zone's A answer for the IPv4 ADDR (or NXDOMAIN, TIMEOUT),
# asked from B's namespace the way dnsblog asks
dnsq() {
	local o
	IFS=. read -ra o <<<"$1"
	in_ns "$NS_B" $PY "$T_ROOT/selftests/lib/dnsq.py" 203.0.113.53 53 \
		"${o[3]}.${o[2]}.${o[1]}.${o[0]}.$ZONE" A |
		awk 'NR == 1 && $0 != "NOERROR" { print; exit } NR > 1 { print }'
}
# lists A|B ADDR - that host has an entry ADDR
lists() { "$1" list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx "$2"; }
# dnsq_is ADDR ANSWER
dnsq_is() { [ "$(dnsq "$1")" = "$2" ]; }
# within SECS CMD... - until CMD succeeds, for at most SECS of real time
within() {
	local until=$(( $(date +%s) + $1 ))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -ge "$until" ] && return 1
		sleep 0.05
	done
}
# now - the real time, to the microsecond
now() { date +%s.%06N; }
ms() { $PY -c "print(round(($1 - $2) * 1000))"; }

# --- host A: Postfix (smtpd) and its watcher, exporting for rbldnsd --------
mkdir -p "$PFA" "$PFB"
pf_smtpd_cf "$PFA" 203.0.113.1 a.example > "$PFA/main.cf"
cat >> "$PFA/main.cf" <<EOC
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
EOC
pf_master_cf > "$PFA/master.cf"
pf_start "$PFA" "$NS_A" 203.0.113.1 2> "$T_DIR/pfa-start.log" || t_fatal "A's Postfix: $(cat "$T_DIR/pfa-start.log")"
cat > "$D/a.conf" <<EOC
log = $PFA/maillog
threshold = 3
require_seen = no
export = $D/dns/a-export
export_format = rbldnsd
blocklist = $D/none
EOC

f_watch a "$PA" "$D/a" "$D/a.conf" "$NS_A" || t_done
check "A writes its rbldnsd export at start" within 10 test -s "$D/dns/a-export"

# --- the DNS host: rbldnsd serving A's export ----------------------------
# -c 1: look at the file's modification time every second
ip netns exec "$NS_D" "$RBLDNSD" -n -u nobody -b 203.0.113.53/53 -c 1 -w "$D/dns" \
	-p "$D/dns/rbldnsd.pid" $ZONE:combined:a-export > "$T_DIR/rbldnsd.log" 2>&1 &
RBL_PID=$!
T_PIDS+=("$RBL_PID")
sleep 0.2
kill -0 $RBL_PID 2>/dev/null || t_fatal "rbldnsd: $(cat "$T_DIR/rbldnsd.log")"
check "rbldnsd answers B's namespace: the zone does not list the client yet" within 10 dnsq_is $CLIENT NXDOMAIN

# --- host B: Postfix with postscreen, the XDP filter, its watcher ---------
pf_smtpd_cf "$PFB" 203.0.113.2 b.example > "$PFB/main.cf"
pf_postscreen_cf $ZONE >> "$PFB/main.cf"
pf_master_cf_postscreen > "$PFB/master.cf"
pf_start "$PFB" "$NS_B" 203.0.113.2 2> "$T_DIR/pfb-start.log" || t_fatal "B's Postfix: $(cat "$T_DIR/pfb-start.log")"
check "B attaches its filter" B attach eth0
cat > "$D/b.conf" <<EOC
log = $PFB/maillog
threshold.$ZONE = 1
blocklist = $D/none
EOC
f_watch b "$PB" "$D/b" "$D/b.conf" "$NS_B" || t_done

# swaks_b SRC - one SMTP session from SRC to B (mail for b.example)
swaks_b() {
	client swaks --server 203.0.113.2 --port 25 --local-interface "$1" --timeout 8 \
		--helo client.example --from a@client.example --to postmaster@b.example 2>&1
}
# (another address: postscreen would remember the client's pass)
out=$(swaks_b $OTHER)
grep -q '^<- *250 .*queued as' <<<"$out" && ok "B's postscreen lets an unlisted client through to smtpd" ||
	fail "B's postscreen lets an unlisted client through to smtpd" "$(tail -n 5 <<<"$out")"
check_not "before: B does not list the client" lists B $CLIENT

# --- A promotes the client from three relay attempts Postfix rejects ------
RELAY_RE='postfix/smtpd\[[0-9]+\]: NOQUEUE: reject: RCPT from unknown\[203\.0\.113\.77\]: 554 5\.7\.1 .*Relay access denied'
for i in 1 2 3; do
	client swaks --server 203.0.113.1 --port 25 --local-interface $CLIENT --timeout 4 \
		--silent 1 --helo relay.client.example --from a@client.example \
		--to victim@elsewhere.example > /dev/null 2>&1
done
check_eq "A's Postfix logged the 3 relay rejections" "$(grep -cE "$RELAY_RE" "$PFA/maillog")" 3
check "A's watcher promotes the client" within 10 lists A $CLIENT
# the client tries B again as soon as the zone lists it (a spambot that
# hammers every MX)
check "the zone lists the client (127.0.0.2)" within 15 dnsq_is $CLIENT 127.0.0.2
t_dns=$(now)
out=$(swaks_b $CLIENT)
t_refused=$(now)
echo "# B's postscreen to the client: $(grep -m1 '^<\*\* *5' <<<"$out" | sed 's/^<\*\* *//')"
grep -q '^<\*\* *521 ' <<<"$out" && ok "B's postscreen answers the client 521 before any SMTP" ||
	fail "B's postscreen answers the client 521 before any SMTP" "$(tail -n 5 <<<"$out")"
grep -q '^ *-> *EHLO' <<<"$out" && fail "the client never got to say EHLO" "$out" || ok "the client never got to say EHLO"
grep -qE "postfix/postscreen\[[0-9]+\]: DNSBL rank [0-9]+ for \[$CLIENT\]:[0-9]+" "$PFB/maillog" &&
	ok "B's Postfix logs postscreen's DNSBL refusal" ||
	fail "B's Postfix logs postscreen's DNSBL refusal" "$(tail -n 8 "$PFB/maillog")"
grep -qE "postfix/dnsblog\[[0-9]+\]: addr $CLIENT listed by domain $ZONE as 127\.0\.0\.2" "$PFB/maillog" &&
	ok "B's dnsblog names the zone" || fail "B's dnsblog names the zone" "$(tail -n 8 "$PFB/maillog")"

# --- B promotes it and its filter drops the SYNs --------------------------
t_b=
within 10 lists B $CLIENT && t_b=$(now)
[ -n "$t_b" ] && ok "B's watcher promotes the client" || fail "B's watcher promotes the client" "$(tail -n 5 "$T_DIR/watch-b.err")"
B list > "$T_DIR/b.list"
grep -q "^$CLIENT .*\[a\] .*\[$ZONE\]" "$T_DIR/b.list" && ok "B's entry names the zone" ||
	fail "B's entry names the zone" "$(cat "$T_DIR/b.list")"
n_conn=$(grep -c "CONNECT from \[$CLIENT\]" "$PFB/maillog")
syn=$(client $PY -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
s.bind((sys.argv[1], 0))
s.settimeout(2.5)
try:
    s.connect(("203.0.113.2", 25))
    print("syn-ack")
except OSError:
    print("nothing")' $CLIENT)
check_eq "a further connection from the client gets no SYN-ACK from B" "$syn" nothing
pk=$(B list --json | $PY -c 'import json, sys
print(sum(e["packets"] for e in json.load(sys.stdin) if e["entry"] == sys.argv[1]))' $CLIENT)
[ "${pk:-0}" -ge 1 ] && ok "B's entry counts the dropped SYNs" || fail "B's entry counts the dropped SYNs" "packets ${pk:-none}"
check_eq "B's postscreen never saw that connection" "$(grep -c "CONNECT from \[$CLIENT\]" "$PFB/maillog")" "$n_conn"

# --- how long it took -------------------------------------------------------
t0=$(pf_line_time 3 "$RELAY_RE" "$PFA/maillog")
added=$(B list --json | $PY -c 'import json, sys
from datetime import datetime
for e in json.load(sys.stdin):
    if e["entry"] == sys.argv[1]:
        print(datetime.fromisoformat(e["added"].replace("Z", "+00:00")).timestamp())' $CLIENT)
if [ -n "${t0:-}" ] && [ -n "$t_b" ]; then
	echo "# from A's crossing log line (Postfix's time, whole seconds) to B's drop: $(ms "$t_b" "$t0") ms"
	echo "#   the zone lists the client: +$(ms "$t_dns" "$t0") ms; postscreen refused it: +$(ms "$t_refused" "$t0") ms;" \
		"B's entry added (its own stamp, whole seconds): +$(ms "${added:-0}" "$t0") ms"
fi
kill -TERM "$A_PID" "$B_PID"
wait "$A_PID"; check_eq "A stops cleanly" "$?" 0
wait "$B_PID"; check_eq "B stops cleanly" "$?" 0
check "B detaches" B detach --all
t_done
