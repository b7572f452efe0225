#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap-read --to-clickhouse against a real private ClickHouse server
# (dpdk-scripts/clickhouse-local.sh): the shared real traces and a
# generated one give, in ClickHouse, exactly the rows flowcap-read prints
# (count, sum of packets, a group-by, every row); SQL conservation holds
# over flowtuple_intervals; loading twice is loading once; a loader killed
# with SIGKILL and run again leaves exactly the files' records, also after
# a partial load and a lost ledger row; a server that is down, a missing
# table and a wrong column give a clear message and exit status 1; the
# start script refuses a port in use.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ch.sh"
R="$FC_SHARED/pcaps/real"

# --- the script: start, status, start again, a port in use, stop.
ch_start ch
P=$CH_PORT
if [ "$(chq "$P" "SELECT version()")" = "18.16.1" ] &&
	sh "$CHL" status "$TMP/ch" >/dev/null &&
	sh "$CHL" start "$TMP/ch" "$P" | grep -q "already running"; then
	ok "clickhouse-local.sh: server 18.16.1 answers on 127.0.0.1:$P, status 0, a second start says already running"
else
	bad "clickhouse-local.sh start/status"
fi
if ! sh "$CHL" start "$TMP/other" "$P" >"$TMP/o.log" 2>&1 &&
	grep -q "port $P on 127.0.0.1 is in use" "$TMP/o.log"; then
	ok "clickhouse-local.sh refuses a port in use, naming it"
else
	bad "clickhouse-local.sh on a port in use: $(cat "$TMP/o.log")"
fi
sh "$CHL" stop "$TMP/other" >/dev/null 2>&1 || true

# --- the schema.
if chsql "$P" ft "$SQL/flowtuple.sql" &&
	[ "$(chq "$P" "SELECT count() FROM system.tables WHERE database = 'ft'")" = 4 ]; then
	ok "flowtuple.sql creates flowtuple, flowtuple_intervals, the hourly rollup and its view"
else
	bad "flowtuple.sql"
fi
# Every counter of lib/tuple/fc_counter.c is a column of the ledger.
miss=""
for c in $(sed -n 's/.*\] = "\([a-z0-9_]*\)",/\1/p' "$FC_SRC/lib/tuple/fc_counter.c"); do
	[ "$(chq "$P" "SELECT count() FROM system.columns WHERE database = 'ft' AND table = 'flowtuple_intervals' AND name = '$c'")" = 1 ] ||
		miss="$miss $c"
done
if [ -z "$miss" ]; then
	ok "flowtuple_intervals has a column for every counter of fc_counter.c"
else
	bad "flowtuple_intervals lacks counters:$miss"
fi

# --- traces: every real trace and a generated one, each its own monitor.
"$FCGEN" -q -n 200000 -f 20000 --ipv6 0.3 --rate 2000 -o "$TMP/gen.pcap"
mons=""
for f in "$R"/*.pcap "$TMP/gen.pcap"; do
	m=$(basename "$f" .pcap)
	mkdir -p "$TMP/ft/$m"
	"$FLOWCAP" --read "$f" --interval 60 --name "$m" --out "$TMP/ft/$m" \
		>"$TMP/ft/$m.log" 2>&1 || { bad "flowcap --read $f: $(tail -n 2 "$TMP/ft/$m.log")"; continue; }
	mons="$mons $m"
done
URL="http://127.0.0.1:$P/"
if "$FCREAD" --to-clickhouse "$URL" --database ft "$TMP/ft" >"$TMP/load1.out" 2>"$TMP/load1.err" &&
	grep -q "intervals (.* records) loaded, 0 intervals (0 records) skipped as loaded before, 0 failed" "$TMP/load1.out"; then
	ok "loader: $(cut -d: -f3- "$TMP/load1.out")"
else
	bad "loader failed: $(cat "$TMP/load1.out" "$TMP/load1.err" | head -n 5)"
fi
nbad=0
ntr=0
for m in $mons; do
	ntr=$((ntr + 1))
	"$FCREAD" --format csv "$TMP/ft/$m" | tail -n +2 | LC_ALL=C sort >"$TMP/$m.ref"
	want=$(awk -F, '{n++; s += $11} END {printf "%d\t%d\n", n, s}' "$TMP/$m.ref")
	got=$(chq "$P" "SELECT count(), sum(packets) FROM ft.flowtuple WHERE monitor = '$m'")
	# A group-by: packets per class, protocol and destination port.
	awk -F, '{s[$2 "\t" $7 "\t" $6] += $11} END {for (k in s) print k "\t" s[k]}' \
		"$TMP/$m.ref" | LC_ALL=C sort >"$TMP/$m.grp.ref"
	chq "$P" "SELECT class, protocol, dst_port, sum(packets) FROM ft.flowtuple
		WHERE monitor = '$m' GROUP BY class, protocol, dst_port FORMAT TSV" |
		LC_ALL=C sort >"$TMP/$m.grp"
	ch_rows "$P" ft "$m" >"$TMP/$m.rows"
	if [ "$want" != "$got" ] || ! same_rows "$TMP/$m.grp.ref" "$TMP/$m.grp" ||
		! same_rows "$TMP/$m.ref" "$TMP/$m.rows"; then
		bad "$m: ClickHouse count/sum '$got', files '$want', or group-by or rows differ"
		nbad=$((nbad + 1))
	fi
done
[ "$nbad" -eq 0 ] && [ "$ntr" -gt 10 ] &&
	ok "$ntr traces ($(echo "$R"/*.pcap | wc -w) real, 1 generated): count, sum(packets), group-by class/protocol/dst_port and every row equal flowcap-read's"

# --- labels and VLAN IDs: files written with --classify and --key-vlan
# load their label names and VLAN IDs, as flowcap-read prints them; the
# rows of files without them hold '' and 0 (checked above through count).
# Into a database of their own: the checks below count database ft.
chsql "$P" lab "$SQL/flowtuple.sql" || bad "flowtuple.sql in database lab"
for t in pcapplusplus-example-tcp-mix many-protocols-vlan-ipv6-llc; do
	m="lab-$t"
	mkdir -p "$TMP/lab/$m"
	"$FLOWCAP" --read "$R/$t.pcap" --interval 60 --name "$m" \
		--classify "$FC_SRC/rules/telescope.rules" --key-vlan \
		--out "$TMP/lab/$m" >"$TMP/lab.$m.log" 2>&1 ||
		bad "flowcap --classify --key-vlan $t: $(tail -n 2 "$TMP/lab.$m.log")"
done
"$FCREAD" --to-clickhouse "$URL" --database lab "$TMP/lab" >"$TMP/lab.out" 2>&1 ||
	bad "loader, labelled files: $(head -n 3 "$TMP/lab.out")"
nlab=0
for t in pcapplusplus-example-tcp-mix many-protocols-vlan-ipv6-llc; do
	m="lab-$t"
	"$FCREAD" --format csv "$TMP/lab/$m" | tail -n +2 | LC_ALL=C sort >"$TMP/$m.ref"
	chq "$P" "SELECT toUInt32(interval_start), class,
		replaceRegexpOne(IPv6NumToString(src_ip), '^::ffff:', ''),
		replaceRegexpOne(IPv6NumToString(dst_ip), '^::ffff:', ''),
		src_port, dst_port, protocol, ttl, tcp_flags, ip_len, packets,
		label, vlan
		FROM lab.flowtuple WHERE monitor = '$m' FORMAT CSV" |
		tr -d '"' | LC_ALL=C sort >"$TMP/$m.rows"
	nl=$(awk -F, '$12 != ""' "$TMP/$m.ref" | wc -l)
	nv=$(awk -F, '$13 != 0' "$TMP/$m.ref" | wc -l)
	nlab=$((nlab + nl + nv))
	if [ -s "$TMP/$m.ref" ] && cmp -s "$TMP/$m.ref" "$TMP/$m.rows"; then
		ok "$t with --classify --key-vlan: every row, label and VLAN ID ($nl labelled, $nv tagged) equal flowcap-read's"
	else
		bad "$t: labelled rows differ: $(diff "$TMP/$m.ref" "$TMP/$m.rows" | head -n 4)"
	fi
done
[ "$nlab" -gt 0 ] || bad "the labelled traces gave no label and no VLAN ID: the check above proves nothing"

# --- conservation in SQL, per interval and against the rows.
q_cons="SELECT count() FROM ft.flowtuple_intervals WHERE rx_pkts != rec_pkts
	+ not_ip + trunc_l2 + trunc_l3 + bad_version + bad_hdrlen + bad_linktype
	+ too_deep + tunnel_deep + tbl_full + no_table + nic_imissed + nic_nombuf
	+ nic_ierrors + bad_time + filtered"
q_rows="SELECT count() FROM ft.flowtuple_intervals AS i ANY LEFT JOIN
	(SELECT load_id, sum(packets) AS p, count() AS c FROM ft.flowtuple
	 GROUP BY load_id) USING load_id
	WHERE i.rec_pkts != p OR i.n_records != c"
niv=$(chq "$P" "SELECT count() FROM ft.flowtuple_intervals")
rx_sql=$(chq "$P" "SELECT sum(rx_pkts) FROM ft.flowtuple_intervals")
rx_files=$(for m in $mons; do sed -n 's/.*summary: \([0-9]*\) packets received.*/\1/p' "$TMP/ft/$m.log"; done | awk '{s += $1} END {print s}')
if [ "$(chq "$P" "$q_cons")" = 0 ] && [ "$(chq "$P" "$q_rows")" = 0 ] &&
	[ "$niv" -gt 0 ] && [ "$rx_sql" = "$rx_files" ]; then
	ok "SQL conservation over $niv intervals: rx = in records + drops; rec_pkts and n_records = the rows' sums; $rx_sql packets received, as flowcap said"
else
	bad "conservation: $(chq "$P" "$q_cons") / $(chq "$P" "$q_rows") intervals break it; rx $rx_sql vs $rx_files; $niv intervals"
fi
if [ "$(chq "$P" "SELECT sum(packets) FROM ft.flowtuple_hourly")" = \
	"$(chq "$P" "SELECT sum(packets) FROM ft.flowtuple")" ] &&
	[ "$(chq "$P" "SELECT count() FROM (SELECT hour, monitor, class, protocol, dst_port, sum(packets) AS s FROM ft.flowtuple_hourly GROUP BY hour, monitor, class, protocol, dst_port) ALL INNER JOIN (SELECT toStartOfHour(interval_start) AS hour, monitor, class, protocol, dst_port, sum(packets) AS s FROM ft.flowtuple GROUP BY hour, monitor, class, protocol, dst_port) USING hour, monitor, class, protocol, dst_port, s")" = \
	"$(chq "$P" "SELECT count() FROM (SELECT DISTINCT toStartOfHour(interval_start), monitor, class, protocol, dst_port FROM ft.flowtuple)")" ]; then
	ok "the hourly rollup equals flowtuple grouped by hour, monitor, class, protocol, dst_port"
else
	bad "the hourly rollup differs from flowtuple"
fi

# --- twice = once.
before=$(chq "$P" "SELECT count(), sum(packets) FROM ft.flowtuple")
biv=$(chq "$P" "SELECT count() FROM ft.flowtuple_intervals")
"$FCREAD" --to-clickhouse "$URL" --database ft "$TMP/ft" >"$TMP/load2.out" 2>&1 || true
if [ "$(chq "$P" "SELECT count(), sum(packets) FROM ft.flowtuple")" = "$before" ] &&
	[ "$(chq "$P" "SELECT count() FROM ft.flowtuple_intervals")" = "$biv" ] &&
	grep -q ": 0 intervals (0 records) loaded, $biv intervals" "$TMP/load2.out"; then
	ok "loading the same files again adds nothing: $biv intervals skipped as loaded before"
else
	bad "second load: $(cat "$TMP/load2.out")"
fi

# --- SIGKILL mid-load, then again: exact. 5000 one-second intervals
# make three batches (2000 intervals each); the loader is killed right
# after its start, once the first rows are in (before their ledger rows,
# as a rule), and once the first ledger rows are in.
"$FCGEN" -q -n 150000 -f 50000 --rate 30 -o "$TMP/kill.pcap"
mkdir -p "$TMP/ftk"
"$FLOWCAP" --read "$TMP/kill.pcap" --interval 1 --rotate 100 --name kill \
	--out "$TMP/ftk" >"$TMP/ftk.log" 2>&1
nk=$("$FCREAD" --stats "$TMP/ftk" | grep -c '^interval=' || true)
killed=0
cnt() {
	[ "$(curl -s "http://127.0.0.1:$P/" --data-binary "SELECT count() FROM ft.$1 WHERE monitor = 'kill'")" -gt "$2" ]
}
for round in start rows ledger; do
	"$FCREAD" --to-clickhouse "$URL" --database ft "$TMP/ftk" >"$TMP/k.out" 2>&1 &
	lp=$!
	case $round in
	rows) poll 60 cnt flowtuple 0 || true ;;
	ledger) poll 60 cnt flowtuple_intervals 0 || true ;;
	esac
	if kill -9 "$lp" 2>/dev/null; then
		killed=$((killed + 1))
	fi
	wait "$lp" 2>/dev/null || true
done
mid=$(chq "$P" "SELECT count() FROM ft.flowtuple_intervals WHERE monitor = 'kill'")
"$FCREAD" --to-clickhouse "$URL" --database ft "$TMP/ftk" >"$TMP/k2.out" 2>&1 || true
"$FCREAD" --format csv "$TMP/ftk" | tail -n +2 | LC_ALL=C sort >"$TMP/kill.ref"
ch_rows "$P" ft kill >"$TMP/kill.rows"
kiv=$(chq "$P" "SELECT count() FROM ft.flowtuple_intervals WHERE monitor = 'kill'")
if [ "$killed" -ge 2 ] && [ "$mid" -lt "$nk" ] && [ "$kiv" = "$nk" ] &&
	same_rows "$TMP/kill.ref" "$TMP/kill.rows"; then
	ok "loader SIGKILLed $killed times mid-load ($mid of $nk intervals in), run again: exactly the files' $(wc -l <"$TMP/kill.ref") rows ($(cut -d: -f3- "$TMP/k2.out"))"
else
	bad "SIGKILL and re-run: killed $killed, $mid then $kiv of $nk intervals; $(tail -n 1 "$TMP/k2.out")"
fi

# --- what a crash leaves, made on purpose: an interval with half its
# rows and no ledger row, another with all rows and no ledger row.
ids=$(chq "$P" "SELECT load_id FROM ft.flowtuple_intervals WHERE monitor = 'kill' AND n_records > 10 ORDER BY interval_start LIMIT 2 FORMAT TSV")
id1=$(echo "$ids" | sed -n 1p)
id2=$(echo "$ids" | sed -n 2p)
chq "$P" "ALTER TABLE ft.flowtuple DELETE WHERE load_id = $id1 AND src_port % 2 = 0"
chq "$P" "ALTER TABLE ft.flowtuple_intervals DELETE WHERE load_id IN ($id1, $id2)"
poll 30 sh -c "[ \$(curl -s http://127.0.0.1:$P/ --data-binary 'SELECT count() FROM system.mutations WHERE is_done = 0') = 0 ]" || true
part=$(chq "$P" "SELECT count() FROM ft.flowtuple WHERE load_id = $id1")
"$FCREAD" --to-clickhouse "$URL" --database ft "$TMP/ftk" >"$TMP/k3.out" 2>&1 || true
ch_rows "$P" ft kill >"$TMP/kill.rows"
if grep -q "loaded.*1 partial loads removed and loaded again, 1 whole loads completed" "$TMP/k3.out" &&
	same_rows "$TMP/kill.ref" "$TMP/kill.rows" &&
	[ "$(chq "$P" "SELECT count() FROM ft.flowtuple_intervals WHERE monitor = 'kill'")" = "$nk" ]; then
	ok "a partial interval ($part rows left) is removed and loaded again, a whole one without ledger row gets its row: exact"
else
	bad "partial/ledger repair: $(cat "$TMP/k3.out")"
fi

# --- faults: no server, no table, a wrong column.
set +e
"$FCREAD" --to-clickhouse "http://127.0.0.1:$((P + 7))/" "$TMP/ft/gen" >"$TMP/down.out" 2>&1
rc=$?
set -e
if [ "$rc" -eq 1 ] && grep -q "Couldn't connect\|Could not connect\|connect" "$TMP/down.out" &&
	grep -q "is the server running" "$TMP/down.out"; then
	ok "server down at start: exit 1, $(head -n 1 "$TMP/down.out" | cut -c1-120)"
else
	bad "server down: rc $rc: $(cat "$TMP/down.out")"
fi
chq "$P" "CREATE DATABASE empty"
set +e
"$FCREAD" --to-clickhouse "$URL" --database empty "$TMP/ft/gen" >"$TMP/miss.out" 2>&1
rc=$?
set -e
if [ "$rc" -eq 1 ] && grep -q "table flowtuple does not exist: create it with sql/clickhouse/flowtuple.sql" "$TMP/miss.out"; then
	ok "table missing: exit 1, names the table and the SQL file"
else
	bad "table missing: rc $rc: $(cat "$TMP/miss.out")"
fi
chsql "$P" wrong "$SQL/flowtuple.sql"
chq "$P" "ALTER TABLE wrong.flowtuple MODIFY COLUMN ip_len UInt16"
set +e
"$FCREAD" --to-clickhouse "$URL" --database wrong "$TMP/ft/gen" >"$TMP/wrong.out" 2>&1
rc=$?
set -e
if [ "$rc" -eq 1 ] && grep -q "column flowtuple.ip_len is UInt16, flowcap writes UInt32" "$TMP/wrong.out" &&
	[ "$(chq "$P" "SELECT count() FROM wrong.flowtuple")" = 0 ]; then
	ok "wrong column: exit 1, names the column, both types, the SQL file; nothing written"
else
	bad "wrong column: rc $rc: $(cat "$TMP/wrong.out")"
fi
# The server refuses an insert (a column dropped after the check would do
# too; a read-only table is simpler): its own message, the file, the interval.
chq "$P" "CREATE DATABASE ro"
chsql "$P" ro "$SQL/flowtuple.sql"
chq "$P" "DROP TABLE ro.flowtuple_hourly"
set +e
"$FCREAD" --to-clickhouse "$URL" --database ro "$TMP/ft/gen" >"$TMP/ro.out" 2>&1
rc=$?
set -e
if [ "$rc" -eq 1 ] && grep -q "gen.*interval 0 (start [0-9]*, [0-9]* records) not loaded: the server refused: .*Code: 60" "$TMP/ro.out"; then
	ok "the server refuses an insert: exit 1, the file, the interval and the server's own message"
else
	bad "refused insert: rc $rc: $(cat "$TMP/ro.out")"
fi
set +e
"$FCREAD" --database x "$TMP/ft/gen" >"$TMP/u.out" 2>&1
rc1=$?
"$FCREAD" --to-clickhouse "$URL" --stats "$TMP/ft/gen" >"$TMP/u2.out" 2>&1
rc2=$?
"$FCREAD" --to-clickhouse "ftp://x/" "$TMP/ft/gen" >"$TMP/u3.out" 2>&1
rc3=$?
set -e
if [ "$rc1" -eq 2 ] && [ "$rc2" -eq 2 ] && [ "$rc3" -eq 2 ] &&
	grep -q "is not http://HOST:PORT/" "$TMP/u3.out"; then
	ok "bad command lines: --database alone, --to-clickhouse with --stats, a non-HTTP URL: exit 2"
else
	bad "bad command lines: $rc1 $rc2 $rc3"
fi

sh "$CHL" stop "$TMP/ch" >/dev/null
if ! sh "$CHL" status "$TMP/ch" >/dev/null 2>&1 &&
	! curl -s -m 1 "http://127.0.0.1:$P/ping" >/dev/null 2>&1; then
	ok "clickhouse-local.sh stop: the server is gone"
else
	bad "the server still answers after stop"
fi
finish
