#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# flowcap-read's queries against an independent model: for a matrix of
# filters, groupings (with prefixes), distinct counts, top N, re-intervals
# and time ranges, over files flowcap made from real traces and a
# generated one, the CSV a query prints equals what
# tests/oracle/query-oracle.py computes from the plain CSV dump (with the
# filter written as a Python predicate, not parsed by the same code);
# --jobs 1 and --jobs 2 print the same bytes; Crypto-PAn anonymisation
# against the oracle's own Crypto-PAn. Labels and VLAN IDs: files written
# with --classify (two rule sets that number the same names differently)
# and --key-vlan, mixed with plain ones, queried by label name and vlan.
. "$(dirname "$0")/lib.sh"

ORACLE="$FC_SRC/tests/oracle/query-oracle.py"
FT="$TMP/ft"
mkdir -p "$FT"
for t in lan-ftp-mixed-ipv4opt-ipv6 synflood-spoofed-many-flows \
	ipv6-hbh-frag-flood-denial6-6 dns-amplification-ipv4-fragments \
	many-protocols-vlan-ipv6-llc tcpreplay-test-mix; do
	mkdir -p "$FT/$t"
	"$FLOWCAP" --read "$FC_SHARED/pcaps/real/$t.pcap" --out "$FT/$t" \
		>"$TMP/fc.log" 2>&1 || { bad "flowcap --read $t"; cat "$TMP/fc.log"; }
done
g="$TMP/g.pcap"
"$FCGEN" --packets 150000 --flows 6000 --seed 11 --ipv6 0.2 --vlan 0.2 \
	--rate 500 --start 1700000010 -o "$g" >/dev/null
mkdir -p "$FT/gen"
"$FLOWCAP" --read "$g" --out "$FT/gen" >"$TMP/fc.log" 2>&1 ||
	{ bad "flowcap --read generated"; cat "$TMP/fc.log"; }
rm -f "$g"
"$FCREAD" --format csv --jobs 1 "$FT" >"$TMP/rows.csv" 2>"$TMP/dump.err" ||
	{ bad "plain dump"; cat "$TMP/dump.err"; }
n=$(($(wc -l <"$TMP/rows.csv") - 1))
[ "$n" -gt 20000 ] && ok "plain dump: $n records from $(find "$FT" -name '*.ft.zst' | wc -l) files" ||
	bad "plain dump: only $n records"

nq=0
QD=$FT QROWS=$TMP/rows.csv
# query FLOWCAP_FILTER PYTHON_FILTER [options common to both]...
query() {
	ff=$1 pf=$2
	shift 2
	nq=$((nq + 1))
	if [ -n "$ff" ]; then
		"$FCREAD" --format csv --jobs 1 --filter "$ff" "$@" "$QD" >"$TMP/got" 2>"$TMP/err"
	else
		"$FCREAD" --format csv --jobs 1 "$@" "$QD" >"$TMP/got" 2>"$TMP/err"
	fi || { bad "query $nq: '$ff' $*: exit $?"; head -n 3 "$TMP/err"; return; }
	python3 "$ORACLE" --filter "$pf" "$@" "$QROWS" >"$TMP/want" ||
		{ bad "oracle $nq: '$pf' $*"; return; }
	if ! cmp -s "$TMP/want" "$TMP/got"; then
		bad "query $nq: '$ff' $* ($(wc -l <"$TMP/got") rows, oracle $(wc -l <"$TMP/want"))"
		diff "$TMP/want" "$TMP/got" | head -n 6
		return
	fi
	rows=$(($(wc -l <"$TMP/got") - 1))
	if [ -n "$ff" ]; then
		"$FCREAD" --format csv --jobs 2 --filter "$ff" "$@" "$QD" >"$TMP/got2" 2>/dev/null || true
	else
		"$FCREAD" --format csv --jobs 2 "$@" "$QD" >"$TMP/got2" 2>/dev/null || true
	fi
	if cmp -s "$TMP/got" "$TMP/got2"; then
		ok "query $nq: '$ff' $*: $rows rows as the oracle; --jobs 2 the same bytes"
	else
		bad "query $nq: '$ff' $*: --jobs 2 differs from --jobs 1"
	fi
}

# Each filter with a few groupings and options, so that every option meets
# several filters.
query "" "True" --group-by src_ip/24 --top 10
query "" "True" --interval 300
query "" "True" --group-by protocol,class --count-distinct src_ip --count-distinct dst_port --interval all
query "proto tcp" "r['protocol'] == 6" --group-by src_ip/24 --top 10
query "proto tcp" "r['protocol'] == 6" --group-by dst_ip,dst_port --interval 120 --count-distinct src_ip
query "proto udp and port 53" "r['protocol'] == 17 and 53 in (r['src_port'], r['dst_port'])" \
	--group-by src_ip --interval all --top 5 --order records
query "not proto tcp" "r['protocol'] != 6" --group-by protocol,src_ip/16/48 --count-distinct dst_ip
query "src net 192.168.0.0/16 or ipv6" \
	"(r['fam'] == 4 and r['src'] in ipaddress.ip_network('192.168.0.0/16')) or r['fam'] == 6" \
	--group-by src_ip/24/64 --interval all
query "dst port >= 1024 and ttl < 128" "r['dst_port'] >= 1024 and r['ttl'] < 128" \
	--group-by ttl,dst_port --top 3 --order packets
query "flags SA" "r['tcp_flags'] & 0x12 == 0x12" --group-by src_ip/24 --interval all --top 10
query "class backscatter or (proto icmp and len > 100)" \
	"r['class'] == 'backscatter' or (r['protocol'] == 1 and r['ip_len'] > 100)" \
	--group-by class,protocol,ip_len --count-distinct src_ip
query "packets > 1" "r['packets'] > 1" --group-by src_port --top 4 --order distinct_dst_ip --count-distinct dst_ip
query "ip 192.168.0.1" "ipaddress.ip_address('192.168.0.1') in (r['src'], r['dst'])" \
	--group-by dst_ip/120,tcp_flags --interval 60
query "net 2001:db8::/32" \
	"r['fam'] == 6 and any(a in ipaddress.ip_network('2001:db8::/32') for a in (r['src'], r['dst']))" \
	--interval all
query "proto 17 and not (src port 53 or dst port 53)" \
	"r['protocol'] == 17 and r['src_port'] != 53 and r['dst_port'] != 53" \
	--group-by dst_port --count-distinct src_ip --top 5 --order distinct_src_ip
query "ipv4 and src port != 80 and len <= 60" \
	"r['fam'] == 4 and r['src_port'] != 80 and r['ip_len'] <= 60" \
	--group-by src_ip/8,dst_ip/8 --from 1619605800 --to 1700000200
query "class icmpreq or class other" "r['class'] in ('icmpreq', 'other')" \
	--group-by class --count-distinct protocol --count-distinct ttl --interval 600
query "dst port > 1000 and dst port < 2000" "1000 < r['dst_port'] < 2000" \
	--group-by dst_port --interval all --top 7 --order records
query "not (proto tcp or proto udp)" "r['protocol'] not in (6, 17)" \
	--group-by protocol,src_port,dst_port --interval all

# Crypto-PAn: the oracle's own implementation (Python's AES); the filter
# sees the real addresses.
printf '%s' 15 22 17 8d 33 a4 cf 80 13 0a 5b 16 49 90 7d 10 \
	d8 98 8f 83 79 79 65 27 62 57 4c 2d 2a 84 22 02 >"$TMP/key.hex"
query "src net 192.168.0.0/16" "r['fam'] == 4 and r['src'] in ipaddress.ip_network('192.168.0.0/16')" \
	--anonymize "$TMP/key.hex" --group-by src_ip/24,dst_ip --interval all
query "proto tcp" "r['protocol'] == 6" --anonymize "$TMP/key.hex" \
	--group-by src_ip/24/64 --interval all --top 20

# Labels and VLAN IDs. Two rule sets with the same rules in opposite
# orders give the same name different ids in different files; a query
# goes by the name. Files with labels, with VLAN IDs, with both, and
# plain ones, in one directory.
FL="$TMP/fl"
cat "$FC_SRC/rules/telescope.rules" >"$TMP/r1"
cat >>"$TMP/r1" <<'R'
ftp-user     tcp  21        /^USER /
dns-reply    udp  53        /^..[\x80-\xff]/s
http-resp    tcp  any       /^HTTP\/1\.[01] [0-9]{3}/
R
grep -v '^#' "$TMP/r1" | grep -v '^$' | tac >"$TMP/r2"
mkl() { # trace, flowcap options...
	t=$1
	shift
	mkdir -p "$FL/$t"
	"$FLOWCAP" --read "$FC_SHARED/pcaps/real/$t.pcap" --out "$FL/$t" "$@" \
		>"$TMP/fc.log" 2>&1 || { bad "flowcap --read $t $*"; cat "$TMP/fc.log"; }
}
mkl 1kxun-app-mix --classify "$TMP/r1"
mkl pcapplusplus-example-tcp-mix --classify "$TMP/r2"
mkl dns-amplification-ipv4-fragments --classify "$TMP/r2"
mkl lan-ftp-mixed-ipv4opt-ipv6 --classify "$TMP/r1" --key-vlan
mkl many-protocols-vlan-ipv6-llc --classify "$TMP/r1" --key-vlan
mkl smb-file-transfer-all-vlan --key-vlan
mkl tcpreplay-test-mix
# Generated VLAN IDs (1..4094, most of them 256 or more), against
# tshark's outermost VLAN ID per packet.
"$FCGEN" --packets 20000 --flows 2000 --seed 7 --vlan 0.6 --ipv6 0.2 --rate 500 \
	--start 1700000010 -o "$TMP/v.pcap" >/dev/null
mkdir -p "$FL/genvlan"
"$FLOWCAP" --read "$TMP/v.pcap" --out "$FL/genvlan" --key-vlan >"$TMP/fc.log" 2>&1 ||
	{ bad "flowcap --read generated --key-vlan"; tail -n 3 "$TMP/fc.log"; }
tshark -n -r "$TMP/v.pcap" -T fields -E occurrence=f -e vlan.id 2>/dev/null |
	awk '{ s[$1 == "" ? 0 : $1]++ } END { for (v in s) print v "," s[v] }' |
	LC_ALL=C sort >"$TMP/v.want"
rm -f "$TMP/v.pcap"
"$FCREAD" --format csv --group-by vlan --interval all "$FL/genvlan" |
	awk -F, 'NR > 1 { print $1 "," $3 }' | LC_ALL=C sort >"$TMP/v.got"
nvl=$(wc -l <"$TMP/v.want")
cmp -s "$TMP/v.want" "$TMP/v.got" && [ "$nvl" -gt 500 ] &&
	ok "--group-by vlan over generated VLAN IDs: packets per VLAN ID as tshark's ($nvl IDs)" ||
	{ bad "--group-by vlan vs tshark"; diff "$TMP/v.want" "$TMP/v.got" | head -n 4; }
"$FCREAD" --format csv --jobs 1 "$FL" >"$TMP/lrows.csv" 2>"$TMP/dump.err" ||
	{ bad "labelled dump"; cat "$TMP/dump.err"; }
nl=$(awk -F, 'NR > 1 && $12 != ""' "$TMP/lrows.csv" | wc -l)
nv=$(awk -F, 'NR > 1 && $13 != 0' "$TMP/lrows.csv" | wc -l)
nn=$(awk -F, 'NR > 1 { print $12 }' "$TMP/lrows.csv" | sort -u | wc -l)
[ "$nl" -gt 200 ] && [ "$nv" -gt 100 ] && [ "$nn" -ge 6 ] &&
	ok "labelled files: $nl labelled rows ($nn names with the empty one), $nv with a VLAN ID" ||
	bad "labelled files: only $nl labelled rows, $nn names, $nv with a VLAN ID"
QD=$FL QROWS=$TMP/lrows.csv
query "" "True" --group-by label,vlan --interval all
query "" "True" --interval all
query "" "True" --group-by label --count-distinct vlan --count-distinct src_ip --interval 120
query "label http-probe or label http-resp" "r['label'] in ('http-probe', 'http-resp')" \
	--group-by label,src_ip/24 --interval all --top 3
query "not label dns-query and vlan 0" "r['label'] != 'dns-query' and r['vlan'] == 0" \
	--group-by protocol,label --count-distinct dst_port
query "vlan > 0" "r['vlan'] > 0" --group-by vlan,label,protocol --top 4 --order records
query "vlan != 120 and (label tls-hello or proto udp)" \
	"r['vlan'] != 120 and (r['label'] == 'tls-hello' or r['protocol'] == 17)" \
	--group-by dst_port --count-distinct label --top 5 --order distinct_label
query "label dns-reply or label ftp-user" "r['label'] in ('dns-reply', 'ftp-user')" \
	--group-by src_ip,label --anonymize "$TMP/key.hex" --interval all
query "proto tcp" "r['protocol'] == 6" --group-by label --interval all --top 2 --order records
# The dump's --filter by label: the rows the dump itself prints with that
# label, in the same order.
"$FCREAD" --format csv --filter 'label dns-query or vlan 120' "$FL" >"$TMP/lf.csv"
awk -F, 'NR == 1 || $12 == "dns-query" || $13 == 120' "$TMP/lrows.csv" >"$TMP/lfw.csv"
cmp -s "$TMP/lf.csv" "$TMP/lfw.csv" && [ "$(wc -l <"$TMP/lf.csv")" -gt 100 ] &&
	ok "dump --filter 'label dns-query or vlan 120': $(wc -l <"$TMP/lf.csv") lines as awk selects" ||
	bad "dump --filter label: $(wc -l <"$TMP/lf.csv") lines, awk $(wc -l <"$TMP/lfw.csv")"
# JSON and table: the label a string, the vlan a number, as in CSV.
"$FCREAD" --format csv --group-by label,vlan --interval all "$FL" >"$TMP/c"
"$FCREAD" --format json --group-by label,vlan --interval all "$FL" >"$TMP/j"
"$FCREAD" --format table --group-by label,vlan --interval all "$FL" >"$TMP/t"
python3 - "$TMP/c" "$TMP/j" "$TMP/t" <<'PY' && ok "label,vlan in json (string, number) and table as in csv" || bad "label/vlan json/table differ from csv"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
head, body = rows[0], rows[1:]
assert head == ["label", "vlan", "records", "packets"], head
js = [json.loads(l) for l in open(sys.argv[2])]
assert [[j["label"], str(j["vlan"]), str(j["records"]), str(j["packets"])] for j in js] == body
assert all(isinstance(j["label"], str) and isinstance(j["vlan"], int) for j in js)
tb = [l.rstrip("\n") for l in open(sys.argv[3])]
w = len(tb[0]) - len(tb[0].lstrip(" ")) # label is left-aligned: no leading blanks
assert tb[0].split() == head and w == 0
assert [l.split() if l[0] != " " else [""] + l.split() for l in tb[1:]] == body
PY
rc=0
"$FCREAD" --filter 'label HTTP' "$FL" >/dev/null 2>"$TMP/e" || rc=$?
[ "$rc" -eq 2 ] && grep -q "label name is 1 to 31 characters of a-z 0-9 _ . -" "$TMP/e" &&
	ok "--filter 'label HTTP': not a label name, exit 2" || { bad "label HTTP: exit $rc"; cat "$TMP/e"; }

# Plain dumps: --jobs 2 gives the same bytes; a filter and a time range on
# the dump keep exactly the oracle's rows.
"$FCREAD" --format csv --jobs 2 "$FT" >"$TMP/rows2.csv"
cmp -s "$TMP/rows.csv" "$TMP/rows2.csv" && ok "plain dump: --jobs 2 the same bytes" ||
	bad "plain dump: --jobs 2 differs"
"$FCREAD" --format csv --filter 'proto udp' --from 2013-06-17T21:59:00Z "$FT" >"$TMP/f.csv"
awk -F, 'NR == 1 || ($7 == 17 && $1 >= 1371506340)' "$TMP/rows.csv" >"$TMP/fw.csv"
cmp -s "$TMP/f.csv" "$TMP/fw.csv" && [ "$(wc -l <"$TMP/f.csv")" -gt 100 ] &&
	ok "dump --filter 'proto udp' --from ISO 8601: $(wc -l <"$TMP/f.csv") lines as awk selects" ||
	bad "dump --filter --from: $(wc -l <"$TMP/f.csv") lines, awk $(wc -l <"$TMP/fw.csv")"

# Streaming: the groups of an output interval are finished as soon as no
# later input can add to them. Two monitors' copies of the same files (each
# interval in two files, whichever job reads them) must sum; a file whose
# intervals go back in time (ft-reverse writes the generated file's
# intervals in reverse) cannot be streamed: it is read again with one
# table to the end, said on stderr (always with one job), and gives the
# original's bytes.
DUP="$TMP/dup"
mkdir -p "$DUP/a" "$DUP/b"
cp "$FT"/gen/*.ft.zst "$DUP/a/"
cp "$FT"/gen/*.ft.zst "$DUP/b/"
cp "$FT"/synflood-spoofed-many-flows/*.ft.zst "$DUP/b/"
"$FCREAD" --format csv --jobs 1 "$DUP" >"$TMP/duprows.csv" 2>/dev/null
QD=$DUP QROWS=$TMP/duprows.csv
query "" "True" --group-by src_ip/24 --top 5
query "proto tcp" "r['protocol'] == 6" --group-by protocol,dst_port --count-distinct src_ip
query "" "True" --group-by class --interval 120
QD=$FT QROWS=$TMP/rows.csv
RF="$TMP/rf" REV="$TMP/rev"
mkdir -p "$RF" "$REV"
"$FCGEN" --packets 60000 --flows 4000 --seed 5 --ipv6 0.2 --rate 500 \
	--start 1700000010 -o "$TMP/r.pcap" >/dev/null
"$FLOWCAP" --read "$TMP/r.pcap" --interval 10 --rotate 3 --out "$RF" \
	>"$TMP/fc.log" 2>&1 || { bad "flowcap --read --rotate 3"; cat "$TMP/fc.log"; }
rm -f "$TMP/r.pcap"
nrev=0
for f in "$RF"/*.ft.zst; do
	"$FC_BUILD/tests/ft-reverse" "$f" "$REV/$(basename "$f")" || bad "ft-reverse $f"
	nrev=$((nrev + 1))
done
niv=$("$FCREAD" --format csv "$REV" 2>/dev/null | cut -d, -f1 | sort -u | grep -c '^[0-9]')
for j in 1 2; do
	for qa in "--group-by src_ip/24 --top 3" "--group-by protocol,class --count-distinct dst_ip" \
		"--group-by dst_port --interval 20 --top 4 --order records"; do
		# shellcheck disable=SC2086
		"$FCREAD" --format csv --jobs $j $qa "$RF" >"$TMP/fwd" 2>/dev/null
		# shellcheck disable=SC2086
		"$FCREAD" --format csv --jobs $j $qa "$REV" >"$TMP/back" 2>"$TMP/e"
		if cmp -s "$TMP/fwd" "$TMP/back" && [ "$nrev" -ge 3 ] && [ "$niv" -ge 9 ] &&
			[ "$(wc -l <"$TMP/fwd")" -gt "$niv" ] &&
			{ [ "$j" -eq 2 ] || grep -q "intervals go back in time; reading every input again" "$TMP/e"; }; then
			# With two jobs, whether the one that reads a later file
			# opens an interval after the other finished it depends
			# on their pace: the bytes must be the same either way.
			ok "intervals in reverse ($nrev files, $niv intervals), --jobs $j $qa: the same bytes$([ -s "$TMP/e" ] && echo ', read again')"
		else
			bad "intervals in reverse ($nrev files, $niv intervals), --jobs $j $qa"
			diff "$TMP/fwd" "$TMP/back" | head -n 4
			cat "$TMP/e"
		fi
	done
done

# Mistakes: exit 2, a caret under the column, what was expected.
expect_err() { # name, expected stderr (first lines), args...
	name=$1 want=$2
	shift 2
	rc=0
	"$FCREAD" "$@" "$FT" >"$TMP/o" 2>"$TMP/e" || rc=$?
	if [ "$rc" -eq 2 ] && [ ! -s "$TMP/o" ] && printf '%s\n' "$want" | cmp -s - "$TMP/e"; then
		ok "$name"
	else
		bad "$name: exit $rc"; cat "$TMP/e"
	fi
}
expect_err "--filter 'prot tcp': caret and did you mean 'proto'" \
"flowcap-read: bad --filter at column 1: unknown field 'prot' (did you mean 'proto'?)
  prot tcp
  ^" --filter 'prot tcp'
expect_err "--filter with an unclosed '(': caret under it" \
"flowcap-read: bad --filter at column 15: this '(' is never closed
  proto tcp and (src port > 1000 or ipv6
                ^" --filter 'proto tcp and (src port > 1000 or ipv6'
expect_err "--filter 'proto tpc': did you mean 'tcp'" \
"flowcap-read: bad --filter at column 7: unknown protocol 'tpc' (did you mean 'tcp'?)
  proto tpc
        ^" --filter 'proto tpc'
expect_err "--filter 'net 10.0.0.0/33': the prefix length" \
"flowcap-read: bad --filter at column 14: prefix length must be 0 to 32 for IPv4
  net 10.0.0.0/33
               ^" --filter 'net 10.0.0.0/33'
expect_err "--filter 'flags SX': the bad letter" \
"flowcap-read: bad --filter at column 8: unknown TCP flag 'X' (letters: F S R P A U E C)
  flags SX
         ^" --filter 'flags SX'
rc=0
"$FCREAD" --group-by src_ipp "$FT" >/dev/null 2>"$TMP/e" || rc=$?
[ "$rc" -eq 2 ] && grep -q "unknown field 'src_ipp' (did you mean 'src_ip'?)" "$TMP/e" &&
	ok "--group-by src_ipp: did you mean src_ip, exit 2" || { bad "--group-by src_ipp"; cat "$TMP/e"; }
rc=0
"$FCREAD" --interval 90 --group-by class "$FT" >/dev/null 2>"$TMP/e" || rc=$?
[ "$rc" -eq 2 ] && grep -q "interval 90 is not a multiple of the interval length of .* (60 s)" "$TMP/e" &&
	ok "--interval 90 over 60 s files: refused, exit 2" || { bad "--interval 90"; cat "$TMP/e"; }
rc=0
"$FCREAD" --format csv --group-by class "$TMP/nonexistent.ft.zst" >"$TMP/o" 2>"$TMP/e" || rc=$?
[ "$rc" -eq 1 ] && [ ! -s "$TMP/o" ] && grep -q "nonexistent.ft.zst: cannot read" "$TMP/e" &&
	ok "a query whose every input is unreadable: the reason, exit 1, no header" ||
	{ bad "unreadable input: exit $rc, $(wc -l <"$TMP/o") lines out"; cat "$TMP/e"; }
noted() { # what, expected row count, options...
	what=$1 want=$2
	shift 2
	rc=0
	"$FCREAD" --format csv "$@" --interval all "$FT" >"$TMP/o" 2>"$TMP/e" || rc=$?
	[ "$rc" -eq 0 ] && grep -q "note: no input has \(labels\|VLAN IDs\)" "$TMP/e" &&
		[ "$(wc -l <"$TMP/o")" -eq "$want" ] &&
		ok "$what on files without the column: $((want - 1)) rows (empty label, vlan 0), a note" ||
		{ bad "$what on plain files: exit $rc, $(wc -l <"$TMP/o") lines"; cat "$TMP/e"; }
}
noted "--filter 'label scanner'" 1 --filter 'label scanner'
noted "--group-by vlan" 2 --group-by vlan
noted "--count-distinct label" 2 --group-by protocol --count-distinct label --filter 'proto tcp'
rc=0
"$FCREAD" --order bytes --top 3 "$FT" >/dev/null 2>"$TMP/e" || rc=$?
[ "$rc" -eq 2 ] && grep -q "unknown column 'bytes'" "$TMP/e" &&
	ok "--order bytes: refused, exit 2" || { bad "--order bytes"; cat "$TMP/e"; }
rc=0
"$FCREAD" --from yesterday --interval all "$FT" >/dev/null 2>"$TMP/e" || rc=$?
[ "$rc" -eq 2 ] && grep -q "'yesterday' is not a time" "$TMP/e" &&
	ok "--from yesterday: refused, exit 2" || { bad "--from yesterday"; cat "$TMP/e"; }

# A directory with unfinished files: skipped and counted on stderr.
cp "$(find "$FT/gen" -name '*.ft.zst' | head -n 1)" "$FT/gen/x.ft.zst.tmp"
: >"$FT/gen/y.ft.zst.incomplete"
"$FCREAD" --interval all --group-by class "$FT" >"$TMP/o" 2>"$TMP/e"
grep -q "skipped 2 unfinished file(s)" "$TMP/e" &&
	ok "query over a directory: .tmp and .incomplete skipped and counted" ||
	{ bad "unfinished files"; cat "$TMP/e"; }
rm -f "$FT/gen/x.ft.zst.tmp" "$FT/gen/y.ft.zst.incomplete"

# JSON and table carry the same columns and values as CSV.
"$FCREAD" --format csv --group-by src_ip/24 --count-distinct dst_port --top 3 "$FT" >"$TMP/c"
"$FCREAD" --format json --group-by src_ip/24 --count-distinct dst_port --top 3 "$FT" >"$TMP/j"
"$FCREAD" --format table --group-by src_ip/24 --count-distinct dst_port --top 3 "$FT" >"$TMP/t"
python3 - "$TMP/c" "$TMP/j" "$TMP/t" <<'PY' && ok "json and table: the columns and values of csv" || bad "json/table differ from csv"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
head, body = rows[0], rows[1:]
js = [json.loads(l) for l in open(sys.argv[2])]
assert [list(j.keys()) for j in js] == [head] * len(body), "json keys"
assert [[str(v) for v in j.values()] for j in js] == body, "json values"
tb = [l.split() for l in open(sys.argv[3])]
assert tb[0] == head and tb[1:] == body, "table"
PY

# Progress: on a terminal (script(1) gives stderr a pty), files done of
# total, records/s and the time left; not otherwise (the error cases above
# compare the whole of stderr).
script -qec "\"$FCREAD\" --jobs 1 --group-by class --format csv \"$FT\" >\"$TMP/po\"" \
	"$TMP/typescript" >/dev/null 2>&1 || true
if grep -q "flowcap-read: [0-9]*/[0-9]* files, [0-9.]*M records/s, " "$TMP/typescript" &&
	! grep -q "files, " "$TMP/po"; then
	ok "progress on a terminal's stderr, not in the output"
else
	bad "progress line"; tr '\r' '\n' <"$TMP/typescript" | head -n 5
fi
"$FCREAD" --jobs 1 --group-by class --format csv "$FT" >/dev/null 2>"$TMP/e"
[ ! -s "$TMP/e" ] && ok "no progress when stderr is not a terminal" || { bad "stderr not empty"; head -n 3 "$TMP/e"; }

echo "queries compared with the oracle: $nq"
finish
