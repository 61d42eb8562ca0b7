#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_scan_privileges.sh - `mxwall scan` run as root opens its files (a
# root-only 0600 log included) and then parses them holding nothing: while
# it reads, /proc/PID/status shows the unprivileged user (mxwall, else
# nobody), no capability in any set, no_new_privs; and it still finds the
# events of every file, in order, with a clear error for a missing one.
set -u
. "$(dirname "$0")/../watch/lib.sh"
t_init

LINE1='Dec  4 05:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <x@example.org>: Relay access denied; from=<a@b.example> to=<x@example.org> proto=ESMTP helo=<h>'
LINE2=${LINE1//192.0.2.1/192.0.2.2}

# a file only root can read, and a FIFO that holds scan in its read loop
echo "$LINE1" > "$T_DIR/secret.log"
chmod 0600 "$T_DIR/secret.log"
chmod 0711 "$T_DIR"
mkfifo "$T_DIR/pipe"
"$MXWALL" scan "$T_DIR/secret.log" "$T_DIR/missing.log" "$T_DIR/pipe" \
	> "$T_DIR/out" 2> "$T_DIR/err" &
P=$!
T_PIDS+=("$P")
exec 3> "$T_DIR/pipe"
st() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$P/status"; }
# every file open, the first parsed, scan blocks on the FIFO
for ((i = 0; i < 100; i++)); do
	[ "$(st Uid)" != 0 ] && break
	sleep 0.05
done
want=$(id -u mxwall 2>/dev/null || id -u nobody)
check_eq "scan parses as the unprivileged user (real uid)" "$(st Uid)" "$want"
check "no id of scan is root" awk '$1 == "Uid:" || $1 == "Gid:" { for (i = 2; i <= 5; i++) if ($i == 0) exit 1 }' "/proc/$P/status"
check_eq "no supplementary groups" "$(awk '$1 == "Groups:" { print $2 }' "/proc/$P/status")" ""
for set in CapInh CapPrm CapEff CapBnd CapAmb; do
	check_eq "scan $set is empty" "$(st $set)" 0000000000000000
done
check_eq "scan NoNewPrivs" "$(st NoNewPrivs)" 1
echo "$LINE2" >&3
exec 3>&-
wait "$P"
rc=$?
check_eq "scan exits 1 (a file was missing)" "$rc" 1
check_eq "events of the root-only file and the pipe, in order" \
	"$(cut -f2 "$T_DIR/out" | tr '\n' ' ')" "192.0.2.1 192.0.2.2 "
check "the missing file is named" grep -q "missing.log: No such file" "$T_DIR/err"
t_done
