#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# install-deps.sh - install the Debian packages mxwall needs to build, run
# and test, when some are missing. Quiet and quick when everything is there.
#
# Only libraries, compilers and tools that leave the host's mail and
# security setup alone: no MTA, no fail2ban. The servers the tests run
# against (Postfix, fail2ban, systemd-journal-remote, other MTAs) are
# unpacked into build/pkgs by selftests/lib/pkgs.sh (apt-get download +
# dpkg -x), never installed.
set -eu

# one package a line: changes that add one do not collide
PKGS="
make
gcc
clang
llvm
libbpf-dev
bpftool
libelf-dev
zlib1g-dev
libmnl-dev
libnftnl-dev
libsqlite3-dev
sqlite3
libcap-dev
strace
libseccomp-dev
libsystemd-dev
iproute2
nftables
python3
swaks
openssl
socat
netcat-openbsd
util-linux
libclang-rt-14-dev
systemd
kmod
clang-format
bear
libjson-c-dev
libcurl4-openssl-dev
"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
