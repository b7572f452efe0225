#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Page faults per interval: flowcap --read over two generated traces of the
# same traffic, one of 5 and one of 17 one-second intervals (64-byte
# frames, 1M flows drawn uniformly, RATE packets a second, so about RATE
# distinct keys an interval). Reports /usr/bin/time's minor faults (%R)
# for each and (F17 - F5) / 12, the faults an interval costs once warm:
# buffers recycled from one interval to the next cost none.
#
# The trace comes through a pipe (flowcap copies each packet into an mbuf
# of its pool): a mapped file's pages would be counted too, and they grow
# with the packets, not the intervals.
#
# Transparent huge pages hide re-zeroing (one fault maps 2 MB); THP=never
# switches them off for the runs and puts the old setting back afterwards
# (root only; the setting is machine-wide, so keep the window short).
#
# usage: bench/faults/run.sh
# env:   BUILD (default: build-bench next to this repo, a release build)
#        FLOWCAP (default: $BUILD/app/flowcap/flowcap; a second build to
#        compare), RATE (200k), RUNS (3), WORK (/tmp/flowcap-faults),
#        THP=never to switch THP off for the runs, ARGS (more flowcap
#        options, e.g. "--workers 2")
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$src/build-bench}
FLOWCAP=${FLOWCAP:-$BUILD/app/flowcap/flowcap}
RATE=${RATE:-200k}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/flowcap-faults}
ARGS=${ARGS:-}
gen=$BUILD/app/flowcap-gen/flowcap-gen
thp=/sys/kernel/mm/transparent_hugepage/enabled

for b in "$FLOWCAP" "$gen"; do
	if [ ! -x "$b" ]; then
		echo "run.sh: $b is missing: meson setup $BUILD -Dbuildtype=release && ninja -C $BUILD" >&2
		exit 1
	fi
done
if [ ! -x /usr/bin/time ]; then
	echo "run.sh: /usr/bin/time is missing: apt-get install time" >&2
	exit 1
fi

mkdir -p "$WORK"
rate_n=$(echo "$RATE" | sed 's/k$/000/; s/M$/000000/')
for iv in 5 17; do
	p=$WORK/iv$iv-$RATE.pcap
	[ -s "$p" ] && continue
	"$gen" -q -n $((iv * rate_n)) -f 1000000 -z 0 --size 64 \
		--rate "$RATE" -o "$p.part" && mv "$p.part" "$p" || exit 1
done

old=""
if [ "${THP:-}" = never ]; then
	old=$(sed 's/.*\[\(.*\)\].*/\1/' "$thp")
	trap 'echo "$old" > "$thp"' EXIT
	echo never > "$thp" || exit 1
fi
echo "THP: $(cat $thp)"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A med
for iv in 5 17; do
	p=$WORK/iv$iv-$RATE.pcap
	all=""
	for r in $(seq "$RUNS"); do
		rm -rf "$WORK/out"; mkdir -p "$WORK/out"
		f=$(/usr/bin/time -f %R "$FLOWCAP" --read - --out "$WORK/out" \
			--interval 1 --no-stats $ARGS 2>&1 < <(cat "$p") \
			>/dev/null | tail -1)
		all="$all $f"
	done
	med[$iv]=$(echo $all | tr ' ' '\n' | median)
	echo "$iv intervals: minor faults$all (median ${med[$iv]}), files $(ls "$WORK/out" | wc -l)"
done
echo "per interval once warm: $(( (med[17] - med[5]) / 12 ))"
rm -rf "$WORK/out"
