#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_opensmtpd.sh - Debian's OpenSMTPD (unpacked into the build tree)
# run for real on 127.0.0.1 in a private mount namespace (its spool and
# users private to it), logging through syslog to a receiver on a private
# /dev/log. One misbehaviour per loopback source: unknown recipient,
# relay attempt, bad and invalid HELO, a sender a table refuses,
# unrecognised commands, syntax errors, commands out of order, a session
# without MAIL, and clients writing other addresses into HELO, MAIL FROM,
# RCPT TO and AUTH; plus clean deliveries. OpenSMTPD logs the address on
# the connect line only: every later line is joined by session id.
# OpenSMTPD answers "550 Invalid recipient" to a relay attempt and to a
# sender its rules reject alike: that is the reason it gives
# (unknown-user). AUTH needs TLS in OpenSMTPD and is not exercised here.
. "$(dirname "$0")/lib.sh"
m_init
m_pkgs opensmtpd
SMTPD=$PKG_ROOT/usr/sbin/smtpd
[ -x "$SMTPD" ] || m_fatal "smtpd unpacked" "$SMTPD"
m_user opensmtpd 64301
m_user opensmtpq 64302
m_user alice 64201
m_user bob 64202

PORT=$((20000 + ($$ % 20000) + 3))
NET=127.0.5
mkdir -p "$M_DIR/spool" "$M_DIR/mail" "$M_DIR/varlib/opensmtpd/empty" "$M_DIR/run"
printf 'spam.example\n' > "$M_DIR/badsenders"
cat > "$M_DIR/smtpd.conf" <<EOC
table badsenders file:$M_DIR/badsenders
listen on 127.0.0.1 port $PORT hostname mx.test.example
action "local" maildir "$M_DIR/mail/%{user.username}"
match from any mail-from "@spam.example" for any reject
match from any for domain "test.example" action "local"
EOC
chmod 600 "$M_DIR/smtpd.conf"
m_syslogd "$M_DIR/syslog"
# compiled-in paths, private in the namespace: the spool, the chroot
# (/var/lib/opensmtpd/empty), the control socket (/run) and the delivery
# helpers (/usr/libexec/opensmtpd)
M_NS_BINDS="$M_DIR/spool=/var/spool $M_DIR/varlib=/var/lib $M_DIR/run=/run $PKG_ROOT/usr/libexec=/usr/libexec" m_ns "$SMTPD" -F -f "$M_DIR/smtpd.conf" > "$M_DIR/smtpd.out" 2>&1
m_wait_port "$PORT"
m_play_list "$PORT" "$NET" <<'EOS'
clean -
unknown-user unknown-user
relay unknown-user
relay-greylist-rcpt unknown-user|protocol
bad-helo -
invalid-helo bad-helo
blocked-sender unknown-user
auth protocol
unknown-commands protocol
syntax protocol
no-mail -
forged-helo unknown-user
forged-helo-name bad-helo|protocol
forged-mail unknown-user|protocol
forged-rcpt protocol|unknown-user
forged-auth protocol
EOS
m_swaks "$PORT" "$NET.40"
sleep 0.5
kill -TERM -- "-$M_NSPID" 2>/dev/null
grep -q " smtpd\[" "$M_DIR/syslog" || m_fatal "OpenSMTPD logged through syslog" "$(tail -n 5 "$M_DIR/smtpd.out")"
cp "$M_DIR/syslog" "$M_DIR/syslog.smtpd"
m_check "$M_DIR/syslog.smtpd" opensmtpd

m_done
