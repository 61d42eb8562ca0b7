#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_cli.sh - what users see when they get it wrong: usage errors (one
# line naming the bad argument, exit 2), runtime errors (words to act on,
# exit 1), --help on every command (stdout, exit 0), a load file with a bad
# line (exact FILE:LINE error, state unchanged), missing privileges, and the
# nft fallback of attach. Runs mxwall in its own namespace with its own pin
# and state directories.
set -u
. "$(dirname "$0")/../net/lib.sh"

net_require ip nsenter setpriv python3

# expect RC LINE CMD... - exit status RC, stderr exactly LINE (one line,
# with the "mxwall: " prefix), nothing on stdout
expect()
{
	local rc=$1 want=$2 out err got

	shift 2
	out=$("$@" 2>/tmp/mxwall-cli-err.$$)
	got=$?
	err=$(cat /tmp/mxwall-cli-err.$$)
	rm -f /tmp/mxwall-cli-err.$$
	if [ "$got" -eq "$rc" ] && [ "$err" = "$want" ] && [ -z "$out" ]; then
		PASS=$((PASS + 1))
		[ -n "${TEST_VERBOSE:-}" ] && echo "ok - $*"
		return 0
	fi
	FAIL=$((FAIL + 1))
	echo "FAIL - $*"
	echo "    exit $got (want $rc)"
	echo "    stderr: $err"
	echo "    want:   $want"
	[ -n "$out" ] && echo "    stdout: $out"
	return 0
}

M() { "$MXWALL" --pin-dir "$PIN_DIR" --state-dir "$STATE_DIR" "$@"; }

net_setup || { echo "FAIL - namespace setup"; net_finish; }
# two more interfaces to attach to (veth: no dummy module needed)
for i in 0 1; do
	ip -n "$NS_SRV" link add "dummy$i" type veth peer name "dpeer$i"
	ip -n "$NS_SRV" link set "dummy$i" up
	ip -n "$NS_SRV" link set "dpeer$i" up
done

# --- usage errors: exit 2, one line naming the argument, nothing changed
E="mxwall:"
expect 2 "$E block: '1.2.3.4/33': prefix length 33 is out of range for IPv4" M block 1.2.3.4/33
expect 2 "$E block: '300.1.1.1': not an IPv4 address (write all four octets in decimal)" M block 300.1.1.1
expect 2 "$E block: '::g': not an IPv6 address" M block ::g
expect 2 "$E block: empty address" M block ""
expect 2 "$E block: '1.2.3': not an IPv4 address (write all four octets in decimal)" M block 1.2.3
expect 2 "$E block: '010.1.1.1': not an IPv4 address (write all four octets in decimal)" M block 010.1.1.1
expect 2 "$E block: '/0': missing address" M block /0
expect 2 "$E block: '1.2.3.4/0': /0 would match every address" M block 1.2.3.4/0
expect 2 "$E block: '::/0': /0 would match every address" M block ::/0
expect 2 "$E block: '1.2.3.4/': missing prefix length" M block 1.2.3.4/
expect 2 "$E block: '2001:db8::/129': prefix length 129 is out of range for IPv6" M block 2001:db8::/129
expect 2 "$E block: '192.0.2.300': not an IPv4 address (write all four octets in decimal)" M block 192.0.2.1 192.0.2.300
expect 2 "$E allow: '1.2.3.4/33': prefix length 33 is out of range for IPv4" M allow 1.2.3.4/33
expect 2 "$E unblock: '::g': not an IPv6 address" M unblock ::g
expect 2 "$E block: missing CIDR (see 'mxwall block --help')" M block
expect 2 "$E allow: missing CIDR (see 'mxwall allow --help')" M allow --tag x
expect 2 "$E unblock: missing CIDR (see 'mxwall unblock --help')" M unblock
expect 2 "$E block: --frob: unknown option (see 'mxwall block --help')" M block --frob 192.0.2.1
expect 2 "$E block: --frob: unknown option (see 'mxwall block --help')" M block --frob=1 192.0.2.1
expect 2 "$E block: -x: unknown option (see 'mxwall block --help')" M block -x 192.0.2.1
expect 2 "$E block: --dynamic: unknown option (see 'mxwall block --help')" M block --dynamic 192.0.2.1
expect 2 "$E block: --ttl: missing value" M block 192.0.2.1 --ttl
expect 2 "$E block: --ttl 5x: expected a duration such as 90s, 15m, 2h, 30d or 1w" M block --ttl 5x 192.0.2.1
expect 2 "$E block: --ttl 0: expected a duration such as 90s, 15m, 2h, 30d or 1w" M block --ttl 0 192.0.2.1
expect 2 "$E block: --tag bad tag: a tag is 1 to 32 letters, digits or '.', '_', ':', '-'" M block --tag "bad tag" 192.0.2.1
expect 2 "$E block: --tag a: 'a' marks what the watcher added; choose another tag" M block --tag a 192.0.2.1
expect 2 "$E block: --tag a: 'a' marks what the watcher added; choose another tag" M block --tag x,a 192.0.2.1
expect 2 "$E block: --tag static: 'static' is an origin, shown by list; say --static" M block --tag static 192.0.2.1
expect 2 "$E load: --tag dynamic: 'dynamic' is an origin, shown by list; say --dynamic" M load x --tag dynamic
expect 2 "$E block: --tag b,,c: a tag is 1 to 32 letters, digits or '.', '_', ':', '-'" M block --tag b,,c 192.0.2.1
expect 2 "$E allow: --ttl: unknown option (see 'mxwall allow --help')" M allow --ttl 1h 192.0.2.1
expect 2 "$E allow: --observe: unknown option (see 'mxwall allow --help')" M allow --observe 192.0.2.1
expect 2 "$E allow: --static and --dynamic exclude each other" M allow --static --dynamic 192.0.2.1
expect 2 "$E list: --static and --dynamic exclude each other" M list --static --dynamic
expect 2 "$E list: extra: unexpected argument" M list extra
expect 2 "$E top: -n -1: expected a number of rows" M top -n -1
expect 2 "$E top: -n ten: expected a number of rows" M top -n ten
expect 2 "$E top: -n: missing value" M top -n
expect 2 "$E top: --by /20: expected /24, /16 or /48" M top --by /20
expect 2 "$E flush: say --dynamic or --all" M flush
expect 2 "$E flush: --dynamic and --all exclude each other" M flush --all --dynamic
expect 2 "$E flush: now: unexpected argument" M flush --all now
expect 2 "$E load: missing FILE (see 'mxwall load --help')" M load
expect 2 "$E load: b: unexpected argument (one FILE at a time)" M load a b
expect 2 "$E attach: missing IFACE (see 'mxwall attach --help')" M attach
expect 2 "$E attach: --mode turbo: expected native, generic or auto" M attach lo --mode turbo
expect 2 "$E attach: --ports 0: expected up to 8 distinct ports 1-65535, comma separated" M attach lo --ports 0
expect 2 "$E attach: --ports 25,25: expected up to 8 distinct ports 1-65535, comma separated" M attach lo --ports 25,25
expect 2 "$E attach: --observe=maybe: expected yes or no" M attach lo --observe=maybe
expect 2 "$E attach: eth1: unexpected argument (one IFACE at a time)" M attach eth0 eth1
expect 2 "$E detach: missing IFACE or --all (see 'mxwall detach --help')" M detach
expect 2 "$E detach: eth0: unexpected argument with --all" M detach --all eth0
expect 2 "$E status: --jsn: unknown option (see 'mxwall status --help')" M status --jsn
expect 2 "$E frobnicate: unknown command (see 'mxwall --help')" M frobnicate
check "no usage error created state" test ! -e "$PIN_DIR"

# --- --help: stdout, exit 0, nothing on stderr
for c in attach detach status block allow unblock list load flush top; do
	out=$(M "$c" --help 2>/tmp/mxwall-cli-err.$$)
	rc=$?
	check_eq "$c --help exit 0, usage on stdout, quiet stderr" \
		"$rc|$(head -n1 <<<"$out" | cut -d' ' -f1-3)|$(cat /tmp/mxwall-cli-err.$$)" \
		"0|usage: mxwall $c|"
	rm -f /tmp/mxwall-cli-err.$$
done

# --- help COMMAND is that command's --help; no command: the short usage
for c in attach detach status block allow unblock list load flush top scan watch report stats metrics export query why; do
	check_eq "help $c is '$c --help'" "$(M help "$c" 2>&1; echo "rc=$?")" "$(M "$c" --help 2>&1; echo "rc=$?")"
done
expect 2 "$E help: frob: unknown command (see 'mxwall --help')" M help frob
out=$("$MXWALL" 2>&1 >/dev/null)
rc=$?
check_eq "no command: exit 2" "$rc" 2
check "no command: a short usage naming the commands and 'help COMMAND'" \
	test "$(wc -l <<<"$out")" -le 6 -a -n "$(grep -x 'commands: attach detach .*' <<<"$out")" \
	-a -n "$(grep -F "mxwall help COMMAND" <<<"$out")"
check "no command: nothing on stdout" test -z "$("$MXWALL" 2>/dev/null)"

# --- options after arguments: scan FILE --json, stats persistence --json
optlog=$(mktemp /tmp/mxwall-cli-log.XXXXXX)
on_cleanup "rm -f $optlog"
echo 'Jan  1 00:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.9]: 554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org; from=<a@b> to=<c@d> proto=ESMTP helo=<x>' >"$optlog"
out=$(M scan "$optlog" --json 2>&1)
check "scan FILE --json: JSON after the file name" grep -q '^{"time":".*","ip":"192.0.2.9"' <<<"$out"
check_eq "scan FILE --json equals scan --json FILE" "$out" "$(M scan --json "$optlog" 2>&1)"
check_eq "scan FILE --frob: usage error" "$(M scan "$optlog" --frob 2>&1; echo "rc=$?")" \
	"$E scan: --frob: unknown option (see 'mxwall scan --help')
rc=2"
check_eq "scan -- -x: a file named after --" "$(M scan -- --json 2>&1 >/dev/null; echo "rc=$?")" \
	"$E --json: No such file or directory
rc=1"

# --- runtime errors before anything is set up: exit 1
expect 1 "$E attach: nosuch0: no such interface" M attach nosuch0
for c in "block 192.0.2.1" "allow 192.0.2.1" "unblock 192.0.2.1" "list" "top" "status" "flush --all" "detach --all"; do
	# shellcheck disable=SC2086
	expect 1 "$E ${c%% *}: mxwall is not set up here (run 'mxwall attach IFACE' first)" M $c
done
expect 1 "$E /nonexistent/list: No such file or directory (nothing was loaded)" M load /nonexistent/list

# --- set up on a dummy interface in our namespace
# attach says which backend and mode it used
expect 0 "$E attach: dummy0: xdp backend, generic mode" mxw attach dummy0 --mode generic
check "block a host, a netblock, a v6 host" mxw block 192.0.2.1 198.51.100.0/24 2001:db8::1 --tag njabl
check "allow an exception" mxw allow 198.51.100.7
before=$(mxw list --json)
check "list shows four entries" test "$(grep -c '"entry"' <<<"$before")" -eq 4

tmp=$(mktemp -d /tmp/mxwall-cli.XXXXXX)
on_cleanup "rm -rf $tmp"
printf '# core list\n203.0.113.0/24 ; SBL1\n\n1.2.3.4/33\n192.0.2.99\n' >"$tmp/bad.list"
expect 1 "$E $tmp/bad.list:4: '1.2.3.4/33': prefix length 33 is out of range for IPv4 (nothing was loaded)" \
	mxw load "$tmp/bad.list"
check_eq "bad load changed nothing" "$(mxw list --json)" "$before"
printf '203.0.113.0/24 ; SBL1\n192.0.2.99 # zombie\n' >"$tmp/two.list"
printf '203.0.113.0/24\nnot-an-address\n' >"$tmp/late.list"
expect 1 "$E $tmp/late.list:2: 'not-an-address': not an IPv4 address (write all four octets in decimal) (nothing was loaded)" \
	mxw load "$tmp/late.list"
check_eq "bad last line changed nothing" "$(mxw list --json)" "$before"
printf '203.0.113.7/24\n' >"$tmp/masked.list"
expect 0 "$E warning: $tmp/masked.list:1: 203.0.113.7/24 has host bits set; using 203.0.113.0/24
$E load: 1 entry from $tmp/masked.list" mxw load "$tmp/masked.list" --tag sbl
check "masked entry loaded as static" ns_srv bash -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' list --static | grep -q '^203.0.113.0/24 .*\[sbl\] \[static\]$'"

# --- adding over an entry keeps its origin, merges its tags, says so
expect 0 "$E block: 203.0.113.0/24 was already an entry (static, tags sbl): kept static, tags sbl,njabl" \
	mxw block 203.0.113.0/24 --tag njabl
check "block --tag on a static entry keeps it static with both tags" ns_srv bash -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' list --static | grep -q '^203.0.113.0/24 .*\[sbl\] \[njabl\] \[static\]$'"
printf '203.0.113.0/24\n' >"$tmp/core.list"
out=$(mxw load "$tmp/core.list" --dynamic --tag drop 2>&1; echo "rc=$?")
check_eq "load --dynamic over a static entry says it stays static" "$out" "$E load: 203.0.113.0/24 was already an entry (static, tags sbl,njabl): kept static, tags sbl,njabl,drop
$E load: 1 entry from $tmp/core.list
rc=0"
check "and it stays static" ns_srv bash -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' list --static | grep -q '^203.0.113.0/24 .*\[drop\] \[static\]$'"
expect 0 "$E block: 203.0.113.0/24 was already an entry (static, tags sbl,njabl,drop): kept static, tags sbl,njabl,drop" \
	mxw block 203.0.113.0/24 --static

out=$(printf '192.0.2.50 ; from stdin\n' | mxw load - --dynamic 2>&1; echo "rc=$?")
check_eq "load - reads stdin" "$out" "$E load: 1 entry from -
rc=0"
check "stdin entry is dynamic" ns_srv bash -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' list --dynamic | grep -q '^192.0.2.50 '"
expect 0 "" mxw unblock 192.0.2.50
check "unblock removed it" ns_srv bash -c "! '$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' list | grep -q '^192.0.2.50 '"

expect 1 "$E unblock: 192.0.2.55 is not an entry (nothing was changed)" mxw unblock 192.0.2.1 192.0.2.55
expect 1 "$E unblock: 198.51.100.8 is not an entry (it is inside 198.51.100.0/24; nothing was changed)" \
	mxw unblock 198.51.100.8
check "failed unblock kept 192.0.2.1" ns_srv bash -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' list | grep -q '^192.0.2.1 '"
expect 1 "$E detach: dummy1: mxwall is not attached there" mxw detach dummy1
expect 1 "$E attach: nosuch0: no such interface" mxw attach nosuch0

# --- missing privileges: nothing readable, nothing changed
asnobody() { ns_srv setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$MXWALL" --pin-dir "$PIN_DIR" --state-dir "$STATE_DIR" "$@"; }
snap=$(mxw list --json)
expect 1 "$E list: permission denied: needs CAP_BPF and CAP_NET_ADMIN, or root" asnobody list
expect 1 "$E status: permission denied: needs CAP_BPF and CAP_NET_ADMIN, or root" asnobody status
expect 1 "$E block: permission denied: needs CAP_BPF and CAP_NET_ADMIN, or root" asnobody block 192.0.2.200
expect 1 "$E flush: permission denied: needs CAP_BPF and CAP_NET_ADMIN, or root" asnobody flush --all
expect 1 "$E attach: permission denied: needs CAP_BPF and CAP_NET_ADMIN, or root" asnobody attach dummy1
check_eq "unprivileged attempts changed nothing" "$(mxw list --json)" "$snap"

# --- auto fallback is not taken while XDP is attached elsewhere
expect 1 "$E attach: dummy1: not supported here" env MXWALL_TEST_HOOKS=force_xdp_fail \
	nsenter --net="/run/netns/$NS_SRV" "$MXWALL" --pin-dir "$PIN_DIR" --state-dir "$STATE_DIR" attach dummy1
check "dummy1 not attached after the failure" ns_srv bash -c "! '$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' status | grep -q dummy1"

# --- mutating commands hold the lock: parallel blocks all land
pids=()
for i in $(seq 100 119); do
	mxw block "192.0.2.$i" --tag par &
	pids+=($!)
done
wait "${pids[@]}"
check_eq "20 parallel blocks, 20 entries" \
	"$(mxw list --json | grep -c '"tags":\["par"\]')" 20

# --- the controller's pid file: running only if alive and an mxwall
ctl_line() { mxw status | grep '^controller:'; }
check_eq "no pid file: not running" "$(ctl_line)" "controller: not running"
echo $$ >"$STATE_DIR/watch.pid"
check_eq "pid of something else (recycled): not running" "$(ctl_line)" "controller: not running"
cp "$(command -v sleep)" "$tmp/mxwall-sleep"
"$tmp/mxwall-sleep" 60 &
sleeper=$!
on_cleanup "kill $sleeper"
echo "$sleeper" >"$STATE_DIR/watch.pid"
check_eq "live mxwall pid: running" "$(ctl_line)" "controller: running (pid $sleeper)"
check "status --json says running with the pid" ns_srv bash -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' status --json | grep -q '\"controller\":{\"running\":true,\"pid\":$sleeper}'"
kill "$sleeper"
wait "$sleeper" 2>/dev/null
check_eq "dead pid: not running" "$(ctl_line)" "controller: not running"
rm -f "$STATE_DIR/watch.pid"

check "flush --all" mxw flush --all
check "detach dummy0 leaves no pins" mxw detach dummy0
check "pin dir removed" test ! -e "$PIN_DIR"

# --- a failed attach on a fresh setup leaves nothing behind
expect 1 "$E attach: dummy1: not supported here" env MXWALL_TEST_HOOKS=force_xdp_fail \
	nsenter --net="/run/netns/$NS_SRV" "$MXWALL" --backend xdp --pin-dir "$PIN_DIR" --state-dir "$STATE_DIR" attach dummy1
check "no pins after a failed first attach" test ! -e "$PIN_DIR"

# --- auto fallback to nftables on a fresh setup
expect 0 "$E warning: attach: XDP cannot attach to dummy1 (not supported here); using the nftables backend
$E attach: dummy1: nft backend (table netdev mxwall, ingress hook)" \
	env MXWALL_TEST_HOOKS=force_xdp_fail nsenter --net="/run/netns/$NS_SRV" "$MXWALL" \
	--pin-dir "$PIN_DIR" --state-dir "$STATE_DIR" attach dummy1
st=$(mxw status 2>&1)
check_eq "status names nft and why" "$(head -n1 <<<"$st")" \
	"backend:    nft (auto: XDP cannot attach to dummy1 (not supported here))"
check "no XDP pins after the fallback" test ! -e "$PIN_DIR/mx_cfg"
check "block through nft" mxw block 192.0.2.1
check "list through nft" ns_srv bash -c "'$MXWALL' --pin-dir '$PIN_DIR' --state-dir '$STATE_DIR' list 2>&1 | grep -q '^192.0.2.1 '"
check "flush --all (nft)" mxw flush --all
check "detach dummy1 (nft)" mxw detach dummy1

net_finish
