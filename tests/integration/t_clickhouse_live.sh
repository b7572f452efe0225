#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap --clickhouse, the live sink, against a real private ClickHouse
# server: what it sends equals the files row for row, and flowcap-read
# --to-clickhouse on the same files then adds nothing (the same load ids);
# a server down at the start: capture completes, the intervals are
# pending, the exit status is 1, and the loader sends them; a server
# killed with SIGKILL mid-run and restarted, with a queue too small to
# hold what waits: intervals queue, then go pending, and are caught up
# from the files: nothing lost, nothing twice; a server stopped (SIGSTOP)
# mid-run: the collector goes on writing files meanwhile; a full disk
# under the file sink while the server is up: the intervals are LOST for
# the files (exit 1, as without ClickHouse) and ClickHouse still gets
# them all; a missing table: a clear message before capture.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ch.sh"
R="$FC_SHARED/pcaps/real"
MNT=
trap 'if [ -n "$MNT" ]; then umount "$MNT" 2>/dev/null || true; fi; ch_stop_all; rm -rf "$TMP"' EXIT

ch_start ch
P=$CH_PORT
chsql "$P" ft "$SQL/flowtuple.sql"
URL="http://127.0.0.1:$P/?database=ft"

# Rows of a monitor in ClickHouse equal the files' rows?
same_as_files() {
	"$FCREAD" --format csv "$2" | tail -n +2 | LC_ALL=C sort >"$TMP/$1.ref"
	ch_rows "$P" ft "$1" >"$TMP/$1.rows"
	[ -s "$TMP/$1.ref" ] && same_rows "$TMP/$1.ref" "$TMP/$1.rows" &&
		[ "$(chq "$P" "SELECT count() FROM ft.flowtuple_intervals WHERE monitor = '$1'")" = \
			"$("$FCREAD" --stats "$2" | grep -c '^interval=')" ]
}

# --- a real trace and a generated one, live.
"$FCGEN" -q -n 100000 -f 20000 --ipv6 0.3 --rate 2000 -o "$TMP/gen.pcap"
for t in "$R/synflood-spoofed-many-flows.pcap" "$R/ipv6-hbh-frag-flood-denial6-6.pcap" "$TMP/gen.pcap"; do
	m=live-$(basename "$t" .pcap)
	mkdir -p "$TMP/$m"
	set +e
	"$FLOWCAP" --read "$t" --interval 5 --name "$m" --out "$TMP/$m" \
		--clickhouse "$URL" >"$TMP/$m.log" 2>&1
	rc=$?
	set -e
	"$FCREAD" --to-clickhouse "http://127.0.0.1:$P/" --database ft "$TMP/$m" >"$TMP/$m.load" 2>&1 || true
	if [ "$rc" -eq 0 ] && same_as_files "$m" "$TMP/$m" &&
		grep -q "sink clickhouse: sent [1-9][0-9]* (.*) queued 0 pending 0" "$TMP/$m.log" &&
		grep -q ": 0 intervals (0 records) loaded, [1-9][0-9]* intervals .* skipped as loaded before, 0 failed" "$TMP/$m.load"; then
		ok "live $(basename "$t"): ClickHouse holds the files' rows; $(grep -o 'sent [0-9]* ([0-9]* records)' "$TMP/$m.log"); the loader after it adds nothing"
	else
		bad "live $(basename "$t"): rc $rc; $(grep 'sink clickhouse' "$TMP/$m.log"); $(cat "$TMP/$m.load")"
	fi
done

# --- server down at the start.
mkdir -p "$TMP/down"
set +e
"$FLOWCAP" --read "$TMP/gen.pcap" --interval 5 --name down --out "$TMP/down" \
	--clickhouse "http://127.0.0.1:$((P + 7))/" >"$TMP/down.log" 2>&1
rc=$?
set -e
n=$("$FCREAD" --stats "$TMP/down" | grep -c '^interval=')
if [ "$rc" -eq 1 ] && grep -q "Couldn't connect to server; capture starts" "$TMP/down.log" &&
	grep -q "sink clickhouse: sent 0 (0 records) queued 0 pending $n; the pending intervals are in the files: load them with flowcap-read --to-clickhouse URL $TMP/down" "$TMP/down.log" &&
	grep -q "20 intervals written\|intervals written to" "$TMP/down.log" &&
	"$FCREAD" --to-clickhouse "$URL" "$TMP/down" >"$TMP/down.load" 2>&1 &&
	same_as_files down "$TMP/down"; then
	ok "server down at start: capture completes, $n intervals pending, exit 1; flowcap-read --to-clickhouse then loads exactly them"
else
	bad "server down at start: rc $rc: $(grep -i 'clickhouse' "$TMP/down.log" | head -n 3)"
fi

# --- server killed mid-run and restarted; a 1 MB queue, so that some
# intervals go pending while it is down. --test-collector-delay makes
# the run last some seconds (a slow disk), one interval per 0.1 s.
"$FCGEN" -q -n 300000 -f 30000 --rate 5000 -o "$TMP/long.pcap"
mkdir -p "$TMP/kill"
"$FLOWCAP" --read "$TMP/long.pcap" --interval 1 --name kill --out "$TMP/kill" \
	--clickhouse "$URL" --clickhouse-queue 1 --test-collector-delay 100 \
	>"$TMP/kill.log" 2>&1 &
fp=$!
nfiles() { [ "$(nft "$TMP/kill")" -ge "$1" ]; }
poll 60 nfiles 5 || true
kill -9 "$(cat "$TMP/ch/server.pid")"
poll 30 sh -c "! curl -s -m 1 http://127.0.0.1:$P/ping >/dev/null" || true
down_at=$(nft "$TMP/kill")
# Down until the sink has said so and twenty more intervals are written
# (more than 1 MB of them).
poll 60 grep -q "no answer from the server" "$TMP/kill.log" || true
poll 60 nfiles $((down_at + 20)) || true
sh "$CHL" start "$TMP/ch" "$P" >/dev/null
up_at=$(nft "$TMP/kill")
set +e
wait "$fp"
rc=$?
set -e
if [ "$rc" -eq 0 ] && [ "$up_at" -gt "$down_at" ] && same_as_files kill "$TMP/kill" &&
	grep -q "are pending: they are loaded from the files" "$TMP/kill.log" &&
	grep -q "answers again" "$TMP/kill.log" &&
	grep -q "sink clickhouse: sent [0-9]* (.*) queued 0 pending 0" "$TMP/kill.log"; then
	ok "server SIGKILLed after $down_at intervals, back after $up_at: queued, then pending past 1 MB, caught up from the files; ClickHouse = files, exit 0"
else
	bad "server killed mid-run: rc $rc, down $down_at up $up_at: $(grep -i 'clickhouse' "$TMP/kill.log" | tail -n 6)"
fi

# --- a stopped (slow) server: the collector goes on meanwhile.
mkdir -p "$TMP/slow"
"$FLOWCAP" --read "$TMP/long.pcap" --interval 1 --name slow --out "$TMP/slow" \
	--clickhouse "$URL" --test-collector-delay 100 >"$TMP/slow.log" 2>&1 &
fp=$!
sfiles() { [ "$(nft "$TMP/slow")" -ge "$1" ]; }
poll 60 sfiles 5 || true
spid=$(cat "$TMP/ch/server.pid")
kill -STOP "$spid"
at=$(nft "$TMP/slow")
moved=no
poll 30 sfiles $((at + 15)) && moved=yes
kill -CONT "$spid"
set +e
wait "$fp"
rc=$?
set -e
if [ "$moved" = yes ] && [ "$rc" -eq 0 ] && same_as_files slow "$TMP/slow" &&
	grep -q "sink clickhouse: sent [0-9]* (.*) queued 0 pending 0" "$TMP/slow.log"; then
	ok "a stopped server (SIGSTOP): 15 more files written meanwhile, then everything sent, exact"
else
	bad "stopped server: moved $moved, rc $rc: $(grep -i clickhouse "$TMP/slow.log" | tail -n 3)"
fi

# --- a full disk under the file sink, the server up.
mkdir -p "$TMP/disk"
if mount -t tmpfs -o size=1m tmpfs "$TMP/disk" 2>/dev/null; then
	MNT=$TMP/disk
	dd if=/dev/zero of="$TMP/disk/filler" bs=4k 2>/dev/null || true
	set +e
	"$FLOWCAP" --read "$TMP/gen.pcap" --interval 5 --name dfull --out "$TMP/disk" \
		--clickhouse "$URL" >"$TMP/dfull.log" 2>&1
	rc=$?
	set -e
	lost=$(sed -n 's/.* \([0-9]*\) intervals lost;.*/\1/p' "$TMP/dfull.log")
	inrec=$(sed -n 's/.*summary: [0-9]* packets received, \([0-9]*\) in records.*/\1/p' "$TMP/dfull.log")
	if [ "$rc" -eq 1 ] && [ "${lost:-0}" -gt 0 ] && grep -q "LOST" "$TMP/dfull.log" &&
		[ "$(chq "$P" "SELECT count() FROM ft.flowtuple_intervals WHERE monitor = 'dfull'")" = "$lost" ] &&
		[ "$(chq "$P" "SELECT sum(packets) FROM ft.flowtuple WHERE monitor = 'dfull'")" = "$inrec" ] &&
		grep -q "sink clickhouse: sent $lost (.*) queued 0 pending 0" "$TMP/dfull.log"; then
		ok "disk full under the file sink: $lost intervals LOST for the files (exit 1), all $lost in ClickHouse with their $inrec packets"
	else
		bad "disk full with ClickHouse up: rc $rc, lost '$lost': $(grep -i 'clickhouse\|summary' "$TMP/dfull.log" | tail -n 3)"
	fi
	umount "$TMP/disk"
	MNT=
else
	bad "disk full: cannot mount a tmpfs (needs root)"
fi

# --- a missing table: told before capture.
chq "$P" "CREATE DATABASE empty"
mkdir -p "$TMP/miss"
set +e
"$FLOWCAP" --read "$TMP/gen.pcap" --out "$TMP/miss" \
	--clickhouse "http://127.0.0.1:$P/?database=empty" >"$TMP/miss.log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ] && grep -q "table flowtuple does not exist: create it with sql/clickhouse/flowtuple.sql" "$TMP/miss.log" &&
	[ "$(nft "$TMP/miss")" = 0 ]; then
	ok "table missing: flowcap stops before capture (exit $rc), naming the table and the SQL file"
else
	bad "table missing: rc $rc: $(cat "$TMP/miss.log" | head -n 3)"
fi
set +e
"$FLOWCAP" --read "$TMP/gen.pcap" --out "$TMP/miss" --clickhouse-queue 5 >"$TMP/q.log" 2>&1
rc=$?
set -e
if [ "$rc" -eq 2 ] && grep -q "clickhouse-queue applies to --clickhouse URL" "$TMP/q.log"; then
	ok "--clickhouse-queue without --clickhouse: exit 2, says so"
else
	bad "--clickhouse-queue alone: rc $rc: $(cat "$TMP/q.log")"
fi
finish
