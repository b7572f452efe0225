#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap on traces from flowcap-gen (IPv4/IPv6, VLAN, TCP/UDP/ICMP with
# backscatter, Zipf flows), compared row by row with the independent tshark
# oracle (tests/oracle/tshark-oracle.py): --read with 1 and 3 workers,
# net_pcap with one queue, and net_pcap with two queues (the same trace on
# each, so every count doubles and the collector must merge the same keys
# from two workers); aligned and --no-align; short intervals; rotation.
. "$(dirname "$0")/lib.sh"

g="$TMP/g.pcap"
"$FCGEN" --packets 120000 --flows 4000 --seed 7 --ipv6 0.2 --vlan 0.2 \
	--rate 1000 --start 1700000010 -o "$g" >/dev/null
python3 "$ORACLE" --interval 60 "$g" >"$TMP/exp60.csv"
python3 "$ORACLE" --interval 60 --no-align "$g" >"$TMP/exp60u.csv"
python3 "$ORACLE" --interval 7 "$g" >"$TMP/exp7.csv"
n=$(awk -F, '{s += $11} END {print s}' "$TMP/exp60.csv")
[ "$n" = 120000 ] && ok "oracle counts all 120000 packets" ||
	bad "oracle counts $n packets, not 120000"

# run LABEL EXPECTED FLOWCAP-ARGS...: run flowcap, compare rows.
run() {
	label=$1 exp=$2
	shift 2
	out="$TMP/out.$(echo "$label" | tr ' /' '__')"
	mkdir -p "$out"
	if ! "$FLOWCAP" "$@" --out "$out" --name gen >"$out.log" 2>&1; then
		bad "$label: exit status"; tail -5 "$out.log"; return
	fi
	grep -q "conservation OK" "$out.log" ||
		{ bad "$label: conservation"; return; }
	rows "$out" >"$out.csv"
	if same_rows "$out.csv" "$exp"; then
		ok "$label: $(wc -l <"$exp") rows equal to the oracle"
	else
		bad "$label: rows differ from the oracle"
	fi
}

# shellcheck disable=SC2046
run "read 1 worker" "$TMP/exp60.csv" $(eal 1) -- --read "$g"
# shellcheck disable=SC2046
run "read 3 workers" "$TMP/exp60.csv" $(eal 3) -- --read "$g"
# shellcheck disable=SC2046
run "read no-align" "$TMP/exp60u.csv" $(eal 2) -- --read "$g" --no-align
# shellcheck disable=SC2046
run "read interval 7" "$TMP/exp7.csv" $(eal 2) -- --read "$g" --interval 7
# shellcheck disable=SC2046
run "read rotate 4" "$TMP/exp7.csv" $(eal 1) -- --read "$g" --interval 7 \
	--rotate 4
files=$(ls "$TMP/out.read_rotate_4"/*.ft.zst | wc -l)
ivs=$(cut -d, -f1 "$TMP/exp7.csv" | sort -u | wc -l)
# Intervals with no packet are written too, so count from first to last.
first=$(cut -d, -f1 "$TMP/exp7.csv" | sort -n | head -1)
last=$(cut -d, -f1 "$TMP/exp7.csv" | sort -n | tail -1)
want=$(( ((last - first) / 7 + 1 + 3) / 4 ))
[ "$files" -eq "$want" ] && ok "rotate 4: $files files for $ivs+ intervals" ||
	bad "rotate 4: $files files, expected $want"
# shellcheck disable=SC2046
run "net_pcap 1 queue" "$TMP/exp60.csv" $(eal 1) \
	--vdev "net_pcap0,rx_pcap=$g" -- --idle-exit 0.2
awk -F, 'BEGIN {OFS=","} {$11 = 2 * $11; print}' "$TMP/exp60.csv" |
	LC_ALL=C sort >"$TMP/exp60x2.csv"
# shellcheck disable=SC2046
run "net_pcap 2 queues x 2 workers" "$TMP/exp60x2.csv" $(eal 2) \
	--vdev "net_pcap0,rx_pcap=$g,rx_pcap=$g" -- --idle-exit 0.2
# Standard input.
out="$TMP/stdin"
mkdir -p "$out"
# shellcheck disable=SC2046
if "$FLOWCAP" $(eal 1) -- --read - --out "$out" --name gen <"$g" \
	>"$out.log" 2>&1 && rows "$out" >"$out.csv" &&
	same_rows "$out.csv" "$TMP/exp60.csv"; then
	ok "read from stdin: rows equal"
else
	bad "read from stdin"
fi
finish
