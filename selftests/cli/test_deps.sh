#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_deps.sh - `make deps` and the tests leave the host's mail and
# security setup alone: scripts/install-deps.sh installs no MTA and no
# fail2ban (nor anything whose dependencies pull one in), and the servers
# the tests need come out of selftests/lib/pkgs.sh, unpacked into a
# private tree without touching the host's package state. The test data
# lives in the repository.
set -u
cd "$(dirname "$0")/../.." || exit 1
pass=0
fail=0
D=$(mktemp -d /tmp/mxwall-deps.XXXXXX)
trap 'rm -rf "$D"' EXIT
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }

servers='^(postfix|exim4.*|fail2ban|sendmail.*|opensmtpd|courier-mta|crowdsec|nsd|rbldnsd|systemd-journal-remote|default-mta|mail-transport-agent|nullmailer|msmtp-mta|dma|ssmtp)$'
pkgs=$(sed -n '/^PKGS="/,/"$/p' scripts/install-deps.sh | tr -d '"' | sed 's/^PKGS=//')
[ -n "$pkgs" ] && ok || bad "no PKGS list in scripts/install-deps.sh"
hit=$(tr -s ' \n' '\n\n' <<<"$pkgs" | grep -E "$servers")
[ -z "$hit" ] && ok || bad "install-deps installs a server: $hit"
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
	--no-breaks --no-replaces --no-enhances $pkgs 2>/dev/null | grep -v '^ ' | sort -u)
[ -n "$closure" ] && ok || bad "apt-cache depends gave nothing"
hit=$(grep -E "$servers" <<<"$closure")
[ -z "$hit" ] && ok || bad "install-deps pulls in a server: $hit"
grep -q 'debconf-set-selections' scripts/install-deps.sh && bad "install-deps preseeds a package" || ok

# pkgs.sh: a private root, the host's package state as before
before=$(dpkg-query -W -f='${Package} ${Status}\n' 2>/dev/null | md5sum)
root=$(MXWALL_PKGS_DIR=$D selftests/lib/pkgs.sh postfix) || bad "pkgs.sh postfix failed"
[ "$root" = "$D/postfix" ] && ok || bad "pkgs.sh printed '$root', expected $D/postfix"
[ -x "$root/usr/sbin/postfix" ] && [ -x "$root/usr/lib/postfix/sbin/smtpd" ] && ok ||
	bad "postfix unpacked under $root"
[ -r "$root/env.sh" ] && (. "$root/env.sh"; [ "$(command -v postconf)" = "$root/usr/sbin/postconf" ] &&
	postconf -d mail_version >/dev/null) && ok || bad "env.sh runs the unpacked postconf"
after=$(dpkg-query -W -f='${Package} ${Status}\n' 2>/dev/null | md5sum)
[ "$before" = "$after" ] && ok || bad "the host's package state changed"
# cheap and stable when already unpacked; nothing downloaded again
touch "$D/stamp"
t0=$(date +%s%N)
again=$(MXWALL_PKGS_DIR=$D selftests/lib/pkgs.sh postfix)
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$again" = "$root" ] && ok || bad "second call printed '$again'"
[ -z "$(find "$D/debs" -newer "$D/stamp" -name '*.deb')" ] && ok || bad "second call downloaded again"
[ "$ms" -lt 2000 ] && ok || bad "second call took $ms ms"
# several packages share one root
r2=$(MXWALL_PKGS_DIR=$D selftests/lib/pkgs.sh postfix swaks) && [ "$r2" = "$D/postfix+swaks" ] &&
	[ -e "$r2/usr/sbin/postfix" ] && [ -e "$r2/usr/bin/swaks" ] && ok || bad "pkgs.sh postfix swaks: '$r2'"
MXWALL_PKGS_DIR=$D selftests/lib/pkgs.sh 'x;y' >/dev/null 2>&1 && bad "bad name accepted" || ok
MXWALL_PKGS_DIR=$D selftests/lib/pkgs.sh mxwall-no-such-package >/dev/null 2>"$D/err" &&
	bad "unknown package accepted" || ok
grep -q 'mxwall-no-such-package' "$D/err" && ok || bad "unknown package: says which"

# the test data is in the repository
[ -r selftests/scan/corpus/fail2ban/LICENSE-NOTE.md ] && [ -r selftests/scan/corpus/other/NOTE.md ] &&
	[ -r selftests/scan/corpus/fail2ban/COPYING ] && ok || bad "corpus with its licence notes in selftests/scan/corpus"
if grep -rn --exclude=test_deps.sh '\.\./shared\|"shared"' selftests/*/*.sh selftests/*/*.py Makefile scripts 2>/dev/null; then
	bad "a test still reads ../shared"
else
	ok
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
