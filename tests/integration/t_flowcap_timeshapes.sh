#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Time of many shapes, through DPDK (net_pcap replays, 1 to 3 workers) and
# with --read: sparse traces whose one burst spans more intervals than a
# worker has tables, bursts separated by gaps longer than the tables times
# the interval, two queues of which one ends early, a real trace, a lone
# far-future timestamp, real jumps of time, and (on a veth, live clock) a
# run of empty intervals. Every run must end by itself (a hang fails at
# its deadline), keep conservation, and count the rows that the tshark
# oracle counts on the same packets.
. "$(dirname "$0")/lib.sh"

R="$FC_SHARED/pcaps/real"
PIDS=""
NS=""
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# net_pcap EAL options: N workers, one net_pcap device with the given
# rx_pcap list.
vdev_eal() {
	n=$1 pcaps=$2
	echo "--no-huge --no-shconf -m 1024 --no-pci --no-telemetry" \
		"--log-level=lib.eal:error --lcores=(0-$((n + 1)))@(0-$((NCPU - 1)))" \
		"--vdev net_pcap0,$pcaps"
}

# Rows summed per key over every interval, for runs whose packets may be
# counted late, in a later interval than their own.
keys() {
	cut -d, -f2- "$1" | awk -F, -v OFS=, '{ n = $NF; $NF = ""; s[$0] += n }
		END { for (k in s) print k s[k] }' | LC_ALL=C sort
}

# run LABEL EXPECTED-ROWS FLOWCAP-ARGS...: run with a deadline of 120 s;
# the run must end by itself, keep conservation and give the rows. With
# LATE_OK=1 set before the call, a run that counted packets
# late passes when every packet is under its key (keys above) instead.
run() {
	label=$1 exp=$2
	shift 2
	out="$TMP/out.$(echo "$label" | tr -c 'a-zA-Z0-9\n' '_')"
	mkdir -p "$out"
	set +e
	timeout -s KILL 120 "$FLOWCAP" "$@" --out "$out" >"$out.log" 2>&1
	rc=$?
	set -e
	if [ "$rc" -eq 137 ]; then
		bad "$label: still running after 120 s (hang)"
		tail -3 "$out.log"
		return
	fi
	if [ "$rc" -ne 0 ] || ! grep -q "conservation OK" "$out.log"; then
		bad "$label: exit status $rc or conservation"
		tail -5 "$out.log"
		return
	fi
	rows "$out" >"$out.csv"
	late=$(sed -n 's/^flowcap:   late *\([0-9]*\).*/\1/p' "$out.log")
	if same_rows "$out.csv" "$exp"; then
		ok "$label: ended by itself, $(wc -l <"$exp") rows equal to the oracle"
	elif [ "${LATE_OK:-0}" = 1 ] && [ "${late:-0}" -gt 0 ] &&
		keys "$out.csv" >"$out.k1" && keys "$exp" >"$out.k2" &&
		cmp -s "$out.k1" "$out.k2"; then
		ok "$label: ended by itself, $late packet(s) counted late (a worker started behind the clock); every packet under its key"
	else
		bad "$label: rows differ from the oracle"
	fi
}

# Interval lines of --stats without the file lines, for comparing runs.
ivlines() {
	"$FCREAD" --stats "$1"/*.ft.zst | grep '^interval=' |
		sed 's/^interval=[0-9]* //'
}

# 1. Sparse: one packet a second, 1 s intervals: a burst of 32 packets
# spans 32 intervals, more than the 4 tables of a worker.
"$FCGEN" -q -n 300 -f 10 --rate 1 --seed 3 -o "$TMP/sparse.pcap"
python3 "$ORACLE" --interval 1 "$TMP/sparse.pcap" >"$TMP/sparse.exp"
for n in 1 2 3; do
	# shellcheck disable=SC2046
	run "sparse, net_pcap, $n worker(s)" "$TMP/sparse.exp" \
		$(vdev_eal "$n" "rx_pcap=$TMP/sparse.pcap") -- --interval 1
done
# shellcheck disable=SC2046
run "sparse, --read, 2 workers" "$TMP/sparse.exp" $(eal 2) -- \
	--read "$TMP/sparse.pcap" --interval 1
L1="$TMP/out.sparse__net_pcap__2_worker_s_"
L2="$TMP/out.sparse____read__2_workers"
if [ -d "$L1" ] && [ -d "$L2" ] &&
	ivlines "$L1" >"$TMP/iv1" && ivlines "$L2" >"$TMP/iv2" &&
	cmp -s "$TMP/iv1" "$TMP/iv2"; then
	ok "sparse: net_pcap and --read write the same $(wc -l <"$TMP/iv1") intervals and accounting"
else
	bad "sparse: net_pcap and --read intervals differ"
fi

# 2. Bursts: three bursts of 3000 packets at 100 kpps, 40 s and then
# 4000 s apart (gaps longer than tables x interval, and a run of empty
# intervals longer than --max-empty).
for s in 0 40 4040; do
	"$FCGEN" -q -n 3000 -f 500 --rate 100000 --seed "$((s + 1))" \
		--start "$((1700000000 + s))" -o "$TMP/b$s.pcap"
done
mergecap -F pcap -w "$TMP/bursts.pcap" "$TMP/b0.pcap" "$TMP/b40.pcap" \
	"$TMP/b4040.pcap"
python3 "$ORACLE" --interval 2 "$TMP/bursts.pcap" >"$TMP/bursts.exp"
for n in 1 3; do
	# shellcheck disable=SC2046
	run "bursts, net_pcap, $n worker(s)" "$TMP/bursts.exp" \
		$(vdev_eal "$n" "rx_pcap=$TMP/bursts.pcap") -- --interval 2 \
		--max-empty 5
done
d="$TMP/out.bursts__net_pcap__3_worker_s_"
if [ -d "$d" ]; then
	gaps=$("$FCREAD" --stats "$d"/*.ft.zst | grep -c 'flags=gap' || true)
	empties=$("$FCREAD" --stats "$d"/*.ft.zst |
		grep -c 'flags=- rx_pkts=0 ' || true)
	# Intervals 0-1 and 20-21 hold packets; 2..19 (18 empty) and
	# 22..2019 are runs longer than 5: two gap intervals, no lone
	# empty one.
	[ "$gaps" -eq 2 ] && [ "$empties" -eq 0 ] &&
		ok "bursts: the two runs of empty intervals are two gap intervals" ||
		bad "bursts: $gaps gap intervals, $empties lone empty intervals (want 2, 0)"
fi

# 3. Two queues, one ending 700 s before the other: the worker of the
# short one goes idle and follows the clock.
"$FCGEN" -q -n 200 -f 10 --rate 100 --seed 9 --start 1700000050 \
	-o "$TMP/short.pcap"
mergecap -F pcap -w "$TMP/both.pcap" "$TMP/sparse.pcap" "$TMP/short.pcap"
python3 "$ORACLE" --interval 1 "$TMP/both.pcap" >"$TMP/both.exp"
# Two queues replay at the pace of their own workers, not in one time
# order: a worker that starts late finds the clock moved on and counts
# its packets late, in a later interval. So every packet must be under
# its key, and in its own interval unless counted late.
LATE_OK=1
# shellcheck disable=SC2046
run "two queues, one ends early, 2 workers" "$TMP/both.exp" \
	$(vdev_eal 2 "rx_pcap=$TMP/sparse.pcap,rx_pcap=$TMP/short.pcap") -- \
	--interval 1
LATE_OK=0

# 4. A real trace with 60 s intervals and 2 workers on one queue.
if [ -f "$R/throughput-merged-329k.pcap" ]; then
	expected_rows throughput-merged-329k >"$TMP/thr.exp"
	# shellcheck disable=SC2046
	run "throughput-merged-329k, net_pcap, 2 workers" "$TMP/thr.exp" \
		$(vdev_eal 2 "rx_pcap=$R/throughput-merged-329k.pcap") -- \
		--interval 60
	n=$(sed -n 's/^flowcap: summary: \([0-9]*\) packets received.*/\1/p' \
		"$TMP/out.throughput_merged_329k__net_pcap__2_workers.log")
	[ "${n:-0}" -eq 329539 ] && ok "throughput-merged-329k: all 329539 packets received" ||
		bad "throughput-merged-329k: ${n:-no} packets received, not 329539"
else
	bad "missing $R/throughput-merged-329k.pcap"
fi

# 5. A lone far-future timestamp (2100 in a 2010 trace): counted
# bad_time, in no record, and the clock stays: the oracle is the trace
# without that packet. Live and --read follow the same rule.
python3 - "$TMP/short.pcap" "$TMP/future.pcap" "$TMP/jump.pcap" <<'EOF'
import struct, sys
src = open(sys.argv[1], 'rb').read()
pk, off = [], 24
while off < len(src):
    ts, us, cl, ol = struct.unpack('<IIII', src[off:off + 16])
    pk.append((us, cl, ol, src[off + 16:off + 16 + cl]))
    off += 16 + cl
def write(name, times):
    out = bytearray(src[:24])
    for t, (us, cl, ol, data) in zip(times, pk):
        out += struct.pack('<IIII', t, us, cl, ol) + data
    open(name, 'wb').write(out)
base = [1262304000 + i for i in range(len(pk))]
# packet 101 (1-based) stamped 2100
write(sys.argv[2], [4102444800 if i == 100 else t for i, t in enumerate(base)])
# from packet 101 on, time really jumps two days
write(sys.argv[3], [t + (172800 if i >= 100 else 0) for i, t in enumerate(base)])
EOF
editcap "$TMP/future.pcap" "$TMP/future-without.pcap" 101
python3 "$ORACLE" --interval 60 "$TMP/future-without.pcap" >"$TMP/future.exp"
# shellcheck disable=SC2046
run "far-future packet, net_pcap, 2 workers" "$TMP/future.exp" \
	$(vdev_eal 2 "rx_pcap=$TMP/future.pcap") -- --interval 60
run "far-future packet, --read" "$TMP/future.exp" --read "$TMP/future.pcap" \
	--interval 60
for l in "$TMP/out.far_future_packet__net_pcap__2_workers.log" \
	"$TMP/out.far_future_packet____read.log"; do
	b=$(sed -n 's/^flowcap:   bad_time *\([0-9]*\).*/\1/p' "$l")
	[ "${b:-0}" -eq 1 ] && ok "far-future packet: bad_time 1 ($(basename "$l"))" ||
		bad "far-future packet: bad_time ${b:-0}, want 1 ($(basename "$l"))"
done
# A real jump of two days is believed: every packet is in a record.
python3 "$ORACLE" --interval 60 "$TMP/jump.pcap" >"$TMP/jump.exp"
# shellcheck disable=SC2046
run "two-day jump, net_pcap, 2 workers" "$TMP/jump.exp" \
	$(vdev_eal 2 "rx_pcap=$TMP/jump.pcap") -- --interval 60
run "two-day jump, --read" "$TMP/jump.exp" --read "$TMP/jump.pcap" \
	--interval 60
if grep -q bad_time "$TMP/out.two_day_jump____read.log" \
	"$TMP/out.two_day_jump__net_pcap__2_workers.log"; then
	bad "two-day jump: packets counted bad_time"
else
	ok "two-day jump: no packet counted bad_time"
fi

# 6. Live clock (net_af_packet on a veth): packets, 8 quiet seconds with
# 1 s intervals and --max-empty 3, packets again. The quiet run is one
# gap interval, as in a trace, not 8 files.
NS="fcts$$"
if ip netns add "$NS" 2>"$TMP/ns.err"; then
	note netns "$NS"
else
	NS=""
	skip "live clock on a veth pair: cannot create a network namespace: $(cat "$TMP/ns.err") (needs root and network namespaces)"
	finish
fi
ip netns exec "$NS" ip link add fc0 type veth peer name fc1
for i in fc0 fc1; do
	ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1"
	ip netns exec "$NS" ip link set "$i" up
done
"$FCGEN" -q -n 20 -f 5 --seed 5 -o "$TMP/few.pcap"
mkdir "$TMP/live"
# shellcheck disable=SC2046
ip netns exec "$NS" "$FLOWCAP" $(eal 1) \
	--vdev "net_af_packet0,iface=fc0,qpairs=1" -- --interval 1 \
	--max-empty 3 --out "$TMP/live" --stats >"$TMP/live.log" 2>&1 &
pid=$!
PIDS="$pid"
deadline=$(($(date +%s) + 30))
until grep -q "^flowcap: w0" "$TMP/live.log"; do
	[ "$(date +%s)" -lt "$deadline" ] || break
	sleep 0.1
done
ip netns exec "$NS" tcpreplay -q -i fc1 --topspeed "$TMP/few.pcap" >/dev/null 2>&1
# Wait until the clock has passed 9 quiet seconds: the files of the
# first interval are there, and 9 s have gone by since. This loop does
# not wait for an event: the quiet spell of wall-clock time is what is
# tested.
deadline=$(($(date +%s) + 30))
until ls "$TMP/live"/*.ft.zst >/dev/null 2>&1; do
	[ "$(date +%s)" -lt "$deadline" ] || break
	sleep 0.1
done
quiet_end=$(($(date +%s) + 9))
while [ "$(date +%s)" -lt "$quiet_end" ]; do sleep 0.2; done
ip netns exec "$NS" tcpreplay -q -i fc1 --topspeed "$TMP/few.pcap" >/dev/null 2>&1
deadline=$(($(date +%s) + 10))
until [ "$(sed -n 's/.*| rx \([0-9]*\) .*/\1/p' "$TMP/live.log" | tail -1)" = 40 ]; do
	[ "$(date +%s)" -lt "$deadline" ] || break
	sleep 0.1
done
kill -INT "$pid"
wait "$pid" || true
PIDS=""
"$FCREAD" --stats "$TMP/live"/*.ft.zst | grep '^interval=' >"$TMP/live.iv" || true
nempty=$(grep -c 'flags=- rx_pkts=0 ' "$TMP/live.iv" || true)
ngap=$(grep -c 'flags=gap' "$TMP/live.iv" || true)
rx=$(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^rx_pkts=/) {
	split($i, a, "="); s += a[2] } } END { print s + 0 }' "$TMP/live.iv")
# The quiet run is 8 or 9 intervals (where the second falls): one gap.
if [ "$ngap" -eq 1 ] && [ "$nempty" -eq 0 ] && [ "$rx" -eq 40 ] &&
	grep -q "conservation OK" "$TMP/live.log"; then
	ok "live clock: 9 quiet seconds are one gap interval ($(wc -l <"$TMP/live.iv") intervals, 40 packets)"
else
	bad "live clock: $ngap gap and $nempty lone empty intervals, $rx packets (want 1, 0, 40)"
	cat "$TMP/live.iv"
fi

finish
