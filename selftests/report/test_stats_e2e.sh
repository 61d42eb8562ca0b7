#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_stats_e2e.sh - `mxwall stats persistence` over events that the real
# watcher wrote into its database from a Postfix log whose retry pattern is
# known in advance:
#   192.0.2.1  relay  2 tries (10 days ago, 60 s later)        1 more try
#   192.0.2.2  zen    3 tries 1 day apart, 2 lines each         2 more
#   192.0.2.3  helo   12 tries 10 s apart (2 days ago)          11 more
#   192.0.2.4  relay  3 lines within 4 s: one try               not counted
#   192.0.2.5  relay  6 tries 1 day apart (6 .. 1 days ago)     5 more
#   192.0.2.6  relay  2 tries 20 and 19 days ago                1 more
# --days 28 counts all five persistent sources, --days 7 only .2, .3, .5.
# Also `mxwall metrics` over the same database: promotions and expiries,
# and the lag behind the log (none when read to the end; the age of the
# first unread line and the unread bytes after lines the watcher missed).
. "$(dirname "$0")/../watch/lib.sh"
t_init
command -v python3 >/dev/null || t_fatal "python3 missing"

set_now "$(date +%s)"
cat > "$CONF" <<EOC
log = $LOG
threshold = 100000
require_seen = no
EOC
D=86400
{
	reject_line 192.0.2.6 relay $((T_NOW - 20 * D))
	reject_line 192.0.2.6 relay $((T_NOW - 19 * D))
	reject_line 192.0.2.1 relay $((T_NOW - 10 * D))
	reject_line 192.0.2.1 relay $((T_NOW - 10 * D + 60))
	for d in 6 5 4 3 2 1; do
		[ $d -le 5 ] && [ $d -ge 3 ] && {
			reject_line 192.0.2.2 zen $((T_NOW - d * D))
			reject_line 192.0.2.2 zen $((T_NOW - d * D + 1))
		}
		[ $d -eq 2 ] && for i in $(seq 0 11); do
			reject_line 192.0.2.3 helo $((T_NOW - d * D + i * 10))
		done
		reject_line 192.0.2.5 relay $((T_NOW - d * D + 300))
	done
	reject_line 192.0.2.4 relay $((T_NOW - 3600))
	reject_line 192.0.2.4 relay $((T_NOW - 3598))
	reject_line 192.0.2.4 relay $((T_NOW - 3596))
} > "$LOG"
nev=$(wc -l < "$LOG")
start_watch || t_done
check "watcher recorded all $nev events" wait_events "$nev"
stop_watch

"$MXWALL" stats persistence --config "$CONF" > "$T_DIR/s28" 2> "$T_DIR/s28.err"
check_eq "stats persistence: exit 0" "$?" 0
check_eq "header" "$(head -n 1 "$T_DIR/s28")" \
	"What              Different IPs  1 try  2 tries  3 tries  4 tries  5-10 tries  more"
check_eq "all refused, 28 days" "$(grep '^all refused' "$T_DIR/s28")" \
	"all refused                   5    40%      20%       0%       0%         20%   20%"
check_eq "relay row" "$(grep '^relay ' "$T_DIR/s28")" \
	"relay                         3    67%       0%       0%       0%         33%    0%"
check_eq "header, all, and one row per reason tag (relay, zen, helo)" "$(wc -l < "$T_DIR/s28")" 5
"$MXWALL" stats persistence --days 7 --json --config "$CONF" > "$T_DIR/s7.json"
check_eq "stats --json: exit 0" "$?" 0
check "--days 7 --json: three sources, counts per bucket" python3 - "$T_DIR/s7.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["days"] == 7, j
all_ = j["rows"][0]
assert all_["what"] == "all refused" and all_["ips"] == 3, all_
assert all_["retries"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5-10": 1, "more": 1}, all_
PY
"$MXWALL" stats persistence --days 0 --config "$CONF" >/dev/null 2>&1
check_eq "--days 0: usage error" "$?" 2
"$MXWALL" stats --config "$CONF" >/dev/null 2>&1
check_eq "stats without a statistic: usage error" "$?" 2
MXWALL_STATE_DIR=$T_DIR/empty "$MXWALL" stats persistence > /dev/null 2> "$T_DIR/nodb.err"
check_eq "no database: exit 1" "$?" 1
check "no database: says what to do" grep -q "run 'mxwall watch' first" "$T_DIR/nodb.err"
[ -n "${TEST_VERBOSE:-}" ] && cat "$T_DIR/s28"

# --- metrics: lag behind the log from the watcher's read position
"$MXWALL" metrics --config "$CONF" > "$T_DIR/m1" 2> "$T_DIR/m1.err"
check_eq "metrics: exit 0" "$?" 0
check "metrics: promotions from the database" grep -qx 'mxwall_promotions_total 0' "$T_DIR/m1"
check "metrics: expiries from the database" grep -qx 'mxwall_expiries_total 0' "$T_DIR/m1"
check "metrics: no lag when the log is read to its end" \
	grep -qx "mxwall_log_lag_seconds{log=\"$LOG\"} 0.000" "$T_DIR/m1"
check "metrics: no unread bytes" grep -qx "mxwall_log_lag_bytes{log=\"$LOG\"} 0" "$T_DIR/m1"
line=$(reject_line 192.0.2.9 relay $(( $(date +%s) - 100 )))
echo "$line" >> "$LOG"
"$MXWALL" metrics --config "$CONF" --out "$T_DIR/mxwall.prom"
check_eq "metrics --out: exit 0" "$?" 0
check "metrics: unread bytes after the position" \
	grep -qx "mxwall_log_lag_bytes{log=\"$LOG\"} $(( ${#line} + 1 ))" "$T_DIR/mxwall.prom"
lag=$(sed -n "s|^mxwall_log_lag_seconds{log=\"$LOG\"} ||p" "$T_DIR/mxwall.prom")
check "metrics: lag is the age of the first unread line (~100 s, got $lag)" \
	python3 -c "import sys; assert 99 <= float(sys.argv[1]) < 160" "$lag"
t_done
