#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_exim.sh - Debian's Exim (exim4-daemon-light, unpacked into the
# build tree), run for real on 127.0.0.1, once writing its own mainlog and
# rejectlog and once logging through syslog (main and reject lines
# interleaved in one file, as rsyslog writes them). One misbehaviour per
# loopback source: unknown recipient, relay attempt, bad and invalid HELO,
# rejected sender, AUTH failures (PLAIN, LOGIN), unrecognised commands,
# syntax errors, talking before the greeting, a session without MAIL,
# refusal before HELO (connect ACL), greylisting, and clients writing
# other addresses into HELO, MAIL FROM, RCPT TO and AUTH names; plus
# clean and authenticated sessions, a refusal caused by our own broken
# lookup and the reverse-lookup notes Exim writes for every client,
# which must print nothing. `mxwall scan` must report each refusal with
# the reason Exim gave, and no other address.
. "$(dirname "$0")/lib.sh"
m_init
m_pkgs exim4-daemon-light exim4-base
command -v exim4 >/dev/null || m_fatal "exim4 unpacked" "not in PATH"
m_user Debian-exim 64123

PORT=$((20000 + ($$ % 20000)))

# exim_conf LOGPATH - the configuration (own spool, pid file, port)
exim_conf() {
	cat > "$M_DIR/exim.conf" <<EOC
keep_environment =
primary_hostname = mx.test.example
spool_directory = $M_DIR/spool
log_file_path = $1
pid_file_path = $M_DIR/exim.pid
daemon_smtp_ports = $PORT
local_interfaces = 127.0.0.1
host_lookup = *
rfc1413_hosts =
tls_advertise_hosts =
# early pipelining would let a client talk before the greeting
pipelining_connect_advertise_hosts =
domainlist local_domains = test.example
queue_only = true
smtp_max_unknown_commands = 3
log_selector = +incoming_interface +incoming_port +smtp_protocol_error \\
  +smtp_syntax_error +smtp_no_mail +smtp_connection
acl_smtp_connect = acl_connect
acl_smtp_helo = acl_helo
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt

begin acl
acl_connect:
  deny hosts = ${NET}.30
       message = Rejected because \$sender_host_address is in a black list at zen.example
  accept hosts = ${NET}.31
         delay = 1s
  accept
acl_helo:
  deny condition = \${if eq{\$sender_helo_name}{localhost}}
       message = Invalid HELO name (localhost)
  accept
acl_mail:
  require verify = sender
  accept
acl_rcpt:
  accept authenticated = *
  defer local_parts = lookupfail
        senders = \${lookup{\$local_part}lsearch{$M_DIR/nonexistent}}
  defer local_parts = grey
        message = greylisted, try again later
  deny !domains = +local_domains
       message = relay not permitted
  require verify = recipient
  accept

begin routers
local:
  driver = accept
  domains = +local_domains
  local_parts = alice : bob
  transport = local_delivery

begin transports
local_delivery:
  driver = appendfile
  file = $M_DIR/mail/\$local_part

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and{{eq{\$auth2}{alice}}{eq{\$auth3}{secret}}}}
  server_set_id = \$auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = \${if and{{eq{\$auth1}{alice}}{eq{\$auth2}{secret}}}}
  server_set_id = \$auth1
EOC
}

# run_exim WHAT LOGPATH - start Exim, play every scenario, stop it
run_exim() {
	local what=$1
	rm -rf "$M_DIR/spool" "$M_DIR/mail"
	mkdir -p "$M_DIR/spool" "$M_DIR/log" "$M_DIR/mail"
	chown 64123:64123 "$M_DIR/spool" "$M_DIR/log" "$M_DIR/mail"
	exim_conf "$2"
	m_ns exim4 -C "$M_DIR/exim.conf" -bdf -oX "$PORT" > "$M_DIR/exim-$what.out" 2>&1
	m_wait_port "$PORT"
	m_reset
	# source NET.N plays scenario N; WANT: the reason(s) Exim gave
	m_play_list "$PORT" "$NET" <<'EOS'
clean -
clean-auth -
unknown-user unknown-user
relay relay
relay-greylist-rcpt relay
bad-helo bad-helo|protocol
invalid-helo bad-helo|protocol
bad-sender bad-sender
auth auth|protocol
auth-login auth|protocol
unknown-commands protocol
syntax protocol
no-mail protocol
forged-helo relay|bad-helo
forged-helo-name bad-helo|protocol
forged-mail bad-sender|protocol|unknown-user
forged-rcpt relay|protocol
forged-auth auth|protocol
greylist greylist
tempfail -
EOS
	m_play "$PORT" "$NET.30" connect-only zen.example
	m_play "$PORT" "$NET.31" pregreet pregreet
	m_swaks "$PORT" "$NET.40"
	sleep 0.5
	kill -TERM -- "-$M_NSPID" 2>/dev/null
	wait "$M_NSPID" 2>/dev/null
}

# 1. Exim writes its own mainlog and rejectlog
NET=127.0.1
run_exim own "$M_DIR/log/%slog"
[ -s "$M_DIR/log/mainlog" ] || m_fatal "Exim wrote its mainlog" "$(cat "$M_DIR/exim-own.out")"
[ -s "$M_DIR/log/rejectlog" ] && ok "Exim wrote its rejectlog" || fail "Exim wrote its rejectlog"
grep -q "no host name found for IP address" "$M_DIR/log/mainlog" && ok "reverse-lookup notes logged" ||
	fail "reverse-lookup notes logged" "the informational lines are not exercised"
grep -q "temporarily rejected RCPT <lookupfail" "$M_DIR/log/mainlog" && ok "the broken lookup deferred" ||
	fail "the broken lookup deferred"
cp "$M_DIR/log/mainlog" "$M_DIR/mainlog.own"
m_check "$M_DIR/log/mainlog" mainlog
# the rejectlog repeats the refusals: the same sources, never another
m_check "$M_DIR/log/rejectlog" rejectlog some

# 2. the same through syslog: main and reject lines interleaved
NET=127.0.2
m_syslogd "$M_DIR/syslog"
run_exim syslog syslog
grep -q " exim4\{0,1\}\[" "$M_DIR/syslog" || m_fatal "Exim logged through syslog" "$(head -n 3 "$M_DIR/syslog")"
m_check "$M_DIR/syslog" syslog
# Exim writes each refusal to syslog twice (main and reject log): each is
# one event, as many as from the mainlog
bad=""
for i in $(seq 1 31); do
	a=$(awk -F'\t' -v ip=127.0.1.$i '$2 == ip' "$M_DIR/mainlog.events" | wc -l)
	b=$(awk -F'\t' -v ip=127.0.2.$i '$2 == ip' "$M_DIR/syslog.events" | wc -l)
	[ "$a" = "$b" ] || bad="$bad ${M_SCEN[127.0.2.$i]:-$i}: $a/$b"
done
[ -z "$bad" ] && ok "syslog: each refusal counted once, as in the mainlog" ||
	fail "syslog: each refusal counted once, as in the mainlog" "mainlog/syslog events:$bad"

m_done
