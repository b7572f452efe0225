#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap --read with 1 and with 2 workers (or WORKERS), side by side: the
# settings (and builds, with A) take turns, RUNS rounds, in an order that
# turns each round, so the machine's load weighs on all of them alike.
# Per run: wall-clock and CPU seconds of the process (/usr/bin/time), the
# run time flowcap's summary reports
# (from the first packet to the last file, start-up left out), and the
# load average; then the medians, and each setting's rate against the
# first one's (wall and run). The records and the accounting of every run
# are compared with the first run's (flowcap-read, md5 of the CSV and of
# --stats without file names): a setting that changes the output is
# reported. Traces are generated once into WORK (never in the repo).
#
# Each round starts and ends with a measure of the CPUs the machine gives
# right now: two busy loops (awk) side by side against one alone; "par"
# is how many times one loop's work two got done in the same time (2.00
# on two idle CPUs). A round is "quiet" when par >= QUIET (1.80) before
# and after it; medians are printed over all rounds and over the quiet
# ones, since neighbours that take a CPU weigh on a 2-thread run more
# than on a 1-thread run.
#
# usage: bench/offline/workers.sh
# env:   B (build dir, default build-bench next to this repo), A (a second
#        build, e.g. a release build of an earlier commit: its settings
#        run as A:1, A:2), WORKERS ("1 2"), RUNS (5), WORK
#        (/tmp/flowcap-bench), TRACES (default: light, 20M packets of 64 B
#        from 1000 flows at 100k pps, 4001 records; and the generator's
#        default mix, 10M packets, IMIX, 100k flows Zipf 1.1 at 10k pps)
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
B=${B:-$src/build-bench}
A=${A:-}
WORKERS=${WORKERS:-"1 2"}
RUNS=${RUNS:-5}
WORK=${WORK:-/tmp/flowcap-bench}
gen=$B/app/flowcap-gen/flowcap-gen
for b in "$B" ${A:+"$A"}; do
	if [ ! -x "$b/app/flowcap/flowcap" ]; then
		echo "workers.sh: $b/app/flowcap/flowcap is missing: meson setup $b -Dbuildtype=release && ninja -C $b" >&2
		exit 1
	fi
done
mkdir -p "$WORK"
if [ -z "${TRACES:-}" ]; then
	TRACES="$WORK/light-20M.pcap $WORK/default-10M.pcap"
	[ -s "$WORK/light-20M.pcap" ] ||
		"$gen" -q -n 20M -f 1000 --size 64 --rate 100k -o "$WORK/light-20M.pcap"
	[ -s "$WORK/default-10M.pcap" ] ||
		"$gen" -q -n 10M -o "$WORK/default-10M.pcap"
fi

QUIET=${QUIET:-1.80}
now() { date +%s.%N; }
loop() { awk 'BEGIN { for (i = 0; i < 2e7; i++) s += i; }'; }
# par: work of two loops side by side over that of one, in equal time.
par() {
	local t0 t1 t2
	t0=$(now); loop; t1=$(now); loop & loop; wait; t2=$(now)
	echo "2 * ($t1 - $t0) / ($t2 - $t1)" | bc -l | cut -c1-4
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

settings=""
for w in $WORKERS; do settings="$settings B:$w"; done
[ -n "$A" ] && for w in $WORKERS; do settings="$settings A:$w"; done
for pcap in $TRACES; do
	[ -s "$pcap" ] || { echo "workers.sh: $pcap is missing" >&2; exit 1; }
	cat "$pcap" >/dev/null # page cache
	echo "== $pcap"
	declare -A wall=() cpu=() run=() qwall=() qrun=()
	ref=""
	for r in $(seq "$RUNS"); do
		p0=$(par)
		declare -A rw=() rr=()
		# The order turns each round: no setting always runs first.
		set -- $settings
		order=""
		for i in $(seq 0 $(($# - 1))); do
			k=$(( (i + r - 1) % $# + 1 ))
			order="$order ${!k}"
		done
		for s in $order; do
			b=$B; [ "${s%%:*}" = A ] && b=$A
			w=${s#*:}
			out=$(mktemp -d "$WORK/w.XXXXXX")
			t=$( { /usr/bin/time -f "TIME %e %U %S" "$b/app/flowcap/flowcap" \
				--read "$pcap" --out "$out" --workers "$w" \
				--no-stats; } 2>&1)
			load=$(cut -d' ' -f1 /proc/loadavg)
			set -- $(echo "$t" | grep '^TIME')
			e=$2 c=$(echo "$3 + $4" | bc)
			rs=$(echo "$t" | sed -n 's/.*intervals lost; \([0-9.]*\) s.*/\1/p')
			md=$("$B/app/flowcap-read/flowcap-read" -f csv "$out" | md5sum | cut -c1-12)
			ms=$("$B/app/flowcap-read/flowcap-read" --stats "$out" 2>&1 |
				grep -v '^file=' | md5sum | cut -c1-12)
			rm -rf "$out"
			[ -z "$ref" ] && ref="$md/$ms"
			same=same; [ "$md/$ms" = "$ref" ] || same="OUTPUT DIFFERS ($md/$ms)"
			printf '%-4s round %d: wall %5.2f s  cpu %5.2f s  run %5.2f s  load %s  %s\n' \
				"$s" "$r" "$e" "$c" "$rs" "$load" "$same"
			wall[$s]="${wall[$s]:-} $e"; cpu[$s]="${cpu[$s]:-} $c"
			run[$s]="${run[$s]:-} $rs"
			rw[$s]=$e; rr[$s]=$rs
		done
		p1=$(par)
		q=no
		if [ "$(echo "$p0 >= $QUIET && $p1 >= $QUIET" | bc)" = 1 ]; then
			q=yes
			for s in $settings; do
				qwall[$s]="${qwall[$s]:-} ${rw[$s]}"
				qrun[$s]="${qrun[$s]:-} ${rr[$s]}"
			done
		fi
		echo "round $r: par $p0 before, $p1 after: quiet $q"
		unset rw rr
	done
	first=${settings# }; first=${first%% *}
	w0=$(echo "${wall[$first]}" | median); r0=$(echo "${run[$first]}" | median)
	for s in $settings; do
		mw=$(echo "${wall[$s]}" | median); mc=$(echo "${cpu[$s]}" | median)
		mr=$(echo "${run[$s]}" | median)
		printf '%-4s median: wall %5.2f s  cpu %5.2f s  run %5.2f s  rate vs %s: wall %.2f x  run %.2f x\n' \
			"$s" "$mw" "$mc" "$mr" "$first" "$(echo "$w0 / $mw" | bc -l)" \
			"$(echo "$r0 / $mr" | bc -l)"
	done
	if [ -n "${qwall[$first]:-}" ]; then
		nq=$(echo "${qwall[$first]}" | wc -w)
		w0=$(echo "${qwall[$first]}" | median)
		r0=$(echo "${qrun[$first]}" | median)
		for s in $settings; do
			mw=$(echo "${qwall[$s]}" | median)
			mr=$(echo "${qrun[$s]}" | median)
			printf '%-4s quiet median (%d rounds): wall %5.2f s  run %5.2f s  rate vs %s: wall %.2f x  run %.2f x\n' \
				"$s" "$nq" "$mw" "$mr" "$first" \
				"$(echo "$w0 / $mw" | bc -l)" "$(echo "$r0 / $mr" | bc -l)"
		done
	else
		echo "no quiet round (par >= $QUIET before and after)"
	fi
	unset wall cpu run qwall qrun
done
