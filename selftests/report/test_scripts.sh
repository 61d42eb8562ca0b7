#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_scripts.sh - the weekly cycle's scripts: the systemd service and
# timer pass `systemd-analyze verify` once @SBINDIR@ is replaced the way
# `make install` does it; the timer fires on Sundays at 06:00 and catches up
# (Persistent=true); the cron line runs at minute 0, hour 6, on Sunday, as
# root, and its command really runs `mxwall report --reset` (checked with a
# stub mxwall that records its arguments); install puts all three in place.
set -u
cd "$(dirname "$0")/../.." || exit 1
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); [ -n "${TEST_VERBOSE:-}" ] && echo "ok - $1"; return 0; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; shift; [ $# -gt 0 ] && printf '    %s\n' "$@"; return 0; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }

for t in systemd-analyze make sed; do
	command -v "$t" >/dev/null || { echo "FAIL - $t missing"; echo "0 passed, 1 failed"; exit 1; }
done
T=$(mktemp -d /tmp/mxwall-scripts-test.XXXXXX)
trap 'rm -rf "$T"' EXIT

# --- install: DESTDIR/PREFIX aware, @SBINDIR@ replaced (the Makefile's rule)
mkdir -p "$T/bin"
make -s --no-print-directory -n install DESTDIR="$T/root" PREFIX=/usr >"$T/install.sh" 2>&1
check "make install handles the units" grep -q 'scripts/\*.service scripts/\*.timer' "$T/install.sh"
check "make install handles the cron file" grep -q 'scripts/mxwall.cron' "$T/install.sh"
check "make install replaces @SBINDIR@" grep -q "sed 's|@SBINDIR@|/usr/sbin|g'" "$T/install.sh"

# --- systemd-analyze verify (man pages are checked by the docs tests)
mkdir -p "$T/units"
stub="$T/bin/mxwall"
printf '#!/bin/sh\necho "$@" >> "%s/stub.args"\n' "$T" >"$stub"
chmod 755 "$stub"
for f in scripts/mxwall-report.service scripts/mxwall-report.timer; do
	sed "s|@SBINDIR@|$T/bin|g" "$f" >"$T/units/$(basename "$f")"
done
if out=$(systemd-analyze verify --man=no "$T/units/mxwall-report.timer" \
	 "$T/units/mxwall-report.service" 2>&1); then
	if [ -n "$out" ]; then
		bad "systemd-analyze verify: no complaints" "$out"
	else
		ok "systemd-analyze verify passes"
	fi
else
	bad "systemd-analyze verify passes" "$out"
fi
# a broken unit must fail the same check (the check can fail)
sed 's|^ExecStart=.*|ExecStart=not/absolute report|' "$T/units/mxwall-report.service" >"$T/units/broken.service"
if systemd-analyze verify --man=no "$T/units/broken.service" >/dev/null 2>&1; then
	bad "systemd-analyze verify rejects a broken ExecStart"
else
	ok "systemd-analyze verify rejects a broken ExecStart"
fi

# the report's unit is walled in like the controller's (it was 9.2 UNSAFE)
for u in mxwall mxwall-report; do
	sed "s|@SBINDIR@|$T/bin|g" "scripts/$u.service" >"$T/units/$u.service"
	score=$(systemd-analyze security --offline=true "$T/units/$u.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	check "$u.service: systemd-analyze security exposure below 5 (${score:-none})" \
		awk -v s="${score:-99}" 'BEGIN { exit !(s < 5) }'
done

svc=scripts/mxwall-report.service
tmr=scripts/mxwall-report.timer
check "service runs mxwall report --reset" \
	grep -qx 'ExecStart=@SBINDIR@/mxwall report --reset' "$svc"
check "service is a oneshot" grep -qx 'Type=oneshot' "$svc"
check "timer: OnCalendar Sunday 06:00" grep -qx 'OnCalendar=Sun \*-\*-\* 06:00:00' "$tmr"
check "timer: Persistent=true (catch up after downtime)" grep -qx 'Persistent=true' "$tmr"
check "timer: starts the report service" grep -qx 'Unit=mxwall-report.service' "$tmr"
check "timer: enabled through timers.target" grep -qx 'WantedBy=timers.target' "$tmr"
cal=$(systemd-analyze calendar --iterations=3 "$(sed -n 's/^OnCalendar=//p' "$tmr")" 2>&1)
n=$(grep -cE '(Next elapse|Iter\. #[0-9]+): Sun [0-9-]+ 06:00:00' <<<"$cal")
if [ "$n" -eq 3 ]; then ok "timer fires on Sundays at 06:00"; else bad "timer fires on Sundays at 06:00" "$cal"; fi

# --- the cron file
cron=scripts/mxwall.cron
lines=$(grep -vE '^[[:space:]]*(#|$)' "$cron" | grep -vE '^[A-Z_]+=')
if [ "$(wc -l <<<"$lines")" -eq 1 ]; then ok "cron: one job line"; else bad "cron: one job line" "$lines"; fi
read -r min hour dom mon dow user cmd <<<"$lines"
if [ "$min $hour $dom $mon" = "0 6 * *" ] && { [ "$dow" = 0 ] || [ "$dow" = Sun ] || [ "$dow" = 7 ]; }; then
	ok "cron: Sunday 06:00"
else
	bad "cron: Sunday 06:00" "$min $hour $dom $mon $dow"
fi
check "cron: runs as root" test "$user" = root
check "cron: names @SBINDIR@/mxwall report --reset" \
	grep -q '@SBINDIR@/mxwall report --reset' <<<"$cmd"
check "cron: no unescaped % (cron would cut the line)" bash -c "! grep -q % '$cron'"
check "cron: PATH reaches sendmail in /usr/sbin" grep -qE '^PATH=.*/usr/sbin' "$cron"
# run the job's command the way cron would, against the stub
rm -f "$T/stub.args"
job=${cmd//@SBINDIR@/$T/bin}
if [ -d /run/systemd/system ] && systemctl -q is-enabled mxwall-report.timer 2>/dev/null; then
	bad "cron: this host has mxwall-report.timer enabled; cannot run the job test"
else
	env -i PATH=/usr/bin:/bin /bin/sh -c "$job"
	if [ "$(cat "$T/stub.args" 2>/dev/null)" = "report --reset" ]; then
		ok "cron: the job runs 'mxwall report --reset'"
	else
		bad "cron: the job runs 'mxwall report --reset'" "got: $(cat "$T/stub.args" 2>/dev/null)"
	fi
fi
# with the timer enabled (systemctl answering yes) the cron job stands aside
mkdir -p "$T/sysd/run/systemd/system" "$T/fakebin"
printf '#!/bin/sh\nexit 0\n' >"$T/fakebin/systemctl"
chmod 755 "$T/fakebin/systemctl"
rm -f "$T/stub.args"
job2=${job//\/run\/systemd\/system/$T/sysd/run/systemd/system}
env -i PATH="$T/fakebin:/usr/bin:/bin" /bin/sh -c "$job2"
if [ ! -e "$T/stub.args" ]; then ok "cron: stands aside when the timer is enabled"; else bad "cron: stands aside when the timer is enabled"; fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
