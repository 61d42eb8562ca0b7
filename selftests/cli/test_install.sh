#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_install.sh - `make install` honours PREFIX and DESTDIR: the binary,
# both man pages, the units and the cron file land under DESTDIR with the
# installed binary's path filled in, and an existing configuration is never
# overwritten.
set -u
cd "$(dirname "$0")/../.." || exit 1
pass=0
fail=0
D=$(mktemp -d /tmp/mxwall-install.XXXXXX)
trap 'rm -rf "$D"' EXIT
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
has() { if [ -f "$D/$1" ]; then ok; else bad "installed: $1"; fi; }

make -s install DESTDIR="$D" PREFIX=/opt/mx >"$D.log" 2>&1 || { bad "make install: $(tail -n 3 "$D.log")"; }
rm -f "$D.log"
for f in opt/mx/sbin/mxwall opt/mx/share/man/man8/mxwall.8 \
	opt/mx/share/man/man5/mxwall.conf.5 \
	opt/mx/lib/systemd/system/mxwall.service \
	opt/mx/lib/systemd/system/mxwall-report.service \
	opt/mx/lib/systemd/system/mxwall-report.timer \
	etc/cron.d/mxwall etc/mxwall/mxwall.conf etc/mxwall/blocklist; do
	has "$f"
done
if [ -x "$D/opt/mx/sbin/mxwall" ] && "$D/opt/mx/sbin/mxwall" --version | grep -q '^mxwall '; then ok; else bad "installed binary runs"; fi
if grep -q '/opt/mx/sbin/mxwall report --reset' "$D/etc/cron.d/mxwall"; then ok; else bad "cron names the installed binary"; fi
if grep -q '^ExecStart=/opt/mx/sbin/mxwall watch' "$D/opt/mx/lib/systemd/system/mxwall.service"; then ok; else bad "unit names the installed binary"; fi
if grep -rq '@SBINDIR@' "$D"; then bad "a placeholder was left"; else ok; fi

echo "# mine" > "$D/etc/mxwall/mxwall.conf"
make -s install DESTDIR="$D" PREFIX=/opt/mx >/dev/null 2>&1
if [ "$(cat "$D/etc/mxwall/mxwall.conf")" = "# mine" ]; then ok; else bad "existing mxwall.conf kept"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
