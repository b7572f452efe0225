#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# flowcap-read on known content: every output format, --stats, --verify,
# time order across files, and the error paths (exit codes, messages with
# the file name and byte offset). Known content comes from the ft-mkfile
# example; Corsaro's own cors2ascii output is compared byte for byte on the
# real traces where flowcap and Corsaro see the same packets.
. "$(dirname "$0")/lib.sh"

MK="$FC_BUILD/app/examples/ft-mkfile"
TOP="$FC_BUILD/app/examples/ft-top"
D="$TMP/demo.ft.zst"

check() { # name, expected file, actual file
	if cmp -s "$2" "$3"; then ok "$1"; else bad "$1"; diff "$2" "$3" | head -n 10; fi
}

"$MK" "$D" || { bad "ft-mkfile"; finish; exit 1; }

cat >"$TMP/want.csv" <<'EOF'
interval_start,class,src_ip,dst_ip,src_port,dst_port,protocol,ttl,tcp_flags,ip_len,packets
1700000000,backscatter,192.0.2.1,198.51.100.7,80,40000,6,57,18,40,3
1700000000,backscatter,2001:db8::1,2001:db8:1::2,443,51000,6,60,20,60,1
1700000000,icmpreq,203.0.113.9,198.51.100.8,8,0,1,64,0,84,2
1700000000,other,10.0.0.1,198.51.100.9,40001,23,6,241,2,40,1
1700000000,other,10.0.0.1,198.51.100.9,40001,23,6,241,2,44,5
1700000000,other,fe80::1,ff02::1:ff00:1,5353,5353,17,255,0,88,4
1700000300,other,192.0.2.200,198.51.100.1,1234,53,17,50,0,71,7
EOF
"$FCREAD" --format csv "$D" >"$TMP/got.csv"
check "csv" "$TMP/want.csv" "$TMP/got.csv"
"$FCREAD" "$D" >"$TMP/got.default"
check "csv is the default when stdout is not a terminal" "$TMP/want.csv" "$TMP/got.default"

empty_iv() { # index start end
	printf '# CORSARO_INTERVAL_START %s %s\n' "$1" "$2"
	for c in backscatter icmpreq other; do
		printf 'START flowtuple_%s 0\nEND flowtuple_%s\n' "$c" "$c"
	done
	printf '# CORSARO_INTERVAL_END %s %s\n' "$1" "$3"
}
{
	cat <<'EOF'
# CORSARO_INTERVAL_START 0 1700000000
START flowtuple_backscatter 2
192.0.2.1|198.51.100.7|80|40000|6|57|0x12|40,3
2001:db8::1|2001:db8:1::2|443|51000|6|60|0x14|60,1
END flowtuple_backscatter
START flowtuple_icmpreq 1
203.0.113.9|198.51.100.8|8|0|1|64|0x00|84,2
END flowtuple_icmpreq
START flowtuple_other 3
10.0.0.1|198.51.100.9|40001|23|6|241|0x02|40,1
10.0.0.1|198.51.100.9|40001|23|6|241|0x02|44,5
fe80::1|ff02::1:ff00:1|5353|5353|17|255|0x00|88,4
END flowtuple_other
# CORSARO_INTERVAL_END 0 1700000059
EOF
	empty_iv 1 1700000060 1700000119
	empty_iv 2 1700000120 1700000179
	empty_iv 3 1700000180 1700000239
	empty_iv 4 1700000240 1700000299
	cat <<'EOF'
# CORSARO_INTERVAL_START 5 1700000300
START flowtuple_backscatter 0
END flowtuple_backscatter
START flowtuple_icmpreq 0
END flowtuple_icmpreq
START flowtuple_other 1
192.0.2.200|198.51.100.1|1234|53|17|50|0x00|71,7
END flowtuple_other
# CORSARO_INTERVAL_END 5 1700000310
EOF
} >"$TMP/want.cors"
"$FCREAD" --format corsaro "$D" >"$TMP/got.cors"
check "corsaro (gap expanded into empty intervals)" "$TMP/want.cors" "$TMP/got.cors"

"$FCREAD" --format json "$D" >"$TMP/got.json"
first='{"interval_start":1700000000,"class":"backscatter","src_ip":"192.0.2.1","dst_ip":"198.51.100.7","src_port":80,"dst_port":40000,"protocol":6,"ttl":57,"tcp_flags":18,"ip_len":40,"packets":3}'
if [ "$(wc -l <"$TMP/got.json")" -eq 7 ] && [ "$(head -n 1 "$TMP/got.json")" = "$first" ]; then
	ok "json"
else
	bad "json"; head -n 2 "$TMP/got.json"
fi
if ! python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$TMP/got.json"; then
	bad "json lines parse"
fi

cat >"$TMP/want.stats" <<EOF
file=$D version=2.2 monitor=demo interval_len=60 aligned=no created=1700000000 writer=unknown
interval=0 start=1700000000 end=1700000059 flags=- rx_pkts=19 rec_pkts=16 records=6 not_ip=2 trunc_l3=1 drops=3 conservation=ok
interval=1 start=1700000060 end=1700000119 flags=- rx_pkts=0 rec_pkts=0 records=0 drops=0 conservation=ok
interval=2 start=1700000120 end=1700000299 flags=gap rx_pkts=0 rec_pkts=0 records=0 drops=0 conservation=ok
interval=5 start=1700000300 end=1700000310 flags=last rx_pkts=10 rec_pkts=7 records=1 tbl_full=3 late=2 drops=3 conservation=ok
EOF
"$FCREAD" --stats "$D" >"$TMP/got.stats"
check "stats" "$TMP/want.stats" "$TMP/got.stats"

echo "OK $D: 4 intervals, 7 records" >"$TMP/want.verify"
"$FCREAD" --verify "$D" >"$TMP/got.verify"
check "verify" "$TMP/want.verify" "$TMP/got.verify"

# Time order across files, whatever the command-line order.
"$MK" --start 1700001000 "$TMP/later.ft.zst"
"$FCREAD" --format csv "$TMP/later.ft.zst" "$D" | cut -d, -f1 | tail -n +2 | uniq >"$TMP/got.order"
printf '1700000000\n1700000300\n1700001000\n1700001300\n' >"$TMP/want.order"
check "files in time order" "$TMP/want.order" "$TMP/got.order"
n=$("$FCREAD" --format csv "$TMP/later.ft.zst" "$D" | grep -c '^interval_start')
[ "$n" -eq 1 ] && ok "one csv header for many files" || bad "csv header count $n"

if "$TOP" -n 1 "$D" | tail -n 1 | grep -q '^192.0.2.200 *7 *1$'; then ok "ft-top"; else bad "ft-top"; fi
if ! "$TOP" "$TMP/nope.ft.zst" >/dev/null 2>"$TMP/err" &&
	grep -qx "ft-top: $TMP/nope.ft.zst: No such file or directory" "$TMP/err"; then
	ok "ft-top: a missing file, in the system's words"
else
	bad "ft-top: a missing file"; cat "$TMP/err"
fi
set +e
"$MK" --telescope abc "$TMP/never.ft.zst" 2>"$TMP/err"
rc=$?
set -e
if [ "$rc" -eq 2 ] && [ ! -e "$TMP/never.ft.zst" ] && grep -q "telescope needs a number" "$TMP/err"; then
	ok "ft-mkfile: a bad number is refused, exit 2"
else
	bad "ft-mkfile --telescope abc: exit $rc"
fi

# ---- error paths ------------------------------------------------------
size=$(wc -c <"$D")
end_off=$((size - 40)) # the END block's skippable frame

expect_err() { # name, want exit, stderr pattern, then the command
	name=$1 want=$2 pat=$3
	shift 3
	set +e
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	set -e
	if [ "$rc" -eq "$want" ] && grep -q -- "$pat" "$TMP/err"; then
		ok "$name"
	else
		bad "$name (exit $rc, want $want)"; cat "$TMP/err"
	fi
}

head -c $((size - 10)) "$D" >"$TMP/cut.ft.zst"
expect_err "truncated: message with file and offset" 1 \
	"^flowcap-read: $TMP/cut.ft.zst: file is truncated at offset $end_off\$" \
	"$FCREAD" --format csv "$TMP/cut.ft.zst"
grep -q "warning: $TMP/cut.ft.zst was cut short" "$TMP/err" && ok "truncated: warning" || bad "truncated: warning"
check "truncated: complete blocks still printed" "$TMP/want.csv" "$TMP/out"
expect_err "truncated: --verify fails" 1 "file is truncated at offset $end_off" \
	"$FCREAD" --verify "$TMP/cut.ft.zst"
grep -q '^OK' "$TMP/out" && bad "truncated: --verify printed OK" || ok "truncated: --verify prints no OK"

cp "$D" "$TMP/flip.ft.zst"
# The first block starts after the header's frame header (8) and header.
hl=$(od -An -tu4 -j16 -N4 "$D" | tr -d ' ')
b0=$((8 + hl))
printf '\377' | dd of="$TMP/flip.ft.zst" bs=1 seek=$((b0 + 28)) conv=notrunc 2>/dev/null
expect_err "bit flip: checksum error at the block's offset" 1 \
	"^flowcap-read: $TMP/flip.ft.zst: checksum mismatch (file is corrupt) at offset $b0\$" \
	"$FCREAD" --format csv "$TMP/flip.ft.zst"
[ "$(wc -l <"$TMP/out")" -eq 1 ] && ok "bit flip: no record printed" || bad "bit flip: records printed"
expect_err "bit flip: --verify fails" 1 "checksum mismatch" "$FCREAD" --verify "$TMP/flip.ft.zst"

printf 'hello, world\n' >"$TMP/text.ft.zst"
expect_err "not a flowcap file" 1 \
	"^flowcap-read: $TMP/text.ft.zst: not a flowcap flowtuple file (bad magic) at offset 0\$" \
	"$FCREAD" "$TMP/text.ft.zst"
: >"$TMP/empty.ft.zst"
expect_err "empty file" 1 "$TMP/empty.ft.zst: file is truncated at offset 0" \
	"$FCREAD" "$TMP/empty.ft.zst"
expect_err "missing file" 1 "$TMP/nope.ft.zst: cannot read: No such file or directory" \
	"$FCREAD" "$TMP/nope.ft.zst"
expect_err "good and bad files: the good one is printed, exit 1" 1 "text.ft.zst" \
	"$FCREAD" --format csv "$D" "$TMP/text.ft.zst"
check "good and bad files: good rows" "$TMP/want.csv" "$TMP/out"

expect_err "unknown format" 2 "unknown format" "$FCREAD" --format xml "$D"
expect_err "unknown option" 2 "unknown option '--bogus'" "$FCREAD" --bogus "$D"
expect_err "missing value" 2 "needs a value" "$FCREAD" "$D" --format
expect_err "no file" 2 "no FILE or DIR given" "$FCREAD" --format csv
"$FCREAD" --help | grep -q '^Examples:' && ok "help" || bad "help"

# ---- Corsaro's own text, on traces where both see the same packets ----
# (IPv4 only, no MPLS, only TCP/UDP/ICMP: see expected/README.md)
if [ -x "$FLOWCAP" ]; then
	for t in bacnet-amplification-udp dhcp-request-flood-same-timestamp \
		dnscrypt-resolver-pings-frags echo-connections-1000-tcp \
		pcapplusplus-example-tcp-mix smb-file-transfer-all-vlan; do
		pcap="$FC_SHARED/pcaps/real/$t.pcap"
		want="$FC_SHARED/expected/corsaro-unaligned60/$t.cors2ascii.txt"
		[ -f "$pcap" ] && [ -f "$want" ] || { bad "$t: reference missing"; continue; }
		out="$TMP/c-$t"
		mkdir -p "$out"
		# shellcheck disable=SC2046
		"$FLOWCAP" $(eal 1) -- --read "$pcap" --out "$out" --name t \
			--no-align --rotate 1000000 >"$out.log" 2>&1 || { bad "$t: flowcap failed"; continue; }
		"$FCREAD" --format corsaro "$out"/*.ft.zst >"$out.txt"
		check "$t: corsaro text equals cors2ascii" "$want" "$out.txt"
	done
else
	bad "flowcap binary missing: $FLOWCAP"
fi

finish
