#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# A .ft.zst file is a valid zstd stream (doc/file-format.md, version 2.0):
# the real zstd tool tests every file flowcap writes from a real trace
# (several intervals per file, IPv4 and IPv6, empty intervals), a file of
# intervals without any record (skippable frames only), and the ft-mkfile
# examples; `zstd -d` gives exactly the column bytes the RECORDS blocks
# declare (their raw_size, summed). A version 1 file, the same structures
# without the frames, is no zstd stream and is still read by flowcap-read.
. "$(dirname "$0")/lib.sh"

command -v zstd >/dev/null ||
	{ echo "zstd needed (dpdk-scripts/install-deps.sh installs it)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 needed"; exit 1; }
MK="$FC_BUILD/app/examples/ft-mkfile"

# Sum of the RECORDS blocks' raw_size, walking the version 2 layout.
cat >"$TMP/raw.py" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
magic, size = struct.unpack_from('<II', d, 0)
assert magic == 0x184D2A56 and d[8:12] == b'FCFT', 'not a version 2 file'
o, raw = 8 + size, 0
while o < len(d):
    magic, size = struct.unpack_from('<II', d, o)
    t, _, ln = struct.unpack_from('<HHI', d, o + 8)
    assert magic == 0x184D2A56
    if t == 2:
        raw += struct.unpack_from('<I', d, o + 24)[0]
    o += 8 + 12 + ln
print(raw)
EOF

check_file() { # FILE: zstd -t passes; zstd -d yields the declared columns
	f=$1
	if ! zstd -q -t "$f" 2>"$TMP/zerr"; then
		bad "zstd -t $(basename "$f"): $(cat "$TMP/zerr")"
		return 1
	fi
	want=$(python3 "$TMP/raw.py" "$f")
	got=$(zstd -q -d -c "$f" | wc -c)
	if [ "$want" -ne "$got" ]; then
		bad "zstd -d $(basename "$f"): $got bytes, the blocks declare $want"
		return 1
	fi
	return 0
}

out="$TMP/ft"
mkdir -p "$out"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$FC_SHARED/pcaps/real/many-protocols-vlan-ipv6-llc.pcap" \
	--interval 1 --rotate 4 --out "$out" --name z >"$TMP/flowcap.log" 2>&1 ||
	{ bad "flowcap --read"; tail -5 "$TMP/flowcap.log"; finish; exit 1; }
n=0 nbad=0
for f in "$out"/*.ft.zst; do
	n=$((n + 1))
	check_file "$f" || nbad=$((nbad + 1))
done
"$FCREAD" --format csv "$out"/*.ft.zst | grep -q ',.*:.*:' ||
	bad "the trace's files hold no IPv6 record"
[ "$n" -gt 1 ] && [ "$nbad" -eq 0 ] &&
	ok "zstd -t and -d on all $n files flowcap wrote from a real trace"

# Intervals without records (ARP frames only): a stream of skippable
# frames only.
python3 - "$TMP/arp.pcap" <<'EOF'
import struct, sys
arp = b'\xff' * 6 + b'\x02' * 6 + b'\x08\x06' + bytes(28)
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for t in (1700000000, 1700000100):
        f.write(struct.pack('<IIII', t, 0, len(arp), len(arp)) + arp)
EOF
mkdir -p "$TMP/e"
"$FLOWCAP" --read "$TMP/arp.pcap" --out "$TMP/e" --name e --rotate 10 \
	>"$TMP/e.log" 2>&1 || { bad "flowcap on ARP only"; tail -3 "$TMP/e.log"; }
set -- "$TMP"/e/*.ft.zst
if [ -e "$1" ] && check_file "$1" && [ "$(python3 "$TMP/raw.py" "$1")" -eq 0 ]; then
	ok "a file of intervals without records: zstd -t passes, zstd -d gives nothing"
elif [ ! -e "$1" ]; then
	bad "flowcap wrote no file for a trace of ARP frames"
fi

for args in "" "--telescope 100000" "--telescope 70000 --random-sport"; do
	rm -f "$TMP/mk.ft.zst"
	# shellcheck disable=SC2086
	"$MK" $args "$TMP/mk.ft.zst" >/dev/null
	check_file "$TMP/mk.ft.zst" && ok "ft-mkfile ${args:-demo}: a valid zstd stream"
done

# A version 1 file (no frames) is no zstd stream, and is still read.
python3 - "$TMP/mk.ft.zst" "$TMP/v1.ft.zst" <<'EOF'
import struct, sys
T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    T.append(c)
def crc(b, c=0):
    c ^= 0xFFFFFFFF
    for x in b:
        c = T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
d = open(sys.argv[1], 'rb').read()
hl = struct.unpack_from('<I', d, 16)[0]
v1 = bytearray(d[8:8 + hl])
struct.pack_into('<HH', v1, 4, 1, 0)  # version 1.0
struct.pack_into('<I', v1, hl - 4, crc(v1[:hl - 4]))
o = 8 + hl
while o < len(d):
    ln = struct.unpack_from('<I', d, o + 12)[0]
    v1 += d[o + 8:o + 20 + ln]
    o += 20 + ln
e = len(v1) - 32
struct.pack_into('<I', v1, e + 12 + 16, crc(v1[:e]))
struct.pack_into('<I', v1, e + 8, crc(v1[e + 12:], crc(v1[e:e + 8])))
open(sys.argv[2], 'wb').write(v1)
EOF
if zstd -q -t "$TMP/v1.ft.zst" 2>/dev/null; then
	bad "a version 1 file passes zstd -t (the test's conversion is wrong)"
elif [ "$("$FCREAD" --format csv "$TMP/v1.ft.zst" | md5sum)" = \
	"$("$FCREAD" --format csv "$TMP/mk.ft.zst" | md5sum)" ] &&
	"$FCREAD" --stats "$TMP/v1.ft.zst" | head -n 1 | grep -q ' version=1.0 '; then
	ok "version 1 file: not a zstd stream, read by flowcap-read with the same rows"
else
	bad "version 1 file not read as its version 2 twin"
fi

finish
