# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - shared helpers of the real-MTA suites (selftests/mta/test_*.sh):
# a private directory, the MTA's Debian package unpacked into the build
# tree (selftests/lib/pkgs.sh), a private mount namespace for the MTA
# (its system user in a private /etc/passwd, a private /dev/log), one
# misbehaviour per loopback source address (smtp_drive.py), a syslog
# receiver on a unix socket, and the check of what `mxwall scan` reports
# against what each source did. Servers listen on 127.0.0.1 high ports
# only; everything is removed on exit, also on failure.

set -u
M_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MXWALL=${MXWALL:-$M_ROOT/build/mxwall}
DRIVE=$M_ROOT/selftests/mta/smtp_drive.py
M_PASS=0
M_FAIL=0
M_PIDS=()
declare -A M_WANT M_SCEN

m_done() {
	echo "$M_PASS passed, $M_FAIL failed"
	[ "$M_FAIL" -eq 0 ] && exit 0
	exit 1
}
ok() { M_PASS=$((M_PASS + 1)); [ -n "${TEST_VERBOSE:-}" ] && echo "ok - $1"; return 0; }
fail() { M_FAIL=$((M_FAIL + 1)); echo "FAIL - $1${2:+: $2}"; return 0; }
m_fatal() { fail "$@"; m_done; }

m_init() {
	[ "$(id -u)" = 0 ] || { echo "FAIL - needs root (mount namespace, ports)"; echo "0 passed, 1 failed"; exit 1; }
	[ -x "$MXWALL" ] || { echo "FAIL - $MXWALL not built"; echo "0 passed, 1 failed"; exit 1; }
	local t
	for t in python3 unshare setsid swaks ss; do
		command -v $t >/dev/null || { echo "FAIL - $t missing (scripts/install-deps.sh)"; echo "0 passed, 1 failed"; exit 1; }
	done
	M_DIR=$(mktemp -d /tmp/mxwall-mta-test.XXXXXX)
	chmod 755 "$M_DIR"
	trap m_cleanup EXIT
}

m_cleanup() {
	local p
	for p in "${M_PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; done
	sleep 0.2
	for p in "${M_PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	if [ "$M_FAIL" -ne 0 ] && [ -n "${M_DIR:-}" ]; then
		for f in "$M_DIR"/*.out "$M_DIR"/*.events "$M_DIR"/*.scan.err; do
			[ -e "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }
		done
	fi
	[ -n "${M_KEEP:-}" ] || rm -rf "$M_DIR"
}

# m_pkgs NAME... - unpack and source the packages' environment
m_pkgs() {
	local root
	root=$("$M_ROOT/selftests/lib/pkgs.sh" "$@") || m_fatal "unpack $*" "selftests/lib/pkgs.sh failed"
	. "$root/env.sh"
}

# m_user NAME UID - NAME in the private passwd/group the MTA sees
m_user() {
	[ -e "$M_DIR/passwd" ] || { cp /etc/passwd "$M_DIR/passwd"; cp /etc/group "$M_DIR/group"; }
	echo "$1:x:$2:$2:$1:/nonexistent:/usr/sbin/nologin" >> "$M_DIR/passwd"
	echo "$1:x:$2:" >> "$M_DIR/group"
}

# m_ns CMD... - run CMD (in the background, own process group) in a
# private mount namespace: /etc/passwd and /etc/group from m_user, an
# /etc/hosts that names this machine, /dev
# with null, zero, random, urandom and log -> $M_DIR/devlog (the syslog
# receiver's socket, when one runs); M_NS_BINDS="SRC=DST ..." mounts
# more private directories over the machine's (in the namespace only);
# M_NS_LAYERS="ro:DIR=DST rw:DIR=DST ..." lays DIR's files over DST's
# (overlayfs, mounted first): ro read-only, rw writable with DIR taking
# the writes (its work directory DIR.work). Sets M_NSPID.
m_ns() {
	mkdir -p "$M_DIR/dev"
	local d
	for d in null zero random urandom; do : > "$M_DIR/dev/$d"; done
	[ -e "$M_DIR/passwd" ] || { cp /etc/passwd "$M_DIR/passwd"; cp /etc/group "$M_DIR/group"; }
	# the machine's name qualified (Sendmail waits for one otherwise)
	printf '127.0.0.1\tlocalhost\n127.0.0.1\t%s.test.example %s\n' "$(uname -n)" "$(uname -n)" > "$M_DIR/hosts"
	for d in ${M_NS_LAYERS:-}; do
		case $d in rw:*) d=${d#rw:}; mkdir -p "${d%%=*}.work" ;; esac
	done
	M_NS_BINDS=${M_NS_BINDS:-} M_NS_LAYERS=${M_NS_LAYERS:-} setsid unshare -m --propagation private sh -c '
		d=$1; shift
		for l in $M_NS_LAYERS; do
			t=${l#*=}; s=${l%%=*}
			case $s in
			ro:*) mount -t overlay -o "ro,lowerdir=${s#ro:}:$t" overlay "$t" || exit 1 ;;
			rw:*) s=${s#rw:}; mount -t overlay -o "lowerdir=$t,upperdir=$s,workdir=$s.work" overlay "$t" || exit 1 ;;
			*) exit 1 ;;
			esac
		done
		mount --bind "$d/passwd" /etc/passwd && mount --bind "$d/group" /etc/group &&
		mount --bind "$d/hosts" /etc/hosts &&
		for b in $M_NS_BINDS; do mount --bind "${b%%=*}" "${b#*=}" || exit 1; done &&
		for n in null zero random urandom; do mount --bind /dev/$n "$d/dev/$n" || exit 1; done &&
		{ [ ! -S "$d/devlog" ] || { : > "$d/dev/log" && mount --bind "$d/devlog" "$d/dev/log"; }; } &&
		mount --rbind "$d/dev" /dev && exec "$@"' sh "$M_DIR" "$@" &
	M_NSPID=$!
	M_PIDS+=("$M_NSPID")
}

# m_syslogd FILE - a syslog receiver on $M_DIR/devlog writing classic
# syslog lines ("Mmm dd HH:MM:SS mx prog[pid]: msg") to FILE, as rsyslog
# would; start it before m_ns
m_syslogd() {
	python3 - "$M_DIR/devlog" "$1" <<'PY' &
import os, re, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
f = open(out, "ab", buffering=0)
while True:
    d = s.recv(65536)
    m = re.match(rb"<\d+>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (.*)$", d, re.S)
    if not m:
        continue
    body = m.group(2).rstrip(b"\n").replace(b"\n", b"#012")
    f.write(m.group(1) + b" mx " + body + b"\n")
PY
	M_PIDS+=("$!")
	local i
	for ((i = 0; i < 100; i++)); do [ -S "$M_DIR/devlog" ] && return 0; sleep 0.05; done
	m_fatal "syslog receiver" "no socket"
}

# m_nxdns ADDR [NAME...] - a nameserver on ADDR:53 (UDP) that answers
# every question "no such domain" at once, but the NAMEs' A records
# 127.0.0.2 (a DNS list's listing): an MTA's DNS checks of made-up names
# fail the same way everywhere, and fast
m_nxdns() {
	python3 - "$@" <<'PY' &
import socket, struct, sys
listed = {n.lower().rstrip(".") for n in sys.argv[2:]}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 12:
        continue
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("latin-1"))
        i += q[i] + 1
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0] if i + 3 <= len(q) else 0
    name = ".".join(labels).lower()
    ans = b""
    if name in listed and qtype == 1:
        ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 2])
    rcode = 0 if name in listed else 3
    # the question echoed, QR AA RD RA, the answer if any
    s.sendto(q[:2] + bytes([0x84 | (q[2] & 1), 0x80 | rcode]) + b"\0\1" +
             struct.pack("!H", 1 if ans else 0) + bytes(4) + q[12:i + 5] + ans, peer)
PY
	M_PIDS+=("$!")
	local i
	for ((i = 0; i < 100; i++)); do ss -Hlun "sport = :53" 2>/dev/null | grep -q "$1:53" && return 0; sleep 0.05; done
	m_fatal "nameserver on $1:53" "not listening"
}

# m_wait_port PORT - until something listens on 127.0.0.1:PORT
m_wait_port() {
	local i
	for ((i = 0; i < 200; i++)); do
		ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	m_fatal "server listens on $1" "$(tail -n 5 "$M_DIR"/*.out 2>/dev/null)"
}

# m_play PORT SRC SCENARIO WANT [DOMAIN] - SRC plays SCENARIO; WANT is
# the tags its events must carry ("-": no event; "relay|protocol": each
# event one of these, the first at least once)
m_play() {
	M_WANT[$2]=$4
	M_SCEN[$2]=$3
	python3 "$DRIVE" 127.0.0.1 "$1" "$2" "$3" "${5:-test.example}" > "$M_DIR/drive-$2.txt" 2>&1
}

# m_swaks PORT SRC [DOMAIN] - a clean delivery from SRC by swaks, which
# must be accepted and must print nothing
m_swaks() {
	M_WANT[$2]=-
	M_SCEN[$2]=swaks-delivery
	swaks --server "127.0.0.1:$1" --local-interface "$2" --helo client.test.example \
		--from "alice@${3:-test.example}" --to "bob@${3:-test.example}" > "$M_DIR/swaks-$2.txt" 2>&1 &&
		ok "swaks delivery from $2 accepted" || fail "swaks delivery from $2 accepted" "$(tail -n 3 "$M_DIR/swaks-$2.txt")"
}

# m_play_bg ... - m_play in the background; m_play_wait waits for them
M_PLAYERS=()
m_play_bg() {
	M_WANT[$2]=$4
	M_SCEN[$2]=$3
	python3 "$DRIVE" 127.0.0.1 "$1" "$2" "$3" "${5:-test.example}" > "$M_DIR/drive-$2.txt" 2>&1 &
	M_PLAYERS+=($!)
}
m_play_wait() { wait "${M_PLAYERS[@]}"; M_PLAYERS=(); }

# m_play_list PORT NET - "SCENARIO WANT" lines on stdin, the Nth played
# from NET.N, all at once; returns when they are done
m_play_list() {
	local i=0 sc want
	while read -r sc want; do
		i=$((i + 1))
		m_play_bg "$1" "$2.$i" "$sc" "$want"
	done
	m_play_wait
}

# m_authenticated - every clean-auth source played so far was let in
# (235): its AUTH works, so the failing ones fail on the password
m_authenticated() {
	local src
	for src in "${!M_SCEN[@]}"; do
		[ "${M_SCEN[$src]}" = clean-auth ] || continue
		grep -q '^<- 235' "$M_DIR/drive-$src.txt" && ok "clean-auth ($src) authenticated" ||
			fail "clean-auth ($src) authenticated" "$(grep '^<- ' "$M_DIR/drive-$src.txt" | tail -n 3 | tr '\n' ' ')"
	done
}

# m_check LOG WHAT [some] - `mxwall scan LOG`: each source got the events
# its misbehaviour earned, with the reason the MTA gave, and nothing else;
# no address other than the sources is ever reported. "some": a log that
# holds only part of the refusals (a reject log): no source is required
# to appear, but what appears must be right.
m_check() {
	local log=$1 what=$2 some=${3:-} ev=$M_DIR/$2.events src want got first line
	"$MXWALL" scan "$log" > "$ev" 2> "$M_DIR/$2.scan.err" || fail "$what: mxwall scan exits 0" "$(cat "$M_DIR/$2.scan.err")"
	for src in "${!M_WANT[@]}"; do
		want=${M_WANT[$src]}
		got=$(awk -F'\t' -v ip="$src" '$2 == ip { print $4 }' "$ev" | sort -u | tr '\n' ' ')
		if [ "$want" = - ]; then
			[ -z "$got" ] && ok "$what: ${M_SCEN[$src]} ($src): nothing reported" ||
				fail "$what: ${M_SCEN[$src]} ($src): nothing reported" "got: $got"
			continue
		fi
		first=${want%%|*}
		[ -z "$got" ] && [ -n "$some" ] && continue
		[ -n "$some" ] && first=$(echo $got | cut -d' ' -f1)
		if [ -z "$got" ]; then
			fail "$what: ${M_SCEN[$src]} ($src) reported as $first" "no event"
			continue
		fi
		line=ok
		for t in $got; do
			case "|$want|" in *"|$t|"*) ;; *) line="tags '$t'" ;; esac
		done
		case " $got" in *" $first "*) ;; *) line="no event tagged $first (got $got)" ;; esac
		[ "$line" = ok ] && ok "$what: ${M_SCEN[$src]} ($src) reported as $first" ||
			fail "$what: ${M_SCEN[$src]} ($src) reported as $first" "$line"
	done
	got=$(awk -F'\t' '{ print $2 }' "$ev" | sort -u | while read -r a; do [ -n "${M_WANT[$a]+x}" ] || echo "$a"; done | tr '\n' ' ')
	[ -z "$got" ] && ok "$what: no address but the sources reported" ||
		fail "$what: no address but the sources reported" "$got"
}

# m_reset - forget the sources (before another run with other sources)
m_reset() { M_WANT=(); M_SCEN=(); }
