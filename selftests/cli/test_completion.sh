#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_completion.sh - the bash completion (scripts/mxwall.bash-completion)
# sourced in bash as bash-completion would: COMP_LINE/COMP_POINT set,
# _mxwall called, COMPREPLY checked. Commands and options (from --help, so
# every command of --help is offered), option values, the filter's entries
# for unblock and (hosts only) query/why through the --pin-dir and
# --state-dir given on the line, IPv6 entries across bash's ':' word
# break, files for scan.
set -u
. "$(dirname "$0")/../net/lib.sh"

net_require ip nsenter bash
PASS=0
FAIL=0
COMPL=$TOP/scripts/mxwall.bash-completion
net_setup || { echo "FAIL - namespace setup"; net_finish; }
PIN_DIR=/sys/fs/bpf/mxwall-compl-$$
BIN=$(mktemp -d /tmp/mxwall-compl.XXXXXX)
on_cleanup "rm -rf $BIN"
ln -s "$MXWALL" "$BIN/mxwall"
G="--pin-dir $PIN_DIR --state-dir $STATE_DIR"

# comp LINE - what _mxwall offers at the end of LINE, one per line, sorted
comp()
{
	ns_srv env PATH="$BIN:$PATH" bash -c '
. "$1" || exit 1
COMP_LINE=$2
COMP_POINT=${#2}
_mxwall
printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPL" "$1" | sed '/^$/d' | sort
}
# offers LINE WORD... - each WORD is among the offers
offers()
{
	local line=$1 got w miss=""

	shift
	got=$(comp "$line")
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$got" || miss+=" $w"
	done
	check_eq "'$line' offers$*" "${miss:-none missing}" "none missing"
}

check_eq "registered for mxwall" "$(bash -c ". '$COMPL' && complete -p mxwall")" "complete -F _mxwall mxwall"
cmds=$("$MXWALL" --help | awk '/^commands:/ { s = 1; next } /^$/ { s = 0 } s { print $1 }' | sort)
check_eq "every command of --help is offered, and help" "$(comp "mxwall ")" "$(printf '%s\nhelp\n' "$cmds" | sort)"
check_eq "help COMMAND" "$(comp "mxwall help q")" "query"
check_eq "a prefix" "$(comp "mxwall qu")" "query"
check_eq "un -> unblock" "$(comp "mxwall unb")" "unblock"
offers "mxwall --" --backend --pin-dir --state-dir --version --help
check_eq "global --backend values" "$(comp "mxwall --backend " | tr '\n' ' ')" "auto nft xdp "
check_eq "command after global options" "$(comp "mxwall --backend xdp wh")" "why"
offers "mxwall unblock --" --pardon --config --help
offers "mxwall query -" -n --json --config
offers "mxwall block 192.0.2.1 --" --tag --ttl --static --observe
check_eq "attach --mode values" "$(comp "mxwall attach veth0 --mode " | tr '\n' ' ')" "auto generic native "
check_eq "export --format values" "$(comp "mxwall export --format " | tr '\n' ' ')" "json plain rbldnsd zone "
check_eq "load --format values" "$(comp "mxwall load --format " | tr '\n' ' ')" "drop-json plain rbldnsd zone "
check_eq "top --by values" "$(comp "mxwall top --by " | tr '\n' ' ')" "/16 /24 /48 "
check_eq "stats subcommand" "$(comp "mxwall stats ")" "persistence"
check_eq "no guess for a --pardon value" "$(comp "mxwall unblock 192.0.2.1 --pardon ")" ""
offers "mxwall attach " lo veth0
touch "$BIN/mail.log" "$BIN/mail.log.1.gz"
check_eq "scan completes files" "$(comp "mxwall scan $BIN/mail" | tr '\n' ' ')" "$BIN/mail.log $BIN/mail.log.1.gz "

# entries, read from the filter named on the line
check_eq "no filter: no entries offered" "$(comp "mxwall $G unblock ")" ""
check "attach" mxw attach veth0 --mode generic
check "entries" mxw block 192.0.2.1 198.51.100.0/24 2001:db8::7 --tag x
offers "mxwall $G unblock " 192.0.2.1 198.51.100.0/24 2001:db8::7
check_eq "unblock prefix" "$(comp "mxwall $G unblock 198.")" "198.51.100.0/24"
check_eq "query offers hosts only" "$(comp "mxwall $G query " | tr '\n' ' ')" "192.0.2.1 2001:db8::7 "
check_eq "why too" "$(comp "mxwall $G why 19")" "192.0.2.1"
# bash breaks words at ':': the offer is what follows the last one
check_eq "IPv6 across ':'" "$(comp "mxwall $G unblock 2001:db8::")" "7"
net_finish
