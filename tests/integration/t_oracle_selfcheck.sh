#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The tshark oracle against the reference rows of every real trace
# ($FC_SHARED/expected/oracle-aligned60): proves that the oracle encodes the
# documented flowtuple semantics before other tests trust it on generated
# traces. Also checks --no-align against Corsaro's own output on traces
# that are IPv4 only, without MPLS and without non-TCP/UDP/ICMP protocols,
# where the two must agree exactly. All 17 traces take about 20 s.
. "$(dirname "$0")/lib.sh"

command -v tshark >/dev/null 2>&1 || {
	echo "SKIP tshark not installed (apt-get install tshark)"
	exit 77
}
exp="$FC_SHARED/expected/oracle-aligned60"
n=0
for p in "$FC_SHARED"/pcaps/real/*.pcap; do
	name=$(basename "$p" .pcap)
	[ -f "$exp/$name.csv" ] || continue
	n=$((n + 1))
	if python3 "$ORACLE" "$p" >"$TMP/$name.csv" &&
		same_rows "$TMP/$name.csv" "$exp/$name.csv"; then
		ok "$name: $(wc -l <"$exp/$name.csv") rows equal"
	else
		bad "$name: oracle rows differ from $exp/$name.csv"
	fi
done
[ "$n" -gt 0 ] || bad "no reference traces under $FC_SHARED/pcaps/real"

cor="$FC_SHARED/expected/corsaro-unaligned60"
for name in synflood-spoofed-many-flows bacnet-amplification-udp \
	dhcp-request-flood-same-timestamp echo-connections-1000-tcp \
	dnscrypt-resolver-pings-frags; do
	[ -f "$cor/$name.csv" ] || { bad "$name: no $cor/$name.csv"; continue; }
	if python3 "$ORACLE" --no-align "$FC_SHARED/pcaps/real/$name.pcap" \
		>"$TMP/$name.u.csv" && same_rows "$TMP/$name.u.csv" "$cor/$name.csv"
	then
		ok "$name --no-align: equal to Corsaro"
	else
		bad "$name --no-align: differs from Corsaro"
	fi
done
finish
