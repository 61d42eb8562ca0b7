#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_courier.sh - Debian's Courier (courier-mta, courier-base and
# courier-authlib with its userdb module, unpacked into the build tree)
# run for real on 127.0.0.1 in a private mount namespace: the unpacked
# /usr laid over the machine's, its own /etc/courier (config, userdb,
# smtpaccess), /var/lib/courier (queue) and /run/courier (authdaemond's
# socket); authdaemond, courierd and couriertcpd+courieresmtpd as
# Debian's scripts start them, courieresmtpd's stderr sent to syslog by
# courierlogger, received on a private /dev/log; a private nameserver
# that knows no name but one DNS list's listing. One misbehaviour per
# loopback source: unknown recipient, relay attempt, bad and invalid
# HELO (Courier checks HELO, where smtpaccess asks it to, at MAIL FROM:
# the sources that stop after HELO are refused nothing), a sender the
# bofh file refuses (badfrom), AUTH failures (PLAIN and LOGIN, checked
# by authdaemond), unrecognised commands, syntax errors, a session
# without MAIL, talking before the greeting (Courier does not check:
# nothing refused), a source the access file blocks, one a DNS list
# lists (couriertcpd -block, refused with the operator's message), and
# clients writing other addresses into HELO, MAIL FROM, RCPT TO and
# AUTH; plus clean deliveries (one authenticated, two delivered to a
# maildir). A refused MAIL makes the RCPT after it a "502 ESMTP command
# error": protocol. Then the same Courier without authdaemond: its own
# temporary failures print nothing.
. "$(dirname "$0")/lib.sh"
m_init
m_pkgs courier-mta courier-base courier-authdaemon courier-authlib courier-authlib-userdb
ESMTPD=$PKG_ROOT/usr/lib/courier/courier/modules/esmtp/courieresmtpd
[ -x "$ESMTPD" ] || m_fatal "courieresmtpd unpacked" "$ESMTPD"
command -v openssl >/dev/null || m_fatal "openssl (scripts/install-deps.sh)"
m_user courier 64401
m_user alice 64201
m_user bob 64202

PORT=$((20000 + ($$ % 20000) + 5))
NET=127.0.7
E=$M_DIR/etc/courier
mkdir -p "$M_DIR/etc" "$M_DIR/var/lib" "$M_DIR/run/courier/authdaemon" "$M_DIR/home"
cp -a "$PKG_ROOT/etc/courier" "$E"
cp -a "$PKG_ROOT/var/lib/courier" "$M_DIR/var/lib/courier"
chown -R 64401:64401 "$M_DIR/var/lib/courier" "$M_DIR/run/courier"
chmod 750 "$M_DIR/run/courier/authdaemon"
for u in alice bob; do
	mkdir -p "$M_DIR/home/$u/Maildir/cur" "$M_DIR/home/$u/Maildir/new" "$M_DIR/home/$u/Maildir/tmp"
done
chown -R 64201:64201 "$M_DIR/home/alice"
chown -R 64202:64202 "$M_DIR/home/bob"
echo mx.test.example > "$E/me"
echo test.example > "$E/defaultdomain"
printf 'localhost\ntest.example\n' > "$E/locals"
printf 'test.example\n' > "$E/esmtpacceptmailfor.dir/test"
printf 'badfrom @spam.example\n' > "$E/bofh"
# no client is a relay client; the HELO sources get Courier's HELO check
# (the others' names are in no DNS); one source is refused by the
# access file (BLOCK: the operator's words, no reason named: other);
# Courier's resolver asks a private nameserver that knows no name but
# the one source's listing in bl.test.example
rm -rf "$E/smtpaccess"
mkdir "$E/smtpaccess"
{
	for i in 5 6 7 8 15 16; do printf '%s.%s\tallow,BOFHCHECKHELO=1\n' "$NET" $i; done
	printf '%s.31\tallow,BLOCK="550 Mail from your address is not accepted."\n' "$NET"
} > "$E/smtpaccess/default"
echo "nameserver $NET.53" > "$M_DIR/etc/resolv.conf"
# courierd's config sources /etc/environment, which minimal systems lack
[ -e /etc/environment ] || : > "$M_DIR/etc/environment"
sed -i -e 's/^authmodulelist=.*/authmodulelist="authuserdb"/' "$E/authdaemonrc"
sed -i -e 's/^BOFHCHECKDNS=.*/BOFHCHECKDNS=0/' -e 's/^TARPIT=.*/TARPIT=0/' \
	-e 's/^ESMTPAUTH=.*/ESMTPAUTH="PLAIN LOGIN"/' "$E/esmtpd"
pw=$(openssl passwd -6 secret)
for u in alice:64201 bob:64202; do
	printf '%s\tuid=%s|gid=%s|home=%s|mail=%s/Maildir|systempw=%s\n' \
		"${u%:*}" "${u#*:}" "${u#*:}" "$M_DIR/home/${u%:*}" "$M_DIR/home/${u%:*}" "$pw"
done > "$E/userdb"
chmod 600 "$E/userdb"

# in the namespace: authdaemond, courierd, then couriertcpd in the
# foreground (as courier's init scripts start them, but no one
# daemonizes: without -pid couriertcpd stays in the namespace's process
# group, which the test stops)
cat > "$M_DIR/start.sh" <<EOS
set -e
/usr/sbin/makeuserdb
/usr/lib/courier/makedat -src=/etc/courier/smtpaccess -file=/etc/courier/smtpaccess.dat -tmp=/etc/courier/smtpaccess.tmp
/usr/lib/courier/makedat -src=/etc/courier/esmtpacceptmailfor.dir \\
	-file=/etc/courier/esmtpacceptmailfor.dat -tmp=/etc/courier/esmtpacceptmailfor.tmp
(set -a; . /etc/courier/authdaemonrc; exec /usr/lib/courier/courier-authlib/authdaemond) 2> "$M_DIR/authdaemond.out" &
echo \$! > "$M_DIR/authdaemond.pid"
env -i /bin/sh -c "set -a; . /etc/courier/courierd; exec /usr/lib/courier/courier/courierd" 2> "$M_DIR/courierd.out" &
for i in \$(seq 100); do [ -S /run/courier/authdaemon/socket ] && break; sleep 0.05; done
cd /usr
exec env -i /bin/sh -c "set -a; prefix=/usr exec_prefix=/usr sysconfdir=/etc/courier sbindir=/usr/sbin; . /etc/courier/esmtpd; \\
	exec /usr/sbin/couriertcpd -stderrlogger=/usr/sbin/courierlogger -noidentlookup -nodnslookup -access=/etc/courier/smtpaccess.dat '-block=bl.test.example,BLOCK,Listed in bl.test.example' \\
	-user=courier -group=courier -address=127.0.0.1 -maxprocs=40 -maxperip=40 -maxperc=40 \\
	$PORT /usr/sbin/courieresmtpd"
EOS
m_syslogd "$M_DIR/syslog"
m_nxdns "$NET.53" "32.7.0.127.bl.test.example"
M_NS_LAYERS="ro:$PKG_ROOT/usr=/usr rw:$M_DIR/etc=/etc" \
	M_NS_BINDS="$M_DIR/var/lib=/var/lib $M_DIR/run=/run" m_ns sh "$M_DIR/start.sh" > "$M_DIR/courier.out" 2>&1
m_wait_port "$PORT"
m_play_list "$PORT" "$NET" <<'EOS'
clean -
unknown-user unknown-user
relay relay
relay-greylist-rcpt relay
bad-helo -
bad-helo-mail bad-helo|protocol
invalid-helo -
invalid-helo-mail bad-helo|protocol
blocked-sender bad-sender|protocol
auth auth
auth-login auth
unknown-commands protocol
syntax protocol
no-mail -
forged-helo bad-helo|protocol
forged-helo-name bad-helo|protocol
forged-mail protocol
forged-rcpt relay|protocol
forged-auth auth
clean-auth -
EOS
m_authenticated
m_play "$PORT" "$NET.30" pregreet -
m_play "$PORT" "$NET.31" clean other
m_play "$PORT" "$NET.32" clean bl.test.example
m_swaks "$PORT" "$NET.40"
# the clean mails (smtp_drive's and swaks') reach bob's maildir
for ((i = 0; i < 100; i++)); do
	[ "$(ls "$M_DIR/home/bob/Maildir/new" | wc -l)" -ge 2 ] && break
	sleep 0.05
done
[ "$(ls "$M_DIR/home/bob/Maildir/new" | wc -l)" -ge 2 ] && ok "clean mails delivered to bob's maildir" ||
	fail "clean mails delivered to bob's maildir" "$(grep courierlocal "$M_DIR/syslog" | tail -n 3)"
sleep 1
kill -TERM -- "-$M_NSPID" 2>/dev/null
for ((i = 0; i < 100; i++)); do ss -Hltn "sport = :$PORT" | grep -q . || break; sleep 0.05; done
grep -q " courieresmtpd" "$M_DIR/syslog" || m_fatal "Courier logged through syslog" "$(tail -n 5 "$M_DIR"/*.out)"
cp "$M_DIR/syslog" "$M_DIR/syslog.courier"
m_check "$M_DIR/syslog.courier" courier

# 2. the same Courier without its authdaemond: local recipients cannot
# be looked up, Courier refuses them with its own temporary failures
# ("450 Service temporarily unavailable."), which are no client's doing.
# (AUTH is not played here: Courier refuses it then with the very line a
# wrong password gets.)
NET=127.0.8
m_reset
: > "$M_DIR/syslog"
rm -f "$M_DIR/authdaemond.pid"
M_NS_LAYERS="ro:$PKG_ROOT/usr=/usr rw:$M_DIR/etc=/etc" \
	M_NS_BINDS="$M_DIR/var/lib=/var/lib $M_DIR/run=/run" m_ns sh "$M_DIR/start.sh" > "$M_DIR/courier2.out" 2>&1
m_wait_port "$PORT"
for ((i = 0; i < 100; i++)); do [ -s "$M_DIR/authdaemond.pid" ] && break; sleep 0.05; done
kill -TERM "$(cat "$M_DIR/authdaemond.pid")" || m_fatal "authdaemond stopped"
for ((i = 0; i < 100; i++)); do [ ! -S "$M_DIR/run/courier/authdaemon/socket" ] && break; sleep 0.05; done
m_play_list "$PORT" "$NET" <<'EOS'
clean -
unknown-user -
relay relay
EOS
sleep 1
kill -TERM -- "-$M_NSPID" 2>/dev/null
grep -q "authdaemon: s_connect() failed" "$M_DIR/syslog" && ok "the missing authdaemond is logged" ||
	fail "the missing authdaemond is logged" "$(grep courieresmtpd "$M_DIR/syslog" | tail -n 5)"
cp "$M_DIR/syslog" "$M_DIR/syslog.courier2"
m_check "$M_DIR/syslog.courier2" courier-no-authdaemond

m_done
