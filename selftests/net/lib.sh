# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - helpers for end-to-end tests in network namespaces.
#
# Source it from a test script (bash). It gives:
#   net_require CMD...        fail loudly (exit 1) unless root and CMDs exist;
#                             then $MXWALL is a private copy of the binary
#   $PY                       the python3 to use in tests
#   net_setup                 two namespaces joined by a veth pair:
#                               $NS_SRV  veth0  10.250.0.1/16  fd00:250::1/64
#                               $NS_CLI  veth0  10.250.0.2/16  fd00:250::2/64
#                             plus extra client sources given to net_add_src
#   net_add_src ADDR...       more source addresses on the client's veth0
#                             (v4 inside 10.250.0.0/16, v6 inside fd00:250::/64)
#   ns_srv CMD... / ns_cli CMD...   run CMD in a namespace (nsenter --net, so
#                             the host's bpffs and files stay visible)
#   mxw ARGS...               build/mxwall in the server namespace with the
#                             test's own --pin-dir and --state-dir
#   net_listen PORT           a TCP listener (v4 and v6) in the server
#                             namespace that greets and closes; pid in $LISTEN_PID
#   net_connect SRC DST PORT  a TCP connect from SRC in the client namespace;
#                             prints ok, timeout or refused. A blocked SYN is
#                             sent exactly twice (TCP_SYNCNT=1, 2.5 s limit).
#   check DESC CMD...         run CMD; count a pass or print FAIL with DESC
#   check_eq DESC GOT WANT    compare two strings
#   net_finish                print "N passed, N failed" and exit accordingly
# Cleanup (namespaces, listener, pins, state dir) runs from an EXIT trap,
# also on failure. Set MXWALL_TEST_DEBUG=1 to get a shell in the server
# namespace before cleanup.
#
# Names are unique per test run ($$), so tests can run side by side.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MXWALL=${MXWALL:-$TOP/build/mxwall}
# Debian's python3, not a shim that starts a shell first (pyenv and
# friends cost a second per call on a busy machine)
PY=${PY:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3)
NS_SRV=mxw-srv-$$
NS_CLI=mxw-cli-$$
PIN_DIR=/sys/fs/bpf/mxwall-test-$$
STATE_DIR=
LISTEN_PID=
PASS=0
FAIL=0
_cleanups=()

net_require()
{
	local c

	if [ "$(id -u)" -ne 0 ]; then
		echo "FAIL - must run as root (network namespaces, XDP)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "FAIL - missing prerequisite: $c"
			echo "0 passed, 1 failed"
			exit 1
		fi
	done
	if [ ! -x "$MXWALL" ]; then
		echo "FAIL - $MXWALL not built (run make)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	# run a private copy: a rebuild during the test must not swap the
	# binary under it (still named mxwall, readable by nobody)
	_bindir=$(mktemp -d /tmp/mxwall-test-bin.XXXXXX)
	chmod 755 "$_bindir"
	cp "$MXWALL" "$_bindir/mxwall"
	MXWALL=$_bindir/mxwall
	on_cleanup "rm -rf $_bindir"
}

# on_cleanup CMD - run CMD (a string) at exit, last registered first
on_cleanup()
{
	_cleanups=("$1" "${_cleanups[@]}")
}

_net_cleanup()
{
	local c

	if [ -n "${MXWALL_TEST_DEBUG:-}" ] && [ -e "/run/netns/$NS_SRV" ]; then
		echo "debug shell in $NS_SRV (pin dir $PIN_DIR); exit to clean up"
		nsenter --net="/run/netns/$NS_SRV" bash -i </dev/tty >/dev/tty 2>&1 || true
	fi
	for c in "${_cleanups[@]}"; do
		eval "$c" >/dev/null 2>&1 || true
	done
	if [ -n "$LISTEN_PID" ]; then
		kill "$LISTEN_PID" 2>/dev/null
		wait "$LISTEN_PID" 2>/dev/null
	fi
	ip netns del "$NS_CLI" 2>/dev/null
	ip netns del "$NS_SRV" 2>/dev/null
	[ -d "$PIN_DIR" ] && rm -rf "$PIN_DIR"
	[ -n "$STATE_DIR" ] && rm -rf "$STATE_DIR"
	return 0
}
trap _net_cleanup EXIT
trap 'exit 1' INT TERM

ns_srv()
{
	nsenter --net="/run/netns/$NS_SRV" "$@"
}

ns_cli()
{
	nsenter --net="/run/netns/$NS_CLI" "$@"
}

mxw()
{
	ns_srv "$MXWALL" --pin-dir "$PIN_DIR" --state-dir "$STATE_DIR" "$@"
}

net_setup()
{
	STATE_DIR=$(mktemp -d /tmp/mxwall-test-state.XXXXXX)
	ip netns add "$NS_SRV" || return 1
	ip netns add "$NS_CLI" || return 1
	ip -n "$NS_CLI" link add veth0 type veth peer name veth0 netns "$NS_SRV" || return 1
	ip -n "$NS_SRV" link set lo up
	ip -n "$NS_CLI" link set lo up
	ip -n "$NS_SRV" addr add 10.250.0.1/16 dev veth0
	ip -n "$NS_CLI" addr add 10.250.0.2/16 dev veth0
	ip -n "$NS_SRV" addr add fd00:250::1/64 dev veth0 nodad
	ip -n "$NS_CLI" addr add fd00:250::2/64 dev veth0 nodad
	ip -n "$NS_SRV" link set veth0 up
	ip -n "$NS_CLI" link set veth0 up
	# no router solicitations or other chatter to disturb counters
	ns_srv sysctl -qw net.ipv6.conf.veth0.accept_ra=0 2>/dev/null
	ns_cli sysctl -qw net.ipv6.conf.veth0.accept_ra=0 2>/dev/null
	# classic exponential SYN backoff (6.x retransmits SYNs linearly at
	# first), so a blocked connect sends exactly 2 SYNs: t=0 and t=1 s
	[ -e /proc/sys/net/ipv4/tcp_syn_linear_timeouts ] &&
		ns_cli sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0
	return 0
}

net_add_src()
{
	local a

	for a in "$@"; do
		case "$a" in
		*:*) ip -n "$NS_CLI" addr add "$a/64" dev veth0 nodad ;;
		*) ip -n "$NS_CLI" addr add "$a/16" dev veth0 ;;
		esac
	done
}

net_listen()
{
	local port=$1 i

	# nsenter execs python3 in place, so $! is the listener itself
	nsenter --net="/run/netns/$NS_SRV" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(128)
while True:
    c, a = s.accept()
    try:
        c.sendall(b"220 mxwall-test ESMTP\r\n")
    except OSError:
        pass
    c.close()
' "$port" &
	LISTEN_PID=$!
	for i in $(seq 50); do
		ns_srv ss -ltnH "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	echo "FAIL - listener on port $port did not start"
	return 1
}

net_connect()
{
	ns_cli "$PY" -c '
import errno, socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
s.bind((src, 0))
s.settimeout(2.5)
try:
    s.connect((dst, port))
    s.recv(64)
    print("ok")
except socket.timeout:
    print("timeout")
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    print("timeout" if e.errno == errno.ETIMEDOUT else "error %s" % e)
' "$@"
}

check()
{
	local desc=$1 out

	shift
	if out=$("$@" 2>&1); then
		PASS=$((PASS + 1))
		[ -n "${TEST_VERBOSE:-}" ] && echo "ok - $desc"
	else
		FAIL=$((FAIL + 1))
		echo "FAIL - $desc: $*"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /'
	fi
	return 0
}

check_eq()
{
	local desc=$1 got=$2 want=$3

	if [ "$got" = "$want" ]; then
		PASS=$((PASS + 1))
		[ -n "${TEST_VERBOSE:-}" ] && echo "ok - $desc"
	else
		FAIL=$((FAIL + 1))
		echo "FAIL - $desc"
		echo "    got:  $(printf '%s' "$got" | head -c 2000)"
		echo "    want: $(printf '%s' "$want" | head -c 2000)"
	fi
	return 0
}

net_finish()
{
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit $?
}
