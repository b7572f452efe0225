#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Faults: a full disk in the middle of a run (a small tmpfs), SIGKILL in
# the middle of writing, leftover .tmp files at start, a stalled collector,
# a full flow table, a directory fsync that fails after a rename, a
# symbolic link planted in the output directory, and
# dropping privileges with --user. Each: what flowcap must do, asserted.
. "$(dirname "$0")/lib.sh"
R="$FC_SHARED/pcaps/real"
pid=
MNT=
# Every exit path: the flowcap started last (by PID), the tmpfs, $TMP.
cleanup() {
	if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
	if [ -n "$MNT" ]; then umount "$MNT" 2>/dev/null || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- full flow table: overflow counted, capture goes on, the file says so.
mkdir -p "$TMP/full"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$R/synflood-spoofed-many-flows.pcap" \
	--table-keys 1000 --out "$TMP/full" >"$TMP/full.log" 2>&1 || true
n=$(sed -n 's/.*tbl_full *\([0-9]*\).*/\1/p' "$TMP/full.log" | head -1)
st=$("$FCREAD" --stats "$TMP"/full/*.ft.zst 2>&1)
if [ "${n:-0}" -gt 30000 ] && grep -q "conservation OK" "$TMP/full.log" &&
	echo "$st" | grep -q "tbl_full=$n" && echo "$st" | grep -q "conservation=ok"; then
	ok "full table: $n packets counted as tbl_full, in the file, conservation OK"
else
	bad "full table"; tail -5 "$TMP/full.log"; echo "$st" | tail -2
fi

# --- the IPv6 part of a table fills on its own: counted, sized by
# --table-keys6. Half the flows are IPv6, far beyond the default eighth.
"$FCGEN" -q -n 20000 -f 4000 --ipv6 0.5 --rate 1000 -o "$TMP/v6.pcap"
mkdir -p "$TMP/v6a" "$TMP/v6b"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$TMP/v6.pcap" --table-keys 4096 \
	--out "$TMP/v6a" >"$TMP/v6a.log" 2>&1 || true
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$TMP/v6.pcap" --table-keys 4096 \
	--table-keys6 4096 --out "$TMP/v6b" >"$TMP/v6b.log" 2>&1
rc=$?
na=$(sed -n 's/.*tbl_full *\([0-9]*\).*/\1/p' "$TMP/v6a.log" | head -1)
nb=$(sed -n 's/.*tbl_full *\([0-9]*\).*/\1/p' "$TMP/v6b.log" | head -1)
if [ "${na:-0}" -gt 0 ] && [ -z "$nb" ] && [ $rc -eq 0 ] &&
	grep -q "4096 IPv4 + 512 IPv6 keys" "$TMP/v6a.log" &&
	grep -q "4096 IPv4 + 4096 IPv6 keys" "$TMP/v6b.log" &&
	grep -q "conservation OK" "$TMP/v6a.log" &&
	grep -q "conservation OK" "$TMP/v6b.log"; then
	ok "IPv6 part full: $na packets tbl_full with 512 IPv6 keys, none with --table-keys6 4096; conservation OK"
else
	bad "IPv6 part of the table: tbl_full '${na:-}' / '${nb:-}', rc $rc"
	tail -3 "$TMP/v6a.log" "$TMP/v6b.log"
fi

# --- the directory's fsync fails after a file's rename: the file is
# complete, so its intervals are written, not lost; the run says so and
# exits 1. The same trace without the fault is the reference.
mkdir -p "$TMP/dsync" "$TMP/dref"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$R/tcpreplay-test-mix.pcap" --interval 60 \
	--out "$TMP/dref" >"$TMP/dref.log" 2>&1 || true
set +e
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$R/tcpreplay-test-mix.pcap" --interval 60 \
	--out "$TMP/dsync" --test-fail-dirsync >"$TMP/dsync.log" 2>&1
rc=$?
set -e
nf=$(grep -c "could not be synced" "$TMP/dsync.log" || true)
nref=$(ls "$TMP"/dref/*.ft.zst 2>/dev/null | wc -l)
if [ "$rc" -eq 1 ] && [ "$nref" -gt 0 ] &&
	grep -q " 0 intervals lost" "$TMP/dsync.log" &&
	! grep -q "LOST" "$TMP/dsync.log" &&
	grep -q "$nref file(s) complete, but their directory could not be synced" "$TMP/dsync.log" &&
	[ "$nf" -eq $((nref + 1)) ] &&
	"$FCREAD" --verify "$TMP"/dsync/*.ft.zst >/dev/null 2>&1 &&
	[ "$(rows "$TMP/dsync" | md5sum)" = "$(rows "$TMP/dref" | md5sum)" ]; then
	ok "directory fsync fails: $nref file(s) complete with the reference's rows, reported unsynced, 0 intervals lost, exit 1"
else
	bad "directory fsync fails: exit $rc, $nf warning line(s), $nref reference file(s)"
	tail -5 "$TMP/dsync.log"
fi

# --- leftover .tmp from a killed run: set aside as .incomplete, reported.
mkdir -p "$TMP/left"
head -c 300 "$TMP"/full/*.ft.zst >"$TMP/left/old.1.flowtuple.ft.zst.tmp"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$R/tcpreplay-test-mix.pcap" \
	--out "$TMP/left" >"$TMP/left.log" 2>&1
if [ -f "$TMP/left/old.1.flowtuple.ft.zst.incomplete" ] &&
	! ls "$TMP"/left/*.tmp >/dev/null 2>&1 &&
	grep -q "left by an interrupted run" "$TMP/left.log" &&
	"$FCREAD" --verify "$TMP"/left/*.ft.zst >/dev/null 2>&1; then
	ok "leftover .tmp renamed to .incomplete and reported; new files verify"
else
	bad "leftover .tmp"; ls "$TMP/left"; tail -3 "$TMP/left.log"
fi

# --- SIGKILL while writing: no file under its final name is ever partial,
# and what was being written is set aside at the next start. --rotate 3
# keeps a file open (a .tmp) for most of each 3 s; each run is killed once
# it has both a final file and a .tmp. A .tmp found after the kill (by
# then nothing can create or rename one) proves the kill landed mid-file;
# a kill that fell between two files is run again (3 tries).
mkdir -p "$TMP/kill"
i=0 seen=0
has_kill_tmp() {
	ls "$TMP"/kill/k$i.*.tmp >/dev/null 2>&1 &&
		ls "$TMP"/kill/k$i.*.ft.zst >/dev/null 2>&1
}
while [ $i -lt 3 ]; do
	try=0
	while [ $try -lt 3 ]; do
		# shellcheck disable=SC2046
		"$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$R/tcpreplay-test-mix.pcap,infinite_rx=1" \
			-- --out "$TMP/kill" --interval 1 --rotate 3 --name k$i \
			>"$TMP/kill$i.log" 2>&1 &
		pid=$!
		poll 30 has_kill_tmp || true
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null || true
		pid=
		if ls "$TMP"/kill/k$i.*.tmp >/dev/null 2>&1; then
			seen=$((seen + 1))
			break
		fi
		try=$((try + 1))
	done
	i=$((i + 1))
done
# A last run in the directory sets aside the third run's .tmp too.
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$R/tcpreplay-test-mix.pcap" --name k3 \
	--out "$TMP/kill" >"$TMP/kill3.log" 2>&1 || true
ninc=$(find "$TMP/kill" -name '*.incomplete' | wc -l)
ntmp=$(find "$TMP/kill" -name '*.tmp' | wc -l)
set -- "$TMP"/kill/k[0-2].*.ft.zst
if [ "$seen" -eq 3 ] && [ "$ninc" -eq 3 ] && [ "$ntmp" -eq 0 ] &&
	[ "$#" -ge 3 ] && [ -e "$1" ] &&
	"$FCREAD" --verify "$@" "$TMP"/kill/k3.*.ft.zst >"$TMP/kill.verify" 2>&1; then
	ok "SIGKILL x3 mid-file: a .tmp each time, set aside as .incomplete at the next start; all $# final files of the killed runs verify"
else
	bad "SIGKILL x3: .tmp seen at $seen of 3 kills, $ninc .incomplete, $ntmp .tmp left, $# final files"
	ls "$TMP/kill"; tail -3 "$TMP/kill.verify" 2>/dev/null || true
fi

# --- symbolic link planted where flowcap will write: never followed.
mkdir -p "$TMP/sym"
echo "precious" >"$TMP/precious"
ln -s "$TMP/precious" "$TMP/sym/s.1278472560.flowtuple.ft.zst.tmp"
ln -s "$TMP/precious" "$TMP/sym/s.1278472560.flowtuple.ft.zst"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$R/tcpreplay-test-mix.pcap" --name s \
	--out "$TMP/sym" >"$TMP/sym.log" 2>&1 || true
if [ "$(cat "$TMP/precious")" = precious ] &&
	[ -f "$TMP/sym/s.1278472560.flowtuple-1.ft.zst" ] &&
	[ -L "$TMP/sym/s.1278472560.flowtuple.ft.zst" ]; then
	ok "planted symlinks not followed; output went to a new name"
else
	bad "planted symlink"; ls -l "$TMP/sym"; tail -3 "$TMP/sym.log"
fi

# --- stalled collector (slow disk): workers never wait, no_table drops
# and late intervals are counted, conservation holds.
mkdir -p "$TMP/stall"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$R/tcpreplay-test-mix.pcap,infinite_rx=1" \
	-- --out "$TMP/stall" --interval 1 --tables 2 --test-collector-delay 1500 \
	>"$TMP/stall.log" 2>&1 &
pid=$!
# Three intervals written, 1.5 s each: by then the two tables are full.
nwrote() { [ "$(grep -c "^flowcap: wrote " "$1" || true)" -ge "$2" ]; }
poll 60 nwrote "$TMP/stall.log" 3 || true
kill -INT "$pid"
wait "$pid" || true
pid=
if grep -q "no_table" "$TMP/stall.log" && grep -q "flagged late" "$TMP/stall.log" &&
	grep -q "conservation OK" "$TMP/stall.log" &&
	"$FCREAD" --stats "$TMP"/stall/*.ft.zst | grep -q "late"; then
	ok "stalled collector: $(grep -m1 -o "no_table *[0-9]*" "$TMP/stall.log") counted, intervals flagged late, conservation OK"
else
	bad "stalled collector"; tail -8 "$TMP/stall.log"
fi

# --- a stop asked for while flowcap is still starting (a large pool can
# take seconds): acted on once running, never lost. The background job
# of a script starts with SIGINT ignored, so a signal that arrived before
# flowcap's handler was in place left a replay running for ever.
mkdir -p "$TMP/early"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) \
	--vdev "net_pcap0,rx_pcap=$R/tcpreplay-test-mix.pcap,infinite_rx=1" \
	-- --out "$TMP/early" --interval 1 --test-start-delay 2000 \
	>"$TMP/early.log" 2>&1 &
pid=$!
# The signal once flowcap catches SIGINT (its handler is installed before
# the 2 s start-up delay): bit 2 of SigCgt in /proc/PID/status.
catches_int() {
	m=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
	[ -n "$m" ] && [ $((0x${m#"${m%?}"} & 2)) -ne 0 ]
}
poll 20 catches_int "$pid" || bad "SIGINT during start-up: no handler after 20 s"
kill -INT "$pid"
# One signal only (timeout(1) would send a second to the process group).
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
set +e
wait "$pid"
rc=$?
pid=
set -e
stop_at=$(grep -n "stopping: writing the partial interval" "$TMP/early.log" | cut -d: -f1 | head -1)
port_at=$(grep -n "flowcap: port 0 " "$TMP/early.log" | cut -d: -f1 | head -1)
if [ "$rc" -eq 0 ] && [ -n "$stop_at" ] && [ -n "$port_at" ] &&
	[ "$stop_at" -lt "$port_at" ] &&
	grep -q "conservation OK" "$TMP/early.log" &&
	"$FCREAD" --verify "$TMP"/early/*.ft.zst >/dev/null 2>&1; then
	ok "SIGINT during start-up: acted on once running, exit 0, conservation OK, files verify"
else
	bad "SIGINT during start-up: exit $rc (137 = still running after 60 s)"
	tail -5 "$TMP/early.log"
fi

# --- disk full in the middle of a run, then space comes back.
mkdir -p "$TMP/disk"
if mount -t tmpfs -o size=1m tmpfs "$TMP/disk" 2>/dev/null; then
	MNT=$TMP/disk
	dd if=/dev/zero of="$TMP/disk/filler" bs=4k 2>/dev/null || true
	# shellcheck disable=SC2046
	"$FLOWCAP" $(eal 1) --vdev "net_pcap0,rx_pcap=$R/tcpreplay-test-mix.pcap,infinite_rx=1" \
		-- --out "$TMP/disk" --interval 1 --name d >"$TMP/disk.log" 2>&1 &
	pid=$!
	# Space back once an interval was lost; stop once one was written
	# after that.
	poll 60 grep -q "LOST" "$TMP/disk.log" || true
	rm -f "$TMP/disk/filler"
	wrote_after() { sed -n '/LOST/,$p' "$1" | grep -q "wrote "; }
	poll 60 wrote_after "$TMP/disk.log" || true
	kill -TERM "$pid"
	set +e
	wait "$pid"
	rc=$?
	set -e
	pid=
	lost=$(grep -c "LOST" "$TMP/disk.log" || true)
	after=$(sed -n '/LOST/,$p' "$TMP/disk.log" | grep -c "wrote " || true)
	if [ "$rc" -eq 1 ] && [ "$lost" -gt 0 ] && [ "$after" -gt 0 ] &&
		grep -q "intervals lost" "$TMP/disk.log" &&
		"$FCREAD" --verify "$TMP"/disk/*.ft.zst >/dev/null 2>&1; then
		ok "disk full: $lost interval(s) reported lost, writing resumed ($after files after), exit 1"
	else
		bad "disk full: rc=$rc lost=$lost after=$after"; tail -5 "$TMP/disk.log"
	fi
	umount "$TMP/disk"
	MNT=
else
	bad "disk full: cannot mount a tmpfs (needs root)"
fi

# --- --user: privileges dropped after set-up; files 0640, owned by it.
# The trace lives where only root may enter (a checkout under /root):
# every input is opened before privileges are dropped, as tcpdump -Z does.
# The user is nobody, which every system has: the test creates no user
# (and so leaves none behind). It must be unprivileged, and flowcap must
# not be able to regain root once it runs as it.
FCU=nobody
getent passwd | cut -d: -f1 | sort >"$TMP/users.before"
if id "$FCU" >/dev/null 2>&1 && [ "$(id -u "$FCU")" -ne 0 ]; then
	mkdir -p "$TMP/user" "$TMP/rootdir"
	chown "$FCU" "$TMP/user"
	chmod 755 "$TMP"
	chmod 700 "$TMP/rootdir"
	cp "$R/tcpreplay-test-mix.pcap" "$TMP/rootdir/trace.pcap"
	# shellcheck disable=SC2046
	"$FLOWCAP" $(eal 1) -- --read "$TMP/rootdir/trace.pcap" \
		--out "$TMP/user" --user "$FCU" >"$TMP/user.log" 2>&1 || true
	f=$(ls "$TMP"/user/*.ft.zst 2>/dev/null | head -1)
	if [ -n "$f" ] && [ "$(stat -c '%U %a' "$f")" = "$FCU 640" ] &&
		grep -q "running as user $FCU (uid $(id -u "$FCU"))" "$TMP/user.log" &&
		grep -q "summary: 179 packets received" "$TMP/user.log" &&
		! grep -q "cannot read" "$TMP/user.log" &&
		! grep -q "root could be regained" "$TMP/user.log"; then
		ok "--user: ran as $FCU (root not regainable), trace in a root-only directory read, file owned by it with mode 0640"
	else
		bad "--user"; tail -3 "$TMP/user.log"; ls -l "$TMP/user"
	fi
	mkdir -p "$TMP/rootonly"
	chmod 700 "$TMP/rootonly"
	set +e
	# shellcheck disable=SC2046
	"$FLOWCAP" $(eal 1) -- --read "$R/tcpreplay-test-mix.pcap" \
		--out "$TMP/rootonly" --user "$FCU" >"$TMP/ro.log" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ] && grep -q "cannot write to" "$TMP/ro.log"; then
		ok "--user without write access: refused before capture (exit $rc)"
	else
		bad "--user unwritable: exit $rc"; tail -3 "$TMP/ro.log"
	fi
else
	bad "--user: no unprivileged user $FCU on this machine"
fi
getent passwd | cut -d: -f1 | sort >"$TMP/users.after"
added=$(comm -13 "$TMP/users.before" "$TMP/users.after" | tr '\n' ' ')
if [ -z "$added" ]; then
	ok "--user: no user created"
else
	bad "--user: users created and left behind: $added"
fi
finish
