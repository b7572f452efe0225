#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap's output files and directory: the options that shape a file
# (--zstd-level) take effect.
. "$(dirname "$0")/lib.sh"
T="$FC_SHARED/pcaps/real/tcpreplay-test-mix.pcap"

# --zstd-level reaches the writer: level 19 gives a smaller file than
# level 1, with the same records.
for l in 1 19; do
	mkdir -p "$TMP/z$l"
	"$FLOWCAP" --read "$T" --out "$TMP/z$l" --zstd-level "$l" \
		--interval 86400 >"$TMP/z$l.log" 2>&1 || true
done
s1=$(cat "$TMP"/z1/*.ft.zst | wc -c)
s19=$(cat "$TMP"/z19/*.ft.zst | wc -c)
rows "$TMP/z1" >"$TMP/z1.csv"
rows "$TMP/z19" >"$TMP/z19.csv"
if [ "$s19" -lt "$s1" ] && [ -s "$TMP/z1.csv" ] &&
	same_rows "$TMP/z1.csv" "$TMP/z19.csv"; then
	ok "--zstd-level 1: $s1 bytes, 19: $s19 bytes, same records"
else
	bad "--zstd-level: level 1 $s1 bytes, level 19 $s19 bytes"
fi

finish
