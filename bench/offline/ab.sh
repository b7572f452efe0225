#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Side by side: the libpcap floor and two flowcap builds (before, after)
# read the same traces in turn, RUNS rounds, so that the machine's load
# weighs on all of them alike. Prints CPU seconds (user + sys from
# /usr/bin/time) of every run, their medians and packets per CPU-second.
# The traces are made by bench/offline/run.sh (MIX=default and MIX=heavy)
# or given in TRACES.
#
# usage: A=/path/build-before B=/path/build-bench bench/offline/ab.sh
# env:   A, B (build directories; B defaults to build-bench next to this
#        repo), TRACES (default: the two run.sh traces in WORK), RUNS (3),
#        WORK (/tmp/flowcap-bench), ARGS (more flowcap options, e.g.
#        "--workers 2")
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
B=${B:-$src/build-bench}
A=${A:-}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/flowcap-bench}
ARGS=${ARGS:-}
TRACES=${TRACES:-"$WORK/trace-10M-500k-imix.pcap $WORK/trace-10M-400k-z0-r18500-imix.pcap"}
floor=$B/bench/offline/pcap-floor

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

for pcap in $TRACES; do
	[ -s "$pcap" ] || { echo "ab.sh: $pcap is missing: make it with bench/offline/run.sh" >&2; exit 1; }
	npkts=$("$floor" "$pcap" | awk '{print $2}')
	cat "$pcap" > /dev/null
	declare -A cpu=()
	progs="floor"
	[ -n "$A" ] && progs="$progs A"
	progs="$progs B"
	for r in $(seq "$RUNS"); do
		for p in $progs; do
			out=$(mktemp -d "$WORK/ab.XXXXXX")
			case $p in
			floor) cmd=("$floor" "$pcap") ;;
			A) cmd=("$A/app/flowcap/flowcap" --read "$pcap" --out "$out" --no-stats $ARGS) ;;
			B) cmd=("$B/app/flowcap/flowcap" --read "$pcap" --out "$out" --no-stats $ARGS) ;;
			esac
			t=$(/usr/bin/time -f "%U %S" "${cmd[@]}" 2>&1 >/dev/null | tail -1 |
				awk '{printf "%.2f", $1 + $2}')
			cpu[$p]="${cpu[$p]:-} $t"
			rm -rf "$out"
		done
	done
	echo "$(basename "$pcap"): $npkts packets, $RUNS rounds, CPU s = user + sys"
	for p in $progs; do
		m=$(echo ${cpu[$p]} | median)
		name=$p; [ $p = A ] && name="flowcap A ($A)"; [ $p = B ] && name="flowcap B ($B)"
		awk -v n="$name" -v m="$m" -v p="$npkts" -v r="${cpu[$p]}" 'BEGIN {
			printf "  %s: median %.2f s, %.2f Mpps per CPU-s; runs%s\n", n, m, p / m / 1e6, r }'
	done
	unset cpu
done
