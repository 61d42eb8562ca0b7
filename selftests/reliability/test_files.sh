#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_files.sh - the files mxwall writes as root, tried the way a local
# unprivileged user would attack them:
#  - a link planted by user nobody at the temp name next to an --out file
#    (metrics, report) in a world-writable directory is never followed:
#    the root-owned 0600 file it points to is untouched;
#  - a state directory or report archive that another user can write into
#    (or owns) is refused with a clear message, before anything is written;
#  - an --out naming a character device or a FIFO is written in place (the
#    device node stays a device node), "-" is standard output;
#  - a crash (SIGKILL at each fsync) leaves no temp file behind;
#  - the database is created 0600 whatever the umask;
#  - two commands sharing pins but not state directories serialise on the
#    lock that lives with the pins, and the watcher's promotions take it.
set -u
. "$(dirname "$0")/../watch/lib.sh"
t_init
for c in setpriv strace mknod mkfifo; do
	command -v "$c" >/dev/null || t_fatal "$c missing"
done

# the binary where nobody can run it
chmod 0755 "$T_DIR" "$MXWALL"

cat > "$CONF" <<EOC
log = $LOG
threshold = 2
require_seen = no
blocklist = $T_DIR/none
commit_interval = 50
EOC

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# the watcher makes the pins and the database, under a loose umask
(umask 022; exec "$MXWALL" watch --config "$CONF" 2> "$T_DIR/watch0.err") &
W_PID=$!
T_PIDS+=("$W_PID")
for ((i = 0; i < 200; i++)); do
	grep -q following "$T_DIR/watch0.err" 2>/dev/null && break
	sleep 0.05
done
check "watcher started" grep -q following "$T_DIR/watch0.err"
check_eq "database created 0600 under umask 022" "$(stat -c %a "$DB")" 600
stop_watch

# ---- links planted at the temp name, in a world-writable directory ----
PUB=$T_DIR/pub
mkdir "$PUB" && chmod 0777 "$PUB"
VICTIM=$T_DIR/victim
echo "root's secret" > "$VICTIM" && chmod 0600 "$VICTIM"

# plant NAME CMD... - nobody links $PUB/NAME.tmp.<pid of CMD> (and a few
# neighbours) to the victim; CMD then runs with that pid
plant_and_run()
{
	local out=$1

	shift
	# shellcheck disable=SC2016
	sh -c 'for i in 0 1 2 3; do
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
			ln -s "$1" "$2.tmp.$(($$ + i))" 2>/dev/null
	done
	shift 2
	exec "$@"' sh "$VICTIM" "$out" "$@"
}

plant_and_run "$PUB/m.prom" "$MXWALL" metrics --config "$CONF" --out "$PUB/m.prom" 2> "$T_DIR/err"
check_eq "metrics --out: the planted link's target is untouched" "$(cat "$VICTIM")" "root's secret"
check_eq "metrics --out: the target keeps its mode" "$(stat -c %a "$VICTIM")" 600
check "metrics --out: wrote a regular file" test -f "$PUB/m.prom" -a ! -L "$PUB/m.prom"
check "metrics --out: the metrics are there" grep -q '^mxwall_dropped_total ' "$PUB/m.prom"
check_eq "metrics --out: file mode" "$(stat -c %a "$PUB/m.prom")" 644

plant_and_run "$PUB/r.txt" "$MXWALL" report --config "$CONF" --out "$PUB/r.txt" 2> "$T_DIR/err"
check_eq "report --out: the planted link's target is untouched" "$(cat "$VICTIM")" "root's secret"
check "report --out: wrote the report" test -s "$PUB/r.txt" -a ! -L "$PUB/r.txt"

# a link at the --out name itself is replaced, not followed
as_nobody ln -s "$VICTIM" "$PUB/link.prom"
"$MXWALL" metrics --config "$CONF" --out "$PUB/link.prom" 2> "$T_DIR/err"
check_eq "a link at --out is replaced, its target untouched" "$(cat "$VICTIM")" "root's secret"
check "the link became a regular file" test -f "$PUB/link.prom" -a ! -L "$PUB/link.prom"

# ---- directories another user can write into ----
SD=$MXWALL_STATE_DIR
chmod 0777 "$SD"
out=$("$MXWALL" status 2>&1)
rc=$?
check_eq "world-writable state dir: exit 1" "$rc" 1
check_eq "world-writable state dir: one clear line" "$out" \
	"mxwall: state directory $SD is writable by group or others: refusing to write there (chmod go-w $SD)"
chmod 0700 "$SD"
chown nobody "$SD"
out=$("$MXWALL" block 192.0.2.9 2>&1)
check_eq "state dir owned by another user: refused" "$out" \
	"mxwall: state directory $SD is owned by uid $(id -u nobody), not by root: refusing to write there (chown root $SD)"
chown root "$SD"
check_not "nothing was blocked through a refused state dir" listed 192.0.2.9

ARCH=$T_DIR/archive
mkdir "$ARCH" && chmod 0777 "$ARCH"
as_nobody ln -s "$VICTIM" "$ARCH/.reset"
as_nobody ln -s "$VICTIM" "$ARCH/.reset.tmp.1"
echo "report_dir = $ARCH" >> "$CONF"
out=$("$MXWALL" report --reset --config "$CONF" 2>&1)
rc=$?
check_eq "world-writable report archive: exit 1" "$rc" 1
check_eq "world-writable report archive: clear line" "$out" \
	"mxwall: report: archive $ARCH is writable by group or others: refusing to write there (chmod go-w $ARCH) (nothing was reset)"
check_eq "report --reset: the planted link's target is untouched" "$(cat "$VICTIM")" "root's secret"
sed -i '$d' "$CONF"

# ---- devices, FIFOs and standard output are written in place ----
DEV=$T_DIR/dev
mkdir "$DEV"
mknod "$DEV/null" c 1 3
check "metrics --out a char device" "$MXWALL" metrics --config "$CONF" --out "$DEV/null"
check "the device node is still a char device" test -c "$DEV/null"
check "report --out a char device" "$MXWALL" report --config "$CONF" --out "$DEV/null"
check "still a char device after report" test -c "$DEV/null"
mkfifo "$DEV/fifo"
timeout 10 cat "$DEV/fifo" > "$T_DIR/from-fifo" &
reader=$!
timeout 10 "$MXWALL" metrics --config "$CONF" --out "$DEV/fifo"
check_eq "metrics --out a FIFO: exit 0" "$?" 0
wait "$reader"
check "the FIFO's reader got the metrics" grep -q '^mxwall_dropped_total ' "$T_DIR/from-fifo"
check "the FIFO is still a FIFO" test -p "$DEV/fifo"
(cd "$DEV" && "$MXWALL" metrics --config "$CONF" --out - > "$T_DIR/stdout")
check "metrics --out - writes standard output" grep -q '^mxwall_dropped_total ' "$T_DIR/stdout"
check "metrics --out - makes no file named -" test ! -e "$DEV/-"
check_eq "no stray files next to the device" "$(ls -A "$DEV" | tr '\n' ' ')" "fifo null "

# ---- a crash at any fsync leaves no temp file ----
CR=$T_DIR/crash
mkdir "$CR"
rm -f "$SD/days"
for n in 1 2 3 4; do
	strace -f -o /dev/null -e trace=fsync -e inject=fsync:signal=KILL:when=$n \
		"$MXWALL" metrics --config "$CONF" --out "$CR/crash.prom" 2>/dev/null
	strace -f -o /dev/null -e trace=fsync -e inject=fsync:signal=KILL:when=$n \
		"$MXWALL" report --config "$CONF" --out "$CR/crash.txt" 2>/dev/null
done
left=$(find "$CR" "$SD" \( -name '*.tmp.*' -o -name '.*' \) -printf '%f ')
check_eq "no temp files after crashes at each fsync" "$left" ""

# ---- the lock lives with the pins ----
SD2=$T_DIR/state2
"$MXWALL" block 192.0.2.10 2>/dev/null
exec 9< "$MXWALL_PIN_DIR"
flock -x 9
MXWALL_STATE_DIR=$SD2 "$MXWALL" block 192.0.2.11 2>/dev/null &
blocker=$!
sleep 0.5
check "a command with other state dir waits for the pin lock" kill -0 "$blocker"
check_not "and has changed nothing yet" listed 192.0.2.11
flock -u 9
exec 9<&-
wait "$blocker"
check_eq "it goes ahead once the lock is free" "$?" 0
check "and its change landed" listed 192.0.2.11

# the watcher takes the same lock for its promotions
start_watch || t_done
exec 9< "$MXWALL_PIN_DIR"
flock -x 9
rejects 192.0.2.12 2
sleep 1
check_not "the watcher's promotion waits for the pin lock" listed 192.0.2.12
flock -u 9
exec 9<&-
check "and lands once it is free" wait_listed 192.0.2.12
stop_watch

t_done
