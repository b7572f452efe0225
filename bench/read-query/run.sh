#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap-read queries: records per CPU-second and wall time for
#   Q1  --filter 'proto tcp' --group-by src_ip/24 --top 10   (per interval)
#   Q2  a plain CSV dump (--format csv)
# with --jobs 1 and --jobs 2, over the files flowcap --read makes of one
# generated pcap (one file per 60 s interval, so many files); and the same
# questions asked of nfdump 1.7.1 over the files nfpcapd makes of the same
# pcap (-t 60):
#   nfdump -R DIR -A srcip4/24,srcip6/64 -O packets -n 10 'proto tcp'
#   nfdump -R DIR -o csv
# Figures: median of RUNS runs of /usr/bin/time (user+sys CPU seconds and
# wall seconds). Records/s/core = records read / CPU seconds. The traces
# stay in WORK (/tmp), never in the repo.
#
# usage: bench/read-query/run.sh
# env:   BUILD (default: build-bench next to this repo, a release build)
#        PACKETS (20M) FLOWS (2M) RATE (20k packets/s: 1000 s, 17 files)
#        RUNS (3) WORK (/tmp/flowcap-read-bench) KEEP=1 keeps WORK
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$src/build-bench}
PACKETS=${PACKETS:-20M}
FLOWS=${FLOWS:-2M}
RATE=${RATE:-20k}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/flowcap-read-bench}

flowcap=$BUILD/app/flowcap/flowcap
gen=$BUILD/app/flowcap-gen/flowcap-gen
fcread=$BUILD/app/flowcap-read/flowcap-read
for b in "$flowcap" "$gen" "$fcread"; do
	if [ ! -x "$b" ]; then
		echo "run.sh: $b is missing: meson setup $BUILD -Dbuildtype=release && ninja -C $BUILD" >&2
		exit 1
	fi
done
for t in python3 nfpcapd nfdump; do
	command -v "$t" >/dev/null || {
		echo "run.sh: $t is missing: apt-get install python3 nfdump (dpdk-scripts/install-deps.sh)" >&2
		exit 1
	}
done

mkdir -p "$WORK"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
pcap=$WORK/g.pcap
ft=$WORK/ft
nf=$WORK/nf
if [ ! -d "$ft" ] || [ ! -d "$nf" ]; then
	rm -rf "$ft" "$nf"
	mkdir -p "$ft" "$nf"
	echo "making the trace: $PACKETS packets, $FLOWS flows, $RATE/s" >&2
	"$gen" -n "$PACKETS" -f "$FLOWS" --size 64 --rate "$RATE" --ipv6 0.1 -q -o "$pcap" || exit 1
	"$flowcap" --read "$pcap" --out "$ft" >"$WORK/flowcap.log" 2>&1 || { cat "$WORK/flowcap.log"; exit 1; }
	nfpcapd -r "$pcap" -w "$nf" -t 60 >"$WORK/nfpcapd.log" 2>&1 || { cat "$WORK/nfpcapd.log"; exit 1; }
	rm -f "$pcap"
fi
nfiles=$(find "$ft" -name '*.ft.zst' | wc -l)
records=$("$fcread" --stats "$ft" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^records=/) { split($i, a, "="); s += a[2] } } END { print s }')
nffiles=$(find "$nf" -name 'nfcapd.*' | wc -l)
flows=$(nfdump -R "$nf" -q -o csv 2>/dev/null | wc -l)

# measure NAME CMD...: median CPU and wall seconds of RUNS runs, to the
# millisecond (wait4's resource usage; /usr/bin/time rounds to 10 ms,
# a tenth of a run here).
measure() {
	name=$1
	shift
	if ! python3 - "$RUNS" "$@" >"$WORK/t1" 2>"$WORK/err" <<'PY'; then
import os, statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
cpu, wall = [], []
for _ in range(runs):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, st, ru = os.wait4(p.pid, 0)
    wall.append(time.perf_counter() - t0)
    cpu.append(ru.ru_utime + ru.ru_stime)
    if st != 0:
        sys.stderr.write(err.decode(errors="replace"))
        sys.exit(1)
print("%.3f %.3f" % (statistics.median(cpu), statistics.median(wall)))
PY
		echo "run.sh: $name failed:" >&2
		cat "$WORK/err" >&2
		return
	fi
	read -r cpu wall <"$WORK/t1"
	eval "cpu_$name=$cpu wall_$name=$wall"
}

# "-" stays where a run failed (measure says why).
cpu_q1j1=- wall_q1j1=- cpu_q1j2=- wall_q1j2=- cpu_nfq1=- wall_nfq1=-
cpu_q2j1=- wall_q2j1=- cpu_q2j2=- wall_q2j2=- cpu_nfq2=- wall_nfq2=-
measure q1j1 "$fcread" --jobs 1 --format csv --filter 'proto tcp' --group-by src_ip/24 --top 10 "$ft"
measure q1j2 "$fcread" --jobs 2 --format csv --filter 'proto tcp' --group-by src_ip/24 --top 10 "$ft"
measure q2j1 "$fcread" --jobs 1 --format csv "$ft"
measure q2j2 "$fcread" --jobs 2 --format csv "$ft"
measure nfq1 nfdump -R "$nf" -A srcip4/24,srcip6/64 -O packets -n 10 'proto tcp'
measure nfq2 nfdump -R "$nf" -o csv

rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", n / s / 1e6; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "flowcap-read: $records records in $nfiles files; nfdump: $flows flows in $nffiles files"
echo "(same pcap: $PACKETS packets of 64 bytes, $FLOWS flows, $RATE packets/s; median of $RUNS runs)"
echo
echo "| question | tool | jobs | CPU s | wall s | M records/s/core | wall jobs 1 / jobs 2 |"
echo "|---|---|---:|---:|---:|---:|---:|"
echo "| Q1 filter+group+top | flowcap-read | 1 | $cpu_q1j1 | $wall_q1j1 | $(rate "$records" "$cpu_q1j1") | |"
echo "| Q1 filter+group+top | flowcap-read | 2 | $cpu_q1j2 | $wall_q1j2 | $(rate "$records" "$cpu_q1j2") | $(ratio "$wall_q1j1" "$wall_q1j2") |"
echo "| Q1 filter+group+top | nfdump 1.7.1 | - | $cpu_nfq1 | $wall_nfq1 | $(rate "$flows" "$cpu_nfq1") (flows) | |"
echo "| Q2 CSV dump | flowcap-read | 1 | $cpu_q2j1 | $wall_q2j1 | $(rate "$records" "$cpu_q2j1") | |"
echo "| Q2 CSV dump | flowcap-read | 2 | $cpu_q2j2 | $wall_q2j2 | $(rate "$records" "$cpu_q2j2") | $(ratio "$wall_q2j1" "$wall_q2j2") |"
echo "| Q2 CSV dump | nfdump 1.7.1 | - | $cpu_nfq2 | $wall_nfq2 | $(rate "$flows" "$cpu_nfq2") (flows) | |"
