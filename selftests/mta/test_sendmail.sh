#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_sendmail.sh - Debian's Sendmail (sendmail-bin, its .mc built with
# sendmail-cf and m4, all unpacked into the build tree) run for real on
# 127.0.0.1, logging through syslog (a receiver on a private /dev/log).
# One misbehaviour per loopback source: unknown recipient, relay attempt,
# bad and invalid HELO, a sender the access map refuses, unrecognised
# commands and syntax errors, talking before the greeting (greet_pause),
# a session without MAIL, a refusal at connect (access map), and clients
# writing other addresses into HELO, MAIL FROM, RCPT TO and AUTH; plus
# clean sessions. AUTH (PLAIN and LOGIN) goes through Cyrus SASL
# (libsasl2-modules unpacked too) with its own Sendmail.conf and sasldb:
# wrong passwords and made-up user names fail, alice gets in. A second
# Sendmail whose access map is unreadable refuses with its own temporary
# failures: those print nothing.
. "$(dirname "$0")/lib.sh"
m_init
m_pkgs sendmail-bin sendmail-base sendmail-cf m4 libsasl2-modules libsasl2-modules-db sasl2-bin
SM=$PKG_ROOT/usr/libexec/sendmail/sendmail
[ -x "$SM" ] || m_fatal "sendmail unpacked" "$SM"
command -v m4 >/dev/null || m_fatal "m4 unpacked"
SASLLIB=$PKG_ROOT/usr/lib/x86_64-linux-gnu/sasl2
[ -e "$SASLLIB/libsasldb.so" ] && [ -e "$SASLLIB/libplain.so" ] || m_fatal "SASL plugins unpacked" "$SASLLIB"
m_user alice 64201
m_user bob 64202

PORT=$((20000 + ($$ % 20000) + 1))

# sm_conf DIR NET - sendmail.cf, access map and queue in DIR
sm_conf() {
	local d=$1
	mkdir -p "$d/mqueue"
	chmod 700 "$d/mqueue"
	: > "$d/aliases"
	echo test.example > "$d/local-host-names"
	cat > "$d/test.mc" <<EOC
divert(0)dnl
include(\`$PKG_ROOT/usr/share/sendmail/cf/m4/cf.m4')dnl
OSTYPE(\`linux')dnl
define(\`confDONT_BLAME_SENDMAIL', \`GroupWritableDirPathSafe,MapInUnsafeDirPath,ClassFileInUnsafeDirPath,LinkedMapInWritableDir,InsufficientEntropy')dnl
define(\`QUEUE_DIR', \`$d/mqueue')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`STATUS_FILE', \`$d/statistics')dnl
define(\`ALIAS_FILE', \`$d/aliases')dnl
define(\`confCW_FILE', \`$d/local-host-names')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confLOG_LEVEL', \`9')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confDELIVERY_MODE', \`queue')dnl
define(\`confDOMAIN_NAME', \`mx.test.example')dnl
define(\`confPRIVACY_FLAGS', \`goaway')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
FEATURE(\`access_db', \`hash -T<TMPF> $d/access')dnl
FEATURE(\`greet_pause', \`700')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`use_cw_file')dnl
DAEMON_OPTIONS(\`Port=$2, Addr=127.0.0.1, Name=MTA')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOC
	m4 "$d/test.mc" > "$d/sendmail.cf" 2> "$d/m4.err" || m_fatal "m4 sendmail.cf" "$(cat "$d/m4.err")"
	printf 'From:spam.example\tREJECT\nConnect:%s.30\tREJECT\n' "$3" > "$d/access"
	makemap -C "$d/sendmail.cf" hash "$d/access" < "$d/access" || m_fatal "makemap access"
}

m_syslogd "$M_DIR/syslog"

# Cyrus SASL, as Sendmail asks it: /etc/sasl2/Sendmail.conf (private to
# the namespace, laid over the machine's /etc) checks passwords against
# a sasldb of our own; the unpacked plugins are laid over /usr
mkdir -p "$M_DIR/etc/sasl2"
cat > "$M_DIR/etc/sasl2/Sendmail.conf" <<EOC
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $M_DIR/sasldb2
mech_list: PLAIN LOGIN
EOC
echo secret | SASL_PATH=$SASLLIB saslpasswd2 -f "$M_DIR/sasldb2" -u mx.test.example -c -p alice ||
	m_fatal "saslpasswd2"
chmod 600 "$M_DIR/sasldb2"
export M_NS_LAYERS="ro:$PKG_ROOT/usr=/usr ro:$M_DIR/etc=/etc"

# 1. a working Sendmail
NET=127.0.3
sm_conf "$M_DIR/sm1" "$PORT" "$NET"
m_ns "$SM" -C "$M_DIR/sm1/sendmail.cf" -bD -L sm-mta > "$M_DIR/sm1.out" 2>&1
m_wait_port "$PORT"
m_play_list "$PORT" "$NET" <<'EOS'
clean -
unknown-user unknown-user
relay relay
relay-greylist-rcpt relay
bad-helo protocol
invalid-helo protocol
blocked-sender bad-sender
auth auth|protocol
auth-login auth|protocol
clean-auth -
unknown-commands protocol
syntax -
no-mail protocol
forged-helo relay
forged-helo-name relay
forged-mail relay|unknown-user
forged-rcpt relay
forged-auth auth|protocol
EOS
m_authenticated
m_play "$PORT" "$NET.30" connect-only other
m_play "$PORT" "$NET.31" pregreet pregreet
m_swaks "$PORT" "$NET.40"
sleep 1
kill -TERM -- "-$M_NSPID" 2>/dev/null
grep -q " sm-mta\[" "$M_DIR/syslog" || m_fatal "Sendmail logged through syslog" "$(tail -n 5 "$M_DIR/sm1.out")"
cp "$M_DIR/syslog" "$M_DIR/syslog.sm1"
m_check "$M_DIR/syslog.sm1" sendmail

# 2. a Sendmail whose access map is unreadable: it refuses with its own
# temporary failures, which are no client's doing
NET=127.0.4
PORT2=$((PORT + 1))
sm_conf "$M_DIR/sm2" "$PORT2" "$NET"
head -c 4096 /dev/urandom > "$M_DIR/sm2/access.db"
m_reset
: > "$M_DIR/syslog"
m_ns "$SM" -C "$M_DIR/sm2/sendmail.cf" -bD -L sm-mta > "$M_DIR/sm2.out" 2>&1
m_wait_port "$PORT2"
m_play_list "$PORT2" "$NET" <<'EOS'
clean -
relay -
blocked-sender -
forged-rcpt -
EOS
sleep 1
kill -TERM -- "-$M_NSPID" 2>/dev/null
grep -q "4.3.0\|SYSERR\|map" "$M_DIR/syslog" && ok "the broken map is logged" ||
	fail "the broken map is logged" "$(grep -v STARTTLS "$M_DIR/syslog" | tail -n 5)"
cp "$M_DIR/syslog" "$M_DIR/syslog.sm2"
m_check "$M_DIR/syslog.sm2" sendmail-broken-map

m_done
