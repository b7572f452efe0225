#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Payload classification (--classify) and --key-vlan. Labels are exact:
# tshark's payload fields and Python's re with the same rules
# (tests/oracle/label-oracle.py) give the same labelled rows as flowcap,
# through --read and through net_pcap with two workers. The label is a key
# field that corsaro output sums away; a bad rules file is refused naming
# file and line. SIGHUP 100 times while packets flow, alternating two rule
# sets: conservation holds and every record's label is one the rule sets
# give its packets; an interval not flagged rules-changed has labels of
# one rule set only.
. "$(dirname "$0")/lib.sh"

command -v tshark >/dev/null || { bad "tshark missing (install-deps.sh)"; finish; }
REAL="$FC_SHARED/pcaps/real"
LABEL_ORACLE="$FC_SRC/tests/oracle/label-oracle.py"
RULES="$TMP/all.rules"
cat "$FC_SRC/rules/telescope.rules" >"$RULES"
cat >>"$RULES" <<'R'
ftp-user     tcp  21        /^USER /
smb2         tcp  445       /^\x00...\xfeSMB/s
dns-reply    udp  53        /^..[\x80-\xff]/s
http-resp    tcp  any       /^HTTP\/1\.[01] [0-9]{3}/
R

# flowcap's labelled TCP/UDP rows as the oracle prints them.
flabels() {
	"$FCREAD" --format csv "$1"/*.ft.zst | tail -n +2 |
		awk -F, '$12 != "" && ($7 == 6 || $7 == 17) {
			k = $3 "," $4 "," $5 "," $6 "," $7 "," $12; s[k] += $11 }
			END { for (k in s) print k "," s[k] }' | LC_ALL=C sort
}

for t in pcapplusplus-example-tcp-mix 1kxun-app-mix lan-smb2-mixed \
	dns-amplification-ipv4-fragments lan-ftp-mixed-ipv4opt-ipv6 \
	wechat-app gnutella-lan-mix; do
	T="$REAL/$t.pcap"
	d="$TMP/$t"
	mkdir -p "$d/a" "$d/n"
	python3 "$LABEL_ORACLE" "$T" "$RULES" --labelled >"$d/oracle"
	if ! "$FLOWCAP" --read "$T" --out "$d/a" --classify "$RULES" \
		>"$d/a.log" 2>&1; then
		bad "$t: exit"; tail -3 "$d/a.log"; continue
	fi
	flabels "$d/a" >"$d/got"
	# The label splits rows, never packets: corsaro's text (labels
	# summed away) is that of a run without --classify.
	"$FLOWCAP" --read "$T" --out "$d/n" >/dev/null 2>&1
	"$FCREAD" --format corsaro "$d/a" >"$d/a.cors"
	"$FCREAD" --format corsaro "$d/n" >"$d/n.cors"
	if [ -s "$d/oracle" ] && same_rows "$d/oracle" "$d/got" &&
		cmp -s "$d/a.cors" "$d/n.cors" &&
		grep -q "^flowcap: conservation OK" "$d/a.log"; then
		ok "$t --read: $(wc -l <"$d/got") labelled rows as the oracle's; corsaro text unchanged"
	else
		bad "$t --read: labelled rows or corsaro differ"
	fi
done

# Through net_pcap with two workers: two RX queues, the trace split by
# tcpdump, the rules run by the workers.
for t in pcapplusplus-example-tcp-mix lan-ftp-mixed-ipv4opt-ipv6; do
	T="$REAL/$t.pcap"
	d="$TMP/np-$t"
	mkdir -p "$d/a"
	tcpdump -r "$T" -w "$d/q0.pcap" tcp 2>/dev/null
	tcpdump -r "$T" -w "$d/q1.pcap" not tcp 2>/dev/null
	python3 "$LABEL_ORACLE" "$T" "$RULES" --labelled >"$d/oracle"
	# shellcheck disable=SC2046
	if ! "$FLOWCAP" $(eal 2) \
		--vdev "net_pcap0,rx_pcap=$d/q0.pcap,rx_pcap=$d/q1.pcap" -- \
		--out "$d/a" --workers 2 --classify "$RULES" --idle-exit 0.2 \
		>"$d/a.log" 2>&1; then
		bad "$t net_pcap: exit"; tail -5 "$d/a.log"; continue
	fi
	flabels "$d/a" >"$d/got"
	if [ -s "$d/oracle" ] && same_rows "$d/oracle" "$d/got"; then
		ok "$t net_pcap, 2 workers: labelled rows as the oracle's"
	else
		bad "$t net_pcap, 2 workers: labelled rows differ"
	fi
done

# Files without --classify keep their CSV header; files with it end the
# header with label (and vlan with --key-vlan), JSON has "label".
T="$REAL/smb-file-transfer-all-vlan.pcap"
mkdir -p "$TMP/v" "$TMP/p"
"$FLOWCAP" --read "$T" --out "$TMP/v" --classify "$RULES" --key-vlan >/dev/null 2>&1
"$FLOWCAP" --read "$T" --out "$TMP/p" >/dev/null 2>&1
h1=$("$FCREAD" --format csv "$TMP/p" | head -1)
h2=$("$FCREAD" --format csv "$TMP/v" | head -1)
# The outermost VLAN ID per packet, from tshark, against the vlan column.
tshark -n -r "$T" -Y ip -T fields -E occurrence=f -e vlan.id 2>/dev/null |
	sort | uniq -c | awk '{ print $2 "," $1 }' | LC_ALL=C sort >"$TMP/v.want"
"$FCREAD" --format csv "$TMP/v" | tail -n +2 |
	awk -F, '{ s[$13] += $11 } END { for (k in s) print k "," s[k] }' |
	LC_ALL=C sort >"$TMP/v.got"
if [ "$h1" = "interval_start,class,src_ip,dst_ip,src_port,dst_port,protocol,ttl,tcp_flags,ip_len,packets" ] &&
	[ "$h2" = "$h1,label,vlan" ] && same_rows "$TMP/v.want" "$TMP/v.got" &&
	"$FCREAD" --format json "$TMP/v" | head -1 | grep -q '"label":"[a-z0-9_.-]*","vlan":[0-9]*}$'; then
	ok "csv header unchanged without --classify; label,vlan with; VLAN IDs as tshark's ($(cat "$TMP/v.got" | tr '\n' ' '))"
else
	bad "header or vlan: '$h1' / '$h2'"; diff "$TMP/v.want" "$TMP/v.got" | head -3
fi

# Bad rules files: exit 2 before anything starts, naming file and line.
T="$REAL/tcpreplay-test-mix.pcap"
mkdir -p "$TMP/bad"
badcase() { # NAME CONTENT EXPECTED-REGEX
	printf '%b' "$2" >"$TMP/$1.rules"
	set +e
	"$FLOWCAP" --read "$T" --out "$TMP/bad" --classify "$TMP/$1.rules" \
		>"$TMP/$1.log" 2>&1
	rc=$?
	set -e
	if [ "$rc" -eq 2 ] && grep -q "$3" "$TMP/$1.log" && [ -z "$(ls "$TMP/bad")" ]; then
		ok "bad rules ($1): exit 2, $(head -c 100 "$TMP/$1.log")"
	else
		bad "bad rules ($1): exit $rc"; cat "$TMP/$1.log"
	fi
}
badcase proto 'a tcp any /x/\n# c\nb tcpp any /x/\n' "^flowcap: --classify: $TMP/proto.rules:3: the protocol"
badcase hyperscan 'a tcp any /x/\nb udp 53 /(a)\\1/\n' "^flowcap: --classify: $TMP/hyperscan.rules:2: pattern /(a)\\\\1/: Hyperscan refuses it"
badcase binary 'a tcp any /x/\n\0\1\2\n' "$TMP/binary.rules: holds a NUL byte"
head -c 17000000 /dev/zero | tr '\0' 'a' >"$TMP/huge.rules"
set +e
"$FLOWCAP" --read "$T" --out "$TMP/bad" --classify "$TMP/huge.rules" >"$TMP/huge.log" 2>&1
rc=$?
"$FLOWCAP" --read "$T" --out "$TMP/bad" --classify "$TMP/none.rules" >"$TMP/none.log" 2>&1
rc2=$?
set -e
if [ "$rc" -eq 2 ] && grep -q "huge.rules' is larger than 16 MiB" "$TMP/huge.log" &&
	[ "$rc2" -eq 2 ] && grep -q "cannot read rules file '$TMP/none.rules'" "$TMP/none.log"; then
	ok "huge and missing rules files: exit 2, named"
else
	bad "huge/missing rules: $rc $rc2"
fi
# 10,000 rules: compiled, and the run goes on.
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "r%d udp %d /^pat%05dz/\n", i % 4000, 1000 + i, i }' >"$TMP/big.rules"
mkdir -p "$TMP/big"
if "$FLOWCAP" --read "$T" --out "$TMP/big" --classify "$TMP/big.rules" >"$TMP/big.log" 2>&1 &&
	grep -q "^flowcap: conservation OK" "$TMP/big.log"; then
	ok "10,000 rules: compiled, run complete"
else
	bad "10,000 rules"; tail -3 "$TMP/big.log"
fi

# Live reload: 100 SIGHUPs alternating two rule sets while net_pcap
# replays a trace in a loop. Set A and set B label the same packets with
# different names.
T="$REAL/pcapplusplus-example-tcp-mix.pcap"
sed 's/^\([a-z]\)/a-\1/' "$RULES" | sed 's/^a-#/#/' >"$TMP/A.rules"
sed 's/^\([a-z]\)/b-\1/' "$RULES" | sed 's/^b-#/#/' >"$TMP/B.rules"
python3 "$LABEL_ORACLE" "$T" "$TMP/A.rules" >"$TMP/A.oracle"
python3 "$LABEL_ORACLE" "$T" "$TMP/B.rules" >"$TMP/B.oracle"
cp "$TMP/A.rules" "$TMP/live.rules"
mkdir -p "$TMP/hup"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 2) --vdev "net_pcap0,rx_pcap=$T,infinite_rx=1" -- \
	--out "$TMP/hup" --interval 1 --classify "$TMP/live.rules" \
	>"$TMP/hup.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$TMP"' EXIT
reloads() { grep -c "^flowcap: reload: generation" "$TMP/hup.log" || true; }
k=0
if poll 60 grep -q "^flowcap: wrote " "$TMP/hup.log"; then
	while [ "$k" -lt 100 ]; do
		if [ $((k % 2)) -eq 0 ]; then s=B; else s=A; fi
		cp "$TMP/$s.rules" "$TMP/live.tmp"
		mv "$TMP/live.tmp" "$TMP/live.rules"
		kill -HUP "$pid"
		k=$((k + 1))
		poll 30 sh -c "[ \$(grep -c '^flowcap: reload: generation' '$TMP/hup.log') -ge $k ]" || break
	done
	# One more interval after the last reload, then stop.
	n0=$(grep -c "^flowcap: wrote " "$TMP/hup.log")
	poll 30 sh -c "[ \$(grep -c '^flowcap: wrote ' '$TMP/hup.log') -gt $((n0 + 1)) ]" || true
fi
kill -INT "$pid"
set +e
wait "$pid"
rc=$?
set -e
trap 'rm -rf "$TMP"' EXIT
# Every record's label: one that set A or set B gives some packet of its
# 5-tuple (or none). Intervals without rules-changed: one set only.
"$FCREAD" --format csv "$TMP/hup"/*.ft.zst | tail -n +2 >"$TMP/hup.rows"
python3 - "$TMP/hup.rows" "$TMP/A.oracle" "$TMP/B.oracle" >"$TMP/hup.check" <<'PY'
import sys
allowed = {}
for f in sys.argv[2:]:
    for line in open(f):
        s, d, sp, dp, p, label, n = line.rstrip("\n").split(",")
        allowed.setdefault((s, d, sp, dp, p), set()).add(label)
bad = 0
for line in open(sys.argv[1]):
    v = line.rstrip("\n").split(",")
    key = (v[2], v[3], v[4], v[5], v[6])
    label = v[11]
    if key in allowed and label not in allowed[key]:
        bad += 1
    if key not in allowed and label != "":
        bad += 1
print(bad)
PY
mixed=0
for f in "$TMP/hup"/*.ft.zst; do
	"$FCREAD" --stats "$f" | grep -q "rules-changed" && continue
	sets=$("$FCREAD" --format csv "$f" | tail -n +2 | cut -d, -f12 |
		grep -v '^$' | cut -c1-2 | sort -u | wc -l)
	[ "$sets" -le 1 ] || mixed=$((mixed + 1))
done
flagged=$("$FCREAD" --stats "$TMP/hup"/*.ft.zst | grep -c "rules-changed" || true)
if [ "$rc" -eq 0 ] && [ "$k" -eq 100 ] && [ "$(reloads)" -eq 100 ] &&
	[ "$(cat "$TMP/hup.check")" -eq 0 ] && [ "$mixed" -eq 0 ] &&
	[ "$flagged" -ge 1 ] &&
	! "$FCREAD" --stats "$TMP/hup"/*.ft.zst | grep '^interval=' | grep -qv 'conservation=ok' &&
	grep -q "^flowcap: conservation OK" "$TMP/hup.log" &&
	grep -q "reloads 100, reload_failed 0" "$TMP/hup.log"; then
	ok "100 SIGHUPs, two rule sets: labels possible, $flagged interval(s) flagged rules-changed, conservation"
else
	bad "reload x100: exit $rc, $k sent, $(reloads) done, bad labels $(cat "$TMP/hup.check"), mixed $mixed, flagged $flagged"
	tail -5 "$TMP/hup.log"
fi
# --classify-cache: the first run compiles and writes the database, the
# next loads it (no compile) and writes the same records; a cache that is
# not a directory, or without --classify, is a bad command line.
T="$REAL/pcapplusplus-example-tcp-mix.pcap"
mkdir -p "$TMP/cache" "$TMP/c1" "$TMP/c2"
"$FLOWCAP" --read "$T" --out "$TMP/c1" --classify "$RULES" \
	--classify-cache "$TMP/cache" >"$TMP/c1.log" 2>&1
"$FLOWCAP" --read "$T" --out "$TMP/c2" --classify "$RULES" \
	--classify-cache "$TMP/cache" >"$TMP/c2.log" 2>&1
rows "$TMP/c1" >"$TMP/c1.rows"
rows "$TMP/c2" >"$TMP/c2.rows"
set +e
"$FLOWCAP" --read "$T" --out "$TMP/c2" --classify "$RULES" \
	--classify-cache "$TMP/c1.log" >"$TMP/c3.log" 2>&1
rc3=$?
"$FLOWCAP" --read "$T" --out "$TMP/c2" \
	--classify-cache "$TMP/cache" >"$TMP/c4.log" 2>&1
rc4=$?
set -e
if grep -q "rules compiled and cached in" "$TMP/c1.log" &&
	grep -q "rules loaded from --classify-cache in" "$TMP/c2.log" &&
	[ "$(find "$TMP/cache" -name '*.hsdb' | wc -l)" -eq 1 ] &&
	[ -s "$TMP/c1.rows" ] && cmp -s "$TMP/c1.rows" "$TMP/c2.rows" &&
	grep -q "label" "$TMP/c2.log" &&
	[ "$rc3" -eq 2 ] && grep -q "is not a directory" "$TMP/c3.log" &&
	[ "$rc4" -eq 2 ] && grep -q "applies to --classify RULES" "$TMP/c4.log"; then
	ok "--classify-cache: compiled once, loaded the next time, same records; bad uses exit 2"
else
	bad "--classify-cache: $(grep -h "classify" "$TMP/c1.log" "$TMP/c2.log" | head -3), exits $rc3 $rc4"
fi
finish
