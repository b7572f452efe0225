#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# flowcap-read's inputs and what it prints before reading them:
#  - directories (every *.ft.zst below them, recursively; *.tmp and
#    *.incomplete skipped and counted in a note), read in time order;
#  - 50,000 files, more than one command line can carry: as a directory
#    and as a list (--files-from, newline- or NUL-separated, '-' = stdin);
#  - the same file reached twice (repeated, ./name, symbolic and hard
#    link, through a directory) is read once, with a note;
#  - nothing on stdout before every input is checked: a missing file
#    alone prints no CSV header, and its error comes first;
#  - --format with --stats or --verify is refused (exit 2), as is every
#    option that would otherwise be ignored;
#  - --format corsaro on a file whose first interval has no records, run
#    through an UndefinedBehaviorSanitizer build (qsort of no elements);
#  - the table format stays aligned with IPv6 addresses (and keeps its
#    15-character address columns when there are none).
. "$(dirname "$0")/lib.sh"

MK="$FC_BUILD/app/examples/ft-mkfile"
command -v python3 >/dev/null || { echo "python3 needed"; exit 1; }

run() { # name, want exit, then the command; stdout in out, stderr in err
	name=$1 want=$2
	shift 2
	set +e
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	set -e
	[ "$rc" -eq "$want" ] && return 0
	bad "$name: exit $rc, want $want"; head -n 5 "$TMP/err"
	return 1
}

# ---- a tree of files ----------------------------------------------------
T="$TMP/tree"
mkdir -p "$T/a" "$T/b/c" "$T/empty"
"$MK" --start 1700002000 "$T/b/c/late.ft.zst"
"$MK" --start 1700000000 "$T/a/early.ft.zst"
"$MK" --start 1700001000 "$T/b/mid.ft.zst"
printf 'being written' >"$T/a/next.ft.zst.tmp"
printf 'interrupted' >"$T/b/c/old.ft.zst.incomplete"
printf 'not ours' >"$T/README"
"$FCREAD" --format csv "$T/a/early.ft.zst" "$T/b/mid.ft.zst" \
	"$T/b/c/late.ft.zst" >"$TMP/want.csv"

if run "a directory" 0 "$FCREAD" --format csv "$T"; then
	if cmp -s "$TMP/want.csv" "$TMP/out"; then
		ok "a directory: every *.ft.zst below it, in time order"
	else
		bad "a directory: rows"; diff "$TMP/want.csv" "$TMP/out" | head
	fi
	if grep -q "^flowcap-read: note: $T: skipped 2 unfinished file(s)" "$TMP/err"; then
		ok "a directory: *.tmp and *.incomplete skipped and counted"
	else
		bad "a directory: no note of the 2 unfinished files"; cat "$TMP/err"
	fi
fi
ln -s "$T" "$TMP/treelink"
if run "a link to a directory" 0 "$FCREAD" --format csv "$TMP/treelink/" &&
	cmp -s "$TMP/want.csv" "$TMP/out"; then
	ok "a symbolic link to a directory: walked under its target"
else
	bad "a symbolic link to a directory"; cat "$TMP/err"
fi
if run "an empty directory" 0 "$FCREAD" --format csv "$T/empty" &&
	[ ! -s "$TMP/out" ] && grep -q "$T/empty: no \*.ft.zst file" "$TMP/err"; then
	ok "an empty directory: a note, no output, exit 0"
else
	bad "an empty directory"; cat "$TMP/err"
fi

# An unreadable directory below: named with the system's reason, the rest
# still read, exit 1. Root reads everything: run as nobody then.
U="$TMP/perm"
mkdir -p "$U/locked"
cp "$T/a/early.ft.zst" "$U/"
chmod 755 "$TMP" "$U"
chmod 644 "$U/early.ft.zst"
chmod 000 "$U/locked"
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	as="setpriv --reuid=nobody --regid=nogroup --clear-groups"
else
	as=""
fi
set +e
$as "$FCREAD" --format csv "$U" >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
if [ "$(id -u)" -eq 0 ] && [ -z "$as" ]; then
	skip "an unreadable directory below: root, and no setpriv or user nobody to read as another user"
elif [ "$rc" -eq 1 ] && grep -qx "flowcap-read: $U/locked: cannot read: Permission denied" "$TMP/err" &&
	[ "$(wc -l <"$TMP/out")" -eq 8 ]; then
	ok "an unreadable directory below: Permission denied, the rest read, exit 1"
else
	bad "an unreadable directory below (exit $rc)"; cat "$TMP/err"
fi
chmod 755 "$U/locked"
chmod 700 "$TMP"

# ---- the same file twice ------------------------------------------------
ln -s "$T/a/early.ft.zst" "$TMP/sym.ft.zst"
ln "$T/b/mid.ft.zst" "$TMP/hard.ft.zst"
(cd "$T" && "$FCREAD" --format csv a/early.ft.zst ./a/early.ft.zst \
	"$TMP/sym.ft.zst" "$TMP/hard.ft.zst" b/mid.ft.zst "$T" \
	>"$TMP/out" 2>"$TMP/err") || bad "duplicates: exit $?"
if cmp -s "$TMP/want.csv" "$TMP/out"; then
	ok "duplicates (repeated, ./, symbolic and hard link, via a directory): read once"
else
	bad "duplicates read more than once"; diff "$TMP/want.csv" "$TMP/out" | head
fi
if grep -q "note: ./a/early.ft.zst is the same file as a/early.ft.zst; read once" "$TMP/err" &&
	grep -q "note: $TMP/sym.ft.zst is the same file as a/early.ft.zst" "$TMP/err" &&
	grep -q "note: b/mid.ft.zst is the same file as $TMP/hard.ft.zst" "$TMP/err"; then
	ok "duplicates: a note names both names"
else
	bad "duplicates: notes"; cat "$TMP/err"
fi

# ---- nothing printed before the inputs are checked ---------------------
if run "a missing file" 1 "$FCREAD" --format csv "$TMP/nope.ft.zst"; then
	if [ ! -s "$TMP/out" ] &&
		grep -qx "flowcap-read: $TMP/nope.ft.zst: cannot read: No such file or directory" "$TMP/err"; then
		ok "a missing file: its errno's text, no CSV header on stdout"
	else
		bad "a missing file: stdout $(wc -c <"$TMP/out") bytes"; cat "$TMP/err"
	fi
fi
# A good file after a missing one: the error is reported before any output
# (stderr and stdout into one file show the order).
set +e
"$FCREAD" --format csv "$TMP/nope.ft.zst" "$T/a/early.ft.zst" >"$TMP/both" 2>&1
rc=$?
set -e
if [ "$rc" -eq 1 ] && head -n 1 "$TMP/both" | grep -q "nope.ft.zst: cannot read" &&
	[ "$(sed -n 2p "$TMP/both" | cut -d, -f1)" = interval_start ]; then
	ok "missing and good file: error first, then the header and rows, exit 1"
else
	bad "missing and good file (exit $rc)"; head -n 3 "$TMP/both"
fi

# ---- options that would be ignored are refused -------------------------
D="$T/a/early.ft.zst"
run "--stats -f json" 2 "$FCREAD" --stats -f json "$D" &&
	grep -q -- "--format applies to records; --stats" "$TMP/err" &&
	ok "--stats with --format: refused, exit 2"
run "--verify -f csv" 2 "$FCREAD" --verify --format csv "$D" &&
	grep -q -- "--verify prints its own lines" "$TMP/err" &&
	ok "--verify with --format: refused, exit 2"
run "--null alone" 2 "$FCREAD" --null "$D" &&
	ok "--null without --files-from: refused, exit 2"
run "'-' as a file" 2 "$FCREAD" - &&
	grep -q -- "use --files-from -" "$TMP/err" &&
	ok "'-' as a FILE: refused with the way to read names from stdin"
run "--files-from twice" 2 "$FCREAD" --files-from /dev/null --files-from /dev/null &&
	ok "--files-from twice: refused, exit 2"
run "--files-from missing list" 2 "$FCREAD" --files-from "$TMP/nolist" &&
	grep -q "nolist: No such file" "$TMP/err" &&
	ok "--files-from a missing list: exit 2, the list named"
run "no input" 2 "$FCREAD" --format csv && grep -q "no FILE or DIR given" "$TMP/err" &&
	ok "no input: exit 2"

# ---- file lists ---------------------------------------------------------
printf '%s\n\n%s\n%s\n' "$T/b/c/late.ft.zst" "$T/b/mid.ft.zst" "$T/a" >"$TMP/list"
run "--files-from LIST" 0 "$FCREAD" --format csv --files-from "$TMP/list" &&
	cmp -s "$TMP/want.csv" "$TMP/out" &&
	ok "--files-from LIST (files and a directory, an empty line): all rows in time order"
find "$T" -name '*.ft.zst' -print0 >"$TMP/list0"
set +e
"$FCREAD" --format csv --null --files-from - <"$TMP/list0" >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
if [ "$rc" -eq 0 ] && cmp -s "$TMP/want.csv" "$TMP/out"; then
	ok "--null --files-from - (find -print0 on stdin)"
else
	bad "--null --files-from - (exit $rc)"; cat "$TMP/err"
fi

# ---- 50,000 files: more than a command line holds ----------------------
M="$TMP/many"
N=50000
python3 - "$D" "$M" "$N" <<'EOF'
import os, sys
src, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, 'rb').read()
for k in range(n // 1000):
    sub = os.path.join(d, 'h%03d' % k)
    os.makedirs(sub)
    for i in range(1000):
        name = 'darknet-telescope-north-1.%010d.flowtuple.ft.zst' % (k * 1000 + i)
        with open(os.path.join(sub, name), 'wb') as f:
            f.write(data)
EOF
# The glob a user would type does not fit in one exec.
if (cd "$M" && set +e; "$FCREAD" --verify h*/* >/dev/null 2>"$TMP/e2big"); then
	echo "note: this system's argument limit holds $N names"
elif grep -q "Argument list too long" "$TMP/e2big"; then
	ok "$N names on one command line: Argument list too long (the case to cure)"
fi
if run "$N files as a directory" 0 "$FCREAD" --verify "$M" &&
	[ "$(grep -c '^OK ' "$TMP/out")" -eq "$N" ]; then
	ok "$N files as a directory: all verified"
else
	bad "$N files as a directory: $(grep -c '^OK ' "$TMP/out") OK lines"
fi
set +e
(cd "$M" && find . -name '*.ft.zst' | "$FCREAD" --verify --files-from -) >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
if [ "$rc" -eq 0 ] && [ "$(grep -c '^OK ' "$TMP/out")" -eq "$N" ]; then
	ok "$N files as a list on stdin: all verified"
else
	bad "$N files as a list on stdin (exit $rc)"; head -n 3 "$TMP/err"
fi
rm -rf "$M"

# ---- the table format with IPv6 addresses ------------------------------
# Every column is padded to a fixed width, so aligned rows are equally
# long. A real trace with IPv6 addresses longer than 15 characters.
mkdir -p "$TMP/v6"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$FC_SHARED/pcaps/real/many-protocols-vlan-ipv6-llc.pcap" \
	--rotate 1000 --out "$TMP/v6" --name v6 >"$TMP/v6.log" 2>&1 ||
	{ bad "flowcap on the IPv6 trace"; tail -3 "$TMP/v6.log"; }
"$FCREAD" --format table "$TMP"/v6/*.ft.zst >"$TMP/table"
n=$(awk '{ print length($0) }' "$TMP/table" | sort -u | wc -l)
long=$(awk '$3 ~ /:/ && length($3) > 15' "$TMP/table" | wc -l)
if [ "$long" -gt 0 ] && [ "$n" -eq 1 ]; then
	ok "table with IPv6 addresses ($long rows longer than 15 characters): every row aligned"
else
	bad "table with IPv6 addresses: $n different row lengths, $long long ones"
	awk '{ print length($0) ": " $0 }' "$TMP/table" | sort -un | head -n 4
fi
# ---- corsaro on a file whose first interval has no records -------------
# One ARP frame (not IP) in the first interval, one UDP packet 70 s later.
python3 - "$TMP/arp-first.pcap" <<'EOF'
import struct, sys
def pkt(t, frame):
    return struct.pack('<IIII', t, 0, len(frame), len(frame)) + frame
eth = b'\xff' * 6 + b'\x02' * 6
arp = eth + b'\x08\x06' + bytes(28)
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 28, 1, 0, 64, 17, 0,
                 bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2]))
udp = struct.pack('!HHHH', 1234, 53, 8, 0)
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(pkt(1700000000, arp))
    f.write(pkt(1700000070, eth[:12] + b'\x08\x00' + ip + udp))
EOF
mkdir -p "$TMP/ce"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$TMP/arp-first.pcap" --out "$TMP/ce" --name ce \
	--rotate 10 >"$TMP/ce.log" 2>&1 || { bad "flowcap on the ARP-first trace"; tail -3 "$TMP/ce.log"; }
CE=$(ls "$TMP"/ce/*.ft.zst)
"$FCREAD" --stats "$CE" | sed -n 2p | grep -q 'records=0' ||
	bad "ARP-first trace: the first interval is not empty"
if "$FCREAD" --format corsaro "$CE" >"$TMP/ce.txt" &&
	grep -q '^START flowtuple_backscatter 0$' "$TMP/ce.txt" &&
	grep -q '^192.0.2.1|198.51.100.2|1234|53|17|64|0x00|28,1$' "$TMP/ce.txt"; then
	ok "corsaro: an empty first interval, then the record"
else
	bad "corsaro with an empty first interval"; cat "$TMP/ce.txt"
fi
# IPv4 only: the address columns stay 15 wide, as before.
"$FCREAD" --format table "$CE" >"$TMP/table4"
w=$(awk 'NR == 1 { print index($0, "dst_ip") - index($0, "src_ip") }' "$TMP/table4")
n=$(awk '{ print length($0) }' "$TMP/table4" | sort -u | wc -l)
[ "$w" -eq 16 ] && [ "$n" -eq 1 ] &&
	ok "table, IPv4 only: address columns 15 wide, rows aligned" ||
	bad "table, IPv4 only: src_ip column $w wide, $n row lengths"
# The same through an UndefinedBehaviorSanitizer build of flowcap-read:
# its own sources and every library module's (the linker keeps what it
# uses), so the build follows the program as it grows.
CC=${CC:-cc}
S="$FC_SRC"
set --
for d in "$S"/lib/*/; do
	set -- "$@" -I"$d"
done
# shellcheck disable=SC2046 # the globs are the source lists
if command -v "$CC" >/dev/null &&
	"$CC" -std=gnu11 -D_GNU_SOURCE -fsanitize=undefined -fno-sanitize-recover=all -g -O1 \
		"$@" -I"$FC_BUILD/app" "$S"/app/flowcap-read/*.c \
		$(ls "$S"/lib/common/*.c "$S"/lib/tuple/*.c "$S"/lib/ftfile/*.c \
			"$S"/lib/anon/*.c "$S"/lib/ch/*.c 2>/dev/null) \
		-lzstd -lcrypto -lcurl -lpthread -lm -o "$TMP/fcread-ubsan" 2>"$TMP/cc.err"; then
	set +e
	"$TMP/fcread-ubsan" --format corsaro "$CE" >"$TMP/ce-ubsan.txt" 2>"$TMP/ubsan.err"
	rc=$?
	set -e
	if [ "$rc" -eq 0 ] && ! grep -q 'runtime error' "$TMP/ubsan.err" &&
		cmp -s "$TMP/ce.txt" "$TMP/ce-ubsan.txt"; then
		ok "corsaro, empty first interval, UBSan build: no report"
	else
		bad "corsaro under UBSan (exit $rc)"; head -n 5 "$TMP/ubsan.err"
	fi
else
	bad "corsaro under UBSan: $CC cannot build with -fsanitize=undefined"
	head -n 3 "$TMP/cc.err" 2>/dev/null || true
fi

finish
