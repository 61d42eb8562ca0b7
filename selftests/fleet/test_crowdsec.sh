#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_crowdsec.sh - mxwall as a CrowdSec bouncer and publisher against
# Debian's crowdsec Local API (unpacked into the build tree, run with its
# own configuration and SQLite database, LAPI only, no hub, in the
# server namespace):
#  - decisions added with cscli (--ip and --range, IPv4 and IPv6) drop the
#    sources' SYNs within a poll; deleted, they pass again; `top` shows
#    the counters with the tag [crowdsec];
#  - host A's watcher promotes a source from a real Postfix's log (Debian's
#    package unpacked, selftests/lib/postfix.sh, its own config, queue and
#    maillog_file; swaks relay attempts from that source) and publishes it;
#    cscli lists it; host B's mxwall (own pins, state, interface) drops it;
#  - the LAPI stopped: entries kept, status says unreachable; restarted:
#    the stream resumes, nothing twice;
#  - bad answers (a stand-in LAPI): malformed JSON, a huge body, scope
#    Country, 0.0.0.0/0, our own address, an IPv4-mapped IPv6 address, a
#    refused key: a log line, nothing applied from a bad batch, no crash.
. "$(dirname "$0")/../net/lib.sh"
. "$TOP/selftests/lib/postfix.sh"
net_require ip nsenter "$PY" swaks
R=$("$TOP/selftests/lib/pkgs.sh" crowdsec) || { echo "FAIL - unpacking crowdsec"; echo "0 passed, 1 failed"; exit 1; }
pf_prepare || { echo "FAIL - unpacking postfix"; echo "0 passed, 1 failed"; exit 1; }
net_setup || { echo "FAIL - namespaces"; echo "0 passed, 1 failed"; exit 1; }
net_listen 25 || net_finish

# host A's Postfix: its own config, queue and log, on port 2525 of every
# server address (the listener above has port 25)
PF=$(mktemp -d /tmp/mxwall-test-pf.XXXXXX)
on_cleanup "pf_kill $PF $NS_SRV; rm -rf $PF"
pf_smtpd_cf "$PF" all a.example > "$PF/main.cf"
cat >> "$PF/main.cf" <<EOC
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
EOC
pf_master_cf 2525 > "$PF/master.cf"
pf_start "$PF" "$NS_SRV" 10.250.0.1 2525 2> "$STATE_DIR/pf-start.log" ||
	{ echo "FAIL - Postfix did not start"; cat "$STATE_DIR/pf-start.log"; echo "0 passed, 1 failed"; exit 1; }

C=$STATE_DIR/crowdsec
mkdir -p "$C/cfg" "$C/data" "$C/hub"
cp "$R/etc/crowdsec/profiles.yaml" "$R/etc/crowdsec/simulation.yaml" "$C/cfg/"
: > "$C/cfg/acquis.yaml"
echo '{}' > "$C/hub/.index.json"
cat > "$C/cfg/config.yaml" <<EOC
common:
  daemonize: false
  log_media: file
  log_level: info
  log_dir: $C/
  working_dir: .
config_paths:
  config_dir: $C/cfg/
  data_dir: $C/data/
  simulation_path: $C/cfg/simulation.yaml
  hub_dir: $C/hub/
  index_path: $C/hub/.index.json
  notification_dir: $C/cfg/notifications/
  plugin_dir: $C/plugins/
crowdsec_service:
  acquisition_path: $C/cfg/acquis.yaml
cscli:
  output: human
db_config:
  log_level: info
  type: sqlite
  use_wal: false
  db_path: $C/data/crowdsec.db
api:
  client:
    insecure_skip_verify: false
    credentials_path: $C/cfg/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: 127.0.0.1:8080
    profiles_path: $C/cfg/profiles.yaml
    trusted_ips:
      - 127.0.0.1
prometheus:
  enabled: false
EOC
LAPI_PID=
lapi_start() {
	# nsenter itself, not a function: $! must be the server, not a subshell
	nsenter --net="/run/netns/$NS_SRV" "$R/usr/bin/crowdsec" -c "$C/cfg/config.yaml" -no-cs >> "$C/lapi.out" 2>&1 &
	LAPI_PID=$!
	local i
	for i in $(seq 100); do
		ns_srv "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 8080), 1)' 2>/dev/null && return 0
		sleep 0.1
	done
	echo "FAIL - the Local API did not start"; tail -n 5 "$C/lapi.out" "$C/crowdsec_api.log" 2>/dev/null
	return 1
}
lapi_stop() { [ -n "$LAPI_PID" ] && kill "$LAPI_PID" 2>/dev/null; wait "$LAPI_PID" 2>/dev/null; LAPI_PID=; }
on_cleanup 'lapi_stop'
cscli() { ns_srv "$R/usr/bin/cscli" -c "$C/cfg/config.yaml" "$@"; }

lapi_start || net_finish
check "a machine for cscli" cscli machines add cli --auto -f "$C/cfg/local_api_credentials.yaml"
cscli bouncers add mxwall-a -o raw > "$C/key-a" 2>/dev/null
cscli bouncers add mxwall-b -o raw > "$C/key-b" 2>/dev/null
check "bouncer keys" test -s "$C/key-a" -a -s "$C/key-b"
printf 'pw%s%s%s\n' $RANDOM$RANDOM $RANDOM$RANDOM $RANDOM$RANDOM > "$C/pw-a"
check "a machine for host A" cscli machines add mxwall-a --password "$(cat "$C/pw-a")" -f /dev/null

# host A: the server namespace's veth0, its Postfix's log
LOG=$STATE_DIR/mail.log
: > "$LOG"
cat > "$STATE_DIR/a.conf" <<EOC
log = $PF/maillog
threshold = 3
require_seen = no
blocklist = $STATE_DIR/none
crowdsec_url = http://127.0.0.1:8080
crowdsec_api_key_file = $C/key-a
crowdsec_poll = 1s
crowdsec_machine_id = mxwall-a
crowdsec_password_file = $C/pw-a
EOC
check "A attaches" mxw attach veth0
# in_srv CMD... & - a server-side process whose pid $! is its own
in_srv() { exec nsenter --net="/run/netns/$NS_SRV" "$@"; }
(in_srv "$MXWALL" --pin-dir "$PIN_DIR" --state-dir "$STATE_DIR" watch --config "$STATE_DIR/a.conf" 2> "$STATE_DIR/a.err") &
A_PID=$!
on_cleanup "kill $A_PID"
for i in $(seq 100); do grep -q following "$STATE_DIR/a.err" && break; sleep 0.1; done
check "A follows its log" grep -q following "$STATE_DIR/a.err"
check "A says it is a bouncer and publisher" grep -q 'crowdsec: bouncer and publisher' "$STATE_DIR/a.err"

# wait_connect SRC DST WANT - until a connect gives WANT (a few polls)
wait_connect() {
	local i got
	for i in $(seq 8); do
		got=$(net_connect "$1" "$2" 25)
		[ "$got" = "$3" ] && return 0
		sleep 0.5
	done
	echo "last: $got"
	return 1
}

net_add_src 10.250.1.5 10.250.2.9 fd00:250::1:5 fd00:250::2:9
check "cscli: ban an IPv4 address" cscli decisions add --ip 10.250.1.5 --duration 1h --reason test-ip
check "cscli: ban an IPv4 range" cscli decisions add --range 10.250.2.0/24 --duration 1h
check "cscli: ban an IPv6 address" cscli decisions add --ip fd00:250::1:5 --duration 1h
check "cscli: ban an IPv6 range" cscli decisions add --range fd00:250::2:0/112 --duration 1h
check "the IPv4 address is dropped within a poll" wait_connect 10.250.1.5 10.250.0.1 timeout
check "the IPv4 range is dropped" wait_connect 10.250.2.9 10.250.0.1 timeout
check "the IPv6 address is dropped" wait_connect fd00:250::1:5 fd00:250::1 timeout
check "the IPv6 range is dropped" wait_connect fd00:250::2:9 fd00:250::1 timeout
check_eq "an unlisted source still connects" "$(net_connect 10.250.0.2 10.250.0.1 25)" ok
top=$(mxw top -n 0)
echo "$top" | grep -q '^10.250.1.5 .*[1-9].*\[crowdsec\] \[test-ip\]' &&
	PASS=$((PASS + 1)) || { FAIL=$((FAIL + 1)); echo "FAIL - top shows the counters with [crowdsec]"; echo "$top"; }
mxw list --json | grep -q '"entry":"10.250.2.0/24".*"source":"crowdsec"' &&
	PASS=$((PASS + 1)) || { FAIL=$((FAIL + 1)); echo "FAIL - list --json: source crowdsec"; }
exp=$(mxw list --json | "$PY" -c 'import json,sys; print([e["expires"] for e in json.load(sys.stdin) if e["entry"] == "10.250.1.5"][0])')
[ "$exp" != None ] && PASS=$((PASS + 1)) || { FAIL=$((FAIL + 1)); echo "FAIL - the entry expires with the decision"; }
check "cscli: delete the IPv4 decision" cscli decisions delete --ip 10.250.1.5
check "it connects again" wait_connect 10.250.1.5 10.250.0.1 ok
check "the range stays" wait_connect 10.250.2.9 10.250.0.1 timeout

# --- the publisher: A promotes, B (own pins, state, veth1) drops --------
ip -n "$NS_CLI" link add veth1 type veth peer name veth1 netns "$NS_SRV"
ip -n "$NS_SRV" addr add 10.251.0.1/16 dev veth1
ip -n "$NS_CLI" addr add 10.251.0.2/16 dev veth1
ip -n "$NS_CLI" addr add 10.251.3.7/16 dev veth1
ip -n "$NS_SRV" link set veth1 up
ip -n "$NS_CLI" link set veth1 up
PIN_B=$PIN_DIR-b
STATE_B=$STATE_DIR/b
mkdir -p "$STATE_B"
on_cleanup "rm -rf $PIN_B"
mxb() { ns_srv "$MXWALL" --pin-dir "$PIN_B" --state-dir "$STATE_B" "$@"; }
: > "$STATE_B/mail.log"
cat > "$STATE_B/b.conf" <<EOC
log = $STATE_B/mail.log
require_seen = no
blocklist = $STATE_DIR/none
crowdsec_url = http://127.0.0.1:8080
crowdsec_api_key_file = $C/key-b
crowdsec_poll = 1s
EOC
check "B attaches its own interface" mxb attach veth1
(in_srv "$MXWALL" --pin-dir "$PIN_B" --state-dir "$STATE_B" watch --config "$STATE_B/b.conf" 2> "$STATE_B/b.err") &
B_PID=$!
on_cleanup "kill $B_PID"
for i in $(seq 100); do grep -q following "$STATE_B/b.err" && break; sleep 0.1; done
check_eq "before: B lets 10.251.3.7 in" "$(net_connect 10.251.3.7 10.251.0.1 25)" ok
# three relay attempts from 10.251.3.7: Postfix rejects and logs them
RELAY_RE='postfix/smtpd\[[0-9]+\]: NOQUEUE: reject: RCPT from unknown\[10\.251\.3\.7\]: 554 5\.7\.1 .*Relay access denied'
for i in 1 2 3; do
	ns_cli swaks --server 10.251.0.1 --port 2525 --local-interface 10.251.3.7 --timeout 4 \
		--silent 1 --helo relay.client.example --from a@client.example \
		--to victim@elsewhere.example > /dev/null 2>&1
done
for i in $(seq 100); do
	[ "$(net_connect 10.251.3.7 10.251.0.1 25)" = timeout ] && break
	sleep 0.2
done
t1=$(date +%s.%N)
check_eq "Postfix logged the 3 relay rejections" "$(grep -cE "$RELAY_RE" "$PF/maillog")" 3
check_eq "B drops the source A promoted" "$(net_connect 10.251.3.7 10.251.0.1 25)" timeout
# t0: the time Postfix wrote on the third (crossing) line
t0=$(pf_line_time 3 "$RELAY_RE" "$PF/maillog")
echo "# from A's crossing log line (Postfix's time) to B's drop: $("$PY" -c "print(round(($t1 - ${t0:-0}) * 1000))") ms (polls of 1 s; Postfix stamps whole seconds)"
cscli decisions list -a -o json > "$C/list.json" 2>/dev/null
"$PY" - "$C/list.json" <<'EOP' && PASS=$((PASS + 1)) || { FAIL=$((FAIL + 1)); echo "FAIL - cscli lists A's decision"; }
import json, sys
alerts = json.load(open(sys.argv[1])) or []
ok = any(d["value"] == "10.251.3.7" and d["origin"] == "mxwall" and
         d["scenario"] == "mxwall/smtp-rejections"
         for a in alerts for d in (a.get("decisions") or []))
sys.exit(0 if ok else 1)
EOP
check "B tags it [crowdsec]" bash -c "$(declare -f ns_srv); NS_SRV=$NS_SRV; ns_srv $MXWALL --pin-dir $PIN_B --state-dir $STATE_B list | grep -q '^10.251.3.7 .*\[crowdsec\] \[mxwall:smtp-rejections\]'"

# --- the LAPI goes away and comes back ----------------------------------
n_before=$(mxw list | wc -l)
lapi_stop
for i in $(seq 60); do mxw status | grep -q 'crowdsec: *unreachable since' && break; sleep 0.2; done
check "status says the LAPI is unreachable" bash -c "$(declare -f ns_srv mxw); NS_SRV=$NS_SRV MXWALL=$MXWALL PIN_DIR=$PIN_DIR STATE_DIR=$STATE_DIR; mxw status | grep -q 'crowdsec: *unreachable since'"
check "the entries stay" wait_connect 10.250.2.9 10.250.0.1 timeout
lapi_start || net_finish
for i in $(seq 100); do mxw status | grep -q 'crowdsec: *ok' && break; sleep 0.2; done
check "status says ok again" bash -c "$(declare -f ns_srv mxw); NS_SRV=$NS_SRV MXWALL=$MXWALL PIN_DIR=$PIN_DIR STATE_DIR=$STATE_DIR; mxw status | grep -q 'crowdsec: *ok'"
check_eq "nothing twice after the restart" "$(mxw list | wc -l)" "$n_before"
check "a decision added after the restart arrives" cscli decisions add --ip 10.250.1.5 --duration 1h
check "and is dropped" wait_connect 10.250.1.5 10.250.0.1 timeout
kill -TERM "$A_PID" "$B_PID"; wait "$A_PID"; check_eq "A stops cleanly" "$?" 0
wait "$B_PID"; check_eq "B stops cleanly" "$?" 0
lapi_stop

# --- bad answers, from a stand-in LAPI ----------------------------------
F=$STATE_DIR/fake
mkdir -p "$F"
(in_srv "$PY" "$TOP/selftests/fleet/fake_lapi.py" 127.0.0.1 8080 "$F") &
FAKE_PID=$!
on_cleanup "kill $FAKE_PID"
for i in $(seq 50); do ns_srv "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 8080), 1)' 2>/dev/null && break; sleep 0.1; done
dec() { printf '{"id":%s,"type":"%s","scope":"%s","value":"%s","duration":"1h","origin":"cscli","scenario":"t"}' "$@"; }
# 1: the startup set, good
printf '{"new":[%s],"deleted":null}' "$(dec 1 ban Ip 10.250.7.1)" > "$F/01.body"
# 2: malformed JSON, with a good decision in it
printf '{"new":[%s,{"id":' "$(dec 2 ban Ip 10.250.7.2)" > "$F/02.body"
# 3: a huge body (over 64 MiB)
"$PY" -c 'import sys; sys.stdout.write("{\"new\":[" + ",".join(["{\"id\":9,\"type\":\"ban\",\"scope\":\"Ip\",\"value\":\"10.250.7.3\",\"duration\":\"1h\",\"origin\":\"x\",\"scenario\":\"t\"}"] * 700000) + "]}")' > "$F/03.body"
# 4: what mxwall does not enforce, next to one it does
printf '{"new":[%s,%s,%s,%s,%s,%s],"deleted":[]}' "$(dec 4 ban Country FR)" "$(dec 5 ban Range 0.0.0.0/0)" \
	"$(dec 6 ban Ip 10.250.0.1)" "$(dec 7 captcha Ip 10.250.7.7)" "$(dec 8 ban Ip ::ffff:10.250.7.8)" \
	"$(dec 10 ban Ip 10.250.7.10)" > "$F/04.body"
# 5: the key refused
echo '{"message":"access forbidden"}' > "$F/05.body"; echo 403 > "$F/05.status"
cat > "$STATE_DIR/c.conf" <<EOC
log = $LOG
require_seen = no
blocklist = $STATE_DIR/none
crowdsec_url = http://127.0.0.1:8080
crowdsec_api_key = not-a-secret
crowdsec_poll = 1s
EOC
: > "$LOG"
(in_srv "$MXWALL" --pin-dir "$PIN_DIR" --state-dir "$STATE_DIR" watch --config "$STATE_DIR/c.conf" 2> "$STATE_DIR/c.err") &
C_PID=$!
on_cleanup "kill $C_PID"
listed() { mxw list | awk 'NR > 1 { print $1 }' | grep -qx "$1"; }
# polled - until the stand-in has answered N polls, and a moment more
polled() {
	local i
	for i in $(seq 150); do
		[ -e "$F/requests" ] && [ "$(wc -l < "$F/requests")" -ge "$1" ] && break
		sleep 0.1
	done
	sleep 0.5
}
polled 1
check "a good batch applies" listed 10.250.7.1
check "the first poll asks for the whole set" grep -q 'startup=true not-a-secret' "$F/requests"
polled 5
sleep 1
check "the stand-in was polled through" test ! -e "$F/05.body"
check "malformed JSON: said" grep -q 'not JSON' "$STATE_DIR/c.err"
check_eq "malformed JSON: nothing of that batch" "$(listed 10.250.7.2 && echo yes)" ""
check "a huge body: said" grep -q 'over 64 MiB' "$STATE_DIR/c.err"
check_eq "a huge body: nothing of it" "$(listed 10.250.7.3 && echo yes)" ""
check_eq "scope Country is not an entry" "$(mxw list | grep -c FR)" 0
check_eq "0.0.0.0/0 is never an entry" "$(listed 0.0.0.0/0 && echo yes)" ""
check_eq "our own address is never blocked" "$(listed 10.250.0.1 && echo yes)" ""
check_eq "a captcha decision is not a ban" "$(listed 10.250.7.7 && echo yes)" ""
check "an IPv4-mapped IPv6 address is the IPv4 host" listed 10.250.7.8
check "the good one beside them applies" listed 10.250.7.10
check "a refused key: said" grep -q 'HTTP 403 (the bouncer key is not valid)' "$STATE_DIR/c.err"
check "the watcher is still running" kill -0 "$C_PID"
kill -TERM "$C_PID"; wait "$C_PID"; check_eq "it stops cleanly" "$?" 0
check "detach" mxw detach --all
check "B detaches" mxb detach --all
net_finish
