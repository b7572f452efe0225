#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# --read with several workers: a mapped pcap is handed out in runs of
# packets (fc_trace_run), which the ring workers and the feeder's own worker
# 0 parse and count. On a generated trace with late packets (timestamps
# jittered across interval ends), as written (microseconds, host byte
# order), with nanosecond times, and byte-swapped (big-endian headers):
# 1, 2 and 3 workers give the same rows and the same interval accounting;
# the packets and late packets of each interval are those of an
# independent count of the file's records (python, the sequential clock:
# a packet older than the newest interval is late and counted in it);
# the ring workers received some of the packets (the run path was taken)
# and the workers' received packets add up to the file's.
. "$(dirname "$0")/lib.sh"

"$FCGEN" --packets 200000 --flows 3000 --seed 11 --ipv6 0.2 --vlan 0.2 \
	--rate 10000 --jitter 300000000 --start 1700000003 \
	-o "$TMP/us.pcap" >/dev/null
"$FCGEN" --packets 200000 --flows 3000 --seed 11 --ipv6 0.2 --vlan 0.2 \
	--rate 10000 --jitter 300000000 --start 1700000003 --pcap-ns \
	-o "$TMP/ns.pcap" >/dev/null
# The same packets with every header field big-endian.
python3 - "$TMP/us.pcap" "$TMP/be.pcap" <<'EOF'
import struct, sys
src = open(sys.argv[1], 'rb').read()
out = bytearray(struct.pack('>IHHiIII', *struct.unpack('<IHHiIII', src[:24])))
pos = 24
while pos < len(src):
    sec, frac, incl, orig = struct.unpack_from('<IIII', src, pos)
    out += struct.pack('>IIII', sec, frac, incl, orig)
    out += src[pos + 16:pos + 16 + incl]
    pos += 16 + incl
open(sys.argv[2], 'wb').write(out)
EOF

# The oracle: "interval rx_pkts late" per interval of 5 s, aligned.
oracle() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
magic = struct.unpack_from('<I', d)[0]
end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
start0 = cur = None
rx, late = {}, {}
pos = 24
while pos < len(d):
    sec, frac, incl, orig = struct.unpack_from(end + 'IIII', d, pos)
    pos += 16 + incl
    if start0 is None:
        start0 = sec - sec % 5
        cur = 0
    if sec < start0 + cur * 5:
        late[cur] = late.get(cur, 0) + 1
    else:
        cur = max(cur, (sec - start0) // 5)
    rx[cur] = rx.get(cur, 0) + 1
for k in sorted(rx):
    print(k, rx[k], late.get(k, 0))
EOF
}

# What flowcap-read --stats says of the same.
accounting() {
	"$FCREAD" --stats "$1" 2>/dev/null | awk '/^interval=/ {
		i = ""; rx = ""; l = 0
		for (f = 1; f <= NF; f++) {
			split($f, a, "=")
			if (a[1] == "interval") i = a[2]
			else if (a[1] == "rx_pkts") rx = a[2]
			else if (a[1] == "late") l = a[2]
		}
		print i, rx, l }'
}

for v in us ns be; do
	pcap="$TMP/$v.pcap"
	oracle "$pcap" >"$TMP/$v.oracle"
	total=$(awk '{s += $2} END {print s}' "$TMP/$v.oracle")
	nlate=$(awk '{s += $3} END {print s}' "$TMP/$v.oracle")
	if [ "$total" = 200000 ] && [ "$nlate" -gt 0 ]; then
		ok "$v: the oracle counts $total packets, $nlate late"
	else
		bad "$v: the oracle counts $total packets, $nlate late"
	fi
	for w in 1 2 3; do
		out="$TMP/$v.w$w"
		mkdir -p "$out"
		# shellcheck disable=SC2046
		if ! "$FLOWCAP" $(eal "$w") -- --read "$pcap" --out "$out" \
			--interval 5 --workers "$w" --no-stats \
			--metrics-file "$out.prom" >"$out.log" 2>&1; then
			bad "$v, $w worker(s): exit status"; tail -5 "$out.log"
			continue
		fi
		rows "$out" >"$out.csv"
		"$FCREAD" --stats "$out" 2>/dev/null | grep '^interval=' \
			>"$out.stats"
		accounting "$out" >"$out.acct"
		if same_rows "$out.acct" "$TMP/$v.oracle"; then
			ok "$v, $w worker(s): packets and late packets of" \
				"$(wc -l <"$out.acct") intervals as the oracle's"
		else
			bad "$v, $w worker(s): accounting differs from the oracle"
		fi
		got=$(awk '/^flowcap_packets_received_total\{/ {
			s += $NF; if ($1 !~ /worker="0"/) r += $NF }
			END {print s + 0, r + 0}' "$out.prom")
		set -- $got
		if [ "$1" = 200000 ] && { [ "$w" = 1 ] || [ "$2" -gt 0 ]; }; then
			ok "$v, $w worker(s): workers received $1, ring workers $2"
		else
			bad "$v, $w worker(s): workers received $1, ring" \
				"workers $2 (want 200000, and some on the rings)"
		fi
		[ "$w" = 1 ] && continue
		if same_rows "$out.csv" "$TMP/$v.w1.csv" &&
			same_rows "$out.stats" "$TMP/$v.w1.stats"; then
			ok "$v, $w workers: $(wc -l <"$out.csv") rows and the" \
				"interval accounting as with 1 worker"
		else
			bad "$v, $w workers: rows or accounting differ from 1 worker"
		fi
	done
	# The three byte orders and precisions hold the same packets.
	[ "$v" = us ] || { same_rows "$TMP/$v.w1.csv" "$TMP/us.w1.csv" &&
		ok "$v: rows as the microsecond host-order file's" ||
		bad "$v: rows differ from the microsecond host-order file's"; }
done

echo "pass $PASS fail $FAIL"
[ "$FAIL" -eq 0 ]
