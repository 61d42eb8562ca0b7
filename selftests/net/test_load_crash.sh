#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_load_crash.sh - `load` is all or nothing across kill -9, on both
# backends: a load of 200,000 entries is killed at several moments; the
# next command (here `list`, which reads only) sees the entry that was
# there before and nothing else, or all 200,001, never a part. On XDP each
# load starts from fresh first tables, so some kills land while the tables
# grow (the next command finishes or drops the growth). Runs in its own
# namespace with its own pin and state directories.
set -u
. "$(dirname "$0")/lib.sh"

net_require ip nsenter python3

count() { mxw list --json 2>/dev/null | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

net_setup || { echo "FAIL - namespace setup"; net_finish; }
BIG=$STATE_DIR/../mxwall-load-crash-$$.txt
on_cleanup "rm -f $BIG"
"$PY" - "$BIG" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(200000):
        f.write("10.%d.%d.%d\n" % (100 + i // 65536, (i // 256) % 256, i % 256))
EOF

for backend in xdp nft; do
	case $backend in
	xdp) check "attach (xdp)" mxw --backend xdp attach veth0 --mode generic ;;
	nft) check "attach (nft)" mxw --backend nft attach veth0 ;;
	esac
	# how long a whole load takes here, now: the kills spread over it
	check "one entry before the timed load ($backend)" mxw block 10.9.2.7
	t0=$(date +%s%N)
	check "a whole load ($backend)" mxw load "$BIG"
	t1=$(date +%s%N)
	check_eq "the whole load is there ($backend)" "$(count)" 200001
	check "flush ($backend)" mxw flush --all
	tries=14
	[ "$backend" = nft ] && tries=6
	partial=
	for ((k = 0; k < tries; k++)); do
		delay=$(awk -v t=$(((t1 - t0) / 1000)) -v k=$k -v n=$tries \
			'BEGIN { printf "%.3f", t / 1e6 * (0.2 + 0.8 * k / n) }')
		check "one entry before the load ($backend)" mxw block 10.9.2.7
		# nsenter execs mxwall: $! is the load itself
		ns_srv "$MXWALL" --pin-dir "$PIN_DIR" --state-dir "$STATE_DIR" \
			load "$BIG" 2>/dev/null &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		n=$(count)
		case $n in
		1 | 200001) ;;
		*) partial="$partial $delay:$n" ;;
		esac
		check "flush after the kill ($backend)" mxw flush --all
		if [ "$backend" = xdp ]; then
			# fresh first tables: the next load grows them again,
			# so kills land in a growth too (xdp_grow.c)
			check "detach ($backend)" mxw detach veth0
			check "no tables left ($backend)" test ! -e "$PIN_DIR/mx_cfg"
			check "attach again ($backend)" mxw --backend xdp attach veth0 --mode generic
		fi
	done
	check_eq "every kill -9 of load left 1 or 200,001 entries ($backend)" "${partial# }" ""
	check_eq "no journal left behind ($backend)" "$(ls "$STATE_DIR" | grep -c journal)" 0
	check "detach ($backend)" mxw detach veth0
done

net_finish
