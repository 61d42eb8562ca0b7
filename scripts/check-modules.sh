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
# Environment variables of mxwall's own are read by main.c (the global
# options) and core/testhook.c (the test hooks) only.
# No include cycle, within a directory too: a unit is a .c file with the .h
# of the same name; a header without a .c (an internal header such as
# watch/watch_int.h, or core/mxwall.h) is looked through, its includes
# counting as its includer's. Unit A including B while B (perhaps through
# others) includes A is a cycle.
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

# a change of the entries goes through the front door (backend_apply:
# checked once, the same for both backends)
for f in $(git grep -l -E 'ops->apply\(' -- 'ctl/*.c' 'ctl/*.h'); do
	case $f in ctl/backend/*) continue ;; esac
	echo "$f: calls a backend's apply() directly; use backend_apply() (docs/architecture.md)"
	bad=1
done

# no test hook or option of our own from the environment elsewhere
for f in $(git grep -l -E 'getenv\("MXWALL_' -- 'ctl/*.c' 'ctl/*.h'); do
	case $f in ctl/main.c | ctl/core/testhook.c) continue ;; esac
	echo "$f: reads an MXWALL_ variable; options come from cmd/, test hooks from core/testhook.h (docs/architecture.md)"
	bad=1
done

# include_edges - "FILE INCLUDED" for every #include "dir/x.h" of ctl/
include_edges() {
	local f
	for f in $(git ls-files 'ctl/*.c' 'ctl/*.h'); do
		sed -n 's|^#include "\([a-z]*/[^"]*\.h\)".*|'"$f"' ctl/\1|p' "$f"
	done
}

# unit_edges - "UNIT UNIT" (paths without .c/.h), internal headers looked
# through; a unit including itself is not an edge
unit_edges() {
	include_edges | awk -v files="$(git ls-files 'ctl/*.c' | tr '\n' ' ')" '
	function unit(f) { sub(/\.[ch]$/, "", f); return f }
	function reach(from, f,    i, t) {
		if ((from, f) in seen)
			return
		seen[from, f] = 1
		for (i = 1; i <= n[f]; i++) {
			t = inc[f, i]
			if (unit(t) in hasc) {
				if (unit(t) != from)
					print from, unit(t)
			} else {
				reach(from, t)
			}
		}
	}
	BEGIN { split(files, c, " "); for (i in c) hasc[unit(c[i])] = 1 }
	{ inc[$1, ++n[$1]] = $2; src[$1] = 1 }
	END { for (f in src) if (unit(f) in hasc) reach(unit(f), f) }
	' | sort -u
}

# units, and headers among themselves (internal headers including each
# other are looked through above)
loops=$(
	unit_edges | tsort 2>&1 >/dev/null
	include_edges | grep '\.h ' | tsort 2>&1 >/dev/null
)
if [ -n "$loops" ]; then
	echo "include cycle(s) among ctl/ (each loop: the units in it):"
	sed -n 's/^tsort: \(ctl\/[^:]*\)$/  \1/p; s/^tsort: .*loop.*$/ loop:/p' <<<"$loops"
	bad=1
fi
exit $bad
