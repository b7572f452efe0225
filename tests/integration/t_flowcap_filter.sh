#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The capture filter (--filter, --filter-file): for shared real traces and
# several expressions, `flowcap --read T --filter E` writes exactly the
# records flowcap writes for `tcpdump -r T -w - E` (tcpdump is the
# oracle: the same libpcap compiler, its own matcher), and `filtered`
# equals the packets tcpdump left out; conservation holds in every file.
# The same through DPDK's net_pcap with two workers (two RX queues), keys
# summed over the run. A bad expression: pcap's message, exit 2. SIGHUP
# reloads --filter-file; a reload that fails keeps the filter in force.
. "$(dirname "$0")/lib.sh"

command -v tcpdump >/dev/null || { bad "tcpdump missing (install-deps.sh)"; finish; }
REAL="$FC_SHARED/pcaps/real"

# Packets of a trace (tcpdump's count).
npkts() { tcpdump --count -r "$1" 2>/dev/null | awk '{ print $1 }'; }
# Sum of one counter (or rx_pkts) over every interval of a directory.
ctr_sum() {
	"$FCREAD" --stats "$1"/*.ft.zst | tr ' ' '\n' |
		awk -F= -v k="$2" '$1 == k { s += $2 } END { print s + 0 }'
}
# Every interval conserves (rx = records + drops, filtered included).
all_conserve() {
	! "$FCREAD" --stats "$1"/*.ft.zst | grep '^interval=' |
		grep -qv 'conservation=ok'
}
# Rows without the interval column, summed per key: for runs whose
# intervals may be cut differently (two workers, live clock).
keysum() {
	set -- "$1"/*.ft.zst
	[ -e "$1" ] || return 0
	"$FCREAD" --format csv "$@" | tail -n +2 | cut -d, -f2- |
		awk -F, '{ k = $1; for (i = 2; i < NF; i++) k = k "," $i;
			s[k] += $NF } END { for (k in s) print k "," s[k] }' |
		LC_ALL=C sort
}

n=0
for t in many-protocols-vlan-ipv6-llc smb-file-transfer-all-vlan \
	dns-amplification-ipv4-fragments lan-ftp-mixed-ipv4opt-ipv6 \
	tcpreplay-test-mix gnutella-lan-mix; do
	T="$REAL/$t.pcap"
	all=$(npkts "$T")
	for e in 'vlan and tcp' 'tcp or udp' 'udp port 53' 'ip6' \
		'not arp and greater 100' 'icmp or icmp6' \
		'ip[6:2] & 0x1fff != 0' 'tcp[tcpflags] & tcp-syn != 0'; do
		n=$((n + 1))
		d="$TMP/f$n"
		mkdir -p "$d/a" "$d/b"
		tcpdump -r "$T" -w "$d/ref.pcap" "$e" 2>/dev/null
		kept=$(npkts "$d/ref.pcap")
		if ! "$FLOWCAP" --read "$T" --out "$d/a" --filter "$e" \
			>"$d/a.log" 2>&1; then
			bad "$t '$e': exit"; tail -3 "$d/a.log"; continue
		fi
		"$FLOWCAP" --read "$d/ref.pcap" --out "$d/b" >"$d/b.log" 2>&1 ||
			{ bad "$t '$e': reference run"; continue; }
		rows "$d/a" >"$d/a.rows"
		rows "$d/b" >"$d/b.rows"
		filt=$(ctr_sum "$d/a" filtered)
		rx=$(ctr_sum "$d/a" rx_pkts)
		if same_rows "$d/a.rows" "$d/b.rows" && [ "$rx" -eq "$all" ] &&
			[ "$filt" -eq $((all - kept)) ] && all_conserve "$d/a" &&
			grep -q "^flowcap: conservation OK: received $all = .* + $filt filtered$" "$d/a.log"; then
			ok "$t '$e': records of tcpdump's $kept, filtered $filt of $all"
		else
			bad "$t '$e': rx $rx (want $all) filtered $filt (want $((all - kept)))"
		fi
		rm -rf "$d"
	done
done

# Through net_pcap with two workers: two RX queues, the trace split in
# two by tcpdump (TCP and the rest), the filter run by the workers.
for t in smb-file-transfer-all-vlan many-protocols-vlan-ipv6-llc \
	lan-ftp-mixed-ipv4opt-ipv6; do
	T="$REAL/$t.pcap"
	e='vlan and tcp or udp'
	d="$TMP/np-$t"
	mkdir -p "$d/a" "$d/b"
	tcpdump -r "$T" -w "$d/q0.pcap" tcp 2>/dev/null
	tcpdump -r "$T" -w "$d/q1.pcap" not tcp 2>/dev/null
	tcpdump -r "$T" -w "$d/ref.pcap" "$e" 2>/dev/null
	all=$(npkts "$T")
	kept=$(npkts "$d/ref.pcap")
	# shellcheck disable=SC2046
	if ! "$FLOWCAP" $(eal 2) \
		--vdev "net_pcap0,rx_pcap=$d/q0.pcap,rx_pcap=$d/q1.pcap" -- \
		--out "$d/a" --workers 2 --filter "$e" --idle-exit 0.2 \
		>"$d/a.log" 2>&1; then
		bad "$t net_pcap 2 workers: exit"; tail -5 "$d/a.log"; continue
	fi
	"$FLOWCAP" --read "$d/ref.pcap" --out "$d/b" >/dev/null 2>&1
	keysum "$d/a" >"$d/a.keys"
	keysum "$d/b" >"$d/b.keys"
	filt=$(ctr_sum "$d/a" filtered)
	if same_rows "$d/a.keys" "$d/b.keys" &&
		[ "$filt" -eq $((all - kept)) ] && all_conserve "$d/a"; then
		ok "$t net_pcap, 2 workers, '$e': keys of tcpdump's, filtered $filt"
	else
		bad "$t net_pcap 2 workers: filtered $filt (want $((all - kept)))"
	fi
done

# A bad expression: pcap's message and the expression, exit 2, nothing
# written.
T="$REAL/tcpreplay-test-mix.pcap"
mkdir -p "$TMP/bad"
set +e
"$FLOWCAP" --read "$T" --out "$TMP/bad" --filter 'tcp and (' >"$TMP/bad.log" 2>&1
rc=$?
set -e
if [ "$rc" -eq 2 ] && grep -q "bad filter expression 'tcp and (': .*syntax error" "$TMP/bad.log" &&
	[ -z "$(ls "$TMP/bad")" ]; then
	ok "bad expression: exit 2 with pcap's message"
else
	bad "bad expression: exit $rc"; cat "$TMP/bad.log"
fi
printf 'tcp port 99999999\n' >"$TMP/bad.flt"
set +e
"$FLOWCAP" --read "$T" --out "$TMP/bad" --filter-file "$TMP/bad.flt" >"$TMP/bad.log" 2>&1
rc=$?
"$FLOWCAP" --read "$T" --out "$TMP/bad" --filter-file "$TMP/none.flt" >"$TMP/bad2.log" 2>&1
rc2=$?
set -e
if [ "$rc" -eq 2 ] && grep -q "^flowcap: --filter-file '$TMP/bad.flt': bad filter expression" "$TMP/bad.log" &&
	[ "$rc2" -eq 2 ] && grep -q "cannot read filter file '$TMP/none.flt'" "$TMP/bad2.log"; then
	ok "bad filter file: exit 2 naming the file"
else
	bad "bad filter file: exit $rc / $rc2"; cat "$TMP/bad.log" "$TMP/bad2.log"
fi

# SIGHUP reloads --filter-file during a net_pcap replay: the filter in
# force changes, a broken file is refused (reload_failed) and the filter
# in force stays; conservation holds.
"$FCGEN" -q -n 20000 -f 500 --rate 2000 -o "$TMP/hup.pcap"
mkdir -p "$TMP/hup"
echo 'tcp' >"$TMP/hup.flt"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$TMP/hup.pcap" -- \
	--out "$TMP/hup" --interval 1 --test-worker-delay 5000 \
	--filter-file "$TMP/hup.flt" >"$TMP/hup.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; rm -rf "$TMP"' EXIT
said() { [ "$(grep -c "$1" "$TMP/hup.log")" -ge "$2" ]; }
okh=0
if poll 30 grep -q "^flowcap: wrote " "$TMP/hup.log"; then
	echo 'udp' >"$TMP/hup.flt"
	kill -HUP "$pid"
	poll 20 said "reload: generation 2 in force, filter udp" 1 && okh=$((okh + 1))
	echo 'udp and (' >"$TMP/hup.flt"
	kill -HUP "$pid"
	poll 20 said "reload failed, the rules in force stay: .*hup.flt" 1 && okh=$((okh + 1))
fi
set +e
wait "$pid"
rc=$?
set -e
trap 'rm -rf "$TMP"' EXIT
if [ "$rc" -eq 0 ] && [ "$okh" -eq 2 ] && all_conserve "$TMP/hup" &&
	grep -q "reloads 1, reload_failed 1" "$TMP/hup.log" &&
	grep -q "^flowcap: conservation OK: received 20000 " "$TMP/hup.log"; then
	ok "SIGHUP: filter file reloaded, a bad one refused, conservation"
else
	bad "SIGHUP reload: exit $rc, steps $okh"; tail -5 "$TMP/hup.log"
fi

# SIGHUP during --read takes effect between two packets, not when the
# reading ends. The trace comes through a pipe: its first half, then (once
# flowcap has read all of it and waits on the pipe, and the filter file
# says 'udp' and SIGHUP is sent) its second half. Oracle: tcpdump keeps
# 'tcp' of the first half and 'udp' of the second; flowcap --read of
# their concatenation writes the same records, and filtered is exactly
# what tcpdump left out of each half.
"$FCGEN" -q -n 6000 -f 300 --rate 1000 -o "$TMP/rd.pcap"
python3 - "$TMP/rd.pcap" "$TMP" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
off, n = 24, 0
while off < len(b) and n < 3000:
    off += 16 + struct.unpack_from('<I', b, off + 8)[0]
    n += 1
open(sys.argv[2] + '/rd1.pcap', 'wb').write(b[:off])
open(sys.argv[2] + '/rd2.pcap', 'wb').write(b[:24] + b[off:])
open(sys.argv[2] + '/rd.off', 'w').write(str(off))
PY
off=$(cat "$TMP/rd.off")
tcpdump -r "$TMP/rd1.pcap" -w "$TMP/rdr1.pcap" tcp 2>/dev/null
tcpdump -r "$TMP/rd2.pcap" -w "$TMP/rdr2.pcap" udp 2>/dev/null
{ cat "$TMP/rdr1.pcap"; tail -c +25 "$TMP/rdr2.pcap"; } >"$TMP/rdref.pcap"
drop=$(( $(npkts "$TMP/rd1.pcap") - $(npkts "$TMP/rdr1.pcap") +
	$(npkts "$TMP/rd2.pcap") - $(npkts "$TMP/rdr2.pcap") ))
mkdir -p "$TMP/rda" "$TMP/rdb"
echo 'tcp' >"$TMP/rd.flt"
{ head -c "$off" "$TMP/rd.pcap"; : >"$TMP/rd.half"
	poll 20 test -e "$TMP/rd.go"; tail -c +$((off + 1)) "$TMP/rd.pcap"; } |
	"$FLOWCAP" --read - --out "$TMP/rda" --filter-file "$TMP/rd.flt" \
		>"$TMP/rd.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; rm -rf "$TMP"' EXIT
# Everything of the first half read: the writer is done with it and
# flowcap's reading thread (the feeder, the main thread) waits on the pipe.
blocked() { grep -q pipe_read "/proc/$pid/wchan" 2>/dev/null; }
steps=0
if poll 20 test -e "$TMP/rd.half" && poll 20 blocked; then
	steps=1
	echo 'udp' >"$TMP/rd.flt"
	kill -HUP "$pid"
	sleep 0.3
fi
: >"$TMP/rd.go"
set +e
wait "$pid"
rc=$?
set -e
trap 'rm -rf "$TMP"' EXIT
"$FLOWCAP" --read "$TMP/rdref.pcap" --out "$TMP/rdb" >"$TMP/rdb.log" 2>&1 ||
	bad "SIGHUP during --read: the reference run failed"
rows "$TMP/rda" >"$TMP/rda.rows"
rows "$TMP/rdb" >"$TMP/rdb.rows"
got=$(ctr_sum "$TMP/rda" filtered)
if [ "$rc" -eq 0 ] && [ "$steps" -eq 1 ] && [ -s "$TMP/rdb.rows" ] &&
	cmp -s "$TMP/rda.rows" "$TMP/rdb.rows" && [ "$got" -eq "$drop" ] &&
	all_conserve "$TMP/rda" &&
	grep -q "reload: generation 2 in force, filter udp" "$TMP/rd.log"; then
	ok "SIGHUP during --read: the new filter from the next packet on (tcpdump's halves; filtered $got)"
else
	bad "SIGHUP during --read: exit $rc, steps $steps, filtered $got (tcpdump: $drop), rows $(wc -l <"$TMP/rda.rows")/$(wc -l <"$TMP/rdb.rows")"
	tail -5 "$TMP/rd.log"
fi
finish
