#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Through DPDK: flowcap and dpdk-testpmd --forward-mode=rxonly, each fed by
# net_pcap with infinite_rx=1 (the pcap is loaded into mbufs once and
# replayed from memory without end) for DURATION seconds, then SIGINT.
# flowcap's worker has a CPU of its own (main lcore and collector share the
# other one); testpmd's forwarding lcore likewise. Reports Mpps per worker
# from flowcap's per-second stats (median of the seconds after the first),
# every drop counter from flowcap's summary, testpmd's Rx-pps (median of its
# --stats-period lines) and the ratio flowcap/testpmd.
#
# usage: bench/e2e/run.sh
# env:   BUILD (default: build-bench, a release build) DURATION (10)
#        PACKETS (32768: every packet sits in an mbuf) FLOWS (10k)
#        SIZE (64) WORK (/tmp/flowcap-bench)
#        PCAP (a capture to replay instead of a generated one, e.g. one of
#        ../shared/pcaps/real; PACKETS, FLOWS and SIZE are then unused)
#        EAL (the EAL options of both programs; default --no-huge with -m
#        sized from the pool; on hugepages, e.g. after
#        dpdk-scripts/hugepages.sh setup 2G: "--in-memory -m 1024 --no-pci")
#        BURST (32: flowcap's receive burst) FC_ARGS (more flowcap options,
#        e.g. "--table-keys 16384")
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$src/build-bench}
DURATION=${DURATION:-10}
PACKETS=${PACKETS:-32768}
FLOWS=${FLOWS:-10k}
SIZE=${SIZE:-64}
WORK=${WORK:-/tmp/flowcap-bench}
flowcap=$BUILD/app/flowcap/flowcap
gen=$BUILD/app/flowcap-gen/flowcap-gen
testpmd=$(command -v dpdk-testpmd || true)
for b in "$flowcap" "$gen"; do
	if [ ! -x "$b" ]; then
		echo "run.sh: $b is missing: meson setup $BUILD -Dbuildtype=release && ninja -C $BUILD" >&2
		exit 1
	fi
done
mkdir -p "$WORK/e2e-out"
if [ -n "${PCAP:-}" ]; then
	pcap=$PCAP
	if [ ! -r "$pcap" ]; then
		echo "run.sh: PCAP=$pcap cannot be read" >&2
		exit 1
	fi
	# The pool holds every packet of the capture.
	PACKETS=$(capinfos -T -r -c -M "$pcap" 2>/dev/null | awk -F'\t' 'NR == 1 {print $2}')
	case $PACKETS in
	''|*[!0-9]*|0)
		echo "run.sh: cannot count the packets of $pcap (capinfos, from the tshark packages, reads it)" >&2
		exit 1 ;;
	esac
	what="$(basename "$pcap") ($PACKETS packets)"
else
	pcap=$WORK/e2e-$PACKETS-$FLOWS-$SIZE.pcap
	[ -s "$pcap" ] || "$gen" -q -n "$PACKETS" -f "$FLOWS" --size "$SIZE" \
		--rate 10M -o "$pcap" || exit 1
	what="$(basename "$pcap") ($PACKETS packets, $FLOWS flows, $SIZE B)"
fi
ncpu=$(nproc)
if [ "$ncpu" -ge 3 ]; then
	fc_lcores="0@0,1@1,2@2"; pmd_lcores="0@0,1@2"
else
	fc_lcores="0@0,1@0,2@1"; pmd_lcores="0@0,1@1"
fi
# Pool: every packet of the pcap is held in an mbuf, plus rings and caches.
mbufs=$(( PACKETS + 16384 ))
cfg=$WORK/e2e-driver.ini
cat > "$cfg" <<EOF
[port]
rx_queues = 1
rx_desc = 1024
mbuf_count = $mbufs
mbuf_cache = 256
mtu = 0
promisc = yes
rss_hf = none
rss_symmetric = no
devargs =
timestamps = hw
burst = ${BURST:-32}
EOF
# median of the numbers on stdin, skipping the first (ramp-up) one
median_after_first() {
	tail -n +2 | sort -g | awk '{v[NR] = $1}
		END {if (NR == 0) print 0; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
# Wait until the program started at pid logs its first per-second figure
# (start-up with a large pool takes seconds, and a SIGINT before the
# program's handler is in place would be lost): 0 once it has, 1 if it
# exited or took 300 s.
wait_started() { # pid log pattern
	local i
	for ((i = 0; i < 3000; i++)); do
		grep -qE "$3" "$2" 2>/dev/null && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# Memory: the pool plus 512 MB for the rest. Under --no-huge memory comes
# in 4 KB pages and a pool object (2.6 KB: an mbuf, its 2 KB of data and
# the pool's header) never straddles a page, so each mbuf takes a page.
mem=$(( mbufs * 4096 / 1048576 + 512 ))
[ "$mem" -lt 1024 ] && mem=1024
eal=${EAL:-"--no-huge -m $mem --no-pci --no-shconf"}
vdev="net_pcap0,rx_pcap=$pcap,infinite_rx=1"

# --- flowcap -----------------------------------------------------------
rm -rf "$WORK/e2e-out"; mkdir -p "$WORK/e2e-out"
flog=$WORK/e2e-flowcap.log
"$flowcap" $eal --lcores "$fc_lcores" --vdev "$vdev" -- \
	--driver-config "$cfg" --out "$WORK/e2e-out" --interval 60 \
	--stats ${FC_ARGS:-} > "$flog" 2>&1 &
pid=$!
wait_started "$pid" "$flog" 'w0 [0-9.]+ Mpps' && sleep "$DURATION"
kill -INT "$pid" 2>/dev/null
wait "$pid"
frc=$?
# per-second lines: "... <N> pps ..." -> median of all but the first
fc_pps=$(grep -oE 'w0 [0-9.]+ Mpps' "$flog" | awk '{print $2 * 1e6}' |
	median_after_first)

# --- testpmd -----------------------------------------------------------
tp_pps=0
if [ -n "$testpmd" ]; then
	tlog=$WORK/e2e-testpmd.log
	"$testpmd" $eal --lcores "$pmd_lcores" --vdev "$vdev" -- \
		--forward-mode=rxonly --nb-cores=1 --rxq=1 --txq=1 \
		--total-num-mbufs=$mbufs --stats-period 1 < /dev/null \
		> "$tlog" 2>&1 &
	pid=$!
	wait_started "$pid" "$tlog" 'Rx-pps' && sleep "$DURATION"
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	tp_pps=$(grep -oE 'Rx-pps: +[0-9]+' "$tlog" | awk '{print $2}' |
		median_after_first)
fi

echo "e2e: net_pcap infinite_rx=1, $what, ${DURATION}s each"
echo "machine: $ncpu CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(date -u +%Y-%m-%d); flowcap lcores $fc_lcores, testpmd lcores $pmd_lcores"
echo
echo "| program | Mpps (1 worker / 1 fwd core) | vs testpmd |"
echo "|---|---|---|"
awk -v f="${fc_pps:-0}" -v t="${tp_pps:-0}" -v rc="$frc" 'BEGIN {
	printf "| flowcap (exit %s) | %.2f | %s |\n", rc, f / 1e6, (t > 0) ? sprintf("%.0f%%", 100 * f / t) : "-"
	printf "| dpdk-testpmd rxonly | %s | 100%% |\n", (t > 0) ? sprintf("%.2f", t / 1e6) : "not run"
	if (t > 0)
		printf "\ntarget flowcap >= 80%% of testpmd rxonly: %.0f%% -> %s\n", 100 * f / t, (f >= 0.8 * t) ? "met" : "not met"
}'
echo
echo "flowcap summary and drop counters:"
grep -E '^flowcap: (summary|conservation)|^flowcap:   ' "$flog" | sed 's/^/  /'
echo "NIC drops (last stats line): $(grep -oE 'nic drops imissed [0-9]+ nombuf [0-9]+ ierrors [0-9]+' "$flog" | tail -1)"
