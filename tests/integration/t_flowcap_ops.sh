#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# What monitoring sees: the --metrics-file (checked by Prometheus's own
# promtool, its values against the exit summary and the files) and the
# /flowcap/ commands on DPDK's telemetry socket, read during a net_pcap
# replay with a small client of our own and checked against the files
# written so far and the summary at exit. The alert rules of
# doc/operations.md are checked by promtool too.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PREFIX="fc-ops-$$"
RUNDIR="/var/run/dpdk/$PREFIX"
PID=""
cleanup() {
	[ -z "$PID" ] || kill -KILL "$PID" 2>/dev/null || true
	[ -z "$PID" ] || wait "$PID" 2>/dev/null || true
	rm -rf "$RUNDIR" "$TMP"
}
trap cleanup EXIT
TQ="python3 $FC_SRC/tests/integration/telemetry-query.py"

command -v promtool >/dev/null || {
	bad "promtool missing: apt-get install prometheus (dpdk-scripts/install-deps.sh)"
	finish
}

# metric NAME[{labels}] FILE: the value of one sample.
metric() {
	awk -v m="$1" '$1 == m { print $2; f = 1 } END { exit !f }' "$2"
}
# summary_field TEXT LOG: the number before TEXT in the summary line.
summary_field() {
	sed -n "s/^flowcap: summary: .*[^0-9]\([0-9][0-9]*\) $1.*/\1/p;
		s/^flowcap: summary: \([0-9][0-9]*\) $1.*/\1/p" "$2" | head -n 1
}

# --- 1. --metrics-file on a trace with rejects: every value = summary ---
T=$FC_SHARED/pcaps/real/many-protocols-vlan-ipv6-llc.pcap
mkdir -p "$TMP/tr" "$TMP/prom"
"$FLOWCAP" --read "$T" --out "$TMP/tr" --metrics-file "$TMP/prom/flowcap.prom" \
	>"$TMP/tr.log" 2>&1 || bad "trace run failed: $(tail -n 2 "$TMP/tr.log")"
M=$TMP/prom/flowcap.prom
if promtool check metrics <"$M" >"$TMP/promtool.out" 2>&1; then
	ok "promtool check metrics accepts the textfile"
else
	bad "promtool check metrics: $(head -n 3 "$TMP/promtool.out")"
fi
if [ ! -e "$M.tmp" ]; then ok "no $M.tmp left"; else bad "$M.tmp left behind"; fi
rx=$(summary_field "packets received" "$TMP/tr.log")
rec=$(sed -n 's/^flowcap: summary: [0-9]* packets received, \([0-9]*\) in records.*/\1/p' "$TMP/tr.log")
lost=$(sed -n 's/^flowcap: summary: .* in records, \([0-9]*\) lost.*/\1/p' "$TMP/tr.log")
rej=$(sed -n 's/^flowcap: summary: .* lost, \([0-9]*\) rejected.*/\1/p' "$TMP/tr.log")
ivw=$(sed -n 's/^flowcap: summary: .*; \([0-9]*\) intervals written.*/\1/p' "$TMP/tr.log")
check_eq() { # WHAT GOT WANT
	if [ -n "$3" ] && [ "$2" = "$3" ]; then ok "$1 = $3"; else bad "$1: got '$2', summary says '$3'"; fi
}
check_eq "received" "$(metric flowcap_interval_packets_received_total "$M")" "$rx"
check_eq "in records" "$(metric flowcap_interval_packets_recorded_total "$M")" "$rec"
check_eq "lost" "$(metric flowcap_packets_lost_total "$M")" "$lost"
check_eq "rejected" "$(metric flowcap_packets_rejected_total "$M")" "$rej"
check_eq "intervals written" "$(metric flowcap_intervals_written_total "$M")" "$ivw"
check_eq "worker 0 received" "$(metric 'flowcap_packets_received_total{worker="0"}' "$M")" "$rx"
[ "$rej" -gt 0 ] || bad "the trace should have rejects (not_ip): the test proves nothing"
# Every counter of the summary, by name; and every drop reason of the
# textfile that the summary does not list is 0.
n=0
for r in $(sed -n 's/^flowcap:   \([a-z_0-9]*\) *\([0-9]*\) (\(lost\|rejected\))$/\1=\2/p' "$TMP/tr.log"); do
	got=$(awk -v r="${r%=*}" -F'[{}" ]' '$1 == "flowcap_drops_total" && $3 == r { print $NF }' "$M")
	check_eq "drops_total{reason=\"${r%=*}\"}" "$got" "${r#*=}"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || bad "no counter line in the summary"
others=$(awk '$1 ~ /^flowcap_drops_total/ && $2 != 0' "$M" | wc -l)
check_eq "non-zero drop reasons" "$others" "$n"

# --- 2. bad --metrics-file: exit 2, naming it ---
out=$("$FLOWCAP" --read "$T" --out "$TMP/tr" --metrics-file "$TMP/nodir/x.prom" 2>&1) && rc=0 || rc=$?
if [ "$rc" = 2 ] && echo "$out" | grep -q "metrics-file '$TMP/nodir/x.prom': directory '$TMP/nodir' does not exist"; then
	ok "--metrics-file in a missing directory: exit 2, said"
else
	bad "--metrics-file in a missing directory: exit $rc: $out"
fi

# --- 2b. a capture filter: what it refuses is filtered, never lost ---
mkdir -p "$TMP/flt"
"$FLOWCAP" --read "$T" --out "$TMP/flt" --filter tcp \
	--metrics-file "$TMP/prom/flt.prom" >"$TMP/flt.log" 2>&1 ||
	bad "filtered run failed: $(tail -n 2 "$TMP/flt.log")"
F=$TMP/prom/flt.prom
nf=$(sed -n 's/^flowcap:   filtered *\([0-9]*\).*/\1/p' "$TMP/flt.log")
if promtool check metrics <"$F" >/dev/null 2>&1 && [ "${nf:-0}" -gt 0 ] &&
	[ "$(metric flowcap_packets_filtered_total "$F")" = "$nf" ] &&
	[ "$(metric 'flowcap_drops_total{reason="filtered",kind="filtered"}' "$F")" = "$nf" ] &&
	[ "$(metric flowcap_packets_lost_total "$F")" = "$(summary_field lost "$TMP/flt.log")" ]; then
	ok "--filter: $nf packets filtered, as the summary says, and not counted lost"
else
	bad "--filter metrics: filtered '$nf' vs $(grep -E 'filtered|lost_total' "$F" | tr '\n' ' ')"
fi

# --- 3. telemetry during a replay, and the metrics file at exit ---
# 20000 packets at 1000 pps from an aligned second: 4 intervals of 5 s.
"$FCGEN" -q -o "$TMP/g.pcap" -n 20000 -f 500 --rate 1000 --start 1700000000
mkdir -p "$TMP/live"
"$FLOWCAP" --no-huge --no-shconf -m 512 --no-pci --file-prefix "$PREFIX" \
	--log-level=lib.eal:error "--lcores=(0-2)@(0-$((NCPU - 1)))" \
	--vdev "net_pcap0,rx_pcap=$TMP/g.pcap" -- --out "$TMP/live" \
	--interval 5 --idle-exit 600 --metrics-file "$TMP/prom/live.prom" \
	>"$TMP/live.log" 2>&1 &
PID=$!
SOCK=$RUNDIR/dpdk_telemetry.v2
# All packets in, and the three complete intervals written: the fourth
# is written at the stop.
settled() {
	$TQ "$SOCK" /flowcap/stats >"$TMP/st.json" 2>/dev/null &&
		python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["/flowcap/stats"]
sys.exit(not (s["workers_rx"] == 20000 and s["intervals_written"] == 3))' "$TMP/st.json"
}
if poll 60 settled; then
	ok "telemetry: /flowcap/stats answers during the replay"
else
	bad "telemetry: no settled answer from $SOCK: $(head -c 300 "$TMP/st.json" 2>/dev/null)"
fi
if [ -e "$TMP/prom/live.prom" ] && promtool check metrics <"$TMP/prom/live.prom" >/dev/null 2>&1; then
	ok "metrics file written (and valid) while capturing"
else
	bad "no valid metrics file while capturing"
fi
$TQ "$SOCK" /flowcap/stats /flowcap/workers /flowcap/intervals /flowcap/config / \
	>"$TMP/tel.json" || bad "telemetry query failed"
# Each interval /flowcap/intervals lists agrees with its file.
for f in "$TMP"/live/*.ft.zst; do
	"$FCREAD" --stats "$f"
done >"$TMP/files.txt"
kill -INT "$PID"
wait "$PID" || bad "flowcap exit status $?: $(tail -n 3 "$TMP/live.log")"
PID=""
python3 - "$TMP/tel.json" "$TMP/files.txt" "$TMP/live.log" "$TMP/prom/live.prom" "$TMP/live" <<'EOF' || bad "telemetry and the summary disagree (above)"
import json, re, sys
tel = json.load(open(sys.argv[1]))
files = open(sys.argv[2]).read()
log = open(sys.argv[3]).read()
prom = {}
for line in open(sys.argv[4]):
    if not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        prom[k] = float(v)
out_dir = sys.argv[5]
fail = 0
def check(what, got, want):
    global fail
    if got == want:
        print(f"ok   {what} = {want}")
    else:
        print(f"FAIL {what}: got {got!r}, want {want!r}")
        fail += 1
st, wk, iv, cfg = (tel[c] for c in ("/flowcap/stats", "/flowcap/workers",
                                    "/flowcap/intervals", "/flowcap/config"))
check("/ lists the flowcap commands", sorted(c for c in tel["/"] if c.startswith("/flowcap/")),
      ["/flowcap/config", "/flowcap/intervals", "/flowcap/stats", "/flowcap/workers"])
check("config interval", cfg["interval"], 5)
check("config out", cfg["out"], out_dir)
check("config input", cfg["input"], "ports")
# Interval accounting per file (flowcap-read --stats).
acc = {}
for m in re.finditer(r"interval=(\d+) start=(\d+) .*? rx_pkts=(\d+) rec_pkts=(\d+) records=(\d+)", files):
    acc[int(m.group(2))] = tuple(int(x) for x in m.group(3, 4, 5))
check("intervals listed", len(iv), 3)
for k, e in iv.items():
    check(f"interval {k} (start {e['start']}) received/packets/records = its file's",
          (e["received"], e["packets"], e["records"]), acc.get(e["start"]))
    check(f"interval {k} conservation", e["conservation"], "ok")
    check(f"interval {k} file exists under its name", e["file"].startswith(out_dir + "/") and e["written"] == "yes", True)
check("stats received = sum of the listed intervals", st["received"], sum(e["received"] for e in iv.values()))
check("stats in_records = sum of the listed intervals", st["in_records"], sum(e["packets"] for e in iv.values()))
check("workers rx = stats workers_rx", sum(w["rx_pkts"] for w in wk.values()), st["workers_rx"])
# At exit: the summary.
m = re.search(r"summary: (\d+) packets received, (\d+) in records, (\d+) lost, (\d+) rejected .*?; (\d+) intervals written", log)
rx, rec, lost, rej, ivw = (int(x) for x in m.groups())
check("summary received = telemetry workers rx", rx, st["workers_rx"])
check("summary intervals written = telemetry + the last", ivw, st["intervals_written"] + 1)
check("summary lost = telemetry lost (none lost)", lost, st["lost"])
check("summary rejected = telemetry rejected", rej, st["rejected"])
check("metrics at exit: received = summary", prom["flowcap_interval_packets_received_total"], rx)
check("metrics at exit: in records = summary", prom["flowcap_interval_packets_recorded_total"], rec)
check("metrics at exit: intervals written = summary", prom["flowcap_intervals_written_total"], ivw)
check("metrics at exit: worker rx = summary", prom['flowcap_packets_received_total{worker="0"}'], rx)
check("metrics at exit: backlog", prom["flowcap_collector_backlog"], 0)
sys.exit(1 if fail else 0)
EOF
if [ ! -e "$RUNDIR/dpdk_telemetry.v2" ]; then
	ok "telemetry socket removed at exit"
else
	bad "telemetry socket left at exit"
fi

# --- 3b. /flowcap/reload: there only with something to reload; it does
# what SIGHUP does, in the control thread; a bad filter file changes
# nothing and says so ---
printf 'tcp or udp\n' >"$TMP/flt.txt"
mkdir -p "$TMP/rl"
"$FLOWCAP" --no-huge --no-shconf -m 512 --no-pci --file-prefix "$PREFIX" \
	--log-level=lib.eal:error "--lcores=(0-2)@(0-$((NCPU - 1)))" \
	--vdev "net_pcap0,rx_pcap=$TMP/g.pcap" -- --out "$TMP/rl" \
	--interval 5 --idle-exit 600 --filter-file "$TMP/flt.txt" \
	>"$TMP/rl.log" 2>&1 &
PID=$!
received() {
	$TQ "$SOCK" /flowcap/stats >"$TMP/rs.json" 2>/dev/null &&
		python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["/flowcap/stats"]
sys.exit(not s["workers_rx"] == 20000)' "$TMP/rs.json"
}
poll 60 received || bad "reload run: no answer from $SOCK"
printf 'udp\n' >"$TMP/flt.txt"
$TQ "$SOCK" / /flowcap/reload >"$TMP/rl1.json" 2>&1 || bad "reload query failed"
printf 'udp and (\n' >"$TMP/flt.txt"
$TQ "$SOCK" /flowcap/reload >"$TMP/rl2.json" 2>&1 || bad "second reload query failed"
kill -INT "$PID"
wait "$PID" || bad "reload run: exit status $?: $(tail -n 3 "$TMP/rl.log")"
PID=""
if python3 - "$TMP/rl1.json" "$TMP/rl2.json" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
ok = ("/flowcap/reload" in a["/"] and a["/flowcap/reload"]["result"] == "ok"
      and b["/flowcap/reload"]["result"] == "failed")
sys.exit(0 if ok else 1)
EOF
then
	if grep -q "reload: generation 2 in force, filter udp" "$TMP/rl.log" &&
		grep -q "reload failed, the rules in force stay" "$TMP/rl.log"; then
		ok "/flowcap/reload: listed with a filter; a new filter file taken, a bad one refused, as the log says"
	else
		bad "/flowcap/reload answered, but the log says otherwise: $(grep reload "$TMP/rl.log")"
	fi
else
	bad "/flowcap/reload answers: $(cat "$TMP/rl1.json" "$TMP/rl2.json" | head -c 400)"
fi
# Without rules or a filter there is nothing to reload and no command:
# section 3's run lists only the four others.

# --- 4. the alert rules of doc/operations.md ---
R=$FC_SRC/dpdk-scripts/flowcap-alerts.yml
if promtool check rules "$R" >"$TMP/rules.out" 2>&1; then
	ok "promtool check rules accepts $R"
else
	bad "promtool check rules: $(head -n 5 "$TMP/rules.out")"
fi
sed -n '/^<!-- flowcap-alerts.yml -->/,/^```$/p' "$FC_SRC/doc/operations.md" |
	sed '1,2d;$d' >"$TMP/doc-rules.yml"
if cmp -s "$TMP/doc-rules.yml" "$R"; then
	ok "doc/operations.md shows the rules file as it is"
else
	bad "doc/operations.md and $R differ: $(diff "$TMP/doc-rules.yml" "$R" | head -n 5)"
fi
if promtool test rules "$FC_SRC/tests/integration/flowcap-alerts.test.yml" >"$TMP/rt.out" 2>&1; then
	ok "promtool test rules: each alert fires when it should and not before"
else
	bad "promtool test rules: $(tail -n 15 "$TMP/rt.out")"
fi
finish
