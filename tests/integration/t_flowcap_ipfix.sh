#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# --ipfix against real collectors on loopback: (1) a listener of our own
# stores what arrives (UDP, and TCP) and tshark's IPFIX dissector decodes
# it: every field of every record equals flowcap-read's CSV of the files
# written in the same run; (2) Debian's nfcapd receives it and nfdump's
# records, packets, addresses, ports and protocols agree; (3) a collector
# that is down is counted, and capture is the same as without --ipfix.
# With --classify (the shipped rules on a trace whose payloads match them),
# every labelled record carries flowcapLabel equal to the file's label,
# and nfcapd, which does not know the element, still takes every record.
# (4) A TCP collector that accepts and never reads (its receive buffer as
# small as the kernel allows) never holds capture up: flowcap ends within
# its flush allowance, exit 0, capture complete, the stalled connection is
# given up (and said) and the next interval connects anew, and every
# interval and record is counted sent, unsent or refused: none vanishes.
# Every collector is started here and stopped by its PID.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

LPID=""
NPID=""
SPID=""
cleanup() {
	for p in $LPID $NPID $SPID; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
for t in tshark nfcapd nfdump; do
	command -v "$t" >/dev/null ||
		bad "$t missing: run dpdk-scripts/install-deps.sh"
done
[ "$FAIL" -eq 0 ] || finish
LISTEN="python3 $FC_SRC/tests/integration/ipfix-listen.py"
COMPARE="python3 $FC_SRC/tests/integration/ipfix-compare.py"

# udp_drained PORT: nothing waits in the receive queue of the UDP socket
# bound to 127.0.0.1:PORT (its reader has taken every datagram).
udp_drained() {
	awk -v p="$(printf '0100007F:%04X' "$1")" \
		'$2 == p { split($5, q, ":"); if (q[2] != "00000000") bad = 1; f = 1 }
		 END { exit (bad || !f) }' /proc/net/udp
}
# free_udp_port: a port nothing listens on now.
free_udp_port() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A mix of IPv4, IPv6, ICMP and other protocols in one interval, and a
# generated trace of 20 one-second intervals (templates re-sent over UDP
# every 16 intervals: at least twice).
MIX=$FC_SHARED/pcaps/real/tcpreplay-test-mix.pcap
"$FCGEN" -q -o "$TMP/g.pcap" -n 20000 -f 300 --ipv6 0.3 --rate 1000 \
	--start 1700000000

# --- 1. UDP and TCP to our listener, decoded by tshark ---
RULES=$FC_SRC/rules/telescope.rules
run_tshark() { # NAME PCAP INTERVAL PROTO MIN-TEMPLATE-SETS [FLOWCAP-ARGS...]
	name=$1
	rm -f "$TMP/port"
	$LISTEN "$4" "$TMP/port" "$TMP/$name.cap" &
	LPID=$!
	poll 10 test -s "$TMP/port" || { bad "$name: listener did not start"; return; }
	port=$(cat "$TMP/port")
	mkdir -p "$TMP/$name"
	pcap=$2 iv=$3 proto=$4 mint=$5
	shift 5
	if ! "$FLOWCAP" --read "$pcap" --out "$TMP/$name" --interval "$iv" \
		--ipfix "127.0.0.1:$port/$proto" --ipfix-domain 7 "$@" >"$TMP/$name.log" 2>&1; then
		bad "$name: flowcap failed: $(tail -n 3 "$TMP/$name.log")"
	fi
	if [ "$proto" = udp ]; then
		poll 20 udp_drained "$port" || bad "$name: listener did not drain its socket"
	else
		poll 20 test -e "$TMP/$name.cap.eof" || bad "$name: the exporter did not close"
	fi
	kill -TERM "$LPID"
	wait "$LPID" || true
	LPID=""
	if grep -q "sink ipfix: [0-9]* interval(s) taken, 0 failed$" "$TMP/$name.log"; then
		ok "$name: summary: every interval taken by the ipfix sink"
	else
		bad "$name: $(grep 'ipfix' "$TMP/$name.log")"
	fi
	if $COMPARE tshark "$TMP/$name.cap" "$FCREAD" "$TMP/$name" 7 "$mint" >"$TMP/$name.cmp"; then
		ok "$name: $(sed "s/^ok   //" "$TMP/$name.cmp" | tr "\n" ";")"
	else
		bad "$name: $(cat "$TMP/$name.cmp")"
	fi
}
run_tshark mix-udp "$MIX" 60 udp 1
run_tshark gen-udp "$TMP/g.pcap" 1 udp 2
run_tshark mix-tcp "$MIX" 60 tcp 1
# The labelled templates, over UDP and TCP (IPv4 and IPv6 records with a
# label: the mix has both).
run_tshark mix-cls-udp "$MIX" 60 udp 1 --classify "$RULES"
run_tshark mix-cls-tcp "$MIX" 60 tcp 1 --classify "$RULES"
for name in mix-cls-udp mix-cls-tcp; do
	want=$("$FCREAD" --format csv "$TMP/$name"/*.ft.zst | awk -F, 'NR > 1 && $12 != ""' | wc -l)
	if [ "$want" -gt 0 ] && grep -qx "ok   $want records carry flowcapLabel, each the file's label" "$TMP/$name.cmp"; then
		ok "$name: all $want labelled records carry their label"
	else
		bad "$name: want $want labelled records: $(cat "$TMP/$name.cmp")"
	fi
done

# --- 2. nfcapd, read with nfdump ---
run_nfcapd() { # NAME PCAP INTERVAL [FLOWCAP-ARGS...]
	name=$1 pcap=$2 iv=$3
	shift 3
	port=$(free_udp_port)
	mkdir -p "$TMP/$name.nf" "$TMP/$name"
	nfcapd -b 127.0.0.1 -p "$port" -w "$TMP/$name.nf" -t 3600 -B 16777216 >"$TMP/$name.nfcapd.log" 2>&1 &
	NPID=$!
	poll 10 grep -q "0100007F:$(printf '%04X' "$port")" /proc/net/udp ||
		bad "$name: nfcapd did not start: $(cat "$TMP/$name.nfcapd.log")"
	"$FLOWCAP" --read "$pcap" --out "$TMP/$name" --interval "$iv" \
		--ipfix "127.0.0.1:$port" "$@" >"$TMP/$name.log" 2>&1 || bad "$name: flowcap to nfcapd failed"
	poll 20 udp_drained "$port" || bad "$name: nfcapd did not drain its socket"
	kill -TERM "$NPID"
	wait "$NPID" || true
	NPID=""
	if $COMPARE nfdump "$TMP/$name.nf" "$FCREAD" "$TMP/$name" >"$TMP/$name.cmp"; then
		ok "$name: $(sed "s/^ok   //" "$TMP/$name.cmp")"
	else
		bad "$name: $(cat "$TMP/$name.cmp")"
	fi
}
run_nfcapd nfo "$TMP/g.pcap" 1
# A collector that does not know flowcapLabel skips it, record by record.
run_nfcapd nfo-cls "$MIX" 60 --classify "$RULES"

# --- 3. a collector that is down ---
port=$(free_udp_port) # no TCP listener on it either
mkdir -p "$TMP/down" "$TMP/prom"
"$FLOWCAP" --read "$TMP/g.pcap" --out "$TMP/down" --interval 1 \
	--ipfix "127.0.0.1:$port/tcp" --metrics-file "$TMP/prom/m.prom" \
	>"$TMP/down.log" 2>&1 && rc=0 || rc=$?
if [ "$rc" = 0 ]; then ok "collector down: flowcap exits 0"; else bad "collector down: exit $rc"; fi
rows "$TMP/down" >"$TMP/down.rows"
rows "$TMP/gen-udp" >"$TMP/gen.rows"
if [ -s "$TMP/gen.rows" ] && same_rows "$TMP/down.rows" "$TMP/gen.rows"; then
	ok "collector down: files equal those of the run whose collector was up"
else
	bad "collector down: files differ"
fi
if grep -q "sink ipfix: .*last failure: 20 interval(s) ([0-9]* records) not sent to 127.0.0.1:$port/tcp" "$TMP/down.log"; then
	ok "collector down: the summary counts 20 intervals not sent"
else
	bad "collector down: $(grep ipfix "$TMP/down.log")"
fi
if grep -qx 'flowcap_ipfix_intervals_total{result="unsent"} 20' "$TMP/prom/m.prom" &&
	grep -qx 'flowcap_ipfix_intervals_total{result="sent"} 0' "$TMP/prom/m.prom"; then
	ok "collector down: metrics count 20 unsent, 0 sent"
else
	bad "collector down: $(grep ipfix_intervals "$TMP/prom/m.prom")"
fi

# --- 4. a collector that accepts and never reads ---
# 4 one-second intervals of ~50000 records each (~12 MB of IPFIX): far
# more than the socket buffers hold.
"$FCGEN" -q -o "$TMP/many.pcap" -n 200000 -f 1000000 -z 0 --size 64 \
	--ipv6 0.1 --rate 50000 --start 1700000000
rm -f "$TMP/port"
$LISTEN tcp-stall "$TMP/port" "$TMP/stall.cap" &
SPID=$!
poll 10 test -s "$TMP/port" || bad "stalled collector: listener did not start"
port=$(cat "$TMP/port")
mkdir -p "$TMP/stall" "$TMP/sprom"
# The bound: capture (~1 s) plus the 10 s flush allowance, with room.
timeout -s KILL 45 "$FLOWCAP" --read "$TMP/many.pcap" --out "$TMP/stall" \
	--interval 1 --ipfix "127.0.0.1:$port/tcp" \
	--metrics-file "$TMP/sprom/m.prom" >"$TMP/stall.log" 2>&1 && rc=0 || rc=$?
if [ "$rc" = 0 ]; then
	ok "stalled collector: flowcap ends in bounded time, exit 0"
else
	bad "stalled collector: exit $rc$([ "$rc" = 137 ] && echo ' (killed after 45 s: hung)'): $(tail -n 3 "$TMP/stall.log")"
fi
kill -TERM "$SPID"
wait "$SPID" || true
SPID=""
# The exporter gives a connection that takes nothing up (after 5 s) and
# connects anew for the next interval, rather than wait on it forever.
acc=$(cat "$TMP/stall.cap.accepted" 2>/dev/null || echo 0)
if [ "$acc" -ge 2 ]; then
	ok "stalled collector: $acc connections accepted, none read: each stalled one given up, the next interval connected anew"
elif [ "$acc" -eq 1 ]; then
	bad "stalled collector: one connection only: the exporter waited on it to the end"
else
	bad "stalled collector: no connection accepted (the test proves nothing)"
fi
if grep -q "ipfix 127.0.0.1:$port/tcp: send: the collector took nothing for 5000 ms (not reading?); intervals are counted unsent" "$TMP/stall.log"; then
	ok "stalled collector: said once in the log"
else
	bad "stalled collector: no warning naming the stall: $(grep -i 'ipfix' "$TMP/stall.log")"
fi
if grep -q "^flowcap: summary: 200000 packets received, 200000 in records, 0 lost, .* 4 intervals written to 4 files, 0 intervals lost" "$TMP/stall.log"; then
	ok "stalled collector: capture complete (200000 packets in records, 4 intervals written)"
else
	bad "stalled collector: capture: $(grep 'summary' "$TMP/stall.log")"
fi
# Conservation: what the exporter took is sent, unsent or refused.
recs=$("$FCREAD" --format csv "$TMP/stall"/*.ft.zst | tail -n +2 | wc -l)
if python3 - "$TMP/sprom/m.prom" "$recs" >"$TMP/stall.cons" <<'PY'
import re, sys
m = dict(re.findall(r'^(flowcap_ipfix_\w+\{result="\w+"\}) (\d+)$',
                    open(sys.argv[1]).read(), re.M))
g = lambda k, r: int(m[f'flowcap_ipfix_{k}_total{{result="{r}"}}'])
iv = [g("intervals", r) for r in ("sent", "unsent", "refused")]
rc = [g("records", r) for r in ("sent", "unsent", "refused")]
print(f"intervals sent/unsent/refused {iv}, records {rc} of {sys.argv[2]}")
sys.exit(not (sum(iv) == 4 and sum(rc) == int(sys.argv[2]) and iv[0] < 4))
PY
then
	ok "stalled collector: metrics: $(cat "$TMP/stall.cons")"
else
	bad "stalled collector: metrics do not add up to 4 intervals, $recs records: $(cat "$TMP/stall.cons")"
fi
notsent=$(python3 -c 'import re, sys
m = dict(re.findall(r"^flowcap_ipfix_intervals_total\{result=\"(\w+)\"\} (\d+)$", open(sys.argv[1]).read(), re.M))
print(int(m["unsent"]) + int(m["refused"]))' "$TMP/sprom/m.prom")
if grep -q "sink ipfix: 4 interval(s) taken, 0 failed; last failure: $notsent interval(s) ([0-9]* records) not sent to 127.0.0.1:$port/tcp" "$TMP/stall.log"; then
	ok "stalled collector: the summary says the $notsent interval(s) not sent"
else
	bad "stalled collector: summary: $(grep 'ipfix' "$TMP/stall.log")"
fi

# --- 5. a bad --ipfix: exit 2, naming it ---
for spec in "127.0.0.1" "127.0.0.1:0" "127.0.0.1:4739/sctp" "::1:4739"; do
	out=$("$FLOWCAP" --read "$MIX" --out "$TMP/down" --ipfix "$spec" 2>&1) && rc=0 || rc=$?
	if [ "$rc" = 2 ] && echo "$out" | grep -qF -- "--ipfix '$spec'"; then
		ok "--ipfix '$spec': exit 2, said"
	else
		bad "--ipfix '$spec': exit $rc: $out"
	fi
done
finish
