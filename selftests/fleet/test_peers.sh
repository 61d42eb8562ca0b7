#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_peers.sh - two hosts, each with its own mxwall (pins, state, log):
# A's watcher promotes a source from a real Postfix's log (Debian's
# package unpacked, selftests/lib/postfix.sh, in a namespace of the test's
# own; swaks relay attempts from that source) and keeps its export fresh
# (export = FILE); B's watcher follows A's file (import = a FILE) and
# drops the source too, tagged peer:a, and lets it go when A does. Then
# what a peer must never do: a truncated or malformed file leaves the
# previous set in place; 0.0.0.0/0, our own or allowlisted addresses, a
# netblock holding the peer's own exception and an entry B already has
# are not applied, nor a pardon; a file over import_max is refused whole; a file that
# disappears keeps the set until import_max_age, then its entries go; the
# weekly reset (report --reset) keeps them (they follow their source).
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/selftests/lib/postfix.sh"
t_init
command -v swaks >/dev/null || t_fatal "swaks is not installed (scripts/install-deps.sh)"
pf_prepare || t_fatal "cannot unpack Postfix into the build tree (selftests/lib/pkgs.sh)"
D=$T_DIR/fleet
mkdir -p "$D/a" "$D/b"
PA=/sys/fs/bpf/mxwall-test-$$-a
PB=/sys/fs/bpf/mxwall-test-$$-b
PF=$T_DIR/pf
NS=mxw-fp-$$
T_EXTRA_CLEANUP="pf_kill $PF $NS; rm -rf $PA $PB"

# host A's Postfix in namespace NS on 203.0.113.1; the misbehaving client
# is 203.0.113.77 in the same namespace
ip netns add "$NS" || t_fatal "netns"
T_NETNS+=("$NS")
ip -n "$NS" link set lo up
ip -n "$NS" addr add 203.0.113.1/32 dev lo
ip -n "$NS" addr add 203.0.113.77/32 dev lo
mkdir -p "$PF"
chmod 755 "$T_DIR"	# postfix (the user) must reach its data_directory
pf_smtpd_cf "$PF" 203.0.113.1 a.example > "$PF/main.cf"
cat >> "$PF/main.cf" <<EOC
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
EOC
pf_master_cf > "$PF/master.cf"
pf_start "$PF" "$NS" 203.0.113.1 2> "$T_DIR/postfix-start.log" || t_fatal "$(cat "$T_DIR/postfix-start.log")"
set_now "$(date +%s)"	# Postfix writes the real time
A() { "$MXWALL" --pin-dir "$PA" --state-dir "$D/a" "$@"; }
B() { "$MXWALL" --pin-dir "$PB" --state-dir "$D/b" "$@"; }
LOG_A=$PF/maillog
cat > "$D/a.conf" <<EOC
log = $LOG_A
threshold = 3
require_seen = no
export = $D/a-export.txt
export_format = plain
blocklist = $D/none
EOC
cat > "$D/b.conf" <<EOC
log = $D/b/mail.log
require_seen = no
import = a $D/a-export.txt
import_max = 1000
import_max_age = 1h
allow = 192.0.2.128/25
blocklist = $D/b-core
EOC
: > "$D/b/mail.log"
printf '198.51.100.0/24 ; core\n' > "$D/b-core"

# listed_in X CIDR
listed_in() { "$1" list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx "$2"; }
wait_in() {
	local i
	for ((i = 0; i < ${4:-60}; i++)); do
		if listed_in "$1" "$2"; then [ "$3" = yes ] && return 0
		else [ "$3" = no ] && return 0; fi
		sleep 0.1
	done
	return 1
}

# wait_b_log PATTERN - until B's log has one more line matching it
wait_b_log() {
	local want i
	want=$(( $(grep -c -- "$1" "$T_DIR/watch-b.err") + 1 ))
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c -- "$1" "$T_DIR/watch-b.err")" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}
# peer_write TEXT-FILE PATTERN - replace A's export, wait for B's word on it
peer_write() {
	local want i
	want=$(( $(grep -c -- "$2" "$T_DIR/watch-b.err") + 1 ))
	cat "$1" > "$D/a-export.txt"
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c -- "$2" "$T_DIR/watch-b.err")" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

f_watch a "$PA" "$D/a" "$D/a.conf" || t_done
f_watch b "$PB" "$D/b" "$D/b.conf" || t_done
check "A writes its export at start" test -s "$D/a-export.txt"

# A promotes 203.0.113.77 from three relay attempts Postfix rejects
RELAY_RE='postfix/smtpd\[[0-9]+\]: NOQUEUE: reject: RCPT from unknown\[203\.0\.113\.77\]: 554 5\.7\.1 .*Relay access denied'
for i in 1 2 3; do
	set_now "$(date +%s)"
	in_ns "$NS" swaks --server 203.0.113.1 --port 25 --local-interface 203.0.113.77 --timeout 4 \
		--silent 1 --helo relay.client.example --from a@client.example \
		--to victim@elsewhere.example > /dev/null 2>&1
done
set_now "$(date +%s)"
check "A promotes the source" wait_in A 203.0.113.77 yes
check "A's export names it within a second" bash -c \
	"for i in \$(seq 20); do grep -q '^203.0.113.77 ' '$D/a-export.txt' && exit 0; sleep 0.05; done; exit 1"
check "B drops it, from A's export" wait_in B 203.0.113.77 yes
t1=$(date +%s.%N)
check_eq "Postfix logged the 3 relay rejections" "$(grep -cE "$RELAY_RE" "$LOG_A")" 3
t0=$(pf_line_time 3 "$RELAY_RE" "$LOG_A")
echo "# from A's crossing log line (Postfix's time) to B's entry: $(python3 -c "print(round(($t1 - ${t0:-0}) * 1000))") ms (Postfix stamps whole seconds)"
check_eq "B tags it peer:a with A's reason" "$(tags_of 203.0.113.77 2>/dev/null; B list | awk '$1 == "203.0.113.77" { print $4, $5 }')" "[peer:a] [relay]"
B list --json | grep -q '"entry":"203.0.113.77".*"source":"peer:a"' &&
	ok "list --json says source peer:a" || fail "list --json says source peer:a" "$(B list --json)"
check "A unblocks it" A unblock 203.0.113.77
check "B lets it go when A's export no longer lists it" wait_in B 203.0.113.77 no

# --- what a peer must never do ---------------------------------------------
good=$D/good.txt
printf '# from a\n203.0.113.10 ; relay\n203.0.113.11 ; relay\n' > "$good"
cp "$good" "$D/a-export.txt.new" && mv "$D/a-export.txt.new" "$D/a-export.txt"
kill -STOP "$A_PID"	# A would rewrite the file: hold it still
check "B takes a hand-made peer file" wait_in B 203.0.113.11 yes
printf '203.0.113.10 ; relay\n203.0.113.12 ; relay\n203.0.113.' > "$D/t"
check "B says the truncated file is refused" peer_write "$D/t" 'previous set stays'
check "a truncated file: the previous set stays" listed_in B 203.0.113.11
check_not "a truncated file: nothing of it is applied" listed_in B 203.0.113.12
grep -q 'a-export.txt:3' "$T_DIR/watch-b.err" && ok "the log names FILE:LINE" ||
	fail "the log names FILE:LINE" "$(tail -n 3 "$T_DIR/watch-b.err")"
printf '203.0.113.10\n0.0.0.0/0\n' > "$D/t"
check "B says 0.0.0.0/0 is refused" peer_write "$D/t" 'would match every address'
check "0.0.0.0/0: refused whole, the set stays" listed_in B 203.0.113.11
check_not "0.0.0.0/0 is never an entry" listed_in B 0.0.0.0/0
{
	echo "127.0.0.1 ; relay"		# loopback
	echo "192.0.2.200 ; relay"		# in B's allowlist
	echo "198.51.100.0/24 ; relay"	# B's core list
	echo "203.0.113.0/28 ; relay"	# holds the peer's exception below
	echo "!203.0.113.5"
	echo "203.0.113.99 ; relay"	# fine
} > "$D/t"
check "B reads the mixed file" peer_write "$D/t" '6 entries'
check "B applies the good part" wait_in B 203.0.113.99 yes
check_not "B's own previous entries from a go" listed_in B 203.0.113.11
check_not "loopback is never blocked" listed_in B 127.0.0.1
check_not "the allowlist holds" listed_in B 192.0.2.200
check_eq "the core list entry keeps its origin" "$(B list --json | python3 -c 'import json,sys; print([e["origin"] + "/" + e["source"] for e in json.load(sys.stdin) if e["entry"] == "198.51.100.0/24"][0])')" "static/local"
check_not "a netblock holding the peer's exception is left out" listed_in B 203.0.113.0/28
check_not "the exception itself is no local allow" listed_in B 203.0.113.5
check "B pardons one of them" B unblock 203.0.113.99 --pardon 1d --config "$D/b.conf"
{ cat "$D/t"; echo "203.0.113.98 ; relay"; } > "$D/t2"
check "B reads the peer's next file" peer_write "$D/t2" '7 entries'
check "B applies the new entry" wait_in B 203.0.113.98 yes
check_not "a pardon holds against the peer" listed_in B 203.0.113.99
python3 -c 'for i in range(2000): print("10.1.%d.%d ; relay" % (i // 250, i % 250 + 1))' > "$D/t"
check "B says the big file is refused" peer_write "$D/t" 'over import_max'
check "over import_max: refused whole, the set stays" listed_in B 203.0.113.98
check_not "over import_max: nothing of it" listed_in B 10.1.0.1

# the weekly reset keeps what follows a peer
B report --reset --config "$D/b.conf" > /dev/null 2>&1
check "the weekly reset keeps the peer's entries" listed_in B 203.0.113.98

# the file goes away: the set stays until import_max_age
rm -f "$D/a-export.txt"
check "B says the file is gone" wait_b_log 'No such file'
check "a vanished file: the set stays" listed_in B 203.0.113.98
set_now $(( $(date +%s) + 7200 ))	# the file's time is the real one
check "older than import_max_age: its entries go" wait_in B 203.0.113.98 no 50
grep -q 'not refreshed' "$T_DIR/watch-b.err" && ok "says why" || fail "says why"
kill -CONT "$A_PID"
kill -TERM "$A_PID" "$B_PID"
wait "$A_PID"; check_eq "A stops cleanly" "$?" 0
wait "$B_PID"; check_eq "B stops cleanly" "$?" 0
t_done
