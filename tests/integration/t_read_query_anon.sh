#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Crypto-PAn anonymisation, end to end: flowcap --anonymize KEYFILE writes
# files whose header says they are anonymised and carries the key's
# fingerprint (never the key), whose records are those of a plain run with
# both addresses mapped, as flowcap-read --anonymize maps them and as the
# independent model (tests/oracle/query-oracle.py, Python's AES) maps them;
# and no real address reaches the files. The key is the reference sample's
# of the original Crypto-PAn distribution.
. "$(dirname "$0")/lib.sh"

ORACLE="$FC_SRC/tests/oracle/query-oracle.py"
K="$TMP/key.hex"
printf '%s' 15 22 17 8d 33 a4 cf 80 13 0a 5b 16 49 90 7d 10 \
	d8 98 8f 83 79 79 65 27 62 57 4c 2d 2a 84 22 02 >"$K"
head -c 32 /dev/urandom >"$TMP/other.key"
mkdir -p "$TMP/anon" "$TMP/plain" "$TMP/other"
for t in lan-ftp-mixed-ipv4opt-ipv6 ipv6-hbh-frag-flood-denial6-6 tcpreplay-test-mix; do
	p="$FC_SHARED/pcaps/real/$t.pcap"
	mkdir -p "$TMP/anon/$t" "$TMP/plain/$t"
	"$FLOWCAP" --anonymize "$K" --read "$p" --out "$TMP/anon/$t" >"$TMP/log" 2>&1 ||
		{ bad "flowcap --anonymize --read $t"; cat "$TMP/log"; }
	"$FLOWCAP" --read "$p" --out "$TMP/plain/$t" >"$TMP/log" 2>&1 || bad "flowcap --read $t"
done
"$FLOWCAP" --anonymize "$TMP/other.key" --read "$FC_SHARED/pcaps/real/tcpreplay-test-mix.pcap" \
	--out "$TMP/other" >"$TMP/log" 2>&1 || bad "flowcap with another key"

"$FCREAD" --stats "$TMP/anon" | grep '^file=' >"$TMP/hdr"
fps=$(sed -n 's/.* anonymized=key:\([0-9a-f]\{16\}\)$/\1/p' "$TMP/hdr" | sort -u)
n=$(wc -l <"$TMP/hdr")
[ "$n" -ge 3 ] && [ "$(grep -c ' version=2.2 .* anonymized=key:' "$TMP/hdr")" -eq "$n" ] &&
	[ "$(printf '%s\n' "$fps" | wc -l)" -eq 1 ] &&
	ok "headers: all $n files say anonymized (format 2.2), one fingerprint $fps" ||
	{ bad "headers"; cat "$TMP/hdr"; }
ofp=$("$FCREAD" --stats "$TMP/other" | sed -n 's/.* anonymized=key:\([0-9a-f]*\)$/\1/p' | sort -u)
[ -n "$ofp" ] && [ "$ofp" != "$fps" ] && ok "another key: another fingerprint ($ofp)" ||
	bad "fingerprint of another key: '$ofp'"
"$FCREAD" --stats "$TMP/plain" | grep '^file=' >"$TMP/hdr2"
grep -q 'anonymized' "$TMP/hdr2" || ! grep -q 'version=2.2' "$TMP/hdr2" &&
	bad "plain files: $(head -n 1 "$TMP/hdr2")" ||
	ok "plain files: version 2.2, not marked anonymised"
python3 - "$K" "$TMP/anon" <<'PY' && ok "the key's bytes are in no file" || bad "key bytes found in a file"
import os, sys
key = bytes.fromhex(open(sys.argv[1]).read())
for d, _, fs in os.walk(sys.argv[2]):
    for f in fs:
        b = open(os.path.join(d, f), "rb").read()
        assert key not in b and key[:16] not in b and key[16:] not in b, f
PY
"$FCREAD" --verify "$TMP/anon" >"$TMP/v" 2>&1 && ok "anonymised files pass --verify" ||
	{ bad "--verify"; cat "$TMP/v"; }

# The records: flowcap-read --anonymize over the plain files gives the
# same set; and the model's Crypto-PAn gives the same rows.
"$FCREAD" --format csv "$TMP/anon" | LC_ALL=C sort >"$TMP/a.csv"
"$FCREAD" --format csv --anonymize "$K" "$TMP/plain" | LC_ALL=C sort >"$TMP/p.csv"
[ "$(wc -l <"$TMP/a.csv")" -gt 100 ] && cmp -s "$TMP/a.csv" "$TMP/p.csv" &&
	ok "flowcap --anonymize = flowcap-read --anonymize of a plain run ($(wc -l <"$TMP/a.csv") rows)" ||
	{ bad "collector and reader anonymise differently"; diff "$TMP/a.csv" "$TMP/p.csv" | head -n 5; }
"$FCREAD" --format csv "$TMP/plain" >"$TMP/rows.csv"
ALL=class,src_ip,dst_ip,src_port,dst_port,protocol,ttl,tcp_flags,ip_len
"$FCREAD" --format csv --group-by "$ALL" "$TMP/anon" >"$TMP/got"
python3 "$ORACLE" --anonymize "$K" --group-by "$ALL" "$TMP/rows.csv" >"$TMP/want"
cmp -s "$TMP/got" "$TMP/want" &&
	ok "the model's Crypto-PAn (Python AES) over the plain rows: the same $(wc -l <"$TMP/got") rows" ||
	{ bad "model and flowcap --anonymize differ"; diff "$TMP/want" "$TMP/got" | head -n 6; }
"$FCREAD" --format csv "$TMP/plain" | tail -n +2 | cut -d, -f3,4 | tr , '\n' | LC_ALL=C sort -u >"$TMP/real"
"$FCREAD" --format csv "$TMP/anon" | tail -n +2 | cut -d, -f3,4 | tr , '\n' | LC_ALL=C sort -u >"$TMP/seen"
common=$(LC_ALL=C comm -12 "$TMP/real" "$TMP/seen" | wc -l)
[ "$(wc -l <"$TMP/real")" -gt 20 ] && [ "$common" -eq 0 ] &&
	ok "none of the $(wc -l <"$TMP/real") real addresses is in the anonymised files" ||
	{ bad "$common real addresses in the anonymised files"; LC_ALL=C comm -12 "$TMP/real" "$TMP/seen" | head -n 3; }
# Prefixes survive: as many /24s (and /64s) before as after.
a=$("$FCREAD" --format csv --group-by src_ip/24/64 --interval all "$TMP/plain" | wc -l)
b=$("$FCREAD" --format csv --group-by src_ip/24/64 --interval all "$TMP/anon" | wc -l)
[ "$a" -eq "$b" ] && ok "src_ip/24/64 groups: $a before and after" || bad "prefix groups $a -> $b"

# The filter sees the real addresses, grouping the anonymised ones.
"$FCREAD" --format csv --filter 'src net 192.168.0.0/16' --anonymize "$K" \
	--group-by src_ip --interval all "$TMP/plain" >"$TMP/f"
python3 "$ORACLE" --filter "r['fam'] == 4 and r['src'] in ipaddress.ip_network('192.168.0.0/16')" \
	--anonymize "$K" --group-by src_ip --interval all "$TMP/rows.csv" >"$TMP/fw"
[ "$(wc -l <"$TMP/f")" -gt 2 ] && cmp -s "$TMP/f" "$TMP/fw" && ! grep -q '^192\.168\.' "$TMP/f" &&
	ok "--filter on real addresses, --group-by on anonymised ones ($(($(wc -l <"$TMP/f") - 1)) groups)" ||
	{ bad "filter before anonymisation"; diff "$TMP/fw" "$TMP/f" | head -n 5; }

# Bad keys: exit 2, the file named, what a key is.
printf 'abc\n' >"$TMP/bad.key"
rc=0
"$FCREAD" --anonymize "$TMP/bad.key" "$TMP/plain" >/dev/null 2>"$TMP/e" || rc=$?
[ "$rc" -eq 2 ] && grep -q "bad.key: not a key: a key file holds 32 raw bytes or 64 hex digits" "$TMP/e" &&
	ok "flowcap-read --anonymize with a bad key: exit 2, what a key is" || { bad "bad key (read): $rc"; cat "$TMP/e"; }
rc=0
"$FLOWCAP" --anonymize "$TMP/none.key" --read "$FC_SHARED/pcaps/real/tcpreplay-test-mix.pcap" \
	--out "$TMP/other" >/dev/null 2>"$TMP/e" || rc=$?
[ "$rc" -ne 0 ] && grep -q "none.key: cannot read the key" "$TMP/e" &&
	ok "flowcap --anonymize with a missing key: refused before reading" || { bad "missing key (flowcap): $rc"; cat "$TMP/e"; }

finish
