#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# install-deps.sh - install the Debian packages mxwall needs to build and
# test, when some are missing. Quiet and quick when everything is there.
set -eu

PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
libmnl-dev libnftnl-dev libsqlite3-dev sqlite3 libcap-dev libseccomp-dev
iproute2 nftables python3 swaks postfix fail2ban socat netcat-openbsd
libclang-rt-14-dev systemd kmod clang-format bear"

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
# postfix asks where it is; a test configures its own instance anyway
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
