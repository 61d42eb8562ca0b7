#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_docs.sh - mxwall(8) and --help agree (Postfix's
# check-postconf-undocumented habit):
#  - the commands of `mxwall --help` are the commands of the man page's
#    SYNOPSIS, and vice versa;
#  - for each command, the options of its usage line(s) in
#    `mxwall CMD --help` are the options of its SYNOPSIS line, flag for flag;
#  - every long option anywhere in `mxwall CMD --help` appears in the man
#    page, and every long option in the man page appears in some --help.
set -u
cd "$(dirname "$0")/../.." || exit 1
MXWALL=${MXWALL:-build/mxwall}
MAN=${MAN:-docs/mxwall.8}
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); [ -n "${TEST_VERBOSE:-}" ] && echo "ok - $1"; return 0; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    /'; return 0; }

for f in "$MXWALL" "$MAN"; do
	if [ ! -e "$f" ]; then
		echo "FAIL - missing $f (run make)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
if ! command -v groff >/dev/null; then
	echo "FAIL - missing prerequisite: groff (groff-base)"
	echo "0 passed, 1 failed"
	exit 1
fi

# the page rendered as plain text on long lines
text=$(groff -mandoc -Tascii -P-cbu -rLL=400n "$MAN" 2>/tmp/mxwall-docs-warn.$$)
warn=$(grep -v '^$' /tmp/mxwall-docs-warn.$$)
rm -f /tmp/mxwall-docs-warn.$$
[ -z "$warn" ] && ok "groff renders the page without warnings" ||
	bad "groff warnings" "$warn"
synopsis=$(awk '/^SYNOPSIS/{s=1;next} /^[A-Z]/{s=0} s' <<<"$text" | sed 's/^ *//')

# options OUT: every -x / --long-name token, sorted and unique
opts() { grep -oE '(^|[][ |])--?[a-z][a-z0-9-]*' | sed -E 's/^[][ |]//' | sort -u; }

cmds_help=$("$MXWALL" --help | awk '/^commands:/{s=1;next} /^$/{s=0} s{print $1}' | sort)
cmds_man=$(grep -E '^mxwall [a-z]' <<<"$synopsis" | awk '{print $2}' | sort)
[ -n "$cmds_help" ] && [ "$cmds_help" = "$cmds_man" ] && ok "commands: --help and SYNOPSIS agree" ||
	bad "commands differ between 'mxwall --help' and the SYNOPSIS" \
		"$(diff <(echo "$cmds_help") <(echo "$cmds_man"))"

all_help=$("$MXWALL" --help)
for c in $cmds_help; do
	# stats has a subcommand: its usage names it
	help=$("$MXWALL" "$c" --help 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		bad "$c --help exits $rc" "$help"
		continue
	fi
	all_help+=$'\n'"$help"
	usage=$(awk 'NR==1 || (u && /^ /) {print; u=1; next} {exit}' <<<"$help")
	u_opts=$(opts <<<"$usage")
	m_line=$(grep -E "^mxwall $c( |$)" <<<"$synopsis")
	m_opts=$(opts <<<"$m_line")
	if [ "$u_opts" = "$m_opts" ]; then
		ok "$c: SYNOPSIS matches its usage flag for flag"
	else
		bad "$c: options differ between usage and SYNOPSIS (< usage, > man)" \
			"$usage"$'\n'"$m_line"$'\n'"$(diff <(echo "$u_opts") <(echo "$m_opts"))"
	fi
	missing=""
	for o in $(opts <<<"$help" | grep -- '^--' | grep -vx -- '--help'); do
		grep -qE -- "(^|[][ |(])$o([^a-z0-9-]|$)" <<<"$text" || missing+=" $o"
	done
	[ -z "$missing" ] && ok "$c: every long option of --help is in mxwall(8)" ||
		bad "$c: --help options missing from mxwall(8):$missing"
done

undocumented=""
for o in $(opts <<<"$text" | grep -- '^--'); do
	grep -qE -- "(^|[][ |(,])$o([^a-z0-9-]|$)" <<<"$all_help" || undocumented+=" $o"
done
[ -z "$undocumented" ] && ok "every long option in mxwall(8) is in some --help" ||
	bad "options in mxwall(8) that no --help mentions:$undocumented"

# the nftables backend's table, as the code makes it (backend/nft_msg.c)
fam=$(grep -ohE 'table (inet|netdev|ip|ip6|bridge) mxwall' ctl/backend/nft.c | head -n 1 | cut -d' ' -f2)
wrong=$(grep -nE 'table (inet|ip|ip6|bridge|netdev) mxwall|Ql (inet|ip|ip6|bridge|netdev) mxwall' \
	docs/mxwall.8 docs/mxwall.conf.5 README.md | grep -v " $fam mxwall")
[ -n "$fam" ] && [ -z "$wrong" ] && ok "the docs name table $fam mxwall" ||
	bad "the docs name another table than '${fam:-?} mxwall'" "$wrong"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
