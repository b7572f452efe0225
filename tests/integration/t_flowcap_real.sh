#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap on every real trace of ../shared/pcaps/real, compared row by row
# with the reference flowtuples made by tshark (../shared/expected,
# oracle-aligned60): through --read with 1 and with 2 workers, and through
# DPDK's net_pcap device. Conservation must hold in every run.
. "$(dirname "$0")/lib.sh"

for pcap in "$FC_SHARED"/pcaps/real/*.pcap; do
	name=$(basename "$pcap" .pcap)
	[ -f "$FC_SHARED/expected/oracle-aligned60/$name.csv" ] ||
		{ bad "$name: no expected rows"; continue; }
	exp="$TMP/$name.expected"
	expected_rows "$name" >"$exp"
	for workers in 1 2; do
		out="$TMP/$name.read$workers"
		mkdir -p "$out"
		# shellcheck disable=SC2046
		if ! "$FLOWCAP" $(eal "$workers") -- --read "$pcap" \
			--interval 60 --out "$out" --name t >"$out.log" 2>&1; then
			bad "$name --read, $workers worker(s): exit $?"; tail -5 "$out.log"
			continue
		fi
		grep -q "conservation OK" "$out.log" ||
			{ bad "$name --read x$workers: conservation"; continue; }
		rows "$out" >"$out.csv"
		if same_rows "$out.csv" "$exp"; then
			ok "$name --read, $workers worker(s): $(wc -l <"$exp") rows equal"
		else
			bad "$name --read, $workers worker(s): rows differ"
		fi
	done
	# The same trace replayed by DPDK itself (net_pcap stamps packets
	# with the trace's own times).
	out="$TMP/$name.netpcap"
	mkdir -p "$out"
	# shellcheck disable=SC2046
	if ! "$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$pcap" -- \
		--interval 60 --out "$out" --name t --idle-exit 0.2 \
		>"$out.log" 2>&1; then
		bad "$name net_pcap: exit"; tail -5 "$out.log"; continue
	fi
	grep -q "conservation OK" "$out.log" ||
		{ bad "$name net_pcap: conservation"; continue; }
	rows "$out" >"$out.csv"
	if same_rows "$out.csv" "$exp"; then
		ok "$name net_pcap: rows equal"
	else
		bad "$name net_pcap: rows differ"
	fi
done
finish
