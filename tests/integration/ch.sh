# SPDX-License-Identifier: BSD-3-Clause
# Helpers of the ClickHouse tests (sourced after lib.sh, not run): private
# servers started and stopped by dpdk-scripts/clickhouse-local.sh, every
# one of them stopped by the EXIT trap before $TMP is removed.
CHL="$FC_SRC/dpdk-scripts/clickhouse-local.sh"
SQL="$FC_SRC/sql/clickhouse"
trap 'ch_stop_all; rm -rf "$TMP"' EXIT
# A stopped server that does not end within 10 s is killed (SIGKILL):
# the test's data does not need a clean shutdown.
export CH_STOP_TIMEOUT=10

ch_stop_all() {
	[ -f "$TMP/ch.dirs" ] || return 0
	while read -r d; do
		sh "$CHL" stop "$d" >/dev/null 2>&1 || true
	done <"$TMP/ch.dirs"
}

# ch_start NAME: start a server in $TMP/NAME on free ports (HTTP PORT,
# native PORT+1, interserver PORT+2); sets CH_PORT. A port taken by
# someone else makes the script refuse: the next candidate is tried.
# ch_start_at NAME PORT: on that port, or fail.
ch_start() {
	d="$TMP/$1"
	echo "$d" >>"$TMP/ch.dirs"
	base=$(( (($$ * 131) % 2000) * 10 + 20000 ))
	for i in 0 1 2 3 4 5 6 7 8 9; do
		CH_PORT=$((base + i * 2011 % 30000))
		if sh "$CHL" start "$d" "$CH_PORT" >"$TMP/$1.start.log" 2>&1; then
			return 0
		fi
		grep -q "in use" "$TMP/$1.start.log" || break
	done
	cat "$TMP/$1.start.log"
	return 1
}

ch_start_at() {
	echo "$TMP/$1" >>"$TMP/ch.dirs"
	CH_PORT=$2
	sh "$CHL" start "$TMP/$1" "$2" >"$TMP/$1.start.log" 2>&1 ||
		{ cat "$TMP/$1.start.log"; return 1; }
}

# chq PORT SQL: run a query over HTTP, print the answer (TSV); fail with
# the server's message on an error.
chq() {
	_out=$(curl -sS -w '\n%{http_code}' "http://127.0.0.1:$1/" --data-binary "$2") || return 1
	_code=$(printf '%s\n' "$_out" | tail -n 1)
	_body=$(printf '%s\n' "$_out" | sed '$d')
	if [ "$_code" != 200 ]; then
		echo "chq: $2: $_body" >&2
		return 1
	fi
	[ -z "$_body" ] || printf '%s\n' "$_body"
}

# chsql PORT DB FILE: create DB and run FILE's statements in it.
chsql() {
	chq "$1" "CREATE DATABASE IF NOT EXISTS $2" &&
		clickhouse-client --port $(($1 + 1)) --database "$2" --multiquery <"$3"
}

# The rows of flowtuple for one monitor in flowcap-read's CSV (without its
# header), sorted: the same text for the same records.
ch_rows() {
	chq "$1" "SELECT toUInt32(interval_start), class,
		replaceRegexpOne(IPv6NumToString(src_ip), '^::ffff:', ''),
		replaceRegexpOne(IPv6NumToString(dst_ip), '^::ffff:', ''),
		src_port, dst_port, protocol, ttl, tcp_flags, ip_len, packets
		FROM $2.flowtuple WHERE monitor = '$3' FORMAT CSV" |
		tr -d '"' | LC_ALL=C sort
}

# nft DIR: how many complete flowtuple files DIR holds.
nft() {
	set -- "$1"/*.ft.zst
	if [ -e "$1" ]; then echo $#; else echo 0; fi
}
