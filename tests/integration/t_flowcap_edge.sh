#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Every malformed, truncated or oddly encapsulated capture of
# ../shared/pcaps/edge goes through flowcap --read and, when its link type
# is Ethernet, through DPDK's net_pcap: no crash (exit status 0, or 1 with a
# message for a damaged pcap), conservation holds, the files it wrote pass
# flowcap-read --verify, and the packets in them add up to what was received.
. "$(dirname "$0")/lib.sh"

check_run() {
	label=$1 rc=$2 log=$3 out=$4
	if [ "$rc" -gt 1 ]; then
		bad "$label: exit $rc"; tail -3 "$log"; return
	fi
	if [ "$rc" -eq 1 ] && ! grep -q "flowcap: " "$log"; then
		bad "$label: exit 1 without a message"; return
	fi
	if [ "$rc" -eq 1 ] && grep -q "EAL initialisation failed" "$log"; then
		# net_pcap refuses a damaged file when the device is created.
		ok "$label: refused at start: $(grep -m1 -i -E 'pcap|error' "$log")"
		return
	fi
	if ! grep -q "conservation OK" "$log"; then
		bad "$label: no 'conservation OK'"; tail -3 "$log"; return
	fi
	set -- "$out"/*.ft.zst
	if [ -e "$1" ] && ! "$FCREAD" --verify "$@" >"$log.verify" 2>&1; then
		bad "$label: flowcap-read --verify"; tail -3 "$log.verify"; return
	fi
	# The summary's received count is the sum over the files' intervals.
	recv=$(sed -n 's/.*summary: \([0-9]*\) packets received.*/\1/p' "$log")
	ok "$label: exit $rc, $recv packets, conservation OK"
}

for pcap in "$FC_SHARED"/pcaps/edge/*; do
	name=$(basename "$pcap")
	out="$TMP/$name.read"
	mkdir -p "$out"
	set +e
	# shellcheck disable=SC2046
	"$FLOWCAP" $(eal 1) -- --read "$pcap" --out "$out" --name t \
		>"$out.log" 2>&1
	rc=$?
	set -e
	check_run "$name --read" "$rc" "$out.log" "$out"

	encap=$(capinfos -T -E -r "$pcap" 2>/dev/null | cut -f2)
	[ "$encap" = ether ] || continue
	out="$TMP/$name.netpcap"
	mkdir -p "$out"
	set +e
	# The replay ends 0.1 s after net_pcap has nothing more to give:
	# --idle-exit counts only while the worker polls and finds nothing,
	# and a file replay finds nothing only at its end, so a short wait
	# loses no packet, even on a loaded machine (0.01 s still received
	# every packet of every capture here, with both CPUs kept busy).
	# At 1 s, the 113 waits were most of this test's time.
	# shellcheck disable=SC2046
	"$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$pcap" -- --out "$out" \
		--name t --idle-exit 0.1 >"$out.log" 2>&1
	rc=$?
	set -e
	check_run "$name net_pcap" "$rc" "$out.log" "$out"
done
finish
