#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# flowcap-read --state: a run over some files, then over those plus new
# ones, prints exactly what one run over all of them prints, and reads only
# the new ones; a state of another query is refused; a file that changed is
# read again and the change reported; a damaged, truncated or foreign state
# is refused (exit 2), never trusted; the state is written atomically.
# Labels: the state keeps names, so files whose rule sets number the names
# differently, read in different runs, group by name as one run does.
. "$(dirname "$0")/lib.sh"

g="$TMP/g.pcap"
"$FCGEN" --packets 60000 --flows 3000 --seed 5 --ipv6 0.2 --rate 200 \
	--start 1700000010 -o "$g" >/dev/null
mkdir -p "$TMP/all" "$TMP/dir"
"$FLOWCAP" --read "$g" --out "$TMP/all" >"$TMP/fc.log" 2>&1 || { bad "flowcap"; cat "$TMP/fc.log"; }
rm -f "$g"
set -- "$TMP"/all/*.ft.zst
[ $# -ge 4 ] && ok "$# files to query" || bad "only $# files"
cp "$1" "$2" "$TMP/dir/"
S="$TMP/q.state"
Q="--group-by src_ip/16/32,protocol --count-distinct dst_port --interval 120 --top 5"
# shellcheck disable=SC2086
run() { "$FCREAD" --format csv $Q --state "$S" "$@" "$TMP/dir"; }

run >"$TMP/out1" 2>"$TMP/err1" || bad "first run"
grep -q "0 of 2 files known, 2 to read" "$TMP/err1" && [ -s "$S" ] &&
	ok "first run: reads both files and writes the state" || { bad "first run"; cat "$TMP/err1"; }
cp "$3" "$4" "$TMP/dir/"
run --jobs 2 >"$TMP/out2" 2>"$TMP/err2" || bad "second run"
# shellcheck disable=SC2086
"$FCREAD" --format csv $Q "$TMP/dir" >"$TMP/full" 2>/dev/null
grep -q "2 of 4 files known, 2 to read" "$TMP/err2" &&
	ok "second run: reads only the 2 new files" || { bad "second run"; cat "$TMP/err2"; }
cmp -s "$TMP/out2" "$TMP/full" && [ "$(wc -l <"$TMP/full")" -gt 5 ] &&
	ok "second run prints what a full run prints ($(wc -l <"$TMP/full") lines)" ||
	{ bad "incremental answer differs from a full run"; diff "$TMP/full" "$TMP/out2" | head; }
run >"$TMP/out3" 2>"$TMP/err3"
grep -q "4 of 4 files known, 0 to read" "$TMP/err3" && cmp -s "$TMP/out3" "$TMP/full" &&
	ok "third run: nothing to read, the same answer" || { bad "third run"; cat "$TMP/err3"; }
ls "$TMP"/q.state.* >/dev/null 2>&1 && bad "a temporary state file was left" ||
	ok "no temporary state file left (written to .tmp, renamed)"
# --top and --format only shape the output: the state still applies.
"$FCREAD" --format json --group-by src_ip/16/32,protocol --count-distinct dst_port \
	--interval 120 --state "$S" "$TMP/dir" >/dev/null 2>"$TMP/err4"
grep -q "4 of 4 files known" "$TMP/err4" && ok "another --top/--format: the same state used" ||
	{ bad "state with another --format"; cat "$TMP/err4"; }

# Another query: refused, and the state is left as it was.
cp "$S" "$TMP/saved.state"
rc=0
"$FCREAD" --format csv --group-by src_ip/24 --state "$S" "$TMP/dir" >"$TMP/o" 2>"$TMP/e" || rc=$?
[ "$rc" -eq 2 ] && grep -q "made by another query" "$TMP/e" && [ ! -s "$TMP/o" ] &&
	cmp -s "$S" "$TMP/saved.state" &&
	ok "a state of another query: refused, exit 2, state untouched" || { bad "another query: exit $rc"; cat "$TMP/e"; }

# A file that changed since: read again, and said so.
cp "$5" "$TMP/dir/$(basename "$1")"
run >"$TMP/out5" 2>"$TMP/err5"
# shellcheck disable=SC2086
"$FCREAD" --format csv $Q "$TMP/dir" >"$TMP/full5" 2>/dev/null
grep -q "$(basename "$1") changed since --state" "$TMP/err5" &&
	grep -q "3 of 4 files known, 1 to read" "$TMP/err5" && cmp -s "$TMP/out5" "$TMP/full5" &&
	ok "a changed file: reported, read again, the answer of a full run" ||
	{ bad "changed file"; cat "$TMP/err5"; diff "$TMP/full5" "$TMP/out5" | head -n 5; }

# Labels across runs: the first run sees files of one rule set, the second
# adds files of the same rules in the opposite order (other ids for the
# same names) and one without labels.
L="$TMP/lab"
mkdir -p "$L/a" "$L/b" "$L/c" "$L/dir"
cat "$FC_SRC/rules/telescope.rules" >"$TMP/r1"
printf '%s\n' 'dns-reply    udp  53        /^..[\x80-\xff]/s' >>"$TMP/r1"
grep -v '^#' "$TMP/r1" | grep -v '^$' | tac >"$TMP/r2"
R="$FC_SHARED/pcaps/real"
"$FLOWCAP" --read "$R/1kxun-app-mix.pcap" --out "$L/a" --classify "$TMP/r1" >/dev/null 2>&1
"$FLOWCAP" --read "$R/dns-amplification-ipv4-fragments.pcap" --out "$L/b" --classify "$TMP/r2" >/dev/null 2>&1
"$FLOWCAP" --read "$R/pcapplusplus-example-tcp-mix.pcap" --out "$L/c" --classify "$TMP/r2" --key-vlan >/dev/null 2>&1
LS="$TMP/l.state"
LQ="--group-by label,protocol --count-distinct label --count-distinct vlan --interval all"
cp "$L"/a/*.ft.zst "$L/dir/"
# shellcheck disable=SC2086
"$FCREAD" --format csv $LQ --filter 'not label http-probe' --state "$LS" "$L/dir" >/dev/null 2>&1 ||
	bad "labels: first run"
cp "$L"/b/*.ft.zst "$L"/c/*.ft.zst "$TMP"/all/*.ft.zst "$L/dir/"
# shellcheck disable=SC2086
"$FCREAD" --format csv $LQ --filter 'not label http-probe' --state "$LS" --jobs 2 "$L/dir" \
	>"$TMP/l2" 2>"$TMP/le2" || bad "labels: second run"
# shellcheck disable=SC2086
"$FCREAD" --format csv $LQ --filter 'not label http-probe' --jobs 1 "$L/dir" >"$TMP/lfull" 2>/dev/null
nlab=$(cut -d, -f1 "$TMP/lfull" | sort -u | wc -l)
grep -q "known, [1-9][0-9]* to read" "$TMP/le2" && ! grep -q " 0 of " "$TMP/le2" &&
	cmp -s "$TMP/l2" "$TMP/lfull" && [ "$nlab" -ge 4 ] &&
	ok "labels: a second run over files of another rule order prints the full run's $nlab label groups" ||
	{ bad "labels across runs"; cat "$TMP/le2"; diff "$TMP/lfull" "$TMP/l2" | head; }
grep -q "dns-reply" "$LS" && ok "the state holds label names" || bad "no label name in the state"

# Damaged states: refused, exit 2, nothing printed.
damaged() { # name [what the message says]
	rc=0
	run >"$TMP/o" 2>"$TMP/e" || rc=$?
	if [ "$rc" -eq 2 ] && [ ! -s "$TMP/o" ] && grep -q "${2:-}.*it was not used" "$TMP/e"; then
		ok "$1: refused, exit 2"
	else
		bad "$1: exit $rc"; cat "$TMP/e"
	fi
}
cp "$S" "$TMP/good.state"
sz=$(wc -c <"$S")
for off in 3 20 $((sz / 2)) $((sz - 2)); do
	cp "$TMP/good.state" "$S"
	printf '\377' | dd of="$S" bs=1 seek="$off" conv=notrunc 2>/dev/null
	damaged "a byte changed at offset $off of $sz"
done
cp "$TMP/good.state" "$S"
head -c $((sz / 3)) "$TMP/good.state" >"$S"
damaged "a state cut to a third"
printf 'not a state\n' >"$S"
damaged "a file that is not a state"
: >"$S"
damaged "an empty state file"
# A consistent checksum over inconsistent contents (a value of a group that
# does not exist): refused too.
python3 - "$TMP/good.state" "$S" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read()[:-4])
at = 8
qlen, = struct.unpack_from("<I", b, at); at += 4 + qlen
nl, = struct.unpack_from("<I", b, at); at += 4
for _ in range(nl):
    l, = struct.unpack_from("<I", b, at); at += 4 + l
n, = struct.unpack_from("<I", b, at); at += 4
plen, = struct.unpack_from("<I", b, at); at += 4 + plen + 8 + 4
ng, nd = struct.unpack_from("<II", b, at); at += 8
at += ng * (56 + 16)
assert nd > 0
struct.pack_into("<I", b, at, ng + 5)          # first value's group
crc = 0xFFFFFFFF  # CRC32C (Castagnoli, reflected), as fc_ft_crc32c
POLY = 0x82F63B78
for x in b:
    crc ^= x
    for _ in range(8):
        crc = (crc >> 1) ^ (POLY if crc & 1 else 0)
open(sys.argv[2], "wb").write(bytes(b) + struct.pack("<I", crc ^ 0xFFFFFFFF))
PY
damaged "a value of a group that does not exist (checksum made to match)" "inconsistent contents"

finish
