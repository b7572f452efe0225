#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Check the pktgen scripts and their wiring to flowcap without a NIC: each
# script runs in pktgen-dpdk on one end of a veth pair in a private network
# namespace (net_af_packet), flowcap captures on the other end, and what
# flowcap wrote is compared with what the script says it sent. The kernel
# veth path is slow and drops frames in its packet ring where no counter
# sees them (doc/reliability.md), so this proves the scripts, not a rate.
#
# usage: PKTGEN=/path/to/pktgen bench/pktgen/veth-check.sh
# env:   PKTGEN (the pktgen-dpdk binary, built with -Denable_lua=true)
#        BUILD (flowcap's build dir, default build) STEP_SECS (2)
# Needs root (network namespaces). Exit 0 when every check passed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$src/build}
STEP_SECS=${STEP_SECS:-2}
flowcap=$BUILD/app/flowcap/flowcap
fcread=$BUILD/app/flowcap-read/flowcap-read
fcgen=$BUILD/app/flowcap-gen/flowcap-gen
real=$src/../shared/pcaps/real/synflood-spoofed-many-flows.pcap

if [ -z "${PKTGEN:-}" ] || [ ! -x "$PKTGEN" ]; then
	echo "veth-check.sh: set PKTGEN to the pktgen-dpdk binary (doc/benchmarking.md says how to build it)" >&2
	exit 2
fi
for b in "$flowcap" "$fcread" "$fcgen"; do
	if [ ! -x "$b" ]; then
		echo "veth-check.sh: $b is missing: ninja -C $BUILD (or set BUILD)" >&2
		exit 2
	fi
done

NS=fcpg$$
WORK=$(mktemp -d /tmp/fc-pgcheck.XXXXXX)
FCPID=""
cleanup() {
	if [ -n "$FCPID" ]; then
		kill -KILL "$FCPID" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! ip netns add "$NS" 2>"$WORK/ns.err" ||
	! ip -n "$NS" link add vethA type veth peer name vethB 2>"$WORK/ns.err"; then
	echo "veth-check.sh: cannot create a network namespace with a veth pair ($(cat "$WORK/ns.err")): run as root" >&2
	exit 2
fi
for i in vethA vethB; do
	# No IPv6 and no address: only pktgen's frames cross the pair.
	ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1"
	ip -n "$NS" link set "$i" up
done

# flowcap's lcores (control, collector, worker) and pktgen's (main, port):
# CPUs of their own when there are 5, else sharing.
if [ "$(nproc)" -ge 5 ]; then
	fc_lcores="0@0,1@1,2@2"; pg_cores="3-4"
else
	fc_lcores="0@0,1@0,2@1"; pg_cores="0-1"
fi
pg_port=${pg_cores#*-}
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }

# flowcap on vethB, one interval for the whole run; ARGS are more options.
start_flowcap() { # NAME ARGS...
	name=$1
	shift
	mkdir -p "$WORK/$name"
	ip netns exec "$NS" "$flowcap" --no-huge -m 512 --no-pci --no-shconf \
		--file-prefix "fcchk$$" --lcores "$fc_lcores" \
		--vdev "net_af_packet0,iface=vethB" -- --out "$WORK/$name" \
		--interval 3600 --stats "$@" >"$WORK/$name.log" 2>&1 &
	FCPID=$!
	n=0
	while [ $n -lt 300 ] && ! grep -q "^flowcap: w0 " "$WORK/$name.log" 2>/dev/null; do
		sleep 0.1
		n=$((n + 1))
	done
	if [ $n -ge 300 ]; then
		echo "flowcap did not start within 30 s; its log ends:"
		tail -5 "$WORK/$name.log"
	fi
}

stop_flowcap() {
	kill -INT "$FCPID" 2>/dev/null || true
	wait "$FCPID" || true
	FCPID=""
}

# pktgen on vethA runs SCRIPT (env as set by the caller), then quits; its
# output without the screen's escape sequences goes to $WORK/NAME.pg.
run_pktgen() { # NAME SCRIPT PKTGEN-ARGS...
	name=$1 script=$2
	shift 2
	cat >"$WORK/run.lua" <<-EOF
	io.write("PKTGEN VERSION " .. tostring(pktgen.info.Pktgen_Version) .. "\n")
	local ok, err = pcall(dofile, "$here/$script")
	if not ok then io.write("SCRIPT ERROR: " .. tostring(err) .. "\n") end
	pktgen.quit()
	EOF
	STEP_SECS=$STEP_SECS timeout 900 ip netns exec "$NS" "$PKTGEN" \
		--no-huge -m 2048 --no-pci --no-shconf --file-prefix "pgchk$$" \
		-l "$pg_cores" --vdev "net_af_packet1,iface=vethA" -- -P \
		-m "[$pg_port].0" "$@" -f "$WORK/run.lua" </dev/null 2>&1 |
		tr -d '\033' | tr '\r' '\n' >"$WORK/$name.pg" || true
	if grep -q "SCRIPT ERROR" "$WORK/$name.pg"; then
		grep "SCRIPT ERROR" "$WORK/$name.pg" | head -3
	fi
}

# One field (name=value) of flowcap-read --stats, summed over intervals.
stat() { # NAME FIELD
	"$fcread" --stats "$WORK/$1"/*.ft.zst 2>/dev/null |
		awk -v k="$2" '{ for (i = 1; i <= NF; i++) { split($i, a, "=");
			if (a[1] == k) s += a[2] } } END { print s + 0 }'
}

# Distinct keys (every column but the time and the counts), sorted.
keys() { # DIR
	"$fcread" --format csv "$1"/*.ft.zst |
		awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) skip[i] = ($i ~ /time|packets|interval/); next }
			{ k = ""; for (i = 1; i <= NF; i++) if (!skip[i]) k = k $i ","; print k }' |
		LC_ALL=C sort -u
}

# pktgen's version: random bitfields are sent from 24.10 on (common.lua).
pg_version() { # NAME
	sed -n 's/^PKTGEN VERSION [^0-9]*\([0-9]*\)\.\([0-9]*\).*/\1 \2/p' "$WORK/$1.pg" | head -1 |
		awk '{ print ($1 > 24 || ($1 == 24 && $2 >= 10)) ? "random" : "range-only" }'
}

# --- range-flows: each step's flows all reach flowcap, and no more.
for f in 1000 4000; do
	start_flowcap "range$f"
	FLOWS=$f run_pktgen "range$f" range-flows.lua
	stop_flowcap
	said=$(sed -n 's/^64B \([0-9]*\) flows: .*sent \([0-9]*\) packets.*/\1 \2/p' "$WORK/range$f.pg" | head -1)
	flows=${said%% *}
	recs=$(stat "range$f" records)
	rx=$(stat "range$f" rx_pkts)
	if [ -n "$said" ] && [ "$recs" -eq "$flows" ] && [ "$rx" -gt "$flows" ]; then
		ok "range-flows FLOWS=$f: the script sends $flows flows (${said#* } packets); flowcap: $recs records from $rx packets"
	else
		bad "range-flows FLOWS=$f: script said '${said:-nothing}', flowcap: $recs records from $rx packets"
		tail -5 "$WORK/range$f.pg"
	fi
done

# More flows than a range pool holds: random bitfields (pktgen 24.10 on),
# or the step is skipped, saying why.
start_flowcap range100k
FLOWS=100000 run_pktgen range100k range-flows.lua
stop_flowcap
kind=$(pg_version range100k)
recs=$(stat range100k records)
rx=$(stat range100k rx_pkts)
if [ "$kind" = range-only ]; then
	if grep -q "^64B 100000 flows: skipped: more than 49152 flows need pktgen 24.10" "$WORK/range100k.pg" &&
		[ "$rx" -eq 0 ]; then
		ok "range-flows FLOWS=100000 on $(sed -n 's/^PKTGEN VERSION //p' "$WORK/range100k.pg"): step skipped, saying it needs pktgen 24.10 (nothing sent)"
	else
		bad "range-flows FLOWS=100000 on an older pktgen: not skipped ($rx packets, $recs records)"
		tail -5 "$WORK/range100k.pg"
	fi
else
	# 131072 flows drawn at random: at least 95 % of those expected.
	if grep -q "^64B 131072 flows: " "$WORK/range100k.pg" &&
		awk -v r="$recs" -v x="$rx" 'BEGIN { n = 131072
			e = n * (1 - exp(-x / n)); exit !(r <= n && r >= 0.95 * e && x > 0) }'; then
		ok "range-flows FLOWS=100000: 131072 random flows, flowcap: $recs records from $rx packets"
	else
		bad "range-flows FLOWS=100000: flowcap: $recs records from $rx packets"
		tail -5 "$WORK/range100k.pg"
	fi
fi

# --- the zero-loss search reads flowcap's drops (flowcap-loss.sh): with
# a table of 1024 keys, 500 flows fit (no loss up to line rate) and 4036
# do not (tbl_full at every rate: the search ends at 0).
for f in 500 4000; do
	start_flowcap "zl$f" --table-keys 1024
	FLOWS=$f LOSS_CMD="sh $here/flowcap-loss.sh $WORK/zl$f.log" \
		run_pktgen "zl$f" range-flows.lua
	stop_flowcap
	rate=$(sed -n 's/.*zero-loss [0-9.]* Mpps (rate \([0-9.]*\)%).*/\1/p' "$WORK/zl$f.pg" | head -1)
	steps=$(grep -c "flowcap drops" "$WORK/zl$f.pg" || true)
	full=$(stat "zl$f" tbl_full)
	r=${rate%%.*}
	if [ "$f" -eq 500 ]; then
		[ "${r:-0}" -ge 99 ] && [ "$full" -eq 0 ] && want=yes || want=no
	else
		[ "${r:-1}" -eq 0 ] && [ "$full" -gt 0 ] && want=yes || want=no
	fi
	if [ -n "$rate" ] && [ "$steps" -ge 7 ] && [ "$want" = yes ]; then
		ok "zero-loss search, FLOWS=$f, table of 1024 keys: $steps steps, zero-loss rate $rate %, tbl_full $full"
	else
		bad "zero-loss search, FLOWS=$f: rate '${rate:-none}' after $steps steps, tbl_full $full"
		tail -5 "$WORK/zl$f.pg"
	fi
done

# --- new-flows: every packet flowcap receives is a new key (pktgen 24.10
# on); an older pktgen is refused, saying why.
start_flowcap newflows
RATES=1,5 run_pktgen newflows new-flows.lua
stop_flowcap
kind=$(pg_version newflows)
steps=$(grep -c "^new flows: rate" "$WORK/newflows.pg" || true)
recs=$(stat newflows records)
rx=$(stat newflows rx_pkts)
if [ "$kind" = range-only ]; then
	if grep -q "^new-flows: not run: needs pktgen 24.10" "$WORK/newflows.pg" &&
		[ "$steps" -eq 0 ] && [ "$rx" -eq 0 ]; then
		ok "new-flows on $(sed -n 's/^PKTGEN VERSION //p' "$WORK/newflows.pg"): refused, saying it needs pktgen 24.10 (nothing sent)"
	else
		bad "new-flows on an older pktgen: not refused ($steps steps, $rx packets)"
		tail -5 "$WORK/newflows.pg"
	fi
elif [ "$steps" -eq 2 ] && [ "$rx" -gt 1000 ] && [ "$recs" -eq "$rx" ]; then
	ok "new-flows RATES=1,5: 2 steps; flowcap: $rx packets, each a new key ($recs records)"
else
	bad "new-flows: $steps steps, flowcap: $recs records from $rx packets"
	tail -5 "$WORK/newflows.pg"
fi

# --- imix and pcap-replay: every key flowcap finds in the replay is one
# flowcap --read finds in the pcap itself, and nearly all of those come
# (the kernel's packet ring drops frames no counter reports, so not
# necessarily every one).
"$fcgen" -q -n 20000 -f 2000 --size imix -o "$WORK/imix.pcap"
for t in imix pcap-replay; do
	pcap=$WORK/imix.pcap
	[ "$t" = pcap-replay ] && [ -r "$real" ] && pcap=$real
	mkdir -p "$WORK/$t.read"
	"$flowcap" --no-huge -m 512 --no-pci --no-shconf --file-prefix "fcrd$$" \
		--lcores "$fc_lcores" -- --read "$pcap" --out "$WORK/$t.read" \
		--interval 3600 --no-align >"$WORK/$t.read.log" 2>&1
	start_flowcap "$t"
	RATES=100 run_pktgen "$t" "$t.lua" -s "0:$pcap"
	stop_flowcap
	keys "$WORK/$t.read" >"$WORK/$t.want"
	keys "$WORK/$t" >"$WORK/$t.got"
	nw=$(wc -l <"$WORK/$t.want")
	ng=$(wc -l <"$WORK/$t.got")
	extra=$(LC_ALL=C comm -13 "$WORK/$t.want" "$WORK/$t.got" | wc -l)
	done_line=$(grep -c "^$t: done" "$WORK/$t.pg" || true)
	if [ "$done_line" -eq 1 ] && [ "$nw" -gt 0 ] && [ "$extra" -eq 0 ] &&
		[ $((ng * 10)) -ge $((nw * 9)) ]; then
		ok "$t.lua with $(basename "$pcap"): flowcap's $ng keys from the replay are among the $nw of flowcap --read ($((ng * 100 / nw)) % of them)"
	else
		bad "$t.lua with $(basename "$pcap"): done $done_line, $ng keys from the replay ($extra not in the pcap), $nw from --read"
		LC_ALL=C comm -13 "$WORK/$t.want" "$WORK/$t.got" | head -3
		tail -5 "$WORK/$t.pg"
	fi
done

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
