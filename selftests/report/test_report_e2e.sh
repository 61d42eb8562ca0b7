#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_report_e2e.sh - `mxwall report`, `report --reset` and `metrics` on the
# real XDP backend: two namespaces, mxwall attached on the server side,
# exact numbers of raw SMTP SYNs (40 IP bytes over IPv4, 60 over IPv6) sent
# from blocked sources. Checks the table, -n, --by /24, --json (parses, and
# its rows are `top --json`'s rows), --out; the reset (archive .txt/.json,
# mail through a fake sendmail on PATH, dynamic entries gone, static kept
# with zero counters, an empty next week); a crash injected between the
# archive and the clear (the test hook crash_after=archive) recovered by the
# next run with exactly one report; a failing sendmail (exit 1, archive
# kept); and the metrics file.
# REPORT_BACKEND=nft runs the same on the nftables backend
# (test_report_nft.sh does that).
set -u
. "$(dirname "$0")/../net/lib.sh"

net_require ip nsenter python3

SRV4=10.250.0.1
SRV6=fd00:250::1
net_setup || { echo "FAIL - namespace setup"; net_finish; }
net_add_src 10.250.1.7 10.250.1.9 10.250.2.5 10.250.4.4 fd00:250::77
BACKEND=${REPORT_BACKEND:-xdp}
if [ "$BACKEND" = nft ]; then
	check "attach (nft)" mxw --backend nft attach veth0
else
	check "attach (xdp)" mxw --backend xdp attach veth0 --mode generic
fi
uses_backend() { mxw status 2>&1 | grep -qiE "backend:? +$1"; }
check "the backend in use is $BACKEND" uses_backend "$BACKEND"
check "block dynamic" mxw block 10.250.1.7 --tag njabl
check "block dynamic" mxw block 10.250.1.9 --tag cbl
check "block static netblock" mxw block 10.250.2.0/24 --static
check "block dynamic, no traffic" mxw block 10.250.3.3
check "block dynamic v6" mxw block fd00:250::77 --tag dialup

# syn SRC DST N - N raw SYNs to port 25, TCP header without options
syn()
{
	ns_cli python3 - "$@" <<'PY'
import socket, struct, sys, ipaddress
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
v6 = ":" in dst
fam = socket.AF_INET6 if v6 else socket.AF_INET
s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.bind((src, 0))
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
for i in range(n):
    tcp = struct.pack("!HHIIBBHHH", 40000 + i, 25, 1000 + i, 0, 5 << 4, 0x02, 65535, 0, 0)
    a, b = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if v6:
        ph = a + b + struct.pack("!I3xB", len(tcp), 6)
    else:
        ph = a + b + struct.pack("!BBH", 0, 6, len(tcp))
    c = csum(ph + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    s.sendto(tcp, (dst, 0))
PY
}

syn 10.250.1.7 $SRV4 30
syn 10.250.1.9 $SRV4 20
syn 10.250.2.5 $SRV4 25
syn fd00:250::77 $SRV6 5
syn 10.250.4.4 $SRV4 3		# not blocked: passes
sleep 0.2

has_entry() { mxw list | grep -q "^$1 "; }
no_entry() { ! has_entry "$1"; }

# row TEXT CIDR - "packets bytes tags..." of CIDR in a report table
row() { awk -v c="$2" '$1 == c { $1 = ""; sub(/^ /, ""); print }' <<<"$1"; }

out=$(mxw report 2>&1)
check_eq "report: 10.250.1.7 row" "$(row "$out" 10.250.1.7)" "30 1200 [njabl]"
check_eq "report: 10.250.2.0/24 row" "$(row "$out" 10.250.2.0/24)" "25 1000 [static]"
check_eq "report: v6 row" "$(row "$out" fd00:250::77)" "5 300 [dialup]"
check_eq "report: no row for an entry without packets" "$(row "$out" 10.250.3.3)" ""
check "report: dropped total" grep -qx 'Dropped:        80 (.*% of SMTP SYNs)' <<<"$out"
check "report: SYNs seen" grep -qx 'SMTP SYNs seen: 83' <<<"$out"
check "report: entries" grep -qx 'Entries:        1 static, 4 dynamic' <<<"$out"
order=$(awk '/^Host\/Mask/ { t = 1; next } t { print $1 }' <<<"$out" | tr '\n' ' ')
check_eq "report: sorted by packets" "$order" "10.250.1.7 10.250.2.0/24 10.250.1.9 fd00:250::77 "
n=$(mxw report -n 2 | awk '/^Host\/Mask/ { t = 1; next } t' | wc -l)
check_eq "report -n 2: two rows" "$n" 2
out=$(mxw report --by /24)
check_eq "report --by /24: hosts summed" "$(row "$out" 10.250.1.0/24)" "50 2000 [njabl] [cbl]"
check_eq "report --by /24: v6 /48" "$(row "$out" fd00:250::/48)" "5 300 [dialup]"
mxw report --json -n 0 >"$STATE_DIR/r.json"
mxw top --json -n 0 >"$STATE_DIR/top.json"
check "report --json parses; rows = top --json rows with packets" python3 - "$STATE_DIR/r.json" "$STATE_DIR/top.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = [x for x in json.load(open(sys.argv[2])) if x["packets"]]
# last_hit comes from the data path's clock, converted at each read: it may
# move by a second between two commands; everything else must be equal
strip = lambda rows: [{k: v for k, v in x.items() if k != "last_hit"} for x in rows]
assert strip(r["rows"]) == strip(t), (r["rows"], t)
assert r["totals"]["dropped"] == 80, r["totals"]
assert r["totals"]["entries_dynamic"] == 4
assert set(r["period"]) == {"from", "to"}
for k in ("entry", "action", "packets", "bytes", "tags", "origin", "added", "expires", "last_hit"):
    assert all(k in x for x in r["rows"]), k
PY
check "report --out FILE" mxw report --out "$STATE_DIR/out.txt"
check "report --out: the file holds the table" grep -q '^10.250.1.7 ' "$STATE_DIR/out.txt"
mxw report -n x >/dev/null 2>&1
check_eq "report -n x: exit 2" "$?" 2
mxw report --by /23 >/dev/null 2>&1
check_eq "report --by /23: exit 2" "$?" 2

# --- metrics
check "metrics --out" mxw metrics --out "$STATE_DIR/mxwall.prom"
check "metrics: dropped counter" grep -qx 'mxwall_dropped_total 80' "$STATE_DIR/mxwall.prom"
check "metrics: entries by origin" grep -qx 'mxwall_entries{origin="dynamic"} 4' "$STATE_DIR/mxwall.prom"
check "metrics: per-entry drops" grep -qx 'mxwall_entry_packets_total{entry="10.250.1.7",action="drop"} 30' "$STATE_DIR/mxwall.prom"
check "metrics: every sample has HELP and TYPE" python3 - "$STATE_DIR/mxwall.prom" <<'PY'
import re, sys
typed, helped = set(), set()
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# HELP "): helped.add(line.split()[2]); continue
    if line.startswith("# TYPE "):
        name = line.split()[2]
        assert name in helped and name.startswith("mxwall_"), name
        typed.add(name); continue
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$', line)
    assert m, line
    assert m.group(1) in typed, line
    float(m.group(3))
PY

# --- reset with mail through a fake sendmail on PATH
mkdir -p "$STATE_DIR/bin"
cat >"$STATE_DIR/bin/sendmail" <<EOS
#!/bin/sh
echo "\$@" > "$STATE_DIR/sendmail.args"
cat > "$STATE_DIR/sendmail.msg"
exit \${FAKE_SENDMAIL_EXIT:-0}
EOS
chmod 755 "$STATE_DIR/bin/sendmail"
printf 'report_mail_to = postmaster@example.com\n' >"$STATE_DIR/mail.conf"
MP="$STATE_DIR/bin:$PATH"
PATH=$MP mxw report --reset --config "$STATE_DIR/mail.conf" >"$STATE_DIR/reset.out" 2>&1
check_eq "reset: exit 0" "$?" 0
today=$(date +%Y-%m-%d)
check "reset: archive .txt" test -s "$STATE_DIR/reports/$today.txt"
check "reset: archive .json parses" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$STATE_DIR/reports/$today.json"
check "reset: the archive holds the week" grep -q '^10.250.1.7 .* 30 ' "$STATE_DIR/reports/$today.txt"
check "reset: sendmail -t -i" grep -qx -- '-t -i' "$STATE_DIR/sendmail.args"
check "reset: mail To" grep -qx 'To: postmaster@example.com' "$STATE_DIR/sendmail.msg"
check "reset: mail Subject" grep -q '^Subject: mxwall weekly report for .*: 80 dropped$' "$STATE_DIR/sendmail.msg"
check "reset: mail Date" grep -qE '^Date: [A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}$' "$STATE_DIR/sendmail.msg"
check "reset: mail body" grep -q '^10.250.1.7 ' "$STATE_DIR/sendmail.msg"
list=$(mxw list | awk 'NR > 1 { print $1 }' | tr '\n' ' ')
check_eq "reset: only the static entry is left" "$list" "10.250.2.0/24 "
mxw top --json -n 0 >"$STATE_DIR/top2.json"
check "reset: static counters zeroed" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert [(x["entry"], x["packets"], x["bytes"]) for x in r] == [("10.250.2.0/24", 0, 0)], r' "$STATE_DIR/top2.json"
out=$(mxw report)
check "after reset: no drops this week" grep -q '^No drops this week' <<<"$out"
check "after reset: SYN count starts again" grep -qx 'SMTP SYNs seen: 0' <<<"$out"
PATH=$MP mxw report --reset --config "$STATE_DIR/mail.conf" >/dev/null 2>&1
check_eq "second reset the same day: exit 0" "$?" 0
check_eq "second reset the same day: still one report" "$(ls "$STATE_DIR/reports" | grep -c '\.txt$')" 1

# --- crash between archive and clear, recovered by the next run
printf 'report_dir = %s\n' "$STATE_DIR/r2" >"$STATE_DIR/r2.conf"
mxw block 10.250.1.7 --tag njabl >/dev/null
syn 10.250.1.7 $SRV4 4
MXWALL_TEST_HOOKS=crash_after=archive mxw report --reset --config "$STATE_DIR/r2.conf" >/dev/null 2>&1
check_eq "crash hook: killed" "$?" 137
check_eq "crash: one archived report" "$(ls "$STATE_DIR/r2" | grep -c '\.txt$')" 1
check "crash: the dynamic entry is still there" has_entry 10.250.1.7
mxw report --reset --config "$STATE_DIR/r2.conf" >"$STATE_DIR/recover.out" 2>&1
check_eq "recovery: exit 0" "$?" 0
check_eq "recovery: still exactly one report" "$(ls "$STATE_DIR/r2" | grep -c '\.txt$')" 1
check_eq "recovery: still exactly one json" "$(ls "$STATE_DIR/r2" | grep -c '\.json$')" 1
check "recovery: says it finished the reset" grep -q 'finishing the weekly reset' "$STATE_DIR/recover.out"
check "recovery: the dynamic entry is gone" no_entry 10.250.1.7
check "recovery: the report was of the crashed week" grep -q '^10.250.1.7 .* 4 ' "$STATE_DIR"/r2/*.txt

# --- a failing sendmail: exit 1, the archive holds the report
printf 'report_dir = %s\nreport_mail_to = postmaster@example.com\n' "$STATE_DIR/r3" >"$STATE_DIR/r3.conf"
rm -f "$STATE_DIR/sendmail.msg"
FAKE_SENDMAIL_EXIT=75 PATH=$MP mxw report --reset --config "$STATE_DIR/r3.conf" >/dev/null 2>"$STATE_DIR/fail.err"
check_eq "failing sendmail: exit 1" "$?" 1
check "failing sendmail: says so" grep -q 'mailing the report to postmaster@example.com failed: .* exited with status 75 (the archive holds it)' "$STATE_DIR/fail.err"
check_eq "failing sendmail: archive holds the report" "$(ls "$STATE_DIR/r3" | grep -c '\.txt$')" 1
check "failing sendmail: sendmail got the message" test -s "$STATE_DIR/sendmail.msg"

mxw detach veth0 >/dev/null 2>&1
net_finish
