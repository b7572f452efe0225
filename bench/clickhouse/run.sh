#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Records per second into one private local ClickHouse server
# (dpdk-scripts/clickhouse-local.sh), from the loader and from the live
# sink, and what the live sink costs the capture:
#   1. flowcap --read TRACE --out DIR                 (files only)
#   2. flowcap --read TRACE --out DIR --clickhouse    (files + live sink)
#   3. flowcap-read --to-clickhouse DIR               (the loader)
#   4. the same rows as one RowBinary INSERT by curl   (the server alone:
#      what any client can reach with these tables on this machine)
# Each run starts from empty tables. Rates are records / wall seconds of
# the whole command (the server shares the machine's cores with it).
#
# usage: bench/clickhouse/run.sh
# env:   BUILD (default build-bench next to this repo, a release build)
#        PACKETS (4M) FLOWS (2M) INTERVAL (10) RUNS (3)
#        WORK (/tmp/flowcap-bench-ch) PORT (28123)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$src/build-bench}
PACKETS=${PACKETS:-4M}
FLOWS=${FLOWS:-2M}
INTERVAL=${INTERVAL:-10}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/flowcap-bench-ch}
PORT=${PORT:-28123}
flowcap=$BUILD/app/flowcap/flowcap
fcread=$BUILD/app/flowcap-read/flowcap-read
gen=$BUILD/app/flowcap-gen/flowcap-gen
for b in "$flowcap" "$fcread" "$gen"; do
	[ -x "$b" ] || { echo "run.sh: $b is missing: meson setup $BUILD -Dbuildtype=release && ninja -C $BUILD" >&2; exit 1; }
done
mkdir -p "$WORK"
trap 'sh "$src/dpdk-scripts/clickhouse-local.sh" stop "$WORK/ch" >/dev/null 2>&1 || true' EXIT
sh "$src/dpdk-scripts/clickhouse-local.sh" start "$WORK/ch" "$PORT"
q() { curl -sS "http://127.0.0.1:$PORT/" --data-binary "$1"; }
q "CREATE DATABASE IF NOT EXISTS bench" >/dev/null
clickhouse-client --port $((PORT + 1)) --database bench --multiquery <"$src/sql/clickhouse/flowtuple.sql"
empty() {
	q "TRUNCATE TABLE bench.flowtuple" >/dev/null
	q "TRUNCATE TABLE bench.flowtuple_intervals" >/dev/null
	q "TRUNCATE TABLE bench.flowtuple_hourly" >/dev/null
}
[ -f "$WORK/trace.pcap" ] ||
	"$gen" -q -n "$PACKETS" -f "$FLOWS" -z 0 --size 64 --rate 1M -o "$WORK/trace.pcap"
now() { date +%s.%N; }
URL="http://127.0.0.1:$PORT/?database=bench"
q "CREATE TABLE IF NOT EXISTS bench.copy AS bench.flowtuple" >/dev/null
printf 'run\tfiles only s\tfiles+live s\tlive records\tlive rec/s\tloader s\tloader rec/s\tserver alone rec/s\n'
for r in $(seq "$RUNS"); do
	rm -rf "$WORK/out"
	mkdir -p "$WORK/out"
	t0=$(now)
	"$flowcap" --read "$WORK/trace.pcap" --interval "$INTERVAL" --out "$WORK/out" >/dev/null 2>&1
	t1=$(now)
	rm -rf "$WORK/out"
	mkdir -p "$WORK/out"
	empty
	t2=$(now)
	"$flowcap" --read "$WORK/trace.pcap" --interval "$INTERVAL" --out "$WORK/out" --clickhouse "$URL" >"$WORK/live.log" 2>&1
	t3=$(now)
	nlive=$(q "SELECT count() FROM bench.flowtuple")
	empty
	t4=$(now)
	"$fcread" --to-clickhouse "http://127.0.0.1:$PORT/" --database bench "$WORK/out" >/dev/null
	t5=$(now)
	nload=$(q "SELECT count() FROM bench.flowtuple")
	q "SELECT * FROM bench.flowtuple FORMAT RowBinary" >"$WORK/rows.bin"
	q "TRUNCATE TABLE bench.copy" >/dev/null
	t6=$(now)
	curl -sS "http://127.0.0.1:$PORT/?query=INSERT%20INTO%20bench.copy%20FORMAT%20RowBinary&max_insert_block_size=100000000" \
		--data-binary @"$WORK/rows.bin"
	t7=$(now)
	awk -v r="$r" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" -v f="$t5" -v g="$t6" -v h="$t7" -v nl="$nlive" -v nd="$nload" 'BEGIN {
		printf "%d\t%.2f\t%.2f\t%d\t%.0f\t%.2f\t%.0f\t%.0f\n", r, b - a, d - c, nl, nl / (d - c), f - e, nd / (f - e), nd / (h - g) }'
done
grep "sink clickhouse" "$WORK/live.log"
