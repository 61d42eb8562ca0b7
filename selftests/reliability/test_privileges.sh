#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_privileges.sh - least privilege:
#  - the pinned maps and links and the state directory (database, lock,
#    pid file) are not readable by other users: modes, and an actual
#    attempt as user nobody;
#  - a non-root `mxwall top` (and list, status, block) fails with exit 1
#    and a clear "needs CAP_BPF ... or root" line, printing nothing else;
#  - the running watcher, after its setup, holds only the capabilities it
#    needs to update and read maps and talk netlink (CAP_BPF, CAP_PERFMON,
#    CAP_NET_ADMIN) and to follow logs owned by another user
#    (CAP_DAC_READ_SEARCH): effective, permitted and bounding sets from
#    /proc/PID/status, nothing inheritable or ambient, no_new_privs set;
#    and with those it still works: it promotes a source into the map,
#    takes SIGHUP, follows a rotated log and stops cleanly.
set -u
. "$(dirname "$0")/../watch/lib.sh"
t_init
command -v setpriv >/dev/null || t_fatal "setpriv missing (util-linux)"

# the binary where nobody can run it
BIN_DIR=$(mktemp -d /tmp/mxwall-priv-bin.XXXXXX)
T_EXTRA_CLEANUP="rm -rf $BIN_DIR"
cp "$MXWALL" "$BIN_DIR/mxwall" && chmod 0755 "$BIN_DIR" "$BIN_DIR/mxwall"
MXWALL=$BIN_DIR/mxwall
export MXWALL_TEST_HOOKS=${MXWALL_TEST_HOOKS:+$MXWALL_TEST_HOOKS,}capacity=4096

cat > "$CONF" <<EOC
log = $LOG
threshold = 2
require_seen = no
blocklist = $T_DIR/none
commit_interval = 50
EOC

mode() { stat -c %a "$1"; }

start_watch || t_done
WPID=$W_PID

# ---- modes ----
check_eq "pin dir mode" "$(mode "$MXWALL_PIN_DIR")" 700
bad=$(find "$MXWALL_PIN_DIR" -mindepth 1 -perm /077 -printf '%m %p\n')
check_eq "no pinned object readable or writable by group or others" "$bad" ""
check_eq "state dir mode" "$(mode "$MXWALL_STATE_DIR")" 700
check "database exists" test -s "$DB"
bad=$(find "$MXWALL_STATE_DIR" -perm /002 -printf '%m %p\n')
check_eq "nothing in the state dir writable by others" "$bad" ""

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
check_not "nobody cannot read the database" as_nobody cat "$DB" 2>/dev/null
check_not "nobody cannot list the state dir" as_nobody ls "$MXWALL_STATE_DIR" 2>/dev/null
check_not "nobody cannot open a pinned map" as_nobody bpftool map dump pinned "$MXWALL_PIN_DIR/mx_meta" 2>/dev/null

# ---- a non-root mxwall ----
for cmd in "top" "list" "status" "block 192.0.2.1"; do
	out=$(as_nobody "$MXWALL" $cmd 2>"$T_DIR/nobody.err")
	rc=$?
	err=$(cat "$T_DIR/nobody.err")
	check_eq "non-root '$cmd': exit 1" "$rc" 1
	check_eq "non-root '$cmd': nothing on stdout" "$out" ""
	check "non-root '$cmd': says it needs CAP_BPF or root ($err)" \
		grep -q "needs CAP_BPF.*or root" <<<"$err"
	check_eq "non-root '$cmd': one line" "$(wc -l <<<"$err")" 1
done

# ---- the watcher's capabilities ----
caps()
{
	python3 - "$1" <<'EOP'
import sys
names = {0: "CAP_CHOWN", 1: "CAP_DAC_OVERRIDE", 2: "CAP_DAC_READ_SEARCH",
	3: "CAP_FOWNER", 4: "CAP_FSETID", 5: "CAP_KILL", 6: "CAP_SETGID",
	7: "CAP_SETUID", 8: "CAP_SETPCAP", 9: "CAP_LINUX_IMMUTABLE",
	10: "CAP_NET_BIND_SERVICE", 11: "CAP_NET_BROADCAST", 12: "CAP_NET_ADMIN",
	13: "CAP_NET_RAW", 14: "CAP_IPC_LOCK", 15: "CAP_IPC_OWNER",
	16: "CAP_SYS_MODULE", 17: "CAP_SYS_RAWIO", 18: "CAP_SYS_CHROOT",
	19: "CAP_SYS_PTRACE", 20: "CAP_SYS_PACCT", 21: "CAP_SYS_ADMIN",
	22: "CAP_SYS_BOOT", 23: "CAP_SYS_NICE", 24: "CAP_SYS_RESOURCE",
	25: "CAP_SYS_TIME", 26: "CAP_SYS_TTY_CONFIG", 27: "CAP_MKNOD",
	28: "CAP_LEASE", 29: "CAP_AUDIT_WRITE", 30: "CAP_AUDIT_CONTROL",
	31: "CAP_SETFCAP", 32: "CAP_MAC_OVERRIDE", 33: "CAP_MAC_ADMIN",
	34: "CAP_SYSLOG", 35: "CAP_WAKE_ALARM", 36: "CAP_BLOCK_SUSPEND",
	37: "CAP_AUDIT_READ", 38: "CAP_PERFMON", 39: "CAP_BPF",
	40: "CAP_CHECKPOINT_RESTORE"}
v = int(sys.argv[1], 16)
print(" ".join(names.get(b, "cap%d" % b) for b in range(64) if v >> b & 1))
EOP
}
ALLOWED="CAP_DAC_READ_SEARCH CAP_NET_ADMIN CAP_PERFMON CAP_BPF"
field_of() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$WPID/status"; }
for set in CapEff CapPrm CapBnd; do
	have=$(caps "$(field_of $set)")
	extra=
	for c in $have; do
		case " $ALLOWED " in *" $c "*) ;; *) extra="$extra $c" ;; esac
	done
	check_eq "watcher $set holds nothing beyond $ALLOWED" "${extra# }" ""
done
check_eq "watcher CapEff keeps CAP_BPF and CAP_NET_ADMIN" \
	"$(caps "$(field_of CapEff)" | tr ' ' '\n' | grep -cx 'CAP_BPF\|CAP_NET_ADMIN')" 2
check_eq "watcher CapInh is empty" "$(caps "$(field_of CapInh)")" ""
check_eq "watcher CapAmb is empty" "$(caps "$(field_of CapAmb)")" ""
check_eq "watcher NoNewPrivs" "$(field_of NoNewPrivs)" 1

# ---- and it still does its job ----
rejects 192.0.2.77 2
check "promotes after dropping privileges (map update)" wait_listed 192.0.2.77
kill -HUP "$WPID"
sleep 0.3
check "alive after SIGHUP" kill -0 "$WPID"
check "reloaded" grep -q "reloading" "$W_ERR"
mv "$LOG" "$LOG.1"
: > "$LOG"
chmod 0640 "$LOG"
sleep 0.5
rejects 192.0.2.78 2
check "follows a rotated log and promotes again" wait_listed 192.0.2.78
check_eq "no errors logged" "$(grep -ci 'permission denied\|operation not permitted' "$W_ERR")" 0
stop_watch
t_done
