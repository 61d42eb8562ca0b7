#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-modules.sh - the module rules of docs/architecture.md, from the
# #include lines of ctl/ (run by `make lint`):
#   core     imports nothing of ours outside core
#   mta      imports core
#   backend  imports core and the BPF side (bpf/*.h, the skeletons)
#   report   imports core, backend
#   fleet    imports core, backend, report
#   watch    imports core, mta, backend, fleet and report's day counters
#            (report/report.h)
#   cmd      imports anything; main.c imports cmd and core
# and only cmd/ and main.c read the command line (getopt, optarg) or the
# global options (mx_opt): every other module is handed what it needs.
# Prints every breach as FILE:LINE and exits 1 if there is one.
cd "$(dirname "$0")/.." || exit 2

allowed() {
	case $1 in
	core) echo "core" ;;
	mta) echo "core mta" ;;
	backend) echo "core backend BPF" ;;
	report) echo "core backend report" ;;
	fleet) echo "core backend report fleet" ;;
	watch) echo "core mta backend fleet watch report/report.h" ;;
	cmd) echo "ANY" ;;
	main) echo "core cmd" ;;
	*) echo "" ;;
	esac
}

bad=0
for f in $(git ls-files 'ctl/*.c' 'ctl/*.h'); do
	case $f in
	ctl/*/*) mod=${f#ctl/}; mod=${mod%%/*} ;;
	*) mod=main ;;
	esac
	ok=$(allowed "$mod")
	if [ -z "$ok" ]; then
		echo "$f: module '$mod' has no rule in scripts/check-modules.sh (and docs/architecture.md)"
		bad=1
		continue
	fi
	[ "$ok" = ANY ] && continue
	while IFS=: read -r line inc; do
		inc=${inc#*\"}
		inc=${inc%\"*}
		case $inc in
		*/*) dep=${inc%%/*} ;;
		*) dep=BPF ;; # "mxwall_shared.h", "mxwall.skel.h": -Ibpf, build/
		esac
		pass=0
		for a in $ok; do
			[ "$a" = "$dep" ] || [ "$a" = "$inc" ] && pass=1
		done
		if [ $pass = 0 ]; then
			echo "$f:$line: $mod may not include \"$inc\" (docs/architecture.md, module rules)"
			bad=1
		fi
	done < <(grep -n '^#include "' "$f" | sed 's/^\([0-9]*\):/\1:/')
	if [ "$mod" != main ] && grep -qE '\b(getopt(_long)?|optarg|optind|cli_getopt)\b' "$f"; then
		echo "$f: reads the command line; only cmd/ and main.c do (docs/architecture.md)"
		bad=1
	fi
	if [ "$mod" != main ] && grep -qE '\bmx_opt\b' "$f"; then
		echo "$f: reads the global options (mx_opt); only cmd/ and main.c do: pass what it needs (docs/architecture.md)"
		bad=1
	fi
done
exit $bad
