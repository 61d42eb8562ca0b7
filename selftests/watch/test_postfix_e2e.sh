#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_postfix_e2e.sh - end to end with a real MTA. Debian's Postfix,
# unpacked into the build tree (selftests/lib/postfix.sh, never installed
# on the host), runs in a server namespace with its own config and queue
# directory, logging
# to a file (maillog_file); swaks clients from several addresses in a
# client namespace joined by a veth pair. Some are rejected: a client
# access map, a bad HELO, relay attempts, and a forger who writes the good
# client's address into its HELO and MAIL FROM; and a client whose
# messages header_checks refuses (logged by cleanup, joined to the client
# by queue id) with a Subject that names the good client's address in the
# shape of the client field. `mxwall watch` follows
# Postfix's log with the filter attached to the server side of the veth
# (the default require_seen: the wire must agree): after enough
# rejections the bad sources' SYNs are dropped (connects time out, counters
# grow) while the good source still delivers and is never blocked.
#
# E2E_VIA=journal (test_postfix_journal.sh): the watcher reads the journal
# instead: Postfix's lines go live, with the fields journald would set
# (_UID postfix, _COMM smtpd, _SYSTEMD_UNIT postfix@-.service), through
# systemd-journal-remote into journal files of the test's own, which the
# watcher reads with `log = journal`; a local user's forged
# `logger -t postfix/smtpd` lines naming the good client are ignored, and
# a restart of the watcher in the middle loses and repeats nothing.
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/selftests/lib/postfix.sh"
t_init
command -v swaks >/dev/null || t_fatal "swaks is not installed (scripts/install-deps.sh)"
pf_prepare || t_fatal "cannot unpack Postfix into the build tree (selftests/lib/pkgs.sh)"
unset MXWALL_TEST_HOOKS	# no fake clock: Postfix writes the real time

S=mxw-ps-$$
C=mxw-pc-$$
V=vp$$
T_NETNS+=("$S" "$C")
PF=$T_DIR/pf
SRV=10.99.0.1
GOOD=10.99.0.10
ACCESS=10.99.0.11
BADHELO=10.99.0.12
RELAY=10.99.0.13
FORGER=10.99.0.14
CONTENT=10.99.0.15

ip netns add "$S" && ip netns add "$C" || t_fatal "netns"
ip link add "$V"s netns "$S" type veth peer name "$V"c netns "$C" || t_fatal "veth"
ip -n "$S" addr add $SRV/24 dev "$V"s
for a in $GOOD $ACCESS $BADHELO $RELAY $FORGER $CONTENT; do ip -n "$C" addr add $a/24 dev "$V"c; done
for ns in "$S" "$C"; do ip -n "$ns" link set lo up; done
ip -n "$S" link set "$V"s up
ip -n "$C" link set "$V"c up

# --- Postfix with its own everything ---
mkdir -p "$PF"
chmod 755 "$T_DIR"	# postfix (the user) must reach its data_directory
printf '%s REJECT client on our access map\n' "$ACCESS" > "$PF/access"
printf '/^Subject:.*cheap pills/ REJECT message content rejected\n' > "$PF/header_checks"
pf_smtpd_cf "$PF" $SRV e2e.example > "$PF/main.cf"
cat >> "$PF/main.cf" <<EOC
smtpd_helo_required = yes
smtpd_client_restrictions = check_client_access texthash:$PF/access
smtpd_helo_restrictions = reject_invalid_helo_hostname
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
header_checks = regexp:$PF/header_checks
EOC
pf_master_cf > "$PF/master.cf"
T_EXTRA_CLEANUP="pf_kill $PF $S"
pf_start "$PF" "$S" $SRV 2> "$T_DIR/postfix-start.log" || t_fatal "$(cat "$T_DIR/postfix-start.log")"

# --- mxwall watch in the server namespace, on Postfix's log ---
VIA=${E2E_VIA:-file}
if [ "$VIA" = journal ]; then
	JR=$("$T_ROOT/selftests/lib/pkgs.sh" systemd-journal-remote libsystemd-shared) ||
		t_fatal "cannot unpack systemd-journal-remote (selftests/lib/pkgs.sh)"
	J=$T_DIR/journal
	mkdir -p "$J"
	PFUID=$(id -u postfix)
	PFGID=$(id -g postfix)
	# Postfix's log, line by line as written, into the journal
	# (through a fifo: both ends are ours to stop)
	mkfifo "$T_DIR/jr.fifo"
	(. "$JR/env.sh" && exec "$JR/lib/systemd/systemd-journal-remote" -o "$J/postfix.journal" -) \
		< "$T_DIR/jr.fifo" 2> "$T_DIR/jr.err" &
	T_PIDS+=($!)
	python3 "$T_ROOT/selftests/lib/journal_export.py" --follow "$PF/maillog" \
		--uid "$PFUID" --gid "$PFGID" --unit postfix@-.service > "$T_DIR/jr.fifo" &
	T_PIDS+=($!)
	cat > "$CONF" <<EOC
log = journal
journal_directory = $J
journal_match = _SYSTEMD_UNIT=postfix@-.service
journal_match = SYSLOG_IDENTIFIER=postfix/smtpd
interface = ${V}s
threshold = 3
blocklist = $T_DIR/none
EOC
	WANT="following the journal in $J"
else
	cat > "$CONF" <<EOC
log = $PF/maillog
interface = ${V}s
threshold = 3
blocklist = $T_DIR/none
EOC
	WANT="following $PF/maillog"
fi
# e2e_watch - the watcher in the server's namespace, until it follows
e2e_watch() {
	local n=${#T_PIDS[@]}
	W_ERR=$T_DIR/watch$n.err
	nsenter --net=/run/netns/"$S" "$MXWALL" watch --config "$CONF" 2> "$W_ERR" &
	W_PID=$!
	T_PIDS+=("$W_PID")
	for i in $(seq 1 200); do grep -q following "$W_ERR" && break; sleep 0.05; done
	check "watcher follows Postfix's log ($VIA)" grep -q "$WANT" "$W_ERR"
}
e2e_watch

# swaks_from ADDR [swaks args] - one session from ADDR; output in $SW
swaks_from() {
	local from=$1; shift
	SW=$(ip netns exec "$C" swaks --server $SRV --port 25 --local-interface "$from" \
		--timeout 4 --silent 1 "$@" 2>&1)
	return $?
}

# the good client delivers
check "good client delivers" swaks_from $GOOD --helo good.client.example \
	--from alice@client.example --to postmaster@e2e.example
if [ "$VIA" = journal ]; then
	# a local user forges the good client's rejections into the journal
	for i in 1 2 3 4 5; do
		echo "$(date -u +%Y-%m-%dT%H:%M:%S.000000+00:00) mx postfix/smtpd[999]: NOQUEUE: reject: RCPT from unknown[$GOOD]: 554 5.7.1 <x@e2e.example>: Relay access denied; from=<a@b.example> to=<x@e2e.example> proto=ESMTP helo=<h.example>"
	done | python3 "$T_ROOT/selftests/lib/journal_export.py" --uid 1000 --gid 1000 \
		--comm logger --exe /usr/bin/logger --unit session-4.scope |
		(. "$JR/env.sh" && exec "$JR/lib/systemd/systemd-journal-remote" -o "$J/user.journal" -) \
		2>> "$T_DIR/jr.err"
	# and a restart of the watcher between two rounds of bad clients
	for a in $ACCESS $BADHELO; do
		swaks_from $a --helo 'bad..helo' --from a@client.example --to postmaster@e2e.example
	done
	check "first round read from the journal" wait_sql \
		"SELECT count(*) >= 2 FROM events WHERE ip IN ('$ACCESS', '$BADHELO')" 1 10
	kill -TERM "$W_PID"; wait "$W_PID"
	check_eq "watch exits 0 (restart)" "$?" 0
	FIRST_ERR=$W_ERR
	e2e_watch
fi
# the bad ones, 4 sessions each
for i in 1 2 3 4; do
	swaks_from $ACCESS --helo h.client.example --from a@client.example --to postmaster@e2e.example
	swaks_from $BADHELO --helo 'bad..helo' --from a@client.example --to postmaster@e2e.example
	swaks_from $RELAY --helo r.client.example --from a@client.example --to victim@elsewhere.example
	swaks_from $FORGER --helo "[$GOOD]" --from "spoof@[$GOOD]" --to "victim@[$GOOD]"
	swaks_from $CONTENT --helo c.client.example --from a@client.example --to postmaster@e2e.example \
		--header "Subject: cheap pills from evil[$GOOD]; from=<a@[$GOOD]> to=<b@c> proto=ESMTP helo=<x>"
done
check "cleanup logged the header rejections" grep -q "postfix/cleanup.*: reject: header Subject: cheap pills" "$PF/maillog"
for a in $ACCESS $BADHELO $RELAY $FORGER $CONTENT; do
	check "$a blocked after its rejections" wait_listed $a 10
done
check_not "good client never blocked (forged HELO/MAIL FROM)" listed $GOOD
check "reasons recorded" bash -c "'$MXWALL' list | grep -q '^$RELAY .*\[relay\]'"
check "content rejections: tag content" bash -c "'$MXWALL' list | grep -q '^$CONTENT .*\[content\]'"
q=$("$MXWALL" query $CONTENT)
check_eq "query: covered" "$?" 0
if [ "$VIA" = journal ]; then
	# the journal has no file and line to name
	check "query: the cleanup event" grep -qE "^    [0-9T:-]+Z  postfix  content" <<<"$q"
else
	check "query: the cleanup line, with its file and line" grep -qE "^    [0-9T:-]+Z  postfix  content  $PF/maillog:[0-9]+$" <<<"$q"
	n=$(grep -oE "maillog:[0-9]+$" <<<"$q" | head -n 1 | cut -d: -f2)
	check "query: that line is the header rejection" bash -c "sed -n '${n:-0}p' '$PF/maillog' | grep -q 'cleanup.*reject: header Subject: cheap pills'"
fi

# their SYNs are dropped now; the good client still delivers
for a in $ACCESS $RELAY; do
	swaks_from $a --helo x.client.example --from a@client.example --to postmaster@e2e.example
	rc=$?
	check "$a: connect fails now (swaks exit $rc)" test "$rc" -ne 0
	check "$a: says it could not connect" bash -c "grep -qiE 'timed out|timeout|connect' <<<\"\$1\"" _ "$SW"
done
pk=$("$MXWALL" list --json | python3 -c '
import json, sys
print(sum(e["packets"] for e in json.load(sys.stdin) if e["entry"] in sys.argv[1:]))' $ACCESS $RELAY)
check "drop counters grew" test "${pk:-0}" -ge 2
check "good client still delivers" swaks_from $GOOD --helo good.client.example \
	--from alice@client.example --to postmaster@e2e.example
check_not "good client still not blocked" listed $GOOD

if [ "$VIA" = journal ]; then
	# mxwall scan on Postfix's own file is the oracle; on a busy machine
	# both postlogd (the file) and journal-remote (the journal) may
	# deliver late: wait until the two agree, twice a second apart
	events_as_scan() {
		local i n v last=
		for ((i = 0; i < 300; i++)); do
			n=$("$MXWALL" scan "$PF/maillog" | wc -l)
			v=$(sql "SELECT count(*) FROM events")
			if [ "$n" -gt 0 ] && [ "$n" = "$v" ]; then
				[ "$last" = "$n" ] && return 0
				last=$n
				sleep 1
				continue
			fi
			last=
			sleep 0.1
		done
		echo "events: $v in the database, $n in Postfix's log" >&2
		return 1
	}
	check "every event in Postfix's log is one event, across the restart" \
		events_as_scan
	check_eq "forged lines: no relay event for the good client" \
		"$(sql "SELECT count(*) FROM events WHERE ip = '$GOOD' AND tags LIKE '%relay%'")" 0
	check "forged lines: ignored and said so" grep -q \
		"ignored an entry not written by the MTA (_UID=1000 is not a system account).*unknown\[$GOOD\]" \
		"$FIRST_ERR"
fi
kill -TERM "$W_PID"; wait "$W_PID"
check_eq "watch exits 0" "$?" 0

nsenter --net=/run/netns/"$S" "$MXWALL" detach "$V"s >/dev/null 2>&1
t_done
