#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap's command line and process behaviour: help, every kind of bad
# option or input refused with a clear message and exit status 2 before
# capture starts, too few lcores, no ports, SIGTERM in the middle of an
# interval (partial interval written, exit 0), names that exist already,
# SIGHUP and a closed stdout (the capture goes on), the stats line.
. "$(dirname "$0")/lib.sh"
T="$FC_SHARED/pcaps/real/tcpreplay-test-mix.pcap"
PIDS=""
# Every exit path: stop what this script started (by PID), then remove
# the temporary directory.
# The EAL's run-time directory of a file prefix of our own (below).
PREFIX="fc-test-cli-$$"
if [ "$(id -u)" -eq 0 ]; then
	RUNDIR="/var/run/dpdk/$PREFIX"
else
	RUNDIR="${XDG_RUNTIME_DIR:-/tmp}/dpdk/$PREFIX"
fi
cleanup() {
	for p in $PIDS; do
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$TMP" "$RUNDIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# wait_for FILE PATTERN [COUNT]: poll (20 s at most) until FILE has COUNT
# (default 1) lines matching PATTERN; fails on the deadline. FILE may not
# exist yet (a background job's redirection is made after the fork).
wait_for() {
	n=0
	while :; do
		c=$(grep -c -- "$2" "$1" 2>/dev/null || true)
		[ "${c:-0}" -lt "${3:-1}" ] || return 0
		[ $n -lt 200 ] || return 1
		sleep 0.1
		n=$((n + 1))
	done
}

# Packets in the files of a directory (every interval's rx_pkts), and the
# number of intervals flagged partial.
rx_in() {
	"$FCREAD" --stats "$1"/*.ft.zst 2>/dev/null | awk '
		{ for (i = 1; i <= NF; i++) { split($i, a, "=");
			if (a[1] == "rx_pkts") s += a[2];
			if (a[1] == "flags" && a[2] ~ /partial/) p++ } }
		END { printf "%d %d\n", s, p }'
}

# expect STATUS PATTERN ARGS...: flowcap exits STATUS and says PATTERN.
expect() {
	want=$1 pat=$2
	shift 2
	set +e
	"$FLOWCAP" "$@" >"$TMP/out.txt" 2>&1
	rc=$?
	set -e
	if [ "$rc" -eq "$want" ] && grep -q -- "$pat" "$TMP/out.txt"; then
		ok "flowcap $*: exit $rc, says '$pat'"
	else
		bad "flowcap $*: exit $rc (want $want), output:"
		head -5 "$TMP/out.txt"
	fi
}

mkdir -p "$TMP/out"
expect 0 "--interval SECS" --help
expect 2 "unknown or incomplete option '--bogus'" --bogus
expect 2 "expected an integer from 1" --interval 0 --read "$T" --out "$TMP/out"
expect 2 "expected an integer from 1" --interval 10x --read "$T" --out "$TMP/out"
# --idle-exit: seconds to the millisecond (0.2 is used below), nothing
# else.
expect 2 "'-1': not a number; expected seconds from 0 to 86400" \
	--idle-exit -1 --read "$T" --out "$TMP/out"
expect 2 "'0.5s': not a number; expected seconds" --idle-exit 0.5s \
	--read "$T" --out "$TMP/out"
expect 2 "'0.0001': not a number; expected seconds .* at most 3 decimals" \
	--idle-exit 0.0001 --read "$T" --out "$TMP/out"
expect 2 "'86400.5': out of range; expected seconds from 0 to 86400" \
	--idle-exit 86400.5 --read "$T" --out "$TMP/out"
expect 2 "does not exist" --read "$T" --out "$TMP/missing"
touch "$TMP/afile"
expect 2 "is not a directory" --read "$T" --out "$TMP/afile"
expect 2 "cannot read trace '$TMP/nope.pcap'" --read "$TMP/nope.pcap" --out "$TMP/out"
echo "not a capture" >"$TMP/text.pcap"
expect 2 "text.pcap" --read "$TMP/text.pcap" --out "$TMP/out"
expect 2 "contains '/'" --read "$T" --out "$TMP/out" --template 'a/b.ft.zst'
expect 2 "unknown conversion" --read "$T" --out "$TMP/out" --template '%q.ft'
expect 2 "monitor name" --read "$T" --out "$TMP/out" --name 'a/b'
expect 2 "unexpected argument" --read "$T" --out "$TMP/out" stray
printf '[port]\nrx_desc = 3\n' >"$TMP/bad.ini"
# A driver config is checked before the EAL starts (and --read, which
# opens no port, refuses it: t_flowcap_read.sh).
expect 2 "bad.ini line 2: \[port\] rx_desc = '3'" --out "$TMP/out" \
	--driver-config "$TMP/bad.ini"
expect 2 "nonexistent.ini" --out "$TMP/out" \
	--driver-config "$TMP/nonexistent.ini"
[ -z "$(ls "$TMP/out")" ] && ok "nothing written by refused runs" ||
	bad "refused runs wrote files"
expect 1 "needs at least 3 lcores" --no-huge --no-shconf -m 256 --no-pci \
	-l 0-1 -- --read "$T" --out "$TMP/out"
expect 1 "no DPDK port" --no-huge --no-shconf -m 256 --no-pci \
	"--lcores=(0-2)@(0-$((NCPU - 1)))" -- --out "$TMP/out"

# --ports: a malformed list or a port named twice is refused before the
# EAL starts (our line first, not DPDK's); a port that is not there is
# a bad command line too (exit 2), and the message lists those present.
# shellcheck disable=SC2046
set -- $(eal 1) --vdev "net_pcap0,rx_pcap=$T" --
expect 2 "port 0 is listed twice" "$@" --out "$TMP/out" --ports 0,0
if head -n 1 "$TMP/out.txt" | grep -q "^flowcap: --ports '0,0'"; then
	ok "--ports 0,0: refused before DPDK says a word"
else
	bad "--ports 0,0: first line '$(head -n 1 "$TMP/out.txt")'"
fi
expect 2 "expected DPDK port ids (0 to [0-9]*) separated by commas" "$@" \
	--out "$TMP/out" --ports 0,,1
expect 2 "expected DPDK port ids" "$@" --out "$TMP/out" --ports eth0
expect 2 "there is no port 5; ports present: 0 (net_pcap0)$" "$@" \
	--out "$TMP/out" --ports 5
# --workers with EAL options of one's own: honoured within the lcores
# they give (here 2 worker lcores), refused beyond.
mkdir -p "$TMP/wk"
# shellcheck disable=SC2046
expect 0 "using 1 of the 2 worker lcores" $(eal 2) \
	--vdev "net_pcap0,rx_pcap=$T" -- --out "$TMP/wk" --workers 1
if grep -q " 1 worker(s);" "$TMP/out.txt"; then
	ok "--workers 1: one worker runs"
else
	bad "--workers 1: $(grep "worker(s)" "$TMP/out.txt")"
fi
# shellcheck disable=SC2046
expect 2 "--workers 3 needs 5 lcores .*the EAL options give 4" $(eal 2) \
	--vdev "net_pcap0,rx_pcap=$T" -- --out "$TMP/wk" --workers 3
set --

# EAL start-up failures say their likely cause first, without the EAL's
# option list: lcores on CPUs that are not there (refused before the EAL
# starts, with the --lcores that fits), an unknown EAL option, a file
# prefix held by a running instance, no hugepages.
expect 2 "CPU $NCPU is not available (this machine has CPU 0" --no-huge --no-shconf \
	-m 512 --no-pci -l "0-$NCPU" -- --out "$TMP/out"
if grep -q -- "--lcores '(0-$NCPU)@(0-$((NCPU - 1)))' in place of -l 0-$NCPU" "$TMP/out.txt" &&
	[ "$(wc -l <"$TMP/out.txt")" -eq 1 ]; then
	ok "-l 0-$NCPU on $NCPU CPUs: one line, which names --lcores '(0-$NCPU)@(0-$((NCPU - 1)))'"
else
	bad "-l 0-$NCPU on $NCPU CPUs: $(wc -l <"$TMP/out.txt") lines"; head -3 "$TMP/out.txt"
fi
# A process confined to fewer CPUs (taskset, a container's cpuset) is not
# refused lcores that the EAL accepts; what it suggests uses its CPUs.
if command -v taskset >/dev/null 2>&1 && [ "$NCPU" -ge 2 ]; then
	last=$((NCPU - 1))
	set +e
	# shellcheck disable=SC2046
	taskset -c "$last" "$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$T" -- \
		--out "$TMP/out" --name confined >"$TMP/conf.log" 2>&1
	rc=$?
	taskset -c "$last" "$FLOWCAP" --no-huge --no-shconf -m 512 --no-pci \
		-l "0-$NCPU" -- --out "$TMP/out" >"$TMP/conf2.log" 2>&1
	set -e
	if [ "$rc" -eq 0 ] && grep -q "conservation OK" "$TMP/conf.log" &&
		grep -q -- "--lcores '(0-$NCPU)@($last)'" "$TMP/conf2.log"; then
		ok "confined to CPU $last: lcores on CPUs 0-$last run; the suggestion maps onto CPU $last"
	else
		bad "confined to CPU $last: exit $rc"; tail -2 "$TMP/conf.log"; cat "$TMP/conf2.log"
	fi
	rm -f "$TMP"/out/confined.*
else
	skip "confined to one CPU: needs taskset and 2 CPUs or more ($NCPU here)"
fi
expect 2 "CPU $NCPU is not available" --no-huge --no-shconf -m 512 --no-pci \
	"--lcores=(0-2)@(0-$NCPU)" -- --out "$TMP/out"
expect 2 "unrecognized option '--bogus-eal'" --no-huge --no-shconf -m 512 \
	--no-pci --bogus-eal "--lcores=(0-2)@(0-$((NCPU - 1)))" -- --out "$TMP/out"
if ! grep -q "EAL common options" "$TMP/out.txt" &&
	[ "$(wc -l <"$TMP/out.txt")" -le 10 ]; then
	ok "unknown EAL option: $(wc -l <"$TMP/out.txt") lines, no EAL option list"
else
	bad "unknown EAL option: $(wc -l <"$TMP/out.txt") lines"
fi
# shellcheck disable=SC2046
"$FLOWCAP" --no-huge -m 512 --no-pci --file-prefix "$PREFIX" \
	"--lcores=(0-2)@(0-$((NCPU - 1)))" --vdev net_ring0 -- \
	--out "$TMP/out" --name prefix >"$TMP/prefix.log" 2>&1 &
pid=$!
PIDS="$pid"
if wait_for "$TMP/prefix.log" "packet times from"; then
	# Another output directory: the first run holds the lock on its own.
	mkdir -p "$TMP/out2"
	expect 1 "the file prefix is in use: process $pid holds .*$PREFIX/config" \
		--no-huge -m 512 --no-pci --file-prefix "$PREFIX" \
		"--lcores=(0-2)@(0-$((NCPU - 1)))" --vdev net_ring0 -- --out "$TMP/out2"
else
	bad "file prefix in use: the first instance did not start"; tail -3 "$TMP/prefix.log"
fi
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
PIDS=""
rm -f "$TMP"/out/prefix.*
free=$(sed -n 's/^HugePages_Free: *\([0-9]*\).*/\1/p' /proc/meminfo)
if [ "${free:-0}" -eq 0 ]; then
	expect 1 "EAL initialisation failed: .*hugepage.*--no-huge --no-shconf -m 512" \
		--no-shconf --no-pci "--lcores=(0-2)@(0-$((NCPU - 1)))" -- --out "$TMP/out"
else
	skip "EAL failure without hugepages: $free hugepages free here"
fi

# A shipped driver config on a replay: applied and exact. The replay
# ends 0.2 s after its last packet (--idle-exit with decimals), and the
# rows being exact says that so short a wait lost nothing.
mkdir -p "$TMP/drv"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$T" -- --out "$TMP/drv" \
	--idle-exit 0.2 --driver-config "$FC_SRC/drivers-config/virtual.ini" \
	>"$TMP/drv.log" 2>&1
rows "$TMP/drv" >"$TMP/drv.csv"
if grep -q "driver settings from .*virtual.ini" "$TMP/drv.log" &&
	grep -q "x 512 descriptors" "$TMP/drv.log" &&
	same_rows "$TMP/drv.csv" "$FC_SHARED/expected/oracle-aligned60/tcpreplay-test-mix.csv"; then
	ok "--driver-config virtual.ini applied (512 descriptors), rows exact"
else
	bad "--driver-config virtual.ini"; tail -5 "$TMP/drv.log"
fi
if grep -q "no packets for 0.2 s: end of input" "$TMP/drv.log" &&
	grep -q "conservation OK" "$TMP/drv.log"; then
	ok "--idle-exit 0.2: the replay ended 0.2 s after its last packet"
else
	bad "--idle-exit 0.2: no 'no packets for 0.2 s'"; tail -5 "$TMP/drv.log"
fi

# The same trace twice into one directory: the second run must not
# replace the first run's file; it writes name-1.ft.zst.
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$T" --out "$TMP/out" --name twice >/dev/null 2>&1
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$T" --out "$TMP/out" --name twice \
	>"$TMP/twice.log" 2>&1
if [ -f "$TMP/out/twice.1278472560.flowtuple.ft.zst" ] &&
	[ -f "$TMP/out/twice.1278472560.flowtuple-1.ft.zst" ] &&
	grep -q "exists already" "$TMP/twice.log"; then
	ok "existing file kept, second run wrote -1 and said so"
else
	bad "name collision"; ls "$TMP/out"; tail -3 "$TMP/twice.log"
fi

# SIGTERM while packets flow (net_pcap replaying in a loop): the partial
# interval is written, flagged partial, and flowcap exits 0.
mkdir -p "$TMP/sig"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$T,infinite_rx=1" -- \
	--out "$TMP/sig" --interval 3600 --name sig --stats >"$TMP/sig.log" 2>&1 &
pid=$!
# The signal once packets are counted (a stats line with rx > 0).
wait_for "$TMP/sig.log" " | rx [1-9]" || bad "SIGTERM: no packets counted in 20 s"
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
if [ "$rc" -eq 0 ] && grep -q "conservation OK" "$TMP/sig.log" &&
	"$FCREAD" --stats "$TMP"/sig/*.ft.zst 2>&1 | grep -qi partial; then
	ok "SIGTERM: exit 0, partial interval written and flagged"
else
	bad "SIGTERM: exit $rc"; tail -3 "$TMP/sig.log"
fi

# SIGHUP (a reload request, or a closed terminal or SSH session) during a
# net_pcap replay: logged once per signal, the replay goes on to its end,
# every interval is written complete, exit 0.
"$FCGEN" -q -n 12000 -f 500 --rate 2000 -o "$TMP/hup.pcap"
mkdir -p "$TMP/hup"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$TMP/hup.pcap" -- \
	--out "$TMP/hup" --interval 1 --test-worker-delay 10000 \
	>"$TMP/hup.log" 2>&1 &
pid=$!
PIDS="$pid"
hups=0
if wait_for "$TMP/hup.log" "^flowcap: wrote "; then
	for k in 1 2; do
		kill -HUP "$pid" 2>/dev/null && hups=$k
		wait_for "$TMP/hup.log" "SIGHUP: nothing to reload" "$k" || break
	done
fi
set +e
wait "$pid"
rc=$?
set -e
PIDS=""
said=$(grep -c "^flowcap: SIGHUP: nothing to reload (no rules or filters configured)$" "$TMP/hup.log" || true)
got=$(rx_in "$TMP/hup")
if [ "$rc" -eq 0 ] && [ "$hups" -eq 2 ] && [ "$said" -eq 2 ] &&
	[ "$got" = "12000 0" ] &&
	grep -q "summary: 12000 packets received" "$TMP/hup.log" &&
	grep -q "conservation OK" "$TMP/hup.log" &&
	"$FCREAD" --verify "$TMP"/hup/*.ft.zst >/dev/null 2>&1; then
	ok "SIGHUP x2 during a replay: logged twice, replay finished, exit 0, 12000 packets in complete files"
else
	bad "SIGHUP during a replay: exit $rc, $hups sent, $said logged, files: '$got' (packets, partial intervals)"
	tail -5 "$TMP/hup.log"
fi

# SIGHUP while a trace is read from a pipe: the input is held open, so
# the signal surely lands mid-run; the rest is then read and written.
mkfifo "$TMP/hup.fifo"
mkdir -p "$TMP/hup2"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read - --out "$TMP/hup2" --interval 1 \
	<"$TMP/hup.fifo" >"$TMP/hup2.log" 2>&1 &
pid=$!
PIDS="$pid"
exec 5>"$TMP/hup.fifo"
# A flowcap that died makes these writes fail (SIGPIPE): not this script.
head -c 65536 "$TMP/hup.pcap" >&5 || true
sent=no
if wait_for "$TMP/hup2.log" " worker(s)"; then
	kill -HUP "$pid" 2>/dev/null && sent=yes
fi
tail -c +65537 "$TMP/hup.pcap" >&5 || true
exec 5>&-
set +e
wait "$pid"
rc=$?
set -e
PIDS=""
got=$(rx_in "$TMP/hup2")
if [ "$rc" -eq 0 ] && [ "$sent" = yes ] && [ "$got" = "12000 0" ] &&
	grep -q "SIGHUP: nothing to reload" "$TMP/hup2.log" &&
	grep -q "conservation OK" "$TMP/hup2.log"; then
	ok "SIGHUP while reading a trace from a pipe: logged, exit 0, 12000 packets in complete files"
else
	bad "SIGHUP during --read -: exit $rc, sent $sent, files: '$got'"
	tail -5 "$TMP/hup2.log"
fi

# stdout is a pipe nobody reads any more (flowcap ... | head, a dropped
# SSH session): log lines are lost, the capture is not. The reader of
# the FIFO has exited before flowcap starts, so its first line meets a
# closed pipe.
mkfifo "$TMP/pipe.fifo"
(exec <"$TMP/pipe.fifo") &
exec 6>"$TMP/pipe.fifo"
wait $!
mkdir -p "$TMP/pipe"
set +e
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$TMP/hup.pcap" --out "$TMP/pipe" \
	--interval 1 >&6 2>"$TMP/pipe.err"
rc=$?
set -e
exec 6>&-
got=$(rx_in "$TMP/pipe")
if [ "$rc" -eq 0 ] && [ "$got" = "12000 0" ]; then
	ok "stdout to a closed pipe: exit 0, 12000 packets in complete files"
else
	bad "stdout to a closed pipe: exit $rc, files: '$got'"
	tail -3 "$TMP/pipe.err"
fi

# Virtual devices without RX timestamps: packet times from the TSC, and
# no word about "hardware timestamps in device clock units" they do not
# have. net_af_packet on the loopback interface needs root.
for v in net_null0 net_ring0 net_af_packet0,iface=lo; do
	case "$v" in net_af_packet*) [ "$(id -u)" -eq 0 ] || continue ;; esac
	# Not the previous run's log: wait_for must see this run's lines.
	rm -f "$TMP/ts.log"
	# shellcheck disable=SC2046
	"$FLOWCAP" $(eal 1) --vdev "$v" -- --out "$TMP/out" --name ts \
		>"$TMP/ts.log" 2>&1 &
	pid=$!
	PIDS="$pid"
	wait_for "$TMP/ts.log" "packet times from" || true
	kill -TERM "$pid" 2>/dev/null || true
	set +e
	wait "$pid"
	rc=$?
	set -e
	PIDS=""
	if [ "$rc" -eq 0 ] && ! grep -q "timestamps are in device clock units" "$TMP/ts.log" &&
		grep -q "packet times from the TSC" "$TMP/ts.log"; then
		ok "${v%%,*}: packet times from the TSC, no word of hardware timestamps"
	else
		bad "${v%%,*}: exit $rc"; grep -E "timestamps|packet times" "$TMP/ts.log"
	fi
	rm -f "$TMP"/out/ts.*
done

# summ LOG: "received lost rejected" from the exit summary.
summ() {
	sed -n 's/^flowcap: summary: \([0-9]*\) packets received, [0-9]* in records, \([0-9]*\) lost, \([0-9]*\) rejected .*/\1 \2 \3/p' "$1"
}
# last LOG: "rx lost rejected" ending the last stats line, then worker 0's
# "lost rejected".
last() {
	grep "^flowcap: w0 " "$1" | tail -n 1 | awk '{
		for (i = 1; i < NF; i++) if ($i == "w0") w = $(i + 4) " " $(i + 6)
		print $(NF - 4), $(NF - 2), $NF, w }'
}

# The stats line counts from the start: a replay over several 1 s
# intervals whose tables fill (tbl_full in each), slowed down so that it
# lasts several stats lines. Its last line, read by
# bench/pktgen/flowcap-loss.sh (the traffic generators' loss probe), must
# give the exit summary's received and dropped (lost + rejected), not
# the last interval's. tbl_full is loss; nothing here is rejected.
"$FCGEN" -q -n 12000 -f 100000 -z 0 --rate 3000 -o "$TMP/st.pcap"
mkdir -p "$TMP/st"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$TMP/st.pcap" -- \
	--out "$TMP/st" --interval 1 --table-keys 1024 --stats \
	--test-worker-delay 8000 >"$TMP/st.log" 2>&1 || true
sum=$(summ "$TMP/st.log")
# shellcheck disable=SC2086 # three numbers, split on purpose
set -- ${sum:-x 0 x}
sum_lost=$2
loss=$(sh "$FC_SRC/bench/pktgen/flowcap-loss.sh" "$TMP/st.log" 2>&1) || true
nfull=$("$FCREAD" --stats "$TMP"/st/*.ft.zst 2>/dev/null | grep -c "tbl_full=[1-9]" || true)
nlines=$(grep -c "^flowcap: w0 " "$TMP/st.log" || true)
line=$(last "$TMP/st.log")
if [ "$sum" = "12000 $sum_lost 0" ] && [ "$sum_lost" -gt 0 ] &&
	[ "$line" = "12000 $sum_lost 0 $sum_lost 0" ] &&
	[ "$loss" = "12000 $sum_lost" ] && [ "$nfull" -ge 2 ] &&
	[ "$nlines" -ge 2 ]; then
	ok "stats line: from the start, last line 'rx lost rejected, w0 lost rejected' = '$line' = summary's, flowcap-loss.sh '$loss' ($nfull intervals with tbl_full, $nlines lines)"
else
	bad "stats line: last '$line', flowcap-loss.sh '$loss', summary '$sum' (received lost rejected), $nfull intervals with tbl_full, $nlines lines"
	grep "^flowcap: w0 " "$TMP/st.log" | tail -3
	grep "summary" "$TMP/st.log"
fi

# Frames without a flowtuple (ARP, LLC, non-IP MPLS payload: the mixed
# trace has them) are rejected, not lost: a link carrying ARP must not
# look as if it were losing packets, in the stats line or the summary.
mkdir -p "$TMP/rej"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$T" -- --out "$TMP/rej" \
	--stats --idle-exit 2 >"$TMP/rej.log" 2>&1 || true
want=$("$FCREAD" --stats "$TMP"/rej/*.ft.zst 2>/dev/null |
	sed -n 's/.* drops=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
sum=$(summ "$TMP/rej.log")
line=$(last "$TMP/rej.log")
if [ "$want" -gt 0 ] && [ "$sum" = "179 0 $want" ] &&
	[ "$line" = "179 0 $want 0 $want" ] &&
	grep -q "^flowcap:   not_ip *[0-9]* (rejected)$" "$TMP/rej.log"; then
	ok "non-IP frames: $want rejected, 0 lost, in the stats line ('$line') and the summary"
else
	bad "non-IP frames: files say $want dropped; summary '$sum' (received lost rejected), last line '$line'"
	grep -E "^flowcap: (w0|summary|  )" "$TMP/rej.log" | tail -5
fi
finish
