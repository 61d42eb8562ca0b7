#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_tags.sh - reason tags and their rules in the watcher: past 64
# distinct tags no tag takes over another's rule (greylisting stays
# uncounted, a per-tag threshold stays its own, also for a rule added by
# SIGHUP after the table filled), and a client cannot choose its tag:
# relay attempts to <greylistN@victim> are counted as relay, a quoted
# recipient naming a DNSBL zone gives no zone tag.
. "$(dirname "$0")/lib.sh"
t_init

write_conf() {
	cat > "$CONF" <<EOC
log = $LOG
threshold = 10
window = 1h
require_seen = no
$1
EOC
}
write_conf ""

# line IP REPLY [RCPT] - one Postfix RCPT rejection with Postfix's REPLY
line() {
	local rcpt=${3:-x@example.org}
	echo "$(iso "$T_NOW") mx postfix/smtpd[4242]: NOQUEUE: reject: RCPT from unknown[$1]: $2; from=<a@b.example> to=<$rcpt> proto=ESMTP helo=<h.example>"
}

start_watch || t_done

# 70 DNSBL zones, one hit each from its own source: 70 distinct tags
for i in $(seq 1 70); do
	line "198.51.100.$i" "554 5.7.1 Service unavailable; Client host [198.51.100.$i] blocked using z$i.example"
done >> "$LOG"
check "70 zone events recorded" wait_events 70
check_not "one hit each: nobody blocked" listed 198.51.100.1

# greylisting after the table filled: recorded, still not counted
for i in $(seq 1 30); do
	line 192.0.2.50 "450 4.2.0 <x@example.org>: Recipient address rejected: Greylisted, see http://postgrey.example/"
done >> "$LOG"
check "30 greylist events recorded" wait_events 100
check_not "greylisting past 64 tags does not count (192.0.2.50)" listed 192.0.2.50

# a client naming its recipients greylistN: relay attempts all the same
for i in $(seq 1 30); do
	line 192.0.2.60 "554 5.7.1 <greylist$i@victim.example>: Relay access denied" "greylist$i@victim.example"
done >> "$LOG"
check "30 relay attempts to <greylistN@victim> promote" wait_listed 192.0.2.60
check_eq "their tag is relay" "$(tags_of 192.0.2.60)" "[a] [relay]"

# a quoted recipient naming a zone: the reason is still relay
for i in $(seq 1 10); do
	line 192.0.2.70 "554 5.7.1 <\"blocked using t$i.example\"@x.example>: Relay access denied" "\"blocked using t$i.example\"@x.example"
done >> "$LOG"
check "quoted recipients: promoted" wait_listed 192.0.2.70
check_eq "no zone tag from the recipient" "$(tags_of 192.0.2.70)" "[a] [relay]"
check_eq "no event tagged with a client's zone" "$(sql "SELECT count(*) FROM events WHERE tags LIKE '%t1.example%'")" 0

# a rule for a tag that spilled, added by SIGHUP: it gets its own bit
write_conf "threshold.z69.example = 1"
kill -HUP "$W_PID"
for ((i = 0; i < 100; i++)); do grep -q "reloading" "$W_ERR" && break; sleep 0.05; done
sleep 0.3
line 192.0.2.80 "554 5.7.1 Service unavailable; Client host [192.0.2.80] blocked using z69.example" >> "$LOG"
check "threshold.z69.example = 1 after reload promotes on one hit" wait_listed 192.0.2.80
check_eq "its tag" "$(tags_of 192.0.2.80)" "[a] [z69.example]"
line 192.0.2.81 "554 5.7.1 Service unavailable; Client host [192.0.2.81] blocked using z70.example" >> "$LOG"
sleep 0.5
check_not "another spilled zone keeps the global threshold" listed 192.0.2.81
for i in $(seq 1 12); do
	line 192.0.2.51 "450 4.2.0 <x@example.org>: Recipient address rejected: Greylisted"
done >> "$LOG"
check "greylist events after reload recorded" wait_sql "SELECT count(*) FROM events WHERE ip = '192.0.2.51'" 12
check_not "greylisting still does not count after reload" listed 192.0.2.51

stop_watch
t_done
