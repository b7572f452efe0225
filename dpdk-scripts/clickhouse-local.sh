#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# A private ClickHouse server on loopback, for flowcap's tests, CI and a
# user trying the ClickHouse sink on a laptop: Debian's clickhouse-server
# (18.16) with its own data directory, configuration, log and ports, run
# by whoever calls this script (no system service, no root needed).
#
#   clickhouse-local.sh start  DIR PORT   start it (HTTP on 127.0.0.1:PORT,
#                                          native PORT+1, interserver PORT+2)
#                                          and wait until it answers
#   clickhouse-local.sh stop   DIR        stop it and wait until it is gone
#   clickhouse-local.sh status DIR        exit 0 when it runs and answers
#   clickhouse-local.sh cluster DIR NAME PORT[,PORT...]
#                                          before start: a cluster NAME of
#                                          one shard per HTTP PORT (their
#                                          native ports), for Distributed
#
# DIR is created when missing and holds config.xml, users.xml, config.d/,
# data/, log/ and server.pid. It does not install anything
# (dpdk-scripts/install-deps.sh does) nor create tables (sql/clickhouse/).
# CH_START_TIMEOUT (seconds, default 60) bounds the wait of start;
# CH_STOP_TIMEOUT (default 30) that of stop, after which it sends SIGKILL.
set -eu

SERVER=${CLICKHOUSE_SERVER:-clickhouse-server}
TIMEOUT=${CH_START_TIMEOUT:-60}
STOP_TIMEOUT=${CH_STOP_TIMEOUT:-30}

usage() {
	echo "usage: $0 start DIR PORT | stop DIR | status DIR |" \
		"cluster DIR NAME PORT[,PORT...]" >&2
	exit 2
}

die() {
	echo "clickhouse-local: $*" >&2
	exit 1
}

port_ok() {
	case $1 in
	'' | *[!0-9]*) return 1 ;;
	esac
	[ "$1" -ge 1024 ] && [ "$1" -le 65533 ]
}

# answers PORT: the server's /ping says Ok.
answers() {
	curl -s -m 2 "http://127.0.0.1:$1/ping" 2>/dev/null | grep -q '^Ok\.$'
}

# The pid in DIR/server.pid when it is a clickhouse-server of DIR's config.
ours() {
	[ -f "$DIR/server.pid" ] || return 1
	pid=$(cat "$DIR/server.pid" 2>/dev/null) || return 1
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	[ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		grep -qF -- "--config-file=$DIR/config.xml" || return 1
	echo "$pid"
}

write_config() {
	http=$1
	mkdir -p "$DIR/data" "$DIR/tmp" "$DIR/user_files" "$DIR/log" \
		"$DIR/config.d" "$DIR/format_schemas"
	cat >"$DIR/config.xml" <<EOF
<?xml version="1.0"?>
<!-- written by clickhouse-local.sh: a private server on loopback -->
<yandex>
    <logger>
        <level>warning</level>
        <log>$DIR/log/server.log</log>
        <errorlog>$DIR/log/server.err.log</errorlog>
        <size>10M</size>
        <count>2</count>
    </logger>
    <http_port>$http</http_port>
    <tcp_port>$((http + 1))</tcp_port>
    <interserver_http_port>$((http + 2))</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>10</keep_alive_timeout>
    <max_concurrent_queries>64</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$DIR/data/</path>
    <tmp_path>$DIR/tmp/</tmp_path>
    <user_files_path>$DIR/user_files/</user_files_path>
    <format_schema_path>$DIR/format_schemas/</format_schema_path>
    <users_config>$DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</yandex>
EOF
	cat >"$DIR/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <load_balancing>in_order</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

start() {
	port=$1
	port_ok "$port" || die "port '$port' is not a number in 1024..65533 (HTTP PORT, native PORT+1, interserver PORT+2)"
	command -v "$SERVER" >/dev/null 2>&1 ||
		[ -x "/usr/sbin/$SERVER" ] ||
		die "$SERVER not found: run dpdk-scripts/install-deps.sh (Debian package clickhouse-server)"
	command -v "$SERVER" >/dev/null 2>&1 || SERVER=/usr/sbin/$SERVER
	command -v curl >/dev/null 2>&1 || die "curl not found: run dpdk-scripts/install-deps.sh"
	if pid=$(ours); then
		answers "$port" && { echo "clickhouse-local: already running in $DIR (pid $pid)"; return 0; }
		die "a server of $DIR runs (pid $pid) but does not answer on port $port: stop it first ($0 stop $DIR)"
	fi
	for p in "$port" $((port + 1)) $((port + 2)); do
		# curl's status 7: nothing listens there.
		rc=0
		curl -s -m 1 -o /dev/null "http://127.0.0.1:$p/" 2>/dev/null || rc=$?
		if [ "$rc" -ne 7 ]; then
			die "port $p on 127.0.0.1 is in use: choose another PORT (the server needs PORT..PORT+2)"
		fi
	done
	write_config "$port"
	: >"$DIR/log/server.err.log"
	# Its own session: a terminal's ^C to the caller does not reach it,
	# and stop finds it by the pid file.
	setsid "$SERVER" --config-file="$DIR/config.xml" \
		>"$DIR/log/stdout.log" 2>&1 </dev/null &
	spid=$!
	end=$(($(date +%s) + TIMEOUT))
	# setsid execs the server in place (the script's child is no group
	# leader): $! is its pid.
	echo "$spid" >"$DIR/server.pid"
	until answers "$port"; do
		if ! kill -0 "$spid" 2>/dev/null; then
			echo "clickhouse-local: the server in $DIR exited during start-up:" >&2
			tail -n 5 "$DIR/log/server.err.log" "$DIR/log/stdout.log" >&2 || true
			exit 1
		fi
		if [ "$(date +%s)" -ge "$end" ]; then
			kill -9 "$spid" 2>/dev/null || true
			die "the server in $DIR did not answer on 127.0.0.1:$port within ${TIMEOUT}s (log: $DIR/log/server.err.log)"
		fi
		sleep 0.1
	done
	echo "clickhouse-local: running in $DIR, http://127.0.0.1:$port/ (native $((port + 1)), pid $(cat "$DIR/server.pid"))"
}

stop() {
	pid=$(ours) || { echo "clickhouse-local: no server of $DIR runs"; rm -f "$DIR/server.pid"; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	end=$(($(date +%s) + STOP_TIMEOUT))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "clickhouse-local: pid $pid did not stop within ${STOP_TIMEOUT}s: SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
			end=$(($(date +%s) + 10))
		fi
		sleep 0.1
	done
	rm -f "$DIR/server.pid"
	echo "clickhouse-local: stopped the server of $DIR (pid $pid)"
}

status() {
	pid=$(ours) || { echo "clickhouse-local: not running ($DIR)"; exit 3; }
	port=$(sed -n 's:.*<http_port>\([0-9]*\)</http_port>.*:\1:p' "$DIR/config.xml")
	if answers "$port"; then
		echo "clickhouse-local: running in $DIR, http://127.0.0.1:$port/ (pid $pid)"
		return 0
	fi
	echo "clickhouse-local: pid $pid runs but does not answer on port $port"
	exit 1
}

cluster() {
	name=$1
	ports=$2
	mkdir -p "$DIR/config.d"
	{
		echo '<?xml version="1.0"?>'
		echo "<yandex><remote_servers><$name>"
		for p in $(echo "$ports" | tr ',' ' '); do
			port_ok "$p" || die "port '$p' is not a number in 1024..65533"
			echo "<shard><replica><host>127.0.0.1</host><port>$((p + 1))</port></replica></shard>"
		done
		echo "</$name></remote_servers></yandex>"
	} >"$DIR/config.d/cluster-$name.xml"
}

[ $# -ge 2 ] || usage
cmd=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
case $cmd in
start) [ $# -eq 3 ] || usage; start "$3" ;;
stop) [ $# -eq 2 ] || usage; stop ;;
status) [ $# -eq 2 ] || usage; status ;;
cluster) [ $# -eq 4 ] || usage; cluster "$3" "$4" ;;
*) usage ;;
esac
