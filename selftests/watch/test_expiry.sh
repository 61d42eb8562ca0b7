#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_expiry.sh - entries leave on time: ttl expiry, repeat offenders with
# a longer ttl (recidive_factor, bounded by max_ttl), idle expiry, expiry
# of an entry whose time ran out while the watcher was stopped, resume
# without reading a line twice, and SIGHUP reloading the configuration.
# The clock is the fake one of lib.sh: nothing sleeps for an hour.
. "$(dirname "$0")/lib.sh"
t_init

cat > "$CONF" <<EOC
log = $LOG
threshold = 2
ttl = 1h
recidive_window = 30d
recidive_factor = 2
max_ttl = 3h
idle_expire = 0
require_seen = no
blocklist = $T_DIR/none
EOC
start_watch || t_done
T0=$T_NOW

# first promotion: 1h
rejects 203.0.113.10 2
check "promoted" wait_listed 203.0.113.10
check_eq "ttl 1h" "$(sql "SELECT expires - added FROM entries WHERE cidr = '203.0.113.10' ORDER BY id DESC LIMIT 1")" 3600
set_now $((T0 + 3599))
sleep 1.2
check "still there before expiry" listed 203.0.113.10
set_now $((T0 + 3600))
check "gone at expiry" wait_unlisted 203.0.113.10 4
check_eq "removal reason" "$(sql "SELECT removal FROM entries WHERE cidr = '203.0.113.10'")" "expire"

# repeat offender: twice the last time in the filter
rejects 203.0.113.10 2
check "promoted again" wait_listed 203.0.113.10
check_eq "recidive ttl 2h" "$(sql "SELECT expires - added FROM entries WHERE cidr = '203.0.113.10' ORDER BY id DESC LIMIT 1")" 7200
check_eq "recidive level 1" "$(sql "SELECT level FROM entries WHERE cidr = '203.0.113.10' ORDER BY id DESC LIMIT 1")" 1
check "repeat offender logged" grep -q "repeat offender" "$W_ERR"
set_now $((T_NOW + 7200))
check "recidive entry expires" wait_unlisted 203.0.113.10 4
rejects 203.0.113.10 2
check "third promotion" wait_listed 203.0.113.10
check_eq "bounded by max_ttl 3h" "$(sql "SELECT expires - added FROM entries WHERE cidr = '203.0.113.10' ORDER BY id DESC LIMIT 1")" 10800

# an entry that expires while the watcher is stopped leaves at start
rejects 203.0.113.11 2
check "promoted before stop" wait_listed 203.0.113.11
N=$(sql "SELECT count(*) FROM events")
stop_watch
set_now $((T_NOW + 4 * 3600))
start_watch || t_done
check "expired while stopped" wait_unlisted 203.0.113.11 4
check_eq "no line read twice after restart" "$(sql "SELECT count(*) FROM events")" "$N"

# two entries expire together, one was unblocked by hand meanwhile
rejects 203.0.113.20 2
rejects 203.0.113.21 2
check "pair promoted" wait_listed 203.0.113.21
check "pair promoted (2)" wait_listed 203.0.113.20
check "unblock by hand" "$MXWALL" unblock 203.0.113.20
set_now $((T_NOW + 3600))
check "the other one still expires" wait_unlisted 203.0.113.21 4
# the filter changes first, the database commit follows: wait for it
check "its removal" wait_sql "SELECT removal FROM entries WHERE cidr = '203.0.113.21'" expire
N=$(sql "SELECT count(*) FROM events")

# SIGHUP: new config (idle_expire 2h, ttl 0) without restart
sed -i -e 's/^idle_expire = 0/idle_expire = 2h/' -e 's/^ttl = 1h/ttl = 0/' -e 's/^threshold = 2/threshold = 3/' "$CONF"
kill -HUP "$W_PID"
check "reload logged" wait_sql "SELECT 1" 1
for i in $(seq 1 40); do grep -q "reloading" "$W_ERR" && break; sleep 0.05; done
rejects 203.0.113.12 2
check "events after reload" wait_events $((N + 2))
check_not "threshold 3 after reload" listed 203.0.113.12
rejects 203.0.113.12 1
check "promoted with the new threshold" wait_listed 203.0.113.12
check_eq "ttl 0 after reload" "$(sql "SELECT expires FROM entries WHERE cidr = '203.0.113.12'")" 0

# idle: no hits for idle_expire -> leaves early (checked once a minute)
set_now $((T_NOW + 2 * 3600 + 61))
check "idle entry leaves" wait_unlisted 203.0.113.12 5
check_eq "idle removal" "$(sql "SELECT removal FROM entries WHERE cidr = '203.0.113.12'")" "idle"
check_eq "idle in the actions log" "$(sql "SELECT count(*) FROM actions WHERE action = 'idle'")" 1

# a bad config on SIGHUP is refused and the old one kept
echo "threshold = lots" >> "$CONF"
kill -HUP "$W_PID"
for i in $(seq 1 40); do grep -q "keeping the running configuration" "$W_ERR" && break; sleep 0.05; done
check "bad reload names file:line" grep -q "$CONF:[0-9]*: threshold" "$W_ERR"
check "old config kept" kill -0 "$W_PID"
stop_watch
check "a bad config refuses to start" bash -c "! '$MXWALL' watch --config '$CONF' 2>/dev/null"
check "error names file:line" bash -c "'$MXWALL' watch --config '$CONF' 2>&1 | grep -q '$CONF:[0-9]*: threshold'"
t_done
