#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_install.sh - `make install` honours PREFIX and DESTDIR: the binary,
# both man pages, the units and the cron file land under DESTDIR with the
# installed binary's path filled in, the bash completion where
# bash-completion looks for it (and it loads in bash), and an existing
# configuration is never overwritten.
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
	opt/mx/share/bash-completion/completions/mxwall \
	etc/cron.d/mxwall etc/mxwall/mxwall.conf etc/mxwall/blocklist; do
	has "$f"
done
if [ -x "$D/opt/mx/sbin/mxwall" ] && "$D/opt/mx/sbin/mxwall" --version | grep -q '^mxwall '; then ok; else bad "installed binary runs"; fi
if grep -q '/opt/mx/sbin/mxwall report --reset' "$D/etc/cron.d/mxwall"; then ok; else bad "cron names the installed binary"; fi
if grep -q '^ExecStart=/opt/mx/sbin/mxwall watch' "$D/opt/mx/lib/systemd/system/mxwall.service"; then ok; else bad "unit names the installed binary"; fi
if grep -rq '@SBINDIR@' "$D"; then bad "a placeholder was left"; else ok; fi
if bash -c ". '$D/opt/mx/share/bash-completion/completions/mxwall' && complete -p mxwall" 2>&1 |
	grep -qx 'complete -F _mxwall mxwall'; then ok; else bad "the installed completion registers _mxwall for mxwall"; fi

echo "# mine" > "$D/etc/mxwall/mxwall.conf"
make -s install DESTDIR="$D" PREFIX=/opt/mx >/dev/null 2>&1
if [ "$(cat "$D/etc/mxwall/mxwall.conf")" = "# mine" ]; then ok; else bad "existing mxwall.conf kept"; fi

# the unprivileged user of the log readers: made when missing, not twice,
# never for a DESTDIR install unless asked (stand-ins for getent/useradd)
mkdir -p "$D/bin"
cat >"$D/bin/useradd" <<EOS
#!/bin/sh
echo "\$*" >>"$D/useradd.calls"
EOS
printf '#!/bin/sh\nexit 2\n' >"$D/bin/getent-none"
printf '#!/bin/sh\necho mxwall:x:999:999::/nonexistent:/usr/sbin/nologin\n' >"$D/bin/getent-has"
chmod +x "$D/bin/"*
make -s install DESTDIR="$D" PREFIX=/opt/mx USERADD="$D/bin/useradd" GETENT="$D/bin/getent-none" >/dev/null 2>&1
if [ ! -e "$D/useradd.calls" ]; then ok; else bad "DESTDIR install made a user"; fi
make -s install DESTDIR="$D" PREFIX=/opt/mx CREATE_USER=yes USERADD="$D/bin/useradd" GETENT="$D/bin/getent-none" >/dev/null 2>&1
if grep -q -- '--system .*mxwall$' "$D/useradd.calls" 2>/dev/null; then ok; else bad "a system user mxwall is made: $(cat "$D/useradd.calls" 2>/dev/null)"; fi
rm -f "$D/useradd.calls"
make -s install DESTDIR="$D" PREFIX=/opt/mx CREATE_USER=yes USERADD="$D/bin/useradd" GETENT="$D/bin/getent-has" >/dev/null 2>&1
if [ ! -e "$D/useradd.calls" ]; then ok; else bad "an existing mxwall user is made again"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
