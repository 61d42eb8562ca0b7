#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_sources_bound.sh - a flood of more distinct sources (600,000) than
# the watcher tracks (262,144): every line is still recorded once, the
# watcher says that it forgot the least recent sources, a source seen
# recently is still counted across the flood and promoted at its
# threshold, and its memory stays within the bound (sources, window
# events, page cache).
. "$(dirname "$0")/lib.sh"
t_init

cat > "$CONF" <<EOC
log = $LOG
threshold = 3
window = 1h
require_seen = no
max_promotions_per_hour = 1000000
blocklist = $T_DIR/none
EOC
start_watch || t_done

N=600000
# N distinct sources, one rejection each; 198.51.100.7 twice near the end
python3 - "$LOG" "$N" "$(iso "$T_NOW")" <<'EOP'
import sys
path, n, stamp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fmt = ("%s mx postfix/smtpd[4242]: NOQUEUE: reject: RCPT from unknown[%s]: "
       "554 5.7.1 <x@example.org>: Relay access denied; from=<a@b.example> "
       "to=<x@example.org> proto=ESMTP helo=<h.example>\n")
with open(path, "a") as f:
    for i in range(n):
        f.write(fmt % (stamp, "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)))
        if i in (n - 1000, n - 10):
            f.write(fmt % (stamp, "198.51.100.7"))
EOP
check "all $((N + 2)) lines recorded" wait_events $((N + 2)) 60
check "the forgotten sources are logged" grep -q "flood: tracking at most 262144 sources" "$W_ERR"
check_not "nothing promoted by one line each" listed 198.51.100.7
rejects 198.51.100.7 1
check "a recent source is counted across the flood" wait_listed 198.51.100.7
# anonymous memory (the filter's maps are file mappings, not ours): 262,144
# sources and their first window slots (~64 MiB), 16 MiB of page cache,
# the 2 MiB hash table, the program: under 120 MiB. Without the bound,
# 600,000 sources would take about 150 MiB alone.
anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$W_PID/status")
check "memory ${anon} KiB within the bound" test "${anon:-999999}" -lt $((120 * 1024))
check_eq "one entry" "$(sql "SELECT count(*) FROM entries")" 1
stop_watch
check_eq "no line twice" "$(sql "SELECT count(*) FROM events")" $((N + 3))
t_done
