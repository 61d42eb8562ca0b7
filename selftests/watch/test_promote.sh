#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_promote.sh - promotion: threshold within window, tag [a] plus the
# reasons, per-tag thresholds and windows, greylisting that does not count,
# old lines that count for nothing, allowlist and loopback, the hourly cap,
# and the promotions/expiries log in the database.
. "$(dirname "$0")/lib.sh"
t_init

cat > "$CONF" <<EOC
log = $LOG
threshold = 5
window = 1h
threshold.zen.spamhaus.org = 1
threshold.bad-helo = 2
window.bad-helo = 10m
require_seen = no
allow = 192.0.2.0/24
max_promotions_per_hour = 4
blocklist = $T_DIR/blocklist
EOC
printf '# core\n198.51.100.0/24 ; SBL1\n' > "$T_DIR/blocklist"

# old lines (2h ago, before the window) in a log never read: recorded only
for i in 1 2 3 4 5 6; do reject_line 203.0.113.50 relay $((T_NOW - 7200)); done >> "$LOG"
start_watch || t_done
check "old lines recorded" wait_events 6
# after setup it keeps CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_DAC_READ_SEARCH only
capeff=$((16#$(awk '/^CapEff/ { print $2 }' /proc/$W_PID/status)))
check_eq "capabilities dropped after setup (CapEff)" "$(printf %x $capeff)" "$(printf %x $(( (1 << 39) | (1 << 38) | (1 << 12) | (1 << 2) )))"
check "static core list loaded" listed 198.51.100.0/24
check_not "old lines do not promote" listed 203.0.113.50

# 4 rejections: below threshold 5
rejects 203.0.113.1 4
check "4 events recorded" wait_events 10
check_not "4 < threshold not blocked" listed 203.0.113.1
rejects 203.0.113.1 1
check "5th rejection promotes" wait_listed 203.0.113.1
check_eq "tags a + reason" "$(tags_of 203.0.113.1)" "[a] [relay]"

# per-tag threshold: one zen hit is enough
rejects 203.0.113.2 1 zen
check "zen threshold 1" wait_listed 203.0.113.2
check_eq "zen tags" "$(tags_of 203.0.113.2)" "[a] [zen.spamhaus.org]"

# per-tag window: two bad-helo 20 min apart do not promote, within 10m do
reject_line 203.0.113.3 helo $((T_NOW - 1200)) >> "$LOG"
reject_line 203.0.113.3 helo >> "$LOG"
check "helo events recorded" wait_events 14
check_not "bad-helo outside window.bad-helo" listed 203.0.113.3
reject_line 203.0.113.3 helo >> "$LOG"
check "bad-helo threshold 2 in 10m" wait_listed 203.0.113.3

# greylisting is recorded but does not count
rejects 203.0.113.4 8 grey
check "greylist recorded" wait_events 23
check_not "greylist does not count" listed 203.0.113.4

# allowlist and loopback are never blocked
rejects 192.0.2.77 6
rejects 127.0.0.1 6
check "allow/loopback recorded" wait_events 35
check_not "allowlisted not blocked" listed 192.0.2.77
check_not "loopback not blocked" listed 127.0.0.1

# the cap: 3 promoted so far, 4 per hour: one more, then refused
rejects 203.0.113.5 5
rejects 203.0.113.6 5
check "events for cap" wait_events 45
check "4th promotion within the cap" wait_listed 203.0.113.5
check_not "5th promotion refused by the cap" listed 203.0.113.6
check "cap logged" grep -q "max_promotions_per_hour" "$W_ERR"
check_eq "refusal in the actions log" "$(sql "SELECT count(*) > 0 FROM actions WHERE action = 'refused' AND cidr = '203.0.113.6'")" 1
# an hour later the cap has room again: the next rejection promotes
set_now $((T_NOW + 3601))
rejects 203.0.113.6 5
check "after an hour the cap has room" wait_listed 203.0.113.6 5

stop_watch
check_eq "promotions in the log" "$(sql "SELECT count(*) FROM actions WHERE action = 'promote'")" 5
check_eq "entries active" "$(sql "SELECT count(*) FROM entries WHERE removed IS NULL")" 5
check_eq "reason logged" "$(sql "SELECT reason FROM actions WHERE cidr = '203.0.113.1' AND action = 'promote'")" "5 rejections in 1h (threshold 5): relay"
check "promotion logged to stderr with reason" grep -q "blocked 203.0.113.2 (a,zen.spamhaus.org) until the weekly reset: 1 rejections in 1h (threshold 1): zen.spamhaus.org" "$W_ERR"
check_eq "pid file removed" "$(ls "$MXWALL_STATE_DIR"/watch.pid 2>/dev/null)" ""

# the window survives a restart: 4 rejections before, 1 after
start_watch || t_done
rejects 203.0.113.60 4
check "4 before restart" wait_sql "SELECT count(*) FROM events WHERE ip = '203.0.113.60'" 4
stop_watch
start_watch || t_done
check_not "not yet" listed 203.0.113.60
rejects 203.0.113.60 1
check "5th after restart promotes" wait_listed 203.0.113.60
stop_watch
t_done
